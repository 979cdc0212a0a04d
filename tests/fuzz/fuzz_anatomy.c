/* fuzz_anatomy.c — anatomy descriptions (`--anatomy FILE`): sb_anatomy_load on one JSON
 * document, then the label table `synthbody labels` prints. Seeds: the embedded anatomy's
 * documents and small hand-written ones. Promises: success gives >= 1 structure with valid,
 * unique names and ids; failure is SB_ERR_INPUT or SB_ERR_MEMORY with a message; bounded time
 * (run with -timeout) and memory. */
#include "fuzz_util.h"
#include "sb_volume.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_write_file(data, size, ".json");
    sb_anatomy *a = NULL;
    sb_error err = {0};
    sb_status s = sb_anatomy_load(path, &a, &err);
    if (s) {
        FUZZ_CHECK_ERROR(s, err);
        FUZZ_CHECK(a == NULL, "anatomy returned with an error");
        return 0;
    }
    sb_label_table *t = NULL;
    s = sb_anatomy_label_table(a, SB_SEX_RANDOM, &t, &err);
    FUZZ_CHECK(s == SB_OK, "label table of a loaded anatomy: %s", err.msg);
    FUZZ_CHECK(t->count >= 1, "no labels");
    for (size_t i = 0; i < t->count; i++) {
        FUZZ_CHECK(sb_label_name_valid(t->labels[i].name), "label name \"%s\"", t->labels[i].name);
        FUZZ_CHECK(t->labels[i].id >= 1 && t->labels[i].id <= 65535, "id %d", t->labels[i].id);
    }
    sb_labels_free(t);
    sb_anatomy_free(a);
    return 0;
}
