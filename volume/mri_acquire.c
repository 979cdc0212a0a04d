/* mri_acquire.c — from tissue maps to MR images: partial-volume mixing of the complex pure-tissue
 * signals, tissue texture, receive bias field, k-space truncation, complex Gaussian noise,
 * magnitude; Dixon water/fat separation and ADC maps.
 *
 * Passes per acquisition (parallel over z planes, row by row; every voxel depends only on its
 * own index, so any thread count gives the same bytes):
 *   1. look-up tables: the complex signal of every pure tissue for each channel (echo, b-value)
 *      from the sequence equations (mri_signal.c); noise sigma = |S(ref_tissue)| / SNR on the
 *      reference channel (Dixon: the in-phase echo; DWI: the lowest b).
 *   2. row_signal, per channel: S = f S(t) m_t + (1 - f) S(p) m_p (complex, so fat and water and
 *      the two sides of an IR null cancel as they do in a real voxel; m = 1 + A g the texture
 *      factors), times the bias field; rows of air are zeros.
 *   3. with k-space truncation only: every row's S kept, each channel truncated in k-space
 *      axis by axis (mri_kspace.c), then read back row by row.
 *   4. row_finish: plus sigma (z1 + i z2), z from Philox4x32-10 block n/2 of stream (seed,
 *      subject, NOISE + 256 id + channel) for voxel n (mri_noise.c, whole rows at once); then
 *      magnitudes (Gudbjartsson & Patz, MRM 1995: Rician in tissue, Rayleigh in air). Magnitude
 *      images (all but Dixon) draw the air on either side of a row's signal (noiseless S = 0)
 *      as sigma sqrt(-2 ln u), u from word n & 3 of block n/4 of stream + 128: the Rayleigh
 *      law of |sigma (z1 + i z2)| from one uniform (a quarter of a Philox block a voxel
 *      instead of half, no sin or cos; row_magnitude);
 *      Dixon: real-valued least squares for water W and fat F with the fat spectrum
 *      (Yu et al., MRM 2008 multi-peak model; no B0 phase is simulated, so W and F are real) —
 *      a fixed linear map of the echoes at R2* = 0, and with 3 echoes, where the first echo
 *      stands above 3 sigma, an R2* from the two opposed-phase echoes (corrected once for the
 *      spectrum) — fat fraction F / (W + F) in %; DWI: ADC = ln(S_lo / S_hi) / (b_hi - b_lo);
 *      int16 rounding. The stages are plain loops over a row that the compiler vectorises.
 *
 * Bias field: a receive-coil-like smooth field, 1 + A (g - mean) / (max - min) over the body,
 * g a tensor-product cubic B-spline with N(0,1) coefficients on a 150 mm lattice (SB_STREAM_BIAS),
 * evaluated by three sgemm mode products on nodes every ~8 mm and trilinearly in between, so
 * its range over the body is A (BrainWeb's "20 % / 40 % INU" convention).
 * Texture: four unit-SD cubic B-spline fields on a 6 mm lattice (SB_STREAM_TEXTURE), each
 * tissue using one with a random sign (fluids, T2 > 250 ms at 1.5 T, none), evaluated per
 * row from a per-plane contraction of the coefficients (4 weights per axis).
 */
#include "mri_internal.h"

#include <cblas.h>
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define BIAS_LATTICE_MM 150.0
#define BIAS_NODE_MM 8.0
#define TEX_LATTICE_MM 6.0
#define TEX_FIELDS 4
#define TEX_FLUID_T2_MS 250.0
/* fat-water swap: BIAS-stream blocks of the node keys and of the draw; ball radius range */
#define SWAP_NODE_BLOCK ((uint64_t)1 << 56)
#define SWAP_DRAW_BLOCK ((uint64_t)1 << 57)
#define SWAP_R_MIN_MM 50.0
#define SWAP_R_MAX_MM 150.0
/* SD of a cubic B-spline field with N(0,1) coefficients, averaged over a cell: the integral
 * of sum_k w_k(t)^2 over t in [0, 1) is 151/315 per axis, so sqrt((151/315)^3). */
#define TEX_FIELD_SD 0.33189

