/* Unit tests of the foundation: Philox known answers, RNG streams, volume, labels, outfile. */
#include "sb_core.h"
#include "sb_test.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_philox_kat(void) {
    /* Random123 kat_vectors: philox4x32 10 */
    static const uint32_t v[3][10] = {
        {0, 0, 0, 0, 0, 0, 0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8},
        {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0x408f276d,
         0x41c83b0e, 0xa20bc7c6, 0x6d5451fd},
        {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0, 0xd16cfe09,
         0x94fdcceb, 0x5001e420, 0x24126ea1}};
    for (int t = 0; t < 3; t++) {
        uint32_t out[4];
        sb_philox4x32_10(v[t], v[t] + 4, out);
        for (int i = 0; i < 4; i++) CHECK(out[i] == v[t][6 + i]);
    }
}

static void test_rng_streams(void) {
    sb_rng a, b;
    sb_rng_init(&a, 42, 0, SB_STREAM_NOISE);
    sb_rng_init(&b, 42, 0, SB_STREAM_NOISE);
    uint32_t seq[16];
    for (int i = 0; i < 16; i++) seq[i] = sb_rng_u32(&a);
    for (int i = 0; i < 16; i++) CHECK(sb_rng_u32(&b) == seq[i]);
    /* seeking to block 2 gives the 9th number onwards */
    sb_rng_seek(&b, 2);
    CHECK(sb_rng_u32(&b) == seq[8]);
    /* other subject, stream or seed: other numbers */
    sb_rng c;
    sb_rng_init(&c, 42, 1, SB_STREAM_NOISE);
    CHECK(sb_rng_u32(&c) != seq[0]);
    sb_rng_init(&c, 42, 0, SB_STREAM_ANATOMY);
    CHECK(sb_rng_u32(&c) != seq[0]);
    sb_rng_init(&c, 43, 0, SB_STREAM_NOISE);
    CHECK(sb_rng_u32(&c) != seq[0]);
    /* moments of uniform and normal */
    double su = 0, sn = 0, sn2 = 0;
    int n = 200000;
    for (int i = 0; i < n; i++) {
        double u = sb_rng_uniform(&a);
        CHECK(u >= 0.0 && u < 1.0);
        su += u;
        double z = sb_rng_normal(&a);
        sn += z;
        sn2 += z * z;
    }
    CHECK_NEAR(su / n, 0.5, 0.005);
    CHECK_NEAR(sn / n, 0.0, 0.01);
    CHECK_NEAR(sn2 / n, 1.0, 0.02);
}

static void test_volume(void) {
    size_t dim[3] = {5, 4, 3};
    double sp[3] = {2.0, 3.0, 4.0};
    sb_volume *v = NULL;
    sb_error err = {0};
    CHECK_OK(sb_volume_create(dim, sp, SB_DT_INT16, &v, &err));
    if (!v) return;
    CHECK(sb_volume_nvox(v) == 60);
    CHECK(sb_volume_index(v, 1, 2, 1) == 1 + 5 * (2 + 4 * 1));
    ((int16_t *)v->data)[sb_volume_index(v, 4, 3, 2)] = -7;
    CHECK(sb_volume_get(v, 59) == -7.0);
    double ijk[3] = {1, 1, 1}, xyz[3];
    sb_volume_to_world(v, ijk, xyz);
    CHECK(xyz[0] == 2.0 && xyz[1] == 3.0 && xyz[2] == 4.0);
    sb_volume_free(v);
    sb_volume_free(NULL);
    /* overflow and absurd sizes are refused before allocating */
    size_t huge[3] = {SIZE_MAX / 2, 4, 4};
    CHECK(sb_volume_create(huge, sp, SB_DT_UINT8, &v, &err) == SB_ERR_MEMORY);
    CHECK(v == NULL);
    size_t big[3] = {100000, 100000, 100000};
    CHECK(sb_volume_create(big, sp, SB_DT_UINT8, &v, &err) == SB_ERR_MEMORY);
    CHECK(strstr(err.msg, "GiB") != NULL);
    double bad[3] = {1, 0, 1};
    CHECK(sb_volume_create(dim, bad, SB_DT_UINT8, &v, &err) == SB_ERR_USAGE);
}

static void test_labels(void) {
    sb_label_table *t = sb_labels_create();
    sb_error err = {0};
    sb_label l = {.id = 5, .name = "liver", .group = "digestive", .rgba = {200, 100, 50, 255}};
    CHECK_OK(sb_labels_add(t, &l, &err));
    CHECK(sb_labels_add(t, &l, &err) == SB_ERR_USAGE); /* duplicate id */
    l.id = 6;
    CHECK(sb_labels_add(t, &l, &err) == SB_ERR_USAGE); /* duplicate name */
    strcpy(l.name, "../evil");
    CHECK(sb_labels_add(t, &l, &err) == SB_ERR_USAGE);
    l.id = 0;
    strcpy(l.name, "zero");
    CHECK(sb_labels_add(t, &l, &err) == SB_ERR_USAGE);
    CHECK(sb_labels_find_id(t, 5) && strcmp(sb_labels_find_id(t, 5)->name, "liver") == 0);
    CHECK(sb_labels_find_name(t, "liver")->id == 5);
    CHECK(sb_labels_find_id(t, 6) == NULL);
    sb_labels_free(t);
    sb_labels_free(NULL);
}

static void test_outfile(void) {
    char dir[] = "/tmp/sb_test_outfile_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[512];
    sb_error err = {0};
    CHECK_OK(sb_path_join(path, sizeof path, dir, "a.txt", &err));
    sb_outfile o;
    CHECK_OK(sb_outfile_open(&o, path, 0, &err));
    CHECK(!sb_path_exists(path)); /* nothing at the final name before commit */
    CHECK_OK(sb_outfile_write(&o, "hello", 5, &err));
    CHECK_OK(sb_outfile_commit(&o, &err));
    CHECK(sb_path_exists(path));
    CHECK(sb_outfile_open(&o, path, 0, &err) == SB_ERR_EXISTS);
    CHECK(strstr(err.msg, "a.txt") != NULL);
    /* abort leaves the old file and no temporary */
    CHECK_OK(sb_outfile_open(&o, path, 1, &err));
    char tmp[4096];
    strcpy(tmp, o.tmp_path);
    sb_outfile_abort(&o);
    CHECK(!sb_path_exists(tmp));
    FILE *f = fopen(path, "rb");
    char buf[8] = {0};
    CHECK(f && fread(buf, 1, 8, f) == 5 && memcmp(buf, "hello", 5) == 0);
    if (f) fclose(f);
    unlink(path);
    rmdir(dir);
    CHECK(sb_mkdir_p("/proc/sb_cannot", &err) == SB_ERR_OUTPUT);
}

int main(void) {
    test_philox_kat();
    test_rng_streams();
    test_volume();
    test_labels();
    test_outfile();
    TEST_RETURN();
}
