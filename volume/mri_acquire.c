/* mri_acquire.c — from tissue maps to MR images: partial-volume mixing of the complex pure-tissue
 * signals, receive bias field, complex Gaussian noise, magnitude; Dixon water/fat separation
 * and ADC maps.
 *
 * Passes per acquisition (one parallel sweep over z planes; every voxel depends only on its own
 * index, so any thread count gives the same bytes):
 *   1. look-up tables: the complex signal of every pure tissue for each channel (echo, b-value)
 *      from the sequence equations (mri_signal.c); noise sigma = |S(ref_tissue)| / SNR on the
 *      reference channel (Dixon: the in-phase echo; DWI: the lowest b).
 *   2. per voxel and channel: S = f S(t) + (1 - f) S(p) (complex, so fat and water and the
 *      two sides of an IR null cancel as they do in a real voxel), times the bias field;
 *      plus sigma (z1 + i z2), z from Philox4x32-10 block n/2 of stream (seed, subject,
 *      NOISE + 256 id + channel) for voxel n, Box–Muller in single precision (four normals per
 *      block: voxels 2m and 2m+1 share one).
 *   3. outputs: magnitudes (Gudbjartsson & Patz, MRM 1995: Rician in tissue, Rayleigh in air);
 *      Dixon: real-valued least squares for water W and fat F with the fat spectrum
 *      (Yu et al., MRM 2008 multi-peak model; no B0 phase is simulated, so W and F are real),
 *      with 3 echoes an R2* from the two opposed-phase echoes (corrected once for the spectrum)
 *      — fat fraction F / (W + F) in %; DWI: ADC = ln(S_lo / S_hi) / (b_hi - b_lo).
 *
 * Bias field: a receive-coil-like smooth field, 1 + A (g - mean) / (max - min) over the body,
 * g a tensor-product cubic B-spline with N(0,1) coefficients on a 150 mm lattice (SB_STREAM_BIAS),
 * evaluated by three sgemm mode products on nodes every ~8 mm and trilinearly in between, so
 * its range over the body is A (BrainWeb's "20 % / 40 % INU" convention).
 */
#include "mri_internal.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BIAS_LATTICE_MM 150.0
#define BIAS_NODE_MM 8.0

struct sb_mri_session {
    sb_mr_tissues m;
    uint64_t seed;
    uint32_t subject;
    size_t dim[3];
    size_t sv[3], nn[3]; /* node spacing (voxels) and node counts per axis */
    float *g;            /* normalised field shape: (g - mean) / (max - min) over the body */
};

/* Uniform cubic B-spline weights of the 4 control points cell..cell+3 at fraction t. */
static void bspline4(double t, double w[4]) {
    double t2 = t * t, t3 = t2 * t;
    w[0] = (1 - t) * (1 - t) * (1 - t) / 6;
    w[1] = (3 * t3 - 6 * t2 + 4) / 6;
    w[2] = (-3 * t3 + 3 * t2 + 3 * t + 1) / 6;
    w[3] = t3 / 6;
}

/* B (n x nc, row-major): basis of nc control points spaced h mm at n nodes spaced step mm. */
static float *basis(size_t n, double step, double h, size_t nc) {
    float *b = calloc(n * nc, sizeof *b);
    if (!b) return NULL;
    for (size_t i = 0; i < n; i++) {
        double u = (double)i * step / h;
        size_t cell = (size_t)floor(u);
        double w[4];
        bspline4(u - (double)cell, w);
        for (int k = 0; k < 4; k++)
            if (cell + (size_t)k < nc) b[i * nc + cell + (size_t)k] = (float)w[k];
    }
    return b;
}

