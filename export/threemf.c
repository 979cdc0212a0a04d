/* threemf.c — 3MF writer (3MF Consortium, "3D Manufacturing Format Core Specification" 1.2.3,
 * with Open Packaging Conventions, ECMA-376 part 2; ZIP: PKWARE APPNOTE 6.3).
 *
 * The package holds [Content_Types].xml, _rels/.rels and 3D/3dmodel.model. The model has one
 * <basematerials> group with one <base name displaycolor="#RRGGBBAA"> per structure, one
 * <object type="model" name=STRUCTURE pid pindex> per structure (so its colour is the object's
 * default property), and one build <item> per object. Unit: millimetre or metre from the frame.
 *
 * Why our own writer: Assimp 5.2's 3MF exporter writes black colours and drops meshes on the
 * root node (DESIGN.md), and both it and lib3mf 1.8 (Debian's lib3mf-dev) are several times
 * slower (tests/bench/export_bench.c, README "Export"). Positions are fixed-point decimals to
 * 10 nm (fmt_fixed). The model part is one ZIP entry, one deflate stream made of independent
 * pieces: the head, each structure's <object>, the tail. Threads (OpenMP) each write one
 * structure's XML and deflate it at once (isa-l's igzip, level 1, ending on a SYNC_FLUSH: a
 * byte-aligned empty stored block that is not final), then free the XML; the pieces are joined
 * in structure order and the CRC-32s combined (zlib's crc32_combine). A piece's bytes depend
 * only on its structure, so the file never depends on the thread count, and the memory is the
 * compressed model plus one structure's XML per thread. igzip level 1 was measured at ~2x the
 * speed of libdeflate level 1 on our XML (7 % larger), and only a streaming compressor with
 * flushes lets the pieces be deflated in parallel. Dates are fixed at 1980-01-01 00:00. No
 * ZIP64: SB_ERR_USAGE beyond 4 GiB.
 */
#include "scene_internal.h"

#include <isa-l/igzip_lib.h>
#include <libdeflate.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* A part of the model: its XML deflated on its own (SYNC_FLUSH: byte-aligned, not final unless
 * it is the last part), so the parts concatenate into one deflate stream. */
typedef struct part {
    unsigned char *z;
    size_t zn;    /* compressed bytes */
    size_t n;     /* XML bytes */
    uint32_t crc; /* CRC-32 of the XML */
    int bad;      /* 1 out of memory, 2 compressor error */
} part;

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

/* XML attribute text into out (at most 6 bytes per input byte); returns the length. Names are
 * [A-Za-z0-9_] by the label table's rule, escaped anyway. */
static size_t attr(char *out, const char *s) {
    size_t n = 0;
    for (; s && *s; s++) {
        const char *e = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '"' ? "&quot;" : NULL;
        if (e) {
            memcpy(out + n, e, strlen(e));
            n += strlen(e);
        } else {
            out[n++] = *s;
        }
    }
    return n;
}

static void put(char **p, const char *s, size_t k) {
    memcpy(*p, s, k);
    *p += k;
}
#define PUT(p, lit) put(&(p), lit, sizeof lit - 1)

/* The <object> of structure `index` into a new buffer of exactly the bytes written (*n). */
static char *object_xml(const sb_scene_mesh *m, size_t index, const sb_scene_frame *fr, size_t *n) {
    const sb_trimesh *t = m->mesh;
    /* bounds: a vertex line <= 23 + 3 * 32 bytes, a triangle line <= 34 + 3 * 10 */
    size_t cap = 512 + 6 * strlen(m->name) + 128 * t->nverts + 64 * t->ntris;
    char *buf = malloc(cap), *p = buf;
    if (!buf) return NULL;
    int dec = frame_decimals(fr);
    p += snprintf(p, 64, "  <object id=\"%zu\" type=\"model\" name=\"", index + 2);
    p += attr(p, m->name);
    p += snprintf(p, 96, "\" pid=\"1\" pindex=\"%zu\">\n   <mesh>\n    <vertices>\n", index);
    for (size_t v = 0; v < t->nverts; v++) {
        float q[3];
        frame_apply(fr, t->verts + 3 * v, q);
        PUT(p, "<vertex x=\"");
        p += fmt_fixed(p, q[0], dec);
        PUT(p, "\" y=\"");
        p += fmt_fixed(p, q[1], dec);
        PUT(p, "\" z=\"");
        p += fmt_fixed(p, q[2], dec);
        PUT(p, "\"/>\n");
    }
    PUT(p, "    </vertices>\n    <triangles>\n");
    for (size_t k = 0; k < t->ntris; k++) {
        const uint32_t *tr = t->tris + 3 * k;
        PUT(p, "<triangle v1=\"");
        p += fmt_u32(p, tr[0]);
        PUT(p, "\" v2=\"");
        p += fmt_u32(p, tr[1]);
        PUT(p, "\" v3=\"");
        p += fmt_u32(p, tr[2]);
        PUT(p, "\"/>\n");
    }
    PUT(p, "    </triangles>\n   </mesh>\n  </object>\n");
    *n = (size_t)(p - buf);
    return buf;
}

