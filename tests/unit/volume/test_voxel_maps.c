/* Unit tests of sb_anatomy_voxelize_maps and the slab voxelizer (volume/anatomy_voxelize.c):
 *  - partial volume on a purpose-built sphere (r 22 mm): the volume summed from the fractions
 *    at 4 mm is within 1.5 % of the same subject's label volume at 1 mm (same warp, same
 *    geometry) for every seed, and steadier than the 4 mm label count (the fractions carry a
 *    small curvature bias, ~w^2 / (4 R^2) = +0.8 %, but not the label count's aliasing);
 *  - body composition: stature (top of the head to the soles) within one voxel and the body
 *    mass from the tissue map within 3 % of the asked height and weight, for thin and obese
 *    men and women at 4 mm;
 *  - the default anatomy at 8 mm: the label map is the same with and without partial volume,
 *    the maps are the same at 1 and 2 threads and whatever the split into slabs; pure voxels
 *    (pv_frac 255) carry pv_tissue == tissues, mixed ones another tissue;
 *  - specks (volume/specks.c): a man and a woman at 4 mm have no piece of at most 4 voxels of
 *    a one-piece structure within 4 voxels of a larger piece of it, while the raw maps
 *    (SB_MAP_RAW) do; the body outline (tissue != 0) is the same; few labels change.
 */
#include "anatomy_docs.h"
#include "body_mass.h"

#include <math.h>

static tmp_dir g_tmp;

/* Volume (ml) of the tissue `t` from the fractions: f of the voxels whose centre tissue is t,
 * 1 - f of those sharing it. */
static double pv_volume_ml(const sb_anatomy_maps *m, int t) {
    const uint8_t *T = m->tissues->data, *P = m->pv_tissue->data, *F = m->pv_frac->data;
    double sum = 0;
    for (size_t i = 0; i < sb_volume_nvox(m->tissues); i++) {
        if (T[i] == t) sum += F[i] / 255.0;
        if (P[i] == t && T[i] != t) sum += 1.0 - F[i] / 255.0;
    }
    const double *sp = m->tissues->spacing;
    return sum * sp[0] * sp[1] * sp[2] / 1000.0;
}

static void test_sphere_fractions(void) {
    char st[1024], doc[4096];
    sphere_struct(st, sizeof st, 7, "ball", "liver", 10, 0, 0, 100, 22, NULL);
    make_doc(doc, sizeof doc, NULL, NULL, st);
    sb_error err;
    sb_anatomy *a = load_text(&g_tmp, "pv_sphere.json", doc, &err);
    CHECK(a != NULL);
    if (!a) return;
    const int liver = tissue_index("liver");
    sb_ctx c = {.threads = 2};
    double pv_lo = 1e9, pv_hi = -1e9, lab_lo = 1e9, lab_hi = -1e9;
    const int nseeds = 6;
    for (int seed = 1; seed <= nseeds; seed++) {
        sb_subject s = reference_man((uint64_t)seed);
        sb_anatomy_maps fine, coarse;
        CHECK_OK(sb_anatomy_voxelize_maps(a, &s, 1.0, SB_MAP_LABELS, &c, &fine, &err));
        CHECK_OK(sb_anatomy_voxelize_maps(a, &s, 4.0, SB_MAP_LABELS | SB_MAP_TISSUES | SB_MAP_PV,
                                          &c, &coarse, &err));
        if (fine.labels && coarse.pv_frac) {
            double ref = (double)count_label(fine.labels, 7) / 1000.0;
            double lab = (double)count_label(coarse.labels, 7) * 64.0 / 1000.0;
            double pv = pv_volume_ml(&coarse, liver);
            printf("seed %d: sphere at 1 mm %.2f ml; at 4 mm labels %.2f ml (%+.1f %%), "
                   "fractions %.2f ml (%+.1f %%)\n",
                   seed, ref, lab, 100 * (lab / ref - 1), pv, 100 * (pv / ref - 1));
            CHECK_NEAR(pv, ref, 0.015 * ref);
            pv_lo = fmin(pv_lo, pv / ref), pv_hi = fmax(pv_hi, pv / ref);
            lab_lo = fmin(lab_lo, lab / ref), lab_hi = fmax(lab_hi, lab / ref);
        }
        sb_anatomy_maps_free(&fine);
        sb_anatomy_maps_free(&coarse);
        CHECK(fine.labels == NULL && coarse.pv_frac == NULL); /* zeroed by the free */
    }
    printf("range of the 4 mm / 1 mm ratio over %d seeds: labels %.2f %%, fractions %.2f %%\n",
           nseeds, 100 * (lab_hi - lab_lo), 100 * (pv_hi - pv_lo));
    CHECK(pv_hi - pv_lo < 0.5 * (lab_hi - lab_lo));
    sb_anatomy_free(a);
}

