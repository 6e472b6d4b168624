/* The Monte Carlo commands: `mc` integrates the model's Langevin equation for
   -mc_particles particles from the initial density of `run` to the same
   output times and writes mc.csv, mc_summary.json and the smoothed density at
   the snapshot times (mc_density_NNNN.h5); `crosscheck` runs the solver and
   the Monte Carlo on the same model, initial density and times and writes the
   comparison (crosscheck.json, crosscheck.txt) besides both runs' outputs,
   failing with PETSC_ERR_NOT_CONVERGED (exit status 1, "crosscheck failed")
   when a judged |z| exceeds -crosscheck_z. Every option is checked before
   anything is written. */
#include <stdlib.h>
#include <unistd.h>
#include <infotherm/app.h>
#include <infotherm/mc.h>
#include <infotherm/error_estimate.h>

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
      PetscCall(ItMCDensityToVec(mc, app->p));
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

/* The solver's rows kept for the cross-check: diagnostics and the density (natural order). */
typedef struct {
  ItApp     *app;
  PetscInt   n, cap, ncell;
  PetscReal *t, *values, *density;
} ItAppFPRows;

static PetscErrorCode ItAppCrosscheckOutput(void *ctx, PetscReal t, PetscInt step, Vec p,
                                            PetscBool row, PetscBool snapshot) {
  ItAppFPRows   *rows = (ItAppFPRows *)ctx;
  ItApp         *app  = rows->app;
  const PetscInt ncol = ItDiagGetColumnCount(app->diag);

  PetscFunctionBegin;
  if (t != ItDiagGetTime(app->diag)) {
    PetscCall(ItDiagEvaluate(app->diag, t, p));
    PetscCall(ItAppCheckStep(app, t, step, p));
    PetscCall(ItDiagAccumulate(app->diag));
  }
  if (row && !(rows->n > 0 && rows->t[rows->n - 1] == t)) {
    PetscCall(ItAppCheckBox(app));
    PetscCall(ItAppAppendRow(app, t));
    if (rows->n == rows->cap) {
      rows->cap = PetscMax(16, 2 * rows->cap);
      PetscCall(PetscRealloc(sizeof(PetscReal) * rows->cap, &rows->t));
      PetscCall(PetscRealloc(sizeof(PetscReal) * rows->cap * ncol, &rows->values));
      PetscCall(PetscRealloc(sizeof(PetscReal) * rows->cap * rows->ncell, &rows->density));
    }
    rows->t[rows->n] = t;
    PetscCall(PetscArraycpy(&rows->values[rows->n * ncol], ItDiagGetValues(app->diag), ncol));
    PetscCall(ItMCGatherDensity(app->grid, p, &rows->density[rows->n * rows->ncell]));
    rows->n++;
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

/* -error_estimate: the solver's rows on the coarse grids at the cross-check's
   times, handed to the cross-check for the solver's error. */
static PetscErrorCode ItAppCrosscheckSolverError(ItApp *app, ItCrosscheck cc, PetscInt n,
                                                 const PetscReal t[]) {
  const PetscInt ncol = ItDiagGetColumnCount(app->diag), d = app->grid->dim;
  const PetscInt nlevel                     = ItEstimateGetLevelCount(app->estimate);
  PetscReal     *values[IT_ESTIMATE_NLEVEL] = {NULL}, *cov[IT_ESTIMATE_NLEVEL] = {NULL};

  PetscFunctionBegin;
  for (PetscInt L = 0; L < nlevel; L++) {
    PetscCall(PetscMalloc2(n * PetscMax(ncol, 1), &values[L], n * d * d, &cov[L]));
    PetscCall(ItEstimateLevelRows(app->estimate, L, n, t, values[L], cov[L]));
  }
  PetscCall(
      ItCrosscheckSetSolverLevels(cc, nlevel, (const PetscReal **)values, (const PetscReal **)cov));
  for (PetscInt L = 0; L < nlevel; L++) PetscCall(PetscFree2(values[L], cov[L]));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* -error_estimate: the solver's coarse problems, and the Monte Carlo at twice
   the step (*bias_mc; NULL without). Before anything is written. */
static PetscErrorCode ItAppCrosscheckEstimate(ItApp *app, ItCrosscheck cc, ItMC *bias_mc) {
  PetscBool on;

  PetscFunctionBegin;
  *bias_mc = NULL;
  PetscCall(ItEstimateFromOptions(app, &on));
  if (!on) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(ItEstimateCreate(app, PETSC_TRUE, PETSC_TRUE, &app->estimate));
  PetscCall(ItMCCreate(app->grid, app->model, app->diag, app->settings.t_final, bias_mc));
  PetscCall(ItCrosscheckSetBiasRun(cc, *bias_mc));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* infotherm crosscheck: the solver, then the Monte Carlo at the solver's output times, and the
 * report. */
PetscErrorCode ItAppCrosscheck(ItApp *app) {
  ItMC           mc, bias_mc;
  ItCrosscheck   cc;
  ItAppFPRows    rows = {0};
  PetscLogDouble fine_start;
  PetscInt       nfail, mc_param;
  PetscReal      mc_value = 0;
  char           worst[512];
  json_t        *extra;
  PetscLogDouble now;

  PetscFunctionBegin;
  PetscCall(ItSolveSettingsFromOptions(PETSC_COMM_WORLD, &app->settings));
  PetscCall(ItSolveCheckScales(app->grid, app->model, &app->settings));
  PetscCall(ItMCCreate(app->grid, app->model, app->diag, app->settings.t_final, &mc));
  PetscCall(ItMCSetKLColumn(mc));
  PetscCall(ItCrosscheckCreate(mc, app->diag, &cc));
  PetscCall(ItAppMCParam(app, &mc_param, &mc_value));
  PetscCall(ItAppInitialDensity(app));
  PetscCall(ItAppCrosscheckEstimate(app, cc, &bias_mc));
  PetscCall(ItIOCreate(PETSC_COMM_WORLD, app->output_dir, app->command, &app->io));
  PetscCall(ItAppOutputColumns(app));
  PetscCall(ItIOClaim(app->io, NULL));
  PetscCall(ItMCInitialize(mc, app->init_gaussian, app->p)); /* before the solver moves app->p on */
  if (bias_mc) PetscCall(ItMCInitialize(bias_mc, app->init_gaussian, app->p));
  if (app->estimate) PetscCall(ItEstimateSolve(app, app->estimate));
  rows.app   = app;
  rows.ncell = ItGridCellCount(app->grid);
  PetscCall(PetscTime(&fine_start));
  PetscCall(ItSolveTransient(app->grid, app->model, &app->settings, app->p, ItAppCrosscheckOutput,
                             &rows));
  PetscCall(PetscTime(&now));
  if (app->estimate) PetscCall(ItEstimateSetFineSeconds(app->estimate, now - fine_start));
  PetscCall(ItIOWriteTable(app->io));
  PetscCall(ItJSONPack(&extra, "{s:o, s:I}", "t_final", ItJSONReal(app->settings.t_final), "steps",
                       (json_int_t)app->settings.steps));
  PetscCall(ItAppWriteSummary(app, extra));
  json_decref(extra);
  if (mc_param >= 0) {
    const char *name;
    PetscCall(ItModelGetParameterInfo(app->model, mc_param, &name, NULL, NULL));
    PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                          "crosscheck: the Monte Carlo runs with %s held at %g (the solver had its "
                          "value or schedule)\n",
                          name, (double)mc_value));
    PetscCall(ItMCSetParameter(mc, mc_param, mc_value));
    if (bias_mc) PetscCall(ItMCSetParameter(bias_mc, mc_param, mc_value));
  }
  for (PetscInt k = 0; k < rows.n; k++) {
    const PetscReal *density = &rows.density[k * rows.ncell];
    PetscCall(ItMCAdvance(mc, rows.t[k]));
    PetscCall(ItMCEstimate(mc, density));
    PetscCall(ItMCAppendRow(mc));
    PetscCall(
        ItCrosscheckAdd(cc, rows.t[k], &rows.values[k * ItDiagGetColumnCount(app->diag)], density));
    if (bias_mc) {
      PetscCall(ItMCAdvance(bias_mc, rows.t[k]));
      PetscCall(ItMCEstimate(bias_mc, NULL));
      PetscCall(ItCrosscheckAddBias(cc));
    }
  }
  if (app->estimate) PetscCall(ItAppCrosscheckSolverError(app, cc, rows.n, rows.t));
  PetscCall(ItMCReport(mc));
  PetscCall(ItMCWriteTable(mc, app->io));
  PetscCall(PetscTime(&now));
  PetscCall(ItMCWriteSummary(mc, app->io, "crosscheck", now - app->start));
  PetscCall(ItCrosscheckReport(cc, app->io, &nfail, worst, sizeof(worst)));
  PetscCall(PetscFree(rows.t));
  PetscCall(PetscFree(rows.values));
  PetscCall(PetscFree(rows.density));
  PetscCall(ItCrosscheckDestroy(&cc));
  PetscCall(ItMCDestroy(&bias_mc));
  PetscCall(ItMCDestroy(&mc));
  PetscCheck(nfail == 0, PETSC_COMM_WORLD, PETSC_ERR_NOT_CONVERGED,
             "crosscheck failed: %" PetscInt_FMT
             " judged value(s) differ by more than -crosscheck_z standard errors; worst %s (see "
             "%s/crosscheck.txt)",
             nfail, worst, app->output_dir);
  PetscFunctionReturn(PETSC_SUCCESS);
}
