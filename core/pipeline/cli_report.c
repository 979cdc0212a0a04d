/* cli_report.c — see cli_report.h. */
#include "cli_report.h"

#include <stdarg.h>
#include <stdio.h>

void sb_cli_on_log(void *user, sb_log_level level, const char *msg) {
    const int verbosity = *(const int *)user;
    if ((level == SB_LOG_INFO && verbosity < 2) || (level >= SB_LOG_DEBUG && verbosity < 3) ||
        (level == SB_LOG_WARN && verbosity < 1))
        return;
    static const char *names[] = {"error", "warning", "info", "debug"};
    fprintf(stderr, "synthbody: %s: %s\n", names[level], msg);
}

int sb_cli_fail(const char *command, sb_status s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "synthbody: error: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    if (s == SB_ERR_USAGE) fprintf(stderr, "Try 'synthbody %s --help'.\n", command);
    return (int)s;
}
