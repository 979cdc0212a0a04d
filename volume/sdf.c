/* sdf.c — signed distances of the anatomy's shape primitives and their combinations.
 *
 * References: I. Quilez, distance functions (ellipsoid bound k0 (k0 - 1) / k1, round cone,
 * polynomial smooth minimum); A. Barr, "Superquadrics and angle-preserving transformations",
 * IEEE CG&A 1981 (superellipsoid inside-outside function); Catmull & Rom 1974 with the
 * centripetal parametrisation of Yuksel, Schaefer & Keyser, CAD 2011 (tubes).
 *
 * The values are exact for spheres, capsules, boxes, tori and half-spaces and bounded
 * approximations elsewhere (ellipsoids, superquadrics, smooth unions). The voxelizer only
 * relies on the sign at voxel centres and uses |d| with a safety factor to skip uniform
 * blocks, so approximation error moves surfaces by far less than a voxel.
 */
#include "sdf.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Branch-based min/max: fmin/fmax are library calls at -O2 (NaN rules), and this file is
 * the voxelizer's inner loop. Arguments are never NaN here. */
static inline double mn(double a, double b) {
    return a < b ? a : b;
}
static inline double mx(double a, double b) {
    return a > b ? a : b;
}

int sdf_tree_add(sdf_tree *t, sdf_kind kind) {
    if (t->n == t->cap) {
        int cap = t->cap ? 2 * t->cap : 16;
        sdf_node *p = realloc(t->nodes, (size_t)cap * sizeof *p);
        if (!p) return -1;
        t->nodes = p;
        t->cap = cap;
    }
    sdf_node *nd = &t->nodes[t->n];
    memset(nd, 0, sizeof *nd);
    nd->kind = kind;
    for (int i = 0; i < 3; i++) nd->rot[i][i] = 1.0;
    for (int i = 0; i < SDF_MAX_NUMS; i++) nd->num[i].param = -1;
    nd->leaf = -1;
    return t->n++;
}

void sdf_tree_free(sdf_tree *t) {
    for (int i = 0; i < t->n; i++) {
        free(t->nodes[i].pts);
        free(t->nodes[i].raw_pts);
        free(t->nodes[i].raw_pts_num);
    }
    free(t->nodes);
    memset(t, 0, sizeof *t);
}

static double num_value(sdf_num n, const double *params) {
    return n.param >= 0 ? n.k * params[n.param] : n.k;
}

static double len3(double x, double y, double z);

/* ---- tubes: centripetal Catmull-Rom ------------------------------------------------------- */
#define TUBE_SAMPLES 6
/* A tube's segments in chunks of this many, each with the bounding box of its balls (stored
 * after the samples in pts): chunks farther than the nearest distance found are skipped. After
 * the boxes, per segment its midpoint m and R = half its length + its larger radius: its value
 * at p is at least |p - m| - R, so a segment with |p - m| - R above the nearest distance found
 * cannot lower it and is skipped too. */
#define TUBE_CHUNK 8

static int tube_chunks(const sdf_node *nd) {
    return (nd->npts - 1 + TUBE_CHUNK - 1) / TUBE_CHUNK;
}

static double *tube_spheres(const sdf_node *nd) {
    return nd->pts + 4 * nd->npts + 6 * tube_chunks(nd);
}

static double knot(double t, const double *a, const double *b) {
    double d = sqrt((b[0] - a[0]) * (b[0] - a[0]) + (b[1] - a[1]) * (b[1] - a[1]) +
                    (b[2] - a[2]) * (b[2] - a[2]));
    return t + mx(sqrt(d), 1e-6);
}

/* Point at parameter u in [0,1] between p1 and p2 (Barry–Goldman pyramid). */
static void catmull_rom(const double *p0, const double *p1, const double *p2, const double *p3,
                        double u, double out[4]) {
    double t0 = 0, t1 = knot(t0, p0, p1), t2 = knot(t1, p1, p2), t3 = knot(t2, p2, p3);
    double t = t1 + u * (t2 - t1);
    for (int k = 0; k < 4; k++) {
        double a1 = (t1 - t) / (t1 - t0) * p0[k] + (t - t0) / (t1 - t0) * p1[k];
        double a2 = (t2 - t) / (t2 - t1) * p1[k] + (t - t1) / (t2 - t1) * p2[k];
        double a3 = (t3 - t) / (t3 - t2) * p2[k] + (t - t2) / (t3 - t2) * p3[k];
        double b1 = (t2 - t) / (t2 - t0) * a1 + (t - t0) / (t2 - t0) * a2;
        double b2 = (t3 - t) / (t3 - t1) * a2 + (t - t1) / (t3 - t1) * a3;
        out[k] = (t2 - t) / (t2 - t1) * b1 + (t - t1) / (t2 - t1) * b2;
    }
}

