/* Unit tests of the acquisition artefacts of volume/mri_*.c (README "MRI physics"): the
 * multi-station acquisition (each station's own bias field at the requested amplitude, linear
 * blending across the overlaps, the same bytes in slabs and at any thread count), motion
 * ghosting along the phase-encoding direction (ghost intensity in the air at FOV / period), the
 * Dixon fat-water swap (water and fat exchanged inside the recorded ball, nothing else) and flow
 * voids of blood in spin-echo images. */
#include "anatomy_docs.h"
#include "mri_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A uniform block of `tissue` in air: voxels [lo, hi) per axis of a grid of dim. */
static sb_volume *block(const size_t dim[3], double voxel, const size_t lo[3], const size_t hi[3],
                        const char *tissue) {
    double sp[3] = {voxel, voxel, voxel};
    sb_volume *v = NULL;
    sb_error err;
    CHECK_OK(sb_volume_create(dim, sp, SB_DT_UINT8, &v, &err));
    if (!v) return NULL;
    for (int d = 0; d < 3; d++) v->affine[d][d] = voxel;
    v->affine[3][3] = 1;
    uint8_t *T = v->data;
    for (size_t k = lo[2]; k < hi[2]; k++)
        for (size_t j = lo[1]; j < hi[1]; j++)
            for (size_t i = lo[0]; i < hi[0]; i++)
                T[sb_volume_index(v, i, j, k)] = (uint8_t)sb_tissue_index(tissue);
    return v;
}

static sb_mr_tissues tissues_of(const sb_subject *s) {
    sb_tissue_db *db = NULL;
    sb_error err;
    sb_mr_tissues m;
    memset(&m, 0, sizeof m);
    CHECK_OK(sb_tissue_db_load(NULL, &db, &err));
    if (db) sb_tissue_db_sample(db, s, &m);
    sb_tissue_db_free(db);
    return m;
}

/* A session on tissue map `tis` with the setup, its body given in slabs of `slab` planes. */
static sb_mri_session *session(const sb_mr_tissues *m, const sb_subject *s, const sb_volume *tis,
                               const sb_mri_setup *o, size_t slab) {
    sb_mri_session *ss = NULL;
    sb_error err;
    CHECK_OK(sb_mri_session_begin(m, s, tis, &ss, &err));
    if (!ss) return NULL;
    if (o && sb_mri_session_setup(ss, o, &err)) {
        fprintf(stderr, "setup: %s\n", err.msg);
        CHECK(0);
        sb_mri_session_free(ss);
        return NULL;
    }
    for (size_t k0 = 0; k0 < tis->dim[2]; k0 += slab) {
        size_t n = k0 + slab < tis->dim[2] ? slab : tis->dim[2] - k0;
        sb_volume view = *tis;
        view.dim[2] = n;
        view.data = (uint8_t *)tis->data + tis->dim[0] * tis->dim[1] * k0;
        CHECK_OK(sb_mri_session_body(ss, &view, k0, &err));
    }
    CHECK_OK(sb_mri_session_finish(ss, &err));
    return ss;
}

static sb_acquisition acq(const char *contrast, double snr, double bias) {
    sb_protocol p;
    sb_error err;
    CHECK_OK(sb_mri_protocol("default", contrast, 1.5, snr, bias, &p, &err));
    return p.acq[0];
}

static sb_volume *image(const sb_mri_session *ss, const sb_acquisition *a, const sb_volume *tis,
                        int threads, int k, sb_dtype dt) {
    sb_volume *o[SB_MRI_OUT_MAX] = {0};
    double sl[SB_MRI_OUT_MAX];
    sb_error err;
    sb_ctx c = {.threads = threads};
    if (!ss) return NULL;
    sb_status s = sb_mri_acquire(ss, a, tis, NULL, NULL, 0xffu, dt, &c, o, sl, &err);
    if (s) fprintf(stderr, "acquire %s: %s\n", a->name, err.msg);
    CHECK(s == SB_OK);
    for (int i = 0; i < SB_MRI_OUT_MAX; i++)
        if (i != k) sb_volume_free(o[i]);
    return o[k];
}

