/* cli_mr.c — the MR acquisition options of generate and batch: one parser, so that a batch
 * subject is made with exactly what `generate` would make of the same options. */
#include "cli_mr.h"

#include "cli_parse.h"

#include <stdio.h>
#include <string.h>

const char *const SB_CLI_MR_OPTIONS[] = {
    "--field",          "--snr",        "--bias",       "--texture",  "--acq-voxel",
    "--slice",          "--stations",   "--overlap-mm", "--ghosting", "--ghost-period",
    "--fat-water-swap", "--flow-voids", "--compress",   NULL};

#define BAD(...) (snprintf(why, n, __VA_ARGS__), -1)

int sb_cli_mr_option(const char *name, const char *val, sb_generate_opts *g, char *why, size_t n) {
    int known = 0;
    for (int i = 0; SB_CLI_MR_OPTIONS[i] && !known; i++)
        known = !strcmp(name, SB_CLI_MR_OPTIONS[i]);
    if (!known) return 0;
    if (!strcmp(name, "--compress")) {
        if (strcmp(val, "gzip") && strcmp(val, "none"))
            return BAD("--compress: \"%s\" is not gzip or none", val);
        g->uncompressed = !strcmp(val, "none");
        return 1;
    }
    if (!strcmp(name, "--stations") || !strcmp(name, "--ghost-period")) {
        uint64_t u;
        if (!sb_cli_parse_u64(name, val, &u, why, n)) return -1;
        int st = !strcmp(name, "--stations");
        if (st ? u < 1 || u > SB_STATIONS_MAX : u < 2 || u > 1024)
            return BAD("%s %s is outside %d..%d", name, val, st ? 1 : 2,
                       st ? SB_STATIONS_MAX : 1024);
        if (st)
            g->stations = (int)u;
        else
            g->ghost_period = (int)u;
        return 1;
    }
    double d;
    if (!sb_cli_parse_double(name, val, &d, why, n)) return -1;
    if (!strcmp(name, "--flow-voids")) {
        if (!(d >= 0 && d <= 500)) return BAD("--flow-voids %s is outside 0..500 cm/s", val);
        g->flow_cm_s = d;
    } else if (!strcmp(name, "--overlap-mm") || !strcmp(name, "--ghosting") ||
               !strcmp(name, "--fat-water-swap")) {
        double hi = !strcmp(name, "--overlap-mm") ? 1000 : !strcmp(name, "--ghosting") ? 0.5 : 1;
        if (!(d >= 0 && d <= hi)) return BAD("%s %s is outside 0..%g", name, val, hi);
        if (!strcmp(name, "--overlap-mm"))
            g->overlap_mm = d, g->has_overlap = 1;
        else if (!strcmp(name, "--ghosting"))
            g->ghosting = d;
        else
            g->fat_water_swap = d;
    } else if (!strcmp(name, "--texture")) {
        if (!(d >= 0 && d <= 0.3)) return BAD("--texture %s is outside 0..0.3", val);
        g->texture = d;
    } else if (!strcmp(name, "--acq-voxel") || !strcmp(name, "--slice")) {
        if (!(d > 0 && d <= 50)) return BAD("%s %s is outside 0..50 mm", name, val);
        if (!strcmp(name, "--slice"))
            g->slice_mm = d;
        else
            g->acq_voxel_mm = d;
    } else if (!strcmp(name, "--field")) {
        if (d != 1.5 && d != 3) return BAD("--field %s: 1.5 or 3 (tesla)", val);
        g->field_t = d;
    } else if (!strcmp(name, "--snr")) {
        if (!(d >= 0 && d <= 10000)) return BAD("--snr %s is outside 0..10000 (0: no noise)", val);
        g->snr = d, g->has_snr = 1;
    } else { /* --bias */
        if (!(d >= 0 && d <= 0.8)) return BAD("--bias %s is outside 0..0.8", val);
        g->bias = d, g->has_bias = 1;
    }
    return 1;
}
