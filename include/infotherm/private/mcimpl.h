/* The Monte Carlo's implementation, for src/mc/ only (include/infotherm/mc.h
   is the interface). */
#pragma once
#include <stdint.h>
#include <string.h>
#include <infotherm/mc.h>

/* The loops over particles and cells that are worth it are compiled for
   AVX-512 and AVX2 besides the baseline (picked at run time); every version
   does the same IEEE operations in the same order (no contraction into FMA:
   GCC leaves it off under -std=c17; clang is told), so the results do not
   depend on the machine's vector width. */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11
#define IT_MC_X86 1
#define IT_MC_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define IT_MC_X86 0
#define IT_MC_CLONES
#endif

typedef enum { IT_MC_EULER, IT_MC_WEAK2 } ItMCScheme;

#define IT_MC_MAX_BATCHES 64 /* the most -mc_batches */

/* Estimate columns (-1 when absent); each has a value and a standard error. */
typedef struct {
  PetscInt mean[IT_MAX_DIM], var[IT_MAX_DIM], cov[IT_MAX_DIM * (IT_MAX_DIM - 1) / 2];
  PetscInt entropy, entropy_var[IT_MAX_DIM];
  PetscInt mutual_information, mutual_information_gaussian;
  PetscInt entropy_flow[IT_MAX_DIM], heat_rate[IT_MAX_DIM], entropy_flow_cum[IT_MAX_DIM];
  PetscInt kl_mc_fp;
  PetscInt firing_rate, spike_count_cum; /* threshold_reset axes (doc/physics.md §8) */
} ItMCColumns;

struct _p_ItMC {
  MPI_Comm    comm;
  PetscMPIInt rank, size;
  ItGrid      grid;
  ItModel     model;
  ItModelWork work; /* the particles' own model workspace (ItModelWorkCreate) */
  ItDiag      diag; /* the sensor set X and the column names */
  /* options */
  PetscInt   N;      /* -mc_particles */
  ItMCScheme scheme; /* -mc_scheme */
  PetscReal  dt;     /* -mc_dt, the largest step */
  PetscInt64 seed;   /* -mc_seed */
  PetscInt   nbatch; /* -mc_batches: batches for the standard errors of the density estimates */
  PetscReal bandwidth[IT_MAX_DIM]; /* kernel standard deviation per axis (-mc_bandwidth), 0: Scott's
                                      rule */
  PetscBool bandwidth_set;
  PetscBool quiet;
  PetscBool additive;  /* D does not depend on x: no ∂_i D_i term in F_i */
  PetscReal stiffness; /* the largest |eigenvalue| of the drift Jacobian seen on the box */
  PetscInt  override;  /* a parameter held at override_value (-crosscheck_mc_param), or -1 */
  PetscReal override_value;
  /* particles: blocks of `block` consecutive global indices; this rank owns blocks [b0, b1) */
  PetscInt   block, nblocks, b0, b1, first, nlocal;
  PetscReal *x;           /* nlocal*dim positions */
  PetscReal *medium;      /* nlocal*dim: ∫ F_i ∘ dx_i since t = 0 */
  PetscReal *medium_prev; /* the same at the previous output time */
  PetscReal *spikes;      /* nlocal threshold crossings since t = 0 (threshold_reset), or NULL */
  PetscReal *spikes_prev; /* the same at the previous output time */
  /* a refractory time tau_ref > 0 on threshold_reset axis refractory_axis: the time each
     particle leaves the refractory state (held at the reset, out of the estimates), or NULL */
  PetscReal     *release;
  PetscReal      tau_ref;
  PetscInt       refractory_axis;
  PetscReal      t, t_prev; /* time of the particles and of the previous estimate */
  PetscInt64     step;      /* steps taken since t = 0 (the stream's counter) */
  PetscLogDouble step_time; /* wall time spent stepping */
  /* density estimate: every array of cells lives on this rank's FFTW slab, the
     cells of natural index slab_start .. slab_start + nslab - 1 (whole planes of
     the last axis); nothing of grid size is held on every rank */
  PetscInt     ncell, nslab, slab_start;
  PetscReal   *density;   /* the smoothed density of all particles at the last estimate */
  PetscReal   *reference; /* the reference density of the last estimate (kl_mc_fp), or NULL */
  PetscReal   *dct_factor[IT_MAX_DIM]; /* kernel multipliers per axis */
  PetscReal   *dct_slab;               /* their product on this rank's slab, times FFTW's scale */
  void        *fft_data, *fft_plan_forward, *fft_plan_backward;
  PetscInt     fft_n0, fft_start0, fft_rest; /* the FFTW slab of this rank */
  PetscMPIInt *slab_count, *slab_offset;
  PetscMPIInt *plane_rank;   /* the rank whose slab holds each plane of the last axis */
  Vec          natural;      /* the slabs as a vector (no array of its own) */
  VecScatter   slab_scatter; /* grid density -> slabs, natural order */
  /* estimates */
  PetscInt ncol;
  char (*name)[IT_DIAG_NAME_LEN];
  PetscReal  *value, *stderr_;
  ItMCColumns col;
  PetscBool  *judged;            /* per column: an unbiased estimator, judged by the cross-check */
  PetscReal   scott[IT_MAX_DIM]; /* the bandwidth used at the last estimate */
  /* table of estimates: rows of t, then value and standard error of each column */
  PetscInt   nrow, caprow;
  PetscReal *rows;

