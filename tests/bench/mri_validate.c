/* mri_validate — the MRI acceptance figures of README "MRI physics" on generated subjects:
 * measured SNR (mean of the reference tissue over the noise sigma from the air, sigma = SD /
 * sqrt(2 - pi/2) for a Rayleigh background) against the requested one, a Kolmogorov–Smirnov
 * distance of the air voxels to the Rayleigh law (of the maximum-likelihood sigma), contrast orders
 * on tissue means, Dixon fat fractions against the subject's liver fat parameter, ADC order, and
 * the bias amplitude measured on 16 mm blocks of muscle, and of muscle and fat (each block's mean
 * over its tissue's mean; (max - min) / mean; the check uses muscle and fat). As `generate` does,
 * the images mix the voxelizer's partial-volume maps (--pure: pure voxels); tissue means are over
 * the voxels of each tissue map value, air is the voxels with no tissue at all (tissue and
 * partial-volume tissue 0). --texture A adds tissue texture. --stations N (--overlap-mm O,
 * default 30) acquires in N stations and measures each station's bias on the planes it alone
 * covers: (max - min) / mean of the noiseless T1w over the noiseless T1w without bias on every
 * pure body voxel (the field as a uniform tissue would show it; checked), and on 16 mm blocks of
 * muscle and fat (printed: the head and feet stations hold few such blocks).
 *
 *   mri_validate [--subjects N] [--first SEED] [--voxel MM] [--snr S] [--bias A]
 *                [--field 1.5|3] [--texture A] [--pure] [--stations N [--overlap-mm O]]
 *
 * Prints one line per subject and a summary; exit 0 if every check held, 1 otherwise.
 */
#include "sb_volume.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;

static void expect(int ok, const char *what) {
    if (!ok) {
        printf("  FAILED: %s\n", what);
        failures++;
    }
}

/* Voxels of a tissue: its value in the tissue map, and with partial-volume maps only those
 * wholly inside it (pv_frac 255), like an ROI placed inside an organ. */
static const uint8_t *g_frac;

static int in_tissue(const uint8_t *T, size_t i, int ti) {
    return T[i] == ti && (!g_frac || g_frac[i] == 255);
}

static double tmean(const sb_volume *img, const sb_volume *tis, const char *tissue) {
    int ti = tissue ? sb_tissue_index(tissue) : 0;
    const uint8_t *T = tis->data;
    double s = 0;
    size_t n = 0;
    for (size_t i = 0; i < sb_volume_nvox(tis); i++)
        if (in_tissue(T, i, ti)) s += sb_volume_get(img, i), n++;
    return n ? s / (double)n : NAN;
}

