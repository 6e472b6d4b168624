/* Langevin particles (doc/physics.md §1, §4): dx_i = A_i(x,t) dt + sqrt(2 D_i(x,t)) dW_i
   integrated with the model's own drift and diffusion (ItModelEvaluateSoAWork,
   the formulas the Fokker–Planck operator uses), by Euler–Maruyama (weak order 1)
   or, for additive noise, the explicit weak order-2 scheme of Kloeden & Platen
   (1992, eq. 15.1.4): x̄ = x + A(x,t) h + ΔW, x' = x + [A(x,t) + A(x̄,t+h)] h/2 + ΔW,
   ΔW_i = sqrt(2 D_i h) ξ_i. Walls reflect (x -> 2 lo - x), the particle
   picture of the solver's zero-flux walls. Along each path the medium entropy
   of variable i, ∫ F_i ∘ dx_i with F_i = (A_i - ∂i D_i)/D_i, is summed in the
   Stratonovich (trapezoidal) sense. Each particle draws one stream of normal
   deviates: deviate j comes from Philox4x64-10 keyed by (seed, global particle
   index) with counter j/4, whose four words make two Box–Muller pairs; step s
   uses deviates s d .. s d + d - 1. So a particle's path does not depend on
   which rank integrates it.

   Boundary kinds (doc/physics.md §8): a periodic axis wraps the particle
   (the medium entropy takes the unwrapped step); a threshold_reset axis
   absorbs it when the step ends past the threshold, or, ending below,
   with the Brownian bridge's probability of having crossed within the step,
   exp(-(th - x)(th - x')/(D h)) (a uniform per particle and step, Philox
   counter (step, 2, 0, 0)), which keeps the scheme's weak order for
   first passages; it then counts a spike, takes the medium entropy of the
   path up to the threshold, and restarts at the reset point (no medium
   entropy for the jump, the convention of §8.3).

   The particles are stored by variable (x[i*nlocal + k], likewise the medium
   entropy) and integrated in tiles of consecutive particles: each step of a
   tile is one bulk evaluation of the model and a few loops over the tile that
   the compiler vectorises, with no branch but the rare reflection. Those loops
   are compiled for AVX-512 and AVX2 besides the baseline (picked at run time);
   every version does the same IEEE operations in the same order (no
   contraction into FMA: GCC leaves it off under -std=c17), so the results do
   not depend on the machine's vector width. */
#include <string.h>
#include <unistd.h>
#include <Random123/philox.h>
#include <infotherm/private/mcimpl.h>
#include <infotherm/init.h>
#include <petscblaslapack.h>

/* Room for the deviates of one particle: d normals, or d + 1 uniforms, in draws of four. */
#define IT_MC_NDRAW (4 * ((IT_MAX_DIM + 4) / 4))

/* Steps whose normal deviates are drawn together: 4 steps take d Philox draws of four. */
#define IT_MC_CHUNK 4

/* sqrt(y) for 0 < y < 2^1000 in plain arithmetic, for the vectoriser (libm's
   sqrt may set errno, which keeps GCC from vectorising a loop that calls it):
   1/sqrt(y) from the exponent trick and three Newton steps, then one
   correction of y/sqrt(y); within about an ulp. */
static inline double ItMCSqrt(double y) {
  const double hy = 0.5 * y;
  double       r  = ItMCDouble(0x5fe6eb50c7b537a9ULL - (ItMCBits(y) >> 1)), s;

  r = r * (1.5 - hy * r * r);
  r = r * (1.5 - hy * r * r);
  r = r * (1.5 - hy * r * r);
  s = y * r;
  return s + 0.5 * r * (y - s * s);
}

/* -2 ln u for a random 64-bit word a, u = (a/2^12 + 1/2) 2^-52 in (0, 1): a's
   top 52 bits made a double exactly (2^52 + m - 2^52), plus 1/2, scaled. */
static inline double ItMCRadius2(uint64_t a) {
  return -2.0 * ItMCLog((ItMCDouble(0x4330000000000000ULL | (a >> 12)) - 0x1p52 + 0.5) * 0x1p-52);
}

/* (rho cos phi, rho sin phi) for the angle phi = 2 pi b/2^64 of a random
   64-bit word b: the quadrant from b's top bits, and cos and sin of the rest
   (|r| <= pi/4) by fdlibm's kernels, without a branch. */
static inline void ItMCRotate(double rho, uint64_t b, PetscReal *z0, PetscReal *z1) {
  const double S1 = -1.66666666666666324348e-01, S2 = 8.33333333332248946124e-03,
               S3 = -1.98412698298579493134e-04, S4 = 2.75573137070700676789e-06,
               S5 = -2.50507602534068634195e-08, S6 = 1.58969099521155010221e-10;
  const double C1 = 4.16666666666666019037e-02, C2 = -1.38888888888741095749e-03,
               C3 = 2.48015872894767294178e-05, C4 = -2.75573143513906633035e-07,
               C5 = 2.08757232129817482790e-09, C6 = -1.13596475577881948265e-11;
  /* the angle in quarter turns, b/2^62 = q + r/(pi/2) with q the nearest integer, |r| <= pi/4 */
  const uint64_t t = b >> 11, q = (t + (1ULL << 50)) >> 51;
  const double   r =
      (ItMCDouble(0x4338000000000000ULL + (t - (q << 51))) - 0x1.8p52) * 0x1.921fb54442d18p-51;
  const double rr = r * r, r4 = rr * rr;
  const double sr = r + rr * r * (S1 + rr * (S2 + rr * (S3 + rr * S4) + rr * r4 * (S5 + rr * S6)));
  const double cp = rr * (C1 + rr * (C2 + rr * C3)) + r4 * r4 * (C4 + rr * (C5 + rr * C6));
  const double hz = 0.5 * rr, cw = 1.0 - hz, cr = cw + (((1.0 - cw) - hz) + rr * cp);
  /* rotate by q quarter turns: swap for odd q, then the signs of cos and sin */
  const uint64_t swap = 0 - (q & 1), cb = ItMCBits(cr), sb = ItMCBits(sr);
  const uint64_t cosb = ((cb & ~swap) | (sb & swap)) ^ ((((q + 1) >> 1) & 1) << 63);
  const uint64_t sinb = ((sb & ~swap) | (cb & swap)) ^ (((q >> 1) & 1) << 63);

  *z0 = rho * ItMCDouble(cosb);
  *z1 = rho * ItMCDouble(sinb);
}

/* Two independent standard normal deviates from two random 64-bit words by
   Box–Muller, without a branch or a libm call: rho = sqrt(-2 ln u) from a,
   the angle from b. Each is within a few ulps of libm's. */
static inline void ItMCBoxMuller(uint64_t a, uint64_t b, PetscReal *z0, PetscReal *z1) {
  ItMCRotate(ItMCSqrt(ItMCRadius2(a)), b, z0, z1);
}

