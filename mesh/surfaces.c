/* surfaces.c — the surface pipeline: extraction, tiny components, smoothing, simplification,
 * checks, and the fallback that keeps a bad mesh from ever being returned as good.
 *
 * References: the algorithms are those of marching_cubes.c, smooth.c, simplify.c, selfx.c and
 * check.c; the Gaussian pre-smoothing of each label's indicator follows 3D Slicer's "joint
 * smoothing" idea (smooth the binary mask, contour at 0.5): a sampled Gaussian kernel truncated
 * at 3 sigma, applied separably along i, j, k in voxel units (sigma_mm / spacing).
 *
 * Per label (in parallel over labels, largest first; each label single-threaded, so results
 * do not depend on the thread count):
 *   1. raw surface: the one multi-label marching-cubes sweep (or, with gauss_sigma_mm > 0, the
 *      iso-surface at 0.5 of the blurred indicator inside the label's box grown by 3 sigma);
 *   2. components whose |volume| is below min_component_mm3 are dropped (never the largest):
 *      specks, and cavities too small to be real;
 *   3. Taubin smoothing (smooth_iters), the label's voxel volume restored;
 *   4. simplification to the budget (target_tris, keep_ratio) within max_error_mm, repaired
 *      until no two triangles cross (simplify_clean: collapses near crossings left out, the
 *      rest of the recording applied again, directly where that keeps a closed manifold);
 *   5. sb_mesh_check; a mesh that is not "ok" (closed, manifold, positive volume, no degenerate
 *      triangle, no self-intersection) is rebuilt without simplification, then without
 *      smoothing (the raw surface, closed by construction); if even that fails the label is an
 *      SB_ERR_INTERNAL error. info->fallback says which step was dropped.
 */
#include "sb_mesh.h"

#include "mesh_internal.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sb_surface_opts_default(sb_surface_opts *o) {
    memset(o, 0, sizeof *o);
    o->gauss_sigma_mm = 0;
    o->smooth_iters = SB_SURFACE_DEFAULT_SMOOTH;
    o->keep_ratio = 0;
    o->target_tris = 0;
    o->max_error_mm = -1;      /* default: SB_SURFACE_DEFAULT_ERROR_VOX voxels */
    o->min_component_mm3 = -1; /* default: one voxel */
}

static sb_trimesh *copy_mesh(const sb_trimesh *m) {
    sb_trimesh *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->verts = malloc((m->nverts ? m->nverts : 1) * 3 * sizeof(float));
    c->tris = malloc((m->ntris ? m->ntris : 1) * 3 * sizeof(uint32_t));
    if (!c->verts || !c->tris) {
        sb_trimesh_free(c);
        return NULL;
    }
    memcpy(c->verts, m->verts, m->nverts * 3 * sizeof(float));
    memcpy(c->tris, m->tris, m->ntris * 3 * sizeof(uint32_t));
    c->nverts = m->nverts;
    c->ntris = m->ntris;
    return c;
}

static uint32_t find(uint32_t *p, uint32_t x) {
    while (p[x] != x) {
        p[x] = p[p[x]];
        x = p[x];
    }
    return x;
}

size_t sb__mesh_drop_small(sb_trimesh *m, double min_mm3) {
    if (!(min_mm3 > 0) || !m->ntris) return 0;
    const size_t nv = m->nverts, nt = m->ntris;
    uint32_t *par = malloc(nv * sizeof *par);
    double *vol = calloc(nv, sizeof *vol);
    if (!par || !vol) {
        free(par);
        free(vol);
        return SIZE_MAX;
    }
    for (size_t v = 0; v < nv; v++) par[v] = (uint32_t)v;
    for (size_t t = 0; t < nt; t++) {
        uint32_t a = find(par, m->tris[3 * t]);
        for (int c = 1; c < 3; c++) {
            uint32_t b = find(par, m->tris[3 * t + (size_t)c]);
            if (a != b) {
                if (a < b)
                    par[b] = a;
                else
                    par[a] = b, a = b;
            }
        }
    }
    const float *o = m->verts; /* volumes relative to the first vertex (less cancellation) */
    for (size_t t = 0; t < nt; t++) {
        const float *p[3];
        for (int c = 0; c < 3; c++) p[c] = m->verts + 3 * (size_t)m->tris[3 * t + (size_t)c];
        double a[3][3];
        for (int c = 0; c < 3; c++)
            for (int k = 0; k < 3; k++) a[c][k] = (double)p[c][k] - o[k];
        vol[find(par, m->tris[3 * t])] += (a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) -
                                           a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0]) +
                                           a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0])) /
                                          6.0;
    }
    uint32_t largest = find(par, m->tris[0]);
    for (size_t v = 0; v < nv; v++)
        if (par[v] == v && fabs(vol[v]) > fabs(vol[largest])) largest = (uint32_t)v;
    size_t removed = 0;
    for (size_t v = 0; v < nv; v++)
        if (par[v] == v && v != largest && fabs(vol[v]) < min_mm3) removed++;
    if (removed) {
        size_t w = 0;
        for (size_t t = 0; t < nt; t++) {
            uint32_t r = find(par, m->tris[3 * t]);
            if (r != largest && fabs(vol[r]) < min_mm3) continue;
            memmove(m->tris + 3 * w, m->tris + 3 * t, 3 * sizeof(uint32_t));
            w++;
        }
        m->ntris = w;
        /* compact vertices (par reused as the map) */
        for (size_t v = 0; v < nv; v++) par[v] = UINT32_MAX;
        for (size_t i = 0; i < 3 * w; i++) par[m->tris[i]] = 0;
        size_t k = 0;
        for (size_t v = 0; v < nv; v++)
            if (par[v] == 0) {
                par[v] = (uint32_t)k;
                memmove(m->verts + 3 * k, m->verts + 3 * v, 3 * sizeof(float));
                k++;
            }
        for (size_t i = 0; i < 3 * w; i++) m->tris[i] = par[m->tris[i]];
        m->nverts = k;
    }
    free(par);
    free(vol);
    return removed;
}

