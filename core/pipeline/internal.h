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

/* Writes root as indented JSON and a newline to path, through a temporary file renamed on
 * success (SB_ERR_EXISTS if path exists, unless force). */
struct cJSON;
sb_status outputs_write_json(const struct cJSON *root, const char *path, int force, sb_error *err);

/* Reads a BIDS dseg TSV (index, name[, abbreviation[, color #rrggbb]]) such as our
 * labels.tsv; rows with invalid or duplicate ids/names are skipped. NULL if unreadable. */
sb_label_table *read_dseg_tsv(const char *path);
/* The labels.tsv in the directory of `file`, or NULL. */
sb_label_table *sibling_dseg_tsv(const char *file);

/* Voxel count of every label id 0..65535 (counts: 65536 entries, zeroed by the caller);
 * SB_ERR_INPUT naming path and the voxel if a value is not an integer id. */
sb_status label_counts(const sb_volume *v, const char *path, size_t *counts, sb_error *err);
/* sel[id] (65536 entries, zeroed) = 1 for every label chosen by `select` (NULL or "all": every
 * label present; else a comma list of ids, names, groups and aliases, README "Export") minus
 * those of `exclude` (may be NULL). opt_select names the option in messages ("--labels",
 * "--select"). SB_ERR_LABEL for an absent label or a group/alias matching nothing present. */
sb_status select_labels(const char *select, const char *exclude, const char *opt_select,
                        const size_t *counts, const sb_label_table *names, const char *path,
                        unsigned char *sel, sb_error *err);
/* "organs, vessels, ..." for messages. */
const char *select_alias_names(void);

/* The export job on a label map already in memory (`export`, `generate --mesh --formats`):
 * meshes the labels marked in sel (65536 entries), plans every file under opts->out_dir
 * (SB_ERR_EXISTS unless opts->force), writes them and manifest.json. names may be NULL
 * (label_<id>, grey); input names the source in messages; base names the combined files.
 * outs NULL: on failure it removes what it wrote; else the files are planned and marked in
 * the caller's outs and the caller rolls back. */
typedef struct sb_export_opts sb_export_opts;
sb_status export_meshes(const sb_volume *v, const sb_label_table *names, const unsigned char *sel,
                        const sb_export_opts *opts, const char *input, const char *base,
                        outputs *outs, const sb_ctx *ctx, sb_error *err);
/* Plans into outs the files export_meshes would write for every label of names (the check
 * before a long job). */
sb_status export_plan_table(const sb_label_table *names, const sb_export_opts *opts,
                            const char *base, outputs *outs, sb_error *err);
/* The base name export uses for input: a folder's name, or a file's name without
 * .nii/.nii.gz ("body" if neither gives one). */
void export_default_base(const char *input, int is_dir, char *out, size_t n);

/* Nearest-neighbour sampling of a volume at world points (core/pipeline/preview.c; also the
 * slice images of `sculpt`). */
typedef struct vol_sampler {
    const sb_volume *v;
    double inv[3][4]; /* world -> voxel */
} vol_sampler;
/* 0 if the affine is singular. */
int vol_sampler_init(vol_sampler *s, const sb_volume *v);
/* Voxel index at world point p, or SIZE_MAX outside. */
size_t vol_sample(const vol_sampler *s, const double p[3]);
/* The 99.5th percentile of the volume's values (200000 samples), or 1 if not positive: the
 * white level of a picture. */
double vol_percentile995(const sb_volume *v);

#endif
