/* mri_noise.c — standard normals for the acquisition noise, many Philox blocks at a time.
 *
 * Block b of stream (seed, subject, stream) is Philox4x32-10 (Salmon et al., SC 2011; the same
 * function as core's sb_philox4x32_10, checked against it by a test) of the counter
 * {subject, stream, b low, b high} under the key {seed low, seed high}. Its four words give two
 * Box–Muller pairs (Box & Muller 1958): words (o0, o1) and (o2, o3), each turned into
 * u1 = (o >> 8 + 0.5) 2^-24 in (0, 1) and u2 = (o >> 8) 2^-24 in [0, 1), then
 * r = sqrt(-2 ln u1), z = r (cos 2 pi u2, sin 2 pi u2). u2 is exact in single precision, u1
 * rounded to 24 bits (to even) above 0.5; the largest radius is sqrt(2 ln 2^25) = 5.89.
 *
 * Speed: ln, sin and cos are our own branch-free single-precision polynomials (Cephes, S. L.
 * Moshier 1984-2000: logf, sinf, cosf; about 1-2 ulp on these ranges) so that the compiler
 * vectorises the whole loop (glibc's scalar logf and sincosf cost more than Philox itself).
 * Every operation is an IEEE single-precision operation without contraction (ISO C mode:
 * -ffp-contract=off), so the SIMD and scalar paths of the loop and the AVX2 and AVX-512 builds
 * give the same bits (a test compares them with the scalar mri_uniform_to_normals): the noise
 * does not depend on the thread count, the row split or the machine's SIMD width.
 * Philox was most of the cost as the compiler vectorised it (~9 ns a block with AVX-512 here,
 * normals or radii alike: 64 x 64-bit multiplies). Written for AVX-512 (blocks512: one 32 x 32-bit
 * multiply per word and 8 blocks, the conversion in registers) ~3.0 ns a block of normals, 3.3
 * of radii (one thread, CPU time, runs of 1024 blocks). Blocks go 8 at a time (32 in the main
 * loop): a short run of a row (the air beside the body, the body's extent) computes at most 7
 * blocks it does not use.
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
#define HAVE_BLOCKS512 1
/* The same blocks written for AVX-512. Philox: the compiler's vectorisation of
 * `(uint64_t) M x c` above zero-extends to 64-bit lanes and multiplies them as 64 x 64 bits
 * (three vpmuludq, shifts and adds per 8 lanes). Here each word of 8 blocks lies in the low
 * halves of the 64-bit lanes of one vector, so one vpmuludq gives the 8 products with their
 * low words in place (the next round's c1, c3) and a swap of the halves brings the high words
 * down; the high halves carry junk that vpmuludq ignores. The normals and radii are the maps of
 * pair() and radius() in the same IEEE single-precision operations, rearranged only where the
 * result is exact (the same bits, checked by test_mri against the scalar map):
 * - the uniform u = (k + 0.5) 2^-24, k = o >> 8, is (2k + 1) 2^-25 = ((o >> 7) | 1) 2^-25 (the
 *   same rounding to 24 bits), and ln reads only its mantissa and exponent, so the float of
 *   (o >> 7) | 1 serves, its exponent from vgetexpps;
 * - (mf - 1) + lo mf is mf - 1, plus mf where lo;
 * - cis_turn's q = round(4 u2) and x = 2 pi (u2 - q/4) come from the integer k: k - 2^22 q is
 *   the low 22 bits of k read as signed, and q's two low bits are the top bits of o + 2^29
 *   (those of q + 1: o + 3 2^29). */
#define AVX512 __attribute__((target("avx512f"), always_inline)) static inline

AVX512 __m512 ps1(float x) {
    return _mm512_set1_ps(x);
}

