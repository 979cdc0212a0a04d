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
 * 10 nm (fmt_fixed).
 *
 * The model part is one ZIP entry holding one deflate stream made of independent pieces: the
 * head, runs of at most UNIT_LINES vertices or triangles of each structure, the tail. Threads
 * (OpenMP) each format a piece's XML and deflate it at once, ending on a sync flush (a
 * byte-aligned empty stored block that is not final); the pieces are written in order as soon
 * as all before them are, the CRC-32s combined with zlib's crc32_combine; the sizes and CRC
 * follow the data in a data descriptor (ZIP flag bit 3) and sit in the central directory. A
 * piece's bytes depend only on its content, so the file never depends on the thread count, and
 * the memory is a few pieces per thread.
 *
 * The runs of vertices and triangles (all but a few hundred bytes of the XML) are deflated by
 * deflate_lines.c, which is told where the values are: the markup between them and the leading
 * digits a value shares with the line before are matches against that line, the other digits
 * literals; no search. On the XML of a 1 mm body that takes about half the time of isa-l's
 * igzip level 1 (the fastest general deflate we measured: twice libdeflate level 1's speed)
 * and gives a 15 % smaller file (README "Export"). The head and the tail go through igzip.
 * Dates are fixed at 1980-01-01 00:00. No ZIP64: SB_ERR_USAGE beyond 4 GiB.
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

/* A piece of the model's XML: the head, a run of one structure's vertices or triangles, or the
 * tail. Each piece is deflated on its own, so a large structure is cut into pieces of at most
 * UNIT_LINES lines: threads share the work evenly and the memory stays small. */
#define UNIT_LINES 65536
enum { U_HEAD, U_VERTS, U_TRIS, U_TAIL };
typedef struct unit {
    int kind;
    size_t obj, a, b; /* structure, and its vertex or triangle range [a, b) */
} unit;

/* A thread's buffers, reused from piece to piece (the pages of a fresh buffer cost a fault
 * each, as much as the formatting at 1 mm). */
typedef struct scratch {
    char *xml;
    uint8_t *z;
    size_t xcap, zcap;
    uint32_t *anc;      /* 3 * UNIT_LINES */
    uint8_t *level_buf; /* isa-l's, for the head and the tail */
} scratch;

static int grow(void *pp, size_t *cap, size_t need) {
    void **p = pp;
    if (*cap >= need) return 1;
    void *q = realloc(*p, need);
    if (!q) return 0;
    *p = q;
    *cap = need;
    return 1;
}

/* The XML of a run of vertices or triangles into sc->xml (returned; NULL if out of memory);
 * sc->anc receives the position of the closing quote of every attribute value, 3 a line
 * (*nanc of them). */
static char *unit_xml(const unit *u, const sb_scene_mesh *ms, const sb_scene_frame *fr, scratch *sc,
                      size_t *n, size_t *nanc) {
    const sb_scene_mesh *m = &ms[u->obj];
    const sb_trimesh *t = m->mesh;
    size_t lines = u->b - u->a;
    uint32_t *anc = sc->anc;
    /* bounds: a vertex line <= 23 + 3 * 32 bytes, a triangle line <= 34 + 3 * 10 */
    size_t cap = 512 + 6 * strlen(m->name) + (u->kind == U_VERTS ? 128 : 64) * lines;
    if (!grow(&sc->xml, &sc->xcap, cap)) return NULL;
    char *buf = sc->xml, *p = buf;
    if (u->kind == U_VERTS) {
        if (u->a == 0) {
            p += snprintf(p, 64, "  <object id=\"%zu\" type=\"model\" name=\"", u->obj + 2);
            p += attr(p, m->name);
            p += snprintf(p, 96, "\" pid=\"1\" pindex=\"%zu\">\n   <mesh>\n    <vertices>\n",
                          u->obj);
        }
        int dec = frame_decimals(fr);
        for (size_t v = u->a; v < u->b; v++) {
            float q[3];
            frame_apply(fr, t->verts + 3 * v, q);
            PUT(p, "<vertex x=\"");
            p += fmt_fixed(p, q[0], dec);
            *anc++ = (uint32_t)(p - buf);
            PUT(p, "\" y=\"");
            p += fmt_fixed(p, q[1], dec);
            *anc++ = (uint32_t)(p - buf);
            PUT(p, "\" z=\"");
            p += fmt_fixed(p, q[2], dec);
            *anc++ = (uint32_t)(p - buf);
            PUT(p, "\"/>\n");
        }
        if (u->b == t->nverts) PUT(p, "    </vertices>\n    <triangles>\n");
        if (u->b == t->nverts && t->ntris == 0)
            PUT(p, "    </triangles>\n   </mesh>\n  </object>\n");
    } else {
        for (size_t k = u->a; k < u->b; k++) {
            const uint32_t *tr = t->tris + 3 * k;
            PUT(p, "<triangle v1=\"");
            p += fmt_uint(p, tr[0]);
            *anc++ = (uint32_t)(p - buf);
            PUT(p, "\" v2=\"");
            p += fmt_uint(p, tr[1]);
            *anc++ = (uint32_t)(p - buf);
            PUT(p, "\" v3=\"");
            p += fmt_uint(p, tr[2]);
            *anc++ = (uint32_t)(p - buf);
            PUT(p, "\"/>\n");
        }
        if (u->b == t->ntris) PUT(p, "    </triangles>\n   </mesh>\n  </object>\n");
    }
    *n = (size_t)(p - buf);
    *nanc = 3 * lines;
    return buf;
}

/* Deflates a run's xml[0..n) with its anchors (deflate_lines: the markup and the leading digits
 * each value shares with the line before are matches) through sc->z into p->z. */
static void compress_lines(const char *xml, size_t n, size_t nanc, scratch *sc, part *p) {
    p->n = n;
    p->crc = (uint32_t)libdeflate_crc32(0, xml, n);
    size_t zn = 0;
    if (grow(&sc->z, &sc->zcap, deflate_lines_bound(n)))
        zn = deflate_lines(xml, n, sc->anc, nanc, 3, sc->z, sc->zcap);
    p->z = zn ? malloc(zn) : NULL;
    if (!p->z) {
        p->bad = 1;
        return;
    }
    memcpy(p->z, sc->z, zn);
    p->zn = zn;
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
    int streamed; /* sizes and CRC in a data descriptor after the data (flag bit 3) */
} zentry;

static void le16(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8);
}
static void le32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

