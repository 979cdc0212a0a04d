/* lesions.c — pathology: focal lesions with ground-truth masks, and diffuse changes.
 *
 * Lesion types are data (volume/lesions.json, embedded; README "Pathology" documents the
 * format). A subject's lesions are drawn once, then painted into whatever slab of the maps is
 * being made:
 *
 * 0. Diffuse changes (sb_lesions_apply_diffuse, and again, identically, at the start of the
 *    plan): the first draws of the stream give each item's count and each diffuse type's value:
 *    the liver's fat fraction, or a volume factor of a structure (sb_subject.resize, applied by
 *    the anatomy before voxelizing: hepatomegaly, splenomegaly).
 *
 * 1. Plan (sb_lesions_plan). The subject's label map is made on a 4 mm grid (the anatomy is
 *    continuous, so the plan does not depend on the output voxel size, the slabs or the
 *    threads). Per host (a set of labels), an exact Euclidean distance transform
 *    (Felzenszwalb & Huttenlocher, "Distance transforms of sampled functions", Theory of
 *    Computing 8, 2012: lower envelope of parabolas, one pass per axis) gives every inside
 *    voxel its distance to the outside. Every lesion draws, from the (lesion seed, subject,
 *    LESION) stream in request order, its diameter, elongation, orientation, irregularity, rim
 *    thickness and heterogeneity waves; then, the largest reach first, a centre among the host
 *    voxels far enough from the host's outside for its largest radius, away from lesions
 *    already placed; a lesion that finds no room after 64 tries is shrunk (at most to the
 *    type's smallest diameter), then left out with a warning. Ids follow the request order.
 * 2. Shape. An ellipsoid (semi-axes r e^(2/3), r e^(-1/3), r e^(-1/3), e the elongation,
 *    rotated by a random unit quaternion) whose radius along each direction u is modulated
 *    by 1 + irregularity x sum_k c_k P_l(u.v_k) (six Legendre lobes of order 2..4 about random
 *    axes v_k, c_k ~ N(0, 1/6)), rescaled so its volume is that of a sphere of the drawn
 *    diameter. s(p) = |q| / R(u) in the ellipsoid's frame: s < 1 inside; s < core fraction:
 *    the core (necrosis); 1 <= s < extent: oedema.
 * 3. Paint (sb_lesions_paint). A voxel whose centre is inside a lesion and whose label is one
 *    of its host's becomes the lesion's tissue (the label map is never changed); voxels across
 *    its surface get the partial-volume pair (lesion, host) with the box-filter fraction of
 *    the voxelizer, clamp(1/2 - d/w); oedema takes the labels listed in the type only. Within
 *    the rim's thickness under the surface (along the ray) the rim tissue; a pure voxel of the
 *    solid part with heterogeneity is the pair (tissue, heterogeneity tissue), the latter's
 *    share amount x f(p), f a smooth field in 0..1 (three plane waves about the centre). A
 *    voxel belongs to the first lesion (in id order) that claims it. Each lesion's voxels,
 *    centroid and oedema are counted as they are painted: lesions.tsv is read off the masks.
 */
#include "sb_volume.h"
#include "text_file.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PLAN_VOXEL_MM 4.0
#define MAX_TYPES 32
#define MAX_HOST_ENTRIES 16
#define MAX_GROUP_LABELS 8
#define MAX_PER_TYPE 200
#define LOBES 6
#define TRIES 64

extern const char sb_lesions_default_json[];
#define DEFAULT_NAME "volume/lesions.json (embedded)"

/* ---- the catalogue ------------------------------------------------------------------------ */
typedef struct {
    char names[MAX_GROUP_LABELS][64]; /* one host made of these labels; names[0] may end in '*' */
    int n;
} host_entry;

enum { DIFFUSE_NONE, DIFFUSE_LIVER_FAT, DIFFUSE_RESIZE };

typedef struct {
    char name[48];
    int diffuse; /* DIFFUSE_LIVER_FAT: the liver's fat fraction drawn in range[];
                  * DIFFUSE_RESIZE: the volume of `structure` times a factor drawn in range[] */
    char structure[48];
    double range[2];
    host_entry hosts[MAX_HOST_ENTRIES];
    int nhosts;
    int tissue, core_tissue; /* tissue indices; core 0: none */
    double core_fraction, core_min_d;
    int rim_tissue; /* a shell under the surface (capsule), rim_mm[] thick; 0: none */
    double rim_mm[2];
    int het_tissue; /* heterogeneity: up to het_amount of a voxel of the solid part is het_tissue,
                     * following a smooth random field; 0: none */
    double het_amount;
    int count[2];
    double diam[2], elong[2], irregularity;
    int has_oedema;
    double oedema_extent[2];
    char oedema_in[MAX_GROUP_LABELS][64];
    int noedema_in;
    uint8_t rgb[3];
    char expect_contrast[8][16];
    int expect_sign[8], nexpect;
} lesion_type;

struct sb_lesion_catalog {
    lesion_type t[MAX_TYPES];
    int n;      /* all types, diffuse ones included */
    int nfocal; /* focal types: classes 1..nfocal (in file order, diffuse ones skipped) */
    int oedema_tissue;
    uint8_t oedema_rgb[3];
};

static sb_status bad(sb_error *err, const char *file, const char *path, const char *why) {
    return sb_error_set(err, SB_ERR_INPUT, "%s: %s: %s", file, path, why);
}

static int get_range(const cJSON *j, double out[2], double lo, double hi) {
    if (!cJSON_IsArray(j) || cJSON_GetArraySize(j) != 2) return 0;
    const cJSON *a = cJSON_GetArrayItem(j, 0), *b = cJSON_GetArrayItem(j, 1);
    if (!cJSON_IsNumber(a) || !cJSON_IsNumber(b)) return 0;
    out[0] = a->valuedouble, out[1] = b->valuedouble;
    return out[0] >= lo && out[1] <= hi && out[0] <= out[1];
}

static int get_color(const cJSON *j, uint8_t rgb[3]) {
    unsigned r, g, b;
    char tail;
    if (!cJSON_IsString(j) || strlen(j->valuestring) != 7 ||
        sscanf(j->valuestring, "#%2x%2x%2x%c", &r, &g, &b, &tail) != 3)
        return 0;
    rgb[0] = (uint8_t)r, rgb[1] = (uint8_t)g, rgb[2] = (uint8_t)b;
    return 1;
}

static int name_ok(const char *s, int star) {
    size_t n = strlen(s);
    if (n == 0 || n >= 64) return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                 c == '_' || (star && c == '*' && i == n - 1);
        if (!ok) return 0;
    }
    return 1;
}

static sb_status tissue_of(const cJSON *j, const char *file, const char *path, int *out,
                           sb_error *err) {
    if (!cJSON_IsString(j)) return bad(err, file, path, "expected a tissue class name");
    int t = sb_tissue_index(j->valuestring);
    if (t <= 0) {
        char why[160];
        snprintf(why, sizeof why, "unknown tissue class \"%.60s\" (README \"Tissue table\")",
                 j->valuestring);
        return bad(err, file, path, why);
    }
    *out = t;
    return SB_OK;
}