/* Box–Muller's radius of 16 words: radius() */
AVX512 __m512 radius16(__m512i o) {
    const __m512 v =
        _mm512_cvtepi32_ps(_mm512_or_si512(_mm512_srli_epi32(o, 7), _mm512_set1_epi32(1)));
    /* mf = mantissa of u in [0.5, 1): (b & 0x7fffff) | 0x3f000000 (0xEA: (a & b) | c) */
    const __m512 mf = _mm512_castsi512_ps(
        _mm512_ternarylogic_epi32(_mm512_castps_si512(v), _mm512_set1_epi32(0x007fffff),
                                  _mm512_set1_epi32(0x3f000000), 0xEA));
    const __mmask16 lo = _mm512_cmp_ps_mask(mf, ps1(0.70710678f), _CMP_LT_OQ);
    const __m512 m1 = _mm512_sub_ps(mf, ps1(1.0f));
    const __m512 m = _mm512_mask_add_ps(m1, lo, m1, mf);
    /* e of mri_lnf: exponent of u = v 2^-25 plus 1, minus lo */
    const __m512 fe =
        _mm512_add_ps(_mm512_getexp_ps(v), _mm512_mask_mov_ps(ps1(-24.0f), lo, ps1(-25.0f)));
    const __m512 z = _mm512_mul_ps(m, m);
    __m512 y = _mm512_sub_ps(_mm512_mul_ps(ps1(7.0376836292e-2f), m), ps1(1.1514610310e-1f));
    y = _mm512_add_ps(_mm512_mul_ps(y, m), ps1(1.1676998740e-1f));
    y = _mm512_sub_ps(_mm512_mul_ps(y, m), ps1(1.2420140846e-1f));
    y = _mm512_add_ps(_mm512_mul_ps(y, m), ps1(1.4249322787e-1f));
    y = _mm512_sub_ps(_mm512_mul_ps(y, m), ps1(1.6668057665e-1f));
    y = _mm512_add_ps(_mm512_mul_ps(y, m), ps1(2.0000714765e-1f));
    y = _mm512_sub_ps(_mm512_mul_ps(y, m), ps1(2.4999993993e-1f));
    y = _mm512_add_ps(_mm512_mul_ps(y, m), ps1(3.3333331174e-1f));
    y = _mm512_mul_ps(_mm512_mul_ps(y, m), z);
    y = _mm512_add_ps(y, _mm512_mul_ps(ps1(-2.12194440e-4f), fe));
    y = _mm512_add_ps(y, _mm512_mul_ps(ps1(-0.5f), z));
    const __m512 ln = _mm512_add_ps(_mm512_add_ps(m, y), _mm512_mul_ps(ps1(0.693359375f), fe));
    return _mm512_sqrt_ps(_mm512_mul_ps(ps1(-2.0f), ln));
}

/* Box–Muller on 16 pairs of words a, b: pair() */
AVX512 void pair16(__m512i a, __m512i b, __m512 *z0, __m512 *z1) {
    const __m512 rad = radius16(a);
    /* x = 2 pi (u2 - q/4) = (k - 2^22 q) (2 pi 2^-24): bits 8 .. 29 of b, signed */
    const __m512i d = _mm512_srai_epi32(_mm512_slli_epi32(b, 2), 10);
    const __m512 x = _mm512_mul_ps(_mm512_cvtepi32_ps(d), ps1(6.28318531f * 5.9604645e-8f));
    const __m512 z = _mm512_mul_ps(x, x);
    __m512 sn = _mm512_add_ps(_mm512_mul_ps(ps1(-1.9515295891e-4f), z), ps1(8.3321608736e-3f));
    sn = _mm512_sub_ps(_mm512_mul_ps(sn, z), ps1(1.6666654611e-1f));
    sn = _mm512_add_ps(_mm512_mul_ps(_mm512_mul_ps(sn, z), x), x);
    __m512 cs =
        _mm512_sub_ps(_mm512_mul_ps(ps1(2.443315711809948e-5f), z), ps1(1.388731625493765e-3f));
    cs = _mm512_add_ps(_mm512_mul_ps(cs, z), ps1(4.166664568298827e-2f));
    cs = _mm512_sub_ps(_mm512_mul_ps(_mm512_mul_ps(cs, z), z), _mm512_mul_ps(ps1(0.5f), z));
    cs = _mm512_add_ps(cs, ps1(1.0f));
    /* quadrant q: odd q swaps sin and cos; q & 2 negates sin, (q + 1) & 2 cos (0x78:
     * a ^ (b & c)) */
    const __m512i sign = _mm512_set1_epi32((int)0x80000000u);
    const __m512i qs = _mm512_add_epi32(b, _mm512_set1_epi32(0x20000000));
    const __m512i qc = _mm512_add_epi32(b, _mm512_set1_epi32(0x60000000));
    const __mmask16 odd = _mm512_test_epi32_mask(qs, _mm512_set1_epi32(0x40000000));
    const __m512i c = _mm512_castps_si512(_mm512_mask_mov_ps(cs, odd, sn));
    const __m512i s = _mm512_castps_si512(_mm512_mask_mov_ps(sn, odd, cs));
    const __m512 cq = _mm512_castsi512_ps(_mm512_ternarylogic_epi32(c, qc, sign, 0x78));
    const __m512 sq = _mm512_castsi512_ps(_mm512_ternarylogic_epi32(s, qs, sign, 0x78));
    *z0 = _mm512_mul_ps(rad, cq);
    *z1 = _mm512_mul_ps(rad, sq);
}

/* `units` (1 .. 4, a constant once inlined) times 8 blocks from block b0, the first nb of them
 * into z (4 floats a block); radii as in blocks(). */
