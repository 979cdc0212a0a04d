/* outfile.c — output files written to a temporary name and renamed on success, directories.
 *
 * Safety of the names (README "Hardening"):
 * - the temporary file is created with O_CREAT|O_EXCL|O_NOFOLLOW: a file or symbolic link
 *   planted at its name makes the open fail; nothing is ever written through a link;
 * - the final name is only ever replaced by rename(2), which replaces a symbolic link planted
 *   there (with --force) instead of following it; without force any existing entry, link or
 *   not (lstat), is SB_ERR_EXISTS;
 * - open temporary files are listed in a process-wide registry so that a signal handler
 *   (sb_outfile_cleanup_on_signals) can unlink them: the one piece of global state of the
 *   foundation, written only here, read by the handler with async-signal-safe calls only.
 *   A file is created with the fatal signals blocked in the creating thread, so no handler runs
 *   in it between open(2) making the file and the registry knowing it; a handler in another
 *   thread waits for such a file (see on_fatal_signal).
 */
#include "sb_core.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- registry of open temporary files ------------------------------------------------------
 * Slot states: 0 free, 1 reserved (its file being created, or not made), 2 holds a live temp
 * name, 3 being unlinked by the signal handler (a thread freeing it then waits to die, so the
 * name is not overwritten while the handler reads it). A name is reserved (1) before the file is
 * created and made live (2) as soon as open() returns. Registered after fdopen, a SIGTERM sent the
 * moment the file was seen left it behind under ASan; with a signal handled as open() returned,
 * before the slot was live, the CI left one behind again (2026-11), hence the blocked signals
 * around the creation. */
enum { TMP_SLOTS = 256 };
static struct {
    atomic_int state;
    char path[4096];
} tmp_registry[TMP_SLOTS];
static atomic_int dying; /* set by the handler before it reads the registry */
static const int fatal_sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};

static void fatal_sigset(sigset_t *set) {
    sigemptyset(set);
    for (size_t i = 0; i < sizeof fatal_sigs / sizeof fatal_sigs[0]; i++)
        sigaddset(set, fatal_sigs[i]);
}

static int registry_reserve(const char *path) {
    size_t n = strlen(path);
    if (n >= sizeof tmp_registry[0].path) return -1;
    for (int i = 0; i < TMP_SLOTS; i++) {
        int expect = 0;
        if (atomic_compare_exchange_strong(&tmp_registry[i].state, &expect, 1)) {
            memcpy(tmp_registry[i].path, path, n + 1);
            return i;
        }
    }
    return -1; /* full: the file is still written safely, only not cleaned on a signal */
}

static void registry_live(int slot) {
    if (slot >= 0 && slot < TMP_SLOTS) atomic_store(&tmp_registry[slot].state, 2);
}

static void registry_remove(int slot) {
    if (slot < 0 || slot >= TMP_SLOTS) return;
    int st = atomic_load(&tmp_registry[slot].state);
    do {
        if (st == 3) /* the handler is unlinking it: the process is about to die */
            for (;;) pause();
    } while (!atomic_compare_exchange_weak(&tmp_registry[slot].state, &st, 0));
}

/* Unlinks every live temporary file, then dies of the signal. A reserved slot is a file
 * being created by another thread (the creating thread blocks these signals): waited for, up
 * to 2 s, until it is live or free. A thread reserving a slot after `dying` is set makes no
 * file (sb_outfile_open). */
static void on_fatal_signal(int sig) {
    int saved = errno;
    atomic_store(&dying, 1);
    for (int i = 0; i < TMP_SLOTS; i++) {
        int st;
        for (int wait = 0; (st = atomic_load(&tmp_registry[i].state)) == 1 && wait < 2000; wait++)
            nanosleep(&(struct timespec){0, 1000000L}, NULL);
        if (st == 2 && atomic_compare_exchange_strong(&tmp_registry[i].state, &st, 3))
            unlink(tmp_registry[i].path);
    }
    errno = saved;
    signal(sig, SIG_DFL); /* then die of the signal, so the exit status tells it */
    raise(sig);
}