/* ---- Gaussian pre-smoothing ------------------------------------------------------------------ */
static void blur_axis(float *f, const size_t n[3], int axis, double sigma, float *tmp) {
    if (!(sigma > 0)) return;
    int r = (int)ceil(3 * sigma);
    double w[64];
    if (r > 31) r = 31;
    double sum = 0;
    for (int i = -r; i <= r; i++) sum += w[i + r] = exp(-0.5 * i * i / (sigma * sigma));
    for (int i = 0; i <= 2 * r; i++) w[i] /= sum;
    const size_t stride = axis == 0 ? 1 : axis == 1 ? n[0] : n[0] * n[1];
    const size_t len = n[axis];
    const size_t other = n[0] * n[1] * n[2] / len;
    for (size_t o = 0; o < other; o++) {
        size_t base;
        if (axis == 0)
            base = o * n[0];
        else if (axis == 1)
            base = (o % n[0]) + (o / n[0]) * n[0] * n[1];
        else
            base = o;
        for (size_t i = 0; i < len; i++) tmp[i] = f[base + i * stride];
        for (size_t i = 0; i < len; i++) {
            double s = 0;
            for (int k = -r; k <= r; k++) {
                long long j = (long long)i + k;
                if (j >= 0 && j < (long long)len) s += w[k + r] * tmp[j];
            }
            f[base + i * stride] = (float)s;
        }
    }
}

static sb_status gauss_surface(const sb_volume *lab, int id, const long long lo[3],
                               const long long hi[3], double sigma_mm, sb_trimesh **out,
                               sb_error *err) {
    *out = NULL;
    size_t n[3];
    long long o[3];
    double sig[3];
    int r = 0;
    for (int a = 0; a < 3; a++) {
        sig[a] = sigma_mm / lab->spacing[a];
        int ra = (int)ceil(3 * sig[a]) + 1;
        if (ra > r) r = ra;
    }
    for (int a = 0; a < 3; a++) {
        o[a] = lo[a] - r;
        n[a] = (size_t)(hi[a] - lo[a] + 1 + 2 * r);
    }
    sb_volume *f = NULL;
    sb_status s = sb_volume_create(n, lab->spacing, SB_DT_FLOAT32, &f, err);
    if (s) return s;
    float *d = f->data;
    for (size_t k = 0; k < n[2]; k++)
        for (size_t j = 0; j < n[1]; j++)
            for (size_t i = 0; i < n[0]; i++) {
                long long x = o[0] + (long long)i, y = o[1] + (long long)j, z = o[2] + (long long)k;
                if (x < 0 || y < 0 || z < 0 || x >= (long long)lab->dim[0] ||
                    y >= (long long)lab->dim[1] || z >= (long long)lab->dim[2])
                    continue;
                d[sb_volume_index(f, i, j, k)] =
                    sb_volume_get(lab, sb_volume_index(lab, (size_t)x, (size_t)y, (size_t)z)) == id;
            }
    size_t mx = n[0] > n[1] ? n[0] : n[1];
    if (n[2] > mx) mx = n[2];
    float *tmp = malloc(mx * sizeof *tmp);
    if (!tmp) {
        sb_volume_free(f);
        return sb_error_set(err, SB_ERR_MEMORY, "out of memory (Gaussian pre-smoothing)");
    }
    for (int a = 0; a < 3; a++) blur_axis(d, n, a, sig[a], tmp);
    free(tmp);
    /* affine of the sub-volume: shift the origin to voxel o */
    memcpy(f->affine, lab->affine, sizeof f->affine);
    for (int rr = 0; rr < 3; rr++)
        f->affine[rr][3] = lab->affine[rr][0] * (double)o[0] + lab->affine[rr][1] * (double)o[1] +
                           lab->affine[rr][2] * (double)o[2] + lab->affine[rr][3];
    sb_volume_update_spacing(f);
    sb_ctx one = {1, NULL, NULL, NULL};
    s = sb_mesh_mc_iso(f, 0.5, &one, out, err);
    sb_volume_free(f);
    if (s == SB_ERR_LABEL) s = SB_OK; /* blurred away: keep the raw surface */
    return s;
}

/* ---- one mesh ------------------------------------------------------------------------------- */
static double min_spacing(const sb_volume *v) {
    double s = v->spacing[0];
    if (v->spacing[1] < s) s = v->spacing[1];
    if (v->spacing[2] < s) s = v->spacing[2];
    return s > 0 ? s : 1;
}

/* A triangle of a mapped replay: its source triangle and a 64-bit hash of its input-vertex
 * roots (two rounds' triangles with the same source and key are the same triangle). */
typedef struct tri_tag {
    uint64_t key;
    uint32_t src;
} tri_tag;

static uint64_t mix3(const uint32_t r[3]) {
    uint64_t h = 0x9e3779b97f4a7c15ULL;
    for (int c = 0; c < 3; c++) {
        h ^= r[c];
        h *= 0xff51afd7ed558ccdULL;
        h ^= h >> 32;
    }
    return h;
}

/* The mesh a replay of log (src's simplification) makes when it leaves out the skipped
 * collapses and those touching a frozen vertex and every other recorded collapse is still
 * legal: a collapse b -> a replaces b by a everywhere and deletes the triangles holding
 * both, so the result is src's triangles with each vertex replaced by the root of its merges
 * (triangles with a repeated root dropped), in src's order, vertices compacted in src's order
 * — exactly what sb__mesh_simplify_ex's replay returns then. par (nv entries) is scratch; rep
 * receives what sb__mesh_simplify_ex's rep does, root (nv entries) the src vertex of each
 * output vertex; *tags one tri_tag per output triangle.
 * Whether the result is a closed 2-manifold is the caller's to check. NULL if out of memory. */
