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

/* Surface of {voxels == label}, vertices in world mm via labels->affine (any non-singular
 * affine, including left-handed ones such as LAS: normals point outward in world space and the
 * signed volume is positive). The volume is treated as padded by one background voxel (never
 * copied), so labels touching the border still close.
 * Method: marching tetrahedra on the Kuhn split of the voxel-centre grid (mesh/extract.c).
 * Guarantee, for ANY label configuration (voxels touching only along an edge or at a corner,
 * border contact, noise): a closed, edge- and vertex-2-manifold, consistently outward-oriented
 * mesh, vertices merged (each lies at the midpoint of a grid edge), no degenerate triangles.
 * Contacts along the cube diagonals the split uses (directions 110, 101, 011, 111) join two
 * voxels into one component; contacts along the other diagonals keep them apart.
 * Cost: ~3x the triangles of marching cubes / VTK's flying edges on the same mask (measured
 * 1.02M vs 0.34M for a radius-95 ball) and a staircase with ~17 % more area; smoothing and
 * simplification are left to later passes. The output is deterministic (same bytes whatever
 * ctx->threads; ctx may be NULL). Vertex indices are 32-bit: SB_ERR_MEMORY beyond 2^32-1.
 * labels: any datatype (float label maps are compared exactly). *out is NULL on failure;
 * free it with sb_trimesh_free. SB_ERR_LABEL if no voxel carries `label` (including a label
 * the datatype cannot hold, e.g. 300 in uint8); SB_ERR_INPUT for a singular affine. */
sb_status sb_mesh_extract_label(const sb_volume *labels, int label, const sb_ctx *ctx,
                                sb_trimesh **out, sb_error *err);

/* Iso-surface {value >= iso} of an intensity volume (any datatype; NaN voxels are outside),
 * vertices placed by linear interpolation along the tetrahedra's edges with the parameter
 * clamped to [0.02, 0.98] (a vertex never sits on a grid point); edges to the padding take the
 * midpoint. Same guarantees as above. SB_ERR_LABEL if no voxel reaches iso; SB_ERR_USAGE if
 * iso is NaN. */
sb_status sb_mesh_extract_iso(const sb_volume *v, double iso, const sb_ctx *ctx, sb_trimesh **out,
                              sb_error *err);

/* Marching cubes on many labels in one sweep (mesh/marching_cubes.c): out[i] receives the
 * surface of {voxels == ids[i]}, or NULL if no voxel carries ids[i] (not an error). ids: distinct
 * values in 1..65535 (SB_ERR_USAGE otherwise); any datatype (values that are not integers in
 * 0..65535 are background). Same guarantees as sb_mesh_extract_label — closed, edge- and
 * vertex-2-manifold, outward under any non-singular affine, one voxel of padding, midpoint
 * vertices, no degenerate triangle — with inside voxels 6-connected: voxels touching only along
 * an edge or at a corner give separate shells. About a third of the triangles of marching
 * tetrahedra. Threads (ctx->threads) sweep slabs of the volume in parallel; the output is
 * byte-identical whatever the thread count. On failure every out[i] is NULL.
 * Vertex indices are 32-bit: SB_ERR_MEMORY beyond 2^32-1 vertices per label. */
sb_status sb_mesh_mc_labels(const sb_volume *labels, const int *ids, size_t n, const sb_ctx *ctx,
                            sb_trimesh **out, sb_error *err);

/* Marching cubes on {value >= iso} (NaN voxels outside), vertices interpolated along the grid
 * edges with the parameter clamped to [0.02, 0.98] (midpoints on edges to the padding or to a NaN
 * voxel). Same guarantees. SB_ERR_LABEL if no voxel reaches iso; SB_ERR_USAGE if iso is NaN. */
