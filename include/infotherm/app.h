/* App: the command line (run | stationary | analyze | mc | crosscheck | spectrum | info),
   composing the modules below; owns exit codes. */
#pragma once
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
  PetscLogDouble  start;
  PetscReal       boundary_mass; /* the largest seen */
  PetscBool       warned;
  PetscLogDouble  last_checkpoint; /* wall time */
  PetscBool       interrupted;     /* stopped early after a checkpoint */
  Vec             good;            /* run: the last density that passed ItAppCheckStep */
  PetscReal       good_t;
  PetscInt        good_step;
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
PetscErrorCode ItAppEstimateCreate(ItApp *app, PetscBool transient, PetscBool covariance);

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

/* interrupted: stopped early after writing a checkpoint (exit status 3). */
PetscErrorCode ItAppMain(const char command[], const char stem[], PetscInt nfile, char *files[],
                         PetscBool *interrupted);
