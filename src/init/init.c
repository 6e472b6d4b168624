/* Initial densities (-init gaussian|stationary|file) for run, mc, crosscheck
   and the error estimates: the Gaussian N(-init_mean, -init_cov) at the cell
   centres (its options are read here, and the Monte Carlo draws its particles
   from the same mean and Cholesky factor), the stationary density of the
   parameters at t = 0, or a density snapshot on the run's grid. ItInitDensity
   makes the chosen one on the run's grid or on a coarsening of it (a snapshot
   restricted by averaging children). */
#include <infotherm/init.h>
#include <infotherm/gaussian.h>
#include <infotherm/solve.h>
#include <infotherm/io.h>

struct _p_ItInit {
  ItGrid     grid; /* the run's grid: a snapshot lives on it */
  ItModel    model;
  ItInitKind kind;
  char       file[PETSC_MAX_PATH_LEN];
};

/* The recipe of the run's grid and model; -init gaussian until
   ItInitSetFromOptions. Not collective. */
PetscErrorCode ItInitCreate(ItGrid grid, ItModel model, ItInit *init) {
  PetscFunctionBegin;
  PetscCall(PetscNew(init));
  (*init)->grid  = grid;
  (*init)->model = model;
  (*init)->kind  = IT_INIT_GAUSSIAN;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode ItInitDestroy(ItInit *init) {
  PetscFunctionBegin;
  PetscCall(PetscFree(*init));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The option names of the initial density's options (src/model/option_names.c). */
const ItOptionName ItInitOptionNames[] = {{"init", IT_OPTION_LOCAL},
                                          {"init_file", IT_OPTION_LOCAL},
                                          {"init_mean", 0},
                                          {"init_cov", 0},
                                          {NULL, 0}};

/* -init gaussian|stationary|file and -init_file. Collective. */
PetscErrorCode ItInitSetFromOptions(ItInit init) {
  static const char *const kinds[] = {"gaussian", "stationary", "file"};
  PetscInt                 kind    = 0;

  PetscFunctionBegin;
  PetscOptionsBegin(PETSC_COMM_WORLD, NULL, "Initial density", "ItApp");
  PetscCall(PetscOptionsEList("-init", "initial density", NULL, kinds, 3, kinds[0], &kind, NULL));
  PetscCall(PetscOptionsString("-init_file", "density snapshot (.h5) for -init file", NULL,
                               init->file, init->file, sizeof(init->file), NULL));
  PetscOptionsEnd();
  init->kind = (ItInitKind)kind;
  PetscCheck(kind != 2 || init->file[0], PETSC_COMM_WORLD, PETSC_ERR_USER_INPUT,
             "-init file needs -init_file FILE.h5");
  PetscFunctionReturn(PETSC_SUCCESS);
}

ItInitKind ItInitGetKind(ItInit init) {
  return init->kind;
}

/* A snapshot of mass below 1 is a scaled copy or what a model with a
   refractory time writes (doc/physics.md §8.2): the grid only, without the
   compartment's mass and the outflux history that re-injects it, so a run
   cannot start from it. Refused with one line saying both. Collective. */
static PetscErrorCode ItInitCheckRefractory(ItGrid grid, Vec p, const char what[]) {
  PetscReal mass, negative, nonfinite;

  PetscFunctionBegin;
  PetscCall(ItSolveCheckDensity(grid, p, what, "give a density snapshot written by infotherm"));
  PetscCall(ItSolveDensityStatus(grid, p, &mass, &negative, &nonfinite));
  PetscCheck(mass >= 1 - IT_SOLVE_MASS_TOLERANCE, ItGridGetInfo(grid)->comm, PETSC_ERR_USER_INPUT,
             "%s is not a normalised density: its mass is %.17g, less than 1 (a scaled copy, or "
             "the grid of a model with a refractory time, whose compartment and its history are "
             "not in a snapshot); give a snapshot of mass 1 (of a run without a refractory time, "
             "or its t = 0 snapshot)",
             what, (double)mass);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A density snapshot FILE on grid into p, checked and normalised; option
   names the option that gave it (-init_file, -kl_reference). Collective. */
PetscErrorCode ItInitReadDensity(ItGrid grid, ItModel model, const char option[], const char file[],
                                 Vec p) {
  char      what[PETSC_MAX_PATH_LEN + 32];
  PetscReal t;

  PetscFunctionBegin;
  ItIOProtectInput(file); /* -overwrite must not delete it */
  PetscCall(ItIOReadSnapshot(grid, model, file, p, &t));
  PetscCall(ItIOCheckSnapshotModel(model, option, file, PETSC_FALSE));
  PetscCall(PetscSNPrintf(what, sizeof(what), "%s %s", option, file));
  PetscCall(ItInitCheckRefractory(grid, p, what));
  PetscCall(ItSolveCheckReadDensity(grid, p, what, "give a density snapshot written by infotherm"));
  PetscCall(ItSolveNormalize(grid, p));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The initial density on grid: the run's grid (checked, with a message
   naming the options that made it) or a coarsening of it (the caller checks
   it: the error estimates name the coarse grid). Collective. */
PetscErrorCode ItInitDensity(ItInit init, ItGrid grid, Vec p) {
  const PetscBool fine = (PetscBool)(grid == init->grid);
  PetscReal       residual;
  PetscInt        its;
  Vec             pf;

  PetscFunctionBegin;
  const ItGridInfo *info = ItGridGetInfo(init->grid);
  switch (init->kind) {
  case IT_INIT_GAUSSIAN:
    PetscCall(ItInitGaussian(grid, p));
    if (fine)
      PetscCall(
          ItSolveCheckDensity(grid, p, "the initial Gaussian", "change -init_mean or -init_cov"));
    break;
  case IT_INIT_STATIONARY:
    PetscCall(ItSolveStationary(grid, init->model, 0, p, &residual, &its));
    if (fine)
      PetscCall(ItSolveCheckDensity(
          grid, p, "the stationary density of -init stationary",
          "tighten -stationary_ksp_rtol, or use -stationary_pc_type lu on a small grid"));
    break;
  default:
    if (fine) {
      PetscCall(ItInitReadDensity(grid, init->model, "-init_file", init->file, p));
      break;
    }
    PetscCall(DMCreateGlobalVector(info->da, &pf));
    PetscCall(ItInitReadDensity(init->grid, init->model, "-init_file", init->file, pf));
    PetscCall(ItGridRestrict(init->grid, grid, pf, p));
    PetscCall(VecDestroy(&pf));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Reads -init_mean and -init_cov (row-major, or the variances) and returns the
   mean and the lower Cholesky factor L, row-major, cov = L L^T. Defaults: the
   box centre and a diagonal covariance with six standard deviations to each
   wall. Refuses a covariance that is not symmetric positive definite, and a
   Gaussian that the box cuts (more than 1e-6 of its mass outside). Collective. */
PetscErrorCode ItInitGaussianOptions(ItGrid grid, PetscReal mean[], PetscReal L[]) {
  const ItGridInfo *info                         = ItGridGetInfo(grid);
  const PetscInt    d                            = info->dim;
  PetscReal         cov[IT_MAX_DIM * IT_MAX_DIM] = {0}, logdet;
  PetscInt          nmean = d, ncov = d * d;
  PetscBool         set;
  PetscBool         definite;

  PetscFunctionBegin;
  for (PetscInt i = 0; i < d; i++) {
    const PetscReal sd = (info->hi[i] - info->lo[i]) / 12;
    mean[i]            = 0.5 * (info->lo[i] + info->hi[i]);
    cov[i * d + i]     = sd * sd;
  }
  PetscOptionsBegin(info->comm, NULL, "Initial Gaussian", "ItInit");
  PetscCall(PetscOptionsRealArray("-init_mean", "mean of the initial Gaussian", NULL, mean, &nmean,
                                  &set));
  PetscCheck(!set || nmean == d, info->comm, PETSC_ERR_USER_INPUT,
             "-init_mean needs %" PetscInt_FMT " values; got %" PetscInt_FMT, d, nmean);
  for (PetscInt i = 0; i < d; i++)
    PetscCheck(!PetscIsInfOrNanReal(mean[i]), info->comm, PETSC_ERR_USER_INPUT,
               "-init_mean must be finite; value %" PetscInt_FMT " is %g", i + 1, (double)mean[i]);
  PetscCall(PetscOptionsRealArray("-init_cov", "covariance of the initial Gaussian, row-major",
                                  NULL, cov, &ncov, &set));
  PetscCheck(!set || ncov == d * d || ncov == d, info->comm, PETSC_ERR_USER_INPUT,
             "-init_cov needs %" PetscInt_FMT " values (row-major) or %" PetscInt_FMT
             " variances; got %" PetscInt_FMT,
             d * d, d, ncov);
  for (PetscInt k = 0; k < (set ? ncov : 0); k++)
    PetscCheck(!PetscIsInfOrNanReal(cov[k]), info->comm, PETSC_ERR_USER_INPUT,
               "-init_cov must be finite; value %" PetscInt_FMT " is %g", k + 1, (double)cov[k]);
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
                 info->comm, PETSC_ERR_USER_INPUT, "-init_cov must be symmetric");
  PetscCall(ItGaussianCholesky(d, cov, L, &logdet, &definite));
  PetscCheck(definite, info->comm, PETSC_ERR_USER_INPUT, "-init_cov must be positive definite");

  /* the mass outside the box, bounded by the sum over axes of the marginal tails */
  {
    PetscReal outside = 0;
    for (PetscInt i = 0; i < d; i++) {
      const PetscReal sd = PetscSqrtReal(2 * cov[i * d + i]);
      outside += 0.5 * (erfc((mean[i] - info->lo[i]) / sd) + erfc((info->hi[i] - mean[i]) / sd));
    }
    PetscCheck(outside <= 1e-6, info->comm, PETSC_ERR_USER_INPUT,
               "the box cuts the initial Gaussian (%g of its mass lies outside): widen "
               "-grid_lo/-grid_hi or narrow -init_cov",
               (double)outside);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A Gaussian much narrower than a cell underflows at every cell centre:
   refused with its narrowest axis (sd_i = |row i of L|) against the cell. */
static PetscErrorCode ItInitGaussianCheckWidth(ItGrid grid, const PetscReal L[], Vec p) {
  const ItGridInfo *info = ItGridGetInfo(grid);
  const PetscInt    d    = info->dim;
  PetscReal         mass, sd[IT_MAX_DIM] = {0};
  PetscInt          axis = 0;

  PetscFunctionBegin;
  PetscCall(VecSum(p, &mass));
  if (mass > 0 && !PetscIsInfOrNanReal(mass)) PetscFunctionReturn(PETSC_SUCCESS);
  for (PetscInt i = 0; i < d; i++) {
    for (PetscInt j = 0; j <= i; j++) sd[i] += L[i * d + j] * L[i * d + j];
    sd[i] = PetscSqrtReal(sd[i]);
    if (sd[i] / info->h[i] < sd[axis] / info->h[axis]) axis = i;
  }
  SETERRQ(info->comm, PETSC_ERR_USER_INPUT,
          "the initial Gaussian is narrower than a cell: it has no mass at any cell centre (its "
          "standard deviation along variable %" PetscInt_FMT " is %g, the cells are %g wide%s); "
          "widen -init_cov or refine -grid_n",
          axis + 1, (double)sd[axis], (double)info->h[axis],
          sd[axis] >= info->h[axis] ? "; it is thin along a diagonal: -init_cov is nearly singular"
                                    : "");
}

/* An -init_cov the grid resolves with fewer than two cells per standard
   deviation along an axis: the density at the cell centres then has the
   wrong variance and entropy (1e-6 on 0.094-wide cells: variance 0, entropy
   -6.12 instead of -10.98). A warning on stderr naming the option, once per
   command (coarse grids of -error_estimate are not warned about again). */
static PetscErrorCode ItInitGaussianWarnWidth(ItGrid grid, const PetscReal L[]) {
  const ItGridInfo *info   = ItGridGetInfo(grid);
  static PetscBool  warned = PETSC_FALSE;
  const PetscInt    d      = info->dim;
  PetscBool         set;

  PetscFunctionBegin;
  PetscCall(PetscOptionsHasName(NULL, NULL, "-init_cov", &set));
  if (warned || !set) PetscFunctionReturn(PETSC_SUCCESS);
  for (PetscInt i = 0; i < d && !warned; i++) {
    PetscReal sd = 0;
    for (PetscInt j = 0; j <= i; j++) sd += L[i * d + j] * L[i * d + j];
    sd = PetscSqrtReal(sd);
    if (sd < 2 * info->h[i]) {
      warned = PETSC_TRUE;
      PetscCall(PetscFPrintf(info->comm, PETSC_STDERR,
                             "infotherm: warning: -init_cov gives variable %" PetscInt_FMT
                             " a standard deviation of %g, %.2g cells of %g: below two cells per "
                             "standard deviation its variance and entropy on the grid are off; "
                             "widen -init_cov or refine -grid_n\n",
                             i + 1, (double)sd, (double)(sd / info->h[i]), (double)info->h[i]));
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The Gaussian density N(-init_mean, -init_cov) at the cell centres,
   normalised on the grid (ItInitGaussianOptions reads and checks it). Collective. */
PetscErrorCode ItInitGaussian(ItGrid grid, Vec p) {
  const ItGridInfo *info = ItGridGetInfo(grid);
  const PetscInt    d    = info->dim;
  PetscReal         mean[IT_MAX_DIM], L[IT_MAX_DIM * IT_MAX_DIM], logdet = 0;
  PetscScalar      *pa;

  PetscFunctionBegin;
  PetscCall(ItInitGaussianOptions(grid, mean, L));
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
  PetscCall(ItInitGaussianCheckWidth(grid, L, p));
  PetscCall(ItInitGaussianWarnWidth(grid, L));
  PetscCall(ItSolveNormalize(grid, p));
  PetscFunctionReturn(PETSC_SUCCESS);
}
