/* mri.c — first MRI model: spin-echo magnitude from per-tissue PD, T1, T2, plus Rician noise.
 *
 * S = PD (1 - exp(-TR/T1)) exp(-TE/T2) (spin echo with TR >> TE; Haacke et al., "Magnetic
 * Resonance Imaging: Physical Principles and Sequence Design", 1999, ch. 8). Noise: complex
 * Gaussian added to the real signal, magnitude taken (Gudbjartsson & Patz, MRM 1995), so the
 * background is Rayleigh-distributed as in real magnitude images.
 *
 * Tissue values at 1.5 T, rounded from de Bazelaire et al., Radiology 2004 (abdomen, muscle,
 * fat), Stanisz et al., MRM 2005 (muscle, blood, brain, spinal cord) and textbook values for
 * CSF, lung and cortical bone. Placeholder table: the MRI issue replaces it with a sourced,
 * versioned table with 1.5 T / 3 T values and population spreads.
 */
#include "sb_volume.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const sb_tissue_props TISSUES[] = {
    {"fat", 0.90, 260, 85},         {"muscle", 0.80, 1008, 44},     {"skin", 0.70, 600, 40},
    {"bone", 0.35, 350, 30},        {"brain", 0.75, 1000, 85},      {"csf", 1.00, 4000, 2000},
    {"vitreous", 1.00, 3800, 1500}, {"spinal_cord", 0.75, 745, 74}, {"lung", 0.15, 1200, 30},
    {"myocardium", 0.80, 1030, 40}, {"blood", 0.90, 1441, 290},     {"liver", 0.75, 586, 46},
    {"spleen", 0.80, 1057, 79},     {"kidney", 0.85, 966, 87},      {"stomach", 0.85, 1500, 200},
    {"urine", 1.00, 3000, 1500},    {"bowel", 0.80, 900, 100},
};

const sb_tissue_props *sb_tissue_find(const char *tissue) {
    for (size_t i = 0; i < sizeof TISSUES / sizeof TISSUES[0]; i++)
        if (strcmp(TISSUES[i].name, tissue) == 0) return &TISSUES[i];
    return NULL;
}

const sb_spin_echo sb_sequence_t1w = {"T1w", 1, 500.0, 15.0, 0.02};
const sb_spin_echo sb_sequence_t2w = {"T2w", 2, 4000.0, 100.0, 0.02};

static double spin_echo(const sb_tissue_props *t, const sb_spin_echo *q) {
    return t->pd * (1.0 - exp(-q->tr_ms / t->t1_ms)) * exp(-q->te_ms / t->t2_ms);
}

sb_status sb_mri_spin_echo(const sb_volume *labels, const sb_label_table *table,
                           const sb_spin_echo *seq, const sb_subject *s, const sb_ctx *ctx,
                           sb_volume **out, sb_error *err) {
    if (labels->dtype != SB_DT_UINT16)
        return sb_error_set(err, SB_ERR_INTERNAL, "label map must be uint16, not %s",
                            sb_dtype_name(labels->dtype));
    if (!(seq->tr_ms > 0 && seq->te_ms >= 0 && seq->te_ms < seq->tr_ms && seq->noise >= 0))
        return sb_error_set(err, SB_ERR_USAGE, "%s: TR %g ms, TE %g ms, noise %g are invalid",
                            seq->name, seq->tr_ms, seq->te_ms, seq->noise);
    /* Signal per label id (lookup table over all 65536 ids). */
    float *lut = calloc(65536, sizeof *lut);
    if (!lut) return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    double smax = 0;
    for (size_t i = 0; i < sizeof TISSUES / sizeof TISSUES[0]; i++)
        smax = fmax(smax, spin_echo(&TISSUES[i], seq));
    for (size_t i = 0; i < table->count; i++) {
        const sb_label *l = &table->labels[i];
        const sb_tissue_props *t = sb_tissue_find(l->tissue);
        if (!t) {
            free(lut);
            return sb_error_set(err, SB_ERR_INPUT, "label %d (%s): unknown tissue \"%s\"", l->id,
                                l->name, l->tissue);
        }
        lut[l->id] = (float)(1000.0 * spin_echo(t, seq) / smax);
    }
    sb_volume *v;
    sb_status st = sb_volume_create(labels->dim, labels->spacing, SB_DT_INT16, &v, err);
    if (st) {
        free(lut);
        return st;
    }
    memcpy(v->affine, labels->affine, sizeof v->affine);
    sb_rng rng;
    sb_rng_init(&rng, s->seed, s->subject, SB_STREAM_NOISE + 256u * seq->id);
    const double sigma = 1000.0 * seq->noise;
    const uint16_t *lab = labels->data;
    int16_t *img = v->data;
    const long n = (long)sb_volume_nvox(labels);
#pragma omp parallel for schedule(static) num_threads(sb_ctx_threads(ctx))
    for (long i = 0; i < n; i++) {
        double z[2];
        sb_rng_normal_pair(&rng, (uint64_t)i, z);
        double re = lut[lab[i]] + sigma * z[0], im = sigma * z[1];
        double m = sqrt(re * re + im * im);
        img[i] = (int16_t)fmin(32767.0, floor(m + 0.5));
    }
    free(lut);
    *out = v;
    return SB_OK;
}