#define ZIP_DOS_DATE 0x21 /* 1980-01-01 */

/* The local header of entry e at *pos (e->crc, csize, usize already set unless streamed). */
static void zip_local(bufw *w, zentry *e, uint64_t *pos) {
    if (w->s) return;
    if (*pos > UINT32_MAX) {
        w->s = sb_error_set(w->err, SB_ERR_USAGE, "%s does not fit a ZIP without ZIP64 (4 GiB)",
                            w->o.final_path);
        return;
    }
    e->offset = (uint32_t)*pos;
    uint8_t h[30];
    memset(h, 0, sizeof h);
    le32(h, 0x04034b50);
    le16(h + 4, 20);
    le16(h + 6, e->streamed ? 8 : 0);
    le16(h + 8, 8); /* deflate */
    le16(h + 12, ZIP_DOS_DATE);
    if (!e->streamed) {
        le32(h + 14, e->crc);
        le32(h + 18, e->csize);
        le32(h + 22, e->usize);
    }
    le16(h + 26, (uint32_t)strlen(e->name));
    bufw_put(w, h, 30);
    bufw_str(w, e->name);
    *pos += 30 + strlen(e->name);
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
        memset(e, 0, sizeof *e);
        e->name = name;
        e->crc = (uint32_t)libdeflate_crc32(0, text, n);
        e->csize = (uint32_t)cn;
        e->usize = (uint32_t)n;
        zip_local(w, e, pos);
        bufw_put(w, out, cn);
        *pos += cn;
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
        le16(h + 8, e[i].streamed ? 8 : 0);
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
    /* the pieces: head, per structure its vertex runs then its triangle runs, tail */
    size_t nu = 2;
    for (size_t i = 0; i < n; i++)
        nu += (ms[i].mesh->nverts + UNIT_LINES - 1) / UNIT_LINES +
              (ms[i].mesh->ntris + UNIT_LINES - 1) / UNIT_LINES + (ms[i].mesh->nverts == 0);
    unit *units = malloc(nu * sizeof *units);
    if (!units) return sb_error_set(err, SB_ERR_MEMORY, "%s: out of memory", path);
    size_t k = 0;
    units[k++] = (unit){U_HEAD, 0, 0, 0};
    for (size_t i = 0; i < n; i++) {
        const sb_trimesh *t = ms[i].mesh;
        size_t a = 0;
        do {
            size_t b = t->nverts - a < UNIT_LINES ? t->nverts : a + UNIT_LINES;
            units[k++] = (unit){U_VERTS, i, a, b};
            a = b;
        } while (a < t->nverts);
        for (a = 0; a < t->ntris; a += UNIT_LINES)
            units[k++] =
                (unit){U_TRIS, i, a, t->ntris - a < UNIT_LINES ? t->ntris : a + UNIT_LINES};
    }
    units[k++] = (unit){U_TAIL, 0, 0, 0};
    nu = k;

    bufw w;
    zentry e[3];
    uint64_t pos = 0;
    if (bufw_open(&w, path, force, err) == SB_OK) {
        zip_small(&w, &e[0], "[Content_Types].xml", CONTENT_TYPES, &pos);
        zip_small(&w, &e[1], "_rels/.rels", RELS, &pos);
        memset(&e[2], 0, sizeof e[2]);
        e[2].name = "3D/3dmodel.model";
        e[2].streamed = 1;
        zip_local(&w, &e[2], &pos);
    }
    uint64_t usize = 0, csize = 0;
    uint32_t crc = 0;
    int bad = 0;
    long nl = (long)nu;
    /* finished pieces wait in their slot until every piece before them is written; a thread
     * that finds no one writing writes the run that is ready, and then any run that became
     * ready meanwhile (no thread waits for another: an `ordered` loop spins, which costs
     * dearly on a loaded machine) */
    part *slot = w.s ? NULL : calloc(nu, sizeof *slot);
    char *ready = w.s ? NULL : calloc(nu, 1);
    size_t next = 0;
    int writing = 0;
    if (!w.s && (!slot || !ready))
        w.s = sb_error_set(err, SB_ERR_MEMORY, "%s: out of memory", path);
    if (!w.s) {
#pragma omp parallel num_threads(threads > 0 ? threads : 1)
        {
            scratch sc = {.anc = malloc(3 * UNIT_LINES * sizeof(uint32_t)),
                          .level_buf = malloc(ISAL_DEF_LVL1_DEFAULT)};
#pragma omp for schedule(dynamic, 1) nowait
            for (long i = 0; i < nl; i++) {
                const unit *u = &units[i];
                part pt;
                memset(&pt, 0, sizeof pt);
                size_t xn = 0, na = 0;
                int run = u->kind == U_VERTS || u->kind == U_TRIS;
                char *x = !sc.anc || !sc.level_buf ? NULL
                          : run                    ? unit_xml(u, ms, fr, &sc, &xn, &na)
                          : u->kind == U_HEAD      ? head_xml(ms, n, fr, title, &xn)
                                                   : tail_xml(n, &xn);
                if (!x)
                    pt.bad = 1;
                else if (run)
                    compress_lines(x, xn, na, &sc, &pt);
                else
                    compress_part(x, xn, i == nl - 1, sc.level_buf, &pt);
                if (!run) free(x);
                /* the lock only hands over pieces; the writing is done outside it by one
                 * thread at a time (`writing`), so the others never wait on the disk */
                int me = 0;
#pragma omp critical(sb_threemf_write)
                {
                    slot[i] = pt;
                    ready[i] = 1;
                    if (!writing) writing = me = 1;
                }
                size_t from = 0, to = 0;
                while (me) {
#pragma omp critical(sb_threemf_write)
                    {
                        next = to > next ? to : next;
                        for (from = to = next; to < nu && ready[to];) to++;
                        if (to == from) writing = me = 0;
                    }
                    for (size_t j = from; j < to; j++) { /* in piece order */
                        part *q = &slot[j];
                        bad |= q->bad;
                        if (!bad) {
                            bufw_put(&w, q->z, q->zn);
                            crc = j ? (uint32_t)crc32_combine(crc, q->crc, (z_off_t)q->n) : q->crc;
                            usize += q->n;
                            csize += q->zn;
                        }
                        free(q->z);
                        q->z = NULL;
                    }
                }
            }
            free(sc.xml);
            free(sc.z);
            free(sc.anc);
            free(sc.level_buf);
        }
    }
    for (size_t i = 0; slot && i < nu; i++) free(slot[i].z);
    free(slot);
    free(ready);
    free(units);
    if (!w.s && bad)
        w.s = bad & 1
                  ? sb_error_set(err, SB_ERR_MEMORY, "%s: out of memory", path)
                  : sb_error_set(err, SB_ERR_INTERNAL, "%s: the deflate compressor failed", path);
    if (!w.s && (usize > UINT32_MAX || pos + csize > UINT32_MAX))
        w.s = sb_error_set(err, SB_ERR_USAGE,
                           "%s: the model does not fit a ZIP without ZIP64 "
                           "(4 GiB)",
                           path);
    if (!w.s) {
        e[2].crc = crc;
        e[2].csize = (uint32_t)csize;
        e[2].usize = (uint32_t)usize;
        uint8_t dd[16]; /* data descriptor */
        le32(dd, 0x08074b50);
        le32(dd + 4, crc);
        le32(dd + 8, (uint32_t)csize);
        le32(dd + 12, (uint32_t)usize);
        bufw_put(&w, dd, 16);
        zip_finish(&w, e, 3, pos + csize + 16);
        bufw_commit(&w);
    }
    bufw_abort(&w);
    return w.s;
}