sb_status sb_mri_session_new(const sb_mr_tissues *m, const sb_subject *s, const sb_volume *tissues,
                             sb_mri_session **out, sb_error *err) {
    *out = NULL;
    if (tissues->dtype != SB_DT_UINT8)
        return sb_error_set(err, SB_ERR_INTERNAL, "tissue map must be uint8, not %s",
                            sb_dtype_name(tissues->dtype));
    sb_mri_session *ss = calloc(1, sizeof *ss);
    if (!ss) return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    ss->m = *m;
    ss->seed = s->seed;
    ss->subject = s->subject;
    size_t nc[3], total = 1, ctot = 1;
    double step[3];
    for (int d = 0; d < 3; d++) {
        ss->dim[d] = tissues->dim[d];
        double sp = tissues->spacing[d] > 0 ? tissues->spacing[d] : 1;
        ss->sv[d] = (size_t)fmax(1, floor(BIAS_NODE_MM / sp + 0.5));
        ss->nn[d] = (ss->dim[d] - 1) / ss->sv[d] + 2;
        step[d] = (double)ss->sv[d] * sp;
        nc[d] = (size_t)ceil((double)(ss->nn[d] - 1) * step[d] / BIAS_LATTICE_MM) + 4;
        total *= ss->nn[d];
        ctot *= nc[d];
    }
    float *coef = malloc(ctot * sizeof *coef);
    float *bx = basis(ss->nn[0], step[0], BIAS_LATTICE_MM, nc[0]);
    float *by = basis(ss->nn[1], step[1], BIAS_LATTICE_MM, nc[1]);
    float *bz = basis(ss->nn[2], step[2], BIAS_LATTICE_MM, nc[2]);
    float *t1 = malloc(nc[2] * nc[1] * ss->nn[0] * sizeof *t1);
    float *t2 = malloc(nc[2] * ss->nn[1] * ss->nn[0] * sizeof *t2);
    ss->g = malloc(total * sizeof *ss->g);
    sb_status st = SB_OK;
    if (!coef || !bx || !by || !bz || !t1 || !t2 || !ss->g)
        st = sb_error_set(err, SB_ERR_MEMORY, "out of memory (bias field)");
    if (!st) {
        sb_rng rng;
        sb_rng_init(&rng, s->seed, s->subject, SB_STREAM_BIAS);
        for (size_t i = 0; i < ctot; i++) {
            double z[2];
            sb_rng_normal_pair(&rng, i, z);
            coef[i] = (float)z[0];
        }
        /* x: (nz_c ny_c) x nx_c  times  bx^T (nx_c x nx) */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)(nc[2] * nc[1]), (int)ss->nn[0],
                    (int)nc[0], 1.0f, coef, (int)nc[0], bx, (int)nc[0], 0.0f, t1, (int)ss->nn[0]);
        /* y: per control plane, by (ny x ny_c) times t1 plane (ny_c x nx) */
        for (size_t cz = 0; cz < nc[2]; cz++)
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)ss->nn[1], (int)ss->nn[0],
                        (int)nc[1], 1.0f, by, (int)nc[1], t1 + cz * nc[1] * ss->nn[0],
                        (int)ss->nn[0], 0.0f, t2 + cz * ss->nn[1] * ss->nn[0], (int)ss->nn[0]);
        /* z: bz (nz x nz_c) times t2 (nz_c x (ny nx)) */
        int plane = (int)(ss->nn[1] * ss->nn[0]);
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)ss->nn[2], plane, (int)nc[2],
                    1.0f, bz, (int)nc[2], t2, plane, 0.0f, ss->g, plane);
        /* normalise over the body: nodes whose nearest voxel is inside it */
        double sum = 0, lo = INFINITY, hi = -INFINITY;
        size_t nbody = 0;
        const uint8_t *T = tissues->data;
        for (size_t k = 0; k < ss->nn[2]; k++)
            for (size_t j = 0; j < ss->nn[1]; j++)
                for (size_t i = 0; i < ss->nn[0]; i++) {
                    size_t vi = i * ss->sv[0], vj = j * ss->sv[1], vk = k * ss->sv[2];
                    if (vi >= ss->dim[0] || vj >= ss->dim[1] || vk >= ss->dim[2]) continue;
                    if (!T[sb_volume_index(tissues, vi, vj, vk)]) continue;
                    double v = ss->g[i + ss->nn[0] * (j + ss->nn[1] * k)];
                    sum += v, nbody++;
                    lo = fmin(lo, v), hi = fmax(hi, v);
                }
        double mean = nbody ? sum / (double)nbody : 0, range = nbody && hi > lo ? hi - lo : 1;
        for (size_t i = 0; i < total; i++) ss->g[i] = (float)((ss->g[i] - mean) / range);
    }
    free(coef), free(bx), free(by), free(bz), free(t1), free(t2);
    if (st) {
        sb_mri_session_free(ss);
        return st;
    }
    *out = ss;
    return SB_OK;
}

