/* simplify.c — topology-preserving quadric half-edge-collapse simplification.
 *
 * References
 *   M. Garland, P. S. Heckbert: "Surface Simplification Using Quadric Error Metrics",
 *     SIGGRAPH 1997 (quadrics, optimal placement, cheapest collapse first).
 *   T. K. Dey, H. Edelsbrunner, S. Guha, D. V. Nekhayev: "Topology Preserving Edge Contraction",
 *     Publ. Inst. Math. (Beograd) 66, 1999 (the link condition: contracting ab keeps a closed
 *     2-manifold homeomorphic iff Lk(a) ∩ Lk(b) = Lk(ab), here the two opposite vertices).
 *   A. Kapoulkine's meshoptimizer (collapse passes over an independent set of edges, costs
 *     bucketed rather than kept in a heap) for the pass structure — no code taken.
 *
 * Collapses are half-edge collapses b -> a (b is removed, a keeps its position), so every output
 * vertex is an input vertex: the surface stays on the (smoothed) input surface.
 * Guarantee: a closed, edge- and vertex-manifold, oriented input stays so, with the same genus
 * and number of components: a collapse is made only if (1) the edge has exactly two triangles,
 * (2) the link condition holds, (3) both opposite vertices keep valence >= 3 and the merged
 * vertex has valence >= 3, (4) no triangle around b turns by more than ~78 degrees or becomes
 * a sliver (quality 4*sqrt(3)*area / sum of squared edges below 0.05, unless it already was).
 * Self-intersections are not excluded by construction (collapses are local); the caller
 * checks them (sb_mesh_check) and falls back (sb_mesh_surfaces).
 * Error: each vertex carries the quadric of the planes of the original triangles merged into
 * it (unit normals, unweighted); the cost of b -> a is (Q_a + Q_b)(a), so sqrt(cost) bounds
 * the distance from a to each of those planes; collapses with sqrt(cost) > max_error_mm are
 * never made. The input must be a closed 2-manifold (what the extractors make); other input is
 * handled safely but its topology is not guaranteed.
 * Deterministic (single thread per mesh; ties broken by edge order).
 *
 * Passes, repeated until the target is met or nothing can collapse:
 *   1. vertex -> triangle lists (CSR) of the live triangles;
 *   2. per vertex b, its cheapest neighbour a — recomputed only for vertices next to a collapse
 *      of the previous pass (positions never move; quadrics change only at collapse targets),
 *      and a collapse refused by the checks below is not retried until its neighbourhood
 *      changes;
 *   3. counting sort of the costs by their top float bits (monotonic for costs >= 0);
 *   4. cheapest first: a collapse is tried only if neither end was touched in this pass; after
 *      b -> a the 1-ring of b is locked (every vertex whose triangles changed), so every test
 *      reads an unmodified neighbourhood; live triangle counts per vertex are kept exact;
 *   5. dead triangles dropped.
 * The collapses made can be recorded and replayed pass by pass with some left out (mesh/
 * mesh_internal.h, sb__mesh_simplify_ex): surfaces.c uses it to remove self-intersections. A
 * recording whose replay surfaces.c has already found closed and manifold can also be made at
 * once (replay 3: every vertex to the root of its merges, the quadrics merged into it summed;
 * no collapse re-tested) and then continued to the budget.
 */
#include "sb_mesh.h"

#include "mesh_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* costs are bucketed by their float bits above SHIFT (8 buckets per power of two); within a
 * bucket candidates stay in vertex order. Coarser buckets (more locality) measured no faster. */
#define SHIFT 19

typedef sb__quadric quadric;

typedef struct cand {
    float cost;
    uint32_t b, a; /* b -> a */
} cand;

static void q_add(quadric *q, const quadric *r) {
    q->a2 += r->a2, q->ab += r->ab, q->ac += r->ac, q->ad += r->ad, q->b2 += r->b2;
    q->bc += r->bc, q->bd += r->bd, q->c2 += r->c2, q->cd += r->cd, q->d2 += r->d2;
}

static double q_eval(const quadric *q, const double x[3]) {
    double r = q->a2 * x[0] * x[0] + 2 * q->ab * x[0] * x[1] + 2 * q->ac * x[0] * x[2] +
               2 * q->ad * x[0] + q->b2 * x[1] * x[1] + 2 * q->bc * x[1] * x[2] + 2 * q->bd * x[1] +
               q->c2 * x[2] * x[2] + 2 * q->cd * x[2] + q->d2;
    return r > 0 ? r : 0;
}

