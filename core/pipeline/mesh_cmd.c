/* mesh_cmd.c — `synthbody mesh`: one closed STL per label of any label NIfTI, or an
 * iso-surface of an intensity NIfTI. */
#include "sb_pipeline.h"

#include "internal.h"
#include "sb_export.h"
#include "sb_mesh.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int is_integer_type(sb_dtype t) {
    return t != SB_DT_FLOAT32 && t != SB_DT_FLOAT64;
}

/* Writes m after checking it: a mesh that is not closed, manifold, positive and free of
 * self-intersections is an error, never written. checked (may be NULL): the report of the
 * surface pipeline's own sb_mesh_check of this very mesh (not repeated). */
static sb_status mesh_one(sb_trimesh *m, const sb_mesh_report *checked, const char *name,
                          const char *path, outputs *outs, int force, const sb_ctx *ctx,
                          sb_error *err) {
    sb_mesh_report rep;
    sb_status s = SB_OK;
    if (checked)
        rep = *checked;
    else
        s = sb_mesh_check(m, &rep, err);
    if (!s && !rep.ok)
        s = sb_error_set(err, SB_ERR_INTERNAL,
                         "mesh %s fails the checks: %zu boundary, %zu non-manifold edges, %zu "
                         "non-manifold vertices, %zu self-intersections, volume %g mm3",
                         name, rep.boundary_edges, rep.nonmanifold_edges, rep.nonmanifold_vertices,
                         rep.self_intersections, rep.volume_mm3);
    if (!s) s = sb_stl_write(m, name, path, force, err);
    if (!s) {
        outputs_mark_done(outs, path);
        sb_log(ctx, SB_LOG_INFO,
               "%s: %zu triangles, %.2f ml, %zu components, genus %ld, closed, manifold, "
               "no self-intersection",
               path, rep.ntris, rep.volume_mm3 / 1000.0, rep.components, rep.genus);
    }
    return s;
}

static void surface_opts(const sb_mesh_opts *o, sb_surface_opts *so) {
    sb_surface_opts_default(so);
    /* the command keeps vertices on the voxel surface unless asked (--smooth N); generate
     * --mesh uses the library default (SB_SURFACE_DEFAULT_SMOOTH) */
    so->smooth_iters = o->smooth_iters >= 0 ? o->smooth_iters : 0;
    so->target_tris = o->target_tris;
    if (o->max_error_mm >= 0) so->max_error_mm = o->max_error_mm;
}

sb_status sb_pipeline_mesh(const sb_mesh_opts *opts, const sb_ctx *ctx, sb_error *err) {
    sb_volume *v = NULL;
    sb_label_table *names = NULL;
    size_t *counts = NULL;
    unsigned char *sel = NULL;
    outputs outs = {0};
    sb_status s = sb_nifti_read(opts->input, ctx, &v, NULL, err);
    if (s) return s;
    if (opts->use_iso) {
        const char *path;
        sb_trimesh *m = NULL;
        if (!opts->iso_auto && !isfinite(opts->iso)) {
            s = sb_error_set(err, SB_ERR_USAGE, "--iso %g is not a finite number", opts->iso);
            goto done;
        }
        if ((s = outputs_plan(&outs, opts->out_dir, "isosurface.stl", &path, err)) ||
            (s = outputs_check(&outs, opts->force, err)) || (s = sb_mkdir_p(opts->out_dir, err)))
            goto done;
        double iso = opts->iso;
        if (opts->iso_auto) {
            if ((s = sb_mesh_otsu(v, &iso, err))) goto done;
            sb_log(ctx, SB_LOG_INFO, "--iso auto: Otsu threshold %g", iso);
        }
        sb_surface_opts so;
        surface_opts(opts, &so);
        sb_surface_info info;
        if ((s = sb_mesh_surface_iso(v, iso, &so, ctx, &m, &info, err))) goto done;
        s = mesh_one(m, &info.report, "isosurface", path, &outs, opts->force, ctx, err);
        sb_trimesh_free(m);
        goto done;
    }
    counts = calloc(65536, sizeof *counts);
    sel = calloc(65536, 1);
    if (!counts || !sel) {
        s = sb_error_set(err, SB_ERR_MEMORY, "out of memory");
        goto done;
    }
    if (!is_integer_type(v->dtype))
        sb_log(ctx, SB_LOG_WARN, "%s holds %s data: reading it as label ids", opts->input,
               sb_dtype_name(v->dtype));
    if ((s = label_counts(v, opts->input, counts, err))) goto done;
    names = sibling_dseg_tsv(opts->input);
    if ((s = select_labels(opts->labels, NULL, "--labels", counts, names, opts->input, sel, err)))
        goto done;
    size_t nsel = 0;
    for (size_t id = 1; id < 65536; id++) {
        if (!sel[id]) continue;
        const sb_label *l = names ? sb_labels_find_id(names, (int)id) : NULL;
        char fname[96];
        if (l)
            snprintf(fname, sizeof fname, "%s.stl", l->name);
        else
            snprintf(fname, sizeof fname, "label_%zu.stl", id);
        if ((s = outputs_plan(&outs, opts->out_dir, fname, NULL, err))) goto done;
        nsel++;
    }
    if (nsel == 0) {
        s = sb_error_set(err, SB_ERR_LABEL, "%s contains no labels (only background 0)",
                         opts->input);
        goto done;
    }
    if ((s = outputs_check(&outs, opts->force, err)) || (s = sb_mkdir_p(opts->out_dir, err)))
        goto done;
    {
        int *ids = malloc(nsel * sizeof *ids);
        sb_trimesh **ms = calloc(nsel, sizeof *ms);
        sb_surface_info *info = calloc(nsel, sizeof *info);
        size_t k = 0;
        if (!ids || !ms || !info) {
            free(ids);
            free(ms);
            free(info);
            s = sb_error_set(err, SB_ERR_MEMORY, "out of memory");
            goto done;
        }
        for (size_t id = 1; id < 65536; id++)
            if (sel[id]) ids[k++] = (int)id;
        if (opts->backend_vtk) {
            sb_vtk_opts vo = {opts->smooth_iters < 0 ? 0 : opts->smooth_iters, 0.1, 0, -1};
            s = sb_mesh_vtk_labels(v, ids, nsel, &vo, ms, NULL, err);
        } else {
            sb_surface_opts so;
            surface_opts(opts, &so);
            s = sb_mesh_surfaces(v, ids, nsel, &so, ctx, ms, info, err);
        }
        for (size_t i = 0; !s && i < nsel; i++) {
            const sb_label *l = names ? sb_labels_find_id(names, ids[i]) : NULL;
            char name[64];
            snprintf(name, sizeof name, "%s", l ? l->name : "label");
            if (!ms[i]) {
                s = sb_error_set(err, SB_ERR_INTERNAL, "label %d: no surface", ids[i]);
                break;
            }
            s = mesh_one(ms[i], opts->backend_vtk ? NULL : &info[i].report, name, outs.paths[i],
                         &outs, opts->force, ctx, err);
            sb_progress(ctx, "meshes", i + 1, nsel);
        }
        for (size_t i = 0; i < nsel; i++) sb_trimesh_free(ms[i]);
        free(ms);
        free(ids);
        free(info);
    }
done:
    if (s) outputs_rollback(&outs);
    outputs_free(&outs);
    sb_labels_free(names);
    free(counts);
    free(sel);
    sb_volume_free(v);
    return s;
}
