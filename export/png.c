/* png.c — 8-bit RGB PNG pictures (slices, previews) with libpng.
 *
 * PNG (ISO/IEC 15948, W3C PNG 2nd edition) through libpng 1.6's write API; libpng reports
 * errors by longjmp to the setjmp point set here (libpng manual, "Setup"), and its warning and
 * error callbacks are replaced so libpng never prints. No time chunk: identical images give
 * identical files. Written through sb_outfile (libpng writes to o.fp).
 */
#include "sb_export.h"

#include <png.h>

#include <setjmp.h>
#include <string.h>

typedef struct png_errctx {
    jmp_buf jmp;
    char msg[256];
} png_errctx;

static void png_on_error(png_structp png, png_const_charp msg) {
    png_errctx *e = png_get_error_ptr(png);
    snprintf(e->msg, sizeof e->msg, "%s", msg ? msg : "libpng error");
    longjmp(e->jmp, 1);
}

static void png_on_warning(png_structp png, png_const_charp msg) {
    (void)png;
    (void)msg;
}

/* Writes the image to fp; returns 0 or -1 with e->msg set. Separate function so that no local
 * of the caller is modified between setjmp and longjmp. */
static int png_write_fp(FILE *fp, const uint8_t *rgb, size_t w, size_t h, png_errctx *e) {
    png_structp png =
        png_create_write_struct(PNG_LIBPNG_VER_STRING, e, png_on_error, png_on_warning);
    if (!png) {
        snprintf(e->msg, sizeof e->msg, "out of memory");
        return -1;
    }
    png_infop info = png_create_info_struct(png);
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        snprintf(e->msg, sizeof e->msg, "out of memory");
        return -1;
    }
    if (setjmp(e->jmp)) {
        png_destroy_write_struct(&png, &info);
        return -1;
    }
    png_init_io(png, fp);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (size_t y = 0; y < h; y++) png_write_row(png, rgb + y * w * 3);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return 0;
}

sb_status sb_png_write_rgb(const uint8_t *rgb, size_t w, size_t h, const char *path, int force,
                           sb_error *err) {
    if (!rgb || !path) return sb_error_set(err, SB_ERR_USAGE, "sb_png_write_rgb: NULL argument");
    if (w == 0 || h == 0 || w > 0x7fffffff / 3 || h > 0x7fffffff)
        return sb_error_set(err, SB_ERR_USAGE, "%s: bad PNG size %zu x %zu", path, w, h);
    sb_outfile o;
    sb_status s = sb_outfile_open(&o, path, force, err);
    if (s) return s;
    png_errctx e;
    memset(&e, 0, sizeof e);
    if (png_write_fp(o.fp, rgb, w, h, &e) != 0)
        s = sb_error_set(err, SB_ERR_OUTPUT, "cannot write %s: libpng: %s", path, e.msg);
    else
        s = sb_outfile_commit(&o, err);
    sb_outfile_abort(&o);
    return s;
}
