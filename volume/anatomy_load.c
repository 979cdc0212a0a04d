/* anatomy_load.c — reads anatomy descriptions (JSON, format in the README) into an
 * sb_anatomy: landmarks, named shapes and structures with compiled shape trees. Every error
 * names the file and the JSON path of the field at fault. Mirror structures are expanded
 * into right and left copies here. */
#define _POSIX_C_SOURCE 200809L /* sysconf, POSIX threads */
#include "anatomy_internal.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *const sb_anatomy_param_names[P_COUNT] = {
    "skin_mm",        "fat_trunk_mm", "fat_hip_mm", "fat_limb_mm",  "fat_head_mm",
    "fat_breast_mm",  "breast_mm",    "vat_mm",     "muscle_scale", "pelvis_scale",
    "shoulder_scale", "head_scale",   "csf_mm"};

static const char *const GROUPS[] = {
    "skin",        "fat",       "muscle",  "skeleton",     "nervous",  "cardiovascular",
    "respiratory", "digestive", "urinary", "reproductive", "endocrine"};

typedef struct {
    const char *file;
    sb_error *err;
} ctx_t;

/* snprintf for JSON paths and names: truncation is harmless (messages) or excluded by
 * earlier length checks (names), and a function hides it from -Wformat-truncation. */
static void pathf(char *out, size_t n, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
static void pathf(char *out, size_t n, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out, n, fmt, ap);
    va_end(ap);
}

static sb_status bad(ctx_t *c, const char *path, const char *what) {
    return sb_error_set(c->err, SB_ERR_INPUT, "%s: %s: %s", c->file, path, what);
}

int anat_find_landmark(const sb_anatomy *a, const char *name) {
    for (int i = 0; i < a->nlandmarks; i++)
        if (!strcmp(a->landmarks[i].name, name)) return i;
    return -1;
}

int anat_find_shape(const sb_anatomy *a, const char *name) {
    for (int i = 0; i < a->nshapes; i++)
        if (!strcmp(a->shapes[i].name, name)) return i;
    return -1;
}

/* ---- numbers ------------------------------------------------------------------------------- */
static sb_status parse_num(ctx_t *c, const cJSON *j, const char *path, sdf_num *out) {
    out->param = -1;
    if (cJSON_IsNumber(j)) {
        out->k = j->valuedouble;
        if (!isfinite(out->k)) return bad(c, path, "not a finite number");
        return SB_OK;
    }
    if (!cJSON_IsString(j)) return bad(c, path, "expected a number or \"k*parameter\"");
    const char *s = j->valuestring, *star = strchr(s, '*');
    double k = 1.0;
    const char *name = s;
    if (s[0] == '-' && !star) {
        k = -1.0;
        name = s + 1;
    } else if (star) {
        char *end;
        k = strtod(s, &end);
        if (end != star || !isfinite(k)) return bad(c, path, "expected \"k*parameter\"");
        name = star + 1;
    }
    for (int p = 0; p < P_COUNT; p++)
        if (!strcmp(name, sb_anatomy_param_names[p])) {
            out->k = k;
            out->param = p;
            return SB_OK;
        }
    char msg[160];
    pathf(msg, sizeof msg, "unknown subject parameter \"%s\"", name);
    return bad(c, path, msg);
}

static sb_status parse_vec(ctx_t *c, const cJSON *j, const char *path, sdf_num *out, int n) {
    if (!cJSON_IsArray(j) || cJSON_GetArraySize(j) != n) {
        char msg[64];
        pathf(msg, sizeof msg, "expected an array of %d numbers", n);
        return bad(c, path, msg);
    }
    for (int i = 0; i < n; i++) {
        char sub[512];
        pathf(sub, sizeof sub, "%s[%d]", path, i);
        sb_status s = parse_num(c, cJSON_GetArrayItem(j, i), sub, &out[i]);
        if (s) return s;
    }
    return SB_OK;
}

static sb_status field(ctx_t *c, const cJSON *obj, const char *key, const char *path,
                       const cJSON **out) {
    *out = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!*out) {
        char msg[96];
        pathf(msg, sizeof msg, "missing field \"%s\"", key);
        return bad(c, path, msg);
    }
    return SB_OK;
}

/* rot [rx, ry, rz] degrees -> world-to-local matrix R^T with R = Rz Ry Rx. */
static void set_rotation(sdf_node *nd, const double deg[3]) {
    double a = deg[0] * M_PI / 180, b = deg[1] * M_PI / 180, g = deg[2] * M_PI / 180;
    double ca = cos(a), sa = sin(a), cb = cos(b), sb = sin(b), cg = cos(g), sg = sin(g);
    double R[3][3] = {{cg * cb, cg * sb * sa - sg * ca, cg * sb * ca + sg * sa},
                      {sg * cb, sg * sb * sa + cg * ca, sg * sb * ca - cg * sa},
                      {-sb, cb * sa, cb * ca}};
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) nd->rot[i][j] = R[j][i];
    nd->has_rot = deg[0] != 0 || deg[1] != 0 || deg[2] != 0;
}

/* ---- shapes -------------------------------------------------------------------------------- */
static sb_status parse_shape(ctx_t *c, const sb_anatomy *a, sdf_tree *t, int idx, const cJSON *j,
                             const char *path, int anchor);

static sb_status parse_children(ctx_t *c, const sb_anatomy *a, sdf_tree *t, int idx,
                                const cJSON *arr, const char *path, int anchor, int min) {
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) < min) {
        char msg[64];
        pathf(msg, sizeof msg, "expected an array of at least %d shapes", min);
        return bad(c, path, msg);
    }
    int n = cJSON_GetArraySize(arr), first = -1;
    for (int i = 0; i < n; i++) { /* children are contiguous: reserve them first */
        int k = sdf_tree_add(t, SDF_UNION);
        if (k < 0) return sb_error_set(c->err, SB_ERR_MEMORY, "out of memory");
        if (i == 0) first = k;
    }
    t->nodes[idx].first = first;
    t->nodes[idx].count = n;
    for (int i = 0; i < n; i++) {
        char sub[512];
        pathf(sub, sizeof sub, "%s[%d]", path, i);
        sb_status s = parse_shape(c, a, t, first + i, cJSON_GetArrayItem(arr, i), sub, anchor);
        if (s) return s;
    }
    return SB_OK;
}

