/* sb_pipeline.h — the jobs of the `synthbody` command, composed from the modules' public
 * headers: generate a subject, mesh a label map, describe a file, draw a preview.
 *
 * Depends on: sb_core.h, sb_volume.h, sb_mesh.h, sb_export.h.
 * Every job checks its outputs first (SB_ERR_EXISTS unless force), writes each file under a
 * temporary name and renames it on success, and on failure removes the files it already
 * finished, so a failed job leaves no partial output.
 */
#ifndef SB_PIPELINE_H
#define SB_PIPELINE_H

#include "sb_core.h"
#include "sb_volume.h"

#include <signal.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Defaults of `synthbody generate` (README "Commands"). */
#define SB_DEFAULT_VOXEL_MM 2.0

typedef struct sb_generate_opts {
    sb_subject_request subject; /* seed, sex, age, height, BMI (<= 0: sampled) */
    double voxel_mm;
    const char *out_dir;
    int force;
    int mesh; /* also write meshes/<structure>.stl */
    /* with mesh: the SB_EXPORT_* formats the export path writes into meshes/ (with
     * manifest.json); 0: meshes/<structure>.stl only */
    unsigned mesh_formats;
    const char *anatomy; /* NULL: the embedded default; else a JSON file or a folder of them */
    /* MR images (README "MRI physics") */
    const char *protocol;  /* NULL: "default" (T1w, T2w) */
    const char *contrasts; /* NULL: the protocol's; else a comma list of contrast names */
    const char *tissues;   /* NULL: the embedded tissue table; else a JSON file overriding it */
    double field_t;        /* > 0: field strength override (1.5 or 3) */
    int has_snr, has_bias; /* override the protocol's SNR / bias amplitude */
    double snr, bias;
    int float_out;       /* float32 images instead of int16 with scl_slope */
    double texture;      /* tissue texture SD, 0..0.3 (0: none) */
    double acq_voxel_mm; /* acquired in-plane resolution, >= voxel_mm (0: the voxel size) */
    double slice_mm;     /* slice thickness, >= voxel_mm (0: the voxel size) */
    /* acquisition (README "MRI physics"): stations along z (0: the protocol's) and their
     * overlap (has_overlap 0: the protocol's, else 30 mm); motion ghosting amplitude and period
     * in k-space lines (0: 4); probability of a Dixon fat-water swap; images written as .nii
     * (uncompress 1) instead of .nii.gz */
    int stations, has_overlap;
    double overlap_mm;
    double ghosting;
    int ghost_period;
    double fat_water_swap;
    int uncompressed;
    double flow_cm_s; /* blood velocity for flow voids in spin-echo images (0: none) */
    /* memory budget in GiB (0: the memory available); grids larger than it are made and
     * written slab by slab (same bytes), README "Huge volumes" */
    double max_memory_gb;
    /* lesions (README "Pathology"): "type[:N|:A-B],..." (NULL: none), the lesion types file
     * (NULL: built in) and the lesion seed (default: the subject's seed) */
    const char *lesions, *lesion_file;
    int has_lesion_seed;
    uint64_t lesion_seed;
} sb_generate_opts;

/* Writes labels.nii.gz, one <contrast>.nii.gz + <contrast>.json (BIDS sidecar) per contrast of
 * the protocol (default T1w, T2w), labels.tsv, labels.itksnap.txt, labels.ctbl, subject.json
 * (and meshes/ with opts->mesh) into out_dir, creating it if needed. */
sb_status sb_pipeline_generate(const sb_generate_opts *opts, const sb_ctx *ctx, sb_error *err);

/* ---- batches: a BIDS dataset of many subjects (README "Datasets (batch)") ---------------- */
typedef struct sb_batch_opts {
    /* per-subject options; gen.out_dir: the dataset root; gen.subject.seed: the master seed;
     * gen.force: remake finished subjects and replace dataset files made with other settings */
    sb_generate_opts gen;
    uint32_t count;                    /* subjects 1..count */
    uint32_t shard_index, shard_count; /* this call makes subjects k, (k-1) % count == index */
    /* with gen.lesions: the fraction of subjects given lesions (sb_batch_subject_abnormal) */
    double lesion_rate;
    /* with gen.lesions: each abnormal subject k also gets its normal twin, participant
     * sub-<k>normal: the same subject (seed S_k) without lesions */
    int normal_twins;
    /* NULL, or a flag the caller's signal handler sets to the signal number: the batch then
     * kills the subject being made, removes its staging files and returns (checked 5 times a
     * second) */
    volatile sig_atomic_t *stop;
} sb_batch_opts;

typedef struct sb_batch_result {
    uint32_t owned, made, skipped; /* subjects of this shard; made now; finished before */
    int merged;                    /* participants.tsv written (every subject finished) */
    int signal;                    /* the signal that interrupted the batch, else 0 */
} sb_batch_result;

