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
 * the number of OpenMP threads. ".nii.gz" is a sequence of gzip members of 8 MiB of
 * uncompressed stream each, compressed in parallel (libdeflate; level 6 for intent LABEL,
 * level 1 otherwise). Errors: SB_ERR_USAGE for a volume NIfTI-1 cannot hold (dim > 32767,
 * singular or non-finite affine) or a name not ending in .nii/.nii.gz; SB_ERR_EXISTS;
 * SB_ERR_OUTPUT; SB_ERR_MEMORY. */
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
sb_status sb_nifti_writer_open(const sb_volume *grid, const char *path, int force,
                               int intent_code, const char *descrip, double slope, double inter,
                               sb_nifti_writer **out, sb_error *err);
sb_status sb_nifti_writer_put(sb_nifti_writer *w, const sb_volume *planes, sb_error *err);
sb_status sb_nifti_writer_commit(sb_nifti_writer *w, sb_error *err);
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

/* Binary STL: 80-byte header (starts with "synthbody " and `name`), little-endian. Normals are
 * computed from the winding. Byte-identical output for identical input. */
sb_status sb_stl_write(const sb_trimesh *m, const char *name, const char *path, int force,
                       sb_error *err);
/* Reads any mesh file Assimp 5.2 reads (STL, OBJ, PLY, GLB/glTF, 3MF, ...): all meshes of the
 * file, triangulated, identical vertices joined (so edges can be counted). SB_ERR_INPUT with
 * Assimp's reason when the file cannot be read. */
sb_status sb_mesh_read(const char *path, sb_trimesh **out, sb_error *err);

/* ---- pictures ------------------------------------------------------------------------------ */

/* 8-bit RGB PNG, rows top to bottom, w*h*3 bytes. */
sb_status sb_png_write_rgb(const uint8_t *rgb, size_t w, size_t h, const char *path, int force,
                           sb_error *err);

#ifdef __cplusplus
}
#endif
#endif
