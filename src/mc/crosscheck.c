/* The Fokker–Planck vs Monte Carlo cross-check (doc/physics.md §4): at every
   output time, for every Monte Carlo estimate, the solver's value of the same
   quantity, the Monte Carlo value ± its standard error and
   z = (FP - MC)/stderr. The solver's value is its diagnostic of the same name,
   except: cov_<a>_<b> and mutual_information_gaussian, computed here from the
   solver's density; entropy_flow_<var> and heat_rate_<var>, for which the
   Monte Carlo estimates the mean over the interval since the previous output
   time, so the solver's value is the same interval mean, the difference of
   its entropy_flow_<var>_cum (which integrates over every solver step) over
   the interval. Quantities with unbiased estimators (moments, entropy flows)
   are judged against -crosscheck_z; the density-based ones (binned entropies
   and mutual information, D(p_MC ‖ p_FP)) carry a smoothing bias and are
   reported only. Writes crosscheck.json and crosscheck.txt. */
#include <infotherm/private/mcimpl.h>
#include <infotherm/gaussian.h>
#include <infotherm/estimate.h>
/* The option names of the cross-check's options (src/model/option_names.c). */
const ItOptionName ItCrosscheckOptionNames[] = {{"crosscheck_z", 0}, {NULL, 0}};