/* The seed of subject k (1..count): output k of SplitMix64 seeded with master_seed. */
uint64_t sb_batch_subject_seed(uint64_t master_seed, uint32_t k);
/* 1 if subject k of a batch with lesions at `rate` (0..1) has them: u_k < rate, u_k the top 53
 * bits of SplitMix64's output for (subject seed XOR "LESION") over 2^53. */
int sb_batch_subject_abnormal(uint64_t master_seed, uint32_t k, double rate);

/* Makes this shard's unfinished subjects of the dataset in b->gen.out_dir, each in a child
 * process (fork; the child takes the default action of SIGINT, SIGTERM, SIGHUP, SIGQUIT and
 * dies with its parent) through a staging directory, and the dataset-level files. When *b->stop
 * is set, the running subject is abandoned and its staging files removed, and SB_ERR_INTERNAL
 * returns with res->signal = *b->stop, for the caller to re-raise. Writes participants.tsv when
 * every subject of the dataset is finished. */
sb_status sb_pipeline_batch(const sb_batch_opts *b, const sb_ctx *ctx, sb_batch_result *res,
                            sb_error *err);
/* Writes dir/participants.tsv from the subjects' records; SB_ERR_INPUT if one is unfinished. */
sb_status sb_pipeline_batch_merge(const char *dir, sb_error *err);

/* Prints the label table of an anatomy (NULL: the default) as TSV on `out`: id, name,
 * abbreviation, group, tissue, color, sex. */
sb_status sb_pipeline_labels(const char *anatomy, FILE *out, sb_error *err);

typedef struct sb_mesh_opts {
    const char *input; /* NIfTI label map or intensity volume */
    const char *out_dir;
    const char *labels; /* NULL or "all", or a comma list of ids and names */
    int use_iso;        /* iso-surface of an intensity volume at `iso` */
    double iso;
    int force;
    int iso_auto;        /* iso from Otsu's method (use_iso must be set) */
    int smooth_iters;    /* Taubin iterations; < 0: default */
    size_t target_tris;  /* per-mesh triangle budget; 0: none */
    double max_error_mm; /* simplification error bound; < 0: default, 0: unbounded */
    int backend_vtk;     /* VTK DFE + windowed sinc + DecimatePro instead of the native code */
} sb_mesh_opts;

/* One binary STL per selected label (named after the label if a labels.tsv lies beside the
 * input, else label_<id>.stl), or isosurface.stl; vertices in world mm from the affine. */
sb_status sb_pipeline_mesh(const sb_mesh_opts *opts, const sb_ctx *ctx, sb_error *err);

/* Mesh formats of `synthbody export` (bit mask; the values are sb_scene_format's). */
enum {
    SB_EXPORT_STL = 1, /* one binary STL per structure (stl/<name>.stl) and <name>.stl merged */
    SB_EXPORT_OBJ = 2, /* <name>.obj + <name>.mtl */
    SB_EXPORT_PLY = 4, /* <name>.ply, vertex colours */
    SB_EXPORT_GLB = 8, /* <name>.glb */
    SB_EXPORT_3MF = 16,
    SB_EXPORT_VTP = 32
};
/* Units and up axis: 0 = the format's default (README "Export": glTF metres and Y up, every
 * other format millimetres and Z up). */
enum { SB_UNITS_DEFAULT = 0, SB_UNITS_MM = 1, SB_UNITS_M = 2 };
enum { SB_UP_DEFAULT = 0, SB_UP_Z = 1, SB_UP_Y = 2 };

typedef struct sb_export_opts {
    const char *input;   /* label NIfTI (labels.tsv beside it names and colours the ids) or a
                            `generate` output folder (its labels.nii.gz and labels.tsv) */
    const char *out_dir; /* created if missing */
    const char *name;    /* base name of combined files; NULL: the input's (folder name, or the
                            file name without .nii/.nii.gz) */
    unsigned formats;    /* SB_EXPORT_* mask; 0: STL */
    const char *select;  /* NULL: every label present; else comma list of ids, names, groups and
                            aliases (README "Export": organs, vessels, brain, muscles, ...) */
    const char *exclude; /* NULL or the same kind of list, removed from the selection */
    int units, up;       /* SB_UNITS_*, SB_UP_* */
    int force;
    /* surfaces, as `synthbody mesh` */
    int smooth_iters;    /* Taubin iterations; < 0: SB_SURFACE_DEFAULT_SMOOTH */
    size_t target_tris;  /* per-structure triangle budget; 0: none */
    double max_error_mm; /* simplification error bound; < 0: default, 0: budget only */
    /* print preparation (core/pipeline/print_prep.c, README "Print preparation"); zero: off;
     * hollow_mm and drain_mm are printed millimetres (after fit_mm's scale) */
    double fit_mm[3];          /* scale uniformly so the whole selection fits X x Y x Z mm */
    double hollow_mm;          /* wall thickness of hollowed large structures */
    const char *hollow_select; /* structures to hollow (as select); NULL: skin, else all */
    double drain_mm;           /* drain hole diameter in hollowed structures */
    double min_wall_mm;        /* warn about structures thinner than this */
    int base;                  /* --stand: a plate and a post under the model */
    size_t max_tris_per_file;  /* triangle budget per written file */
    double max_mb_per_file;    /* size budget per written file, MB */
} sb_export_opts;

