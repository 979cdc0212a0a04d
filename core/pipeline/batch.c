/* batch.c — `synthbody batch`: many subjects into one BIDS dataset, split over any number of
 * processes (Slurm array tasks, Kubernetes Indexed Job pods, GNU parallel jobs), resumable.
 *
 * Determinism: subject k (1..count) is `synthbody generate --seed S_k` with S_k the k-th output
 * of SplitMix64 (Steele, Lea, Flood 2014) seeded with the master seed, so the dataset does not
 * depend on how it is split. Shard i of n makes the subjects with (k - 1) mod n == i.
 *
 * Safety, per subject: a child process (fork) generates into the staging directory
 * derivatives/synthbody/.work/sub-<k>/, then the parent moves it into place with three renames
 * (raw folder, derivative folder, then the record sub-<k>_subject.json, last: the subject is
 * finished exactly when its record exists). When the caller's stop flag is set (its SIGINT/
 * SIGTERM/SIGHUP handler) the parent kills the child, removes the staging directory and returns
 * (the command then re-raises the signal); the library installs no handler itself. After
 * SIGKILL or node loss the staging directory is left and the next run of that subject removes
 * it. A subject without a record is made again from scratch; its earlier files are replaced.
 * Each shard holds an fcntl lock on .work/shard-<i>-of-<n>.lock while it runs.
 */
#include "sb_pipeline.h"

#include "bids.h"
#include "sb_export.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PATH_N 4096

/* Paths under the dataset root: the root is at most ROOT_MAX bytes (checked first) and the
 * names below it are short, so every path fits in PATH_N. */
#define ROOT_MAX 2048

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void
pathf(char out[PATH_N], const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, PATH_N, fmt, ap);
    va_end(ap);
}

uint64_t sb_batch_subject_seed(uint64_t master_seed, uint32_t k) {
    uint64_t z = master_seed + (uint64_t)k * 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

int sb_batch_subject_abnormal(uint64_t master_seed, uint32_t k, double rate) {
    uint64_t z = sb_batch_subject_seed(master_seed, k) ^ 0x4C4553494F4EULL; /* "LESION" */
    z += 0x9E3779B97F4A7C15ULL;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    z ^= z >> 31;
    return (double)(z >> 11) * 0x1.0p-53 < rate;
}

/* 1 if subject k also gets its normal twin (sb_batch_opts.normal_twins) */
static int has_twin(const sb_batch_opts *b, uint32_t k) {
    return b->gen.lesions && b->normal_twins &&
           sb_batch_subject_abnormal(b->gen.subject.seed, k, b->lesion_rate);
}

/* The caller's stop flag (its signal handler sets it to the signal number); 0 if none. */
static int stop_signal(const sb_batch_opts *b) {
    return b->stop ? (int)*b->stop : 0;
}

/* ---- files ------------------------------------------------------------------------------- */
static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw) {
    (void)st, (void)flag, (void)ftw;
    remove(path);
    return 0;
}

