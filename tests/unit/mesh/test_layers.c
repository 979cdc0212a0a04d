/* test_layers.c — layers of a sculpture (mesh/layers.c) and 2-D contours (mesh/contours.c):
 * closed parts whose cut faces lie on planes placed anywhere (not on the voxel grid), flipped
 * and oblique grids, parts that fit, contour loops and their orientation, kerf offset. */
#include "sb_mesh.h"
#include "sb_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A ball of radius 20 mm (label 1) holding a ball of radius 8 (label 2), 2 mm voxels; flip:
 * the z axis runs downwards (affine[2][2] < 0). */
static sb_volume *balls(int flip) {
    size_t dim[3] = {30, 28, 26};
    double sp[3] = {2, 2, 2};
    sb_volume *v = NULL;
    sb_error err = {0};
    if (sb_volume_create(dim, sp, SB_DT_UINT8, &v, &err)) return NULL;
    v->affine[0][3] = -29.5, v->affine[1][3] = -27, v->affine[2][3] = flip ? 25 : -25;
    if (flip) v->affine[2][2] = -2;
    uint8_t *d = v->data;
    for (size_t k = 0; k < dim[2]; k++)
        for (size_t j = 0; j < dim[1]; j++)
            for (size_t i = 0; i < dim[0]; i++) {
                double ijk[3] = {(double)i, (double)j, (double)k}, w[3];
                sb_volume_to_world(v, ijk, w);
                double r = sqrt(w[0] * w[0] + w[1] * w[1] + w[2] * w[2]);
                d[sb_volume_index(v, i, j, k)] = r <= 8 ? 2 : r <= 20 ? 1 : 0;
            }
    return v;
}

static void test_layer(int flip, int axis, double p0, double p1) {
    sb_volume *v = balls(flip);
    CHECK(v != NULL);
    if (!v) return;
    uint16_t *part_of = calloc(65536, sizeof *part_of);
    part_of[1] = 1, part_of[2] = 2;
    sb_layer_opts o;
    sb_layer_opts_default(&o);
    o.axis = axis, o.from_mm = p0, o.to_mm = p1;
    sb_trimesh *m[2] = {0};
    sb_layer_info info[2];
    sb_error err = {0};
    CHECK_OK(sb_mesh_layer_parts(v, part_of, 2, &o, NULL, m, info, &err));
    double vol = 0;
    for (int p = 0; p < 2; p++) {
        CHECK(m[p] != NULL);
        if (!m[p]) continue;
        CHECK(info[p].report.ok);
        CHECK(info[p].report.closed && info[p].report.nonmanifold_vertices == 0);
        CHECK(info[p].sublayer_mm <= 2.0 / SB_LAYER_DEFAULT_SUBDIV + 1e-12);
        size_t on0 = 0, on1 = 0;
        for (size_t i = 0; i < m[p]->nverts; i++) {
            double x = m[p]->verts[3 * i + axis];
            CHECK(x >= p0 - 1e-4 && x <= p1 + 1e-4);
            on0 += fabs(x - p0) <= 1e-4, on1 += fabs(x - p1) <= 1e-4;
        }
        if (p == 0) CHECK(on0 > 10 && on1 > 10); /* the body reaches both cut faces */
        vol += info[p].report.volume_mm3;
    }
    /* the slab of the ball between the planes, minus what the staircase and the rims lose */
    double a = p0, b = p1, exact = M_PI * (400 * (b - a) - (b * b * b - a * a * a) / 3);
    CHECK(fabs(vol / exact - 1) < 0.06);
    /* the inner ball fits its cut-out: every vertex of the organ off the cut faces is a vertex
     * of the body */
    if (m[0] && m[1]) {
        size_t shared = 0;
        size_t off = 0;
        for (size_t i = 0; i < m[1]->nverts; i++) {
            double x = m[1]->verts[3 * i + axis];
            if (fabs(x - p0) <= 1e-4 || fabs(x - p1) <= 1e-4) continue;
            off++;
            for (size_t j = 0; j < m[0]->nverts; j++)
                if (!memcmp(&m[1]->verts[3 * i], &m[0]->verts[3 * j], 3 * sizeof(float))) {
                    shared++;
                    break;
                }
        }
        CHECK(off > 50 && shared == off);
    }
    sb_trimesh_free(m[0]), sb_trimesh_free(m[1]);
    /* a layer missing the inner ball: that part is NULL, not an error */
    o.from_mm = 12.3, o.to_mm = 17.9;
    CHECK_OK(sb_mesh_layer_parts(v, part_of, 2, &o, NULL, m, info, &err));
    CHECK(m[0] != NULL && m[1] == NULL);
    sb_trimesh_free(m[0]);
    /* the planes the resampling reads */
    long k0, k1;
    int va;
    o.from_mm = p0, o.to_mm = p1;
    CHECK_OK(sb_mesh_layer_source(v, &o, &va, &k0, &k1, &err));
    CHECK(va == axis && k0 <= k1 && k1 - k0 <= (long)ceil((p1 - p0) / 2) + 1);
    /* bad input */
    o.from_mm = 5, o.to_mm = 5;
    CHECK(sb_mesh_layer_parts(v, part_of, 2, &o, NULL, m, info, &err) == SB_ERR_USAGE);
    o.from_mm = 0, o.to_mm = 5;
    v->affine[0][1] = 0.5; /* oblique */
    CHECK(sb_mesh_layer_parts(v, part_of, 2, &o, NULL, m, info, &err) == SB_ERR_INPUT);
    CHECK(strstr(err.msg, "oblique") != NULL);
    free(part_of);
    sb_volume_free(v);
}

