/* fuzz_cli.c — the command's option values: numbers (sb_cli_parse_double, _u64), number lists
 * (--axial) and the protocol / contrast list strings (--protocol P --contrasts L ->
 * sb_mri_protocol). The input is split at the first NUL (or newline) into two strings.
 * Promises: an accepted number is finite; an accepted integer is all digits; an accepted list
 * has 1..max entries inside the range; an accepted protocol has 1..SB_PROTOCOL_MAX
 * acquisitions with positive TR and a known field; every refusal says why. The two strings are
 * also a subcommand's arguments for sb_cli_next: it ends, every argument is read once, an
 * option's value is non-empty and its name one of the listed. */
#include "cli_parse.h"
#include "fuzz_util.h"
#include "sb_volume.h"

#include <ctype.h>
#include <math.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char a[512], b[512];
    size_t i = 0, na = 0, nb = 0;
    for (; i < size && data[i] && data[i] != '\n' && na + 1 < sizeof a; i++)
        a[na++] = (char)data[i];
    a[na] = '\0';
    for (i++; i < size && nb + 1 < sizeof b; i++)
        if (data[i]) b[nb++] = (char)data[i];
    b[nb] = '\0';

    char why[256];
    double d;
    why[0] = '\0';
    if (sb_cli_parse_double("--voxel", a, &d, why, sizeof why))
        FUZZ_CHECK(isfinite(d), "\"%s\" -> %g", a, d);
    else
        FUZZ_CHECK(why[0], "no reason for \"%s\"", a);
    uint64_t u;
    why[0] = '\0';
    if (sb_cli_parse_u64("--seed", a, &u, why, sizeof why)) {
        for (const char *p = a; *p; p++) FUZZ_CHECK(isdigit((unsigned char)*p), "\"%s\"", a);
        FUZZ_CHECK(*a, "empty accepted");
    } else {
        FUZZ_CHECK(why[0], "no reason for \"%s\"", a);
    }
    double list[8];
    int n = -1;
    why[0] = '\0';
    if (sb_cli_parse_list("--axial", a, 0, 1, list, 8, &n, why, sizeof why)) {
        FUZZ_CHECK(n >= 1 && n <= 8, "%d entries from \"%s\"", n, a);
        for (int k = 0; k < n; k++) FUZZ_CHECK(list[k] >= 0 && list[k] <= 1, "%g", list[k]);
    } else {
        FUZZ_CHECK(why[0], "no reason for \"%s\"", a);
    }

    static const char *const flags[] = {"--force", NULL};
    static const char *const valued[] = {"--out", "--voxel", NULL};
    int verbosity = 1, reads = 0;
    char *argv[] = {"synthbody", "generate", a, b, NULL};
    sb_cli_args args = sb_cli_start(4, argv, flags, valued, &verbosity);
    for (sb_cli_kind k; (k = sb_cli_next(&args, why, sizeof why)) != SB_CLI_END;) {
        FUZZ_CHECK(++reads <= 2 && args.i <= 4, "read %d arguments, at %d", reads, args.i);
        if (k == SB_CLI_OPTION)
            FUZZ_CHECK(args.val && *args.val &&
                           (!strcmp(args.name, "--out") || !strcmp(args.name, "--voxel")),
                       "%s = \"%s\"", args.name, args.val ? args.val : "(null)");
        FUZZ_CHECK(k != SB_CLI_FLAG || !strcmp(args.arg, "--force"), "flag %s", args.arg);
        FUZZ_CHECK(k != SB_CLI_BAD_VALUE || why[0], "no reason for %s", args.arg);
        why[0] = '\0';
    }
    FUZZ_CHECK(verbosity >= 0 && verbosity <= 3, "verbosity %d", verbosity);

    sb_protocol p;
    sb_error err = {0};
    sb_status s = sb_mri_protocol(a[0] ? a : NULL, b[0] ? b : NULL, 0, -1, -1, &p, &err);
    if (s) {
        FUZZ_CHECK(s == SB_ERR_USAGE && err.msg[0], "status %d \"%s\"", (int)s, err.msg);
    } else {
        FUZZ_CHECK(p.count >= 1 && p.count <= SB_PROTOCOL_MAX, "%zu acquisitions", p.count);
        for (size_t k = 0; k < p.count; k++) {
            FUZZ_CHECK(p.acq[k].seq.tr_ms > 0 && isfinite(p.acq[k].seq.tr_ms), "TR %g",
                       p.acq[k].seq.tr_ms);
            FUZZ_CHECK(p.acq[k].seq.field_t == 1.5 || p.acq[k].seq.field_t == 3, "field %g",
                       p.acq[k].seq.field_t);
            FUZZ_CHECK(p.want[k] != 0, "acquisition %zu writes nothing", k);
        }
    }
    return 0;
}
