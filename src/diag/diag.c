/* The diagnostics of PHYSICS.md §3 from a density p on the grid and the
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
   Marginals come from one reduction, the scalar sums from another. */
#include <infotherm/diag.h>

#define IT_KB 1.380649e-23 /* J/K */

static PetscLogEvent IT_DIAG_EVALUATE = 0; /* "ItDiagEvaluate" in -log_view */

enum {
  S_MASS,
  S_PLNP,
  S_BOUNDARY,
  S_KL,
  S_ENTROPY_RATE,
  S_KL_RATE,
  S_INFO_X,
  S_INFO_Y,
  S_V2,
  S_EP,
  S_FLOW  = S_EP + IT_MAX_DIM,
  S_MOM1  = S_FLOW + IT_MAX_DIM,
  S_MOM2  = S_MOM1 + IT_MAX_DIM,
  S_COUNT = S_MOM2 + IT_MAX_DIM
};

static PetscErrorCode ItDiagAddColumn(ItDiag g, PetscInt *index, PetscBool information,
                                      const char format[], const char a[], const char b[]) {
  char name[IT_DIAG_NAME_LEN];

  PetscFunctionBegin;
  PetscCall(PetscSNPrintf(name, sizeof(name), format, a, b));
  if (information && g->bits) PetscCall(PetscStrlcat(name, "_bits", sizeof(name)));
  PetscCall(PetscRealloc(sizeof(*g->name) * (g->ncol + 1), &g->name));
  PetscCall(PetscStrncpy(g->name[g->ncol], name, IT_DIAG_NAME_LEN));
  *index = g->ncol++;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Index of the pair (a, b), a < b, among the 2-D marginals of a 3-D grid. */
static inline PetscInt ItDiagPair(PetscInt a, PetscInt b) {
  return a + b - 1;
}

/* Offset in the marginal array of the marginal over the axes in `mask` (one or
   two of three) at cell c; `base` gets the offset of that marginal's storage. */
static inline PetscInt ItDiagMarginalIndex(const ItDiag g, const PetscBool mask[],
                                           const PetscInt c[], PetscInt *base) {
  PetscInt axes[IT_MAX_DIM], n = 0;

  for (PetscInt a = 0; a < g->grid->dim; a++)
    if (mask[a]) axes[n++] = a;
  if (n == 1) {
    *base = g->off1[axes[0]];
    return *base + c[axes[0]];
  }
  *base = g->offpair[ItDiagPair(axes[0], axes[1])];
  return *base + c[axes[0]] + g->grid->n[axes[0]] * c[axes[1]];
}

/* Reads -sensor, -bits, -temperature, -time_unit, -atp_kT; builds the column
   list. Collective. */
PetscErrorCode ItDiagCreate(ItFP fp, ItDiag *diag) {
  ItDiag         g;
  ItModel        model = fp->model;
  ItGrid         grid  = fp->grid;
  const PetscInt d     = model->dim;
  char          *sensor[IT_MAX_DIM];
  PetscInt       nsensor = IT_MAX_DIM, ng;
  PetscBool      set;
  const char    *v[IT_MAX_DIM];

  PetscFunctionBegin;
  if (!IT_DIAG_EVALUATE)
    PetscCall(PetscLogEventRegister("ItDiagEvaluate", DM_CLASSID, &IT_DIAG_EVALUATE));
  PetscCall(PetscNew(&g));
  g->fp          = fp;
  g->grid        = grid;
  g->model       = model;
  g->temperature = 0;
  g->time_unit   = 0;
  g->atp_kT      = 20;
  g->t           = PETSC_MIN_REAL;
  for (PetscInt a = 0; a < d; a++) g->sensor[a] = (PetscBool)(a > 0);
  PetscOptionsBegin(grid->comm, NULL, "Diagnostics", "ItDiag");
  PetscCall(PetscOptionsStringArray("-sensor",
                                    "the variables of the set X (default: all but the first)", NULL,
                                    sensor, &nsensor, &set));
  if (set) {
    for (PetscInt a = 0; a < d; a++) g->sensor[a] = PETSC_FALSE;
    for (PetscInt k = 0; k < nsensor; k++) {
      PetscInt a;
      PetscCall(ItModelVariableIndex(model, "-sensor", sensor[k], &a));
      g->sensor[a] = PETSC_TRUE;
      PetscCall(PetscFree(sensor[k]));
    }
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
  PetscCheck(d == 1 || (g->nsensor > 0 && g->nsensor < d), grid->comm, PETSC_ERR_USER_INPUT,
             "-sensor must name some but not all of the variables");
  PetscCheck((g->temperature > 0) == (g->time_unit > 0), grid->comm, PETSC_ERR_USER_INPUT,
             "heat rates in W and ATP/s need both -temperature (K) and -time_unit (seconds per "
             "model time unit)");
  PetscCheck(g->temperature >= 0 && g->time_unit >= 0 && g->atp_kT > 0, grid->comm,
             PETSC_ERR_USER_INPUT,
             "-temperature and -time_unit must be positive (or absent), -atp_kT positive");

  /* columns, in the order of PHYSICS.md §3 */
  for (PetscInt a = 0; a < d; a++) v[a] = model->var[a];
  PetscCall(ItDiagAddColumn(g, &g->col.mass, PETSC_FALSE, "mass", "", ""));
  PetscCall(ItDiagAddColumn(g, &g->col.entropy, PETSC_TRUE, "entropy", "", ""));
  for (PetscInt a = 0; a < d; a++)
    PetscCall(ItDiagAddColumn(g, &g->col.entropy_var[a], PETSC_TRUE, "entropy_%s", v[a], ""));
  for (PetscInt a = 0; a < d; a++)
    PetscCall(ItDiagAddColumn(g, &g->col.mean[a], PETSC_FALSE, "mean_%s", v[a], ""));
  for (PetscInt a = 0; a < d; a++)
    PetscCall(ItDiagAddColumn(g, &g->col.var[a], PETSC_FALSE, "var_%s", v[a], ""));
  g->col.mutual_information = g->col.kl_to_stationary = g->col.kl_rate = g->col.info_flow_X =
      g->col.info_flow_Y = g->col.decoding_mse = g->col.cost_per_bit = g->col.info_flow_X_cum = -1;
  for (PetscInt a = 0; a < IT_MAX_DIM; a++)
    g->col.mi_pair[a] = g->col.heat_rate_W[a] = g->col.heat_rate_ATP[a] = -1;
  if (d > 1) {
    PetscCall(
        ItDiagAddColumn(g, &g->col.mutual_information, PETSC_TRUE, "mutual_information", "", ""));
    for (PetscInt a = 0; a < d; a++)
      for (PetscInt b = a + 1; b < d; b++)
        PetscCall(ItDiagAddColumn(g, &g->col.mi_pair[d == 2 ? 0 : ItDiagPair(a, b)], PETSC_TRUE,
                                  "mi_%s_%s", v[a], v[b]));
  }
  PetscCall(ItDiagAddColumn(g, &g->col.entropy_rate, PETSC_TRUE, "entropy_rate", "", ""));
  PetscCall(
      ItDiagAddColumn(g, &g->col.entropy_production, PETSC_FALSE, "entropy_production", "", ""));
  for (PetscInt a = 0; a < d; a++)
    PetscCall(ItDiagAddColumn(g, &g->col.entropy_production_var[a], PETSC_FALSE,
                              "entropy_production_%s", v[a], ""));
  for (PetscInt a = 0; a < d; a++)
    PetscCall(
        ItDiagAddColumn(g, &g->col.entropy_flow[a], PETSC_FALSE, "entropy_flow_%s", v[a], ""));
  for (PetscInt a = 0; a < d; a++)
    PetscCall(ItDiagAddColumn(g, &g->col.heat_rate[a], PETSC_FALSE, "heat_rate_%s", v[a], ""));
  if (g->temperature > 0 && g->time_unit > 0) {
    for (PetscInt a = 0; a < d; a++)
      PetscCall(
          ItDiagAddColumn(g, &g->col.heat_rate_W[a], PETSC_FALSE, "heat_rate_%s_W", v[a], ""));
    for (PetscInt a = 0; a < d; a++)
      PetscCall(ItDiagAddColumn(g, &g->col.heat_rate_ATP[a], PETSC_FALSE, "heat_rate_%s_ATP_per_s",
                                v[a], ""));
  }
  if (d > 1) {
    PetscCall(ItDiagAddColumn(g, &g->col.info_flow_X, PETSC_TRUE, "info_flow_X", "", ""));
    PetscCall(ItDiagAddColumn(g, &g->col.info_flow_Y, PETSC_TRUE, "info_flow_Y", "", ""));
    if (!g->sensor[0])
      PetscCall(ItDiagAddColumn(g, &g->col.decoding_mse, PETSC_FALSE, "decoding_mse", "", ""));
    PetscCall(ItDiagAddColumn(g, &g->col.cost_per_bit, PETSC_FALSE, "cost_per_bit", "", ""));
  }
  PetscCall(ItDiagAddColumn(g, &g->col.entropy_production_cum, PETSC_FALSE,
                            "entropy_production_cum", "", ""));
  for (PetscInt a = 0; a < d; a++)
    PetscCall(ItDiagAddColumn(g, &g->col.entropy_flow_cum[a], PETSC_FALSE, "entropy_flow_%s_cum",
                              v[a], ""));
  if (d > 1)
    PetscCall(ItDiagAddColumn(g, &g->col.info_flow_X_cum, PETSC_TRUE, "info_flow_X_cum", "", ""));
  PetscCall(PetscCalloc1(g->ncol, &g->value));

  /* marginals: 1-D for every axis, 2-D for every pair of a 3-D grid, and the
     decoder's first moment of the first variable over the cells of X */
  g->nmarg = 0;
  for (PetscInt a = 0; a < d; a++) {
    g->off1[a] = g->nmarg;
    g->nmarg += grid->n[a];
  }
  if (d == 3)
    for (PetscInt a = 0; a < d; a++)
      for (PetscInt b = a + 1; b < d; b++) {
        g->offpair[ItDiagPair(a, b)] = g->nmarg;
        g->nmarg += grid->n[a] * grid->n[b];
      }
  g->offdec = g->nmarg;
  if (g->col.decoding_mse >= 0) {
    PetscInt nx = 1;
    for (PetscInt a = 0; a < d; a++)
      if (g->sensor[a]) nx *= grid->n[a];
    g->nmarg += nx;
  }
  PetscCall(PetscMalloc2(g->nmarg, &g->marg_local, g->nmarg, &g->marg));
  PetscCall(DMCreateLocalVector(grid->da, &g->p_local));
  PetscCall(VecGetLocalSize(g->p_local, &ng));
  PetscCall(PetscMalloc1(ng, &g->lnp));
  *diag = g;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Sets the stationary density for kl_to_stationary and kl_rate (copied, with
   its ghosts). Collective. */
PetscErrorCode ItDiagSetReference(ItDiag g, Vec reference) {
  const PetscScalar *ra;
  PetscInt           ng;

  PetscFunctionBegin;
  PetscCall(DMCreateLocalVector(g->grid->da, &g->reference));
  PetscCall(DMGlobalToLocalBegin(g->grid->da, reference, INSERT_VALUES, g->reference));
  PetscCall(DMGlobalToLocalEnd(g->grid->da, reference, INSERT_VALUES, g->reference));
  PetscCall(VecGetLocalSize(g->reference, &ng));
  PetscCall(PetscMalloc1(ng, &g->lnref));
  PetscCall(VecGetArrayRead(g->reference, &ra));
  for (PetscInt k = 0; k < ng; k++)
    g->lnref[k] = PetscRealPart(ra[k]) > 0 ? PetscLogReal(PetscRealPart(ra[k])) : PETSC_MIN_REAL;
  PetscCall(VecRestoreArrayRead(g->reference, &ra));
  /* the KL columns follow the variances */
  {
    PetscInt at = g->col.var[g->grid->dim - 1] + 1, nnew = 2;
    PetscCall(PetscRealloc(sizeof(*g->name) * (g->ncol + nnew), &g->name));
    PetscCall(PetscRealloc(sizeof(*g->value) * (g->ncol + nnew), &g->value));
    for (PetscInt k = g->ncol - 1; k >= at; k--)
      PetscCall(PetscStrncpy(g->name[k + nnew], g->name[k], IT_DIAG_NAME_LEN));
    for (PetscInt *c = (PetscInt *)&g->col; c < (PetscInt *)(&g->col + 1); c++)
      if (*c >= at) *c += nnew;
    g->ncol += nnew;
    g->col.kl_to_stationary = at;
    g->col.kl_rate          = at + 1;
    PetscCall(
        PetscSNPrintf(g->name[at], IT_DIAG_NAME_LEN, "kl_to_stationary%s", g->bits ? "_bits" : ""));
    PetscCall(
        PetscSNPrintf(g->name[at + 1], IT_DIAG_NAME_LEN, "kl_rate%s", g->bits ? "_bits" : ""));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* -Σ m ln m times the cell size, over one marginal of `count` values. */
static PetscReal ItDiagEntropyOf(const PetscReal *m, PetscInt count, PetscReal cell) {
  PetscReal s = 0;

  for (PetscInt k = 0; k < count; k++)
    if (m[k] > 0) s -= m[k] * PetscLogReal(m[k]);
  return s * cell;
}

/* Evaluates every column at time t (the cumulative ones are updated by
   ItDiagAccumulate). Collective: two reductions and one ghost exchange. */
PetscErrorCode ItDiagEvaluate(ItDiag g, PetscReal t, Vec p) {
  ItGrid             grid = g->grid;
  ItFP               fp   = g->fp;
  const PetscInt     d    = grid->dim;
  const PetscReal    ln2 = PetscLogReal(2.0), info = g->bits ? 1 / ln2 : 1;
  PetscReal          local[S_COUNT] = {0}, sum[S_COUNT], centre[IT_MAX_DIM], stride[IT_MAX_DIM];
  PetscBool          ymask[IT_MAX_DIM];
  const PetscScalar *pl;
  PetscInt           ng;
  PetscReal         *value = g->value;

  PetscFunctionBegin;
  PetscCall(PetscLogEventBegin(IT_DIAG_EVALUATE, 0, 0, 0, 0));
  /* the currents of the operator at time t (a schedule may have changed it);
     a stationary density (t = inf) keeps the operator it was solved with */
  if (!PetscIsInfOrNanReal(t)) PetscCall(ItFPUpdate(fp, t));
  g->t = t;
  for (PetscInt a = 0; a < d; a++) {
    centre[a] = 0.5 * (grid->lo[a] + grid->hi[a]);
    ymask[a]  = (PetscBool)!g->sensor[a];
  }
  stride[0] = 1;
  stride[1] = grid->gxm[0];
  stride[2] = grid->gxm[0] * grid->gxm[1];
  PetscCall(DMGlobalToLocalBegin(grid->da, p, INSERT_VALUES, g->p_local));
  PetscCall(DMGlobalToLocalEnd(grid->da, p, INSERT_VALUES, g->p_local));
  PetscCall(VecGetLocalSize(g->p_local, &ng));
  PetscCall(VecGetArrayRead(g->p_local, &pl));
  for (PetscInt k = 0; k < ng; k++)
    g->lnp[k] = PetscRealPart(pl[k]) > 0 ? PetscLogReal(PetscRealPart(pl[k])) : PETSC_MIN_REAL;

  /* marginals */
  PetscCall(PetscArrayzero(g->marg_local, g->nmarg));
  ItGridForOwned(grid, c, l) {
    const PetscReal pc = PetscRealPart(pl[ItGridGhostedOffset(grid, c)]);
    (void)l;
    for (PetscInt a = 0; a < d; a++) g->marg_local[g->off1[a] + c[a]] += pc;
    if (d == 3)
      for (PetscInt a = 0; a < d; a++)
        for (PetscInt b = a + 1; b < d; b++)
          g->marg_local[g->offpair[ItDiagPair(a, b)] + c[a] + grid->n[a] * c[b]] += pc;
    if (g->col.decoding_mse >= 0) {
      PetscInt base, k = ItDiagMarginalIndex(g, g->sensor, c, &base);
      g->marg_local[g->offdec + k - base] += (ItGridCoordinate(grid, 0, c[0]) - centre[0]) * pc;
    }
  }
  PetscCall(ItGridSum(grid, g->nmarg, g->marg_local, g->marg));
  for (PetscInt a = 0; a < d; a++)
    for (PetscInt k = 0; k < grid->n[a]; k++)
      g->marg[g->off1[a] + k] *= grid->cell_volume / grid->h[a];
  if (d == 3)
    for (PetscInt a = 0; a < d; a++)
      for (PetscInt b = a + 1; b < d; b++)
        for (PetscInt k = 0; k < grid->n[a] * grid->n[b]; k++)
          g->marg[g->offpair[ItDiagPair(a, b)] + k] *= grid->h[3 - a - b];
  if (g->col.decoding_mse >= 0) {
    PetscReal cell_x = 1;
    for (PetscInt a = 0; a < d; a++)
      if (g->sensor[a]) cell_x *= grid->h[a];
    for (PetscInt k = g->offdec; k < g->nmarg; k++) g->marg[k] *= grid->cell_volume / cell_x;
  }

  /* cell and face sums */
  ItGridForOwned(grid, c, l) {
    const PetscInt  o    = ItGridGhostedOffset(grid, c);
    const PetscReal pc   = PetscRealPart(pl[o]);
    PetscBool       wall = PETSC_FALSE;
    (void)l;
    local[S_MASS] += pc;
    if (pc > 0) local[S_PLNP] += pc * g->lnp[o];
    if (pc > 0 && g->reference && g->lnref[o] > PETSC_MIN_REAL)
      local[S_KL] += pc * (g->lnp[o] - g->lnref[o]);
    for (PetscInt a = 0; a < d; a++) {
      const PetscReal x = ItGridCoordinate(grid, a, c[a]) - centre[a];
      local[S_MOM1 + a] += x * pc;
      local[S_MOM2 + a] += x * x * pc;
      if (c[a] == 0 || c[a] == grid->n[a] - 1) wall = PETSC_TRUE;
    }
    if (wall) local[S_BOUNDARY] += pc;
    /* the face on the high side of c along each axis */
    for (PetscInt a = 0; a < d; a++) {
      PetscInt  off, r = o + (PetscInt)stride[a];
      PetscReal pr, lo, hi, J, px_l = 0, px_r = 0; /* the marginal of X (or Y) on both sides */
      const PetscReal inv_h = 1 / grid->h[a];
      if (c[a] == grid->n[a] - 1) continue;
      c[a]++;
      off = ItFPFaceOffset(grid, a, c);
      if (d > 1) {
        PetscInt   base;
        PetscBool *mask = g->sensor[a] ? g->sensor : ymask;
        px_r            = g->marg[ItDiagMarginalIndex(g, mask, c, &base)];
        c[a]--;
        px_l = g->marg[ItDiagMarginalIndex(g, mask, c, &base)];
      } else
        c[a]--;
      pr = PetscRealPart(pl[r]);
      lo = fp->flux_lo[a][off];
      hi = fp->flux_hi[a][off];
      if (!(pc > 0 && pr > 0 && lo > 0 && hi > 0))
        continue; /* underflow: skipped with its current */
      J = lo * pc - hi * pr;
      local[S_ENTROPY_RATE] += J * (g->lnp[o] - g->lnp[r]) * inv_h;
      {
        const PetscReal ilo = fp->irr_lo[a][off], ihi = fp->irr_hi[a][off];
        if (ilo > 0 && ihi > 0) {
          const PetscReal Ji = ilo * pc - ihi * pr, Fh = PetscLogReal(ilo / ihi);
          local[S_FLOW + a] += Ji * Fh * inv_h;
          local[S_EP + a] += Ji * (Fh + g->lnp[o] - g->lnp[r]) * inv_h;
        }
      }
      if (d > 1 && px_l > 0 && px_r > 0)
        local[g->sensor[a] ? S_INFO_X : S_INFO_Y] +=
            J * ((g->lnp[r] - PetscLogReal(px_r)) - (g->lnp[o] - PetscLogReal(px_l))) * inv_h;
      if (g->reference && g->lnref[o] > PETSC_MIN_REAL && g->lnref[r] > PETSC_MIN_REAL)
        local[S_KL_RATE] += J * ((g->lnp[r] - g->lnref[r]) - (g->lnp[o] - g->lnref[o])) * inv_h;
    }
  }
  PetscCall(VecRestoreArrayRead(g->p_local, &pl));
  PetscCall(ItGridSum(grid, S_COUNT, local, sum));
  for (PetscInt k = 0; k < S_COUNT; k++) sum[k] *= grid->cell_volume;

  /* columns */
  {
    const PetscReal mass = sum[S_MASS], S = -sum[S_PLNP];
    PetscReal       Sa[IT_MAX_DIM], ep = 0, flow_x = 0;
    g->boundary_mass      = sum[S_BOUNDARY] / mass;
    value[g->col.mass]    = mass;
    value[g->col.entropy] = S * info;
    for (PetscInt a = 0; a < d; a++) {
      const PetscReal mean         = sum[S_MOM1 + a] / mass;
      Sa[a]                        = ItDiagEntropyOf(&g->marg[g->off1[a]], grid->n[a], grid->h[a]);
      value[g->col.entropy_var[a]] = Sa[a] * info;
      value[g->col.mean[a]]        = mean + centre[a];
      value[g->col.var[a]]         = sum[S_MOM2 + a] / mass - mean * mean;
      value[g->col.entropy_production_var[a]] = sum[S_EP + a];
      value[g->col.entropy_flow[a]]           = sum[S_FLOW + a];
      value[g->col.heat_rate[a]]              = sum[S_FLOW + a];
      if (g->col.heat_rate_W[a] >= 0) {
        value[g->col.heat_rate_W[a]]   = sum[S_FLOW + a] * IT_KB * g->temperature / g->time_unit;
        value[g->col.heat_rate_ATP[a]] = sum[S_FLOW + a] / g->atp_kT / g->time_unit;
      }
      ep += sum[S_EP + a];
      if (g->sensor[a]) flow_x += sum[S_FLOW + a];
    }
    value[g->col.entropy_production] = ep;
    value[g->col.entropy_rate]       = sum[S_ENTROPY_RATE] * info;
    if (g->reference) {
      value[g->col.kl_to_stationary] = sum[S_KL] * info;
      value[g->col.kl_rate]          = sum[S_KL_RATE] * info;
    }
    if (d > 1) {
      PetscReal SX, SY, pairS[IT_MAX_DIM] = {0, 0, 0};
      if (d == 3)
        for (PetscInt a = 0; a < d; a++)
          for (PetscInt b = a + 1; b < d; b++)
            pairS[ItDiagPair(a, b)] =
                ItDiagEntropyOf(&g->marg[g->offpair[ItDiagPair(a, b)]], grid->n[a] * grid->n[b],
                                grid->h[a] * grid->h[b]);
      if (d == 2) {
        SX                       = g->sensor[0] ? Sa[0] : Sa[1];
        SY                       = g->sensor[0] ? Sa[1] : Sa[0];
        value[g->col.mi_pair[0]] = (Sa[0] + Sa[1] - S) * info;
      } else {
        PetscInt single = -1; /* the one axis of whichever of X, Y has one */
        for (PetscInt a = 0; a < d; a++)
          if ((g->nsensor == 1) == (PetscBool)g->sensor[a]) single = a;
        SX = g->nsensor == 1 ? Sa[single]
                             : pairS[ItDiagPair(single == 0 ? 1 : 0, single == 2 ? 1 : 2)];
        SY = g->nsensor == 1 ? pairS[ItDiagPair(single == 0 ? 1 : 0, single == 2 ? 1 : 2)]
                             : Sa[single];
        for (PetscInt a = 0; a < d; a++)
          for (PetscInt b = a + 1; b < d; b++)
            value[g->col.mi_pair[ItDiagPair(a, b)]] =
                (Sa[a] + Sa[b] - pairS[ItDiagPair(a, b)]) * info;
      }
      value[g->col.mutual_information] = (SX + SY - S) * info;
      value[g->col.info_flow_X]        = sum[S_INFO_X] * info;
      value[g->col.info_flow_Y]        = sum[S_INFO_Y] * info;
      /* undefined while X acquires no information (round-off against the dissipation) */
      value[g->col.cost_per_bit] = PetscAbsReal(sum[S_INFO_X]) > 1e-10 * PetscAbsReal(ep)
                                       ? flow_x / (sum[S_INFO_X] / ln2)
                                       : (PetscReal)NAN;
      if (g->col.decoding_mse >= 0) {
        /* E[(v - E[v|X])^2] = E[v^2] - ∫ (∫ v p)^2 / p_X over X, about the box centre */
        PetscReal explained = 0, cell_x = 1, base;
        PetscInt  mbase, nx             = g->nmarg - g->offdec;
        PetscInt  zero[IT_MAX_DIM] = {0, 0, 0};
        for (PetscInt a = 0; a < d; a++)
          if (g->sensor[a]) cell_x *= grid->h[a];
        (void)ItDiagMarginalIndex(g, g->sensor, zero, &mbase);
        for (PetscInt k = 0; k < nx; k++) {
          const PetscReal px = g->marg[mbase + k], m1 = g->marg[g->offdec + k];
          if (px > 0) explained += m1 * m1 / px;
        }
        base                       = sum[S_MOM2 + 0] / mass;
        value[g->col.decoding_mse] = base - explained * cell_x / mass;
      }
    }
  }
  PetscCall(PetscLogEventEnd(IT_DIAG_EVALUATE, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Adds the interval since the previous evaluation to the cumulative integrals
   of Π, Γ_i and İ_X (trapezoidal rule) and fills the *_cum columns. Not collective. */
PetscErrorCode ItDiagAccumulate(ItDiag g) {
  const PetscInt d = g->grid->dim;
  PetscReal      rate[IT_MAX_DIM + 2];

  PetscFunctionBegin;
  rate[0] = g->value[g->col.entropy_production];
  for (PetscInt a = 0; a < d; a++) rate[1 + a] = g->value[g->col.entropy_flow[a]];
  rate[1 + d] = d > 1 ? g->value[g->col.info_flow_X] * (g->bits ? PetscLogReal(2.0) : 1) : 0;
  if (PetscIsInfOrNanReal(g->t))
    PetscFunctionReturn(PETSC_SUCCESS); /* a stationary density has no time to integrate over */
  if (g->have_prev && g->t > g->t_prev)
    for (PetscInt k = 0; k < d + 2; k++)
      g->cum[k] += 0.5 * (g->t - g->t_prev) * (rate[k] + g->rate_prev[k]);
  if (!g->have_prev || g->t > g->t_prev) {
    for (PetscInt k = 0; k < d + 2; k++) g->rate_prev[k] = rate[k];
    g->t_prev    = g->t;
    g->have_prev = PETSC_TRUE;
  }
  g->value[g->col.entropy_production_cum] = g->cum[0];
  for (PetscInt a = 0; a < d; a++) g->value[g->col.entropy_flow_cum[a]] = g->cum[1 + a];
  if (d > 1)
    g->value[g->col.info_flow_X_cum] = g->cum[1 + d] * (g->bits ? 1 / PetscLogReal(2.0) : 1);
  PetscFunctionReturn(PETSC_SUCCESS);
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
  PetscCall(PetscFree(g->value));
  PetscCall(PetscFree2(g->marg_local, g->marg));
  PetscCall(PetscFree(g->lnp));
  PetscCall(PetscFree(g->lnref));
  PetscCall(VecDestroy(&g->p_local));
  PetscCall(VecDestroy(&g->reference));
  PetscCall(PetscFree(g));
  *diag = NULL;
  PetscFunctionReturn(PETSC_SUCCESS);
}
