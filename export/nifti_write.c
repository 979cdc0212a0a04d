/* nifti_write.c — a volume as a NIfTI-1 single file (.nii), or gzip-compressed (.nii.gz).
 *
 * Follows the NIfTI-1 format (nifti1.h, NIfTI Data Format Working Group, 2004): a 348-byte
 * header, the 4-byte extension flag (zero: no extensions), the voxels from vox_offset = 352,
 * i fastest. Everything is written little-endian whatever the host. qform and sform both hold
 * the affine (code 1): the sform as its rows, the qform as the quaternion, offset and qfac from
 * libnifti's nifti_dmat44_to_quatern. The qform can only hold rotation x positive scales (x an
 * optional flip of k): an affine with shear is stored exactly in the sform only.
 *
 * We write the header ourselves because libnifti 3.0.1's nifti_image_write() returns void and
 * does not report failed writes, and its gzip path is zlib at the default level.
 *
 * Compression (.nii.gz): the byte stream (header + data) is cut into fixed chunks (8 MiB for
 * label maps, 1 MiB for intensity images); each chunk becomes one gzip member (RFC 1952, mtime
 * 0), compressed in parallel by OpenMP into per-chunk buffers and written in order; a chunk
 * that lies wholly inside the planes of one sb_nifti_writer_put is compressed where the caller
 * holds it (no copy: at 2 mm 1.07 GB of images a run). A file of more than one buffer has a
 * thread of its own that writes the members of a buffer while the program goes on making the
 * next planes, with direct writes (O_DIRECT, whole 1 MiB stages; the last partial block
 * without) on a local disk file system that takes them (ext4, XFS, Btrfs, F2FS; not on
 * network and cluster file systems, see on_local_disk): no copy into the page cache and no
 * write-back later (at 2 mm 475 MB a run; the process's system time 0.61 -> 0.39 s, median of 4
 * pairs), and the fsync of the commit has little left to wait for. Elsewhere (EINVAL: tmpfs, some
 * file systems) plain writes whose disk writes are started as the file grows (sync_file_range).
 * Concatenated members form a valid gzip file (RFC 1952 section 2.2) that zlib's gzread,
 * nibabel and libnifti read. Since the chunking is fixed, the bytes do not depend on the thread
 * count, nor on how the planes are handed to the streaming writer (sb_nifti_writer: any number
 * of z planes at a time, memory bounded by threads x ~16 MiB whatever the volume size;
 * sb_nifti_write is that writer fed at once).
 * Every file: deflate_image (deflate_lines.c), Huffman coding without a match search (zlib at
 * its default level, libnifti's .nii.gz path, runs at ~11 MB/s on noisy int16 MRI).
 * Intensity images: their noise leaves LZ77 little to find. On the six int16 images of seed 1 at 2
 * mm (T1w, T2w, Dixon water, fat, in, opp) libdeflate level 1 made them 1.96-2.21x smaller,
 * deflate_image 1.80-2.14x; since its codes come from sampled byte counts (2026-11-25) it runs at
 * ~1950 MB/s against libdeflate level 1's 250-280 MB/s (one thread, CPU time, idle): files 3-9 %
 * larger for an eighth of the time. Label maps: deflate_image's runs (matches at one
 * element's distance) instead of libdeflate level 6 (until 2026-11): on the uint16 label map of
 * seed 1 at 2 mm (152.6 MB, 8 MiB members, one thread, load ~12) 2.20 MB at 532 MB/s against 1.65
 * MB at 219 MB/s (level 1: 2.44 MB at 219 MB/s, level 4 1.94 MB at 273 MB/s): a third larger, 2.4x
 * the speed.
 */
#define _GNU_SOURCE /* sync_file_range (Linux) */
#include "scene_internal.h"

#include <fcntl.h>
#include <libdeflate.h>
#include <nifti2_io.h>

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/vfs.h>
#endif

#ifdef _OPENMP
#include <omp.h>
#endif

