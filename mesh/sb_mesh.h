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
 * the checks); 2 smoothing dropped too (the raw surface is returned). unsmoothed_vertices:
 * where the smoothed surface crossed itself (thin sheets), its vertices put back on the raw
 * surface before simplifying (0: none needed). */
typedef struct sb_surface_info {
    sb_mesh_report report;
    size_t tris_extracted;
    size_t components_removed;
    int fallback;
    size_t unsmoothed_vertices;
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

/* Options of the VTK backend: the tiny-component rule of sb_surface_opts (min_component_mm3:
 * components, by shared points, whose |volume| is below it are dropped after extraction, never
 * a label's largest; < 0: one voxel; 0: none), then vtkWindowedSincPolyDataFilter
 * (smooth_iters > 0, passband, 0: 0.1), then vtkDecimatePro with PreserveTopology on,
 * splitting off (target_reduction in (0, 1)). */
typedef struct sb_vtk_opts {
    int smooth_iters;
    double passband;
    double target_reduction;
    double min_component_mm3;
} sb_vtk_opts;

/* VTK's vtkDiscreteFlyingEdges3D on the whole volume padded by one voxel, all n labels in one
 * Update() (ids: 1..65535), split per label, then the tiny components dropped, the VTK
 * smoothing (windowed sinc, then the label's voxel volume restored as by the native pipeline's
 * smoothing) and the decimation of opts (NULL: extraction only, every component kept). out[i] is
 * NULL for an absent label. Points in world mm, every mesh oriented outward (flipped if its signed
 * volume is negative). seconds_extract (may be NULL) receives the wall time of the DFE Update()
 * alone — the figure the benchmark compares. VTK's SMP backend may use every core. SB_ERR_INTERNAL
 * without VTK. */
sb_status sb_mesh_vtk_labels(const sb_volume *labels, const int *ids, size_t n,
                             const sb_vtk_opts *opts, sb_trimesh **out, double *seconds_extract,
                             sb_error *err);

/* Writes m as a VTK XML PolyData file (.vtp, appended zlib-compressed binary) through
 * vtkXMLPolyDataWriter, under a temporary name renamed when complete. SB_ERR_EXISTS if path
 * exists and !force; SB_ERR_OUTPUT if VTK fails; SB_ERR_INTERNAL without VTK. */
sb_status sb_mesh_vtp_write(const sb_trimesh *m, const char *path, int force, sb_error *err);

/* ---- print preparation (mesh/edt.c, mesh/print.c; README "Print preparation") ------------- */

/* Exact Euclidean distance transform (Felzenszwalb & Huttenlocher, separable lower envelopes of
 * parabolas): dist[v] = distance in mm from the centre of voxel v to the nearest centre of a voxel
 * with mask == 0 (0 there), voxel (i,j,k) at (i*spacing[0], j*spacing[1], k*spacing[2]).
 * border_zero: the grid is surrounded by zero voxels (as the extractors' padding); else a mask
 * without zero voxel gives INFINITY everywhere. Squared distances are accumulated in float:
 * relative error below 1e-6. Lines run on ctx->threads; same bytes at any thread count.
 * mask and dist hold dim[0]*dim[1]*dim[2] entries. SB_ERR_MEMORY: 16 bytes per voxel along the
 * longest axis and thread. */
sb_status sb_mesh_edt(const uint8_t *mask, const size_t dim[3], const double spacing[3],
                      int border_zero, const sb_ctx *ctx, float *dist, sb_error *err);

#define SB_PRINT_MAX_DRAINS 16

typedef struct sb_hollow_opts {
    double wall_mm;       /* wall thickness T in world mm (> 0, at least one voxel) */
    double drain_mm;      /* drain hole diameter in world mm; 0: no drains */
    int max_drains;       /* at most this many drains (lowest first); <= 0: 8 */
    sb_surface_opts surf; /* smoothing / simplification of the shell (sb_surface_opts_default) */
} sb_hollow_opts;

typedef struct sb_hollow_info {
    int hollowed;  /* 0: no voxel deeper than T, the structure stays solid */
    size_t drains; /* drain holes made */
    double drain_xyz[SB_PRINT_MAX_DRAINS][3]; /* world mm: centre of each hole's opening */
    size_t wall_samples;                      /* inner-surface vertices measured (at most 20000) */
    double wall_min_mm, wall_mean_mm, wall_max_mm; /* their distance to the outer surface */
    double outer_mm3, inner_mm3; /* |volume| of the outer and of the inner (cavity) surfaces */
    sb_surface_info surf;        /* the shell's surface pipeline report (closed, checks) */
} sb_hollow_info;

/* The solid bounded by the outer surface of label `id` (its enclosed cavities filled: the skin
 * gives the whole body) made a shell of wall thickness opts->wall_mm, as ONE closed 2-manifold
 * mesh: the outer surface (the label's marching-cubes surface) and an inner surface facing the
 * cavity (oriented inward: the mesh's volume is the wall's), joined by vertical drain tubes of
 * opts->drain_mm at the centre of each basin floor of the cavity (a plateau with no cavity
 * below it), running straight down (world -z) through the floor. Built on voxels: exact EDT of
 * the filled mask, one float field whose 0.5 iso-surface is outer wall, inner wall and tubes
 * (sb_mesh_surface_iso: smoothing, simplification, checks). The inner surface lies where the
 * distance to the smoothed outer surface is T (mesh/hollow.c): measured walls within 0.05
 * voxel of T on average, every sample within 0.25 voxel on a ball and a box (info->wall_*:
 * inner vertices to the outer triangles). Works in the label's bounding box (+1 voxel):
 * memory ~ 18 bytes per voxel of that box plus the outer surface.
 * SB_ERR_USAGE: wall below one voxel (the largest spacing) or drain below two voxels;
 * SB_ERR_LABEL: label absent. *out NULL on failure. */
sb_status sb_mesh_hollow(const sb_volume *labels, int id, const sb_hollow_opts *opts,
                         const sb_ctx *ctx, sb_trimesh **out, sb_hollow_info *info, sb_error *err);

/* Bounding box of n meshes (NULL entries skipped); 0 if they have no vertex. */
int sb_mesh_bbox(const sb_trimesh *const *m, size_t n, double lo[3], double hi[3]);

/* Uniform scale s and translation t (x' = s*x + t) fitting the meshes' joint bounding box into
 * the build volume box[0] x box[1] x box[2] mm reduced by margin_xy on each side in x and y and
 * by base_mm below: centred in x and y on [0, box], lowest point at z = base_mm, the limiting
 * axis touching (s is one part in 1e6 under the exact ratio, so rounding never overshoots). No
 * rotation: the anatomical z (superior) stays up. SB_ERR_USAGE: non-positive box or no room;
 * SB_ERR_INPUT: empty or flat meshes. */
sb_status sb_mesh_fit(const sb_trimesh *const *m, size_t n, const double box[3], double margin_xy,
                      double base_mm, double *scale, double t[3], sb_error *err);

/* x' = scale*x + t on every vertex (scale > 0 keeps the orientation). */
void sb_mesh_transform(sb_trimesh *m, double scale, const double t[3]);

/* Wall thickness by ray casting: from every vertex along the inward (area-weighted) normal to
 * the next surface of the same mesh, up to max_mm (rays longer count as max_mm); each vertex's
 * thickness is then the median over itself and its neighbours (a stray grazing hit is not a
 * thin wall). *thinnest_mm: the smallest such value; *thin_area_mm2 (may be NULL): area (a third
 * of each triangle per vertex) thinner than limit_mm. Units are the mesh's (call it on meshes
 * at the printed scale). Deterministic; threads over vertices. SB_ERR_MEMORY. */
sb_status sb_mesh_thickness(const sb_trimesh *m, double limit_mm, double max_mm, const sb_ctx *ctx,
                            double *thinnest_mm, double *thin_area_mm2, sb_error *err);

typedef struct sb_stand_opts {
    double plate_mm;  /* plate thickness (default 3) */
    double margin_mm; /* plate beyond the model's footprint on each side (default 5) */
    double post_mm;   /* post diameter (default 6); 0: no post */
    double embed_mm;  /* how far the post enters the model (default 1) */
} sb_stand_opts;

void sb_stand_opts_default(sb_stand_opts *o);

/* A stand under meshes that already sit on z = o->plate_mm (sb_mesh_fit with base_mm =
 * plate_mm): a plate z in [0, plate_mm] spanning the meshes' x-y footprint plus margin_mm, and
 * one vertical post (a 32-sided prism) from the plate up to embed_mm above the first surface its
 * axis meets going up, at the column nearest the meshes' area centroid (steps of half a
 * diameter) whose axis's first hit lies between 25 % and 75 % of the height (the pelvis of a
 * skeleton) on a surface nearly flat across the post (four lines on its rim meet it at most a
 * radius lower), else the nearest column with any hit (none: no post). ONE closed 2-manifold mesh
 * (the post's foot is part of the plate's top face). *post_top_z (may be NULL): the post's top (0:
 * no post). */
sb_status sb_mesh_stand(const sb_trimesh *const *m, size_t n, const sb_stand_opts *o,
                        sb_trimesh **out, double *post_top_z, sb_error *err);

/* Simplifies the n meshes (in place) so their triangles sum to at most max_tris: each gets a
 * share proportional to its triangles, through the topology-preserving simplifier with the
 * crossing repair of sb_mesh_surfaces (never opening a mesh, never making it cross itself);
 * a mesh whose result fails sb_mesh_check keeps its input. Up to four rounds redistribute what
 * small meshes could not give up. *tris_after receives the total reached (may exceed max_tris
 * when topology forbids more collapses). */
sb_status sb_mesh_budget(sb_trimesh **m, size_t n, size_t max_tris, size_t *tris_after,
                         sb_error *err);

/* ---- layers of a sculpture (mesh/layers.c; README "Sculptures") ---------------------------- */

#define SB_LAYER_DEFAULT_SUBDIV 4 /* sub-layers per voxel along the cutting axis */

typedef struct sb_layer_opts {
    int axis;              /* world axis of the cut: 0 x, 1 y, 2 z */
    double from_mm, to_mm; /* the two cutting planes, world mm along axis, from < to */
    int subdiv;            /* sub-layers per voxel along the axis (<= 0: the default) */
    int smooth_iters;      /* Taubin iterations, cut faces held on their planes; 0: none */
    /* Carving (alignment holes, engraving), NULL: none. carve[0] (the `from` face) and carve[1]
     * (the `to` face): one depth in world mm per pixel of the label map's plane, pixel (p, q) at
     * [p + q * dim[b]] for the voxel axes b = (a + 1) % 3, c = (a + 2) % 3 after the cutting
     * axis's voxel axis a; a voxel of part 1 whose sub-layer's near edge lies less than that
     * depth from the face (depths round up to whole sub-layers) is left out of every part (the
     * resampled slab's voxels, so the extractor's guarantees hold). Only part 1 is carved. */
    const float *carve[2];
} sb_layer_opts;

void sb_layer_opts_default(sb_layer_opts *o);

typedef struct sb_layer_info {
    sb_mesh_report report; /* the part's final check */
    size_t sublayers;      /* m: sub-layers the slab was resampled onto */
    double sublayer_mm;    /* their thickness (to - from) / m in world mm */
    int smoothed;          /* 1: the smoothed mesh passed the checks and was kept */
} sb_layer_info;

/* The voxel axis of an axis-aligned label map that runs along world axis `axis` (0..2).
 * SB_ERR_INPUT for an oblique affine. */
sb_status sb_mesh_layer_axis(const sb_volume *v, int axis, int *vox_axis, sb_error *err);

/* The label map's planes (indices along *vox_axis, the voxel axis along o->axis) that the layer's
 * resampling reads: *k0..*k1 (*k1 < *k0 if the layer lies outside the map). What
 * sb_mesh_layer_parts meshes is the parts of exactly these planes. */
sb_status sb_mesh_layer_source(const sb_volume *labels, const sb_layer_opts *o, int *vox_axis,
                               long *k0, long *k1, sb_error *err);

/* The layer o->from_mm..o->to_mm (world mm along o->axis) of a label map as nparts closed parts:
 * out[i] is the surface of the voxels whose label L has part_of[L] == i + 1 (part_of: 65536
 * entries, 0 = in no part; non-integer label values are in no part), or NULL if no such voxel
 * lies in the layer. The slab is resampled (nearest neighbour, along the axis only) onto
 * sub-layers of at most voxel/subdiv placed so that the layer's two cut faces lie exactly on
 * the planes (every cut-face vertex within float rounding of the plane), then meshed by one
 * sb_mesh_mc_labels sweep: every part closed, 2-manifold, outward, and neighbouring parts share
 * their vertices (an organ part fits its cut-out in the body part). Vertices in world mm. The
 * grid must be axis-aligned (SB_ERR_INPUT otherwise). info (may be NULL): nparts entries.
 * Deterministic at any ctx->threads. Memory: 2 bytes per voxel of the resampled slab plus the
 * extractor's. */
sb_status sb_mesh_layer_parts(const sb_volume *labels, const uint16_t *part_of, int nparts,
                              const sb_layer_opts *o, const sb_ctx *ctx, sb_trimesh **out,
                              sb_layer_info *info, sb_error *err);

/* ---- contours of a 2-D mask (mesh/contours.c) ---------------------------------------------- */

/* Closed loops: loop i is the points xy[2*start[i] .. 2*start[i+1]-1] (x, y pairs), the last
 * point joined to the first. */
typedef struct sb_contours {
    size_t nloops;
    size_t *start; /* nloops + 1 entries */
    double *xy;
} sb_contours;

void sb_contours_free(sb_contours *c); /* NULL is a no-op */

/* Marching squares on mask (nu x nv bytes, pixel (p, q) at mask[p + nu*q], non-zero inside),
 * padded by one outside pixel: closed, simple, mutually non-crossing loops through the midpoints
 * between inside and outside pixel centres, in pixel coordinates (pixel centres at integers),
 * oriented with the inside on the left (outer loops counter-clockwise in a frame whose x runs
 * along p and y along q, holes clockwise); inside pixels touching only at a corner give separate
 * loops. Points between collinear segments are dropped. *out: free with sb_contours_free. An
 * empty mask gives zero loops. SB_ERR_MEMORY: ~16 bytes per pixel. */
sb_status sb_mesh_contours(const uint8_t *mask, size_t nu, size_t nv, sb_contours **out,
                           sb_error *err);

/* Moves each point of the closed loop xy (n points) by d to the right of the direction of travel
 * (mitred corners, at most 2 d at a spike): d > 0 grows the inside of a loop oriented with the
 * inside on its left (kerf compensation). Loops narrower than 2 |d| may fold. */
void sb_contour_offset(double *xy, size_t n, double d);

#ifdef __cplusplus
}
#endif
#endif
