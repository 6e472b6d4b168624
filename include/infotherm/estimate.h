/* Error estimates of doc/physics.md §5: the same problem solved on the grids
   coarsened by 2 and by 4 (same box, same output times), every diagnostic
   column on each, Richardson's correction q_err = (q_h - q_2h)/(2^p0 - 1) at
   the operator's order p0 (-fp_order: 2 or 4) and the
   observed order p = log2[(q_4h - q_2h)/(q_2h - q_h)]; for a transient also
   the time stepper's error, from the grid coarsened by 4 solved again at
   tolerances 100 times tighter (the time error hardly depends on the cell
   size, and that grid costs 1/4^d of the fine one). The formulas are inline
   here so that the cross-check (src/mc/crosscheck.c) uses the same ones.

   The coarse solves (src/estimate/richardson.c) need only the fine problem:
   its grid (coarsened by ItGridCreateCoarse), model and diagnostics, and two
   callbacks that make a density on a given grid (the initial one, and the
   reference of kl_to_stationary), so the module knows nothing of the command
   that uses it. */
#pragma once
#include <infotherm/solve.h>
#include <infotherm/diag.h>
#include <infotherm/io.h>

/* The coarse solves: grid coarsened by 2, by 4, and by 4 at tighter time tolerances. */
enum { IT_ESTIMATE_2H, IT_ESTIMATE_4H, IT_ESTIMATE_4H_TIGHT, IT_ESTIMATE_NLEVEL };

/* Tolerances of the time-error solve, relative to the run's. */
#define IT_ESTIMATE_TIGHTER 0.01
/* The observed order accepted as "near" the operator's order p0 (2 or 4,
   -fp_order): [p0 - 0.5, p0 + 0.6] (doc/physics.md §5); outside, the
   estimate is not trusted. Under -fp_order 4 an observed order between 2
   and 3.5 means the coarse grids' faces still lean on their
   Scharfetter–Gummel fall-back: not trusted. */
#define IT_ESTIMATE_ORDER_BELOW 0.5
#define IT_ESTIMATE_ORDER_ABOVE 0.6
#define IT_ESTIMATE_ORDER_MIN (2 - IT_ESTIMATE_ORDER_BELOW)
#define IT_ESTIMATE_ORDER_MAX (2 + IT_ESTIMATE_ORDER_ABOVE)
/* Differences between grids at most this fraction of max(|q|, 1) are round-off. */
#define IT_ESTIMATE_ROUNDOFF 1e-10

/* Richardson's divisor 2^p0 - 1 at the expected order p0: 3 or 15. */
static inline PetscReal ItEstimateDivisor(PetscInt p0) {
  return (PetscReal)((1 << p0) - 1);
}

/* The correction to add to q_h (its error is minus this) at the expected
   order p0: grid part (q_h - q_2h)/(2^p0 - 1) plus, when q_4h_tight is
   finite, the time part q_4h_tight - q_4h. Not collective. */
static inline PetscReal ItEstimateCorrection(PetscInt p0, PetscReal qh, PetscReal q2h,
                                             PetscReal q4h, PetscReal q4h_tight) {
  const PetscReal grid = (qh - q2h) / ItEstimateDivisor(p0);

  return PetscIsInfOrNanReal(q4h_tight) ? grid : grid + (q4h_tight - q4h);
}

/* Whether the two finer grids agree to round-off (and to the solvers'
   tolerances): the correction is then that small, whatever the order. */
static inline PetscBool ItEstimateIsRoundoff(PetscReal qh, PetscReal q2h) {
  const PetscReal scale = PetscMax(PetscMax(PetscAbsReal(qh), PetscAbsReal(q2h)), 1.0);

  return (PetscBool)(PetscAbsReal(qh - q2h) <= IT_ESTIMATE_ROUNDOFF * scale);
}

/* The observed order log2[(q_4h - q_2h)/(q_2h - q_h)]: NaN when the
   differences change sign or vanish. */
