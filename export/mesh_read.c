/* mesh_read.c — any mesh file Assimp 5.2 reads, as one indexed triangle mesh.
 *
 * Uses Assimp's C API (assimp/cimport.h: aiImportFile, aiGetErrorString, aiReleaseImport) with
 * aiProcess_Triangulate only. No logger is attached, so Assimp stays silent (its default logger
 * is the null logger). The scene graph is walked from the root; every mesh a node references is
 * transformed by the node's accumulated transform (aiMatrix4x4 is row-major, column vectors)
 * and appended; point and line primitives are skipped.
 *
 * Vertices are then joined by exact position (float bits, -0 taken as +0): Assimp's
 * aiProcess_JoinIdenticalVertices compares normals too, and STL stores one normal per face, so
 * it would leave every STL triangle with its own three vertices. Joining sorts the corners by
 * position (O(n log n)); vertex ids follow first appearance, so the result is deterministic.
 */
#include "sb_export.h"

#include <assimp/cimport.h>
#include <assimp/postprocess.h>
#include <assimp/scene.h>

#include <stdlib.h>
#include <string.h>

#define MAX_NODE_DEPTH 256

typedef struct corner_list {
    float *pos; /* 3 per corner */
    size_t n, cap;
} corner_list;

static void mat_mul(const double a[4][4], const double b[4][4], double out[4][4]) {
    double r[4][4];
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
            double s = 0;
            for (int k = 0; k < 4; k++) s += a[i][k] * b[k][j];
            r[i][j] = s;
        }
    memcpy(out, r, sizeof r);
}

static void ai_to_mat(const struct aiMatrix4x4 *m, double out[4][4]) {
    const ai_real *e = &m->a1; /* a1..a4, b1..b4, c1..c4, d1..d4: row-major */
    for (int i = 0; i < 16; i++) out[i / 4][i % 4] = (double)e[i];
}

static int append_mesh(corner_list *cl, const struct aiMesh *mesh, const double xf[4][4]) {
    for (unsigned f = 0; f < mesh->mNumFaces; f++) {
        const struct aiFace *face = &mesh->mFaces[f];
        if (face->mNumIndices != 3) continue;
        if (cl->n + 3 > cl->cap) {
            size_t cap = cl->cap ? 2 * cl->cap : 3 * 1024;
            float *p = realloc(cl->pos, cap * 3 * sizeof *p);
            if (!p) return -1;
            cl->pos = p;
            cl->cap = cap;
        }
        for (int c = 0; c < 3; c++) {
            unsigned vi = face->mIndices[c];
            if (vi >= mesh->mNumVertices) return -2;
            const struct aiVector3D *v = &mesh->mVertices[vi];
            double in[3] = {v->x, v->y, v->z};
            float *out = cl->pos + 3 * cl->n;
            for (int r = 0; r < 3; r++)
                out[r] =
                    (float)(xf[r][0] * in[0] + xf[r][1] * in[1] + xf[r][2] * in[2] + xf[r][3]) +
                    0.0f; /* + 0.0f turns -0 into +0 */
            cl->n++;
        }
    }
    return 0;
}

static int walk(corner_list *cl, const struct aiScene *sc, const struct aiNode *node,
                const double parent[4][4], int depth) {
    if (depth > MAX_NODE_DEPTH) return -3;
    double local[4][4], xf[4][4];
    ai_to_mat(&node->mTransformation, local);
    mat_mul(parent, local, xf);
    for (unsigned i = 0; i < node->mNumMeshes; i++) {
        unsigned mi = node->mMeshes[i];
        if (mi >= sc->mNumMeshes) return -2;
        int r = append_mesh(cl, sc->mMeshes[mi], (const double(*)[4])xf);
        if (r) return r;
    }
    for (unsigned i = 0; i < node->mNumChildren; i++) {
        int r = walk(cl, sc, node->mChildren[i], (const double(*)[4])xf, depth + 1);
        if (r) return r;
    }
    return 0;
}

/* qsort has no context argument: sort (key bits, corner index) records instead. */
typedef struct corner_key {
    uint32_t k[3];
    uint32_t pad;
    size_t idx;
} corner_key;