/* Philox4x64-10 (Random123) of the counters (c0, c1, 0, 0) under the keys
   (seed, first + k), k < n: the four words of each in word[0..3][k]. */
static void ItMCPhiloxScalar(uint64_t seed, uint64_t first, uint64_t c0, uint64_t c1, PetscInt n,
                             uint64_t *const word[4]) {
  for (PetscInt k = 0; k < n; k++) {
    const philox4x64_key_t key = {{seed, first + (uint64_t)k}};
    const philox4x64_ctr_t ctr = {{c0, c1, 0, 0}};
    const philox4x64_ctr_t r   = philox4x64(ctr, key);
    for (int j = 0; j < 4; j++) word[j][k] = r.v[j];
  }
}

#if IT_MC_X86
/* The same in AVX-512 lanes: the 64x64 -> 128-bit products of the rounds from
   32-bit halves (vpmuludq), eight keys at a time. Checked against
   ItMCPhiloxScalar when the stepping is set up. */
#define IT_MC_MULHILO(a, b, lo, hi)                                                                \
  do {                                                                                             \
    const uint64_t aL_ = (a)&0xffffffffULL, aH_ = (a) >> 32, bL_ = (b)&0xffffffffULL,              \
                   bH_ = (b) >> 32;                                                                \
    const uint64_t ll_ = aL_ * bL_, t_ = aH_ * bL_ + (ll_ >> 32),                                  \
                   u_ = aL_ * bH_ + (t_ & 0xffffffffULL);                                          \
    (hi)              = aH_ * bH_ + (t_ >> 32) + (u_ >> 32);                                       \
    (lo)              = (u_ << 32) | (ll_ & 0xffffffffULL);                                        \
  } while (0)

__attribute__((target("arch=x86-64-v4"))) static void ItMCPhiloxAVX512(uint64_t seed,
                                                                       uint64_t first, uint64_t c0,
                                                                       uint64_t c1, PetscInt n,
                                                                       uint64_t *const word[4]) {
  uint64_t *restrict w0 = word[0], *restrict w1 = word[1], *restrict w2 = word[2],
                     *restrict w3 = word[3];

  for (PetscInt k = 0; k < n; k++) {
    uint64_t x0 = c0, x1 = c1, x2 = 0, x3 = 0, k0 = seed, k1 = first + (uint64_t)k;
#pragma GCC unroll 10
    for (int round = 0; round < 10; round++) {
      uint64_t lo0, hi0, lo1, hi1;
      IT_MC_MULHILO(x0, 0xD2E7470EE14C6C93ULL, lo0, hi0);
      IT_MC_MULHILO(x2, 0xCA5A826395121157ULL, lo1, hi1);
      x0 = hi1 ^ x1 ^ k0;
      x1 = lo1;
      x2 = hi0 ^ x3 ^ k1;
      x3 = lo0;
      k0 += 0x9E3779B97F4A7C15ULL;
      k1 += 0xBB67AE8584CAA73BULL;
    }
    w0[k] = x0;
    w1[k] = x1;
    w2[k] = x2;
    w3[k] = x3;
  }
}
#undef IT_MC_MULHILO

static PetscBool ItMCHasAVX512(void) {
  return (PetscBool)(__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
                     __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw") &&
                     __builtin_cpu_supports("avx512cd"));
}
#endif

/* Philox4x64-10 words for n consecutive keys, in AVX-512 lanes when allowed. */
static void ItMCPhilox(PetscBool avx512, uint64_t seed, uint64_t first, uint64_t c0, uint64_t c1,
                       PetscInt n, uint64_t *const word[4]) {
#if IT_MC_X86
  if (avx512) {
    ItMCPhiloxAVX512(seed, first, c0, c1, n, word);
    return;
  }
#endif
  (void)avx512;
  ItMCPhiloxScalar(seed, first, c0, c1, n, word);
}

/* Box–Muller on n pairs of words: (a[k], b[k]) -> (z0[k], z1[k]), as
   ItMCBoxMuller, in three loops: short loop bodies let the processor overlap
   the long dependency chains of neighbouring iterations (about 20% faster
   than one loop). */
IT_MC_CLONES static void ItMCBoxMullerArray(PetscInt n, const uint64_t *restrict a,
                                            const uint64_t *restrict b, PetscReal *restrict z0,
                                            PetscReal *restrict z1) {
  for (PetscInt k = 0; k < n; k++) z1[k] = ItMCRadius2(a[k]);
  for (PetscInt k = 0; k < n; k++) z0[k] = ItMCSqrt(z1[k]);
  for (PetscInt k = 0; k < n; k++) ItMCRotate(z0[k], b[k], &z0[k], &z1[k]);
}

/* n >= 1 normal deviates z[] of one particle and the uniforms in (0, 1) of
   the same words, u[], in Philox draws of four with counters (counter,
   purpose, draw, 0) (the initial sample: purpose 1; the steps use (j/4, 0, 0,
   0)); the first four do not depend on n. */
