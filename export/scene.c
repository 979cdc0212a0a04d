/* scene.c — many named, coloured structures in one mesh file: binary STL, Wavefront OBJ + MTL,
 * binary PLY, VTK XML PolyData; the buffered writer and number formatting the scene writers
 * share (glb.c and threemf.c hold the other two formats).
 *
 * References: binary STL (3D Systems' StereoLithography Interface Specification, 1989);
 * Wavefront OBJ and MTL (Wavefront Advanced Visualizer manual, appendices B1 and B2); PLY
 * (Turk, "The PLY polygon file format", 1994); VTK XML file formats (VTK User's Guide, 11th
 * ed., "VTK File Formats": PolyData, appended raw data with a UInt64 byte-count header).
 *
 * Coordinates: the frame of sb_scene_frame (RAS+ millimetres by default). Files in RAS+ mm
 * carry "SPACE=RAS" where the format has a comment (STL header, OBJ/PLY comments): 3D Slicer
 * reads that tag and otherwise assumes LPS. Text formats print positions as fixed-point
 * decimals to 10 nm (fmt_fixed), which is exact and ~10x faster than printf("%g"); the
 * connectivity is written as indices, so rounding never opens a seam.
 */
#include "scene_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#define BUFW_CAP (1u << 20)

/* ---- buffered writer ------------------------------------------------------------------------ */

sb_status bufw_open(bufw *w, const char *path, int force, sb_error *err) {
    memset(w, 0, sizeof *w);
    w->err = err;
    w->buf = malloc(BUFW_CAP);
    if (!w->buf) return w->s = sb_error_set(err, SB_ERR_MEMORY, "%s: out of memory", path);
    w->cap = BUFW_CAP;
    w->s = sb_outfile_open(&w->o, path, force, err);
    w->open = w->s == SB_OK;
    return w->s;
}

static void bufw_flush(bufw *w) {
    if (w->s || !w->n) return;
    w->s = sb_outfile_write(&w->o, w->buf, w->n, w->err);
    w->n = 0;
}

void bufw_put(bufw *w, const void *p, size_t n) {
    if (w->s) return;
    if (w->n + n > w->cap) {
        bufw_flush(w);
        if (n > w->cap) { /* large block: straight through */
            if (!w->s) w->s = sb_outfile_write(&w->o, p, n, w->err);
            return;
        }
    }
    memcpy(w->buf + w->n, p, n);
    w->n += n;
}

void bufw_str(bufw *w, const char *s) {
    bufw_put(w, s, strlen(s));
}

void bufw_printf(bufw *w, const char *fmt, ...) {
    char tmp[2048];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k >= sizeof tmp) {
        if (!w->s)
            w->s = sb_error_set(w->err, SB_ERR_INTERNAL, "%s: text line too long", w->o.final_path);
        return;
    }
    bufw_put(w, tmp, (size_t)k);
}

sb_status bufw_commit(bufw *w) {
    bufw_flush(w);
    if (!w->s) w->s = sb_outfile_commit(&w->o, w->err);
    return w->s;
}

void bufw_abort(bufw *w) {
    if (w->open) sb_outfile_abort(&w->o);
    w->open = 0;
    free(w->buf);
    w->buf = NULL;
}

/* ---- numbers -------------------------------------------------------------------------------- */

