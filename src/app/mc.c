/* The Monte Carlo commands: `mc` integrates the model's Langevin equation for
   -mc_particles particles from the initial density of `run` to the same
   output times and writes mc.csv, mc_summary.json and the smoothed density at
   the snapshot times (mc_density_NNNN.h5); `crosscheck` runs the solver and
   the Monte Carlo on the same model, initial density and times (the Monte
   Carlo advanced to each of the solver's output times as the solver reaches
   it, so no solver density is kept) and writes the comparison (crosscheck.json, crosscheck.txt)
   besides both runs' outputs, failing with PETSC_ERR_NOT_CONVERGED (exit status 1, "crosscheck
   failed") when a judged |z| exceeds -crosscheck_z. Every option is checked before anything is
   written. */
#include <stdlib.h>
#include <unistd.h>
#include <infotherm/app.h>
#include <infotherm/mc.h>

/* infotherm mc: Langevin particles to -t_final, estimates every -output_every. */
PetscErrorCode ItAppMC(ItApp *app) {
  ItMC           mc;
  PetscInt       nout, ksnap = 1;
  PetscLogDouble now;

  PetscFunctionBegin;
  PetscCall(ItSolveSettingsFromOptions(PETSC_COMM_WORLD, &app->settings));
  PetscCall(ItMCCreate(app->grid, app->model, app->diag, app->settings.t_final, &mc));
  PetscCall(ItAppInitialDensity(app));
  PetscCall(ItIOCreate(PETSC_COMM_WORLD, app->output_dir, app->command, &app->io));
  PetscCall(ItIOClaim(app->io, NULL));
  PetscCall(ItMCInitialize(mc, app->init_gaussian, app->p));
  nout = ItSolveOutputCount(&app->settings);
  for (PetscInt k = 0; k <= nout; k++) {
    const PetscReal t = ItSolveOutputTime(&app->settings, k);
    PetscCall(ItMCAdvance(mc, t));
    PetscCall(ItMCEstimate(mc, NULL));
    PetscCall(ItMCAppendRow(mc));
    if (k == 0 || k == nout ||
        t >= ksnap * app->settings.snapshot_every - 1e-12 * app->settings.t_final) {
      char name[64];
      PetscCall(
          PetscSNPrintf(name, sizeof(name), "mc_density_%04" PetscInt_FMT ".h5", app->io->nsnap));
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

/* The cross-check streams the solver's states: at each of its output times
   the Monte Carlo is advanced to it and estimated against the solver's
   density, so no density is kept. */
typedef struct {
  ItApp       *app;
  ItMC         mc;
  ItCrosscheck cc;
  PetscInt     nrow;
  PetscReal    t_last;
} ItAppCrosscheckState;

static PetscErrorCode ItAppCrosscheckOutput(void *ctx, PetscReal t, PetscInt step, Vec p,
                                            PetscBool row, PetscBool snapshot) {
  ItAppCrosscheckState *cs  = (ItAppCrosscheckState *)ctx;
  ItApp                *app = cs->app;

  PetscFunctionBegin;
  if (t != ItDiagGetTime(app->diag)) {
    PetscCall(ItDiagEvaluate(app->diag, t, p));
    PetscCall(ItAppCheckStep(app, t, step, p));
    PetscCall(ItDiagAccumulate(app->diag));
  }
  if (row && !(cs->nrow > 0 && cs->t_last == t)) {
    PetscCall(ItAppCheckBox(app));
    PetscCall(ItIOAppendRow(app->io, t, ItDiagGetValues(app->diag)));
    PetscCall(ItMCAdvance(cs->mc, t));
    PetscCall(ItMCEstimate(cs->mc, p));
    PetscCall(ItMCAppendRow(cs->mc));
    PetscCall(ItCrosscheckAdd(cs->cc, t, ItDiagGetValues(app->diag)));
    cs->t_last = t;
    cs->nrow++;
  }
  if (snapshot) {
    char name[64];
    PetscCall(PetscSNPrintf(name, sizeof(name), "density_%04" PetscInt_FMT ".h5", app->io->nsnap));
    PetscCall(ItIOWriteSnapshot(app->io, app->grid, app->model, p, t, name));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* -crosscheck_mc_param NAME=VALUE: a parameter that only the Monte Carlo sees,
   to show that the cross-check can fail. Returns the parameter's index (-1: none). */
static PetscErrorCode ItAppMCParam(ItApp *app, PetscInt *index, PetscReal *value) {
  char      text[128] = "", *eq;
  PetscBool set, positive;

  PetscFunctionBegin;
  *index = -1;
  PetscOptionsBegin(PETSC_COMM_WORLD, NULL, "Cross-check", "ItApp");
  PetscCall(PetscOptionsString("-crosscheck_mc_param",
                               "NAME=VALUE: run the Monte Carlo on a different parameter value (a "
                               "test that the check can fail)",
                               NULL, text, text, sizeof(text), &set));
  PetscOptionsEnd();
  if (!set) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscStrchr(text, '=', &eq));
  PetscCheck(eq, PETSC_COMM_WORLD, PETSC_ERR_USER_INPUT,
             "-crosscheck_mc_param takes NAME=VALUE; got '%s'", text);
  *eq = 0;
  PetscCall(ItModelFindParameter(app->model, text, index));
  PetscCheck(*index >= 0, PETSC_COMM_WORLD, PETSC_ERR_USER_INPUT,
             "-crosscheck_mc_param: '%s' is not a parameter of model %s", text,
             ItModelGetTypeName(app->model));
  PetscCall(PetscOptionsStringToReal(eq + 1, value));
  PetscCall(ItModelGetParameterInfo(app->model, *index, NULL, NULL, &positive));
  PetscCheck(!positive || *value > 0, PETSC_COMM_WORLD, PETSC_ERR_USER_INPUT,
             "-crosscheck_mc_param: %s must be positive; got %g", text, (double)*value);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* infotherm crosscheck: the solver, and at each of its output times the Monte
   Carlo advanced to that time and compared; then the report. */
PetscErrorCode ItAppCrosscheck(ItApp *app) {
  ItMC                 mc;
  ItCrosscheck         cc;
  ItAppCrosscheckState state = {0};
  PetscInt             nfail, mc_param;
  PetscReal            mc_value = 0;
  char                 worst[512];
  json_t              *extra;
  PetscLogDouble       now;

  PetscFunctionBegin;
  PetscCall(ItSolveSettingsFromOptions(PETSC_COMM_WORLD, &app->settings));
  PetscCall(ItSolveCheckScales(app->grid, app->model, &app->settings));
  PetscCall(ItMCCreate(app->grid, app->model, app->diag, app->settings.t_final, &mc));
  PetscCall(ItMCSetKLColumn(mc));
  PetscCall(ItCrosscheckCreate(mc, app->diag, &cc));
  PetscCall(ItAppMCParam(app, &mc_param, &mc_value));
  PetscCall(ItAppInitialDensity(app));
  PetscCall(ItIOCreate(PETSC_COMM_WORLD, app->output_dir, app->command, &app->io));
  PetscCall(
      ItIOSetColumns(app->io, ItDiagGetColumnCount(app->diag), ItDiagGetColumnNames(app->diag)));
  PetscCall(ItIOClaim(app->io, NULL));
  PetscCall(ItMCInitialize(mc, app->init_gaussian, app->p)); /* before the solver moves app->p on */
  if (mc_param >= 0) {
    const char *name;
    PetscCall(ItModelGetParameterInfo(app->model, mc_param, &name, NULL, NULL));
    PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                          "crosscheck: the Monte Carlo runs with %s held at %g (the solver has its "
                          "value or schedule)\n",
                          name, (double)mc_value));
    PetscCall(ItMCSetParameter(mc, mc_param, mc_value));
  }
  state.app = app;
  state.mc  = mc;
  state.cc  = cc;
  PetscCall(ItSolveTransient(app->grid, app->model, &app->settings, app->p, ItAppCrosscheckOutput,
                             &state));
  PetscCall(ItIOWriteTable(app->io));
  PetscCall(ItJSONPack(&extra, "{s:o, s:I}", "t_final", ItJSONReal(app->settings.t_final), "steps",
                       (json_int_t)app->settings.steps));
  PetscCall(ItAppWriteSummary(app, extra));
  json_decref(extra);
  PetscCall(ItMCReport(mc));
  PetscCall(ItMCWriteTable(mc, app->io));
  PetscCall(PetscTime(&now));
  PetscCall(ItMCWriteSummary(mc, app->io, "crosscheck", now - app->start));
  PetscCall(ItCrosscheckReport(cc, app->io, &nfail, worst, sizeof(worst)));
  PetscCall(ItCrosscheckDestroy(&cc));
  PetscCall(ItMCDestroy(&mc));
  PetscCheck(nfail == 0, PETSC_COMM_WORLD, PETSC_ERR_NOT_CONVERGED,
             "crosscheck failed: %" PetscInt_FMT
             " judged value(s) differ by more than -crosscheck_z standard errors; worst %s (see "
             "%s/crosscheck.txt)",
             nfail, worst, app->output_dir);
  PetscFunctionReturn(PETSC_SUCCESS);
}
