/* The application's private context: what the commands (src/app/cmd_*.c)
   and their shared services (src/app/app.c) hold while one command runs. */
#pragma once
#include <infotherm/app.h>
#include <infotherm/solve.h>
#include <infotherm/diag.h>
#include <infotherm/io.h>
#include <infotherm/estimate.h>
#include <infotherm/init.h>

typedef struct {
  const char     *command;
  char            output_dir[PETSC_MAX_PATH_LEN];
  ItModel         model;
  ItGrid          grid;
  ItDiag          diag;
  ItIO            io;
  Vec             p;
  ItSolveSettings settings;
  ItSolveResult   result; /* what the transient solve did */
  PetscLogDouble  start;
  PetscReal       boundary_mass;             /* the largest seen */
  PetscReal       wall_mass[2 * IT_MAX_DIM]; /* per wall (lower, upper per axis): the largest seen
                                               by this invocation (ItAppWarnBox) */
  PetscBool      warned;
  PetscLogDouble last_checkpoint; /* wall time */
  PetscBool      interrupted;     /* stopped early after a checkpoint */
  Vec            good;            /* run: the last density that passed ItAppCheckStep */
  PetscReal      good_t;
  PetscInt       good_step;
  /* how the initial density and the KL reference were made, to make them
     again on the coarse grids of -error_estimate (src/estimate) */
  ItInit     init; /* -init (the Monte Carlo draws a Gaussian directly) */
  char       kl_reference[PETSC_MAX_PATH_LEN];
  ItEstimate estimate; /* NULL without -error_estimate */
} ItApp;

/* Shared by the commands (src/app/app.c). */
PetscErrorCode ItAppSetUp(ItApp *app, const char stem[]);
PetscErrorCode ItAppTearDown(ItApp *app);
PetscErrorCode ItAppInitialDensity(ItApp *app);
PetscErrorCode ItAppInitialOptions(ItApp *app);
PetscErrorCode ItAppCheckBox(ItApp *app);
PetscErrorCode ItAppCheckStep(ItApp *app, PetscReal t, PetscInt step, Vec p);
PetscErrorCode ItAppWriteSummary(ItApp *app, json_t *extra);
PetscErrorCode ItAppReferenceDensity(ItApp *app, ItGrid grid, Vec *pss);
PetscErrorCode ItAppAppendRow(ItApp *app, PetscReal t);
PetscErrorCode ItAppOutputColumns(ItApp *app);
/* Checkpoints: the state array (t, dt, step, boundary mass, then the
   diagnostics' state) and what a restart must not change. */
enum { IT_STATE_T, IT_STATE_DT, IT_STATE_STEP, IT_STATE_BOUNDARY, IT_STATE_DIAG };
PetscErrorCode ItAppPhysics(ItApp *app, char physics[], size_t len);
PetscErrorCode ItAppCheckpoint(void *ctx, PetscReal t, PetscInt step, PetscReal dt, Vec p);
PetscErrorCode ItAppEstimateCreate(ItApp *app, PetscBool transient, PetscBool covariance);

/* Memory per rank (src/app/memory.c): checked before the grid is allocated,
   printed by info. */
PetscErrorCode ItAppCheckMemory(ItApp *app);
PetscErrorCode ItAppViewMemory(ItApp *app);

/* Options that nothing reads (src/app/options.c). */
PetscErrorCode ItAppCheckOptions(ItApp *app);
PetscErrorCode ItAppCheckValues(ItModel model);
PetscErrorCode ItAppCheckCommandOptions(const char command[]);
PetscErrorCode ItAppSnapshotOptions(const char file[]);

/* The commands (the table of src/app/commands.c), run after the set-up
   (ItAppSetUp, or the command's own); nfile, files: the file arguments
   (analyze only). */
