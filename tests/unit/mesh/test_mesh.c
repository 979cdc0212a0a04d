/* Unit tests of mesh/: the marching-tetrahedra extractor (closed 2-manifold for any label
 * configuration, outward under any affine, volumes), sb_mesh_check on broken meshes, the VTK
 * bridge as a cross-check, determinism. */
#include "sb_mesh.h"
#include "sb_test.h"

#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846

static sb_volume *make_volume(size_t nx, size_t ny, size_t nz, sb_dtype t) {
    size_t dim[3] = {nx, ny, nz};
    double sp[3] = {1, 1, 1};
    sb_volume *v = NULL;
    sb_error err;
    CHECK_OK(sb_volume_create(dim, sp, t, &v, &err));
    return v;
}

static void set_u8(sb_volume *v, size_t i, size_t j, size_t k, uint8_t x) {
    ((uint8_t *)v->data)[sb_volume_index(v, i, j, k)] = x;
}

static size_t count_label(const sb_volume *v, int label) {
    size_t n = 0;
    for (size_t i = 0; i < sb_volume_nvox(v); i++) n += sb_volume_get(v, i) == label;
    return n;
}

/* Extracts and checks; every extracted mesh must be closed, manifold, non-degenerate. */
static sb_trimesh *extract_checked(const sb_volume *v, int label, sb_mesh_report *rep) {
    sb_trimesh *m = NULL;
    sb_error err;
    err.msg[0] = 0;
    sb_status s = sb_mesh_extract_label(v, label, NULL, &m, &err);
    CHECK(s == SB_OK);
    if (s != SB_OK || !m) {
        fprintf(stderr, "extract: %s\n", err.msg);
        memset(rep, 0, sizeof *rep);
        return NULL;
    }
    CHECK_OK(sb_mesh_check(m, rep, &err));
    CHECK(rep->closed);
    CHECK(rep->boundary_edges == 0);
    CHECK(rep->nonmanifold_edges == 0);
    CHECK(rep->misoriented_edges == 0);
    CHECK(rep->degenerate_tris == 0);
    CHECK(rep->nonmanifold_vertices == 0);
    CHECK(rep->volume_mm3 > 0);
    return m;
}

static long euler(const sb_mesh_report *r) {
    return (long)r->nverts - (long)r->edges + (long)r->ntris;
}

static void test_single_voxel(void) {
    sb_volume *v = make_volume(5, 5, 5, SB_DT_UINT8);
    set_u8(v, 2, 2, 2, 1);
    sb_mesh_report r;
    sb_trimesh *m = extract_checked(v, 1, &r);
    /* the link of a Kuhn vertex: 14 neighbours, 24 tetrahedra; the level set at 0.5 is that
     * star scaled by 1/2: 14 vertices, 24 triangles, volume 24 * (1/6) / 8 = 0.5 */
    CHECK(r.nverts == 14);
    CHECK(r.ntris == 24);
    CHECK(r.edges == 36);
    CHECK(r.components == 1);
    CHECK(euler(&r) == 2);
    CHECK_NEAR(r.volume_mm3, 0.5, 1e-6);
    /* the voxel centre is at (2,2,2); the star reaches half a voxel along each axis */
    CHECK_NEAR(r.bbox_min[0], 1.5, 1e-6);
    CHECK_NEAR(r.bbox_max[2], 2.5, 1e-6);
    sb_trimesh_free(m);
    sb_volume_free(v);
}

static sb_volume *make_ball(size_t n, double radius, sb_dtype t) {
    sb_volume *v = make_volume(n, n, n, t);
    double c = 0.5 * (double)(n - 1);
    for (size_t k = 0; k < n; k++)
        for (size_t j = 0; j < n; j++)
            for (size_t i = 0; i < n; i++) {
                double dx = (double)i - c, dy = (double)j - c, dz = (double)k - c;
                if (dx * dx + dy * dy + dz * dz <= radius * radius) {
                    size_t idx = sb_volume_index(v, i, j, k);
                    if (t == SB_DT_UINT8)
                        ((uint8_t *)v->data)[idx] = 7;
                    else if (t == SB_DT_INT16)
                        ((int16_t *)v->data)[idx] = 7;
                    else if (t == SB_DT_FLOAT32)
                        ((float *)v->data)[idx] = 7;
                }
            }
    return v;
}

