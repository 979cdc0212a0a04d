/* export_cmd.c — `synthbody export`: the labels of a label map as meshes in the formats people
 * print and render (STL, OBJ+MTL, PLY, GLB, 3MF, VTP), one frame for every structure, and a
 * manifest.json describing each file. The surfaces come from the same pipeline as
 * `synthbody mesh` (sb_mesh_surfaces); the writers are export/'s scene writers. */
#include "sb_pipeline.h"

#include "internal.h"
#include "print_prep.h"
#include "sb_export.h"
#include "sb_mesh.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const struct {
    unsigned bit;
    sb_scene_format fmt;
} FORMATS[] = {{SB_EXPORT_STL, SB_SCENE_STL}, {SB_EXPORT_OBJ, SB_SCENE_OBJ},
               {SB_EXPORT_PLY, SB_SCENE_PLY}, {SB_EXPORT_GLB, SB_SCENE_GLB},
               {SB_EXPORT_3MF, SB_SCENE_3MF}, {SB_EXPORT_VTP, SB_SCENE_VTP}};
#define NFORMATS (sizeof FORMATS / sizeof FORMATS[0])

/* The file frame of a format: glTF metres and Y up (its specification), every other format
 * millimetres and Z up (what slicers and medical tools assume); opts override both. */
static sb_scene_frame format_frame(const sb_export_opts *o, sb_scene_format f) {
    sb_scene_frame fr;
    int gltf = f == SB_SCENE_GLB;
    int metres = o->units == SB_UNITS_M || (o->units == SB_UNITS_DEFAULT && gltf);
    fr.scale = metres ? 0.001 : 1.0;
    fr.up_y = o->up == SB_UP_Y || (o->up == SB_UP_DEFAULT && gltf);
    return fr;
}

/* One structure to export. */
typedef struct item {
    int id;
    sb_label label; /* name, group, colour (from labels.tsv, else label_<id>, grey) */
    sb_trimesh *mesh;
    sb_mesh_report rep;
    const char *stl_path; /* stl/<name>.stl */
} item;

typedef struct job {
    const sb_export_opts *o;
    const char *out_dir, *base, *input;
    item *items;
    size_t n;
    const char *merged[NFORMATS]; /* combined file per format (NULL: not requested) */
    const char *mtl, *manifest;
    const print_mesh *pm;   /* print preparation per structure (NULL: none ran) */
    const print_result *pr; /* and its result */
} job;

static void item_label(item *it, const sb_label_table *names) {
    const sb_label *l = names ? sb_labels_find_id(names, it->id) : NULL;
    memset(&it->label, 0, sizeof it->label);
    if (l)
        it->label = *l;
    else {
        it->label.id = it->id;
        snprintf(it->label.name, sizeof it->label.name, "label_%d", it->id);
    }
    if (it->label.rgba[3] == 0 && !it->label.rgba[0] && !it->label.rgba[1] && !it->label.rgba[2])
        memcpy(it->label.rgba, (uint8_t[4]){200, 200, 200, 255}, 4); /* no colour: light grey */
}

static sb_status plan(job *j, outputs *outs, sb_error *err) {
    sb_status s = SB_OK;
    char dir[4096], name[160];
    unsigned f = j->o->formats ? j->o->formats : SB_EXPORT_STL;
    if (f & SB_EXPORT_STL) {
        s = sb_path_join(dir, sizeof dir, j->out_dir, "stl", err);
        for (size_t i = 0; !s && i < j->n; i++) {
            snprintf(name, sizeof name, "%s.stl", j->items[i].label.name);
            s = outputs_plan(outs, dir, name, &j->items[i].stl_path, err);
        }
    }
    for (size_t k = 0; !s && k < NFORMATS; k++) {
        if (!(f & FORMATS[k].bit)) continue;
        snprintf(name, sizeof name, "%s.%s", j->base, sb_scene_format_ext(FORMATS[k].fmt));
        s = outputs_plan(outs, j->out_dir, name, &j->merged[k], err);
        if (!s && FORMATS[k].fmt == SB_SCENE_OBJ) {
            snprintf(name, sizeof name, "%s.mtl", j->base);
            s = outputs_plan(outs, j->out_dir, name, &j->mtl, err);
        }
    }
    if (!s) s = outputs_plan(outs, j->out_dir, "manifest.json", &j->manifest, err);
    return s;
}

static cJSON *vec3(const double *v) {
    return cJSON_CreateDoubleArray(v, 3);
}

/* The bounding box of structures [a, b) of items in a frame (the frame is monotonic per axis,
 * so it maps the world box's corners onto the file box's). */
