/* Unit tests of the MRI physics (volume/mri_*.c): the tissue table (embedded, overridden by a
 * file, bad files), per-subject sampling, the sequence equations on a phantom of pure tissue
 * blocks (contrast orders of the issue's acceptance list), partial-volume mixing of complex
 * signals, noise at a requested SNR with a Rayleigh background (Kolmogorov–Smirnov), the bias
 * field's amplitude, Dixon fat fractions, ADC, int16 scaling, thread-count independence,
 * protocols and usage errors; then the default anatomy at 8 mm. */
#include "anatomy_docs.h"
#include "mri_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- phantom: one block of 20 x 20 x 6 voxels per tissue, air around, 2 mm voxels ---------- */
#define PH_N 28
#define PH_B 20
#define PH_Z 6
static const char *const PHANTOM[] = {"fat",   "muscle",        "liver",          "spleen",
                                      "csf",   "kidney_cortex", "white_matter",   "grey_matter",
                                      "blood", "yellow_marrow", "kidney_medulla", "urine"};
#define PH_T (sizeof PHANTOM / sizeof PHANTOM[0])

static sb_volume *phantom(void) {
    size_t dim[3] = {PH_N, PH_N, PH_T * (PH_Z + 2)};
    double sp[3] = {2, 2, 2};
    sb_volume *v = NULL;
    sb_error err;
    CHECK_OK(sb_volume_create(dim, sp, SB_DT_UINT8, &v, &err));
    if (!v) return NULL;
    uint8_t *T = v->data;
    for (size_t b = 0; b < PH_T; b++)
        for (size_t k = b * (PH_Z + 2) + 1; k < b * (PH_Z + 2) + 1 + PH_Z; k++)
            for (size_t j = 4; j < 4 + PH_B; j++)
                for (size_t i = 4; i < 4 + PH_B; i++)
                    T[sb_volume_index(v, i, j, k)] = (uint8_t)sb_tissue_index(PHANTOM[b]);
    return v;
}

/* Mean of a float image over the voxels of tissue ti (0: background) of map T. */
static double mean_of(const sb_volume *img, const sb_volume *tis, int ti, size_t *count) {
    const uint8_t *T = tis->data;
    double sum = 0;
    size_t n = 0;
    for (size_t i = 0; i < sb_volume_nvox(tis); i++)
        if (T[i] == ti) sum += sb_volume_get(img, i), n++;
    if (count) *count = n;
    return n ? sum / (double)n : NAN;
}

static sb_acquisition acq_named(const char *name, double field, double snr, double bias) {
    sb_protocol p;
    sb_error err;
    CHECK_OK(sb_mri_protocol("default", name, field, snr, bias, &p, &err));
    CHECK(p.count == 1);
    return p.acq[0];
}

static sb_subject subject(uint64_t seed) {
    sb_subject s = subject_fixed(seed, SB_SEX_FEMALE, 165, 24);
    return s;
}

/* ---- tissue table --------------------------------------------------------------------------- */
static void test_table(void) {
    sb_tissue_db *db = NULL;
    sb_error err;
    CHECK_OK(sb_tissue_db_load(NULL, &db, &err));
    if (!db) return;
    /* every class but background has every quantity, each with a listed source */
    static const char *const Q[] = {"pd", "ff", "t1_ms", "t2_ms", "t2s_ms", "adc"};
    size_t n = sb_tissue_count(), sourced = 0, estimated = 0;
    CHECK(n == 50 && n <= SB_TISSUE_MAX);
    CHECK(!strcmp(sb_tissue_table[0].name, "background") && sb_tissue_index("lymph_node") == 39 &&
          sb_tissue_index("ms_lesion") == 49);
    for (size_t t = 1; t < n; t++)
        for (int q = 0; q < 6; q++) {
            const char *src = sb_tissue_db_source(db, (int)t, Q[q]);
            CHECK(src && strcmp(src, "user") != 0);
            if (src) sourced++, estimated += !strcmp(src, "est");
        }
    printf("tissue table: %zu classes, %zu values sourced, %zu of them our estimates\n", n - 1,
           sourced, estimated);
    CHECK(sourced == (n - 1) * 6);

    sb_mr_tissues mean, a, b, a2;
    sb_tissue_db_mean(db, &mean);
    const int liv = sb_tissue_index("liver"), fat = sb_tissue_index("fat");
    CHECK_NEAR(mean.t[liv].t1_ms[SB_FIELD_1T5], 586, 1e-9); /* de Bazelaire 2004 */
    CHECK_NEAR(mean.t[liv].t1_ms[SB_FIELD_3T], 809, 1e-9);
    CHECK(mean.fat_npeaks == 6);
    double asum = 0;
    for (int k = 0; k < mean.fat_npeaks; k++) asum += mean.fat_amp[k];
    CHECK_NEAR(asum, 1.0, 0.01);
    CHECK(mean.t[0].pd == 0);

    sb_subject s1 = subject(1), s2 = subject(2);
    s1.liver_fat = 0.123;
    sb_tissue_db_sample(db, &s1, &a);
    sb_tissue_db_sample(db, &s1, &a2);
    sb_tissue_db_sample(db, &s2, &b);
    CHECK(memcmp(&a, &a2, sizeof a) == 0);
    CHECK(a.t[liv].t1_ms[0] != b.t[liv].t1_ms[0]);
    CHECK_NEAR(a.t[liv].ff, 0.123, 1e-12); /* the subject's liver fat */
    /* within mean +- 2.5 SD (liver T1 at 1.5 T: 586 +- 39) and one z for both fields */
    CHECK(fabs(a.t[liv].t1_ms[0] - 586) <= 2.5 * 39 + 1e-9);
    CHECK_NEAR((a.t[liv].t1_ms[0] - 586) / 39, (a.t[liv].t1_ms[1] - 809) / 71, 1e-9);
    CHECK(a.t[fat].ff > 0.8 && a.t[fat].ff <= 1);
    for (size_t t = 1; t < n; t++)
        for (int f = 0; f < 2; f++) CHECK(a.t[t].t2s_ms[f] <= a.t[t].t2_ms[f]);
    sb_tissue_db_free(db);
}

