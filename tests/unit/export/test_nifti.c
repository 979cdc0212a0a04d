/* Unit tests of the NIfTI writer and reader: round trips of every common datatype, plain and
 * gzip, with an oblique LAS affine; byte-identical output (twice, 1 vs 2 OpenMP threads);
 * outfile behaviour (exists, unwritable); header fields as written; malformed inputs refused
 * with SB_ERR_INPUT/SB_ERR_MEMORY and a message naming the file; axis codes. */
#include "sb_export.h"
#include "sb_test.h"

#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OUTDIR "test_nifti_out"

static void path_of(char *buf, size_t n, const char *name) {
    snprintf(buf, n, "%s/%s", OUTDIR, name);
}

/* A rotation about z by 30 degrees then x by 10, scaled 0.9/1.1/1.3, x flipped (LAS-like). */
static void oblique_las_affine(double a[4][4]) {
    const double cz = cos(30 * M_PI / 180), sz = sin(30 * M_PI / 180);
    const double cx = cos(10 * M_PI / 180), sx = sin(10 * M_PI / 180);
    const double Rz[3][3] = {{cz, -sz, 0}, {sz, cz, 0}, {0, 0, 1}};
    const double Rx[3][3] = {{1, 0, 0}, {0, cx, -sx}, {0, sx, cx}};
    const double scale[3] = {-0.9, 1.1, 1.3};
    memset(a, 0, 16 * sizeof(double));
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 3; c++) {
            double s = 0;
            for (int k = 0; k < 3; k++) s += Rx[r][k] * Rz[k][c];
            a[r][c] = s * scale[c];
        }
    a[0][3] = 90.5;
    a[1][3] = -112.25;
    a[2][3] = -60.75;
    a[3][3] = 1;
}

static sb_volume *make_volume(sb_dtype t, size_t nx, size_t ny, size_t nz, uint32_t seed) {
    size_t dim[3] = {nx, ny, nz};
    double sp[3] = {1, 1, 1};
    sb_volume *v = NULL;
    sb_error err;
    if (sb_volume_create(dim, sp, t, &v, &err) != SB_OK) return NULL;
    oblique_las_affine(v->affine);
    sb_volume_update_spacing(v);
    sb_rng r;
    sb_rng_init(&r, seed, 0, SB_STREAM_NOISE);
    size_t n = sb_volume_nvox(v);
    for (size_t i = 0; i < n; i++) {
        uint32_t u = sb_rng_u32(&r);
        switch (t) {
        case SB_DT_UINT8:
            ((uint8_t *)v->data)[i] = (uint8_t)u;
            break;
        case SB_DT_INT16:
            ((int16_t *)v->data)[i] = (int16_t)(1000 + (int)(u % 600) - 300);
            break;
        case SB_DT_UINT16:
            ((uint16_t *)v->data)[i] = (uint16_t)(i / 997 % 80);
            break;
        case SB_DT_FLOAT32:
            ((float *)v->data)[i] = (float)(sb_rng_normal(&r) * 100.0);
            break;
        default:
            ((uint8_t *)v->data)[i] = 0;
        }
    }
    return v;
}

static unsigned char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    *n = 0;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc(len > 0 ? (size_t)len : 1);
    if (buf && len > 0 && fread(buf, 1, (size_t)len, f) != (size_t)len) len = 0;
    fclose(f);
    *n = len > 0 ? (size_t)len : 0;
    return buf;
}

static void spit(const char *path, const void *buf, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f) return;
    if (n) fwrite(buf, 1, n, f);
    fclose(f);
}

static int same_file(const char *a, const char *b) {
    size_t na, nb;
    unsigned char *x = slurp(a, &na), *y = slurp(b, &nb);
    int same = x && y && na == nb && na > 0 && memcmp(x, y, na) == 0;
    free(x);
    free(y);
    return same;
}

static void check_affine_near(const double a[4][4], const double b[4][4]) {
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 4; c++) CHECK_NEAR(a[r][c], b[r][c], 1e-5 * fmax(1.0, fabs(b[r][c])));
}

