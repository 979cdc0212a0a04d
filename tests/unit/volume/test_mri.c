/* Unit tests of sb_mri_spin_echo on tissue maps (sb_anatomy_voxelize's tissues_out): a small
 * purpose-built anatomy with one sphere each of fat, muscle and CSF at 4 mm (so the contrasts
 * do not depend on what the default anatomy contains), then the default anatomy at 8 mm.
 * Checks: thread-count independence, Rayleigh background, per-tissue mean signal equal to the
 * spin-echo equation of sb_tissue_table, T1w and T2w contrasts, distinct noise streams per
 * contrast and subject, usage errors. */
#include "anatomy_docs.h"

#include <math.h>

/* Mean image value over the voxels of tissue index `ti` (0: background). */
static double mean_tissue(const sb_volume *img, const sb_volume *tis, int ti, size_t *count) {
    const uint8_t *T = tis->data;
    const int16_t *I = img->data;
    double sum = 0;
    size_t n = 0;
    for (size_t i = 0; i < sb_volume_nvox(tis); i++)
        if (T[i] == ti) sum += I[i], n++;
    if (count) *count = n;
    CHECK(n > 0);
    return n ? sum / (double)n : NAN;
}

/* The noiseless signal of a tissue, scaled as sb_mri_spin_echo does (brightest tissue 1000). */
static double expected_signal(const sb_spin_echo *q, int ti) {
    double smax = 0, s = 0;
    for (int i = 1; sb_tissue_table[i].name; i++) {
        const sb_tissue_props *t = &sb_tissue_table[i];
        double v = t->pd * (1 - exp(-q->tr_ms / t->t1_ms)) * exp(-q->te_ms / t->t2_ms);
        smax = fmax(smax, v);
        if (i == ti) s = v;
    }
    return 1000 * s / smax;
}

