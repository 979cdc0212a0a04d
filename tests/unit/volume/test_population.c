/* Unit tests of sb_subject_sample: reproducibility, overrides, range errors, the NHANES
 * statistics of population.c over many seeds, and the fixed draw order. (Organ sizes and
 * shifts are drawn by the anatomy engine, keyed by label id: see test_anatomy.c.) */
#include "sb_volume.h"
#include "sb_test.h"

#include <math.h>
#include <string.h>

/* The NHANES 2017–Mar 2020 values stated in volume/population.c. */
#define MEN_H_MEAN 175.0
#define MEN_H_SD 7.4
#define MEN_LB_MEAN 3.366
#define MEN_LB_SD 0.205
#define WOMEN_H_MEAN 161.1
#define WOMEN_H_SD 7.0
#define WOMEN_LB_MEAN 3.367
#define WOMEN_LB_SD 0.254

static sb_subject_request request(uint64_t seed) {
    sb_subject_request r;
    memset(&r, 0, sizeof r);
    r.seed = seed;
    r.sex = SB_SEX_RANDOM;
    return r;
}

static void test_reproducible(void) {
    sb_subject_request r = request(1234);
    sb_subject a, b, c;
    sb_error err;
    CHECK_OK(sb_subject_sample(&r, &a, &err));
    CHECK_OK(sb_subject_sample(&r, &b, &err));
    CHECK(memcmp(&a, &b, sizeof a) == 0);
    CHECK(a.seed == 1234 && a.subject == 0);
    CHECK(a.sex == SB_SEX_FEMALE || a.sex == SB_SEX_MALE);
    CHECK(a.age_y >= 18 && a.age_y <= 90);
    CHECK(a.height_cm >= 120 && a.height_cm <= 230);
    CHECK(a.bmi >= 12 && a.bmi <= 70);
    CHECK_NEAR(a.weight_kg, a.bmi * a.height_cm * a.height_cm / 1e4, 1e-9);

    r.seed = 1235;
    CHECK_OK(sb_subject_sample(&r, &c, &err));
    CHECK(c.age_y != a.age_y);
    CHECK(c.height_cm != a.height_cm);
    CHECK(c.bmi != a.bmi && c.fat_mm != a.fat_mm);
    /* the subject index within a batch is another stream of numbers too */
    r.seed = 1234;
    r.subject = 1;
    CHECK_OK(sb_subject_sample(&r, &c, &err));
    CHECK(c.subject == 1);
    CHECK(c.age_y != a.age_y);
}

static void test_overrides(void) {
    sb_subject s;
    sb_error err;
    for (uint64_t seed = 0; seed < 50; seed++) {
        sb_subject_request r = request(seed);
        r.sex = seed % 2 ? SB_SEX_MALE : SB_SEX_FEMALE;
        r.age_y = 18 + (double)seed;
        r.height_cm = 150.5 + (double)seed;
        r.bmi = 12.25 + (double)seed;
        CHECK_OK(sb_subject_sample(&r, &s, &err));
        CHECK(s.sex == r.sex);
        CHECK(s.age_y == r.age_y);
        CHECK(s.height_cm == r.height_cm);
        CHECK(s.bmi == r.bmi);
    }
    /* the range limits themselves are accepted */
    sb_subject_request r = request(7);
    r.age_y = 90, r.height_cm = 230, r.bmi = 70;
    CHECK_OK(sb_subject_sample(&r, &s, &err));
    r.age_y = 18, r.height_cm = 120, r.bmi = 12;
    CHECK_OK(sb_subject_sample(&r, &s, &err));
    CHECK(s.age_y == 18 && s.height_cm == 120 && s.bmi == 12);
}

/* Sets one field of a request to v, expects SB_ERR_USAGE and `word` in the message. */
static void expect_usage(int field, double v, const char *word) {
    sb_subject_request r = request(3);
    if (field == 0) r.age_y = v;
    if (field == 1) r.height_cm = v;
    if (field == 2) r.bmi = v;
    sb_subject s;
    sb_error err;
    memset(&err, 0, sizeof err);
    sb_status st = sb_subject_sample(&r, &s, &err);
    CHECK(st == SB_ERR_USAGE);
    CHECK(err.status == SB_ERR_USAGE);
    if (!strstr(err.msg, word)) {
        fprintf(stderr, "field %d = %g: message \"%s\" does not name \"%s\"\n", field, v, err.msg,
                word);
        CHECK(strstr(err.msg, word) != NULL);
    }
}

static void test_out_of_range(void) {
    expect_usage(0, 10, "age");
    expect_usage(0, 91, "age");
    expect_usage(0, INFINITY, "age");
    expect_usage(1, 300, "height");
    expect_usage(1, 119, "height");
    expect_usage(2, 5, "bmi");
    expect_usage(2, 71, "bmi");
    expect_usage(0, NAN, "age");
    expect_usage(1, NAN, "height");
    expect_usage(2, NAN, "BMI");
    expect_usage(1, -INFINITY, "height");
    /* the value at fault is in the message too */
    sb_subject_request r = request(3);
    r.height_cm = 300;
    sb_subject s;
    sb_error err;
    CHECK(sb_subject_sample(&r, &s, &err) == SB_ERR_USAGE);
    CHECK(strstr(err.msg, "300") != NULL);
}

