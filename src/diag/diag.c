/* The diagnostics of doc/physics.md §3 from a density p on the grid and the
   operator's face coefficients. Every face between cells L and R along axis i
   carries the solver's own current J = lo p_L - hi p_R (src/fp/fp.c), a jump
   process with forward and backward rates lo/h and hi/h. With the face force
   F h = ln(lo/hi) (= a h - Δ ln D, the discrete (A_i - ∂i D_i)/D_i) and the face
   affinity X = ln(lo p_L/(hi p_R)), the face contributions (times the cell
   volume, over h) are
     entropy_rate        J (ln p_L - ln p_R)
     entropy_flow_i      J F h
     entropy_production  J X          (>= 0 face by face: J and X share a sign)
     info_flow_X         J [ln(p/p_X)_R - ln(p/p_X)_L]   (faces along X)
     kl_rate             J [ln(p/p_ss)_R - ln(p/p_ss)_L]
   so Π = dS/dt + Σ Γ_i, σ_X = Π_X and dI/dt = İ_X + İ_Y hold exactly for the
   discrete dynamics, and each tends to its integral at second order. With odd
   variables (-parity) Π and Γ use the irreversible drift's coefficients.
   Faces where p or a rate vanishes (underflow) are skipped with their current.
   Marginals (every 1-D marginal, every pair's when there are three or more
   variables, and those of the sets X and Y) come from one reduction, the
   scalar sums from another. The faces are computed here at the evaluation
   time (a stationary density, t = inf, uses those of t = 0, as its solve),
   or are the solver's when the model does not depend on time
   (ItDiagShareFaces). */
#include <infotherm/diag.h>

#define IT_KB 1.380649e-23 /* J/K */
#define IT_MAX_PAIRS (IT_MAX_DIM * (IT_MAX_DIM - 1) / 2)
#define IT_MAX_MARGINALS (IT_MAX_DIM + IT_MAX_PAIRS + 2)
#define IT_NRATE (IT_MAX_DIM + 3) /* Π, Γ_i, İ_X, ν: the integrands of the *_cum columns */

static PetscLogEvent IT_DIAG_EVALUATE = 0; /* "ItDiagEvaluate" in -log_view */

/* A column of the table ItDiagColumnTable (below, the one list of the
   columns): its value from the evaluation's sums (sum[S_*]) for variable a
   (and b, a pair's second; -1 when not per variable). */
typedef PetscReal (*ItDiagValueFn)(ItDiag g, const PetscReal sum[], PetscInt a, PetscInt b);

/* When a column is there: always; with a reference density (-kl_reference);
   with two or more variables (joint); on a grid with a threshold_reset axis;
   both; with -temperature and -time_unit (SI); when the decoder applies (two
   or more variables and the first not in X). */
typedef enum {
  IT_COLUMN_ALWAYS,
  IT_COLUMN_REFERENCE,
  IT_COLUMN_JOINT,
  IT_COLUMN_THRESHOLD,
  IT_COLUMN_JOINT_THRESHOLD,
  IT_COLUMN_SI,
  IT_COLUMN_DECODER
} ItDiagWhen;

/* One column, or one per variable (%s in the name: the variable), or one per
   pair of variables a < b (%s_%s). */
typedef enum { IT_COLUMN_ONE, IT_COLUMN_PER_VARIABLE, IT_COLUMN_PER_PAIR } ItDiagEach;

typedef struct {
  const char   *name; /* doc/physics.md §3's, as a format of the variable names */
  ItDiagEach    each;
  ItDiagWhen    when;
  PetscBool     information; /* in bits under -bits, named <name>_bits */
  PetscBool     cumulative;  /* a time integral: set by ItDiagAccumulate, not ItDiagEvaluate */
  const char   *unit;        /* in nats (bits under -bits) or k_B; "time" is the model's */
  const char   *description;
  ItDiagValueFn value;
} ItDiagColumnDef;

/* A column of this ItDiag: its row of the table and its variables. */
typedef struct {
  const ItDiagColumnDef *def;
  PetscInt               a, b;
} ItDiagColumn;

/* A marginal over the axes of `mask`, stored at `offset`, laid out as grid's
   ItGridMarginalLayout/ItGridMarginalIndex say. */
typedef struct {
  PetscBool mask[IT_MAX_DIM];
  PetscInt  offset, size;
  PetscReal cell; /* the marginal's cell volume */
} ItMarginal;

struct _p_ItDiag {
  ItGrid    grid;
  ItModel   model;
  ItFaces   faces;
  PetscBool shared;  /* faces are the solver's (ItDiagShareFaces) */
  PetscBool checked; /* the faces at t = 0 have been checked (ItDiagAcquire) */
  PetscReal
      rate0[IT_MAX_DIM]; /* their largest rates (ItFacesGetMaxRates), for ItDiagGetStartRates */
  /* while ItDiagFlowSlopes runs the face sums: the ghosted L p, whose flows
     ItDiagFourthSums adds to S_SLOPE with p's (one pass of the model); else NULL */
  const PetscScalar *lpl;
  PetscInt           ncol;
  char (*name)[IT_DIAG_NAME_LEN]; /* column names, doc/physics.md §3 */
  ItDiagColumn *column;           /* what each column is (ItDiagColumnTable's row, variables) */
  PetscReal    *value;            /* values of the last evaluation */
  PetscReal     t;                /* time of the last evaluation */
  PetscInt      mass_column;      /* the column "mass" */
  PetscBool     decoder;          /* the column decoding_mse: its marginal moment is gathered */
  PetscReal     boundary_mass;    /* fraction of the mass in the outermost cells */
  PetscReal     wall_mass[2 * IT_MAX_DIM]; /* in the layer at each wall: lower, upper per axis */
  PetscReal     negative_mass;             /* the mass of the cells of negative value (<= 0) */
  /* positivity over every evaluation (summary.json): the most negative
     negative_mass and its time, and this rank's smallest cell value (reduced
     only when asked, ItDiagGetPositivity: no collective per step) */
  PetscReal negative_worst, negative_worst_t, min_local;
  /* options */
  PetscBool sensor[IT_MAX_DIM]; /* the set X (-sensor) */
  PetscInt  nsensor;
  PetscBool bits; /* information in bits (-bits) */
  PetscReal temperature, time_unit, atp_kT;
  /* ln of the reference density for kl_to_stationary (ghosted), if any */
  PetscReal *lnref;
  /* work: ghosted density and its logarithm; marginals (local part, then summed) */
  Vec p_local;
  Vec p_global, inflow; /* the evaluated density, and the reset's inflow R p into each cell */
  Vec shape;            /* a refractory compartment's re-injection per unit current (order 2) */
  /* a stationary density's re-entry map with a refractory time and two or more variables */
  ItRefractory reentry;
  PetscBool    moving_reset; /* the reset moves the other variables (ItDiagResetOther) */
  /* a transient's refractory compartment attached to the density (src/fp/refractory.c),
     else NULL: its re-injection rate and mass at the evaluated time */
  ItRefractory refractory;
  PetscReal    reinjection, held;
  PetscReal   *lnp;
  PetscInt     nmarginal, xmarginal, ymarginal, nmarg, offdec;
  ItMarginal   marginal[IT_MAX_MARGINALS];
  PetscReal   *marg_local, *marg, *lnmarg; /* lnmarg: ln of the X and Y marginals (else unset) */
  /* cumulative integrals over every evaluation in time (ItDiagAccumulate) */
  PetscBool have_prev;
  PetscReal t_prev, rate_prev[IT_NRATE], cum[IT_NRATE];
  /* the evaluation before t_prev on the same smooth stretch (no switch at
     t_prev): the *_cum integrals' third-order rule */
  PetscBool have_prev2;
  PetscReal t_prev2, rate_prev2[IT_NRATE];
  /* the integrands at the last evaluation: with the parameters at t (the left
     limit, which the columns report) and with their limit from above (the
     next interval's; different only at a switch of a held schedule) */
  PetscReal rate[IT_NRATE], rate_right[IT_NRATE];
  /* the time derivatives of the flows' integrands Γ_i at the last evaluation
     and at t_prev (ItDiagFlowSlopes; have_slope*: known), for the *_cum
     integrals' Hermite rule */
  PetscBool use_slopes;    /* ItDiagSetFlowSlopes */
  PetscBool slope_counted; /* ItDiagFlowSlopes' work vectors are in the memory ledger */
  PetscBool have_slope, have_slope_prev;
  PetscReal slope[IT_NRATE], slope_prev[IT_NRATE];
};

enum {
  S_MASS,
  S_PLNP,
  S_BOUNDARY,
  S_NEGATIVE,
  S_KL,
  S_ENTROPY_RATE,
  S_KL_RATE,
  S_INFO_X,
  S_INFO_Y,
  S_RATE,  /* the threshold current: the firing rate */
  S_RESET, /* the reset jumps' entropy production */
  S_REFRACTORY,
  S_EP,
  S_FLOW  = S_EP + IT_MAX_DIM,
  S_MOM1  = S_FLOW + IT_MAX_DIM,
  S_MOM2  = S_MOM1 + IT_MAX_DIM,
  S_WALL  = S_MOM2 + IT_MAX_DIM, /* the outermost layer at the lower (2a) and upper (2a + 1) wall */
  S_SLOPE = S_WALL + 2 * IT_MAX_DIM, /* dΓ_a/dt = Γ_a(L p) (ItDiagFlowSlopes) */
  S_COUNT = S_SLOPE + IT_MAX_DIM
};

/* Index of the pair (a, b), a < b, among the d (d - 1)/2 pairs. */
static inline PetscInt ItDiagPair(PetscInt d, PetscInt a, PetscInt b) {
  return a * d - a * (a + 1) / 2 + (b - a - 1);
}

/* Index of cell c in the marginal array. */
static inline PetscInt ItDiagMarginalIndex(const ItDiag g, const ItMarginal *m,
                                           const PetscInt c[]) {
  return m->offset + ItGridMarginalIndex(g->grid, m->mask, c);
}

/* A reset that moves the other variables too (a refractory time with two or
   more variables, doc/physics.md §8.2) changes the marginal of the set not
   holding its axis a: its jumps' information flow takes -ln p_other there
   besides ln p(other | own) (departures +K, arrivals -K times it). The term
   at cell c, 0 where the reset moves a alone or the marginal is empty. */
static inline PetscReal ItDiagResetOther(const ItDiag g, PetscInt a, const PetscInt c[]) {
  const ItMarginal *m;
  PetscInt          k;

  if (!g->moving_reset) return 0;
  m = &g->marginal[g->sensor[a] ? g->ymarginal : g->xmarginal];
  k = ItDiagMarginalIndex(g, m, c);
  return g->marg[k] > 0 ? g->lnmarg[k] : 0;
}

/* The option names of the diagnostics' options (src/model/option_names.c). */
const ItOptionName ItDiagOptionNames[] = {{"sensor", 0},      {"bits", IT_OPTION_SWITCH},
                                          {"temperature", 0}, {"time_unit", 0},
                                          {"atp_kT", 0},      {NULL, 0}};