#define NII_HDR_BYTES 348
#define NII_DATA_OFFSET 352
#define GZ_CHUNK ((size_t)8 << 20)       /* bytes of the stream per gzip member; a multiple of 8 */
#define GZ_CHUNK_IMAGE ((size_t)1 << 20) /* the same for intensity images (deflate_image) */
/* direct writes (O_DIRECT): offsets, lengths and the buffer aligned to DIRECT_ALIGN bytes (a
 * multiple of any device's logical block); the members gathered into DIRECT_STAGE bytes */
#define DIRECT_ALIGN ((size_t)4096)
#define DIRECT_STAGE ((size_t)1 << 20)

/* ---- little-endian serialisation at the offsets of libnifti's nifti_1_header -------------- */
#define OFF(field) offsetof(nifti_1_header, field)

static void put_u16(uint8_t *p, uint16_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static void put_i16(uint8_t *p, int v) {
    put_u16(p, (uint16_t)(int16_t)v);
}
static void put_u32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put_i32(uint8_t *p, int32_t v) {
    put_u32(p, (uint32_t)v);
}
static void put_f32(uint8_t *p, double v) {
    float f = (float)v;
    uint32_t u;
    memcpy(&u, &f, 4);
    put_u32(p, u);
}

static int host_is_little_endian(void) {
    const uint16_t one = 1;
    uint8_t b;
    memcpy(&b, &one, 1);
    return b == 1;
}

static int path_has_suffix(const char *path, const char *suffix) {
    size_t n = strlen(path), m = strlen(suffix);
    return n > m && strcmp(path + n - m, suffix) == 0;
}

/* Fills the 352 bytes before the data: header + zero extension flag. */
static sb_status build_header(const sb_volume *v, int intent_code, const char *descrip,
                              double slope, double inter, const char *path,
                              uint8_t hdr[NII_DATA_OFFSET], sb_error *err) {
    memset(hdr, 0, NII_DATA_OFFSET);
    double colnorm[3];
    for (int c = 0; c < 3; c++) {
        double s = 0;
        for (int r = 0; r < 3; r++) s += v->affine[r][c] * v->affine[r][c];
        colnorm[c] = sqrt(s);
        if (!(colnorm[c] > 0) || !isfinite(colnorm[c]))
            return sb_error_set(err, SB_ERR_USAGE, "%s: affine column %d has norm %g", path, c,
                                colnorm[c]);
    }
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 4; c++)
            if (!isfinite(v->affine[r][c]))
                return sb_error_set(err, SB_ERR_USAGE, "%s: affine[%d][%d] is %g", path, r, c,
                                    v->affine[r][c]);
    for (int d = 0; d < 3; d++)
        if (v->dim[d] < 1 || v->dim[d] > 32767)
            return sb_error_set(err, SB_ERR_USAGE,
                                "%s: dim[%d] = %zu cannot be stored in NIfTI-1 (1..32767)", path,
                                d + 1, v->dim[d]);
    if (intent_code < INT16_MIN || intent_code > INT16_MAX)
        return sb_error_set(err, SB_ERR_USAGE, "%s: intent_code %d out of range", path,
                            intent_code);

    nifti_dmat44 R;
    memcpy(R.m, v->affine, sizeof R.m);
    double qb, qc, qd, qx, qy, qz, dx, dy, dz, qfac;
    nifti_dmat44_to_quatern(R, &qb, &qc, &qd, &qx, &qy, &qz, &dx, &dy, &dz, &qfac);

    put_i32(hdr + OFF(sizeof_hdr), NII_HDR_BYTES);
    put_i16(hdr + OFF(dim) + 0, 3);
    for (int d = 0; d < 3; d++) put_i16(hdr + OFF(dim) + 2 * (d + 1), (int)v->dim[d]);
    for (int d = 4; d < 8; d++) put_i16(hdr + OFF(dim) + 2 * d, 1);
    put_i16(hdr + OFF(intent_code), intent_code);
    put_i16(hdr + OFF(datatype), (int)v->dtype);
    put_i16(hdr + OFF(bitpix), (int)(8 * sb_dtype_size(v->dtype)));
    put_f32(hdr + OFF(pixdim) + 0, qfac < 0 ? -1.0 : 1.0);
    for (int d = 0; d < 3; d++) put_f32(hdr + OFF(pixdim) + 4 * (d + 1), colnorm[d]);
    for (int d = 4; d < 8; d++) put_f32(hdr + OFF(pixdim) + 4 * d, 1.0);
    put_f32(hdr + OFF(vox_offset), NII_DATA_OFFSET);
    put_f32(hdr + OFF(scl_slope), slope);
    put_f32(hdr + OFF(scl_inter), inter);
    hdr[OFF(xyzt_units)] = NIFTI_UNITS_MM;
    if (descrip) {
        size_t n = strlen(descrip);
        if (n > 79) n = 79;
        memcpy(hdr + OFF(descrip), descrip, n);
    }
    put_i16(hdr + OFF(qform_code), NIFTI_XFORM_SCANNER_ANAT);
    put_i16(hdr + OFF(sform_code), NIFTI_XFORM_SCANNER_ANAT);
    put_f32(hdr + OFF(quatern_b), qb);
    put_f32(hdr + OFF(quatern_c), qc);
    put_f32(hdr + OFF(quatern_d), qd);
    put_f32(hdr + OFF(qoffset_x), qx);
    put_f32(hdr + OFF(qoffset_y), qy);
    put_f32(hdr + OFF(qoffset_z), qz);
    for (int c = 0; c < 4; c++) {
        put_f32(hdr + OFF(srow_x) + 4 * c, v->affine[0][c]);
        put_f32(hdr + OFF(srow_y) + 4 * c, v->affine[1][c]);
        put_f32(hdr + OFF(srow_z) + 4 * c, v->affine[2][c]);
    }
    memcpy(hdr + OFF(magic), "n+1", 4);
    /* bytes 348..351: extension flag, zero */
    return SB_OK;
}

