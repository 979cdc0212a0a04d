/* generate.c — `synthbody generate`: seed -> subject -> label map -> T1w/T2w -> files. */
#include "sb_pipeline.h"

#include "internal.h"
#include "lesion_job.h"
#include "sb_export.h"
#include "sb_mesh.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
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

/* The acquisition's artefacts, written only when asked for (so other outputs keep their
 * bytes): stations (with their z ranges in world mm), ghosting, the fat-water swap (Dixon; the
 * ball in world mm when it happened: the ground truth). BIDS sidecars (bids = 1) in their key
 * style, subject.json "mri" in its own. */
static void acquisition_json(cJSON *o, int bids, const sb_acquisition *a, const sb_mri_setup *ms,
                             const sb_mri_session *ss, const sb_volume *grid) {
    double step, len, c[3], r;
    int n = sb_mri_session_stations(ss, &step, &len);
    if (n > 1) {
        cJSON_AddNumberToObject(o, bids ? "SynthbodyStations" : "stations", n);
        cJSON_AddNumberToObject(o, bids ? "SynthbodyStationOverlapMM" : "station_overlap_mm",
                                ms->overlap_mm);
        cJSON *zs = bids ? NULL : cJSON_AddArrayToObject(o, "station_z_mm");
        for (int t = 0; t < n && zs; t++) {
            double z[2];
            for (int e = 0; e < 2; e++)
                z[e] = grid->affine[2][3] + grid->affine[2][2] * (t * step + e * len);
            cJSON_AddItemToArray(zs, cJSON_CreateDoubleArray(z, 2));
        }
    }
    if (a && a->ghost > 0) {
        cJSON_AddStringToObject(o, "PhaseEncodingDirection", "j");
        cJSON_AddNumberToObject(o, "SynthbodyGhosting", a->ghost);
        cJSON_AddNumberToObject(o, "SynthbodyGhostPeriodLines",
                                a->ghost_period ? a->ghost_period : 4);
    }
    if (a && a->flow_cm_s > 0)
        cJSON_AddNumberToObject(o, "SynthbodyFlowVoidVelocityCMS", a->flow_cm_s);
    if (ms->fat_water_swap > 0 && (!a || a->seq.kind == SB_SEQ_DIXON)) {
        cJSON *w = cJSON_AddObjectToObject(o, bids ? "SynthbodyFatWaterSwap" : "fat_water_swap");
        cJSON_AddNumberToObject(w, bids ? "Probability" : "probability", ms->fat_water_swap);
        int hit = sb_mri_session_swap(ss, c, &r);
        cJSON_AddBoolToObject(w, bids ? "Swapped" : "swapped", hit);
        if (hit) {
            double wc[3];
            for (int d = 0; d < 3; d++)
                wc[d] = grid->affine[d][3] + grid->affine[d][0] * c[0] + grid->affine[d][1] * c[1] +
                        grid->affine[d][2] * c[2];
            cJSON_AddItemToObject(w, bids ? "CentreMM" : "centre_mm",
                                  cJSON_CreateDoubleArray(wc, 3));
            cJSON_AddNumberToObject(w, bids ? "RadiusMM" : "radius_mm", r);
        }
    }
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

/* Planes [m0, m0 + n) of a map, sharing its data. */
static sb_volume planes_view(const sb_volume *v, size_t m0, size_t n) {
    sb_volume w = *v;
    w.dim[2] = n;
    w.data = (char *)v->data + v->dim[0] * v->dim[1] * sb_dtype_size(v->dtype) * m0;
    for (int d = 0; d < 3; d++) w.affine[d][3] += v->affine[d][2] * (double)m0;
    return w;
}

/* Does an acquisition truncate k-space (it then needs whole images)? */
static int kspace_any(const sb_protocol *p) {
    for (size_t i = 0; i < p->count; i++)
        for (int d = 0; d < 3; d++)
            if (p->acq[i].kspace[d] > 0 && p->acq[i].kspace[d] < 1) return 1;
    return 0;
}

/* Commits a streamed file (its last plane in, sb_nifti_writer_finish called or not), and frees
 * its buffers. */
static sb_status commit_file(sb_nifti_writer **w, outputs *outs, const char *path, sb_error *err) {
    sb_status s = sb_nifti_writer_commit(*w, err);
    sb_nifti_writer_free(*w);
    *w = NULL;
    if (!s) outputs_mark_done(outs, path);
    return s;
}

/* The images are made and written in parts of about PART_VOXELS voxels (whole planes). */
#define PART_VOXELS 8e6
static double part_planes_of(const size_t dim[3]) {
    return fmax(1, floor(PART_VOXELS / ((double)dim[0] * (double)dim[1])));
}

/* Planes per slab: all of them when the whole grid fits the memory budget, fewer otherwise
 * when a budget is given (--max-memory-gb; without it a grid larger than the memory available
 * is refused, so that a slip of --voxel does not start a terabyte job). Per voxel of a slab: the
 * maps (labels 2 bytes, tissue, partial-volume tissue and fraction 1 each); the images (2 or 4
 * bytes each) are made in parts of PART_VOXELS, one acquisition's images at a time, so they
 * take the largest acquisition's bytes per voxel times a part (or the slab, when smaller; with
 * k-space truncation the whole images); for the whole grid: the label map kept for meshes (2
 * bytes), k-space truncation's complex images (8 bytes a channel); fixed: each file's write
 * buffers (~17 MiB a thread, at most ~2.1 x the file) and 128 MiB for the rest (anatomy, bias
 * field, code; measured peak of a 4 mm subject in slabs: 115 MB). */
static sb_status plan_slabs(const sb_generate_opts *opts, const sb_protocol *proto,
                            const size_t dim[3], int threads, size_t *slab, sb_error *err) {
    const double MiB = 1048576.0;
    double plane = (double)dim[0] * (double)dim[1], nvox = plane * (double)dim[2];
    /* lesion maps: 3 bytes per slab voxel; with meshes the whole instance map, 2 */
    double per_vox = opts->lesions ? 8 : 5, whole = opts->mesh ? (opts->lesions ? 4 : 2) : 0;
    double fixed = 128 * MiB + fmin(threads * 17 * MiB, 2.1 * 2 * nvox); /* + labels file */
    double img_vox = 0, img_all = 0; /* image bytes per voxel: one acquisition's most, all */
    int kspace = 0;
    for (size_t i = 0; i < proto->count; i++) {
        char names[SB_MRI_OUT_MAX][40];
        size_t n = sb_mri_outputs(&proto->acq[i], names);
        double es = opts->float_out ? 4 : 2, acq = 0;
        for (size_t k = 0; k < n; k++)
            if (proto->want[i] & (1u << k))
                acq += es, fixed += fmin(threads * 17 * MiB, 2.1 * es * nvox);
        img_vox = fmax(img_vox, acq), img_all += acq;
        int nch = proto->acq[i].seq.kind == SB_SEQ_DIXON ? proto->acq[i].seq.necho
                  : proto->acq[i].seq.kind == SB_SEQ_DWI ? proto->acq[i].seq.nb
                                                         : 1;
        for (int d = 0; d < 3; d++)
            if (proto->acq[i].kspace[d] > 0 && proto->acq[i].kspace[d] < 1) kspace = 1;
        if (kspace) whole = fmax(whole, (opts->mesh ? 2 : 0) + 8.0 * nch);
    }
    double budget = opts->max_memory_gb > 0 ? opts->max_memory_gb * 1073741824.0
                                            : (double)sb_memory_available();
    double room = budget - fixed - whole * nvox;
    /* a slab is made with SB_SLAB_MARGIN planes of margin on each side; its images are made in
     * parts of part_planes (slabs no thicker: images as large as the slab) */
    double part_planes = part_planes_of(dim);
    double planes = room > 0 ? floor(room / ((per_vox + (kspace ? img_all : img_vox)) * plane)) -
                                   2 * SB_SLAB_MARGIN
                             : 0;
    double thick =
        floor((room - img_vox * part_planes * plane) / (per_vox * plane)) - 2 * SB_SLAB_MARGIN;
    if (!kspace && thick >= part_planes && thick > planes) planes = thick;
    if (kspace) per_vox += img_all; /* for the messages below */
    if (kspace && planes < (double)dim[2])
        return sb_error_set(err, SB_ERR_MEMORY,
                            "k-space truncation needs the whole %zux%zux%zu grid in memory: "
                            "%.1f GiB, more than the %.1f GiB budget",
                            dim[0], dim[1], dim[2],
                            ((per_vox + whole) * nvox + fixed) / 1073741824.0,
                            budget / 1073741824.0);
    if (opts->max_memory_gb <= 0 && planes < (double)dim[2])
        return sb_error_set(err, SB_ERR_MEMORY,
                            "the %zux%zux%zu grid needs %.1f GiB in memory, %.1f GiB are "
                            "available (--max-memory-gb G makes it slab by slab in G GiB)",
                            dim[0], dim[1], dim[2],
                            ((per_vox + whole) * nvox + fixed) / 1073741824.0,
                            budget / 1073741824.0);
    if (planes < 1)
        return sb_error_set(
            err, SB_ERR_MEMORY,
            "%zux%zux%zu grid: even one plane at a time needs %.2f GiB%s, more "
            "than the %.2f GiB budget",
            dim[0], dim[1], dim[2], (per_vox * plane + whole * nvox + fixed) / 1073741824.0,
            opts->mesh ? " (meshes keep the whole label map)" : "", budget / 1073741824.0);
    *slab = planes >= (double)dim[2] ? dim[2] : (size_t)planes;
    return SB_OK;
}

/* generate --mesh --formats: every structure of the table present in the label map, through
 * the export path (absent ones, too small for the voxel size, are skipped with a warning). */
static sb_status export_present(const sb_volume *lab, const sb_label_table *t,
                                const sb_export_opts *eo, const char *base, outputs *outs,
                                const sb_ctx *ctx, sb_error *err) {
    size_t *counts = calloc(65536, sizeof *counts);
    unsigned char *sel = calloc(65536, 1);
    sb_status s = counts && sel ? label_counts(lab, "labels.nii.gz", counts, err)
                                : sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    for (size_t i = 0; !s && i < t->count; i++) {
        int id = t->labels[i].id;
        if (counts[id])
            sel[id] = 1;
        else
            sb_log(ctx, SB_LOG_WARN, "%s has no voxel at this resolution: no mesh written",
                   t->labels[i].name);
    }
    if (!s) s = export_meshes(lab, t, sel, eo, eo->out_dir, base, outs, ctx, err);
    free(counts);
    free(sel);
    return s;
}

sb_status sb_pipeline_generate(const sb_generate_opts *opts, const sb_ctx *ctx, sb_error *err) {
    sb_subject subj;
    sb_anatomy *anat = NULL;
    sb_label_table *table = NULL;
    sb_anatomy_maps maps = {0};
    sb_voxelizer *vz = NULL;
    sb_volume *lab = NULL; /* the whole label map, for meshes */
    sb_nifti_writer *w_labels = NULL, *w_img[SB_PROTOCOL_MAX][SB_MRI_OUT_MAX] = {{0}};
    double slopes[SB_PROTOCOL_MAX][SB_MRI_OUT_MAX] = {{0}};
    size_t slab = 0;
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
    lesion_job lj = {0};
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
        a->ghost = opts->ghosting, a->ghost_period = opts->ghost_period;
        a->flow_cm_s = opts->flow_cm_s;
    }
    sb_mri_setup msetup = {.stations = opts->stations ? opts->stations : proto.stations,
                           .overlap_mm = opts->has_overlap ? opts->overlap_mm
                                         : proto.stations  ? proto.overlap_mm
                                                           : 30,
                           .fat_water_swap = opts->fat_water_swap};
    /* the lesion request checked before any long work; its diffuse changes (organ resizes)
     * applied before the anatomy is made */
    if (!s)
        s = lesion_job_begin(&lj, opts->lesions, opts->lesion_file,
                             opts->has_lesion_seed ? opts->lesion_seed : subj.seed, &subj,
                             opts->out_dir, &outs, err);
    if (!s) s = sb_tissue_db_load(opts->tissues, &tdb, err);
    if (!s)
        s = opts->anatomy ? sb_anatomy_load(opts->anatomy, &anat, err)
                          : sb_anatomy_load_default(&anat, err);
    /* the subject's anatomy on its grid, and the slabs it is made in planned before anything
     * big is allocated */
    if (!s) s = sb_voxelizer_new(anat, &subj, opts->voxel_mm, ctx, &vz, err);
    if (!s) sb_voxelizer_grid(vz, dim, origin);
    if (!s) s = plan_slabs(opts, &proto, dim, sb_ctx_threads(ctx), &slab, err);
    if (!s) { /* stations that do not fit the grid: refused before any output */
        sb_volume g = {.dim = {dim[0], dim[1], dim[2]}, .spacing = {1, 1, opts->voxel_mm}};
        s = sb_mri_setup_check(&msetup, &g, err);
    }
    if (!s) s = sb_anatomy_label_table(anat, subj.sex, &table, err);
    if (!s) s = outputs_plan(&outs, opts->out_dir, "labels.nii.gz", &p_labels, err);
    for (size_t i = 0; !s && i < proto.count; i++) {
        char names[SB_MRI_OUT_MAX][40], file[64];
        size_t n = sb_mri_outputs(&proto.acq[i], names);
        for (size_t k = 0; !s && k < n; k++) {
            if (!(proto.want[i] & (1u << k))) continue;
            snprintf(file, sizeof file, "%s%s", names[k], opts->uncompressed ? ".nii" : ".nii.gz");
            s = outputs_plan(&outs, opts->out_dir, file, &p_img[i][k], err);
            snprintf(file, sizeof file, "%s.json", names[k]);
            if (!s) s = outputs_plan(&outs, opts->out_dir, file, &p_side[i][k], err);
        }
    }
    if (!s) s = outputs_plan(&outs, opts->out_dir, "labels.tsv", &p_tsv, err);
    if (!s) s = outputs_plan(&outs, opts->out_dir, "labels.itksnap.txt", &p_itk, err);
    if (!s) s = outputs_plan(&outs, opts->out_dir, "labels.ctbl", &p_ctbl, err);
    if (!s) s = outputs_plan(&outs, opts->out_dir, "subject.json", &p_json, err);
    sb_export_opts eo = {.out_dir = mesh_dir,
                         .formats = opts->mesh_formats,
                         .force = opts->force,
                         .smooth_iters = -1,
                         .max_error_mm = -1};
    char base[256];
    export_default_base(opts->out_dir, 1, base, sizeof base);
    if (!s && opts->mesh && opts->mesh_formats) { /* the export path: formats + manifest */
        s = sb_path_join(mesh_dir, sizeof mesh_dir, opts->out_dir, "meshes", err);
        if (!s) s = export_plan_table(table, &eo, base, &outs, err);
    } else if (!s && opts->mesh) {
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
    sb_volume grid = {.dim = {dim[0], dim[1], dim[2]}, .dtype = SB_DT_UINT16};
    for (int d = 0; d < 3; d++) {
        grid.spacing[d] = grid.affine[d][d] = opts->voxel_mm;
        grid.affine[d][3] = origin[d];
    }
    grid.affine[3][3] = 1;
    if (slab < dim[2])
        sb_log(ctx, SB_LOG_INFO, "%zux%zux%zu voxels in slabs of %zu planes", dim[0], dim[1],
               dim[2], slab);
    if ((s = lesion_job_plan(&lj, anat, &subj, &grid, opts->mesh ? mesh_dir : NULL, &outs,
                             opts->force, ctx, err)))
        goto done;
    sb_tissue_db_sample(tdb, &subj, &mt);
    if (!lj.les) /* no lesion classes in the maps: the images of older versions */
        mt.count = (size_t)sb_lesion_tissue_first();
    if ((s = sb_mri_session_begin(&mt, &subj, &grid, &session, err))) goto done;
    if ((s = sb_mri_session_setup(session, &msetup, err))) goto done;
    if (slab < dim[2]) { /* the bias field's body statistics from its node planes first (the
                          * body outline is the same without the speck clean-up) */
        size_t step = sb_mri_session_node_step(session);
        for (size_t k = 0; k < dim[2] && !s; k += step) {
            sb_anatomy_maps plane = {0};
            s = sb_voxelizer_slab(vz, k, k + 1, SB_MAP_TISSUES | SB_MAP_RAW, ctx, &plane, err);
            if (!s) s = sb_mri_session_body(session, plane.tissues, k, err);
            sb_anatomy_maps_free(&plane);
        }
        if (!s) s = sb_mri_session_finish(session, err);
        if (s) goto done;
    }
    /* meshes need the whole label map: gathered from the slabs (one slab: kept as it is) */
    if (opts->mesh && slab < dim[2] &&
        (s = sb_volume_create(dim, grid.spacing, SB_DT_UINT16, &lab, err)))
        goto done;
    if (lab) memcpy(lab->affine, grid.affine, sizeof grid.affine);
    if ((s = sb_nifti_writer_open(&grid, p_labels, opts->force, SB_NIFTI_INTENT_LABEL,
                                  "synthbody labels", 1.0, 0.0, &w_labels, err)))
        goto done;
    double t_anat = 0, t_mri = 0;
    for (size_t k0 = 0; k0 < dim[2]; k0 += slab) {
        size_t k1 = k0 + slab < dim[2] ? k0 + slab : dim[2];
        double t0 = now_s();
        s = sb_voxelizer_slab(vz, k0, k1, SB_MAP_LABELS | SB_MAP_TISSUES | SB_MAP_PV, ctx, &maps,
                              err);
        if (!s) s = lesion_job_slab(&lj, &maps, k0, dim[2], &outs, err);
        t_anat += now_s() - t0;
        if (!s) s = sb_nifti_writer_put(w_labels, maps.labels, err);
        /* the file's last write and its wait for the disk in the background (committed after
         * the images) */
        if (!s && k1 == dim[2]) s = sb_nifti_writer_finish(w_labels, err);
        if (!s && lab)
            memcpy((uint16_t *)lab->data + dim[0] * dim[1] * k0, maps.labels->data,
                   sb_volume_bytes_needed(maps.labels->dim, SB_DT_UINT16));
        else if (!s && opts->mesh)
            lab = maps.labels, maps.labels = NULL;
        if (!s) /* written: the images need only the tissue maps (at 1 mm 1.2 GB less) */
            sb_volume_free(maps.labels), maps.labels = NULL;
        if (!s && k0 == 0 && slab >= dim[2]) { /* one slab: the whole map gives the statistics */
            s = sb_mri_session_body(session, maps.tissues, 0, err);
            if (!s) s = sb_mri_session_finish(session, err);
        }
        t0 = now_s();
        /* the images in parts of ~8 M voxels, each written as soon as it is made: the same
         * bytes (sb_mri_acquire_slab), a fraction of the memory and of its page faults */
        size_t part = kspace_any(&proto) ? k1 - k0 : (size_t)part_planes_of(dim);
        for (size_t m0 = k0, m1; m0 < k1 && !s; m0 = m1) {
            m1 = m0 + part < k1 ? m0 + part : k1;
            sb_volume vt = planes_view(maps.tissues, m0 - k0, m1 - m0),
                      vp = maps.pv_tissue ? planes_view(maps.pv_tissue, m0 - k0, m1 - m0) : vt,
                      vf = maps.pv_frac ? planes_view(maps.pv_frac, m0 - k0, m1 - m0) : vt;
            for (size_t i = 0; i < proto.count && !s; i++) {
                const sb_acquisition *a = &proto.acq[i];
                sb_volume *img[SB_MRI_OUT_MAX];
                double slope[SB_MRI_OUT_MAX];
                char names[SB_MRI_OUT_MAX][40];
                size_t n = sb_mri_outputs(a, names);
                s = sb_mri_acquire_slab(session, a, m0, &vt, maps.pv_tissue ? &vp : NULL,
                                        maps.pv_frac ? &vf : NULL, proto.want[i],
                                        opts->float_out ? SB_DT_FLOAT32 : SB_DT_INT16, ctx, img,
                                        slope, err);
                for (size_t k = 0; k < n && !s; k++) {
                    if (!img[k]) continue;
                    if (!w_img[i][k]) {    /* opened at the first slab: the slope is known now */
                        char descrip[128]; /* the header keeps 79 */
                        snprintf(descrip, sizeof descrip, "synthbody %.32s %s TR=%g", names[k],
                                 seq_kind_name(a->seq.kind), a->seq.tr_ms);
                        grid.dtype = img[k]->dtype;
                        s = sb_nifti_writer_open(&grid, p_img[i][k], opts->force,
                                                 SB_NIFTI_INTENT_NONE, descrip, slope[k], 0.0,
                                                 &w_img[i][k], err);
                        slopes[i][k] = slope[k];
                    }
                    if (!s) s = sb_nifti_writer_put(w_img[i][k], img[k], err);
                    /* the last planes: written and synced in the background while the next
                     * images are made, committed after the loop */
                    if (!s && m1 == dim[2]) s = sb_nifti_writer_finish(w_img[i][k], err);
                }
                for (size_t k = 0; k < SB_MRI_OUT_MAX; k++) sb_volume_free(img[k]);
            }
        }
        t_mri += now_s() - t0;
        sb_anatomy_maps_free(&maps);
        sb_progress(ctx, "slabs", k1, dim[2]);
        if (s) goto done;
    }
    sb_log(ctx, SB_LOG_INFO, "anatomy: %zux%zux%zu voxels in %.2f s; MR images in %.2f s", dim[0],
           dim[1], dim[2], t_anat, t_mri);
    if ((s = commit_file(&w_labels, &outs, p_labels, err))) goto done;
    for (size_t i = 0; i < proto.count; i++) { /* the images and their sidecars */
        const sb_acquisition *a = &proto.acq[i];
        char names[SB_MRI_OUT_MAX][40];
        size_t n = sb_mri_outputs(a, names);
        for (size_t k = 0; k < n; k++) {
            if (!w_img[i][k]) continue;
            if ((s = commit_file(&w_img[i][k], &outs, p_img[i][k], err))) goto done;
            cJSON *side = sidecar_json(a, k, names[k], &subj, slopes[i][k]);
            if (side) acquisition_json(side, 1, a, &msetup, session, &grid);
            s = side ? outputs_write_json(side, p_side[i][k], opts->force, err)
                     : sb_error_set(err, SB_ERR_MEMORY, "out of memory");
            cJSON_Delete(side);
            if (s) goto done;
            outputs_mark_done(&outs, p_side[i][k]);
        }
    }
    if ((s = sb_labels_write_tsv(table, p_tsv, opts->force, err))) goto done;
    outputs_mark_done(&outs, p_tsv);
    if ((s = sb_labels_write_itksnap(table, p_itk, opts->force, err))) goto done;
    outputs_mark_done(&outs, p_itk);
    if ((s = sb_labels_write_ctbl(table, p_ctbl, opts->force, err))) goto done;
    outputs_mark_done(&outs, p_ctbl);

    mri = mri_json(opts, &proto, &mt);
    if (mri) acquisition_json(mri, 0, NULL, &msetup, session, &grid);
    sb_body_composition bc;
    sb_voxelizer_composition(vz, &bc);
    json = mri ? subject_json(opts, &subj, &bc, &grid, table, mri) : NULL;
    mri = NULL; /* owned by json now */
    if (!json) {
        s = sb_error_set(err, SB_ERR_MEMORY, "out of memory");
        goto done;
    }
    if ((s = lesion_job_finish(&lj, json, opts->force, &outs, ctx, err))) goto done;
    if (opts->mesh && opts->mesh_formats) {
        if ((s = export_present(lab, table, &eo, base, &outs, ctx, err))) goto done;
        cJSON_AddStringToObject(json, "mesh_manifest", "meshes/manifest.json");
    } else if (opts->mesh) {
        cJSON *list = cJSON_AddArrayToObject(json, "meshes");
        if ((s = write_meshes(lab, table, &outs, mesh_paths, opts->force, list, ctx, err)))
            goto done;
    }
    if ((s = outputs_write_json(json, p_json, opts->force, err))) goto done;
    outputs_mark_done(&outs, p_json);

done:
    sb_nifti_writer_free(w_labels);
    for (size_t i = 0; i < SB_PROTOCOL_MAX; i++)
        for (size_t k = 0; k < SB_MRI_OUT_MAX; k++) sb_nifti_writer_free(w_img[i][k]);
    sb_volume_free(lab);
    if (s) outputs_rollback(&outs);
    cJSON_Delete(json);
    cJSON_Delete(mri);
    sb_mri_session_free(session);
    sb_tissue_db_free(tdb);
    sb_anatomy_maps_free(&maps);
    sb_voxelizer_free(vz);
    sb_labels_free(table);
    sb_anatomy_free(anat);
    lesion_job_free(&lj);
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
