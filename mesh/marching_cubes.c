/* marching_cubes.c — closed surfaces of many labels (or of an iso-value) in one sweep.
 *
 * References
 *   W. E. Lorensen, H. E. Cline: "Marching cubes: a high resolution 3D surface construction
 *     algorithm", SIGGRAPH 1987 (the method: per cube, a case table indexed by the 8 corners).
 *   M. J. Duerst: "Letters: additional reference to marching cubes", Computer Graphics 22(2),
 *     1988, and G. M. Nielson, B. Hamann: "The asymptotic decider", IEEE Visualization 1991
 *     (the ambiguous faces, and why their resolution must depend on the face alone).
 *   W. Schroeder, R. Maynard, B. Geveci: "Flying Edges: A High-Performance Scalable
 *     Isocontouring Algorithm", IEEE LDAV 2015 (edge passes before cube passes, threads writing
 *     to partitioned memory), and VTK's vtkDiscreteFlyingEdges3D (one shell per label).
 *
 * Guarantee. For every selected label L the output is a closed, edge- and vertex-2-manifold,
 * consistently outward-oriented triangle mesh of {voxel == L}, for ANY configuration (voxels
 * touching along an edge or at a corner, labels touching the border, noise), with one voxel of
 * background padding on every side (never copied). Why:
 *   - the case table is derived here, not typed in: on each cube face, the crossing edges (whose
 *     two corners differ in "== L") are joined by segments; a face with two diagonal inside
 *     corners (the ambiguous face) always separates the inside corners. That rule depends on
 *     the face's four corners only, so the two cubes sharing a face draw the same segments;
 *   - each segment is directed with the inside corner on its left seen from outside the cube;
 *     the neighbouring cube sees the face from the other side, so it walks the same segment
 *     the opposite way (consistent orientation, every face-segment used by exactly two cubes);
 *   - every crossing edge lies on two faces of the cube, hence the segments form disjoint
 *     cycles; each cycle (3 to 7 edge midpoints, not coplanar in general) is split into
 *     triangles as VTK's marching-cubes table splits it (vtk_split below, the triangles
 *     vtkDiscreteFlyingEdges3D 9.1 makes in a lone cube of each case): the split decides
 *     which way the surface bulges between its vertices, up to 0.46 voxel volumes per 2×2×2
 *     block, so the same split makes both backends give the same surface (same volume and area
 *     for all 255 patterns of a 2×2×2 block; before, the volumes differed in 150 and small
 *     structures such as 16-voxel eye lenses by up to 4.7 %). The build checks for all 256
 *     cases that those triangles split each cycle and that no diagonal joins two vertices of
 *     one cube face (so a diagonal is never shared with another cube): a failure is
 *     SB_ERR_INTERNAL, never silent;
 *   - the cycles around one grid edge chain through the faces around it: one fan per vertex.
 * Inside voxels are thus 6-connected and outside voxels 26-connected: two voxels touching
 * only along an edge or at a corner give two separate shells half a voxel apart.
 * Vertices: one per (crossing grid edge, label), at the edge midpoint for label maps (no two
 * vertices coincide, no degenerate triangle); for iso-surfaces interpolated linearly with the
 * parameter clamped to [0.02, 0.98] (edges to the padding or to NaN voxels: the midpoint).
 * A left-handed affine (e.g. LAS) flips every triangle so normals point outward in world space.
 *
 * Passes (one sweep over the bounding box of the selected labels, grown by one voxel)
 *   0. classify: a lookup table maps voxel values to dense label numbers 1..K (0 = background,
 *      unselected labels and values outside 0..65535); bounding box of the selected voxels;
 *   1. the cube layers are cut into slabs, processed in parallel; each slab keeps two planes of
 *      dense labels and, per plane, two vertex slots per grid edge (the labels at its two
 *      ends). Per plane, branch-free (vectorized) compares give a crossing flag per x, y and z
 *      edge and, from 7 spanning edges, a "non-uniform" flag per cube; the passes below skip
 *      zero flags 16 bytes at a time, so uniform regions cost no per-cell work. An edge pass
 *      creates the vertices of the next plane's crossing x/y edges and of the crossing z
 *      edges, a cube pass emits each label's triangles for the non-uniform cubes (each boundary
 *      face between labels a and b makes geometry for both); threads write to per-(slab,
 *      label) buffers;
 *   2. per label, slabs are concatenated; the vertices of a slab's first plane duplicate the
 *      previous slab's last plane (same edge pass, same order) and are mapped onto them.
 * The result is byte-identical whatever the thread count or the number of slabs: vertices are
 * numbered in (plane, edge) order and triangles in cube order, globally.
 * Cost: about a third of the triangles of marching tetrahedra (mesh/extract.c).
 */
#include "sb_mesh.h"

#include "mesh_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- the case table ------------------------------------------------------------------------
 * Corners are bit masks x = 1, y = 2, z = 4. Edge e joins corner edge_lo[e] to
 * edge_lo[e] | (1 << edge_axis[e]). */
static void corner_pos(int m, double p[3]) {
    p[0] = m & 1;
    p[1] = (m >> 1) & 1;
    p[2] = (m >> 2) & 1;
}

/* 1 if edges e and f lie on a common face of the cube. */
static int share_face(const sb__mc_table *t, int e, int f) {
    for (int b = 0; b < 3; b++) {
        if (b == t->edge_axis[e] || b == t->edge_axis[f]) continue;
        if (((t->edge_lo[e] >> b) & 1) == ((t->edge_lo[f] >> b) & 1)) return 1;
    }
    return 0;
}

/* VTK's split of each case (vtkMarchingCubesTriangleCases, as vtkDiscreteFlyingEdges3D 9.1
 * emits it for a lone cube with those corners inside): 3 hex digits per triangle, the cube
 * edges in this file's numbering (edge_lo/edge_axis). Only the choice of diagonals is taken
 * from it: the cycles, their winding and every check are derived above. */
