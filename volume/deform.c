/* deform.c — a smooth random deformation of the body: each subject's anatomy is evaluated at
 * q + u(q), u a tensor-product cubic B-spline field (Rueckert et al., "Nonrigid registration
 * using free-form deformations", IEEE TMI 1999, use the same representation).
 *
 * Coefficients: independent normals (SD `amplitude_mm`) on a control lattice of spacing
 * `spacing_mm` covering the body's box, from the (seed, subject, ANATOMY + 1) stream. The field
 * is sampled once per subject on a fine lattice by tensor products evaluated as matrix products
 * (OpenBLAS sgemm: per control slice By·C·Bxᵀ, then Bz across slices), then interpolated
 * trilinearly. With amplitude 4 mm and spacing 120 mm the field's slope stays far below 1, so the
 * warped distances remain bounds usable by the voxelizer's culling (factor 2 margin).
 */
#include "deform.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Uniform cubic B-spline basis: weight of control point c for sample position x (control
 * units, control point c at x = c - 1, i.e. one extra control point before the first). */
static double bspline(double t) {
    t = fabs(t);
    if (t < 1) return (4.0 - 6.0 * t * t + 3.0 * t * t * t) / 6.0;
    if (t < 2) return (2.0 - t) * (2.0 - t) * (2.0 - t) / 6.0;
    return 0.0;
}

/* Basis matrix B[n][nc]: sample i at lo + i*step, control c at lo + (c-1)*spacing. */
static float *basis(size_t n, size_t nc, double step, double spacing) {
    float *b = calloc(n * nc, sizeof *b);
    if (!b) return NULL;
    for (size_t i = 0; i < n; i++)
        for (size_t c = 0; c < nc; c++)
            b[i * nc + c] = (float)bspline((double)i * step / spacing - ((double)c - 1.0));
    return b;
}

void deform_free(deform_field *f) {
    if (!f) return;
    free(f->u);
    memset(f, 0, sizeof *f);
}

int deform_build(deform_field *f, const double lo[3], const double hi[3], double amplitude_mm,
                 double spacing_mm, double step_mm, uint64_t seed, uint32_t subject) {
    memset(f, 0, sizeof *f);
    if (!(amplitude_mm > 0)) return 1; /* no deformation */
    size_t n[3], nc[3];
    for (int a = 0; a < 3; a++) {
        f->lo[a] = lo[a];
        n[a] = (size_t)ceil((hi[a] - lo[a]) / step_mm) + 2;
        nc[a] = (size_t)ceil((double)(n[a] - 1) * step_mm / spacing_mm) + 3;
        f->n[a] = n[a];
    }
    f->step = step_mm;
    float *bx = basis(n[0], nc[0], step_mm, spacing_mm),
          *by = basis(n[1], nc[1], step_mm, spacing_mm),
          *bz = basis(n[2], nc[2], step_mm, spacing_mm);
    size_t nctl = nc[0] * nc[1] * nc[2], nsl = n[0] * n[1];
    float *coef = malloc(nctl * sizeof *coef), *tmp = malloc(nc[1] * n[0] * sizeof *tmp),
          *slices = malloc(nc[2] * nsl * sizeof *slices);
    f->u = malloc(3 * n[2] * nsl * sizeof *f->u);
    int ok = bx && by && bz && coef && tmp && slices && f->u;
    sb_rng r;
    sb_rng_init(&r, seed, subject, SB_STREAM_ANATOMY + 1u);
    for (int comp = 0; ok && comp < 3; comp++) {
        for (size_t i = 0; i < nctl; i++) coef[i] = (float)(amplitude_mm * sb_rng_normal(&r));
        /* per control slice cz: S[cz] (n1 x n0) = By (n1 x c1) . C[cz] (c1 x c0) . Bx^T */
        for (size_t cz = 0; cz < nc[2]; cz++) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)nc[1], (int)n[0], (int)nc[0],
                        1.0f, coef + cz * nc[1] * nc[0], (int)nc[0], bx, (int)nc[0], 0.0f, tmp,
                        (int)n[0]);
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n[1], (int)n[0], (int)nc[1],
                        1.0f, by, (int)nc[1], tmp, (int)n[0], 0.0f, slices + cz * nsl, (int)n[0]);
        }
        /* U (n2 x n1*n0) = Bz (n2 x c2) . S (c2 x n1*n0) */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n[2], (int)nsl, (int)nc[2],
                    1.0f, bz, (int)nc[2], slices, (int)nsl, 0.0f, f->u + comp * n[2] * nsl,
                    (int)nsl);
    }
    /* the vertical displacement fades out towards the top and the bottom of the box (the
     * vertex and the soles), so the warp never changes the stature */
    for (size_t k = 0; ok && k < n[2]; k++) {
        double z = lo[2] + (double)k * step_mm;
        double t = fmin(fmax(fmin(z - lo[2], hi[2] - z) / DEFORM_TAPER_MM, 0.0), 1.0);
        float *uz = f->u + 2 * n[2] * nsl + k * nsl;
        for (size_t i = 0; i < nsl; i++) uz[i] *= (float)t;
    }
    free(bx);
    free(by);
    free(bz);
    free(coef);
    free(tmp);
    free(slices);
    if (!ok) deform_free(f);
    return ok;
}

void deform_apply(const deform_field *f, const double q[3], double out[3]) {
    if (!f->u) {
        memcpy(out, q, 3 * sizeof *out);
        return;
    }
    size_t i0[3];
    double w[3];
    for (int a = 0; a < 3; a++) {
        double x = (q[a] - f->lo[a]) / f->step;
        double maxi = (double)f->n[a] - 1.001;
        x = x < 0 ? 0 : x > maxi ? maxi : x;
        i0[a] = (size_t)x;
        w[a] = x - (double)i0[a];
    }
    const size_t sx = 1, sy = f->n[0], sz = f->n[0] * f->n[1], ncomp = sz * f->n[2];
    size_t base = i0[0] * sx + i0[1] * sy + i0[2] * sz;
    for (int comp = 0; comp < 3; comp++) {
        const float *u = f->u + comp * ncomp + base;
        double c00 = u[0] + w[0] * (u[sx] - u[0]);
        double c10 = u[sy] + w[0] * (u[sy + sx] - u[sy]);
        double c01 = u[sz] + w[0] * (u[sz + sx] - u[sz]);
        double c11 = u[sz + sy] + w[0] * (u[sz + sy + sx] - u[sz + sy]);
        double c0 = c00 + w[1] * (c10 - c00), c1 = c01 + w[1] * (c11 - c01);
        out[comp] = q[comp] + c0 + w[2] * (c1 - c0);
    }
}
