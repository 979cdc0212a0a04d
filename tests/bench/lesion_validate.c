/* lesion_validate — the pathology acceptance figures (README "Pathology") over many subjects:
 * per subject, the maps with and without the lesions (same seed), T1w, T2w and ADC of both,
 * then: labels byte-identical, images identical outside lesions, oedema and one voxel around
 * them (and, for diffuse resizes, outside the resized organs in either map); the resized organs'
 * volume against the factor asked; every lesion voxel in its host's labels; counts and diameters
 * against the request and the types' ranges; the statistics (lesions.tsv) against the instance map;
 * each type's expected contrast (lesions.json "expect"), lesion interior against host interior, on
 * images without noise and bias field (the tissue model and the partial volume: the check) and on
 * the acquired ones (reported beside).
 *
 * usage: lesion_validate [--subjects N] [--first SEED] [--voxel MM] [--lesions SPEC]
 *                        [--lesion-seed-offset K]
 */
#include "sb_volume.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NCLASS 40

typedef struct {
    size_t lesions, subjects_with, size_in, size_in_voxel, voxels0;
    double dmin, dmax, dmodel_min, dmodel_max;
    int cmin, cmax;
    /* per expectation: subjects checked, held (on the noise-free images; "variable": the
     * lesions were darker), held on the images with noise and bias, and the sum of lesion/host
     * ratios (noise-free) */
    size_t e_checked[8], e_held[8], e_held_noisy[8];
    double e_ratio[8];
    /* T2w coefficient of variation of the interiors: subjects, sums (lesion, host) */
    size_t cv_n;
    double cv_les, cv_host;
} class_stats;

/* Warnings of the plan ("... of N lesions found room"): lesions left out. */
static size_t g_left_out;
static void on_log(void *user, sb_log_level level, const char *msg) {
    (void)user;
    int placed, asked;
    const char *p = strchr(msg, ':');
    if (level == SB_LOG_WARN && p && sscanf(p, ": %d of %d lesions", &placed, &asked) == 2)
        g_left_out += (size_t)(asked - placed);
    if (level <= SB_LOG_WARN) fprintf(stderr, "lesion_validate: %s\n", msg);
}

static int in_set(uint16_t v, const uint16_t *set, int n) {
    for (int k = 0; k < n; k++)
        if (set[k] == v) return 1;
    return 0;
}

/* Interior (all 6 neighbours also in) of mask m over a grid. */
static int interior(const uint8_t *m, const size_t d[3], size_t n) {
    size_t i = n % d[0], j = (n / d[0]) % d[1], k = n / (d[0] * d[1]);
    if (!m[n] || i == 0 || j == 0 || k == 0 || i + 1 == d[0] || j + 1 == d[1] || k + 1 == d[2])
        return 0;
    size_t sx = 1, sy = d[0], sz = d[0] * d[1];
    return m[n - sx] && m[n + sx] && m[n - sy] && m[n + sy] && m[n - sz] && m[n + sz];
}

/* Distance (mm) from voxel v to the nearest voxel of mask m within 12 voxels; INFINITY beyond. */
static double dist_to(const uint8_t *m, const size_t d[3], size_t v, double voxel) {
    long i = (long)(v % d[0]), j = (long)((v / d[0]) % d[1]), k = (long)(v / (d[0] * d[1]));
    double best = INFINITY;
    for (long c = k - 12; c <= k + 12; c++)
        for (long b = j - 12; b <= j + 12; b++)
            for (long a = i - 12; a <= i + 12; a++)
                if (a >= 0 && b >= 0 && c >= 0 && a < (long)d[0] && b < (long)d[1] &&
                    c < (long)d[2] && m[(size_t)a + d[0] * ((size_t)b + d[1] * (size_t)c)])
                    best = fmin(best, voxel * sqrt((double)((a - i) * (a - i) + (b - j) * (b - j) +
                                                            (c - k) * (c - k))));
    return best;
}

