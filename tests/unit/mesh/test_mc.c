/* Unit tests of the multi-label marching cubes (mesh/marching_cubes.c): closed 2-manifold,
 * outward, non-degenerate output for every configuration (all 256 cases, edge and corner
 * contacts, noise of many labels, borders), affines, datatypes and ids up to 65535, iso-surfaces,
 * byte-identical output at any thread count, one label alone = the same label in a sweep of many,
 * and agreement with VTK's discrete flying edges. */
#include "sb_mesh.h"
#include "sb_test.h"

#include "mesh_internal.h"

#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846

static sb_volume *vol(size_t nx, size_t ny, size_t nz, sb_dtype t) {
    size_t dim[3] = {nx, ny, nz};
    double sp[3] = {1, 1, 1};
    sb_volume *v = NULL;
    sb_error err;
    CHECK_OK(sb_volume_create(dim, sp, t, &v, &err));
    return v;
}

static void set(sb_volume *v, size_t i, size_t j, size_t k, double x) {
    size_t n = sb_volume_index(v, i, j, k);
    switch (v->dtype) {
    case SB_DT_UINT8:
        ((uint8_t *)v->data)[n] = (uint8_t)x;
        break;
    case SB_DT_INT16:
        ((int16_t *)v->data)[n] = (int16_t)x;
        break;
    case SB_DT_UINT16:
        ((uint16_t *)v->data)[n] = (uint16_t)x;
        break;
    case SB_DT_INT32:
        ((int32_t *)v->data)[n] = (int32_t)x;
        break;
    case SB_DT_FLOAT32:
        ((float *)v->data)[n] = (float)x;
        break;
    default:
        CHECK(0);
    }
}

static size_t count(const sb_volume *v, double label) {
    size_t n = 0;
    for (size_t i = 0; i < sb_volume_nvox(v); i++) n += sb_volume_get(v, i) == label;
    return n;
}

/* The guarantee, on one mesh. */
static void check_good(const sb_trimesh *m, sb_mesh_report *r, const char *what) {
    sb_error err;
    CHECK(m != NULL);
    if (!m) return;
    CHECK_OK(sb_mesh_check(m, r, &err));
    int ok = r->closed && r->boundary_edges == 0 && r->nonmanifold_edges == 0 &&
             r->misoriented_edges == 0 && r->degenerate_tris == 0 && r->nonmanifold_vertices == 0 &&
             r->volume_mm3 > 0;
    if (!ok)
        fprintf(stderr,
                "%s: boundary %zu nonmanifold %zu misoriented %zu degenerate %zu nm-vertices %zu "
                "volume %g\n",
                what, r->boundary_edges, r->nonmanifold_edges, r->misoriented_edges,
                r->degenerate_tris, r->nonmanifold_vertices, r->volume_mm3);
    CHECK(ok);
}

static sb_trimesh *mc1(const sb_volume *v, int id, const sb_ctx *ctx) {
    sb_trimesh *m = NULL;
    sb_error err;
    CHECK_OK(sb_mesh_mc_labels(v, &id, 1, ctx, &m, &err));
    return m;
}

static long euler(const sb_mesh_report *r) {
    return (long)r->nverts - (long)r->edges + (long)r->ntris;
}

static void test_table(void) {
    sb__mc_table t;
    CHECK(sb__mc_table_build(&t));
    CHECK(t.cases[0].ntris == 0 && t.cases[255].ntris == 0);
    CHECK(t.cases[1].ntris == 1 && t.cases[3].ntris == 2);
    int maxt = 0;
    for (int m = 1; m < 255; m++) {
        CHECK(t.cases[m].ntris > 0);
        if (t.cases[m].ntris > maxt) maxt = t.cases[m].ntris;
        /* complementary cases have the same number of crossing edges */
    }
    fprintf(stderr, "mc table: at most %d triangles per case\n", maxt);
}

/* Every one of the 256 cube configurations, alone in a 2x2x2 volume: closed and outward. Also
 * every pair of configurations side by side (shared face), for a sample of pairs. */
static void test_all_cases(void) {
    sb_volume *v = vol(2, 2, 2, SB_DT_UINT8);
    size_t bad = 0;
    for (int mask = 1; mask < 256; mask++) {
        for (int c = 0; c < 8; c++) set(v, c & 1, (c >> 1) & 1, (c >> 2) & 1, (mask >> c) & 1);
        sb_trimesh *m = mc1(v, 1, NULL);
        sb_mesh_report r;
        sb_error err;
        if (!m || sb_mesh_check(m, &r, &err) || !r.closed || r.nonmanifold_vertices ||
            r.degenerate_tris || !(r.volume_mm3 > 0))
            bad++;
        sb_trimesh_free(m);
    }
    CHECK(bad == 0);
    sb_volume_free(v);
    v = vol(3, 2, 2, SB_DT_UINT8);
    sb_rng rng;
    sb_rng_init(&rng, 5, 0, SB_STREAM_NOISE);
    bad = 0;
    for (int trial = 0; trial < 4096; trial++) {
        uint32_t bits = sb_rng_u32(&rng);
        for (int c = 0; c < 12; c++)
            set(v, (size_t)c % 3, (size_t)(c / 3) % 2, (size_t)c / 6, (bits >> c) & 1);
        if (!count(v, 1)) continue;
        sb_trimesh *m = mc1(v, 1, NULL);
        sb_mesh_report r;
        sb_error err;
        if (!m || sb_mesh_check(m, &r, &err) || !r.closed || r.nonmanifold_vertices ||
            r.degenerate_tris || !(r.volume_mm3 > 0))
            bad++;
        sb_trimesh_free(m);
    }
    CHECK(bad == 0);
    sb_volume_free(v);
}

