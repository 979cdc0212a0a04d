/* mesh_bench — timed comparison of surface extraction on label maps (not a test: no timed
 * assertions). For each LABELS.nii[.gz] given, all labels present:
 *   native  sb_mesh_mc_labels (one multi-label marching-cubes sweep), --threads N (default 2);
 *   vtk     vtkDiscreteFlyingEdges3D, all labels in one Update() (VTK's SMP backend), the time of
 *           Update() alone;
 *   full    the native pipeline sb_mesh_surfaces: extraction + Taubin smoothing + simplification
 *           to --keep (default 0.10) of the triangles + checks (self-intersections included);
 * each the median of --repeat runs (default 5). Also prints per label the area and volume of
 * native vs VTK (agreement) and of the full pipeline.
 * --only native|vtk|full runs that step alone (--repeat times; with --repeat 1 the process can
 * be timed from outside, e.g. with /usr/bin/time, reading the NIfTI included) and prints its
 * median time, triangle count and a hash of the meshes' bytes (same hash = same output).
 * Usage: mesh_bench [--threads N] [--repeat R] [--keep F] [--per-label] [--only STEP]
 *                   LABELS.nii.gz ... */
#include "sb_export.h"
#include "sb_mesh.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_d(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *x, int n) {
    qsort(x, (size_t)n, sizeof *x, cmp_d);
    return n % 2 ? x[n / 2] : 0.5 * (x[n / 2 - 1] + x[n / 2]);
}

static void free_all(sb_trimesh **m, size_t n) {
    for (size_t i = 0; i < n; i++) {
        sb_trimesh_free(m[i]);
        m[i] = NULL;
    }
}

/* FNV-1a over every mesh's vertices and triangles, in label order: equal hashes = same bytes. */
static uint64_t hash_all(sb_trimesh **m, size_t n) {
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        if (!m[i]) continue;
        const unsigned char *p[2] = {(const unsigned char *)m[i]->verts,
                                     (const unsigned char *)m[i]->tris};
        size_t len[2] = {m[i]->nverts * 3 * sizeof(float), m[i]->ntris * 3 * sizeof(uint32_t)};
        for (int k = 0; k < 2; k++)
            for (size_t j = 0; j < len[k]; j++) h = (h ^ p[k][j]) * 1099511628211ULL;
    }
    return h;
}

static size_t total_tris(sb_trimesh **m, size_t n) {
    size_t t = 0;
    for (size_t i = 0; i < n; i++) t += m[i] ? m[i]->ntris : 0;
    return t;
}

