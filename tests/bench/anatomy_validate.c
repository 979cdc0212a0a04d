/* anatomy_validate — validation and timing of the default anatomy over many subjects
 * (issue "Anatomy", acceptance). For each subject: labels present, organ volumes, the
 * anatomical rules (sides, superior-to-inferior order, kidney levels, everything inside the
 * skin, one connected component per structure, nothing on the border, no holes); per sex:
 * mean organ volumes against ICRP Publication 89 reference masses / densities and their CV.
 *
 * usage: anatomy_validate [--subjects N] [--voxel MM] [--threads T] [--sex female|male|both]
 *                         [--seed S] [--quiet]
 * Exit code 0 when every rule holds for every subject and every mean volume is within ±15 %
 * with a CV in 8–35 %; 1 otherwise (the report says which). */
#include "sb_core.h"
#include "sb_volume.h"
#include "../unit/volume/body_mass.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ICRP 89 reference masses (g, men/women) / density (g/cm^3) -> ml; ../shared/reference
 * ANATOMY.md §5. Structures are matched by name prefix and summed. */
typedef struct {
    const char *what, *prefix;
    double ml_m, ml_f;
} organ;

static const organ ORGANS[] = {
    {"brain", "brain", 1450 / 1.05, 1300 / 1.05},
    {"liver", "liver", 1800 / 1.05, 1400 / 1.05},
    {"spleen", "spleen", 150 / 1.05, 130 / 1.05},
    {"kidneys", "kidney", 310 / 1.05, 275 / 1.05},
    {"heart with blood", "heart", 840 / 1.055, 620 / 1.055},
    {"lungs", "lung", 1200 / 0.38, 950 / 0.38},
    {"pancreas", "pancreas", 140 / 1.035, 120 / 1.035},
    {"thyroid", "thyroid", 20 / 1.045, 17 / 1.045},
    {"stomach", "stomach", 400 / 1.03, 370 / 1.03},
    {"urinary bladder", "urinary_bladder", 50 / 1.03, 40 / 1.03},
};
#define NORG (sizeof ORGANS / sizeof ORGANS[0])

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int has_prefix(const char *s, const char *p) {
    return strncmp(s, p, strlen(p)) == 0;
}

typedef struct {
    size_t count;
    double c[3]; /* centroid, world mm */
    double lo[3], hi[3];
} stats;

/* Union-find over voxel indices for 26-connected components of one label inside its box. */
static size_t uf_find(size_t *p, size_t x) {
    while (p[x] != x) x = p[x] = p[p[x]];
    return x;
}

static size_t components(const uint16_t *L, const size_t dim[3], int id, const size_t lo[3],
                         const size_t hi[3]) {
    size_t nx = hi[0] - lo[0] + 1, ny = hi[1] - lo[1] + 1, nz = hi[2] - lo[2] + 1;
    size_t n = nx * ny * nz, roots = 0;
    size_t *p = malloc(n * sizeof *p);
    if (!p) return 0;
    for (size_t i = 0; i < n; i++) p[i] = i;
    for (size_t k = 0; k < nz; k++)
        for (size_t j = 0; j < ny; j++)
            for (size_t i = 0; i < nx; i++) {
                size_t g = (lo[0] + i) + dim[0] * ((lo[1] + j) + dim[1] * (lo[2] + k));
                if (L[g] != id) continue;
                size_t a = i + nx * (j + ny * k);
                for (int dk = -1; dk <= 0; dk++)
                    for (int dj = -1; dj <= 1; dj++)
                        for (int di = -1; di <= 1; di++) {
                            if (dk == 0 && (dj > 0 || (dj == 0 && di >= 0))) continue;
                            long ii = (long)i + di, jj = (long)j + dj, kk = (long)k + dk;
                            if (ii < 0 || jj < 0 || kk < 0 || ii >= (long)nx || jj >= (long)ny)
                                continue;
                            size_t g2 =
                                (lo[0] + (size_t)ii) +
                                dim[0] * ((lo[1] + (size_t)jj) + dim[1] * (lo[2] + (size_t)kk));
                            if (L[g2] != id) continue;
                            size_t b = (size_t)ii + nx * ((size_t)jj + ny * (size_t)kk);
                            size_t ra = uf_find(p, a), rb = uf_find(p, b);
                            if (ra != rb) p[ra] = rb;
                        }
            }
    for (size_t k = 0; k < nz; k++)
        for (size_t j = 0; j < ny; j++)
            for (size_t i = 0; i < nx; i++) {
                size_t g = (lo[0] + i) + dim[0] * ((lo[1] + j) + dim[1] * (lo[2] + k));
                size_t a = i + nx * (j + ny * k);
                if (L[g] == id && uf_find(p, a) == a) roots++;
            }
    free(p);
    return roots;
}

