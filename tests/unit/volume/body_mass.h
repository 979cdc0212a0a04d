/* body_mass.h — tissue densities for body masses measured on tissue maps (the volume unit
 * tests and tests/bench/anatomy_validate). */
#ifndef SB_TEST_BODY_MASS_H
#define SB_TEST_BODY_MASS_H

#include "sb_volume.h"

#include <string.h>

/* Tissue densities (g/ml; ICRP Publication 89 and 110, ../shared/reference ANATOMY.md), for the
 * body mass; tissues not listed: 1.04 (soft tissue). */
static inline double tissue_density(int tissue) {
    static double lut[256];
    static int ready;
    if (!ready) {
        static const struct {
            const char *name;
            double rho;
        } D[] = {{"background", 0.0},     {"air", 0.0},         {"fat", 0.92},
                 {"breast_gland", 1.02},  {"muscle", 1.05},     {"skin", 1.09},
                 {"cortical_bone", 1.92}, {"red_marrow", 1.03}, {"yellow_marrow", 0.98},
                 {"lung", 0.30},          {"blood", 1.06},      {"csf", 1.01},
                 {"bowel_content", 1.0},  {"urine", 1.01},      {"bile", 1.01},
                 {"cartilage", 1.10},     {"disc", 1.10},       {"tendon", 1.12}};
        for (int i = 0; i < 256; i++) lut[i] = 1.04;
        for (int i = 0; sb_tissue_table[i].name; i++)
            for (size_t k = 0; k < sizeof D / sizeof D[0]; k++)
                if (!strcmp(sb_tissue_table[i].name, D[k].name)) lut[i] = D[k].rho;
        ready = 1;
    }
    return lut[tissue];
}

/* Body mass (kg) of a tissue map. */
static inline double body_mass_kg(const sb_volume *tissues) {
    const uint8_t *t = tissues->data;
    double g = 0;
    for (size_t i = 0; i < sb_volume_nvox(tissues); i++) g += tissue_density(t[i]);
    return g * tissues->spacing[0] * tissues->spacing[1] * tissues->spacing[2] * 1e-6;
}

#endif