static sb_status parse_type(lesion_type *t, const cJSON *j, const char *file, sb_error *err) {
    char path[160], why[200];
    const char *nm = j->string;
#define P(field) (snprintf(path, sizeof path, "types.%s.%s", nm, field), path)
    if (strlen(nm) >= sizeof t->name || !strlen(nm) ||
        strspn(nm, "abcdefghijklmnopqrstuvwxyz"
                   "0123456789-_") != strlen(nm))
        return bad(err, file, P(""), "a type name is 1..47 of a-z, 0-9, '-', '_'");
    snprintf(t->name, sizeof t->name, "%s", nm);
    if (!cJSON_IsObject(j)) return bad(err, file, P(""), "expected an object");
    const cJSON *diffuse = cJSON_GetObjectItemCaseSensitive(j, "diffuse");
    if (diffuse) {
        if (cJSON_IsString(diffuse) && !strcmp(diffuse->valuestring, "liver_fat")) {
            if (!get_range(cJSON_GetObjectItemCaseSensitive(j, "range"), t->range, 0, 1))
                return bad(err, file, P("range"), "expected [min, max] within 0..1");
            t->diffuse = DIFFUSE_LIVER_FAT;
        } else if (cJSON_IsString(diffuse) && !strcmp(diffuse->valuestring, "resize")) {
            const cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "structure");
            if (!cJSON_IsString(st) || !name_ok(st->valuestring, 0) ||
                strlen(st->valuestring) >= sizeof t->structure)
                return bad(err, file, P("structure"),
                           "expected the name of a structure or size group of the anatomy");
            snprintf(t->structure, sizeof t->structure, "%s", st->valuestring);
            if (!get_range(cJSON_GetObjectItemCaseSensitive(j, "range"), t->range, 0.1, 10))
                return bad(err, file, P("range"),
                           "expected [min, max] volume factors within 0.1..10");
            t->diffuse = DIFFUSE_RESIZE;
        } else {
            return bad(err, file, P("diffuse"),
                       "the diffuse changes known are \"liver_fat\" and \"resize\"");
        }
        return SB_OK;
    }
    const cJSON *hosts = cJSON_GetObjectItemCaseSensitive(j, "hosts");
    int nh = cJSON_IsArray(hosts) ? cJSON_GetArraySize(hosts) : 0;
    if (nh < 1 || nh > MAX_HOST_ENTRIES)
        return bad(err, file, P("hosts"), "expected an array of 1..16 label names or groups");
    for (int h = 0; h < nh; h++) {
        const cJSON *e = cJSON_GetArrayItem(hosts, h);
        host_entry *he = &t->hosts[h];
        if (cJSON_IsString(e)) {
            if (!name_ok(e->valuestring, 1))
                return bad(err, file, P("hosts"), "a host is a label name (may end in *)");
            snprintf(he->names[0], sizeof he->names[0], "%s", e->valuestring);
            he->n = 1;
        } else if (cJSON_IsArray(e) && cJSON_GetArraySize(e) >= 1 &&
                   cJSON_GetArraySize(e) <= MAX_GROUP_LABELS) {
            for (int k = 0; k < cJSON_GetArraySize(e); k++) {
                const cJSON *x = cJSON_GetArrayItem(e, k);
                if (!cJSON_IsString(x) || !name_ok(x->valuestring, 0))
                    return bad(err, file, P("hosts"), "a host group is 1..8 label names");
                snprintf(he->names[k], sizeof he->names[k], "%s", x->valuestring);
            }
            he->n = cJSON_GetArraySize(e);
        } else {
            return bad(err, file, P("hosts"), "a host is a label name or an array of 1..8");
        }
    }
    t->nhosts = nh;
    sb_status s = tissue_of(cJSON_GetObjectItemCaseSensitive(j, "tissue"), file, P("tissue"),
                            &t->tissue, err);
    if (s) return s;
    if (!get_color(cJSON_GetObjectItemCaseSensitive(j, "color"), t->rgb))
        return bad(err, file, P("color"), "expected \"#rrggbb\"");
    double c[2];
    if (!get_range(cJSON_GetObjectItemCaseSensitive(j, "count"), c, 0, MAX_PER_TYPE) ||
        c[0] != floor(c[0]) || c[1] != floor(c[1]))
        return bad(err, file, P("count"), "expected [min, max], whole numbers within 0..200");
    t->count[0] = (int)c[0], t->count[1] = (int)c[1];
    if (!get_range(cJSON_GetObjectItemCaseSensitive(j, "diameter_mm"), t->diam, 1, 300))
        return bad(err, file, P("diameter_mm"), "expected [min, max] within 1..300 mm");
    if (!get_range(cJSON_GetObjectItemCaseSensitive(j, "elongation"), t->elong, 1, 4))
        return bad(err, file, P("elongation"), "expected [min, max] within 1..4");
    const cJSON *irr = cJSON_GetObjectItemCaseSensitive(j, "irregularity");
    if (!cJSON_IsNumber(irr) || !(irr->valuedouble >= 0 && irr->valuedouble <= 0.5))
        return bad(err, file, P("irregularity"), "expected a number within 0..0.5");
    t->irregularity = irr->valuedouble;
    const cJSON *core = cJSON_GetObjectItemCaseSensitive(j, "core");
    if (core) {
        if (!cJSON_IsObject(core)) return bad(err, file, P("core"), "expected an object");
        s = tissue_of(cJSON_GetObjectItemCaseSensitive(core, "tissue"), file, P("core.tissue"),
                      &t->core_tissue, err);
        if (s) return s;
        const cJSON *f = cJSON_GetObjectItemCaseSensitive(core, "fraction");
        const cJSON *m = cJSON_GetObjectItemCaseSensitive(core, "min_diameter_mm");
        if (!cJSON_IsNumber(f) || !(f->valuedouble > 0 && f->valuedouble < 1))
            return bad(err, file, P("core.fraction"), "expected a number within 0..1 (radius)");
        if (!cJSON_IsNumber(m) || !(m->valuedouble >= 0 && m->valuedouble <= 300))
            return bad(err, file, P("core.min_diameter_mm"), "expected 0..300 mm");
        t->core_fraction = f->valuedouble, t->core_min_d = m->valuedouble;
    }
    const cJSON *rim = cJSON_GetObjectItemCaseSensitive(j, "rim");
    if (rim) {
        if (!cJSON_IsObject(rim)) return bad(err, file, P("rim"), "expected an object");
        s = tissue_of(cJSON_GetObjectItemCaseSensitive(rim, "tissue"), file, P("rim.tissue"),
                      &t->rim_tissue, err);
        if (s) return s;
        if (!get_range(cJSON_GetObjectItemCaseSensitive(rim, "thickness_mm"), t->rim_mm, 0.1, 20))
            return bad(err, file, P("rim.thickness_mm"), "expected [min, max] within 0.1..20 mm");
    }
    const cJSON *het = cJSON_GetObjectItemCaseSensitive(j, "heterogeneity");
    if (het) {
        if (!cJSON_IsObject(het)) return bad(err, file, P("heterogeneity"), "expected an object");
        s = tissue_of(cJSON_GetObjectItemCaseSensitive(het, "tissue"), file,
                      P("heterogeneity.tissue"), &t->het_tissue, err);
        if (s) return s;
        const cJSON *amt = cJSON_GetObjectItemCaseSensitive(het, "amount");
        if (!cJSON_IsNumber(amt) || !(amt->valuedouble > 0 && amt->valuedouble <= 1))
            return bad(err, file, P("heterogeneity.amount"), "expected a number within 0..1");
        t->het_amount = amt->valuedouble;
    }
    const cJSON *oed = cJSON_GetObjectItemCaseSensitive(j, "oedema");
    if (oed) {
        if (!cJSON_IsObject(oed)) return bad(err, file, P("oedema"), "expected an object");
        if (!get_range(cJSON_GetObjectItemCaseSensitive(oed, "extent"), t->oedema_extent, 1, 4))
            return bad(err, file, P("oedema.extent"), "expected [min, max] within 1..4 (radii)");
        const cJSON *in = cJSON_GetObjectItemCaseSensitive(oed, "in");
        int n = cJSON_IsArray(in) ? cJSON_GetArraySize(in) : 0;
        if (n < 1 || n > MAX_GROUP_LABELS)
            return bad(err, file, P("oedema.in"), "expected an array of 1..8 label names");
        for (int k = 0; k < n; k++) {
            const cJSON *x = cJSON_GetArrayItem(in, k);
            if (!cJSON_IsString(x) || !name_ok(x->valuestring, 0))
                return bad(err, file, P("oedema.in"), "expected label names");
            snprintf(t->oedema_in[k], sizeof t->oedema_in[k], "%s", x->valuestring);
        }
        t->noedema_in = n;
        t->has_oedema = 1;
    }
    const cJSON *ex = cJSON_GetObjectItemCaseSensitive(j, "expect");
    if (ex && !cJSON_IsObject(ex)) return bad(err, file, P("expect"), "expected an object");
    for (const cJSON *e = ex ? ex->child : NULL; e; e = e->next) {
        if (!cJSON_IsString(e) || strlen(e->string) >= sizeof t->expect_contrast[0] ||
            t->nexpect == 8 ||
            (strcmp(e->valuestring, "brighter") && strcmp(e->valuestring, "darker") &&
             strcmp(e->valuestring, "higher") && strcmp(e->valuestring, "lower") &&
             strcmp(e->valuestring, "variable"))) {
            snprintf(why, sizeof why,
                     "expect.%.40s: brighter, darker, higher, lower or variable (at most 8 "
                     "contrasts)",
                     e->string);
            return bad(err, file, P("expect"), why);
        }
        snprintf(t->expect_contrast[t->nexpect], sizeof t->expect_contrast[0], "%s", e->string);
        t->expect_sign[t->nexpect++] =
            !strcmp(e->valuestring, "brighter") || !strcmp(e->valuestring, "higher") ? 1
            : !strcmp(e->valuestring, "variable")                                    ? 0
                                                                                     : -1;
    }
