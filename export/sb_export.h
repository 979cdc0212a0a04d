/* sb_export.h — every file format synthbody reads or writes: NIfTI volumes, label tables
 * (BIDS dseg TSV, ITK-SNAP, 3D Slicer), meshes (binary STL written by us; any format Assimp
 * reads), PNG pictures.
 *
 * Depends on: the foundation (sb_core.h) only. Every writer goes through sb_outfile: it writes
 * a temporary name and renames on success, refuses an existing file unless `force`, and
 * reports every failed write (libnifti's own writer does not, so NIfTI is written here).
 */
#ifndef SB_EXPORT_H
#define SB_EXPORT_H

#include "sb_core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- NIfTI --------------------------------------------------------------------------------- */

/* NIfTI intent codes we write. */
enum { SB_NIFTI_INTENT_NONE = 0, SB_NIFTI_INTENT_LABEL = 1002 };

/* Writes v as a NIfTI-1 single file (".nii", or gzip-compressed when path ends in ".nii.gz")
 * in the volume's datatype: qform = sform = v->affine, both code 1 (scanner anatomical),
 * xyzt units mm, scl_slope 1 / scl_inter 0, intent_code as given, descrip = `descrip`
 * (truncated to 79 chars; may be NULL). Byte-identical output for identical input, whatever
 * the number of OpenMP threads. ".nii.gz" is a sequence of gzip members, compressed in
 * parallel: 8 MiB of uncompressed stream each with libdeflate level 6 for intent LABEL, 1 MiB
 * each with Huffman codes alone otherwise (export/nifti_write.c). Errors: SB_ERR_USAGE for a
 * volume NIfTI-1 cannot hold (dim > 32767, singular or non-finite affine) or a name not ending
 * in .nii/.nii.gz; SB_ERR_EXISTS; SB_ERR_OUTPUT; SB_ERR_MEMORY. */
sb_status sb_nifti_write(const sb_volume *v, const char *path, int force, int intent_code,
                         const char *descrip, sb_error *err);

/* As sb_nifti_write, with scl_slope / scl_inter as given (a reader's value = slope x stored +
 * inter); SB_ERR_USAGE if slope is 0 or either is not finite. */
sb_status sb_nifti_write_scaled(const sb_volume *v, const char *path, int force, int intent_code,
                                const char *descrip, double slope, double inter, sb_error *err);

/* A NIfTI file written plane by plane, for volumes that are never whole in memory: the header
 * from `grid` (dim, affine, dtype; its data are not read), then sb_nifti_writer_put with the
 * next z planes (any count, same dim[0], dim[1] and dtype) until all dim[2] planes are given,
 * then sb_nifti_writer_commit renames the file into place. The bytes equal sb_nifti_write's for
 * the same volume however the planes are split. Memory: ~16 MiB per thread (gzip) or 8 MiB.
 * sb_nifti_writer_free removes the temporary file unless committed. Errors as sb_nifti_write;
 * SB_ERR_INTERNAL for planes that do not fit or are missing at commit. */
typedef struct sb_nifti_writer sb_nifti_writer;
sb_status sb_nifti_writer_open(const sb_volume *grid, const char *path, int force, int intent_code,
                               const char *descrip, double slope, double inter,
                               sb_nifti_writer **out, sb_error *err);
sb_status sb_nifti_writer_put(sb_nifti_writer *w, const sb_volume *planes, sb_error *err);
sb_status sb_nifti_writer_commit(sb_nifti_writer *w, sb_error *err);
/* Optional, once every plane is given and before sb_nifti_writer_commit: a large compressed file
 * has a thread that writes it as it is made; finish hands it the rest and has it wait for the
 * disk (fflush, fsync) while the caller goes on with other work, so that the commit later finds
 * nothing to wait for. Else (or if the file is small) the commit does it all. Errors as
 * sb_nifti_writer_commit's. */
sb_status sb_nifti_writer_finish(sb_nifti_writer *w, sb_error *err);
void sb_nifti_writer_free(sb_nifti_writer *w); /* NULL is a no-op */

