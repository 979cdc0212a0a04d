/* sculpt_pack.h — private to `synthbody sculpt` (core/pipeline/sculpt_cmd.c): rectangles packed
 * onto bins (build plates, laser sheets) and the engraving font. */
#ifndef SB_SCULPT_PACK_H
#define SB_SCULPT_PACK_H

#include <stddef.h>

/* One rectangle: w x h in; bin (0-based) and lower corner x, y out. */
typedef struct pack_item {
    double w, h;
    size_t bin;
    double x, y;
} pack_item;

/* First-fit decreasing-height shelf packing (Coffman, Garey, Johnson & Tarjan 1980, "FFDH") onto
 * bins of W x H: the items taken by decreasing h (ties: their order), each put on the first shelf
 * of any bin with room left, else on a new shelf of the first bin with height left, else on a new
 * bin. `margin` keeps every item that far from the bin's edges, `gap` between items. No item
 * overlaps another (with the gap) or leaves its bin (with the margin); the result depends on
 * the items only. Returns the number of bins, or 0 with *bad = the first item larger than a bin
 * (or 0 on out of memory, *bad = n). */
size_t pack_shelves(pack_item *it, size_t n, double W, double H, double margin, double gap,
                    size_t *bad);

/* The 3 x 5 pixel glyph of a digit: 1 if pixel (col 0..2 from the left, row 0..4 from the top)
 * is set; 0 for any other character. */
int digit_pixel(char c, int col, int row);

#endif
