/* print_prep.c — print preparation of `synthbody export` (README "Print preparation"): hollow
 * shells, fit to a build volume, a stand, the wall-thickness warning and the per-file triangle
 * and size budgets, on the meshes of the selection before they are written.
 *
 * Order (each step uses the previous one's result):
 *   1. fit scale s0 of the selection (the stand's plate and margin reserved) — needed first
 *      because --hollow-mm and --drain-mm are printed millimetres: T / s0 in the label map;
 *   2. hollow the --hollow structures (default: the skin if selected, else every selected
 *      structure) on the label map (sb_mesh_hollow), replacing their meshes;
 *   3. fit again (the hollow shell's outer surface is smoothed on its own) and transform;
 *      without --fit-mm but with --stand, only lifted so the lowest point is on the plate;
 *   4. the stand (sb_mesh_stand) under the whole selection;
 *   5. the wall-thickness check at the printed scale (sb_mesh_thickness): a warning naming the
 *      structures thinner than --min-wall-mm (default 0.8 mm) with their thinnest value;
 *   6. the triangle budget (sb_mesh_budget) over all meshes: every file of the export holds at
 *      most all of them, so the budget of the merged files bounds every file; --max-mb-file
 *      measures the real files' bytes per triangle (a callback writes them to a scratch place)
 *      and budgets again until the largest file fits (at most 4 rounds).
 */
#include "sb_pipeline.h"

#include "internal.h"
#include "print_prep.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int print_prep_requested(const sb_export_opts *o) {
    return o->fit_mm[0] > 0 || o->hollow_mm > 0 || o->min_wall_mm > 0 || o->base ||
           o->max_tris_per_file || o->max_mb_per_file > 0;
}

static size_t total_tris(const print_mesh *pm, size_t n, const sb_trimesh *stand) {
    size_t t = stand ? stand->ntris : 0;
    for (size_t i = 0; i < n; i++) t += pm[i].mesh ? pm[i].mesh->ntris : 0;
    return t;
}

static sb_status fit(const print_mesh *pm, size_t n, const sb_export_opts *o,
                     const sb_stand_opts *so, double *s, double t[3], sb_error *err) {
    const sb_trimesh **m = malloc((n ? n : 1) * sizeof *m);
    if (!m) return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    for (size_t i = 0; i < n; i++) m[i] = pm[i].mesh;
    sb_status st;
    if (o->fit_mm[0] > 0) {
        st = sb_mesh_fit((const sb_trimesh *const *)m, n, o->fit_mm, o->base ? so->margin_mm : 0,
                         o->base ? so->plate_mm : 0, s, t, err);
    } else {
        double lo[3], hi[3];
        *s = 1;
        t[0] = t[1] = t[2] = 0;
        st = SB_OK;
        if (o->base && sb_mesh_bbox((const sb_trimesh *const *)m, n, lo, hi))
            t[2] = so->plate_mm - lo[2];
    }
    free(m);
    return st;
}

/* Which meshes to hollow: --hollow (ids, names, groups, aliases among the selected), else the
 * skin group if selected, else all. */
static sb_status hollow_set(const print_mesh *pm, size_t n, const sb_export_opts *o,
                            const sb_label_table *names, const char *input, unsigned char *h,
                            sb_error *err) {
    memset(h, 0, n);
    if (o->hollow_select) {
        size_t *counts = calloc(65536, sizeof *counts);
        unsigned char *sel = calloc(65536, 1);
        sb_status s = counts && sel ? SB_OK : sb_error_set(err, SB_ERR_MEMORY, "out of memory");
        for (size_t i = 0; !s && i < n; i++) counts[pm[i].id] = 1;
        if (!s)
            s = select_labels(o->hollow_select, NULL, "--hollow", counts, names, input, sel, err);
        for (size_t i = 0; !s && i < n; i++) h[i] = sel[pm[i].id];
        free(counts);
        free(sel);
        return s;
    }
    int skin = 0;
    for (size_t i = 0; i < n; i++)
        if (pm[i].group && !strcmp(pm[i].group, "skin")) h[i] = 1, skin = 1;
    if (!skin) memset(h, 1, n);
    return SB_OK;
}

