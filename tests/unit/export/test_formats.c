/* Unit tests of the other formats: binary STL bytes and its read-back through Assimp
 * (sb_mesh_read joins vertices), the three label-table texts, PNG written and decoded by
 * libpng. */
#include "sb_export.h"
#include "sb_test.h"

#include <png.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OUTDIR "test_formats_out"

static char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    *n = 0;
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)(len > 0 ? len : 0) + 1);
    if (buf && len > 0 && fread(buf, 1, (size_t)len, f) != (size_t)len) len = 0;
    fclose(f);
    *n = len > 0 ? (size_t)len : 0;
    if (buf) buf[*n] = '\0';
    return buf;
}

static float rd_f32(const char *p) {
    float v;
    memcpy(&v, p, 4);
    return v;
}

/* A closed tetrahedron, counter-clockwise seen from outside. */
static const float tet_v[12] = {0, 0, 0, 10, 0, 0, 0, 20, 0, 0, 0, 30.5f};
static const uint32_t tet_t[12] = {0, 2, 1, 0, 1, 3, 0, 3, 2, 1, 2, 3};

static void test_stl(void) {
    sb_trimesh m = {4, 4, (float *)tet_v, (uint32_t *)tet_t};
    sb_error err = {0};
    const char *path = OUTDIR "/tet.stl", *path2 = OUTDIR "/tet2.stl";
    CHECK_OK(sb_stl_write(&m, "tetra", path, 1, &err));
    CHECK_OK(sb_stl_write(&m, "tetra", path2, 1, &err));
    size_t n, n2;
    char *b = slurp(path, &n), *b2 = slurp(path2, &n2);
    CHECK(b && n == 84 + 4 * 50);
    CHECK(b && b2 && n == n2 && memcmp(b, b2, n) == 0);
    if (b && n == 284) {
        /* the header states the frame (world RAS+ mm), as the export's STL files do */
        CHECK(memcmp(b, "synthbody tetra SPACE=RAS", 26) == 0);
        int zeros = 1;
        for (int i = 26; i < 80; i++) zeros &= b[i] == 0;
        CHECK(zeros);
        CHECK((unsigned char)b[80] == 4 && b[81] == 0 && b[82] == 0 && b[83] == 0);
        /* triangle 0 = (0, 2, 1) lies in z = 0, seen from outside (below): normal -z */
        const char *t0 = b + 84;
        CHECK(rd_f32(t0) == 0.0f && rd_f32(t0 + 4) == 0.0f && rd_f32(t0 + 8) == -1.0f);
        CHECK(rd_f32(t0 + 12 + 12) == 0.0f && rd_f32(t0 + 12 + 16) == 20.0f); /* vertex 2 */
        /* triangle 3 = (1, 2, 3): the slanted face, unit normal with positive components */
        const char *t3 = b + 84 + 3 * 50;
        double nx = rd_f32(t3), ny = rd_f32(t3 + 4), nz = rd_f32(t3 + 8);
        CHECK_NEAR(nx * nx + ny * ny + nz * nz, 1.0, 1e-6);
        CHECK(nx > 0 && ny > 0 && nz > 0);
        CHECK(t3[48] == 0 && t3[49] == 0);
    }
    free(b);
    free(b2);
    CHECK(sb_stl_write(&m, "tetra", path, 0, &err) == SB_ERR_EXISTS);

    sb_trimesh *r = NULL;
    CHECK_OK(sb_mesh_read(path, &r, &err));
    if (!r) {
        fprintf(stderr, "%s\n", err.msg);
        return;
    }
    CHECK(r->ntris == 4);
    CHECK(r->nverts == 4); /* 12 STL corners joined into the 4 tetrahedron vertices */
    /* every vertex read is one of ours, and each triangle's corners match ours */
    for (size_t t = 0; t < r->ntris && t < 4; t++)
        for (int c = 0; c < 3; c++) {
            const float *p = r->verts + 3 * (size_t)r->tris[3 * t + c];
            const float *q = tet_v + 3 * tet_t[3 * t + c];
            CHECK(p[0] == q[0] && p[1] == q[1] && p[2] == q[2]);
        }
    sb_trimesh_free(r);

    /* unreadable: Assimp's reason in the message */
    FILE *f = fopen(OUTDIR "/junk.stl", "wb");
    if (f) {
        fputs("this is not a mesh", f);
        fclose(f);
    }
    r = NULL;
    CHECK(sb_mesh_read(OUTDIR "/junk.stl", &r, &err) == SB_ERR_INPUT);
    CHECK(r == NULL);
    CHECK(strstr(err.msg, "junk.stl") != NULL);
    CHECK(sb_mesh_read(OUTDIR "/missing.stl", &r, &err) == SB_ERR_INPUT);
    CHECK(strstr(err.msg, "missing.stl") != NULL);
}

/* An OBJ with two objects, a quad (triangulated) and shared vertices. */
static void test_obj_read(void) {
    const char *path = OUTDIR "/two.obj";
    FILE *f = fopen(path, "w");
    if (!f) {
        CHECK(0);
        return;
    }
    fputs("o a\nv 0 0 0\nv 1 0 0\nv 1 1 0\nv 0 1 0\nf 1 2 3 4\n"
          "o b\nv 0 0 5\nv 1 0 5\nv 0 1 5\nf 5 6 7\n",
          f);
    fclose(f);
    sb_trimesh *r = NULL;
    sb_error err = {0};
    CHECK_OK(sb_mesh_read(path, &r, &err));
    if (!r) {
        fprintf(stderr, "%s\n", err.msg);
        return;
    }
    CHECK(r->ntris == 3);
    CHECK(r->nverts == 7);
    int z5 = 0;
    for (size_t i = 0; i < r->nverts; i++) z5 += r->verts[3 * i + 2] == 5.0f;
    CHECK(z5 == 3);
    sb_trimesh_free(r);
}