PetscErrorCode ItCrosscheckCreate(ItMC mc, ItDiag diag, ItCrosscheck *out) {
  ItCrosscheck cc;

  PetscFunctionBegin;
  PetscCall(PetscNew(&cc));
  cc->mc      = mc;
  cc->diag    = diag;
  cc->z_limit = 4;
  PetscOptionsBegin(mc->comm, NULL, "Cross-check", "ItCrosscheck");
  PetscCall(PetscOptionsReal("-crosscheck_z",
                             "largest |FP - MC|/stderr accepted for moments and entropy flows",
                             NULL, cc->z_limit, &cc->z_limit, NULL));
  PetscOptionsEnd();
  PetscCheck(cc->z_limit > 0, mc->comm, PETSC_ERR_USER_INPUT,
             "-crosscheck_z must be positive; got %g", (double)cc->z_limit);
  cc->nq = mc->col.kl_mc_fp >= 0 ? mc->ncol - 1
                                 : mc->ncol; /* kl_mc_fp is last and has no FP counterpart */
  PetscCall(PetscMalloc2(cc->nq, &cc->name, cc->nq, &cc->judged));
  for (PetscInt q = 0; q < cc->nq; q++) {
    PetscCall(PetscStrncpy(cc->name[q], mc->name[q], IT_DIAG_NAME_LEN));
    cc->judged[q] = mc->judged[q];
  }
  for (PetscInt a = 0; a < ItModelGetDimension(mc->model); a++) {
    char name[IT_DIAG_NAME_LEN];
    PetscCall(PetscSNPrintf(name, sizeof(name), "entropy_flow_%s_cum",
                            ItModelGetVariableName(mc->model, a)));
    PetscCall(ItDiagFindColumn(diag, name, &cc->fp_cum_column[a]));
  }
  PetscCall(ItDiagFindColumn(diag, "spike_count_cum", &cc->fp_spike_column));
  PetscCall(PetscCalloc1(IT_MAX_DIM + 1, &cc->fp_cum_prev));
  *out = cc;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Adds this rank's slab of a density (ctx) to the sums of the mass, the
   first and the second moments about the box centre (acc[0], acc[1..d],
   acc[1+d..]). */
static PetscErrorCode ItCrosscheckMomentsAdd(ItMC mc, void *ctx, PetscReal acc[]) {
  const PetscReal  *p    = (const PetscReal *)ctx;
  ItGrid            grid = mc->grid;
  const ItGridInfo *info = ItGridGetInfo(grid);
  const PetscInt    d    = info->dim;
  PetscReal        *m1 = &acc[1], *m2 = &acc[1 + d];

  PetscFunctionBegin;
  for (PetscInt k = 0; k < mc->nslab; k++) {
    PetscReal y[IT_MAX_DIM];
    PetscInt  cell[IT_MAX_DIM];
    ItGridNaturalCell(grid, mc->slab_start + k, cell);
    for (PetscInt i = 0; i < d; i++)
      y[i] = ItGridCoordinate(grid, i, cell[i]) - 0.5 * (info->lo[i] + info->hi[i]);
    acc[0] += p[k];
    for (PetscInt i = 0; i < d; i++) {
      m1[i] += p[k] * y[i];
      for (PetscInt j = 0; j < d; j++) m2[i * d + j] += p[k] * y[i] * y[j];
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The covariance S (d x d, row-major) of a density on the slabs, about the
   box centre as diag computes it; sums in natural order (ItMCFold). Collective. */
static PetscErrorCode ItCrosscheckCovariance(ItMC mc, const PetscReal p[], PetscReal S[]) {
  const ItGridInfo *info                                          = ItGridGetInfo(mc->grid);
  const PetscInt    d                                             = info->dim;
  PetscReal         acc[1 + IT_MAX_DIM + IT_MAX_DIM * IT_MAX_DIM] = {0}, mass = 0, *m1 = &acc[1],
                                              *m2 = &acc[1 + d];

  PetscFunctionBegin;
  PetscCall(ItMCFold(mc, 1 + d + d * d, acc, ItCrosscheckMomentsAdd, (void *)p, PETSC_TRUE));
  mass = acc[0];
  for (PetscInt i = 0; i < d; i++)
    for (PetscInt j = 0; j < d; j++)
      S[i * d + j] = m2[i * d + j] / mass - m1[i] / mass * m1[j] / mass;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The solver's value of Monte Carlo column q at time t: the interval mean of
   an entropy flow (since t_prev, where the _cum columns were cum_prev; none
   when t_prev is NaN), a covariance or the Gaussian mutual information of S,
   or else the diagnostic of the same name (NaN when there is none). Not collective. */
static PetscErrorCode ItCrosscheckFPValueSince(ItCrosscheck cc, PetscInt q, PetscReal t,
                                               PetscReal t_prev, const PetscReal cum_prev[],
                                               const PetscReal fp_values[], const PetscReal S[],
                                               PetscReal *fp) {
  ItMC              mc   = cc->mc;
  ItDiag            g    = cc->diag;
  const ItGridInfo *info = ItGridGetInfo(mc->grid);
  const PetscInt    d    = info->dim;
  PetscInt          c;

  PetscFunctionBegin;
  *fp = (PetscReal)NAN;
  for (PetscInt a = 0; a < d; a++)
    if (q == mc->col.entropy_flow[a] || q == mc->col.heat_rate[a]) {
      const PetscReal cum = fp_values[cc->fp_cum_column[a]];
      if (!PetscIsInfOrNanReal(t_prev) && t > t_prev) *fp = (cum - cum_prev[a]) / (t - t_prev);
      PetscFunctionReturn(PETSC_SUCCESS);
    }
  if (q == mc->col.firing_rate) { /* the interval mean, as the particles count it */
    const PetscReal cum = fp_values[cc->fp_spike_column];
    if (!PetscIsInfOrNanReal(t_prev) && t > t_prev)
      *fp = (cum - cum_prev[IT_MAX_DIM]) / (t - t_prev);
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  for (PetscInt a = 0, kc = 0; a < d; a++)
    for (PetscInt b = a + 1; b < d; b++, kc++)
      if (q == mc->col.cov[kc]) {
        *fp = S[a * d + b];
        PetscFunctionReturn(PETSC_SUCCESS);
      }
  if (q == mc->col.mutual_information_gaussian) {
    PetscBool sensor[IT_MAX_DIM];
    for (PetscInt i = 0; i < d; i++) sensor[i] = ItDiagIsSensor(g, i);
    PetscCall(ItGaussianMutualInformation(d, S, sensor, fp));
    if (ItDiagUsesBits(g)) *fp *= 1 / PetscLogReal(2.0); /* as the Monte Carlo scales it */
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(ItDiagFindColumn(g, cc->name[q], &c));
  if (c >= 0) *fp = fp_values[c];
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The same, since the previous recorded time. */
static PetscErrorCode ItCrosscheckFPValue(ItCrosscheck cc, PetscInt q, PetscReal t,
                                          const PetscReal fp_values[], const PetscReal S[],
                                          PetscReal *fp) {
  PetscFunctionBegin;
  PetscCall(ItCrosscheckFPValueSince(cc, q, t, cc->ntime > 0 ? cc->fp_t_prev : (PetscReal)NAN,
                                     cc->fp_cum_prev, fp_values, S, fp));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Records time t: the solver's diagnostics (diag columns) and density (the
   reference of the Monte Carlo's last estimate), against the Monte Carlo's
   last estimates. Collective. */
PetscErrorCode ItCrosscheckAdd(ItCrosscheck cc, PetscReal t, const PetscReal fp_values[]) {
  ItMC              mc   = cc->mc;
  const ItGridInfo *info = ItGridGetInfo(mc->grid);
  const PetscInt    d = info->dim, nq = cc->nq, k = cc->ntime;
  PetscReal         S[IT_MAX_DIM * IT_MAX_DIM];

  PetscFunctionBegin;
  if (cc->ntime == cc->captime) {
    cc->captime = PetscMax(64, 2 * cc->captime);
    PetscCall(PetscRealloc(sizeof(PetscReal) * cc->captime, &cc->t));
    PetscCall(PetscRealloc(sizeof(PetscReal) * cc->captime * nq, &cc->fp));
    PetscCall(PetscRealloc(sizeof(PetscReal) * cc->captime * nq, &cc->mcv));
    PetscCall(PetscRealloc(sizeof(PetscReal) * cc->captime * nq, &cc->se));
  }
  PetscCheck(mc->reference, mc->comm, PETSC_ERR_ORDER,
             "ItCrosscheckAdd needs an estimate with the solver's density (ItMCEstimate)");
  PetscCall(ItCrosscheckCovariance(mc, mc->reference, S));
  cc->t[k] = t;
  for (PetscInt q = 0; q < nq; q++) {
    PetscCall(ItCrosscheckFPValue(cc, q, t, fp_values, S, &cc->fp[k * nq + q]));
    cc->mcv[k * nq + q] = mc->value[q];
    cc->se[k * nq + q]  = mc->stderr_[q];
  }
  for (PetscInt a = 0; a < d; a++) cc->fp_cum_prev[a] = fp_values[cc->fp_cum_column[a]];
  if (cc->fp_spike_column >= 0) cc->fp_cum_prev[IT_MAX_DIM] = fp_values[cc->fp_spike_column];
  cc->fp_t_prev = t;
  cc->ntime++;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* -error_estimate: the Monte Carlo at twice the step (the same scheme),
   advanced and estimated by the caller at every recorded time, after
   ItCrosscheckAdd. Its step must stay stable. */
PetscErrorCode ItCrosscheckSetBiasRun(ItCrosscheck cc, ItMC coarse_dt) {
  PetscFunctionBegin;
  coarse_dt->dt     = 2 * cc->mc->dt;
  coarse_dt->scheme = cc->mc->scheme;
  PetscCheck(coarse_dt->dt * coarse_dt->stiffness < 2, cc->mc->comm, PETSC_ERR_USER_INPUT,
             "-error_estimate runs the Monte Carlo also at twice its step, %g, which is unstable "
             "(the fastest rate is %g): use a smaller -mc_dt",
             (double)coarse_dt->dt, (double)coarse_dt->stiffness);
  cc->bias_mc    = coarse_dt;
  cc->bias_order = cc->mc->scheme == IT_MC_WEAK2 ? 2 : 1;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The Monte Carlo's time-step bias at the last recorded time:
   (q_dt - q_2dt)/(2^k - 1), k its weak order. Not collective. */
PetscErrorCode ItCrosscheckAddBias(ItCrosscheck cc) {
  const PetscInt  nq = cc->nq, k = cc->ntime - 1;
  const PetscReal denominator = (PetscReal)((1 << cc->bias_order) - 1);

  PetscFunctionBegin;
  PetscCall(PetscRealloc(sizeof(PetscReal) * cc->captime * nq, &cc->mc_bias));
  for (PetscInt q = 0; q < nq; q++)
    cc->mc_bias[k * nq + q] = (cc->mcv[k * nq + q] - cc->bias_mc->value[q]) / denominator;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* -error_estimate: the solver's error at every recorded time, from its
   diagnostics on the coarse grids (values[level], ntime x diag columns) and
   their covariances (cov[level], ntime x d x d), levels as
   IT_ESTIMATE_2H, _4H and (when nlevel is 3) _4H_TIGHT. Not collective. */
PetscErrorCode ItCrosscheckSetSolverLevels(ItCrosscheck cc, PetscInt nlevel,
                                           const PetscReal *values[], const PetscReal *cov[]) {
  const ItGridInfo *info = ItGridGetInfo(cc->mc->grid);
  const PetscInt    nq = cc->nq, nt = cc->ntime, d = info->dim;
  const PetscInt    ncol = ItDiagGetColumnCount(cc->diag);
  const PetscInt    p0   = info->order_fp; /* Richardson's expected order, -fp_order */
  PetscReal        *fp[IT_ESTIMATE_NLEVEL];

  PetscFunctionBegin;
  PetscCall(PetscMalloc1(nt * nq, &cc->fp_err));
  for (PetscInt L = 0; L < nlevel; L++) {
    PetscReal cum[IT_MAX_DIM + 1] = {0}, t_prev = (PetscReal)NAN;
    PetscCall(PetscMalloc1(nt * nq, &fp[L]));
    for (PetscInt k = 0; k < nt; k++) {
      const PetscReal *row = &values[L][k * ncol];
      for (PetscInt q = 0; q < nq; q++)
        PetscCall(ItCrosscheckFPValueSince(cc, q, cc->t[k], t_prev, cum, row, &cov[L][k * d * d],
                                           &fp[L][k * nq + q]));
      for (PetscInt a = 0; a < d; a++) cum[a] = row[cc->fp_cum_column[a]];
      if (cc->fp_spike_column >= 0) cum[IT_MAX_DIM] = row[cc->fp_spike_column];
      t_prev = cc->t[k];
    }
  }
  PetscCall(PetscMalloc1(nt * nq, &cc->fp_unc));
  for (PetscInt j = 0; j < nt * nq; j++)
    cc->fp_unc[j] = ItEstimateUncertainty(
        p0, cc->fp[j], fp[IT_ESTIMATE_2H][j], fp[IT_ESTIMATE_4H][j],
        nlevel > IT_ESTIMATE_4H_TIGHT ? fp[IT_ESTIMATE_4H_TIGHT][j] : (PetscReal)NAN);
  PetscCall(PetscMalloc2(nt * nq, &cc->fp_order, nt * nq, &cc->fp_trusted));
  for (PetscInt j = 0; j < nt * nq; j++) {
    cc->fp_order[j]   = ItEstimateOrder(cc->fp[j], fp[IT_ESTIMATE_2H][j], fp[IT_ESTIMATE_4H][j]);
    cc->fp_trusted[j] = ItEstimateTrustedBar(
        p0, cc->fp[j], fp[IT_ESTIMATE_2H][j], fp[IT_ESTIMATE_4H][j],
        nlevel > IT_ESTIMATE_4H_TIGHT ? fp[IT_ESTIMATE_4H_TIGHT][j] : (PetscReal)NAN);
  }
  for (PetscInt j = 0; j < nt * nq; j++)
    cc->fp_err[j] = ItEstimateCorrection(
        p0, cc->fp[j], fp[IT_ESTIMATE_2H][j], fp[IT_ESTIMATE_4H][j],
        nlevel > IT_ESTIMATE_4H_TIGHT ? fp[IT_ESTIMATE_4H_TIGHT][j] : (PetscReal)NAN);
  for (PetscInt j = 0; j < nt * nq; j++) /* t = 0: the same exact density on every grid (§5) */
    if (cc->t[j / nq] == 0) {
      const PetscReal qh = cc->fp[j], q2 = fp[IT_ESTIMATE_2H][j], q4 = fp[IT_ESTIMATE_4H][j];
      cc->fp_err[j]     = 0;
      cc->fp_unc[j]     = ItEstimateInitialUncertainty(qh, q2, q4);
      cc->fp_trusted[j] = ItEstimateInitialResolved(qh, q2, q4);
    }
  for (PetscInt L = 0; L < nlevel; L++) PetscCall(PetscFree(fp[L]));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The sizes of the two sides' uncertainties of (time k, quantity q): the
   Monte Carlo's standard error, the half-width of the solver's error bar
   (<q>_uncertainty, doc/physics.md §5) and the Monte Carlo's time-step bias
   (0 without -error_estimate). */
static void ItCrosscheckUncertainty(ItCrosscheck cc, PetscInt k, PetscInt q, PetscReal *se,
                                    PetscReal *err, PetscReal *bias) {
  const PetscInt j = k * cc->nq + q;

  *se   = cc->se[j];
  *err  = cc->fp_unc ? cc->fp_unc[j] : 0;
  *bias = cc->mc_bias ? PetscAbsReal(cc->mc_bias[j]) : 0;
  if (PetscIsInfOrNanReal(*err)) *err = 0;
  if (PetscIsInfOrNanReal(*bias)) *bias = 0;
}

/* z = (FP - MC)/sqrt(se_MC^2 + err_FP^2 + bias_MC^2) (doc/physics.md §4, §5),
   err_FP the solver's <q>_uncertainty. */
static PetscReal ItCrosscheckZ(ItCrosscheck cc, PetscInt k, PetscInt q) {
  const PetscReal fp = cc->fp[k * cc->nq + q], mc = cc->mcv[k * cc->nq + q];
  PetscReal       se, err, bias;

  ItCrosscheckUncertainty(cc, k, q, &se, &err, &bias);
  if (PetscIsInfOrNanReal(fp) || PetscIsInfOrNanReal(mc) || !(se > 0) || PetscIsInfOrNanReal(se))
    return (PetscReal)NAN;
  return (fp - mc) / PetscSqrtReal(se * se + err * err + bias * bias);
}

/* Which side's uncertainty dominates at (k, q), and what to do about it. */
static PetscErrorCode ItCrosscheckCause(ItCrosscheck cc, PetscInt k, PetscInt q, char cause[],
                                        size_t len) {
  PetscReal se, err, bias;

  PetscFunctionBegin;
  ItCrosscheckUncertainty(cc, k, q, &se, &err, &bias);
  const ItGridInfo *info = ItGridGetInfo(cc->mc->grid);
  if (cc->fp_trusted && !cc->fp_trusted[k * cc->nq + q])
    PetscCall(PetscSNPrintf(
        cause, len,
        "the solver's grid error is not in its asymptotic regime, or its grid "
        "and time errors nearly cancel (observed order %.2g, expected %" PetscInt_FMT
        "; estimate %.2g, Monte Carlo standard error %.2g): refine the grid "
        "(-grid_n)",
        (double)cc->fp_order[k * cc->nq + q], info->order_fp, (double)err, (double)se));
  else if (err >= se && err >= bias)
    PetscCall(PetscSNPrintf(cause, len,
                            "solver grid error %.2g > Monte Carlo standard error %.2g: refine the "
                            "grid (-grid_n)",
                            (double)err, (double)se));
  else if (bias >= se)
    PetscCall(PetscSNPrintf(cause, len,
                            "Monte Carlo time-step bias %.2g > standard error %.2g: a smaller "
                            "-mc_dt",
                            (double)bias, (double)se));
  else
    PetscCall(PetscSNPrintf(cause, len,
                            "Monte Carlo standard error %.2g > solver grid error %.2g: more "
                            "-mc_particles",
                            (double)se, (double)err));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The judged (time, quantity) pairs: how many, how many beyond the limit, and
   the largest |z|, described in worst[len]. */
typedef struct {
  PetscInt  njudged, nfail;
  PetscReal zmax;
  char     *worst;
  size_t    len;
  /* -error_estimate: the judged values farther apart than -crosscheck_z
     Monte Carlo standard errors alone, and what dominates the largest */
  PetscInt  nbeyond;
  PetscReal beyond_max;
  char      beyond[512];
  /* the judged values that pass only through an untrusted solver estimate:
     how many, the largest |z| without the solver's error, and which */
  PetscInt  ninconclusive;
  PetscReal inconclusive_max;
  char      inconclusive[512];
} ItCrosscheckVerdict;

/* A judged quantity at time k that passes only through the solver's error
   estimate while that estimate is not trusted (doc/physics.md §5):
   without the solver's error its |z| exceeds the limit. */
static PetscBool ItCrosscheckInconclusive(ItCrosscheck cc, PetscInt k, PetscInt q,
                                          PetscReal *z_without) {
  const PetscInt j = k * cc->nq + q;
  PetscReal      se, err, bias;

  *z_without = (PetscReal)NAN;
  if (!cc->fp_trusted || !cc->judged[q] || cc->fp_trusted[j]) return PETSC_FALSE;
  ItCrosscheckUncertainty(cc, k, q, &se, &err, &bias);
  if (PetscIsInfOrNanReal(cc->fp[j]) || PetscIsInfOrNanReal(cc->mcv[j]) || !(se > 0))
    return PETSC_FALSE;
  *z_without = (cc->fp[j] - cc->mcv[j]) / PetscSqrtReal(se * se + bias * bias);
  return (PetscBool)(PetscAbsReal(*z_without) > cc->z_limit);
}

/* A judged quantity whose |z| at time k exceeds the limit. */
static PetscBool ItCrosscheckFailed(ItCrosscheck cc, PetscInt k, PetscInt q) {
  const PetscReal z = ItCrosscheckZ(cc, k, q);

  return (PetscBool)(cc->judged[q] && !PetscIsInfOrNanReal(z) && PetscAbsReal(z) > cc->z_limit);
}

/* -error_estimate: counts (k, q) when FP and MC differ by more than
   -crosscheck_z Monte Carlo standard errors alone (a failure without the
   estimate), and names what dominates the uncertainty of the largest. */
static PetscErrorCode ItCrosscheckJudgeBeyond(ItCrosscheck cc, PetscInt k, PetscInt q,
                                              ItCrosscheckVerdict *v) {
  const PetscInt  j = k * cc->nq + q;
  const PetscReal z = (cc->fp[j] - cc->mcv[j]) / cc->se[j];
  char            cause[256];

  PetscFunctionBegin;
  if (!(PetscAbsReal(z) > cc->z_limit)) PetscFunctionReturn(PETSC_SUCCESS);
  v->nbeyond++;
  if (PetscAbsReal(z) <= v->beyond_max) PetscFunctionReturn(PETSC_SUCCESS);
  v->beyond_max = PetscAbsReal(z);
  PetscCall(ItCrosscheckCause(cc, k, q, cause, sizeof(cause)));
  PetscCall(PetscSNPrintf(v->beyond, sizeof(v->beyond),
                          "%s at t = %g: FP %.6g, MC %.6g, %.1f Monte Carlo standard errors apart; "
                          "%s",
                          cc->name[q], (double)cc->t[k], (double)cc->fp[j], (double)cc->mcv[j],
                          (double)PetscAbsReal(z), cause));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Counts (k, q) when it passes only through an untrusted solver estimate,
   and describes the farthest. */
static PetscErrorCode ItCrosscheckJudgeInconclusive(ItCrosscheck cc, PetscInt k, PetscInt q,
                                                    ItCrosscheckVerdict *v) {
  const PetscInt j = k * cc->nq + q;
  PetscReal      z;

  PetscFunctionBegin;
  if (!ItCrosscheckInconclusive(cc, k, q, &z)) PetscFunctionReturn(PETSC_SUCCESS);
  v->ninconclusive++;
  if (PetscAbsReal(z) <= v->inconclusive_max) PetscFunctionReturn(PETSC_SUCCESS);
  v->inconclusive_max = PetscAbsReal(z);
  PetscCall(PetscSNPrintf(v->inconclusive, sizeof(v->inconclusive),
                          "%s at t = %g: FP %.6g, MC %.6g, |z| = %.1f without the solver's error "
                          "estimate %.2g, which is not trusted (observed order %.2g)",
                          cc->name[q], (double)cc->t[k], (double)cc->fp[j], (double)cc->mcv[j],
                          (double)PetscAbsReal(z), (double)cc->fp_unc[j], (double)cc->fp_order[j]));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ItCrosscheckJudge(ItCrosscheck cc, ItCrosscheckVerdict *v) {
  const PetscInt nq = cc->nq;

  PetscFunctionBegin;
  v->njudged = v->nfail = v->nbeyond = v->ninconclusive = 0;
  v->zmax = v->beyond_max = v->inconclusive_max = 0;
  PetscCall(PetscSNPrintf(v->inconclusive, sizeof(v->inconclusive), "none"));
  PetscCall(PetscSNPrintf(v->beyond, sizeof(v->beyond), "none"));
  PetscCall(PetscSNPrintf(v->worst, v->len, "none"));
  for (PetscInt k = 0; k < cc->ntime; k++)
    for (PetscInt q = 0; q < nq; q++) {
      const PetscReal z = ItCrosscheckZ(cc, k, q);
      if (!cc->judged[q] || PetscIsInfOrNanReal(z)) continue;
      v->njudged++;
      if (ItCrosscheckFailed(cc, k, q))
        v->nfail++;
      else
        PetscCall(ItCrosscheckJudgeInconclusive(cc, k, q, v));
      if (cc->fp_err) PetscCall(ItCrosscheckJudgeBeyond(cc, k, q, v));
      if (PetscAbsReal(z) <= v->zmax) continue;
      v->zmax = PetscAbsReal(z);
      PetscCall(PetscSNPrintf(v->worst, v->len, "%s at t = %g: FP %.6g, MC %.6g +- %.2g, z = %.2f",
                              cc->name[q], (double)cc->t[k], (double)cc->fp[k * nq + q],
                              (double)cc->mcv[k * nq + q], (double)cc->se[k * nq + q], (double)z));
      if (cc->fp_err) {
        char cause[256];
        PetscCall(ItCrosscheckCause(cc, k, q, cause, sizeof(cause)));
        PetscCall(PetscStrlcat(v->worst, "; ", v->len));
        PetscCall(PetscStrlcat(v->worst, cause, v->len));
      }
    }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* crosscheck.txt: one line per (quantity, time). Collective. */
static PetscErrorCode ItCrosscheckWriteText(ItCrosscheck cc, ItIO io) {
  ItMC           mc   = cc->mc;
  const PetscInt nq   = cc->nq;
  ItBuffer       text = {0};

  PetscFunctionBegin;
  PetscCall(ItBufferPrintf(&text,
                           "# infotherm crosscheck: model %s, %" PetscInt_FMT
                           " particles, %s, dt %g, seed %" PetscInt64_FMT
                           ", %d rank(s); z = (FP - MC)/stderr, judged when |z| > %g fails\n",
                           ItModelGetTypeName(mc->model), mc->N,
                           mc->scheme == IT_MC_WEAK2 ? "weak order 2" : "Euler-Maruyama",
                           (double)mc->dt, mc->seed, mc->size, (double)cc->z_limit));
  PetscCall(ItBufferPrintf(&text, "# entropy_flow_<var>, heat_rate_<var>: means over the interval "
                                  "since the previous output time\n"));
  if (cc->fp_err)
    PetscCall(ItBufferPrintf(&text, "# -error_estimate: z = (FP - MC)/sqrt(stderr^2 + err_FP^2 + "
                                    "bias_MC^2); err_FP from the grids coarsened by 2 and 4, "
                                    "bias_MC from a run at twice the step\n"));
  PetscCall(ItBufferPrintf(&text, "%-32s %10s %14s %14s %12s %9s %s%s\n", "quantity", "t", "FP",
                           "MC", "stderr", "z", "judged", cc->fp_err ? "   err_FP   bias_MC" : ""));
  for (PetscInt k = 0; k < cc->ntime; k++)
    for (PetscInt q = 0; q < nq; q++) {
      PetscCall(
          ItBufferPrintf(&text, "%-32s %10.5g %14.7g %14.7g %12.4g %9.3g %s", cc->name[q],
                         (double)cc->t[k], (double)cc->fp[k * nq + q], (double)cc->mcv[k * nq + q],
                         (double)cc->se[k * nq + q], (double)ItCrosscheckZ(cc, k, q),
                         cc->judged[q] ? (ItCrosscheckFailed(cc, k, q) ? "FAIL" : "yes") : "no"));
      if (cc->fp_err) {
        PetscReal se, err, bias;
        ItCrosscheckUncertainty(cc, k, q, &se, &err, &bias);
        PetscCall(ItBufferPrintf(&text, " %9.3g %9.3g", (double)err, (double)bias));
      }
      PetscCall(ItBufferPrintf(&text, "\n"));
    }
  if (mc->col.kl_mc_fp >= 0)
    PetscCall(ItBufferPrintf(
        &text, "# D(p_MC || p_FP) (%s) per output time: see crosscheck.json \"kl_mc_fp\"\n",
        mc->name[mc->col.kl_mc_fp]));
  PetscCall(ItIOWriteText(io, "crosscheck.txt", text.text));
  PetscCall(ItBufferFree(&text));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* count reals values[0], values[stride], ... as a JSON array. */
static PetscErrorCode ItCrosscheckSeries(PetscInt count, const PetscReal values[], PetscInt stride,
                                         json_t **array) {
  PetscFunctionBegin;
  PetscCall(ItJSONPack(array, "[]"));
  for (PetscInt k = 0; k < count; k++)
    PetscCall(ItJSONAppend(*array, ItJSONReal(values[k * stride])));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* "quantities": {name: {"judged", "fp", "mc", "stderr", "z"}}, each series over the times. */
static PetscErrorCode ItCrosscheckQuantities(ItCrosscheck cc, json_t **quantities) {
  const PetscInt nq = cc->nq, nt = cc->ntime;

  PetscFunctionBegin;
  PetscCall(ItJSONPack(quantities, "{}"));
  for (PetscInt q = 0; q < nq; q++) {
    json_t *fp, *mcv, *se, *z, *quantity;
    PetscCall(ItCrosscheckSeries(nt, &cc->fp[q], nq, &fp));
    PetscCall(ItCrosscheckSeries(nt, &cc->mcv[q], nq, &mcv));
    PetscCall(ItCrosscheckSeries(nt, &cc->se[q], nq, &se));
    PetscCall(ItJSONPack(&z, "[]"));
    for (PetscInt k = 0; k < nt; k++)
      PetscCall(ItJSONAppend(z, ItJSONReal(ItCrosscheckZ(cc, k, q))));
    PetscCall(ItJSONPack(&quantity, "{s:b, s:o, s:o, s:o, s:o}", "judged", (int)cc->judged[q], "fp",
                         fp, "mc", mcv, "stderr", se, "z", z));
    if (cc->fp_err) {
      json_t *err, *bias;
      json_t *unc, *trusted, *inconclusive;
      PetscCall(ItCrosscheckSeries(nt, &cc->fp_err[q], nq, &err));
      PetscCall(ItJSONSet(quantity, "fp_err", err));
      PetscCall(ItCrosscheckSeries(nt, &cc->fp_unc[q], nq, &unc));
      PetscCall(ItJSONSet(quantity, "fp_uncertainty", unc));
      PetscCall(ItJSONPack(&trusted, "[]"));
      PetscCall(ItJSONPack(&inconclusive, "[]"));
      for (PetscInt k = 0; k < nt; k++) {
        PetscReal z;
        PetscCall(ItJSONAppend(trusted, json_integer(cc->fp_trusted[k * nq + q] ? 1 : 0)));
        PetscCall(ItJSONAppend(inconclusive, json_boolean(ItCrosscheckInconclusive(cc, k, q, &z))));
      }
      PetscCall(ItJSONSet(quantity, "fp_trusted", trusted));
      PetscCall(ItJSONSet(quantity, "inconclusive", inconclusive));
      if (cc->mc_bias) {
        PetscCall(ItCrosscheckSeries(nt, &cc->mc_bias[q], nq, &bias));
        PetscCall(ItJSONSet(quantity, "mc_bias", bias));
      }
    }
    PetscCall(ItJSONSet(*quantities, cc->name[q], quantity));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Adds this rank's slab of the solver's and the Monte Carlo's last densities
   to their 1-D marginals: per variable i, n_i values of each, in acc. */
static PetscErrorCode ItCrosscheckMarginalsAdd(ItMC mc, void *ctx, PetscReal acc[]) {
  ItGrid            grid = mc->grid;
  const ItGridInfo *info = ItGridGetInfo(grid);

  PetscFunctionBegin;
  (void)ctx;
  for (PetscInt i = 0; i < info->dim; i++) {
    PetscReal *mf = acc, *mm = acc + info->n[i];
    for (PetscInt k = 0; k < mc->nslab; k++) {
      PetscInt cell[IT_MAX_DIM];
      ItGridNaturalCell(grid, mc->slab_start + k, cell);
      mf[cell[i]] += mc->reference[k] * info->cell_volume / info->h[i];
      mm[cell[i]] += mc->density[k] * info->cell_volume / info->h[i];
    }
    acc += 2 * info->n[i];
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* "marginals": {var: {"x", "fp", "mc"}}, the 1-D marginals of both densities
   at the last time, for tools/plot_crosscheck.py. Collective. */
static PetscErrorCode ItCrosscheckMarginals(ItCrosscheck cc, json_t **marginals) {
  ItMC              mc   = cc->mc;
  ItGrid            grid = mc->grid;
  const ItGridInfo *info = ItGridGetInfo(grid);
  PetscInt          nacc = 0;
  PetscReal        *acc, *mf;

  PetscFunctionBegin;
  PetscCall(ItJSONPack(marginals, "{}"));
  if (!mc->reference) PetscFunctionReturn(PETSC_SUCCESS);
  for (PetscInt i = 0; i < info->dim; i++) nacc += 2 * info->n[i];
  PetscCall(PetscCalloc1(nacc, &acc));
  PetscCall(ItMCFold(mc, nacc, acc, ItCrosscheckMarginalsAdd, NULL, PETSC_TRUE));
  mf = acc;
  for (PetscInt i = 0; i < info->dim; i++) {
    PetscReal *x;
    json_t    *jx, *jf, *jm, *marginal;
    PetscCall(PetscMalloc1(info->n[i], &x));
    for (PetscInt k = 0; k < info->n[i]; k++) x[k] = ItGridCoordinate(grid, i, k);
    PetscCall(ItJSONRealArray(info->n[i], x, &jx));
    PetscCall(ItJSONRealArray(info->n[i], mf, &jf));
    PetscCall(ItJSONRealArray(info->n[i], mf + info->n[i], &jm));
    PetscCall(ItJSONPack(&marginal, "{s:o, s:o, s:o}", "x", jx, "fp", jf, "mc", jm));
    PetscCall(ItJSONSet(*marginals, ItModelGetVariableName(mc->model, i), marginal));
    PetscCall(PetscFree(x));
    mf += 2 * info->n[i];
  }
  PetscCall(PetscFree(acc));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The verdict: failed (a judged |z| beyond the limit), inconclusive (none,
   but some pass only through an untrusted solver estimate), or passed. */
static const char *ItCrosscheckVerdictName(const ItCrosscheckVerdict *v) {
  return v->nfail ? "failed" : (v->ninconclusive ? "inconclusive" : "passed");
}

/* crosscheck.json: the settings, the verdict, every quantity at every time,
   D(p_MC ‖ p_FP) when estimated, and the final marginals. Collective. */
static PetscErrorCode ItCrosscheckWriteJSON(ItCrosscheck cc, ItIO io,
                                            const ItCrosscheckVerdict *v) {
  ItMC           mc = cc->mc;
  const PetscInt nt = cc->ntime;
  json_t        *root, *t, *quantities, *marginals;

  PetscFunctionBegin;
  PetscCall(ItJSONRealArray(nt, cc->t, &t));
  PetscCall(ItCrosscheckQuantities(cc, &quantities));
  PetscCall(ItJSONPack(
      &root, "{s:s, s:I, s:s, s:o, s:I, s:i, s:o, s:I, s:I, s:b, s:o, s:s, s:o, s:o}", "model",
      ItModelGetTypeName(mc->model), "particles", (json_int_t)mc->N, "scheme",
      mc->scheme == IT_MC_WEAK2 ? "weak2" : "euler", "dt", ItJSONReal(mc->dt), "seed",
      (json_int_t)mc->seed, "ranks", mc->size, "z_limit", ItJSONReal(cc->z_limit), "judged",
      (json_int_t)v->njudged, "failed", (json_int_t)v->nfail, "passed", !v->nfail, "max_abs_z",
      ItJSONReal(v->zmax), "worst", v->worst, "t", t, "quantities", quantities));
  PetscCall(ItJSONSet(root, "verdict", json_string(ItCrosscheckVerdictName(v))));
  PetscCall(ItJSONSet(root, "passed", json_boolean(!v->nfail && !v->ninconclusive)));
  PetscCall(ItJSONSet(root, "inconclusive", json_integer(v->ninconclusive)));
  PetscCall(ItJSONSet(root, "inconclusive_largest", json_string(v->inconclusive)));
  if (cc->fp_err) {
    json_t *estimate;
    PetscCall(ItJSONPack(&estimate, "{s:I, s:s, s:o, s:I}", "beyond_mc_stderr",
                         (json_int_t)v->nbeyond, "largest", v->beyond, "mc_bias_dt",
                         ItJSONReal(cc->bias_mc ? cc->bias_mc->dt : NAN), "mc_weak_order",
                         (json_int_t)cc->bias_order));
    PetscCall(ItJSONSet(root, "error_estimate", estimate));
  }
  if (mc->col.kl_mc_fp >= 0) {
    const PetscInt w = 1 + 2 * mc->ncol, col = mc->col.kl_mc_fp;
    json_t        *kl, *kl_se;
    PetscCall(ItCrosscheckSeries(mc->nrow, &mc->rows[1 + 2 * col], w, &kl));
    PetscCall(ItCrosscheckSeries(mc->nrow, &mc->rows[2 + 2 * col], w, &kl_se));
    PetscCall(ItJSONSet(root, "kl_mc_fp", kl));
    PetscCall(ItJSONSet(root, "kl_mc_fp_stderr", kl_se));
  }
  PetscCall(ItCrosscheckMarginals(cc, &marginals));
  PetscCall(ItJSONSet(root, "marginals_t", ItJSONReal(nt ? cc->t[nt - 1] : 0)));
  PetscCall(ItJSONSet(root, "marginals", marginals));
  PetscCall(ItIOWriteJSON(io, "crosscheck.json", root));
  json_decref(root);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* stdout: every quantity at the last time, and the verdict. Collective. */
static PetscErrorCode ItCrosscheckPrint(ItCrosscheck cc, const ItCrosscheckVerdict *v) {
  ItMC           mc = cc->mc;
  const PetscInt nq = cc->nq, nt = cc->ntime, k = nt - 1;
  ItBuffer       out = {0};

  PetscFunctionBegin;
  PetscCall(ItBufferPrintf(&out,
                           "crosscheck (model %s, %" PetscInt_FMT
                           " particles) at t = %g:\n%-32s %14s %26s %9s %s\n",
                           ItModelGetTypeName(mc->model), mc->N, nt ? (double)cc->t[k] : 0.0,
                           "quantity", "FP", "MC +- stderr", "z", "judged"));
  for (PetscInt q = 0; q < nq && nt; q++)
    PetscCall(ItBufferPrintf(&out, "%-32s %14.7g %14.7g +- %-9.2g %9.3g %s\n", cc->name[q],
                             (double)cc->fp[k * nq + q], (double)cc->mcv[k * nq + q],
                             (double)cc->se[k * nq + q], (double)ItCrosscheckZ(cc, k, q),
                             cc->judged[q] ? "yes" : "no"));
  if (mc->col.kl_mc_fp >= 0 && mc->nrow)
    PetscCall(ItBufferPrintf(&out, "%-32s %14s %14.7g +- %-9.2g\n", mc->name[mc->col.kl_mc_fp], "",
                             (double)mc->value[mc->col.kl_mc_fp],
                             (double)mc->stderr_[mc->col.kl_mc_fp]));
  if (cc->fp_err)
    PetscCall(ItBufferPrintf(&out,
                             "error estimate: %" PetscInt_FMT
                             " judged value(s) differ by more than %g Monte Carlo standard errors "
                             "alone%s%s\n",
                             v->nbeyond, (double)cc->z_limit, v->nbeyond ? "; the largest: " : "",
                             v->nbeyond ? v->beyond : ""));
  PetscCall(ItBufferPrintf(&out,
                           "%" PetscInt_FMT " judged values over %" PetscInt_FMT
                           " times, max |z| = %.2f (%s): %s\n",
                           v->njudged, nt, (double)v->zmax, v->worst,
                           v->nfail ? "FAILED" : (v->ninconclusive ? "INCONCLUSIVE" : "passed")));
  if (!v->nfail && v->ninconclusive)
    PetscCall(ItBufferPrintf(&out,
                             "inconclusive: %" PetscInt_FMT
                             " judged value(s) pass only through a solver error estimate that is "
                             "not trusted; the farthest: %s\n",
                             v->ninconclusive, v->inconclusive));
  PetscCall(PetscPrintf(mc->comm, "%s", out.text));
  PetscCall(ItBufferFree(&out));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Writes crosscheck.json and crosscheck.txt, prints the final-time table and
   the verdict; nfail counts the judged (time, quantity) pairs beyond the
   limit, worst describes the largest |z|; ninconclusive counts those that
   pass only through an untrusted solver estimate, the farthest described in
   inconclusive[len]. Collective. */
PetscErrorCode ItCrosscheckReport(ItCrosscheck cc, ItIO io, PetscInt *nfail, char worst[],
                                  PetscInt *ninconclusive, char inconclusive[], size_t len) {
  ItCrosscheckVerdict verdict = {.worst = worst, .len = len};

  PetscFunctionBegin;
  PetscCall(ItCrosscheckJudge(cc, &verdict));
  PetscCall(ItCrosscheckWriteJSON(cc, io, &verdict));
  PetscCall(ItCrosscheckWriteText(cc, io));
  PetscCall(ItCrosscheckPrint(cc, &verdict));
  *nfail         = verdict.nfail;
  *ninconclusive = verdict.ninconclusive;
  PetscCall(PetscStrncpy(inconclusive, verdict.inconclusive, len));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode ItCrosscheckDestroy(ItCrosscheck *ccp) {
  ItCrosscheck cc = *ccp;

  PetscFunctionBegin;
  if (!cc) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscFree2(cc->name, cc->judged));
  PetscCall(PetscFree(cc->fp_cum_prev));
  PetscCall(PetscFree(cc->t));
  PetscCall(PetscFree(cc->fp));
  PetscCall(PetscFree(cc->mcv));
  PetscCall(PetscFree(cc->se));
  PetscCall(PetscFree(cc->fp_err));
  PetscCall(PetscFree2(cc->fp_order, cc->fp_trusted));
  PetscCall(PetscFree(cc->fp_unc));
  PetscCall(PetscFree(cc->mc_bias));
  PetscCall(PetscFree(cc));
  *ccp = NULL;
  PetscFunctionReturn(PETSC_SUCCESS);
}