/* Meshes the selected labels (the surface pipeline of `synthbody mesh`, smoothing on by
 * default) and writes them in every requested format into out_dir, in one frame for all
 * structures (world RAS+ from the NIfTI affine, scaled and rotated per format), plus
 * manifest.json listing every file with its structures, triangles, volumes (ml) and bounding
 * boxes. SB_ERR_LABEL if the selection is empty or names an absent label. */
sb_status sb_pipeline_export(const sb_export_opts *opts, const sb_ctx *ctx, sb_error *err);

/* ---- layered sculptures (README "Sculptures") --------------------------------------------- */
typedef struct sb_sculpt_opts {
    const char *input;   /* label NIfTI (labels.tsv beside it) or a `generate` output folder */
    const char *out_dir; /* created if missing */
    int axis;            /* world axis of the cuts: 0 x (sagittal), 1 y (coronal), 2 z (axial) */
    double layer_mm;     /* layer thickness in model mm (> 0) */
    double scale;        /* model mm per world mm; 0: from height_mm, else 1 */
    double height_mm;    /* > 0 (scale 0): the model's height (the body's z extent in range) */
    int has_from, has_to;
    double from_mm, to_mm; /* range along the axis, world mm (default: the body's extent) */
    const char *select;    /* organ parts: ids, names, groups, aliases as export --select;
                              NULL: "organs" if any is present; "none": the body only */
    int smooth_iters;      /* Taubin iterations with the cut faces held (0: raw surfaces) */
    int subdiv;            /* sub-layers per voxel along the axis (0: SB_LAYER_DEFAULT_SUBDIV) */
    double kerf_mm;        /* laser kerf: the sheets' cut lines move out by half of it */
    const char *contrast;  /* slice images: <contrast>.nii.gz of a folder INPUT (NULL: T1w if
                              present; "none": no images) */
    double dpi;            /* slice images' pixels per inch of the model (0: 150) */
    int overlay;           /* slice images: organ colours blended */
    int force;
    const char *from_label, *to_label; /* range by label (ids, names, groups, aliases as
                                          select): from its lowest / to its highest extent */
    double plate_mm[2]; /* build plates X, Y in mm: plate_k.3mf with the parts packed (0: none) */
    double peg_mm[2];   /* alignment holes: diameter, depth in model mm (0: none) */
    int glb;            /* write sculpture.glb: every layer a named node */
    double gap_mm;      /* sculpture.glb: model mm between the layers (0: stacked) */
    double sheet_mm[2]; /* laser sheets X, Y in mm: sheet_k.svg with the layers nested (0: none) */
} sb_sculpt_opts;

/* Cuts the label map into layers along the axis and writes, per layer k, layer_k/<part>.stl
 * (the body with the selected organs cut out, and each organ present), layer_k.3mf (the same
 * parts, named and coloured), layer_k.svg (the laser-cut sheet), layer_k.png (the contrast at
 * the mid-plane, when the input folder has it), then manifest.json and
 * assembly.md. Every part closed and
 * 2-manifold with its cut faces on the layer's planes (sb_mesh_layer_parts). Planned outputs
 * are checked first (SB_ERR_EXISTS unless force); on failure the written files are removed. */
sb_status sb_pipeline_sculpt(const sb_sculpt_opts *opts, const sb_ctx *ctx, sb_error *err);

/* Describes a NIfTI file (header, orientation, spacing, labels and their volumes in ml) or a
 * mesh file (triangles, bounding box, closedness, volume) on `out`. */
sb_status sb_pipeline_info(const char *path, FILE *out, const sb_ctx *ctx, sb_error *err);

#define SB_PREVIEW_MAX_AXIAL 8

typedef struct sb_preview_opts {
    const char *input; /* a generate output directory or a NIfTI file */
    const char *out_png;
    const char *contrast; /* in a directory: <contrast>.nii.gz; default "T1w" */
    int overlay;          /* blend label colours (directory: labels.nii.gz) */
    int force;
    int naxial;                         /* 0: one axial slice through the centre */
    double axial[SB_PREVIEW_MAX_AXIAL]; /* else: axial slices at these fractions of the height */
    /* with overlay: the label map of the directory to blend, "<name>.nii.gz" with colours from
     * "<name>.tsv" (NULL: "labels"; e.g. "lesion_classes") */
    const char *overlay_map;
    int has_at;   /* the sagittal and coronal slices at x = at[0], y = at[1] (world mm) */
    double at[2]; /* instead of the centre */
} sb_preview_opts;

/* Sagittal, coronal and axial mid-slices side by side (radiological convention: the subject's
 * right on the picture's left), 1 pixel per mm or finer. */
sb_status sb_pipeline_preview(const sb_preview_opts *opts, const sb_ctx *ctx, sb_error *err);

#ifdef __cplusplus
}
#endif
#endif
