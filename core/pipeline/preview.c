/* preview.c — `synthbody preview`: sagittal, coronal and axial slices through the volume's
 * centre in one PNG, optionally with label colours blended in.
 *
 * Slices are resampled in world space (nearest neighbour through the inverse affine), so any
 * orientation (LAS, oblique) is drawn the same way: radiological convention — the subject's
 * right on the left of the coronal and axial panels, anterior on the left of the sagittal
 * panel, superior (axial: anterior) at the top. Pixel size 1 mm, coarser for tall volumes so
 * the picture is at most ~1000 pixels high. Grey levels: 0 to the 99.5th percentile.
 */
#include "sb_pipeline.h"

#include "internal.h"
#include "sb_export.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int vol_sampler_init(vol_sampler *s, const sb_volume *v) {
    const double(*a)[4] = v->affine;
    double det = a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1]) -
                 a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0]) +
                 a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0]);
    if (!(fabs(det) > 0)) return 0;
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 3; c++) {
            int r1 = (c + 1) % 3, r2 = (c + 2) % 3, c1 = (r + 1) % 3, c2 = (r + 2) % 3;
            s->inv[r][c] = (a[r1][c1] * a[r2][c2] - a[r1][c2] * a[r2][c1]) / det;
        }
    for (int r = 0; r < 3; r++)
        s->inv[r][3] = -(s->inv[r][0] * a[0][3] + s->inv[r][1] * a[1][3] + s->inv[r][2] * a[2][3]);
    s->v = v;
    return 1;
}

