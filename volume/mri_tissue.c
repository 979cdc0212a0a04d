/* mri_tissue.c — the tissue classes and their MR properties (proton density, fat fraction,
 * T1, T2, T2* at 1.5 T and 3 T, ADC), read from JSON: the embedded default
 * volume/tissues/tissues.json (every value with its literature source and a population
 * spread), optionally overridden entry by entry by a user's file of the same format.
 *
 * Per subject every value is drawn as mean + sd z, z ~ N(0, 1) clamped to +-2.5, from the
 * subject's TISSUE stream at a fixed index per (tissue, quantity) — so the draw of one tissue
 * never depends on which other tissues a file lists. One z serves both field strengths (a
 * subject's tissue is the same tissue at 1.5 T and 3 T). The liver's fat fraction is the
 * subject's own liver fat parameter (sb_subject.liver_fat, population.c).
 */
#include "sb_volume.h"
#include "text_file.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The classes, index = value in tissue maps. Append only: the index is stored in the maps. */
const sb_tissue_props sb_tissue_table[] = {{"background"},
                                           {"fat"},
                                           {"muscle"},
                                           {"skin"},
                                           {"cortical_bone"},
                                           {"red_marrow"},
                                           {"yellow_marrow"},
                                           {"cartilage"},
                                           {"disc"},
                                           {"tendon"},
                                           {"grey_matter"},
                                           {"white_matter"},
                                           {"csf"},
                                           {"spinal_cord"},
                                           {"nerve"},
                                           {"vitreous"},
                                           {"lens"},
                                           {"blood"},
                                           {"myocardium"},
                                           {"vessel_wall"},
                                           {"lung"},
                                           {"air"},
                                           {"liver"},
                                           {"spleen"},
                                           {"kidney_cortex"},
                                           {"kidney_medulla"},
                                           {"urine"},
                                           {"pancreas"},
                                           {"stomach_wall"},
                                           {"bowel_wall"},
                                           {"bowel_content"},
                                           {"bile"},
                                           {"prostate"},
                                           {"uterus"},
                                           {"ovary"},
                                           {"testis"},
                                           {"thyroid"},
                                           {"adrenal"},
                                           {"breast_gland"},
                                           {"lymph_node"},
                                           {"cyst_fluid"}, /* lesion classes (volume/lesions.c) */
                                           {"metastasis"},
                                           {"necrosis"},
                                           {"hcc"},
                                           {"rcc"},
                                           {"lung_nodule"},
                                           {"bone_metastasis"},
                                           {"glioma"},
                                           {"oedema"},
                                           {"ms_lesion"},
                                           {NULL}};

size_t sb_tissue_count(void) {
    size_t n = 0;
    while (sb_tissue_table[n].name) n++;
    return n;
}

const sb_tissue_props *sb_tissue_find(const char *tissue) {
    for (size_t i = 1; sb_tissue_table[i].name; i++)
        if (strcmp(sb_tissue_table[i].name, tissue) == 0) return &sb_tissue_table[i];
    return NULL;
}

int sb_tissue_index(const char *tissue) {
    const sb_tissue_props *p = sb_tissue_find(tissue);
    return p ? (int)(p - sb_tissue_table) : -1;
}

/* ---- the table ------------------------------------------------------------------------------ */
typedef struct {
    double mean, sd;
} mv;

enum { Q_PD, Q_FF, Q_T1, Q_T2, Q_T2S, Q_ADC, Q_COUNT };
static const char *const QNAME[Q_COUNT] = {"pd", "ff", "t1_ms", "t2_ms", "t2s_ms", "adc"};

typedef struct {
    int present;
    mv q[Q_COUNT][2]; /* [quantity][field]; pd, ff, adc use [0] only */
    char src[Q_COUNT][16];
    int rel;            /* "relative_to": the tissue whose drawn values ratio[] multiplies */
    int ratio[Q_COUNT]; /* q[] of this quantity is a ratio to tissue rel's value */
} tissue_entry;

