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

/* The same map from one block's four Philox words to four normals, for tests. */
void mri_uniform_to_normals(const uint32_t o[4], float z[4]);

#endif
