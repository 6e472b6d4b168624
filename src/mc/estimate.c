/* Monte Carlo estimates with standard errors (doc/physics.md §4). Sums over
   particles are taken per block of consecutive global indices, gathered, and
   added in block order, so every number is bitwise the same on any number of
   ranks. Moments: two passes (mean, then central products), standard errors
   from the fourth moments. Density: each particle is binned on the solver's
   grid by linear (cloud-in-cell) weights quantised to 1/256 of a cell per
   axis, so the counts are exact integers whatever the order of summation;
   the counts are smoothed by a Gaussian kernel of standard deviation h_i per
   axis (Scott's rule h_i = sd_i N^(-1/(d+4)) unless -mc_bandwidth) with
   reflection at the walls, i.e. a convolution diagonalised by the DCT-II
   (FFTW's MPI r2r REDFT10/REDFT01 over the slabs of the grid), and along a
   threshold_reset axis an odd reflection at the threshold, where the density
   vanishes (the DCT-IV, REDFT11: a density falling linearly to zero there
   is kept). From the
   density: marginal and joint entropies and mutual_information (binned
   plug-in, biased), D(p_MC ‖ p_FP); mutual_information_gaussian from the
   covariance, ½ ln(det S_XX det S_YY / det S) (grid's Gaussian closed forms). Density-derived
   standard errors come from -mc_batches batches of blocks (spread / sqrt(batches)). Trajectory
   thermodynamics: entropy_flow_<var> is the mean over particles of the medium entropy ∫ F_i ∘ dx_i
   gained since the previous estimate divided by the interval (it estimates the interval mean of
   Γ_i), heat_rate_<var> the same in k_B T per time, entropy_flow_<var>_cum the total since t = 0.
   Nothing of grid size is held on every rank: the counts and densities live
   on FFTW's slabs (whole planes of the last axis), each batch's particles
   are sent to the slabs they bin into, and the statistics of a density are
   summed slab after slab in rank order (ItMCFold), i.e. in natural order as
   on one rank. This data movement (the particles, the slabs, the block
   sums, the running sums) is this module's only direct MPI, with a barrier
   that keeps the wait for the slowest rank's steps out of the estimates'
   time; reductions go through grid. */
#include <float.h>
#include <fftw3-mpi.h>
#include <infotherm/private/mcimpl.h>
#include <infotherm/gaussian.h>

/* CIC weight resolution per axis: 256 up to three variables, less beyond, so
   that a particle's corner weights (products of d factors, summing to Q^d)
   stay exact integers below 2^30 and a cell's sum stays exact in a double. */
static inline PetscInt ItMCQuantum(PetscInt d) {
  return (PetscInt)1 << PetscMin(8, 30 / d);
}

#if defined(PETSC_USE_COMPLEX)
#error "the Monte Carlo moves densities as reals: it needs PETSc built with real scalars"
#endif