static int cmpd(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* sigma from the air, and the KS distance of the air to Rayleigh(sigma). */
static void air_stats(const sb_volume *img, const sb_volume *tis, const sb_volume *pvt,
                      double *sigma, double *ks, size_t *nair) {
    const uint8_t *T = tis->data, *P = pvt ? pvt->data : tis->data;
    size_t n = 0, nv = sb_volume_nvox(tis);
    for (size_t i = 0; i < nv; i++) n += !T[i] && !P[i];
    double *x = malloc((n ? n : 1) * sizeof *x), s = 0, ss = 0;
    size_t k = 0;
    for (size_t i = 0; x && i < nv; i++)
        if (!T[i] && !P[i]) x[k] = sb_volume_get(img, i), s += x[k], k++;
    double mean = k ? s / (double)k : 0;
    for (size_t i = 0; i < k; i++) ss += (x[i] - mean) * (x[i] - mean);
    *sigma = k > 1 ? sqrt(ss / (double)(k - 1)) / sqrt(2 - M_PI / 2) : NAN;
    /* the KS distance against the Rayleigh law of the maximum-likelihood sigma, sum x^2 / 2k:
     * the SD-based sigma of the SNR definition is a less efficient estimate, whose own error
     * (1e-4 relative at 60 M voxels) would show as a KS distance of that order */
    double q2 = 0;
    for (size_t i = 0; i < k; i++) q2 += x[i] * x[i];
    double sml = k ? sqrt(q2 / (2.0 * (double)k)) : NAN;
    qsort(x, k, sizeof *x, cmpd);
    double d = 0;
    for (size_t i = 0; i < k; i++) {
        double F = 1 - exp(-x[i] * x[i] / (2 * sml * sml));
        d = fmax(d, fmax(fabs(F - (double)i / (double)k), fabs(F - (double)(i + 1) / (double)k)));
    }
    *ks = d;
    *nair = k;
    free(x);
}

/* (max - min) / mean of the means of 16 mm blocks holding >= 3/4 voxels of one tissue, each
 * block mean over that tissue's mean over the body; tissue: muscle, or (both = 1) muscle and fat
 * (the field's extremes lie at the body's edge, which in obese subjects is fat). */
static size_t g_k0, g_k1 = SIZE_MAX; /* planes of the bias measurement */

static double bias_on(const sb_volume *img, const sb_volume *tis, int both) {
    int ts[2] = {sb_tissue_index("muscle"), sb_tissue_index("fat")};
    size_t bs = (size_t)fmax(2, floor(16.0 / tis->spacing[0] + 0.5));
    double lo = INFINITY, hi = -INFINITY, sum = 0;
    size_t nb = 0;
    const uint8_t *T = tis->data;
    for (int q = 0; q <= both; q++) {
        double all = 0;
        size_t nall = 0;
        for (size_t v = 0; v < sb_volume_nvox(tis); v++)
            if (in_tissue(T, v, ts[q])) all += sb_volume_get(img, v), nall++;
        if (!nall) continue;
        all /= (double)nall;
        for (size_t k0 = g_k0; k0 + bs <= tis->dim[2] && k0 + bs <= g_k1; k0 += bs)
            for (size_t j0 = 0; j0 + bs <= tis->dim[1]; j0 += bs)
                for (size_t i0 = 0; i0 + bs <= tis->dim[0]; i0 += bs) {
                    double s = 0;
                    size_t n = 0;
                    for (size_t k = k0; k < k0 + bs; k++)
                        for (size_t j = j0; j < j0 + bs; j++)
                            for (size_t i = i0; i < i0 + bs; i++) {
                                size_t v = sb_volume_index(tis, i, j, k);
                                if (in_tissue(T, v, ts[q])) s += sb_volume_get(img, v), n++;
                            }
                    if (4 * n < 3 * bs * bs * bs) continue;
                    double m = s / (double)n / all;
                    lo = fmin(lo, m), hi = fmax(hi, m), sum += m, nb++;
                }
    }
    return nb ? (hi - lo) / (sum / (double)nb) : NAN;
}

int main(int argc, char **argv) {
    int subjects = 1, first = 1, pure = 0;
    double voxel = 4, snr = 30, bias = 0.2, field = 1.5, texture = 0;
    sb_mri_setup setup = {.stations = 1, .overlap_mm = 30};
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(o, "--pure")) {
            pure = 1;
            continue;
        }
        int ok = v != NULL;
        if (ok && !strcmp(o, "--subjects"))
            subjects = atoi(v);
        else if (ok && !strcmp(o, "--first"))
            first = atoi(v);
        else if (ok && !strcmp(o, "--voxel"))
            voxel = atof(v);
        else if (ok && !strcmp(o, "--snr"))
            snr = atof(v);
        else if (ok && !strcmp(o, "--bias"))
            bias = atof(v);
        else if (ok && !strcmp(o, "--field"))
            field = atof(v);
        else if (ok && !strcmp(o, "--texture"))
            texture = atof(v);
        else if (ok && !strcmp(o, "--stations"))
            setup.stations = atoi(v);
        else if (ok && !strcmp(o, "--overlap-mm"))
            setup.overlap_mm = atof(v);
        else {
            fprintf(stderr, "usage: mri_validate [--subjects N] [--first SEED] [--voxel MM] "
                            "[--snr S] [--bias A] [--field T] [--texture A] [--pure] "
                            "[--stations N [--overlap-mm O]]\n");
            return 2;
        }
        i++;
    }
    sb_error err;
    sb_anatomy *an = NULL;
    sb_tissue_db *db = NULL;
    sb_protocol p;
    if (sb_anatomy_load_default(&an, &err) || sb_tissue_db_load(NULL, &db, &err) ||
        sb_mri_protocol(NULL, "T1w,T2w,STIR,FLAIR,fatfrac,ADC", field, snr, bias, &p, &err)) {
        fprintf(stderr, "mri_validate: %s\n", err.msg);
        return 1;
    }
    for (size_t i = 0; i < p.count; i++) p.acq[i].texture = texture;
    sb_ctx ctx = {0};
    double snr_err_max = 0, ks_max = 0, ff_err_max = 0, bias_lo = INFINITY, bias_hi = 0;
    printf("%d subject(s) from seed %d, %.1f mm, %.1f T, SNR %.0f vs muscle, bias %.2f, texture "
           "%.2f, %s voxels\n",
           subjects, first, voxel, field, snr, bias, texture, pure ? "pure" : "partial-volume");
    for (int n = first; n < first + subjects; n++) {
        sb_subject s;
        sb_subject_request rq = {.seed = (uint64_t)n, .sex = n % 2 ? SB_SEX_MALE : SB_SEX_FEMALE};
        sb_anatomy_maps maps = {0};
        sb_mri_session *ss = NULL;
        sb_mr_tissues m;
        if (sb_subject_sample(&rq, &s, &err) ||
            sb_anatomy_voxelize_maps(an, &s, voxel, SB_MAP_TISSUES | (pure ? 0 : SB_MAP_PV), &ctx,
                                     &maps, &err)) {
            fprintf(stderr, "mri_validate: %s\n", err.msg);
            return 1;
        }
        const sb_volume *tis = maps.tissues;
        g_frac = maps.pv_frac ? maps.pv_frac->data : NULL;
        sb_tissue_db_sample(db, &s, &m);
        if (sb_mri_session_begin(&m, &s, tis, &ss, &err) ||
            sb_mri_session_setup(ss, &setup, &err) || sb_mri_session_body(ss, tis, 0, &err) ||
            sb_mri_session_finish(ss, &err)) {
            fprintf(stderr, "mri_validate: %s\n", err.msg);
            return 1;
        }
        sb_volume *img[SB_PROTOCOL_MAX][SB_MRI_OUT_MAX];
        for (size_t i = 0; i < p.count; i++) {
            double slope[SB_MRI_OUT_MAX];
            if (sb_mri_acquire(ss, &p.acq[i], tis, maps.pv_tissue, maps.pv_frac, 0xffu,
                               SB_DT_FLOAT32, &ctx, img[i], slope, &err)) {
                fprintf(stderr, "mri_validate: %s\n", err.msg);
                return 1;
            }
        }
        const sb_volume *t1 = img[0][0], *t2 = img[1][0], *stir = img[2][0], *flair = img[3][0],
                        *ff = img[4][4], *adc = img[5][2];
        printf("subject %d (%s, BMI %.1f, liver fat %.2f %%):\n", n,
               s.sex == SB_SEX_MALE ? "man" : "woman", s.bmi, 100 * s.liver_fat);
        /* SNR and the Rayleigh background, on T1w and T2w */
        for (int c = 0; c < 2; c++) {
            const sb_volume *im = c ? t2 : t1;
            double sigma, ks;
            size_t nair;
            air_stats(im, tis, maps.pv_tissue, &sigma, &ks, &nair);
            double got = tmean(im, tis, "muscle") / sigma, crit = 1.63 / sqrt((double)nair);
            printf("  %s: SNR %.2f (asked %.0f, %+.1f %%), air KS D %.5f (1 %% critical %.5f, "
                   "%zu voxels)\n",
                   c ? "T2w" : "T1w", got, snr, 100 * (got / snr - 1), ks, crit, nair);
            snr_err_max = fmax(snr_err_max, fabs(got / snr - 1));
            ks_max = fmax(ks_max, ks);
            expect(fabs(got / snr - 1) <= 0.10, "SNR within 10 %");
            expect(ks < crit, "air Rayleigh (KS at 1 %)");
        }
        double fat = tmean(t1, tis, "fat"), liv = tmean(t1, tis, "liver"),
               mus = tmean(t1, tis, "muscle"), csf = tmean(t1, tis, "csf"),
               spl = tmean(t1, tis, "spleen");
        printf("  T1w  fat %.0f > liver %.0f > muscle %.0f > CSF %.0f; liver > spleen %.0f\n", fat,
               liv, mus, csf, spl);
        expect(fat > liv && liv > mus && mus > csf && liv > spl, "T1w order");
        double c2 = tmean(t2, tis, "csf"), s2 = tmean(t2, tis, "spleen"),
               l2 = tmean(t2, tis, "liver");
        printf("  T2w  CSF %.0f > spleen %.0f > liver %.0f\n", c2, s2, l2);
        expect(c2 > s2 && s2 > l2, "T2w order");
        double fs = tmean(stir, tis, "fat"), ms = tmean(stir, tis, "muscle");
        printf("  STIR fat %.1f < muscle %.1f\n", fs, ms);
        expect(fs < ms, "STIR fat suppressed");
        double cf = tmean(flair, tis, "csf"), wf = tmean(flair, tis, "white_matter");
        printf("  FLAIR CSF %.1f < white matter %.1f\n", cf, wf);
        expect(cf < 0.5 * wf, "FLAIR CSF dark");
        double ffat = tmean(ff, tis, "fat"), fliv = tmean(ff, tis, "liver"),
               fmus = tmean(ff, tis, "muscle");
        printf("  Dixon fat fraction: fat %.1f %%, liver %.2f %% (parameter %.2f %%, %+.2f "
               "points), muscle %.1f %%\n",
               ffat, fliv, 100 * s.liver_fat, fliv - 100 * s.liver_fat, fmus);
        ff_err_max = fmax(ff_err_max, fabs(fliv - 100 * s.liver_fat));
        expect(ffat > 85 && fabs(fliv - 100 * s.liver_fat) <= 1.5 && fmus < 10, "Dixon FF");
        double ac = tmean(adc, tis, "csf"), ak = tmean(adc, tis, "kidney_cortex"),
               al = tmean(adc, tis, "liver");
        printf("  ADC  CSF %.0f > kidney cortex %.0f > liver %.0f (10^-6 mm^2/s)\n", ac, ak, al);
        expect(ac > ak && ak > al, "ADC order");
        double bm = bias_on(t1, tis, 0), bmf = bias_on(t1, tis, 1);
        printf("  bias (16 mm blocks, T1w): muscle %.3f, muscle and fat %.3f (asked %.2f, %+.0f "
               "%%)\n",
               bm, bmf, bias, 100 * (bmf / bias - 1));
        bias_lo = fmin(bias_lo, bmf), bias_hi = fmax(bias_hi, bmf);
        if (bias > 0 && setup.stations <= 1)
            expect(fabs(bmf / bias - 1) <= 0.2, "bias within 20 %");
        double step, len;
        int nst = sb_mri_session_stations(ss, &step, &len);
        sb_volume *fo[SB_MRI_OUT_MAX] = {0}, *fz[SB_MRI_OUT_MAX] = {0};
        if (nst > 1) { /* the field itself: noiseless T1w with and without bias, their ratio */
            sb_acquisition f = p.acq[0], z = p.acq[0];
            f.snr = z.snr = 0, z.bias = 0;
            double sl[SB_MRI_OUT_MAX];
            if (sb_mri_acquire(ss, &f, tis, maps.pv_tissue, maps.pv_frac, 1, SB_DT_FLOAT32, &ctx,
                               fo, sl, &err) ||
                sb_mri_acquire(ss, &z, tis, maps.pv_tissue, maps.pv_frac, 1, SB_DT_FLOAT32, &ctx,
                               fz, sl, &err)) {
                fprintf(stderr, "mri_validate: %s\n", err.msg);
                return 1;
            }
        }
        for (int t = 0; nst > 1 && t < nst; t++) { /* each station on the planes it alone covers */
            double ov = len - step;
            g_k0 = (size_t)ceil(t * step + (t ? ov : 0));
            g_k1 = (size_t)floor(t * step + len - (t < nst - 1 ? ov : 0)) + 1;
            double b = bias_on(t1, tis, 1), lo = INFINITY, hi = -INFINITY, sum = 0;
            size_t nb = 0, plane = tis->dim[0] * tis->dim[1];
            const float *F = fo[0]->data, *Z = fz[0]->data;
            const uint8_t *T = tis->data;
            for (size_t v = g_k0 * plane; v < g_k1 * plane && v < sb_volume_nvox(tis); v++)
                if (T[v] && in_tissue(T, v, T[v]) && Z[v] > 1) {
                    double r = F[v] / Z[v];
                    lo = fmin(lo, r), hi = fmax(hi, r), sum += r, nb++;
                }
            double fld = nb ? (hi - lo) / (sum / (double)nb) : NAN;
            printf("    station %d (planes %zu-%zu): bias field on the body %.3f (%+.0f %%); on "
                   "16 mm blocks of muscle and fat %.3f\n",
                   t + 1, g_k0, g_k1 - 1, fld, 100 * (fld / bias - 1), b);
            if (bias > 0) expect(fabs(fld / bias - 1) <= 0.2, "station bias within 20 %");
            bias_lo = fmin(bias_lo, fld), bias_hi = fmax(bias_hi, fld);
        }
        g_k0 = 0, g_k1 = SIZE_MAX;
        for (int k = 0; k < SB_MRI_OUT_MAX; k++) sb_volume_free(fo[k]), sb_volume_free(fz[k]);
        for (size_t i = 0; i < p.count; i++)
            for (int k = 0; k < SB_MRI_OUT_MAX; k++) sb_volume_free(img[i][k]);
        sb_mri_session_free(ss);
        sb_anatomy_maps_free(&maps);
    }
    printf("summary: worst SNR error %.1f %%, worst KS D %.4f, worst liver fat error %.2f "
           "points, bias on muscle and fat %.3f-%.3f (asked %.2f); %d check(s) failed\n",
           100 * snr_err_max, ks_max, ff_err_max, bias_lo, bias_hi, bias, failures);
    sb_tissue_db_free(db);
    sb_anatomy_free(an);
    return failures ? 1 : 0;
}