static void test_single_voxel(void) {
    sb_volume *v = vol(5, 5, 5, SB_DT_UINT8);
    set(v, 2, 2, 2, 1);
    sb_trimesh *m = mc1(v, 1, NULL);
    sb_mesh_report r;
    check_good(m, &r, "single voxel");
    /* an octahedron through the 6 edge midpoints: volume 4/3 * (1/2)^3 = 1/6 */
    CHECK(r.nverts == 6 && r.ntris == 8 && euler(&r) == 2);
    CHECK_NEAR(r.volume_mm3, 1.0 / 6.0, 1e-6);
    CHECK_NEAR(r.bbox_min[0], 1.5, 1e-6);
    /* smoothed, it keeps its volume and stays inside its voxel's neighbourhood (Taubin shrinks
     * an octahedron by 0.765 per pair of steps; restoring the volume by a normal offset blew it
     * up to metres) */
    sb_error e0;
    CHECK_OK(sb_mesh_smooth(m, 10, NULL, &e0));
    check_good(m, &r, "single voxel smoothed");
    CHECK(fabs(r.volume_mm3 / (1.0 / 6.0) - 1) < 1e-3);
    for (int k = 0; k < 3; k++) CHECK(r.bbox_min[k] > 1.0 && r.bbox_max[k] < 4.0);
    sb_trimesh_free(m);
    /* absent label: NULL, not an error */
    int id = 4;
    m = (sb_trimesh *)1;
    sb_error err;
    CHECK_OK(sb_mesh_mc_labels(v, &id, 1, NULL, &m, &err));
    CHECK(m == NULL);
    int bad[2] = {1, 1};
    sb_trimesh *o[2];
    CHECK(sb_mesh_mc_labels(v, bad, 2, NULL, o, &err) == SB_ERR_USAGE);
    bad[0] = 0;
    CHECK(sb_mesh_mc_labels(v, bad, 1, NULL, o, &err) == SB_ERR_USAGE);
    bad[0] = 65536;
    CHECK(sb_mesh_mc_labels(v, bad, 1, NULL, o, &err) == SB_ERR_USAGE);
    sb_volume_free(v);
}

static void two_voxels(const size_t a[3], const size_t b[3], const char *what) {
    sb_volume *v = vol(4, 4, 4, SB_DT_UINT8);
    set(v, a[0], a[1], a[2], 3);
    set(v, b[0], b[1], b[2], 3);
    sb_trimesh *m = mc1(v, 3, NULL);
    sb_mesh_report r;
    check_good(m, &r, what);
    CHECK(r.components == 2 && euler(&r) == 4);
    sb_trimesh_free(m);
    sb_volume_free(v);
}

static void test_contacts(void) {
    const size_t o[3] = {1, 1, 1};
    two_voxels(o, (size_t[3]){2, 2, 1}, "edge contact 110");
    two_voxels((size_t[3]){2, 1, 1}, (size_t[3]){1, 2, 1}, "edge contact -110");
    two_voxels(o, (size_t[3]){2, 2, 2}, "corner contact 111");
    two_voxels((size_t[3]){2, 1, 1}, (size_t[3]){1, 2, 2}, "corner contact -111");
    /* a face contact joins them */
    sb_volume *v = vol(4, 4, 4, SB_DT_UINT8);
    set(v, 1, 1, 1, 3);
    set(v, 2, 1, 1, 3);
    sb_trimesh *m = mc1(v, 3, NULL);
    sb_mesh_report r;
    check_good(m, &r, "face contact");
    CHECK(r.components == 1 && euler(&r) == 2);
    sb_trimesh_free(m);
    sb_volume_free(v);
}

/* Noise of several labels with foreign ids (uint16 up to 65535, int32): every label closed;
 * each label alone gives the very same bytes as in the sweep of all. */
static void test_noise_many(sb_dtype t) {
    const int ids[5] = {1, 7, 300, 4242, 65535};
    sb_volume *v = vol(17, 13, 11, t);
    sb_rng rng;
    sb_rng_init(&rng, 42, 1, SB_STREAM_NOISE);
    for (size_t k = 0; k < 11; k++)
        for (size_t j = 0; j < 13; j++)
            for (size_t i = 0; i < 17; i++) {
                uint32_t u = sb_rng_u32(&rng) % 7;
                set(v, i, j, k, u < 5 ? ids[u] : 0);
            }
    sb_trimesh *all[5];
    sb_error err;
    sb_ctx c2 = {2, NULL, NULL, NULL};
    CHECK_OK(sb_mesh_mc_labels(v, ids, 5, &c2, all, &err));
    for (int i = 0; i < 5; i++) {
        sb_mesh_report r;
        check_good(all[i], &r, "noise label");
        sb_trimesh *one = mc1(v, ids[i], NULL);
        CHECK(one && all[i] && one->nverts == all[i]->nverts && one->ntris == all[i]->ntris);
        if (one && all[i] && one->ntris == all[i]->ntris && one->nverts == all[i]->nverts) {
            CHECK(!memcmp(one->verts, all[i]->verts, 12 * one->nverts));
            CHECK(!memcmp(one->tris, all[i]->tris, 12 * one->ntris));
        }
        sb_trimesh_free(one);
        sb_trimesh_free(all[i]);
    }
    sb_volume_free(v);
}