static int same_volume(const sb_volume *a, const sb_volume *b) {
    if (!a || !b || a->dtype != b->dtype) return 0;
    for (int k = 0; k < 3; k++)
        if (a->dim[k] != b->dim[k]) return 0;
    if (memcmp(a->affine, b->affine, sizeof a->affine)) return 0;
    return memcmp(a->data, b->data, sb_volume_nvox(a) * sb_dtype_size(a->dtype)) == 0;
}

/* Bytes of slab `s` equal to planes [k0, k0 + s->dim[2]) of `whole`, and its affine shifted. */
static int slab_matches(const sb_volume *whole, const sb_volume *s, size_t k0) {
    if (!s || s->dtype != whole->dtype || s->dim[0] != whole->dim[0] || s->dim[1] != whole->dim[1])
        return 0;
    size_t plane = whole->dim[0] * whole->dim[1] * sb_dtype_size(whole->dtype);
    if (fabs(s->affine[2][3] - (whole->affine[2][3] + (double)k0 * whole->spacing[2])) > 1e-9)
        return 0;
    return memcmp((const char *)whole->data + k0 * plane, s->data, s->dim[2] * plane) == 0;
}

static void test_default_maps(void) {
    sb_anatomy *a = NULL;
    sb_error err;
    CHECK_OK(sb_anatomy_load_default(&a, &err));
    if (!a) return;
    sb_subject s = subject_fixed(11, SB_SEX_FEMALE, 0, 0);
    const double voxel = 8.0;
    const unsigned all = SB_MAP_LABELS | SB_MAP_TISSUES | SB_MAP_PV;
    sb_ctx c1 = {.threads = 1}, c2 = {.threads = 2};
    sb_anatomy_maps m1, m2;
    sb_volume *plain = NULL;
    CHECK_OK(sb_anatomy_voxelize_maps(a, &s, voxel, all, &c1, &m1, &err));
    CHECK_OK(sb_anatomy_voxelize_maps(a, &s, voxel, all, &c2, &m2, &err));
    CHECK_OK(sb_anatomy_voxelize(a, &s, voxel, &c2, &plain, NULL, &err));
    if (!m1.pv_frac || !m2.pv_frac || !plain) goto done;
    CHECK(same_volume(m1.labels, plain)); /* partial volume never changes a label */
    CHECK(same_volume(m1.labels, m2.labels) && same_volume(m1.tissues, m2.tissues));
    CHECK(same_volume(m1.pv_tissue, m2.pv_tissue) && same_volume(m1.pv_frac, m2.pv_frac));

    /* pure voxels name their own tissue; mixed ones another, known tissue */
    const uint8_t *T = m1.tissues->data, *P = m1.pv_tissue->data, *F = m1.pv_frac->data;
    size_t ntis = 0, mixed = 0, bad = 0, body = 0;
    while (sb_tissue_table[ntis].name) ntis++;
    for (size_t i = 0; i < sb_volume_nvox(m1.tissues); i++) {
        body += T[i] != 0;
        if (F[i] == 255) {
            bad += P[i] != T[i];
        } else {
            mixed++;
            bad += P[i] == T[i] || P[i] >= ntis;
        }
    }
    printf("woman at 8 mm: %zu body voxels, %zu mixed (%.0f %%)\n", body, mixed,
           100.0 * (double)mixed / (double)body);
    CHECK(bad == 0);
    CHECK(mixed > body / 10 && mixed < body); /* at 8 mm most tissue boundaries cross voxels */

    /* slabs: uneven splits, a one-plane slab, slab borders off the voxelizer's 32-plane blocks */
    sb_voxelizer *vz = NULL;
    CHECK_OK(sb_voxelizer_new(a, &s, voxel, &c2, &vz, &err));
    if (vz) {
        size_t dim[3], cuts[6] = {0, 5, 37, 38, 0, 0};
        double origin[3];
        sb_voxelizer_grid(vz, dim, origin);
        for (int k = 0; k < 3; k++) {
            CHECK(dim[k] == m1.labels->dim[k]);
            CHECK_NEAR(origin[k], m1.labels->affine[k][3], 1e-9);
        }
        cuts[4] = dim[2] - 1;
        cuts[5] = dim[2];
        for (int i = 0; i < 5; i++) {
            sb_anatomy_maps sl;
            CHECK_OK(sb_voxelizer_slab(vz, cuts[i], cuts[i + 1], all, &c2, &sl, &err));
            CHECK(slab_matches(m1.labels, sl.labels, cuts[i]));
            CHECK(slab_matches(m1.tissues, sl.tissues, cuts[i]));
            CHECK(slab_matches(m1.pv_tissue, sl.pv_tissue, cuts[i]));
            CHECK(slab_matches(m1.pv_frac, sl.pv_frac, cuts[i]));
            sb_anatomy_maps_free(&sl);
        }
        /* only what is asked for */
        sb_anatomy_maps sl;
        CHECK_OK(sb_voxelizer_slab(vz, 0, 3, SB_MAP_TISSUES, &c1, &sl, &err));
        CHECK(sl.labels == NULL && sl.tissues != NULL && sl.pv_tissue == NULL);
        CHECK(slab_matches(m1.tissues, sl.tissues, 0));
        sb_anatomy_maps_free(&sl);
        /* a slab outside the grid is a usage error */
        CHECK(sb_voxelizer_slab(vz, 3, dim[2] + 1, all, &c1, &sl, &err) == SB_ERR_USAGE);
        CHECK(strstr(err.msg, "slab") != NULL);
        CHECK(sb_voxelizer_slab(vz, 4, 4, all, &c1, &sl, &err) == SB_ERR_USAGE);
    }
    sb_voxelizer_free(vz);
done:
    sb_anatomy_maps_free(&m1);
    sb_anatomy_maps_free(&m2);
    sb_volume_free(plain);
    sb_anatomy_free(a);
}

