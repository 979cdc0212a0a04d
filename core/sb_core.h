/* sb_core.h — synthbody foundation: status codes, logging/progress, the counter-based RNG,
 * volume, label-table and triangle-mesh types, output files written atomically.
 *
 * Layering: this module depends on nothing else of synthbody (libc, libm only). Every other
 * module builds on it. The library never prints and never exits: errors travel back as an
 * sb_status plus a message in an sb_error that names the file, field or value at fault;
 * diagnostics go through the caller's sb_log callback. No mutable globals: two threads may
 * run two subjects with two sb_ctx.
 *
 * Sizes: voxel counts and offsets are size_t (a 0.5 mm whole body has > 2^31 voxels).
 */
#ifndef SB_CORE_H
#define SB_CORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SB_VERSION_STRING "0.1.0"

/* ---- status ------------------------------------------------------------------------------
 * Stable values; the command uses them as its exit codes (README: "Exit codes"). */
typedef enum sb_status {
    SB_OK = 0,
    SB_ERR_INTERNAL = 1, /* a bug or an unexpected library failure */
    SB_ERR_USAGE = 2,    /* unknown option, missing or invalid value */
    SB_ERR_INPUT = 3,    /* input file unreadable, corrupt, truncated or unsupported */
    SB_ERR_OUTPUT = 4,   /* output directory or file cannot be written */
    SB_ERR_MEMORY = 5,   /* the job needs more memory than the machine has; allocation failed */
    SB_ERR_EXISTS = 6,   /* an output exists and --force was not given */
    SB_ERR_LABEL = 7     /* a requested label is absent from the input */
} sb_status;

/* The short name of a status ("usage error", ...). Never NULL. */
const char *sb_status_name(sb_status s);

/* An error: the status and a message naming the file/field/value at fault. */
typedef struct sb_error {
    sb_status status;
    char msg[1024];
} sb_error;

/* Sets err (if non-NULL) to status and the printf-style message; returns status so callers can
 * write `return sb_error_set(err, SB_ERR_INPUT, "%s: truncated", path);`. */
