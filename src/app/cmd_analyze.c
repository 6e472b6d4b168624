/* infotherm analyze SNAPSHOT.h5 ...: the diagnostics of saved snapshots. */
#include <string.h>
#include <infotherm/private/appimpl.h>

/* analyze's set-up (its row of the command table): the options stored in the
   first snapshot (the command line overrides them), then the set-up, with the output folder an
   "analysis" folder beside the first snapshot unless -output_dir names one. */
static PetscErrorCode ItAppAnalyzeSetUp(ItApp *app, PetscInt nfile, char *files[]) {
  char      dir[PETSC_MAX_PATH_LEN], *slash;
  PetscBool set;

  PetscFunctionBegin;
  if (!nfile && ItAppHelpRequested()) { /* analyze -help: the options, no snapshot needed */
    PetscCall(ItAppSetUp(app, ""));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCheck(nfile > 0, PETSC_COMM_WORLD, PETSC_ERR_USER_INPUT,
             "analyze needs one or more snapshot files: infotherm analyze DIR/density_0001.h5 ...");
  PetscCall(ItAppSnapshotOptions(files[0]));
  PetscCall(PetscStrncpy(dir, files[0], sizeof(dir)));
  PetscCall(PetscStrrchr(dir, '/', &slash));
  if (slash != dir)
    slash[-1] = 0;
  else
    PetscCall(PetscStrncpy(dir, ".", sizeof(dir)));
  PetscCall(PetscStrlcat(dir, "/analysis", sizeof(dir)));
  PetscCall(ItAppSetUp(app, ""));
  PetscCall(PetscOptionsHasName(NULL, NULL, "-output_dir", &set));
  if (!set) PetscCall(PetscStrncpy(app->output_dir, dir, sizeof(app->output_dir)));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Whether a diagnostics column is a *_cum integral (also *_cum_bits, under
   -bits), and the name of its integrand (the name without "_cum";
   firing_rate for spike_count_cum). */
static PetscErrorCode ItAppAnalyzeIsCumulative(const char *name, PetscBool *cum, char rate[64]) {
  size_t      len;
  const char *end   = NULL;
  PetscBool   match = PETSC_FALSE;

  PetscFunctionBegin;
  PetscCall(PetscStrlen(name, &len));
  if (len > 4) PetscCall(PetscStrcmp(name + len - 4, "_cum", &match));
  if (match) end = name + len - 4;
  if (len > 9) PetscCall(PetscStrcmp(name + len - 9, "_cum_bits", &match));
  if (match) end = name + len - 9;
  *cum = (PetscBool)(end != NULL);
  if (!end) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscSNPrintf(rate, 64, "%.*s%s", (int)(end - name), name, end + 4));
  if (!strncmp(rate, "spike_count", 11)) /* the spikes' integrand is the rate (physics §8) */
    PetscCall(PetscSNPrintf(rate, 64, "firing_rate%s", rate + 11));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* analyze's column names: the diagnostics', except that a *_cum column,
   integrated over the snapshots' spacing rather than the run's steps, is
   named *_cum_snapshots (never the run's name with another value); then,
   for each, its <q>_err and <q>_uncertainty (ItAppAnalyzeCumErrors). The
   integrand's column of each: rate[k] (-1: not a *_cum column). */
static PetscErrorCode ItAppAnalyzeColumns(ItDiag diag, PetscInt *ncol, char (**names)[64],
                                          PetscInt **rate) {
  const PetscInt n    = ItDiagGetColumnCount(diag);
  PetscInt       ncum = 0;

  PetscFunctionBegin;
  PetscCall(PetscMalloc1(PetscMax(3 * n, 1), names));
  PetscCall(PetscMalloc1(PetscMax(n, 1), rate));
  for (PetscInt k = 0; k < n; k++) {
    const char *name          = ItDiagGetColumnName(diag, k);
    char        integrand[64] = "";
    PetscBool   cum           = PETSC_FALSE;
    PetscCall(ItAppAnalyzeIsCumulative(name, &cum, integrand));
    (*rate)[k] = -1;
    if (cum) PetscCall(ItDiagFindColumn(diag, integrand, &(*rate)[k]));
    PetscCall(PetscSNPrintf((*names)[k], sizeof((*names)[k]), cum ? "%s_snapshots" : "%s", name));
  }
  for (PetscInt b = 0; b < 2; b++)
    for (PetscInt k = 0; k < n; k++)
      if ((*rate)[k] >= 0)
        PetscCall(PetscSNPrintf((*names)[n + ncum++], sizeof((*names)[0]), "%s_%s", (*names)[k],
                                b ? "uncertainty" : "err"));
  *ncol = n + ncum;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The integral over [a, b] of the polynomial through the n <= 4 points
   (t[i], f[i]): two-point Gauss-Legendre, exact to degree 3. */
static PetscReal ItAppAnalyzeInterpolantIntegral(PetscInt n, const PetscReal t[],
                                                 const PetscReal f[], PetscReal a, PetscReal b) {
  const PetscReal half = 0.5 * (b - a), mid = 0.5 * (a + b), x = half / PetscSqrtReal(3.0);
  PetscReal       sum = 0;

  for (PetscInt g = 0; g < 2; g++)
    for (PetscInt i = 0; i < n; i++) {
      PetscReal lagrange = f[i];
      for (PetscInt j = 0; j < n; j++)
        if (j != i) lagrange *= ((g ? mid + x : mid - x) - t[j]) / (t[i] - t[j]);
      sum += half * lagrange;
    }
  return sum;
}

/* The error of the rule ItDiagAccumulate applies to the interval between
   snapshots j - 1 and j of m (the trapezoid on the first, the quadratic
   through the last three after it), as a correction: the cubic through the
   four snapshots ending at j (the first four near the start) minus that
   rule, in *err; in *spread, how much that correction changes with another
   stencil one order above the rule (the quadratic through the first three
   on the first interval, the cubic through j - 2 .. j + 1 after it, or the
   last four near the end; shifted by one snapshot where it would be the
   first one's stencil; |err| itself when there are only four snapshots): the
   estimate's own uncertainty, large where the snapshots do not resolve the
   rates. NaN when m < 4. */
static void ItAppAnalyzeIntervalError(PetscInt m, const PetscReal t[], const PetscReal f[],
                                      PetscInt j, PetscReal *err, PetscReal *spread) {
  const PetscInt  used = j >= 2 ? 3 : 2, lo = j - used + 1;
  const PetscInt  back = PetscMax(0, j - 3);
  const PetscReal a = t[j - 1], b = t[j];
  PetscInt        other = PetscMax(0, PetscMin(j - 2, m - 4));
  PetscReal       rule, alt;

  if (m < 4) {
    *err = *spread = (PetscReal)NAN;
    return;
  }
  rule = ItAppAnalyzeInterpolantIntegral(used, &t[lo], &f[lo], a, b);
  *err = ItAppAnalyzeInterpolantIntegral(4, &t[back], &f[back], a, b) - rule;
  if (j > 1 && other == back) { /* near the ends the two stencils meet: shift the other one */
    if (m < 5) {                /* four snapshots hold one cubic: the correction is its own bar */
      *spread = PetscAbsReal(*err);
      return;
    }
    other = back + 4 <= m - 1 ? back + 1 : back - 1;
  }
  alt     = j == 1 ? ItAppAnalyzeInterpolantIntegral(3, t, f, a, b)
                   : ItAppAnalyzeInterpolantIntegral(4, &t[other], &f[other], a, b);
  *spread = PetscAbsReal(*err - (alt - rule));
}

/* The error columns of the *_cum_snapshots integrals (rows x ncol values,
   the first n the diagnostics'), the snapshots' spacing's error (the rule is
   third order in it): <q>_err, the sum over the intervals so far of
   ItAppAnalyzeIntervalError's corrections, and <q>_uncertainty, its size
   plus the sum of the spreads. The rule assumes rates smooth between
   snapshots: NaN from the first schedule point after the first snapshot on,
   and where the times do not increase. */
static PetscErrorCode ItAppAnalyzeCumErrors(ItModel model, PetscInt rows, PetscInt n, PetscInt ncol,
                                            const PetscInt rate[], const PetscReal t[],
                                            PetscReal values[]) {
  const PetscReal next = rows ? ItModelNextSwitch(model, t[0]) : 0;
  PetscInt        m = 0, c = n, ncum = (ncol - n) / 2;
  PetscReal      *f;

  PetscFunctionBegin;
  while (m < rows && t[m] <= next && !PetscIsInfOrNanReal(t[m]) && (m == 0 || t[m] > t[m - 1])) m++;
  PetscCall(PetscMalloc1(PetscMax(rows, 1), &f));
  for (PetscInt k = 0; k < n; k++) {
    PetscReal err = 0, spread = 0;
    if (rate[k] < 0) continue;
    for (PetscInt r = 0; r < rows; r++) f[r] = values[r * ncol + rate[k]];
    for (PetscInt r = 0; r < rows; r++) {
      PetscReal e = (PetscReal)NAN, s = (PetscReal)NAN;
      if (r > 0 && r < m) ItAppAnalyzeIntervalError(m, t, f, r, &e, &s);
      if (r > 0) err += e, spread += s;
      values[r * ncol + c]        = err;
      values[r * ncol + c + ncum] = PetscAbsReal(err) + spread;
    }
    c++;
  }
  PetscCall(PetscFree(f));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* analyze's summary.json "final": the last row, under the table's names. */
static PetscErrorCode ItAppAnalyzeFinal(PetscInt        ncol, const char (*names)[64],
                                        const PetscReal row[], json_t **final) {
  PetscFunctionBegin;
  PetscCall(ItJSONPack(final, "{}"));
  for (PetscInt k = 0; k < ncol; k++) PetscCall(ItJSONSet(*final, names[k], ItJSONReal(row[k])));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Whether the snapshot's own options (loaded from the first snapshot) give a
   refractory time (doc/physics.md §8.2). Not collective. */
static PetscBool ItAppAnalyzeHasRefractory(ItApp *app) {
  const ItGridInfo *info = ItGridGetInfo(app->grid);

  for (PetscInt a = 0; a < info->dim; a++)
    if (info->refractory[a] > 0) return PETSC_TRUE;
  return PETSC_FALSE;
}

/* The snapshot in app->p is a density as infotherm writes it: of mass 1, or,
   with a refractory time, of mass in (0, 1] (the compartment holds the rest;
   ItAppAnalyzeCheckRefractory checks how much). Collective. */
static PetscErrorCode ItAppAnalyzeCheckDensity(ItApp *app, const char what[]) {
  PetscReal mass, negative, nonfinite;

  PetscFunctionBegin;
  if (!ItAppAnalyzeHasRefractory(app)) {
    PetscCall(ItSolveCheckReadDensity(app->grid, app->p, what, "leave it out of the analysis"));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(ItSolveCheckDensity(app->grid, app->p, what, "leave it out of the analysis"));
  PetscCall(ItSolveDensityStatus(app->grid, app->p, &mass, &negative, &nonfinite));
  PetscCheck(mass <= 1 + IT_SOLVE_MASS_TOLERANCE, PETSC_COMM_WORLD, PETSC_ERR_USER_INPUT,
             "%s is not a density of a model with a refractory time: its mass is %.17g, more "
             "than 1 (within %g); leave it out of the analysis",
             what, (double)mass, IT_SOLVE_MASS_TOLERANCE);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* With a refractory time, a snapshot holds the grid only: the compartment's
   history (what crossed the threshold over the last τ_ref, doc/physics.md
   §8.2) is not in it, so analyze takes the re-injection to be the
   stationary one (ν τ_ref in the compartment, ν re-entering at the reset).
   That holds when the grid mass and ν τ_ref add up to 1 (a stationary
   snapshot, or a transient's at a time the compartment is in balance); a
   transient snapshot whose masses do not add up is refused rather than given
   wrong re-injection columns. Collective (the values are the reduced ones). */
static PetscErrorCode ItAppAnalyzeCheckRefractory(ItApp *app, const char file[]) {
  PetscReal mass, negative, held;
  PetscInt  k;

  PetscFunctionBegin;
  if (!ItAppAnalyzeHasRefractory(app)) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(ItDiagFindColumn(app->diag, "refractory_mass", &k));
  PetscCheck(k >= 0, PETSC_COMM_WORLD, PETSC_ERR_PLIB, "a refractory time without refractory_mass");
  ItDiagGetMass(app->diag, &mass, &negative);
  held = ItDiagGetValues(app->diag)[k];
  PetscCheck(PetscAbsReal(mass + held - 1) <= IT_SOLVE_MASS_TOLERANCE, PETSC_COMM_WORLD,
             PETSC_ERR_USER_INPUT,
             "the snapshot %s is a transient of a model with a refractory time: its grid mass "
             "%.17g and the stationary refractory mass nu*tau_ref %.17g do not add up to 1 "
             "(within %g), and the compartment's history is not in a snapshot; use the run's "
             "own diagnostics.csv, or leave it out of the analysis",
             file, (double)mass, (double)held, IT_SOLVE_MASS_TOLERANCE);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* infotherm analyze SNAPSHOT.h5 ...: every diagnostic of saved snapshots, on
   any number of ranks, with the options stored in the first snapshot (the
   command line overrides them). Writes diagnostics.csv and summary.json into
   -output_dir (default: an "analysis" folder beside the first snapshot); the
   integrals over time are named *_cum_snapshots (ItAppAnalyzeColumns). */
static PetscErrorCode ItAppAnalyze(ItApp *app, PetscInt nfile, char *files[]) {
  const PetscInt n = ItDiagGetColumnCount(app->diag);
  PetscReal      t, *times, *values;
  PetscInt       ncol = 0, *rate;
  json_t        *extra, *final;
  char(*names)[64];

  PetscFunctionBegin;
  for (PetscInt k = 0; k < nfile; k++) {
    PetscBool readable;
    PetscCall(PetscTestFile(files[k], 'r', &readable));
    PetscCheck(readable, PETSC_COMM_WORLD, PETSC_ERR_FILE_OPEN, "cannot read the snapshot %s",
               files[k]);
    if (k) PetscCall(ItIOSnapshotSameRun(PETSC_COMM_WORLD, files[0], files[k]));
  }
  PetscCall(ItIOCreate(PETSC_COMM_WORLD, app->output_dir, app->layout, &app->io));
  for (PetscInt k = 0; k < nfile; k++) { /* every snapshot a density, before anything is written */
    char what[PETSC_MAX_PATH_LEN + 32];
    PetscCall(ItIOReadSnapshot(app->grid, app->model, files[k], app->p, &t));
    PetscCall(ItIOCheckSnapshotModel(app->model, "the snapshot", files[k], PETSC_TRUE));
    PetscCall(PetscSNPrintf(what, sizeof(what), "the snapshot %s", files[k]));
    PetscCall(ItAppAnalyzeCheckDensity(app, what));
  }
  PetscCall(ItAppAnalyzeColumns(app->diag, &ncol, &names, &rate));
  PetscCall(ItIOSetColumns(app->io, ncol, (const char(*)[64])names));
  PetscCall(PetscMalloc2(nfile, &times, nfile * ncol, &values));
  ItDiagSetFlowSlopes(app->diag, PETSC_FALSE); /* the rule ItAppAnalyzeIntervalError assumes */
  for (PetscInt k = 0; k < nfile; k++) {
    PetscCall(ItIOReadSnapshot(app->grid, app->model, files[k], app->p, &times[k]));
    PetscCall(ItDiagEvaluate(app->diag, times[k], app->p));
    PetscCall(ItAppAnalyzeCheckRefractory(app, files[k]));
    PetscCall(ItDiagAccumulate(app->diag));
    PetscCall(ItAppCheckBox(app));
    PetscCall(PetscArraycpy(&values[k * ncol], ItDiagGetValues(app->diag), n));
  }
  PetscCall(ItAppAnalyzeCumErrors(app->model, nfile, n, ncol, rate, times, values));
  for (PetscInt k = 0; k < nfile; k++)
    PetscCall(ItIOAppendRow(app->io, times[k], &values[k * ncol]));
  PetscCall(ItIOClaim(app->io, NULL));
  PetscCall(ItIOWriteTable(app->io));
  PetscCall(ItAppAnalyzeFinal(ncol, (const char(*)[64])names, &values[(nfile - 1) * ncol], &final));
  PetscCall(ItJSONPack(
      &extra, "{s:s, s:o}", "note",
      "*_cum_snapshots: integrals over the snapshots' spacing only (third order in it), not "
      "the run's *_cum (integrated over every step); *_cum_snapshots_err and _uncertainty: their "
      "error from the snapshots' spacing (doc/numerics.md), blank past a schedule point",
      "final", final));
  PetscCall(ItAppWriteSummary(app, extra));
  json_decref(extra);
  PetscCall(PetscFree(names));
  PetscCall(PetscFree(rate));
  PetscCall(PetscFree2(times, values));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* analyze's files: a run's names, never beside a run's own files (its guard). */
static const ItIOLayout ItAppAnalyzeLayout = {"analyze",
                                              "run.lock",
                                              {{"diagnostics.csv", NULL}, {"summary.json", NULL}},
                                              {NULL, NULL},
                                              &ItAppRunLayout};

const ItAppCommand ItAppCommand_analyze = {
    .name    = "analyze",
    .summary = "infotherm analyze SNAPSHOT.h5 ...: the diagnostics of saved snapshots",
    .setup   = ItAppAnalyzeSetUp,
    .run     = ItAppAnalyze,
    .help    = ItAppHelpOutput,
    .files   = PETSC_TRUE,
    .layout  = &ItAppAnalyzeLayout,
};
