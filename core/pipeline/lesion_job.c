/* lesion_job.c — the lesion outputs of `generate --lesions` (README "Pathology"). */
#include "lesion_job.h"

#include "sb_mesh.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

sb_status lesion_job_begin(lesion_job *j, const char *spec, const char *file, uint64_t seed,
                           sb_subject *subj, const char *out_dir, outputs *outs, sb_error *err) {
    memset(j, 0, sizeof *j);
    if (!spec) return SB_OK;
    j->spec = spec, j->file = file, j->seed = seed;
    sb_status s = sb_lesion_catalog_load(file, &j->cat, err);
    if (!s) s = sb_lesion_spec_check(j->cat, spec, err);
    if (!s) s = sb_lesions_apply_diffuse(j->cat, spec, seed, subj, err);
    if (!s) s = outputs_plan(outs, out_dir, "lesions.nii.gz", &j->p_inst, err);
    if (!s) s = outputs_plan(outs, out_dir, "lesion_classes.nii.gz", &j->p_cls, err);
    if (!s) s = outputs_plan(outs, out_dir, "lesions.tsv", &j->p_tsv, err);
    if (!s) s = outputs_plan(outs, out_dir, "lesion_classes.tsv", &j->p_ctsv, err);
    return s;
}

sb_status lesion_job_plan(lesion_job *j, const sb_anatomy *a, sb_subject *s, const sb_volume *grid,
                          const char *mesh_dir, outputs *outs, int force, const sb_ctx *ctx,
                          sb_error *err) {
    if (!j->cat) return SB_OK;
    sb_status st = sb_lesions_plan(j->cat, j->spec, j->seed, a, s, ctx, &j->les, err);
    size_t n = st ? 0 : sb_lesions_count(j->les);
    sb_label_table *tab = NULL;
    if (!st && s->nresize) st = sb_anatomy_label_table(a, s->sex, &tab, err);
    for (int r = 0; !st && r < s->nresize; r++) { /* the resized organs' volumes, measured */
        const sb_label *lb = sb_labels_find_name(tab, s->resize[r].name);
        j->resize_label[r] = lb ? (uint16_t)lb->id : 0;
        snprintf(j->resize_name[r], sizeof j->resize_name[r], "%s", s->resize[r].name);
        j->resize_factor[r] = s->resize[r].factor;
        j->nresize = r + 1;
    }
    sb_labels_free(tab);
    j->voxel_mm = grid->spacing[0];
    if (!st && mesh_dir && n) { /* the meshes' names are known now: checked before the work */
        j->mesh_dir = mesh_dir;
        j->mesh_paths = calloc(n, sizeof *j->mesh_paths);
        if (!j->mesh_paths) st = sb_error_set(err, SB_ERR_MEMORY, "out of memory");
        for (size_t i = 0; !st && i < n; i++) {
            char name[64];
            snprintf(name, sizeof name, "lesion_%zu.stl", i + 1);
            st = outputs_plan(outs, mesh_dir, name, &j->mesh_paths[i], err);
        }
        if (!st) st = outputs_check(outs, force, err);
        if (!st) st = sb_volume_create(grid->dim, grid->spacing, SB_DT_UINT16, &j->inst_whole, err);
        if (!st) memcpy(j->inst_whole->affine, grid->affine, sizeof grid->affine);
    }
    sb_volume g = *grid;
    g.data = NULL;
    g.dtype = SB_DT_UINT16;
    if (!st)
        st = sb_nifti_writer_open(&g, j->p_inst, force, SB_NIFTI_INTENT_LABEL,
                                  "synthbody lesion instances", 1.0, 0.0, &j->w_inst, err);
    g.dtype = SB_DT_UINT8;
    if (!st)
        st = sb_nifti_writer_open(&g, j->p_cls, force, SB_NIFTI_INTENT_LABEL,
                                  "synthbody lesion classes", 1.0, 0.0, &j->w_cls, err);
    return st;
}

static sb_status commit(sb_nifti_writer **w, outputs *outs, const char *path, sb_error *err) {
    sb_status s = sb_nifti_writer_commit(*w, err);
    sb_nifti_writer_free(*w);
    *w = NULL;
    if (!s) outputs_mark_done(outs, path);
    return s;
}

