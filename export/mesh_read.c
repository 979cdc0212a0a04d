/* mesh_read.c — any mesh file Assimp 5.2 reads, as one indexed triangle mesh.
 *
 * Uses Assimp's C API (assimp/cimport.h: aiImportFile, aiGetErrorString, aiReleaseImport) with
 * aiProcess_Triangulate only. No logger is attached, so Assimp stays silent (its default logger
 * is the null logger). The scene graph is walked from the root; every mesh a node references is
 * transformed by the node's accumulated transform (aiMatrix4x4 is row-major, column vectors)
 * and appended; point and line primitives are skipped.
 *
 * Isolation: Assimp 5.2 aborts (ai_assert) or crashes on some malformed files (found by
 * tests/fuzz/fuzz_mesh.c within a second: TriangulateProcess.cpp(238) numOut !=
 * pMesh->mNumFaces). So the import and the scene walk run in a child process (fork) that sends
 * the triangle corners back through a pipe; a child that dies is reported as SB_ERR_INPUT
 * naming the file and the signal, and the caller lives on. Polygons are fanned into triangles
 * here (aiProcess_Triangulate is the step that asserted).
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

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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
    if (mesh->mNumFaces && !mesh->mFaces) return -2;
    for (unsigned f = 0; f < mesh->mNumFaces; f++) {
        const struct aiFace *face = &mesh->mFaces[f];
        if (face->mNumIndices < 3 || !face->mIndices) continue; /* points and lines */
        for (unsigned t = 1; t + 1 < face->mNumIndices; t++) {  /* fan: (0, t, t+1) */
            if (cl->n + 3 > cl->cap) {
                size_t cap = cl->cap ? 2 * cl->cap : 3 * 1024;
                float *p = realloc(cl->pos, cap * 3 * sizeof *p);
                if (!p) return -1;
                cl->pos = p;
                cl->cap = cap;
            }
            for (int c = 0; c < 3; c++) {
                unsigned vi = face->mIndices[c == 0 ? 0 : t + (unsigned)c - 1];
                if (!mesh->mVertices) return -2;
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
        if (mi >= sc->mNumMeshes || !sc->mMeshes[mi]) return -2;
        int r = append_mesh(cl, sc->mMeshes[mi], (const double(*)[4])xf);
        if (r) return r;
    }
    for (unsigned i = 0; i < node->mNumChildren; i++) {
        if (!node->mChildren[i]) return -2;
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

/* ---- the import, in a child process ------------------------------------------------------
 * Child -> parent messages: int32 code (0 ok, -1 out of memory, -2 bad reference, -3 too deep,
 * 1 Assimp refused the file), then for 0: uint64 corner count and 3 floats per corner; for 1:
 * uint32 length and Assimp's message. */
static int write_all(int fd, const void *buf, size_t n) {
    const uint8_t *p = buf;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

static int read_all(int fd, void *buf, size_t n) {
    uint8_t *p = buf;
    while (n) {
        ssize_t r = read(fd, p, n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static void import_child(const char *path, int fd) {
    static const int fatal[] = {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL};
    for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++) signal(fatal[i], SIG_DFL);
    const struct aiScene *sc = aiImportFile(path, 0);
    int32_t code = 0;
    if (!sc || !sc->mRootNode) {
        const char *msg = sc ? "the file holds no scene" : aiGetErrorString();
        uint32_t len = (uint32_t)strlen(msg);
        code = 1;
        if (write_all(fd, &code, 4) || write_all(fd, &len, 4) || write_all(fd, msg, len)) _exit(3);
        _exit(0);
    }
    corner_list cl = {NULL, 0, 0};
    double id4[4][4] = {{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}};
    code = walk(&cl, sc, sc->mRootNode, (const double(*)[4])id4, 0);
    uint64_t n = cl.n;
    if (write_all(fd, &code, 4)) _exit(3);
    if (code == 0 && (write_all(fd, &n, 8) || write_all(fd, cl.pos, 12 * cl.n))) _exit(3);
    _exit(0); /* no exit handlers, no frees: the process ends */
}

sb_status sb_mesh_read(const char *path, sb_trimesh **out, sb_error *err) {
    if (out) *out = NULL;
    if (!path || !out) return sb_error_set(err, SB_ERR_USAGE, "sb_mesh_read: NULL argument");
    int fds[2];
    if (pipe(fds) != 0)
        return sb_error_set(err, SB_ERR_INTERNAL, "%s: pipe: %s", path, strerror(errno));
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]);
        close(fds[1]);
        return sb_error_set(err, errno == ENOMEM ? SB_ERR_MEMORY : SB_ERR_INTERNAL, "%s: fork: %s",
                            path, strerror(errno));
    }
    if (pid == 0) {
        close(fds[0]);
        import_child(path, fds[1]);
    }
    close(fds[1]);
    int32_t code = 0;
    uint64_t n = 0;
    corner_list cl = {NULL, 0, 0};
    char msg[512] = "";
    int got = read_all(fds[0], &code, 4) == 0;
    if (got && code == 1) {
        uint32_t len = 0;
        got = read_all(fds[0], &len, 4) == 0;
        size_t keep = len < sizeof msg - 1 ? len : sizeof msg - 1;
        got = got && read_all(fds[0], msg, keep) == 0;
        msg[keep] = '\0';
    } else if (got && code == 0) {
        got = read_all(fds[0], &n, 8) == 0 && n <= SIZE_MAX / 12;
        if (got) {
            cl.pos = malloc(n ? 12 * (size_t)n : 1);
            if (!cl.pos) code = -1;
            got = cl.pos && read_all(fds[0], cl.pos, 12 * (size_t)n) == 0;
            cl.n = cl.cap = (size_t)n;
        }
    }
    close(fds[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    sb_status s = SB_OK;
    if (WIFSIGNALED(status))
        s = sb_error_set(err, SB_ERR_INPUT,
                         "%s: cannot read mesh: the reader (Assimp) crashed on it (signal %d)",
                         path, WTERMSIG(status));
    else if (code == -1)
        s = sb_error_set(err, SB_ERR_MEMORY, "%s: out of memory reading the mesh", path);
    else if (!got || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        s = sb_error_set(err, SB_ERR_INPUT, "%s: cannot read mesh: the reader failed (status %d)",
                         path, status);
    else if (code == 1)
        s = sb_error_set(err, SB_ERR_INPUT, "%s: cannot read mesh: %s", path, msg);
    else if (code == -2)
        s = sb_error_set(err, SB_ERR_INPUT, "%s: a face or node refers to a missing vertex/mesh",
                         path);
    else if (code == -3)
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