struct sb_mri_session {
    sb_mr_tissues m;
    uint64_t seed;
    uint32_t subject;
    size_t dim[3];
    size_t sv[3], nn[3]; /* node spacing (voxels) and node counts per axis */
    float *g; /* normalised field shapes, (g - mean) / (max - min) over the body in the station:
                 nst fields of nn[0] nn[1] nn[2] nodes, station 0 first */
    /* stations along z (sb_mri_session_setup): station s covers planes [s step, s step + len] */
    int nst;
    double st_len, st_step; /* planes */
    double vsp[3];          /* voxel spacing (mm) */
    uint16_t *plane_st;     /* per plane: the lower station covering it */
    float *plane_w;         /* per plane: weight of station plane_st + 1 (in an overlap), else 0 */
    /* fat-water swap (sb_mri_session_setup): a ball around the body node of least key */
    double swap_p;
    int swapped;
    double swap_c[3], swap_r_mm, swap_key;
    /* texture: TEX_FIELDS unit-SD cubic B-spline fields of tnc control points per axis */
    size_t tnc[3];
    uint8_t tfield[256]; /* the field of each tissue */
    float tsign[256];    /* its sign; 0: no texture (fluids, air) */
    /* normalisation of g over the body, gathered slab by slab (sb_mri_session_body) */
    size_t next_node; /* the next node plane to visit */
    double sum[SB_STATIONS_MAX], lo[SB_STATIONS_MAX], hi[SB_STATIONS_MAX];
    size_t nbody[SB_STATIONS_MAX];
    int finished;
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

/* The bias field shape of station st (coefficients from the BIAS stream: station 0 blocks
 * 0 .. , station s > 0 blocks (s << 40) + ..) on the nodes, into g (nn[0] nn[1] nn[2]). */
static int bias_shape(const sb_mri_session *ss, const double step[3], int st, float *g) {
    size_t nc[3], ctot = 1;
    for (int d = 0; d < 3; d++) {
        nc[d] = (size_t)ceil((double)(ss->nn[d] - 1) * step[d] / BIAS_LATTICE_MM) + 4;
        ctot *= nc[d];
    }
    float *coef = malloc(ctot * sizeof *coef);
    float *bx = basis(ss->nn[0], step[0], BIAS_LATTICE_MM, nc[0]);
    float *by = basis(ss->nn[1], step[1], BIAS_LATTICE_MM, nc[1]);
    float *bz = basis(ss->nn[2], step[2], BIAS_LATTICE_MM, nc[2]);
    float *t1 = malloc(nc[2] * nc[1] * ss->nn[0] * sizeof *t1);
    float *t2 = malloc(nc[2] * ss->nn[1] * ss->nn[0] * sizeof *t2);
    int ok = coef && bx && by && bz && t1 && t2;
    if (ok) {
        sb_rng rng;
        sb_rng_init(&rng, ss->seed, ss->subject, SB_STREAM_BIAS);
        uint64_t first = (uint64_t)st << 40;
        for (size_t i = 0; i < ctot; i++) {
            double z[2];
            sb_rng_normal_pair(&rng, first + i, z);
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
                    1.0f, bz, (int)nc[2], t2, plane, 0.0f, g, plane);
    }
    free(coef), free(bx), free(by), free(bz), free(t1), free(t2);
    return ok;
}

static void node_steps(const sb_mri_session *ss, double step[3]) {
    for (int d = 0; d < 3; d++) step[d] = (double)ss->sv[d] * ss->vsp[d];
}

sb_status sb_mri_session_begin(const sb_mr_tissues *m, const sb_subject *s, const sb_volume *grid,
                               sb_mri_session **out, sb_error *err) {
    *out = NULL;
    sb_mri_session *ss = calloc(1, sizeof *ss);
    if (!ss) return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    ss->m = *m;
    ss->seed = s->seed;
    for (int t = 0; t < SB_STATIONS_MAX; t++) ss->lo[t] = INFINITY, ss->hi[t] = -INFINITY;
    ss->subject = s->subject;
    size_t total = 1;
    double step[3];
    for (int d = 0; d < 3; d++) {
        ss->dim[d] = grid->dim[d];
        double sp = grid->spacing[d] > 0 ? grid->spacing[d] : 1;
        ss->sv[d] = (size_t)fmax(1, floor(BIAS_NODE_MM / sp + 0.5));
        ss->nn[d] = (ss->dim[d] - 1) / ss->sv[d] + 2;
        step[d] = (double)ss->sv[d] * sp;
        ss->vsp[d] = sp;
        total *= ss->nn[d];
    }
    ss->nst = 1;
    ss->st_len = (double)(ss->dim[2] ? ss->dim[2] - 1 : 0);
    ss->st_step = ss->st_len;
    ss->swap_key = INFINITY;
    ss->g = malloc(total * sizeof *ss->g);
    ss->plane_st = calloc(ss->dim[2] ? ss->dim[2] : 1, sizeof *ss->plane_st);
    ss->plane_w = calloc(ss->dim[2] ? ss->dim[2] : 1, sizeof *ss->plane_w);
    sb_status st = SB_OK;
    if (!ss->g || !ss->plane_st || !ss->plane_w || !bias_shape(ss, step, 0, ss->g))
        st = sb_error_set(err, SB_ERR_MEMORY, "out of memory (bias field)");
    if (!st) { /* texture coefficients and each tissue's field and sign (SB_STREAM_TEXTURE) */
        size_t tn = TEX_FIELDS;
        for (int d = 0; d < 3; d++) {
            double sp = grid->spacing[d] > 0 ? grid->spacing[d] : 1;
            ss->tnc[d] = (size_t)floor((double)(ss->dim[d] - 1) * sp / TEX_LATTICE_MM) + 4;
            tn *= ss->tnc[d];
        }
        size_t nblk = (tn + 3) / 4; /* blocks 0 .. nblk - 1: the coefficients (texture_coefs) */
        sb_rng rng;
        sb_rng_init(&rng, s->seed, s->subject, SB_STREAM_TEXTURE);
        sb_rng_seek(&rng, nblk);
        for (size_t t = 1; t < m->count && t < 256; t++) {
            uint32_t u = sb_rng_u32(&rng);
            ss->tfield[t] = (uint8_t)(u % TEX_FIELDS);
            int fluid = m->t[t].t2_ms[SB_FIELD_1T5] > TEX_FLUID_T2_MS || m->t[t].pd <= 0;
            ss->tsign[t] = fluid ? 0.0f : (u >> 16) & 1 ? 1.0f : -1.0f;
        }
    }
    if (st) {
        sb_mri_session_free(ss);
        return st;
    }
    *out = ss;
    return SB_OK;
}

/* Does station t cover plane position k (planes)? */
static int station_covers(const sb_mri_session *ss, int t, double k) {
    double z0 = (double)t * ss->st_step;
    return ss->nst == 1 || (k >= z0 - 1e-9 && k <= z0 + ss->st_len + 1e-9);
}

/* The stations' length and step in planes of a grid of nz planes spaced spz mm. */
static sb_status setup_geometry(const sb_mri_setup *o, size_t nz, double spz, double *len,
                                double *step, sb_error *err) {
    int n = o->stations > 0 ? o->stations : 1;
    if (n > SB_STATIONS_MAX)
        return sb_error_set(err, SB_ERR_USAGE, "%d stations (1..%d)", n, SB_STATIONS_MAX);
    if (!(o->overlap_mm >= 0 && o->overlap_mm <= 1000))
        return sb_error_set(err, SB_ERR_USAGE, "station overlap %g mm (0..1000)", o->overlap_mm);
    if (!(o->fat_water_swap >= 0 && o->fat_water_swap <= 1))
        return sb_error_set(err, SB_ERR_USAGE, "fat-water swap probability %g (0..1)",
                            o->fat_water_swap);
    double zlen = (double)(nz ? nz - 1 : 0), ov = o->overlap_mm / spz;
    *len = (zlen + (n - 1) * ov) / n, *step = n > 1 ? *len - ov : *len;
    if (n > 1 && !(*step >= ov && *step > 0))
        return sb_error_set(err, SB_ERR_USAGE,
                            "%d stations overlapping by %g mm do not fit the grid's %.0f mm "
                            "along z (a station must be at least twice the overlap)",
                            n, o->overlap_mm, zlen * spz);
    return SB_OK;
}

sb_status sb_mri_setup_check(const sb_mri_setup *o, const sb_volume *grid, sb_error *err) {
    double len = 0, step = 0;
    return setup_geometry(o, grid->dim[2], grid->spacing[2] > 0 ? grid->spacing[2] : 1, &len, &step,
                          err);
}

sb_status sb_mri_session_setup(sb_mri_session *ss, const sb_mri_setup *o, sb_error *err) {
    if (ss->next_node || ss->finished)
        return sb_error_set(err, SB_ERR_INTERNAL, "sb_mri_session_setup after the body");
    double len = 0, step = 0;
    sb_status st = setup_geometry(o, ss->dim[2], ss->vsp[2], &len, &step, err);
    if (st) return st;
    int n = o->stations > 0 ? o->stations : 1;
    double ov = o->overlap_mm / ss->vsp[2];
    ss->swap_p = o->fat_water_swap;
    if (n == 1) return SB_OK;
    size_t total = ss->nn[0] * ss->nn[1] * ss->nn[2];
    float *g = realloc(ss->g, (size_t)n * total * sizeof *g);
    if (!g) return sb_error_set(err, SB_ERR_MEMORY, "out of memory (bias fields)");
    ss->g = g;
    double nstep[3];
    node_steps(ss, nstep);
    for (int t = 1; t < n; t++)
        if (!bias_shape(ss, nstep, t, g + (size_t)t * total))
            return sb_error_set(err, SB_ERR_MEMORY, "out of memory (bias fields)");
    ss->nst = n;
    ss->st_len = len;
    ss->st_step = step;
    for (size_t k = 0; k < ss->dim[2]; k++) {
        double kk = (double)k;
        int t = (int)fmin(n - 1, floor(kk / step));
        if (t > 0 && ov > 0 && kk <= (double)t * step + ov) { /* overlap of t - 1 and t */
            ss->plane_st[k] = (uint16_t)(t - 1);
            ss->plane_w[k] = (float)((kk - (double)t * step) / ov);
        } else {
            ss->plane_st[k] = (uint16_t)t;
            ss->plane_w[k] = 0;
        }
    }
    return SB_OK;
}

int sb_mri_session_stations(const sb_mri_session *ss, double *step, double *len) {
    if (step) *step = ss->st_step;
    if (len) *len = ss->st_len;
    return ss->nst;
}

int sb_mri_session_swap(const sb_mri_session *ss, double centre_vox[3], double *radius_mm) {
    if (!ss->swapped) return 0;
    for (int d = 0; d < 3; d++) centre_vox[d] = ss->swap_c[d];
    *radius_mm = ss->swap_r_mm;
    return 1;
}

/* Normalisation statistics of each station's field over the body in the station: the nodes
 * whose nearest voxel is inside it, visited plane by plane in ascending order (the same sums
 * whatever the slabs); and the candidate centre of a fat-water swap. */
sb_status sb_mri_session_body(sb_mri_session *ss, const sb_volume *tissues, size_t k0,
                              sb_error *err) {
    if (tissues->dtype != SB_DT_UINT8 || tissues->dim[0] != ss->dim[0] ||
        tissues->dim[1] != ss->dim[1] || k0 + tissues->dim[2] > ss->dim[2])
        return sb_error_set(err, SB_ERR_INTERNAL, "tissue slab does not fit the session grid");
    const uint8_t *T = tissues->data;
    size_t plane = ss->dim[0] * ss->dim[1], total = ss->nn[0] * ss->nn[1] * ss->nn[2];
    sb_rng rng;
    sb_rng_init(&rng, ss->seed, ss->subject, SB_STREAM_BIAS);
    for (; ss->next_node < ss->nn[2]; ss->next_node++) {
        size_t vk = ss->next_node * ss->sv[2];
        if (vk >= ss->dim[2] || vk >= k0 + tissues->dim[2]) break;
        if (vk < k0)
            return sb_error_set(err, SB_ERR_INTERNAL, "node plane %zu of the bias field skipped",
                                vk);
        for (int t = 0; t < ss->nst; t++) {
            if (!station_covers(ss, t, (double)vk)) continue;
            const float *g = ss->g + (size_t)t * total + ss->nn[0] * ss->nn[1] * ss->next_node;
            for (size_t j = 0; j < ss->nn[1]; j++)
                for (size_t i = 0; i < ss->nn[0]; i++) {
                    size_t vi = i * ss->sv[0], vj = j * ss->sv[1];
                    if (vi >= ss->dim[0] || vj >= ss->dim[1]) continue;
                    if (!T[vi + ss->dim[0] * vj + plane * (vk - k0)]) continue;
                    double v = g[i + ss->nn[0] * j];
                    ss->sum[t] += v, ss->nbody[t]++;
                    ss->lo[t] = fmin(ss->lo[t], v), ss->hi[t] = fmax(ss->hi[t], v);
                }
        }
        for (size_t j = 0; ss->swap_p > 0 && j < ss->nn[1]; j++)
            for (size_t i = 0; i < ss->nn[0]; i++) {
                size_t vi = i * ss->sv[0], vj = j * ss->sv[1];
                if (vi >= ss->dim[0] || vj >= ss->dim[1]) continue;
                if (!T[vi + ss->dim[0] * vj + plane * (vk - k0)]) continue;
                double z[2]; /* a key per node: the least one over the body is a uniform pick */
                sb_rng_normal_pair(
                    &rng, SWAP_NODE_BLOCK + i + ss->nn[0] * (j + ss->nn[1] * ss->next_node), z);
                if (z[0] < ss->swap_key) {
                    ss->swap_key = z[0];
                    ss->swap_c[0] = (double)vi, ss->swap_c[1] = (double)vj,
                    ss->swap_c[2] = (double)vk;
                }
            }
    }
    return SB_OK;
}

size_t sb_mri_session_node_step(const sb_mri_session *ss) {
    return ss->sv[2];
}

sb_status sb_mri_session_finish(sb_mri_session *ss, sb_error *err) {
    if (ss->next_node < ss->nn[2] && ss->next_node * ss->sv[2] < ss->dim[2])
        return sb_error_set(err, SB_ERR_INTERNAL, "bias field: node planes from %zu not seen",
                            ss->next_node * ss->sv[2]);
    size_t total = ss->nn[0] * ss->nn[1] * ss->nn[2];
    for (int t = 0; t < ss->nst; t++) {
        double mean = ss->nbody[t] ? ss->sum[t] / (double)ss->nbody[t] : 0,
               range = ss->nbody[t] && ss->hi[t] > ss->lo[t] ? ss->hi[t] - ss->lo[t] : 1;
        float *g = ss->g + (size_t)t * total;
        for (size_t i = 0; i < total; i++) g[i] = (float)((g[i] - mean) / range);
    }
    if (ss->swap_p > 0 && isfinite(ss->swap_key)) { /* does it happen, and how large */
        sb_rng rng;
        sb_rng_init(&rng, ss->seed, ss->subject, SB_STREAM_BIAS);
        sb_rng_seek(&rng, SWAP_DRAW_BLOCK);
        double u = sb_rng_uniform(&rng), r = sb_rng_uniform(&rng);
        ss->swapped = u < ss->swap_p;
        ss->swap_r_mm = SWAP_R_MIN_MM + (SWAP_R_MAX_MM - SWAP_R_MIN_MM) * r;
    }
    ss->finished = 1;
    return SB_OK;
}

sb_status sb_mri_session_new(const sb_mr_tissues *m, const sb_subject *s, const sb_volume *tissues,
                             sb_mri_session **out, sb_error *err) {
    sb_status st = sb_mri_session_begin(m, s, tissues, out, err);
    if (!st) st = sb_mri_session_body(*out, tissues, 0, err);
    if (!st) st = sb_mri_session_finish(*out, err);
    if (st) sb_mri_session_free(*out), *out = NULL;
    return st;
}

void sb_mri_session_free(sb_mri_session *ss) {
    if (!ss) return;
    free(ss->g);
    free(ss->plane_st);
    free(ss->plane_w);
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
    if (!(a->flow_cm_s >= 0 && a->flow_cm_s <= 500))
        return BAD("%s: blood flow velocity %g cm/s (0..500)", a->name, a->flow_cm_s);
    if (!(a->ghost >= 0 && a->ghost <= 0.5))
        return BAD("%s: ghosting amplitude %g (0..0.5)", a->name, a->ghost);
    if (a->ghost_period != 0 && (a->ghost_period < 2 || a->ghost_period > 1024))
        return BAD("%s: ghost period %d lines (2..1024)", a->name, a->ghost_period);
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

enum { CH_MAX = 4 };

/* The row loops in AVX-512, AVX2 and plain builds, chosen at load time: plain IEEE
 * single-precision operations without contraction (ISO C mode), so every build gives the same
 * bits (as mri_normals' clones; checked against the plain build on every contrast of
 * oncology-wb). */
#define ROW_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))

/* int16 magnitude images: steps per noise sigma at most. Finer steps only store noise: at
 * 16 the rounding adds 1/(12 x 256) = 0.03 % to the noise variance (scanners' 12-bit images
 * keep a few counts per sigma), and noisy images then compress 1.5x smaller and ~1.8x faster
 * than at the full int16 range (seed 1, 2 mm, in-phase Dixon: 116 -> 76 MB). */
#define NOISE_STEPS 16.0

static inline float mag(float re, float im) {
    return sqrtf(re * re + im * im); /* |S| < 1e6: no overflow, unlike the cost of hypotf */
}

#if defined(__x86_64__) && defined(__GNUC__)
#define HAVE_ROW_AVX512 1
/* store_row's int16 loop for AVX-512: min (hi, x) and max (lo, x) are x > hi ? hi : x and
 * x < lo ? lo : x (the second operand where either is a NaN), then the same additions, the
 * truncating conversion and its low 16 bits: the same values as the loop below, which GCC 12
 * vectorises with 8-float conversions and integer blends (3x the time). */
__attribute__((target("avx512f"))) static void store16_avx512(int16_t *d, float inv_slope,
                                                              const float *v, size_t nx) {
    const __m512 s = _mm512_set1_ps(inv_slope), hi = _mm512_set1_ps(32767.0f),
                 lo = _mm512_set1_ps(-32768.0f), r = _mm512_set1_ps(12582912.0f);
    for (size_t i = 0; i < nx; i += 16) {
        const __mmask16 k = nx - i >= 16 ? 0xffff : (__mmask16)((1u << (nx - i)) - 1);
        __m512 x = _mm512_mul_ps(_mm512_maskz_loadu_ps(k, v + i), s);
        x = _mm512_max_ps(lo, _mm512_min_ps(hi, x));
        x = _mm512_sub_ps(_mm512_add_ps(x, r), r);
        _mm512_mask_cvtepi32_storeu_epi16(d + i, k, _mm512_cvttps_epi32(x));
    }
}

/* row_signal's bias row for AVX-512 (GCC 12 leaves that loop scalar: it does not gather
 * through the node index): the same operations, b = 1 + amp (n0 + w (n1 - n0)), then
 * min (1 + amp, b) and max (1 - amp, b), which are the loop's two clamps (see store16_avx512). */
__attribute__((target("avx512f"))) static void bias_avx512(const float *node, const uint32_t *ix0,
                                                           const float *wxa, float amp, float *bias,
                                                           size_t nx) {
    const __m512 one = _mm512_set1_ps(1.0f), a = _mm512_set1_ps(amp),
                 hi = _mm512_set1_ps(1.0f + amp), lo = _mm512_set1_ps(1.0f - amp);
    for (size_t i = 0; i < nx; i += 16) {
        const __mmask16 k = nx - i >= 16 ? 0xffff : (__mmask16)((1u << (nx - i)) - 1);
        const __m512i x0 = _mm512_maskz_loadu_epi32(k, ix0 + i);
        const __m512 n0 = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), k, x0, node, 4),
                     n1 = _mm512_mask_i32gather_ps(_mm512_setzero_ps(), k,
                                                   _mm512_add_epi32(x0, _mm512_set1_epi32(1)), node,
                                                   4);
        const __m512 w = _mm512_maskz_loadu_ps(k, wxa + i);
        __m512 b = _mm512_add_ps(
            one, _mm512_mul_ps(a, _mm512_add_ps(n0, _mm512_mul_ps(w, _mm512_sub_ps(n1, n0)))));
        b = _mm512_max_ps(lo, _mm512_min_ps(hi, b));
        _mm512_mask_storeu_ps(bias + i, k, b);
    }
}
#endif

