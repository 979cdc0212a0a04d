/* edt.c — exact Euclidean distance transform of a binary mask.
 *
 * Reference
 *   P. F. Felzenszwalb, D. P. Huttenlocher: "Distance Transforms of Sampled Functions", Theory
 *     of Computing 8, 2012 (the squared distance transform is separable; along one line it is
 *     the lower envelope of the parabolas w (q - p)^2 + f(p), found in O(n)).
 *
 * Passes: squared distances start at 0 on zero voxels and +inf elsewhere; the 1-D transform
 * runs along i, then j, then k (weights spacing^2), each line independent (threads over lines,
 * so the bytes never depend on the thread count); the square root is taken at the end. With
 * border_zero, each line also has zero sites at positions -1 and n: after the first pass these
 * stand for the planes of padding around the grid. Sites at +inf take no part in the envelope.
 */
#include "sb_mesh.h"

#include "mesh_internal.h"

#include <math.h>
#include <stdlib.h>

/* Lower envelope along one line: d[q] = min_p w (q - p)^2 + f[p], p over 0..n-1 (and -1, n when
 * pad); arg[q] (arg may be NULL) = that p (-1 when no site). f and d may not alias. v (n + 2
 * longs) and z (n + 3 doubles) are scratch. */
static void edt_line(const double *f, double *d, long *arg, size_t n, double w, int pad, long *v,
                     double *z) {
    long k = -1;
    const long N = (long)n;
    for (long q = pad ? -1 : 0; q <= (pad ? N : N - 1); q++) {
        double fq = (q < 0 || q >= N) ? 0 : f[q];
        if (!isfinite(fq)) continue;
        if (k < 0) {
            k = 0;
            v[0] = q;
            z[0] = -INFINITY;
            z[1] = INFINITY;
            continue;
        }
        double s;
        for (;;) {
            long p = v[k];
            double fp = (p < 0 || p >= N) ? 0 : f[p];
            s = ((fq + w * (double)q * (double)q) - (fp + w * (double)p * (double)p)) /
                (2 * w * (double)(q - p));
            if (s <= z[k] && k > 0)
                k--;
            else
                break;
        }
        k++;
        v[k] = q;
        z[k] = s;
        z[k + 1] = INFINITY;
    }
    if (k < 0) {
        for (size_t q = 0; q < n; q++) d[q] = INFINITY;
        if (arg)
            for (size_t q = 0; q < n; q++) arg[q] = -1;
        return;
    }
    long j = 0;
    for (long q = 0; q < N; q++) {
        while (z[j + 1] < (double)q) j++;
        long p = v[j];
        double fp = (p < 0 || p >= N) ? 0 : f[p];
        d[q] = w * (double)(q - p) * (double)(q - p) + fp;
        if (arg) arg[q] = p;
    }
}

sb_status sb_mesh_edt(const uint8_t *mask, const size_t dim[3], const double spacing[3],
                      int border_zero, const sb_ctx *ctx, float *dist, sb_error *err) {
    return sb__mesh_edt_sites(mask, dim, spacing, border_zero, ctx, dist, NULL, err);
}

sb_status sb__mesh_edt_sites(const uint8_t *mask, const size_t dim[3], const double spacing[3],
                             int border_zero, const sb_ctx *ctx, float *dist, size_t *site,
                             sb_error *err) {
    if (!mask || !dim || !spacing || !dist)
        return sb_error_set(err, SB_ERR_USAGE, "sb_mesh_edt: NULL argument");
    for (int a = 0; a < 3; a++)
        if (!(spacing[a] > 0))
            return sb_error_set(err, SB_ERR_USAGE, "sb_mesh_edt: spacing[%d] = %g", a, spacing[a]);
    const size_t nx = dim[0], ny = dim[1], nz = dim[2];
    const size_t nvox = nx * ny * nz;
    if (!nvox) return SB_OK;
    for (size_t i = 0; i < nvox; i++) dist[i] = mask[i] ? INFINITY : 0.0f;
    if (site)
        for (size_t i = 0; i < nvox; i++) site[i] = mask[i] ? SIZE_MAX : i;
    size_t longest = nx > ny ? nx : ny;
    if (nz > longest) longest = nz;
    int fail = 0;
    for (int axis = 0; axis < 3; axis++) {
        const size_t len = dim[axis];
        const size_t stride = axis == 0 ? 1 : axis == 1 ? nx : nx * ny;
        const size_t lines = nvox / len;
        const double w = spacing[axis] * spacing[axis];
#pragma omp parallel num_threads(sb_ctx_threads(ctx))
        {
            double *f = malloc(longest * sizeof *f), *d = malloc(longest * sizeof *d);
            double *z = malloc((longest + 3) * sizeof *z);
            long *v = malloc((longest + 2) * sizeof *v), *arg = NULL;
            size_t *old = NULL;
            if (site) {
                arg = malloc(longest * sizeof *arg);
                old = malloc(longest * sizeof *old);
            }
            if (!f || !d || !z || !v || (site && (!arg || !old))) {
#pragma omp atomic write
                fail = 1;
            }
#pragma omp for schedule(static)
            for (size_t l = 0; l < lines; l++) {
                if (!f || !d || !z || !v || (site && (!arg || !old))) continue;
                size_t base;
                if (axis == 0)
                    base = l * nx;
                else if (axis == 1)
                    base = (l % nx) + (l / nx) * nx * ny;
                else
                    base = l;
                float *p = dist + base;
                for (size_t q = 0; q < len; q++) f[q] = p[q * stride];
                edt_line(f, d, arg, len, w, border_zero, v, z);
                for (size_t q = 0; q < len; q++) p[q * stride] = (float)d[q];
                if (site) {
                    size_t *sp = site + base;
                    for (size_t q = 0; q < len; q++) old[q] = sp[q * stride];
                    for (size_t q = 0; q < len; q++)
                        sp[q * stride] = arg[q] >= 0 && arg[q] < (long)len ? old[arg[q]] : SIZE_MAX;
                }
            }
            free(f);
            free(d);
            free(z);
            free(v);
            free(arg);
            free(old);
        }
        if (fail) return sb_error_set(err, SB_ERR_MEMORY, "distance transform: out of memory");
    }
    for (size_t i = 0; i < nvox; i++) dist[i] = sqrtf(dist[i]);
    return SB_OK;
}
