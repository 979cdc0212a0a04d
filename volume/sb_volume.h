/* sb_volume.h — the subject: population sample, anatomy, label map, MR images.
 *
 * Depends on: the foundation (sb_core.h) only; OpenBLAS/LAPACKE inside.
 *
 * Data flow: sb_subject_sample (seed -> sex, age, height, BMI, organ scales, offsets)
 *         -> sb_anatomy_voxelize (signed-distance structures -> label map, RAS+ affine)
 *         -> sb_mri_spin_echo (tissue PD/T1/T2 x spin-echo equation + Rician noise).
 * Everything is a pure function of (seed, subject index, parameters): no dependence on the
 * thread count.
 */
#ifndef SB_VOLUME_H
#define SB_VOLUME_H

#include "sb_core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- population -------------------------------------------------------------------------- */
typedef enum sb_sex { SB_SEX_RANDOM = -1, SB_SEX_FEMALE = 0, SB_SEX_MALE = 1 } sb_sex;

/* What the user asks for; a value <= 0 (or SB_SEX_RANDOM) means "sample it". */
typedef struct sb_subject_request {
    uint64_t seed;
    uint32_t subject; /* index within a batch; 0 for a single subject */
    sb_sex sex;
    double age_y, height_cm, bmi;
} sb_subject_request;

#define SB_MAX_STRUCTURES 64

/* A sampled subject: every number the anatomy uses. */
typedef struct sb_subject {
    uint64_t seed;
    uint32_t subject;
    sb_sex sex;
    double age_y, height_cm, bmi, weight_kg;
    double fat_mm;                       /* subcutaneous fat thickness at the abdomen */
    double scale[SB_MAX_STRUCTURES];     /* per-structure size factor (1 = reference) */
    double offset[SB_MAX_STRUCTURES][3]; /* per-structure position jitter, mm */
} sb_subject;

/* Fills s from the request: sex 50/50; age uniform 18–90; height and ln(BMI) from sex-specific
 * normals (NHANES 2017–2020, correlation through a Cholesky factor from LAPACK); organ scales
 * and offsets from the anatomy stream. SB_ERR_USAGE for out-of-range requests (age outside
 * 18–90, height outside 120–230 cm, BMI outside 12–70), naming the field and value. */
sb_status sb_subject_sample(const sb_subject_request *req, sb_subject *s, sb_error *err);

/* ---- anatomy ----------------------------------------------------------------------------- */

/* The label table of the built-in anatomy (caller frees with sb_labels_free). */
sb_status sb_anatomy_labels(sb_label_table **out, sb_error *err);

/* Grid of the label map for a subject at an isotropic voxel size: the body's bounding box plus
 * a margin. Fails with SB_ERR_USAGE if voxel_mm is not in [0.1, 50], SB_ERR_MEMORY if the
 * volume (plus the MR images built from it) cannot fit in memory — before allocating. */
sb_status sb_anatomy_grid(const sb_subject *s, double voxel_mm, size_t dim[3], double origin[3],
                          sb_error *err);

/* The label map (uint16, RAS+ axis-aligned affine, ids from sb_anatomy_labels). */
sb_status sb_anatomy_voxelize(const sb_subject *s, double voxel_mm, const sb_ctx *ctx,
                              sb_volume **out, sb_error *err);

/* ---- MRI --------------------------------------------------------------------------------- */
typedef struct sb_tissue_props {
    const char *name;
    double pd;           /* proton density, relative to water */
    double t1_ms, t2_ms; /* at 1.5 T */
} sb_tissue_props;

/* The tissue properties the MRI model uses for `tissue` (a label's tissue name); NULL if the
 * name is unknown. */
const sb_tissue_props *sb_tissue_find(const char *tissue);

typedef struct sb_spin_echo {
    const char *name;    /* "T1w", "T2w" */
    uint32_t id;         /* selects the noise stream: distinct per contrast of a subject */
    double tr_ms, te_ms; /* repetition and echo time */
    double noise;        /* Rician noise sigma as a fraction of the brightest tissue signal */
} sb_spin_echo;

/* Spin-echo magnitude S = PD (1 - exp(-TR/T1)) exp(-TE/T2) per voxel from the label map and
 * the labels' tissues, scaled so the brightest tissue is 1000, then Rician noise:
 * |S + n1 + i n2| with n1, n2 ~ N(0, sigma) drawn from the (seed, subject, NOISE) stream at the
 * voxel's index (so any thread count gives the same bytes). Output int16, same grid. */
sb_status sb_mri_spin_echo(const sb_volume *labels, const sb_label_table *table,
                           const sb_spin_echo *seq, const sb_subject *s, const sb_ctx *ctx,
                           sb_volume **out, sb_error *err);

/* The default sequences: T1w (TR 500, TE 15 ms) and T2w (TR 4000, TE 100 ms), noise 2 %. */
extern const sb_spin_echo sb_sequence_t1w;
extern const sb_spin_echo sb_sequence_t2w;

#ifdef __cplusplus
}
#endif
#endif