#undef P
    return SB_OK;
}

static sb_status parse_catalog(sb_lesion_catalog *c, const char *text, const char *file,
                               sb_error *err) {
    cJSON *root = cJSON_Parse(text);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        long off = at && at >= text ? (long)(at - text) : -1;
        return sb_error_set(err, SB_ERR_INPUT, "%s: not valid JSON (near byte %ld)", file, off);
    }
    sb_status s = SB_OK;
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "format");
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(root, "version");
    const cJSON *oed = cJSON_GetObjectItemCaseSensitive(root, "oedema");
    const cJSON *types = cJSON_GetObjectItemCaseSensitive(root, "types");
    if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, "synthbody-lesions"))
        s = bad(err, file, "format", "must be \"synthbody-lesions\"");
    else if (!cJSON_IsNumber(ver) || ver->valuedouble != 1)
        s = bad(err, file, "version", "must be 1");
    else if (!cJSON_IsObject(oed))
        s = bad(err, file, "oedema", "expected {\"tissue\": T, \"color\": \"#rrggbb\"}");
    else if (!cJSON_IsObject(types) || !types->child)
        s = bad(err, file, "types", "expected an object of lesion types");
    if (!s)
        s = tissue_of(cJSON_GetObjectItemCaseSensitive(oed, "tissue"), file, "oedema.tissue",
                      &c->oedema_tissue, err);
    if (!s && !get_color(cJSON_GetObjectItemCaseSensitive(oed, "color"), c->oedema_rgb))
        s = bad(err, file, "oedema.color", "expected \"#rrggbb\"");
    for (const cJSON *t = types ? types->child : NULL; !s && t; t = t->next) {
        if (c->n == MAX_TYPES) {
            s = bad(err, file, "types", "at most 32 types");
            break;
        }
        for (int k = 0; k < c->n; k++)
            if (!strcmp(c->t[k].name, t->string)) s = bad(err, file, t->string, "defined twice");
        if (!s) s = parse_type(&c->t[c->n], t, file, err);
        if (!s) c->nfocal += !c->t[c->n].diffuse, c->n++;
    }
    cJSON_Delete(root);
    return s;
}

sb_status sb_lesion_catalog_load(const char *path, sb_lesion_catalog **out, sb_error *err) {
    *out = NULL;
    sb_lesion_catalog *c = calloc(1, sizeof *c);
    if (!c) return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    sb_status s = SB_OK;
    if (path) {
        char *text = sb_read_text_file(path, 16, &s, err);
        if (text) s = parse_catalog(c, text, path, err);
        free(text);
    } else {
        s = parse_catalog(c, sb_lesions_default_json, DEFAULT_NAME, err);
        if (s)
            s = sb_error_set(err, SB_ERR_INTERNAL, "embedded lesion description rejected (%s)",
                             err ? err->msg : "?");
    }
    if (s) {
        free(c);
        return s;
    }
    *out = c;
    return SB_OK;
}

void sb_lesion_catalog_free(sb_lesion_catalog *c) {
    free(c);
}

size_t sb_lesion_class_count(const sb_lesion_catalog *c) {
    return (size_t)c->nfocal + 1;
}

/* class k (1..nfocal) -> type index */
static int class_type(const sb_lesion_catalog *c, size_t k) {
    size_t seen = 0;
    for (int i = 0; i < c->n; i++)
        if (!c->t[i].diffuse && ++seen == k) return i;
    return -1;
}

const char *sb_lesion_class_name(const sb_lesion_catalog *c, size_t k, uint8_t rgb[3]) {
    if (k == (size_t)c->nfocal + 1) {
        if (rgb) memcpy(rgb, c->oedema_rgb, 3);
        return "oedema";
    }
    int t = k >= 1 ? class_type(c, k) : -1;
    if (t < 0) return NULL;
    if (rgb) memcpy(rgb, c->t[t].rgb, 3);
    return c->t[t].name;
}

size_t sb_lesion_class_expect(const sb_lesion_catalog *c, size_t k, char contrast[8][16],
                              int sign[8]) {
    int t = k >= 1 ? class_type(c, k) : -1;
    if (t < 0) return 0;
    for (int i = 0; i < c->t[t].nexpect; i++) {
        memcpy(contrast[i], c->t[t].expect_contrast[i], sizeof contrast[i]);
        sign[i] = c->t[t].expect_sign[i];
    }
    return (size_t)c->t[t].nexpect;
}

int sb_lesion_class_tissue(const sb_lesion_catalog *c, size_t k) {
    int t = k >= 1 ? class_type(c, k) : -1;
    return t < 0 ? (k == (size_t)c->nfocal + 1 ? c->oedema_tissue : -1) : c->t[t].tissue;
}