sb_status sb_mesh_mc_iso(const sb_volume *v, double iso, const sb_ctx *ctx, sb_trimesh **out,
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
    /* vertices whose triangles form more than one fan (two cones touching at a point): the
     * surface is not a 2-manifold there even if every edge is. Not part of `closed`. */
    size_t nonmanifold_vertices;
    /* pairs of triangles crossing each other (spatial hashing, mesh/selfx.c): an edge of one
     * strictly crosses the other; touching and coplanar overlaps are not counted. */
    size_t self_intersections;
    size_t used_vertices; /* vertices referenced by a triangle */
    long euler;           /* used_vertices - edges + triangles */
    long genus;           /* components - euler / 2 when closed (handles in all), else -1 */
    int ok;               /* closed, no non-manifold vertex, no degenerate triangle, no
                             self-intersection, volume > 0: what a printer accepts */
} sb_mesh_report;

/* Fills rep. Counts edges by sorting (O(n log n)); memory ~ 40 bytes per triangle + 8 per
 * vertex, SB_ERR_MEMORY if unavailable. Self-intersections by spatial hashing (OpenMP threads,
 * ~32 more bytes per triangle). SB_ERR_INPUT if a triangle uses a vertex >= nverts or
 * the mesh has more than 2^32/3 triangles. Degenerate triangles count but their repeated-index
 * edges (u,u) are ignored. Safe for untrusted input. */
sb_status sb_mesh_check(const sb_trimesh *m, sb_mesh_report *rep, sb_error *err);

/* Taubin lambda|mu smoothing (mesh/smooth.c), `iters` pairs of steps (lambda 0.5, mu -0.53),
 * then the signed volume restored to within 0.1 % by a uniform offset along the vertex normals.
 * Moves vertices only: connectivity, closedness and orientation are kept. iters <= 0: no-op.
 * Byte-identical at any ctx->threads. SB_ERR_MEMORY: ~60 bytes per vertex + 12 per triangle. */
sb_status sb_mesh_smooth(sb_trimesh *m, int iters, const sb_ctx *ctx, sb_error *err);

/* Quadric edge-collapse simplification that keeps a closed 2-manifold closed and manifold, with
 * its genus and components (mesh/simplify.c): cheapest collapses first until m has at most
 * target_tris triangles (0: no budget), never a collapse whose quadric error exceeds
 * max_error_mm (<= 0: no bound; then target_tris must be set or nothing happens). The
 * error bounds the distance of each new vertex to the planes of the original triangles merged
 * into it. Self-intersections are not excluded: check the result (sb_mesh_check). In place;
 * *collapses (may be NULL) receives the number made. Memory ~150 bytes per triangle. */
sb_status sb_mesh_simplify(sb_trimesh *m, size_t target_tris, double max_error_mm,
                           size_t *collapses, sb_error *err);

/* Defaults of the surface pipeline (README "Surfaces"). */
#define SB_SURFACE_DEFAULT_SMOOTH 10     /* Taubin iterations */
#define SB_SURFACE_DEFAULT_ERROR_VOX 0.1 /* simplification error bound, in voxels */

typedef struct sb_surface_opts {
    double gauss_sigma_mm;    /* Gaussian pre-smoothing of each label's indicator; 0: off */
    int smooth_iters;         /* Taubin iterations; 0: off */
    double keep_ratio;        /* simplify to this fraction of the triangles, (0, 1); 0: none */
    size_t target_tris;       /* per-mesh triangle budget; 0: none */
    double max_error_mm;      /* collapse error bound; < 0: SB_SURFACE_DEFAULT_ERROR_VOX voxels
                                 (smallest spacing); 0: unbounded (budget only) */
    double min_component_mm3; /* components with smaller |volume| are dropped (never the
                                 largest); < 0: one voxel's volume; 0: keep all */
} sb_surface_opts;

void sb_surface_opts_default(sb_surface_opts *o);

/* What happened to one surface. report is the final mesh's check (report.ok is always 1 for a
 * returned mesh). fallback: 0 every step kept; 1 simplification dropped (its result failed
 * the checks); 2 smoothing dropped too (the raw surface is returned). */
typedef struct sb_surface_info {
    sb_mesh_report report;
    size_t tris_extracted;
    size_t components_removed;
    int fallback;
} sb_surface_info;

