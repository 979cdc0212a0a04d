/* dseg.c — reading a BIDS dseg label table (ours or another tool's) to name and colour ids. */
#include "internal.h"

#include <stdio.h>
#include <string.h>

sb_label_table *read_dseg_tsv(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    sb_label_table *t = sb_labels_create();
    char line[1024];
    int first = 1;
    while (t && fgets(line, sizeof line, f)) {
        if (first) { /* header row */
            first = 0;
            continue;
        }
        sb_label l;
        memset(&l, 0, sizeof l);
        char name[64] = "", abbrev[16] = "", color[16] = "";
        int n = sscanf(line, "%d\t%63[^\t\n]\t%15[^\t\n]\t%15[^\t\n]", &l.id, name, abbrev, color);
        if (n < 2) continue;
        snprintf(l.name, sizeof l.name, "%s", name);
        unsigned r, g, b;
        if (n == 4 && sscanf(color, "#%2x%2x%2x", &r, &g, &b) == 3) {
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
