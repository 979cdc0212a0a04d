/* glb.c — glTF 2.0 binary (.glb) writer (Khronos glTF 2.0 specification, sections 3 "Concepts"
 * and 4 "GLB File Format Specification").
 *
 * Layout: one root node (the scene title) whose children are one node per organ system
 * ("group_<group>", so a group never takes a structure's name), each holding one node per
 * structure named after it, with one mesh of one indexed triangle primitive (POSITION with
 * min/max, NORMAL, uint32 indices) and one material per structure: pbrMetallicRoughness with
 * baseColorFactor = the label table's sRGB colour converted to linear light (glTF stores linear
 * factors; IEC 61966-2-1 transfer function), metallic 0, roughness 0.6; alpha < 1 gives
 * alphaMode BLEND. Normals are area-weighted vertex normals of the written positions.
 * glTF's units are metres and its up axis +Y: the caller chooses the frame (sb_scene_frame);
 * `synthbody export` defaults to metres and Y up for GLB. Names are JSON-escaped.
 * The BIN chunk holds, per structure, positions, normals and indices, each 4-byte aligned.
 */
#include "scene_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

typedef struct dstr {
    char *p;
    size_t n, cap;
    int oom;
} dstr;

static void ds_put(dstr *d, const char *s, size_t k) {
    if (d->oom) return;
    if (d->n + k + 1 > d->cap) {
        size_t cap = d->cap ? d->cap : 4096;
        while (cap < d->n + k + 1) cap *= 2;
        char *p = realloc(d->p, cap);
        if (!p) {
            d->oom = 1;
            return;
        }
        d->p = p;
        d->cap = cap;
    }
    memcpy(d->p + d->n, s, k);
    d->n += k;
    d->p[d->n] = '\0';
}

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void
ds_printf(dstr *d, const char *fmt, ...) {
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k >= sizeof tmp) {
        d->oom = 1;
        return;
    }
    ds_put(d, tmp, (size_t)k);
}

static void ds_str(dstr *d, const char *s) {
    ds_put(d, s, strlen(s));
}

/* A JSON string literal (quotes included). */
static void ds_json_str(dstr *d, const char *s) {
    ds_put(d, "\"", 1);
    for (; s && *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') {
            char e[2] = {'\\', (char)c};
            ds_put(d, e, 2);
        } else if (c < 0x20) {
            ds_printf(d, "\\u%04x", c);
        } else {
            ds_put(d, (const char *)&c, 1);
        }
    }
    ds_put(d, "\"", 1);
}

