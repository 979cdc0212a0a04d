/* outfile.c — output files written to a temporary name and renamed on success, directories. */
#include "sb_core.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int sb_path_exists(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0;
}

sb_status sb_path_join(char *out, size_t n, const char *dir, const char *name, sb_error *err) {
    int w = snprintf(out, n, "%s/%s", dir, name);
    if (w < 0 || (size_t)w >= n)
        return sb_error_set(err, SB_ERR_OUTPUT, "path %s/%s is too long", dir, name);
    return SB_OK;
}

sb_status sb_mkdir_p(const char *dir, sb_error *err) {
    char buf[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof buf)
        return sb_error_set(err, SB_ERR_OUTPUT, "bad directory \"%s\"", dir);
    memcpy(buf, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST)
            return sb_error_set(err, SB_ERR_OUTPUT, "cannot create directory %s: %s", buf,
                                strerror(errno));
        buf[i] = c;
    }
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return sb_error_set(err, SB_ERR_OUTPUT, "%s is not a directory", dir);
    if (access(dir, W_OK | X_OK) != 0)
        return sb_error_set(err, SB_ERR_OUTPUT, "directory %s is not writable: %s", dir,
                            strerror(errno));
    return SB_OK;
}

static atomic_uint outfile_counter;

sb_status sb_outfile_open(sb_outfile *o, const char *final_path, int force, sb_error *err) {
    memset(o, 0, sizeof *o);
    size_t n = strlen(final_path);
    if (n >= sizeof o->final_path)
        return sb_error_set(err, SB_ERR_OUTPUT, "output path is too long: %s", final_path);
    memcpy(o->final_path, final_path, n + 1);
    if (!force && sb_path_exists(final_path))
        return sb_error_set(err, SB_ERR_EXISTS, "%s exists (use --force to overwrite)", final_path);
    const char *slash = strrchr(final_path, '/');
    int dirlen = slash ? (int)(slash - final_path + 1) : 0;
    const char *base = slash ? slash + 1 : final_path;
    int w = snprintf(o->tmp_path, sizeof o->tmp_path, "%.*s.%s.tmp.%ld.%u", dirlen, final_path,
                     base, (long)getpid(), atomic_fetch_add(&outfile_counter, 1u));
    if (w < 0 || (size_t)w >= sizeof o->tmp_path)
        return sb_error_set(err, SB_ERR_OUTPUT, "output path is too long: %s", final_path);
    o->fp = fopen(o->tmp_path, "wbx");
    if (!o->fp)
        return sb_error_set(err, SB_ERR_OUTPUT, "cannot write %s: %s", final_path, strerror(errno));
    return SB_OK;
}

sb_status sb_outfile_write(sb_outfile *o, const void *buf, size_t n, sb_error *err) {
    if (n && fwrite(buf, 1, n, o->fp) != n)
        return sb_error_set(err, SB_ERR_OUTPUT, "cannot write %s: %s", o->final_path,
                            strerror(errno));
    return SB_OK;
}

sb_status sb_outfile_commit(sb_outfile *o, sb_error *err) {
    if (!o->fp) return SB_OK;
    int bad = fflush(o->fp) != 0 || fsync(fileno(o->fp)) != 0;
    int e = errno;
    if (fclose(o->fp) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    o->fp = NULL;
    if (!bad && rename(o->tmp_path, o->final_path) != 0) {
        bad = 1;
        e = errno;
    }
    if (bad) {
        unlink(o->tmp_path);
        return sb_error_set(err, SB_ERR_OUTPUT, "cannot write %s: %s", o->final_path, strerror(e));
    }
    o->tmp_path[0] = '\0';
    return SB_OK;
}

void sb_outfile_abort(sb_outfile *o) {
    if (o->fp) {
        fclose(o->fp);
        o->fp = NULL;
    }
    if (o->tmp_path[0]) {
        unlink(o->tmp_path);
        o->tmp_path[0] = '\0';
    }
}
