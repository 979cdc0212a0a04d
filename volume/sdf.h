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
    SDF_MIRROR_X
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
} sdf_node;

typedef struct sdf_tree {
    sdf_node *nodes;
    int n, cap;
    int root;
} sdf_tree;

/* Resolves numbers with the subject's parameters, samples tubes, computes bounding boxes.
 * Returns 0 on out of memory. */
int sdf_resolve(sdf_tree *t, const double *params);
/* Signed distance (mm; negative inside) of point p to node i of tree t. */
double sdf_eval(const sdf_tree *t, int i, const double p[3]);
void sdf_tree_free(sdf_tree *t);
/* Appends a node; returns its index or -1. */
int sdf_tree_add(sdf_tree *t, sdf_kind kind);

#endif
