/* select.c — which labels of a label map a job works on: `mesh --labels`, `export --select` and
 * `--exclude`. A selection is a comma list of ids, label names, groups (the labels.tsv `group`
 * column: skeleton, muscle, digestive, ...) and the aliases of the table below. */
#include "internal.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The aliases (README "Export", selection groups): a label belongs to an alias when its group is
 * one of `groups` or its name starts with one of `prefixes`, and its name starts with none of
 * `not_prefixes`. Lists are comma separated; NULL: none. */
typedef struct alias {
    const char *name, *groups, *prefixes, *not_prefixes;
} alias;

static const alias ALIASES[] = {
    {"organs", "digestive,respiratory,urinary,endocrine,reproductive", "heart_,brain", NULL},
    {"vessels", "cardiovascular", NULL, "heart_"},
    {"heart", NULL, "heart_", NULL},
    {"brain", NULL, "brain", NULL}, /* brain, brain_*, brainstem */
    {"muscles", "muscle", NULL, NULL},
    {"bones", "skeleton", NULL, "intervertebral_disc_,costal_cartilages"},
    {"skeleton", "skeleton", NULL, NULL},
};

static int in_list(const char *list, const char *s, int prefix) {
    if (!list) return 0;
    const char *p = list;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n && (prefix ? strncmp(s, p, n) == 0 : strlen(s) == n && strncmp(s, p, n) == 0))
            return 1;
        p += n + (e ? 1 : 0);
    }
    return 0;
}

static const alias *find_alias(const char *name) {
    for (size_t i = 0; i < sizeof ALIASES / sizeof ALIASES[0]; i++)
        if (!strcmp(ALIASES[i].name, name)) return &ALIASES[i];
    return NULL;
}

static int alias_has(const alias *a, const sb_label *l) {
    int in = in_list(a->groups, l->group, 0) || in_list(a->prefixes, l->name, 1);
    return in && !in_list(a->not_prefixes, l->name, 1);
}

const char *select_alias_names(void) {
    return "organs, vessels, heart, brain, muscles, bones, skeleton";
}

sb_status label_counts(const sb_volume *v, const char *path, size_t *counts, sb_error *err) {
    size_t n = sb_volume_nvox(v);
    for (size_t i = 0; i < n; i++) {
        double x = sb_volume_get(v, i);
        if (!(x >= 0 && x <= 65535 && x == floor(x)))
            return sb_error_set(err, SB_ERR_INPUT,
                                "%s: voxel %zu has value %g, not a label id 0..65535 "
                                "(use --iso VALUE for intensity images)",
                                path, i, x);
        counts[(size_t)x]++;
    }
    return SB_OK;
}

/* Marks in `mark` every present label `tok` names (id, name, group or alias). */
static sb_status resolve(const char *tok, const char *opt, const size_t *counts,
                         const sb_label_table *names, const char *path, int must_be_present,
                         unsigned char *mark, sb_error *err) {
    if (isdigit((unsigned char)tok[0])) {
        char *e;
        errno = 0;
        long id = strtol(tok, &e, 10);
        if (*e || errno || id < 1 || id > 65535)
            return sb_error_set(err, SB_ERR_USAGE, "%s: \"%s\" is not a label id 1..65535", opt,
                                tok);
        if (must_be_present && counts[id] == 0)
            return sb_error_set(err, SB_ERR_LABEL, "label %s (id %ld) is absent from %s", tok, id,
                                path);
        mark[id] = 1;
        return SB_OK;
    }
    const alias *a = find_alias(tok); /* aliases first: `brain` is the whole brain, not the
                                          label "brain" alone (select that by its id) */
    const sb_label *l = names && !a ? sb_labels_find_name(names, tok) : NULL;
    if (l) {
        if (must_be_present && counts[l->id] == 0)
            return sb_error_set(err, SB_ERR_LABEL, "label %s (id %d) is absent from %s", tok, l->id,
                                path);
        mark[l->id] = 1;
        return SB_OK;
    }
    int known = a != NULL, any = 0;
    for (size_t g = 0; names && g < names->count; g++) {
        const sb_label *x = &names->labels[g];
        int hit = a ? alias_has(a, x) : strcmp(x->group, tok) == 0;
        if (!a && hit) known = 1;
        if (hit && counts[x->id]) mark[x->id] = 1, any = 1;
    }
    if (!known)
        return sb_error_set(
            err, SB_ERR_LABEL, "%s: no label, group or alias named \"%s\" for %s (aliases: %s%s)",
            opt, tok, path, select_alias_names(), names ? "" : "; no labels.tsv beside the input");
    if (!any && must_be_present)
        return sb_error_set(err, SB_ERR_LABEL, "%s: \"%s\" matches no label present in %s", opt,
                            tok, path);
    return SB_OK;
}

static sb_status mark_list(const char *spec, const char *opt, const size_t *counts,
                           const sb_label_table *names, const char *path, int must_be_present,
                           unsigned char *mark, sb_error *err) {
    const char *p = spec;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char tok[64];
        if (len == 0 || len >= sizeof tok)
            return sb_error_set(err, SB_ERR_USAGE, "%s: bad entry in \"%s\"", opt, spec);
        memcpy(tok, p, len);
        tok[len] = '\0';
        sb_status s = resolve(tok, opt, counts, names, path, must_be_present, mark, err);
        if (s) return s;
        p += len + (end ? 1 : 0);
    }
    return SB_OK;
}

sb_status select_labels(const char *select, const char *exclude, const char *opt_select,
                        const size_t *counts, const sb_label_table *names, const char *path,
                        unsigned char *sel, sb_error *err) {
    if (!select || !strcmp(select, "all")) {
        for (size_t id = 1; id < 65536; id++) sel[id] = counts[id] > 0;
    } else {
        sb_status s = mark_list(select, opt_select, counts, names, path, 1, sel, err);
        if (s) return s;
    }
    if (exclude && *exclude) {
        unsigned char *ex = calloc(65536, 1);
        if (!ex) return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
        sb_status s = mark_list(exclude, "--exclude", counts, names, path, 0, ex, err);
        for (size_t id = 1; !s && id < 65536; id++)
            if (ex[id]) sel[id] = 0;
        free(ex);
        if (s) return s;
    }
    return SB_OK;
}
