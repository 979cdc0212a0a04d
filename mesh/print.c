/* print.c — print preparation on meshes: fit to a build volume, wall-thickness rays, a stand,
 * and a triangle budget per file.
 *
 * References
 *   Wall thickness along inward normals: the "shape diameter" of L. Shapira, A. Shamir,
 *     D. Cohen-Or: "Consistent mesh partitioning and skeletonisation using the shape diameter
 *     function", The Visual Computer 24, 2008 — here one ray per vertex (not a cone) and a
 *     median over the vertex's 1-ring instead of their outlier filter.
 *   Budget: the topology-preserving quadric simplifier (mesh/simplify.c) with the crossing
 *     repair of mesh/surfaces.c, so a budget never opens a mesh or makes it cross itself.
 *
 * Fit: uniform scale and translation only (no rotation: a standing body stays standing).
 * Stand: one closed mesh — a plate whose top face is triangulated around the foot of a 32-sided
 * post (angular merge of the plate's corners and the post's ring, both star-shaped about the
 * post's axis), the post's wall and a fan cap.
 */
#include "sb_mesh.h"

#include "mesh_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PI 3.14159265358979323846

int sb_mesh_bbox(const sb_trimesh *const *m, size_t n, double lo[3], double hi[3]) {
    int any = 0;
    for (int a = 0; a < 3; a++) lo[a] = INFINITY, hi[a] = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (!m[i]) continue;
        /* only vertices used by a triangle */
        for (size_t t = 0; t < 3 * m[i]->ntris; t++) {
            const float *p = m[i]->verts + 3 * (size_t)m[i]->tris[t];
            for (int a = 0; a < 3; a++) {
                if (p[a] < lo[a]) lo[a] = p[a];
                if (p[a] > hi[a]) hi[a] = p[a];
            }
            any = 1;
        }
    }
    return any;
}

sb_status sb_mesh_fit(const sb_trimesh *const *m, size_t n, const double box[3], double margin_xy,
                      double base_mm, double *scale, double t[3], sb_error *err) {
    double lo[3], hi[3];
    if (!box || !scale || !t) return sb_error_set(err, SB_ERR_USAGE, "sb_mesh_fit: NULL");
    for (int a = 0; a < 3; a++)
        if (!(box[a] > 0) || !isfinite(box[a]))
            return sb_error_set(err, SB_ERR_USAGE,
                                "--fit-mm: build volume %g,%g,%g mm: every "
                                "size must be positive",
                                box[0], box[1], box[2]);
    double room[3] = {box[0] - 2 * margin_xy, box[1] - 2 * margin_xy, box[2] - base_mm};
    for (int a = 0; a < 3; a++)
        if (!(room[a] > 0))
            return sb_error_set(err, SB_ERR_USAGE,
                                "--fit-mm: build volume %g,%g,%g mm leaves no room for the model "
                                "(stand margin %g mm, plate %g mm)",
                                box[0], box[1], box[2], margin_xy, base_mm);
    if (!sb_mesh_bbox(m, n, lo, hi))
        return sb_error_set(err, SB_ERR_INPUT, "--fit-mm: nothing to fit (no triangles)");
    double s = INFINITY;
    for (int a = 0; a < 3; a++) {
        double ext = hi[a] - lo[a];
        if (ext > 0 && room[a] / ext < s) s = room[a] / ext;
    }
    if (!isfinite(s)) return sb_error_set(err, SB_ERR_INPUT, "--fit-mm: the model has no extent");
    s *= 1 - 1e-6;
    *scale = s;
    t[0] = box[0] / 2 - s * (lo[0] + hi[0]) / 2;
    t[1] = box[1] / 2 - s * (lo[1] + hi[1]) / 2;
    t[2] = base_mm - s * lo[2];
    return SB_OK;
}

