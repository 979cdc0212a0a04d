/* Unit tests of print preparation (mesh/edt.c, mesh/hollow.c, mesh/print.c, mesh/trigrid.c):
 * the exact distance transform against brute force, hollow shells of a ball, a box and a
 * skin-like layer (closed, 2-manifold, wall thickness, volume, drains, thread independence),
 * fit to a build volume, the wall-thickness check on a thin plate and a thick block, the stand,
 * and the triangle budget. */
#include "sb_mesh.h"
#include "sb_test.h"

#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846

/* ---- distance transform ---------------------------------------------------------------- */
static void test_edt(void) {
    sb_rng rng;
    sb_rng_init(&rng, 11, 0, SB_STREAM_NOISE);
    double worst = 0;
    size_t compared = 0, mismatch_threads = 0;
    for (int trial = 0; trial < 60; trial++) {
        size_t dim[3] = {1 + sb_rng_u32(&rng) % 9, 1 + sb_rng_u32(&rng) % 8,
                         1 + sb_rng_u32(&rng) % 7};
        double sp[3] = {0.5 + sb_rng_uniform(&rng) * 2, 0.5 + sb_rng_uniform(&rng) * 2,
                        0.5 + sb_rng_uniform(&rng) * 2};
        const double density = trial % 3 == 0 ? 0.97 : trial % 3 == 1 ? 0.7 : 0.3;
        const int border = trial % 2;
        size_t n = dim[0] * dim[1] * dim[2];
        uint8_t *mask = malloc(n);
        float *d1 = malloc(n * sizeof *d1), *d2 = malloc(n * sizeof *d2);
        for (size_t v = 0; v < n; v++) mask[v] = sb_rng_uniform(&rng) < density;
        sb_error err;
        sb_ctx one = {1, NULL, NULL, NULL}, two = {2, NULL, NULL, NULL};
        CHECK_OK(sb_mesh_edt(mask, dim, sp, border, &one, d1, &err));
        CHECK_OK(sb_mesh_edt(mask, dim, sp, border, &two, d2, &err));
        if (memcmp(d1, d2, n * sizeof *d1)) mismatch_threads++;
        for (size_t k = 0; k < dim[2]; k++)
            for (size_t j = 0; j < dim[1]; j++)
                for (size_t i = 0; i < dim[0]; i++) {
                    double best = INFINITY;
                    /* brute force over the grid and, with border, a ring of zero voxels */
                    long pad = border ? 1 : 0;
                    for (long c = -pad; c < (long)dim[2] + pad; c++)
                        for (long b = -pad; b < (long)dim[1] + pad; b++)
                            for (long a = -pad; a < (long)dim[0] + pad; a++) {
                                int inside = a >= 0 && b >= 0 && c >= 0 && a < (long)dim[0] &&
                                             b < (long)dim[1] && c < (long)dim[2];
                                if (inside &&
                                    mask[(size_t)a + dim[0] * ((size_t)b + dim[1] * (size_t)c)])
                                    continue;
                                double dx = ((double)a - (double)i) * sp[0],
                                       dy = ((double)b - (double)j) * sp[1],
                                       dz = ((double)c - (double)k) * sp[2];
                                double dd = sqrt(dx * dx + dy * dy + dz * dz);
                                if (dd < best) best = dd;
                            }
                    double got = d1[i + dim[0] * (j + dim[1] * k)];
                    if (isinf(best)) {
                        CHECK(isinf(got));
                        continue;
                    }
                    double e = fabs(got - best) / (best > 1 ? best : 1);
                    if (e > worst) worst = e;
                    compared++;
                }
        free(mask);
        free(d1);
        free(d2);
    }
    fprintf(stderr, "edt: %zu voxels against brute force, worst relative error %.3g\n", compared,
            worst);
    CHECK(compared > 5000);
    CHECK(worst < 1e-5);
    CHECK(mismatch_threads == 0);
}

/* ---- hollow shells ------------------------------------------------------------------------ */
static sb_volume *ball(size_t n, double h, double radius_mm, double inner_mm) {
    size_t dim[3] = {n, n, n};
    double sp[3] = {h, h, h};
    sb_volume *v = NULL;
    sb_error err;
    CHECK_OK(sb_volume_create(dim, sp, SB_DT_UINT16, &v, &err));
    uint16_t *d = v->data;
    const double c = (double)(n - 1) / 2;
    for (size_t k = 0; k < n; k++)
        for (size_t j = 0; j < n; j++)
            for (size_t i = 0; i < n; i++) {
                double r =
                    h * sqrt(((double)i - c) * ((double)i - c) + ((double)j - c) * ((double)j - c) +
                             ((double)k - c) * ((double)k - c));
                if (r <= radius_mm) d[sb_volume_index(v, i, j, k)] = r < inner_mm ? 2 : 1;
            }
    return v;
}