typedef struct {
    const char *name;
    sdf_kind kind;
    const char *fields[4]; /* vector fields (V3) then scalars, in v[] order */
    int sizes[4];
    int optional_rot;
} prim_spec;

static const prim_spec PRIMS[] = {
    {"sphere", SDF_SPHERE, {"c", "r"}, {3, 1}, 0},
    {"ellipsoid", SDF_ELLIPSOID, {"c", "r"}, {3, 3}, 1},
    {"superquadric", SDF_SUPERQUADRIC, {"c", "r", "e"}, {3, 3, 2}, 1},
    {"box", SDF_BOX, {"c", "h", "round"}, {3, 3, 1}, 1},
    {"capsule", SDF_CAPSULE, {"a", "b", "r"}, {3, 3, 2}, 0},
    {"torus", SDF_TORUS, {"c", "R", "r"}, {3, 1, 1}, 1},
    {"halfspace", SDF_HALFSPACE, {"p", "n"}, {3, 3}, 0},
};

static sb_status parse_prim(ctx_t *c, sdf_node *nd, const prim_spec *ps, const cJSON *body,
                            const char *path) {
    if (!cJSON_IsObject(body)) return bad(c, path, "expected an object");
    int k = 0;
    for (int f = 0; f < 4 && ps->fields[f]; f++) {
        char sub[512];
        pathf(sub, sizeof sub, "%s.%s", path, ps->fields[f]);
        const cJSON *j = cJSON_GetObjectItemCaseSensitive(body, ps->fields[f]);
        sb_status s;
        if (!j && !strcmp(ps->fields[f], "round")) { /* optional, 0 */
            nd->num[k].k = 0, nd->num[k].param = -1;
            k++;
            continue;
        }
        if (!j) return bad(c, sub, "missing");
        if (ps->sizes[f] == 1) {
            s = parse_num(c, j, sub, &nd->num[k]);
        } else if (ps->kind == SDF_CAPSULE && !strcmp(ps->fields[f], "r") && !cJSON_IsArray(j)) {
            s = parse_num(c, j, sub, &nd->num[k]); /* one radius for both ends */
            nd->num[k + 1] = nd->num[k];
        } else {
            s = parse_vec(c, j, sub, &nd->num[k], ps->sizes[f]);
        }
        if (s) return s;
        k += ps->sizes[f];
    }
    nd->nnum = k;
    const cJSON *rot = cJSON_GetObjectItemCaseSensitive(body, "rot");
    if (rot) {
        char sub[512];
        pathf(sub, sizeof sub, "%s.rot", path);
        if (!ps->optional_rot) return bad(c, sub, "this shape takes no rotation");
        if (!cJSON_IsArray(rot) || cJSON_GetArraySize(rot) != 3)
            return bad(c, sub, "expected [rx, ry, rz] in degrees");
        double deg[3];
        for (int i = 0; i < 3; i++) {
            const cJSON *x = cJSON_GetArrayItem(rot, i);
            if (!cJSON_IsNumber(x)) return bad(c, sub, "expected numbers");
            deg[i] = x->valuedouble;
        }
        set_rotation(nd, deg);
    }
    /* positive sizes where they must be */
    for (int i = 0; i < nd->nnum; i++)
        if (nd->num[i].param < 0 && ps->kind != SDF_HALFSPACE && i >= 3 && nd->num[i].k < 0 &&
            ps->kind != SDF_CAPSULE)
            return bad(c, path, "sizes must not be negative");
    return SB_OK;
}

static sb_status parse_tube(ctx_t *c, sdf_node *nd, const cJSON *body, const char *path) {
    const cJSON *pts;
    sb_status s = field(c, body, "points", path, &pts);
    if (s) return s;
    int n = cJSON_IsArray(pts) ? cJSON_GetArraySize(pts) : 0;
    if (n < 2) return bad(c, path, "a tube needs at least 2 points [x, y, z, r]");
    nd->raw_pts_num = calloc((size_t)n * 4, sizeof *nd->raw_pts_num);
    if (!nd->raw_pts_num) return sb_error_set(c->err, SB_ERR_MEMORY, "out of memory");
    nd->nraw = n;
    for (int i = 0; i < n; i++) {
        char sub[512];
        pathf(sub, sizeof sub, "%s.points[%d]", path, i);
        if ((s = parse_vec(c, cJSON_GetArrayItem(pts, i), sub, nd->raw_pts_num + 4 * i, 4)))
            return s;
    }
    const cJSON *cl = cJSON_GetObjectItemCaseSensitive(body, "closed");
    nd->closed = cJSON_IsTrue(cl);
    if (nd->closed && n < 3) return bad(c, path, "a closed tube needs at least 3 points");
    return SB_OK;
}

