/* nifti_read.c — reads NIfTI-1 and NIfTI-2 single files, plain or gzip, either byte order.
 *
 * Follows nifti1.h (NIfTI-1, 2004) and nifti2.h (NIfTI-2, 2011): sizeof_hdr 348 or 540 tells
 * the version and, byte-swapped, a big-endian file; magic "n+1" / "n+2" marks a single file
 * ("ni1", the header of a .hdr/.img pair, is refused). Fields are decoded at the offsets of
 * libnifti's header structs with explicit byte order, so no libnifti code that may print ever
 * sees our input; libnifti is used only for the quaternion -> matrix formula
 * (nifti_quatern_to_dmat44, pure arithmetic).
 *
 * Affine as nibabel's get_best_affine: the sform if sform_code > 0, else the qform if
 * qform_code > 0, else diag(pixdim) with origin at voxel 0 (libnifti's "method 1"; nibabel
 * would centre the grid and flip x here). Axis codes as nibabel's aff2axcodes.
 *
 * zlib's gzread reads plain files and (multi-member) gzip alike. Every header field is checked
 * before anything is allocated; a plain file's size is checked against the data it must hold
 * before allocating; no input bytes can make this code abort or read out of bounds.
 */
#include "sb_export.h"

#include <nifti2_io.h>
#include <zlib.h>

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define N1_HDR 348
#define SB_NIFTI_MIN_SPACING_MM 1e-4
#define SB_NIFTI_MAX_SPACING_MM 1e5
/* deflate never expands data more than 1032 times (zlib's technical details), gzip members
 * only add headers: a gzip file of n bytes holds at most 1032 n bytes */
#define SB_GZIP_MAX_RATIO 1032
#define N2_HDR 540
#define OFF1(field) offsetof(nifti_1_header, field)
#define OFF2(field) offsetof(nifti_2_header, field)

/* ---- byte-order aware field decoding ------------------------------------------------------- */
typedef struct hdr_reader {
    const uint8_t *p;
    int swap; /* 1 if the file's byte order differs from the host's */
} hdr_reader;

static void load(const hdr_reader *r, size_t off, void *dst, size_t n) {
    uint8_t tmp[8];
    memcpy(tmp, r->p + off, n);
    if (r->swap)
        for (size_t i = 0; i < n / 2; i++) {
            uint8_t t = tmp[i];
            tmp[i] = tmp[n - 1 - i];
            tmp[n - 1 - i] = t;
        }
    memcpy(dst, tmp, n);
}
static int64_t get_i16(const hdr_reader *r, size_t off) {
    int16_t v;
    load(r, off, &v, 2);
    return v;
}
static int64_t get_i32(const hdr_reader *r, size_t off) {
    int32_t v;
    load(r, off, &v, 4);
    return v;
}
static int64_t get_i64(const hdr_reader *r, size_t off) {
    int64_t v;
    load(r, off, &v, 8);
    return v;
}
static double get_f32(const hdr_reader *r, size_t off) {
    float v;
    load(r, off, &v, 4);
    return v;
}
static double get_f64(const hdr_reader *r, size_t off) {
    double v;
    load(r, off, &v, 8);
    return v;
}

static int host_is_big_endian(void) {
    const uint16_t one = 1;
    uint8_t b;
    memcpy(&b, &one, 1);
    return b == 0;
}

static uint32_t bswap32(uint32_t x) {
    return (x >> 24) | ((x >> 8) & 0xff00u) | ((x << 8) & 0xff0000u) | (x << 24);
}

/* The header fields we use, whatever the version. */
typedef struct nii_hdr {
    int version;
    int64_t dim[8];
    double pixdim[8];
    int datatype;
    double vox_offset;
    double scl_slope, scl_inter;
    int intent_code, qform_code, sform_code;
    double quatern[3], qoffset[3];
    double srow[3][4];
    char descrip[81];
} nii_hdr;

