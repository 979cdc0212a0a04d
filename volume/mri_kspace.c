/* mri_kspace.c — finite k-space coverage: the point-spread function of the acquired matrix and
 * slice thickness, with its Gibbs ringing, on a noiseless complex image (FFTW).
 *
 * An MR image is the inverse Fourier transform of the k-space samples the scanner acquired; a
 * scanner acquires a finite, centred part of k-space, so the image is the object convolved with
 * the Dirichlet (periodic sinc) kernel of that window: blurred edges that overshoot and ring
 * (Gibbs ringing; Haacke et al., "Magnetic Resonance Imaging", 1999, chapter 13). With a
 * separable window — the fraction keep[d] of k-space along each axis d — that is three passes
 * of 1-D transforms: per line, FFT, zero the frequencies |f| > keep (m / 2), inverse FFT.
 * keep[d] = (voxel size) / (acquired resolution) along d: in plane the matrix, along z the
 * slice or partition thickness (a sinc slice profile, as in a 3-D acquisition).
 *
 * Lines are zero-padded to a length m >= n with factors 2, 3, 5, 7 only (FFTW is fastest there;
 * the body is surrounded by air, whose noiseless signal is 0, so the padding adds no edge).
 * Passes go in batches of BATCH neighbouring lines (one FFTW "many" plan, the batch transposed
 * into a buffer so the strided axes read memory in runs); batches are fixed by the grid, not by
 * the threads, and each line is transformed by the same plan: the same bytes at any thread count.
 * The noise is added afterwards (white in k-space, hence white in the image), as in a scanner.
 */
#include "mri_internal.h"

#include <fftw3.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BATCH 16

static size_t smooth_size(size_t n) {
    for (size_t m = n > 1 ? n : 1;; m++) {
        size_t r = m;
        for (size_t p = 2; p <= 7; p++)
            while (r % p == 0) r /= p;
        if (r == 1) return m;
    }
}

int mri_kspace_truncate(float *img, const size_t dim[3], const double keep[3], int threads) {
    const size_t nx = dim[0], ny = dim[1], nz = dim[2];
    int failed = 0;
    for (int d = 0; d < 3 && !failed; d++) {
        if (!(keep[d] > 0 && keep[d] < 1)) continue;
        const size_t n = dim[d], m = smooth_size(n);
        const size_t es = d == 0 ? 1 : d == 1 ? nx : nx * ny; /* element stride */
        const size_t line_step = d == 0 ? nx : 1;
        const size_t per_k = (nx + BATCH - 1) / BATCH; /* d = 1: groups per plane */
        const size_t lines = d == 0 ? ny * nz : nx * ny;
        const size_t groups = d == 1 ? per_k * nz : (lines + BATCH - 1) / BATCH;
        const double cut = keep[d] * (double)m / 2;
        /* the planner is not thread-safe: plans first, executed by every thread on its buffer */
        fftwf_complex *pb = fftwf_alloc_complex(m * BATCH);
        if (!pb) return -1;
        int len = (int)m;
        fftwf_plan fw = fftwf_plan_many_dft(1, &len, BATCH, pb, NULL, BATCH, 1, pb, NULL, BATCH, 1,
                                            FFTW_FORWARD, FFTW_ESTIMATE);
        fftwf_plan bw = fftwf_plan_many_dft(1, &len, BATCH, pb, NULL, BATCH, 1, pb, NULL, BATCH, 1,
                                            FFTW_BACKWARD, FFTW_ESTIMATE);
        fftwf_free(pb);
        if (!fw || !bw) {
            if (fw) fftwf_destroy_plan(fw);
            if (bw) fftwf_destroy_plan(bw);
            return -1;
        }
        const float scale = 1.0f / (float)m;
        const long ng = (long)groups;
#pragma omp parallel num_threads(threads) reduction(| : failed)
        {
            fftwf_complex *b = fftwf_alloc_complex(m * BATCH);
            failed |= !b;
#pragma omp for schedule(dynamic, 4)
            for (long g = 0; g < ng; g++) {
                if (!b) continue;
                size_t base, count;
                if (d == 1) {
                    size_t k = (size_t)g / per_k, gi = (size_t)g % per_k;
                    base = gi * BATCH + nx * ny * k;
                    count = nx - gi * BATCH < BATCH ? nx - gi * BATCH : BATCH;
                } else {
                    size_t first = (size_t)g * BATCH;
                    base = first * line_step;
                    count = lines - first < BATCH ? lines - first : BATCH;
                }
                memset(b, 0, m * BATCH * sizeof *b);
                for (size_t p = 0; p < n; p++)
                    for (size_t l = 0; l < count; l++) {
                        const float *s = img + 2 * (base + l * line_step + p * es);
                        b[p * BATCH + l][0] = s[0];
                        b[p * BATCH + l][1] = s[1];
                    }
                fftwf_execute_dft(fw, b, b);
                for (size_t f = 0; f < m; f++) {
                    size_t af = f <= m / 2 ? f : m - f;
                    if ((double)af > cut) memset(b[f * BATCH], 0, BATCH * sizeof *b);
                }
                fftwf_execute_dft(bw, b, b);
                for (size_t p = 0; p < n; p++)
                    for (size_t l = 0; l < count; l++) {
                        float *s = img + 2 * (base + l * line_step + p * es);
                        s[0] = b[p * BATCH + l][0] * scale;
                        s[1] = b[p * BATCH + l][1] * scale;
                    }
            }
            fftwf_free(b);
        }
        fftwf_destroy_plan(fw);
        fftwf_destroy_plan(bw);
    }
    return failed ? -1 : 0;
}