void sb_mesh_transform(sb_trimesh *m, double scale, const double t[3]) {
    if (!m) return;
    for (size_t v = 0; v < m->nverts; v++)
        for (int a = 0; a < 3; a++)
            m->verts[3 * v + (size_t)a] = (float)(scale * m->verts[3 * v + (size_t)a] + t[a]);
}

/* ---- wall thickness ----------------------------------------------------------------------- */
static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

sb_status sb_mesh_thickness(const sb_trimesh *m, double limit_mm, double max_mm, const sb_ctx *ctx,
                            double *thinnest_mm, double *thin_area_mm2, sb_error *err) {
    if (!m || !thinnest_mm) return sb_error_set(err, SB_ERR_USAGE, "sb_mesh_thickness: NULL");
    *thinnest_mm = max_mm;
    if (thin_area_mm2) *thin_area_mm2 = 0;
    const size_t nv = m->nverts, nt = m->ntris;
    if (!nt) return SB_OK;
    double *nrm = calloc(3 * nv, sizeof *nrm), *area = calloc(nv, sizeof *area);
    double *th = malloc(nv * sizeof *th), *loc = malloc(nv * sizeof *loc);
    size_t *off = calloc(nv + 1, sizeof *off);
    uint32_t *nb = malloc(6 * nt * sizeof *nb);
    sb__trigrid grid;
    memset(&grid, 0, sizeof grid);
    sb_status s = SB_OK;
    double edge = 0;
    if (!nrm || !area || !th || !loc || !off || !nb) {
        s = sb_error_set(err, SB_ERR_MEMORY, "wall thickness: out of memory");
        goto done;
    }
    for (size_t t = 0; t < nt; t++) {
        const uint32_t *tv = m->tris + 3 * t;
        double p[3][3];
        for (int c = 0; c < 3; c++)
            for (int a = 0; a < 3; a++) p[c][a] = m->verts[3 * (size_t)tv[c] + (size_t)a];
        double e1[3], e2[3], n[3];
        for (int a = 0; a < 3; a++) e1[a] = p[1][a] - p[0][a], e2[a] = p[2][a] - p[0][a];
        n[0] = e1[1] * e2[2] - e1[2] * e2[1];
        n[1] = e1[2] * e2[0] - e1[0] * e2[2];
        n[2] = e1[0] * e2[1] - e1[1] * e2[0];
        double ar = 0.5 * sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
        edge += sqrt(e1[0] * e1[0] + e1[1] * e1[1] + e1[2] * e1[2]);
        for (int c = 0; c < 3; c++) {
            for (int a = 0; a < 3; a++) nrm[3 * tv[c] + (size_t)a] += n[a];
            area[tv[c]] += ar / 3;
            off[tv[c] + 1] += 2;
        }
    }
    for (size_t v = 0; v < nv; v++) off[v + 1] += off[v];
    {
        size_t *fill = malloc(nv * sizeof *fill);
        if (!fill) {
            s = sb_error_set(err, SB_ERR_MEMORY, "wall thickness: out of memory");
            goto done;
        }
        memcpy(fill, off, nv * sizeof *fill);
        for (size_t t = 0; t < nt; t++) {
            const uint32_t *tv = m->tris + 3 * t;
            for (int c = 0; c < 3; c++) {
                nb[fill[tv[c]]++] = tv[(c + 1) % 3];
                nb[fill[tv[c]]++] = tv[(c + 2) % 3];
            }
        }
        free(fill);
    }
    edge /= (double)nt;
    double cell = max_mm / 2;
    if (cell < 2 * edge) cell = 2 * edge;
    if (!sb__trigrid_build(&grid, m, NULL, cell)) {
        s = sb_error_set(err, SB_ERR_MEMORY, "wall thickness: out of memory (grid)");
        goto done;
    }
    const double tmin = 1e-4 * edge;
#pragma omp parallel for schedule(dynamic, 256) num_threads(sb_ctx_threads(ctx))
    for (size_t v = 0; v < nv; v++) {
        double *n = nrm + 3 * v;
        double len = sqrt(n[0] * n[0] + n[1] * n[1] + n[2] * n[2]);
        th[v] = max_mm;
        if (!(len > 0)) continue;
        double d[3] = {-n[0] / len, -n[1] / len, -n[2] / len};
        double o[3] = {m->verts[3 * v], m->verts[3 * v + 1], m->verts[3 * v + 2]};
        double h = sb__trigrid_ray(&grid, o, d, tmin, max_mm, (uint32_t)v);
        if (h < th[v]) th[v] = h;
    }
    /* median over the vertex and its neighbours (neighbours appear twice in nb: once each) */
    double best = max_mm, thin = 0;
    {
        double *buf = malloc((nv ? nv : 1) * sizeof *buf);
        uint8_t *seen = calloc(nv ? nv : 1, 1);
        if (!buf || !seen) {
            free(buf);
            free(seen);
            s = sb_error_set(err, SB_ERR_MEMORY, "wall thickness: out of memory");
            goto done;
        }
        for (size_t v = 0; v < nv; v++) {
            if (off[v + 1] == off[v]) {
                loc[v] = max_mm;
                continue;
            }
            size_t k = 0;
            buf[k++] = th[v];
            for (size_t e = off[v]; e < off[v + 1]; e++) {
                uint32_t u = nb[e];
                if (seen[u]) continue;
                seen[u] = 1;
                buf[k++] = th[u];
            }
            for (size_t e = off[v]; e < off[v + 1]; e++) seen[nb[e]] = 0;
            qsort(buf, k, sizeof *buf, cmp_double);
            loc[v] = k % 2 ? buf[k / 2] : 0.5 * (buf[k / 2 - 1] + buf[k / 2]);
            if (loc[v] < best) best = loc[v];
            if (loc[v] < limit_mm) thin += area[v];
        }
        free(buf);
        free(seen);
    }
    *thinnest_mm = best;
    if (thin_area_mm2) *thin_area_mm2 = thin;
done:
    sb__trigrid_free(&grid);
    free(nrm);
    free(area);
    free(th);
    free(loc);
    free(off);
    free(nb);
    return s;
}