static void tri_normal(const double *a, const double *b, const double *c, double n[3]) {
    double e1[3] = {b[0] - a[0], b[1] - a[1], b[2] - a[2]};
    double e2[3] = {c[0] - a[0], c[1] - a[1], c[2] - a[2]};
    n[0] = e1[1] * e2[2] - e1[2] * e2[1];
    n[1] = e1[2] * e2[0] - e1[0] * e2[2];
    n[2] = e1[0] * e2[1] - e1[1] * e2[0];
}

static double quality(const double *a, const double *b, const double *c) {
    double n[3];
    tri_normal(a, b, c, n);
    double area2 = sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
    double s = 0;
    for (int k = 0; k < 3; k++) {
        double d0 = b[k] - a[k], d1 = c[k] - b[k], d2 = a[k] - c[k];
        s += d0 * d0 + d1 * d1 + d2 * d2;
    }
    return s > 0 ? 2 * sqrt(3.0) * area2 / s : 0; /* 4 sqrt(3) A / sum l^2, A = area2 / 2 */
}

#define DEAD UINT32_MAX /* T[3 t] of a collapsed triangle */

static void load(const float *P, uint32_t v, double p[3]) {
    for (int k = 0; k < 3; k++) p[k] = P[3 * (size_t)v + (size_t)k];
}

typedef struct simp {
    size_t nv, nt;
    float *P; /* positions (the input's floats; arithmetic in double) */
    quadric *Q;
    uint32_t *T;
    size_t *off; /* CSR: triangles of each vertex */
    uint32_t *adj;
    uint32_t *deg; /* live triangles of each vertex (= valence on a closed manifold) */
    uint8_t *lock;
    uint8_t *dirty;  /* the vertex's cheapest collapse must be recomputed */
    uint32_t *par;   /* b -> a of each collapse made (par[v] == v: v is alive) */
    double *selfc;   /* q_eval(Q_v, P_v): the part of each collapse cost owed to its target */
    float *bestc;    /* cached cheapest collapse of each vertex: cost (INFINITY: none) */
    uint32_t *besta; /* ... and its target */
} simp;

/* Neighbours of x: the vertex after x in each of its triangles (each once on a closed
 * manifold). Returns the count, or SIZE_MAX if more than cap. */
static size_t ring(const simp *s, uint32_t x, uint32_t *buf, size_t cap) {
    size_t n = 0;
    for (size_t k = s->off[x]; k < s->off[x + 1]; k++) {
        const uint32_t *t = s->T + 3 * (size_t)s->adj[k];
        if (t[0] == DEAD) continue;
        uint32_t y = t[0] == x ? t[1] : t[1] == x ? t[2] : t[0];
        if (n == cap) return SIZE_MAX;
        buf[n++] = y;
    }
    return n;
}

