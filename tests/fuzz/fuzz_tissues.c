/* fuzz_tissues.c — tissue tables (`--tissues FILE`): sb_tissue_db_load, then the means and a
 * subject's sampled values the MRI stage uses. Seeds: the embedded table and edits of it.
 * Promises: on success every value the MRI stage reads is finite and in its physical range
 * (PD, FF in 0..1, relaxation times > 0); on failure SB_ERR_INPUT or SB_ERR_MEMORY with a
 * message. */
#include "fuzz_util.h"
#include "sb_volume.h"

#include <math.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_values(const sb_mr_tissues *m) {
    for (size_t i = 1; i < m->count; i++) {
        const sb_tissue_mr *t = &m->t[i];
        FUZZ_CHECK(isfinite(t->pd) && t->pd >= 0 && t->pd <= 1.5, "tissue %zu pd %g", i, t->pd);
        FUZZ_CHECK(isfinite(t->ff) && t->ff >= 0 && t->ff <= 1, "tissue %zu ff %g", i, t->ff);
        FUZZ_CHECK(isfinite(t->adc) && t->adc >= 0, "tissue %zu adc %g", i, t->adc);
        for (int f = 0; f < 2; f++) {
            FUZZ_CHECK(isfinite(t->t1_ms[f]) && t->t1_ms[f] > 0, "tissue %zu t1 %g", i,
                       t->t1_ms[f]);
            FUZZ_CHECK(isfinite(t->t2_ms[f]) && t->t2_ms[f] > 0, "tissue %zu t2 %g", i,
                       t->t2_ms[f]);
            FUZZ_CHECK(isfinite(t->t2s_ms[f]) && t->t2s_ms[f] > 0, "tissue %zu t2* %g", i,
                       t->t2s_ms[f]);
        }
    }
    for (int f = 0; f < 2; f++)
        FUZZ_CHECK(isfinite(m->fat_t1_ms[f]) && m->fat_t1_ms[f] > 0 && isfinite(m->fat_t2_ms[f]) &&
                       m->fat_t2_ms[f] > 0,
                   "fat T1/T2 %g %g", m->fat_t1_ms[f], m->fat_t2_ms[f]);
    FUZZ_CHECK(m->fat_npeaks >= 1 && m->fat_npeaks <= SB_FAT_PEAKS_MAX, "fat peaks %d",
               m->fat_npeaks);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_write_file(data, size, ".json");
    sb_tissue_db *db = NULL;
    sb_error err = {0};
    sb_status s = sb_tissue_db_load(path, &db, &err);
    if (s) {
        FUZZ_CHECK_ERROR(s, err);
        FUZZ_CHECK(db == NULL, "table returned with an error");
        return 0;
    }
    sb_mr_tissues m;
    sb_tissue_db_mean(db, &m);
    check_values(&m);
    sb_subject subj;
    sb_subject_request req = {.seed = 1, .sex = SB_SEX_FEMALE};
    if (sb_subject_sample(&req, &subj, &err) == SB_OK) {
        sb_tissue_db_sample(db, &subj, &m);
        check_values(&m);
    }
    sb_tissue_db_free(db);
    return 0;
}