struct sb_tissue_db {
    tissue_entry t[SB_TISSUE_MAX];
    mv fat_t1[2], fat_t2[2], fat_adc;
    int npeaks;
    double ppm[SB_FAT_PEAKS_MAX], amp[SB_FAT_PEAKS_MAX];
    char refs[64][16]; /* reference keys seen (default and user file) */
    size_t nrefs;
};

extern const char sb_tissues_default_json[];
#define DEFAULT_NAME "volume/tissues/tissues.json (embedded)"

static sb_status bad(sb_error *err, const char *file, const char *path, const char *why) {
    return sb_error_set(err, SB_ERR_INPUT, "%s: %s: %s", file, path, why);
}

static int get_mv(const cJSON *j, mv *out) {
    if (!cJSON_IsArray(j) || cJSON_GetArraySize(j) != 2) return 0;
    const cJSON *a = cJSON_GetArrayItem(j, 0), *b = cJSON_GetArrayItem(j, 1);
    if (!cJSON_IsNumber(a) || !cJSON_IsNumber(b)) return 0;
    out->mean = a->valuedouble;
    out->sd = b->valuedouble;
    return isfinite(out->mean) && isfinite(out->sd) && out->sd >= 0;
}

static int get_mv2(const cJSON *j, mv out[2]) {
    return cJSON_IsArray(j) && cJSON_GetArraySize(j) == 2 &&
           get_mv(cJSON_GetArrayItem(j, 0), &out[0]) && get_mv(cJSON_GetArrayItem(j, 1), &out[1]);
}

static int has_ref(const sb_tissue_db *db, const char *key) {
    for (size_t i = 0; i < db->nrefs; i++)
        if (!strcmp(db->refs[i], key)) return 1;
    return 0;
}

static sb_status parse_refs(sb_tissue_db *db, const cJSON *refs, const char *file, sb_error *err) {
    if (!refs) return SB_OK;
    if (!cJSON_IsObject(refs)) return bad(err, file, "references", "expected an object");
    for (const cJSON *r = refs->child; r; r = r->next) {
        if (!cJSON_IsString(r) || strlen(r->string) >= sizeof db->refs[0])
            return bad(err, file, "references",
                       "each reference is \"key\": \"citation\" (key < 16 chars)");
        if (has_ref(db, r->string)) continue;
        if (db->nrefs == sizeof db->refs / sizeof db->refs[0])
            return bad(err, file, "references", "more than 64 references");
        snprintf(db->refs[db->nrefs++], sizeof db->refs[0], "%s", r->string);
    }
    return SB_OK;
}

/* Range of each quantity; relaxation times and ADC in their JSON units. */
static int in_range(int q, double v) {
    switch (q) {
    case Q_PD:
        return v >= 0 && v <= 1.2;
    case Q_FF:
        return v >= 0 && v <= 1;
    case Q_ADC:
        return v >= 0 && v <= 5;
    default:
        return v > 0 && v <= 100000;
    }
}