static void test_table_files(void) {
    tmp_dir tmp;
    if (!tmp_init(&tmp)) return;
    sb_error err;
    sb_tissue_db *db = NULL;
    const char *head = "{\"format\": \"synthbody-tissues\", \"version\": 1, \"references\": "
                       "{\"me\": \"my lab, 2026\"}, \"tissues\": {";
    char doc[2048];
    /* a valid override of the liver only */
    snprintf(doc, sizeof doc,
             "%s\"liver\": {\"pd\": [0.7, 0], \"ff\": [0.05, 0], \"t1_ms\": [[600, 0], [900, 0]], "
             "\"t2_ms\": [[40, 0], [30, 0]], \"t2s_ms\": [[20, 0], [10, 0]], \"adc\": [1.0, 0], "
             "\"src\": {\"t1_ms\": \"me\"}}}}",
             head);
    const char *ok = tmp_write(&tmp, "t", "ok.json", doc);
    CHECK_OK(sb_tissue_db_load(ok, &db, &err));
    if (db) {
        sb_mr_tissues m;
        sb_tissue_db_mean(db, &m);
        CHECK_NEAR(m.t[sb_tissue_index("liver")].t1_ms[1], 900, 1e-9);
        CHECK_NEAR(m.t[sb_tissue_index("spleen")].t1_ms[0], 1057, 1e-9); /* untouched */
        CHECK(!strcmp(sb_tissue_db_source(db, sb_tissue_index("liver"), "t1_ms"), "me"));
        CHECK(!strcmp(sb_tissue_db_source(db, sb_tissue_index("liver"), "pd"), "user"));
    }
    sb_tissue_db_free(db);
    db = NULL;
    /* bad files: the message names the file and the field */
    struct {
        const char *body, *expect;
    } bad[] = {
        {"\"lver\": {}}}", "tissues.lver: unknown tissue class"},
        {"\"liver\": {\"pd\": [0.7, 0]}}}", "tissues.liver.ff: missing"},
        {"\"liver\": {\"pd\": [7, 0], \"ff\": [0, 0], \"t1_ms\": [[1, 0], [1, 0]], \"t2_ms\": "
         "[[1, 0], [1, 0]], \"t2s_ms\": [[1, 0], [1, 0]], \"adc\": [1, 0]}}}",
         "tissues.liver.pd: mean 7 is out of range"},
        {"\"liver\": {\"pd\": [0.7, 0], \"ff\": [0, 0], \"t1_ms\": [600, 0], \"t2_ms\": "
         "[[1, 0], [1, 0]], \"t2s_ms\": [[1, 0], [1, 0]], \"adc\": [1, 0]}}}",
         "tissues.liver.t1_ms: expected [[mean, sd], [mean, sd]]"},
        {"\"liver\": {\"pd\": [0.7, 0], \"ff\": [0, 0], \"t1_ms\": [[1, 0], [1, 0]], \"t2_ms\": "
         "[[1, 0], [1, 0]], \"t2s_ms\": [[5, 0], [1, 0]], \"adc\": [1, 0]}}}",
         "T2* must not exceed T2"},
        {"\"liver\": {\"pd\": [0.7, -1]}}}", "tissues.liver.pd: expected [mean, sd] with sd >= 0"},
        {"\"liver\": {\"pd\": [0.7, 0], \"ff\": [0, 0], \"t1_ms\": [[1, 0], [1, 0]], \"t2_ms\": "
         "[[1, 0], [1, 0]], \"t2s_ms\": [[1, 0], [1, 0]], \"adc\": [1, 0], \"src\": {\"pd\": "
         "\"nobody\"}}}}",
         "tissues.liver.src.pd: must name a key"},
        {"", "not valid JSON"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(doc, sizeof doc, "%s%s", head, bad[i].body);
        char name[32];
        snprintf(name, sizeof name, "bad%zu.json", i);
        const char *path = tmp_write(&tmp, "t", name, doc);
        CHECK(sb_tissue_db_load(path, &db, &err) == SB_ERR_INPUT);
        CHECK(db == NULL);
        if (!strstr(err.msg, bad[i].expect) || !strstr(err.msg, name))
            fprintf(stderr, "case %zu: \"%s\" lacks \"%s\" or the file name\n", i, err.msg,
                    bad[i].expect);
        CHECK(strstr(err.msg, bad[i].expect) && strstr(err.msg, name));
    }
    CHECK(sb_tissue_db_load("/nonexistent/t.json", &db, &err) == SB_ERR_INPUT);
    CHECK(strstr(err.msg, "/nonexistent/t.json") != NULL);
    tmp_cleanup(&tmp);
}

/* ---- acquisition on the phantom ------------------------------------------------------------- */
typedef struct {
    sb_volume *tis;
    sb_mr_tissues m;
    sb_mri_session *ss;
    sb_subject s;
} bench;

static int bench_init(bench *b, uint64_t seed, double liver_fat) {
    memset(b, 0, sizeof *b);
    sb_error err;
    b->tis = phantom();
    b->s = subject(seed);
    b->s.liver_fat = liver_fat;
    sb_tissue_db *db = NULL;
    CHECK_OK(sb_tissue_db_load(NULL, &db, &err));
    if (!db || !b->tis) return 0;
    sb_tissue_db_sample(db, &b->s, &b->m);
    sb_tissue_db_free(db);
    CHECK_OK(sb_mri_session_new(&b->m, &b->s, b->tis, &b->ss, &err));
    return b->ss != NULL;
}

static void bench_free(bench *b) {
    sb_mri_session_free(b->ss);
    sb_volume_free(b->tis);
}

/* Acquires `a` on the phantom (float32 unless dt); out[] as sb_mri_acquire. */
static int run(const bench *b, const sb_acquisition *a, const sb_volume *pvt, const sb_volume *pvf,
               int threads, sb_dtype dt, sb_volume *out[SB_MRI_OUT_MAX], double slope[]) {
    sb_error err;
    sb_ctx c = {.threads = threads};
    double sl[SB_MRI_OUT_MAX];
    sb_status s =
        sb_mri_acquire(b->ss, a, b->tis, pvt, pvf, 0xffu, dt, &c, out, slope ? slope : sl, &err);
    if (s) fprintf(stderr, "acquire %s: %s\n", a->name, err.msg);
    CHECK(s == SB_OK);
    return s == SB_OK;
}

static void free_all(sb_volume *out[SB_MRI_OUT_MAX]) {
    for (int k = 0; k < SB_MRI_OUT_MAX; k++) sb_volume_free(out[k]), out[k] = NULL;
}

static double m_of(const bench *b, const sb_volume *img, const char *tissue) {
    return mean_of(img, b->tis, sb_tissue_index(tissue), NULL);
}

static void test_contrasts(void) {
    bench b;
    if (!bench_init(&b, 11, 0.08)) goto done;
    sb_volume *o[SB_MRI_OUT_MAX] = {0};
    /* T1w: fat > liver > muscle > CSF and liver > spleen */
    sb_acquisition a = acq_named("T1w", 1.5, 30, 0.2);
    if (run(&b, &a, NULL, NULL, 2, SB_DT_FLOAT32, o, NULL)) {
        double fat = m_of(&b, o[0], "fat"), liv = m_of(&b, o[0], "liver"),
               mus = m_of(&b, o[0], "muscle"), csf = m_of(&b, o[0], "csf"),
               spl = m_of(&b, o[0], "spleen");
        printf("T1w: fat %.0f liver %.0f muscle %.0f csf %.0f spleen %.0f\n", fat, liv, mus, csf,
               spl);
        CHECK(fat > liv && liv > mus && mus > csf && liv > spl);
    }
    free_all(o);
    /* T2w: CSF > spleen > liver */
    a = acq_named("T2w", 1.5, 30, 0.2);
    if (run(&b, &a, NULL, NULL, 2, SB_DT_FLOAT32, o, NULL)) {
        double csf = m_of(&b, o[0], "csf"), spl = m_of(&b, o[0], "spleen"),
               liv = m_of(&b, o[0], "liver");
        printf("T2w: csf %.0f spleen %.0f liver %.0f\n", csf, spl, liv);
        CHECK(csf > spl && spl > liv);
    }
    free_all(o);
    /* STIR: fat suppressed below muscle; FLAIR: CSF dark */
    a = acq_named("STIR", 1.5, 30, 0.2);
    if (run(&b, &a, NULL, NULL, 2, SB_DT_FLOAT32, o, NULL)) {
        double fat = m_of(&b, o[0], "fat"), mus = m_of(&b, o[0], "muscle");
        printf("STIR: fat %.1f muscle %.1f\n", fat, mus);
        CHECK(fat < 0.5 * mus);
    }
    free_all(o);
    a = acq_named("FLAIR", 3, 30, 0.2);
    if (run(&b, &a, NULL, NULL, 2, SB_DT_FLOAT32, o, NULL)) {
        double csf = m_of(&b, o[0], "csf"), wm = m_of(&b, o[0], "white_matter"),
               gm = m_of(&b, o[0], "grey_matter");
        printf("FLAIR 3 T: csf %.1f wm %.1f gm %.1f\n", csf, wm, gm);
        CHECK(csf < 0.5 * wm && gm > wm);
    }
    free_all(o);
    /* Dixon (3 echoes): fat fraction of fat > 85 %, liver = its parameter +-1.5, muscle < 10 */
    for (int field = 0; field < 2; field++) {
        a = acq_named("fatfrac", field ? 3 : 1.5, 30, 0.2);
        if (run(&b, &a, NULL, NULL, 2, SB_DT_FLOAT32, o, NULL)) {
            double ffat = m_of(&b, o[4], "fat"), fliv = m_of(&b, o[4], "liver"),
                   fmus = m_of(&b, o[4], "muscle");
            double wf = m_of(&b, o[0], "fat"), ff = m_of(&b, o[1], "fat");
            printf("Dixon %.1f T: fat fraction fat %.1f %% liver %.2f %% (truth %.2f) muscle %.1f "
                   "%% (truth %.1f); fat tissue water %.0f fat %.0f\n",
                   field ? 3.0 : 1.5, ffat, fliv, 100 * b.m.t[sb_tissue_index("liver")].ff, fmus,
                   100 * b.m.t[sb_tissue_index("muscle")].ff, wf, ff);
            CHECK(ffat > 85);
            CHECK_NEAR(fliv, 8.0, 1.5);
            CHECK(fmus < 10);
            CHECK(ff > 5 * wf);
            /* in phase brighter than opposed phase in the fatty liver */
            CHECK(m_of(&b, o[2], "liver") > m_of(&b, o[3], "liver"));
        }
        free_all(o);
    }
    /* ADC: CSF > kidney > liver; 10^-6 mm^2/s, near the table (noise and T2 shine-through) */
    a = acq_named("ADC", 1.5, 30, 0.2);
    if (run(&b, &a, NULL, NULL, 2, SB_DT_FLOAT32, o, NULL)) {
        CHECK(a.seq.nb == 2 && a.seq.b[0] == 50 && a.seq.b[1] == 800);
        double csf = m_of(&b, o[2], "csf"), kid = m_of(&b, o[2], "kidney_cortex"),
               liv = m_of(&b, o[2], "liver");
        printf("ADC: csf %.0f kidney %.0f liver %.0f x 10^-6 mm^2/s\n", csf, kid, liv);
        CHECK(csf > kid && kid > liv);
        CHECK_NEAR(liv, 1000 * b.m.t[sb_tissue_index("liver")].adc, 150);
    }
    free_all(o);
done:
    bench_free(&b);
}

/* Noise-free signals equal the equations; partial volume mixes complex signals. */
static void test_equations_and_pv(void) {
    bench b;
    if (!bench_init(&b, 5, 0.05)) goto done;
    sb_volume *o[SB_MRI_OUT_MAX] = {0};
    sb_acquisition a = acq_named("T1w", 1.5, 0, 0);
    const int mus = sb_tissue_index("muscle"), fat = sb_tissue_index("fat");
    if (run(&b, &a, NULL, NULL, 1, SB_DT_FLOAT32, o, NULL)) {
        const sb_tissue_mr *t = &b.m.t[mus];
        double w = t->pd * (1 - t->ff) * (1 - exp(-500 / t->t1_ms[0])) * exp(-15 / t->t2_ms[0]);
        double f = t->pd * t->ff * (1 - exp(-500 / b.m.fat_t1_ms[0])) * exp(-15 / b.m.fat_t2_ms[0]);
        CHECK_NEAR(m_of(&b, o[0], "muscle"), 1000 * (w + f), 1e-3);
        CHECK_NEAR(mean_of(o[0], b.tis, 0, NULL), 0, 0);
    }
    free_all(o);
    /* partial volume: every voxel muscle at the centre, fat as the other tissue, f = 1/3 */
    sb_volume *pvt = NULL, *pvf = NULL;
    sb_error err;
    CHECK_OK(sb_volume_create(b.tis->dim, b.tis->spacing, SB_DT_UINT8, &pvt, &err));
    CHECK_OK(sb_volume_create(b.tis->dim, b.tis->spacing, SB_DT_UINT8, &pvf, &err));
    if (!pvt || !pvf) goto done2;
    const uint8_t *T = b.tis->data;
    uint8_t *P = pvt->data, *F = pvf->data;
    for (size_t i = 0; i < sb_volume_nvox(b.tis); i++) {
        P[i] = T[i] == mus ? (uint8_t)fat : T[i];
        F[i] = T[i] == mus ? 85 : 255;
    }
    double sm[2], sf[2];
    const double fr = 85.0 / 255.0;
    a = acq_named("T1w", 1.5, 0, 0);
    mri_tissue_signal(&b.m, mus, &a.seq, a.seq.te_ms, 0, sm);
    mri_tissue_signal(&b.m, fat, &a.seq, a.seq.te_ms, 0, sf);
    if (run(&b, &a, pvt, pvf, 2, SB_DT_FLOAT32, o, NULL)) {
        CHECK_NEAR(m_of(&b, o[0], "muscle"), fr * sm[0] + (1 - fr) * sf[0], 1e-2);
        CHECK_NEAR(m_of(&b, o[0], "liver"), 0, 1e9); /* untouched tissues still there */
    }
    free_all(o);
    /* opposed-phase GRE: the complex mix, not the sum of magnitudes */
    a = acq_named("dixon_opp", 1.5, 0, 0);
    mri_tissue_signal(&b.m, mus, &a.seq, a.seq.te_echo_ms[0], 0, sm);
    mri_tissue_signal(&b.m, fat, &a.seq, a.seq.te_echo_ms[0], 0, sf);
    if (run(&b, &a, pvt, pvf, 2, SB_DT_FLOAT32, o, NULL)) {
        double re = fr * sm[0] + (1 - fr) * sf[0], im = fr * sm[1] + (1 - fr) * sf[1];
        double got = m_of(&b, o[3], "muscle");
        printf("opposed phase, 1/3 muscle + 2/3 fat: %.2f (complex mix %.2f, magnitude mix "
               "%.2f)\n",
               got, hypot(re, im), fr * hypot(sm[0], sm[1]) + (1 - fr) * hypot(sf[0], sf[1]));
        CHECK_NEAR(got, hypot(re, im), 1e-2);
        CHECK(got < fr * hypot(sm[0], sm[1]) + (1 - fr) * hypot(sf[0], sf[1]) - 1);
    }
    free_all(o);
done2:
    sb_volume_free(pvt);
    sb_volume_free(pvf);
done:
    bench_free(&b);
}

/* Kolmogorov–Smirnov distance between samples and the Rayleigh CDF 1 - exp(-x^2 / 2 s^2). */
static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double ks_rayleigh(double *x, size_t n, double sigma) {
    qsort(x, n, sizeof *x, cmp_double);
    double d = 0;
    for (size_t i = 0; i < n; i++) {
        double F = 1 - exp(-x[i] * x[i] / (2 * sigma * sigma));
        d = fmax(d, fmax(fabs(F - (double)i / (double)n), fabs(F - (double)(i + 1) / (double)n)));
    }
    return d;
}

/* The batch noise kernel (SIMD clones) gives the bits of the scalar map from one Philox block,
 * which matches double-precision Box–Muller on the same 24-bit uniforms; blocks across the 2^32
 * boundary of the counter's low word, runs shorter and longer than one batch. */
static void test_noise_kernel(void) {
    const uint64_t seed = 0x123456789abcdefull;
    const uint64_t firsts[3] = {0, 77, 0xfffffff0ull};
    const size_t counts[6] = {1, 9, 17, 63, 64, 200};
    float z[4 * 200], w[4];
    size_t bad_bits = 0, n = 0;
    double worst = 0;
    for (int a = 0; a < 3; a++)
        for (int c = 0; c < 6; c++) {
            mri_normals(seed, 5, SB_STREAM_NOISE + 256, firsts[a], counts[c], z);
            for (size_t i = 0; i < counts[c]; i++, n++) {
                uint64_t b = firsts[a] + i;
                uint32_t ctr[4] = {5, SB_STREAM_NOISE + 256, (uint32_t)b, (uint32_t)(b >> 32)};
                uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)}, o[4];
                sb_philox4x32_10(ctr, key, o);
                mri_uniform_to_normals(o, w);
                for (int h = 0; h < 2; h++) {
                    double u1 = ((double)(o[2 * h] >> 8) + 0.5) / 16777216.0;
                    double u2 = (double)(o[2 * h + 1] >> 8) / 16777216.0;
                    double r = sqrt(-2 * log(u1));
                    double ref[2] = {r * cos(2 * M_PI * u2), r * sin(2 * M_PI * u2)};
                    for (int q = 0; q < 2; q++) {
                        worst = fmax(worst, fabs(z[4 * i + 2 * h + q] - ref[q]));
                        bad_bits += memcmp(&z[4 * i + 2 * h + q], &w[2 * h + q], sizeof w[0]) != 0;
                    }
                }
            }
        }
    printf("noise kernel: %zu blocks, %zu differ from the scalar path, worst error %.2g\n", n,
           bad_bits, worst);
    CHECK(bad_bits == 0);
    CHECK(worst < 3e-6);
    /* the Rayleigh radii of voxels without signal: the same bits as the scalar map, within
     * 3e-6 of sqrt(-2 ln u) in double precision, and what Box-Muller's pair has as its modulus */
    size_t rbad = 0, rn = 0;
    double rworst = 0, modworst = 0;
    for (int a = 0; a < 3; a++)
        for (int c = 0; c < 6; c++) {
            mri_radii(seed, 5, SB_STREAM_NOISE + 384, firsts[a], counts[c], z);
            for (size_t i = 0; i < counts[c]; i++, rn++) {
                uint64_t b = firsts[a] + i;
                uint32_t ctr[4] = {5, SB_STREAM_NOISE + 384, (uint32_t)b, (uint32_t)(b >> 32)};
                uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32)}, o[4];
                sb_philox4x32_10(ctr, key, o);
                float rs[4], zs[4];
                mri_uniform_to_radii(o, rs);
                mri_uniform_to_normals(o, zs);
                for (int q = 0; q < 4; q++) {
                    double u = ((double)(o[q] >> 8) + 0.5) / 16777216.0;
                    rworst = fmax(rworst, fabs(z[4 * i + (size_t)q] - sqrt(-2 * log(u))));
                    rbad += memcmp(&z[4 * i + (size_t)q], &rs[q], sizeof rs[0]) != 0;
                }
                for (int h = 0; h < 2; h++) /* words 0 and 2 are the pairs' u1 */
                    modworst = fmax(modworst, fabs(hypot(zs[2 * h], zs[2 * h + 1]) - rs[2 * h]));
            }
        }
    printf("radii: %zu blocks, %zu differ from the scalar path, worst error %.2g, Box-Muller "
           "modulus within %.2g\n",
           rn, rbad, rworst, modworst);
    CHECK(rbad == 0);
    CHECK(rworst < 3e-6);
    CHECK(modworst < 3e-6);
}

