/* cli_parse.h — the command's parsers of option values (numbers and lists), private to the
 * `synthbody` command (core/pipeline/synthbody.c) and its fuzz target
 * (tests/fuzz/fuzz_cli.c). Each returns 1 on success, else 0 with `why` (size n) saying which
 * option and value are at fault; none reads past the terminating NUL of `val`, none allocates. */
#ifndef SB_CLI_PARSE_H
#define SB_CLI_PARSE_H

#include <stddef.h>
#include <stdint.h>

/* A finite decimal or hexadecimal floating-point number filling the whole of val (no NaN, no
 * infinity, no overflow). */
int sb_cli_parse_double(const char *opt, const char *val, double *out, char *why, size_t n);
/* A non-negative decimal integer in 0..2^64-1 filling the whole of val (no sign). */
int sb_cli_parse_u64(const char *opt, const char *val, uint64_t *out, char *why, size_t n);
/* A comma list of 1..max numbers in [lo, hi] ("0.85,0.72"); *count receives how many. */
int sb_cli_parse_list(const char *opt, const char *val, double lo, double hi, double *out, int max,
                      int *count, char *why, size_t n);

#endif
