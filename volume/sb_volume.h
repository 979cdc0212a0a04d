/* sb_volume.h — the subject: population sample, anatomy, label map, MR images.
 *
 * Depends on: the foundation (sb_core.h) only; OpenBLAS/LAPACKE inside.
 *
 * Data flow: sb_subject_sample (seed -> sex, age, height, BMI, fat)
 *         -> sb_anatomy_voxelize (anatomy description -> label and tissue maps, RAS+ affine)
 *         -> sb_mri_acquire (tissue table x sequence equations, partial volume, bias, noise).
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

#define SB_RESIZE_MAX 4

/* A sampled subject: every number the anatomy uses. */
typedef struct sb_subject {
    uint64_t seed;
    uint32_t subject;
    sb_sex sex;
    double age_y, height_cm, bmi, weight_kg;
    double fat_mm;    /* subcutaneous fat thickness at the abdomen */
    double liver_fat; /* liver proton-density fat fraction, 0..1 (own stream: LIVER_FAT) */
    /* Diffuse enlargement or shrinkage (hepatomegaly, splenomegaly): the volume drawn for every
     * structure whose name or size group is `name` is multiplied by `factor` (0.1..10; checked
     * by the voxelizer, SB_ERR_USAGE). Empty (nresize 0) after sb_subject_sample. */
    struct {
        char name[48];
        double factor;
    } resize[SB_RESIZE_MAX];
    int nresize;
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

/* The maps of one subject (sb_anatomy_voxelize_maps); the ones not asked for are NULL.
 * Partial volume is described per voxel by two tissues: `tissues` (the tissue at the voxel
 * centre, as in the label map) and `pv_tissue` (the tissue that shares the voxel with it), with
 * `pv_frac` the fraction of the voxel in `tissues`, in 1/255 (255: the voxel is one tissue, and
 * then pv_tissue == tissues). A signal is mixed as
 *   S = f S(tissues) + (1 - f) S(pv_tissue),   f = pv_frac / 255. */
typedef struct sb_anatomy_maps {
    sb_volume *labels;    /* uint16 label ids, RAS+ axis-aligned affine */
    sb_volume *tissues;   /* uint8 index into sb_tissue_table; 0 outside the body */
    sb_volume *pv_tissue; /* uint8 index into sb_tissue_table */
    sb_volume *pv_frac;   /* uint8 */
} sb_anatomy_maps;

/* SB_MAP_RAW: the maps as sampled, without the clean-up of specks (README "Anatomy"); faster
 * for thin slabs, and the body's outline (tissue != 0) is the same. */
enum { SB_MAP_LABELS = 1, SB_MAP_TISSUES = 2, SB_MAP_PV = 4, SB_MAP_RAW = 8 };

/* The maps named by `want` (SB_MAP_* bits; SB_MAP_PV makes pv_tissue and pv_frac), identical at
 * any thread count. On error nothing is left allocated in *out. */
sb_status sb_anatomy_voxelize_maps(const sb_anatomy *a, const sb_subject *s, double voxel_mm,
                                   unsigned want, const sb_ctx *ctx, sb_anatomy_maps *out,
                                   sb_error *err);
void sb_anatomy_maps_free(sb_anatomy_maps *m); /* frees every map; leaves *m zeroed */

/* Slab by slab, for grids too big to hold at once: a voxelizer is one subject's anatomy on
 * its grid; sb_voxelizer_slab makes the maps of z planes [k0, k1) (affine origin at plane
 * k0). The slabs of a grid are exactly the corresponding planes of sb_anatomy_voxelize_maps'
 * maps, whatever the split. */
typedef struct sb_voxelizer sb_voxelizer;
sb_status sb_voxelizer_new(const sb_anatomy *a, const sb_subject *s, double voxel_mm,
                           const sb_ctx *ctx, sb_voxelizer **out, sb_error *err);
void sb_voxelizer_grid(const sb_voxelizer *v, size_t dim[3], double origin[3]);
/* SB_ERR_MEMORY (naming the grid) if bytes_per_voxel over the whole grid exceed the memory
 * available, before anything is allocated. */
sb_status sb_voxelizer_check_memory(const sb_voxelizer *v, unsigned bytes_per_voxel, sb_error *err);
sb_status sb_voxelizer_slab(const sb_voxelizer *v, size_t k0, size_t k1, unsigned want,
                            const sb_ctx *ctx, sb_anatomy_maps *out, sb_error *err);
void sb_voxelizer_free(sb_voxelizer *v); /* NULL is a no-op */
/* A slab is made with up to this many extra planes on each side (for the speck clean-up),
 * held while it is made: budget them. */
#define SB_SLAB_MARGIN 20

/* The body composition the voxelizer gave the subject (README "Body composition"): its mass
 * follows the weight, with the adipose tissue of the body-fat percentage (Gallagher et al.
 * 2000, from BMI, age and sex). All 0 for anatomies without "body" and "lean" shapes. */
typedef struct sb_body_composition {
    double body_fat_percent; /* target, Gallagher et al. 2000 */
    double adipose_kg;       /* target: body fat / 0.8 */
    double lean_scale;       /* sideways scale of the muscle envelope (trunk and limbs) */
    double fat_scale;        /* factor on the subcutaneous fat thicknesses */
    double trunk_fat_mm;     /* subcutaneous fat at the abdomen, after that factor */
    double model_kg;         /* the mass the model estimates (the weight, within ~0.2 %) */
} sb_body_composition;
void sb_voxelizer_composition(const sb_voxelizer *v, sb_body_composition *out);

/* ---- MRI --------------------------------------------------------------------------------- *
 * Tissue classes (names) are fixed here; their MR properties are data (volume/tissues/
 * tissues.json, README "MRI physics"). Signals come from closed-form sequence equations per
 * pure tissue, mixed per voxel by partial volume, times a smooth receive bias field, plus
 * complex Gaussian noise, then magnitude: all a pure function of (seed, subject, parameters).
 */
typedef struct sb_tissue_props {
    const char *name;
} sb_tissue_props;

/* Every tissue class, index = value in tissue maps; entry 0 is "background" (no signal); the
 * list ends with a NULL name. */
extern const sb_tissue_props sb_tissue_table[];

/* The tissue called `tissue`; NULL if unknown. */
const sb_tissue_props *sb_tissue_find(const char *tissue);
/* Its index in sb_tissue_table (the value in tissue maps); -1 if unknown. */
int sb_tissue_index(const char *tissue);
/* Number of classes, background included. */
size_t sb_tissue_count(void);

enum { SB_TISSUE_MAX = 64, SB_FAT_PEAKS_MAX = 8, SB_FIELD_1T5 = 0, SB_FIELD_3T = 1 };

/* One tissue's MR properties ([SB_FIELD_1T5] and [SB_FIELD_3T]). T1, T2, T2* are those of its
 * water protons; its fat protons (pd * ff) relax with the fat component's T1 and T2. */
typedef struct sb_tissue_mr {
    double pd; /* total proton density relative to pure water */
    double ff; /* proton-density fat fraction, 0..1 */
    double t1_ms[2], t2_ms[2], t2s_ms[2];
    double adc; /* apparent diffusion coefficient, 10^-3 mm^2/s */
} sb_tissue_mr;

/* The properties of every class for one subject (or the table's means). */
typedef struct sb_mr_tissues {
    size_t count;                  /* sb_tissue_count() */
    sb_tissue_mr t[SB_TISSUE_MAX]; /* index = value in tissue maps; [0] background: no signal */
    double fat_t1_ms[2], fat_t2_ms[2], fat_adc;
    int fat_npeaks;                                              /* fat spectrum: peaks, */
    double fat_ppm[SB_FAT_PEAKS_MAX], fat_amp[SB_FAT_PEAKS_MAX]; /* ppm from water, areas */
} sb_mr_tissues;

/* The tissue table: means, population SDs and sources of every value. */
typedef struct sb_tissue_db sb_tissue_db;

/* The embedded table (path NULL), or the embedded table with every tissue (and the fat
 * component) that the JSON file `path` lists replaced by the file's entry (README "Tissue
 * table format"). SB_ERR_INPUT names the file and the JSON path of the field at fault (unknown
 * tissue, value out of range, missing quantity, source not among "references"). */
sb_status sb_tissue_db_load(const char *path, sb_tissue_db **out, sb_error *err);
void sb_tissue_db_free(sb_tissue_db *db); /* NULL is a no-op */
/* Reference key of a quantity ("pd", "ff", "t1_ms", "t2_ms", "t2s_ms", "adc") of a tissue;
 * "user" for values from a user file without one; NULL if unknown. */
const char *sb_tissue_db_source(const sb_tissue_db *db, int tissue, const char *quantity);
/* The table's mean values. */
void sb_tissue_db_mean(const sb_tissue_db *db, sb_mr_tissues *out);
/* One subject's values: mean + sd z per (tissue, quantity), z ~ N(0,1) clamped to +-2.5 from
 * the subject's TISSUE stream (one z for both field strengths); the liver's fat fraction is
 * s->liver_fat. */
void sb_tissue_db_sample(const sb_tissue_db *db, const sb_subject *s, sb_mr_tissues *out);

typedef enum sb_seq_kind {
    SB_SEQ_SE = 1, /* spin echo / turbo spin echo (effective TE) */
    SB_SEQ_GRE,    /* spoiled gradient echo */
    SB_SEQ_IR,     /* inversion recovery (STIR, FLAIR), magnitude */
    SB_SEQ_BSSFP,  /* balanced steady-state free precession, on resonance */
    SB_SEQ_DIXON,  /* multi-echo spoiled GRE, water/fat separation */
    SB_SEQ_DWI     /* diffusion-weighted spin-echo EPI, one image per b-value */
} sb_seq_kind;

enum { SB_DIXON_ECHOES_MAX = 3, SB_DWI_B_MAX = 4, SB_MRI_OUT_MAX = 5, SB_STATIONS_MAX = 16 };

typedef struct sb_sequence {
    sb_seq_kind kind;
    double field_t;         /* 1.5 or 3 (T): selects the relaxation times and the fat shift */
    double tr_ms, te_ms;    /* repetition and echo time (Dixon: te_echo_ms) */
    double ti_ms;           /* inversion time (IR) */
    double flip_deg;        /* GRE, bSSFP, Dixon */
    double fat_suppression; /* fraction of the fat signal removed (0 none, DWI 0.95) */
    int necho;              /* Dixon: 2 (opposed, in phase) or 3 (opposed, in, opposed) */
    double te_echo_ms[SB_DIXON_ECHOES_MAX];
    int nb; /* DWI: b-values in s/mm^2, ascending */
    double b[SB_DWI_B_MAX];
} sb_sequence;

/* One acquisition: a sequence and the acquisition's effects. */
typedef struct sb_acquisition {
    char name[32]; /* "T1w", "dixon", "dwi", ...: names the outputs */
    uint32_t id;   /* noise stream: distinct per acquisition of a subject */
    sb_sequence seq;
    double snr;          /* requested SNR: mean of ref_tissue / noise sigma; <= 0: no noise */
    char ref_tissue[32]; /* the reference tissue of the SNR ("muscle") */
    double bias;         /* receive bias amplitude: (max - min) / mean over the body, 0..0.8 */
    double texture;      /* tissue texture: SD of each solid tissue's smooth modulation, 0..0.3 */
    double kspace[3];    /* fraction of k-space acquired along x, y, z (0 or 1: all; else a
                            sharp truncation: PSF and Gibbs ringing) */
    double ghost;        /* motion ghosting along y (phase encoding): amplitude of the first
                            ghost relative to the image, 0..0.5 (0: none) */
    int ghost_period;    /* k-space lines per motion cycle: ghosts at FOV / period (0: 4) */
    double flow_cm_s;    /* blood velocity for flow voids in spin-echo sequences (0: none) */
} sb_acquisition;

/* The images an acquisition makes, in order: SE, GRE, IR, bSSFP: one (magnitude); Dixon:
 * water, fat, in phase, opposed phase, fat fraction (%); DWI: one per b-value, then the ADC
 * (10^-6 mm^2/s) if nb >= 2. Returns the count and fills names (may be NULL). */
size_t sb_mri_outputs(const sb_acquisition *a, char names[SB_MRI_OUT_MAX][40]);

/* A subject's acquisition session: sampled tissue values and the receive bias field over a
 * grid. `tissues` (uint8 map of the whole grid) defines the body the bias is normalised over. */
typedef struct sb_mri_session sb_mri_session;
sb_status sb_mri_session_new(const sb_mr_tissues *m, const sb_subject *s, const sb_volume *tissues,
                             sb_mri_session **out, sb_error *err);
void sb_mri_session_free(sb_mri_session *ss); /* NULL is a no-op */
/* The same session for a grid never whole in memory: begin with the grid (dim and spacing of
 * `grid`; its data are not read), give the tissue map of every bias-node plane (the planes
 * k = i x sb_mri_session_node_step, in ascending order, inside slabs of any size starting at
 * plane k0), then finish; the session equals sb_mri_session_new's on the whole map. */
sb_status sb_mri_session_begin(const sb_mr_tissues *m, const sb_subject *s, const sb_volume *grid,
                               sb_mri_session **out, sb_error *err);
size_t sb_mri_session_node_step(const sb_mri_session *ss);
sb_status sb_mri_session_body(sb_mri_session *ss, const sb_volume *tissues, size_t k0,
                              sb_error *err);
sb_status sb_mri_session_finish(sb_mri_session *ss, sb_error *err);

/* Options of a session, set between sb_mri_session_begin and the first sb_mri_session_body.
 * Stations: `stations` (0 or 1: one) of equal length tile the grid along z, neighbours
 * overlapping by overlap_mm; each has its own receive bias field (normalised over the body in
 * the station), blended linearly across the overlaps. Fat-water swap: with probability
 * fat_water_swap the Dixon water and fat images (and so the fat fraction) are exchanged inside a
 * ball of radius 50..150 mm centred on a random point of the body (drawn from the subject's BIAS
 * stream). SB_ERR_USAGE names a value out of range or stations that do not fit the grid (each
 * at least twice the overlap). */
typedef struct sb_mri_setup {
    int stations;
    double overlap_mm;
    double fat_water_swap;
} sb_mri_setup;
sb_status sb_mri_session_setup(sb_mri_session *ss, const sb_mri_setup *o, sb_error *err);
/* The same checks on a grid (its dim and spacing; data not read), before any work. */
sb_status sb_mri_setup_check(const sb_mri_setup *o, const sb_volume *grid, sb_error *err);
/* The stations: returns their count; station s covers the planes [s step, s step + len]. */
int sb_mri_session_stations(const sb_mri_session *ss, double *step, double *len);
/* 1 and the ball (centre in voxel indices, radius in mm) if this subject's Dixon images have a
 * fat-water swap (known after sb_mri_session_finish), else 0. */
int sb_mri_session_swap(const sb_mri_session *ss, double centre_vox[3], double *radius_mm);

/* The images of one acquisition (sb_mri_outputs order) on the tissue map's grid, those whose
 * bit is set in `want` (others NULL), as float32 or as int16 to be read with slope[k] (the
 * larger of a bound on the largest possible value over 32767 and, for magnitudes, sigma / 16;
 * slope 1 for float32):
 * per voxel S = f S(tissue) + (1 - f) S(pv_tissue), f = pv_frac / 255 (pv maps may be NULL:
 * pure voxels), complex and before noise; times the bias field; plus complex Gaussian noise
 * of sigma = S(ref_tissue) / snr drawn at the voxel's index from the (seed, subject, NOISE +
 * 256 id + channel) streams (block n/2 for voxel n); magnitude (Rician in tissue, Rayleigh in air).
 * Dixon: water and fat by a real-valued least-squares fit with the six-peak fat spectrum and (3
 * echoes) an R2* estimated from the two opposed-phase echoes. Identical at any thread count.
 * Texture (a->texture > 0): each tissue's signal times 1 + texture g(x), g one of four smooth
 * unit-SD random fields of the subject (fluids, T2 > 250 ms at 1.5 T, none). k-space
 * (a->kspace): the noiseless complex image is truncated in k-space axis by axis (FFTW) before
 * the noise; this needs 8 bytes per voxel and channel more.
 * SB_ERR_USAGE names the acquisition and the parameter at fault. */
sb_status sb_mri_acquire(const sb_mri_session *ss, const sb_acquisition *a,
                         const sb_volume *tissues, const sb_volume *pv_tissue,
                         const sb_volume *pv_frac, unsigned want, sb_dtype dtype, const sb_ctx *ctx,
                         sb_volume *out[SB_MRI_OUT_MAX], double slope[SB_MRI_OUT_MAX],
                         sb_error *err);
/* The planes k0 .. k0 + tissues->dim[2] - 1 of the same images, from maps of those planes only
 * (outputs on the maps' grid, affine as theirs); voxel for voxel equal to sb_mri_acquire's.
 * k-space truncation needs the whole grid (SB_ERR_USAGE otherwise). */
sb_status sb_mri_acquire_slab(const sb_mri_session *ss, const sb_acquisition *a, size_t k0,
                              const sb_volume *tissues, const sb_volume *pv_tissue,
                              const sb_volume *pv_frac, unsigned want, sb_dtype dtype,
                              const sb_ctx *ctx, sb_volume *out[SB_MRI_OUT_MAX],
                              double slope[SB_MRI_OUT_MAX], sb_error *err);

/* ---- protocols ---------------------------------------------------------------------------- */
enum { SB_PROTOCOL_MAX = 12 };

typedef struct sb_protocol {
    int stations;      /* multi-station acquisition (0 or 1: one station), sb_mri_setup */
    double overlap_mm; /* overlap of neighbouring stations */
    size_t count;
    sb_acquisition acq[SB_PROTOCOL_MAX];
    unsigned want[SB_PROTOCOL_MAX]; /* bit k: write output k of acq[i] */
} sb_protocol;

/* A named preset ("default": T1w, T2w; "ukbiobank-dixon"; "oncology-wb"; "neuro"; README
 * "Protocols") and/or a comma list of contrast names (T1w, T2w, PDw, GRE, STIR, FLAIR, bSSFP,
 * dixon_water, dixon_fat, dixon_in, dixon_opp, fatfrac, dwi_b<N>, ADC) that replaces the
 * preset's. field_t > 0 overrides the field strength; snr >= 0 (0: no noise) and bias >= 0
 * override those of every acquisition (negative: keep the protocol's). SB_ERR_USAGE names the
 * unknown protocol or contrast. */
sb_status sb_mri_protocol(const char *protocol, const char *contrasts, double field_t, double snr,
                          double bias, sb_protocol *out, sb_error *err);

/* ---- pathology: lesions with ground-truth masks (volume/lesions.c, README "Pathology") ------
 * Lesion types are data (volume/lesions.json, embedded; a file of the same format replaces
 * it): host structures, count and size ranges, shape, tissue classes of the lesion, its core
 * and its oedema. A subject's lesions are drawn once (sb_lesions_plan, from the lesion seed's
 * LESION stream and a 4 mm label map of the subject) and painted into any slab of the maps
 * (sb_lesions_paint): inside their host's labels only, changing the tissue and partial-volume
 * maps, never the label map. The same lesions whatever the slabs, threads or voxel size. */
typedef struct sb_lesion_catalog sb_lesion_catalog;

/* The embedded description (path NULL) or the file `path`. SB_ERR_INPUT names the file and
 * the JSON path of the field at fault. */
sb_status sb_lesion_catalog_load(const char *path, sb_lesion_catalog **out, sb_error *err);
void sb_lesion_catalog_free(sb_lesion_catalog *c); /* NULL is a no-op */
/* Classes of the class map: 1..n the focal types in file order, then "oedema" (n + 1). */
size_t sb_lesion_class_count(const sb_lesion_catalog *c);
/* Class k (1-based): name and colour; NULL name if k is out of range. */
const char *sb_lesion_class_name(const sb_lesion_catalog *c, size_t k, uint8_t rgb[3]);
/* What class k's type expects of its lesions against their host (README "Pathology"): per
 * contrast name ("T1w", "ADC", ...) sign +1 (brighter/higher), -1 (darker/lower) or 0
 * (variable: either, in different subjects); returns the count. */
size_t sb_lesion_class_expect(const sb_lesion_catalog *c, size_t k, char contrast[8][16],
                              int sign[8]);
/* Class k's tissue class (index into sb_tissue_table; its core may have another), -1 if none. */
int sb_lesion_class_tissue(const sb_lesion_catalog *c, size_t k);
/* Class k's range of equivalent-sphere diameters (mm); 0, 0 for oedema. */
void sb_lesion_class_sizes(const sb_lesion_catalog *c, size_t k, double diameter_mm[2]);
/* The lesion-type string "type[:N|:A-B],..." checked against the catalogue; SB_ERR_USAGE
 * names the unknown type or bad count. */
sb_status sb_lesion_spec_check(const sb_lesion_catalog *c, const char *spec, sb_error *err);

typedef struct sb_lesions sb_lesions;

/* The diffuse changes of `spec` applied to *s: steatosis sets liver_fat, hepatomegaly and
 * splenomegaly (kind "resize") set an entry of s->resize (one per structure, replaced if
 * present). Call it before the subject's anatomy is made (sb_voxelizer_new) and its tissue
 * values drawn; sb_lesions_plan makes the same draws and changes, so calling both is calling
 * one. SB_ERR_USAGE for a bad spec or too many resized structures. */
sb_status sb_lesions_apply_diffuse(const sb_lesion_catalog *c, const char *spec,
                                   uint64_t lesion_seed, sb_subject *s, sb_error *err);
/* One subject's lesions for `spec` (sb_lesion_spec_check), drawn from (lesion_seed,
 * s->subject, SB_STREAM_LESION). Applies the diffuse changes to *s first (as
 * sb_lesions_apply_diffuse) and places the lesions in the anatomy they make. A lesion that finds
 * no room in its hosts is left out with a warning (sb_lesions_count tells). */
sb_status sb_lesions_plan(const sb_lesion_catalog *c, const char *spec, uint64_t lesion_seed,
                          const sb_anatomy *a, sb_subject *s, const sb_ctx *ctx, sb_lesions **out,
                          sb_error *err);
void sb_lesions_free(sb_lesions *l); /* NULL is a no-op */
size_t sb_lesions_count(const sb_lesions *l);
/* The first tissue class used by lesions: a subject without lesions uses the classes below it
 * only (sb_mr_tissues.count may be cut there, keeping the images of older versions). */
int sb_lesion_tissue_first(void);

/* Paints the lesions into the maps of planes k0 .. k0 + nz - 1 (maps.labels, .tissues,
 * .pv_tissue, .pv_frac of one slab, as sb_voxelizer_slab makes them) and fills `instance`
 * (uint16 lesion id, 0 none) and `classes` (uint8 class) of the same planes, allocated here
 * with the slab's affine. Adds the voxels to each lesion's statistics: paint every plane of
 * the grid once before reading them. */
sb_status sb_lesions_paint(sb_lesions *l, sb_anatomy_maps *maps, size_t k0, sb_volume **instance,
                           sb_volume **classes, sb_error *err);

/* One lesion as painted: id (1-based), type, host (the first name of its host group), its
 * class, voxels and volume (ml) of its mask, centroid in world mm, equivalent-sphere diameter
 * of the mask, the model's largest diameter (a bound), oedema volume (ml), the drawn diameter
 * and the host's label ids. */
typedef struct sb_lesion_info {
    int id;
    char type[48], host[64];
    int class_id;
    size_t voxels;
    double volume_ml, centroid_mm[3], diameter_mm, max_diameter_mm, oedema_ml;
    double model_diameter_mm; /* the drawn equivalent diameter */
    uint16_t host_labels[8];  /* the label ids the lesion may occupy */
    int nhost_labels;
} sb_lesion_info;
void sb_lesions_info(const sb_lesions *l, size_t i, sb_lesion_info *out);
/* Diffuse changes applied: a short text ("steatosis liver_fat=0.2130; splenomegaly spleen
 * x2.1034"), "" if none. */
const char *sb_lesions_diffuse(const sb_lesions *l);

#ifdef __cplusplus
}
#endif
#endif