void sb_mri_session_free(sb_mri_session *ss) {
    if (!ss) return;
    free(ss->g);
    free(ss);
}

size_t sb_mri_outputs(const sb_acquisition *a, char names[SB_MRI_OUT_MAX][40]) {
    static const char *dixon[5] = {"dixon_water", "dixon_fat", "dixon_in", "dixon_opp", "fatfrac"};
    size_t n = 0;
    switch (a->seq.kind) {
    case SB_SEQ_DIXON:
        for (n = 0; n < 5; n++)
            if (names) snprintf(names[n], sizeof names[n], "%s", dixon[n]);
        return n;
    case SB_SEQ_DWI:
        for (int k = 0; k < a->seq.nb && k < SB_DWI_B_MAX; k++, n++)
            if (names) snprintf(names[n], sizeof names[n], "dwi_b%g", a->seq.b[k]);
        if (a->seq.nb >= 2) {
            if (names) snprintf(names[n], sizeof names[n], "ADC");
            n++;
        }
        return n;
    default:
        if (names) snprintf(names[0], sizeof names[0], "%s", a->name);
        return 1;
    }
}

static sb_status check(const sb_acquisition *a, sb_error *err) {
    const sb_sequence *q = &a->seq;
#define BAD(...) sb_error_set(err, SB_ERR_USAGE, __VA_ARGS__)
    if (!(q->field_t >= 0.5 && q->field_t <= 3.5))
        return BAD("%s: field strength %g T (1.5 or 3 expected)", a->name, q->field_t);
    if (!(q->tr_ms > 0 && q->tr_ms < 100000)) return BAD("%s: TR %g ms", a->name, q->tr_ms);
    if (!(q->fat_suppression >= 0 && q->fat_suppression <= 1))
        return BAD("%s: fat suppression %g (0..1)", a->name, q->fat_suppression);
    if (!(a->snr >= 0 && isfinite(a->snr))) return BAD("%s: SNR %g", a->name, a->snr);
    if (!(a->bias >= 0 && a->bias <= 0.8))
        return BAD("%s: bias amplitude %g (0..0.8)", a->name, a->bias);
    if (sb_tissue_index(a->ref_tissue) <= 0)
        return BAD("%s: reference tissue \"%s\" unknown", a->name, a->ref_tissue);
    if (q->kind != SB_SEQ_DIXON && !(q->te_ms >= 0 && q->te_ms < q->tr_ms))
        return BAD("%s: TE %g ms with TR %g ms", a->name, q->te_ms, q->tr_ms);
    switch (q->kind) {
    case SB_SEQ_SE:
    case SB_SEQ_BSSFP:
        break;
    case SB_SEQ_IR:
        if (!(q->ti_ms > 0 && q->ti_ms < q->tr_ms))
            return BAD("%s: TI %g ms with TR %g ms", a->name, q->ti_ms, q->tr_ms);
        break;
    case SB_SEQ_GRE:
    case SB_SEQ_DIXON:
        if (!(q->flip_deg > 0 && q->flip_deg < 180))
            return BAD("%s: flip angle %g deg", a->name, q->flip_deg);
        if (q->kind == SB_SEQ_GRE) break;
        if (q->necho < 2 || q->necho > SB_DIXON_ECHOES_MAX)
            return BAD("%s: %d echoes (2 or 3)", a->name, q->necho);
        for (int k = 0; k < q->necho; k++)
            if (!(q->te_echo_ms[k] > 0 && q->te_echo_ms[k] < q->tr_ms &&
                  (k == 0 || q->te_echo_ms[k] > q->te_echo_ms[k - 1])))
                return BAD("%s: echo %d TE %g ms (ascending, below TR %g ms)", a->name, k + 1,
                           q->te_echo_ms[k], q->tr_ms);
        break;
    case SB_SEQ_DWI:
        if (q->nb < 1 || q->nb > SB_DWI_B_MAX)
            return BAD("%s: %d b-values (1..%d)", a->name, q->nb, SB_DWI_B_MAX);
        for (int k = 0; k < q->nb; k++)
            if (!(q->b[k] >= 0 && q->b[k] <= 10000 && (k == 0 || q->b[k] > q->b[k - 1])))
                return BAD("%s: b-value %g s/mm^2 (ascending, 0..10000)", a->name, q->b[k]);
        break;
    default:
        return BAD("%s: unknown sequence kind %d", a->name, (int)q->kind);
    }
#undef BAD
    return SB_OK;
}

