/* rng.c — Philox4x32-10 counter-based generator.
 *
 * Reference: J. K. Salmon, M. A. Moraes, R. O. Dror, D. E. Shaw, "Parallel random numbers:
 * as easy as 1, 2, 3", SC 2011. Ten rounds of the Philox S-box with the published multipliers
 * and Weyl key increments; tests/unit/core checks the published known-answer vectors. */
#include "sb_core.h"

#include <math.h>

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

static void philox_round(uint32_t c[4], const uint32_t k[2]) {
    uint64_t p0 = (uint64_t)PHILOX_M0 * c[0];
    uint64_t p1 = (uint64_t)PHILOX_M1 * c[2];
    uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
    uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
    uint32_t n0 = hi1 ^ c[1] ^ k[0];
    uint32_t n2 = hi0 ^ c[3] ^ k[1];
    c[0] = n0;
    c[1] = lo1;
    c[2] = n2;
    c[3] = lo0;
}

void sb_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]) {
    uint32_t c[4] = {ctr[0], ctr[1], ctr[2], ctr[3]};
    uint32_t k[2] = {key[0], key[1]};
    for (int r = 0; r < 10; r++) {
        philox_round(c, k);
        k[0] += PHILOX_W0;
        k[1] += PHILOX_W1;
    }
    for (int i = 0; i < 4; i++) out[i] = c[i];
}

void sb_rng_init(sb_rng *r, uint64_t seed, uint32_t subject, uint32_t stream) {
    r->key[0] = (uint32_t)seed;
    r->key[1] = (uint32_t)(seed >> 32);
    r->ctr[0] = subject;
    r->ctr[1] = stream;
    r->ctr[2] = 0;
    r->ctr[3] = 0;
    r->used = 4;
}

void sb_rng_seek(sb_rng *r, uint64_t index) {
    r->ctr[2] = (uint32_t)index;
    r->ctr[3] = (uint32_t)(index >> 32);
    r->used = 4;
}

uint32_t sb_rng_u32(sb_rng *r) {
    if (r->used == 4) {
        sb_philox4x32_10(r->ctr, r->key, r->out);
        if (++r->ctr[2] == 0) ++r->ctr[3];
        r->used = 0;
    }
    return r->out[r->used++];
}

double sb_rng_uniform(sb_rng *r) {
    uint64_t a = sb_rng_u32(r) >> 5, b = sb_rng_u32(r) >> 6; /* 27 + 26 bits */
    return (double)(a * 67108864.0 + b) * (1.0 / 9007199254740992.0);
}

double sb_rng_range(sb_rng *r, double lo, double hi) {
    return lo + (hi - lo) * sb_rng_uniform(r);
}

double sb_rng_normal(sb_rng *r) {
    double u1 = 1.0 - sb_rng_uniform(r); /* (0, 1] so log is finite */
    double u2 = sb_rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

void sb_rng_normal_pair(const sb_rng *r, uint64_t index, double z[2]) {
    uint32_t ctr[4] = {r->ctr[0], r->ctr[1], (uint32_t)index, (uint32_t)(index >> 32)}, o[4];
    sb_philox4x32_10(ctr, r->key, o);
    double u1 = ((double)(o[0] >> 5) * 67108864.0 + (double)(o[1] >> 6) + 1.0) *
                (1.0 / 9007199254740992.0); /* (0, 1] */
    double u2 =
        ((double)(o[2] >> 5) * 67108864.0 + (double)(o[3] >> 6)) * (1.0 / 9007199254740992.0);
    double rad = sqrt(-2.0 * log(u1)), a = 6.283185307179586 * u2;
    z[0] = rad * cos(a);
    z[1] = rad * sin(a);
}
