/* App: the command line (run | stationary | analyze | mc | crosscheck | spectrum | info),
   composing the modules below; owns exit codes. */
#pragma once
#include <infotherm/solve.h>
#include <infotherm/diag.h>
#include <infotherm/io.h>

/* -error_estimate's coarse solves (src/app/error_estimate.c). */
typedef struct _p_ItEstimate *ItEstimate;

typedef struct {
  const char     *command;
  char            output_dir[PETSC_MAX_PATH_LEN];
  ItModel         model;
  ItGrid          grid;
  ItDiag          diag;
  ItIO            io;
  Vec             p;
  PetscBool       init_gaussian; /* -init gaussian (the Monte Carlo draws it directly) */
  ItSolveSettings settings;
  PetscLogDouble  start;
  PetscReal       boundary_mass; /* the largest seen */
  PetscBool       warned;
  PetscLogDouble  last_checkpoint; /* wall time */
  PetscBool       interrupted;     /* stopped early after a checkpoint */
  Vec             good;            /* run: the last density that passed ItAppCheckStep */
  PetscReal       good_t;
  PetscInt        good_step;
  /* -error_estimate (src/app/error_estimate.c): how the initial density and
     the KL reference were made, to make them again on the coarse grids */
  PetscInt   init_kind; /* 0 gaussian, 1 stationary, 2 file */
  char       init_file[PETSC_MAX_PATH_LEN];
  char       kl_reference[PETSC_MAX_PATH_LEN];
  ItEstimate estimate; /* NULL without -error_estimate */
} ItApp;

/* Shared by the commands (src/app/app.c). */
PetscErrorCode ItAppSetUp(ItApp *app, const char stem[]);
PetscErrorCode ItAppTearDown(ItApp *app);
PetscErrorCode ItAppInitialDensity(ItApp *app);
PetscErrorCode ItAppInitialOptions(ItApp *app);
PetscErrorCode ItAppReadDensity(ItApp *app, const char option[], const char file[], Vec p);
PetscErrorCode ItAppCheckBox(ItApp *app);
PetscErrorCode ItAppCheckStep(ItApp *app, PetscReal t, PetscInt step, Vec p);
PetscErrorCode ItAppWriteSummary(ItApp *app, json_t *extra);
PetscErrorCode ItAppReferenceDensity(ItApp *app, ItGrid grid, Vec *pss);
PetscErrorCode ItAppAppendRow(ItApp *app, PetscReal t);
PetscErrorCode ItAppOutputColumns(ItApp *app);

/* -error_estimate (src/app/error_estimate.c): the grids coarsened by 2 and 4
   solved first, then combined with the fine rows into <q>_err and
   <q>_extrap columns and summary.json's "error_estimate". */
PetscErrorCode ItEstimateFromOptions(ItApp *app, PetscBool *on);
PetscErrorCode ItEstimateCreate(ItApp *app, PetscBool transient, PetscBool covariance,
                                ItEstimate *est);
PetscErrorCode ItEstimateSolve(ItApp *app, ItEstimate est);
PetscErrorCode ItEstimateSetFineSeconds(ItEstimate est, PetscLogDouble seconds);
PetscErrorCode ItEstimateColumns(ItEstimate est, ItDiag diag, PetscInt *ncol,
                                 const char (**names)[64]);
PetscErrorCode ItEstimateRow(ItEstimate est, PetscReal t, const PetscReal values[],
                             const PetscReal **row);
PetscErrorCode ItEstimateSummary(ItEstimate est, ItDiag diag, json_t *root, json_t *final);
PetscErrorCode ItEstimateLevelRows(ItEstimate est, PetscInt level, PetscInt n, const PetscReal t[],
                                   PetscReal values[], PetscReal cov[]);
PetscInt       ItEstimateGetLevelCount(ItEstimate est);
PetscErrorCode ItEstimateDestroy(ItEstimate *est);
PetscErrorCode ItEstimateRestrict(ItGrid fine, ItGrid coarse, Vec pf, Vec pc);

/* Memory per rank (src/app/memory.c): checked before the grid is allocated,
   printed by info. */
PetscErrorCode ItAppCheckMemory(ItApp *app);
PetscErrorCode ItAppViewMemory(ItApp *app);

/* Options that nothing reads (src/app/options.c). */
PetscErrorCode ItAppCheckOptions(ItApp *app);
PetscErrorCode ItAppSnapshotOptions(const char file[]);

/* The Monte Carlo commands (src/app/mc.c). */
PetscErrorCode ItAppMC(ItApp *app);
PetscErrorCode ItAppCrosscheck(ItApp *app);

/* The relaxation spectrum (src/app/spectrum.c). */
PetscErrorCode ItAppSpectrum(ItApp *app);
/* Dedicated post-processing ranks, -post_ranks K (src/app/post.c). */
int            ItPostSplit(int argc, char **argv, const char command[], char error[], size_t len);
void           ItPostFinalize(int status);
PetscBool      ItPostSolverOnly(void);
PetscErrorCode ItPostTransient(ItApp *app, ItSolveOutputFn output, ItSolveCheckpointFn checkpoint);
PetscErrorCode ItPostOptions(void);

/* -help: the options of the objects a command would create, nothing solved
   or written (src/app/help.c); -restart's option (src/app/app.c). */
PetscBool      ItAppHelpRequested(void);
PetscErrorCode ItAppHelp(ItApp *app);
PetscErrorCode ItAppRestartOptions(ItApp *app, char restart[], size_t len, PetscBool *set);

/* interrupted: stopped early after writing a checkpoint (exit status 3). */
PetscErrorCode ItAppMain(const char command[], const char stem[], PetscInt nfile, char *files[],
                         PetscBool *interrupted);
