/* fuzz_labels_tsv.c — BIDS dseg tables (the labels.tsv beside a label map, read by `synthbody
 * mesh` and `preview` to name and colour ids). Promises: every label kept has an id 1..65535
 * and a name that is a safe file name (sb_label_name_valid: no '/', no "..", no control
 * characters — mesh files are named after it), ids and names unique. */
#include "fuzz_util.h"
#include "internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_write_file(data, size, ".tsv");
    sb_label_table *t = read_dseg_tsv(path);
    FUZZ_CHECK(t != NULL, "a readable file gave no table");
    for (size_t i = 0; i < t->count; i++) {
        const sb_label *l = &t->labels[i];
        FUZZ_CHECK(l->id >= 1 && l->id <= 65535, "id %d", l->id);
        FUZZ_CHECK(sb_label_name_valid(l->name), "name \"%s\"", l->name);
        FUZZ_CHECK(!strchr(l->name, '/') && !strstr(l->name, ".."), "name \"%s\"", l->name);
        for (const char *c = l->name; *c; c++)
            FUZZ_CHECK((unsigned char)*c > 32 && (unsigned char)*c < 127, "name \"%s\"", l->name);
        for (size_t k = 0; k < i; k++)
            FUZZ_CHECK(t->labels[k].id != l->id && strcmp(t->labels[k].name, l->name),
                       "duplicate %d %s", l->id, l->name);
    }
    sb_labels_free(t);
    return 0;
}