static void test_round_trip(void) {
    const sb_dtype types[4] = {SB_DT_UINT8, SB_DT_INT16, SB_DT_UINT16, SB_DT_FLOAT32};
    for (int t = 0; t < 4; t++)
        for (int gz = 0; gz < 2; gz++) {
            sb_volume *v = make_volume(types[t], 31, 23, 17, (uint32_t)(7 + t));
            CHECK(v != NULL);
            if (!v) continue;
            char path[256], name[64];
            snprintf(name, sizeof name, "rt_%s.nii%s", sb_dtype_name(types[t]), gz ? ".gz" : "");
            path_of(path, sizeof path, name);
            sb_error err = {0};
            /* label maps are compressed at another level: cover both */
            int intent = types[t] == SB_DT_UINT16 ? SB_NIFTI_INTENT_LABEL : SB_NIFTI_INTENT_NONE;
            CHECK_OK(sb_nifti_write(v, path, 1, intent, "round trip", &err));
            sb_volume *w = NULL;
            sb_nifti_info info;
            CHECK_OK(sb_nifti_read(path, NULL, &w, &info, &err));
            if (!w) {
                fprintf(stderr, "%s\n", err.msg);
                sb_volume_free(v);
                continue;
            }
            CHECK(w->dtype == types[t]);
            CHECK(w->dim[0] == 31 && w->dim[1] == 23 && w->dim[2] == 17);
            CHECK(memcmp(v->data, w->data, sb_volume_bytes_needed(v->dim, v->dtype)) == 0);
            check_affine_near(w->affine, v->affine);
            CHECK_NEAR(w->spacing[0], 0.9, 1e-5);
            CHECK_NEAR(w->spacing[1], 1.1, 1e-5);
            CHECK_NEAR(w->spacing[2], 1.3, 1e-5);
            CHECK(info.version == 1);
            CHECK(info.compressed == gz);
            CHECK(info.big_endian == 0);
            CHECK(info.ndim == 3 && info.dim[1] == 31 && info.dim[2] == 23 && info.dim[3] == 17);
            CHECK(info.datatype == (int)types[t]);
            CHECK(info.qform_code == 1 && info.sform_code == 1 && info.used_sform == 1);
            CHECK(info.scl_slope == 1.0 && info.scl_inter == 0.0);
            CHECK(info.intent_code == intent);
            CHECK(strcmp(info.descrip, "round trip") == 0);
            CHECK(strcmp(info.orient, "LAS") == 0);
            sb_volume_free(v);
            sb_volume_free(w);
        }
}

/* The qform written must give the same affine as the sform: read it back with sform_code 0. */
static void test_qform_equals_sform(void) {
    sb_volume *v = make_volume(SB_DT_INT16, 9, 8, 7, 3);
    char path[256];
    path_of(path, sizeof path, "qform.nii");
    sb_error err = {0};
    CHECK_OK(sb_nifti_write(v, path, 1, 0, NULL, &err));
    size_t n;
    unsigned char *b = slurp(path, &n);
    CHECK(b && n == 352 + 9 * 8 * 7 * 2);
    if (b && n > 352) {
        int16_t zero = 0;
        memcpy(b + 254, &zero, 2); /* sform_code */
        spit(path, b, n);
    }
    free(b);
    sb_volume *w = NULL;
    sb_nifti_info info;
    CHECK_OK(sb_nifti_read(path, NULL, &w, &info, &err));
    if (w) {
        CHECK(info.used_sform == 0 && info.qform_code == 1);
        check_affine_near(w->affine, v->affine);
    }
    sb_volume_free(v);
    sb_volume_free(w);
}

static int32_t rd_i32(const unsigned char *p) {
    int32_t v;
    memcpy(&v, p, 4);
    return v;
}
static int16_t rd_i16(const unsigned char *p) {
    int16_t v;
    memcpy(&v, p, 2);
    return v;
}
static float rd_f32(const unsigned char *p) {
    float v;
    memcpy(&v, p, 4);
    return v;
}

