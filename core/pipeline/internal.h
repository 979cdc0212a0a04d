/* internal.h — private to the pipeline. The set of files a job writes, checked up front and
 * removed again if the job fails. */
#ifndef SB_PIPELINE_INTERNAL_H
#define SB_PIPELINE_INTERNAL_H

#include "sb_core.h"

typedef struct outputs {
    size_t count, capacity;
    char **paths; /* every planned path */
    int *done;    /* 1 once written by this job */
} outputs;

/* Adds dir/name to the plan; *path_out points at the stored path (valid until outputs_free). */
sb_status outputs_plan(outputs *o, const char *dir, const char *name, const char **path_out,
                       sb_error *err);
/* SB_ERR_EXISTS naming the first planned path that exists, unless force. */
sb_status outputs_check(const outputs *o, int force, sb_error *err);
void outputs_mark_done(outputs *o, const char *path);
/* Removes every file this job finished (call on failure). */
void outputs_rollback(outputs *o);
void outputs_free(outputs *o);

/* Reads a BIDS dseg TSV (index, name[, abbreviation[, color #rrggbb]]) such as our
 * labels.tsv; rows with invalid or duplicate ids/names are skipped. NULL if unreadable. */
sb_label_table *read_dseg_tsv(const char *path);
/* The labels.tsv in the directory of `file`, or NULL. */
sb_label_table *sibling_dseg_tsv(const char *file);

#endif