static void decode_n1(const hdr_reader *r, nii_hdr *h) {
    h->version = 1;
    for (int i = 0; i < 8; i++) h->dim[i] = get_i16(r, OFF1(dim) + 2 * (size_t)i);
    for (int i = 0; i < 8; i++) h->pixdim[i] = get_f32(r, OFF1(pixdim) + 4 * (size_t)i);
    h->datatype = (int)get_i16(r, OFF1(datatype));
    h->vox_offset = get_f32(r, OFF1(vox_offset));
    h->scl_slope = get_f32(r, OFF1(scl_slope));
    h->scl_inter = get_f32(r, OFF1(scl_inter));
    h->intent_code = (int)get_i16(r, OFF1(intent_code));
    h->qform_code = (int)get_i16(r, OFF1(qform_code));
    h->sform_code = (int)get_i16(r, OFF1(sform_code));
    h->quatern[0] = get_f32(r, OFF1(quatern_b));
    h->quatern[1] = get_f32(r, OFF1(quatern_c));
    h->quatern[2] = get_f32(r, OFF1(quatern_d));
    h->qoffset[0] = get_f32(r, OFF1(qoffset_x));
    h->qoffset[1] = get_f32(r, OFF1(qoffset_y));
    h->qoffset[2] = get_f32(r, OFF1(qoffset_z));
    for (int c = 0; c < 4; c++) {
        h->srow[0][c] = get_f32(r, OFF1(srow_x) + 4 * (size_t)c);
        h->srow[1][c] = get_f32(r, OFF1(srow_y) + 4 * (size_t)c);
        h->srow[2][c] = get_f32(r, OFF1(srow_z) + 4 * (size_t)c);
    }
    memcpy(h->descrip, r->p + OFF1(descrip), 80);
    h->descrip[80] = '\0';
}

static void decode_n2(const hdr_reader *r, nii_hdr *h) {
    h->version = 2;
    for (int i = 0; i < 8; i++) h->dim[i] = get_i64(r, OFF2(dim) + 8 * (size_t)i);
    for (int i = 0; i < 8; i++) h->pixdim[i] = get_f64(r, OFF2(pixdim) + 8 * (size_t)i);
    h->datatype = (int)get_i16(r, OFF2(datatype));
    h->vox_offset = (double)get_i64(r, OFF2(vox_offset));
    h->scl_slope = get_f64(r, OFF2(scl_slope));
    h->scl_inter = get_f64(r, OFF2(scl_inter));
    h->intent_code = (int)get_i32(r, OFF2(intent_code));
    h->qform_code = (int)get_i32(r, OFF2(qform_code));
    h->sform_code = (int)get_i32(r, OFF2(sform_code));
    h->quatern[0] = get_f64(r, OFF2(quatern_b));
    h->quatern[1] = get_f64(r, OFF2(quatern_c));
    h->quatern[2] = get_f64(r, OFF2(quatern_d));
    h->qoffset[0] = get_f64(r, OFF2(qoffset_x));
    h->qoffset[1] = get_f64(r, OFF2(qoffset_y));
    h->qoffset[2] = get_f64(r, OFF2(qoffset_z));
    for (int c = 0; c < 4; c++) {
        h->srow[0][c] = get_f64(r, OFF2(srow_x) + 8 * (size_t)c);
        h->srow[1][c] = get_f64(r, OFF2(srow_y) + 8 * (size_t)c);
        h->srow[2][c] = get_f64(r, OFF2(srow_z) + 8 * (size_t)c);
    }
    memcpy(h->descrip, r->p + OFF2(descrip), 80);
    h->descrip[80] = '\0';
}

/* ---- axis codes ---------------------------------------------------------------------------- */
void sb_affine_axcodes(const double affine[4][4], char out[4]) {
    static const char pos[3] = {'R', 'A', 'S'}, neg[3] = {'L', 'P', 'I'};
    double R[3][3];
    for (int r = 0; r < 3; r++)
        for (int c = 0; c < 3; c++) R[r][c] = affine[r][c];
    /* nibabel's io_orientation: for each voxel axis in turn, the world axis with the largest
     * absolute component, that world axis then excluded from the following voxel axes. */
    for (int c = 0; c < 3; c++) {
        int best = -1;
        double bestabs = 0;
        for (int r = 0; r < 3; r++)
            if (fabs(R[r][c]) > bestabs) {
                bestabs = fabs(R[r][c]);
                best = r;
            }
        if (best < 0 || !isfinite(bestabs)) {
            out[c] = '?';
            continue;
        }
        out[c] = R[best][c] > 0 ? pos[best] : neg[best];
        for (int k = 0; k < 3; k++) R[best][k] = 0;
    }
    out[3] = '\0';
}