static int tube_sample(sdf_node *nd, const double *params) {
    int n = nd->nraw;
    double *cp = malloc((size_t)(n + 2) * 4 * sizeof *cp);
    if (!cp) return 0;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < 4; k++)
            cp[4 * (i + 1) + k] = num_value(nd->raw_pts_num[4 * i + k], params);
    /* end points extended by reflection (open) or wrapped (closed) */
    for (int k = 0; k < 4; k++) {
        if (nd->closed) {
            cp[k] = cp[4 * n + k];
            cp[4 * (n + 1) + k] = cp[4 + k];
        } else {
            cp[k] = 2 * cp[4 + k] - cp[8 + k];
            cp[4 * (n + 1) + k] = 2 * cp[4 * n + k] - cp[4 * (n - 1) + k];
        }
    }
    if (!nd->closed) cp[3] = cp[7], cp[4 * (n + 1) + 3] = cp[4 * n + 3];
    int segs = nd->closed ? n : n - 1;
    free(nd->pts);
    nd->npts = segs * TUBE_SAMPLES + 1;
    nd->pts =
        malloc(((size_t)nd->npts * 4 + (size_t)tube_chunks(nd) * 6 + (size_t)(nd->npts - 1) * 4) *
               sizeof *nd->pts);
    if (!nd->pts) {
        free(cp);
        return 0;
    }
    int m = 0;
    for (int s = 0; s < segs; s++) {
        const double *p0, *p1, *p2, *p3;
        if (nd->closed) { /* wrap indices over the n real points, stored at 1..n */
            p0 = cp + 4 * (1 + (s + n - 1) % n);
            p1 = cp + 4 * (1 + s % n);
            p2 = cp + 4 * (1 + (s + 1) % n);
            p3 = cp + 4 * (1 + (s + 2) % n);
        } else {
            p0 = cp + 4 * s, p1 = cp + 4 * (s + 1), p2 = cp + 4 * (s + 2), p3 = cp + 4 * (s + 3);
        }
        for (int j = 0; j < TUBE_SAMPLES; j++)
            catmull_rom(p0, p1, p2, p3, (double)j / TUBE_SAMPLES, nd->pts + 4 * m++);
    }
    const double *last = nd->closed ? cp + 4 : cp + 4 * n;
    memcpy(nd->pts + 4 * m++, last, 4 * sizeof(double));
    free(cp);
    double *box = nd->pts + 4 * nd->npts;
    for (int c = 0; c < tube_chunks(nd); c++, box += 6) {
        int a = c * TUBE_CHUNK, b = a + TUBE_CHUNK < nd->npts - 1 ? a + TUBE_CHUNK : nd->npts - 1;
        for (int i = 0; i < 3; i++) box[i] = 1e300, box[3 + i] = -1e300;
        for (int q = a; q <= b; q++) {
            const double *pt = nd->pts + 4 * q;
            for (int i = 0; i < 3; i++)
                box[i] = mn(box[i], pt[i] - pt[3]), box[3 + i] = mx(box[3 + i], pt[i] + pt[3]);
        }
    }
    double *sph = tube_spheres(nd);
    for (int g = 0; g + 1 < nd->npts; g++, sph += 4) {
        const double *a = nd->pts + 4 * g, *b = a + 4;
        for (int i = 0; i < 3; i++) sph[i] = 0.5 * (a[i] + b[i]);
        sph[3] = 0.5 * len3(b[0] - a[0], b[1] - a[1], b[2] - a[2]) + mx(a[3], b[3]);
    }
    return 1;
}

/* ---- bounding boxes ------------------------------------------------------------------------ */
static void box_set(sdf_node *nd, const double c[3], const double e[3]) {
    for (int i = 0; i < 3; i++) nd->lo[i] = c[i] - e[i], nd->hi[i] = c[i] + e[i];
}

/* Half extents of a rotated box/ellipsoid with local half sizes h: sum_j |R_ji| h_j, where
 * rot maps world to local (so world axis i gets |rot[j][i]|). */
static void rotated_extent(const sdf_node *nd, const double h[3], double e[3], int ellipsoid) {
    for (int i = 0; i < 3; i++) {
        double s = 0;
        for (int j = 0; j < 3; j++) {
            double a = nd->rot[j][i] * h[j];
            s += ellipsoid ? a * a : fabs(a);
        }
        e[i] = ellipsoid ? sqrt(s) : s;
    }
}

