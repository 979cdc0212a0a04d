/* synthbody.c — the command: option parsing, messages, progress bar, exit codes.
 * Uses the public headers only. Exit codes are the sb_status values (README "Exit codes"). */
#include "batch_cli.h"
#include "cli_mr.h"
#include "cli_parse.h"
#include "export_cli.h"
#include "sculpt_cli.h"
#include "sb_core.h"
#include "sb_pipeline.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    int verbosity; /* 0 quiet, 1 normal, 2 verbose */
    int tty;
    char step[64];
    double step_start;
    int drawn;
    int last_pct; /* redraw only when the percentage changes */
} cli;

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void clear_bar(cli *c) {
    if (c->drawn) {
        fprintf(stderr, "\r\033[K");
        c->drawn = 0;
    }
}

static void on_log(void *user, sb_log_level level, const char *msg) {
    cli *c = user;
    if ((level == SB_LOG_INFO && c->verbosity < 2) || (level >= SB_LOG_DEBUG && c->verbosity < 3) ||
        (level == SB_LOG_WARN && c->verbosity < 1))
        return;
    clear_bar(c);
    static const char *names[] = {"error", "warning", "info", "debug"};
    fprintf(stderr, "synthbody: %s: %s\n", names[level], msg);
}

/* A bar on a terminal for any step that has run for more than a second. */
static void on_progress(void *user, const char *step, size_t done, size_t total) {
    cli *c = user;
    if (!c->tty || c->verbosity == 0) return;
    if (strncmp(c->step, step, sizeof c->step) != 0) {
        clear_bar(c);
        snprintf(c->step, sizeof c->step, "%s", step);
        c->step_start = now_s();
        c->last_pct = -1;
    }
    if (done >= total) {
        clear_bar(c);
        return;
    }
    int pct = total ? (int)(100 * done / total) : 0;
    if (pct == c->last_pct || now_s() - c->step_start < 1.0) return;
    c->last_pct = pct;
    int width = 40, fill = total ? (int)((double)width * (double)done / (double)total) : 0;
    char bar[48];
    for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
    bar[width] = '\0';
    fprintf(stderr, "\r%-10s [%s] %3d%%", step, bar, pct);
    c->drawn = 1;
}

static int fail(cli *c, sb_status s, const char *fmt, ...) {
    clear_bar(c);
    char msg[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "synthbody: error: %s\n", msg);
    if (s == SB_ERR_USAGE) fprintf(stderr, "Try 'synthbody --help'.\n");
    return (int)s;
}

static const char USAGE[] =
    "usage: synthbody COMMAND [options]\n"
    "\n"
    "Synthetic whole-body MRI: a labelled adult anatomy, MR contrasts and closed meshes.\n"
    "\n"
    "commands:\n"
    "  generate   make one subject: label map, T1w, T2w, label tables, (meshes)\n"
    "  mesh       closed STL surfaces from any label NIfTI or intensity NIfTI\n"
    "  info       describe a NIfTI or mesh file\n"
    "  preview    one PNG with sagittal, coronal and axial slices\n"
    "  labels     print the anatomy's label table (TSV)\n"
    "  batch      many subjects into one BIDS dataset, in shards (Slurm, Kubernetes, parallel)\n"
    "  export     meshes of a label map as STL, OBJ, PLY, GLB, 3MF, VTP with a manifest\n"
    "  sculpt     a layered sculpture: the body cut into slabs of closed parts (STL, 3MF)\n"
    "\n"
    "common options: -q/--quiet, -v/--verbose, --threads N, -h/--help, --version\n"
    "'synthbody COMMAND --help' describes each command. Exit codes: 0 ok, 1 internal error,\n"
    "2 usage, 3 bad input file, 4 cannot write output, 5 not enough memory, 6 output exists,\n"
    "7 label absent.\n";