static void rm_rf(const char *path) {
    if (sb_path_exists(path)) nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static void fsync_dir(const char *dir) {
    int fd = open(dir, O_RDONLY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

static sb_status move(const char *from, const char *to, sb_error *err) {
    if (rename(from, to) != 0)
        return sb_error_set(err, SB_ERR_OUTPUT, "cannot move %s to %s: %s", from, to,
                            strerror(errno));
    return SB_OK;
}

static sb_status write_file(const char *path, const char *text, size_t n, sb_error *err) {
    sb_outfile o;
    sb_status s = sb_outfile_open(&o, path, 1, err);
    if (!s) s = sb_outfile_write(&o, text, n, err);
    if (!s) s = sb_outfile_commit(&o, err);
    sb_outfile_abort(&o);
    return s;
}

/* ---- the dataset-level files ------------------------------------------------------------- */
enum { NTOP = 8 };
typedef struct top_files {
    char tmp[NTOP][PATH_N], final[NTOP][PATH_N];
    int n;
} top_files;

/* The settings that determine the dataset's bytes (derivatives/synthbody/batch.json); a rerun
 * with other settings is refused unless --force. Not the threads or the memory budget. */
static char *batch_json(const sb_batch_opts *b) {
    const sb_generate_opts *g = &b->gen;
    cJSON *o = cJSON_CreateObject();
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)g->subject.seed);
    cJSON_AddStringToObject(o, "program", "synthbody");
    cJSON_AddStringToObject(o, "version", SB_VERSION_STRING);
    cJSON_AddStringToObject(o, "master_seed", seed);
    cJSON_AddNumberToObject(o, "count", b->count);
    cJSON_AddStringToObject(o, "subject_seed",
                            "k-th output of SplitMix64 seeded with master_seed (k = 1..count)");
    cJSON_AddStringToObject(o, "shard", "shard i of n makes subjects k with (k - 1) mod n == i");
    cJSON_AddNumberToObject(o, "voxel_mm", g->voxel_mm);
    cJSON_AddStringToObject(o, "protocol", g->protocol ? g->protocol : "default");
    if (g->contrasts) cJSON_AddStringToObject(o, "contrasts", g->contrasts);
    cJSON_AddBoolToObject(o, "mesh", g->mesh);
    cJSON_AddStringToObject(o, "anatomy", g->anatomy ? g->anatomy : "default");
    cJSON_AddStringToObject(o, "tissues", g->tissues ? g->tissues : "default");
    if (g->field_t > 0) cJSON_AddNumberToObject(o, "field_T", g->field_t);
    if (g->has_snr) cJSON_AddNumberToObject(o, "snr", g->snr);
    if (g->has_bias) cJSON_AddNumberToObject(o, "bias", g->bias);
    cJSON_AddBoolToObject(o, "float", g->float_out);
    cJSON_AddNumberToObject(o, "texture", g->texture);
    if (g->acq_voxel_mm > 0) cJSON_AddNumberToObject(o, "acq_voxel_mm", g->acq_voxel_mm);
    if (g->slice_mm > 0) cJSON_AddNumberToObject(o, "slice_mm", g->slice_mm);
    /* the acquisition options only when given: older datasets keep their bytes */
    if (g->stations > 0) cJSON_AddNumberToObject(o, "stations", g->stations);
    if (g->has_overlap) cJSON_AddNumberToObject(o, "overlap_mm", g->overlap_mm);
    if (g->ghosting > 0) cJSON_AddNumberToObject(o, "ghosting", g->ghosting);
    if (g->ghost_period > 0) cJSON_AddNumberToObject(o, "ghost_period", g->ghost_period);
    if (g->fat_water_swap > 0) cJSON_AddNumberToObject(o, "fat_water_swap", g->fat_water_swap);
    if (g->flow_cm_s > 0) cJSON_AddNumberToObject(o, "flow_voids_cm_s", g->flow_cm_s);
    if (g->uncompressed) cJSON_AddStringToObject(o, "compress", "none");
    const sb_subject_request *r = &g->subject;
    if (r->sex != SB_SEX_RANDOM)
        cJSON_AddStringToObject(o, "sex", r->sex == SB_SEX_MALE ? "male" : "female");
    if (r->age_y > 0) cJSON_AddNumberToObject(o, "age_y", r->age_y);
    if (r->height_cm > 0) cJSON_AddNumberToObject(o, "height_cm", r->height_cm);
    if (r->bmi > 0) cJSON_AddNumberToObject(o, "bmi", r->bmi);
    if (g->lesions) { /* only with lesions: older datasets keep their bytes */
        cJSON_AddStringToObject(o, "lesions", g->lesions);
        cJSON_AddNumberToObject(o, "lesion_rate", b->lesion_rate);
        cJSON_AddStringToObject(o, "lesion_file", g->lesion_file ? g->lesion_file : "default");
        if (b->normal_twins) cJSON_AddBoolToObject(o, "normal_twins", 1);
    }
    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    if (!text) return NULL;
    size_t n = strlen(text);
    char *t = realloc(text, n + 2);
    if (!t) {
        free(text);
        return NULL;
    }
    memcpy(t + n, "\n", 2);
    return t;
}

/* Writes text (then frees it) to tmpdir/tmpname, to be placed as final_dir/name. */
static sb_status top_add_text(top_files *t, const char *tmpdir, const char *tmpname,
                              const char *final_dir, const char *name, char *text, sb_error *err) {
    if (!text) return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    int i = t->n++;
    pathf(t->tmp[i], "%s/%s", tmpdir, tmpname);
    pathf(t->final[i], "%s/%s", final_dir, name);
    sb_status s = write_file(t->tmp[i], text, strlen(text), err);
    free(text);
    return s;
}

/* Writes every dataset-level file into tmpdir, compares each with the one in place (a different
 * one: SB_ERR_EXISTS unless force), then renames the missing or different ones into place. */
static sb_status top_level_files(const sb_batch_opts *b, const sb_label_table *all,
                                 const char *root, const char *deriv, const char *tmpdir,
                                 sb_error *err) {
    top_files t = {.n = 0};
    uint64_t ms = b->gen.subject.seed;
    sb_status s = top_add_text(&t, tmpdir, "batch.json", deriv, "batch.json", batch_json(b), err);
    if (!s)
        s = top_add_text(&t, tmpdir, "raw_description.json", root, "dataset_description.json",
                         bids_dataset_description(ms, 0), err);
    if (!s) s = top_add_text(&t, tmpdir, "README", root, "README", bids_readme(), err);
    if (!s)
        s = top_add_text(
            &t, tmpdir, "participants.json", root, "participants.json",
            bids_participants_json(b->gen.lesions != NULL, b->gen.lesions && b->normal_twins), err);
    if (!s)
        s = top_add_text(&t, tmpdir, "derivative_description.json", deriv,
                         "dataset_description.json", bids_dataset_description(ms, 1), err);
    const char *tables[] = {"dseg.tsv", "labels.itksnap.txt", "labels.ctbl"};
    for (int i = 0; !s && i < 3; i++) {
        int k = t.n++;
        pathf(t.tmp[k], "%s/%s", tmpdir, tables[i]);
        pathf(t.final[k], "%s/%s", deriv, tables[i]);
        s = i == 0   ? sb_labels_write_tsv(all, t.tmp[k], 1, err)
            : i == 1 ? sb_labels_write_itksnap(all, t.tmp[k], 1, err)
                     : sb_labels_write_ctbl(all, t.tmp[k], 1, err);
    }
    int place[NTOP] = {0};
    for (int i = 0; !s && i < t.n; i++) {
        size_t na, nb;
        char *a = bids_read_file(t.tmp[i], &na);
        char *old = sb_path_exists(t.final[i]) ? bids_read_file(t.final[i], &nb) : NULL;
        if (!a)
            s = sb_error_set(err, SB_ERR_OUTPUT, "cannot read back %s", t.tmp[i]);
        else if (!old)
            place[i] = 1;
        else if (na != nb || memcmp(a, old, na) != 0) {
            if (b->gen.force)
                place[i] = 1;
            else
                s = sb_error_set(err, SB_ERR_EXISTS,
                                 "%s exists and differs: %s holds a dataset made with other "
                                 "settings or another version (see %s/batch.json); use another "
                                 "--out, or --force to remake it",
                                 t.final[i], root, deriv);
        }
        free(a);
        free(old);
    }
    int replaced = 0;
    for (int i = 0; !s && i < t.n; i++)
        if (place[i]) {
            replaced |= sb_path_exists(t.final[i]);
            s = move(t.tmp[i], t.final[i], err);
        }
    if (!s && replaced) { /* other settings (--force): the old table no longer holds */
        char p[PATH_N];
        pathf(p, "%s/participants.tsv", root);
        unlink(p);
    }
    for (int i = 0; i < t.n; i++) unlink(t.tmp[i]);
    return s;
}

/* ---- one subject ----------------------------------------------------------------------------*/
typedef struct image_map {
    char contrast[40];
    char bids[96]; /* entities and suffix */
    int derivative;
    const char *datatype;
} image_map;

typedef struct batch_run {
    const sb_batch_opts *b;
    const sb_ctx *ctx;
    char root[PATH_N], deriv[PATH_N], work[PATH_N];
    image_map img[SB_PROTOCOL_MAX * SB_MRI_OUT_MAX];
    size_t nimg;
    int width;
} batch_run;

static sb_status plan_images(batch_run *r, sb_error *err) {
    const sb_generate_opts *g = &r->b->gen;
    sb_protocol p;
    sb_status s = sb_mri_protocol(g->protocol, g->contrasts, g->field_t, g->has_snr ? g->snr : -1,
                                  g->has_bias ? g->bias : -1, &p, err);
    for (size_t i = 0; !s && i < p.count; i++) {
        char names[SB_MRI_OUT_MAX][40];
        size_t n = sb_mri_outputs(&p.acq[i], names);
        for (size_t k = 0; k < n; k++) {
            if (!(p.want[i] & (1u << k))) continue;
            image_map *m = &r->img[r->nimg++];
            size_t len = strnlen(names[k], sizeof m->contrast - 1);
            memcpy(m->contrast, names[k], len);
            m->contrast[len] = '\0';
            if (!bids_image_name(names[k], p.acq[i].seq.flip_deg, m->bids, sizeof m->bids,
                                 &m->derivative, &m->datatype))
                return sb_error_set(err, SB_ERR_USAGE, "contrast %s has no BIDS name", names[k]);
        }
    }
    return s;
}

/* The child: generate subject k (twin: its normal twin) into dir and report the status and
 * message on fd. */
static void child_generate(const batch_run *r, uint32_t k, int twin, const char *dir, int fd,
                           pid_t parent) {
    /* the caller's handlers would only set its flag: the child dies of the signal instead
     * (its parent then removes the staging directory) */
    const int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
    for (int i = 0; i < 4; i++) {
        struct sigaction sa = {.sa_handler = SIG_DFL};
        struct sigaction cur;
        sigemptyset(&sa.sa_mask);
        if (sigaction(sigs[i], NULL, &cur) == 0 && cur.sa_handler != SIG_IGN)
            sigaction(sigs[i], &sa, NULL);
    }
#ifdef __linux__
    /* dies with its parent (SIGKILL, node loss): no orphan writing into a rerun's staging */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
    if (getppid() != parent) _exit(1);
    sb_generate_opts g = r->b->gen;
    g.subject.seed = sb_batch_subject_seed(r->b->gen.subject.seed, k);
    g.subject.subject = 0;
    if (g.lesions &&
        (twin || !sb_batch_subject_abnormal(r->b->gen.subject.seed, k, r->b->lesion_rate)))
        g.lesions = NULL; /* a normal subject of a dataset with lesions, or a normal twin */
    g.out_dir = dir;
    g.force = 0;
    sb_error e = {0};
    unsigned char st = (unsigned char)sb_pipeline_generate(&g, r->ctx, &e);
    ssize_t w = write(fd, &st, 1);
    if (w == 1 && st) w = write(fd, e.msg, strnlen(e.msg, sizeof e.msg));
    (void)w;
    close(fd);
    _exit(0);
}

/* Runs the child; returns its status (and message in err), or SB_ERR_INTERNAL with *interrupted
 * set when a signal arrived (the child is then killed and reaped). */
static sb_status run_child(const batch_run *r, uint32_t k, int twin, const char *dir,
                           int *interrupted, sb_error *err) {
    int fds[2];
    if (pipe(fds) != 0) return sb_error_set(err, SB_ERR_INTERNAL, "pipe: %s", strerror(errno));
    fflush(NULL);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]), close(fds[1]);
        return sb_error_set(err, SB_ERR_MEMORY, "cannot start a process for subject %u: %s",
                            (unsigned)k, strerror(errno));
    }
    if (pid == 0) {
        close(fds[0]);
        child_generate(r, k, twin, dir, fds[1], parent);
    }
    close(fds[1]);
    char buf[1100];
    size_t got = 0;
    int killed = 0;
    for (;;) { /* the child's report, checking the stop flag 5 times a second */
        if (stop_signal(r->b) && !killed) {
            kill(pid, SIGKILL);
            killed = 1;
        }
        struct pollfd pfd = {.fd = fds[0], .events = POLLIN};
        int ready = poll(&pfd, 1, 200);
        if (ready < 0 && errno != EINTR) break;
        if (ready <= 0) continue;
        ssize_t n = read(fds[0], buf + got, sizeof buf - 1 - got);
        if (n > 0) got += (size_t)n;
        if (n == 0 || (n < 0 && errno != EINTR) || got == sizeof buf - 1) break;
    }
    close(fds[0]);
    int ws = 0;
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR) {
    }
    buf[got] = '\0';
    if (stop_signal(r->b)) {
        *interrupted = 1;
        return sb_error_set(err, SB_ERR_INTERNAL, "interrupted by signal %d", stop_signal(r->b));
    }
    if (!WIFEXITED(ws) || WEXITSTATUS(ws) != 0 || got == 0)
        return sb_error_set(
            err, WIFSIGNALED(ws) && WTERMSIG(ws) == SIGKILL ? SB_ERR_MEMORY : SB_ERR_INTERNAL,
            "the process making subject %u died (%s %d)", (unsigned)k,
            WIFSIGNALED(ws) ? "signal" : "exit status",
            WIFSIGNALED(ws) ? WTERMSIG(ws) : WEXITSTATUS(ws));
    sb_status st = (sb_status)(unsigned char)buf[0];
    if (st) sb_error_set(err, st, "%s", buf + 1);
    return st;
}

