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
   stationary density, whose grid mass is 1 - ν τ_ref).
   On a grid of two or more variables the other variables y move during the
   refractory time: the history holds besides the totals the same two
   quantities as fields over the cross-section of y (the threshold's cells,
   one mass per cell), carried forward by the re-entry map
   E = e^{τ_ref L_y} when they are recorded (src/fp/reentry.c): Q̃(y, t_k)
   and ν̃(y, t_k), so that ν̃_in(y, t) = ∂t Q̃(y, t - τ_ref) re-injects at
   t what crossed at t - τ_ref with its y moved over τ_ref. The fields'
   sums are the totals (E conserves mass): the totals keep the mass balance
   exact, the fields say where it re-enters. */
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
  /* two or more variables: the fields over the cross-section (ny cells), entry k's at
     Qf + k ny; the rate field before the start; work fields; the loss at order 4 */
  ItReentry  reentry;
  PetscInt   ny;
  PetscReal *Qf, *nuf, *pastf, *work, *spread;
  PetscReal *fixed_field; /* a post rank's copy: the solver's re-injection field at fixed_t */
  Vec        loss, shape;
  MPI_Comm   comm;
  PetscReal  bytes; /* what the memory ledger holds for it (ItRefractoryNoteMemory) */
};

/* The compartment's arrays in the memory ledger, with the density (the
   state beside it: grid mass + refractory_mass = 1): the history's entries
   (t, Q, nu at its capacity, and with two or more variables the fields
   Q̃, ν̃ over the cross-section), its work fields and its grid vectors.
   Called whenever they grow. Not collective. */
