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
#include <strings.h>
#include <unistd.h>
#include <infotherm/solve.h>
#include <infotherm/io.h>
#include <petscblaslapack.h>

/* At most this many output, snapshot or checkpoint times up to t_final: an
   interval that vanishes next to t_final would never let the run end. */
#define IT_SOLVE_MAX_INTERVALS 1e7

/* An interval of simulated time given as `option`: positive and finite (or 0,
   where it means none), and at most IT_SOLVE_MAX_INTERVALS of them in t_final. */
static PetscErrorCode ItSolveCheckInterval(MPI_Comm comm, const char option[], PetscReal every,
                                           PetscReal t_final, PetscBool zero_is_none) {
  PetscFunctionBegin;
  if (zero_is_none && every == 0) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCheck(every > 0 && !PetscIsInfOrNanReal(every), comm, PETSC_ERR_USER_INPUT,
             "%s must be a positive, finite time%s; got %g", option,
             zero_is_none ? " (or 0: none)" : "", (double)every);
  PetscCheck(t_final / every <= IT_SOLVE_MAX_INTERVALS, comm, PETSC_ERR_USER_INPUT,
             "%s %g is too small for -t_final %g: %.3g intervals, more than %g", option,
             (double)every, (double)t_final, (double)(t_final / every), IT_SOLVE_MAX_INTERVALS);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* At most this many time steps up to t_final under a fixed step, or under
   the adaptive step's largest -ts_adapt_dt_max: more would run for days (or,
   where t + dt == t, for ever) before anything is written. */
#define IT_SOLVE_MAX_STEPS 1e8

/* The time stepper's options that decide how many steps a run takes, checked
   before anything is written: -ts_max_steps at least 1 (0 or less stops
   every run, and its restart, without a step), and the steps a fixed -ts_dt
   or -ts_adapt_dt_max takes to t_final at most IT_SOLVE_MAX_STEPS. */
static PetscErrorCode ItSolveCheckSteps(MPI_Comm comm, const ItSolveSettings *s) {
  PetscInt  max_steps;
  PetscReal dt, dt_max;
  char      adapt[64] = "";
  PetscBool set, set_adapt;

  PetscFunctionBegin;
  PetscCall(PetscOptionsGetInt(NULL, NULL, "-ts_max_steps", &max_steps, &set));
  PetscCheck(!set || max_steps >= 1, comm, PETSC_ERR_USER_INPUT,
             "-ts_max_steps must be at least 1 (a run stopped after it continues with -restart "
             "auto); got %" PetscInt_FMT,
             max_steps);
  PetscCall(PetscOptionsGetString(NULL, NULL, "-ts_adapt_type", adapt, sizeof(adapt), &set_adapt));
  PetscCall(PetscOptionsGetReal(NULL, NULL, "-ts_dt", &dt, &set));
  if (set && set_adapt && !strcmp(adapt, "none"))
    PetscCheck(s->t_final / dt <= IT_SOLVE_MAX_STEPS, comm, PETSC_ERR_USER_INPUT,
               "-ts_dt %g with -ts_adapt_type none is too small for -t_final %g: %.3g steps, more "
               "than %g",
               (double)dt, (double)s->t_final, (double)(s->t_final / dt), IT_SOLVE_MAX_STEPS);
  PetscCall(PetscOptionsGetReal(NULL, NULL, "-ts_adapt_dt_max", &dt_max, &set));
  PetscCheck(!set || (dt_max > 0 && !PetscIsInfOrNanReal(dt_max)), comm, PETSC_ERR_USER_INPUT,
             "-ts_adapt_dt_max must be a positive, finite time step; got %g", (double)dt_max);
  PetscCheck(!set || s->t_final / dt_max <= IT_SOLVE_MAX_STEPS, comm, PETSC_ERR_USER_INPUT,
             "-ts_adapt_dt_max %g is too small for -t_final %g: at least %.3g steps, more than %g",
             (double)dt_max, (double)s->t_final, (double)(s->t_final / dt_max), IT_SOLVE_MAX_STEPS);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The option names of the solve settings' options, -ts_max_steps (read with the time stepper's),
 * and the prefixes of the PETSc objects of the solves (the time stepper, the stationary solve,
 * multigrid) (src/model/option_names.c). */
const ItOptionName ItSolveOptionNames[] = {
    {"t_final", IT_OPTION_STEERING},
    {"output_every", 0},
    {"snapshot_every", 0},
    {"quiet", IT_OPTION_SWITCH | IT_OPTION_LOCAL | IT_OPTION_STEERING},
    {"progress", 0},
    {"checkpoint_every", IT_OPTION_STEERING},
    {"checkpoint_wall", IT_OPTION_STEERING},
    {"ts_max_steps", IT_OPTION_STEERING},
    {"ts_", IT_OPTION_PETSC},
    {"ksp_", IT_OPTION_PETSC},
    {"pc_", IT_OPTION_PETSC},
    {"snes_", IT_OPTION_PETSC},
    {"mg_", IT_OPTION_PETSC},
    {"stationary_", IT_OPTION_PETSC},
    {"fp_matrix_free", IT_OPTION_SWITCH},
    {NULL, 0}};

/* Reads -t_final, -output_every, -snapshot_every, -quiet, -checkpoint_every
   and -checkpoint_wall, and checks them together with the time stepper's
   -ts_dt (read by TSSetFromOptions only once the output folder exists), so
   that a value that would fail stops the run before anything is written.
   Collective. */