static void test_population_statistics(void) {
    enum { N = 2000 };
    double n[2] = {0}, h[2] = {0}, h2[2] = {0}, lb[2] = {0}, lb2[2] = {0}, age = 0;
    sb_error err;
    for (uint64_t seed = 0; seed < N; seed++) {
        sb_subject_request r = request(seed);
        sb_subject s;
        CHECK_OK(sb_subject_sample(&r, &s, &err));
        int m = s.sex == SB_SEX_MALE;
        double l = log(s.bmi);
        n[m] += 1, h[m] += s.height_cm, h2[m] += s.height_cm * s.height_cm;
        lb[m] += l, lb2[m] += l * l;
        age += s.age_y;
    }
    double male_fraction = n[1] / N;
    double mh[2], sh[2], ml[2], sl[2];
    for (int m = 0; m < 2; m++) {
        mh[m] = h[m] / n[m];
        sh[m] = sqrt(h2[m] / n[m] - mh[m] * mh[m]);
        ml[m] = lb[m] / n[m];
        sl[m] = sqrt(lb2[m] / n[m] - ml[m] * ml[m]);
    }
    printf("%d seeds: male fraction %.4f, mean age %.2f y\n", N, male_fraction, age / N);
    printf("men:   height %.2f +- %.2f cm, ln BMI %.4f +- %.4f\n", mh[1], sh[1], ml[1], sl[1]);
    printf("women: height %.2f +- %.2f cm, ln BMI %.4f +- %.4f\n", mh[0], sh[0], ml[0], sl[0]);
    /* ~4 standard errors: SE(mean sex fraction) = 0.011, SE(mean height) ~ 0.23 cm,
     * SE(mean ln BMI) ~ 0.007, SE(SD) ~ 2.2 % */
    CHECK_NEAR(male_fraction, 0.5, 0.045);
    CHECK_NEAR(age / N, 54.0, 2.0);
    CHECK_NEAR(mh[1], MEN_H_MEAN, 1.0);
    CHECK_NEAR(mh[0], WOMEN_H_MEAN, 1.0);
    CHECK_NEAR(sh[1], MEN_H_SD, 0.1 * MEN_H_SD);
    CHECK_NEAR(sh[0], WOMEN_H_SD, 0.1 * WOMEN_H_SD);
    CHECK_NEAR(ml[1], MEN_LB_MEAN, 0.03);
    CHECK_NEAR(ml[0], WOMEN_LB_MEAN, 0.03);
    CHECK_NEAR(sl[1], MEN_LB_SD, 0.1 * MEN_LB_SD);
    CHECK_NEAR(sl[0], WOMEN_LB_SD, 0.1 * WOMEN_LB_SD);
    /* men are taller than women by ~14 cm */
    CHECK(mh[1] - mh[0] > 11 && mh[1] - mh[0] < 17);
}

/* Every draw happens whatever the request, so fixing one value never shifts the others. */
static void test_draw_order(void) {
    sb_error err;
    int same_bmi_when_age_fixed = 1;
    for (uint64_t seed = 100; seed < 300; seed++) {
        sb_subject_request r = request(seed);
        sb_subject free_s, s;
        CHECK_OK(sb_subject_sample(&r, &free_s, &err));
        r.height_cm = 172;
        CHECK_OK(sb_subject_sample(&r, &s, &err));
        CHECK(s.sex == free_s.sex);
        CHECK(s.age_y == free_s.age_y);
        r.height_cm = 0;
        r.bmi = 31;
        CHECK_OK(sb_subject_sample(&r, &s, &err));
        CHECK(s.sex == free_s.sex && s.age_y == free_s.age_y);
        CHECK(s.height_cm == free_s.height_cm);
        r.bmi = 0;
        r.sex = free_s.sex; /* fixing the sex to what was drawn changes nothing */
        CHECK_OK(sb_subject_sample(&r, &s, &err));
        CHECK(memcmp(&s, &free_s, sizeof s) == 0);
        r.sex = SB_SEX_RANDOM;
        r.age_y = 45;
        CHECK_OK(sb_subject_sample(&r, &s, &err));
        CHECK(s.sex == free_s.sex);
        if (s.height_cm != free_s.height_cm || s.bmi != free_s.bmi) same_bmi_when_age_fixed = 0;
    }
    CHECK(same_bmi_when_age_fixed);
}

/* A fixed height moves ln BMI by the conditional mean r * sd_lb / sd_h * (h - mean) only. */
static void test_conditional_bmi(void) {
    sb_error err;
    double sum = 0;
    int n = 0;
    for (uint64_t seed = 0; seed < 2000; seed++) {
        sb_subject_request r = request(seed);
        r.sex = SB_SEX_MALE;
        r.height_cm = 200;
        sb_subject s;
        CHECK_OK(sb_subject_sample(&r, &s, &err));
        sum += log(s.bmi);
        n++;
    }
    double expect = MEN_LB_MEAN + 0.08 * MEN_LB_SD / MEN_H_SD * (200 - MEN_H_MEAN);
    printf("men fixed at 200 cm: mean ln BMI %.4f (conditional mean %.4f)\n", sum / n, expect);
    CHECK_NEAR(sum / n, expect, 0.03);
}

int main(void) {
    test_reproducible();
    test_overrides();
    test_out_of_range();
    test_population_statistics();
    test_draw_order();
    test_conditional_bmi();
    TEST_RETURN();
}