static void file_bbox(const item *it, size_t n, const sb_scene_frame *fr, double lo[3],
                      double hi[3]) {
    double wlo[3] = {1e300, 1e300, 1e300}, whi[3] = {-1e300, -1e300, -1e300};
    for (size_t i = 0; i < n; i++)
        for (int k = 0; k < 3; k++) {
            if (it[i].rep.bbox_min[k] < wlo[k]) wlo[k] = it[i].rep.bbox_min[k];
            if (it[i].rep.bbox_max[k] > whi[k]) whi[k] = it[i].rep.bbox_max[k];
        }
    double a[3], b[3];
    for (int k = 0; k < 3; k++) a[k] = wlo[k], b[k] = whi[k];
    if (fr->up_y) {
        double t[3] = {-a[0], a[2], a[1]}, u[3] = {-b[0], b[2], b[1]};
        memcpy(a, t, sizeof t), memcpy(b, u, sizeof u);
    }
    for (int k = 0; k < 3; k++) {
        lo[k] = fr->scale * (a[k] < b[k] ? a[k] : b[k]);
        hi[k] = fr->scale * (a[k] < b[k] ? b[k] : a[k]);
    }
}

static cJSON *file_entry(const job *j, const char *path, const char *fmt, const item *it, size_t n,
                         const sb_scene_frame *fr) {
    cJSON *e = cJSON_CreateObject();
    size_t dl = strlen(j->out_dir);
    const char *rel = strncmp(path, j->out_dir, dl) == 0 && path[dl] == '/' ? path + dl + 1 : path;
    cJSON_AddStringToObject(e, "path", rel);
    cJSON_AddStringToObject(e, "format", fmt);
    cJSON_AddStringToObject(e, "units", fr->scale < 0.01 ? "m" : "mm");
    cJSON_AddStringToObject(e, "up", fr->up_y ? "y" : "z");
    struct stat st;
    cJSON_AddNumberToObject(e, "bytes", stat(path, &st) == 0 ? (double)st.st_size : -1);
    size_t tris = 0;
    cJSON *names = cJSON_AddArrayToObject(e, "structures");
    for (size_t i = 0; i < n; i++) {
        cJSON_AddItemToArray(names, cJSON_CreateString(it[i].label.name));
        tris += it[i].rep.ntris;
    }
    cJSON_AddNumberToObject(e, "triangles", (double)tris);
    double lo[3], hi[3];
    file_bbox(it, n, fr, lo, hi);
    cJSON_AddItemToObject(e, "bbox_min", vec3(lo));
    cJSON_AddItemToObject(e, "bbox_max", vec3(hi));
    return e;
}

static cJSON *manifest_root(const job *j) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "program", "synthbody");
    cJSON_AddStringToObject(root, "version", SB_VERSION_STRING);
    cJSON_AddStringToObject(root, "input", j->input);
    cJSON_AddStringToObject(root, "frame",
                            "world RAS+ millimetres of the label map's affine (x right, y "
                            "anterior, z superior); files: units and up axis as listed, "
                            "up y maps (x, y, z) to (-x, z, y)");
    cJSON *list = cJSON_AddArrayToObject(root, "structures");
    for (size_t i = 0; i < j->n; i++) {
        const item *it = &j->items[i];
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "name", it->label.name);
        cJSON_AddNumberToObject(e, "id", it->id);
        cJSON_AddStringToObject(e, "group", it->label.group);
        char col[16];
        snprintf(col, sizeof col, "#%02x%02x%02x", it->label.rgba[0], it->label.rgba[1],
                 it->label.rgba[2]);
        cJSON_AddStringToObject(e, "color", col);
        cJSON_AddNumberToObject(e, "triangles", (double)it->rep.ntris);
        cJSON_AddNumberToObject(e, "volume_ml", it->rep.volume_mm3 / 1000.0);
        cJSON_AddItemToObject(e, "bbox_min_mm", vec3(it->rep.bbox_min));
        cJSON_AddItemToObject(e, "bbox_max_mm", vec3(it->rep.bbox_max));
        if (j->pm && i < j->pr->n) print_manifest_structure(e, &j->pm[i]);
        cJSON_AddItemToArray(list, e);
    }
    if (j->pr) print_manifest(root, j->o, j->pr, j->pm);
    cJSON_AddArrayToObject(root, "files");
    return root;
}

/* --max-mb-per-file: the size of the largest combined file these meshes make, each requested
 * format written to a scratch folder inside out_dir (removed again). */
