/* extract.c — closed surfaces from label maps and intensity volumes by marching tetrahedra.
 *
 * References
 *   A. Doi, A. Koide: "An efficient method of triangulating equi-valued surfaces by using
 *     tetrahedral cells", IEICE Transactions E74(1), 214-224, 1991 (marching tetrahedra).
 *   H. Freudenthal: "Simplizialzerlegungen von beschraenkter Flachheit", Annals of Mathematics
 *     43(3), 580-582, 1942; H. W. Kuhn: "Some combinatorial lemmas in topology", IBM J. Res. Dev.
 *     4(5), 1960 (the split of a cube into 6 tetrahedra along its main diagonal).
 *
 * Guarantee. The grid of voxel centres is split into tetrahedra by the Kuhn/Freudenthal rule:
 * each cube [p, p+1]^3 gives, for every permutation (a,b,c) of the axes, the tetrahedron
 * p, p+e_a, p+e_a+e_b, p+(1,1,1). The split is translation invariant and therefore conforming
 * (neighbouring cubes split their shared face along the same diagonal), so the piecewise-linear
 * interpolant of the inside indicator (or of value - iso) is a continuous function on a
 * simplicial complex. Its level set at a regular value is a closed 2-manifold once the domain is
 * padded by one outside grid point on every side: every output edge lies on a tetrahedron face
 * shared by exactly two tetrahedra (or inside one tetrahedron), so it is used by exactly two
 * triangles, traversed in opposite directions. This holds for any label configuration —
 * voxels touching only along an edge or at a corner, labels touching the volume border —
 * which is where marching cubes' ambiguous cases produce holes or shared walls.
 * Vertices: each lies on a tetrahedron edge p -> p+d, d in {100,010,110,001,101,011,111}
 * (always "positive"), keyed by (padded grid point, d) and merged through a hash. For a label
 * mask the vertex is the edge midpoint (midpoints of distinct edges are distinct points: no
 * coincident vertices, no degenerate triangles); for iso-surfaces it is linearly interpolated
 * with t clamped to [0.02, 0.98], so a vertex never sits on a grid point.
 * Orientation is combinatorial, not geometric: the 6 tetrahedra are listed positively oriented
 * in index space and each case emits its triangles wound away from the inside corners (a fixed
 * table, proved below at `tet_cases`); if the affine's 3x3 part has a negative determinant
 * (left-handed, e.g. LAS) every triangle is flipped. The result is exactly "normals point from
 * the tetrahedron's inside corners to its outside corners, in world space", with no floating
 * point sign test that near-degenerate (clamped) triangles could get wrong.
 *
 * Known cost: marching tetrahedra makes about 2-3x the triangles of marching cubes on the
 * same mask (the face and body diagonals add vertices). Issue "Surfaces" (smoothing,
 * simplification) addresses it; the count is the price of the guarantee.
 *
 * Passes
 *   1. bounding box of the inside voxels, one streaming pass over the volume with a typed
 *      fast path per datatype (SB_ERR_LABEL if empty);
 *   2. slab walk over the cubes of the bounding box grown by one (the padding), keeping the
 *      inside flags of two z-layers of grid points; out-of-range points are outside, the
 *      volume is never copied;
 *   3. per cube with mixed corners: 6 tetrahedra, a 16-case table, vertices looked up per
 *      cube (19 edges) then in an open-addressing hash keyed by (grid point, direction);
 *      a new vertex is placed in world mm by the affine.
 * Output order depends only on the volume (single-threaded scan in memory order), so it is
 * byte-identical whatever the thread count.
 */
#include "sb_mesh.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- vertex hash: key (padded grid point * 7 + direction) -> vertex index --------------- */
#define EMPTY_KEY UINT64_MAX

typedef struct vhash {
    uint64_t *keys;
    uint32_t *vals;
    size_t cap, count; /* cap is a power of two */
} vhash;

