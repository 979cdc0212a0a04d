/* mri_protocol.c — contrasts by name and named protocols (README "Protocols").
 *
 * Sequence defaults follow common clinical settings (Bernstein et al., "Handbook of MRI Pulse
 * Sequences", 2004; UK Biobank body MRI protocol, Littlejohns et al., Nat Commun 2020:
 * neck-to-knee 2-point Dixon at 1.5 T, TR 6.69 ms, TE 2.39/4.77 ms, flip 10 deg):
 *   T1w   SE/TSE TR 500, TE 15          T2w   TSE TR 4000, TE 100      PDw  TR 3000, TE 20
 *   GRE   spoiled, TR 7, TE in phase (4.76 ms at 1.5 T, 2.38 ms at 3 T), flip 12 deg
 *   STIR  IR TR 4500, TE 60, TI at the fat null (TI = T1_fat ln 2: 240 ms at 1.5 T, 265 at 3 T)
 *   FLAIR IR TR 9000, TE 120, TI 2500 (CSF null for T1 = 4.3 s)
 *   bSSFP TR 3.6, flip 60 deg
 *   dixon 3 echoes opposed/in/opposed phase (1.5 T: 2.38/4.76/7.14 ms, TR 10; 3 T: half),
 *         flip 3 deg so the fat fraction is proton-density weighted (low T1 bias)
 *   dwi   SE-EPI TR 5000, TE 70, fat suppression 95 %, b-values as asked (default 50, 800)
 * Each contrast has a fixed noise-stream id, so adding a contrast never changes another's noise.
 * SNR 30 against muscle (white matter in `neuro`), bias amplitude 0.2, 1.5 T unless said.
 */
#include "sb_volume.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Overlap of neighbouring stations in the UK Biobank preset (a few slices of each). */
#define UKB_OVERLAP_MM 30.0

enum { ID_T1W = 1, ID_T2W, ID_PDW, ID_GRE, ID_STIR, ID_FLAIR, ID_BSSFP, ID_DIXON, ID_DWI };

static sb_acquisition base(const char *name, uint32_t id, sb_seq_kind kind, double field) {
    sb_acquisition a;
    memset(&a, 0, sizeof a);
    snprintf(a.name, sizeof a.name, "%s", name);
    a.id = id;
    a.seq.kind = kind;
    a.seq.field_t = field;
    a.snr = 30;
    a.bias = 0.2;
    snprintf(a.ref_tissue, sizeof a.ref_tissue, "muscle");
    return a;
}

static void dixon_echoes(sb_acquisition *a) {
    double in = a->seq.field_t > 2 ? 2.38 : 4.76; /* one fat-water period at the main peak */
    a->seq.necho = 3;
    for (int k = 0; k < 3; k++) a->seq.te_echo_ms[k] = in * (k + 1) / 2;
    a->seq.tr_ms = a->seq.field_t > 2 ? 6 : 10;
    a->seq.te_ms = a->seq.te_echo_ms[0];
    a->seq.flip_deg = 3;
}

/* The acquisition of a single-image contrast name; 0 if the name is not one. */
static int single(const char *name, double field, sb_acquisition *a) {
    int hi = field > 2;
    if (!strcmp(name, "T1w")) {
        *a = base(name, ID_T1W, SB_SEQ_SE, field);
        a->seq.tr_ms = 500, a->seq.te_ms = 15;
    } else if (!strcmp(name, "T2w")) {
        *a = base(name, ID_T2W, SB_SEQ_SE, field);
        a->seq.tr_ms = 4000, a->seq.te_ms = 100;
    } else if (!strcmp(name, "PDw")) {
        *a = base(name, ID_PDW, SB_SEQ_SE, field);
        a->seq.tr_ms = 3000, a->seq.te_ms = 20;
    } else if (!strcmp(name, "GRE")) {
        *a = base(name, ID_GRE, SB_SEQ_GRE, field);
        a->seq.tr_ms = 7, a->seq.te_ms = hi ? 2.38 : 4.76, a->seq.flip_deg = 12;
    } else if (!strcmp(name, "STIR")) {
        *a = base(name, ID_STIR, SB_SEQ_IR, field);
        a->seq.tr_ms = 4500, a->seq.te_ms = 60, a->seq.ti_ms = hi ? 265 : 240;
    } else if (!strcmp(name, "FLAIR")) {
        *a = base(name, ID_FLAIR, SB_SEQ_IR, field);
        a->seq.tr_ms = 9000, a->seq.te_ms = 120, a->seq.ti_ms = 2500;
    } else if (!strcmp(name, "bSSFP")) {
        *a = base(name, ID_BSSFP, SB_SEQ_BSSFP, field);
        a->seq.tr_ms = 3.6, a->seq.te_ms = 1.8, a->seq.flip_deg = 60;
    } else {
        return 0;
    }
    return 1;
}