/* One row of output values to the image: float32 as is, int16 as round(v / slope) clamped.
 * Rounding to nearest even by adding and subtracting 1.5 x 2^23 (|x| <= 32768) equals lrintf
 * in the default rounding mode and vectorises. */
static void store_row(void *o, sb_dtype dt, float inv_slope, size_t n0, const float *v, size_t nx) {
    if (!o) return;
    if (dt == SB_DT_FLOAT32) {
        memcpy((float *)o + n0, v, nx * sizeof *v);
        return;
    }
    int16_t *d = (int16_t *)o + n0;
#ifdef HAVE_ROW_AVX512
    if (__builtin_cpu_supports("avx512f")) {
        store16_avx512(d, inv_slope, v, nx);
        return;
    }
#endif
    for (size_t i = 0; i < nx; i++) {
        float x = v[i] * inv_slope;
        x = x > 32767.0f ? 32767.0f : x < -32768.0f ? -32768.0f : x;
        x = (x + 12582912.0f) - 12582912.0f;
        d[i] = (int16_t)(int32_t)x;
    }
}

/* Everything a row needs, shared read-only by the threads. */
typedef struct {
    const sb_mri_session *ss;
    const sb_sequence *q;
    const uint8_t *T, *P, *Fr;
    float lut[CH_MAX][256][2];
    double te[CH_MAX], fc[CH_MAX][2];
    float wco[CH_MAX][2], fco[CH_MAX][2]; /* Dixon W, F = sum_k co[k] . e_k when R2* = 0 */
    int nch;
    float sigma, amp;
    uint32_t stream0;
    const uint32_t *ix0; /* bias: each voxel's x node */
    const float *wxa;
    void *o[SB_MRI_OUT_MAX];
    float inv[SB_MRI_OUT_MAX];
    sb_dtype dtype;
    double b_lo, b_hi;
    size_t nblk_max;
    double spacing[3];
    float tamp[256]; /* texture amplitude x sign per tissue; all 0: no texture */
    int textured;
    float *tc;   /* texture coefficients tc[f][cz][cy][cx] (texture_coefs) */
    size_t *tcx; /* texture along x: first control point and 4 weights per voxel */
    float *twx;
    float *sig;       /* k-space path: the noiseless complex images, nch x voxels x 2 */
    mri_ghost *ghost; /* motion ghosting (NULL: none) */
    size_t k0;        /* the slab's first plane: maps and outputs hold planes k0 .. */
} acq_ctx;

