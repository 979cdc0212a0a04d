/* cli_parse.c — option values of the `synthbody` command: numbers and comma lists. */
#include "cli_parse.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

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
