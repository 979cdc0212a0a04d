/* selfx.c — self-intersections of a triangle mesh by spatial hashing.
 *
 * References
 *   M. Teschner, B. Heidelberger, M. Mueller, D. Pomeranets, M. Gross: "Optimized Spatial
 *     Hashing for Collision Detection of Deformable Objects", VMV 2003 (uniform grid, hashed
 *     cells, cell size about the mean edge length).
 *   T. Moeller: "A Fast Triangle-Triangle Intersection Test", JGT 2(2), 1997; here in its
 *     predicate form: two triangles in general position intersect iff an edge of one crosses
 *     the other, decided by signs of orientation determinants (J. R. Shewchuk's orient3d, in
 *     plain double precision).
 *
 * Passes
 *   1. cell size h = the mean edge length (at least 1e-6 of the bounding box); every triangle
 *      is entered into each cell its bounding box overlaps (key = packed cell coordinates);
 *   2. entries are bucketed by a hash of the key (counting sort, O(n));
 *   3. per bucket (in parallel), every pair of entries with the same cell whose bounding boxes
 *      overlap is tested once — in the cell holding the low corner of the boxes' intersection.
 *      Pairs sharing an edge are skipped (neighbours); pairs sharing one vertex count if the
 *      edge of either opposite the shared vertex crosses the other triangle; other pairs count
 *      if any edge of one crosses the other (strictly: touching or coplanar contacts are not
 *      counted — a documented blind spot of this test).
 * Counts each intersecting pair once; optionally flags the triangles of those pairs; optionally
 * (sb__mesh_self_intersections_of) only the pairs with at least one flagged triangle are tested
 * — enough after a local change, when the other pairs were tested before and did not cross. Memory:
 * 16 bytes per (triangle, cell) entry, usually 2-4 entries per triangle.
 */
#include "sb_mesh.h"

#include "mesh_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef struct entry {
    uint64_t cell;
    uint32_t tri;
} entry;

static double orient(const double *a, const double *b, const double *c, const double *d) {
    double ax = a[0] - d[0], ay = a[1] - d[1], az = a[2] - d[2];
    double bx = b[0] - d[0], by = b[1] - d[1], bz = b[2] - d[2];
    double cx = c[0] - d[0], cy = c[1] - d[1], cz = c[2] - d[2];
    return ax * (by * cz - bz * cy) - ay * (bx * cz - bz * cx) + az * (bx * cy - by * cx);
}

static int sgn(double x) {
    return (x > 0) - (x < 0);
}

/* Segment pq crosses triangle abc strictly (not touching). */
static int seg_tri(const double *p, const double *q, const double *a, const double *b,
                   const double *c) {
    int sp = sgn(orient(a, b, c, p)), sq = sgn(orient(a, b, c, q));
    if (sp == 0 || sq == 0 || sp == sq) return 0;
    int s1 = sgn(orient(p, q, a, b)), s2 = sgn(orient(p, q, b, c)), s3 = sgn(orient(p, q, c, a));
    return s1 != 0 && s1 == s2 && s2 == s3;
}

static void load(const sb_trimesh *m, uint32_t t, double P[3][3]) {
    for (int c = 0; c < 3; c++)
        for (int a = 0; a < 3; a++) P[c][a] = m->verts[3 * (size_t)m->tris[3 * (size_t)t + c] + a];
}

/* 1 if triangles s and t (distinct) intersect other than along shared vertices/edges. */
static int tri_pair(const sb_trimesh *m, uint32_t s, uint32_t t) {
    const uint32_t *A = m->tris + 3 * (size_t)s, *B = m->tris + 3 * (size_t)t;
    int shared = 0, ia = -1, ib = -1;
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            if (A[i] == B[j]) shared++, ia = i, ib = j;
    if (shared >= 2) return 0;
    double P[3][3], Q[3][3];
    load(m, s, P);
    load(m, t, Q);
    if (shared == 1) {
        /* the edge opposite the shared vertex, of either triangle, crossing the other */
        return seg_tri(P[(ia + 1) % 3], P[(ia + 2) % 3], Q[0], Q[1], Q[2]) ||
               seg_tri(Q[(ib + 1) % 3], Q[(ib + 2) % 3], P[0], P[1], P[2]);
    }
    for (int i = 0; i < 3; i++) {
        if (seg_tri(P[i], P[(i + 1) % 3], Q[0], Q[1], Q[2])) return 1;
        if (seg_tri(Q[i], Q[(i + 1) % 3], P[0], P[1], P[2])) return 1;
    }
    return 0;
}

#define MIN3(a, b, c) ((a) < (b) ? ((a) < (c) ? (a) : (c)) : ((b) < (c) ? (b) : (c)))
#define MAX3(a, b, c) ((a) > (b) ? ((a) > (c) ? (a) : (c)) : ((b) > (c) ? (b) : (c)))

static uint64_t hash64(uint64_t x) {
    x ^= x >> 31;
    x *= 0x7fb5d329728ea185ULL;
    x ^= x >> 27;
    x *= 0x81dadef4bc2dd44dULL;
    x ^= x >> 33;
    return x;
}

