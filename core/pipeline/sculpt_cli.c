/* sculpt_cli.c — `synthbody sculpt`: options, messages and exit codes (README "Sculptures"). */
#include "sculpt_cli.h"

#include "cli_parse.h"
#include "cli_report.h"
#include "sb_pipeline.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char USAGE_SCULPT[] =
    "usage: synthbody sculpt INPUT --out DIR [--axis z|y|x] [--layer-mm T]\n"
    "                        [--scale S | --height-mm H] [--from MM] [--to MM]\n"
    "                        [--select L|none] [--kerf-mm K] [--contrast C|none] [--dpi N]\n"
    "                        [--overlay] [--smooth N] [--subdiv N] [--plate-mm X,Y]\n"
    "                        [--pegs D,DEPTH] [--gap-mm G] [--sheet-mm X,Y] [--force]\n"
    "\n"
    "Cuts the label map INPUT (a label NIfTI with labels.tsv beside it, or a `generate` output\n"
    "folder) into layers and writes, per layer k: layer_k/<part>.stl (the body with the\n"
    "selected organs cut out, and each organ in the layer) and layer_k.3mf (the same parts,\n"
    "named and coloured), layer_k.svg (laser-cut sheet in mm: body outline cut, organs\n"
    "engraved, layer number), then manifest.json and assembly.md. Every part is closed and\n"
    "2-manifold; its cut faces lie on the layer's planes.\n"
    "\n"
    "  --axis A         z axial (default), y coronal, x sagittal\n"
    "  --layer-mm T     layer thickness in model mm (default 10)\n"
    "  --scale S        model mm per body mm (default 1), or\n"
    "  --height-mm H    the model's height: the body's z extent in the range becomes H mm\n"
    "  --from MM, --to MM   range along the axis in the body's world mm (default: the body),\n"
    "                   or a label (name, id, group, alias): from its lowest / to its highest\n"
    "                   extent along the axis (e.g. --from hip_left --to heart)\n"
    "  --select L       organ parts: ids, names, groups, aliases as `export --select`\n"
    "                   (default: organs; none: the body only)\n"
    "  --smooth N       Taubin iterations, cut faces held on their planes (default 0: raw)\n"
    "  --subdiv N       sub-layers per voxel along the axis, 1..16 (default 4): finer cut\n"
    "                   rims, more triangles (README \"Sculptures\")\n"
    "  --kerf-mm K      laser kerf: the sheets' cut lines move out by K/2 (default 0)\n"
    "  --contrast C     slice images layer_k.png of INPUT/C.nii.gz at each layer's mid-plane\n"
    "                   (default T1w when INPUT is a folder holding it; none: no images)\n"
    "  --dpi N          slice images' pixels per inch at the model's size (default 150)\n"
    "  --overlay        slice images: organ colours blended\n"
    "  --plate-mm X,Y   build plates plate_k.3mf: every part packed flat without overlap\n"
    "  --pegs D,DEPTH   alignment holes (diameter, depth in model mm) in both faces of each\n"
    "                   pair of adjacent layers, where both have body material; registration\n"
    "                   holes on the sheets; the layer number engraved on each underside\n"
    "  --gap-mm G       sculpture.glb: the layers G mm apart (default 0: stacked)\n"
    "  --sheet-mm X,Y   laser sheets sheet_k.svg: the layers' sheets nested onto X x Y mm\n"
    "  --force          replace existing outputs\n"
    "  --threads N      worker threads (output bytes do not depend on N)\n";

typedef struct {
    int verbosity;
} sculpt_cli;

#define fail(...) sb_cli_fail("sculpt", __VA_ARGS__)