static void put_u32le(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* World bbox of a mesh, mapped through the frame (the frame is monotonic per axis). */
static void frame_bbox(const sb_scene_frame *fr, const sb_trimesh *m, float lo[3], float hi[3]) {
    float wlo[3] = {INFINITY, INFINITY, INFINITY}, whi[3] = {-INFINITY, -INFINITY, -INFINITY};
    for (size_t v = 0; v < m->nverts; v++)
        for (int k = 0; k < 3; k++) {
            float x = m->verts[3 * v + k];
            if (x < wlo[k]) wlo[k] = x;
            if (x > whi[k]) whi[k] = x;
        }
    float a[3], b[3];
    frame_apply(fr, wlo, a);
    frame_apply(fr, whi, b);
    for (int k = 0; k < 3; k++) {
        lo[k] = a[k] < b[k] ? a[k] : b[k];
        hi[k] = a[k] < b[k] ? b[k] : a[k];
    }
}

static int same_group(const char *a, const char *b) {
    return strcmp(a ? a : "", b ? b : "") == 0;
}

sb_status scene_write_glb(const sb_scene_mesh *ms, size_t n, const sb_scene_frame *fr,
                          const char *title, const char *path, int force, sb_error *err) {
    /* groups in order of first appearance */
    size_t *grp_of = malloc(n * sizeof *grp_of), *grp_first = malloc(n * sizeof *grp_first);
    if (!grp_of || !grp_first) {
        free(grp_of);
        free(grp_first);
        return sb_error_set(err, SB_ERR_MEMORY, "%s: out of memory", path);
    }
    size_t ng = 0;
    for (size_t i = 0; i < n; i++) {
        size_t g = 0;
        while (g < ng && !same_group(ms[grp_first[g]].group, ms[i].group)) g++;
        if (g == ng) grp_first[ng++] = i;
        grp_of[i] = g;
    }
    dstr js = {0};
    ds_printf(&js, "{\"asset\":{\"version\":\"2.0\",\"generator\":\"synthbody %s\"},",
              SB_VERSION_STRING);
    ds_str(&js, "\"scene\":0,\"scenes\":[{\"name\":");
    ds_json_str(&js, title ? title : "synthbody");
    ds_str(&js, ",\"nodes\":[0]}],\"nodes\":[{\"name\":");
    ds_json_str(&js, title ? title : "synthbody");
    ds_str(&js, ",\"children\":[");
    for (size_t g = 0; g < ng; g++) ds_printf(&js, "%s%zu", g ? "," : "", 1 + g);
    ds_str(&js, "]}");
    for (size_t g = 0; g < ng; g++) {
        const char *gn = ms[grp_first[g]].group;
        char name[96];
        snprintf(name, sizeof name, "group_%s", gn && *gn ? gn : "other");
        ds_str(&js, ",{\"name\":");
        ds_json_str(&js, name);
        ds_str(&js, ",\"children\":[");
        int first = 1;
        for (size_t i = 0; i < n; i++)
            if (grp_of[i] == g) {
                ds_printf(&js, "%s%zu", first ? "" : ",", 1 + ng + i);
                first = 0;
            }
        ds_str(&js, "]}");
    }
    for (size_t i = 0; i < n; i++) {
        ds_str(&js, ",{\"name\":");
        ds_json_str(&js, ms[i].name);
        ds_printf(&js, ",\"mesh\":%zu}", i);
    }
    ds_str(&js, "],\"meshes\":[");
    for (size_t i = 0; i < n; i++) {
        ds_str(&js, i ? ",{\"name\":" : "{\"name\":");
        ds_json_str(&js, ms[i].name);
        ds_printf(&js,
                  ",\"primitives\":[{\"attributes\":{\"POSITION\":%zu,\"NORMAL\":%zu},"
                  "\"indices\":%zu,\"material\":%zu,\"mode\":4}]}",
                  3 * i, 3 * i + 1, 3 * i + 2, i);
    }
    ds_str(&js, "],\"materials\":[");
    for (size_t i = 0; i < n; i++) {
        const uint8_t *c = ms[i].rgba;
        ds_str(&js, i ? ",{\"name\":" : "{\"name\":");
        ds_json_str(&js, ms[i].name);
        ds_printf(&js,
                  ",\"pbrMetallicRoughness\":{\"baseColorFactor\":[%.6g,%.6g,%.6g,%.6g],"
                  "\"metallicFactor\":0,\"roughnessFactor\":0.6}%s}",
                  sb_srgb_to_linear(c[0] / 255.0), sb_srgb_to_linear(c[1] / 255.0),
                  sb_srgb_to_linear(c[2] / 255.0), c[3] / 255.0,
                  c[3] < 255 ? ",\"alphaMode\":\"BLEND\"" : "");
    }
    ds_str(&js, "],\"accessors\":[");
    for (size_t i = 0; i < n; i++) {
        const sb_trimesh *m = ms[i].mesh;
        float lo[3], hi[3];
        frame_bbox(fr, m, lo, hi);
        ds_printf(&js,
                  "%s{\"bufferView\":%zu,\"componentType\":5126,\"count\":%zu,\"type\":\"VEC3\","
                  "\"min\":[%.9g,%.9g,%.9g],\"max\":[%.9g,%.9g,%.9g]}",
                  i ? "," : "", 3 * i, m->nverts, lo[0], lo[1], lo[2], hi[0], hi[1], hi[2]);
        ds_printf(&js,
                  ",{\"bufferView\":%zu,\"componentType\":5126,\"count\":%zu,\"type\":\"VEC3\"}",
                  3 * i + 1, m->nverts);
        ds_printf(&js,
                  ",{\"bufferView\":%zu,\"componentType\":5125,\"count\":%zu,\"type\":\"SCALAR\"}",
                  3 * i + 2, 3 * m->ntris);
    }
    ds_str(&js, "],\"bufferViews\":[");
    uint64_t off = 0;
    for (size_t i = 0; i < n; i++) {
        const sb_trimesh *m = ms[i].mesh;
        uint64_t vb = 12 * (uint64_t)m->nverts, ib = 12 * (uint64_t)m->ntris;
        ds_printf(&js, "%s{\"buffer\":0,\"byteOffset\":%llu,\"byteLength\":%llu,\"target\":34962}",
                  i ? "," : "", (unsigned long long)off, (unsigned long long)vb);
        off += vb;
        ds_printf(&js, ",{\"buffer\":0,\"byteOffset\":%llu,\"byteLength\":%llu,\"target\":34962}",
                  (unsigned long long)off, (unsigned long long)vb);
        off += vb;
        ds_printf(&js, ",{\"buffer\":0,\"byteOffset\":%llu,\"byteLength\":%llu,\"target\":34963}",
                  (unsigned long long)off, (unsigned long long)ib);
        off += ib;
    }
    ds_printf(&js, "],\"buffers\":[{\"byteLength\":%llu}]}", (unsigned long long)off);
    free(grp_of);
    free(grp_first);
    if (js.oom) {
        free(js.p);
        return sb_error_set(err, SB_ERR_MEMORY, "%s: out of memory", path);
    }
    while (js.n % 4) ds_str(&js, " ");
    uint64_t total = 12 + 8 + js.n + 8 + off;
    if (total > UINT32_MAX || js.oom) {
        free(js.p);
        return sb_error_set(err, js.oom ? SB_ERR_MEMORY : SB_ERR_USAGE,
                            "%s: %llu bytes do not fit one GLB file (4 GiB)", path,
                            (unsigned long long)total);
    }
    uint8_t head[20];
    memcpy(head, "glTF", 4);
    put_u32le(head + 4, 2);
    put_u32le(head + 8, (uint32_t)total);
    put_u32le(head + 12, (uint32_t)js.n);
    memcpy(head + 16, "JSON", 4);

    size_t maxv = 0;
    for (size_t i = 0; i < n; i++)
        if (ms[i].mesh->nverts > maxv) maxv = ms[i].mesh->nverts;
    float *pos = malloc((maxv ? maxv : 1) * 3 * sizeof *pos);
    double *nrm = malloc((maxv ? maxv : 1) * 3 * sizeof *nrm);
    uint8_t *chunk = malloc(12 * 4096);
    bufw w;
    memset(&w, 0, sizeof w);
    if (!pos || !nrm || !chunk) {
        w.s = sb_error_set(err, SB_ERR_MEMORY, "%s: out of memory", path);
    } else if (bufw_open(&w, path, force, err) == SB_OK) {
        bufw_put(&w, head, sizeof head);
        bufw_put(&w, js.p, js.n);
        uint8_t bh[8];
        put_u32le(bh, (uint32_t)off);
        memcpy(bh + 4, "BIN", 4); /* 'B','I','N',0 */
        bufw_put(&w, bh, 8);
        for (size_t i = 0; i < n && !w.s; i++) {
            const sb_trimesh *m = ms[i].mesh;
            for (size_t v = 0; v < m->nverts; v++) frame_apply(fr, m->verts + 3 * v, pos + 3 * v);
            memset(nrm, 0, m->nverts * 3 * sizeof *nrm);
            for (size_t t = 0; t < m->ntris; t++) {
                const uint32_t *tr = m->tris + 3 * t;
                const float *a = pos + 3 * (size_t)tr[0], *b = pos + 3 * (size_t)tr[1],
                            *c = pos + 3 * (size_t)tr[2];
                double u[3] = {b[0] - a[0], b[1] - a[1], b[2] - a[2]},
                       q[3] = {c[0] - a[0], c[1] - a[1], c[2] - a[2]};
                double x[3] = {u[1] * q[2] - u[2] * q[1], u[2] * q[0] - u[0] * q[2],
                               u[0] * q[1] - u[1] * q[0]};
                for (int k = 0; k < 3; k++)
                    for (int j = 0; j < 3; j++) nrm[3 * (size_t)tr[k] + (size_t)j] += x[j];
            }
            for (size_t v0 = 0; v0 < m->nverts; v0 += 4096) { /* positions */
                size_t nb = m->nverts - v0 < 4096 ? m->nverts - v0 : 4096;
                for (size_t k = 0; k < 3 * nb; k++) {
                    uint32_t u;
                    memcpy(&u, pos + 3 * v0 + k, 4);
                    put_u32le(chunk + 4 * k, u);
                }
                bufw_put(&w, chunk, 12 * nb);
            }
            for (size_t v0 = 0; v0 < m->nverts; v0 += 4096) { /* unit normals */
                size_t nb = m->nverts - v0 < 4096 ? m->nverts - v0 : 4096;
                for (size_t k = 0; k < nb; k++) {
                    const double *x = nrm + 3 * (v0 + k);
                    double len = sqrt(x[0] * x[0] + x[1] * x[1] + x[2] * x[2]);
                    float f[3] = {0, 1, 0};
                    if (len > 0 && isfinite(len))
                        for (int j = 0; j < 3; j++) f[j] = (float)(x[j] / len);
                    for (int j = 0; j < 3; j++) {
                        uint32_t u;
                        memcpy(&u, &f[j], 4);
                        put_u32le(chunk + 12 * k + 4 * (size_t)j, u);
                    }
                }
                bufw_put(&w, chunk, 12 * nb);
            }
            for (size_t t0 = 0; t0 < 3 * m->ntris; t0 += 3 * 4096) { /* indices */
                size_t nb = 3 * m->ntris - t0 < 3 * 4096 ? 3 * m->ntris - t0 : 3 * 4096;
                for (size_t k = 0; k < nb; k++) put_u32le(chunk + 4 * k, m->tris[t0 + k]);
                bufw_put(&w, chunk, 4 * nb);
            }
        }
        bufw_commit(&w);
    }
    bufw_abort(&w);
    free(pos);
    free(nrm);
    free(chunk);
    free(js.p);
    return w.s;
}
