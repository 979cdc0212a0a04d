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
static cJSON *subject_json(const sb_generate_opts *opts, const sb_subject *s,
                           const sb_body_composition *bc, const sb_volume *lab,
                           const sb_label_table *t, cJSON *mri_json) {
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
    cJSON_AddNumberToObject(p, "subcutaneous_fat_mm", bc->trunk_fat_mm);
    cJSON_AddNumberToObject(p, "liver_fat_percent", 100 * s->liver_fat);
    cJSON *bcj = cJSON_AddObjectToObject(root, "body_composition");
    cJSON_AddNumberToObject(bcj, "body_fat_percent", bc->body_fat_percent);
    cJSON_AddNumberToObject(bcj, "adipose_tissue_kg", bc->adipose_kg);
    cJSON_AddNumberToObject(bcj, "muscle_envelope_scale", bc->lean_scale);
    cJSON_AddNumberToObject(bcj, "subcutaneous_fat_scale", bc->fat_scale);
    cJSON_AddNumberToObject(bcj, "model_mass_kg", bc->model_kg);
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
    cJSON_AddItemToObject(root, "mri", mri_json);
    cJSON_AddStringToObject(root, "anatomy", opts->anatomy ? opts->anatomy : "default");
    cJSON_AddNumberToObject(root, "label_count", (double)t->count);
    return root;
}

/* ---- MR contrasts ---------------------------------------------------------------------- */
static const char *seq_kind_name(sb_seq_kind k) {
    switch (k) {
    case SB_SEQ_SE:
        return "spin_echo";
    case SB_SEQ_GRE:
        return "spoiled_gradient_echo";
    case SB_SEQ_IR:
        return "inversion_recovery";
    case SB_SEQ_BSSFP:
        return "balanced_ssfp";
    case SB_SEQ_DIXON:
        return "dixon";
    case SB_SEQ_DWI:
        return "diffusion_se_epi";
    }
    return "?";
}

/* The acquisition's parameters (subject.json "mri.acquisitions" and each sidecar). */
static void acq_params_json(cJSON *o, const sb_acquisition *a) {
    const sb_sequence *q = &a->seq;
    cJSON_AddStringToObject(o, "sequence", seq_kind_name(q->kind));
    cJSON_AddNumberToObject(o, "field_T", q->field_t);
    cJSON_AddNumberToObject(o, "tr_ms", q->tr_ms);
    if (q->kind == SB_SEQ_DIXON)
        cJSON_AddItemToObject(o, "te_ms", cJSON_CreateDoubleArray(q->te_echo_ms, q->necho));
    else
        cJSON_AddNumberToObject(o, "te_ms", q->te_ms);
    if (q->kind == SB_SEQ_IR) cJSON_AddNumberToObject(o, "ti_ms", q->ti_ms);
    if (q->flip_deg > 0) cJSON_AddNumberToObject(o, "flip_deg", q->flip_deg);
    if (q->kind == SB_SEQ_DWI)
        cJSON_AddItemToObject(o, "b_s_mm2", cJSON_CreateDoubleArray(q->b, q->nb));
    if (q->fat_suppression > 0) cJSON_AddNumberToObject(o, "fat_suppression", q->fat_suppression);
    cJSON_AddNumberToObject(o, "snr", a->snr);
    cJSON_AddStringToObject(o, "snr_reference_tissue", a->ref_tissue);
    cJSON_AddNumberToObject(o, "bias_amplitude", a->bias);
    cJSON_AddNumberToObject(o, "texture", a->texture);
    cJSON_AddItemToObject(o, "kspace_fraction", cJSON_CreateDoubleArray(a->kspace, 3));
}

