/* Real-client test, first half: writes NIfTI files and a sidecar (written.txt) saying what they
 * must contain; tests/client/export_check_written.py then checks them with nibabel.
 * Argument: the output directory (default "written"). */
#include "sb_export.h"
#include "sb_test.h"

#include <string.h>

typedef struct sample_spec {
    const char *name;
    sb_dtype dtype;
    int intent;
    int kind; /* 0 oblique LAS, 1 axis-aligned RAS, 2 permuted axes */
    size_t dim[3];
} sample_spec;

static void make_affine(int kind, double a[4][4]) {
    memset(a, 0, 16 * sizeof(double));
    a[3][3] = 1;
    if (kind == 0) {
        const double t = 25 * M_PI / 180, u = -12 * M_PI / 180;
        /* Ry(u) * Rz(t) * diag(-0.85, 0.95, 1.7): oblique with a flipped x axis */
        const double Rz[3][3] = {{cos(t), -sin(t), 0}, {sin(t), cos(t), 0}, {0, 0, 1}};
        const double Ry[3][3] = {{cos(u), 0, sin(u)}, {0, 1, 0}, {-sin(u), 0, cos(u)}};
        const double s[3] = {-0.85, 0.95, 1.7};
        for (int r = 0; r < 3; r++)
            for (int c = 0; c < 3; c++) {
                double x = 0;
                for (int k = 0; k < 3; k++) x += Ry[r][k] * Rz[k][c];
                a[r][c] = x * s[c];
            }
        a[0][3] = 120.125, a[1][3] = -95.5, a[2][3] = -250.75;
    } else if (kind == 1) {
        a[0][0] = 1.5, a[1][1] = 1.5, a[2][2] = 3.0;
        a[0][3] = -30, a[1][3] = -20, a[2][3] = -10;
    } else {
        /* voxel i -> posterior, j -> superior, k -> right */
        a[1][0] = -0.5, a[2][1] = 2.0, a[0][2] = 1.25;
        a[0][3] = 5, a[1][3] = 6, a[2][3] = 7;
    }
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "written";
    sb_error err = {0};
    if (sb_mkdir_p(dir, &err) != SB_OK) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    /* the last is over 8 MiB: several gzip members */
    const sample_spec specs[5] = {
        {"oblique_int16.nii.gz", SB_DT_INT16, 0, 0, {23, 19, 13}},
        {"labels_uint16.nii", SB_DT_UINT16, SB_NIFTI_INTENT_LABEL, 1, {23, 19, 13}},
        {"ras_float32.nii.gz", SB_DT_FLOAT32, 0, 1, {23, 19, 13}},
        {"permuted_uint8.nii", SB_DT_UINT8, 0, 2, {23, 19, 13}},
        {"big_labels_uint16.nii.gz", SB_DT_UINT16, SB_NIFTI_INTENT_LABEL, 0, {256, 256, 72}}};
    char path[4096];
    snprintf(path, sizeof path, "%s/written.txt", dir);
    FILE *side = fopen(path, "w");
    if (!side) {
        fprintf(stderr, "cannot write %s\n", path);
        return 1;
    }
    for (int s = 0; s < 5; s++) {
        const size_t *dim = specs[s].dim;
        double sp[3] = {1, 1, 1};
        sb_volume *v = NULL;
        CHECK_OK(sb_volume_create(dim, sp, specs[s].dtype, &v, &err));
        if (!v) break;
        make_affine(specs[s].kind, v->affine);
        sb_volume_update_spacing(v);
        sb_rng r;
        sb_rng_init(&r, 99, (uint32_t)s, SB_STREAM_NOISE);
        size_t n = sb_volume_nvox(v);
        double sum = 0;
        for (size_t i = 0; i < n; i++) {
            switch (v->dtype) {
            case SB_DT_INT16:
                ((int16_t *)v->data)[i] = (int16_t)((int)(sb_rng_u32(&r) % 4000) - 1000);
                break;
            case SB_DT_UINT16:
                ((uint16_t *)v->data)[i] = (uint16_t)(i / 211 % 70);
                break;
            case SB_DT_FLOAT32:
                ((float *)v->data)[i] = (float)sb_rng_normal(&r);
                break;
            default:
                ((uint8_t *)v->data)[i] = (uint8_t)sb_rng_u32(&r);
            }
            sum += sb_volume_get(v, i);
        }
        snprintf(path, sizeof path, "%s/%s", dir, specs[s].name);
        CHECK_OK(sb_nifti_write(v, path, 1, specs[s].intent, "synthbody test", &err));
        char ax[4];
        sb_affine_axcodes(v->affine, ax);
        fprintf(side,
                "file %s\ndim %zu %zu %zu\ndtype %d\nintent %d\naxcodes %s\nsum %.17g\naffine",
                specs[s].name, dim[0], dim[1], dim[2], (int)v->dtype, specs[s].intent, ax, sum);
        for (int i = 0; i < 3; i++)
            for (int c = 0; c < 4; c++) fprintf(side, " %.17g", v->affine[i][c]);
        fprintf(side, "\n");
        const size_t pick[4][3] = {{0, 0, 0}, {22, 18, 12}, {5, 7, 9}, {17, 2, 11}};
        for (int p = 0; p < 4; p++)
            fprintf(side, "sample %zu %zu %zu %.17g\n", pick[p][0], pick[p][1], pick[p][2],
                    sb_volume_get(v, sb_volume_index(v, pick[p][0], pick[p][1], pick[p][2])));
        fprintf(side, "end\n");
        sb_volume_free(v);
    }
    CHECK(fclose(side) == 0);
    TEST_RETURN();
}