static void check_shell(const sb_trimesh *m, const sb_hollow_info *inf, double T, double h,
                        const char *what) {
    sb_mesh_report r;
    sb_error err;
    CHECK(m != NULL);
    if (!m) return;
    CHECK_OK(sb_mesh_check(m, &r, &err));
    fprintf(stderr,
            "%s: %zu triangles, %zu components, closed %d, ok %d, genus %ld, volume %.0f mm3; "
            "wall %zu samples: min %.3f mean %.3f max %.3f mm (T %g, voxel %g); outer %.0f, "
            "inner %.0f mm3; drains %zu\n",
            what, r.ntris, r.components, r.closed, r.ok, r.genus, r.volume_mm3, inf->wall_samples,
            inf->wall_min_mm, inf->wall_mean_mm, inf->wall_max_mm, T, h, inf->outer_mm3,
            inf->inner_mm3, inf->drains);
    CHECK(r.closed && r.ok && r.nonmanifold_edges == 0 && r.nonmanifold_vertices == 0 &&
          r.boundary_edges == 0 && r.misoriented_edges == 0 && r.self_intersections == 0);
    CHECK(inf->hollowed == 1);
    CHECK(inf->wall_samples > 50);
    CHECK(fabs(inf->wall_mean_mm - T) <= h / 10); /* measured: within 0.03 voxel */
    CHECK(inf->wall_min_mm >= T - h / 2 && inf->wall_max_mm <= T + h / 2);
}

static void test_hollow_ball(void) {
    const double h = 2, R = 27, T = 6;
    sb_volume *v = ball(34, h, R, 0);
    sb_hollow_opts o;
    memset(&o, 0, sizeof o);
    o.wall_mm = T;
    sb_surface_opts_default(&o.surf);
    sb_trimesh *m = NULL;
    sb_hollow_info inf;
    sb_error err;
    sb_ctx one = {1, NULL, NULL, NULL}, two = {2, NULL, NULL, NULL};
    CHECK_OK(sb_mesh_hollow(v, 1, &o, &one, &m, &inf, &err));
    check_shell(m, &inf, T, h, "hollow ball");
    sb_mesh_report r;
    if (m && !sb_mesh_check(m, &r, &err)) {
        CHECK(r.components == 2); /* outer wall and the cavity's wall */
        /* volume: the voxel ball minus the cavity ball, within a few % */
        double vox = 0;
        for (size_t i = 0; i < sb_volume_nvox(v); i++) vox += sb_volume_get(v, i) == 1;
        vox *= h * h * h;
        double rin = cbrt(3 * vox / (4 * PI)) - T; /* the voxel ball's radius, less the wall */
        double expect = vox - 4.0 / 3 * PI * rin * rin * rin;
        fprintf(stderr, "hollow ball: volume %.0f mm3, outer - inner %.0f, expected %.0f\n",
                r.volume_mm3, inf.outer_mm3 - inf.inner_mm3, expect);
        CHECK(fabs(r.volume_mm3 - expect) <= 0.03 * expect);
        CHECK(fabs(r.volume_mm3 - (inf.outer_mm3 - inf.inner_mm3)) <= 0.01 * r.volume_mm3);
    }
    /* same bytes with two threads */
    sb_trimesh *m2 = NULL;
    sb_hollow_info inf2;
    CHECK_OK(sb_mesh_hollow(v, 1, &o, &two, &m2, &inf2, &err));
    CHECK(m && m2 && m->nverts == m2->nverts && m->ntris == m2->ntris &&
          !memcmp(m->verts, m2->verts, 3 * m->nverts * sizeof(float)) &&
          !memcmp(m->tris, m2->tris, 3 * m->ntris * sizeof(uint32_t)));
    sb_trimesh_free(m2);
    sb_trimesh_free(m);
    /* one drain, at the bottom: one closed surface (the cup), no second component */
    o.drain_mm = 8;
    m = NULL;
    CHECK_OK(sb_mesh_hollow(v, 1, &o, &one, &m, &inf, &err));
    check_shell(m, &inf, T, h, "hollow ball with drain");
    CHECK(inf.drains == 1);
    if (m && !sb_mesh_check(m, &r, &err)) {
        CHECK(r.components == 1 && r.genus == 0);
        /* the hole opens at the bottom, on the axis */
        CHECK(fabs(inf.drain_xyz[0][0] - 33) < 2.5 && fabs(inf.drain_xyz[0][1] - 33) < 2.5);
        CHECK(inf.drain_xyz[0][2] < r.bbox_min[2] + 2 * h);
        /* no triangle crosses the axis near the bottom: a vertical line through the hole's
         * centre meets no surface below the cavity */
        size_t below = 0;
        for (size_t t = 0; t < m->ntris; t++) {
            const float *a = m->verts + 3 * (size_t)m->tris[3 * t];
            if (a[2] < r.bbox_min[2] + 3 && fabs(a[0] - 33) < 1 && fabs(a[1] - 33) < 1) below++;
        }
        CHECK(below == 0);
    }
    sb_trimesh_free(m);
    /* errors: wall below one voxel, drain below two voxels, absent label */
    o.drain_mm = 0;
    o.wall_mm = 1.5;
    m = NULL;
    CHECK(sb_mesh_hollow(v, 1, &o, &one, &m, &inf, &err) == SB_ERR_USAGE && !m);
    CHECK(strstr(err.msg, "1.5 mm") != NULL);
    o.wall_mm = T;
    o.drain_mm = 3;
    CHECK(sb_mesh_hollow(v, 1, &o, &one, &m, &inf, &err) == SB_ERR_USAGE && !m);
    o.drain_mm = 0;
    CHECK(sb_mesh_hollow(v, 9, &o, &one, &m, &inf, &err) == SB_ERR_LABEL && !m);
    /* a wall thicker than the ball's radius: stays solid */
    o.wall_mm = 40;
    CHECK_OK(sb_mesh_hollow(v, 1, &o, &one, &m, &inf, &err));
    CHECK(m && inf.hollowed == 0);
    if (m && !sb_mesh_check(m, &r, &err)) CHECK(r.components == 1 && r.ok);
    sb_trimesh_free(m);
    sb_volume_free(v);
}