static const char DIGITS2[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233"
    "34353637383940414243444546474849505152535455565758596061626364656667"
    "6869707172737475767778798081828384858687888990919293949596979899";

/* Decimal digits of v. */
static inline size_t ndigits32(uint32_t v) {
    return v < 10           ? 1
           : v < 100        ? 2
           : v < 1000       ? 3
           : v < 10000      ? 4
           : v < 100000     ? 5
           : v < 1000000    ? 6
           : v < 10000000   ? 7
           : v < 100000000  ? 8
           : v < 1000000000 ? 9
                            : 10;
}

size_t fmt_uint(char *out, uint64_t v) {
    if (v <= UINT32_MAX) { /* indices: 32-bit division, digits written in place */
        uint32_t u = (uint32_t)v;
        size_t n = ndigits32(u);
        char *p = out + n;
        while (u >= 100) {
            uint32_t r = u % 100;
            u /= 100;
            p -= 2;
            p[0] = DIGITS2[2 * r];
            p[1] = DIGITS2[2 * r + 1];
        }
        if (u >= 10) {
            p[-2] = DIGITS2[2 * u];
            p[-1] = DIGITS2[2 * u + 1];
        } else {
            p[-1] = (char)('0' + u);
        }
        return n;
    }
    char tmp[24];
    int k = 24;
    while (v >= 100) {
        unsigned r = (unsigned)(v % 100);
        v /= 100;
        tmp[--k] = DIGITS2[2 * r + 1];
        tmp[--k] = DIGITS2[2 * r];
    }
    if (v >= 10) {
        tmp[--k] = DIGITS2[2 * v + 1];
        tmp[--k] = DIGITS2[2 * v];
    } else {
        tmp[--k] = (char)('0' + v);
    }
    memcpy(out, tmp + k, (size_t)(24 - k));
    return (size_t)(24 - k);
}

/* fmt_fixed with the number of decimals known at compile time (divisions become multiplies). */
static inline size_t fmt_fixed_d(char *out, double v, const int d, const uint64_t p10) {
    uint64_t u = (uint64_t)(fabs(v) * (double)p10 + 0.5);
    size_t n = 0;
    if (v < 0 && u) out[n++] = '-';
    n += fmt_uint(out + n, u / p10);
    uint64_t fp = u % p10;
    if (!fp) return n;
    out[n] = '.';
    for (int i = d; i >= 1; i--) {
        out[n + (size_t)i] = (char)('0' + fp % 10);
        fp /= 10;
    }
    n += (size_t)d + 1;
    while (out[n - 1] == '0') n--;
    return n;
}

size_t fmt_fixed(char *out, double v, int decimals) {
    if (!(fabs(v) < 9e9)) {
        int k = snprintf(out, 32, "%.9g", v);
        return k < 0 ? 0 : (size_t)(k < 31 ? k : 31);
    }
    switch (decimals) {
    case 5:
        return fmt_fixed_d(out, v, 5, 100000);
    case 8:
        return fmt_fixed_d(out, v, 8, 100000000);
    default: {
        static const uint64_t P10[10] = {1,      10,      100,      1000,      10000,
                                         100000, 1000000, 10000000, 100000000, 1000000000};
        int d = decimals < 0 ? 0 : decimals > 9 ? 9 : decimals;
        return fmt_fixed_d(out, v, d, P10[d]);
    }
    }
}

int frame_decimals(const sb_scene_frame *f) {
    /* 10 nm: 1e-5 mm; in metres 1e-8 */
    return f->scale < 0.01 ? 8 : 5;
}

double sb_srgb_to_linear(double c) {
    return c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4);
}

const char *sb_scene_format_ext(sb_scene_format f) {
    switch (f) {
    case SB_SCENE_STL:
        return "stl";
    case SB_SCENE_OBJ:
        return "obj";
    case SB_SCENE_PLY:
        return "ply";
    case SB_SCENE_GLB:
        return "glb";
    case SB_SCENE_3MF:
        return "3mf";
    case SB_SCENE_VTP:
        return "vtp";
    }
    return NULL;
}

sb_status scene_check(const sb_scene_mesh *meshes, size_t n, const sb_scene_frame *frame,
                      const char *path, sb_error *err) {
    if (!path) return sb_error_set(err, SB_ERR_USAGE, "scene writer: NULL path");
    if (!meshes || n == 0)
        return sb_error_set(err, SB_ERR_USAGE, "%s: no structure to write", path);
    if (!frame || !(frame->scale > 0) || !isfinite(frame->scale))
        return sb_error_set(err, SB_ERR_USAGE, "%s: bad frame scale", path);
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        const sb_trimesh *m = meshes[i].mesh;
        if (!m || !meshes[i].name)
            return sb_error_set(err, SB_ERR_USAGE, "%s: structure %zu has no mesh or name", path,
                                i);
        if (m->nverts > UINT32_MAX)
            return sb_error_set(err, SB_ERR_USAGE, "%s: %s has more than 2^32 vertices", path,
                                meshes[i].name);
        for (size_t t = 0; t < 3 * m->ntris; t++)
            if (m->tris[t] >= m->nverts)
                return sb_error_set(err, SB_ERR_USAGE, "%s: %s: triangle %zu uses vertex %u of %zu",
                                    path, meshes[i].name, t / 3, m->tris[t], m->nverts);
        total += m->nverts;
    }
    if (total > UINT32_MAX)
        return sb_error_set(err, SB_ERR_USAGE, "%s: more than 2^32 vertices in one file", path);
    return SB_OK;
}