/* What the header of a file said, for `synthbody info`. */
typedef struct sb_nifti_info {
    int version;    /* 1 or 2 */
    int big_endian; /* file stored big-endian */
    int compressed; /* gzip */
    int ndim;       /* dim[0] */
    int64_t dim[8]; /* dim[1..ndim] as stored */
    double pixdim[8];
    int datatype; /* NIfTI code as stored */
    double scl_slope, scl_inter;
    int intent_code;
    int qform_code, sform_code;
    int used_sform; /* the affine came from the sform (else qform, else pixdim) */
    char orient[4]; /* axis codes of the affine, e.g. "RAS", "LAS" */
    char descrip[81];
} sb_nifti_info;

/* Reads NIfTI-1 or NIfTI-2, .nii or .nii.gz, either byte order, any affine (sform if its code
 * is > 0, else qform, else pixdim). 4-D and higher: the first volume only, with a warning
 * through ctx. Data keep their datatype (supported: uint8/int8/int16/uint16/int32/uint32/
 * float32/float64; others SB_ERR_INPUT); scl_slope/inter are NOT applied (reported in info).
 * Errors (SB_ERR_INPUT) name the file and the field: missing, not NIfTI, bad dims or pixdim,
 * truncated data (expected vs present bytes). Memory is checked before allocating
 * (SB_ERR_MEMORY). info may be NULL. */
sb_status sb_nifti_read(const char *path, const sb_ctx *ctx, sb_volume **out, sb_nifti_info *info,
                        sb_error *err);

/* Axis codes ("RAS", "LPS", ...) of the affine's 3x3 part, as nibabel's aff2axcodes. */
void sb_affine_axcodes(const double affine[4][4], char out[4]);

/* ---- label tables -------------------------------------------------------------------------- */

/* BIDS dseg.tsv: tab-separated columns index, name, abbreviation, color (#rrggbb), one row
 * per label in table order; background (0) not listed. */
sb_status sb_labels_write_tsv(const sb_label_table *t, const char *path, int force, sb_error *err);
/* ITK-SNAP label description file (IDX R G B A VIS MSH "LABEL"), with "Clear Label" 0. */
sb_status sb_labels_write_itksnap(const sb_label_table *t, const char *path, int force,
                                  sb_error *err);
/* 3D Slicer colour table (.ctbl): "id name r g b a" lines, 0 = background. */
sb_status sb_labels_write_ctbl(const sb_label_table *t, const char *path, int force, sb_error *err);

/* ---- meshes -------------------------------------------------------------------------------- */

/* Binary STL of one mesh in world RAS+ mm: 80-byte header "synthbody NAME SPACE=RAS"
 * (zero-padded), little-endian, normals computed from the winding; sb_scene_write's STL with
 * one structure. Byte-identical output for identical input. */
sb_status sb_stl_write(const sb_trimesh *m, const char *name, const char *path, int force,
                       sb_error *err);
/* Reads any mesh file Assimp 5.2 reads (STL, OBJ, PLY, GLB/glTF, 3MF, ...): all meshes of the
 * file, triangulated, identical vertices joined (so edges can be counted). SB_ERR_INPUT with
 * Assimp's reason when the file cannot be read. */
sb_status sb_mesh_read(const char *path, sb_trimesh **out, sb_error *err);

/* ---- scenes: many named, coloured structures in one or several mesh files ------------------
 * export/scene.c (STL, OBJ+MTL, PLY, VTP), export/glb.c (glTF 2.0 binary), export/threemf.c
 * (3MF). Our own writers: Assimp 5.2's exporters merge meshes (STL, PLY), lose colours and
 * names (3MF) and deep-copy the scene (README "Export"). Every writer goes through sb_outfile
 * (temporary name, rename on success, SB_ERR_EXISTS unless force, errors name the file) and
 * gives identical bytes for identical input (no dates, no thread-dependent order). */

/* One structure of a scene. The mesh is in world millimetres (RAS+, the label map's frame). */
typedef struct sb_scene_mesh {
    const sb_trimesh *mesh;
    const char *name;  /* structure name: object / node / group / material name */
    const char *group; /* organ system (glTF parent node), NULL or "": none */
    int id;            /* label id (PLY/VTP per-face label, manifest) */
    uint8_t rgba[4];   /* sRGB colour, 0..255, as in the label table */
} sb_scene_mesh;