static void node_box(sdf_tree *t, int idx, const sdf_tree *shapes) {
    sdf_node *nd = &t->nodes[idx];
    double e[3];
    const double *v = nd->v;
    switch (nd->kind) {
    case SDF_SPHERE: {
        double r[3] = {v[3], v[3], v[3]};
        box_set(nd, v, r);
        break;
    }
    case SDF_ELLIPSOID:
        rotated_extent(nd, v + 3, e, 1);
        box_set(nd, v, e);
        break;
    case SDF_SUPERQUADRIC:
        rotated_extent(nd, v + 3, e, 0);
        box_set(nd, v, e);
        break;
    case SDF_BOX: {
        double h[3] = {v[3] + v[6], v[4] + v[6], v[5] + v[6]};
        rotated_extent(nd, h, e, 0);
        box_set(nd, v, e);
        break;
    }
    case SDF_CAPSULE: {
        double r = mx(v[6], v[7]);
        for (int i = 0; i < 3; i++)
            nd->lo[i] = mn(v[i], v[3 + i]) - r, nd->hi[i] = mx(v[i], v[3 + i]) + r;
        break;
    }
    case SDF_TUBE:
        for (int i = 0; i < 3; i++) nd->lo[i] = 1e30, nd->hi[i] = -1e30;
        for (int m = 0; m < nd->npts; m++) {
            const double *p = nd->pts + 4 * m;
            for (int i = 0; i < 3; i++)
                nd->lo[i] = mn(nd->lo[i], p[i] - p[3]), nd->hi[i] = mx(nd->hi[i], p[i] + p[3]);
        }
        break;
    case SDF_TORUS: {
        double r = v[3] + v[4], h[3] = {r, r, v[4]};
        rotated_extent(nd, h, e, 0);
        box_set(nd, v, e);
        break;
    }
    case SDF_HALFSPACE:
        for (int i = 0; i < 3; i++) nd->lo[i] = -1e9, nd->hi[i] = 1e9;
        break;
    case SDF_UNION:
    case SDF_SMOOTH_UNION: {
        double grow = nd->kind == SDF_SMOOTH_UNION ? 0.25 * fabs(v[0]) : 0.0;
        for (int i = 0; i < 3; i++) nd->lo[i] = 1e30, nd->hi[i] = -1e30;
        for (int c = 0; c < nd->count; c++) {
            const sdf_node *ch = &t->nodes[nd->first + c];
            for (int i = 0; i < 3; i++)
                nd->lo[i] = mn(nd->lo[i], ch->lo[i] - grow),
                nd->hi[i] = mx(nd->hi[i], ch->hi[i] + grow);
        }
        break;
    }
    case SDF_INTERSECT:
        for (int i = 0; i < 3; i++) nd->lo[i] = -1e30, nd->hi[i] = 1e30;
        for (int c = 0; c < nd->count; c++) {
            const sdf_node *ch = &t->nodes[nd->first + c];
            for (int i = 0; i < 3; i++)
                nd->lo[i] = mx(nd->lo[i], ch->lo[i]), nd->hi[i] = mn(nd->hi[i], ch->hi[i]);
        }
        break;
    case SDF_DIFFERENCE:
    case SDF_SHELL:
        memcpy(nd->lo, t->nodes[nd->first].lo, sizeof nd->lo);
        memcpy(nd->hi, t->nodes[nd->first].hi, sizeof nd->hi);
        break;
    case SDF_OFFSET: {
        double d = mx(0.0, v[0]);
        for (int i = 0; i < 3; i++)
            nd->lo[i] = t->nodes[nd->first].lo[i] - d, nd->hi[i] = t->nodes[nd->first].hi[i] + d;
        break;
    }
    case SDF_REF: { /* in anchored trees the shape is met at point + anchor (v[0..2]) */
        const sdf_node *r = &shapes[nd->first].nodes[shapes[nd->first].root];
        for (int i = 0; i < 3; i++) {
            double o = nd->nnum == 3 ? v[i] : 0.0;
            nd->lo[i] = r->lo[i] - o;
            nd->hi[i] = r->hi[i] - o;
        }
        break;
    }
    case SDF_MIRROR_X:
        memcpy(nd->lo, t->nodes[nd->first].lo, sizeof nd->lo);
        memcpy(nd->hi, t->nodes[nd->first].hi, sizeof nd->hi);
        nd->lo[0] = -t->nodes[nd->first].hi[0];
        nd->hi[0] = -t->nodes[nd->first].lo[0];
        break;
    }
}

static int resolve_node(sdf_tree *t, int idx, const double *params, const sdf_tree *shapes) {
    sdf_node *nd = &t->nodes[idx];
    for (int i = 0; i < nd->nnum; i++) nd->v[i] = num_value(nd->num[i], params);
    if (nd->kind == SDF_TUBE && !tube_sample(nd, params)) return 0;
    if (nd->kind == SDF_HALFSPACE) {
        double l = sqrt(nd->v[3] * nd->v[3] + nd->v[4] * nd->v[4] + nd->v[5] * nd->v[5]);
        if (l > 0)
            for (int i = 3; i < 6; i++) nd->v[i] /= l;
    }
    if (nd->kind != SDF_REF)
        for (int c = 0; c < nd->count; c++)
            if (!resolve_node(t, nd->first + c, params, shapes)) return 0;
    nd->half = 0;
    if (nd->kind == SDF_INTERSECT)
        for (int c = nd->count - 1; c >= 0; c--)
            if (t->nodes[nd->first + c].kind == SDF_HALFSPACE) nd->half = 1 + c;
    node_box(t, idx, shapes);
    return 1;
}

int sdf_resolve(sdf_tree *t, const double *params, const sdf_tree *shapes) {
    return resolve_node(t, t->root, params, shapes);
}

static int is_primitive(sdf_kind k) {
    return k == SDF_SPHERE || k == SDF_ELLIPSOID || k == SDF_SUPERQUADRIC || k == SDF_BOX ||
           k == SDF_CAPSULE || k == SDF_TORUS;
}

/* The same formula on the same numbers (compared as numbers: a twin's -0 for 0 gives the same
 * value everywhere these formulas use it, but keep it strict). */
static int same_primitive(const sdf_node *a, const sdf_node *b) {
    if (a->kind != b->kind || a->nnum != b->nnum || a->has_rot != b->has_rot) return 0;
    if (memcmp(a->v, b->v, (size_t)a->nnum * sizeof a->v[0])) return 0;
    return !a->has_rot || !memcmp(a->rot, b->rot, sizeof a->rot);
}