static void test_sphere(void) {
    sb_volume *v = make_ball(25, 10, SB_DT_UINT8);
    size_t nvox = count_label(v, 7);
    sb_mesh_report r;
    sb_trimesh *m = extract_checked(v, 7, &r);
    CHECK(r.components == 1);
    CHECK(euler(&r) == 2);
    double rel = r.volume_mm3 / (double)nvox - 1;
    fprintf(stderr,
            "sphere r=10: %zu voxels, mesh volume %.1f (%+.2f %%), area %.1f, %zu verts, "
            "%zu tris\n",
            nvox, r.volume_mm3, 100 * rel, r.area_mm2, r.nverts, r.ntris);
    CHECK(fabs(rel) < 0.03);
    /* the same label stored as int16 or float32 gives the same mesh */
    sb_volume *v16 = make_ball(25, 10, SB_DT_INT16), *vf = make_ball(25, 10, SB_DT_FLOAT32);
    sb_mesh_report r16, rf;
    sb_trimesh *m16 = extract_checked(v16, 7, &r16), *mf = extract_checked(vf, 7, &rf);
    CHECK(m && m16 && mf);
    if (m && m16 && mf) {
        CHECK(m16->ntris == m->ntris && mf->ntris == m->ntris);
        CHECK(m16->nverts == m->nverts && mf->nverts == m->nverts);
        CHECK(memcmp(m16->tris, m->tris, 12 * m->ntris) == 0);
        CHECK(memcmp(mf->verts, m->verts, 12 * m->nverts) == 0);
    }
    sb_trimesh_free(m16);
    sb_trimesh_free(mf);
    sb_volume_free(v16);
    sb_volume_free(vf);
    sb_trimesh_free(m);
    sb_volume_free(v);
}

/* Two voxels meeting only along an edge or at a corner: marching cubes' trap. The Kuhn split
 * connects them when the contact runs along one of its edges (directions 110, 111, ...), and
 * keeps them apart otherwise; either way the surface is a closed manifold. */
static void two_voxels(const size_t a[3], const size_t b[3], size_t want_components,
                       const char *what) {
    sb_volume *v = make_volume(4, 4, 4, SB_DT_UINT8);
    set_u8(v, a[0], a[1], a[2], 3);
    set_u8(v, b[0], b[1], b[2], 3);
    sb_mesh_report r;
    sb_trimesh *m = extract_checked(v, 3, &r);
    fprintf(stderr, "%s: %zu components, %zu verts, %zu tris, volume %.3f\n", what, r.components,
            r.nverts, r.ntris, r.volume_mm3);
    CHECK(r.components == want_components);
    CHECK(euler(&r) == 2 * (long)want_components);
    sb_trimesh_free(m);
    sb_volume_free(v);
}

static void test_edge_and_corner_contacts(void) {
    const size_t o[3] = {1, 1, 1};
    two_voxels(o, (size_t[3]){2, 2, 1}, 1, "edge contact along 110 (a Kuhn edge)");
    two_voxels((size_t[3]){2, 1, 1}, (size_t[3]){1, 2, 1}, 2, "edge contact along -110");
    two_voxels(o, (size_t[3]){2, 2, 2}, 1, "corner contact along 111 (the Kuhn diagonal)");
    two_voxels((size_t[3]){2, 1, 1}, (size_t[3]){1, 2, 2}, 2, "corner contact along -111");
    two_voxels((size_t[3]){1, 2, 2}, (size_t[3]){2, 1, 1}, 2, "corner contact along 1-1-1");
}

static void test_noise(void) {
    sb_volume *v = make_volume(20, 20, 20, SB_DT_UINT8);
    sb_rng rng;
    sb_rng_init(&rng, 1234, 0, SB_STREAM_NOISE);
    uint8_t *d = v->data;
    for (size_t i = 0; i < sb_volume_nvox(v); i++) d[i] = sb_rng_uniform(&rng) < 0.5 ? 1 : 2;
    for (int label = 1; label <= 2; label++) {
        sb_mesh_report r;
        sb_trimesh *m = extract_checked(v, label, &r);
        fprintf(stderr,
                "noise 20^3 label %d: %zu verts, %zu tris, %zu components, volume %.1f "
                "(%zu voxels)\n",
                label, r.nverts, r.ntris, r.components, r.volume_mm3, count_label(v, label));
        CHECK(r.components >= 1);
        sb_trimesh_free(m);
    }
    sb_volume_free(v);
}