sb_status print_prepare(const sb_volume *labels, print_mesh *pm, size_t n, const sb_export_opts *o,
                        const sb_surface_opts *surf, const sb_label_table *names, const char *input,
                        print_measure_fn measure, void *user, const sb_ctx *ctx, print_result *res,
                        sb_error *err) {
    memset(res, 0, sizeof *res);
    res->scale = 1;
    res->n = n;
    for (size_t i = 0; i < n; i++) pm[i].thinnest_mm = -1;
    if (!print_prep_requested(o)) return SB_OK;
    sb_stand_opts so;
    sb_stand_opts_default(&so);
    sb_status s = SB_OK;
    double sc = 1, t[3] = {0, 0, 0};
    res->tris_before = total_tris(pm, n, NULL);
    /* 1-2. hollow, with the walls in printed millimetres */
    if (o->hollow_mm > 0) {
        if ((s = fit(pm, n, o, &so, &sc, t, err))) return s;
        unsigned char *h = malloc(n ? n : 1);
        if (!h) return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
        s = hollow_set(pm, n, o, names, input, h, err);
        for (size_t i = 0; !s && i < n; i++) {
            if (!h[i]) continue;
            sb_hollow_opts ho;
            memset(&ho, 0, sizeof ho);
            ho.wall_mm = o->hollow_mm / sc;
            ho.drain_mm = o->drain_mm / sc;
            ho.surf = *surf;
            sb_trimesh *m = NULL;
            sb_hollow_info hi;
            s = sb_mesh_hollow(labels, pm[i].id, &ho, ctx, &m, &hi, err);
            if (s == SB_ERR_USAGE)
                s = sb_error_set(err, SB_ERR_USAGE,
                                 "--hollow-mm %g: %s: %s (scale %.4g: printed mm are %.4g mm of "
                                 "the label map)",
                                 o->hollow_mm, pm[i].name, err ? err->msg : "", sc, 1 / sc);
            if (s) break;
            pm[i].hollowed = hi.hollowed;
            pm[i].drains = hi.drains;
            pm[i].wall_mean_mm = hi.wall_mean_mm * sc;
            pm[i].wall_min_mm = hi.wall_min_mm * sc;
            pm[i].wall_max_mm = hi.wall_max_mm * sc;
            if (hi.hollowed) {
                sb_trimesh_free(pm[i].mesh);
                pm[i].mesh = m;
                pm[i].report = hi.surf.report;
                res->hollowed++;
                sb_log(ctx, SB_LOG_INFO,
                       "%s: hollowed, wall %g mm asked, measured %.3g / %.3g / %.3g mm (min / "
                       "mean / max of %zu points), %zu drain(s)",
                       pm[i].name, o->hollow_mm, pm[i].wall_min_mm, pm[i].wall_mean_mm,
                       pm[i].wall_max_mm, hi.wall_samples, hi.drains);
            } else {
                sb_trimesh_free(m);
                sb_log(ctx, SB_LOG_INFO, "%s: no part deeper than the %g mm wall, left solid",
                       pm[i].name, o->hollow_mm);
            }
        }
        free(h);
        if (s) return s;
    }
    /* 3. fit (or lift onto the plate) */
    if (o->fit_mm[0] > 0 || o->base) {
        if ((s = fit(pm, n, o, &so, &sc, t, err))) return s;
        for (size_t i = 0; i < n; i++) sb_mesh_transform(pm[i].mesh, sc, t);
        res->fitted = o->fit_mm[0] > 0;
        res->scale = sc;
        memcpy(res->t, t, sizeof res->t);
    }
    /* 4. stand */
    if (o->base) {
        const sb_trimesh **m = malloc((n ? n : 1) * sizeof *m);
        if (!m) return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
        for (size_t i = 0; i < n; i++) m[i] = pm[i].mesh;
        s = sb_mesh_stand((const sb_trimesh *const *)m, n, &so, &res->stand, &res->post_top_z, err);
        free(m);
        if (s) return s;
    }
    /* 5. wall thickness at the printed scale */
    const double limit = o->min_wall_mm > 0 ? o->min_wall_mm : SB_PRINT_DEFAULT_MIN_WALL_MM;
    {
        char list[1024] = "";
        size_t len = 0;
        for (size_t i = 0; i < n; i++) {
            double thin = 0, area = 0;
            s = sb_mesh_thickness(pm[i].mesh, limit, 4 * limit, ctx, &thin, &area, err);
            if (s) return s;
            pm[i].thinnest_mm = thin;
            pm[i].thin_area_mm2 = area;
            if (thin < limit) {
                res->thin++;
                if (len < sizeof list - 80)
                    len +=
                        (size_t)snprintf(list + len, sizeof list - len, "%s%s %.2f mm (%.3g mm2)",
                                         res->thin > 1 ? ", " : "", pm[i].name, thin, area);
            }
        }
        if (res->thin)
            sb_log(ctx, SB_LOG_WARN,
                   "%zu structure(s) thinner than %g mm at the printed scale%s (thinnest wall, "
                   "area below): %s%s",
                   res->thin, limit, res->fitted ? " (after --fit-mm)" : "", list,
                   len >= sizeof list - 80 ? ", ..." : "");
    }
    /* 6. budgets */
    size_t budget = o->max_tris_per_file;
    for (int round = 0; round < 5; round++) {
        size_t now = total_tris(pm, n, res->stand);
        if (o->max_mb_per_file > 0 && measure) {
            size_t bytes = 0;
            if ((s = measure(user, pm, n, res->stand, &bytes, err))) return s;
            const double limit_b = o->max_mb_per_file * 1e6;
            res->largest_file_bytes = bytes;
            if ((double)bytes > limit_b) {
                size_t b = (size_t)((double)now * limit_b / (double)bytes * 0.98);
                if (!budget || b < budget) budget = b;
            } else if (!budget || now <= budget) {
                break;
            }
        }
        if (!budget || now <= budget) break;
        if (round == 4) break; /* measured once more above; give up */
        sb_trimesh **m = malloc((n + 1) * sizeof *m);
        if (!m) return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
        for (size_t i = 0; i < n; i++) m[i] = pm[i].mesh;
        m[n] = res->stand;
        size_t after = 0;
        s = sb_mesh_budget(m, n + 1, budget, &after, err);
        for (size_t i = 0; i < n; i++) pm[i].mesh = m[i];
        res->stand = m[n];
        free(m);
        if (s) return s;
        if (after >= now) break; /* nothing more to give */
        if (!(o->max_mb_per_file > 0 && measure)) break;
    }
    /* the final meshes' reports (what the manifest lists); all must still be printable */
    for (size_t i = 0; i <= n; i++) {
        const sb_trimesh *m = i < n ? pm[i].mesh : res->stand;
        sb_mesh_report *r = i < n ? &pm[i].report : &res->stand_report;
        if (!m) continue;
        if ((s = sb_mesh_check(m, r, err))) return s;
        if (!r->ok)
            return sb_error_set(err, SB_ERR_INTERNAL,
                                "print preparation: %s is no longer closed and clean (%zu "
                                "boundary, %zu non-manifold edges, %zu crossings)",
                                i < n ? pm[i].name : "the stand", r->boundary_edges,
                                r->nonmanifold_edges, r->self_intersections);
    }
    res->tris_after = total_tris(pm, n, res->stand);
    if (res->tris_after != res->tris_before + (res->stand ? res->stand->ntris : 0) &&
        (o->max_tris_per_file || o->max_mb_per_file > 0))
        sb_log(ctx, SB_LOG_INFO, "budget: %zu -> %zu triangles in all (limit %zu per file)",
               res->tris_before, res->tris_after, budget);
    if (o->max_tris_per_file && res->tris_after > o->max_tris_per_file)
        sb_log(ctx, SB_LOG_WARN,
               "--max-tris-file %zu: the meshes keep %zu triangles (their topology allows no "
               "fewer)",
               o->max_tris_per_file, res->tris_after);
    return SB_OK;
}