/* Background voxels not 6-connected to the grid border (holes inside the body); *folds gets
 * those of them lined by skin only (air enclosed where skin folds touch: outside the body's
 * surface, explained). */
static size_t holes(const uint16_t *L, const size_t dim[3], int skin, size_t *folds) {
    size_t n = dim[0] * dim[1] * dim[2], nh = 0;
    unsigned char *seen = calloc(n, 1);
    size_t *stack = malloc(n * sizeof *stack);
    if (!seen || !stack) {
        free(seen);
        free(stack);
        return 0;
    }
    size_t top = 0;
    for (size_t k = 0; k < dim[2]; k++)
        for (size_t j = 0; j < dim[1]; j++)
            for (size_t i = 0; i < dim[0]; i++)
                if (i == 0 || j == 0 || k == 0 || i == dim[0] - 1 || j == dim[1] - 1 ||
                    k == dim[2] - 1) {
                    size_t g = i + dim[0] * (j + dim[1] * k);
                    if (!L[g] && !seen[g]) seen[g] = 1, stack[top++] = g;
                }
    const long off[6] = {
        1, -1, (long)dim[0], -(long)dim[0], (long)(dim[0] * dim[1]), -(long)(dim[0] * dim[1])};
    while (top) {
        size_t g = stack[--top];
        size_t i = g % dim[0], j = (g / dim[0]) % dim[1], k = g / (dim[0] * dim[1]);
        for (int d = 0; d < 6; d++) {
            if ((d == 0 && i + 1 >= dim[0]) || (d == 1 && i == 0) || (d == 2 && j + 1 >= dim[1]) ||
                (d == 3 && j == 0) || (d == 4 && k + 1 >= dim[2]) || (d == 5 && k == 0))
                continue;
            size_t h = (size_t)((long)g + off[d]);
            if (!L[h] && !seen[h]) seen[h] = 1, stack[top++] = h;
        }
    }
    *folds = 0;
    for (size_t g = 0; g < n; g++) {
        if (L[g] || seen[g]) continue;
        nh++;
        int lined = 1; /* a hole is never on the border: its neighbours exist */
        for (int d = 0; d < 6; d++) {
            uint16_t l = L[(size_t)((long)g + off[d])];
            lined &= !l || l == skin;
        }
        *folds += (size_t)lined;
    }
    free(seen);
    free(stack);
    return nh;
}

static int fails;
static int quiet;