/* clang-format off */
static const char *const vtk_split[256] = {
    "", "012", "043", "312432", "156", "056206", "304561", "356364462", "375", "012375", "475045",
    "512527724", "137617", "037072276", "104146647", "472762", "829", "801981", "043298",
    "843839931", "298156", "698685580", "430298561", "869468456435", "375298", "198180375",
    "475450298", "547594519984", "137176982", "376368380986", "829460476610", "869846476", "48a",
    "48a012", "08a30a", "28a2a11a3", "48a561", "0560628a4", "08a0a3561", "5a352a5628a2", "37548a",
    "1203758a4", "a75a58850", "5a71a518a128", "76171348a", "8a4032237276", "a08a60a76610",
    "a28a72762", "429a49", "40141aa19", "02909339a", "31a19a", "9a4942156", "49a459405569",
    "56102332939a", "6356939a3", "42949a753", "75340aa01a19", "2502a529a75a", "5a751a19a",
    "42a29a713761", "a09a40906370607", "60761070a290a09", "6a79a6", "96b", "1206b9", "0436b9",
    "2432316b9", "915b95", "92090bb05", "5b9591043", "35b3b23242b9", "753b96", "375120b96",
    "504547b96", "b96517712724", "7b9793391", "7b9379392320", "091079047b97", "97b927247",
    "b826b2", "16b1b00b8", "26b2b8430", "4b841b4316b1", "21525885b", "05885b", "3045815b8821",
    "3843585b8", "b82b26537", "37516006b0b8", "82686b045547", "7147514186b181b", "21323b2b8b37",
    "7037b0b80", "81b821b17041714", "784b87", "8a496b", "0128a46b9", "a30a0896b", "6b928118a1a3",
    "91595ba48", "48a0b205bb92", "15b1b930aa08", "b25b925238a232a", "48a75396b", "b963750128a4",
    "96ba78875850", "12818a1a575a6b9", "48a7b33b9391", "37b3b939020948a", "8708a7071b97179",
    "97b927a78872", "ba4b46642", "16b01b0ba0a4", "02606a0a3a6b", "b16ba1a31", "a42a25a5b152",
    "4ba40b05b", "32a302a2b152b25", "3ba5b3", "37546a4266ba", "01606b0b4a4b375",
    "6a26ba2a075a0a5", "b16ba151771a", "3b137b1b2a4b2b4", "7037b040aa0b", "021a7b", "7ba", "7ab",
    "012ab7", "430ab7", "312324ab7", "5617ab", "6206057ab", "043561ab7", "ab7354456462", "3ab53b",
    "3ab3b5120", "4ab4b00b5", "a24a52ab5125", "b61b1aa13", "0620a603aab6", "1b60b10ab04a",
    "b4ab64624", "ab7829", "801819b7a", "304ab7298", "7ab394319984", "1569827ab", "ab7859805569",
    "043829561ab7", "435456468986ab7", "b53b3a829", "3a5ab5180198", "2984a00ab0b5",
    "941984145ab454b", "2981a613aab6", "a63ab6360986068", "04a0ab0b161b298", "b4ab64849946",
    "748b78", "8b7874012", "73070bb08", "2312b328bb73", "74878b615", "0525628748b7",
    "1560b308bb73", "b38b73832563236", "34838558b", "12034554858b", "0858b5", "2512858b5",
    "48b4b141361b", "23620363b483b38", "1b610b08b", "b2862b", "9b7972274", "019097074b79",
    "79b397329302", "79b739319", "56172b74229b", "590569094b79497", "302329397b79561",
    "63569373bb39", "3b532b34229b", "54b534b49014941", "9029b0b50", "951b59", "2b429b4b361b3b1",
    "03469b", "9029b010660b", "9b6", "67a96a", "67a6a9201", "a96a67304", "7a9796432231",
    "57a5a11a9", "20525a2a97a5", "430a17a91157", "4524352597a595a", "65363993a", "0123953a9965",
    "4a9495450596", "95a965a54125452", "3a11a9", "0920393a9", "4104a1a91", "492a94", "a82a27726",
    "a80a06a67601", "0432782677a8", "7867a8681438183", "57a15a1a8182", "a57a85805",
    "15717a1a282a043", "a57a85354458", "53a5a252682a", "06801686a536a63", "0a504a5a682a6a2",
    "4a8516", "2a821a13a", "0a83a0", "2a821a4a00a1", "4a8", "896864467", "012894496467",
    "367386308968", "183128387968786", "574549591948", "497489795209590", "179157978307870",
    "357289", "896486465453", "489496463536012", "689658508", "689658281185", "834893913",
    "834893032239", "810918", "892", "427726", "140164674", "073027267", "173671", "521572742",
    "457054", "521572023327", "357", "365346426", "140164345546", "065260", "165", "321423",
    "034", "021", "",
};
/* clang-format on */

static int hexval(char c) {
    return c <= '9' ? c - '0' : c - 'a' + 10;
}

/* Splits one cycle of n crossing edges (in winding order) into the n - 2 triangles that VTK's
 * table (vtk_split[mask] above) makes of it, each listed in the cycle's order so it keeps the
 * cycle's winding. 0 if those triangles are not a split of this cycle whose diagonals never
 * join two vertices of one cube face (so a diagonal is never shared with another cube). */
