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
