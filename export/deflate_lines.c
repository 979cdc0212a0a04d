/* deflate_lines.c — deflate encoders (RFC 1951) that need no search: deflate_lines for text made
 * of lines alike, such as the <vertex .../> and <triangle .../> lines of a 3MF model, and
 * deflate_image for the bytes of noisy images (at the end of the file).
 *
 * A general LZ77 compressor searches for repeats; here the caller knows where they are. It
 * names, in every line, the same `stride` anchors (in 3MF: the closing quote of each attribute
 * value), and the text from an anchor on — the markup up to the next value and the leading
 * digits that value shares with the same value of the line before — is sent as one match
 * against the same anchor of the previous line, extended byte by byte as far as the two agree
 * (at most 258). The rest (the differing digits) is sent as literals. The parse needs no hash
 * table and no search: a comparison of a few words per value.
 *
 * The symbols go into one dynamic-Huffman block. Its codes come from the symbol counts of the
 * first 64 KiB of the text (the lines of a run are alike) plus one count for every symbol, so
 * any text can be coded and the text is parsed and coded in one pass: a Huffman tree built
 * with two queues over the symbols sorted by (count, symbol), the counts halved until no code
 * is longer than 12 bits (7 for the code-length code; deflate allows 15), so four literals go
 * out per store.
 * Code lengths are sent without the run-length symbols 16-18 (~170 bytes a block); both trees
 * are complete codes.
 *
 * The block ends on an empty stored block (zlib's sync flush): the output is byte-aligned and
 * not final, so the outputs of consecutive calls, and of other compressors flushed the same
 * way, concatenate into one deflate stream. The bytes depend only on the input. On our 3MF
 * XML: 4.5x smaller (isa-l igzip level 1: 4.2x) in about half igzip's time (README "Export").
 */
#include "scene_internal.h"

#include <stdlib.h>
#include <string.h>

/* ---- bits, least significant first ---------------------------------------------------------- */

/* Up to 56 bits are added (acc, n < 8 after a flush), then bits_flush stores 8 bytes and keeps
 * the bits of the last partial byte: no branch per code. The output needs 8 bytes of slack. */
typedef struct bitw {
    uint8_t *p;
    uint64_t acc;
    unsigned n;
} bitw;

static inline void bits_add(bitw *w, uint64_t v, unsigned nb) {
    w->acc |= v << w->n;
    w->n += nb;
}

static inline void bits_flush(bitw *w) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    memcpy(w->p, &w->acc, 8);
#else
    for (int i = 0; i < 8; i++) w->p[i] = (uint8_t)(w->acc >> (8 * i));
#endif
    w->p += w->n >> 3;
    w->acc >>= w->n & ~7u;
    w->n &= 7;
}

static inline void bits_put(bitw *w, uint32_t v, unsigned nb) {
    bits_add(w, v, nb);
    bits_flush(w);
}

/* Pads with zero bits to a whole byte. */
static void bits_align(bitw *w) {
    w->n = (w->n + 7) & ~7u;
    bits_flush(w);
}

/* ---- Huffman codes ----------------------------------------------------------------------------
 */

#define NLIT 286
#define NDIST 30
/* Our longest code (deflate allows 15): four literals, or a match with its extra bits, then
 * fit the 56 bits bits_add may hold. */
#define MAXBITS 12

/* Sorting by (count, symbol). */
typedef struct sym_count {
    uint32_t count;
    int sym;
} sym_count;

/* Sorts the m entries (in increasing symbol order) by (count, symbol): a stable LSD radix sort
 * on the count's bytes (a few microseconds for 286 symbols, against ~20 for qsort: it runs for
 * every 32 KiB block of an image). */
static void sort_by_count(sym_count *sc, int m) {
    sym_count tmp[NLIT];
    for (int shift = 0; shift < 32; shift += 8) {
        uint32_t high = 0;
        for (int i = 0; i < m; i++) high |= sc[i].count >> shift;
        if (!high) return;
        int at[257] = {0};
        for (int i = 0; i < m; i++) at[((sc[i].count >> shift) & 255) + 1]++;
        for (int b = 0; b < 256; b++) at[b + 1] += at[b];
        for (int i = 0; i < m; i++) tmp[at[(sc[i].count >> shift) & 255]++] = sc[i];
        memcpy(sc, tmp, (size_t)m * sizeof *sc);
    }
}

