/* batch_cli.h — `synthbody batch` (core/pipeline/batch_cli.c), called by the command's main. */
#ifndef SB_BATCH_CLI_H
#define SB_BATCH_CLI_H

/* argv[1] is "batch"; returns the exit code (README "Exit codes"). */
int sb_cli_batch(int argc, char **argv);

#endif
