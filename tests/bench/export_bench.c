/* export_bench.c — time and peak memory of every mesh writer on the same meshes, side by side
 * with Assimp 5.2's exporters and lib3mf 1.8.1 (README "Export").
 *
 *   export_bench DIR [--out TMPDIR] [--repeat N] [--only w1,w2,...]
 *
 * DIR is a `synthbody export --formats stl` output (manifest.json + stl/<structure>.stl): the
 * meshes are read back (Assimp's STL reader, vertices joined by position: the same vertices and
 * triangles we wrote) with their names, groups and colours. Each writer then runs N times, each
 * time in a fresh child process (fork) so its peak memory is its own: the child resets its peak
 * (VmHWM, via /proc/self/clear_refs) and reports the peak minus its resident set at the start
 * (the meshes, shared with the parent). Each writer's output is removed after its runs. Time is
 * wall clock from our in-memory meshes to the closed (fsync'ed) file, including any conversion the
 * library needs (Assimp's scene, lib3mf's model). Prints one row per writer: median wall seconds
 * and CPU seconds (user + sys of all its threads: steadier on a loaded machine), each with its
 * ratio to our merged binary STL, peak extra MiB, file size. With `stl` among the writers, every
 * run of another writer is paired with a run of the STL writer just before it and the ratios
 * are the medians of the N pairs' ratios, so a load that drifts during the benchmark (other
 * jobs on a shared machine) weighs on both sides of each ratio.
 */
#define _GNU_SOURCE
#include "export_bench.h"
#include "sb_export.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef struct writer {
    const char *name, *file, *what;
} writer;

static const writer WRITERS[] = {
    {"stl", "all.stl", "ours: binary STL, every structure in one file"},
    {"stl-each", "stl", "ours: one binary STL per structure"},
    {"glb", "all.glb", "ours: glTF 2.0 binary"},
    {"3mf", "all.3mf", "ours: 3MF, values-aware deflate in parallel pieces"},
    {"obj", "all.obj", "ours: OBJ + MTL"},
    {"ply", "all.ply", "ours: binary PLY"},
    {"vtp", "all.vtp", "ours: VTK XML PolyData"},
    {"assimp-stlb", "assimp.stl", "Assimp 5.2 stlb"},
    {"assimp-glb2", "assimp.glb", "Assimp 5.2 glb2"},
    {"assimp-3mf", "assimp.3mf", "Assimp 5.2 3mf"},
    {"assimp-obj", "assimp.obj", "Assimp 5.2 obj"},
    {"lib3mf", "lib3mf.3mf", "lib3mf 1.8.1"},
};
#define NWRITERS (sizeof WRITERS / sizeof WRITERS[0])

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static double rss_mib(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, rss = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2) rss = 0;
        fclose(f);
    }
    return (double)rss * (double)sysconf(_SC_PAGESIZE) / 1048576.0;
}

/* The peak resident set since the last reset, MiB (VmHWM). */
static double hwm_mib(void) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double kb = 0;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %lf kB", &kb) == 1) break;
    if (f) fclose(f);
    return kb / 1024.0;
}

/* Resets VmHWM to the current resident set (Linux >= 4.0: "5" > /proc/self/clear_refs). */
static void reset_hwm(void) {
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (f) {
        fputs("5", f);
        fclose(f);
    }
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Runs writer w once in this process; 0 on success. */
static int run_writer(const writer *w, const sb_scene_mesh *ms, size_t n, const char *out) {
    char path[4096], why[1200] = "";
    snprintf(path, sizeof path, "%s/%s", out, w->file);
    sb_scene_frame mm = {1.0, 0}, gl = {0.001, 1};
    sb_error err = {0};
    sb_status s = SB_OK;
    if (!strcmp(w->name, "stl"))
        s = sb_scene_write(SB_SCENE_STL, ms, n, &mm, "all", path, 1, NULL, &err);
    else if (!strcmp(w->name, "stl-each")) {
        sb_mkdir_p(path, &err);
        for (size_t i = 0; i < n && !s; i++) {
            char p[4200];
            snprintf(p, sizeof p, "%s/%s.stl", path, ms[i].name);
            s = sb_scene_write(SB_SCENE_STL, &ms[i], 1, &mm, ms[i].name, p, 1, NULL, &err);
        }
    } else if (!strcmp(w->name, "glb"))
        s = sb_scene_write(SB_SCENE_GLB, ms, n, &gl, "all", path, 1, NULL, &err);
    else if (!strcmp(w->name, "3mf"))
        s = sb_scene_write(SB_SCENE_3MF, ms, n, &mm, "all", path, 1, NULL, &err);
    else if (!strcmp(w->name, "obj"))
        s = sb_scene_write(SB_SCENE_OBJ, ms, n, &mm, "all", path, 1, NULL, &err);
    else if (!strcmp(w->name, "ply"))
        s = sb_scene_write(SB_SCENE_PLY, ms, n, &mm, "all", path, 1, NULL, &err);
    else if (!strcmp(w->name, "vtp"))
        s = sb_scene_write(SB_SCENE_VTP, ms, n, &mm, "all", path, 1, NULL, &err);
    else if (!strncmp(w->name, "assimp-", 7)) {
        if (ref_assimp_export(ms, n, w->name + 7, path, why, sizeof why)) {
            fprintf(stderr, "%s: %s\n", w->name, why);
            return 1;
        }
    } else if (!strcmp(w->name, "lib3mf")) {
        if (ref_lib3mf_export(ms, n, path, why, sizeof why)) {
            fprintf(stderr, "%s: %s\n", w->name, why);
            return 1;
        }
    }
    if (s) fprintf(stderr, "%s: %s\n", w->name, err.msg);
    return s != SB_OK;
}

/* Removes a writer's output (a file, its .mtl, or a folder of STL files): a 1 mm subject's
 * files take gigabytes. */
static void remove_output(const char *out, const writer *w) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", out, w->file);
    if (!strcmp(w->name, "stl-each")) {
        char cmd[4200];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
        if (system(cmd) != 0) fprintf(stderr, "export_bench: cannot remove %s\n", path);
        return;
    }
    unlink(path);
    char *dot = strrchr(path, '.');
    if (dot && !strcmp(dot, ".obj")) {
        strcpy(dot, ".mtl");
        unlink(path);
    }
}