AVX512 void blocks8(const uint32_t ks0[10], const uint32_t ks1[10], uint32_t subject,
                    uint32_t stream, uint64_t b0, size_t nb, float *z, int radii, int units) {
    const __m512i m0 = _mm512_set1_epi64(PHILOX_M0), m1 = _mm512_set1_epi64(PHILOX_M1);
    __m512i c[4][4];
    for (int u = 0; u < units; u++) {
        /* counter {subject, stream, b low, b high} of blocks b0 + 8 u + l: b in 64-bit lanes
         * is word 2 in the low half, word 3 in the high half */
        const __m512i b = _mm512_add_epi64(_mm512_set1_epi64((long long)(b0 + 8 * (unsigned)u)),
                                           _mm512_setr_epi64(0, 1, 2, 3, 4, 5, 6, 7));
        c[u][0] = _mm512_set1_epi64(subject), c[u][1] = _mm512_set1_epi64(stream);
        c[u][2] = b, c[u][3] = _mm512_srli_epi64(b, 32);
    }
#pragma GCC unroll 10
    for (int r = 0; r < 10; r++) {
        const __m512i k0 = _mm512_set1_epi32((int)ks0[r]), k1 = _mm512_set1_epi32((int)ks1[r]);
        for (int u = 0; u < units; u++) {
            __m512i *w = c[u];
            const __m512i p0 = _mm512_mul_epu32(w[0], m0), p1 = _mm512_mul_epu32(w[2], m1);
            /* c0 = hi(p1) ^ c1 ^ ks0, c2 = hi(p0) ^ c3 ^ ks1 (0x96: a ^ b ^ c) */
            w[0] =
                _mm512_ternarylogic_epi32(_mm512_shuffle_epi32(p1, _MM_PERM_CDAB), w[1], k0, 0x96);
            w[2] =
                _mm512_ternarylogic_epi32(_mm512_shuffle_epi32(p0, _MM_PERM_CDAB), w[3], k1, 0x96);
            w[1] = p1, w[3] = p0;
        }
    }
    /* dword 4 j .. 4 j + 3: the low words of lanes j of x, y and j + 4 of x, y */
    const __m512i idx =
        _mm512_setr_epi32(0, 16, 8, 24, 2, 18, 10, 26, 4, 20, 12, 28, 6, 22, 14, 30);
    for (int u = 0; u < units; u++) {
        const __m512i *w = c[u];
        __m512 lo, hi; /* blocks 0 .. 3 and 4 .. 7 of the unit, 4 floats each */
        if (radii) {
            const __m512i p = _mm512_permutex2var_epi32(w[0], idx, w[1]),
                          q = _mm512_permutex2var_epi32(w[2], idx, w[3]);
            lo = radius16(_mm512_unpacklo_epi64(p, q));
            hi = radius16(_mm512_unpackhi_epi64(p, q));
        } else {
            __m512 z0, z1; /* z0, z2 and z1, z3 of each block */
            pair16(_mm512_permutex2var_epi32(w[0], idx, w[2]),
                   _mm512_permutex2var_epi32(w[1], idx, w[3]), &z0, &z1);
            lo = _mm512_unpacklo_ps(z0, z1), hi = _mm512_unpackhi_ps(z0, z1);
        }
        float *zu = z + 32 * (size_t)u;
        if (nb >= 8 * (size_t)u + 8) {
            _mm512_storeu_ps(zu, lo), _mm512_storeu_ps(zu + 16, hi);
        } else if (nb > 8 * (size_t)u) {
            const size_t n = nb - 8 * (size_t)u; /* 1 .. 7 blocks */
            _mm512_mask_storeu_ps(zu, (__mmask16)((1u << (4 * (n < 4 ? n : 4))) - 1), lo);
            if (n > 4) _mm512_mask_storeu_ps(zu + 16, (__mmask16)((1u << (4 * (n - 4))) - 1), hi);
        }
    }
}

/* Blocks first .. first + count - 1: 32 at a time (four units of 8: independent chains that
 * overlap in the pipeline), the last 1 .. 31 in as few units as hold them. */
AVX512 void blocks512_run(uint64_t seed, uint32_t subject, uint32_t stream, uint64_t first,
                          size_t count, float *z, int radii) {
    uint32_t ks0[10], ks1[10];
    key_schedule(seed, ks0, ks1);
    for (size_t done = 0, nb; done < count; done += nb) {
        const uint64_t b = first + done;
        float *zd = z + 4 * done;
        nb = count - done < 32 ? count - done : 32;
        if (nb > 24)
            blocks8(ks0, ks1, subject, stream, b, nb, zd, radii, 4);
        else if (nb > 16)
            blocks8(ks0, ks1, subject, stream, b, nb, zd, radii, 3);
        else if (nb > 8)
            blocks8(ks0, ks1, subject, stream, b, nb, zd, radii, 2);
        else
            blocks8(ks0, ks1, subject, stream, b, nb, zd, radii, 1);
    }
}

__attribute__((target("avx512f"))) static void blocks512(uint64_t seed, uint32_t subject,
                                                         uint32_t stream, uint64_t first,
                                                         size_t count, float *z, int radii) {
    if (radii)
        blocks512_run(seed, subject, stream, first, count, z, 1);
    else
        blocks512_run(seed, subject, stream, first, count, z, 0);
}
#endif

/* Normals (radii = 0) or radii (1): AVX-512 where the processor has it. */
static void noise_blocks(uint64_t seed, uint32_t subject, uint32_t stream, uint64_t first,
                         size_t count, float *z, int radii) {
#ifdef HAVE_BLOCKS512
    if (__builtin_cpu_supports("avx512f")) {
        blocks512(seed, subject, stream, first, count, z, radii);
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
