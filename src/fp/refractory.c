/* The refractory compartment of a transient with a refractory time τ_ref > 0
   (doc/physics.md §8.2): what crossed the threshold re-enters at the reset
   τ_ref later. The history of the accepted steps keeps, at each step's end
   t_k, the cumulative outflux Q(t_k) = ∫_0^{t_k} ν (the mass that left the
   grid through the threshold) and the rate ν(t_k) = J(x_th); between two
   steps Q is the cubic Hermite interpolant of (Q, ν) at both ends, so the
   re-injection rate ν_in(t) = Q'(t - τ_ref) is its derivative (continuous,
   piecewise quadratic, third order) and the mass re-injected over any interval
   is exactly the difference of Q. The compartment holds
   m_ref(t) = Q(t) - Q(t - τ_ref). Before the start the population fired at
   a constant rate ν_pre (ItRefractorySetPast): Q(s) = ν_pre (s + τ_ref) on
   [-τ_ref, 0], 0 before, so that the compartment starts with ν_pre τ_ref
   (0 for a density of mass 1; the stationary state's ν τ_ref for the
   stationary density, whose grid mass is 1 - ν τ_ref). One threshold_reset axis with τ_ref > 0 on a
   grid of one variable (the other variables would move during the refractory time). */
#include <infotherm/fp.h>

struct _p_ItRefractory {
  PetscInt   axis;
  PetscReal  tau;
  PetscInt   start, count, capacity; /* the live entries are [start, start + count) */
  PetscReal *t, *Q, *nu;
  PetscReal  past;   /* ν_pre: the rate before the first entry (t = 0) */
  PetscBool  pruned; /* the first entry is no longer the start's */
  PetscReal  total;  /* grid and compartment's mass at the start (the solver's) */
  /* a copy on post ranks (src/app/post.c): the solver's values at one time, or none */
  PetscBool fixed;
  PetscReal fixed_t, fixed_inflow, fixed_injected, fixed_held;
};

/* A refractory time holds on a grid of one variable only: the other
   variables would move during the refractory time, which neither the
   compartment nor the stationary scaling (ItFPRefractoryScale) holds.
   Collective. */