static const char USAGE_GENERATE[] =
    "usage: synthbody generate [--seed N] [--voxel MM] [--out DIR] [--force] [--mesh]\n"
    "                          [--sex female|male] [--age Y] [--height-cm H] [--bmi B]\n"
    "\n"
    "Writes into DIR: labels.nii.gz (uint16, intent LABEL), one <contrast>.nii.gz with a BIDS\n"
    "sidecar <contrast>.json per contrast (default T1w, T2w; int16 with scl_slope),\n"
    "labels.tsv (BIDS dseg), labels.itksnap.txt, labels.ctbl (3D Slicer), subject.json, and\n"
    "with --mesh meshes/<structure>.stl (binary STL, world mm, closed).\n"
    "\n"
    "  --seed N       64-bit seed (default: drawn from /dev/urandom, printed and recorded)\n"
    "  --voxel MM     isotropic voxel size in mm, 0.1..50 (default 2)\n"
    "  --out DIR      output directory (default: subject-<seed>)\n"
    "  --force        overwrite existing outputs\n"
    "  --mesh         also write one closed STL mesh per structure\n"
    "  --formats L    with the meshes: stl, obj, ply, glb, 3mf, vtp or all into meshes/ as\n"
    "                 `synthbody export` writes them, with manifest.json (implies --mesh)\n"
    "  --sex S, --age Y (18-90), --height-cm H (120-230), --bmi B (12-70)\n"
    "                 fix these subject parameters (default: sampled from the population)\n"
    "  --protocol P   MR protocol: default (T1w, T2w), ukbiobank-dixon, oncology-wb, neuro\n"
    "  --contrasts L  comma list instead of the protocol's: T1w, T2w, PDw, GRE, STIR, FLAIR,\n"
    "                 bSSFP, dixon_water, dixon_fat, dixon_in, dixon_opp, fatfrac, dwi_b<N>, ADC\n"
    "  --field T      field strength 1.5 or 3 (default: the protocol's)\n"
    "  --snr S        SNR against the reference tissue (default 30; DWI 20; 0: no noise)\n"
    "  --bias A       receive bias amplitude, (max-min)/mean over the body, 0..0.8 (default 0.2)\n"
    "  --tissues F    tissue table JSON overriding the built-in one (README \"MRI physics\")\n"
    "  --texture A    tissue texture: SD of a smooth per-tissue modulation, 0..0.3 (default 0)\n"
    "  --acq-voxel MM acquired in-plane resolution (k-space truncation: blur, Gibbs ringing;\n"
    "                 default: the voxel size, no truncation)\n"
    "  --slice MM     slice thickness (k-space truncation along z; default: the voxel size)\n"
    "  --float        write images as float32 (default int16 with scl_slope)\n"
    "  --stations N   multi-station acquisition: N stations along z, each with its own bias\n"
    "                 field, blended across the overlaps (default: the protocol's; 1)\n"
    "  --overlap-mm O overlap of neighbouring stations (default 30)\n"
    "  --ghosting A   motion ghosts along y (phase encoding), first ghost A x the image, 0..0.5\n"
    "  --ghost-period N  k-space lines per motion cycle: ghosts at FOV/N (default 4)\n"
    "  --fat-water-swap P  probability of a Dixon fat-water swap (a ball where water and fat\n"
    "                 change places; recorded in subject.json and the sidecars), 0..1\n"
    "  --flow-voids V blood velocity in cm/s: flow voids in spin-echo images (T1w, T2w, PDw,\n"
    "                 STIR, FLAIR, DWI), blood keeps 1 - V TE/2 / slice of its signal (0: none)\n"
    "  --compress C   MR images as .nii.gz (gzip, default) or .nii (none: no deflate, mmap-able)\n"
    "  --max-memory-gb G  memory budget (default: what the machine has); a larger grid is\n"
    "                 made and written slab by slab, with the same bytes\n"
    "  --anatomy P    anatomy description: a JSON file or a folder of them (default: built in;\n"
    "                 format in the README)\n"
    "  --lesions L    lesions: type[:N|:A-B],... e.g. liver-metastasis:3,lung-nodule:1-4\n"
    "                 (types: README \"Pathology\"); writes lesions.nii.gz, "
    "lesion_classes.nii.gz,\n"
    "                 lesions.tsv, lesion_classes.tsv\n"
    "  --lesion-seed N  seed of the lesions (default: --seed): the same body, other lesions\n"
    "  --lesion-file F  lesion types JSON replacing the built-in ones\n"
    "  --threads N    worker threads (output bytes do not depend on N)\n";

static const char USAGE_LABELS[] =
    "usage: synthbody labels [--anatomy FILE|DIR]\n"
    "\n"
    "Prints the label table of the anatomy as TSV: index, name, abbreviation, group, tissue,\n"
    "color, sex (any, male or female).\n";

