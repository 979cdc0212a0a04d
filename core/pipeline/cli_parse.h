/* cli_parse.h — the command's argument reader (sb_cli_next: one loop for every subcommand) and
 * its parsers of option values (numbers and lists), private to the `synthbody` command
 * (core/pipeline/synthbody.c, export_cli.c, sculpt_cli.c, batch_cli.c) and its fuzz target
 * (tests/fuzz/fuzz_cli.c). The value parsers return 1 on success, else 0 with `why` (size n)
 * saying which option and value are at fault; none reads past the terminating NUL of `val`,
 * none allocates. */
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

/* A subcommand's arguments argv[2..argc-1], read one at a time by sb_cli_next. Set argc, argv,
 * i = 2, the option lists and verbosity; the rest is output. */
typedef struct {
    int argc;
    char **argv;
    int i;                     /* the next argument to read */
    const char *const *flags;  /* options without a value, exact ("--force"); NULL-terminated */
    const char *const *valued; /* options with a value, "--opt VALUE" or "--opt=VALUE" */
    int *verbosity;            /* -q/--quiet set 0; -v/--verbose raise 1 to 2, then 3 */
    const char *arg;           /* the argument just read, as given */
    char name[64];             /* the option's name without "=VALUE" ("" if longer than 63) */
    const char *val;           /* SB_CLI_OPTION: its value (never empty; argv's storage) */
} sb_cli_args;

typedef enum {
    SB_CLI_END,       /* no argument left */
    SB_CLI_HELP,      /* -h or --help */
    SB_CLI_FLAG,      /* one of `flags`: name */
    SB_CLI_OPTION,    /* one of `valued`: name and val */
    SB_CLI_OPERAND,   /* not an option (no leading '-', or "-" alone): arg */
    SB_CLI_UNKNOWN,   /* an option in neither list: arg, name */
    SB_CLI_BAD_VALUE, /* one of `valued` without a value, or with an empty one: why says which */
} sb_cli_kind;

/* The reader of argv[2..argc-1] (argv[1] is the subcommand) with these option lists. */
sb_cli_args sb_cli_start(int argc, char **argv, const char *const *flags, const char *const *valued,
                         int *verbosity);

/* Reads the next argument (-q and -v are taken here and not returned). The caller words its
 * own "unknown option" message; `why` (size n) is written for SB_CLI_BAD_VALUE only. */
sb_cli_kind sb_cli_next(sb_cli_args *a, char *why, size_t n);

#endif
