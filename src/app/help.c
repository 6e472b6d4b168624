/* infotherm COMMAND -help: lists the options of the objects the command
   would create, then stops: nothing is solved and nothing is written.
   PETSc's -help prints each object's options as the object reads them, so
   the set-up (model, grid, diagnostics, output folder name) runs as for the
   command itself, and then each further object is created and asked for its
   options: the solve settings, the initial density, the output folder
   (-overwrite, without touching the disk), the time stepper and its
   solvers, the stationary solve's KSP, -error_estimate, the Monte Carlo and
   the cross-check, the spectrum's eigensolver. */
#include <petscts.h>
#include <infotherm/app.h>
#include <infotherm/mc.h>
#include <infotherm/spectrum.h>

/* Whether -help was given (PETSc's own test). */
PetscBool ItAppHelpRequested(void) {
  PetscBool help = PETSC_FALSE;

  if (PetscOptionsHasHelp(NULL, &help)) return PETSC_FALSE;
  return help;
}

/* The time stepper's options (-ts_*, -snes_*, -ksp_*, -pc_*), as run's TS reads them. */
static PetscErrorCode ItAppHelpStepper(ItApp *app) {
  TS   ts;
  SNES snes;
  KSP  ksp;
  PC   pc;

  PetscFunctionBegin;
  PetscCall(TSCreate(PETSC_COMM_WORLD, &ts));
  PetscCall(TSSetDM(ts, app->grid->da));
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

/* The stationary solve's options (-stationary_ksp_*, -stationary_pc_*). */
static PetscErrorCode ItAppHelpStationary(void) {
  KSP ksp;
  PC  pc;

  PetscFunctionBegin;
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
  PetscCall(ItSolveGaussianOptions(app->grid, mean, L));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The Monte Carlo's options, and the cross-check's with crosscheck. */
static PetscErrorCode ItAppHelpMC(ItApp *app, PetscBool crosscheck) {
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
static PetscErrorCode ItAppHelpSpectrum(ItApp *app) {
  ItSpectrum s;

  PetscFunctionBegin;
  PetscCall(ItSpectrumCreate(app->grid, app->model, &s));
  PetscCall(ItSpectrumSetFromOptions(s));
  PetscCall(ItSpectrumDestroy(&s));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* After ItAppSetUp: the options of everything the command would create. */
PetscErrorCode ItAppHelp(ItApp *app) {
  const char *c = app->command;
  PetscBool   transient, estimate;

  PetscFunctionBegin;
  transient = (PetscBool)(!strcmp(c, "run") || !strcmp(c, "mc") || !strcmp(c, "crosscheck"));
  if (transient) {
    PetscCall(ItSolveSettingsFromOptions(PETSC_COMM_WORLD, &app->settings));
    PetscCall(ItAppHelpInitial(app));
  }
  if (!strcmp(c, "run")) PetscCall(ItAppRestartOptions(app, NULL, 0, NULL));
  if (!strcmp(c, "run")) PetscCall(ItPostOptions());
  if (!strcmp(c, "run") || !strcmp(c, "stationary") || !strcmp(c, "crosscheck") ||
      !strcmp(c, "spectrum"))
    PetscCall(ItEstimateFromOptions(app, &estimate));
  if (!strcmp(c, "run") || !strcmp(c, "crosscheck")) PetscCall(ItAppHelpStepper(app));
  if (strcmp(c, "info") && strcmp(c, "analyze")) PetscCall(ItAppHelpStationary());
  if (!strcmp(c, "mc") || !strcmp(c, "crosscheck"))
    PetscCall(ItAppHelpMC(app, (PetscBool)!strcmp(c, "crosscheck")));
  if (!strcmp(c, "spectrum")) PetscCall(ItAppHelpSpectrum(app));
  if (strcmp(c, "info")) {
    PetscCall(ItIOCreate(PETSC_COMM_WORLD, app->output_dir, app->command, &app->io));
    PetscCall(ItIODestroy(&app->io));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}