void sb_lesion_class_sizes(const sb_lesion_catalog *c, size_t k, double diameter_mm[2]) {
    int t = k >= 1 ? class_type(c, k) : -1;
    diameter_mm[0] = t < 0 ? 0 : c->t[t].diam[0];
    diameter_mm[1] = t < 0 ? 0 : c->t[t].diam[1];
}

int sb_lesion_tissue_first(void) {
    return sb_tissue_index("cyst_fluid");
}

/* ---- the request: "type[:N|:A-B],..." ------------------------------------------------------- */
typedef struct {
    int type;
    int lo, hi;
} spec_item;

static sb_status parse_spec(const sb_lesion_catalog *c, const char *spec, spec_item *items,
                            int *nitems, sb_error *err) {
    *nitems = 0;
    if (!spec || !*spec) return sb_error_set(err, SB_ERR_USAGE, "--lesions: empty list");
    const char *p = spec;
    while (*p) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char item[128];
        if (len == 0 || len >= sizeof item)
            return sb_error_set(err, SB_ERR_USAGE, "--lesions \"%s\": empty or overlong item",
                                spec);
        memcpy(item, p, len);
        item[len] = '\0';
        char *colon = strchr(item, ':');
        if (colon) *colon = '\0';
        int t = -1;
        for (int k = 0; k < c->n; k++)
            if (!strcmp(c->t[k].name, item)) t = k;
        if (t < 0) {
            char known[1200];
            size_t o = 0;
            for (int k = 0; k < c->n && o < sizeof known - 60; k++)
                o += (size_t)snprintf(known + o, sizeof known - o, "%s%s", k ? ", " : "",
                                      c->t[k].name);
            return sb_error_set(err, SB_ERR_USAGE,
                                "--lesions: unknown lesion type \"%s\" (known: %s)", item, known);
        }
        for (int k = 0; k < *nitems; k++)
            if (items[k].type == t)
                return sb_error_set(err, SB_ERR_USAGE, "--lesions: \"%s\" given twice", item);
        if (*nitems == MAX_TYPES)
            return sb_error_set(err, SB_ERR_USAGE, "--lesions: more than %d items", MAX_TYPES);
        spec_item *it = &items[(*nitems)++];
        it->type = t;
        it->lo = c->t[t].count[0], it->hi = c->t[t].count[1];
        if (c->t[t].diffuse) it->lo = it->hi = 1;
        if (colon) {
            const char *n = colon + 1;
            char *e1;
            errno = 0;
            long a = strtol(n, &e1, 10), b = a;
            int ok = e1 != n && errno == 0 && *n >= '0' && *n <= '9';
            if (ok && *e1 == '-') {
                char *e2;
                const char *m = e1 + 1;
                b = strtol(m, &e2, 10);
                ok = e2 != m && errno == 0 && *m >= '0' && *m <= '9' && *e2 == '\0';
            } else if (ok) {
                ok = *e1 == '\0';
            }
            int maxn = c->t[t].diffuse ? 1 : MAX_PER_TYPE;
            if (!ok || a < 0 || b < a || b > maxn)
                return sb_error_set(err, SB_ERR_USAGE,
                                    "--lesions: \"%s:%s\": the count is N or A-B within 0..%d",
                                    item, n, maxn);
            it->lo = (int)a, it->hi = (int)b;
        }
        p = end ? end + 1 : p + len;
        if (end && !*p)
            return sb_error_set(err, SB_ERR_USAGE, "--lesions \"%s\": trailing comma", spec);
    }
    return SB_OK;
}

sb_status sb_lesion_spec_check(const sb_lesion_catalog *c, const char *spec, sb_error *err) {
    spec_item items[MAX_TYPES];
    int n;
    return parse_spec(c, spec, items, &n, err);
}

/* ---- one subject's lesions ------------------------------------------------------------------ */
typedef struct {
    uint16_t labels[64]; /* label ids of the host */
    int n;
    char name[64];
    /* on the plan grid: inside voxels and their distance to the outside (mm) */
    size_t *vox;
    float *dist;
    size_t nvox;
} host;

typedef struct {
    int type, class_id, host;
    double c[3];      /* centre, world mm */
    double rot[3][3]; /* lesion frame -> world (columns: axes) */
    double axes[3];   /* semi-axes, mm (before the lobes) */
    double lobe_v[LOBES][3], lobe_c[LOBES];
    int lobe_l[LOBES];
    double irr, rmax, core_s, oedema_s; /* core and oedema limits of s (0: none) */
    double d;                           /* drawn equivalent diameter, mm */
    double rim_mm;                      /* rim (capsule) thickness, 0: none */
    double wave_k[3][3], wave_phase[3]; /* heterogeneity: three plane waves (rad/mm) */
    int item, placed;                   /* while planning: its request item; placed */
    double bbox[2][3];                  /* world box of everything painted */
    size_t voxels, oedema_voxels;
    double sum[3];
} lesion;

struct sb_lesions {
    const sb_lesion_catalog *cat;
    lesion *l;
    size_t n;
    host *hosts;
    size_t nhosts;
    uint16_t oedema_labels[MAX_TYPES][MAX_GROUP_LABELS];
    int noedema[MAX_TYPES];
    double voxel_mm; /* of the maps painted (the first slab's) */
    char diffuse[256];
};

void sb_lesions_free(sb_lesions *L) {
    if (!L) return;
    for (size_t h = 0; h < L->nhosts; h++) free(L->hosts[h].vox), free(L->hosts[h].dist);
    free(L->hosts);
    free(L->l);
    free(L);
}

size_t sb_lesions_count(const sb_lesions *L) {
    return L->n;
}

const char *sb_lesions_diffuse(const sb_lesions *L) {
    return L->diffuse;
}

static double legendre(int l, double t) {
    switch (l) {
    case 2:
        return 0.5 * (3 * t * t - 1);
    case 3:
        return 0.5 * (5 * t * t * t - 3 * t);
    default:
        return (35 * t * t * t * t - 30 * t * t + 3) / 8;
    }
}

/* The radius factor along unit direction u of the lesion frame. */
static double lobe_factor(const lesion *les, const double u[3]) {
    if (les->irr <= 0) return 1;
    double g = 0;
    for (int k = 0; k < LOBES; k++)
        g += les->lobe_c[k] *
             legendre(les->lobe_l[k], u[0] * les->lobe_v[k][0] + u[1] * les->lobe_v[k][1] +
                                          u[2] * les->lobe_v[k][2]);
    double f = 1 + les->irr * g;
    return f < 0.6 ? 0.6 : f > 1.6 ? 1.6 : f;
}

/* s(p): < 1 inside; and the distance to the surface along the ray from the centre (mm, < 0
 * inside). */
static double lesion_s(const lesion *les, const double p[3], double *dist) {
    double d[3] = {p[0] - les->c[0], p[1] - les->c[1], p[2] - les->c[2]};
    double q[3];
    for (int a = 0; a < 3; a++)
        q[a] =
            (les->rot[0][a] * d[0] + les->rot[1][a] * d[1] + les->rot[2][a] * d[2]) / les->axes[a];
    double rho = sqrt(q[0] * q[0] + q[1] * q[1] + q[2] * q[2]);
    double len = sqrt(d[0] * d[0] + d[1] * d[1] + d[2] * d[2]);
    if (rho < 1e-12) {
        *dist = -les->axes[1];
        return 0;
    }
    double u[3] = {q[0] / rho, q[1] / rho, q[2] / rho};
    double s = rho / lobe_factor(les, u);
    *dist = len * (1 - 1 / s);
    return s;
}