static sb_status parse_shape(ctx_t *c, const sb_anatomy *a, sdf_tree *t, int idx, const cJSON *j,
                             const char *path, int anchor) {
    if (!cJSON_IsObject(j) || cJSON_GetArraySize(j) != 1)
        return bad(c, path, "a shape is an object with exactly one key");
    const cJSON *body = j->child;
    const char *key = body->string;
    char sub[512];
    pathf(sub, sizeof sub, "%s.%s", path, key);
    for (size_t i = 0; i < sizeof PRIMS / sizeof PRIMS[0]; i++)
        if (!strcmp(key, PRIMS[i].name)) {
            t->nodes[idx].kind = PRIMS[i].kind;
            return parse_prim(c, &t->nodes[idx], &PRIMS[i], body, sub);
        }
    sdf_node *nd = &t->nodes[idx];
    sb_status s;
    if (!strcmp(key, "tube")) {
        nd->kind = SDF_TUBE;
        return parse_tube(c, nd, body, sub);
    }
    if (!strcmp(key, "union") || !strcmp(key, "intersect") || !strcmp(key, "difference")) {
        nd->kind = key[0] == 'u' ? SDF_UNION : key[0] == 'i' ? SDF_INTERSECT : SDF_DIFFERENCE;
        return parse_children(c, a, t, idx, body, sub, anchor, key[0] == 'd' ? 2 : 1);
    }
    if (!strcmp(key, "smooth_union") || !strcmp(key, "shell") || !strcmp(key, "offset")) {
        const char *nk = key[1] == 'm' ? "k" : key[0] == 's' ? "t" : "d";
        nd->kind = key[1] == 'm' ? SDF_SMOOTH_UNION : key[0] == 's' ? SDF_SHELL : SDF_OFFSET;
        const cJSON *x, *of;
        char sub2[600];
        pathf(sub2, sizeof sub2, "%s.%s", sub, nk);
        if ((s = field(c, body, nk, sub, &x)) || (s = parse_num(c, x, sub2, &nd->num[0]))) return s;
        nd->nnum = 1;
        pathf(sub2, sizeof sub2, "%s.of", sub);
        if ((s = field(c, body, "of", sub, &of))) return s;
        if (nd->kind == SDF_SMOOTH_UNION) return parse_children(c, a, t, idx, of, sub2, anchor, 1);
        cJSON *one = cJSON_CreateArray(); /* wrap the single child */
        if (!one) return sb_error_set(c->err, SB_ERR_MEMORY, "out of memory");
        cJSON_AddItemReferenceToArray(one, (cJSON *)of);
        s = parse_children(c, a, t, idx, one, sub2, anchor, 1);
        cJSON_Delete(one);
        return s;
    }
    if (!strcmp(key, "mirror_x")) {
        nd->kind = SDF_MIRROR_X;
        cJSON *one = cJSON_CreateArray();
        if (!one) return sb_error_set(c->err, SB_ERR_MEMORY, "out of memory");
        cJSON_AddItemReferenceToArray(one, (cJSON *)body);
        s = parse_children(c, a, t, idx, one, sub, anchor, 1);
        cJSON_Delete(one);
        return s;
    }
    if (!strcmp(key, "ref")) {
        if (!cJSON_IsString(body)) return bad(c, sub, "expected a shape name");
        int k = anat_find_shape(a, body->valuestring);
        if (k < 0) {
            char msg[128];
            pathf(msg, sizeof msg, "no named shape \"%s\" (define it under \"shapes\" first)",
                  body->valuestring);
            return bad(c, sub, msg);
        }
        t->nodes[idx].kind = SDF_REF;
        t->nodes[idx].first = k;
        t->nodes[idx].count = 0;
        if (anchor >= 0) { /* anchored coordinates: the named shape is met at point + anchor */
            t->nodes[idx].nnum = 3;
            for (int i = 0; i < 3; i++) {
                t->nodes[idx].num[i].k = a->landmarks[anchor].p[i];
                t->nodes[idx].num[i].param = -1;
            }
        }
        return SB_OK;
    }
    char msg[128];
    pathf(msg, sizeof msg, "unknown shape \"%s\"", key);
    return bad(c, path, msg);
}

static sb_status parse_tree(ctx_t *c, const sb_anatomy *a, const cJSON *j, const char *path,
                            int anchor, sdf_tree *t) {
    memset(t, 0, sizeof *t);
    t->root = sdf_tree_add(t, SDF_UNION);
    if (t->root < 0) return sb_error_set(c->err, SB_ERR_MEMORY, "out of memory");
    return parse_shape(c, a, t, t->root, j, path, anchor);
}

int sdf_tree_copy(sdf_tree *dst, const sdf_tree *src) {
    memset(dst, 0, sizeof *dst);
    dst->nodes = malloc((size_t)src->n * sizeof *dst->nodes);
    if (!dst->nodes) return 0;
    memcpy(dst->nodes, src->nodes, (size_t)src->n * sizeof *dst->nodes);
    dst->n = dst->cap = src->n;
    dst->root = src->root;
    for (int i = 0; i < src->n; i++) {
        sdf_node *nd = &dst->nodes[i];
        nd->pts = NULL;
        nd->raw_pts = NULL;
        nd->raw_pts_num = NULL;
    }
    for (int i = 0; i < src->n; i++) {
        const sdf_node *s = &src->nodes[i];
        if (!s->raw_pts_num) continue;
        size_t bytes = (size_t)s->nraw * 4 * sizeof(sdf_num);
        dst->nodes[i].raw_pts_num = malloc(bytes);
        if (!dst->nodes[i].raw_pts_num) {
            sdf_tree_free(dst);
            return 0;
        }
        memcpy(dst->nodes[i].raw_pts_num, s->raw_pts_num, bytes);
    }
    return 1;
}

/* ---- structures ---------------------------------------------------------------------------- */
static int group_valid(const char *g) {
    for (size_t i = 0; i < sizeof GROUPS / sizeof GROUPS[0]; i++)
        if (!strcmp(g, GROUPS[i])) return 1;
    return 0;
}

static sb_status get_string(ctx_t *c, const cJSON *obj, const char *key, const char *path,
                            char *out, size_t n, int required) {
    const cJSON *j = cJSON_GetObjectItemCaseSensitive(obj, key);
    char sub[512];
    pathf(sub, sizeof sub, "%s.%s", path, key);
    if (!j) return required ? bad(c, sub, "missing") : SB_OK;
    if (!cJSON_IsString(j) || strlen(j->valuestring) >= n)
        return bad(c, sub, "expected a short string");
    memcpy(out, j->valuestring, strlen(j->valuestring) + 1);
    return SB_OK;
}