/* Per-thread scratch rows. */
typedef struct {
    float *z, *ra, *er, *ei, *val, *bias, *node;
    float *pl;     /* ghosting without k-space truncation: the plane's complex signals, nch x 2 */
    uint32_t *idx; /* Dixon with R2*: the row's voxels fitted, */
    float *dx;     /* their echoes (6 rows of them) and results (2 rows) */
    float *tp, *tr, *tg, *mt, *mp; /* texture: plane and row contractions, fields, factors */
    size_t tk;                     /* plane of tp (SIZE_MAX: none yet) */
} acq_rows;

static void rows_free(acq_rows *r) {
    free(r->z), free(r->ra), free(r->er), free(r->ei), free(r->val), free(r->bias), free(r->node),
        free(r->idx);
    free(r->dx);
    free(r->tp), free(r->tr), free(r->tg), free(r->mt), free(r->mp), free(r->pl);
}

static int rows_alloc(acq_rows *r, const acq_ctx *c) {
    size_t nx = c->ss->dim[0];
    r->z = calloc(CH_MAX * 4 * c->nblk_max, sizeof *r->z); /* zeros: the noise when SNR is 0 */
    r->ra = malloc((nx + 16) * sizeof *r->ra);
    r->er = malloc(CH_MAX * nx * sizeof *r->er);
    r->ei = malloc(CH_MAX * nx * sizeof *r->ei);
    r->val = malloc(SB_MRI_OUT_MAX * nx * sizeof *r->val);
    r->bias = malloc(nx * sizeof *r->bias);
    r->node = malloc(c->ss->nn[0] * sizeof *r->node);
    r->idx = malloc(nx * sizeof *r->idx);
    r->dx = malloc(8 * nx * sizeof *r->dx);
    const size_t *tnc = c->ss->tnc;
    r->tp = malloc(TEX_FIELDS * tnc[0] * tnc[1] * sizeof *r->tp);
    r->tr = malloc(TEX_FIELDS * tnc[0] * sizeof *r->tr);
    r->tg = malloc(TEX_FIELDS * nx * sizeof *r->tg);
    r->mt = malloc(nx * sizeof *r->mt);
    r->mp = malloc(nx * sizeof *r->mp);
    r->tk = SIZE_MAX;
    if (c->ghost && !c->sig) {
        r->pl = malloc((size_t)c->nch * 2 * nx * c->ss->dim[1] * sizeof *r->pl);
        if (!r->pl) return 0;
    }
    return r->z && r->ra && r->er && r->ei && r->val && r->bias && r->node && r->idx && r->dx &&
           r->tp && r->tr && r->tg && r->mt && r->mp;
}

/* The subject's texture coefficients (made only for textured acquisitions: 4 floats per
 * control point, ~50 MB for a whole body): normals of blocks 0 .. of the TEXTURE stream,
 * scaled so that each field has unit SD. NULL when out of memory. */
static float *texture_coefs(const sb_mri_session *ss, size_t cz0, size_t cz1) {
    size_t pl = ss->tnc[0] * ss->tnc[1], per_f = pl * ss->tnc[2], tn = TEX_FIELDS * per_f;
    float *tc = malloc(4 * ((tn + 3) / 4) * sizeof *tc);
    if (!tc) return NULL;
    /* only the control planes cz0 .. cz1 - 1 a slab reads (the untouched pages of the rest
     * cost nothing): per field the indices [f per_f + cz0 pl, f per_f + cz1 pl), block i / 4 */
    cz1 = cz1 < ss->tnc[2] ? cz1 : ss->tnc[2];
    for (size_t f = 0; f < TEX_FIELDS && cz0 < cz1; f++) {
        size_t i0 = f * per_f + cz0 * pl, i1 = f * per_f + cz1 * pl, b0 = i0 / 4, b1 = (i1 + 3) / 4;
        float *z = malloc(4 * (b1 - b0) * sizeof *z);
        if (!z) {
            free(tc);
            return NULL;
        }
        mri_normals(ss->seed, ss->subject, SB_STREAM_TEXTURE, b0, b1 - b0, z);
        for (size_t i = i0; i < i1; i++) tc[i] = z[i - 4 * b0] * (float)(1 / TEX_FIELD_SD);
        free(z);
    }
    return tc;
}

/* First control point and cubic B-spline weights of the texture lattice at voxel i of an axis
 * with this spacing. */
static size_t tex_weights(double spacing, size_t i, float w[4]) {
    double u = (double)i * spacing / TEX_LATTICE_MM, wd[4];
    size_t cell = (size_t)floor(u);
    bspline4(u - (double)cell, wd);
    for (int q = 0; q < 4; q++) w[q] = (float)wd[q];
    return cell;
}

/* Texture factors of row (j, k): mt = 1 + a(T) g_T, mp = 1 + a(P) g_P. */
static void row_texture(const acq_ctx *c, acq_rows *r, size_t j, size_t k, const uint8_t *T,
                        const uint8_t *P) {
    const sb_mri_session *ss = c->ss;
    const size_t nx = ss->dim[0], *tnc = ss->tnc, pl = tnc[0] * tnc[1];
    if (!c->textured) {
        for (size_t i = 0; i < nx; i++) r->mt[i] = r->mp[i] = 1.0f;
        return;
    }
    float w[4];
    if (r->tk != k) { /* contract the z axis for this plane */
        size_t cz = tex_weights(c->spacing[2], k, w);
        for (size_t f = 0; f < TEX_FIELDS; f++) {
            float *d = r->tp + f * pl;
            const float *s0 = c->tc + f * pl * tnc[2] + cz * pl;
            for (size_t x = 0; x < pl; x++)
                d[x] = w[0] * s0[x] + w[1] * s0[x + pl] + w[2] * s0[x + 2 * pl] +
                       w[3] * s0[x + 3 * pl];
        }
        r->tk = k;
    }
    size_t cy = tex_weights(c->spacing[1], j, w);
    for (size_t f = 0; f < TEX_FIELDS; f++) {
        float *d = r->tr + f * tnc[0];
        const float *s0 = r->tp + f * pl + cy * tnc[0];
        for (size_t x = 0; x < tnc[0]; x++)
            d[x] = w[0] * s0[x] + w[1] * s0[x + tnc[0]] + w[2] * s0[x + 2 * tnc[0]] +
                   w[3] * s0[x + 3 * tnc[0]];
    }
    for (size_t f = 0; f < TEX_FIELDS; f++) {
        const float *rr = r->tr + f * tnc[0];
        float *g = r->tg + f * nx;
        for (size_t i = 0; i < nx; i++) {
            const float *wx = c->twx + 4 * i, *q = rr + c->tcx[i];
            g[i] = wx[0] * q[0] + wx[1] * q[1] + wx[2] * q[2] + wx[3] * q[3];
        }
    }
    for (size_t i = 0; i < nx; i++) {
        int t = T[i], p = P[i];
        r->mt[i] = 1.0f + c->tamp[t] * r->tg[(size_t)ss->tfield[t] * nx + i];
        r->mp[i] = 1.0f + c->tamp[p] * r->tg[(size_t)ss->tfield[p] * nx + i];
    }
}

/* One channel's partial-volume mix of a row, S = bias (f m_t S(t) + (1 - f) m_p S(p)); mt, mp
 * NULL: the texture factors are 1 (inlined for each case). */
static inline __attribute__((always_inline)) void
mix_row(const float (*L)[2], const uint8_t *T, const uint8_t *P, const uint8_t *Fr,
        const float *bias, const float *mt, const float *mp, float *er, float *ei, size_t nx) {
    for (size_t i = 0; i < nx; i++) {
        int t = T[i], p = P[i];
        float f = Fr ? (float)Fr[i] * (1.0f / 255.0f) : 1.0f;
        float ft = mt ? f * mt[i] : f, fp = mp ? (1 - f) * mp[i] : 1 - f;
        er[i] = bias[i] * (ft * L[t][0] + fp * L[p][0]);
        ei[i] = bias[i] * (ft * L[t][1] + fp * L[p][1]);
    }
}

/* Row (j, k), noiseless: bias x partial-volume mix of the (textured) tissue signals into
 * r->er, r->ei (channel-major). */
