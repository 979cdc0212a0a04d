/* mesh_internal.h — declarations shared by the files of mesh/ (not installed, not public). */
#ifndef SB_MESH_INTERNAL_H
#define SB_MESH_INTERNAL_H

#include "sb_mesh.h"

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Marching-cubes case table (mesh/marching_cubes.c), derived at run time from the face rule. */
#define SB__MC_MAX_TRIS 12
typedef struct sb__mc_case {
    int ntris;
    uint8_t tris[SB__MC_MAX_TRIS][3]; /* cube edges 0..11 */
} sb__mc_case;

typedef struct sb__mc_table {
    uint8_t edge_lo[12];   /* corner mask (x = 1, y = 2, z = 4) of the edge's low end */
    uint8_t edge_axis[12]; /* 0, 1, 2 */
    sb__mc_case cases[256];
} sb__mc_table;

/* Builds the table; 0 if a case violates the guarantee (a bug, never expected). */
int sb__mc_table_build(sb__mc_table *t);

/* Pairs of triangles that intersect (mesh/selfx.c); hit (may be NULL, ntris bytes) receives 1
 * for every triangle of such a pair, 0 elsewhere. 0 if out of memory. */
int sb__mesh_self_intersections(const sb_trimesh *m, size_t *count, uint8_t *hit);
/* The same among the pairs with at least one triangle t flagged only[t] (only NULL: all). */
int sb__mesh_self_intersections_of(const sb_trimesh *m, const uint8_t *only, size_t *count,
                                   uint8_t *hit);

/* The tiny-component rule of the surface pipeline, whichever backend made the surface
 * (mesh/surfaces.c; the VTK backend, mesh/vtk_bridge.cxx): drops the triangles of the
 * components (sharing vertices) whose |volume| is below min_mm3, except the largest, and
 * compacts the vertices. min_mm3 <= 0: nothing. Returns the number of components removed, or
 * SIZE_MAX when out of memory (m unchanged). */
size_t sb__mesh_drop_small(sb_trimesh *m, double min_mm3);

/* sb_mesh_check, with the self-intersection count taken from known_crossings unless it is
 * SIZE_MAX (for a mesh whose crossings were just counted by sb__mesh_self_intersections). */
sb_status sb__mesh_check_ex(const sb_trimesh *m, size_t known_crossings, sb_mesh_report *rep,
                            sb_error *err);

/* sb_mesh_smooth restoring the signed volume to target_mm3 instead of the volume before
 * smoothing (target_mm3 <= 0: that volume). The pipeline passes the label's voxel volume: the
 * marching-cubes surface through edge midpoints cuts every convex voxel edge and corner, which
 * on thin structures (ribs at 2 mm) lacks up to ~8 % of the volume. */
sb_status sb__mesh_smooth_ex(sb_trimesh *m, int iters, double target_mm3, const sb_ctx *ctx,
                             sb_error *err);

/* The volume restoration of sb__mesh_smooth_ex alone, on a mesh another smoother made (the VTK
 * backend's windowed sinc): the enclosed volume brought to target_mm3 (> 0; else nothing) by a
 * normal offset (a scaling about the centroid where that offset would exceed a quarter of the
 * mesh's smallest extent); unsmoothed (may be NULL): m's positions before smoothing, taken back
 * if the smoothed mesh is inverted or flat. m must be outward. */
sb_status sb__mesh_restore_volume(sb_trimesh *m, double target_mm3, const float *unsmoothed,
                                  sb_error *err);

/* The collapses a simplification made, in order, with the pass each belongs to. */
typedef struct sb__simplify_log {
    uint32_t *b, *a;    /* collapse b -> a */
    uint8_t *skip;      /* 1: leave this collapse out of the next replay (NULL: none) */
    size_t n, cap;      /* collapses */
    size_t *pass_end;   /* index after the last collapse of each pass */
    size_t npass, pcap; /* passes */
    int replay; /* 0: record; 1: replay, then on to the budget; 2: replay only; 3: the recorded
                   collapses made at once, unchecked (for a recording whose mapped replay is
                   known closed and manifold: surfaces.c), then on to the budget */
} sb__simplify_log;

void sb__simplify_log_free(sb__simplify_log *log);

/* sb_mesh_simplify with more arguments (mesh/simplify.c): frozen (may be NULL; one byte per
 * input vertex) marks vertices no collapse may touch, neither removed nor a target; rep (may be
 * NULL; one entry per input vertex) receives the index of the output vertex each input vertex
 * was merged into (UINT32_MAX for vertices of no triangle). log (may be NULL) receives the
 * collapses made; with log->replay set on entry, the recorded collapses are first made again,
 * pass by pass, skipping those touching a frozen vertex or refused by the checks (away from
 * the frozen vertices the result is the recorded one), then (replay 1, not 2) cheapest-first
 * collapses continue towards the budget; the log then holds this run's collapses. */
