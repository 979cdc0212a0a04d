/* population.c — one adult drawn from the population: sex, age, height, BMI, organ scales.
 *
 * Height and ln(BMI) are bivariate normal per sex with the means, SDs and correlations of
 * NHANES 2017–Mar 2020 (MEC-weighted, age 20–80; ../shared/reference/ANATOMY.md §1.3):
 *   men   H 175.0 ± 7.4 cm, ln BMI 3.366 ± 0.205, r = 0.08
 *   women H 161.1 ± 7.0 cm, ln BMI 3.367 ± 0.254, r = -0.02
 * drawn as mean + L z with L the Cholesky factor of the covariance (LAPACKE_dpotrf). A value
 * the user fixes is kept and the other is drawn from its conditional distribution. Draws are
 * clamped to the accepted request ranges. Organ sizes and shape variation are drawn per
 * structure by the anatomy engine (anatomy_voxelize.c) from the subject's seed.
 */
#include "sb_volume.h"

#include <lapacke.h>
#include <math.h>
#include <string.h>

typedef struct {
    double h_mean, h_sd, lb_mean, lb_sd, r;
} hb_stats;

static const hb_stats NHANES_MEN = {175.0, 7.4, 3.366, 0.205, 0.08};
static const hb_stats NHANES_WOMEN = {161.1, 7.0, 3.367, 0.254, -0.02};

static double clampd(double v, double lo, double hi) {
    return v < lo ? lo : v > hi ? hi : v;
}

static sb_status check_range(const char *field, double v, double lo, double hi, sb_error *err) {
    if (isnan(v) || isinf(v) || (v > 0 && !(v >= lo && v <= hi)))
        return sb_error_set(err, SB_ERR_USAGE, "%s %g is outside %g–%g", field, v, lo, hi);
    return SB_OK;
}

sb_status sb_subject_sample(const sb_subject_request *req, sb_subject *s, sb_error *err) {
    sb_status st;
    if ((st = check_range("age (--age)", req->age_y, 18, 90, err)) ||
        (st = check_range("height (--height-cm)", req->height_cm, 120, 230, err)) ||
        (st = check_range("BMI (--bmi)", req->bmi, 12, 70, err)))
        return st;
    memset(s, 0, sizeof *s);
    s->seed = req->seed;
    s->subject = req->subject;

    sb_rng rng;
    sb_rng_init(&rng, req->seed, req->subject, SB_STREAM_POPULATION);
    /* Fixed draw order: every draw happens whether or not the user overrides it, so fixing one
     * value never shifts the others. */
    double u_sex = sb_rng_uniform(&rng), u_age = sb_rng_uniform(&rng);
    double z[2] = {sb_rng_normal(&rng), sb_rng_normal(&rng)};

    s->sex = req->sex == SB_SEX_RANDOM ? (u_sex < 0.5 ? SB_SEX_FEMALE : SB_SEX_MALE) : req->sex;
    s->age_y = req->age_y > 0 ? req->age_y : 18.0 + 72.0 * u_age;

    const hb_stats *p = s->sex == SB_SEX_MALE ? &NHANES_MEN : &NHANES_WOMEN;
    double cov[4] = {p->h_sd * p->h_sd, p->r * p->h_sd * p->lb_sd, p->r * p->h_sd * p->lb_sd,
                     p->lb_sd * p->lb_sd};
    if (LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', 2, cov, 2) != 0)
        return sb_error_set(err, SB_ERR_INTERNAL, "height/BMI covariance is not positive definite");
    /* L = [cov[0] 0; cov[2] cov[3]] */
    double h = p->h_mean + cov[0] * z[0];
    double lb = p->lb_mean + cov[2] * z[0] + cov[3] * z[1];
    if (req->height_cm > 0) {
        h = req->height_cm;
        lb = p->lb_mean + p->r * p->lb_sd / p->h_sd * (h - p->h_mean) + cov[3] * z[1];
    }
    s->height_cm = clampd(h, 120, 230);
    s->bmi = req->bmi > 0 ? req->bmi : clampd(exp(lb), 15, 60);
    s->weight_kg = s->bmi * (s->height_cm / 100.0) * (s->height_cm / 100.0);
    /* Abdominal subcutaneous fat thickness: ~10 mm at BMI 20 rising to ~40 mm at BMI 35;
     * women ~25 % more at equal BMI (ANATOMY.md §6: "SAT by site vs BMI", flagged unverified). */
    s->fat_mm = clampd(2.0 * (s->bmi - 15.0), 3.0, 80.0) * (s->sex == SB_SEX_FEMALE ? 1.25 : 1.0);

    /* Liver proton-density fat fraction, log-normal (its own stream, so the draws above never
     * change): UK Biobank (Wilman et al., PLoS ONE 2017, n = 4949) found median 2.11 % and mean
     * 3.91 % (ln-SD 1.11), rising with BMI (> 5.5 % in 5 % of BMI < 25, in 1/3 of BMI > 30).
     * Here ln PDFF% = ln 2.11 + 0.10 (BMI - 27) + 1.0 z, clamped to 0.5-40 %: ~9 % above 5.5 %
     * at BMI 23, ~32 % at BMI 32 (our fit of those figures). */
    sb_rng lrng;
    sb_rng_init(&lrng, req->seed, req->subject, SB_STREAM_LIVER_FAT);
    double zl = sb_rng_normal(&lrng);
    s->liver_fat = clampd(exp(log(2.11) + 0.10 * (s->bmi - 27.0) + 1.0 * zl), 0.5, 40.0) / 100.0;

    return SB_OK;
}
