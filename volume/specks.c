/* specks.c — specks of structures that are meant to be one piece.
 *
 * Sampling a smooth anatomy at voxel centres leaves, where a thin part or a carved edge of a
 * structure crosses a few centres, pieces of one to a few voxels cut off from the rest of it
 * (at 2 mm ~8 per subject: sigmoid colon beside the bladder, CSF beside the brain, white matter
 * in a sulcus). Such a speck is not anatomy — the structure is connected, the grid too coarse to
 * show the neck — and it breaks what users check: one connected component per structure,
 * meshes without crumbs. So a 26-connected piece of at most SPECK_MAX voxels of a structure
 * not marked "connected": false, lying within SPECK_NEAR voxels of a larger piece of it, takes
 * the label of its most common 26-neighbour structure
 * (ties: the smaller id; never the outside, so the body's outline is unchanged), and that
 * neighbour's tissue; for the MR signal the voxel keeps its own tissue as the partial-volume
 * partner at half the voxel.
 *
 * Each voxel's decision reads the unchanged maps within (SPECK_MAX - 1) + SPECK_NEAR + SPECK_MAX
 * voxels of it only (its piece, the box around it, the pieces found there), so a slab made
 * with SPECK_HALO planes of margin on each side gives the whole map's bytes.
 */
#include "anatomy_internal.h"

#include <stdlib.h>
#include <string.h>

typedef struct {
    size_t at;
    uint16_t label;
    uint8_t tissue, old_tissue;
} change;

typedef struct {
    change *c;
    size_t n, cap;
} changes;

static int push(changes *ch, change c) {
    if (ch->n == ch->cap) {
        size_t cap = ch->cap ? 2 * ch->cap : 64;
        change *p = realloc(ch->c, cap * sizeof *p);
        if (!p) return 0;
        ch->c = p, ch->cap = cap;
    }
    ch->c[ch->n++] = c;
    return 1;
}

/* The 26 neighbour offsets. */
static const int OFF[26][3] = {
    {-1, -1, -1}, {0, -1, -1}, {1, -1, -1}, {-1, 0, -1}, {0, 0, -1}, {1, 0, -1}, {-1, 1, -1},
    {0, 1, -1},   {1, 1, -1},  {-1, -1, 0}, {0, -1, 0},  {1, -1, 0}, {-1, 1, 0}, {0, 1, 0},
    {1, 1, 0},    {-1, 0, 0},  {1, 0, 0},   {-1, -1, 1}, {0, -1, 1}, {1, -1, 1}, {-1, 0, 1},
    {0, 0, 1},    {1, 0, 1},   {-1, 1, 1},  {0, 1, 1},   {1, 1, 1}};

/* Index of neighbour o of voxel (i, j, k), or SIZE_MAX outside the maps. */
static size_t neighbour(const size_t dim[3], size_t i, size_t j, size_t k, const int o[3]) {
    if ((o[0] < 0 && i == 0) || (o[1] < 0 && j == 0) || (o[2] < 0 && k == 0) ||
        (o[0] > 0 && i + 1 == dim[0]) || (o[1] > 0 && j + 1 == dim[1]) ||
        (o[2] > 0 && k + 1 == dim[2]))
        return SIZE_MAX;
    return (i + (size_t)o[0]) + dim[0] * ((j + (size_t)o[1]) + dim[1] * (k + (size_t)o[2]));
}

/* Voxel n's piece if it has at most SPECK_MAX voxels (returns its size), else 0. */
static size_t speck_of(const uint16_t *L, const size_t dim[3], size_t n, size_t piece[SPECK_MAX]) {
    uint16_t l = L[n];
    size_t count = 1;
    piece[0] = n;
    for (size_t p = 0; p < count; p++) {
        size_t q = piece[p], i = q % dim[0], j = (q / dim[0]) % dim[1], k = q / (dim[0] * dim[1]);
        for (int o = 0; o < 26; o++) {
            size_t m = neighbour(dim, i, j, k, OFF[o]);
            if (m == SIZE_MAX || L[m] != l) continue;
            int seen = 0;
            for (size_t s = 0; s < count && !seen; s++) seen = piece[s] == m;
            if (seen) continue;
            if (count == SPECK_MAX) return 0;
            piece[count++] = m;
        }
    }
    return count;
}

/* Whether a voxel of the piece's structure that lies in a piece larger than SPECK_MAX is
 * within SPECK_NEAR voxels (Chebyshev) of the piece: the speck belongs to a body nearby (a
 * structure that is only specks at this voxel size, or a far piece, keeps them). */