ROW_CLONES static void row_signal(const acq_ctx *c, acq_rows *r, size_t j, size_t k) {
    const sb_mri_session *ss = c->ss;
    const size_t nx = ss->dim[0], ny = ss->dim[1], *sv = ss->sv, *nn = ss->nn;
    const size_t n0 = nx * (j + ny * (k - c->k0)); /* in the slab */
    const int nch = c->nch;
    const float amp = c->amp;
    { /* a row of air (most rows of a whole-body box): no signal */
        const uint8_t *T = c->T + n0, *P = c->P ? c->P + n0 : T;
        unsigned any = 0;
        for (size_t i = 0; i < nx; i++) any |= (unsigned)(T[i] | P[i]);
        if (!any) {
            memset(r->er, 0, (size_t)nch * nx * sizeof *r->er);
            memset(r->ei, 0, (size_t)nch * nx * sizeof *r->ei);
            return;
        }
    }
    float *bias = r->bias;
    if (amp > 0) { /* bilinear in (y, z) at each x node, then linear in x */
        size_t k0 = k / sv[2], j0 = j / sv[1];
        float wz = (float)(k % sv[2]) / (float)sv[2], wy = (float)(j % sv[1]) / (float)sv[1];
        size_t sy = nn[0], sz = nn[0] * nn[1], total = sz * nn[2];
        const float *g0 = ss->g + total * ss->plane_st[k] + nn[0] * (j0 + nn[1] * k0);
        for (size_t a0 = 0; a0 < nn[0]; a0++) {
            float c0 = g0[a0] + wy * (g0[a0 + sy] - g0[a0]);
            float c1 = g0[a0 + sz] + wy * (g0[a0 + sz + sy] - g0[a0 + sz]);
            r->node[a0] = c0 + wz * (c1 - c0);
        }
        const float ws = ss->plane_w[k];
        if (ws > 0) { /* in the overlap of two stations: linear blend of their fields */
            const float *g1 = g0 + total;
            for (size_t a0 = 0; a0 < nn[0]; a0++) {
                float c0 = g1[a0] + wy * (g1[a0 + sy] - g1[a0]);
                float c1 = g1[a0 + sz] + wy * (g1[a0 + sz + sy] - g1[a0 + sz]);
                r->node[a0] = (1 - ws) * r->node[a0] + ws * (c0 + wz * (c1 - c0));
            }
        }
#ifdef HAVE_ROW_AVX512
        if (__builtin_cpu_supports("avx512f")) {
            bias_avx512(r->node, c->ix0, c->wxa, amp, bias, nx);
        } else
#endif
            for (size_t i = 0; i < nx; i++) {
                const float *nd = r->node + c->ix0[i];
                float b = 1.0f + amp * (nd[0] + c->wxa[i] * (nd[1] - nd[0]));
                b = b > 1.0f + amp ? 1.0f + amp : b; /* outside the body */
                bias[i] = b < 1.0f - amp ? 1.0f - amp : b;
            }
    } else {
        for (size_t i = 0; i < nx; i++) bias[i] = 1.0f;
    }
    const uint8_t *T = c->T + n0, *P = c->P ? c->P + n0 : T, *Fr = c->Fr ? c->Fr + n0 : NULL;
    if (c->textured) row_texture(c, r, j, k, T, P);
    for (int ch = 0; ch < nch; ch++) {
        float *er = r->er + (size_t)ch * nx, *ei = r->ei + (size_t)ch * nx;
        if (c->textured) /* without texture the factors are 1: f and 1 - f as they are */
            mix_row(c->lut[ch], T, P, Fr, bias, r->mt, r->mp, er, ei, nx);
        else
            mix_row(c->lut[ch], T, P, Fr, bias, NULL, NULL, er, ei, nx);
    }
}

/* The real-valued least squares for W and F from three echoes (e0r + i e0i, ...) with the
 * decay e^(-r2s TE). */
static inline void dixon_fit3(const mri_dixon3 *q, float e0r, float e0i, float e1r, float e1i,
                              float e2r, float e2i, float r2s, float *W, float *F) {
    float d0 = mri_exp_neg(-r2s * q->te0), d1 = mri_exp_neg(-r2s * q->te1),
          d2 = mri_exp_neg(-r2s * q->te2);
    float s0 = d0 * d0, s1 = d1 * d1, s2 = d2 * d2;
    float a11 = s0 + s1 + s2;
    float a12 = s0 * q->cr0 + s1 * q->cr1 + s2 * q->cr2;
    float a22 = s0 * q->c20 + s1 * q->c21 + s2 * q->c22;
    float b1 = d0 * e0r + d1 * e1r + d2 * e2r;
    float b2 = d0 * (q->cr0 * e0r + q->ci0 * e0i) + d1 * (q->cr1 * e1r + q->ci1 * e1i) +
               d2 * (q->cr2 * e2r + q->ci2 * e2i);
    float det = a11 * a22 - a12 * a12;
    float inv = fabsf(det) > 1e-12f ? 1.0f / det : 0.0f;
    *W = (a22 * b1 - a12 * b2) * inv;
    *F = (a11 * b2 - a12 * b1) * inv;
}

/* ln(ratio) / dt clamped to 0 .. 0.5 (an R2* in 1/ms). */
static inline float r2s_of(float ratio, float inv_dt) {
    float r = mri_lnf(ratio) * inv_dt;
    return r > 0.5f ? 0.5f : r > 0 ? r : 0;
}

/* The fit of m voxels' echoes x (re, im) into W (wo) and F (fo) in two passes: the R2* of each
 * voxel (into wo), then the fit at that R2*. One loop doing both keeps more values live at once
 * (1.4x the time with SSE). */
static inline __attribute__((always_inline)) void
r2s_fit_rows(const mri_dixon3 *qp, const float *restrict x0r, const float *restrict x0i,
             const float *restrict x1r, const float *restrict x1i, const float *restrict x2r,
             const float *restrict x2i, float *restrict wo, float *restrict fo, size_t m) {
    const mri_dixon3 q = *qp;
    for (size_t j = 0; j < m; j++) {
        float a0 = mag(x0r[j], x0i[j]), a2 = mag(x2r[j], x2i[j]), Wj, Fj;
        float r2s = r2s_of(a0 / a2, q.inv_dt);
        dixon_fit3(&q, x0r[j], x0i[j], x1r[j], x1i[j], x2r[j], x2i[j], r2s, &Wj, &Fj);
        float m0 = mag(Wj + Fj * q.cr0, Fj * q.ci0), m2 = mag(Wj + Fj * q.cr2, Fj * q.ci2);
        int fix = m0 > 0 && m2 > 0; /* else r as it was */
        float r2 = r2s_of(fix ? a0 / a2 * m2 / m0 : 1.0f, q.inv_dt);
        wo[j] = fix ? r2 : r2s;
    }
    for (size_t j = 0; j < m; j++) {
        float Wj, Fj;
        dixon_fit3(&q, x0r[j], x0i[j], x1r[j], x1i[j], x2r[j], x2i[j], wo[j], &Wj, &Fj);
        wo[j] = Wj, fo[j] = Fj;
    }
}

/* The fit for the baseline, AVX2 and AVX-512 processors (as mri_noise.c's Philox: chosen by
 * __builtin_cpu_supports). GCC 12 vectorises the AVX2 and AVX-512 loops only without partial
 * redundancy elimination ("no-tree-pre"): with it, the path where mri_exp_neg's argument is
 * clamped to -80 becomes a constant, and the branch around a rounding call (vroundps, which
 * SSE2 lacks) stays in the loop (scalar code, 4.5x the time of the baseline's 4 lanes). The
 * option only removes reuse of values between statements, so every path does the same IEEE
 * operations: the same bits (test_mri: mri_dixon_r2s_fit on every path). */
#define R2S_FIT_ARGS                                                                               \
    const mri_dixon3 *q, const float *restrict x0r, const float *restrict x0i,                     \
        const float *restrict x1r, const float *restrict x1i, const float *restrict x2r,           \
        const float *restrict x2i, float *restrict wo, float *restrict fo, size_t m
#if defined(__GNUC__) && !defined(__clang__)
#define R2S_NO_PRE optimize("no-tree-pre"),
#else
#define R2S_NO_PRE
#endif
__attribute__((R2S_NO_PRE noinline)) static void r2s_fit_base(R2S_FIT_ARGS) {
    r2s_fit_rows(q, x0r, x0i, x1r, x1i, x2r, x2i, wo, fo, m);
}
#if defined(__x86_64__) && defined(__GNUC__)
#define HAVE_R2S_X86 1
__attribute__((R2S_NO_PRE target("avx2"))) static void r2s_fit_avx2(R2S_FIT_ARGS) {
    r2s_fit_rows(q, x0r, x0i, x1r, x1i, x2r, x2i, wo, fo, m);
}
__attribute__((R2S_NO_PRE target("avx512f"))) static void r2s_fit_avx512(R2S_FIT_ARGS) {
    r2s_fit_rows(q, x0r, x0i, x1r, x1i, x2r, x2i, wo, fo, m);
}
#endif

