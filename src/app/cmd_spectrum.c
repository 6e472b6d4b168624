/* infotherm spectrum: the slowest relaxation rates λ_1, λ_2, ... of the
   operator L (doc/physics.md §6, src/spectrum), written as spectrum.csv, the
   `final` keys lambda_k (and lambda_k_imag where complex) of
   spectrum_summary.json, and the eigenvectors as snapshots eigenvector_K.h5
   (indexed by eigenvectors.xmf). With -error_estimate the rates are also
   computed on the grids coarsened by 2 and 4 (doc/physics.md §5): lambda_k_err =
   (λ_h - λ_2h)/3, lambda_k_extrap = λ_h + lambda_k_err, the observed order
   lambda_k_order = log2[(λ_4h - λ_2h)/(λ_2h - λ_h)], lambda_k_uncertainty and
   lambda_k_trusted as every error bar of §5; the same for the imaginary part
   (lambda_k_imag_err, ...), the k-th rate of each grid paired as it stands
   (a complex pair +ω first on every grid). */
#include <infotherm/private/appimpl.h>
#include <infotherm/spectrum.h>

/* The rates on the grids coarse[0], coarse[1] (coarsened by 2 and 4) into
   rate[0][k], rate[1][k] and their imaginary parts into rate[.][count + k]
   (NaN where a coarse grid found fewer), and the seconds they took.
   Collective. */
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
      rate[level][k] = rate[level][count + k] = (PetscReal)NAN;
      if (k < ItSpectrumGetCount(s))
        PetscCall(ItSpectrumGetRate(s, k, &rate[level][k], &rate[level][count + k], NULL));
    }
    PetscCall(ItSpectrumDestroy(&s));
  }
  PetscCall(PetscTime(&end));
  *seconds = end - start;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The error bar of one rate's part (name: lambda_k or lambda_k_imag):
   row[] = err, extrap, order, uncertainty, trusted, and in final the keys
   <name>_err, _extrap, _order, _uncertainty, _trusted when write is set;
   warns, once per part, where it is not trusted. */