/* The Dixon R2* fit (mri_dixon_r2s_fit): the AVX2 and AVX-512 paths give the bits of the
 * baseline build, over whole runs (vector lanes) and one voxel at a time (the loops' scalar
 * remainders), on echoes of the fit's own model with noise, random echoes and extreme ones (a
 * third echo near 0 or subnormal, a first echo of 1e6, equal echoes); a noiseless voxel of the
 * model gives back its W and F within 10 %. */
static uint32_t lcg_next(uint64_t *s) {
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(*s >> 33);
}
static float lcg_uniform(uint64_t *s, float lo, float hi) {
    return lo + (hi - lo) * (float)lcg_next(s) / 2147483648.0f;
}

static void test_dixon_r2s_paths(void) {
    enum { NV = 4099 };
    static float x[6][NV], w[4][NV], f[4][NV];
    static const float ph[2][6] = {{-0.78f, 0.51f, -0.62f, 0.31f, -0.42f, 0.47f},
                                   {0.12f, -0.83f, 0.66f, 0.05f, -0.71f, -0.33f}};
    size_t bad = 0, runs = 0;
    for (int set = 0; set < 2; set++) {
        mri_dixon3 q = {1.1f + (float)set,
                        2.3f + 1.5f * (float)set,
                        3.5f + 2 * (float)set,
                        ph[set][0],
                        ph[set][2],
                        ph[set][4],
                        ph[set][1],
                        ph[set][3],
                        ph[set][5],
                        0,
                        0,
                        0,
                        0};
        q.c20 = q.cr0 * q.cr0 + q.ci0 * q.ci0, q.c21 = q.cr1 * q.cr1 + q.ci1 * q.ci1;
        q.c22 = q.cr2 * q.cr2 + q.ci2 * q.ci2;
        q.inv_dt = 1.0f / (q.te2 - q.te0);
        const float te[3] = {q.te0, q.te1, q.te2}, cr[3] = {q.cr0, q.cr1, q.cr2},
                    ci[3] = {q.ci0, q.ci1, q.ci2};
        uint64_t s = 0x5eed0000ull + (uint64_t)set;
        for (size_t j = 0; j < NV; j++) {
            int kind = (int)(j % 8);
            float W = lcg_uniform(&s, 0, 1000), F = lcg_uniform(&s, 0, 1000);
            float r = lcg_uniform(&s, 0, 0.4f), noise = kind == 1 ? 0 : lcg_uniform(&s, 0, 30);
            for (int e = 0; e < 3; e++) {
                float d = expf(-r * te[e]);
                x[2 * e][j] = (W + F * cr[e]) * d + noise * lcg_uniform(&s, -1, 1);
                x[2 * e + 1][j] = F * ci[e] * d + noise * lcg_uniform(&s, -1, 1);
                if (kind == 2) /* random echoes */
                    x[2 * e][j] = lcg_uniform(&s, -2000, 2000),
                          x[2 * e + 1][j] = lcg_uniform(&s, -2000, 2000);
            }
            if (kind == 3) x[4][j] = (j & 8) ? 1e-30f : 1e-41f, x[5][j] = 0; /* a2 near 0 */
            if (kind == 4) x[0][j] = 1e6f, x[1][j] = -3e5f;
            if (kind == 5) /* three equal echoes */
                for (int e = 1; e < 3; e++) x[2 * e][j] = x[0][j], x[2 * e + 1][j] = x[1][j];
        }
        const float *const xs[6] = {x[0], x[1], x[2], x[3], x[4], x[5]};
        CHECK(mri_dixon_r2s_fit(&q, xs, w[0], f[0], NV, 1) == 1);
        for (int path = 1; path <= 3; path++) {
            /* whole runs of several lengths and alignments, and single voxels */
            static const size_t lens[] = {NV, 1, 3, 7, 15, 16, 17, 31, 33, 64, 373};
            for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
                for (size_t j0 = l ? 5 : 0; j0 + lens[l] <= NV; j0 += lens[l] + (l ? 97 : 1)) {
                    const float *const xo[6] = {x[0] + j0, x[1] + j0, x[2] + j0,
                                                x[3] + j0, x[4] + j0, x[5] + j0};
                    int got = mri_dixon_r2s_fit(&q, xo, w[path] + j0, f[path] + j0, lens[l], path);
                    if (got < 0) break; /* the processor lacks the path */
                    CHECK(got == path);
                    runs++;
                    for (size_t j = j0; j < j0 + lens[l]; j++)
                        bad += memcmp(&w[path][j], &w[0][j], sizeof(float)) != 0 ||
                               memcmp(&f[path][j], &f[0][j], sizeof(float)) != 0;
                }
            }
        }
        /* a noiseless voxel of the model: W 600, F 400, R2* 0.05 /ms */
        float e[6];
        for (int k = 0; k < 3; k++) {
            float d = expf(-0.05f * te[k]);
            e[2 * k] = (600 + 400 * cr[k]) * d, e[2 * k + 1] = 400 * ci[k] * d;
        }
        const float *const xe[6] = {&e[0], &e[1], &e[2], &e[3], &e[4], &e[5]};
        float W1, F1;
        mri_dixon_r2s_fit(&q, xe, &W1, &F1, 1, 0);
        CHECK_NEAR(W1, 600, 60); /* R2* corrected once for the spectrum: a bias of a few % */
        CHECK_NEAR(F1, 400, 40);
    }
    printf("Dixon R2* fit: %zu runs on the AVX2/AVX-512/baseline paths, %zu voxels differ from "
           "the baseline\n",
           runs, bad);
    CHECK(bad == 0);
}

