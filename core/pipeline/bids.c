/* bids.c — the BIDS names of a batch dataset (README "Datasets (batch)"): where each image of
 * a subject goes, the dataset-level files, and participants.tsv built from the subjects'
 * records.
 *
 * Brain Imaging Data Structure 1.8.0: raw images under sub-<label>/anat/ with the suffix of
 * their contrast (T1w, T2w, PDw, FLAIR) and the acq-<label> entity for the other sequences;
 * images that are computed from others (fat fraction, diffusion trace, ADC) and the label map
 * are derivatives (derivatives/synthbody/, "desc-" entity; dseg with a dataset-level dseg.tsv).
 */
#include "bids.h"

#include "sb_export.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Names without an entity or with acq-<label>: see the table in README "Datasets (batch)". */
int bids_image_name(const char *contrast, double flip_deg, char *out, size_t n, int *derivative,
                    const char **datatype) {
    static const struct {
        const char *contrast, *name;
    } raw[] = {{"T1w", "T1w"},
               {"T2w", "T2w"},
               {"PDw", "PDw"},
               {"FLAIR", "FLAIR"},
               {"GRE", "acq-gre_T1w"},
               {"STIR", "acq-stir_T2w"},
               {"bSSFP", "acq-bssfp_T2w"}};
    *derivative = 0;
    *datatype = "anat";
    for (size_t i = 0; i < sizeof raw / sizeof raw[0]; i++)
        if (!strcmp(contrast, raw[i].contrast)) return snprintf(out, n, "%s", raw[i].name) < (int)n;
    if (!strncmp(contrast, "dixon_", 6)) {
        const char *part = contrast + 6; /* water, fat, in, opp */
        if (strcmp(part, "water") && strcmp(part, "fat") && strcmp(part, "in") &&
            strcmp(part, "opp"))
            return 0;
        /* a 3-echo Dixon at a few degrees is proton-density weighted, else T1-weighted */
        return snprintf(out, n, "acq-dixon%s_%s", part, flip_deg <= 5 ? "PDw" : "T1w") < (int)n;
    }
    *derivative = 1;
    if (!strcmp(contrast, "fatfrac"))
        return snprintf(out, n, "acq-dixon_desc-fatfraction_map") < (int)n;
    *datatype = "dwi";
    if (!strcmp(contrast, "ADC")) return snprintf(out, n, "desc-adc_md") < (int)n;
    if (!strncmp(contrast, "dwi_b", 5) && contrast[5]) {
        for (const char *p = contrast + 5; *p; p++)
            if (*p < '0' || *p > '9') return 0;
        return snprintf(out, n, "acq-b%s_desc-trace_dwi", contrast + 5) < (int)n;
    }
    return 0;
}

int bids_label_width(uint32_t count) {
    int w = 1;
    for (uint32_t c = count; c >= 10; c /= 10) w++;
    return w < 4 ? 4 : w;
}

static char *print_json(cJSON *root) {
    char *text = root ? cJSON_Print(root) : NULL;
    cJSON_Delete(root);
    if (!text) return NULL;
    size_t n = strlen(text);
    char *t = realloc(text, n + 2);
    if (!t) {
        free(text);
        return NULL;
    }
    t[n] = '\n';
    t[n + 1] = '\0';
    return t;
}

static cJSON *generated_by(const char *master_seed, const char *description) {
    cJSON *arr = cJSON_CreateArray();
    cJSON *g = cJSON_CreateObject();
    cJSON_AddStringToObject(g, "Name", "synthbody");
    cJSON_AddStringToObject(g, "Version", SB_VERSION_STRING);
    cJSON_AddStringToObject(g, "Description", description);
    cJSON_AddStringToObject(g, "MasterSeed", master_seed);
    cJSON_AddItemToArray(arr, g);
    return arr;
}

char *bids_dataset_description(uint64_t master_seed, int derivative) {
    char seed[32], desc[256];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)master_seed);
    snprintf(desc, sizeof desc,
             "synthetic whole-body MRI; subject k (1..count) has the seed SplitMix64 output k of "
             "master seed %s",
             seed);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "Name",
                            derivative ? "synthbody labels and meshes"
                                       : "synthbody synthetic whole-body MRI");
    cJSON_AddStringToObject(o, "BIDSVersion", "1.8.0");
    cJSON_AddStringToObject(o, "DatasetType", derivative ? "derivative" : "raw");
    cJSON_AddItemToObject(o, "GeneratedBy", generated_by(seed, desc));
    return print_json(o);
}