void print_manifest_structure(cJSON *e, const print_mesh *pm) {
    if (pm->thinnest_mm >= 0) {
        cJSON_AddNumberToObject(e, "thinnest_wall_mm", pm->thinnest_mm);
        cJSON_AddNumberToObject(e, "thin_area_mm2", pm->thin_area_mm2);
    }
    if (!pm->hollowed) return;
    cJSON *h = cJSON_AddObjectToObject(e, "hollow");
    cJSON *w = cJSON_AddObjectToObject(h, "wall_mm");
    cJSON_AddNumberToObject(w, "min", pm->wall_min_mm);
    cJSON_AddNumberToObject(w, "mean", pm->wall_mean_mm);
    cJSON_AddNumberToObject(w, "max", pm->wall_max_mm);
    cJSON_AddNumberToObject(h, "drains", (double)pm->drains);
}

void print_manifest(cJSON *root, const sb_export_opts *o, const print_result *pr,
                    const print_mesh *pm) {
    cJSON *p = cJSON_AddObjectToObject(root, "print");
    cJSON_AddStringToObject(p, "frame",
                            pr->fitted || o->base
                                ? "printed: x = scale * x_world + translation_mm (mm, z up); "
                                  "structure volumes and boxes are in this frame"
                                : "world RAS+ mm (not fitted)");
    cJSON_AddNumberToObject(p, "scale", pr->scale);
    cJSON_AddItemToObject(p, "translation_mm", cJSON_CreateDoubleArray(pr->t, 3));
    if (pr->fitted)
        cJSON_AddItemToObject(p, "build_volume_mm", cJSON_CreateDoubleArray(o->fit_mm, 3));
    if (o->hollow_mm > 0) {
        cJSON_AddNumberToObject(p, "hollow_mm", o->hollow_mm);
        cJSON_AddNumberToObject(p, "drain_mm", o->drain_mm);
        cJSON_AddNumberToObject(p, "hollowed", (double)pr->hollowed);
    }
    if (o->base) cJSON_AddNumberToObject(p, "post_top_mm", pr->post_top_z);
    const double limit = o->min_wall_mm > 0 ? o->min_wall_mm : SB_PRINT_DEFAULT_MIN_WALL_MM;
    cJSON_AddNumberToObject(p, "min_wall_mm", limit);
    cJSON *thin = cJSON_AddArrayToObject(p, "thinner_than_min_wall");
    for (size_t i = 0; i < pr->n; i++)
        if (pm[i].thinnest_mm >= 0 && pm[i].thinnest_mm < limit)
            cJSON_AddItemToArray(thin, cJSON_CreateString(pm[i].name));
    cJSON_AddNumberToObject(p, "triangles_before", (double)pr->tris_before);
    cJSON_AddNumberToObject(p, "triangles_after", (double)pr->tris_after);
    if (o->max_tris_per_file)
        cJSON_AddNumberToObject(p, "max_tris_per_file", (double)o->max_tris_per_file);
    if (o->max_mb_per_file > 0) {
        cJSON_AddNumberToObject(p, "max_mb_per_file", o->max_mb_per_file);
        cJSON_AddNumberToObject(p, "largest_file_bytes_measured", (double)pr->largest_file_bytes);
    }
}