/* Byte-identical at 1, 2, 3 and 7 threads (different slab counts). */
static void test_threads(void) {
    sb_volume *v = vol(23, 19, 37, SB_DT_UINT16);
    sb_rng rng;
    sb_rng_init(&rng, 7, 2, SB_STREAM_NOISE);
    for (size_t i = 0; i < sb_volume_nvox(v); i++)
        ((uint16_t *)v->data)[i] = (uint16_t)(sb_rng_u32(&rng) % 4);
    const int ids[3] = {1, 2, 3};
    sb_trimesh *ref[3], *o[3];
    sb_error err;
    sb_ctx c1 = {1, NULL, NULL, NULL};
    CHECK_OK(sb_mesh_mc_labels(v, ids, 3, &c1, ref, &err));
    const int th[3] = {2, 3, 7};
    for (int t = 0; t < 3; t++) {
        sb_ctx c = {th[t], NULL, NULL, NULL};
        CHECK_OK(sb_mesh_mc_labels(v, ids, 3, &c, o, &err));
        for (int i = 0; i < 3; i++) {
            CHECK(o[i] && ref[i] && o[i]->nverts == ref[i]->nverts && o[i]->ntris == ref[i]->ntris);
            if (o[i] && ref[i] && o[i]->nverts == ref[i]->nverts && o[i]->ntris == ref[i]->ntris) {
                CHECK(!memcmp(o[i]->verts, ref[i]->verts, 12 * o[i]->nverts));
                CHECK(!memcmp(o[i]->tris, ref[i]->tris, 12 * o[i]->ntris));
            }
            sb_mesh_report r;
            check_good(o[i], &r, "threads");
            sb_trimesh_free(o[i]);
        }
    }
    for (int i = 0; i < 3; i++) sb_trimesh_free(ref[i]);
    sb_volume_free(v);
}

static sb_volume *ball(size_t n, double rad, sb_dtype t, double label) {
    sb_volume *v = vol(n, n, n, t);
    double c = 0.5 * (double)(n - 1);
    for (size_t k = 0; k < n; k++)
        for (size_t j = 0; j < n; j++)
            for (size_t i = 0; i < n; i++) {
                double dx = (double)i - c, dy = (double)j - c, dz = (double)k - c;
                if (dx * dx + dy * dy + dz * dz <= rad * rad) set(v, i, j, k, label);
            }
    return v;
}

static void test_ball_and_vtk(void) {
    sb_volume *v = ball(40, 15, SB_DT_INT32, 1000);
    size_t nvox = count(v, 1000);
    sb_trimesh *m = mc1(v, 1000, NULL);
    sb_mesh_report r;
    check_good(m, &r, "ball");
    CHECK(r.components == 1 && euler(&r) == 2);
    double rel = r.volume_mm3 / (double)nvox - 1;
    fprintf(stderr, "mc ball r=15: %zu voxels, volume %.1f (%+.2f %%), area %.1f, %zu tris\n", nvox,
            r.volume_mm3, 100 * rel, r.area_mm2, r.ntris);
    CHECK(fabs(rel) < 0.02);
    if (sb_mesh_have_vtk()) {
        sb_trimesh *w = NULL;
        sb_error err;
        CHECK_OK(sb_mesh_vtk_extract_label(v, 1000, &w, &err));
        sb_mesh_report rv;
        if (w) {
            CHECK_OK(sb_mesh_check(w, &rv, &err));
            fprintf(stderr, "vtk DFE ball: volume %.1f, area %.1f, %zu tris\n", rv.volume_mm3,
                    rv.area_mm2, rv.ntris);
            CHECK(fabs(rv.volume_mm3 / r.volume_mm3 - 1) < 1e-9); /* VTK's splits */
            CHECK(fabs(rv.area_mm2 / r.area_mm2 - 1) < 1e-9);
            CHECK(rv.ntris == r.ntris);
        }
        sb_trimesh_free(w);
    }
    sb_trimesh_free(m);
    sb_volume_free(v);
}

/* The same surface as VTK's discrete flying edges for every pattern of a 2x2x2 block of voxels
 * (all 255: every case of the centre cube, the outer cubes' cases around it): same triangle
 * count, volume and area. The cycles agree by the face rule; their splits into triangles are
 * VTK's (vtk_split in mesh/marching_cubes.c). Before, the volumes differed in 150 patterns (by up
 * to 0.46 voxel volumes), which put eye lenses of 14-25 voxels 2.4-4.7 % apart. */
static void test_block_patterns_vtk(void) {
    if (!sb_mesh_have_vtk()) return;
    int differ = 0;
    for (int mask = 1; mask < 256; mask++) {
        sb_volume *v = vol(4, 4, 4, SB_DT_UINT8);
        for (int c = 0; c < 8; c++)
            if ((mask >> c) & 1) set(v, 1 + (c & 1), 1 + ((c >> 1) & 1), 1 + ((c >> 2) & 1), 5);
        sb_trimesh *m = mc1(v, 5, NULL), *w = NULL;
        sb_mesh_report r, rv;
        sb_error err;
        check_good(m, &r, "block pattern");
        CHECK_OK(sb_mesh_vtk_extract_label(v, 5, &w, &err));
        CHECK(w != NULL);
        if (w) {
            CHECK_OK(sb_mesh_check(w, &rv, &err));
            if (rv.ntris != r.ntris || fabs(rv.volume_mm3 - r.volume_mm3) > 1e-9 ||
                fabs(rv.area_mm2 - r.area_mm2) > 1e-9) {
                if (differ++ < 5)
                    fprintf(stderr,
                            "block %d: ours %zu tris %.4f mm3 %.4f mm2, vtk %zu %.4f %.4f\n", mask,
                            r.ntris, r.volume_mm3, r.area_mm2, rv.ntris, rv.volume_mm3,
                            rv.area_mm2);
            }
        }
        sb_trimesh_free(w);
        sb_trimesh_free(m);
        sb_volume_free(v);
    }
    fprintf(stderr, "2x2x2 blocks: %d of 255 differ from VTK's DFE\n", differ);
    CHECK(differ == 0);
}

/* Labels filling the volume (border contact), a single slice, a 1x1x1 volume. */
static void test_borders(void) {
    sb_volume *v = vol(5, 6, 7, SB_DT_UINT8);
    memset(v->data, 9, sb_volume_nvox(v));
    sb_trimesh *m = mc1(v, 9, NULL);
    sb_mesh_report r;
    check_good(m, &r, "full");
    CHECK(r.components == 1 && euler(&r) == 2);
    CHECK_NEAR(r.bbox_min[0], -0.5, 1e-6);
    CHECK_NEAR(r.bbox_max[2], 6.5, 1e-6);
    sb_trimesh_free(m);
    sb_volume_free(v);
    v = vol(1, 1, 1, SB_DT_UINT8);
    set(v, 0, 0, 0, 2);
    m = mc1(v, 2, NULL);
    check_good(m, &r, "1x1x1");
    CHECK(r.ntris == 8);
    sb_trimesh_free(m);
    sb_volume_free(v);
    v = vol(6, 5, 1, SB_DT_UINT8);
    memset(v->data, 2, 30);
    m = mc1(v, 2, NULL);
    check_good(m, &r, "slice");
    CHECK(r.components == 1 && euler(&r) == 2);
    sb_trimesh_free(m);
    sb_volume_free(v);
}