/* Fibonacci-sphere directions for the shape's volume and extent. */
#define NDIR 400
static void fib_dir(int i, double u[3]) {
    double z = 1 - (2.0 * i + 1) / NDIR, r = sqrt(1 - z * z), ph = i * 2.399963229728653;
    u[0] = r * cos(ph), u[1] = r * sin(ph), u[2] = z;
}

/* Draws the shape (not the place) of lesion les of type t with equivalent diameter d. */
static void draw_shape(lesion *les, const lesion_type *t, double d, sb_rng *rng) {
    double e = sb_rng_range(rng, t->elong[0], t->elong[1] + 1e-12);
    double qv[4], qn = 0;
    for (int k = 0; k < 4; k++) qv[k] = sb_rng_normal(rng), qn += qv[k] * qv[k];
    qn = sqrt(qn > 0 ? qn : 1);
    double w = qv[0] / qn, x = qv[1] / qn, y = qv[2] / qn, z = qv[3] / qn;
    double R[3][3] = {{1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)},
                      {2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)},
                      {2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)}};
    memcpy(les->rot, R, sizeof R);
    les->irr = t->irregularity;
    for (int k = 0; k < LOBES; k++) {
        double v[3], n = 0;
        for (int a = 0; a < 3; a++) v[a] = sb_rng_normal(rng), n += v[a] * v[a];
        n = sqrt(n > 0 ? n : 1);
        for (int a = 0; a < 3; a++) les->lobe_v[k][a] = v[a] / n;
        les->lobe_c[k] = sb_rng_normal(rng) / sqrt((double)LOBES);
        les->lobe_l[k] = 2 + k % 3;
    }
    /* volume of the unit shape: mean of f(u)^3 over directions (x 4/3 pi); scale to d */
    double m3 = 0, fmax = 0;
    for (int i = 0; i < NDIR; i++) {
        double u[3];
        fib_dir(i, u);
        double f = lobe_factor(les, u);
        m3 += f * f * f;
        fmax = fmax > f ? fmax : f;
    }
    m3 /= NDIR;
    double r = 0.5 * d / cbrt(m3);
    les->axes[0] = r * pow(e, 2.0 / 3), les->axes[1] = les->axes[2] = r * pow(e, -1.0 / 3);
    les->rmax = 1.03 * les->axes[0] * fmax;
    /* the rim's thickness and the heterogeneity's waves (wavelength: half the diameter, at
     * least 8 mm), drawn for every lesion so that the draws do not depend on the type's data */
    les->rim_mm = sb_rng_range(rng, t->rim_mm[0], t->rim_mm[1] + 1e-12);
    if (!t->rim_tissue) les->rim_mm = 0;
    const double kn = 2 * 3.14159265358979323846 / (0.5 * d > 8 ? 0.5 * d : 8.0);
    for (int wv = 0; wv < 3; wv++) {
        double v[3], n = 0;
        for (int a = 0; a < 3; a++) v[a] = sb_rng_normal(rng), n += v[a] * v[a];
        n = sqrt(n > 0 ? n : 1);
        for (int a = 0; a < 3; a++) les->wave_k[wv][a] = kn * v[a] / n;
        les->wave_phase[wv] = sb_rng_range(rng, 0, 2 * 3.14159265358979323846);
    }
}

/* The heterogeneity field at p (world mm): 0..1, smooth, mean 1/2. */
static double lesion_field(const lesion *les, const double p[3]) {
    double g = 0;
    for (int w = 0; w < 3; w++)
        g += cos(les->wave_k[w][0] * (p[0] - les->c[0]) + les->wave_k[w][1] * (p[1] - les->c[1]) +
                 les->wave_k[w][2] * (p[2] - les->c[2]) + les->wave_phase[w]);
    return 0.5 + g / 6;
}

/* Felzenszwalb-Huttenlocher 1-D squared distance transform of f (n values) into d. */
static void dt1(const float *f, float *d, int n, int *v, float *z) {
    int k = 0;
    v[0] = 0, z[0] = -INFINITY, z[1] = INFINITY;
    for (int q = 1; q < n; q++) {
        float s;
        for (;;) {
            int p = v[k];
            s = ((f[q] + (float)q * q) - (f[p] + (float)p * p)) / (2.0f * (float)(q - p));
            if (s <= z[k] && k > 0)
                k--;
            else
                break;
        }
        if (s <= z[k]) { /* k == 0 */
            v[0] = q, z[0] = -INFINITY, z[1] = INFINITY;
            continue;
        }
        k++;
        v[k] = q, z[k] = s, z[k + 1] = INFINITY;
    }
    k = 0;
    for (int q = 0; q < n; q++) {
        while (z[k + 1] < (float)q) k++;
        float dq = (float)(q - v[k]);
        d[q] = dq * dq + f[v[k]];
    }
}

static int in_set(uint16_t id, const uint16_t *set, int n) {
    for (int k = 0; k < n; k++)
        if (set[k] == id) return 1;
    return 0;
}

/* Inside voxels of host h on the plan map, with their distance (mm) to the nearest outside
 * voxel centre. -1 on out of memory. */
static int host_distances(host *h, const sb_volume *lab) {
    const uint16_t *L = lab->data;
    size_t nx = lab->dim[0], ny = lab->dim[1], nz = lab->dim[2];
    size_t lo[3] = {nx, ny, nz}, hi[3] = {0, 0, 0};
    size_t count = 0;
    for (size_t k = 0; k < nz; k++)
        for (size_t j = 0; j < ny; j++)
            for (size_t i = 0; i < nx; i++)
                if (in_set(L[i + nx * (j + ny * k)], h->labels, h->n)) {
                    size_t ijk[3] = {i, j, k};
                    for (int a = 0; a < 3; a++) {
                        if (ijk[a] < lo[a]) lo[a] = ijk[a];
                        if (ijk[a] > hi[a]) hi[a] = ijk[a];
                    }
                    count++;
                }
    h->nvox = 0;
    if (!count) return 0;
    /* box with one outside voxel of margin on every side */
    int bn[3];
    for (int a = 0; a < 3; a++) bn[a] = (int)(hi[a] - lo[a]) + 3;
    size_t bt = (size_t)bn[0] * (size_t)bn[1] * (size_t)bn[2];
    int nmax = bn[0] > bn[1] ? bn[0] : bn[1];
    nmax = nmax > bn[2] ? nmax : bn[2];
    float *g = malloc(bt * sizeof *g), *f = malloc((size_t)nmax * sizeof *f),
          *d = malloc((size_t)nmax * sizeof *d), *z = malloc(((size_t)nmax + 1) * sizeof *z);
    int *v = malloc((size_t)nmax * sizeof *v);
    h->vox = malloc(count * sizeof *h->vox);
    h->dist = malloc(count * sizeof *h->dist);
    if (!g || !f || !d || !z || !v || !h->vox || !h->dist) {
        free(g), free(f), free(d), free(z), free(v);
        return -1;
    }
    for (int c = 0; c < bn[2]; c++)
        for (int b = 0; b < bn[1]; b++)
            for (int a = 0; a < bn[0]; a++) {
                long i = (long)lo[0] + a - 1, j = (long)lo[1] + b - 1, k = (long)lo[2] + c - 1;
                int inside =
                    i >= 0 && j >= 0 && k >= 0 && (size_t)i < nx && (size_t)j < ny &&
                    (size_t)k < nz &&
                    in_set(L[(size_t)i + nx * ((size_t)j + ny * (size_t)k)], h->labels, h->n);
                g[a + (size_t)bn[0] * (b + (size_t)bn[1] * c)] = inside ? 1e20f : 0.0f;
            }
    size_t stride[3] = {1, (size_t)bn[0], (size_t)bn[0] * (size_t)bn[1]};
    for (int ax = 0; ax < 3; ax++) {
        int o1 = (ax + 1) % 3, o2 = (ax + 2) % 3;
        for (int p = 0; p < bn[o1]; p++)
            for (int q = 0; q < bn[o2]; q++) {
                size_t base = (size_t)p * stride[o1] + (size_t)q * stride[o2];
                for (int x = 0; x < bn[ax]; x++) f[x] = g[base + (size_t)x * stride[ax]];
                dt1(f, d, bn[ax], v, z);
                for (int x = 0; x < bn[ax]; x++) g[base + (size_t)x * stride[ax]] = d[x];
            }
    }
    double w = lab->spacing[0];
    for (int c = 1; c < bn[2] - 1; c++)
        for (int b = 1; b < bn[1] - 1; b++)
            for (int a = 1; a < bn[0] - 1; a++) {
                float sq = g[a + (size_t)bn[0] * (b + (size_t)bn[1] * c)];
                if (sq <= 0) continue;
                size_t i = lo[0] + (size_t)a - 1, j = lo[1] + (size_t)b - 1,
                       k = lo[2] + (size_t)c - 1;
                h->vox[h->nvox] = i + nx * (j + ny * k);
                h->dist[h->nvox] = (float)(sqrt((double)sq) * w);
                h->nvox++;
            }
    free(g), free(f), free(d), free(z), free(v);
    return 0;
}