/* The bucket of a cell: the 512 cells of its 8x8x8 block go to one run of 512 consecutive
 * buckets (in an order the block's hash permutes), the blocks spread by their hash. So the
 * pairs are tested block by block, reading the triangles of one neighbourhood together, and
 * the cells still spread evenly over fewer buckets than 512. */
static size_t bucket_of(uint64_t key, size_t nb) {
    const uint64_t x = key & 0x1fffff, y = key >> 21 & 0x1fffff, z = key >> 42;
    const uint64_t h = hash64(x >> 3 | (y >> 3) << 21 | (z >> 3) << 42);
    const uint64_t in = ((x & 7) | (y & 7) << 3 | (z & 7) << 6) ^ (h & 511);
    return (size_t)((h << 9 | in) & (nb - 1));
}

static int in_set(const uint64_t *set, size_t n, uint64_t key) {
    for (size_t i = hash64(key) & (n - 1); set[i] != UINT64_MAX; i = (i + 1) & (n - 1))
        if (set[i] == key) return 1;
    return 0;
}

/* Runs BODY with `key` set to each grid cell the box of triangle T overlaps. */
#define CELLS_OF(T, BODY)                                                                          \
    {                                                                                              \
        const float *b_ = bb + 6 * (T);                                                            \
        uint64_t c0[3], c1[3];                                                                     \
        for (int a = 0; a < 3; a++) {                                                              \
            c0[a] = (uint64_t)((b_[a] - lo[a]) / h);                                               \
            c1[a] = (uint64_t)((b_[3 + a] - lo[a]) / h);                                           \
        }                                                                                          \
        for (uint64_t z = c0[2]; z <= c1[2]; z++)                                                  \
            for (uint64_t y = c0[1]; y <= c1[1]; y++)                                              \
                for (uint64_t x = c0[0]; x <= c1[0]; x++) {                                        \
                    const uint64_t key = x | y << 21 | z << 42;                                    \
                    BODY                                                                           \
                }                                                                                  \
    }

int sb__mesh_self_intersections(const sb_trimesh *m, size_t *count, uint8_t *hit) {
    return sb__mesh_self_intersections_of(m, NULL, count, hit);
}

