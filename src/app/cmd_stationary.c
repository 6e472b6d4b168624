/* infotherm stationary: the stationary density, its diagnostics and error estimates. */
#include <infotherm/private/appimpl.h>

/* infotherm stationary: solves L p = 0, ∫ p = 1, and reports the residual. */
static PetscErrorCode ItAppStationary(ItApp *app, PetscInt nfile, char *files[]) {
  ItSolveStationaryResult solve;
  json_t                 *extra;
  PetscBool               estimate;
  PetscLogDouble          fine_start, fine_end;

  PetscFunctionBegin;
  (void)nfile, (void)files;
  PetscCall(ItEstimateFromOptions(PETSC_COMM_WORLD, &estimate));
  PetscCall(ItDiagRelease(app->diag)); /* not held while the solver's own arrays are */
  PetscCall(PetscTime(&fine_start));
  PetscCall(ItSolveStationaryReport(app->grid, app->model, 0, app->p, &solve));
  PetscCall(PetscTime(&fine_end));
  PetscCall(ItIOCreate(PETSC_COMM_WORLD, app->output_dir, app->layout, &app->io));
  /* a fourth-order density negative beyond the limit is the faces' (too few cells per width of
     the density), not the solve's: the lif model at mu = 1.2 on 14-24 cells */
  PetscCall(ItSolveCheckDensity(
      app->grid, app->p, "the stationary density",
      ItGridGetInfo(app->grid)->order_fp == 4
          ? "at -fp_order 4 too few cells per width of the density make it oscillate: "
            "refine -grid_n or use -fp_order 2 (or tighten -stationary_ksp_rtol)"
          : "tighten -stationary_ksp_rtol, or use -stationary_pc_type lu on a small grid"));
  if (estimate) {
    PetscCall(ItAppEstimateCreate(app, PETSC_FALSE, PETSC_FALSE));
    PetscCall(ItEstimateSolve(app->estimate, &app->settings));
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
  /* the true residual, not the Krylov method's recursive estimate (ItSolveStationaryReport) */
  PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                        "stationary: true relative residual |b - A x|/|b| %.3e of the pinned "
                        "system after %" PetscInt_FMT " Krylov iterations\n",
                        (double)solve.residual, solve.iterations));
  /* the method that converged, and the note of a fallback (null: the first method did) */
  PetscCall(ItJSONPack(&extra, "{s:o, s:I, s:s, s:o}", "residual", ItJSONReal(solve.residual),
                       "ksp_iterations", (json_int_t)solve.iterations, "stationary_method",
                       solve.method, "stationary_fallback",
                       solve.fallback[0] ? json_string(solve.fallback) : json_null()));
  PetscCall(ItAppWriteSummary(app, extra));
  json_decref(extra);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* stationary -help: the error estimate, the stationary solve, the output folder. */
static PetscErrorCode ItAppStationaryHelp(ItApp *app) {
  PetscFunctionBegin;
  PetscCall(ItAppHelpEstimate(app));
  PetscCall(ItAppHelpStationary());
  PetscCall(ItAppHelpOutput(app));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* stationary's files, beside a run's in the same folder. */
static const ItIOLayout ItAppStationaryLayout = {"stationary",
                                                 "stationary.lock",
                                                 {{"diagnostics.csv", "stationary.csv"},
                                                  {"summary.json", "stationary_summary.json"},
                                                  {"density_stationary.h5", NULL},
                                                  {"density.xmf", "density_stationary.xmf"}},
                                                 {NULL, NULL},
                                                 NULL};

const ItAppCommand ItAppCommand_stationary = {
    .name             = "stationary",
    .summary          = "solves for the stationary density: stationary.csv, density_stationary.h5",
    .run              = ItAppStationary,
    .help             = ItAppStationaryHelp,
    .error_estimate   = PETSC_TRUE,
    .layout           = &ItAppStationaryLayout,
    .stationary_width = PETSC_TRUE,
};
