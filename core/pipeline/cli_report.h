/* cli_report.h — messages of the `synthbody` subcommands with front ends of their own (export,
 * sculpt, batch): the log callback and the error line with the usage hint. */
#ifndef SB_CLI_REPORT_H
#define SB_CLI_REPORT_H

#include "sb_core.h"

/* sb_ctx log callback; `user` points to the verbosity (an int: 0 quiet, 1 normal, 2 verbose,
 * 3 debug), e.g. the first member of the command's state. */
void sb_cli_on_log(void *user, sb_log_level level, const char *msg);

/* Prints "synthbody: error: <message>" (and for SB_ERR_USAGE "Try 'synthbody COMMAND --help'.")
 * and returns s, the exit code. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
int sb_cli_fail(const char *command, sb_status s, const char *fmt, ...);

#endif
