/* dseg.c — reading a BIDS dseg label table (ours or another tool's) to name, colour and group
 * ids. Columns are found by their header names (index, name, abbreviation, color, group; BIDS
 * allows extra columns in any order); a table without a header row naming `index` and `name`
 * is read positionally as index, name, abbreviation, color. */
#include "internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { COL_INDEX, COL_NAME, COL_ABBREV, COL_COLOR, COL_GROUP, NCOLS };
static const char *COL_NAMES[NCOLS] = {"index", "name", "abbreviation", "color", "group"};

/* Splits line at tabs (in place, newline stripped); returns the field count (<= max). */
static int split_tabs(char *line, char **f, int max) {
    line[strcspn(line, "\r\n")] = '\0';
    int n = 0;
    char *p = line;
    while (n < max) {
        f[n++] = p;
        char *t = strchr(p, '\t');
        if (!t) break;
        *t = '\0';
        p = t + 1;
    }
    return n;
}

sb_label_table *read_dseg_tsv(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    sb_label_table *t = sb_labels_create();
    char line[1024];
    int col[NCOLS] = {0, 1, 2, 3, -1}, first = 1;
    while (t && fgets(line, sizeof line, f)) {
        char *fld[32];
        int nf = split_tabs(line, fld, 32);
        if (first) { /* header row */
            first = 0;
            int c[NCOLS] = {-1, -1, -1, -1, -1};
            for (int i = 0; i < nf; i++)
                for (int k = 0; k < NCOLS; k++)
                    if (!strcmp(fld[i], COL_NAMES[k])) c[k] = i;
            if (c[COL_INDEX] >= 0 && c[COL_NAME] >= 0) memcpy(col, c, sizeof col);
            continue;
        }
        sb_label l;
        memset(&l, 0, sizeof l);
        if (col[COL_INDEX] >= nf || col[COL_NAME] >= nf) continue;
        char *end;
        long id = strtol(fld[col[COL_INDEX]], &end, 10);
        if (end == fld[col[COL_INDEX]] || *end || id < 1 || id > 65535) continue;
        l.id = (int)id;
        snprintf(l.name, sizeof l.name, "%s", fld[col[COL_NAME]]);
        if (col[COL_ABBREV] >= 0 && col[COL_ABBREV] < nf)
            snprintf(l.abbrev, sizeof l.abbrev, "%s", fld[col[COL_ABBREV]]);
        if (col[COL_GROUP] >= 0 && col[COL_GROUP] < nf && strcmp(fld[col[COL_GROUP]], "n/a"))
            snprintf(l.group, sizeof l.group, "%s", fld[col[COL_GROUP]]);
        unsigned r, g, b;
        if (col[COL_COLOR] >= 0 && col[COL_COLOR] < nf &&
            sscanf(fld[col[COL_COLOR]], "#%2x%2x%2x", &r, &g, &b) == 3) {
            l.rgba[0] = (uint8_t)r, l.rgba[1] = (uint8_t)g, l.rgba[2] = (uint8_t)b;
            l.rgba[3] = 255;
        }
        sb_labels_add(t, &l, NULL); /* invalid or duplicate rows are skipped */
    }
    fclose(f);
    return t;
}

sb_label_table *sibling_dseg_tsv(const char *file) {
    char path[4096];
    const char *slash = strrchr(file, '/');
    if (slash)
        snprintf(path, sizeof path, "%.*s/labels.tsv", (int)(slash - file), file);
    else
        snprintf(path, sizeof path, "labels.tsv");
    return read_dseg_tsv(path);
}