int sb__mesh_self_intersections_of(const sb_trimesh *m, const uint8_t *only, size_t *count,
                                   uint8_t *hit) {
    *count = 0;
    if (hit) memset(hit, 0, m->ntris);
    const size_t nt = m->ntris;
    if (nt < 2) return 1;
    double lo[3], hi[3];
    for (int a = 0; a < 3; a++) lo[a] = hi[a] = m->verts[a];
    for (size_t i = 0; i < m->nverts; i++)
        for (int a = 0; a < 3; a++) {
            double x = m->verts[3 * i + a];
            /* non-finite vertices: no grid (such triangles are degenerate in sb_mesh_check) */
            if (!isfinite(x)) return 1;
            if (x < lo[a]) lo[a] = x;
            if (x > hi[a]) hi[a] = x;
        }
    double elen = 0;
    for (size_t t = 0; t < nt; t++) {
        const float *p = m->verts + 3 * (size_t)m->tris[3 * t],
                    *q = m->verts + 3 * (size_t)m->tris[3 * t + 1];
        double d0 = p[0] - q[0], d1 = p[1] - q[1], d2 = p[2] - q[2];
        elen += sqrt(d0 * d0 + d1 * d1 + d2 * d2);
    }
    double ext = fmax(hi[0] - lo[0], fmax(hi[1] - lo[1], hi[2] - lo[2]));
    for (int a = 0; a < 3; a++) /* finite coordinates, but a span beyond the double range */
        if (!isfinite(hi[a] - lo[a])) return 1;
    double h = fmax(elen / (double)nt, 1e-6 * ext);
    if (!(h > 0) || !isfinite(h)) return 1;
    /* at most 2^21 cells per axis (21 bits each in the key) */
    if (ext / h > 2000000.0) h = ext / 2000000.0;
    float *bb = malloc(6 * nt * sizeof *bb); /* per triangle: min xyz, max xyz */
    if (!bb) return 0;
    for (size_t t = 0; t < nt; t++) {
        const float *p0 = m->verts + 3 * (size_t)m->tris[3 * t],
                    *p1 = m->verts + 3 * (size_t)m->tris[3 * t + 1],
                    *p2 = m->verts + 3 * (size_t)m->tris[3 * t + 2];
        float *b = bb + 6 * t;
        for (int a = 0; a < 3; a++) {
            b[a] = MIN3(p0[a], p1[a], p2[a]);
            b[3 + a] = MAX3(p0[a], p1[a], p2[a]);
        }
    }
    /* entries: a few triangles much larger than the mean edge (hostile or odd files: one
     * triangle across the whole box) would enter up to 2^63 cells; coarsen the grid until
     * the entries are at most 16 per triangle (plus slack) */
    size_t ne = 0;
    for (;;) {
        double total = 0;
        for (size_t t = 0; t < nt; t++) {
            const float *b = bb + 6 * t;
            double k = 1;
            for (int a = 0; a < 3; a++)
                k *= (double)((size_t)((b[3 + a] - lo[a]) / h) - (size_t)((b[a] - lo[a]) / h) + 1);
            total += k;
        }
        if (total <= 16.0 * (double)nt + 65536.0 || h >= ext) {
            ne = (size_t)total;
            break;
        }
        h *= 2;
    }
    /* with `only`: the cells of the flagged triangles (open addressing; a pair with a flagged
     * triangle is tested in a cell of that triangle, so the other cells need no entry) */
    uint64_t *set = NULL;
    size_t setn = 0;
    if (only) {
        size_t nf = 0;
        for (size_t t = 0; t < nt; t++)
            if (only[t]) {
                const float *b = bb + 6 * t;
                size_t k = 1;
                for (int a = 0; a < 3; a++)
                    k *= (size_t)((b[3 + a] - lo[a]) / h) - (size_t)((b[a] - lo[a]) / h) + 1;
                nf += k;
            }
        setn = 16;
        while (setn < 2 * nf) setn <<= 1;
        set = malloc(setn * sizeof *set);
        if (!set) {
            free(bb);
            return 0;
        }
        for (size_t i = 0; i < setn; i++) set[i] = UINT64_MAX; /* keys use 63 bits at most */
        ne = 0;
        for (size_t t = 0; t < nt; t++)
            if (only[t])
                CELLS_OF(t, {
                    size_t i = hash64(key) & (setn - 1);
                    while (set[i] != UINT64_MAX && set[i] != key) i = (i + 1) & (setn - 1);
                    set[i] = key;
                })
        for (size_t t = 0; t < nt; t++)
            CELLS_OF(t, {
                if (only[t] || in_set(set, setn, key)) ne++;
            })
    }
    size_t nb = 1;
    while (nb < ne) nb <<= 1;
    size_t *off = calloc(nb + 1, sizeof *off);
    entry *e = malloc((ne ? ne : 1) * sizeof *e);
    uint64_t *keys = malloc((ne ? ne : 1) * sizeof *keys);
    if (!off || !e || !keys) {
        free(bb);
        free(set);
        free(off);
        free(e);
        free(keys);
        return 0;
    }
    size_t w = 0;
    for (size_t t = 0; t < nt; t++)
        CELLS_OF(t, {
            if (!set || only[t] || in_set(set, setn, key)) {
                keys[w] = key;
                e[w].cell = key;
                e[w].tri = (uint32_t)t;
                off[bucket_of(key, nb) + 1]++;
                w++;
            }
        })
    free(set);
    for (size_t b = 1; b <= nb; b++) off[b] += off[b - 1];
    entry *s = malloc((ne ? ne : 1) * sizeof *s);
    if (!s) {
        free(bb);
        free(off);
        free(e);
        free(keys);
        return 0;
    }
    {
        size_t *fill = malloc(nb * sizeof *fill);
        if (!fill) {
            free(bb);
            free(off);
            free(e);
            free(keys);
            free(s);
            return 0;
        }
        memcpy(fill, off, nb * sizeof *fill);
        for (size_t i = 0; i < ne; i++) s[fill[bucket_of(keys[i], nb)]++] = e[i];
        free(fill);
    }
    free(e);
    free(keys);
    size_t total = 0;
#pragma omp parallel for schedule(dynamic, 4096) reduction(+ : total)
    for (size_t b = 0; b < nb; b++) {
        for (size_t i = off[b]; i < off[b + 1]; i++) {
            const float *bi = bb + 6 * (size_t)s[i].tri;
            const int oi = !only || only[s[i].tri];
            for (size_t j = i + 1; j < off[b + 1]; j++) {
                if (s[j].cell != s[i].cell || !(oi || only[s[j].tri])) continue;
                const float *bj = bb + 6 * (size_t)s[j].tri;
                if (bj[0] > bi[3] || bj[3] < bi[0] || bj[1] > bi[4] || bj[4] < bi[1] ||
                    bj[2] > bi[5] || bj[5] < bi[2])
                    continue;
                /* test the pair once: in the cell of the low corner of the boxes' overlap */
                uint64_t cc[3];
                for (int a = 0; a < 3; a++)
                    cc[a] = (uint64_t)(((bi[a] > bj[a] ? bi[a] : bj[a]) - lo[a]) / h);
                if ((cc[0] | cc[1] << 21 | cc[2] << 42) != s[i].cell) continue;
                if (!tri_pair(m, s[i].tri, s[j].tri)) continue;
                total++;
                if (hit) { /* racing writes of the same value 1: use atomics to stay defined */
#pragma omp atomic write
                    hit[s[i].tri] = 1;
#pragma omp atomic write
                    hit[s[j].tri] = 1;
                }
            }
        }
    }
    free(s);
    free(off);
    free(bb);
    *count = total;
    return 1;
}