/* ---- stand -------------------------------------------------------------------------------- */
void sb_stand_opts_default(sb_stand_opts *o) {
    o->plate_mm = 3;
    o->margin_mm = 5;
    o->post_mm = 6;
    o->embed_mm = 1;
}

/* Lowest z above zmin where the vertical line through (x, y) meets a triangle; INFINITY. */
static double first_hit_up(const sb_trimesh *const *m, size_t n, double x, double y, double zmin) {
    double best = INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (!m[i]) continue;
        for (size_t t = 0; t < m[i]->ntris; t++) {
            const uint32_t *tv = m[i]->tris + 3 * t;
            const float *a = m[i]->verts + 3 * (size_t)tv[0], *b = m[i]->verts + 3 * (size_t)tv[1],
                        *c = m[i]->verts + 3 * (size_t)tv[2];
            double d = (b[0] - a[0]) * (c[1] - a[1]) - (c[0] - a[0]) * (b[1] - a[1]);
            if (fabs(d) < 1e-18) continue;
            double u = ((x - a[0]) * (c[1] - a[1]) - (c[0] - a[0]) * (y - a[1])) / d;
            double v = ((b[0] - a[0]) * (y - a[1]) - (x - a[0]) * (b[1] - a[1])) / d;
            if (u < 0 || v < 0 || u + v > 1) continue;
            double z = a[2] + u * (b[2] - a[2]) + v * (c[2] - a[2]);
            if (z > zmin && z < best) best = z;
        }
    }
    return best;
}

typedef struct column {
    double d2, x, y;
} column;

static int by_d2(const void *a, const void *b) {
    const column *p = a, *q = b;
    if (p->d2 != q->d2) return p->d2 < q->d2 ? -1 : 1;
    if (p->x != q->x) return p->x < q->x ? -1 : 1;
    return p->y < q->y ? -1 : p->y > q->y;
}