/* Copies n bytes of data from src to dst in little-endian order (es bytes per element). */
static void copy_le(const uint8_t *src, size_t es, size_t n, uint8_t *dst) {
    if (es == 1 || host_is_little_endian()) {
        memcpy(dst, src, n);
        return;
    }
    for (size_t e = 0; e < n; e += es)
        for (size_t b = 0; b < es; b++) dst[e + b] = src[e + es - 1 - b];
}

/* The stream (header + data) is cut into chunks of `chunk` bytes (GZ_CHUNK for label maps,
 * GZ_CHUNK_IMAGE for intensity images: finer pieces of work for the threads, so none waits long
 * for the other), pending until nslots of them (or a put's end) are compressed in parallel (one
 * gzip member each) and written in order. A chunk wholly inside the planes of one put is
 * compressed where the caller holds it (little-endian hosts; the put returns once it is
 * compressed); the others are gathered into `in`, pending chunk i at slot i, the partial chunk
 * at slot npend.
 * Plain files go through `in` too (little-endian conversion), written when it is full. */
struct sb_nifti_writer {
    sb_outfile o;
    int gz;
    size_t es;          /* bytes per voxel */
    size_t plane_bytes; /* bytes of one z plane */
    size_t planes_left; /* z planes still expected */
    size_t nslots, chunk;
    int threads;
    uint8_t *in; /* cap bytes: nslots x chunk, or the whole stream if shorter */
    size_t cap;
    size_t fill;         /* bytes of the partial chunk (plain files: of `in`) */
    size_t npend, nheld; /* chunks pending; of them held in the caller's planes */
    const uint8_t **src; /* the pending chunks (chunk bytes each) */
    uint8_t **out;
    size_t out_cap, *out_len;
    int committed;
    /* background writes (async): the thread io writes the io_n members of out[] handed to it
     * (then with io_sync the file's rest to disk, fsync), then sets io_n and io_sync to 0
     * (out[] free again); the first failure in io_status / io_err */
    int async, stop, io_sync;
    pthread_t io;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t io_n;
    sb_status io_status;
    sb_error io_err;
    /* direct writes (files with a thread of their own, where the file system takes them): the
     * members are gathered in stage (DIRECT_STAGE bytes, `staged` in use) and written by
     * write(2) with O_DIRECT in whole stages, the last partial block without it (direct_drain) */
    int direct;
    uint8_t *stage;
    size_t staged;
};