sb_status sb__mesh_simplify_ex(sb_trimesh *m, size_t target_tris, double max_error_mm,
                               const uint8_t *frozen, uint32_t *rep, sb__simplify_log *log,
                               size_t *collapses, sb_error *err);

/* A vertex's quadric (mesh/simplify.c): the sum of the squared distances to planes. */
typedef struct sb__quadric {
    double a2, ab, ac, ad, b2, bc, bd, c2, cd, d2;
} sb__quadric;

/* The quadric of each vertex of m (nverts entries): the planes of its triangles, unit normals,
 * unweighted — what sb__mesh_simplify_ex starts from. */
void sb__simplify_quadrics(const sb_trimesh *m, sb__quadric *Q);

/* sb__mesh_simplify_ex recording into log (may be NULL), without frozen vertices, from the
 * quadrics q0 (may be NULL: computed; else sb__simplify_quadrics of m), telling where each
 * output triangle and vertex come from: tri_src[k] (may be NULL; m->ntris entries) the input
 * triangle, vert_src[f] (may be NULL; m->nverts entries) the input vertex. */
sb_status sb__mesh_simplify_tagged(sb_trimesh *m, size_t target_tris, double max_error_mm,
                                   const sb__quadric *q0, uint32_t *rep, sb__simplify_log *log,
                                   uint32_t *tri_src, uint32_t *vert_src, sb_error *err);

/* Replay 3 (see sb__simplify_log) of log on src, made on its result: m is src's triangles with
 * every vertex replaced by the root of its remaining merges (neither skipped nor touching a
 * frozen vertex), triangles with a repeated root dropped, in src's order, the roots used
 * compacted in src's order (root[c]: the src vertex of m's vertex c; rep: src vertex -> m's
 * vertex or UINT32_MAX). m is simplified in place to the budget from there, with the same
 * result, bytes, log and rep as sb__mesh_simplify_ex with log->replay = 3 on a copy of src
 * (nv_in vertices, quadrics q_in from sb__simplify_quadrics), but no work in src's size
 * beyond summing its quadrics. tri_src[k] (may be NULL; m->ntris entries) receives the
 * triangle of the given m each output triangle comes from, vert_src[f] (may be NULL) the src
 * vertex of output vertex f. */
sb_status sb__mesh_simplify_continue(sb_trimesh *m, const uint32_t *root, size_t nv_in,
                                     const sb__quadric *q_in, const uint8_t *frozen,
                                     size_t target_tris, double max_error_mm, uint32_t *rep,
                                     sb__simplify_log *log, uint32_t *tri_src, uint32_t *vert_src,
                                     sb_error *err);

/* Simplification of a copy of src without self-intersections (mesh/surfaces.c: collapses near
 * crossings left out and the rest replayed); *crossings receives the crossings left (0, or
 * SIZE_MAX if not counted). `what` names the mesh in messages. */
sb_status sb__mesh_simplify_clean(const sb_trimesh *src, size_t target, double max_error_mm,
                                  const char *what, sb_trimesh **out, size_t *crossings,
                                  sb_error *err);

/* sb_mesh_edt that also gives, per voxel, the index of the zero voxel it is nearest to (site may
 * be NULL; SIZE_MAX where that is a border site of border_zero, or no zero voxel exists). */
sb_status sb__mesh_edt_sites(const uint8_t *mask, const size_t dim[3], const double spacing[3],
                             int border_zero, const sb_ctx *ctx, float *dist, size_t *site,
                             sb_error *err);

/* A uniform grid of a mesh's triangles (mesh/trigrid.c; those with use[t] != 0, use may be
 * NULL), cell about `cell` (<= 0: 1/64 of the extent), grown to at most 4M cells. */
typedef struct sb__trigrid {
    const sb_trimesh *m;
    double lo[3], cell;
    size_t n[3];
    size_t *start; /* CSR: cell k holds tris[start[k] .. start[k+1]) */
    uint32_t *tris;
} sb__trigrid;

int sb__trigrid_build(sb__trigrid *g, const sb_trimesh *m, const uint8_t *use, double cell);
void sb__trigrid_free(sb__trigrid *g);
/* Distance from p to the nearest triangle among those within about r of p (cells overlapping
 * the cube of half side r); INFINITY if none. */
double sb__trigrid_nearest(const sb__trigrid *g, const double p[3], double r);
/* The same, among the triangles of the cells within about r of c (not of p). */
double sb__trigrid_nearest_at(const sb__trigrid *g, const double p[3], const double c[3], double r);
/* Smallest t in (tmin, tmax] where o + t d meets a triangle not using vertex skip_v
 * (UINT32_MAX: none skipped); INFINITY if none. */
double sb__trigrid_ray(const sb__trigrid *g, const double o[3], const double d[3], double tmin,
                       double tmax, uint32_t skip_v);

#ifdef __cplusplus
}
#endif

#endif
