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
 * Philox was most of the cost as the compiler vectorised it (~9 ns a block with AVX-512 here,
 * normals or radii alike: 64 x 64-bit multiplies); written for AVX-512 (blocks16: 32 x 32-bit
 * multiplies, two vectors of 16 blocks in flight) ~4.5 ns a block. Blocks go 16 (LANES) or 32
 * at a time: a short run of a row (the air beside the body, the body's extent) computes at most
 * 15 blocks it does not use.
 *
 * Rayleigh radii (mri_radii): the modulus of a Box–Muller pair is exactly its r, so the
 * magnitude of pure noise sigma |z1 + i z2| is sigma r; one word per voxel (four per block).
 */
#include "mri_internal.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

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

/* Without AVX-512: the loop above, vectorised by the compiler. */
__attribute__((target_clones("avx2", "default"))) static void
blocks_auto(uint64_t seed, uint32_t subject, uint32_t stream, uint64_t first, size_t count,
            float *z, int radii) {
    if (radii)
        blocks(seed, subject, stream, first, count, z, 1);
    else
        blocks(seed, subject, stream, first, count, z, 0);
}

#if defined(__x86_64__) && defined(__GNUC__)
#define HAVE_PHILOX16 1
/* The same blocks with Philox written for AVX-512, 16 blocks a vector: the compiler's
 * vectorisation of `(uint64_t) M x c` above zero-extends to 64-bit lanes and multiplies them as
 * 64 x 64 bits (three vpmuludq, shifts and adds per 8 lanes); here one vpmuludq per 8 lanes
 * gives the 32 x 32 -> 64-bit products of the even lanes, one more those of the odd lanes, and
 * two blends the high and low words. Integer arithmetic, so the words are those of philox();
 * their conversion to normals or radii is the loop of blocks() (the same IEEE operations: the
 * same bits, checked by test_mri against the scalar map). */
/* Ten Philox rounds on `groups` (1 or 2, a constant once inlined) vectors of 16 counters,
 * words c[g][0 .. 3]: two vectors are independent chains that overlap in the pipeline. */
__attribute__((target("avx512f"), always_inline)) static inline void
philox16(const uint32_t ks0[10], const uint32_t ks1[10], __m512i c[2][4], int groups) {
    const __m512i m0 = _mm512_set1_epi32((int)PHILOX_M0), m1 = _mm512_set1_epi32((int)PHILOX_M1);
#pragma GCC unroll 10
    for (int r = 0; r < 10; r++) {
        const __m512i k0 = _mm512_set1_epi32((int)ks0[r]), k1 = _mm512_set1_epi32((int)ks1[r]);
        for (int g = 0; g < groups; g++) {
            __m512i *w = c[g];
            __m512i p0e = _mm512_mul_epu32(w[0], m0),
                    p0o = _mm512_mul_epu32(_mm512_srli_epi64(w[0], 32), m0);
            __m512i p1e = _mm512_mul_epu32(w[2], m1),
                    p1o = _mm512_mul_epu32(_mm512_srli_epi64(w[2], 32), m1);
            __m512i hi0 = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(p0e, 32), p0o);
            __m512i lo0 = _mm512_mask_blend_epi32(0xAAAA, p0e, _mm512_slli_epi64(p0o, 32));
            __m512i hi1 = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(p1e, 32), p1o);
            __m512i lo1 = _mm512_mask_blend_epi32(0xAAAA, p1e, _mm512_slli_epi64(p1o, 32));
            /* c0 = hi(p1) ^ c1 ^ ks0, c2 = hi(p0) ^ c3 ^ ks1 (0x96: a ^ b ^ c) */
            w[0] = _mm512_ternarylogic_epi32(hi1, w[1], k0, 0x96);
            w[2] = _mm512_ternarylogic_epi32(hi0, w[3], k1, 0x96);
            w[1] = lo1, w[3] = lo0;
        }
    }
}