static sb_status parse_tissue(sb_tissue_db *db, const cJSON *j, const char *file, int ti,
                              int need_src, sb_error *err) {
    char path[96];
    tissue_entry e;
    memset(&e, 0, sizeof e);
    if (!cJSON_IsObject(j)) {
        snprintf(path, sizeof path, "tissues.%s", j->string);
        return bad(err, file, path, "expected an object");
    }
    const cJSON *src = cJSON_GetObjectItemCaseSensitive(j, "src");
    const cJSON *rel = cJSON_GetObjectItemCaseSensitive(j, "relative_to");
    const cJSON *ratio = cJSON_GetObjectItemCaseSensitive(j, "ratio");
    if (rel || ratio) {
        snprintf(path, sizeof path, "tissues.%s.relative_to", j->string);
        e.rel = cJSON_IsString(rel) ? sb_tissue_index(rel->valuestring) : -1;
        if (e.rel <= 0 || e.rel == ti)
            return bad(err, file, path, "expected the name of another tissue class");
        snprintf(path, sizeof path, "tissues.%s.ratio", j->string);
        if (!cJSON_IsObject(ratio) || !ratio->child)
            return bad(err, file, path,
                       "expected an object of quantities (pd, t1_ms, t2_ms, "
                       "t2s_ms, adc) given as ratios to relative_to's");
        for (const cJSON *r = ratio->child; r; r = r->next) {
            int q = 0;
            while (q < Q_COUNT && strcmp(QNAME[q], r->string)) q++;
            if (q == Q_COUNT || q == Q_FF) {
                snprintf(path, sizeof path, "tissues.%s.ratio.%s", j->string, r->string);
                return bad(err, file, path, "a ratio is given for pd, t1_ms, t2_ms, t2s_ms or adc");
            }
            e.ratio[q] = 1;
        }
    }
    for (int q = 0; q < Q_COUNT; q++) {
        snprintf(path, sizeof path, "tissues.%s.%s%s", j->string, e.ratio[q] ? "ratio." : "",
                 QNAME[q]);
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(e.ratio[q] ? ratio : j, QNAME[q]);
        int per_field = q == Q_T1 || q == Q_T2 || q == Q_T2S;
        if (e.ratio[q] && cJSON_GetObjectItemCaseSensitive(j, QNAME[q]))
            return bad(err, file, path, "given both as a value and as a ratio");
        if (!v) return bad(err, file, path, "missing");
        if (per_field ? !get_mv2(v, e.q[q]) : !get_mv(v, &e.q[q][0]))
            return bad(err, file, path,
                       per_field ? "expected [[mean, sd], [mean, sd]] (1.5 T, 3 T) with sd >= 0"
                                 : "expected [mean, sd] with sd >= 0");
        if (!per_field) e.q[q][1] = e.q[q][0];
        /* a subject's value is mean + sd z, |z| <= 2.5: an SD beyond the quantity's range
         * (1e308) would make it infinite */
        for (int f = 0; f < 2; f++)
            if (!in_range(q, e.q[q][f].sd) && e.q[q][f].sd != 0) {
                char why[160];
                snprintf(why, sizeof why, "sd %g is out of range (at most the largest mean)",
                         e.q[q][f].sd);
                return bad(err, file, path, why);
            }
        for (int f = 0; f < 2 && e.ratio[q]; f++) /* a factor: positive at z = -2.5 */
            if (!(e.q[q][f].mean - 2.5 * e.q[q][f].sd > 0 && e.q[q][f].mean <= 20))
                return bad(err, file, path,
                           "a ratio's mean is within 0..20 and its mean - 2.5 sd "
                           "above 0");
        for (int f = 0; f < 2 && !e.ratio[q]; f++)
            if (!in_range(q, e.q[q][f].mean)) {
                char why[160];
                snprintf(why, sizeof why, "mean %g is out of range (%s)", e.q[q][f].mean,
                         q == Q_PD    ? "0..1.2"
                         : q == Q_FF  ? "0..1"
                         : q == Q_ADC ? "0..5 x 10^-3 mm^2/s"
                                      : "> 0 ms");
                return bad(err, file, path, why);
            }
        const cJSON *s = src ? cJSON_GetObjectItemCaseSensitive(src, QNAME[q]) : NULL;
        if (s && (!cJSON_IsString(s) || !has_ref(db, s->valuestring))) {
            snprintf(path, sizeof path, "tissues.%s.src.%s", j->string, QNAME[q]);
            return bad(err, file, path, "must name a key of \"references\"");
        }
        if (!s && need_src) {
            snprintf(path, sizeof path, "tissues.%s.src.%s", j->string, QNAME[q]);
            return bad(err, file, path, "missing source");
        }
        snprintf(e.src[q], sizeof e.src[q], "%s", s ? s->valuestring : "user");
    }
    for (int f = 0; f < 2 && e.ratio[Q_T2S] == e.ratio[Q_T2]; f++)
        if (e.q[Q_T2S][f].mean > e.q[Q_T2][f].mean) {
            snprintf(path, sizeof path, "tissues.%s.t2s_ms", j->string);
            return bad(err, file, path, "T2* must not exceed T2");
        }
    e.present = 1;
    db->t[ti] = e;
    return SB_OK;
}