/* Iso-surface of a random field: interpolated (clamped) vertices, every configuration of
 * corner values; values exactly at iso count as inside. */
static void test_iso_noise(void) {
    sb_volume *v = make_volume(16, 16, 16, SB_DT_FLOAT32);
    sb_rng rng;
    sb_rng_init(&rng, 77, 0, SB_STREAM_TEXTURE);
    float *d = v->data;
    for (size_t i = 0; i < sb_volume_nvox(v); i++)
        d[i] = i % 7 == 0 ? 0.5f : (float)sb_rng_uniform(&rng);
    sb_trimesh *m = NULL;
    sb_error err;
    CHECK_OK(sb_mesh_extract_iso(v, 0.5, NULL, &m, &err));
    if (m) {
        sb_mesh_report r;
        CHECK_OK(sb_mesh_check(m, &r, &err));
        fprintf(stderr, "iso noise 16^3: %zu tris, %zu components, volume %.1f\n", r.ntris,
                r.components, r.volume_mm3);
        CHECK(r.closed && r.nonmanifold_vertices == 0 && r.degenerate_tris == 0);
        CHECK(r.volume_mm3 > 0);
    }
    sb_trimesh_free(m);
    sb_volume_free(v);
}

static void test_full_volume(void) {
    sb_volume *v = make_volume(5, 6, 7, SB_DT_UINT8);
    memset(v->data, 9, sb_volume_nvox(v));
    sb_mesh_report r;
    sb_trimesh *m = extract_checked(v, 9, &r);
    CHECK(r.components == 1);
    CHECK(euler(&r) == 2);
    /* between the hull of the voxel centres (4x5x6) and the voxel boxes (5x6x7) */
    CHECK(r.volume_mm3 > 4 * 5 * 6 && r.volume_mm3 < 5 * 6 * 7);
    CHECK_NEAR(r.bbox_min[0], -0.5, 1e-6);
    CHECK_NEAR(r.bbox_max[2], 6.5, 1e-6);
    sb_trimesh_free(m);
    sb_volume_free(v);
    /* a 1x1x1 volume and a single slice: the padding alone closes them */
    v = make_volume(1, 1, 1, SB_DT_UINT8);
    set_u8(v, 0, 0, 0, 2);
    m = extract_checked(v, 2, &r);
    CHECK(r.nverts == 14 && r.ntris == 24);
    sb_trimesh_free(m);
    sb_volume_free(v);
    v = make_volume(6, 5, 1, SB_DT_UINT8);
    memset(v->data, 2, 30);
    m = extract_checked(v, 2, &r);
    CHECK(r.components == 1 && euler(&r) == 2);
    sb_trimesh_free(m);
    sb_volume_free(v);
}

/* Affines: world volume = index volume * |det|; winding stays outward for left-handed ones. */
static void test_affines(void) {
    sb_volume *v = make_ball(15, 5, SB_DT_UINT8);
    sb_mesh_report r0;
    sb_trimesh *m0 = extract_checked(v, 7, &r0);
    sb_trimesh_free(m0);

    /* LAS: x flipped */
    v->affine[0][0] = -1;
    v->affine[0][3] = 14;
    sb_mesh_report r;
    sb_trimesh *m = extract_checked(v, 7, &r);
    CHECK_NEAR(r.volume_mm3, r0.volume_mm3, 1e-6 * r0.volume_mm3);
    sb_trimesh_free(m);

    /* oblique, anisotropic: rotation (30 deg about z, then 20 deg about x) times
     * diag(0.8, 1.2, 2.5), and its mirror image */
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
        m = extract_checked(v, 7, &r);
        CHECK_NEAR(r.volume_mm3, 2.4 * r0.volume_mm3, 1e-5 * r0.volume_mm3);
        CHECK(r.components == 1);
        sb_trimesh_free(m);
    }
    sb_volume_free(v);
}

