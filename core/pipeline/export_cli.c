/* export_cli.c — `synthbody export`: options, messages and exit codes (README "Export"). */
#include "export_cli.h"

#include "cli_parse.h"
#include "cli_report.h"
#include "sb_pipeline.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char USAGE_EXPORT[] =
    "usage: synthbody export INPUT --out DIR [--formats stl,obj,ply,glb,3mf,vtp|all]\n"
    "                        [--select L] [--exclude L] [--units mm|m] [--up z|y] [--name N]\n"
    "                        [--smooth N] [--target-tris N] [--max-error-mm E] [--force]\n"
    "\n"
    "Meshes the labels of INPUT (a label NIfTI with labels.tsv beside it, or a `generate`\n"
    "output folder) and writes them into DIR: stl/<structure>.stl and N.stl (all structures),\n"
    "N.obj + N.mtl, N.ply, N.glb, N.3mf, N.vtp (N: --name, default the input's name), and\n"
    "manifest.json (every file: structures, triangles, volume, bounding box, units).\n"
    "One frame for every structure: world RAS+ from the NIfTI affine.\n"
    "\n"
    "  --formats L      comma list of stl, obj, ply, glb, 3mf, vtp, or all (default stl)\n"
    "  --select L       ids, names, groups (labels.tsv) and aliases: organs, vessels, heart,\n"
    "                   brain, muscles, bones, skeleton (default: every label present)\n"
    "  --exclude L      the same kinds, removed from the selection\n"
    "  --units U        mm or m (default: glb m, the others mm)\n"
    "  --up A           z or y (default: glb y, the others z; y: +Y superior, +Z anterior)\n"
    "  --name N         base name of the combined files\n"
    "  --smooth N       Taubin iterations (default 10), --target-tris N triangles per\n"
    "                   structure, --max-error-mm E simplification bound (default 0.1 voxel)\n"
    "print preparation (README \"Print preparation\"; sizes in printed mm):\n"
    "  --fit-mm X,Y,Z   scale the selection uniformly into an X x Y x Z mm build volume\n"
    "                   (centred on the bed, lowest point at z = 0, no rotation)\n"
    "  --hollow-mm T    make the --hollow structures shells with walls of T mm\n"
    "  --hollow L       what to hollow (as --select; default: the skin, else all)\n"
    "  --drain-mm D     drain holes of D mm at the lowest points of each cavity\n"
    "  --min-wall-mm W  warn about structures thinner than W mm (default 0.8)\n"
    "  --stand          a plate and a post under the model (stl/stand.stl)\n"
    "  --max-tris-per-file N, --max-mb-per-file M   budgets per written file\n"
    "  --threads N      worker threads (output bytes do not depend on N)\n";

typedef struct {
    int verbosity;
} export_cli;

#define fail(...) sb_cli_fail("export", __VA_ARGS__)

unsigned sb_cli_export_formats(const char *val, char *why, size_t n) {
    static const struct {
        const char *name;
        unsigned bit;
    } F[] = {{"stl", SB_EXPORT_STL}, {"obj", SB_EXPORT_OBJ}, {"ply", SB_EXPORT_PLY},
             {"glb", SB_EXPORT_GLB}, {"3mf", SB_EXPORT_3MF}, {"vtp", SB_EXPORT_VTP}};
    unsigned mask = 0;
    const char *p = val;
    while (*p) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        unsigned bit = 0;
        if (len == 3 && !strncmp(p, "all", 3)) bit = 63;
        for (size_t k = 0; k < sizeof F / sizeof F[0]; k++)
            if (strlen(F[k].name) == len && !strncmp(p, F[k].name, len)) bit = F[k].bit;
        if (!bit) {
            snprintf(why, n, "--formats: \"%.*s\" is not one of stl, obj, ply, glb, 3mf, vtp, all",
                     (int)len, p);
            return 0;
        }
        mask |= bit;
        p += len + (e ? 1 : 0);
    }
    if (!mask) snprintf(why, n, "--formats: empty list");
    return mask;
}

