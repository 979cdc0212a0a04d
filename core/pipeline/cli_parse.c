/* cli_parse.c — arguments of the `synthbody` command: the reader of options and operands, and
 * option values (numbers and comma lists). */
#include "cli_parse.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sb_cli_parse_double(const char *opt, const char *val, double *out, char *why, size_t n) {
    char *end;
    errno = 0;
    double d = strtod(val, &end);
    if (!*val || *end || errno || !isfinite(d)) {
        snprintf(why, n, "%s: \"%s\" is not a number", opt, val);
        return 0;
    }
    *out = d;
    return 1;
}

int sb_cli_parse_u64(const char *opt, const char *val, uint64_t *out, char *why, size_t n) {
    char *end;
    errno = 0;
    if (!*val || *val == '-' || *val == '+' || *val == ' ' || (*val >= '\t' && *val <= '\r')) {
        snprintf(why, n, "%s: \"%s\" is not a non-negative integer", opt, val);
        return 0;
    }
    unsigned long long u = strtoull(val, &end, 10);
    if (*end || errno) {
        snprintf(why, n, "%s: \"%s\" is not an integer in 0..18446744073709551615", opt, val);
        return 0;
    }
    *out = u;
    return 1;
}

int sb_cli_parse_list(const char *opt, const char *val, double lo, double hi, double *out, int max,
                      int *count, char *why, size_t n) {
    const char *q = val;
    int k = 0;
    while (*q) {
        char *end;
        errno = 0;
        double f = strtod(q, &end);
        if (end == q || errno || !(f >= lo && f <= hi) || k == max || (*end && *end != ',')) {
            snprintf(why, n, "%s: \"%s\" is not a list of at most %d numbers %g..%g", opt, val, max,
                     lo, hi);
            return 0;
        }
        out[k++] = f;
        q = *end ? end + 1 : end;
    }
    if (k == 0) {
        snprintf(why, n, "%s: empty list", opt);
        return 0;
    }
    *count = k;
    return 1;
}

static int listed(const char *const *list, const char *name) {
    for (; list && *list; list++)
        if (!strcmp(*list, name)) return 1;
    return 0;
}

sb_cli_args sb_cli_start(int argc, char **argv, const char *const *flags, const char *const *valued,
                         int *verbosity) {
    sb_cli_args a = {.argc = argc,
                     .argv = argv,
                     .i = 2,
                     .flags = flags,
                     .valued = valued,
                     .verbosity = verbosity};
    return a;
}

sb_cli_kind sb_cli_next(sb_cli_args *a, char *why, size_t n) {
    for (;;) {
        if (a->i >= a->argc) return SB_CLI_END;
        const char *s = a->arg = a->argv[a->i++];
        a->val = NULL;
        a->name[0] = '\0';
        if (!strcmp(s, "-h") || !strcmp(s, "--help")) return SB_CLI_HELP;
        if (!strcmp(s, "-q") || !strcmp(s, "--quiet")) {
            if (a->verbosity) *a->verbosity = 0;
            continue;
        }
        if (!strcmp(s, "-v") || !strcmp(s, "--verbose")) {
            if (a->verbosity) *a->verbosity = *a->verbosity >= 2 ? 3 : 2;
            continue;
        }
        if (listed(a->flags, s)) {
            snprintf(a->name, sizeof a->name, "%s", s);
            return SB_CLI_FLAG;
        }
        if (s[0] != '-' || !strcmp(s, "-")) return SB_CLI_OPERAND;
        const char *eq = strchr(s, '=');
        size_t len = eq ? (size_t)(eq - s) : strlen(s);
        if (len >= sizeof a->name) return SB_CLI_UNKNOWN;
        memcpy(a->name, s, len);
        a->name[len] = '\0';
        if (!listed(a->valued, a->name)) return SB_CLI_UNKNOWN;
        a->val = eq ? eq + 1 : (a->i < a->argc ? a->argv[a->i++] : NULL);
        if (!a->val) {
            snprintf(why, n, "%s needs a value", a->name);
            return SB_CLI_BAD_VALUE;
        }
        if (!*a->val) {
            snprintf(why, n, "%s: empty value", a->name);
            return SB_CLI_BAD_VALUE;
        }
        return SB_CLI_OPTION;
    }
}