static int same(const sb_volume *a, const sb_volume *b) {
    return a && b && sb_volume_nvox(a) == sb_volume_nvox(b) &&
           !memcmp(a->data, b->data, sb_volume_nvox(a) * sb_dtype_size(a->dtype));
}

/* ---- stations --------------------------------------------------------------------------------
 * A 256 x 192 x 960 mm block of muscle at 8 mm in three stations overlapping by 48 mm; T1w
 * without noise, so that image / (image without bias) is the bias field itself. */
static void test_stations(void) {
    const double A = 0.4, vox = 8;
    size_t dim[3] = {36, 28, 124}, lo[3] = {2, 2, 2}, hi[3] = {34, 26, 122};
    sb_volume *tis = block(dim, vox, lo, hi, "muscle");
    sb_subject s = subject_fixed(21, SB_SEX_MALE, 180, 25);
    sb_mr_tissues m = tissues_of(&s);
    sb_mri_setup three = {.stations = 3, .overlap_mm = 48}, hard = {.stations = 3},
                 one = {.stations = 1};
    sb_mri_session *ss = session(&m, &s, tis, &three, dim[2]);
    sb_mri_session *sl = session(&m, &s, tis, &three, 7); /* the body in slabs of 7 planes */
    sb_mri_session *sh = session(&m, &s, tis, &hard, dim[2]);
    sb_mri_session *s1 = session(&m, &s, tis, &one, dim[2]), *s0 = session(&m, &s, tis, NULL, 9);
    sb_acquisition a = acq("T1w", 0, A), flat = acq("T1w", 0, 0);
    sb_volume *img = image(ss, &a, tis, 2, 0, SB_DT_FLOAT32);
    sb_volume *ref = image(ss, &flat, tis, 1, 0, SB_DT_FLOAT32);
    sb_volume *hard_img = image(sh, &a, tis, 2, 0, SB_DT_FLOAT32);
    double step = 0, len = 0;
    CHECK(ss && sb_mri_session_stations(ss, &step, &len) == 3);
    CHECK(fabs(2 * step + len - (double)(dim[2] - 1)) < 1e-9 && fabs(len - step - 6) < 1e-9);
    if (!img || !ref || !hard_img) goto done;
    /* one station: the bytes of a session without setup */
    {
        sb_acquisition n = acq("T1w", 30, A);
        sb_volume *x = image(s1, &n, tis, 2, 0, SB_DT_INT16),
                  *y = image(s0, &n, tis, 1, 0, SB_DT_INT16);
        CHECK(same(x, y));
        sb_volume_free(x), sb_volume_free(y);
    }
    /* slabs of the body statistics, threads and slabs of the acquisition: the same bytes */
    {
        sb_acquisition n = acq("T1w", 30, A);
        sb_volume *x = image(ss, &n, tis, 1, 0, SB_DT_INT16),
                  *y = image(sl, &n, tis, 2, 0, SB_DT_INT16);
        CHECK(same(x, y));
        sb_volume *o[SB_MRI_OUT_MAX];
        double sp[SB_MRI_OUT_MAX];
        sb_error err;
        sb_ctx c = {.threads = 2};
        size_t k0 = 50, plane = dim[0] * dim[1];
        sb_volume view = *tis;
        view.dim[2] = 30;
        view.data = (uint8_t *)tis->data + plane * k0;
        CHECK_OK(
            sb_mri_acquire_slab(sl, &n, k0, &view, NULL, NULL, 1, SB_DT_INT16, &c, o, sp, &err));
        CHECK(x && o[0] && !memcmp(o[0]->data, (int16_t *)x->data + plane * k0, plane * 30 * 2));
        for (int k = 0; k < SB_MRI_OUT_MAX; k++) sb_volume_free(o[k]);
        sb_volume_free(x), sb_volume_free(y);
    }
    /* per station, on the planes it alone covers: (max - min) / mean of the field in muscle */
    const float *I = img->data, *R = ref->data, *H = hard_img->data;
    const uint8_t *T = tis->data;
    size_t plane = dim[0] * dim[1];
    for (int t = 0; t < 3; t++) {
        double lo_b = INFINITY, hi_b = -INFINITY, sum = 0;
        size_t n = 0;
        for (size_t k = 0; k < dim[2]; k++) {
            double z0 = t * step, z1 = z0 + len, kk = (double)k;
            int alone = kk >= z0 && kk <= z1 && (t == 0 || kk > z0 + 6) && (t == 2 || kk < z1 - 6);
            for (size_t v = plane * k; alone && v < plane * (k + 1); v++) {
                if (!T[v]) continue;
                double b = I[v] / R[v];
                lo_b = fmin(lo_b, b), hi_b = fmax(hi_b, b), sum += b, n++;
            }
        }
        double amp = (hi_b - lo_b) / (sum / (double)n);
        printf("station %d: bias amplitude %.3f (asked %.2f, %+.0f %%), mean %.3f\n", t + 1, amp, A,
               100 * (amp / A - 1), sum / (double)n);
        CHECK(fabs(amp / A - 1) <= 0.2);
    }
    /* seams: plane-to-plane changes of the field inside the overlaps stay of the size of the
     * blend's slope (A over the overlap's 6 planes) plus the field's own; a hard seam jumps */
    double jump_in = 0, jump_out = 0, jump_hard = 0;
    for (size_t k = 0; k + 1 < dim[2]; k++) {
        double kk = (double)k + 0.5;
        int in_overlap = (kk > step && kk < step + 6) || (kk > 2 * step && kk < 2 * step + 6);
        for (size_t v = plane * k; v < plane * (k + 1); v++) {
            if (!T[v] || !T[v + plane]) continue;
            double d = fabs(I[v + plane] / R[v + plane] - I[v] / R[v]);
            double dh = fabs(H[v + plane] / R[v + plane] - H[v] / R[v]);
            jump_hard = fmax(jump_hard, dh);
            if (in_overlap)
                jump_in = fmax(jump_in, d);
            else
                jump_out = fmax(jump_out, d);
        }
    }
    printf("field change per plane: overlaps %.4f, elsewhere %.4f (bound %.4f); hard seams "
           "%.4f\n",
           jump_in, jump_out, jump_out + A / 6, jump_hard);
    CHECK(jump_in <= jump_out + A / 6);
    CHECK(jump_hard > 2 * jump_out); /* the test sees a seam when there is one */
    /* errors */
    {
        sb_mri_session *e = NULL;
        sb_error err;
        CHECK_OK(sb_mri_session_begin(&m, &s, tis, &e, &err));
        sb_mri_setup bad = {.stations = 3, .overlap_mm = 400};
        CHECK(e && sb_mri_session_setup(e, &bad, &err) == SB_ERR_USAGE);
        CHECK(strstr(err.msg, "3 stations overlapping by 400 mm") != NULL);
        bad = (sb_mri_setup){.stations = 17};
        CHECK(e && sb_mri_session_setup(e, &bad, &err) == SB_ERR_USAGE);
        bad = (sb_mri_setup){.fat_water_swap = 1.5};
        CHECK(e && sb_mri_session_setup(e, &bad, &err) == SB_ERR_USAGE);
        CHECK(strstr(err.msg, "1.5") != NULL);
        sb_mri_session_free(e);
    }
done:
    sb_volume_free(img), sb_volume_free(ref), sb_volume_free(hard_img);
    sb_mri_session_free(ss), sb_mri_session_free(sl), sb_mri_session_free(sh);
    sb_mri_session_free(s1), sb_mri_session_free(s0);
    sb_volume_free(tis);
}