/* Code lengths (at most `limit` bits) for the n symbols of freq; symbols of frequency 0 get no
 * code. At least two frequencies must be non-zero. Deterministic: ties break by symbol. */
static void huff_lengths(const uint32_t *freq, int n, int limit, uint8_t *len) {
    sym_count sc[NLIT];
    int m = 0;
    for (int s = 0; s < n; s++)
        if (freq[s]) sc[m++] = (sym_count){freq[s], s};
    sort_by_count(sc, m);
    for (;;) {
        /* nodes 0..m-1 the leaves in that order, m.. the internal nodes as they are made (in
         * non-decreasing weight: two queues give the Huffman tree in linear time) */
        uint64_t weight[2 * NLIT];
        int parent[2 * NLIT];
        for (int i = 0; i < m; i++) weight[i] = sc[i].count;
        int leaf = 0, inner = m;
        for (int made = m; made < 2 * m - 1; made++) {
            int pick[2];
            for (int k = 0; k < 2; k++)
                pick[k] =
                    leaf < m && (inner >= made || weight[leaf] <= weight[inner]) ? leaf++ : inner++;
            weight[made] = weight[pick[0]] + weight[pick[1]];
            parent[pick[0]] = parent[pick[1]] = made;
        }
        int depth[2 * NLIT], longest = 0;
        depth[2 * m - 2] = 0;
        for (int i = 2 * m - 3; i >= 0; i--) depth[i] = depth[parent[i]] + 1;
        memset(len, 0, (size_t)n);
        for (int i = 0; i < m; i++) {
            len[sc[i].sym] = (uint8_t)depth[i];
            if (depth[i] > longest) longest = depth[i];
        }
        if (longest <= limit) return;
        /* flatter: halve the counts (keeps their order, so the leaves stay sorted) */
        for (int i = 0; i < m; i++) sc[i].count = (sc[i].count >> 1) | 1;
    }
}

/* The bits of a byte in reverse order. */
#define R2(n) n, n + 128, n + 64, n + 192
#define R4(n) R2(n), R2(n + 32), R2(n + 16), R2(n + 48)
#define R6(n) R4(n), R4(n + 8), R4(n + 4), R4(n + 12)
static const uint8_t REV8[256] = {R6(0), R6(2), R6(1), R6(3)};
#undef R2
#undef R4
#undef R6

/* Canonical codes (RFC 1951, 3.2.2) of the lengths, bit-reversed for LSB-first output. */
static void huff_codes(const uint8_t *len, int n, uint16_t *code) {
    int count[16] = {0}, next[16];
    for (int s = 0; s < n; s++) count[len[s]]++;
    count[0] = 0;
    int c = 0;
    for (int b = 1; b < 16; b++) {
        c = (c + count[b - 1]) << 1;
        next[b] = c;
    }
    for (int s = 0; s < n; s++) {
        int l = len[s];
        if (!l) continue;
        unsigned v = (unsigned)next[l]++;
        code[s] = (uint16_t)((REV8[v & 255] << 8 | REV8[(v >> 8) & 255]) >> (16 - l));
    }
}

/* Makes at least two frequencies of n non-zero (a complete code for any inflater). */
static void two_codes(uint32_t *freq, int n) {
    int used = 0;
    for (int s = 0; s < n; s++) used += freq[s] != 0;
    for (int s = 0; s < n && used < 2; s++)
        if (!freq[s]) freq[s] = 1, used++;
}

/* The order of the code length code's lengths in a header. */
static const uint8_t HEAD_ORDER[19] = {16, 17, 18, 0, 8,  7, 9,  6, 10, 5,
                                       11, 4,  12, 3, 13, 2, 14, 1, 15};

/* The header of a dynamic-Huffman block (RFC 1951, 3.2.7) with the literal/length code
 * lengths ll (nlit of them) and the distance code lengths dl (ndist), sent without the
 * run-length symbols 16-18: planned once (its size known before it is written or not). */
typedef struct block_head {
    uint8_t seq[NLIT + NDIST], cl[19];
    uint16_t cc[19];
    int nlit, ndist, hclen;
    size_t bits; /* its size in bits */
} block_head;