int sb_outfile_cleanup_on_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fatal_signal;
    fatal_sigset(&sa.sa_mask);
    sa.sa_flags = SA_RESETHAND;
    for (size_t i = 0; i < sizeof fatal_sigs / sizeof fatal_sigs[0]; i++) {
        struct sigaction old;
        if (sigaction(fatal_sigs[i], NULL, &old) != 0) return -1;
        if (old.sa_handler == SIG_IGN) continue; /* e.g. nohup: keep ignoring */
        if (sigaction(fatal_sigs[i], &sa, NULL) != 0) return -1;
    }
    return 0;
}

/* Creates the temporary file o->tmp_path (O_EXCL) and registers it, with the fatal signals
 * blocked in this thread; a file descriptor, or -1 with errno. */
static int create_registered(sb_outfile *o) {
    sigset_t block, old;
    fatal_sigset(&block);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    o->slot = registry_reserve(o->tmp_path);
    if (atomic_load(&dying)) { /* a handler is cleaning up: the process is about to die */
        registry_remove(o->slot);
        pthread_sigmask(SIG_SETMASK, &old, NULL);
        for (;;) pause();
    }
    int fd = open(o->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
    int e = errno;
    if (fd >= 0) {
        registry_live(o->slot);
    } else {
        registry_remove(o->slot); /* not ours (taken) or not made: never unlinked */
        o->slot = -1;
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    errno = e;
    return fd;
}

const char *sb_write_failure(int e) {
    return e == ENOSPC   ? "disk full (No space left on device)"
           : e == EDQUOT ? "disk quota exceeded"
                         : strerror(e);
}

int sb_path_exists(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0;
}

int sb_file_name_safe(const char *name) {
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > 255 || !strcmp(name, ".") || !strcmp(name, "..")) return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c == '/' || c < 32 || c == 127) return 0;
    }
    return 1;
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
    o->slot = -1;
    size_t n = strlen(final_path);
    if (n >= sizeof o->final_path)
        return sb_error_set(err, SB_ERR_OUTPUT, "output path is too long: %s", final_path);
    memcpy(o->final_path, final_path, n + 1);
    if (!force && sb_path_exists(final_path))
        return sb_error_set(err, SB_ERR_EXISTS, "%s exists (use --force to overwrite)", final_path);
    const char *slash = strrchr(final_path, '/');
    int dirlen = slash ? (int)(slash - final_path + 1) : 0;
    const char *base = slash ? slash + 1 : final_path;
    int fd = -1;
    for (int attempt = 0; fd < 0 && attempt < 100; attempt++) { /* a name taken: the next one */
        int w = snprintf(o->tmp_path, sizeof o->tmp_path, "%.*s.%s.tmp.%ld.%u", dirlen, final_path,
                         base, (long)getpid(), atomic_fetch_add(&outfile_counter, 1u));
        if (w < 0 || (size_t)w >= sizeof o->tmp_path) {
            o->tmp_path[0] = '\0';
            return sb_error_set(err, SB_ERR_OUTPUT, "output path is too long: %s", final_path);
        }
        fd = create_registered(o);
        if (fd < 0 && errno != EEXIST) break;
    }
    if (fd < 0) {
        int e = errno;
        o->tmp_path[0] = '\0'; /* not ours: never unlink it */
        return sb_error_set(err, SB_ERR_OUTPUT, "cannot write %s: %s", final_path, strerror(e));
    }
    o->fp = fdopen(fd, "wb");
    if (!o->fp) {
        int e = errno;
        close(fd);
        unlink(o->tmp_path);
        registry_remove(o->slot);
        o->slot = -1;
        o->tmp_path[0] = '\0';
        return sb_error_set(err, SB_ERR_OUTPUT, "cannot write %s: %s", final_path, strerror(e));
    }
    return SB_OK;
}

sb_status sb_outfile_write(sb_outfile *o, const void *buf, size_t n, sb_error *err) {
    if (n && fwrite(buf, 1, n, o->fp) != n)
        return sb_error_set(err, SB_ERR_OUTPUT, "cannot write %s: %s", o->final_path,
                            sb_write_failure(errno));
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
        o->tmp_path[0] = '\0';
        registry_remove(o->slot);
        o->slot = -1;
        return sb_error_set(err, SB_ERR_OUTPUT, "cannot write %s: %s", o->final_path,
                            sb_write_failure(e));
    }
    o->tmp_path[0] = '\0';
    registry_remove(o->slot);
    o->slot = -1;
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
    registry_remove(o->slot);
    o->slot = -1;
}
