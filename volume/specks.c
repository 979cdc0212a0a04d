/* specks.c — specks of structures that are meant to be one piece.
 *
 * Sampling a smooth anatomy at voxel centres leaves, where a thin part or a carved edge of a
 * structure crosses a few centres, pieces of one to a few voxels cut off from the rest of it
 * (at 2 mm ~8 per subject: sigmoid colon beside the bladder, CSF beside the brain, white matter
 * in a sulcus). Such a speck is not anatomy — the structure is connected, the grid too coarse to
 * show the neck — and it breaks what users check: one connected component per structure,
 * meshes without crumbs. So a 26-connected piece of at most SPECK_MAX voxels of a structure
 * not marked "connected": false, lying within SPECK_NEAR voxels of a larger piece of it or
 * belonging to a structure expected to fill more than SPECK_LARGE voxels (the tip of the
 * liver's left lobe beyond the stomach, a crescent of colon beyond the liver), takes
 * the label of its most common 26-neighbour structure
 * (ties: the smaller id; never the outside, so the body's outline is unchanged), and that
 * neighbour's tissue (a speck with no structure around it, an island of the body in the air,
 * becomes the outside); for the MR signal the voxel keeps its own tissue as the partial-volume
 * partner at half the voxel. A structure resized for the subject (sb_subject.resize: hepatomegaly,
 * splenomegaly) is the exception: a speck touching it takes it, whatever its neighbours, and its
 * own specks stay. The enlarged organ cuts pieces off the structures it grows into and leaves
 * pieces of itself among them; given to another neighbour, either would change a label outside
 * the organ, where the same subject without the resize must keep its labels (README
 * "Pathology").
 *
 * The skin seals the body (when the anatomy has a structure "skin"): where two skin surfaces
 * meet in a crease (an arm on the trunk, a hand on the thigh, folds of an obese belly) the
 * voxel sampling of the two surfaces' distance fields leaves a few voxels of fat or muscle
 * touching the outside, and pockets of one to a few voxels of outside enclosed by skin. A
 * 6-connected pocket of label 0 of at most SEAL_MAX voxels enclosed by labelled voxels becomes
 * skin (the two folds touch); a labelled voxel that is not skin and 6-touches the remaining
 * outside becomes skin (it keeps its old tissue as the partial-volume partner). So every
 * structure lies inside the skin, whatever the voxel size.
 *
 * Each voxel's decision reads the unchanged maps within (SPECK_MAX - 1) + SPECK_NEAR + SPECK_MAX
 * voxels of it only (its piece, the box around it, the pieces found there; a pocket and its
 * rim: SEAL_MAX + 1), so a slab made with SPECK_HALO planes of margin on each side gives the
 * whole map's bytes. The seal's changes are applied after the specks' and win over them.
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

/* A pocket of the outside enclosed by the body of at most this many voxels is sealed. */
#define SEAL_MAX 8
_Static_assert(SEAL_MAX + 1 <= SPECK_HALO, "the slab margin must cover the seal rule");

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

/* The 6 face neighbours; the first of each pair is the lower one. */
static const int OFF6[6][3] = {{-1, 0, 0}, {1, 0, 0}, {0, -1, 0}, {0, 1, 0}, {0, 0, -1}, {0, 0, 1}};

/* Index of neighbour o of voxel (i, j, k), or SIZE_MAX outside the maps. */
static size_t neighbour(const size_t dim[3], size_t i, size_t j, size_t k, const int o[3]) {
    if ((o[0] < 0 && i == 0) || (o[1] < 0 && j == 0) || (o[2] < 0 && k == 0) ||
        (o[0] > 0 && i + 1 == dim[0]) || (o[1] > 0 && j + 1 == dim[1]) ||
        (o[2] > 0 && k + 1 == dim[2]))
        return SIZE_MAX;
    return (i + (size_t)o[0]) + dim[0] * ((j + (size_t)o[1]) + dim[1] * (k + (size_t)o[2]));
}

/* The region of voxel n's label around it, through the noff neighbour offsets off[], if it has
 * at most max voxels (returns its size, its voxels in out[]), else 0; with border_ends, also 0
 * if it reaches the grid's border. */