static void test_header_fields(void) {
    sb_volume *v = make_volume(SB_DT_UINT16, 5, 6, 7, 1);
    char path[256];
    path_of(path, sizeof path, "label.nii");
    sb_error err = {0};
    const char *longdesc = "synthbody label map, a description longer than the seventy-nine "
                           "characters NIfTI-1 can hold in descrip";
    CHECK_OK(sb_nifti_write(v, path, 1, SB_NIFTI_INTENT_LABEL, longdesc, &err));
    size_t n;
    unsigned char *b = slurp(path, &n);
    CHECK(b && n == 352 + 5 * 6 * 7 * 2);
    if (b && n >= 352) {
        CHECK(rd_i32(b) == 348);
        CHECK(memcmp(b + 344, "n+1\0", 4) == 0);
        CHECK(rd_i16(b + 40) == 3 && rd_i16(b + 42) == 5 && rd_i16(b + 44) == 6 &&
              rd_i16(b + 46) == 7);
        CHECK(rd_i16(b + 68) == 1002);  /* intent_code */
        CHECK(rd_i16(b + 70) == 512);   /* datatype */
        CHECK(rd_i16(b + 72) == 16);    /* bitpix */
        CHECK(rd_f32(b + 76) == -1.0f); /* qfac: LAS-like affine has a negative determinant */
        CHECK_NEAR(rd_f32(b + 80), 0.9, 1e-6);
        CHECK(rd_f32(b + 108) == 352.0f); /* vox_offset */
        CHECK(rd_f32(b + 112) == 1.0f && rd_f32(b + 116) == 0.0f);
        CHECK(b[123] == 2); /* xyzt_units: NIFTI_UNITS_MM */
        CHECK(rd_i16(b + 252) == 1 && rd_i16(b + 254) == 1);
        CHECK(memcmp(b + 148, longdesc, 79) == 0 && b[148 + 79] == 0);
        CHECK(b[348] == 0 && b[349] == 0 && b[350] == 0 && b[351] == 0);
        CHECK_NEAR(rd_f32(b + 280 + 12), 90.5, 1e-6);
    }
    free(b);
    sb_volume_free(v);
}

static void test_deterministic(void) {
    /* 256 x 256 x 80 int16 = 10.5 MB: two gzip members */
    sb_volume *v = make_volume(SB_DT_INT16, 256, 256, 80, 11);
    char a[256], b[256], c[256];
    path_of(a, sizeof a, "det_a.nii.gz");
    path_of(b, sizeof b, "det_b.nii.gz");
    path_of(c, sizeof c, "det_c.nii.gz");
    sb_error err = {0};
    omp_set_num_threads(2);
    CHECK_OK(sb_nifti_write(v, a, 1, 0, "det", &err));
    CHECK_OK(sb_nifti_write(v, b, 1, 0, "det", &err));
    omp_set_num_threads(1);
    CHECK_OK(sb_nifti_write(v, c, 1, 0, "det", &err));
    omp_set_num_threads(4);
    CHECK(same_file(a, b));
    CHECK(same_file(a, c));
    /* several gzip members: a second member header after the first */
    size_t n;
    unsigned char *buf = slurp(a, &n);
    int members = 0;
    for (size_t i = 0; buf && i + 10 <= n; i++)
        if (buf[i] == 0x1f && buf[i + 1] == 0x8b && buf[i + 2] == 8 && buf[i + 3] == 0 &&
            rd_i32(buf + i + 4) == 0)
            members++;
    CHECK(members >= 2);
    free(buf);
    sb_volume *w = NULL;
    CHECK_OK(sb_nifti_read(a, NULL, &w, NULL, &err));
    CHECK(w && memcmp(w->data, v->data, sb_volume_bytes_needed(v->dim, v->dtype)) == 0);
    sb_volume_free(w);
    char p1[256], p2[256];
    path_of(p1, sizeof p1, "det_a.nii");
    path_of(p2, sizeof p2, "det_b.nii");
    CHECK_OK(sb_nifti_write(v, p1, 1, 0, "det", &err));
    CHECK_OK(sb_nifti_write(v, p2, 1, 0, "det", &err));
    CHECK(same_file(p1, p2));
    sb_volume_free(v);
}