static sb_label_table *two_labels(void) {
    sb_label_table *t = sb_labels_create();
    sb_label a = {0}, b = {0};
    a.id = 1;
    strcpy(a.name, "liver");
    strcpy(a.abbrev, "LIV");
    strcpy(a.group, "digestive");
    a.rgba[0] = 200, a.rgba[1] = 100, a.rgba[2] = 50, a.rgba[3] = 255;
    b.id = 12;
    strcpy(b.name, "left_kidney");
    strcpy(b.abbrev, "LKID");
    b.rgba[0] = 10, b.rgba[1] = 0, b.rgba[2] = 255, b.rgba[3] = 128;
    sb_error err;
    CHECK_OK(sb_labels_add(t, &a, &err));
    CHECK_OK(sb_labels_add(t, &b, &err));
    return t;
}

static void check_text(const char *path, const char *want) {
    size_t n;
    char *got = slurp(path, &n);
    CHECK(got && strcmp(got, want) == 0);
    if (got && strcmp(got, want) != 0)
        fprintf(stderr, "%s:\n[%s]\nwanted\n[%s]\n", path, got, want);
    free(got);
}

static void test_label_files(void) {
    sb_label_table *t = two_labels();
    sb_error err = {0};
    CHECK_OK(sb_labels_write_tsv(t, OUTDIR "/dseg.tsv", 1, &err));
    check_text(OUTDIR "/dseg.tsv", "index\tname\tabbreviation\tcolor\tgroup\n"
                                   "1\tliver\tLIV\t#c86432\tdigestive\n"
                                   "12\tleft_kidney\tLKID\t#0a00ff\tn/a\n");
    CHECK_OK(sb_labels_write_ctbl(t, OUTDIR "/labels.ctbl", 1, &err));
    check_text(OUTDIR "/labels.ctbl", "# Color table file synthbody labels\n"
                                      "# 3 values\n"
                                      "0 background 0 0 0 0\n"
                                      "1 liver 200 100 50 255\n"
                                      "12 left_kidney 10 0 255 128\n");
    CHECK_OK(sb_labels_write_itksnap(t, OUTDIR "/labels.txt", 1, &err));
    check_text(OUTDIR "/labels.txt", "################################################\n"
                                     "# ITK-SnAP Label Description File\n"
                                     "# File format: \n"
                                     "# IDX   -R-  -G-  -B-  -A--  VIS MSH  LABEL\n"
                                     "# Fields: \n"
                                     "#    IDX:   Zero-based index \n"
                                     "#    -R-:   Red color component (0..255)\n"
                                     "#    -G-:   Green color component (0..255)\n"
                                     "#    -B-:   Blue color component (0..255)\n"
                                     "#    -A-:   Label transparency (0.00 .. 1.00)\n"
                                     "#    VIS:   Label visibility (0 or 1)\n"
                                     "#    IDX:   Label mesh visibility (0 or 1)\n"
                                     "#  LABEL:   Label description \n"
                                     "################################################\n"
                                     "    0     0    0    0        0  0  0    \"Clear Label\"\n"
                                     "    1   200  100   50        1  1  1    \"liver\"\n"
                                     "   12    10    0  255    0.502  1  1    \"left_kidney\"\n");
    CHECK(sb_labels_write_tsv(t, OUTDIR "/dseg.tsv", 0, &err) == SB_ERR_EXISTS);
    CHECK(sb_labels_write_tsv(t, "/nonexistent-synthbody-dir/d.tsv", 1, &err) == SB_ERR_OUTPUT);
    sb_labels_free(t);
}

static void test_png(void) {
    enum { W = 7, H = 5 };
    uint8_t rgb[W * H * 3];
    for (int i = 0; i < W * H * 3; i++) rgb[i] = (uint8_t)(i * 37 + 11);
    const char *path = OUTDIR "/img.png";
    sb_error err = {0};
    CHECK_OK(sb_png_write_rgb(rgb, W, H, path, 1, &err));
    size_t n;
    char *b = slurp(path, &n);
    CHECK(b && n > 8 && memcmp(b, "\x89PNG\r\n\x1a\n", 8) == 0);
    free(b);
    png_image img;
    memset(&img, 0, sizeof img);
    img.version = PNG_IMAGE_VERSION;
    CHECK(png_image_begin_read_from_file(&img, path) != 0);
    CHECK(img.width == W && img.height == H);
    img.format = PNG_FORMAT_RGB;
    uint8_t back[W * H * 3];
    CHECK(png_image_finish_read(&img, NULL, back, 0, NULL) != 0);
    CHECK(memcmp(back, rgb, sizeof rgb) == 0);
    png_image_free(&img);
    CHECK(sb_png_write_rgb(rgb, W, H, path, 0, &err) == SB_ERR_EXISTS);
    CHECK(sb_png_write_rgb(rgb, W, H, "/nonexistent-synthbody-dir/i.png", 1, &err) ==
          SB_ERR_OUTPUT);
}

int main(void) {
    sb_error err;
    if (sb_mkdir_p(OUTDIR, &err) != SB_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    test_stl();
    test_obj_read();
    test_label_files();
    test_png();
    TEST_RETURN();
}