static size_t region_of(const uint16_t *L, const size_t dim[3], size_t n, const int (*off)[3],
                        int noff, size_t max, int border_ends, size_t *out) {
    uint16_t l = L[n];
    size_t count = 1;
    out[0] = n;
    for (size_t p = 0; p < count; p++) {
        size_t q = out[p], i = q % dim[0], j = (q / dim[0]) % dim[1], k = q / (dim[0] * dim[1]);
        for (int o = 0; o < noff; o++) {
            size_t m = neighbour(dim, i, j, k, off[o]);
            if (m == SIZE_MAX && border_ends) return 0;
            if (m == SIZE_MAX || L[m] != l) continue;
            int seen = 0;
            for (size_t s = 0; s < count && !seen; s++) seen = out[s] == m;
            if (seen) continue;
            if (count == max) return 0;
            out[count++] = m;
        }
    }
    return count;
}

/* Voxel n's 26-connected piece if it has at most SPECK_MAX voxels (returns its size), else 0. */
static size_t speck_of(const uint16_t *L, const size_t dim[3], size_t n, size_t piece[SPECK_MAX]) {
    return region_of(L, dim, n, OFF, 26, SPECK_MAX, 0, piece);
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
 * count) and the tissue of the first voxel found with it; 0 if there is none. With `resized`
 * set, only structures so marked count (connected[label] & SPECK_RESIZED: sb_subject.resize):
 * an enlarged organ cuts pieces off the structures it grows into, and such a piece given to
 * another neighbour would change labels outside the organ, which the same subject without the
 * resize keeps (README "Pathology"); it takes the organ instead. */