static inline void ItMCNormals(PetscInt64 seed, PetscInt64 index, PetscInt64 counter,
                               PetscInt64 purpose, PetscInt n, PetscReal z[], PetscReal u[]) {
  const philox4x64_key_t k    = {{(uint64_t)seed, (uint64_t)index}};
  PetscInt               draw = 0;

  do {
    philox4x64_ctr_t c = {{(uint64_t)counter, (uint64_t)purpose, (uint64_t)draw, 0}};
    philox4x64_ctr_t r = philox4x64(c, k);

    for (int j = 0; j < 4; j++) u[4 * draw + j] = ((double)(r.v[j] >> 11) + 0.5) * 0x1.0p-53;
    ItMCBoxMuller(r.v[0], r.v[1], &z[4 * draw], &z[4 * draw + 1]);
    ItMCBoxMuller(r.v[2], r.v[3], &z[4 * draw + 2], &z[4 * draw + 3]);
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
  PetscCall(ItModelEvaluateWork(mc->work, t, p, n, x, A, D));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The same on n structure-of-arrays points, x[i*ld + k], A[i*ld + k], D[i*ld + k]. */
static PetscErrorCode ItMCEvaluateSoA(ItMC mc, PetscReal t, PetscInt n, PetscInt ld,
                                      const PetscReal x[], PetscReal A[], PetscReal D[]) {
  PetscReal p[IT_MAX_PARAMS];

  PetscFunctionBegin;
  PetscCall(ItModelGetParameters(mc->model, t, p));
  if (mc->override >= 0) p[mc->override] = mc->override_value;
  PetscCall(ItModelEvaluateSoAWork(mc->work, t, p, n, ld, x, A, D));
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
  const ItGridInfo *grid_info = ItGridGetInfo(grid);
  const PetscInt    d         = ItModelGetDimension(model);
  PetscReal         xp[2 * IT_MAX_DIM * IT_MAX_DIM], A[2 * IT_MAX_DIM * IT_MAX_DIM],
      D[2 * IT_MAX_DIM * IT_MAX_DIM];
  PetscReal    J[IT_MAX_DIM * IT_MAX_DIM], wr[IT_MAX_DIM], wi[IT_MAX_DIM], work[64], dummy = 0;
  PetscBLASInt n, lwork = 64, one = 1, info;

  PetscFunctionBegin;
  for (PetscInt j = 0; j < d; j++)
    for (PetscInt s = 0; s < 2; s++)
      for (PetscInt b = 0; b < d; b++)
        xp[(2 * j + s) * d + b] =
            x[b] + (b == j ? (s ? 1 : -1) * 1e-5 * (grid_info->hi[j] - grid_info->lo[j]) : 0);
  PetscCall(ItMCEvaluate(mc, t, 2 * d, xp, A, D));
  /* column-major for LAPACK: J(i,j) = dA_i/dx_j */
  for (PetscInt j = 0; j < d; j++)
    for (PetscInt i = 0; i < d; i++)
      J[j * d + i] = (A[(2 * j + 1) * d + i] - A[(2 * j) * d + i]) /
                     (2e-5 * (grid_info->hi[j] - grid_info->lo[j]));
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
  ItModel           model = mc->model;
  ItGrid            grid  = mc->grid;
  const ItGridInfo *info  = ItGridGetInfo(grid);
  const PetscInt    d     = ItModelGetDimension(model);
  PetscInt          npt   = 1;
  PetscReal         x[IT_MAX_DIM], A[IT_MAX_DIM], D[IT_MAX_DIM], D0[IT_MAX_DIM];

  PetscFunctionBegin;
  for (PetscInt i = 0; i < d; i++) npt *= 5;
  mc->stiffness = 0;
  mc->additive  = PETSC_TRUE;
  for (PetscInt s = 0; s < 3; s++) {
    const PetscReal t = 0.5 * s * t_final;
    for (PetscInt k = 0; k < npt; k++) {
      PetscReal radius = 0;
      for (PetscInt i = 0, r = k; i < d; i++, r /= 5)
        x[i] = info->lo[i] + (r % 5 + 0.5) / 5 * (info->hi[i] - info->lo[i]);
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

/* The option names of the Monte Carlo's options (src/model/option_names.c). */
const ItOptionName ItMCOptionNames[] = {{"mc_particles", IT_OPTION_INTEGER},
                                        {"mc_scheme", 0},
                                        {"mc_dt", 0},
                                        {"mc_seed", IT_OPTION_INTEGER},
                                        {"mc_batches", IT_OPTION_INTEGER},
                                        {"mc_bandwidth", 0},
                                        {NULL, 0}};

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
  const ItGridInfo *info = ItGridGetInfo(mc->grid);
  if (info->threshold)
    PetscCall(PetscCalloc2(mc->nlocal + 1, &mc->spikes, mc->nlocal + 1, &mc->spikes_prev));
  if (mc->refractory_axis >= 0) PetscCall(PetscCalloc1(mc->nlocal + 1, &mc->release));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Reads -mc_particles, -mc_scheme, -mc_dt, -mc_seed, -mc_batches,
   -mc_bandwidth and checks them (nothing is allocated for particles yet
   beyond this rank's share). Collective. */
PetscErrorCode ItMCCreate(ItGrid grid, ItModel model, ItDiag diag, PetscReal t_final, ItMC *out) {
  const ItGridInfo *info = ItGridGetInfo(grid);
  ItMC              mc;
  PetscInt          nbw;

  PetscFunctionBegin;
  /* the medium entropy along paths uses the full force; with odd variables the
     solver's entropy flow uses the irreversible one (doc/physics.md 3b) */
  for (PetscInt i = 0; i < ItModelGetDimension(model); i++)
    PetscCheck(ItModelGetParity(model, i) > 0, info->comm, PETSC_ERR_USER_INPUT,
               "-parity %s:odd: the Monte Carlo supports even variables only (its entropy flows "
               "use the full force); drop -parity",
               ItModelGetVariableName(model, i));
  PetscCall(PetscNew(&mc));
  mc->comm            = info->comm;
  mc->grid            = grid;
  mc->model           = model;
  mc->diag            = diag;
  mc->override        = -1;
  mc->refractory_axis = -1;
  for (PetscInt i = 0; i < ItModelGetDimension(model); i++)
    if (info->boundary[i] == IT_BOUNDARY_THRESHOLD_RESET && info->refractory[i] > 0) {
      PetscCheck(mc->refractory_axis < 0, info->comm, PETSC_ERR_USER_INPUT,
                 "refractory times on two threshold_reset axes (%s and %s): the Monte Carlo "
                 "holds one; set one of them to 0 (-refractory_<var> 0)",
                 ItModelGetVariableName(model, mc->refractory_axis),
                 ItModelGetVariableName(model, i));
      mc->refractory_axis = i;
      mc->tau_ref         = info->refractory[i];
    }
  PetscCall(ItModelWorkCreate(model, &mc->work));
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

/* This rank's particles drawn from N(mean, L L^T) (stored by variable, x[i*nlocal + k]). */
static void ItMCSampleGaussian(ItMC mc, const PetscReal mean[], const PetscReal L[]) {
  ItGrid            grid = mc->grid;
  const ItGridInfo *info = ItGridGetInfo(grid);
  const PetscInt    d    = info->dim;

  for (PetscInt k = 0; k < mc->nlocal; k++) {
    PetscReal z[IT_MC_NDRAW], u[IT_MC_NDRAW];
    ItMCNormals(mc->seed, mc->first + k, 0, 1, d, z, u);
    for (PetscInt i = 0; i < d; i++) {
      PetscReal x = mean[i];
      for (PetscInt j = 0; j <= i; j++) x += L[i * d + j] * z[j];
      mc->x[i * mc->nlocal + k] = ItMCReflect(x, info->lo[i], info->hi[i]);
    }
  }
}

/* The cumulative masses of this rank's slab (ctx, max(p, 0) in place), after
   those of the ranks before it (acc[0]). */
static PetscErrorCode ItMCCumulativeAdd(ItMC mc, void *ctx, PetscReal acc[]) {
  PetscReal *cdf = (PetscReal *)ctx;

  PetscFunctionBegin;
  for (PetscInt k = 0; k < mc->nslab; k++) acc[0] = cdf[k] = PetscMax(cdf[k], 0) + acc[0];
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The mass target of particle k (u[0] of its initial draw times the total),
   and the rank whose slab holds the first cell whose cumulative mass exceeds
   it (end[r]: the cumulative mass at the end of rank r's slab; the last
   non-empty slab when none does). */
static PetscMPIInt ItMCSampleOwner(ItMC mc, PetscInt k, const PetscReal end[], PetscReal *target) {
  PetscReal         z[IT_MC_NDRAW], u[IT_MC_NDRAW];
  PetscMPIInt       last = 0;
  const ItGridInfo *info = ItGridGetInfo(mc->grid);

  ItMCNormals(mc->seed, mc->first + k, 0, 1, info->dim + 1, z, u);
  *target = u[0] * end[mc->size - 1];
  for (PetscMPIInt r = 0; r < mc->size; r++) {
    if (!mc->slab_count[r]) continue;
    if (end[r] > *target) return r;
    last = r;
  }
  return last;
}

/* For each target of cdf[n] (this rank's slab), the natural index of the
   first cell whose cumulative mass exceeds it (the slab's last when none),
   in place, as a real (exact below 2^53). */
static void ItMCSampleCells(ItMC mc, const PetscReal cdf[], PetscInt n, PetscReal target[]) {
  for (PetscInt j = 0; j < n; j++) {
    PetscInt lo = 0, hi = mc->nslab - 1;
    while (lo < hi) {
      const PetscInt mid = (lo + hi) / 2;
      if (cdf[mid] > target[j])
        hi = mid;
      else
        lo = mid + 1;
    }
    target[j] = (PetscReal)(mc->slab_start + lo);
  }
}

/* This rank's particles drawn from the grid density p0: a cell by its mass
   (bisection in the cumulative masses, natural order), then uniformly inside
   it. The cumulative masses stay on the slabs (ItMCFold: the sums of one
   rank, bitwise); each particle's mass target goes to the rank holding its
   cell, which sends back the cell. Collective. */
static PetscErrorCode ItMCSampleDensity(ItMC mc, Vec p0) {
  ItGrid            grid = mc->grid;
  const ItGridInfo *info = ItGridGetInfo(grid);
  const PetscInt    d = info->dim, size = mc->size;
  PetscReal        *cdf, *end, *target, *cellof, acc = 0, mass;
  PetscMPIInt      *owner, *scount, *sdispl, *rcount, *rdispl, *fill;
  PetscInt          nrecv;

  PetscFunctionBegin;
  PetscCall(PetscMalloc1(PetscMax(mc->nslab, 1), &cdf));
  PetscCall(ItMCVecToSlab(mc, p0, cdf));
  PetscCall(ItMCFold(mc, 1, &acc, ItMCCumulativeAdd, cdf, PETSC_FALSE));
  PetscCall(PetscMalloc1(size, &end));
  PetscCallMPI(MPI_Allgather(&acc, 1, MPIU_REAL, end, 1, MPIU_REAL, mc->comm));
  PetscCall(PetscCalloc5(size, &scount, size, &sdispl, size, &rcount, size, &rdispl, size, &fill));
  PetscCall(PetscMalloc2(mc->nlocal + 1, &owner, mc->nlocal + 1, &target));
  for (PetscInt k = 0; k < mc->nlocal; k++) scount[owner[k] = ItMCSampleOwner(mc, k, end, &mass)]++;
  for (PetscInt r = 1; r < size; r++) sdispl[r] = sdispl[r - 1] + scount[r - 1];
  for (PetscInt k = 0; k < mc->nlocal; k++)
    (void)ItMCSampleOwner(mc, k, end, &target[sdispl[owner[k]] + fill[owner[k]]++]);
  PetscCallMPI(MPI_Alltoall(scount, 1, MPI_INT, rcount, 1, MPI_INT, mc->comm));
  for (PetscInt r = 1; r < size; r++) rdispl[r] = rdispl[r - 1] + rcount[r - 1];
  nrecv = rdispl[size - 1] + rcount[size - 1];
  PetscCall(PetscMalloc1(nrecv + 1, &cellof));
  PetscCallMPI(MPI_Alltoallv(target, scount, sdispl, MPIU_REAL, cellof, rcount, rdispl, MPIU_REAL,
                             mc->comm));
  ItMCSampleCells(mc, cdf, nrecv, cellof);
  PetscCallMPI(MPI_Alltoallv(cellof, rcount, rdispl, MPIU_REAL, target, scount, sdispl, MPIU_REAL,
                             mc->comm));
  PetscCall(PetscArrayzero(fill, size));
  for (PetscInt k = 0; k < mc->nlocal; k++) {
    PetscReal z[IT_MC_NDRAW], u[IT_MC_NDRAW];
    PetscInt  cell[IT_MAX_DIM];
    ItMCNormals(mc->seed, mc->first + k, 0, 1, d + 1, z, u);
    ItGridNaturalCell(grid, (PetscInt)target[sdispl[owner[k]] + fill[owner[k]]++], cell);
    for (PetscInt i = 0; i < d; i++)
      mc->x[i * mc->nlocal + k] = info->lo[i] + (cell[i] + u[1 + i]) * info->h[i];
  }
  PetscCall(PetscFree(cellof));
  PetscCall(PetscFree2(owner, target));
  PetscCall(PetscFree5(scount, sdispl, rcount, rdispl, fill));
  PetscCall(PetscFree(end));
  PetscCall(PetscFree(cdf));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The refractory particles at t = 0: what the initial grid density p0 lacks
   of mass 1 (the stationary density's ν τ_ref; none for a Gaussian or a
   density of mass 1), as the Fokker–Planck transient's compartment holds it
   (src/fp/refractory.c): a particle is refractory with that probability
   (its own uniform, Philox purpose 3), at the reset, released uniformly over
   the next τ_ref (having fired at a constant rate over the last). Collective. */
static PetscErrorCode ItMCInitialRefractory(ItMC mc, Vec p0) {
  const PetscInt a    = mc->refractory_axis;
  PetscReal      held = 0;

  PetscFunctionBegin;
  if (p0) {
    PetscScalar sum;
    PetscCall(VecSum(p0, &sum));
    held = 1 - PetscRealPart(sum) * ItGridGetInfo(mc->grid)->cell_volume;
    if (held < 1e-12) held = 0;
  }
  /* with two or more variables the compartment's particles would need the distribution of
     their other variables, carried since their crossing (doc/physics.md §8.2) */
  PetscCheck(held == 0 || ItGridGetInfo(mc->grid)->dim == 1, ItGridGetInfo(mc->grid)->comm,
             PETSC_ERR_USER_INPUT,
             "the Monte Carlo from a density of mass %g with a refractory time and %" PetscInt_FMT
             " variables: its refractory particles at t = 0 would need the compartment's "
             "distribution over the other variables; start from a density of mass 1 (-init "
             "gaussian)",
             (double)(1 - held), ItGridGetInfo(mc->grid)->dim);
  for (PetscInt k = 0; k < mc->nlocal; k++) {
    PetscReal z[IT_MC_NDRAW], u[IT_MC_NDRAW];
    mc->release[k] = PETSC_MIN_REAL;
    if (!(held > 0)) continue;
    ItMCNormals(mc->seed, mc->first + k, 0, 3, 1, z, u);
    if (u[0] >= held) continue;
    mc->release[k]            = mc->tau_ref * u[0] / held;
    mc->x[a * mc->nlocal + k] = ItGridGetInfo(mc->grid)->reset[a];
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The particles at t = 0, sampled from the initial density of `run`: a
   Gaussian initial density (-init gaussian) is drawn directly from
   N(-init_mean, -init_cov) (the same defaults as ItInitGaussian), otherwise
   the grid density p0 is sampled (a cell by its mass, then uniformly inside
   it). Collective. */
PetscErrorCode ItMCInitialize(ItMC mc, PetscBool gaussian, Vec p0) {
  const ItGridInfo *info = ItGridGetInfo(mc->grid);
  const PetscInt    d    = info->dim;
  PetscReal         mean[IT_MAX_DIM], L[IT_MAX_DIM * IT_MAX_DIM];

  PetscFunctionBegin;
  if (gaussian) {
    PetscCall(ItInitGaussianOptions(mc->grid, mean, L));
    ItMCSampleGaussian(mc, mean, L);
  } else
    PetscCall(ItMCSampleDensity(mc, p0));
  PetscCall(PetscArrayzero(mc->medium, mc->nlocal * d));
  PetscCall(PetscArrayzero(mc->medium_prev, mc->nlocal * d));
  if (mc->spikes) {
    PetscCall(PetscArrayzero(mc->spikes, mc->nlocal));
    PetscCall(PetscArrayzero(mc->spikes_prev, mc->nlocal));
  }
  if (mc->release) PetscCall(ItMCInitialRefractory(mc, gaussian ? NULL : p0));
  mc->t      = 0;
  mc->t_prev = 0;
  mc->step   = 0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Work space of ItMCAdvance for one tile of T particles: rows of T values,
   one per variable (d rows) unless said. */
typedef struct {
  PetscInt   T;
  PetscBool  avx512;                 /* Philox in AVX-512 lanes */
  uint64_t  *word[4];                /* one Philox draw per particle */
  PetscReal *z;                      /* 4 d rows: the normals of IT_MC_CHUNK steps */
  PetscReal *x, *medium;             /* the tile's particles */
  PetscReal *A, *D, *F;              /* drift, diffusion and force at x */
  PetscReal *xn, *An, *Dn, *Fn, *dW; /* the new point (or x̄), A, D and F there, the noise */
  PetscReal *sigma;                  /* sqrt(2 D_i h) */
  PetscReal *xw, *Aw, *Dm, *Dp;      /* ItMCForce's shifted points (non-additive noise) */
  PetscReal *crossed;                /* threshold_reset rows: 1 where the step crossed, else 0 */
  PetscReal *held;                   /* one row: 1 where the particle is refractory this step */
  PetscReal *kept;                   /* d rows: the refractory particles' medium entropy */
  void      *mem;
} ItMCWork;

static PetscErrorCode ItMCWorkCreate(ItMC mc, PetscInt T, ItMCWork *w) {
  const ItGridInfo *info = ItGridGetInfo(mc->grid);
  const PetscInt    d    = info->dim;
  PetscReal        *row;
  uint64_t         *wrow;

  PetscFunctionBegin;
  w->T = T;
#if IT_MC_X86
  w->avx512 = ItMCHasAVX512();
#else
  w->avx512 = PETSC_FALSE;
#endif
  /* 64-byte aligned rows (T is a multiple of 8) */
  PetscCall(PetscMalloc(sizeof(PetscReal) * (size_t)T * (5 + 22 * d) + 64, &w->mem));
  wrow = (uint64_t *)(((uintptr_t)w->mem + 63) & ~(uintptr_t)63);
  for (int j = 0; j < 4; j++) w->word[j] = wrow + j * T;
  row        = (PetscReal *)(wrow + 4 * T);
  w->z       = row;
  w->x       = (row += 4 * d * T);
  w->medium  = (row += d * T);
  w->A       = (row += d * T);
  w->D       = (row += d * T);
  w->F       = (row += d * T);
  w->xn      = (row += d * T);
  w->An      = (row += d * T);
  w->Dn      = (row += d * T);
  w->Fn      = (row += d * T);
  w->dW      = (row += d * T);
  w->xw      = (row += d * T);
  w->Aw      = (row += d * T);
  w->Dm      = (row += d * T);
  w->Dp      = (row += d * T);
  w->sigma   = (row += d * T);
  w->crossed = (row += d * T);
  w->held    = (row += d * T);
  w->kept    = (row += T);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* F_i = (A_i - ∂i D_i)/D_i at n points (rows of ld); ∂i D_i by central
   differences when the noise is not additive. */
static PetscErrorCode ItMCForce(ItMC mc, PetscReal t, PetscInt n, const PetscReal x[],
                                const PetscReal A[], const PetscReal D[], ItMCWork *w,
                                PetscReal F[]) {
  const ItGridInfo *info = ItGridGetInfo(mc->grid);
  const PetscInt    d = info->dim, ld = w->T;

  PetscFunctionBegin;
  for (PetscInt i = 0; i < d; i++)
    for (PetscInt k = 0; k < n; k++) F[i * ld + k] = A[i * ld + k] / D[i * ld + k];
  if (mc->additive) PetscFunctionReturn(PETSC_SUCCESS);
  for (PetscInt i = 0; i < d; i++) {
    const PetscReal delta = 1e-6 * (info->hi[i] - info->lo[i]);
    for (PetscInt s = 0; s < 2; s++) {
      PetscCall(PetscArraycpy(w->xw, x, d * ld));
      for (PetscInt k = 0; k < n; k++) w->xw[i * ld + k] = x[i * ld + k] + (s ? delta : -delta);
      PetscCall(ItMCEvaluateSoA(mc, t, n, ld, w->xw, w->Aw, s ? w->Dp : w->Dm));
    }
    for (PetscInt k = 0; k < n; k++)
      F[i * ld + k] -= (w->Dp[i * ld + k] - w->Dm[i * ld + k]) / (2 * delta) / D[i * ld + k];
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The loops of a step over one variable's row of n particles. Each returns
   the number of new positions outside [lo, hi] (a NaN counts as inside and
   is left to the estimates to report). */

/* xn = x + A h + dW, dW = sigma z (Euler–Maruyama, or the predictor x̄ of weak2). */
IT_MC_CLONES static PetscInt
ItMCKernelEuler(PetscInt n, PetscReal h, PetscReal lo, PetscReal hi, const PetscReal *restrict x,
                const PetscReal *restrict A, const PetscReal *restrict sigma,
                const PetscReal *restrict z, PetscReal *restrict dW, PetscReal *restrict xn) {
  PetscInt out = 0;

  for (PetscInt k = 0; k < n; k++) {
    dW[k] = sigma[k] * z[k];
    xn[k] = x[k] + A[k] * h + dW[k];
    out += (xn[k] < lo) | (xn[k] > hi);
  }
  return out;
}

/* xn = x + (A + Ab) h/2 + dW (the corrector of weak2, Ab the drift at x̄). */
IT_MC_CLONES static PetscInt ItMCKernelWeak2(PetscInt n, PetscReal h, PetscReal lo, PetscReal hi,
                                             const PetscReal *restrict x,
                                             const PetscReal *restrict A,
                                             const PetscReal *restrict Ab,
                                             const PetscReal *restrict dW, PetscReal *restrict xn) {
  PetscInt out = 0;

  for (PetscInt k = 0; k < n; k++) {
    xn[k] = x[k] + 0.5 * (A[k] + Ab[k]) * h + dW[k];
    out += (xn[k] < lo) | (xn[k] > hi);
  }
  return out;
}

/* ItMCKernelMedium (below) with the force of additive noise at the new point, Fn = A/D. */
IT_MC_CLONES static void
ItMCKernelMediumAdditive(PetscInt n, PetscReal *restrict x, const PetscReal *restrict xn,
                         PetscReal *restrict F, const PetscReal *restrict A,
                         const PetscReal *restrict D, PetscReal *restrict medium) {
  for (PetscInt k = 0; k < n; k++) {
    const PetscReal Fn = A[k] / D[k];
    medium[k] += 0.5 * (F[k] + Fn) * (xn[k] - x[k]);
    x[k] = xn[k];
    F[k] = Fn;
  }
}

/* The Stratonovich increment of the medium entropy, (F + Fn)/2 (xn - x), then x = xn, F = Fn. */
IT_MC_CLONES static void ItMCKernelMedium(PetscInt n, PetscReal *restrict x,
                                          const PetscReal *restrict xn, PetscReal *restrict F,
                                          const PetscReal *restrict Fn,
                                          PetscReal *restrict medium) {
  for (PetscInt k = 0; k < n; k++) {
    medium[k] += 0.5 * (F[k] + Fn[k]) * (xn[k] - x[k]);
    x[k] = xn[k];
    F[k] = Fn[k];
  }
}

/* The number of D[k] that differ from D[0]. */
IT_MC_CLONES static PetscInt ItMCKernelUniform(PetscInt n, const PetscReal *restrict D) {
  const PetscReal D0     = D[0];
  PetscInt        differ = 0;

  for (PetscInt k = 0; k < n; k++) differ += D[k] != D0;
  return differ;
}

/* sigma = sqrt(2 D h) on a row. With additive noise D is the same everywhere:
   one square root, and the row is refilled only when its value changes
   (*filled holds it; NaN: not one value). */
static void ItMCNoiseAmplitude(PetscInt n, PetscReal h, const PetscReal D[], PetscReal sigma[],
                               PetscReal *filled) {
  if (n > 0 && !ItMCKernelUniform(n, D)) {
    const PetscReal s = PetscSqrtReal(2 * D[0] * h);
    if (s == *filled) return;
    for (PetscInt k = 0; k < n; k++) sigma[k] = s;
    *filled = s;
  } else {
    for (PetscInt k = 0; k < n; k++) sigma[k] = PetscSqrtReal(2 * D[k] * h);
    *filled = (PetscReal)NAN;
  }
}

/* The normal deviates of IT_MC_CHUNK steps from `chunk`'s first (a multiple
   of IT_MC_CHUNK) for the n particles first.. of a tile: deviate j of a
   particle is word pair (j mod 4)/2 of its Philox draw j/4; row r of w->z
   holds deviate IT_MC_CHUNK d chunk + r. */
static void ItMCDrawChunk(ItMC mc, PetscInt64 first, PetscInt n, PetscInt64 chunk, ItMCWork *w) {
  const ItGridInfo *info = ItGridGetInfo(mc->grid);
  const PetscInt    d = info->dim, T = w->T;

  for (PetscInt g = 0; g < d; g++) {
    PetscReal *z = &w->z[4 * g * T];
    ItMCPhilox(w->avx512, (uint64_t)mc->seed, (uint64_t)first, (uint64_t)(chunk * d + g), 0, n,
               w->word);
    ItMCBoxMullerArray(n, w->word[0], w->word[1], z, z + T);
    ItMCBoxMullerArray(n, w->word[2], w->word[3], z + 2 * T, z + 3 * T);
  }
}

/* Folds the rows of the new positions into the box (the rare path). */
static void ItMCReflectRow(PetscInt n, PetscReal lo, PetscReal hi, PetscReal xn[]) {
  for (PetscInt k = 0; k < n; k++) xn[k] = ItMCReflect(xn[k], lo, hi);
}

/* The threshold of axis i over one step of h from x to xn (rows of n, the
   diffusion D at x): a particle ending past it, or below it with the
   Brownian bridge's crossing probability exp(-(th - x)(th - xn)/(D h)),
   crossed; it ends the step on the threshold. Row i of crossed holds 0, or
   1 + the fraction of the step left after the crossing: (xn - th)/(xn - x)
   by linear interpolation past the threshold, 1/2 for a bridge's crossing.
   Returns the number that crossed. */
static PetscInt ItMCThreshold(ItMC mc, PetscInt i, PetscInt64 step, PetscInt64 first, PetscInt n,
                              PetscReal h, ItMCWork *w) {
  const PetscInt    T    = w->T;
  const ItGridInfo *info = ItGridGetInfo(mc->grid);
  const PetscReal   th = info->hi[i], *x = &w->x[i * T], *D = &w->D[i * T];
  PetscReal        *xn = &w->xn[i * T], *crossed = &w->crossed[i * T];
  PetscInt          ncross = 0;

  ItMCPhilox(w->avx512, (uint64_t)mc->seed, (uint64_t)first, (uint64_t)step, 2, n, w->word);
  for (PetscInt k = 0; k < n; k++) {
    const PetscReal u = ((double)(w->word[0][k] >> 11) + 0.5) * 0x1.0p-53;
    crossed[k]        = 0;
    if (w->held[k] != 0) continue; /* refractory: held at the reset */
    if (xn[k] >= th)
      crossed[k] = 1 + (xn[k] - th) / (xn[k] - x[k]);
    else if (u < PetscExpReal(-(th - x[k]) * (th - xn[k]) / (D[k] * h)))
      crossed[k] = 1.5;
    if (crossed[k] != 0) {
      xn[k] = th;
      ncross++;
    }
  }
  return ncross;
}

/* The drift, diffusion and force of the tile at its positions x. */
static PetscErrorCode ItMCEvaluateTile(ItMC mc, PetscReal t, PetscInt n, ItMCWork *w) {
  const ItGridInfo *info = ItGridGetInfo(mc->grid);
  const PetscInt    T = w->T, d = info->dim;

  PetscFunctionBegin;
  PetscCall(ItMCEvaluateSoA(mc, t, n, T, w->x, w->A, w->D));
  if (mc->additive)
    for (PetscInt a = 0; a < d; a++)
      for (PetscInt k = 0; k < n; k++) w->F[a * T + k] = w->A[a * T + k] / w->D[a * T + k];
  else
    PetscCall(ItMCForce(mc, t, n, w->x, w->A, w->D, w, w->F));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The particles that crossed restart at the reset point with a spike
   counted, and move on for the rest of their step, r h (an Euler step with
   the normals of the step's uniform draw, its medium entropy counted); then
   the drift, diffusion and force of the tile at the step's end. Without the
   rest of the step each spike would cost h/2 of time, a bias of -ν^2 h/2 in
   the rate. */
static PetscErrorCode ItMCReset(ItMC mc, PetscInt i, PetscInt64 step, PetscInt k0, PetscInt n,
                                PetscReal h, PetscReal t, ItMCWork *w) {
  const PetscInt    T    = w->T;
  const ItGridInfo *info = ItGridGetInfo(mc->grid);
  const PetscReal   lo = info->lo[i], hi = info->hi[i], *crossed = &w->crossed[i * T];
  PetscReal        *x = &w->x[i * T], *Fr = &w->Fn[i * T], *xr = &w->xn[i * T];

  PetscFunctionBegin;
  for (PetscInt k = 0; k < n; k++)
    if (crossed[k] != 0) {
      x[k] = info->reset[i];
      mc->spikes[k0 + k] += 1;
      /* refractory until τ_ref after the crossing, (crossed - 1) h before the step's end */
      if (i == mc->refractory_axis) mc->release[k0 + k] = t - (crossed[k] - 1) * h + mc->tau_ref;
    }
  PetscCall(ItMCEvaluateTile(mc, t, n, w));
  ItMCPhilox(w->avx512, (uint64_t)mc->seed, (uint64_t)(mc->first + k0), (uint64_t)step, 2, n,
             w->word);
  for (PetscInt k = 0; k < n; k++) {
    PetscReal z0, z1;
    xr[k] = x[k];
    Fr[k] = w->F[i * T + k];
    if (crossed[k] == 0 || i == mc->refractory_axis) continue; /* refractory: stays */
    ItMCBoxMuller(w->word[1][k], w->word[2][k], &z0, &z1);
    {
      const PetscReal rh = (crossed[k] - 1) * h;
      x[k]               = ItMCReflect(
                        x[k] + w->A[i * T + k] * rh + ItMCSqrt(2 * w->D[i * T + k] * rh + 1e-300) * z0, lo, hi);
    }
  }
  PetscCall(ItMCEvaluateTile(mc, t, n, w));
  for (PetscInt k = 0; k < n; k++)
    if (crossed[k] != 0) w->medium[i * T + k] += 0.5 * (Fr[k] + w->F[i * T + k]) * (x[k] - xr[k]);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A periodic axis' row wrapped into [lo, hi). */
static void ItMCWrapRow(PetscInt n, PetscReal lo, PetscReal hi, PetscReal x[]) {
  const PetscReal L = hi - lo;

  for (PetscInt k = 0; k < n; k++)
    if (x[k] < lo || x[k] >= hi) {
      PetscReal y = PetscFmodReal(x[k] - lo, L);
      if (y < 0) y += L;
      x[k] = lo + y;
    }
}

/* The refractory particles of a step from ts of length hs (release more
   than hs/2 ahead: rounded to the nearest step's start) stay where they are
   along the refractory axis (w->held marks them; the other variables move). */
static void ItMCHoldRefractory(ItMC mc, PetscInt k0, PetscInt n, PetscReal ts, PetscReal hs,
                               ItMCWork *w) {
  const PetscInt a = mc->refractory_axis, T = w->T;

  for (PetscInt k = 0; k < n; k++) w->held[k] = 0;
  if (a < 0) return;
  for (PetscInt k = 0; k < n; k++)
    if (mc->release[k0 + k] - ts > 0.5 * hs) {
      w->held[k]       = 1;
      w->xn[a * T + k] = w->x[a * T + k];
    }
}

/* A refractory particle's other variables move (ItMCHoldRefractory), but
   like its position it is out of the density, and its heat out of the
   entropy flows (the solver's compartment holds no density over them,
   doc/physics.md §8.2): its medium entropy is kept before the step's
   increment (restore false) and put back after it (true). Two or more
   variables only (with one, a held particle does not move). */
static void ItMCKeepHeld(ItMC mc, PetscInt n, ItMCWork *w, PetscBool restore) {
  const PetscInt d = ItGridGetInfo(mc->grid)->dim, T = w->T;

  if (mc->refractory_axis < 0 || d == 1) return;
  for (PetscInt i = 0; i < d; i++)
    for (PetscInt k = 0; k < n; k++) {
      if (w->held[k] == 0) continue;
      if (restore)
        w->medium[i * T + k] = w->kept[i * T + k];
      else
        w->kept[i * T + k] = w->medium[i * T + k];
    }
}

/* Integrates the n particles k0.. of this rank from t0 to t1 in nsteps steps
   of h: one bulk model evaluation per step (two for weak2) and the row loops. */
static PetscErrorCode ItMCAdvanceTile(ItMC mc, PetscInt k0, PetscInt n, PetscReal t0, PetscReal t1,
                                      PetscInt64 nsteps, PetscReal h, ItMCWork *w) {
  ItGrid            grid = mc->grid;
  const ItGridInfo *info = ItGridGetInfo(grid);
  const PetscInt    d = info->dim, T = w->T, ld = mc->nlocal;
  PetscReal         filled[IT_MAX_DIM]; /* the value of each row of w->sigma, NaN: none */

  PetscFunctionBegin;
  for (PetscInt i = 0; i < d; i++) {
    filled[i] = (PetscReal)NAN;
    PetscCall(PetscArraycpy(&w->x[i * T], &mc->x[i * ld + k0], n));
    PetscCall(PetscArraycpy(&w->medium[i * T], &mc->medium[i * ld + k0], n));
  }
  PetscCall(ItMCEvaluateSoA(mc, t0, n, T, w->x, w->A, w->D));
  PetscCall(ItMCForce(mc, t0, n, w->x, w->A, w->D, w, w->F));
  for (PetscInt64 s = 0; s < nsteps; s++) {
    const PetscInt64 step = mc->step + s; /* from t = 0: it draws deviates step d .. step d + d-1 */
    const PetscReal  te   = s == nsteps - 1 ? t1 : t0 + (PetscReal)(s + 1) * h;
    const PetscReal  hs   = te - (t0 + (PetscReal)s * h);
    PetscInt         out[IT_MAX_DIM], nout = 0, ncross[IT_MAX_DIM] = {0};

    if (s == 0 || step % IT_MC_CHUNK == 0)
      ItMCDrawChunk(mc, mc->first + k0, n, step / IT_MC_CHUNK, w);
    for (PetscInt i = 0; i < d; i++) {
      const PetscReal *z = &w->z[((step % IT_MC_CHUNK) * d + i) * T];
      ItMCNoiseAmplitude(n, hs, &w->D[i * T], &w->sigma[i * T], &filled[i]);
      out[i] = ItMCKernelEuler(n, hs, info->lo[i], info->hi[i], &w->x[i * T], &w->A[i * T],
                               &w->sigma[i * T], z, &w->dW[i * T], &w->xn[i * T]);
    }
    if (mc->scheme == IT_MC_WEAK2) {
      PetscCall(ItMCEvaluateSoA(mc, te, n, T, w->xn, w->An, w->Dn));
      for (PetscInt i = 0; i < d; i++)
        out[i] = ItMCKernelWeak2(n, hs, info->lo[i], info->hi[i], &w->x[i * T], &w->A[i * T],
                                 &w->An[i * T], &w->dW[i * T], &w->xn[i * T]);
    }
    ItMCHoldRefractory(mc, k0, n, t0 + (PetscReal)s * h, hs, w);
    for (PetscInt i = 0; i < d; i++) {
      if (info->boundary[i] == IT_BOUNDARY_PERIODIC) out[i] = 0; /* wrapped after the step */
      if (info->boundary[i] != IT_BOUNDARY_THRESHOLD_RESET) continue;
      ncross[i] = ItMCThreshold(mc, i, step, mc->first + k0, n, hs, w);
      out[i]    = 0; /* then only the wall below */
      for (PetscInt k = 0; k < n; k++) out[i] += w->xn[i * T + k] < info->lo[i];
    }
    for (PetscInt i = 0; i < d; i++) nout += out[i];
    if (nout)
      for (PetscInt i = 0; i < d; i++)
        if (out[i]) ItMCReflectRow(n, info->lo[i], info->hi[i], &w->xn[i * T]);
    ItMCKeepHeld(mc, n, w, PETSC_FALSE);
    /* Stratonovich: the force at both ends of the increment; A, D at the new point carry on */
    PetscCall(ItMCEvaluateSoA(mc, te, n, T, w->xn, w->A, w->D));
    if (mc->additive)
      for (PetscInt i = 0; i < d; i++)
        ItMCKernelMediumAdditive(n, &w->x[i * T], &w->xn[i * T], &w->F[i * T], &w->A[i * T],
                                 &w->D[i * T], &w->medium[i * T]);
    else {
      PetscCall(ItMCForce(mc, te, n, w->xn, w->A, w->D, w, w->Fn));
      for (PetscInt i = 0; i < d; i++)
        ItMCKernelMedium(n, &w->x[i * T], &w->xn[i * T], &w->F[i * T], &w->Fn[i * T],
                         &w->medium[i * T]);
    }
    ItMCKeepHeld(mc, n, w, PETSC_TRUE);
    for (PetscInt i = 0; i < d; i++) {
      if (info->boundary[i] == IT_BOUNDARY_PERIODIC)
        ItMCWrapRow(n, info->lo[i], info->hi[i], &w->x[i * T]);
      if (info->boundary[i] == IT_BOUNDARY_THRESHOLD_RESET && ncross[i])
        PetscCall(ItMCReset(mc, i, step, k0, n, hs, te, w));
    }
  }
  for (PetscInt i = 0; i < d; i++) {
    PetscCall(PetscArraycpy(&mc->x[i * ld + k0], &w->x[i * T], n));
    PetscCall(PetscArraycpy(&mc->medium[i * ld + k0], &w->medium[i * T], n));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Rank 0's progress line, at most twice a second. */
static PetscErrorCode ItMCProgress(ItMC mc, PetscInt done, PetscInt64 nsteps, PetscReal t0,
                                   PetscReal t, PetscLogDouble start, PetscLogDouble *last) {
  PetscLogDouble now;
  double         rate;

  PetscFunctionBegin;
  PetscCall(PetscTime(&now));
  if (now - *last <= 0.5) PetscFunctionReturn(PETSC_SUCCESS);
  rate = (double)done * (double)nsteps / (now - start + 1e-30);
  fprintf(stderr,
          "\r  mc: t = %-8.4g -> %-8.4g  particle %" PetscInt64_FMT "/%" PetscInt64_FMT
          "  %.3g particle-steps/s per rank ",
          (double)t0, (double)t, (PetscInt64)done, (PetscInt64)mc->nlocal, rate);
  fflush(stderr);
  *last = now;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Particles per tile: the model's bulk size (a formula model amortises its
   cost per call over many points), else 256 (the tile's rows stay in cache);
   a multiple of 8 (whole vectors). */
static PetscInt ItMCTileSize(ItMC mc) {
  const PetscInt bulk = ItModelGetBulkSize(mc->model);
  PetscInt       T    = bulk > 0 ? bulk : 256;

  T = PetscMin(T, mc->nlocal);
  return PetscMax(8, (T + 7) / 8 * 8);
}

/* The AVX-512 Philox against Random123's on a few keys: a miscompiled
   kernel must not pass for random numbers. */
static PetscErrorCode ItMCCheckPhilox(ItMCWork *w) {
  uint64_t  ref[4][16], *rw[4] = {ref[0], ref[1], ref[2], ref[3]};
  PetscBool same = PETSC_TRUE;

  PetscFunctionBegin;
  if (!w->avx512 || w->T < 16) PetscFunctionReturn(PETSC_SUCCESS);
  ItMCPhiloxScalar(7, 1ULL << 40, 3, 0, 16, rw);
  ItMCPhilox(w->avx512, 7, 1ULL << 40, 3, 0, 16, w->word);
  for (int j = 0; j < 4; j++)
    for (int k = 0; k < 16; k++) same = (PetscBool)(same && ref[j][k] == w->word[j][k]);
  PetscCheck(same, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "the AVX-512 Philox4x64-10 disagrees with Random123's: a miscompiled build");
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Integrates every particle from mc->t to t in equal steps no longer than
   -mc_dt, tile by tile, accumulating the medium entropy. Not collective
   (the progress line is rank 0's). */
PetscErrorCode ItMCAdvance(ItMC mc, PetscReal t) {
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
  PetscCall(PetscTime(&start));
  PetscCall(ItMCWorkCreate(mc, ItMCTileSize(mc), &w));
  PetscCall(ItMCCheckPhilox(&w));
  for (PetscInt k0 = 0; k0 < mc->nlocal; k0 += w.T) {
    PetscCall(ItMCAdvanceTile(mc, k0, PetscMin(w.T, mc->nlocal - k0), t0, t, nsteps, h, &w));
    if (progress)
      PetscCall(ItMCProgress(mc, PetscMin(k0 + w.T, mc->nlocal), nsteps, t0, t, start, &last));
  }
  PetscCall(PetscFree(w.mem));
  PetscCall(PetscTime(&now));
  mc->step_time += now - start;
  mc->step += nsteps;
  mc->t = t;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Two lines on stdout: particles, steps, scheme, wall time and rate; where
   the time went (seconds on the slowest rank). Collective. */
PetscErrorCode ItMCReport(ItMC mc) {
  PetscReal rate;
  PetscReal stepping, estimates;

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
  PetscCall(ItGridMaxAbs(mc->grid, mc->step_time, &stepping));
  PetscCall(ItGridMaxAbs(mc->grid, mc->estimate_time, &estimates));
  PetscCall(PetscPrintf(mc->comm, "mc: stepping %.3g s, estimates %.3g s\n", (double)stepping,
                        (double)estimates));
  PetscFunctionReturn(PETSC_SUCCESS);
}