/* The surface pipeline on n labels (mesh/surfaces.c): one marching-cubes sweep (or Gaussian
 * pre-smoothing per label), tiny components dropped, Taubin smoothing restoring the label's
 * voxel volume, simplification (collapses that make triangles cross are left out and the rest
 * replayed), then sb_mesh_check on every mesh; a mesh that fails (open, non-manifold,
 * self-intersecting, degenerate, volume <= 0) is rebuilt without simplification, then without
 * smoothing; if the raw surface fails too, SB_ERR_INTERNAL. Never returns a mesh that fails the
 * checks. opts NULL: defaults. out[i] NULL for an absent label; info (may be NULL) n entries.
 * Labels are processed in parallel (ctx->threads); results do not depend on the thread count. */
sb_status sb_mesh_surfaces(const sb_volume *labels, const int *ids, size_t n,
                           const sb_surface_opts *opts, const sb_ctx *ctx, sb_trimesh **out,
                           sb_surface_info *info, sb_error *err);

/* The same pipeline on the iso-surface {value >= iso} (gauss_sigma_mm ignored). SB_ERR_LABEL
 * if no voxel reaches iso. */
sb_status sb_mesh_surface_iso(const sb_volume *v, double iso, const sb_surface_opts *opts,
                              const sb_ctx *ctx, sb_trimesh **out, sb_surface_info *info,
                              sb_error *err);

/* Otsu's threshold of the finite voxel values (1024-bin histogram): the value separating
 * background from body in an MR image (`--iso auto`). SB_ERR_INPUT if the image is constant. */
sb_status sb_mesh_otsu(const sb_volume *v, double *threshold, sb_error *err);

/* 1 if built with the VTK bridge. */
int sb_mesh_have_vtk(void);
/* VTK's vtkDiscreteFlyingEdges3D on {labels == label} (the label's bounding box padded by one
 * voxel), transformed to world mm by the affine, oriented outward (all triangles flipped if the
 * signed volume is negative). DFE's points come out merged; measured closed and manifold on
 * balls and on binary noise (VTK 9.1), with about a third of our triangles. For cross-checks
 * and timing. May use all cores (VTK's SMP backend). SB_ERR_LABEL if the label is absent;
 * SB_ERR_INTERNAL if built without VTK or if VTK fails. */
sb_status sb_mesh_vtk_extract_label(const sb_volume *labels, int label, sb_trimesh **out,
                                    sb_error *err);

/* Options of the VTK backend: vtkWindowedSincPolyDataFilter (smooth_iters > 0, passband, 0:
 * 0.1) then vtkDecimatePro with PreserveTopology on, splitting off (target_reduction in (0, 1)). */
typedef struct sb_vtk_opts {
    int smooth_iters;
    double passband;
    double target_reduction;
} sb_vtk_opts;

/* VTK's vtkDiscreteFlyingEdges3D on the whole volume padded by one voxel, all n labels in one
 * Update() (ids: 1..65535), split per label, then the optional VTK smoothing and decimation of
 * opts (NULL: extraction only). out[i] is NULL for an absent label. Points in world mm, every
 * mesh oriented outward (flipped if its signed volume is negative). seconds_extract (may be
 * NULL) receives the wall time of the DFE Update() alone — the figure the benchmark compares.
 * VTK's SMP backend may use every core. SB_ERR_INTERNAL without VTK. */
sb_status sb_mesh_vtk_labels(const sb_volume *labels, const int *ids, size_t n,
                             const sb_vtk_opts *opts, sb_trimesh **out, double *seconds_extract,
                             sb_error *err);

/* Writes m as a VTK XML PolyData file (.vtp, appended zlib-compressed binary) through
 * vtkXMLPolyDataWriter, under a temporary name renamed when complete. SB_ERR_EXISTS if path
 * exists and !force; SB_ERR_OUTPUT if VTK fails; SB_ERR_INTERNAL without VTK. */
sb_status sb_mesh_vtp_write(const sb_trimesh *m, const char *path, int force, sb_error *err);

#ifdef __cplusplus
}
#endif
#endif