char *bids_participants_json(int lesions, int twins) {
    static const struct {
        const char *col, *desc, *units;
    } cols[] = {
        {"participant_id", "subject label: sub-<k>, k = 1..count", NULL},
        {"sex", "sex of the synthetic subject", NULL},
        {"age", "age", "year"},
        {"height", "stature", "cm"},
        {"weight", "body mass", "kg"},
        {"bmi", "body mass index", "kg/m^2"},
        {"seed", "synthbody generate --seed of this subject (64-bit)", NULL},
        {"pathology", "synthbody generate --lesions of this subject (n/a: none)", NULL},
        {"lesion_count", "lesions in derivatives/synthbody/sub-<k>/anat/sub-<k>_lesions.tsv", NULL},
        {"twin",
         "the same subject (seed) with or without the lesions: sub-<k>normal is the "
         "normal twin of sub-<k> (n/a: none)",
         NULL}};
    cJSON *o = cJSON_CreateObject();
    size_t ncols = sizeof cols / sizeof cols[0] - (lesions ? (twins ? 0 : 1) : 3);
    for (size_t i = 0; i < ncols; i++) {
        cJSON *c = cJSON_AddObjectToObject(o, cols[i].col);
        cJSON_AddStringToObject(c, "Description", cols[i].desc);
        if (cols[i].units) cJSON_AddStringToObject(c, "Units", cols[i].units);
        if (!strcmp(cols[i].col, "sex")) {
            cJSON *lv = cJSON_AddObjectToObject(c, "Levels");
            cJSON_AddStringToObject(lv, "F", "female");
            cJSON_AddStringToObject(lv, "M", "male");
        }
    }
    return print_json(o);
}

char *bids_readme(void) {
    const char *text =
        "Synthetic whole-body MRI made by synthbody (`synthbody batch`).\n"
        "\n"
        "sub-<k>/anat/: MR images (NIfTI, RAS+ mm) with JSON sidecars; participants.tsv: the\n"
        "sampled sex, age, height, weight and BMI of every subject.\n"
        "derivatives/synthbody/: label maps (sub-<k>/anat/sub-<k>_dseg.nii.gz, names and colours\n"
        "in dseg.tsv), computed maps (fat fraction, diffusion trace, ADC), closed meshes\n"
        "(sub-<k>/meshes/<structure>.stl), each subject's record sub-<k>/sub-<k>_subject.json\n"
        "(written last: a subject without it is unfinished), batch.json (the settings) and\n"
        "logs/ (what each shard made, with timings).\n"
        "No real person is depicted.\n";
    char *t = malloc(strlen(text) + 1);
    if (t) strcpy(t, text);
    return t;
}

