/* The relaxation spectrum of doc/physics.md §6: the eigenvalues of the
   finite-volume operator L (src/fp) nearest 0, -λ_1, -λ_2, ..., and their
   eigenvectors, by SLEPc's Krylov–Schur with shift-and-invert.

   The eigenvalue 0 is excluded by construction, not by a tolerance. L's
   columns sum to zero, so the constant is its left eigenvector of 0, and
   every right eigenvector of another eigenvalue sums to zero (1ᵀL v = 0 =
   -λ 1ᵀv). The zero-sum vectors form an invariant subspace of L, and of
   (L - σ)⁻¹, that holds every eigenvector but the stationary density's:
   the eigensolver is confined to it by the deflation space {1} (SLEPc keeps
   its basis orthogonal to it). Deflating with the stationary density instead
   would be wrong for a non-symmetric L: its orthogonal complement is not
   invariant. A pair whose vector does not sum to zero (the stationary density
   leaking back in through round-off) is refused all the same.

   The shift σ > 0 lies right of the whole spectrum (every eigenvalue of L has
   Re <= 0: σ - L is an M-matrix, diagonally dominant by columns), so the
   shifted systems are never singular; the eigenvalues are ordered by the
   distance of their real parts to σ, i.e. by the decay rate. */
#include <slepceps.h>
#include <infotherm/spectrum.h>

#if defined(PETSC_USE_COMPLEX)
#error "infotherm's spectrum needs PETSc with real scalars"
#endif

/* An eigenpair is accepted when its explicit relative residual
   ‖L x - μ x‖/(|μ| ‖x‖) is below this, and its vector sums to zero within
   IT_SPECTRUM_SUM_LIMIT of its 1-norm. */
#define IT_SPECTRUM_RESIDUAL_LIMIT 1e-6
#define IT_SPECTRUM_SUM_LIMIT 1e-6

struct _p_ItSpectrum {
  ItGrid    grid;
  ItModel   model;
  ItFP      fp;
  Mat       L4, P; /* -fp_order 4: the matrix-free L, and SG's L - target I preconditioning it */
  EPS       eps;
  PetscReal t, fastest; /* fastest: the largest |L_kk| */
  PetscInt  nev;
  /* the result, slowest first */
  PetscInt   count, iterations;
  PetscReal *rate, *imag, *residual, *boundary;
  Vec       *vec;
};