/* k-space truncation: a sharp edge keeps its level far away, overshoots by the Gibbs
 * fraction (about 9 % of the jump for a sharp window) next to it, and any axis behaves like x;
 * keep >= 1 leaves the image untouched; 1 and 2 threads give the same bytes. */
static void test_kspace(void) {
    size_t dim[3] = {64, 24, 20}, n = 64 * 24 * 20;
    float *a = malloc(2 * n * sizeof *a), *b = malloc(2 * n * sizeof *b),
          *t = malloc(2 * n * sizeof *t);
    if (!a || !b || !t) goto done;
    /* x in [16, 48): 100 + 50 i, else 0 */
    for (size_t v = 0; v < n; v++) {
        size_t x = v % 64;
        a[2 * v] = x >= 16 && x < 48 ? 100.0f : 0.0f;
        a[2 * v + 1] = x >= 16 && x < 48 ? 50.0f : 0.0f;
    }
    memcpy(b, a, 2 * n * sizeof *a);
    double none[3] = {1, 0, 1}, half[3] = {0.5, 1, 1};
    CHECK(mri_kspace_truncate(b, dim, none, 2) == 0);
    CHECK(!memcmp(a, b, 2 * n * sizeof *a));
    CHECK(mri_kspace_truncate(b, dim, half, 2) == 0);
    memcpy(t, a, 2 * n * sizeof *a);
    CHECK(mri_kspace_truncate(t, dim, half, 1) == 0);
    CHECK(!memcmp(t, b, 2 * n * sizeof *a));
    double peak = 0, centre = b[2 * (32 + 64 * 5)], outside = b[2 * (2 + 64 * 5)];
    for (size_t x = 0; x < 64; x++) peak = fmax(peak, b[2 * (x + 64 * 7)]);
    printf("k-space, half along x: centre %.2f, overshoot %.2f %% of the jump, far outside %.2f\n",
           centre, peak - 100, outside);
    CHECK(fabs(centre - 100) < 3);
    CHECK(peak > 105 && peak < 113);
    CHECK(fabs(outside) < 3);
    CHECK(fabs(b[2 * (32 + 64 * 5) + 1] - 50) < 1.5); /* the imaginary part alike */
    /* the same profile along z: transpose x <-> z of a 20 x 24 x 64 image */
    size_t dz[3] = {20, 24, 64};
    for (size_t v = 0; v < n; v++) {
        size_t z = v / (20 * 24);
        t[2 * v] = z >= 16 && z < 48 ? 100.0f : 0.0f;
        t[2 * v + 1] = z >= 16 && z < 48 ? 50.0f : 0.0f;
    }
    double halfz[3] = {1, 1, 0.5};
    CHECK(mri_kspace_truncate(t, dz, halfz, 2) == 0);
    double worst = 0;
    for (size_t z = 0; z < 64; z++)
        worst = fmax(worst, fabs(t[2 * (3 + 20 * (5 + 24 * z))] - b[2 * (z + 64 * 5)]));
    CHECK(worst < 1e-3);
done:
    free(a), free(b), free(t);
}

