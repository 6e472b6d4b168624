/* The commands of doc/design.md: each reads its options, validates everything
   before it writes anything, then composes model, grid, operator, solver,
   diagnostics and output. */
#include <sys/resource.h>
#include <infotherm/app.h>

/* The density of kl_to_stationary on `grid` (the run's or a coarser one), by
   app->kl_reference: NULL (none), the stationary density (solved on that
   grid, with the parameters at t = 0) or a snapshot (read on the run's grid,
   then restricted to a coarser one by summing children). Collective. */
PetscErrorCode ItAppReferenceDensity(ItApp *app, ItGrid grid, Vec *pss) {
  PetscBool none, stationary;
  PetscReal residual;
  PetscInt  its;
  Vec       fine;

  PetscFunctionBegin;
  *pss = NULL;
  PetscCall(PetscStrcmp(app->kl_reference, "none", &none));
  PetscCall(PetscStrcmp(app->kl_reference, "stationary", &stationary));
  if (none) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(DMCreateGlobalVector(grid->da, pss));
  if (stationary) {
    PetscCall(ItSolveStationary(grid, app->model, 0, *pss, &residual, &its));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(DMCreateGlobalVector(app->grid->da, &fine));
  PetscCall(ItAppReadDensity(app, "-kl_reference", app->kl_reference, fine));
  if (grid == app->grid)
    PetscCall(VecCopy(fine, *pss));
  else
    PetscCall(ItEstimateRestrict(app->grid, grid, fine, *pss));
  PetscCall(VecDestroy(&fine));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* -kl_reference none|stationary|FILE.h5: the density of kl_to_stationary
   (stationary: solved once, with the parameters at t = 0), then the diagnostics. */
static PetscErrorCode ItAppDiagnostics(ItApp *app) {
  Vec pss;

  PetscFunctionBegin;
  PetscCall(PetscStrncpy(app->kl_reference, "none", sizeof(app->kl_reference)));
  PetscOptionsBegin(PETSC_COMM_WORLD, NULL, "KL reference", "ItApp");
  PetscCall(PetscOptionsString(
      "-kl_reference",
      "density for kl_to_stationary: none, stationary (solved once) or a snapshot file", NULL,
      app->kl_reference, app->kl_reference, sizeof(app->kl_reference), NULL));
  PetscOptionsEnd();
  PetscCall(ItAppReferenceDensity(app, app->grid, &pss));
  PetscCall(ItDiagCreate(app->grid, app->model, pss, &app->diag));
  PetscCall(VecDestroy(&pss));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Model, grid, operator and diagnostics from the options; nothing is written. */
PetscErrorCode ItAppSetUp(ItApp *app, const char stem[]) {
  PetscBool   set;
  const char *type;

  PetscFunctionBegin;
  PetscCall(PetscTime(&app->start));
  PetscCall(ItModelCreate(PETSC_COMM_WORLD, &app->model));
  PetscCall(ItModelSetFromOptions(app->model));
  PetscCall(ItGridCreateBox(app->model, &app->grid));
  PetscCall(ItAppCheckMemory(app)); /* before the grid allocates anything of its size */
  PetscCall(ItGridSetUp(app->grid));
  PetscCall(ItAppCheckOptions(app));
  PetscCall(DMCreateGlobalVector(app->grid->da, &app->p));
  PetscCall(PetscObjectSetName((PetscObject)app->p, "density"));
  PetscCall(ItAppDiagnostics(app));
  type = ItModelGetTypeName(app->model);
  PetscCall(
      PetscSNPrintf(app->output_dir, sizeof(app->output_dir), "results/%s", stem[0] ? stem : type));
  PetscOptionsBegin(PETSC_COMM_WORLD, NULL, "Output", "ItApp");
  PetscCall(PetscOptionsString("-output_dir", "output directory", NULL, app->output_dir,
                               app->output_dir, sizeof(app->output_dir), &set));
  PetscOptionsEnd();
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode ItAppTearDown(ItApp *app) {
  PetscFunctionBegin;
  PetscCall(VecDestroy(&app->p));
  PetscCall(VecDestroy(&app->good));
  PetscCall(ItIODestroy(&app->io));
  PetscCall(ItDiagDestroy(&app->diag));
  PetscCall(ItEstimateDestroy(&app->estimate));
  PetscCall(ItGridDestroy(&app->grid));
  PetscCall(ItModelDestroy(&app->model));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A density snapshot FILE on the run's grid into p, checked and normalised;
   option names the option that gave it (-init_file, -kl_reference). Collective. */
PetscErrorCode ItAppReadDensity(ItApp *app, const char option[], const char file[], Vec p) {
  char      what[PETSC_MAX_PATH_LEN + 32];
  PetscReal t;

  PetscFunctionBegin;
  PetscCall(ItIOReadSnapshot(app->grid, app->model, file, p, &t));
  PetscCall(PetscSNPrintf(what, sizeof(what), "%s %s", option, file));
  PetscCall(
      ItSolveCheckDensity(app->grid, p, what, "give a density snapshot written by infotherm"));
  PetscCall(ItSolveNormalize(app->grid, p));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* -init gaussian|stationary|file and -init_file: how the initial density is
   made (app->init_kind, app->init_gaussian, app->init_file). Collective. */
PetscErrorCode ItAppInitialOptions(ItApp *app) {
  static const char *const kinds[] = {"gaussian", "stationary", "file"};
  PetscInt                 kind    = 0;

  PetscFunctionBegin;
  PetscOptionsBegin(PETSC_COMM_WORLD, NULL, "Initial density", "ItApp");
  PetscCall(PetscOptionsEList("-init", "initial density", NULL, kinds, 3, kinds[0], &kind, NULL));
  PetscCall(PetscOptionsString("-init_file", "density snapshot (.h5) for -init file", NULL,
                               app->init_file, app->init_file, sizeof(app->init_file), NULL));
  PetscOptionsEnd();
  app->init_gaussian = (PetscBool)(kind == 0);
  app->init_kind     = kind;
  PetscCheck(kind != 2 || app->init_file[0], PETSC_COMM_WORLD, PETSC_ERR_USER_INPUT,
             "-init file needs -init_file FILE.h5");
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* -init gaussian|stationary|file: the initial density in app->p. */
PetscErrorCode ItAppInitialDensity(ItApp *app) {
  PetscReal residual;
  PetscInt  its;

  PetscFunctionBegin;
  PetscCall(ItAppInitialOptions(app));
  switch (app->init_kind) {
  case 0:
    PetscCall(ItSolveGaussian(app->grid, app->p));
    PetscCall(ItSolveCheckDensity(app->grid, app->p, "the initial Gaussian",
                                  "change -init_mean or -init_cov"));
    break;
  case 1:
    PetscCall(ItSolveStationary(app->grid, app->model, 0, app->p, &residual, &its));
    PetscCall(ItSolveCheckDensity(
        app->grid, app->p, "the stationary density of -init stationary",
        "tighten -stationary_ksp_rtol, or use -stationary_pc_type lu on a small grid"));
    break;
  default:
    PetscCall(ItAppReadDensity(app, "-init_file", app->init_file, app->p));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The largest mass in the outermost layer of cells so far. */
PetscErrorCode ItAppCheckBox(ItApp *app) {
  PetscFunctionBegin;
  app->boundary_mass = PetscMax(app->boundary_mass, ItDiagGetBoundaryMass(app->diag));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The table's columns: the diagnostics, and under -error_estimate their
   <q>_err and <q>_extrap after them. */
PetscErrorCode ItAppOutputColumns(ItApp *app) {
  PetscInt ncol          = ItDiagGetColumnCount(app->diag);
  const char(*names)[64] = ncol ? ItDiagGetColumnNames(app->diag) : NULL;

  PetscFunctionBegin;
  if (app->estimate) PetscCall(ItEstimateColumns(app->estimate, app->diag, &ncol, &names));
  PetscCall(ItIOSetColumns(app->io, ncol, names));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The table's row at time t: the diagnostics' last values (and their error
   estimates). */
PetscErrorCode ItAppAppendRow(ItApp *app, PetscReal t) {
  const PetscReal *row = ItDiagGetValues(app->diag);

  PetscFunctionBegin;
  if (app->estimate) PetscCall(ItEstimateRow(app->estimate, t, row, &row));
  PetscCall(ItIOAppendRow(app->io, t, row));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Warns, once, when the density reached the walls: the fraction that
   summary.json records as boundary_mass (the largest seen). */
static PetscErrorCode ItAppWarnBox(ItApp *app) {
  PetscFunctionBegin;
  if (app->boundary_mass > IT_BOUNDARY_MASS_LIMIT && !app->warned)
    PetscCall(PetscFPrintf(PETSC_COMM_WORLD, PETSC_STDERR,
                           "infotherm: warning: up to %.3g of the mass lies in the outermost "
                           "cells; the box is too small (widen -grid_lo/-grid_hi)\n",
                           (double)app->boundary_mass));
  app->warned = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The sensor set X, for summary.json (the parity is in the model's fingerprint). */
static PetscErrorCode ItAppSummarySensor(ItApp *app, json_t **sensor) {
  PetscFunctionBegin;
  PetscCall(ItJSONPack(sensor, "[]"));
  for (PetscInt i = 0; i < ItModelGetDimension(app->model); i++)
    if (ItDiagIsSensor(app->diag, i))
      PetscCall(ItJSONAppend(*sensor, json_string(ItModelGetVariableName(app->model, i))));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The grid for summary.json: cells, lower and upper walls per axis. */
static PetscErrorCode ItAppSummaryGrid(ItGrid grid, json_t **object) {
  json_t *n, *lo, *hi;

  PetscFunctionBegin;
  PetscCall(ItJSONPack(&n, "[]"));
  for (PetscInt i = 0; i < grid->dim; i++) PetscCall(ItJSONAppend(n, json_integer(grid->n[i])));
  PetscCall(ItJSONRealArray(grid->dim, grid->lo, &lo));
  PetscCall(ItJSONRealArray(grid->dim, grid->hi, &hi));
  PetscCall(ItJSONPack(object, "{s:o, s:o, s:o}", "n", n, "lo", lo, "hi", hi));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The peak resident memory of every rank so far (getrusage's ru_maxrss),
   summed, and per cell of the grid, for summary.json's "memory". Collective. */
static PetscErrorCode ItAppSummaryMemory(ItApp *app, json_t **object) {
  struct rusage usage;
  PetscReal     local, peak;

  PetscFunctionBegin;
  PetscCheck(getrusage(RUSAGE_SELF, &usage) == 0, PETSC_COMM_SELF, PETSC_ERR_SYS,
             "getrusage failed");
  local = 1024.0 * (PetscReal)usage.ru_maxrss; /* kilobytes on Linux */
  PetscCall(ItGridSum(app->grid, 1, &local, &peak));
  PetscCall(ItJSONPack(object, "{s:I, s:o}", "peak_bytes", (json_int_t)peak, "bytes_per_unknown",
                       ItJSONReal(peak / ItGridCellCount(app->grid))));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* summary.json: the run's description, the command's own keys (extra, an
   object the caller keeps; NULL: none) and the final diagnostics (or extra's
   own "final", from a command without diagnostics: spectrum). */
PetscErrorCode ItAppWriteSummary(ItApp *app, json_t *extra) {
  PetscMPIInt    size;
  PetscLogDouble now;
  json_t        *root, *sensor, *grid, *run, *final, *memory;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_size(PETSC_COMM_WORLD, &size));
  PetscCall(PetscTime(&now));
  PetscCall(ItIOSummaryCreate(app->command, app->model, &root));
  PetscCall(ItAppSummarySensor(app, &sensor));
  PetscCall(ItAppSummaryGrid(app->grid, &grid));
  PetscCall(ItAppSummaryMemory(app, &memory));
  PetscCall(ItJSONPack(&run, "{s:o, s:i, s:o, s:o, s:s, s:o, s:s, s:o, s:b}", "grid", grid, "ranks",
                       size, "wall_time", ItJSONReal(now - app->start), "memory", memory,
                       "information_unit", ItDiagUsesBits(app->diag) ? "bits" : "nats", "sensor",
                       sensor, "entropy_production_current",
                       ItModelHasOddVariables(app->model) ? "irreversible" : "full",
                       "boundary_mass", ItJSONReal(app->boundary_mass), "box_too_small",
                       (int)(app->boundary_mass > IT_BOUNDARY_MASS_LIMIT)));
  PetscCall(ItJSONUpdate(root, run));
  if (extra) PetscCall(ItJSONUpdate(root, json_incref(extra)));
  if (!json_object_get(root, "final")) { /* spectrum writes its own final */
    PetscCall(ItJSONPack(&final, "{}"));
    for (PetscInt k = 0; k < ItDiagGetColumnCount(app->diag); k++)
      PetscCall(ItJSONSet(final, ItDiagGetColumnName(app->diag, k),
                          ItJSONReal(ItDiagGetValues(app->diag)[k])));
    if (app->estimate) PetscCall(ItEstimateSummary(app->estimate, app->diag, root, final));
    PetscCall(ItJSONSet(root, "final", final));
  }
  PetscCall(ItAppWarnBox(app));
  PetscCall(ItIOWriteJSON(app->io, "summary.json", root));
  json_decref(root);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ItAppOutput(void *ctx, PetscReal t, PetscInt step, Vec p, PetscBool row,
                                  PetscBool snapshot) {
  ItApp *app = (ItApp *)ctx;

  PetscFunctionBegin;
  if (t != ItDiagGetTime(app->diag)) {
    PetscCall(ItDiagEvaluate(app->diag, t, p));
    PetscCall(ItAppCheckStep(app, t, step, p));
    PetscCall(ItDiagAccumulate(app->diag));
  }
  if (row) {
    PetscCall(ItAppCheckBox(app));
    PetscCall(ItAppAppendRow(app, t));
  }
  if (snapshot) {
    char name[64];
    PetscCall(PetscSNPrintf(name, sizeof(name), "density_%04" PetscInt_FMT ".h5", app->io->nsnap));
    PetscCall(ItIOWriteSnapshot(app->io, app->grid, app->model, p, t, name));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A signal on any rank, or -checkpoint_wall seconds on rank 0's clock since
   the last checkpoint: decided together, one small reduction per step. */
static PetscErrorCode ItAppInterrupt(void *ctx, PetscBool *stop, PetscBool *checkpoint) {
  ItApp         *app = (ItApp *)ctx;
  PetscLogDouble now;
  PetscReal      local[2], global[2];
  PetscMPIInt    rank;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCall(PetscTime(&now));
  local[0] = ItIOSignalsReceived() > 0;
  local[1] = rank == 0 && app->settings.checkpoint_wall > 0 &&
             now - app->last_checkpoint > app->settings.checkpoint_wall;
  PetscCall(ItGridSum(app->grid, 2, local, global));
  *stop       = (PetscBool)(global[0] > 0);
  *checkpoint = (PetscBool)(global[1] > 0);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* What a restart must not change: the model's fingerprint (the model, its
   parameters' base values, schedules, formulas, tuning, M/b/D, parity) and
   the sensor, as canonical JSON text. */
static PetscErrorCode ItAppPhysics(ItApp *app, char physics[], size_t len) {
  json_t *fingerprint, *sensor = json_array();
  char   *text;

  PetscFunctionBegin;
  PetscCall(ItModelGetFingerprint(app->model, &fingerprint));
  for (PetscInt i = 0; i < ItModelGetDimension(app->model); i++)
    if (ItDiagIsSensor(app->diag, i))
      json_array_append_new(sensor, json_string(ItModelGetVariableName(app->model, i)));
  json_object_set_new(fingerprint, "sensor", sensor);
  text = json_dumps(fingerprint, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
  json_decref(fingerprint);
  PetscCheck(text, PETSC_COMM_SELF, PETSC_ERR_MEM, "cannot write the model's fingerprint");
  PetscCheck(strlen(text) < len, PETSC_COMM_SELF, PETSC_ERR_ARG_SIZ,
             "the model's fingerprint is longer than %zu characters", len);
  PetscCall(PetscStrncpy(physics, text, len));
  free(text);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* checkpoint.h5 with diagnostics.csv flushed to the same time. */
/* The checkpoint's state array: t, dt, step, boundary mass, then the diagnostics' state. */
enum { IT_STATE_T, IT_STATE_DT, IT_STATE_STEP, IT_STATE_BOUNDARY, IT_STATE_DIAG };

static PetscErrorCode ItAppCheckpoint(void *ctx, PetscReal t, PetscInt step, PetscReal dt, Vec p) {
  ItApp         *app    = (ItApp *)ctx;
  const PetscInt nstate = IT_STATE_DIAG + ItDiagGetStateSize(app->diag);
  PetscReal     *state;
  char           physics[8192];

  PetscFunctionBegin;
  PetscCall(ItAppPhysics(app, physics, sizeof(physics)));
  PetscCall(PetscMalloc1(nstate, &state));
  state[IT_STATE_T]        = t;
  state[IT_STATE_DT]       = dt;
  state[IT_STATE_STEP]     = (PetscReal)step;
  state[IT_STATE_BOUNDARY] = app->boundary_mass;
  PetscCall(ItDiagGetState(app->diag, &state[IT_STATE_DIAG]));
  PetscCall(ItIOWriteTable(app->io));
  PetscCall(ItIOWriteCheckpoint(app->io, app->grid, app->model, p, t, nstate, state, physics));
  PetscCall(PetscFree(state));
  PetscCall(PetscTime(&app->last_checkpoint));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A density that leaves a step must still be one: finite, with cells of
   negative value holding at most IT_NEGATIVE_MASS_LIMIT of its mass (the
   diagnostics have just summed both). Otherwise the command stops with one
   line naming the time and the options to change, after a checkpoint of the
   last good state when it keeps one (run copies it after every step).
   Collective. */
PetscErrorCode ItAppCheckStep(ItApp *app, PetscReal t, PetscInt step, Vec p) {
  PetscReal mass, negative;
  char      why[128], saved[PETSC_MAX_PATH_LEN + 64] = "";

  PetscFunctionBegin;
  ItDiagGetMass(app->diag, &mass, &negative);
  if (ItSolveIsDensity(mass, negative)) {
    if (app->good) {
      PetscCall(VecCopy(p, app->good));
      app->good_t    = t;
      app->good_step = step;
    }
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  if (PetscIsInfOrNanReal(mass) || PetscIsInfOrNanReal(negative) || mass <= 0)
    PetscCall(PetscSNPrintf(why, sizeof(why), "is no longer a density (mass %g)", (double)mass));
  else
    PetscCall(PetscSNPrintf(why, sizeof(why),
                            "has cells of negative value holding %.3g of its mass (at most %g "
                            "is accepted)",
                            (double)(-negative / mass), IT_NEGATIVE_MASS_LIMIT));
  if (app->good) {
    PetscCall(ItAppCheckpoint(app, app->good_t, app->good_step, t - app->good_t, app->good));
    PetscCall(PetscSNPrintf(saved, sizeof(saved),
                            "; the last good state, t = %g, is in %s/checkpoint.h5",
                            (double)app->good_t, app->output_dir));
  }
  SETERRQ(PETSC_COMM_WORLD, PETSC_ERR_USER_INPUT,
          "at t = %g (step %" PetscInt_FMT ") the density %s: the time stepper is unstable or its "
          "step too long; use a smaller -ts_dt, tighter -ts_rtol/-ts_atol or a stable -ts_type "
          "(the default arkimex)%s",
          (double)t, step, why, saved);
}

/* -restart FILE|auto: the density, time-stepping state, cumulative diagnostics,
   table and snapshot index of a checkpoint (auto: DIR/checkpoint.h5). */
static PetscErrorCode ItAppRestart(ItApp *app, char file[], size_t len) {
  const PetscInt nstate = IT_STATE_DIAG + ItDiagGetStateSize(app->diag);
  PetscReal     *state;
  PetscBool      isauto;
  char           physics[8192];

  PetscFunctionBegin;
  PetscCall(PetscStrcmp(file, "auto", &isauto));
  if (isauto) PetscCall(PetscSNPrintf(file, len, "%s/checkpoint.h5", app->output_dir));
  PetscCall(ItAppPhysics(app, physics, sizeof(physics)));
  PetscCall(PetscMalloc1(nstate, &state));
  PetscCall(
      ItIOReadCheckpoint(app->io, app->grid, app->model, file, app->p, nstate, state, physics));
  {
    char what[PETSC_MAX_PATH_LEN + 32];
    PetscCall(PetscSNPrintf(what, sizeof(what), "the checkpoint %s", file));
    PetscCall(ItSolveCheckDensity(app->grid, app->p, what,
                                  "restart from another checkpoint, or start afresh"));
  }
  app->settings.restarted = PETSC_TRUE;
  app->settings.t0        = state[IT_STATE_T];
  app->settings.dt0       = state[IT_STATE_DT];
  app->settings.step0     = (PetscInt)state[IT_STATE_STEP];
  app->boundary_mass      = state[IT_STATE_BOUNDARY];
  PetscCall(ItDiagSetState(app->diag, &state[IT_STATE_DIAG]));
  PetscCall(PetscInfo(NULL, "restarted from %s at t = %g, step %" PetscInt_FMT "\n", file,
                      (double)state[IT_STATE_T], app->settings.step0));
  PetscCall(PetscFree(state));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* infotherm run: time-steps the initial density to -t_final, or continues a
   checkpoint (-restart); a signal or -ts_max_steps stops it after a checkpoint. */
/* -restart FILE|auto into restart (len bytes; NULL: read for -help only). */
PetscErrorCode ItAppRestartOptions(ItApp *app, char restart[], size_t len, PetscBool *set) {
  char file[PETSC_MAX_PATH_LEN] = "";

  PetscFunctionBegin;
  (void)app;
  PetscOptionsBegin(PETSC_COMM_WORLD, NULL, "Restart", "ItApp");
  PetscCall(PetscOptionsString(
      "-restart", "continue from a checkpoint file, or auto (OUTPUT_DIR/checkpoint.h5)", NULL, file,
      file, sizeof(file), set));
  PetscOptionsEnd();
  if (restart) PetscCall(PetscStrncpy(restart, file, len));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ItAppRun(ItApp *app) {
  char           restart[PETSC_MAX_PATH_LEN] = "";
  json_t        *extra;
  PetscBool      restarted = PETSC_FALSE, estimate;
  PetscLogDouble fine_start, fine_end;

  PetscFunctionBegin;
  PetscCall(ItSolveSettingsFromOptions(PETSC_COMM_WORLD, &app->settings));
  PetscCall(ItSolveCheckScales(app->grid, app->model, &app->settings));
  app->settings.interrupt  = ItAppInterrupt;
  app->settings.checkpoint = ItAppCheckpoint;
  PetscCall(PetscTime(&app->last_checkpoint));
  PetscCall(ItAppRestartOptions(app, restart, sizeof(restart), &restarted));
  PetscCall(ItEstimateFromOptions(app, &estimate));
  /* a fresh run validates its initial density before it creates anything; a
     restart under -error_estimate solves the coarse grids again from t = 0 */
  if (!restarted)
    PetscCall(ItAppInitialDensity(app));
  else if (estimate)
    PetscCall(ItAppInitialOptions(app));
  if (estimate) PetscCall(ItEstimateCreate(app, PETSC_TRUE, PETSC_FALSE, &app->estimate));
  PetscCall(ItIOCreate(PETSC_COMM_WORLD, app->output_dir, app->command, &app->io));
  PetscCall(ItAppOutputColumns(app));
  if (restarted) PetscCall(ItAppRestart(app, restart, sizeof(restart)));
  if (!ItPostSolverOnly()) PetscCall(ItIOClaim(app->io, restarted ? restart : NULL));
  /* under -post_ranks the post ranks write the rows, with their _err columns */
  if (estimate && !ItPostSolverOnly()) PetscCall(ItEstimateSolve(app, app->estimate));
  PetscCall(VecDuplicate(app->p, &app->good));
  PetscCall(VecCopy(app->p, app->good));
  app->good_t    = app->settings.restarted ? app->settings.t0 : 0;
  app->good_step = app->settings.restarted ? app->settings.step0 : 0;
  PetscCall(PetscTime(&fine_start));
  PetscCall(ItPostTransient(app, ItAppOutput, ItAppCheckpoint)); /* -post_ranks */
  PetscCall(PetscTime(&fine_end));
  if (ItPostSolverOnly()) { /* the post ranks write everything */
    app->interrupted = app->settings.interrupted;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  if (estimate) PetscCall(ItEstimateSetFineSeconds(app->estimate, fine_end - fine_start));
  if (app->settings.interrupted) {
    PetscCall(PetscFPrintf(PETSC_COMM_WORLD, PETSC_STDERR,
                           "infotherm: stopped at t = %g after a checkpoint (%s/checkpoint.h5); "
                           "continue with -restart auto\n",
                           (double)app->settings.t_end, app->output_dir));
    app->interrupted = PETSC_TRUE;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  if (ItDiagGetTime(app->diag) != app->settings.t_end) { /* a restart that had nothing left to do */
    PetscCall(ItDiagEvaluate(app->diag, app->settings.t_end, app->p));
    PetscCall(ItDiagAccumulate(app->diag));
  }
  PetscCall(ItIOWriteTable(app->io));
  PetscCall(ItJSONPack(&extra, "{s:o, s:I}", "t_final", ItJSONReal(app->settings.t_final), "steps",
                       (json_int_t)app->settings.steps));
  PetscCall(ItAppWriteSummary(app, extra));
  json_decref(extra);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* infotherm stationary: solves L p = 0, ∫ p = 1, and reports the residual. */
static PetscErrorCode ItAppStationary(ItApp *app) {
  PetscReal      residual;
  PetscInt       its;
  json_t        *extra;
  PetscBool      estimate;
  PetscLogDouble fine_start, fine_end;

  PetscFunctionBegin;
  PetscCall(ItEstimateFromOptions(app, &estimate));
  PetscCall(PetscTime(&fine_start));
  PetscCall(ItSolveStationary(app->grid, app->model, 0, app->p, &residual, &its));
  PetscCall(PetscTime(&fine_end));
  PetscCall(ItIOCreate(PETSC_COMM_WORLD, app->output_dir, app->command, &app->io));
  PetscCall(ItSolveCheckDensity(
      app->grid, app->p, "the stationary density",
      "tighten -stationary_ksp_rtol, or use -stationary_pc_type lu on a small grid"));
  if (estimate) {
    PetscCall(ItEstimateCreate(app, PETSC_FALSE, PETSC_FALSE, &app->estimate));
    PetscCall(ItEstimateSolve(app, app->estimate));
    PetscCall(ItEstimateSetFineSeconds(app->estimate, fine_end - fine_start));
  }
  PetscCall(ItAppOutputColumns(app));
  PetscCall(ItDiagEvaluate(app->diag, (PetscReal)INFINITY, app->p));
  PetscCall(ItDiagAccumulate(app->diag));
  PetscCall(ItAppCheckBox(app));
  PetscCall(ItAppAppendRow(app, (PetscReal)INFINITY));
  PetscCall(ItIOClaim(app->io, NULL));
  PetscCall(ItIOWriteTable(app->io));
  PetscCall(ItIOWriteSnapshot(app->io, app->grid, app->model, app->p, (PetscReal)INFINITY,
                              "density_stationary.h5"));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                        "stationary: residual %.3e after %" PetscInt_FMT " Krylov iterations\n",
                        (double)residual, its));
  PetscCall(ItJSONPack(&extra, "{s:o, s:I}", "residual", ItJSONReal(residual), "ksp_iterations",
                       (json_int_t)its));
  PetscCall(ItAppWriteSummary(app, extra));
  json_decref(extra);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* infotherm info: the model, its parameters, the grid and the decomposition. */
static PetscErrorCode ItAppInfo(ItApp *app) {
  PetscMPIInt rank;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  PetscCall(ItModelView(app->model, PETSC_VIEWER_STDOUT_WORLD));
  PetscCall(ItGridView(app->grid, PETSC_VIEWER_STDOUT_WORLD));
  for (PetscInt i = 0; i < app->grid->dim; i++)
    PetscCall(PetscSynchronizedPrintf(
        PETSC_COMM_WORLD, "%s  rank %d owns %s in cells [%" PetscInt_FMT ", %" PetscInt_FMT ")\n",
        i ? "" : "", rank, ItModelGetVariableName(app->model, i), app->grid->xs[i],
        app->grid->xs[i] + app->grid->xm[i]));
  PetscCall(PetscSynchronizedFlush(PETSC_COMM_WORLD, PETSC_STDOUT));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "output directory: %s\n", app->output_dir));
  PetscCall(ItAppViewMemory(app));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* infotherm analyze SNAPSHOT.h5 ...: every diagnostic of saved snapshots, on
   any number of ranks, with the options stored in the first snapshot (the
   command line overrides them). Writes diagnostics.csv and summary.json into
   -output_dir (default: an "analysis" folder beside the first snapshot). */
static PetscErrorCode ItAppAnalyze(ItApp *app, PetscInt nfile, char *files[]) {
  PetscReal t;
  json_t   *extra;

  PetscFunctionBegin;
  for (PetscInt k = 0; k < nfile; k++) {
    PetscBool readable;
    PetscCall(PetscTestFile(files[k], 'r', &readable));
    PetscCheck(readable, PETSC_COMM_WORLD, PETSC_ERR_FILE_OPEN, "cannot read the snapshot %s",
               files[k]);
    if (k) PetscCall(ItIOSnapshotSameRun(PETSC_COMM_WORLD, files[0], files[k]));
  }
  PetscCall(ItIOCreate(PETSC_COMM_WORLD, app->output_dir, app->command, &app->io));
  for (PetscInt k = 0; k < nfile; k++) { /* every snapshot a density, before anything is written */
    char what[PETSC_MAX_PATH_LEN + 32];
    PetscCall(ItIOReadSnapshot(app->grid, app->model, files[k], app->p, &t));
    PetscCall(PetscSNPrintf(what, sizeof(what), "the snapshot %s", files[k]));
    PetscCall(ItSolveCheckDensity(app->grid, app->p, what, "leave it out of the analysis"));
  }
  PetscCall(
      ItIOSetColumns(app->io, ItDiagGetColumnCount(app->diag),
                     ItDiagGetColumnCount(app->diag) ? ItDiagGetColumnNames(app->diag) : NULL));
  for (PetscInt k = 0; k < nfile; k++) {
    PetscCall(ItIOReadSnapshot(app->grid, app->model, files[k], app->p, &t));
    PetscCall(ItDiagEvaluate(app->diag, t, app->p));
    PetscCall(ItDiagAccumulate(app->diag));
    PetscCall(ItAppCheckBox(app));
    PetscCall(ItIOAppendRow(app->io, t, ItDiagGetValues(app->diag)));
  }
  PetscCall(ItIOClaim(app->io, NULL));
  PetscCall(ItIOWriteTable(app->io));
  PetscCall(ItJSONPack(&extra, "{s:s}", "note", "*_cum columns integrate over the snapshots only"));
  PetscCall(ItAppWriteSummary(app, extra));
  json_decref(extra);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode ItAppMain(const char command[], const char stem[], PetscInt nfile, char *files[],
                         PetscBool *interrupted) {
  ItApp     app = {0};
  PetscBool run, stationary, info, analyze, mc, crosscheck, spectrum;

  PetscFunctionBegin;
  app.command = command;
  PetscCall(PetscStrcmp(command, "run", &run));
  PetscCall(PetscStrcmp(command, "stationary", &stationary));
  PetscCall(PetscStrcmp(command, "info", &info));
  PetscCall(PetscStrcmp(command, "analyze", &analyze));
  PetscCall(PetscStrcmp(command, "mc", &mc));
  PetscCall(PetscStrcmp(command, "crosscheck", &crosscheck));
  PetscCall(PetscStrcmp(command, "spectrum", &spectrum));
  PetscCheck(run || stationary || info || analyze || mc || crosscheck || spectrum, PETSC_COMM_WORLD,
             PETSC_ERR_USER_INPUT,
             "the command '%s' is not available; use run, stationary, analyze, mc, crosscheck, "
             "spectrum or info",
             command);
  PetscCheck(!nfile || analyze, PETSC_COMM_WORLD, PETSC_ERR_USER_INPUT,
             "'%s' takes no file arguments (got %s); options start with '-'", command, files[0]);
  if (analyze && !nfile && ItAppHelpRequested()) {
    PetscCall(ItAppSetUp(&app, ""));
    PetscCall(ItAppHelp(&app));
  } else if (analyze) {
    char dir[PETSC_MAX_PATH_LEN], *slash;
    PetscCheck(
        nfile > 0, PETSC_COMM_WORLD, PETSC_ERR_USER_INPUT,
        "analyze needs one or more snapshot files: infotherm analyze DIR/density_0001.h5 ...");
    PetscCall(ItAppSnapshotOptions(files[0]));
    PetscCall(PetscStrncpy(dir, files[0], sizeof(dir)));
    PetscCall(PetscStrrchr(dir, '/', &slash));
    if (slash != dir)
      slash[-1] = 0;
    else
      PetscCall(PetscStrncpy(dir, ".", sizeof(dir)));
    PetscCall(PetscStrlcat(dir, "/analysis", sizeof(dir)));
    PetscCall(ItAppSetUp(&app, ""));
    {
      PetscBool set;
      PetscCall(PetscOptionsHasName(NULL, NULL, "-output_dir", &set));
      if (!set) PetscCall(PetscStrncpy(app.output_dir, dir, sizeof(app.output_dir)));
    }
    if (ItAppHelpRequested())
      PetscCall(ItAppHelp(&app));
    else
      PetscCall(ItAppAnalyze(&app, nfile, files));
  } else {
    PetscCall(ItAppSetUp(&app, stem));
    if (ItAppHelpRequested())
      PetscCall(ItAppHelp(&app)); /* lists the options, solves and writes nothing */
    else if (run)
      PetscCall(ItAppRun(&app));
    else if (stationary)
      PetscCall(ItAppStationary(&app));
    else if (mc)
      PetscCall(ItAppMC(&app));
    else if (crosscheck)
      PetscCall(ItAppCrosscheck(&app));
    else if (spectrum)
      PetscCall(ItAppSpectrum(&app));
    else
      PetscCall(ItAppInfo(&app));
  }
  *interrupted = app.interrupted;
  PetscCall(ItAppTearDown(&app));
  PetscFunctionReturn(PETSC_SUCCESS);
}