static void test_iso(void) {
    const size_t n = 24;
    const double R = 8.0, c = 11.3;
    size_t dim[3] = {n, n, n};
    double sp[3] = {1, 1, 1};
    sb_volume *v = NULL;
    sb_error err;
    CHECK_OK(sb_volume_create(dim, sp, SB_DT_FLOAT32, &v, &err));
    float *d = v->data;
    for (size_t k = 0; k < n; k++)
        for (size_t j = 0; j < n; j++)
            for (size_t i = 0; i < n; i++) {
                double dx = (double)i - c, dy = (double)j - c, dz = (double)k - c;
                d[sb_volume_index(v, i, j, k)] = (float)(100.0 - sqrt(dx * dx + dy * dy + dz * dz));
            }
    sb_trimesh *m = NULL;
    CHECK_OK(sb_mesh_extract_iso(v, 100.0 - R, NULL, &m, &err));
    sb_mesh_report r;
    if (m) {
        CHECK_OK(sb_mesh_check(m, &r, &err));
        CHECK(r.closed && r.degenerate_tris == 0 && r.components == 1 && euler(&r) == 2);
        double want = 4.0 / 3.0 * PI * R * R * R, want_area = 4 * PI * R * R;
        fprintf(stderr, "iso sphere R=8: volume %.1f vs %.1f (%+.2f %%), area %.1f vs %.1f\n",
                r.volume_mm3, want, 100 * (r.volume_mm3 / want - 1), r.area_mm2, want_area);
        CHECK(fabs(r.volume_mm3 / want - 1) < 0.01);
        CHECK(fabs(r.area_mm2 / want_area - 1) < 0.02);
    }
    sb_trimesh_free(m);
    /* a level reached only at the border: the padding closes it */
    m = NULL;
    CHECK_OK(sb_mesh_extract_iso(v, 100.0 - 12.5, NULL, &m, &err));
    if (m) {
        CHECK_OK(sb_mesh_check(m, &r, &err));
        CHECK(r.closed && r.degenerate_tris == 0 && r.volume_mm3 > 0);
    }
    sb_trimesh_free(m);
    /* nothing reaches 1000 */
    m = NULL;
    CHECK(sb_mesh_extract_iso(v, 1000.0, NULL, &m, &err) == SB_ERR_LABEL);
    CHECK(m == NULL);
    CHECK(strstr(err.msg, "1000") != NULL);
    CHECK(sb_mesh_extract_iso(v, NAN, NULL, &m, &err) == SB_ERR_USAGE);
    sb_volume_free(v);
}

static void test_absent_label(void) {
    sb_volume *v = make_ball(9, 3, SB_DT_UINT8);
    sb_trimesh *m = NULL;
    sb_error err;
    CHECK(sb_mesh_extract_label(v, 5, NULL, &m, &err) == SB_ERR_LABEL);
    CHECK(m == NULL);
    CHECK(strstr(err.msg, "label 5") != NULL);
    /* 263 does not fit in uint8 (263 & 255 == 7 is present: must not match) */
    CHECK(sb_mesh_extract_label(v, 263, NULL, &m, &err) == SB_ERR_LABEL);
    CHECK(sb_mesh_extract_label(v, 7, NULL, &m, NULL) == SB_OK);
    sb_trimesh_free(m);
    sb_volume_free(v);
}

static void test_determinism(void) {
    sb_volume *v = make_volume(20, 20, 20, SB_DT_UINT8);
    sb_rng rng;
    sb_rng_init(&rng, 99, 3, SB_STREAM_NOISE);
    uint8_t *d = v->data;
    for (size_t i = 0; i < sb_volume_nvox(v); i++) d[i] = sb_rng_uniform(&rng) < 0.3;
    sb_ctx c1 = {1, NULL, NULL, NULL}, c2 = {2, NULL, NULL, NULL};
    sb_trimesh *a = NULL, *b = NULL;
    sb_error err;
    CHECK_OK(sb_mesh_extract_label(v, 1, &c1, &a, &err));
    CHECK_OK(sb_mesh_extract_label(v, 1, &c2, &b, &err));
    if (a && b) {
        CHECK(a->nverts == b->nverts && a->ntris == b->ntris);
        CHECK(memcmp(a->verts, b->verts, 12 * a->nverts) == 0);
        CHECK(memcmp(a->tris, b->tris, 12 * a->ntris) == 0);
    }
    sb_trimesh_free(a);
    sb_trimesh_free(b);
    sb_volume_free(v);
}