static void test_body_composition(void) {
    sb_anatomy *a = NULL;
    sb_error err;
    CHECK_OK(sb_anatomy_load_default(&a, &err));
    if (!a) return;
    const double voxel = 4.0;
    const struct {
        sb_sex sex;
        double height_cm, bmi, age_y;
    } who[] = {{SB_SEX_FEMALE, 158, 19, 25},
               {SB_SEX_FEMALE, 170, 41, 60},
               {SB_SEX_MALE, 168, 21, 30},
               {SB_SEX_MALE, 188, 36, 70}};
    sb_ctx c = {.threads = 2};
    for (size_t i = 0; i < sizeof who / sizeof who[0]; i++) {
        sb_subject_request r = {.seed = 100 + i,
                                .sex = who[i].sex,
                                .age_y = who[i].age_y,
                                .height_cm = who[i].height_cm,
                                .bmi = who[i].bmi};
        sb_subject s;
        sb_anatomy_maps m;
        CHECK_OK(sb_subject_sample(&r, &s, &err));
        CHECK_OK(
            sb_anatomy_voxelize_maps(a, &s, voxel, SB_MAP_LABELS | SB_MAP_TISSUES, &c, &m, &err));
        if (!m.tissues) continue;
        const uint16_t *L = m.labels->data;
        size_t klo = SIZE_MAX, khi = 0, plane = m.labels->dim[0] * m.labels->dim[1];
        for (size_t n = 0; n < sb_volume_nvox(m.labels); n++)
            if (L[n]) {
                if (n / plane < klo) klo = n / plane;
                if (n / plane > khi) khi = n / plane;
            }
        double h_mm = (double)(khi - klo + 1) * voxel, kg = body_mass_kg(m.tissues);
        printf("%s %.0f cm, BMI %.0f: stature %.1f cm, %.1f kg (asked %.1f), BMI %.1f\n",
               s.sex == SB_SEX_MALE ? "man" : "woman", s.height_cm, s.bmi, h_mm / 10, kg,
               s.weight_kg, kg / (h_mm * h_mm * 1e-6));
        CHECK_NEAR(h_mm, 10 * s.height_cm, voxel);
        CHECK_NEAR(kg / (h_mm * h_mm * 1e-6), s.bmi, 0.03 * s.bmi);
        sb_anatomy_maps_free(&m);
    }
    sb_anatomy_free(a);
}

/* 26-connected pieces of the label map: piece id per voxel (0: outside) and their sizes. */
static size_t pieces(const sb_volume *lab, uint32_t *id, size_t **size_out) {
    const uint16_t *L = lab->data;
    const size_t *d = lab->dim, n = sb_volume_nvox(lab);
    size_t *queue = malloc(n * sizeof *queue), *size = calloc(n + 1, sizeof *size), np = 0;
    memset(id, 0, n * sizeof *id);
    for (size_t s = 0; queue && size && s < n; s++) {
        if (!L[s] || id[s]) continue;
        size_t head = 0, tail = 0;
        id[s] = (uint32_t)++np;
        queue[tail++] = s;
        while (head < tail) {
            size_t q = queue[head++], i = q % d[0], j = (q / d[0]) % d[1], k = q / (d[0] * d[1]);
            for (int dz = -1; dz <= 1; dz++)
                for (int dy = -1; dy <= 1; dy++)
                    for (int dx = -1; dx <= 1; dx++) {
                        long x = (long)i + dx, y = (long)j + dy, z = (long)k + dz;
                        if (x < 0 || y < 0 || z < 0 || x >= (long)d[0] || y >= (long)d[1] ||
                            z >= (long)d[2])
                            continue;
                        size_t m = (size_t)x + d[0] * ((size_t)y + d[1] * (size_t)z);
                        if (L[m] != L[q] || id[m]) continue;
                        id[m] = id[s];
                        queue[tail++] = m;
                    }
        }
        size[np] = tail;
    }
    free(queue);
    *size_out = size;
    return np;
}