static void test_affines(void) {
    sb_volume *v = ball(15, 5, SB_DT_FLOAT32, 7);
    sb_trimesh *m = mc1(v, 7, NULL);
    sb_mesh_report r0, r;
    check_good(m, &r0, "affine ref");
    sb_trimesh_free(m);
    v->affine[0][0] = -1;
    v->affine[0][3] = 14;
    m = mc1(v, 7, NULL);
    check_good(m, &r, "LAS");
    CHECK_NEAR(r.volume_mm3, r0.volume_mm3, 1e-6 * r0.volume_mm3);
    sb_trimesh_free(m);
    double cz = cos(PI / 6), sz = sin(PI / 6), cx = cos(PI / 9), sx = sin(PI / 9);
    double R[3][3] = {{cz, -sz, 0}, {cx * sz, cx * cz, -sx}, {sx * sz, sx * cz, cx}};
    double s[3] = {0.8, 1.2, 2.5};
    for (int mirror = 0; mirror < 2; mirror++) {
        for (int a = 0; a < 3; a++) {
            for (int b = 0; b < 3; b++)
                v->affine[a][b] = R[a][b] * s[b] * (mirror && b == 1 ? -1 : 1);
            v->affine[a][3] = 10.0 * (a + 1);
        }
        sb_volume_update_spacing(v);
        m = mc1(v, 7, NULL);
        check_good(m, &r, "oblique");
        CHECK_NEAR(r.volume_mm3, 2.4 * r0.volume_mm3, 1e-5 * r0.volume_mm3);
        sb_trimesh_free(m);
    }
    v->affine[0][0] = v->affine[0][1] = v->affine[0][2] = 0;
    sb_error err;
    sb_trimesh *o = NULL;
    int id = 7;
    CHECK(sb_mesh_mc_labels(v, &id, 1, NULL, &o, &err) == SB_ERR_INPUT);
    sb_volume_free(v);
}

static void test_iso(void) {
    const size_t n = 24;
    const double R = 8.0, c = 11.3;
    sb_volume *v = vol(n, n, n, SB_DT_FLOAT32);
    float *d = v->data;
    for (size_t k = 0; k < n; k++)
        for (size_t j = 0; j < n; j++)
            for (size_t i = 0; i < n; i++) {
                double dx = (double)i - c, dy = (double)j - c, dz = (double)k - c;
                d[sb_volume_index(v, i, j, k)] = (float)(100.0 - sqrt(dx * dx + dy * dy + dz * dz));
            }
    sb_trimesh *m = NULL;
    sb_error err;
    CHECK_OK(sb_mesh_mc_iso(v, 100.0 - R, NULL, &m, &err));
    sb_mesh_report r;
    check_good(m, &r, "iso sphere");
    double want = 4.0 / 3.0 * PI * R * R * R;
    fprintf(stderr, "mc iso sphere R=8: volume %.1f vs %.1f (%+.2f %%)\n", r.volume_mm3, want,
            100 * (r.volume_mm3 / want - 1));
    CHECK(fabs(r.volume_mm3 / want - 1) < 0.01);
    sb_trimesh_free(m);
    m = NULL;
    CHECK(sb_mesh_mc_iso(v, 1000.0, NULL, &m, &err) == SB_ERR_LABEL);
    CHECK(sb_mesh_mc_iso(v, NAN, NULL, &m, &err) == SB_ERR_USAGE);
    /* random field, NaN voxels, values exactly at iso */
    sb_rng rng;
    sb_rng_init(&rng, 77, 0, SB_STREAM_TEXTURE);
    for (size_t i = 0; i < sb_volume_nvox(v); i++)
        d[i] = i % 7 == 0 ? 0.5f : i % 13 == 0 ? NAN : (float)sb_rng_uniform(&rng);
    m = NULL;
    CHECK_OK(sb_mesh_mc_iso(v, 0.5, NULL, &m, &err));
    check_good(m, &r, "iso noise");
    sb_trimesh_free(m);
    sb_volume_free(v);
}

/* Smoothing keeps the volume; simplification keeps closed, manifold, genus; the pipeline never
 * returns a failing mesh; the checker sees self-intersections. */
