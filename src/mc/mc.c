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
#include <infotherm/mc.h>
#include <infotherm/solve.h>
#include <petscblaslapack.h>

/* Four uniforms in (0, 1) and four normal deviates (Box–Muller) of one Philox draw. */
static inline void ItMCNormals(PetscInt64 seed, PetscInt64 index, PetscInt64 counter,
                               PetscInt64 purpose, PetscReal z[4], PetscReal u[4]) {
  philox4x64_ctr_t c = {{(uint64_t)counter, (uint64_t)purpose, 0, 0}};
  philox4x64_key_t k = {{(uint64_t)seed, (uint64_t)index}};
  philox4x64_ctr_t r = philox4x64(c, k);

  for (int j = 0; j < 4; j++) u[j] = ((double)(r.v[j] >> 11) + 0.5) * 0x1.0p-53;
  for (int j = 0; j < 4; j += 2) {
    const PetscReal rho = PetscSqrtReal(-2 * PetscLogReal(u[j])), phi = 2 * PETSC_PI * u[j + 1];
    z[j]     = rho * PetscCosReal(phi);
    z[j + 1] = rho * PetscSinReal(phi);
  }
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

/* The model's drift Jacobian by central differences at x (d <= 3); its spectral radius. */
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
   -mc_bandwidth and checks them (nothing is allocated for particles yet
   beyond this rank's share). Collective. */
PetscErrorCode ItMCCreate(ItGrid grid, ItModel model, ItDiag diag, PetscReal t_final, ItMC *out) {
  static const char *const schemes[] = {"euler", "weak2"};
  ItMC                     mc;
  const PetscInt           d      = ItModelGetDimension(model);
  PetscInt                 scheme = -1, nbw = IT_MAX_DIM, seed = 1;
  PetscBool                set_scheme, set_dt;

  PetscFunctionBegin;
  /* the medium entropy along paths uses the full force; with odd variables the
     solver's entropy flow uses the irreversible one (PHYSICS.md 3b) */
  for (PetscInt i = 0; i < d; i++)
    PetscCheck(ItModelGetParity(model, i) > 0, grid->comm, PETSC_ERR_USER_INPUT,
               "-parity %s:odd: the Monte Carlo supports even variables only (its entropy flows "
               "use the full force); drop -parity",
               ItModelGetVariableName(model, i));
  PetscCall(PetscNew(&mc));
  mc->comm  = grid->comm;
  mc->grid  = grid;
  mc->model = model;
  mc->diag  = diag;
  PetscCallMPI(MPI_Comm_rank(mc->comm, &mc->rank));
  PetscCallMPI(MPI_Comm_size(mc->comm, &mc->size));
  mc->N        = 100000;
  mc->override = -1;
  mc->nbatch   = 16;
  PetscCall(ItMCInspect(mc, t_final));
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
      mc->bandwidth, &nbw, &mc->bandwidth_set));
  PetscCall(PetscOptionsBool("-quiet", "no progress line", NULL, mc->quiet, &mc->quiet, NULL));
  PetscOptionsEnd();
  if (!set_scheme) scheme = mc->additive ? IT_MC_WEAK2 : IT_MC_EULER;
  mc->scheme = (ItMCScheme)scheme;
  mc->seed   = seed;
  if (!set_dt) mc->dt = mc->stiffness > 0 ? 0.01 / mc->stiffness : t_final / 100;
  PetscCheck(mc->N >= 1, mc->comm, PETSC_ERR_USER_INPUT,
             "-mc_particles must be at least 1; got %" PetscInt_FMT, mc->N);
  PetscCheck(mc->dt > 0 && !PetscIsInfOrNanReal(mc->dt), mc->comm, PETSC_ERR_USER_INPUT,
             "-mc_dt must be a positive time step; got %g", (double)mc->dt);
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
  PetscCheck(mc->nbatch >= 2 && mc->nbatch <= 64, mc->comm, PETSC_ERR_USER_INPUT,
             "-mc_batches must be between 2 and 64; got %" PetscInt_FMT, mc->nbatch);
  PetscCheck(mc->seed >= 0, mc->comm, PETSC_ERR_USER_INPUT,
             "-mc_seed must be non-negative; got %" PetscInt_FMT, seed);
  if (mc->bandwidth_set) {
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
  }
  /* blocks of consecutive particles: the unit of every reduction, a function of N only */
  mc->block   = PetscMax(1, PetscMin(1024, mc->N / (4 * mc->nbatch)));
  mc->nblocks = (mc->N + mc->block - 1) / mc->block;
  mc->b0      = (PetscInt)(((PetscInt64)mc->nblocks * mc->rank) / mc->size);
  mc->b1      = (PetscInt)(((PetscInt64)mc->nblocks * (mc->rank + 1)) / mc->size);
  mc->first   = mc->b0 * mc->block;
  mc->nlocal  = PetscMin(mc->N, mc->b1 * mc->block) - mc->first;
  if (mc->nlocal < 0) mc->nlocal = 0;
  PetscCall(PetscMalloc3(mc->nlocal * d, &mc->x, mc->nlocal * d, &mc->medium, mc->nlocal * d,
                         &mc->medium_prev));
  PetscCall(ItMCSetUpEstimates(mc));
  *out = mc;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The particles at t = 0, sampled from the initial density of `run`:
   -init gaussian draws N(-init_mean, -init_cov) directly (the same defaults as
   ItSolveGaussian), otherwise the grid density p0 is sampled (a cell by its
   mass, then uniformly inside it). Collective. */
PetscErrorCode ItMCInitialize(ItMC mc, Vec p0) {
  static const char *const kinds[] = {"gaussian", "stationary", "file"};
  ItGrid                   grid    = mc->grid;
  const PetscInt           d       = grid->dim;
  PetscInt                 kind    = 0;
  PetscReal                mean[IT_MAX_DIM], L[IT_MAX_DIM * IT_MAX_DIM] = {0};

  PetscFunctionBegin;
  PetscCall(PetscOptionsGetEList(NULL, NULL, "-init", kinds, 3, &kind, NULL));
  if (kind == 0) PetscCall(ItSolveGaussianOptions(grid, mean, L));
  if (kind == 0) {
    for (PetscInt k = 0; k < mc->nlocal; k++) {
      PetscReal z[4], u[4], *x = &mc->x[k * d];
      ItMCNormals(mc->seed, mc->first + k, 0, 1, z, u);
      for (PetscInt i = 0; i < d; i++) {
        x[i] = mean[i];
        for (PetscInt j = 0; j <= i; j++) x[i] += L[i * d + j] * z[j];
        x[i] = ItMCReflect(x[i], grid->lo[i], grid->hi[i]);
      }
    }
  } else {
    PetscReal *cdf;
    PetscInt   ncell = grid->n[0] * grid->n[1] * grid->n[2];
    PetscCall(PetscMalloc1(ncell, &cdf));
    PetscCall(ItMCGatherDensity(grid, p0, cdf));
    for (PetscInt c = 0; c < ncell; c++) cdf[c] = PetscMax(cdf[c], 0) + (c ? cdf[c - 1] : 0);
    for (PetscInt k = 0; k < mc->nlocal; k++) {
      PetscReal z[4], u[4], *x = &mc->x[k * d], target;
      PetscInt  lo = 0, hi = ncell - 1, c;
      ItMCNormals(mc->seed, mc->first + k, 0, 1, z, u);
      target = u[0] * cdf[ncell - 1];
      while (lo < hi) { /* the first cell whose cumulative mass exceeds target */
        const PetscInt mid = (lo + hi) / 2;
        if (cdf[mid] > target)
          hi = mid;
        else
          lo = mid + 1;
      }
      c = lo;
      for (PetscInt i = 0; i < d; i++) {
        x[i] = grid->lo[i] + (c % grid->n[i] + u[1 + i]) * grid->h[i];
        c /= grid->n[i];
      }
    }
    PetscCall(PetscFree(cdf));
  }
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

/* Integrates every particle from mc->t to t in equal steps no longer than
   -mc_dt, block by block, accumulating the medium entropy. Not collective
   (the progress line is rank 0's). */
PetscErrorCode ItMCAdvance(ItMC mc, PetscReal t) {
  ItGrid          grid = mc->grid;
  const PetscInt  d = grid->dim, B = mc->block;
  const PetscReal t0 = mc->t;
  PetscInt64      nsteps;
  PetscReal       h, *A, *D, *F, *xp, *Ap, *Dp, *noise, *xw, *Aw, *Dw;
  PetscLogDouble  start, now, last = 0;
  const PetscBool progress = (PetscBool)(!mc->quiet && mc->rank == 0 && isatty(2));

  PetscFunctionBegin;
  if (t <= t0) PetscFunctionReturn(PETSC_SUCCESS);
  nsteps = (PetscInt64)PetscCeilReal((t - t0) / mc->dt * (1 - 1e-12));
  if (nsteps < 1) nsteps = 1;
  h = (t - t0) / (PetscReal)nsteps;
  PetscCall(PetscMalloc7(B * d, &A, B * d, &D, B * d, &F, B * d, &xp, B * d, &Ap, B * d, &Dp, B * d,
                         &noise));
  PetscCall(PetscMalloc3(2 * B * d, &xw, 2 * B * d, &Aw, 2 * B * d, &Dw));
  PetscCall(PetscTime(&start));
  for (PetscInt b = mc->b0; b < mc->b1; b++) {
    const PetscInt first = b * B - mc->first, n = PetscMin(B, mc->nlocal - first);
    PetscReal     *x = &mc->x[first * d], *medium = &mc->medium[first * d];
    if (n <= 0) break;
    PetscCall(ItMCEvaluate(mc, t0, n, x, A, D));
    PetscCall(ItMCForce(mc, t0, n, x, A, D, xw, Aw, Dw, F));
    for (PetscInt64 s = 0; s < nsteps; s++) {
      const PetscReal ts = t0 + (PetscReal)s * h,
                      te = s == nsteps - 1 ? t : t0 + (PetscReal)(s + 1) * h;
      const PetscReal hs = te - ts;
      for (PetscInt k = 0; k < n; k++) {
        PetscReal z[4], u[4];
        ItMCNormals(mc->seed, mc->first + first + k, mc->step + s + 1, 0, z, u);
        for (PetscInt i = 0; i < d; i++) {
          noise[k * d + i] = PetscSqrtReal(2 * D[k * d + i] * hs) * z[i];
          xp[k * d + i]    = x[k * d + i] + A[k * d + i] * hs + noise[k * d + i];
        }
      }
      if (mc->scheme == IT_MC_WEAK2) {
        PetscCall(ItMCEvaluate(mc, te, n, xp, Ap, Dp));
        for (PetscInt k = 0; k < n * d; k++) xp[k] = x[k] + 0.5 * (A[k] + Ap[k]) * hs + noise[k];
      }
      for (PetscInt k = 0; k < n; k++)
        for (PetscInt i = 0; i < d; i++)
          xp[k * d + i] = ItMCReflect(xp[k * d + i], grid->lo[i], grid->hi[i]);
      /* Stratonovich: the force at both ends of the increment */
      PetscCall(ItMCEvaluate(mc, te, n, xp, A, D));
      PetscCall(ItMCForce(mc, te, n, xp, A, D, xw, Aw, Dw, Ap));
      for (PetscInt k = 0; k < n * d; k++) {
        medium[k] += 0.5 * (F[k] + Ap[k]) * (xp[k] - x[k]);
        x[k] = xp[k];
        F[k] = Ap[k];
      }
    }
    if (progress) {
      PetscCall(PetscTime(&now));
      if (now - last > 0.5) {
        const double done = (double)(b + 1 - mc->b0) * B * (double)nsteps,
                     rate = done / (now - start + 1e-30);
        fprintf(stderr,
                "\r  mc: t = %-8.4g -> %-8.4g  block %" PetscInt_FMT "/%" PetscInt_FMT
                "  %.3g particle-steps/s per rank ",
                (double)t0, (double)t, b + 1 - mc->b0, mc->b1 - mc->b0, rate);
        fflush(stderr);
        last = now;
      }
    }
  }
  PetscCall(PetscTime(&now));
  mc->step_time += now - start;
  mc->step += nsteps;
  mc->t = t;
  PetscCall(PetscFree7(A, D, F, xp, Ap, Dp, noise));
  PetscCall(PetscFree3(xw, Aw, Dw));
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