static sb_status add_struct(sb_anatomy *a, const anat_structure *s, sb_error *err) {
    anat_structure *p = realloc(a->structs, (size_t)(a->nstructs + 1) * sizeof *p);
    if (!p) return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    a->structs = p;
    a->structs[a->nstructs++] = *s;
    return SB_OK;
}

static sb_status parse_structure(ctx_t *c, sb_anatomy *a, const cJSON *j, const char *path) {
    anat_structure s;
    memset(&s, 0, sizeof s);
    pathf(s.file, sizeof s.file, "%s", c->file);
    s.sex = -1;
    s.anchor = -1;
    s.within = -1;
    sb_status st;
    if (!cJSON_IsObject(j)) return bad(c, path, "expected an object");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
    if (!cJSON_IsNumber(id) || id->valuedouble != floor(id->valuedouble) || id->valuedouble < 1 ||
        id->valuedouble > 65534)
        return bad(c, path, "\"id\" must be an integer 1..65534");
    s.label.id = (int)id->valuedouble;
    char color[16] = "", sex[16] = "", anchor[64] = "", within[64] = "", scal[16] = "bsa";
    if ((st = get_string(c, j, "name", path, s.label.name, sizeof s.label.name, 1)) ||
        (st = get_string(c, j, "abbrev", path, s.label.abbrev, sizeof s.label.abbrev, 0)) ||
        (st = get_string(c, j, "group", path, s.label.group, sizeof s.label.group, 1)) ||
        (st = get_string(c, j, "tissue", path, s.label.tissue, sizeof s.label.tissue, 1)) ||
        (st = get_string(c, j, "color", path, color, sizeof color, 1)) ||
        (st = get_string(c, j, "sex", path, sex, sizeof sex, 0)) ||
        (st = get_string(c, j, "anchor", path, anchor, sizeof anchor, 0)) ||
        (st = get_string(c, j, "within", path, within, sizeof within, 0)) ||
        (st = get_string(c, j, "scales_with", path, scal, sizeof scal, 0)))
        return st;
    char sub[600];
    pathf(sub, sizeof sub, "%s (%s)", path, s.label.name);
    if (!sb_label_name_valid(s.label.name) || strlen(s.label.name) > 56)
        return bad(c, sub, "name must be [A-Za-z][A-Za-z0-9_]*, at most 56 characters");
    if (!group_valid(s.label.group)) return bad(c, sub, "unknown group");
    if (!sb_tissue_find(s.label.tissue)) return bad(c, sub, "unknown tissue");
    unsigned r, g, b;
    if (strlen(color) != 7 || color[0] != '#' || strspn(color + 1, "0123456789abcdefABCDEF") != 6 ||
        sscanf(color, "#%2x%2x%2x", &r, &g, &b) != 3)
        return bad(c, sub, "color must be #rrggbb");
    s.label.rgba[0] = (uint8_t)r, s.label.rgba[1] = (uint8_t)g, s.label.rgba[2] = (uint8_t)b;
    s.label.rgba[3] = 255;
    if (sex[0]) {
        if (!strcmp(sex, "male"))
            s.sex = SB_SEX_MALE;
        else if (!strcmp(sex, "female"))
            s.sex = SB_SEX_FEMALE;
        else
            return bad(c, sub, "sex must be \"male\" or \"female\"");
    }
    s.scaling = !strcmp(scal, "none")     ? SCALE_NONE
                : !strcmp(scal, "height") ? SCALE_HEIGHT
                                          : SCALE_BSA;
    const cJSON *pr = cJSON_GetObjectItemCaseSensitive(j, "priority");
    if (!cJSON_IsNumber(pr)) return bad(c, sub, "\"priority\" (a number) is missing");
    s.priority = (int)pr->valuedouble;
    const cJSON *x;
    if ((x = cJSON_GetObjectItemCaseSensitive(j, "volume_ml"))) {
        if (!cJSON_IsArray(x) || cJSON_GetArraySize(x) != 2 ||
            !cJSON_IsNumber(cJSON_GetArrayItem(x, 0)) || !cJSON_IsNumber(cJSON_GetArrayItem(x, 1)))
            return bad(c, sub, "volume_ml must be [men, women]");
        s.volume_ml[SB_SEX_MALE] = cJSON_GetArrayItem(x, 0)->valuedouble;
        s.volume_ml[SB_SEX_FEMALE] = cJSON_GetArrayItem(x, 1)->valuedouble;
        if (!(s.volume_ml[0] > 0 && s.volume_ml[1] > 0))
            return bad(c, sub, "volume_ml must be > 0");
    }
    if ((x = cJSON_GetObjectItemCaseSensitive(j, "cv"))) {
        if (!cJSON_IsNumber(x) || x->valuedouble < 0 || x->valuedouble > 1)
            return bad(c, sub, "cv must be 0..1");
        s.cv = x->valuedouble;
    }
    if ((x = cJSON_GetObjectItemCaseSensitive(j, "jitter_mm"))) {
        if (!cJSON_IsNumber(x) || x->valuedouble < 0 || x->valuedouble > 100)
            return bad(c, sub, "jitter_mm must be 0..100");
        s.jitter_mm = x->valuedouble;
    }
    if ((x = cJSON_GetObjectItemCaseSensitive(j, "core"))) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(x, "tissue"),
                    *d = cJSON_GetObjectItemCaseSensitive(x, "depth_mm");
        if (!cJSON_IsString(t) || !sb_tissue_find(t->valuestring) || !cJSON_IsNumber(d) ||
            d->valuedouble < 0 || strlen(t->valuestring) >= sizeof s.core_tissue)
            return bad(c, sub, "core must be {\"tissue\": known tissue, \"depth_mm\": >= 0}");
        strcpy(s.core_tissue, t->valuestring);
        s.core_depth_mm = d->valuedouble;
    }
    if (anchor[0] && (s.anchor = anat_find_landmark(a, anchor)) < 0)
        return bad(c, sub, "anchor names no landmark");
    if (within[0] && (s.within = anat_find_shape(a, within)) < 0)
        return bad(c, sub, "within names no shape");
    const cJSON *shape;
    if ((st = field(c, j, "shape", sub, &shape))) return st;
    char spath[700];
    pathf(spath, sizeof spath, "%s.shape", sub);
    if ((st = parse_tree(c, a, shape, spath, s.anchor, &s.tree))) {
        sdf_tree_free(&s.tree);
        return st;
    }
    s.draw_key = (uint32_t)s.label.id;
    if ((x = cJSON_GetObjectItemCaseSensitive(j, "size_group"))) {
        /* parts of one organ share one random size factor and shift, so they stay fitted */
        if (!cJSON_IsString(x) || !x->valuestring[0] ||
            strlen(x->valuestring) >= sizeof s.size_group) {
            sdf_tree_free(&s.tree); /* leaked before (fuzz_anatomy, LeakSanitizer) */
            return bad(c, sub, "size_group must be a name of at most 47 characters");
        }
        strcpy(s.size_group, x->valuestring);
        uint32_t h = 2166136261u; /* FNV-1a */
        for (const char *q = x->valuestring; *q; q++) h = (h ^ (uint8_t)*q) * 16777619u;
        s.draw_key = 0x80000000u | h;
    }
    if ((x = cJSON_GetObjectItemCaseSensitive(j, "volume_clipped"))) {
        if (!cJSON_IsBool(x) || s.volume_ml[0] <= 0 || s.within < 0) {
            sdf_tree_free(&s.tree);
            return bad(c, sub, "volume_clipped must be true or false, with volume_ml and within");
        }
        s.volume_clipped = cJSON_IsTrue(x);
    }
    if ((x = cJSON_GetObjectItemCaseSensitive(j, "connected"))) {
        if (!cJSON_IsBool(x)) {
            sdf_tree_free(&s.tree);
            return bad(c, sub, "connected must be true or false");
        }
        s.several = cJSON_IsFalse(x);
    }
    const cJSON *mir = cJSON_GetObjectItemCaseSensitive(j, "mirror");
    if (!cJSON_IsTrue(mir)) {
        if ((st = add_struct(a, &s, c->err))) sdf_tree_free(&s.tree);
        return st;
    }
    /* mirror: <name>_right with id, <name>_left with id + 1 */
    anat_structure left = s;
    if (!sdf_tree_copy(&left.tree, &s.tree)) {
        sdf_tree_free(&s.tree);
        return sb_error_set(c->err, SB_ERR_MEMORY, "out of memory");
    }
    char base[64];
    pathf(base, sizeof base, "%s", s.label.name);
    pathf(s.label.name, sizeof s.label.name, "%s_right", base);
    pathf(left.label.name, sizeof left.label.name, "%s_left", base);
    left.label.id = s.label.id + 1;
    left.mirrored = 1;
    if (s.draw_key == (uint32_t)s.label.id) left.draw_key = (uint32_t)left.label.id;
    if (s.anchor >= 0) { /* an explicit X_left landmark wins over the mirror image of X_right */
        const char *an = a->landmarks[s.anchor].name;
        size_t n = strlen(an);
        if (n > 6 && !strcmp(an + n - 6, "_right")) {
            char ln[80];
            pathf(ln, sizeof ln, "%.*s_left", (int)(n - 6), an);
            int k = anat_find_landmark(a, ln);
            if (k >= 0) left.anchor = k;
        }
    }
    if (s.label.abbrev[0]) {
        char ab[16];
        pathf(ab, sizeof ab, "%.13sR", s.label.abbrev);
        pathf(left.label.abbrev, sizeof left.label.abbrev, "%.13sL", s.label.abbrev);
        memcpy(s.label.abbrev, ab, sizeof ab);
    }
    if ((st = add_struct(a, &s, c->err))) {
        sdf_tree_free(&s.tree);
        sdf_tree_free(&left.tree);
        return st;
    }
    left.order = s.order;
    if ((st = add_struct(a, &left, c->err))) sdf_tree_free(&left.tree);
    return st;
}

