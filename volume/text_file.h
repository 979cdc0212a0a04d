/* text_file.h — whole small text files (JSON descriptions) read into memory. */
#ifndef SB_TEXT_FILE_H
#define SB_TEXT_FILE_H

#include "sb_core.h"

/* The file's bytes, NUL-terminated (free() it), or NULL with *st and err set: cannot open
 * (SB_ERR_INPUT), larger than max_mib MiB (SB_ERR_INPUT), read error (SB_ERR_INPUT), out of
 * memory (SB_ERR_MEMORY). Every message names the file. */
char *sb_read_text_file(const char *path, unsigned max_mib, sb_status *st, sb_error *err);

#endif
