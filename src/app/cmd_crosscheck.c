/* infotherm crosscheck: runs the solver and the Monte Carlo on the same
   model, initial density and times (the Monte Carlo advanced to each of the
   solver's output times as the solver reaches it, so no solver density is
   kept) and writes the comparison (crosscheck.json, crosscheck.txt) besides
   both runs' outputs, failing with PETSC_ERR_NOT_CONVERGED (exit status 1,
   "crosscheck failed") when a judged |z| exceeds -crosscheck_z. Every option
   is checked before anything is written. */
#include <stdlib.h>
#include <unistd.h>
#include <infotherm/private/appimpl.h>
#include <infotherm/mc.h>

/* The cross-check streams the solver's states: at each of its output times
   the Monte Carlo is advanced to it and estimated against the solver's
   density, so no density is kept. */
typedef struct {
  ItApp         *app;
  ItMC           mc, bias_mc; /* bias_mc: -error_estimate's run at twice the step, or NULL */
  ItCrosscheck   cc;
  PetscInt       nrow, cap;
  PetscReal     *t;          /* the output times (for the coarse grids' rows afterwards) */
  PetscLogDouble mc_seconds; /* spent in the Monte Carlo */
} ItAppCrosscheckState;

/* The Monte Carlo (and -error_estimate's run at twice the step) advanced to
   t and estimated against the solver's density p. Collective. */