/* ---- validation ---------------------------------------------------------------------------- */
static double det3(const double m[4][4]) {
    return m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1]) -
           m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0]) +
           m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0]);
}

/* Checks the header and computes dims, the affine and the data size. */
static sb_status check_header(const char *path, nii_hdr *h, size_t dim[3], double aff[4][4],
                              size_t *nbytes, int *used_sform, sb_error *err) {
    int nd = (int)h->dim[0];
    if (h->dim[0] < 1 || h->dim[0] > 7)
        return sb_error_set(err, SB_ERR_INPUT, "%s: dim[0] = %lld (must be 1..7)", path,
                            (long long)h->dim[0]);
    for (int d = 1; d <= nd; d++)
        if (h->dim[d] < 1)
            return sb_error_set(err, SB_ERR_INPUT, "%s: dim[%d] = %lld (must be >= 1)", path, d,
                                (long long)h->dim[d]);
    for (int d = 0; d < 3; d++) {
        int64_t n = d + 1 <= nd ? h->dim[d + 1] : 1;
        if ((uint64_t)n > SIZE_MAX)
            return sb_error_set(err, SB_ERR_INPUT, "%s: dim[%d] = %lld is too large", path, d + 1,
                                (long long)n);
        dim[d] = (size_t)n;
    }
    if (sb_dtype_size((sb_dtype)h->datatype) == 0)
        return sb_error_set(err, SB_ERR_INPUT,
                            "%s: datatype = %d is not supported (uint8, int8, int16, uint16, "
                            "int32, uint32, float32, float64)",
                            path, h->datatype);
    *nbytes = sb_volume_bytes_needed(dim, (sb_dtype)h->datatype);
    if (*nbytes == 0)
        return sb_error_set(err, SB_ERR_INPUT,
                            "%s: dim = %zu x %zu x %zu: the voxel count overflows", path, dim[0],
                            dim[1], dim[2]);
    double pix[3];
    for (int d = 0; d < 3; d++) {
        pix[d] = 1.0;
        if (d + 1 > nd) continue;
        pix[d] = h->pixdim[d + 1];
        if (!(pix[d] > 0) || !isfinite(pix[d]))
            return sb_error_set(err, SB_ERR_INPUT, "%s: pixdim[%d] = %g (must be positive)", path,
                                d + 1, pix[d]);
    }
    int hdr_end = h->version == 1 ? N1_HDR : N2_HDR;
    if (!isfinite(h->vox_offset) || h->vox_offset > 4.0e18 ||
        (h->vox_offset != 0 && h->vox_offset < hdr_end))
        return sb_error_set(err, SB_ERR_INPUT, "%s: vox_offset = %g (must be >= %d)", path,
                            h->vox_offset, hdr_end);
    if (h->vox_offset == 0) h->vox_offset = hdr_end + 4; /* as nibabel: missing = minimal */
    h->vox_offset = floor(h->vox_offset);

    memset(aff, 0, 16 * sizeof(double));
    aff[3][3] = 1.0;
    *used_sform = 0;
    if (h->sform_code > 0) {
        *used_sform = 1;
        for (int r = 0; r < 3; r++)
            for (int c = 0; c < 4; c++) {
                if (!isfinite(h->srow[r][c]))
                    return sb_error_set(err, SB_ERR_INPUT, "%s: srow_%c[%d] = %g", path, "xyz"[r],
                                        c, h -> srow[r][c]);
                aff[r][c] = h->srow[r][c];
            }
    } else if (h->qform_code > 0) {
        for (int i = 0; i < 3; i++) {
            if (!isfinite(h->quatern[i]))
                return sb_error_set(err, SB_ERR_INPUT, "%s: quatern_%c = %g", path, "bcd"[i],
                                    h -> quatern[i]);
            if (!isfinite(h->qoffset[i]))
                return sb_error_set(err, SB_ERR_INPUT, "%s: qoffset_%c = %g", path, "xyz"[i],
                                    h -> qoffset[i]);
        }
        double qfac = h->pixdim[0] < 0 ? -1.0 : 1.0;
        nifti_dmat44 m =
            nifti_quatern_to_dmat44(h->quatern[0], h->quatern[1], h->quatern[2], h->qoffset[0],
                                    h->qoffset[1], h->qoffset[2], pix[0], pix[1], pix[2], qfac);
        for (int r = 0; r < 3; r++)
            for (int c = 0; c < 4; c++) aff[r][c] = m.m[r][c];
    } else {
        for (int d = 0; d < 3; d++) aff[d][d] = pix[d];
    }
    double scale = 1.0;
    for (int c = 0; c < 3; c++) {
        double s = 0;
        for (int r = 0; r < 3; r++) s += aff[r][c] * aff[r][c];
        scale *= sqrt(s);
    }
    double det = det3((const double(*)[4])aff);
    const char *src = *used_sform ? "sform" : h->qform_code > 0 ? "qform" : "pixdim affine";
    if (!isfinite(det) || !isfinite(scale) || !(fabs(det) > 1e-12 * scale))
        return sb_error_set(err, SB_ERR_INPUT, "%s: the %s is singular or not finite", path, src);
    /* absurd geometry: voxel edges outside 1e-4 .. 1e5 mm or an origin beyond 1e7 mm would
     * give meshes and resampling coordinates without meaning (or overflowing floats) */
    for (int c = 0; c < 3; c++) {
        double s = sqrt(aff[0][c] * aff[0][c] + aff[1][c] * aff[1][c] + aff[2][c] * aff[2][c]);
        if (!(s >= SB_NIFTI_MIN_SPACING_MM && s <= SB_NIFTI_MAX_SPACING_MM))
            return sb_error_set(err, SB_ERR_INPUT,
                                "%s: voxel axis %d of the %s is %g mm long (must be %g .. %g mm)",
                                path, c + 1, src, s, SB_NIFTI_MIN_SPACING_MM,
                                SB_NIFTI_MAX_SPACING_MM);
        if (!(fabs(aff[c][3]) <= 1e7))
            return sb_error_set(err, SB_ERR_INPUT, "%s: the %s's origin %c = %g mm is absurd", path,
                                src, "xyz"[c], aff[c][3]);
    }
    return SB_OK;
}