sb_status lesion_job_slab(lesion_job *j, sb_anatomy_maps *maps, size_t k0, size_t nz_total,
                          outputs *outs, sb_error *err) {
    if (!j->cat) return SB_OK;
    sb_volume *inst = NULL, *cls = NULL;
    const uint16_t *lab = maps->labels->data;
    const size_t nv = sb_volume_nvox(maps->labels);
    for (int r = 0; r < j->nresize; r++)
        for (size_t v = 0; j->resize_label[r] && v < nv; v++)
            j->resize_voxels[r] += lab[v] == j->resize_label[r];
    sb_status s = sb_lesions_paint(j->les, maps, k0, &inst, &cls, err);
    if (!s) s = sb_nifti_writer_put(j->w_inst, inst, err);
    if (!s) s = sb_nifti_writer_put(j->w_cls, cls, err);
    if (!s && j->inst_whole)
        memcpy((uint16_t *)j->inst_whole->data + inst->dim[0] * inst->dim[1] * k0, inst->data,
               sb_volume_bytes_needed(inst->dim, SB_DT_UINT16));
    int last = !s && k0 + inst->dim[2] == nz_total;
    if (last) s = commit(&j->w_inst, outs, j->p_inst, err);
    if (!s && last) s = commit(&j->w_cls, outs, j->p_cls, err);
    sb_volume_free(inst);
    sb_volume_free(cls);
    return s;
}

/* lesions.tsv: one row per lesion, read off the masks as painted. */
static sb_status write_tsv(const lesion_job *j, const char *path, int force, sb_error *err) {
    sb_outfile o;
    sb_status s = sb_outfile_open(&o, path, force, err);
    char line[512];
    int n = snprintf(line, sizeof line,
                     "id\ttype\thost\tclass\tvoxels\tvolume_ml\tcentroid_x_mm\tcentroid_y_mm\t"
                     "centroid_z_mm\tdiameter_mm\tmax_diameter_mm\toedema_ml\n");
    if (!s) s = sb_outfile_write(&o, line, (size_t)n, err);
    for (size_t i = 0; !s && i < sb_lesions_count(j->les); i++) {
        sb_lesion_info li;
        sb_lesions_info(j->les, i, &li);
        n = snprintf(
            line, sizeof line, "%d\t%s\t%s\t%d\t%zu\t%.4f\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%.4f\n",
            li.id, li.type, li.host, li.class_id, li.voxels, li.volume_ml, li.centroid_mm[0],
            li.centroid_mm[1], li.centroid_mm[2], li.diameter_mm, li.max_diameter_mm, li.oedema_ml);
        s = sb_outfile_write(&o, line, (size_t)n, err);
    }
    if (!s) s = sb_outfile_commit(&o, err);
    sb_outfile_abort(&o);
    return s;
}

/* The class map's table (BIDS dseg), type names with '_' for '-'. */
static sb_status write_classes(const lesion_job *j, const char *path, int force, sb_error *err) {
    sb_label_table *t = sb_labels_create();
    if (!t) return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    sb_status s = SB_OK;
    for (size_t k = 1; !s && k <= sb_lesion_class_count(j->cat); k++) {
        sb_label l;
        memset(&l, 0, sizeof l);
        uint8_t rgb[3];
        const char *name = sb_lesion_class_name(j->cat, k, rgb);
        l.id = (int)k;
        snprintf(l.name, sizeof l.name, "%s", name);
        for (char *c = l.name; *c; c++)
            if (*c == '-') *c = '_';
        snprintf(l.abbrev, sizeof l.abbrev, "L%zu", k);
        snprintf(l.group, sizeof l.group, "lesion");
        memcpy(l.rgba, rgb, 3);
        l.rgba[3] = 255;
        s = sb_labels_add(t, &l, err);
    }
    if (!s) s = sb_labels_write_tsv(t, path, force, err);
    sb_labels_free(t);
    return s;
}

/* meshes/lesion_<id>.stl: one closed surface per lesion of the instance map (none for a
 * lesion without a voxel). */