int main(int argc, char **argv) {
    int threads = 2, repeat = 5, per_label = 0;
    const char *only = NULL; /* native | vtk | full: run that step alone (for outside timers) */
    double keep = 0.10, max_err = 0;
    int first = 1;
    for (; first < argc && argv[first][0] == '-'; first++) {
        if (!strcmp(argv[first], "--threads") && first + 1 < argc)
            threads = atoi(argv[++first]);
        else if (!strcmp(argv[first], "--repeat") && first + 1 < argc)
            repeat = atoi(argv[++first]);
        else if (!strcmp(argv[first], "--keep") && first + 1 < argc)
            keep = atof(argv[++first]);
        else if (!strcmp(argv[first], "--max-error") && first + 1 < argc)
            max_err = atof(argv[++first]);
        else if (!strcmp(argv[first], "--only") && first + 1 < argc)
            only = argv[++first];
        else if (!strcmp(argv[first], "--per-label"))
            per_label = 1;
        else {
            fprintf(stderr, "usage: mesh_bench [--threads N] [--repeat R] [--keep F] "
                            "[--per-label] LABELS.nii.gz ...\n");
            return 2;
        }
    }
    if (first >= argc || repeat < 1 || threads < 1) {
        fprintf(stderr, "mesh_bench: no input\n");
        return 2;
    }
    sb_ctx ctx = {threads, NULL, NULL, NULL};
    int rc = 0;
    for (int f = first; f < argc; f++) {
        sb_volume *v = NULL;
        sb_error err;
        if (sb_nifti_read(argv[f], &ctx, &v, NULL, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            return 3;
        }
        static size_t counts[65536];
        memset(counts, 0, sizeof counts);
        for (size_t i = 0; i < sb_volume_nvox(v); i++) {
            double x = sb_volume_get(v, i);
            if (x >= 1 && x <= 65535 && x == (double)(long)x) counts[(size_t)x]++;
        }
        int *ids = malloc(65536 * sizeof *ids);
        size_t n = 0;
        for (size_t id = 1; id < 65536; id++)
            if (counts[id]) ids[n++] = (int)id;
        sb_surface_info *info = calloc(n, sizeof *info);
        sb_trimesh **nat = calloc(n, sizeof *nat), **vtk = calloc(n, sizeof *vtk),
                   **full = calloc(n, sizeof *full);
        double *tn = malloc((size_t)repeat * sizeof *tn), *tv = malloc((size_t)repeat * sizeof *tv),
               *tf = malloc((size_t)repeat * sizeof *tf);
        if (only) {
            sb_surface_opts so;
            sb_surface_opts_default(&so);
            so.keep_ratio = keep;
            so.max_error_mm = max_err;
            double *ts = malloc((size_t)repeat * sizeof *ts), tvtk = 0;
            for (int r = 0; r < repeat; r++) {
                free_all(nat, n);
                free_all(vtk, n);
                free_all(full, n);
                double t0 = now();
                sb_status st = !strcmp(only, "native")
                                   ? sb_mesh_mc_labels(v, ids, n, &ctx, nat, &err)
                               : !strcmp(only, "vtk")
                                   ? sb_mesh_vtk_labels(v, ids, n, NULL, vtk, &tvtk, &err)
                                   : sb_mesh_surfaces(v, ids, n, &so, &ctx, full, info, &err);
                if (st) {
                    fprintf(stderr, "%s: %s\n", only, err.msg);
                    return 1;
                }
                ts[r] = !strcmp(only, "vtk") ? tvtk : now() - t0;
            }
            printf("%s %s: median of %d runs %.3f s, ", only, argv[f], repeat, median(ts, repeat));
            free(ts);
            size_t fb[3] = {0, 0, 0};
            for (size_t i = 0; i < n; i++) fb[info[i].fallback]++;
            if (!strcmp(only, "full"))
                printf("fallbacks: %zu none, %zu unsimplified, %zu raw; ", fb[0], fb[1], fb[2]);
            printf("%zu triangles, hash %016llx\n",
                   total_tris(nat, n) + total_tris(vtk, n) + total_tris(full, n),
                   (unsigned long long)(hash_all(nat, n) ^ hash_all(vtk, n) ^ hash_all(full, n)));
            free_all(nat, n);
            free_all(vtk, n);
            free_all(full, n);
            free(info);
            sb_volume_free(v);
            continue;
        }
        printf("%s: %zux%zux%zu voxels of %.3gx%.3gx%.3g mm, %zu labels, %d threads\n", argv[f],
               v->dim[0], v->dim[1], v->dim[2], v->spacing[0], v->spacing[1], v->spacing[2], n,
               threads);
        for (int r = 0; r < repeat; r++) {
            free_all(nat, n);
            double t0 = now();
            if (sb_mesh_mc_labels(v, ids, n, &ctx, nat, &err)) {
                fprintf(stderr, "native: %s\n", err.msg);
                return 1;
            }
            tn[r] = now() - t0;
        }
        int have_vtk = sb_mesh_have_vtk();
        for (int r = 0; have_vtk && r < repeat; r++) {
            free_all(vtk, n);
            if (sb_mesh_vtk_labels(v, ids, n, NULL, vtk, &tv[r], &err)) {
                fprintf(stderr, "vtk: %s\n", err.msg);
                return 1;
            }
        }
        sb_surface_opts so;
        sb_surface_opts_default(&so);
        so.keep_ratio = keep;
        so.max_error_mm = max_err; /* default 0: to the ratio, not bounded by an error */
        for (int r = 0; r < repeat; r++) {
            free_all(full, n);
            double t0 = now();
            if (sb_mesh_surfaces(v, ids, n, &so, &ctx, full, info, &err)) {
                fprintf(stderr, "full: %s\n", err.msg);
                return 1;
            }
            tf[r] = now() - t0;
        }
        double mn = median(tn, repeat), mf = median(tf, repeat),
               mv = have_vtk ? median(tv, repeat) : 0;
        printf("  native extraction      %8.3f s  %9zu triangles\n", mn, total_tris(nat, n));
        if (have_vtk)
            printf("  vtk DFE extraction     %8.3f s  %9zu triangles   native is %.1fx faster\n",
                   mv, total_tris(vtk, n), mv / mn);
        printf("  native full pipeline   %8.3f s  %9zu triangles   (extract + smooth %d + "
               "simplify to %.0f %% + checks)%s\n",
               mf, total_tris(full, n), so.smooth_iters, 100 * keep,
               have_vtk ? (mf < mv ? "  faster than VTK's extraction" : "  SLOWER than VTK") : "");
        double worst_a = 0, worst_v = 0, worst_fv = 0;
        size_t bad = 0;
        for (size_t i = 0; i < n; i++) {
            sb_mesh_report rn, rv, rf;
            if (!nat[i] || sb_mesh_check(nat[i], &rn, &err)) continue;
            double vox_mm3 = (double)counts[ids[i]] * v->spacing[0] * v->spacing[1] * v->spacing[2];
            if (full[i] && !sb_mesh_check(full[i], &rf, &err)) {
                if (!rf.closed || rf.nonmanifold_vertices || !(rf.volume_mm3 > 0)) bad++;
                if (vox_mm3 > 5000 && fabs(rf.volume_mm3 / vox_mm3 - 1) > worst_fv)
                    worst_fv = fabs(rf.volume_mm3 / vox_mm3 - 1);
            }
            if (have_vtk && vtk[i] && !sb_mesh_check(vtk[i], &rv, &err)) {
                double da = rv.area_mm2 / rn.area_mm2 - 1, dv = rv.volume_mm3 / rn.volume_mm3 - 1;
                if (fabs(da) > worst_a) worst_a = fabs(da);
                if (fabs(dv) > worst_v) worst_v = fabs(dv);
                if (per_label)
                    printf("  label %5d: native %8zu tris area %10.0f vol %10.0f | vtk %8zu tris "
                           "area %+.2f %% vol %+.2f %% | full %7zu tris vol/voxels %+.2f %%\n",
                           ids[i], rn.ntris, rn.area_mm2, rn.volume_mm3, rv.ntris, 100 * da,
                           100 * dv, full[i] ? full[i]->ntris : 0,
                           full[i] ? 100 * (rf.volume_mm3 / vox_mm3 - 1) : 0.0);
            }
        }
        if (have_vtk)
            printf("  native vs vtk per label: worst area %.2f %%, worst volume %.2f %%\n",
                   100 * worst_a, 100 * worst_v);
        printf("  full pipeline: %zu meshes not closed/manifold/positive; worst volume vs voxels "
               "(> 5 ml) %.2f %%\n",
               bad, 100 * worst_fv);
        rc |= bad != 0;
        free_all(nat, n);
        free_all(vtk, n);
        free_all(full, n);
        free(nat);
        free(vtk);
        free(full);
        free(tn);
        free(tv);
        free(tf);
        free(ids);
        free(info);
        sb_volume_free(v);
    }
    return rc;
}
