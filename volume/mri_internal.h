/* mri_internal.h — private to volume/mri_*.c: signal equations shared by the acquisition code
 * and the tests' expectations. */
#ifndef SB_MRI_INTERNAL_H
#define SB_MRI_INTERNAL_H

#include "sb_volume.h"

#include <string.h>

/* sum_k a_k exp(i 2 pi f_k TE) of the fat spectrum at field_t tesla: c[0] real, c[1] imaginary. */
void mri_fat_phasor(const sb_mr_tissues *m, double field_t, double te_ms, double c[2]);

/* The noiseless complex signal of pure tissue `ti` (0: none) for sequence q at echo time te_ms
 * and b-value b (s/mm^2, DWI only); 1000 = fully relaxed water of PD 1. */
void mri_tissue_signal(const sb_mr_tissues *m, int ti, const sb_sequence *q, double te_ms, double b,
                       double out[2]);

/* The four standard normals of each Philox4x32-10 block first .. first + count - 1 of stream
 * (seed, subject, stream): z[4 i .. 4 i + 3] for block first + i (z needs 4 count floats).
 * Voxel n of an image uses block n / 2, normals 2 (n & 1) and 2 (n & 1) + 1 (mri_noise.c). */
void mri_normals(uint64_t seed, uint32_t subject, uint32_t stream, uint64_t first, size_t count,
                 float *z);

/* Truncates k-space of the complex image img (interleaved re, im; dim[0] fastest) to the
 * fraction keep[d] along each axis d (0 or >= 1: that axis untouched), with FFTW on `threads`
 * threads (mri_kspace.c). Returns 0, or -1 when out of memory. */
int mri_kspace_truncate(float *img, const size_t dim[3], const double keep[3], int threads);

/* Motion ghosting along y (mri_kspace.c): every line l of the acquisition order (ky = l - ny/2)
 * of a complex nx x ny plane (interleaved re, im; x fastest) gets the phase error
 * beta sin(2 pi l / period), J_1(beta) = amp, so ghosts of relative amplitude amp lie at
 * +-ny / period pixels along y (and fainter ones at multiples). The same bytes on any thread.
 * mri_ghost_new returns NULL when out of memory (not thread-safe: FFTW plans); mri_ghost_plane
 * may run on many threads at once, returning 0, or -1 when out of memory. */
typedef struct mri_ghost mri_ghost;
mri_ghost *mri_ghost_new(size_t nx, size_t ny, double amp, int period);
int mri_ghost_plane(const mri_ghost *g, float *plane);
void mri_ghost_free(mri_ghost *g);

/* Three echoes as mri_acquire.c's Dixon R2* fit sees them: echo times (ms), the fat spectrum's
 * phasors (cr, ci; c2 = |c|^2) and 1 / (TE3 - TE1). */
typedef struct {
    float te0, te1, te2, cr0, cr1, cr2, ci0, ci1, ci2, c20, c21, c22, inv_dt;
} mri_dixon3;

/* The Dixon fit with R2* of m voxels (mri_acquire.c's dixon_r2s_row): echoes x[0] + i x[1],
 * x[2] + i x[3], x[4] + i x[5] (m floats each) into water wo and fat fo (m floats, not
 * overlapping x). path 0: the best the processor has; 1: the baseline x86-64 build; 2: AVX2;
 * 3: AVX-512F (for tests: every path gives the same bits). Returns the path taken, or -1 (nothing
 * done) when the processor or the build lacks it. */
int mri_dixon_r2s_fit(const mri_dixon3 *q, const float *const x[6], float *wo, float *fo, size_t m,
                      int path);

/* The same map from one block's four Philox words to four normals, for tests. */
void mri_uniform_to_normals(const uint32_t o[4], float z[4]);

/* Rayleigh radii for voxels whose noiseless signal is 0 (air): r[4 i + w] = sqrt(-2 ln u_w)
 * of block first + i of stream (seed, subject, stream), u_w = (word w >> 8 + 0.5) 2^-24
 * (r needs 4 count floats); |sigma (z1 + i z2)| is distributed as sigma r. mri_uniform_to_radii:
 * the same map from one block's words, for tests. */
void mri_radii(uint64_t seed, uint32_t subject, uint32_t stream, uint64_t first, size_t count,
               float *r);
void mri_uniform_to_radii(const uint32_t o[4], float r[4]);

/* ---- single-precision elementary functions that vectorise (mri_noise.c, mri_acquire.c) -------
 * Our own branch-free polynomials (Cephes, S. L. Moshier 1984-2000: logf, expf; about 1-2 ulp)
 * so that row loops vectorise: glibc's scalar logf and expf cost more than the rest of such a
 * loop. Plain IEEE single-precision operations (no contraction in ISO C mode), so the SIMD and
 * scalar code give the same bits. */
static inline float mri_bits_float(uint32_t u) {
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}
static inline uint32_t mri_float_bits(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

/* ln x for a positive normal x: x = m 2^e, m in [sqrt(1/2), sqrt(2)), Cephes logf's polynomial
 * in m - 1. */
static inline float mri_lnf(float x) {
    uint32_t b = mri_float_bits(x);
    int e = (int)((b >> 23) & 0xffu) - 126; /* x = mf 2^e, mf in [0.5, 1) */
    float mf = mri_bits_float((b & 0x007fffffu) | 0x3f000000u);
    int lo = mf < 0.70710678f; /* SQRTHF */
    e -= lo;
    float m = (mf - 1.0f) + (float)lo * mf; /* lo: 2 mf - 1; exact either way */
    float z = m * m;
    float y = 7.0376836292e-2f;
    y = y * m - 1.1514610310e-1f;
    y = y * m + 1.1676998740e-1f;
    y = y * m - 1.2420140846e-1f;
    y = y * m + 1.4249322787e-1f;
    y = y * m - 1.6668057665e-1f;
    y = y * m + 2.0000714765e-1f;
    y = y * m - 2.4999993993e-1f;
    y = y * m + 3.3333331174e-1f;
    y = y * m * z;
    float fe = (float)e;
    y += -2.12194440e-4f * fe;
    y += -0.5f * z;
    return m + y + 0.693359375f * fe;
}

/* e^x for x <= 0 (below -80: e^-80): x = n ln 2 + g, |g| <= ln 2 / 2, Cephes expf's
 * polynomial in g, times 2^n built from its bits. */
static inline float mri_exp_neg(float x) {
    x = x < -80.0f ? -80.0f : x;
    int n = (int)(x * 1.44269504088896341f - 0.5f); /* truncation: ceil, so x / ln 2 rounded */
    float fn = (float)n;
    float g = (x - fn * 0.693359375f) + fn * 2.12194440e-4f;
    float z = g * g;
    float y = 1.9875691500e-4f;
    y = y * g + 1.3981999507e-3f;
    y = y * g + 8.3334519073e-3f;
    y = y * g + 4.1665795894e-2f;
    y = y * g + 1.6666665459e-1f;
    y = y * g + 5.0000001201e-1f;
    y = y * z + g + 1.0f;
    return y * mri_bits_float((uint32_t)(n + 127) << 23);
}

#endif