static int cmp_corner(const void *pa, const void *pb) {
    const corner_key *a = pa, *b = pb;
    for (int i = 0; i < 3; i++)
        if (a->k[i] != b->k[i]) return a->k[i] < b->k[i] ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* Joins corners with identical positions; fills m. Returns 0, or -1 out of memory. */
static int join_vertices(const corner_list *cl, sb_trimesh *m) {
    size_t n = cl->n;
    corner_key *keys = malloc((n ? n : 1) * sizeof *keys);
    size_t *rep = malloc((n ? n : 1) * sizeof *rep); /* corner -> first corner at its position */
    uint32_t *id = malloc((n ? n : 1) * sizeof *id);
    if (!keys || !rep || !id) {
        free(keys);
        free(rep);
        free(id);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        memcpy(keys[i].k, cl->pos + 3 * i, 12);
        keys[i].pad = 0;
        keys[i].idx = i;
    }
    qsort(keys, n, sizeof *keys, cmp_corner);
    for (size_t i = 0; i < n; i++) {
        int same = i > 0 && memcmp(keys[i].k, keys[i - 1].k, 12) == 0;
        rep[keys[i].idx] = same ? rep[keys[i - 1].idx] : keys[i].idx;
    }
    free(keys);
    size_t nv = 0;
    for (size_t i = 0; i < n; i++) {
        if (rep[i] == i)
            id[i] = (uint32_t)nv++;
        else
            id[i] = id[rep[i]]; /* rep[i] < i: the first corner there, already numbered */
    }
    m->verts = malloc((nv ? nv : 1) * 3 * sizeof *m->verts);
    m->tris = malloc((n ? n : 1) * sizeof *m->tris);
    if (!m->verts || !m->tris) {
        free(rep);
        free(id);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        m->tris[i] = id[i];
        if (rep[i] == i) memcpy(m->verts + 3 * (size_t)id[i], cl->pos + 3 * i, 12);
    }
    m->nverts = nv;
    m->ntris = n / 3;
    free(rep);
    free(id);
    return 0;
}

sb_status sb_mesh_read(const char *path, sb_trimesh **out, sb_error *err) {
    if (out) *out = NULL;
    if (!path || !out) return sb_error_set(err, SB_ERR_USAGE, "sb_mesh_read: NULL argument");
    const struct aiScene *sc = aiImportFile(path, aiProcess_Triangulate);
    if (!sc)
        return sb_error_set(err, SB_ERR_INPUT, "%s: cannot read mesh: %s", path,
                            aiGetErrorString());
    if (!sc->mRootNode) {
        aiReleaseImport(sc);
        return sb_error_set(err, SB_ERR_INPUT, "%s: the file holds no scene", path);
    }
    corner_list cl = {NULL, 0, 0};
    double id4[4][4] = {{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}};
    int r = walk(&cl, sc, sc->mRootNode, (const double(*)[4])id4, 0);
    aiReleaseImport(sc);
    sb_status s = SB_OK;
    if (r == -1)
        s = sb_error_set(err, SB_ERR_MEMORY, "%s: out of memory reading the mesh", path);
    else if (r == -2)
        s = sb_error_set(err, SB_ERR_INPUT, "%s: a face or node refers to a missing vertex/mesh",
                         path);
    else if (r == -3)
        s = sb_error_set(err, SB_ERR_INPUT, "%s: scene graph deeper than %d nodes", path,
                         MAX_NODE_DEPTH);
    else if (cl.n / 3 > UINT32_MAX)
        s = sb_error_set(err, SB_ERR_INPUT, "%s: too many triangles", path);
    sb_trimesh *m = NULL;
    if (!s) {
        m = calloc(1, sizeof *m);
        if (!m || join_vertices(&cl, m) != 0) {
            sb_trimesh_free(m);
            m = NULL;
            s = sb_error_set(err, SB_ERR_MEMORY, "%s: out of memory joining vertices", path);
        }
    }
    free(cl.pos);
    if (!s) *out = m;
    return s;
}
