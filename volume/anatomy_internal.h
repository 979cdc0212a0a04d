/* anatomy_internal.h — private to volume/: a loaded anatomy description (see
 * README "Anatomy description format") and the per-subject scene made from it. */
#ifndef SB_ANATOMY_INTERNAL_H
#define SB_ANATOMY_INTERNAL_H

#include "sb_volume.h"
#include "sdf.h"

/* Subject parameters usable in numbers ("k*name"); order fixed, listed in the README. */
enum {
    P_SKIN_MM,
    P_FAT_TRUNK_MM,
    P_FAT_HIP_MM,
    P_FAT_LIMB_MM,
    P_FAT_HEAD_MM,
    P_FAT_BREAST_MM,
    P_BREAST_MM,
    P_VAT_MM,
    P_MUSCLE_SCALE,
    P_PELVIS_SCALE,
    P_SHOULDER_SCALE,
    P_HEAD_SCALE,
    P_CSF_MM,
    P_COUNT
};
extern const char *const sb_anatomy_param_names[P_COUNT];

typedef struct {
    char name[64];
    double p[3];
    int twin; /* made by mirroring a _right landmark; an explicit definition replaces it */
} anat_landmark;

typedef struct {
    char name[64];
    sdf_tree tree;
} anat_shape;

typedef enum { SCALE_BSA = 0, SCALE_NONE = 1, SCALE_HEIGHT = 2 } anat_scaling;

typedef struct {
    sb_label label;
    int priority, order;
    int sex;             /* -1 any, else sb_sex */
    int mirrored;        /* the left copy of a "mirror" structure: evaluated at x -> -x */
    int anchor;          /* landmark index (of the right-side original), -1: origin */
    double volume_ml[2]; /* [female, male]; 0: no size model */
    anat_scaling scaling;
    double cv, jitter_mm;
    int within; /* named shape index, -1: none */
    char core_tissue[32];
    double core_depth_mm;
    sdf_tree tree;
    double ref_volume_ml; /* the shape's own volume in the reference body */
    char file[160];       /* the document it came from, for messages */
    int several;          /* "connected": false — may consist of several pieces */
    uint32_t draw_key;    /* keys its random size and shift: the label id, or its size group's */
    char size_group[48];  /* "" if none */
    int volume_clipped;   /* volume_ml is the volume inside `within` (solved per subject) */
} anat_structure;

struct sb_anatomy {
    anat_landmark *landmarks;
    int nlandmarks;
    anat_shape *shapes;
    int nshapes;
    anat_structure *structs;
    int nstructs;
    int body_shape; /* index of the named shape "body" (the grid bounds), -1 if none */
};

int anat_find_landmark(const sb_anatomy *a, const char *name);
int anat_find_shape(const sb_anatomy *a, const char *name);
/* The reference man's parameter values. */
void anat_reference_params(double params[P_COUNT]);
/* Deep copy of a tree (tube arrays included); 0 on out of memory. */
int sdf_tree_copy(sdf_tree *dst, const sdf_tree *src);

/* specks.c: a structure that is one piece (connected[label] != 0) keeps no 26-connected piece
 * of at most SPECK_MAX voxels within SPECK_NEAR voxels of a larger piece of it; such specks of
 * planes [c0, c1) of the maps take their most common neighbour's label and tissue. With a skin
 * label (non-zero), small pockets of the outside enclosed by the body and labelled voxels
 * touching the outside become skin (tissue skin_tissue). Reads at most SPECK_HALO planes beyond
 * [c0, c1). -1 on out of memory (maps unchanged), else 0. */
#define SPECK_MAX 8
/* ...at any distance from the rest of a structure expected to fill more than this many voxels
 * (connected[label] == 2) */
#define SPECK_LARGE (64 * SPECK_MAX)
#define SPECK_BOX_FILL 64
#define SPECK_NEAR 4
/* connected[label] == SPECK_RESIZED: a structure resized for this subject (sb_subject.resize).
 * A speck touching one takes it rather than its most common neighbour, and its own specks stay:
 * every label the resize changes is then the structure's in the map with or without it (a
 * speck of the organ given to a neighbour, or a piece it cuts off given to another, would
 * change a label outside it) */
#define SPECK_RESIZED 4
#define SPECK_HALO (2 * SPECK_MAX + SPECK_NEAR)
_Static_assert(SPECK_HALO <= SB_SLAB_MARGIN, "the slab margin must cover the speck rule");
int specks_clear(sb_anatomy_maps *m, size_t c0, size_t c1, const uint8_t *connected, uint16_t skin,
                 uint8_t skin_tissue, int threads);

#endif