static void test_pipeline(void) {
    sb_volume *v = ball(40, 15, SB_DT_UINT8, 3);
    size_t nvox = count(v, 3);
    sb_trimesh *m = mc1(v, 3, NULL);
    sb_mesh_report r0, r;
    check_good(m, &r0, "ball");
    sb_error err;
    sb_ctx c2 = {2, NULL, NULL, NULL};
    if (m) {
        CHECK_OK(sb_mesh_smooth(m, 10, &c2, &err));
        check_good(m, &r, "smoothed");
        CHECK(fabs(r.volume_mm3 / r0.volume_mm3 - 1) < 1e-3);
        CHECK(r.area_mm2 < r0.area_mm2); /* the staircase is gone */
        CHECK(r.self_intersections == 0);
        size_t nc = 0;
        CHECK_OK(sb_mesh_simplify(m, r.ntris / 10, 0, &nc, &err));
        sb_mesh_report rs;
        check_good(m, &rs, "simplified");
        fprintf(stderr, "ball: %zu -> %zu tris, volume %+.2f %%, genus %ld, selfx %zu\n", r.ntris,
                rs.ntris, 100 * (rs.volume_mm3 / r.volume_mm3 - 1), rs.genus,
                rs.self_intersections);
        CHECK(rs.ntris <= r.ntris / 10 + 2);
        CHECK(rs.genus == 0 && rs.components == 1);
        CHECK(fabs(rs.volume_mm3 / r.volume_mm3 - 1) < 0.01);
    }
    sb_trimesh_free(m);
    /* the pipeline with defaults, two labels (a ball and a torus-like ring) */
    for (size_t k = 0; k < 40; k++)
        for (size_t j = 0; j < 40; j++)
            for (size_t i = 0; i < 40; i++) {
                double x = (double)i - 19.5, y = (double)j - 19.5, z = (double)k - 19.5;
                double rr = sqrt(x * x + y * y) - 12;
                if (rr * rr + z * z < 16 && count(v, 3) > 0 && x * x + y * y + z * z > 15.5 * 15.5)
                    set(v, i, j, k, 9);
            }
    const int ids[3] = {3, 9, 77};
    sb_trimesh *out[3];
    sb_surface_info info[3];
    CHECK_OK(sb_mesh_surfaces(v, ids, 3, NULL, &c2, out, info, &err));
    for (int i = 0; i < 2; i++) {
        CHECK(out[i] && info[i].report.ok);
        fprintf(stderr,
                "pipeline label %d: %zu -> %zu tris, volume %.0f (voxels %zu), genus %ld, "
                "fallback %d\n",
                ids[i], info[i].tris_extracted, info[i].report.ntris, info[i].report.volume_mm3,
                count(v, ids[i]), info[i].report.genus, info[i].fallback);
        CHECK(info[i].report.ntris < info[i].tris_extracted);
    }
    CHECK(info[0].report.genus == 0);
    CHECK(fabs(info[0].report.volume_mm3 / (double)nvox - 1) < 0.02);
    CHECK(out[2] == NULL);
    for (int i = 0; i < 3; i++) sb_trimesh_free(out[i]);
    sb_volume_free(v);

    /* two interpenetrating tetrahedra: self-intersections seen, not ok */
    float tv[24] = {0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1};
    for (int i = 0; i < 12; i++) tv[12 + i] = tv[i] + 0.25f;
    uint32_t tt[24] = {0, 2, 1, 0, 1, 3, 0, 3, 2, 1, 2, 3};
    for (int i = 0; i < 12; i++) tt[12 + i] = tt[i] + 4;
    sb_trimesh two = {8, 8, tv, tt};
    CHECK_OK(sb_mesh_check(&two, &r, &err));
    CHECK(r.closed && r.self_intersections > 0 && !r.ok);
    two.ntris = 4;
    CHECK_OK(sb_mesh_check(&two, &r, &err));
    CHECK(r.closed && r.self_intersections == 0 && r.ok && r.genus == 0);
}

/* Otsu on a two-level image with noise-free classes picks a value between them. */
static void test_otsu(void) {
    sb_volume *v = vol(10, 10, 10, SB_DT_INT16);
    for (size_t i = 0; i < 1000; i++) ((int16_t *)v->data)[i] = i < 600 ? 10 : 500;
    double t = 0;
    sb_error err;
    CHECK_OK(sb_mesh_otsu(v, &t, &err));
    CHECK(t > 10 && t <= 500);
    memset(v->data, 0, 2000);
    CHECK(sb_mesh_otsu(v, &t, &err) == SB_ERR_INPUT);
    sb_volume_free(v);
}

/* Thin shells simplified to 10 % without an error bound: the plain quadric collapses make
 * crossing triangles here (checked first, so the test means something), the pipeline freezes
 * and replays until none is left, and never falls back. A replay without frozen vertices
 * reproduces the recorded simplification byte for byte. */