void sdf_share_leaves(sdf_tree *shapes, int n) {
    int slots = 0;
    for (int s = 0; s < n; s++)
        for (int i = 0; i < shapes[s].n; i++) shapes[s].nodes[i].leaf = -1;
    for (int s = 0; s < n; s++)
        for (int i = 0; i < shapes[s].n; i++) {
            sdf_node *a = &shapes[s].nodes[i];
            if (!is_primitive(a->kind) || a->leaf >= 0) continue;
            for (int s2 = s; s2 < n; s2++)
                for (int i2 = s2 == s ? i + 1 : 0; i2 < shapes[s2].n; i2++) {
                    sdf_node *b = &shapes[s2].nodes[i2];
                    if (b->leaf >= 0 || !same_primitive(a, b)) continue;
                    if (a->leaf < 0) a->leaf = slots++;
                    b->leaf = a->leaf;
                }
        }
}

int sdf_ctx_init(sdf_ctx *c, const sdf_tree *shapes, int n) {
    c->shapes = shapes;
    c->n = n;
    c->nleaf = 0;
    for (int s = 0; s < n; s++)
        for (int i = 0; i < shapes[s].n; i++)
            if (shapes[s].nodes[i].leaf >= c->nleaf) c->nleaf = shapes[s].nodes[i].leaf + 1;
    c->memo = malloc((size_t)(n ? n : 1) * 5 * sizeof *c->memo);
    c->have = calloc((size_t)(n ? n : 1), 1);
    c->cells = calloc(SDF_CELLS, sizeof *c->cells);
    c->leaf = malloc((size_t)(c->nleaf ? c->nleaf : 1) * 4 * sizeof *c->leaf);
    if (!c->memo || !c->have || !c->cells || !c->leaf) {
        sdf_ctx_free(c);
        return 0;
    }
    for (int i = 0; i < 4 * c->nleaf; i++) c->leaf[i] = NAN; /* (a NaN point: NaN either way) */
    return 1;
}

void sdf_ctx_free(sdf_ctx *c) {
    free(c->memo);
    free(c->have);
    free(c->cells);
    free(c->leaf);
    c->memo = NULL;
    c->have = NULL;
    c->cells = NULL;
    c->leaf = NULL;
}

/* The evaluation calls itself through these file-local names: calls of the exported ones from
 * inside this shared library go through its procedure linkage table (a jump through memory). */
static double eval_below(const sdf_tree *t, int idx, const double p[3], sdf_ctx *cx, double below);

static double shape_below(sdf_ctx *c, int k, const double p[3], double below) {
    double *m = c->memo + 5 * k;
    /* a value found under the limit m[4] answers any limit up to it, and one below it is the
     * exact value, which answers any limit */
    if (c->have[k] && m[0] == p[0] && m[1] == p[1] && m[2] == p[2] &&
        (below <= m[4] || m[3] < m[4]))
        return m[3];
    double d = eval_below(&c->shapes[k], c->shapes[k].root, p, c, below);
    m = c->memo + 5 * k; /* (unchanged: the memo never moves) */
    m[0] = p[0], m[1] = p[1], m[2] = p[2], m[3] = d, m[4] = below;
    c->have[k] = 1;
    return d;
}

double sdf_eval_shape_below(sdf_ctx *c, int k, const double p[3], double below) {
    return shape_below(c, k, p, below);
}

double sdf_eval_shape(sdf_ctx *c, int k, const double p[3]) {
    return shape_below(c, k, p, HUGE_VAL);
}

/* ---- evaluation ---------------------------------------------------------------------------- */
static double len3(double x, double y, double z) {
    return sqrt(x * x + y * y + z * z);
}

static void to_local(const sdf_node *nd, const double p[3], const double c[3], double q[3]) {
    double d[3] = {p[0] - c[0], p[1] - c[1], p[2] - c[2]};
    if (!nd->has_rot) {
        memcpy(q, d, sizeof d);
        return;
    }
    for (int i = 0; i < 3; i++)
        q[i] = nd->rot[i][0] * d[0] + nd->rot[i][1] * d[1] + nd->rot[i][2] * d[2];
}

/* Squared distance from p to the box [lo, hi] (0 inside). */
static double box2(const double lo[3], const double hi[3], const double p[3]) {
    double s = 0;
    for (int i = 0; i < 3; i++) {
        double e = mx(lo[i] - p[i], p[i] - hi[i]);
        if (e > 0) s += e * e;
    }
    return s;
}

/* Squared distance from p to the node's box: the box distance is a lower bound of the
 * shape's distance. */
static double box_dist2(const sdf_node *nd, const double p[3]) {
    return box2(nd->lo, nd->hi, p);
}

static double seg_dist(const double *a, const double *b, const double p[3]) {
    double ab[3], ap[3], dd = 0, t = 0;
    for (int i = 0; i < 3; i++) {
        ab[i] = b[i] - a[i];
        ap[i] = p[i] - a[i];
        dd += ab[i] * ab[i];
        t += ab[i] * ap[i];
    }
    t = dd > 0 ? mx(0.0, mn(1.0, t / dd)) : 0.0;
    return len3(ap[0] - t * ab[0], ap[1] - t * ab[1], ap[2] - t * ab[2]) -
           (a[3] + t * (b[3] - a[3]));
}

/* The limit for a child whose value v gives this node's v - off: with a margin for the
 * rounding of both subtractions, so that a child's value at or above it gives a value above
 * `below`. */
static double limit_plus(double below, double off) {
    return below + off + 1e-9 * (fabs(below) + fabs(off) + 1.0);
}

