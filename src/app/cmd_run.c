/* infotherm run: time-steps the initial density to -t_final (or continues a
   checkpoint), with a row of diagnostics at every output time, snapshots,
   checkpoints on signals and wall-clock intervals, and the error estimates
   of -error_estimate. */
#include <infotherm/private/appimpl.h>

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
    char     name[64];
    PetscInt nsnap;
    PetscCall(ItIOGetSnapshotCount(app->io, &nsnap));
    PetscCall(PetscSNPrintf(name, sizeof(name), "density_%04" PetscInt_FMT ".h5", nsnap));
    PetscCall(ItIOWriteSnapshot(app->io, app->grid, app->model, p, t, name));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The solver's faces for the diagnostics, on the run's own grid
   (ItDiagShareFaces: only when the model does not depend on time). */
static PetscErrorCode ItAppShareFaces(void *ctx, ItGrid grid, ItFaces faces) {
  ItApp *app = (ItApp *)ctx;

  PetscFunctionBegin;
  if (grid == app->grid && app->diag) PetscCall(ItDiagShareFaces(app->diag, faces));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The diagnostics' check of the faces at t = 0 (ItDiagTakeFaces, held in
   app->faces0) for the solver's faces there, on the run's own grid. */
static PetscErrorCode ItAppTakeFaces(void *ctx, ItGrid grid, ItFaces *faces) {
  ItApp *app = (ItApp *)ctx;

  PetscFunctionBegin;
  *faces = NULL;
  if (grid != app->grid) PetscFunctionReturn(PETSC_SUCCESS);
  *faces      = app->faces0;
  app->faces0 = NULL;
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

/* The checkpoint's density: of mass 1, or with a refractory compartment
   (doc/physics.md §8.2) of the mass its history leaves on the grid at t.
   Collective. */
static PetscErrorCode ItAppRestartCheckDensity(ItApp *app, const char file[], PetscReal t) {
  const char      *fix = "restart from another checkpoint, or start afresh";
  char             what[PETSC_MAX_PATH_LEN + 32];
  PetscInt         n;
  const PetscReal *history;
  ItRefractory     h = NULL;

  PetscFunctionBegin;
  PetscCall(PetscSNPrintf(what, sizeof(what), "the checkpoint %s", file));
  PetscCall(ItIOGetCheckpointHistory(app->io, &n, &history));
  PetscCall(ItRefractoryCreate(app->grid, app->model, &h));
  if (h && n == 0) {
    const PetscReal tau = ItRefractoryGetTime(h);
    PetscCall(ItRefractoryDestroy(&h));
    SETERRQ(PETSC_COMM_WORLD, PETSC_ERR_USER_INPUT,
            "-restart with a refractory time (%g): %s holds no refractory history (written "
            "before checkpoints held it); run again from t = 0 (drop -restart)",
            (double)tau, what);
  }
  if (!h) {
    PetscCall(ItSolveCheckReadDensity(app->grid, app->p, what, fix));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  {
    PetscReal mass, negative, nonfinite, held;
    PetscCall(ItRefractorySetState(h, n, history));
    PetscCall(ItRefractoryGet(h, t, NULL, NULL, &held));
    PetscCall(ItSolveCheckDensity(app->grid, app->p, what, fix));
    PetscCall(ItSolveDensityStatus(app->grid, app->p, &mass, &negative, &nonfinite));
    PetscCheck(PetscAbsReal(mass + held - ItRefractoryGetTotal(h)) <= IT_SOLVE_MASS_TOLERANCE,
               PETSC_COMM_WORLD, PETSC_ERR_USER_INPUT,
               "%s: its grid mass %.17g and refractory mass %.17g do not add up to %.17g (within "
               "%g); %s",
               what, (double)mass, (double)held, (double)ItRefractoryGetTotal(h),
               IT_SOLVE_MASS_TOLERANCE, fix);
  }
  PetscCall(ItRefractoryDestroy(&h));
  PetscFunctionReturn(PETSC_SUCCESS);
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
  PetscCall(ItAppRestartCheckDensity(app, file, state[IT_STATE_T]));
  app->settings.restarted = PETSC_TRUE;
  app->settings.t0        = state[IT_STATE_T];
  app->settings.dt0       = state[IT_STATE_DT];
  app->settings.step0     = (PetscInt)state[IT_STATE_STEP];
  PetscCheck(app->settings.t0 <= app->settings.t_final * (1 + 1e-12), PETSC_COMM_WORLD,
             PETSC_ERR_USER_INPUT,
             "-t_final %g is before the time of %s (t = %g): its table already holds rows past "
             "it; give -t_final %g or more, or start afresh",
             (double)app->settings.t_final, file, (double)app->settings.t0,
             (double)app->settings.t0);
  app->boundary_mass = state[IT_STATE_BOUNDARY];
  /* a refractory compartment's history (doc/physics.md §8.2), kept by app->io */
  { /* a copy: the next checkpoint replaces what app->io holds */
    const PetscReal *history;
    PetscCall(ItIOGetCheckpointHistory(app->io, &app->settings.nhistory, &history));
    PetscCall(PetscFree(app->restart_history));
    PetscCall(PetscMalloc1(PetscMax(app->settings.nhistory, 1), &app->restart_history));
    PetscCall(PetscArraycpy(app->restart_history, history, app->settings.nhistory));
    app->settings.history = app->restart_history;
  }
  PetscCall(ItDiagSetState(app->diag, &state[IT_STATE_DIAG]));
  PetscCall(PetscInfo(NULL, "restarted from %s at t = %g, step %" PetscInt_FMT "\n", file,
                      (double)state[IT_STATE_T], app->settings.step0));
  PetscCall(PetscFree(state));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The option names of run's options (src/model/option_names.c). */
static const ItOptionName ItAppRunOptionNames[] = {{"restart", IT_OPTION_STEERING}, {NULL, 0}};

/* -restart FILE|auto into restart (len bytes; NULL: read for -help only). */
static PetscErrorCode ItAppRestartOptions(ItApp *app, char restart[], size_t len, PetscBool *set) {
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

/* infotherm run: time-steps the initial density to -t_final, or continues a
   checkpoint (-restart); a signal or -ts_max_steps stops it after a checkpoint. */
static PetscErrorCode ItAppRun(ItApp *app, PetscInt nfile, char *files[]) {
  char           restart[PETSC_MAX_PATH_LEN] = "";
  json_t        *extra;
  PetscBool      restarted = PETSC_FALSE, estimate;
  PetscLogDouble fine_start, fine_end;

  PetscFunctionBegin;
  (void)nfile, (void)files;
  PetscCall(ItSolveSettingsFromOptions(PETSC_COMM_WORLD, &app->settings));
  PetscCall(ItAppCheckScales(app)); /* the diagnostics checked the faces at t = 0 already */
  app->settings.interrupt  = ItAppInterrupt;
  app->settings.checkpoint = ItAppCheckpoint;
  PetscCall(PetscTime(&app->last_checkpoint));
  PetscCall(ItAppRestartOptions(app, restart, sizeof(restart), &restarted));
  PetscCall(ItEstimateFromOptions(PETSC_COMM_WORLD, &estimate));
  /* a fresh run validates its initial density before it creates anything; a
     restart under -error_estimate solves the coarse grids again from t = 0 */
  if (!restarted)
    PetscCall(ItAppInitialDensity(app));
  else if (estimate)
    PetscCall(ItAppInitialOptions(app));
  if (estimate) PetscCall(ItAppEstimateCreate(app, PETSC_TRUE, PETSC_FALSE));
  PetscCall(ItIOCreate(PETSC_COMM_WORLD, app->output_dir, app->layout, &app->io));
  PetscCall(ItAppOutputColumns(app));
  if (restarted) PetscCall(ItAppRestart(app, restart, sizeof(restart)));
  if (!ItPostSolverOnly()) PetscCall(ItIOClaim(app->io, restarted ? restart : NULL));
  PetscCall(ItAppReportStart(app)); /* stderr not a terminal: a line for the job's log */
  /* under -post_ranks the post ranks write the rows, with their _err columns */
  if (estimate && !ItPostSolverOnly()) PetscCall(ItEstimateSolve(app->estimate, &app->settings));
  PetscCall(VecDuplicate(app->p, &app->good));
  ItMemoryAdd(IT_MEMORY_DENSITY, (PetscReal)ItGridGetInfo(app->grid)->nlocal * sizeof(PetscScalar));
  PetscCall(VecCopy(app->p, app->good));
  app->good_t               = app->settings.restarted ? app->settings.t0 : 0;
  app->good_step            = app->settings.restarted ? app->settings.step0 : 0;
  app->settings.share_faces = ItAppShareFaces; /* the fine solve's only */
  app->settings.take_faces  = ItAppTakeFaces;
  app->settings.share_ctx   = app;
  if (app->diag) { /* the check at t = 0 goes to the solver; the rest is freed before it makes its
                      own */
    PetscCall(ItDiagTakeFaces(app->diag, &app->faces0));
    PetscCall(ItDiagShareFaces(app->diag, NULL));
    if (ItPostPostOnly()) PetscCall(ItFacesDestroy(&app->faces0)); /* a post rank never steps */
  }
  PetscCall(PetscTime(&fine_start));
  PetscCall(ItPostTransient(app, ItAppOutput, ItAppCheckpoint, app)); /* -post_ranks */
  PetscCall(PetscTime(&fine_end));
  app->settings.share_faces = NULL;
  app->settings.take_faces  = NULL;
  PetscCall(ItFacesDestroy(&app->faces0)); /* what the solver did not take */
  PetscCall(ItAppReportEnd(app));
  if (ItPostSolverOnly()) { /* the post ranks write everything */
    app->interrupted = app->result.interrupted;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  if (estimate) PetscCall(ItEstimateSetFineSeconds(app->estimate, fine_end - fine_start));
  if (app->result.interrupted) {
    PetscCall(PetscFPrintf(PETSC_COMM_WORLD, PETSC_STDERR,
                           "infotherm: stopped at t = %g after a checkpoint (%s/checkpoint.h5); "
                           "continue with -restart auto\n",
                           (double)app->result.t_end, app->output_dir));
    app->interrupted = PETSC_TRUE;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  if (ItDiagGetTime(app->diag) != app->result.t_end) { /* a restart that had nothing left to do */
    PetscCall(ItDiagEvaluate(app->diag, app->result.t_end, app->p));
    PetscCall(ItDiagAccumulate(app->diag));
  }
  PetscCall(ItIOWriteTable(app->io));
  PetscCall(ItJSONPack(&extra, "{s:o, s:I}", "t_final", ItJSONReal(app->settings.t_final), "steps",
                       (json_int_t)app->result.steps));
  PetscCall(ItAppWriteSummary(app, extra));
  json_decref(extra);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* run -help: the solve settings, initial density, restart, post-processing
   ranks, error estimate, time stepper, stationary solve and output folder. */
static PetscErrorCode ItAppRunHelp(ItApp *app) {
  PetscFunctionBegin;
  PetscCall(ItAppHelpTransient(app));
  PetscCall(ItAppRestartOptions(app, NULL, 0, NULL));
  PetscCall(ItPostOptions());
  PetscCall(ItAppHelpEstimate(app));
  PetscCall(ItAppHelpStepper(app));
  PetscCall(ItAppHelpStationary());
  PetscCall(ItAppHelpOutput(app));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* run's files (also analyze's guard: src/app/cmd_analyze.c). */
const ItIOLayout ItAppRunLayout = {"run",
                                   "run.lock",
                                   {{"diagnostics.csv", NULL},
                                    {"summary.json", NULL},
                                    {"density.xmf", NULL},
                                    {"checkpoint.h5", NULL}},
                                   {"density_", NULL},
                                   NULL};

const ItAppCommand ItAppCommand_run = {
    .name    = "run",
    .summary = "time-steps the density to -t_final: diagnostics.csv, summary.json, snapshots",
    .run     = ItAppRun,
    .help    = ItAppRunHelp,
    .error_estimate = PETSC_TRUE,
    .checkpoints    = PETSC_TRUE,
    .options        = ItAppRunOptionNames,
    .layout         = &ItAppRunLayout,
};