static void test_thin_shell(void) {
    sb_volume *v = vol(48, 48, 48, SB_DT_UINT16);
    for (size_t k = 0; k < 48; k++)
        for (size_t j = 0; j < 48; j++)
            for (size_t i = 0; i < 48; i++) {
                double x = (double)i - 23.5, y = (double)j - 23.3, z = (double)k - 23.1;
                double r = sqrt(x * x + 1.6 * y * y + 0.7 * z * z);
                if (r > 16 && r < 17.4) set(v, i, j, k, 5); /* an ellipsoidal shell */
                /* a U-shaped fold: two plates one voxel apart joined at one end, bent */
                double bend = 0.02 * z * z;
                if (r < 14 && ((fabs(x - bend - 2) < 1.1 || fabs(x - bend + 2) < 1.1) ||
                               (fabs(x - bend) < 3.1 && y > 8 && y < 10.5)))
                    set(v, i, j, k, 6);
            }
    const int ids[2] = {5, 6};
    sb_error err;
    sb_ctx c2 = {2, NULL, NULL, NULL};
    size_t crossing_before = 0;
    for (int i = 0; i < 2; i++) {
        sb_trimesh *m = mc1(v, ids[i], NULL);
        if (!m) continue;
        CHECK_OK(sb_mesh_smooth(m, 10, NULL, &err));
        sb_trimesh c = {m->nverts, m->ntris, malloc(m->nverts * 12), malloc(m->ntris * 12)};
        memcpy(c.verts, m->verts, m->nverts * 12);
        memcpy(c.tris, m->tris, m->ntris * 12);
        sb__simplify_log log;
        memset(&log, 0, sizeof log);
        size_t target = m->ntris / 10, nx = 0;
        CHECK_OK(sb__mesh_simplify_ex(m, target, 0, NULL, NULL, &log, NULL, &err));
        uint8_t *hit = malloc(m->ntris), *none = calloc(m->ntris, 1);
        CHECK(sb__mesh_self_intersections(m, &nx, hit));
        crossing_before += nx;
        /* the pairs with a flagged triangle: all crossings when the crossing ones are flagged,
         * none when no triangle is */
        size_t nx_hit = SIZE_MAX, nx_none = SIZE_MAX;
        CHECK(sb__mesh_self_intersections_of(m, hit, &nx_hit, NULL) && nx_hit == nx);
        CHECK(sb__mesh_self_intersections_of(m, none, &nx_none, NULL) && nx_none == 0);
        free(hit);
        free(none);
        /* the recorded collapses made at once (replay 3) give the recorded result too */
        sb_trimesh src3 = {c.nverts, c.ntris, malloc(c.nverts * 12), malloc(c.ntris * 12)};
        memcpy(src3.verts, c.verts, c.nverts * 12);
        memcpy(src3.tris, c.tris, c.ntris * 12);
        log.replay = 1;
        CHECK_OK(sb__mesh_simplify_ex(&c, target, 0, NULL, NULL, &log, NULL, &err));
        CHECK(c.ntris == m->ntris && c.nverts == m->nverts);
        CHECK(c.ntris == m->ntris && !memcmp(c.tris, m->tris, m->ntris * 12) &&
              !memcmp(c.verts, m->verts, m->nverts * 12));
        log.replay = 3;
        CHECK_OK(sb__mesh_simplify_ex(&src3, target, 0, NULL, NULL, &log, NULL, &err));
        CHECK(src3.ntris == m->ntris && src3.nverts == m->nverts &&
              !memcmp(src3.tris, m->tris, m->ntris * 12) &&
              !memcmp(src3.verts, m->verts, m->nverts * 12));
        free(src3.verts);
        free(src3.tris);
        sb__simplify_log_free(&log);
        free(c.verts);
        free(c.tris);
        sb_trimesh_free(m);
    }
    fprintf(stderr, "thin shells: %zu crossing pairs after plain simplification\n",
            crossing_before);
    CHECK(crossing_before > 0);
    sb_surface_opts o;
    sb_surface_opts_default(&o);
    o.keep_ratio = 0.1;
    o.max_error_mm = 0;
    sb_trimesh *out[2];
    sb_surface_info info[2];
    CHECK_OK(sb_mesh_surfaces(v, ids, 2, &o, &c2, out, info, &err));
    for (int i = 0; i < 2; i++) {
        CHECK(out[i] && info[i].report.ok && info[i].report.self_intersections == 0);
        CHECK(info[i].fallback == 0);
        fprintf(stderr, "thin shell label %d: %zu -> %zu tris, fallback %d\n", ids[i],
                info[i].tris_extracted, info[i].report.ntris, info[i].fallback);
        CHECK(info[i].report.ntris < info[i].tris_extracted / 2); /* frozen parts stay fine */
        sb_trimesh_free(out[i]);
    }
    sb_volume_free(v);
}

static sb__simplify_log copy_log(const sb__simplify_log *l) {
    sb__simplify_log c = *l;
    c.b = malloc(l->n * 4), c.a = malloc(l->n * 4), c.skip = malloc(l->n);
    c.pass_end = malloc(l->npass * sizeof *c.pass_end);
    c.cap = l->n, c.pcap = l->npass;
    CHECK(c.b && c.a && c.skip && c.pass_end);
    memcpy(c.b, l->b, l->n * 4);
    memcpy(c.a, l->a, l->n * 4);
    memcpy(c.skip, l->skip, l->n);
    memcpy(c.pass_end, l->pass_end, l->npass * sizeof *c.pass_end);
    return c;
}

/* A recording with every 5th collapse left out, made at once and continued to the budget:
 * replay 3 on a copy of the source (sb__mesh_simplify_ex), and sb__mesh_simplify_continue on
 * the mapped mesh (each vertex to the root of its remaining merges, compacted) as surfaces.c
 * uses it, give the same bytes, the same rep and the same log. */
static void test_continue(void) {
    sb_volume *v = ball(40, 15.3, SB_DT_UINT16, 7);
    sb_trimesh *src = mc1(v, 7, NULL);
    sb_error err;
    CHECK_OK(sb_mesh_smooth(src, 10, NULL, &err));
    const size_t nv = src->nverts, nt = src->ntris, target = nt / 10;
    sb_trimesh rec = {nv, nt, malloc(nv * 12), malloc(nt * 12)};
    memcpy(rec.verts, src->verts, nv * 12);
    memcpy(rec.tris, src->tris, nt * 12);
    sb__simplify_log log;
    memset(&log, 0, sizeof log);
    CHECK_OK(sb__mesh_simplify_ex(&rec, target, 0, NULL, NULL, &log, NULL, &err));
    CHECK(log.n > 1000 && log.skip);
    for (size_t k = 0; k < log.n; k++) log.skip[k] = k % 5 == 4;
    /* replay 3 on a copy of the source */
    sb__simplify_log l3 = copy_log(&log);
    l3.replay = 3;
    sb_trimesh a = {nv, nt, malloc(nv * 12), malloc(nt * 12)};
    memcpy(a.verts, src->verts, nv * 12);
    memcpy(a.tris, src->tris, nt * 12);
    uint32_t *rep3 = malloc(nv * 4), *par = malloc(nv * 4), *rep = malloc(nv * 4),
             *root = malloc(nv * 4);
    CHECK_OK(sb__mesh_simplify_ex(&a, target, 0, NULL, rep3, &l3, NULL, &err));
    /* the mapped mesh */
    for (size_t x = 0; x < nv; x++) par[x] = (uint32_t)x;
    for (size_t k = 0; k < log.n; k++)
        if (!log.skip[k]) par[log.b[k]] = log.a[k];
    for (size_t x = 0; x < nv; x++) { /* roots (a merged vertex was never a target later) */
        uint32_t r = (uint32_t)x;
        while (par[r] != r) r = par[r];
        par[x] = r;
        rep[x] = UINT32_MAX;
    }
    sb_trimesh b = {0, 0, malloc(nv * 12), malloc(nt * 12)};
    for (size_t t = 0; t < nt; t++) {
        uint32_t r[3];
        for (int c = 0; c < 3; c++) r[c] = par[src->tris[3 * t + (size_t)c]];
        if (r[0] == r[1] || r[1] == r[2] || r[0] == r[2]) continue;
        memcpy(b.tris + 3 * b.ntris++, r, 12);
    }
    for (size_t i = 0; i < 3 * b.ntris; i++) rep[b.tris[i]] = 0;
    for (size_t x = 0; x < nv; x++)
        if (rep[x] == 0) {
            root[b.nverts] = (uint32_t)x;
            memcpy(b.verts + 3 * b.nverts, src->verts + 3 * x, 12);
            rep[x] = (uint32_t)b.nverts++;
        }
    for (size_t i = 0; i < 3 * b.ntris; i++) b.tris[i] = rep[b.tris[i]];
    for (size_t x = 0; x < nv; x++) rep[x] = rep[par[x]];
    sb__quadric *q = malloc(nv * sizeof *q);
    sb__simplify_quadrics(src, q);
    sb__simplify_log lc = copy_log(&log);
    CHECK_OK(
        sb__mesh_simplify_continue(&b, root, nv, q, NULL, target, 0, rep, &lc, NULL, NULL, &err));
    fprintf(stderr, "continue: %zu -> %zu triangles (replay 3: %zu), %zu collapses logged\n", nt,
            b.ntris, a.ntris, lc.n);
    CHECK(a.ntris < nt / 5 && a.ntris > target / 2); /* near the budget (some left out) */
    CHECK(b.ntris == a.ntris && b.nverts == a.nverts && !memcmp(b.tris, a.tris, a.ntris * 12) &&
          !memcmp(b.verts, a.verts, a.nverts * 12));
    CHECK(!memcmp(rep, rep3, nv * 4));
    CHECK(lc.n == l3.n && lc.npass == l3.npass && !memcmp(lc.a, l3.a, l3.n * 4) &&
          !memcmp(lc.b, l3.b, l3.n * 4) &&
          !memcmp(lc.pass_end, l3.pass_end, l3.npass * sizeof *l3.pass_end));
    free(q);
    free(rep3);
    free(par);
    free(rep);
    free(root);
    free(a.verts);
    free(a.tris);
    free(b.verts);
    free(b.tris);
    free(rec.verts);
    free(rec.tris);
    sb__simplify_log_free(&log);
    sb__simplify_log_free(&l3);
    sb__simplify_log_free(&lc);
    sb_trimesh_free(src);
    sb_volume_free(v);
}