static int split_cycle(const sb__mc_table *t, const int *cyc, int n, const char *split,
                       sb__mc_case *cs) {
    int pos[12], side[12][12], nt = 0, tri[10][3];
    for (int e = 0; e < 12; e++) pos[e] = -1;
    for (int i = 0; i < n; i++) pos[cyc[i]] = i;
    memset(side, 0, sizeof side);
    for (const char *s = split; s[0] && s[1] && s[2]; s += 3) {
        int p3[3];
        for (int k = 0; k < 3; k++) p3[k] = pos[hexval(s[k])];
        if (p3[0] < 0 && p3[1] < 0 && p3[2] < 0) continue; /* another cycle's */
        if (p3[0] < 0 || p3[1] < 0 || p3[2] < 0 || nt == n - 2) return 0;
        for (int a = 0; a < 3; a++)
            for (int b = a + 1; b < 3; b++)
                if (p3[b] < p3[a]) {
                    int x = p3[a];
                    p3[a] = p3[b];
                    p3[b] = x;
                }
        for (int k = 0; k < 3; k++) tri[nt][k] = p3[k];
        nt++;
        side[p3[0]][p3[1]]++;
        side[p3[1]][p3[2]]++;
        side[p3[0]][p3[2]]++;
    }
    int ndiag = 0;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            if (j == i + 1 || (i == 0 && j == n - 1)) { /* a side of the cycle: once */
                if (side[i][j] != 1) return 0;
            } else if (side[i][j]) { /* a diagonal: twice, off the faces, crossing none */
                if (side[i][j] != 2 || share_face(t, cyc[i], cyc[j])) return 0;
                ndiag++;
                for (int a = i + 1; a < j; a++)
                    for (int b = j + 1; b < n; b++)
                        if (side[a][b]) return 0;
            }
        }
    if (nt != n - 2 || ndiag != n - 3) return 0;
    for (int k = 0; k < nt; k++) {
        if (cs->ntris >= SB__MC_MAX_TRIS) return 0;
        uint8_t *tr = cs->tris[cs->ntris++];
        for (int c = 0; c < 3; c++) tr[c] = (uint8_t)cyc[tri[k][c]];
    }
    return 1;
}

int sb__mc_table_build(sb__mc_table *t) {
    memset(t, 0, sizeof *t);
    int eid[8][3];
    int ne = 0;
    for (int m = 0; m < 8; m++)
        for (int a = 0; a < 3; a++) {
            eid[m][a] = -1;
            if ((m >> a) & 1) continue;
            t->edge_lo[ne] = (uint8_t)m;
            t->edge_axis[ne] = (uint8_t)a;
            eid[m][a] = ne++;
        }
    for (int mask = 1; mask < 255; mask++) {
        int next[12], prev[12];
        for (int e = 0; e < 12; e++) next[e] = prev[e] = -1;
        for (int a = 0; a < 3; a++)
            for (int s = 0; s < 2; s++) {
                /* the face's corners in cyclic order over the other two axes b < c */
                int b = a == 0 ? 1 : 0, c = a == 2 ? 1 : 2;
                int cm[4];
                cm[0] = s << a;
                cm[1] = cm[0] | 1 << b;
                cm[2] = cm[1] | 1 << c;
                cm[3] = cm[0] | 1 << c;
                int in[4], fe[4], ncross = 0;
                for (int i = 0; i < 4; i++) in[i] = (mask >> cm[i]) & 1;
                for (int i = 0; i < 4; i++) {
                    int p = cm[i], q = cm[(i + 1) & 3], lo = p & q,
                        ax = (p ^ q) == 1   ? 0
                             : (p ^ q) == 2 ? 1
                                            : 2;
                    fe[i] = in[i] != in[(i + 1) & 3] ? eid[lo][ax] : -1;
                    ncross += fe[i] >= 0;
                }
                /* segments as (edge before corner i, edge after corner i) around inside corners:
                 * corner i lies between face edges i-1 and i */
                int seg[2][3], nseg = 0; /* edge, edge, an inside corner */
                if (ncross == 4) {
                    for (int i = 0; i < 4; i++)
                        if (in[i]) {
                            seg[nseg][0] = fe[(i + 3) & 3];
                            seg[nseg][1] = fe[i];
                            seg[nseg][2] = cm[i];
                            nseg++;
                        }
                } else if (ncross == 2) {
                    int k = 0, ic = -1;
                    for (int i = 0; i < 4; i++) {
                        if (fe[i] >= 0) seg[0][k++] = fe[i];
                        if (in[i]) ic = cm[i];
                    }
                    seg[0][2] = ic;
                    nseg = 1;
                }
                double n[3] = {0, 0, 0};
                n[a] = s ? 1 : -1; /* outward normal of the face */
                for (int g = 0; g < nseg; g++) {
                    double P[3], Q[3], C[3], pl[3], ph[3];
                    int e0 = seg[g][0], e1 = seg[g][1];
                    corner_pos(t->edge_lo[e0], pl);
                    corner_pos(t->edge_lo[e0] | 1 << t->edge_axis[e0], ph);
                    for (int k = 0; k < 3; k++) P[k] = 0.5 * (pl[k] + ph[k]);
                    corner_pos(t->edge_lo[e1], pl);
                    corner_pos(t->edge_lo[e1] | 1 << t->edge_axis[e1], ph);
                    for (int k = 0; k < 3; k++) Q[k] = 0.5 * (pl[k] + ph[k]);
                    corner_pos(seg[g][2], C);
                    double d[3] = {Q[0] - P[0], Q[1] - P[1], Q[2] - P[2]};
                    double w[3] = {C[0] - P[0], C[1] - P[1], C[2] - P[2]};
                    double x[3] = {d[1] * w[2] - d[2] * w[1], d[2] * w[0] - d[0] * w[2],
                                   d[0] * w[1] - d[1] * w[0]};
                    double side = x[0] * n[0] + x[1] * n[1] + x[2] * n[2];
                    int from = side > 0 ? e0 : e1, to = side > 0 ? e1 : e0;
                    if (next[from] >= 0 || prev[to] >= 0) return 0; /* not a set of cycles */
                    next[from] = to;
                    prev[to] = from;
                }
            }
        /* walk the cycles and split each into triangles */
        int seen[12] = {0};
        sb__mc_case *cs = &t->cases[mask];
        for (int e0 = 0; e0 < 12; e0++) {
            if (next[e0] < 0 || seen[e0]) continue;
            int cyc[12], n = 0;
            for (int e = e0; !seen[e]; e = next[e]) {
                if (next[e] < 0 || n == 12) return 0;
                seen[e] = 1;
                cyc[n++] = e;
            }
            if (n < 3) return 0;
            if (!split_cycle(t, cyc, n, vtk_split[mask], cs)) return 0;
        }
        for (int e = 0; e < 12; e++) {
            int lo = t->edge_lo[e], hi = lo | 1 << t->edge_axis[e];
            int crossing = ((mask >> lo) & 1) != ((mask >> hi) & 1);
            if (crossing != (next[e] >= 0)) return 0;
        }
    }
    /* Calibrate the winding once: for the lone inside corner 0, the triangle's normal must
     * point away from the corner (towards the outside); if not, reverse every triangle. */
    const uint8_t *tr = t->cases[1].tris[0];
    double p[3][3];
    for (int k = 0; k < 3; k++) {
        double pl[3], ph[3];
        corner_pos(t->edge_lo[tr[k]], pl);
        corner_pos(t->edge_lo[tr[k]] | 1 << t->edge_axis[tr[k]], ph);
        for (int c = 0; c < 3; c++) p[k][c] = 0.5 * (pl[c] + ph[c]);
    }
    double d1[3] = {p[1][0] - p[0][0], p[1][1] - p[0][1], p[1][2] - p[0][2]};
    double d2[3] = {p[2][0] - p[0][0], p[2][1] - p[0][1], p[2][2] - p[0][2]};
    double nx = d1[1] * d2[2] - d1[2] * d2[1], ny = d1[2] * d2[0] - d1[0] * d2[2],
           nz = d1[0] * d2[1] - d1[1] * d2[0];
    if (nx * p[0][0] + ny * p[0][1] + nz * p[0][2] < 0) {
        for (int mask = 0; mask < 256; mask++)
            for (int k = 0; k < t->cases[mask].ntris; k++) {
                uint8_t x = t->cases[mask].tris[k][1];
                t->cases[mask].tris[k][1] = t->cases[mask].tris[k][2];
                t->cases[mask].tris[k][2] = x;
            }
    }
    return 1;
}