/* Deflates xml[0..n) into p (isa-l igzip level 1, raw deflate); SYNC_FLUSH unless last. */
static void compress_part(const char *xml, size_t n, int last, uint8_t *level_buf, part *p) {
    p->n = n;
    p->crc = (uint32_t)libdeflate_crc32(0, xml, n);
    size_t cap = n + n / 8 + 4096;
    p->z = malloc(cap);
    if (!p->z) {
        p->bad = 1;
        return;
    }
    struct isal_zstream s;
    isal_deflate_init(&s);
    s.level = 1;
    s.level_buf = level_buf;
    s.level_buf_size = ISAL_DEF_LVL1_DEFAULT;
    s.end_of_stream = (uint16_t)last;
    s.flush = last ? NO_FLUSH : SYNC_FLUSH;
    s.next_in = (uint8_t *)xml;
    s.avail_in = (uint32_t)n; /* parts are < 4 GiB: one structure's XML */
    for (;;) {
        s.next_out = p->z + s.total_out;
        s.avail_out = (uint32_t)(cap - s.total_out < UINT32_MAX ? cap - s.total_out : UINT32_MAX);
        if (isal_deflate(&s) != COMP_OK) {
            p->bad = 2;
            return;
        }
        int done =
            s.avail_in == 0 && s.avail_out > 0 && (!last || s.internal_state.state == ZSTATE_END);
        if (done) break;
        unsigned char *z = realloc(p->z, 2 * cap);
        if (!z) {
            p->bad = 1;
            return;
        }
        p->z = z;
        cap *= 2;
    }
    p->zn = s.total_out;
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

/* The local header of an entry whose deflated data (csize bytes) follow; fills e. */
static void zip_local(bufw *w, zentry *e, const char *name, uint32_t crc, uint64_t csize,
                      uint64_t usize, uint64_t *pos) {
    if (w->s) return;
    if (usize > UINT32_MAX || *pos + 30 + strlen(name) + csize > UINT32_MAX) {
        w->s = sb_error_set(w->err, SB_ERR_USAGE, "%s: %s does not fit a ZIP without ZIP64 (4 GiB)",
                            w->o.final_path, name);
        return;
    }
    e->name = name;
    e->crc = crc;
    e->csize = (uint32_t)csize;
    e->usize = (uint32_t)usize;
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
    *pos += 30 + strlen(name) + csize;
}

/* A small entry, deflated with libdeflate. */
static void zip_small(bufw *w, zentry *e, const char *name, const char *text, uint64_t *pos) {
    if (w->s) return;
    size_t n = strlen(text);
    struct libdeflate_compressor *c = libdeflate_alloc_compressor(6);
    size_t bound = c ? libdeflate_deflate_compress_bound(c, n) : 0;
    void *out = c ? malloc(bound) : NULL;
    size_t cn = out ? libdeflate_deflate_compress(c, text, n, out, bound) : 0;
    if (!cn) {
        w->s = sb_error_set(w->err, SB_ERR_MEMORY, "%s: out of memory", w->o.final_path);
    } else {
        zip_local(w, e, name, (uint32_t)libdeflate_crc32(0, text, n), cn, n, pos);
        bufw_put(w, out, cn);
    }
    free(out);
    if (c) libdeflate_free_compressor(c);
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
    if (!w->s && cd + cdsize > UINT32_MAX) {
        w->s = sb_error_set(w->err, SB_ERR_USAGE, "%s does not fit a ZIP without ZIP64 (4 GiB)",
                            w->o.final_path);
        return;
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

/* The model's head (metadata, base materials) and tail (build items). */
static char *head_xml(const sb_scene_mesh *ms, size_t n, const sb_scene_frame *fr,
                      const char *title, size_t *len) {
    size_t cap = 1024 + 6 * (title ? strlen(title) : 16);
    for (size_t i = 0; i < n; i++) cap += 64 + 6 * strlen(ms[i].name);
    char *buf = malloc(cap), *p = buf;
    if (!buf) return NULL;
    PUT(p, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<model unit=\"");
    if (fr->scale < 0.01)
        PUT(p, "meter");
    else
        PUT(p, "millimeter");
    PUT(p, "\" xml:lang=\"en-US\" "
           "xmlns=\"http://schemas.microsoft.com/3dmanufacturing/core/2015/02\">\n"
           " <metadata name=\"Title\">");
    p += attr(p, title ? title : "synthbody");
    p += snprintf(p, 160,
                  "</metadata>\n <metadata name=\"Application\">synthbody %s</metadata>\n"
                  " <resources>\n  <basematerials id=\"1\">\n",
                  SB_VERSION_STRING);
    for (size_t i = 0; i < n; i++) {
        const uint8_t *c = ms[i].rgba;
        PUT(p, "   <base name=\"");
        p += attr(p, ms[i].name);
        p += snprintf(p, 48, "\" displaycolor=\"#%02X%02X%02X%02X\"/>\n", c[0], c[1], c[2], c[3]);
    }
    PUT(p, "  </basematerials>\n");
    *len = (size_t)(p - buf);
    return buf;
}

static char *tail_xml(size_t n, size_t *len) {
    char *buf = malloc(64 + 32 * n), *p = buf;
    if (!buf) return NULL;
    PUT(p, " </resources>\n <build>\n");
    for (size_t i = 0; i < n; i++) p += snprintf(p, 32, "  <item objectid=\"%zu\"/>\n", i + 2);
    PUT(p, " </build>\n</model>\n");
    *len = (size_t)(p - buf);
    return buf;
}

sb_status scene_write_3mf(const sb_scene_mesh *ms, size_t n, const sb_scene_frame *fr,
                          const char *title, const char *path, int force, int threads,
                          sb_error *err) {
    part *parts = calloc(n + 2, sizeof *parts); /* head, objects..., tail */
    if (!parts) return sb_error_set(err, SB_ERR_MEMORY, "%s: out of memory", path);
    int bad = 0;
    {
        uint8_t *lb = malloc(ISAL_DEF_LVL1_DEFAULT);
        size_t hn = 0, tn = 0;
        char *h = lb ? head_xml(ms, n, fr, title, &hn) : NULL;
        char *t = h ? tail_xml(n, &tn) : NULL;
        if (t) {
            compress_part(h, hn, 0, lb, &parts[0]);
            compress_part(t, tn, 1, lb, &parts[n + 1]);
        } else {
            bad = 1;
        }
        free(h);
        free(t);
        free(lb);
    }
    long ni = (long)n;
#pragma omp parallel num_threads(threads) if (n > 1)
    {
        uint8_t *lb = malloc(ISAL_DEF_LVL1_DEFAULT);
#pragma omp for schedule(dynamic, 1)
        for (long i = 0; i < ni; i++) { /* biggest first would balance better; order kept */
            size_t xn = 0;
            char *x = lb ? object_xml(&ms[i], (size_t)i, fr, &xn) : NULL;
            if (!x)
                parts[1 + i].bad = 1;
            else
                compress_part(x, xn, 0, lb, &parts[1 + i]);
            free(x);
        }
        free(lb);
    }
    uint64_t usize = 0, csize = 0;
    uint32_t crc = 0;
    for (size_t i = 0; i < n + 2; i++) {
        bad |= parts[i].bad;
        crc = i ? (uint32_t)crc32_combine(crc, parts[i].crc, (z_off_t)parts[i].n) : parts[i].crc;
        usize += parts[i].n;
        csize += parts[i].zn;
    }
    bufw w;
    memset(&w, 0, sizeof w);
    if (bad) {
        w.s = bad & 1
                  ? sb_error_set(err, SB_ERR_MEMORY, "%s: out of memory", path)
                  : sb_error_set(err, SB_ERR_INTERNAL, "%s: the deflate compressor failed", path);
    } else if (bufw_open(&w, path, force, err) == SB_OK) {
        zentry e[3];
        uint64_t pos = 0;
        zip_small(&w, &e[0], "[Content_Types].xml", CONTENT_TYPES, &pos);
        zip_small(&w, &e[1], "_rels/.rels", RELS, &pos);
        zip_local(&w, &e[2], "3D/3dmodel.model", crc, csize, usize, &pos);
        for (size_t i = 0; i < n + 2; i++) bufw_put(&w, parts[i].z, parts[i].zn);
        if (!w.s) zip_finish(&w, e, 3, pos);
        bufw_commit(&w);
    }
    bufw_abort(&w);
    for (size_t i = 0; i < n + 2; i++) free(parts[i].z);
    free(parts);
    return w.s;
}
