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
  const char *command;
  PetscBool   sizes_only;       /* the command allocates nothing of the grid's size (info) */
  PetscBool   stationary_width; /* -fp_order 4's blend: the stationary law's width (stationary) */
  const ItIOLayout *layout;     /* the files it writes in the output folder (NULL: none) */
  const char       *estimating; /* the commands that read -error_estimate ("run, ... and spectrum"),
                                   or NULL when this one does */
  char            output_dir[PETSC_MAX_PATH_LEN];
  ItModel         model;
  ItGrid          grid;
  ItDiag          diag;
  ItFaces         faces0; /* run: the diagnostics' check at t = 0 until the solver takes it */
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
  PetscReal     *good_history; /* the refractory history at good_t (NULL: none) */
  PetscInt       good_nhistory;
  PetscReal     *restart_history; /* the checkpoint's refractory history (settings.history) */
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
PetscErrorCode ItAppCheckScales(ItApp *app);
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
PetscErrorCode ItAppCheckCommandOptions(const char command[], const char estimating[]);
PetscErrorCode ItAppSnapshotOptions(const char file[]);

/* The commands, run after the set-up (ItAppSetUp, or the command's own);
   nfile, files: the file arguments (analyze only). */
typedef PetscErrorCode (*ItAppCommandFn)(ItApp *app, PetscInt nfile, char *files[]);
/* A command's -help: the options of what it would create. */
typedef PetscErrorCode (*ItAppHelpFn)(ItApp *app);

/* A command: what its file src/app/cmd_<name>.c defines as
   `const ItAppCommand ItAppCommand_<name>`, listed once in
   src/app/commands.def (which meson.build and src/app/commands.c read). */
typedef struct {
  const char       *name;
  const char       *summary; /* its line of `infotherm -help` (and `infotherm help -list`) */
  ItAppCommandFn    setup;   /* NULL: ItAppSetUp */
  ItAppCommandFn    run;
  ItAppHelpFn       help;             /* -help: the options beyond the set-up's (NULL: none) */
  PetscBool         files;            /* takes file arguments (analyze's snapshots) */
  PetscBool         error_estimate;   /* reads -error_estimate (refused by the others) */
  PetscBool         sizes_only;       /* allocates nothing of the grid's size (info) */
  PetscBool         stationary_width; /* order 4: the stationary law's width (stationary) */
  PetscBool         checkpoints;      /* SIGUSR1/SIGTERM: a checkpoint, then exit status 3 (run) */
  const ItIOLayout *layout;           /* the files it writes in -output_dir (NULL: none) */
  /* the names of the options only this command reads, beside its options
     block in its file (NULL: none; registered for every command, since an
     options file serves them all) */
  const ItOptionName *options;
} ItAppCommand;

/* Dedicated post-processing ranks, -post_ranks K (src/app/post.c). */
PetscBool      ItPostSolverOnly(void);
PetscBool      ItPostPostOnly(void);
PetscErrorCode ItPostTransient(ItApp *app, ItSolveOutputFn output, ItSolveCheckpointFn checkpoint,
                               void *ctx);
PetscErrorCode ItPostOptions(void);
PetscErrorCode ItPostAddSolverMemory(PetscReal local[]);

/* -help: the options of the objects a command would create, nothing solved
   or written (src/app/help.c: the pieces each command's help composes). */
PetscBool      ItAppHelpRequested(void);
PetscErrorCode ItAppHelpTransient(ItApp *app);
PetscErrorCode ItAppHelpEstimate(ItApp *app);
PetscErrorCode ItAppHelpStepper(ItApp *app);
PetscErrorCode ItAppHelpStationary(void);
PetscErrorCode ItAppHelpMC(ItApp *app, PetscBool crosscheck);
PetscErrorCode ItAppHelpSpectrum(ItApp *app);
PetscErrorCode ItAppHelpOutput(ItApp *app);
/* run's start and end lines on stderr when it is not a terminal (src/app/report.c). */
PetscErrorCode ItAppReportStart(ItApp *app);
PetscErrorCode ItAppReportEnd(ItApp *app);

/* Option names read here (src/model/option_names.c). */
/* run's files, beside which analyze refuses to write (src/app/cmd_run.c) */
extern const ItIOLayout   ItAppRunLayout;
extern const ItOptionName ItAppOptionNames[];       /* src/app/app.c */
extern const ItOptionName ItAppPostOptionNames[];   /* src/app/post.c */
extern const ItOptionName ItAppMemoryOptionNames[]; /* src/app/memory.c */
