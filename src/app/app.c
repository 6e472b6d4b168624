/* What the commands (src/app/cmd_*.c) share: the set-up of model, grid,
   diagnostics and output folder from the options, the initial and reference
   densities, the table's columns and rows, summary.json, checkpoints and the
   check that a step left a density. Nothing here calls a command. */
#include <infotherm/private/appimpl.h>

/* The density of kl_to_stationary on `grid` (the run's or a coarser one), by
   app->kl_reference: NULL (none), the stationary density (solved on that
   grid, with the parameters at t = 0) or a snapshot (read on the run's grid,
   then restricted to a coarser one by summing children). Collective. */
PetscErrorCode ItAppReferenceDensity(ItApp *app, ItGrid grid, Vec *pss) {
  const ItGridInfo *info = ItGridGetInfo(grid);
  PetscBool         none, stationary;
  PetscReal         residual;
  PetscInt          its;
  Vec               fine;

  PetscFunctionBegin;
  *pss = NULL;
  PetscCall(PetscStrcmp(app->kl_reference, "none", &none));
  PetscCall(PetscStrcmp(app->kl_reference, "stationary", &stationary));
  if (none) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(DMCreateGlobalVector(info->da, pss));
  if (stationary) {
    PetscCall(ItSolveStationary(grid, app->model, 0, *pss, &residual, &its));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(DMCreateGlobalVector(ItGridGetInfo(app->grid)->da, &fine));
  PetscCall(ItInitReadDensity(app->grid, app->model, "-kl_reference", app->kl_reference, fine));
  if (grid == app->grid)
    PetscCall(VecCopy(fine, *pss));
  else
    PetscCall(ItGridRestrict(app->grid, grid, fine, *pss));
  PetscCall(VecDestroy(&fine));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The option names of the application's options (set-up and output) (src/model/option_names.c). */
const ItOptionName ItAppOptionNames[] = {
    {"output_dir", IT_OPTION_LOCAL | IT_OPTION_STEERING}, {"kl_reference", 0}, {NULL, 0}};

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

/* A box whose width overflows (-grid_lo -1e308 -grid_hi 1e308) has
   coordinates and drifts that are not finite: named here, not as a drift. */
static PetscErrorCode ItAppCheckBoxWidth(ItGrid grid) {
  const ItGridInfo *info = ItGridGetInfo(grid);
  PetscFunctionBegin;
  for (PetscInt i = 0; i < info->dim; i++)
    PetscCheck(!PetscIsInfOrNanReal(info->hi[i] - info->lo[i]) && !PetscIsInfOrNanReal(info->h[i]),
               info->comm, PETSC_ERR_USER_INPUT,
               "-grid_lo/-grid_hi: the box of axis %" PetscInt_FMT
               " ([%g, %g]) is wider than a double can hold; give a finite width",
               i + 1, (double)info->lo[i], (double)info->hi[i]);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Model, grid, operator and diagnostics from the options; nothing is written. */
PetscErrorCode ItAppSetUp(ItApp *app, const char stem[]) {
  PetscBool   set;
  const char *type;

  PetscFunctionBegin;
  PetscCall(PetscTime(&app->start));
  PetscCall(ItAppCheckValues(NULL));
  PetscCall(ItAppCheckCommandOptions(app->command, app->estimating));
  ItMemorySet(IT_MEMORY_PROGRAM, ItMemoryResident()); /* before anything of the grid's size */
  PetscCall(ItModelCreate(PETSC_COMM_WORLD, &app->model));
  PetscCall(ItModelSetFromOptions(app->model));
  PetscCall(ItGridCreateBox(app->model, &app->grid));
  /* -fp_order 4's blend: the stationary law's width (src/grid/grid.c) */
  PetscCall(ItGridSetStationaryWidth(app->grid, app->stationary_width));
  PetscCall(ItAppCheckMemory(app)); /* before the grid allocates anything of its size */
  PetscCall(ItGridSetUp(app->grid));
  PetscCall(ItAppCheckBoxWidth(app->grid));
  PetscCall(ItAppCheckValues(app->model));
  PetscCall(ItIOMarginalAxes(app->grid, app->model, NULL, NULL)); /* -snapshot_marginal, checked */
  PetscCall(ItAppCheckOptions(app));
  if (!app->sizes_only) { /* info estimates the memory, allocates nothing of grid size */
    PetscCall(DMCreateGlobalVector(ItGridGetInfo(app->grid)->da, &app->p));
    PetscCall(PetscObjectSetName((PetscObject)app->p, "density"));
    ItMemoryAdd(IT_MEMORY_DENSITY,
                (PetscReal)ItGridGetInfo(app->grid)->nlocal * sizeof(PetscScalar));
    PetscCall(ItAppDiagnostics(app));
  }
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
  PetscCall(PetscFree(app->good_history));
  PetscCall(PetscFree(app->restart_history));
  PetscCall(ItIODestroy(&app->io));
  PetscCall(ItDiagDestroy(&app->diag));
  PetscCall(ItEstimateDestroy(&app->estimate));
  PetscCall(ItInitDestroy(&app->init));
  PetscCall(ItGridDestroy(&app->grid));
  PetscCall(ItModelDestroy(&app->model));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* -init gaussian|stationary|file and -init_file: how the initial density is
   made (app->init). Collective. */
PetscErrorCode ItAppInitialOptions(ItApp *app) {
  PetscFunctionBegin;
  PetscCall(ItInitDestroy(&app->init));
  PetscCall(ItInitCreate(app->grid, app->model, &app->init));
  PetscCall(ItInitSetFromOptions(app->init));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* -init gaussian|stationary|file: the initial density in app->p. */
PetscErrorCode ItAppInitialDensity(ItApp *app) {
  PetscFunctionBegin;
  PetscCall(ItAppInitialOptions(app));
  PetscCall(ItInitDensity(app->init, app->grid, app->p));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* -error_estimate's callbacks: the initial density on a coarse grid, made
   as -init made the fine one (a snapshot is read again, since on a restart
   app->p holds the checkpoint's density), and the density of
   kl_to_stationary there. */
static PetscErrorCode ItAppEstimateInitial(void *ctx, ItGrid grid, Vec p) {
  PetscFunctionBegin;
  PetscCall(ItInitDensity(((ItApp *)ctx)->init, grid, p));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ItAppEstimateReference(void *ctx, ItGrid grid, Vec *pss) {
  PetscFunctionBegin;
  PetscCall(ItAppReferenceDensity((ItApp *)ctx, grid, pss));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* -error_estimate's coarse problems of the command's fine one (app->estimate). */
PetscErrorCode ItAppEstimateCreate(ItApp *app, PetscBool transient, PetscBool covariance) {
  ItEstimateProblem problem = {app->grid,
                               app->model,
                               app->diag,
                               ItAppEstimateInitial,
                               ItAppEstimateReference,
                               app,
                               transient ? app->settings.t_final : 0};

  PetscFunctionBegin;
  /* stationary reads no -init: its coarse grids start from the default Gaussian, as before */
  if (!app->init) PetscCall(ItInitCreate(app->grid, app->model, &app->init));
  PetscCall(ItEstimateCreate(&problem, transient, covariance, &app->estimate));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The scales of the transient's operator (ItSolveCheckScalesFrom), checked
   before anything is written, one way for run and crosscheck: the rates at
   t = 0 are those of the diagnostics' check of the same faces
   (ItDiagGetStartRates), not computed a second time. Collective. */
PetscErrorCode ItAppCheckScales(ItApp *app) {
  PetscReal rate0[IT_MAX_DIM];

  PetscFunctionBegin;
  if (!app->diag) { /* none made (info's sizes only): the check computes its own */
    PetscCall(ItSolveCheckScales(app->grid, app->model, &app->settings));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(ItDiagGetStartRates(app->diag, rate0));
  PetscCall(ItSolveCheckScalesFrom(app->grid, app->model, &app->settings, rate0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The largest mass in the outermost layer of cells so far, in all and per wall. */
PetscErrorCode ItAppCheckBox(ItApp *app) {
  PetscReal wall[2 * IT_MAX_DIM];

  PetscFunctionBegin;
  app->boundary_mass = PetscMax(app->boundary_mass, ItDiagGetBoundaryMass(app->diag));
  ItDiagGetWallMass(app->diag, wall);
  for (PetscInt k = 0; k < 2 * ItGridGetInfo(app->grid)->dim; k++)
    app->wall_mass[k] = PetscMax(app->wall_mass[k], wall[k]);
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
   summary.json records as boundary_mass (the largest seen), and the walls
   that hold it, largest first, each with the option that moves it (walls
   holding less than a tenth of the largest are left out). A command without
   the walls' masses (spectrum, or a restart whose earlier part held them)
   names the box alone. */
static PetscErrorCode ItAppWarnBox(ItApp *app) {
  char      walls[512]           = "";
  PetscBool used[2 * IT_MAX_DIM] = {PETSC_FALSE};
  PetscReal top                  = 0;

  PetscFunctionBegin;
  if (app->boundary_mass <= IT_BOUNDARY_MASS_LIMIT || app->warned) {
    app->warned = PETSC_TRUE;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  for (PetscInt k = 0; k < 2 * ItGridGetInfo(app->grid)->dim; k++)
    top = PetscMax(top, app->wall_mass[k]);
  for (PetscInt n = 0; top > 0 && n < 2 * ItGridGetInfo(app->grid)->dim; n++) {
    PetscInt best = -1;
    size_t   len;
    for (PetscInt k = 0; k < 2 * ItGridGetInfo(app->grid)->dim; k++)
      if (!used[k] && app->wall_mass[k] >= 0.1 * top &&
          (best < 0 || app->wall_mass[k] > app->wall_mass[best]))
        best = k;
    if (best < 0) break;
    used[best] = PETSC_TRUE;
    PetscCall(PetscStrlen(walls, &len));
    PetscCall(PetscSNPrintf(walls + len, sizeof(walls) - len,
                            "%s%.2g at the %s wall of %s (widen -grid_%s)", len ? ", " : ": ",
                            (double)app->wall_mass[best], best % 2 ? "upper" : "lower",
                            ItModelGetVariableName(app->model, best / 2), best % 2 ? "hi" : "lo"));
  }
  PetscCall(PetscFPrintf(
      PETSC_COMM_WORLD, PETSC_STDERR,
      "infotherm: warning: up to %.3g of the mass lies in the outermost cells%s; the "
      "box is too small%s\n",
      (double)app->boundary_mass, walls, walls[0] ? "" : " (widen -grid_lo/-grid_hi)"));
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
  const ItGridInfo *info = ItGridGetInfo(grid);
  json_t           *n, *lo, *hi;

  PetscFunctionBegin;
  PetscCall(ItJSONPack(&n, "[]"));
  for (PetscInt i = 0; i < info->dim; i++) PetscCall(ItJSONAppend(n, json_integer(info->n[i])));
  PetscCall(ItJSONRealArray(info->dim, info->lo, &lo));
  PetscCall(ItJSONRealArray(info->dim, info->hi, &hi));
  PetscCall(ItJSONPack(object, "{s:o, s:o, s:o}", "n", n, "lo", lo, "hi", hi));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The peak resident memory of every rank so far (getrusage's ru_maxrss),
   summed, and per cell of the grid, for summary.json's "memory"; beside it
   the components of the memory ledger (ItMemoryPart: the program before the
   grid, measured, and the parts noted from the objects' sizes, each the
   most it held), summed over the ranks, and what they leave unexplained
   (other_bytes: the peak less their sum). Under -post_ranks the post ranks
   write it, with the solver ranks' sums added (ItPostAddSolverMemory).
   Collective. */
static PetscErrorCode ItAppSummaryMemory(ItApp *app, json_t **object) {
  PetscReal       local[IT_MEMORY_PARTS + 1], sum[IT_MEMORY_PARTS + 1], parts = 0;
  const PetscReal cells = ItGridCellCount(app->grid);
  json_t         *components;

  PetscFunctionBegin;
  PetscCall(ItMemoryGetLocal(local));
  PetscCall(ItPostAddSolverMemory(local));
  PetscCall(ItGridSum(app->grid, IT_MEMORY_PARTS + 1, local, sum));
  PetscCall(ItJSONPack(&components, "{}"));
  for (PetscInt k = 0; k < IT_MEMORY_PARTS; k++) {
    json_t *part;
    parts += sum[k];
    PetscCall(ItJSONPack(&part, "{s:I, s:o}", "bytes", (json_int_t)sum[k], "per_unknown",
                         ItJSONReal(sum[k] / cells)));
    json_object_set_new(components, ItMemoryPartName((ItMemoryPart)k), part);
  }
  PetscCall(ItJSONPack(object, "{s:I, s:o, s:o, s:I}", "peak_bytes",
                       (json_int_t)sum[IT_MEMORY_PARTS], "bytes_per_unknown",
                       ItJSONReal(sum[IT_MEMORY_PARTS] / cells), "components", components,
                       "other_bytes", (json_int_t)(sum[IT_MEMORY_PARTS] - parts)));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* summary.json's "positivity" (doc/physics.md §7): over every evaluation of
   the density this process made, the largest mass of its cells of negative
   value, when, and the smallest cell value; the bound the run enforces on
   the former, relative to the mass. Collective. */
static PetscErrorCode ItAppSummaryPositivity(ItApp *app, json_t *root) {
  PetscReal negative, t, minimum;
  json_t   *object;

  PetscFunctionBegin;
  PetscCall(ItDiagGetPositivity(app->diag, &negative, &t, &minimum));
  PetscCall(ItJSONPack(&object, "{s:o, s:o, s:o, s:o}", "negative_mass_max", ItJSONReal(negative),
                       "negative_mass_max_t", ItJSONReal(t), "density_min",
                       ItJSONReal(minimum < PETSC_MAX_REAL ? minimum : NAN), "negative_mass_limit",
                       ItJSONReal(IT_NEGATIVE_MASS_LIMIT)));
  PetscCall(ItJSONSet(root, "positivity", object));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* summary.json's "wall_mass": per variable, the largest fraction of the mass
   seen in the layer of cells at its lower and upper wall (this invocation). */
static PetscErrorCode ItAppSummaryWalls(ItApp *app, json_t *root) {
  json_t *walls;

  PetscFunctionBegin;
  PetscCall(ItJSONPack(&walls, "{}"));
  for (PetscInt a = 0; a < ItGridGetInfo(app->grid)->dim; a++) {
    json_t *pair;
    PetscCall(ItJSONRealArray(2, &app->wall_mass[2 * a], &pair));
    PetscCall(ItJSONSet(walls, ItModelGetVariableName(app->model, a), pair));
  }
  PetscCall(ItJSONSet(root, "wall_mass", walls));
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
  PetscCall(ItAppSummaryWalls(app, root));
  if (extra) PetscCall(ItJSONUpdate(root, json_incref(extra)));
  if (!json_object_get(root, "final")) { /* spectrum writes its own final */
    PetscCall(ItJSONPack(&final, "{}"));
    for (PetscInt k = 0; k < ItDiagGetColumnCount(app->diag); k++)
      PetscCall(ItJSONSet(final, ItDiagGetColumnName(app->diag, k),
                          ItJSONReal(ItDiagGetValues(app->diag)[k])));
    if (app->estimate) PetscCall(ItEstimateSummary(app->estimate, app->diag, root, final));
    PetscCall(ItJSONSet(root, "final", final));
    PetscCall(ItAppSummaryPositivity(app, root));
  }
  PetscCall(ItAppWarnBox(app));
  PetscCall(ItIOWriteJSON(app->io, "summary.json", root));
  json_decref(root);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* What changes the meaning of a column without changing the columns: the
   units of the heat rates (-temperature, -time_unit, -atp_kT), -bits, the
   KL reference (the file named, or stationary) and the -error_estimate method. */
static PetscErrorCode ItAppColumnMeaning(ItApp *app, json_t *fingerprint) {
  PetscReal temperature = 0, time_unit = 0, atp_kT = 20;
  PetscBool bits = PETSC_FALSE;

  PetscFunctionBegin;
  PetscCall(PetscOptionsGetReal(NULL, NULL, "-temperature", &temperature, NULL));
  PetscCall(PetscOptionsGetReal(NULL, NULL, "-time_unit", &time_unit, NULL));
  PetscCall(PetscOptionsGetReal(NULL, NULL, "-atp_kT", &atp_kT, NULL));
  PetscCall(PetscOptionsGetBool(NULL, NULL, "-bits", &bits, NULL));
  json_object_set_new(fingerprint, "temperature", json_real(temperature));
  json_object_set_new(fingerprint, "time_unit", json_real(time_unit));
  json_object_set_new(fingerprint, "atp_kT", json_real(atp_kT));
  json_object_set_new(fingerprint, "bits", json_boolean(bits));
  json_object_set_new(fingerprint, "kl_reference", json_string(app->kl_reference));
  { /* the error estimate's method changes what <q>_err means (only when asked: a checkpoint
       without it keeps the fingerprint it had) */
    PetscBool on;
    char      method[32] = "";
    PetscCall(ItEstimateFromOptions(PETSC_COMM_WORLD, &on));
    PetscCall(PetscOptionsGetString(NULL, NULL, "-error_estimate", method, sizeof(method), NULL));
    if (on)
      json_object_set_new(fingerprint, "error_estimate",
                          json_string(strcmp(method, "order") ? "richardson" : "order"));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* What a restart must not change: the model's fingerprint (the model, its
   parameters' base values, schedules, formulas, tuning, M/b/D, parity) and
   the sensor, as canonical JSON text. */
PetscErrorCode ItAppPhysics(ItApp *app, char physics[], size_t len) {
  json_t *fingerprint, *sensor = json_array();
  char   *text;

  PetscFunctionBegin;
  PetscCall(ItModelGetFingerprint(app->model, &fingerprint));
  for (PetscInt i = 0; i < ItModelGetDimension(app->model); i++)
    if (ItDiagIsSensor(app->diag, i))
      json_array_append_new(sensor, json_string(ItModelGetVariableName(app->model, i)));
  json_object_set_new(fingerprint, "sensor", sensor);
  PetscCall(ItAppColumnMeaning(app, fingerprint));
  text = json_dumps(fingerprint, JSON_COMPACT | JSON_SORT_KEYS | JSON_REAL_PRECISION(17));
  json_decref(fingerprint);
  PetscCheck(text, PETSC_COMM_SELF, PETSC_ERR_MEM, "cannot write the model's fingerprint");
  PetscCheck(strlen(text) < len, PETSC_COMM_SELF, PETSC_ERR_ARG_SIZ,
             "the model's fingerprint is longer than %zu characters", len);
  PetscCall(PetscStrncpy(physics, text, len));
  free(text);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A state that is not finite is never written as a checkpoint (a restart
   from it could only fail, and it would replace the last good one). */
static PetscErrorCode ItAppCheckpointFinite(ItApp *app, PetscReal t, Vec p) {
  PetscReal mass, negative, nonfinite;

  PetscFunctionBegin;
  PetscCall(ItSolveDensityStatus(app->grid, p, &mass, &negative, &nonfinite));
  PetscCheck(nonfinite == 0 && !PetscIsInfOrNanReal(mass), PETSC_COMM_WORLD, PETSC_ERR_USER_INPUT,
             "at t = %g the density has %.0f cells that are not finite; no checkpoint is written "
             "(the last one, if any, is kept): use a smaller -ts_dt or tighter -ts_rtol",
             (double)t, (double)nonfinite);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* checkpoint.h5 with diagnostics.csv flushed to the same time. */

PetscErrorCode ItAppCheckpoint(void *ctx, PetscReal t, PetscInt step, PetscReal dt, Vec p) {
  ItApp         *app    = (ItApp *)ctx;
  const PetscInt nstate = IT_STATE_DIAG + ItDiagGetStateSize(app->diag);
  PetscReal     *state;
  char           physics[8192];

  PetscFunctionBegin;
  PetscCall(ItAppCheckpointFinite(app, t, p));
  PetscCall(ItAppPhysics(app, physics, sizeof(physics)));
  PetscCall(PetscMalloc1(nstate, &state));
  state[IT_STATE_T]        = t;
  state[IT_STATE_DT]       = dt;
  state[IT_STATE_STEP]     = (PetscReal)step;
  state[IT_STATE_BOUNDARY] = app->boundary_mass;
  PetscCall(ItDiagGetState(app->diag, &state[IT_STATE_DIAG]));
  { /* a refractory compartment's history, attached to p by the solver (src/fp/refractory.c) */
    ItRefractory h;
    PetscInt     n    = 0;
    PetscReal   *hist = NULL;
    PetscCall(ItRefractoryQuery(p, &h));
    if (h)
      PetscCall(ItRefractoryGetState(h, &n, &hist));
    else if (p == app->good && app->good_history) { /* a copy: the history kept beside it */
      n = app->good_nhistory;
      PetscCall(PetscMalloc1(n, &hist));
      PetscCall(PetscArraycpy(hist, app->good_history, n));
    }
    PetscCall(ItIOSetCheckpointHistory(app->io, n, hist));
    PetscCall(PetscFree(hist));
  }
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
      ItRefractory h;
      PetscCall(VecCopy(p, app->good));
      app->good_t    = t;
      app->good_step = step;
      PetscCall(ItRefractoryQuery(p, &h)); /* the history does not travel with the copy */
      if (h) {                             /* in the ledger beside the good copy of the density */
        if (app->good_history)
          ItMemoryAdd(IT_MEMORY_DENSITY, -(PetscReal)app->good_nhistory * sizeof(PetscReal));
        PetscCall(PetscFree(app->good_history));
        PetscCall(ItRefractoryGetState(h, &app->good_nhistory, &app->good_history));
        ItMemoryAdd(IT_MEMORY_DENSITY, (PetscReal)app->good_nhistory * sizeof(PetscReal));
      }
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