static sb_trimesh *mapped_replay(const sb_trimesh *src, const sb__simplify_log *log,
                                 const uint8_t *frozen, uint32_t *par, uint32_t *rep,
                                 uint32_t *root, tri_tag **tags) {
    const size_t nv = src->nverts, nt = src->ntris;
    for (size_t v = 0; v < nv; v++) par[v] = (uint32_t)v;
    for (size_t i = 0; i < log->n; i++)
        if (!log->skip[i] && !frozen[log->a[i]] && !frozen[log->b[i]]) par[log->b[i]] = log->a[i];
    sb_trimesh *m = calloc(1, sizeof *m);
    if (!m) return NULL;
    m->tris = malloc((nt ? nt : 1) * 3 * sizeof *m->tris);
    if (!m->tris) {
        free(m);
        return NULL;
    }
    *tags = malloc((nt ? nt : 1) * sizeof **tags); /* each kept triangle's source and key */
    if (!*tags) {
        sb_trimesh_free(m);
        return NULL;
    }
    size_t w = 0;
    for (size_t t = 0; t < nt; t++) {
        uint32_t r[3];
        for (int c = 0; c < 3; c++) r[c] = find(par, src->tris[3 * t + (size_t)c]);
        if (r[0] == r[1] || r[1] == r[2] || r[0] == r[2]) continue;
        (*tags)[w].src = (uint32_t)t;
        (*tags)[w].key = mix3(r);
        memcpy(m->tris + 3 * w++, r, sizeof r);
    }
    tri_tag *tg = realloc(*tags, (w ? w : 1) * sizeof **tags);
    if (tg) *tags = tg;
    for (size_t v = 0; v < nv; v++) rep[v] = UINT32_MAX;
    for (size_t i = 0; i < 3 * w; i++) rep[m->tris[i]] = 0; /* used roots */
    size_t k = 0;
    for (size_t v = 0; v < nv; v++)
        if (rep[v] == 0) {
            root[k] = (uint32_t)v;
            rep[v] = (uint32_t)k++;
        }
    m->verts = malloc((k ? k : 1) * 3 * sizeof *m->verts);
    if (!m->verts) {
        sb_trimesh_free(m);
        return NULL;
    }
    for (size_t v = 0; v < nv; v++)
        if (rep[v] != UINT32_MAX) memcpy(m->verts + 3 * (size_t)rep[v], src->verts + 3 * v, 12);
    for (size_t i = 0; i < 3 * w; i++) m->tris[i] = rep[m->tris[i]];
    m->nverts = k;
    m->ntris = w;
    /* rep of every input vertex: the output index of its root */
    for (size_t v = 0; v < nv; v++) {
        uint32_t r = find(par, (uint32_t)v);
        par[v] = r;
    }
    for (size_t v = 0; v < nv; v++) par[v] = rep[par[v]];
    memcpy(rep, par, nv * sizeof *rep);
    return m;
}

/* The last two collapses of log into each marked output vertex (rep: input -> output vertex)
 * are left out, their removed vertex frozen. 0 if out of memory. */
static int leave_out(sb__simplify_log *log, const uint32_t *rep, const uint8_t *mark, size_t nout,
                     uint8_t *frozen) {
    uint8_t *left = calloc(nout ? nout : 1, 1);
    if (!left) return 0;
    for (size_t i = log->n; i-- > 0;) {
        if (log->skip[i] || frozen[log->a[i]] || frozen[log->b[i]]) continue; /* not made */
        uint32_t o = rep[log->a[i]]; /* the output vertex this collapse went into */
        if (o == UINT32_MAX || !mark[o] || left[o] >= 2) continue;
        left[o]++;
        log->skip[i] = 1;
        frozen[log->b[i]] = 1;
    }
    free(left);
    return 1;
}

/* Marks (mark[v] = 1, nverts bytes) the vertices of m whose triangles do not form one closed
 * fan of at least three: each neighbour once after v and once before it, in a single cycle
 * (this covers boundary and non-manifold edges, misorientation and non-manifold vertices).
 * Returns how many, SIZE_MAX if out of memory. */
static size_t bad_fans(const sb_trimesh *m, uint8_t *mark) {
    const size_t nv = m->nverts, nt = m->ntris;
    size_t *off = calloc(nv + 1, sizeof *off);
    uint32_t *adj = malloc((nt ? 3 * nt : 1) * sizeof *adj);
    if (!off || !adj) {
        free(off);
        free(adj);
        return SIZE_MAX;
    }
    for (size_t i = 0; i < 3 * nt; i++) off[m->tris[i] + 1]++;
    for (size_t v = 0; v < nv; v++) off[v + 1] += off[v];
    for (size_t i = 0; i < 3 * nt; i++) adj[off[m->tris[i]]++] = (uint32_t)i;
    for (size_t v = nv; v > 0; v--) off[v] = off[v - 1];
    off[0] = 0;
    size_t bad = 0;
    for (size_t v = 0; v < nv; v++) {
        mark[v] = 0;
        const size_t k = off[v + 1] - off[v];
        int ok = k >= 3 && k <= 256; /* beyond: treated as bad (its collapses left out) */
        uint32_t nx[256], pv[256];
        for (size_t j = 0; ok && j < k; j++) {
            const uint32_t c = adj[off[v] + j], *t = m->tris + 3 * (size_t)(c / 3);
            nx[j] = t[(c + 1) % 3];
            pv[j] = t[(c + 2) % 3];
        }
        for (size_t i = 0; ok && i < k; i++)
            for (size_t j = i + 1; j < k; j++)
                if (nx[i] == nx[j] || pv[i] == pv[j]) ok = 0;
        if (ok) { /* follow the fan from triangle 0: it must come back after k steps */
            size_t i = 0, steps = 0;
            do {
                size_t j = 0;
                while (j < k && pv[j] != nx[i]) j++;
                if (j == k) break;
                i = j;
                steps++;
            } while (i != 0 && steps <= k);
            ok = i == 0 && steps == k;
        }
        if (!ok) mark[v] = 1, bad++;
    }
    free(off);
    free(adj);
    return bad;
}