/* One gzip member (RFC 1952: no name, mtime 0, XFL 4 "fastest", OS unknown) of in[0..n) with
 * deflate_image; its size, or 0 when out of memory or cap is too small. */
static size_t gzip_image(const uint8_t *in, size_t n, size_t es, uint8_t *out, size_t cap) {
    static const uint8_t head[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 4, 0xff};
    if (cap < 18 || n > UINT32_MAX) return 0;
    size_t z = deflate_image(in, n, es, out + 10, cap - 18);
    if (!z) return 0;
    memcpy(out, head, 10);
    put_u32(out + 10 + z, (uint32_t)libdeflate_crc32(0, in, n));
    put_u32(out + 14 + z, (uint32_t)n);
    return z + 18;
}

/* Starts the disk writes of what the file holds so far without waiting for them to finish, so
 * that the fsync of sb_outfile_commit finds little left to write: the file's pages go to disk
 * while the rest of it (and the next images) are made, not all at the end with the program
 * waiting (a 2 mm subject's seven files: 0.26-0.40 s of fsync, measured with strace). */
static void start_writeback(sb_outfile *o) {
#if defined(__linux__) && defined(SYNC_FILE_RANGE_WRITE)
    if (o->fp && fflush(o->fp) == 0)
        (void)sync_file_range(fileno(o->fp), 0, 0, SYNC_FILE_RANGE_WRITE); /* only a hint */
#else
    (void)o;
#endif
}

/* Whether the file lies on a local disk file system (ext4, XFS, Btrfs, F2FS) where direct
 * writes are cheap. Elsewhere they are not tried: on NFS, Lustre or GPFS (where `batch` writes
 * datasets on a cluster) each direct write is a synchronous round trip to the server, while the
 * page cache lets the kernel gather and overlap them. */
static int on_local_disk(sb_nifti_writer *w) {
#ifdef __linux__
    struct statfs fs;
    if (fstatfs(fileno(w->o.fp), &fs) != 0) return 0;
    switch ((unsigned long)fs.f_type) {
    case 0xEF53UL:     /* ext2/3/4 */
    case 0x58465342UL: /* XFS */
    case 0x9123683EUL: /* Btrfs */
    case 0xF2F52010UL: /* F2FS */
        return 1;
    default:
        return 0;
    }
#else
    (void)w;
    return 0;
#endif
}

/* Switches O_DIRECT on or off for the file's descriptor; 0 on success. */
static int set_direct(sb_nifti_writer *w, int on) {
#ifdef O_DIRECT
    int fd = fileno(w->o.fp), fl = fcntl(fd, F_GETFL);
    if (fl < 0) return -1;
    return fcntl(fd, F_SETFL, on ? fl | O_DIRECT : fl & ~O_DIRECT) < 0 ? -1 : 0;
#else
    (void)w;
    return on ? -1 : 0;
#endif
}

/* write(2) of p[0..n) to the file, resumed after interruptions and short writes; 0 or errno,
 * with *done the bytes written. */
static int write_all(int fd, const uint8_t *p, size_t n, size_t *done) {
    *done = 0;
    while (*done < n) {
        ssize_t r = write(fd, p + *done, n - *done);
        if (r > 0)
            *done += (size_t)r;
        else if (r == 0)
            return EIO;
        else if (errno != EINTR)
            return errno;
    }
    return 0;
}

/* Writes p[0..n) from the stage (direct) or, when the file system refuses a direct write
 * (EINVAL), the rest of it without O_DIRECT, and every later write too. */
