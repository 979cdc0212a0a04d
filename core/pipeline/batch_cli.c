/* batch_cli.c — `synthbody batch`: options, the shard from the flags or the job engine's
 * environment (Slurm array, Kubernetes Indexed Job), messages and exit codes. */
#include "batch_cli.h"

#include "cli_mr.h"
#include "cli_parse.h"
#include "cli_report.h"
#include "sb_pipeline.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char USAGE_BATCH[] =
    "usage: synthbody batch --count N --out DIR [--seed MASTER] [--shard I/N]\n"
    "                       [--shard-count N] [--protocol P] [--mesh] [--voxel MM] [--force]\n"
    "       synthbody batch --merge DIR\n"
    "\n"
    "Makes subjects 1..N of a BIDS dataset in DIR: sub-<k>/anat/ images with JSON sidecars,\n"
    "participants.tsv, derivatives/synthbody/ label maps (dseg), meshes and logs. Subject k is\n"
    "`synthbody generate --seed S_k`, S_k the k-th output of SplitMix64 seeded with MASTER, so\n"
    "any split of the batch gives the same bytes. Shard I of N makes the subjects k with\n"
    "(k - 1) mod N == I; finished subjects are skipped, so a rerun resumes.\n"
    "\n"
    "  --count N        number of subjects (1..1000000)\n"
    "  --out DIR        the dataset root (created)\n"
    "  --seed MASTER    64-bit master seed (default: the one in DIR's batch.json, else 0)\n"
    "  --shard I/N      this process makes shard I (0-based) of N (default: from\n"
    "                   SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT, or from\n"
    "                   JOB_COMPLETION_INDEX and --shard-count; else 0/1)\n"
    "  --shard-count N  the number of shards when the index comes from the environment\n"
    "  --merge DIR      write DIR/participants.tsv from the finished subjects (every shard that\n"
    "                   finds all subjects finished also does this)\n"
    "  --force          remake finished subjects; replace a dataset made with other settings\n"
    "  --voxel MM, --mesh, --protocol P, --contrasts L, --field T, --snr S, --bias A,\n"
    "  --texture A, --float, --anatomy P, --tissues F, --acq-voxel MM, --slice MM,\n"
    "  --stations N, --overlap-mm O, --ghosting A, --ghost-period N, --fat-water-swap P,\n"
    "  --flow-voids V, --compress gzip|none   as for `synthbody generate`, for every\n"
    "                   subject (recorded in derivatives/synthbody/batch.json)\n"
    "  --threads N      worker threads per subject (bytes do not depend on N)\n"
    "  --max-memory-gb G  memory budget per subject, as for generate (bytes do not depend on G)\n"
    "  --lesions L      lesions as for generate (README \"Pathology\") in some subjects:\n"
    "  --lesion-rate R  the fraction R (0..1, default 1) of subjects that get them; recorded in\n"
    "                   participants.tsv (pathology, lesion_count)\n"
    "  --lesion-file F  lesion types JSON replacing the built-in ones\n"
    "  --normal-twins   each subject with lesions also gets its normal twin sub-<k>normal (the\n"
    "                   same subject without lesions); participants.tsv column twin\n"
    "\n"
    "Interrupted (SIGINT, SIGTERM, SIGHUP, SIGQUIT): the running subject's partial files are\n"
    "removed and the process dies of the signal; exit codes as for generate.\n";

typedef struct {
    int verbosity;
} batch_cli;

/* SIGINT, SIGTERM, SIGHUP, SIGQUIT during a batch: the library stops at once and cleans up */
static volatile sig_atomic_t stop_signal;

static void on_stop(int sig) {
    stop_signal = sig;
}

static void on_progress(void *user, const char *step, size_t done, size_t total) {
    const batch_cli *c = user;
    if (c->verbosity >= 2 && !strcmp(step, "subjects"))
        fprintf(stderr, "synthbody: subjects: %zu of %zu\n", done, total);
}

#define fail(...) sb_cli_fail("batch", __VA_ARGS__)

/* A whole non-negative integer below 2^32 from text (empty or other: 0 returned in *ok). */
static uint32_t u32(const char *text, int *ok) {
    uint64_t v;
    char why[8];
    *ok = text && sb_cli_parse_u64("", text, &v, why, sizeof why) && v <= 0xffffffffu;
    return *ok ? (uint32_t)v : 0;
}