/* Simplification without self-intersections. A copy of src is simplified, the collapses
 * recorded. While triangles of the result cross (sb__mesh_self_intersections), the result is
 * rebuilt by replaying the recording with a few collapses left out:
 *   rounds 1..GENTLE_ROUNDS: for each vertex of a crossing triangle, the last two collapses
 *     into it are left out and their removed vertices frozen (those triangles were the largest
 *     there; the surface regains detail just where it crossed);
 *   later rounds, up to SIMPLIFY_ROUNDS: every input vertex merged into a crossing triangle's
 *     vertices or their neighbours' is frozen (near the crossings the input's own triangles,
 *     which do not cross, come back).
 * A replay is first computed directly (mapped_replay: src's triangles through the remaining
 * merges, one pass, no collapse re-tested). Where that is not a closed 2-manifold (a collapse
 * that was legal no longer is in its new neighbourhood: bad_fans), the last two collapses into
 * those vertices are left out too, up to MAPPED_FIXES times; a result that is closed, manifold
 * and of src's topology (components, Euler characteristic) is taken. Otherwise, from then on,
 * each round replays the recording on a fresh copy, every collapse re-tested (sb__mesh_
 * simplify_ex), then (gentle rounds) cheapest-first collapses elsewhere meet the budget again.
 * A mapped result over the budget is continued cheapest-first from where it stands
 * (sb__mesh_simplify_continue, on the mapped mesh itself: no work in src's size). The
 * triangles of the first round's, a mapped round's and a continued round's result are tagged
 * with their source triangle and the roots of their corners, so that in the next round only
 * the triangle pairs with a new triangle, or one that crossed in the previous round, are
 * tested: the other pairs were there, uncrossed, in the previous round. The budget may be exceeded
 * near the crossings (by the collapses left out). A result still crossing after SIMPLIFY_ROUNDS is
 * left to the checks (fallback to the unsimplified mesh). Away from the crossings the replay
 * reproduces the recorded collapses. */