/* ---- sb_mesh_check on hand-made meshes ---------------------------------------------------- */
static float tet_verts[12] = {0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1};
static void test_check_broken(void) {
    sb_mesh_report r;
    sb_error err;
    /* closed, outward tetrahedron */
    uint32_t tet[12] = {0, 2, 1, 0, 1, 3, 0, 3, 2, 1, 2, 3};
    sb_trimesh m = {4, 4, tet_verts, tet};
    CHECK_OK(sb_mesh_check(&m, &r, &err));
    CHECK(r.closed && r.edges == 6 && r.components == 1 && r.degenerate_tris == 0);
    CHECK_NEAR(r.volume_mm3, 1.0 / 6.0, 1e-9);
    CHECK_NEAR(r.area_mm2, 1.5 + sqrt(3.0) / 2, 1e-6);
    CHECK_NEAR(r.bbox_max[1], 1.0, 0);

    /* one triangle: 3 boundary edges */
    m.ntris = 1;
    CHECK_OK(sb_mesh_check(&m, &r, &err));
    CHECK(r.boundary_edges == 3 && r.edges == 3 && !r.closed && r.components == 1);

    /* three triangles on the edge 0-1: non-manifold */
    uint32_t fan[9] = {0, 1, 2, 1, 0, 3, 0, 1, 3};
    sb_trimesh f = {4, 3, tet_verts, fan};
    CHECK_OK(sb_mesh_check(&f, &r, &err));
    CHECK(r.nonmanifold_edges == 1 && !r.closed);
    CHECK(r.boundary_edges == 2); /* 1-2 and 2-0; 0-3 and 1-3 are each used twice */

    /* a flipped triangle in the tetrahedron: its 3 edges are misoriented */
    uint32_t flip[12] = {0, 2, 1, 0, 1, 3, 0, 3, 2, 1, 3, 2};
    sb_trimesh g = {4, 4, tet_verts, flip};
    CHECK_OK(sb_mesh_check(&g, &r, &err));
    CHECK(r.misoriented_edges == 3 && r.boundary_edges == 0 && r.nonmanifold_edges == 0);
    CHECK(!r.closed);

    /* degenerate: repeated index, and zero area (collinear) */
    float line[9] = {0, 0, 0, 1, 0, 0, 2, 0, 0};
    uint32_t deg[6] = {0, 0, 1, 0, 1, 2};
    sb_trimesh h = {3, 2, line, deg};
    CHECK_OK(sb_mesh_check(&h, &r, &err));
    CHECK(r.degenerate_tris == 2);

    /* two separate tetrahedra: 2 components; index out of range: input error */
    float two[24];
    memcpy(two, tet_verts, sizeof tet_verts);
    for (int i = 0; i < 12; i++) two[12 + i] = tet_verts[i] + 5;
    uint32_t tt[24];
    for (int i = 0; i < 12; i++) tt[i] = tet[i], tt[12 + i] = tet[i] + 4;
    sb_trimesh t2 = {8, 8, two, tt};
    CHECK_OK(sb_mesh_check(&t2, &r, &err));
    CHECK(r.components == 2 && r.closed);
    CHECK_NEAR(r.volume_mm3, 2.0 / 6.0, 1e-9);
    CHECK(r.nonmanifold_vertices == 0);
    /* the same two tetrahedra touching at one vertex (8 -> 0): closed by edges, 2 components,
     * one non-manifold vertex */
    for (int i = 12; i < 24; i++)
        if (tt[i] == 4) tt[i] = 0;
    CHECK_OK(sb_mesh_check(&t2, &r, &err));
    CHECK(r.closed && r.components == 2 && r.nonmanifold_vertices == 1);
    tt[5] = 8;
    CHECK(sb_mesh_check(&t2, &r, &err) == SB_ERR_INPUT);
    CHECK(strstr(err.msg, "triangle 1") != NULL);

    /* empty mesh */
    sb_trimesh e = {0, 0, NULL, NULL};
    CHECK_OK(sb_mesh_check(&e, &r, &err));
    CHECK(r.closed && r.edges == 0 && r.components == 0);
}