/* ---- per (slab, label) output buffers ------------------------------------------------------ */
typedef struct lbuf {
    float *v;
    uint32_t *t;
    size_t nv, vcap, nt, tcap;
    size_t first_plane; /* vertices made by the slab's first edge pass */
    size_t last_plane;  /* index of the first vertex of the slab's last plane */
} lbuf;

typedef struct sweep {
    const sb_volume *vol;
    int is_iso;
    double iso;
    const uint16_t *lut; /* value -> dense label (label mode), 65536 entries */
    size_t K;            /* dense labels 1..K */
    long long lo[3];     /* voxel index of grid point 0 of the window (padding: lo - 1) */
    size_t w[3];         /* window size in grid points, padding included */
    double A[3][4];      /* affine */
    int flip;
    sb__mc_table tab;
} sweep;

typedef struct slab {
    size_t z0, z1; /* cube layers [z0, z1) of the window */
    lbuf *lb;      /* K + 1 */
    sb_status st;
} slab;

static int lbuf_vertex(lbuf *b, const double p[3], uint32_t *idx) {
    if (b->nv == b->vcap) {
        size_t nc = b->vcap ? 2 * b->vcap : 1024;
        float *nv = realloc(b->v, nc * 3 * sizeof *nv);
        if (!nv) return 0;
        b->v = nv;
        b->vcap = nc;
    }
    if (b->nv >= UINT32_MAX) return 0;
    float *q = b->v + 3 * b->nv;
    q[0] = (float)p[0];
    q[1] = (float)p[1];
    q[2] = (float)p[2];
    *idx = (uint32_t)b->nv++;
    return 1;
}

static int lbuf_tri(lbuf *b, uint32_t x, uint32_t y, uint32_t z) {
    if (b->nt == b->tcap) {
        size_t nc = b->tcap ? 2 * b->tcap : 2048;
        uint32_t *nt = realloc(b->t, nc * 3 * sizeof *nt);
        if (!nt) return 0;
        b->t = nt;
        b->tcap = nc;
    }
    uint32_t *q = b->t + 3 * b->nt++;
    q[0] = x;
    q[1] = y;
    q[2] = z;
    return 1;
}

/* ---- planes of dense labels ---------------------------------------------------------------- */
#define FILL_LABEL(T)                                                                              \
    do {                                                                                           \
        const T *s = (const T *)vol->data + n0;                                                    \
        for (size_t i = 0; i < cnt; i++) {                                                         \
            double x_ = (double)s[i];                                                              \
            D[i] = x_ >= 0 && x_ <= 65535 && x_ == (double)(long)x_ ? lut[(long)x_] : 0;           \
        }                                                                                          \
    } while (0)
#define FILL_LABEL_SMALL(T)                                                                        \
    do {                                                                                           \
        const T *s = (const T *)vol->data + n0;                                                    \
        for (size_t i = 0; i < cnt; i++) D[i] = s[i] >= 0 ? lut[s[i]] : 0;                         \
    } while (0)
#define FILL_ISO(T)                                                                                \
    do {                                                                                           \
        const T *s = (const T *)vol->data + n0;                                                    \
        for (size_t i = 0; i < cnt; i++) {                                                         \
            double x_ = (double)s[i];                                                              \
            F[i] = (float)x_;                                                                      \
            D[i] = x_ >= iso;                                                                      \
        }                                                                                          \
    } while (0)