/* ---- ghosting --------------------------------------------------------------------------------
 * A block of muscle (y 24..39 of 64) in air at 4 mm, period 4: ghosts at +-16 voxels along y
 * (phase encoding), none along x. */
static double region_mean(const sb_volume *v, size_t i0, size_t i1, size_t j0, size_t j1) {
    double s = 0;
    size_t n = 0;
    for (size_t k = 0; k < v->dim[2]; k++)
        for (size_t j = j0; j < j1; j++)
            for (size_t i = i0; i < i1; i++)
                s += sb_volume_get(v, sb_volume_index(v, i, j, k)), n++;
    return s / (double)n;
}

static void test_ghosting(void) {
    size_t dim[3] = {48, 64, 4}, lo[3] = {8, 24, 0}, hi[3] = {24, 40, 4};
    sb_volume *tis = block(dim, 4, lo, hi, "muscle");
    sb_subject s = subject_fixed(5, SB_SEX_FEMALE, 165, 22);
    sb_mr_tissues m = tissues_of(&s);
    sb_mri_session *ss = session(&m, &s, tis, NULL, dim[2]);
    sb_acquisition a = acq("T2w", 0, 0), g = a;
    g.ghost = 0.1, g.ghost_period = 4;
    sb_volume *ref = image(ss, &a, tis, 1, 0, SB_DT_FLOAT32),
              *img = image(ss, &g, tis, 2, 0, SB_DT_FLOAT32);
    if (!ref || !img) goto done;
    double obj = region_mean(ref, 10, 22, 26, 38), main_part = region_mean(img, 10, 22, 26, 38);
    double up = region_mean(img, 10, 22, 42, 54), down = region_mean(img, 10, 22, 10, 22);
    double side = region_mean(img, 30, 46, 26, 38), second = region_mean(img, 10, 22, 58, 64);
    printf("ghosting 0.10, period 4: object %.1f -> %.1f; ghosts at +-16 voxels %.2f and %.2f "
           "(%.3f, %.3f of the object); beside the object along x %.3f; at +32 %.3f\n",
           obj, main_part, up, down, up / obj, down / obj, side, second);
    CHECK(fabs(up / obj - 0.1) < 0.01 && fabs(down / obj - 0.1) < 0.01);
    CHECK(side < 1e-3 * obj);
    CHECK(second < 0.015 * obj); /* +32 and -32 meet at half the FOV: 2 J2(beta) = 0.010 */
    CHECK(fabs(main_part / obj - 0.990) < 0.003); /* J0(beta) */
    /* with noise: the same bytes at 1 and 2 threads, and in slabs */
    {
        sb_acquisition n = g;
        n.snr = 20;
        sb_volume *x = image(ss, &n, tis, 1, 0, SB_DT_INT16),
                  *y = image(ss, &n, tis, 2, 0, SB_DT_INT16);
        CHECK(same(x, y));
        sb_volume_free(x), sb_volume_free(y);
    }
    sb_error err;
    sb_ctx c = {.threads = 1};
    sb_volume *o[SB_MRI_OUT_MAX];
    double sl[SB_MRI_OUT_MAX];
    g.ghost = 0.6;
    CHECK(sb_mri_acquire(ss, &g, tis, NULL, NULL, 1, SB_DT_FLOAT32, &c, o, sl, &err) ==
          SB_ERR_USAGE);
    CHECK(strstr(err.msg, "ghosting amplitude 0.6") != NULL);
    g.ghost = 0.1, g.ghost_period = 1;
    CHECK(sb_mri_acquire(ss, &g, tis, NULL, NULL, 1, SB_DT_FLOAT32, &c, o, sl, &err) ==
          SB_ERR_USAGE);
done:
    sb_volume_free(ref), sb_volume_free(img);
    sb_mri_session_free(ss);
    sb_volume_free(tis);
}