/* Moves the generated files of subject `id` from stage/out into the BIDS layout. */
static sb_status place_subject(const batch_run *r, const char *id, const char *stage,
                               sb_error *err) {
    char out[PATH_N], raw[PATH_N], der[PATH_N], a[PATH_N], b[PATH_N];
    pathf(out, "%s/out", stage);
    pathf(raw, "%s/raw", stage);
    pathf(der, "%s/derivative", stage);
    pathf(a, "%s/anat", raw);
    sb_status s = sb_mkdir_p(a, err);
    pathf(a, "%s/anat", der);
    if (!s) s = sb_mkdir_p(a, err);
    pathf(a, "%s/labels.nii.gz", out);
    pathf(b, "%s/anat/%s_dseg.nii.gz", der, id);
    if (!s) s = move(a, b, err);
    for (size_t i = 0; !s && i < r->nimg; i++) {
        const image_map *m = &r->img[i];
        char dir[PATH_N];
        pathf(dir, "%s/%s", m->derivative ? der : raw, m->datatype);
        s = sb_mkdir_p(dir, err);
        const char *ext[] = {r->b->gen.uncompressed ? ".nii" : ".nii.gz", ".json"};
        for (int e = 0; !s && e < 2; e++) {
            pathf(a, "%s/%s%s", out, m->contrast, ext[e]);
            pathf(b, "%s/%s_%s%s", dir, id, m->bids, ext[e]);
            s = move(a, b, err);
        }
    }
    /* lesions: instance and class maps (dseg with their tables) and lesions.tsv */
    static const char *const lesion_files[][2] = {
        {"lesions.nii.gz", "desc-lesions_dseg.nii.gz"},
        {"lesion_classes.nii.gz", "desc-lesionclasses_dseg.nii.gz"},
        {"lesion_classes.tsv", "desc-lesionclasses_dseg.tsv"},
        {"lesions.tsv", "lesions.tsv"}};
    for (size_t i = 0; !s && i < sizeof lesion_files / sizeof lesion_files[0]; i++) {
        pathf(a, "%s/%s", out, lesion_files[i][0]);
        pathf(b, "%s/anat/%s_%s", der, id, lesion_files[i][1]);
        if (sb_path_exists(a)) s = move(a, b, err);
    }
    if (!s && r->b->gen.mesh) {
        pathf(a, "%s/meshes", out);
        pathf(b, "%s/meshes", der);
        s = move(a, b, err);
    }
    if (s) return s;
    /* out of the way: the old subject, its record first */
    char final_raw[PATH_N], final_der[PATH_N], rec[PATH_N];
    pathf(final_raw, "%s/%s", r->root, id);
    pathf(final_der, "%s/%s", r->deriv, id);
    bids_record_path(r->root, id, rec, sizeof rec);
    unlink(rec);
    rm_rf(final_raw);
    rm_rf(final_der);
    s = move(raw, final_raw, err);
    if (!s) s = move(der, final_der, err);
    if (!s) {
        fsync_dir(r->root);
        fsync_dir(r->deriv);
        pathf(a, "%s/subject.json", out);
        s = move(a, rec, err); /* last: the subject is finished */
    }
    if (!s) fsync_dir(final_der);
    return s;
}