/* Texture: solid tissues vary by about the requested SD around their plain mean, fluids not;
 * no texture when it is 0. */
static void test_texture(void) {
    bench b;
    if (!bench_init(&b, 4, 0.03)) goto done;
    sb_volume *o[SB_MRI_OUT_MAX] = {0}, *p[SB_MRI_OUT_MAX] = {0};
    sb_acquisition a = acq_named("T1w", 1.5, 0, 0);
    a.texture = 0.1;
    if (run(&b, &a, NULL, NULL, 2, SB_DT_FLOAT32, o, NULL)) {
        a.texture = 0;
        if (run(&b, &a, NULL, NULL, 2, SB_DT_FLOAT32, p, NULL)) {
            static const char *const solid[3] = {"muscle", "liver", "fat"};
            for (int k = 0; k < 4; k++) {
                const char *tn = k < 3 ? solid[k] : "csf";
                int ti = sb_tissue_index(tn);
                const uint8_t *T = b.tis->data;
                double s1 = 0, s2 = 0, plain = 0;
                size_t c = 0;
                for (size_t v = 0; v < sb_volume_nvox(b.tis); v++)
                    if (T[v] == ti) {
                        double x = ((float *)o[0]->data)[v];
                        s1 += x, s2 += x * x, c++;
                        plain = ((float *)p[0]->data)[v];
                    }
                double mean = s1 / (double)c, sd = sqrt(fmax(0, s2 / (double)c - mean * mean));
                printf("texture 0.10: %s mean %.1f (plain %.1f), SD/mean %.3f\n", tn, mean, plain,
                       sd / mean);
                if (k < 3) {
                    CHECK(fabs(mean / plain - 1) < 0.05);
                    CHECK(sd / mean > 0.05 && sd / mean < 0.16);
                } else {
                    CHECK(sd / mean < 1e-4);
                }
            }
        }
    }
    free_all(o);
    free_all(p);
done:
    bench_free(&b);
}

