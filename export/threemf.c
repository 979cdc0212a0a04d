/* threemf.c — 3MF writer (3MF Consortium, "3D Manufacturing Format Core Specification" 1.2.3,
 * with Open Packaging Conventions, ECMA-376 part 2; ZIP: PKWARE APPNOTE 6.3).
 *
 * The package holds [Content_Types].xml, _rels/.rels and 3D/3dmodel.model. The model has one
 * <basematerials> group with one <base name displaycolor="#RRGGBBAA"> per structure, one
 * <object type="model" name=STRUCTURE pid pindex> per structure (so its colour is the object's
 * default property), and one build <item> per object. Unit: millimetre or metre from the frame.
 *
 * Why our own writer: Assimp 5.2's 3MF exporter writes black colours and drops meshes on the
 * root node (DESIGN.md); lib3mf 1.8 (Debian's lib3mf-dev) was measured against this writer in
 * tests/bench/export_bench.c (README "Export"). Positions are fixed-point decimals to 10 nm
 * (fmt_fixed); each structure's XML is produced in parallel (OpenMP) into its own buffer and the
 * buffers are joined in structure order, so the bytes never depend on the thread count. The
 * model part is deflated by libdeflate (level 1: ~3-4x smaller than the XML, fastest) as one
 * ZIP entry; dates are fixed at 1980-01-01 00:00 so identical input gives identical files. No
 * ZIP64: SB_ERR_USAGE beyond 4 GiB.
 */
#include "scene_internal.h"

#include <libdeflate.h>
#include <stdlib.h>
#include <string.h>

typedef struct xbuf {
    char *p;
    size_t n, cap;
    int oom;
} xbuf;

static void xb_put(xbuf *b, const char *s, size_t k) {
    if (b->oom) return;
    if (b->n + k > b->cap) {
        size_t cap = b->cap ? b->cap : 65536;
        while (cap < b->n + k) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, k);
    b->n += k;
}

static void xb_str(xbuf *b, const char *s) {
    xb_put(b, s, strlen(s));
}