static sb_status measure_files(void *user, const print_mesh *pm, size_t n, const sb_trimesh *stand,
                               size_t *largest, sb_error *err) {
    const job *j = user;
    const sb_export_opts *o = j->o;
    unsigned f = o->formats ? o->formats : SB_EXPORT_STL;
    sb_scene_mesh *sm = calloc(n + 1, sizeof *sm);
    if (!sm) return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    for (size_t i = 0; i <= n; i++) {
        const item *it = &j->items[i < n ? i : j->n - 1];
        sm[i].mesh = i < n ? pm[i].mesh : stand;
        sm[i].name = it->label.name;
        sm[i].group = it->label.group;
        sm[i].id = it->id;
        memcpy(sm[i].rgba, it->label.rgba, 4);
    }
    char dir[4096], path[4200];
    snprintf(dir, sizeof dir, "%s/.print-measure.%ld", j->out_dir, (long)getpid());
    sb_status s = sb_mkdir_p(dir, err);
    *largest = 0;
    for (size_t k = 0; !s && k < NFORMATS; k++) {
        if (!(f & FORMATS[k].bit)) continue;
        sb_scene_frame fr = format_frame(o, FORMATS[k].fmt);
        snprintf(path, sizeof path, "%s/m.%s", dir, sb_scene_format_ext(FORMATS[k].fmt));
        s = sb_scene_write(FORMATS[k].fmt, sm, n + (stand != NULL), &fr, j->base, path, 1, NULL,
                           err); /* sizes do not depend on the threads */
        struct stat st;
        if (!s && stat(path, &st) == 0 && (size_t)st.st_size > *largest)
            *largest = (size_t)st.st_size;
        unlink(path);
        if (FORMATS[k].fmt == SB_SCENE_OBJ) {
            snprintf(path, sizeof path, "%s/m.mtl", dir);
            unlink(path);
        }
    }
    rmdir(dir);
    free(sm);
    return s;
}

/* Print preparation (core/pipeline/print_prep.c) on the checked meshes, before writing: the
 * meshes of items are replaced (hollowed, scaled, budgeted), their reports refreshed, and with
 * --stand the last item (reserved by the caller) receives the stand. */
static sb_status print_step(job *j, const sb_volume *v, const sb_label_table *names,
                            const char *input, const sb_surface_opts *so, print_mesh **pm_out,
                            print_result *pr, const sb_ctx *ctx, sb_error *err) {
    const size_t n = j->n - (j->o->base ? 1 : 0);
    print_mesh *pm = calloc(n ? n : 1, sizeof *pm);
    if (!pm) return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    for (size_t i = 0; i < n; i++) {
        pm[i].id = j->items[i].id;
        pm[i].name = j->items[i].label.name;
        pm[i].group = j->items[i].label.group;
        pm[i].mesh = j->items[i].mesh;
    }
    sb_status s = print_prepare(v, pm, n, j->o, so, names, input,
                                j->o->max_mb_per_file > 0 ? measure_files : NULL, j, ctx, pr, err);
    for (size_t i = 0; i < n; i++) {
        j->items[i].mesh = pm[i].mesh; /* replaced or not, the item owns it */
        if (!s) j->items[i].rep = pm[i].report;
    }
    if (!s && j->o->base) {
        j->items[n].mesh = pr->stand;
        j->items[n].rep = pr->stand_report;
        pr->stand = NULL; /* owned by the item now */
    }
    pr->n = n;
    *pm_out = pm;
    return s;
}

