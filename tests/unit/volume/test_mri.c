/* Unit tests of sb_mri_spin_echo on an 8 mm label map: thread-count independence, Rayleigh
 * background, T1w and T2w contrast between tissues, distinct noise streams per contrast. */
#include "sb_volume.h"
#include "sb_test.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define VOXEL_MM 8.0

/* Mean image value over the voxels of label `name` (0 for background with name NULL). */
static double mean_in(const sb_volume *img, const sb_volume *lab, const sb_label_table *t,
                      const char *name, size_t *count) {
    int id = 0;
    if (name) {
        const sb_label *l = sb_labels_find_name(t, name);
        CHECK(l != NULL);
        if (!l) return NAN;
        id = l->id;
    }
    const uint16_t *L = lab->data;
    const int16_t *I = img->data;
    double sum = 0;
    size_t n = 0;
    for (size_t i = 0; i < sb_volume_nvox(lab); i++)
        if (L[i] == id) sum += I[i], n++;
    if (count) *count = n;
    CHECK(n > 0);
    return n ? sum / (double)n : NAN;
}

int main(void) {
    sb_error err;
    sb_label_table *t = NULL;
    CHECK_OK(sb_anatomy_labels(&t, &err));
    sb_subject_request r;
    memset(&r, 0, sizeof r);
    r.seed = 2024;
    r.sex = SB_SEX_FEMALE;
    sb_subject s;
    CHECK_OK(sb_subject_sample(&r, &s, &err));
    sb_ctx c1 = {.threads = 1}, c2 = {.threads = 2};
    sb_volume *lab = NULL, *t1a = NULL, *t1b = NULL, *t2 = NULL;
    CHECK_OK(sb_anatomy_voxelize(&s, VOXEL_MM, &c2, &lab, &err));
    if (!t || !lab) TEST_RETURN();

    CHECK_OK(sb_mri_spin_echo(lab, t, &sb_sequence_t1w, &s, &c1, &t1a, &err));
    CHECK_OK(sb_mri_spin_echo(lab, t, &sb_sequence_t1w, &s, &c2, &t1b, &err));
    CHECK_OK(sb_mri_spin_echo(lab, t, &sb_sequence_t2w, &s, &c2, &t2, &err));
    if (!t1a || !t1b || !t2) TEST_RETURN();
    size_t nvox = sb_volume_nvox(lab);
    CHECK(t1a->dtype == SB_DT_INT16);
    CHECK(memcmp(t1a->dim, lab->dim, sizeof lab->dim) == 0);
    CHECK(memcmp(t1a->affine, lab->affine, sizeof lab->affine) == 0);

    /* 1 and 2 threads: identical bytes */
    CHECK(memcmp(t1a->data, t1b->data, nvox * sizeof(int16_t)) == 0);

    /* background: signal 0 plus complex Gaussian noise -> Rayleigh, mean sigma sqrt(pi / 2) */
    size_t nbg;
    const double sigma = 1000.0 * sb_sequence_t1w.noise;
    double bg1 = mean_in(t1a, lab, t, NULL, &nbg), bg2 = mean_in(t2, lab, t, NULL, NULL);
    double rayleigh = sigma * sqrt(M_PI / 2.0);
    printf("background (%zu voxels): T1w mean %.2f, T2w mean %.2f, Rayleigh %.2f (sigma %.0f)\n",
           nbg, bg1, bg2, rayleigh, sigma);
    CHECK_NEAR(bg1, rayleigh, 0.1 * rayleigh);
    CHECK_NEAR(bg2, rayleigh, 0.1 * rayleigh);

    /* no negative magnitudes; the brightest tissue near 1000 */
    const int16_t *I1 = t1a->data, *I2 = t2->data;
    int16_t lo = 32767;
    for (size_t i = 0; i < nvox; i++) lo = I1[i] < lo ? I1[i] : lo;
    CHECK(lo >= 0);

    /* T1w: fat bright, muscle and CSF dark; T2w: fluid bright */
    double fat1 = mean_in(t1a, lab, t, "subcutaneous_fat", NULL);
    double mus1 = mean_in(t1a, lab, t, "skeletal_muscle", NULL);
    double brain1 = mean_in(t1a, lab, t, "brain", NULL);
    double csf1 = mean_in(t1a, lab, t, "cerebrospinal_fluid", NULL);
    double brain2 = mean_in(t2, lab, t, "brain", NULL);
    double csf2 = mean_in(t2, lab, t, "cerebrospinal_fluid", NULL);
    double fat2 = mean_in(t2, lab, t, "subcutaneous_fat", NULL);
    double mus2 = mean_in(t2, lab, t, "skeletal_muscle", NULL);
    printf("T1w: fat %.0f, muscle %.0f, brain %.0f, CSF %.0f\n", fat1, mus1, brain1, csf1);
    printf("T2w: fat %.0f, muscle %.0f, brain %.0f, CSF %.0f\n", fat2, mus2, brain2, csf2);
    CHECK(fat1 > 2.0 * mus1);
    CHECK(csf1 < brain1);
    CHECK(csf2 > 2.0 * brain2);
    CHECK(mus2 < fat2);
    /* fat is the brightest tissue of the T1w table: ~1000 on average */
    CHECK_NEAR(fat1, 1000.0, 30.0);

    /* T1w and T2w draw from different noise streams: background voxels mostly differ */
    const uint16_t *L = lab->data;
    size_t same = 0;
    for (size_t i = 0; i < nvox; i++)
        if (L[i] == 0 && I1[i] == I2[i]) same++;
    printf("background voxels equal in T1w and T2w: %zu of %zu\n", same, nbg);
    CHECK((double)same < 0.1 * (double)nbg);

    /* another subject index, another noise field on the same labels */
    sb_subject s2 = s;
    s2.subject = 1;
    sb_volume *t1c = NULL;
    CHECK_OK(sb_mri_spin_echo(lab, t, &sb_sequence_t1w, &s2, &c2, &t1c, &err));
    if (t1c) CHECK(memcmp(t1c->data, t1a->data, nvox * sizeof(int16_t)) != 0);
    sb_volume_free(t1c);

    /* invalid sequences are usage errors naming the sequence */
    sb_spin_echo bad = sb_sequence_t2w;
    bad.te_ms = bad.tr_ms + 1;
    sb_volume *v = NULL;
    CHECK(sb_mri_spin_echo(lab, t, &bad, &s, &c1, &v, &err) == SB_ERR_USAGE);
    CHECK(strstr(err.msg, "T2w") != NULL);
    bad = sb_sequence_t1w;
    bad.noise = -0.1;
    CHECK(sb_mri_spin_echo(lab, t, &bad, &s, &c1, &v, &err) == SB_ERR_USAGE);
    CHECK(v == NULL);

    /* a label whose tissue is unknown is named in the error */
    sb_label extra;
    memset(&extra, 0, sizeof extra);
    extra.id = 999;
    snprintf(extra.name, sizeof extra.name, "mystery_organ");
    snprintf(extra.tissue, sizeof extra.tissue, "unobtainium");
    CHECK_OK(sb_labels_add(t, &extra, &err));
    CHECK(sb_mri_spin_echo(lab, t, &sb_sequence_t1w, &s, &c1, &v, &err) == SB_ERR_INPUT);
    CHECK(strstr(err.msg, "unobtainium") != NULL);

    sb_volume_free(t1a);
    sb_volume_free(t1b);
    sb_volume_free(t2);
    sb_volume_free(lab);
    sb_labels_free(t);
    TEST_RETURN();
}
