/* anatomy_docs.h — helpers of the volume unit tests: small anatomy documents (FORMAT.md v1)
 * written to a private temporary folder, subjects, and per-label voxel statistics. */
#ifndef SB_TEST_ANATOMY_DOCS_H
#define SB_TEST_ANATOMY_DOCS_H

#include "sb_volume.h"
#include "sb_test.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The header of every test document, and a "body" shape (grid bounds): a 160 mm cube about
 * (0, 0, 100) mm of the reference frame. */
#define DOC_HEAD "{\"format\": \"synthbody-anatomy\", \"version\": 1,\n"
#define DOC_BODY "\"body\": {\"box\": {\"c\": [0, 0, 100], \"h\": [80, 80, 80]}}"

/* snprintf into a buffer; a truncated document would be a bug of the test itself. */
static inline void docf(char *out, size_t n, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static inline void docf(char *out, size_t n, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(out, n, fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k >= n) {
        fprintf(stderr, "test document truncated: %s\n", fmt);
        exit(1);
    }
}

/* A structure with a sphere shape; `extra` is spliced in as more fields (", \"cv\": 0.1"). */
static inline void sphere_struct(char *out, size_t n, int id, const char *name, const char *tissue,
                                 int priority, double cx, double cy, double cz, double r,
                                 const char *extra) {
    docf(out, n,
         "{\"id\": %d, \"name\": \"%s\", \"group\": \"digestive\", \"tissue\": \"%s\", "
         "\"color\": \"#808080\", \"priority\": %d%s, "
         "\"shape\": {\"sphere\": {\"c\": [%g, %g, %g], \"r\": %g}}}",
         id, name, tissue, priority, extra ? extra : "", cx, cy, cz, r);
}

/* A whole document: landmarks (object body or ""), shapes (object body, DOC_BODY if NULL) and
 * structures (array body). */
static inline void make_doc(char *out, size_t n, const char *landmarks, const char *shapes,
                            const char *structures) {
    docf(out, n, DOC_HEAD "\"landmarks\": {%s},\n\"shapes\": {%s},\n\"structures\": [%s]\n}\n",
         landmarks ? landmarks : "", shapes ? shapes : DOC_BODY, structures);
}

/* A private folder under /tmp; files written into it are removed by tmp_cleanup. */
typedef struct {
    char dir[64];
    char files[160][256];
    int nfiles;
} tmp_dir;

static inline int tmp_init(tmp_dir *t) {
    memset(t, 0, sizeof *t);
    snprintf(t->dir, sizeof t->dir, "/tmp/sb_anatomy_test_XXXXXX");
    if (!mkdtemp(t->dir)) {
        perror("mkdtemp");
        return 0;
    }
    return 1;
}

/* Writes text to <dir>/<sub>/<name> (sub may be NULL; it is created) and returns the path in a
 * slot of t. */
static inline const char *tmp_write(tmp_dir *t, const char *sub, const char *name,
                                    const char *text) {
    char path[256];
    if (t->nfiles >= 158) {
        fprintf(stderr, "tmp_write: too many files\n");
        exit(1);
    }
    if (sub) {
        docf(path, sizeof path, "%s/%s", t->dir, sub);
        int known = 0;
        for (int i = 0; i < t->nfiles; i++) known |= !strcmp(t->files[i], path);
        if (!known) {
            mkdir(path, 0700);
            memcpy(t->files[t->nfiles++], path, sizeof path);
        }
        docf(path, sizeof path, "%s/%s/%s", t->dir, sub, name);
    } else {
        docf(path, sizeof path, "%s/%s", t->dir, name);
    }
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
    memcpy(t->files[t->nfiles], path, sizeof path);
    return t->files[t->nfiles++];
}

/* Removes the files (newest first, so folders are empty when their turn comes), then dir. */
static inline void tmp_cleanup(tmp_dir *t) {
    for (int i = t->nfiles - 1; i >= 0; i--) remove(t->files[i]);
    remove(t->dir);
}

/* Loads one document text (written as <name>.json); NULL and a message on failure. */
static inline sb_anatomy *load_text(tmp_dir *t, const char *name, const char *text, sb_error *err) {
    char file[96];
    snprintf(file, sizeof file, "%s.json", name);
    const char *path = tmp_write(t, NULL, file, text);
    sb_anatomy *a = NULL;
    memset(err, 0, sizeof *err);
    if (sb_anatomy_load(path, &a, err))
        fprintf(stderr, "%s: %s\n", sb_status_name(err->status), err->msg);
    return a;
}

/* A subject with fixed sex, height and BMI (age and fat drawn from the seed). The reference
 * body of the engine is a man of 175 cm and BMI 22: for him the geometric scale is 1 on every
 * axis, so reference millimetres are subject millimetres. */
static inline sb_subject subject_fixed(uint64_t seed, sb_sex sex, double height_cm, double bmi) {
    sb_subject_request r;
    memset(&r, 0, sizeof r);
    r.seed = seed;
    r.sex = sex;
    r.height_cm = height_cm;
    r.bmi = bmi;
    sb_subject s;
    sb_error err;
    CHECK_OK(sb_subject_sample(&r, &s, &err));
    return s;
}

static inline sb_subject reference_man(uint64_t seed) {
    return subject_fixed(seed, SB_SEX_MALE, 175.0, 22.0);
}

/* Per-label statistics of a uint16 label map: voxel count, centroid and extent (world mm). */
typedef struct {
    double n, c[3], lo[3], hi[3];
} label_stats;

static inline label_stats *stats_of(const sb_volume *v) {
    label_stats *st = calloc(65536, sizeof *st);
    if (!st) return NULL;
    const uint16_t *lab = v->data;
    for (size_t k = 0; k < v->dim[2]; k++)
        for (size_t j = 0; j < v->dim[1]; j++)
            for (size_t i = 0; i < v->dim[0]; i++) {
                uint16_t l = lab[sb_volume_index(v, i, j, k)];
                double ijk[3] = {(double)i, (double)j, (double)k}, p[3];
                sb_volume_to_world(v, ijk, p);
                label_stats *s = &st[l];
                for (int a = 0; a < 3; a++) {
                    if (s->n == 0) s->lo[a] = s->hi[a] = p[a];
                    s->c[a] += p[a];
                    s->lo[a] = p[a] < s->lo[a] ? p[a] : s->lo[a];
                    s->hi[a] = p[a] > s->hi[a] ? p[a] : s->hi[a];
                }
                s->n += 1;
            }
    for (int l = 0; l < 65536; l++)
        if (st[l].n > 0)
            for (int a = 0; a < 3; a++) st[l].c[a] /= st[l].n;
    return st;
}

/* Voxels of `id` in a uint16 label map. */
static inline size_t count_label(const sb_volume *v, int id) {
    const uint16_t *L = v->data;
    size_t n = 0, nvox = sb_volume_nvox(v);
    for (size_t i = 0; i < nvox; i++) n += L[i] == id;
    return n;
}

/* 1 if every voxel of the six faces of the grid is 0 (uint16 or uint8 map). */
static inline int border_is_background(const sb_volume *v) {
    for (size_t k = 0; k < v->dim[2]; k++)
        for (size_t j = 0; j < v->dim[1]; j++)
            for (size_t i = 0; i < v->dim[0]; i++) {
                if (!(i == 0 || j == 0 || k == 0 || i == v->dim[0] - 1 || j == v->dim[1] - 1 ||
                      k == v->dim[2] - 1))
                    continue;
                size_t n = sb_volume_index(v, i, j, k);
                int val = v->dtype == SB_DT_UINT16 ? ((const uint16_t *)v->data)[n]
                                                   : ((const uint8_t *)v->data)[n];
                if (val != 0) {
                    fprintf(stderr, "border voxel (%zu, %zu, %zu) is %d\n", i, j, k, val);
                    return 0;
                }
            }
    return 1;
}

/* Index of a tissue in sb_tissue_table (the value in tissue maps); -1 if unknown. */
static inline int tissue_index(const char *name) {
    for (int i = 0; sb_tissue_table[i].name; i++)
        if (!strcmp(sb_tissue_table[i].name, name)) return i;
    return -1;
}

#endif