/* The file's frame: p_file = scale * R * p_world, p_world RAS+ mm.
 * up_y = 0: R = identity (x right, y anterior, z superior: Z up, what slicers expect);
 * up_y = 1: R maps (x, y, z) to (-x, z, y): +Y superior, +Z anterior (the subject faces +Z),
 * +X the subject's left — glTF's frame (Y up, front facing +Z, right-handed). R is a rotation
 * (det +1), so windings and outward normals are kept. */
typedef struct sb_scene_frame {
    double scale; /* file units per mm: 1 (millimetres) or 0.001 (metres) */
    int up_y;
} sb_scene_frame;

typedef enum sb_scene_format {
    SB_SCENE_STL = 1,  /* binary STL, every mesh in one file; header "synthbody NAME SPACE=RAS" */
    SB_SCENE_OBJ = 2,  /* Wavefront OBJ + MTL beside it (same name, .mtl): per structure one `o`,
                          `g` and `usemtl`; Kd = the sRGB colour / 255 */
    SB_SCENE_PLY = 4,  /* binary little-endian PLY, per-vertex uchar red/green/blue, per-face int
                          label; structure names in `comment` lines */
    SB_SCENE_GLB = 8,  /* glTF 2.0 binary: one mesh + node per structure under a node per group
                          under one root node; PBR baseColorFactor = sRGB colour linearised */
    SB_SCENE_3MF = 16, /* 3MF core: one named object per structure with its colour (a
                          basematerials group), deflated in parallel pieces by isa-l */
    SB_SCENE_VTP = 32  /* VTK XML PolyData, raw appended little-endian; cell data label_id
                          (Int32) and rgb (UInt8 x3) */
} sb_scene_format;

/* File extension of a format without the dot ("stl", ...); NULL for an unknown one. */
const char *sb_scene_format_ext(sb_scene_format f);

/* Writes n structures into one file of format f at path (OBJ also writes the .mtl beside it:
 * path with its extension replaced by .mtl; both or neither are left). `title` names the
 * scene (glTF root node, STL header, comments); may be NULL. Vertex indices are 32-bit.
 * ctx (may be NULL): threads for the 3MF writer (the bytes never depend on them).
 * SB_ERR_USAGE for n == 0, a NULL mesh, or an index >= nverts; SB_ERR_EXISTS; SB_ERR_OUTPUT
 * naming the file; SB_ERR_MEMORY. */
sb_status sb_scene_write(sb_scene_format f, const sb_scene_mesh *meshes, size_t n,
                         const sb_scene_frame *frame, const char *title, const char *path,
                         int force, const sb_ctx *ctx, sb_error *err);

/* sRGB (0..1) to linear light (IEC 61966-2-1), as glTF's baseColorFactor wants. */
double sb_srgb_to_linear(double c);

/* ---- drawings ------------------------------------------------------------------------------ */

/* One polyline of an SVG drawing, coordinates in mm (x right, y down). */
typedef struct sb_svg_path {
    const double *xy; /* n (x, y) pairs */
    size_t n;         /* fewer than 2: skipped */
    int closed;       /* ends with Z */
    uint8_t rgb[3];   /* stroke colour (laser software maps colours to cut / engrave) */
    double stroke_mm; /* stroke width */
    const char *id;   /* may be NULL */
    const char *cls;  /* class attribute, e.g. "cut", "engrave"; may be NULL */
} sb_svg_path;

typedef struct sb_svg_text {
    double x, y, size_mm; /* centre and font size in mm */
    uint8_t rgb[3];
    const char *text;
    const char *cls; /* may be NULL */
} sb_svg_text;

/* SVG 1.1 of width_mm x height_mm (width/height in "mm", viewBox the same numbers: one user unit
 * is one millimetre) with the paths (no fill) and texts, escaped for XML. Identical bytes for
 * identical input. SB_ERR_USAGE for a non-positive size; SB_ERR_EXISTS; SB_ERR_OUTPUT. */
sb_status sb_svg_write(double width_mm, double height_mm, const sb_svg_path *paths, size_t n,
                       const sb_svg_text *texts, size_t nt, const char *title, const char *path,
                       int force, sb_error *err);

/* ---- pictures ------------------------------------------------------------------------------ */

/* 8-bit RGB PNG, rows top to bottom, w*h*3 bytes. */
sb_status sb_png_write_rgb(const uint8_t *rgb, size_t w, size_t h, const char *path, int force,
                           sb_error *err);

#ifdef __cplusplus
}
#endif
#endif