static inline PetscReal ItEstimateOrder(PetscReal qh, PetscReal q2h, PetscReal q4h) {
  const PetscReal ratio = (q4h - q2h) / (q2h - qh);

  return ratio > 0 && !PetscIsInfOrNanReal(ratio) ? PetscLog2Real(ratio) : (PetscReal)NAN;
}

/* The time part's own uncertainty as a fraction of it: the time part
   q_4h_tight - q_4h is measured on the grid coarsened by 4, whose adaptive
   steps are not the fine grid's; against the fine grid's own time error
   (the fine grid solved again at tighter tolerances) the ratio's
   interquartile range is 0.69-1.00 and 0.68-1.36 on tools/error_bars.py's
   two sets of cases (doc/physics.md §5). */
#define IT_ESTIMATE_TIME_SPREAD 0.5

/* The half-width of the error bar of q_h (doc/physics.md §5) at the
   expected order p0: the size of the signed correction (grid part
   (q_h - q_2h)/(2^p0 - 1) plus time part q_4h_tight - q_4h, NaN: none),
   plus the uncertainty of each part: for the grid part the margin for the
   observed order p differing from p0, |q_h - q_2h| |1/(2^p - 1) -
   1/(2^p0 - 1)| (the grid part once more when p is not known: no grid
   coarsened by 4), for the time part IT_ESTIMATE_TIME_SPREAD of it. Parts of
   opposite signs do cancel in the correction, but not in their
   uncertainties; where the cancellation leaves a correction smaller than
   its uncertainty the bar is not trusted (ItEstimateTrustedBar). Non-negative.
   Not collective. */
static inline PetscReal ItEstimateUncertainty(PetscInt p0, PetscReal qh, PetscReal q2h,
                                              PetscReal q4h, PetscReal q4h_tight) {
  const PetscReal diff = PetscAbsReal(qh - q2h), p = ItEstimateOrder(qh, q2h, q4h);
  const PetscReal div    = ItEstimateDivisor(p0);
  const PetscReal time   = PetscIsInfOrNanReal(q4h_tight) ? 0 : q4h_tight - q4h;
  PetscReal       margin = diff / div;

  if (PetscIsInfOrNanReal(q2h)) return (PetscReal)NAN;
  if (!PetscIsInfOrNanReal(p)) margin = diff * PetscAbsReal(1 / (PetscPowReal(2, p) - 1) - 1 / div);
  if (ItEstimateIsRoundoff(qh, q2h)) margin = 0;
  return PetscAbsReal((qh - q2h) / div + time) + margin +
         IT_ESTIMATE_TIME_SPREAD * PetscAbsReal(time);
}

/* Trusted: the finer grids agree to round-off, or the observed order is
   near the expected order p0 ([p0 - 0.5, p0 + 0.6]). */
static inline PetscBool ItEstimateTrusted(PetscInt p0, PetscReal qh, PetscReal q2h, PetscReal q4h) {
  const PetscReal p = ItEstimateOrder(qh, q2h, q4h);

  if (ItEstimateIsRoundoff(qh, q2h)) return PETSC_TRUE;
  return (PetscBool)(!PetscIsInfOrNanReal(p) && p >= p0 - IT_ESTIMATE_ORDER_BELOW &&
                     p <= p0 + IT_ESTIMATE_ORDER_ABOVE);
}

/* A bar trusted: the order near p0 (ItEstimateTrusted), and the correction
   at least as large as the uncertainty beyond it (half-width at most twice
   |q_err|), so that its sign is known; a grid part and a time part that
   nearly cancel fail the second test: their sum is then decided by the
   parts' own errors, which no bar brackets. Without a time part the second
   test holds wherever the first does. Not collective. */
static inline PetscBool ItEstimateTrustedBar(PetscInt p0, PetscReal qh, PetscReal q2h,
                                             PetscReal q4h, PetscReal q4h_tight) {
  const PetscReal err = ItEstimateCorrection(p0, qh, q2h, q4h, q4h_tight);

  return (PetscBool)(ItEstimateTrusted(p0, qh, q2h, q4h) &&
                     ItEstimateUncertainty(p0, qh, q2h, q4h, q4h_tight) <= 2 * PetscAbsReal(err));
}

