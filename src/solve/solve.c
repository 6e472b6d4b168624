/* Transient and stationary solves of the discrete Fokker–Planck equation
   dp/dt = L p. Transient: PETSc TS on a linear problem with a constant
   Jacobian L; the default is the adaptive, L-stable, stiffly accurate
   ARK3(2)4L[2]SA method used fully implicitly (TSARKIMEX3: third order,
   embedded second order; Kennedy & Carpenter 2003), every -ts_, -ksp_ and -pc_
   option honoured. Stationary: L is singular with the constant left null
   vector (columns sum to zero), so one row is replaced by "p_pin = 1", which
   keeps the system sparse; the solution is then normalised to ∫ p = 1. The
   pinned cell is moved to the density's maximum when the first pin sat in
   the tail. */
#include <unistd.h>
#include <infotherm/solve.h>
#include <petscblaslapack.h>

PetscErrorCode ItSolveSettingsFromOptions(MPI_Comm comm, ItSolveSettings *s) {
  PetscFunctionBegin;
  s->t_final          = 10.0;
  s->output_every     = -1;
  s->snapshot_every   = -1;
  s->quiet            = PETSC_FALSE;
  s->checkpoint_every = 0;
  s->checkpoint_wall  = 0;
  PetscOptionsBegin(comm, NULL, "Solve options", "ItSolve");
  PetscCall(PetscOptionsReal("-t_final", "final time", NULL, s->t_final, &s->t_final, NULL));
  PetscCall(PetscOptionsReal("-output_every",
                             "time between rows of diagnostics.csv (default t_final/100)", NULL,
                             s->output_every, &s->output_every, NULL));
  PetscCall(PetscOptionsReal("-snapshot_every",
                             "time between density snapshots (default: first and last only)", NULL,
                             s->snapshot_every, &s->snapshot_every, NULL));
  PetscCall(PetscOptionsBool("-quiet", "no progress line", NULL, s->quiet, &s->quiet, NULL));
  PetscCall(PetscOptionsReal("-checkpoint_every", "simulated time between checkpoints (0: none)",
                             NULL, s->checkpoint_every, &s->checkpoint_every, NULL));
  PetscCall(PetscOptionsReal("-checkpoint_wall", "wall-clock seconds between checkpoints (0: none)",
                             NULL, s->checkpoint_wall, &s->checkpoint_wall, NULL));
  PetscOptionsEnd();
  PetscCheck(s->checkpoint_every >= 0 && s->checkpoint_wall >= 0, comm, PETSC_ERR_USER_INPUT,
             "-checkpoint_every and -checkpoint_wall must not be negative");
  PetscCheck(s->t_final > 0, comm, PETSC_ERR_USER_INPUT, "-t_final must be positive; got %g",
             (double)s->t_final);
  if (s->output_every < 0) s->output_every = s->t_final / 100;
  if (s->snapshot_every < 0) s->snapshot_every = s->t_final;
  PetscCheck(s->output_every > 0, comm, PETSC_ERR_USER_INPUT,
             "-output_every must be positive; got %g", (double)s->output_every);
  PetscCheck(s->snapshot_every > 0, comm, PETSC_ERR_USER_INPUT,
             "-snapshot_every must be positive; got %g", (double)s->snapshot_every);
  PetscFunctionReturn(PETSC_SUCCESS);
}

typedef struct {
  ItSolveOutputFn  output;
  void            *ctx;
  ItSolveSettings *settings;
  PetscBool        stop, checkpoint; /* what the last poll asked for */
  ItFP             fp;
  PetscBool        ramped;      /* a schedule ramps: L follows every stage time */
  PetscReal        segment_mid; /* otherwise L holds the schedule's value here */
} ItSolveMonitorContext;

typedef struct {
  PetscReal      t_final;
  PetscLogDouble start, last;
  PetscBool      shown;
} ItProgress;

