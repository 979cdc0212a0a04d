/* export_cli.h — `synthbody export` (core/pipeline/export_cli.c), called by the command's main. */
#ifndef SB_EXPORT_CLI_H
#define SB_EXPORT_CLI_H

#include <stddef.h>

/* argv[1] is "export"; returns the exit code (README "Exit codes"). */
int sb_cli_export(int argc, char **argv);

/* "stl,glb,..." or "all" -> SB_EXPORT_* mask (sb_pipeline.h); 0 with `why` (size n) naming
 * the unknown entry. Also `generate --formats`. */
unsigned sb_cli_export_formats(const char *val, char *why, size_t n);

#endif