static int acquire(const sb_protocol *p, const sb_mr_tissues *m, const sb_subject *s,
                   const sb_anatomy_maps *maps, sb_volume *img[3], sb_error *err) {
    sb_mri_session *ss = NULL;
    sb_ctx ctx = {0};
    if (sb_mri_session_new(m, s, maps->tissues, &ss, err)) return 1;
    for (size_t i = 0; i < p->count; i++) {
        sb_volume *out[SB_MRI_OUT_MAX];
        double slope[SB_MRI_OUT_MAX];
        if (sb_mri_acquire(ss, &p->acq[i], maps->tissues, maps->pv_tissue, maps->pv_frac, 0xffu,
                           SB_DT_FLOAT32, &ctx, out, slope, err)) {
            sb_mri_session_free(ss);
            return 1;
        }
        /* T1w, T2w: output 0; DWI b50, b800, ADC: output 2 */
        size_t want = p->acq[i].seq.kind == SB_SEQ_DWI ? 2 : 0;
        img[i] = out[want];
        for (size_t k = 0; k < SB_MRI_OUT_MAX; k++)
            if (k != want) sb_volume_free(out[k]);
    }
    sb_mri_session_free(ss);
    return 0;
}

int main(int argc, char **argv) {
    int subjects = 50, first = 1;
    double voxel = 4;
    uint64_t seed_offset = 1000;
    const char *spec = "liver-metastasis:1-5,liver-cyst:1-3,hcc:0-1,renal-cyst:1-2,rcc:0-1,"
                       "lung-nodule:1-5,bone-metastasis:1-4,brain-tumour:1,ms-lesion:3-12,"
                       "lymph-node:1-4,hepatomegaly:0-1,splenomegaly:0-1";
    for (int i = 1; i + 1 < argc + 1; i += 2) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (v && !strcmp(o, "--subjects"))
            subjects = atoi(v);
        else if (v && !strcmp(o, "--first"))
            first = atoi(v);
        else if (v && !strcmp(o, "--voxel"))
            voxel = atof(v);
        else if (v && !strcmp(o, "--lesions"))
            spec = v;
        else if (v && !strcmp(o, "--lesion-seed-offset"))
            seed_offset = strtoull(v, NULL, 10);
        else {
            fprintf(stderr, "usage: lesion_validate [--subjects N] [--first SEED] [--voxel MM] "
                            "[--lesions SPEC] [--lesion-seed-offset K]\n");
            return 2;
        }
    }
    sb_error err;
    sb_anatomy *an = NULL;
    sb_tissue_db *db = NULL;
    sb_lesion_catalog *cat = NULL;
    sb_protocol p, pc; /* as acquired; without noise and bias field (contrast check) */
    if (sb_anatomy_load_default(&an, &err) || sb_tissue_db_load(NULL, &db, &err) ||
        sb_lesion_catalog_load(NULL, &cat, &err) || sb_lesion_spec_check(cat, spec, &err) ||
        sb_mri_protocol(NULL, "T1w,T2w,ADC", 0, -1, -1, &p, &err) ||
        sb_mri_protocol(NULL, "T1w,T2w,ADC", 0, 0, 0, &pc, &err)) {
        fprintf(stderr, "lesion_validate: %s\n", err.msg);
        return 1;
    }
    const char *cname[3] = {"T1w", "T2w", "ADC"};
    size_t ncls = sb_lesion_class_count(cat);
    class_stats cs[NCLASS];
    memset(cs, 0, sizeof cs);
    for (size_t k = 0; k < NCLASS; k++)
        cs[k].dmin = cs[k].dmodel_min = INFINITY, cs[k].cmin = 1 << 30;
    struct {
        char name[48];
        size_t n;
        double sum, lo, hi;
    } rs[8];
    int nrs = 0;
    size_t label_diff_vox = 0;
    double label_diff_far = 0; /* mm from the resized organs, the farthest changed label */
    double img_diff_far = 0;   /* and the farthest changed image voxel (subjects with resizes) */
    size_t outside_host = 0, label_diff = 0, img_diff = 0, table_bad = 0, lesions_total = 0;
    double cen_err = 0;
    sb_ctx ctx = {.log = on_log};
    printf("%d subjects from seed %d, %.1f mm, lesion seed = seed + %llu, lesions %s\n", subjects,
           first, voxel, (unsigned long long)seed_offset, spec);
    for (int n = first; n < first + subjects; n++) {
        sb_subject s, s0;
        sb_subject_request rq = {.seed = (uint64_t)n, .sex = SB_SEX_RANDOM};
        sb_anatomy_maps m0 = {0}, m1 = {0};
        sb_lesions *L = NULL;
        sb_volume *inst = NULL, *cls = NULL, *img0[3] = {0}, *img1[3] = {0}, *imgc[3] = {0};
        sb_mr_tissues mt0, mt1;
        const unsigned all = SB_MAP_LABELS | SB_MAP_TISSUES | SB_MAP_PV;
        if (sb_subject_sample(&rq, &s, &err) || (s0 = s, 0) ||
            sb_lesions_plan(cat, spec, (uint64_t)n + seed_offset, an, &s, &ctx, &L, &err) ||
            sb_anatomy_voxelize_maps(an, &s0, voxel, all, &ctx, &m0, &err) ||
            sb_anatomy_voxelize_maps(an, &s, voxel, all, &ctx, &m1, &err) ||
            sb_lesions_paint(L, &m1, 0, &inst, &cls, &err)) {
            fprintf(stderr, "lesion_validate: seed %d: %s\n", n, err.msg);
            return 1;
        }
        sb_tissue_db_sample(db, &s0, &mt0);
        mt0.count = (size_t)sb_lesion_tissue_first(); /* as generate without lesions */
        sb_tissue_db_sample(db, &s, &mt1);
        if (acquire(&p, &mt0, &s0, &m0, img0, &err) || acquire(&p, &mt1, &s, &m1, img1, &err) ||
            acquire(&pc, &mt1, &s, &m1, imgc, &err)) {
            fprintf(stderr, "lesion_validate: seed %d: %s\n", n, err.msg);
            return 1;
        }
        const size_t *d = inst->dim, nv = sb_volume_nvox(inst);
        const uint16_t *I = inst->data, *lab = m1.labels->data;
        sb_label_table *tab = NULL;
        if (sb_anatomy_label_table(an, s.sex, &tab, &err)) return 1;
        const uint8_t *C = cls->data;
        /* diffuse resizes: the organs' voxels in either map are allowed to differ */
        uint8_t *grown = calloc(nv, 1);
        if (!grown) return 1;
        const uint16_t *lab0 = m0.labels->data;
        for (int r = 0; r < s.nresize; r++) {
            const sb_label *lb = sb_labels_find_name(tab, s.resize[r].name);
            size_t n0 = 0, n1 = 0;
            for (size_t v = 0; lb && v < nv; v++) {
                n0 += lab0[v] == lb->id, n1 += lab[v] == lb->id;
                if (lab0[v] == lb->id || lab[v] == lb->id) grown[v] = 1;
            }
            int g = 0;
            while (g < nrs && strcmp(rs[g].name, s.resize[r].name)) g++;
            if (g == nrs && nrs < 8)
                snprintf(rs[nrs++].name, sizeof rs[0].name, "%s", s.resize[r].name);
            if (g < 8 && n0) {
                double ratio = (double)n1 / (double)n0 / s.resize[r].factor;
                rs[g].n++, rs[g].sum += ratio,
                    rs[g].lo = rs[g].n == 1 ? ratio : fmin(rs[g].lo, ratio),
                    rs[g].hi = fmax(rs[g].hi, ratio);
                printf("seed %3d %s: x%.3f asked, x%.3f measured (%zu -> %zu voxels)\n", n,
                       s.resize[r].name, s.resize[r].factor, (double)n1 / (double)n0, n0, n1);
            }
        }
        size_t ldiff = 0;
        for (size_t v = 0; v < nv; v++) {
            if (grown[v] || lab0[v] == lab[v]) continue;
            ldiff++;
            /* how far from the resized organs (either map), and which labels */
            double best = dist_to(grown, d, v, voxel);
            label_diff_far = fmax(label_diff_far, best);
            const sb_label *x0 = sb_labels_find_id(tab, lab0[v]),
                           *x1 = sb_labels_find_id(tab, lab[v]);
            fprintf(stderr, "seed %d: label %s -> %s, %.1f mm from the resized organs\n", n,
                    x0 ? x0->name : "background", x1 ? x1->name : "background", best);
        }
        label_diff += ldiff != 0;
        label_diff_vox += ldiff;
        /* images identical outside lesions, oedema and one voxel around them */
        uint8_t *near = calloc(nv, 1), *mask = calloc(nv, 1), *hostm = calloc(nv, 1);
        if (!near || !mask || !hostm) return 1;
        for (size_t v = 0; v < nv; v++) {
            if (!I[v] && !C[v]) continue;
            size_t i = v % d[0], j = (v / d[0]) % d[1], k = v / (d[0] * d[1]);
            for (int dk = -1; dk <= 1; dk++)
                for (int dj = -1; dj <= 1; dj++)
                    for (int di = -1; di <= 1; di++) {
                        long a = (long)i + di, b = (long)j + dj, c = (long)k + dk;
                        if (a < 0 || b < 0 || c < 0 || a >= (long)d[0] || b >= (long)d[1] ||
                            c >= (long)d[2])
                            continue;
                        near[(size_t)a + d[0] * ((size_t)b + d[1] * (size_t)c)] = 1;
                    }
        }
        size_t nles = sb_lesions_count(L);
        for (size_t li = 0; li < nles; li++) { /* a lesion's reach: partial volume around it */
            sb_lesion_info info;
            sb_lesions_info(L, li, &info);
            double r = info.max_diameter_mm / 2 + 2 * voxel;
            for (size_t v = 0; v < nv; v++) {
                double ijk[3] = {(double)(v % d[0]), (double)((v / d[0]) % d[1]),
                                 (double)(v / (d[0] * d[1]))},
                       w[3];
                sb_volume_to_world(inst, ijk, w);
                double dd = 0;
                for (int a = 0; a < 3; a++)
                    dd += (w[a] - info.centroid_mm[a]) * (w[a] - info.centroid_mm[a]);
                if (dd < r * r) near[v] = 1;
            }
        }
        for (size_t v = 0; v < nv; v++) { /* and one voxel around the resized organs and
                                           * any other label changed */
            if (!grown[v] && lab0[v] == lab[v]) continue;
            size_t i = v % d[0], j = (v / d[0]) % d[1], k = v / (d[0] * d[1]);
            for (int dk = -1; dk <= 1; dk++)
                for (int dj = -1; dj <= 1; dj++)
                    for (int di = -1; di <= 1; di++) {
                        long a = (long)i + di, b = (long)j + dj, c = (long)k + dk;
                        if (a >= 0 && b >= 0 && c >= 0 && a < (long)d[0] && b < (long)d[1] &&
                            c < (long)d[2])
                            near[(size_t)a + d[0] * ((size_t)b + d[1] * (size_t)c)] |= 2;
                    }
        }
        for (int c = 0; c < 3; c++) {
            const float *x = img0[c]->data, *y = img1[c]->data;
            for (size_t v = 0; v < nv; v++) {
                if (near[v] || !memcmp(&x[v], &y[v], sizeof *x)) continue;
                img_diff++;
                const double dorg = s.nresize ? dist_to(grown, d, v, voxel) : INFINITY;
                if (s.nresize) img_diff_far = fmax(img_diff_far, dorg);
                double ijk[3] = {(double)(v % d[0]), (double)((v / d[0]) % d[1]),
                                 (double)(v / (d[0] * d[1]))},
                       w[3], best = INFINITY;
                sb_volume_to_world(inst, ijk, w);
                sb_lesion_info bi = {0};
                for (size_t li = 0; li < nles; li++) {
                    sb_lesion_info info;
                    sb_lesions_info(L, li, &info);
                    double dd = 0;
                    for (int a = 0; a < 3; a++)
                        dd += (w[a] - info.centroid_mm[a]) * (w[a] - info.centroid_mm[a]);
                    if (sqrt(dd) < best) best = sqrt(dd), bi = info;
                }
                fprintf(stderr,
                        "seed %d %s: voxel at %.0f %.0f %.0f changed, %.1f mm from lesion %d (%s, "
                        "%zu voxels, largest diameter %.1f mm); tissue %d pv %d/%d; %.1f mm from "
                        "the resized "
                        "organs\n",
                        n, cname[c], w[0], w[1], w[2], best, bi.id, bi.type, bi.voxels,
                        bi.max_diameter_mm, ((const uint8_t *)m1.tissues->data)[v],
                        ((const uint8_t *)m1.pv_tissue->data)[v],
                        ((const uint8_t *)m1.pv_frac->data)[v], dorg);
            }
        }
        /* per lesion: host, table, sizes; per class: counts and contrast */
        size_t per_class[NCLASS] = {0};
        double sum[2][3], sumc[2][3]; /* [host, lesion][contrast]: acquired, noise-free */
        size_t cnt[2];
        for (size_t li = 0; li < nles; li++) {
            sb_lesion_info info;
            sb_lesions_info(L, li, &info);
            lesions_total++;
            per_class[info.class_id]++;
            class_stats *k = &cs[info.class_id];
            k->lesions++;
            size_t vox = 0;
            double c[3] = {0, 0, 0};
            for (size_t v = 0; v < nv; v++)
                if (I[v] == info.id) {
                    vox++;
                    outside_host += !in_set(lab[v], info.host_labels, info.nhost_labels);
                    double ijk[3] = {(double)(v % d[0]), (double)((v / d[0]) % d[1]),
                                     (double)(v / (d[0] * d[1]))},
                           w[3];
                    sb_volume_to_world(inst, ijk, w);
                    for (int a = 0; a < 3; a++) c[a] += w[a];
                }
            table_bad += vox != info.voxels ||
                         fabs((double)vox * voxel * voxel * voxel / 1000 - info.volume_ml) > 1e-9;
            for (int a = 0; vox && a < 3; a++)
                cen_err = fmax(cen_err, fabs(c[a] / (double)vox - info.centroid_mm[a]));
            double rng[2];
            sb_lesion_class_sizes(cat, (size_t)info.class_id, rng);
            k->dmodel_min = fmin(k->dmodel_min, info.model_diameter_mm);
            k->dmodel_max = fmax(k->dmodel_max, info.model_diameter_mm);
            if (!vox) {
                k->voxels0++;
                continue;
            }
            k->dmin = fmin(k->dmin, info.diameter_mm);
            k->dmax = fmax(k->dmax, info.diameter_mm);
            k->size_in += info.diameter_mm >= rng[0] && info.diameter_mm <= rng[1];
            k->size_in_voxel +=
                info.diameter_mm >= rng[0] - voxel && info.diameter_mm <= rng[1] + voxel;
        }
        for (size_t k = 1; k < ncls && k < NCLASS; k++) {
            if (per_class[k]) cs[k].subjects_with++;
            cs[k].cmin = cs[k].cmin < (int)per_class[k] ? cs[k].cmin : (int)per_class[k];
            cs[k].cmax = cs[k].cmax > (int)per_class[k] ? cs[k].cmax : (int)per_class[k];
        }
        /* contrast: per class, interior voxels of its lesions vs interior host voxels two voxels
         * away from any lesion */
        for (size_t k = 1; k < ncls && k < NCLASS; k++) {
            char con[8][16];
            int sign[8];
            size_t ne = sb_lesion_class_expect(cat, k, con, sign);
            if (!per_class[k] || !ne) continue;
            memset(mask, 0, nv), memset(hostm, 0, nv);
            const uint8_t *T = m1.tissues->data;
            int ltis = sb_lesion_class_tissue(cat, k); /* the solid part, not a necrotic core */
            for (size_t li = 0; li < nles; li++) {
                sb_lesion_info info;
                sb_lesions_info(L, li, &info);
                if ((size_t)info.class_id != k) continue;
                for (size_t v = 0; v < nv; v++) {
                    if (I[v] == info.id) mask[v] = 1;
                    if (I[v] == info.id && T[v] != ltis) mask[v] = 2;
                    if (in_set(lab[v], info.host_labels, info.nhost_labels)) hostm[v] = 1;
                }
            }
            memset(sum, 0, sizeof sum), memset(sumc, 0, sizeof sumc), memset(cnt, 0, sizeof cnt);
            double sq[2] = {0, 0};
            for (size_t v = 0; v < nv; v++) {
                int in_l = interior(mask, d, v) && mask[v] == 1,
                    in_h = interior(hostm, d, v) && !(near[v] & 1);
                if (!in_l && !in_h) continue;
                for (int c = 0; c < 3; c++) {
                    sum[in_l][c] += ((const float *)img1[c]->data)[v];
                    sumc[in_l][c] += ((const float *)imgc[c]->data)[v];
                }
                const double t2 = ((const float *)img1[1]->data)[v];
                sq[in_l] += t2 * t2;
                cnt[in_l]++;
            }
            if (!cnt[0] || !cnt[1]) continue;
            if (cnt[1] >= 2) { /* heterogeneity: T2w coefficient of variation, lesion and host */
                double cv[2];
                for (int h = 0; h < 2; h++) {
                    double mu = sum[h][1] / (double)cnt[h];
                    cv[h] = sqrt(fmax(0, sq[h] / (double)cnt[h] - mu * mu)) / mu;
                }
                cs[k].cv_n++, cs[k].cv_les += cv[1], cs[k].cv_host += cv[0];
            }
            for (size_t e = 0; e < ne; e++)
                for (int c = 0; c < 3; c++) {
                    if (strcmp(con[e], cname[c])) continue;
                    double lm = sumc[1][c] / (double)cnt[1], hm = sumc[0][c] / (double)cnt[0];
                    double ln = sum[1][c] / (double)cnt[1], hn = sum[0][c] / (double)cnt[0];
                    cs[k].e_checked[e]++;
                    cs[k].e_held[e] += sign[e] > 0 ? lm > hm : lm < hm; /* variable: lower */
                    cs[k].e_held_noisy[e] += sign[e] > 0 ? ln > hn : ln < hn;
                    cs[k].e_ratio[e] += lm / hm;
                }
        }
        printf("seed %3d %s BMI %4.1f: %2zu lesions, %s\n", n,
               s.sex == SB_SEX_MALE ? "man  " : "woman", s.bmi, nles,
               sb_lesions_diffuse(L)[0] ? sb_lesions_diffuse(L) : "no diffuse change");
        fflush(stdout);
        free(near), free(mask), free(hostm), free(grown);
        sb_labels_free(tab);
        for (int c = 0; c < 3; c++)
            sb_volume_free(img0[c]), sb_volume_free(img1[c]), sb_volume_free(imgc[c]);
        sb_volume_free(inst), sb_volume_free(cls);
        sb_anatomy_maps_free(&m0), sb_anatomy_maps_free(&m1);
        sb_lesions_free(L);
    }
    printf("\nsubjects whose label map changed outside the resized organs: %zu (%zu voxels, the "
           "farthest %.1f mm from them; inf: over 12 voxels); image voxels changed outside the "
           "lesions' reach and one voxel around the resized organs and changed labels: %zu (in "
           "subjects with resizes, the farthest %.1f mm from the organs)\n",
           label_diff, label_diff_vox, label_diff_far, img_diff, img_diff_far);
    for (int g = 0; g < nrs; g++)
        printf("resized %s: %zu subjects, measured/asked volume factor mean %.3f (%.3f-%.3f)\n",
               rs[g].name, rs[g].n, rs[g].n ? rs[g].sum / (double)rs[g].n : 0.0, rs[g].lo,
               rs[g].hi);
    printf("lesions left out for want of room: %zu\n", g_left_out);
    printf("lesions: %zu; lesion voxels outside their host: %zu; table rows disagreeing with the "
           "map: %zu; centroid difference max %.2g mm\n\n",
           lesions_total, outside_host, table_bad, cen_err);
    printf("| type | count per subject (min-max) | subjects with | diameter range | drawn | mask, "
           "lesions with voxels | in range | within 1 voxel | no voxel | contrast vs host, no "
           "noise or bias: held / subjects (mean ratio) [held with noise and bias] | T2w CV "
           "lesion / host (subjects) |\n"
           "|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (size_t k = 1; k < ncls && k < NCLASS; k++) {
        if (!cs[k].lesions && cs[k].cmax == 0) continue;
        double rng[2];
        sb_lesion_class_sizes(cat, k, rng);
        char con[8][16];
        int sign[8];
        size_t ne = sb_lesion_class_expect(cat, k, con, sign);
        size_t withv = cs[k].lesions - cs[k].voxels0;
        printf(
            "| %s | %d-%d | %zu | %.0f-%.0f mm | %.1f-%.1f | %.1f-%.1f | %zu/%zu | %zu/%zu | %zu "
            "| ",
            sb_lesion_class_name(cat, k, NULL), cs[k].cmin, cs[k].cmax, cs[k].subjects_with, rng[0],
            rng[1], cs[k].dmodel_min, cs[k].dmodel_max, cs[k].dmin, cs[k].dmax, cs[k].size_in,
            withv, cs[k].size_in_voxel, withv, cs[k].voxels0);
        for (size_t e = 0; e < ne; e++) {
            const int adc = !strcmp(con[e], "ADC");
            const double ratio =
                cs[k].e_checked[e] ? cs[k].e_ratio[e] / (double)cs[k].e_checked[e] : 0.0;
            const size_t n = cs[k].e_checked[e], lo = cs[k].e_held[e];
            if (sign[e]) /* held: in every subject measured */
                printf("%s%s %s %zu/%zu (%.2f) [%zu]%s", e ? "; " : "", con[e],
                       sign[e] > 0 ? (adc ? "higher" : "brighter") : (adc ? "lower" : "darker"), lo,
                       n, ratio, cs[k].e_held_noisy[e], lo == n ? "" : " **NOT HELD**");
            else /* variable: held if both occur */
                printf("%s%s variable: %s %zu, %s %zu of %zu (%.2f)%s", e ? "; " : "", con[e],
                       adc ? "lower" : "darker", lo, adc ? "higher" : "brighter", n - lo, n, ratio,
                       n && lo && lo < n ? "" : " **NOT HELD**");
        }
        if (cs[k].cv_n)
            printf(" | %.3f / %.3f (%zu) |\n", cs[k].cv_les / (double)cs[k].cv_n,
                   cs[k].cv_host / (double)cs[k].cv_n, cs[k].cv_n);
        else
            printf(" | - |\n");
    }
    sb_lesion_catalog_free(cat);
    sb_tissue_db_free(db);
    sb_anatomy_free(an);
    return 0;
}