static double loop_area(const sb_contours *c, size_t i) {
    double a = 0;
    size_t s = c->start[i], n = c->start[i + 1] - s;
    for (size_t k = 0; k < n; k++) {
        const double *p = c->xy + 2 * (s + k), *q = c->xy + 2 * (s + (k + 1) % n);
        a += p[0] * q[1] - q[0] * p[1];
    }
    return a / 2;
}

static void test_contours(void) {
    enum { N = 12 };
    uint8_t m[N * N];
    sb_contours *c = NULL;
    sb_error err = {0};
    /* a ring: 8 x 8 square minus a 2 x 2 hole -> an outer loop (ccw) and a hole (cw) */
    memset(m, 0, sizeof m);
    for (int q = 2; q < 10; q++)
        for (int p = 2; p < 10; p++) m[p + N * q] = !(p >= 5 && p < 7 && q >= 5 && q < 7);
    CHECK_OK(sb_mesh_contours(m, N, N, &c, &err));
    CHECK(c && c->nloops == 2);
    if (c && c->nloops == 2) {
        double a0 = loop_area(c, 0), a1 = loop_area(c, 1), outer = fmax(a0, a1),
               hole = fmin(a0, a1);
        /* through the midpoints: 8 x 8 and 2 x 2 squares, each corner cut by 1/8 */
        CHECK_NEAR(outer, 64 - 4 * 0.125, 1e-12);
        CHECK_NEAR(hole, -(4 - 4 * 0.125), 1e-12);
    }
    sb_contours_free(c);
    /* two pixels touching at a corner: two loops; a pixel on the border closes */
    memset(m, 0, sizeof m);
    m[3 + N * 3] = m[4 + N * 4] = m[0] = 1;
    CHECK_OK(sb_mesh_contours(m, N, N, &c, &err));
    CHECK(c && c->nloops == 3);
    for (size_t i = 0; c && i < c->nloops; i++) CHECK_NEAR(loop_area(c, i), 0.5, 1e-12);
    sb_contours_free(c);
    /* empty */
    memset(m, 0, sizeof m);
    CHECK_OK(sb_mesh_contours(m, N, N, &c, &err));
    CHECK(c && c->nloops == 0);
    sb_contours_free(c);
    /* offset: a 10 x 10 ccw square moved out by 0.5 becomes 11 x 11 */
    double sq[8] = {0, 0, 10, 0, 10, 10, 0, 10};
    sb_contour_offset(sq, 4, 0.5);
    CHECK_NEAR(sq[0], -0.5, 1e-12);
    CHECK_NEAR(sq[1], -0.5, 1e-12);
    CHECK_NEAR(sq[4], 10.5, 1e-12);
    CHECK_NEAR(sq[5], 10.5, 1e-12);
}

int main(void) {
    test_layer(0, 2, -7.3, 3.1);
    test_layer(1, 2, -7.3, 3.1);  /* z runs downwards in the grid */
    test_layer(0, 0, -1.0, 11.7); /* sagittal */
    test_layer(0, 1, -15.2, -4.9);
    test_contours();
    TEST_RETURN();
}