typedef PetscErrorCode (*ItAppCommandFn)(ItApp *app, PetscInt nfile, char *files[]);
/* A command's -help: the options of what it would create. */
typedef PetscErrorCode (*ItAppHelpFn)(ItApp *app);
PetscErrorCode ItAppRun(ItApp *app, PetscInt nfile, char *files[]); /* cmd_run.c */
PetscErrorCode ItAppRunHelp(ItApp *app);
PetscErrorCode ItAppStationary(ItApp *app, PetscInt nfile, char *files[]); /* cmd_stationary.c */
PetscErrorCode ItAppStationaryHelp(ItApp *app);
PetscErrorCode ItAppAnalyze(ItApp *app, PetscInt nfile, char *files[]); /* cmd_analyze.c */
PetscErrorCode ItAppMC(ItApp *app, PetscInt nfile, char *files[]);      /* cmd_mc.c */
PetscErrorCode ItAppMCHelp(ItApp *app);
PetscErrorCode ItAppCrosscheck(ItApp *app, PetscInt nfile, char *files[]);
PetscErrorCode ItAppCrosscheckHelp(ItApp *app);
PetscErrorCode ItAppSpectrum(ItApp *app, PetscInt nfile, char *files[]); /* cmd_spectrum.c */
PetscErrorCode ItAppSpectrumHelp(ItApp *app);
PetscErrorCode ItAppInfo(ItApp *app, PetscInt nfile, char *files[]); /* cmd_info.c */
PetscErrorCode ItAppAnalyzeSetUp(ItApp *app, PetscInt nfile, char *files[]);
PetscErrorCode ItAppMC(ItApp *app, PetscInt nfile, char *files[]);         /* cmd_mc.c */
PetscErrorCode ItAppCrosscheck(ItApp *app, PetscInt nfile, char *files[]); /* cmd_mc.c */
PetscErrorCode ItAppSpectrum(ItApp *app, PetscInt nfile, char *files[]);   /* cmd_spectrum.c */
PetscErrorCode ItAppInfo(ItApp *app, PetscInt nfile, char *files[]);       /* cmd_info.c */

/* Dedicated post-processing ranks, -post_ranks K (src/app/post.c). */
PetscBool      ItPostSolverOnly(void);
PetscErrorCode ItPostTransient(ItApp *app, ItSolveOutputFn output, ItSolveCheckpointFn checkpoint,
                               void *ctx);
PetscErrorCode ItPostOptions(void);

/* -help: the options of the objects a command would create, nothing solved
   or written (src/app/help.c: the pieces each command's help composes);
   -restart's option (src/app/cmd_run.c). */
PetscBool      ItAppHelpRequested(void);
PetscErrorCode ItAppHelpTransient(ItApp *app);
PetscErrorCode ItAppHelpEstimate(ItApp *app);
PetscErrorCode ItAppHelpStepper(ItApp *app);
PetscErrorCode ItAppHelpStationary(void);
PetscErrorCode ItAppHelpMC(ItApp *app, PetscBool crosscheck);
PetscErrorCode ItAppHelpSpectrum(ItApp *app);
PetscErrorCode ItAppHelpOutput(ItApp *app);
PetscErrorCode ItAppRestartOptions(ItApp *app, char restart[], size_t len, PetscBool *set);
/* run's start and end lines on stderr when it is not a terminal (src/app/report.c). */
PetscErrorCode ItAppReportStart(ItApp *app);
PetscErrorCode ItAppReportEnd(ItApp *app);

/* Option names read here (src/model/option_names.c). */
extern const ItOptionName ItAppOptionNames[];           /* src/app/app.c */
extern const ItOptionName ItAppRunOptionNames[];        /* src/app/cmd_run.c */
extern const ItOptionName ItAppCrosscheckOptionNames[]; /* src/app/cmd_mc.c */
extern const ItOptionName ItAppPostOptionNames[];       /* src/app/post.c */
extern const ItOptionName ItAppMemoryOptionNames[];     /* src/app/memory.c */