/* Pieces of at most 4 voxels of one-piece structures within 4 voxels of a larger piece. */
static size_t near_specks(const sb_anatomy *a, const sb_volume *lab) {
    const uint16_t *L = lab->data;
    const size_t *d = lab->dim, n = sb_volume_nvox(lab);
    uint32_t *id = malloc(n * sizeof *id);
    size_t *size = NULL, found = 0;
    if (!id) return SIZE_MAX;
    pieces(lab, id, &size);
    for (size_t q = 0; size && q < n; q++) {
        if (!L[q] || size[id[q]] > 4 || !sb_anatomy_is_connected(a, L[q])) continue;
        size_t i = q % d[0], j = (q / d[0]) % d[1], k = q / (d[0] * d[1]);
        int near = 0;
        for (long z = (long)k - 4; z <= (long)k + 4 && !near; z++)
            for (long y = (long)j - 4; y <= (long)j + 4 && !near; y++)
                for (long x = (long)i - 4; x <= (long)i + 4 && !near; x++) {
                    if (x < 0 || y < 0 || z < 0 || x >= (long)d[0] || y >= (long)d[1] ||
                        z >= (long)d[2])
                        continue;
                    size_t m = (size_t)x + d[0] * ((size_t)y + d[1] * (size_t)z);
                    near = L[m] == L[q] && size[id[m]] > 4;
                }
        found += near;
    }
    free(id);
    free(size);
    return found;
}

static void test_specks(void) {
    sb_anatomy *a = NULL;
    sb_error err;
    CHECK_OK(sb_anatomy_load_default(&a, &err));
    if (!a) return;
    sb_ctx c = {.threads = 2};
    size_t raw_total = 0;
    for (int sex = 0; sex < 2; sex++) {
        sb_subject s = subject_fixed(21 + (uint64_t)sex, sex ? SB_SEX_MALE : SB_SEX_FEMALE, 0, 0);
        sb_voxelizer *vz = NULL;
        sb_anatomy_maps m = {0}, r = {0};
        CHECK_OK(sb_voxelizer_new(a, &s, 4.0, &c, &vz, &err));
        size_t dim[3];
        double origin[3];
        if (!vz) break;
        sb_voxelizer_grid(vz, dim, origin);
        CHECK_OK(sb_voxelizer_slab(vz, 0, dim[2], SB_MAP_LABELS | SB_MAP_TISSUES, &c, &m, &err));
        CHECK_OK(sb_voxelizer_slab(vz, 0, dim[2], SB_MAP_LABELS | SB_MAP_TISSUES | SB_MAP_RAW, &c,
                                   &r, &err));
        if (m.labels && r.labels) {
            size_t clean = near_specks(a, m.labels), raw = near_specks(a, r.labels), changed = 0,
                   outline = 0, n = sb_volume_nvox(m.labels);
            const uint16_t *L = m.labels->data, *R = r.labels->data;
            const uint8_t *T = m.tissues->data, *U = r.tissues->data;
            for (size_t i = 0; i < n; i++) {
                changed += L[i] != R[i];
                outline += (T[i] != 0) != (U[i] != 0);
            }
            printf("%s at 4 mm: %zu specks in the raw map, %zu after; %zu labels changed\n",
                   sex ? "man" : "woman", raw, clean, changed);
            CHECK(clean == 0);
            CHECK(outline == 0);
            CHECK(changed >= raw && changed < n / 1000);
            raw_total += raw;
        }
        sb_anatomy_maps_free(&m);
        sb_anatomy_maps_free(&r);
        sb_voxelizer_free(vz);
    }
    CHECK(raw_total > 0); /* the check above can fail */
    sb_anatomy_free(a);
}

int main(void) {
    if (!tmp_init(&g_tmp)) return 1;
    test_sphere_fractions();
    test_default_maps();
    test_body_composition();
    test_specks();
    tmp_cleanup(&g_tmp);
    TEST_RETURN();
}
