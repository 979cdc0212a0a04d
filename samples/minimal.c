/* minimal.c — the smallest synthbody program: one subject, its 8 mm label map, one NIfTI file.
 *
 * Uses the installed public headers only (<prefix>/include/synthbody):
 *   sb_subject_sample        seed -> sex, age, height, BMI, fat          (sb_volume.h)
 *   sb_anatomy_load_default  the built-in anatomy description            (sb_volume.h)
 *   sb_anatomy_voxelize      anatomy x subject -> uint16 label map, RAS+ (sb_volume.h)
 *   sb_nifti_write           label map -> <out_dir>/labels.nii.gz        (sb_export.h)
 *
 * Usage: minimal OUT_DIR [SEED]
 * Prints one line describing the subject and the file; the exit code is the sb_status
 * (0 success, 2 usage, 4 output not writable, 5 out of memory, 6 file exists, ...), as for the
 * `synthbody` command. Build: see README.md beside this file.
 */
#include "sb_core.h"
#include "sb_export.h"
#include "sb_volume.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s OUT_DIR [SEED]\n", argv[0]);
        return SB_ERR_USAGE;
    }
    const char *out_dir = argv[1];
    sb_error err = {SB_OK, ""};

    /* 1. Who: everything sampled from the seed (sex, age, height, BMI <= 0 mean "sample"). */
    sb_subject_request req;
    memset(&req, 0, sizeof req);
    req.seed = argc == 3 ? strtoull(argv[2], NULL, 10) : 1;
    req.sex = SB_SEX_RANDOM;
    sb_subject subject;
    sb_status st = sb_subject_sample(&req, &subject, &err);

    /* 2. Anatomy: the built-in description (sb_anatomy_load(path) reads your own JSON), mapped
     * onto the subject as a label map at 8 mm (fast; the command's default is 2 mm). NULL for
     * the tissue map: not needed here. A zeroed sb_ctx means no logging, no progress and
     * OpenMP's thread count. */
    sb_anatomy *anatomy = NULL;
    if (!st) st = sb_anatomy_load_default(&anatomy, &err);
    sb_ctx ctx;
    memset(&ctx, 0, sizeof ctx);
    sb_volume *labels = NULL;
    if (!st) st = sb_anatomy_voxelize(anatomy, &subject, 8.0, &ctx, &labels, NULL, &err);

    /* 3. Output: labels.nii.gz, written atomically; force = 1 replaces an earlier run's file. */
    char path[4096];
    if (!st) st = sb_mkdir_p(out_dir, &err);
    if (!st) st = sb_path_join(path, sizeof path, out_dir, "labels.nii.gz", &err);
    if (!st)
        st = sb_nifti_write(labels, path, 1, SB_NIFTI_INTENT_LABEL, "synthbody minimal sample",
                            &err);

    if (st) {
        fprintf(stderr, "minimal: %s: %s\n", sb_status_name(st), err.msg);
    } else {
        printf("%s, %.0f y, %.1f cm, BMI %.1f: %zux%zux%zu labels at 8 mm -> %s\n",
               subject.sex == SB_SEX_MALE ? "male" : "female", subject.age_y, subject.height_cm,
               subject.bmi, labels->dim[0], labels->dim[1], labels->dim[2], path);
    }
    sb_volume_free(labels);
    sb_anatomy_free(anatomy);
    return (int)st;
}