/* A sieve: a wavy ellipsoidal sheet one voxel thick with a quarter of its voxels missing. Its
 * smoothed surface, inflated back to the voxels' volume, crosses itself in a few places; those
 * vertices go back to the raw surface and the rest stays smoothed and simplified (before, the
 * whole label fell back to the raw surface, 0.62 of the voxels' volume here). The wave's
 * amplitude is 0.9 voxel: at 0.7, with VTK's splits of the cut polygons, nothing crosses. */
static void test_sieve(void) {
    const size_t n = 40;
    sb_volume *v = vol(n, n, n, SB_DT_UINT16);
    size_t voxels = 0;
    for (size_t k = 0; k < n; k++)
        for (size_t j = 0; j < n; j++)
            for (size_t i = 0; i < n; i++) {
                double x = (double)i - 19.37, y = (double)j - 19.21, z = (double)k - 19.71;
                double r = sqrt(x * x + 1.3 * y * y + 0.8 * z * z);
                double wob = 0.9 * sin(0.9 * x) * cos(0.7 * y) * sin(0.5 * z + 1);
                unsigned h = (unsigned)(i * 73856093u ^ j * 19349663u ^ k * 83492791u);
                h ^= h >> 13, h *= 0x5bd1e995u, h ^= h >> 15;
                if (r > 12 + wob && r < 13 + wob && h % 100 < 75) set(v, i, j, k, 3), voxels++;
            }
    const int id = 3;
    sb_surface_opts o;
    sb_surface_opts_default(&o);
    sb_trimesh *out = NULL;
    sb_surface_info info;
    sb_error err;
    CHECK_OK(sb_mesh_surfaces(v, &id, 1, &o, NULL, &out, &info, &err));
    const double ratio = info.report.volume_mm3 / (double)voxels; /* 1 mm voxels */
    fprintf(stderr,
            "sieve: %zu voxels, %zu -> %zu tris, fallback %d, %zu vertices unsmoothed, "
            "volume %.4f of the voxels'\n",
            voxels, info.tris_extracted, info.report.ntris, info.fallback, info.unsmoothed_vertices,
            ratio);
    CHECK(out && info.report.ok && info.report.self_intersections == 0);
    CHECK(info.fallback == 0 && info.unsmoothed_vertices > 0);
    CHECK(info.report.ntris < info.tris_extracted);
    CHECK(ratio > 0.95 && ratio < 1.02);
    sb_trimesh_free(out);
    sb_volume_free(v);
}

/* The tiny-component rule belongs to the pipeline, whichever backend extracts: a block and a
 * lone voxel (its surface through edge midpoints holds less than one voxel) give one component
 * from both backends, with the same volume and area; VTK's extraction alone keeps the speck. */