static const char *const DIXON_NAMES[5] = {"dixon_water", "dixon_fat", "dixon_in", "dixon_opp",
                                           "fatfrac"};

/* Index of acquisition `id` in p, appending `a` if absent. */
static int find_or_add(sb_protocol *p, const sb_acquisition *a) {
    for (size_t i = 0; i < p->count; i++)
        if (p->acq[i].id == a->id) return (int)i;
    if (p->count == SB_PROTOCOL_MAX) return -1;
    p->acq[p->count] = *a;
    p->want[p->count] = 0;
    return (int)p->count++;
}

static sb_status add_contrast(sb_protocol *p, const char *name, double field, sb_error *err) {
    sb_acquisition a;
    int idx = -1;
    unsigned bit = 0;
    if (single(name, field, &a)) {
        idx = find_or_add(p, &a);
        bit = 1;
    } else {
        for (int k = 0; k < 5; k++)
            if (!strcmp(name, DIXON_NAMES[k])) {
                a = base("dixon", ID_DIXON, SB_SEQ_DIXON, field);
                dixon_echoes(&a);
                idx = find_or_add(p, &a);
                bit = 1u << k;
            }
        if (!strncmp(name, "dwi_b", 5) || !strcmp(name, "ADC")) {
            a = base("dwi", ID_DWI, SB_SEQ_DWI, field);
            a.seq.tr_ms = 5000, a.seq.te_ms = 70, a.seq.fat_suppression = 0.95;
            a.snr = 20;
            idx = find_or_add(p, &a);
            if (idx < 0) return sb_error_set(err, SB_ERR_USAGE, "too many contrasts");
            sb_sequence *q = &p->acq[idx].seq;
            if (!strcmp(name, "ADC")) {
                bit = 1u << 7; /* resolved once every b-value is known */
            } else {
                char *end;
                errno = 0;
                double b = strtod(name + 5, &end);
                if (*end || errno || !(b >= 0 && b <= 10000))
                    return sb_error_set(err, SB_ERR_USAGE,
                                        "contrast \"%s\": b-value must be 0..10000 s/mm^2", name);
                int k = 0;
                while (k < q->nb && q->b[k] < b) k++;
                if (k < q->nb && q->b[k] == b) return SB_OK;
                if (q->nb == SB_DWI_B_MAX)
                    return sb_error_set(err, SB_ERR_USAGE, "at most %d b-values (\"%s\")",
                                        SB_DWI_B_MAX, name);
                memmove(&q->b[k + 1], &q->b[k], (size_t)(q->nb - k) * sizeof q->b[0]);
                q->b[k] = b;
                q->nb++;
                bit = 1u << 6; /* every b image */
            }
        }
    }
    if (!bit)
        return sb_error_set(err, SB_ERR_USAGE,
                            "unknown contrast \"%s\" (known: T1w, T2w, PDw, GRE, STIR, FLAIR, "
                            "bSSFP, dixon_water, dixon_fat, dixon_in, dixon_opp, fatfrac, "
                            "dwi_b<N>, ADC)",
                            name);
    if (idx < 0) return sb_error_set(err, SB_ERR_USAGE, "too many contrasts");
    p->want[idx] |= bit;
    return SB_OK;
}