PetscErrorCode ItSolveSettingsFromOptions(MPI_Comm comm, ItSolveSettings *s) {
  PetscBool set_output, set_snapshot, set_dt;
  PetscReal dt = 0;

  PetscFunctionBegin;
  s->t_final          = 10.0;
  s->output_every     = -1;
  s->snapshot_every   = -1;
  s->quiet            = PETSC_FALSE;
  s->progress         = 0;
  s->checkpoint_every = 0;
  s->checkpoint_wall  = 0;
  s->share_faces      = NULL;
  s->take_faces       = NULL;
  s->share_ctx        = NULL;
  s->tight_stages     = PETSC_FALSE;
  PetscOptionsBegin(comm, NULL, "Solve options", "ItSolve");
  PetscCall(PetscOptionsReal("-t_final", "final time", NULL, s->t_final, &s->t_final, NULL));
  PetscCall(PetscOptionsReal("-output_every",
                             "time between rows of diagnostics.csv (default t_final/100)", NULL,
                             s->output_every, &s->output_every, &set_output));
  PetscCall(PetscOptionsReal("-snapshot_every",
                             "time between density snapshots (default: first and last only)", NULL,
                             s->snapshot_every, &s->snapshot_every, &set_snapshot));
  PetscCall(PetscOptionsBool("-quiet", "no progress line", NULL, s->quiet, &s->quiet, NULL));
  PetscCall(PetscOptionsReal("-progress",
                             "a line on stderr every this % of the simulated interval, also in a "
                             "batch job's log (0: none)",
                             NULL, s->progress, &s->progress, NULL));
  PetscCall(PetscOptionsReal("-checkpoint_every", "simulated time between checkpoints (0: none)",
                             NULL, s->checkpoint_every, &s->checkpoint_every, NULL));
  PetscCall(PetscOptionsReal("-checkpoint_wall", "wall-clock seconds between checkpoints (0: none)",
                             NULL, s->checkpoint_wall, &s->checkpoint_wall, NULL));
  PetscOptionsEnd();
  PetscCheck(s->t_final > 0 && !PetscIsInfOrNanReal(s->t_final), comm, PETSC_ERR_USER_INPUT,
             "-t_final must be a positive, finite time; got %g", (double)s->t_final);
  PetscCheck(
      s->progress == 0 || (s->progress > 0 && s->progress <= 100), comm, PETSC_ERR_USER_INPUT,
      "-progress must be a percentage of the interval in (0, 100], or 0 for no lines; got %g",
      (double)s->progress);
  if (!set_output) s->output_every = s->t_final / 100;
  if (!set_snapshot) s->snapshot_every = s->t_final;
  PetscCall(ItSolveCheckInterval(comm, "-output_every", s->output_every, s->t_final, PETSC_FALSE));
  PetscCall(
      ItSolveCheckInterval(comm, "-snapshot_every", s->snapshot_every, s->t_final, PETSC_FALSE));
  PetscCall(
      ItSolveCheckInterval(comm, "-checkpoint_every", s->checkpoint_every, s->t_final, PETSC_TRUE));
  PetscCheck(s->checkpoint_wall >= 0 && !PetscIsInfOrNanReal(s->checkpoint_wall), comm,
             PETSC_ERR_USER_INPUT,
             "-checkpoint_wall must be a finite number of seconds (0: none); got %g",
             (double)s->checkpoint_wall);
  PetscCall(PetscOptionsGetReal(NULL, NULL, "-ts_dt", &dt, &set_dt));
  PetscCheck(!set_dt || (dt > 0 && !PetscIsInfOrNanReal(dt)), comm, PETSC_ERR_USER_INPUT,
             "-ts_dt must be a positive, finite time step; got %g", (double)dt);
  PetscCall(ItSolveCheckSteps(comm, s));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The largest accepted product of the operator's fastest rate and t_final:
   an implicit step's (I - dt L) holds the identity only to round-off against
   dt L, and the mass drifts with that product (measured on the linear model's
   default grid: 1.6e-11 at 1.3e6, 2.6e-8 at 1.3e10, 1.5e-5 at 1.3e12, and the
   steps fail at 1.3e14). */
#define IT_SOLVE_MAX_STIFFNESS 1e10

/* The face coefficients at time t (ItFacesCompute stops the run at a
   diffusion that is not positive or a drift that is not finite), and the
   largest rate along each axis seen so far; *faces (their Scharfetter–Gummel
   coefficients alone) created at the first call. Collective. */
static PetscErrorCode ItSolveCheckFaces(ItGrid grid, ItModel model, ItFaces *faces, PetscReal t,
                                        PetscReal fastest[]) {
  PetscReal rate[IT_MAX_DIM];

  PetscFunctionBegin;
  if (!*faces) {
    PetscCall(ItFacesCreate(grid, model, faces));
    PetscCall(ItFacesSetRatesOnly(*faces)); /* -fp_order 4's weights: not read here */
  }
  PetscCall(ItFacesCompute(*faces, t));
  PetscCall(ItFacesGetMaxRates(*faces, rate));
  for (PetscInt a = 0; a < ItGridGetInfo(grid)->dim; a++)
    fastest[a] = PetscMax(fastest[a], rate[a]);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A refractory time (doc/physics.md §8.2), checked before anything is
   written: with two or more variables a model that does not depend on time
   and one threshold_reset axis (ItRefractoryCheck), and a fixed step
   (-ts_adapt_type none) no longer than it (each step re-injects what
   crossed at least τ_ref before; an adaptive step is bounded by it).
   Collective. */
static PetscErrorCode ItSolveCheckRefractory(ItGrid grid, ItModel model) {
  const ItGridInfo *info      = ItGridGetInfo(grid);
  char              adapt[64] = "";
  PetscReal         dt;
  PetscBool         set, set_adapt;

  PetscFunctionBegin;
  PetscCall(ItRefractoryCheck(grid, model));
  PetscCall(PetscOptionsGetString(NULL, NULL, "-ts_adapt_type", adapt, sizeof(adapt), &set_adapt));
  PetscCall(PetscOptionsGetReal(NULL, NULL, "-ts_dt", &dt, &set));
  if (!set || !set_adapt || strcmp(adapt, "none")) PetscFunctionReturn(PETSC_SUCCESS);
  for (PetscInt a = 0; a < info->dim; a++)
    PetscCheck(info->boundary[a] != IT_BOUNDARY_THRESHOLD_RESET || dt <= info->refractory[a] ||
                   info->refractory[a] == 0,
               info->comm, PETSC_ERR_USER_INPUT,
               "-ts_dt %g is longer than the refractory time %g (each step re-injects what "
               "crossed the threshold at least one refractory time before): give -ts_dt <= %g",
               (double)dt, (double)info->refractory[a], (double)info->refractory[a]);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The operator the solve will use, checked before anything is written: at
   t = 0, in the middle of every schedule segment before t_final and at
   t_final, and its fastest rate against t_final. Collective. */
PetscErrorCode ItSolveCheckScales(ItGrid grid, ItModel model, const ItSolveSettings *s) {
  PetscFunctionBegin;
  PetscCall(ItSolveCheckScalesFrom(grid, model, s, NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ItSolveCheckScales with the rates at t = 0 given (rate0, the faces there
   checked already: ItDiagGetStartRates), or computed (NULL). A model that
   does not depend on time and has no schedule then computes no faces.
   Collective. */
PetscErrorCode ItSolveCheckScalesFrom(ItGrid grid, ItModel model, const ItSolveSettings *s,
                                      const PetscReal rate0[]) {
  const ItGridInfo *info                = ItGridGetInfo(grid);
  ItFaces           faces               = NULL;
  PetscReal         fastest[IT_MAX_DIM] = {0}, total = 0;
  PetscInt          axis = 0;

  PetscFunctionBegin;
  PetscCall(ItSolveCheckRefractory(grid, model));
  if (rate0)
    for (PetscInt a = 0; a < info->dim; a++) fastest[a] = rate0[a];
  else
    PetscCall(ItSolveCheckFaces(grid, model, &faces, 0, fastest));
  for (PetscReal t = ItModelNextSwitch(model, 0); t < s->t_final; t = ItModelNextSwitch(model, t))
    PetscCall(ItSolveCheckFaces(grid, model, &faces,
                                0.5 * (t + PetscMin(ItModelNextSwitch(model, t), s->t_final)),
                                fastest));
  /* a model that does not depend on time has at t_final the faces of t = 0 */
  if (ItModelGetTimeDependence(model) != IT_TIME_INDEPENDENT)
    PetscCall(ItSolveCheckFaces(grid, model, &faces, s->t_final, fastest));
  PetscCall(ItFacesDestroy(&faces));
  for (PetscInt a = 0; a < info->dim; a++) {
    total += fastest[a];
    if (fastest[a] > fastest[axis]) axis = a;
  }
  PetscCall(PetscInfo(NULL, "fastest rate of the operator %g, times t_final %g\n", (double)total,
                      (double)(total * s->t_final)));
  PetscCheck(total * s->t_final <= IT_SOLVE_MAX_STIFFNESS, info->comm, PETSC_ERR_USER_INPUT,
             "the operator's fastest rate, %.3g, mostly along %s (D_%s over the cell size squared "
             "or |A_%s| over the cell size), times -t_final is %.3g, beyond %g: implicit steps "
             "would lose the mass to round-off; change the parameters that set D_%s or A_%s "
             "(infotherm info lists them), or shorten -t_final",
             (double)total, ItModelGetVariableName(model, axis),
             ItModelGetVariableName(model, axis), ItModelGetVariableName(model, axis),
             (double)(total * s->t_final), IT_SOLVE_MAX_STIFFNESS,
             ItModelGetVariableName(model, axis), ItModelGetVariableName(model, axis));
  PetscFunctionReturn(PETSC_SUCCESS);
}

typedef struct {
  ItSolveOutputFn        output;
  void                  *ctx;
  const ItSolveSettings *settings;
  PetscBool              stop, checkpoint; /* what the last poll asked for */
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

typedef struct {
  PetscReal      t0, t_final, every; /* the interval, and -progress in % of it */
  PetscInt       next;               /* the next line is at next * every % */
  PetscLogDouble start;
} ItProgressLines;

/* -progress: one line per `every` % of the simulated interval, not rewritten,
   so that a batch job's log shows how far the run got and how long it has left. */
static PetscErrorCode ItSolveProgressLines(TS ts, PetscInt step, PetscReal t, Vec p, void *ctx) {
  ItProgressLines *lines    = (ItProgressLines *)ctx;
  const double     span     = (double)(lines->t_final - lines->t0);
  const double     fraction = span > 0 ? (double)(t - lines->t0) / span : 1;
  double           wall, left;
  PetscLogDouble   now;

  PetscFunctionBegin;
  (void)ts, (void)p;
  if (100 * fraction < lines->next * (double)lines->every * (1 - 1e-9))
    PetscFunctionReturn(PETSC_SUCCESS);
  while (lines->next * (double)lines->every * (1 - 1e-9) <= 100 * fraction) lines->next++;
  PetscCall(PetscTime(&now));
  wall = now - lines->start;
  left = fraction < 1 ? wall * (1 - fraction) / fraction : 0;
  fprintf(stderr,
          "infotherm progress: %3.0f%% at t = %g of %g, step %" PetscInt_FMT
          ", %.1f s elapsed, about %.0f s left\n",
          100 * fraction, (double)t, (double)lines->t_final, step, wall, left);
  fflush(stderr);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The implicit stages: dp/dt = L(t) p with L applied matrix-free from the
   faces, and J = shift I - L assembled with its multigrid levels (ItMG). */
typedef struct {
  ItFP      fp;
  ItMG      mg;
  Mat       J;   /* shift I - L of Scharfetter-Gummel, assembled: the preconditioner */
  Mat       J4;  /* shift I - L of order 4, matrix-free (-fp_order 4), or NULL */
  Mat       P4;  /* J4 assembled, for its LU factors (ItSolveDirect: one variable), or NULL */
  ItStagePC spc; /* -fp_order 4: Jacobi or the multigrid per stage (ItStagePCCreate), or NULL */
  /* the stage tolerances (KSP rtol) of Jacobi's stages and the multigrid's; 0: the KSP's own */
  PetscReal rtol_jacobi, rtol_mg;
  TS        ts;
  SNES      snes;
  PetscBool continuous; /* the model depends on time continuously: faces at every stage time */
  PetscBool correct;    /* the stage solves' unknown is a state of the density (see below) */
  /* stage solves that fell short of their tolerance (ItSolveStageResidual) */
  Vec                r;           /* work: the true residual b - A d */
  PetscBool          unconverged; /* the last one reported success short of its tolerance */
  PetscInt           failures;    /* failed or short stage solves of this invocation */
  PetscInt           in_row;      /* of them since the last accepted step */
  PetscBool          tainted;     /* a step was accepted after a short stage solve */
  KSPConvergedReason reason;      /* of the last failed or short one */
  PetscReal          residual;    /* its relative true residual (0: not computed) */
  /* a refractory time (doc/physics.md §8.2): the outflux's history, the
     re-injection's density per unit rate, and the mass that grid and
     compartment keep together */
  ItRefractory refractory;
  Vec          reset_shape;
  PetscReal    mass0;
  ItGrid       grid;
} ItSolveStage;

/* The operator at time t: the fine faces through their one writer (the
   ItFP), then the multigrid's coarse levels. Collective. */
static PetscErrorCode ItSolveStageSetTime(ItSolveStage *st, PetscReal t) {
  PetscFunctionBegin;
  PetscCall(ItFPSetTime(st->fp, t));
  PetscCall(ItMGSetTime(st->mg, t));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* F += sign ν_in(t) r: the re-injection of what crossed the threshold
   τ_ref before t, a source known from the history (every step is at most
   τ_ref long, so t - τ_ref is never past the last accepted step); with two
   or more variables row by row, ν̃_in(y, t) (src/fp/refractory.c). */
static PetscErrorCode ItSolveRefractorySource(ItSolveStage *st, PetscReal t, PetscReal sign,
                                              Vec F) {
  ItFPClosure cl;

  PetscFunctionBegin;
  if (!st->refractory) PetscFunctionReturn(PETSC_SUCCESS);
  cl = ItFacesGetClosure(ItFPGetFaces(st->fp)); /* -fp_order 4: the closure's shape at t */
  PetscCall(ItRefractorySource(st->refractory, st->grid,
                               cl ? ItFPClosureGetShape(cl) : st->reset_shape, t, sign, F));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The state at the end of an accepted step t into the history: the rate
   ν(t) through the threshold (with two or more variables its exit field
   over the others), and the cumulative outflux
   Q(t) = mass0 - M(t) + Q(t - τ_ref), the mass that left the grid (its
   mass M) less what came back: grid and compartment keep mass0 to
   round-off. Collective. */
static PetscErrorCode ItSolveRefractoryRecord(ItSolveStage *st, ItGrid grid, PetscReal t, Vec p) {
  PetscReal        rate[IT_MAX_DIM], injected;
  PetscScalar      sum;
  const PetscReal *field = NULL;

  PetscFunctionBegin;
  if (!st->refractory) PetscFunctionReturn(PETSC_SUCCESS);
  if (st->continuous) PetscCall(ItSolveStageSetTime(st, t));
  if (ItRefractoryGetFieldSize(st->refractory)) /* two or more variables: where it crossed */
    PetscCall(ItRefractoryExitField(st->refractory, ItFPGetFaces(st->fp), grid, p, &field,
                                    &rate[ItRefractoryGetAxis(st->refractory)]));
  else
    PetscCall(ItFPThresholdRates(ItFPGetFaces(st->fp), grid, p, rate));
  PetscCall(ItRefractoryGet(st->refractory, t, NULL, &injected, NULL));
  PetscCall(VecSum(p, &sum));
  PetscCall(
      ItRefractoryPush(st->refractory, t,
                       st->mass0 - PetscRealPart(sum) * ItGridGetInfo(grid)->cell_volume + injected,
                       rate[ItRefractoryGetAxis(st->refractory)], field));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* F = dp/dt - L(t) p (implicit methods). */
static PetscErrorCode ItSolveIFunction(TS ts, PetscReal t, Vec p, Vec pdot, Vec F, void *ctx) {
  ItSolveStage *st = (ItSolveStage *)ctx;

  PetscFunctionBegin;
  (void)ts;
  if (st->continuous) PetscCall(ItSolveStageSetTime(st, t));
  PetscCall(ItFPApply(st->fp, p, F));
  PetscCall(VecAYPX(F, -1.0, pdot));
  PetscCall(ItSolveRefractorySource(st, t, -1.0, F));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* dp/dt = L(t) p (explicit methods). */
static PetscErrorCode ItSolveRHSFunction(TS ts, PetscReal t, Vec p, Vec F, void *ctx) {
  ItSolveStage *st = (ItSolveStage *)ctx;

  PetscFunctionBegin;
  (void)ts;
  if (st->continuous) PetscCall(ItSolveStageSetTime(st, t));
  PetscCall(ItFPApply(st->fp, p, F));
  PetscCall(ItSolveRefractorySource(st, t, 1.0, F));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* J = shift I - L(t) on every multigrid level, with the shift TS asks for:
   only the diagonals change when the faces did not. */
static PetscErrorCode ItSolveIJacobian(TS ts, PetscReal t, Vec p, Vec pdot, PetscReal shift, Mat J,
                                       Mat P, void *ctx) {
  ItSolveStage *st = (ItSolveStage *)ctx;

  PetscFunctionBegin;
  (void)ts, (void)p, (void)pdot, (void)J, (void)P;
  if (st->continuous) PetscCall(ItSolveStageSetTime(st, t));
  PetscCall(ItMGSetShift(st->mg, shift, 1.0));
  PetscCall(ItStagePCSetShift(st->spc, shift));
  if (!ItStagePCJacobi(st->spc)) PetscCall(ItMGSetUpCoarse(st->mg)); /* lazy with the stage PC */
  if (st->rtol_jacobi > 0) {
    KSP ksp;
    PetscCall(SNESGetKSP(st->snes, &ksp));
    PetscCall(KSPSetTolerances(ksp, ItStagePCJacobi(st->spc) ? st->rtol_jacobi : st->rtol_mg, 1e-50,
                               PETSC_DEFAULT, PETSC_DEFAULT));
  }
  if (st->J4) PetscCall(ItFPShiftedSet(st->J4, shift, 1.0, -1, 0));
  if (st->P4) PetscCall(ItFPShiftedAssemble(st->J4, st->P4));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Stage solves that fail or fall short of their tolerance. The step is
   retried with a quarter of it (TS does so after a failed stage), and the
   adaptive step is kept below half the step that failed from then on (so that
   the error control does not walk back into the failure every few steps);
   the run stops with ItSolveStageFailed after IT_SOLVE_STAGE_CUTS failures in
   one step (the step cut to 1/4^5 of what the error control chose: the solver
   does not solve) or IT_SOLVE_STAGE_FAILURES more failures than steps. */
#define IT_SOLVE_STAGE_SLACK 10
/* ItSolveTrueResidualWithin's floor: what a backward-stable solve of an ill-conditioned operator
   attains (the order-4 lif operator at 192 cells, LU: 3.3e-11 relative) */
#define IT_SOLVE_ROUNDING (1e6 * PETSC_MACHINE_EPSILON)
#define IT_SOLVE_STAGE_CUTS 5
#define IT_SOLVE_STAGE_FAILURES 10

static PetscErrorCode ItSolveStageFailure(ItSolveStage *st, KSPConvergedReason reason,
                                          PetscReal residual) {
  TSAdapt   adapt;
  PetscReal dt, hmin, hmax;

  PetscFunctionBegin;
  st->failures++;
  st->in_row++;
  st->reason   = reason;
  st->residual = residual;
  PetscCall(TSGetTimeStep(st->ts, &dt));
  PetscCall(TSGetAdapt(st->ts, &adapt));
  PetscCall(TSAdaptGetStepLimits(adapt, &hmin, &hmax));
  PetscCall(TSAdaptSetStepLimits(adapt, hmin, PetscMin(hmax, 0.5 * dt)));
  if (st->in_row > IT_SOLVE_STAGE_CUTS)
    PetscCall(TSSetConvergedReason(st->ts, TS_DIVERGED_STEP_REJECTED));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Whether the KSP stopped on its tolerance for ||b - A x|| itself (the
   unpreconditioned norm, converged on -ksp_rtol or -ksp_atol). */
static PetscErrorCode ItSolveTestedTrueResidual(KSP ksp, PetscBool *tested) {
  KSPConvergedReason reason;
  KSPNormType        norm;

  PetscFunctionBegin;
  PetscCall(KSPGetConvergedReason(ksp, &reason));
  PetscCall(KSPGetNormType(ksp, &norm));
  *tested = (PetscBool)(norm == KSP_NORM_UNPRECONDITIONED &&
                        (reason == KSP_CONVERGED_RTOL || reason == KSP_CONVERGED_ATOL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ItSolveTrueResidualWithin(KSP ksp, Vec b, Vec x, Vec r, PetscReal floor,
                                                PetscBool *reached, PetscReal *relative);

/* Whether a solve that the KSP reports converged reached its tolerance on
   the true residual: a KSP that tested ||b - A x|| itself (the
   unpreconditioned norm, converged on -ksp_rtol or -ksp_atol) is taken at its
   word; otherwise ||b - A x|| is computed (in r, a vector like b) and must
   be within IT_SOLVE_STAGE_SLACK times max(rtol ||b||, abstol). *relative:
   ||b - A x|| / ||b|| (the norm itself when b = 0), 0 when not computed.
   Collective. */
static PetscErrorCode ItSolveReachedTolerance(KSP ksp, Vec b, Vec x, Vec r, PetscBool *reached,
                                              PetscReal *relative) {
  PetscBool tested;

  PetscFunctionBegin;
  *reached  = PETSC_TRUE;
  *relative = 0;
  PetscCall(ItSolveTestedTrueResidual(ksp, &tested));
  if (tested) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(ItSolveTrueResidualWithin(ksp, b, x, r, IT_SOLVE_ROUNDING, reached, relative));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ItSolveReachedTolerance's product, whatever the KSP tested: ||b - A x||
   (computed in r) within IT_SOLVE_STAGE_SLACK max(rtol' ||b||, abstol),
   rtol' = max(rtol, floor) (a recursive residual may go below what double
   precision attains: -stationary_ksp_rtol 1e-16; floor at least
   IT_SOLVE_ROUNDING, more for an ill-conditioned operator,
   ItSolveStationaryFloor). Collective. */
static PetscErrorCode ItSolveTrueResidualWithin(KSP ksp, Vec b, Vec x, Vec r, PetscReal floor,
                                                PetscBool *reached, PetscReal *relative) {
  Mat       A;
  PetscReal rtol, abstol, bnorm, rnorm;

  PetscFunctionBegin;
  PetscCall(KSPGetOperators(ksp, &A, NULL));
  PetscCall(MatMult(A, x, r));
  PetscCall(VecAYPX(r, -1.0, b));
  PetscCall(VecNorm(r, NORM_2, &rnorm));
  PetscCall(VecNorm(b, NORM_2, &bnorm));
  PetscCall(KSPGetTolerances(ksp, &rtol, &abstol, NULL, NULL));
  rtol      = PetscMax(rtol, floor);
  *reached  = (PetscBool)(rnorm <= IT_SOLVE_STAGE_SLACK * PetscMax(rtol * bnorm, abstol));
  *relative = bnorm > 0 ? rnorm / bnorm : rnorm;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A stage solve that ends short of its tolerance must not pass as solved:
   -ksp_type preonly, -ksp_convergence_test skip or -ksp_norm_type none report
   success after -ksp_max_it iterations whatever the residual, and a
   preconditioned norm (-ksp_pc_side left) measures another residual
   (ItSolveReachedTolerance). A solve that falls short is marked, and
   ItSolveCheckStage rejects its stage as SNES does a KSP that fails outright
   (a linear solve failure). Collective. */
static PetscErrorCode ItSolveStageResidual(KSP ksp, Vec b, Vec d, ItSolveStage *st) {
  KSPConvergedReason reason;
  PetscBool          reached;
  PetscReal          relative;

  PetscFunctionBegin;
  PetscCall(KSPGetConvergedReason(ksp, &reason));
  if (reason < 0) { /* SNES fails the stage, and TSAdaptCheckStage rejects it */
    PetscCall(ItSolveStageFailure(st, reason, 0));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(ItSolveTestedTrueResidual(ksp, &reached));
  if (reached) PetscFunctionReturn(PETSC_SUCCESS);
  if (!st->r) PetscCall(VecDuplicate(b, &st->r)); /* only when the residual must be computed */
  PetscCall(ItSolveReachedTolerance(ksp, b, d, st->r, &reached, &relative));
  if (reached) PetscFunctionReturn(PETSC_SUCCESS);
  st->unconverged = PETSC_TRUE;
  PetscCall(ItSolveStageFailure(st, reason, relative));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Mass to round-off, whatever the stage tolerance. Every stage value of an
   implicit Runge–Kutta, theta or BDF step has the mass of the density at the
   step's start (the columns of L sum to zero), and so has the exact solution
   of each stage solve. SNES solves J d = F(Y0) and takes Y = Y0 - d; this
   correction replaces d by the d' with Y0 - d' = s (Y0 - d), s = mass /
   sum(Y0 - d): the stage value scaled to the exact mass (a positive factor,
   1 + O(ksp_rtol), that keeps p >= 0). The stage derivatives TS forms from
   the stage values then sum to zero, and the step's density keeps the mass to
   round-off. The mass is that of TS's current solution, the step's start, so
   a restart from a checkpoint takes the same steps bit for bit. */
static PetscErrorCode ItSolveStageMass(KSP ksp, Vec b, Vec d, void *ctx) {
  ItSolveStage *st = (ItSolveStage *)ctx;
  Vec           Y0, U;
  PetscScalar   sum0, sumd, target;
  PetscReal     mass, s;

  PetscFunctionBegin;
  if (st->spc) {
    PetscInt its;
    PetscCall(KSPGetIterationNumber(ksp, &its));
    ItStagePCCount(st->spc, its);
  }
  PetscCall(ItSolveStageResidual(ksp, b, d, st));
  if (!st->correct) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(SNESGetSolution(st->snes, &Y0));
  PetscCall(TSGetSolution(st->ts, &U));
  PetscCall(VecSum(U, &target));
  PetscCall(VecSum(Y0, &sum0));
  PetscCall(VecSum(d, &sumd));
  mass = PetscRealPart(sum0 - sumd);
  if (!(mass > 0) || PetscIsInfOrNanReal(mass)) PetscFunctionReturn(PETSC_SUCCESS);
  s = PetscRealPart(target) / mass;
  PetscCall(VecAXPBY(d, 1 - s, s, Y0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Hands every accepted step to the output function (neither row nor snapshot). */
static PetscErrorCode ItSolveStepMonitor(TS ts, PetscInt step, PetscReal t, Vec p, void *ctx) {
  ItSolveMonitorContext *mc = (ItSolveMonitorContext *)ctx;

  PetscFunctionBegin;
  (void)ts;
  PetscCall(mc->output(mc->ctx, t, step, p, PETSC_FALSE, PETSC_FALSE));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The number of output rows after t = 0: k * output_every up to t_final,
   the last at t_final. The one home of the output schedule. */
PetscInt ItSolveOutputCount(const ItSolveSettings *s) {
  const PetscReal eps = 1e-12 * s->t_final;
  PetscInt        k   = 1;

  while (k * s->output_every < s->t_final - eps) k++;
  return k;
}

/* The k-th output time (k = 0 .. ItSolveOutputCount). */
PetscReal ItSolveOutputTime(const ItSolveSettings *s, PetscInt k) {
  return k >= ItSolveOutputCount(s) ? s->t_final : k * s->output_every;
}

/* The stage tolerance: this fraction of -ts_rtol unless -ksp_rtol is given
   (mass does not need tight solves: ItSolveStageMass). */
#define IT_SOLVE_STAGE_RTOL 1e-3
/* Under -fp_order 4 the stages that take Jacobi (src/solve/stagepc.c, whose
   iterations do not depend on the ranks) a looser fraction: it moved the moments of the
   4-variable transient by at most 0.3 -ts_rtol (the time error itself is
   about 1000 -ts_rtol there) for 15 % fewer iterations. The estimates' own
   solves (ItSolveSettings' tight_stages: -error_estimate order's
   fourth-order solve, Richardson's coarse and time-error levels) keep
   IT_SOLVE_STAGE_RTOL: at 1e-2 -error_estimate order's <q>_err columns
   differed between 1 and 2 ranks by 6e-6 (1e-7 at 1e-3): doc/performance.md,
   "The 4-variable transient's stage solves". */
#define IT_SOLVE_STAGE_RTOL4 1e-2
/* GMRES's restart for the stage solves: with multigrid they take 2-5
   iterations, and each direction kept is a vector per unknown. Richardson
   iterations of the V-cycle (-ksp_type richardson -ksp_norm_type
   unpreconditioned) keep 2 vectors instead of 9 and took 0.69-0.81x the
   flops per step on one rank, but stop just under the tolerance where GMRES
   overshoots it: a run cut on 2 ranks and restarted on 1 then differs from
   the uninterrupted run by 1e-8 (tests/test_time_dependence.py asks 1e-10;
   doc/performance.md "Memory cuts, second round"). */
#define IT_SOLVE_STAGE_RESTART 5

/* The KSP types that take a right preconditioner (set before the options so
   that the tolerance applies to the true residual); another -ksp_type (cg,
   richardson, bicg, ...) stopped with "does not support preconditioner side
   RIGHT" and a trace: unless -[prefix]ksp_pc_side is given, it gets PETSc's
   default side for its type (ItSolveStageResidual checks the true residual of
   the stage solves then). */
static PetscErrorCode ItSolveKSPSide(KSP ksp) {
  static const char *const right[] = {KSPGMRES, KSPFGMRES, KSPLGMRES, KSPDGMRES, KSPPGMRES,
                                      KSPBCGS,  KSPIBCGS,  KSPFBCGS,  KSPFBCGSR, KSPBCGSL,
                                      KSPGCR,   KSPTFQMR,  KSPCGS,    KSPPREONLY};
  const char              *prefix;
  PetscBool                set, match = PETSC_FALSE;

  PetscFunctionBegin;
  PetscCall(KSPGetOptionsPrefix(ksp, &prefix));
  PetscCall(PetscOptionsHasName(NULL, prefix, "-ksp_pc_side", &set));
  for (size_t k = 0; k < sizeof(right) / sizeof(right[0]) && !match; k++)
    PetscCall(PetscObjectTypeCompare((PetscObject)ksp, right[k], &match));
  if (!set && !match) PetscCall(KSPSetPCSide(ksp, PC_SIDE_DEFAULT));
  if (set && !match) { /* a right side the method cannot take would end in PETSc's trace */
    PCSide    side = PC_LEFT;
    PetscBool given;
    PetscCall(
        PetscOptionsGetEnum(NULL, prefix, "-ksp_pc_side", PCSides, (PetscEnum *)&side, &given));
    PetscCheck(
        side != PC_RIGHT, PetscObjectComm((PetscObject)ksp), PETSC_ERR_USER_INPUT,
        "-%sksp_pc_side right: only -%sksp_type gmres, fgmres, lgmres, dgmres, pgmres, bcgs, "
        "ibcgs, fbcgs, fbcgsr, bcgsl, gcr, tfqmr or cgs take a right preconditioner; drop "
        "-%sksp_pc_side or choose one of them",
        prefix ? prefix : "", prefix ? prefix : "", prefix ? prefix : "");
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Whether a TS type's implicit solves are for states of the density (stage
   values), so that ItSolveStageMass applies, and whether it is implicit. */
static PetscErrorCode ItSolveMethodKind(TS ts, PetscBool *implicit, PetscBool *state) {
  static const char *const explicit_types[] = {TSEULER, TSRK, TSSSP};
  static const char *const state_types[]    = {TSARKIMEX, TSBEULER, TSTHETA, TSCN, TSBDF};
  TSType                   type;
  PetscBool                match;

  PetscFunctionBegin;
  PetscCall(TSGetType(ts, &type));
  *implicit = PETSC_TRUE;
  *state    = PETSC_FALSE;
  for (size_t k = 0; k < sizeof(explicit_types) / sizeof(explicit_types[0]); k++) {
    PetscCall(PetscStrcmp(type, explicit_types[k], &match));
    if (match) *implicit = PETSC_FALSE;
  }
  for (size_t k = 0; k < sizeof(state_types) / sizeof(state_types[0]); k++) {
    PetscCall(PetscStrcmp(type, state_types[k], &match));
    if (match) *state = PETSC_TRUE;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* What the time stepper read from the options, checked before its first
   step: no option of its families left unused (a misspelt -ts_rtoll), rows
   only at the output times (-ts_exact_final_time matchstep, the default: the
   others step past an output time or t_final), and a stage solve that
   reaches its tolerance or fails the step (-ksp_type preonly reports
   success after one application of any preconditioner: only a direct one,
   lu or cholesky, solves). Collective. */
static PetscErrorCode ItSolveCheckStageSolver(MPI_Comm comm, TS ts, KSP ksp) {
  static const char *const families[] = {"ts_", "ksp_", "pc_", "snes_"};
  TSExactFinalTimeOption   exact;
  KSPType                  ktype;
  PCType                   ptype;
  PC                       pc;
  PetscBool                preonly, direct = PETSC_FALSE, match;
  char                     name[32];

  PetscFunctionBegin;
  PetscCall(ItIOCheckUnusedOptions(comm, families, 4, "the time stepper (-ts_*, -ksp_*, -pc_*)"));
  PetscCall(TSGetExactFinalTime(ts, &exact));
  PetscCall(PetscStrncpy(name, TSExactFinalTimeOptions[exact], sizeof(name)));
  PetscCall(PetscStrtolower(name));
  PetscCheck(exact == TS_EXACTFINALTIME_MATCHSTEP, comm, PETSC_ERR_USER_INPUT,
             "-ts_exact_final_time %s would write rows away from the output times (or past "
             "-t_final); drop it (matchstep, the default, lands on each)",
             name);
  PetscCall(KSPGetType(ksp, &ktype));
  PetscCall(KSPGetPC(ksp, &pc));
  PetscCall(PCGetType(pc, &ptype));
  PetscCall(PetscStrcmp(ktype, KSPPREONLY, &preonly));
  for (const char *const *d = (const char *const[]){PCLU, PCCHOLESKY, PCQR, PCREDUNDANT, NULL}; *d;
       d++) {
    PetscCall(PetscStrcmp(ptype, *d, &match));
    direct = (PetscBool)(direct || match);
  }
  PetscCheck(!preonly || direct, comm, PETSC_ERR_USER_INPUT,
             "-ksp_type preonly with -pc_type %s does not solve the stages (it reports success "
             "after one application of the preconditioner); use a Krylov -ksp_type (gmres, the "
             "default) or a direct -pc_type lu",
             ptype);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The default time tolerances under -fp_order 4 (those the user did not
   set): -ts_rtol = IT_SOLVE_RTOL_RHO4 rho^4, at least IT_SOLVE_RTOL_MIN and
   at most the former rule where it is looser than IT_SOLVE_RTOL_MAX
   (IT_SOLVE_RTOL_RHO2 rho^2, at most 1e-4), and -ts_atol a hundredth of it (as
   -ts_rtol 1e-4 -ts_atol 1e-6 at order 2), with rho the fourth-order faces'
   resolution number h^2 |dA/dx| / D at t = 0 (ItFacesGetResolution). The
   rule is measured (tools/time_error_order4.py, doc/numerics.md §"Fourth
   order"): the time error, against a run at -ts_rtol 1e-10, stays below
   0.63 times the space error in every column of the rotating 2-D case
   (40^2-128^2), the fast neuron (64^2-128^2), the 3-variable chain and the
   4-D transient under the balanced fallback (below half under the face's),
   except where one column's space error crosses zero (the rotating MI at
   40^2: 1.94, a time error of 6.4e-5 against a space error of 3.3e-5). The
   binding case is the rotating one, whose space error falls as rho^4-rho^5
   there (the guard's blend turning to fourth order), not as rho^2: the former
   1.4e-5 rho^2 took 24 steps at 48^2 where 17 keep the time error at 0.07x
   the space error, and left 0.6x at 128^2. The cap keeps the former rule
   from rho = 0.85 (coarse grids in 3-5 variables, unchanged) and 1e-5 from
   rho = 0.21 to 0.85: the 4-D transient at 32^4 (rho 0.51) had its MI's time
   error at 0.51x the space error with 1e-4, 0.16x with 1e-5. A drift without slope on every face
   (constant drift, pure diffusion) has rho = 0, which says nothing about the
   density's width: there -ts_rtol is IT_SOLVE_RTOL_NO_SLOPE (not the floor,
   which took 3 times the steps of order 2 for nothing measurable). */
#define IT_SOLVE_RTOL_RHO4 0.005
#define IT_SOLVE_RTOL_MAX 1e-5
#define IT_SOLVE_RTOL_RHO2 1.4e-5
#define IT_SOLVE_RTOL_MIN 1e-10
#define IT_SOLVE_RTOL_NO_SLOPE 1e-6

/* -error_estimate richardson (or bare, or true): every grid of the estimate,
   the fine one included, keeps the former rule IT_SOLVE_RTOL_RHO2 rho^2 (at
   most 1e-4), whose time error coarsens with h^4 as the space error does,
   which the extrapolation assumes: with 0.005 rho^4 the 2-D transient of
   tests/test_error_estimate_order4.py had 26 of 30 trusted bars within 2x
   (26 of 28 with rho^2). Not collective. */
static PetscErrorCode ItSolveRichardsonAsked(PetscBool *asked) {
  char      value[32] = "";
  PetscBool set;

  PetscFunctionBegin;
  PetscCall(PetscOptionsGetString(NULL, NULL, "-error_estimate", value, sizeof(value), &set));
  *asked = set;
  for (const char *const *v = (const char *const[]){"order", "false", "no", "off", "0", NULL};
       set && *v; v++)
    if (!strcasecmp(value, *v)) *asked = PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ItSolveGridTolerances(TS ts, PetscReal rho) {
  PetscBool user_rtol, user_atol, richardson = PETSC_FALSE;
  PetscReal atol, rtol;
  PetscReal rule =
      rho <= 0 ? IT_SOLVE_RTOL_NO_SLOPE
      : rho < 1e4
          ? PetscMin(PetscMin(1e-4, PetscMax(IT_SOLVE_RTOL_MAX, IT_SOLVE_RTOL_RHO2 * rho * rho)),
                     PetscMax(IT_SOLVE_RTOL_MIN, IT_SOLVE_RTOL_RHO4 * PetscSqr(rho * rho)))
          : 1e-4;

  PetscFunctionBegin;
  PetscCall(ItSolveRichardsonAsked(&richardson));
  if (richardson && rho > 0)
    rule = PetscMin(1e-4, PetscMax(IT_SOLVE_RTOL_MIN, IT_SOLVE_RTOL_RHO2 * rho * rho));
  PetscCall(PetscOptionsHasName(NULL, NULL, "-ts_rtol", &user_rtol));
  PetscCall(PetscOptionsHasName(NULL, NULL, "-ts_atol", &user_atol));
  PetscCall(TSGetTolerances(ts, &atol, NULL, &rtol, NULL));
  PetscCall(
      TSSetTolerances(ts, user_atol ? atol : 1e-2 * rule, NULL, user_rtol ? rtol : rule, NULL));
  PetscCall(PetscInfo(ts, "-fp_order 4: resolution %g, time tolerances rtol %g, atol %g\n",
                      (double)rho, (double)(user_rtol ? rtol : rule),
                      (double)(user_atol ? atol : 1e-2 * rule)));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* One variable under -fp_order 4: the solves factor the fourth-order
   operator itself (ItFPShiftedAssemble: its stencil, the threshold's and the
   reset's closures, the pinned row), LU (MUMPS on several ranks), unless the
   options choose another preconditioner (ItSolveDirectChosen). The
   Scharfetter–Gummel matrix preconditioned it before: on the lif model at
   mu = 1.2 from 192 cells the stationary FGMRES needed more than its 100
   iterations (28-37 with that matrix's LU), and the stage solves stopped at
   their tolerance with a preconditioner that depends on the ranks (ILU on
   one, block Jacobi on several), which the adaptive steps amplified:
   entropy_production_cum of a 24-cell transient moved by 5e-5 between 1 and 3
   ranks. Factored, each solve takes one iteration, the same on every rank
   count. Collective. */
static PetscErrorCode ItSolveDirect(ItGrid grid, ItFaces faces, PC pc, PetscBool *direct) {
  PetscMPIInt size;
  const char *prefix;
  char        type[64];
  PetscBool   set;

  PetscFunctionBegin;
  *direct = (PetscBool)(ItFacesGetOrder(faces) == 4 && ItGridGetInfo(grid)->dim == 1);
  if (!*direct || !pc) PetscFunctionReturn(PETSC_SUCCESS);
  /* another preconditioner named in the options gets the Scharfetter–Gummel matrix and its
     multigrid levels, as before */
  PetscCall(PCGetOptionsPrefix(pc, &prefix));
  PetscCall(PetscOptionsGetString(NULL, prefix, "-pc_type", type, sizeof(type), &set));
  if (set) PetscCall(PetscStrcmp(type, PCLU, direct));
  if (!*direct) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCallMPI(MPI_Comm_size(ItGridGetInfo(grid)->comm, &size));
  PetscCall(PCSetType(pc, PCLU));
  if (size > 1) PetscCall(PCFactorSetMatSolverType(pc, MATSOLVERMUMPS));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The assembled fourth-order matrix of ItSolveDirect (NULL: none) joins the
   ledger's matrices, after ItSolveNoteMemory has set them; its LU factors are
   not counted (nor are the coarse levels'). Not collective. */
static PetscErrorCode ItSolveNoteDirect(Mat P4) {
  PetscReal bytes;

  PetscFunctionBegin;
  if (!P4) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(ItMemoryMatrixBytes(P4, &bytes));
  ItMemoryAdd(IT_MEMORY_MATRIX, bytes);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* After the options: whether ItSolveDirect's factorisation stayed the
   preconditioner (then the fourth-order matrix is assembled for it). */
static PetscErrorCode ItSolveDirectChosen(PC pc, PetscBool direct, PetscBool *chosen) {
  PetscFunctionBegin;
  *chosen = PETSC_FALSE;
  if (direct) PetscCall(PetscObjectTypeCompare((PetscObject)pc, PCLU, chosen));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The time stepper: a linear problem dp/dt = L(t) p, L applied matrix-free
   from the faces (reassembled at every stage time when the model depends on
   time continuously, and per segment otherwise). Implicit methods see the
   IFunction dp/dt - L p and the Jacobian shift I - L, which ItSolveIJacobian
   keeps with its multigrid levels; explicit ones the right-hand side L p.
   Defaults: ARK3(2)4L[2]SA fully implicit, adaptive (under -fp_order 4
   ARK5(4)8L[2]SA, with tolerances following the grid: ItSolveGridTolerances
   with the resolution rho); GMRES with the geometric multigrid (ItMGSetUpPC)
   to IT_SOLVE_STAGE_RTOL (order 4's Jacobi stages: IT_SOLVE_STAGE_RTOL4) times -ts_rtol, mass by
   ItSolveStageMass. */
static PetscErrorCode ItSolveCreateTS(ItGrid grid, ItSolveStage *st, const ItSolveSettings *s,
                                      PetscReal rho, TS *out) {
  const ItGridInfo *info = ItGridGetInfo(grid);
  TS                ts;
  KSP               ksp;
  PC                pc;
  Vec               residual;
  PetscBool         implicit = PETSC_TRUE, user_rtol, matrix_free, direct;
  PetscReal         rtol;

  PetscFunctionBegin;
  PetscCall(ItMGMatrixFree(grid, ItFPGetFaces(st->fp), NULL, &matrix_free));
  if (matrix_free) /* the levels from the faces: no assembled fine matrix */
    PetscCall(ItSmoothCreateOperator(grid, ItFPGetFaces(st->fp), &st->J));
  else
    PetscCall(ItFPCreateMatrix(grid, &st->J));
  PetscCall(ItMGCreate(grid, ItFPGetModel(st->fp), ItFPGetFaces(st->fp), st->J, 0, &st->mg));
  PetscCall(TSCreate(info->comm, &ts));
  st->ts = ts;
  PetscCall(TSSetProblemType(ts, TS_LINEAR));
  PetscCall(TSSetType(ts, TSARKIMEX));
  PetscCall(
      TSARKIMEXSetType(ts, ItFacesGetOrder(ItFPGetFaces(st->fp)) == 4 ? TSARKIMEX5 : TSARKIMEX3));
  PetscCall(TSARKIMEXSetFullyImplicit(ts, PETSC_TRUE));
  PetscCall(TSSetTime(ts, 0.0));
  PetscCall(TSSetTimeStep(ts, PetscMin(s->output_every, s->snapshot_every) / 20));
  PetscCall(TSSetMaxSteps(ts, PETSC_MAX_INT));
  PetscCall(TSSetExactFinalTime(ts, TS_EXACTFINALTIME_MATCHSTEP));
  PetscCall(TSSetTolerances(ts, 1e-6, NULL, 1e-4, NULL));
  PetscCall(TSGetSNES(ts, &st->snes));
  PetscCall(SNESGetKSP(st->snes, &ksp));
  PetscCall(KSPSetType(ksp, KSPGMRES));
  PetscCall(KSPGMRESSetRestart(ksp, IT_SOLVE_STAGE_RESTART));
  PetscCall(KSPSetPCSide(ksp, PC_RIGHT)); /* the tolerance applies to the true residual */
  PetscCall(KSPGetPC(ksp, &pc));
  PetscCall(ItSolveDirect(grid, ItFPGetFaces(st->fp), pc, &direct));
  if (!direct) PetscCall(ItMGSetUpPC(st->mg, pc, PC_MG_CYCLE_V, 1));
  PetscCall(KSPSetPostSolve(ksp, ItSolveStageMass, st));
  /* a failed stage solve rejects the step (a quarter of it is tried) rather than ending the
     run: ItSolveStepPoll bounds the failures, and TSSolve returns its reason to be named */
  PetscCall(TSSetMaxSNESFailures(ts, -1));
  PetscCall(TSSetErrorIfStepFails(ts, PETSC_FALSE));
  PetscCall(TSSetFromOptions(ts));
  if (ItFacesGetOrder(ItFPGetFaces(st->fp)) == 4) PetscCall(ItSolveGridTolerances(ts, rho));
  if (s->tolerance_factor > 0) { /* -error_estimate's time-error solve */
    PetscReal atol, rtol;
    PetscCall(TSGetTolerances(ts, &atol, NULL, &rtol, NULL));
    PetscCall(
        TSSetTolerances(ts, atol * s->tolerance_factor, NULL, rtol * s->tolerance_factor, NULL));
  }
  PetscCall(ItSolveMethodKind(ts, &implicit, &st->correct));
  if (st->refractory) { /* the grid alone does not keep its mass; steps at most τ_ref */
    TSAdapt   adapt;
    PetscReal hmin, hmax, dt;
    PetscBool none;
    st->correct = PETSC_FALSE;
    PetscCall(TSGetAdapt(ts, &adapt));
    PetscCall(PetscObjectTypeCompare((PetscObject)adapt, TSADAPTNONE, &none));
    PetscCall(TSAdaptGetStepLimits(adapt, &hmin, &hmax));
    if (!none) { /* a fixed step is checked against τ_ref by ItSolveTransient */
      PetscCall(
          TSAdaptSetStepLimits(adapt, hmin, PetscMin(hmax, ItRefractoryGetTime(st->refractory))));
      PetscCall(TSGetTimeStep(ts, &dt));
      PetscCall(TSSetTimeStep(ts, PetscMin(dt, ItRefractoryGetTime(st->refractory))));
    }
  }
  PetscCall(MatCreateVecs(st->J, NULL, &residual));
  if (implicit) {
    PetscCall(TSSetIFunction(ts, residual, ItSolveIFunction, st));
    /* -fp_order 4: the fourth-order operator, preconditioned by the multigrid
       of Scharfetter-Gummel levels (the fine one included) */
    if (ItFacesGetOrder(ItFPGetFaces(st->fp)) == 4)
      PetscCall(ItFPCreateShiftedFree(ItFPGetFaces(st->fp), &st->J4));
    PetscCall(ItSolveDirectChosen(pc, direct, &direct));
    if (direct) PetscCall(ItFPCreateShiftedMatrix(grid, &st->P4));
    PetscCall(
        TSSetIJacobian(ts, st->J4 ? st->J4 : st->J, st->P4 ? st->P4 : st->J, ItSolveIJacobian, st));
  } else
    PetscCall(TSSetRHSFunction(ts, residual, ItSolveRHSFunction, st));
  PetscCall(VecDestroy(&residual));
  PetscCall(ItMGCheckPC(st->mg, pc, implicit));
  if (implicit && ItFacesGetOrder(ItFPGetFaces(st->fp)) == 4)
    PetscCall(ItStagePCCreate(ksp, st->J, grid, ItFPGetFaces(st->fp), &st->spc));
  /* the coarse levels only for the stages that take the multigrid */
  if (st->spc) PetscCall(ItMGSetLazy(st->mg, PETSC_TRUE));
  PetscCall(ItSolveKSPSide(ksp));
  {
    const char *prefix;
    PetscCall(KSPGetOptionsPrefix(ksp, &prefix));
    PetscCall(PetscOptionsHasName(NULL, prefix, "-ksp_rtol", &user_rtol));
  }
  PetscCall(TSGetTolerances(ts, NULL, NULL, &rtol, NULL));
  if (!user_rtol)
    PetscCall(
        KSPSetTolerances(ksp, IT_SOLVE_STAGE_RTOL * rtol, 1e-50, PETSC_DEFAULT, PETSC_DEFAULT));
  if (!user_rtol && st->spc &&
      !s->tight_stages) { /* Jacobi's stages looser (IT_SOLVE_STAGE_RTOL4) */
    st->rtol_jacobi = IT_SOLVE_STAGE_RTOL4 * rtol;
    st->rtol_mg     = IT_SOLVE_STAGE_RTOL * rtol;
  }
  PetscCall(ItSolveCheckStageSolver(info->comm, ts, ksp));
  *out = ts;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Where output, snapshot and checkpoint times stand: the next of each is k * every. */
typedef struct {
  PetscInt out, snap, chk;
} ItSolveClock;

static void ItSolveClockStart(const ItSolveSettings *s, ItSolveClock *k) {
  k->out = k->snap = k->chk = 1;
  if (!s->restarted) return;
  k->out  = (PetscInt)PetscFloorReal(s->t0 / s->output_every + 1e-9) + 1;
  k->snap = (PetscInt)PetscFloorReal(s->t0 / s->snapshot_every + 1e-9) + 1;
  if (s->checkpoint_every > 0)
    k->chk = (PetscInt)PetscFloorReal(s->t0 / s->checkpoint_every + 1e-9) + 1;
}

/* The end of the segment that starts at t: the next output, snapshot or
   checkpoint time, t_final or a switch of a schedule, whichever comes first. */
static PetscReal ItSolveSegmentEnd(ItModel model, const ItSolveSettings *s, const ItSolveClock *k,
                                   PetscReal t) {
  PetscReal end =
      PetscMin(PetscMin(k->out * s->output_every, k->snap * s->snapshot_every), s->t_final);

  if (s->checkpoint_every > 0) end = PetscMin(end, k->chk * s->checkpoint_every);
  return PetscMin(end, ItModelNextSwitch(model, t));
}

/* The start of the segment that holds t: the latest output, snapshot or
   checkpoint time or switch at or before t (0 if none), the same value for
   every t in the segment, so that a restart in its middle recomputes what the
   uninterrupted run used. */
static PetscReal ItSolveSegmentStart(ItModel model, const ItSolveSettings *s, PetscReal t) {
  const PetscReal eps      = 1e-12 * s->t_final;
  const PetscReal every[3] = {s->output_every, s->snapshot_every, s->checkpoint_every};
  PetscReal       start = 0, sw = ItModelNextSwitch(model, -PETSC_MAX_REAL / 2);

  for (PetscInt k = 0; k < 3; k++)
    if (every[k] > 0) start = PetscMax(start, PetscFloorReal((t + eps) / every[k]) * every[k]);
  for (; sw <= t + eps; sw = ItModelNextSwitch(model, sw)) start = PetscMax(start, sw);
  return start;
}

/* A fixed step (-ts_adapt_type none): the model, the settings and -ts_dt. */
typedef struct {
  ItModel                model;
  const ItSolveSettings *settings;
  PetscReal              dt;
  ItSolveMonitorContext *monitor; /* polled after every step (ItSolveStepPoll) */
  ItSolveStage          *stage;   /* its stage solves (ItSolveCheckStage) */
} ItSolveFixed;

/* Rejects a stage whose solve ItSolveStageResidual marked short of its
   tolerance (TSAdaptSetCheckStage: TS retries the step with a quarter of
   it, as after a KSP that fails outright). */
static PetscErrorCode ItSolveCheckStage(TSAdapt adapt, TS ts, PetscReal t, Vec Y,
                                        PetscBool *accept) {
  ItSolveFixed *fixed;

  PetscFunctionBegin;
  (void)adapt, (void)t, (void)Y;
  PetscCall(TSGetApplicationContext(ts, &fixed));
  if (fixed->stage->unconverged) *accept = PETSC_FALSE;
  fixed->stage->unconverged = PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* After every step: a signal on any rank, or -checkpoint_wall, decided
   together (the interrupt function reduces over the ranks), stops TSSolve
   right after this step. A monitor cannot do it: TSStep resets the reason
   that a monitor sets before it, so the stop waited for the segment's end. */
static PetscErrorCode ItSolveStepPoll(TS ts) {
  ItSolveFixed          *fixed;
  ItSolveMonitorContext *mc;
  PetscInt               step;

  PetscFunctionBegin;
  PetscCall(TSGetApplicationContext(ts, &fixed));
  mc = fixed->monitor;
  /* a stage solve short of its tolerance that no stage check saw (a -ts_type that does
     not call TSAdaptCheckStage), or more failed stage solves than steps: stop */
  PetscCall(TSGetStepNumber(ts, &step));
  {
    Vec U;
    PetscCall(TSGetSolution(ts, &U));
    PetscCall(ItFacesSetDensity(ItFPGetFaces(fixed->stage->fp), U));
  }
  fixed->stage->in_row  = 0;
  fixed->stage->tainted = fixed->stage->unconverged;
  if (fixed->stage->refractory) {
    Vec       U;
    PetscReal t;
    PetscCall(TSGetSolution(ts, &U));
    PetscCall(TSGetTime(ts, &t));
    PetscCall(ItSolveRefractoryRecord(fixed->stage, fixed->stage->grid, t, U));
  }
  if (fixed->stage->unconverged ||
      fixed->stage->failures > IT_SOLVE_STAGE_FAILURES + step -
                                   (fixed->settings->restarted ? fixed->settings->step0 : 0))
    PetscCall(TSSetConvergedReason(ts, TS_DIVERGED_STEP_REJECTED));
  if (!mc->settings->interrupt) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(mc->settings->interrupt(mc->ctx, &mc->stop, &mc->checkpoint));
  if (mc->stop || mc->checkpoint) PetscCall(TSSetConvergedReason(ts, TS_CONVERGED_USER));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Before every fixed step: the segment is crossed in n = ceil(length/dt)
   equal steps of length/n, computed from the segment's start and end (not
   from where TS stands: TS's match of the final time leaves a round-off
   remainder that shrinks every later step), and the last one ends on the
   segment's end. A function of t and the segment alone, so a restart in the
   middle of a segment takes the uninterrupted run's steps bit for bit. */
static PetscErrorCode ItSolveFixedPreStep(TS ts) {
  ItSolveFixed *fixed;
  PetscReal     t, target, length, n, h;

  PetscFunctionBegin;
  PetscCall(TSGetApplicationContext(ts, &fixed));
  PetscCall(TSGetTime(ts, &t));
  PetscCall(TSGetMaxTime(ts, &target));
  length = target - ItSolveSegmentStart(fixed->model, fixed->settings, t);
  n      = PetscMax(1, PetscCeilReal(length / fixed->dt * (1 - 1e-9)));
  h      = length / n;
  /* a refractory time bounds every step (the re-injection's history) */
  if (fixed->stage->refractory &&
      target - t > ItRefractoryGetTime(fixed->stage->refractory) * (1 + 1e-9))
    PetscCall(TSSetTimeStep(ts, h));
  else
    PetscCall(TSSetTimeStep(ts, target - t < 1.5 * h ? target - t : h));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* After a segment that ended at t: the row, snapshot and checkpoint due there. */
static PetscErrorCode ItSolveSegmentDone(const ItSolveSettings *s, ItSolveClock *k, PetscReal t,
                                         PetscInt steps, PetscReal dt, Vec p,
                                         ItSolveOutputFn output, void *ctx) {
  const PetscReal eps      = 1e-12 * s->t_final;
  const PetscBool end      = (PetscBool)(t >= s->t_final - eps);
  const PetscBool row      = (PetscBool)(t >= k->out * s->output_every - eps);
  const PetscBool snapshot = (PetscBool)(t >= k->snap * s->snapshot_every - eps);

  PetscFunctionBegin;
  if (row) k->out++;
  if (snapshot) k->snap++;
  PetscCall(output(ctx, t, steps, p, (PetscBool)(row || end), (PetscBool)(snapshot || end)));
  if (s->checkpoint_every > 0 && t >= k->chk * s->checkpoint_every - eps) {
    k->chk++;
    if (s->checkpoint) PetscCall(s->checkpoint(ctx, t, steps, dt, p));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ItSolveNoteMemory(ItGrid grid, Mat A, Mat A4, ItMG mg, KSP ksp, TS ts,
                                        PetscInt its, PetscInt extra);

/* The time stepper stopped after stage solves that failed or fell short of
   their tolerance: one line naming the solver options to change. */
static PetscErrorCode ItSolveStageFailed(MPI_Comm comm, TS ts, const ItSolveStage *st, PetscReal t,
                                         const char saved[]) {
  KSP       ksp;
  PetscReal rtol, dt;
  char      residual[64] = "";

  PetscFunctionBegin;
  PetscCall(SNESGetKSP(st->snes, &ksp));
  PetscCall(KSPGetTolerances(ksp, &rtol, NULL, NULL, NULL));
  PetscCall(TSGetTimeStep(ts, &dt));
  if (st->residual > 0)
    PetscCall(PetscSNPrintf(residual, sizeof(residual), ", relative residual %.2g",
                            (double)st->residual));
  SETERRQ(comm, PETSC_ERR_NOT_CONVERGED,
          "at t = %.6g the stage solves do not reach their tolerance %.3g (%" PetscInt_FMT
          " failed, the last %s%s; the step was cut to %.3g): use a Krylov -ksp_type (gmres, the "
          "default), the default -pc_type mg, a larger -ksp_max_it, or -pc_type lu%s",
          (double)t, (double)rtol, st->failures, KSPConvergedReasons[st->reason], residual,
          (double)dt, saved);
}

/* A refractory time on a threshold_reset axis (doc/physics.md §8.2): the
   operator's reset leaves that axis out, its outflux is held in the
   compartment's history and re-injected τ_ref later. The compartment starts
   with what the initial density lacks of mass 1 (the stationary density's
   ν τ_ref; nothing for a density of mass 1), entered at a constant rate over
   the last τ_ref. The history is attached to p for the diagnostics (and the
   checkpoints, which hold it); a restart takes it back from the settings.
   Collective. */
static PetscErrorCode ItSolveRefractoryCreate(ItGrid grid, ItModel model, const ItSolveSettings *s,
                                              Vec p, ItSolveStage *st) {
  const ItGridInfo *info = ItGridGetInfo(grid);
  PetscScalar       sum;
  PetscReal         held;

  PetscFunctionBegin;
  PetscCall(ItRefractoryCreate(grid, model, &st->refractory));
  if (!st->refractory) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCheck(!s->restarted || s->nhistory > 0, info->comm, PETSC_ERR_USER_INPUT,
             "-restart with a refractory time (%g): the checkpoint holds no refractory history "
             "(written before checkpoints held it); run again from t = 0 (drop -restart)",
             (double)ItRefractoryGetTime(st->refractory));
  PetscCall(ItFacesSetDelayedReset(ItFPGetFaces(st->fp), PETSC_TRUE));
  PetscCall(VecDuplicate(p, &st->reset_shape));
  PetscCall(ItRefractoryResetVector(st->refractory, grid, st->reset_shape));
  if (s->restarted) { /* the history as the checkpoint holds it, bit for bit */
    PetscCall(ItRefractorySetState(st->refractory, s->nhistory, s->history));
    st->mass0 = ItRefractoryGetTotal(st->refractory);
    PetscCall(ItRefractoryAttach(st->refractory, p));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(VecSum(p, &sum));
  held = 1 - PetscRealPart(sum) * info->cell_volume;
  if (held < 1e-12) held = 0; /* a density of mass 1 (round-off): nobody refractory */
  ItRefractorySetPast(st->refractory, held / ItRefractoryGetTime(st->refractory));
  st->mass0 = PetscRealPart(sum) * info->cell_volume + held;
  ItRefractorySetTotal(st->refractory, st->mass0);
  PetscCall(ItFPSetTime(st->fp, 0));
  PetscCall(ItSolveRefractoryRecord(st, grid, 0, p));
  PetscCall(ItRefractoryAttach(st->refractory, p));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Steps p from t = 0 (or a restart's t0) to t_final, calling output at t = 0,
   at every multiple of output_every and snapshot_every, and at t_final; TS
   lands exactly on each and on every switch of a schedule. The solver owns
   the operator L. What it did goes to result. Collective. */
PetscErrorCode ItSolveTransient(ItGrid grid, ItModel model, const ItSolveSettings *s, Vec p,
                                ItSolveOutputFn output, void *ctx, ItSolveResult *result) {
  const ItGridInfo     *info = ItGridGetInfo(grid);
  TS                    ts;
  ItSolveStage          st = {0};
  PetscMPIInt           rank;
  ItProgress            progress = {s->t_final, 0, 0, PETSC_FALSE};
  ItProgressLines       lines    = {s->restarted ? s->t0 : 0, s->t_final, s->progress, 1, 0};
  ItSolveMonitorContext monitor  = {output, ctx, s, PETSC_FALSE, PETSC_FALSE};
  ItSolveClock          clock;
  PetscReal             t     = s->restarted ? s->t0 : 0;
  const PetscReal       eps   = 1e-12 * s->t_final;
  ItSolveFixed          fixed = {model, s, 0, &monitor, &st};
  TSAdapt               adapt;
  PetscBool             none;
  PetscReal             rho = PETSC_MAX_REAL; /* -fp_order 4: ItFacesGetResolution at t = 0 */

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_rank(info->comm, &rank));
  { /* the diagnostics' check at t = 0 (s->take_faces), or faces of its own */
    ItFaces faces = NULL;
    if (s->take_faces) PetscCall(s->take_faces(s->share_ctx, grid, &faces));
    PetscCall(ItFPCreateWithFaces(grid, model, faces, &st.fp));
  }
  st.grid = grid;
  PetscCall(ItSolveRefractoryCreate(grid, model, s, p, &st));
  /* -fp_order 4: the blend's guard from the density (ItFacesSetDensity), renewed after
     every step (ItSolveStepPoll) */
  PetscCall(ItFacesSetDensity(ItFPGetFaces(st.fp), p));
  if (ItFacesGetOrder(ItFPGetFaces(st.fp)) == 4) { /* the faces at t = 0: a restart's too */
    PetscCall(ItFPSetTime(st.fp, 0));
    PetscCall(ItFacesGetResolution(ItFPGetFaces(st.fp), &rho));
  }
  PetscCall(ItFPSetTime(st.fp, t));
  if (s->share_faces) PetscCall(s->share_faces(s->share_ctx, grid, ItFPGetFaces(st.fp)));
  st.continuous = (PetscBool)(ItModelGetTimeDependence(model) == IT_TIME_CONTINUOUS);
  PetscCall(ItSolveCreateTS(grid, &st, s, rho, &ts));
  PetscCall(TSGetAdapt(ts, &adapt));
  PetscCall(TSAdaptSetCheckStage(adapt, ItSolveCheckStage));
  PetscCall(PetscObjectTypeCompare((PetscObject)adapt, TSADAPTNONE, &none));
  PetscCall(TSSetApplicationContext(ts, &fixed));
  PetscCall(TSSetPostStep(ts, ItSolveStepPoll));
  if (none) {
    PetscCall(TSGetTimeStep(ts, &fixed.dt)); /* -ts_dt, not a restart's last step */
    PetscCall(TSSetPreStep(ts, ItSolveFixedPreStep));
    PetscCheck(!st.refractory || fixed.dt <= ItRefractoryGetTime(st.refractory), info->comm,
               PETSC_ERR_USER_INPUT,
               "-ts_dt %g is longer than the refractory time %g (each step re-injects what "
               "crossed the threshold at least one refractory time before): give -ts_dt <= %g",
               (double)fixed.dt, (double)ItRefractoryGetTime(st.refractory),
               (double)ItRefractoryGetTime(st.refractory));
  }
  if (!s->quiet && rank == 0 && s->progress > 0) { /* lines, on a terminal too */
    PetscCall(PetscTime(&lines.start));
    PetscCall(TSMonitorSet(ts, ItSolveProgressLines, &lines, NULL));
  } else if (!s->quiet && rank == 0 && isatty(2)) {
    PetscCall(PetscTime(&progress.start));
    PetscCall(TSMonitorSet(ts, ItSolveProgress, &progress, NULL));
  }
  PetscCall(TSMonitorSet(ts, ItSolveStepMonitor, &monitor, NULL));
  result->steps       = 0;
  result->interrupted = PETSC_FALSE;
  ItSolveClockStart(s, &clock);
  if (s->restarted) {
    PetscInt  max_steps;
    PetscBool set;
    PetscCall(TSSetTime(ts, s->t0));
    PetscCall(TSSetStepNumber(ts, s->step0));
    PetscCall(TSSetTimeStep(ts, s->dt0));
    /* -ts_max_steps counts this invocation's steps: every requeued job makes progress */
    PetscCall(PetscOptionsGetInt(NULL, NULL, "-ts_max_steps", &max_steps, &set));
    if (set) PetscCall(TSSetMaxSteps(ts, s->step0 + max_steps));
  } else
    PetscCall(output(ctx, 0.0, 0, p, PETSC_TRUE, PETSC_TRUE));
  while (t < s->t_final - eps && !result->interrupted) {
    const PetscReal   target = ItSolveSegmentEnd(model, s, &clock, t);
    PetscReal         dt;
    PetscInt          steps;
    TSConvergedReason reason;

    PetscCall(TSSetMaxTime(ts, target));
    /* a held schedule's value inside this segment (the switches are segment ends) */
    PetscCall(ItSolveStageSetTime(&st, 0.5 * (t + target)));
    PetscCall(TSSolve(ts, p));
    PetscCall(TSGetSolveTime(ts, &t));
    PetscCall(TSGetStepNumber(ts, &steps));
    PetscCall(TSGetTimeStep(ts, &dt));
    PetscCall(TSGetConvergedReason(ts, &reason));
    if (reason < 0) { /* p is the last accepted step's: a checkpoint to go on from */
      char saved[96] = "";
      if (s->checkpoint && !st.tainted) {
        PetscCall(s->checkpoint(ctx, t, steps, dt, p));
        PetscCall(PetscSNPrintf(saved, sizeof(saved),
                                "; the state at t = %.6g is checkpointed (-restart auto goes on)",
                                (double)t));
      }
      if (st.failures > 0) PetscCall(ItSolveStageFailed(info->comm, ts, &st, t, saved));
      SETERRQ(info->comm, PETSC_ERR_NOT_CONVERGED,
              "the time stepper failed at t = %.6g (%s); try a smaller -ts_dt or -ts_rtol%s",
              (double)t, TSConvergedReasons[reason], saved);
    }
    result->steps = steps;
    if (t >= target - eps) PetscCall(ItSolveSegmentDone(s, &clock, t, steps, dt, p, output, ctx));
    /* stopped early (a signal, -checkpoint_wall, -ts_max_steps), or a signal in the segment's last
     * step */
    if (t < target - eps || monitor.stop) {
      if (s->checkpoint) PetscCall(s->checkpoint(ctx, t, steps, dt, p));
      result->interrupted = (PetscBool)(monitor.stop || reason == TS_CONVERGED_ITS);
    }
  }
  result->t_end = t;
  if (progress.shown) fprintf(stderr, "\n");
  {
    KSP ksp;
    PetscCall(SNESGetKSP(st.snes, &ksp));
    /* the stage solves' iterations are not kept: GMRES counted at its restart; the true
       residual's vector of ItSolveStageResidual when it was needed */
    PetscCall(ItSolveNoteMemory(grid, st.J, st.J4, st.mg, ksp, ts, PETSC_MAX_INT,
                                (st.r ? 1 : 0) + ItStagePCVectors(st.spc)));
    PetscCall(ItSolveNoteDirect(st.P4));
  }
  PetscCall(TSDestroy(&ts));
  PetscCall(ItStagePCDestroy(&st.spc));
  PetscCall(ItMGDestroy(&st.mg));
  PetscCall(MatDestroy(&st.J));
  PetscCall(MatDestroy(&st.J4));
  PetscCall(MatDestroy(&st.P4));
  PetscCall(VecDestroy(&st.r));
  if (s->share_faces) PetscCall(s->share_faces(s->share_ctx, grid, NULL));
  PetscCall(ItFPDestroy(&st.fp));
  if (st.refractory) PetscCall(ItRefractoryAttach(NULL, p));
  PetscCall(ItRefractoryDestroy(&st.refractory));
  PetscCall(VecDestroy(&st.reset_shape));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The solver's share of the memory ledger on this process, from its objects
   while they exist: the assembled operators (MatGetInfo) and a refractory
   time's dense re-entry maps (ItReentryBytes), the multigrid
   (ItMGNoteMemory), the Krylov method's vectors and `extra` vectors of the
   caller's, and the time stepper's (ARKIMEX: Y, YdotI and YdotRHS per stage
   and 3 work vectors; another method 2 per stage and 3; the nonlinear
   solver's update and function and the residual, 3 more). GMRES allocates
   its vectors as a cycle needs them: 5, then 10 more at a time, up to its
   restart plus 4; `its`, the most iterations of one solve (an upper bound
   will do), says how many it reached. FGMRES keeps as many preconditioned
   directions again; another method is counted as 6. Not collective. */
static PetscErrorCode ItSolveNoteMemory(ItGrid grid, Mat A, Mat A4, ItMG mg, KSP ksp, TS ts,
                                        PetscInt its, PetscInt extra) {
  const ItGridInfo *info = ItGridGetInfo(grid);
  const PetscReal   vec  = (PetscReal)info->nlocal * sizeof(PetscScalar);
  PetscReal         a, a4;
  PetscInt          restart = 0, vectors = 6, ns = 0;
  PetscBool         gmres, fgmres, arkimex, richardson;

  PetscFunctionBegin;
  PetscCall(ItMemoryMatrixBytes(A, &a));
  PetscCall(ItMemoryMatrixBytes(A4, &a4));
  ItMemorySet(IT_MEMORY_MATRIX, a + a4 + ItReentryBytes()); /* and a refractory time's dense map */
  PetscCall(ItMGNoteMemory(mg));
  PetscCall(PetscObjectTypeCompare((PetscObject)ksp, KSPGMRES, &gmres));
  PetscCall(PetscObjectTypeCompare((PetscObject)ksp, KSPFGMRES, &fgmres));
  PetscCall(PetscObjectTypeCompare((PetscObject)ksp, KSPRICHARDSON, &richardson));
  if (richardson) vectors = 2; /* KSPSetUp_Richardson's work vectors */
  if (gmres || fgmres) {
    PetscInt need;
    PetscCall(KSPGMRESGetRestart(ksp, &restart));
    need    = PetscMin(its, restart) + 3; /* a cycle of k iterations uses k + 3 */
    vectors = need <= 5 ? 5 : PetscMin(restart + 4, 5 + 10 * ((need - 5 + 9) / 10));
    if (fgmres) vectors += PetscMin(its, restart) + 1;
  }
  ItMemorySet(IT_MEMORY_KRYLOV, (PetscReal)(vectors + extra) * vec);
  if (ts) {
    PetscCall(TSGetStages(ts, &ns, NULL));
    PetscCall(PetscObjectTypeCompare((PetscObject)ts, TSARKIMEX, &arkimex));
    if (arkimex && ns == 0) { /* PETSc 3.18's ARKIMEX does not say: its tableaux' stages */
      static const char *const types[]  = {"1bee",   "a2", "l2",   "ars122", "2c", "2d", "2e",
                                           "prssp2", "3",  "bpr3", "ars443", "4",  "5"};
      static const PetscInt    stages[] = {3, 2, 2, 2, 3, 3, 3, 3, 4, 5, 5, 6, 8};
      TSARKIMEXType            type;
      PetscBool                match;
      PetscCall(TSARKIMEXGetType(ts, &type));
      for (size_t k = 0; k < sizeof(stages) / sizeof(stages[0]); k++) {
        PetscCall(PetscStrcmp(type, types[k], &match));
        if (match) ns = stages[k];
      }
    }
    ItMemorySet(IT_MEMORY_STAGES, (PetscReal)((arkimex ? 3 : 2) * ns + 3 + 3) * vec);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The stationary solve's iterations per method, and the largest grid whose
   LU factors its last fallback takes (256^2, 40^3). */
#define IT_SOLVE_STATIONARY_MAX_IT 2000
#define IT_SOLVE_LU_MAX 65536

/* -fp_order 4's stationary solve: FGMRES's restart and the fine level's
   GMRES sweeps (2 took 14-20 iterations at 64^2 on 1-4 ranks, 3 took 11-13,
   the same number of fourth-order products per solve). FGMRES orthogonalises
   by modified Gram-Schmidt (measured 2026-12-06 on the 4-D linear model of
   tools/accuracy_order4.py at 24^4, whose levels go down to 3^4 cells): with
   classical Gram-Schmidt its residual estimate left the true residual from
   the third iteration on (the Arnoldi basis losing its orthogonality: the
   preconditioned directions nearly parallel, likely along the pinned
   system's near-null direction, the density, in every W-cycle's output) and
   FGMRES(20) stagnated (true residual 4 times its own estimate and 100 times
   the right-hand side after 100 iterations; the BoomerAMG fall-back then
   took 115 more); with modified Gram-Schmidt each restart gains 4-5 decades
   in 8-9 iterations before the estimate drifts from the true residual, and
   FGMRES(20) converged in 51 (FGMRES(10) in 33, but the 1-D lif model at 64
   cells, tests/test_boundary_order4.py, then stalled: 36 with 20). The 2-D
   rotating case takes 11-13 iterations either way (64^2 to 256^2). */
#define IT_SOLVE_FOURTH_RESTART 20
#define IT_SOLVE_FOURTH_SWEEPS 3
/* ... and its iterations before the fall-back methods take over: the
   solves that converge take 11-40. */
#define IT_SOLVE_FOURTH_MAX_IT 100

/* KSPSetFromOptions (or PCSetFromOptions, when pc is given) with the
   BoomerAMG defaults of ItSolveStationaryKSP that the user did not set. */
static PetscErrorCode ItSolveFromOptionsHypre(KSP ksp, PC pc) {
  static const char *const defaults[][2] = {
      {"-stationary_pc_hypre_boomeramg_coarsen_type", "HMIS"},
      {"-stationary_pc_hypre_boomeramg_interp_type", "ext+i"},
      {"-stationary_pc_hypre_boomeramg_P_max", "4"},
      {"-stationary_pc_hypre_boomeramg_agg_nl", "1"},
  };
  PetscBool inserted[sizeof(defaults) / sizeof(defaults[0])];

  PetscFunctionBegin;
  for (size_t k = 0; k < sizeof(defaults) / sizeof(defaults[0]); k++) {
    PetscBool set;
    PetscCall(PetscOptionsHasName(NULL, NULL, defaults[k][0], &set));
    inserted[k] = (PetscBool)!set;
    if (!set) PetscCall(PetscOptionsSetValue(NULL, defaults[k][0], defaults[k][1]));
  }
  if (pc)
    PetscCall(PCSetFromOptions(pc));
  else
    PetscCall(KSPSetFromOptions(ksp));
  for (size_t k = 0; k < sizeof(defaults) / sizeof(defaults[0]); k++)
    if (inserted[k]) PetscCall(PetscOptionsClearValue(NULL, defaults[k][0]));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Under -fp_order 4 the fine multigrid level smooths with GMRES sweeps
   (ItMGSetFineKrylov), not a fixed linear map: an outer method that is not
   flexible would report a residual that is not the true one. Refused, unless
   the options chose the fine level's smoother or another preconditioner.
   Collective. */
static PetscErrorCode ItSolveCheckFlexible(KSP ksp, PC pc) {
  PetscBool flexible, mg, krylov = PETSC_FALSE;
  PetscInt  levels;
  KSP       smoother;
  KSPType   type;

  PetscFunctionBegin;
  PetscCall(PetscObjectTypeCompareAny((PetscObject)ksp, &flexible, KSPFGMRES, KSPGCR, KSPFCG, ""));
  PetscCall(PetscObjectTypeCompare((PetscObject)pc, PCMG, &mg));
  if (flexible || !mg) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PCMGGetLevels(pc, &levels));
  if (levels > 1) { /* the levels read their options at set-up: a smoother the user chose counts */
    char      level[64];
    PetscBool chosen, chosen_level;
    PetscCall(PCMGGetSmoother(pc, levels - 1, &smoother));
    PetscCall(PetscObjectTypeCompareAny((PetscObject)smoother, &krylov, KSPGMRES, KSPFGMRES,
                                        KSPBCGS, KSPGCR, KSPCG, ""));
    PetscCall(PetscSNPrintf(level, sizeof(level),
                            "-stationary_mg_levels_%" PetscInt_FMT "_ksp_type", levels - 1));
    PetscCall(PetscOptionsHasName(NULL, NULL, "-stationary_mg_levels_ksp_type", &chosen));
    PetscCall(PetscOptionsHasName(NULL, NULL, level, &chosen_level));
    if (chosen || chosen_level) krylov = PETSC_FALSE;
  }
  PetscCall(KSPGetType(ksp, &type));
  PetscCheck(!krylov, PetscObjectComm((PetscObject)ksp), PETSC_ERR_USER_INPUT,
             "-stationary_ksp_type %s: under -fp_order 4 the finest multigrid level smooths with "
             "GMRES sweeps, which needs a flexible outer method: use -stationary_ksp_type fgmres "
             "(the default) or gcr, or choose the smoother (-stationary_mg_levels_ksp_type)",
             type);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The stationary multigrid's cycle and sweeps (ItMGSetSmoothing): symmetric
   Gauss–Seidel sweeps (-stationary_mg_sweeps), the pre-smoothing's residual
   from the sweep, and with at least IT_SOLVE_FINE_V_LEVELS levels at
   -fp_order 2 a V-cycle from the fine level to the next and W-cycles below
   (-stationary_mg_fine_v). Measured 2026-12-06 (doc/performance.md "Fewer
   flops per stationary solve", fine-MatMult equivalents by flops): 1024^2
   146.4 and 147.2 on 1 and 2 ranks (11 iterations each) against 159 and 178
   with W-cycles from the fine level (10 and 11); from 4 levels on (256^2 and
   up, 64^3) the V saved 2-12 % for 1-2 iterations more, with 3 (128^2) it
   cost 7-14 % (the torus of tests/test_periodic_mg.py 10 -> 13 iterations,
   input/inference.opts 16 -> 19), and at -fp_order 4 10 % (12 -> 14).
   One-direction sweeps halve the smoothing but took 2-4 iterations more,
   which cost more. -stationary_pc_mg_cycle_type sets every level's cycle
   after this. Collective. */
#define IT_SOLVE_FINE_V_LEVELS 4
/* The options of ItSolveStationarySmoothing (also for -help): their
   defaults for a multigrid of `levels` levels. Collective. */
PetscErrorCode ItSolveStationarySmoothingFromOptions(MPI_Comm comm, PetscInt levels,
                                                     PetscBool fourth, ItSmoothDirection *direction,
                                                     PetscBool *fine_v, PetscInt *next_post) {
  static const char *const sweeps[] = {"symmetric",         "alternating", "symmetric_backward",
                                       "ItSmoothDirection", "IT_SMOOTH_",  NULL};
  char                     help[256];

  PetscFunctionBegin;
  *fine_v    = (PetscBool)(!fourth && levels >= IT_SOLVE_FINE_V_LEVELS);
  *direction = IT_SMOOTH_SYMMETRIC;
  PetscCall(PetscSNPrintf(help, sizeof(help),
                          "a V-cycle from the fine level to the next, W-cycles below (default: "
                          "with at least %d levels at -fp_order 2; false: W-cycles throughout; "
                          "-stationary_pc_mg_cycle_type sets every level's cycle and overrides it)",
                          IT_SOLVE_FINE_V_LEVELS));
  PetscOptionsBegin(comm, "stationary_", "Stationary multigrid", "ItSolve");
  PetscCall(PetscOptionsBool("-mg_fine_v", help, NULL, *fine_v, fine_v, NULL));
  *next_post = *fine_v ? 2 : 1;
  PetscCall(PetscOptionsInt("-mg_next_post_sweeps",
                            "post-smoothing sweeps on the level below the fine one (default: 2 "
                            "with -stationary_mg_fine_v, else 1; levels from the faces only, "
                            "multiplicative and full cycles only)",
                            NULL, *next_post, next_post, NULL));
  PetscCheck(*next_post >= 1, comm, PETSC_ERR_USER_INPUT,
             "-stationary_mg_next_post_sweeps must be at least 1; got %" PetscInt_FMT, *next_post);
  PetscCall(PetscOptionsEnum("-mg_sweeps",
                             "the level smoothers' Gauss-Seidel sweeps on the faces: symmetric, "
                             "alternating (forward before the coarse correction, backward after), "
                             "symmetric_backward (symmetric before, backward after); levels from "
                             "the faces only (-fp_matrix_free), symmetric under Kaskade",
                             NULL, sweeps, (PetscEnum)*direction, (PetscEnum *)direction, NULL));
  PetscOptionsEnd();
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ItSolveStationarySmoothingFromOptions's sweeps apply to the levels from
   their faces only: on assembled levels (-fp_matrix_free false, or a model
   whose faces the sweeps do not support) an explicit -stationary_mg_sweeps
   or -stationary_mg_next_post_sweeps is refused rather than ignored. With
   `direct` the options are read (so they are not taken for misspellings)
   and left. *direction: the sweeps chosen. Collective. */
static PetscErrorCode ItSolveStationarySmoothing(ItMG mg, PC pc, PetscBool fourth, PetscBool direct,
                                                 MPI_Comm comm, ItSmoothDirection *direction) {
  static const char *const faces_only[] = {"-stationary_mg_sweeps",
                                           "-stationary_mg_next_post_sweeps"};
  PetscBool                fine_v;
  PetscInt                 next;

  PetscFunctionBegin;
  PetscCall(ItSolveStationarySmoothingFromOptions(comm, ItMGGetLevels(mg), fourth, direction,
                                                  &fine_v, &next));
  if (direct) PetscFunctionReturn(PETSC_SUCCESS);
  for (size_t k = 0; k < sizeof(faces_only) / sizeof(faces_only[0]); k++) {
    PetscBool set;
    PetscCall(PetscOptionsHasName(NULL, NULL, faces_only[k], &set));
    PetscCheck(!set || ItMGGetMatrixFree(mg) || ItMGGetLevels(mg) < 2, comm, PETSC_ERR_USER_INPUT,
               "%s sets the sweeps of multigrid levels applied from their faces, but this "
               "model's levels are assembled (-fp_matrix_free false, or a model the face "
               "sweeps do not support) and smooth with PETSc's SOR: drop %s, or use "
               "-fp_matrix_free true where the model allows it",
               faces_only[k], faces_only[k]);
  }
  PetscCall(ItMGSetSmoothing(mg, pc, *direction, fine_v, next));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* After the options: under a PCMG type other than multiplicative or full
   the level smoothers become one fixed map (ItMGSetSmoothingFixed), and
   sweeps that differ before and after the coarse correction, which such a
   cycle cannot tell apart, are refused. Collective. */
static PetscErrorCode ItSolveStationaryCycleCheck(ItMG mg, PC pc, ItSmoothDirection direction,
                                                  MPI_Comm comm) {
  PetscBool fixed;
  PCMGType  type;

  PetscFunctionBegin;
  PetscCall(ItMGSetSmoothingFixed(mg, pc, &fixed));
  if (!fixed) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PCMGGetType(pc, &type));
  PetscCheck(direction == IT_SMOOTH_SYMMETRIC || type != PC_MG_KASKADE || !ItMGGetMatrixFree(mg),
             comm, PETSC_ERR_USER_INPUT,
             "-stationary_mg_sweeps %s with -stationary_pc_mg_type kaskade: a Kaskade cycle "
             "smooths each level once per apply and cannot tell a pre- from a post-smoothing; "
             "use -stationary_mg_sweeps symmetric or another -stationary_pc_mg_type",
             direction == IT_SMOOTH_ALTERNATING ? "alternating" : "symmetric_backward");
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The stationary solve's KSP, options prefix stationary_ (so -stationary_ksp_type,
   -stationary_pc_type tune it apart from the time stepper's -ksp_*, -pc_*).
   Defaults: GMRES with the geometric multigrid of ItMG (its levels pinned
   like the fine grid; W-cycles, and at order 2 with IT_SOLVE_FINE_V_LEVELS
   levels or more a V-cycle from the fine level: ItSolveStationarySmoothing),
   to 1e-12 of the right-hand side; the true residual is checked once at the
   end (ItSolveStationaryConverged). BiCGStab keeps 7
   vectors where GMRES keeps 17, but stalls near 1e-14 of the right-hand side
   (on the 3-D Hebbian model), which tight tolerances need to pass. On a grid that does not halve
   (an odd number of cells on an axis) and with -stationary_pc_type hypre: BoomerAMG with HMIS
   coarsening and extended+i interpolation with aggressive coarsening (8x faster than BoomerAMG's
   defaults on 128^3 and half the memory). PCHYPRE reads its BoomerAMG settings only from the
   options database, so the defaults the user did not set are inserted for KSPSetFromOptions and
   removed right after: nothing of them stays in the database (or in
   snapshots). With `fourth` (-fp_order 4, the matrix-free operator against
   the Scharfetter–Gummel multigrid): FGMRES(IT_SOLVE_FOURTH_RESTART) around
   the W-cycle whose fine level smooths with IT_SOLVE_FOURTH_SWEEPS GMRES
   sweeps on the fourth-order operator (ItMGSetFineKrylov), the same
   iterations on 1-4 ranks (11-13 on the rotating 2-D case from 64^2 to
   256^2, where Richardson-SOR took 21-57 and up to 1.6x more on 2 ranks). */
static PetscErrorCode ItSolveStationaryKSP(ItGrid grid, ItFaces faces, ItMG mg, Mat A,
                                           PetscBool fourth, PetscBool *direct, KSP *ksp) {
  const MPI_Comm    comm = ItGridGetInfo(grid)->comm;
  PC                pc;
  ItSmoothDirection direction;

  PetscFunctionBegin;
  PetscCall(KSPCreate(comm, ksp));
  PetscCall(KSPSetOptionsPrefix(*ksp, "stationary_"));
  PetscCall(KSPSetOperators(*ksp, A, A));
  PetscCall(KSPSetType(*ksp, KSPGMRES));
  PetscCall(KSPSetPCSide(*ksp, PC_RIGHT)); /* the tolerance applies to the true residual */
  PetscCall(KSPGetPC(*ksp, &pc));
  PetscCall(PCSetType(pc, PCHYPRE));
  PetscCall(ItSolveDirect(grid, faces, pc, direct));
  if (!*direct) PetscCall(ItMGSetUpPC(mg, pc, PC_MG_CYCLE_W, 1));
  PetscCall(ItSolveStationarySmoothing(mg, pc, fourth, *direct, comm, &direction));
  if (fourth) {
    PetscCall(KSPSetType(*ksp, KSPFGMRES)); /* the smoother below is not a fixed linear map */
    PetscCall(KSPGMRESSetRestart(*ksp, IT_SOLVE_FOURTH_RESTART));
    PetscCall(KSPGMRESSetOrthogonalization(*ksp, KSPGMRESModifiedGramSchmidtOrthogonalization));
    if (!*direct) PetscCall(ItMGSetFineKrylov(mg, pc, IT_SOLVE_FOURTH_SWEEPS));
  }
  PetscCall(KSPSetTolerances(*ksp, 1e-12, 1e-300, PETSC_DEFAULT,
                             fourth ? IT_SOLVE_FOURTH_MAX_IT : IT_SOLVE_STATIONARY_MAX_IT));
  PetscCall(ItSolveFromOptionsHypre(*ksp, NULL));
  PetscCall(ItSolveKSPSide(*ksp));
  if (fourth) PetscCall(ItSolveCheckFlexible(*ksp, pc));
  PetscCall(ItMGCheckPC(mg, pc, PETSC_TRUE));
  if (!*direct) PetscCall(ItSolveStationaryCycleCheck(mg, pc, direction, comm));
  PetscCall(ItSolveDirectChosen(pc, *direct, direct));
  PetscCall(ItIOCheckUnusedOptions(
      comm, (const char *const[]){"stationary_ksp_", "stationary_pc_", "stationary_mg_"}, 3,
      "the stationary solve (-stationary_ksp_*, -stationary_pc_*, -stationary_mg_*)"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The stationary KSP's method, as "gmres(30)+mg". */
static PetscErrorCode ItSolveMethodName(KSP ksp, char name[], size_t len) {
  KSPType   ktype;
  PCType    ptype;
  PC        pc;
  PetscInt  restart = 0;
  PetscBool gmres;
  char      krylov[32];

  PetscFunctionBegin;
  PetscCall(KSPGetType(ksp, &ktype));
  PetscCall(KSPGetPC(ksp, &pc));
  PetscCall(PCGetType(pc, &ptype));
  PetscCall(PetscObjectTypeCompare((PetscObject)ksp, KSPGMRES, &gmres));
  if (gmres) PetscCall(KSPGMRESGetRestart(ksp, &restart));
  if (gmres)
    PetscCall(PetscSNPrintf(krylov, sizeof(krylov), "gmres(%" PetscInt_FMT ")", restart));
  else
    PetscCall(PetscStrncpy(krylov, ktype, sizeof(krylov)));
  PetscCall(PetscSNPrintf(name, len, "%s+%s", krylov, ptype));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* KSPSetOperators(ksp, Amat, P), with P assembled first when it is applied
   from the faces (ItSmoothCreateOperator) and the preconditioner is not the
   multigrid that works with it (the fall-backs' BoomerAMG and LU need
   entries). Collective. */
static PetscErrorCode ItSolveSetOperators(KSP ksp, Mat Amat, Mat P) {
  PC        pc;
  PetscBool mg;
  Mat       J;

  PetscFunctionBegin;
  PetscCall(KSPGetPC(ksp, &pc));
  PetscCall(PetscObjectTypeCompare((PetscObject)pc, PCMG, &mg));
  if (mg || !ItSmoothIsOperator(P)) {
    PetscCall(KSPSetOperators(ksp, Amat, P));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(ItSmoothOperatorAssemble(P, &J));
  PetscCall(KSPSetOperators(ksp, Amat == P ? J : Amat, J));
  PetscCall(MatDestroy(&J));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The method after a failed stationary solve (step 0, 1): GMRES(100) with
   BoomerAMG on the assembled Scharfetter-Gummel matrix (on the stiff 3-D
   chains where GMRES with the geometric multigrid broke down, GMRES(100) with
   it broke down too, and BoomerAMG converged in about 120 iterations); then
   GMRES(100) with its LU factors (MUMPS on more than one rank) on grids of at
   most IT_SOLVE_LU_MAX cells. Each may take IT_SOLVE_STATIONARY_MAX_IT
   iterations whatever -stationary_ksp_max_it, which bounds the first method
   only. *more: whether there was a method left to try. */
static PetscErrorCode ItSolveNextMethod(ItGrid grid, KSP ksp, PetscInt step, PetscBool *more) {
  const ItGridInfo *info = ItGridGetInfo(grid);
  PC                pc;
  PetscBool         hypre;
  PetscMPIInt       size;

  PetscFunctionBegin;
  PetscCall(KSPGetPC(ksp, &pc));
  PetscCall(PetscObjectTypeCompare((PetscObject)pc, PCHYPRE, &hypre));
  PetscCallMPI(MPI_Comm_size(info->comm, &size));
  *more = (PetscBool)(step == 0 || (step == 1 && ItGridCellCount(grid) <= IT_SOLVE_LU_MAX));
  if (!*more) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(KSPSetType(ksp, KSPGMRES));
  PetscCall(KSPGMRESSetRestart(ksp, 100));
  PetscCall(KSPSetTolerances(ksp, PETSC_DEFAULT, PETSC_DEFAULT, PETSC_DEFAULT,
                             IT_SOLVE_STATIONARY_MAX_IT));
  if (step == 0 && !hypre) {
    PetscCall(PCSetType(pc, PCHYPRE));
    PetscCall(PCHYPRESetType(pc, "boomeramg"));
    PetscCall(ItSolveFromOptionsHypre(NULL, pc));
  } else if (step == 1) {
    PetscCall(PCSetType(pc, PCLU));
    if (size > 1) PetscCall(PCFactorSetMatSolverType(pc, MATSOLVERMUMPS));
  }
  {
    Mat Amat, Pmat;
    PetscCall(KSPGetOperators(ksp, &Amat, &Pmat));
    PetscCall(ItSolveSetOperators(ksp, Amat, Pmat));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The relative residual a backward-stable solve attains on the grid's
   operator: about its condition number times the rounding unit, which for a
   diffusion operator grows as the square of the cells along the longest
   axis (8192 cells in 1-D, the lif model with a refractory time: GMRES's
   true residual stagnates at 7.8e-8 while its recursive one falls to 6e-13),
   at least IT_SOLVE_ROUNDING. Not collective. */
static PetscReal ItSolveStationaryFloor(ItGrid grid) {
  const ItGridInfo *info = ItGridGetInfo(grid);
  PetscReal         n    = 1;

  for (PetscInt a = 0; a < info->dim; a++) n = PetscMax(n, (PetscReal)info->n[a]);
  return PetscMax(IT_SOLVE_ROUNDING, 10 * PETSC_MACHINE_EPSILON * n * n);
}

/* Whether a stationary solve converged: a KSP that diverged did not, and one
   that reports success must have ‖b − A p‖ within IT_SOLVE_STAGE_SLACK times
   its tolerance (computed whatever the KSP tested: GMRES's recursive residual
   can drift from the true one under a preconditioner that varies, and falls
   below what double precision attains). why: the KSP's reason, or "short of
   its tolerance". *relative: ‖b − A p‖ / ‖b‖, the residual that stationary
   reports (0 when the KSP diverged). Collective. */
static PetscErrorCode ItSolveStationaryConverged(ItGrid grid, KSP ksp, Vec b, Vec p, PetscBool *ok,
                                                 PetscReal *relative, char why[], size_t len) {
  KSPConvergedReason reason;
  Vec                r;

  PetscFunctionBegin;
  PetscCall(KSPGetConvergedReason(ksp, &reason));
  PetscCall(PetscStrncpy(why, KSPConvergedReasons[reason], len));
  *relative = 0;
  *ok       = (PetscBool)(reason > 0);
  if (!*ok) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(VecDuplicate(b, &r)); /* the true residual, once per solve */
  PetscCall(ItSolveTrueResidualWithin(ksp, b, p, r, ItSolveStationaryFloor(grid), ok, relative));
  PetscCall(VecDestroy(&r));
  if (!*ok)
    PetscCall(PetscSNPrintf(why, len, "short of its tolerance (%s)", KSPConvergedReasons[reason]));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* After a pinned stationary solve: when it failed (any KSP divergence) and
   the user chose neither -stationary_ksp_type nor -stationary_pc_type, the
   methods of ItSolveNextMethod in turn from the same guess until one
   converges; result->fallback names the failure and the method that took
   over, and one line on stderr says so; result->residual: the true relative
   residual of the solve that converged (ItSolveStationaryConverged). When
   none converges, one line names what failed and what to try. Collective. */
static PetscErrorCode ItSolveStationaryFallback(ItGrid grid, KSP ksp, Vec b, Vec guess, Vec p,
                                                ItSolveStationaryResult *result) {
  const ItGridInfo *info = ItGridGetInfo(grid);
  PetscInt          its  = 0, first_its;
  PetscBool         user_ksp, user_pc, more = PETSC_TRUE, ok;
  char              failed[64], first[64], why[64], tried[256] = "";

  PetscFunctionBegin;
  PetscCall(ItSolveMethodName(ksp, result->method, sizeof(result->method)));
  PetscCall(
      ItSolveStationaryConverged(grid, ksp, b, p, &ok, &result->residual, first, sizeof(first)));
  if (ok) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscOptionsHasName(NULL, NULL, "-stationary_ksp_type", &user_ksp));
  PetscCall(PetscOptionsHasName(NULL, NULL, "-stationary_pc_type", &user_pc));
  PetscCall(KSPGetIterationNumber(ksp, &first_its));
  PetscCall(PetscStrncpy(failed, result->method, sizeof(failed)));
  for (PetscInt step = 0; !ok && !user_ksp && !user_pc; step++) {
    PetscCall(ItSolveNextMethod(grid, ksp, step, &more));
    if (!more) break;
    PetscCall(ItSolveMethodName(ksp, result->method, sizeof(result->method)));
    PetscCall(VecCopy(guess, p));
    PetscCall(KSPSolve(ksp, b, p));
    PetscCall(KSPGetIterationNumber(ksp, &its));
    result->iterations += its;
    PetscCall(
        ItSolveStationaryConverged(grid, ksp, b, p, &ok, &result->residual, why, sizeof(why)));
    if (!ok) {
      size_t n;
      PetscCall(PetscStrlen(tried, &n));
      PetscCall(PetscSNPrintf(tried + n, sizeof(tried) - n, ", then %s %s", result->method, why));
    }
  }
  if (!ok) { /* -fp_order 4's fine level smooths with GMRES: the outer method must stay flexible */
    PetscBool flexible;
    PetscCall(PetscStrncmp(failed, "fgmres", 6, &flexible));
    SETERRQ(info->comm, PETSC_ERR_NOT_CONVERGED,
            "the stationary solve did not converge: %s ended %s after %" PetscInt_FMT
            " iterations%s; try -stationary_ksp_type %s -stationary_ksp_gmres_restart 200, "
            "-stationary_pc_type hypre, or -stationary_pc_type lu on small grids",
            failed, first, first_its, tried, flexible ? "fgmres" : "gmres");
  }
  PetscCall(PetscSNPrintf(result->fallback, sizeof(result->fallback),
                          "%s ended %s after %" PetscInt_FMT
                          " iterations%s; %s converged in %" PetscInt_FMT,
                          failed, first, first_its, tried, result->method, its));
  PetscCall(PetscFPrintf(info->comm, PETSC_STDERR,
                         "infotherm: note: the stationary solve fell back: %s\n",
                         result->fallback));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* One solve of -L p = 0 with the row of `cell` replaced by its diagonal
   times p_cell = 1 (so p_cell = 1), on every multigrid level. With a
   refractory time in two or more variables (h, else NULL) the operator
   re-injects the exit field carried over the refractory time,
   -L - S (E - I) J (src/fp/refractory.c), preconditioned as -L. P4: the
   fourth-order operator assembled for its LU factors (ItSolveDirect), or
   NULL. */
static PetscErrorCode ItSolvePinned(ItGrid grid, ItMG mg, KSP ksp, Mat A, Mat A4, Mat P4,
                                    ItRefractory h, ItFaces faces, const PetscInt cell[], Vec p,
                                    ItSolveStationaryResult *result) {
  Vec         b, guess;
  PetscScalar diag = 0;
  PetscInt    lo, hi, its, pin;
  Mat         M = NULL;
  PC          pc;

  PetscFunctionBegin;
  PetscCall(ItMGSetPin(mg, cell));
  PetscCall(ItMGSetShift(mg, 0, 1));
  PetscCall(ItGridGlobalIndex(grid, cell, &pin));
  PetscCall(MatGetOwnershipRange(A, &lo, &hi));
  if (pin >= lo && pin < hi) PetscCall(ItSmoothDiagonalAt(A, pin, &diag));
  PetscCall(VecDuplicate(p, &b));
  PetscCall(VecSet(b, 0.0));
  if (pin >= lo && pin < hi) PetscCall(VecSetValue(b, pin, diag, INSERT_VALUES));
  PetscCall(VecAssemblyBegin(b));
  PetscCall(VecAssemblyEnd(b));
  if (A4) { /* the same pinned row on the matrix-free fourth-order operator */
    PetscScalar value;
    PetscReal   global;
    value = (pin >= lo && pin < hi) ? diag : 0;
    PetscCall(ItGridMaxAbs(grid, PetscRealPart(value), &global));
    PetscCall(ItFPShiftedSet(A4, 0, 1, pin, global));
    if (P4) PetscCall(ItFPShiftedAssemble(A4, P4)); /* ItSolveDirect */
  }
  if (h) PetscCall(ItRefractoryStationaryOperator(h, faces, grid, A4 ? A4 : A, pin, &M));
  PetscCall(ItSolveSetOperators(ksp, M ? M : A4 ? A4 : A, P4 ? P4 : A));
  PetscCall(KSPSetInitialGuessNonzero(ksp, PETSC_TRUE));
  PetscCall(VecDuplicate(p, &guess));
  PetscCall(VecCopy(p, guess));
  PetscCall(KSPGetPC(ksp, &pc));
  PetscCall(ItMGRestartSmoothing(mg, pc));
  PetscCall(KSPSolve(ksp, b, p));
  PetscCall(KSPGetIterationNumber(ksp, &its));
  result->iterations += its;
  PetscCall(ItSolveStationaryFallback(grid, ksp, b, guess, p, result));
  PetscCall(MatDestroy(&M));
  PetscCall(VecDestroy(&guess));
  PetscCall(VecDestroy(&b));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The cell of the largest |p|, and p there, on every rank. The first pinned
   solve's p has the sign of the pinned cell's value in the null vector, which
   a fourth-order operator on a few cells per width of the density may make
   negative (the lif model on 10 cells: -5e-4 of the peak at the pinned cell
   below the reset); the largest value of p was then the pin itself, and the
   density came out of negative mass. Collective. */
static PetscErrorCode ItSolveMaxCell(ItGrid grid, Vec p, PetscInt cell[], PetscReal *value) {
  const ItGridInfo *info = ItGridGetInfo(grid);
  PetscInt          index, lo, hi, imin;
  PetscReal         local[IT_MAX_DIM] = {0, 0, 0}, global[IT_MAX_DIM], vmin;

  PetscFunctionBegin;
  PetscCall(VecMax(p, &index, value));
  PetscCall(VecMin(p, &imin, &vmin));
  if (-vmin > *value) {
    index  = imin;
    *value = vmin;
  }
  PetscCall(VecGetOwnershipRange(p, &lo, &hi));
  if (index >= lo && index < hi) {
    PetscInt c[IT_MAX_DIM];
    ItGridOwnedCell(grid, index - lo, c);
    for (PetscInt a = 0; a < info->dim; a++) local[a] = (PetscReal)c[a];
  }
  PetscCall(ItGridSum(grid, IT_MAX_DIM, local, global));
  for (PetscInt a = 0; a < IT_MAX_DIM; a++) cell[a] = (PetscInt)global[a];
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The value of p at a cell, on every rank. Collective. */
static PetscErrorCode ItSolveValueAt(ItGrid grid, Vec p, const PetscInt cell[], PetscReal *value) {
  PetscInt    lo, hi, k;
  PetscScalar v = 0;

  PetscFunctionBegin;
  PetscCall(ItGridGlobalIndex(grid, cell, &k));
  PetscCall(VecGetOwnershipRange(p, &lo, &hi));
  if (k >= lo && k < hi) PetscCall(VecGetValues(p, 1, &k, &v));
  PetscCall(ItGridMaxAbs(grid, PetscRealPart(v), value));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Solves L(t) p = 0, ∫ p = 1 into p, with the operator of the parameters at
   time t. result->residual: the true relative residual ‖b − A x‖_2 / ‖b‖_2
   of the last pinned solve (A: -L with the pinned cell's row replaced by its
   diagonal, b: that diagonal at the cell, x: p before its normalisation),
   computed once, by the convergence check. One matrix, -L with its pinned
   row. A method that fails hands over to the next (ItSolveStationaryFallback),
   which the second pinned solve keeps. Collective. */
PetscErrorCode ItSolveStationaryReport(ItGrid grid, ItModel model, PetscReal t, Vec p,
                                       ItSolveStationaryResult *result) {
  const ItGridInfo *info               = ItGridGetInfo(grid);
  PetscInt          centre[IT_MAX_DIM] = {0, 0, 0}, argmax[IT_MAX_DIM];
  PetscReal         pmax, ppin;
  ItFP              fp;
  ItMG              mg;
  Mat               A, A4 = NULL, P4 = NULL;
  KSP               ksp;
  PetscBool         matrix_free, direct;
  ItRefractory      h = NULL;

  PetscFunctionBegin;
  PetscCall(PetscMemzero(result, sizeof(*result)));
  /* a refractory time in two or more variables: the re-entry map (doc/physics.md §8.2) */
  if (info->dim > 1) PetscCall(ItRefractoryCreate(grid, model, &h));
  PetscCall(ItFPCreate(grid, model, &fp));
  PetscCall(ItFPSetTime(fp, t));
  PetscCall(ItMGMatrixFree(grid, ItFPGetFaces(fp), "stationary_", &matrix_free));
  if (matrix_free) /* the levels from the faces: no assembled fine matrix */
    PetscCall(ItSmoothCreateOperator(grid, ItFPGetFaces(fp), &A));
  else
    PetscCall(ItFPCreateMatrix(grid, &A));
  PetscCall(ItMGCreate(grid, model, ItFPGetFaces(fp), A, 0, &mg));
  PetscCall(ItMGSetTime(mg, t));
  if (ItFacesGetOrder(ItFPGetFaces(fp)) == 4)
    PetscCall(ItFPCreateShiftedFree(ItFPGetFaces(fp), &A4));
  PetscCall(
      ItSolveStationaryKSP(grid, ItFPGetFaces(fp), mg, A, (PetscBool)(A4 != NULL), &direct, &ksp));
  if (direct) PetscCall(ItFPCreateShiftedMatrix(grid, &P4));
  for (PetscInt a = 0; a < info->dim; a++) centre[a] = info->n[a] / 2;
  PetscCall(VecSet(p, 1.0));
  PetscCall(ItSolvePinned(grid, mg, ksp, A, A4, P4, h, ItFPGetFaces(fp), centre, p, result));
  PetscCall(ItSolveMaxCell(grid, p, argmax, &pmax));
  PetscCall(VecScale(p, 1.0 / pmax));
  PetscCall(ItSolveValueAt(grid, p, centre, &ppin));
  /* a pin far in the tail makes the system ill-conditioned: solve again pinned at the maximum */
  if (ppin < 1e-3) {
    char fallback[sizeof(result->fallback)];
    PetscCall(PetscStrncpy(fallback, result->fallback, sizeof(fallback)));
    result->fallback[0] = 0;
    PetscCall(ItSolvePinned(grid, mg, ksp, A, A4, P4, h, ItFPGetFaces(fp), argmax, p, result));
    if (!result->fallback[0])
      PetscCall(PetscStrncpy(result->fallback, fallback, sizeof(result->fallback)));
  }
  PetscCall(ItSolveNormalize(grid, p));
  /* refractory compartments hold the rest of the mass (doc/physics.md §8.2) */
  PetscCall(ItFPRefractoryScale(ItFPGetFaces(fp), grid, p));
  PetscCall(ItSolveNoteMemory(grid, A, A4, mg, ksp, NULL, result->iterations, 3)); /* b, guess, r */
  PetscCall(ItSolveNoteDirect(P4));
  PetscCall(ItRefractoryDestroy(&h));
  PetscCall(KSPDestroy(&ksp));
  PetscCall(ItMGDestroy(&mg));
  PetscCall(MatDestroy(&A));
  PetscCall(MatDestroy(&A4));
  PetscCall(MatDestroy(&P4));
  PetscCall(ItFPDestroy(&fp));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ItSolveStationaryReport's residual and iterations alone. */
PetscErrorCode ItSolveStationary(ItGrid grid, ItModel model, PetscReal t, Vec p,
                                 PetscReal *residual, PetscInt *iterations) {
  ItSolveStationaryResult result;

  PetscFunctionBegin;
  PetscCall(ItSolveStationaryReport(grid, model, t, p, &result));
  *residual   = result.residual;
  *iterations = result.iterations;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The sums that tell a density from a grid function that is not one: its
   mass, the mass of its cells of negative value (<= 0) and the number of its
   cells that are not finite. One pass, one reduction. Collective. */
PetscErrorCode ItSolveDensityStatus(ItGrid grid, Vec p, PetscReal *mass, PetscReal *negative,
                                    PetscReal *nonfinite) {
  const ItGridInfo  *info = ItGridGetInfo(grid);
  const PetscScalar *pa;
  PetscReal          local[3] = {0, 0, 0}, sum[3];
  PetscInt           n;

  PetscFunctionBegin;
  PetscCall(VecGetLocalSize(p, &n));
  PetscCall(VecGetArrayRead(p, &pa));
  for (PetscInt k = 0; k < n; k++) {
    const PetscReal v = PetscRealPart(pa[k]);
    if (PetscIsInfOrNanReal(v))
      local[2] += 1;
    else {
      local[0] += v;
      if (v < 0) local[1] += v;
    }
  }
  PetscCall(VecRestoreArrayRead(p, &pa));
  PetscCall(ItGridSum(grid, 3, local, sum));
  *mass      = sum[0] * info->cell_volume;
  *negative  = sum[1] * info->cell_volume;
  *nonfinite = sum[2];
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Whether a mass and the mass of the cells of negative value describe a
   density: finite, positive, and the negative cells hold at most
   IT_NEGATIVE_MASS_LIMIT of it (the time stepper's undershoot in the tails,
   not round-off alone, is accepted). Not collective. */
PetscBool ItSolveIsDensity(PetscReal mass, PetscReal negative) {
  return (PetscBool)(!PetscIsInfOrNanReal(mass) && !PetscIsInfOrNanReal(negative) && mass > 0 &&
                     -negative <= IT_NEGATIVE_MASS_LIMIT * mass);
}

/* Refuses a p that is not a density, with one line: "<what> is not a
   density: <why>; <fix>". Collective. */
/* A density read from a file (a snapshot, a checkpoint, -init_file,
   -kl_reference): a density (ItSolveCheckDensity) of mass 1, as infotherm
   writes them; a scaled, integer or subnormal copy is refused, not
   normalised. Collective. */
PetscErrorCode ItSolveCheckReadDensity(ItGrid grid, Vec p, const char what[], const char fix[]) {
  const ItGridInfo *info = ItGridGetInfo(grid);
  PetscReal         mass, negative, nonfinite;

  PetscFunctionBegin;
  PetscCall(ItSolveCheckDensity(grid, p, what, fix));
  PetscCall(ItSolveDensityStatus(grid, p, &mass, &negative, &nonfinite));
  PetscCheck(PetscAbsReal(mass - 1) <= IT_SOLVE_MASS_TOLERANCE, info->comm, PETSC_ERR_USER_INPUT,
             "%s is not a normalised density: its mass is %.17g, not 1 (within %g); %s", what,
             (double)mass, IT_SOLVE_MASS_TOLERANCE, fix);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode ItSolveCheckDensity(ItGrid grid, Vec p, const char what[], const char fix[]) {
  const ItGridInfo *info = ItGridGetInfo(grid);
  PetscReal         mass, negative, nonfinite;

  PetscFunctionBegin;
  PetscCall(ItSolveDensityStatus(grid, p, &mass, &negative, &nonfinite));
  PetscCheck(nonfinite == 0, info->comm, PETSC_ERR_USER_INPUT,
             "%s is not a density: %.0f of its cells are not finite (NaN or infinite); %s", what,
             (double)nonfinite, fix);
  PetscCheck(!PetscIsInfOrNanReal(mass), info->comm, PETSC_ERR_USER_INPUT,
             "%s is not a density: its cells are finite but their sum overflows (mass %g); %s",
             what, (double)mass, fix);
  PetscCheck(mass > 0, info->comm, PETSC_ERR_USER_INPUT,
             "%s is not a density: its mass is %g, not positive; %s", what, (double)mass, fix);
  PetscCheck(ItSolveIsDensity(mass, negative), info->comm, PETSC_ERR_USER_INPUT,
             "%s is not a density: cells of negative value hold %.3g of its mass %g (at most %g "
             "is accepted); %s",
             what, (double)(-negative / mass), (double)mass, IT_NEGATIVE_MASS_LIMIT, fix);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Scales p so that the sum over cells of p times the cell volume is 1. Collective. */
PetscErrorCode ItSolveNormalize(ItGrid grid, Vec p) {
  const ItGridInfo *info = ItGridGetInfo(grid);
  PetscReal         mass;

  PetscFunctionBegin;
  PetscCall(VecSum(p, &mass));
  mass *= info->cell_volume;
  PetscCheck(mass > 0, info->comm, PETSC_ERR_USER_INPUT, "the density has no mass on the box");
  PetscCall(VecScale(p, 1.0 / mass));
  PetscFunctionReturn(PETSC_SUCCESS);
}