/* Adds the host made of these label ids (if not there yet); returns its index, -1 on OOM. */
static int add_host(sb_lesions *L, const uint16_t *ids, int n, const char *name) {
    for (size_t h = 0; h < L->nhosts; h++)
        if (L->hosts[h].n == n && !memcmp(L->hosts[h].labels, ids, (size_t)n * sizeof *ids))
            return (int)h;
    host *nh = realloc(L->hosts, (L->nhosts + 1) * sizeof *nh);
    if (!nh) return -1;
    L->hosts = nh;
    host *h = &L->hosts[L->nhosts];
    memset(h, 0, sizeof *h);
    memcpy(h->labels, ids, (size_t)n * sizeof *ids);
    h->n = n;
    snprintf(h->name, sizeof h->name, "%s", name);
    return (int)L->nhosts++;
}

/* The hosts of type t present in the subject's label table: their indices into L->hosts. */
static int type_hosts(sb_lesions *L, const lesion_type *t, const sb_label_table *tab, int *out,
                      int max) {
    int n = 0;
    for (int e = 0; e < t->nhosts; e++) {
        const host_entry *he = &t->hosts[e];
        size_t len = strlen(he->names[0]);
        if (he->n == 1 && len && he->names[0][len - 1] == '*') {
            for (size_t i = 0; i < tab->count && n < max; i++)
                if (!strncmp(tab->labels[i].name, he->names[0], len - 1)) {
                    uint16_t id = (uint16_t)tab->labels[i].id;
                    int h = add_host(L, &id, 1, tab->labels[i].name);
                    if (h < 0) return -1;
                    out[n++] = h;
                }
            continue;
        }
        uint16_t ids[MAX_GROUP_LABELS];
        int k = 0;
        for (int m = 0; m < he->n; m++) {
            const sb_label *lb = sb_labels_find_name(tab, he->names[m]);
            if (lb) ids[k++] = (uint16_t)lb->id;
        }
        if (!k || !sb_labels_find_name(tab, he->names[0]) || n >= max) continue;
        int h = add_host(L, ids, k, he->names[0]);
        if (h < 0) return -1;
        out[n++] = h;
    }
    return n;
}

static void world_of(const sb_volume *v, size_t n, double p[3]) {
    size_t i = n % v->dim[0], j = (n / v->dim[0]) % v->dim[1], k = n / (v->dim[0] * v->dim[1]);
    double ijk[3] = {(double)i, (double)j, (double)k};
    sb_volume_to_world(v, ijk, p);
}

/* How far a lesion's painting reaches from its centre (mm): its largest radius, or its oedema's. */
static double lesion_reach(const lesion *les) {
    return les->rmax * (les->oedema_s > 0 ? les->oedema_s : 1);
}

/* Places lesion les (shape drawn) in one of the hosts hs, clear of the lesions placed; 1 if
 * placed. */
static int place(sb_lesions *L, lesion *les, const int *hs, int nh, const sb_volume *plan,
                 sb_rng *rng) {
    const double w = plan->spacing[0];
    const double margin = 0.5 * w + 0.25 * w * sqrt(3.0); /* voxel half-width + jitter */
    double reach = lesion_reach(les);
    size_t eligible = 0;
    for (int h = 0; h < nh; h++)
        for (size_t v = 0; v < L->hosts[hs[h]].nvox; v++)
            eligible += L->hosts[hs[h]].dist[v] >= les->rmax + margin;
    if (!eligible) return 0;
    for (int attempt = 0; attempt < TRIES; attempt++) {
        size_t pick = (size_t)(sb_rng_uniform(rng) * (double)eligible);
        double jit[3];
        for (int a = 0; a < 3; a++) jit[a] = sb_rng_range(rng, -0.25 * w, 0.25 * w);
        int hh = -1;
        size_t vox = 0;
        for (int h = 0; h < nh && hh < 0; h++) {
            const host *H = &L->hosts[hs[h]];
            for (size_t v = 0; v < H->nvox; v++)
                if (H->dist[v] >= les->rmax + margin && pick-- == 0) {
                    hh = hs[h], vox = H->vox[v];
                    break;
                }
        }
        if (hh < 0) return 0;
        double c[3];
        world_of(plan, vox, c);
        for (int a = 0; a < 3; a++) c[a] += jit[a];
        int clash = 0;
        for (size_t o = 0; o < L->n && !clash; o++) {
            const lesion *q = &L->l[o];
            if (!q->placed || q == les) continue;
            double qr = lesion_reach(q);
            double dd =
                sqrt((c[0] - q->c[0]) * (c[0] - q->c[0]) + (c[1] - q->c[1]) * (c[1] - q->c[1]) +
                     (c[2] - q->c[2]) * (c[2] - q->c[2]));
            clash = dd < reach + qr + 2.0;
        }
        if (clash) continue;
        memcpy(les->c, c, sizeof c);
        les->host = hh;
        for (int a = 0; a < 3; a++)
            les->bbox[0][a] = c[a] - reach - 1, les->bbox[1][a] = c[a] + reach + 1;
        return 1;
    }
    return 0;
}

/* The first draws of a subject's LESION stream: each item's count, and each diffuse change's
 * value, applied to s (liver_fat set; a resize of the structure set, replacing one of the same
 * name, so that applying twice is applying once). text: what was applied. */
