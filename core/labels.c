/* labels.c — the label table: id, name, abbreviation, group, tissue and colour per structure. */
#include "sb_core.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

sb_label_table *sb_labels_create(void) {
    return calloc(1, sizeof(sb_label_table));
}

void sb_labels_free(sb_label_table *t) {
    if (!t) return;
    free(t->labels);
    free(t);
}

int sb_label_name_valid(const char *name) {
    size_t n = strlen(name);
    if (n == 0 || n > 63 || !isalpha((unsigned char)name[0])) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i]; /* ASCII letters, digits, '_': safe as a file name */
        if (!(isalnum((unsigned char)c) || c == '_') || (unsigned char)c > 127) return 0;
    }
    return 1;
}

sb_status sb_labels_add(sb_label_table *t, const sb_label *l, sb_error *err) {
    if (l->id <= 0 || l->id > 65535)
        return sb_error_set(err, SB_ERR_USAGE, "label id %d is outside 1..65535", l->id);
    if (!sb_label_name_valid(l->name))
        return sb_error_set(err, SB_ERR_USAGE,
                            "label name \"%s\" is not [A-Za-z][A-Za-z0-9_]{0,62}", l->name);
    if (sb_labels_find_id(t, l->id))
        return sb_error_set(err, SB_ERR_USAGE, "label id %d is listed twice", l->id);
    if (sb_labels_find_name(t, l->name))
        return sb_error_set(err, SB_ERR_USAGE, "label name \"%s\" is listed twice", l->name);
    if (t->count == t->capacity) {
        size_t cap = t->capacity ? 2 * t->capacity : 32;
        sb_label *p = realloc(t->labels, cap * sizeof *p);
        if (!p) return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
        t->labels = p;
        t->capacity = cap;
    }
    t->labels[t->count++] = *l;
    return SB_OK;
}

const sb_label *sb_labels_find_id(const sb_label_table *t, int id) {
    for (size_t i = 0; i < t->count; i++)
        if (t->labels[i].id == id) return &t->labels[i];
    return NULL;
}

const sb_label *sb_labels_find_name(const sb_label_table *t, const char *name) {
    for (size_t i = 0; i < t->count; i++)
        if (strcmp(t->labels[i].name, name) == 0) return &t->labels[i];
    return NULL;
}