/* Tries the collapse b -> a; 1 if made. */
static int try_collapse(simp *s, uint32_t b, uint32_t a) {
    uint32_t ra[64], rb[64];
    size_t na = ring(s, a, ra, 64), nb = ring(s, b, rb, 64);
    if (na == SIZE_MAX || nb == SIZE_MAX) return 0;
    if (na != s->deg[a] || nb != s->deg[b]) return 0; /* not a closed fan: leave it */
    /* the edge's triangles and their opposite vertices */
    uint32_t opp[2];
    int ne = 0;
    for (size_t k = s->off[b]; k < s->off[b + 1]; k++) {
        const uint32_t *t = s->T + 3 * (size_t)s->adj[k];
        if (t[0] == DEAD || (t[0] != a && t[1] != a && t[2] != a)) continue;
        if (ne == 2) return 0; /* non-manifold edge */
        opp[ne++] = t[0] != a && t[0] != b ? t[0] : t[1] != a && t[1] != b ? t[1] : t[2];
    }
    if (ne != 2 || opp[0] == opp[1]) return 0;
    /* link condition: common neighbours are exactly the two opposite vertices */
    size_t common = 0;
    for (size_t i = 0; i < na; i++)
        for (size_t j = 0; j < nb; j++) common += ra[i] == rb[j];
    if (common != 2) return 0;
    if (na + nb < 7 || s->deg[opp[0]] <= 3 || s->deg[opp[1]] <= 3) return 0;
    /* normals and quality of the triangles of b that survive, with b moved onto a */
    double pa[3];
    load(s->P, a, pa);
    for (size_t k = s->off[b]; k < s->off[b + 1]; k++) {
        const uint32_t *t = s->T + 3 * (size_t)s->adj[k];
        if (t[0] == DEAD || t[0] == a || t[1] == a || t[2] == a) continue;
        double V[3][3];
        const double *v[3], *w[3];
        for (int c = 0; c < 3; c++) {
            load(s->P, t[c], V[c]);
            v[c] = V[c];
            w[c] = t[c] == b ? pa : v[c];
        }
        double n0[3], n1[3];
        tri_normal(v[0], v[1], v[2], n0);
        tri_normal(w[0], w[1], w[2], n1);
        double l0 = sqrt(n0[0] * n0[0] + n0[1] * n0[1] + n0[2] * n0[2]),
               l1 = sqrt(n1[0] * n1[0] + n1[1] * n1[1] + n1[2] * n1[2]);
        if (!(l1 > 0)) return 0;
        if (n0[0] * n1[0] + n0[1] * n1[1] + n0[2] * n1[2] < 0.2 * l0 * l1) return 0;
        double q1 = quality(w[0], w[1], w[2]);
        if (q1 < 0.05 && q1 < quality(v[0], v[1], v[2])) return 0;
    }
    /* make it */
    q_add(&s->Q[a], &s->Q[b]);
    s->selfc[a] = q_eval(&s->Q[a], pa);
    for (size_t k = s->off[b]; k < s->off[b + 1]; k++) {
        uint32_t ti = s->adj[k];
        uint32_t *t = s->T + 3 * (size_t)ti;
        if (t[0] == DEAD) continue;
        if (t[0] == a || t[1] == a || t[2] == a) {
            for (int c = 0; c < 3; c++) s->deg[t[c]]--;
            t[0] = DEAD;
            continue;
        }
        for (int c = 0; c < 3; c++)
            if (t[c] == b) t[c] = a;
    }
    s->deg[a] += s->deg[b];
    s->deg[b] = 0;
    s->par[b] = a;
    s->lock[a] = s->lock[b] = 1;
    for (size_t j = 0; j < nb; j++) s->lock[rb[j]] = 1;
    /* costs to recompute: a and b, b's ring (it lost b, gained a), a's ring (Q_a grew) */
    s->dirty[a] = s->dirty[b] = 1;
    for (size_t j = 0; j < nb; j++) s->dirty[rb[j]] = 1;
    for (size_t j = 0; j < na; j++) s->dirty[ra[j]] = 1;
    return 1;
}

/* The candidates are taken cheapest first, in no order of memory, and most of them (four in
 * five) are skipped, a vertex of theirs locked by an earlier collapse of the pass. So the loop
 * reads them through a window of the next WIN candidates not locked when found (a candidate
 * locked then stays locked: locks are only set within a pass), rechecked when their turn
 * comes; their data is fetched ahead while they move through the window, in four steps along
 * its chain of indices: the vertex arrays of a and b; b's and a's triangle lists; their
 * triangles; the positions and valences of the triangles' vertices (the normal and valence
 * checks). try_collapse then finds it in cache. The candidates tried, and their order, are
 * those of a plain loop: no result changes. */
#if defined(__GNUC__)
#define PREFETCH(p) __builtin_prefetch(p)
#else
#define PREFETCH(p) ((void)(p))
#endif
#define WIN 32 /* a power of two; the steps as a candidate enters, then 12, 6 and 2 places ahead   \
                */

typedef struct window {
    size_t idx[WIN]; /* candidate indices, head .. head + n - 1 (mod WIN) */
    size_t head, n, scan;
} window;