int mri_dixon_r2s_fit(const mri_dixon3 *q, const float *const x[6], float *wo, float *fo, size_t m,
                      int path) {
#ifdef HAVE_R2S_X86
    if (path == 0)
        path = __builtin_cpu_supports("avx512f") ? 3 : __builtin_cpu_supports("avx2") ? 2 : 1;
    if ((path == 3 && !__builtin_cpu_supports("avx512f")) ||
        (path == 2 && !__builtin_cpu_supports("avx2")))
        return -1;
    if (path == 3) {
        r2s_fit_avx512(q, x[0], x[1], x[2], x[3], x[4], x[5], wo, fo, m);
        return 3;
    }
    if (path == 2) {
        r2s_fit_avx2(q, x[0], x[1], x[2], x[3], x[4], x[5], wo, fo, m);
        return 2;
    }
#else
    if (path >= 2) return -1;
#endif
    r2s_fit_base(q, x[0], x[1], x[2], x[3], x[4], x[5], wo, fo, m);
    return 1;
}

/* Dixon with three echoes, in place of the fit at R2* = 0 (W, F) where the first echo's
 * magnitude a0 (m0row) stands above 3 sigma and the third's is not 0: an R2* from the two
 * opposed-phase echoes, r = ln(a0 / a2) / (TE3 - TE1) clamped to 0 .. 0.5 /ms, the real-valued
 * least squares for W and F with the decay e^(-r TE) (Yu et al., MRM 2008), then r corrected
 * once for the fat spectrum's own change between the two echoes (the fitted model's magnitudes
 * at TE1 and TE3) and the fit repeated. Single precision with our exp and ln, over the voxels
 * gathered into a dense list, so the loop vectorises. */
static void dixon_r2s_row(const acq_ctx *c, acq_rows *r, float *W, float *F, const float *m0row) {
    const size_t nx = c->ss->dim[0];
    const float thr = 3 * c->sigma;
    const float *er = r->er, *ei = r->ei;
    uint32_t *idx = r->idx;
    size_t m = 0;
    for (size_t i = 0; i < nx; i++)
        if (m0row[i] > thr && mag(er[2 * nx + i], ei[2 * nx + i]) > 0) idx[m++] = (uint32_t)i;
    if (!m) return;
    float *x0r = r->dx, *x0i = x0r + nx, *x1r = x0i + nx, *x1i = x1r + nx, *x2r = x1i + nx,
          *x2i = x2r + nx, *wo = x2i + nx, *fo = wo + nx;
    for (size_t j = 0; j < m; j++) {
        size_t i = idx[j];
        x0r[j] = er[i], x0i[j] = ei[i];
        x1r[j] = er[nx + i], x1i[j] = ei[nx + i];
        x2r[j] = er[2 * nx + i], x2i[j] = ei[2 * nx + i];
    }
    mri_dixon3 q;
    q.te0 = (float)c->te[0], q.te1 = (float)c->te[1], q.te2 = (float)c->te[2];
    q.cr0 = (float)c->fc[0][0], q.cr1 = (float)c->fc[1][0], q.cr2 = (float)c->fc[2][0];
    q.ci0 = (float)c->fc[0][1], q.ci1 = (float)c->fc[1][1], q.ci2 = (float)c->fc[2][1];
    q.c20 = q.cr0 * q.cr0 + q.ci0 * q.ci0, q.c21 = q.cr1 * q.cr1 + q.ci1 * q.ci1;
    q.c22 = q.cr2 * q.cr2 + q.ci2 * q.ci2;
    q.inv_dt = 1.0f / (q.te2 - q.te0);
    const float *const x[6] = {x0r, x0i, x1r, x1i, x2r, x2i};
    mri_dixon_r2s_fit(&q, x, wo, fo, m, 0);
    for (size_t j = 0; j < m; j++) W[idx[j]] = wo[j], F[idx[j]] = fo[j];
}

/* Whether any of 16 voxels has a signal other than 0 (a bit beside the sign's in re or im: not
 * re == 0 && im == 0), without a branch per voxel: row_magnitude's scans over the air. */
static inline int signal16(const float *re, const float *im) {
    uint32_t any = 0;
    for (int l = 0; l < 16; l++)
        any |= (mri_float_bits(re[l]) | mri_float_bits(im[l])) & 0x7fffffffu;
    return any != 0;
}

/* Magnitude image row of channel ch (grid voxels n0 ..) with noise, into v. Over the row's
 * signal extent [a, b) (its first to its last voxel with a noiseless signal other than 0):
 * |S + sigma (z1 + i z2)|, z from block n / 2 of the channel's stream (normals 2 (n & 1) and
 * the next); outside it (air: S = 0) sigma r, r the Rayleigh radius of word n & 3 of block n / 4
 * of the channel's air stream (stream + 128): the same law as |sigma (z1 + i z2)|, drawn from
 * one uniform instead of two normals. */
static void row_magnitude(const acq_ctx *c, acq_rows *r, int ch, size_t n0, float *v) {
    const sb_mri_session *ss = c->ss;
    const size_t nx = ss->dim[0];
    const float sigma = c->sigma;
    const float *er = r->er + (size_t)ch * nx, *ei = r->ei + (size_t)ch * nx;
    if (!(sigma > 0)) {
        for (size_t i = 0; i < nx; i++) v[i] = mag(er[i], ei[i]);
        return;
    }
    size_t a = 0, b = nx;
    while (a + 16 <= nx && !signal16(er + a, ei + a)) a += 16;
    while (a < nx && er[a] == 0 && ei[a] == 0) a++;
    while (b >= a + 16 && !signal16(er + b - 16, ei + b - 16)) b -= 16;
    while (b > a && er[b - 1] == 0 && ei[b - 1] == 0) b--;
    if (b > a) {
        const uint64_t first = (uint64_t)(n0 + a) >> 1;
        const size_t nblk = (size_t)(((uint64_t)(n0 + b - 1) >> 1) - first + 1);
        mri_normals(ss->seed, ss->subject, c->stream0 + (uint32_t)ch, first, nblk, r->z);
        const float *z = r->z + (2 * (n0 + a) - 4 * first); /* voxel a's pair */
        for (size_t i = a; i < b; i++) {
            const float *zz = z + 2 * (i - a);
            v[i] = mag(er[i] + sigma * zz[0], ei[i] + sigma * zz[1]);
        }
    }
    for (int side = 0; side < 2; side++) { /* the air on either side: [0, a), [b, nx) */
        size_t p = side ? b : 0, e = side ? nx : a;
        if (p >= e) continue;
        const uint64_t first = (uint64_t)(n0 + p) >> 2;
        const size_t nblk = (size_t)(((uint64_t)(n0 + e - 1) >> 2) - first + 1);
        mri_radii(ss->seed, ss->subject, c->stream0 + 128u + (uint32_t)ch, first, nblk, r->ra);
        const float *ra = r->ra + (n0 + p - 4 * first);
        for (size_t i = p; i < e; i++) v[i] = sigma * ra[i - p];
    }
}

/* Dixon's row of nch echoes (er, ei: nch rows of nx) in one pass: W (v row 0) and F (row 1) at
 * R2* = 0 as sums over the echoes in order from 0 (linear in the echoes), |echo 2| (row 2) and
 * |echo 1| (row 3). Inlined for nch 2 and 3: one pass instead of nch + 2. */
static inline __attribute__((always_inline)) void
dixon_linear(const acq_ctx *c, const float *restrict er, const float *restrict ei,
             float *restrict v, size_t nx, int nch) {
    float co[CH_MAX][4];
    for (int ch = 0; ch < nch; ch++)
        co[ch][0] = c->wco[ch][0], co[ch][1] = c->wco[ch][1], co[ch][2] = c->fco[ch][0],
        co[ch][3] = c->fco[ch][1];
    for (size_t i = 0; i < nx; i++) {
        float W = 0, F = 0;
        for (int ch = 0; ch < nch; ch++) {
            float xr = er[(size_t)ch * nx + i], xi = ei[(size_t)ch * nx + i];
            W += co[ch][0] * xr + co[ch][1] * xi;
            F += co[ch][2] * xr + co[ch][3] * xi;
        }
        v[i] = W, v[nx + i] = F;
        v[2 * nx + i] = mag(er[nx + i], ei[nx + i]);
        v[3 * nx + i] = mag(er[i], ei[i]);
    }
}