/* DWI: turn the "b images" (bit 6) and "ADC" (bit 7) requests into output bits. */
static void finish_dwi(sb_protocol *p) {
    for (size_t i = 0; i < p->count; i++) {
        if (p->acq[i].seq.kind != SB_SEQ_DWI) continue;
        sb_sequence *q = &p->acq[i].seq;
        unsigned w = p->want[i], out = 0;
        if ((w & (1u << 7)) && q->nb < 2) { /* ADC needs two b-values: add 50 and/or 800 */
            double want_b[2] = {50, 800};
            for (int k = 0; k < 2 && q->nb < 2; k++) {
                int j = 0;
                while (j < q->nb && q->b[j] < want_b[k]) j++;
                if (j < q->nb && q->b[j] == want_b[k]) continue;
                memmove(&q->b[j + 1], &q->b[j], (size_t)(q->nb - j) * sizeof q->b[0]);
                q->b[j] = want_b[k];
                q->nb++;
            }
        }
        if (w & (1u << 6))
            for (int k = 0; k < q->nb; k++) out |= 1u << k;
        if ((w & (1u << 7)) && q->nb >= 2) out |= 1u << q->nb;
        p->want[i] = out;
    }
}

sb_status sb_mri_protocol(const char *protocol, const char *contrasts, double field_t, double snr,
                          double bias, sb_protocol *out, sb_error *err) {
    memset(out, 0, sizeof *out);
    const char *list = NULL;
    double field = 1.5;
    const char *ref = "muscle";
    const char *name = protocol ? protocol : "default";
    if (!strcmp(name, "default")) {
        list = "T1w,T2w";
    } else if (!strcmp(name, "ukbiobank-dixon")) {
        list = "dixon_water,dixon_fat,dixon_in,dixon_opp,fatfrac";
    } else if (!strcmp(name, "oncology-wb")) {
        list = "dixon_water,dixon_fat,dixon_in,dixon_opp,fatfrac,T2w,STIR,dwi_b50,dwi_b800,ADC";
    } else if (!strcmp(name, "neuro")) {
        list = "T1w,T2w,FLAIR";
        field = 3;
        ref = "white_matter";
    } else {
        return sb_error_set(err, SB_ERR_USAGE,
                            "unknown protocol \"%s\" (known: default, ukbiobank-dixon, "
                            "oncology-wb, neuro)",
                            name);
    }
    if (field_t > 0) field = field_t;
    if (contrasts) list = contrasts;
    if (!*list) return sb_error_set(err, SB_ERR_USAGE, "empty contrast list");
    char buf[1024];
    if (strlen(list) >= sizeof buf)
        return sb_error_set(err, SB_ERR_USAGE, "contrast list longer than %zu characters",
                            sizeof buf - 1);
    snprintf(buf, sizeof buf, "%s", list);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        sb_status s = add_contrast(out, tok, field, err);
        if (s) return s;
    }
    if (strstr(list, ",,") || list[0] == ',' || list[strlen(list) - 1] == ',')
        return sb_error_set(err, SB_ERR_USAGE, "contrast list \"%s\" has an empty name", list);
    finish_dwi(out);
    if (!strcmp(name, "ukbiobank-dixon")) /* neck to knee in six overlapping stations */
        out->stations = 6, out->overlap_mm = UKB_OVERLAP_MM;
    for (size_t i = 0; i < out->count; i++) {
        sb_acquisition *a = &out->acq[i];
        snprintf(a->ref_tissue, sizeof a->ref_tissue, "%s", ref);
        if (!strcmp(name, "ukbiobank-dixon") && a->seq.kind == SB_SEQ_DIXON) {
            a->seq.necho = 2; /* the UK Biobank body protocol, as acquired */
            a->seq.te_echo_ms[0] = 2.39, a->seq.te_echo_ms[1] = 4.77;
            a->seq.te_ms = 2.39, a->seq.tr_ms = 6.69, a->seq.flip_deg = 10;
        }
        if (snr >= 0) a->snr = snr;
        if (bias >= 0) a->bias = bias;
    }
    return SB_OK;
}