#define POST_SIDES 32

sb_status sb_mesh_stand(const sb_trimesh *const *m, size_t n, const sb_stand_opts *o,
                        sb_trimesh **out, double *post_top_z, sb_error *err) {
    sb_stand_opts dflt;
    if (!o) {
        sb_stand_opts_default(&dflt);
        o = &dflt;
    }
    if (!out) return sb_error_set(err, SB_ERR_USAGE, "sb_mesh_stand: out is NULL");
    *out = NULL;
    if (post_top_z) *post_top_z = 0;
    if (!(o->plate_mm > 0) || !(o->margin_mm >= 0) || !(o->post_mm >= 0))
        return sb_error_set(err, SB_ERR_USAGE, "stand: plate %g mm, margin %g mm, post %g mm",
                            o->plate_mm, o->margin_mm, o->post_mm);
    double lo[3], hi[3];
    if (!sb_mesh_bbox(m, n, lo, hi))
        return sb_error_set(err, SB_ERR_INPUT, "stand: no triangles to stand on");
    const double x0 = lo[0] - o->margin_mm, x1 = hi[0] + o->margin_mm;
    const double y0 = lo[1] - o->margin_mm, y1 = hi[1] + o->margin_mm;
    const double P = o->plate_mm, H = hi[2] - lo[2];
    /* the post's column */
    int post = 0;
    double px = 0, py = 0, ptop = 0;
    if (o->post_mm > 0 && H > 0) {
        double cx = 0, cy = 0, aw = 0;
        for (size_t i = 0; i < n; i++) {
            if (!m[i]) continue;
            for (size_t t = 0; t < m[i]->ntris; t++) {
                const float *p[3];
                for (int c = 0; c < 3; c++)
                    p[c] = m[i]->verts + 3 * (size_t)m[i]->tris[3 * t + (size_t)c];
                double e1[3], e2[3];
                for (int a = 0; a < 3; a++) e1[a] = p[1][a] - p[0][a], e2[a] = p[2][a] - p[0][a];
                double nx = e1[1] * e2[2] - e1[2] * e2[1], ny = e1[2] * e2[0] - e1[0] * e2[2],
                       nz = e1[0] * e2[1] - e1[1] * e2[0];
                double ar = sqrt(nx * nx + ny * ny + nz * nz);
                cx += ar * (p[0][0] + p[1][0] + p[2][0]) / 3;
                cy += ar * (p[0][1] + p[1][1] + p[2][1]) / 3;
                aw += ar;
            }
        }
        cx /= aw, cy /= aw;
        const double r = o->post_mm / 2, step = o->post_mm / 2;
        const double reach = 0.15 * H;
        const int K = (int)ceil(reach / step);
        column *cols = malloc((size_t)(2 * K + 1) * (size_t)(2 * K + 1) * sizeof *cols);
        if (!cols) return sb_error_set(err, SB_ERR_MEMORY, "stand: out of memory");
        size_t nc = 0;
        for (int a = -K; a <= K; a++)
            for (int b = -K; b <= K; b++) {
                double x = cx + a * step, y = cy + b * step;
                if (x - r < x0 || x + r > x1 || y - r < y0 || y + r > y1) continue;
                cols[nc++] = (column){(x - cx) * (x - cx) + (y - cy) * (y - cy), x, y};
            }
        qsort(cols, nc, sizeof *cols, by_d2);
        double any_x = 0, any_y = 0, any_z = INFINITY;
        for (size_t q = 0; q < nc && !post; q++) {
            /* the axis's first hit, and the lowest of it and four lines on the post's rim: the
             * post must end under the surface its axis meets, that surface nearly flat across
             * the post (the rim's hits at most half a diameter lower), so the post carries it
             * over its whole top and enters no other part by more than that */
            const double dx[5] = {0, r, -r, 0, 0}, dy[5] = {0, 0, 0, r, -r};
            double zc = INFINITY, z = INFINITY;
            for (int l = 0; l < 5; l++) {
                double h = first_hit_up(m, n, cols[q].x + dx[l], cols[q].y + dy[l], lo[2] - 1);
                if (l == 0) zc = h;
                if (h < z) z = h;
            }
            if (!isfinite(zc)) continue;
            if (!isfinite(any_z)) any_x = cols[q].x, any_y = cols[q].y, any_z = z;
            if (zc >= lo[2] + 0.25 * H && zc <= lo[2] + 0.75 * H && z >= zc - r)
                post = 1, px = cols[q].x, py = cols[q].y, ptop = zc;
        }
        free(cols);
        if (!post && isfinite(any_z) && any_z > P + 1e-9)
            post = 1, px = any_x, py = any_y, ptop = any_z;
        if (post) ptop += o->embed_mm;
    }
    /* the mesh */
    sb_trimesh *s = calloc(1, sizeof *s);
    const size_t nv = 8 + (post ? 2 * POST_SIDES + 1 : 0);
    const size_t nt = 10 + (post ? 4 + POST_SIDES + 2 * POST_SIDES + POST_SIDES : 2);
    if (s) {
        s->verts = malloc(3 * nv * sizeof(float));
        s->tris = malloc(3 * nt * sizeof(uint32_t));
    }
    if (!s || !s->verts || !s->tris) {
        sb_trimesh_free(s);
        return sb_error_set(err, SB_ERR_MEMORY, "stand: out of memory");
    }
    const double cx[4] = {x0, x1, x1, x0}, cy[4] = {y0, y0, y1, y1};
    size_t v = 0, t = 0;
#define VERT(X, Y, Z)                                                                              \
    (s->verts[3 * v] = (float)(X), s->verts[3 * v + 1] = (float)(Y),                               \
     s->verts[3 * v + 2] = (float)(Z), v++)
#define TRI(A, B, C)                                                                               \
    (s->tris[3 * t] = (uint32_t)(A), s->tris[3 * t + 1] = (uint32_t)(B),                           \
     s->tris[3 * t + 2] = (uint32_t)(C), t++)
    for (int c = 0; c < 4; c++) VERT(cx[c], cy[c], 0);
    for (int c = 0; c < 4; c++) VERT(cx[c], cy[c], P);
    TRI(0, 2, 1);
    TRI(0, 3, 2);
    for (int c = 0; c < 4; c++) {
        int d = (c + 1) % 4;
        TRI(c, d, 4 + d);
        TRI(c, 4 + d, 4 + c);
    }
    if (!post) {
        TRI(4, 5, 6);
        TRI(4, 6, 7);
    } else {
        const double r = o->post_mm / 2;
        double a0 = atan2(cy[0] - py, cx[0] - px);
        double alpha[5]; /* the corners' angles about the post, unwrapped, increasing */
        alpha[0] = a0;
        for (int c = 1; c < 4; c++) {
            double a = atan2(cy[c] - py, cx[c] - px);
            while (a <= alpha[c - 1]) a += 2 * PI;
            alpha[c] = a;
        }
        alpha[4] = a0 + 2 * PI;
        const size_t ring = 8, top = 8 + POST_SIDES, centre = 8 + 2 * POST_SIDES;
        for (int k = 0; k < POST_SIDES; k++) {
            double a = a0 + 2 * PI * k / POST_SIDES;
            VERT(px + r * cos(a), py + r * sin(a), P);
        }
        for (int k = 0; k < POST_SIDES; k++) {
            double a = a0 + 2 * PI * k / POST_SIDES;
            VERT(px + r * cos(a), py + r * sin(a), ptop);
        }
        VERT(px, py, ptop);
        /* plate top: merge the corners (4 + j) and the ring by angle */
        int j = 0, k = 0;
        while (j < 4 || k < POST_SIDES) {
            double bk = a0 + 2 * PI * (k + 1) / POST_SIDES;
            if (k < POST_SIDES && (j == 4 || bk <= alpha[j + 1])) {
                TRI(4 + j % 4, ring + (size_t)((k + 1) % POST_SIDES), ring + (size_t)k);
                k++;
            } else {
                TRI(4 + j % 4, 4 + (j + 1) % 4, ring + (size_t)(k % POST_SIDES));
                j++;
            }
        }
        for (int q = 0; q < POST_SIDES; q++) {
            size_t a = ring + (size_t)q, b = ring + (size_t)((q + 1) % POST_SIDES);
            size_t ua = top + (size_t)q, ub = top + (size_t)((q + 1) % POST_SIDES);
            TRI(a, b, ub);
            TRI(a, ub, ua);
            TRI(centre, ua, ub);
        }
    }
#undef VERT
#undef TRI
    s->nverts = v;
    s->ntris = t;
    if (post_top_z) *post_top_z = post ? ptop : 0;
    *out = s;
    return SB_OK;
}