#define GENTLE_ROUNDS 4
#define SIMPLIFY_ROUNDS 12
#define MAPPED_FIXES 8
static sb_status simplify_clean(const sb_trimesh *src, size_t target, double max_e,
                                const char *what, sb_trimesh **out, size_t *crossings,
                                sb_error *err) {
    *out = NULL;
    *crossings = SIZE_MAX; /* not counted */
    const size_t nv = src->nverts;
    uint32_t *rep = malloc((nv ? nv : 1) * sizeof *rep);
    uint8_t *frozen = calloc(nv ? nv : 1, 1), *hit = NULL, *mark = NULL;
    sb_trimesh *fin = NULL;
    sb__simplify_log log;
    memset(&log, 0, sizeof log);
    uint32_t *par = malloc((nv ? nv : 1) * sizeof *par),
             *root = malloc((nv ? nv : 1) * sizeof *root);
    sb__quadric *qin = malloc((nv ? nv : 1) * sizeof *qin); /* src's, for continuations */
    int mapped = 1;                                         /* rounds try mapped_replay first */
    tri_tag *tags = NULL, *ptags = NULL; /* this and the previous mapped round's triangles */
    uint8_t *only = NULL;
    size_t pn = 0;
    size_t comps = 0; /* the topology of the first result (src's) */
    int cont = 1;     /* meet the budget again after mapped rounds (while crossings decrease) */
    size_t last_nx = SIZE_MAX;
    long euler0 = 0;
    sb_status s = rep && frozen && par && root && qin
                      ? SB_OK
                      : sb_error_set(err, SB_ERR_MEMORY, "%s: out of memory", what);
    if (!s) sb__simplify_quadrics(src, qin);
    for (int round = 0; !s; round++) {
        sb_trimesh_free(fin);
        fin = NULL;
        int continued = 0;
        for (int fix = 0; round > 0 && mapped && !s; fix++) {
            /* the replay computed directly; where a collapse made again would no longer keep
             * the surface a closed 2-manifold, collapses into those vertices are left out too */
            free(tags);
            tags = NULL;
            fin = mapped_replay(src, &log, frozen, par, rep, root, &tags);
            free(mark);
            mark = fin ? malloc(fin->nverts ? fin->nverts : 1) : NULL;
            size_t bad = mark ? bad_fans(fin, mark) : SIZE_MAX;
            if (bad == SIZE_MAX) {
                s = sb_error_set(err, SB_ERR_MEMORY, "%s: out of memory", what);
                break;
            }
            if (bad && fix < MAPPED_FIXES) {
                if (!leave_out(&log, rep, mark, fin->nverts, frozen))
                    s = sb_error_set(err, SB_ERR_MEMORY, "%s: out of memory", what);
                sb_trimesh_free(fin);
                fin = NULL;
                continue;
            }
            sb_mesh_report r;
            s = sb__mesh_check_ex(fin, 0, &r, err);
            if (s) break;
            if (!r.closed || r.nonmanifold_vertices || r.degenerate_tris || r.components != comps ||
                r.euler != euler0) {
                sb_trimesh_free(fin);
                fin = NULL;
                free(tags);
                tags = NULL;
                mapped = 0; /* from now on, replays that check every collapse */
            } else if (cont && round <= GENTLE_ROUNDS && target > 0 && fin->ntris > target) {
                /* over the budget: from that state, cheapest-first collapses elsewhere (what
                 * replay 3 of a copy of src does, made on fin); its triangles keep their tags'
                 * sources, with the keys of their new roots */
                uint32_t *tsrc = malloc((fin->ntris ? fin->ntris : 1) * sizeof *tsrc),
                         *vsrc = malloc((fin->nverts ? fin->nverts : 1) * sizeof *vsrc);
                if (!tsrc || !vsrc)
                    s = sb_error_set(err, SB_ERR_MEMORY, "%s: out of memory", what);
                else
                    s = sb__mesh_simplify_continue(fin, root, nv, qin, frozen, target, max_e, rep,
                                                   &log, tsrc, vsrc, err);
                for (size_t k = 0; !s && k < fin->ntris; k++) {
                    const uint32_t *tv = fin->tris + 3 * k;
                    const uint32_t rt[3] = {vsrc[tv[0]], vsrc[tv[1]], vsrc[tv[2]]};
                    tags[k].src = tags[tsrc[k]].src; /* tsrc[k] >= k: in place */
                    tags[k].key = mix3(rt);
                }
                free(tsrc);
                free(vsrc);
                continued = 1;
            }
            break;
        }
        if (s) break;
        if (!fin) {
            fin = copy_mesh(src);
            if (!fin) {
                s = sb_error_set(err, SB_ERR_MEMORY, "%s: out of memory", what);
                break;
            }
            if (round == 0) { /* tagged like a mapped replay's triangles */
                uint32_t *tsrc = malloc((fin->ntris ? fin->ntris : 1) * sizeof *tsrc),
                         *vsrc = malloc((nv ? nv : 1) * sizeof *vsrc);
                tags = malloc((fin->ntris ? fin->ntris : 1) * sizeof *tags);
                if (!tsrc || !vsrc || !tags)
                    s = sb_error_set(err, SB_ERR_MEMORY, "%s: out of memory", what);
                else
                    s = sb__mesh_simplify_tagged(fin, target, max_e, qin, rep, &log, tsrc, vsrc,
                                                 err);
                for (size_t k = 0; !s && k < fin->ntris; k++) {
                    const uint32_t *tv = fin->tris + 3 * k;
                    const uint32_t rt[3] = {vsrc[tv[0]], vsrc[tv[1]], vsrc[tv[2]]};
                    tags[k].src = tsrc[k];
                    tags[k].key = mix3(rt);
                }
                free(tsrc);
                free(vsrc);
                if (s) break;
            } else {
                log.replay = round <= GENTLE_ROUNDS ? 1 : 2;
                s = sb__mesh_simplify_ex(fin, target, max_e, frozen, rep, &log, NULL, err);
                if (s) break;
            }
        }
        /* crossings: after a tagged round (the first, mapped and continued ones), only the
         * pairs with a triangle that is new or crossed before can cross (the others were
         * there, uncrossed, in the previous round) */
        free(only);
        only = NULL;
        if (tags && ptags) {
            only = malloc(fin->ntris ? fin->ntris : 1);
            if (!only) {
                s = sb_error_set(err, SB_ERR_MEMORY, "%s: out of memory", what);
                break;
            }
            for (size_t k = 0, j = 0; k < fin->ntris; k++) {
                while (j < pn && ptags[j].src < tags[k].src) j++;
                only[k] = !(j < pn && ptags[j].src == tags[k].src && ptags[j].key == tags[k].key &&
                            !hit[j]);
            }
        }
        free(hit); /* the previous round's */
        hit = malloc(fin->ntris ? fin->ntris : 1);
        size_t nx = 0;
        if (!hit || !sb__mesh_self_intersections_of(fin, only, &nx, hit)) {
            s = sb_error_set(err, SB_ERR_MEMORY, "%s: out of memory (self-intersections)", what);
            break;
        }
        free(ptags);
        ptags = tags;
        tags = NULL;
        pn = fin->ntris;
        if (!nx) {
            *crossings = 0;
            break;
        }
        if (continued && nx >= last_nx) cont = 0;
        last_nx = nx;
        if (round == SIMPLIFY_ROUNDS) break;
        if (round == 0) { /* the topology every mapped replay must keep */
            sb_mesh_report r;
            s = sb__mesh_check_ex(fin, 0, &r, err);
            if (s) break;
            comps = r.components;
            euler0 = r.euler;
        }
        free(mark);
        mark = calloc(fin->nverts ? fin->nverts : 1, 1);
        if (!mark) {
            s = sb_error_set(err, SB_ERR_MEMORY, "%s: out of memory", what);
            break;
        }
        for (size_t t = 0; t < fin->ntris; t++)
            if (hit[t])
                for (int c = 0; c < 3; c++) mark[fin->tris[3 * t + (size_t)c]] = 1;
        if (round + 1 <= GENTLE_ROUNDS) {
            if (!leave_out(&log, rep, mark, fin->nverts, frozen)) {
                s = sb_error_set(err, SB_ERR_MEMORY, "%s: out of memory", what);
                break;
            }
        } else {
            /* the input vertices merged into the marked vertices and their neighbours */
            for (size_t t = 0; t < fin->ntris; t++) {
                const uint32_t *tv = fin->tris + 3 * t;
                if (mark[tv[0]] == 1 || mark[tv[1]] == 1 || mark[tv[2]] == 1)
                    for (int c = 0; c < 3; c++)
                        if (!mark[tv[c]]) mark[tv[c]] = 2;
            }
            for (size_t v = 0; v < nv; v++)
                if (rep[v] != UINT32_MAX && mark[rep[v]]) frozen[v] = 1;
        }
    }
    sb__simplify_log_free(&log);
    free(tags);
    free(ptags);
    free(only);
    free(par);
    free(root);
    free(qin);
    free(rep);
    free(frozen);
    free(hit);
    free(mark);
    if (s) {
        sb_trimesh_free(fin);
        return s;
    }
    *out = fin;
    return SB_OK;
}

sb_status sb__mesh_simplify_clean(const sb_trimesh *src, size_t target, double max_error_mm,
                                  const char *what, sb_trimesh **out, size_t *crossings,
                                  sb_error *err) {
    return simplify_clean(src, target, max_error_mm, what, out, crossings, err);
}

static double mesh_volume(const sb_trimesh *m) {
    double vol = 0;
    const float *o = m->verts; /* relative to the first vertex (less cancellation) */
    for (size_t t = 0; t < m->ntris; t++) {
        double a[3][3];
        for (int c = 0; c < 3; c++)
            for (int k = 0; k < 3; k++)
                a[c][k] =
                    (double)m->verts[3 * (size_t)m->tris[3 * t + (size_t)c] + (size_t)k] - o[k];
        vol += a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) -
               a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0]) +
               a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]);
    }
    return vol / 6.0;
}