static void head_plan(block_head *h, const uint8_t *ll, int nlit, const uint8_t *dl, int ndist) {
    memcpy(h->seq, ll, (size_t)nlit);
    memcpy(h->seq + nlit, dl, (size_t)ndist);
    h->nlit = nlit, h->ndist = ndist;
    uint32_t cf[19] = {0};
    for (int i = 0; i < nlit + ndist; i++) cf[h->seq[i]]++;
    two_codes(cf, 19);
    huff_lengths(cf, 19, 7, h->cl);
    huff_codes(h->cl, 19, h->cc);
    h->hclen = 19;
    while (h->hclen > 4 && !h->cl[HEAD_ORDER[h->hclen - 1]]) h->hclen--;
    h->bits = 3 + 5 + 5 + 4 + 3 * (size_t)h->hclen;
    for (int i = 0; i < nlit + ndist; i++) h->bits += h->cl[h->seq[i]];
}

static void head_write(bitw *w, int final, const block_head *h) {
    bits_put(w, (uint32_t) final, 1);
    bits_put(w, 2, 2); /* dynamic Huffman */
    bits_put(w, (uint32_t)(h->nlit - 257), 5);
    bits_put(w, (uint32_t)(h->ndist - 1), 5);
    bits_put(w, (uint32_t)(h->hclen - 4), 4);
    for (int i = 0; i < h->hclen; i++) bits_put(w, h->cl[HEAD_ORDER[i]], 3);
    for (int i = 0; i < h->nlit + h->ndist; i++) bits_put(w, h->cc[h->seq[i]], h->cl[h->seq[i]]);
}

/* ---- lengths and distances --------------------------------------------------------------------
 */

static inline int floor_log2(uint32_t x) {
    return 31 - __builtin_clz(x);
}

/* Match length 3..258: symbol, extra bits and their value. */
static inline void len_code(int l, int *sym, int *nb, int *val) {
    int x = l - 3;
    if (l == 258) {
        *sym = 285, *nb = 0, *val = 0;
    } else if (x < 8) {
        *sym = 257 + x, *nb = 0, *val = 0;
    } else {
        int k = floor_log2((uint32_t)x);
        *sym = 257 + 4 * (k - 1) + ((x >> (k - 2)) & 3);
        *nb = k - 2;
        *val = x & ((1 << (k - 2)) - 1);
    }
}

/* Distance 1..32768. */
static inline void dist_code(int d, int *sym, int *nb, int *val) {
    int x = d - 1;
    if (x < 4) {
        *sym = x, *nb = 0, *val = 0;
    } else {
        int k = floor_log2((uint32_t)x);
        *sym = 2 * k + ((x >> (k - 1)) & 1);
        *nb = k - 1;
        *val = x & ((1 << (k - 1)) - 1);
    }
}

/* ---- the parse --------------------------------------------------------------------------------
 */

/* The number of equal bytes at a and b, at most max. */
static inline size_t agree(const char *a, const char *b, size_t max) {
    size_t k = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    while (k + 8 <= max) { /* 8 bytes at a time: the first differing byte is the lowest */
        uint64_t x, y;
        memcpy(&x, a + k, 8);
        memcpy(&y, b + k, 8);
        if (x != y) return k + (size_t)(__builtin_ctzll(x ^ y) >> 3);
        k += 8;
    }
#endif
    while (k < max && a[k] == b[k]) k++;
    return k;
}

/* The match at anchor k (against anchor k - stride) as its length, 0 for none. */
static inline size_t match_at(const char *text, size_t n, const uint32_t *anchor, size_t k,
                              size_t stride, size_t pos) {
    size_t a = anchor[k], b = anchor[k - stride];
    if (a < pos || a >= n || b >= a || a - b > 32768) return 0;
    size_t l = agree(text + a, text + b, n - a < 258 ? n - a : 258);
    return l >= 3 ? l : 0;
}

/* What the Huffman codes are made from: the symbols of the first SAMPLE bytes of the text
 * (the lines of a piece are alike), and one of every symbol, so any text can be coded. */
#define SAMPLE 65536

