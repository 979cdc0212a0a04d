/* sculpt_pack.c — shelf packing of rectangles onto bins and a digit font (sculpt_pack.h). */
#include "sculpt_pack.h"

#include <stdlib.h>

typedef struct shelf {
    size_t bin;
    double y, h, used; /* its lower edge, height and the width used so far */
} shelf;

static int by_height(const void *a, const void *b, const pack_item *it) {
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    if (it[i].h != it[j].h) return it[i].h > it[j].h ? -1 : 1;
    return i < j ? -1 : i > j;
}

/* insertion sort: qsort has no context argument in C11, and n is small (parts of a sculpture) */
static void sort_order(size_t *ord, size_t n, const pack_item *it) {
    for (size_t i = 1; i < n; i++) {
        size_t x = ord[i], k = i;
        while (k > 0 && by_height(&x, &ord[k - 1], it) < 0) {
            ord[k] = ord[k - 1];
            k--;
        }
        ord[k] = x;
    }
}

size_t pack_shelves(pack_item *it, size_t n, double W, double H, double margin, double gap,
                    size_t *bad) {
    /* items grown by the gap in a bin shrunk by the margin and grown by the gap */
    double bw = W - 2 * margin + gap, bh = H - 2 * margin + gap;
    for (size_t i = 0; i < n; i++)
        if (!(it[i].w + gap <= bw && it[i].h + gap <= bh)) {
            *bad = i;
            return 0;
        }
    size_t *ord = malloc((n ? n : 1) * sizeof *ord);
    shelf *sh = malloc((n ? n : 1) * sizeof *sh);
    double *top = malloc((n ? n : 1) * sizeof *top); /* per bin: height used by its shelves */
    if (!ord || !sh || !top) {
        free(ord), free(sh), free(top);
        *bad = n;
        return 0;
    }
    for (size_t i = 0; i < n; i++) ord[i] = i;
    sort_order(ord, n, it);
    size_t nsh = 0, nbins = 0;
    for (size_t r = 0; r < n; r++) {
        pack_item *p = &it[ord[r]];
        double w = p->w + gap, h = p->h + gap;
        size_t s = 0;
        while (s < nsh && !(sh[s].used + w <= bw && h <= sh[s].h)) s++;
        if (s == nsh) { /* a new shelf: the first bin with height left, else a new bin */
            size_t b = 0;
            while (b < nbins && !(top[b] + h <= bh)) b++;
            if (b == nbins) top[nbins++] = 0;
            sh[nsh++] = (shelf){.bin = b, .y = top[b], .h = h, .used = 0};
            top[b] += h;
        }
        p->bin = sh[s].bin;
        p->x = margin + sh[s].used;
        p->y = margin + sh[s].y;
        sh[s].used += w;
    }
    free(ord), free(sh), free(top);
    return nbins;
}

/* 3 x 5 digits, one row per 3 bits (bit 2 = the left column), rows top to bottom */
static const unsigned char DIGITS[10][5] = {
    {7, 5, 5, 5, 7}, {2, 6, 2, 2, 7}, {7, 1, 7, 4, 7}, {7, 1, 3, 1, 7}, {5, 5, 7, 1, 1},
    {7, 4, 7, 1, 7}, {7, 4, 7, 5, 7}, {7, 1, 1, 2, 2}, {7, 5, 7, 5, 7}, {7, 5, 7, 1, 7}};

int digit_pixel(char c, int col, int row) {
    if (c < '0' || c > '9' || col < 0 || col > 2 || row < 0 || row > 4) return 0;
    return (DIGITS[c - '0'][row] >> (2 - col)) & 1;
}
