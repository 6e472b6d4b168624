/* Monte Carlo (PHYSICS.md §4): the Langevin equation of the model,
   dx_i = A_i dt + sqrt(2 D_i) dW_i, integrated for many independent particles
   spread over the ranks, each with a Philox stream keyed by (seed, global
   index); reflecting walls; estimates with standard errors (moments, a binned
   kernel density estimate smoothed with FFTW's MPI interface, mutual
   information, the Stratonovich medium entropy ∫ F_i ∘ dx_i); and the
   Fokker–Planck vs Monte Carlo cross-check report. Every reduction over
   particles is done block by block in global-index order, so the estimates
   are bitwise the same on any number of ranks. */
#pragma once
#include <infotherm/diag.h>
#include <infotherm/io.h>

typedef struct _p_ItMC *ItMC;

typedef enum { IT_MC_EULER, IT_MC_WEAK2 } ItMCScheme;

/* Estimate columns (-1 when absent); each has a value and a standard error. */
typedef struct {
  PetscInt mean[IT_MAX_DIM], var[IT_MAX_DIM], cov[IT_MAX_DIM], entropy, entropy_var[IT_MAX_DIM];
  PetscInt mutual_information, mutual_information_gaussian;
  PetscInt entropy_flow[IT_MAX_DIM], heat_rate[IT_MAX_DIM], entropy_flow_cum[IT_MAX_DIM];
  PetscInt kl_mc_fp;
} ItMCColumns;

struct _p_ItMC {
  MPI_Comm    comm;
  PetscMPIInt rank, size;
  ItGrid      grid;
  ItModel     model;
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
  PetscInt       block, nblocks, b0, b1, first, nlocal;
  PetscReal     *x;           /* nlocal*dim positions */
  PetscReal     *medium;      /* nlocal*dim: ∫ F_i ∘ dx_i since t = 0 */
  PetscReal     *medium_prev; /* the same at the previous output time */
  PetscReal      t, t_prev;   /* time of the particles and of the previous estimate */
  PetscInt64     step;        /* steps taken since t = 0 (the stream's counter) */
  PetscLogDouble step_time;   /* wall time spent stepping */
  /* density estimate */
  PetscInt     ncell;
  PetscReal   *density; /* the smoothed density of all particles, natural order, on every rank */
  PetscReal   *batch_density;          /* the same per batch (nbatch*ncell) */
  PetscReal   *hist_local, *hist;      /* (1+nbatch)*ncell binned counts */
  PetscReal   *dct_factor[IT_MAX_DIM]; /* kernel multipliers per axis */
  void        *fft_data, *fft_plan_forward, *fft_plan_backward;
  PetscInt     fft_n0, fft_start0, fft_rest; /* the FFTW slab of this rank */
  PetscMPIInt *slab_count, *slab_offset;
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
};

PetscErrorCode ItMCCreate(ItGrid grid, ItModel model, ItDiag diag, PetscReal t_final, ItMC *mc);
PetscErrorCode ItMCSetKLColumn(ItMC mc);
PetscErrorCode ItMCSetUpEstimates(ItMC mc); /* called by ItMCCreate */
PetscErrorCode ItMCInitialize(ItMC mc, Vec p0);
PetscErrorCode ItMCAdvance(ItMC mc, PetscReal t);
PetscErrorCode ItMCEstimate(ItMC mc, const PetscReal reference[]);
PetscErrorCode ItMCGatherDensity(ItGrid grid, Vec p, PetscReal full[]);
PetscErrorCode ItMCDensityToVec(ItMC mc, Vec p);
PetscErrorCode ItMCAppendRow(ItMC mc);
PetscErrorCode ItMCWriteTable(ItMC mc, ItIO io);
PetscErrorCode ItMCWriteSummary(ItMC mc, ItIO io, const char command[], PetscLogDouble wall);
PetscErrorCode ItMCRate(ItMC mc, PetscReal *rate);
PetscErrorCode ItMCSetParameter(ItMC mc, PetscInt k, PetscReal value);
PetscErrorCode ItMCDestroy(ItMC *mc);

/* Cross-check report (src/mc/crosscheck.c). */
typedef struct _p_ItCrosscheck *ItCrosscheck;
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
  PetscInt   fp_cum_column[IT_MAX_DIM]; /* its columns */
  PetscReal  fp_t_prev;
  PetscInt   ncell;
  PetscReal *fp_density; /* the FP density at the last time, natural order */
};

PetscErrorCode ItCrosscheckCreate(ItMC mc, ItDiag diag, ItCrosscheck *cc);
PetscErrorCode ItCrosscheckAdd(ItCrosscheck cc, PetscReal t, const PetscReal fp_values[],
                               const PetscReal fp_density[]);
PetscErrorCode ItCrosscheckReport(ItCrosscheck cc, ItIO io, PetscInt *nfail, char worst[],
                                  size_t len);
PetscErrorCode ItCrosscheckDestroy(ItCrosscheck *cc);