static void test_noise_bias_threads(void) {
    bench b;
    if (!bench_init(&b, 3, 0.03)) goto done;
    sb_volume *o[SB_MRI_OUT_MAX] = {0}, *o2[SB_MRI_OUT_MAX] = {0};
    /* SNR 25 against muscle, no bias: measured from the air (Rayleigh: SD = 0.655 sigma) */
    sb_acquisition a = acq_named("T2w", 1.5, 25, 0);
    if (run(&b, &a, NULL, NULL, 2, SB_DT_FLOAT32, o, NULL)) {
        size_t nair = 0;
        double mair = mean_of(o[0], b.tis, 0, &nair);
        double *x = malloc(nair * sizeof *x);
        double ss = 0;
        size_t k = 0;
        const uint8_t *T = b.tis->data;
        const float *I = o[0]->data;
        for (size_t i = 0; x && i < sb_volume_nvox(b.tis); i++)
            if (!T[i]) x[k++] = I[i], ss += (I[i] - mair) * (I[i] - mair);
        double sd = sqrt(ss / (double)(nair - 1)), sigma = sd / sqrt(2 - M_PI / 2);
        double smus[2];
        mri_tissue_signal(&b.m, sb_tissue_index("muscle"), &a.seq, a.seq.te_ms, 0, smus);
        double snr = m_of(&b, o[0], "muscle") / sigma, truth = smus[0] / 25;
        double d = x ? ks_rayleigh(x, nair, truth) : 1, crit = 1.63 / sqrt((double)nair);
        double d_wrong = x ? ks_rayleigh(x, nair, 1.1 * truth) : 0;
        printf("noise: %zu air voxels, mean %.3f (Rayleigh %.3f), sigma from SD %.3f (true "
               "%.3f), measured SNR %.2f (asked 25); KS D = %.4f (1 %% critical %.4f; against "
               "1.1 sigma: %.4f)\n",
               nair, mair, truth * sqrt(M_PI / 2), sigma, truth, snr, d, crit, d_wrong);
        CHECK_NEAR(snr, 25, 2.5);
        CHECK(d < crit);
        CHECK(d_wrong > crit); /* the test can tell a wrong sigma */
        free(x);
    }
    free_all(o);
    /* bias 0.4 without noise: (max - min) / mean of a uniform tissue, over the whole body */
    bench u;
    if (bench_init(&u, 3, 0.03)) {
        uint8_t *T = u.tis->data;
        for (size_t i = 0; i < sb_volume_nvox(u.tis); i++)
            T[i] = (uint8_t)sb_tissue_index("muscle"); /* the whole grid is muscle */
        sb_mri_session_free(u.ss);
        u.ss = NULL;
        sb_error err;
        CHECK_OK(sb_mri_session_new(&u.m, &u.s, u.tis, &u.ss, &err));
        a = acq_named("T1w", 1.5, 0, 0.4);
        if (u.ss && run(&u, &a, NULL, NULL, 2, SB_DT_FLOAT32, o, NULL)) {
            const float *I = o[0]->data;
            double lo = INFINITY, hi = 0, sum = 0;
            size_t n = sb_volume_nvox(u.tis);
            for (size_t i = 0; i < n; i++) lo = fmin(lo, I[i]), hi = fmax(hi, I[i]), sum += I[i];
            double amp = (hi - lo) / (sum / (double)n);
            printf("bias: asked 0.40, (max - min) / mean = %.3f\n", amp);
            CHECK_NEAR(amp, 0.4, 0.04);
        }
        free_all(o);
    }
    bench_free(&u);
    /* same bytes at 1 and 2 threads: a magnitude image (Rayleigh air beside the signal) and
     * Dixon (3 noise channels); int16 = float within a slope */
    a = acq_named("T2w", 1.5, 30, 0.3);
    if (run(&b, &a, NULL, NULL, 1, SB_DT_INT16, o, NULL) &&
        run(&b, &a, NULL, NULL, 2, SB_DT_INT16, o2, NULL))
        CHECK(!memcmp(o[0]->data, o2[0]->data, sb_volume_nvox(b.tis) * sizeof(int16_t)));
    free_all(o);
    free_all(o2);
    a = acq_named("dixon_water", 1.5, 30, 0.3);
    double sl1[SB_MRI_OUT_MAX], sl2[SB_MRI_OUT_MAX];
    if (run(&b, &a, NULL, NULL, 1, SB_DT_INT16, o, sl1) &&
        run(&b, &a, NULL, NULL, 2, SB_DT_INT16, o2, sl2)) {
        for (int k = 0; k < 5; k++) {
            CHECK(o[k] && o2[k] && sl1[k] == sl2[k]);
            if (o[k] && o2[k])
                CHECK(!memcmp(o[k]->data, o2[k]->data, sb_volume_nvox(b.tis) * sizeof(int16_t)));
        }
        free_all(o2);
        if (run(&b, &a, NULL, NULL, 2, SB_DT_FLOAT32, o2, NULL)) {
            /* and exactly round(f / slope) of the float image, clamped, as the plain loop has it
             * (the int16 rows are stored by AVX-512 code where the processor has it) */
            double worst = 0;
            size_t inexact = 0;
            for (int k = 0; k < 5; k++) {
                const float inv = (float)(1 / sl1[k]);
                for (size_t i = 0; i < sb_volume_nvox(b.tis); i++) {
                    float f = ((float *)o2[k]->data)[i], x = f * inv;
                    int16_t q = ((int16_t *)o[k]->data)[i];
                    worst = fmax(worst, fabs(f - q * sl1[k]) / sl1[k]);
                    x = x > 32767.0f ? 32767.0f : x < -32768.0f ? -32768.0f : x;
                    inexact += q != (int16_t)lrintf(x);
                }
            }
            printf("int16 vs float32: worst difference %.3f slope units, %zu not the rounded "
                   "float\n",
                   worst, inexact);
            CHECK(worst <= 0.51);
            CHECK(inexact == 0);
        }
    }
    free_all(o);
    free_all(o2);
    /* another subject index: other noise */
    sb_mri_session *other = NULL;
    sb_subject s2 = b.s;
    s2.subject = 1;
    sb_error err;
    CHECK_OK(sb_mri_session_new(&b.m, &s2, b.tis, &other, &err));
    a = acq_named("T1w", 1.5, 30, 0);
    sb_ctx c = {.threads = 2};
    double sl[SB_MRI_OUT_MAX];
    if (other && !sb_mri_acquire(other, &a, b.tis, NULL, NULL, 1, SB_DT_INT16, &c, o2, sl, &err) &&
        run(&b, &a, NULL, NULL, 2, SB_DT_INT16, o, NULL))
        CHECK(memcmp(o[0]->data, o2[0]->data, sb_volume_nvox(b.tis) * 2) != 0);
    free_all(o);
    free_all(o2);
    sb_mri_session_free(other);
done:
    bench_free(&b);
}