/* ---- documents ----------------------------------------------------------------------------- */
static sb_status add_landmark(sb_anatomy *a, const char *name, const double p[3], int twin,
                              ctx_t *c) {
    int k = anat_find_landmark(a, name);
    if (k >= 0 && twin) return SB_OK; /* explicit left landmark defined first: keep it */
    if (k >= 0 && a->landmarks[k].twin) {
        memcpy(a->landmarks[k].p, p, sizeof a->landmarks[k].p);
        a->landmarks[k].twin = 0;
        return SB_OK;
    }
    if (k >= 0) {
        char msg[128];
        pathf(msg, sizeof msg, "landmark \"%s\" is defined twice", name);
        return bad(c, "landmarks", msg);
    }
    anat_landmark *l = realloc(a->landmarks, (size_t)(a->nlandmarks + 1) * sizeof *l);
    if (!l) return sb_error_set(c->err, SB_ERR_MEMORY, "out of memory");
    a->landmarks = l;
    anat_landmark *n = &a->landmarks[a->nlandmarks++];
    snprintf(n->name, sizeof n->name, "%s", name);
    memcpy(n->p, p, sizeof n->p);
    n->twin = twin;
    return SB_OK;
}

/* One pass over one document: 0 landmarks, 1 named shapes, 2 structures (all documents'
 * landmarks are known before any shape or structure refers to them). */
