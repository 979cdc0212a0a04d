/* mri_bench: CPU time of the MR part alone (README "MRI physics", speed): one subject voxelized
 * once, then each acquisition of the acceptance benchmark (T1w, T2w, 3-echo Dixon: water, fat,
 * in, opp) made as int16 on one thread, best of --reps, and its images deflated as the .nii.gz
 * writer does (deflate_image, 1 MiB pieces), best of --reps. Prints the seconds and a hash of
 * each acquisition's images (FNV-1a of the int16 bytes) and of the deflated bytes, so two builds
 * can be compared run by run on the same machine (run one binary against the libraries of each
 * build with LD_LIBRARY_PATH).
 *
 * usage: mri_bench [--seed N] [--voxel MM] [--reps R]
 */
#include "sb_volume.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* export/deflate_lines.c (exported by synthbody_export; declared here as its unit test does) */
size_t deflate_image(const uint8_t *in, size_t n, size_t es, uint8_t *out, size_t cap);
size_t deflate_image_bound(size_t n);

static double cpu_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static uint64_t fnv(uint64_t h, const uint8_t *d, size_t n) {
    for (size_t i = 0; i < n; i++) h = (h ^ d[i]) * 0x100000001b3ull;
    return h;
}

int main(int argc, char **argv) {
    uint64_t seed = 1;
    double voxel = 2;
    int reps = 3;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--seed"))
            seed = strtoull(argv[i + 1], NULL, 10);
        else if (!strcmp(argv[i], "--voxel"))
            voxel = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--reps"))
            reps = atoi(argv[i + 1]);
        else {
            fprintf(stderr, "usage: mri_bench [--seed N] [--voxel MM] [--reps R]\n");
            return 2;
        }
    }
    if (!(voxel >= 0.5 && voxel <= 50) || reps < 1) {
        fprintf(stderr, "mri_bench: --voxel 0.5..50, --reps >= 1\n");
        return 2;
    }
    sb_error err;
    sb_anatomy *an = NULL;
    sb_tissue_db *db = NULL;
    sb_protocol p;
    sb_subject s;
    sb_subject_request rq = {.seed = seed, .sex = SB_SEX_RANDOM};
    sb_anatomy_maps maps = {0};
    sb_mri_session *ss = NULL;
    sb_mr_tissues m;
    sb_ctx all = {0}, one = {.threads = 1};
    if (sb_anatomy_load_default(&an, &err) || sb_tissue_db_load(NULL, &db, &err) ||
        sb_mri_protocol(NULL, "T1w,T2w,dixon_water,dixon_fat,dixon_in,dixon_opp", 1.5, 30, 0.2, &p,
                        &err) ||
        sb_subject_sample(&rq, &s, &err) ||
        sb_anatomy_voxelize_maps(an, &s, voxel, SB_MAP_TISSUES | SB_MAP_PV, &all, &maps, &err)) {
        fprintf(stderr, "mri_bench: %s\n", err.msg);
        return 1;
    }
    sb_tissue_db_sample(db, &s, &m);
    if (sb_mri_session_new(&m, &s, maps.tissues, &ss, &err)) {
        fprintf(stderr, "mri_bench: %s\n", err.msg);
        return 1;
    }
    const size_t *d = maps.tissues->dim, chunk = (size_t)1 << 20;
    printf("seed %llu, %.1f mm: %zux%zux%zu voxels; one thread, best of %d\n",
           (unsigned long long)seed, voxel, d[0], d[1], d[2], reps);
    uint8_t *zbuf = malloc(deflate_image_bound(chunk));
    double t_acq = 0, t_z = 0;
    for (size_t i = 0; i < p.count && zbuf; i++) {
        double best = 1e30, bestz = 1e30;
        uint64_t h = 0, hz = 0;
        size_t raw = 0, packed = 0;
        for (int r = 0; r < reps; r++) {
            sb_volume *img[SB_MRI_OUT_MAX];
            double slope[SB_MRI_OUT_MAX], t0 = cpu_s();
            if (sb_mri_acquire(ss, &p.acq[i], maps.tissues, maps.pv_tissue, maps.pv_frac, p.want[i],
                               SB_DT_INT16, &one, img, slope, &err)) {
                fprintf(stderr, "mri_bench: %s\n", err.msg);
                return 1;
            }
            double t1 = cpu_s(), tz = 0;
            h = hz = 0xcbf29ce484222325ull, raw = packed = 0;
            for (int k = 0; k < SB_MRI_OUT_MAX; k++) {
                if (!img[k]) continue;
                size_t n = sb_volume_nvox(img[k]) * 2;
                const uint8_t *b = img[k]->data;
                h = fnv(h, b, n);
                for (size_t o = 0; o < n; o += chunk) {
                    size_t c = n - o < chunk ? n - o : chunk;
                    double ta = cpu_s();
                    size_t z = deflate_image(b + o, c, 2, zbuf, deflate_image_bound(chunk));
                    tz += cpu_s() - ta;
                    hz = fnv(hz, zbuf, z), packed += z;
                }
                raw += n;
            }
            double t2 = t1 + tz; /* deflate alone, not the hashes */
            for (int k = 0; k < SB_MRI_OUT_MAX; k++) sb_volume_free(img[k]);
            best = t1 - t0 < best ? t1 - t0 : best;
            bestz = t2 - t1 < bestz ? t2 - t1 : bestz;
        }
        printf("%-6s acquisition %.3f s  images %016llx | deflate %.3f s (%.0f MB/s, %.3fx) "
               "%016llx\n",
               p.acq[i].name, best, (unsigned long long)h, bestz, (double)raw / bestz / 1e6,
               (double)raw / (double)packed, (unsigned long long)hz);
        t_acq += best, t_z += bestz;
    }
    printf("total  acquisition %.3f s, deflate %.3f s\n", t_acq, t_z);
    free(zbuf);
    sb_mri_session_free(ss);
    sb_anatomy_maps_free(&maps);
    sb_tissue_db_free(db);
    sb_anatomy_free(an);
    return 0;
}
