/* App: the command line (the commands of src/app/commands.def),
   composing the modules below; owns exit codes. The application context and
   the commands are private (include/infotherm/private/appimpl.h). */
#pragma once
#include <infotherm/io.h> /* main.c: signal handlers, abandoning a run's files */

/* A cross-check none of whose judged values failed but some of which passed
   only through an untrusted solver error estimate (src/app/cmd_crosscheck.c): exit
   status 4. */
#define IT_EXIT_INCONCLUSIVE 4
extern PetscBool ItAppInconclusive;

/* Runs the command (src/app/commands.c); interrupted: stopped early after
   writing a checkpoint (exit status 3). */
PetscErrorCode ItAppMain(const char command[], const char stem[], PetscInt nfile, char *files[],
                         PetscBool *interrupted);
/* The usage text (infotherm -help), and the commands one a line
   (infotherm help -list), from the command table; neither needs PETSc. */
const char *ItAppUsage(void);
void        ItAppListCommands(FILE *out);
/* Whether a signal makes the command write a checkpoint and stop (run). */
PetscBool ItAppCommandCheckpoints(const char command[]);

/* Open MPI's settings for a process started without a launcher, before MPI
   starts (src/app/launch.c); returns the session folder it made, "" if none. */
const char *ItLaunchPrepare(void);

/* Dedicated post-processing ranks, -post_ranks K (src/app/post.c): split off
   before PETSc starts, finalised after it ends. */
int  ItPostSplit(int argc, char **argv, const char command[], char error[], size_t len);
void ItPostFinalize(int status);
int  ItPostQuiet(void);
void ItPostInstallPrint(void);