int sb_cli_export(int argc, char **argv) {
    export_cli c = {.verbosity = 1};
    sb_ctx ctx = {.threads = 0, .log = sb_cli_on_log, .user = &c};
    sb_export_opts o = {.smooth_iters = -1, .max_error_mm = -1};
    char why[600];
    static const char *const FLAGS[] = {"--force", "--stand", NULL};
    static const char *const VALUED[] = {"--out",
                                         "--formats",
                                         "--select",
                                         "--exclude",
                                         "--units",
                                         "--up",
                                         "--name",
                                         "--smooth",
                                         "--target-tris",
                                         "--max-error-mm",
                                         "--threads",
                                         "--fit-mm",
                                         "--hollow-mm",
                                         "--drain-mm",
                                         "--min-wall-mm",
                                         "--max-tris-per-file",
                                         "--max-mb-per-file",
                                         "--hollow",
                                         NULL};
    sb_cli_args args = sb_cli_start(argc, argv, FLAGS, VALUED, &c.verbosity);
    for (sb_cli_kind k; (k = sb_cli_next(&args, why, sizeof why)) != SB_CLI_END;) {
        const char *a = args.arg, *name = args.name, *val = args.val;
        if (k == SB_CLI_HELP) {
            fputs(USAGE_EXPORT, stdout);
            return 0;
        }
        if (k == SB_CLI_FLAG) {
            if (!strcmp(name, "--force")) o.force = 1;
            if (!strcmp(name, "--stand")) o.base = 1;
            continue;
        }
        if (k == SB_CLI_OPERAND) {
            if (o.input) return fail(SB_ERR_USAGE, "unexpected argument \"%s\"", a);
            o.input = a;
            continue;
        }
        if (k == SB_CLI_UNKNOWN) return fail(SB_ERR_USAGE, "unknown option \"%s\" for export", a);
        if (k == SB_CLI_BAD_VALUE) return fail(SB_ERR_USAGE, "%s", why);
        uint64_t u;
        double d;
        int cnt;
        if (!strcmp(name, "--out")) {
            o.out_dir = val;
        } else if (!strcmp(name, "--formats")) {
            if (!(o.formats = sb_cli_export_formats(val, why, sizeof why)))
                return fail(SB_ERR_USAGE, "%s", why);
        } else if (!strcmp(name, "--select")) {
            o.select = val;
        } else if (!strcmp(name, "--exclude")) {
            o.exclude = val;
        } else if (!strcmp(name, "--name")) {
            o.name = val;
        } else if (!strcmp(name, "--units")) {
            if (strcmp(val, "mm") && strcmp(val, "m"))
                return fail(SB_ERR_USAGE, "--units %s: mm or m", val);
            o.units = !strcmp(val, "m") ? SB_UNITS_M : SB_UNITS_MM;
        } else if (!strcmp(name, "--up")) {
            if (strcmp(val, "z") && strcmp(val, "y"))
                return fail(SB_ERR_USAGE, "--up %s: z or y", val);
            o.up = !strcmp(val, "y") ? SB_UP_Y : SB_UP_Z;
        } else if (!strcmp(name, "--threads") || !strcmp(name, "--smooth") ||
                   !strcmp(name, "--target-tris") || !strcmp(name, "--max-tris-per-file")) {
            if (!sb_cli_parse_u64(name, val, &u, why, sizeof why))
                return fail(SB_ERR_USAGE, "%s", why);
            if (!strcmp(name, "--threads")) {
                if (u < 1 || u > 1024) return fail(SB_ERR_USAGE, "--threads %s: 1..1024", val);
                ctx.threads = (int)u;
            } else if (!strcmp(name, "--smooth")) {
                if (u > 1000) return fail(SB_ERR_USAGE, "--smooth %s: 0..1000", val);
                o.smooth_iters = (int)u;
            } else if (!strcmp(name, "--target-tris")) {
                if (u < 4) return fail(SB_ERR_USAGE, "--target-tris %s: at least 4", val);
                o.target_tris = (size_t)u;
            } else {
                if (u < 4) return fail(SB_ERR_USAGE, "--max-tris-per-file %s: at least 4", val);
                o.max_tris_per_file = (size_t)u;
            }
        } else if (!strcmp(name, "--hollow")) {
            o.hollow_select = val;
        } else if (!strcmp(name, "--fit-mm")) {
            if (!sb_cli_parse_list(name, val, 1, 100000, o.fit_mm, 3, &cnt, why, sizeof why) ||
                cnt != 3)
                return fail(SB_ERR_USAGE, "--fit-mm %s: X,Y,Z in mm (1..100000)", val);
        } else {
            if (!sb_cli_parse_double(name, val, &d, why, sizeof why))
                return fail(SB_ERR_USAGE, "%s", why);
            int zero_ok = !strcmp(name, "--max-error-mm"); /* 0: triangle budget only */
            if (!((d > 0 || (zero_ok && d == 0)) && d <= 1000))
                return fail(SB_ERR_USAGE, "%s %s is outside %s1000]", name, val,
                            zero_ok ? "[0, " : "(0, ");
            if (!strcmp(name, "--max-error-mm")) o.max_error_mm = d;
            if (!strcmp(name, "--hollow-mm")) o.hollow_mm = d;
            if (!strcmp(name, "--drain-mm")) o.drain_mm = d;
            if (!strcmp(name, "--min-wall-mm")) o.min_wall_mm = d;
            if (!strcmp(name, "--max-mb-per-file")) o.max_mb_per_file = d;
        }
    }
    if (!o.input) return fail(SB_ERR_USAGE, "export needs an INPUT (label NIfTI or folder)");
    if (!o.out_dir) return fail(SB_ERR_USAGE, "export needs --out DIR");
    if ((o.drain_mm > 0 || o.hollow_select) && !(o.hollow_mm > 0))
        return fail(SB_ERR_USAGE, "%s needs --hollow-mm T",
                    o.hollow_select ? "--hollow" : "--drain-mm");
    sb_error err = {0};
    sb_status s = sb_pipeline_export(&o, &ctx, &err);
    if (s) return fail(s, "%s", err.msg);
    return 0;
}