/* Four standard normals (single precision) from Philox block `n` of a stream. */
static inline void normals4(const uint32_t key[2], uint32_t subject, uint32_t stream, uint64_t n,
                            float z[4]) {
    uint32_t ctr[4] = {subject, stream, (uint32_t)n, (uint32_t)(n >> 32)}, o[4];
    sb_philox4x32_10(ctr, key, o);
    for (int h = 0; h < 2; h++) {
        float u1 = ((float)o[2 * h] + 0.5f) * 2.3283064e-10f; /* (0, 1] */
        float u2 = (float)o[2 * h + 1] * 2.3283064e-10f;
        float r = sqrtf(-2.0f * logf(u1 < 1.0f ? u1 : 1.0f));
        float th = 6.2831853f * u2;
        z[2 * h] = r * cosf(th);
        z[2 * h + 1] = r * sinf(th);
    }
}

enum { CH_MAX = 4 };

static inline float mag(float re, float im) {
    return sqrtf(re * re + im * im); /* |S| < 1e6: no overflow, unlike the cost of hypotf */
}

/* Dixon: real-valued least squares for W, F given decay rate r2s (1/ms). */
static void dixon_solve(const double (*c)[2], const double *te, int ne, const float (*e)[2],
                        double r2s, double *W, double *F) {
    double a11 = 0, a12 = 0, a22 = 0, b1 = 0, b2 = 0;
    for (int k = 0; k < ne; k++) {
        double d = r2s > 0 ? expf((float)(-r2s * te[k])) : 1, d2 = d * d;
        a11 += d2;
        a12 += d2 * c[k][0];
        a22 += d2 * (c[k][0] * c[k][0] + c[k][1] * c[k][1]);
        b1 += d * e[k][0];
        b2 += d * (c[k][0] * e[k][0] + c[k][1] * e[k][1]);
    }
    double det = a11 * a22 - a12 * a12;
    if (!(fabs(det) > 1e-12)) {
        *W = *F = 0;
        return;
    }
    *W = (a22 * b1 - a12 * b2) / det;
    *F = (a11 * b2 - a12 * b1) / det;
}

static inline void put(void *o, sb_dtype dt, float inv_slope, size_t n, float v) {
    if (!o) return;
    if (dt == SB_DT_FLOAT32) {
        ((float *)o)[n] = v;
    } else {
        float x = v * inv_slope;
        x = x > 32767.0f ? 32767.0f : x < -32768.0f ? -32768.0f : x;
        ((int16_t *)o)[n] = (int16_t)lrintf(x);
    }
}