static sb_status draw_counts(const sb_lesion_catalog *c, const spec_item *items, int nitems,
                             sb_rng *rng, sb_subject *s, int *counts, int *total, char *text,
                             size_t ntext, sb_error *err) {
    *total = 0;
    text[0] = '\0'; /* ntext >= 1 */
    size_t o = 0;
    for (int i = 0; i < nitems; i++) {
        const lesion_type *t = &c->t[items[i].type];
        counts[i] = items[i].lo + (int)(sb_rng_uniform(rng) * (items[i].hi - items[i].lo + 1));
        if (counts[i] > items[i].hi) counts[i] = items[i].hi;
        if (!t->diffuse) {
            *total += counts[i];
            continue;
        }
        double v = sb_rng_range(rng, t->range[0], t->range[1]);
        if (!counts[i]) continue;
        if (t->diffuse == DIFFUSE_LIVER_FAT) {
            s->liver_fat = v;
            snprintf(text + o, ntext - o, "%s%s liver_fat=%.4f", o ? "; " : "", t->name, v);
            o = strlen(text);
            continue;
        }
        int r = 0;
        while (r < s->nresize && strcmp(s->resize[r].name, t->structure)) r++;
        if (r == SB_RESIZE_MAX)
            return sb_error_set(err, SB_ERR_USAGE, "--lesions: more than %d structures resized",
                                SB_RESIZE_MAX);
        if (r == s->nresize) s->nresize++;
        snprintf(s->resize[r].name, sizeof s->resize[r].name, "%s", t->structure);
        s->resize[r].factor = v;
        snprintf(text + o, ntext - o, "%s%s %s x%.4f", o ? "; " : "", t->name, t->structure, v);
        o = strlen(text);
    }
    return SB_OK;
}

sb_status sb_lesions_apply_diffuse(const sb_lesion_catalog *c, const char *spec,
                                   uint64_t lesion_seed, sb_subject *s, sb_error *err) {
    spec_item items[MAX_TYPES];
    int nitems, counts[MAX_TYPES], total;
    sb_status st = parse_spec(c, spec, items, &nitems, err);
    if (st) return st;
    sb_rng rng;
    sb_rng_init(&rng, lesion_seed, s->subject, SB_STREAM_LESION);
    char text[256];
    return draw_counts(c, items, nitems, &rng, s, counts, &total, text, sizeof text, err);
}

sb_status sb_lesions_plan(const sb_lesion_catalog *c, const char *spec, uint64_t lesion_seed,
                          const sb_anatomy *a, sb_subject *s, const sb_ctx *ctx, sb_lesions **out,
                          sb_error *err) {
    *out = NULL;
    spec_item items[MAX_TYPES];
    int nitems;
    sb_status st = parse_spec(c, spec, items, &nitems, err);
    if (st) return st;
    sb_lesions *L = calloc(1, sizeof *L);
    if (!L) return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    L->cat = c;
    sb_label_table *tab = NULL;
    sb_anatomy_maps plan = {0};
    sb_rng rng;
    sb_rng_init(&rng, lesion_seed, s->subject, SB_STREAM_LESION);
    int counts[MAX_TYPES], total = 0;
    st = draw_counts(c, items, nitems, &rng, s, counts, &total, L->diffuse, sizeof L->diffuse, err);
    if (!st && total) {
        st = sb_anatomy_label_table(a, s->sex, &tab, err);
        if (!st) st = sb_anatomy_voxelize_maps(a, s, PLAN_VOXEL_MM, SB_MAP_LABELS, ctx, &plan, err);
        L->l = st ? NULL : calloc((size_t)total, sizeof *L->l);
        if (!st && !L->l) st = sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    }
    /* 1. every lesion's size and shape, in request order (its id order) */
    int hs[MAX_TYPES][64], nh[MAX_TYPES];
    for (int i = 0; i < nitems && !st; i++) {
        const int ti = items[i].type;
        const lesion_type *t = &c->t[ti];
        nh[i] = 0;
        if (t->diffuse || !counts[i]) continue;
        nh[i] = type_hosts(L, t, tab, hs[i], 64);
        if (nh[i] < 0) {
            st = sb_error_set(err, SB_ERR_MEMORY, "out of memory");
            break;
        }
        for (int h = 0; h < nh[i] && !st; h++)
            if (!L->hosts[hs[i][h]].vox && host_distances(&L->hosts[hs[i][h]], plan.labels))
                st = sb_error_set(err, SB_ERR_MEMORY, "out of memory");
        int klass = 0;
        for (int k = 0; k <= ti; k++) klass += !c->t[k].diffuse;
        if (t->has_oedema && !L->noedema[ti])
            for (int k = 0; k < t->noedema_in; k++) {
                const sb_label *lb = sb_labels_find_name(tab, t->oedema_in[k]);
                if (lb) L->oedema_labels[ti][L->noedema[ti]++] = (uint16_t)lb->id;
            }
        for (int n = 0; n < counts[i] && !st; n++) {
            lesion *les = &L->l[L->n++];
            memset(les, 0, sizeof *les);
            les->type = ti, les->class_id = klass, les->item = i;
            double d = sb_rng_range(&rng, t->diam[0], t->diam[1] + 1e-12);
            les->oedema_s =
                t->has_oedema ? sb_rng_range(&rng, t->oedema_extent[0], t->oedema_extent[1] + 1e-12)
                              : 0;
            draw_shape(les, t, d, &rng);
            les->d = d;
        }
    }
    /* 2. places, the largest reach first (a large lesion needs the deep parts of its host,
     * which small ones placed before it would take); a lesion without room shrinks by 15 %
     * steps to its type's smallest diameter, then is left out */
    size_t *order = st || !L->n ? NULL : malloc(L->n * sizeof *order);
    if (!st && L->n && !order) st = sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    for (size_t k = 0; order && k < L->n; k++) {
        size_t m = k; /* insertion sort: reach descending, id ascending on ties */
        while (m > 0 && lesion_reach(&L->l[order[m - 1]]) < lesion_reach(&L->l[k])) {
            order[m] = order[m - 1];
            m--;
        }
        order[m] = k;
    }
    for (size_t k = 0; order && k < L->n; k++) {
        lesion *les = &L->l[order[k]];
        const lesion_type *t = &c->t[les->type];
        double d = les->d;
        const int i = les->item;
        for (int shrink = 0; !les->placed && shrink < 8; shrink++) {
            if (shrink) { /* no room: a smaller lesion of the same shape */
                double nd = d * pow(0.85, shrink);
                if (nd < t->diam[0]) nd = t->diam[0];
                double f = nd / d;
                for (int ax = 0; ax < 3; ax++) les->axes[ax] *= f;
                les->rmax *= f;
                d = nd;
                les->d = d;
            }
            les->core_s = t->core_tissue && d >= t->core_min_d ? t->core_fraction : 0;
            les->placed = nh[i] > 0 && place(L, les, hs[i], nh[i], plan.labels, &rng);
            if (d <= t->diam[0]) break;
        }
    }
    free(order);
    /* 3. the placed ones keep their order (ids 1..); a warning per type for the others */
    int placed[MAX_TYPES] = {0};
    size_t kept = 0;
    for (size_t k = 0; !st && k < L->n; k++)
        if (L->l[k].placed) placed[L->l[k].item]++, L->l[kept++] = L->l[k];
    if (!st) L->n = kept;
    for (int i = 0; i < nitems && !st; i++) {
        const lesion_type *t = &c->t[items[i].type];
        if (!t->diffuse && placed[i] < counts[i])
            sb_log(ctx, SB_LOG_WARN, "%s: %d of %d lesions found room in %s", t->name, placed[i],
                   counts[i], nh[i] ? "their hosts" : "this subject (no host structure present)");
    }
    sb_anatomy_maps_free(&plan);
    sb_labels_free(tab);
    if (st) {
        sb_lesions_free(L);
        return st;
    }
    /* the plan grid's distances are not needed any more */
    for (size_t h = 0; h < L->nhosts; h++) {
        free(L->hosts[h].vox), free(L->hosts[h].dist);
        L->hosts[h].vox = NULL, L->hosts[h].dist = NULL, L->hosts[h].nvox = 0;
    }
    *out = L;
    return SB_OK;
}

