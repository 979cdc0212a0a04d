/* outputs.c — planned outputs of a job: existence check before work, rollback on failure;
 * JSON files written whole or not at all. */
#include "internal.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

sb_status outputs_plan(outputs *o, const char *dir, const char *name, const char **path_out,
                       sb_error *err) {
    if (o->count == o->capacity) {
        size_t cap = o->capacity ? 2 * o->capacity : 16;
        char **p = realloc(o->paths, cap * sizeof *p);
        if (!p) return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
        o->paths = p;
        int *d = realloc(o->done, cap * sizeof *d);
        if (!d) return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
        o->done = d;
        o->capacity = cap;
    }
    if (!sb_file_name_safe(name)) /* confined to dir: no "/", "..", control characters */
        return sb_error_set(err, SB_ERR_OUTPUT,
                            "refusing to write \"%s\" in %s: not a plain file name", name, dir);
    char buf[4096];
    sb_status s = sb_path_join(buf, sizeof buf, dir, name, err);
    if (s) return s;
    char *copy = malloc(strlen(buf) + 1);
    if (!copy) return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    strcpy(copy, buf);
    o->paths[o->count] = copy;
    o->done[o->count] = 0;
    o->count++;
    if (path_out) *path_out = copy;
    return SB_OK;
}

sb_status outputs_check(const outputs *o, int force, sb_error *err) {
    if (force) return SB_OK;
    for (size_t i = 0; i < o->count; i++)
        if (sb_path_exists(o->paths[i]))
            return sb_error_set(err, SB_ERR_EXISTS, "%s exists (use --force to overwrite)",
                                o->paths[i]);
    return SB_OK;
}

void outputs_mark_done(outputs *o, const char *path) {
    for (size_t i = 0; i < o->count; i++)
        if (o->paths[i] == path || strcmp(o->paths[i], path) == 0) o->done[i] = 1;
}

void outputs_rollback(outputs *o) {
    for (size_t i = 0; i < o->count; i++)
        if (o->done[i]) {
            unlink(o->paths[i]);
            o->done[i] = 0;
        }
}

void outputs_free(outputs *o) {
    for (size_t i = 0; i < o->count; i++) free(o->paths[i]);
    free(o->paths);
    free(o->done);
    memset(o, 0, sizeof *o);
}

sb_status outputs_write_json(const cJSON *root, const char *path, int force, sb_error *err) {
    char *text = cJSON_Print(root);
    if (!text) return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    sb_outfile o;
    sb_status s = sb_outfile_open(&o, path, force, err);
    if (!s) s = sb_outfile_write(&o, text, strlen(text), err);
    if (!s) s = sb_outfile_write(&o, "\n", 1, err);
    if (!s) s = sb_outfile_commit(&o, err);
    sb_outfile_abort(&o);
    free(text);
    return s;
}