static int around(const uint16_t *L, const uint8_t *T, const uint8_t *resized, const size_t dim[3],
                  const size_t *piece, size_t count, uint16_t *label, uint8_t *tissue) {
    uint16_t lab[26 * SPECK_MAX];
    uint8_t tis[26 * SPECK_MAX];
    int votes[26 * SPECK_MAX];
    size_t nl = 0;
    for (size_t p = 0; p < count; p++) {
        size_t q = piece[p], i = q % dim[0], j = (q / dim[0]) % dim[1], k = q / (dim[0] * dim[1]);
        for (int o = 0; o < 26; o++) {
            size_t m = neighbour(dim, i, j, k, OFF[o]);
            if (m == SIZE_MAX || L[m] == L[q] || L[m] == 0 ||
                (resized && !(resized[L[m]] & SPECK_RESIZED)))
                continue;
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

/* The 6-connected region of label 0 around voxel n if it is a pocket of at most SEAL_MAX
 * voxels enclosed by labelled voxels (returns its size, voxels in pocket[]), else 0. */
static size_t pocket_of(const uint16_t *L, const size_t dim[3], size_t n, size_t pocket[SEAL_MAX]) {
    return region_of(L, dim, n, OFF6, 6, SEAL_MAX, 1, pocket); /* the border is outside */
}

/* The seal's decision for voxel n (see the top of the file): 1 and *c filled if it becomes
 * skin. A pocket is decided at its first voxel in memory order (whose -x, -y and -z neighbours
 * are labelled) and pushed whole; `pockets` receives the pocket's other voxels. */
static int seal_voxel(const uint16_t *L, const size_t dim[3], size_t i, size_t j, size_t k,
                      size_t n, uint16_t skin, uint8_t skin_tissue, changes *pockets, int *fail) {
    const size_t plane = dim[0] * dim[1];
    size_t pocket[SEAL_MAX];
    /* inside the grid, most voxels are decided by their 6 neighbours alone: the outside's
     * with a -x, -y or -z neighbour of the outside, labelled ones with no outside beside them */
    if (i > 0 && j > 0 && k > 0 && i + 1 < dim[0] && j + 1 < dim[1] && k + 1 < dim[2]) {
        if (!L[n] ? !L[n - 1] || !L[n - dim[0]] || !L[n - plane]
                  : L[n] == skin || (L[n - 1] && L[n + 1] && L[n - dim[0]] && L[n + dim[0]] &&
                                     L[n - plane] && L[n + plane]))
            return 0;
    }
    if (!L[n]) {
        size_t mx = neighbour(dim, i, j, k, OFF6[0]), my = neighbour(dim, i, j, k, OFF6[2]),
               mz = neighbour(dim, i, j, k, OFF6[4]);
        if (mx == SIZE_MAX || my == SIZE_MAX || mz == SIZE_MAX || !L[mx] || !L[my] || !L[mz])
            return 0;
        size_t count = pocket_of(L, dim, n, pocket);
        for (size_t p = 1; p < count; p++)
            *fail |= !push(pockets, (change){pocket[p], skin, skin_tissue, 0});
        return count > 0;
    }
    if (L[n] == skin) return 0;
    for (int o = 0; o < 6; o++) {
        size_t m = neighbour(dim, i, j, k, OFF6[o]);
        if (m != SIZE_MAX && !L[m] && !pocket_of(L, dim, m, pocket)) return 1;
    }
    return 0;
}

/* The speck rule's decision for voxel n (i, j, k) of a connected structure: 1 and *c filled
 * if it changes. */
static int speck_voxel(const uint16_t *L, const uint8_t *T, const uint8_t *connected,
                       const size_t dim[3], size_t i, size_t j, size_t k, size_t n, change *c) {
    size_t piece[SPECK_MAX];
    /* a voxel with SPECK_MAX same neighbours lies in a larger piece: first the eight in its
     * plane (most voxels), then all 26 (four in the plane were taken for proof once: a plus
     * of 5 voxels has them, and kept its centre when the rest of it was cleared) */
    _Static_assert(SPECK_MAX <= 8, "the plane's 3 x 3 must be larger than a speck");
    const size_t w = dim[0];
    if (i > 0 && j > 0 && i + 1 < dim[0] && j + 1 < dim[1] && L[n - 1] == L[n] &&
        L[n + 1] == L[n] && L[n - w] == L[n] && L[n + w] == L[n] && L[n - w - 1] == L[n] &&
        L[n - w + 1] == L[n] && L[n + w - 1] == L[n] && L[n + w + 1] == L[n])
        return 0;
    int same = 0;
    for (int o = 0; o < 26 && same < SPECK_MAX; o++) {
        size_t q = neighbour(dim, i, j, k, OFF[o]);
        same += q != SIZE_MAX && L[q] == L[n];
    }
    size_t count = same < SPECK_MAX ? speck_of(L, dim, n, piece) : 0;
    if (!count || ((connected[L[n]] & 3) == 1 && !near_body(L, dim, piece, count))) return 0;
    *c = (change){n, 0, 0, T ? T[n] : 0};
    if (around(L, T, connected, dim, piece, count, &c->label, &c->tissue) ||
        around(L, T, NULL, dim, piece, count, &c->label, &c->tissue))
        return 1;
    /* no structure around it: an island of the body in the outside (the skin of a smooth
     * union's web between an obese subject's forearm and flank whose distance dips below zero
     * at a voxel centre or two) becomes the outside */
    c->label = 0, c->tissue = 0;
    return 1;
}

/* How many of the 8 voxels from n on (in one row, none on the grid's border) neither rule can
 * change, counted from n up to the first that one might: a labelled voxel whose 8 neighbours
 * in its plane have its label (speck_voxel's first test) and whose neighbours above and below
 * are labelled (so are its 6 face neighbours: seal_voxel's). Eight at a time; the same as
 * those tests voxel by voxel. */
static int settled8(const uint16_t *L, size_t n, size_t w, size_t plane) {
    typedef uint16_t v8 __attribute__((vector_size(16)));
    v8 c, a, b, x, ok;
    memcpy(&c, L + n, sizeof c);
    ok = c != 0;
    const size_t off[8] = {n - 1, n + 1, n - w - 1, n - w, n - w + 1, n + w - 1, n + w, n + w + 1};
    for (int o = 0; o < 8; o++) {
        memcpy(&x, L + off[o], sizeof x);
        ok &= x == c;
    }
    memcpy(&a, L + n - plane, sizeof a);
    memcpy(&b, L + n + plane, sizeof b);
    ok &= (a != 0) & (b != 0);
    uint64_t h[2];
    memcpy(h, &ok, sizeof h);
    if (h[0] == UINT64_MAX && h[1] == UINT64_MAX) return 8;
    int t = 0;
    while (t < 8 && ok[t]) t++;
    return t;
}

static void apply(sb_anatomy_maps *m, const changes *ch, size_t c0, size_t c1) {
    uint16_t *L = m->labels->data;
    uint8_t *T = m->tissues ? m->tissues->data : NULL;
    const size_t plane = m->labels->dim[0] * m->labels->dim[1];
    for (size_t s = 0; s < ch->n; s++) {
        const change *c = &ch->c[s];
        if (c->at / plane < c0 || c->at / plane >= c1) continue;
        L[c->at] = c->label;
        if (T) T[c->at] = c->tissue;
        if (m->pv_tissue && c->old_tissue != c->tissue) {
            ((uint8_t *)m->pv_tissue->data)[c->at] = c->old_tissue;
            ((uint8_t *)m->pv_frac->data)[c->at] = 128;
        }
    }
}

int specks_clear(sb_anatomy_maps *m, size_t c0, size_t c1, const uint8_t *connected, uint16_t skin,
                 uint8_t skin_tissue, int threads) {
    const uint16_t *L = m->labels->data;
    const uint8_t *T = m->tissues ? m->tissues->data : NULL;
    const size_t *dim = m->labels->dim, plane = dim[0] * dim[1];
    /* a pocket reaching into [c0, c1) starts at most SEAL_MAX - 1 planes below c0 */
    const size_t from = skin && c0 >= SEAL_MAX ? c0 - (SEAL_MAX - 1) : skin ? 0 : c0;
    int fail = 0;
    changes specks = {0}, seal = {0};
#pragma omp parallel num_threads(threads) reduction(| : fail)
    {
        changes mine = {0}, sealed = {0};
#pragma omp for schedule(dynamic, 1)
        for (long kk = (long)from; kk < (long)c1; kk++) {
            size_t k = (size_t)kk;
            for (size_t j = 0; j < dim[1]; j++) {
                /* rows whose voxels may be tested 8 at a time (settled8): off the border */
                const int inner = j > 0 && j + 1 < dim[1] && k > 0 && k + 1 < dim[2];
                for (size_t i = 0; i < dim[0]; i++) {
                    size_t n = i + dim[0] * j + plane * k;
                    if (inner && i > 0 && i + 9 <= dim[0] && L[n]) {
                        const int t = settled8(L, n, dim[0], plane);
                        if (t) {
                            i += (size_t)t - 1;
                            continue;
                        }
                    }
                    if (i > 0 && !L[n] && !L[n - 1] && !(connected[0] & 3)) {
                        /* a run of the outside: after its first voxel neither rule changes
                         * it (the speck rule skips label 0, connected[0] being 0; the seal,
                         * an outside voxel with an outside -x neighbour): skipped 4 at a time */
                        size_t e = i + 1;
                        for (uint64_t w4; e + 4 <= dim[0]; e += 4) {
                            memcpy(&w4, L + n + (e - i), sizeof w4);
                            if (w4) break;
                        }
                        while (e < dim[0] && !L[n + (e - i)]) e++;
                        i = e - 1;
                        continue;
                    }
                    change c;
                    if (k >= c0 && (connected[L[n]] & 3) &&
                        speck_voxel(L, T, connected, dim, i, j, k, n, &c))
                        fail |= !push(&mine, c);
                    if (skin && (k >= c0 || !L[n]) &&
                        seal_voxel(L, dim, i, j, k, n, skin, skin_tissue, &sealed, &fail))
                        fail |= !push(&sealed, (change){n, skin, skin_tissue, T ? T[n] : 0});
                }
            }
        }
#pragma omp critical
        {
            for (size_t s = 0; s < mine.n && !fail; s++) fail |= !push(&specks, mine.c[s]);
            for (size_t s = 0; s < sealed.n && !fail; s++) fail |= !push(&seal, sealed.c[s]);
        }
        free(mine.c);
        free(sealed.c);
    }
    /* applied after every decision was made on the unchanged maps: any order, same result;
     * the seal after the specks */
    if (!fail) {
        apply(m, &specks, c0, c1);
        apply(m, &seal, c0, c1);
    }
    free(specks.c);
    free(seal.c);
    return fail ? -1 : 0;
}
