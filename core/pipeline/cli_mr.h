/* cli_mr.h — the MR acquisition options that `synthbody generate` and `synthbody batch` share
 * (README "Options of generate for MR images"), private to the `synthbody` command. */
#ifndef SB_CLI_MR_H
#define SB_CLI_MR_H

#include "sb_pipeline.h"

#include <stddef.h>

/* Their names, NULL-terminated: every one takes a value. */
extern const char *const SB_CLI_MR_OPTIONS[];

/* Option `name` with value `val` into g: 1 when name is one of SB_CLI_MR_OPTIONS and its value
 * is valid, -1 when the value is not (why, size n, names the option and the value), 0 when name
 * is none of them (g and why untouched). */
int sb_cli_mr_option(const char *name, const char *val, sb_generate_opts *g, char *why, size_t n);

#endif