/* ---- lower bounds over a cell ------------------------------------------------------------ */
/* A lower bound of node idx's exact value (sdf_eval) over the box [lo, hi], or -HUGE_VAL when
 * none is known: exact for spheres and capsules (distances to the centre or the axis are
 * 1-Lipschitz), interval arithmetic for ellipsoids (outside, k0 (k0 - 1) / k1 grows with k0 and
 * falls with k1), passed through offsets and mirrors. Shapes that may give NaN get none. */
static double node_lower_bound(const sdf_tree *t, int idx, const double lo[3], const double hi[3]) {
    const sdf_node *nd = &t->nodes[idx];
    const double *v = nd->v;
    double c[3], e[3];
    for (int i = 0; i < 3; i++) c[i] = 0.5 * (lo[i] + hi[i]), e[i] = 0.5 * (hi[i] - lo[i]);
    switch (nd->kind) {
    case SDF_SPHERE:
        if (!(v[3] >= 0 && v[3] < 1e30)) return -HUGE_VAL;
        return sqrt(box2(lo, hi, v)) - v[3];
    case SDF_ELLIPSOID: {
        for (int i = 3; i < 6; i++)
            if (!(v[i] > 0 && v[i] < 1e30)) return -HUGE_VAL;
        double q[3], he[3], s0 = 0, s1 = 0;
        to_local(nd, c, v, q);
        for (int i = 0; i < 3; i++) {
            he[i] = nd->has_rot ? fabs(nd->rot[i][0]) * e[0] + fabs(nd->rot[i][1]) * e[1] +
                                      fabs(nd->rot[i][2]) * e[2]
                                : e[i];
            double m = mx(fabs(q[i]) - he[i], 0.0), M = fabs(q[i]) + he[i];
            s0 += (m / v[3 + i]) * (m / v[3 + i]);
            s1 += (M / (v[3 + i] * v[3 + i])) * (M / (v[3 + i] * v[3 + i]));
        }
        double k0 = sqrt(s0), k1 = sqrt(s1);
        return k0 > 1 && k1 > 0 ? k0 * (k0 - 1.0) / k1 : -HUGE_VAL;
    }
    case SDF_CAPSULE: { /* >= distance to the axis - the larger radius */
        double ab[3], ac[3], dd = 0, u = 0;
        for (int i = 0; i < 3; i++) {
            ab[i] = v[3 + i] - v[i];
            ac[i] = c[i] - v[i];
            dd += ab[i] * ab[i];
            u += ab[i] * ac[i];
        }
        u = dd > 0 ? mx(0.0, mn(1.0, u / dd)) : 0.0;
        double r = mx(v[6], v[7]);
        if (!(r < 1e30) || !(dd < 1e60)) return -HUGE_VAL;
        return len3(ac[0] - u * ab[0], ac[1] - u * ab[1], ac[2] - u * ab[2]) -
               len3(e[0], e[1], e[2]) - r;
    }
    case SDF_OFFSET:
        if (!(fabs(v[0]) < 1e30)) return -HUGE_VAL;
        return node_lower_bound(t, nd->first, lo, hi) - v[0];
    case SDF_MIRROR_X: {
        double ml[3] = {-hi[0], lo[1], lo[2]}, mh[3] = {-lo[0], hi[1], hi[2]};
        return node_lower_bound(t, nd->first, ml, mh);
    }
    default:
        return -HUGE_VAL;
    }
}

/* Rounding margin of a comparison of values near x (mm) */
static double margin(double x) {
    return 1e-9 * (fabs(x) + 1.0);
}

/* The cell of union nd (a cube of SDF_CELL_MM) holding p, its bounds computed if not cached.
 * The nearest-box member at any point of the cell is among the candidates (those whose box
 * is no farther from the cell than the farthest point of the cell from the nearest box). */
static const sdf_cell *union_cell(const sdf_tree *t, const sdf_node *nd, const double p[3],
                                  sdf_ctx *cx) {
    double lo[3], hi[3];
    for (int i = 0; i < 3; i++) {
        lo[i] = floor(p[i] / SDF_CELL_MM) * SDF_CELL_MM;
        hi[i] = lo[i] + SDF_CELL_MM;
    }
    uint64_t key = (uint64_t)(uintptr_t)nd;
    for (int i = 0; i < 3; i++)
        key = (key ^ (uint64_t)(int64_t)(lo[i] / SDF_CELL_MM)) * 0x9E3779B97F4A7C15ull;
    sdf_cell *e = &cx->cells[(key >> 32) % SDF_CELLS];
    if (e->node == nd && e->cell[0] == lo[0] && e->cell[1] == lo[1] && e->cell[2] == lo[2])
        return e;
    e->node = nd;
    memcpy(e->cell, lo, sizeof lo);
    double bl[SDF_CELL_MAX], best = HUGE_VAL;
    for (int c = 0; c < nd->count; c++) {
        const sdf_node *ch = &t->nodes[nd->first + c];
        double near = 0, far = 0;
        for (int i = 0; i < 3; i++) {
            double g = mx(mx(ch->lo[i] - hi[i], lo[i] - ch->hi[i]), 0.0);
            double f = mx(mx(ch->lo[i] - lo[i], hi[i] - ch->hi[i]), 0.0);
            near += g * g;
            far += f * f;
        }
        /* the member's box distance at any point of the cell is in [bl, sqrt(far)] */
        bl[c] = sqrt(near);
        if (sqrt(far) < best) best = sqrt(far);
        const double vl = node_lower_bound(t, nd->first + c, lo, hi), b = vl > bl[c] ? vl : bl[c];
        e->lb[c] = bl[c] >= 0 ? b - margin(b) : -HUGE_VAL; /* (a NaN box: never skipped) */
    }
    e->ncand = 0;
    for (int c = 0; c < nd->count; c++)
        if (!(bl[c] > best + margin(best))) e->cand[e->ncand++] = (unsigned char)c;
    for (int c = 0; c < nd->count; c++) { /* (never NaN: see above) */
        int j = c;
        for (; j > 0 && e->lb[e->by_lb[j - 1]] > e->lb[c]; j--) e->by_lb[j] = e->by_lb[j - 1];
        e->by_lb[j] = (unsigned char)c;
    }
    return e;
}