/* ---- fat-water swap --------------------------------------------------------------------------
 * Fat above muscle in a 320 mm cube at 8 mm; probability 1: water and fat exchanged inside the
 * ball the session reports, the fat fraction 100 - its value, in and opposed phase untouched. */
static void test_swap(void) {
    size_t dim[3] = {40, 40, 40}, lo[3] = {4, 4, 4}, hi[3] = {36, 36, 36};
    sb_volume *tis = block(dim, 8, lo, hi, "muscle");
    if (tis)
        for (size_t v = 0; v < sb_volume_nvox(tis); v++)
            if (((uint8_t *)tis->data)[v] && v / (dim[0] * dim[1]) >= 20)
                ((uint8_t *)tis->data)[v] = (uint8_t)sb_tissue_index("fat");
    sb_subject s = subject_fixed(9, SB_SEX_MALE, 175, 27);
    sb_mr_tissues m = tissues_of(&s);
    sb_mri_setup always = {.fat_water_swap = 1}, never = {.fat_water_swap = 0};
    sb_mri_session *sw = session(&m, &s, tis, &always, 8), *no = session(&m, &s, tis, &never, 40),
                   *plain = session(&m, &s, tis, NULL, 40);
    double c[3] = {0}, r = 0;
    CHECK(sw && sb_mri_session_swap(sw, c, &r) == 1);
    CHECK(no && sb_mri_session_swap(no, c + 0, &r) == 0);
    CHECK(sw && sb_mri_session_swap(sw, c, &r) == 1 && r >= 50 && r <= 150);
    sb_acquisition a = acq("dixon_water", 0, 0.2);
    sb_volume *o1[SB_MRI_OUT_MAX] = {0}, *o2[SB_MRI_OUT_MAX] = {0};
    double sl[SB_MRI_OUT_MAX];
    sb_error err;
    sb_ctx cx = {.threads = 2};
    if (!sw || !no || !plain) goto done;
    CHECK(((uint8_t *)tis->data)[sb_volume_index(tis, (size_t)c[0], (size_t)c[1], (size_t)c[2])]);
    CHECK_OK(sb_mri_acquire(sw, &a, tis, NULL, NULL, 0x1f, SB_DT_FLOAT32, &cx, o1, sl, &err));
    CHECK_OK(sb_mri_acquire(no, &a, tis, NULL, NULL, 0x1f, SB_DT_FLOAT32, &cx, o2, sl, &err));
    if (!o1[0] || !o2[0]) goto done;
    size_t inside = 0, body_inside = 0, bad_in = 0, bad_out = 0, bad_echo = 0;
    for (size_t k = 0; k < dim[2]; k++)
        for (size_t j = 0; j < dim[1]; j++)
            for (size_t i = 0; i < dim[0]; i++) {
                size_t v = sb_volume_index(tis, i, j, k);
                double dx = ((double)i - c[0]) * 8, dy = ((double)j - c[1]) * 8,
                       dz = ((double)k - c[2]) * 8;
                int in = dx * dx + dy * dy + dz * dz < r * r;
                const float *w1 = o1[0]->data, *f1 = o1[1]->data, *w2 = o2[0]->data,
                            *f2 = o2[1]->data, *ff1 = o1[4]->data, *ff2 = o2[4]->data;
                bad_echo += memcmp((float *)o1[2]->data + v, (float *)o2[2]->data + v, 4) ||
                            memcmp((float *)o1[3]->data + v, (float *)o2[3]->data + v, 4);
                if (in) {
                    inside++;
                    body_inside += ((uint8_t *)tis->data)[v] != 0;
                    bad_in += w1[v] != f2[v] || f1[v] != w2[v] ||
                              (ff2[v] > 0 && fabsf(ff1[v] - (100 - ff2[v])) > 1e-3f);
                } else {
                    bad_out += w1[v] != w2[v] || f1[v] != f2[v] || ff1[v] != ff2[v];
                }
            }
    printf("fat-water swap: ball r %.0f mm at voxel (%.0f, %.0f, %.0f), %zu voxels (%zu in the "
           "body); mismatches inside %zu, outside %zu, echoes %zu\n",
           r, c[0], c[1], c[2], inside, body_inside, bad_in, bad_out, bad_echo);
    CHECK(body_inside > 100 && bad_in == 0 && bad_out == 0 && bad_echo == 0);
    /* probability 0: the bytes of a session without the option */
    {
        sb_acquisition n = acq("dixon_water", 30, 0.2);
        sb_volume *x = image(no, &n, tis, 2, 0, SB_DT_INT16),
                  *y = image(plain, &n, tis, 1, 0, SB_DT_INT16);
        CHECK(same(x, y));
        sb_volume_free(x), sb_volume_free(y);
    }
done:
    for (int k = 0; k < SB_MRI_OUT_MAX; k++) sb_volume_free(o1[k]), sb_volume_free(o2[k]);
    sb_mri_session_free(sw), sb_mri_session_free(no), sb_mri_session_free(plain);
    sb_volume_free(tis);
}

