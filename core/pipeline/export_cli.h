/* export_cli.h — `synthbody export` (core/pipeline/export_cli.c), called by the command's main. */
#ifndef SB_EXPORT_CLI_H
#define SB_EXPORT_CLI_H

/* argv[1] is "export"; returns the exit code (README "Exit codes"). */
int sb_cli_export(int argc, char **argv);

#endif