sb_status sb_error_set(sb_error *err, sb_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* ---- context: logging, progress, threads --------------------------------------------------- */
typedef enum sb_log_level {
    SB_LOG_ERROR = 0,
    SB_LOG_WARN = 1,
    SB_LOG_INFO = 2,
    SB_LOG_DEBUG = 3
} sb_log_level;

typedef void (*sb_log_fn)(void *user, sb_log_level level, const char *msg);
/* Progress of a named step: done of total units. Called from the calling thread only. */
typedef void (*sb_progress_fn)(void *user, const char *step, size_t done, size_t total);

/* Shared by every call of one job. All fields may be zero: no logging, no progress, threads
 * chosen by OpenMP. Results never depend on `threads`. */
typedef struct sb_ctx {
    int threads; /* <= 0: OpenMP's default */
    sb_log_fn log;
    sb_progress_fn progress;
    void *user;
} sb_ctx;

void sb_log(const sb_ctx *ctx, sb_log_level level, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
void sb_progress(const sb_ctx *ctx, const char *step, size_t done, size_t total);
/* Threads to use for a loop: ctx->threads if > 0, else the OpenMP default (1 without OpenMP). */
int sb_ctx_threads(const sb_ctx *ctx);

/* ---- counter-based random numbers ---------------------------------------------------------
 * Philox4x32-10 (Salmon, Moraes, Dror, Shaw: "Parallel random numbers: as easy as 1, 2, 3",
 * SC 2011). Key = 64-bit seed; counter = (subject, stream, index low, index high). Any value
 * is a pure function of (seed, subject, stream, index), so a loop that seeks to the voxel index
 * gives the same numbers at any thread count and any split of a batch. */
typedef struct sb_rng {
    uint32_t key[2];
    uint32_t ctr[4];
    uint32_t out[4];
    int used; /* how many of out[] are consumed; 4 = refill */
} sb_rng;

/* One stream of numbers per purpose; values are stable (changing them changes outputs). */
enum {
    SB_STREAM_POPULATION = 1,
    SB_STREAM_ANATOMY = 2,
    SB_STREAM_NOISE = 3,
    SB_STREAM_TEXTURE = 4,
    SB_STREAM_TISSUE = 5,    /* per-subject tissue MR values (volume/mri_tissue.c) */
    SB_STREAM_BIAS = 6,      /* receive bias field (volume/mri_acquire.c) */
    SB_STREAM_LIVER_FAT = 7, /* liver fat fraction (volume/population.c) */
    SB_STREAM_LESION = 8     /* lesions, keyed by the lesion seed (volume/lesions.c) */
};

void sb_rng_init(sb_rng *r, uint64_t seed, uint32_t subject, uint32_t stream);
/* Positions the generator at block `index` (each block yields 4 u32). */
void sb_rng_seek(sb_rng *r, uint64_t index);
/* The raw block function: out = Philox4x32-10(ctr, key). */
void sb_philox4x32_10(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);
uint32_t sb_rng_u32(sb_rng *r);
double sb_rng_uniform(sb_rng *r);                     /* in [0, 1), 53 bits */
double sb_rng_normal(sb_rng *r);                      /* standard normal (Box–Muller) */
double sb_rng_range(sb_rng *r, double lo, double hi); /* uniform in [lo, hi) */
/* Two independent standard normals from block `index` alone (Box–Muller on one Philox block),
 * without touching r's position: the per-voxel draw of parallel loops. */
void sb_rng_normal_pair(const sb_rng *r, uint64_t index, double z[2]);

/* ---- volumes ------------------------------------------------------------------------------
 * A 3-D grid; voxel (i,j,k) is data[i + nx*(j + ny*k)] (i fastest, as NIfTI stores it).
 * affine maps (i,j,k,1) to world RAS+ millimetres (x to the subject's Right, y Anterior,
 * z Superior). Datatype codes are NIfTI's, so a volume maps 1:1 onto a NIfTI file. */
typedef enum sb_dtype {
    SB_DT_UINT8 = 2,
    SB_DT_INT16 = 4,
    SB_DT_INT32 = 8,
    SB_DT_FLOAT32 = 16,
    SB_DT_FLOAT64 = 64,
    SB_DT_INT8 = 256,
    SB_DT_UINT16 = 512,
    SB_DT_UINT32 = 768
} sb_dtype;

typedef struct sb_volume {
    size_t dim[3];
    double spacing[3];   /* mm, positive; the column norms of affine's 3x3 part */
    double affine[4][4]; /* voxel -> world RAS+ mm */
    sb_dtype dtype;
    void *data; /* owned; nvox * sb_dtype_size(dtype) bytes */
} sb_volume;

size_t sb_dtype_size(sb_dtype t); /* bytes per voxel; 0 for an unknown code */
const char *sb_dtype_name(sb_dtype t);

/* Bytes a dim[0]*dim[1]*dim[2] volume of type t needs; 0 if the product overflows size_t. */
size_t sb_volume_bytes_needed(const size_t dim[3], sb_dtype t);
/* Memory this machine can give a job (MemAvailable, else physical RAM), in bytes. */
uint64_t sb_memory_available(void);
/* Fails with SB_ERR_MEMORY (message says how much is needed and what is available) if `bytes`
 * for `what` exceed the available memory. Call before allocating large buffers. */
sb_status sb_memory_check(uint64_t bytes, const char *what, sb_error *err);

/* Allocates a zeroed volume with an axis-aligned affine: diag(spacing), origin at voxel 0.
 * Checks overflow and memory first. */
sb_status sb_volume_create(const size_t dim[3], const double spacing[3], sb_dtype t,
                           sb_volume **out, sb_error *err);
void sb_volume_free(sb_volume *v); /* NULL is a no-op */
static inline size_t sb_volume_nvox(const sb_volume *v) {
    return v->dim[0] * v->dim[1] * v->dim[2];
}
static inline size_t sb_volume_index(const sb_volume *v, size_t i, size_t j, size_t k) {
    return i + v->dim[0] * (j + v->dim[1] * k);
}
/* Value of voxel n as double, whatever the datatype. */
double sb_volume_get(const sb_volume *v, size_t n);
/* Applies the affine: voxel coordinates (may be fractional) -> world mm. */
void sb_volume_to_world(const sb_volume *v, const double ijk[3], double xyz[3]);
/* Sets spacing[] from the affine's column norms. */
void sb_volume_update_spacing(sb_volume *v);

/* ---- label tables -------------------------------------------------------------------------- */
typedef struct sb_label {
    int id;        /* 1..65535; 0 is background and never listed */
    char name[64]; /* unique, [A-Za-z][A-Za-z0-9_]* (TotalSegmentator style) — the mesh file name */
    char abbrev[16]; /* short name for BIDS dseg "abbreviation" */
    char group[32];  /* skin, fat, muscle, skeleton, nervous, cardiovascular, ... */
    char tissue[32]; /* tissue class name used by the MRI model */
    uint8_t rgba[4];
} sb_label;

typedef struct sb_label_table {
    size_t count;
    size_t capacity;
    sb_label *labels;
} sb_label_table;

sb_label_table *sb_labels_create(void); /* NULL on out of memory */
void sb_labels_free(sb_label_table *t); /* NULL is a no-op */
/* Appends a copy of l; SB_ERR_USAGE if the id or name is taken or invalid. */
sb_status sb_labels_add(sb_label_table *t, const sb_label *l, sb_error *err);
const sb_label *sb_labels_find_id(const sb_label_table *t, int id); /* NULL if absent */
const sb_label *sb_labels_find_name(const sb_label_table *t, const char *name);
/* True if name is a valid label name: 1..63 ASCII letters, digits or '_', starting with a
 * letter (TotalSegmentator's names such as vertebrae_C1 qualify). */
int sb_label_name_valid(const char *name);

/* ---- triangle meshes ----------------------------------------------------------------------
 * Indexed triangles; vertices in world mm. Counter-clockwise seen from outside. */
typedef struct sb_trimesh {
    size_t nverts, ntris;
    float *verts;   /* 3 * nverts */
    uint32_t *tris; /* 3 * ntris */
} sb_trimesh;

void sb_trimesh_free(sb_trimesh *m); /* frees arrays and m; NULL is a no-op */

/* ---- output files written atomically ------------------------------------------------------
 * An sb_outfile writes to "<dir>/.<name>.tmp.<pid>.<n>" and only sb_outfile_commit renames it
 * to its final path, so a failure never leaves a partial file at the final path. The temporary
 * file is created with O_EXCL|O_NOFOLLOW (never through a planted file or link); the final
 * path is replaced by rename(2), which replaces a symbolic link there rather than following it.
 * A disk-full failure says "disk full" and removes the temporary file. */
typedef struct sb_outfile {
    FILE *fp;
    char final_path[4096];
    char tmp_path[4096];
    int slot; /* its entry in the registry of temporary files (-1: none) */
} sb_outfile;

/* For programs (the library never installs handlers itself): on SIGINT, SIGTERM, SIGHUP or
 * SIGQUIT, unlink every temporary file of an sb_outfile still open in this process, then die of
 * the signal (default action, so the exit status says which). Signals the program ignores stay
 * ignored. Returns 0, or -1 if sigaction failed. */
int sb_outfile_cleanup_on_signals(void);

/* Opens the temporary file. If !force and final_path exists: SB_ERR_EXISTS. */
sb_status sb_outfile_open(sb_outfile *o, const char *final_path, int force, sb_error *err);
/* Flushes, fsyncs, closes and renames; checks every step (disk full is reported). */
sb_status sb_outfile_commit(sb_outfile *o, sb_error *err);
/* Closes and removes the temporary file; safe to call after commit (no-op) or twice. */
void sb_outfile_abort(sb_outfile *o);
/* fwrite that reports a short write as SB_ERR_OUTPUT naming the file. */
sb_status sb_outfile_write(sb_outfile *o, const void *buf, size_t n, sb_error *err);
/* The reason for a failed write or sync (errno e) as the outfile's messages give it: "disk full
 * (No space left on device)", "disk quota exceeded", else strerror(e). */
const char *sb_write_failure(int e);

/* Creates dir (and parents) if missing; SB_ERR_OUTPUT if it cannot, or is not writable. */
sb_status sb_mkdir_p(const char *dir, sb_error *err);
int sb_path_exists(const char *path);
/* True if name is one plain file name that stays inside the directory it is joined to:
 * 1..255 bytes, no '/', not "." or "..", no control characters (bytes < 32 or 127). Output
 * names built from input data (label names of a labels.tsv) must pass it. */
int sb_file_name_safe(const char *name);
/* Joins dir and name into out (size n); SB_ERR_OUTPUT if it does not fit. */
sb_status sb_path_join(char *out, size_t n, const char *dir, const char *name, sb_error *err);

#ifdef __cplusplus
}
#endif
#endif