/* Dense labels (and values, iso mode) of cnt voxels from voxel n0 on. */
static void fill_run(const sweep *sw, size_t n0, size_t cnt, uint16_t *D, float *F) {
    const sb_volume *vol = sw->vol;
    const uint16_t *lut = sw->lut;
    if (sw->is_iso) {
        const double iso = sw->iso;
        switch (vol->dtype) {
        case SB_DT_UINT8:
            FILL_ISO(uint8_t);
            break;
        case SB_DT_INT8:
            FILL_ISO(int8_t);
            break;
        case SB_DT_INT16:
            FILL_ISO(int16_t);
            break;
        case SB_DT_UINT16:
            FILL_ISO(uint16_t);
            break;
        case SB_DT_INT32:
            FILL_ISO(int32_t);
            break;
        case SB_DT_UINT32:
            FILL_ISO(uint32_t);
            break;
        case SB_DT_FLOAT32:
            FILL_ISO(float);
            break;
        default:
            FILL_ISO(double);
            break;
        }
        return;
    }
    switch (vol->dtype) {
    case SB_DT_UINT8: {
        const uint8_t *s = (const uint8_t *)vol->data + n0;
        for (size_t i = 0; i < cnt; i++) D[i] = lut[s[i]];
        break;
    }
    case SB_DT_UINT16: {
        const uint16_t *s = (const uint16_t *)vol->data + n0;
        for (size_t i = 0; i < cnt; i++) D[i] = lut[s[i]];
        break;
    }
    case SB_DT_INT8:
        FILL_LABEL_SMALL(int8_t);
        break;
    case SB_DT_INT16:
        FILL_LABEL_SMALL(int16_t);
        break;
    case SB_DT_INT32:
        FILL_LABEL(int32_t);
        break;
    case SB_DT_UINT32:
        FILL_LABEL(uint32_t);
        break;
    case SB_DT_FLOAT32:
        FILL_LABEL(float);
        break;
    default:
        FILL_LABEL(double);
        break;
    }
}

/* Plane z of the window: dense labels D (w0*w1) and values F (iso mode; NaN = padding). */
static void fill_plane(const sweep *sw, size_t z, uint16_t *D, float *F) {
    const sb_volume *vol = sw->vol;
    const size_t w0 = sw->w[0], w1 = sw->w[1];
    memset(D, 0, w0 * w1 * sizeof *D);
    if (F)
        for (size_t i = 0; i < w0 * w1; i++) F[i] = NAN;
    long long k = sw->lo[2] - 1 + (long long)z;
    if (k < 0 || k >= (long long)vol->dim[2]) return;
    long long i0 = sw->lo[0] - 1, i1 = i0 + (long long)w0 - 1; /* voxel range of the row */
    size_t x0 = 0;
    if (i0 < 0) x0 = 1, i0 = 0;
    if (i1 >= (long long)vol->dim[0]) i1 = (long long)vol->dim[0] - 1;
    for (size_t y = 0; y < w1; y++) {
        long long j = sw->lo[1] - 1 + (long long)y;
        if (j < 0 || j >= (long long)vol->dim[1]) continue;
        size_t n0 = sb_volume_index(vol, (size_t)i0, (size_t)j, (size_t)k);
        fill_run(sw, n0, (size_t)(i1 - i0 + 1), D + y * w0 + x0, F ? F + y * w0 + x0 : NULL);
    }
}

/* World position of the vertex on the window edge from grid point (x, y, z) along axis a. */
static void edge_point(const sweep *sw, size_t x, size_t y, size_t z, int a, double t,
                       double out[3]) {
    double ijk[3] = {(double)(sw->lo[0] - 1 + (long long)x), (double)(sw->lo[1] - 1 + (long long)y),
                     (double)(sw->lo[2] - 1 + (long long)z)};
    ijk[a] += t;
    for (int r = 0; r < 3; r++)
        out[r] = sw->A[r][0] * ijk[0] + sw->A[r][1] * ijk[1] + sw->A[r][2] * ijk[2] + sw->A[r][3];
}

static double iso_t(const sweep *sw, float fa, float fb) {
    if (fa != fa || fb != fb) return 0.5; /* padding or NaN voxel */
    double t = (sw->iso - (double)fa) / ((double)fb - (double)fa);
    if (!(t >= 0.02)) t = 0.02;
    if (t > 0.98) t = 0.98;
    return t;
}

/* Vertices of the crossing edge between grid points with labels a (low end) and b (high end):
 * slot 0 for a's mesh, slot 1 for b's. */
static int edge_verts(const sweep *sw, slab *sl, uint16_t a, uint16_t b, size_t x, size_t y,
                      size_t z, int axis, float fa, float fb, uint32_t *slot) {
    double p[3];
    edge_point(sw, x, y, z, axis, sw->is_iso ? iso_t(sw, fa, fb) : 0.5, p);
    if (a && !lbuf_vertex(&sl->lb[a], p, &slot[0])) return 0;
    if (b && !lbuf_vertex(&sl->lb[b], p, &slot[1])) return 0;
    return 1;
}

/* Crossing flags of one plane: bit 0 if the x edge from grid point p crosses (its two labels
 * differ), bit 1 if the y edge does. The window's border points are padding (dense label 0), so
 * the "x edge" from a row's last point to the next row's first never crosses and the last row
 * has no crossing: one branch-free loop the compiler vectorizes. */
static void plane_flags(const sweep *sw, const uint16_t *D, uint8_t *C) {
    const size_t w0 = sw->w[0], n = w0 * sw->w[1];
    for (size_t p = 0; p < n - w0; p++)
        C[p] = (uint8_t)((D[p] != D[p + 1]) | (D[p] != D[p + w0]) << 1);
    memset(C + n - w0, 0, w0);
}

