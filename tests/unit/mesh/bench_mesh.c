/* bench_mesh — native marching tetrahedra vs VTK's discrete flying edges on a ball of radius
 * n/2 - 5 in an n^3 volume (default 200): triangles, volume, area, wall time of extraction and
 * of sb_mesh_check. Usage: bench_mesh [n]. Not a test (no timed assertions). */
#include "sb_mesh.h"

#include <stdlib.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int report(const char *what, const sb_trimesh *m, double t_extract) {
    sb_mesh_report r;
    sb_error err;
    double t0 = now();
    if (sb_mesh_check(m, &r, &err) != SB_OK) {
        fprintf(stderr, "check: %s\n", err.msg);
        return 1;
    }
    double t_check = now() - t0;
    printf("%-7s %9zu verts %9zu tris  volume %.1f  area %.1f  closed %d (b %zu nm %zu mis %zu "
           "deg %zu) comp %zu  extract %.3f s  check %.3f s\n",
           what, r.nverts, r.ntris, r.volume_mm3, r.area_mm2, r.closed, r.boundary_edges,
           r.nonmanifold_edges, r.misoriented_edges, r.degenerate_tris, r.components, t_extract,
           t_check);
    return 0;
}

int main(int argc, char **argv) {
    size_t n = argc > 1 ? (size_t)atol(argv[1]) : 200;
    if (n < 12) n = 12;
    size_t dim[3] = {n, n, n};
    double sp[3] = {1, 1, 1};
    sb_volume *v = NULL;
    sb_error err;
    if (sb_volume_create(dim, sp, SB_DT_UINT8, &v, &err) != SB_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    double c = 0.5 * (double)(n - 1), rad = 0.5 * (double)n - 5;
    size_t nvox = 0;
    uint8_t *d = v->data;
    for (size_t k = 0; k < n; k++)
        for (size_t j = 0; j < n; j++)
            for (size_t i = 0; i < n; i++) {
                double x = (double)i - c, y = (double)j - c, z = (double)k - c;
                int in = x * x + y * y + z * z <= rad * rad;
                d[sb_volume_index(v, i, j, k)] = (uint8_t)in;
                nvox += (size_t)in;
            }
    printf("ball radius %.1f in %zu^3: %zu voxels\n", rad, n, nvox);
    int rc = 0;
    sb_trimesh *m = NULL;
    double t0 = now();
    if (sb_mesh_extract_label(v, 1, NULL, &m, &err) != SB_OK) {
        fprintf(stderr, "native: %s\n", err.msg);
        rc = 1;
    } else {
        rc |= report("native", m, now() - t0);
    }
    sb_trimesh_free(m);
    m = NULL;
    if (sb_mesh_have_vtk()) {
        t0 = now();
        if (sb_mesh_vtk_extract_label(v, 1, &m, &err) != SB_OK) {
            fprintf(stderr, "vtk: %s\n", err.msg);
            rc = 1;
        } else {
            rc |= report("vtk", m, now() - t0);
        }
        sb_trimesh_free(m);
    }
    sb_volume_free(v);
    return rc;
}