/* Where the smoothed surface sm crosses itself, its vertices go back to their places on raw
 * (same connectivity; raw does not cross): the vertices of the crossing triangles, from the
 * third round on with their neighbours, until nothing crosses or UNSMOOTH_ROUNDS rounds.
 * Returns how many vertices went back (0: sm did not cross or still crosses — then it is left
 * as it was), SIZE_MAX if out of memory. */
#define UNSMOOTH_ROUNDS 8
static size_t unsmooth_crossings(sb_trimesh *sm, const sb_trimesh *raw) {
    const size_t nv = sm->nverts, nt = sm->ntris;
    uint8_t *hit = malloc(nt ? nt : 1), *mark = calloc(nv ? nv : 1, 1);
    float *keep = malloc((nv ? nv : 1) * 3 * sizeof *keep);
    if (!hit || !mark || !keep) {
        free(hit);
        free(mark);
        free(keep);
        return SIZE_MAX;
    }
    memcpy(keep, sm->verts, nv * 3 * sizeof *keep);
    size_t back = 0, nx = 0;
    for (int round = 0; round <= UNSMOOTH_ROUNDS; round++) {
        if (!sb__mesh_self_intersections(sm, &nx, hit)) {
            back = SIZE_MAX;
            break;
        }
        if (!nx || round == UNSMOOTH_ROUNDS) break;
        for (size_t t = 0; t < nt; t++)
            if (hit[t])
                for (int c = 0; c < 3; c++) mark[sm->tris[3 * t + (size_t)c]] = 2;
        if (round >= 2) /* grow: the neighbours of this round's vertices */
            for (size_t t = 0; t < nt; t++) {
                const uint32_t *tv = sm->tris + 3 * t;
                if (mark[tv[0]] == 2 || mark[tv[1]] == 2 || mark[tv[2]] == 2)
                    for (int c = 0; c < 3; c++)
                        if (!mark[tv[c]]) mark[tv[c]] = 3;
            }
        for (size_t v = 0; v < nv; v++)
            if (mark[v] >= 2) {
                memcpy(sm->verts + 3 * v, raw->verts + 3 * v, 3 * sizeof *sm->verts);
                mark[v] = 1, back++;
            }
    }
    if (back == SIZE_MAX || nx) {
        memcpy(sm->verts, keep, nv * 3 * sizeof *keep);
        if (back != SIZE_MAX) back = 0;
    }
    free(hit);
    free(mark);
    free(keep);
    return back;
}

/* Steps 2-5 on raw (consumed). voxels_mm3 > 0: the label's voxel volume, which smoothing then
 * restores (scaled by the share of the raw surface's volume kept after step 2). */
static sb_status finish(sb_trimesh *raw, const sb_surface_opts *o, const sb_volume *v,
                        double voxels_mm3, const char *what, sb_trimesh **out,
                        sb_surface_info *info, sb_error *err) {
    sb_surface_info inf;
    memset(&inf, 0, sizeof inf);
    *out = NULL;
    const double raw_mm3 = voxels_mm3 > 0 && o->smooth_iters > 0 ? mesh_volume(raw) : 0;
    const double vox = v->spacing[0] * v->spacing[1] * v->spacing[2];
    double min_c = o->min_component_mm3 < 0 ? vox : o->min_component_mm3;
    double max_e =
        o->max_error_mm < 0 ? SB_SURFACE_DEFAULT_ERROR_VOX * min_spacing(v) : o->max_error_mm;
    inf.tris_extracted = raw->ntris;
    size_t rem = sb__mesh_drop_small(raw, min_c);
    if (rem == SIZE_MAX) {
        sb_trimesh_free(raw);
        return sb_error_set(err, SB_ERR_MEMORY, "%s: out of memory (components)", what);
    }
    inf.components_removed = rem;
    sb_ctx one = {1, NULL, NULL, NULL};
    sb_status s = SB_OK;
    sb_trimesh *sm = NULL, *fin = NULL;
    if (o->smooth_iters > 0) {
        sm = copy_mesh(raw);
        if (!sm) s = sb_error_set(err, SB_ERR_MEMORY, "%s: out of memory", what);
        double target = raw_mm3 > 0 ? voxels_mm3 * mesh_volume(raw) / raw_mm3 : 0;
        if (!s) s = sb__mesh_smooth_ex(sm, o->smooth_iters, target, &one, err);
    }
    size_t target = o->target_tris;
    if (o->keep_ratio > 0 && o->keep_ratio < 1) {
        size_t t = (size_t)(o->keep_ratio * (double)raw->ntris);
        if (!target || t < target) target = t;
    }
    int simplify = target > 0 || max_e > 0;
    size_t fin_crossings = SIZE_MAX;
    if (!s && simplify)
        s = simplify_clean(sm ? sm : raw, target, max_e, what, &fin, &fin_crossings, err);
    if (s) {
        sb_trimesh_free(raw);
        sb_trimesh_free(sm);
        sb_trimesh_free(fin);
        return s;
    }
    sb_trimesh *chain[3] = {fin, sm, raw};
    int chosen = -1;
    for (int k = 0; k < 3 && chosen < 0 && !s; k++) {
        if (!chain[k]) continue;
        s = sb__mesh_check_ex(chain[k], k == 0 ? fin_crossings : SIZE_MAX, &inf.report, err);
        if (!s && inf.report.ok) chosen = k;
    }
    if (!s && chosen == 2 && sm) {
        /* the smoothed surface crossed itself (thin sheets: the volume's restoring offset):
         * its vertices there go back to the raw surface, then it is simplified again */
        size_t back = unsmooth_crossings(sm, raw);
        sb_mesh_report r;
        if (back == SIZE_MAX) {
            s = sb_error_set(err, SB_ERR_MEMORY, "%s: out of memory (self-intersections)", what);
        } else if (back > 0 && !(s = sb__mesh_check_ex(sm, SIZE_MAX, &r, err)) && r.ok) {
            sb_trimesh *fin2 = NULL;
            size_t cross2 = SIZE_MAX;
            sb_mesh_report r2;
            if (simplify) s = simplify_clean(sm, target, max_e, what, &fin2, &cross2, err);
            if (!s && fin2 && !(s = sb__mesh_check_ex(fin2, cross2, &r2, err)) && r2.ok) {
                sb_trimesh_free(chain[0]);
                chain[0] = fin2;
                inf.report = r2;
                chosen = 0;
            } else {
                sb_trimesh_free(fin2);
                inf.report = r;
                chosen = 1;
            }
            inf.unsmoothed_vertices = back;
        }
    }
    if (!s && chosen < 0)
        s = sb_error_set(err, SB_ERR_INTERNAL,
                         "%s: even the raw surface fails the checks (%zu boundary, %zu "
                         "non-manifold edges, %zu self-intersections, volume %g mm3)",
                         what, inf.report.boundary_edges, inf.report.nonmanifold_edges,
                         inf.report.self_intersections, inf.report.volume_mm3);
    if (!s) {
        inf.fallback = chosen == 0   ? 0
                       : chosen == 1 ? (chain[0] || simplify ? 1 : 0)
                                     : (fin || sm ? 2 : 0);
        *out = chain[chosen];
        chain[chosen] = NULL;
    }
    for (int k = 0; k < 3; k++) sb_trimesh_free(chain[k]);
    if (info) *info = inf;
    return s;
}

