/* Real-client test: files written by nibabel (tests/client/export_make_fixtures.py) read by
 * sb_nifti_read, compared to what nibabel said about them (expected.txt): version, byte order,
 * datatype, shape, best affine, axis codes, voxel values, the 4-D warning.
 * Argument or $SB_EXPORT_FIXTURES: the fixture directory (default "fixtures"). */
#include "sb_export.h"
#include "sb_test.h"

#include <stdlib.h>
#include <string.h>

static void count_warnings(void *user, sb_log_level level, const char *msg) {
    (void)msg;
    if (level == SB_LOG_WARN) ++*(int *)user;
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : getenv("SB_EXPORT_FIXTURES");
    if (!dir) dir = "fixtures";
    char path[4096];
    snprintf(path, sizeof path, "%s/expected.txt", dir);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "cannot open %s (run export_make_fixtures.py first)\n", path);
        return 1;
    }
    char key[64], name[256] = "";
    int files = 0, version = 0, big_endian = 0, dtype = 0, ndim = 0, used_sform = 0;
    size_t dim[3] = {0, 0, 0};
    char axcodes[8] = "";
    double aff[12];
    sb_volume *v = NULL;
    sb_nifti_info info;
    int warnings = 0;
    while (fscanf(f, "%63s", key) == 1) {
        if (strcmp(key, "file") == 0) {
            CHECK(fscanf(f, "%255s", name) == 1);
        } else if (strcmp(key, "version") == 0) {
            CHECK(fscanf(f, "%d", &version) == 1);
        } else if (strcmp(key, "big_endian") == 0) {
            CHECK(fscanf(f, "%d", &big_endian) == 1);
        } else if (strcmp(key, "dtype") == 0) {
            CHECK(fscanf(f, "%d", &dtype) == 1);
        } else if (strcmp(key, "dim") == 0) {
            CHECK(fscanf(f, "%zu %zu %zu", &dim[0], &dim[1], &dim[2]) == 3);
        } else if (strcmp(key, "ndim") == 0) {
            CHECK(fscanf(f, "%d", &ndim) == 1);
        } else if (strcmp(key, "axcodes") == 0) {
            CHECK(fscanf(f, "%7s", axcodes) == 1);
        } else if (strcmp(key, "used_sform") == 0) {
            CHECK(fscanf(f, "%d", &used_sform) == 1);
        } else if (strcmp(key, "affine") == 0) {
            for (int i = 0; i < 12; i++) CHECK(fscanf(f, "%lf", &aff[i]) == 1);
            /* all header lines are in: read the file and compare */
            snprintf(path, sizeof path, "%s/%s", dir, name);
            sb_ctx ctx = {0, count_warnings, NULL, &warnings};
            warnings = 0;
            sb_error err = {0};
            sb_volume_free(v);
            v = NULL;
            CHECK_OK(sb_nifti_read(path, &ctx, &v, &info, &err));
            if (!v) {
                fprintf(stderr, "%s: %s\n", path, err.msg);
                break;
            }
            files++;
            fprintf(stderr, "%s: NIfTI-%d %s %s %s\n", name, info.version,
                    info.big_endian ? "big-endian" : "little-endian", sb_dtype_name(v->dtype),
                    info.orient);
            CHECK(info.version == version);
            CHECK(info.big_endian == big_endian);
            CHECK(info.compressed == ends_with(name, ".gz"));
            CHECK((int)v->dtype == dtype && info.datatype == dtype);
            CHECK(v->dim[0] == dim[0] && v->dim[1] == dim[1] && v->dim[2] == dim[2]);
            CHECK(info.ndim == ndim);
            CHECK(strcmp(info.orient, axcodes) == 0);
            CHECK(info.used_sform == used_sform);
            CHECK(warnings == (ndim > 3 ? 1 : 0));
            for (int r = 0; r < 3; r++)
                for (int c = 0; c < 4; c++) CHECK_NEAR(v->affine[r][c], aff[4 * r + c], 1e-5);
            CHECK(v->affine[3][0] == 0 && v->affine[3][3] == 1);
        } else if (strcmp(key, "sample") == 0) {
            size_t i, j, k;
            double val;
            CHECK(fscanf(f, "%zu %zu %zu %lf", &i, &j, &k, &val) == 4);
            if (v && i < v->dim[0] && j < v->dim[1] && k < v->dim[2])
                CHECK(sb_volume_get(v, sb_volume_index(v, i, j, k)) == val);
            else
                CHECK(0);
        } else if (strcmp(key, "end") == 0) {
            name[0] = '\0';
        } else {
            fprintf(stderr, "expected.txt: unknown key %s\n", key);
            CHECK(0);
            break;
        }
    }
    fclose(f);
    sb_volume_free(v);
    CHECK(files == 4);
    TEST_RETURN();
}