/* At the initial time (the same exact density on every grid): whether it is
   resolved, its diagnostics agreeing across the grids to round-off or
   converging at an observed order of at least IT_ESTIMATE_ORDER_MIN (1.5,
   whatever the operator's order: the density is given, not solved). */
static inline PetscBool ItEstimateInitialResolved(PetscReal qh, PetscReal q2h, PetscReal q4h) {
  const PetscReal p = ItEstimateOrder(qh, q2h, q4h);

  if (ItEstimateIsRoundoff(qh, q2h)) return PETSC_TRUE;
  return (PetscBool)(!PetscIsInfOrNanReal(p) && p >= IT_ESTIMATE_ORDER_MIN);
}

/* At the initial time, the half-width of q_h's error bar: the difference to
   the grid coarsened by 2 over 2^p - 1 at the observed order p, or that
   difference whole when p is not known or below IT_ESTIMATE_ORDER_MIN. */
static inline PetscReal ItEstimateInitialUncertainty(PetscReal qh, PetscReal q2h, PetscReal q4h) {
  const PetscReal p = ItEstimateOrder(qh, q2h, q4h), diff = PetscAbsReal(qh - q2h);

  if (PetscIsInfOrNanReal(p) || p < IT_ESTIMATE_ORDER_MIN) return diff;
  return diff / (PetscPowReal(2, p) - 1);
}

/* The initial density on `grid` (a coarsening of the fine one), made as the
   fine one was; the estimate checks it. Collective. */
typedef PetscErrorCode (*ItEstimateDensityFn)(void *ctx, ItGrid grid, Vec p);
/* The density of kl_to_stationary on `grid`, created (*p = NULL: none). Collective. */
typedef PetscErrorCode (*ItEstimateReferenceFn)(void *ctx, ItGrid grid, Vec *p);

/* The fine problem whose errors are estimated. */
typedef struct {
  ItGrid                grid;  /* the fine grid (every axis a multiple of 4) */
  ItModel               model; /* shared by every grid */
  ItDiag                diag;  /* the fine diagnostics: the columns */
  ItEstimateDensityFn   initial;
  ItEstimateReferenceFn reference;
  void                 *ctx;     /* handed to both callbacks */
  PetscReal             t_final; /* a transient's end: the coarse grids' faces are checked to it */
} ItEstimateProblem;

/* -error_estimate: the grids coarsened by 2 and 4 solved first, then combined
   with the fine rows into <q>_err and <q>_extrap columns and summary.json's
   "error_estimate". */
typedef struct _p_ItEstimate *ItEstimate;

PetscErrorCode ItEstimateFromOptions(MPI_Comm comm, PetscBool *on);
PetscErrorCode ItEstimateCreate(const ItEstimateProblem *problem, PetscBool transient,
                                PetscBool covariance, ItEstimate *est);
PetscErrorCode ItEstimateSolve(ItEstimate est, const ItSolveSettings *settings);
PetscErrorCode ItEstimateSetFineSeconds(ItEstimate est, PetscLogDouble seconds);
PetscErrorCode ItEstimateColumns(ItEstimate est, ItDiag diag, PetscInt *ncol,
                                 const char (**names)[64]);
PetscErrorCode ItEstimateRow(ItEstimate est, PetscReal t, const PetscReal values[],
                             const PetscReal **row);
PetscErrorCode ItEstimateSummary(ItEstimate est, ItDiag diag, json_t *root, json_t *final);
PetscErrorCode ItEstimateLevelRows(ItEstimate est, PetscInt level, PetscInt n, const PetscReal t[],
                                   PetscReal values[], PetscReal cov[]);
PetscInt       ItEstimateGetLevelCount(ItEstimate est);
PetscInt       ItEstimateGetOrder(ItEstimate est);
PetscErrorCode ItEstimateDestroy(ItEstimate *est);

/* Option names read here (src/model/option_names.c). */
extern const ItOptionName ItEstimateOptionNames[]; /* src/estimate/richardson.c */