PetscErrorCode ItSpectrumCreate(ItGrid grid, ItModel model, ItSpectrum *spectrum) {
  ItSpectrum s;

  PetscFunctionBegin;
  for (PetscInt a = 0; a < ItGridGetInfo(grid)->dim; a++) {
    char option[64];
    if (ItGridGetInfo(grid)->boundary[a] != IT_BOUNDARY_THRESHOLD_RESET ||
        ItGridGetInfo(grid)->refractory[a] == 0)
      continue;
    PetscCall(ItGridRefractoryOption(model, a, option, sizeof(option)));
    SETERRQ(ItGridGetInfo(grid)->comm, PETSC_ERR_USER_INPUT,
            "spectrum with a refractory time (%g on %s): the delayed re-injection makes the "
            "eigenproblem nonlinear (e^{-lambda tau_ref} in the operator); set %s 0",
            (double)ItGridGetInfo(grid)->refractory[a], ItModelGetVariableName(model, a), option);
  }
  PetscCall(SlepcInitialize(NULL, NULL, NULL, NULL)); /* once; PETSc runs already */
  PetscCall(PetscNew(&s));
  s->grid   = grid;
  s->model  = model;
  s->nev    = 4;
  *spectrum = s;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A generic smooth weight over the box, exp(Σ_a c_a ξ_a) with ξ_a in [0, 1]
   the cell's place along axis a: without symmetry, so its overlap with any
   eigenvector is generically non-zero (it fixes the eigenvectors' phase). */
static PetscReal ItSpectrumWeight(ItGrid grid, const PetscInt c[]) {
  const ItGridInfo *info     = ItGridGetInfo(grid);
  PetscReal         exponent = 0;

  for (PetscInt a = 0; a < info->dim; a++) exponent += (1.0 + 0.37 * a) * (c[a] + 0.5) / info->n[a];
  return PetscExpReal(exponent);
}

/* The start of the Krylov space: a fixed pseudo-random value per cell, from
   the cell's natural index, so that any number of ranks starts alike. */
static PetscErrorCode ItSpectrumInitialVector(ItGrid grid, Vec v) {
  PetscScalar *va;

  PetscFunctionBegin;
  PetscCall(VecGetArray(v, &va));
  ItGridForOwned(grid, c, l) {
    const PetscReal u = PetscSinReal(12.9898 * (ItGridNaturalIndex(grid, c) + 1)) * 43758.5453;
    va[l]             = u - PetscFloorReal(u) - 0.5;
  }
  PetscCall(VecRestoreArray(v, &va));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The shift-and-invert's linear solver: a direct LU (MUMPS when PETSc has it,
   which also factors over several ranks); -spectrum_st_ksp_*,
   -spectrum_st_pc_* change it (an iterative solver needs a tight
   -spectrum_st_ksp_rtol). */
static PetscErrorCode ItSpectrumSetSolver(ItSpectrum s) {
  ST        st;
  KSP       ksp;
  PC        pc;
  PetscBool mumps;

  PetscFunctionBegin;
  PetscCall(EPSGetST(s->eps, &st));
  PetscCall(STSetType(st, STSINVERT));
  PetscCall(STGetKSP(st, &ksp));
  PetscCall(KSPSetType(ksp, KSPPREONLY));
  PetscCall(KSPGetPC(ksp, &pc));
  PetscCall(PCSetType(pc, PCLU));
  PetscCall(PetscHasExternalPackage("mumps", &mumps));
  if (mumps) PetscCall(PCFactorSetMatSolverType(pc, MATSOLVERMUMPS));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The default shift: 1e-3 of the operator's largest diagonal entry (its
   fastest local rate, ~ D/h^2), far below the fast end of the spectrum. Not
   smaller: the component along the stationary density that round-off puts
   into each shifted solve grows as 1/σ, and the deflation turns it into an
   error of the slow eigenvectors (measured on the bistable synapse at
   sigma_w = 0.15: relative residual 2e-6 at σ = 5e-4, 5e-7 at σ = 1, while
   λ_1 = 6.5e-6 agrees to 1e-8). */
static PetscErrorCode ItSpectrumDefaultTarget(ItSpectrum s, Mat L, PetscReal *target) {
  Vec d;

  PetscFunctionBegin;
  PetscCall(MatCreateVecs(L, &d, NULL));
  PetscCall(MatGetDiagonal(L, d));
  PetscCall(VecNorm(d, NORM_INFINITY, &s->fastest));
  PetscCall(VecDestroy(&d));
  *target = 1e-3 * s->fastest;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The eigensolver's options that cannot give the slowest rates: a target
   that is not finite (MUMPS then fails inside the factorisation), and
   solvers that find only the largest eigenvalues (power, subspace). */
static PetscErrorCode ItSpectrumCheckEPS(ItSpectrum s) {
  PetscScalar target;
  EPSType     type;
  PetscBool   power, subspace;

  PetscFunctionBegin;
  PetscCall(EPSGetTarget(s->eps, &target));
  const ItGridInfo *info = ItGridGetInfo(s->grid);
  PetscCheck(!PetscIsInfOrNanScalar(target), info->comm, PETSC_ERR_USER_INPUT,
             "-spectrum_eps_target %g is not finite; give a finite target (or drop it: the "
             "default sits next to the slowest rates)",
             (double)PetscRealPart(target));
  PetscCall(EPSGetType(s->eps, &type));
  PetscCall(PetscStrcmp(type, EPSPOWER, &power));
  PetscCall(PetscStrcmp(type, EPSSUBSPACE, &subspace));
  PetscCheck(!power && !subspace, info->comm, PETSC_ERR_USER_INPUT,
             "-spectrum_eps_type %s finds only the largest eigenvalues, not the slowest rates "
             "near the target; use krylovschur (the default), arnoldi, gd or jd",
             type);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* -fp_order 4: the eigenproblem's operator is the fourth-order L, applied
   matrix-free; the shift-and-invert solves (L - target I) x = b by GMRES to
   1e-13, preconditioned by the LU of the assembled Scharfetter–Gummel
   L - target I (SLEPc's STSetPreconditionerMat, ST_MATMODE_SHELL). The
   multigrid of the time stepper would do for larger grids; the direct
   factor is the shift-and-invert's default at order 2 too. Collective. */
static PetscErrorCode ItSpectrumSetFourth(ItSpectrum s, Mat L, PetscReal target) {
  ST  st;
  KSP ksp;
  PC  pc;

  PetscFunctionBegin;
  PetscCall(ItFPCreateShiftedFree(ItFPGetFaces(s->fp), &s->L4));
  PetscCall(ItFPShiftedSet(s->L4, 0, -1, -1, 0)); /* -(0 I - L) = L */
  PetscCall(MatDuplicate(L, MAT_COPY_VALUES, &s->P));
  PetscCall(MatShift(s->P, -target));
  PetscCall(EPSSetOperators(s->eps, s->L4, NULL));
  PetscCall(EPSGetST(s->eps, &st));
  PetscCall(STSetMatMode(st, ST_MATMODE_SHELL));
  PetscCall(STSetPreconditionerMat(st, s->P));
  PetscCall(STGetKSP(st, &ksp));
  PetscCall(KSPSetType(ksp, KSPGMRES));
  PetscCall(KSPGMRESSetRestart(ksp, 100));
  PetscCall(KSPSetTolerances(ksp, 1e-13, PETSC_DEFAULT, PETSC_DEFAULT, 1000));
  PetscCall(KSPGetPC(ksp, &pc));
  PetscCall(PCSetType(pc, PCLU));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The eigensolver on L(t): Krylov–Schur, shift-and-invert around a target
   right of 0, confined to the zero-sum vectors, options prefix spectrum_
   (under -fp_order 4 ItSpectrumSetFourth). */
static PetscErrorCode ItSpectrumSetUpEPS(ItSpectrum s) {
  Mat       L;
  Vec       ones, start;
  PetscReal target = 0;

  PetscFunctionBegin;
  PetscCall(ItFPCreate(s->grid, s->model, &s->fp));
  PetscCall(ItFPSetTime(s->fp, s->t));
  PetscCall(ItFPGetMatrix(s->fp, &L));
  PetscCall(ItSpectrumDefaultTarget(s, L, &target));
  const ItGridInfo *info = ItGridGetInfo(s->grid);
  PetscCall(EPSCreate(info->comm, &s->eps));
  PetscCall(EPSSetOptionsPrefix(s->eps, "spectrum_"));
  PetscCall(EPSSetOperators(s->eps, L, NULL));
  PetscCall(EPSSetProblemType(s->eps, EPS_NHEP));
  PetscCall(EPSSetType(s->eps, EPSKRYLOVSCHUR));
  /* one more than asked, so that a complex pair at the end is complete */
  PetscCall(EPSSetDimensions(s->eps, s->nev + 1, PETSC_DEFAULT, PETSC_DEFAULT));
  PetscCall(EPSSetWhichEigenpairs(s->eps, EPS_TARGET_REAL));
  PetscCall(EPSSetTarget(s->eps, target));
  PetscCall(EPSSetTolerances(s->eps, 1e-12, 1000));
  PetscCall(ItSpectrumSetSolver(s));
  if (info->order_fp == 4) PetscCall(ItSpectrumSetFourth(s, L, target));
  PetscCall(DMCreateGlobalVector(info->da, &ones));
  PetscCall(VecSet(ones, 1.0));
  PetscCall(EPSSetDeflationSpace(s->eps, 1, &ones));
  PetscCall(VecDuplicate(ones, &start));
  PetscCall(ItSpectrumInitialVector(s->grid, start));
  PetscCall(EPSSetInitialSpace(s->eps, 1, &start));
  PetscCall(VecDestroy(&ones));
  PetscCall(VecDestroy(&start));
  PetscCall(EPSSetFromOptions(s->eps));
  PetscCall(ItSpectrumCheckEPS(s));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The option names of the spectrum's options and the prefixes of its SLEPc objects
 * (src/model/option_names.c). */
const ItOptionName ItSpectrumOptionNames[] = {{"spectrum_t", 0},
                                              {"spectrum_nev", IT_OPTION_INTEGER},
                                              {"spectrum_eps_", IT_OPTION_PETSC},
                                              {"spectrum_st_", IT_OPTION_PETSC},
                                              {"spectrum_bv_", IT_OPTION_PETSC},
                                              {"spectrum_ds_", IT_OPTION_PETSC},
                                              {"spectrum_rg_", IT_OPTION_PETSC},
                                              {NULL, 0}};

/* -spectrum_t, -spectrum_nev, then the eigensolver (and its -spectrum_eps_*,
   -spectrum_st_* options). Collective. */
PetscErrorCode ItSpectrumSetFromOptions(ItSpectrum s) {
  const PetscInt ncell = ItGridCellCount(s->grid);

  PetscFunctionBegin;
  const ItGridInfo *info = ItGridGetInfo(s->grid);
  PetscOptionsBegin(info->comm, NULL, "Relaxation spectrum", "ItSpectrum");
  PetscCall(PetscOptionsReal("-spectrum_t", "time whose parameters build the operator L", NULL,
                             s->t, &s->t, NULL));
  PetscCall(PetscOptionsInt("-spectrum_nev", "number of relaxation rates lambda_1, lambda_2, ...",
                            NULL, s->nev, &s->nev, NULL));
  PetscOptionsEnd();
  PetscCheck(PetscIsNormalReal(s->t) || s->t == 0, info->comm, PETSC_ERR_USER_INPUT,
             "-spectrum_t %g is not a finite time", (double)s->t);
  PetscCheck(s->t >= 0, info->comm, PETSC_ERR_USER_INPUT, "-spectrum_t %g: the time must be >= 0",
             (double)s->t);
  PetscCheck(s->nev >= 1 && s->nev <= ncell / 2 - 1, info->comm, PETSC_ERR_USER_INPUT,
             "-spectrum_nev %" PetscInt_FMT
             ": the number of rates must be between 1 and %" PetscInt_FMT
             " (half the %" PetscInt_FMT " cells, less one)",
             s->nev, ncell / 2 - 1, ncell);
  PetscCall(ItSpectrumSetUpEPS(s));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Sums over the cells of an eigenvector x = xr + i xi (xi NULL: real): the
   overlaps with the weight (m[0], m[1]), Σ|x| (m[2]), Σ|x| over the
   outermost cells (m[3]) and Σ xr, Σ xi (m[4], m[5]). One reduction. */
static PetscErrorCode ItSpectrumSums(ItGrid grid, Vec xr, Vec xi, PetscReal m[6]) {
  const ItGridInfo  *info = ItGridGetInfo(grid);
  const PetscScalar *ra, *ia = NULL;
  PetscReal          local[6] = {0, 0, 0, 0, 0, 0};

  PetscFunctionBegin;
  PetscCall(VecGetArrayRead(xr, &ra));
  if (xi) PetscCall(VecGetArrayRead(xi, &ia));
  ItGridForOwned(grid, c, l) {
    const PetscReal r = PetscRealPart(ra[l]), i = ia ? PetscRealPart(ia[l]) : 0;
    const PetscReal w = ItSpectrumWeight(grid, c), modulus = PetscSqrtReal(r * r + i * i);
    PetscBool       wall = PETSC_FALSE;
    for (PetscInt a = 0; a < info->dim; a++) /* walls only (doc/physics.md §8) */
      wall |= ((c[a] == 0 && info->boundary[a] != IT_BOUNDARY_PERIODIC) ||
               (c[a] == info->n[a] - 1 && info->boundary[a] == IT_BOUNDARY_WALL));
    local[0] += r * w;
    local[1] += i * w;
    local[2] += modulus;
    local[3] += wall ? modulus : 0;
    local[4] += r;
    local[5] += i;
  }
  PetscCall(VecRestoreArrayRead(xr, &ra));
  if (xi) PetscCall(VecRestoreArrayRead(xi, &ia));
  PetscCall(ItGridSum(grid, 6, local, m));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Fixes the eigenvector's free factor: the phase that makes its overlap
   with the weight real and positive, and ∫|x| = 1. xi NULL: a real vector. */
static PetscErrorCode ItSpectrumNormalize(ItGrid grid, const PetscReal m[6], Vec xr, Vec xi) {
  const ItGridInfo *info    = ItGridGetInfo(grid);
  const PetscReal   overlap = PetscSqrtReal(m[0] * m[0] + m[1] * m[1]);
  const PetscReal   scale   = 1.0 / (m[2] * info->cell_volume);
  PetscReal         a = scale, b = 0;

  PetscFunctionBegin;
  if (overlap > 0) a = scale * m[0] / overlap, b = scale * m[1] / overlap;
  if (!xi) {
    PetscCall(VecScale(xr, a < 0 ? -scale : scale));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  {
    PetscScalar *ra, *ia;
    PetscCall(VecGetArray(xr, &ra));
    PetscCall(VecGetArray(xi, &ia));
    for (PetscInt l = 0; l < info->nlocal; l++) {
      const PetscReal r = PetscRealPart(ra[l]), i = PetscRealPart(ia[l]);
      ra[l] = a * r + b * i; /* (xr + i xi)(m0 - i m1)/|m| */
      ia[l] = a * i - b * r;
    }
    PetscCall(VecRestoreArray(xr, &ra));
    PetscCall(VecRestoreArray(xi, &ia));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A converged eigenvalue μ = -rate + i imag of L, by its index in the solver. */
typedef struct {
  PetscReal rate, imag;
  PetscInt  index;
} ItSpectrumPair;

/* Slowest first; of a complex pair, +ω first (SLEPc gives both exactly). */
static int ItSpectrumCompare(const void *a, const void *b) {
  const ItSpectrumPair *p = (const ItSpectrumPair *)a, *q = (const ItSpectrumPair *)b;

  if (p->rate != q->rate) return p->rate < q->rate ? -1 : 1;
  if (p->imag != q->imag) return p->imag > q->imag ? -1 : 1;
  return p->index < q->index ? -1 : (p->index > q->index);
}

/* The converged eigenvalues whose vectors sum to zero, slowest first. */
static PetscErrorCode ItSpectrumCollect(ItSpectrum s, ItSpectrumPair **pairs, PetscInt *n) {
  PetscInt  nconv;
  Vec       xr, xi;
  PetscReal m[6];

  PetscFunctionBegin;
  PetscCall(EPSGetConverged(s->eps, &nconv));
  PetscCall(PetscMalloc1(nconv + 1, pairs));
  const ItGridInfo *info = ItGridGetInfo(s->grid);
  PetscCall(DMCreateGlobalVector(info->da, &xr));
  PetscCall(VecDuplicate(xr, &xi));
  *n = 0;
  for (PetscInt i = 0; i < nconv; i++) {
    PetscScalar kr, ki;
    PetscCall(EPSGetEigenpair(s->eps, i, &kr, &ki, xr, xi));
    PetscCall(ItSpectrumSums(s->grid, xr, xi, m));
    if (PetscAbsReal(m[4]) + PetscAbsReal(m[5]) > IT_SPECTRUM_SUM_LIMIT * m[2]) {
      PetscCall(PetscInfo(s->eps, "eigenvalue %g%+gi left out: its vector does not sum to zero\n",
                          (double)PetscRealPart(kr), (double)PetscRealPart(ki)));
      continue;
    }
    (*pairs)[(*n)++] = (ItSpectrumPair){-PetscRealPart(kr), PetscRealPart(ki), i};
  }
  PetscCall(VecDestroy(&xr));
  PetscCall(VecDestroy(&xi));
  qsort(*pairs, (size_t)*n, sizeof(**pairs), ItSpectrumCompare);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Rate k (and k+1, its conjugate, when complex) from the solver's pair:
   checked, its vector normalised. Returns how many rates it filled. */
static PetscErrorCode ItSpectrumTake(ItSpectrum s, const ItSpectrumPair pair[], PetscInt k,
                                     PetscInt *taken) {
  const PetscBool is_complex = (PetscBool)(pair[0].imag != 0);
  PetscScalar     kr, ki;
  PetscReal       m[6], error;

  PetscFunctionBegin;
  const ItGridInfo *info = ItGridGetInfo(s->grid);
  PetscCheck(!is_complex || (pair[0].imag > 0 && pair[1].rate == pair[0].rate &&
                             pair[1].imag == -pair[0].imag),
             info->comm, PETSC_ERR_PLIB, "lambda_%" PetscInt_FMT " lacks its complex conjugate",
             k + 1);
  *taken = is_complex ? 2 : 1;
  PetscCall(DMCreateGlobalVector(info->da, &s->vec[k]));
  if (is_complex) PetscCall(VecDuplicate(s->vec[k], &s->vec[k + 1]));
  PetscCall(EPSGetEigenpair(s->eps, pair[0].index, &kr, &ki, s->vec[k],
                            is_complex ? s->vec[k + 1] : NULL));
  PetscCall(EPSComputeError(s->eps, pair[0].index, EPS_ERROR_RELATIVE, &error));
  PetscCheck(error <= IT_SPECTRUM_RESIDUAL_LIMIT, info->comm, PETSC_ERR_NOT_CONVERGED,
             "lambda_%" PetscInt_FMT " = %g has a relative residual %.3g (more than %g): set "
             "-spectrum_eps_target (the shift, > 0) near the slowest rates, or tighten "
             "-spectrum_eps_tol; a rate below ~1e-9 of the fastest local rate (max |L_kk| = %g) "
             "is beyond double precision",
             k + 1, (double)pair[0].rate, (double)error, IT_SPECTRUM_RESIDUAL_LIMIT,
             (double)s->fastest);
  PetscCheck(pair[0].rate > 0, info->comm, PETSC_ERR_NOT_CONVERGED,
             "lambda_%" PetscInt_FMT " = %g is not a decay rate; the eigensolver went wrong: "
             "change -spectrum_eps_target",
             k + 1, (double)pair[0].rate);
  PetscCall(ItSpectrumSums(s->grid, s->vec[k], is_complex ? s->vec[k + 1] : NULL, m));
  PetscCall(ItSpectrumNormalize(s->grid, m, s->vec[k], is_complex ? s->vec[k + 1] : NULL));
  for (PetscInt j = 0; j < *taken; j++) {
    s->rate[k + j]     = pair[j].rate;
    s->imag[k + j]     = pair[j].imag;
    s->residual[k + j] = error;
    s->boundary[k + j] = m[3] / m[2];
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Solves for the -spectrum_nev slowest rates (one more when the last is
   half of a complex pair). Collective. */
PetscErrorCode ItSpectrumSolve(ItSpectrum s) {
  ItSpectrumPair *pair;
  PetscInt        n = 0, taken;

  PetscFunctionBegin;
  PetscCall(EPSSolve(s->eps));
  PetscCall(EPSGetIterationNumber(s->eps, &s->iterations));
  PetscCall(ItSpectrumCollect(s, &pair, &n));
  s->count = s->nev;
  if (n >= s->count && pair[s->count - 1].imag > 0) s->count++;
  const ItGridInfo *info = ItGridGetInfo(s->grid);
  PetscCheck(n >= s->count, info->comm, PETSC_ERR_NOT_CONVERGED,
             "only %" PetscInt_FMT " of the %" PetscInt_FMT " slowest relaxation rates converged "
             "after %" PetscInt_FMT " iterations; raise -spectrum_eps_max_it or -spectrum_eps_ncv",
             n, s->count, s->iterations);
  PetscCall(PetscCalloc4(s->count, &s->rate, s->count, &s->imag, s->count, &s->residual, s->count,
                         &s->boundary));
  PetscCall(PetscCalloc1(s->count, &s->vec));
  for (PetscInt k = 0; k < s->count; k += taken) PetscCall(ItSpectrumTake(s, &pair[k], k, &taken));
  PetscCall(PetscFree(pair));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscInt ItSpectrumGetCount(ItSpectrum s) {
  return s->count;
}

PetscReal ItSpectrumGetTime(ItSpectrum s) {
  return s->t;
}

/* Rate k (0-based): λ, its imaginary part (the eigenvalue of L is -λ + i imag)
   and the relative residual of its eigenpair. Not collective. */
PetscErrorCode ItSpectrumGetRate(ItSpectrum s, PetscInt k, PetscReal *rate, PetscReal *imag,
                                 PetscReal *residual) {
  PetscFunctionBegin;
  PetscCheck(k >= 0 && k < s->count, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
             "rate %" PetscInt_FMT " of %" PetscInt_FMT, k, s->count);
  if (rate) *rate = s->rate[k];
  if (imag) *imag = s->imag[k];
  if (residual) *residual = s->residual[k];
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The vector of rate k (the spectrum keeps it): normalised to ∫|x| = 1 with
   its overlap with a fixed weight real and positive; for a complex pair the
   real part of the first's eigenvector, then its imaginary part. */
PetscErrorCode ItSpectrumGetVector(ItSpectrum s, PetscInt k, Vec *v) {
  PetscFunctionBegin;
  PetscCheck(k >= 0 && k < s->count, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
             "rate %" PetscInt_FMT " of %" PetscInt_FMT, k, s->count);
  *v = s->vec[k];
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The fraction of ∫|x| in the outermost cells: a box too small shows here. */
PetscErrorCode ItSpectrumGetBoundaryMass(ItSpectrum s, PetscInt k, PetscReal *fraction) {
  PetscFunctionBegin;
  PetscCheck(k >= 0 && k < s->count, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
             "rate %" PetscInt_FMT " of %" PetscInt_FMT, k, s->count);
  *fraction = s->boundary[k];
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode ItSpectrumGetIterations(ItSpectrum s, PetscInt *iterations) {
  PetscFunctionBegin;
  *iterations = s->iterations;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode ItSpectrumDestroy(ItSpectrum *spectrum) {
  ItSpectrum s = *spectrum;

  PetscFunctionBegin;
  if (!s) PetscFunctionReturn(PETSC_SUCCESS);
  for (PetscInt k = 0; k < s->count; k++) PetscCall(VecDestroy(&s->vec[k]));
  PetscCall(PetscFree(s->vec));
  PetscCall(PetscFree4(s->rate, s->imag, s->residual, s->boundary));
  PetscCall(EPSDestroy(&s->eps));
  PetscCall(MatDestroy(&s->L4));
  PetscCall(MatDestroy(&s->P));
  PetscCall(ItFPDestroy(&s->fp));
  PetscCall(PetscFree(s));
  *spectrum = NULL;
  PetscFunctionReturn(PETSC_SUCCESS);
}