/* Z[p]: the z edge from grid point p (plane D0) to plane D1 crosses. */
static void z_flags(const sweep *sw, const uint16_t *D0, const uint16_t *D1, uint8_t *Z) {
    const size_t n = sw->w[0] * sw->w[1];
    for (size_t p = 0; p < n; p++) Z[p] = D0[p] != D1[p];
}

/* U[p]: the cube with low corner p has two different labels at its corners. Its 8 corners are
 * spanned by 7 edges (the 4 x edges, the y edges at x = 0 of both planes, the z edge at the low
 * corner), so it is uniform iff none of them crosses; border points carry no flag. */
static void cube_flags(const sweep *sw, const uint8_t *C0, const uint8_t *C1, const uint8_t *Z,
                       uint8_t *U) {
    const size_t w0 = sw->w[0], n = w0 * sw->w[1];
    for (size_t p = 0; p < n - w0; p++)
        U[p] = (uint8_t)(C0[p] | C1[p] | ((C0[p + w0] | C1[p + w0]) & 1) | Z[p]);
}

/* Next p >= from with F[p] != 0 (n if none), skipping zero runs 16 bytes at a time. */
static size_t next_set(const uint8_t *F, size_t from, size_t n) {
    size_t p = from;
    while (p < n && (p & 15)) {
        if (F[p]) return p;
        p++;
    }
    for (; p + 16 <= n; p += 16) {
        uint64_t a, b;
        memcpy(&a, F + p, 8);
        memcpy(&b, F + p + 8, 8);
        if (a | b) break;
    }
    for (; p < n; p++)
        if (F[p]) return p;
    return n;
}

/* Edge pass over the crossing x and y edges of one plane; E holds 4 slots per grid point. */
static int plane_edges(const sweep *sw, slab *sl, size_t z, const uint16_t *D, const float *F,
                       const uint8_t *C, uint32_t *E) {
    const size_t w0 = sw->w[0], n = w0 * sw->w[1];
    for (size_t p = next_set(C, 0, n); p < n; p = next_set(C, p + 1, n)) {
        size_t x = p % w0, y = p / w0;
        if ((C[p] & 1) && !edge_verts(sw, sl, D[p], D[p + 1], x, y, z, 0, F ? F[p] : 0,
                                      F ? F[p + 1] : 0, E + 4 * p))
            return 0;
        if ((C[p] & 2) && !edge_verts(sw, sl, D[p], D[p + w0], x, y, z, 1, F ? F[p] : 0,
                                      F ? F[p + w0] : 0, E + 4 * p + 2))
            return 0;
    }
    return 1;
}

static int z_edges(const sweep *sw, slab *sl, size_t z, const uint16_t *D0, const uint16_t *D1,
                   const float *F0, const float *F1, const uint8_t *Z, uint32_t *Ez) {
    const size_t w0 = sw->w[0], n = w0 * sw->w[1];
    for (size_t p = next_set(Z, 0, n); p < n; p = next_set(Z, p + 1, n))
        if (!edge_verts(sw, sl, D0[p], D1[p], p % w0, p / w0, z, 2, F0 ? F0[p] : 0, F1 ? F1[p] : 0,
                        Ez + 2 * p))
            return 0;
    return 1;
}

/* Cube pass of the layer between planes with labels D0, D1: the non-uniform cubes (U) only. */
static int cubes(const sweep *sw, slab *sl, const uint16_t *D0, const uint16_t *D1,
                 const uint32_t *E0, const uint32_t *E1, const uint32_t *Ez, const uint8_t *U) {
    const size_t w0 = sw->w[0], n = w0 * sw->w[1] - w0;
    const sb__mc_table *tab = &sw->tab;
    const size_t off[8] = {0, 1, w0, w0 + 1, 0, 1, w0, w0 + 1};
    for (size_t p = next_set(U, 0, n); p < n; p = next_set(U, p + 1, n)) {
        uint16_t c[8] = {D0[p], D0[p + 1], D0[p + w0], D0[p + w0 + 1],
                         D1[p], D1[p + 1], D1[p + w0], D1[p + w0 + 1]};
        for (int i = 0; i < 8; i++) {
            uint16_t L = c[i];
            if (!L) continue;
            int dup = 0;
            for (int j = 0; j < i; j++) dup |= c[j] == L;
            if (dup) continue;
            int mask = 0;
            for (int j = 0; j < 8; j++) mask |= (c[j] == L) << j;
            const sb__mc_case *cs = &tab->cases[mask];
            lbuf *b = &sl->lb[L];
            for (int k = 0; k < cs->ntris; k++) {
                uint32_t vi[3];
                for (int q = 0; q < 3; q++) {
                    int e = cs->tris[k][q], m = tab->edge_lo[e], ax = tab->edge_axis[e];
                    int slot = c[m] == L ? 0 : 1;
                    size_t g = p + off[m];
                    if (ax == 2)
                        vi[q] = Ez[2 * g + (size_t)slot];
                    else
                        vi[q] = ((m & 4) ? E1 : E0)[4 * g + 2 * (size_t)ax + (size_t)slot];
                }
                if (!(sw->flip ? lbuf_tri(b, vi[0], vi[2], vi[1])
                               : lbuf_tri(b, vi[0], vi[1], vi[2])))
                    return 0;
            }
        }
    }
    return 1;
}