static sb_status write_meshes(lesion_job *j, int force, outputs *outs, cJSON *list,
                              const sb_ctx *ctx, sb_error *err) {
    size_t n = sb_lesions_count(j->les);
    int *ids = malloc(n * sizeof *ids);
    sb_trimesh **ms = calloc(n, sizeof *ms);
    sb_surface_info *info = calloc(n, sizeof *info);
    sb_status s = ids && ms && info ? SB_OK : sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    for (size_t i = 0; !s && i < n; i++) ids[i] = (int)i + 1;
    if (!s) s = sb_mesh_surfaces(j->inst_whole, ids, n, NULL, ctx, ms, info, err);
    /* a one-voxel lesion unsmoothed: the default smoothing (Taubin, volume kept) blows its
     * octahedron up to metres (mesh/ smoothing of a one-voxel component) */
    sb_surface_opts raw;
    sb_surface_opts_default(&raw);
    raw.smooth_iters = 0;
    for (size_t i = 0; !s && i < n; i++) {
        sb_lesion_info li;
        sb_lesions_info(j->les, i, &li);
        if (li.voxels != 1) continue;
        sb_trimesh_free(ms[i]);
        ms[i] = NULL;
        s = sb_mesh_surfaces(j->inst_whole, &ids[i], 1, &raw, ctx, &ms[i], &info[i], err);
    }
    for (size_t i = 0; !s && i < n; i++) {
        if (!ms[i]) continue;
        char name[64];
        snprintf(name, sizeof name, "lesion_%zu", i + 1);
        s = sb_stl_write(ms[i], name, j->mesh_paths[i], force, err);
        if (s) break;
        outputs_mark_done(outs, j->mesh_paths[i]);
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "name", name);
        cJSON_AddNumberToObject(e, "triangles", (double)info[i].report.ntris);
        cJSON_AddNumberToObject(e, "volume_ml", info[i].report.volume_mm3 / 1000.0);
        if (list)
            cJSON_AddItemToArray(list, e);
        else
            cJSON_Delete(e);
    }
    for (size_t i = 0; ms && i < n; i++) sb_trimesh_free(ms[i]);
    free(ms);
    free(ids);
    free(info);
    return s;
}

sb_status lesion_job_finish(lesion_job *j, cJSON *subject, int force, outputs *outs,
                            const sb_ctx *ctx, sb_error *err) {
    if (!j->cat) return SB_OK;
    sb_status s = write_tsv(j, j->p_tsv, force, err);
    if (!s) outputs_mark_done(outs, j->p_tsv);
    if (!s) s = write_classes(j, j->p_ctsv, force, err);
    if (!s) outputs_mark_done(outs, j->p_ctsv);
    if (!s && subject) {
        cJSON *o = cJSON_AddObjectToObject(subject, "lesions");
        char seed[32];
        snprintf(seed, sizeof seed, "%llu", (unsigned long long)j->seed);
        cJSON_AddStringToObject(o, "request", j->spec);
        cJSON_AddStringToObject(o, "lesion_seed", seed);
        cJSON_AddStringToObject(o, "description", j->file ? j->file : "default");
        cJSON_AddNumberToObject(o, "count", (double)sb_lesions_count(j->les));
        cJSON_AddStringToObject(o, "diffuse", sb_lesions_diffuse(j->les));
        if (j->nresize) { /* only then: the records of other requests keep their bytes */
            cJSON *rs = cJSON_AddArrayToObject(o, "resize");
            for (int r = 0; r < j->nresize; r++) {
                cJSON *e = cJSON_CreateObject();
                cJSON_AddStringToObject(e, "structure", j->resize_name[r]);
                cJSON_AddNumberToObject(e, "factor", j->resize_factor[r]);
                if (j->resize_label[r])
                    cJSON_AddNumberToObject(e, "volume_ml",
                                            (double)j->resize_voxels[r] * j->voxel_mm *
                                                j->voxel_mm * j->voxel_mm / 1000);
                cJSON_AddItemToArray(rs, e);
            }
        }
        if (j->inst_whole)
            s = write_meshes(j, force, outs, cJSON_AddArrayToObject(o, "meshes"), ctx, err);
    } else if (!s && j->inst_whole) {
        s = write_meshes(j, force, outs, NULL, ctx, err);
    }
    return s;
}

void lesion_job_free(lesion_job *j) {
    sb_nifti_writer_free(j->w_inst);
    sb_nifti_writer_free(j->w_cls);
    sb_lesions_free(j->les);
    sb_lesion_catalog_free(j->cat);
    sb_volume_free(j->inst_whole);
    free(j->mesh_paths);
    memset(j, 0, sizeof *j);
}