static sb_status load_doc(sb_anatomy *a, const char *text, const char *file, int pass,
                          sb_error *err) {
    ctx_t c = {file, err};
    cJSON *root = cJSON_Parse(text);
    if (!root) {
        const char *at = cJSON_GetErrorPtr();
        size_t line = 1;
        for (const char *p = text; at && p < at; p++) line += *p == '\n';
        return sb_error_set(err, SB_ERR_INPUT, "%s: line %zu: not valid JSON", file, line);
    }
    sb_status s = SB_OK;
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "format"),
                *ver = cJSON_GetObjectItemCaseSensitive(root, "version");
    if (!cJSON_IsString(fmt) || strcmp(fmt->valuestring, "synthbody-anatomy"))
        s = bad(&c, "format", "expected \"synthbody-anatomy\"");
    else if (!cJSON_IsNumber(ver) || ver->valuedouble != 1)
        s = bad(&c, "version", "this program reads version 1");
    /* members of an array have no name: "landmarks" and "shapes" as arrays would hand NULL
     * names on (fuzz_anatomy, UBSan: strcmp(NULL)) */
    static const char *const objects[] = {"landmarks", "shapes"};
    for (int k = 0; !s && k < 2; k++) {
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(root, objects[k]);
        if (o && !cJSON_IsObject(o)) s = bad(&c, objects[k], "expected an object of names");
    }
    const cJSON *sl = cJSON_GetObjectItemCaseSensitive(root, "structures");
    if (!s && sl && !cJSON_IsArray(sl)) s = bad(&c, "structures", "expected an array");
    const cJSON *lms = pass == 0 ? cJSON_GetObjectItemCaseSensitive(root, "landmarks") : NULL;
    for (const cJSON *l = lms ? lms->child : NULL; !s && l; l = l->next) {
        char path[160];
        pathf(path, sizeof path, "landmarks.%s", l->string);
        sdf_num v[3];
        if ((s = parse_vec(&c, l, path, v, 3))) break;
        for (int i = 0; i < 3; i++)
            if (v[i].param >= 0) s = bad(&c, path, "landmarks take plain numbers");
        double p[3] = {v[0].k, v[1].k, v[2].k};
        if (!s) s = add_landmark(a, l->string, p, 0, &c);
        size_t n = strlen(l->string);
        if (!s && n > 6 && !strcmp(l->string + n - 6, "_right")) { /* the mirrored twin */
            char twin[80];
            pathf(twin, sizeof twin, "%.*s_left", (int)(n - 6), l->string);
            double q[3] = {-p[0], p[1], p[2]};
            s = add_landmark(a, twin, q, 1, &c);
        }
    }
    const cJSON *shapes = pass == 1 ? cJSON_GetObjectItemCaseSensitive(root, "shapes") : NULL;
    for (const cJSON *sh = shapes ? shapes->child : NULL; !s && sh; sh = sh->next) {
        char path[160];
        pathf(path, sizeof path, "shapes.%s", sh->string);
        if (anat_find_shape(a, sh->string) >= 0) {
            s = bad(&c, path, "defined twice");
            break;
        }
        anat_shape *p = realloc(a->shapes, (size_t)(a->nshapes + 1) * sizeof *p);
        if (!p) {
            s = sb_error_set(err, SB_ERR_MEMORY, "out of memory");
            break;
        }
        a->shapes = p;
        anat_shape *n = &a->shapes[a->nshapes];
        snprintf(n->name, sizeof n->name, "%s", sh->string);
        if ((s = parse_tree(&c, a, sh, path, -1, &n->tree))) {
            sdf_tree_free(&n->tree);
            break;
        }
        a->nshapes++;
    }
    const cJSON *sts = pass == 2 ? cJSON_GetObjectItemCaseSensitive(root, "structures") : NULL;
    int i = 0;
    for (const cJSON *st = sts ? sts->child : NULL; !s && st; st = st->next, i++) {
        char path[64];
        pathf(path, sizeof path, "structures[%d]", i);
        s = parse_structure(&c, a, st, path);
    }
    cJSON_Delete(root);
    return s;
}

/* Checks across documents: unique ids and names; orders structures by priority. */
static int by_priority(const void *x, const void *y) {
    const anat_structure *a = x, *b = y;
    if (a->priority != b->priority) return a->priority < b->priority ? -1 : 1;
    return (a->order > b->order) - (a->order < b->order);
}

/* ---- reference volumes ------------------------------------------------------------------
 * The reference volume of a size-modelled structure: its 2 mm samples over its box that are
 * inside it, with the reference parameters. The samples of all structures are counted plane by
 * plane on POSIX threads (one per processor, at most REF_THREADS) taking planes in turn; each
 * plane's count is an integer and the plane, row and column coordinates are those of one
 * sequential walk (z, y and x advance by repeated addition), so the volumes are the same bit
 * for bit with any number of threads. Not OpenMP: `synthbody batch` loads the anatomy and then
 * forks a child per subject, and a child's first OpenMP region would wait for ever on the
 * parent's thread pool; these threads are joined before the load returns. */
#define REF_THREADS 8
#define REF_STEP_MM 2.0

typedef struct {
    const sb_anatomy *a;
    const sdf_tree *shapes;
    int nshapes;
    const int *who;   /* per plane: the structure */
    const double *zs; /* per plane: its z */
    long *count;      /* per plane: samples inside */
    long nplanes;
    atomic_long next; /* the next plane to take */
    atomic_int fail;
} ref_work;

static void *ref_worker(void *arg) {
    ref_work *w = arg;
    const double h = REF_STEP_MM;
    sdf_ctx cx;
    if (!sdf_ctx_init(&cx, w->shapes, w->nshapes)) {
        atomic_store(&w->fail, 1);
        return NULL;
    }
    for (long k; (k = atomic_fetch_add(&w->next, 1)) < w->nplanes;) {
        const sdf_tree *t = &w->a->structs[w->who[k]].tree;
        const sdf_node *r = &t->nodes[t->root];
        long n = 0;
        for (double y = r->lo[1] + h / 2; y < r->hi[1]; y += h)
            for (double x = r->lo[0] + h / 2; x < r->hi[0]; x += h) {
                double p[3] = {x, y, w->zs[k]};
                n += sdf_eval_below(t, t->root, p, &cx, 0.0) < 0;
            }
        w->count[k] = n;
    }
    sdf_ctx_free(&cx);
    return NULL;
}