/* Row (j, k) from its noiseless signals in r->er, r->ei: noise, magnitudes, Dixon, ADC. */
ROW_CLONES static void row_finish(const acq_ctx *c, acq_rows *r, size_t j, size_t k) {
    const sb_mri_session *ss = c->ss;
    const size_t nx = ss->dim[0], ny = ss->dim[1];
    const size_t n0 = nx * (j + ny * k), nl = nx * (j + ny * (k - c->k0)); /* grid, slab */
    const int nch = c->nch;
    const float sigma = c->sigma;
    /* Dixon's noise: voxel n uses normals 2n - 4 first and the next of the row's first block
     * (every voxel: W and F are linear in all the echoes, so air needs them too) */
    const uint64_t first = (uint64_t)n0 >> 1;
    const size_t nblk = (size_t)(((uint64_t)(n0 + nx - 1) >> 1) - first + 1);
    for (int ch = 0; c->q->kind == SB_SEQ_DIXON && ch < nch && sigma > 0; ch++) {
        float *zb = r->z + (size_t)ch * 4 * c->nblk_max;
        mri_normals(ss->seed, ss->subject, c->stream0 + (uint32_t)ch, first, nblk, zb);
        const float *z = zb + 2 * (n0 & 1);
        float *er = r->er + (size_t)ch * nx, *ei = r->ei + (size_t)ch * nx;
        for (size_t i = 0; i < nx; i++) {
            er[i] += sigma * z[2 * i];
            ei[i] += sigma * z[2 * i + 1];
        }
    }
    float *v0 = r->val, *v1 = v0 + nx, *v3 = v1 + 2 * nx, *v4 = v3 + nx;
    const float *er0 = r->er, *ei0 = r->ei;
    if (c->q->kind == SB_SEQ_DIXON) {
        /* R2* = 0: W and F are linear in the echoes */
        if (nch == 3)
            dixon_linear(c, er0, ei0, v0, nx, 3);
        else
            dixon_linear(c, er0, ei0, v0, nx, 2);
        if (nch >= 3) dixon_r2s_row(c, r, v0, v1, v3);
        if (ss->swapped) { /* fat-water swap: W and F exchanged inside the ball */
            double dy = ((double)j - ss->swap_c[1]) * ss->vsp[1],
                   dz = ((double)k - ss->swap_c[2]) * ss->vsp[2],
                   rem = ss->swap_r_mm * ss->swap_r_mm - dy * dy - dz * dz;
            if (rem > 0) {
                double half = sqrt(rem) / ss->vsp[0];
                double ia = fmax(0, ceil(ss->swap_c[0] - half)),
                       ib = fmin((double)nx - 1, floor(ss->swap_c[0] + half));
                for (size_t i = (size_t)ia; (double)i <= ib; i++) {
                    float t = v0[i];
                    v0[i] = v1[i], v1[i] = t;
                }
            }
        }
        for (size_t i = 0; i < nx; i++) {
            float W = v0[i], F = v1[i], sum = W + F;
            float ff = sum > 5 * sigma && sum > 1e-3f ? 100 * F / sum : 0;
            ff = ff > 150 ? 150 : ff;
            v4[i] = ff < -50 ? -50 : ff;
            v0[i] = fabsf(W), v1[i] = fabsf(F);
        }
        for (int o = 0; o < 5; o++)
            store_row(c->o[o], c->dtype, c->inv[o], nl, r->val + (size_t)o * nx, nx);
    } else if (c->q->kind == SB_SEQ_DWI) {
        for (int ch = 0; ch < nch; ch++) {
            float *v = r->val + (size_t)ch * nx;
            row_magnitude(c, r, ch, n0, v);
            store_row(c->o[ch], c->dtype, c->inv[ch], nl, v, nx);
        }
        if (nch >= 2) {
            const float *lo = r->val, *hi = r->val + (size_t)(nch - 1) * nx;
            float *v = r->val + (size_t)nch * nx;
            for (size_t i = 0; i < nx; i++) {
                double adc =
                    lo[i] > 3 * sigma && hi[i] > 0 ? logf(lo[i] / hi[i]) / (c->b_hi - c->b_lo) : 0;
                v[i] = (float)fmin(5000, fmax(0, adc * 1e6));
            }
            store_row(c->o[nch], c->dtype, c->inv[nch], nl, v, nx);
        }
    } else {
        row_magnitude(c, r, 0, n0, v0);
        store_row(c->o[0], c->dtype, c->inv[0], nl, v0, nx);
    }
}

sb_status sb_mri_acquire(const sb_mri_session *ss, const sb_acquisition *a,
                         const sb_volume *tissues, const sb_volume *pv_tissue,
                         const sb_volume *pv_frac, unsigned want, sb_dtype dtype, const sb_ctx *ctx,
                         sb_volume *out[SB_MRI_OUT_MAX], double slope[SB_MRI_OUT_MAX],
                         sb_error *err) {
    return sb_mri_acquire_slab(ss, a, 0, tissues, pv_tissue, pv_frac, want, dtype, ctx, out, slope,
                               err);
}

