/* deform.h — private to volume/: the smooth random deformation applied to a subject's anatomy
 * (deform.c). */
#ifndef SB_DEFORM_H
#define SB_DEFORM_H

#include "sb_core.h"

typedef struct {
    double lo[3], step;
    size_t n[3];
    float *u; /* 3 components x n[2] x n[1] x n[0] displacements, mm; NULL: identity */
} deform_field;

/* Vertical displacements fade to 0 over this distance from the box's top and bottom. */
#define DEFORM_TAPER_MM 120.0

/* Samples a field covering [lo, hi] (mm). amplitude_mm <= 0 gives the identity. The vertical
 * component is 0 at the box's top and bottom (z = lo[2], hi[2]): the warp keeps the stature.
 * Returns 0 on out of memory. */
int deform_build(deform_field *f, const double lo[3], const double hi[3], double amplitude_mm,
                 double spacing_mm, double step_mm, uint64_t seed, uint32_t subject);
/* out = q + u(q) (u clamped to the field's box outside it). */
void deform_apply(const deform_field *f, const double q[3], double out[3]);
void deform_free(deform_field *f);

#endif