int sb_cli_sculpt(int argc, char **argv) {
    sculpt_cli c = {.verbosity = 1};
    sb_ctx ctx = {.threads = 0, .log = sb_cli_on_log, .user = &c};
    sb_sculpt_opts o = {.axis = 2, .layer_mm = 10};
    char why[600];
    static const char *const FLAGS[] = {"--force", "--overlay", NULL};
    static const char *const VALUED[] = {
        "--out",      "--axis",   "--layer-mm", "--scale",    "--height-mm", "--from",     "--to",
        "--select",   "--smooth", "--threads",  "--subdiv",   "--kerf-mm",   "--contrast", "--dpi",
        "--plate-mm", "--pegs",   "--gap-mm",   "--sheet-mm", NULL};
    sb_cli_args args = sb_cli_start(argc, argv, FLAGS, VALUED, &c.verbosity);
    for (sb_cli_kind k; (k = sb_cli_next(&args, why, sizeof why)) != SB_CLI_END;) {
        const char *a = args.arg, *name = args.name, *val = args.val;
        if (k == SB_CLI_HELP) {
            fputs(USAGE_SCULPT, stdout);
            return 0;
        }
        if (k == SB_CLI_FLAG) {
            if (!strcmp(name, "--force")) o.force = 1;
            if (!strcmp(name, "--overlay")) o.overlay = 1;
            continue;
        }
        if (k == SB_CLI_OPERAND) {
            if (o.input) return fail(SB_ERR_USAGE, "unexpected argument \"%s\"", a);
            o.input = a;
            continue;
        }
        if (k == SB_CLI_UNKNOWN) return fail(SB_ERR_USAGE, "unknown option \"%s\" for sculpt", a);
        if (k == SB_CLI_BAD_VALUE) return fail(SB_ERR_USAGE, "%s", why);
        uint64_t u;
        double d;
        if (!strcmp(name, "--out")) {
            o.out_dir = val;
        } else if (!strcmp(name, "--select")) {
            o.select = val;
        } else if (!strcmp(name, "--contrast")) {
            o.contrast = val;
        } else if (!strcmp(name, "--plate-mm") || !strcmp(name, "--pegs") ||
                   !strcmp(name, "--sheet-mm")) {
            double xy[2];
            int n;
            if (!sb_cli_parse_list(name, val, 0.1, 100000, xy, 2, &n, why, sizeof why) || n != 2)
                return fail(SB_ERR_USAGE, "%s %s: two numbers X,Y in (0, 100000] mm", name, val);
            double *dst = name[2] == 'p' ? (name[3] == 'l' ? o.plate_mm : o.peg_mm) : o.sheet_mm;
            dst[0] = xy[0], dst[1] = xy[1];
        } else if ((!strcmp(name, "--from") || !strcmp(name, "--to")) &&
                   !sb_cli_parse_double(name, val, &d, why, sizeof why)) {
            *(name[2] == 'f' ? &o.from_label : &o.to_label) = val; /* a label, not a number */
        } else if (!strcmp(name, "--axis")) {
            if (strlen(val) != 1 || !strchr("xyz", val[0]))
                return fail(SB_ERR_USAGE, "--axis %s: z, y or x", val);
            o.axis = val[0] - 'x';
        } else if (!strcmp(name, "--threads") || !strcmp(name, "--smooth") ||
                   !strcmp(name, "--subdiv")) {
            if (!sb_cli_parse_u64(name, val, &u, why, sizeof why))
                return fail(SB_ERR_USAGE, "%s", why);
            if (!strcmp(name, "--threads")) {
                if (u < 1 || u > 1024) return fail(SB_ERR_USAGE, "--threads %s: 1..1024", val);
                ctx.threads = (int)u;
            } else if (!strcmp(name, "--subdiv")) {
                if (u < 1 || u > 16) return fail(SB_ERR_USAGE, "--subdiv %s: 1..16", val);
                o.subdiv = (int)u;
            } else {
                if (u > 1000) return fail(SB_ERR_USAGE, "--smooth %s: 0..1000", val);
                o.smooth_iters = (int)u;
            }
        } else {
            if (!sb_cli_parse_double(name, val, &d, why, sizeof why))
                return fail(SB_ERR_USAGE, "%s", why);
            if (!strcmp(name, "--from") || !strcmp(name, "--to")) {
                if (!(d >= -100000 && d <= 100000))
                    return fail(SB_ERR_USAGE, "%s %s is outside [-100000, 100000] mm", name, val);
                if (name[2] == 'f')
                    o.has_from = 1, o.from_mm = d;
                else
                    o.has_to = 1, o.to_mm = d;
            } else if (!strcmp(name, "--dpi")) {
                if (!(d >= 10 && d <= 2400))
                    return fail(SB_ERR_USAGE, "--dpi %s is outside [10, 2400]", val);
                o.dpi = d;
            } else if (!strcmp(name, "--gap-mm")) {
                if (!(d >= 0 && d <= 10000))
                    return fail(SB_ERR_USAGE, "--gap-mm %s is outside [0, 10000]", val);
                o.gap_mm = d, o.glb = 1;
            } else if (!strcmp(name, "--kerf-mm")) {
                if (!(d >= 0 && d <= 5))
                    return fail(SB_ERR_USAGE, "--kerf-mm %s is outside [0, 5]", val);
                o.kerf_mm = d;
            } else {
                double hi = !strcmp(name, "--scale") ? 100 : 100000;
                if (!(d > 0 && d <= hi))
                    return fail(SB_ERR_USAGE, "%s %s is outside (0, %g]", name, val, hi);
                if (!strcmp(name, "--layer-mm")) o.layer_mm = d;
                if (!strcmp(name, "--scale")) o.scale = d;
                if (!strcmp(name, "--height-mm")) o.height_mm = d;
            }
        }
    }
    if (!o.input) return fail(SB_ERR_USAGE, "sculpt needs an INPUT (label NIfTI or folder)");
    if (!o.out_dir) return fail(SB_ERR_USAGE, "sculpt needs --out DIR");
    if (o.scale > 0 && o.height_mm > 0)
        return fail(SB_ERR_USAGE, "--scale and --height-mm exclude each other");
    sb_error err = {0};
    sb_status s = sb_pipeline_sculpt(&o, &ctx, &err);
    if (s) return fail(s, "%s", err.msg);
    return 0;
}