/* -sensor, -bits, -temperature, -time_unit, -atp_kT. */
static PetscErrorCode ItDiagReadOptions(ItDiag g) {
  const ItGridInfo *info = ItGridGetInfo(g->grid);
  const PetscInt    d    = info->dim;
  char             *sensor[IT_MAX_DIM];
  PetscInt          nsensor = IT_MAX_DIM;
  PetscBool         set;
  MPI_Comm          comm = info->comm;

  PetscFunctionBegin;
  g->atp_kT = 20;
  for (PetscInt a = 0; a < d; a++) g->sensor[a] = (PetscBool)(a > 0);
  PetscOptionsBegin(comm, NULL, "Diagnostics", "ItDiag");
  PetscCall(PetscOptionsStringArray("-sensor",
                                    "the variables of the set X (default: all but the first)", NULL,
                                    sensor, &nsensor, &set));
  for (PetscInt a = 0; set && a < d; a++) g->sensor[a] = PETSC_FALSE;
  for (PetscInt k = 0; set && k < nsensor; k++) {
    PetscInt a;
    PetscCall(ItModelVariableIndex(g->model, "-sensor", sensor[k], &a));
    g->sensor[a] = PETSC_TRUE;
    PetscCall(PetscFree(sensor[k]));
  }
  PetscCall(PetscOptionsBool("-bits", "information in bits instead of nats", NULL, g->bits,
                             &g->bits, NULL));
  PetscCall(PetscOptionsReal("-temperature", "temperature in K, for heat rates in W and ATP/s",
                             NULL, g->temperature, &g->temperature, NULL));
  PetscCall(PetscOptionsReal("-time_unit",
                             "the model's time unit in seconds, for heat rates in W and ATP/s",
                             NULL, g->time_unit, &g->time_unit, NULL));
  PetscCall(PetscOptionsReal("-atp_kT", "free energy of one ATP in k_B T", NULL, g->atp_kT,
                             &g->atp_kT, NULL));
  PetscOptionsEnd();
  for (PetscInt a = 0; a < d; a++) g->nsensor += g->sensor[a];
  PetscCheck(d == 1 || (g->nsensor > 0 && g->nsensor < d), comm, PETSC_ERR_USER_INPUT,
             "-sensor must name some but not all of the variables");
  /* NaN fails these first (it would read as absent in the pairing below) */
  PetscCheck(g->temperature >= 0 && g->time_unit >= 0 && g->atp_kT > 0 &&
                 !PetscIsInfOrNanReal(g->temperature) && !PetscIsInfOrNanReal(g->time_unit) &&
                 !PetscIsInfOrNanReal(g->atp_kT),
             comm, PETSC_ERR_USER_INPUT,
             "-temperature and -time_unit must be positive and finite (or absent), -atp_kT "
             "positive and finite; got %.6g, %.6g, %.6g",
             (double)g->temperature, (double)g->time_unit, (double)g->atp_kT);
  PetscCheck((g->temperature > 0) == (g->time_unit > 0), comm, PETSC_ERR_USER_INPUT,
             "heat rates in W and ATP/s need both -temperature (K) and -time_unit (seconds per "
             "model time unit)");
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ItDiagCreateColumns(ItDiag g, PetscBool reference);

/* The marginal over the axes in the bit set `bits` (bit a: axis a), added to
   the list unless it is there; its index. */
static PetscInt ItDiagAddMarginal(ItDiag g, PetscInt bits) {
  ItMarginal *m = &g->marginal[g->nmarginal];

  for (PetscInt a = 0; a < IT_MAX_DIM; a++) m->mask[a] = (PetscBool)(bits >> a & 1);
  for (PetscInt k = 0; k < g->nmarginal; k++) {
    PetscBool same = PETSC_TRUE;
    for (PetscInt a = 0; a < IT_MAX_DIM; a++)
      same = (PetscBool)(same && g->marginal[k].mask[a] == m->mask[a]);
    if (same) return k;
  }
  (void)ItGridMarginalLayout(g->grid, m->mask, &m->size, &m->cell);
  m->offset = g->nmarg;
  g->nmarg += m->size;
  return g->nmarginal++;
}

/* Every 1-D marginal, every pair's from three variables on, those of X and Y,
   and the decoder's first moment of the first variable over the cells of X. */
static PetscErrorCode ItDiagCreateMarginals(ItDiag g) {
  const ItGridInfo *info  = ItGridGetInfo(g->grid);
  const PetscInt    d     = info->dim;
  PetscInt          xmask = 0;

  PetscFunctionBegin;
  for (PetscInt a = 0; a < d; a++) (void)ItDiagAddMarginal(g, 1 << a);
  for (PetscInt a = 0; d >= 3 && a < d; a++)
    for (PetscInt b = a + 1; b < d; b++) (void)ItDiagAddMarginal(g, 1 << a | 1 << b);
  for (PetscInt a = 0; a < d; a++)
    if (g->sensor[a]) xmask |= 1 << a;
  g->xmarginal = g->ymarginal = -1;
  if (d > 1) {
    g->xmarginal = ItDiagAddMarginal(g, xmask);
    g->ymarginal = ItDiagAddMarginal(g, ((1 << d) - 1) & ~xmask);
  }
  g->offdec = g->nmarg;
  if (g->decoder) g->nmarg += g->marginal[g->xmarginal].size;
  PetscCall(PetscMalloc3(g->nmarg, &g->marg_local, g->nmarg, &g->marg, g->nmarg, &g->lnmarg));
  ItMemoryAdd(IT_MEMORY_DIAGNOSTICS, 3.0 * (PetscReal)g->nmarg * sizeof(PetscReal));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ln of a ghosted density; PETSC_MIN_REAL where it is not positive. */
static void ItDiagLog(const PetscScalar *p, PetscInt n, PetscReal *lnp) {
  for (PetscInt k = 0; k < n; k++)
    lnp[k] = PetscRealPart(p[k]) > 0 ? PetscLogReal(PetscRealPart(p[k])) : PETSC_MIN_REAL;
}

/* ln of the reference density of kl_to_stationary, with its ghosts. */
static PetscErrorCode ItDiagSetReference(ItDiag g, Vec reference) {
  const PetscScalar *ra;
  PetscInt           ng;

  PetscFunctionBegin;
  const ItGridInfo *info = ItGridGetInfo(g->grid);
  PetscCall(DMGlobalToLocalBegin(info->da, reference, INSERT_VALUES, g->p_local));
  PetscCall(DMGlobalToLocalEnd(info->da, reference, INSERT_VALUES, g->p_local));
  PetscCall(VecGetLocalSize(g->p_local, &ng));
  PetscCall(PetscMalloc1(ng, &g->lnref));
  ItMemoryAdd(IT_MEMORY_DIAGNOSTICS, (PetscReal)ng * sizeof(PetscReal));
  PetscCall(VecGetArrayRead(g->p_local, &ra));
  ItDiagLog(ra, ng, g->lnref);
  PetscCall(VecRestoreArrayRead(g->p_local, &ra));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The evaluation's own arrays: the faces, the ghosted density and its
   logarithm (and the reset's inflow), unless held. The faces are computed at
   t = 0: a diffusion that is not positive on the box stops here, before any
   output. Under -fp_order 4 the first time only their Scharfetter–Gummel
   coefficients are (a set of ItFacesSetRatesOnly, whose checks are the
   same), and the weights of order 4 at the first evaluation
   (ItFacesRestoreOrder: at t = 0 the weights alone): `run` hands this set
   to its solver instead (ItDiagTakeFaces), whose faces at t = 0 then take
   their coefficients from it, and the solver's faces take their place
   when the model does not depend on time (ItDiagShareFaces), and a
   computation of the weights (in 4-D about as long as 20 products of the
   operator) is saved. Collective. */
static PetscErrorCode ItDiagAcquire(ItDiag g) {
  const ItGridInfo *info = ItGridGetInfo(g->grid);
  PetscInt          ng;

  PetscFunctionBegin;
  if (!g->faces && info->order_fp == 4 && !g->checked) {
    PetscCall(ItFacesCreate(g->grid, g->model, &g->faces));
    PetscCall(ItFacesSetRatesOnly(g->faces));
    PetscCall(ItFacesSetTime(g->faces, 0.0, NULL));
    PetscCall(ItFacesGetMaxRates(g->faces, g->rate0));
  } else if (!g->faces) {
    PetscCall(ItFacesCreate(g->grid, g->model, &g->faces));
    PetscCall(ItFacesSetTime(g->faces, 0.0, NULL));
    if (!g->checked) PetscCall(ItFacesGetMaxRates(g->faces, g->rate0));
  }
  g->checked = PETSC_TRUE;
  if (g->p_local) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(DMCreateLocalVector(info->da, &g->p_local));
  if (info->threshold) PetscCall(DMCreateGlobalVector(info->da, &g->inflow));
  PetscCall(VecGetLocalSize(g->p_local, &ng));
  PetscCall(PetscMalloc1(ng, &g->lnp));
  ItMemoryAdd(IT_MEMORY_DIAGNOSTICS, 2.0 * (PetscReal)ng * sizeof(PetscScalar)); /* p_local, lnp */
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Frees the evaluation's own arrays (ItDiagAcquire) until the next
   ItDiagEvaluate, which computes them again: the stationary command holds
   them not while it solves, when the solver's faces and Krylov vectors are
   the peak (2-D: 48 bytes per unknown). The reference's logarithm, the
   marginals and the cumulative integrals stay. Collective. */
PetscErrorCode ItDiagRelease(ItDiag g) {
  PetscInt ng;

  PetscFunctionBegin;
  if (!g->shared) PetscCall(ItFacesDestroy(&g->faces));
  if (!g->p_local) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(VecGetLocalSize(g->p_local, &ng));
  ItMemoryAdd(IT_MEMORY_DIAGNOSTICS, -2.0 * (PetscReal)ng * sizeof(PetscScalar));
  PetscCall(PetscFree(g->lnp));
  PetscCall(VecDestroy(&g->p_local));
  PetscCall(VecDestroy(&g->inflow));
  PetscCall(VecDestroy(&g->shape));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The largest rates along each axis (ItFacesGetMaxRates) of the faces that
   ItDiagCreate checked at t = 0: the Scharfetter–Gummel coefficients of the
   model at t = 0, what ItSolveCheckScales would compute again there.
   Not collective. */
PetscErrorCode ItDiagGetStartRates(ItDiag g, PetscReal rate[]) {
  PetscFunctionBegin;
  PetscCheck(g->checked, PETSC_COMM_SELF, PETSC_ERR_ORDER, "the faces at t = 0 are not checked");
  PetscCall(PetscArraycpy(rate, g->rate0, ItGridGetInfo(g->grid)->dim));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The diagnostics' own faces when they are the check's at t = 0 (their
   Scharfetter–Gummel coefficients alone, ItDiagAcquire), handed over to the
   caller, who destroys them: `run`'s solver takes them for its faces at t =
   0 (ItFPCreateWithFaces) instead of computing the coefficients again.
   NULL otherwise (the diagnostics keep what they hold). The diagnostics
   compute their own again at their next evaluation unless the solver's are
   shared before it (ItDiagShareFaces). Not collective. */
PetscErrorCode ItDiagTakeFaces(ItDiag g, ItFaces *faces) {
  PetscFunctionBegin;
  *faces = NULL;
  if (g->shared || !g->faces || !ItFacesIsRatesOnly(g->faces)) PetscFunctionReturn(PETSC_SUCCESS);
  *faces   = g->faces;
  g->faces = NULL;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The solver's faces (of the same grid and model) in place of the
   diagnostics' own while the solver holds them, when the model does not
   depend on time (the faces are then the same at every time, bit for bit):
   the diagnostics' own set is freed (2-D 32 bytes per unknown, 5-D 80).
   NULL: no faces held (the solver is about to free its own, or has not
   made them yet); the diagnostics compute their own again at their next
   evaluation, if it comes first. Elsewhere nothing changes. Not
   collective. */
PetscErrorCode ItDiagShareFaces(ItDiag g, ItFaces faces) {
  PetscFunctionBegin;
  if (faces && ItModelGetTimeDependence(g->model) != IT_TIME_INDEPENDENT)
    PetscFunctionReturn(PETSC_SUCCESS);
  if (!g->shared) PetscCall(ItFacesDestroy(&g->faces));
  g->faces  = faces;
  g->shared = (PetscBool)(faces != NULL);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode ItDiagCreate(ItGrid grid, ItModel model, Vec reference, ItDiag *diag) {
  ItDiag g;

  PetscFunctionBegin;
  if (!IT_DIAG_EVALUATE)
    PetscCall(PetscLogEventRegister("ItDiagEvaluate", DM_CLASSID, &IT_DIAG_EVALUATE));
  PetscCall(PetscNew(&g));
  g->grid             = grid;
  g->model            = model;
  g->t                = PETSC_MIN_REAL;
  g->negative_worst   = 0;
  g->negative_worst_t = (PetscReal)NAN;
  g->min_local        = PETSC_MAX_REAL;
  g->use_slopes       = PETSC_TRUE;
  PetscCall(ItDiagReadOptions(g));
  PetscCall(ItDiagCreateColumns(g, (PetscBool)(reference != NULL)));
  PetscCall(ItDiagCreateMarginals(g));
  PetscCall(ItDiagAcquire(g));
  if (reference) PetscCall(ItDiagSetReference(g, reference));
  *diag = g;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Every marginal's local sums (and the decoder's first moment) from the
   ghosted density pl, a row of owned cells along the storage's fastest axis
   a0 at a time: a marginal's index is linear in the cell (its stride along
   each axis of its set, 0 along the others), so each row adds from a base
   index by a fixed step; the cells and their order are ItGridForOwned's. */
static void ItDiagMarginalRows(ItDiag g, const PetscScalar *pl, PetscReal centre) {
  ItGrid         grid = g->grid;
  const PetscInt d = ItGridGetInfo(grid)->dim, a0 = ItGridGetInfo(grid)->order[0],
                 n0 = ItGridGetInfo(grid)->xm[a0], nm = g->nmarginal;
  const PetscInt dec = g->decoder ? g->xmarginal : -1;
  PetscInt       stride[IT_MAX_MARGINALS][IT_MAX_DIM], base[IT_MAX_MARGINALS], c[IT_MAX_DIM];

  for (PetscInt k = 0; k < nm; k++) {
    PetscInt s = 1;
    for (PetscInt a = 0; a < d; a++) {
      stride[k][a] = g->marginal[k].mask[a] ? s : 0;
      if (g->marginal[k].mask[a]) s *= ItGridGetInfo(grid)->n[a];
    }
  }
  (void)ItGridFirstOwned(grid, c);
  for (PetscInt row = 0; row < ItGridGetInfo(grid)->nlocal / n0; row++) {
    const PetscInt o = ItGridGhostedOffset(grid, c); /* a0 is the ghosted array's fastest axis */
    for (PetscInt k = 0; k < nm; k++) {
      base[k] = g->marginal[k].offset;
      for (PetscInt a = 0; a < d; a++) base[k] += c[a] * stride[k][a];
    }
    for (PetscInt i = 0; i < n0; i++) {
      const PetscReal pc = PetscRealPart(pl[o + i]);
      for (PetscInt k = 0; k < nm; k++) g->marg_local[base[k] + i * stride[k][a0]] += pc;
      if (dec >= 0) {
        const PetscInt x0 = a0 == 0 ? c[0] + i : c[0];
        g->marg_local[g->offdec + base[dec] + i * stride[dec][a0] - g->marginal[dec].offset] +=
            (ItGridCoordinate(grid, 0, x0) - centre) * pc;
      }
    }
    c[a0] = ItGridGetInfo(grid)->xs[a0] + n0 - 1; /* the next row */
    ItGridNextOwned(grid, c);
  }
}

/* Every marginal of the ghosted density pl, summed over the ranks (one reduction). */
static PetscErrorCode ItDiagMarginals(ItDiag g, const PetscScalar *pl) {
  ItGrid            grid   = g->grid;
  const ItGridInfo *info   = ItGridGetInfo(grid);
  const PetscReal   centre = 0.5 * (info->lo[0] + info->hi[0]);

  PetscFunctionBegin;
  PetscCall(PetscArrayzero(g->marg_local, g->nmarg));
  if (ItGridGetInfo(grid)->nlocal > 0) ItDiagMarginalRows(g, pl, centre);
  PetscCall(ItGridSum(grid, g->nmarg, g->marg_local, g->marg));
  for (PetscInt k = 0; k < g->nmarginal; k++) {
    const ItMarginal *m = &g->marginal[k];
    for (PetscInt j = 0; j < m->size; j++) g->marg[m->offset + j] *= info->cell_volume / m->cell;
  }
  if (g->decoder)
    for (PetscInt k = g->offdec; k < g->nmarg; k++)
      g->marg[k] *= info->cell_volume / g->marginal[g->xmarginal].cell;
  /* ln p_X and ln p_Y once per cell of theirs, not twice per face */
  for (PetscInt j = 0; info->dim > 1 && j < 2; j++) {
    const ItMarginal *m = &g->marginal[j ? g->ymarginal : g->xmarginal];
    ItDiagLog(&g->marg[m->offset], m->size, &g->lnmarg[m->offset]);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Mass (and that of cells of negative value), -Σ p ln p, KL, moments about the box centre
   and the mass at the walls. */
static void ItDiagCellSums(ItDiag g, const PetscScalar *pl, PetscReal local[]) {
  ItGrid            grid = g->grid;
  const ItGridInfo *info = ItGridGetInfo(grid);

  ItGridForOwned(grid, c, l) {
    const PetscInt  o    = ItGridGhostedOffset(grid, c);
    const PetscReal pc   = PetscRealPart(pl[o]);
    PetscBool       wall = PETSC_FALSE;
    (void)l;
    local[S_MASS] += pc;
    if (pc < 0) local[S_NEGATIVE] += pc;
    if (pc < g->min_local) g->min_local = pc;
    if (pc > 0) local[S_PLNP] += pc * g->lnp[o];
    if (pc > 0 && g->lnref && g->lnref[o] > PETSC_MIN_REAL)
      local[S_KL] += pc * (g->lnp[o] - g->lnref[o]);
    for (PetscInt a = 0; a < info->dim; a++) {
      const PetscReal x = ItGridCoordinate(grid, a, c[a]) - 0.5 * (info->lo[a] + info->hi[a]);
      local[S_MOM1 + a] += x * pc;
      local[S_MOM2 + a] += x * x * pc;
      /* walls only: a circle has none, a threshold's density vanishes there by itself */
      const PetscBool wall_lo = (PetscBool)(c[a] == 0 && info->boundary[a] != IT_BOUNDARY_PERIODIC);
      const PetscBool wall_hi =
          (PetscBool)(c[a] == info->n[a] - 1 && info->boundary[a] == IT_BOUNDARY_WALL);
      if (wall_lo) local[S_WALL + 2 * a] += pc;
      if (wall_hi) local[S_WALL + 2 * a + 1] += pc;
      if (wall_lo || wall_hi) wall = PETSC_TRUE;
    }
    if (wall) local[S_BOUNDARY] += pc;
  }
}

/* What the face loop needs of axis a, fixed over the cells: the face
   coefficients; the high neighbour's step in the ghosted array; the face
   arrays' strides (the owned box with one more face along a, in storage
   order: ItFPFaceOffset); and the step along a of the marginal of X or Y
   (the set holding a), whose index is linear in the cell. */
typedef struct {
  const PetscReal *lo, *hi, *ilo, *ihi;
  PetscInt         ghost, face[IT_MAX_DIM], marginal;
} ItDiagAxis;

static void ItDiagAxisSetUp(ItDiag g, PetscInt a, ItDiagAxis *x) {
  ItGrid   grid = g->grid;
  PetscInt c[IT_MAX_DIM], stride = 1;

  (void)ItFacesGetAxis(g->faces, a, &x->lo, &x->hi, &x->ilo, &x->ihi);
  for (PetscInt b = 0; b < IT_MAX_DIM; b++) c[b] = ItGridGetInfo(grid)->xs[b];
  x->ghost = ItGridGhostedOffset(grid, c);
  c[a]++;
  x->ghost = ItGridGhostedOffset(grid, c) - x->ghost;
  for (PetscInt k = 0; k < IT_MAX_DIM; k++) { /* storage order: ItFPFaceOffset */
    const PetscInt b = ItGridGetInfo(grid)->order[k];
    x->face[b]       = stride;
    stride *= ItGridGetInfo(grid)->xm[b] + (b == a);
  }
  x->marginal = 0;
  if (ItGridGetInfo(grid)->dim > 1) {
    const ItMarginal *m = &g->marginal[g->sensor[a] ? g->xmarginal : g->ymarginal];
    x->marginal         = 1;
    for (PetscInt b = 0; b < a; b++)
      if (m->mask[b]) x->marginal *= ItGridGetInfo(grid)->n[b];
  }
}

/* The sums over the face between cell c (ghosted offset o, owned-box
   offsets dc, index k of the marginal of the set holding a) and its high
   neighbour along axis a: see the file's opening comment. */
static inline void ItDiagFace(ItDiag g, PetscInt a, const ItDiagAxis *x, const PetscInt c[],
                              const PetscInt dc[], PetscInt o, PetscInt k, const PetscScalar *pl,
                              PetscReal local[]) {
  ItGrid          grid = g->grid;
  const PetscInt  r = o + x->ghost, d = ItGridGetInfo(grid)->dim;
  const PetscReal inv_h = 1 / ItGridGetInfo(grid)->h[a], pc = PetscRealPart(pl[o]),
                  pr = PetscRealPart(pl[r]);
  PetscReal px_l = 0, px_r = 0, lnpx_l = 0, lnpx_r = 0, J;
  PetscInt  off = x->face[a];

  for (PetscInt b = 0; b < d; b++) off += dc[b] * x->face[b];
  if (d > 1) { /* the marginal of X (or Y) on both sides; a periodic axis' wrapping face */
    const PetscInt kr =
        k + (c[a] + 1 < ItGridGetInfo(grid)->n[a] ? x->marginal
                                                  : -(ItGridGetInfo(grid)->n[a] - 1) * x->marginal);
    px_l   = g->marg[k];
    lnpx_l = g->lnmarg[k];
    px_r   = g->marg[kr];
    lnpx_r = g->lnmarg[kr];
  }
  if (!(pc > 0 && pr > 0 && x->lo[off] > 0 && x->hi[off] > 0)) return; /* underflow: skipped */
  J = x->lo[off] * pc - x->hi[off] * pr;
  local[S_ENTROPY_RATE] += J * (g->lnp[o] - g->lnp[r]) * inv_h;
  if (x->ilo[off] > 0 && x->ihi[off] > 0) {
    const PetscReal Ji = x->ilo[off] * pc - x->ihi[off] * pr,
                    Fh = PetscLogReal(x->ilo[off] / x->ihi[off]);
    local[S_FLOW + a] += Ji * Fh * inv_h;
    local[S_EP + a] += Ji * (Fh + g->lnp[o] - g->lnp[r]) * inv_h;
  }
  if (d > 1 && px_l > 0 && px_r > 0)
    local[g->sensor[a] ? S_INFO_X : S_INFO_Y] +=
        J * ((g->lnp[r] - lnpx_r) - (g->lnp[o] - lnpx_l)) * inv_h;
  if (g->lnref && g->lnref[o] > PETSC_MIN_REAL && g->lnref[r] > PETSC_MIN_REAL)
    local[S_KL_RATE] += J * ((g->lnp[r] - g->lnref[r]) - (g->lnp[o] - g->lnref[o])) * inv_h;
}

/* The threshold face past the last cell c (ghosted offset o) along axis a:
   its current K leaves the system there and re-enters at the reset
   (ItDiagResetSums adds the arrival). Its half cell's medium entropy
   K ln(lo/hi) = K A h/(2D) joins Γ_a and Π_a; the departure's system entropy
   joins dS/dt and the reset's Π (doc/physics.md §8.3). */
static void ItDiagThresholdFace(ItDiag g, PetscInt a, PetscInt c[], PetscInt o,
                                const PetscScalar *pl, PetscReal local[]) {
  ItGrid            grid = g->grid;
  const ItGridInfo *info = ItGridGetInfo(grid);
  const PetscReal  *lo, *hi, inv_h = 1 / info->h[a], pc = PetscRealPart(pl[o]);
  PetscInt          off;
  PetscReal         K, phi;

  (void)ItFacesGetAxis(g->faces, a, &lo, &hi, NULL, NULL);
  c[a]++;
  off = ItFPFaceOffset(grid, a, c);
  c[a]--;
  K = lo[off] * pc * inv_h;
  local[S_RATE] += K;
  if (!g->refractory) local[S_REFRACTORY] += K * info->refractory[a]; /* stationary: ν τ_ref */
  if (!(pc > 0 && lo[off] > 0 && hi[off] > 0)) return;
  local[S_FLOW + a] += K * PetscLogReal(lo[off] / hi[off]);
  local[S_EP + a] += K * PetscLogReal(lo[off] / hi[off]);
  local[S_ENTROPY_RATE] += K * g->lnp[o];
  local[S_RESET] += K * g->lnp[o];
  if (info->dim > 1) {
    const ItMarginal *m = &g->marginal[g->sensor[a] ? g->xmarginal : g->ymarginal];
    const PetscInt    k = ItDiagMarginalIndex(g, m, c);
    phi                 = g->marg[k] > 0 ? g->lnp[o] - g->lnmarg[k] : 0;
    local[g->sensor[a] ? S_INFO_X : S_INFO_Y] -= K * (phi - ItDiagResetOther(g, a, c));
  }
  if (g->lnref && g->lnref[o] > PETSC_MIN_REAL) local[S_KL_RATE] -= K * (g->lnp[o] - g->lnref[o]);
}

/* The threshold past the last cell c (ghosted offset o) along axis a under
   -fp_order 4: the last cell's divergence already holds the departure K, and
   the cell-centred flows reach the threshold, so only the rate, the
   refractory mass and the departure's system entropy, moved from Π_a to the
   reset's Π (doc/physics.md §8.3), are added here. loss: the threshold
   closure's loss rate at the last cells (src/fp/closure.c), or NULL (the
   Scharfetter–Gummel half cell's), l the cell's owned index. */
static void ItDiagThresholdFourth(ItDiag g, PetscInt a, PetscInt c[], PetscInt o, PetscInt l,
                                  const PetscScalar *loss, const PetscScalar *pl,
                                  PetscReal local[]) {
  const ItGridInfo *info = ItGridGetInfo(g->grid);
  const PetscReal  *lo, pc = PetscRealPart(pl[o]);
  PetscInt          off;
  PetscReal         K;

  (void)ItFacesGetAxis(g->faces, a, &lo, NULL, NULL, NULL);
  c[a]++;
  off = ItFPFaceOffset(g->grid, a, c);
  c[a]--;
  K = loss ? PetscRealPart(loss[l]) : lo[off] * pc / info->h[a];
  local[S_RATE] += K;
  if (!g->refractory) local[S_REFRACTORY] += K * info->refractory[a]; /* stationary: ν τ_ref */
  if (info->dim > 1) local[g->sensor[a] ? S_INFO_X : S_INFO_Y] += K * ItDiagResetOther(g, a, c);
  if (!(pc > 0)) return;
  local[S_EP + a] -= K * g->lnp[o];
  local[S_RESET] += K * g->lnp[o];
}

/* The arrivals of the reset jumps: cell c gains (R p)_c (the inflow, every
   threshold_reset axis' share), whose terms are those of the departures
   (ItDiagThresholdFace) with the opposite sign. The information terms use
   the marginal of the set holding the threshold_reset axes' first. */
static PetscErrorCode ItDiagResetSums(ItDiag g, const PetscScalar *pl, PetscReal local[]) {
  ItGrid             grid = g->grid;
  const ItGridInfo  *info = ItGridGetInfo(grid);
  const PetscScalar *in;
  PetscInt           axis = 0;

  PetscFunctionBegin;
  if (!g->inflow) PetscFunctionReturn(PETSC_SUCCESS);
  while (info->boundary[axis] != IT_BOUNDARY_THRESHOLD_RESET) axis++;
  if (g->refractory) { /* the compartment re-injects what crossed τ_ref before */
    ItFPClosure cl = ItFacesGetClosure(g->faces);
    if (!cl && !g->shape) PetscCall(VecDuplicate(g->inflow, &g->shape));
    if (!cl) PetscCall(ItRefractoryResetVector(g->refractory, grid, g->shape));
    PetscCall(VecSet(g->inflow, 0));
    /* -fp_order 4: the closure's shape (src/fp/closure.c) */
    PetscCall(ItRefractorySource(g->refractory, grid, cl ? ItFPClosureGetShape(cl) : g->shape, g->t,
                                 1.0, g->inflow));
  } else if (info->dim > 1 && info->refractory[axis] > 0) {
    /* the stationary state: the exit field carried over the refractory time (§8.2) */
    if (!g->reentry) PetscCall(ItRefractoryCreate(grid, g->model, &g->reentry));
    PetscCall(VecSet(g->inflow, 0));
    PetscCall(
        ItRefractoryStationaryAdd(g->reentry, g->faces, grid, g->p_global, 0.0, 1.0, g->inflow));
  } else
    PetscCall(MatMult(ItFacesGetReset(g->faces), g->p_global, g->inflow));
  PetscCall(VecGetArrayRead(g->inflow, &in));
  ItGridForOwned(grid, c, l) {
    const PetscInt  o = ItGridGhostedOffset(grid, c);
    const PetscReal K = PetscRealPart(in[l]);
    if (K == 0 || !(PetscRealPart(pl[o]) > 0)) continue;
    local[S_ENTROPY_RATE] -= K * g->lnp[o];
    local[S_RESET] -= K * g->lnp[o];
    if (info->dim > 1) {
      const ItMarginal *m = &g->marginal[g->sensor[axis] ? g->xmarginal : g->ymarginal];
      const PetscInt    k = ItDiagMarginalIndex(g, m, c);
      if (g->marg[k] > 0)
        local[g->sensor[axis] ? S_INFO_X : S_INFO_Y] +=
            K * (g->lnp[o] - g->lnmarg[k] - ItDiagResetOther(g, axis, c));
    }
    if (g->lnref && g->lnref[o] > PETSC_MIN_REAL) local[S_KL_RATE] += K * (g->lnp[o] - g->lnref[o]);
  }
  PetscCall(VecRestoreArrayRead(g->inflow, &in));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Every face on the high side of an owned cell but the walls: the interior
   ones, a periodic axis' wrapping one, a threshold. One pass over the owned
   cells: each cell's ghosted offset and marginal indices once, its faces'
   offsets from the axes' strides (ItDiagAxis). */
static void ItDiagFaceSums(ItDiag g, const PetscScalar *pl, PetscReal local[]) {
  ItGrid     grid = g->grid;
  ItDiagAxis axis[IT_MAX_DIM];

  for (PetscInt a = 0; a < ItGridGetInfo(grid)->dim; a++) ItDiagAxisSetUp(g, a, &axis[a]);
  ItGridForOwned(grid, c, l) {
    const PetscInt o = ItGridGhostedOffset(grid, c);
    PetscInt       dc[IT_MAX_DIM], kx = 0, ky = 0;
    (void)l;
    for (PetscInt b = 0; b < ItGridGetInfo(grid)->dim; b++)
      dc[b] = c[b] - ItGridGetInfo(grid)->xs[b];
    if (ItGridGetInfo(grid)->dim > 1) {
      kx = ItDiagMarginalIndex(g, &g->marginal[g->xmarginal], c);
      ky = ItDiagMarginalIndex(g, &g->marginal[g->ymarginal], c);
    }
    for (PetscInt a = 0; a < ItGridGetInfo(grid)->dim; a++) {
      if (c[a] == ItGridGetInfo(grid)->n[a] - 1 &&
          ItGridGetInfo(grid)->boundary[a] == IT_BOUNDARY_THRESHOLD_RESET)
        ItDiagThresholdFace(g, a, c, o, pl, local);
      if (c[a] == ItGridGetInfo(grid)->n[a] - 1 &&
          ItGridGetInfo(grid)->boundary[a] != IT_BOUNDARY_PERIODIC)
        continue;
      ItDiagFace(g, a, &axis[a], c, dc, o, g->sensor[a] ? kx : ky, pl, local);
    }
  }
}

/* The sums of the face terms under -fp_order 4, from the
   fourth-order operator's parts L_a along each axis: summing by parts, a face
   sum Σ J (φ_R - φ_L) / h is Σ_c φ_c (L_a p)_c (the walls carry no current),
   so dS/dt = -Σ ln p L p, İ_X = Σ_{a in X} ln(p/p_X) L_a p and the KL rate are
   the discrete dynamics' own, at fourth order; the flows Γ_a = ∫ J_a F_a from
   the cell-centred current and force (ItFacesCellFlows), and
   Π_a = Γ_a - Σ ln p L_a p (J_a^2/(D_a p) = J_a (F_a - ∂a ln p)), so that
   Π = dS/dt + Σ Γ_a holds exactly. With odd variables (doc/physics.md §3b)
   Γ_a and Π_a use the irreversible currents (ItFacesIrreversibleSums: Π_a =
   Γ_a - Σ ln p L^irr_a p, L^irr_a built as L_a with the irreversible drift),
   and Π = dS/dt + Σ Γ_a no longer holds term by term (the reversible current
   carries no entropy). Cells where p <= 0 are left out. */
static PetscErrorCode ItDiagFourthSums(ItDiag g, const PetscScalar *pl, PetscReal local[]) {
  ItGrid            grid = g->grid;
  const ItGridInfo *info = ItGridGetInfo(grid);
  const PetscBool   irr  = ItFacesIrreversible(g->faces); /* odd variables: J^irr (§3b) */
  /* the threshold closures' share of the divergence and their loss (src/fp/closure.c) */
  ItFPClosure        cl             = ItFacesGetClosure(g->faces);
  Vec                cv[IT_MAX_DIM] = {NULL}, lv[IT_MAX_DIM] = {NULL};
  const PetscScalar *cdiv[IT_MAX_DIM] = {NULL}, *loss[IT_MAX_DIM] = {NULL};

  PetscFunctionBegin;
  for (PetscInt a = 0; cl && a < info->dim; a++) {
    if (info->boundary[a] != IT_BOUNDARY_THRESHOLD_RESET) continue;
    PetscCall(DMGetGlobalVector(info->da, &cv[a]));
    PetscCall(DMGetGlobalVector(info->da, &lv[a]));
    PetscCall(ItFPClosureAxis(cl, a, g->p_global, cv[a], lv[a]));
    PetscCall(VecGetArrayRead(cv[a], &cdiv[a]));
    PetscCall(VecGetArrayRead(lv[a], &loss[a]));
  }
  if (irr)
    PetscCall(ItFacesIrreversibleSums(g->faces, pl, g->lnp, &local[S_FLOW], &local[S_EP]));
  else if (g->lpl)
    PetscCall(ItFacesCellFlowsPair(g->faces, pl, g->lpl, &local[S_FLOW], &local[S_SLOPE]));
  else
    PetscCall(ItFacesCellFlows(g->faces, pl, &local[S_FLOW]));
  ItGridForOwned(grid, c, l) {
    const PetscInt o = ItGridGhostedOffset(grid, c);
    for (PetscInt a = 0; a < info->dim; a++)
      if (c[a] == info->n[a] - 1 && info->boundary[a] == IT_BOUNDARY_THRESHOLD_RESET)
        ItDiagThresholdFourth(g, a, c, o, l, loss[a], pl, local);
    if (g->lnp[o] == PETSC_MIN_REAL) continue;
    for (PetscInt a = 0; a < info->dim; a++) {
      const PetscReal div = PetscRealPart(ItFacesAxisDivergence(g->faces, a, c, pl)) +
                            (cdiv[a] ? PetscRealPart(cdiv[a][l]) : 0);
      local[S_ENTROPY_RATE] -= div * g->lnp[o];
      if (!irr) local[S_EP + a] -= div * g->lnp[o];
      if (info->dim > 1) {
        const ItMarginal *m = &g->marginal[g->sensor[a] ? g->xmarginal : g->ymarginal];
        const PetscInt    k = ItDiagMarginalIndex(g, m, c);
        if (g->marg[k] > 0)
          local[g->sensor[a] ? S_INFO_X : S_INFO_Y] += div * (g->lnp[o] - g->lnmarg[k]);
      }
      if (g->lnref && g->lnref[o] > PETSC_MIN_REAL)
        local[S_KL_RATE] += div * (g->lnp[o] - g->lnref[o]);
    }
  }
  for (PetscInt a = 0; a < info->dim; a++) local[S_EP + a] += local[S_FLOW + a];
  for (PetscInt a = 0; a < info->dim; a++) {
    if (!cv[a]) continue;
    PetscCall(VecRestoreArrayRead(cv[a], &cdiv[a]));
    PetscCall(VecRestoreArrayRead(lv[a], &loss[a]));
    PetscCall(DMRestoreGlobalVector(info->da, &cv[a]));
    PetscCall(DMRestoreGlobalVector(info->da, &lv[a]));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The face terms, of the operator's order. */
static PetscErrorCode ItDiagSums(ItDiag g, const PetscScalar *pl, PetscReal local[]) {
  const ItGridInfo *info  = ItGridGetInfo(g->grid);
  PetscBool         walls = PETSC_TRUE;

  PetscFunctionBegin;
  for (PetscInt a = 0; a < info->dim; a++)
    walls = (PetscBool)(walls && info->boundary[a] == IT_BOUNDARY_WALL);
  /* odd variables' irreversible currents at fourth order: walls only
     (ItFacesIrreversibleSums); with other boundaries the second-order sums */
  if (ItFacesGetOrder(g->faces) == 4 && (walls || !ItFacesIrreversible(g->faces)))
    PetscCall(ItDiagFourthSums(g, pl, local));
  else
    ItDiagFaceSums(g, pl, local);
  PetscCall(ItDiagResetSums(g, pl, local));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The differential entropy of marginal k. */
static PetscReal ItDiagEntropyOf(const ItDiag g, PetscInt k) {
  const ItMarginal *m = &g->marginal[k];

  return ItGridEntropyOf(&g->marg[m->offset], m->size, m->cell);
}

/* E[(v - E[v|X])^2] = E[v^2] - ∫ (∫ v p)^2 / p_X over X, about the box centre.
   Slices whose p_X is at round-off level against the largest are skipped:
   there the solver's round-off in p (of either sign) makes (∫ v p)^2 / p_X
   unbounded (3e-3 of decoding_mse on a 32^3 steady state), while their true
   share is below 1e-13 of it. */
static PetscReal ItDiagDecodingMSE(ItDiag g, const PetscReal sum[]) {
  const ItMarginal *x         = &g->marginal[g->xmarginal];
  PetscReal         explained = 0, pmax = 0;

  for (PetscInt k = 0; k < x->size; k++) pmax = PetscMax(pmax, g->marg[x->offset + k]);
  for (PetscInt k = 0; k < x->size; k++) {
    const PetscReal px = g->marg[x->offset + k], m1 = g->marg[g->offdec + k];
    if (px > 1e-13 * pmax) explained += m1 * m1 / px;
  }
  return sum[S_MOM2 + 0] / sum[S_MASS] - explained * x->cell / sum[S_MASS];
}

/* The mass checks of an evaluation: the mass in the outermost cells and at
   each wall, and that of the cells of negative value (the worst so far). */
static void ItDiagMassChecks(ItDiag g, const PetscReal sum[]) {
  const ItGridInfo *info = ItGridGetInfo(g->grid);
  const PetscReal   mass = sum[S_MASS];

  g->boundary_mass = sum[S_BOUNDARY] / mass;
  for (PetscInt k = 0; k < 2 * info->dim; k++) g->wall_mass[k] = sum[S_WALL + k] / mass;
  g->negative_mass = sum[S_NEGATIVE];
  if (sum[S_NEGATIVE] < g->negative_worst) {
    g->negative_worst   = sum[S_NEGATIVE];
    g->negative_worst_t = g->t;
  }
}

/* The unit of information: 1 (nats), or 1/ln 2 under -bits. */
static PetscReal ItDiagInfoUnit(ItDiag g) {
  return g->bits ? 1 / PetscLogReal(2.0) : 1;
}

/* The columns' values (ItDiagValueFn), in the table's order. */
static PetscReal ItDiagMass(ItDiag g, const PetscReal s[], PetscInt a, PetscInt b) {
  return (void)g, (void)a, (void)b, s[S_MASS];
}
static PetscReal ItDiagEntropy(ItDiag g, const PetscReal s[], PetscInt a, PetscInt b) {
  return (void)a, (void)b, -s[S_PLNP] * ItDiagInfoUnit(g);
}
static PetscReal ItDiagEntropyVar(ItDiag g, const PetscReal s[], PetscInt a, PetscInt b) {
  return (void)s, (void)b, ItDiagEntropyOf(g, a) * ItDiagInfoUnit(g);
}
static PetscReal ItDiagMean(ItDiag g, const PetscReal s[], PetscInt a, PetscInt b) {
  const ItGridInfo *info = ItGridGetInfo(g->grid);
  return (void)b, s[S_MOM1 + a] / s[S_MASS] + 0.5 * (info->lo[a] + info->hi[a]);
}
static PetscReal ItDiagVar(ItDiag g, const PetscReal s[], PetscInt a, PetscInt b) {
  const PetscReal mean = s[S_MOM1 + a] / s[S_MASS];
  return (void)g, (void)b, s[S_MOM2 + a] / s[S_MASS] - mean * mean;
}
static PetscReal ItDiagKL(ItDiag g, const PetscReal s[], PetscInt a, PetscInt b) {
  return (void)a, (void)b, s[S_KL] * ItDiagInfoUnit(g);
}
static PetscReal ItDiagKLRate(ItDiag g, const PetscReal s[], PetscInt a, PetscInt b) {
  return (void)a, (void)b, s[S_KL_RATE] * ItDiagInfoUnit(g);
}
static PetscReal ItDiagMutualInformation(ItDiag g, const PetscReal s[], PetscInt a, PetscInt b) {
  return (void)a, (void)b,
         (ItDiagEntropyOf(g, g->xmarginal) + ItDiagEntropyOf(g, g->ymarginal) - -s[S_PLNP]) *
             ItDiagInfoUnit(g);
}
/* with two variables the pair is the joint; with more, its 2-D marginal */
static PetscReal ItDiagPairInformation(ItDiag g, const PetscReal s[], PetscInt a, PetscInt b) {
  const PetscInt d = ItGridGetInfo(g->grid)->dim;
  return (ItDiagEntropyOf(g, a) + ItDiagEntropyOf(g, b) -
          (d == 2 ? -s[S_PLNP] : ItDiagEntropyOf(g, ItDiagAddMarginal(g, 1 << a | 1 << b)))) *
         ItDiagInfoUnit(g);
}
static PetscReal ItDiagFiringRate(ItDiag g, const PetscReal s[], PetscInt a, PetscInt b) {
  return (void)g, (void)a, (void)b, s[S_RATE];
}
static PetscReal ItDiagRefractoryMass(ItDiag g, const PetscReal s[], PetscInt a, PetscInt b) {
  return (void)a, (void)b, g->refractory ? g->held : s[S_REFRACTORY];
}
static PetscReal ItDiagEntropyRate(ItDiag g, const PetscReal s[], PetscInt a, PetscInt b) {
  return (void)a, (void)b, s[S_ENTROPY_RATE] * ItDiagInfoUnit(g);
}
/* Π = Σ_i Π_i (+ the reset's), summed in this order */
static PetscReal ItDiagProduction(ItDiag g, const PetscReal s[], PetscInt a, PetscInt b) {
  const ItGridInfo *info = ItGridGetInfo(g->grid);
  PetscReal         ep   = 0;

  (void)a, (void)b;
  for (PetscInt i = 0; i < info->dim; i++) ep += s[S_EP + i];
  if (info->threshold) ep += s[S_RESET];
  return ep;
}
static PetscReal ItDiagProductionVar(ItDiag g, const PetscReal s[], PetscInt a, PetscInt b) {
  return (void)g, (void)b, s[S_EP + a];
}
static PetscReal ItDiagProductionReset(ItDiag g, const PetscReal s[], PetscInt a, PetscInt b) {
  return (void)g, (void)a, (void)b, s[S_RESET];
}
static PetscReal ItDiagFlow(ItDiag g, const PetscReal s[], PetscInt a, PetscInt b) {
  return (void)g, (void)b, s[S_FLOW + a];
}
static PetscReal ItDiagHeatW(ItDiag g, const PetscReal s[], PetscInt a, PetscInt b) {
  return (void)b, s[S_FLOW + a] * IT_KB * g->temperature / g->time_unit;
}
static PetscReal ItDiagHeatATP(ItDiag g, const PetscReal s[], PetscInt a, PetscInt b) {
  return (void)b, s[S_FLOW + a] / g->atp_kT / g->time_unit;
}
static PetscReal ItDiagInfoFlowX(ItDiag g, const PetscReal s[], PetscInt a, PetscInt b) {
  return (void)a, (void)b, s[S_INFO_X] * ItDiagInfoUnit(g);
}
static PetscReal ItDiagInfoFlowY(ItDiag g, const PetscReal s[], PetscInt a, PetscInt b) {
  return (void)a, (void)b, s[S_INFO_Y] * ItDiagInfoUnit(g);
}
static PetscReal ItDiagDecoding(ItDiag g, const PetscReal s[], PetscInt a, PetscInt b) {
  return (void)a, (void)b, ItDiagDecodingMSE(g, s);
}
/* Σ_{i∈X} Γ_i / (İ_X / ln 2); undefined while X acquires no information
   (İ_X at round-off against the dissipation Σ_i Π_i) */
static PetscReal ItDiagCostPerBit(ItDiag g, const PetscReal s[], PetscInt a, PetscInt b) {
  const PetscInt d  = ItGridGetInfo(g->grid)->dim;
  PetscReal      ep = 0, flow_x = 0;

  (void)a, (void)b;
  for (PetscInt i = 0; i < d; i++) {
    ep += s[S_EP + i];
    if (g->sensor[i]) flow_x += s[S_FLOW + i];
  }
  return PetscAbsReal(s[S_INFO_X]) > 1e-10 * PetscAbsReal(ep)
             ? flow_x / (s[S_INFO_X] / PetscLogReal(2.0))
             : (PetscReal)NAN;
}
/* the information the sensor X acquires per spike (doc/physics.md §8.3) */
static PetscReal ItDiagInfoPerSpike(ItDiag g, const PetscReal s[], PetscInt a, PetscInt b) {
  return (void)a, (void)b,
         s[S_RATE] > 0 ? s[S_INFO_X] * ItDiagInfoUnit(g) / s[S_RATE] : (PetscReal)NAN;
}
/* the time integrals (ItDiagAccumulate): Π, Γ_i, İ_X, the spikes (ItDiagRates' order) */
static PetscReal ItDiagProductionCum(ItDiag g, const PetscReal s[], PetscInt a, PetscInt b) {
  return (void)s, (void)a, (void)b, g->cum[0];
}
static PetscReal ItDiagFlowCum(ItDiag g, const PetscReal s[], PetscInt a, PetscInt b) {
  return (void)s, (void)b, g->cum[1 + a];
}
static PetscReal ItDiagInfoFlowXCum(ItDiag g, const PetscReal s[], PetscInt a, PetscInt b) {
  return (void)s, (void)a, (void)b, g->cum[1 + ItGridGetInfo(g->grid)->dim] * ItDiagInfoUnit(g);
}
static PetscReal ItDiagSpikeCountCum(ItDiag g, const PetscReal s[], PetscInt a, PetscInt b) {
  return (void)s, (void)a, (void)b, g->cum[2 + ItGridGetInfo(g->grid)->dim];
}

/* The columns, in the order of diagnostics.csv (doc/physics.md §3, doc/outputs.md
   "Diagnostics columns"): the one list of them. A new column is a row here
   (name, when, unit, meaning, value) and its line in doc/outputs.md; the
   header, summary.json's keys, -help -columns' listing (the documentation's
   test) and analyze's names follow. */
/* clang-format off */
static const ItDiagColumnDef ItDiagColumnTable[] = {
  {"mass", IT_COLUMN_ONE, IT_COLUMN_ALWAYS, PETSC_FALSE, PETSC_FALSE, "1", "the density's integral", ItDiagMass},
  {"entropy", IT_COLUMN_ONE, IT_COLUMN_ALWAYS, PETSC_TRUE, PETSC_FALSE, "nats", "differential entropy of the joint density", ItDiagEntropy},
  {"entropy_%s", IT_COLUMN_PER_VARIABLE, IT_COLUMN_ALWAYS, PETSC_TRUE, PETSC_FALSE, "nats", "marginal entropy of the variable", ItDiagEntropyVar},
  {"mean_%s", IT_COLUMN_PER_VARIABLE, IT_COLUMN_ALWAYS, PETSC_FALSE, PETSC_FALSE, "variable", "mean of the variable", ItDiagMean},
  {"var_%s", IT_COLUMN_PER_VARIABLE, IT_COLUMN_ALWAYS, PETSC_FALSE, PETSC_FALSE, "variable^2", "variance of the variable", ItDiagVar},
  {"kl_to_stationary", IT_COLUMN_ONE, IT_COLUMN_REFERENCE, PETSC_TRUE, PETSC_FALSE, "nats", "relative entropy to the reference density", ItDiagKL},
  {"kl_rate", IT_COLUMN_ONE, IT_COLUMN_REFERENCE, PETSC_TRUE, PETSC_FALSE, "nats/time", "its rate of change", ItDiagKLRate},
  {"mutual_information", IT_COLUMN_ONE, IT_COLUMN_JOINT, PETSC_TRUE, PETSC_FALSE, "nats", "I(X;Y) between the sensor X and the rest", ItDiagMutualInformation},
  {"mi_%s_%s", IT_COLUMN_PER_PAIR, IT_COLUMN_JOINT, PETSC_TRUE, PETSC_FALSE, "nats", "mutual information of two variables", ItDiagPairInformation},
  {"firing_rate", IT_COLUMN_ONE, IT_COLUMN_THRESHOLD, PETSC_FALSE, PETSC_FALSE, "1/time", "the threshold current", ItDiagFiringRate},
  {"refractory_mass", IT_COLUMN_ONE, IT_COLUMN_THRESHOLD, PETSC_FALSE, PETSC_FALSE, "1", "the refractory compartment's mass", ItDiagRefractoryMass},
  {"entropy_rate", IT_COLUMN_ONE, IT_COLUMN_ALWAYS, PETSC_TRUE, PETSC_FALSE, "nats/time", "dS/dt", ItDiagEntropyRate},
  {"entropy_production", IT_COLUMN_ONE, IT_COLUMN_ALWAYS, PETSC_FALSE, PETSC_FALSE, "k_B/time", "total entropy production", ItDiagProduction},
  {"entropy_production_%s", IT_COLUMN_PER_VARIABLE, IT_COLUMN_ALWAYS, PETSC_FALSE, PETSC_FALSE, "k_B/time", "entropy production of the variable's currents", ItDiagProductionVar},
  {"entropy_production_reset", IT_COLUMN_ONE, IT_COLUMN_THRESHOLD, PETSC_FALSE, PETSC_FALSE, "k_B/time", "the reset jumps' entropy production", ItDiagProductionReset},
  {"entropy_flow_%s", IT_COLUMN_PER_VARIABLE, IT_COLUMN_ALWAYS, PETSC_FALSE, PETSC_FALSE, "k_B/time", "entropy given to the environment by the variable", ItDiagFlow},
  {"heat_rate_%s", IT_COLUMN_PER_VARIABLE, IT_COLUMN_ALWAYS, PETSC_FALSE, PETSC_FALSE, "k_B T/time", "heat given off by the variable", ItDiagFlow},
  {"heat_rate_%s_W", IT_COLUMN_PER_VARIABLE, IT_COLUMN_SI, PETSC_FALSE, PETSC_FALSE, "W", "the same in watts", ItDiagHeatW},
  {"heat_rate_%s_ATP_per_s", IT_COLUMN_PER_VARIABLE, IT_COLUMN_SI, PETSC_FALSE, PETSC_FALSE, "ATP/s", "the same in ATP per second", ItDiagHeatATP},
  {"info_flow_X", IT_COLUMN_ONE, IT_COLUMN_JOINT, PETSC_TRUE, PETSC_FALSE, "nats/time", "information flow into the sensor X", ItDiagInfoFlowX},
  {"info_flow_Y", IT_COLUMN_ONE, IT_COLUMN_JOINT, PETSC_TRUE, PETSC_FALSE, "nats/time", "information flow into the rest Y", ItDiagInfoFlowY},
  {"decoding_mse", IT_COLUMN_ONE, IT_COLUMN_DECODER, PETSC_FALSE, PETSC_FALSE, "variable^2", "mean squared error of the best decoder of the first variable from X", ItDiagDecoding},
  {"cost_per_bit", IT_COLUMN_ONE, IT_COLUMN_JOINT, PETSC_FALSE, PETSC_FALSE, "k_B T/bit", "the sensor's heat per bit it acquires", ItDiagCostPerBit},
  {"info_per_spike", IT_COLUMN_ONE, IT_COLUMN_JOINT_THRESHOLD, PETSC_TRUE, PETSC_FALSE, "nats/spike", "information the sensor acquires per spike", ItDiagInfoPerSpike},
  {"entropy_production_cum", IT_COLUMN_ONE, IT_COLUMN_ALWAYS, PETSC_FALSE, PETSC_TRUE, "k_B", "entropy production since t = 0", ItDiagProductionCum},
  {"entropy_flow_%s_cum", IT_COLUMN_PER_VARIABLE, IT_COLUMN_ALWAYS, PETSC_FALSE, PETSC_TRUE, "k_B", "entropy flow of the variable since t = 0", ItDiagFlowCum},
  {"info_flow_X_cum", IT_COLUMN_ONE, IT_COLUMN_JOINT, PETSC_TRUE, PETSC_TRUE, "nats", "information flow into X since t = 0", ItDiagInfoFlowXCum},
  {"spike_count_cum", IT_COLUMN_ONE, IT_COLUMN_THRESHOLD, PETSC_FALSE, PETSC_TRUE, "spikes", "spikes per neuron since t = 0", ItDiagSpikeCountCum},
};
/* clang-format on */
#define IT_NCOLUMN (sizeof(ItDiagColumnTable) / sizeof(ItDiagColumnTable[0]))

static const char *const ItDiagWhenNames[] = {"always",          "reference", "joint",  "threshold",
                                              "joint,threshold", "si",        "decoder"};

/* Whether a row of the table is a column of g (reference: a KL reference). */
static PetscBool ItDiagHasColumn(ItDiag g, const ItDiagColumnDef *c, PetscBool reference) {
  const ItGridInfo *info  = ItGridGetInfo(g->grid);
  const PetscBool   joint = (PetscBool)(info->dim > 1), threshold = info->threshold;

  switch (c->when) {
  case IT_COLUMN_ALWAYS:
    return PETSC_TRUE;
  case IT_COLUMN_REFERENCE:
    return reference;
  case IT_COLUMN_JOINT:
    return joint;
  case IT_COLUMN_THRESHOLD:
    return threshold;
  case IT_COLUMN_JOINT_THRESHOLD:
    return (PetscBool)(joint && threshold);
  case IT_COLUMN_SI:
    return (PetscBool)(g->temperature > 0 && g->time_unit > 0);
  case IT_COLUMN_DECODER:
    return (PetscBool)(joint && !g->sensor[0]);
  }
  return PETSC_FALSE;
}

/* Adds the column of row c for variables a, b (-1: none). */
static PetscErrorCode ItDiagAddColumn(ItDiag g, const ItDiagColumnDef *c, PetscInt a, PetscInt b) {
  char name[IT_DIAG_NAME_LEN];

  PetscFunctionBegin;
  PetscCall(PetscSNPrintf(name, sizeof(name), c->name,
                          a >= 0 ? ItModelGetVariableName(g->model, a) : "",
                          b >= 0 ? ItModelGetVariableName(g->model, b) : ""));
  if (c->information && g->bits) PetscCall(PetscStrlcat(name, "_bits", sizeof(name)));
  PetscCall(PetscRealloc(sizeof(*g->name) * (g->ncol + 1), &g->name));
  PetscCall(PetscRealloc(sizeof(*g->column) * (g->ncol + 1), &g->column));
  PetscCall(PetscStrncpy(g->name[g->ncol], name, IT_DIAG_NAME_LEN));
  g->column[g->ncol].def = c;
  g->column[g->ncol].a   = a;
  g->column[g->ncol].b   = b;
  if (c->value == ItDiagMass) g->mass_column = g->ncol;
  if (c->value == ItDiagDecoding) g->decoder = PETSC_TRUE;
  g->ncol++;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The columns of this grid, model and options, in the table's order. */
static PetscErrorCode ItDiagCreateColumns(ItDiag g, PetscBool reference) {
  const PetscInt d = ItGridGetInfo(g->grid)->dim;

  PetscFunctionBegin;
  for (size_t k = 0; k < IT_NCOLUMN; k++) {
    const ItDiagColumnDef *c = &ItDiagColumnTable[k];
    if (!ItDiagHasColumn(g, c, reference)) continue;
    if (c->each == IT_COLUMN_ONE) PetscCall(ItDiagAddColumn(g, c, -1, -1));
    for (PetscInt a = 0; c->each == IT_COLUMN_PER_VARIABLE && a < d; a++)
      PetscCall(ItDiagAddColumn(g, c, a, -1));
    for (PetscInt a = 0; c->each == IT_COLUMN_PER_PAIR && a < d; a++)
      for (PetscInt b = a + 1; b < d; b++) PetscCall(ItDiagAddColumn(g, c, a, b));
  }
  PetscCall(PetscCalloc1(g->ncol, &g->value));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Sets the columns' values from the sums: the time integrals (cumulative)
   or every other column. */
static void ItDiagSetValues(ItDiag g, const PetscReal sum[], PetscBool cumulative) {
  for (PetscInt k = 0; k < g->ncol; k++) {
    const ItDiagColumn *c = &g->column[k];
    if (c->def->cumulative == cumulative) g->value[k] = c->def->value(g, sum, c->a, c->b);
  }
}

/* The table of columns, one a line: "NAME<TAB>WHEN<TAB>UNIT<TAB>MEANING",
   NAME with <var> for a variable (<a>_<b> for a pair), WHEN one of always,
   reference (-kl_reference), joint (two or more variables), threshold (a
   threshold_reset axis), si (-temperature and -time_unit), decoder (the
   first variable outside X), and "bits" added for an information column
   (named <NAME>_bits under -bits). For `infotherm help -columns`. Not collective. */
void ItDiagListColumns(FILE *out) {
  for (size_t k = 0; k < IT_NCOLUMN; k++) {
    const ItDiagColumnDef *c = &ItDiagColumnTable[k];
    char                   name[IT_DIAG_NAME_LEN];
    snprintf(name, sizeof(name), c->name, c->each == IT_COLUMN_PER_PAIR ? "<a>" : "<var>", "<b>");
    fprintf(out, "%s\t%s%s\t%s\t%s\n", name, ItDiagWhenNames[c->when],
            c->information ? ",bits" : "", c->unit, c->description);
  }
}

void ItDiagSetFlowSlopes(ItDiag g, PetscBool use) {
  g->use_slopes = use;
}

/* Whether the flows' time derivatives are known (ItDiagFlowSlopes): the
   fourth-order face sums along wall and periodic axes, which are linear in
   the density, of a model that does not depend on time (whose faces and
   forces stay fixed), without odd variables, at a finite time. */
static PetscBool ItDiagHasFlowSlopes(ItDiag g, PetscReal t) {
  const ItGridInfo *info = ItGridGetInfo(g->grid);

  if (!g->use_slopes || PetscIsInfOrNanReal(t) || ItFacesGetOrder(g->faces) != 4 ||
      ItFacesIrreversible(g->faces) || ItModelGetTimeDependence(g->model) != IT_TIME_INDEPENDENT ||
      info->threshold)
    return PETSC_FALSE;
  for (PetscInt a = 0; a < info->dim; a++)
    if (info->boundary[a] == IT_BOUNDARY_THRESHOLD_RESET) return PETSC_FALSE;
  return PETSC_TRUE;
}

/* The face sums (ItDiagSums) with the flows' time derivatives dΓ_a/dt into
   local[S_SLOPE + a]: the flows are
   linear in the density (ItFacesCellFlows: Σ_f J_f(p) F_f with fixed face
   forces), so along the discrete dynamics dp/dt = L p they are the flows of
   L p, summed in the same pass as p's (ItFacesCellFlowsPair: the model
   evaluated along each pencil once for both). One operator application and
   one ghost exchange; two work vectors of the grid's DMDA. Collective. */
static PetscErrorCode ItDiagFlowSlopes(ItDiag g, Vec p, const PetscScalar *pl, PetscReal local[]) {
  const ItGridInfo  *info = ItGridGetInfo(g->grid);
  Vec                Lp, Lpl;
  const PetscScalar *lpl;

  PetscFunctionBegin;
  PetscCall(DMGetGlobalVector(info->da, &Lp));
  PetscCall(DMGetLocalVector(info->da, &Lpl));
  if (!g->slope_counted) { /* the DMDA keeps them for the next evaluation */
    PetscInt n, ng;
    PetscCall(VecGetLocalSize(Lp, &n));
    PetscCall(VecGetLocalSize(Lpl, &ng));
    ItMemoryAdd(IT_MEMORY_DIAGNOSTICS, (PetscReal)(n + ng) * sizeof(PetscScalar));
    g->slope_counted = PETSC_TRUE;
  }
  PetscCall(ItFPApplyFaces(g->faces, p, Lp));
  PetscCall(DMGlobalToLocalBegin(info->da, Lp, INSERT_VALUES, Lpl));
  PetscCall(DMGlobalToLocalEnd(info->da, Lp, INSERT_VALUES, Lpl));
  PetscCall(VecGetArrayRead(Lpl, &lpl));
  g->lpl = lpl;
  PetscCall(ItDiagSums(g, pl, local));
  g->lpl = NULL;
  PetscCall(VecRestoreArrayRead(Lpl, &lpl));
  PetscCall(DMRestoreLocalVector(info->da, &Lpl));
  PetscCall(DMRestoreGlobalVector(info->da, &Lp));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The integrands of the *_cum columns from the sums: Π, Γ_i, İ_X (nats). */
static void ItDiagRates(ItDiag g, const PetscReal sum[], PetscReal rate[]) {
  const ItGridInfo *info = ItGridGetInfo(g->grid);
  const PetscInt    d    = info->dim;

  rate[0] = sum[S_RESET];
  for (PetscInt a = 0; a < d; a++) {
    rate[0] += sum[S_EP + a];
    rate[1 + a] = sum[S_FLOW + a];
  }
  rate[1 + d] = d > 1 ? sum[S_INFO_X] : 0;
  rate[2 + d] = sum[S_RATE];
}

/* At a switch of a held schedule, the integrands with the parameters' limit
   from above (the faces of the next interval, same density): the first
   trapezoid after the switch uses these. Elsewhere the left values. Collective
   at a switch (one more reduction); otherwise no communication. */
static PetscErrorCode ItDiagRightRates(ItDiag g, PetscReal t, const PetscScalar *pl) {
  ItModel        model = g->model;
  const PetscInt np    = ItModelGetParameterCount(model);
  PetscReal      left[IT_MAX_PARAMS], right[IT_MAX_PARAMS], local[S_COUNT] = {0}, sum[S_COUNT];
  PetscBool      same = PETSC_TRUE;

  PetscFunctionBegin;
  PetscCall(PetscArraycpy(g->rate_right, g->rate, IT_NRATE));
  if (PetscIsInfOrNanReal(t) || ItModelGetTimeDependence(model) == IT_TIME_INDEPENDENT)
    PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(ItModelGetParameters(model, t, left));
  PetscCall(ItModelGetParametersRight(model, t, right));
  for (PetscInt k = 0; k < np; k++) same = (PetscBool)(same && left[k] == right[k]);
  if (same) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(ItFacesSetParameters(g->faces, t, right, NULL));
  PetscCall(ItDiagSums(g, pl, local));
  PetscCall(ItGridSum(g->grid, S_COUNT, local, sum));
  const ItGridInfo *info = ItGridGetInfo(g->grid);
  for (PetscInt k = 0; k < S_COUNT; k++) sum[k] *= info->cell_volume;
  ItDiagRates(g, sum, g->rate_right);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Evaluates every column at time t (the cumulative ones are updated by
   ItDiagAccumulate). At a switch of a held schedule the columns are the left
   limit (the parameters at t, the schedule's rule), and the integrands of the
   next interval are also computed with the right limit. Collective: two
   reductions and one ghost exchange (one more reduction at a switch). */
PetscErrorCode ItDiagEvaluate(ItDiag g, PetscReal t, Vec p) {
  ItGrid             grid           = g->grid;
  const ItGridInfo  *info           = ItGridGetInfo(grid);
  PetscReal          local[S_COUNT] = {0}, sum[S_COUNT];
  const PetscScalar *pl;
  PetscInt           ng;

  PetscFunctionBegin;
  PetscCall(PetscLogEventBegin(IT_DIAG_EVALUATE, 0, 0, 0, 0));
  PetscCall(ItDiagAcquire(g));
  PetscCall(ItFacesRestoreOrder(g->faces)); /* the check's (ItDiagAcquire) */
  PetscCall(ItFacesSetTime(g->faces, PetscIsInfOrNanReal(t) ? 0 : t, NULL));
  g->t        = t;
  g->p_global = p;
  PetscCall(ItRefractoryQuery(p, &g->refractory));
  if (g->refractory) PetscCall(ItRefractoryGet(g->refractory, t, &g->reinjection, NULL, &g->held));
  g->moving_reset = PETSC_FALSE; /* a refractory time with two or more variables (§8.2) */
  for (PetscInt a = 0; a < info->dim; a++)
    if (info->dim > 1 && info->boundary[a] == IT_BOUNDARY_THRESHOLD_RESET &&
        info->refractory[a] > 0)
      g->moving_reset = PETSC_TRUE;
  PetscCall(DMGlobalToLocalBegin(info->da, p, INSERT_VALUES, g->p_local));
  PetscCall(DMGlobalToLocalEnd(info->da, p, INSERT_VALUES, g->p_local));
  PetscCall(VecGetLocalSize(g->p_local, &ng));
  PetscCall(VecGetArrayRead(g->p_local, &pl));
  ItDiagLog(pl, ng, g->lnp);
  PetscCall(ItDiagMarginals(g, pl));
  ItDiagCellSums(g, pl, local);
  g->have_slope = ItDiagHasFlowSlopes(g, t);
  if (g->have_slope)
    PetscCall(ItDiagFlowSlopes(g, p, pl, local));
  else
    PetscCall(ItDiagSums(g, pl, local));
  PetscCall(ItGridSum(grid, S_COUNT, local, sum));
  for (PetscInt k = 0; k < S_COUNT; k++) sum[k] *= info->cell_volume;
  ItDiagRates(g, sum, g->rate);
  for (PetscInt a = 0; a < info->dim; a++) g->slope[1 + a] = sum[S_SLOPE + a];
  PetscCall(ItDiagRightRates(g, t, pl));
  PetscCall(VecRestoreArrayRead(g->p_local, &pl));
  ItDiagMassChecks(g, sum);
  ItDiagSetValues(g, sum, PETSC_FALSE);
  PetscCall(PetscLogEventEnd(IT_DIAG_EVALUATE, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The integrands of the *_cum columns: Π, Γ_i, İ_X, and the firing rate on
   a grid with a threshold. */
static PetscInt ItDiagRateCount(ItDiag g) {
  const ItGridInfo *info = ItGridGetInfo(g->grid);
  return info->dim + 2 + (info->threshold ? 1 : 0);
}

/* The integral over [t1, t2] of the quadratic through (t0, f0), (t1, f1),
   (t2, f2): the third-order Adams–Moulton rule on uneven steps,
   h2 [f2 (2 h2 + 3 h1)/(h1 + h2) + f1 (h2 + 3 h1)/h1 - f0 h2^2/(h1 (h1 + h2))]/6. */
static PetscReal ItDiagQuadratic(PetscReal t0, PetscReal t1, PetscReal t2, PetscReal f0,
                                 PetscReal f1, PetscReal f2) {
  const PetscReal h1 = t1 - t0, h2 = t2 - t1;

  return h2 *
         (f2 * (2 * h2 + 3 * h1) / (h1 + h2) + f1 * (h2 + 3 * h1) / h1 -
          f0 * h2 * h2 / (h1 * (h1 + h2))) /
         6;
}

/* The integral over [t0, t1] of the cubic Hermite interpolant of values f
   and derivatives df at both ends: h (f0 + f1)/2 + h^2 (df0 - df1)/12
   (fourth order). */
static PetscReal ItDiagHermite(PetscReal t0, PetscReal t1, PetscReal f0, PetscReal f1,
                               PetscReal df0, PetscReal df1) {
  const PetscReal h = t1 - t0;

  return 0.5 * h * (f0 + f1) + h * h * (df0 - df1) / 12;
}

/* Adds the interval since the previous evaluation to the cumulative integrals
   of Π, Γ_i and İ_X and fills the *_cum columns. The evaluations come after
   every time step, so the integrals follow the steps: by the quadratic
   through this and the two previous evaluations (third order, the time
   stepper's), by the trapezoid where there is no previous one on the same
   smooth stretch (the first step, the first after a switch). The flows Γ_i,
   where their time derivatives are known at both ends (ItDiagFlowSlopes),
   by the cubic Hermite rule instead: fourth order on the step alone, so a
   flow decaying within a step or two (a fast neuron's heat after its start,
   where the fourth-order stepper's steps are several of its relaxation times
   long) is integrated from the exact slopes of the discrete dynamics rather
   than from a parabola through earlier steps. Each interval is
   integrated with its own parameters: it ends on the rates at t (the left
   limit) and the next one starts from those of the right limit, which differ
   at a switch of a held schedule. Not collective. */
PetscErrorCode ItDiagAccumulate(ItDiag g) {
  const PetscInt n = ItDiagRateCount(g);

  PetscFunctionBegin;
  if (PetscIsInfOrNanReal(g->t))
    PetscFunctionReturn(PETSC_SUCCESS); /* a stationary density has no time to integrate over */
  if (g->have_prev && g->t > g->t_prev)
    for (PetscInt k = 0; k < n; k++) {
      const PetscBool flow = (PetscBool)(k >= 1 && k <= ItGridGetInfo(g->grid)->dim);
      if (flow && g->have_slope && g->have_slope_prev)
        g->cum[k] += ItDiagHermite(g->t_prev, g->t, g->rate_prev[k], g->rate[k], g->slope_prev[k],
                                   g->slope[k]);
      else
        g->cum[k] += g->have_prev2 ? ItDiagQuadratic(g->t_prev2, g->t_prev, g->t, g->rate_prev2[k],
                                                     g->rate_prev[k], g->rate[k])
                                   : 0.5 * (g->t - g->t_prev) * (g->rate[k] + g->rate_prev[k]);
    }
  if (!g->have_prev || g->t > g->t_prev) {
    PetscBool smooth = g->have_prev;
    for (PetscInt k = 0; k < n; k++) smooth = (PetscBool)(smooth && g->rate_right[k] == g->rate[k]);
    g->have_prev2 = smooth; /* no switch at t: the previous evaluation stays usable */
    g->t_prev2    = g->t_prev;
    for (PetscInt k = 0; k < n; k++) g->rate_prev2[k] = g->rate_prev[k];
    for (PetscInt k = 0; k < n; k++) g->rate_prev[k] = g->rate_right[k];
    for (PetscInt k = 0; k < n; k++) g->slope_prev[k] = g->slope[k];
    g->have_slope_prev = g->have_slope;
    g->t_prev          = g->t;
    g->have_prev       = PETSC_TRUE;
  }
  ItDiagSetValues(g, NULL, PETSC_TRUE);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The state of the cumulative integrals: have_prev, t_prev, cum[n],
   rate_prev[n], have_prev2, t_prev2, rate_prev2[n], have_slope_prev,
   slope_prev[n] (n = ItDiagRateCount). */
PetscInt ItDiagGetStateSize(ItDiag g) {
  return 5 + 4 * ItDiagRateCount(g);
}

PetscErrorCode ItDiagGetState(ItDiag g, PetscReal state[]) {
  const PetscInt n = ItDiagRateCount(g);

  PetscFunctionBegin;
  state[0] = g->have_prev;
  state[1] = g->t_prev;
  PetscCall(PetscArraycpy(&state[2], g->cum, n));
  PetscCall(PetscArraycpy(&state[2 + n], g->rate_prev, n));
  state[2 + 2 * n] = g->have_prev2;
  state[3 + 2 * n] = g->t_prev2;
  PetscCall(PetscArraycpy(&state[4 + 2 * n], g->rate_prev2, n));
  state[4 + 3 * n] = g->have_slope_prev;
  PetscCall(PetscArraycpy(&state[5 + 3 * n], g->slope_prev, n));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Restores the cumulative integrals (a restart): the next evaluation continues them. */
PetscErrorCode ItDiagSetState(ItDiag g, const PetscReal state[]) {
  const PetscInt n = ItDiagRateCount(g);

  PetscFunctionBegin;
  g->have_prev = (PetscBool)(state[0] != 0);
  g->t_prev    = state[1];
  g->t         = state[1];
  PetscCall(PetscArraycpy(g->cum, &state[2], n));
  PetscCall(PetscArraycpy(g->rate_prev, &state[2 + n], n));
  g->have_prev2 = (PetscBool)(state[2 + 2 * n] != 0);
  g->t_prev2    = state[3 + 2 * n];
  PetscCall(PetscArraycpy(g->rate_prev2, &state[4 + 2 * n], n));
  g->have_slope_prev = (PetscBool)(state[4 + 3 * n] != 0);
  PetscCall(PetscArraycpy(g->slope_prev, &state[5 + 3 * n], n));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscInt ItDiagGetColumnCount(ItDiag g) {
  return g->ncol;
}

const char *ItDiagGetColumnName(ItDiag g, PetscInt k) {
  return g->name[k];
}

/* The index of a column by name, -1 if there is none. */
PetscErrorCode ItDiagFindColumn(ItDiag g, const char name[], PetscInt *k) {
  PetscBool match;

  PetscFunctionBegin;
  *k = -1;
  for (PetscInt j = 0; j < g->ncol && *k < 0; j++) {
    PetscCall(PetscStrcmp(g->name[j], name, &match));
    if (match) *k = j;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

const ItColumnName *ItDiagGetColumnNames(ItDiag g) {
  return (const ItColumnName *)g->name;
}

const PetscReal *ItDiagGetValues(ItDiag g) {
  return g->value;
}

PetscReal ItDiagGetTime(ItDiag g) {
  return g->t;
}

PetscReal ItDiagGetBoundaryMass(ItDiag g) {
  return g->boundary_mass;
}

/* The fraction of the mass in the layer of cells at each wall, at the last
   evaluation: wall[2a] at the lower wall of axis a, wall[2a + 1] at the upper. */
void ItDiagGetWallMass(ItDiag g, PetscReal wall[]) {
  const ItGridInfo *info = ItGridGetInfo(g->grid);
  for (PetscInt k = 0; k < 2 * info->dim; k++) wall[k] = g->wall_mass[k];
}

/* The mass of the last evaluation and that of its cells of negative value. */
void ItDiagGetMass(ItDiag g, PetscReal *mass, PetscReal *negative) {
  *mass     = g->value[g->mass_column];
  *negative = g->negative_mass;
}

/* Positivity over every evaluation so far: the largest size of the mass of
   the cells of negative value (>= 0) and the time of the first evaluation
   that had it (NaN: none negative), and the smallest cell value of the
   density (PETSC_MAX_REAL: none evaluated). Collective: one reduction. */
PetscErrorCode ItDiagGetPositivity(ItDiag g, PetscReal *negative_mass, PetscReal *t,
                                   PetscReal *minimum) {
  PetscFunctionBegin;
  *negative_mass = -g->negative_worst;
  *t             = g->negative_worst_t;
  PetscCall(ItGridMin(g->grid, g->min_local, minimum));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscBool ItDiagIsSensor(ItDiag g, PetscInt axis) {
  return g->sensor[axis];
}

PetscBool ItDiagUsesBits(ItDiag g) {
  return g->bits;
}

PetscErrorCode ItDiagView(ItDiag g, PetscViewer viewer) {
  PetscFunctionBegin;
  for (PetscInt k = 0; k < g->ncol; k++)
    PetscCall(PetscViewerASCIIPrintf(viewer, "  %-28s %.10g\n", g->name[k], (double)g->value[k]));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode ItDiagDestroy(ItDiag *diag) {
  ItDiag g = *diag;

  PetscFunctionBegin;
  if (!g) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscFree(g->name));
  PetscCall(PetscFree(g->column));
  PetscCall(PetscFree(g->value));
  PetscCall(PetscFree3(g->marg_local, g->marg, g->lnmarg));
  PetscCall(PetscFree(g->lnp));
  PetscCall(PetscFree(g->lnref));
  PetscCall(VecDestroy(&g->p_local));
  PetscCall(VecDestroy(&g->inflow));
  PetscCall(VecDestroy(&g->shape));
  PetscCall(ItRefractoryDestroy(&g->reentry));
  if (!g->shared) PetscCall(ItFacesDestroy(&g->faces));
  PetscCall(PetscFree(g));
  *diag = NULL;
  PetscFunctionReturn(PETSC_SUCCESS);
}