static PetscErrorCode ItAppCrosscheckMC(ItAppCrosscheckState *cs, PetscReal t, Vec p) {
  PetscLogDouble start, end;

  PetscFunctionBegin;
  PetscCall(PetscTime(&start));
  PetscCall(ItMCAdvance(cs->mc, t));
  PetscCall(ItMCEstimate(cs->mc, p));
  PetscCall(ItMCAppendRow(cs->mc));
  if (cs->bias_mc) {
    PetscCall(ItMCAdvance(cs->bias_mc, t));
    PetscCall(ItMCEstimate(cs->bias_mc, NULL));
  }
  PetscCall(PetscTime(&end));
  cs->mc_seconds += end - start;
  PetscFunctionReturn(PETSC_SUCCESS);
}

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
  if (row && !(cs->nrow > 0 && cs->t[cs->nrow - 1] == t)) {
    PetscCall(ItAppCheckBox(app));
    PetscCall(ItAppAppendRow(app, t));
    PetscCall(ItAppCrosscheckMC(cs, t, p));
    PetscCall(ItCrosscheckAdd(cs->cc, t, ItDiagGetValues(app->diag)));
    if (cs->bias_mc) PetscCall(ItCrosscheckAddBias(cs->cc));
    if (cs->nrow == cs->cap) {
      cs->cap = PetscMax(16, 2 * cs->cap);
      PetscCall(PetscRealloc(sizeof(PetscReal) * cs->cap, &cs->t));
    }
    cs->t[cs->nrow++] = t;
  }
  if (snapshot) {
    char     name[64];
    PetscInt nsnap;
    PetscCall(ItIOGetSnapshotCount(app->io, &nsnap));
    PetscCall(PetscSNPrintf(name, sizeof(name), "density_%04" PetscInt_FMT ".h5", nsnap));
    PetscCall(ItIOWriteSnapshot(app->io, app->grid, app->model, p, t, name));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The option names of crosscheck's options (src/model/option_names.c). */
static const ItOptionName ItAppCrosscheckOptionNames[] = {{"crosscheck_mc_param", 0}, {NULL, 0}};

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
  const PetscInt ncol = ItDiagGetColumnCount(app->diag), d = ItGridGetInfo(app->grid)->dim;
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
  PetscCall(ItEstimateFromOptions(PETSC_COMM_WORLD, &on));
  if (!on) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(ItAppEstimateCreate(app, PETSC_TRUE, PETSC_TRUE));
  PetscCall(ItMCCreate(app->grid, app->model, app->diag, app->settings.t_final, bias_mc));
  PetscCall(ItCrosscheckSetBiasRun(cc, *bias_mc));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Set when a cross-check was inconclusive (exit status IT_EXIT_INCONCLUSIVE). */
PetscBool ItAppInconclusive = PETSC_FALSE;

/* infotherm crosscheck: the solver (after its coarse-grid problems under
   -error_estimate), and at each of its output times the Monte Carlo advanced
   to that time and compared; then the report. */
static PetscErrorCode ItAppCrosscheck(ItApp *app, PetscInt nfile, char *files[]) {
  ItMC                 mc, bias_mc;
  ItCrosscheck         cc;
  ItAppCrosscheckState state = {0};
  PetscLogDouble       fine_start;
  PetscInt             nfail, ninconclusive, mc_param;
  PetscReal            mc_value = 0;
  char                 worst[512], inconclusive[512];
  json_t              *extra;
  PetscLogDouble       now;

  PetscFunctionBegin;
  (void)nfile, (void)files;
  PetscCall(ItSolveSettingsFromOptions(PETSC_COMM_WORLD, &app->settings));
  PetscCall(ItAppCheckScales(app)); /* as run: one check, the rates at t = 0 the diagnostics' */
  PetscCall(ItMCCreate(app->grid, app->model, app->diag, app->settings.t_final, &mc));
  PetscCall(ItMCSetKLColumn(mc));
  PetscCall(ItCrosscheckCreate(mc, app->diag, &cc));
  PetscCall(ItAppMCParam(app, &mc_param, &mc_value));
  PetscCall(ItAppInitialDensity(app));
  PetscCall(ItAppCrosscheckEstimate(app, cc, &bias_mc));
  PetscCall(ItIOCreate(PETSC_COMM_WORLD, app->output_dir, app->layout, &app->io));
  PetscCall(ItAppOutputColumns(app));
  /* under -post_ranks the post ranks run the Monte Carlo and write everything; the solver
     ranks only step (src/app/post.c) */
  if (!ItPostSolverOnly()) {
    PetscCall(ItIOClaim(app->io, NULL));
    PetscCall(ItMCInitialize(mc, ItInitGetKind(app->init) == IT_INIT_GAUSSIAN,
                             app->p)); /* before the solver moves app->p on */
    if (bias_mc)
      PetscCall(ItMCInitialize(bias_mc, ItInitGetKind(app->init) == IT_INIT_GAUSSIAN, app->p));
    if (app->estimate) PetscCall(ItEstimateSolve(app->estimate, &app->settings));
  }
  if (mc_param >= 0) {
    const char *name;
    PetscCall(ItModelGetParameterInfo(app->model, mc_param, &name, NULL, NULL));
    PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                          "crosscheck: the Monte Carlo runs with %s held at %g (the solver has its "
                          "value or schedule)\n",
                          name, (double)mc_value));
    PetscCall(ItMCSetParameter(mc, mc_param, mc_value));
    if (bias_mc) PetscCall(ItMCSetParameter(bias_mc, mc_param, mc_value));
  }
  state.app     = app;
  state.mc      = mc;
  state.bias_mc = bias_mc;
  state.cc      = cc;
  PetscCall(PetscTime(&fine_start));
  PetscCall(ItPostTransient(app, ItAppCrosscheckOutput, NULL, &state)); /* -post_ranks */
  PetscCall(PetscTime(&now));
  if (ItPostSolverOnly()) {
    PetscCall(ItCrosscheckDestroy(&cc));
    PetscCall(ItMCDestroy(&bias_mc));
    PetscCall(ItMCDestroy(&mc));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  /* the solver's own time: the Monte Carlo ran inside its output calls */
  if (app->estimate)
    PetscCall(ItEstimateSetFineSeconds(app->estimate, now - fine_start - state.mc_seconds));
  if (app->estimate) PetscCall(ItAppCrosscheckSolverError(app, cc, state.nrow, state.t));
  PetscCall(ItIOWriteTable(app->io));
  PetscCall(ItJSONPack(&extra, "{s:o, s:I}", "t_final", ItJSONReal(app->settings.t_final), "steps",
                       (json_int_t)app->result.steps));
  PetscCall(ItAppWriteSummary(app, extra));
  json_decref(extra);
  PetscCall(ItMCReport(mc));
  PetscCall(ItMCWriteTable(mc, app->io));
  PetscCall(PetscTime(&now));
  PetscCall(ItMCWriteSummary(mc, app->io, "crosscheck", now - app->start));
  PetscCall(
      ItCrosscheckReport(cc, app->io, &nfail, worst, &ninconclusive, inconclusive, sizeof(worst)));
  PetscCall(ItCrosscheckDestroy(&cc));
  PetscCall(PetscFree(state.t));
  PetscCall(ItMCDestroy(&bias_mc));
  PetscCall(ItMCDestroy(&mc));
  PetscCheck(nfail == 0, PETSC_COMM_WORLD, PETSC_ERR_NOT_CONVERGED,
             "crosscheck failed: %" PetscInt_FMT
             " judged value(s) differ by more than -crosscheck_z standard errors; worst %s (see "
             "%s/crosscheck.txt)",
             nfail, worst, app->output_dir);
  if (ninconclusive) {
    ItAppInconclusive = PETSC_TRUE;
    PetscCall(
        PetscFPrintf(PETSC_COMM_WORLD, PETSC_STDERR,
                     "infotherm: crosscheck inconclusive: %" PetscInt_FMT
                     " judged value(s) pass only through a solver error estimate that is not "
                     "trusted; farthest %s: refine the grid (-grid_n) (see %s/crosscheck.txt)\n",
                     ninconclusive, inconclusive, app->output_dir));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* crosscheck -help: run's solver options, post-processing ranks, the Monte Carlo and the
   cross-check. */
static PetscErrorCode ItAppCrosscheckHelp(ItApp *app) {
  PetscFunctionBegin;
  PetscCall(ItAppHelpTransient(app));
  PetscCall(ItPostOptions());
  PetscCall(ItAppHelpEstimate(app));
  PetscCall(ItAppHelpStepper(app));
  PetscCall(ItAppHelpStationary());
  PetscCall(ItAppHelpMC(app, PETSC_TRUE));
  PetscCall(ItAppHelpOutput(app));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* crosscheck's files: both runs' under their own names, and the comparison. */
static const ItIOLayout ItAppCrosscheckLayout = {"crosscheck",
                                                 "crosscheck.lock",
                                                 {{"diagnostics.csv", "crosscheck_diagnostics.csv"},
                                                  {"summary.json", "crosscheck_summary.json"},
                                                  {"density.xmf", "crosscheck_density.xmf"},
                                                  {"mc.csv", "crosscheck_mc.csv"},
                                                  {"mc_summary.json", "crosscheck_mc_summary.json"},
                                                  {"crosscheck.json", NULL},
                                                  {"crosscheck.txt", NULL}},
                                                 {"density_", "crosscheck_density_"},
                                                 NULL};

const ItAppCommand ItAppCommand_crosscheck = {
    .name           = "crosscheck",
    .summary        = "run and mc on the same model, compared (exit status 1 when they disagree)",
    .run            = ItAppCrosscheck,
    .help           = ItAppCrosscheckHelp,
    .error_estimate = PETSC_TRUE,
    .options        = ItAppCrosscheckOptionNames,
    .layout         = &ItAppCrosscheckLayout,
};