static void fetch_step(const simp *s, const cand *c, int step) {
    const uint32_t v[2] = {c->a, c->b};
    if (step == 0) {
        for (int k = 0; k < 2; k++) {
            PREFETCH(&s->off[v[k]]);
            PREFETCH(&s->deg[v[k]]);
            PREFETCH(&s->Q[v[k]]);
            PREFETCH((const char *)&s->Q[v[k]] + 64);
            PREFETCH(&s->P[3 * (size_t)v[k]]);
        }
    } else if (step == 1) {
        for (int k = 0; k < 2; k++) {
            PREFETCH(&s->adj[s->off[v[k]]]);
            PREFETCH(&s->adj[s->off[v[k] + 1] - 1]);
        }
    } else if (step == 2) {
        for (int k = 0; k < 2; k++)
            for (size_t j = s->off[v[k]]; j < s->off[v[k] + 1]; j++)
                PREFETCH(&s->T[3 * (size_t)s->adj[j]]);
    } else {
        for (size_t j = s->off[c->b]; j < s->off[c->b + 1]; j++) {
            const uint32_t *t = s->T + 3 * (size_t)s->adj[j];
            if (t[0] == DEAD) continue;
            for (int k = 0; k < 3; k++) {
                PREFETCH(&s->P[3 * (size_t)t[k]]);
                PREFETCH(&s->deg[t[k]]);
            }
        }
    }
}

/* Fills the window up to WIN candidates not locked; 0 when it is empty (no candidate left).
 * The front candidate is w->idx[w->head]. */
static int window_fill(const simp *s, const cand *cs, size_t nc, window *w) {
    while (w->n < WIN && w->scan < nc) {
        const cand *c = &cs[w->scan];
        if (!s->lock[c->a] && !s->lock[c->b]) {
            w->idx[(w->head + w->n) & (WIN - 1)] = w->scan;
            w->n++;
            fetch_step(s, c, 0);
        }
        w->scan++;
    }
    if (!w->n) return 0;
    static const size_t at[3] = {12, 6, 2};
    for (int k = 0; k < 3; k++)
        if (at[k] < w->n) fetch_step(s, &cs[w->idx[(w->head + at[k]) & (WIN - 1)]], k + 1);
    return 1;
}

static void build_csr(simp *s) {
    memset(s->off, 0, (s->nv + 1) * sizeof *s->off);
    for (size_t t = 0; t < s->nt; t++)
        for (int c = 0; c < 3; c++) s->off[s->T[3 * t + (size_t)c] + 1]++;
    for (size_t v = 0; v < s->nv; v++) s->off[v + 1] += s->off[v];
    for (size_t t = 0; t < s->nt; t++)
        for (int c = 0; c < 3; c++) s->adj[s->off[s->T[3 * t + (size_t)c]]++] = (uint32_t)t;
    for (size_t v = s->nv; v > 0; v--) s->off[v] = s->off[v - 1];
    s->off[0] = 0;
}

static uint32_t root(uint32_t *par, uint32_t x) {
    while (par[x] != x) {
        par[x] = par[par[x]];
        x = par[x];
    }
    return x;
}

void sb__simplify_quadrics(const sb_trimesh *m, sb__quadric *Q) {
    memset(Q, 0, m->nverts * sizeof *Q);
    for (size_t t = 0; t < m->ntris; t++) {
        const uint32_t *tv = m->tris + 3 * t;
        double n[3];
        double a[3], pb[3], pc[3];
        load(m->verts, tv[0], a);
        load(m->verts, tv[1], pb);
        load(m->verts, tv[2], pc);
        tri_normal(a, pb, pc, n);
        double l = sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
        if (!(l > 0)) continue;
        n[0] /= l, n[1] /= l, n[2] /= l;
        double d = -(n[0] * a[0] + n[1] * a[1] + n[2] * a[2]);
        quadric q = {n[0] * n[0], n[0] * n[1], n[0] * n[2], n[0] * d, n[1] * n[1],
                     n[1] * n[2], n[1] * d,    n[2] * n[2], n[2] * d, d * d};
        for (int c = 0; c < 3; c++) q_add(&Q[tv[c]], &q);
    }
}

static sb_status simplify_core(sb_trimesh *m, size_t target_tris, double max_error_mm,
                               const uint8_t *frozen, uint32_t *rep, sb__simplify_log *log,
                               size_t *collapses, const sb__quadric *q0, uint32_t *tri_src,
                               uint32_t *vert_src, sb_error *err);

sb_status sb__mesh_simplify_ex(sb_trimesh *m, size_t target_tris, double max_error_mm,
                               const uint8_t *frozen, uint32_t *rep, sb__simplify_log *log,
                               size_t *collapses, sb_error *err) {
    return simplify_core(m, target_tris, max_error_mm, frozen, rep, log, collapses, NULL, NULL,
                         NULL, err);
}