/* Resolves every structure with `params` and measures the reference volumes; errors are those
 * of the first structure, in order, that has one. */
static sb_status reference_volumes(sb_anatomy *a, const double *params, const sdf_tree *shapes,
                                   sb_error *err) {
    const double h = REF_STEP_MM;
    int bad = a->nstructs; /* the first structure that cannot be resolved or measured */
    sb_status st = SB_OK;
    long nplanes = 0;
    for (int i = 0; i < a->nstructs; i++) {
        anat_structure *s = &a->structs[i];
        if (!sdf_resolve(&s->tree, params, shapes)) {
            st = sb_error_set(err, SB_ERR_MEMORY, "out of memory");
            bad = i;
            break;
        }
        if (!(s->volume_ml[0] > 0)) continue;
        const sdf_node *r = &s->tree.nodes[s->tree.root];
        /* bounded work: organs span ~3e6 samples; a hostile or mistaken box (1e6 mm, or
         * infinite after arithmetic on huge numbers) would never finish */
        double samples = 1;
        for (int ax = 0; ax < 3; ax++) samples *= (r->hi[ax] - r->lo[ax]) / h + 1;
        if (!(samples <= 3e7)) {
            st = sb_error_set(err, SB_ERR_INPUT,
                              "%s: %s has volume_ml but its shape spans %g x %g x %g mm (at "
                              "most about 600 mm a side can be measured)",
                              s->file, s->label.name, r->hi[0] - r->lo[0], r->hi[1] - r->lo[1],
                              r->hi[2] - r->lo[2]);
            bad = i;
            break;
        }
        for (double z = r->lo[2] + h / 2; z < r->hi[2]; z += h) nplanes++;
    }
    const size_t np = (size_t)(nplanes ? nplanes : 1);
    int *who = malloc(np * sizeof *who);
    double *zs = malloc(np * sizeof *zs);
    long *count = calloc(np, sizeof *count);
    ref_work w = {.a = a,
                  .shapes = shapes,
                  .nshapes = a->nshapes,
                  .who = who,
                  .zs = zs,
                  .count = count,
                  .nplanes = nplanes};
    atomic_init(&w.next, 0);
    atomic_init(&w.fail, !who || !zs || !count);
    long m = 0;
    for (int i = 0; i < bad && !atomic_load(&w.fail); i++) {
        const anat_structure *s = &a->structs[i];
        if (!(s->volume_ml[0] > 0)) continue;
        const sdf_node *r = &s->tree.nodes[s->tree.root];
        for (double z = r->lo[2] + h / 2; z < r->hi[2]; z += h) who[m] = i, zs[m++] = z;
    }
    if (!atomic_load(&w.fail) && nplanes > 0) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        int nthreads = cpus < 1 ? 1 : cpus > REF_THREADS ? REF_THREADS : (int)cpus, started = 0;
        pthread_t tid[REF_THREADS];
        /* a thread that cannot be started leaves its planes to the others */
        while (started < nthreads - 1 && !pthread_create(&tid[started], NULL, ref_worker, &w))
            started++;
        ref_worker(&w);
        for (int t = 0; t < started; t++) pthread_join(tid[t], NULL);
    }
    for (long k = 0; k < nplanes && !atomic_load(&w.fail);) {
        const int i = who[k];
        long n = 0;
        for (; k < nplanes && who[k] == i; k++) n += count[k];
        anat_structure *s = &a->structs[i];
        s->ref_volume_ml = (double)n * h * h * h / 1000.0;
        if (!(s->ref_volume_ml > 0)) { /* before any error of a later structure */
            st = sb_error_set(err, SB_ERR_INPUT, "%s: %s has volume_ml but an empty shape", s->file,
                              s->label.name);
            break;
        }
    }
    free(who);
    free(zs);
    free(count);
    if (atomic_load(&w.fail)) return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    return st;
}

static sb_status finish(sb_anatomy *a, sb_error *err) {
    for (int i = 0; i < a->nstructs; i++)
        for (int k = i + 1; k < a->nstructs; k++) {
            if (a->structs[i].label.id == a->structs[k].label.id)
                return sb_error_set(err, SB_ERR_INPUT, "%s: %s and %s: %s use label id %d",
                                    a->structs[i].file, a->structs[i].label.name,
                                    a->structs[k].file, a->structs[k].label.name,
                                    a->structs[i].label.id);
            if (!strcmp(a->structs[i].label.name, a->structs[k].label.name))
                return sb_error_set(
                    err, SB_ERR_INPUT, "structure %s is defined twice: in %s and in %s",
                    a->structs[i].label.name, a->structs[i].file, a->structs[k].file);
        }
    if (a->nstructs == 0) return sb_error_set(err, SB_ERR_INPUT, "anatomy: no structures");
    qsort(a->structs, (size_t)a->nstructs, sizeof *a->structs, by_priority);
    a->body_shape = anat_find_shape(a, "body");
    /* reference volumes of size-modelled structures */
    double params[P_COUNT];
    anat_reference_params(params);
    sdf_tree *shapes = malloc((size_t)(a->nshapes ? a->nshapes : 1) * sizeof *shapes);
    if (!shapes) return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    for (int i = 0; i < a->nshapes; i++) shapes[i] = a->shapes[i].tree;
    int ok = 1;
    for (int i = 0; ok && i < a->nshapes; i++) { /* refs point to earlier shapes only */
        ok = sdf_resolve(&a->shapes[i].tree, params, shapes);
        shapes[i] = a->shapes[i].tree;
    }
    sb_status st = ok ? reference_volumes(a, params, shapes, err)
                      : sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    free(shapes);
    return st;
}