/* ---- the shard's log ---------------------------------------------------------------------- */
static void log_line(int fd, const char *id, uint64_t seed, const char *status, double seconds) {
    if (fd < 0) return;
    char host[256] = "?", when[32] = "";
    gethostname(host, sizeof host - 1);
    time_t now = time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm)) strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    char line[512];
    int n = snprintf(line, sizeof line, "%s\t%llu\t%s\t%.2f\t%s\t%ld\t%s\n", id,
                     (unsigned long long)seed, status, seconds, host, (long)getpid(), when);
    if (n > 0 && (size_t)n < sizeof line && write(fd, line, (size_t)n) != n) {
        /* a log that cannot be written does not stop the batch */
    }
}

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* ---- the batch ------------------------------------------------------------------------------*/
sb_status sb_pipeline_batch(const sb_batch_opts *b, const sb_ctx *ctx, sb_batch_result *res,
                            sb_error *err) {
    sb_batch_result dummy;
    if (!res) res = &dummy;
    memset(res, 0, sizeof *res);
    if (!b->gen.out_dir || !*b->gen.out_dir)
        return sb_error_set(err, SB_ERR_USAGE, "batch needs --out DIR");
    if (strlen(b->gen.out_dir) > ROOT_MAX)
        return sb_error_set(err, SB_ERR_USAGE, "--out: the path is longer than %d bytes", ROOT_MAX);
    if (b->count < 1) return sb_error_set(err, SB_ERR_USAGE, "--count must be at least 1");
    if (b->shard_count < 1 || b->shard_index >= b->shard_count)
        return sb_error_set(err, SB_ERR_USAGE, "shard %u/%u: the index must be below the count",
                            (unsigned)b->shard_index, (unsigned)b->shard_count);
    batch_run *r = calloc(1, sizeof *r);
    if (!r) return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    r->b = b;
    r->ctx = ctx;
    r->width = bids_label_width(b->count);
    sb_anatomy *anat = NULL;
    sb_label_table *all = NULL;
    int lock_fd = -1, log_fd = -1, have_lock = 0, lock_errno = 0;
    char lock_path[PATH_N] = "", logs[PATH_N], top_tmp[PATH_N] = "";
    pathf(r->root, "%s", b->gen.out_dir);
    pathf(r->deriv, "%s/derivatives/synthbody", r->root);
    pathf(r->work, "%s/.work", r->deriv);
    pathf(logs, "%s/logs", r->deriv);

    sb_status s = plan_images(r, err);
    if (!s)
        s = b->gen.anatomy ? sb_anatomy_load(b->gen.anatomy, &anat, err)
                           : sb_anatomy_load_default(&anat, err);
    if (!s) s = sb_anatomy_label_table(anat, SB_SEX_RANDOM, &all, err);
    if (!s && b->gen.lesions) { /* the lesion request checked before anything is written */
        sb_lesion_catalog *lc = NULL;
        s = sb_lesion_catalog_load(b->gen.lesion_file, &lc, err);
        if (!s) s = sb_lesion_spec_check(lc, b->gen.lesions, err);
        sb_lesion_catalog_free(lc);
    }
    if (!s) s = sb_mkdir_p(r->work, err);
    if (!s) s = sb_mkdir_p(logs, err);
    if (s) goto done;

    /* one process per shard at a time */
    pathf(lock_path, "%s/shard-%u-of-%u.lock", r->work, (unsigned)b->shard_index,
          (unsigned)b->shard_count);
    for (int tries = 0; lock_fd < 0 && tries < 5; tries++) { /* another shard may rmdir .work */
        lock_fd = open(lock_path, O_RDWR | O_CREAT, 0666);
        lock_errno = errno;
        if (lock_fd >= 0 || lock_errno != ENOENT || (s = sb_mkdir_p(r->work, err))) break;
    }
    if (!s && lock_fd < 0)
        s = sb_error_set(err, SB_ERR_OUTPUT, "cannot create %s: %s", lock_path,
                         strerror(lock_errno));
    struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (!s && fcntl(lock_fd, F_SETLK, &fl) != 0)
        s = sb_error_set(err, SB_ERR_OUTPUT, "shard %u/%u of %s is already running (lock %s)",
                         (unsigned)b->shard_index, (unsigned)b->shard_count, r->root, lock_path);
    if (s) goto done;
    have_lock = 1;

    pathf(top_tmp, "%s/top-%ld", r->work, (long)getpid());
    rm_rf(top_tmp);
    s = sb_mkdir_p(top_tmp, err);
    if (!s) s = top_level_files(b, all, r->root, r->deriv, top_tmp, err);
    rmdir(top_tmp);
    if (s) goto done;

    char log_path[PATH_N];
    pathf(log_path, "%s/shard-%u-of-%u.tsv", logs, (unsigned)b->shard_index,
          (unsigned)b->shard_count);
    log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND, 0666);
    struct stat lst;
    if (log_fd >= 0 && fstat(log_fd, &lst) == 0 && lst.st_size == 0) {
        static const char head[] = "participant_id\tseed\tstatus\tseconds\thost\tpid\tutc\n";
        if (write(log_fd, head, sizeof head - 1) != (ssize_t)(sizeof head - 1)) {
            /* reported by the next line's failure, if any; the log is informative only */
        }
    }

    uint32_t total = 0, seen = 0;
    for (uint32_t k = b->shard_index + 1; k <= b->count; k += b->shard_count)
        total += 1 + has_twin(b, k);
    res->owned = total;
    for (uint32_t k = b->shard_index + 1; !s && k <= b->count; k += b->shard_count)
        for (int twin = 0; !s && twin <= has_twin(b, k); twin++) {
            if (stop_signal(b)) break;
            char id[48], rec[PATH_N], stage[PATH_N], out[PATH_N];
            snprintf(id, sizeof id, "sub-%0*u%s", r->width, (unsigned)k, twin ? "normal" : "");
            uint64_t seed = sb_batch_subject_seed(b->gen.subject.seed, k);
            bids_record_path(r->root, id, rec, sizeof rec);
            if (!b->gen.force && sb_path_exists(rec)) {
                res->skipped++;
                log_line(log_fd, id, seed, "skipped", 0);
                sb_progress(ctx, "subjects", ++seen, total);
                continue;
            }
            double t0 = now_s();
            pathf(stage, "%s/%s", r->work, id);
            pathf(out, "%s/out", stage);
            rm_rf(stage); /* left by a killed run */
            s = sb_mkdir_p(stage, err);
            int interrupted = 0;
            if (!s) {
                sb_log(ctx, SB_LOG_INFO, "%s: seed %llu", id, (unsigned long long)seed);
                s = run_child(r, k, twin, out, &interrupted, err);
            }
            if (!s) s = place_subject(r, id, stage, err);
            rm_rf(stage);
            if (s && !interrupted) {
                char msg[sizeof err->msg];
                snprintf(msg, sizeof msg, "%s", err->msg);
                sb_error_set(err, s, "%s (seed %llu): %s", id, (unsigned long long)seed, msg);
            }
            log_line(log_fd, id, seed,
                     interrupted ? "interrupted"
                     : s         ? "failed"
                                 : "done",
                     now_s() - t0);
            if (interrupted) res->signal = stop_signal(b);
            if (!s) {
                res->made++;
                sb_progress(ctx, "subjects", ++seen, total);
            }
        }
    if (!s && stop_signal(b)) {
        res->signal = stop_signal(b);
        s = sb_error_set(err, SB_ERR_INTERNAL, "interrupted by signal %d", res->signal);
    }
    /* the last shard to finish sees every record and writes participants.tsv (any shard that
     * does writes the same bytes) */
    if (!s) s = bids_participants(r->root, b->count, 1, &res->merged, err);