/* The shard: --shard I/N; else Slurm's array variables; else JOB_COMPLETION_INDEX with
 * --shard-count; else 0/1. */
static int resolve_shard(const char *flag, uint32_t count_flag, uint32_t *index, uint32_t *count,
                         char *why, size_t n) {
    int ok;
    if (flag) {
        const char *slash = strchr(flag, '/');
        char head[32];
        if (!slash || (size_t)(slash - flag) >= sizeof head) {
            snprintf(why, n, "--shard: \"%s\" is not I/N", flag);
            return 0;
        }
        memcpy(head, flag, (size_t)(slash - flag));
        head[slash - flag] = '\0';
        int ok2;
        *index = u32(head, &ok);
        *count = u32(slash + 1, &ok2);
        if (!ok || !ok2 || *count < 1 || *index >= *count) {
            snprintf(why, n, "--shard: \"%s\" is not I/N with 0 <= I < N", flag);
            return 0;
        }
        if (count_flag && count_flag != *count) {
            snprintf(why, n, "--shard %s and --shard-count %u disagree", flag,
                     (unsigned)count_flag);
            return 0;
        }
        return 1;
    }
    const char *id = getenv("SLURM_ARRAY_TASK_ID");
    if (id && *id) {
        const char *mn = getenv("SLURM_ARRAY_TASK_MIN"), *mx = getenv("SLURM_ARRAY_TASK_MAX"),
                   *st = getenv("SLURM_ARRAY_TASK_STEP"), *cn = getenv("SLURM_ARRAY_TASK_COUNT");
        int okm = 1, okx = 1, oks = 1, okc = 1;
        uint32_t tid = u32(id, &ok), lo = mn && *mn ? u32(mn, &okm) : 0,
                 step = st && *st ? u32(st, &oks) : 1;
        uint32_t cnt = cn && *cn ? u32(cn, &okc) : 0;
        if (!cnt && mx && *mx) cnt = (u32(mx, &okx) - lo) / (step ? step : 1) + 1;
        if (!cnt) cnt = count_flag;
        if (!ok || !okm || !okx || !oks || !okc || step < 1 || tid < lo || (tid - lo) % step != 0 ||
            cnt < 1 || (tid - lo) / step >= cnt) {
            snprintf(why, n,
                     "SLURM_ARRAY_TASK_ID=%s (MIN=%s, STEP=%s, COUNT=%s) does not give a shard "
                     "below the shard count",
                     id, mn ? mn : "unset", st ? st : "unset", cn ? cn : "unset");
            return 0;
        }
        if (count_flag && count_flag != cnt) {
            snprintf(why, n, "--shard-count %u and the Slurm array's %u tasks disagree",
                     (unsigned)count_flag, (unsigned)cnt);
            return 0;
        }
        *index = (tid - lo) / step;
        *count = cnt;
        return 1;
    }
    const char *jci = getenv("JOB_COMPLETION_INDEX");
    if (jci && *jci) {
        *index = u32(jci, &ok);
        if (!ok || !count_flag || *index >= count_flag) {
            snprintf(why, n, "JOB_COMPLETION_INDEX=%s needs --shard-count N above it", jci);
            return 0;
        }
        *count = count_flag;
        return 1;
    }
    if (count_flag) {
        snprintf(why, n,
                 "--shard-count needs a shard index: --shard I/N, SLURM_ARRAY_TASK_ID or "
                 "JOB_COMPLETION_INDEX");
        return 0;
    }
    *index = 0;
    *count = 1;
    return 1;
}

/* The master seed recorded in DIR's batch.json (a rerun without --seed resumes it). */
static int recorded_seed(const char *dir, uint64_t *seed) {
    char path[4096];
    snprintf(path, sizeof path, "%s/derivatives/synthbody/batch.json", dir);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    char line[256];
    int found = 0;
    while (!found && fgets(line, sizeof line, f)) {
        char digits[32];
        if (sscanf(line, " \"master_seed\" : \"%31[0-9]\"", digits) == 1) {
            char why[8];
            found = sb_cli_parse_u64("", digits, seed, why, sizeof why);
        }
    }
    fclose(f);
    return found;
}

