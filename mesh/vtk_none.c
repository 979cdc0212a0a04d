/* vtk_none.c — the VTK bridge when synthbody is built without VTK (SYNTHBODY_WITH_VTK=OFF). */
#include "sb_mesh.h"

int sb_mesh_have_vtk(void) {
    return 0;
}

sb_status sb_mesh_vtk_extract_label(const sb_volume *labels, int label, sb_trimesh **out,
                                    sb_error *err) {
    (void)labels;
    if (out) *out = NULL;
    return sb_error_set(err, SB_ERR_INTERNAL,
                        "cannot mesh label %d with VTK: synthbody was built without VTK", label);
}

sb_status sb_mesh_vtk_labels(const sb_volume *labels, const int *ids, size_t n,
                             const sb_vtk_opts *opts, sb_trimesh **out, double *seconds_extract,
                             sb_error *err) {
    (void)labels, (void)ids, (void)opts, (void)seconds_extract;
    for (size_t i = 0; out && i < n; i++) out[i] = NULL;
    return sb_error_set(err, SB_ERR_INTERNAL,
                        "cannot mesh with VTK: synthbody was built without VTK");
}

sb_status sb_mesh_vtp_write(const sb_trimesh *m, const char *path, int force, sb_error *err) {
    (void)m, (void)force;
    return sb_error_set(err, SB_ERR_INTERNAL,
                        "cannot write %s: .vtp needs VTK, synthbody was built without it", path);
}