static const char USAGE_MESH[] =
    "usage: synthbody mesh INPUT.nii[.gz] --out DIR [--labels all|ID,NAME,GROUP,...]\n"
    "                      [--iso VALUE|auto] [--smooth N] [--target-tris N] [--max-error-mm E]\n"
    "                      [--backend native|vtk] [--threads N] [--force]\n"
    "\n"
    "One closed binary STL per label (named from a labels.tsv beside INPUT, else label_<id>),\n"
    "or with --iso the surface {value >= VALUE} as isosurface.stl (auto: Otsu's threshold).\n"
    "Vertices are in world mm from the file's affine (RAS+). Every mesh is checked (closed,\n"
    "manifold, outward, no self-intersection) before it is written.\n"
    "\n"
    "  --smooth N        Taubin smoothing iterations, volume kept (default 0: vertices on\n"
    "                    the voxel surface; 10 removes the staircase)\n"
    "  --target-tris N   at most N triangles per mesh (default: no budget)\n"
    "  --max-error-mm E  simplification error bound (default 0.1 voxel; 0: budget only)\n"
    "  --backend B       native (default: marching cubes, Taubin, quadric collapses) or vtk\n"
    "                    (vtkDiscreteFlyingEdges3D + windowed sinc; no --target-tris)\n";

static const char USAGE_INFO[] =
    "usage: synthbody info FILE\n"
    "\n"
    "NIfTI: header, orientation codes, spacing, affine, labels present and their volumes (ml).\n"
    "Mesh (STL, OBJ, PLY, GLB, ...): triangles, bounding box, closedness, volume.\n";

static const char USAGE_PREVIEW[] =
    "usage: synthbody preview DIR|FILE --out PNG [--contrast T1w] [--overlay] [--force]\n"
    "                         [--axial F1,F2,...] [--overlay-map NAME] [--at X,Y]\n"
    "\n"
    "Sagittal, coronal and axial slices through the centre. DIR is a generate output: the\n"
    "contrast (default T1w) is drawn, --overlay blends the label colours in. --axial draws\n"
    "axial slices at these fractions of the height (0 = feet, 1 = vertex; at most 8) in a\n"
    "column beside the others, e.g. --axial 0.85,0.72,0.64,0.52 (neck, heart, upper abdomen,\n"
    "pelvis). --overlay-map NAME blends NAME.nii.gz of DIR instead of labels.nii.gz, coloured\n"
    "by NAME.tsv (e.g. lesion_classes); --at X,Y puts the sagittal slice at x = X and the\n"
    "coronal one at y = Y (world mm) instead of the centre.\n";

/* Options without a value and with one, per command (every command also takes -h, -q, -v). */
static const char *const FLAGS_ANY[] = {"--version", "--force", NULL};
static const char *const FLAGS_GENERATE[] = {"--version", "--force", "--mesh", "--float", NULL};
static const char *const FLAGS_PREVIEW[] = {"--version", "--force", "--overlay", NULL};
static const char *const VALUED_GENERATE[] = {
    "--threads",   "--out",        "--seed",     "--voxel",         "--sex",
    "--age",       "--height-cm",  "--bmi",      "--anatomy",       "--protocol",
    "--contrasts", "--tissues",    "--field",    "--snr",           "--bias",
    "--texture",   "--acq-voxel",  "--slice",    "--max-memory-gb", "--formats",
    "--stations",  "--overlap-mm", "--ghosting", "--ghost-period",  "--fat-water-swap",
    "--compress",  "--flow-voids", "--lesions",  "--lesion-seed",   "--lesion-file",
    NULL};
static const char *const VALUED_MESH[] = {"--threads",      "--out",     "--labels",
                                          "--iso",          "--smooth",  "--target-tris",
                                          "--max-error-mm", "--backend", NULL};
static const char *const VALUED_INFO[] = {"--threads", NULL};
static const char *const VALUED_PREVIEW[] = {"--threads",     "--out", "--contrast", "--axial",
                                             "--overlay-map", "--at",  NULL};
static const char *const VALUED_LABELS[] = {"--threads", "--anatomy", NULL};

typedef struct {
    const char *name;
    const char *usage;
    const char *const *flags;
    const char *const *valued;
} command;