static sb_status parse_fat(sb_tissue_db *db, const cJSON *j, const char *file, sb_error *err) {
    if (!cJSON_IsObject(j)) return bad(err, file, "fat_component", "expected an object");
    if (!get_mv2(cJSON_GetObjectItemCaseSensitive(j, "t1_ms"), db->fat_t1) ||
        !(db->fat_t1[0].mean > 0 && db->fat_t1[1].mean > 0) ||
        !in_range(Q_T1, db->fat_t1[0].mean + db->fat_t1[0].sd) ||
        !in_range(Q_T1, db->fat_t1[1].mean + db->fat_t1[1].sd))
        return bad(err, file, "fat_component.t1_ms", "expected [[mean, sd], [mean, sd]] > 0");
    if (!get_mv2(cJSON_GetObjectItemCaseSensitive(j, "t2_ms"), db->fat_t2) ||
        !(db->fat_t2[0].mean > 0 && db->fat_t2[1].mean > 0) ||
        !in_range(Q_T2, db->fat_t2[0].mean + db->fat_t2[0].sd) ||
        !in_range(Q_T2, db->fat_t2[1].mean + db->fat_t2[1].sd))
        return bad(err, file, "fat_component.t2_ms", "expected [[mean, sd], [mean, sd]] > 0");
    if (!get_mv(cJSON_GetObjectItemCaseSensitive(j, "adc"), &db->fat_adc) ||
        !in_range(Q_ADC, db->fat_adc.mean) || !in_range(Q_ADC, db->fat_adc.sd))
        return bad(err, file, "fat_component.adc", "expected [mean, sd], mean 0..5");
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(j, "spectrum_ppm");
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(j, "spectrum_amp");
    int n = cJSON_IsArray(p) ? cJSON_GetArraySize(p) : -1;
    if (n < 1 || n > SB_FAT_PEAKS_MAX || !cJSON_IsArray(a) || cJSON_GetArraySize(a) != n)
        return bad(err, file, "fat_component.spectrum_ppm",
                   "expected 1..8 peaks and as many amplitudes in spectrum_amp");
    double sum = 0;
    for (int k = 0; k < n; k++) {
        const cJSON *pk = cJSON_GetArrayItem(p, k), *ak = cJSON_GetArrayItem(a, k);
        if (!cJSON_IsNumber(pk) || !cJSON_IsNumber(ak) || !(ak->valuedouble >= 0) ||
            !(fabs(pk->valuedouble) < 20))
            return bad(err, file, "fat_component.spectrum_amp",
                       "peaks are numbers (ppm from water, |x| < 20) with amplitudes >= 0");
        db->ppm[k] = pk->valuedouble;
        db->amp[k] = ak->valuedouble;
        sum += ak->valuedouble;
    }
    if (!(fabs(sum - 1.0) < 0.01))
        return bad(err, file, "fat_component.spectrum_amp", "amplitudes must sum to 1 (+-0.01)");
    db->npeaks = n;
    return SB_OK;
}