/* A union's running minimum d with member value b: the polynomial smooth minimum of radius k,
 * or the minimum (k = 0). With b >= d + k it is d itself. */
static inline double fold_min(double d, double b, double k) {
    if (!(k > 0)) return mn(d, b);
    double h = mx(k - fabs(d - b), 0.0) / k;
    return mn(d, b) - h * h * k * 0.25;
}

/* The value of a primitive (see is_primitive) at p. */
static inline double primitive_value(const sdf_node *nd, const double p[3]) {
    const double *v = nd->v;
    double q[3];
    switch (nd->kind) {
    case SDF_SPHERE:
        return len3(p[0] - v[0], p[1] - v[1], p[2] - v[2]) - v[3];
    case SDF_ELLIPSOID: {
        to_local(nd, p, v, q);
        /* the six quotients two at a time: the same correctly rounded divisions */
        typedef double pair __attribute__((vector_size(16)));
        const pair a = (pair){q[0], q[1]} / (pair){v[3], v[4]};
        const pair b = (pair){q[2], q[0]} / (pair){v[5], v[3] * v[3]};
        const pair c = (pair){q[1], q[2]} / (pair){v[4] * v[4], v[5] * v[5]};
        double k0 = len3(a[0], a[1], b[0]);
        double k1 = len3(b[1], c[0], c[1]);
        if (k1 <= 0) return -mn(v[3], mn(v[4], v[5]));
        const double d = k0 * (k0 - 1.0) / k1;
        if (!(k0 < 1.0)) return d;
        /* inside, k0 (k0 - 1) / k1 overstates the depth away from the surface, without bound
         * near the long axes of a flat ellipsoid (a hand's: -75 mm 10 mm from its centre, 18 mm
         * under its face), which the voxelizer's culling, trusting distances within a factor
         * CULL_FACTOR, took for deep muscle: it dropped the fat and skin from cubes that reach
         * the hand's face (air inside the hand at 2 mm, its skin in pieces). The depth is at
         * most the distance to the nearest face of the bounding box, max |q_i| - r_i. */
        return mx(d, mx(fabs(q[0]) - v[3], mx(fabs(q[1]) - v[4], fabs(q[2]) - v[5])));
    }
    case SDF_SUPERQUADRIC: {
        to_local(nd, p, v, q);
        double e1 = mx(v[6], 0.05), e2 = mx(v[7], 0.05);
        double x = fabs(q[0] / v[3]), y = fabs(q[1] / v[4]), z = fabs(q[2] / v[5]);
        double f = pow(pow(x, 2 / e2) + pow(y, 2 / e2), e2 / e1) + pow(z, 2 / e1);
        double rmin = mn(v[3], mn(v[4], v[5]));
        /* f^(e1/2) is a radial scale factor: (f^(e1/2) - 1) * distance to the centre along the
         * ray approximates the distance near the surface */
        double s = pow(f, e1 / 2);
        double r = len3(q[0], q[1], q[2]);
        return s > 0 ? mx((s - 1) * r / s, (s - 1) * rmin * 0.5) : -rmin;
    }
    case SDF_BOX: {
        to_local(nd, p, v, q);
        double d[3], out = 0, in;
        for (int i = 0; i < 3; i++) {
            d[i] = fabs(q[i]) - v[3 + i];
            if (d[i] > 0) out += d[i] * d[i];
        }
        in = mn(mx(d[0], mx(d[1], d[2])), 0.0);
        return sqrt(out) + in - v[6];
    }
    case SDF_CAPSULE: {
        double a[4] = {v[0], v[1], v[2], v[6]}, b[4] = {v[3], v[4], v[5], v[7]};
        return seg_dist(a, b, p);
    }
    case SDF_TORUS: {
        to_local(nd, p, v, q);
        double a = sqrt(q[0] * q[0] + q[1] * q[1]) - v[3];
        return sqrt(a * a + q[2] * q[2]) - v[4];
    }
    default:
        return 1e30;
    }
}

double sdf_eval(const sdf_tree *t, int idx, const double p[3], sdf_ctx *cx) {
    return eval_below(t, idx, p, cx, HUGE_VAL);
}

/* sdf_eval inside this file */
static inline double eval_exact(const sdf_tree *t, int idx, const double p[3], sdf_ctx *cx) {
    return eval_below(t, idx, p, cx, HUGE_VAL);
}

/* A tube's value at p (see sdf_eval_below). Out of line, as the union's below: their scratch
 * arrays would otherwise make every call of sdf_eval_below set up a large frame. */