static void test_outfile_behaviour(void) {
    sb_volume *v = make_volume(SB_DT_UINT8, 4, 4, 4, 5);
    sb_volume *v2 = make_volume(SB_DT_UINT8, 4, 4, 4, 6);
    char path[256];
    path_of(path, sizeof path, "exists.nii.gz");
    unlink(path);
    sb_error err = {0};
    CHECK_OK(sb_nifti_write(v, path, 0, 0, NULL, &err));
    size_t n0;
    unsigned char *before = slurp(path, &n0);
    CHECK(sb_nifti_write(v2, path, 0, 0, NULL, &err) == SB_ERR_EXISTS);
    CHECK(strstr(err.msg, path) != NULL);
    size_t n1;
    unsigned char *after = slurp(path, &n1);
    CHECK(before && after && n0 == n1 && memcmp(before, after, n0) == 0);
    free(after);
    CHECK_OK(sb_nifti_write(v2, path, 1, 0, NULL, &err));
    after = slurp(path, &n1);
    CHECK(after && (n0 != n1 || memcmp(before, after, n0) != 0));
    free(before);
    free(after);
    CHECK(sb_nifti_write(v, "/nonexistent-synthbody-dir/x.nii", 1, 0, NULL, &err) == SB_ERR_OUTPUT);
    CHECK(strstr(err.msg, "/nonexistent-synthbody-dir/x.nii") != NULL);
    CHECK(sb_nifti_write(v, OUTDIR "/x.img", 1, 0, NULL, &err) == SB_ERR_USAGE);
    sb_volume_free(v);
    sb_volume_free(v2);
}

/* Reads path; expects `want` and a message naming the file and containing `needle`. */
static void expect_read_error(const char *path, sb_status want, const char *needle) {
    sb_volume *w = NULL;
    sb_error err = {0};
    sb_status s = sb_nifti_read(path, NULL, &w, NULL, &err);
    if (s != want || !strstr(err.msg, path) || (needle && !strstr(err.msg, needle)))
        fprintf(stderr, "reading %s: status %d, message \"%s\" (wanted %d, \"%s\")\n", path, (int)s,
                err.msg, (int)want, needle ? needle : "");
    CHECK(s == want);
    CHECK(w == NULL);
    CHECK(strstr(err.msg, path) != NULL);
    if (needle) CHECK(strstr(err.msg, needle) != NULL);
}