/* Applies one document to db: every tissue it lists replaces that entry. */
static sb_status parse_doc(sb_tissue_db *db, const char *text, const char *file, int is_default,
                           sb_error *err) {
    cJSON *root = cJSON_Parse(text);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        long off = at && at >= text ? (long)(at - text) : -1;
        return sb_error_set(err, SB_ERR_INPUT, "%s: not valid JSON (near byte %ld)", file, off);
    }
    sb_status s = SB_OK;
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "format");
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(root, "version");
    const cJSON *tis = cJSON_GetObjectItemCaseSensitive(root, "tissues");
    const cJSON *fat = cJSON_GetObjectItemCaseSensitive(root, "fat_component");
    if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, "synthbody-tissues"))
        s = bad(err, file, "format", "must be \"synthbody-tissues\"");
    else if (!cJSON_IsNumber(ver) || ver->valuedouble != 1)
        s = bad(err, file, "version", "must be 1");
    else if (!cJSON_IsObject(tis))
        s = bad(err, file, "tissues", "expected an object of tissue classes");
    if (!s) s = parse_refs(db, cJSON_GetObjectItemCaseSensitive(root, "references"), file, err);
    for (const cJSON *t = tis ? tis->child : NULL; !s && t; t = t->next) {
        int ti = sb_tissue_index(t->string);
        if (ti <= 0) {
            char why[1400];
            size_t o = (size_t)snprintf(why, sizeof why, "unknown tissue class (known:");
            for (size_t i = 1; sb_tissue_table[i].name && o < sizeof why - 40; i++)
                o += (size_t)snprintf(why + o, sizeof why - o, " %s", sb_tissue_table[i].name);
            snprintf(why + o, sizeof why - o, ")");
            char path[96];
            snprintf(path, sizeof path, "tissues.%s", t->string);
            s = bad(err, file, path, why);
        } else {
            s = parse_tissue(db, t, file, ti, is_default, err);
        }
    }
    if (!s && fat) s = parse_fat(db, fat, file, err);
    for (size_t i = 1; !s && i < SB_TISSUE_MAX; i++) /* one level: a host of absolute values */
        if (db->t[i].present && db->t[i].rel &&
            (!db->t[db->t[i].rel].present || db->t[db->t[i].rel].rel)) {
            char path[96];
            snprintf(path, sizeof path, "tissues.%s.relative_to", sb_tissue_table[i].name);
            s = bad(err, file, path, "names a tissue given relative to another or not listed");
        }
    if (!s && is_default) {
        if (!fat) s = bad(err, file, "fat_component", "missing");
        for (size_t i = 1; !s && sb_tissue_table[i].name; i++)
            if (!db->t[i].present) {
                char path[96];
                snprintf(path, sizeof path, "tissues.%s", sb_tissue_table[i].name);
                s = bad(err, file, path, "missing");
            }
    }
    cJSON_Delete(root);
    return s;
}

sb_status sb_tissue_db_load(const char *path, sb_tissue_db **out, sb_error *err) {
    *out = NULL;
    sb_tissue_db *db = calloc(1, sizeof *db);
    if (!db) return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    sb_status s = parse_doc(db, sb_tissues_default_json, DEFAULT_NAME, 1, err);
    if (s) /* the embedded table is ours: a failure is a bug */
        s = sb_error_set(err, SB_ERR_INTERNAL, "embedded tissue table rejected (%s)",
                         err ? err->msg : "?");
    if (!s && path) {
        char *text = sb_read_text_file(path, 64, &s, err);
        if (text) s = parse_doc(db, text, path, 0, err);
        free(text);
    }
    if (s) {
        free(db);
        return s;
    }
    *out = db;
    return SB_OK;
}

void sb_tissue_db_free(sb_tissue_db *db) {
    free(db);
}

const char *sb_tissue_db_source(const sb_tissue_db *db, int tissue, const char *quantity) {
    if (tissue <= 0 || tissue >= SB_TISSUE_MAX || !db->t[tissue].present) return NULL;
    for (int q = 0; q < Q_COUNT; q++)
        if (!strcmp(QNAME[q], quantity)) return db->t[tissue].src[q];
    return NULL;
}

