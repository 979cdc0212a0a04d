/* fuzz_nifti.c — NIfTI-1/2 header and data through our reading path (sb_nifti_read, then
 * `synthbody info`'s report on it), plain and gzip.
 *
 * Inputs are whole files, so the seeds are real files (nibabel's test data, our outputs) and
 * a finding is a file `synthbody info` can be run on. A custom mutator keeps gzip inputs
 * gzip: it inflates them, mutates the NIfTI inside and deflates again (mutating the deflate
 * stream itself would mostly break its checksum); now and then it swaps plain for gzip.
 *
 * Promises checked on success: dims >= 1 and their byte count fits; spacing finite and > 0;
 * affine finite and non-singular; a plain file held every data byte. On failure: status
 * SB_ERR_INPUT or SB_ERR_MEMORY with a message. Allocations are bounded by the file (run with
 * -malloc_limit_mb, see tests/fuzz/CMakeLists.txt). */
#include "fuzz_util.h"
#include "sb_export.h"
#include "sb_pipeline.h"

#include <math.h>
#include <zlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);

static FILE *devnull;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const char *path = fuzz_write_file(data, size, ".nii");
    int gz = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
    sb_volume *v = NULL;
    sb_nifti_info info;
    sb_error err = {0};
    sb_status s = sb_nifti_read(path, NULL, &v, &info, &err);
    if (s) {
        FUZZ_CHECK_ERROR(s, err);
        FUZZ_CHECK(v == NULL, "volume returned with an error");
        return 0;
    }
    size_t nbytes = sb_volume_bytes_needed(v->dim, v->dtype);
    FUZZ_CHECK(nbytes > 0, "dims %zu %zu %zu", v->dim[0], v->dim[1], v->dim[2]);
    if (!gz) FUZZ_CHECK(nbytes <= size, "%zu data bytes from a %zu-byte file", nbytes, size);
    for (int d = 0; d < 3; d++)
        FUZZ_CHECK(isfinite(v->spacing[d]) && v->spacing[d] > 0, "spacing[%d] %g", d,
                   v->spacing[d]);
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 4; c++)
            FUZZ_CHECK(isfinite(v->affine[r][c]), "affine[%d][%d] %g", r, c, v->affine[r][c]);
    FUZZ_CHECK(info.ndim >= 1 && info.ndim <= 7, "ndim %d", info.ndim);
    /* every byte of the data is readable (ASan checks the extent) */
    const uint8_t *p = v->data;
    unsigned acc = 0;
    for (size_t i = 0; i < nbytes; i++) acc += p[i];
    (void)acc;
    sb_volume_free(v);

    if (!devnull) devnull = fopen("/dev/null", "w");
    sb_error err2 = {0};
    s = sb_pipeline_info(path, devnull, NULL, &err2);
    FUZZ_CHECK(s == SB_OK, "info failed after a successful read: %s", err2.msg);
    return 0;
}

#ifdef SB_LIBFUZZER /* libFuzzer builds only: the standalone runner has no mutator */
/* ---- gzip-aware mutation ----------------------------------------------------------------- */
static uint8_t scratch[1 << 22];

static size_t gunzip_all(const uint8_t *in, size_t n, uint8_t *out, size_t cap) {
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 16) != Z_OK) return 0;
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    int r;
    while ((r = inflate(&z, Z_NO_FLUSH)) == Z_STREAM_END && z.avail_in > 0)
        inflateReset(&z); /* next gzip member */
    size_t got = cap - z.avail_out;
    inflateEnd(&z);
    return r == Z_STREAM_END || r == Z_OK || r == Z_BUF_ERROR ? got : 0;
}

static size_t gzip_all(const uint8_t *in, size_t n, uint8_t *out, size_t cap) {
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return 0;
    z.next_in = (Bytef *)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    int r = deflate(&z, Z_FINISH);
    size_t got = cap - z.avail_out;
    deflateEnd(&z);
    return r == Z_STREAM_END ? got : 0;
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed) {
    int gz = size >= 2 && data[0] == 0x1f && data[1] == 0x8b;
    int flip = seed % 16 == 0; /* now and then: plain <-> gzip */
    if (!gz) {
        size = LLVMFuzzerMutate(data, size, max_size);
        if (!flip) return size;
        size_t n = gzip_all(data, size, scratch, sizeof scratch);
        if (n == 0 || n > max_size) return size;
        memcpy(data, scratch, n);
        return n;
    }
    size_t n = gunzip_all(data, size, scratch, sizeof scratch / 2);
    if (n == 0) return LLVMFuzzerMutate(data, size, max_size);
    n = LLVMFuzzerMutate(scratch, n, sizeof scratch / 2);
    if (flip && n <= max_size) {
        memcpy(data, scratch, n);
        return n;
    }
    size_t z = gzip_all(scratch, n, scratch + sizeof scratch / 2, sizeof scratch / 2);
    if (z == 0 || z > max_size) return LLVMFuzzerMutate(data, size, max_size);
    memcpy(data, scratch + sizeof scratch / 2, z);
    return z;
}
#endif
