/* mri_noise.c — standard normals for the acquisition noise, many Philox blocks at a time.
 *
 * Block b of stream (seed, subject, stream) is Philox4x32-10 (Salmon et al., SC 2011; the same
 * function as core's sb_philox4x32_10, checked against it by a test) of the counter
 * {subject, stream, b low, b high} under the key {seed low, seed high}. Its four words give two
 * Box–Muller pairs (Box & Muller 1958): words (o0, o1) and (o2, o3), each turned into
 * u1 = (o >> 8 + 0.5) 2^-24 in (0, 1) and u2 = (o >> 8) 2^-24 in [0, 1), then
 * r = sqrt(-2 ln u1), z = r (cos 2 pi u2, sin 2 pi u2). 24-bit uniforms are exact in single
 * precision; the largest radius is sqrt(2 ln 2^25) = 5.89.
 *
 * Speed: ln, sin and cos are our own branch-free single-precision polynomials (Cephes, S. L.
 * Moshier 1984-2000: logf, sinf, cosf; about 1-2 ulp on these ranges) so that the compiler
 * vectorises the whole loop (glibc's scalar logf and sincosf cost more than Philox itself).
 * Every operation is an IEEE single-precision operation without contraction (ISO C mode:
 * -ffp-contract=off), so the SIMD and scalar paths of the loop and the AVX2 and AVX-512 clones
 * give the same bits (a test compares them with the scalar mri_uniform_to_normals): the noise
 * does not depend on the thread count, the row split or the machine's SIMD width.
 * Philox itself is most of the cost (~9 ns a block with AVX-512 here, normals or radii alike),
 * so blocks go LANES = 16 at a time: a short run of a row (the air beside the body, the body's
 * extent) computes at most 15 blocks it does not use.
 *
 * Rayleigh radii (mri_radii): the modulus of a Box–Muller pair is exactly its r, so the
 * magnitude of pure noise sigma |z1 + i z2| is sigma r; one word per voxel (four per block).
 */
#include "mri_internal.h"

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u
#define LANES 16

/* cos and sin of 2 pi u for u in [0, 1): quadrant q = round(4 u), x = 2 pi (u - q/4) in
 * [-pi/4, pi/4] (the subtraction is exact), Cephes minimax polynomials for sin and cos. */
static inline void cis_turn(float u, float *c, float *s) {
    int q = (int)(u * 4.0f + 0.5f);
    float x = (u - (float)q * 0.25f) * 6.28318531f;
    float z = x * x;
    float sn = ((-1.9515295891e-4f * z + 8.3321608736e-3f) * z - 1.6666654611e-1f) * z * x + x;
    float cs =
        ((2.443315711809948e-5f * z - 1.388731625493765e-3f) * z + 4.166664568298827e-2f) * z * z -
        0.5f * z + 1.0f;
    /* quadrant by bit operations (no speculated float arms, so the loop vectorises) */
    uint32_t odd = 0u - (uint32_t)(q & 1), bs = mri_float_bits(sn), bc = mri_float_bits(cs);
    uint32_t neg_c = (uint32_t)((q + 1) & 2) << 30, neg_s = (uint32_t)(q & 2) << 30;
    *c = mri_bits_float(((bs & odd) | (bc & ~odd)) ^ neg_c);
    *s = mri_bits_float(((bc & odd) | (bs & ~odd)) ^ neg_s);
}

/* Box–Muller's radius sqrt(-2 ln u1) of a Philox word. */
static inline float radius(uint32_t a) {
    float u = ((float)(int32_t)(a >> 8) + 0.5f) * 5.9604645e-8f;
    return __builtin_sqrtf(-2.0f * mri_lnf(u));
}

/* Box–Muller on two Philox words. */
static inline void pair(uint32_t a, uint32_t b, float *z0, float *z1) {
    float u2 = (float)(int32_t)(b >> 8) * 5.9604645e-8f;
    float rad = radius(a), cs, sn;
    cis_turn(u2, &cs, &sn);
    *z0 = rad * cs;
    *z1 = rad * sn;
}