static PetscErrorCode ItRefractoryNoteMemory(ItRefractory h) {
  const PetscInt ny    = h->ny;
  PetscReal      reals = 3.0 * h->capacity, bytes;
  PetscInt       n;

  PetscFunctionBegin;
  if (ny)
    reals += 2.0 * h->capacity * ny + 5.0 * ny + (h->spread ? ny : 0) + (h->fixed_field ? ny : 0);
  bytes = reals * sizeof(PetscReal);
  for (PetscInt k = 0; k < 2; k++) {
    Vec v = k ? h->shape : h->loss;
    if (!v) continue;
    PetscCall(VecGetLocalSize(v, &n));
    bytes += (PetscReal)n * sizeof(PetscScalar);
  }
  ItMemoryAdd(IT_MEMORY_DENSITY, bytes - h->bytes);
  h->bytes = bytes;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A refractory time with two or more variables (the other variables move
   during it, src/fp/reentry.c) needs a model that does not depend on time
   (the re-entry map is computed once) and one threshold_reset axis. Collective. */
PetscErrorCode ItRefractoryCheck(ItGrid grid, ItModel model) {
  const ItGridInfo *info = ItGridGetInfo(grid);

  PetscFunctionBegin;
  for (PetscInt a = 0; a < info->dim; a++) {
    char option[64];
    if (info->dim == 1 || info->boundary[a] != IT_BOUNDARY_THRESHOLD_RESET ||
        info->refractory[a] == 0)
      continue;
    PetscCall(ItGridRefractoryOption(model, a, option, sizeof(option)));
    PetscCheck(ItModelGetTimeDependence(model) == IT_TIME_INDEPENDENT, info->comm,
               PETSC_ERR_USER_INPUT,
               "a refractory time (%g on %s) with %" PetscInt_FMT
               " variables and a model that depends on time (-protocol, or a formula in t): the "
               "other variables' motion during the refractory time is computed once; drop "
               "-protocol, or set %s 0",
               (double)info->refractory[a], ItModelGetVariableName(model, a), info->dim, option);
    for (PetscInt b = 0; b < info->dim; b++)
      PetscCheck(b == a || info->boundary[b] != IT_BOUNDARY_THRESHOLD_RESET, info->comm,
                 PETSC_ERR_USER_INPUT,
                 "a refractory time (%g on %s) with a second threshold_reset axis (%s): a "
                 "refractory neuron does not fire along another axis; set %s 0, or make %s a "
                 "wall (-grid_boundary)",
                 (double)info->refractory[a], ItModelGetVariableName(model, a),
                 ItModelGetVariableName(model, b), option, ItModelGetVariableName(model, b));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The history of grid's threshold_reset axis with τ_ref > 0, or NULL when no
   axis has one; with two or more variables its re-entry map when map (a
   post rank's copy, src/app/post.c, applies none: it is sent the fields).
   Collective. */
static PetscErrorCode ItRefractoryCreateWith(ItGrid grid, ItModel model, PetscBool map,
                                             ItRefractory *out) {
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
  h->comm     = info->comm;
  PetscCall(PetscMalloc3(h->capacity, &h->t, h->capacity, &h->Q, h->capacity, &h->nu));
  if (info->dim > 1) {
    PetscCall(ItReentryCreate(grid, model, axis, h->tau, map, &h->reentry));
    h->ny = ItReentryGetSize(h->reentry);
    PetscCall(PetscMalloc2(h->capacity * h->ny, &h->Qf, h->capacity * h->ny, &h->nuf));
    PetscCall(PetscMalloc2(h->ny, &h->pastf, 4 * h->ny, &h->work));
  }
  PetscCall(ItRefractoryNoteMemory(h));
  *out = h;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode ItRefractoryCreate(ItGrid grid, ItModel model, ItRefractory *out) {
  PetscFunctionBegin;
  PetscCall(ItRefractoryCreateWith(grid, model, PETSC_TRUE, out));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A post rank's copy (src/app/post.c): ItRefractoryCreate without the
   re-entry map, which it never applies. Collective. */
PetscErrorCode ItRefractoryCreateCopy(ItGrid grid, ItModel model, ItRefractory *out) {
  PetscFunctionBegin;
  PetscCall(ItRefractoryCreateWith(grid, model, PETSC_FALSE, out));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode ItRefractoryDestroy(ItRefractory *h) {
  PetscFunctionBegin;
  if (!*h) PetscFunctionReturn(PETSC_SUCCESS);
  ItMemoryAdd(IT_MEMORY_DENSITY, -(*h)->bytes);
  PetscCall(PetscFree3((*h)->t, (*h)->Q, (*h)->nu));
  PetscCall(PetscFree2((*h)->Qf, (*h)->nuf));
  PetscCall(PetscFree2((*h)->pastf, (*h)->work));
  PetscCall(PetscFree((*h)->spread));
  PetscCall(PetscFree((*h)->fixed_field));
  PetscCall(VecDestroy(&(*h)->loss));
  PetscCall(VecDestroy(&(*h)->shape));
  PetscCall(ItReentryDestroy(&(*h)->reentry));
  PetscCall(PetscFree(*h));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The cells of the cross-section whose fields the history keeps (0: one
   variable, scalars only). */
PetscInt ItRefractoryGetFieldSize(ItRefractory h) {
  return h->ny;
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

/* Room for one more entry at the end of the live ones: they move to the
   front, or the arrays double. Not collective. */
static PetscErrorCode ItRefractoryMakeRoom(ItRefractory h) {
  const PetscInt ny = h->ny;

  PetscFunctionBegin;
  if (h->start + h->count < h->capacity) PetscFunctionReturn(PETSC_SUCCESS);
  if (h->start > 0) { /* move the live entries to the front */
    PetscCall(PetscArraymove(h->t, h->t + h->start, h->count));
    PetscCall(PetscArraymove(h->Q, h->Q + h->start, h->count));
    PetscCall(PetscArraymove(h->nu, h->nu + h->start, h->count));
    if (ny) {
      PetscCall(PetscArraymove(h->Qf, h->Qf + h->start * ny, h->count * ny));
      PetscCall(PetscArraymove(h->nuf, h->nuf + h->start * ny, h->count * ny));
    }
    h->start = 0;
  }
  if (h->count == h->capacity) {
    PetscReal *t, *Q, *nu, *Qf = NULL, *nuf = NULL;
    PetscCall(PetscMalloc3(2 * h->capacity, &t, 2 * h->capacity, &Q, 2 * h->capacity, &nu));
    PetscCall(PetscArraycpy(t, h->t, h->count));
    PetscCall(PetscArraycpy(Q, h->Q, h->count));
    PetscCall(PetscArraycpy(nu, h->nu, h->count));
    PetscCall(PetscFree3(h->t, h->Q, h->nu));
    h->t = t, h->Q = Q, h->nu = nu;
    if (ny) {
      PetscCall(PetscMalloc2(2 * h->capacity * ny, &Qf, 2 * h->capacity * ny, &nuf));
      PetscCall(PetscArraycpy(Qf, h->Qf, h->count * ny));
      PetscCall(PetscArraycpy(nuf, h->nuf, h->count * ny));
      PetscCall(PetscFree2(h->Qf, h->nuf));
      h->Qf = Qf, h->nuf = nuf;
    }
    h->capacity *= 2;
    PetscCall(ItRefractoryNoteMemory(h));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The fields of a new entry k (two or more variables) from the exit field
   (masses per cross-section cell per unit time, summing to the rate):
   ν̃_k = E field, and Q̃_k = Q̃_{k-1} + the step's outflux, the trapezoid of
   ν̃ over the step scaled to the totals' increment Q - Q_{k-1} (the mass
   balance's, exact; the trapezoid says only where it went); the first entry
   Q̃_0 = Q E s with s the exit field's shape (uniform if it is zero), and
   the rate before the start ν̃_pre = ν_pre E s. Not collective. */
static PetscErrorCode ItRefractoryPushField(ItRefractory h, PetscInt k, PetscReal t, PetscReal Q,
                                            const PetscReal field[]) {
  const PetscInt ny = h->ny;
  PetscReal     *Qf = h->Qf + k * ny, *nuf = h->nuf + k * ny, *shape = h->work;

  PetscFunctionBegin;
  PetscCall(ItReentryApply(h->reentry, field, nuf));
  if (k == h->start) { /* the first entry: the compartment before the start */
    PetscReal sum = 0;
    for (PetscInt j = 0; j < ny; j++) sum += field[j];
    for (PetscInt j = 0; j < ny; j++) shape[j] = sum != 0 ? field[j] / sum : 1.0 / ny;
    PetscCall(ItReentryApply(h->reentry, shape, h->work + ny));
    for (PetscInt j = 0; j < ny; j++) {
      h->pastf[j] = h->past * h->work[ny + j];
      Qf[j]       = Q * h->work[ny + j];
    }
  } else {
    const PetscReal *Qp = Qf - ny, *nup = nuf - ny, dt = t - h->t[k - 1], dQ = Q - h->Q[k - 1];
    PetscReal        step = 0;
    for (PetscInt j = 0; j < ny; j++) step += 0.5 * dt * (nup[j] + nuf[j]);
    if (step != 0)
      for (PetscInt j = 0; j < ny; j++) Qf[j] = Qp[j] + dQ / step * (0.5 * dt * (nup[j] + nuf[j]));
    else { /* nothing crossed (the increment is round-off): spread it evenly, moved by E */
      if (!h->spread) {
        PetscCall(PetscMalloc1(ny, &h->spread));
        for (PetscInt j = 0; j < ny; j++) shape[j] = 1.0 / ny;
        PetscCall(ItReentryApply(h->reentry, shape, h->spread));
        PetscCall(ItRefractoryNoteMemory(h));
      }
      for (PetscInt j = 0; j < ny; j++) Qf[j] = Qp[j] + dQ * h->spread[j];
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Appends the state at the end of an accepted step (t after the last one),
   dropping what lies more than τ_ref back (one entry before t - τ_ref is
   kept: the interpolant's left end): the cumulative outflux Q, the rate nu
   and, with two or more variables, the exit field (ItRefractoryExitField;
   NULL with one). Not collective. */
PetscErrorCode ItRefractoryPush(ItRefractory h, PetscReal t, PetscReal Q, PetscReal nu,
                                const PetscReal field[]) {
  PetscFunctionBegin;
  PetscCheck(!h->ny == !field, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "refractory history: an exit field goes with two or more variables");
  while (h->count > 2 && h->t[h->start + 1] <= t - h->tau) {
    h->start++;
    h->count--;
    h->pruned = PETSC_TRUE;
  }
  PetscCall(ItRefractoryMakeRoom(h));
  PetscCheck(h->count == 0 || t > h->t[h->start + h->count - 1], PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "refractory history: step end %g not after %g", (double)t,
             (double)h->t[h->start + h->count - 1]);
  h->t[h->start + h->count]  = t;
  h->Q[h->start + h->count]  = Q;
  h->nu[h->start + h->count] = nu;
  if (h->ny) PetscCall(ItRefractoryPushField(h, h->start + h->count, t, Q, field));
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

/* Where s lies in the history: *k = -1 before the start (the constant rate
   ν_pre), else the entry k whose interval [t_{k-1}, t_k) holds s, or the
   last entry (*last) at or just after it. Not collective. */
static PetscErrorCode ItRefractoryLocate(ItRefractory h, PetscReal s, PetscInt *k,
                                         PetscBool *last) {
  PetscInt i;

  PetscFunctionBegin;
  *k    = -1;
  *last = PETSC_FALSE;
  if (h->count == 0 || s < h->t[h->start]) { /* before the start */
    PetscCheck(!h->pruned, PETSC_COMM_SELF, PETSC_ERR_PLIB, "refractory history: %g was dropped",
               (double)s);
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  i = h->start + h->count - 1;
  /* a step of τ_ref (1 + 1e-9) (a fixed step's round-off) reads the last entry */
  PetscCheck(s <= h->t[i] + 1e-9 * h->tau, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "refractory history: %g is after the last step %g", (double)s, (double)h->t[i]);
  *last = (PetscBool)(s >= h->t[i]);
  if (!*last)
    while (i > h->start && h->t[i - 1] > s) i--;
  *k = i;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The cubic Hermite interpolant on [t_{k-1}, t_k] at s: Q(s) = Σ w_i (Q_{k-1},
   ν_{k-1} dt, Q_k, ν_k dt)_i and Q'(s) = Σ dw_i (the same). */
static void ItRefractoryHermite(ItRefractory h, PetscInt k, PetscReal s, PetscReal w[4],
                                PetscReal dw[4]) {
  const PetscReal t0 = h->t[k - 1], dt = h->t[k] - t0, x = (s - t0) / dt;
  const PetscReal x2 = x * x, x3 = x2 * x;

  w[0] = 2 * x3 - 3 * x2 + 1, w[1] = x3 - 2 * x2 + x, w[2] = -2 * x3 + 3 * x2, w[3] = x3 - x2;
  dw[0] = (6 * x2 - 6 * x) / dt, dw[1] = (3 * x2 - 4 * x + 1) / dt;
  dw[2] = (-6 * x2 + 6 * x) / dt, dw[3] = (3 * x2 - 2 * x) / dt;
}

/* Q(s) and Q'(s) from the cubic Hermite interpolant of the history (0 before
   the start). s must not lie past the last entry. Not collective. */
static PetscErrorCode ItRefractoryInterpolate(ItRefractory h, PetscReal s, PetscReal *Q,
                                              PetscReal *dQ) {
  PetscInt  k;
  PetscBool last;

  PetscFunctionBegin;
  *Q = *dQ = 0;
  PetscCall(ItRefractoryLocate(h, s, &k, &last));
  if (k < 0) { /* before the start: the constant rate ν_pre */
    if (s >= -h->tau) {
      *Q  = h->past * (s + h->tau);
      *dQ = h->past;
    }
  } else if (last) {
    *Q  = h->Q[k];
    *dQ = h->nu[k];
  } else {
    const PetscReal dt = h->t[k] - h->t[k - 1];
    const PetscReal Q0 = h->Q[k - 1], Q1 = h->Q[k], n0 = h->nu[k - 1] * dt, n1 = h->nu[k] * dt;
    PetscReal       w[4], dw[4];
    ItRefractoryHermite(h, k, s, w, dw);
    *Q  = w[0] * Q0 + w[1] * n0 + w[2] * Q1 + w[3] * n1;
    *dQ = dw[0] * Q0 + dw[1] * n0 + dw[2] * Q1 + dw[3] * n1;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The re-injection field ν̃_in(y, t) = ∂t Q̃(y, t - τ_ref) (two or more
   variables): the masses per cross-section cell per unit time that re-enter
   at t. Not collective. */
static PetscErrorCode ItRefractoryInflowField(ItRefractory h, PetscReal t, PetscReal in[]) {
  const PetscInt  ny = h->ny;
  const PetscReal s  = t - h->tau;
  PetscInt        k;
  PetscBool       last;

  PetscFunctionBegin;
  PetscCall(ItRefractoryLocate(h, s, &k, &last));
  if (k < 0) /* before the start: the constant rate ν̃_pre */
    for (PetscInt j = 0; j < ny; j++) in[j] = s >= -h->tau ? h->pastf[j] : 0;
  else if (last)
    PetscCall(PetscArraycpy(in, h->nuf + k * ny, ny));
  else {
    const PetscReal  dt = h->t[k] - h->t[k - 1];
    const PetscReal *Q0 = h->Qf + (k - 1) * ny, *Q1 = h->Qf + k * ny;
    const PetscReal *n0 = h->nuf + (k - 1) * ny, *n1 = h->nuf + k * ny;
    PetscReal        w[4], dw[4];
    ItRefractoryHermite(h, k, s, w, dw);
    for (PetscInt j = 0; j < ny; j++)
      in[j] = dw[0] * Q0[j] + dw[1] * dt * n0[j] + dw[2] * Q1[j] + dw[3] * dt * n1[j];
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

/* F += scale × each cross-section cell's row of shape times field[j] /
   (the cross-section cell's area): the density re-injected by the currents
   field (masses per cross-section cell per unit time). Not collective. */
static PetscErrorCode ItRefractoryAddField(ItRefractory h, ItGrid grid, Vec shape,
                                           const PetscReal field[], PetscReal scale, Vec F) {
  const ItGridInfo  *info = ItGridGetInfo(grid);
  const PetscScalar *sa;
  PetscScalar       *fa;
  const PetscReal    area = info->cell_volume / info->h[h->axis];

  PetscFunctionBegin;
  PetscCall(VecGetArrayRead(shape, &sa));
  PetscCall(VecGetArray(F, &fa));
  ItGridForOwned(grid, c, l) {
    if (sa[l] == 0) continue;
    fa[l] += scale * (field[ItReentryIndex(h->reentry, c)] / area) * sa[l];
  }
  PetscCall(VecRestoreArray(F, &fa));
  PetscCall(VecRestoreArrayRead(shape, &sa));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* F += scale s(t), the re-injection density at time t: ν_in(t) shape with
   one variable; with more, each cross-section cell's row of shape times its
   re-injected current ν̃_in(y, t) / (cross-section cell's area). shape: the
   density re-injected per unit current (per unit rate with one variable), at
   the reset cells of every row (ItRefractoryResetVector, or the order-4
   closure's, src/fp/closure.c). Collective. */
PetscErrorCode ItRefractorySource(ItRefractory h, ItGrid grid, Vec shape, PetscReal t,
                                  PetscReal scale, Vec F) {
  PetscFunctionBegin;
  if (!h->ny) {
    PetscReal inflow;
    PetscCall(ItRefractoryGet(h, t, &inflow, NULL, NULL));
    if (inflow != 0) PetscCall(VecAXPY(F, scale * inflow, shape));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  if (h->fixed) { /* a post rank's copy: the solver's field */
    PetscCheck(t == h->fixed_t && h->fixed_field, PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "refractory copy: asked at %g, holds %g", (double)t, (double)h->fixed_t);
    PetscCall(ItRefractoryAddField(h, grid, shape, h->fixed_field, scale, F));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(ItRefractoryInflowField(h, t, h->work));
  PetscCall(ItRefractoryAddField(h, grid, shape, h->work, scale, F));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The exit field (two or more variables): the mass per unit time through the
   threshold face of each cross-section cell, *field (ny values, h's own, on
   every rank: each cell's from its owner, so the same numbers on any number
   of ranks), and its sum, the rate. From the faces' threshold coefficients,
   or at order 4 the threshold closure's loss (src/fp/closure.c). Collective. */
PetscErrorCode ItRefractoryExitField(ItRefractory h, ItFaces faces, ItGrid grid, Vec p,
                                     const PetscReal **field, PetscReal *rate) {
  const ItGridInfo  *info = ItGridGetInfo(grid);
  const PetscInt     a = h->axis, n = info->n[a], ny = h->ny;
  ItFPClosure        cl    = ItFacesGetClosure(faces);
  PetscReal         *local = h->work + 2 * ny, *exit = h->work + 3 * ny;
  const PetscReal   *lo;
  const PetscScalar *pa;

  PetscFunctionBegin;
  PetscCall(PetscArrayzero(local, ny));
  if (cl) {
    if (!h->loss) {
      PetscCall(VecDuplicate(p, &h->loss));
      PetscCall(ItRefractoryNoteMemory(h));
    }
    PetscCall(ItFPClosureAxis(cl, a, p, NULL, h->loss));
    PetscCall(VecGetArrayRead(h->loss, &pa));
  } else {
    PetscCall(ItFacesGetAxis(faces, a, &lo, NULL, NULL, NULL));
    PetscCall(VecGetArrayRead(p, &pa));
  }
  ItGridForOwned(grid, c, l) {
    PetscReal K;
    if (c[a] != n - 1) continue;
    if (cl)
      K = PetscRealPart(pa[l]);
    else {
      c[a]++;
      K = lo[ItFPFaceOffset(grid, a, c)] * PetscRealPart(pa[l]) / info->h[a];
      c[a]--;
    }
    local[ItReentryIndex(h->reentry, c)] = K * info->cell_volume;
  }
  PetscCall(VecRestoreArrayRead(cl ? h->loss : p, &pa));
  PetscCallMPI(MPIU_Allreduce(local, exit, (PetscMPIInt)ny, MPIU_REAL, MPIU_SUM, h->comm));
  *rate = 0;
  for (PetscInt j = 0; j < ny; j++) *rate += exit[j];
  *field = exit;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The re-injection's shape: the two reset cells' densities per unit current,
   (1 - w, w)/h along the axis (∫ r = 1 per unit of the other variables), in
   every row of the other variables, into r (a vector of the grid). Collective. */
PetscErrorCode ItRefractoryResetVector(ItRefractory h, ItGrid grid, Vec r) {
  const ItGridInfo *info = ItGridGetInfo(grid);
  PetscInt          k;
  PetscReal         w;
  PetscScalar      *ra;

  PetscFunctionBegin;
  ItGridResetCells(grid, h->axis, &k, &w);
  PetscCall(VecGetArrayWrite(r, &ra));
  ItGridForOwned(grid, c, l) {
    ra[l] = 0;
    if (c[h->axis] == k) ra[l] = (1 - w) / info->h[h->axis];
    if (c[h->axis] == k + 1) ra[l] = w / info->h[h->axis];
  }
  PetscCall(VecRestoreArrayWrite(r, &ra));
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

/* The re-injection field ν̃_in(y, t) (two or more variables; ny values,
   for a post rank's copy). Not collective. */
PetscErrorCode ItRefractoryGetInflowField(ItRefractory h, PetscReal t, PetscReal field[]) {
  PetscFunctionBegin;
  PetscCall(ItRefractoryInflowField(h, t, field));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A post rank's copy with two or more variables: the solver's re-injection
   field at the time of ItRefractorySetFixed (ny values, copied). Not
   collective. */
PetscErrorCode ItRefractorySetFixedField(ItRefractory h, const PetscReal field[]) {
  PetscFunctionBegin;
  if (!h->fixed_field) {
    PetscCall(PetscMalloc1(h->ny, &h->fixed_field));
    PetscCall(ItRefractoryNoteMemory(h));
  }
  PetscCall(PetscArraycpy(h->fixed_field, field, h->ny));
  PetscFunctionReturn(PETSC_SUCCESS);
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
   entries' t, Q and ν; with two or more variables then ny, the field ν̃_pre
   and the entries' fields Q̃ and ν̃ (ny each). Not collective. */
PetscErrorCode ItRefractoryGetState(ItRefractory h, PetscInt *n, PetscReal **state) {
  const PetscInt ny = h->ny, m = h->count;
  PetscReal     *s;

  PetscFunctionBegin;
  *n = 5 + 3 * m + (ny ? 1 + ny * (1 + 2 * m) : 0);
  PetscCall(PetscMalloc1(*n, &s));
  s[0] = h->tau, s[1] = h->past, s[2] = h->pruned, s[3] = h->total, s[4] = (PetscReal)m;
  PetscCall(PetscArraycpy(s + 5, h->t + h->start, m));
  PetscCall(PetscArraycpy(s + 5 + m, h->Q + h->start, m));
  PetscCall(PetscArraycpy(s + 5 + 2 * m, h->nu + h->start, m));
  if (ny) {
    PetscReal *f = s + 5 + 3 * m;
    f[0]         = (PetscReal)ny;
    PetscCall(PetscArraycpy(f + 1, h->pastf, ny));
    PetscCall(PetscArraycpy(f + 1 + ny, h->Qf + h->start * ny, m * ny));
    PetscCall(PetscArraycpy(f + 1 + ny + m * ny, h->nuf + h->start * ny, m * ny));
  }
  *state = s;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The history from ItRefractoryGetState's reals (a restart): bit for bit
   the one written. Not collective. */
PetscErrorCode ItRefractorySetState(ItRefractory h, PetscInt n, const PetscReal state[]) {
  const PetscInt count = n >= 5 ? (PetscInt)state[4] : -1, ny = h->ny;

  PetscFunctionBegin;
  PetscCheck(count >= 1 && n == 5 + 3 * count + (ny ? 1 + ny * (1 + 2 * count) : 0) &&
                 (!ny || state[5 + 3 * count] == (PetscReal)ny),
             PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED,
             "the checkpoint's refractory history is malformed or of another grid (%" PetscInt_FMT
             " values)",
             n);
  PetscCheck(state[0] == h->tau, PETSC_COMM_SELF, PETSC_ERR_FILE_UNEXPECTED,
             "the checkpoint's refractory time %g is not this run's %g", (double)state[0],
             (double)h->tau);
  if (count > h->capacity) {
    PetscCall(PetscFree3(h->t, h->Q, h->nu));
    PetscCall(PetscFree2(h->Qf, h->nuf));
    h->capacity = count;
    PetscCall(PetscMalloc3(h->capacity, &h->t, h->capacity, &h->Q, h->capacity, &h->nu));
    if (ny) PetscCall(PetscMalloc2(h->capacity * ny, &h->Qf, h->capacity * ny, &h->nuf));
    PetscCall(ItRefractoryNoteMemory(h));
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
  if (ny) {
    const PetscReal *f = state + 5 + 3 * count;
    PetscCall(PetscArraycpy(h->pastf, f + 1, ny));
    PetscCall(PetscArraycpy(h->Qf, f + 1 + ny, count * ny));
    PetscCall(PetscArraycpy(h->nuf, f + 1 + ny + count * ny, count * ny));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The stationary state with two or more variables (doc/physics.md §8.2):
   the rate is constant, so what re-enters is the exit field carried by E,
   S E J p (S the reset's shape per unit current, J the exit field), where
   the faces' immediate reset R = S J re-injects the exit field where it
   left. The operator of the stationary state is L + S (E - I) J, whose
   columns still sum to zero (E conserves mass); its null vector scaled by
   1/(1 + ν τ_ref) (ItFPRefractoryScale) is the stationary density. */

/* The reset's shape per unit current of these faces: the order-4 closure's,
   or h's own (order 2). Collective. */
static PetscErrorCode ItRefractoryShape(ItRefractory h, ItFaces faces, ItGrid grid, Vec p,
                                        Vec *shape) {
  ItFPClosure cl = ItFacesGetClosure(faces);

  PetscFunctionBegin;
  if (cl) {
    *shape = ItFPClosureGetShape(cl);
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  if (!h->shape) {
    PetscCall(VecDuplicate(p, &h->shape));
    PetscCall(ItRefractoryResetVector(h, grid, h->shape));
    PetscCall(ItRefractoryNoteMemory(h));
  }
  *shape = h->shape;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* F += scale S (E - minus I) J p: with minus 1 the correction of the
   faces' immediate reset, with 0 the stationary re-injection itself.
   Collective. */
PetscErrorCode ItRefractoryStationaryAdd(ItRefractory h, ItFaces faces, ItGrid grid, Vec p,
                                         PetscReal minus, PetscReal scale, Vec F) {
  const PetscReal *field;
  PetscReal        rate;
  Vec              shape = NULL;

  PetscFunctionBegin;
  PetscCheck(h->ny, PETSC_COMM_SELF, PETSC_ERR_PLIB, "the stationary re-entry needs two variables");
  PetscCall(ItRefractoryShape(h, faces, grid, p, &shape));
  PetscCall(ItRefractoryExitField(h, faces, grid, p, &field, &rate));
  PetscCall(ItReentryApply(h->reentry, field, h->work));
  for (PetscInt j = 0; j < h->ny; j++) h->work[j] -= minus * field[j];
  PetscCall(ItRefractoryAddField(h, grid, shape, h->work, scale, F));
  PetscFunctionReturn(PETSC_SUCCESS);
}

typedef struct {
  ItRefractory h;
  ItFaces      faces;
  ItGrid       grid;
  Mat          op;
  PetscInt     pin;
} ItRefractoryShell;

static PetscErrorCode ItRefractoryShellMult(Mat M, Vec x, Vec y) {
  ItRefractoryShell *s;
  PetscInt           lo, hi;
  PetscScalar        kept = 0;

  PetscFunctionBegin;
  PetscCall(MatShellGetContext(M, &s));
  PetscCall(MatMult(s->op, x, y));
  PetscCall(VecGetOwnershipRange(y, &lo, &hi));
  if (s->pin >= lo && s->pin < hi) PetscCall(VecGetValues(y, 1, &s->pin, &kept));
  PetscCall(ItRefractoryStationaryAdd(s->h, s->faces, s->grid, x, 1.0, -1.0, y)); /* op = -L */
  if (s->pin >= lo && s->pin < hi) PetscCall(VecSetValue(y, s->pin, kept, INSERT_VALUES));
  PetscCall(VecAssemblyBegin(y));
  PetscCall(VecAssemblyEnd(y));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ItRefractoryShellDestroy(Mat M) {
  ItRefractoryShell *s;

  PetscFunctionBegin;
  PetscCall(MatShellGetContext(M, &s));
  PetscCall(PetscFree(s));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* *M = op - S (E - I) J for op = -L, the stationary solve's operator with
   the faces' immediate reset (ItSolvePinned), except in the pinned row pin
   (global, -1: none), which keeps op's. Collective. */
PetscErrorCode ItRefractoryStationaryOperator(ItRefractory h, ItFaces faces, ItGrid grid, Mat op,
                                              PetscInt pin, Mat *M) {
  ItRefractoryShell *s;
  PetscInt           m, n, N, Nc;

  PetscFunctionBegin;
  PetscCall(PetscNew(&s));
  s->h = h, s->faces = faces, s->grid = grid, s->op = op, s->pin = pin;
  PetscCall(MatGetLocalSize(op, &m, &n));
  PetscCall(MatGetSize(op, &N, &Nc));
  PetscCall(MatCreateShell(PetscObjectComm((PetscObject)op), m, n, N, Nc, s, M));
  PetscCall(MatShellSetOperation(*M, MATOP_MULT, (void (*)(void))ItRefractoryShellMult));
  PetscCall(MatShellSetOperation(*M, MATOP_DESTROY, (void (*)(void))ItRefractoryShellDestroy));
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