int sb_cli_batch(int argc, char **argv) {
    batch_cli c = {.verbosity = 1};
    sb_ctx ctx = {.threads = 0, .log = sb_cli_on_log, .progress = on_progress, .user = &c};
    sb_batch_opts b = {.gen = {.subject = {.sex = SB_SEX_RANDOM}, .voxel_mm = 2.0}};
    const char *shard = NULL, *merge = NULL;
    uint32_t shard_count = 0;
    int have_seed = 0, have_count = 0, have_rate = 0;
    char why[600];
    static const char *const FLAGS[] = {"--force", "--mesh", "--float", "--normal-twins", NULL};
    static const char *const OWN[] = {"--count",         "--out",       "--seed",
                                      "--shard",         "--merge",     "--voxel",
                                      "--protocol",      "--contrasts", "--anatomy",
                                      "--tissues",       "--threads",   "--shard-count",
                                      "--max-memory-gb", "--lesions",   "--lesion-rate",
                                      "--lesion-file",   NULL};
    const char *valued[40]; /* ours and generate's MR options (cli_mr.c) */
    size_t nv = 0;
    for (size_t i = 0; OWN[i]; i++) valued[nv++] = OWN[i];
    for (size_t i = 0; SB_CLI_MR_OPTIONS[i] && nv + 1 < sizeof valued / sizeof *valued; i++)
        valued[nv++] = SB_CLI_MR_OPTIONS[i];
    valued[nv] = NULL;
    sb_cli_args args = sb_cli_start(argc, argv, FLAGS, valued, &c.verbosity);
    for (sb_cli_kind k; (k = sb_cli_next(&args, why, sizeof why)) != SB_CLI_END;) {
        const char *a = args.arg, *name = args.name, *val = args.val;
        if (k == SB_CLI_HELP) {
            fputs(USAGE_BATCH, stdout);
            return 0;
        }
        if (k == SB_CLI_FLAG) {
            if (!strcmp(name, "--force")) b.gen.force = 1;
            if (!strcmp(name, "--mesh")) b.gen.mesh = 1;
            if (!strcmp(name, "--float")) b.gen.float_out = 1;
            if (!strcmp(name, "--normal-twins")) b.normal_twins = 1;
            continue;
        }
        if (k == SB_CLI_OPERAND || k == SB_CLI_UNKNOWN)
            return fail(SB_ERR_USAGE, "unknown option \"%s\" for batch", a);
        if (k == SB_CLI_BAD_VALUE) return fail(SB_ERR_USAGE, "%s", why);
        uint64_t u;
        double d;
        int mr = sb_cli_mr_option(name, val, &b.gen, why, sizeof why);
        if (mr < 0) return fail(SB_ERR_USAGE, "%s", why);
        if (mr > 0) continue;
        if (!strcmp(name, "--out")) {
            b.gen.out_dir = val;
        } else if (!strcmp(name, "--merge")) {
            merge = val;
        } else if (!strcmp(name, "--shard")) {
            shard = val;
        } else if (!strcmp(name, "--protocol")) {
            b.gen.protocol = val;
        } else if (!strcmp(name, "--contrasts")) {
            b.gen.contrasts = val;
        } else if (!strcmp(name, "--anatomy")) {
            b.gen.anatomy = val;
        } else if (!strcmp(name, "--tissues")) {
            b.gen.tissues = val;
        } else if (!strcmp(name, "--lesions")) {
            b.gen.lesions = val;
        } else if (!strcmp(name, "--lesion-file")) {
            b.gen.lesion_file = val;
        } else if (!strcmp(name, "--lesion-rate")) {
            if (!sb_cli_parse_double(name, val, &d, why, sizeof why))
                return fail(SB_ERR_USAGE, "%s", why);
            if (!(d >= 0 && d <= 1))
                return fail(SB_ERR_USAGE, "--lesion-rate %s is outside 0..1", val);
            b.lesion_rate = d, have_rate = 1;
        } else if (!strcmp(name, "--seed") || !strcmp(name, "--count") ||
                   !strcmp(name, "--threads") || !strcmp(name, "--shard-count")) {
            if (!sb_cli_parse_u64(name, val, &u, why, sizeof why))
                return fail(SB_ERR_USAGE, "%s", why);
            if (!strcmp(name, "--seed")) {
                b.gen.subject.seed = u;
                have_seed = 1;
            } else if (!strcmp(name, "--count")) {
                if (u < 1 || u > 1000000)
                    return fail(SB_ERR_USAGE, "--count %s is outside 1..1000000", val);
                b.count = (uint32_t)u;
                have_count = 1;
            } else if (!strcmp(name, "--threads")) {
                if (u < 1 || u > 1024)
                    return fail(SB_ERR_USAGE, "--threads %s is outside 1..1024", val);
                ctx.threads = (int)u;
            } else {
                if (u < 1 || u > 1000000)
                    return fail(SB_ERR_USAGE, "--shard-count %s is outside 1..1000000", val);
                shard_count = (uint32_t)u;
            }
        } else {
            if (!sb_cli_parse_double(name, val, &d, why, sizeof why))
                return fail(SB_ERR_USAGE, "%s", why);
            if (!strcmp(name, "--max-memory-gb")) {
                if (!(d >= 0.25 && d <= 1e6))
                    return fail(SB_ERR_USAGE, "--max-memory-gb %s is outside 0.25..1000000", val);
                b.gen.max_memory_gb = d;
            } else { /* --voxel */
                if (!(d >= 0.1 && d <= 50))
                    return fail(SB_ERR_USAGE, "--voxel %s mm is outside 0.1..50 mm", val);
                b.gen.voxel_mm = d;
            }
        }
    }
    sb_error err = {0};
    if (merge) {
        if (b.gen.out_dir || have_count || shard)
            return fail(SB_ERR_USAGE, "--merge DIR takes no --out, --count or --shard");
        sb_status s = sb_pipeline_batch_merge(merge, &err);
        if (s) return fail(s, "%s", err.msg);
        if (c.verbosity > 0) fprintf(stderr, "synthbody: wrote %s/participants.tsv\n", merge);
        return 0;
    }
    if (!have_count) return fail(SB_ERR_USAGE, "batch needs --count N");
    if (!b.gen.out_dir) return fail(SB_ERR_USAGE, "batch needs --out DIR");
    if ((have_rate || b.gen.lesion_file || b.normal_twins) && !b.gen.lesions)
        return fail(SB_ERR_USAGE, "--lesion-rate, --lesion-file and --normal-twins need --lesions");
    if (b.gen.lesions && !have_rate) b.lesion_rate = 1;
    if (!resolve_shard(shard, shard_count, &b.shard_index, &b.shard_count, why, sizeof why))
        return fail(SB_ERR_USAGE, "%s", why);
    if (!have_seed) recorded_seed(b.gen.out_dir, &b.gen.subject.seed);
    const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
    for (int i = 0; i < 4; i++) {
        struct sigaction sa = {.sa_handler = on_stop}, cur;
        sigemptyset(&sa.sa_mask);
        if (sigaction(sigs[i], NULL, &cur) == 0 && cur.sa_handler != SIG_IGN)
            sigaction(sigs[i], &sa, NULL);
    }
    b.stop = &stop_signal;
    sb_batch_result res;
    sb_status s = sb_pipeline_batch(&b, &ctx, &res, &err);
    if (res.signal) {
        fprintf(stderr,
                "synthbody: interrupted by signal %d: the running subject was removed; "
                "run the same command again to resume\n",
                res.signal);
        struct sigaction dfl = {.sa_handler = SIG_DFL};
        sigemptyset(&dfl.sa_mask);
        sigaction(res.signal, &dfl, NULL);
        raise(res.signal);
        return 128 + res.signal;
    }
    if (s) return fail(s, "%s", err.msg);
    if (c.verbosity > 0)
        fprintf(stderr,
                "synthbody: %s, shard %u/%u (master seed %llu): %u of %u subjects made, %u "
                "already finished%s\n",
                b.gen.out_dir, (unsigned)b.shard_index, (unsigned)b.shard_count,
                (unsigned long long)b.gen.subject.seed, (unsigned)res.made, (unsigned)res.owned,
                (unsigned)res.skipped,
                res.merged ? "; every subject finished: participants.tsv written" : "");
    return 0;
}