  PetscLogDouble estimate_time; /* wall time spent in the estimates (ItMCEstimate) */
};

static inline uint64_t ItMCBits(double x) {
  uint64_t b;
  memcpy(&b, &x, sizeof(b));
  return b;
}

static inline double ItMCDouble(uint64_t b) {
  double x;
  memcpy(&x, &b, sizeof(x));
  return x;
}

/* ln u for a positive normal double u in plain arithmetic, without a branch
   or a libm call, so that loops calling it vectorise: fdlibm's reduction
   u = 2^k f, f in [sqrt(1/2), sqrt(2)), and its polynomial in s = (f-1)/(f+1);
   within an ulp of libm's log. */
static inline double ItMCLog(double u) {
  const double Lg1 = 6.666666666666735130e-01, Lg2 = 3.999999999940941908e-01,
               Lg3 = 2.857142874366239149e-01, Lg4 = 2.222219843214978396e-01,
               Lg5 = 1.818357216161805012e-01, Lg6 = 1.531383769920937332e-01,
               Lg7 = 1.479819860511658591e-01, ln2_hi = 6.93147180369123816490e-01,
               ln2_lo = 1.90821492927058770002e-10;
  const uint64_t iu   = ItMCBits(u) + (0x3ff0000000000000ULL - 0x3fe6a09e00000000ULL);
  /* k + 1023 made a double exactly (2^52 + m - 2^52) */
  const double dk   = ItMCDouble(0x4330000000000000ULL | (iu >> 52)) - 0x1p52 - 1023.0;
  const double f    = ItMCDouble((iu & 0x000fffffffffffffULL) + 0x3fe6a09e00000000ULL) - 1.0;
  const double hfsq = 0.5 * f * f, s = f / (2.0 + f), z = s * s, w = z * z;
  const double R = z * (Lg1 + w * (Lg3 + w * (Lg5 + w * Lg7))) + w * (Lg2 + w * (Lg4 + w * Lg6));

  return s * (hfsq + R) + dk * ln2_lo - hfsq + f + dk * ln2_hi;
}

/* fold(mc, ctx, acc) adds this rank's slab to the accumulator acc. */
typedef PetscErrorCode (*ItMCFoldFn)(ItMC mc, void *ctx, PetscReal acc[]);
PetscErrorCode ItMCFold(ItMC mc, PetscInt n, PetscReal acc[], ItMCFoldFn fold, void *ctx,
                        PetscBool broadcast);
PetscErrorCode ItMCVecToSlab(ItMC mc, Vec p, PetscReal slab[]);
/* The estimates' columns, names and buffers (src/mc/estimate.c), set up by ItMCCreate. */
PetscErrorCode ItMCSetUpEstimates(ItMC mc);

/* The cross-check (src/mc/crosscheck.c). */
struct _p_ItCrosscheck {
  ItMC       mc;
  ItDiag     diag;
  PetscReal  z_limit; /* -crosscheck_z */
  PetscInt   ntime, captime;
  PetscReal *t;
  PetscInt   nq; /* quantities compared */
  char (*name)[IT_DIAG_NAME_LEN];
  PetscBool *judged;
  PetscReal *fp, *mcv, *se;             /* [time*nq + q] */
  PetscReal *fp_cum_prev;               /* FP entropy_flow_<var>_cum at the previous output time */
  PetscInt   fp_cum_column[IT_MAX_DIM]; /* its columns; fp_cum_prev[IT_MAX_DIM]: spike_count_cum */
  PetscInt   fp_spike_column;           /* FP spike_count_cum, -1: none */
  PetscReal  fp_t_prev;
  /* -error_estimate (NULL/0 without): the solver's error estimate, the Monte
     Carlo's time-step bias (from bias_mc, run at twice the step) [time*nq + q] */
  ItMC       bias_mc;
  PetscInt   bias_order; /* weak order of the scheme: 1 Euler–Maruyama, 2 weak2 */
  PetscReal *fp_err, *mc_bias;
  PetscReal *fp_order;   /* the solver's observed order */
  PetscBool *fp_trusted; /* its error bar trusted (ItEstimateTrustedBar, doc/physics.md §5) */
  PetscReal *fp_unc;     /* the half-width of the solver's error bar (doc/physics.md §5) */
};

/* Whether particle k (local) is refractory at time t: its release lies more
   than half a step ahead (a release is rounded to the nearest step's start,
   so the refractory time's mean is kept). */
static inline PetscBool ItMCHeld(const struct _p_ItMC *mc, PetscInt k, PetscReal t) {
  return (PetscBool)(mc->release && mc->release[k] - t > 0.5 * mc->dt);
}