/* ---- triangle budget ------------------------------------------------------------------------ */
sb_status sb_mesh_budget(sb_trimesh **m, size_t n, size_t max_tris, size_t *tris_after,
                         sb_error *err) {
    size_t total = 0;
    for (size_t i = 0; i < n; i++) total += m[i] ? m[i]->ntris : 0;
    if (tris_after) *tris_after = total;
    if (!max_tris || total <= max_tris) return SB_OK;
    uint8_t *stuck = calloc(n ? n : 1, 1);
    size_t *target = calloc(n ? n : 1, sizeof *target);
    sb_status *st = calloc(n ? n : 1, sizeof *st);
    sb_error *errs = calloc(n ? n : 1, sizeof *errs);
    sb_status s = SB_OK;
    if (!stuck || !target || !st || !errs)
        s = sb_error_set(err, SB_ERR_MEMORY, "budget: out of memory");
    for (int round = 0; round < 4 && !s; round++) {
        total = 0;
        size_t red = 0;
        for (size_t i = 0; i < n; i++) {
            if (!m[i]) continue;
            total += m[i]->ntris;
            if (!stuck[i]) red += m[i]->ntris;
        }
        if (total <= max_tris || !red) break;
        const double excess = (double)(total - max_tris);
        for (size_t i = 0; i < n; i++) {
            target[i] = 0;
            if (!m[i] || stuck[i]) continue;
            double cut = ceil(excess * (double)m[i]->ntris / (double)red);
            target[i] = cut >= (double)m[i]->ntris - 4 ? 4 : m[i]->ntris - (size_t)cut;
        }
#pragma omp parallel for schedule(dynamic, 1)
        for (size_t i = 0; i < n; i++) {
            if (!target[i]) continue;
            char what[64];
            snprintf(what, sizeof what, "mesh %zu of the file", i + 1);
            sb_trimesh *fin = NULL;
            size_t cross = 0;
            st[i] = sb__mesh_simplify_clean(m[i], target[i], 0, what, &fin, &cross, &errs[i]);
            if (st[i]) continue;
            sb_mesh_report rep;
            sb_error e2;
            int good =
                !sb__mesh_check_ex(fin, cross, &rep, &e2) && rep.ok && fin->ntris < m[i]->ntris;
            if (good) {
                if (fin->ntris > target[i]) stuck[i] = 1;
                sb_trimesh_free(m[i]);
                m[i] = fin;
            } else {
                stuck[i] = 1;
                sb_trimesh_free(fin);
            }
        }
        for (size_t i = 0; i < n && !s; i++)
            if (st[i]) {
                s = st[i];
                if (err) *err = errs[i];
            }
    }
    total = 0;
    for (size_t i = 0; i < n; i++) total += m[i] ? m[i]->ntris : 0;
    if (tris_after) *tris_after = total;
    free(stuck);
    free(target);
    free(st);
    free(errs);
    return s;
}