/* Block b of stream (seed, subject, stream): the key schedule in ks0, ks1. (Four words as a
 * struct, not an array: an array in the simd loop stops the vectoriser.) */
typedef struct {
    uint32_t w0, w1, w2, w3;
} words4;

__attribute__((always_inline)) static inline words4 philox(const uint32_t ks0[10],
                                                           const uint32_t ks1[10], uint32_t subject,
                                                           uint32_t stream, uint64_t b) {
    uint32_t c0 = subject, c1 = stream, c2 = (uint32_t)b, c3 = (uint32_t)(b >> 32);
#pragma GCC unroll 10
    for (int r = 0; r < 10; r++) {
        uint64_t p0 = (uint64_t)PHILOX_M0 * c0, p1 = (uint64_t)PHILOX_M1 * c2;
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ ks0[r];
        uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3 ^ ks1[r];
        c1 = (uint32_t)p1;
        c3 = (uint32_t)p0;
        c0 = n0;
        c2 = n2;
    }
    return (words4){c0, c1, c2, c3};
}

/* The key schedule of a seed: its low and high words plus round multiples of the Weyl
 * constants. */
static void key_schedule(uint64_t seed, uint32_t ks0[10], uint32_t ks1[10]) {
    uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
    for (int r = 0; r < 10; r++, k0 += PHILOX_W0, k1 += PHILOX_W1) ks0[r] = k0, ks1[r] = k1;
}

/* ---- Rayleigh radii for voxels without signal ------------------------------------------
 * The magnitude of pure complex Gaussian noise, |sigma (z1 + i z2)|, is Rayleigh: sigma r with
 * r = sqrt(-2 ln u), u uniform in (0, 1) — Box–Muller's own radius, so one uniform replaces two
 * normals (no sin, no cos) and one Philox block serves four voxels instead of two. Word w of
 * block b gives u = (o >> 8 + 0.5) 2^-24 as for the normals. */

/* Blocks first .. first + count - 1, LANES at a time: four normals (radii = 0) or four
 * Rayleigh radii (radii = 1, a constant once inlined) per block into z. */
__attribute__((always_inline)) static inline void blocks(uint64_t seed, uint32_t subject,
                                                         uint32_t stream, uint64_t first,
                                                         size_t count, float *z, int radii) {
    uint32_t ks0[10], ks1[10];
    key_schedule(seed, ks0, ks1);
    for (size_t done = 0; done < count; done += LANES) {
        size_t nb = count - done < LANES ? count - done : LANES;
        float zr[4][LANES];
#pragma omp simd
        for (size_t l = 0; l < LANES; l++) {
            words4 c = philox(ks0, ks1, subject, stream, first + done + l);
            if (radii) {
                zr[0][l] = radius(c.w0), zr[1][l] = radius(c.w1);
                zr[2][l] = radius(c.w2), zr[3][l] = radius(c.w3);
            } else {
                pair(c.w0, c.w1, &zr[0][l], &zr[1][l]);
                pair(c.w2, c.w3, &zr[2][l], &zr[3][l]);
            }
        }
        for (size_t l = 0; l < nb; l++)
            for (int w = 0; w < 4; w++) z[4 * (done + l) + (size_t)w] = zr[w][l];
    }
}

__attribute__((target_clones("avx512f", "avx2", "default"))) void
mri_normals(uint64_t seed, uint32_t subject, uint32_t stream, uint64_t first, size_t count,
            float *z) {
    blocks(seed, subject, stream, first, count, z, 0);
}

__attribute__((target_clones("avx512f", "avx2", "default"))) void
mri_radii(uint64_t seed, uint32_t subject, uint32_t stream, uint64_t first, size_t count,
          float *r) {
    blocks(seed, subject, stream, first, count, r, 1);
}

void mri_uniform_to_radii(const uint32_t o[4], float r[4]) {
    for (int w = 0; w < 4; w++) r[w] = radius(o[w]);
}

void mri_uniform_to_normals(const uint32_t o[4], float z[4]) {
    pair(o[0], o[1], &z[0], &z[1]);
    pair(o[2], o[3], &z[2], &z[3]);
}