size_t vol_sample(const vol_sampler *s, const double p[3]) {
    size_t idx[3];
    for (int r = 0; r < 3; r++) {
        double x = s->inv[r][0] * p[0] + s->inv[r][1] * p[1] + s->inv[r][2] * p[2] + s->inv[r][3];
        double k = floor(x + 0.5);
        if (k < 0 || k >= (double)s->v->dim[r]) return SIZE_MAX;
        idx[r] = (size_t)k;
    }
    return sb_volume_index(s->v, idx[0], idx[1], idx[2]);
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double vol_percentile995(const sb_volume *v) {
    size_t n = sb_volume_nvox(v), step = n / 200000 + 1, m = 0;
    double *buf = malloc((n / step + 1) * sizeof *buf);
    if (!buf) return 1.0;
    for (size_t i = 0; i < n; i += step) buf[m++] = sb_volume_get(v, i);
    qsort(buf, m, sizeof *buf, cmp_double);
    double hi = buf[(size_t)(0.995 * (double)(m - 1))];
    free(buf);
    return hi > 0 ? hi : 1.0;
}

static void label_colour(const sb_label_table *t, int id, uint8_t rgb[3]) {
    const sb_label *l = t ? sb_labels_find_id(t, id) : NULL;
    if (l && l->rgba[3]) {
        memcpy(rgb, l->rgba, 3);
        return;
    }
    uint32_t h = (uint32_t)id * 2654435761u; /* no colour known: a fixed pseudo-random one */
    rgb[0] = (uint8_t)(64 + (h >> 8) % 192), rgb[1] = (uint8_t)(64 + (h >> 16) % 192);
    rgb[2] = (uint8_t)(64 + (h >> 24) % 192);
}

typedef struct {
    int axis_u, axis_v; /* world axes along picture columns and rows */
    int axis_n;         /* the normal */
    double at;          /* world coordinate of the slice along the normal */
    size_t x0, y0;      /* place in the picture */
} panel;

/* DIR/STEM.nii.gz, or DIR/STEM.nii when only that one exists (generate --compress none);
 * when neither does, the .nii.gz name (the reader's error names it). */
static sb_status image_in_dir(const char *dir, const char *stem, char *out, size_t n,
                              sb_error *err) {
    char name[256], alt[4096];
    snprintf(name, sizeof name, "%.200s.nii.gz", stem);
    sb_status s = sb_path_join(out, n, dir, name, err);
    if (s || sb_path_exists(out)) return s;
    snprintf(name, sizeof name, "%.200s.nii", stem);
    if (!sb_path_join(alt, sizeof alt, dir, name, NULL) && sb_path_exists(alt))
        snprintf(out, n, "%s", alt);
    return SB_OK;
}

sb_status sb_pipeline_preview(const sb_preview_opts *opts, const sb_ctx *ctx, sb_error *err) {
    struct stat st;
    int is_dir = stat(opts->input, &st) == 0 && S_ISDIR(st.st_mode);
    char img_path[4096], lab_path[4096];
    const char *contrast = opts->contrast ? opts->contrast : "T1w";
    sb_status s;
    if (is_dir) {
        if ((s = image_in_dir(opts->input, contrast, img_path, sizeof img_path, err)) ||
            (s = image_in_dir(opts->input, opts->overlay_map ? opts->overlay_map : "labels",
                              lab_path, sizeof lab_path, err)))
            return s; /* overlay_map: another label map of the directory, its own colours */
    } else {
        snprintf(img_path, sizeof img_path, "%s", opts->input);
        snprintf(lab_path, sizeof lab_path, "%s", opts->input);
    }
    if (!opts->force && sb_path_exists(opts->out_png))
        return sb_error_set(err, SB_ERR_EXISTS, "%s exists (use --force to overwrite)",
                            opts->out_png);
    sb_volume *img = NULL, *lab = NULL;
    sb_label_table *names = NULL;
    uint8_t *rgb = NULL;
    if ((s = sb_nifti_read(img_path, ctx, &img, NULL, err))) return s;
    if (opts->overlay) {
        if (!is_dir) {
            s = sb_error_set(err, SB_ERR_USAGE,
                             "--overlay needs a generate output directory, not a file (%s)",
                             opts->input);
            goto done;
        }
        if ((s = sb_nifti_read(lab_path, ctx, &lab, NULL, err))) goto done;
        if (opts->overlay_map) {
            char tsv[4096], name[256];
            snprintf(name, sizeof name, "%.200s.tsv", opts->overlay_map);
            if (!sb_path_join(tsv, sizeof tsv, opts->input, name, NULL)) names = read_dseg_tsv(tsv);
        } else {
            names = sibling_dseg_tsv(lab_path);
        }
    }
    vol_sampler si, sl;
    if (!vol_sampler_init(&si, img) || (lab && !vol_sampler_init(&sl, lab))) {
        s = sb_error_set(err, SB_ERR_INPUT, "%s: singular affine", img_path);
        goto done;
    }
    /* World bounding box of the image's voxel centres. */
    double lo[3] = {INFINITY, INFINITY, INFINITY}, hi[3] = {-INFINITY, -INFINITY, -INFINITY};
    for (int c = 0; c < 8; c++) {
        double ijk[3] = {(c & 1) ? (double)img->dim[0] - 1 : 0,
                         (c & 2) ? (double)img->dim[1] - 1 : 0,
                         (c & 4) ? (double)img->dim[2] - 1 : 0},
               w[3];
        sb_volume_to_world(img, ijk, w);
        for (int a = 0; a < 3; a++) lo[a] = fmin(lo[a], w[a]), hi[a] = fmax(hi[a], w[a]);
    }
    double ext_max = fmax(hi[0] - lo[0], fmax(hi[1] - lo[1], hi[2] - lo[2]));
    double px = fmax(1.0, ext_max / 1000.0);
    /* sagittal and coronal through the centre, then the axial slices stacked in a third
     * column: at the requested fractions of the height, or one through the centre */
    panel panels[2 + SB_PREVIEW_MAX_AXIAL];
    int np = 0;
    panels[np++] = (panel){1, 2, 0, opts->has_at ? opts->at[0] : 0.5 * (lo[0] + hi[0]), 0, 0};
    panels[np++] = (panel){0, 2, 1, opts->has_at ? opts->at[1] : 0.5 * (lo[1] + hi[1]), 0, 0};
    if (opts->naxial == 0) panels[np++] = (panel){0, 1, 2, 0.5 * (lo[2] + hi[2]), 0, 0};
    for (int i = 0; i < opts->naxial && i < SB_PREVIEW_MAX_AXIAL; i++)
        panels[np++] = (panel){0, 1, 2, lo[2] + opts->axial[i] * (hi[2] - lo[2]), 0, 0};
    size_t pw[2 + SB_PREVIEW_MAX_AXIAL], ph[2 + SB_PREVIEW_MAX_AXIAL], W = 0, Hpx = 0, gap = 4;
    size_t col_y = 0;
    for (int i = 0; i < np; i++) {
        pw[i] = (size_t)((hi[panels[i].axis_u] - lo[panels[i].axis_u]) / px) + 1;
        ph[i] = (size_t)((hi[panels[i].axis_v] - lo[panels[i].axis_v]) / px) + 1;
        if (i < 2) { /* side by side */
            panels[i].x0 = W + (i ? gap : 0);
            W = panels[i].x0 + pw[i];
            if (ph[i] > Hpx) Hpx = ph[i];
        } else { /* the third column */
            panels[i].x0 = W + gap;
            panels[i].y0 = col_y;
            col_y += ph[i] + gap;
        }
    }
    if (np > 2) {
        W += gap + pw[2];
        if (col_y - gap > Hpx) Hpx = col_y - gap;
    }
    for (int i = 0; i < 2; i++) panels[i].y0 = (Hpx - ph[i]) / 2;
    rgb = calloc(W * Hpx * 3, 1);
    if (!rgb) {
        s = sb_error_set(err, SB_ERR_MEMORY, "out of memory for a %zux%zu picture", W, Hpx);
        goto done;
    }
    double gmax = vol_percentile995(img);
    for (int i = 0; i < np; i++) {
        const panel *pn = &panels[i];
        for (size_t v = 0; v < ph[i]; v++)
            for (size_t u = 0; u < pw[i]; u++) {
                double p[3];
                p[pn->axis_n] = pn->at;
                p[pn->axis_u] = hi[pn->axis_u] - (double)u * px; /* R or A on the left */
                p[pn->axis_v] = hi[pn->axis_v] - (double)v * px; /* S or A at the top */
                size_t n = vol_sample(&si, p);
                if (n == SIZE_MAX) continue;
                double g = 255.0 * sb_volume_get(img, n) / gmax;
                double c[3] = {g, g, g};
                if (lab) {
                    size_t m = vol_sample(&sl, p);
                    int id = m == SIZE_MAX ? 0 : (int)sb_volume_get(lab, m);
                    if (id > 0) {
                        uint8_t col[3];
                        label_colour(names, id, col);
                        for (int k = 0; k < 3; k++) c[k] = 0.55 * c[k] + 0.45 * col[k];
                    }
                }
                uint8_t *o = rgb + 3 * ((pn->y0 + v) * W + pn->x0 + u);
                for (int k = 0; k < 3; k++) o[k] = (uint8_t)fmin(255.0, fmax(0.0, c[k]));
            }
    }
    s = sb_png_write_rgb(rgb, W, Hpx, opts->out_png, opts->force, err);
done:
    free(rgb);
    sb_labels_free(names);
    sb_volume_free(lab);
    sb_volume_free(img);
    return s;
}