sb_status sb_mri_acquire_slab(const sb_mri_session *ss, const sb_acquisition *a, size_t k0,
                              const sb_volume *tissues, const sb_volume *pv_tissue,
                              const sb_volume *pv_frac, unsigned want, sb_dtype dtype,
                              const sb_ctx *ctx, sb_volume *out[SB_MRI_OUT_MAX],
                              double slope[SB_MRI_OUT_MAX], sb_error *err) {
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
        if ((d < 2 && tissues->dim[d] != ss->dim[d]) ||
            (pv_tissue &&
             (pv_tissue->dim[d] != tissues->dim[d] || pv_frac->dim[d] != tissues->dim[d])))
            return sb_error_set(err, SB_ERR_INTERNAL, "maps and session grids differ");
    if (!ss->finished || k0 + tissues->dim[2] > ss->dim[2])
        return sb_error_set(err, SB_ERR_INTERNAL, "slab %zu + %zu planes outside the session", k0,
                            tissues->dim[2]);
    const sb_sequence *q = &a->seq;
    const sb_mr_tissues *m = &ss->m;
    acq_ctx *c = calloc(1, sizeof *c); /* 8 KiB of look-up tables: not on the stack */
    if (!c) return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    c->ss = ss;
    c->q = q;
    c->k0 = k0;
    int nch = q->kind == SB_SEQ_DIXON ? q->necho : q->kind == SB_SEQ_DWI ? q->nb : 1;
    int ref_ch = q->kind == SB_SEQ_DIXON ? 1 : 0;
    c->nch = nch;
    for (int ch = 0; ch < nch; ch++) {
        c->te[ch] = q->kind == SB_SEQ_DIXON ? q->te_echo_ms[ch] : q->te_ms;
        mri_fat_phasor(m, q->field_t, c->te[ch], c->fc[ch]);
        for (size_t t = 1; t < m->count && t < 256; t++) {
            double sg[2];
            mri_tissue_signal(m, (int)t, q, c->te[ch], q->kind == SB_SEQ_DWI ? q->b[ch] : 0, sg);
            c->lut[ch][t][0] = (float)sg[0];
            c->lut[ch][t][1] = (float)sg[1];
        }
    }
    if (q->kind == SB_SEQ_DIXON) { /* the least-squares solve at R2* = 0 as a linear map */
        double a11 = nch, a12 = 0, a22 = 0;
        for (int ch = 0; ch < nch; ch++) {
            a12 += c->fc[ch][0];
            a22 += c->fc[ch][0] * c->fc[ch][0] + c->fc[ch][1] * c->fc[ch][1];
        }
        double det = a11 * a22 - a12 * a12;
        for (int ch = 0; ch < nch && fabs(det) > 1e-12; ch++) {
            c->wco[ch][0] = (float)((a22 - a12 * c->fc[ch][0]) / det);
            c->wco[ch][1] = (float)(-a12 * c->fc[ch][1] / det);
            c->fco[ch][0] = (float)((a11 * c->fc[ch][0] - a12) / det);
            c->fco[ch][1] = (float)(a11 * c->fc[ch][1] / det);
        }
    }
    /* flow voids: blood that leaves the slice between the excitation and the refocusing pulse
     * gives no echo (time-of-flight washout, Bradley & Waluch, Radiology 1985): in spin-echo
     * sequences the blood's signal keeps 1 - v (TE / 2) / slice, at least 0 */
    int blood = sb_tissue_index("blood");
    if (a->flow_cm_s > 0 && blood > 0 &&
        (q->kind == SB_SEQ_SE || q->kind == SB_SEQ_IR || q->kind == SB_SEQ_DWI)) {
        double thick =
            tissues->spacing[2] / (a->kspace[2] > 0 && a->kspace[2] < 1 ? a->kspace[2] : 1);
        float keep = (float)fmax(0, 1 - a->flow_cm_s * 0.01 * (q->te_ms / 2) / thick);
        for (int ch = 0; ch < nch; ch++) c->lut[ch][blood][0] *= keep, c->lut[ch][blood][1] *= keep;
    }
    int ref = sb_tissue_index(a->ref_tissue);
    double sref = hypot(c->lut[ref_ch][ref][0], c->lut[ref_ch][ref][1]);
    if (a->snr > 0 && !(sref > 0)) {
        free(c);
        return sb_error_set(err, SB_ERR_USAGE, "%s: reference tissue %s gives no signal", a->name,
                            a->ref_tissue);
    }
    const float sigma = a->snr > 0 ? (float)(sref / a->snr) : 0.0f;
    c->sigma = sigma;
    c->amp = (float)a->bias;

    /* int16 scale: the largest magnitude possible (brightest tissue at the top of the bias
     * field plus the largest Box–Muller radius, below 6.7 sigma) fits below 32767, and one
     * step is at least sigma / NOISE_STEPS; fat fraction -50..150 %, ADC 0..5000 x 10^-6
     * mm^2/s. */
    double smax = 0;
    for (int ch = 0; ch < nch; ch++)
        for (size_t t = 1; t < m->count && t < 256; t++)
            smax = fmax(smax, hypot(c->lut[ch][t][0], c->lut[ch][t][1]));
    double mag_bound = smax * (1 + a->bias) * (q->kind == SB_SEQ_DIXON ? 2 : 1) + 6.7 * sigma;
    if (!(mag_bound > 0)) mag_bound = 1;
    size_t nout = sb_mri_outputs(a, NULL);
    for (size_t k = 0; k < nout; k++) {
        int is_ff = q->kind == SB_SEQ_DIXON && k == 4;
        int is_adc = q->kind == SB_SEQ_DWI && (int)k == q->nb;
        double bound = is_ff ? 150 : is_adc ? 5000 : mag_bound;
        double step = is_ff || is_adc ? 0 : sigma / NOISE_STEPS;
        slope[k] = dtype == SB_DT_INT16 ? fmax(bound / 32767, step) : 1;
        c->inv[k] = (float)(1 / slope[k]);
        if (!(want & (1u << k))) continue;
        st = sb_volume_create(tissues->dim, tissues->spacing, dtype, &out[k], err);
        if (st) {
            for (size_t j = 0; j < k; j++) sb_volume_free(out[j]), out[j] = NULL;
            free(c);
            return st;
        }
        memcpy(out[k]->affine, tissues->affine, sizeof out[k]->affine);
        c->o[k] = out[k]->data;
    }
    c->dtype = dtype;
    c->T = tissues->data;
    c->P = pv_tissue ? pv_tissue->data : NULL;
    c->Fr = pv_frac ? pv_frac->data : NULL;
    c->stream0 = SB_STREAM_NOISE + 256u * a->id;
    c->b_lo = q->kind == SB_SEQ_DWI ? q->b[0] : 0;
    c->b_hi = q->kind == SB_SEQ_DWI ? q->b[q->nb - 1] : 0;
    const size_t nx = ss->dim[0], ny = ss->dim[1], nz = tissues->dim[2]; /* planes of the slab */
    c->nblk_max = nx / 2 + 2;
    uint32_t *ix0 = malloc(nx * sizeof *ix0);
    float *wxa = malloc(nx * sizeof *wxa);
    int failed = nx > 0 && (!ix0 || !wxa);
    for (size_t i = 0; i < nx && !failed; i++) {
        ix0[i] = (uint32_t)(i / ss->sv[0]);
        wxa[i] = (float)(i % ss->sv[0]) / (float)ss->sv[0];
    }
    c->ix0 = ix0;
    c->wxa = wxa;
    /* texture */
    for (int d = 0; d < 3; d++) c->spacing[d] = tissues->spacing[d] > 0 ? tissues->spacing[d] : 1;
    for (size_t t = 1; t < 256; t++) {
        c->tamp[t] = (float)a->texture * ss->tsign[t];
        c->textured |= c->tamp[t] != 0;
    }
    if (c->textured) { /* the control planes of the slab's planes */
        float w[4];
        size_t cz0 = tex_weights(c->spacing[2], k0, w),
               cz1 = tex_weights(c->spacing[2], k0 + (nz ? nz - 1 : 0), w) + 4;
        c->tc = texture_coefs(ss, cz0, cz1);
    }
    failed |= c->textured && !c->tc;
    c->tcx = malloc(nx * sizeof *c->tcx);
    c->twx = malloc(4 * nx * sizeof *c->twx);
    failed |= nx > 0 && (!c->tcx || !c->twx);
    for (size_t i = 0; i < nx && !failed; i++)
        c->tcx[i] = tex_weights(c->spacing[0], i, c->twx + 4 * i);
    /* k-space truncation: the noiseless images first, filtered, then noise and outputs */
    int kspace = 0;
    for (int d = 0; d < 3; d++) kspace |= a->kspace[d] > 0 && a->kspace[d] < 1;
    if (kspace && nz != ss->dim[2]) {
        free(ix0), free(wxa), free(c->tcx), free(c->twx), free(c->tc), free(c);
        for (size_t k = 0; k < nout; k++) sb_volume_free(out[k]), out[k] = NULL;
        return sb_error_set(err, SB_ERR_USAGE,
                            "%s: k-space truncation (--acq-voxel, --slice) needs the whole volume "
                            "in memory, not slabs",
                            a->name);
    }
    const size_t nvox = nx * ny * nz, plane = nx * ny;
    if (kspace && !failed) {
        c->sig = malloc((size_t)nch * nvox * 2 * sizeof *c->sig);
        if (!c->sig) failed = 1;
    }
    if (a->ghost > 0 && !failed) {
        c->ghost = mri_ghost_new(nx, ny, a->ghost, a->ghost_period ? a->ghost_period : 4);
        if (!c->ghost) failed = 1;
    }
    const long nzl = (long)nz;
    if (!failed && kspace) {
#pragma omp parallel num_threads(sb_ctx_threads(ctx)) reduction(| : failed)
        {
            acq_rows r = {0};
            int ok = rows_alloc(&r, c);
            failed |= !ok;
#pragma omp for schedule(dynamic, 1)
            for (long kk = 0; kk < nzl; kk++)
                for (size_t j = 0; j < ny && ok; j++) {
                    row_signal(c, &r, j, k0 + (size_t)kk);
                    size_t n0 = nx * (j + ny * (size_t)kk);
                    for (int ch = 0; ch < nch; ch++) {
                        float *d = c->sig + 2 * ((size_t)ch * nvox + n0);
                        const float *er = r.er + (size_t)ch * nx, *ei = r.ei + (size_t)ch * nx;
                        for (size_t i = 0; i < nx; i++) d[2 * i] = er[i], d[2 * i + 1] = ei[i];
                    }
                }
            rows_free(&r);
        }
        for (int ch = 0; ch < nch && !failed; ch++)
            failed |= mri_kspace_truncate(c->sig + 2 * (size_t)ch * nvox, ss->dim, a->kspace,
                                          sb_ctx_threads(ctx)) != 0;
    }
    if (!failed) {
#pragma omp parallel num_threads(sb_ctx_threads(ctx)) reduction(| : failed)
        {
            acq_rows r = {0};
            int ok = rows_alloc(&r, c);
            failed |= !ok;
            /* planes in any order on any thread: each voxel depends only on its own index */
#pragma omp for schedule(dynamic, 1)
            for (long kk = 0; kk < nzl; kk++) {
                if (!ok) continue;
                /* ghosting: the plane's noiseless signals (kept, or made here) through k-space */
                float *src = c->sig ? c->sig + 2 * plane * (size_t)kk : r.pl;
                size_t cstride = c->sig ? nvox : plane; /* between channels, in voxels */
                if (c->ghost && !c->sig)
                    for (size_t j = 0; j < ny; j++) {
                        row_signal(c, &r, j, k0 + (size_t)kk);
                        for (int ch = 0; ch < nch; ch++) {
                            float *d = r.pl + 2 * ((size_t)ch * plane + nx * j);
                            const float *er = r.er + (size_t)ch * nx, *ei = r.ei + (size_t)ch * nx;
                            for (size_t i = 0; i < nx; i++) d[2 * i] = er[i], d[2 * i + 1] = ei[i];
                        }
                    }
                for (int ch = 0; c->ghost && ch < nch; ch++)
                    failed |= mri_ghost_plane(c->ghost, src + 2 * (size_t)ch * cstride) != 0;
                for (size_t j = 0; j < ny; j++) {
                    if (src) {
                        for (int ch = 0; ch < nch; ch++) {
                            const float *d = src + 2 * ((size_t)ch * cstride + nx * j);
                            float *er = r.er + (size_t)ch * nx, *ei = r.ei + (size_t)ch * nx;
                            for (size_t i = 0; i < nx; i++) er[i] = d[2 * i], ei[i] = d[2 * i + 1];
                        }
                    } else {
                        row_signal(c, &r, j, k0 + (size_t)kk);
                    }
                    row_finish(c, &r, j, k0 + (size_t)kk);
                }
            }
            rows_free(&r);
        }
    }
    free(c->tc);
    free(c->tcx);
    free(c->twx);
    free(c->sig);
    mri_ghost_free(c->ghost);
    free(ix0);
    free(wxa);
    free(c);
    if (failed) {
        for (size_t k = 0; k < nout; k++) sb_volume_free(out[k]), out[k] = NULL;
        return sb_error_set(err, SB_ERR_MEMORY, "out of memory (acquisition rows)");
    }
    return SB_OK;
}