static void sample_freqs(const char *text, size_t n, const uint32_t *anchor, size_t nanchor,
                         size_t stride, uint32_t *lf, uint32_t *df) {
    for (int s = 0; s < NLIT; s++) lf[s] = 1;
    for (int s = 0; s < NDIST; s++) df[s] = 1;
    size_t end = n < SAMPLE ? n : SAMPLE, pos = 0;
    for (size_t k = stride; k < nanchor && anchor[k] < end; k++) {
        size_t l = match_at(text, n, anchor, k, stride, pos);
        if (!l) continue;
        for (; pos < anchor[k]; pos++) lf[(uint8_t)text[pos]]++;
        int s, nb, v;
        len_code((int)l, &s, &nb, &v);
        lf[s]++;
        dist_code((int)(anchor[k] - anchor[k - stride]), &s, &nb, &v);
        df[s]++;
        pos = anchor[k] + l;
    }
    for (; pos < end; pos++) lf[(uint8_t)text[pos]]++;
}

size_t deflate_lines(const char *text, size_t n, const uint32_t *anchor, size_t nanchor,
                     size_t stride, uint8_t *out, size_t cap) {
    if (cap < deflate_lines_bound(n) || n > UINT32_MAX) return 0;
    uint32_t lf[NLIT], df[NDIST];
    sample_freqs(text, n, anchor, nanchor, stride, lf, df);
    uint8_t ll[NLIT], dl[NDIST];
    uint16_t lc[NLIT], dc[NDIST];
    huff_lengths(lf, NLIT, MAXBITS, ll);
    huff_lengths(df, NDIST, MAXBITS, dl);
    huff_codes(ll, NLIT, lc);
    huff_codes(dl, NDIST, dc);

    /* a match's length (3..258) and distance (1..512) as one code each, extra bits included */
    uint32_t lenc[259], distc[513];
    uint8_t lenn[259], distn[513];
    for (int l = 3; l <= 258; l++) {
        int s, nb, v;
        len_code(l, &s, &nb, &v);
        lenc[l] = lc[s] | (uint32_t)v << ll[s];
        lenn[l] = (uint8_t)(ll[s] + nb);
    }
    for (int d = 1; d <= 512; d++) {
        int s, nb, v;
        dist_code(d, &s, &nb, &v);
        distc[d] = dc[s] | (uint32_t)v << dl[s];
        distn[d] = (uint8_t)(dl[s] + nb);
    }

    bitw w = {out, 0, 0};
    block_head h;
    head_plan(&h, ll, NLIT, dl, NDIST);
    head_write(&w, 0, &h); /* not final */

    const uint8_t *t = (const uint8_t *)text;
    size_t pos = 0;
    for (size_t k = stride < nanchor ? stride : nanchor;; k++) {
        int last = k >= nanchor;
        size_t l = last ? 0 : match_at(text, n, anchor, k, stride, pos);
        if (!l && !last) continue;
        size_t a = last ? n : anchor[k]; /* literals up to the match, or to the end */
        for (; pos + 4 <= a; pos += 4) { /* four codes of <= MAXBITS bits a flush */
            bits_add(&w, lc[t[pos]], ll[t[pos]]);
            bits_add(&w, lc[t[pos + 1]], ll[t[pos + 1]]);
            bits_add(&w, lc[t[pos + 2]], ll[t[pos + 2]]);
            bits_add(&w, lc[t[pos + 3]], ll[t[pos + 3]]);
            bits_flush(&w);
        }
        for (; pos < a; pos++) bits_add(&w, lc[t[pos]], ll[t[pos]]); /* at most three */
        bits_flush(&w);
        if (!l) break;
        size_t d = a - anchor[k - stride];
        bits_add(&w, lenc[l], lenn[l]);
        if (d <= 512) {
            bits_add(&w, distc[d], distn[d]);
        } else {
            int s, nb, v;
            dist_code((int)d, &s, &nb, &v);
            bits_add(&w, dc[s] | (uint32_t)v << dl[s], dl[s] + (unsigned)nb);
        }
        bits_flush(&w);
        pos = a + l;
    }
    bits_put(&w, lc[256], ll[256]); /* end of block */
    bits_put(&w, 0, 3);             /* empty stored block, not final: the sync flush */
    bits_align(&w);
    static const uint8_t EMPTY[4] = {0, 0, 0xff, 0xff};
    memcpy(w.p, EMPTY, 4);
    return (size_t)(w.p + 4 - out);
}

size_t deflate_lines_bound(size_t n) {
    /* a literal costs at most 15 bits, a match (>= 3 bytes) at most 15+5+15+13; the header
     * at most 14 + 19 * 3 + 316 * 7 bits; the end of block and the stored block 8 bytes, and
     * bits_flush stores 8 bytes ahead */
    return 2 * n + 400 + 16;
}