static void test_hollow_box_and_skin(void) {
    /* a box 40 x 30 x 24 mm at 2 mm, wall 5 mm */
    size_t dim[3] = {26, 21, 18};
    double sp[3] = {2, 2, 2};
    sb_volume *v = NULL;
    sb_error err;
    CHECK_OK(sb_volume_create(dim, sp, SB_DT_UINT8, &v, &err));
    uint8_t *d = v->data;
    for (size_t k = 3; k < 15; k++)
        for (size_t j = 3; j < 18; j++)
            for (size_t i = 3; i < 23; i++) d[sb_volume_index(v, i, j, k)] = 3;
    sb_hollow_opts o;
    memset(&o, 0, sizeof o);
    o.wall_mm = 5;
    sb_surface_opts_default(&o.surf);
    sb_trimesh *m = NULL;
    sb_hollow_info inf;
    CHECK_OK(sb_mesh_hollow(v, 3, &o, NULL, &m, &inf, &err));
    check_shell(m, &inf, 5, 2, "hollow box");
    sb_trimesh_free(m);
    /* drains on a flat floor: one, in the floor */
    o.drain_mm = 6;
    m = NULL;
    CHECK_OK(sb_mesh_hollow(v, 3, &o, NULL, &m, &inf, &err));
    check_shell(m, &inf, 5, 2, "hollow box with drain");
    CHECK(inf.drains == 1);
    sb_trimesh_free(m);
    sb_volume_free(v);
    /* skin-like: label 1 a 4 mm layer around label 2; hollowing 1 hollows the whole body */
    v = ball(34, 2, 27, 23);
    o.drain_mm = 0;
    o.wall_mm = 6;
    m = NULL;
    CHECK_OK(sb_mesh_hollow(v, 1, &o, NULL, &m, &inf, &err));
    check_shell(m, &inf, 6, 2, "hollow skin layer");
    double full = 0;
    for (size_t i = 0; i < sb_volume_nvox(v); i++) full += sb_volume_get(v, i) != 0;
    full *= 8;
    CHECK(fabs(inf.outer_mm3 - full) < 0.05 * full);
    sb_trimesh_free(m);
    sb_volume_free(v);
}

/* ---- fit ---------------------------------------------------------------------------------- */
static sb_trimesh *surface(const sb_volume *v, int id) {
    sb_trimesh *m = NULL;
    sb_error err;
    CHECK_OK(sb_mesh_surfaces(v, &id, 1, NULL, NULL, &m, NULL, &err));
    return m;
}