static void test_phantom(void) {
    tmp_dir tmp;
    if (!tmp_init(&tmp)) return;
    char s1[1024], s2[1024], s3[1024], all[3200], doc[8192];
    sphere_struct(s1, sizeof s1, 1, "fat_ball", "fat", 10, -40, 0, 100, 25, NULL);
    sphere_struct(s2, sizeof s2, 2, "muscle_ball", "muscle", 10, 0, 0, 100, 25, NULL);
    sphere_struct(s3, sizeof s3, 3, "csf_ball", "csf", 10, 40, 0, 100, 25, NULL);
    docf(all, sizeof all, "%s, %s, %s", s1, s2, s3);
    make_doc(doc, sizeof doc, NULL, NULL, all);
    sb_error err;
    sb_anatomy *a = load_text(&tmp, "phantom", doc, &err);
    CHECK(a != NULL);
    sb_subject s = subject_fixed(2024, SB_SEX_FEMALE, 165, 24);
    sb_ctx c1 = {.threads = 1}, c2 = {.threads = 2};
    sb_volume *lab = NULL, *tis = NULL, *t1a = NULL, *t1b = NULL, *t2 = NULL, *t1c = NULL;
    if (a) CHECK_OK(sb_anatomy_voxelize(a, &s, 4.0, &c2, &lab, &tis, &err));
    if (!tis) goto done;
    CHECK(tis->dtype == SB_DT_UINT8);

    CHECK_OK(sb_mri_spin_echo(tis, &sb_sequence_t1w, &s, &c1, &t1a, &err));
    CHECK_OK(sb_mri_spin_echo(tis, &sb_sequence_t1w, &s, &c2, &t1b, &err));
    CHECK_OK(sb_mri_spin_echo(tis, &sb_sequence_t2w, &s, &c2, &t2, &err));
    if (!t1a || !t1b || !t2) goto done;
    const size_t nvox = sb_volume_nvox(tis);
    CHECK(t1a->dtype == SB_DT_INT16);
    CHECK(memcmp(t1a->dim, tis->dim, sizeof tis->dim) == 0);
    CHECK(memcmp(t1a->affine, tis->affine, sizeof tis->affine) == 0);

    /* 1 and 2 threads: identical bytes */
    CHECK(memcmp(t1a->data, t1b->data, nvox * sizeof(int16_t)) == 0);

    /* background: signal 0 plus complex Gaussian noise -> Rayleigh, mean sigma sqrt(pi / 2) */
    size_t nbg;
    const double sigma = 1000.0 * sb_sequence_t1w.noise;
    double bg1 = mean_tissue(t1a, tis, 0, &nbg), bg2 = mean_tissue(t2, tis, 0, NULL);
    double rayleigh = sigma * sqrt(M_PI / 2.0);
    printf("background (%zu voxels): T1w mean %.2f, T2w mean %.2f, Rayleigh %.2f (sigma %.0f)\n",
           nbg, bg1, bg2, rayleigh, sigma);
    CHECK(nbg > 10000);
    CHECK_NEAR(bg1, rayleigh, 0.05 * rayleigh);
    CHECK_NEAR(bg2, rayleigh, 0.05 * rayleigh);

    /* no negative magnitudes */
    const int16_t *I1 = t1a->data, *I2 = t2->data;
    int16_t lo = 32767;
    for (size_t i = 0; i < nvox; i++) lo = I1[i] < lo ? I1[i] : lo;
    CHECK(lo >= 0);

    /* tissue means: the spin-echo equation (Rician bias ~ sigma^2 / 2S, < 2 % here) */
    const int fat = tissue_index("fat"), mus = tissue_index("muscle"), csf = tissue_index("csf");
    CHECK(fat > 0 && mus > 0 && csf > 0);
    double fat1 = mean_tissue(t1a, tis, fat, NULL), mus1 = mean_tissue(t1a, tis, mus, NULL);
    double csf1 = mean_tissue(t1a, tis, csf, NULL);
    double fat2 = mean_tissue(t2, tis, fat, NULL), mus2 = mean_tissue(t2, tis, mus, NULL);
    double csf2 = mean_tissue(t2, tis, csf, NULL);
    const int ts[3] = {fat, mus, csf};
    const double m1[3] = {fat1, mus1, csf1}, m2[3] = {fat2, mus2, csf2};
    for (int k = 0; k < 3; k++) {
        double e1 = expected_signal(&sb_sequence_t1w, ts[k]);
        double e2 = expected_signal(&sb_sequence_t2w, ts[k]);
        printf("%-6s T1w %6.1f (equation %6.1f)   T2w %6.1f (equation %6.1f)\n",
               sb_tissue_table[ts[k]].name, m1[k], e1, m2[k], e2);
        CHECK_NEAR(m1[k], e1, 0.02 * e1 + 2);
        CHECK_NEAR(m2[k], e2, 0.02 * e2 + 2);
    }
    /* T1w: fat bright (the brightest tissue: ~1000), muscle grey, CSF dark;
     * T2w: CSF bright, muscle dark */
    CHECK(fat1 > 2.0 * mus1);
    CHECK(csf1 < mus1);
    CHECK_NEAR(fat1, 1000.0, 20.0);
    CHECK(csf2 > 2.0 * mus2);
    CHECK(csf2 > fat2 && mus2 < fat2);

    /* T1w and T2w draw from different noise streams: background voxels mostly differ */
    const uint8_t *T = tis->data;
    size_t same = 0;
    for (size_t i = 0; i < nvox; i++)
        if (T[i] == 0 && I1[i] == I2[i]) same++;
    printf("background voxels equal in T1w and T2w: %zu of %zu\n", same, nbg);
    CHECK((double)same < 0.1 * (double)nbg);

    /* another subject index, another noise field on the same tissues */
    sb_subject other = s;
    other.subject = 1;
    CHECK_OK(sb_mri_spin_echo(tis, &sb_sequence_t1w, &other, &c2, &t1c, &err));
    if (t1c) CHECK(memcmp(t1c->data, t1a->data, nvox * sizeof(int16_t)) != 0);

    /* invalid sequences are usage errors naming the sequence; nothing is returned */
    sb_spin_echo bad = sb_sequence_t2w;
    bad.te_ms = bad.tr_ms + 1;
    sb_volume *v = NULL;
    CHECK(sb_mri_spin_echo(tis, &bad, &s, &c1, &v, &err) == SB_ERR_USAGE);
    CHECK(strstr(err.msg, "T2w") != NULL);
    bad = sb_sequence_t1w;
    bad.noise = -0.1;
    CHECK(sb_mri_spin_echo(tis, &bad, &s, &c1, &v, &err) == SB_ERR_USAGE);
    CHECK(v == NULL);
    /* a label map (uint16) is not a tissue map */
    CHECK(sb_mri_spin_echo(lab, &sb_sequence_t1w, &s, &c1, &v, &err) != SB_OK);
    CHECK(v == NULL && strstr(err.msg, "uint8") != NULL);
done:
    sb_volume_free(t1a);
    sb_volume_free(t1b);
    sb_volume_free(t1c);
    sb_volume_free(t2);
    sb_volume_free(lab);
    sb_volume_free(tis);
    sb_anatomy_free(a);
    tmp_cleanup(&tmp);
}

/* The default anatomy's tissue map: fat brighter than muscle in T1w, background Rayleigh. */
static void test_default(void) {
    sb_anatomy *a = NULL;
    sb_error err;
    CHECK_OK(sb_anatomy_load_default(&a, &err));
    sb_subject s = subject_fixed(7, SB_SEX_MALE, 0, 0);
    sb_volume *lab = NULL, *tis = NULL, *t1 = NULL;
    sb_ctx c = {.threads = 2};
    if (a) CHECK_OK(sb_anatomy_voxelize(a, &s, 8.0, &c, &lab, &tis, &err));
    if (tis) CHECK_OK(sb_mri_spin_echo(tis, &sb_sequence_t1w, &s, &c, &t1, &err));
    if (t1) {
        double fat = mean_tissue(t1, tis, tissue_index("fat"), NULL);
        double mus = mean_tissue(t1, tis, tissue_index("muscle"), NULL);
        double bg = mean_tissue(t1, tis, 0, NULL);
        printf("default anatomy, 8 mm T1w: fat %.0f, muscle %.0f, background %.1f\n", fat, mus, bg);
        CHECK(fat > 2.0 * mus);
        CHECK_NEAR(bg, 20.0 * sqrt(M_PI / 2), 0.05 * 20.0 * sqrt(M_PI / 2));
    }
    sb_volume_free(t1);
    sb_volume_free(lab);
    sb_volume_free(tis);
    sb_anatomy_free(a);
}

int main(void) {
    test_phantom();
    test_default();
    TEST_RETURN();
}