static sb_status write_all(job *j, outputs *outs, const sb_ctx *ctx, sb_error *err) {
    const sb_export_opts *o = j->o;
    unsigned f = o->formats ? o->formats : SB_EXPORT_STL;
    sb_scene_mesh *sm = calloc(j->n, sizeof *sm);
    cJSON *root = manifest_root(j);
    if (!sm || !root) {
        free(sm);
        cJSON_Delete(root);
        return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    }
    cJSON *files = cJSON_GetObjectItem(root, "files");
    for (size_t i = 0; i < j->n; i++) {
        sm[i].mesh = j->items[i].mesh;
        sm[i].name = j->items[i].label.name;
        sm[i].group = j->items[i].label.group;
        sm[i].id = j->items[i].id;
        memcpy(sm[i].rgba, j->items[i].label.rgba, 4);
    }
    size_t nfiles = 0, done = 0;
    for (size_t k = 0; k < NFORMATS; k++) nfiles += (f & FORMATS[k].bit) != 0;
    if (f & SB_EXPORT_STL) nfiles += j->n;
    sb_status s = SB_OK;
    char dir[4096];
    if (f & SB_EXPORT_STL) {
        sb_scene_frame fr = format_frame(o, SB_SCENE_STL);
        s = sb_path_join(dir, sizeof dir, j->out_dir, "stl", err);
        if (!s) s = sb_mkdir_p(dir, err);
        for (size_t i = 0; !s && i < j->n; i++) {
            const char *p = j->items[i].stl_path;
            s = sb_scene_write(SB_SCENE_STL, &sm[i], 1, &fr, sm[i].name, p, o->force, ctx, err);
            if (s) break;
            outputs_mark_done(outs, p);
            cJSON_AddItemToArray(files, file_entry(j, p, "stl", &j->items[i], 1, &fr));
            sb_progress(ctx, "export", ++done, nfiles);
        }
    }
    for (size_t k = 0; !s && k < NFORMATS; k++) {
        if (!(f & FORMATS[k].bit)) continue;
        sb_scene_frame fr = format_frame(o, FORMATS[k].fmt);
        const char *p = j->merged[k], *ext = sb_scene_format_ext(FORMATS[k].fmt);
        s = sb_scene_write(FORMATS[k].fmt, sm, j->n, &fr, j->base, p, o->force, ctx, err);
        if (s) break;
        outputs_mark_done(outs, p);
        if (FORMATS[k].fmt == SB_SCENE_OBJ) outputs_mark_done(outs, j->mtl);
        cJSON_AddItemToArray(files, file_entry(j, p, ext, j->items, j->n, &fr));
        sb_log(ctx, SB_LOG_INFO, "%s: %zu structures", p, j->n);
        sb_progress(ctx, "export", ++done, nfiles);
    }
    if (!s) s = outputs_write_json(root, j->manifest, o->force, err);
    if (!s) outputs_mark_done(outs, j->manifest);
    cJSON_Delete(root);
    free(sm);
    return s;
}

/* input: a directory (generate output) or a label NIfTI; fills the label map's path. */
static sb_status resolve_input(const char *input, char *nii, size_t n, sb_error *err) {
    struct stat st;
    if (stat(input, &st) != 0)
        return sb_error_set(err, SB_ERR_INPUT, "%s: no such file or directory", input);
    if (S_ISDIR(st.st_mode)) {
        sb_status s = sb_path_join(nii, n, input, "labels.nii.gz", err);
        if (s) return s;
        if (!sb_path_exists(nii))
            return sb_error_set(err, SB_ERR_INPUT,
                                "%s is a directory without labels.nii.gz (not a generate output)",
                                input);
        return SB_OK;
    }
    if ((size_t)snprintf(nii, n, "%s", input) >= n)
        return sb_error_set(err, SB_ERR_INPUT, "%s: path too long", input);
    return SB_OK;
}

/* Default base name: the folder's name, or the file name without .nii/.nii.gz. */
void export_default_base(const char *input, int is_dir, char *out, size_t n) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", input);
    size_t l = strlen(tmp);
    while (l > 1 && tmp[l - 1] == '/') tmp[--l] = '\0';
    const char *b = strrchr(tmp, '/') ? strrchr(tmp, '/') + 1 : tmp;
    snprintf(out, n, "%s", b);
    if (!is_dir) {
        size_t k = strlen(out);
        if (k > 7 && !strcmp(out + k - 7, ".nii.gz"))
            out[k - 7] = '\0';
        else if (k > 4 && !strcmp(out + k - 4, ".nii"))
            out[k - 4] = '\0';
    }
    if (!out[0] || !strcmp(out, ".") || !strcmp(out, "..")) snprintf(out, n, "body");
}

sb_status export_plan_table(const sb_label_table *names, const sb_export_opts *o, const char *base,
                            outputs *outs, sb_error *err) {
    item *items = calloc(names->count ? names->count : 1, sizeof *items);
    if (!items) return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    for (size_t i = 0; i < names->count; i++) {
        items[i].id = names->labels[i].id;
        item_label(&items[i], names);
    }
    job j = {.o = o, .out_dir = o->out_dir, .base = base, .items = items, .n = names->count};
    sb_status s = plan(&j, outs, err);
    free(items);
    return s;
}

