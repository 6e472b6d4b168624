/* infotherm COMMAND -help: lists the options of the objects the command
   would create, then stops: nothing is solved and nothing is written. Each
   command's help function (its row of src/app/commands.c, beside the
   command in src/app/cmd_*.c) composes the pieces below.
   PETSc's -help prints each object's options as the object reads them, so
   the set-up (model, grid, diagnostics, output folder name) runs as for the
   command itself, and then each further object is created and asked for its
   options: the solve settings, the initial density, the output folder
   (-overwrite, without touching the disk), the time stepper and its
   solvers, the stationary solve's KSP, -error_estimate, the Monte Carlo and
   the cross-check, the spectrum's eigensolver. */
#include <petscts.h>
#include <infotherm/private/appimpl.h>
#include <infotherm/mc.h>
#include <infotherm/spectrum.h>

/* Whether -help was given (PETSc's own test). */
PetscBool ItAppHelpRequested(void) {
  PetscBool help = PETSC_FALSE;

  if (PetscOptionsHasHelp(NULL, &help)) return PETSC_FALSE;
  return help;
}

/* The time stepper's options (-ts_*, -snes_*, -ksp_*, -pc_*), as run's TS reads them. */
PetscErrorCode ItAppHelpStepper(ItApp *app) {
  TS   ts;
  SNES snes;
  KSP  ksp;
  PC   pc;

  PetscFunctionBegin;
  PetscCall(TSCreate(PETSC_COMM_WORLD, &ts));
  PetscCall(TSSetDM(ts, ItGridGetInfo(app->grid)->da));
  PetscCall(TSSetType(ts, TSARKIMEX));
  PetscCall(TSGetSNES(ts, &snes));
  PetscCall(SNESGetKSP(snes, &ksp));
  PetscCall(KSPSetType(ksp, KSPGMRES)); /* the defaults of src/solve: GMRES with multigrid */
  PetscCall(KSPGetPC(ksp, &pc));
  PetscCall(PCSetType(pc, PCMG));
  PetscCall(TSSetFromOptions(ts));
  PetscCall(TSDestroy(&ts));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The stationary solve's options (-stationary_ksp_*, -stationary_pc_*,
   -stationary_mg_*: the defaults of a grid of 4 levels or more at order 2),
   and the multigrid's -fp_matrix_free (the time stepper's too). */
PetscErrorCode ItAppHelpStationary(void) {
  KSP               ksp;
  PC                pc;
  PetscBool         matrix_free, fine_v;
  ItSmoothDirection direction;
  PetscInt          next;

  PetscFunctionBegin;
  PetscCall(ItSmoothFromOptions(PETSC_COMM_WORLD, &matrix_free));
  PetscCall(ItSolveStationarySmoothingFromOptions(PETSC_COMM_WORLD, IT_MG_MAX_LEVELS, PETSC_FALSE,
                                                  &direction, &fine_v, &next));
  PetscCall(KSPCreate(PETSC_COMM_WORLD, &ksp));
  PetscCall(KSPSetOptionsPrefix(ksp, "stationary_"));
  PetscCall(KSPSetType(ksp, KSPGMRES));
  PetscCall(KSPGetPC(ksp, &pc));
  PetscCall(PCSetType(pc, PCMG));
  PetscCall(KSPSetFromOptions(ksp));
  PetscCall(KSPDestroy(&ksp));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The initial density's options (-init, -init_file, -init_mean, -init_cov). */
static PetscErrorCode ItAppHelpInitial(ItApp *app) {
  PetscReal mean[IT_MAX_DIM], L[IT_MAX_DIM * IT_MAX_DIM];

  PetscFunctionBegin;
  PetscCall(ItAppInitialOptions(app));
  PetscCall(ItInitGaussianOptions(app->grid, mean, L));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The Monte Carlo's options, and the cross-check's with crosscheck. */
PetscErrorCode ItAppHelpMC(ItApp *app, PetscBool crosscheck) {
  ItMC         mc;
  ItCrosscheck cc;

  PetscFunctionBegin;
  PetscCall(ItMCCreate(app->grid, app->model, app->diag, app->settings.t_final, &mc));
  if (crosscheck) {
    PetscCall(ItMCSetKLColumn(mc));
    PetscCall(ItCrosscheckCreate(mc, app->diag, &cc));
    PetscCall(ItCrosscheckDestroy(&cc));
  }
  PetscCall(ItMCDestroy(&mc));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The eigensolver's options (-spectrum_nev, -spectrum_t, -spectrum_eps_*, -spectrum_st_*). */
PetscErrorCode ItAppHelpSpectrum(ItApp *app) {
  ItSpectrum s;

  PetscFunctionBegin;
  PetscCall(ItSpectrumCreate(app->grid, app->model, &s));
  PetscCall(ItSpectrumSetFromOptions(s));
  PetscCall(ItSpectrumDestroy(&s));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The solve settings and the initial density's options, for the transient commands. */
PetscErrorCode ItAppHelpTransient(ItApp *app) {
  PetscFunctionBegin;
  PetscCall(ItSolveSettingsFromOptions(PETSC_COMM_WORLD, &app->settings));
  PetscCall(ItAppHelpInitial(app));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The output folder's options (-overwrite), without touching the disk. */
PetscErrorCode ItAppHelpOutput(ItApp *app) {
  PetscFunctionBegin;
  PetscCall(ItIOCreate(PETSC_COMM_WORLD, app->output_dir, app->layout, &app->io));
  PetscCall(ItIODestroy(&app->io));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* -error_estimate's option. */
PetscErrorCode ItAppHelpEstimate(ItApp *app) {
  PetscBool estimate;

  PetscFunctionBegin;
  (void)app;
  PetscCall(ItEstimateFromOptions(PETSC_COMM_WORLD, &estimate));
  PetscFunctionReturn(PETSC_SUCCESS);
}