static cJSON *mri_json(const sb_generate_opts *opts, const sb_protocol *p, const sb_mr_tissues *m) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "protocol", opts->protocol ? opts->protocol : "default");
    if (opts->contrasts) cJSON_AddStringToObject(root, "contrasts", opts->contrasts);
    cJSON_AddStringToObject(root, "tissue_table", opts->tissues ? opts->tissues : "default");
    cJSON_AddStringToObject(root, "image_type", opts->float_out ? "float32" : "int16_scaled");
    cJSON *acqs = cJSON_AddArrayToObject(root, "acquisitions");
    for (size_t i = 0; i < p->count; i++) {
        cJSON *o = cJSON_CreateObject();
        char names[SB_MRI_OUT_MAX][40];
        size_t n = sb_mri_outputs(&p->acq[i], names);
        cJSON_AddStringToObject(o, "name", p->acq[i].name);
        cJSON *outs = cJSON_AddArrayToObject(o, "outputs");
        for (size_t k = 0; k < n; k++)
            if (p->want[i] & (1u << k)) cJSON_AddItemToArray(outs, cJSON_CreateString(names[k]));
        acq_params_json(o, &p->acq[i]);
        cJSON_AddItemToArray(acqs, o);
    }
    /* the subject's drawn tissue values: the ground truth of every image */
    cJSON *tv = cJSON_AddObjectToObject(root, "tissue_values");
    for (size_t t = 1; t < m->count; t++) {
        const sb_tissue_mr *x = &m->t[t];
        cJSON *o = cJSON_AddObjectToObject(tv, sb_tissue_table[t].name);
        cJSON_AddNumberToObject(o, "pd", x->pd);
        cJSON_AddNumberToObject(o, "ff", x->ff);
        cJSON_AddItemToObject(o, "t1_ms", cJSON_CreateDoubleArray(x->t1_ms, 2));
        cJSON_AddItemToObject(o, "t2_ms", cJSON_CreateDoubleArray(x->t2_ms, 2));
        cJSON_AddItemToObject(o, "t2s_ms", cJSON_CreateDoubleArray(x->t2s_ms, 2));
        cJSON_AddNumberToObject(o, "adc", x->adc);
    }
    (void)tv;
    return root;
}

