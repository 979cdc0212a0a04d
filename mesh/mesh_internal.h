/* mesh_internal.h — declarations shared by the files of mesh/ (not installed, not public). */
#ifndef SB_MESH_INTERNAL_H
#define SB_MESH_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

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

/* Pairs of triangles that intersect (mesh/selfx.c); 0 if out of memory. */
struct sb_trimesh;
int sb__mesh_self_intersections(const struct sb_trimesh *m, size_t *count);

#endif