/* One line on stderr, rewritten in place: percent of t_final, step size, ETA. */
static PetscErrorCode ItSolveProgress(TS ts, PetscInt step, PetscReal t, Vec p, void *ctx) {
  ItProgress    *progress = (ItProgress *)ctx;
  PetscLogDouble now;
  PetscReal      dt, fraction = t / progress->t_final;

  PetscFunctionBegin;
  (void)p;
  PetscCall(PetscTime(&now));
  if (now - progress->last < 0.25 && fraction < 1) PetscFunctionReturn(PETSC_SUCCESS);
  progress->last = now;
  PetscCall(TSGetTimeStep(ts, &dt));
  {
    const double eta = fraction > 0 ? (now - progress->start) * (1 - fraction) / fraction : 0;
    fprintf(stderr,
            "\r  %5.1f%%  t = %-10.4g dt = %-10.3g step %-7" PetscInt_FMT " ETA %02d:%02d:%02d ",
            100 * (double)fraction, (double)t, (double)dt, step, (int)(eta / 3600),
            (int)(eta / 60) % 60, (int)eta % 60);
    fflush(stderr);
  }
  progress->shown = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* L at time t, for a model with scheduled parameters (-protocol). */
static PetscErrorCode ItSolveRHSJacobian(TS ts, PetscReal t, Vec p, Mat A, Mat B, void *ctx) {
  PetscFunctionBegin;
  (void)ts, (void)p, (void)A, (void)B;
  PetscCall(ItFPUpdate((ItFP)ctx, t));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Hands every accepted step to the output function (neither row nor snapshot). */
static PetscErrorCode ItSolveStepMonitor(TS ts, PetscInt step, PetscReal t, Vec p, void *ctx) {
  ItSolveMonitorContext *mc = (ItSolveMonitorContext *)ctx;

  PetscFunctionBegin;
  PetscCall(mc->output(mc->ctx, t, step, p, PETSC_FALSE, PETSC_FALSE));
  /* the diagnostics may have assembled L at a switching time (its left limit): restore the
   * segment's */
  if (!mc->ramped) PetscCall(ItFPUpdate(mc->fp, mc->segment_mid));
  if (mc->settings->interrupt) {
    PetscCall(mc->settings->interrupt(mc->ctx, &mc->stop, &mc->checkpoint));
    if (mc->stop || mc->checkpoint) PetscCall(TSSetConvergedReason(ts, TS_CONVERGED_USER));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Steps p from t = 0 to t_final, calling output at t = 0, at every multiple of
   output_every and snapshot_every, and at t_final; TS lands exactly on each.
   Collective. */
PetscErrorCode ItSolveTransient(ItFP fp, ItSolveSettings *s, Vec p, ItSolveOutputFn output,
                                void *ctx) {
  TS                    ts;
  SNES                  snes;
  KSP                   ksp;
  PetscMPIInt           rank;
  ItProgress            progress = {s->t_final, 0, 0, PETSC_FALSE};
  ItSolveMonitorContext monitor  = {output, ctx, s, PETSC_FALSE, PETSC_FALSE, fp, PETSC_FALSE, 0};
  PetscBool             ramped   = PETSC_FALSE;
  PetscReal             t        = s->restarted ? s->t0 : 0;
  /* the next output, snapshot and checkpoint times are k * every: no accumulated rounding */
  PetscInt        kout = 1, ksnap = 1, kchk = 1;
  const PetscReal eps = 1e-12 * s->t_final;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(fp->grid->comm, &rank));
  PetscCall(TSCreate(fp->grid->comm, &ts));
  PetscCall(TSSetProblemType(ts, TS_LINEAR));
  PetscCall(TSSetRHSFunction(ts, NULL, TSComputeRHSFunctionLinear, NULL));
  /* a ramped schedule changes L within a step: reassemble at each stage time;
     otherwise L is constant between the segment ends, which include every switch */
  for (PetscInt k = 0; k < fp->model->nprotocol; k++)
    ramped = (PetscBool)(ramped || fp->model->protocol[k].ramp);
  monitor.ramped = ramped;
  if (ramped)
    PetscCall(TSSetRHSJacobian(ts, fp->L, fp->L, ItSolveRHSJacobian, fp));
  else
    PetscCall(TSSetRHSJacobian(ts, fp->L, fp->L, TSComputeRHSJacobianConstant, NULL));
  /* the shifted Jacobian keeps L's pattern: without this, parallel runs rebuild it every stage */
  PetscCall(TSSetMatStructure(ts, SAME_NONZERO_PATTERN));
  PetscCall(TSSetType(ts, TSARKIMEX));
  PetscCall(TSARKIMEXSetType(ts, TSARKIMEX3));
  PetscCall(TSARKIMEXSetFullyImplicit(ts, PETSC_TRUE));
  PetscCall(TSSetTime(ts, 0.0));
  PetscCall(TSSetTimeStep(ts, PetscMin(s->output_every, s->snapshot_every) / 20));
  PetscCall(TSSetMaxSteps(ts, PETSC_MAX_INT));
  PetscCall(TSSetExactFinalTime(ts, TS_EXACTFINALTIME_MATCHSTEP));
  PetscCall(TSSetTolerances(ts, 1e-6, NULL, 1e-4, NULL));
  PetscCall(TSGetSNES(ts, &snes));
  PetscCall(SNESGetKSP(snes, &ksp));
  PetscCall(KSPSetTolerances(ksp, 1e-12, 1e-50, PETSC_DEFAULT, PETSC_DEFAULT));
  PetscCall(TSSetFromOptions(ts));
  if (!s->quiet && rank == 0 && isatty(2)) {
    PetscCall(PetscTime(&progress.start));
    PetscCall(TSMonitorSet(ts, ItSolveProgress, &progress, NULL));
  }
  PetscCall(TSMonitorSet(ts, ItSolveStepMonitor, &monitor, NULL));
  s->steps       = 0;
  s->interrupted = PETSC_FALSE;
  if (s->restarted) {
    PetscCall(TSSetTime(ts, s->t0));
    PetscCall(TSSetStepNumber(ts, s->step0));
    PetscCall(TSSetTimeStep(ts, s->dt0));
    kout  = (PetscInt)PetscFloorReal(s->t0 / s->output_every + 1e-9) + 1;
    ksnap = (PetscInt)PetscFloorReal(s->t0 / s->snapshot_every + 1e-9) + 1;
    if (s->checkpoint_every > 0)
      kchk = (PetscInt)PetscFloorReal(s->t0 / s->checkpoint_every + 1e-9) + 1;
  } else
    PetscCall(output(ctx, 0.0, 0, p, PETSC_TRUE, PETSC_TRUE));
  while (t < s->t_final - eps) {
    const PetscReal next_output = kout * s->output_every, next_snapshot = ksnap * s->snapshot_every;
    const PetscReal next_checkpoint =
        s->checkpoint_every > 0 ? kchk * s->checkpoint_every : PETSC_MAX_REAL;
    /* steps land on the output, snapshot and checkpoint times and on every switch of a schedule */
    PetscReal target =
                  PetscMin(PetscMin(PetscMin(PetscMin(next_output, next_snapshot), next_checkpoint),
                                    s->t_final),
                           ItModelNextSwitch(fp->model, t)),
              dt;
    PetscBool         row, snapshot;
    PetscInt          steps;
    TSConvergedReason reason;

    PetscCall(TSSetMaxTime(ts, target));
    monitor.segment_mid = 0.5 * (t + target);
    if (!ramped)
      PetscCall(ItFPUpdate(fp, monitor.segment_mid)); /* the schedule's value inside this segment */
    PetscCall(TSSolve(ts, p));
    PetscCall(TSGetSolveTime(ts, &t));
    PetscCall(TSGetStepNumber(ts, &steps));
    PetscCall(TSGetTimeStep(ts, &dt));
    PetscCall(TSGetConvergedReason(ts, &reason));
    PetscCheck(reason >= 0, fp->grid->comm, PETSC_ERR_NOT_CONVERGED,
               "the time stepper failed at t = %g (%s); try a smaller -ts_dt or -ts_rtol",
               (double)t, TSConvergedReasons[reason]);
    s->steps = steps;
    if (t < target - eps) { /* stopped early: a signal, -checkpoint_wall or -ts_max_steps */
      if (s->checkpoint) PetscCall(s->checkpoint(ctx, t, steps, dt, p));
      if (monitor.stop || reason == TS_CONVERGED_ITS) {
        s->interrupted = PETSC_TRUE;
        break;
      }
      continue;
    }
    row      = (PetscBool)(t >= next_output - eps || t >= s->t_final - eps);
    snapshot = (PetscBool)(t >= next_snapshot - eps || t >= s->t_final - eps);
    if (t >= next_output - eps) kout++;
    if (t >= next_snapshot - eps) ksnap++;
    PetscCall(output(ctx, t, steps, p, row, snapshot));
    if (t >= next_checkpoint - eps) {
      kchk++;
      if (s->checkpoint) PetscCall(s->checkpoint(ctx, t, steps, dt, p));
    }
    if (monitor.stop) { /* a signal during the last step of a segment */
      if (s->checkpoint) PetscCall(s->checkpoint(ctx, t, steps, dt, p));
      s->interrupted = PETSC_TRUE;
      break;
    }
  }
  s->t_end = t;
  if (progress.shown) fprintf(stderr, "\n");
  PetscCall(TSDestroy(&ts));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Sets the default Krylov method and preconditioner for the stationary solve:
   BiCGStab with BoomerAMG, HMIS coarsening and extended+i interpolation with
   aggressive coarsening (tools/bench.sh: 8x faster than BoomerAMG's defaults on
   128^3 and half the memory). Every -ksp_ and -pc_ option overrides them. */
static PetscErrorCode ItSolveStationaryKSP(ItFP fp, Mat A, KSP *ksp) {
  PC                       pc;
  static const char *const defaults[][2] = {
      {"-pc_hypre_boomeramg_coarsen_type", "HMIS"},
      {"-pc_hypre_boomeramg_interp_type", "ext+i"},
      {"-pc_hypre_boomeramg_P_max", "4"},
      {"-pc_hypre_boomeramg_agg_nl", "1"},
  };

  PetscFunctionBegin;
  for (size_t k = 0; k < sizeof(defaults) / sizeof(defaults[0]); k++) {
    PetscBool set;
    PetscCall(PetscOptionsHasName(NULL, NULL, defaults[k][0], &set));
    if (!set) PetscCall(PetscOptionsSetValue(NULL, defaults[k][0], defaults[k][1]));
  }
  PetscCall(KSPCreate(fp->grid->comm, ksp));
  PetscCall(KSPSetOperators(*ksp, A, A));
  PetscCall(KSPSetType(*ksp, KSPBCGS));
  PetscCall(KSPGetPC(*ksp, &pc));
  PetscCall(PCSetType(pc, PCHYPRE));
  PetscCall(KSPSetTolerances(*ksp, 1e-12, 1e-300, PETSC_DEFAULT, 2000));
  PetscCall(KSPSetFromOptions(*ksp));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* One solve of L p = 0 with the row of global cell `pin` replaced by p_pin = 1
   (scaled by that row's diagonal, to keep the system's scale). */
static PetscErrorCode ItSolvePinned(ItFP fp, PetscInt pin, Vec p, PetscInt *iterations) {
  Mat                A;
  Vec                b, guess;
  KSP                ksp;
  KSPConvergedReason reason;
  PetscScalar        diag = 0;
  PetscInt           lo, hi, its;
  PetscBool          user_ksp;

  PetscFunctionBegin;
  PetscCall(MatDuplicate(fp->L, MAT_COPY_VALUES, &A));
  PetscCall(MatGetOwnershipRange(A, &lo, &hi));
  if (pin >= lo && pin < hi) PetscCall(MatGetValue(A, pin, pin, &diag));
  PetscCall(ItGridMaxAbs(fp->grid, PetscRealPart(diag), &diag));
  PetscCall(VecDuplicate(p, &b));
  PetscCall(VecSet(b, 0.0));
  if (pin >= lo && pin < hi) PetscCall(VecSetValue(b, pin, diag, INSERT_VALUES));
  PetscCall(VecAssemblyBegin(b));
  PetscCall(VecAssemblyEnd(b));
  PetscCall(MatZeroRows(A, 1, &pin, diag, NULL, NULL));
  PetscCall(ItSolveStationaryKSP(fp, A, &ksp));
  PetscCall(KSPSetInitialGuessNonzero(ksp, PETSC_TRUE));
  PetscCall(VecDuplicate(p, &guess));
  PetscCall(VecCopy(p, guess));
  PetscCall(KSPSolve(ksp, b, p));
  PetscCall(KSPGetConvergedReason(ksp, &reason));
  PetscCall(KSPGetIterationNumber(ksp, &its));
  *iterations += its;
  PetscCall(PetscOptionsHasName(NULL, NULL, "-ksp_type", &user_ksp));
  if (reason < 0 && !user_ksp) {
    /* BiCGStab can break down on strongly non-normal operators (3-D Hebbian):
       GMRES with a long restart is slower but robust */
    PetscCall(PetscInfo(ksp, "BiCGStab failed (%s); retrying with GMRES(100)\n",
                        KSPConvergedReasons[reason]));
    PetscCall(VecCopy(guess, p));
    PetscCall(KSPSetType(ksp, KSPGMRES));
    PetscCall(KSPGMRESSetRestart(ksp, 100));
    PetscCall(KSPSolve(ksp, b, p));
    PetscCall(KSPGetConvergedReason(ksp, &reason));
    PetscCall(KSPGetIterationNumber(ksp, &its));
    *iterations += its;
  }
  PetscCheck(
      reason > 0, fp->grid->comm, PETSC_ERR_NOT_CONVERGED,
      "the stationary solve did not converge (%s after %" PetscInt_FMT
      " iterations); try -ksp_type gmres -ksp_gmres_restart 200, or -pc_type lu on small grids",
      KSPConvergedReasons[reason], its);
  PetscCall(KSPDestroy(&ksp));
  PetscCall(VecDestroy(&guess));
  PetscCall(VecDestroy(&b));
  PetscCall(MatDestroy(&A));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Solves L p = 0, ∫ p = 1 into p.
   residual: ‖L p‖_2 / (max |L_kk| ‖p‖_2). Collective. */
PetscErrorCode ItSolveStationary(ItFP fp, Vec p, PetscReal *residual, PetscInt *iterations) {
  ItGrid    grid               = fp->grid;
  PetscInt  centre[IT_MAX_DIM] = {0, 0, 0}, pin, argmax;
  PetscReal pmax, ppin, norm, diagmax;
  Vec       r;

  PetscFunctionBegin;
  *iterations = 0;
  for (PetscInt a = 0; a < grid->dim; a++) centre[a] = grid->n[a] / 2;
  PetscCall(ItGridGlobalIndex(grid, centre, &pin));
  PetscCall(VecSet(p, 1.0));
  PetscCall(ItSolvePinned(fp, pin, p, iterations));
  PetscCall(VecMax(p, &argmax, &pmax));
  PetscCall(VecScale(p, 1.0 / pmax));
  {
    PetscInt lo, hi;
    PetscCall(VecGetOwnershipRange(p, &lo, &hi));
    ppin = 0;
    if (pin >= lo && pin < hi) PetscCall(VecGetValues(p, 1, &pin, &ppin));
    PetscCall(ItGridMaxAbs(grid, ppin, &ppin));
  }
  /* a pin far in the tail makes the system ill-conditioned: solve again pinned at the maximum */
  if (ppin < 1e-3) PetscCall(ItSolvePinned(fp, argmax, p, iterations));
  PetscCall(ItSolveNormalize(grid, p));

  PetscCall(VecDuplicate(p, &r));
  PetscCall(MatMult(fp->L, p, r));
  PetscCall(VecNorm(r, NORM_2, residual));
  PetscCall(MatGetDiagonal(fp->L, r));
  PetscCall(VecNorm(r, NORM_INFINITY, &diagmax));
  PetscCall(VecNorm(p, NORM_2, &norm));
  *residual /= diagmax * norm;
  PetscCall(VecDestroy(&r));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Scales p so that the sum over cells of p times the cell volume is 1. Collective. */
PetscErrorCode ItSolveNormalize(ItGrid grid, Vec p) {
  PetscReal mass;

  PetscFunctionBegin;
  PetscCall(VecSum(p, &mass));
  mass *= grid->cell_volume;
  PetscCheck(mass > 0, grid->comm, PETSC_ERR_USER_INPUT, "the density has no mass on the box");
  PetscCall(VecScale(p, 1.0 / mass));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Reads -init_mean and -init_cov (row-major, or the variances) and returns the
   mean and the lower Cholesky factor L, row-major, cov = L L^T. Defaults: the
   box centre and a diagonal covariance with six standard deviations to each
   wall. Refuses a covariance that is not symmetric positive definite, and a
   Gaussian that the box cuts (more than 1e-6 of its mass outside). Collective. */
PetscErrorCode ItSolveGaussianOptions(ItGrid grid, PetscReal mean[], PetscReal L[]) {
  const PetscInt d                            = grid->dim;
  PetscReal      cov[IT_MAX_DIM * IT_MAX_DIM] = {0}, chol[IT_MAX_DIM * IT_MAX_DIM];
  PetscInt       nmean = d, ncov = d * d;
  PetscBool      set;
  PetscBLASInt   n, info;

  PetscFunctionBegin;
  for (PetscInt i = 0; i < d; i++) {
    const PetscReal sd = (grid->hi[i] - grid->lo[i]) / 12;
    mean[i]            = 0.5 * (grid->lo[i] + grid->hi[i]);
    cov[i * d + i]     = sd * sd;
  }
  PetscOptionsBegin(grid->comm, NULL, "Initial Gaussian", "ItSolve");
  PetscCall(PetscOptionsRealArray("-init_mean", "mean of the initial Gaussian", NULL, mean, &nmean,
                                  &set));
  PetscCheck(!set || nmean == d, grid->comm, PETSC_ERR_USER_INPUT,
             "-init_mean needs %" PetscInt_FMT " values; got %" PetscInt_FMT, d, nmean);
  PetscCall(PetscOptionsRealArray("-init_cov", "covariance of the initial Gaussian, row-major",
                                  NULL, cov, &ncov, &set));
  PetscCheck(!set || ncov == d * d || ncov == d, grid->comm, PETSC_ERR_USER_INPUT,
             "-init_cov needs %" PetscInt_FMT " values (row-major) or %" PetscInt_FMT
             " variances; got %" PetscInt_FMT,
             d * d, d, ncov);
  PetscOptionsEnd();
  if (set && ncov == d && d > 1) { /* variances only */
    PetscReal var[IT_MAX_DIM];
    for (PetscInt i = 0; i < d; i++) var[i] = cov[i];
    for (PetscInt k = 0; k < d * d; k++) cov[k] = 0;
    for (PetscInt i = 0; i < d; i++) cov[i * d + i] = var[i];
  }
  for (PetscInt i = 0; i < d; i++)
    for (PetscInt j = 0; j < i; j++)
      PetscCheck(PetscAbsReal(cov[i * d + j] - cov[j * d + i]) <=
                     1e-12 * (PetscAbsReal(cov[i * d + j]) + PetscAbsReal(cov[j * d + i])),
                 grid->comm, PETSC_ERR_USER_INPUT, "-init_cov must be symmetric");
  PetscCall(PetscArraycpy(chol, cov, d * d));
  PetscCall(PetscBLASIntCast(d, &n));
  PetscCallBLAS("LAPACKpotrf", LAPACKpotrf_("L", &n, chol, &n, &info));
  PetscCheck(info == 0, grid->comm, PETSC_ERR_USER_INPUT, "-init_cov must be positive definite");
  /* LAPACK's factor is column-major, L(i,j) = chol[j*d + i]; hand it out row-major */
  for (PetscInt i = 0; i < d; i++)
    for (PetscInt j = 0; j < d; j++) L[i * d + j] = j <= i ? chol[j * d + i] : 0;

  /* the mass outside the box, bounded by the sum over axes of the marginal tails */
  {
    PetscReal outside = 0;
    for (PetscInt i = 0; i < d; i++) {
      const PetscReal sd = PetscSqrtReal(2 * cov[i * d + i]);
      outside += 0.5 * (erfc((mean[i] - grid->lo[i]) / sd) + erfc((grid->hi[i] - mean[i]) / sd));
    }
    PetscCheck(outside <= 1e-6, grid->comm, PETSC_ERR_USER_INPUT,
               "the box cuts the initial Gaussian (%g of its mass lies outside): widen "
               "-grid_lo/-grid_hi or narrow -init_cov",
               (double)outside);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The Gaussian density N(-init_mean, -init_cov) at the cell centres,
   normalised on the grid (ItSolveGaussianOptions reads and checks it). Collective. */
PetscErrorCode ItSolveGaussian(ItGrid grid, Vec p) {
  const PetscInt d = grid->dim;
  PetscReal      mean[IT_MAX_DIM], L[IT_MAX_DIM * IT_MAX_DIM], logdet = 0;
  PetscScalar   *pa;

  PetscFunctionBegin;
  PetscCall(ItSolveGaussianOptions(grid, mean, L));
  for (PetscInt i = 0; i < d; i++) logdet += 2 * PetscLogReal(L[i * d + i]);
  /* z = L^{-1}(x - mean), cov = L L^T */
  PetscCall(VecGetArray(p, &pa));
  ItGridForOwned(grid, c, l) {
    PetscReal z[IT_MAX_DIM], quad = 0;
    for (PetscInt i = 0; i < d; i++) {
      PetscReal s = ItGridCoordinate(grid, i, c[i]) - mean[i];
      for (PetscInt j = 0; j < i; j++) s -= L[i * d + j] * z[j];
      z[i] = s / L[i * d + i];
      quad += z[i] * z[i];
    }
    pa[l] = PetscExpReal(-0.5 * quad - 0.5 * logdet - 0.5 * d * PetscLogReal(2 * PETSC_PI));
  }
  PetscCall(VecRestoreArray(p, &pa));
  PetscCall(ItSolveNormalize(grid, p));
  PetscFunctionReturn(PETSC_SUCCESS);
}