/* BIDS sidecar of output k of acquisition a: BIDS fields (seconds, degrees) and ours. */
static cJSON *sidecar_json(const sb_acquisition *a, size_t k, const char *name, const sb_subject *s,
                           double slope) {
    const sb_sequence *q = &a->seq;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "MagneticFieldStrength", q->field_t);
    cJSON_AddNumberToObject(o, "RepetitionTime", q->tr_ms / 1000);
    if (q->kind == SB_SEQ_DIXON) {
        if (k == 2 || k == 3)
            cJSON_AddNumberToObject(o, "EchoTime", q->te_echo_ms[k == 2 ? 1 : 0] / 1000);
        for (int e = 0; e < q->necho; e++) {
            char key[32];
            snprintf(key, sizeof key, "EchoTime%d", e + 1);
            cJSON_AddNumberToObject(o, key, q->te_echo_ms[e] / 1000);
        }
    } else {
        cJSON_AddNumberToObject(o, "EchoTime", q->te_ms / 1000);
    }
    cJSON_AddNumberToObject(o, "FlipAngle", q->flip_deg > 0 ? q->flip_deg : 90);
    if (q->kind == SB_SEQ_IR) cJSON_AddNumberToObject(o, "InversionTime", q->ti_ms / 1000);
    static const char *const scan[] = {"", "SE", "GR", "IR", "GR", "GR", "EP"};
    cJSON_AddStringToObject(o, "ScanningSequence", scan[q->kind]);
    cJSON_AddStringToObject(o, "SynthbodyContrast", name);
    cJSON_AddStringToObject(o, "SynthbodySequence", seq_kind_name(q->kind));
    if (q->kind == SB_SEQ_DWI && (int)k < q->nb)
        cJSON_AddNumberToObject(o, "SynthbodyBValue", q->b[k]);
    const char *units = q->kind == SB_SEQ_DIXON && k == 4          ? "percent"
                        : q->kind == SB_SEQ_DWI && (int)k == q->nb ? "1e-6 mm2/s"
                                                                   : "arbitrary";
    cJSON_AddStringToObject(o, "Units", units);
    if (q->fat_suppression > 0)
        cJSON_AddNumberToObject(o, "SynthbodyFatSuppression", q->fat_suppression);
    cJSON_AddNumberToObject(o, "SynthbodySNR", a->snr);
    cJSON_AddStringToObject(o, "SynthbodySNRReferenceTissue", a->ref_tissue);
    cJSON_AddNumberToObject(o, "SynthbodyBiasAmplitude", a->bias);
    cJSON_AddNumberToObject(o, "SynthbodyTexture", a->texture);
    cJSON_AddItemToObject(o, "SynthbodyKSpaceFraction", cJSON_CreateDoubleArray(a->kspace, 3));
    cJSON_AddNumberToObject(o, "SynthbodyScaleSlope", slope);
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)s->seed);
    cJSON_AddStringToObject(o, "SynthbodySeed", seed);
    cJSON_AddNumberToObject(o, "SynthbodySubject", s->subject);
    return o;
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
    sb_anatomy_maps maps = {0};
    sb_voxelizer *vz = NULL;
    sb_volume *lab = NULL, *tis = NULL; /* maps.labels, maps.tissues */
    cJSON *json = NULL, *mri = NULL;
    outputs outs = {0};
    const char **mesh_paths = NULL;
    const char *p_labels, *p_tsv, *p_itk, *p_ctbl, *p_json;
    sb_protocol proto;
    const char *p_img[SB_PROTOCOL_MAX][SB_MRI_OUT_MAX] = {{0}},
               *p_side[SB_PROTOCOL_MAX][SB_MRI_OUT_MAX] = {{0}};
    sb_tissue_db *tdb = NULL;
    sb_mri_session *session = NULL;
    sb_mr_tissues mt;
    char mesh_dir[4096];
    size_t dim[3];
    double origin[3];

    sb_status s = sb_subject_sample(&opts->subject, &subj, err);
    if (!s)
        s = sb_mri_protocol(opts->protocol, opts->contrasts, opts->field_t,
                            opts->has_snr ? opts->snr : -1, opts->has_bias ? opts->bias : -1,
                            &proto, err);
    if (!s && ((opts->acq_voxel_mm > 0 && opts->acq_voxel_mm < opts->voxel_mm) ||
               (opts->slice_mm > 0 && opts->slice_mm < opts->voxel_mm)))
        s = sb_error_set(
            err, SB_ERR_USAGE, "%s %g mm is finer than the voxel (%g mm)",
            opts->acq_voxel_mm > 0 && opts->acq_voxel_mm < opts->voxel_mm ? "--acq-voxel"
                                                                          : "--slice",
            opts->acq_voxel_mm > 0 && opts->acq_voxel_mm < opts->voxel_mm ? opts->acq_voxel_mm
                                                                          : opts->slice_mm,
            opts->voxel_mm);
    for (size_t i = 0; !s && i < proto.count; i++) { /* texture and k-space for every image */
        sb_acquisition *a = &proto.acq[i];
        a->texture = opts->texture;
        double inplane = opts->acq_voxel_mm > 0 ? opts->voxel_mm / opts->acq_voxel_mm : 1;
        a->kspace[0] = a->kspace[1] = inplane;
        a->kspace[2] = opts->slice_mm > 0 ? opts->voxel_mm / opts->slice_mm : 1;
    }
    if (!s) s = sb_tissue_db_load(opts->tissues, &tdb, err);
    if (!s)
        s = opts->anatomy ? sb_anatomy_load(opts->anatomy, &anat, err)
                          : sb_anatomy_load_default(&anat, err);
    /* the subject's anatomy on its grid, and the grid's size checked before anything big is
     * allocated: the maps, the images and the writer's copy, ~10 bytes per voxel */
    if (!s) s = sb_voxelizer_new(anat, &subj, opts->voxel_mm, ctx, &vz, err);
    if (!s) s = sb_voxelizer_check_memory(vz, 10, err);
    if (!s) sb_voxelizer_grid(vz, dim, origin);
    if (!s) s = sb_anatomy_label_table(anat, subj.sex, &table, err);
    if (!s) s = outputs_plan(&outs, opts->out_dir, "labels.nii.gz", &p_labels, err);
    for (size_t i = 0; !s && i < proto.count; i++) {
        char names[SB_MRI_OUT_MAX][40], file[64];
        size_t n = sb_mri_outputs(&proto.acq[i], names);
        for (size_t k = 0; !s && k < n; k++) {
            if (!(proto.want[i] & (1u << k))) continue;
            snprintf(file, sizeof file, "%s.nii.gz", names[k]);
            s = outputs_plan(&outs, opts->out_dir, file, &p_img[i][k], err);
            snprintf(file, sizeof file, "%s.json", names[k]);
            if (!s) s = outputs_plan(&outs, opts->out_dir, file, &p_side[i][k], err);
        }
    }
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
    if ((s = sb_voxelizer_slab(vz, 0, dim[2], SB_MAP_LABELS | SB_MAP_TISSUES | SB_MAP_PV, ctx,
                               &maps, err)))
        goto done;
    lab = maps.labels;
    tis = maps.tissues;
    sb_log(ctx, SB_LOG_INFO, "anatomy: %zux%zux%zu voxels in %.2f s", lab->dim[0], lab->dim[1],
           lab->dim[2], now_s() - t0);
    if ((s = sb_nifti_write(lab, p_labels, opts->force, SB_NIFTI_INTENT_LABEL, "synthbody labels",
                            err)))
        goto done;
    outputs_mark_done(&outs, p_labels);
    sb_tissue_db_sample(tdb, &subj, &mt);
    if ((s = sb_mri_session_new(&mt, &subj, tis, &session, err))) goto done;
    for (size_t i = 0; i < proto.count; i++) {
        const sb_acquisition *a = &proto.acq[i];
        sb_volume *img[SB_MRI_OUT_MAX];
        double slope[SB_MRI_OUT_MAX];
        char names[SB_MRI_OUT_MAX][40];
        size_t n = sb_mri_outputs(a, names);
        t0 = now_s();
        s = sb_mri_acquire(session, a, tis, maps.pv_tissue, maps.pv_frac, proto.want[i],
                           opts->float_out ? SB_DT_FLOAT32 : SB_DT_INT16, ctx, img, slope, err);
        if (s) goto done;
        sb_log(ctx, SB_LOG_INFO, "%s: %zu image(s) in %.2f s", a->name, n, now_s() - t0);
        for (size_t k = 0; !s && k < n; k++) {
            if (!img[k]) continue;
            char descrip[80];
            snprintf(descrip, sizeof descrip, "synthbody %s %s TR=%g", names[k],
                     seq_kind_name(a->seq.kind), a->seq.tr_ms);
            s = sb_nifti_write_scaled(img[k], p_img[i][k], opts->force, SB_NIFTI_INTENT_NONE,
                                      descrip, slope[k], 0.0, err);
            if (!s) outputs_mark_done(&outs, p_img[i][k]);
            cJSON *side = s ? NULL : sidecar_json(a, k, names[k], &subj, slope[k]);
            if (!s && !side) s = sb_error_set(err, SB_ERR_MEMORY, "out of memory");
            if (!s) s = write_json(side, p_side[i][k], opts->force, err);
            if (!s) outputs_mark_done(&outs, p_side[i][k]);
            cJSON_Delete(side);
        }
        sb_log(ctx, SB_LOG_INFO, "%s: written in %.2f s", a->name, now_s() - t0);
        for (size_t k = 0; k < SB_MRI_OUT_MAX; k++) sb_volume_free(img[k]);
        if (s) goto done;
    }
    if ((s = sb_labels_write_tsv(table, p_tsv, opts->force, err))) goto done;
    outputs_mark_done(&outs, p_tsv);
    if ((s = sb_labels_write_itksnap(table, p_itk, opts->force, err))) goto done;
    outputs_mark_done(&outs, p_itk);
    if ((s = sb_labels_write_ctbl(table, p_ctbl, opts->force, err))) goto done;
    outputs_mark_done(&outs, p_ctbl);

    mri = mri_json(opts, &proto, &mt);
    sb_body_composition bc;
    sb_voxelizer_composition(vz, &bc);
    json = mri ? subject_json(opts, &subj, &bc, lab, table, mri) : NULL;
    mri = NULL; /* owned by json now */
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
    cJSON_Delete(mri);
    sb_mri_session_free(session);
    sb_tissue_db_free(tdb);
    sb_anatomy_maps_free(&maps);
    sb_voxelizer_free(vz);
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
