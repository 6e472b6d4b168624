/* Langevin particles (PHYSICS.md §1, §4): dx_i = A_i(x,t) dt + sqrt(2 D_i(x,t)) dW_i
   integrated with the model's own bulk drift and diffusion (ItModelEvaluate,
   the code the Fokker–Planck operator uses), by Euler–Maruyama (weak order 1)
   or, for additive noise, the explicit weak order-2 scheme of Kloeden & Platen
   (1992, eq. 15.1.4): x̄ = x + A(x,t) h + ΔW, x' = x + [A(x,t) + A(x̄,t+h)] h/2 + ΔW,
   ΔW_i = sqrt(2 D_i h) ξ_i. Walls reflect (x -> 2 lo - x), the particle
   picture of the solver's zero-flux walls. Along each path the medium entropy
   of variable i, ∫ F_i ∘ dx_i with F_i = (A_i - ∂i D_i)/D_i, is summed in the
   Stratonovich (trapezoidal) sense. Every normal deviate comes from Philox4x64-10
   keyed by (seed, global particle index) with the step number as counter, so
   a particle's path does not depend on which rank integrates it. */
#include <unistd.h>
#include <Random123/philox.h>
#include <infotherm/private/mcimpl.h>
#include <infotherm/solve.h>
#include <petscblaslapack.h>

/* Room for the deviates of one particle: d normals, or d + 1 uniforms, in draws of four. */
#define IT_MC_NDRAW (4 * ((IT_MAX_DIM + 4) / 4))

/* n >= 1 normal deviates z[] (Box–Muller) and the uniforms in (0, 1) they
   come from, u[], in Philox4x64-10 draws of four; draw k has k as its third
   counter word, so the first four deviates do not depend on n. */
static inline void ItMCNormals(PetscInt64 seed, PetscInt64 index, PetscInt64 counter,
                               PetscInt64 purpose, PetscInt n, PetscReal z[], PetscReal u[]) {
  const philox4x64_key_t k    = {{(uint64_t)seed, (uint64_t)index}};
  PetscInt               draw = 0;

  do {
    philox4x64_ctr_t c  = {{(uint64_t)counter, (uint64_t)purpose, (uint64_t)draw, 0}};
    philox4x64_ctr_t r  = philox4x64(c, k);
    PetscReal       *zd = &z[4 * draw], *ud = &u[4 * draw];

    for (int j = 0; j < 4; j++) ud[j] = ((double)(r.v[j] >> 11) + 0.5) * 0x1.0p-53;
    for (int j = 0; j < 4; j += 2) {
      const PetscReal rho = PetscSqrtReal(-2 * PetscLogReal(ud[j])), phi = 2 * PETSC_PI * ud[j + 1];
      zd[j]     = rho * PetscCosReal(phi);
      zd[j + 1] = rho * PetscSinReal(phi);
    }
  } while (4 * ++draw < n);
}

/* Drift and diffusion of the particles' model at time t: the model's
   parameters at t, but for one held at another value (-crosscheck_mc_param). */