static void rule(int ok, uint64_t seed, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static void rule(int ok, uint64_t seed, const char *fmt, ...) {
    if (ok) return;
    fails++;
    if (!quiet) {
        va_list ap;
        va_start(ap, fmt);
        printf("  seed %llu: rule failed: ", (unsigned long long)seed);
        vprintf(fmt, ap);
        printf("\n");
        va_end(ap);
    }
}

static const stats *find(const sb_label_table *t, const stats *st, const char *name) {
    const sb_label *l = sb_labels_find_name(t, name);
    return l && st[l->id].count ? &st[l->id] : NULL;
}

int main(int argc, char **argv) {
    int nsub = 10, threads = 0, sexes = 3;
    double voxel = 2.0;
    uint64_t seed0 = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--subjects") && i + 1 < argc)
            nsub = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--voxel") && i + 1 < argc)
            voxel = atof(argv[++i]);
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            seed0 = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--sex") && i + 1 < argc) {
            i++;
            sexes = !strcmp(argv[i], "female") ? 1 : !strcmp(argv[i], "male") ? 2 : 3;
        } else if (!strcmp(argv[i], "--quiet"))
            quiet = 1;
        else {
            fprintf(stderr, "usage: anatomy_validate [--subjects N] [--voxel MM] [--threads T] "
                            "[--sex female|male|both] [--seed S] [--quiet]\n");
            return 2;
        }
    }
    sb_error err;
    sb_anatomy *a;
    if (sb_anatomy_load_default(&a, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    sb_ctx ctx = {.threads = threads};
    stats *st = calloc(65536, sizeof *st);
    printf("anatomy_validate: %d subjects per sex at %g mm\n", nsub, voxel);
    int vol_fail = 0;
    for (int sx = 0; sx < 2; sx++) {
        if (!(sexes & (1 << sx))) continue;
        double sum[NORG] = {0}, sum2[NORG] = {0}, t_total = 0, labels_min = 1e9;
        double bmi_err_sum = 0, bmi_err_max = 0, h_err_max = 0;
        for (int s = 0; s < nsub; s++) {
            uint64_t seed = seed0 + (uint64_t)s;
            sb_subject_request r = {.seed = seed, .sex = sx ? SB_SEX_MALE : SB_SEX_FEMALE};
            sb_subject subj;
            sb_volume *L = NULL, *T = NULL;
            sb_anatomy_maps maps;
            sb_label_table *t = NULL;
            if (sb_subject_sample(&r, &subj, &err) ||
                sb_anatomy_label_table(a, subj.sex, &t, &err)) {
                fprintf(stderr, "%s\n", err.msg);
                return 1;
            }
            double t0 = now_s();
            if (sb_anatomy_voxelize_maps(a, &subj, voxel, SB_MAP_LABELS | SB_MAP_TISSUES, &ctx,
                                         &maps, &err)) {
                fprintf(stderr, "%s\n", err.msg);
                return 1;
            }
            t_total += now_s() - t0;
            L = maps.labels;
            T = maps.tissues;
            memset(st, 0, 65536 * sizeof *st);
            const uint16_t *D = L->data;
            size_t border = 0, outside_skin = 0;
            const sb_label *skin = sb_labels_find_name(t, "skin");
            for (size_t k = 0; k < L->dim[2]; k++)
                for (size_t j = 0; j < L->dim[1]; j++)
                    for (size_t i = 0; i < L->dim[0]; i++) {
                        size_t g = i + L->dim[0] * (j + L->dim[1] * k);
                        int id = D[g];
                        if (!id) continue;
                        stats *q = &st[id];
                        double w[3] = {L->affine[0][3] + (double)i * voxel,
                                       L->affine[1][3] + (double)j * voxel,
                                       L->affine[2][3] + (double)k * voxel};
                        if (!q->count)
                            for (int c = 0; c < 3; c++) q->lo[c] = q->hi[c] = w[c];
                        q->count++;
                        for (int c = 0; c < 3; c++) {
                            q->c[c] += w[c];
                            q->lo[c] = fmin(q->lo[c], w[c]);
                            q->hi[c] = fmax(q->hi[c], w[c]);
                        }
                        if (i == 0 || j == 0 || k == 0 || i + 1 == L->dim[0] ||
                            j + 1 == L->dim[1] || k + 1 == L->dim[2])
                            border++;
                        else if (skin && id != skin->id &&
                                 (!D[g - 1] || !D[g + 1] || !D[g - L->dim[0]] ||
                                  !D[g + L->dim[0]] || !D[g - L->dim[0] * L->dim[1]] ||
                                  !D[g + L->dim[0] * L->dim[1]]))
                            outside_skin++;
                    }
            int present = 0;
            for (size_t i = 0; i < t->count; i++) {
                stats *q = &st[t->labels[i].id];
                if (!q->count) {
                    rule(0, seed, "%s absent", t->labels[i].name);
                    continue;
                }
                present++;
                for (int c = 0; c < 3; c++) q->c[c] /= (double)q->count;
            }
            labels_min = fmin(labels_min, present);
            rule(present >= 100, seed, "%d labels present (< 100)", present);
            rule(border == 0, seed, "%zu voxels on the volume border", border);
            rule(outside_skin == 0, seed, "%zu labelled voxels touch the outside, not skin",
                 outside_skin);
            size_t folds = 0, nh = holes(D, L->dim, skin ? skin->id : -1, &folds);
            rule(nh == folds, seed, "%zu unlabelled voxels inside the body", nh - folds);
            if (folds && !quiet)
                printf("  seed %llu: %zu voxels of air enclosed between skin folds\n",
                       (unsigned long long)seed, folds);
            /* one connected component each */
            for (size_t i = 0; i < t->count; i++) {
                const stats *q = &st[t->labels[i].id];
                if (!q->count || !sb_anatomy_is_connected(a, t->labels[i].id)) continue;
                size_t lo[3], hi[3];
                for (int c = 0; c < 3; c++) {
                    lo[c] = (size_t)floor((q->lo[c] - L->affine[c][3]) / voxel + 0.5);
                    hi[c] = (size_t)floor((q->hi[c] - L->affine[c][3]) / voxel + 0.5);
                }
                size_t nc = components(D, L->dim, t->labels[i].id, lo, hi);
                rule(nc == 1, seed, "%s has %zu connected components", t->labels[i].name, nc);
            }
            /* organ volumes */
            double ml_vox = voxel * voxel * voxel / 1000.0;
            /* one line per subject, so that runs split over seed ranges can be pooled */
            if (!quiet) printf("  seed %llu: volumes ml", (unsigned long long)seed);
            for (size_t o = 0; o < NORG; o++) {
                double v = 0;
                for (size_t i = 0; i < t->count; i++)
                    if (has_prefix(t->labels[i].name, ORGANS[o].prefix))
                        v += (double)st[t->labels[i].id].count * ml_vox;
                sum[o] += v;
                sum2[o] += v * v;
                if (!quiet) printf(" %s=%.1f", ORGANS[o].prefix, v);
            }
            if (!quiet) printf("\n");
            /* sides and order (RAS: x > 0 is the subject's right) */
            const stats *liver = find(t, st, "liver"), *spleen = find(t, st, "spleen"),
                        *stomach = find(t, st, "stomach"), *brain = find(t, st, "brain"),
                        *thyroid = find(t, st, "thyroid"),
                        *bladder = find(t, st, "urinary_bladder"),
                        *lv = find(t, st, "heart_ventricle_left"),
                        *t11 = find(t, st, "vertebrae_T11"), *l3 = find(t, st, "vertebrae_L3");
            if (liver)
                rule(liver->c[0] > 0, seed, "%s centroid x %.1f mm is not right", "liver",
                     liver->c[0]);
            if (spleen)
                rule(spleen->c[0] < 0, seed, "%s centroid x %.1f mm is not left", "spleen",
                     spleen->c[0]);
            if (stomach)
                rule(stomach->c[0] < 0, seed, "%s centroid x %.1f mm is not left", "stomach",
                     stomach->c[0]);
            if (lv)
                rule(lv->c[0] < 0, seed, "%s centroid x %.1f mm: apex not left",
                     "heart_ventricle_left", lv->c[0]);
            double heart_z = 0, heart_n = 0, kid_z = 0, kid_n = 0;
            for (size_t i = 0; i < t->count; i++) {
                const stats *q = &st[t->labels[i].id];
                if (!q->count) continue;
                if (has_prefix(t->labels[i].name, "heart"))
                    heart_z += q->c[2] * (double)q->count, heart_n += (double)q->count;
                if (has_prefix(t->labels[i].name, "kidney")) {
                    kid_z += q->c[2] * (double)q->count, kid_n += (double)q->count;
                    if (t11 && l3)
                        rule(q->c[2] < t11->c[2] && q->c[2] > l3->c[2], seed,
                             "%s centroid z %.0f mm outside T11..L3 (%.0f)", t->labels[i].name,
                             q->c[2], t11->c[2]);
                }
            }
            if (brain && thyroid && heart_n && liver && kid_n && bladder) {
                double z[6] = {brain->c[2],  thyroid->c[2], heart_z / heart_n,
                               liver->hi[2], kid_z / kid_n, bladder->c[2]};
                static const char *nm[6] = {"brain",      "thyroid", "heart",
                                            "liver dome", "kidneys", "bladder"};
                for (int q = 0; q < 5; q++)
                    rule(z[q] > z[q + 1], seed,
                         "superior-inferior order: %s at z %.0f not above %.0f", nm[q], z[q],
                         z[q + 1]);
            }
            /* stature (top of the head to the soles) and BMI from the tissues' masses */
            double zlo = 1e30, zhi = -1e30;
            for (size_t i = 0; i < t->count; i++) {
                const stats *q = &st[t->labels[i].id];
                if (q->count) zlo = fmin(zlo, q->lo[2]), zhi = fmax(zhi, q->hi[2]);
            }
            const double grams = 1000.0 * body_mass_kg(T);
            double h_mm = zhi - zlo + voxel, bmi = grams / 1000.0 / (h_mm * h_mm * 1e-6);
            rule(fabs(h_mm - 10 * subj.height_cm) <= voxel, seed, "stature %.1f mm, asked %.1f mm",
                 h_mm, 10 * subj.height_cm);
            rule(fabs(bmi / subj.bmi - 1) <= 0.03, seed, "BMI %.1f (%.1f kg), asked %.1f", bmi,
                 grams / 1000.0, subj.bmi);
            bmi_err_sum += bmi / subj.bmi - 1;
            bmi_err_max = fmax(bmi_err_max, fabs(bmi / subj.bmi - 1));
            h_err_max = fmax(h_err_max, fabs(h_mm - 10 * subj.height_cm));
            if (!quiet)
                printf("  seed %llu: %.1f cm (asked %.1f), %.1f kg, BMI %.1f (asked %.1f)\n",
                       (unsigned long long)seed, h_mm / 10, subj.height_cm, grams / 1000.0, bmi,
                       subj.bmi);
            sb_labels_free(t);
            sb_anatomy_maps_free(&maps);
        }
        printf("\n%s (%d subjects): at least %.0f labels present; voxelizing %.2f s per subject\n",
               sx ? "men" : "women", nsub, labels_min, t_total / nsub);
        printf("  stature within %.1f mm of the asked height; BMI from the tissues' masses: "
               "mean error %+.1f %%, largest %.1f %%\n",
               h_err_max, 100 * bmi_err_sum / nsub, 100 * bmi_err_max);
        printf("  %-18s %10s %10s %8s %6s\n", "organ", "mean ml", "ICRP ml", "diff", "CV");
        for (size_t o = 0; o < NORG; o++) {
            double m = sum[o] / nsub, sd = sqrt(fmax(0, sum2[o] / nsub - m * m));
            double ref = sx ? ORGANS[o].ml_m : ORGANS[o].ml_f, diff = (m - ref) / ref;
            double cv = m > 0 ? sd / m : 0;
            int ok = fabs(diff) <= 0.15 && (nsub < 10 || (cv >= 0.08 && cv <= 0.35));
            vol_fail += !ok;
            printf("  %-18s %10.1f %10.1f %+7.1f%% %5.1f%% %s\n", ORGANS[o].what, m, ref,
                   100 * diff, 100 * cv, ok ? "" : "  <-- outside ±15 % or CV 8-35 %");
        }
    }
    printf("\nrule failures: %d; organ volume checks failed: %d\n", fails, vol_fail);
    free(st);
    sb_anatomy_free(a);
    return fails || vol_fail ? 1 : 0;
}