static int frame_is_ras_mm(const sb_scene_frame *f) {
    return !f->up_y && f->scale == 1.0;
}

/* ---- binary STL ------------------------------------------------------------------------------ */

static void put_u32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put_f32(uint8_t *p, float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    put_u32(p, u);
}

static void unit_normal(const float *a, const float *b, const float *c, float n[3]) {
    double u[3], w[3], x[3];
    for (int i = 0; i < 3; i++) {
        u[i] = (double)b[i] - a[i];
        w[i] = (double)c[i] - a[i];
    }
    x[0] = u[1] * w[2] - u[2] * w[1];
    x[1] = u[2] * w[0] - u[0] * w[2];
    x[2] = u[0] * w[1] - u[1] * w[0];
    double len = sqrt(x[0] * x[0] + x[1] * x[1] + x[2] * x[2]);
    for (int i = 0; i < 3; i++) n[i] = len > 0 && isfinite(len) ? (float)(x[i] / len) : 0.0f;
}

static sb_status write_stl(const sb_scene_mesh *ms, size_t n, const sb_scene_frame *fr,
                           const char *title, const char *path, int force, sb_error *err) {
    size_t ntris = 0;
    for (size_t i = 0; i < n; i++) ntris += ms[i].mesh->ntris;
    if (ntris > UINT32_MAX)
        return sb_error_set(err, SB_ERR_USAGE, "%s: %zu triangles do not fit binary STL", path,
                            ntris);
    uint8_t head[84];
    memset(head, 0, sizeof head);
    snprintf((char *)head, 80, "synthbody %s%s", title ? title : ms[0].name,
             frame_is_ras_mm(fr) ? " SPACE=RAS" : "");
    put_u32(head + 80, (uint32_t)ntris);
    bufw w;
    if (bufw_open(&w, path, force, err) == SB_OK) {
        bufw_put(&w, head, sizeof head);
        uint8_t rec[50];
        memset(rec, 0, sizeof rec);
        for (size_t i = 0; i < n && !w.s; i++) {
            const sb_trimesh *m = ms[i].mesh;
            for (size_t t = 0; t < m->ntris; t++) {
                float p[3][3], nrm[3];
                for (int c = 0; c < 3; c++)
                    frame_apply(fr, m->verts + 3 * (size_t)m->tris[3 * t + c], p[c]);
                unit_normal(p[0], p[1], p[2], nrm);
                for (int k = 0; k < 3; k++) put_f32(rec + 4 * k, nrm[k]);
                for (int c = 0; c < 3; c++)
                    for (int k = 0; k < 3; k++) put_f32(rec + 12 + 12 * c + 4 * k, p[c][k]);
                bufw_put(&w, rec, sizeof rec);
            }
        }
        bufw_commit(&w);
    }
    bufw_abort(&w);
    return w.s;
}

/* ---- OBJ + MTL ------------------------------------------------------------------------------- */