/* ---- flow voids ------------------------------------------------------------------------------
 * Blood above muscle at 4 mm, 30 cm/s: void on T2w (TE 100: 15 mm washout), partly on T1w
 * (TE 15: 1 - 2.25 / 4 of the signal), none on spoiled GRE; muscle unchanged. */
static void test_flow_voids(void) {
    size_t dim[3] = {16, 16, 16}, lo[3] = {2, 2, 2}, hi[3] = {14, 14, 14};
    sb_volume *tis = block(dim, 4, lo, hi, "muscle");
    if (tis)
        for (size_t v = 0; v < sb_volume_nvox(tis); v++)
            if (((uint8_t *)tis->data)[v] && v / (dim[0] * dim[1]) >= 8)
                ((uint8_t *)tis->data)[v] = (uint8_t)sb_tissue_index("blood");
    sb_subject s = subject_fixed(3, SB_SEX_MALE, 175, 24);
    sb_mr_tissues m = tissues_of(&s);
    sb_mri_session *ss = session(&m, &s, tis, NULL, dim[2]);
    const char *names[3] = {"T2w", "T1w", "GRE"};
    const double expect[3] = {0, 1 - 0.3 * 7.5 / 4, 1};
    int blood = sb_tissue_index("blood"), mus = sb_tissue_index("muscle");
    for (int q = 0; q < 3 && ss; q++) {
        sb_acquisition a = acq(names[q], 0, 0), f = a;
        f.flow_cm_s = 30;
        sb_volume *x = image(ss, &a, tis, 1, 0, SB_DT_FLOAT32),
                  *y = image(ss, &f, tis, 2, 0, SB_DT_FLOAT32);
        double bx = 0, by = 0, mx = 0, my = 0;
        size_t nb = 0, nm = 0;
        for (size_t v = 0; x && y && v < sb_volume_nvox(tis); v++) {
            int t = ((uint8_t *)tis->data)[v];
            if (t == blood) bx += ((float *)x->data)[v], by += ((float *)y->data)[v], nb++;
            if (t == mus) mx += ((float *)x->data)[v], my += ((float *)y->data)[v], nm++;
        }
        printf("flow voids 30 cm/s, 4 mm, %s: blood %.1f -> %.1f (%.3f, expected %.3f), muscle "
               "%.1f -> %.1f\n",
               names[q], bx / (double)nb, by / (double)nb, by / bx, expect[q], mx / (double)nm,
               my / (double)nm);
        CHECK(nb && fabs(by / bx - expect[q]) < 1e-4 && mx == my);
        sb_volume_free(x), sb_volume_free(y);
    }
    sb_mri_session_free(ss);
    sb_volume_free(tis);
}

int main(void) {
    test_stations();
    test_ghosting();
    test_swap();
    test_flow_voids();
    TEST_RETURN();
}