static void test_fit(void) {
    sb_volume *v = ball(34, 2, 27, 12);
    v->affine[0][3] = -500; /* somewhere in the world */
    v->affine[2][3] = 900;
    sb_trimesh *m[2] = {surface(v, 1), surface(v, 2)};
    const double boxes[3][3] = {{200, 150, 100}, {40, 300, 300}, {500, 500, 500}};
    for (int b = 0; b < 3; b++) {
        double s, t[3], lo[3], hi[3];
        sb_error err;
        CHECK_OK(sb_mesh_fit((const sb_trimesh *const *)m, 2, boxes[b], 0, 0, &s, t, &err));
        sb_mesh_transform(m[0], s, t);
        sb_mesh_transform(m[1], s, t);
        CHECK(sb_mesh_bbox((const sb_trimesh *const *)m, 2, lo, hi));
        int touching = 0;
        for (int a = 0; a < 3; a++) {
            CHECK(lo[a] >= -1e-4 && hi[a] <= boxes[b][a] + 1e-4);
            if (hi[a] - lo[a] >= boxes[b][a] * (1 - 1e-5)) touching = 1;
        }
        CHECK(touching);
        CHECK(fabs(lo[2]) < 1e-4);
        CHECK(fabs((lo[0] + hi[0]) / 2 - boxes[b][0] / 2) < 1e-3);
        fprintf(stderr, "fit into %g,%g,%g: scale %.6g, bbox %.4f..%.4f %.4f..%.4f %.4f..%.4f\n",
                boxes[b][0], boxes[b][1], boxes[b][2], s, lo[0], hi[0], lo[1], hi[1], lo[2], hi[2]);
    }
    double s, t[3];
    sb_error err;
    const double bad[3] = {200, 0, 100};
    CHECK(sb_mesh_fit((const sb_trimesh *const *)m, 2, bad, 0, 0, &s, t, &err) == SB_ERR_USAGE);
    sb_trimesh_free(m[0]);
    sb_trimesh_free(m[1]);
    sb_volume_free(v);
}

/* ---- wall thickness ------------------------------------------------------------------------ */
static sb_trimesh *box_mesh(size_t nx, size_t ny, size_t nz, double h) {
    size_t dim[3] = {nx + 4, ny + 4, nz + 4};
    double sp[3] = {h, h, h};
    sb_volume *v = NULL;
    sb_error err;
    CHECK_OK(sb_volume_create(dim, sp, SB_DT_UINT8, &v, &err));
    uint8_t *d = v->data;
    for (size_t k = 2; k < nz + 2; k++)
        for (size_t j = 2; j < ny + 2; j++)
            for (size_t i = 2; i < nx + 2; i++) d[sb_volume_index(v, i, j, k)] = 1;
    sb_trimesh *m = surface(v, 1);
    sb_volume_free(v);
    return m;
}

static void test_thickness(void) {
    /* a plate 20 x 20 x 0.5 mm (voxels of 0.25 mm) and a block 10 x 10 x 10 mm */
    sb_trimesh *plate = box_mesh(80, 80, 2, 0.25), *block = box_mesh(20, 20, 20, 0.5);
    double thin_p, thin_b, area_p, area_b;
    sb_error err;
    CHECK_OK(sb_mesh_thickness(plate, 0.8, 3.2, NULL, &thin_p, &area_p, &err));
    CHECK_OK(sb_mesh_thickness(block, 0.8, 3.2, NULL, &thin_b, &area_b, &err));
    sb_mesh_report rp;
    CHECK_OK(sb_mesh_check(plate, &rp, &err));
    fprintf(stderr,
            "thickness: plate thinnest %.3f mm, %.1f of %.1f mm2 below 0.8; block thinnest %.3f "
            "mm, %.2f mm2 below 0.8\n",
            thin_p, area_p, rp.area_mm2, thin_b, area_b);
    CHECK(thin_p < 0.8 && thin_p > 0.3);
    CHECK(area_p > 0.8 * rp.area_mm2);
    CHECK(thin_b >= 0.8);
    CHECK(area_b == 0);
    sb_trimesh_free(plate);
    sb_trimesh_free(block);
}