static PetscErrorCode ItAppSpectrumEstimate(PetscInt p0, const char *name, PetscReal fine,
                                            PetscReal half, PetscReal quarter, PetscBool write,
                                            json_t *final, json_t *untrusted, PetscReal row[5]) {
  static const char *const suffix[5] = {"err", "extrap", "order", "uncertainty", "trusted"};
  char                     key[64];

  PetscFunctionBegin;
  row[0] = ItEstimateCorrection(p0, fine, half, quarter, (PetscReal)NAN);
  row[1] = fine + row[0];
  row[2] = ItEstimateOrder(fine, half, quarter);
  row[3] = ItEstimateUncertainty(p0, fine, half, quarter, (PetscReal)NAN);
  row[4] = ItEstimateTrusted(p0, fine, half, quarter) ? 1 : 0;
  if (!write) PetscFunctionReturn(PETSC_SUCCESS);
  for (PetscInt j = 0; j < 5; j++) {
    PetscCall(PetscSNPrintf(key, sizeof(key), "%s_%s", name, suffix[j]));
    PetscCall(
        ItJSONSet(final, key, j == 4 ? json_integer((json_int_t)row[4]) : ItJSONReal(row[j])));
  }
  if (!row[4]) {
    PetscCall(ItJSONAppend(untrusted, json_string(name)));
    PetscCall(PetscFPrintf(
        PETSC_COMM_WORLD, PETSC_STDERR,
        "infotherm: warning: %s converges at the observed order %.3g, not %" PetscInt_FMT
        ": its error estimate is not trustworthy; refine the grid (-grid_n)\n",
        name, (double)row[2], p0));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Both parts' error bars of rate k into row[0..4] (real) and row[5..9]
   (imaginary; in final only for a complex rate). */
static PetscErrorCode ItAppSpectrumEstimateRate(PetscInt p0, PetscInt k, PetscInt count,
                                                const PetscReal re[2], PetscReal *coarse[2],
                                                json_t *final, json_t *untrusted,
                                                PetscReal row[10]) {
  char name[64];

  PetscFunctionBegin;
  PetscCall(PetscSNPrintf(name, sizeof(name), "lambda_%" PetscInt_FMT, k + 1));
  PetscCall(ItAppSpectrumEstimate(p0, name, re[0], coarse[0][k], coarse[1][k], PETSC_TRUE, final,
                                  untrusted, row));
  PetscCall(PetscSNPrintf(name, sizeof(name), "lambda_%" PetscInt_FMT "_imag", k + 1));
  PetscCall(ItAppSpectrumEstimate(p0, name, re[1], coarse[0][count + k], coarse[1][count + k],
                                  (PetscBool)(re[1] != 0), final, untrusted, row + 5));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The rates as `final` keys and as the rows of spectrum.csv (k, lambda,
   lambda_imag, residual, boundary_mass, and with coarse rates: lambda_err,
   lambda_extrap, order, lambda_uncertainty, lambda_trusted and the same five
   of lambda_imag). */
static PetscErrorCode ItAppSpectrumTable(ItApp *app, ItSpectrum s, PetscReal *coarse[2],
                                         PetscBool quiet, json_t *final, json_t *untrusted) {
  static const char *const column[] = {"k",
                                       "lambda",
                                       "lambda_imag",
                                       "residual",
                                       "boundary_mass",
                                       "lambda_err",
                                       "lambda_extrap",
                                       "order",
                                       "lambda_uncertainty",
                                       "lambda_trusted",
                                       "lambda_imag_err",
                                       "lambda_imag_extrap",
                                       "lambda_imag_order",
                                       "lambda_imag_uncertainty",
                                       "lambda_imag_trusted"};
  const PetscInt           count = ItSpectrumGetCount(s), ncol = coarse ? 15 : 5;
  PetscReal               *value;

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
      PetscCall(ItAppSpectrumEstimateRate(ItGridGetInfo(app->grid)->order_fp, k, count, &row[1],
                                          coarse, final, untrusted, &row[5]));
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
static PetscErrorCode ItAppSpectrum(ItApp *app, PetscInt nfile, char *files[]) {
  ItSpectrum     s;
  PetscBool      estimate = PETSC_FALSE, quiet = PETSC_FALSE;
  PetscReal     *coarse[2] = {NULL, NULL};
  ItGrid         grid[2]   = {NULL, NULL};
  PetscLogDouble start, solved, coarse_time = 0;
  PetscInt       iterations;
  json_t        *final, *untrusted, *extra;

  PetscFunctionBegin;
  (void)nfile, (void)files;
  { /* -error_estimate order is run's and stationary's (doc/physics.md §5) */
    char      method[32] = "";
    PetscBool order;
    PetscCall(PetscOptionsGetString(NULL, NULL, "-error_estimate", method, sizeof(method), NULL));
    PetscCall(PetscStrcmp(method, "order", &order));
    PetscCheck(!order, PETSC_COMM_WORLD, PETSC_ERR_USER_INPUT,
               "-error_estimate order: spectrum estimates its rates' errors from the grids "
               "coarsened by 2 and 4 only; use -error_estimate");
  }
  PetscOptionsBegin(PETSC_COMM_WORLD, NULL, "Error estimate", "ItApp");
  PetscCall(
      PetscOptionsBool("-error_estimate",
                       "also solve on the grids coarsened by 2 and 4: *_err, *_extrap, *_order, "
                       "*_uncertainty, *_trusted",
                       NULL, estimate, &estimate, NULL));
  PetscCall(PetscOptionsBool("-quiet", "no line per rate on stdout", NULL, quiet, &quiet, NULL));
  PetscOptionsEnd();
  if (estimate) /* refused before anything is solved when -grid_n cannot be coarsened */
    for (PetscInt level = 0; level < 2; level++) {
      PetscCall(ItGridCheckEstimateCoarsening(app->grid, 2 << level));
      PetscCall(ItGridCreateCoarse(app->grid, 2 << level, &grid[level]));
    }
  PetscCall(ItSpectrumCreate(app->grid, app->model, &s));
  PetscCall(ItSpectrumSetFromOptions(s));
  PetscCall(PetscTime(&start));
  PetscCall(ItSpectrumSolve(s));
  PetscCall(PetscTime(&solved));
  if (estimate) {
    PetscCall(
        PetscMalloc2(2 * ItSpectrumGetCount(s), &coarse[0], 2 * ItSpectrumGetCount(s), &coarse[1]));
    PetscCall(ItAppSpectrumCoarse(app, grid, ItSpectrumGetCount(s), coarse, &coarse_time));
    for (PetscInt level = 0; level < 2; level++) PetscCall(ItGridDestroy(&grid[level]));
  }
  PetscCall(ItIOCreate(PETSC_COMM_WORLD, app->output_dir, app->layout, &app->io));
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
static PetscErrorCode ItAppSpectrumHelp(ItApp *app) {
  PetscFunctionBegin;
  PetscCall(ItAppHelpEstimate(app));
  PetscCall(ItAppHelpStationary());
  PetscCall(ItAppHelpSpectrum(app));
  PetscCall(ItAppHelpOutput(app));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* spectrum's files, beside a run's in the same folder. */
static const ItIOLayout ItAppSpectrumLayout = {"spectrum",
                                               "spectrum.lock",
                                               {{"summary.json", "spectrum_summary.json"},
                                                {"spectrum.csv", NULL},
                                                {"density.xmf", "eigenvectors.xmf"}},
                                               {"eigenvector_", NULL},
                                               NULL};

const ItAppCommand ItAppCommand_spectrum = {
    .name           = "spectrum",
    .summary        = "the slowest relaxation rates and their eigenvectors (-spectrum_nev K)",
    .run            = ItAppSpectrum,
    .help           = ItAppSpectrumHelp,
    .error_estimate = PETSC_TRUE,
    .layout         = &ItAppSpectrumLayout,
};
