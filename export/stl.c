/* stl.c — binary STL writer.
 *
 * Format (the de-facto binary STL of 3D Systems' StereoLithography Interface Specification,
 * 1989): an 80-byte header, a uint32 triangle count, then per triangle 12 float32 (normal,
 * three vertices) and a uint16 attribute byte count (0); all little-endian, written explicitly
 * byte by byte so the host's byte order does not matter. The header is "synthbody " + name,
 * zero-padded; the normal is the unit normal of the counter-clockwise winding, zero for a
 * degenerate triangle. No dates: identical meshes give identical files.
 */
#include "sb_export.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define STL_TRI_BYTES 50
#define STL_BATCH 65536 /* triangles per write */

static void put_u32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put_f32(uint8_t *p, float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    put_u32(p, u);
}

static void tri_normal(const float *a, const float *b, const float *c, float n[3]) {
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

sb_status sb_stl_write(const sb_trimesh *m, const char *name, const char *path, int force,
                       sb_error *err) {
    if (!m || !path) return sb_error_set(err, SB_ERR_USAGE, "sb_stl_write: NULL argument");
    if (m->ntris > UINT32_MAX)
        return sb_error_set(err, SB_ERR_USAGE, "%s: %zu triangles do not fit binary STL", path,
                            m->ntris);
    for (size_t t = 0; t < 3 * m->ntris; t++)
        if (m->tris[t] >= m->nverts)
            return sb_error_set(err, SB_ERR_INTERNAL, "%s: triangle %zu uses vertex %u of %zu",
                                path, t / 3, m->tris[t], m->nverts);
    uint8_t head[84];
    memset(head, 0, sizeof head);
    int w = snprintf((char *)head, 80, "synthbody %s", name ? name : "");
    if (w < 0) head[0] = '\0';
    put_u32(head + 80, (uint32_t)m->ntris);

    size_t batch = m->ntris < STL_BATCH ? m->ntris : STL_BATCH;
    uint8_t *buf = malloc(batch ? batch * STL_TRI_BYTES : 1);
    if (!buf) return sb_error_set(err, SB_ERR_MEMORY, "%s: out of memory", path);
    sb_outfile o;
    sb_status s = sb_outfile_open(&o, path, force, err);
    if (!s) s = sb_outfile_write(&o, head, sizeof head, err);
    for (size_t t0 = 0; t0 < m->ntris && !s; t0 += batch) {
        size_t nb = m->ntris - t0 < batch ? m->ntris - t0 : batch;
        memset(buf, 0, nb * STL_TRI_BYTES);
        for (size_t i = 0; i < nb; i++) {
            const uint32_t *tri = m->tris + 3 * (t0 + i);
            const float *p[3] = {m->verts + 3 * (size_t)tri[0], m->verts + 3 * (size_t)tri[1],
                                 m->verts + 3 * (size_t)tri[2]};
            float n[3];
            tri_normal(p[0], p[1], p[2], n);
            uint8_t *q = buf + i * STL_TRI_BYTES;
            for (int k = 0; k < 3; k++) put_f32(q + 4 * k, n[k]);
            for (int v = 0; v < 3; v++)
                for (int k = 0; k < 3; k++) put_f32(q + 12 + 12 * v + 4 * k, p[v][k]);
            /* bytes 48..49: attribute byte count 0 */
        }
        s = sb_outfile_write(&o, buf, nb * STL_TRI_BYTES, err);
    }
    if (!s) s = sb_outfile_commit(&o, err);
    sb_outfile_abort(&o);
    free(buf);
    return s;
}
