/* svg.c — SVG 1.1 drawings in millimetres for laser cutters (sculpture sheets).
 *
 * The document's width and height carry the unit "mm" and its viewBox spans the same numbers, so
 * one user unit is one millimetre (SVG 1.1, "Coordinate Systems, Transformations and Units",
 * 7.10); paths are written as absolute M/L commands ending in Z (closed). Numbers with three
 * decimals (a micrometre). No dates: identical input gives identical bytes. Written through
 * sb_outfile (temporary name, rename on success). */
#include "sb_export.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct buf {
    char *p;
    size_t n, cap;
    int oom;
} buf;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void
put(buf *b, const char *fmt, ...) {
    if (b->oom) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
        va_end(ap);
        if (k < 0) {
            b->oom = 1;
            return;
        }
        if ((size_t)k < b->cap - b->n) {
            b->n += (size_t)k;
            return;
        }
        size_t cap = 2 * b->cap + (size_t)k + 1;
        char *q = realloc(b->p, cap);
        if (!q) {
            b->oom = 1;
            return;
        }
        b->p = q, b->cap = cap;
    }
}

/* text for XML character data and attribute values */
static void put_escaped(buf *b, const char *s) {
    for (; s && *s; s++) {
        if (*s == '<')
            put(b, "&lt;");
        else if (*s == '>')
            put(b, "&gt;");
        else if (*s == '&')
            put(b, "&amp;");
        else if (*s == '"')
            put(b, "&quot;");
        else
            put(b, "%c", *s);
    }
}

sb_status sb_svg_write(double width_mm, double height_mm, const sb_svg_path *paths, size_t n,
                       const sb_svg_text *texts, size_t nt, const char *title, const char *path,
                       int force, sb_error *err) {
    if (!(width_mm > 0 && height_mm > 0) || (n && !paths) || (nt && !texts))
        return sb_error_set(err, SB_ERR_USAGE, "%s: SVG of %g x %g mm", path, width_mm, height_mm);
    buf b = {malloc(65536), 0, 65536, 0};
    if (!b.p) return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    put(&b,
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%.3fmm\" "
        "height=\"%.3fmm\" viewBox=\"0 0 %.3f %.3f\">\n",
        width_mm, height_mm, width_mm, height_mm);
    if (title) {
        put(&b, "<title>");
        put_escaped(&b, title);
        put(&b, "</title>\n");
    }
    for (size_t i = 0; i < n; i++) {
        const sb_svg_path *p = &paths[i];
        if (p->n < 2) continue;
        put(&b, "<path");
        if (p->id) {
            put(&b, " id=\"");
            put_escaped(&b, p->id);
            put(&b, "\"");
        }
        if (p->cls) {
            put(&b, " class=\"");
            put_escaped(&b, p->cls);
            put(&b, "\"");
        }
        put(&b, " fill=\"none\" stroke=\"#%02x%02x%02x\" stroke-width=\"%.3f\" d=\"", p->rgb[0],
            p->rgb[1], p->rgb[2], p->stroke_mm);
        for (size_t k = 0; k < p->n; k++)
            put(&b, "%s%.3f %.3f", k ? " L" : "M", p->xy[2 * k], p->xy[2 * k + 1]);
        put(&b, "%s\"/>\n", p->closed ? " Z" : "");
    }
    for (size_t i = 0; i < nt; i++) {
        const sb_svg_text *t = &texts[i];
        put(&b,
            "<text x=\"%.3f\" y=\"%.3f\" font-family=\"sans-serif\" font-size=\"%.3f\" "
            "text-anchor=\"middle\" dominant-baseline=\"central\" fill=\"#%02x%02x%02x\"",
            t->x, t->y, t->size_mm, t->rgb[0], t->rgb[1], t->rgb[2]);
        if (t->cls) {
            put(&b, " class=\"");
            put_escaped(&b, t->cls);
            put(&b, "\"");
        }
        put(&b, ">");
        put_escaped(&b, t->text);
        put(&b, "</text>\n");
    }
    put(&b, "</svg>\n");
    if (b.oom) {
        free(b.p);
        return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    }
    sb_outfile o;
    sb_status s = sb_outfile_open(&o, path, force, err);
    if (!s) s = sb_outfile_write(&o, b.p, b.n, err);
    if (!s) s = sb_outfile_commit(&o, err);
    sb_outfile_abort(&o);
    free(b.p);
    return s;
}