static int near_body(const uint16_t *L, const size_t dim[3], const size_t *piece, size_t count) {
    size_t q = piece[0], other[SPECK_MAX];
    size_t lo[3] = {q % dim[0], (q / dim[0]) % dim[1], q / (dim[0] * dim[1])}, hi[3];
    for (int a = 0; a < 3; a++) hi[a] = lo[a];
    for (size_t p = 1; p < count; p++) {
        size_t c[3] = {piece[p] % dim[0], (piece[p] / dim[0]) % dim[1],
                       piece[p] / (dim[0] * dim[1])};
        for (int a = 0; a < 3; a++) {
            lo[a] = c[a] < lo[a] ? c[a] : lo[a];
            hi[a] = c[a] > hi[a] ? c[a] : hi[a];
        }
    }
    for (int a = 0; a < 3; a++) {
        lo[a] = lo[a] > SPECK_NEAR ? lo[a] - SPECK_NEAR : 0;
        hi[a] = hi[a] + SPECK_NEAR < dim[a] ? hi[a] + SPECK_NEAR : dim[a] - 1;
    }
    for (size_t k = lo[2]; k <= hi[2]; k++)
        for (size_t j = lo[1]; j <= hi[1]; j++)
            for (size_t i = lo[0]; i <= hi[0]; i++) {
                size_t m = i + dim[0] * (j + dim[1] * k);
                if (L[m] != L[q]) continue;
                int mine = 0;
                for (size_t p = 0; p < count && !mine; p++) mine = piece[p] == m;
                if (!mine && !speck_of(L, dim, m, other)) return 1;
            }
    return 0;
}

/* The most common structure around a piece (ties: the smaller id; outside the body does not
 * count) and the tissue of the first voxel found with it; 0 if there is none. */
static int around(const uint16_t *L, const uint8_t *T, const size_t dim[3], const size_t *piece,
                  size_t count, uint16_t *label, uint8_t *tissue) {
    uint16_t lab[26 * SPECK_MAX];
    uint8_t tis[26 * SPECK_MAX];
    int votes[26 * SPECK_MAX];
    size_t nl = 0;
    for (size_t p = 0; p < count; p++) {
        size_t q = piece[p], i = q % dim[0], j = (q / dim[0]) % dim[1], k = q / (dim[0] * dim[1]);
        for (int o = 0; o < 26; o++) {
            size_t m = neighbour(dim, i, j, k, OFF[o]);
            if (m == SIZE_MAX || L[m] == L[q] || L[m] == 0) continue;
            size_t s = 0;
            while (s < nl && lab[s] != L[m]) s++;
            if (s == nl) lab[nl] = L[m], tis[nl] = T ? T[m] : 0, votes[nl++] = 0;
            votes[s]++;
        }
    }
    size_t best = 0;
    for (size_t s = 1; s < nl; s++)
        if (votes[s] > votes[best] || (votes[s] == votes[best] && lab[s] < lab[best])) best = s;
    *label = nl ? lab[best] : 0;
    *tissue = nl ? tis[best] : 0;
    return nl > 0;
}

int specks_clear(sb_anatomy_maps *m, size_t c0, size_t c1, const uint8_t *connected, int threads) {
    uint16_t *L = m->labels->data;
    uint8_t *T = m->tissues ? m->tissues->data : NULL;
    const size_t *dim = m->labels->dim, plane = dim[0] * dim[1];
    int fail = 0;
    changes all = {0};
#pragma omp parallel num_threads(threads) reduction(| : fail)
    {
        changes mine = {0};
#pragma omp for schedule(dynamic, 1)
        for (long kk = (long)c0; kk < (long)c1; kk++) {
            size_t k = (size_t)kk;
            for (size_t j = 0; j < dim[1]; j++)
                for (size_t i = 0; i < dim[0]; i++) {
                    size_t n = i + dim[0] * j + plane * k, piece[SPECK_MAX];
                    if (!connected[L[n]]) continue;
                    /* a voxel with SPECK_MAX same neighbours lies in a larger piece: first the
                     * four in its plane (most voxels), then all 26 */
                    if (i > 0 && j > 0 && i + 1 < dim[0] && j + 1 < dim[1] &&
                        L[n - 1] == L[n] && L[n + 1] == L[n] && L[n - dim[0]] == L[n] &&
                        L[n + dim[0]] == L[n])
                        continue;
                    int same = 0;
                    for (int o = 0; o < 26 && same < SPECK_MAX; o++) {
                        size_t q = neighbour(dim, i, j, k, OFF[o]);
                        same += q != SIZE_MAX && L[q] == L[n];
                    }
                    size_t count = same < SPECK_MAX ? speck_of(L, dim, n, piece) : 0;
                    if (!count || !near_body(L, dim, piece, count)) continue;
                    change c = {n, 0, 0, T ? T[n] : 0};
                    if (around(L, T, dim, piece, count, &c.label, &c.tissue))
                        fail |= !push(&mine, c);
                }
        }
#pragma omp critical
        for (size_t s = 0; s < mine.n && !fail; s++) fail |= !push(&all, mine.c[s]);
        free(mine.c);
    }
    /* applied after every decision was made on the unchanged maps: any order, same result */
    for (size_t s = 0; s < all.n && !fail; s++) {
        const change *c = &all.c[s];
        L[c->at] = c->label;
        if (T) T[c->at] = c->tissue;
        if (m->pv_tissue && c->old_tissue != c->tissue) {
            ((uint8_t *)m->pv_tissue->data)[c->at] = c->old_tissue;
            ((uint8_t *)m->pv_frac->data)[c->at] = 128;
        }
    }
    free(all.c);
    return fail ? -1 : 0;
}