static void test_protocols_and_errors(void) {
    sb_protocol p;
    sb_error err;
    CHECK_OK(sb_mri_protocol(NULL, NULL, 0, -1, -1, &p, &err));
    CHECK(p.count == 2 && !strcmp(p.acq[0].name, "T1w") && !strcmp(p.acq[1].name, "T2w"));
    CHECK_OK(sb_mri_protocol("oncology-wb", NULL, 0, -1, -1, &p, &err));
    size_t images = 0;
    for (size_t i = 0; i < p.count; i++)
        for (int k = 0; k < SB_MRI_OUT_MAX; k++) images += (p.want[i] >> k) & 1u;
    CHECK(p.count == 4 && images == 10); /* 5 Dixon, T2w, STIR, b50, b800, ADC */
    CHECK_OK(sb_mri_protocol("ukbiobank-dixon", NULL, 0, -1, -1, &p, &err));
    CHECK(p.count == 1 && p.acq[0].seq.necho == 2 && p.acq[0].seq.te_echo_ms[1] == 4.77);
    CHECK_OK(sb_mri_protocol("neuro", NULL, 0, 12, 0.4, &p, &err));
    CHECK(p.count == 3 && p.acq[2].seq.field_t == 3 && p.acq[2].snr == 12 && p.acq[2].bias == 0.4 &&
          !strcmp(p.acq[2].ref_tissue, "white_matter"));
    CHECK_OK(sb_mri_protocol(NULL, "dwi_b1000,dwi_b0,ADC,GRE,bSSFP,PDw", 3, -1, -1, &p, &err));
    CHECK(p.count == 4 && p.acq[0].seq.nb == 2 && p.acq[0].seq.b[0] == 0 &&
          p.acq[0].seq.b[1] == 1000 && p.want[0] == 7u);
    CHECK(sb_mri_protocol("fast", NULL, 0, -1, -1, &p, &err) == SB_ERR_USAGE);
    CHECK(strstr(err.msg, "\"fast\"") != NULL);
    CHECK(sb_mri_protocol(NULL, "T1w,T3w", 0, -1, -1, &p, &err) == SB_ERR_USAGE);
    CHECK(strstr(err.msg, "\"T3w\"") != NULL);
    CHECK(sb_mri_protocol(NULL, "T1w,,T2w", 0, -1, -1, &p, &err) == SB_ERR_USAGE);
    CHECK(sb_mri_protocol(NULL, "dwi_bx", 0, -1, -1, &p, &err) == SB_ERR_USAGE);
    CHECK(strstr(err.msg, "dwi_bx") != NULL);

    /* invalid acquisitions: usage errors naming the acquisition and the parameter */
    bench b;
    if (!bench_init(&b, 1, 0.02)) goto done;
    sb_volume *o[SB_MRI_OUT_MAX];
    double sl[SB_MRI_OUT_MAX];
    sb_ctx c = {.threads = 1};
    sb_acquisition a = acq_named("T2w", 1.5, 30, 0.2);
    a.seq.te_ms = a.seq.tr_ms + 1;
    CHECK(sb_mri_acquire(b.ss, &a, b.tis, NULL, NULL, 1, SB_DT_INT16, &c, o, sl, &err) ==
          SB_ERR_USAGE);
    CHECK(strstr(err.msg, "T2w") && strstr(err.msg, "TE") && o[0] == NULL);
    a = acq_named("STIR", 1.5, 30, 0.2);
    a.seq.ti_ms = 0;
    CHECK(sb_mri_acquire(b.ss, &a, b.tis, NULL, NULL, 1, SB_DT_INT16, &c, o, sl, &err) ==
          SB_ERR_USAGE);
    CHECK(strstr(err.msg, "TI") != NULL);
    a = acq_named("T1w", 1.5, 30, 0.9);
    CHECK(sb_mri_acquire(b.ss, &a, b.tis, NULL, NULL, 1, SB_DT_INT16, &c, o, sl, &err) ==
          SB_ERR_USAGE);
    CHECK(strstr(err.msg, "bias") != NULL);
    a = acq_named("T1w", 1.5, 30, 0.2);
    snprintf(a.ref_tissue, sizeof a.ref_tissue, "bone");
    CHECK(sb_mri_acquire(b.ss, &a, b.tis, NULL, NULL, 1, SB_DT_INT16, &c, o, sl, &err) ==
          SB_ERR_USAGE);
    CHECK(strstr(err.msg, "\"bone\"") != NULL);
    snprintf(a.ref_tissue, sizeof a.ref_tissue, "air"); /* no signal: no SNR reference */
    CHECK(sb_mri_acquire(b.ss, &a, b.tis, NULL, NULL, 1, SB_DT_INT16, &c, o, sl, &err) ==
          SB_ERR_USAGE);
    a = acq_named("fatfrac", 1.5, 30, 0.2);
    a.seq.te_echo_ms[2] = 1;
    CHECK(sb_mri_acquire(b.ss, &a, b.tis, NULL, NULL, 1, SB_DT_INT16, &c, o, sl, &err) ==
          SB_ERR_USAGE);
    CHECK(strstr(err.msg, "echo 3") != NULL);
done:
    bench_free(&b);
}