static __attribute__((noinline)) double tube_eval(const sdf_node *nd, const double p[3],
                                                  double below) {
    /* the chunk whose box is nearest first; then a chunk whose box lies farther out than
     * the distance found cannot lower it (its balls are inside its box), nor one farther out
     * than the limit (with a margin for rounding) bring it under the limit: the value is the
     * least of the segments', the same whatever the order, so the least one below the limit
     * is always visited; at or above it, some value at or above it (1e30 if none) */
    const int nch = tube_chunks(nd), nseg = nd->npts - 1;
    const double *box = nd->pts + 4 * nd->npts, *sph = tube_spheres(nd);
    const double lim_below = below + 1e-9 * (fabs(below) + 1.0);
    double b2[64], best = 1e300, d = 1e30;
    int first = 0;
    for (int c = 0; c < nch; c++) {
        double e2 = box2(box + 6 * c, box + 6 * c + 3, p);
        if (c < 64) b2[c] = e2;
        if (e2 < best) best = e2, first = c;
    }
    for (int k = -1; k < nch; k++) {
        int c = k < 0 ? first : k;
        if (k == first) continue;
        const double cut = mn(d, lim_below); /* (the first chunk: d = 1e30 < its box) */
        double e2 = c < 64 ? b2[c] : box2(box + 6 * c, box + 6 * c + 3, p);
        if (e2 > 0 && (cut <= 0 || e2 >= cut * cut)) continue;
        int end = (c + 1) * TUBE_CHUNK < nseg ? (c + 1) * TUBE_CHUNK : nseg;
        for (int m = c * TUBE_CHUNK; m < end; m++) {
            /* skipped when |p - m| - R >= d or the limit (with a margin for rounding): its
             * value would leave d as it is, or not bring it under the limit */
            const double *sp = sph + 4 * m, cut_m = mn(d, lim_below);
            const double lim = cut_m + sp[3] + 1e-9 * (fabs(cut_m) + sp[3] + 1.0);
            const double dx = p[0] - sp[0], dy = p[1] - sp[1], dz = p[2] - sp[2];
            if (lim <= 0 || dx * dx + dy * dy + dz * dz >= lim * lim) continue;
            d = mn(d, seg_dist(nd->pts + 4 * m, nd->pts + 4 * m + 4, p));
        }
    }
    return d;
}

/* A union's value at p (see sdf_eval_below). */
static __attribute__((noinline)) double union_eval(const sdf_tree *t, const sdf_node *nd,
                                                   const double p[3], sdf_ctx *cx, double below) {
    const double *v = nd->v;
    /* the child whose box is nearest first, then the others unless their box is too far
     * to change the (smooth) minimum (squared box distances, each computed once) */
    if (nd->count == 1) return eval_below(t, nd->first, p, cx, below);
    double k = nd->kind == SDF_SMOOTH_UNION ? mx(v[0], 1e-9) : 0.0, best = 1e300;
    if (cx && cx->cells && nd->count >= 6 && nd->count <= SDF_CELL_MAX) {
        /* the same operations on the members that can change the value (see sdf_cell):
         * the nearest box first; a member is skipped where the code below would skip it
         * (box distance >= d + k) or where it would add nothing (value >= d + k, so h = 0
         * and min(d, value) = d) */
        const sdf_cell *e = union_cell(t, nd, p, cx);
        int first = e->cand[0];
        for (int j = 0; j < e->ncand; j++) {
            double b = box_dist2(&t->nodes[nd->first + e->cand[j]], p);
            if (b < best) best = b, first = e->cand[j];
        }
        double d = eval_exact(t, nd->first + first, p, cx);
        double lim = d + k, thr = lim + margin(lim); /* (recomputed when d changes) */
        /* only the members with lb below the first threshold can pass the test below (d,
         * so the threshold, only falls): picked by lb, visited by index as before */
        const double thr0 = thr + margin(thr);
        uint64_t left = 0;
        for (int j = 0; j < nd->count && !(e->lb[e->by_lb[j]] >= thr0); j++) /* (NaN: all) */
            left |= 1ull << e->by_lb[j];
        for (; left && !(lim <= 0); left &= left - 1) { /* (NaN: on) */
            const int c = __builtin_ctzll(left);
            if (c == first || e->lb[c] >= thr) continue;
            if (box_dist2(&t->nodes[nd->first + c], p) >= lim * lim) continue;
            d = fold_min(d, eval_exact(t, nd->first + c, p, cx), k);
            lim = d + k, thr = lim + margin(lim);
        }
        return d;
    }
    double bd2[64];
    const int nb = nd->count < 64 ? nd->count : 64;
    int first = 0;
    for (int c = 0; c < nd->count; c++) {
        double b = box_dist2(&t->nodes[nd->first + c], p);
        if (c < nb) bd2[c] = b;
        if (b < best) best = b, first = c;
    }
    double d = eval_exact(t, nd->first + first, p, cx);
    for (int c = 0; c < nd->count; c++) {
        if (c == first) continue;
        double lim = d + k; /* box distance at or beyond lim: cannot lower the minimum */
        if (lim <= 0 || (c < nb ? bd2[c] : box_dist2(&t->nodes[nd->first + c], p)) >= lim * lim)
            continue;
        d = fold_min(d, eval_exact(t, nd->first + c, p, cx), k);
    }
    return d;
}

/* The composites of sdf_eval_below, each out of line (as the tube and the union): the
 * dispatch in sdf_eval_below, entered at every node, then needs no frame of its own and ends
 * in a tail call or a few operations. */
