/* info.c — `synthbody info FILE`: what a user checks first about a NIfTI or a mesh file. */
#include "sb_pipeline.h"

#include "sb_export.h"
#include "sb_mesh.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static sb_status info_nifti(const char *path, FILE *out, const sb_ctx *ctx, sb_error *err) {
    sb_volume *v = NULL;
    sb_nifti_info h;
    sb_status s = sb_nifti_read(path, ctx, &v, &h, err);
    if (s) return s;
    fprintf(out, "file: %s\n", path);
    fprintf(out, "format: NIfTI-%d%s, %s-endian\n", h.version, h.compressed ? " (gzip)" : "",
            h.big_endian ? "big" : "little");
    fprintf(out, "dim:");
    for (int i = 1; i <= h.ndim && i < 8; i++) fprintf(out, " %lld", (long long)h.dim[i]);
    fprintf(out, "%s\n", h.ndim > 3 ? " (first volume read)" : "");
    fprintf(out, "datatype: %d (%s)\n", h.datatype, sb_dtype_name(v->dtype));
    fprintf(out, "spacing_mm: %g %g %g\n", v->spacing[0], v->spacing[1], v->spacing[2]);
    fprintf(out, "orientation: %s\n", h.orient);
    fprintf(out, "qform_code: %d\nsform_code: %d\naffine_from: %s\n", h.qform_code, h.sform_code,
            h.used_sform       ? "sform"
            : h.qform_code > 0 ? "qform"
                               : "pixdim");
    fprintf(out, "affine:\n");
    for (int r = 0; r < 4; r++)
        fprintf(out, "  %12.6f %12.6f %12.6f %12.6f\n", v->affine[r][0], v->affine[r][1],
                v->affine[r][2], v->affine[r][3]);
    fprintf(out, "scl_slope: %g\nscl_inter: %g\nintent_code: %d\n", h.scl_slope, h.scl_inter,
            h.intent_code);
    if (h.descrip[0]) fprintf(out, "descrip: %s\n", h.descrip);

    size_t n = sb_volume_nvox(v);
    double vox_ml =
        fabs(v->affine[0][0] *
                 (v->affine[1][1] * v->affine[2][2] - v->affine[1][2] * v->affine[2][1]) -
             v->affine[0][1] *
                 (v->affine[1][0] * v->affine[2][2] - v->affine[1][2] * v->affine[2][0]) +
             v->affine[0][2] *
                 (v->affine[1][0] * v->affine[2][1] - v->affine[1][1] * v->affine[2][0])) /
        1000.0;
    int labelmap = v->dtype != SB_DT_FLOAT32 && v->dtype != SB_DT_FLOAT64;
    size_t *counts = labelmap ? calloc(65536, sizeof *counts) : NULL;
    double lo = INFINITY, hi = -INFINITY, sum = 0;
    for (size_t i = 0; i < n; i++) {
        double x = sb_volume_get(v, i);
        lo = fmin(lo, x), hi = fmax(hi, x), sum += x;
        if (counts && x >= 0 && x <= 65535) counts[(size_t)x]++;
    }
    fprintf(out, "range: %g .. %g, mean %g\n", lo, hi, sum / (double)n);
    if (counts && lo >= 0 && hi <= 65535 && (h.intent_code == 1002 || hi <= 1024)) {
        size_t nl = 0;
        for (size_t id = 1; id < 65536; id++) nl += counts[id] > 0;
        fprintf(out, "labels: %zu\n", nl);
        fprintf(out, "  %6s %10s %12s\n", "id", "voxels", "volume_ml");
        for (size_t id = 1; id < 65536; id++)
            if (counts[id])
                fprintf(out, "  %6zu %10zu %12.3f\n", id, counts[id], (double)counts[id] * vox_ml);
    }
    free(counts);
    sb_volume_free(v);
    return SB_OK;
}

static sb_status info_mesh(const char *path, FILE *out, sb_error *err) {
    sb_trimesh *m = NULL;
    sb_status s = sb_mesh_read(path, &m, err);
    if (s) return s;
    sb_mesh_report r;
    s = sb_mesh_check(m, &r, err);
    sb_trimesh_free(m);
    if (s) return s;
    fprintf(out, "file: %s\n", path);
    fprintf(out, "vertices: %zu\ntriangles: %zu\nedges: %zu\n", r.nverts, r.ntris, r.edges);
    fprintf(out, "bbox_min_mm: %g %g %g\nbbox_max_mm: %g %g %g\n", r.bbox_min[0], r.bbox_min[1],
            r.bbox_min[2], r.bbox_max[0], r.bbox_max[1], r.bbox_max[2]);
    fprintf(out, "boundary_edges: %zu\nnonmanifold_edges: %zu\nmisoriented_edges: %zu\n",
            r.boundary_edges, r.nonmanifold_edges, r.misoriented_edges);
    fprintf(out, "nonmanifold_vertices: %zu\n", r.nonmanifold_vertices);
    fprintf(out, "degenerate_triangles: %zu\ncomponents: %zu\n", r.degenerate_tris, r.components);
    fprintf(out, "self_intersections: %zu\n", r.self_intersections);
    fprintf(out, "closed: %s\n", r.closed ? "yes" : "no");
    if (r.genus >= 0)
        fprintf(out, "genus: %ld\n", r.genus);
    else
        fprintf(out, "genus: undefined (not closed)\n");
    fprintf(out, "area_mm2: %.3f\nvolume_ml: %.4f\n", r.area_mm2, r.volume_mm3 / 1000.0);
    /* what a printer accepts: closed, manifold, no degenerate triangle or self-intersection,
     * positive volume (sb_mesh_report.ok) */
    fprintf(out, "printable: %s\n", r.ok ? "yes" : "no");
    return SB_OK;
}

sb_status sb_pipeline_info(const char *path, FILE *out, const sb_ctx *ctx, sb_error *err) {
    if (ends_with(path, ".nii") || ends_with(path, ".nii.gz"))
        return info_nifti(path, out, ctx, err);
    return info_mesh(path, out, err);
}
