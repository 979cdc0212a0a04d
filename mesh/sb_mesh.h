/* sb_mesh.h — surfaces from volumes: extraction of closed, 2-manifold, outward-oriented
 * triangle meshes from label maps or intensity volumes, mesh checks, and the VTK bridge.
 *
 * Depends on: the foundation (sb_core.h) only; VTK 9.1 through mesh/vtk_bridge.cxx when built
 * with SYNTHBODY_WITH_VTK (sb_mesh_have_vtk() tells).
 */
#ifndef SB_MESH_H
#define SB_MESH_H

#include "sb_core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Surface of {voxels == label}, vertices in world mm via labels->affine (any affine, including
 * left-handed ones: winding is fixed in world space so normals point outward). The volume is
 * treated as padded by one background voxel, so labels touching the border still close.
 * Guarantee: closed 2-manifold output, shared vertices merged, no degenerate triangles.
 * labels: any integer datatype. SB_ERR_LABEL if no voxel carries `label`. */
sb_status sb_mesh_extract_label(const sb_volume *labels, int label, const sb_ctx *ctx,
                                sb_trimesh **out, sb_error *err);

/* Iso-surface {value >= iso} of an intensity volume (any datatype), vertices placed by linear
 * interpolation along grid edges; same guarantees. SB_ERR_LABEL if no voxel reaches iso. */
sb_status sb_mesh_extract_iso(const sb_volume *v, double iso, const sb_ctx *ctx, sb_trimesh **out,
                              sb_error *err);

/* What a user checks on a mesh. */
typedef struct sb_mesh_report {
    size_t nverts, ntris, edges;
    size_t boundary_edges;    /* edges used by one triangle */
    size_t nonmanifold_edges; /* edges used by three or more triangles */
    size_t misoriented_edges; /* edges whose two triangles traverse it in the same direction */
    size_t degenerate_tris;   /* zero area or repeated vertex */
    size_t components;        /* connected by shared edges */
    int closed;               /* boundary == nonmanifold == misoriented == 0 */
    double area_mm2;
    double volume_mm3; /* signed (divergence theorem): positive when oriented outward */
    double bbox_min[3], bbox_max[3];
} sb_mesh_report;

/* Counts edges by sorting (O(n log n)), memory ~ 24 bytes per triangle. */
sb_status sb_mesh_check(const sb_trimesh *m, sb_mesh_report *rep, sb_error *err);

/* 1 if built with the VTK bridge. */
int sb_mesh_have_vtk(void);
/* VTK's vtkDiscreteFlyingEdges3D on {labels == label} (padded by one voxel), points merged,
 * transformed to world mm by the affine, oriented outward. For cross-checks and timing.
 * SB_ERR_INTERNAL if built without VTK. */
sb_status sb_mesh_vtk_extract_label(const sb_volume *labels, int label, sb_trimesh **out,
                                    sb_error *err);

#ifdef __cplusplus
}
#endif
#endif
