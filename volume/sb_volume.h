/* sb_volume.h — the subject: population sample, anatomy, label map, MR images.
 *
 * Depends on: the foundation (sb_core.h) only; OpenBLAS/LAPACKE inside.
 *
 * Data flow: sb_subject_sample (seed -> sex, age, height, BMI, fat)
 *         -> sb_anatomy_voxelize (anatomy description -> label and tissue maps, RAS+ affine)
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

/* A sampled subject: every number the anatomy uses. */
typedef struct sb_subject {
    uint64_t seed;
    uint32_t subject;
    sb_sex sex;
    double age_y, height_cm, bmi, weight_kg;
    double fat_mm; /* subcutaneous fat thickness at the abdomen */
} sb_subject;

/* Fills s from the request: sex 50/50; age uniform 18–90; height and ln(BMI) from sex-specific
 * normals (NHANES 2017–2020, correlation through a Cholesky factor from LAPACK); organ scales
 * and offsets from the anatomy stream. SB_ERR_USAGE for out-of-range requests (age outside
 * 18–90, height outside 120–230 cm, BMI outside 12–70), naming the field and value. */
sb_status sb_subject_sample(const sb_subject_request *req, sb_subject *s, sb_error *err);

/* ---- anatomy ----------------------------------------------------------------------------
 * An anatomy is data: JSON documents (README "Anatomy description format") of landmarks, named
 * shapes and labelled structures, read by a generic signed-distance engine. The default anatomy
 * (every .json file of volume/anatomy/) is embedded in the library. */
typedef struct sb_anatomy sb_anatomy;

/* The embedded default anatomy. */
sb_status sb_anatomy_load_default(sb_anatomy **out, sb_error *err);
/* One JSON document, or a folder whose *.json documents are merged in name order. Errors
 * (SB_ERR_INPUT) name the file and the JSON path of the field at fault. */
sb_status sb_anatomy_load(const char *path, sb_anatomy **out, sb_error *err);
void sb_anatomy_free(sb_anatomy *a); /* NULL is a no-op */

/* The label table (id order) of the structures present in `sex` (SB_SEX_RANDOM: all). */
sb_status sb_anatomy_label_table(const sb_anatomy *a, sb_sex sex, sb_label_table **out,
                                 sb_error *err);

/* 0 if the structure with this label id is described as several pieces ("connected": false),
 * 1 otherwise (it should be one 26-connected component). */
int sb_anatomy_is_connected(const sb_anatomy *a, int label_id);

/* Grid of the label map for a subject at an isotropic voxel size: the body's bounding box plus
 * a margin of 5 mm + 2 voxels + 4 SD of the random deformation (16 mm). SB_ERR_USAGE if voxel_mm is
 * not in [0.1, 50], SB_ERR_MEMORY if the maps and images built on it cannot fit in memory —
 * computed, nothing allocated. */
sb_status sb_anatomy_grid(const sb_anatomy *a, const sb_subject *s, double voxel_mm, size_t dim[3],
                          double origin[3], sb_error *err);

/* The label map (uint16, RAS+ axis-aligned affine) and, if tissues_out is not NULL, the tissue
 * map (uint8 index into sb_tissue_table; 0 outside the body). Identical at any thread count. */
sb_status sb_anatomy_voxelize(const sb_anatomy *a, const sb_subject *s, double voxel_mm,
                              const sb_ctx *ctx, sb_volume **labels_out, sb_volume **tissues_out,
                              sb_error *err);

/* ---- MRI --------------------------------------------------------------------------------- */
typedef struct sb_tissue_props {
    const char *name;
    double pd;           /* proton density, relative to water */
    double t1_ms, t2_ms; /* at 1.5 T */
} sb_tissue_props;

/* Every tissue class, index = value in tissue maps; entry 0 is "background" (no signal); the
 * list ends with a NULL name. */
extern const sb_tissue_props sb_tissue_table[];

/* The tissue called `tissue`; NULL if unknown. */
const sb_tissue_props *sb_tissue_find(const char *tissue);

typedef struct sb_spin_echo {
    const char *name;    /* "T1w", "T2w" */
    uint32_t id;         /* selects the noise stream: distinct per contrast of a subject */
    double tr_ms, te_ms; /* repetition and echo time */
    double noise;        /* Rician noise sigma as a fraction of the brightest tissue signal */
} sb_spin_echo;

/* Spin-echo magnitude S = PD (1 - exp(-TR/T1)) exp(-TE/T2) per voxel of a tissue map, scaled
 * so the brightest tissue is 1000, then Rician noise: |S + n1 + i n2| with n1, n2 ~ N(0, sigma)
 * drawn from the (seed, subject, NOISE) stream at the voxel's index (so any thread count gives
 * the same bytes). Output int16, same grid. */
sb_status sb_mri_spin_echo(const sb_volume *tissues, const sb_spin_echo *seq, const sb_subject *s,
                           const sb_ctx *ctx, sb_volume **out, sb_error *err);

/* The default sequences: T1w (TR 500, TE 15 ms) and T2w (TR 4000, TE 100 ms), noise 2 %. */
extern const sb_spin_echo sb_sequence_t1w;
extern const sb_spin_echo sb_sequence_t2w;

#ifdef __cplusplus
}
#endif
#endif