static size_t fmt_u32(char *out, uint32_t v) {
    char tmp[12];
    int k = 0;
    do {
        tmp[k++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    size_t n = 0;
    while (k) out[n++] = tmp[--k];
    return n;
}

/* XML attribute text: names are [A-Za-z0-9_] by the label table's rule, escaped anyway. */
static void xb_attr(xbuf *b, const char *s) {
    for (; s && *s; s++) {
        switch (*s) {
        case '&':
            xb_str(b, "&amp;");
            break;
        case '<':
            xb_str(b, "&lt;");
            break;
        case '"':
            xb_str(b, "&quot;");
            break;
        default:
            xb_put(b, s, 1);
        }
    }
}

static void object_xml(xbuf *b, const sb_scene_mesh *m, size_t index, const sb_scene_frame *fr) {
    char line[160];
    int dec = frame_decimals(fr);
    int k = snprintf(line, sizeof line, "  <object id=\"%zu\" type=\"model\" name=\"", index + 2);
    xb_put(b, line, (size_t)k);
    xb_attr(b, m->name);
    k = snprintf(line, sizeof line, "\" pid=\"1\" pindex=\"%zu\">\n   <mesh>\n    <vertices>\n",
                 index);
    xb_put(b, line, (size_t)k);
    static const char *ax[3] = {"<vertex x=\"", "\" y=\"", "\" z=\""};
    for (size_t v = 0; v < m->mesh->nverts; v++) {
        float p[3];
        frame_apply(fr, m->mesh->verts + 3 * v, p);
        size_t n = 0;
        for (int a = 0; a < 3; a++) {
            size_t l = strlen(ax[a]);
            memcpy(line + n, ax[a], l);
            n += l;
            n += fmt_fixed(line + n, p[a], dec);
        }
        memcpy(line + n, "\"/>\n", 4);
        xb_put(b, line, n + 4);
    }
    xb_str(b, "    </vertices>\n    <triangles>\n");
    static const char *tv[3] = {"<triangle v1=\"", "\" v2=\"", "\" v3=\""};
    for (size_t t = 0; t < m->mesh->ntris; t++) {
        size_t n = 0;
        for (int c = 0; c < 3; c++) {
            size_t l = strlen(tv[c]);
            memcpy(line + n, tv[c], l);
            n += l;
            n += fmt_u32(line + n, m->mesh->tris[3 * t + c]);
        }
        memcpy(line + n, "\"/>\n", 4);
        xb_put(b, line, n + 4);
    }
    xb_str(b, "    </triangles>\n   </mesh>\n  </object>\n");
}

/* ---- ZIP ------------------------------------------------------------------------------------- */

typedef struct zentry {
    const char *name;
    uint32_t crc, csize, usize, offset;
} zentry;

static void le16(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8);
}
static void le32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

#define ZIP_DOS_DATE 0x21 /* 1980-01-01 */

/* Deflates data into a new buffer and writes the local header and data; fills e. */
static void zip_add(bufw *w, struct libdeflate_compressor *c, zentry *e, const char *name,
                    const void *data, size_t n, uint64_t *pos) {
    if (w->s) return;
    size_t bound = libdeflate_deflate_compress_bound(c, n);
    void *out = malloc(bound ? bound : 1);
    if (!out) {
        w->s = sb_error_set(w->err, SB_ERR_MEMORY, "%s: out of memory", w->o.final_path);
        return;
    }
    size_t cn = libdeflate_deflate_compress(c, data, n, out, bound);
    if (cn == 0 || n > UINT32_MAX || *pos + 30 + strlen(name) + cn > UINT32_MAX) {
        w->s =
            sb_error_set(w->err, cn ? SB_ERR_USAGE : SB_ERR_INTERNAL,
                         "%s: %s does not fit a ZIP without ZIP64 (4 GiB)", w->o.final_path, name);
        free(out);
        return;
    }
    e->name = name;
    e->crc = libdeflate_crc32(0, data, n);
    e->csize = (uint32_t)cn;
    e->usize = (uint32_t)n;
    e->offset = (uint32_t)*pos;
    uint8_t h[30];
    memset(h, 0, sizeof h);
    le32(h, 0x04034b50);
    le16(h + 4, 20);
    le16(h + 8, 8); /* deflate */
    le16(h + 12, ZIP_DOS_DATE);
    le32(h + 14, e->crc);
    le32(h + 18, e->csize);
    le32(h + 22, e->usize);
    le16(h + 26, (uint32_t)strlen(name));
    bufw_put(w, h, 30);
    bufw_str(w, name);
    bufw_put(w, out, cn);
    *pos += 30 + strlen(name) + cn;
    free(out);
}

static void zip_finish(bufw *w, const zentry *e, size_t n, uint64_t pos) {
    uint64_t cd = pos, cdsize = 0;
    for (size_t i = 0; i < n; i++) {
        uint8_t h[46];
        memset(h, 0, sizeof h);
        le32(h, 0x02014b50);
        le16(h + 4, 20);
        le16(h + 6, 20);
        le16(h + 10, 8);
        le16(h + 14, ZIP_DOS_DATE);
        le32(h + 16, e[i].crc);
        le32(h + 20, e[i].csize);
        le32(h + 24, e[i].usize);
        le16(h + 28, (uint32_t)strlen(e[i].name));
        le32(h + 42, e[i].offset);
        bufw_put(w, h, 46);
        bufw_str(w, e[i].name);
        cdsize += 46 + strlen(e[i].name);
    }
    uint8_t end[22];
    memset(end, 0, sizeof end);
    le32(end, 0x06054b50);
    le16(end + 8, (uint32_t)n);
    le16(end + 10, (uint32_t)n);
    le32(end + 12, (uint32_t)cdsize);
    le32(end + 16, (uint32_t)cd);
    bufw_put(w, end, 22);
}

static const char CONTENT_TYPES[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">"
    "<Default Extension=\"rels\" "
    "ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>"
    "<Default Extension=\"model\" "
    "ContentType=\"application/vnd.ms-package.3dmanufacturing-3dmodel+xml\"/></Types>\n";

static const char RELS[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">"
    "<Relationship Target=\"/3D/3dmodel.model\" Id=\"rel0\" "
    "Type=\"http://schemas.microsoft.com/3dmanufacturing/2013/01/3dmodel\"/></Relationships>\n";

sb_status scene_write_3mf(const sb_scene_mesh *ms, size_t n, const sb_scene_frame *fr,
                          const char *title, const char *path, int force, sb_error *err) {
    xbuf *parts = calloc(n + 2, sizeof *parts); /* head, objects..., tail */
    if (!parts) return sb_error_set(err, SB_ERR_MEMORY, "%s: out of memory", path);
    xbuf *head = &parts[0], *tail = &parts[n + 1];
    char line[256];
    xb_str(head, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<model unit=\"");
    xb_str(head, fr->scale < 0.01 ? "meter" : "millimeter");
    xb_str(head, "\" xml:lang=\"en-US\" "
                 "xmlns=\"http://schemas.microsoft.com/3dmanufacturing/core/2015/02\">\n"
                 " <metadata name=\"Title\">");
    xb_attr(head, title ? title : "synthbody");
    snprintf(line, sizeof line,
             "</metadata>\n <metadata name=\"Application\">synthbody %s</metadata>\n"
             " <resources>\n  <basematerials id=\"1\">\n",
             SB_VERSION_STRING);
    xb_str(head, line);
    for (size_t i = 0; i < n; i++) {
        xb_str(head, "   <base name=\"");
        xb_attr(head, ms[i].name);
        const uint8_t *c = ms[i].rgba;
        snprintf(line, sizeof line, "\" displaycolor=\"#%02X%02X%02X%02X\"/>\n", c[0], c[1], c[2],
                 c[3]);
        xb_str(head, line);
    }
    xb_str(head, "  </basematerials>\n");
    long ni = (long)n;
#pragma omp parallel for schedule(dynamic, 1)
    for (long i = 0; i < ni; i++) object_xml(&parts[1 + i], &ms[i], (size_t)i, fr);
    xb_str(tail, " </resources>\n <build>\n");
    for (size_t i = 0; i < n; i++) {
        snprintf(line, sizeof line, "  <item objectid=\"%zu\"/>\n", i + 2);
        xb_str(tail, line);
    }
    xb_str(tail, " </build>\n</model>\n");
    /* join the parts in order */
    size_t total = 0;
    int oom = 0;
    for (size_t i = 0; i < n + 2; i++) total += parts[i].n, oom |= parts[i].oom;
    char *model = oom ? NULL : malloc(total ? total : 1);
    size_t at = 0;
    for (size_t i = 0; i < n + 2; i++) {
        if (model && parts[i].n) memcpy(model + at, parts[i].p, parts[i].n);
        at += parts[i].n;
        free(parts[i].p);
    }
    free(parts);
    if (!model) return sb_error_set(err, SB_ERR_MEMORY, "%s: out of memory", path);

    struct libdeflate_compressor *c = libdeflate_alloc_compressor(1);
    bufw w;
    memset(&w, 0, sizeof w);
    if (!c) {
        w.s = sb_error_set(err, SB_ERR_MEMORY, "%s: out of memory", path);
    } else if (bufw_open(&w, path, force, err) == SB_OK) {
        zentry e[3];
        uint64_t pos = 0;
        zip_add(&w, c, &e[0], "[Content_Types].xml", CONTENT_TYPES, sizeof CONTENT_TYPES - 1, &pos);
        zip_add(&w, c, &e[1], "_rels/.rels", RELS, sizeof RELS - 1, &pos);
        zip_add(&w, c, &e[2], "3D/3dmodel.model", model, total, &pos);
        if (!w.s) zip_finish(&w, e, 3, pos);
        bufw_commit(&w);
    }
    bufw_abort(&w);
    if (c) libdeflate_free_compressor(c);
    free(model);
    return w.s;
}