sb_status sb_mri_acquire(const sb_mri_session *ss, const sb_acquisition *a,
                         const sb_volume *tissues, const sb_volume *pv_tissue,
                         const sb_volume *pv_frac, unsigned want, sb_dtype dtype, const sb_ctx *ctx,
                         sb_volume *out[SB_MRI_OUT_MAX], double slope[SB_MRI_OUT_MAX],
                         sb_error *err) {
    for (int k = 0; k < SB_MRI_OUT_MAX; k++) out[k] = NULL, slope[k] = 1;
    if (dtype != SB_DT_FLOAT32 && dtype != SB_DT_INT16)
        return sb_error_set(err, SB_ERR_INTERNAL, "MR images are float32 or int16, not %s",
                            sb_dtype_name(dtype));
    sb_status st = check(a, err);
    if (st) return st;
    if (tissues->dtype != SB_DT_UINT8 || (pv_tissue && pv_tissue->dtype != SB_DT_UINT8) ||
        (pv_frac && pv_frac->dtype != SB_DT_UINT8) || (!pv_tissue) != (!pv_frac))
        return sb_error_set(err, SB_ERR_INTERNAL,
                            "tissue, pv_tissue and pv_frac maps must be uint8 (pv both or none)");
    for (int d = 0; d < 3; d++)
        if (tissues->dim[d] != ss->dim[d] ||
            (pv_tissue && (pv_tissue->dim[d] != ss->dim[d] || pv_frac->dim[d] != ss->dim[d])))
            return sb_error_set(err, SB_ERR_INTERNAL, "maps and session grids differ");
    const sb_sequence *q = &a->seq;
    const sb_mr_tissues *m = &ss->m;
    int nch = q->kind == SB_SEQ_DIXON ? q->necho : q->kind == SB_SEQ_DWI ? q->nb : 1;
    int ref_ch = q->kind == SB_SEQ_DIXON ? 1 : 0;
    float lut[CH_MAX][256][2];
    memset(lut, 0, sizeof lut);
    double te[CH_MAX], fc[CH_MAX][2];
    for (int c = 0; c < nch; c++) {
        te[c] = q->kind == SB_SEQ_DIXON ? q->te_echo_ms[c] : q->te_ms;
        mri_fat_phasor(m, q->field_t, te[c], fc[c]);
        for (size_t t = 1; t < m->count && t < 256; t++) {
            double s[2];
            mri_tissue_signal(m, (int)t, q, te[c], q->kind == SB_SEQ_DWI ? q->b[c] : 0, s);
            lut[c][t][0] = (float)s[0];
            lut[c][t][1] = (float)s[1];
        }
    }
    int ref = sb_tissue_index(a->ref_tissue);
    double sref = hypot(lut[ref_ch][ref][0], lut[ref_ch][ref][1]);
    if (a->snr > 0 && !(sref > 0))
        return sb_error_set(err, SB_ERR_USAGE, "%s: reference tissue %s gives no signal", a->name,
                            a->ref_tissue);
    const float sigma = a->snr > 0 ? (float)(sref / a->snr) : 0.0f;
    const float amp = (float)a->bias;

    /* int16 scale: the largest magnitude possible (brightest tissue at the top of the bias
     * field plus the largest Box–Muller radius, 6.7 sigma) maps to 32767; fat fraction
     * -50..150 %, ADC 0..5000 x 10^-6 mm^2/s. */
    double smax = 0;
    for (int c = 0; c < nch; c++)
        for (size_t t = 1; t < m->count && t < 256; t++)
            smax = fmax(smax, hypot(lut[c][t][0], lut[c][t][1]));
    double mag_bound = smax * (1 + a->bias) * (q->kind == SB_SEQ_DIXON ? 2 : 1) + 6.7 * sigma;
    if (!(mag_bound > 0)) mag_bound = 1;
    size_t nout = sb_mri_outputs(a, NULL);
    float inv[SB_MRI_OUT_MAX];
    for (size_t k = 0; k < nout; k++) {
        int is_ff = q->kind == SB_SEQ_DIXON && k == 4;
        int is_adc = q->kind == SB_SEQ_DWI && (int)k == q->nb;
        double bound = is_ff ? 150 : is_adc ? 5000 : mag_bound;
        slope[k] = dtype == SB_DT_INT16 ? bound / 32767 : 1;
        inv[k] = (float)(1 / slope[k]);
        if (!(want & (1u << k))) continue;
        st = sb_volume_create(tissues->dim, tissues->spacing, dtype, &out[k], err);
        if (st) {
            for (size_t j = 0; j < k; j++) sb_volume_free(out[j]), out[j] = NULL;
            return st;
        }
        memcpy(out[k]->affine, tissues->affine, sizeof out[k]->affine);
    }
    void *o[SB_MRI_OUT_MAX] = {0};
    for (size_t k = 0; k < nout; k++) o[k] = out[k] ? out[k]->data : NULL;

    const uint8_t *T = tissues->data, *P = pv_tissue ? pv_tissue->data : NULL,
                  *Fr = pv_frac ? pv_frac->data : NULL;
    const size_t nx = ss->dim[0], ny = ss->dim[1], nz = ss->dim[2];
    const uint32_t key[2] = {(uint32_t)ss->seed, (uint32_t)(ss->seed >> 32)};
    const uint32_t stream0 = SB_STREAM_NOISE + 256u * a->id;
    const size_t *sv = ss->sv, *nn = ss->nn;
    const float *g = ss->g;
    const double b_lo = q->kind == SB_SEQ_DWI ? q->b[0] : 0,
                 b_hi = q->kind == SB_SEQ_DWI ? q->b[q->nb - 1] : 0;
    const long nzl = (long)nz;
    size_t *ix0 = NULL;
    float *wxa = NULL;
    if (amp > 0) {
        ix0 = malloc(nx * sizeof *ix0);
        wxa = malloc(nx * sizeof *wxa);
        if (!ix0 || !wxa) {
            free(ix0), free(wxa);
            for (size_t k = 0; k < nout; k++) sb_volume_free(out[k]), out[k] = NULL;
            return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
        }
        for (size_t i = 0; i < nx; i++) {
            ix0[i] = i / sv[0];
            wxa[i] = (float)(i % sv[0]) / (float)sv[0];
        }
    }

#pragma omp parallel for schedule(dynamic, 1) num_threads(sb_ctx_threads(ctx))
    for (long kk = 0; kk < nzl; kk++) {
        size_t k = (size_t)kk;
        size_t k0 = k / sv[2];
        float wz = (float)(k % sv[2]) / (float)sv[2];
        uint64_t zblk[CH_MAX] = {UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX};
        float zc[CH_MAX][4];
        /* the bias along one row: bilinear in (y, z) at each x node, then linear in x */
        float *rowb = amp > 0 && ix0 ? malloc((nx + nn[0]) * sizeof *rowb) : NULL;
        float *rown = rowb ? rowb + nx : NULL;
        for (size_t j = 0; j < ny; j++) {
            size_t j0 = j / sv[1];
            float wy = (float)(j % sv[1]) / (float)sv[1];
            if (rowb) {
                const float *g0 = g + nn[0] * (j0 + nn[1] * k0);
                size_t sy = nn[0], sz = nn[0] * nn[1];
                for (size_t a0 = 0; a0 < nn[0]; a0++) {
                    float c0 = g0[a0] + wy * (g0[a0 + sy] - g0[a0]);
                    float c1 = g0[a0 + sz] + wy * (g0[a0 + sz + sy] - g0[a0 + sz]);
                    rown[a0] = c0 + wz * (c1 - c0);
                }
                for (size_t i = 0; i < nx; i++)
                    rowb[i] = rown[ix0[i]] + wxa[i] * (rown[ix0[i] + 1] - rown[ix0[i]]);
            }
            for (size_t i = 0; i < nx; i++) {
                size_t n = i + nx * (j + ny * k);
                float bias = 1.0f;
                if (rowb) {
                    bias = 1.0f + amp * rowb[i];
                    bias = fminf(1.0f + amp, fmaxf(1.0f - amp, bias)); /* outside the body */
                }
                int t = T[n], p = P ? P[n] : t;
                float f = Fr ? (float)Fr[n] * (1.0f / 255.0f) : 1.0f;
                float e[CH_MAX][2] = {{0}};
                for (int c = 0; c < nch; c++) {
                    float zr = 0, zi = 0;
                    if (sigma > 0) { /* block n/2 of stream c: voxels 2m and 2m+1 share it */
                        uint64_t blk = (uint64_t)n >> 1;
                        if (blk != zblk[c]) {
                            normals4(key, ss->subject, stream0 + (uint32_t)c, blk, zc[c]);
                            zblk[c] = blk;
                        }
                        zr = zc[c][2 * (n & 1)], zi = zc[c][2 * (n & 1) + 1];
                    }
                    float re = f * lut[c][t][0] + (1 - f) * lut[c][p][0];
                    float im = f * lut[c][t][1] + (1 - f) * lut[c][p][1];
                    e[c][0] = bias * re + sigma * zr;
                    e[c][1] = bias * im + sigma * zi;
                }
                if (q->kind == SB_SEQ_DIXON) {
                    double r2s = 0;
                    if (nch >= 3) {
                        double a0 = mag(e[0][0], e[0][1]), a2 = mag(e[2][0], e[2][1]);
                        double dt = te[2] - te[0];
                        if (a0 > 3 * sigma && a2 > 0) {
                            r2s = fmin(0.5, fmax(0, logf((float)(a0 / a2)) / dt));
                            double W, F;
                            dixon_solve((const double(*)[2])fc, te, nch, (const float(*)[2])e, r2s,
                                        &W, &F);
                            double m0 = mag((float)(W + F * fc[0][0]), (float)(F * fc[0][1])),
                                   m2 = mag((float)(W + F * fc[2][0]), (float)(F * fc[2][1]));
                            if (m0 > 0 && m2 > 0)
                                r2s = fmin(0.5, fmax(0, logf((float)(a0 / a2 * m2 / m0)) / dt));
                        }
                    }
                    double W, F;
                    dixon_solve((const double(*)[2])fc, te, nch, (const float(*)[2])e, r2s, &W, &F);
                    put(o[0], dtype, inv[0], n, (float)fabs(W));
                    put(o[1], dtype, inv[1], n, (float)fabs(F));
                    put(o[2], dtype, inv[2], n, mag(e[1][0], e[1][1]));
                    put(o[3], dtype, inv[3], n, mag(e[0][0], e[0][1]));
                    double sum = W + F;
                    double ff = sum > 5 * sigma && sum > 1e-3 ? 100 * F / sum : 0;
                    put(o[4], dtype, inv[4], n, (float)fmin(150, fmax(-50, ff)));
                } else if (q->kind == SB_SEQ_DWI) {
                    for (int c = 0; c < nch; c++)
                        put(o[c], dtype, inv[c], n, mag(e[c][0], e[c][1]));
                    if (nch >= 2) {
                        float lo = mag(e[0][0], e[0][1]), hi = mag(e[nch - 1][0], e[nch - 1][1]);
                        double adc = lo > 3 * sigma && hi > 0 ? logf(lo / hi) / (b_hi - b_lo) : 0;
                        put(o[nch], dtype, inv[nch], n, (float)fmin(5000, fmax(0, adc * 1e6)));
                    }
                } else {
                    put(o[0], dtype, inv[0], n, mag(e[0][0], e[0][1]));
                }
            }
        }
        free(rowb);
    }
    free(ix0);
    free(wxa);
    return SB_OK;
}