/* ---- stand --------------------------------------------------------------------------------- */
static void test_stand(void) {
    /* two legs and a trunk over a gap: the post must reach the trunk's underside */
    size_t dim[3] = {30, 14, 44};
    double sp[3] = {2, 2, 2};
    sb_volume *v = NULL;
    sb_error err;
    CHECK_OK(sb_volume_create(dim, sp, SB_DT_UINT8, &v, &err));
    uint8_t *d = v->data;
    for (size_t k = 2; k < 42; k++)
        for (size_t j = 3; j < 11; j++)
            for (size_t i = 3; i < 27; i++) {
                int leg = k < 20 && ((i >= 4 && i < 10) || (i >= 20 && i < 26));
                if (leg || k >= 20) d[sb_volume_index(v, i, j, k)] = 1;
            }
    sb_trimesh *m = surface(v, 1);
    sb_volume_free(v);
    sb_stand_opts so;
    sb_stand_opts_default(&so);
    const double box[3] = {200, 200, 200};
    double s, t[3];
    CHECK_OK(
        sb_mesh_fit((const sb_trimesh *const *)&m, 1, box, so.margin_mm, so.plate_mm, &s, t, &err));
    sb_mesh_transform(m, s, t);
    double lo[3], hi[3];
    sb_mesh_bbox((const sb_trimesh *const *)&m, 1, lo, hi);
    CHECK(fabs(lo[2] - so.plate_mm) < 1e-3);
    CHECK(hi[2] <= 200 + 1e-3);
    for (int with_post = 1; with_post >= 0; with_post--) {
        so.post_mm = with_post ? 6 : 0;
        sb_trimesh *st = NULL;
        double top = -1;
        CHECK_OK(sb_mesh_stand((const sb_trimesh *const *)&m, 1, &so, &st, &top, &err));
        sb_mesh_report r;
        CHECK(st != NULL);
        if (!st) continue;
        CHECK_OK(sb_mesh_check(st, &r, &err));
        fprintf(stderr,
                "stand (post %g): %zu triangles, closed %d ok %d components %zu, volume %.0f "
                "mm3, post top z %.2f (model %.2f..%.2f)\n",
                so.post_mm, r.ntris, r.closed, r.ok, r.components, r.volume_mm3, top, lo[2], hi[2]);
        CHECK(r.closed && r.ok && r.components == 1 && r.genus == 0);
        CHECK(r.bbox_min[2] > -1e-6 && r.bbox_min[2] < 1e-6);
        if (with_post) {
            /* the trunk's underside is at 18 of the 40 voxels of height above the feet */
            double under = lo[2] + (hi[2] - lo[2]) * 18.0 / 40;
            CHECK(top > under - 2 && top < under + 2 + so.embed_mm);
            CHECK(r.bbox_max[2] > under);
        } else {
            CHECK(top == 0);
            CHECK(fabs(r.volume_mm3 - (r.bbox_max[0] - r.bbox_min[0]) *
                                          (r.bbox_max[1] - r.bbox_min[1]) * so.plate_mm) < 1);
        }
        sb_trimesh_free(st);
    }
    sb_trimesh_free(m);
}

/* ---- budget -------------------------------------------------------------------------------- */
static void test_budget(void) {
    sb_volume *v = ball(34, 2, 27, 12);
    sb_surface_opts so;
    sb_surface_opts_default(&so);
    so.max_error_mm = 0.01; /* keep many triangles */
    int ids[2] = {1, 2};
    sb_trimesh *m[2] = {NULL, NULL};
    sb_error err;
    CHECK_OK(sb_mesh_surfaces(v, ids, 2, &so, NULL, m, NULL, &err));
    size_t before = m[0]->ntris + m[1]->ntris, after = 0;
    size_t budget = before / 3;
    CHECK_OK(sb_mesh_budget(m, 2, budget, &after, &err));
    fprintf(stderr, "budget: %zu -> %zu triangles (budget %zu)\n", before, after, budget);
    CHECK(after <= budget && after == m[0]->ntris + m[1]->ntris);
    for (int i = 0; i < 2; i++) {
        sb_mesh_report r;
        CHECK_OK(sb_mesh_check(m[i], &r, &err));
        CHECK(r.ok && r.components == (i == 0 ? 2u : 1u)); /* label 1 is a layer: 2 walls */
    }
    /* an impossible budget: as low as topology allows, still closed */
    CHECK_OK(sb_mesh_budget(m, 2, 10, &after, &err));
    CHECK(after >= 8);
    for (int i = 0; i < 2; i++) {
        sb_mesh_report r;
        CHECK_OK(sb_mesh_check(m[i], &r, &err));
        CHECK(r.ok);
    }
    sb_trimesh_free(m[0]);
    sb_trimesh_free(m[1]);
    sb_volume_free(v);
}

int main(void) {
    test_edt();
    test_hollow_ball();
    test_hollow_box_and_skin();
    test_fit();
    test_thickness();
    test_stand();
    test_budget();
    TEST_RETURN();
}