/* The default anatomy at 8 mm: contrasts on real label shapes. */
static void test_default_anatomy(void) {
    sb_anatomy *an = NULL;
    sb_error err;
    CHECK_OK(sb_anatomy_load_default(&an, &err));
    sb_subject s = subject_fixed(7, SB_SEX_MALE, 0, 0);
    CHECK_OK(sb_subject_sample(&(sb_subject_request){.seed = 7, .sex = SB_SEX_MALE}, &s, &err));
    sb_volume *lab = NULL, *tis = NULL, *o[SB_MRI_OUT_MAX] = {0};
    sb_ctx c = {.threads = 2};
    if (an) CHECK_OK(sb_anatomy_voxelize(an, &s, 8.0, &c, &lab, &tis, &err));
    sb_tissue_db *db = NULL;
    sb_mri_session *ss = NULL;
    sb_mr_tissues m;
    CHECK_OK(sb_tissue_db_load(NULL, &db, &err));
    if (!tis || !db) goto done;
    sb_tissue_db_sample(db, &s, &m);
    CHECK_OK(sb_mri_session_new(&m, &s, tis, &ss, &err));
    sb_acquisition a = acq_named("T1w", 1.5, 30, 0.2);
    double sl[SB_MRI_OUT_MAX];
    if (ss) CHECK_OK(sb_mri_acquire(ss, &a, tis, NULL, NULL, 1, SB_DT_FLOAT32, &c, o, sl, &err));
    if (o[0]) {
        double fat = mean_of(o[0], tis, sb_tissue_index("fat"), NULL);
        double mus = mean_of(o[0], tis, sb_tissue_index("muscle"), NULL);
        double liv = mean_of(o[0], tis, sb_tissue_index("liver"), NULL);
        printf("default anatomy, 8 mm T1w: fat %.0f, liver %.0f, muscle %.0f\n", fat, liv, mus);
        CHECK(fat > liv && liv > mus);
    }
done:
    free_all(o);
    sb_mri_session_free(ss);
    sb_tissue_db_free(db);
    sb_volume_free(lab);
    sb_volume_free(tis);
    sb_anatomy_free(an);
}

int main(void) {
    test_table();
    test_table_files();
    test_contrasts();
    test_equations_and_pv();
    test_noise_kernel();
    test_dixon_r2s_paths();
    test_kspace();
    test_texture();
    test_noise_bias_threads();
    test_protocols_and_errors();
    test_default_anatomy();
    TEST_RETURN();
}
