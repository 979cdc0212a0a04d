/* fuzz_util.h — shared by the fuzz targets: each input is handed to the reader under test as
 * a real file (the readers take paths, and the path is what users hit: stat, gzopen, fopen,
 * Assimp's extension dispatch), written to a private directory made once per process and
 * removed at exit. Also: a check that aborts (a finding) when a reader breaks a documented
 * promise. Header-only so each target is one translation unit plus this header. */
#ifndef SB_FUZZ_UTIL_H
#define SB_FUZZ_UTIL_H

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char fuzz_dir[512];
static char fuzz_path_buf[600];

static void fuzz_cleanup(void) {
    if (fuzz_path_buf[0]) unlink(fuzz_path_buf);
    if (fuzz_dir[0]) rmdir(fuzz_dir);
}

/* Writes data to "<private dir>/input<suffix>" (replacing the previous input); returns the
 * path. Aborts if the file cannot be written (not a finding: the machine is broken). */
static inline const char *fuzz_write_file(const uint8_t *data, size_t size, const char *suffix) {
    if (!fuzz_dir[0]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(fuzz_dir, sizeof fuzz_dir, "%s/sbfuzz.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(fuzz_dir)) {
            perror("mkdtemp");
            abort();
        }
        atexit(fuzz_cleanup);
    }
    if (fuzz_path_buf[0]) unlink(fuzz_path_buf);
    snprintf(fuzz_path_buf, sizeof fuzz_path_buf, "%s/input%s", fuzz_dir, suffix);
    int fd = open(fuzz_path_buf, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        perror(fuzz_path_buf);
        abort();
    }
    size_t done = 0;
    while (done < size) {
        ssize_t w = write(fd, data + done, size - done);
        if (w <= 0) {
            perror("write");
            abort();
        }
        done += (size_t)w;
    }
    close(fd);
    return fuzz_path_buf;
}

/* A broken promise of the reader under test: print it and abort (libFuzzer saves the input). */
#define FUZZ_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz check failed: %s: ", #cond);                                     \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* An error must be one of the documented statuses and carry a message. */
#define FUZZ_CHECK_ERROR(s, err, ...)                                                              \
    FUZZ_CHECK((err).msg[0] != '\0' && ((s) == SB_ERR_INPUT || (s) == SB_ERR_MEMORY __VA_ARGS__),  \
               "status %d, message \"%s\"", (int)(s), (err).msg)

#endif