/* ---- painting ------------------------------------------------------------------------------- */
sb_status sb_lesions_paint(sb_lesions *L, sb_anatomy_maps *m, size_t k0, sb_volume **instance,
                           sb_volume **classes, sb_error *err) {
    *instance = *classes = NULL;
    const sb_volume *lab = m->labels;
    if (!lab || !m->tissues || lab->dtype != SB_DT_UINT16)
        return sb_error_set(err, SB_ERR_INTERNAL, "lesions: the slab has no label or tissue map");
    sb_status s = sb_volume_create(lab->dim, lab->spacing, SB_DT_UINT16, instance, err);
    if (!s) s = sb_volume_create(lab->dim, lab->spacing, SB_DT_UINT8, classes, err);
    if (s) {
        sb_volume_free(*instance), *instance = NULL;
        return s;
    }
    memcpy((*instance)->affine, lab->affine, sizeof lab->affine);
    memcpy((*classes)->affine, lab->affine, sizeof lab->affine);
    (void)k0;
    uint16_t *inst = (*instance)->data;
    uint8_t *cls = (*classes)->data;
    const uint16_t *labels = lab->data;
    uint8_t *tis = m->tissues->data;
    uint8_t *pvt = m->pv_tissue ? m->pv_tissue->data : NULL;
    uint8_t *pvf = m->pv_frac ? m->pv_frac->data : NULL;
    const size_t nx = lab->dim[0], ny = lab->dim[1], nz = lab->dim[2];
    const double w = lab->spacing[0];
    if (L->voxel_mm == 0) L->voxel_mm = w;
    const uint8_t oedema_class = (uint8_t)(L->cat->nfocal + 1);
    const uint8_t oedema_tissue = (uint8_t)L->cat->oedema_tissue;
    /* world -> voxel of this slab (axis-aligned affine) */
    for (size_t id = 0; id < L->n; id++) {
        lesion *les = &L->l[id];
        const lesion_type *t = &L->cat->t[les->type];
        const host *H = &L->hosts[les->host];
        long lo[3], hi[3];
        for (int a = 0; a < 3; a++) {
            double o = lab->affine[a][3], sp = lab->affine[a][a];
            lo[a] = (long)floor((les->bbox[0][a] - o) / sp);
            hi[a] = (long)ceil((les->bbox[1][a] - o) / sp);
            long n = (long)lab->dim[a];
            if (lo[a] < 0) lo[a] = 0;
            if (hi[a] > n - 1) hi[a] = n - 1;
        }
        if (lo[2] > hi[2] || lo[0] > hi[0] || lo[1] > hi[1]) continue;
        for (long k = lo[2]; k <= hi[2]; k++)
            for (long j = lo[1]; j <= hi[1]; j++)
                for (long i = lo[0]; i <= hi[0]; i++) {
                    size_t n = (size_t)i + nx * ((size_t)j + ny * (size_t)k);
                    if (inst[n] || cls[n]) continue;
                    double p[3], ijk[3] = {(double)i, (double)j, (double)k};
                    sb_volume_to_world(lab, ijk, p);
                    double dist, sv = lesion_s(les, p, &dist);
                    uint16_t lb = labels[n];
                    if (sv < 1 && in_set(lb, H->labels, H->n)) {
                        uint8_t host_t = tis[n];
                        uint8_t lt = (uint8_t)(sv < les->core_s      ? t->core_tissue
                                               : -dist < les->rim_mm ? t->rim_tissue
                                                                     : t->tissue);
                        tis[n] = lt;
                        inst[n] = (uint16_t)(id + 1);
                        cls[n] = (uint8_t)les->class_id;
                        if (pvt && pvf) {
                            double f = 0.5 - dist / w;
                            long q = lround(255 * f);
                            if (q < 255 && host_t != lt) { /* the surface crosses the voxel */
                                pvt[n] = host_t;
                                pvf[n] = (uint8_t)q;
                            } else if (t->het_tissue && lt == t->tissue) {
                                /* heterogeneity: part of the voxel is het_tissue */
                                long h = lround(255 * (1 - t->het_amount * lesion_field(les, p)));
                                pvt[n] = (uint8_t)(h < 255 ? t->het_tissue : lt);
                                pvf[n] = (uint8_t)(h < 255 ? h : 255);
                            } else {
                                pvt[n] = lt, pvf[n] = 255;
                            }
                        }
                        les->voxels++;
                        les->sum[0] += p[0], les->sum[1] += p[1], les->sum[2] += p[2];
                    } else if (sv >= 1 && dist < 0.5 * w && pvt && pvf && pvf[n] == 255 &&
                               in_set(lb, H->labels, H->n)) {
                        /* the host voxel the surface crosses: shares it with the lesion */
                        long q = lround(255 * (0.5 + dist / w));
                        if (q < 255 && tis[n] != t->tissue)
                            pvt[n] = (uint8_t)t->tissue, pvf[n] = (uint8_t)q;
                    } else if (sv >= 1 && les->oedema_s > 0 && sv < les->oedema_s &&
                               in_set(lb, L->oedema_labels[les->type], L->noedema[les->type])) {
                        tis[n] = oedema_tissue;
                        if (pvt && pvf && pvf[n] == 255) pvt[n] = oedema_tissue;
                        cls[n] = oedema_class;
                        les->oedema_voxels++;
                    }
                }
    }
    (void)nz;
    return SB_OK;
}

void sb_lesions_info(const sb_lesions *L, size_t i, sb_lesion_info *out) {
    memset(out, 0, sizeof *out);
    if (i >= L->n) return;
    const lesion *les = &L->l[i];
    out->id = (int)i + 1;
    snprintf(out->type, sizeof out->type, "%s", L->cat->t[les->type].name);
    snprintf(out->host, sizeof out->host, "%s", L->hosts[les->host].name);
    out->class_id = les->class_id;
    out->voxels = les->voxels;
    double vv = L->voxel_mm * L->voxel_mm * L->voxel_mm;
    out->volume_ml = (double)les->voxels * vv / 1000;
    for (int a = 0; a < 3; a++)
        out->centroid_mm[a] = les->voxels ? les->sum[a] / (double)les->voxels : les->c[a];
    out->diameter_mm = cbrt(6 * (double)les->voxels * vv / 3.14159265358979323846);
    out->max_diameter_mm = 2 * les->rmax / 1.03;
    out->model_diameter_mm = les->d;
    const host *H = &L->hosts[les->host];
    for (int k = 0; k < H->n && k < 8; k++) out->host_labels[k] = H->labels[k];
    out->nhost_labels = H->n < 8 ? H->n : 8;
    out->oedema_ml = (double)les->oedema_voxels * vv / 1000;
}