static sb_status write_obj(const sb_scene_mesh *ms, size_t n, const sb_scene_frame *fr,
                           const char *title, const char *path, int force, sb_error *err) {
    char mtl[4096];
    const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
    size_t stem = dot && (!slash || dot > slash) ? (size_t)(dot - path) : strlen(path);
    if (stem + 5 > sizeof mtl) return sb_error_set(err, SB_ERR_OUTPUT, "path too long: %s", path);
    memcpy(mtl, path, stem);
    memcpy(mtl + stem, ".mtl", 5);
    const char *mtl_base = strrchr(mtl, '/') ? strrchr(mtl, '/') + 1 : mtl;

    bufw wm, wo;
    memset(&wo, 0, sizeof wo);
    if (bufw_open(&wm, mtl, force, err) == SB_OK) {
        bufw_printf(&wm, "# synthbody %s: one material per structure, Kd = sRGB colour / 255\n",
                    title ? title : "");
        for (size_t i = 0; i < n; i++) {
            const uint8_t *c = ms[i].rgba;
            bufw_printf(&wm,
                        "newmtl %s\nKa 0 0 0\nKd %.6g %.6g %.6g\nKs 0.1 0.1 0.1\nNs 20\nd %.6g\n"
                        "illum 2\n\n",
                        ms[i].name, c[0] / 255.0, c[1] / 255.0, c[2] / 255.0, c[3] / 255.0);
        }
        bufw_open(&wo, path, force, err);
    }
    if (!wm.s && !wo.s) {
        bufw_printf(&wo, "# synthbody %s\n# %s, units %s, %s\nmtllib %s\n", title ? title : "",
                    frame_is_ras_mm(fr) ? "SPACE=RAS"
                    : fr->up_y          ? "Y up"
                                        : "Z up",
                    fr->scale < 0.01 ? "m" : "mm",
                    fr->up_y ? "+Y superior, +Z anterior, +X left" : "RAS+", mtl_base);
        int dec = frame_decimals(fr);
        uint64_t base = 1; /* OBJ indices are 1-based and global */
        char line[128];
        for (size_t i = 0; i < n && !wo.s; i++) {
            const sb_trimesh *m = ms[i].mesh;
            bufw_printf(&wo, "o %s\ng %s\nusemtl %s\n", ms[i].name, ms[i].name, ms[i].name);
            for (size_t v = 0; v < m->nverts; v++) {
                float p[3];
                frame_apply(fr, m->verts + 3 * v, p);
                size_t k = 0;
                line[k++] = 'v';
                for (int a = 0; a < 3; a++) {
                    line[k++] = ' ';
                    k += fmt_fixed(line + k, p[a], dec);
                }
                line[k++] = '\n';
                bufw_put(&wo, line, k);
            }
            for (size_t t = 0; t < m->ntris; t++) {
                size_t k = 0;
                line[k++] = 'f';
                for (int c = 0; c < 3; c++) {
                    line[k++] = ' ';
                    k += fmt_uint(line + k, base + m->tris[3 * t + c]);
                }
                line[k++] = '\n';
                bufw_put(&wo, line, k);
            }
            base += m->nverts;
        }
    }
    /* both files or neither */
    sb_status s = wm.s ? wm.s : wo.s;
    if (!s) s = bufw_commit(&wm);
    if (!s) {
        s = bufw_commit(&wo);
        if (s) remove(mtl);
    }
    bufw_abort(&wm);
    bufw_abort(&wo);
    return s;
}

/* ---- PLY ------------------------------------------------------------------------------------- */

static sb_status write_ply(const sb_scene_mesh *ms, size_t n, const sb_scene_frame *fr,
                           const char *title, const char *path, int force, sb_error *err) {
    size_t nv = 0, nt = 0;
    for (size_t i = 0; i < n; i++) nv += ms[i].mesh->nverts, nt += ms[i].mesh->ntris;
    if (nt > INT32_MAX)
        return sb_error_set(err, SB_ERR_USAGE, "%s: %zu triangles are too many for PLY", path, nt);
    bufw w;
    if (bufw_open(&w, path, force, err) == SB_OK) {
        bufw_printf(&w, "ply\nformat binary_little_endian 1.0\ncomment synthbody %s\n",
                    title ? title : "");
        bufw_printf(&w, "comment %s units %s\n",
                    frame_is_ras_mm(fr) ? "SPACE=RAS"
                    : fr->up_y          ? "Y up"
                                        : "Z up",
                    fr->scale < 0.01 ? "m" : "mm");
        size_t v0 = 0, t0 = 0;
        for (size_t i = 0; i < n; i++) { /* which vertices and faces belong to which structure */
            bufw_printf(&w, "comment structure %d %s vertices %zu %zu faces %zu %zu\n", ms[i].id,
                        ms[i].name, v0, ms[i].mesh->nverts, t0, ms[i].mesh->ntris);
            v0 += ms[i].mesh->nverts, t0 += ms[i].mesh->ntris;
        }
        bufw_printf(&w,
                    "element vertex %zu\nproperty float x\nproperty float y\nproperty float z\n"
                    "property uchar red\nproperty uchar green\nproperty uchar blue\n"
                    "element face %zu\nproperty list uchar int vertex_indices\n"
                    "property int label\nend_header\n",
                    nv, nt);
        uint8_t rec[17];
        for (size_t i = 0; i < n && !w.s; i++) {
            const sb_trimesh *m = ms[i].mesh;
            for (size_t v = 0; v < m->nverts; v++) {
                float p[3];
                frame_apply(fr, m->verts + 3 * v, p);
                for (int k = 0; k < 3; k++) put_f32(rec + 4 * k, p[k]);
                memcpy(rec + 12, ms[i].rgba, 3);
                bufw_put(&w, rec, 15);
            }
        }
        uint32_t base = 0;
        for (size_t i = 0; i < n && !w.s; i++) {
            const sb_trimesh *m = ms[i].mesh;
            rec[0] = 3;
            for (size_t t = 0; t < m->ntris; t++) {
                for (int c = 0; c < 3; c++) put_u32(rec + 1 + 4 * c, base + m->tris[3 * t + c]);
                put_u32(rec + 13, (uint32_t)ms[i].id);
                bufw_put(&w, rec, 17);
            }
            base += (uint32_t)m->nverts;
        }
        bufw_commit(&w);
    }
    bufw_abort(&w);
    return w.s;
}