static sb_status stage_write(sb_nifti_writer *w, const uint8_t *p, size_t n, sb_error *err) {
    int fd = fileno(w->o.fp);
    size_t done = 0, more = 0;
    int e = write_all(fd, p, n, &done);
    if (e == EINVAL && w->direct && set_direct(w, 0) == 0) {
        w->direct = 0;
        e = write_all(fd, p + done, n - done, &more);
    }
    if (!e) return SB_OK;
    return sb_error_set(err, SB_ERR_OUTPUT, "cannot write %s: %s", w->o.final_path,
                        sb_write_failure(e));
}

/* Appends n bytes to the file: gathered into the stage and written a whole stage at a time
 * with direct writes, or (no direct writes) by fwrite. */
static sb_status io_put(sb_nifti_writer *w, const uint8_t *p, size_t n, sb_error *err) {
    while (n && w->direct) {
        size_t k = DIRECT_STAGE - w->staged < n ? DIRECT_STAGE - w->staged : n;
        memcpy(w->stage + w->staged, p, k);
        w->staged += k, p += k, n -= k;
        if (w->staged < DIRECT_STAGE) break;
        w->staged = 0;
        sb_status s = stage_write(w, w->stage, DIRECT_STAGE, err);
        if (s) return s;
    }
    return n ? sb_outfile_write(&w->o, p, n, err) : SB_OK;
}

/* Writes what the stage holds: its whole blocks direct, the last partial block without
 * O_DIRECT (which stays off: the file is complete). */
static sb_status direct_drain(sb_nifti_writer *w, sb_error *err) {
    if (!w->direct) return SB_OK;
    size_t n = w->staged, whole = n / DIRECT_ALIGN * DIRECT_ALIGN;
    w->staged = 0;
    sb_status s = whole ? stage_write(w, w->stage, whole, err) : SB_OK;
    if (s || n == whole) return s;
    if (w->direct && set_direct(w, 0) != 0)
        return sb_error_set(err, SB_ERR_OUTPUT, "cannot write %s: %s", w->o.final_path,
                            strerror(errno));
    w->direct = 0;
    return stage_write(w, w->stage + whole, n - whole, err);
}

/* The writer's thread: writes the members handed to it, in order, and starts their disk writes;
 * stops when asked to and nothing is left. */
