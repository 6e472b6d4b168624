/* -error_estimate (doc/physics.md §5) for run, stationary and crosscheck: before
   the fine solve, the same problem is solved on the grids coarsened by 2 and
   by 4 (ItGridCreateCoarse: same box; the model is shared, each grid builds
   its own faces, operator, solver and diagnostics), with the same settings
   and output times and the initial density made again on each grid by the
   caller (a Gaussian evaluated at its cell centres, the stationary density
   solved there, a snapshot restricted by summing children). For a transient the grid
   coarsened by 4 is solved once more at time tolerances IT_ESTIMATE_TIGHTER
   times the run's: the difference is the time stepper's error, which hardly
   depends on the cell size. Each coarse solve keeps its diagnostics rows; the
   fine solve's rows then get, for every column q but mass (conserved to
   round-off on every grid), q_err = (q_h - q_2h)/(2^p0 - 1) + (q_4h,tight -
   q_4h) at the operator's order p0 (-fp_order: 2 or 4; every grid uses it) and
   q_extrap = q_h + q_err, and summary.json the observed order of each
   quantity, whether it is trusted, and the coarse solves' cost. A restart
   (-restart) solves the coarse grids again from t = 0 (they do not depend on
   the fine state) and continues the fine one from its checkpoint. */
#include <strings.h>
#include <infotherm/estimate.h>

/* the blocks after the diagnostics: _err, _extrap, _uncertainty, _trusted */
#define IT_ESTIMATE_NBLOCK 4

/* One column's error bar at one time. */
typedef struct {
  PetscReal err, grid, uncertainty, order;
  PetscBool trusted;
} ItEstimateBar;

typedef struct {
  PetscInt       factor;
  PetscReal      tolerance_factor; /* 0: the run's time tolerances */
  ItGrid         grid;
  ItDiag         diag;
  Vec            p;
  PetscInt       n, cap; /* rows kept at the output times */
  PetscReal     *t, *values, *cov;
  PetscLogDouble seconds;
  PetscBool      covariance; /* keep the covariance at each row (crosscheck) */
  PetscInt       cursor;     /* the row found last */
  PetscBool      skipped;    /* not solvable: no rows (the fall-back) */
  PetscBool      initial;    /* p holds the initial density (made by the probe) */
} ItEstimateLevel;

struct _p_ItEstimate {
  ItEstimateProblem problem; /* the fine problem */

  PetscInt ncol, nlevel;
  PetscInt order; /* the expected order p0: the operator's, -fp_order */
  /* -error_estimate order: one level, the same grid under the fourth-order
     operator (at tighter time tolerances), q_err = q_4 - q_h */
  PetscBool       order_difference;
  PetscBool       transient, time_error;
  ItEstimateLevel level[IT_ESTIMATE_NLEVEL];
  PetscLogDouble  fine_seconds;
  PetscInt        nextra; /* columns with _err and _extrap */
  PetscInt       *extra;  /* their diagnostics columns */
  ItColumnName   *names;  /* the table's columns */
  PetscReal      *row;    /* the table's row */
  /* the grid coarsened by 4 could not be solved: the estimate from the grid
     coarsened by 2 alone at the expected order (and the time error from that
     grid solved again at tighter tolerances); why, for summary.json */
  PetscBool fallback;
  char      why[512];
};

/* The option names of the error estimate's options (src/model/option_names.c). */
const ItOptionName ItEstimateOptionNames[] = {{"error_estimate", IT_OPTION_SWITCH}, {NULL, 0}};

/* -error_estimate [richardson|order|true|false]: whether this command
   estimates its errors, and how (*order_difference: by the fourth-order
   operator on the same grid; NULL: not asked). Collective. */