/* ---- VTP ------------------------------------------------------------------------------------- */

static void put_u64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}

static sb_status write_vtp(const sb_scene_mesh *ms, size_t n, const sb_scene_frame *fr,
                           const char *title, const char *path, int force, sb_error *err) {
    size_t nv = 0, nt = 0;
    for (size_t i = 0; i < n; i++) nv += ms[i].mesh->nverts, nt += ms[i].mesh->ntris;
    if (3 * nt > INT32_MAX)
        return sb_error_set(err, SB_ERR_USAGE, "%s: %zu triangles are too many", path, nt);
    /* appended arrays, each preceded by its UInt64 byte count */
    uint64_t sz_pts = 12 * (uint64_t)nv, sz_conn = 12 * (uint64_t)nt, sz_off = 4 * (uint64_t)nt,
             sz_lab = 4 * (uint64_t)nt, sz_rgb = 3 * (uint64_t)nt;
    uint64_t o_pts = 0, o_conn = o_pts + 8 + sz_pts, o_off = o_conn + 8 + sz_conn,
             o_lab = o_off + 8 + sz_off, o_rgb = o_lab + 8 + sz_lab;
    bufw w;
    if (bufw_open(&w, path, force, err) == SB_OK) {
        bufw_printf(&w,
                    "<?xml version=\"1.0\"?>\n<!-- synthbody %s; %s, units %s -->\n"
                    "<VTKFile type=\"PolyData\" version=\"1.0\" byte_order=\"LittleEndian\" "
                    "header_type=\"UInt64\">\n  <PolyData>\n",
                    title ? title : "",
                    frame_is_ras_mm(fr) ? "SPACE=RAS"
                    : fr->up_y          ? "Y up"
                                        : "Z up",
                    fr->scale < 0.01 ? "m" : "mm");
        bufw_printf(&w,
                    "    <FieldData>\n      <Array type=\"String\" Name=\"structure_names\" "
                    "NumberOfTuples=\"%zu\" format=\"ascii\">\n",
                    n);
        for (size_t i = 0; i < n; i++) { /* VTK's ascii strings: bytes, each ends with 0 */
            for (const char *c = ms[i].name; *c; c++) bufw_printf(&w, " %d", (unsigned char)*c);
            bufw_str(&w, " 0\n");
        }
        bufw_str(&w, "      </Array>\n      <Array type=\"Int32\" Name=\"structure_ids\" "
                     "NumberOfTuples=\"");
        bufw_printf(&w, "%zu\" format=\"ascii\">", n);
        for (size_t i = 0; i < n; i++) bufw_printf(&w, " %d", ms[i].id);
        bufw_str(&w, "</Array>\n    </FieldData>\n");
        bufw_printf(&w,
                    "    <Piece NumberOfPoints=\"%zu\" NumberOfVerts=\"0\" NumberOfLines=\"0\" "
                    "NumberOfStrips=\"0\" NumberOfPolys=\"%zu\">\n",
                    nv, nt);
        bufw_printf(&w,
                    "      <Points>\n        <DataArray type=\"Float32\" Name=\"Points\" "
                    "NumberOfComponents=\"3\" format=\"appended\" offset=\"%llu\"/>\n"
                    "      </Points>\n",
                    (unsigned long long)o_pts);
        bufw_printf(&w,
                    "      <Polys>\n        <DataArray type=\"Int32\" Name=\"connectivity\" "
                    "format=\"appended\" offset=\"%llu\"/>\n        <DataArray type=\"Int32\" "
                    "Name=\"offsets\" format=\"appended\" offset=\"%llu\"/>\n      </Polys>\n",
                    (unsigned long long)o_conn, (unsigned long long)o_off);
        bufw_printf(&w,
                    "      <CellData Scalars=\"label_id\">\n        <DataArray type=\"Int32\" "
                    "Name=\"label_id\" format=\"appended\" offset=\"%llu\"/>\n        <DataArray "
                    "type=\"UInt8\" Name=\"rgb\" NumberOfComponents=\"3\" format=\"appended\" "
                    "offset=\"%llu\"/>\n      </CellData>\n    </Piece>\n  </PolyData>\n"
                    "  <AppendedData encoding=\"raw\">\n   _",
                    (unsigned long long)o_lab, (unsigned long long)o_rgb);
        uint8_t rec[16];
        put_u64(rec, sz_pts);
        bufw_put(&w, rec, 8);
        for (size_t i = 0; i < n && !w.s; i++)
            for (size_t v = 0; v < ms[i].mesh->nverts; v++) {
                float p[3];
                frame_apply(fr, ms[i].mesh->verts + 3 * v, p);
                for (int k = 0; k < 3; k++) put_f32(rec + 4 * k, p[k]);
                bufw_put(&w, rec, 12);
            }
        put_u64(rec, sz_conn);
        bufw_put(&w, rec, 8);
        uint32_t base = 0;
        for (size_t i = 0; i < n && !w.s; i++) {
            const sb_trimesh *m = ms[i].mesh;
            for (size_t t = 0; t < 3 * m->ntris; t++) {
                put_u32(rec, base + m->tris[t]);
                bufw_put(&w, rec, 4);
            }
            base += (uint32_t)m->nverts;
        }
        put_u64(rec, sz_off);
        bufw_put(&w, rec, 8);
        for (size_t t = 0; t < nt && !w.s; t++) {
            put_u32(rec, (uint32_t)(3 * (t + 1)));
            bufw_put(&w, rec, 4);
        }
        put_u64(rec, sz_lab);
        bufw_put(&w, rec, 8);
        for (size_t i = 0; i < n && !w.s; i++)
            for (size_t t = 0; t < ms[i].mesh->ntris; t++) {
                put_u32(rec, (uint32_t)ms[i].id);
                bufw_put(&w, rec, 4);
            }
        put_u64(rec, sz_rgb);
        bufw_put(&w, rec, 8);
        for (size_t i = 0; i < n && !w.s; i++)
            for (size_t t = 0; t < ms[i].mesh->ntris; t++) bufw_put(&w, ms[i].rgba, 3);
        bufw_str(&w, "\n  </AppendedData>\n</VTKFile>\n");
        bufw_commit(&w);
    }
    bufw_abort(&w);
    return w.s;
}

/* ---- dispatch -------------------------------------------------------------------------------- */

sb_status sb_scene_write(sb_scene_format f, const sb_scene_mesh *meshes, size_t n,
                         const sb_scene_frame *frame, const char *title, const char *path,
                         int force, const sb_ctx *ctx, sb_error *err) {
    sb_status s = scene_check(meshes, n, frame, path, err);
    if (s) return s;
    switch (f) {
    case SB_SCENE_STL:
        return write_stl(meshes, n, frame, title, path, force, err);
    case SB_SCENE_OBJ:
        return write_obj(meshes, n, frame, title, path, force, err);
    case SB_SCENE_PLY:
        return write_ply(meshes, n, frame, title, path, force, err);
    case SB_SCENE_GLB:
        return scene_write_glb(meshes, n, frame, title, path, force, err);
    case SB_SCENE_3MF:
        return scene_write_3mf(meshes, n, frame, title, path, force, sb_ctx_threads(ctx), err);
    case SB_SCENE_VTP:
        return write_vtp(meshes, n, frame, title, path, force, err);
    }
    return sb_error_set(err, SB_ERR_USAGE, "%s: unknown mesh format %d", path, (int)f);
}
