/* label_files.c — label tables for the tools people open our label maps with.
 *
 * - BIDS dseg.tsv (BIDS specification, "Derivatives: Imaging data types — Segmentations",
 *   look-up table columns index, name, abbreviation, color as #rrggbb; plus `group`, the organ
 *   system, an extra column BIDS allows, n/a when unknown).
 * - ITK-SNAP label description file (the format ITK-SNAP's "Export label descriptions" writes:
 *   comment header, then `IDX R G B A VIS MSH "LABEL"`, alpha 0..1, "Clear Label" for 0).
 * - 3D Slicer colour table (.ctbl; Slicer's vtkMRMLColorTableStorageNode: "# Color table file"
 *   comment, "# N values", then `id name r g b a` with 0..255 components, 0 = background).
 * All three go through sb_outfile; the text depends only on the table (no dates, no paths).
 */
#include "sb_export.h"

#include <errno.h>
#include <string.h>

typedef enum label_format { FMT_TSV, FMT_ITKSNAP, FMT_CTBL } label_format;

static const char itksnap_header[] = "################################################\n"
                                     "# ITK-SnAP Label Description File\n"
                                     "# File format: \n"
                                     "# IDX   -R-  -G-  -B-  -A--  VIS MSH  LABEL\n"
                                     "# Fields: \n"
                                     "#    IDX:   Zero-based index \n"
                                     "#    -R-:   Red color component (0..255)\n"
                                     "#    -G-:   Green color component (0..255)\n"
                                     "#    -B-:   Blue color component (0..255)\n"
                                     "#    -A-:   Label transparency (0.00 .. 1.00)\n"
                                     "#    VIS:   Label visibility (0 or 1)\n"
                                     "#    IDX:   Label mesh visibility (0 or 1)\n"
                                     "#  LABEL:   Label description \n"
                                     "################################################\n";

static void write_rows(FILE *fp, const sb_label_table *t, label_format fmt) {
    switch (fmt) {
    case FMT_TSV:
        fputs("index\tname\tabbreviation\tcolor\tgroup\n", fp);
        break;
    case FMT_ITKSNAP:
        fputs(itksnap_header, fp);
        fprintf(fp, "%5d %5d %4d %4d %8.3g %2d %2d    \"%s\"\n", 0, 0, 0, 0, 0.0, 0, 0,
                "Clear Label");
        break;
    case FMT_CTBL:
        fprintf(fp, "# Color table file synthbody labels\n# %zu values\n", t->count + 1);
        fputs("0 background 0 0 0 0\n", fp);
        break;
    }
    for (size_t i = 0; i < t->count; i++) {
        const sb_label *l = &t->labels[i];
        const uint8_t *c = l->rgba;
        switch (fmt) {
        case FMT_TSV:
            fprintf(fp, "%d\t%s\t%s\t#%02x%02x%02x\t%s\n", l->id, l->name,
                    l->abbrev[0] ? l->abbrev : "n/a", c[0], c[1], c[2],
                    l->group[0] ? l->group : "n/a");
            break;
        case FMT_ITKSNAP:
            fprintf(fp, "%5d %5d %4d %4d %8.3g %2d %2d    \"%s\"\n", l->id, c[0], c[1], c[2],
                    c[3] / 255.0, 1, 1, l->name);
            break;
        case FMT_CTBL:
            fprintf(fp, "%d %s %d %d %d %d\n", l->id, l->name, c[0], c[1], c[2], c[3]);
            break;
        }
    }
}

static sb_status write_table(const sb_label_table *t, const char *path, int force, label_format fmt,
                             sb_error *err) {
    if (!t || !path) return sb_error_set(err, SB_ERR_USAGE, "label table writer: NULL argument");
    sb_outfile o;
    sb_status s = sb_outfile_open(&o, path, force, err);
    if (s) return s;
    write_rows(o.fp, t, fmt);
    if (ferror(o.fp))
        s = sb_error_set(err, SB_ERR_OUTPUT, "cannot write %s: %s", path, strerror(errno));
    else
        s = sb_outfile_commit(&o, err);
    sb_outfile_abort(&o);
    return s;
}

sb_status sb_labels_write_tsv(const sb_label_table *t, const char *path, int force, sb_error *err) {
    return write_table(t, path, force, FMT_TSV, err);
}

sb_status sb_labels_write_itksnap(const sb_label_table *t, const char *path, int force,
                                  sb_error *err) {
    return write_table(t, path, force, FMT_ITKSNAP, err);
}

sb_status sb_labels_write_ctbl(const sb_label_table *t, const char *path, int force,
                               sb_error *err) {
    return write_table(t, path, force, FMT_CTBL, err);
}
