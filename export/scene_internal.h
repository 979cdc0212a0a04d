/* scene_internal.h — private to export/: a buffered writer over sb_outfile with a sticky error,
 * fast fixed-point number formatting, and the scene frame, shared by the mesh scene writers
 * (scene.c, glb.c, threemf.c). */
#ifndef SB_SCENE_INTERNAL_H
#define SB_SCENE_INTERNAL_H

#include "sb_export.h"

/* Buffered output: bytes gather in a 1 MiB buffer and go to the sb_outfile in large writes.
 * The first failure is kept (s, err) and later calls do nothing. */
typedef struct bufw {
    sb_outfile o;
    unsigned char *buf;
    size_t n, cap;
    sb_status s;
    sb_error *err;
    int open;
} bufw;

sb_status bufw_open(bufw *w, const char *path, int force, sb_error *err);
void bufw_put(bufw *w, const void *p, size_t n);
void bufw_str(bufw *w, const char *s);
void bufw_printf(bufw *w, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Flushes and commits (rename); returns the first error of the whole write. */
sb_status bufw_commit(bufw *w);
/* Removes the temporary file (no-op after commit); frees the buffer. */
void bufw_abort(bufw *w);

/* v as a decimal with at most `decimals` (<= 9) fractional digits, trailing zeros dropped,
 * rounded half away from zero: exact and locale-free, ~10x faster than printf("%g").
 * Writes at most 32 bytes, no terminating NUL; returns the length. |v| < 9e9 assumed (else
 * falls back to %.9g). */
size_t fmt_fixed(char *out, double v, int decimals);

/* v in decimal, no sign, no NUL; at most 20 bytes; returns the length. */
size_t fmt_uint(char *out, uint64_t v);

/* Decimals that keep positions to 10 nm in the frame's unit (mm: 5, m: 8). */
int frame_decimals(const sb_scene_frame *f);

/* p_file = scale * R * p_world (see sb_scene_frame). */
static inline void frame_apply(const sb_scene_frame *f, const float *in, float out[3]) {
    double s = f->scale;
    if (f->up_y) {
        out[0] = (float)(-s * in[0]);
        out[1] = (float)(s * in[2]);
        out[2] = (float)(s * in[1]);
    } else {
        out[0] = (float)(s * in[0]);
        out[1] = (float)(s * in[1]);
        out[2] = (float)(s * in[2]);
    }
}

/* Checks the arguments every scene writer takes; SB_ERR_USAGE naming path. */
sb_status scene_check(const sb_scene_mesh *meshes, size_t n, const sb_scene_frame *frame,
                      const char *path, sb_error *err);

/* Deflate of text[0..n) made of lines alike (export/deflate_lines.c): anchor[k] (nanchor
 * increasing positions, `stride` per line) is matched against anchor[k - stride]. One
 * dynamic-Huffman block and an empty stored block (sync flush): byte-aligned, not final.
 * Returns the compressed size, 0 if out of memory or cap < deflate_lines_bound(n). */
size_t deflate_lines(const char *text, size_t n, const uint32_t *anchor, size_t nanchor,
                     size_t stride, uint8_t *out, size_t cap);
size_t deflate_lines_bound(size_t n);

/* Deflate of an image's bytes in[0..n), elements of es bytes (export/deflate_lines.c): one
 * final deflate stream of Huffman-only blocks (runs of equal elements as matches where they
 * are common). Returns the compressed size, 0 if out of memory or cap <
 * deflate_image_bound(n). */
size_t deflate_image(const uint8_t *in, size_t n, size_t es, uint8_t *out, size_t cap);
size_t deflate_image_bound(size_t n);

sb_status scene_write_glb(const sb_scene_mesh *meshes, size_t n, const sb_scene_frame *frame,
                          const char *title, const char *path, int force, sb_error *err);
sb_status scene_write_3mf(const sb_scene_mesh *meshes, size_t n, const sb_scene_frame *frame,
                          const char *title, const char *path, int force, int threads,
                          sb_error *err);

#endif