/* ---- values for a subject ------------------------------------------------------------------- */
static double draw(const mv *v, double z, int q) {
    double x = v->mean + v->sd * z;
    if (q == Q_PD || q == Q_FF)
        return x < 0 ? 0 : x > (q == Q_FF ? 1 : 1.2) ? (q == Q_FF ? 1 : 1.2) : x;
    if (q == Q_ADC) return x < 0 ? 0 : x;
    return x < 0.2 * v->mean ? 0.2 * v->mean : x; /* relaxation times stay positive */
}

/* Quantity q at field f of tissue entry e for standard normal z[q]: drawn, or host value hv
 * times the ratio drawn. */
static double value_of(const tissue_entry *e, int q, int f, const double *z, double hv) {
    if (!e->ratio[q]) return draw(&e->q[q][f], z[q], q);
    return hv * (e->q[q][f].mean + e->q[q][f].sd * z[q]);
}

static void fill(const sb_tissue_db *db, const sb_rng *rng, const sb_subject *s, sb_mr_tissues *m) {
    memset(m, 0, sizeof *m);
    m->count = sb_tissue_count();
    /* absolute values first, then those given as ratios to another tissue's drawn value (its
     * host: a lesion against its organ, so the contrast the ratio declares holds in every
     * subject); the same z per (tissue, quantity) either way */
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 1; i < m->count; i++) {
            const tissue_entry *e = &db->t[i];
            if ((e->rel != 0) != pass) continue;
            double z[Q_COUNT] = {0};
            for (int q = 0; rng && q < Q_COUNT; q++) {
                double zz[2];
                sb_rng_normal_pair(rng, (uint64_t)i * 8u + (uint64_t)q, zz);
                z[q] = zz[0] < -2.5 ? -2.5 : zz[0] > 2.5 ? 2.5 : zz[0];
            }
            const sb_tissue_mr *h = &m->t[e->rel]; /* drawn in the first pass */
            sb_tissue_mr *t = &m->t[i];
            t->pd = fmin(value_of(e, Q_PD, 0, z, h->pd), 1.2);
            t->ff = draw(&e->q[Q_FF][0], z[Q_FF], Q_FF);
            t->adc = value_of(e, Q_ADC, 0, z, h->adc);
            for (int f = 0; f < 2; f++) {
                t->t1_ms[f] = value_of(e, Q_T1, f, z, h->t1_ms[f]);
                t->t2_ms[f] = value_of(e, Q_T2, f, z, h->t2_ms[f]);
                t->t2s_ms[f] = fmin(value_of(e, Q_T2S, f, z, h->t2s_ms[f]), t->t2_ms[f]);
            }
        }
    double zf[3] = {0};
    for (int q = 0; rng && q < 3; q++) {
        double zz[2];
        sb_rng_normal_pair(rng, (uint64_t)SB_TISSUE_MAX * 8u + (uint64_t)q, zz);
        zf[q] = zz[0] < -2.5 ? -2.5 : zz[0] > 2.5 ? 2.5 : zz[0];
    }
    for (int f = 0; f < 2; f++) {
        m->fat_t1_ms[f] = draw(&db->fat_t1[f], zf[0], Q_T1);
        m->fat_t2_ms[f] = draw(&db->fat_t2[f], zf[1], Q_T2);
    }
    m->fat_adc = draw(&db->fat_adc, zf[2], Q_ADC);
    m->fat_npeaks = db->npeaks;
    memcpy(m->fat_ppm, db->ppm, sizeof m->fat_ppm);
    memcpy(m->fat_amp, db->amp, sizeof m->fat_amp);
    int liver = sb_tissue_index("liver");
    if (s && liver > 0 && s->liver_fat > 0) m->t[liver].ff = s->liver_fat;
}

void sb_tissue_db_mean(const sb_tissue_db *db, sb_mr_tissues *out) {
    fill(db, NULL, NULL, out);
}

void sb_tissue_db_sample(const sb_tissue_db *db, const sb_subject *s, sb_mr_tissues *out) {
    sb_rng rng;
    sb_rng_init(&rng, s->seed, s->subject, SB_STREAM_TISSUE);
    fill(db, &rng, s, out);
}