typedef struct order {
    size_t tris, idx;
} order;

static int by_size(const void *a, const void *b) {
    const order *x = a, *y = b;
    if (x->tris != y->tris) return x->tris < y->tris ? 1 : -1;
    return x->idx < y->idx ? -1 : 1;
}

/* Bounding boxes of every selected label (for the Gaussian path). */
static sb_status label_boxes(const sb_volume *v, const int *ids, size_t n, long long (*lo)[3],
                             long long (*hi)[3], sb_error *err) {
    uint32_t *slot = malloc(65536 * sizeof *slot);
    if (!slot) return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    for (size_t i = 0; i < 65536; i++) slot[i] = UINT32_MAX;
    for (size_t i = 0; i < n; i++) {
        slot[ids[i]] = (uint32_t)i;
        for (int a = 0; a < 3; a++) lo[i][a] = LLONG_MAX, hi[i][a] = -1;
    }
    size_t idx = 0;
    for (size_t k = 0; k < v->dim[2]; k++)
        for (size_t j = 0; j < v->dim[1]; j++)
            for (size_t i = 0; i < v->dim[0]; i++, idx++) {
                double x = sb_volume_get(v, idx);
                if (!(x >= 1 && x <= 65535) || x != (double)(long)x) continue;
                uint32_t s = slot[(size_t)x];
                if (s == UINT32_MAX) continue;
                long long p[3] = {(long long)i, (long long)j, (long long)k};
                for (int a = 0; a < 3; a++) {
                    if (p[a] < lo[s][a]) lo[s][a] = p[a];
                    if (p[a] > hi[s][a]) hi[s][a] = p[a];
                }
            }
    free(slot);
    return SB_OK;
}

/* Voxels of each ids[i] (planes in parallel, per-thread tallies). 0 if out of memory. */
static int voxel_counts(const sb_volume *v, const int *ids, size_t n, const sb_ctx *ctx,
                        size_t *counts) {
    uint32_t *slot = malloc(65536 * sizeof *slot);
    if (!slot) return 0;
    for (size_t i = 0; i < 65536; i++) slot[i] = UINT32_MAX;
    for (size_t i = 0; i < n; i++) slot[ids[i]] = (uint32_t)i, counts[i] = 0;
    const size_t plane = v->dim[0] * v->dim[1];
    int fail = 0;
#pragma omp parallel num_threads(sb_ctx_threads(ctx))
    {
        size_t *c = calloc(n ? n : 1, sizeof *c);
        if (!c) {
#pragma omp atomic write
            fail = 1;
        }
#pragma omp for schedule(dynamic, 4)
        for (size_t k = 0; k < v->dim[2]; k++) {
            if (!c) continue;
            const size_t i0 = k * plane;
            if (v->dtype == SB_DT_UINT16) {
                const uint16_t *d = (const uint16_t *)v->data + i0;
                for (size_t i = 0; i < plane; i++) {
                    uint32_t sl = slot[d[i]];
                    if (sl != UINT32_MAX) c[sl]++;
                }
            } else {
                for (size_t i = 0; i < plane; i++) {
                    double x = sb_volume_get(v, i0 + i);
                    if (!(x >= 1 && x <= 65535) || x != (double)(long)x) continue;
                    uint32_t sl = slot[(size_t)x];
                    if (sl != UINT32_MAX) c[sl]++;
                }
            }
        }
#pragma omp critical(sb_surfaces_counts)
        for (size_t i = 0; c && i < n; i++) counts[i] += c[i];
        free(c);
    }
    free(slot);
    return !fail;
}