static char *read_file(const char *path, sb_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        sb_error_set(err, SB_ERR_INPUT, "%s: %s", path, strerror(errno));
        return NULL;
    }
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 65536 + 1 > cap) {
            cap = 2 * cap + 65536 + 1;
            if (cap > (64u << 20)) {
                sb_error_set(err, SB_ERR_INPUT, "%s: larger than 64 MiB", path);
                free(buf);
                fclose(f);
                return NULL;
            }
            char *p = realloc(buf, cap);
            if (!p) {
                free(buf);
                fclose(f);
                sb_error_set(err, SB_ERR_MEMORY, "out of memory");
                return NULL;
            }
            buf = p;
        }
        size_t r = fread(buf + n, 1, 65536, f);
        n += r;
        if (r < 65536) break;
    }
    int bad_read = ferror(f);
    fclose(f);
    if (bad_read) {
        free(buf);
        sb_error_set(err, SB_ERR_INPUT, "%s: read error", path);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

static sb_status load_all(sb_anatomy *a, const char *const *texts, const char *const *names, int n,
                          sb_error *err) {
    sb_status s = SB_OK;
    for (int pass = 0; pass < 3; pass++)
        for (int i = 0; !s && i < n; i++) {
            int before = a->nstructs;
            s = load_doc(a, texts[i], names[i], pass, err);
            for (int k = before; k < a->nstructs; k++) a->structs[k].order = k;
        }
    return s;
}

void sb_anatomy_free(sb_anatomy *a) {
    if (!a) return;
    for (int i = 0; i < a->nshapes; i++) sdf_tree_free(&a->shapes[i].tree);
    for (int i = 0; i < a->nstructs; i++) sdf_tree_free(&a->structs[i].tree);
    free(a->landmarks);
    free(a->shapes);
    free(a->structs);
    free(a);
}

static int cmp_str(const void *x, const void *y) {
    return strcmp(*(char *const *)x, *(char *const *)y);
}

sb_status sb_anatomy_load(const char *path, sb_anatomy **out, sb_error *err) {
    *out = NULL;
    sb_anatomy *a = calloc(1, sizeof *a);
    if (!a) return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    sb_status s = SB_OK;
    DIR *d = opendir(path);
    char *names[512], *texts[512];
    int n = 0;
    if (d) { /* every *.json in the folder, in name order */
        struct dirent *e;
        while ((e = readdir(d)) && n < 512) {
            size_t l = strlen(e->d_name);
            if (l > 5 && !strcmp(e->d_name + l - 5, ".json") && e->d_name[0] != '.') {
                names[n] = malloc(strlen(path) + l + 2);
                if (!names[n]) break;
                sprintf(names[n++], "%s/%s", path, e->d_name);
            }
        }
        closedir(d);
        qsort(names, (size_t)n, sizeof *names, cmp_str);
        if (n == 0) s = sb_error_set(err, SB_ERR_INPUT, "%s: no *.json anatomy documents", path);
    } else {
        names[0] = malloc(strlen(path) + 1);
        if (names[0]) strcpy(names[n++], path);
    }
    for (int i = 0; i < n; i++) texts[i] = NULL;
    for (int i = 0; !s && i < n; i++)
        if (!(texts[i] = read_file(names[i], err))) s = err->status;
    s = s ? s : load_all(a, (const char *const *)texts, (const char *const *)names, n, err);
    for (int i = 0; i < n; i++) {
        free(texts[i]);
        free(names[i]);
    }
    if (!s) s = finish(a, err);
    if (s) {
        sb_anatomy_free(a);
        return s;
    }
    *out = a;
    return SB_OK;
}

/* The default anatomy: volume/anatomy's JSON documents, embedded at build time (anatomy_default.c).
 */
extern const char *const sb_anatomy_default_docs[];
extern const char *const sb_anatomy_default_names[];

sb_status sb_anatomy_load_default(sb_anatomy **out, sb_error *err) {
    *out = NULL;
    sb_anatomy *a = calloc(1, sizeof *a);
    if (!a) return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    int n = 0;
    while (sb_anatomy_default_docs[n]) n++;
    sb_status s = load_all(a, sb_anatomy_default_docs, sb_anatomy_default_names, n, err);
    if (!s) s = finish(a, err);
    if (s) {
        sb_anatomy_free(a);
        return s;
    }
    *out = a;
    return SB_OK;
}

sb_status sb_anatomy_label_table(const sb_anatomy *a, sb_sex sex, sb_label_table **out,
                                 sb_error *err) {
    sb_label_table *t = sb_labels_create();
    if (!t) return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    /* in id order, so tables read naturally */
    int *idx = malloc((size_t)a->nstructs * sizeof *idx);
    if (!idx) {
        sb_labels_free(t);
        return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    }
    int n = 0;
    for (int i = 0; i < a->nstructs; i++)
        if (sex == SB_SEX_RANDOM || a->structs[i].sex < 0 || a->structs[i].sex == (int)sex)
            idx[n++] = i;
    for (int i = 1; i < n; i++) /* insertion sort by id: n is a few hundred */
        for (int k = i; k > 0 && a->structs[idx[k]].label.id < a->structs[idx[k - 1]].label.id;
             k--) {
            int tmp = idx[k];
            idx[k] = idx[k - 1];
            idx[k - 1] = tmp;
        }
    sb_status s = SB_OK;
    for (int i = 0; !s && i < n; i++) s = sb_labels_add(t, &a->structs[idx[i]].label, err);
    free(idx);
    if (s) {
        sb_labels_free(t);
        return s;
    }
    *out = t;
    return SB_OK;
}

int sb_anatomy_is_connected(const sb_anatomy *a, int label_id) {
    for (int i = 0; i < a->nstructs; i++)
        if (a->structs[i].label.id == label_id) return !a->structs[i].several;
    return 1;
}