static PetscErrorCode ItMCEvaluate(ItMC mc, PetscReal t, PetscInt n, const PetscReal x[],
                                   PetscReal A[], PetscReal D[]) {
  PetscReal p[IT_MAX_PARAMS];

  PetscFunctionBegin;
  PetscCall(ItModelGetParameters(mc->model, t, p));
  if (mc->override >= 0) p[mc->override] = mc->override_value;
  PetscCall(ItModelEvaluateWith(mc->model, t, p, n, x, A, D));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Holds parameter k at `value` in the Monte Carlo only, whatever its schedule
   (a test that the cross-check can fail). Not collective. */
PetscErrorCode ItMCSetParameter(ItMC mc, PetscInt k, PetscReal value) {
  PetscFunctionBegin;
  mc->override       = k;
  mc->override_value = value;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Folds x into [lo, hi] by reflection at the walls (period 2 (hi - lo)); a
   non-finite x is left as it is and reported by the estimate. */
static inline PetscReal ItMCReflect(PetscReal x, PetscReal lo, PetscReal hi) {
  const PetscReal L = hi - lo;
  PetscReal       y;

  if (x >= lo && x <= hi) return x;
  if (PetscIsInfOrNanReal(x)) return x;
  y = PetscFmodReal(x - lo, 2 * L);
  if (y < 0) y += 2 * L;
  if (y > L) y = 2 * L - y;
  return lo + y;
}

/* The model's drift Jacobian by central differences at x; its spectral radius. */
static PetscErrorCode ItMCSpectralRadius(ItMC mc, ItModel model, ItGrid grid, PetscReal t,
                                         const PetscReal x[], PetscReal *radius) {
  const PetscInt d = ItModelGetDimension(model);
  PetscReal      xp[2 * IT_MAX_DIM * IT_MAX_DIM], A[2 * IT_MAX_DIM * IT_MAX_DIM],
      D[2 * IT_MAX_DIM * IT_MAX_DIM];
  PetscReal    J[IT_MAX_DIM * IT_MAX_DIM], wr[IT_MAX_DIM], wi[IT_MAX_DIM], work[64], dummy = 0;
  PetscBLASInt n, lwork = 64, one = 1, info;

  PetscFunctionBegin;
  for (PetscInt j = 0; j < d; j++)
    for (PetscInt s = 0; s < 2; s++)
      for (PetscInt b = 0; b < d; b++)
        xp[(2 * j + s) * d + b] =
            x[b] + (b == j ? (s ? 1 : -1) * 1e-5 * (grid->hi[j] - grid->lo[j]) : 0);
  PetscCall(ItMCEvaluate(mc, t, 2 * d, xp, A, D));
  /* column-major for LAPACK: J(i,j) = dA_i/dx_j */
  for (PetscInt j = 0; j < d; j++)
    for (PetscInt i = 0; i < d; i++)
      J[j * d + i] =
          (A[(2 * j + 1) * d + i] - A[(2 * j) * d + i]) / (2e-5 * (grid->hi[j] - grid->lo[j]));
  PetscCall(PetscBLASIntCast(d, &n));
  PetscCallBLAS("LAPACKgeev", LAPACKgeev_("N", "N", &n, J, &n, wr, wi, &dummy, &one, &dummy, &one,
                                          work, &lwork, &info));
  PetscCheck(info == 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "LAPACK geev failed (info %d)", (int)info);
  *radius = 0;
  for (PetscInt i = 0; i < d; i++)
    *radius = PetscMax(*radius, PetscSqrtReal(wr[i] * wr[i] + wi[i] * wi[i]));
  if (PetscIsInfOrNanReal(*radius)) *radius = PETSC_MAX_REAL;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The stiffness rule: the drift Jacobian on a lattice of 5 points per axis
   (cell centres of a 5^d coarsening of the box) at t = 0, t_final/2 and
   t_final; the largest modulus of its eigenvalues, rho = 1/(the stiffest
   time constant). Both schemes are stable on dx = -x/tau only for dt < 2 tau.
   Also decides whether the noise is additive (D the same at every point). */
static PetscErrorCode ItMCInspect(ItMC mc, PetscReal t_final) {
  ItModel        model = mc->model;
  ItGrid         grid  = mc->grid;
  const PetscInt d     = ItModelGetDimension(model);
  PetscInt       npt   = 1;
  PetscReal      x[IT_MAX_DIM], A[IT_MAX_DIM], D[IT_MAX_DIM], D0[IT_MAX_DIM];

  PetscFunctionBegin;
  for (PetscInt i = 0; i < d; i++) npt *= 5;
  mc->stiffness = 0;
  mc->additive  = PETSC_TRUE;
  for (PetscInt s = 0; s < 3; s++) {
    const PetscReal t = 0.5 * s * t_final;
    for (PetscInt k = 0; k < npt; k++) {
      PetscReal radius = 0;
      for (PetscInt i = 0, r = k; i < d; i++, r /= 5)
        x[i] = grid->lo[i] + (r % 5 + 0.5) / 5 * (grid->hi[i] - grid->lo[i]);
      PetscCall(ItMCSpectralRadius(mc, model, grid, t, x, &radius));
      mc->stiffness = PetscMax(mc->stiffness, radius);
      PetscCall(ItMCEvaluate(mc, t, 1, x, A, D));
      if (s == 0 && k == 0)
        for (PetscInt i = 0; i < d; i++) D0[i] = D[i];
      for (PetscInt i = 0; i < d; i++)
        if (s == 0 && PetscAbsReal(D[i] - D0[i]) > 1e-14 * PetscAbsReal(D0[i]))
          mc->additive = PETSC_FALSE;
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Reads -mc_particles, -mc_scheme, -mc_dt, -mc_seed, -mc_batches,
   -mc_bandwidth and -quiet; *nbw gets the number of bandwidths given. Collective. */
static PetscErrorCode ItMCReadOptions(ItMC mc, PetscReal t_final, PetscInt *nbw) {
  static const char *const schemes[] = {"euler", "weak2"};
  PetscInt                 scheme = -1, seed = 1;
  PetscBool                set_scheme, set_dt;

  PetscFunctionBegin;
  mc->N      = 100000;
  mc->nbatch = 16;
  *nbw       = IT_MAX_DIM;
  PetscOptionsBegin(mc->comm, NULL, "Monte Carlo", "ItMC");
  PetscCall(PetscOptionsInt("-mc_particles", "number of particles", NULL, mc->N, &mc->N, NULL));
  PetscCall(PetscOptionsEList("-mc_scheme",
                              "Langevin scheme: euler (Euler–Maruyama) or weak2 (weak order 2, "
                              "additive noise); default weak2 when the noise is additive",
                              NULL, schemes, 2, mc->additive ? "weak2" : "euler", &scheme,
                              &set_scheme));
  PetscCall(PetscOptionsReal("-mc_dt",
                             "largest time step (default 0.01 times the stiffest time constant)",
                             NULL, mc->dt, &mc->dt, &set_dt));
  PetscCall(PetscOptionsInt("-mc_seed", "seed of the Philox streams", NULL, seed, &seed, NULL));
  PetscCall(PetscOptionsInt("-mc_batches",
                            "batches for the standard errors of the density estimates", NULL,
                            mc->nbatch, &mc->nbatch, NULL));
  PetscCall(PetscOptionsRealArray(
      "-mc_bandwidth",
      "kernel standard deviation per variable (default: Scott's rule sd N^(-1/(d+4)))", NULL,
      mc->bandwidth, nbw, &mc->bandwidth_set));
  PetscCall(PetscOptionsBool("-quiet", "no progress line", NULL, mc->quiet, &mc->quiet, NULL));
  PetscOptionsEnd();
  PetscCall(ItOptionsCheckInt(mc->comm, "-mc_particles"));
  PetscCall(ItOptionsCheckInt(mc->comm, "-mc_seed"));
  PetscCall(ItOptionsCheckInt(mc->comm, "-mc_batches"));
  if (!set_scheme) scheme = mc->additive ? IT_MC_WEAK2 : IT_MC_EULER;
  mc->scheme = (ItMCScheme)scheme;
  mc->seed   = seed;
  if (!set_dt) mc->dt = mc->stiffness > 0 ? 0.01 / mc->stiffness : t_final / 100;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Checks the options read by ItMCReadOptions; one bandwidth stands for every
   variable. The particles' coordinates are indexed by PetscInt (N x dim must
   fit), and t_final/dt steps must keep t + dt > t in double precision. */
static PetscErrorCode ItMCCheckOptions(ItMC mc, PetscReal t_final, PetscInt nbw) {
  ItModel        model = mc->model;
  const PetscInt d     = ItModelGetDimension(model);

  PetscFunctionBegin;
  PetscCheck(mc->N >= 1, mc->comm, PETSC_ERR_USER_INPUT,
             "-mc_particles must be at least 1; got %" PetscInt_FMT, mc->N);
  PetscCheck((PetscReal)mc->N * d <= PETSC_MAX_INT, mc->comm, PETSC_ERR_USER_INPUT,
             "-mc_particles %" PetscInt_FMT ": the coordinates of %" PetscInt_FMT
             "-variable particles do not fit in PETSc's %d-bit indices; use at most %" PetscInt_FMT,
             mc->N, d, (int)(8 * sizeof(PetscInt)), (PetscInt)(PETSC_MAX_INT / d));
  PetscCheck(mc->dt > 0 && !PetscIsInfOrNanReal(mc->dt), mc->comm, PETSC_ERR_USER_INPUT,
             "-mc_dt must be a positive time step; got %g", (double)mc->dt);
  PetscCheck(t_final / mc->dt <= 0x1p52, mc->comm, PETSC_ERR_USER_INPUT,
             "-mc_dt %g is too small for -t_final %g: %.3g steps, more than 2^52, where t + dt "
             "no longer moves t in double precision",
             (double)mc->dt, (double)t_final, (double)(t_final / mc->dt));
  PetscCheck(mc->dt * mc->stiffness < 2, mc->comm, PETSC_ERR_USER_INPUT,
             "-mc_dt %g is unstable for this model: its stiffest time constant is %g (largest "
             "drift-Jacobian eigenvalue %g on the box), and the scheme needs dt < 2 x that; use "
             "-mc_dt %g or less",
             (double)mc->dt, (double)(1 / mc->stiffness), (double)mc->stiffness,
             (double)(0.1 / mc->stiffness));
  PetscCheck(mc->scheme != IT_MC_WEAK2 || mc->additive, mc->comm, PETSC_ERR_USER_INPUT,
             "-mc_scheme weak2 needs additive noise, but the diffusion of model %s depends on the "
             "state; use -mc_scheme euler",
             ItModelGetTypeName(model));
  PetscCheck(mc->nbatch >= 2 && mc->nbatch <= IT_MC_MAX_BATCHES, mc->comm, PETSC_ERR_USER_INPUT,
             "-mc_batches must be between 2 and %d; got %" PetscInt_FMT, IT_MC_MAX_BATCHES,
             mc->nbatch);
  PetscCheck(mc->seed >= 0, mc->comm, PETSC_ERR_USER_INPUT,
             "-mc_seed must be non-negative; got %" PetscInt64_FMT, mc->seed);
  if (!mc->bandwidth_set) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCheck(nbw == 1 || nbw == d, mc->comm, PETSC_ERR_USER_INPUT,
             "-mc_bandwidth needs 1 or %" PetscInt_FMT
             " values (one per variable); got %" PetscInt_FMT,
             d, nbw);
  if (nbw == 1)
    for (PetscInt i = 1; i < d; i++) mc->bandwidth[i] = mc->bandwidth[0];
  for (PetscInt i = 0; i < d; i++)
    PetscCheck(mc->bandwidth[i] > 0, mc->comm, PETSC_ERR_USER_INPUT,
               "-mc_bandwidth must be positive; got %g for %s", (double)mc->bandwidth[i],
               ItModelGetVariableName(model, i));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Blocks of consecutive particles, the unit of every reduction and a function
   of N only; this rank owns blocks [b0, b1). Allocates its particles. */
static PetscErrorCode ItMCDistribute(ItMC mc) {
  const PetscInt d = ItModelGetDimension(mc->model);

  PetscFunctionBegin;
  mc->block   = PetscMax(1, PetscMin(1024, mc->N / (4 * mc->nbatch)));
  mc->nblocks = (mc->N + mc->block - 1) / mc->block;
  mc->b0      = (PetscInt)(((PetscInt64)mc->nblocks * mc->rank) / mc->size);
  mc->b1      = (PetscInt)(((PetscInt64)mc->nblocks * (mc->rank + 1)) / mc->size);
  mc->first   = mc->b0 * mc->block;
  mc->nlocal  = PetscMin(mc->N, mc->b1 * mc->block) - mc->first;
  if (mc->nlocal < 0) mc->nlocal = 0;
  PetscCall(PetscMalloc3(mc->nlocal * d, &mc->x, mc->nlocal * d, &mc->medium, mc->nlocal * d,
                         &mc->medium_prev));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Reads -mc_particles, -mc_scheme, -mc_dt, -mc_seed, -mc_batches,
   -mc_bandwidth and checks them (nothing is allocated for particles yet
   beyond this rank's share). Collective. */
PetscErrorCode ItMCCreate(ItGrid grid, ItModel model, ItDiag diag, PetscReal t_final, ItMC *out) {
  ItMC     mc;
  PetscInt nbw;

  PetscFunctionBegin;
  /* the medium entropy along paths uses the full force; with odd variables the
     solver's entropy flow uses the irreversible one (PHYSICS.md 3b) */
  for (PetscInt i = 0; i < ItModelGetDimension(model); i++)
    PetscCheck(ItModelGetParity(model, i) > 0, grid->comm, PETSC_ERR_USER_INPUT,
               "-parity %s:odd: the Monte Carlo supports even variables only (its entropy flows "
               "use the full force); drop -parity",
               ItModelGetVariableName(model, i));
  PetscCall(PetscNew(&mc));
  mc->comm     = grid->comm;
  mc->grid     = grid;
  mc->model    = model;
  mc->diag     = diag;
  mc->override = -1;
  PetscCallMPI(MPI_Comm_rank(mc->comm, &mc->rank));
  PetscCallMPI(MPI_Comm_size(mc->comm, &mc->size));
  PetscCall(ItMCInspect(mc, t_final));
  PetscCall(ItMCReadOptions(mc, t_final, &nbw));
  PetscCall(ItMCCheckOptions(mc, t_final, nbw));
  PetscCall(ItMCDistribute(mc));
  PetscCall(ItMCSetUpEstimates(mc));
  *out = mc;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* This rank's particles drawn from N(mean, L L^T). */
static void ItMCSampleGaussian(ItMC mc, const PetscReal mean[], const PetscReal L[]) {
  ItGrid         grid = mc->grid;
  const PetscInt d    = grid->dim;

  for (PetscInt k = 0; k < mc->nlocal; k++) {
    PetscReal z[IT_MC_NDRAW], u[IT_MC_NDRAW], *x = &mc->x[k * d];
    ItMCNormals(mc->seed, mc->first + k, 0, 1, d, z, u);
    for (PetscInt i = 0; i < d; i++) {
      x[i] = mean[i];
      for (PetscInt j = 0; j <= i; j++) x[i] += L[i * d + j] * z[j];
      x[i] = ItMCReflect(x[i], grid->lo[i], grid->hi[i]);
    }
  }
}

/* This rank's particles drawn from the grid density p0: a cell by its mass
   (bisection in the cumulative masses, natural order), then uniformly inside it. Collective. */
static PetscErrorCode ItMCSampleDensity(ItMC mc, Vec p0) {
  ItGrid         grid  = mc->grid;
  const PetscInt d     = grid->dim;
  const PetscInt ncell = ItGridCellCount(grid);
  PetscReal     *cdf;

  PetscFunctionBegin;
  PetscCall(PetscMalloc1(ncell, &cdf));
  PetscCall(ItMCGatherDensity(grid, p0, cdf));
  for (PetscInt c = 0; c < ncell; c++) cdf[c] = PetscMax(cdf[c], 0) + (c ? cdf[c - 1] : 0);
  for (PetscInt k = 0; k < mc->nlocal; k++) {
    PetscReal z[IT_MC_NDRAW], u[IT_MC_NDRAW], *x = &mc->x[k * d], target;
    PetscInt  lo = 0, hi = ncell - 1, cell[IT_MAX_DIM];
    ItMCNormals(mc->seed, mc->first + k, 0, 1, d + 1, z, u);
    target = u[0] * cdf[ncell - 1];
    while (lo < hi) { /* the first cell whose cumulative mass exceeds target */
      const PetscInt mid = (lo + hi) / 2;
      if (cdf[mid] > target)
        hi = mid;
      else
        lo = mid + 1;
    }
    ItGridNaturalCell(grid, lo, cell);
    for (PetscInt i = 0; i < d; i++) x[i] = grid->lo[i] + (cell[i] + u[1 + i]) * grid->h[i];
  }
  PetscCall(PetscFree(cdf));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The particles at t = 0, sampled from the initial density of `run`: a
   Gaussian initial density (-init gaussian) is drawn directly from
   N(-init_mean, -init_cov) (the same defaults as ItSolveGaussian), otherwise
   the grid density p0 is sampled (a cell by its mass, then uniformly inside
   it). Collective. */
PetscErrorCode ItMCInitialize(ItMC mc, PetscBool gaussian, Vec p0) {
  const PetscInt d = mc->grid->dim;
  PetscReal      mean[IT_MAX_DIM], L[IT_MAX_DIM * IT_MAX_DIM];

  PetscFunctionBegin;
  if (gaussian) {
    PetscCall(ItSolveGaussianOptions(mc->grid, mean, L));
    ItMCSampleGaussian(mc, mean, L);
  } else
    PetscCall(ItMCSampleDensity(mc, p0));
  PetscCall(PetscArrayzero(mc->medium, mc->nlocal * d));
  PetscCall(PetscArrayzero(mc->medium_prev, mc->nlocal * d));
  mc->t      = 0;
  mc->t_prev = 0;
  mc->step   = 0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* F_i = (A_i - ∂i D_i)/D_i at n points; ∂i D_i by central differences when the noise is not
 * additive. */
static PetscErrorCode ItMCForce(ItMC mc, PetscReal t, PetscInt n, const PetscReal x[],
                                const PetscReal A[], const PetscReal D[], PetscReal *xw,
                                PetscReal *Aw, PetscReal *Dw, PetscReal F[]) {
  const PetscInt d = ItModelGetDimension(mc->model);

  PetscFunctionBegin;
  for (PetscInt k = 0; k < n * d; k++) F[k] = A[k] / D[k];
  if (mc->additive) PetscFunctionReturn(PETSC_SUCCESS);
  for (PetscInt i = 0; i < d; i++) {
    const PetscReal delta = 1e-6 * (mc->grid->hi[i] - mc->grid->lo[i]);
    for (PetscInt k = 0; k < n; k++)
      for (PetscInt s = 0; s < 2; s++)
        for (PetscInt b = 0; b < d; b++)
          xw[(2 * k + s) * d + b] = x[k * d + b] + (b == i ? (s ? delta : -delta) : 0);
    PetscCall(ItMCEvaluate(mc, t, 2 * n, xw, Aw, Dw));
    for (PetscInt k = 0; k < n; k++)
      F[k * d + i] -= (Dw[(2 * k + 1) * d + i] - Dw[(2 * k) * d + i]) / (2 * delta) / D[k * d + i];
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Work arrays of ItMCAdvance for one block of particles. */
typedef struct {
  PetscReal *A, *D, *F, *xp, *Ap, *Dp, *noise; /* block*dim each */
  PetscReal *xw, *Aw, *Dw;                     /* 2*block*dim each: ItMCForce's shifted points */
} ItMCWork;

/* One step of n particles x from ts to te, A, D, F the drift, diffusion and
   force at (x, ts) on entry and at the new (x, te) on return; adds the
   Stratonovich increment of the medium entropy. */
static PetscErrorCode ItMCStep(ItMC mc, PetscInt first, PetscInt n, PetscInt64 step, PetscReal ts,
                               PetscReal te, PetscReal x[], PetscReal medium[], ItMCWork *w) {
  ItGrid          grid = mc->grid;
  const PetscInt  d    = grid->dim;
  const PetscReal hs   = te - ts;

  PetscFunctionBegin;
  for (PetscInt k = 0; k < n; k++) {
    PetscReal z[IT_MC_NDRAW], u[IT_MC_NDRAW];
    ItMCNormals(mc->seed, mc->first + first + k, step, 0, d, z, u);
    for (PetscInt i = 0; i < d; i++) {
      w->noise[k * d + i] = PetscSqrtReal(2 * w->D[k * d + i] * hs) * z[i];
      w->xp[k * d + i]    = x[k * d + i] + w->A[k * d + i] * hs + w->noise[k * d + i];
    }
  }
  if (mc->scheme == IT_MC_WEAK2) {
    PetscCall(ItMCEvaluate(mc, te, n, w->xp, w->Ap, w->Dp));
    for (PetscInt k = 0; k < n * d; k++)
      w->xp[k] = x[k] + 0.5 * (w->A[k] + w->Ap[k]) * hs + w->noise[k];
  }
  for (PetscInt k = 0; k < n; k++)
    for (PetscInt i = 0; i < d; i++)
      w->xp[k * d + i] = ItMCReflect(w->xp[k * d + i], grid->lo[i], grid->hi[i]);
  /* Stratonovich: the force at both ends of the increment */
  PetscCall(ItMCEvaluate(mc, te, n, w->xp, w->A, w->D));
  PetscCall(ItMCForce(mc, te, n, w->xp, w->A, w->D, w->xw, w->Aw, w->Dw, w->Ap));
  for (PetscInt k = 0; k < n * d; k++) {
    medium[k] += 0.5 * (w->F[k] + w->Ap[k]) * (w->xp[k] - x[k]);
    x[k]    = w->xp[k];
    w->F[k] = w->Ap[k];
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Rank 0's progress line, at most twice a second. */
static PetscErrorCode ItMCProgress(ItMC mc, PetscInt b, PetscInt64 nsteps, PetscReal t0,
                                   PetscReal t, PetscLogDouble start, PetscLogDouble *last) {
  PetscLogDouble now;
  double         done, rate;

  PetscFunctionBegin;
  PetscCall(PetscTime(&now));
  if (now - *last <= 0.5) PetscFunctionReturn(PETSC_SUCCESS);
  done = (double)(b + 1 - mc->b0) * mc->block * (double)nsteps;
  rate = done / (now - start + 1e-30);
  fprintf(stderr,
          "\r  mc: t = %-8.4g -> %-8.4g  block %" PetscInt_FMT "/%" PetscInt_FMT
          "  %.3g particle-steps/s per rank ",
          (double)t0, (double)t, b + 1 - mc->b0, mc->b1 - mc->b0, rate);
  fflush(stderr);
  *last = now;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Integrates every particle from mc->t to t in equal steps no longer than
   -mc_dt, block by block, accumulating the medium entropy. Not collective
   (the progress line is rank 0's). */
PetscErrorCode ItMCAdvance(ItMC mc, PetscReal t) {
  const PetscInt  d = mc->grid->dim, B = mc->block;
  const PetscReal t0 = mc->t;
  PetscInt64      nsteps;
  PetscReal       h;
  ItMCWork        w;
  PetscLogDouble  start, now, last = 0;
  const PetscBool progress = (PetscBool)(!mc->quiet && mc->rank == 0 && isatty(2));

  PetscFunctionBegin;
  if (t <= t0) PetscFunctionReturn(PETSC_SUCCESS);
  nsteps = (PetscInt64)PetscCeilReal((t - t0) / mc->dt * (1 - 1e-12));
  if (nsteps < 1) nsteps = 1;
  h = (t - t0) / (PetscReal)nsteps;
  PetscCall(PetscMalloc7(B * d, &w.A, B * d, &w.D, B * d, &w.F, B * d, &w.xp, B * d, &w.Ap, B * d,
                         &w.Dp, B * d, &w.noise));
  PetscCall(PetscMalloc3(2 * B * d, &w.xw, 2 * B * d, &w.Aw, 2 * B * d, &w.Dw));
  PetscCall(PetscTime(&start));
  for (PetscInt b = mc->b0; b < mc->b1; b++) {
    const PetscInt first = b * B - mc->first, n = PetscMin(B, mc->nlocal - first);
    PetscReal     *x = &mc->x[first * d], *medium = &mc->medium[first * d];
    if (n <= 0) break;
    PetscCall(ItMCEvaluate(mc, t0, n, x, w.A, w.D));
    PetscCall(ItMCForce(mc, t0, n, x, w.A, w.D, w.xw, w.Aw, w.Dw, w.F));
    for (PetscInt64 s = 0; s < nsteps; s++) {
      const PetscReal ts = t0 + (PetscReal)s * h,
                      te = s == nsteps - 1 ? t : t0 + (PetscReal)(s + 1) * h;
      PetscCall(ItMCStep(mc, first, n, mc->step + s + 1, ts, te, x, medium, &w));
    }
    if (progress) PetscCall(ItMCProgress(mc, b, nsteps, t0, t, start, &last));
  }
  PetscCall(PetscTime(&now));
  mc->step_time += now - start;
  mc->step += nsteps;
  mc->t = t;
  PetscCall(PetscFree7(w.A, w.D, w.F, w.xp, w.Ap, w.Dp, w.noise));
  PetscCall(PetscFree3(w.xw, w.Aw, w.Dw));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* One line on stdout: particles, steps, scheme, wall time and rate. Collective. */
PetscErrorCode ItMCReport(ItMC mc) {
  PetscReal rate;

  PetscFunctionBegin;
  if (!mc->quiet && mc->rank == 0 && isatty(2)) fprintf(stderr, "\n");
  PetscCall(ItMCRate(mc, &rate));
  PetscCall(PetscPrintf(mc->comm,
                        "mc: %" PetscInt_FMT " particles x %" PetscInt64_FMT
                        " steps (%s, dt <= %g) in %.3g s on %d rank(s): %.3g particle-steps/s\n",
                        mc->N, mc->step, mc->scheme == IT_MC_WEAK2 ? "weak2" : "euler",
                        (double)mc->dt,
                        (double)(rate > 0 ? (PetscReal)mc->N * (PetscReal)mc->step / rate : 0),
                        mc->size, (double)rate));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Particle-steps per second over all ranks (wall time of the slowest rank). Collective. */
PetscErrorCode ItMCRate(ItMC mc, PetscReal *rate) {
  PetscReal wall = mc->step_time;

  PetscFunctionBegin;
  PetscCall(ItGridMaxAbs(mc->grid, wall, &wall));
  *rate = wall > 0 ? (PetscReal)mc->N * (PetscReal)mc->step / wall : 0;
  PetscFunctionReturn(PETSC_SUCCESS);
}
