/* generate.c — `synthbody generate`: seed -> subject -> label map -> T1w/T2w -> files. */
#include "sb_pipeline.h"

#include "internal.h"
#include "sb_export.h"
#include "sb_mesh.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static sb_status write_json(cJSON *root, const char *path, int force, sb_error *err) {
    char *text = cJSON_Print(root);
    if (!text) return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    sb_outfile o;
    sb_status s = sb_outfile_open(&o, path, force, err);
    if (!s) s = sb_outfile_write(&o, text, strlen(text), err);
    if (!s) s = sb_outfile_write(&o, "\n", 1, err);
    if (!s) s = sb_outfile_commit(&o, err);
    sb_outfile_abort(&o);
    free(text);
    return s;
}

static cJSON *affine_json(const double a[4][4]) {
    cJSON *rows = cJSON_CreateArray();
    for (int r = 0; r < 4; r++) cJSON_AddItemToArray(rows, cJSON_CreateDoubleArray(a[r], 4));
    return rows;
}

static const char *sex_name(sb_sex s) {
    return s == SB_SEX_MALE ? "male" : "female";
}

/* Everything that determines the output, and nothing that does not (no time, no threads). */
static cJSON *subject_json(const sb_generate_opts *opts, const sb_subject *s, const sb_volume *lab,
                           const sb_label_table *t) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "program", "synthbody");
    cJSON_AddStringToObject(root, "version", SB_VERSION_STRING);
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)s->seed);
    cJSON_AddStringToObject(root, "seed", seed); /* string: 64-bit seeds exceed JSON doubles */
    cJSON_AddNumberToObject(root, "subject", s->subject);
    cJSON_AddNumberToObject(root, "voxel_mm", opts->voxel_mm);
    cJSON *p = cJSON_AddObjectToObject(root, "subject_parameters");
    cJSON_AddStringToObject(p, "sex", sex_name(s->sex));
    cJSON_AddNumberToObject(p, "age_y", s->age_y);
    cJSON_AddNumberToObject(p, "height_cm", s->height_cm);
    cJSON_AddNumberToObject(p, "weight_kg", s->weight_kg);
    cJSON_AddNumberToObject(p, "bmi", s->bmi);
    cJSON_AddNumberToObject(p, "subcutaneous_fat_mm", s->fat_mm);
    cJSON *req = cJSON_AddObjectToObject(root, "requested");
    const sb_subject_request *r = &opts->subject;
    if (r->sex != SB_SEX_RANDOM) cJSON_AddStringToObject(req, "sex", sex_name(r->sex));
    if (r->age_y > 0) cJSON_AddNumberToObject(req, "age_y", r->age_y);
    if (r->height_cm > 0) cJSON_AddNumberToObject(req, "height_cm", r->height_cm);
    if (r->bmi > 0) cJSON_AddNumberToObject(req, "bmi", r->bmi);
    cJSON *grid = cJSON_AddObjectToObject(root, "grid");
    double dims[3] = {(double)lab->dim[0], (double)lab->dim[1], (double)lab->dim[2]};
    cJSON_AddItemToObject(grid, "dim", cJSON_CreateDoubleArray(dims, 3));
    cJSON_AddItemToObject(grid, "spacing_mm", cJSON_CreateDoubleArray(lab->spacing, 3));
    cJSON_AddItemToObject(grid, "affine_ras_mm", affine_json(lab->affine));
    cJSON *seqs = cJSON_AddArrayToObject(root, "sequences");
    const sb_spin_echo *all[2] = {&sb_sequence_t1w, &sb_sequence_t2w};
    for (int i = 0; i < 2; i++) {
        cJSON *q = cJSON_CreateObject();
        cJSON_AddStringToObject(q, "name", all[i]->name);
        cJSON_AddStringToObject(q, "type", "spin_echo");
        cJSON_AddNumberToObject(q, "tr_ms", all[i]->tr_ms);
        cJSON_AddNumberToObject(q, "te_ms", all[i]->te_ms);
        cJSON_AddNumberToObject(q, "rician_noise_fraction", all[i]->noise);
        cJSON_AddItemToArray(seqs, q);
    }
    cJSON_AddStringToObject(root, "anatomy", opts->anatomy ? opts->anatomy : "default");
    cJSON_AddNumberToObject(root, "label_count", (double)t->count);
    return root;
}

