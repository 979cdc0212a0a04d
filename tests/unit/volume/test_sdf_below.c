/* Unit test of sdf_eval_below (volume/sdf.c), which the voxelizer uses to skip what cannot
 * change a decision: on every structure of the default anatomy, at points in and around its
 * box, the value under a limit is the exact value bit for bit when the exact value is below the
 * limit (or NaN), and a value at or above the limit otherwise; memoised named shapes answer the
 * same (one context shared by both evaluations, so a value found under a limit is looked up again
 * under other limits); the culling of union members over cells and the values shared by twin
 * primitives give the same bits as the plain evaluation. The voxelizer's maps are compared
 * before and after by tests/bench/voxelize_bench --hash-all. */
#include "anatomy_internal.h"
#include "sb_test.h"

#include <stdlib.h>
#include <string.h>

#define POINTS 400 /* per structure */

int main(void) {
    sb_anatomy *a = NULL;
    sb_error err;
    CHECK_OK(sb_anatomy_load_default(&a, &err));
    if (!a) {
        fprintf(stderr, "default anatomy: %s\n", err.msg);
        TEST_RETURN();
    }
    sdf_tree *shapes = malloc((size_t)(a->nshapes ? a->nshapes : 1) * sizeof *shapes);
    CHECK(shapes != NULL);
    if (!shapes) TEST_RETURN();
    for (int i = 0; i < a->nshapes; i++) shapes[i] = a->shapes[i].tree;
    sdf_ctx cx;
    CHECK(sdf_ctx_init(&cx, shapes, a->nshapes));
    const double limits[] = {-3.0, 0.0, 0.5, 2.0, 7.0};
    const int nlim = (int)(sizeof limits / sizeof limits[0]);
    sb_rng r;
    sb_rng_init(&r, 12345, 0, 0);
    long exact = 0, cut = 0, wrong = 0;
    for (int s = 0; s < a->nstructs; s++) {
        const sdf_tree *t = &a->structs[s].tree;
        const sdf_node *root = &t->nodes[t->root];
        for (int n = 0; n < POINTS; n++) {
            /* uniform in the box grown by 10 mm (boxes of half-spaces are huge: capped) */
            double p[3];
            for (int k = 0; k < 3; k++) {
                double lo = fmax(root->lo[k] - 10.0, -1000.0),
                       hi = fmin(root->hi[k] + 10.0, 3000.0);
                p[k] = lo + (hi - lo) * sb_rng_uniform(&r);
            }
            for (int l = 0; l < nlim; l++) {
                double below = sdf_eval_below(t, t->root, p, &cx, limits[l]);
                double v = sdf_eval(t, t->root, p, &cx);
                /* a NaN (a shape of zero size: the breasts at the reference man's parameters)
                 * goes through the same operations */
                int ok = v < limits[l] || isnan(v) ? memcmp(&below, &v, sizeof v) == 0
                                                   : below >= limits[l];
                if (!ok && wrong++ < 10)
                    fprintf(stderr, "%s at (%g, %g, %g), limit %g: %.17g, exact %.17g\n",
                            a->structs[s].label.name, p[0], p[1], p[2], limits[l], below, v);
                if (v < limits[l] || isnan(v))
                    exact++;
                else
                    cut += below != v;
            }
        }
    }
    CHECK(wrong == 0);
    /* the limit does skip work: values at or above it differ from the exact ones somewhere */
    CHECK(cut > 0);
    printf("%d structures, %ld values below the limit (exact), %ld cut short, %ld wrong\n",
           a->nstructs, exact, cut, wrong);

    /* The culling of union members over cells (sdf_cell) gives the same values bit for bit as
     * the plain evaluation (a context without cells), on every structure and named shape (body
     * and lean: smooth unions of 21-23 members), at points in clusters of 60 mm, so that many
     * share a cell, and under the limits above. */
    sdf_ctx plain;
    CHECK(sdf_ctx_init(&plain, shapes, a->nshapes));
    free(plain.cells);
    plain.cells = NULL;
    long same = 0, differ = 0;
    for (int s = 0; s < a->nstructs + a->nshapes; s++) {
        const sdf_tree *t = s < a->nstructs ? &a->structs[s].tree : &shapes[s - a->nstructs];
        const sdf_node *root = &t->nodes[t->root];
        for (int c = 0; c < POINTS / 20; c++) {
            double centre[3];
            for (int k = 0; k < 3; k++) {
                double lo = fmax(root->lo[k] - 10.0, -1000.0),
                       hi = fmin(root->hi[k] + 10.0, 3000.0);
                centre[k] = lo + (hi - lo) * sb_rng_uniform(&r);
            }
            for (int n = 0; n < 20; n++) {
                double p[3];
                for (int k = 0; k < 3; k++) p[k] = centre[k] + 60.0 * (sb_rng_uniform(&r) - 0.5);
                for (int l = 0; l <= nlim; l++) {
                    double lim = l < nlim ? limits[l] : HUGE_VAL;
                    double u = sdf_eval_below(t, t->root, p, &cx, lim),
                           w = sdf_eval_below(t, t->root, p, &plain, lim);
                    if (memcmp(&u, &w, sizeof u) == 0) {
                        same++;
                    } else if (differ++ < 10) {
                        fprintf(stderr, "%s at (%g, %g, %g), limit %g: %.17g culled, %.17g plain\n",
                                s < a->nstructs ? a->structs[s].label.name
                                                : a->shapes[s - a->nstructs].name,
                                p[0], p[1], p[2], lim, u, w);
                    }
                }
            }
        }
    }
    int used = 0; /* the culling was used */
    for (int i = 0; i < SDF_CELLS; i++) used += cx.cells[i].node != NULL;
    CHECK(differ == 0);
    CHECK(used > 0);
    printf("cells: %ld values the same with and without, %ld differ; %d cells in use\n", same,
           differ, used);
    sdf_ctx_free(&plain);
    sdf_ctx_free(&cx);

    /* Twin primitives (sdf_share_leaves): the value a twin found at the same point is taken,
     * with the same bits as evaluating it. Every structure and named shape at one point after
     * the other (body and lean share most members, so twins meet at the same point), compared
     * with a context that evaluates every primitive. */
    sdf_share_leaves(shapes, a->nshapes);
    sdf_ctx twin, each;
    CHECK(sdf_ctx_init(&twin, shapes, a->nshapes));
    CHECK(sdf_ctx_init(&each, shapes, a->nshapes));
    CHECK(twin.nleaf > 0);
    each.nleaf = 0; /* (its slots unused) */
    long tsame = 0, tdiffer = 0;
    for (int n = 0; n < 4 * POINTS; n++) {
        /* in the body's box */
        const sdf_node *b = &shapes[a->body_shape].nodes[shapes[a->body_shape].root];
        double p[3];
        for (int k = 0; k < 3; k++) p[k] = b->lo[k] + (b->hi[k] - b->lo[k]) * sb_rng_uniform(&r);
        for (int s = 0; s < a->nstructs + a->nshapes; s++) {
            const sdf_tree *t = s < a->nstructs ? &a->structs[s].tree : &shapes[s - a->nstructs];
            const double lim = limits[(n + s) % nlim];
            double u = sdf_eval_below(t, t->root, p, &twin, lim),
                   w = sdf_eval_below(t, t->root, p, &each, lim);
            if (memcmp(&u, &w, sizeof u) == 0) {
                tsame++;
            } else if (tdiffer++ < 10) {
                fprintf(stderr, "%s at (%g, %g, %g), limit %g: %.17g with twins, %.17g without\n",
                        s < a->nstructs ? a->structs[s].label.name
                                        : a->shapes[s - a->nstructs].name,
                        p[0], p[1], p[2], lim, u, w);
            }
        }
    }
    CHECK(tdiffer == 0);
    printf("twins: %d slots, %ld values the same with and without, %ld differ\n", twin.nleaf, tsame,
           tdiffer);
    sdf_ctx_free(&twin);
    sdf_ctx_free(&each);
    free(shapes);
    sb_anatomy_free(a);
    TEST_RETURN();
}