/* ---- motion ghosting -------------------------------------------------------------------------
 * Periodic motion during the acquisition (breathing, pulsation) changes the phase of successive
 * phase-encoding lines: a zero-order phase error phi(l) = beta sin(2 pi l / P) on line l of the
 * acquisition order (ky = l - ny/2). Since exp(i beta sin x) = sum_m J_m(beta) exp(i m x)
 * (Jacobi-Anger), the image becomes J_0(beta) times itself plus replicas shifted by m ny / P
 * pixels along the phase direction with amplitudes J_m(beta): ghosts at FOV / P, 2 FOV / P, ...,
 * wrapped around the field of view (Wood & Henkelman, Med Phys 1985). beta is chosen so that
 * J_1(beta) = amp. Lines are transformed at their own length (no padding: the wrap-around is the
 * scanner's field of view), in batches of BATCH columns with one plan, as above. */
struct mri_ghost {
    size_t nx, ny;
    fftwf_plan fw, bw;
    float *mod; /* per FFT index: cos, sin of the phase error of its line */
};

static double bessel_j1(double x) {
    double term = x / 2, sum = term;
    for (int m = 1; m < 30; m++) {
        term *= -(x / 2) * (x / 2) / ((double)m * (double)(m + 1));
        sum += term;
    }
    return sum;
}

void mri_ghost_free(mri_ghost *g) {
    if (!g) return;
    if (g->fw) fftwf_destroy_plan(g->fw);
    if (g->bw) fftwf_destroy_plan(g->bw);
    free(g->mod);
    free(g);
}

mri_ghost *mri_ghost_new(size_t nx, size_t ny, double amp, int period) {
    mri_ghost *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->nx = nx, g->ny = ny;
    double lo = 0, hi = 1.8; /* J1 rises from 0 to its maximum 0.58 at 1.84 */
    for (int it = 0; it < 60; it++) {
        double mid = (lo + hi) / 2;
        if (bessel_j1(mid) < amp)
            lo = mid;
        else
            hi = mid;
    }
    double beta = (lo + hi) / 2;
    g->mod = malloc(2 * ny * sizeof *g->mod);
    fftwf_complex *pb = fftwf_alloc_complex(ny * BATCH);
    int len = (int)ny;
    if (g->mod && pb) {
        g->fw = fftwf_plan_many_dft(1, &len, BATCH, pb, NULL, BATCH, 1, pb, NULL, BATCH, 1,
                                    FFTW_FORWARD, FFTW_ESTIMATE);
        g->bw = fftwf_plan_many_dft(1, &len, BATCH, pb, NULL, BATCH, 1, pb, NULL, BATCH, 1,
                                    FFTW_BACKWARD, FFTW_ESTIMATE);
    }
    fftwf_free(pb);
    if (!g->mod || !g->fw || !g->bw) {
        mri_ghost_free(g);
        return NULL;
    }
    for (size_t f = 0; f < ny; f++) {
        long ky = f < (ny + 1) / 2 ? (long)f : (long)f - (long)ny;
        long l = ky + (long)(ny / 2); /* acquisition order: from -ny/2 up */
        double ph = beta * sin(2 * M_PI * (double)l / period);
        g->mod[2 * f] = (float)cos(ph);
        g->mod[2 * f + 1] = (float)sin(ph);
    }
    return g;
}

int mri_ghost_plane(const mri_ghost *g, float *plane) {
    const size_t nx = g->nx, ny = g->ny;
    fftwf_complex *b = fftwf_alloc_complex(ny * BATCH);
    if (!b) return -1;
    const float scale = 1.0f / (float)ny;
    for (size_t x0 = 0; x0 < nx; x0 += BATCH) {
        size_t count = nx - x0 < BATCH ? nx - x0 : BATCH;
        memset(b, 0, ny * BATCH * sizeof *b);
        for (size_t y = 0; y < ny; y++)
            for (size_t l = 0; l < count; l++) {
                const float *s = plane + 2 * (x0 + l + nx * y);
                b[y * BATCH + l][0] = s[0];
                b[y * BATCH + l][1] = s[1];
            }
        fftwf_execute_dft(g->fw, b, b);
        for (size_t f = 0; f < ny; f++) {
            const float cr = g->mod[2 * f], ci = g->mod[2 * f + 1];
            for (size_t l = 0; l < BATCH; l++) {
                float re = b[f * BATCH + l][0], im = b[f * BATCH + l][1];
                b[f * BATCH + l][0] = re * cr - im * ci;
                b[f * BATCH + l][1] = re * ci + im * cr;
            }
        }
        fftwf_execute_dft(g->bw, b, b);
        for (size_t y = 0; y < ny; y++)
            for (size_t l = 0; l < count; l++) {
                float *s = plane + 2 * (x0 + l + nx * y);
                s[0] = b[y * BATCH + l][0] * scale;
                s[1] = b[y * BATCH + l][1] * scale;
            }
    }
    fftwf_free(b);
    return 0;
}