sb_status export_meshes(const sb_volume *v, const sb_label_table *names, const unsigned char *sel,
                        const sb_export_opts *o, const char *input, const char *base,
                        outputs *caller_outs, const sb_ctx *ctx, sb_error *err) {
    item *items = NULL;
    int *ids = NULL;
    sb_trimesh **ms = NULL;
    sb_surface_info *info = NULL;
    outputs own = {0}, *outs = caller_outs ? caller_outs : &own;
    size_t n = 0;
    print_mesh *pm = NULL;
    print_result pr;
    memset(&pr, 0, sizeof pr);
    for (size_t id = 1; id < 65536; id++) n += sel[id] != 0;
    if (n == 0) return sb_error_set(err, SB_ERR_LABEL, "%s: the selection is empty", input);
    sb_status s = SB_OK;
    const size_t nitems = n + (o->base ? 1 : 0); /* --stand: one more structure */
    items = calloc(nitems, sizeof *items);
    ids = calloc(n, sizeof *ids);
    ms = calloc(n, sizeof *ms);
    info = calloc(n, sizeof *info);
    if (!items || !ids || !ms || !info) {
        s = sb_error_set(err, SB_ERR_MEMORY, "out of memory");
        goto done;
    }
    size_t k = 0;
    for (size_t id = 1; id < 65536; id++)
        if (sel[id]) {
            items[k].id = ids[k] = (int)id;
            item_label(&items[k], names);
            k++;
        }
    if (o->base) {
        items[n].id = 0;
        snprintf(items[n].label.name, sizeof items[n].label.name, "stand");
        snprintf(items[n].label.group, sizeof items[n].label.group, "stand");
        memcpy(items[n].label.rgba, (uint8_t[4]){160, 160, 160, 255}, 4);
    }
    job j = {
        .o = o, .out_dir = o->out_dir, .base = base, .input = input, .items = items, .n = nitems};
    /* a caller's plan was checked before its job began (and holds files it has written) */
    if ((s = plan(&j, outs, err)) || (!caller_outs && (s = outputs_check(outs, o->force, err))) ||
        (s = sb_mkdir_p(o->out_dir, err)))
        goto done;
    sb_surface_opts so;
    sb_surface_opts_default(&so);
    so.smooth_iters = o->smooth_iters >= 0 ? o->smooth_iters : SB_SURFACE_DEFAULT_SMOOTH;
    so.target_tris = o->target_tris;
    if (o->max_error_mm >= 0) so.max_error_mm = o->max_error_mm;
    if ((s = sb_mesh_surfaces(v, ids, n, &so, ctx, ms, info, err))) goto done;
    for (size_t i = 0; i < n; i++) {
        if (!ms[i]) {
            s = sb_error_set(err, SB_ERR_LABEL, "%s: label %s (id %d) gave no surface", input,
                             items[i].label.name, items[i].id);
            goto done;
        }
        items[i].mesh = ms[i];
        ms[i] = NULL;                  /* the item owns it */
        items[i].rep = info[i].report; /* checked by the surface pipeline (ok == 1) */
    }
    if (print_prep_requested(o)) {
        if ((s = print_step(&j, v, names, input, &so, &pm, &pr, ctx, err))) goto done;
        j.pm = pm;
        j.pr = &pr;
    }
    s = write_all(&j, outs, ctx, err);
done:
    if (s && !caller_outs) outputs_rollback(&own);
    outputs_free(&own);
    for (size_t i = 0; ms && i < n; i++) sb_trimesh_free(ms[i]);
    for (size_t i = 0; items && i < nitems; i++) sb_trimesh_free(items[i].mesh);
    sb_trimesh_free(pr.stand);
    free(pm);
    free(ms);
    free(info);
    free(ids);
    free(items);
    return s;
}

sb_status sb_pipeline_export(const sb_export_opts *opts, const sb_ctx *ctx, sb_error *err) {
    char nii[4096], base[256];
    sb_volume *v = NULL;
    sb_label_table *names = NULL;
    size_t *counts = NULL;
    unsigned char *sel = NULL;
    sb_status s = resolve_input(opts->input, nii, sizeof nii, err);
    if (s) return s;
    if (opts->name) {
        if (!opts->name[0] || strchr(opts->name, '/') || strlen(opts->name) >= sizeof base - 8)
            return sb_error_set(err, SB_ERR_USAGE, "--name \"%s\" is not a file name", opts->name);
        snprintf(base, sizeof base, "%s", opts->name);
    } else {
        export_default_base(opts->input, strcmp(nii, opts->input) != 0, base, sizeof base);
    }
    if ((s = sb_nifti_read(nii, ctx, &v, NULL, err))) return s;
    counts = calloc(65536, sizeof *counts);
    sel = calloc(65536, 1);
    if (!counts || !sel) {
        s = sb_error_set(err, SB_ERR_MEMORY, "out of memory");
        goto done;
    }
    if ((s = label_counts(v, nii, counts, err))) goto done;
    names = sibling_dseg_tsv(nii);
    if ((s = select_labels(opts->select, opts->exclude, "--select", counts, names, nii, sel, err)))
        goto done;
    s = export_meshes(v, names, sel, opts, nii, base, NULL, ctx, err);
done:
    sb_labels_free(names);
    free(counts);
    free(sel);
    sb_volume_free(v);
    return s;
}
