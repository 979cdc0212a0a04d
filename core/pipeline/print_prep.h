/* print_prep.h — print preparation of `synthbody export` (core/pipeline/print_prep.c; README
 * "Print preparation"). Private to the pipeline. */
#ifndef SB_PRINT_PREP_H
#define SB_PRINT_PREP_H

#include "sb_mesh.h"
#include "sb_pipeline.h"

/* Default of --min-wall-mm: two 0.4 mm nozzle widths, the thinnest wall an FDM printer lays
 * with two perimeters (PrusaSlicer's default nozzle; Shapeways and i.materialise ask 0.7-1 mm
 * for most plastics). */
#define SB_PRINT_DEFAULT_MIN_WALL_MM 0.8

/* One structure of the export. mesh is replaced in place (hollowed, scaled, budgeted). */
typedef struct print_mesh {
    int id;
    const char *name, *group;
    sb_trimesh *mesh;
    sb_mesh_report report; /* of the final mesh (filled by print_prepare when it ran) */
    int hollowed;
    size_t drains;
    double wall_min_mm, wall_mean_mm, wall_max_mm; /* measured wall, printed mm */
    double thinnest_mm;   /* thinnest wall at the printed scale; -1: not checked */
    double thin_area_mm2; /* surface area where the wall is thinner than --min-wall-mm */
} print_mesh;

typedef struct print_result {
    size_t n; /* structures (the stand not counted) */
    int fitted;
    double scale, t[3]; /* x_file = scale * x_world + t (1 and 0 when not fitted) */
    sb_trimesh *stand;  /* with --base: the stand (the caller owns it), else NULL */
    sb_mesh_report stand_report;
    double post_top_z; /* 0: no post */
    size_t hollowed;   /* structures made shells */
    size_t thin;       /* structures thinner than --min-wall-mm */
    size_t tris_before, tris_after;
    size_t largest_file_bytes; /* with --max-mb-file: the largest file measured last */
} print_result;

/* Writes the files the export would write from these meshes (and the stand) to a scratch place
 * and gives the size of the largest, in bytes. */
typedef sb_status (*print_measure_fn)(void *user, const print_mesh *pm, size_t n,
                                      const sb_trimesh *stand, size_t *largest_bytes,
                                      sb_error *err);

/* 1 if any print option is set (--fit-mm, --hollow-mm, --min-wall-mm, --base, budgets). */
int print_prep_requested(const sb_export_opts *o);

/* The steps of print_prep.c on n meshes of the label map `labels` (surf: the export's surface
 * options, for hollow shells; names/input: for --hollow lists and messages; measure may be NULL
 * when no --max-mb-file). Warnings and figures go to ctx's log. */
sb_status print_prepare(const sb_volume *labels, print_mesh *pm, size_t n, const sb_export_opts *o,
                        const sb_surface_opts *surf, const sb_label_table *names, const char *input,
                        print_measure_fn measure, void *user, const sb_ctx *ctx, print_result *res,
                        sb_error *err);

/* manifest.json: a structure's print fields ("thinnest_wall_mm", "hollow": wall and drains) and
 * the job's "print" object (scale, translation, build volume, stand, thin structures, budget). */
struct cJSON;
void print_manifest_structure(struct cJSON *entry, const print_mesh *pm);
void print_manifest(struct cJSON *root, const sb_export_opts *o, const print_result *pr,
                    const print_mesh *pm);

#endif