static void run_slab(const sweep *sw, slab *sl) {
    const size_t np = sw->w[0] * sw->w[1];
    uint16_t *D[2] = {malloc(np * sizeof(uint16_t)), malloc(np * sizeof(uint16_t))};
    float *F[2] = {NULL, NULL};
    uint32_t *E[2] = {malloc(np * 4 * sizeof(uint32_t)), malloc(np * 4 * sizeof(uint32_t))};
    uint32_t *Ez = malloc(np * 2 * sizeof(uint32_t));
    uint8_t *C[2] = {malloc(np), malloc(np)}, *Z = malloc(np), *U = malloc(np);
    int ok = D[0] && D[1] && E[0] && E[1] && Ez && C[0] && C[1] && Z && U;
    if (ok && sw->is_iso) {
        F[0] = malloc(np * sizeof(float));
        F[1] = malloc(np * sizeof(float));
        ok = F[0] && F[1];
    }
    if (ok) {
        fill_plane(sw, sl->z0, D[0], F[0]);
        plane_flags(sw, D[0], C[0]);
        ok = plane_edges(sw, sl, sl->z0, D[0], F[0], C[0], E[0]);
        for (size_t L = 1; L <= sw->K; L++) sl->lb[L].first_plane = sl->lb[L].nv;
    }
    for (size_t z = sl->z0; ok && z < sl->z1; z++) {
        fill_plane(sw, z + 1, D[1], F[1]);
        plane_flags(sw, D[1], C[1]);
        if (z + 1 == sl->z1)
            for (size_t L = 1; L <= sw->K; L++) sl->lb[L].last_plane = sl->lb[L].nv;
        z_flags(sw, D[0], D[1], Z);
        cube_flags(sw, C[0], C[1], Z, U);
        ok = plane_edges(sw, sl, z + 1, D[1], F[1], C[1], E[1]) &&
             z_edges(sw, sl, z, D[0], D[1], F[0], F[1], Z, Ez) &&
             cubes(sw, sl, D[0], D[1], E[0], E[1], Ez, U);
        uint16_t *td = D[0];
        D[0] = D[1];
        D[1] = td;
        float *tf = F[0];
        F[0] = F[1];
        F[1] = tf;
        uint32_t *te = E[0];
        E[0] = E[1];
        E[1] = te;
        uint8_t *tc = C[0];
        C[0] = C[1];
        C[1] = tc;
    }
    if (!ok) sl->st = SB_ERR_MEMORY;
    free(D[0]);
    free(D[1]);
    free(F[0]);
    free(F[1]);
    free(E[0]);
    free(E[1]);
    free(Ez);
    free(C[0]);
    free(C[1]);
    free(Z);
    free(U);
}

/* Pass 2 for label L: concatenate the slabs, mapping each slab's first-plane vertices onto the
 * previous slab's last plane. NULL mesh (and 1) if the label made no triangle. */
static int assemble(const sweep *sw, slab *sl, size_t ns, size_t L, sb_trimesh **out) {
    size_t nv = 0, nt = 0;
    for (size_t s = 0; s < ns; s++) {
        nv += sl[s].lb[L].nv - (s ? sl[s].lb[L].first_plane : 0);
        nt += sl[s].lb[L].nt;
    }
    *out = NULL;
    if (!nt) return 1;
    sb_trimesh *m = calloc(1, sizeof *m);
    if (!m) return 0;
    m->verts = malloc(nv * 3 * sizeof(float));
    m->tris = malloc(nt * 3 * sizeof(uint32_t));
    if (!m->verts || !m->tris || nv > UINT32_MAX) {
        sb_trimesh_free(m);
        return 0;
    }
    size_t gv = 0, gt = 0, prev_last = 0;
    for (size_t s = 0; s < ns; s++) {
        const lbuf *b = &sl[s].lb[L];
        size_t skip = s ? b->first_plane : 0;
        if (b->nv > skip) /* an empty slab has no buffer: memcpy from NULL is undefined */
            memcpy(m->verts + 3 * gv, b->v + 3 * skip, (b->nv - skip) * 3 * sizeof(float));
        for (size_t i = 0; i < 3 * b->nt; i++) {
            size_t x = b->t[i];
            m->tris[3 * gt + i] = (uint32_t)(x < skip ? prev_last + x : gv + x - skip);
        }
        prev_last = gv - skip + b->last_plane; /* global index of this slab's last plane */
        gv += b->nv - skip;
        gt += b->nt;
    }
    (void)sw;
    m->nverts = nv;
    m->ntris = nt;
    *out = m;
    return 1;
}

static double det3(const double A[3][4]) {
    return A[0][0] * (A[1][1] * A[2][2] - A[1][2] * A[2][1]) -
           A[0][1] * (A[1][0] * A[2][2] - A[1][2] * A[2][0]) +
           A[0][2] * (A[1][0] * A[2][1] - A[1][1] * A[2][0]);
}

/* Bounding box of the voxels of dense label != 0 (plane by plane, in parallel). */
static int find_bbox(sweep *sw, const sb_ctx *ctx) {
    const sb_volume *vol = sw->vol;
    const size_t nx = vol->dim[0], ny = vol->dim[1], nz = vol->dim[2];
    long long lo[3] = {(long long)nx, (long long)ny, (long long)nz}, hi[3] = {-1, -1, -1};
    int fail = 0;
#pragma omp parallel num_threads(sb_ctx_threads(ctx))
    {
        long long tl[3] = {lo[0], lo[1], lo[2]}, th[3] = {-1, -1, -1};
        uint16_t *D = malloc(nx * sizeof *D);
        float *F = sw->is_iso ? malloc(nx * sizeof *F) : NULL;
        if (!D || (sw->is_iso && !F)) {
#pragma omp atomic write
            fail = 1;
        }
#pragma omp for schedule(dynamic, 4)
        for (size_t k = 0; k < nz; k++) {
            if (!D || (sw->is_iso && !F)) continue;
            for (size_t j = 0; j < ny; j++) {
                fill_run(sw, sb_volume_index(vol, 0, j, k), nx, D, F);
                size_t a = 0, b = nx;
                while (a < nx && !D[a]) a++;
                if (a == nx) continue;
                while (!D[b - 1]) b--;
                if ((long long)a < tl[0]) tl[0] = (long long)a;
                if ((long long)b - 1 > th[0]) th[0] = (long long)b - 1;
                if ((long long)j < tl[1]) tl[1] = (long long)j;
                if ((long long)j > th[1]) th[1] = (long long)j;
                if ((long long)k < tl[2]) tl[2] = (long long)k;
                if ((long long)k > th[2]) th[2] = (long long)k;
            }
        }
#pragma omp critical(sb_mc_bbox)
        for (int a = 0; a < 3; a++) {
            if (tl[a] < lo[a]) lo[a] = tl[a];
            if (th[a] > hi[a]) hi[a] = th[a];
        }
        free(D);
        free(F);
    }
    if (fail) return -1;
    if (hi[0] < 0) return 0;
    for (int a = 0; a < 3; a++) {
        sw->lo[a] = lo[a];
        sw->w[a] = (size_t)(hi[a] - lo[a] + 3);
    }
    return 1;
}