/* ---- image bytes ------------------------------------------------------------------------------
 * The bytes of a noisy MR image are close to random in their low bits: an LZ77 search finds few
 * repeats worth their cost, and most of a general deflater's time goes into looking for them
 * (libdeflate level 1 gains 0-8 % over Huffman coding alone on our int16 images, at a third of
 * the speed). So: blocks of IMG_BLOCK bytes, each a dynamic-Huffman block whose codes come from
 * the byte counts of an eighth of its bytes (the first 8 of every 64: a full count was a third
 * of the time), every byte value between the block's smallest and largest at its place in an
 * element getting a code too (at most MAXBITS bits: four literals a store). A block in which
 * more than one element in IMG_RUNS repeats the element before (noiseless air, a fat fraction
 * of 0 outside the body; judged on the same sample) is parsed for runs instead: a run of equal
 * elements becomes matches at the element's distance. A block its codes would not shrink is
 * stored: by the sample's estimate, or once coded (the writer is then wound back to the
 * block's start, hence the bound's slack of a block). The bytes depend only on the input. */
#define IMG_BLOCK 32768
#define IMG_RUNS 8
#define IMG_ROWS 16   /* int16: a table of both bytes' codes when the high bytes span at most 16 */
#define IMG_STRIDE 64 /* the sample: the first 8 bytes of every IMG_STRIDE */

/* The zero lanes of es bytes (1, 2, 4 or 8) in x. */
static inline unsigned zero_lanes(uint64_t x, size_t es) {
    if (es == 8) return x == 0;
    const uint64_t m = es == 4   ? 0x7fffffff7fffffffull
                       : es == 2 ? 0x7fff7fff7fff7fffull
                                 : 0x7f7f7f7f7f7f7f7full;
    return (unsigned)__builtin_popcountll(~(((x & m) + m) | x | m));
}

static int len_extra(int sym) {
    return sym < 265 || sym == 285 ? 0 : (sym - 261) / 4;
}
static int dist_extra(int sym) {
    return sym < 4 ? 0 : sym / 2 - 1;
}

/* Writes a stored block of t[0..k) (k <= 65535). */
static void stored_block(bitw *w, int final, const uint8_t *t, size_t k) {
    bits_put(w, (uint32_t) final, 1);
    bits_put(w, 0, 2);
    bits_align(w);
    uint8_t h[4] = {(uint8_t)k, (uint8_t)(k >> 8), (uint8_t)~k, (uint8_t)(~k >> 8)};
    memcpy(w->p, h, 4);
    memcpy(w->p + 4, t, k);
    w->p += 4 + k;
}

/* The slack a block's Huffman codes may write beyond its stored size before it is found to be
 * larger and written stored instead: its header (< 300 bytes) and up to MAXBITS bits a byte. */
#define IMG_SLACK (IMG_BLOCK / 2 + 320)

size_t deflate_image_bound(size_t n) {
    /* a block is never larger than stored: 5 bytes of header and 1 of padding; 8 bytes of
     * slack for bits_flush, and the empty final block of an empty input */
    return n + (n / IMG_BLOCK + 1) * 6 + 16 + IMG_SLACK;
}

/* Four literals of t, tab[byte] their code and its length << 16 (<= MAXBITS bits each), in one
 * store. */
static inline void put4(bitw *w, const uint32_t *tab, const uint8_t *t) {
    uint32_t a = tab[t[0]], b = tab[t[1]], c = tab[t[2]], d = tab[t[3]];
    bits_add(w, a & 0xffff, a >> 16);
    bits_add(w, b & 0xffff, b >> 16);
    bits_add(w, c & 0xffff, c >> 16);
    bits_add(w, d & 0xffff, d >> 16);
    bits_flush(w);
}

/* Two int16 elements of t, tab2[element - base] the codes of both bytes and their length << 24,
 * in one store. */
static inline void put2x2(bitw *w, const uint32_t *tab2, const uint8_t *t, uint32_t base) {
    uint16_t x, y;
    memcpy(&x, t, 2);
    memcpy(&y, t + 2, 2);
    uint32_t a = tab2[x - base], b = tab2[y - base];
    bits_add(w, a & 0xffffff, a >> 24);
    bits_add(w, b & 0xffffff, b >> 24);
    bits_flush(w);
}

/* While a block is coded, the next one is fetched into the cache (a line in every 64 bytes):
 * its sample is then not waiting for memory. */