__attribute__((target("avx512f"))) static void blocks16(uint64_t seed, uint32_t subject,
                                                        uint32_t stream, uint64_t first,
                                                        size_t count, float *z, int radii) {
    uint32_t ks0[10], ks1[10];
    key_schedule(seed, ks0, ks1);
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    for (size_t done = 0; done < count;) {
        /* two vectors of 16 blocks at a time when more than 16 are left (two independent
         * chains of rounds keep the multipliers busy), else one */
        const size_t groups = count - done > LANES ? 2 : 1, lanes = groups * LANES;
        const size_t nb = count - done < lanes ? count - done : lanes;
        uint32_t w[4][2 * LANES];
        __m512i c[2][4];
        for (size_t g = 0; g < 2; g++) {
            const uint64_t b0 = first + done + (g ? LANES : 0);
            /* counter words 2, 3: the low and high words of b0 + l (a carry where the low
             * wraps) */
            __m512i lo = _mm512_set1_epi32((int)(uint32_t)b0),
                    hi = _mm512_set1_epi32((int)(uint32_t)(b0 >> 32));
            c[g][2] = _mm512_add_epi32(lo, lane);
            c[g][3] = _mm512_mask_add_epi32(hi, _mm512_cmplt_epu32_mask(c[g][2], lo), hi,
                                            _mm512_set1_epi32(1));
            c[g][0] = _mm512_set1_epi32((int)subject), c[g][1] = _mm512_set1_epi32((int)stream);
        }
        if (groups == 2)
            philox16(ks0, ks1, c, 2);
        else
            philox16(ks0, ks1, c, 1);
        for (size_t g = 0; g < groups; g++)
            for (int q = 0; q < 4; q++) _mm512_storeu_si512(w[q] + g * LANES, c[g][q]);
        float zr[4][2 * LANES];
        if (radii) {
#pragma omp simd
            for (size_t l = 0; l < lanes; l++) {
                zr[0][l] = radius(w[0][l]), zr[1][l] = radius(w[1][l]);
                zr[2][l] = radius(w[2][l]), zr[3][l] = radius(w[3][l]);
            }
        } else {
#pragma omp simd
            for (size_t l = 0; l < lanes; l++) {
                pair(w[0][l], w[1][l], &zr[0][l], &zr[1][l]);
                pair(w[2][l], w[3][l], &zr[2][l], &zr[3][l]);
            }
        }
        for (size_t l = 0; l < nb; l++)
            for (int q = 0; q < 4; q++) z[4 * (done + l) + (size_t)q] = zr[q][l];
        done += nb;
    }
}
#endif

/* Normals (radii = 0) or radii (1): AVX-512 where the processor has it. */
static void noise_blocks(uint64_t seed, uint32_t subject, uint32_t stream, uint64_t first,
                         size_t count, float *z, int radii) {
#ifdef HAVE_PHILOX16
    if (__builtin_cpu_supports("avx512f")) {
        blocks16(seed, subject, stream, first, count, z, radii);
        return;
    }
#endif
    blocks_auto(seed, subject, stream, first, count, z, radii);
}

void mri_normals(uint64_t seed, uint32_t subject, uint32_t stream, uint64_t first, size_t count,
                 float *z) {
    noise_blocks(seed, subject, stream, first, count, z, 0);
}

void mri_radii(uint64_t seed, uint32_t subject, uint32_t stream, uint64_t first, size_t count,
               float *r) {
    noise_blocks(seed, subject, stream, first, count, r, 1);
}

void mri_uniform_to_radii(const uint32_t o[4], float r[4]) {
    for (int w = 0; w < 4; w++) r[w] = radius(o[w]);
}

void mri_uniform_to_normals(const uint32_t o[4], float z[4]) {
    pair(o[0], o[1], &z[0], &z[1]);
    pair(o[2], o[3], &z[2], &z[3]);
}