sb_status sb_mesh_surfaces(const sb_volume *labels, const int *ids, size_t n,
                           const sb_surface_opts *opts, const sb_ctx *ctx, sb_trimesh **out,
                           sb_surface_info *info, sb_error *err) {
    sb_surface_opts dflt;
    if (!opts) {
        sb_surface_opts_default(&dflt);
        opts = &dflt;
    }
    if (!out) return sb_error_set(err, SB_ERR_USAGE, "sb_mesh_surfaces: out is NULL");
    for (size_t i = 0; i < n; i++) out[i] = NULL;
    if (info) memset(info, 0, n * sizeof *info);
    sb_trimesh **raw = calloc(n ? n : 1, sizeof *raw);
    order *ord = malloc((n ? n : 1) * sizeof *ord);
    sb_status *st = calloc(n ? n : 1, sizeof *st);
    sb_error *errs = calloc(n ? n : 1, sizeof *errs);
    size_t *counts = calloc(n ? n : 1, sizeof *counts);
    long long(*lo)[3] = NULL, (*hi)[3] = NULL;
    sb_status s = SB_OK;
    if (!raw || !ord || !st || !errs || !counts)
        s = sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    if (!s) s = sb_mesh_mc_labels(labels, ids, n, ctx, raw, err);
    /* the voxel volume smoothing restores: |det| of the affine's 3x3 part per voxel */
    const double *A0 = labels ? labels->affine[0] : NULL, *A1 = labels ? labels->affine[1] : NULL,
                 *A2 = labels ? labels->affine[2] : NULL;
    const double vox_mm3 = labels ? fabs(A0[0] * (A1[1] * A2[2] - A1[2] * A2[1]) -
                                         A0[1] * (A1[0] * A2[2] - A1[2] * A2[0]) +
                                         A0[2] * (A1[0] * A2[1] - A1[1] * A2[0]))
                                  : 0;
    if (!s && opts->smooth_iters > 0 && !voxel_counts(labels, ids, n, ctx, counts))
        s = sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    if (!s && opts->gauss_sigma_mm > 0) {
        lo = malloc((n ? n : 1) * sizeof *lo);
        hi = malloc((n ? n : 1) * sizeof *hi);
        if (!lo || !hi) s = sb_error_set(err, SB_ERR_MEMORY, "out of memory");
        if (!s) s = label_boxes(labels, ids, n, lo, hi, err);
    }
    if (!s) {
        for (size_t i = 0; i < n; i++) ord[i] = (order){raw[i] ? raw[i]->ntris : 0, i};
        qsort(ord, n, sizeof *ord, by_size);
#pragma omp parallel for schedule(dynamic, 1) num_threads(sb_ctx_threads(ctx))
        for (size_t k = 0; k < n; k++) {
            size_t i = ord[k].idx;
            if (!raw[i]) continue;
            char what[64];
            snprintf(what, sizeof what, "label %d", ids[i]);
            sb_trimesh *src = raw[i];
            raw[i] = NULL;
            if (lo) {
                sb_trimesh *g = NULL;
                st[i] =
                    gauss_surface(labels, ids[i], lo[i], hi[i], opts->gauss_sigma_mm, &g, &errs[i]);
                if (!st[i] && g) {
                    sb_trimesh_free(src);
                    src = g;
                }
            }
            if (!st[i])
                st[i] = finish(src, opts, labels, (double)counts[i] * vox_mm3, what, &out[i],
                               info ? &info[i] : NULL, &errs[i]);
            else
                sb_trimesh_free(src);
        }
        for (size_t i = 0; i < n && !s; i++)
            if (st[i]) {
                s = st[i];
                if (err) *err = errs[i];
            }
    }
    if (s)
        for (size_t i = 0; i < n; i++) {
            sb_trimesh_free(out[i]);
            out[i] = NULL;
        }
    for (size_t i = 0; raw && i < n; i++) sb_trimesh_free(raw[i]);
    free(raw);
    free(ord);
    free(st);
    free(errs);
    free(counts);
    free(lo);
    free(hi);
    return s;
}

sb_status sb_mesh_surface_iso(const sb_volume *v, double iso, const sb_surface_opts *opts,
                              const sb_ctx *ctx, sb_trimesh **out, sb_surface_info *info,
                              sb_error *err) {
    sb_surface_opts dflt;
    if (!opts) {
        sb_surface_opts_default(&dflt);
        opts = &dflt;
    }
    if (!out) return sb_error_set(err, SB_ERR_USAGE, "sb_mesh_surface_iso: out is NULL");
    *out = NULL;
    sb_trimesh *raw = NULL;
    sb_status s = sb_mesh_mc_iso(v, iso, ctx, &raw, err);
    if (s) return s;
    char what[64];
    snprintf(what, sizeof what, "iso-surface %g", iso);
    return finish(raw, opts, v, 0, what, out, info, err);
}

/* Otsu's threshold (N. Otsu, "A threshold selection method from gray-level histograms", IEEE
 * SMC 9(1), 1979) on a 1024-bin histogram of the finite voxel values. */
sb_status sb_mesh_otsu(const sb_volume *v, double *threshold, sb_error *err) {
    if (!v || !threshold) return sb_error_set(err, SB_ERR_USAGE, "sb_mesh_otsu: NULL argument");
    const size_t n = sb_volume_nvox(v);
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        double x = sb_volume_get(v, i);
        if (!isfinite(x)) continue;
        if (x < lo) lo = x;
        if (x > hi) hi = x;
    }
    if (!(hi > lo))
        return sb_error_set(err, SB_ERR_INPUT, "--iso auto: the image is constant (%g)", lo);
    enum { NB = 1024 };
    double *h = calloc(NB, sizeof *h);
    if (!h) return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    const double scale = (NB - 1) / (hi - lo);
    for (size_t i = 0; i < n; i++) {
        double x = sb_volume_get(v, i);
        if (isfinite(x)) h[(size_t)((x - lo) * scale)] += 1;
    }
    double total = 0, sum = 0;
    for (int b = 0; b < NB; b++) total += h[b], sum += b * h[b];
    double w0 = 0, s0 = 0, best = -1;
    int bt = 0;
    for (int b = 0; b < NB - 1; b++) {
        w0 += h[b];
        s0 += b * h[b];
        double w1 = total - w0;
        if (w0 <= 0 || w1 <= 0) continue;
        double m0 = s0 / w0, m1 = (sum - s0) / w1;
        double between = w0 * w1 * (m0 - m1) * (m0 - m1);
        if (between > best) best = between, bt = b;
    }
    free(h);
    *threshold = lo + (bt + 1) / scale; /* values in bins > bt are "above" */
    return SB_OK;
}