/* Reads up to n bytes; returns the count read, or -1 on a read/decompression error. */
static long long gz_read_all(gzFile gz, void *buf, size_t n) {
    size_t got = 0;
    while (got < n) {
        size_t want = n - got > ((size_t)1 << 30) ? ((size_t)1 << 30) : n - got;
        int r = gzread(gz, (uint8_t *)buf + got, (unsigned)want);
        if (r < 0) return -1;
        if (r == 0) break;
        got += (size_t)r;
    }
    return (long long)got;
}

static void swap_data(void *data, size_t nvox, size_t es) {
    uint8_t *p = data;
    for (size_t i = 0; i < nvox; i++, p += es)
        for (size_t b = 0; b < es / 2; b++) {
            uint8_t t = p[b];
            p[b] = p[es - 1 - b];
            p[es - 1 - b] = t;
        }
}

static sb_status read_open(const char *path, const sb_ctx *ctx, gzFile gz, sb_volume **out,
                           sb_nifti_info *info, sb_error *err) {
    uint8_t buf[N2_HDR];
    long long n = gz_read_all(gz, buf, sizeof buf);
    if (n < 0) {
        int zerr = 0;
        const char *msg = gzerror(gz, &zerr);
        return sb_error_set(err, SB_ERR_INPUT, "%s: cannot read: %s", path,
                            zerr == Z_ERRNO ? strerror(errno) : msg);
    }
    if (n == 0) return sb_error_set(err, SB_ERR_INPUT, "%s: empty file, not a NIfTI file", path);
    if (n < 4)
        return sb_error_set(err, SB_ERR_INPUT, "%s: %lld bytes: too short for a NIfTI header", path,
                            n);
    int compressed = !gzdirect(gz);
    uint32_t sz;
    memcpy(&sz, buf, 4);
    hdr_reader r = {buf, 0};
    int version = 0;
    if (sz == N1_HDR || sz == N2_HDR) {
        version = sz == N1_HDR ? 1 : 2;
    } else if (bswap32(sz) == N1_HDR || bswap32(sz) == N2_HDR) {
        version = bswap32(sz) == N1_HDR ? 1 : 2;
        r.swap = 1;
    } else {
        return sb_error_set(err, SB_ERR_INPUT,
                            "%s: not a NIfTI-1/2 file (sizeof_hdr = %lld, expected 348 or 540)",
                            path, (long long)(int32_t)sz);
    }
    int big_endian = r.swap ? !host_is_big_endian() : host_is_big_endian();
    int hdr_bytes = version == 1 ? N1_HDR : N2_HDR;
    if (n < hdr_bytes)
        return sb_error_set(err, SB_ERR_INPUT,
                            "%s: truncated header: %lld bytes, a NIfTI-%d header has %d", path, n,
                            version, hdr_bytes);
    const uint8_t *magic = buf + (version == 1 ? OFF1(magic) : OFF2(magic));
    if (version == 1 && memcmp(magic, "ni1", 4) == 0)
        return sb_error_set(err, SB_ERR_INPUT,
                            "%s: magic \"ni1\" is a .hdr/.img pair header; only single-file "
                            "NIfTI (magic \"n+1\") is read",
                            path);
    if (memcmp(magic, version == 1 ? "n+1" : "n+2", 4) != 0)
        return sb_error_set(err, SB_ERR_INPUT,
                            "%s: not a NIfTI-1/2 file (magic is not \"n+%d\" for sizeof_hdr %d)",
                            path, version, hdr_bytes);

    nii_hdr h;
    memset(&h, 0, sizeof h);
    if (version == 1)
        decode_n1(&r, &h);
    else
        decode_n2(&r, &h);
    size_t dim[3] = {0, 0, 0}, nbytes = 0;
    double aff[4][4];
    int used_sform = 0;
    sb_status s = check_header(path, &h, dim, aff, &nbytes, &used_sform, err);
    if (s) return s;
    size_t voxoff = (size_t)h.vox_offset;

    /* what the header claims: every volume of a 4-D+ file, though only the first is read */
    uint64_t nvols = 1;
    for (int d = 4; d <= h.dim[0]; d++) {
        if ((uint64_t)h.dim[d] > UINT64_MAX / nvols)
            return sb_error_set(err, SB_ERR_INPUT, "%s: dim[4..%d] overflow the volume count", path,
                                (int)h.dim[0]);
        nvols *= (uint64_t)h.dim[d];
    }
    if (nvols > UINT64_MAX / nbytes || nvols * nbytes > UINT64_MAX - voxoff)
        return sb_error_set(err, SB_ERR_INPUT, "%s: %llu volumes of %zu bytes overflow", path,
                            (unsigned long long)nvols, nbytes);
    uint64_t claimed = nvols * nbytes; /* data bytes the header promises */
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) { /* pipes: bounded by memory only */
        uint64_t fsize = (uint64_t)st.st_size;
        if (!compressed) {
            uint64_t have = fsize > voxoff ? fsize - voxoff : 0;
            if (have < claimed)
                return sb_error_set(err, SB_ERR_INPUT,
                                    "%s: truncated: needs %llu bytes of data, file has %llu "
                                    "(header: dim %lld %lld %lld, %llu volume%s)",
                                    path, (unsigned long long)claimed, (unsigned long long)have,
                                    (long long)dim[0], (long long)dim[1], (long long)dim[2],
                                    (unsigned long long)nvols, nvols == 1 ? "" : "s");
        } else if (fsize > UINT64_MAX / SB_GZIP_MAX_RATIO ||
                   voxoff + claimed > fsize * SB_GZIP_MAX_RATIO) {
            return sb_error_set(err, SB_ERR_INPUT,
                                "%s: truncated: needs %llu bytes of data, more than a %llu-byte "
                                "gzip file can hold (header: dim %lld %lld %lld, %llu volume%s)",
                                path, (unsigned long long)claimed, (unsigned long long)fsize,
                                (long long)dim[0], (long long)dim[1], (long long)dim[2],
                                (unsigned long long)nvols, nvols == 1 ? "" : "s");
        }
    }
    char what[4200];
    snprintf(what, sizeof what, "reading %s (%zux%zux%zu %s)", path, dim[0], dim[1], dim[2],
             sb_dtype_name((sb_dtype)h.datatype));
    s = sb_memory_check(nbytes, what, err);
    if (s) return s;

    double spacing[3] = {1, 1, 1};
    sb_volume *v = NULL;
    s = sb_volume_create(dim, spacing, (sb_dtype)h.datatype, &v, err);
    if (s) return s;
    memcpy(v->affine, aff, sizeof v->affine);
    sb_volume_update_spacing(v);

    long long got = -1;
    if (gzseek(gz, (z_off_t)voxoff, SEEK_SET) >= 0) got = gz_read_all(gz, v->data, nbytes);
    if (got < 0) {
        int zerr = 0;
        const char *msg = gzerror(gz, &zerr);
        sb_volume_free(v);
        return sb_error_set(err, SB_ERR_INPUT, "%s: cannot read the data: %s", path,
                            zerr == Z_ERRNO ? strerror(errno) : msg);
    }
    if ((size_t)got < nbytes) {
        sb_volume_free(v);
        return sb_error_set(err, SB_ERR_INPUT,
                            "%s: truncated: needs %zu bytes of data, file has %lld", path, nbytes,
                            got);
    }
    size_t es = sb_dtype_size(v->dtype);
    if (es > 1 && big_endian != host_is_big_endian()) swap_data(v->data, sb_volume_nvox(v), es);

    if (nvols > 1)
        sb_log(ctx, SB_LOG_WARN, "%s is %lld-D with %llu volumes; using the first", path,
               (long long)h.dim[0], (unsigned long long)nvols);

    if (info) {
        memset(info, 0, sizeof *info);
        info->version = version;
        info->big_endian = big_endian;
        info->compressed = compressed;
        info->ndim = (int)h.dim[0];
        for (int i = 0; i < 8; i++) {
            info->dim[i] = h.dim[i];
            info->pixdim[i] = h.pixdim[i];
        }
        info->datatype = h.datatype;
        info->scl_slope = h.scl_slope;
        info->scl_inter = h.scl_inter;
        info->intent_code = h.intent_code;
        info->qform_code = h.qform_code;
        info->sform_code = h.sform_code;
        info->used_sform = used_sform;
        sb_affine_axcodes(v->affine, info->orient);
        memcpy(info->descrip, h.descrip, sizeof info->descrip);
    }
    *out = v;
    return SB_OK;
}

sb_status sb_nifti_read(const char *path, const sb_ctx *ctx, sb_volume **out, sb_nifti_info *info,
                        sb_error *err) {
    if (out) *out = NULL;
    if (!path || !out) return sb_error_set(err, SB_ERR_USAGE, "sb_nifti_read: NULL argument");
    struct stat st;
    if (stat(path, &st) != 0)
        return sb_error_set(err, SB_ERR_INPUT, "cannot open %s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode))
        return sb_error_set(err, SB_ERR_INPUT, "%s is a directory, not a NIfTI file", path);
    gzFile gz = gzopen(path, "rb");
    if (!gz) return sb_error_set(err, SB_ERR_INPUT, "cannot open %s: %s", path, strerror(errno));
    gzbuffer(gz, 1u << 18);
    sb_status s = read_open(path, ctx, gz, out, info, err);
    gzclose_r(gz);
    return s;
}
