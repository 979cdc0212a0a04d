/* sculpt_cli.h — `synthbody sculpt` (core/pipeline/sculpt_cli.c), called by the command's main. */
#ifndef SB_SCULPT_CLI_H
#define SB_SCULPT_CLI_H

/* argv[1] is "sculpt"; returns the exit code (README "Exit codes"). */
int sb_cli_sculpt(int argc, char **argv);

#endif
