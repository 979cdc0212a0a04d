/* stl.c — one mesh as binary STL: the scene writer's STL (export/scene.c, the one binary STL
 * writer of synthbody) with one structure in world RAS+ millimetres. The header is
 * "synthbody NAME SPACE=RAS", zero-padded: the frame stated as in every export STL, so 3D
 * Slicer (which reads SPACE= and otherwise assumes LPS) places the mesh on its NIfTI. */
#include "sb_export.h"

sb_status sb_stl_write(const sb_trimesh *m, const char *name, const char *path, int force,
                       sb_error *err) {
    if (!m || !path) return sb_error_set(err, SB_ERR_USAGE, "sb_stl_write: NULL argument");
    const sb_scene_mesh one = {.mesh = m, .name = name ? name : ""};
    const sb_scene_frame ras_mm = {.scale = 1.0, .up_y = 0};
    return sb_scene_write(SB_SCENE_STL, &one, 1, &ras_mm, NULL, path, force, NULL, err);
}
