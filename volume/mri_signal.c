/* mri_signal.c — closed-form signal equations: the noiseless complex signal of one pure tissue
 * for one sequence (and echo time or b-value).
 *
 * A tissue is two proton pools: water (PD (1 - FF), the tissue's own T1, T2, T2*) and fat
 * (PD FF, the fat component's T1 and T2, the tissue's T2*, and a six-peak spectrum: each peak k
 * at f_k = ppm_k 1e-6 gamma B0 from water with relative area a_k, Hamilton et al. NMR Biomed
 * 2011), so a fat signal at echo time TE carries sum_k a_k exp(i 2 pi f_k TE).
 * References for the equations (Haacke et al., "Magnetic Resonance Imaging: Physical Principles
 * and Sequence Design", 1999; Bernstein et al., "Handbook of MRI Pulse Sequences", 2004):
 *   spin echo / TSE     S = PD (1 - e^(-TR/T1)) e^(-TE/T2)
 *   spoiled GRE         S = PD sin(a) (1 - E1) / (1 - cos(a) E1) e^(-TE/T2*), E1 = e^(-TR/T1)
 *   inversion recovery  S = PD (1 - 2 e^(-TI/T1) + e^(-TR/T1)) e^(-TE/T2)   (signed: the
 *                       magnitude is taken after noise, so partial-volume voxels cancel as in a
 *                       real magnitude IR image)
 *   balanced SSFP       S = PD sin(a) (1 - E1) e^(-TE/T2) / (1 - (E1 - E2) cos(a) - E1 E2),
 *                       on resonance, TE = TR/2 (Scheffler, Concepts Magn Reson 1999)
 *   Dixon               spoiled GRE at each echo time, fat with its spectrum's phase
 *   DWI (SE-EPI)        S = spin echo x e^(-b ADC); fat (suppressed by SPAIR/STIR to
 *                       1 - fat_suppression) with the fat component's ADC.
 * Any sequence may suppress fat: its pool is scaled by 1 - fat_suppression.
 * Scale: a fully relaxed pure-water voxel of PD 1 gives 1000.
 */
#include "mri_internal.h"

#include <math.h>

#define GAMMA_HZ_PER_T 42.577478e6

void mri_fat_phasor(const sb_mr_tissues *m, double field_t, double te_ms, double c[2]) {
    c[0] = c[1] = 0;
    for (int k = 0; k < m->fat_npeaks; k++) {
        double f = m->fat_ppm[k] * 1e-6 * GAMMA_HZ_PER_T * field_t;
        double ph = 2 * M_PI * f * te_ms * 1e-3;
        c[0] += m->fat_amp[k] * cos(ph);
        c[1] += m->fat_amp[k] * sin(ph);
    }
}

/* Real (magnitude-free) weighting of one pool with relaxation times t1, t2 (t2*: for GRE). */
static double pool(const sb_sequence *q, double t1, double t2, double t2s, double te) {
    double e1 = exp(-q->tr_ms / t1), a = q->flip_deg * M_PI / 180;
    switch (q->kind) {
    case SB_SEQ_SE:
        return (1 - e1) * exp(-te / t2);
    case SB_SEQ_DWI:
        return (1 - e1) * exp(-te / t2);
    case SB_SEQ_IR:
        return (1 - 2 * exp(-q->ti_ms / t1) + e1) * exp(-te / t2);
    case SB_SEQ_GRE:
    case SB_SEQ_DIXON:
        return sin(a) * (1 - e1) / (1 - cos(a) * e1) * exp(-te / t2s);
    case SB_SEQ_BSSFP: {
        double e2 = exp(-q->tr_ms / t2);
        return sin(a) * (1 - e1) * exp(-0.5 * q->tr_ms / t2) / (1 - (e1 - e2) * cos(a) - e1 * e2);
    }
    }
    return 0;
}

void mri_tissue_signal(const sb_mr_tissues *m, int ti, const sb_sequence *q, double te_ms, double b,
                       double out[2]) {
    const sb_tissue_mr *t = &m->t[ti];
    int fi = q->field_t > 2.0 ? SB_FIELD_3T : SB_FIELD_1T5;
    out[0] = out[1] = 0;
    if (ti <= 0 || t->pd <= 0) return;
    double w = t->pd * (1 - t->ff) * pool(q, t->t1_ms[fi], t->t2_ms[fi], t->t2s_ms[fi], te_ms);
    double f =
        t->pd * t->ff *
        pool(q, m->fat_t1_ms[fi], m->fat_t2_ms[fi], fmin(t->t2s_ms[fi], m->fat_t2_ms[fi]), te_ms);
    f *= 1 - q->fat_suppression;
    if (q->kind == SB_SEQ_DWI) {
        w *= exp(-b * t->adc * 1e-3);
        f *= exp(-b * m->fat_adc * 1e-3);
    }
    double c[2] = {1, 0};
    if (q->kind == SB_SEQ_GRE || q->kind == SB_SEQ_DIXON) mri_fat_phasor(m, q->field_t, te_ms, c);
    out[0] = 1000 * (w + f * c[0]);
    out[1] = 1000 * f * c[1];
}