static void test_bad_inputs(void) {
    sb_volume *v = make_volume(SB_DT_INT16, 10, 10, 10, 9);
    char good[256], bad[256], goodgz[256];
    path_of(good, sizeof good, "good.nii");
    path_of(goodgz, sizeof goodgz, "good.nii.gz");
    path_of(bad, sizeof bad, "bad.nii");
    sb_error err = {0};
    CHECK_OK(sb_nifti_write(v, good, 1, 0, NULL, &err));
    CHECK_OK(sb_nifti_write(v, goodgz, 1, 0, NULL, &err));
    size_t n;
    unsigned char *g = slurp(good, &n);
    CHECK(g && n == 352 + 2000);
    unsigned char *b = malloc(n);
    if (!g || !b || n != 2352) {
        free(g);
        free(b);
        sb_volume_free(v);
        return;
    }

    expect_read_error(OUTDIR "/missing.nii", SB_ERR_INPUT, "No such file");
    spit(bad, "", 0);
    expect_read_error(bad, SB_ERR_INPUT, "empty");
    spit(bad, g, 100);
    expect_read_error(bad, SB_ERR_INPUT, "header");

    memcpy(b, g, n);
    memcpy(b + 344, "xyz", 4);
    spit(bad, b, n);
    expect_read_error(bad, SB_ERR_INPUT, "not a NIfTI");
    memcpy(b, g, n);
    memcpy(b, "\x01\x02\x03\x04", 4);
    spit(bad, b, n);
    expect_read_error(bad, SB_ERR_INPUT, "not a NIfTI");
    memcpy(b, g, n);
    memcpy(b + 344, "ni1", 4);
    spit(bad, b, n);
    expect_read_error(bad, SB_ERR_INPUT, "ni1");

    spit(bad, g, 352 + 1000);
    expect_read_error(bad, SB_ERR_INPUT, "truncated: needs 2000 bytes of data, file has 1000");

    /* a cut .nii.gz: the gzip stream ends early */
    size_t ngz;
    unsigned char *gz = slurp(goodgz, &ngz);
    char badgz[256];
    path_of(badgz, sizeof badgz, "bad.nii.gz");
    if (gz) spit(badgz, gz, ngz / 2);
    free(gz);
    expect_read_error(badgz, SB_ERR_INPUT, NULL);

    int16_t i16;
    memcpy(b, g, n);
    i16 = 0;
    memcpy(b + 42, &i16, 2); /* dim[1] = 0 */
    spit(bad, b, n);
    expect_read_error(bad, SB_ERR_INPUT, "dim[1] = 0");
    memcpy(b, g, n);
    i16 = 9;
    memcpy(b + 40, &i16, 2); /* dim[0] = 9 */
    spit(bad, b, n);
    expect_read_error(bad, SB_ERR_INPUT, "dim[0] = 9");

    memcpy(b, g, n);
    float f = NAN;
    memcpy(b + 80, &f, 4); /* pixdim[1] */
    spit(bad, b, n);
    expect_read_error(bad, SB_ERR_INPUT, "pixdim[1]");

    memcpy(b, g, n);
    f = INFINITY;
    memcpy(b + 280 + 4, &f, 4); /* srow_x[1] */
    spit(bad, b, n);
    expect_read_error(bad, SB_ERR_INPUT, "srow_x[1]");

    memcpy(b, g, n);
    f = 0;
    for (int c = 0; c < 4; c++) memcpy(b + 280 + 4 * c, &f, 4); /* srow_x all zero */
    spit(bad, b, n);
    expect_read_error(bad, SB_ERR_INPUT, "singular");

    memcpy(b, g, n);
    i16 = 1792; /* complex128 */
    memcpy(b + 70, &i16, 2);
    spit(bad, b, n);
    expect_read_error(bad, SB_ERR_INPUT, "datatype = 1792");

    /* huge dims: 32767^3 int16 is 70 TB: refused before allocating */
    memcpy(b, g, n);
    i16 = 32767;
    for (int d = 1; d <= 3; d++) memcpy(b + 40 + 2 * d, &i16, 2);
    spit(bad, b, n);
    {
        sb_volume *w = NULL;
        sb_status s = sb_nifti_read(bad, NULL, &w, NULL, &err);
        CHECK(s == SB_ERR_MEMORY || s == SB_ERR_INPUT);
        CHECK(w == NULL);
        CHECK(strstr(err.msg, bad) != NULL);
    }

    /* a NIfTI-2 header with 100000^3 voxels of float64 */
    {
        unsigned char h2[544];
        memset(h2, 0, sizeof h2);
        int32_t sz = 540;
        memcpy(h2, &sz, 4);
        memcpy(h2 + 4, "n+2\0\r\n\032\n", 8);
        int16_t dt = 64;
        memcpy(h2 + 12, &dt, 2);
        int64_t dims[4] = {3, 100000, 100000, 100000};
        memcpy(h2 + 16, dims, sizeof dims);
        double pix[4] = {1, 1, 1, 1};
        memcpy(h2 + 104, pix, sizeof pix);
        int64_t off = 544;
        memcpy(h2 + 168, &off, 8);
        char p2[256];
        path_of(p2, sizeof p2, "huge2.nii");
        spit(p2, h2, sizeof h2);
        sb_volume *w = NULL;
        sb_status s = sb_nifti_read(p2, NULL, &w, NULL, &err);
        CHECK(s == SB_ERR_MEMORY || s == SB_ERR_INPUT);
        CHECK(w == NULL);
        CHECK(strstr(err.msg, p2) != NULL);
        /* and 2^40 in each: the voxel count overflows size_t */
        dims[1] = dims[2] = dims[3] = (int64_t)1 << 40;
        memcpy(h2 + 16, dims, sizeof dims);
        spit(p2, h2, sizeof h2);
        expect_read_error(p2, SB_ERR_INPUT, "overflows");
    }
    free(g);
    free(b);
    sb_volume_free(v);
}

