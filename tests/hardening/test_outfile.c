/* test_outfile.c — sb_outfile against planted files and links (README "Hardening").
 *
 * - links planted at the next temporary names (".<name>.tmp.<pid>.<n>", predictable) are not
 *   followed: the victim they point to keeps its bytes, the links stay, the output is right;
 * - a link planted at the final name: SB_ERR_EXISTS without force; with force the link is
 *   replaced by the file, its target untouched;
 * - sb_file_name_safe refuses what would leave the directory;
 * - the registry: a signal while a temporary file is open removes it (child process), also
 *   when it comes while two threads keep opening and removing files: the signal is then often
 *   handled as open(2) returns, the file made but not yet registered (the CI's failure of
 *   test_sigint_removes_temporaries under ASan, 2026-11). */
#include "sb_core.h"
#include "sb_test.h"

#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void put(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    fputs(text, f);
    fclose(f);
}

static int same_text(const char *path, const char *text) {
    char buf[256] = "";
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strcmp(buf, text) == 0;
}

static int is_link(const char *path) {
    struct stat st;
    return lstat(path, &st) == 0 && S_ISLNK(st.st_mode);
}

static void test_planted_temp_links(const char *dir) {
    char victim[512], out[512], link[600];
    snprintf(victim, sizeof victim, "%s/victim", dir);
    snprintf(out, sizeof out, "%s/out.txt", dir);
    put(victim, "precious");
    /* the counter is process-wide and starts at 0: plant links at the next 50 names */
    for (int n = 0; n < 50; n++) {
        snprintf(link, sizeof link, "%s/.out.txt.tmp.%ld.%d", dir, (long)getpid(), n);
        CHECK(symlink(victim, link) == 0);
    }
    sb_outfile o;
    sb_error err = {0};
    CHECK(sb_outfile_open(&o, out, 0, &err) == SB_OK);
    CHECK(!is_link(o.tmp_path));
    CHECK(sb_outfile_write(&o, "new", 3, &err) == SB_OK);
    CHECK(sb_outfile_commit(&o, &err) == SB_OK);
    CHECK(same_text(victim, "precious"));
    CHECK(same_text(out, "new"));
    for (int n = 0; n < 50; n++) {
        snprintf(link, sizeof link, "%s/.out.txt.tmp.%ld.%d", dir, (long)getpid(), n);
        CHECK(is_link(link)); /* not ours: never removed either */
        unlink(link);
    }
}

static void test_planted_final_link(const char *dir) {
    char victim[512], out[512];
    snprintf(victim, sizeof victim, "%s/victim2", dir);
    snprintf(out, sizeof out, "%s/final.txt", dir);
    put(victim, "precious");
    CHECK(symlink(victim, out) == 0);
    sb_outfile o;
    sb_error err = {0};
    CHECK(sb_outfile_open(&o, out, 0, &err) == SB_ERR_EXISTS);
    CHECK(strstr(err.msg, "final.txt") != NULL);
    sb_outfile_abort(&o);
    CHECK(is_link(out));
    CHECK(sb_outfile_open(&o, out, 1, &err) == SB_OK);
    CHECK(sb_outfile_write(&o, "replaced", 8, &err) == SB_OK);
    CHECK(sb_outfile_commit(&o, &err) == SB_OK);
    CHECK(!is_link(out));
    CHECK(same_text(out, "replaced"));
    CHECK(same_text(victim, "precious"));
}

static void test_name_safety(void) {
    CHECK(sb_file_name_safe("liver.stl"));
    CHECK(sb_file_name_safe("..hidden"));
    CHECK(!sb_file_name_safe(""));
    CHECK(!sb_file_name_safe("."));
    CHECK(!sb_file_name_safe(".."));
    CHECK(!sb_file_name_safe("../x.stl"));
    CHECK(!sb_file_name_safe("a/b.stl"));
    CHECK(!sb_file_name_safe("bell\a.stl"));
    CHECK(!sb_file_name_safe("new\nline"));
    CHECK(!sb_file_name_safe("del\x7f"));
    char longname[300];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    CHECK(!sb_file_name_safe(longname));
}

static int temporaries_left(const char *dir) {
    char cmd[700];
    snprintf(cmd, sizeof cmd, "ls -A %s | grep -q '\\.tmp\\.'", dir);
    return system(cmd) == 0;
}

static void test_signal_cleanup(const char *dir) {
    int fds[2];
    CHECK(pipe(fds) == 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) { /* child: open two outputs, report the temp names, wait to be killed */
        close(fds[0]);
        sb_outfile_cleanup_on_signals();
        char p1[512], p2[512];
        snprintf(p1, sizeof p1, "%s/a.bin", dir);
        snprintf(p2, sizeof p2, "%s/b.bin", dir);
        sb_outfile a, b;
        if (sb_outfile_open(&a, p1, 1, NULL) || sb_outfile_open(&b, p2, 1, NULL)) _exit(2);
        fputs("partial", a.fp);
        fflush(a.fp);
        if (write(fds[1], "r", 1) != 1) _exit(3);
        for (;;) pause();
    }
    close(fds[1]);
    char c;
    CHECK(read(fds[0], &c, 1) == 1);
    close(fds[0]);
    CHECK(kill(pid, SIGINT) == 0);
    int status = 0;
    CHECK(waitpid(pid, &status, 0) == pid);
    CHECK(WIFSIGNALED(status) && WTERMSIG(status) == SIGINT);
    CHECK(!temporaries_left(dir));
}

/* Child's threads: open a file, write to it, remove it, over and over. */
static void *churn(void *arg) {
    const char *path = arg;
    for (;;) {
        sb_outfile o;
        if (sb_outfile_open(&o, path, 1, NULL)) _exit(2);
        fputs("partial", o.fp);
        sb_outfile_abort(&o);
    }
    return NULL;
}

static void test_signal_while_opening(const char *dir) {
    enum { TRIALS = 200 };
    int left = 0;
    for (int t = 0; t < TRIALS && !left; t++) {
        pid_t pid = fork();
        CHECK(pid >= 0);
        if (pid == 0) {
            sb_outfile_cleanup_on_signals();
            static char p1[512], p2[512];
            snprintf(p1, sizeof p1, "%s/c.bin", dir);
            snprintf(p2, sizeof p2, "%s/d.bin", dir);
            pthread_t th;
            if (pthread_create(&th, NULL, churn, p1) != 0) _exit(3);
            churn(p2);
        }
        /* 0.2-2.2 ms of churning, then the signal */
        struct timespec ts = {0, 200000L + (long)(t % 21) * 100000L};
        nanosleep(&ts, NULL);
        CHECK(kill(pid, t % 2 ? SIGTERM : SIGINT) == 0);
        int status = 0;
        CHECK(waitpid(pid, &status, 0) == pid);
        CHECK(WIFSIGNALED(status));
        left = temporaries_left(dir);
        if (left) fprintf(stderr, "trial %d: a temporary file left after the signal\n", t);
    }
    CHECK(!left);
}

int main(void) {
    char dir[] = "/tmp/sb_outfile_test.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    test_planted_temp_links(dir);
    test_planted_final_link(dir);
    test_name_safety();
    test_signal_cleanup(dir);
    test_signal_while_opening(dir);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
    TEST_RETURN();
}