#define PREFETCH(t, i, k, left)                                                                    \
    do {                                                                                           \
        if ((i) + (k) < (left)) __builtin_prefetch((t) + (i) + (k));                               \
    } while (0)

__attribute__((target_clones("arch=x86-64-v3", "default"))) size_t
deflate_image(const uint8_t *in, size_t n, size_t es, uint8_t *out, size_t cap) {
    if (cap < deflate_image_bound(n)) return 0;
    if (es != 2 && es != 4 && es != 8) es = 1;
    uint16_t *tok = malloc(IMG_BLOCK * sizeof *tok); /* runs: literal, or 256 + match length */
    if (!tok) return 0;
    bitw w = {out, 0, 0};
    if (!n) { /* one empty final block (fixed codes: end of block only) */
        bits_put(&w, 1, 1);
        bits_put(&w, 1, 2);
        bits_put(&w, 0, 7);
    }
    int dsym, dnb, dval; /* the distance of a run: one element */
    dist_code((int)es, &dsym, &dnb, &dval);
    for (size_t off = 0; off < n; off += IMG_BLOCK) {
        const size_t k = n - off < IMG_BLOCK ? n - off : IMG_BLOCK;
        const uint8_t *t = in + off;
        const int final = off + k == n;
        /* the sample: byte counts and repeated elements of the first 8 bytes of every
         * IMG_STRIDE (eight count tables: the high bytes of an int16 image, mostly alike, then
         * wait less for each other's increments) */
        uint32_t f8[8][256] = {{0}};
        size_t rep = 0, cmp = 0, sampled = 0;
        for (size_t i = 0; i + 8 <= k; i += IMG_STRIDE) {
            f8[0][t[i]]++, f8[1][t[i + 1]]++, f8[2][t[i + 2]]++, f8[3][t[i + 3]]++,
                f8[4][t[i + 4]]++, f8[5][t[i + 5]]++, f8[6][t[i + 6]]++, f8[7][t[i + 7]]++;
            sampled += 8;
            if (off + i < es) continue;
            uint64_t a, b;
            memcpy(&a, t + i, 8);
            memcpy(&b, t + i - es, 8);
            rep += zero_lanes(a ^ b, es), cmp += 8 / es;
        }
        const int runs = rep * IMG_RUNS > cmp;
        uint32_t lf[NLIT] = {0}, df[NDIST] = {0};
        size_t ntok = 0;
        int lane_lo[2] = {0, 0}, lane_hi[2] = {255, 255}; /* the byte ranges of es 2 */
        if (!runs) {
            for (int s = 0; s < 256; s++)
                lf[s] = f8[0][s] + f8[1][s] + f8[2][s] + f8[3][s] + f8[4][s] + f8[5][s] + f8[6][s] +
                        f8[7][s];
            /* a code for every byte value the sample may have missed: those between the
             * smallest and the largest byte at each place of an element */
            uint8_t lo[32], hi[32];
            memset(lo, 255, 32), memset(hi, 0, 32);
            size_t i = 0;
            for (; i + 32 <= k; i += 32)
                for (int j = 0; j < 32; j++) {
                    lo[j] = t[i + j] < lo[j] ? t[i + j] : lo[j];
                    hi[j] = t[i + j] > hi[j] ? t[i + j] : hi[j];
                }
            for (; i < k; i++) {
                lo[i % 32] = t[i] < lo[i % 32] ? t[i] : lo[i % 32];
                hi[i % 32] = t[i] > hi[i % 32] ? t[i] : hi[i % 32];
            }
            for (size_t e = 0; e < es; e++) {
                int a = 255, b = 0;
                for (size_t j = e; j < 32; j += es) {
                    a = lo[j] < a ? lo[j] : a;
                    b = hi[j] > b ? hi[j] : b;
                }
                for (int s = a; s <= b; s++) lf[s] += !lf[s];
                if (e < 2) lane_lo[e] = a, lane_hi[e] = b;
            }
        } else {
            for (size_t p = 0; p < k;) {
                size_t l = 0;
                if (off + p >= es)
                    l = agree((const char *)t + p, (const char *)t + p - es,
                              k - p < 258 ? k - p : 258);
                if (l >= 3) {
                    int s, nb, v;
                    len_code((int)l, &s, &nb, &v);
                    lf[s]++, df[dsym]++;
                    tok[ntok++] = (uint16_t)(256 + l);
                    p += l;
                } else {
                    lf[t[p]]++;
                    tok[ntok++] = t[p++];
                }
            }
        }
        lf[256] = 1;
        int nlit = 257, ndist = runs ? dsym + 1 : 2;
        for (int s = 257; s < NLIT; s++)
            if (lf[s]) nlit = s + 1;
        if (ndist < 2) ndist = 2;
        two_codes(df, ndist); /* complete distance codes, also when no match is used */
        uint8_t ll[NLIT], dl[NDIST];
        uint16_t lc[NLIT], dc[NDIST];
        huff_lengths(lf, nlit, MAXBITS, ll);
        huff_lengths(df, ndist, MAXBITS, dl);
        /* the block's size in bits: exact for runs, from the sample otherwise */
        size_t bits = 0;
        for (int s = 0; s < nlit; s++) bits += (size_t)lf[s] * (ll[s] + (size_t)len_extra(s));
        for (int s = 0; s < ndist && runs; s++)
            bits += (size_t)df[s] * (dl[s] + (size_t)dist_extra(s));
        if (!runs && sampled) bits = bits * k / sampled;
        block_head h;
        head_plan(&h, ll, nlit, dl, ndist);
        bits += h.bits;
        const size_t stored = 3 + (8 - (w.n + 3) % 8) % 8 + 32 + 8 * k;
        if (bits >= stored) {
            stored_block(&w, final, t, k);
            continue;
        }
        const bitw at = w; /* to write the block stored after all */
        huff_codes(ll, nlit, lc);
        huff_codes(dl, ndist, dc);
        head_write(&w, final, &h);
        if (!runs) {
            uint32_t tab[256];
            for (int s = 0; s < 256; s++) tab[s] = lc[s] | (uint32_t)ll[s] << 16;
            size_t i = 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
            if (es == 2 && lane_hi[1] - lane_lo[1] < IMG_ROWS) {
                /* int16 elements whose high bytes span few values: one look-up an element in
                 * a table of both bytes' codes (their lengths << 24), of the high bytes'
                 * range by the low bytes' */
                uint32_t tab2[IMG_ROWS * 256];
                const uint32_t base = (uint32_t)lane_lo[1] << 8;
                for (int y = lane_lo[1]; y <= lane_hi[1]; y++)
                    for (int x = lane_lo[0]; x <= lane_hi[0]; x++)
                        tab2[((uint32_t)y << 8 | (uint32_t)x) - base] =
                            (lc[x] | (uint32_t)lc[y] << ll[x]) | (uint32_t)(ll[x] + ll[y]) << 24;
                for (; i + 64 <= k; i += 64) {
                    PREFETCH(t, i, k, n - off);
                    for (size_t j = i; j < i + 64; j += 4) put2x2(&w, tab2, t + j, base);
                }
                for (; i + 4 <= k; i += 4) put2x2(&w, tab2, t + i, base);
            }
#endif
            for (; i + 64 <= k; i += 64) {
                PREFETCH(t, i, k, n - off);
                for (size_t j = i; j < i + 64; j += 4) put4(&w, tab, t + j);
            }
            for (; i + 4 <= k; i += 4) put4(&w, tab, t + i);
            for (; i < k; i++) bits_put(&w, lc[t[i]], ll[t[i]]);
        } else {
            const uint32_t dcode = dc[dsym] | (uint32_t)dval << dl[dsym];
            const unsigned dlen = dl[dsym] + (unsigned)dnb;
            for (size_t i = 0; i < ntok; i++) {
                if (tok[i] < 256) {
                    bits_put(&w, lc[tok[i]], ll[tok[i]]);
                    continue;
                }
                int s, nb, v;
                len_code(tok[i] - 256, &s, &nb, &v);
                bits_add(&w, lc[s] | (uint32_t)v << ll[s], ll[s] + (unsigned)nb);
                bits_add(&w, dcode, dlen);
                bits_flush(&w);
            }
        }
        bits_put(&w, lc[256], ll[256]);                        /* end of block */
        if ((size_t)(w.p - at.p) * 8 + w.n - at.n >= stored) { /* the sample misled */
            w = at;
            stored_block(&w, final, t, k);
        }
    }
    bits_align(&w);
    free(tok);
    return (size_t)(w.p - out);
}
