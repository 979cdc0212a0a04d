/* sdf.h — private to volume/: the signed-distance shape trees the anatomy engine evaluates.
 *
 * A shape is a tree of nodes stored in one array; children are contiguous index ranges.
 * Numeric fields are `num`: constant k, or k * (subject parameter p) when p >= 0, resolved
 * once per subject by sdf_resolve() into `v`.
 */
#ifndef SB_SDF_H
#define SB_SDF_H

#include <stddef.h>

typedef enum {
    SDF_SPHERE,
    SDF_ELLIPSOID,
    SDF_SUPERQUADRIC,
    SDF_BOX,
    SDF_CAPSULE,
    SDF_TUBE,
    SDF_TORUS,
    SDF_HALFSPACE,
    SDF_UNION,
    SDF_SMOOTH_UNION,
    SDF_INTERSECT,
    SDF_DIFFERENCE,
    SDF_SHELL,
    SDF_OFFSET,
    SDF_MIRROR_X,
    SDF_REF /* a named shape: `first` is its index in the context's shapes */
} sdf_kind;

/* A number of the description: k, or k * parameter[param] if param >= 0. */
typedef struct {
    double k;
    int param;
} sdf_num;

#define SDF_MAX_NUMS 12

typedef struct sdf_node {
    sdf_kind kind;
    int first, count; /* children: nodes[first .. first+count-1] (composites) */
    int nnum;
    sdf_num num[SDF_MAX_NUMS]; /* raw fields, meaning by kind (see sdf.c) */
    double v[SDF_MAX_NUMS];    /* resolved values */
    double rot[3][3];          /* world->local rotation (from rot degrees), identity if none */
    int has_rot;
    double *pts; /* tube: resolved spline samples, 4 doubles (x,y,z,r) each */
    int npts;
    double *raw_pts; /* tube: control points as given (4 doubles each) */
    sdf_num *raw_pts_num;
    int nraw, closed;
    double lo[3], hi[3]; /* bounding box (resolved) */
    int leaf;            /* a primitive with identical twins: its slot in sdf_ctx.leaf, else -1 */
    int half;            /* an intersection: 1 + the index of its first half-space child, else 0 */
} sdf_node;

typedef struct sdf_tree {
    sdf_node *nodes;
    int n, cap;
    int root;
} sdf_tree;

/* Named shapes that SDF_REF nodes refer to, with a per-thread memo: several structures refer
 * to the same named shape (body, lean, cavities) at the same point, which is then evaluated
 * once. One context per thread; values are keyed by the exact point. */
/* Culling of a union's members over a cell (a cube of SDF_CELL_MM in the union's frame): per
 * member, lower bounds over the cell of its box distance and of its value; a member whose bound
 * shows that it is skipped, or adds nothing to the (smooth) minimum, is not looked at. */
#ifndef SDF_CELL_MM
#define SDF_CELL_MM 32.0
#endif
#define SDF_CELL_MAX 64 /* members; larger unions are evaluated without it */
typedef struct sdf_cell {
    const sdf_node *node; /* the union, or NULL */
    double cell[3];       /* the cell's low corner */
    int ncand;            /* members that can be the nearest box at a point of the cell */
    unsigned char cand[SDF_CELL_MAX];
    double lb[SDF_CELL_MAX]; /* a member with lb[c] >= d + k cannot change d (see sdf.c) */
    unsigned char by_lb[SDF_CELL_MAX]; /* the members by lb, ascending (equals by index) */
} sdf_cell;
#ifndef SDF_CELLS
#define SDF_CELLS 256 /* cells kept, by union and position */
#endif

typedef struct sdf_ctx {
    const sdf_tree *shapes;
    int n;
    double *memo; /* 5 doubles per shape: x, y, z, value, the limit it was found with */
    unsigned char *have;
    sdf_cell *cells; /* SDF_CELLS, hashed by the union's address and the cell; NULL: no culling */
    int nleaf;
    double *leaf; /* 4 doubles per leaf slot (see sdf_share_leaves): x, y, z, value; x NaN: none */
} sdf_ctx;

/* Allocates the memo; 0 on out of memory. */
int sdf_ctx_init(sdf_ctx *c, const sdf_tree *shapes, int n);
/* Gives the primitives (sphere, ellipsoid, superquadric, box, capsule, torus) of the n resolved
 * named shapes that have an identical twin among them (same kind, numbers and rotation) a
 * common slot: a context made afterwards keeps, per slot, the last point evaluated and its value,
 * and a twin met at the same point takes that value (the same bits: the same formula on the same
 * numbers). "body" and "lean" share most of their members, and the skin, fat and muscle evaluate
 * both at one point. Slots are kept by copies of the trees; a tree resolved again must be shared
 * again. */
void sdf_share_leaves(sdf_tree *shapes, int n);
void sdf_ctx_free(sdf_ctx *c);
/* Signed distance of p to named shape k, memoised. */
double sdf_eval_shape(sdf_ctx *c, int k, const double p[3]);
/* The same with a limit (see sdf_eval_below); a memoised value answers the same or a lower
 * limit. */
double sdf_eval_shape_below(sdf_ctx *c, int k, const double p[3], double below);

/* Resolves numbers with the subject's parameters, samples tubes, computes bounding boxes
 * (references take their boxes from `shapes`, which must be resolved already).
 * Returns 0 on out of memory. */
int sdf_resolve(sdf_tree *t, const double *params, const sdf_tree *shapes);
/* Signed distance (mm; negative inside) of point p to node i of tree t. */
double sdf_eval(const sdf_tree *t, int i, const double p[3], sdf_ctx *c);
/* sdf_eval for a caller that needs the value only where it is below `below` (a voxel's label
 * needs d < 0; culling, d up to a margin): the same value, bit for bit, when it is below
 * `below`; otherwise some value >= below, found without evaluating what cannot bring it under
 * the limit (an intersection stops at its first operand at or above it; a difference whose
 * first operand is at or above it skips the parts cut away). HUGE_VAL gives sdf_eval. */
double sdf_eval_below(const sdf_tree *t, int i, const double p[3], sdf_ctx *c, double below);
void sdf_tree_free(sdf_tree *t);
/* Appends a node; returns its index or -1. */
int sdf_tree_add(sdf_tree *t, sdf_kind kind);

#endif
