/* infotherm analyze SNAPSHOT.h5 ...: the diagnostics of saved snapshots. */
#include <infotherm/private/appimpl.h>

/* analyze's set-up (its row of the command table): the options stored in the
   first snapshot (the command line overrides them), then the set-up, with the output folder an
   "analysis" folder beside the first snapshot unless -output_dir names one. */
PetscErrorCode ItAppAnalyzeSetUp(ItApp *app, PetscInt nfile, char *files[]) {
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

/* analyze's column names: the diagnostics', except that a *_cum column,
   integrated over the snapshots' spacing rather than the run's steps, is
   named *_cum_snapshots (never the run's name with another value). */
static PetscErrorCode ItAppAnalyzeColumns(ItDiag diag, char (**names)[64]) {
  const PetscInt n = ItDiagGetColumnCount(diag);

  PetscFunctionBegin;
  PetscCall(PetscMalloc1(PetscMax(n, 1), names));
  for (PetscInt k = 0; k < n; k++) {
    const char *name = ItDiagGetColumnName(diag, k);
    size_t      len;
    PetscBool   cum = PETSC_FALSE;
    PetscCall(PetscStrlen(name, &len));
    if (len > 4) PetscCall(PetscStrcmp(name + len - 4, "_cum", &cum));
    PetscCall(PetscSNPrintf((*names)[k], sizeof((*names)[k]), cum ? "%s_snapshots" : "%s", name));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* analyze's summary.json "final", under the table's names. */
static PetscErrorCode ItAppAnalyzeFinal(ItDiag diag, const char (*names)[64], json_t **final) {
  PetscFunctionBegin;
  PetscCall(ItJSONPack(final, "{}"));
  for (PetscInt k = 0; k < ItDiagGetColumnCount(diag); k++)
    PetscCall(ItJSONSet(*final, names[k], ItJSONReal(ItDiagGetValues(diag)[k])));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* infotherm analyze SNAPSHOT.h5 ...: every diagnostic of saved snapshots, on
   any number of ranks, with the options stored in the first snapshot (the
   command line overrides them). Writes diagnostics.csv and summary.json into
   -output_dir (default: an "analysis" folder beside the first snapshot); the
   integrals over time are named *_cum_snapshots (ItAppAnalyzeColumns). */
PetscErrorCode ItAppAnalyze(ItApp *app, PetscInt nfile, char *files[]) {
  PetscReal t;
  json_t   *extra, *final;
  char(*names)[64];

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
    PetscCall(ItIOCheckSnapshotModel(app->model, "the snapshot", files[k], PETSC_TRUE));
    PetscCall(PetscSNPrintf(what, sizeof(what), "the snapshot %s", files[k]));
    PetscCall(ItSolveCheckReadDensity(app->grid, app->p, what, "leave it out of the analysis"));
  }
  PetscCall(ItAppAnalyzeColumns(app->diag, &names));
  PetscCall(ItIOSetColumns(app->io, ItDiagGetColumnCount(app->diag), (const char(*)[64])names));
  for (PetscInt k = 0; k < nfile; k++) {
    PetscCall(ItIOReadSnapshot(app->grid, app->model, files[k], app->p, &t));
    PetscCall(ItDiagEvaluate(app->diag, t, app->p));
    PetscCall(ItDiagAccumulate(app->diag));
    PetscCall(ItAppCheckBox(app));
    PetscCall(ItIOAppendRow(app->io, t, ItDiagGetValues(app->diag)));
  }
  PetscCall(ItIOClaim(app->io, NULL));
  PetscCall(ItIOWriteTable(app->io));
  PetscCall(ItAppAnalyzeFinal(app->diag, (const char(*)[64])names, &final));
  PetscCall(
      ItJSONPack(&extra, "{s:s, s:o}", "note",
                 "*_cum_snapshots: integrals over the snapshots' spacing only (third order in "
                 "it), not the run's *_cum (integrated over every step)",
                 "final", final));
  PetscCall(ItAppWriteSummary(app, extra));
  json_decref(extra);
  PetscCall(PetscFree(names));
  PetscFunctionReturn(PETSC_SUCCESS);
}