done:
    if (log_fd >= 0) close(log_fd);
    if (have_lock) unlink(lock_path);
    if (lock_fd >= 0) close(lock_fd);
    if (r->work[0]) rmdir(r->work); /* only when no other shard is using it */
    sb_labels_free(all);
    sb_anatomy_free(anat);
    free(r);
    return s;
}

sb_status sb_pipeline_batch_merge(const char *dir, sb_error *err) {
    char path[PATH_N];
    if (strlen(dir) > ROOT_MAX)
        return sb_error_set(err, SB_ERR_USAGE, "--merge: the path is longer than %d bytes",
                            ROOT_MAX);
    pathf(path, "%s/derivatives/synthbody/batch.json", dir);
    char *text = bids_read_file(path, NULL);
    if (!text)
        return sb_error_set(err, SB_ERR_INPUT, "%s: cannot read (not a synthbody batch?): %s", path,
                            strerror(errno));
    cJSON *j = cJSON_Parse(text);
    free(text);
    cJSON *c = j ? cJSON_GetObjectItemCaseSensitive(j, "count") : NULL;
    double count = cJSON_IsNumber(c) ? c->valuedouble : 0;
    cJSON_Delete(j);
    if (!(count >= 1 && count <= 4294967295.0) || count != (double)(uint32_t)count)
        return sb_error_set(err, SB_ERR_INPUT, "%s: no valid \"count\"", path);
    int written = 0;
    return bids_participants(dir, (uint32_t)count, 0, &written, err);
}