sb_status sb__mesh_simplify_tagged(sb_trimesh *m, size_t target_tris, double max_error_mm,
                                   const sb__quadric *q0, uint32_t *rep, sb__simplify_log *log,
                                   uint32_t *tri_src, uint32_t *vert_src, sb_error *err) {
    if (log) log->replay = 0;
    return simplify_core(m, target_tris, max_error_mm, NULL, rep, log, NULL, q0, tri_src, vert_src,
                         err);
}

sb_status sb_mesh_simplify(sb_trimesh *m, size_t target_tris, double max_error_mm,
                           size_t *collapses, sb_error *err) {
    return sb__mesh_simplify_ex(m, target_tris, max_error_mm, NULL, NULL, NULL, collapses, err);
}

void sb__simplify_log_free(sb__simplify_log *log) {
    if (!log) return;
    free(log->b);
    free(log->a);
    free(log->pass_end);
    free(log->skip);
    memset(log, 0, sizeof *log);
}

static int log_collapse(sb__simplify_log *log, uint32_t b, uint32_t a) {
    if (log->n == log->cap) {
        size_t nc = log->cap ? 2 * log->cap : 4096;
        uint32_t *nb = realloc(log->b, nc * sizeof *nb);
        if (!nb) return 0;
        log->b = nb;
        uint32_t *na = realloc(log->a, nc * sizeof *na);
        if (!na) return 0;
        log->a = na;
        uint8_t *ns = realloc(log->skip, nc);
        if (!ns) return 0;
        log->skip = ns;
        log->cap = nc;
    }
    log->skip[log->n] = 0;
    log->b[log->n] = b;
    log->a[log->n++] = a;
    return 1;
}

static int log_pass(sb__simplify_log *log) {
    if (log->npass == log->pcap) {
        size_t nc = log->pcap ? 2 * log->pcap : 64;
        size_t *np = realloc(log->pass_end, nc * sizeof *np);
        if (!np) return 0;
        log->pass_end = np;
        log->pcap = nc;
    }
    log->pass_end[log->npass++] = log->n;
    return 1;
}

