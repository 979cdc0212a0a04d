/* mri_internal.h — private to volume/mri_*.c: signal equations shared by the acquisition code
 * and the tests' expectations. */
#ifndef SB_MRI_INTERNAL_H
#define SB_MRI_INTERNAL_H

#include "sb_volume.h"

/* sum_k a_k exp(i 2 pi f_k TE) of the fat spectrum at field_t tesla: c[0] real, c[1] imaginary. */
void mri_fat_phasor(const sb_mr_tissues *m, double field_t, double te_ms, double c[2]);

/* The noiseless complex signal of pure tissue `ti` (0: none) for sequence q at echo time te_ms
 * and b-value b (s/mm^2, DWI only); 1000 = fully relaxed water of PD 1. */
void mri_tissue_signal(const sb_mr_tissues *m, int ti, const sb_sequence *q, double te_ms, double b,
                       double out[2]);

#endif
