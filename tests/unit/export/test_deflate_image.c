/* Unit tests of deflate_image (export/deflate_lines.c), the deflate encoder of intensity images
 * in .nii.gz: every stream inflates (zlib and libdeflate, which refuses incomplete codes) to
 * the input; noisy int16 images within a few percent of zlib level 1's size; runs of equal
 * elements (noiseless air, zeros) coded as matches; incompressible bytes stored, also where
 * the sampled bytes the codes come from are compressible; odd sizes, element sizes 1, 2, 4, 8
 * and an empty input. */
#include "sb_core.h"
#include "sb_test.h"

#include <libdeflate.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* export/scene_internal.h (not installed) */
size_t deflate_image(const uint8_t *in, size_t n, size_t es, uint8_t *out, size_t cap);
size_t deflate_image_bound(size_t n);

/* Deflates in[0..n) and checks both inflaters give it back; returns the compressed size. */
static size_t round_trip(const uint8_t *in, size_t n, size_t es, const char *what) {
    size_t cap = deflate_image_bound(n);
    uint8_t *z = malloc(cap), *back = malloc(n + 1);
    size_t zn = z && back ? deflate_image(in, n, es, z, cap) : 0;
    CHECK(zn > 0);
    CHECK(deflate_image(in, n, es, z, cap - 1) == 0); /* too small a buffer: refused */
    zn = deflate_image(in, n, es, z, cap);
    z_stream s;
    memset(&s, 0, sizeof s);
    CHECK(inflateInit2(&s, -15) == Z_OK);
    s.next_in = z, s.avail_in = (uInt)zn, s.next_out = back, s.avail_out = (uInt)(n + 1);
    int r = inflate(&s, Z_FINISH);
    CHECK(r == Z_STREAM_END);
    CHECK(s.total_out == n && s.avail_in == 0);
    CHECK(n == 0 || memcmp(back, in, n) == 0);
    inflateEnd(&s);
    struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
    size_t got = 0, used = 0;
    CHECK(d && libdeflate_deflate_decompress_ex(d, z, zn, back, n + 1, &used, &got) ==
                   LIBDEFLATE_SUCCESS);
    CHECK(got == n && used == zn);
    CHECK(n == 0 || memcmp(back, in, n) == 0);
    libdeflate_free_decompressor(d);
    printf("%-34s %9zu -> %9zu bytes (%.2fx)\n", what, n, zn, zn ? (double)n / (double)zn : 0);
    free(z), free(back);
    return zn;
}

static size_t zlib1_size(const uint8_t *in, size_t n) {
    uLongf cap = compressBound((uLong)n);
    uint8_t *z = malloc(cap);
    CHECK(z && compress2(z, &cap, in, (uLong)n, 1) == Z_OK);
    free(z);
    return (size_t)cap;
}

/* A standard normal from the rng (Box-Muller). */
static double normal(sb_rng *r) {
    double u1 = (sb_rng_u32(r) + 0.5) / 4294967296.0, u2 = sb_rng_u32(r) / 4294967296.0;
    return sqrt(-2 * log(u1)) * cos(2 * M_PI * u2);
}