/* ---- participants.tsv -------------------------------------------------------------------- */
static char *read_text(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    while (buf) {
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (n < cap - 1) break;
        char *b = realloc(buf, cap * 2);
        if (!b) {
            free(buf);
            buf = NULL;
            break;
        }
        buf = b;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (!buf || bad) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    if (len) *len = n;
    return buf;
}

char *bids_read_file(const char *path, size_t *len) {
    return read_text(path, len);
}

/* One row of participants.tsv from a record; twin: the twin column's value (NULL: none);
 * *abnormal (may be NULL): the record has lesions. */
static sb_status participant_row(const char *record, const char *id, int with_lesions,
                                 const char *twin, char *row, size_t n, int *abnormal,
                                 sb_error *err) {
    char *text = read_text(record, NULL);
    if (!text)
        return sb_error_set(err, SB_ERR_INPUT, "cannot read %s: %s", record, strerror(errno));
    cJSON *j = cJSON_Parse(text);
    free(text);
    cJSON *p = j ? cJSON_GetObjectItemCaseSensitive(j, "subject_parameters") : NULL;
    cJSON *seed = j ? cJSON_GetObjectItemCaseSensitive(j, "seed") : NULL;
    cJSON *sex = cJSON_GetObjectItemCaseSensitive(p, "sex");
    cJSON *les = j ? cJSON_GetObjectItemCaseSensitive(j, "lesions") : NULL;
    cJSON *les_req = cJSON_GetObjectItemCaseSensitive(les, "request");
    cJSON *les_n = cJSON_GetObjectItemCaseSensitive(les, "count");
    if (abnormal) *abnormal = cJSON_IsObject(les);
    const char *keys[] = {"age_y", "height_cm", "weight_kg", "bmi"};
    double v[4];
    int ok = cJSON_IsString(seed) && cJSON_IsString(sex);
    for (int i = 0; ok && i < 4; i++) {
        cJSON *x = cJSON_GetObjectItemCaseSensitive(p, keys[i]);
        ok = cJSON_IsNumber(x);
        if (ok) v[i] = x->valuedouble;
    }
    sb_status s = SB_OK;
    if (!ok)
        s = sb_error_set(err, SB_ERR_INPUT,
                         "%s: not a synthbody subject record (seed, subject_parameters)", record);
    else if (!with_lesions)
        snprintf(row, n, "%s\t%s\t%.1f\t%.1f\t%.1f\t%.2f\t%s\n", id,
                 !strcmp(sex->valuestring, "male") ? "M" : "F", v[0], v[1], v[2], v[3],
                 seed->valuestring);
    else
        snprintf(row, n, "%s\t%s\t%.1f\t%.1f\t%.1f\t%.2f\t%s\t%s\t%d%s%s\n", id,
                 !strcmp(sex->valuestring, "male") ? "M" : "F", v[0], v[1], v[2], v[3],
                 seed->valuestring, cJSON_IsString(les_req) ? les_req->valuestring : "n/a",
                 cJSON_IsNumber(les_n) ? (int)les_n->valuedouble : 0, twin ? "\t" : "",
                 twin ? twin : "");
    cJSON_Delete(j);
    return s;
}

void bids_record_path(const char *root, const char *id, char *out, size_t n) {
    snprintf(out, n, "%s/derivatives/synthbody/%s/%s_subject.json", root, id, id);
}

sb_status bids_participants(const char *root, uint32_t count, int complete_only, int *written,
                            sb_error *err) {
    /* lesion columns when the dataset was made with lesions (batch.json says so) */
    char bj[4096];
    snprintf(bj, sizeof bj, "%s/derivatives/synthbody/batch.json", root);
    char *bt = read_text(bj, NULL);
    int with_lesions = bt && strstr(bt, "\"lesion_rate\"") != NULL;
    int with_twins = with_lesions && strstr(bt, "\"normal_twins\"") != NULL;
    free(bt);
    *written = 0;
    int w = bids_label_width(count);
    size_t cap = 128 + (size_t)count * (with_lesions ? 1100 : 128) * (with_twins ? 2 : 1);
    char *tsv = malloc(cap);
    if (!tsv) return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    size_t len =
        (size_t)snprintf(tsv, cap, "participant_id\tsex\tage\theight\tweight\tbmi\tseed%s\n",
                         with_lesions ? (with_twins ? "\tpathology\tlesion_count\ttwin"
                                                    : "\tpathology\tlesion_count")
                                      : "");
    uint32_t missing = 0;
    char first_missing[64] = "";
    sb_status s = SB_OK;
    for (uint32_t k = 1; !s && k <= count; k++) {
        char id[32], tid[48], rec[4096], row[1024];
        snprintf(id, sizeof id, "sub-%0*u", w, (unsigned)k);
        snprintf(tid, sizeof tid, "%snormal", id);
        bids_record_path(root, id, rec, sizeof rec);
        if (!sb_path_exists(rec)) {
            if (!missing++) snprintf(first_missing, sizeof first_missing, "%s", id);
            continue;
        }
        int abnormal = 0;
        s = participant_row(rec, id, with_lesions, with_twins ? "n/a" : NULL, row, sizeof row,
                            &abnormal, err);
        if (!s && with_twins && abnormal) /* the same row naming its twin, then the twin's */
            s = participant_row(rec, id, with_lesions, tid, row, sizeof row, NULL, err);
        if (!s) len += (size_t)snprintf(tsv + len, cap - len, "%s", row);
        if (s || !with_twins || !abnormal) continue;
        bids_record_path(root, tid, rec, sizeof rec);
        if (!sb_path_exists(rec)) {
            if (!missing++) snprintf(first_missing, sizeof first_missing, "%s", tid);
            continue;
        }
        s = participant_row(rec, tid, with_lesions, id, row, sizeof row, NULL, err);
        if (!s) len += (size_t)snprintf(tsv + len, cap - len, "%s", row);
    }
    if (!s && missing) {
        if (!complete_only)
            s = sb_error_set(err, SB_ERR_INPUT,
                             "%s: %u of %u subjects are unfinished (first: %s); run their "
                             "shards again",
                             root, (unsigned)missing, (unsigned)count, first_missing);
        free(tsv);
        return s;
    }
    char path[4096];
    if (!s) s = sb_path_join(path, sizeof path, root, "participants.tsv", err);
    sb_outfile o;
    if (!s) s = sb_outfile_open(&o, path, 1, err);
    if (!s) {
        s = sb_outfile_write(&o, tsv, len, err);
        if (!s) s = sb_outfile_commit(&o, err);
        sb_outfile_abort(&o);
    }
    free(tsv);
    if (!s) *written = 1;
    return s;
}