static sb_status sweep_run(sweep *sw, const sb_ctx *ctx, sb_trimesh **out, sb_error *err) {
    const sb_volume *vol = sw->vol;
    if (!vol || !vol->data || !vol->dim[0] || !vol->dim[1] || !vol->dim[2] ||
        !sb_dtype_size(vol->dtype))
        return sb_error_set(err, SB_ERR_USAGE, "mesh: empty or invalid volume");
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 4; c++) sw->A[r][c] = vol->affine[r][c];
    double det = det3(sw->A);
    if (!(fabs(det) > 0) || det != det)
        return sb_error_set(err, SB_ERR_INPUT, "mesh: the volume's affine is singular");
    sw->flip = det < 0;
    if (!sb__mc_table_build(&sw->tab))
        return sb_error_set(err, SB_ERR_INTERNAL, "marching cubes: case table inconsistent");
    int found = find_bbox(sw, ctx);
    if (found < 0) return sb_error_set(err, SB_ERR_MEMORY, "mesh: out of memory (rows)");
    if (!found) return SB_OK; /* every output NULL */
    const size_t layers = sw->w[2] - 1;
    int threads = sb_ctx_threads(ctx);
    size_t ns = (size_t)(threads > 1 ? 4 * threads : 1);
    if (ns > layers) ns = layers;
    slab *sl = calloc(ns, sizeof *sl);
    if (!sl) return sb_error_set(err, SB_ERR_MEMORY, "mesh: out of memory (slabs)");
    sb_status st = SB_OK;
    for (size_t s = 0; s < ns; s++) {
        sl[s].z0 = layers * s / ns;
        sl[s].z1 = layers * (s + 1) / ns;
        sl[s].lb = calloc(sw->K + 1, sizeof(lbuf));
        if (!sl[s].lb) st = SB_ERR_MEMORY;
    }
    if (!st) {
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
        for (size_t s = 0; s < ns; s++) run_slab(sw, &sl[s]);
        for (size_t s = 0; s < ns; s++)
            if (sl[s].st) st = sl[s].st;
    }
    if (!st) {
        int fail = 0;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) reduction(| : fail)
        for (size_t L = 1; L <= sw->K; L++) fail |= !assemble(sw, sl, ns, L, &out[L - 1]);
        if (fail) st = SB_ERR_MEMORY;
    }
    for (size_t s = 0; s < ns; s++) {
        for (size_t L = 0; sl[s].lb && L <= sw->K; L++) {
            free(sl[s].lb[L].v);
            free(sl[s].lb[L].t);
        }
        free(sl[s].lb);
    }
    free(sl);
    if (st) {
        for (size_t L = 0; L < sw->K; L++) {
            sb_trimesh_free(out[L]);
            out[L] = NULL;
        }
        return sb_error_set(err, st,
                            "marching cubes: out of memory (%zu labels, window %zux%zux%zu)", sw->K,
                            sw->w[0], sw->w[1], sw->w[2]);
    }
    return SB_OK;
}

sb_status sb_mesh_mc_labels(const sb_volume *labels, const int *ids, size_t n, const sb_ctx *ctx,
                            sb_trimesh **out, sb_error *err) {
    if (!out || (n && !ids))
        return sb_error_set(err, SB_ERR_USAGE, "sb_mesh_mc_labels: out or ids is NULL");
    for (size_t i = 0; i < n; i++) out[i] = NULL;
    if (n > 65535) return sb_error_set(err, SB_ERR_USAGE, "mesh: more than 65535 labels");
    uint16_t *lut = calloc(65536, sizeof *lut);
    if (!lut) return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    for (size_t i = 0; i < n; i++) {
        if (ids[i] < 1 || ids[i] > 65535 || lut[ids[i]]) {
            free(lut);
            return sb_error_set(err, SB_ERR_USAGE, "mesh: label id %d is %s", ids[i],
                                ids[i] < 1 || ids[i] > 65535 ? "outside 1..65535" : "repeated");
        }
        lut[ids[i]] = (uint16_t)(i + 1);
    }
    sweep sw;
    memset(&sw, 0, sizeof sw);
    sw.vol = labels;
    sw.lut = lut;
    sw.K = n;
    sb_status s = n ? sweep_run(&sw, ctx, out, err) : SB_OK;
    free(lut);
    return s;
}

sb_status sb_mesh_mc_iso(const sb_volume *v, double iso, const sb_ctx *ctx, sb_trimesh **out,
                         sb_error *err) {
    if (!out) return sb_error_set(err, SB_ERR_USAGE, "sb_mesh_mc_iso: out is NULL");
    *out = NULL;
    if (iso != iso) return sb_error_set(err, SB_ERR_USAGE, "iso value is NaN");
    sweep sw;
    memset(&sw, 0, sizeof sw);
    sw.vol = v;
    sw.is_iso = 1;
    sw.iso = iso;
    sw.K = 1;
    sb_status s = sweep_run(&sw, ctx, out, err);
    if (!s && !*out) return sb_error_set(err, SB_ERR_LABEL, "no voxel reaches iso value %g", iso);
    return s;
}
