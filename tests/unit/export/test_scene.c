/* Unit tests of the scene writers (export/scene.c, glb.c, threemf.c): exact decimals in OBJ,
 * the frame (units, Y up) in STL, the GLB container and its JSON, the 3MF ZIP read back by
 * Assimp, sRGB linearisation, and malformed input refused without leaving a file. The real
 * readers (Blender, PrusaSlicer, Assimp, VTK) check whole subjects in tests/cli/test_export.py. */
#include "sb_export.h"
#include "sb_test.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define OUTDIR "test_scene_out"

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

static uint32_t rd_u32(const char *p) {
    const unsigned char *u = (const unsigned char *)p;
    return (uint32_t)u[0] | (uint32_t)u[1] << 8 | (uint32_t)u[2] << 16 | (uint32_t)u[3] << 24;
}

static float rd_f32(const char *p) {
    uint32_t u = rd_u32(p);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

/* A closed tetrahedron, outward. */
static float TV[12] = {0.1f, -2.5f, 1234.5f, 10, 0, 0, 0, 10, 0, 0, 0, 10};
static uint32_t TT[12] = {0, 2, 1, 0, 1, 3, 0, 3, 2, 1, 2, 3};

static sb_scene_mesh tet(sb_trimesh *m, const char *name, const char *group, int id) {
    m->nverts = 4;
    m->ntris = 4;
    m->verts = TV;
    m->tris = TT;
    sb_scene_mesh s = {m, name, group, id, {200, 100, 50, 255}};
    return s;
}

static void test_obj_decimals_and_names(void) {
    sb_trimesh a, b;
    sb_scene_mesh ms[2] = {tet(&a, "liver", "digestive", 250), tet(&b, "spleen", "digestive", 252)};
    sb_scene_frame mm = {1.0, 0};
    sb_error err = {0};
    CHECK_OK(sb_scene_write(SB_SCENE_OBJ, ms, 2, &mm, "t", OUTDIR "/t.obj", 1, NULL, &err));
    size_t n;
    char *obj = slurp(OUTDIR "/t.obj", &n), *mtl = slurp(OUTDIR "/t.mtl", &n);
    CHECK(obj && mtl);
    if (!obj || !mtl) return;
    /* float 0.1f is 0.100000001490116..., -2.5 exact, 1234.5 exact: 10 nm decimals */
    CHECK(strstr(obj, "v 0.1 -2.5 1234.5\n") != NULL);
    CHECK(strstr(obj, "SPACE=RAS") != NULL);
    CHECK(strstr(obj, "mtllib t.mtl\n") != NULL);
    CHECK(strstr(obj, "o liver\ng liver\nusemtl liver\n") != NULL);
    CHECK(strstr(obj, "o spleen\ng spleen\nusemtl spleen\n") != NULL);
    CHECK(strstr(obj, "f 5 7 6\n") != NULL); /* second structure: indices offset by 4 */
    CHECK(strstr(mtl, "newmtl liver\n") != NULL);
    CHECK(strstr(mtl, "Kd 0.784314 0.392157 0.196078\n") != NULL);
    free(obj);
    free(mtl);
}

static void test_stl_frame(void) {
    sb_trimesh a;
    sb_scene_mesh m = tet(&a, "liver", "digestive", 250);
    sb_scene_frame mm = {1.0, 0}, my = {0.001, 1};
    sb_error err = {0};
    CHECK_OK(sb_scene_write(SB_SCENE_STL, &m, 1, &mm, "liver", OUTDIR "/z.stl", 1, NULL, &err));
    CHECK_OK(sb_scene_write(SB_SCENE_STL, &m, 1, &my, "liver", OUTDIR "/y.stl", 1, NULL, &err));
    size_t nz, ny;
    char *z = slurp(OUTDIR "/z.stl", &nz), *y = slurp(OUTDIR "/y.stl", &ny);
    CHECK(z && y && nz == 84 + 4 * 50 && ny == nz);
    if (!z || !y || nz != ny || nz != 284) return;
    CHECK(strstr(z, "synthbody liver SPACE=RAS") == z);
    CHECK(strstr(y, "SPACE=RAS") == NULL);
    CHECK(rd_u32(z + 80) == 4);
    /* first triangle's first vertex: (0.1, -2.5, 1234.5) mm -> (-0.1, 1234.5, -2.5) / 1000 m */
    CHECK(rd_f32(z + 84 + 12) == 0.1f && rd_f32(z + 84 + 16) == -2.5f);
    CHECK_NEAR(rd_f32(y + 84 + 12), -0.0001, 1e-9);
    CHECK_NEAR(rd_f32(y + 84 + 16), 1.2345, 1e-7);
    CHECK_NEAR(rd_f32(y + 84 + 20), -0.0025, 1e-9);
    /* the rotation keeps the winding: both normals point away from the solid (+x+y+z face) */
    float nzz[3] = {rd_f32(z + 84 + 150 + 0), rd_f32(z + 84 + 150 + 4), rd_f32(z + 84 + 150 + 8)};
    float nyy[3] = {rd_f32(y + 84 + 150 + 0), rd_f32(y + 84 + 150 + 4), rd_f32(y + 84 + 150 + 8)};
    CHECK_NEAR(nyy[0], -nzz[0], 1e-6);
    CHECK_NEAR(nyy[1], nzz[2], 1e-6);
    CHECK_NEAR(nyy[2], nzz[1], 1e-6);
    free(z);
    free(y);
}

static void test_glb_container(void) {
    sb_trimesh a, b;
    sb_scene_mesh ms[2] = {tet(&a, "liver", "digestive", 250),
                           tet(&b, "femur_left", "skeleton", 189)};
    sb_scene_frame gl = {0.001, 1};
    sb_error err = {0};
    CHECK_OK(sb_scene_write(SB_SCENE_GLB, ms, 2, &gl, "t", OUTDIR "/t.glb", 1, NULL, &err));
    size_t n;
    char *g = slurp(OUTDIR "/t.glb", &n);
    CHECK(g && n > 28);
    if (!g || n <= 28) return;
    CHECK(!memcmp(g, "glTF", 4) && rd_u32(g + 4) == 2 && rd_u32(g + 8) == n);
    uint32_t jn = rd_u32(g + 12);
    CHECK(!memcmp(g + 16, "JSON", 4) && jn % 4 == 0);
    CHECK(rd_u32(g + 20 + jn) == n - 28 - jn && !memcmp(g + 24 + jn, "BIN\0", 4));
    /* 2 structures x (4 positions + 4 normals) x 12 bytes + 2 x 12 indices x 4 bytes */
    CHECK(rd_u32(g + 20 + jn) == 2 * (96 + 48));
    char *js = malloc(jn + 1);
    memcpy(js, g + 20, jn);
    js[jn] = '\0';
    CHECK(strstr(js, "\"name\":\"group_digestive\"") != NULL);
    CHECK(strstr(js, "\"name\":\"group_skeleton\"") != NULL);
    CHECK(strstr(js, "\"name\":\"femur_left\",\"mesh\":1") != NULL);
    /* sRGB 200/255 -> linear 0.577580, 100 -> 0.127438, 50 -> 0.031896 */
    CHECK(strstr(js, "\"baseColorFactor\":[0.57758,0.127438,0.031896,1]") != NULL);
    free(js);
    free(g);
    CHECK_NEAR(sb_srgb_to_linear(0.5), 0.214041, 1e-6);
    CHECK_NEAR(sb_srgb_to_linear(0.04), 0.04 / 12.92, 1e-12);
}

static void test_3mf_read_back(void) {
    sb_trimesh a, b;
    sb_scene_mesh ms[2] = {tet(&a, "liver", "digestive", 250), tet(&b, "spleen", "digestive", 252)};
    sb_scene_frame mm = {1.0, 0};
    sb_error err = {0};
    CHECK_OK(sb_scene_write(SB_SCENE_3MF, ms, 2, &mm, "t", OUTDIR "/t.3mf", 1, NULL, &err));
    sb_trimesh *back = NULL;
    CHECK_OK(sb_mesh_read(OUTDIR "/t.3mf", &back, &err));
    CHECK(back && back->ntris == 8);
    sb_trimesh_free(back);
    /* same bytes with one thread and with four */
    sb_ctx one = {.threads = 1}, four = {.threads = 4};
    CHECK_OK(sb_scene_write(SB_SCENE_3MF, ms, 2, &mm, "t", OUTDIR "/1.3mf", 1, &one, &err));
    CHECK_OK(sb_scene_write(SB_SCENE_3MF, ms, 2, &mm, "t", OUTDIR "/4.3mf", 1, &four, &err));
    size_t n1, n4;
    char *f1 = slurp(OUTDIR "/1.3mf", &n1), *f4 = slurp(OUTDIR "/4.3mf", &n4);
    CHECK(f1 && f4 && n1 == n4 && !memcmp(f1, f4, n1));
    free(f1);
    free(f4);
}

static void test_bad_input_leaves_nothing(void) {
    sb_trimesh a;
    sb_scene_mesh m = tet(&a, "liver", "digestive", 250);
    uint32_t bad[12];
    memcpy(bad, TT, sizeof bad);
    bad[5] = 4; /* vertex 4 of 4 */
    a.tris = bad;
    sb_scene_frame mm = {1.0, 0};
    sb_error err = {0};
    static const sb_scene_format F[] = {SB_SCENE_STL, SB_SCENE_OBJ, SB_SCENE_PLY,
                                        SB_SCENE_GLB, SB_SCENE_3MF, SB_SCENE_VTP};
    for (size_t k = 0; k < sizeof F / sizeof F[0]; k++) {
        char path[128];
        snprintf(path, sizeof path, OUTDIR "/bad.%s", sb_scene_format_ext(F[k]));
        unlink(path);
        CHECK(sb_scene_write(F[k], &m, 1, &mm, "bad", path, 1, NULL, &err) == SB_ERR_USAGE);
        CHECK(strstr(err.msg, path) != NULL && strstr(err.msg, "vertex 4") != NULL);
        CHECK(access(path, F_OK) != 0);
    }
    CHECK(sb_scene_write(SB_SCENE_STL, &m, 0, &mm, "x", OUTDIR "/none.stl", 1, NULL, &err) ==
          SB_ERR_USAGE);
    /* an existing file without force: SB_ERR_EXISTS, untouched */
    a.tris = TT;
    CHECK_OK(sb_scene_write(SB_SCENE_PLY, &m, 1, &mm, "x", OUTDIR "/e.ply", 1, NULL, &err));
    struct stat st0, st1;
    CHECK(stat(OUTDIR "/e.ply", &st0) == 0);
    CHECK(sb_scene_write(SB_SCENE_PLY, &m, 1, &mm, "x", OUTDIR "/e.ply", 0, NULL, &err) ==
          SB_ERR_EXISTS);
    CHECK(stat(OUTDIR "/e.ply", &st1) == 0 && st0.st_size == st1.st_size);
    /* an unwritable place: SB_ERR_OUTPUT naming the file */
    CHECK(sb_scene_write(SB_SCENE_GLB, &m, 1, &mm, "x", OUTDIR "/no/such/dir/x.glb", 1, NULL,
                         &err) == SB_ERR_OUTPUT);
    CHECK(strstr(err.msg, "x.glb") != NULL);
}

int main(void) {
    sb_error err = {0};
    CHECK_OK(sb_mkdir_p(OUTDIR, &err));
    test_obj_decimals_and_names();
    test_stl_frame();
    test_glb_container();
    test_3mf_read_back();
    test_bad_input_leaves_nothing();
    TEST_RETURN();
}
