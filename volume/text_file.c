/* text_file.c — see text_file.h (the tissue table and the lesion catalogue read their files
 * through it). */
#include "text_file.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *sb_read_text_file(const char *path, unsigned max_mib, sb_status *st, sb_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        *st = sb_error_set(err, SB_ERR_INPUT, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - 1 - n, f);
        if (n < cap - 1) break;
        if (cap > ((size_t)max_mib << 20)) {
            free(buf);
            fclose(f);
            *st = sb_error_set(err, SB_ERR_INPUT, "%s: larger than %u MiB", path, max_mib);
            return NULL;
        }
        char *nb = realloc(buf, cap *= 2);
        if (!nb) free(buf);
        buf = nb;
    }
    int bad_read = ferror(f);
    fclose(f);
    if (!buf) {
        *st = sb_error_set(err, SB_ERR_MEMORY, "out of memory reading %s", path);
        return NULL;
    }
    if (bad_read) {
        free(buf);
        *st = sb_error_set(err, SB_ERR_INPUT, "%s: read error", path);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}