static sb_status write_meshes(const sb_volume *lab, const sb_label_table *t, outputs *outs,
                              const char **paths, int force, cJSON *list, const sb_ctx *ctx,
                              sb_error *err) {
    /* one marching-cubes sweep for every structure, then smoothing, simplification and checks
     * with the defaults (sb_mesh_surfaces never returns a mesh that fails them) */
    int *ids = malloc((t->count ? t->count : 1) * sizeof *ids);
    sb_trimesh **ms = calloc(t->count ? t->count : 1, sizeof *ms);
    sb_surface_info *info = calloc(t->count ? t->count : 1, sizeof *info);
    sb_status s = SB_OK;
    if (!ids || !ms || !info) s = sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    for (size_t i = 0; !s && i < t->count; i++) ids[i] = t->labels[i].id;
    if (!s) s = sb_mesh_surfaces(lab, ids, t->count, NULL, ctx, ms, info, err);
    for (size_t i = 0; !s && i < t->count; i++) {
        const sb_label *l = &t->labels[i];
        if (!ms[i]) { /* too small for this voxel size: no mesh, say so */
            sb_log(ctx, SB_LOG_WARN, "%s has no voxel at this resolution: no mesh written",
                   l->name);
            continue;
        }
        s = sb_stl_write(ms[i], l->name, paths[i], force, err);
        if (s) break;
        outputs_mark_done(outs, paths[i]);
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "name", l->name);
        cJSON_AddNumberToObject(e, "triangles", (double)info[i].report.ntris);
        cJSON_AddNumberToObject(e, "volume_ml", info[i].report.volume_mm3 / 1000.0);
        cJSON_AddItemToArray(list, e);
        sb_progress(ctx, "meshes", i + 1, t->count);
    }
    for (size_t i = 0; ms && i < t->count; i++) sb_trimesh_free(ms[i]);
    free(ms);
    free(ids);
    free(info);
    return s;
}