PetscErrorCode ItRefractoryCheck(ItGrid grid, ItModel model) {
  const ItGridInfo *info = ItGridGetInfo(grid);

  PetscFunctionBegin;
  for (PetscInt a = 0; a < info->dim; a++) {
    char option[64];
    if (info->dim == 1 || info->boundary[a] != IT_BOUNDARY_THRESHOLD_RESET ||
        info->refractory[a] == 0)
      continue;
    PetscCall(ItGridRefractoryOption(model, a, option, sizeof(option)));
    SETERRQ(info->comm, PETSC_ERR_USER_INPUT,
            "a refractory time (%g on %s) with %" PetscInt_FMT
            " variables: the other variables move during the refractory time, which the "
            "Fokker-Planck compartment does not hold; set %s 0, or use mc (its particles hold "
            "it)",
            (double)info->refractory[a], ItModelGetVariableName(model, a), info->dim, option);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The history of grid's threshold_reset axis with τ_ref > 0, or NULL when no
   axis has one. Collective. */
PetscErrorCode ItRefractoryCreate(ItGrid grid, ItModel model, ItRefractory *out) {
  const ItGridInfo *info = ItGridGetInfo(grid);
  ItRefractory      h;
  PetscInt          axis = -1;

  PetscFunctionBegin;
  *out = NULL;
  PetscCall(ItRefractoryCheck(grid, model));
  for (PetscInt a = 0; a < info->dim; a++)
    if (info->boundary[a] == IT_BOUNDARY_THRESHOLD_RESET && info->refractory[a] > 0) axis = a;
  if (axis < 0) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscNew(&h));
  h->axis     = axis;
  h->tau      = info->refractory[axis];
  h->capacity = 64;
  PetscCall(PetscMalloc3(h->capacity, &h->t, h->capacity, &h->Q, h->capacity, &h->nu));
  *out = h;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode ItRefractoryDestroy(ItRefractory *h) {
  PetscFunctionBegin;
  if (!*h) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscFree3((*h)->t, (*h)->Q, (*h)->nu));
  PetscCall(PetscFree(*h));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The constant rate ν_pre at which the population fired before t = 0 (set
   before the first entry, which holds Q(0) = ν_pre τ_ref). Not collective. */
void ItRefractorySetPast(ItRefractory h, PetscReal rate) {
  h->past = rate;
}

PetscReal ItRefractoryGetTime(ItRefractory h) {
  return h->tau;
}

PetscInt ItRefractoryGetAxis(ItRefractory h) {
  return h->axis;
}

/* Appends the state at the end of an accepted step (t after the last one),
   dropping what lies more than τ_ref back (one entry before t - τ_ref is
   kept: the interpolant's left end). Not collective. */
PetscErrorCode ItRefractoryPush(ItRefractory h, PetscReal t, PetscReal Q, PetscReal nu) {
  PetscFunctionBegin;
  while (h->count > 2 && h->t[h->start + 1] <= t - h->tau) {
    h->start++;
    h->count--;
    h->pruned = PETSC_TRUE;
  }
  if (h->start + h->count == h->capacity) {
    if (h->start > 0) { /* move the live entries to the front */
      PetscCall(PetscArraymove(h->t, h->t + h->start, h->count));
      PetscCall(PetscArraymove(h->Q, h->Q + h->start, h->count));
      PetscCall(PetscArraymove(h->nu, h->nu + h->start, h->count));
      h->start = 0;
    }
    if (h->count == h->capacity) {
      PetscReal *t, *Q, *nu;
      PetscCall(PetscMalloc3(2 * h->capacity, &t, 2 * h->capacity, &Q, 2 * h->capacity, &nu));
      PetscCall(PetscArraycpy(t, h->t, h->count));
      PetscCall(PetscArraycpy(Q, h->Q, h->count));
      PetscCall(PetscArraycpy(nu, h->nu, h->count));
      PetscCall(PetscFree3(h->t, h->Q, h->nu));
      h->t = t, h->Q = Q, h->nu = nu;
      h->capacity *= 2;
    }
  }
  PetscCheck(h->count == 0 || t > h->t[h->start + h->count - 1], PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "refractory history: step end %g not after %g", (double)t,
             (double)h->t[h->start + h->count - 1]);
  h->t[h->start + h->count]  = t;
  h->Q[h->start + h->count]  = Q;
  h->nu[h->start + h->count] = nu;
  h->count++;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The last entry: its time and cumulative outflux. Not collective. */
PetscErrorCode ItRefractoryGetLast(ItRefractory h, PetscReal *t, PetscReal *Q) {
  PetscFunctionBegin;
  PetscCheck(h->count > 0, PETSC_COMM_SELF, PETSC_ERR_PLIB, "refractory history is empty");
  *t = h->t[h->start + h->count - 1];
  *Q = h->Q[h->start + h->count - 1];
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Q(s) and Q'(s) from the cubic Hermite interpolant of the history (0 before
   the start). s must not lie past the last entry. Not collective. */
static PetscErrorCode ItRefractoryInterpolate(ItRefractory h, PetscReal s, PetscReal *Q,
                                              PetscReal *dQ) {
  PetscInt k;

  PetscFunctionBegin;
  *Q = *dQ = 0;
  if (h->count == 0 || s < h->t[h->start]) { /* before the start: the constant rate ν_pre */
    PetscCheck(!h->pruned, PETSC_COMM_SELF, PETSC_ERR_PLIB, "refractory history: %g was dropped",
               (double)s);
    if (s >= -h->tau) {
      *Q  = h->past * (s + h->tau);
      *dQ = h->past;
    }
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  k = h->start + h->count - 1;
  /* a step of τ_ref (1 + 1e-9) (a fixed step's round-off) reads the last entry */
  PetscCheck(s <= h->t[k] + 1e-9 * h->tau, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "refractory history: %g is after the last step %g", (double)s, (double)h->t[k]);
  if (s >= h->t[k]) {
    *Q  = h->Q[k];
    *dQ = h->nu[k];
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  while (k > h->start && h->t[k - 1] > s) k--;
  {
    const PetscReal t0 = h->t[k - 1], dt = h->t[k] - t0, x = (s - t0) / dt;
    const PetscReal Q0 = h->Q[k - 1], Q1 = h->Q[k], n0 = h->nu[k - 1] * dt, n1 = h->nu[k] * dt;
    const PetscReal x2 = x * x, x3 = x2 * x;
    *Q = (2 * x3 - 3 * x2 + 1) * Q0 + (x3 - 2 * x2 + x) * n0 + (-2 * x3 + 3 * x2) * Q1 +
         (x3 - x2) * n1;
    *dQ = ((6 * x2 - 6 * x) * Q0 + (3 * x2 - 4 * x + 1) * n0 + (-6 * x2 + 6 * x) * Q1 +
           (3 * x2 - 2 * x) * n1) /
          dt;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* At time t (at most the last entry's): the re-injection rate ν_in(t) =
   Q'(t - τ_ref), the cumulative re-injected mass Q(t - τ_ref), and (when t is
   the last entry's) the compartment's mass m_ref = Q(t) - Q(t - τ_ref).
   Any output may be NULL. Not collective. */
PetscErrorCode ItRefractoryGet(ItRefractory h, PetscReal t, PetscReal *inflow, PetscReal *injected,
                               PetscReal *held) {
  PetscReal Qin, nu_in, Qt, dQ;

  PetscFunctionBegin;
  if (h->fixed) { /* a post rank's copy: the solver's values */
    PetscCheck(t == h->fixed_t, PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "refractory copy: asked at %g, holds %g", (double)t, (double)h->fixed_t);
    if (inflow) *inflow = h->fixed_inflow;
    if (injected) *injected = h->fixed_injected;
    if (held) *held = h->fixed_held;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(ItRefractoryInterpolate(h, t - h->tau, &Qin, &nu_in));
  if (inflow) *inflow = nu_in;
  if (injected) *injected = Qin;
  if (held) {
    PetscCall(ItRefractoryInterpolate(h, t, &Qt, &dQ));
    *held = Qt - Qin;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The re-injection's shape: the two reset cells' densities per unit rate,
   (1 - w, w)/cell volume (∫ r = 1), into r (a vector of the grid). Collective. */
PetscErrorCode ItRefractoryResetVector(ItRefractory h, ItGrid grid, Vec r) {
  const ItGridInfo *info = ItGridGetInfo(grid);
  PetscInt          k, c[IT_MAX_DIM] = {0};
  PetscReal         w;

  PetscFunctionBegin;
  PetscCall(VecSet(r, 0));
  ItGridResetCells(grid, h->axis, &k, &w);
  for (PetscInt j = 0; j < 2; j++) {
    PetscInt row;
    c[h->axis] = k + j;
    PetscCall(ItGridGlobalIndex(grid, c, &row));
    if (row >= 0) {
      PetscInt lo, hi;
      PetscCall(VecGetOwnershipRange(r, &lo, &hi));
      if (row >= lo && row < hi)
        PetscCall(VecSetValue(r, row, (j ? w : 1 - w) / info->cell_volume, INSERT_VALUES));
    }
  }
  PetscCall(VecAssemblyBegin(r));
  PetscCall(VecAssemblyEnd(r));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A post rank's copy (src/app/post.c): ItRefractoryGet at t returns the
   solver's values, bit for bit, until ItRefractorySetState. Not collective. */
void ItRefractorySetFixed(ItRefractory h, PetscReal t, PetscReal inflow, PetscReal injected,
                          PetscReal held) {
  h->fixed          = PETSC_TRUE;
  h->fixed_t        = t;
  h->fixed_inflow   = inflow;
  h->fixed_injected = injected;
  h->fixed_held     = held;
}

/* The mass grid and compartment hold together (set by the solver at the
   start, kept through a checkpoint). Not collective. */
void ItRefractorySetTotal(ItRefractory h, PetscReal total) {
  h->total = total;
}

PetscReal ItRefractoryGetTotal(ItRefractory h) {
  return h->total;
}

/* The history as n reals for a checkpoint (*state allocated, the caller
   frees it): τ_ref, ν_pre, pruned, the total mass, the count, then the
   entries' t, Q and ν. Not collective. */
PetscErrorCode ItRefractoryGetState(ItRefractory h, PetscInt *n, PetscReal **state) {
  PetscReal *s;

  PetscFunctionBegin;
  *n = 5 + 3 * h->count;
  PetscCall(PetscMalloc1(*n, &s));
  s[0] = h->tau, s[1] = h->past, s[2] = h->pruned, s[3] = h->total, s[4] = (PetscReal)h->count;
  PetscCall(PetscArraycpy(s + 5, h->t + h->start, h->count));
  PetscCall(PetscArraycpy(s + 5 + h->count, h->Q + h->start, h->count));
  PetscCall(PetscArraycpy(s + 5 + 2 * h->count, h->nu + h->start, h->count));
  *state = s;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The history from ItRefractoryGetState's reals (a restart): bit for bit
   the one written. Not collective. */
PetscErrorCode ItRefractorySetState(ItRefractory h, PetscInt n, const PetscReal state[]) {
  const PetscInt count = n >= 5 ? (PetscInt)state[4] : -1;

  PetscFunctionBegin;
  PetscCheck(count >= 1 && n == 5 + 3 * count, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED,
             "the checkpoint's refractory history is malformed (%" PetscInt_FMT " values)", n);
  PetscCheck(state[0] == h->tau, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED,
             "the checkpoint's refractory time %g is not this run's %g", (double)state[0],
             (double)h->tau);
  if (count > h->capacity) {
    PetscCall(PetscFree3(h->t, h->Q, h->nu));
    h->capacity = count;
    PetscCall(PetscMalloc3(h->capacity, &h->t, h->capacity, &h->Q, h->capacity, &h->nu));
  }
  h->fixed  = PETSC_FALSE;
  h->past   = state[1];
  h->pruned = (PetscBool)(state[2] != 0);
  h->total  = state[3];
  h->start  = 0;
  h->count  = count;
  PetscCall(PetscArraycpy(h->t, state + 5, count));
  PetscCall(PetscArraycpy(h->Q, state + 5 + count, count));
  PetscCall(PetscArraycpy(h->nu, state + 5 + 2 * count, count));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Attaches h to the density p (PetscObjectCompose), so that a consumer of a
   transient's state (the diagnostics) reads its compartment; NULL detaches.
   h stays the caller's. */
PetscErrorCode ItRefractoryAttach(ItRefractory h, Vec p) {
  PetscContainer c = NULL;

  PetscFunctionBegin;
  if (h) {
    PetscCall(PetscContainerCreate(PETSC_COMM_SELF, &c));
    PetscCall(PetscContainerSetPointer(c, h));
  }
  PetscCall(PetscObjectCompose((PetscObject)p, "ItRefractory", (PetscObject)c));
  PetscCall(PetscContainerDestroy(&c));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The history attached to p, or NULL (a stationary density, or one read). */
PetscErrorCode ItRefractoryQuery(Vec p, ItRefractory *h) {
  PetscContainer c = NULL;

  PetscFunctionBegin;
  *h = NULL;
  PetscCall(PetscObjectQuery((PetscObject)p, "ItRefractory", (PetscObject *)&c));
  if (c) PetscCall(PetscContainerGetPointer(c, (void **)h));
  PetscFunctionReturn(PETSC_SUCCESS);
}