static PetscErrorCode ItMCAddColumn(ItMC mc, PetscInt *index, PetscBool judged, const char name[]) {
  PetscFunctionBegin;
  PetscCall(PetscRealloc(sizeof(*mc->name) * (mc->ncol + 1), &mc->name));
  PetscCall(PetscRealloc(sizeof(*mc->judged) * (mc->ncol + 1), &mc->judged));
  PetscCall(PetscStrncpy(mc->name[mc->ncol], name, IT_DIAG_NAME_LEN));
  mc->judged[mc->ncol] = judged;
  *index               = mc->ncol++;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Columns named as diagnostics.csv (doc/physics.md §3), plus cov_<a>_<b> and
 * mutual_information_gaussian. */
static PetscErrorCode ItMCCreateColumns(ItMC mc) {
  ItModel        model = mc->model;
  const PetscInt d     = ItModelGetDimension(model);
  const char    *bits  = ItDiagUsesBits(mc->diag) ? "_bits" : "";
  char           name[IT_DIAG_NAME_LEN];

  PetscFunctionBegin;
  for (PetscInt k = 0; k < (PetscInt)(sizeof(mc->col) / sizeof(PetscInt)); k++)
    ((PetscInt *)&mc->col)[k] = -1;
#define IT_MC_COLUMN(index, judged, ...)                                                           \
  do {                                                                                             \
    PetscCall(PetscSNPrintf(name, sizeof(name), __VA_ARGS__));                                     \
    PetscCall(ItMCAddColumn(mc, index, judged, name));                                             \
  } while (0)
  for (PetscInt a = 0; a < d; a++)
    IT_MC_COLUMN(&mc->col.mean[a], PETSC_TRUE, "mean_%s", ItModelGetVariableName(model, a));
  for (PetscInt a = 0; a < d; a++)
    IT_MC_COLUMN(&mc->col.var[a], PETSC_TRUE, "var_%s", ItModelGetVariableName(model, a));
  for (PetscInt a = 0, k = 0; a < d; a++)
    for (PetscInt b = a + 1; b < d; b++, k++)
      IT_MC_COLUMN(&mc->col.cov[k], PETSC_TRUE, "cov_%s_%s", ItModelGetVariableName(model, a),
                   ItModelGetVariableName(model, b));
  IT_MC_COLUMN(&mc->col.entropy, PETSC_FALSE, "entropy%s", bits);
  for (PetscInt a = 0; a < d; a++)
    IT_MC_COLUMN(&mc->col.entropy_var[a], PETSC_FALSE, "entropy_%s%s",
                 ItModelGetVariableName(model, a), bits);
  if (d > 1) {
    IT_MC_COLUMN(&mc->col.mutual_information, PETSC_FALSE, "mutual_information%s", bits);
    IT_MC_COLUMN(&mc->col.mutual_information_gaussian, PETSC_FALSE, "mutual_information_gaussian%s",
                 bits);
  }
  for (PetscInt a = 0; a < d; a++)
    IT_MC_COLUMN(&mc->col.entropy_flow[a], PETSC_TRUE, "entropy_flow_%s",
                 ItModelGetVariableName(model, a));
  for (PetscInt a = 0; a < d; a++)
    IT_MC_COLUMN(&mc->col.heat_rate[a], PETSC_TRUE, "heat_rate_%s",
                 ItModelGetVariableName(model, a));
  for (PetscInt a = 0; a < d; a++)
    IT_MC_COLUMN(&mc->col.entropy_flow_cum[a], PETSC_TRUE, "entropy_flow_%s_cum",
                 ItModelGetVariableName(model, a));
  const ItGridInfo *info = ItGridGetInfo(mc->grid);
  if (info->threshold) { /* the spikes per particle: independent, judged */
    IT_MC_COLUMN(&mc->col.firing_rate, PETSC_TRUE, "firing_rate");
    IT_MC_COLUMN(&mc->col.spike_count_cum, PETSC_TRUE, "spike_count_cum");
  }
#undef IT_MC_COLUMN
  PetscCall(PetscCalloc2(mc->ncol, &mc->value, mc->ncol, &mc->stderr_));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Adds the column kl_mc_fp, D(p_MC ‖ p_FP), estimated when a reference density is given. */
PetscErrorCode ItMCSetKLColumn(ItMC mc) {
  char name[IT_DIAG_NAME_LEN];

  PetscFunctionBegin;
  PetscCall(
      PetscSNPrintf(name, sizeof(name), "kl_mc_fp%s", ItDiagUsesBits(mc->diag) ? "_bits" : ""));
  PetscCall(ItMCAddColumn(mc, &mc->col.kl_mc_fp, PETSC_FALSE, name));
  PetscCall(PetscFree2(mc->value, mc->stderr_));
  PetscCall(PetscCalloc2(mc->ncol, &mc->value, mc->ncol, &mc->stderr_));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The FFTW-MPI plans: a real-to-real transform of rank max(d, 2) over the
   grid in row-major order (the last variable slowest, as the natural order),
   distributed in slabs of the slowest axis; a 1-variable grid gets a trailing
   axis of length 1. */
static PetscErrorCode ItMCCreateFFT(ItMC mc) {
  static PetscBool  initialized = PETSC_FALSE;
  ItGrid            grid        = mc->grid;
  const ItGridInfo *info        = ItGridGetInfo(grid);
  const PetscInt    d = info->dim, nd = PetscMax(d, 2);
  ptrdiff_t         fd[IT_MAX_DIM], alloc, n0, start;
  fftw_r2r_kind     forward[IT_MAX_DIM], backward[IT_MAX_DIM];
  PetscMPIInt       count;

  PetscFunctionBegin;
  if (!initialized) {
    fftw_mpi_init();
    initialized = PETSC_TRUE;
  }
  for (PetscInt k = 0; k < nd; k++) {
    fd[k]       = k < d ? info->n[d - 1 - k] : 1; /* the grid's axes, the last one first */
    forward[k]  = FFTW_REDFT10;
    backward[k] = FFTW_REDFT01;
    if (k < d && info->boundary[d - 1 - k] == IT_BOUNDARY_THRESHOLD_RESET)
      forward[k] = backward[k] = FFTW_REDFT11; /* odd at the threshold */
  }
  alloc          = fftw_mpi_local_size((int)nd, fd, mc->comm, &n0, &start);
  mc->fft_n0     = (PetscInt)n0;
  mc->fft_start0 = (PetscInt)start;
  mc->fft_rest   = 1;
  for (PetscInt k = 1; k < nd; k++) mc->fft_rest *= (PetscInt)fd[k];
  mc->fft_data = fftw_alloc_real((size_t)PetscMax(alloc, 1));
  PetscCheck(mc->fft_data, PETSC_COMM_SELF, PETSC_ERR_MEM, "FFTW could not allocate %ld reals",
             (long)alloc);
  /* FFTW_ESTIMATE: a plan that does not depend on timings, so the same on every run */
  mc->fft_plan_forward =
      fftw_mpi_plan_r2r((int)nd, fd, (double *)mc->fft_data, (double *)mc->fft_data, mc->comm,
                        forward, FFTW_ESTIMATE);
  mc->fft_plan_backward =
      fftw_mpi_plan_r2r((int)nd, fd, (double *)mc->fft_data, (double *)mc->fft_data, mc->comm,
                        backward, FFTW_ESTIMATE);
  PetscCheck(mc->fft_plan_forward && mc->fft_plan_backward, PETSC_COMM_SELF, PETSC_ERR_LIB,
             "FFTW could not plan the density smoothing");
  PetscCall(PetscMalloc2(mc->size, &mc->slab_count, mc->size, &mc->slab_offset));
  PetscCall(PetscMPIIntCast(mc->fft_n0 * mc->fft_rest, &count));
  PetscCallMPI(MPI_Allgather(&count, 1, MPI_INT, mc->slab_count, 1, MPI_INT, mc->comm));
  mc->slab_offset[0] = 0;
  for (PetscMPIInt r = 1; r < mc->size; r++)
    mc->slab_offset[r] = mc->slab_offset[r - 1] + mc->slab_count[r - 1];
  mc->ncell      = ItGridCellCount(grid);
  mc->nslab      = mc->fft_n0 * mc->fft_rest;
  mc->slab_start = mc->fft_start0 * mc->fft_rest;
  PetscCall(PetscMalloc1(fd[0], &mc->plane_rank));
  for (PetscMPIInt r = 0; r < mc->size; r++)
    for (PetscInt j = mc->slab_offset[r] / mc->fft_rest;
         j < (mc->slab_offset[r] + mc->slab_count[r]) / mc->fft_rest; j++)
      mc->plane_rank[j] = r;
  for (PetscInt i = 0; i < d; i++) PetscCall(PetscMalloc1(info->n[i], &mc->dct_factor[i]));
  PetscCall(
      PetscMalloc2(PetscMax(mc->nslab, 1), &mc->density, PetscMax(mc->nslab, 1), &mc->dct_slab));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The slabs as a vector (this rank's slab its owned part, so the ranks'
   ranges of natural indices in rank order) and the scatter of a grid density
   into it: each owned cell to its natural index. The grid's storage order
   (axes carried as the DMDA's dof, -grid_distribute) is not the natural one,
   so the indices come from the grid's helpers, not from the DMDA's natural
   vector. Collective. */
static PetscErrorCode ItMCCreateSlabLayout(ItMC mc) {
  ItGrid            grid = mc->grid;
  const ItGridInfo *info = ItGridGetInfo(grid);
  Vec               p;
  IS                from, to;
  PetscInt         *natural;

  PetscFunctionBegin;
  PetscCall(VecCreateMPIWithArray(mc->comm, 1, mc->nslab, mc->ncell, NULL, &mc->natural));
  PetscCall(PetscMalloc1(info->nlocal, &natural));
  ItGridForOwned(grid, c, l) natural[l] = ItGridNaturalIndex(grid, c);
  PetscCall(ISCreateGeneral(mc->comm, info->nlocal, natural, PETSC_OWN_POINTER, &to));
  PetscCall(ISCreateStride(mc->comm, info->nlocal, info->rstart, 1, &from));
  PetscCall(DMGetGlobalVector(info->da, &p));
  PetscCall(VecScatterCreate(p, from, mc->natural, to, &mc->slab_scatter));
  PetscCall(DMRestoreGlobalVector(info->da, &p));
  PetscCall(ISDestroy(&from));
  PetscCall(ISDestroy(&to));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A grid density (DMDA vector) onto this rank's slab, slab[nslab]. Collective. */
PetscErrorCode ItMCVecToSlab(ItMC mc, Vec p, PetscReal slab[]) {
  PetscFunctionBegin;
  PetscCall(VecPlaceArray(mc->natural, (PetscScalar *)slab));
  PetscCall(VecScatterBegin(mc->slab_scatter, p, mc->natural, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecScatterEnd(mc->slab_scatter, p, mc->natural, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecResetArray(mc->natural));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The last smoothed density into a DMDA vector. Collective. */
PetscErrorCode ItMCDensityToVec(ItMC mc, Vec p) {
  PetscFunctionBegin;
  PetscCall(VecPlaceArray(mc->natural, (PetscScalar *)mc->density));
  PetscCall(VecScatterBegin(mc->slab_scatter, mc->natural, p, INSERT_VALUES, SCATTER_REVERSE));
  PetscCall(VecScatterEnd(mc->slab_scatter, mc->natural, p, INSERT_VALUES, SCATTER_REVERSE));
  PetscCall(VecResetArray(mc->natural));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Passes the accumulator acc[n] through the ranks in rank order, which is the
   natural order of their slabs: each receives it from the previous rank, adds
   its slab (fold), and sends it on, so every sum is taken in natural order as
   on one rank, bitwise. The last rank holds the result; with broadcast every
   rank gets it. Ranks take their turn one after the other (what one rank
   summing the gathered array took), but none holds more than its slab. Collective. */
PetscErrorCode ItMCFold(ItMC mc, PetscInt n, PetscReal acc[], ItMCFoldFn fold, void *ctx,
                        PetscBool broadcast) {
  const PetscMPIInt tag = 7301; /* the fold's messages; none other on this communicator */
  PetscMPIInt       count;

  PetscFunctionBegin;
  PetscCall(PetscMPIIntCast(n, &count));
  if (mc->rank > 0)
    PetscCallMPI(MPI_Recv(acc, count, MPIU_REAL, mc->rank - 1, tag, mc->comm, MPI_STATUS_IGNORE));
  PetscCall(fold(mc, ctx, acc));
  if (mc->rank < mc->size - 1)
    PetscCallMPI(MPI_Send(acc, count, MPIU_REAL, mc->rank + 1, tag, mc->comm));
  if (broadcast) PetscCallMPI(MPI_Bcast(acc, count, MPIU_REAL, mc->size - 1, mc->comm));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode ItMCSetUpEstimates(ItMC mc) {
  PetscFunctionBegin;
  PetscCall(ItMCCreateColumns(mc));
  PetscCall(ItMCCreateFFT(mc));
  PetscCall(ItMCCreateSlabLayout(mc));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Gathers nq sums per owned block from every rank and adds them in block
   order: total[nq], and per batch (block b in batch b mod nbatch) batch[nbatch*nq]. Collective. */
static PetscErrorCode ItMCReduceBlocks(ItMC mc, PetscInt nq, const PetscReal local[],
                                       PetscReal total[], PetscReal batch[]) {
  PetscReal   *all;
  PetscMPIInt *count, *offset;

  PetscFunctionBegin;
  PetscCall(PetscMalloc3(mc->nblocks * nq, &all, mc->size, &count, mc->size, &offset));
  for (PetscMPIInt r = 0; r < mc->size; r++) {
    const PetscInt b0 = (PetscInt)(((PetscInt64)mc->nblocks * r) / mc->size),
                   b1 = (PetscInt)(((PetscInt64)mc->nblocks * (r + 1)) / mc->size);
    PetscCall(PetscMPIIntCast(b0 * nq, &offset[r]));
    PetscCall(PetscMPIIntCast((b1 - b0) * nq, &count[r]));
  }
  PetscCallMPI(
      MPI_Allgatherv(local, count[mc->rank], MPIU_REAL, all, count, offset, MPIU_REAL, mc->comm));
  PetscCall(PetscArrayzero(total, nq));
  PetscCall(PetscArrayzero(batch, mc->nbatch * nq));
  for (PetscInt b = 0; b < mc->nblocks; b++)
    for (PetscInt q = 0; q < nq; q++) {
      total[q] += all[b * nq + q];
      batch[(b % mc->nbatch) * nq + q] += all[b * nq + q];
    }
  PetscCall(PetscFree3(all, count, offset));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Mean and standard error of the mean over the batches that have particles. */
static void ItMCBatchStats(PetscInt nbatch, const PetscReal v[], const PetscReal n[],
                           PetscReal *mean, PetscReal *se) {
  PetscReal s = 0, s2 = 0;
  PetscInt  m = 0;

  for (PetscInt b = 0; b < nbatch; b++)
    if (n[b] > 0 && !PetscIsInfOrNanReal(v[b])) {
      s += v[b];
      m++;
    }
  *mean = m ? s / m : (PetscReal)NAN;
  for (PetscInt b = 0; b < nbatch; b++)
    if (n[b] > 0 && !PetscIsInfOrNanReal(v[b])) s2 += (v[b] - *mean) * (v[b] - *mean);
  *se = m > 1 ? PetscSqrtReal(s2 / (m - 1) / m) : (PetscReal)NAN;
}

/* Kernel multipliers of the DCT-II per axis for a Gaussian of s cells:
   λ_k = Σ_m g(m) cos(π k m / n) / Σ_m g(m), g(m) = exp(-m²/(2 s²)), so that
   λ_0 = 1 (mass is kept) and the even extension realises reflecting walls;
   with half = 1/2 those of the DCT-IV, cos(π (k + 1/2) m / n): even at the
   lower end, odd at the upper (a threshold). */
static void ItMCKernel(PetscInt n, PetscReal s, PetscReal half, PetscReal factor[]) {
  const PetscInt M    = (PetscInt)PetscMin(PetscCeilReal(6 * s), 4.0 * n);
  PetscReal      norm = 1;

  for (PetscInt m = 1; m <= M; m++) norm += 2 * PetscExpReal(-0.5 * m * m / (s * s));
  for (PetscInt k = 0; k < n; k++) {
    PetscReal sum = 1;
    for (PetscInt m = 1; m <= M; m++)
      sum += 2 * PetscExpReal(-0.5 * m * m / (s * s)) * PetscCosReal(PETSC_PI * (k + half) * m / n);
    factor[k] = sum / norm;
  }
}

/* The sum of this slab's values over all ranks, the same bits on any
   number of ranks: each whole plane of the slowest axis summed in order,
   the planes gathered and summed in order. Collective. */
static PetscErrorCode ItMCSlabTotal(ItMC mc, const double data[], PetscReal *total) {
  PetscReal   *plane, *all;
  PetscMPIInt *count, *offset;
  PetscInt     nplane = 0;

  PetscFunctionBegin;
  for (PetscMPIInt r = 0; r < mc->size; r++) nplane += mc->slab_count[r] / mc->fft_rest;
  PetscCall(PetscMalloc4(PetscMax(mc->fft_n0, 1), &plane, nplane, &all, mc->size, &count, mc->size,
                         &offset));
  for (PetscInt j = 0; j < mc->fft_n0; j++) {
    plane[j] = 0;
    for (PetscInt k = 0; k < mc->fft_rest; k++) plane[j] += data[j * mc->fft_rest + k];
  }
  for (PetscMPIInt r = 0; r < mc->size; r++) {
    count[r]  = (PetscMPIInt)(mc->slab_count[r] / mc->fft_rest);
    offset[r] = (PetscMPIInt)(mc->slab_offset[r] / mc->fft_rest);
  }
  PetscCallMPI(MPI_Allgatherv(plane, (PetscMPIInt)mc->fft_n0, MPIU_REAL, all, count, offset,
                              MPIU_REAL, mc->comm));
  *total = 0;
  for (PetscInt j = 0; j < nplane; j++) *total += all[j];
  PetscCall(PetscFree4(plane, all, count, offset));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Smooths the binned counts of this rank's slab in FFTW's array, in place:
   forward DCT-II, the kernel multipliers (mc->dct_slab), inverse DCT (FFTW's
   REDFT01). With a threshold (odd reflection, REDFT11) the kernel's image
   past it takes some mass away (1.3e-3 on input/lif.opts at 256 cells): the
   smoothed counts are scaled back to the binned total (rank-independent
   sums). Collective. */
static PetscErrorCode ItMCSmooth(ItMC mc) {
  double   *data      = (double *)mc->fft_data;
  PetscBool threshold = ItGridGetInfo(mc->grid)->threshold;
  PetscReal binned = 0, smoothed = 0;

  PetscFunctionBegin;
  if (threshold) PetscCall(ItMCSlabTotal(mc, data, &binned));
  fftw_execute((fftw_plan)mc->fft_plan_forward);
  for (PetscInt k = 0; k < mc->nslab; k++) data[k] *= mc->dct_slab[k];
  fftw_execute((fftw_plan)mc->fft_plan_backward);
  if (threshold) PetscCall(ItMCSlabTotal(mc, data, &smoothed));
  if (threshold && smoothed > 0)
    for (PetscInt k = 0; k < mc->nslab; k++) data[k] *= binned / smoothed;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The statistics of one density, in this order: the joint entropy S, the
   entropy of each variable, the mutual information of X and Y, D(p ‖ reference). */
#define IT_MC_NSTAT (IT_MAX_DIM + 3)

/* The marginals ItMCDensityStats needs: of each variable alone, then of X, then of Y. */
#define IT_MC_NMARG (IT_MAX_DIM + 2)

/* p ln p at n cells (0 where p is not a positive normal number: below
   DBL_MIN, p ln p < 1e-305). */
IT_MC_CLONES static void ItMCPlogp(PetscInt n, const PetscReal *restrict p,
                                   PetscReal *restrict plogp) {
  for (PetscInt c = 0; c < n; c++) plogp[c] = p[c] >= DBL_MIN ? p[c] * ItMCLog(p[c]) : 0;
}

/* The marginals ItMCDensityStats needs (of each variable alone, then of X,
   then of Y): their sizes, offsets, cell volumes and strides in the natural
   order of the grid (as ItGridMarginalIndex). */
typedef struct {
  PetscInt  nmarg, size[IT_MC_NMARG], off[IT_MC_NMARG + 1], stride[IT_MC_NMARG][IT_MAX_DIM];
  PetscReal volume[IT_MC_NMARG];
} ItMCMarginals;

static PetscErrorCode ItMCMarginalsLayout(ItMC mc, ItMCMarginals *m) {
  ItGrid            grid = mc->grid;
  const ItGridInfo *info = ItGridGetInfo(grid);
  const PetscInt    d    = info->dim;
  PetscBool         mask[IT_MC_NMARG][IT_MAX_DIM];

  PetscFunctionBegin;
  m->nmarg = d + 2;
  for (PetscInt i = 0; i < d; i++) {
    for (PetscInt a = 0; a < d; a++) mask[a][i] = (PetscBool)(a == i);
    mask[d][i]     = ItDiagIsSensor(mc->diag, i);
    mask[d + 1][i] = (PetscBool)!ItDiagIsSensor(mc->diag, i);
  }
  m->off[0] = 0;
  for (PetscInt k = 0; k < m->nmarg; k++) {
    PetscInt s = 1;
    PetscCall(ItGridMarginalLayout(grid, mask[k], &m->size[k], &m->volume[k]));
    m->off[k + 1] = m->off[k] + m->size[k];
    for (PetscInt i = 0; i < d; i++) {
      m->stride[k][i] = mask[k][i] ? s : 0;
      if (mask[k][i]) s *= info->n[i];
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* What ItMCStatsAdd reads: the marginals' layout and a density and its
   reference (may be NULL) on this rank's slab. The accumulator holds S, the
   KL sum, the sum so far of the current row of each marginal without the
   first axis, then the marginals. */
typedef struct {
  const ItMCMarginals *layout;
  const PetscReal     *p, *reference;
} ItMCStatsInput;

/* Adds this rank's slab to the sums of ItMCDensityStats, row by row along the
   first axis (a slab may start or end inside a row: a one-variable grid),
   with each row's index in every marginal carried along (an odometer over
   the other axes); cells where p is not positive are left out. */
static PetscErrorCode ItMCStatsAdd(ItMC mc, void *ctx, PetscReal acc[]) {
  const ItMCStatsInput *in   = (const ItMCStatsInput *)ctx;
  const ItMCMarginals  *L    = in->layout;
  ItGrid                grid = mc->grid;
  const ItGridInfo     *info = ItGridGetInfo(grid);
  const PetscInt        d = info->dim, n0 = info->n[0], end = mc->slab_start + mc->nslab;
  PetscReal            *rowsum = &acc[2], *marg = &acc[2 + L->nmarg], *plogp, *q;
  PetscReal             S = acc[0], KL = acc[1];
  PetscInt              cell[IT_MAX_DIM], base[IT_MC_NMARG], j0;

  PetscFunctionBegin;
  if (mc->nslab == 0) PetscFunctionReturn(PETSC_SUCCESS);
  ItGridNaturalCell(grid, mc->slab_start, cell);
  j0 = cell[0];
  for (PetscInt k = 0; k < L->nmarg; k++) {
    base[k] = L->off[k];
    for (PetscInt i = 1; i < d; i++) base[k] += L->stride[k][i] * cell[i];
  }
  PetscCall(PetscMalloc2(n0, &plogp, n0, &q));
  for (PetscInt s = mc->slab_start; s < end;) {
    const PetscInt   len = PetscMin(n0 - j0, end - s);
    const PetscReal *pr  = &in->p[s - mc->slab_start];
    ItMCPlogp(len, pr, plogp);
    for (PetscInt j = 0; j < len; j++) {
      S -= plogp[j];
      q[j] = pr[j] > 0 ? pr[j] : 0;
    }
    if (in->reference) {
      const PetscReal *rr = &in->reference[s - mc->slab_start];
      for (PetscInt j = 0; j < len; j++)
        if (pr[j] > 0 && rr[j] > 0) KL += pr[j] * PetscLogReal(pr[j] / rr[j]);
    }
    for (PetscInt k = 0; k < L->nmarg; k++) {
      if (L->stride[k][0]) { /* the first axis is in the marginal: stride 1 */
        PetscReal *m = &marg[base[k] + j0];
        for (PetscInt j = 0; j < len; j++) m[j] += q[j];
      } else
        for (PetscInt j = 0; j < len; j++) rowsum[k] += q[j];
    }
    s += len;
    j0 += len;
    if (j0 < n0) break; /* the slab ends inside the row */
    j0 = 0;
    for (PetscInt k = 0; k < L->nmarg; k++)
      if (!L->stride[k][0]) {
        marg[base[k]] += rowsum[k];
        rowsum[k] = 0;
      }
    for (PetscInt i = 1; i < d; i++) { /* the next row */
      for (PetscInt k = 0; k < L->nmarg; k++) base[k] += L->stride[k][i];
      if (++cell[i] < info->n[i]) break;
      for (PetscInt k = 0; k < L->nmarg; k++) base[k] -= L->stride[k][i] * info->n[i];
      cell[i] = 0;
    }
  }
  acc[0] = S;
  acc[1] = KL;
  PetscCall(PetscFree2(plogp, q));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The statistics (IT_MC_NSTAT) of a density p on the slabs; reference may be
   NULL. Sums in natural order (ItMCFold), so bitwise the same on any number
   of ranks. stat is set on the last rank only. Collective. */
static PetscErrorCode ItMCDensityStats(ItMC mc, const ItMCMarginals *L, const PetscReal p[],
                                       const PetscReal reference[], PetscReal stat[]) {
  ItGrid               grid = mc->grid;
  const ItGridInfo    *info = ItGridGetInfo(grid);
  const PetscInt       d = info->dim, nacc = 2 + L->nmarg + L->off[L->nmarg];
  const ItMCStatsInput in = {L, p, reference};
  PetscReal           *acc, *marg, entropy[IT_MC_NMARG];

  PetscFunctionBegin;
  PetscCall(PetscCalloc1(nacc, &acc));
  PetscCall(ItMCFold(mc, nacc, acc, ItMCStatsAdd, (void *)&in, PETSC_FALSE));
  if (mc->rank == mc->size - 1) {
    /* sums over the other axes times their cell sizes: the marginal densities */
    marg = &acc[2 + L->nmarg];
    for (PetscInt k = 0; k < L->nmarg; k++) {
      for (PetscInt m = L->off[k]; m < L->off[k + 1]; m++)
        marg[m] = marg[m] * info->cell_volume / L->volume[k];
      entropy[k] = ItGridEntropyOf(&marg[L->off[k]], L->size[k], L->volume[k]);
    }
    stat[0] = acc[0] * info->cell_volume;
    for (PetscInt i = 0; i < d; i++) stat[1 + i] = entropy[i];
    stat[1 + d] = entropy[d] + entropy[d + 1] - stat[0];
    stat[2 + d] = acc[1] * info->cell_volume;
  }
  PetscCall(PetscFree(acc));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The linear-binning cell of n coordinates x on one axis of n_cells cells of
   size h from lo: the lower cell's index times stride (base), the step to the
   upper one (0 where both are the same outer cell: a particle reflected at a
   wall puts its weight there) and the upper one's weight in 1/Q (w). Inside
   the box f >= -1/2, so the truncation of f + 1 is floor(f) + 1, but for an f
   within an ulp below an integer, whose weights then round to the same counts. */
IT_MC_CLONES static void ItMCBinAxis(PetscInt n, const PetscReal *restrict x, PetscReal lo,
                                     PetscReal h, PetscInt n_cells, PetscInt stride, PetscInt Q,
                                     PetscInt *restrict base, PetscInt *restrict step,
                                     PetscInt *restrict w) {
  for (PetscInt k = 0; k < n; k++) {
    const PetscReal f  = (x[k] - lo) / h - 0.5;
    const PetscInt  l  = (PetscInt)(f + 1.0) - 1;
    const PetscInt  cl = PetscMax(PetscMin(l, n_cells - 1), 0),
                   ch  = PetscMax(PetscMin(l + 1, n_cells - 1), 0);
    w[k]               = (PetscInt)((f - (PetscReal)l) * Q + 0.5);
    base[k] += cl * stride;
    step[k] = (ch - cl) * stride;
  }
}

/* The planes of the last axis on which a particle at coordinate x of that
   axis puts weight (as ItMCBinAxis): lower and upper, clamped to the box. */
static inline void ItMCBinPlanes(ItGrid grid, PetscReal x, PetscInt *cl, PetscInt *ch) {
  const ItGridInfo *info = ItGridGetInfo(grid);
  const PetscInt    a = info->dim - 1, n = info->n[a];
  const PetscReal   f = (x - info->lo[a]) / info->h[a] - 0.5;
  const PetscInt    l = (PetscInt)(f + 1.0) - 1;

  *cl = PetscMax(PetscMin(l, n - 1), 0);
  *ch = PetscMax(PetscMin(l + 1, n - 1), 0);
}

/* Packs (pack) or counts (!pack) the particles of one batch by the ranks
   whose slabs they put weight on: count[r] reals for rank r, from displ[r]
   (positions by particle, d each; fill[r] so far). */
static void ItMCPackBatch(ItMC mc, PetscInt batch, PetscBool pack, PetscMPIInt count[],
                          const PetscMPIInt displ[], PetscReal send[]) {
  ItGrid            grid = mc->grid;
  const ItGridInfo *info = ItGridGetInfo(grid);
  const PetscInt    d = info->dim, B = mc->block;

  for (PetscInt b = mc->b0; b < mc->b1; b++) {
    const PetscInt k1 = PetscMin((b + 1) * B - mc->first, mc->nlocal);
    if (b % mc->nbatch != batch) continue;
    for (PetscInt k = b * B - mc->first; k < k1; k++) {
      PetscInt    cl, ch;
      PetscMPIInt r[2];
      if (ItMCHeld(mc, k, mc->t)) continue; /* refractory: not in the density */
      ItMCBinPlanes(grid, mc->x[(d - 1) * mc->nlocal + k], &cl, &ch);
      r[0] = mc->plane_rank[cl];
      r[1] = mc->plane_rank[ch];
      for (PetscInt e = 0; e < (r[1] != r[0] ? 2 : 1); e++) {
        if (pack)
          for (PetscInt i = 0; i < d; i++)
            send[displ[r[e]] + count[r[e]] + i] = mc->x[i * mc->nlocal + k];
        count[r[e]] += (PetscMPIInt)d;
      }
    }
  }
}

/* Sends the particles of one batch to the ranks whose slabs they put weight
   on: *recv gets the *nrecv particles (positions, d each) whose weight falls
   on this rank's slab. Collective. */
static PetscErrorCode ItMCRouteBatch(ItMC mc, PetscInt batch, PetscInt *nrecv, PetscReal **recv) {
  const PetscMPIInt size = mc->size;
  PetscMPIInt      *scount, *sdispl, *rcount, *rdispl;
  PetscReal        *send;

  PetscFunctionBegin;
  PetscCall(PetscCalloc4(size, &scount, size, &sdispl, size, &rcount, size, &rdispl));
  ItMCPackBatch(mc, batch, PETSC_FALSE, scount, sdispl, NULL);
  for (PetscMPIInt r = 1; r < size; r++) sdispl[r] = sdispl[r - 1] + scount[r - 1];
  PetscCall(PetscMalloc1(sdispl[size - 1] + scount[size - 1] + 1, &send));
  PetscCall(PetscArrayzero(scount, size));
  ItMCPackBatch(mc, batch, PETSC_TRUE, scount, sdispl, send);
  PetscCallMPI(MPI_Alltoall(scount, 1, MPI_INT, rcount, 1, MPI_INT, mc->comm));
  for (PetscMPIInt r = 1; r < size; r++) rdispl[r] = rdispl[r - 1] + rcount[r - 1];
  PetscCall(PetscMalloc1(rdispl[size - 1] + rcount[size - 1] + 1, recv));
  PetscCallMPI(
      MPI_Alltoallv(send, scount, sdispl, MPIU_REAL, *recv, rcount, rdispl, MPIU_REAL, mc->comm));
  const ItGridInfo *info = ItGridGetInfo(mc->grid);
  *nrecv                 = (rdispl[size - 1] + rcount[size - 1]) / info->dim;
  PetscCall(PetscFree(send));
  PetscCall(PetscFree4(scount, sdispl, rcount, rdispl));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Adds n particles (positions x[k*d + i]) to the counts of this rank's slab
   in FFTW's array by quantised linear weights (exact integers, so the order
   of the particles does not matter), the corners on the slab only; in chunks
   of particles whose cells are computed axis by axis. */
static void ItMCBinSlab(ItMC mc, PetscInt n, const PetscReal x[]) {
  ItGrid            grid = mc->grid;
  const ItGridInfo *info = ItGridGetInfo(grid);
  const PetscInt    d = info->dim, Q = ItMCQuantum(d), nc = 1 << d;
  double           *hist = (double *)mc->fft_data;
  PetscReal         xs[IT_MAX_DIM][256];
  PetscInt          base[256], step[IT_MAX_DIM][256], w[IT_MAX_DIM][256];

  for (PetscInt k0 = 0; k0 < n; k0 += 256) {
    const PetscInt m = PetscMin(256, n - k0);
    for (PetscInt k = 0; k < m; k++) {
      base[k] = -mc->slab_start;
      for (PetscInt i = 0; i < d; i++) xs[i][k] = x[(k0 + k) * d + i];
    }
    for (PetscInt i = 0, stride = 1; i < d; stride *= info->n[i], i++)
      ItMCBinAxis(m, xs[i], info->lo[i], info->h[i], info->n[i], stride, Q, base, step[i], w[i]);
    for (PetscInt k = 0; k < m; k++) {
      int64_t  cw[1 << IT_MAX_DIM];
      PetscInt cc[1 << IT_MAX_DIM];
      cw[0] = 1;
      cc[0] = base[k];
      for (PetscInt i = 0; i < d; i++) /* the corners with bit i set are up on axis i */
        for (PetscInt c = 0; c < (1 << i); c++) {
          cw[c + (1 << i)] = cw[c] * w[i][k];
          cc[c + (1 << i)] = cc[c] + step[i][k];
          cw[c] *= Q - w[i][k];
        }
      for (PetscInt c = 0; c < nc; c++)
        if (cc[c] >= 0 && cc[c] < mc->nslab) hist[cc[c]] += (PetscReal)cw[c];
    }
  }
}

/* The moments of the particles at mc->t, about the centre of the box. */
typedef struct {
  PetscReal N;                     /* particles */
  PetscReal bn[IT_MC_MAX_BATCHES]; /* particles per batch */
  /* of them not refractory (the positions' moments; N and bn without a refractory time) */
  PetscReal  Na, bna[IT_MC_MAX_BATCHES];
  PetscReal  centre[IT_MAX_DIM]; /* of the box */
  PetscReal  mean[IT_MAX_DIM];   /* about the centre */
  PetscReal  cov[IT_MAX_DIM * IT_MAX_DIM];
  PetscReal *batch_cov; /* nbatch covariances */
} ItMCMoments;

/* The columns entropy_flow_<var>, heat_rate_<var> and entropy_flow_<var>_cum
   from the sums of pass 1 (particle count, positions, medium entropy since
   t = 0 and since the last estimate, and their squares). */
static void ItMCSetFlowColumns(ItMC mc, const PetscReal total[], PetscReal N) {
  const ItGridInfo *info     = ItGridGetInfo(mc->grid);
  const PetscInt    d        = info->dim;
  const PetscReal   interval = mc->t - mc->t_prev;
  PetscReal        *value = mc->value, *se = mc->stderr_;

  for (PetscInt i = 0; i < d; i++) {
    const PetscReal m = total[1 + d + i] / N, m2 = total[1 + 2 * d + i] / N,
                    w = total[1 + 3 * d + i] / N, w2 = total[1 + 4 * d + i] / N;
    value[mc->col.entropy_flow_cum[i]] = m;
    se[mc->col.entropy_flow_cum[i]] =
        N > 1 ? PetscSqrtReal(PetscMax(m2 - m * m, 0) / (N - 1)) : (PetscReal)NAN;
    value[mc->col.entropy_flow[i]] = interval > 0 ? w / interval : (PetscReal)NAN;
    se[mc->col.entropy_flow[i]]    = interval > 0 && N > 1
                                         ? PetscSqrtReal(PetscMax(w2 - w * w, 0) / (N - 1)) / interval
                                         : (PetscReal)NAN;
    value[mc->col.heat_rate[i]]    = value[mc->col.entropy_flow[i]];
    se[mc->col.heat_rate[i]]       = se[mc->col.entropy_flow[i]];
  }
  if (mc->spikes) { /* the spikes per particle since t = 0 and since the last estimate */
    const PetscReal *s = &total[1 + 5 * d], m = s[0] / N, m2 = s[1] / N, w = s[2] / N,
                    w2             = s[3] / N;
    value[mc->col.spike_count_cum] = m;
    se[mc->col.spike_count_cum] =
        N > 1 ? PetscSqrtReal(PetscMax(m2 - m * m, 0) / (N - 1)) : (PetscReal)NAN;
    value[mc->col.firing_rate] = interval > 0 ? w / interval : (PetscReal)NAN;
    se[mc->col.firing_rate]    = interval > 0 && N > 1
                                     ? PetscSqrtReal(PetscMax(w2 - w * w, 0) / (N - 1)) / interval
                                     : (PetscReal)NAN;
  }
}

/* Adds the particles k0 <= k < k1 (local indices, one block) to the q sums s[] of one pass,
   each sum in particle order. */
typedef void (*ItMCSumFn)(ItMC mc, const ItMCMoments *mo, PetscInt k0, PetscInt k1, PetscReal s[]);

/* Sums q quantities over this rank's particles, block by block, and adds the
   blocks of every rank in block order: total[q] and per batch[nbatch * q]. Collective. */
static PetscErrorCode ItMCSumParticles(ItMC mc, const ItMCMoments *mo, PetscInt q, ItMCSumFn add,
                                       PetscReal total[], PetscReal batch[]) {
  const PetscInt nb = mc->b1 - mc->b0, B = mc->block;
  PetscReal     *local;

  PetscFunctionBegin;
  PetscCall(PetscCalloc1(PetscMax(nb, 1) * q, &local));
  for (PetscInt b = 0; b < nb; b++) {
    const PetscInt k0 = (mc->b0 + b) * B - mc->first, k1 = PetscMin(k0 + B, mc->nlocal);
    add(mc, mo, k0, k1, &local[b * q]);
  }
  PetscCall(ItMCReduceBlocks(mc, q, local, total, batch));
  PetscCall(PetscFree(local));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Pass 1 sums of particles: 1, the position about the centre, the medium
   entropy since t = 0 and since the last estimate, and their squares. */
static void ItMCAddMeanSums(ItMC mc, const ItMCMoments *mo, PetscInt k0, PetscInt k1,
                            PetscReal s[]) {
  const ItGridInfo *info = ItGridGetInfo(mc->grid);
  const PetscInt    d    = info->dim;

  s[0] += (PetscReal)(k1 - k0);
  for (PetscInt i = 0; i < d; i++) {
    const PetscReal *x = &mc->x[i * mc->nlocal], *medium = &mc->medium[i * mc->nlocal],
                    *prev = &mc->medium_prev[i * mc->nlocal];
    PetscReal sx = 0, sm = 0, sm2 = 0, sw = 0, sw2 = 0;
    for (PetscInt k = k0; k < k1; k++) {
      const PetscReal m = medium[k], w = m - prev[k];
      if (!ItMCHeld(mc, k, mc->t)) sx += x[k] - mo->centre[i];
      sm += m;
      sm2 += m * m;
      sw += w;
      sw2 += w * w;
    }
    s[1 + i] += sx;
    s[1 + d + i] += sm;
    s[1 + 2 * d + i] += sm2;
    s[1 + 3 * d + i] += sw;
    s[1 + 4 * d + i] += sw2;
  }
  if (mc->spikes)
    for (PetscInt k = k0; k < k1; k++) {
      const PetscReal n = mc->spikes[k], w = n - mc->spikes_prev[k];
      s[1 + 5 * d] += n;
      s[2 + 5 * d] += n * n;
      s[3 + 5 * d] += w;
      s[4 + 5 * d] += w * w;
    }
  if (mc->release)
    for (PetscInt k = k0; k < k1; k++) s[5 + 5 * d] += !ItMCHeld(mc, k, mc->t);
}

/* Pass 1 over the particles: counts per batch, the means and the medium
   entropy columns. Collective. */
static PetscErrorCode ItMCMeanPass(ItMC mc, ItMCMoments *mo) {
  const ItGridInfo *info = ItGridGetInfo(mc->grid);
  const PetscInt    d = info->dim, q = 1 + 5 * d + (mc->spikes ? 4 : 0) + (mc->release ? 1 : 0);
  PetscReal        *total, *batch;

  PetscFunctionBegin;
  PetscCall(PetscMalloc2(q, &total, mc->nbatch * q, &batch));
  PetscCall(ItMCSumParticles(mc, mo, q, ItMCAddMeanSums, total, batch));
  for (PetscInt b = 0; b < mc->nbatch; b++) {
    mo->bn[b]  = batch[b * q];
    mo->bna[b] = mc->release ? batch[b * q + q - 1] : mo->bn[b];
  }
  mo->Na = mc->release ? total[q - 1] : mo->N;
  for (PetscInt i = 0; i < d; i++) {
    mo->mean[i] = total[1 + i] / mo->Na;
    PetscCheck(
        !PetscIsInfOrNanReal(mo->mean[i]), mc->comm, PETSC_ERR_NOT_CONVERGED,
        "the Monte Carlo particles diverged (mean of %s is not finite at t = %g): reduce -mc_dt",
        ItModelGetVariableName(mc->model, i), (double)mc->t);
  }
  ItMCSetFlowColumns(mc, total, mo->N);
  PetscCall(PetscFree2(total, batch));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The covariance from the sums of pass 2 (s: d sums of deviations from the
   mean, then the products of each pair i <= j), over n particles. */
static void ItMCCovarianceOf(PetscInt d, const PetscReal s[], PetscReal n, PetscReal cov[]) {
  for (PetscInt i = 0, q = 0; i < d; i++)
    for (PetscInt j = i; j < d; j++, q++)
      cov[i * d + j] = cov[j * d + i] = n > 0 ? s[d + q] / n - (s[i] / n) * (s[j] / n) : 0;
}

/* The columns mean_<var>, var_<var> and cov_<a>_<b>, with standard errors from
   the fourth moments, from the total sums of pass 2. */
static void ItMCSetMomentColumns(ItMC mc, const ItMCMoments *mo, const PetscReal total[]) {
  const ItGridInfo *info = ItGridGetInfo(mc->grid);
  const PetscInt    d = info->dim, P = d * (d + 1) / 2;
  const PetscReal   N     = mo->Na;
  PetscReal        *value = mc->value, *se = mc->stderr_;

  for (PetscInt i = 0, q = 0, kc = 0; i < d; i++)
    for (PetscInt j = i; j < d; j++, q++) {
      const PetscReal c = mo->cov[i * d + j], c4 = total[d + P + q] / N;
      const PetscReal s = N > 1 ? PetscSqrtReal(PetscMax(c4 - c * c, 0) / (N - 1)) : (PetscReal)NAN;
      if (i == j) {
        value[mc->col.var[i]] = c;
        se[mc->col.var[i]]    = s;
      } else {
        value[mc->col.cov[kc]] = c;
        se[mc->col.cov[kc++]]  = s;
      }
    }
  for (PetscInt i = 0; i < d; i++) {
    value[mc->col.mean[i]] = mo->mean[i] + mo->centre[i];
    se[mc->col.mean[i]] =
        N > 1 ? PetscSqrtReal(PetscMax(mo->cov[i * d + i], 0) / (N - 1)) : (PetscReal)NAN;
  }
}

/* Pass 2 sums of particles: the deviations c_i from the mean, then the
   products c_i c_j (i <= j), then their squares. */
static void ItMCAddCovarianceSums(ItMC mc, const ItMCMoments *mo, PetscInt k0, PetscInt k1,
                                  PetscReal s[]) {
  const ItGridInfo *info = ItGridGetInfo(mc->grid);
  const PetscInt    d = info->dim, P = d * (d + 1) / 2;

  for (PetscInt k = k0; k < k1; k++) {
    PetscReal c[IT_MAX_DIM];
    if (ItMCHeld(mc, k, mc->t)) continue; /* refractory: not in the density */
    for (PetscInt i = 0; i < d; i++) {
      c[i] = mc->x[i * mc->nlocal + k] - mo->centre[i] - mo->mean[i];
      s[i] += c[i];
    }
    for (PetscInt i = 0, r = 0; i < d; i++)
      for (PetscInt j = i; j < d; j++, r++) {
        const PetscReal cc = c[i] * c[j];
        s[d + r] += cc;
        s[d + P + r] += cc * cc;
      }
  }
}

/* Pass 2 over the particles: central products about the mean, the
   covariance in total and per batch, and the moment columns. Collective. */
static PetscErrorCode ItMCCovariancePass(ItMC mc, ItMCMoments *mo) {
  const ItGridInfo *info = ItGridGetInfo(mc->grid);
  const PetscInt    d = info->dim, q = d + d * (d + 1);
  PetscReal        *total, *batch;

  PetscFunctionBegin;
  PetscCall(PetscMalloc2(q, &total, mc->nbatch * q, &batch));
  PetscCall(ItMCSumParticles(mc, mo, q, ItMCAddCovarianceSums, total, batch));
  ItMCCovarianceOf(d, total, mo->Na, mo->cov);
  ItMCSetMomentColumns(mc, mo, total);
  PetscCall(PetscMalloc1(mc->nbatch * d * d, &mo->batch_cov));
  for (PetscInt b = 0; b < mc->nbatch; b++)
    ItMCCovarianceOf(d, &batch[b * q], mo->bna[b], &mo->batch_cov[b * d * d]);
  PetscCall(PetscFree2(total, batch));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The column mutual_information_gaussian, ½ ln(det S_XX det S_YY / det S) of
   the covariance, with the spread over the batches as standard error. Not collective. */
static PetscErrorCode ItMCGaussianEstimate(ItMC mc, const ItMCMoments *mo, PetscReal info) {
  const ItGridInfo *mc_info = ItGridGetInfo(mc->grid);
  const PetscInt    d = mc_info->dim, col = mc->col.mutual_information_gaussian;
  PetscReal         bmi[IT_MC_MAX_BATCHES], mi, mean;
  PetscBool         sensor[IT_MAX_DIM];

  PetscFunctionBegin;
  if (col < 0) PetscFunctionReturn(PETSC_SUCCESS);
  for (PetscInt i = 0; i < d; i++) sensor[i] = ItDiagIsSensor(mc->diag, i);
  for (PetscInt b = 0; b < mc->nbatch; b++) {
    bmi[b] = (PetscReal)NAN;
    if (!(mo->bn[b] > 1)) continue;
    PetscCall(ItGaussianMutualInformation(d, &mo->batch_cov[b * d * d], sensor, &bmi[b]));
    bmi[b] *= info;
  }
  PetscCall(ItGaussianMutualInformation(d, mo->cov, sensor, &mi));
  mc->value[col] = mi * info;
  ItMCBatchStats(mc->nbatch, bmi, mo->bn, &mean, &mc->stderr_[col]);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The kernel's standard deviation per axis (Scott's rule sd_i N^(-1/(d+4))
   unless -mc_bandwidth), its DCT multipliers, and their products on this
   rank's slab with the scale of FFTW's inverse (1/(2n) per axis). */
static void ItMCSetBandwidth(ItMC mc, const ItMCMoments *mo) {
  ItGrid            grid = mc->grid;
  const ItGridInfo *info = ItGridGetInfo(grid);
  const PetscInt    d = info->dim, off = mc->fft_start0 * mc->fft_rest,
                 nslab = mc->fft_n0 * mc->fft_rest;
  PetscReal scale      = 1;

  for (PetscInt i = 0; i < d; i++) {
    mc->scott[i] = mc->bandwidth_set ? mc->bandwidth[i]
                                     : PetscSqrtReal(PetscMax(mo->cov[i * d + i], 0)) *
                                           PetscPowReal(mo->N, -1.0 / (d + 4));
    ItMCKernel(info->n[i], mc->scott[i] / info->h[i],
               info->boundary[i] == IT_BOUNDARY_THRESHOLD_RESET ? 0.5 : 0, mc->dct_factor[i]);
  }
  for (PetscInt i = 0; i < d; i++) scale /= 2.0 * info->n[i];
  for (PetscInt i = d; i < PetscMax(d, 2); i++) scale /= 2.0; /* the trailing axis of length 1 */
  for (PetscInt k = 0; k < nslab; k++) {
    PetscInt  c[IT_MAX_DIM];
    PetscReal f = scale;
    ItGridNaturalCell(grid, off + k, c);
    for (PetscInt i = 0; i < d; i++) f *= mc->dct_factor[i][c[i]];
    mc->dct_slab[k] = f;
  }
}

/* The counts of one batch on this rank's slab in FFTW's array: its particles
   routed to the slabs they put weight on and binned there. Collective. */
static PetscErrorCode ItMCBinBatch(ItMC mc, PetscInt batch) {
  PetscInt   n = 0;
  PetscReal *x;

  PetscFunctionBegin;
  PetscCall(ItMCRouteBatch(mc, batch, &n, &x));
  PetscCall(PetscArrayzero((double *)mc->fft_data, mc->nslab));
  ItMCBinSlab(mc, n, x);
  PetscCall(PetscFree(x));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The smoothed density of each batch and of all particles (mc->density), one
   batch at a time on the slabs, and their statistics, bstat[b * IT_MC_NSTAT + k]
   and stat[k], on every rank. Collective. */
static PetscErrorCode ItMCDensityEstimate(ItMC mc, const ItMCMoments *mo,
                                          const PetscReal reference[], PetscReal bstat[],
                                          PetscReal stat[]) {
  ItGrid            grid  = mc->grid;
  const ItGridInfo *info  = ItGridGetInfo(grid);
  const PetscInt    nslab = mc->nslab, nbatch = mc->nbatch;
  const PetscReal   unit =
      PetscPowReal((PetscReal)ItMCQuantum(info->dim), (PetscReal)info->dim) * info->cell_volume;
  double       *data = (double *)mc->fft_data;
  ItMCMarginals layout;
  PetscMPIInt   count;

  PetscFunctionBegin;
  PetscCall(ItMCMarginalsLayout(mc, &layout));
  ItMCSetBandwidth(mc, mo);
  /* the smoothing is linear: the total is the sum of the batches' smoothed counts */
  PetscCall(PetscArrayzero(mc->density, nslab));
  for (PetscInt b = 0; b < nbatch; b++) {
    if (!(mo->bn[b] > 0)) continue;
    /* quantised linear binning: exact integer counts */
    PetscCall(ItMCBinBatch(mc, b));
    PetscCall(ItMCSmooth(mc));
    for (PetscInt c = 0; c < nslab; c++) {
      mc->density[c] += data[c];
      data[c] /= mo->bn[b] * unit;
    }
    PetscCall(ItMCDensityStats(mc, &layout, data, reference, &bstat[b * IT_MC_NSTAT]));
  }
  for (PetscInt c = 0; c < nslab; c++) mc->density[c] /= mo->N * unit;
  PetscCall(ItMCDensityStats(mc, &layout, mc->density, reference, stat));
  PetscCall(PetscMPIIntCast(nbatch * IT_MC_NSTAT, &count));
  PetscCallMPI(MPI_Bcast(bstat, count, MPIU_REAL, mc->size - 1, mc->comm));
  PetscCallMPI(MPI_Bcast(stat, IT_MC_NSTAT, MPIU_REAL, mc->size - 1, mc->comm));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The density-derived columns (entropy, entropy_<var>, mutual_information,
   kl_mc_fp) from the statistics of the total and of the batches. */
static void ItMCSetDensityColumns(ItMC mc, const ItMCMoments *mo, const PetscReal bstat[],
                                  const PetscReal stat[], PetscBool have_reference,
                                  PetscReal info) {
  const ItGridInfo *mc_info = ItGridGetInfo(mc->grid);
  const PetscInt    d       = mc_info->dim;
  PetscInt          column[IT_MC_NSTAT];

  column[0] = mc->col.entropy;
  for (PetscInt i = 0; i < d; i++) column[1 + i] = mc->col.entropy_var[i];
  column[1 + d] = mc->col.mutual_information;
  column[2 + d] = mc->col.kl_mc_fp;
  for (PetscInt k = 0; k < d + 3; k++) {
    const PetscInt col = column[k];
    PetscReal      v[IT_MC_MAX_BATCHES], mean;
    if (col < 0) continue;
    for (PetscInt b = 0; b < mc->nbatch; b++) v[b] = bstat[b * IT_MC_NSTAT + k];
    ItMCBatchStats(mc->nbatch, v, mo->bn, &mean, &mc->stderr_[col]);
    mc->value[col] = stat[k] * info;
    mc->stderr_[col] *= info;
    if (col == mc->col.kl_mc_fp && !have_reference) mc->value[col] = mc->stderr_[col] = NAN;
  }
}

/* Every estimate at the particles' time mc->t; reference (a grid density,
   may be NULL) gives kl_mc_fp and is kept on the slabs (mc->reference). Collective. */
PetscErrorCode ItMCEstimate(ItMC mc, Vec reference) {
  ItGrid            grid      = mc->grid;
  const ItGridInfo *grid_info = ItGridGetInfo(grid);
  const PetscInt    d         = grid_info->dim;
  const PetscReal   info      = ItDiagUsesBits(mc->diag) ? 1 / PetscLogReal(2.0) : 1;
  ItMCMoments       mo;
  PetscReal        *bstat, stat[IT_MC_NSTAT];
  PetscLogDouble    start, end;

  PetscFunctionBegin;
  /* the ranks' steps end at different times: the wait is neither stepping nor estimating */
  PetscCallMPI(MPI_Barrier(mc->comm));
  PetscCall(PetscTime(&start));
  if (reference) {
    if (!mc->reference) PetscCall(PetscMalloc1(PetscMax(mc->nslab, 1), &mc->reference));
    PetscCall(ItMCVecToSlab(mc, reference, mc->reference));
  }
  mo.N = (PetscReal)mc->N;
  for (PetscInt i = 0; i < d; i++) mo.centre[i] = 0.5 * (grid_info->lo[i] + grid_info->hi[i]);
  PetscCall(ItMCMeanPass(mc, &mo));
  PetscCall(ItMCCovariancePass(mc, &mo));
  PetscCall(ItMCGaussianEstimate(mc, &mo, info));
  PetscCall(PetscCalloc1(mc->nbatch * IT_MC_NSTAT, &bstat));
  PetscCall(ItMCDensityEstimate(mc, &mo, reference ? mc->reference : NULL, bstat, stat));
  ItMCSetDensityColumns(mc, &mo, bstat, stat, (PetscBool)(reference != NULL), info);
  PetscCall(PetscFree(bstat));
  PetscCall(PetscFree(mo.batch_cov));
  PetscCall(PetscArraycpy(mc->medium_prev, mc->medium, mc->nlocal * d));
  if (mc->spikes) PetscCall(PetscArraycpy(mc->spikes_prev, mc->spikes, mc->nlocal));
  mc->t_prev = mc->t;
  PetscCall(PetscTime(&end));
  mc->estimate_time += end - start;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Adds the estimates at mc->t to the table. Not collective. */
PetscErrorCode ItMCAppendRow(ItMC mc) {
  const PetscInt w = 1 + 2 * mc->ncol;

  PetscFunctionBegin;
  if (mc->nrow == mc->caprow) {
    mc->caprow = PetscMax(64, 2 * mc->caprow);
    PetscCall(PetscRealloc(sizeof(PetscReal) * mc->caprow * w, &mc->rows));
  }
  mc->rows[mc->nrow * w] = mc->t;
  for (PetscInt k = 0; k < mc->ncol; k++) {
    mc->rows[mc->nrow * w + 1 + 2 * k] = mc->value[k];
    mc->rows[mc->nrow * w + 2 + 2 * k] = mc->stderr_[k];
  }
  mc->nrow++;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* mc.csv: t, then each estimate and its <name>_stderr. Collective. */
PetscErrorCode ItMCWriteTable(ItMC mc, ItIO io) {
  const PetscInt w = 1 + 2 * mc->ncol;
  const char   **column;
  char(*stderr_name)[IT_DIAG_NAME_LEN + 8];

  PetscFunctionBegin;
  PetscCall(PetscMalloc2(w, &column, mc->ncol, &stderr_name));
  column[0] = "t";
  for (PetscInt k = 0; k < mc->ncol; k++) {
    PetscCall(PetscSNPrintf(stderr_name[k], sizeof(stderr_name[k]), "%s_stderr", mc->name[k]));
    column[1 + 2 * k] = mc->name[k];
    column[2 + 2 * k] = stderr_name[k];
  }
  PetscCall(ItIOWriteCSV(io, "mc.csv", w, column, mc->nrow, mc->rows));
  PetscCall(PetscFree2(column, stderr_name));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The sampling settings of mc_summary.json. */
static PetscErrorCode ItMCSummarySettings(ItMC mc, json_t **settings) {
  json_t *bandwidth;

  PetscFunctionBegin;
  PetscCall(ItJSONRealArray(ItModelGetDimension(mc->model), mc->scott, &bandwidth));
  PetscCall(ItJSONPack(settings, "{s:I, s:I, s:s, s:o, s:I, s:o, s:b, s:I, s:I, s:s, s:o}",
                       "particles", (json_int_t)mc->N, "seed", (json_int_t)mc->seed, "scheme",
                       mc->scheme == IT_MC_WEAK2 ? "weak2" : "euler", "dt", ItJSONReal(mc->dt),
                       "steps", (json_int_t)mc->step, "stiffest_time_constant",
                       ItJSONReal(mc->stiffness > 0 ? 1 / mc->stiffness : (PetscReal)INFINITY),
                       "additive_noise", (int)mc->additive, "batches", (json_int_t)mc->nbatch,
                       "block", (json_int_t)mc->block, "bandwidth_rule",
                       mc->bandwidth_set ? "-mc_bandwidth" : "Scott: sd_i N^(-1/(d+4))",
                       "bandwidth", bandwidth));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Particle-steps per second over all ranks (wall time of the slowest rank). Collective.
   Here, beside the summary that reports it, so that mc.c calls this file and not
   the other way round. */
PetscErrorCode ItMCRate(ItMC mc, PetscReal *rate) {
  PetscReal wall = mc->step_time;

  PetscFunctionBegin;
  PetscCall(ItGridMaxAbs(mc->grid, wall, &wall));
  *rate = wall > 0 ? (PetscReal)mc->N * (PetscReal)mc->step / wall : 0;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* mc_summary.json: the run's settings, the measured rate, where the time went
   (stepping_time, estimate_time: seconds on the slowest rank) and the final
   estimates. Collective. */
PetscErrorCode ItMCWriteSummary(ItMC mc, ItIO io, const char command[], PetscLogDouble wall) {
  json_t   *root, *settings, *final;
  PetscReal rate, stepping, estimates;

  PetscFunctionBegin;
  PetscCall(ItMCRate(mc, &rate));
  PetscCall(ItIOSummaryCreate(command, mc->model, &root));
  PetscCall(ItMCSummarySettings(mc, &settings));
  PetscCall(ItJSONUpdate(root, settings));
  PetscCall(ItJSONSet(root, "ranks", json_integer(mc->size)));
  PetscCall(ItJSONSet(root, "wall_time", ItJSONReal(wall)));
  PetscCall(ItJSONSet(root, "particle_steps_per_second", ItJSONReal(rate)));
  PetscCall(ItGridMaxAbs(mc->grid, mc->step_time, &stepping));
  PetscCall(ItGridMaxAbs(mc->grid, mc->estimate_time, &estimates));
  PetscCall(ItJSONSet(root, "stepping_time", ItJSONReal(stepping)));
  PetscCall(ItJSONSet(root, "estimate_time", ItJSONReal(estimates)));
  PetscCall(ItJSONPack(&final, "{}"));
  for (PetscInt k = 0; k < mc->ncol; k++) {
    char name[IT_DIAG_NAME_LEN + 8];
    PetscCall(PetscSNPrintf(name, sizeof(name), "%s_stderr", mc->name[k]));
    PetscCall(ItJSONSet(final, mc->name[k], ItJSONReal(mc->value[k])));
    PetscCall(ItJSONSet(final, name, ItJSONReal(mc->stderr_[k])));
  }
  PetscCall(ItJSONSet(root, "final", final));
  PetscCall(ItIOWriteJSON(io, "mc_summary.json", root));
  json_decref(root);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode ItMCDestroy(ItMC *mcp) {
  ItMC mc = *mcp;

  PetscFunctionBegin;
  if (!mc) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscFree3(mc->x, mc->medium, mc->medium_prev));
  PetscCall(PetscFree2(mc->spikes, mc->spikes_prev));
  PetscCall(PetscFree(mc->release));
  if (mc->fft_plan_forward) fftw_destroy_plan((fftw_plan)mc->fft_plan_forward);
  if (mc->fft_plan_backward) fftw_destroy_plan((fftw_plan)mc->fft_plan_backward);
  if (mc->fft_data) fftw_free(mc->fft_data);
  PetscCall(PetscFree2(mc->slab_count, mc->slab_offset));
  PetscCall(PetscFree(mc->plane_rank));
  for (PetscInt i = 0; i < IT_MAX_DIM; i++) PetscCall(PetscFree(mc->dct_factor[i]));
  PetscCall(PetscFree2(mc->density, mc->dct_slab));
  PetscCall(PetscFree(mc->reference));
  PetscCall(VecScatterDestroy(&mc->slab_scatter));
  PetscCall(VecDestroy(&mc->natural));
  PetscCall(PetscFree(mc->name));
  PetscCall(PetscFree(mc->judged));
  PetscCall(PetscFree2(mc->value, mc->stderr_));
  PetscCall(PetscFree(mc->rows));
  PetscCall(ItModelWorkDestroy(&mc->work));
  PetscCall(PetscFree(mc));
  *mcp = NULL;
  PetscFunctionReturn(PETSC_SUCCESS);
}