sb_status sb_pipeline_generate(const sb_generate_opts *opts, const sb_ctx *ctx, sb_error *err) {
    sb_subject subj;
    sb_anatomy *anat = NULL;
    sb_label_table *table = NULL;
    sb_volume *lab = NULL, *tis = NULL, *img = NULL;
    cJSON *json = NULL;
    outputs outs = {0};
    const char **mesh_paths = NULL;
    const char *p_labels, *p_t1, *p_t2, *p_tsv, *p_itk, *p_ctbl, *p_json;
    char mesh_dir[4096];
    size_t dim[3];
    double origin[3];

    sb_status s = sb_subject_sample(&opts->subject, &subj, err);
    if (!s)
        s = opts->anatomy ? sb_anatomy_load(opts->anatomy, &anat, err)
                          : sb_anatomy_load_default(&anat, err);
    if (!s) s = sb_anatomy_grid(anat, &subj, opts->voxel_mm, dim, origin, err); /* size check */
    if (!s) s = sb_anatomy_label_table(anat, subj.sex, &table, err);
    if (!s) s = outputs_plan(&outs, opts->out_dir, "labels.nii.gz", &p_labels, err);
    if (!s) s = outputs_plan(&outs, opts->out_dir, "T1w.nii.gz", &p_t1, err);
    if (!s) s = outputs_plan(&outs, opts->out_dir, "T2w.nii.gz", &p_t2, err);
    if (!s) s = outputs_plan(&outs, opts->out_dir, "labels.tsv", &p_tsv, err);
    if (!s) s = outputs_plan(&outs, opts->out_dir, "labels.itksnap.txt", &p_itk, err);
    if (!s) s = outputs_plan(&outs, opts->out_dir, "labels.ctbl", &p_ctbl, err);
    if (!s) s = outputs_plan(&outs, opts->out_dir, "subject.json", &p_json, err);
    if (!s && opts->mesh) {
        s = sb_path_join(mesh_dir, sizeof mesh_dir, opts->out_dir, "meshes", err);
        mesh_paths = calloc(table->count, sizeof *mesh_paths);
        if (!s && !mesh_paths) s = sb_error_set(err, SB_ERR_MEMORY, "out of memory");
        for (size_t i = 0; !s && i < table->count; i++) {
            char name[80];
            snprintf(name, sizeof name, "%s.stl", table->labels[i].name);
            s = outputs_plan(&outs, mesh_dir, name, &mesh_paths[i], err);
        }
    }
    if (!s) s = outputs_check(&outs, opts->force, err);
    if (!s) s = sb_mkdir_p(opts->out_dir, err);
    if (!s && opts->mesh) s = sb_mkdir_p(mesh_dir, err);
    if (s) goto done;

    sb_log(ctx, SB_LOG_INFO, "subject: seed %llu, %s, %.0f y, %.1f cm, BMI %.1f",
           (unsigned long long)subj.seed, sex_name(subj.sex), subj.age_y, subj.height_cm, subj.bmi);
    double t0 = now_s();
    if ((s = sb_anatomy_voxelize(anat, &subj, opts->voxel_mm, ctx, &lab, &tis, err))) goto done;
    sb_log(ctx, SB_LOG_INFO, "anatomy: %zux%zux%zu voxels in %.2f s", lab->dim[0], lab->dim[1],
           lab->dim[2], now_s() - t0);
    if ((s = sb_nifti_write(lab, p_labels, opts->force, SB_NIFTI_INTENT_LABEL, "synthbody labels",
                            err)))
        goto done;
    outputs_mark_done(&outs, p_labels);
    const sb_spin_echo *seqs[2] = {&sb_sequence_t1w, &sb_sequence_t2w};
    const char *paths[2] = {p_t1, p_t2};
    for (int i = 0; i < 2; i++) {
        if ((s = sb_mri_spin_echo(tis, seqs[i], &subj, ctx, &img, err))) goto done;
        char descrip[80];
        snprintf(descrip, sizeof descrip, "synthbody %s SE TR=%g TE=%g", seqs[i]->name,
                 seqs[i]->tr_ms, seqs[i]->te_ms);
        s = sb_nifti_write(img, paths[i], opts->force, SB_NIFTI_INTENT_NONE, descrip, err);
        sb_volume_free(img);
        img = NULL;
        if (s) goto done;
        outputs_mark_done(&outs, paths[i]);
    }
    if ((s = sb_labels_write_tsv(table, p_tsv, opts->force, err))) goto done;
    outputs_mark_done(&outs, p_tsv);
    if ((s = sb_labels_write_itksnap(table, p_itk, opts->force, err))) goto done;
    outputs_mark_done(&outs, p_itk);
    if ((s = sb_labels_write_ctbl(table, p_ctbl, opts->force, err))) goto done;
    outputs_mark_done(&outs, p_ctbl);

    json = subject_json(opts, &subj, lab, table);
    if (!json) {
        s = sb_error_set(err, SB_ERR_MEMORY, "out of memory");
        goto done;
    }
    if (opts->mesh) {
        cJSON *list = cJSON_AddArrayToObject(json, "meshes");
        if ((s = write_meshes(lab, table, &outs, mesh_paths, opts->force, list, ctx, err)))
            goto done;
    }
    if ((s = write_json(json, p_json, opts->force, err))) goto done;
    outputs_mark_done(&outs, p_json);

done:
    if (s) outputs_rollback(&outs);
    cJSON_Delete(json);
    sb_volume_free(img);
    sb_volume_free(lab);
    sb_volume_free(tis);
    sb_labels_free(table);
    sb_anatomy_free(anat);
    free(mesh_paths);
    outputs_free(&outs);
    return s;
}

sb_status sb_pipeline_labels(const char *anatomy, FILE *out, sb_error *err) {
    sb_anatomy *a = NULL;
    sb_label_table *all = NULL, *men = NULL, *women = NULL;
    sb_status s = anatomy ? sb_anatomy_load(anatomy, &a, err) : sb_anatomy_load_default(&a, err);
    if (!s) s = sb_anatomy_label_table(a, SB_SEX_RANDOM, &all, err);
    if (!s) s = sb_anatomy_label_table(a, SB_SEX_MALE, &men, err);
    if (!s) s = sb_anatomy_label_table(a, SB_SEX_FEMALE, &women, err);
    if (!s) {
        fprintf(out, "index\tname\tabbreviation\tgroup\ttissue\tcolor\tsex\n");
        for (size_t i = 0; i < all->count; i++) {
            const sb_label *l = &all->labels[i];
            int m = sb_labels_find_id(men, l->id) != NULL,
                w = sb_labels_find_id(women, l->id) != NULL;
            fprintf(out, "%d\t%s\t%s\t%s\t%s\t#%02x%02x%02x\t%s\n", l->id, l->name, l->abbrev,
                    l->group, l->tissue, l->rgba[0], l->rgba[1], l->rgba[2],
                    m && w ? "any"
                    : m    ? "male"
                           : "female");
        }
    }
    sb_labels_free(all);
    sb_labels_free(men);
    sb_labels_free(women);
    sb_anatomy_free(a);
    return s;
}