/* Random byte changes in the header of a valid file: the reader returns OK, SB_ERR_INPUT or
 * SB_ERR_MEMORY, never crashes (run under ASan/UBSan in the sanitizer build), and on success
 * gives a volume of the right size. Plain .nii: its size is checked before allocating. */
static void test_header_mutations(void) {
    sb_volume *v = make_volume(SB_DT_INT16, 6, 5, 4, 2);
    char good[256], bad[256];
    path_of(good, sizeof good, "mut_good.nii");
    path_of(bad, sizeof bad, "mut.nii");
    sb_error err = {0};
    CHECK_OK(sb_nifti_write(v, good, 1, 0, NULL, &err));
    size_t n;
    unsigned char *g = slurp(good, &n);
    unsigned char *b = malloc(n ? n : 1);
    sb_rng r;
    sb_rng_init(&r, 2024, 0, SB_STREAM_NOISE);
    int ok = 0, refused = 0;
    for (int it = 0; g && b && it < 3000; it++) {
        memcpy(b, g, n);
        int nmut = 1 + (int)(sb_rng_u32(&r) % 4);
        for (int m = 0; m < nmut; m++) {
            uint32_t u = sb_rng_u32(&r);
            b[u % 352] = (uint8_t)(u >> 16);
        }
        spit(bad, b, n);
        sb_volume *w = NULL;
        sb_status s = sb_nifti_read(bad, NULL, &w, NULL, &err);
        CHECK(s == SB_OK || s == SB_ERR_INPUT || s == SB_ERR_MEMORY);
        if (s == SB_OK) {
            ok++;
            CHECK(w && sb_volume_bytes_needed(w->dim, w->dtype) <= n - 348);
        } else {
            refused++;
            CHECK(w == NULL && strstr(err.msg, bad) != NULL);
        }
        sb_volume_free(w);
    }
    CHECK(ok > 0 && refused > 0);
    free(g);
    free(b);
    sb_volume_free(v);
}

static void test_axcodes(void) {
    double a[4][4] = {{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}};
    char c[4];
    sb_affine_axcodes(a, c);
    CHECK(strcmp(c, "RAS") == 0);
    a[0][0] = -2;
    sb_affine_axcodes(a, c);
    CHECK(strcmp(c, "LAS") == 0);
    a[1][1] = -1;
    sb_affine_axcodes(a, c);
    CHECK(strcmp(c, "LPS") == 0);
    double p[4][4] = {{0, 0, 3, 0}, {-1, 0, 0, 0}, {0, 2, 0, 0}, {0, 0, 0, 1}};
    sb_affine_axcodes(p, c);
    CHECK(strcmp(c, "PSR") == 0);
    /* oblique: the largest component decides; a world axis is used only once */
    double o[4][4] = {{0.7, 0.72, 0, 0}, {0.6, -0.7, 0, 0}, {0, 0, -1, 0}, {0, 0, 0, 1}};
    sb_affine_axcodes(o, c);
    CHECK(strcmp(c, "RPI") == 0);
}

int main(void) {
    sb_error err;
    if (sb_mkdir_p(OUTDIR, &err) != SB_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    test_round_trip();
    test_qform_equals_sform();
    test_header_fields();
    test_deterministic();
    test_outfile_behaviour();
    test_bad_inputs();
    test_header_mutations();
    test_axcodes();
    TEST_RETURN();
}