static sb_status simplify_core(sb_trimesh *m, size_t target_tris, double max_error_mm,
                               const uint8_t *frozen, uint32_t *rep, sb__simplify_log *log,
                               size_t *collapses, const sb__quadric *q0, uint32_t *tri_src,
                               uint32_t *vert_src, sb_error *err) {
    const int replay = log ? log->replay : 0;
    if (collapses) *collapses = 0;
    if (!m) return sb_error_set(err, SB_ERR_USAGE, "sb_mesh_simplify: mesh is NULL");
    if (rep)
        for (size_t v = 0; v < m->nverts; v++) rep[v] = UINT32_MAX;
    for (size_t i = 0; i < 3 * m->ntris; i++)
        if (m->tris[i] >= m->nverts)
            return sb_error_set(err, SB_ERR_INPUT, "simplify: triangle %zu uses vertex %u of %zu",
                                i / 3, (unsigned)m->tris[i], m->nverts);
    /* the collapses are recorded into *log; a replay reads the previous recording (old) */
    sb__simplify_log old;
    memset(&old, 0, sizeof old);
    if (replay) {
        old = *log;
        memset(log, 0, sizeof *log);
    } else if (log) {
        log->n = log->npass = 0;
    }
    if (!replay && (m->ntris <= 4 || (target_tris >= m->ntris && !(max_error_mm > 0)))) {
        for (size_t i = 0; rep && i < 3 * m->ntris; i++) rep[m->tris[i]] = m->tris[i];
        for (size_t t = 0; tri_src && t < m->ntris; t++) tri_src[t] = (uint32_t)t;
        for (size_t v = 0; vert_src && v < m->nverts; v++) vert_src[v] = (uint32_t)v;
        return SB_OK;
    }
    simp s;
    memset(&s, 0, sizeof s);
    s.nv = m->nverts;
    s.nt = m->ntris;
    s.P = malloc(3 * s.nv * sizeof *s.P);
    s.Q = calloc(s.nv, sizeof *s.Q);
    s.T = malloc(3 * s.nt * sizeof *s.T);
    s.off = malloc((s.nv + 1) * sizeof *s.off);
    s.adj = malloc(3 * s.nt * sizeof *s.adj);
    s.deg = calloc(s.nv, sizeof *s.deg);
    s.lock = malloc(s.nv);
    s.dirty = malloc(s.nv);
    s.par = malloc(s.nv * sizeof *s.par);
    s.bestc = malloc(s.nv * sizeof *s.bestc);
    s.selfc = malloc(s.nv * sizeof *s.selfc);
    s.besta = malloc(s.nv * sizeof *s.besta);
    cand *cd = malloc(s.nv * sizeof *cd), *cs = malloc(s.nv * sizeof *cs);
    size_t *bucket = malloc(4097 * sizeof *bucket);
    uint32_t *map = malloc(s.nv * sizeof *map);
    sb_status st = SB_OK;
    if (!s.P || !s.Q || !s.T || !s.off || !s.adj || !s.deg || !s.lock || !s.dirty || !s.par ||
        !s.bestc || !s.selfc || !s.besta || !cd || !cs || !bucket || !map) {
        st = sb_error_set(err, SB_ERR_MEMORY, "simplify: out of memory (%zu triangles)", m->ntris);
        goto done;
    }
    memcpy(s.P, m->verts, 3 * s.nv * sizeof *s.P);
    memcpy(s.T, m->tris, 3 * s.nt * sizeof *s.T);
    if (tri_src)
        for (size_t t = 0; t < s.nt; t++) tri_src[t] = (uint32_t)t;
    memset(s.dirty, 1, s.nv);
    for (size_t v = 0; v < s.nv; v++) s.par[v] = (uint32_t)v;
    for (size_t t = 0; t < s.nt; t++)
        for (int c = 0; c < 3; c++) s.deg[s.T[3 * t + (size_t)c]]++;
    if (q0)
        memcpy(s.Q, q0, s.nv * sizeof *s.Q);
    else
        sb__simplify_quadrics(m, s.Q);
    if (replay == 3) {
        /* the recorded collapses (but the skipped and the frozen ones) made at once: each
         * vertex goes to the root of its merges, which gathers the quadrics merged into it;
         * the log keeps them with their passes */
        for (size_t i = 0; i < old.n; i++)
            if (!old.skip[i] && old.a[i] < s.nv && old.b[i] < s.nv &&
                !(frozen && frozen[old.a[i]]) && !(frozen && frozen[old.b[i]]))
                s.par[old.b[i]] = old.a[i];
        for (size_t v = 0; v < s.nv; v++) {
            uint32_t r = root(s.par, (uint32_t)v);
            s.par[v] = r;
            if (r != v) q_add(&s.Q[r], &s.Q[v]);
        }
        size_t w = 0;
        memset(s.deg, 0, s.nv * sizeof *s.deg);
        for (size_t t = 0; t < s.nt; t++) {
            uint32_t r[3];
            for (int c = 0; c < 3; c++) r[c] = s.par[s.T[3 * t + (size_t)c]];
            if (r[0] == r[1] || r[1] == r[2] || r[0] == r[2]) continue;
            for (int c = 0; c < 3; c++) s.deg[r[c]]++;
            if (tri_src) tri_src[w] = (uint32_t)t;
            memcpy(s.T + 3 * w++, r, sizeof r);
        }
        s.nt = w;
        for (size_t p = 0, i = 0; p < old.npass; p++) {
            for (; i < old.pass_end[p]; i++)
                if (old.b[i] < s.nv && s.par[old.b[i]] != old.b[i] &&
                    !log_collapse(log, old.b[i], old.a[i])) {
                    st = sb_error_set(err, SB_ERR_MEMORY, "simplify: out of memory (log)");
                    goto done;
                }
            if (!log_pass(log)) {
                st = sb_error_set(err, SB_ERR_MEMORY, "simplify: out of memory (log)");
                goto done;
            }
        }
    }
    for (size_t v = 0; v < s.nv; v++) {
        double p[3];
        load(s.P, (uint32_t)v, p);
        s.selfc[v] = q_eval(&s.Q[v], p);
    }
    const double max_cost = max_error_mm > 0 ? max_error_mm * max_error_mm : INFINITY;
    size_t total = 0;
    int replaying = replay == 3 ? 0 : replay;
    for (int pass = 0; pass < 1000; pass++) {
        if (replaying && (size_t)pass == old.npass) {
            if (replay == 2) break;
            replaying = 0; /* then on to the budget */
        }
        if (!replaying && (s.nt <= target_tris || s.nt <= 4)) break;
        build_csr(&s);
        memset(s.lock, 0, s.nv);
        size_t made = 0;
        if (replaying) {
            for (size_t i = pass ? old.pass_end[pass - 1] : 0; i < old.pass_end[pass]; i++) {
                uint32_t a = old.a[i], b = old.b[i];
                if (old.skip[i] || a >= s.nv || b >= s.nv || s.lock[a] || s.lock[b] ||
                    (frozen && (frozen[a] || frozen[b])) || !try_collapse(&s, b, a))
                    continue;
                made++;
                if (!log_collapse(log, b, a)) {
                    st = sb_error_set(err, SB_ERR_MEMORY, "simplify: out of memory (log)");
                    goto done;
                }
            }
            if (!log_pass(log)) {
                st = sb_error_set(err, SB_ERR_MEMORY, "simplify: out of memory (log)");
                goto done;
            }
        } else {
            /* cheapest collapse of every vertex whose neighbourhood changed (the others keep
             * theirs: positions never move and quadrics change only at collapse targets) */
            size_t nc = 0;
            for (size_t b = 0; b < s.nv; b++) {
                if (s.dirty[b]) {
                    s.dirty[b] = 0;
                    double best = INFINITY;
                    uint32_t ba = UINT32_MAX;
                    if (s.deg[b] && !(frozen && frozen[b]))
                        for (size_t k = s.off[b]; k < s.off[b + 1]; k++) {
                            const uint32_t *t = s.T + 3 * (size_t)s.adj[k];
                            uint32_t a = t[0] == b ? t[1] : t[1] == b ? t[2] : t[0];
                            if (frozen && frozen[a]) continue;
                            double pa[3];
                            load(s.P, a, pa);
                            double c = q_eval(&s.Q[b], pa) + s.selfc[a];
                            if (c < best) best = c, ba = a;
                        }
                    s.bestc[b] = ba == UINT32_MAX || best > max_cost ? INFINITY : (float)best;
                    s.besta[b] = ba;
                }
                if (!(s.bestc[b] < INFINITY) || !s.deg[b]) continue;
                cd[nc].cost = s.bestc[b];
                cd[nc].b = (uint32_t)b;
                cd[nc].a = s.besta[b];
                nc++;
            }
            if (!nc) break;
            /* counting sort by the top bits of the (non-negative) float cost: stable */
            memset(bucket, 0, 4097 * sizeof *bucket);
            for (size_t i = 0; i < nc; i++) {
                uint32_t bits;
                memcpy(&bits, &cd[i].cost, 4);
                bucket[(bits >> SHIFT) + 1]++;
            }
            for (size_t k = 0; k < 4096; k++) bucket[k + 1] += bucket[k];
            for (size_t i = 0; i < nc; i++) {
                uint32_t bits;
                memcpy(&bits, &cd[i].cost, 4);
                cs[bucket[bits >> SHIFT]++] = cd[i];
            }
            size_t want =
                target_tris > 0 && s.nt > target_tris ? (s.nt - target_tris + 1) / 2 : SIZE_MAX;
            window win;
            win.head = win.n = win.scan = 0;
            while (made < want && window_fill(&s, cs, nc, &win)) {
                const size_t i = win.idx[win.head];
                win.head = (win.head + 1) & (WIN - 1);
                win.n--;
                uint32_t a = cs[i].a, b = cs[i].b;
                if (s.lock[a] || s.lock[b]) continue;
                if (!try_collapse(&s, b, a)) {
                    s.bestc[b] = INFINITY; /* refused, neighbourhood unchanged: wait for a change */
                    continue;
                }
                made++;
                if (log && !log_collapse(log, b, a)) {
                    st = sb_error_set(err, SB_ERR_MEMORY, "simplify: out of memory (log)");
                    goto done;
                }
            }
            if (log && !log_pass(log)) {
                st = sb_error_set(err, SB_ERR_MEMORY, "simplify: out of memory (log)");
                goto done;
            }
        }
        size_t w = 0;
        for (size_t t = 0; t < s.nt; t++) {
            if (s.T[3 * t] == DEAD) continue;
            if (w != t) memcpy(s.T + 3 * w, s.T + 3 * t, 3 * sizeof *s.T);
            if (tri_src) tri_src[w] = tri_src[t];
            w++;
        }
        s.nt = w;
        total += made;
        if (!made && !replaying) break;
    }
    /* compact the vertices */
    size_t nv2 = 0;
    for (size_t v = 0; v < s.nv; v++) map[v] = UINT32_MAX;
    for (size_t i = 0; i < 3 * s.nt; i++) map[s.T[i]] = UINT32_MAX - 1; /* used */
    for (size_t v = 0; v < s.nv; v++)
        if (map[v] == UINT32_MAX - 1) {
            map[v] = (uint32_t)nv2;
            if (vert_src) vert_src[nv2] = (uint32_t)v;
            for (int k = 0; k < 3; k++) m->verts[3 * nv2 + (size_t)k] = s.P[3 * v + (size_t)k];
            nv2++;
        }
    for (size_t i = 0; i < 3 * s.nt; i++) m->tris[i] = map[s.T[i]];
    if (rep)
        for (size_t v = 0; v < s.nv; v++) rep[v] = map[root(s.par, (uint32_t)v)];
    m->nverts = nv2;
    m->ntris = s.nt;
    if (collapses) *collapses = total;
done:
    sb__simplify_log_free(&old);
    free(s.P);
    free(s.Q);
    free(s.T);
    free(s.off);
    free(s.adj);
    free(s.deg);
    free(s.lock);
    free(s.dirty);
    free(s.par);
    free(s.bestc);
    free(s.selfc);
    free(s.besta);
    free(cd);
    free(cs);
    free(bucket);
    free(map);
    return st;
}