static uint64_t mix64(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static int vhash_init(vhash *h, size_t cap) {
    h->cap = cap;
    h->count = 0;
    h->keys = malloc(cap * sizeof *h->keys);
    h->vals = malloc(cap * sizeof *h->vals);
    if (!h->keys || !h->vals) return 0;
    memset(h->keys, 0xff, cap * sizeof *h->keys);
    return 1;
}

static void vhash_free(vhash *h) {
    free(h->keys);
    free(h->vals);
}

static int vhash_grow(vhash *h) {
    vhash n = {NULL, NULL, 0, 0};
    if (h->cap > SIZE_MAX / 2 / sizeof *h->keys || !vhash_init(&n, h->cap * 2)) {
        vhash_free(&n);
        return 0;
    }
    size_t mask = n.cap - 1;
    for (size_t s = 0; s < h->cap; s++) {
        if (h->keys[s] == EMPTY_KEY) continue;
        size_t i = (size_t)mix64(h->keys[s]) & mask;
        while (n.keys[i] != EMPTY_KEY) i = (i + 1) & mask;
        n.keys[i] = h->keys[s];
        n.vals[i] = h->vals[s];
    }
    n.count = h->count;
    vhash_free(h);
    *h = n;
    return 1;
}

/* Slot of key: either holding it, or the empty slot where it belongs. */
static size_t vhash_slot(const vhash *h, uint64_t key) {
    size_t mask = h->cap - 1;
    size_t i = (size_t)mix64(key) & mask;
    while (h->keys[i] != EMPTY_KEY && h->keys[i] != key) i = (i + 1) & mask;
    return i;
}

/* ---- the extraction job ------------------------------------------------------------------- */
typedef struct job {
    const sb_volume *v;
    int is_iso;
    int label;
    double iso;
    long long lo[3], hi[3]; /* bounding box of inside voxels, volume index space */
    size_t pw[3];           /* padded dims: dim + 2 */
    int flip;               /* affine is left-handed: reverse every triangle */
    vhash hash;
    float *verts;
    uint32_t *tris;
    size_t nverts, vcap, ntris, tcap;
    sb_status status; /* first failure */
    sb_error *err;
} job;

/* Records a failure of the job, naming the label or iso value; returns 0. */
static int job_fail(job *jb, sb_status st, const char *what) {
    jb->status = st;
    if (jb->is_iso)
        sb_error_set(jb->err, st, "meshing iso value %g: %s (%zu vertices, %zu triangles so far)",
                     jb->iso, what, jb->nverts, jb->ntris);
    else
        sb_error_set(jb->err, st, "meshing label %d: %s (%zu vertices, %zu triangles so far)",
                     jb->label, what, jb->nverts, jb->ntris);
    return 0;
}

/* 1 if dtype t can hold the value label (else no voxel can carry it). */
static int label_representable(sb_dtype t, int label) {
    switch (t) {
    case SB_DT_UINT8:
        return label >= 0 && label <= 255;
    case SB_DT_INT8:
        return label >= -128 && label <= 127;
    case SB_DT_INT16:
        return label >= -32768 && label <= 32767;
    case SB_DT_UINT16:
        return label >= 0 && label <= 65535;
    case SB_DT_UINT32:
        return label >= 0;
    default:
        return 1;
    }
}

#define ROW_LABEL(T)                                                                               \
    do {                                                                                           \
        const T *d = (const T *)v->data + n0;                                                      \
        const T l = (T)label;                                                                      \
        for (size_t i = 0; i < count; i++) out[i] = d[i] == l;                                     \
    } while (0)
#define ROW_ISO(T)                                                                                 \
    do {                                                                                           \
        const T *d = (const T *)v->data + n0;                                                      \
        for (size_t i = 0; i < count; i++) out[i] = (double)d[i] >= iso;                           \
    } while (0)

/* out[i] = voxel n0 + i is inside, for count voxels of one row. */
static void row_inside(const job *jb, size_t n0, size_t count, uint8_t *out) {
    const sb_volume *v = jb->v;
    if (jb->is_iso) {
        const double iso = jb->iso;
        switch (v->dtype) {
        case SB_DT_UINT8:
            ROW_ISO(uint8_t);
            break;
        case SB_DT_INT8:
            ROW_ISO(int8_t);
            break;
        case SB_DT_INT16:
            ROW_ISO(int16_t);
            break;
        case SB_DT_UINT16:
            ROW_ISO(uint16_t);
            break;
        case SB_DT_INT32:
            ROW_ISO(int32_t);
            break;
        case SB_DT_UINT32:
            ROW_ISO(uint32_t);
            break;
        case SB_DT_FLOAT32:
            ROW_ISO(float);
            break;
        case SB_DT_FLOAT64:
            ROW_ISO(double);
            break;
        default:
            for (size_t i = 0; i < count; i++) out[i] = sb_volume_get(v, n0 + i) >= iso;
        }
        return;
    }
    const int label = jb->label;
    if (!label_representable(v->dtype, label)) {
        memset(out, 0, count);
        return;
    }
    switch (v->dtype) {
    case SB_DT_UINT8:
        ROW_LABEL(uint8_t);
        break;
    case SB_DT_INT8:
        ROW_LABEL(int8_t);
        break;
    case SB_DT_INT16:
        ROW_LABEL(int16_t);
        break;
    case SB_DT_UINT16:
        ROW_LABEL(uint16_t);
        break;
    case SB_DT_INT32:
        ROW_LABEL(int32_t);
        break;
    case SB_DT_UINT32:
        ROW_LABEL(uint32_t);
        break;
    default: /* float label maps: exact comparison */
        for (size_t i = 0; i < count; i++) out[i] = sb_volume_get(v, n0 + i) == (double)label;
    }
}

/* Pass 1: bounding box of the inside voxels. Returns 0 if there are none. */
static int find_bbox(job *jb, uint8_t *row) {
    const sb_volume *v = jb->v;
    const size_t nx = v->dim[0], ny = v->dim[1], nz = v->dim[2];
    long long lo[3] = {(long long)nx, (long long)ny, (long long)nz}, hi[3] = {-1, -1, -1};
    for (size_t k = 0; k < nz; k++) {
        for (size_t j = 0; j < ny; j++) {
            row_inside(jb, sb_volume_index(v, 0, j, k), nx, row);
            size_t a = 0, b = nx;
            while (a < nx && !row[a]) a++;
            if (a == nx) continue;
            while (b > a && !row[b - 1]) b--;
            if ((long long)a < lo[0]) lo[0] = (long long)a;
            if ((long long)b - 1 > hi[0]) hi[0] = (long long)b - 1;
            if ((long long)j < lo[1]) lo[1] = (long long)j;
            if ((long long)j > hi[1]) hi[1] = (long long)j;
            if ((long long)k < lo[2]) lo[2] = (long long)k;
            hi[2] = (long long)k;
        }
    }
    if (hi[0] < 0) return 0;
    memcpy(jb->lo, lo, sizeof lo);
    memcpy(jb->hi, hi, sizeof hi);
    return 1;
}

/* Inside flags of the grid points x in [lo0-1, hi0+1], y in [lo1-1, hi1+1] at z (points out of
 * the volume are outside). layer is (w0 * w1) bytes, x fastest. */
static void fill_layer(const job *jb, long long z, uint8_t *layer, size_t w0, size_t w1) {
    const sb_volume *v = jb->v;
    memset(layer, 0, w0 * w1);
    if (z < jb->lo[2] || z > jb->hi[2]) return; /* inside voxels only lie in [lo, hi] */
    for (size_t y = 1; y + 1 < w1; y++) {
        long long j = jb->lo[1] - 1 + (long long)y;
        long long i0 = jb->lo[0], i1 = jb->hi[0];
        row_inside(jb, sb_volume_index(v, (size_t)i0, (size_t)j, (size_t)z), (size_t)(i1 - i0 + 1),
                   layer + y * w0 + 1);
    }
}

/* ---- the tetrahedra and the case table ---------------------------------------------------
 * Cube corners are bit masks: x = 1, y = 2, z = 4. The six Kuhn tetrahedra (one per
 * permutation of the axes), each listed with positive orientation det(v1-v0, v2-v0, v3-v0) > 0
 * in index space (odd permutations have their last two corners swapped). Every edge of a
 * tetrahedron joins comparable corners m1 ⊂ m2, so it is the positive edge from m1 & m2 in
 * direction m1 ^ m2. */
static const uint8_t kuhn_tets[6][4] = {{0, 1, 3, 7}, {0, 2, 6, 7}, {0, 4, 5, 7},
                                        {0, 1, 7, 5}, {0, 2, 7, 3}, {0, 4, 7, 6}};

/* tet_cases[mask]: mask bit i = corner i of the tetrahedron is inside. type 1: one inside
 * corner a; type 3: one outside corner a; type 2: inside a, b, outside c, d. order (a,b,c,d) is
 * always an even permutation of (0,1,2,3), so (a,b,c,d) is positively oriented too.
 * Proofs of the windings emitted by emit_tet (x_ab denotes the vertex on edge ab):
 *  - type 1: det(x_ab - a, x_ac - a, x_ad - a) = t_b t_c t_d det(b-a, c-a, d-a) > 0, and for a
 *    triangle (x,y,z), (x-a)·((y-x)×(z-x)) = det(x-a, y-a, z-a): the normal of (x_ab, x_ac,
 *    x_ad) points away from a, i.e. towards the outside corners.
 *  - type 3: the same triangle reversed, normal towards the lone outside corner a.
 *  - type 2: the quad x_ac, x_ad, x_bd, x_bc is a cycle (consecutive vertices share a corner),
 *    split along x_ac-x_bd. With B = b-a, C = c-a, D = d-a and x_ac = a + sC, x_ad = a + uD,
 *    x_bd = a + (1-w)B + wD, x_bc = a + (1-r)B + rC (s, u, w, r in (0,1)):
 *    det(x_ac-a, x_ad-a, x_bd-a) = s u (1-w) det(B,C,D) > 0 and
 *    det(x_ac-a, x_bd-a, x_bc-a) = s w (1-r) det(B,C,D) > 0, so both triangles face away from
 *    the inside corner a, for any interpolation parameters. The diagonal joins points on
 *    opposite edges of the tetrahedron, so no other tetrahedron has that mesh edge. */
typedef struct tet_case {
    uint8_t type, order[4];
} tet_case;

static const tet_case tet_cases[16] = {
    {0, {0, 0, 0, 0}}, /*  0: none */
    {1, {0, 1, 2, 3}}, /*  1: in 0 */
    {1, {1, 0, 3, 2}}, /*  2: in 1 */
    {2, {0, 1, 2, 3}}, /*  3: in 0,1 */
    {1, {2, 3, 0, 1}}, /*  4: in 2 */
    {2, {0, 2, 3, 1}}, /*  5: in 0,2 */
    {2, {1, 2, 0, 3}}, /*  6: in 1,2 */
    {3, {3, 2, 1, 0}}, /*  7: out 3 */
    {1, {3, 2, 1, 0}}, /*  8: in 3 */
    {2, {0, 3, 1, 2}}, /*  9: in 0,3 */
    {2, {1, 3, 2, 0}}, /* 10: in 1,3 */
    {3, {2, 3, 0, 1}}, /* 11: out 2 */
    {2, {2, 3, 0, 1}}, /* 12: in 2,3 */
    {3, {1, 0, 3, 2}}, /* 13: out 1 */
    {3, {0, 1, 2, 3}}, /* 14: out 0 */
    {0, {0, 0, 0, 0}}, /* 15: all */
};

/* Parameter along the edge p -> q of the vertex; p, q in volume index space, maybe padding. */
static double edge_t(const job *jb, const long long p[3], const long long q[3]) {
    if (!jb->is_iso) return 0.5;
    const sb_volume *v = jb->v;
    for (int a = 0; a < 3; a++) {
        if (p[a] < 0 || q[a] < 0 || p[a] >= (long long)v->dim[a] || q[a] >= (long long)v->dim[a])
            return 0.5; /* one end is padding: no value to interpolate, take the midpoint */
    }
    double fp = sb_volume_get(v, sb_volume_index(v, (size_t)p[0], (size_t)p[1], (size_t)p[2]));
    double fq = sb_volume_get(v, sb_volume_index(v, (size_t)q[0], (size_t)q[1], (size_t)q[2]));
    double t = (jb->iso - fp) / (fq - fp);
    if (!(t >= 0.02)) t = t != t ? 0.5 : 0.02; /* NaN (a NaN voxel): midpoint */
    if (t > 0.98) t = 0.98;
    return t;
}

/* Index of the vertex on the positive edge from grid point g (volume index space) in
 * direction d (corner mask 1..7); created and placed in world mm if new. */
static int edge_vertex(job *jb, const long long g[3], int d, uint32_t *out) {
    size_t pidx =
        (size_t)(g[0] + 1) + jb->pw[0] * ((size_t)(g[1] + 1) + jb->pw[1] * (size_t)(g[2] + 1));
    uint64_t key = (uint64_t)pidx * 7u + (uint64_t)(d - 1);
    size_t s = vhash_slot(&jb->hash, key);
    if (jb->hash.keys[s] == key) {
        *out = jb->hash.vals[s];
        return 1;
    }
    if (jb->nverts >= UINT32_MAX)
        return job_fail(jb, SB_ERR_MEMORY, "more than 2^32-1 vertices (indices are 32-bit)");
    if ((jb->hash.count + 1) * 2 > jb->hash.cap) {
        if (!vhash_grow(&jb->hash)) goto oom;
        s = vhash_slot(&jb->hash, key);
    }
    if (jb->nverts == jb->vcap) {
        size_t ncap = jb->vcap ? jb->vcap * 2 : 4096;
        float *nv = realloc(jb->verts, ncap * 3 * sizeof *nv);
        if (!nv) goto oom;
        jb->verts = nv;
        jb->vcap = ncap;
    }
    long long q[3] = {g[0] + (d & 1), g[1] + ((d >> 1) & 1), g[2] + ((d >> 2) & 1)};
    double t = edge_t(jb, g, q);
    double ijk[3] = {(double)g[0] + t * (double)(d & 1), (double)g[1] + t * (double)((d >> 1) & 1),
                     (double)g[2] + t * (double)((d >> 2) & 1)};
    double xyz[3];
    sb_volume_to_world(jb->v, ijk, xyz);
    float *pv = jb->verts + 3 * jb->nverts;
    pv[0] = (float)xyz[0];
    pv[1] = (float)xyz[1];
    pv[2] = (float)xyz[2];
    jb->hash.keys[s] = key;
    jb->hash.vals[s] = (uint32_t)jb->nverts;
    jb->hash.count++;
    *out = (uint32_t)jb->nverts++;
    return 1;
oom:
    return job_fail(jb, SB_ERR_MEMORY, "out of memory");
}

static int emit_tri(job *jb, uint32_t a, uint32_t b, uint32_t c) {
    if (jb->ntris == jb->tcap) {
        size_t ncap = jb->tcap ? jb->tcap * 2 : 8192;
        uint32_t *nt = realloc(jb->tris, ncap * 3 * sizeof *nt);
        if (!nt) return job_fail(jb, SB_ERR_MEMORY, "out of memory");
        jb->tris = nt;
        jb->tcap = ncap;
    }
    uint32_t *t = jb->tris + 3 * jb->ntris++;
    t[0] = a;
    t[1] = jb->flip ? c : b;
    t[2] = jb->flip ? b : c;
    return 1;
}

/* Per-cube vertex cache: edge (m1 & m2, m1 ^ m2) -> vertex, reset for each cube. */
typedef struct cube {
    long long p[3];
    uint32_t vert[8][8];
    uint8_t have[8][8];
} cube;

static int cube_vertex(job *jb, cube *c, int m1, int m2, uint32_t *out) {
    int lo = m1 & m2, d = m1 ^ m2;
    if (c->have[lo][d]) {
        *out = c->vert[lo][d];
        return 1;
    }
    long long g[3] = {c->p[0] + (lo & 1), c->p[1] + ((lo >> 1) & 1), c->p[2] + ((lo >> 2) & 1)};
    if (!edge_vertex(jb, g, d, out)) return 0;
    c->vert[lo][d] = *out;
    c->have[lo][d] = 1;
    return 1;
}

static int emit_tet(job *jb, cube *c, const uint8_t corner[4], int mask) {
    const tet_case *tc = &tet_cases[mask];
    if (tc->type == 0) return 1;
    int a = corner[tc->order[0]], b = corner[tc->order[1]];
    int cc = corner[tc->order[2]], d = corner[tc->order[3]];
    uint32_t x, y, z, w;
    if (tc->type == 2) {
        if (!cube_vertex(jb, c, a, cc, &x) || !cube_vertex(jb, c, a, d, &y) ||
            !cube_vertex(jb, c, b, d, &z) || !cube_vertex(jb, c, b, cc, &w))
            return 0;
        return emit_tri(jb, x, y, z) && emit_tri(jb, x, z, w);
    }
    if (!cube_vertex(jb, c, a, b, &x) || !cube_vertex(jb, c, a, cc, &y) ||
        !cube_vertex(jb, c, a, d, &z))
        return 0;
    return tc->type == 1 ? emit_tri(jb, x, y, z) : emit_tri(jb, x, z, y);
}

/* Pass 2 and 3: walk the cubes of the padded bounding box. */
static int march(job *jb, const sb_ctx *ctx) {
    const size_t w0 = (size_t)(jb->hi[0] - jb->lo[0] + 3), w1 = (size_t)(jb->hi[1] - jb->lo[1] + 3);
    uint8_t *layer[2] = {malloc(w0 * w1), malloc(w0 * w1)};
    if (!layer[0] || !layer[1]) {
        free(layer[0]);
        free(layer[1]);
        return job_fail(jb, SB_ERR_MEMORY, "out of memory (two layers of grid points)");
    }
    const long long z0 = jb->lo[2] - 1, z1 = jb->hi[2] + 1;
    const size_t nsteps = (size_t)(z1 - z0);
    int ok = 1;
    fill_layer(jb, z0, layer[0], w0, w1);
    cube c;
    for (long long z = z0; ok && z < z1; z++) {
        fill_layer(jb, z + 1, layer[1], w0, w1);
        const uint8_t *L0 = layer[0], *L1 = layer[1];
        for (size_t y = 0; ok && y + 1 < w1; y++) {
            const uint8_t *r00 = L0 + y * w0, *r10 = L0 + (y + 1) * w0;
            const uint8_t *r01 = L1 + y * w0, *r11 = L1 + (y + 1) * w0;
            for (size_t x = 0; x + 1 < w0; x++) {
                int m = r00[x] | r00[x + 1] << 1 | r10[x] << 2 | r10[x + 1] << 3 | r01[x] << 4 |
                        r01[x + 1] << 5 | r11[x] << 6 | r11[x + 1] << 7;
                if (m == 0 || m == 255) continue;
                c.p[0] = jb->lo[0] - 1 + (long long)x;
                c.p[1] = jb->lo[1] - 1 + (long long)y;
                c.p[2] = z;
                memset(c.have, 0, sizeof c.have);
                for (int t = 0; ok && t < 6; t++) {
                    const uint8_t *tv = kuhn_tets[t];
                    int tm = ((m >> tv[0]) & 1) | ((m >> tv[1]) & 1) << 1 |
                             ((m >> tv[2]) & 1) << 2 | ((m >> tv[3]) & 1) << 3;
                    ok = emit_tet(jb, &c, tv, tm);
                }
                if (!ok) break;
            }
        }
        uint8_t *tmp = layer[0];
        layer[0] = layer[1];
        layer[1] = tmp;
        sb_progress(ctx, "mesh", (size_t)(z - z0 + 1), nsteps);
    }
    free(layer[0]);
    free(layer[1]);
    return ok;
}

static double affine_det(const sb_volume *v) {
    const double(*A)[4] = (const double(*)[4])v->affine;
    return A[0][0] * (A[1][1] * A[2][2] - A[1][2] * A[2][1]) -
           A[0][1] * (A[1][0] * A[2][2] - A[1][2] * A[2][0]) +
           A[0][2] * (A[1][0] * A[2][1] - A[1][1] * A[2][0]);
}

static sb_status extract(job *jb, const sb_ctx *ctx, sb_trimesh **out) {
    const sb_volume *v = jb->v;
    *out = NULL;
    if (!v || !v->data || !v->dim[0] || !v->dim[1] || !v->dim[2] || !sb_dtype_size(v->dtype))
        return sb_error_set(jb->err, SB_ERR_USAGE, "mesh: empty or invalid volume");
    double det = affine_det(v);
    if (!(fabs(det) > 0))
        return sb_error_set(jb->err, SB_ERR_INPUT, "mesh: the volume's affine is singular");
    jb->flip = det < 0;
    for (int a = 0; a < 3; a++) jb->pw[a] = v->dim[a] + 2;
    if (jb->pw[0] > SIZE_MAX / jb->pw[1] / jb->pw[2] / 8)
        return sb_error_set(jb->err, SB_ERR_INPUT, "mesh: volume too large for vertex keys");

    uint8_t *row = malloc(v->dim[0]);
    if (!row) return sb_error_set(jb->err, SB_ERR_MEMORY, "out of memory (a row of voxels)");
    int found = find_bbox(jb, row);
    free(row);
    if (!found) {
        if (jb->is_iso)
            return sb_error_set(jb->err, SB_ERR_LABEL, "no voxel reaches iso value %g", jb->iso);
        return sb_error_set(jb->err, SB_ERR_LABEL, "label %d is absent from the volume", jb->label);
    }
    sb_log(ctx, SB_LOG_DEBUG, "mesh %s %g: bounding box [%lld..%lld]x[%lld..%lld]x[%lld..%lld]",
           jb->is_iso ? "iso" : "label", jb->is_iso ? jb->iso : (double)jb->label, jb->lo[0],
           jb->hi[0], jb->lo[1], jb->hi[1], jb->lo[2], jb->hi[2]);

    if (!vhash_init(&jb->hash, 1u << 16)) {
        vhash_free(&jb->hash);
        return sb_error_set(jb->err, SB_ERR_MEMORY, "out of memory (vertex hash)");
    }
    int ok = march(jb, ctx);
    vhash_free(&jb->hash);
    sb_trimesh *m = ok ? malloc(sizeof *m) : NULL;
    if (ok && !m) job_fail(jb, SB_ERR_MEMORY, "out of memory");
    if (!m) {
        free(jb->verts);
        free(jb->tris);
        return jb->status;
    }
    /* shrink to fit; a failed shrink keeps the larger block */
    float *sv = realloc(jb->verts, (jb->nverts ? jb->nverts : 1) * 3 * sizeof *sv);
    uint32_t *st = realloc(jb->tris, (jb->ntris ? jb->ntris : 1) * 3 * sizeof *st);
    m->verts = sv ? sv : jb->verts;
    m->tris = st ? st : jb->tris;
    m->nverts = jb->nverts;
    m->ntris = jb->ntris;
    *out = m;
    return SB_OK;
}

sb_status sb_mesh_extract_label(const sb_volume *labels, int label, const sb_ctx *ctx,
                                sb_trimesh **out, sb_error *err) {
    if (!out) return sb_error_set(err, SB_ERR_USAGE, "sb_mesh_extract_label: out is NULL");
    job jb;
    memset(&jb, 0, sizeof jb);
    jb.v = labels;
    jb.label = label;
    jb.err = err;
    return extract(&jb, ctx, out);
}

sb_status sb_mesh_extract_iso(const sb_volume *v, double iso, const sb_ctx *ctx, sb_trimesh **out,
                              sb_error *err) {
    if (!out) return sb_error_set(err, SB_ERR_USAGE, "sb_mesh_extract_iso: out is NULL");
    *out = NULL;
    if (iso != iso) return sb_error_set(err, SB_ERR_USAGE, "iso value is NaN");
    job jb;
    memset(&jb, 0, sizeof jb);
    jb.v = v;
    jb.is_iso = 1;
    jb.iso = iso;
    jb.err = err;
    return extract(&jb, ctx, out);
}
