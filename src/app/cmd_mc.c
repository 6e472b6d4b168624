/* infotherm mc: integrates the model's Langevin equation for -mc_particles
   particles from the initial density of `run` to the same output times and
   writes mc.csv, mc_summary.json and the smoothed density at the snapshot
   times (mc_density_NNNN.h5). Every option is checked before anything is
   written. */
#include <stdlib.h>
#include <unistd.h>
#include <infotherm/private/appimpl.h>
#include <infotherm/mc.h>

/* infotherm mc: Langevin particles to -t_final, estimates every -output_every. */
static PetscErrorCode ItAppMC(ItApp *app, PetscInt nfile, char *files[]) {
  ItMC           mc;
  PetscInt       nout, ksnap = 1;
  PetscLogDouble now;

  PetscFunctionBegin;
  (void)nfile, (void)files;
  PetscCall(ItSolveSettingsFromOptions(PETSC_COMM_WORLD, &app->settings));
  PetscCall(ItMCCreate(app->grid, app->model, app->diag, app->settings.t_final, &mc));
  PetscCall(ItAppInitialDensity(app));
  PetscCall(ItIOCreate(PETSC_COMM_WORLD, app->output_dir, app->layout, &app->io));
  PetscCall(ItIOClaim(app->io, NULL));
  PetscCall(ItMCInitialize(mc, ItInitGetKind(app->init) == IT_INIT_GAUSSIAN, app->p));
  nout = ItSolveOutputCount(&app->settings);
  for (PetscInt k = 0; k <= nout; k++) {
    const PetscReal t = ItSolveOutputTime(&app->settings, k);
    PetscCall(ItMCAdvance(mc, t));
    PetscCall(ItMCEstimate(mc, NULL));
    PetscCall(ItMCAppendRow(mc));
    if (k == 0 || k == nout ||
        t >= ksnap * app->settings.snapshot_every - 1e-12 * app->settings.t_final) {
      char     name[64];
      PetscInt nsnap;
      PetscCall(ItIOGetSnapshotCount(app->io, &nsnap));
      PetscCall(PetscSNPrintf(name, sizeof(name), "mc_density_%04" PetscInt_FMT ".h5", nsnap));
      PetscCall(ItMCDensityToVec(mc, app->p)); /* collective */
      PetscCall(ItIOWriteSnapshot(app->io, app->grid, app->model, app->p, t, name));
      while (ksnap * app->settings.snapshot_every <= t + 1e-12 * app->settings.t_final) ksnap++;
    }
  }
  PetscCall(ItMCReport(mc));
  PetscCall(ItMCWriteTable(mc, app->io));
  PetscCall(PetscTime(&now));
  PetscCall(ItMCWriteSummary(mc, app->io, "mc", now - app->start));
  PetscCall(ItMCDestroy(&mc));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* mc -help: the solve settings, initial density, stationary solve (-init
   stationary), the Monte Carlo and the output folder. */
static PetscErrorCode ItAppMCHelp(ItApp *app) {
  PetscFunctionBegin;
  PetscCall(ItAppHelpTransient(app));
  PetscCall(ItAppHelpStationary());
  PetscCall(ItAppHelpMC(app, PETSC_FALSE));
  PetscCall(ItAppHelpOutput(app));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* mc's files, beside a run's in the same folder. */
static const ItIOLayout ItAppMCLayout = {
    "mc",
    "mc.lock",
    {{"mc.csv", NULL}, {"mc_summary.json", NULL}, {"density.xmf", "mc_density.xmf"}},
    {"mc_density_", NULL},
    NULL};

const ItAppCommand ItAppCommand_mc = {
    .name    = "mc",
    .summary = "Langevin particles: estimates with standard errors in mc.csv",
    .run     = ItAppMC,
    .help    = ItAppMCHelp,
    .layout  = &ItAppMCLayout,
};