static const command COMMANDS[] = {{"generate", USAGE_GENERATE, FLAGS_GENERATE, VALUED_GENERATE},
                                   {"mesh", USAGE_MESH, FLAGS_ANY, VALUED_MESH},
                                   {"info", USAGE_INFO, FLAGS_ANY, VALUED_INFO},
                                   {"preview", USAGE_PREVIEW, FLAGS_PREVIEW, VALUED_PREVIEW},
                                   {"labels", USAGE_LABELS, FLAGS_ANY, VALUED_LABELS}};

static uint64_t random_seed(void) {
    uint64_t s = 0;
    int fd = open("/dev/urandom", O_RDONLY);
    if (fd >= 0) {
        if (read(fd, &s, sizeof s) != (ssize_t)sizeof s) s = 0;
        close(fd);
    }
    if (!s) s = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
    return s % 1000000000u; /* short enough to type back */
}

int main(int argc, char **argv) {
    cli c = {.verbosity = 1, .tty = isatty(2)};
    sb_ctx ctx = {.threads = 0, .log = on_log, .progress = on_progress, .user = &c};
    char why[512];
    sb_outfile_cleanup_on_signals(); /* Ctrl-C, kill: no temporary files left behind */
    if (argc < 2) {
        fputs(USAGE, stderr);
        return SB_ERR_USAGE;
    }
    if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        fputs(USAGE, stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("synthbody %s\n", SB_VERSION_STRING);
        return 0;
    }
    if (!strcmp(argv[1], "export")) return sb_cli_export(argc, argv);
    if (!strcmp(argv[1], "sculpt")) return sb_cli_sculpt(argc, argv);
    if (!strcmp(argv[1], "batch")) return sb_cli_batch(argc, argv);
    const command *cmd = NULL;
    for (size_t i = 0; i < sizeof COMMANDS / sizeof COMMANDS[0]; i++)
        if (!strcmp(argv[1], COMMANDS[i].name)) cmd = &COMMANDS[i];
    if (!cmd) return fail(&c, SB_ERR_USAGE, "unknown command \"%s\"", argv[1]);

    sb_generate_opts gen = {.subject = {.sex = SB_SEX_RANDOM}, .voxel_mm = SB_DEFAULT_VOXEL_MM};
    int have_seed = 0;
    const char *out = NULL, *labels = NULL, *contrast = NULL, *input = NULL, *anatomy = NULL;
    int force = 0, mesh = 0, overlay = 0, use_iso = 0, iso_auto = 0, backend_vtk = 0;
    int naxial = 0, nat = 0;
    double axial[SB_PREVIEW_MAX_AXIAL] = {0}, at[2] = {0, 0};
    const char *overlay_map = NULL;
    int smooth_iters = -1;
    size_t target_tris = 0;
    double iso = 0, max_error_mm = -1;
    int is_gen = cmd->usage == USAGE_GENERATE, is_labels = cmd->usage == USAGE_LABELS;
    sb_cli_args args = sb_cli_start(argc, argv, cmd->flags, cmd->valued, &c.verbosity);
    for (sb_cli_kind k; (k = sb_cli_next(&args, why, sizeof why)) != SB_CLI_END;) {
        const char *a = args.arg, *name = args.name, *val = args.val;
        if (k == SB_CLI_HELP) {
            fputs(cmd->usage, stdout);
            return 0;
        }
        if (k == SB_CLI_FLAG) {
            if (!strcmp(name, "--version")) {
                printf("synthbody %s\n", SB_VERSION_STRING);
                return 0;
            }
            if (!strcmp(name, "--force")) force = 1;
            if (!strcmp(name, "--mesh")) mesh = 1;
            if (!strcmp(name, "--float")) gen.float_out = 1;
            if (!strcmp(name, "--overlay")) overlay = 1;
            continue;
        }
        if (k == SB_CLI_OPERAND) {
            if (input || is_gen || is_labels)
                return fail(&c, SB_ERR_USAGE, "unexpected argument \"%s\"", a);
            input = a;
            continue;
        }
        if (k == SB_CLI_UNKNOWN && !*name)
            return fail(&c, SB_ERR_USAGE, "unknown option \"%s\"", a);
        if (k == SB_CLI_UNKNOWN)
            return fail(&c, SB_ERR_USAGE, "unknown option \"%s\" for %s", name, cmd->name);
        if (k == SB_CLI_BAD_VALUE) return fail(&c, SB_ERR_USAGE, "%s", why);
        double d;
        int mr;
        if (!strcmp(name, "--formats")) {
            if (!(gen.mesh_formats = sb_cli_export_formats(val, why, sizeof why)))
                return fail(&c, SB_ERR_USAGE, "%s", why);
        } else if (!strcmp(name, "--threads")) {
            uint64_t t;
            if (!sb_cli_parse_u64(name, val, &t, why, sizeof why))
                return fail(&c, SB_ERR_USAGE, "%s", why);
            if (t < 1 || t > 1024)
                return fail(&c, SB_ERR_USAGE, "--threads %s is outside 1..1024", val);
            ctx.threads = (int)t;
        } else if (!strcmp(name, "--seed")) {
            if (!sb_cli_parse_u64(name, val, &gen.subject.seed, why, sizeof why))
                return fail(&c, SB_ERR_USAGE, "%s", why);
            have_seed = 1;
        } else if (!strcmp(name, "--out")) {
            out = val;
        } else if (!strcmp(name, "--sex")) {
            if (!strcmp(val, "female") || !strcmp(val, "f"))
                gen.subject.sex = SB_SEX_FEMALE;
            else if (!strcmp(val, "male") || !strcmp(val, "m"))
                gen.subject.sex = SB_SEX_MALE;
            else
                return fail(&c, SB_ERR_USAGE, "--sex: \"%s\" is not female or male", val);
        } else if (!strcmp(name, "--labels")) {
            labels = val;
        } else if (!strcmp(name, "--iso") && !strcmp(val, "auto")) {
            use_iso = 1;
            iso_auto = 1;
        } else if (!strcmp(name, "--backend")) {
            if (strcmp(val, "native") && strcmp(val, "vtk"))
                return fail(&c, SB_ERR_USAGE, "--backend: \"%s\" is not native or vtk", val);
            backend_vtk = !strcmp(val, "vtk");
        } else if (!strcmp(name, "--smooth") || !strcmp(name, "--target-tris")) {
            uint64_t u;
            if (!sb_cli_parse_u64(name, val, &u, why, sizeof why))
                return fail(&c, SB_ERR_USAGE, "%s", why);
            if (!strcmp(name, "--smooth")) {
                if (u > 1000) return fail(&c, SB_ERR_USAGE, "--smooth %s is outside 0..1000", val);
                smooth_iters = (int)u;
            } else {
                if (u < 4) return fail(&c, SB_ERR_USAGE, "--target-tris %s is below 4", val);
                target_tris = (size_t)u;
            }
        } else if (!strcmp(name, "--contrast")) {
            contrast = val;
        } else if (!strcmp(name, "--anatomy")) {
            anatomy = val;
        } else if (!strcmp(name, "--protocol")) {
            gen.protocol = val;
        } else if (!strcmp(name, "--contrasts")) {
            gen.contrasts = val;
        } else if (!strcmp(name, "--tissues")) {
            gen.tissues = val;
        } else if (!strcmp(name, "--lesions")) {
            gen.lesions = val;
        } else if (!strcmp(name, "--lesion-file")) {
            gen.lesion_file = val;
        } else if (!strcmp(name, "--lesion-seed")) {
            if (!sb_cli_parse_u64(name, val, &gen.lesion_seed, why, sizeof why))
                return fail(&c, SB_ERR_USAGE, "%s", why);
            gen.has_lesion_seed = 1;
        } else if ((mr = sb_cli_mr_option(name, val, &gen, why, sizeof why)) != 0) {
            if (mr < 0) return fail(&c, SB_ERR_USAGE, "%s", why);
        } else if (!strcmp(name, "--max-memory-gb")) {
            if (!sb_cli_parse_double(name, val, &d, why, sizeof why))
                return fail(&c, SB_ERR_USAGE, "%s", why);
            if (!(d >= 0.25 && d <= 1e6))
                return fail(&c, SB_ERR_USAGE, "--max-memory-gb %s is outside 0.25..1000000", val);
            gen.max_memory_gb = d;
        } else if (!strcmp(name, "--overlay-map")) {
            overlay_map = val;
        } else if (!strcmp(name, "--at")) {
            if (!sb_cli_parse_list(name, val, -1e5, 1e5, at, 2, &nat, why, sizeof why) || nat != 2)
                return fail(&c, SB_ERR_USAGE, "--at: expected X,Y in world mm (%s)", val);
        } else if (!strcmp(name, "--axial")) {
            if (!sb_cli_parse_list(name, val, 0, 1, axial, SB_PREVIEW_MAX_AXIAL, &naxial, why,
                                   sizeof why))
                return fail(&c, SB_ERR_USAGE, "%s", why);
        } else {
            if (!sb_cli_parse_double(name, val, &d, why, sizeof why))
                return fail(&c, SB_ERR_USAGE, "%s", why);
            if (!strcmp(name, "--voxel")) {
                if (!(d >= 0.1 && d <= 50))
                    return fail(&c, SB_ERR_USAGE, "--voxel %s mm is outside 0.1..50 mm", val);
                gen.voxel_mm = d;
            } else if (!strcmp(name, "--iso")) {
                use_iso = 1;
                iso = d;
            } else if (!strcmp(name, "--max-error-mm")) {
                if (!(d >= 0 && d <= 1000))
                    return fail(&c, SB_ERR_USAGE, "--max-error-mm %s is outside 0..1000", val);
                max_error_mm = d;
            } else {
                double lo = !strcmp(name, "--age") ? 18 : !strcmp(name, "--bmi") ? 12 : 120;
                double hi = !strcmp(name, "--age") ? 90 : !strcmp(name, "--bmi") ? 70 : 230;
                if (!(d >= lo && d <= hi))
                    return fail(&c, SB_ERR_USAGE, "%s %s is outside %g..%g", name, val, lo, hi);
                if (!strcmp(name, "--age")) gen.subject.age_y = d;
                if (!strcmp(name, "--bmi")) gen.subject.bmi = d;
                if (!strcmp(name, "--height-cm")) gen.subject.height_cm = d;
            }
        }
    }

    sb_error err = {0};
    sb_status s;
    if (cmd->usage == USAGE_GENERATE) {
        if (!have_seed) gen.subject.seed = random_seed();
        char dflt[64];
        if (!out) {
            snprintf(dflt, sizeof dflt, "subject-%llu", (unsigned long long)gen.subject.seed);
            out = dflt;
        }
        gen.out_dir = out;
        gen.force = force;
        gen.mesh = mesh || gen.mesh_formats; /* --formats implies --mesh */
        gen.anatomy = anatomy;
        if (c.verbosity > 0)
            fprintf(stderr, "synthbody: seed %llu -> %s\n", (unsigned long long)gen.subject.seed,
                    out);
        s = sb_pipeline_generate(&gen, &ctx, &err);
    } else if (cmd->usage == USAGE_MESH) {
        if (!input) return fail(&c, SB_ERR_USAGE, "mesh needs an INPUT file");
        if (!out) return fail(&c, SB_ERR_USAGE, "mesh needs --out DIR");
        sb_mesh_opts mo = {.input = input,
                           .out_dir = out,
                           .labels = labels,
                           .use_iso = use_iso,
                           .iso = iso,
                           .force = force,
                           .iso_auto = iso_auto,
                           .smooth_iters = smooth_iters,
                           .target_tris = target_tris,
                           .max_error_mm = max_error_mm,
                           .backend_vtk = backend_vtk};
        if (backend_vtk && (target_tris || use_iso))
            return fail(&c, SB_ERR_USAGE, "--backend vtk takes neither --target-tris nor --iso");
        if (use_iso && labels)
            return fail(&c, SB_ERR_USAGE, "--labels and --iso cannot be combined");
        s = sb_pipeline_mesh(&mo, &ctx, &err);
    } else if (cmd->usage == USAGE_LABELS) {
        s = sb_pipeline_labels(anatomy, stdout, &err);
    } else if (cmd->usage == USAGE_INFO) {
        if (!input) return fail(&c, SB_ERR_USAGE, "info needs a FILE");
        s = sb_pipeline_info(input, stdout, &ctx, &err);
    } else {
        if (!input) return fail(&c, SB_ERR_USAGE, "preview needs a DIR or FILE");
        if (!out) return fail(&c, SB_ERR_USAGE, "preview needs --out PNG");
        sb_preview_opts po = {.input = input,
                              .out_png = out,
                              .contrast = contrast,
                              .overlay = overlay,
                              .force = force,
                              .naxial = naxial};
        memcpy(po.axial, axial, sizeof axial);
        po.overlay_map = overlay_map;
        po.has_at = nat == 2;
        memcpy(po.at, at, sizeof at);
        s = sb_pipeline_preview(&po, &ctx, &err);
    }
    clear_bar(&c);
    if (s) return fail(&c, s, "%s", err.msg);
    return 0;
}
