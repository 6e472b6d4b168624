/* infotherm spectrum: the slowest relaxation rates λ_1, λ_2, ... of the
   operator L (doc/physics.md §6, src/spectrum), written as spectrum.csv, the
   `final` keys lambda_k (and lambda_k_imag where complex) of
   spectrum_summary.json, and the eigenvectors as snapshots eigenvector_K.h5
   (indexed by eigenvectors.xmf). With -error_estimate the rates are also
   computed on the grids coarsened by 2 and 4 (doc/physics.md §5): lambda_k_err =
   (λ_h - λ_2h)/3, lambda_k_extrap = λ_h + lambda_k_err and the observed order
   lambda_k_order = log2[(λ_4h - λ_2h)/(λ_2h - λ_h)]. */
#include <infotherm/private/appimpl.h>
#include <infotherm/spectrum.h>

/* An observed order outside this distance of 2 marks the error estimate untrusted. */
#define IT_SPECTRUM_ORDER_SLACK 0.5

/* The rates on the grids coarse[0], coarse[1] (coarsened by 2 and 4) into
   rate[0][k], rate[1][k] (NaN where a coarse grid found fewer), and the
   seconds they took. Collective. */
static PetscErrorCode ItAppSpectrumCoarse(ItApp *app, ItGrid coarse[2], PetscInt count,
                                          PetscReal *rate[2], PetscLogDouble *seconds) {
  PetscLogDouble start, end;

  PetscFunctionBegin;
  PetscCall(PetscTime(&start));
  for (PetscInt level = 0; level < 2; level++) {
    ItSpectrum s;
    PetscCall(ItSpectrumCreate(coarse[level], app->model, &s));
    PetscCall(ItSpectrumSetFromOptions(s));
    PetscCall(ItSpectrumSolve(s));
    for (PetscInt k = 0; k < count; k++) {
      rate[level][k] = (PetscReal)NAN;
      if (k < ItSpectrumGetCount(s))
        PetscCall(ItSpectrumGetRate(s, k, &rate[level][k], NULL, NULL));
    }
    PetscCall(ItSpectrumDestroy(&s));
  }
  PetscCall(PetscTime(&end));
  *seconds = end - start;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* lambda_k_err, lambda_k_extrap and lambda_k_order into final (and the table
   row); warns, once per rate, where the order is not near 2. */
static PetscErrorCode ItAppSpectrumEstimate(PetscInt k, PetscReal fine, PetscReal half,
                                            PetscReal quarter, json_t *final, json_t *untrusted,
                                            PetscReal row[3]) {
  const PetscReal ratio = (quarter - half) / (half - fine);
  char            key[64];

  PetscFunctionBegin;
  row[0] = (fine - half) / 3;
  row[1] = fine + row[0];
  row[2] = ratio > 0 ? PetscLog2Real(ratio) : (PetscReal)NAN;
  PetscCall(PetscSNPrintf(key, sizeof(key), "lambda_%" PetscInt_FMT "_err", k + 1));
  PetscCall(ItJSONSet(final, key, ItJSONReal(row[0])));
  PetscCall(PetscSNPrintf(key, sizeof(key), "lambda_%" PetscInt_FMT "_extrap", k + 1));
  PetscCall(ItJSONSet(final, key, ItJSONReal(row[1])));
  PetscCall(PetscSNPrintf(key, sizeof(key), "lambda_%" PetscInt_FMT "_order", k + 1));
  PetscCall(ItJSONSet(final, key, ItJSONReal(row[2])));
  if (!(PetscAbsReal(row[2] - 2) <= IT_SPECTRUM_ORDER_SLACK)) {
    PetscCall(PetscSNPrintf(key, sizeof(key), "lambda_%" PetscInt_FMT, k + 1));
    PetscCall(ItJSONAppend(untrusted, json_string(key)));
    PetscCall(PetscFPrintf(PETSC_COMM_WORLD, PETSC_STDERR,
                           "infotherm: warning: %s converges at the observed order %.3g, not 2: "
                           "its error estimate is not trustworthy; refine the grid (-grid_n)\n",
                           key, (double)row[2]));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The rates as `final` keys and as the rows of spectrum.csv (k, lambda,
   lambda_imag, residual, boundary_mass, and with coarse rates: lambda_err,
   lambda_extrap, order). */
static PetscErrorCode ItAppSpectrumTable(ItApp *app, ItSpectrum s, PetscReal *coarse[2],
                                         PetscBool quiet, json_t *final, json_t *untrusted) {
  static const char *const column[] = {
      "k",          "lambda",        "lambda_imag", "residual", "boundary_mass",
      "lambda_err", "lambda_extrap", "order"};
  const PetscInt count = ItSpectrumGetCount(s), ncol = coarse ? 8 : 5;
  PetscReal     *value;

  PetscFunctionBegin;
  PetscCall(PetscMalloc1(count * ncol, &value));
  for (PetscInt k = 0; k < count; k++) {
    PetscReal *row = &value[k * ncol];
    char       key[64];
    row[0] = (PetscReal)(k + 1);
    PetscCall(ItSpectrumGetRate(s, k, &row[1], &row[2], &row[3]));
    PetscCall(ItSpectrumGetBoundaryMass(s, k, &row[4]));
    app->boundary_mass = PetscMax(app->boundary_mass, row[4]);
    PetscCall(PetscSNPrintf(key, sizeof(key), "lambda_%" PetscInt_FMT, k + 1));
    PetscCall(ItJSONSet(final, key, ItJSONReal(row[1])));
    if (row[2] != 0) {
      PetscCall(PetscSNPrintf(key, sizeof(key), "lambda_%" PetscInt_FMT "_imag", k + 1));
      PetscCall(ItJSONSet(final, key, ItJSONReal(row[2])));
    }
    if (coarse)
      PetscCall(
          ItAppSpectrumEstimate(k, row[1], coarse[0][k], coarse[1][k], final, untrusted, &row[5]));
    if (quiet) continue;
    if (row[2] != 0)
      PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                            "spectrum: lambda_%" PetscInt_FMT " = %.10g, imag %.10g\n", k + 1,
                            (double)row[1], (double)row[2]));
    else
      PetscCall(PetscPrintf(PETSC_COMM_WORLD, "spectrum: lambda_%" PetscInt_FMT " = %.10g\n", k + 1,
                            (double)row[1]));
  }
  PetscCall(ItIOWriteCSV(app->io, "spectrum.csv", ncol, column, count, value));
  PetscCall(PetscFree(value));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Every eigenvector as a snapshot eigenvector_K.h5 (dataset /density, time
   the -spectrum_t of the operator). */
static PetscErrorCode ItAppSpectrumVectors(ItApp *app, ItSpectrum s) {
  PetscFunctionBegin;
  for (PetscInt k = 0; k < ItSpectrumGetCount(s); k++) {
    Vec  v;
    char name[64];
    PetscCall(ItSpectrumGetVector(s, k, &v));
    PetscCall(PetscSNPrintf(name, sizeof(name), "eigenvector_%" PetscInt_FMT ".h5", k + 1));
    PetscCall(ItIOWriteSnapshot(app->io, app->grid, app->model, v, ItSpectrumGetTime(s), name));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* infotherm spectrum: reads its options and computes everything before it
   claims the folder and writes. */
PetscErrorCode ItAppSpectrum(ItApp *app, PetscInt nfile, char *files[]) {
  ItSpectrum     s;
  PetscBool      estimate = PETSC_FALSE, quiet = PETSC_FALSE;
  PetscReal     *coarse[2] = {NULL, NULL};
  ItGrid         grid[2]   = {NULL, NULL};
  PetscLogDouble start, solved, coarse_time = 0;
  PetscInt       iterations;
  json_t        *final, *untrusted, *extra;

  PetscFunctionBegin;
  (void)nfile, (void)files;
  PetscOptionsBegin(PETSC_COMM_WORLD, NULL, "Error estimate", "ItApp");
  PetscCall(PetscOptionsBool(
      "-error_estimate", "also solve on the grids coarsened by 2 and 4: *_err, *_extrap, *_order",
      NULL, estimate, &estimate, NULL));
  PetscCall(PetscOptionsBool("-quiet", "no line per rate on stdout", NULL, quiet, &quiet, NULL));
  PetscOptionsEnd();
  if (estimate) /* refused before anything is solved when -grid_n cannot be coarsened */
    for (PetscInt level = 0; level < 2; level++)
      PetscCall(ItGridCreateCoarse(app->grid, 2 << level, &grid[level]));
  PetscCall(ItSpectrumCreate(app->grid, app->model, &s));
  PetscCall(ItSpectrumSetFromOptions(s));
  PetscCall(PetscTime(&start));
  PetscCall(ItSpectrumSolve(s));
  PetscCall(PetscTime(&solved));
  if (estimate) {
    PetscCall(PetscMalloc2(ItSpectrumGetCount(s), &coarse[0], ItSpectrumGetCount(s), &coarse[1]));
    PetscCall(ItAppSpectrumCoarse(app, grid, ItSpectrumGetCount(s), coarse, &coarse_time));
    for (PetscInt level = 0; level < 2; level++) PetscCall(ItGridDestroy(&grid[level]));
  }
  PetscCall(ItIOCreate(PETSC_COMM_WORLD, app->output_dir, app->command, &app->io));
  PetscCall(ItIOClaim(app->io, NULL));
  PetscCall(ItJSONPack(&final, "{}"));
  PetscCall(ItJSONPack(&untrusted, "[]"));
  PetscCall(ItAppSpectrumTable(app, s, estimate ? coarse : NULL, quiet, final, untrusted));
  PetscCall(ItAppSpectrumVectors(app, s));
  PetscCall(ItSpectrumGetIterations(s, &iterations));
  PetscCall(ItJSONPack(&extra, "{s:o, s:I, s:I, s:o, s:o}", "spectrum_t",
                       ItJSONReal(ItSpectrumGetTime(s)), "rates", (json_int_t)ItSpectrumGetCount(s),
                       "eps_iterations", (json_int_t)iterations, "solve_time",
                       ItJSONReal(solved - start), "final", final));
  if (estimate) {
    json_t *note;
    PetscCall(ItJSONPack(&note, "{s:o, s:o}", "coarse_time", ItJSONReal(coarse_time), "untrusted",
                         untrusted));
    PetscCall(ItJSONSet(extra, "error_estimate", note));
  } else
    json_decref(untrusted);
  PetscCall(ItAppWriteSummary(app, extra));
  json_decref(extra);
  PetscCall(PetscFree2(coarse[0], coarse[1]));
  PetscCall(ItSpectrumDestroy(&s));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* spectrum -help: the error estimate, the stationary solve, the eigensolver
   and the output folder. */
PetscErrorCode ItAppSpectrumHelp(ItApp *app) {
  PetscFunctionBegin;
  PetscCall(ItAppHelpEstimate(app));
  PetscCall(ItAppHelpStationary());
  PetscCall(ItAppHelpSpectrum(app));
  PetscCall(ItAppHelpOutput(app));
  PetscFunctionReturn(PETSC_SUCCESS);
}