int main(void) {
    sb_rng rng;
    sb_rng_init(&rng, 7, 0, SB_STREAM_NOISE);
    /* an int16 "image": rows of Rayleigh air (sigma 16 counts) around a body of tissue at
     * 480 and 800 counts with Gaussian noise of 16: what our MR images hold */
    const size_t nx = 300, ny = 200, nz = 12, n = nx * ny * nz;
    int16_t *img = malloc(n * sizeof *img);
    for (size_t i = 0; i < n; i++) {
        size_t x = i % nx, y = i / nx % ny;
        int inside = (x - 150.0) * (x - 150.0) / 10000 + (y - 100.0) * (y - 100.0) / 4900 < 1;
        double mean = !inside ? 0 : x < 150 ? 480 : 800;
        double re = mean + 16 * normal(&rng), im = 16 * normal(&rng);
        img[i] = (int16_t)lrint(sqrt(re * re + im * im));
    }
    size_t zi = round_trip((const uint8_t *)img, 2 * n, 2, "noisy int16 image");
    size_t z1 = zlib1_size((const uint8_t *)img, 2 * n);
    printf("zlib level 1: %zu bytes; deflate_image / zlib = %.3f\n", z1, (double)zi / (double)z1);
    CHECK(zi < 2 * n * 10 / 16); /* better than 1.6x */
    CHECK(zi < z1 * 118 / 100);  /* at most 18 % above zlib level 1 (13 % here) */
    round_trip((const uint8_t *)img + 1, 2 * n - 3, 2, "the same, odd offset and length");
    /* high bytes of every value (the codes a byte at a time, not an element at a time) */
    int16_t *wide = malloc(n * sizeof *wide);
    for (size_t i = 0; i < n; i++) wide[i] = (int16_t)lrint(3000 * normal(&rng));
    zi = round_trip((const uint8_t *)wide, 2 * n, 2, "int16, sd 3000");
    CHECK(zi < 2 * n * 100 / 105); /* better than 1.05x */
    free(wide);

    /* noiseless: air 0, a body of constant tissues: runs at the element's distance */
    for (size_t i = 0; i < n; i++) img[i] = (int16_t)(i % nx < 100 ? 0 : i % nx < 200 ? 480 : 801);
    size_t zr = round_trip((const uint8_t *)img, 2 * n, 2, "noiseless int16 (runs)");
    CHECK(zr < 2 * n / 80); /* more than 80x */
    float *f = malloc(n * sizeof *f);
    for (size_t i = 0; i < n; i++) f[i] = i % nx < 150 ? 0.0f : 123.25f;
    zr = round_trip((const uint8_t *)f, 4 * n, 4, "noiseless float32 (runs)");
    CHECK(zr < 4 * n / 100);
    double *dd = malloc(n * sizeof *dd);
    for (size_t i = 0; i < n; i++) dd[i] = i % 1000 < 900 ? 0.0 : (double)i;
    zr = round_trip((const uint8_t *)dd, 8 * n, 8, "float64, mostly zeros");
    CHECK(zr < 8 * n / 20);
    uint8_t *b = malloc(n);
    for (size_t i = 0; i < n; i++) b[i] = (uint8_t)(i / 5000 % 3 == 0 ? 0 : i % 7);
    round_trip(b, n, 1, "uint8 runs and a short cycle");

    /* incompressible: uniform random bytes are stored, at most 6 bytes a 32 KiB block more */
    for (size_t i = 0; i < n; i++) b[i] = (uint8_t)sb_rng_u32(&rng);
    size_t zs = round_trip(b, n, 2, "uniform random bytes");
    CHECK(zs <= n + (n / 32768 + 1) * 6);
    CHECK(zs >= n);

    /* a sample that misleads: the sampled bytes (the first 8 of every 64) 0, 1, ..., 7, the
     * others uniform random: coded by the sample's codes the blocks would grow, so they are
     * wound back and stored */
    for (size_t i = 0; i < n; i++) b[i] = i % 64 < 8 ? (uint8_t)(i % 8) : (uint8_t)sb_rng_u32(&rng);
    zs = round_trip(b, n, 2, "sampled zeros, random between");
    CHECK(zs <= n + (n / 32768 + 1) * 6);

    /* small and empty inputs */
    round_trip(b, 1, 1, "one byte");
    round_trip(b, 3, 2, "three bytes, es 2");
    round_trip(b, 0, 2, "empty");
    uint8_t same[70000];
    memset(same, 9, sizeof same);
    zr = round_trip(same, sizeof same, 1, "70000 equal bytes");
    CHECK(zr < 400);

    free(img), free(f), free(dd), free(b);
    TEST_RETURN();
}