static void *io_main(void *arg) {
    sb_nifti_writer *w = arg;
    pthread_mutex_lock(&w->mu);
    for (;;) {
        while (!w->io_n && !w->io_sync && !w->stop) pthread_cond_wait(&w->cv, &w->mu);
        if (!w->io_n && !w->io_sync) break;
        size_t n = w->io_n;
        int sync = w->io_sync;
        sb_status s = w->io_status;
        pthread_mutex_unlock(&w->mu);
        for (size_t i = 0; i < n && !s; i++) s = io_put(w, w->out[i], w->out_len[i], &w->io_err);
        if (!s && sync) s = direct_drain(w, &w->io_err);
        if (!s && sync && (fflush(w->o.fp) != 0 || fsync(fileno(w->o.fp)) != 0))
            s = sb_error_set(&w->io_err, SB_ERR_OUTPUT, "cannot write %s: %s", w->o.final_path,
                             sb_write_failure(errno));
        else if (!s && !sync && !w->direct)
            start_writeback(&w->o);
        pthread_mutex_lock(&w->mu);
        w->io_status = s;
        w->io_n = 0, w->io_sync = 0;
        pthread_cond_broadcast(&w->cv);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* Waits until the writer's thread has written what it was given (out[] free); its status. */
static sb_status io_wait(sb_nifti_writer *w, sb_error *err) {
    if (!w->async) return SB_OK;
    pthread_mutex_lock(&w->mu);
    while (w->io_n || w->io_sync) pthread_cond_wait(&w->cv, &w->mu);
    sb_status s = w->io_status;
    pthread_mutex_unlock(&w->mu);
    if (s && err) *err = w->io_err;
    return s;
}

/* Stops the writer's thread once it has written what it was given. */
static void io_stop(sb_nifti_writer *w) {
    if (!w->async) return;
    pthread_mutex_lock(&w->mu);
    w->stop = 1;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->io, NULL);
    pthread_mutex_destroy(&w->mu);
    pthread_cond_destroy(&w->cv);
    w->async = 0;
}

/* Compresses the pending chunks (with `last` the partial one too: the stream's end) as one
 * member each, or writes a plain file's `in`; with a thread of its own, that thread writes them,
 * then with `sync` the file to disk. */
static sb_status flush(sb_nifti_writer *w, int sync, int last, sb_error *err) {
    if (!w->gz) {
        if (!w->fill) return SB_OK;
        sb_status s = sb_outfile_write(&w->o, w->in, w->fill, err);
        w->fill = 0;
        if (!s) start_writeback(&w->o);
        return s;
    }
    size_t tail = 0; /* bytes of the last member when it is the partial chunk */
    if (last && w->fill) {
        tail = w->fill;
        w->src[w->npend] = w->in + w->npend * w->chunk;
        w->npend++;
    }
    const size_t nb = w->npend;
    if (!nb) return SB_OK;
    int failed = 0;
    sb_status s = io_wait(w, err); /* out[] free: the members before are written */
    if (s) return s;
#pragma omp parallel num_threads(nb < (size_t)w->threads ? (int)nb : w->threads)                   \
    reduction(|                                                                                    \
              : failed)
    {
        if (!w->async) {
            /* without a thread of its own: one thread starts the disk writes of what the
             * flushes before wrote while the others compress (nothing writes to the file
             * during the loop) */
#pragma omp single nowait
            start_writeback(&w->o);
        }
#pragma omp for schedule(dynamic, 1)
        for (size_t i = 0; i < nb; i++) {
            size_t n = tail && i == nb - 1 ? tail : w->chunk;
            w->out_len[i] = gzip_image(w->src[i], n, w->es, w->out[i], w->out_cap);
            if (w->out_len[i] == 0) failed = 1;
        }
    }
    w->npend = w->nheld = 0;
    if (tail)
        w->fill = 0;
    else if (w->fill) /* the partial chunk to slot 0 */
        memmove(w->in, w->in + nb * w->chunk, w->fill);
    if (failed)
        return sb_error_set(err, SB_ERR_MEMORY, "%s: compression failed (out of memory)",
                            w->o.final_path);
    if (w->async) { /* written by the writer's thread while the next planes are made */
        pthread_mutex_lock(&w->mu);
        w->io_n = nb, w->io_sync = sync;
        pthread_cond_broadcast(&w->cv);
        pthread_mutex_unlock(&w->mu);
        return SB_OK;
    }
    for (size_t i = 0; i < nb && !s; i++)
        s = sb_outfile_write(&w->o, w->out[i], w->out_len[i], err);
    return s;
}

/* Appends n bytes (whole elements) of the stream, converted to little-endian; compressed
 * before it returns where chunks are held in src's memory. */
static sb_status append(sb_nifti_writer *w, const uint8_t *src, size_t es, size_t n,
                        sb_error *err) {
    const int hold = w->gz && (es == 1 || host_is_little_endian());
    while (n) {
        if (hold && !w->fill && n >= w->chunk) { /* a whole chunk where it is */
            w->src[w->npend++] = src, w->nheld++;
            src += w->chunk, n -= w->chunk;
        } else {
            uint8_t *d = w->gz ? w->in + w->npend * w->chunk : w->in;
            size_t room = (w->gz ? w->chunk : w->cap) - w->fill, k = room < n ? room : n;
            copy_le(src, es, k, d + w->fill);
            w->fill += k, src += k, n -= k;
            if (w->gz && w->fill == w->chunk) w->src[w->npend++] = d, w->fill = 0;
        }
        if (w->gz ? w->npend == w->nslots : w->fill == w->cap) {
            sb_status s = flush(w, 0, 0, err);
            if (s) return s;
        }
    }
    return w->nheld ? flush(w, 0, 0, err) : SB_OK;
}

void sb_nifti_writer_free(sb_nifti_writer *w) {
    if (!w) return;
    io_stop(w);
    sb_outfile_abort(&w->o);
    for (size_t i = 0; w->out && i < w->nslots; i++) free(w->out[i]);
    free(w->out);
    free(w->out_len);
    free(w->src);
    free(w->in);
    free(w->stage);
    free(w);
}

sb_status sb_nifti_writer_open(const sb_volume *grid, const char *path, int force, int intent_code,
                               const char *descrip, double slope, double inter,
                               sb_nifti_writer **out, sb_error *err) {
    *out = NULL;
    if (!grid || !path)
        return sb_error_set(err, SB_ERR_USAGE, "sb_nifti_writer_open: NULL grid or path");
    if (!(slope != 0 && isfinite(slope) && isfinite(inter)))
        return sb_error_set(err, SB_ERR_USAGE, "%s: scl_slope %g / scl_inter %g", path, slope,
                            inter);
    int gz = path_has_suffix(path, ".nii.gz");
    if (!gz && !path_has_suffix(path, ".nii"))
        return sb_error_set(err, SB_ERR_USAGE, "%s: NIfTI file names end in .nii or .nii.gz", path);
    size_t es = sb_dtype_size(grid->dtype);
    if (es == 0)
        return sb_error_set(err, SB_ERR_USAGE, "%s: unknown datatype code %d", path,
                            (int)grid->dtype);
    size_t nbytes = sb_volume_bytes_needed(grid->dim, grid->dtype);
    if (nbytes == 0 || nbytes > SIZE_MAX - NII_DATA_OFFSET)
        return sb_error_set(err, SB_ERR_USAGE, "%s: empty or oversized volume", path);
    uint8_t hdr[NII_DATA_OFFSET];
    sb_status s = build_header(grid, intent_code, descrip, slope, inter, path, hdr, err);
    if (s) return s;

    sb_nifti_writer *w = calloc(1, sizeof *w);
    if (!w) return sb_error_set(err, SB_ERR_MEMORY, "%s: out of memory", path);
    w->gz = gz;
    w->es = es;
    w->plane_bytes = grid->dim[0] * grid->dim[1] * es;
    w->planes_left = grid->dim[2];
    w->chunk = intent_code == SB_NIFTI_INTENT_LABEL ? GZ_CHUNK : GZ_CHUNK_IMAGE;
    size_t total = NII_DATA_OFFSET + nbytes, nchunks = (total + w->chunk - 1) / w->chunk;
    w->threads = 1;
#ifdef _OPENMP
    w->threads = omp_get_max_threads();
#endif
    size_t slots = (size_t)w->threads * (GZ_CHUNK / w->chunk); /* ~8 MiB per thread */
    w->nslots = gz && slots < nchunks ? slots : gz ? nchunks : 1;
    w->cap = w->nslots * w->chunk < total ? w->nslots * w->chunk : total;
    w->in = malloc(w->cap);
    if (gz) {
        w->out_cap = deflate_image_bound(total < w->chunk ? total : w->chunk) + 18;
        w->out = calloc(w->nslots, sizeof *w->out);
        w->out_len = calloc(w->nslots, sizeof *w->out_len);
        w->src = calloc(w->nslots, sizeof *w->src);
        for (size_t i = 0; w->out && w->out_cap && i < w->nslots; i++)
            w->out[i] = malloc(w->out_cap);
    }
    int ok = w->in != NULL;
    for (size_t i = 0; gz && ok && i < w->nslots; i++)
        ok = w->out_len && w->src && w->out && w->out[i];
    if (!ok) {
        free(w->in), w->in = NULL;
        sb_nifti_writer_free(w);
        return sb_error_set(err, SB_ERR_MEMORY, "%s: out of memory for the write buffers", path);
    }
    s = sb_outfile_open(&w->o, path, force, err);
    /* a thread of its own for a compressed file of more than one buffer (else: one write) */
    if (!s && gz && total > w->cap && pthread_mutex_init(&w->mu, NULL) == 0) {
        if (pthread_cond_init(&w->cv, NULL) != 0)
            pthread_mutex_destroy(&w->mu);
        else if (pthread_create(&w->io, NULL, io_main, w) != 0)
            pthread_cond_destroy(&w->cv), pthread_mutex_destroy(&w->mu);
        else
            w->async = 1;
    }
    /* its members written past the page cache on a local disk that allows it (the stream
     * starts at offset 0 of an empty file, so every whole stage is aligned) */
    if (!s && w->async && fflush(w->o.fp) == 0) {
        w->stage = aligned_alloc(DIRECT_ALIGN, DIRECT_STAGE);
        w->direct = w->stage && on_local_disk(w) && set_direct(w, 1) == 0;
    }
    if (!s) s = append(w, hdr, 1, NII_DATA_OFFSET, err);
    if (s) {
        sb_nifti_writer_free(w);
        return s;
    }
    *out = w;
    return SB_OK;
}

sb_status sb_nifti_writer_put(sb_nifti_writer *w, const sb_volume *planes, sb_error *err) {
    if (planes->dtype == 0 || sb_dtype_size(planes->dtype) != w->es ||
        planes->dim[0] * planes->dim[1] * w->es != w->plane_bytes ||
        planes->dim[2] > w->planes_left)
        return sb_error_set(err, SB_ERR_INTERNAL, "%s: %zux%zux%zu planes do not fit the file",
                            w->o.final_path, planes->dim[0], planes->dim[1], planes->dim[2]);
    w->planes_left -= planes->dim[2];
    return append(w, planes->data, w->es, w->plane_bytes * planes->dim[2], err);
}

/* An error unless every plane was put. */
static sb_status check_complete(const sb_nifti_writer *w, sb_error *err) {
    if (!w->planes_left) return SB_OK;
    return sb_error_set(err, SB_ERR_INTERNAL, "%s: %zu planes missing", w->o.final_path,
                        w->planes_left);
}

sb_status sb_nifti_writer_finish(sb_nifti_writer *w, sb_error *err) {
    sb_status s = check_complete(w, err);
    if (s || !w->async) return s;
    s = io_wait(w, err);
    if (s || w->fill || w->npend) return s ? s : flush(w, 1, 1, err);
    pthread_mutex_lock(&w->mu); /* nothing left to compress: only the disk to wait for */
    w->io_sync = 1;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    return SB_OK;
}

sb_status sb_nifti_writer_commit(sb_nifti_writer *w, sb_error *err) {
    sb_status s = check_complete(w, err);
    if (s) return s;
    s = flush(w, 0, 1, err);
    if (!s) s = io_wait(w, err);
    io_stop(w);
    if (!s) s = direct_drain(w, err);
    if (!s) s = sb_outfile_commit(&w->o, err);
    return s;
}

sb_status sb_nifti_write(const sb_volume *v, const char *path, int force, int intent_code,
                         const char *descrip, sb_error *err) {
    return sb_nifti_write_scaled(v, path, force, intent_code, descrip, 1.0, 0.0, err);
}

sb_status sb_nifti_write_scaled(const sb_volume *v, const char *path, int force, int intent_code,
                                const char *descrip, double slope, double inter, sb_error *err) {
    if (!v || !v->data) return sb_error_set(err, SB_ERR_USAGE, "sb_nifti_write: NULL volume");
    sb_nifti_writer *w;
    sb_status s = sb_nifti_writer_open(v, path, force, intent_code, descrip, slope, inter, &w, err);
    if (s) return s;
    s = sb_nifti_writer_put(w, v, err);
    if (!s) s = sb_nifti_writer_commit(w, err);
    sb_nifti_writer_free(w);
    return s;
}