sb_status sb__mesh_simplify_continue(sb_trimesh *m, const uint32_t *root, size_t nv_in,
                                     const sb__quadric *q_in, const uint8_t *frozen,
                                     size_t target_tris, double max_error_mm, uint32_t *rep,
                                     sb__simplify_log *log, uint32_t *tri_src, uint32_t *vert_src,
                                     sb_error *err) {
    const size_t nc = m->nverts;
    quadric *Q = malloc((nc ? nc : 1) * sizeof *Q);
    uint8_t *fz = malloc(nc ? nc : 1);
    uint32_t *repc = malloc((nc ? nc : 1) * sizeof *repc);
    sb__simplify_log now;
    memset(&now, 0, sizeof now);
    sb_status st = SB_OK;
    if (!Q || !fz || !repc) {
        st = sb_error_set(err, SB_ERR_MEMORY, "simplify: out of memory (%zu vertices)", nc);
        goto done;
    }
    /* what replay 3 starts from: each root's quadric, then those merged into it, in input order */
    for (size_t c = 0; c < nc; c++) {
        Q[c] = q_in[root[c]];
        fz[c] = frozen && frozen[root[c]];
    }
    for (size_t v = 0; v < nv_in; v++)
        if (rep[v] != UINT32_MAX && root[rep[v]] != v) q_add(&Q[rep[v]], &q_in[v]);
    st = simplify_core(m, target_tris, max_error_mm, fz, repc, &now, NULL, Q, tri_src, vert_src,
                       err);
    if (st) goto done;
    /* the log replay 3 leaves: the recorded collapses applied (neither skipped nor touching a
     * frozen vertex), pass by pass, then this run's, in input indices */
    size_t w = 0, p = 0;
    for (size_t i = 0; p < log->npass; p++) {
        for (; i < log->pass_end[p]; i++)
            if (!log->skip[i] && !(frozen && (frozen[log->a[i]] || frozen[log->b[i]]))) {
                log->a[w] = log->a[i];
                log->b[w++] = log->b[i];
            }
        log->pass_end[p] = w;
    }
    log->n = w;
    for (size_t i = 0, q = 0; q < now.npass; q++) {
        for (; i < now.pass_end[q]; i++)
            if (!log_collapse(log, root[now.b[i]], root[now.a[i]])) {
                st = sb_error_set(err, SB_ERR_MEMORY, "simplify: out of memory (log)");
                goto done;
            }
        if (!log_pass(log)) {
            st = sb_error_set(err, SB_ERR_MEMORY, "simplify: out of memory (log)");
            goto done;
        }
    }
    memset(log->skip, 0, log->n);
    for (size_t v = 0; v < nv_in; v++)
        if (rep[v] != UINT32_MAX) rep[v] = repc[rep[v]];
    for (size_t f = 0; vert_src && f < m->nverts; f++) vert_src[f] = root[vert_src[f]];
done:
    sb__simplify_log_free(&now);
    free(Q);
    free(fz);
    free(repc);
    return st;
}