static double file_mb(const char *out, const writer *w) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", out, w->file);
    struct stat st;
    if (stat(path, &st) != 0) return -1;
    if (S_ISDIR(st.st_mode)) return -1;
    return (double)st.st_size / 1e6;
}

/* One child run: seconds and peak extra MiB through a pipe. */
static int measure(const writer *w, const sb_scene_mesh *ms, size_t n, const char *out, double *sec,
                   double *extra_mib, double *cpu) {
    int fd[2];
    if (pipe(fd) != 0) return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        close(fd[0]);
        reset_hwm();
        double start = rss_mib();
        double t0 = now_s();
        int bad = run_writer(w, ms, n, out);
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        double res[3] = {now_s() - t0, hwm_mib() - start,
                         (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
                             (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec};
        if (write(fd[1], res, sizeof res) != (ssize_t)sizeof res) bad = 1;
        _exit(bad);
    }
    close(fd[1]);
    double res[3] = {0, 0, 0};
    ssize_t got = read(fd[0], res, sizeof res);
    close(fd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (got != (ssize_t)sizeof res || !WIFEXITED(status) || WEXITSTATUS(status)) return -1;
    *sec = res[0];
    *extra_mib = res[1];
    *cpu = res[2];
    return 0;
}

int main(int argc, char **argv) {
    const char *dir = NULL, *out = "export_bench_out", *only = NULL;
    int repeat = 3;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--out") && i + 1 < argc)
            out = argv[++i];
        else if (!strcmp(argv[i], "--repeat") && i + 1 < argc)
            repeat = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--only") && i + 1 < argc)
            only = argv[++i];
        else if (argv[i][0] != '-' && !dir)
            dir = argv[i];
        else {
            fprintf(stderr, "usage: export_bench DIR [--out TMPDIR] [--repeat N] [--only a,b]\n");
            return 2;
        }
    }
    if (!dir || repeat < 1) {
        fprintf(stderr, "usage: export_bench DIR [--out TMPDIR] [--repeat N] [--only a,b]\n");
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "export_bench: cannot read %s\n", path);
        return 3;
    }
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)len + 1);
    if (!text || fread(text, 1, (size_t)len, f) != (size_t)len) return 3;
    text[len] = '\0';
    fclose(f);
    cJSON *root = cJSON_Parse(text);
    free(text);
    cJSON *list = root ? cJSON_GetObjectItem(root, "structures") : NULL;
    size_t n = list ? (size_t)cJSON_GetArraySize(list) : 0;
    if (!n) {
        fprintf(stderr, "export_bench: %s lists no structures\n", path);
        return 3;
    }
    sb_scene_mesh *ms = calloc(n, sizeof *ms);
    size_t tris = 0, verts = 0;
    double t0 = now_s();
    for (size_t i = 0; i < n; i++) {
        cJSON *e = cJSON_GetArrayItem(list, (int)i);
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(e, "name"));
        const char *group = cJSON_GetStringValue(cJSON_GetObjectItem(e, "group"));
        const char *col = cJSON_GetStringValue(cJSON_GetObjectItem(e, "color"));
        unsigned r = 200, g = 200, b = 200;
        if (col && sscanf(col, "#%2x%2x%2x", &r, &g, &b) != 3) r = g = b = 200;
        ms[i].name = name;
        ms[i].group = group;
        ms[i].id = (int)cJSON_GetNumberValue(cJSON_GetObjectItem(e, "id"));
        ms[i].rgba[0] = (uint8_t)r, ms[i].rgba[1] = (uint8_t)g, ms[i].rgba[2] = (uint8_t)b;
        ms[i].rgba[3] = 255;
        snprintf(path, sizeof path, "%s/stl/%s.stl", dir, name);
        sb_trimesh *m = NULL;
        sb_error err = {0};
        if (sb_mesh_read(path, &m, &err)) {
            fprintf(stderr, "export_bench: %s\n", err.msg);
            return 3;
        }
        ms[i].mesh = m;
        tris += m->ntris, verts += m->nverts;
    }
    sb_error err = {0};
    if (sb_mkdir_p(out, &err)) {
        fprintf(stderr, "export_bench: %s\n", err.msg);
        return 4;
    }
    printf("%zu structures, %zu triangles, %zu vertices (read in %.1f s); parent RSS %.0f MiB; "
           "%d run(s) per writer, each in its own process\n\n",
           n, tris, verts, now_s() - t0, rss_mib(), repeat);
    printf(
        "| writer | what | wall s (median) | x our STL | CPU s (median) | x our STL | peak extra "
        "MiB | file MB |\n|---|---|---|---|---|---|---|---|\n");
    double stl_time = 0, stl_cpu = 0;
    for (size_t k = 0; k < NWRITERS; k++) {
        const writer *w = &WRITERS[k];
        if (only) {
            int want = 0;
            const char *p = only;
            while (*p) {
                const char *e = strchr(p, ',');
                size_t l = e ? (size_t)(e - p) : strlen(p);
                want |= strlen(w->name) == l && !strncmp(p, w->name, l);
                p += l + (e ? 1 : 0);
            }
            if (!want) continue;
        }
        double *sec = calloc((size_t)repeat, sizeof *sec), peak = 0;
        double *cpu = calloc((size_t)repeat, sizeof *cpu);
        double *rsec = calloc((size_t)repeat, sizeof *rsec);
        double *rcpu = calloc((size_t)repeat, sizeof *rcpu);
        int ok = 1, paired = stl_time > 0 && strcmp(w->name, "stl");
        for (int r = 0; r < repeat && ok; r++) {
            double mib, ssec = 0, scpu = 0, smib;
            if (paired) { /* the STL writer just before, for this run's ratio */
                ok = measure(&WRITERS[0], ms, n, out, &ssec, &smib, &scpu) == 0;
                remove_output(out, &WRITERS[0]);
            }
            ok = ok && measure(w, ms, n, out, &sec[r], &mib, &cpu[r]) == 0;
            if (mib > peak) peak = mib;
            if (paired && ok) rsec[r] = sec[r] / ssec, rcpu[r] = cpu[r] / scpu;
        }
        if (!ok) {
            remove_output(out, w);
            printf("| %s | %s | failed | | | | | |\n", w->name, w->what);
            free(sec);
            free(cpu);
            free(rsec);
            free(rcpu);
            continue;
        }
        qsort(sec, (size_t)repeat, sizeof *sec, cmp_double);
        qsort(cpu, (size_t)repeat, sizeof *cpu, cmp_double);
        double med = sec[repeat / 2], cmed = cpu[repeat / 2];
        if (!strcmp(w->name, "stl")) stl_time = med, stl_cpu = cmed;
        double mb = file_mb(out, w);
        remove_output(out, w);
        char ratio[32] = "", cratio[32] = "", size[32] = "(one per structure)";
        qsort(rsec, (size_t)repeat, sizeof *rsec, cmp_double);
        qsort(rcpu, (size_t)repeat, sizeof *rcpu, cmp_double);
        if (paired) {
            snprintf(ratio, sizeof ratio, "%.2f", rsec[repeat / 2]);
            snprintf(cratio, sizeof cratio, "%.2f", rcpu[repeat / 2]);
        } else if (stl_time > 0) {
            snprintf(ratio, sizeof ratio, "%.2f", med / stl_time);
            snprintf(cratio, sizeof cratio, "%.2f", cmed / stl_cpu);
        }
        if (mb >= 0) snprintf(size, sizeof size, "%.1f", mb);
        printf("| %s | %s | %.2f | %s | %.2f | %s | %.0f | %s |\n", w->name, w->what, med, ratio,
               cmed, cratio, peak, size);
        fflush(stdout);
        free(sec);
        free(cpu);
        free(rsec);
        free(rcpu);
    }
    for (size_t i = 0; i < n; i++) sb_trimesh_free((sb_trimesh *)ms[i].mesh);
    free(ms);
    cJSON_Delete(root);
    return 0;
}