#define SDF_COLD __attribute__((noinline))

/* A primitive with twins (see sdf.h). */
static SDF_COLD double leaf_eval(const sdf_node *nd, const double p[3], sdf_ctx *cx) {
    double *m = cx->leaf + 4 * nd->leaf;
    if (!memcmp(m, p, 3 * sizeof *p)) return m[3]; /* the same bits (not -0 for 0) */
    const double d = primitive_value(nd, p);
    m[0] = p[0], m[1] = p[1], m[2] = p[2], m[3] = d;
    return d;
}

static inline double halfspace_value(const sdf_node *nd, const double p[3]) {
    const double *v = nd->v;
    return (p[0] - v[0]) * v[3] + (p[1] - v[1]) * v[4] + (p[2] - v[2]) * v[5];
}

static SDF_COLD double intersect_eval(const sdf_tree *t, const sdf_node *nd, const double p[3],
                                      sdf_ctx *cx, double below) {
    /* A half-space child at or above the limit puts the intersection there too, whatever the
     * other children (the fold below takes it even after a NaN), so the first one is looked at
     * first: the cut of a lung lobe, of a cavity, the body's soles. */
    if (nd->half && below < HUGE_VAL) {
        const double h = halfspace_value(&t->nodes[nd->first + nd->half - 1], p);
        if (h >= below) return h;
    }
    double d = -1e30;
    for (int c = 0; c < nd->count && !(d >= below); c++) /* (NaN: on, as sdf_eval) */
        d = mx(d, eval_below(t, nd->first + c, p, cx, below));
    return d;
}

static SDF_COLD double difference_eval(const sdf_tree *t, const sdf_node *nd, const double p[3],
                                       sdf_ctx *cx, double below) {
    double d = eval_below(t, nd->first, p, cx, below);
    for (int c = 1; c < nd->count && !(d >= below); c++) {
        const sdf_node *ch = &t->nodes[nd->first + c];
        double bd2 = box_dist2(ch, p);
        if (bd2 > 0 && (d >= 0 || bd2 >= d * d)) continue; /* -d_child <= -bd <= d */
        d = mx(d, -eval_exact(t, nd->first + c, p, cx));
    }
    return d;
}

static SDF_COLD double shell_eval(const sdf_tree *t, const sdf_node *nd, const double p[3],
                                  sdf_ctx *cx, double below) {
    double d = eval_below(t, nd->first, p, cx, below);
    return d >= below ? d : mx(d, -d - nd->v[0]);
}

static SDF_COLD double offset_eval(const sdf_tree *t, const sdf_node *nd, const double p[3],
                                   sdf_ctx *cx, double below) {
    return eval_below(t, nd->first, p, cx, limit_plus(below, nd->v[0])) - nd->v[0];
}

static SDF_COLD double moved_eval(const sdf_tree *t, const sdf_node *nd, const double p[3],
                                  sdf_ctx *cx, double below) {
    const double *v = nd->v;
    if (nd->kind == SDF_REF) { /* anchored */
        double q3[3] = {p[0] + v[0], p[1] + v[1], p[2] + v[2]};
        return shape_below(cx, nd->first, q3, below);
    }
    double m[3] = {-p[0], p[1], p[2]};
    return eval_below(t, nd->first, m, cx, below);
}

/* Each case returns the node's exact value when it is below `below` (see sdf.h): a composite
 * passes the limit to the children whose values reach its own unchanged (intersections,
 * shells, offsets, the first operand of a difference, references, mirrors, one-child unions)
 * and stops once its value is known to be at or above the limit; unions of several children
 * and the cut-away operands of differences are evaluated exactly (their culling and blending
 * need the exact values). */
static double eval_below(const sdf_tree *t, int idx, const double p[3], sdf_ctx *cx, double below) {
    const sdf_node *nd = &t->nodes[idx];
    if (nd->leaf >= 0 && cx && nd->leaf < cx->nleaf) return leaf_eval(nd, p, cx);
    switch (nd->kind) {
    case SDF_SPHERE:
    case SDF_ELLIPSOID:
    case SDF_SUPERQUADRIC:
    case SDF_BOX:
    case SDF_CAPSULE:
    case SDF_TORUS:
        return primitive_value(nd, p);
    case SDF_TUBE:
        return tube_eval(nd, p, below);
    case SDF_HALFSPACE:
        return halfspace_value(nd, p);
    case SDF_UNION:
    case SDF_SMOOTH_UNION:
        return union_eval(t, nd, p, cx, below);
    case SDF_INTERSECT:
        return intersect_eval(t, nd, p, cx, below);
    case SDF_DIFFERENCE:
        return difference_eval(t, nd, p, cx, below);
    case SDF_SHELL:
        return shell_eval(t, nd, p, cx, below);
    case SDF_OFFSET:
        return offset_eval(t, nd, p, cx, below);
    case SDF_REF:
        if (nd->nnum == 3) return moved_eval(t, nd, p, cx, below);
        return shape_below(cx, nd->first, p, below);
    case SDF_MIRROR_X:
        return moved_eval(t, nd, p, cx, below);
    }
    return 1e30;
}

double sdf_eval_below(const sdf_tree *t, int idx, const double p[3], sdf_ctx *cx, double below) {
    return eval_below(t, idx, p, cx, below);
}
