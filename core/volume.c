/* volume.c — the volume type, datatype sizes and the memory check made before big allocations. */
#include "sb_core.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

size_t sb_dtype_size(sb_dtype t) {
    switch (t) {
    case SB_DT_UINT8:
    case SB_DT_INT8:
        return 1;
    case SB_DT_INT16:
    case SB_DT_UINT16:
        return 2;
    case SB_DT_INT32:
    case SB_DT_UINT32:
    case SB_DT_FLOAT32:
        return 4;
    case SB_DT_FLOAT64:
        return 8;
    }
    return 0;
}

const char *sb_dtype_name(sb_dtype t) {
    switch (t) {
    case SB_DT_UINT8:
        return "uint8";
    case SB_DT_INT8:
        return "int8";
    case SB_DT_INT16:
        return "int16";
    case SB_DT_UINT16:
        return "uint16";
    case SB_DT_INT32:
        return "int32";
    case SB_DT_UINT32:
        return "uint32";
    case SB_DT_FLOAT32:
        return "float32";
    case SB_DT_FLOAT64:
        return "float64";
    }
    return "unknown";
}

size_t sb_volume_bytes_needed(const size_t dim[3], sb_dtype t) {
    size_t n = sb_dtype_size(t);
    if (n == 0) return 0;
    for (int a = 0; a < 3; a++) {
        if (dim[a] == 0) return 0;
        if (n > SIZE_MAX / dim[a]) return 0;
        n *= dim[a];
    }
    return n;
}

uint64_t sb_memory_available(void) {
    FILE *f = fopen("/proc/meminfo", "r");
    if (f) {
        char line[256];
        unsigned long long kb = 0;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) break;
        fclose(f);
        if (kb) return (uint64_t)kb * 1024u;
    }
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    if (pages > 0 && psize > 0) return (uint64_t)pages * (uint64_t)psize;
    return UINT64_MAX;
}

sb_status sb_memory_check(uint64_t bytes, const char *what, sb_error *err) {
    uint64_t avail = sb_memory_available();
    if (bytes > avail)
        return sb_error_set(err, SB_ERR_MEMORY,
                            "%s needs %.1f GiB of memory but only %.1f GiB is available", what,
                            (double)bytes / 1073741824.0, (double)avail / 1073741824.0);
    return SB_OK;
}

sb_status sb_volume_create(const size_t dim[3], const double spacing[3], sb_dtype t,
                           sb_volume **out, sb_error *err) {
    *out = NULL;
    if (sb_dtype_size(t) == 0)
        return sb_error_set(err, SB_ERR_INTERNAL, "unknown datatype code %d", (int)t);
    for (int a = 0; a < 3; a++)
        if (!(spacing[a] > 0) || !isfinite(spacing[a]))
            return sb_error_set(err, SB_ERR_USAGE, "voxel spacing %g along axis %d is not positive",
                                spacing[a], a);
    size_t bytes = sb_volume_bytes_needed(dim, t);
    if (bytes == 0)
        return sb_error_set(err, SB_ERR_MEMORY, "a %zux%zux%zu %s volume cannot be addressed",
                            dim[0], dim[1], dim[2], sb_dtype_name(t));
    char what[128];
    snprintf(what, sizeof what, "a %zux%zux%zu %s volume", dim[0], dim[1], dim[2],
             sb_dtype_name(t));
    sb_status s = sb_memory_check(bytes, what, err);
    if (s) return s;
    sb_volume *v = calloc(1, sizeof *v);
    if (!v) return sb_error_set(err, SB_ERR_MEMORY, "out of memory");
    v->data = calloc(1, bytes);
    if (!v->data) {
        free(v);
        return sb_error_set(err, SB_ERR_MEMORY, "cannot allocate %zu bytes for %s", bytes, what);
    }
    for (int a = 0; a < 3; a++) {
        v->dim[a] = dim[a];
        v->spacing[a] = spacing[a];
        v->affine[a][a] = spacing[a];
    }
    v->affine[3][3] = 1.0;
    v->dtype = t;
    *out = v;
    return SB_OK;
}

void sb_volume_free(sb_volume *v) {
    if (!v) return;
    free(v->data);
    free(v);
}

double sb_volume_get(const sb_volume *v, size_t n) {
    switch (v->dtype) {
    case SB_DT_UINT8:
        return ((const uint8_t *)v->data)[n];
    case SB_DT_INT8:
        return ((const int8_t *)v->data)[n];
    case SB_DT_INT16:
        return ((const int16_t *)v->data)[n];
    case SB_DT_UINT16:
        return ((const uint16_t *)v->data)[n];
    case SB_DT_INT32:
        return ((const int32_t *)v->data)[n];
    case SB_DT_UINT32:
        return ((const uint32_t *)v->data)[n];
    case SB_DT_FLOAT32:
        return ((const float *)v->data)[n];
    case SB_DT_FLOAT64:
        return ((const double *)v->data)[n];
    }
    return 0.0;
}

void sb_volume_to_world(const sb_volume *v, const double ijk[3], double xyz[3]) {
    for (int r = 0; r < 3; r++)
        xyz[r] = v->affine[r][0] * ijk[0] + v->affine[r][1] * ijk[1] + v->affine[r][2] * ijk[2] +
                 v->affine[r][3];
}

void sb_volume_update_spacing(sb_volume *v) {
    for (int c = 0; c < 3; c++)
        v->spacing[c] = sqrt(v->affine[0][c] * v->affine[0][c] + v->affine[1][c] * v->affine[1][c] +
                             v->affine[2][c] * v->affine[2][c]);
}

void sb_trimesh_free(sb_trimesh *m) {
    if (!m) return;
    free(m->verts);
    free(m->tris);
    free(m);
}
