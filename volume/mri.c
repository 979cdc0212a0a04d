/* mri.c — first MRI model: spin-echo magnitude from per-tissue PD, T1, T2, plus Rician noise.
 *
 * S = PD (1 - exp(-TR/T1)) exp(-TE/T2) (spin echo with TR >> TE; Haacke et al., "Magnetic
 * Resonance Imaging: Physical Principles and Sequence Design", 1999, ch. 8). Noise: complex
 * Gaussian added to the real signal, magnitude taken (Gudbjartsson & Patz, MRM 1995), so the
 * background is Rayleigh-distributed as in real magnitude images.
 *
 * Tissue values at 1.5 T (one per tissue class of the README's anatomy format), rounded from de
 * Bazelaire et al., Radiology 2004 (abdomen, muscle, fat), Stanisz et al., MRM 2005 (muscle, blood,
 * brain, spinal cord) and textbook values for CSF, lung and cortical bone. Placeholder table: the
 * MRI issue replaces it with a sourced, versioned table with 1.5 T / 3 T values and population
 * spreads.
 */
#include "sb_volume.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const sb_tissue_props sb_tissue_table[] = {{"background", 0.0, 1000, 1},
                                           {"fat", 0.90, 260, 85},
                                           {"muscle", 0.80, 1008, 44},
                                           {"skin", 0.70, 600, 40},
                                           {"cortical_bone", 0.05, 1000, 1},
                                           {"red_marrow", 0.80, 550, 50},
                                           {"yellow_marrow", 0.90, 290, 100},
                                           {"cartilage", 0.70, 1000, 40},
                                           {"disc", 0.85, 1200, 120},
                                           {"tendon", 0.30, 600, 5},
                                           {"grey_matter", 0.80, 1124, 95},
                                           {"white_matter", 0.70, 884, 72},
                                           {"csf", 1.00, 4000, 2000},
                                           {"spinal_cord", 0.75, 745, 74},
                                           {"nerve", 0.70, 1000, 70},
                                           {"vitreous", 1.00, 3800, 1500},
                                           {"lens", 0.60, 1000, 40},
                                           {"blood", 0.90, 1441, 290},
                                           {"myocardium", 0.80, 1030, 40},
                                           {"vessel_wall", 0.70, 1000, 50},
                                           {"lung", 0.15, 1200, 30},
                                           {"air", 0.0, 1000, 1},
                                           {"liver", 0.75, 586, 46},
                                           {"spleen", 0.80, 1057, 79},
                                           {"kidney_cortex", 0.85, 966, 87},
                                           {"kidney_medulla", 0.90, 1412, 85},
                                           {"urine", 1.00, 3000, 1500},
                                           {"pancreas", 0.75, 584, 46},
                                           {"stomach_wall", 0.80, 900, 60},
                                           {"bowel_wall", 0.80, 900, 60},
                                           {"bowel_content", 0.90, 2000, 300},
                                           {"bile", 1.00, 2500, 700},
                                           {"prostate", 0.85, 1317, 88},
                                           {"uterus", 0.85, 1309, 117},
                                           {"ovary", 0.85, 1200, 100},
                                           {"testis", 0.90, 1500, 200},
                                           {"thyroid", 0.80, 900, 80},
                                           {"adrenal", 0.80, 900, 60},
                                           {"breast_gland", 0.80, 1000, 70},
                                           {"lymph_node", 0.80, 1000, 80},
                                           {NULL, 0, 0, 0}};

const sb_tissue_props *sb_tissue_find(const char *tissue) {
    for (size_t i = 1; sb_tissue_table[i].name; i++)
        if (strcmp(sb_tissue_table[i].name, tissue) == 0) return &sb_tissue_table[i];
    return NULL;
}

const sb_spin_echo sb_sequence_t1w = {"T1w", 1, 500.0, 15.0, 0.02};
const sb_spin_echo sb_sequence_t2w = {"T2w", 2, 4000.0, 100.0, 0.02};

static double spin_echo(const sb_tissue_props *t, const sb_spin_echo *q) {
    return t->pd * (1.0 - exp(-q->tr_ms / t->t1_ms)) * exp(-q->te_ms / t->t2_ms);
}

sb_status sb_mri_spin_echo(const sb_volume *tissues, const sb_spin_echo *seq, const sb_subject *s,
                           const sb_ctx *ctx, sb_volume **out, sb_error *err) {
    if (tissues->dtype != SB_DT_UINT8)
        return sb_error_set(err, SB_ERR_INTERNAL, "tissue map must be uint8, not %s",
                            sb_dtype_name(tissues->dtype));
    if (!(seq->tr_ms > 0 && seq->te_ms >= 0 && seq->te_ms < seq->tr_ms && seq->noise >= 0))
        return sb_error_set(err, SB_ERR_USAGE, "%s: TR %g ms, TE %g ms, noise %g are invalid",
                            seq->name, seq->tr_ms, seq->te_ms, seq->noise);
    float lut[256] = {0};
    double smax = 0;
    size_t ntissues = 0;
    while (sb_tissue_table[ntissues].name) ntissues++;
    for (size_t i = 1; i < ntissues; i++) smax = fmax(smax, spin_echo(&sb_tissue_table[i], seq));
    for (size_t i = 1; i < ntissues && i < 256; i++)
        lut[i] = (float)(1000.0 * spin_echo(&sb_tissue_table[i], seq) / smax);
    sb_volume *v;
    sb_status st = sb_volume_create(tissues->dim, tissues->spacing, SB_DT_INT16, &v, err);
    if (st) return st;
    memcpy(v->affine, tissues->affine, sizeof v->affine);
    sb_rng rng;
    sb_rng_init(&rng, s->seed, s->subject, SB_STREAM_NOISE + 256u * seq->id);
    const double sigma = 1000.0 * seq->noise;
    const uint8_t *tis = tissues->data;
    int16_t *img = v->data;
    const long n = (long)sb_volume_nvox(tissues);
#pragma omp parallel for schedule(static) num_threads(sb_ctx_threads(ctx))
    for (long i = 0; i < n; i++) {
        double z[2];
        sb_rng_normal_pair(&rng, (uint64_t)i, z);
        double re = lut[tis[i]] + sigma * z[0], im = sigma * z[1];
        double m = sqrt(re * re + im * im);
        img[i] = (int16_t)fmin(32767.0, floor(m + 0.5));
    }
    *out = v;
    return SB_OK;
}