static void test_vtk(void) {
    sb_volume *v = make_ball(25, 10, SB_DT_UINT8);
    sb_trimesh *m = NULL;
    sb_error err;
    if (!sb_mesh_have_vtk()) {
        CHECK(sb_mesh_vtk_extract_label(v, 7, &m, &err) == SB_ERR_INTERNAL);
        CHECK(m == NULL);
        sb_volume_free(v);
        return;
    }
    sb_mesh_report rn, rv;
    sb_trimesh *n = extract_checked(v, 7, &rn);
    CHECK_OK(sb_mesh_vtk_extract_label(v, 7, &m, &err));
    if (m) {
        CHECK_OK(sb_mesh_check(m, &rv, &err));
        fprintf(stderr,
                "VTK DFE sphere r=10: %zu verts, %zu tris, volume %.1f, area %.1f; boundary %zu "
                "nonmanifold %zu misoriented %zu degenerate %zu components %zu\n"
                "native:              %zu verts, %zu tris, volume %.1f, area %.1f\n",
                rv.nverts, rv.ntris, rv.volume_mm3, rv.area_mm2, rv.boundary_edges,
                rv.nonmanifold_edges, rv.misoriented_edges, rv.degenerate_tris, rv.components,
                rn.nverts, rn.ntris, rn.volume_mm3, rn.area_mm2);
        CHECK(rv.closed);
        CHECK(rv.components == 1);
        CHECK(rv.volume_mm3 > 0);
        CHECK(fabs(rv.volume_mm3 / rn.volume_mm3 - 1) < 0.02);
    }
    sb_trimesh_free(m);
    m = NULL;
    /* a left-handed affine: still outward */
    v->affine[0][0] = -1;
    CHECK_OK(sb_mesh_vtk_extract_label(v, 7, &m, &err));
    if (m) {
        CHECK_OK(sb_mesh_check(m, &rv, &err));
        CHECK(rv.volume_mm3 > 0);
    }
    sb_trimesh_free(m);
    m = NULL;
    CHECK(sb_mesh_vtk_extract_label(v, 5, &m, &err) == SB_ERR_LABEL);
    sb_trimesh_free(n);
    sb_volume_free(v);

    /* noise, where edge and corner contacts abound: DFE 9.1 also gives closed, edge- and
     * vertex-manifold output here (measured), but splits diagonal contacts more often */
    v = make_volume(20, 20, 20, SB_DT_UINT8);
    sb_rng rng;
    sb_rng_init(&rng, 1234, 0, SB_STREAM_NOISE);
    uint8_t *d = v->data;
    for (size_t i = 0; i < sb_volume_nvox(v); i++) d[i] = sb_rng_uniform(&rng) < 0.3;
    m = NULL;
    CHECK_OK(sb_mesh_vtk_extract_label(v, 1, &m, &err));
    if (m) {
        CHECK_OK(sb_mesh_check(m, &rv, &err));
        n = extract_checked(v, 1, &rn);
        fprintf(stderr,
                "noise 20^3 p=0.3: VTK %zu tris, %zu components, closed %d, non-manifold "
                "vertices %zu, degenerate %zu; native %zu tris, %zu components\n",
                rv.ntris, rv.components, rv.closed, rv.nonmanifold_vertices, rv.degenerate_tris,
                rn.ntris, rn.components);
        CHECK(rv.closed && rv.nonmanifold_vertices == 0);
        sb_trimesh_free(n);
    }
    sb_trimesh_free(m);
    sb_volume_free(v);
}

int main(void) {
    test_single_voxel();
    test_sphere();
    test_edge_and_corner_contacts();
    test_noise();
    test_iso_noise();
    test_full_volume();
    test_affines();
    test_iso();
    test_absent_label();
    test_determinism();
    test_check_broken();
    test_vtk();
    TEST_RETURN();
}
