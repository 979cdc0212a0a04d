/* lesion_job.h — private to the pipeline: the lesion outputs of `generate --lesions`
 * (README "Pathology"): the plan, the instance and class maps written slab by slab,
 * lesions.tsv, lesion_classes.tsv and the "lesions" block of subject.json. */
#ifndef SB_PIPELINE_LESION_JOB_H
#define SB_PIPELINE_LESION_JOB_H

#include "internal.h"
#include "sb_export.h"
#include "sb_volume.h"

struct cJSON;

typedef struct lesion_job {
    sb_lesion_catalog *cat;
    sb_lesions *les;
    const char *spec, *file;
    uint64_t seed;
    const char *p_inst, *p_cls, *p_tsv, *p_ctsv;
    sb_nifti_writer *w_inst, *w_cls;
    sb_volume *inst_whole;   /* with meshes: the whole instance map */
    const char **mesh_paths; /* with meshes: meshes/lesion_<id>.stl per lesion */
    const char *mesh_dir;
    /* diffuse resizes (hepatomegaly, splenomegaly): the structures' label ids and voxels */
    int nresize;
    char resize_name[SB_RESIZE_MAX][48];
    double resize_factor[SB_RESIZE_MAX];
    uint16_t resize_label[SB_RESIZE_MAX]; /* 0: no label of that name (a size group) */
    size_t resize_voxels[SB_RESIZE_MAX];
    double voxel_mm;
} lesion_job;

/* Loads the catalogue, checks the request, applies its diffuse changes to s (liver fat, organ
 * resizes: before the anatomy is made) and plans the output files (no lesion is drawn yet).
 * spec NULL: no lesions (every other call is then a no-op). */
sb_status lesion_job_begin(lesion_job *j, const char *spec, const char *file, uint64_t seed,
                           sb_subject *s, const char *out_dir, outputs *outs, sb_error *err);
/* Draws the subject's lesions (may change s: diffuse changes), opens the map writers on grid.
 * mesh_dir not NULL: also plans meshes/lesion_<id>.stl per lesion in outs (SB_ERR_EXISTS
 * unless force) and keeps the whole instance map for them. */
sb_status lesion_job_plan(lesion_job *j, const sb_anatomy *a, sb_subject *s, const sb_volume *grid,
                          const char *mesh_dir, outputs *outs, int force, const sb_ctx *ctx,
                          sb_error *err);
/* Paints one slab (planes k0..) and appends its instance and class planes; commits the files
 * with the grid's last plane. */
sb_status lesion_job_slab(lesion_job *j, sb_anatomy_maps *maps, size_t k0, size_t nz_total,
                          outputs *outs, sb_error *err);
/* lesions.tsv, lesion_classes.tsv, the lesion meshes, and the "lesions" object added to
 * subject (may be NULL). */
sb_status lesion_job_finish(lesion_job *j, struct cJSON *subject, int force, outputs *outs,
                            const sb_ctx *ctx, sb_error *err);
void lesion_job_free(lesion_job *j);

#endif