static PetscErrorCode ItEstimateReadMethod(MPI_Comm comm, PetscBool *on,
                                           PetscBool *order_difference) {
  char      value[32] = "";
  PetscBool set, flag, order;

  PetscFunctionBegin;
  *on = PETSC_FALSE;
  PetscOptionsBegin(comm, NULL, "Error estimate", "ItApp");
  PetscCall(PetscOptionsString(
      "-error_estimate",
      "richardson (the default when given bare): also solve on the grids coarsened by 2 and 4 "
      "(and, for a transient, at tighter time tolerances): <q>_err and <q>_extrap columns, "
      "observed orders in summary.json (needs -grid_n divisible by 4); order: under -fp_order 2, "
      "the same grid solved also with -fp_order 4, q_err = q_4 - q_2",
      NULL, value, value, sizeof(value), &set));
  PetscOptionsEnd();
  PetscCall(PetscStrcmp(value, "order", &order));
  if (order_difference) *order_difference = order;
  if (!set) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscStrcmp(value, "richardson", &flag));
  if (flag || order || !value[0]) {
    *on = PETSC_TRUE;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  {
    static const char *const truth[] = {"true", "yes", "on", "1", "false", "no", "off", "0"};
    PetscInt                 k       = 0;
    while (k < 8 && strcasecmp(value, truth[k])) k++;
    PetscCheck(k < 8, comm, PETSC_ERR_USER_INPUT,
               "-error_estimate %s: give richardson, order, true or false", value);
    *on = (PetscBool)(k < 4);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* -error_estimate: whether this command estimates its errors. Collective. */
PetscErrorCode ItEstimateFromOptions(MPI_Comm comm, PetscBool *on) {
  PetscFunctionBegin;
  PetscCall(ItEstimateReadMethod(comm, on, NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The covariance S (d x d, row-major) of p about the box centre, as the
   cross-check computes the solver's. Collective. */
/* mass, first and second moments */
#define IT_ESTIMATE_MOMENTS (1 + IT_MAX_DIM + IT_MAX_DIM * IT_MAX_DIM)

static PetscErrorCode ItEstimateCovariance(ItGrid grid, Vec p, PetscReal S[]) {
  const ItGridInfo  *info                       = ItGridGetInfo(grid);
  const PetscInt     d                          = info->dim;
  PetscReal          local[IT_ESTIMATE_MOMENTS] = {0}, sum[IT_ESTIMATE_MOMENTS];
  const PetscScalar *pa;

  PetscFunctionBegin;
  PetscCall(VecGetArrayRead(p, &pa));
  ItGridForOwned(grid, c, l) {
    const PetscReal w = PetscRealPart(pa[l]);
    PetscReal       y[IT_MAX_DIM];
    for (PetscInt i = 0; i < d; i++)
      y[i] = ItGridCoordinate(grid, i, c[i]) - 0.5 * (info->lo[i] + info->hi[i]);
    local[0] += w;
    for (PetscInt i = 0; i < d; i++) {
      local[1 + i] += w * y[i];
      for (PetscInt j = 0; j < d; j++) local[1 + d + i * d + j] += w * y[i] * y[j];
    }
  }
  PetscCall(VecRestoreArrayRead(p, &pa));
  PetscCall(ItGridSum(grid, 1 + d + d * d, local, sum));
  for (PetscInt i = 0; i < d; i++)
    for (PetscInt j = 0; j < d; j++)
      S[i * d + j] = sum[1 + d + i * d + j] / sum[0] - sum[1 + i] / sum[0] * sum[1 + j] / sum[0];
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Keeps the level's diagnostics (and covariance) at time t, once per time. */
static PetscErrorCode ItEstimateKeepRow(ItEstimateLevel *L, PetscReal t, Vec p) {
  const ItGridInfo *info = ItGridGetInfo(L->grid);
  const PetscInt    ncol = ItDiagGetColumnCount(L->diag), d = info->dim;

  PetscFunctionBegin;
  if (L->n > 0 && L->t[L->n - 1] == t) PetscFunctionReturn(PETSC_SUCCESS);
  if (L->n == L->cap) {
    L->cap = PetscMax(16, 2 * L->cap);
    PetscCall(PetscRealloc(sizeof(PetscReal) * L->cap, &L->t));
    PetscCall(PetscRealloc(sizeof(PetscReal) * L->cap * PetscMax(ncol, 1), &L->values));
    PetscCall(PetscRealloc(sizeof(PetscReal) * L->cap * d * d, &L->cov));
  }
  L->t[L->n] = t;
  PetscCall(PetscArraycpy(&L->values[L->n * ncol], ItDiagGetValues(L->diag), ncol));
  if (L->covariance) PetscCall(ItEstimateCovariance(L->grid, p, &L->cov[L->n * d * d]));
  L->n++;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A coarse density must still be one (as ItAppCheckStep asks of the fine one). */
static PetscErrorCode ItEstimateCheckDensity(ItEstimateLevel *L, PetscReal t) {
  PetscReal mass, negative;

  PetscFunctionBegin;
  ItDiagGetMass(L->diag, &mass, &negative);
  PetscCheck(ItSolveIsDensity(mass, negative), PETSC_COMM_WORLD, PETSC_ERR_USER_INPUT,
             "-error_estimate: at t = %g the density on the grid coarsened by %" PetscInt_FMT
             " is no longer one (mass %g, negative part %g): refine -grid_n so that the coarse "
             "grids resolve the density, or drop -error_estimate",
             (double)t, L->factor, (double)mass, (double)negative);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The coarse solve's consumer: diagnostics after every step (the _cum
   integrals), a row at every output time. */
static PetscErrorCode ItEstimateOutput(void *ctx, PetscReal t, PetscInt step, Vec p, PetscBool row,
                                       PetscBool snapshot) {
  ItEstimateLevel *L = (ItEstimateLevel *)ctx;

  PetscFunctionBegin;
  (void)step, (void)snapshot;
  if (t != ItDiagGetTime(L->diag)) {
    PetscCall(ItDiagEvaluate(L->diag, t, p));
    PetscCall(ItEstimateCheckDensity(L, t));
    PetscCall(ItDiagAccumulate(L->diag));
  }
  if (row) PetscCall(ItEstimateKeepRow(L, t, p));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The initial density on the level's grid, made as the fine one was (the
   problem's callback), and checked. */
static PetscErrorCode ItEstimateInitialDensity(const ItEstimateProblem *problem,
                                               ItEstimateLevel         *L) {
  char what[128];

  PetscFunctionBegin;
  PetscCall(problem->initial(problem->ctx, L->grid, L->p));
  PetscCall(PetscSNPrintf(what, sizeof(what),
                          "the initial density on the grid coarsened by %" PetscInt_FMT,
                          L->factor));
  PetscCall(ItSolveCheckDensity(L->grid, L->p, what, "refine -grid_n, or drop -error_estimate"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Whether the level's grid can be solved: its faces (the cell Peclet
   numbers) at the times ItSolveCheckScales checks up to the problem's
   t_final, and (a transient) its initial density. Errors are caught (PETSc's
   return handler) and their message kept in why[len]. Collective. */
static PetscErrorCode ItEstimateProbe(const ItEstimateProblem *problem, PetscBool transient,
                                      ItEstimateLevel *L, PetscBool *ok, char why[], size_t len) {
  const PetscReal t_final = transient ? problem->t_final : 0;
  ItModel         model   = problem->model;
  ItFaces         faces;
  PetscErrorCode  ierr;
  char           *text = NULL;

  PetscFunctionBegin;
  PetscCall(ItFacesCreate(L->grid, model, &faces));
  PetscCall(PetscPushErrorHandler(PetscReturnErrorHandler, NULL));
  ierr = ItFacesCompute(faces, 0);
  for (PetscReal t = ItModelNextSwitch(model, 0); !ierr && t < t_final;
       t           = ItModelNextSwitch(model, t))
    ierr = ItFacesCompute(faces, 0.5 * (t + PetscMin(ItModelNextSwitch(model, t), t_final)));
  if (!ierr) ierr = ItFacesCompute(faces, t_final);
  if (!ierr && transient) ierr = ItEstimateInitialDensity(problem, L);
  L->initial = (PetscBool)(transient && !ierr);
  PetscCall(PetscPopErrorHandler());
  PetscCall(ItFacesDestroy(&faces));
  *ok = (PetscBool)!ierr;
  if (ierr) PetscCall(PetscErrorMessage(ierr, NULL, &text));
  PetscCall(PetscStrncpy(why, text ? text : "", len));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The level's grid, density, and (when it can be solved, *ok) its
   diagnostics; why[len] says what failed. Collective. */
static PetscErrorCode ItEstimateLevelSetUp(const ItEstimateProblem *problem, PetscBool transient,
                                           ItEstimateLevel *L, PetscInt factor, PetscInt order,
                                           PetscReal tolerance_factor, PetscBool covariance,
                                           PetscBool *ok, char why[], size_t len) {
  Vec pss = NULL;

  PetscFunctionBegin;
  L->factor           = factor;
  L->tolerance_factor = tolerance_factor;
  L->covariance       = covariance;
  PetscCall(ItGridCheckEstimateCoarsening(problem->grid, factor));
  PetscCall(ItGridCreateCoarseOrder(problem->grid, factor, order, &L->grid));
  PetscCall(DMCreateGlobalVector(ItGridGetInfo(L->grid)->da, &L->p));
  PetscCall(ItEstimateProbe(problem, transient, L, ok, why, len));
  L->skipped = (PetscBool) !*ok;
  if (!*ok) PetscFunctionReturn(PETSC_SUCCESS);
  if (problem->reference) PetscCall(problem->reference(problem->ctx, L->grid, &pss));
  PetscCall(ItDiagCreate(L->grid, problem->model, pss, &L->diag));
  PetscCall(VecDestroy(&pss));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The grids coarsened by 2 and 4 and the time-error solve: when the grid
   coarsened by 4 cannot be solved (a cell Peclet number, an initial density
   its cells cannot hold) the fall-back skips it and solves the time-error
   problem on the grid coarsened by 2; a grid coarsened by 2 that cannot be
   solved is refused, named, with the number that failed. Collective. */
static PetscErrorCode ItEstimateLevelsSetUp(ItEstimate est, PetscBool covariance) {
  const ItEstimateProblem *problem = &est->problem;
  ItEstimateLevel         *L2      = &est->level[IT_ESTIMATE_2H];
  PetscBool                ok;
  char                     why[512];

  PetscFunctionBegin;
  PetscCall(ItEstimateLevelSetUp(problem, est->transient, L2, 2, est->order, 0, covariance, &ok,
                                 why, sizeof(why)));
  if (!ok) {
    const ItGridInfo *info      = ItGridGetInfo(L2->grid);
    char              cells[64] = "";
    for (PetscInt i = 0; i < info->dim; i++) {
      char axis[24];
      PetscCall(PetscSNPrintf(axis, sizeof(axis), "%s%" PetscInt_FMT, i ? " x " : "", info->n[i]));
      PetscCall(PetscStrlcat(cells, axis, sizeof(cells)));
    }
    SETERRQ(PETSC_COMM_WORLD, PETSC_ERR_USER_INPUT,
            "-error_estimate: the grid coarsened by 2 (%s cells) cannot be solved: %s; refine "
            "-grid_n, or drop -error_estimate",
            cells, why);
  }
  PetscCall(ItEstimateLevelSetUp(problem, est->transient, &est->level[IT_ESTIMATE_4H], 4,
                                 est->order, 0, covariance, &ok, why, sizeof(why)));
  if (!ok) {
    est->fallback = PETSC_TRUE;
    PetscCall(PetscSNPrintf(est->why, sizeof(est->why),
                            "the grid coarsened by 4 cannot be solved (%s): the estimate is from "
                            "the grid coarsened by 2 alone at the expected order %" PetscInt_FMT
                            ", unchecked (<q>_trusted 0)",
                            why, est->order));
    PetscCall(PetscFPrintf(PETSC_COMM_WORLD, PETSC_STDERR,
                           "infotherm: warning: -error_estimate: %s\n", est->why));
  }
  if (est->time_error)
    PetscCall(ItEstimateLevelSetUp(problem, est->transient, &est->level[IT_ESTIMATE_4H_TIGHT],
                                   est->fallback ? 2 : 4, est->order, IT_ESTIMATE_TIGHTER,
                                   covariance, &ok, why, sizeof(why)));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Whether the time steps are fixed (-ts_adapt_type none): then no tolerance
   sets the time error, and it is not estimated. */
static PetscErrorCode ItEstimateFixedSteps(PetscBool *fixed) {
  char      type[64] = "";
  PetscBool set;

  PetscFunctionBegin;
  PetscCall(PetscOptionsGetString(NULL, NULL, "-ts_adapt_type", type, sizeof(type), &set));
  PetscCall(PetscStrcmp(type, "none", fixed));
  *fixed = (PetscBool)(set && *fixed);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* -error_estimate order: one level, the fine grid under the fourth-order
   operator, solved (a transient with adaptive steps) at time tolerances
   IT_ESTIMATE_TIGHTER times the run's, so that q_4 - q_h holds the
   second-order answer's time error as well. Not for crosscheck (whose
   estimate needs the coarse grids' covariances), nor under -fp_order 4.
   Collective. */
static PetscErrorCode ItEstimateOrderCreate(const ItEstimateProblem *problem, PetscBool transient,
                                            PetscBool covariance, ItEstimate *out) {
  const ItGridInfo *grid = ItGridGetInfo(problem->grid);
  ItEstimate        est;
  PetscBool         fixed, ok;
  char              why[512];

  PetscFunctionBegin;
  PetscCheck(grid->order_fp == 2, PETSC_COMM_WORLD, PETSC_ERR_USER_INPUT,
             "-error_estimate order estimates the error of the second-order answer by the "
             "fourth-order one; drop -fp_order 4, or use -error_estimate richardson");
  PetscCheck(!covariance, PETSC_COMM_WORLD, PETSC_ERR_USER_INPUT,
             "-error_estimate order: crosscheck needs the coarse grids; use -error_estimate "
             "richardson");
  PetscCall(ItEstimateFixedSteps(&fixed));
  PetscCall(PetscNew(&est));
  est->problem          = *problem;
  est->ncol             = ItDiagGetColumnCount(problem->diag);
  est->order            = 2;
  est->order_difference = PETSC_TRUE;
  est->transient        = transient;
  est->time_error       = PETSC_FALSE; /* in q_err, not apart */
  est->nlevel           = 1;
  PetscCall(ItEstimateLevelSetUp(problem, transient, &est->level[0], 1, 4,
                                 transient && !fixed ? IT_ESTIMATE_TIGHTER : 0, PETSC_FALSE, &ok,
                                 why, sizeof(why)));
  PetscCheck(ok, PETSC_COMM_WORLD, PETSC_ERR_USER_INPUT,
             "-error_estimate order: the grid under -fp_order 4 cannot be solved: %s; refine "
             "-grid_n, or use -error_estimate richardson",
             why);
  *out = est;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The coarse grids (every axis of -grid_n divisible by 4), their diagnostics
   and initial densities (ItEstimateLevelsSetUp); nothing is solved yet.
   covariance: keep each row's covariance too (crosscheck). Collective. */
PetscErrorCode ItEstimateCreate(const ItEstimateProblem *problem, PetscBool transient,
                                PetscBool covariance, ItEstimate *out) {
  const ItGridInfo *grid = ItGridGetInfo(problem->grid);
  ItEstimate        est;
  PetscBool         fixed, order;

  PetscFunctionBegin;
  PetscCall(ItEstimateReadMethod(PETSC_COMM_WORLD, &fixed, &order));
  if (order) {
    PetscCall(ItEstimateOrderCreate(problem, transient, covariance, out));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  for (PetscInt i = 0; i < grid->dim; i++)
    PetscCheck(grid->n[i] % 4 == 0 && grid->n[i] >= 8, PETSC_COMM_WORLD, PETSC_ERR_USER_INPUT,
               "-error_estimate solves also on the grids coarsened by 2 and 4: every axis of "
               "-grid_n must be a multiple of 4 (at least 8); %s has %" PetscInt_FMT " cells",
               ItModelGetVariableName(problem->model, i), grid->n[i]);
  PetscCall(ItEstimateFixedSteps(&fixed));
  PetscCall(PetscNew(&est));
  est->problem    = *problem;
  est->ncol       = ItDiagGetColumnCount(problem->diag);
  est->order      = grid->order_fp;
  est->transient  = transient;
  est->time_error = (PetscBool)(transient && !fixed);
  est->nlevel     = est->time_error ? 3 : 2;
  PetscCall(ItEstimateLevelsSetUp(est, covariance));
  *out = est;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* One coarse solve: the transient with the run's settings (no checkpoints,
   no progress line), or the stationary density; its rows kept. */
static PetscErrorCode ItEstimateSolveLevel(ItEstimate est, const ItSolveSettings *settings,
                                           ItEstimateLevel *L) {
  PetscLogDouble start, end;

  PetscFunctionBegin;
  if (!L->initial) /* not timed, as the fine one is not */
    PetscCall(ItEstimateInitialDensity(&est->problem, L));
  PetscCall(PetscTime(&start));
  if (est->transient) {
    ItSolveSettings s  = *settings;
    s.quiet            = PETSC_TRUE;
    s.interrupt        = NULL;
    s.checkpoint       = NULL;
    s.checkpoint_every = 0;
    s.checkpoint_wall  = 0;
    s.tolerance_factor = L->tolerance_factor;
    s.tight_stages     = PETSC_TRUE; /* the estimate's stage solves as tight as order 2's */
    s.restarted = PETSC_FALSE; /* from t = 0 also when the fine solve continues a checkpoint */
    s.t0 = s.dt0 = 0;
    s.step0      = 0;
    ItSolveResult result;
    PetscCall(
        ItSolveTransient(L->grid, est->problem.model, &s, L->p, ItEstimateOutput, L, &result));
  } else {
    PetscReal residual;
    PetscInt  its;
    PetscCall(ItSolveStationary(L->grid, est->problem.model, 0, L->p, &residual, &its));
    PetscCall(ItDiagEvaluate(L->diag, (PetscReal)INFINITY, L->p));
    PetscCall(ItEstimateCheckDensity(L, (PetscReal)INFINITY));
    PetscCall(ItDiagAccumulate(L->diag));
    PetscCall(ItEstimateKeepRow(L, (PetscReal)INFINITY, L->p));
  }
  PetscCall(PetscTime(&end));
  L->seconds = end - start;
  PetscCall(VecDestroy(&L->p)); /* the rows are all that is needed */
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Every coarse solve, coarsest first, with the fine solve's settings (a
   transient's; the stationary solve takes none); a grid that cannot be
   solved left out (ItEstimateLevelsSetUp). Collective. */
PetscErrorCode ItEstimateSolve(ItEstimate est, const ItSolveSettings *settings) {
  PetscFunctionBegin;
  for (PetscInt k = est->nlevel - 1; k >= 0; k--)
    if (!est->level[k].skipped) PetscCall(ItEstimateSolveLevel(est, settings, &est->level[k]));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode ItEstimateSetFineSeconds(ItEstimate est, PetscLogDouble seconds) {
  PetscFunctionBegin;
  est->fine_seconds = seconds;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The table's columns: the diagnostics, then <q>_err, <q>_extrap,
   <q>_uncertainty and <q>_trusted, each block for every column but mass. */
PetscErrorCode ItEstimateColumns(ItEstimate est, ItDiag diag, PetscInt *ncol,
                                 const char (**names)[64]) {
  static const char *const suffix[IT_ESTIMATE_NBLOCK] = {"err", "extrap", "uncertainty", "trusted"};
  const PetscInt           n                          = est->ncol;

  PetscFunctionBegin;
  PetscCall(PetscFree(est->extra));
  PetscCall(PetscFree(est->names));
  PetscCall(PetscFree(est->row));
  PetscCall(PetscMalloc1(n, &est->extra));
  est->nextra = 0;
  for (PetscInt k = 0; k < n; k++) {
    PetscBool mass;
    PetscCall(PetscStrcmp(ItDiagGetColumnName(diag, k), "mass", &mass));
    if (!mass) est->extra[est->nextra++] = k;
  }
  PetscCall(PetscMalloc1(n + IT_ESTIMATE_NBLOCK * est->nextra, &est->names));
  PetscCall(PetscMalloc1(n + IT_ESTIMATE_NBLOCK * est->nextra, &est->row));
  for (PetscInt k = 0; k < n; k++)
    PetscCall(PetscStrncpy(est->names[k], ItDiagGetColumnName(diag, k), sizeof(est->names[k])));
  for (PetscInt b = 0; b < IT_ESTIMATE_NBLOCK; b++)
    for (PetscInt e = 0; e < est->nextra; e++)
      PetscCall(PetscSNPrintf(est->names[n + b * est->nextra + e], sizeof(est->names[0]), "%s_%s",
                              ItDiagGetColumnName(diag, est->extra[e]), suffix[b]));
  *ncol  = n + IT_ESTIMATE_NBLOCK * est->nextra;
  *names = (const char(*)[64])est->names;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The level's row at time t (NULL when it has none). Rows are asked for in
   time order: the search starts where the last one ended. */
static const PetscReal *ItEstimateLevelRow(ItEstimate est, ItEstimateLevel *L, PetscReal t) {
  for (PetscInt pass = 0; pass < 2; pass++, L->cursor = 0)
    for (PetscInt r = L->cursor; r < L->n; r++)
      if (L->t[r] == t || PetscAbsReal(L->t[r] - t) <= 1e-12 * PetscMax(1, PetscAbsReal(t))) {
        L->cursor = r;
        return &L->values[r * est->ncol];
      }
  return NULL;
}

/* The coarse rows at time t: 2h, 4h and (with the time error) 4h tight; all
   NULL when one is missing. */
static void ItEstimateRowsAt(ItEstimate est, PetscReal t, const PetscReal *q[]) {
  for (PetscInt k = 0; k < IT_ESTIMATE_NLEVEL; k++) q[k] = NULL;
  for (PetscInt k = 0; k < est->nlevel; k++)
    if (!est->level[k].skipped && !(q[k] = ItEstimateLevelRow(est, &est->level[k], t))) {
      for (PetscInt j = 0; j < IT_ESTIMATE_NLEVEL; j++) q[j] = NULL;
      return;
    }
}

/* The error bar of column k at time t given the fine value and the coarse
   rows q[] (NULL: none, NaN): the correction, its grid part, the half-width,
   the observed order and whether it is trusted. At the initial time the
   density is the same exact one on every grid: no correction; the bar is
   ItEstimateInitialUncertainty, trusted unless the initial density is
   under-resolved (ItEstimateInitialResolved). */
static ItEstimateBar ItEstimateColumnBar(ItEstimate est, const PetscReal *q[], PetscInt k,
                                         PetscReal t, PetscReal fine) {
  const PetscReal *q2 = q[IT_ESTIMATE_2H], *q4 = q[IT_ESTIMATE_4H], *qt = q[IT_ESTIMATE_4H_TIGHT];
  const PetscReal  q4k = q4 ? q4[k] : (PetscReal)NAN, qtk = qt ? qt[k] : (PetscReal)NAN;
  ItEstimateBar bar = {(PetscReal)NAN, (PetscReal)NAN, (PetscReal)NAN, (PetscReal)NAN, PETSC_FALSE};

  if (!q2) return bar;
  if (est->order_difference) { /* q2 holds the fourth-order answer on the same grid */
    bar.err         = q2[k] - fine;
    bar.grid        = bar.err;
    bar.uncertainty = PetscAbsReal(bar.err);
    bar.trusted     = (PetscBool)!PetscIsInfOrNanReal(bar.err);
    return bar; /* no observed order */
  }
  if (est->fallback) { /* the grid coarsened by 2 alone; the time part from it solved again */
    const PetscReal time = qt ? qtk - q2[k] : 0;
    bar.grid             = (fine - q2[k]) / ItEstimateDivisor(est->order);
    bar.err              = est->transient && t == 0 ? 0 : bar.grid + time;
    bar.uncertainty      = PetscAbsReal(bar.grid + time) + PetscAbsReal(bar.grid) +
                      IT_ESTIMATE_TIME_SPREAD * PetscAbsReal(time); /* margin: the grid part */
    return bar;                                                     /* order unknown, not trusted */
  }
  bar.grid        = ItEstimateCorrection(est->order, fine, q2[k], q4k, (PetscReal)NAN);
  bar.order       = ItEstimateOrder(fine, q2[k], q4k);
  bar.trusted     = ItEstimateTrustedBar(est->order, fine, q2[k], q4k, qtk);
  bar.err         = ItEstimateCorrection(est->order, fine, q2[k], q4k, qtk);
  bar.uncertainty = ItEstimateUncertainty(est->order, fine, q2[k], q4k, qtk);
  if (est->transient && t == 0) {
    bar.err         = 0;
    bar.uncertainty = ItEstimateInitialUncertainty(fine, q2[k], q4k);
    bar.trusted     = ItEstimateInitialResolved(fine, q2[k], q4k);
  }
  return bar;
}

/* The table's row at time t from the fine values: values, _err, _extrap,
   _uncertainty, _trusted. */
PetscErrorCode ItEstimateRow(ItEstimate est, PetscReal t, const PetscReal values[],
                             const PetscReal **row) {
  const PetscInt   n = est->ncol, m = est->nextra;
  const PetscReal *q[IT_ESTIMATE_NLEVEL];
  PetscInt         unresolved = 0;
  const char      *first      = NULL;

  PetscFunctionBegin;
  ItEstimateRowsAt(est, t, q);
  PetscCall(PetscArraycpy(est->row, values, n));
  for (PetscInt e = 0; e < m; e++) {
    const PetscInt      k   = est->extra[e];
    const ItEstimateBar bar = ItEstimateColumnBar(est, q, k, t, values[k]);
    if (est->transient && t == 0 && !est->fallback && q[IT_ESTIMATE_2H] && !bar.trusted &&
        !PetscIsInfOrNanReal(values[k]) && !unresolved++) /* a blank value has nothing to resolve */
      first = est->names[k];
    est->row[n + e]         = bar.err;
    est->row[n + m + e]     = values[k] + bar.err;
    est->row[n + 2 * m + e] = bar.uncertainty;
    est->row[n + 3 * m + e] = bar.trusted ? 1 : 0;
  }
  if (unresolved)
    PetscCall(
        PetscFPrintf(PETSC_COMM_WORLD, PETSC_STDERR,
                     "infotherm: warning: the initial density is under-resolved: %" PetscInt_FMT
                     " of its diagnostics (first %s) differ between the grids coarsened by "
                     "1, 2 and 4 at an observed order below %g (its t = 0 row has "
                     "<q>_trusted 0); refine -grid_n or widen the initial density\n",
                     unresolved, first, (double)IT_ESTIMATE_ORDER_MIN));
  *row = est->row;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The cost of the coarse solves: seconds each, their sum, and the sum as a
   fraction of the fine solve's. */
static PetscErrorCode ItEstimateCost(ItEstimate est, json_t **cost) {
  static const char *const names[] = {"coarse_2h", "coarse_4h", "coarse_4h_tight_time"};
  static const char *const order[] = {"fourth_order"};
  PetscLogDouble           total   = 0;

  PetscFunctionBegin;
  PetscCall(ItJSONPack(cost, "{s:o}", "fine_solve_seconds", ItJSONReal(est->fine_seconds)));
  for (PetscInt k = 0; k < est->nlevel; k++) {
    char key[64];
    total += est->level[k].seconds;
    PetscCall(
        PetscSNPrintf(key, sizeof(key), "%s_seconds", est->order_difference ? order[k] : names[k]));
    PetscCall(ItJSONSet(*cost, key, ItJSONReal(est->level[k].seconds)));
  }
  PetscCall(ItJSONSet(*cost, "seconds", ItJSONReal(total)));
  PetscCall(ItJSONSet(*cost, "fraction_of_fine_solve",
                      ItJSONReal(est->fine_seconds > 0 ? total / est->fine_seconds : NAN)));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Warns on stderr about the quantities whose bar is not trusted: observed
   order not near the expected order p0, or grid and time parts that nearly
   cancel (ItEstimateTrustedBar). */
static PetscErrorCode ItEstimateWarn(PetscInt p0, PetscInt nuntrusted, const char *list) {
  PetscFunctionBegin;
  if (nuntrusted)
    PetscCall(PetscFPrintf(PETSC_COMM_WORLD, PETSC_STDERR,
                           "infotherm: warning: the error estimate of %" PetscInt_FMT
                           " quantit%s is not trustworthy (observed order outside [%g, %g], or "
                           "grid and time errors that nearly cancel: %s): the grids are not in "
                           "the asymptotic regime; refine the grid (a larger -grid_n)\n",
                           nuntrusted, nuntrusted > 1 ? "ies" : "y",
                           (double)(p0 - IT_ESTIMATE_ORDER_BELOW),
                           (double)(p0 + IT_ESTIMATE_ORDER_ABOVE), list));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* summary.json: <q>_err and <q>_extrap in final, and "error_estimate" with
   the coarse grids, the cost, and per quantity the correction (grid and time
   parts), the observed order and whether it is trusted; warns about the
   untrusted ones. Collective. */
PetscErrorCode ItEstimateSummary(ItEstimate est, ItDiag diag, json_t *root, json_t *final) {
  const PetscReal *values   = ItDiagGetValues(diag);
  const PetscReal  t        = ItDiagGetTime(diag);
  const PetscReal  range[2] = {est->order - IT_ESTIMATE_ORDER_BELOW,
                               est->order + IT_ESTIMATE_ORDER_ABOVE};
  json_t          *quantities, *untrusted, *cost, *grids, *object, *order_range;
  ItBuffer         list       = {0};
  PetscInt         nuntrusted = 0;
  const PetscReal *q[IT_ESTIMATE_NLEVEL];

  PetscFunctionBegin;
  ItEstimateRowsAt(est, t, q);
  PetscCall(ItJSONPack(&quantities, "{}"));
  PetscCall(ItJSONPack(&untrusted, "[]"));
  PetscCall(ItJSONPack(&grids, "[]"));
  for (PetscInt k = 0; k < est->nlevel; k++) {
    json_t *n;
    PetscCall(ItJSONPack(&n, "[]"));
    for (PetscInt i = 0; i < ItGridGetInfo(est->level[k].grid)->dim; i++)
      PetscCall(ItJSONAppend(n, json_integer(ItGridGetInfo(est->level[k].grid)->n[i])));
    PetscCall(ItJSONAppend(grids, n));
  }
  for (PetscInt e = 0; e < est->nextra; e++) {
    const PetscInt      k    = est->extra[e];
    const char         *name = ItDiagGetColumnName(diag, k);
    const ItEstimateBar bar  = ItEstimateColumnBar(est, q, k, t, values[k]);
    const PetscReal     err = bar.err, grid = bar.grid, order = bar.order;
    const PetscBool     trusted = bar.trusted;
    char                key[IT_DIAG_NAME_LEN + 16];
    json_t             *quantity;
    PetscCall(PetscSNPrintf(key, sizeof(key), "%s_err", name));
    PetscCall(ItJSONSet(final, key, ItJSONReal(err)));
    PetscCall(PetscSNPrintf(key, sizeof(key), "%s_extrap", name));
    PetscCall(ItJSONSet(final, key, ItJSONReal(values[k] + err)));
    PetscCall(PetscSNPrintf(key, sizeof(key), "%s_uncertainty", name));
    PetscCall(ItJSONSet(final, key, ItJSONReal(bar.uncertainty)));
    PetscCall(PetscSNPrintf(key, sizeof(key), "%s_trusted", name));
    PetscCall(ItJSONSet(final, key, json_integer(trusted ? 1 : 0)));
    PetscCall(ItJSONPack(
        &quantity, "{s:o, s:o, s:o, s:o, s:o, s:b}", "err", ItJSONReal(err), "grid_err",
        ItJSONReal(grid), "time_err", ItJSONReal(est->time_error ? err - grid : NAN), "uncertainty",
        ItJSONReal(bar.uncertainty), "order", ItJSONReal(order), "trusted", (int)trusted));
    PetscCall(ItJSONSet(quantities, name, quantity));
    if (trusted) continue;
    PetscCall(ItJSONAppend(untrusted, json_string(name)));
    if (nuntrusted++ < 4)
      PetscCall(
          ItBufferPrintf(&list, "%s%s %.2g", nuntrusted > 1 ? ", " : "", name, (double)order));
  }
  if (nuntrusted > 4) PetscCall(ItBufferPrintf(&list, ", ..."));
  PetscCall(ItEstimateCost(est, &cost));
  PetscCall(ItJSONRealArray(2, range, &order_range));
  PetscCall(ItJSONPack(&object, "{s:o, s:b, s:o, s:o, s:o, s:o, s:o}", "coarse_grids", grids,
                       "time_error_estimated", (int)est->time_error, "time_tolerance_factor",
                       ItJSONReal(IT_ESTIMATE_TIGHTER), "order_range", order_range, "untrusted",
                       untrusted, "cost", cost, "quantities", quantities));
  PetscCall(ItJSONSet(object, "fallback", est->fallback ? json_string(est->why) : json_null()));
  PetscCall(ItJSONSet(object, "expected_order", json_integer(est->order)));
  PetscCall(ItJSONSet(object, "method",
                      json_string(est->order_difference ? "order_difference" : "richardson")));
  if (est->order_difference) PetscCall(ItJSONSet(object, "order_range", json_null()));
  PetscCall(ItJSONSet(root, "error_estimate", object));
  if (!est->fallback && !est->order_difference)
    PetscCall(ItEstimateWarn(est->order, nuntrusted, list.text ? list.text : ""));
  PetscCall(ItBufferFree(&list));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The level's rows at the n times t[] (each must exist): values (n x ncol)
   and covariances (n x d x d, when kept); NaN for a level the fall-back
   left out or moved (ItEstimateCheckLevels). For the cross-check. */
PetscErrorCode ItEstimateLevelRows(ItEstimate est, PetscInt level, PetscInt n, const PetscReal t[],
                                   PetscReal values[], PetscReal cov[]) {
  ItEstimateLevel *L = &est->level[level];
  const PetscInt   d = ItGridGetInfo(L->grid)->dim;

  PetscFunctionBegin;
  if (L->skipped || (est->fallback && level == IT_ESTIMATE_4H_TIGHT)) { /* none: NaN */
    for (PetscInt j = 0; j < n * est->ncol; j++) values[j] = (PetscReal)NAN;
    for (PetscInt j = 0; cov && j < n * d * d; j++) cov[j] = (PetscReal)NAN;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  for (PetscInt k = 0; k < n; k++) {
    const PetscReal *row = ItEstimateLevelRow(est, L, t[k]);
    const PetscInt   r   = row ? (PetscInt)((row - L->values) / PetscMax(est->ncol, 1)) : -1;
    PetscCheck(row, PETSC_COMM_WORLD, PETSC_ERR_PLIB,
               "-error_estimate: the grid coarsened by %" PetscInt_FMT " has no row at t = %g",
               L->factor, (double)t[k]);
    PetscCall(PetscArraycpy(&values[k * est->ncol], row, est->ncol));
    if (cov) PetscCall(PetscArraycpy(&cov[k * d * d], &L->cov[r * d * d], d * d));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The expected order p0 of the Richardson correction: the operator's (-fp_order). */
PetscInt ItEstimateGetOrder(ItEstimate est) {
  return est->order;
}

/* The coarse solves: 3 with the time-error solve, else 2. */
PetscInt ItEstimateGetLevelCount(ItEstimate est) {
  return est->nlevel;
}

PetscErrorCode ItEstimateDestroy(ItEstimate *estp) {
  ItEstimate est = *estp;

  PetscFunctionBegin;
  if (!est) PetscFunctionReturn(PETSC_SUCCESS);
  for (PetscInt k = 0; k < IT_ESTIMATE_NLEVEL; k++) {
    ItEstimateLevel *L = &est->level[k];
    PetscCall(VecDestroy(&L->p));
    PetscCall(ItDiagDestroy(&L->diag));
    PetscCall(ItGridDestroy(&L->grid));
    PetscCall(PetscFree(L->t));
    PetscCall(PetscFree(L->values));
    PetscCall(PetscFree(L->cov));
  }
  PetscCall(PetscFree(est->extra));
  PetscCall(PetscFree(est->names));
  PetscCall(PetscFree(est->row));
  PetscCall(PetscFree(est));
  *estp = NULL;
  PetscFunctionReturn(PETSC_SUCCESS);
}