static void test_tiny_components_both_backends(void) {
    sb_volume *v = vol(16, 16, 16, SB_DT_UINT16);
    for (size_t k = 3; k < 9; k++)
        for (size_t j = 3; j < 9; j++)
            for (size_t i = 3; i < 9; i++) set(v, i, j, k, 3);
    set(v, 12, 12, 12, 3);
    const int id = 3;
    sb_ctx c1 = {1, NULL, NULL, NULL};
    sb_error err;
    sb_surface_opts o;
    sb_surface_opts_default(&o);
    o.smooth_iters = 0;
    o.max_error_mm = 0; /* no simplification: the raw surface */
    sb_trimesh *nat = NULL;
    sb_surface_info info;
    CHECK_OK(sb_mesh_surfaces(v, &id, 1, &o, &c1, &nat, &info, &err));
    CHECK(nat && info.components_removed == 1 && info.report.components == 1);
    if (sb_mesh_have_vtk() && nat) {
        sb_trimesh *vt = NULL;
        sb_vtk_opts vo = {0, 0.1, 0, -1};
        sb_mesh_report rv, rn;
        CHECK_OK(sb_mesh_vtk_labels(v, &id, 1, &vo, &vt, NULL, &err));
        CHECK_OK(sb_mesh_check(nat, &rn, &err));
        CHECK(vt && sb_mesh_check(vt, &rv, &err) == SB_OK);
        if (vt) {
            CHECK(rv.components == 1 && rv.closed);
            CHECK(fabs(rv.volume_mm3 / rn.volume_mm3 - 1) < 0.02);
            CHECK(fabs(rv.area_mm2 / rn.area_mm2 - 1) < 0.02);
        }
        sb_trimesh_free(vt);
        vt = NULL;
        CHECK_OK(sb_mesh_vtk_labels(v, &id, 1, NULL, &vt, NULL, &err)); /* extraction only */
        CHECK(vt && sb_mesh_check(vt, &rv, &err) == SB_OK && rv.components == 2);
        sb_trimesh_free(vt);
        vt = NULL;
        vo.min_component_mm3 = 0; /* rule off */
        CHECK_OK(sb_mesh_vtk_labels(v, &id, 1, &vo, &vt, NULL, &err));
        CHECK(vt && sb_mesh_check(vt, &rv, &err) == SB_OK && rv.components == 2);
        sb_trimesh_free(vt);
    }
    sb_trimesh_free(nat);
    sb_volume_free(v);
}

/* The VTK backend smoothing label id of v (10 iterations): closed, volume within 0.5 % of
 * voxels_mm3 (the pipeline's rule for both backends); printed beside the native report. */
static void vtk_smoothed_volume(const sb_volume *v, int id, double voxels_mm3, const char *what,
                                const sb_mesh_report *native) {
    if (!sb_mesh_have_vtk()) return;
    sb_vtk_opts vo = {10, 0.1, 0, -1};
    sb_trimesh *vt = NULL;
    sb_mesh_report rv;
    sb_error err;
    CHECK_OK(sb_mesh_vtk_labels(v, &id, 1, &vo, &vt, NULL, &err));
    CHECK(vt && sb_mesh_check(vt, &rv, &err) == SB_OK && rv.closed);
    if (vt) {
        fprintf(stderr, "%s, %.1f mm3 of voxels: native %.1f mm3, area %.1f; VTK %.1f, %.1f\n",
                what, voxels_mm3, native->volume_mm3, native->area_mm2, rv.volume_mm3, rv.area_mm2);
        CHECK(fabs(rv.volume_mm3 / voxels_mm3 - 1) < 0.005);
    }
    sb_trimesh_free(vt);
}

/* The marching-cubes surface of a thin plate lacks the chamfered voxel edges (> 2 % here); the
 * pipeline's smoothing restores the voxel volume instead. */
static void test_voxel_volume(void) {
    sb_volume *v = vol(8, 26, 26, SB_DT_UINT16);
    for (size_t k = 3; k < 23; k++)
        for (size_t j = 3; j < 23; j++)
            for (size_t i = 3; i < 5; i++) set(v, i, j, k, 7);
    v->affine[0][0] = 1.5; /* anisotropic: 1.5 x 1 x 1 mm voxels */
    sb_volume_update_spacing(v);
    const double vox = 800 * 1.5;
    const int id = 7;
    sb_trimesh *m = mc1(v, id, NULL);
    sb_mesh_report r;
    check_good(m, &r, "plate");
    CHECK(r.volume_mm3 < 0.98 * vox);
    sb_trimesh_free(m);
    sb_error err;
    sb_trimesh *out = NULL;
    sb_surface_info info;
    CHECK_OK(sb_mesh_surfaces(v, &id, 1, NULL, NULL, &out, &info, &err));
    CHECK(out && info.report.ok);
    fprintf(stderr, "plate: raw %.1f, pipeline %.1f, voxels %.1f mm3\n", r.volume_mm3,
            info.report.volume_mm3, vox);
    CHECK(fabs(info.report.volume_mm3 / vox - 1) < 0.005);
    /* the VTK backend's smoothing (windowed sinc) restores it too: a rule of the pipeline */
    vtk_smoothed_volume(v, id, vox, "plate", &info.report);
    sb_trimesh_free(out);
    sb_volume_free(v);
    /* an eye lens of 14 voxels (2 mm): both backends smoothed keep its voxel volume */
    v = vol(8, 8, 8, SB_DT_UINT16);
    for (size_t k = 3; k < 5; k++)
        for (size_t j = 2; j < 5; j++)
            for (size_t i = 2; i < 5; i++)
                if (!(k == 4 && (j != 3 && i != 3))) set(v, i, j, k, 7);
    for (int a = 0; a < 3; a++) v->affine[a][a] = 2;
    sb_volume_update_spacing(v);
    const double lens = (double)count(v, 7) * 8;
    CHECK_OK(sb_mesh_surfaces(v, &id, 1, NULL, NULL, &out, &info, &err));
    CHECK(out && info.report.ok);
    if (out) {
        CHECK(fabs(info.report.volume_mm3 / lens - 1) < 0.005);
        vtk_smoothed_volume(v, id, lens, "lens", &info.report);
    }
    sb_trimesh_free(out);
    sb_volume_free(v);
}

int main(void) {
    test_continue();
    test_sieve();
    test_voxel_volume();
    test_thin_shell();
    test_tiny_components_both_backends();
    test_pipeline();
    test_otsu();
    test_table();
    test_all_cases();
    test_single_voxel();
    test_contacts();
    test_noise_many(SB_DT_UINT16);
    test_noise_many(SB_DT_INT32);
    test_noise_many(SB_DT_FLOAT32);
    test_threads();
    test_ball_and_vtk();
    test_block_patterns_vtk();
    test_borders();
    test_affines();
    test_iso();
    TEST_RETURN();
}
