/* Scharfetter–Gummel finite volumes for J_i = A_i p - ∂i(D_i p). Writing
   q = D_i p and a = A_i/D_i (frozen on the face), J = a q - ∂i q is solved
   exactly across the face, which gives
     J = [B(-a h) q_{c-1} - B(a h) q_c] / h,   B(z) = z/(e^z - 1),
   exact for the equilibrium q ∝ exp(∫a) of gradient drifts, upwinding where
   the cell Péclet number |a h| is large and central where it is small. Each
   face flux enters the two cells it separates with opposite signs, so the
   columns of L sum to zero (mass is conserved) and the off-diagonals are
   non-negative (an M-matrix: backward Euler keeps p >= 0). */
#include <infotherm/fp.h>
#include <math.h>
#include <petscblaslapack.h>

static PetscLogEvent IT_FP_FACES = 0, IT_FP_ASSEMBLE = 0, IT_FP_APPLY = 0,
                     IT_FP_LEVEL = 0; /* in -log_view */

/* Face coefficients along each axis: the face on the low side of owned cell
   c carries J = lo[c] p_{c-1} - hi[c] p_c; one extra face past the last owned
   cell; zero on the walls. irr_lo/irr_hi hold the same for the irreversible
   drift when a variable is odd (-parity), otherwise they alias lo/hi. */
struct _p_ItFaces {
  ItGrid      grid;
  ItModel     model;
  ItModelWork work; /* the faces' own evaluation workspace: the model stays const */
  PetscReal   t;
  PetscBool   computed;
  /* the Scharfetter–Gummel coefficients at t and p are held, the fourth-order weights not
     (ItFacesRestoreOrder): the next computation at t and p computes the weights alone */
  PetscBool  weights_due;
  PetscBool  noted;            /* in the memory ledger: from the first computation (ItFacesNote) */
  PetscInt   state;            /* counts the computations: readers see that the faces changed */
  PetscBool  level;            /* a multigrid level's faces: bad faces left out, not refused */
  PetscReal  p[IT_MAX_PARAMS]; /* the parameters the coefficients were computed with */
  PetscReal *lo[IT_MAX_DIM], *hi[IT_MAX_DIM], *irr_lo[IT_MAX_DIM], *irr_hi[IT_MAX_DIM];
  PetscReal *x, *A, *D, *Dcell; /* pencil workspace */
  /* the fourth-order operator (-fp_order 4; a multigrid level keeps order 2):
     the face on the low side of owned cell c carries
     J = w[0] p_{c-2} + w[1] p_{c-1} + w[2] p_c + w[3] p_{c+1}, w = w4[a] + 4 off;
     under -fp_weights single (ItGridInfo's single_weights) the weights are
     kept rounded to single precision in w4s instead (w4 stays NULL): every
     reader (the product, the assembled matrix, the per-cell currents) takes
     those, so the operator is one; ItFacesPencilFourth computes a pencil's
     in double in wrow and rounds them once */
  PetscInt   order;
  PetscReal  peclet;      /* the blend's half-weight cell Péclet number (-fp_peclet) */
  PetscReal  resolution;  /* and resolution number h^2 |dA/dx| / D (-fp_resolution) */
  PetscReal  guard_width; /* a transient's guard: R_v = h^2 / (guard_width v_a) (-fp_guard_width) */
  PetscInt   fallback;    /* -fp_fallback: IT_FALLBACK_* (ItFPFallback) */
  PetscReal *w4[IT_MAX_DIM];
  float     *w4s[IT_MAX_DIM];
  PetscReal *wrow;
  /* workspace of ItFacesPencilTheta: the points half a cell off a pencil's
     cells along the other axes, the drift and diffusion there, and the faces'
     weights and resolution numbers */
  PetscReal *sx, *sA, *sD, *theta, *rown;
  /* the guard's renewal (ItFacesFourthWeights) at the time and parameters the
     faces hold: per face of order 4 what its weight takes from the model, the
     cell Péclet number over -fp_peclet, the drift's resolution number
     h^2 k_a / D_a and the stationary law's R_s (3 numbers, stride 3, face
     offset order), filled by ItFacesComputeWith while the guard is on;
     ItFacesPencilTheta's per-pencil copies in pe, rk. guard_cached: held */
  PetscReal *pe, *rk, *guard_cache[IT_MAX_DIM];
  PetscBool  guard_cached;
  /* during a renewal that may leave faces (ItFacesFourthWeights): the guard's variance along
     the pencils' axis before it */
  PetscBool renew_skip;
  PetscReal renew_var;
  /* per axis, over this rank's faces of order 4: the sums of theta R^2 and
     theta (theta the face's fourth-order weight, R its resolution number
     h^2 |dA/dx| / D), for ItFacesGetResolution */
  PetscReal res_sum[IT_MAX_DIM], res_weight[IT_MAX_DIM];
  /* a transient's guard (ItFacesSetDensity): the density's variance along
     each axis at fixed other variables, from its covariance; 0 where it
     keeps the drift's width (a periodic axis, a singular covariance). guard
     false: none (stationary, spectrum, the faces before the first density) */
  PetscBool guard;
  PetscReal guard_var[IT_MAX_DIM];
  /* the first bad face in natural order (axis, then face index), reported by
     ItFacesCheck: its axis (-1: none), what fails there, the drift and
     diffusion, and the point (the face, or the cell whose diffusion fails) */
  PetscInt  bad_axis;
  PetscReal bad_key, bad_kind, bad_A, bad_D, bad_point[IT_MAX_DIM];
  Mat       reset;   /* threshold_reset axes: the re-injection R (src/fp/boundary.c), else NULL */
  PetscBool delayed; /* R leaves out the axes with a refractory time (a transient's compartment) */
  /* -fp_order 4 with a threshold_reset axis: its closures (src/fp/closure.c), else NULL */
  ItFPClosure closure;
};

/* What fails at a bad face. */
enum { IT_FACE_DRIFT, IT_FACE_DIFFUSION, IT_FACE_PECLET };

struct _p_ItFP {
  ItFaces faces;
  Mat     L; /* dp/dt = L p, assembled from faces */
};

/* The bytes of a set of faces, for the memory ledger: per axis the two
   coefficients of every face, the reversed pair of a model with odd
   variables, the order-4 weights. */
static PetscReal ItFacesBytes(ItFaces f) {
  PetscReal         bytes = 0;
  const ItGridInfo *info  = ItGridGetInfo(f->grid);

  for (PetscInt a = 0; a < info->dim; a++) {
    const PetscReal nfaces = (PetscReal)(info->nlocal / info->xm[a] * (info->xm[a] + 1));
    bytes += nfaces * sizeof(PetscReal) *
                 (2 + (f->w4[a] ? 4 : 0) + (f->guard_cache[a] ? 3 : 0) +
                  (f->irr_lo[a] != f->lo[a] ? 2 : 0)) +
             nfaces * sizeof(float) * (f->w4s[a] ? 4 : 0);
  }
  return bytes;
}

/* The ledger's share of the faces changes by sign times their bytes, once
   they are noted: a set is noted at its first computation (ItFacesNote),
   when its arrays are first written. Until then they are not resident
   (allocated, never touched): a multigrid level's faces, which ItMGSetLazy
   may never compute, and the weights ItFacesSetLevel and
   ItFacesSetRatesOnly free unwritten count for nothing. Not collective. */
static void ItFacesLedger(ItFaces f, PetscReal sign) {
  if (f->noted) ItMemoryAdd(IT_MEMORY_FACES, sign * ItFacesBytes(f));
}

/* The faces' bytes into the ledger, at their first computation. Not collective. */
static void ItFacesNote(ItFaces f) {
  if (f->noted) return;
  f->noted = PETSC_TRUE;
  ItFacesLedger(f, 1);
}

/* PetscIsInfOrNanReal inline (PETSc's is two calls into the library, per
   number of every face in the coefficients' checks). */
static inline PetscBool ItFPNotFinite(PetscReal v) {
  return (PetscBool)!isfinite(v);
}

/* B(z) = z/(e^z - 1), accurate through z = 0 and for large |z|. */
static inline PetscReal ItBernoulli(PetscReal z) {
  if (PetscAbsReal(z) < 1e-10) return 1.0 - 0.5 * z;
  return z / expm1(z);
}

PetscErrorCode ItFacesCreate(ItGrid grid, ItModel model, ItFaces *out) {
  const ItGridInfo *info = ItGridGetInfo(grid);
  ItFaces           f;
  const PetscInt    d    = info->dim;
  PetscInt          maxm = 0;

  PetscFunctionBegin;
  if (!IT_FP_FACES) {
    PetscCall(PetscLogEventRegister("ItFacesCompute", MAT_CLASSID, &IT_FP_FACES));
    PetscCall(PetscLogEventRegister("ItFPAssemble", MAT_CLASSID, &IT_FP_ASSEMBLE));
    PetscCall(PetscLogEventRegister("ItFPApply", MAT_CLASSID, &IT_FP_APPLY));
    /* the coarse multigrid levels' assemblies, apart from the grid's own */
    PetscCall(PetscLogEventRegister("ItFPAssembleLevel", MAT_CLASSID, &IT_FP_LEVEL));
  }
  PetscCall(PetscNew(&f));
  f->grid  = grid;
  f->model = model;
  PetscCall(ItModelWorkCreate(model, &f->work));
  f->t           = PETSC_MIN_REAL;
  f->order       = info->order_fp;
  f->peclet      = info->peclet;
  f->resolution  = info->resolution;
  f->guard_width = info->guard_width;
  f->fallback    = info->fallback;
  if (info->threshold) PetscCall(ItFPResetCreate(grid, &f->reset));
  if (f->order == 4) PetscCall(ItFPClosureCreate(grid, model, &f->closure));
  for (PetscInt a = 0; a < d; a++) {
    const PetscInt nfaces = info->nlocal / info->xm[a] * (info->xm[a] + 1);
    PetscCall(PetscMalloc2(nfaces, &f->lo[a], nfaces, &f->hi[a]));
    if (f->order == 4 && info->single_weights)
      PetscCall(PetscMalloc1(4 * nfaces, &f->w4s[a]));
    else if (f->order == 4)
      PetscCall(PetscMalloc1(4 * nfaces, &f->w4[a]));
    f->irr_lo[a] = f->lo[a];
    f->irr_hi[a] = f->hi[a];
    if (ItModelHasOddVariables(model))
      PetscCall(PetscMalloc2(nfaces, &f->irr_lo[a], nfaces, &f->irr_hi[a]));
    maxm = PetscMax(maxm, info->xm[a]);
  }
  /* room for a pencil's faces and cells, and the reversed faces */
  PetscCall(PetscMalloc4((3 * maxm + 4) * d, &f->x, (3 * maxm + 4) * d, &f->A, (3 * maxm + 4) * d,
                         &f->D, maxm + 2, &f->Dcell));
  if (f->order == 4) {
    const PetscInt ns = (maxm + 2) * 2 * (d - 1) * d + 1;
    PetscCall(
        PetscMalloc5(ns, &f->sx, ns, &f->sA, ns, &f->sD, maxm + 1, &f->theta, maxm + 1, &f->rown));
    PetscCall(PetscMalloc2(maxm + 1, &f->pe, maxm + 1, &f->rk));
    if (info->single_weights) PetscCall(PetscMalloc1(4 * (maxm + 1), &f->wrow));
  }
  *out = f; /* in the ledger from the first computation (ItFacesNote) */
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Marks the faces of a coarse multigrid level: the fine grid's faces have
   been checked, and a coarse face whose Scharfetter–Gummel rate over- or
   underflows (the cell Peclet number doubles per level) carries no flux
   there instead of stopping the run. Not collective. */
PetscErrorCode ItFacesSetLevel(ItFaces faces) {
  PetscFunctionBegin;
  faces->level           = PETSC_TRUE;
  faces->order           = 2; /* the levels precondition the fourth-order operator */
  const ItGridInfo *info = ItGridGetInfo(faces->grid);
  ItFacesLedger(faces, -1); /* the ledger follows the freed weights */
  for (PetscInt a = 0; a < info->dim; a++) PetscCall(PetscFree(faces->w4[a]));
  for (PetscInt a = 0; a < info->dim; a++) PetscCall(PetscFree(faces->w4s[a]));
  for (PetscInt a = 0; a < info->dim; a++) PetscCall(PetscFree(faces->guard_cache[a]));
  faces->guard_cached = PETSC_FALSE;
  PetscCall(ItFPClosureDestroy(&faces->closure));
  ItFacesLedger(faces, 1);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Faces for their Scharfetter–Gummel coefficients and checks alone
   (ItSolveCheckScales' rates): the fourth-order weights, which neither the
   rates nor the checks read, are not computed. A threshold's closures stay
   (their faces are checked). Not collective. */
PetscErrorCode ItFacesSetRatesOnly(ItFaces faces) {
  const ItGridInfo *info = ItGridGetInfo(faces->grid);

  PetscFunctionBegin;
  if (faces->order != 4 || faces->closure) PetscFunctionReturn(PETSC_SUCCESS);
  ItFacesLedger(faces, -1);
  faces->order = 2;
  for (PetscInt a = 0; a < info->dim; a++) PetscCall(PetscFree(faces->w4[a]));
  for (PetscInt a = 0; a < info->dim; a++) PetscCall(PetscFree(faces->w4s[a]));
  ItFacesLedger(faces, 1);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Faces of ItFacesSetRatesOnly back to the grid's order 4: the weights are
   allocated, and computed at the next computation. When that is at the time
   and parameters the faces hold (the diagnostics' check at t = 0 handed to
   the solver or to their first evaluation), the Scharfetter–Gummel
   coefficients, their checks and the reset are those held and the weights
   alone are computed (ItFacesComputeWith): the same numbers as a full
   computation, whose weights take the same points of the model. Nothing for
   faces of the grid's order. Not collective. */
PetscErrorCode ItFacesRestoreOrder(ItFaces faces) {
  const ItGridInfo *info = ItGridGetInfo(faces->grid);

  PetscFunctionBegin;
  if (faces->level || faces->order == info->order_fp || info->order_fp != 4)
    PetscFunctionReturn(PETSC_SUCCESS);
  ItFacesLedger(faces, -1);
  faces->order = 4;
  for (PetscInt a = 0; a < info->dim; a++) { /* as ItFacesCreate */
    const PetscInt nfaces = info->nlocal / info->xm[a] * (info->xm[a] + 1);
    if (info->single_weights)
      PetscCall(PetscMalloc1(4 * nfaces, &faces->w4s[a]));
    else
      PetscCall(PetscMalloc1(4 * nfaces, &faces->w4[a]));
  }
  ItFacesLedger(faces, 1);
  faces->weights_due = faces->computed;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Whether the faces are a set of ItFacesSetRatesOnly below the grid's order
   (their fourth-order weights not computed). Not collective. */
PetscBool ItFacesIsRatesOnly(ItFaces faces) {
  return (PetscBool)(!faces->level && faces->order != ItGridGetInfo(faces->grid)->order_fp);
}

PetscErrorCode ItFacesDestroy(ItFaces *faces) {
  ItFaces f = *faces;

  PetscFunctionBegin;
  if (!f) PetscFunctionReturn(PETSC_SUCCESS);
  ItFacesLedger(f, -1);
  const ItGridInfo *info = ItGridGetInfo(f->grid);
  for (PetscInt a = 0; a < info->dim; a++) {
    if (f->irr_lo[a] != f->lo[a]) PetscCall(PetscFree2(f->irr_lo[a], f->irr_hi[a]));
    PetscCall(PetscFree2(f->lo[a], f->hi[a]));
    PetscCall(PetscFree(f->w4[a]));
    PetscCall(PetscFree(f->w4s[a]));
    PetscCall(PetscFree(f->guard_cache[a]));
  }
  PetscCall(PetscFree4(f->x, f->A, f->D, f->Dcell));
  PetscCall(PetscFree5(f->sx, f->sA, f->sD, f->theta, f->rown));
  PetscCall(PetscFree2(f->pe, f->rk));
  PetscCall(PetscFree(f->wrow));
  PetscCall(MatDestroy(&f->reset));
  PetscCall(ItFPClosureDestroy(&f->closure));
  PetscCall(ItModelWorkDestroy(&f->work));
  PetscCall(PetscFree(*faces));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode ItFacesGetAxis(ItFaces faces, PetscInt axis, const PetscReal **lo,
                              const PetscReal **hi, const PetscReal **irr_lo,
                              const PetscReal **irr_hi) {
  PetscFunctionBegin;
  if (lo) *lo = faces->lo[axis];
  if (hi) *hi = faces->hi[axis];
  if (irr_lo) *irr_lo = faces->irr_lo[axis];
  if (irr_hi) *irr_hi = faces->irr_hi[axis];
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Whether entropy production and flow use the irreversible drift (odd variables). */
PetscBool ItFacesIrreversible(ItFaces faces) {
  return (PetscBool)(faces->irr_lo[0] != faces->lo[0]);
}

/* The drift and diffusion of one pencil along axis a through cell c (c[a]
   ignored), at the pencil's faces and at its cells including one neighbour on
   each side, with the parameters p at time t. With `irr`, the drift at the
   faces is its irreversible part A^irr_i(x) = [A_i(x) + ε_i A_i(εx)]/2
   (doc/physics.md §3b), evaluated also at the time-reversed points εx. */
static PetscErrorCode ItFacesPencilEvaluate(ItFaces f, PetscInt a, const PetscInt c[],
                                            const PetscReal p[], PetscBool irr) {
  ItGrid            grid  = f->grid;
  const ItGridInfo *info  = ItGridGetInfo(grid);
  ItModel           model = f->model;
  const PetscInt    d = info->dim, xs = info->xs[a], xm = info->xm[a];
  const PetscInt    nface = xm + 1, npt = nface + xm + 2;

  PetscFunctionBegin;
  /* faces xs .. xs+xm (face k lies between cells k-1 and k), then cells xs-1 .. xs+xm; on a
     periodic axis face 0 is face n and the cells beyond the ends wrap, so that both ends'
     coefficients are the same numbers */
  for (PetscInt k = 0; k < npt; k++) {
    const PetscBool periodic = (PetscBool)(info->boundary[a] == IT_BOUNDARY_PERIODIC);
    const PetscInt  n = info->n[a], face = xs + k, cell = xs - 1 + (k - nface);
    for (PetscInt b = 0; b < d; b++) f->x[k * d + b] = ItGridCoordinate(grid, b, c[b]);
    f->x[k * d + a] = k < nface ? info->lo[a] + (periodic && face == 0 ? n : face) * info->h[a]
                                : ItGridCoordinate(grid, a, periodic ? (cell + n) % n : cell);
  }
  PetscCall(ItModelEvaluateWork(f->work, f->t, p, npt, f->x, f->A, f->D));
  if (irr) {
    PetscReal *Ar = f->A + npt * d, *Dr = f->D + npt * d, *xr = f->x + npt * d;
    for (PetscInt k = 0; k < nface; k++)
      for (PetscInt b = 0; b < d; b++) xr[k * d + b] = ItModelGetParity(model, b) * f->x[k * d + b];
    PetscCall(ItModelEvaluateWork(f->work, f->t, p, nface, xr, Ar, Dr));
    for (PetscInt k = 0; k < nface; k++)
      f->A[k * d + a] = 0.5 * (f->A[k * d + a] + ItModelGetParity(model, a) * Ar[k * d + a]);
  }
  for (PetscInt k = 0; k < xm + 2; k++) f->Dcell[k] = f->D[(nface + k) * d + a];
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Records the bad face c along axis a (what fails, the drift and diffusion,
   and the point) unless one earlier in natural order is recorded already. */
static void ItFacesRecordBad(ItFaces f, PetscInt a, const PetscInt c[], PetscInt kind, PetscReal A,
                             PetscReal D, const PetscReal point[]) {
  ItGrid            grid = f->grid;
  const ItGridInfo *info = ItGridGetInfo(grid);
  PetscReal         key  = (PetscReal)a; /* then the face's natural index, axis 0 fastest */

  for (PetscInt b = IT_MAX_DIM - 1; b >= 0; b--) key = key * (info->n[b] + (b == a)) + c[b];
  if (f->bad_axis >= 0 && key >= f->bad_key) return;
  f->bad_axis = a;
  f->bad_key  = key;
  f->bad_kind = (PetscReal)kind;
  f->bad_A    = A;
  f->bad_D    = D;
  for (PetscInt b = 0; b < info->dim; b++) f->bad_point[b] = point[b];
}

/* The Scharfetter–Gummel coefficients of one pencil's faces from its
   evaluation. A face needs a finite drift, a positive, finite diffusion at the
   face and both cells, and coefficients that neither overflow nor underflow to
   zero (the cell Péclet number |A| h/D below about 700): otherwise it is
   recorded, and reported collectively by ItFacesCheck. */
static void ItFacesPencilCoefficients(ItFaces f, PetscInt a, PetscInt c[], PetscReal *lo,
                                      PetscReal *hi) {
  ItGrid            grid = f->grid;
  const ItGridInfo *info = ItGridGetInfo(grid);
  const PetscInt    d = info->dim, xs = info->xs[a], xm = info->xm[a];
  const PetscReal   h = info->h[a];

  for (PetscInt k = 0; k < xm + 1; k++) {
    const PetscReal Af = f->A[k * d + a], Df = f->D[k * d + a], *point = &f->x[k * d];
    PetscInt        off;
    PetscBool       bad;

    c[a]    = xs + k;
    off     = ItFPFaceOffset(grid, a, c);
    lo[off] = hi[off] = 0;
    if ((c[a] == 0 || c[a] == info->n[a]) && info->boundary[a] != IT_BOUNDARY_PERIODIC) {
      /* a wall: zero flux; the threshold's absorbing face (doc/physics.md §8.2) */
      if (c[a] == 0 || info->boundary[a] == IT_BOUNDARY_WALL) continue;
      if (ItFPNotFinite(Af) || !(Df > 0 && f->Dcell[k] > 0) || ItFPNotFinite(Df) ||
          ItFPNotFinite(f->Dcell[k])) {
        ItFacesRecordBad(f, a, c, ItFPNotFinite(Af) ? IT_FACE_DRIFT : IT_FACE_DIFFUSION, Af, Df,
                         point);
        continue;
      }
      ItFPThresholdFace(h, Af, Df, f->Dcell[k], &lo[off], &hi[off]);
      if (!(lo[off] > 0) || ItFPNotFinite(lo[off]) || ItFPNotFinite(hi[off])) {
        ItFacesRecordBad(f, a, c, IT_FACE_PECLET, Af, Df, point);
        lo[off] = hi[off] = 0;
      }
      continue;
    }
    if (ItFPNotFinite(Af)) {
      ItFacesRecordBad(f, a, c, IT_FACE_DRIFT, Af, Df, point);
      continue;
    }
    bad = PETSC_FALSE;
    for (PetscInt s = -1; s < 2 && !bad; s++) { /* the face, then its low and high cells */
      const PetscReal D = s < 0 ? Df : f->Dcell[k + s];
      const PetscInt  m = xm + 1 + k + s; /* the cell's point in the pencil */
      bad               = (PetscBool)(!(D > 0) || ItFPNotFinite(D));
      if (bad) ItFacesRecordBad(f, a, c, IT_FACE_DIFFUSION, Af, D, s < 0 ? point : &f->x[m * d]);
    }
    if (bad) continue;
    lo[off] = ItBernoulli(-Af / Df * h) * f->Dcell[k] / h;
    hi[off] = ItBernoulli(Af / Df * h) * f->Dcell[k + 1] / h;
    if (!(lo[off] > 0 && hi[off] > 0) || ItFPNotFinite(lo[off]) || ItFPNotFinite(hi[off])) {
      ItFacesRecordBad(f, a, c, IT_FACE_PECLET, Af, Df, point);
      lo[off] = hi[off] = 0;
    }
  }
  c[a] = xs;
}

/* The fourth-order weight theta[k] of a pencil's faces xs+k (k = 0 .. xm)
   along axis a, from the drift and diffusion at its cells xs-2 .. xs+xm+1 in
   f->A, f->D (stride d, ItFacesPencilFourth's layout) with the parameters p:
     theta = 1 / (1 + (Pe / Pe_half)^4 + (R / R_half)^4),
   Pe = |A_a| h / D_a the cell Péclet number at the face, Pe_half = -fp_peclet,
   R = h^2 / s^2 the resolution number against s, the density's width along a
   that the drift and the noise give locally, R_half = -fp_resolution. For a
   transient s^2 = D_a / k_a, the width of x_a's own relaxation (its density
   may be as narrow as that, or narrower at first: the initial one); for the
   stationary command (ItGridSetStationaryWidth) the stationary law's width
     s^2 = (D_a + sum_b g_b^2 D_b / (k_a + k_b)^2) / k_a,
   k_a = |dA_a/dx_a|, g_b = dA_a/dx_b, k_b = |dA_b/dx_b| (b another axis).
   A variable driven by another (x_a following g_b x_b at the rate k_a) spreads wider, since its
   driver moves while it relaxes: the sum is what it inherits (for a linear
   chain b -> a, s^2 is exactly the stationary variance of x_a given x_b).
   A fourth-order stencil on cells as wide as s makes a density negative.
   The derivatives across a are central differences over the points half a
   cell off each cell along b (inside the box), averaged over the face's two
   cells; a term whose points give no finite drift or no positive diffusion
   is left out. R[k] returns the resolution number h^2 / s^2
   (ItFacesGetResolution).
   In a transient (ItFacesSetDensity) s is the stationary law's width too,
   guarded by the density's own:
     R = max(R_s, min(R_k, R_v)),  R_v = h^2 / (c v_a) max(1, Pe / 3),
   R_s = h^2/s^2 the stationary law's, R_k = h^2 k_a / D_a the drift's (the
   transients' width before the guard), v_a the current density's variance
   along a at fixed other variables. A density that has spread out gets the
   stationary law's width (a driven variable's faces fourth order); one still
   narrower than that, or a narrow one carried at a cell Péclet number above
   3 (a central flux overshoots ahead of a moving profile), no more than the
   drift's. c is -fp_guard_width (default 1.875, src/grid/grid.c). The constants
   are measured (doc/numerics.md, "The blend's width"): 6 instead of 3 stopped
   a narrow transient on negative mass; c = 1.875 instead of 1.5 puts every
   moment of the 4-variable transient at 32^4 within 10^6 particles' standard
   errors but the rotating 2-D transient's MI at 44^2 off by 1.4e-4 (4.0e-5 at
   1.5), so that case needs 48^2 for 1e-4. */
#define IT_FP_GUARD_PECLET 3.0

/* The resolution number R that the weight of a face of order 4 along axis a
   takes, from its cell Péclet number over -fp_peclet Pe, the drift's
   resolution number Rk = h^2 k_a / D_a and the stationary law's Rs, under
   the guard on (guard) with the density's variance var along a. The guard
   enters a face's weight only through it (ItFacesThetaFrom). */
static inline PetscReal ItFacesGuardedResolution(ItFaces f, PetscInt a, PetscBool guard,
                                                 PetscReal var, PetscReal Pe, PetscReal Rk,
                                                 PetscReal Rs) {
  const PetscReal h  = ItGridGetInfo(f->grid)->h[a];
  PetscReal       Rr = Rs;

  if (guard) { /* the density's width, within the drift's and the stationary law's */
    const PetscReal Rg = var > 0 ? h * h / (f->guard_width * var) *
                                       PetscMax(1.0, Pe * f->peclet / IT_FP_GUARD_PECLET)
                                 : PETSC_MAX_REAL;
    Rr                 = PetscMax(Rr, PetscMin(Rk, Rg));
  }
  return Rr;
}

/* The weight theta of a face of order 4 along axis a from its cell Péclet number over -fp_peclet
   Pe, the drift's resolution number Rk = h^2 k_a / D_a and the stationary law's Rs, under the
   guard the faces hold (ItFacesPencilTheta's closing arithmetic). */
static inline PetscReal ItFacesThetaFrom(ItFaces f, PetscInt a, PetscReal Pe, PetscReal Rk,
                                         PetscReal Rs) {
  const PetscReal Rr =
      ItFacesGuardedResolution(f, a, f->guard, f->guard ? f->guard_var[a] : PETSC_MAX_REAL, Pe, Rk,
                               Rs) /
      f->resolution;
  return 1.0 / (1.0 + Pe * Pe * Pe * Pe + Rr * Rr * Rr * Rr);
}

static PetscErrorCode ItFacesPencilTheta(ItFaces f, PetscInt a, const PetscReal p[],
                                         PetscReal theta[], PetscReal R[]) {
  const ItGridInfo *info = ItGridGetInfo(f->grid);
  const PetscInt    d = info->dim, xm = info->xm[a];
  const PetscReal   h      = info->h[a];
  const PetscBool   driven = (PetscBool)(info->stationary_width || f->guard);
  PetscInt          np     = 0;

  PetscFunctionBegin;
  for (PetscInt k = 0; driven && k < xm + 2; k++) /* cells xs-1 .. xs+xm: pencil cells 1 .. xm+2 */
    for (PetscInt b = 0; b < d; b++)
      for (PetscInt s = -1; b != a && s < 2; s += 2, np++) {
        PetscCall(PetscArraycpy(&f->sx[np * d], &f->x[(k + 1) * d], d));
        f->sx[np * d + b] += 0.5 * s * info->h[b];
      }
  if (np) PetscCall(ItModelEvaluateWork(f->work, f->t, p, np, f->sx, f->sA, f->sD));
  for (PetscInt k = 0; k < xm + 1; k++) { /* between pencil cells k+1 and k+2 */
    const PetscReal *A = &f->A[k * d], *D = &f->D[k * d];
    const PetscReal  Dface = 0.5 * (D[1 * d + a] + D[2 * d + a]);
    const PetscReal  Pe = PetscAbsReal(0.5 * (A[1 * d + a] + A[2 * d + a])) * h / Dface / f->peclet;
    const PetscReal  ka = PetscAbsReal(A[2 * d + a] - A[1 * d + a]) / h;
    PetscReal        drive = 0;

    for (PetscInt j = k; driven && j < k + 2; j++) /* the face's two cells */
      for (PetscInt b = 0, q = 0; b < d; b++) {
        if (b == a) continue;
        {
          const PetscInt   lo = 2 * (j * (d - 1) + q++), hi = lo + 1;
          const PetscReal *Al = &f->sA[lo * d], *Ah = &f->sA[hi * d];
          const PetscReal  g   = (Ah[a] - Al[a]) / info->h[b],
                          kb   = PetscAbsReal(Ah[b] - Al[b]) / info->h[b];
          const PetscReal Db   = 0.5 * (f->sD[lo * d + b] + f->sD[hi * d + b]);
          const PetscReal term = 0.5 * g * g * Db / ((ka + kb) * (ka + kb));
          if (Db > 0 && ka + kb > 0 && !ItFPNotFinite(term)) drive += term;
        }
      }
    R[k]     = PetscAbsReal(A[2 * d + a] - A[1 * d + a]) * h / (Dface + drive);
    f->pe[k] = Pe;
    f->rk[k] = ka * h * h / Dface;
    theta[k] = ItFacesThetaFrom(f, a, Pe, f->rk[k], R[k]);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The Scharfetter–Gummel flux that an order-4 face falls back to, with its
   coefficients at the face's two cells instead of at the face:
     J = B(-z_l) D_l p_l / h - B(z_h) D_h p_h / h,   z = A_a h / D_a,
   l and h the low and the high cell (cell-centred values). As Scharfetter–
   Gummel's, both coefficients are positive (an M-matrix) and it is the same
   flux where A and D are constant; written as J = (A_l p_l + A_h p_h)/2 -
   (K_h p_h - K_l p_l)/h, K = D (z/2) coth(z/2), its artificial diffusion is
   in the Itô form d(K p)/dx, whose sum over the faces telescopes: with
   B(-z) - B(z) = z, each cell's two faces together carry A p of the cell,
   so the fallback moves the discrete mean as sum A p does, as the
   fourth-order flux does, exactly for a linear drift. At the face (the
   Fickian form K dp/dx) the artificial diffusion varying with A adds the
   drift dK/dx to the mean, O(h^2) and large where the Péclet number is near
   1 (doc/numerics.md "The fallback's form"). sg[0] multiplies p_l, sg[1]
   p_h (the flux's sign convention: J = sg[0] p_l + sg[1] p_h). */
static inline void ItFPFallbackCells(PetscReal h, PetscReal Al, PetscReal Dl, PetscReal Ah,
                                     PetscReal Dh, PetscReal sg[2]) {
  sg[0] = ItBernoulli(-Al * h / Dl) * Dl / h;
  sg[1] = -ItBernoulli(Ah * h / Dh) * Dh / h;
}

/* The weight lambda(z) = (sinh z - z) cosh(z/2) / (2 sinh^3(z/2)) of the cells' total
   conductance in ItFPFallback's balanced form (even in z, 2/3 at z = 0, -> 1 as |z| grows). */
static inline PetscReal ItFPFallbackLambda(PetscReal z) {
  const PetscReal a = PetscAbsReal(z), s = PetscSinhReal(0.5 * a);

  if (a < 0.1) { /* the series (sinh a - a cancels below): its next term 691 a^10/4953312000 */
    const PetscReal q = a * a;
    return 2.0 / 3 + q * (1.0 / 30 + q * (-1.0 / 504 + q * (1.0 / 10800 - q / 266112)));
  }
  if (a > 60) return 1;
  return (PetscSinhReal(a) - a) * PetscCoshReal(0.5 * a) / (2 * s * s * s);
}

/* The coefficients of the flux J = sg[0] p_l + sg[1] p_h that an order-4 face falls back to
   under -fp_fallback (doc/numerics.md "The fallback's form"), from the face's Scharfetter-Gummel
   coefficients lo, hi (J = lo p_l - hi p_h, z = A h / D at the face) and the drift and
   diffusion at the face's two cells:
     face:     lo, -hi;
     cells:    ItFPFallbackCells (c_l, c_h);
     balanced: the total conductance S = (1 - lambda) (lo + hi) + lambda (c_l - c_h), lambda =
               ItFPFallbackLambda(z), split in the face's ratio: sg = S (lo, -hi) / (lo + hi).
   Every form is an M-matrix. The balanced form keeps the face's equilibrium, p_h / p_l =
   lo / hi (the Gaussian's exact ratio at the nodes for a linear drift), and scales its
   magnitude so that the means move as sum A p: with J = s_f J_face, the sum of the faces'
   fluxes differs from sum A p by the drift eps + sigma A + sigma' K (s = 1 + sigma, K = D (z/2)
   coth(z/2)), eps = A' h (1/2 + B'(z)) the face form's, which vanishes to leading order in the
   resolution number R = |A'| h^2 / D at sigma = R (1/2 + B'(z)) / z; the cells' magnitude gives
   sigma = R tanh(z/2) / (2 z) to the same order, whence lambda = (1 + 2 B'(z)) / tanh(z/2).
   Where the drift carries the density at a large cell Péclet number its upwind coefficient is
   then the cell's own, B(-z_l) D_l / h -> A_l, as under the cells' form (the face's A_f adds
   a drift A' h / 2 to the mean); on a 1-D Ornstein-Uhlenbeck axis at R = 1.1 the means'
   drift is at most 0.0064 |A'| h (the face's 0.5, the cells' magnitude unmixed 0.10). */
static inline void ItFPFallback(PetscInt form, PetscReal h, PetscReal lo, PetscReal hi,
                                PetscReal Al, PetscReal Dl, PetscReal Ah, PetscReal Dh,
                                PetscReal sg[2]) {
  sg[0] = lo;
  sg[1] = -hi;
  if (form == IT_FALLBACK_FACE) return;
  ItFPFallbackCells(h, Al, Dl, Ah, Dh, sg);
  if (form == IT_FALLBACK_BALANCED) {
    const PetscReal z      = PetscLogReal(lo / hi * (Dh / Dl)); /* B(-z)/B(z) = e^z */
    const PetscReal lambda = ItFPFallbackLambda(z);
    const PetscReal S      = (1 - lambda) + lambda * (sg[0] - sg[1]) / (lo + hi);
    sg[0]                  = S * lo;
    sg[1]                  = -S * hi;
  }
}

/* The fourth-order weights of one pencil's faces (ItFacesPencilCoefficients
   has set its Scharfetter–Gummel coefficients lo, hi): with f = A_a p and
   g = D_a p at the cell centres, the face between cells i = c-1 and i+1 = c
   carries
     J = (-f_{i-1} + 7 f_i + 7 f_{i+1} - f_{i+2}) / 12
       - (g_{i-1} - 15 g_i + 15 g_{i+1} - g_{i+2}) / (12 h),
   whose differences are the fourth-order central first and second derivatives
   at the cell centres, blended with the Scharfetter–Gummel flux (the form of -fp_fallback:
   ItFPFallback) by the
   weight theta of ItFacesPencilTheta (the cell Péclet number and the resolution number; a smooth
   solution changes by O(Pe^4 h^2) = O(h^6) where the cells resolve the drift). The faces next to a
   wall, whose stencil would leave the box, are Scharfetter–Gummel's; the walls carry no flux.
   Reuses the pencil workspace for the cells xs-2 .. xs+xm+1; unless weights_only it follows
   ItFacesPencilEvaluate's evaluation of the pencil (without irr), whose cells it takes. */
static PetscErrorCode ItFacesPencilFourth(ItFaces f, PetscInt a, PetscInt c[], const PetscReal p[],
                                          PetscBool weights_only) {
  ItGrid            grid = f->grid;
  const ItGridInfo *info = ItGridGetInfo(grid);
  const PetscInt    d = info->dim, xs = info->xs[a], xm = info->xm[a], n = info->n[a];
  const PetscReal   h = info->h[a];

  PetscFunctionBegin;
  if (!weights_only && info->boundary[a] != IT_BOUNDARY_PERIODIC) {
    /* right after ItFacesPencilEvaluate: its cells xs-1 .. xs+xm (the same points, unwrapped
       on an axis that is not periodic) move to their places, and only the two end cells are
       evaluated */
    const PetscInt from = (xm + 1) * d, count = (xm + 2) * d;
    PetscCall(PetscArraymove(f->x + d, f->x + from, count));
    PetscCall(PetscArraymove(f->A + d, f->A + from, count));
    PetscCall(PetscArraymove(f->D + d, f->D + from, count));
    for (PetscInt k = 0; k < xm + 4; k += xm + 3) {
      for (PetscInt b = 0; b < d; b++) f->x[k * d + b] = ItGridCoordinate(grid, b, c[b]);
      f->x[k * d + a] = ItGridCoordinate(grid, a, xs - 2 + k);
      PetscCall(ItModelEvaluateWork(f->work, f->t, p, 1, &f->x[k * d], &f->A[k * d], &f->D[k * d]));
    }
  } else {
    for (PetscInt k = 0; k < xm + 4; k++) {
      for (PetscInt b = 0; b < d; b++) f->x[k * d + b] = ItGridCoordinate(grid, b, c[b]);
      f->x[k * d + a] = ItGridCoordinate(grid, a, xs - 2 + k);
    }
    PetscCall(ItModelEvaluateWork(f->work, f->t, p, xm + 4, f->x, f->A, f->D));
  }
  if (weights_only && f->guard_cached) /* a renewal: the model's part of the weights is held */
    for (PetscInt k = 0; k < xm + 1; k++) {
      const PetscReal *g;
      c[a]        = xs + k;
      g           = f->guard_cache[a] + 3 * ItFPFaceOffset(grid, a, c);
      f->rown[k]  = g[2];
      f->theta[k] = ItFacesThetaFrom(f, a, g[0], g[1], g[2]);
      /* a face whose guarded resolution number the renewal does not change keeps its weights
         (the same to the bit): marked -1 */
      if (f->renew_skip &&
          ItFacesGuardedResolution(f, a, PETSC_TRUE, f->renew_var, g[0], g[1], g[2]) ==
              ItFacesGuardedResolution(f, a, PETSC_TRUE, f->guard_var[a], g[0], g[1], g[2]))
        f->theta[k] = -1;
    }
  else {
    PetscCall(ItFacesPencilTheta(f, a, p, f->theta, f->rown));
    for (PetscInt k = 0; f->guard_cache[a] && k < xm + 1; k++) {
      PetscReal *g;
      c[a] = xs + k;
      g    = f->guard_cache[a] + 3 * ItFPFaceOffset(grid, a, c);
      g[0] = f->pe[k];
      g[1] = f->rk[k];
      g[2] = f->rown[k];
    }
  }
  for (PetscInt k = 0; k < xm + 1; k++) {
    PetscReal     *w;
    PetscInt       off;
    const PetscInt face = xs + k; /* between cells face-1 and face */

    if (f->theta[k] < 0) continue; /* a renewal leaves it */
    c[a] = face;
    off  = ItFPFaceOffset(grid, a, c);
    w    = f->w4s[a] ? f->wrow + 4 * k : f->w4[a] + 4 * off;
    w[0] = w[3] = 0;
    w[1]        = f->lo[a][off];
    w[2]        = -f->hi[a][off];
    if (face == n && info->boundary[a] == IT_BOUNDARY_THRESHOLD_RESET)
      w[2] = 0; /* no cell beyond */
    /* the threshold's faces under -fp_order 4: src/fp/closure.c */
    if (f->closure && ItFPClosureFace(f->closure, a, face)) {
      w[1] = w[2] = 0;
      if (!weights_only &&
          (face < xs + xm || face == n)) /* once: the next rank's low face is its own */
        PetscCall(ItFPClosureSet(f->closure, f->t, p, a, c, face, f->lo[a][off], f->hi[a][off],
                                 f->delayed));
      continue;
    }
    /* the two faces next to a wall or a threshold are Scharfetter–Gummel's; a periodic axis'
       stencil wraps through the DMDA's ghosts (ItFPFourthFace, src/fp/boundary.c) */
    if (!ItFPFourthFace(info->boundary[a], face, n) || (w[1] == 0 && w[2] == 0)) continue;
    {
      const PetscReal *A = &f->A[k * d], *D = &f->D[k * d]; /* cells face-2 .. face+1 */
      const PetscReal  theta = f->theta[k];
      const PetscReal  w4[4] = {
           (-A[0 * d + a] - D[0 * d + a] / h) / 12, (7 * A[1 * d + a] + 15 * D[1 * d + a] / h) / 12,
           (7 * A[2 * d + a] - 15 * D[2 * d + a] / h) / 12, (-A[3 * d + a] + D[3 * d + a] / h) / 12};
      if (f->fallback != IT_FALLBACK_FACE) {
        PetscReal sg[2];
        ItFPFallback(f->fallback, h, w[1], -w[2], A[1 * d + a], D[1 * d + a], A[2 * d + a],
                     D[2 * d + a], sg);
        w[1] = sg[0];
        w[2] = sg[1];
      }
      for (PetscInt q = 0; q < 4; q++) w[q] = theta * w4[q] + (1 - theta) * w[q];
      f->res_sum[a] += theta * f->rown[k] * f->rown[k];
      f->res_weight[a] += theta;
    }
  }
  for (PetscInt k = 0; f->w4s[a] && k < xm + 1; k++) { /* -fp_weights single: rounded once */
    float *ws;
    if (f->theta[k] < 0) continue;
    c[a] = xs + k;
    ws   = f->w4s[a] + 4 * ItFPFaceOffset(grid, a, c);
    for (PetscInt q = 0; q < 4; q++) ws[q] = (float)f->wrow[4 * k + q];
  }
  c[a] = xs;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The variable's coordinates of a point, "v = 0.5, r = 1.2", for messages. */
static void ItFacesPointText(ItFaces f, char text[], size_t len) {
  size_t used = 0;

  text[0]                = 0;
  const ItGridInfo *info = ItGridGetInfo(f->grid);
  for (PetscInt b = 0; b < info->dim && used < len; b++)
    used += (size_t)snprintf(text + used, len - used, "%s%s = %g", b ? ", " : "",
                             ItModelGetVariableName(f->model, b), (double)f->bad_point[b]);
}

/* A bad face on any rank stops the run: the first in natural order on every
   rank count, with what fails (the drift, the diffusion, or a diffusion too
   small for the drift), the variable, the point and t. */
static PetscErrorCode ItFacesCheck(ItFaces f) {
  ItGrid            grid = f->grid;
  const ItGridInfo *info = ItGridGetInfo(grid);
  const PetscInt    d    = info->dim;
  PetscReal         key, local[4 + IT_MAX_DIM] = {0}, bad[4 + IT_MAX_DIM];
  char              where[256], option[64];
  const char       *var;

  PetscFunctionBegin;
  PetscCall(ItGridMin(grid, f->bad_axis < 0 ? PETSC_MAX_REAL : f->bad_key, &key));
  if (key == PETSC_MAX_REAL) PetscFunctionReturn(PETSC_SUCCESS);
  if (f->bad_axis >= 0 && f->bad_key == key) { /* the owner of the first bad face */
    local[0] = 1 + f->bad_axis;
    local[1] = f->bad_kind;
    local[2] = f->bad_A;
    local[3] = f->bad_D;
    for (PetscInt b = 0; b < d; b++) local[4 + b] = f->bad_point[b];
  }
  PetscCall(ItGridSum(grid, 4 + d, local, bad));
  f->bad_axis = (PetscInt)bad[0] - 1;
  for (PetscInt b = 0; b < d; b++) f->bad_point[b] = bad[4 + b];
  ItFacesPointText(f, where, sizeof(where));
  var = ItModelGetVariableName(f->model, f->bad_axis);
  /* the model names what gives the coefficient: a formula's option, or its parameters */
  PetscCall(ItModelGetCoefficientOption(f->model, f->bad_axis, (PetscBool)(bad[1] != IT_FACE_DRIFT),
                                        option, sizeof(option)));
  PetscCheck(bad[1] != IT_FACE_DRIFT, info->comm, PETSC_ERR_USER_INPUT,
             "the drift A_%s is not finite (%g) at %s, t = %g: change %s%s", var, (double)bad[2],
             where, (double)f->t, option[0] ? option : "the model's parameters",
             option[0] ? "" : " (infotherm info lists them)");
  PetscCheck(bad[1] != IT_FACE_DIFFUSION, info->comm, PETSC_ERR_USER_INPUT,
             "the diffusion D_%s is %s (%g) at %s, t = %g: change %s, or narrow the box "
             "(-grid_lo/-grid_hi)",
             var, PetscIsInfOrNanReal(bad[3]) ? "not finite" : "not positive", (double)bad[3],
             where, (double)f->t, option[0] ? option : "the model's noise");
  SETERRQ(info->comm, PETSC_ERR_USER_INPUT,
          "the diffusion D_%s = %g is too small for the drift A_%s = %g at %s, t = %g: the cell "
          "Peclet number |A| h/D = %g (A/D overflows when D is tiny) makes a Scharfetter-Gummel "
          "rate overflow or vanish (beyond about 700), and the entropy production undefined; "
          "increase the diffusion or refine -grid_n",
          var, (double)bad[3], var, (double)bad[2], where, (double)f->t,
          (double)(PetscAbsReal(bad[2]) * info->h[f->bad_axis] / bad[3]));
}

/* The guard's cache (guard_cache), allocated once on the first computation
   under the guard: 3 numbers a face of order 4. Not collective. */
static PetscErrorCode ItFacesGuardCacheCreate(ItFaces f) {
  const ItGridInfo *info = ItGridGetInfo(f->grid);

  PetscFunctionBegin;
  if (f->guard_cache[0]) PetscFunctionReturn(PETSC_SUCCESS);
  ItFacesLedger(f, -1);
  for (PetscInt a = 0; a < info->dim; a++)
    PetscCall(
        PetscMalloc1(3 * (info->nlocal / info->xm[a] * (info->xm[a] + 1)), &f->guard_cache[a]));
  ItFacesLedger(f, 1);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The face coefficients at time t with the parameters p. Collective (a bad
   face on any rank is reported by all). */
static PetscErrorCode ItFacesComputeWith(ItFaces f, PetscReal t, const PetscReal p[]) {
  ItGrid            grid = f->grid;
  const ItGridInfo *info = ItGridGetInfo(grid);
  const PetscInt    np   = ItModelGetParameterCount(f->model);
  PetscBool         held = (PetscBool)(f->weights_due && t == f->t); /* ItFacesRestoreOrder */

  PetscFunctionBegin;
  for (PetscInt k = 0; k < np && held; k++) held = (PetscBool)(p[k] == f->p[k]);
  PetscCall(PetscLogEventBegin(IT_FP_FACES, 0, 0, 0, 0));
  f->t        = t;
  f->bad_axis = -1;
  for (PetscInt a = 0; a < info->dim; a++) f->res_sum[a] = f->res_weight[a] = 0;
  if (f->closure) PetscCall(ItFPClosureBegin(f->closure));
  if (f->order == 4 && f->guard) PetscCall(ItFacesGuardCacheCreate(f));
  f->guard_cached = PETSC_FALSE;
  ItFacesNote(f); /* written from here */
  for (PetscInt a = 0; a < info->dim; a++) {
    /* one pencil per owned cell on the plane c[a] = xs[a] */
    ItGridForOwned(grid, c, l) {
      (void)l;
      if (c[a] != info->xs[a]) continue;
      if (held) { /* the coefficients are those of t and p: the weights from the pencil's cells */
        PetscCall(ItFacesPencilFourth(f, a, c, p, PETSC_TRUE));
        continue;
      }
      PetscCall(ItFacesPencilEvaluate(f, a, c, p, PETSC_FALSE));
      ItFacesPencilCoefficients(f, a, c, f->lo[a], f->hi[a]);
      if (f->order == 4) PetscCall(ItFacesPencilFourth(f, a, c, p, PETSC_FALSE));
      if (ItFacesIrreversible(f)) {
        PetscCall(ItFacesPencilEvaluate(f, a, c, p, PETSC_TRUE));
        ItFacesPencilCoefficients(f, a, c, f->irr_lo[a], f->irr_hi[a]);
      }
    }
  }
  PetscCall(PetscLogEventEnd(IT_FP_FACES, 0, 0, 0, 0));
  if (f->closure) PetscCall(ItFPClosureEnd(f->closure));
  if (!f->level && !held) PetscCall(ItFacesCheck(f)); /* held: checked when computed */
  if (f->reset && !held) PetscCall(ItFPResetAssemble(grid, f->lo, f->delayed, f->reset));
  PetscCall(PetscArraycpy(f->p, p, np));
  f->guard_cached = (PetscBool)(f->order == 4 && f->guard);
  f->weights_due  = PETSC_FALSE;
  f->computed     = PETSC_TRUE;
  f->state++;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* How many times the coefficients were computed: a consumer that does not
   write the faces (a multigrid hierarchy over its caller's fine faces) sees
   from it whether they changed. Not collective. */
PetscInt ItFacesGetState(ItFaces f) {
  return f->state;
}

/* The face coefficients at time t: a pure function of the model, the grid
   and t. Collective. */
PetscErrorCode ItFacesCompute(ItFaces f, PetscReal t) {
  PetscReal p[IT_MAX_PARAMS];

  PetscFunctionBegin;
  PetscCall(ItModelGetParameters(f->model, t, p));
  PetscCall(ItFacesComputeWith(f, t, p));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The coefficients at time t with the parameters p (e.g. the limit from above
   at a switch, ItModelGetParametersRight), recomputed only when p differs
   from the parameters they hold, or the model depends on time continuously
   (formulas in t), or their weights are due (ItFacesRestoreOrder). Collective. */
PetscErrorCode ItFacesSetParameters(ItFaces f, PetscReal t, const PetscReal p[],
                                    PetscBool *changed) {
  const PetscInt np   = ItModelGetParameterCount(f->model);
  PetscBool      same = (PetscBool)(f->computed && !f->weights_due);

  PetscFunctionBegin;
  if (ItModelGetTimeDependence(f->model) == IT_TIME_CONTINUOUS)
    same = (PetscBool)(same && t == f->t);
  for (PetscInt k = 0; k < np && same; k++) same = (PetscBool)(p[k] == f->p[k]);
  if (!same) PetscCall(ItFacesComputeWith(f, t, p));
  if (changed) *changed = (PetscBool)!same;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The operator's largest rate along each axis a: twice the largest face
   coefficient over h_a (D_a/h_a^2 where diffusion dominates, |A_a|/h_a where
   the drift does). Summed over the axes they bound max_k |L_kk| within a factor
   of 2, the fastest time scale of the dynamics. Collective. */
PetscErrorCode ItFacesGetMaxRates(ItFaces f, PetscReal rate[]) {
  ItGrid            grid = f->grid;
  const ItGridInfo *info = ItGridGetInfo(grid);

  PetscFunctionBegin;
  for (PetscInt a = 0; a < info->dim; a++) {
    const PetscInt nfaces  = info->nlocal / info->xm[a] * (info->xm[a] + 1);
    PetscReal      largest = 0;
    for (PetscInt k = 0; k < nfaces; k++)
      largest = PetscMax(largest, PetscMax(f->lo[a][k], f->hi[a][k]));
    PetscCall(ItGridMaxAbs(grid, 2 * largest / info->h[a], &rate[a]));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The coefficients at time t, recomputed only when the parameters at t differ
   from those they hold, or the model depends on time continuously (formulas
   in t): a held schedule costs one computation per switch. Collective. */
PetscErrorCode ItFacesSetTime(ItFaces f, PetscReal t, PetscBool *changed) {
  PetscReal p[IT_MAX_PARAMS];

  PetscFunctionBegin;
  PetscCall(ItModelGetParameters(f->model, t, p));
  PetscCall(ItFacesSetParameters(f, t, p, changed));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Whether the weights of the pencil along axis a through cell c (c[a] =
   xs[a]) stay what they are when the guard's variance along a changes from
   var_old to the faces' guard_var[a]: each face's guarded resolution number
   (ItFacesGuardedResolution, from the guard's cache) the same to the bit.
   Not collective. */
static PetscBool ItFacesPencilUnchanged(ItFaces f, PetscInt a, PetscInt c[], PetscReal var_old) {
  const ItGridInfo *info = ItGridGetInfo(f->grid);
  const PetscInt    xs   = info->xs[a];
  PetscBool         same = PETSC_TRUE;

  for (PetscInt k = 0; k < info->xm[a] + 1 && same; k++) {
    const PetscReal *g;
    c[a] = xs + k;
    g    = f->guard_cache[a] + 3 * ItFPFaceOffset(f->grid, a, c);
    same =
        (PetscBool)(ItFacesGuardedResolution(f, a, PETSC_TRUE, var_old, g[0], g[1], g[2]) ==
                    ItFacesGuardedResolution(f, a, PETSC_TRUE, f->guard_var[a], g[0], g[1], g[2]));
  }
  c[a] = xs;
  return same;
}

/* The fourth-order weights again, at the time and parameters the faces hold
   (the Scharfetter–Gummel coefficients, the closures and the state stay:
   the multigrid's levels do not change). What a weight takes from the model
   off the pencil (the points half a cell off its cells along the other
   axes, about 24 a cell in 4-D) is held from the computation (guard_cache):
   a renewal evaluates the model at the pencils' cells only, and gives the
   same weights to the bit. With the guard on before (guard_old) at the
   variances var_old, a pencil whose faces' weights the new variances do not
   change (ItFacesPencilUnchanged: 27-75 % of them in the 4-variable
   transient) is left as it is, and so is every face of a recomputed pencil
   whose guarded resolution number does not change. The resolution sums (ItFacesGetResolution)
   stay those of the last computation. Collective. */
static PetscErrorCode ItFacesFourthWeights(ItFaces f, PetscBool guard_old,
                                           const PetscReal var_old[]) {
  ItGrid            grid = f->grid;
  const ItGridInfo *info = ItGridGetInfo(grid);
  PetscReal         res_sum[IT_MAX_DIM], res_weight[IT_MAX_DIM];
  const PetscBool   skip = (PetscBool)(guard_old && f->guard_cached);

  PetscFunctionBegin;
  PetscCall(PetscLogEventBegin(IT_FP_FACES, 0, 0, 0, 0));
  PetscCall(PetscArraycpy(res_sum, f->res_sum, info->dim));
  PetscCall(PetscArraycpy(res_weight, f->res_weight, info->dim));
  for (PetscInt a = 0; a < info->dim; a++) {
    if (skip && var_old[a] == f->guard_var[a]) continue;
    ItGridForOwned(grid, c, l) {
      (void)l;
      if (c[a] != info->xs[a]) continue;
      if (skip && ItFacesPencilUnchanged(f, a, c, var_old[a])) continue;
      f->renew_skip = skip;
      f->renew_var  = skip ? var_old[a] : 0;
      PetscCall(ItFacesPencilFourth(f, a, c, f->p, PETSC_TRUE));
      f->renew_skip = PETSC_FALSE;
    }
  }
  PetscCall(PetscArraycpy(f->res_sum, res_sum, info->dim));
  PetscCall(PetscArraycpy(f->res_weight, res_weight, info->dim));
  PetscCall(PetscLogEventEnd(IT_FP_FACES, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The transient's guard of the fourth-order blend (ItFacesPencilTheta):
   the variance of the density p along each axis at fixed other variables,
   v_a = 1/(S^-1)_aa with S the covariance of p over the axes that are not
   periodic (a periodic axis keeps the drift's width: v = 0), recomputed from p here (the
   solver calls it before its first step and after every step); the
   weights change where v_a does. A covariance that is not positive definite
   (a density on one cell of an axis) gives v = 0: the drift's width there.
   v is rounded to single precision: the sums' round-off, which depends on
   the ranks, does not reach the operator (a run agrees on 1, 2 and 3 ranks
   to round-off, tests/test_boundary_order4.py).
   Nothing under -fp_order 2. Collective. */
PetscErrorCode ItFacesSetDensity(ItFaces f, Vec p) {
  const ItGridInfo  *info = ItGridGetInfo(f->grid);
  const PetscInt     d    = info->dim;
  PetscInt           axes[IT_MAX_DIM], m = 0, nsum;
  PetscReal          local[1 + IT_MAX_DIM + IT_MAX_DIM * IT_MAX_DIM] = {0};
  PetscReal          sum[1 + IT_MAX_DIM + IT_MAX_DIM * IT_MAX_DIM], S[IT_MAX_DIM * IT_MAX_DIM];
  PetscReal          var[IT_MAX_DIM], centre[IT_MAX_DIM], var_old[IT_MAX_DIM];
  const PetscScalar *pa;
  PetscBLASInt       bm, info_la = 0;
  PetscBool          same;

  PetscFunctionBegin;
  if (f->order != 4) PetscFunctionReturn(PETSC_SUCCESS);
  for (PetscInt a = 0; a < d; a++) {
    var[a] = 0; /* a periodic axis: the drift's width, as before the guard */
    if (info->boundary[a] != IT_BOUNDARY_PERIODIC) axes[m++] = a;
    centre[a] =
        0.5 * (ItGridCoordinate(f->grid, a, 0) + ItGridCoordinate(f->grid, a, info->n[a] - 1));
  }
  /* the mass, the first and the second moments about the box's centre */
  nsum = 1 + m + m * m;
  PetscCall(VecGetArrayRead(p, &pa));
  ItGridForOwned(f->grid, c, l) {
    const PetscReal w = PetscRealPart(pa[l]);
    PetscReal       y[IT_MAX_DIM];
    for (PetscInt i = 0; i < m; i++)
      y[i] = ItGridCoordinate(f->grid, axes[i], c[axes[i]]) - centre[axes[i]];
    local[0] += w;
    for (PetscInt i = 0; i < m; i++) {
      local[1 + i] += w * y[i];
      for (PetscInt j = 0; j <= i; j++) local[1 + m + i * m + j] += w * y[i] * y[j];
    }
  }
  PetscCall(VecRestoreArrayRead(p, &pa));
  PetscCall(ItGridSum(f->grid, nsum, local, sum));
  if (m > 0 && sum[0] > 0) {
    for (PetscInt i = 0; i < m; i++)
      for (PetscInt j = 0; j <= i; j++)
        S[i * m + j] = S[j * m + i] =
            sum[1 + m + i * m + j] / sum[0] - sum[1 + i] / sum[0] * (sum[1 + j] / sum[0]);
    PetscCall(PetscBLASIntCast(m, &bm));
    PetscCallBLAS("LAPACKpotrf", LAPACKpotrf_("L", &bm, S, &bm, &info_la));
    if (!info_la) PetscCallBLAS("LAPACKpotri", LAPACKpotri_("L", &bm, S, &bm, &info_la));
    for (PetscInt i = 0; i < m; i++)
      var[axes[i]] = !info_la && S[i * m + i] > 0 ? (PetscReal)(float)(1 / S[i * m + i]) : 0;
  }
  same = f->guard;
  for (PetscInt a = 0; a < d && same; a++) same = (PetscBool)(var[a] == f->guard_var[a]);
  if (same) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscArraycpy(var_old, f->guard_var, d));
  same = f->guard; /* the guard was on: a renewal leaves the faces it does not change */
  PetscCall(PetscArraycpy(f->guard_var, var, d));
  f->guard = PETSC_TRUE;
  if (f->computed && !f->weights_due) PetscCall(ItFacesFourthWeights(f, same, var_old));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode ItFPCreate(ItGrid grid, ItModel model, ItFP *fp) {
  PetscFunctionBegin;
  PetscCall(ItFPCreateWithFaces(grid, model, NULL, fp));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The operator over faces of the same grid and model that it takes over
   (faces: e.g. the diagnostics' check at t = 0, ItDiagTakeFaces, whose
   Scharfetter–Gummel coefficients are then not computed again: ItFacesRestoreOrder),
   or over its own (NULL). Not collective. */
PetscErrorCode ItFPCreateWithFaces(ItGrid grid, ItModel model, ItFaces faces, ItFP *fp) {
  ItFP f;

  PetscFunctionBegin;
  PetscCheck(!faces || (faces->grid == grid && faces->model == model), PETSC_COMM_SELF,
             PETSC_ERR_ARG_INCOMP, "the faces are not of the operator's grid and model");
  PetscCall(PetscNew(&f));
  if (faces) {
    PetscCall(ItFacesRestoreOrder(faces));
    f->faces = faces;
  } else
    PetscCall(ItFacesCreate(grid, model, &f->faces));
  *fp = f;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The assembled L, created and assembled on first use (the time stepper and
   the stationary solve work with shifted operators and the matrix-free
   product instead, and never hold it). Collective on first use. */
PetscErrorCode ItFPGetMatrix(ItFP fp, Mat *L) {
  PetscFunctionBegin;
  if (!fp->L) {
    PetscCall(ItFPCreateMatrix(fp->faces->grid, &fp->L));
    PetscCall(PetscObjectSetName((PetscObject)fp->L, "FokkerPlanck"));
    if (fp->faces->computed && !fp->faces->weights_due) /* not faces still without weights */
      PetscCall(ItFPAssembleShifted(fp->faces, 0, -1, fp->L));
  }
  *L = fp->L;
  PetscFunctionReturn(PETSC_SUCCESS);
}

ItModel ItFPGetModel(ItFP fp) {
  return fp->faces->model;
}

/* Row c of L from the faces: the diagonal and the neighbours' columns (as
   ghosted offsets) and values. Each face's current enters the two cells it
   separates with opposite signs, so the columns sum to zero. The same
   arithmetic serves L, the shifted operators and the matrix-free product, so
   all agree bit for bit. */
static inline PetscInt ItFPRow(ItFaces f, PetscInt c[], PetscInt col[], PetscScalar val[]) {
  ItGrid            grid = f->grid;
  const ItGridInfo *info = ItGridGetInfo(grid);
  PetscInt          ncol = 1;

  col[0] = ItGridGhostedOffset(grid, c);
  val[0] = 0;
  for (PetscInt a = 0; a < info->dim; a++) {
    const PetscReal h      = info->h[a];
    const PetscInt  off_lo = ItFPFaceOffset(grid, a, c);
    PetscInt        off_hi;

    c[a]++;
    off_hi = ItFPFaceOffset(grid, a, c);
    c[a]--;
    /* low face: J = lo p_{c-1} - hi p_c enters cell c with + (a periodic axis wraps: the
       DMDA's ghosts hold cells -1 and n) */
    const PetscBool periodic = (PetscBool)(info->boundary[a] == IT_BOUNDARY_PERIODIC);
    val[0] -= f->hi[a][off_lo] / h;
    if (c[a] > 0 || periodic) {
      c[a]--;
      col[ncol]   = ItGridGhostedOffset(grid, c);
      val[ncol++] = f->lo[a][off_lo] / h;
      c[a]++;
    }
    /* high face: J = lo p_c - hi p_{c+1} leaves cell c */
    val[0] -= f->lo[a][off_hi] / h;
    if (c[a] < info->n[a] - 1 || periodic) {
      c[a]++;
      col[ncol]   = ItGridGhostedOffset(grid, c);
      val[ncol++] = f->hi[a][off_hi] / h;
      c[a]--;
    }
  }
  return ncol;
}

/* J = scale (shift I - L) from the faces, into a matrix of the grid's DMDA
   (ItFPCreateMatrix). Rows are set through the DMDA's local numbering (ghosted
   offsets), the same for any dimension. scale = -1, shift = 0 gives L itself,
   bit for bit. Collective. */
PetscErrorCode ItFPAssembleShifted(ItFaces f, PetscReal shift, PetscReal scale, Mat J) {
  ItGrid              grid  = f->grid;
  const PetscLogEvent event = f->level ? IT_FP_LEVEL : IT_FP_ASSEMBLE;

  PetscFunctionBegin;
  PetscCall(PetscLogEventBegin(event, 0, 0, 0, 0));
  PetscCall(MatZeroEntries(J));
  ItGridForOwned(grid, c, l) {
    PetscInt    col[2 * IT_MAX_DIM + 1], ncol;
    PetscScalar val[2 * IT_MAX_DIM + 1];

    (void)l;
    ncol   = ItFPRow(f, c, col, val);
    val[0] = scale * (shift - val[0]);
    for (PetscInt k = 1; k < ncol; k++) val[k] = -scale * val[k];
    PetscCall(MatSetValuesLocal(J, 1, &col[0], ncol, col, val, INSERT_VALUES));
  }
  if (f->reset) PetscCall(ItFPResetAddTo(f->reset, scale, J));
  PetscCall(MatAssemblyBegin(J, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(J, MAT_FINAL_ASSEMBLY));
  PetscCall(PetscLogEventEnd(event, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Only the diagonal of J = scale (shift I - L), for a new shift with the same
   faces: the values a full ItFPAssembleShifted would give, whatever shift J
   held before (a restart takes the same steps bit for bit). Collective. */
PetscErrorCode ItFPSetShift(ItFaces f, PetscReal shift, PetscReal scale, Mat J) {
  ItGrid            grid = f->grid;
  const ItGridInfo *info = ItGridGetInfo(grid);
  Vec               diag;
  PetscScalar      *d;

  PetscFunctionBegin;
  PetscCall(DMGetGlobalVector(info->da, &diag));
  PetscCall(VecGetArray(diag, &d));
  ItGridForOwned(grid, c, l) {
    PetscInt    col[2 * IT_MAX_DIM + 1];
    PetscScalar val[2 * IT_MAX_DIM + 1];

    (void)ItFPRow(f, c, col, val);
    d[l] = scale * (shift - val[0]);
  }
  PetscCall(VecRestoreArray(diag, &d));
  PetscCall(MatDiagonalSet(J, diag, INSERT_VALUES));
  PetscCall(DMRestoreGlobalVector(info->da, &diag));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The current through the low face of owned cell c along axis a from the
   fourth-order weights and the ghosted density pl (two ghosts per side): o is
   c's ghosted offset, gs the ghosted array's stride along a, f_off the face's
   offset. */
/* A face's weights in the precision the faces keep them (-fp_weights): d
   (double) or s (single), the other NULL. */
typedef struct {
  const PetscReal *d;
  const float     *s;
} ItFPWeights;

/* The weights of face k counted from w's. */
static inline ItFPWeights ItFPWeightsAt(ItFPWeights w, PetscInt k) {
  return (ItFPWeights){w.d ? w.d + 4 * k : NULL, w.s ? w.s + 4 * k : NULL};
}

/* The weights of the face at offset f_off along axis a. */
static inline ItFPWeights ItFPFaceWeights(ItFaces f, PetscInt a, PetscInt f_off) {
  return ItFPWeightsAt((ItFPWeights){f->w4[a], f->w4s[a]}, f_off);
}

/* Weight q of a face. */
static inline PetscReal ItFPWeight(ItFPWeights w, PetscInt q) {
  return w.s ? (PetscReal)w.s[q] : w.d[q];
}

static inline PetscScalar ItFPFourthFluxWeights(ItFPWeights w, const PetscScalar p[], PetscInt g) {
  PetscScalar J = 0;

  for (PetscInt q = 0; q < 4; q++) { /* the cells beyond a wall have no weight */
    const PetscReal wq = ItFPWeight(w, q);
    if (wq != 0) J += wq * p[(q - 2) * g];
  }
  return J;
}

static inline PetscScalar ItFPFourthFlux(ItFaces f, PetscInt a, PetscInt f_off, PetscInt o,
                                         PetscInt gs, const PetscScalar pl[]) {
  return ItFPFourthFluxWeights(ItFPFaceWeights(f, a, f_off), pl + o, gs);
}

/* (L_a p)_c: the currents through the low and the high face, (J_lo - J_hi) / h. */
static inline PetscScalar ItFPFourthAxis(ItFaces f, PetscInt a, const PetscInt c[], PetscInt o,
                                         const PetscInt gs[], const PetscInt fs[],
                                         const PetscScalar pl[]) {
  const PetscInt    off  = ItFPFaceOffset(f->grid, a, c);
  const ItGridInfo *info = ItGridGetInfo(f->grid);

  return (ItFPFourthFlux(f, a, off, o, gs[a], pl) -
          ItFPFourthFlux(f, a, off + fs[a], o + gs[a], gs[a], pl)) /
         info->h[a];
}

/* The currents J[i] of m faces of a row whose stencils lie inside the
   ghosted array: face i's weights w[4 i + q], its high cell p[i] (g the
   stride along the faces' axis), summed as ItFPFourthFluxWeights sums them
   (0 + w[0] p[-2 g] + ..., left to right). The arrays do not overlap
   (restrict: the loop vectorises); one loop per precision of the weights
   (a single weight is exact in double: the same sums as the per-cell ones). */
#define IT_FP_ROW_FLUXES(w)                                                                        \
  for (PetscInt i = 0; i < m; i++)                                                                 \
  J[i] = (((0 + w[4 * i] * p[i - 2 * g]) + w[4 * i + 1] * p[i - g]) + w[4 * i + 2] * p[i]) +       \
         w[4 * i + 3] * p[i + g]
static void ItFPFourthRowFluxes(PetscInt m, ItFPWeights wt, const PetscScalar *restrict p,
                                PetscInt g, PetscScalar *restrict J) {
  if (wt.s) {
    const float *restrict w = wt.s;
    IT_FP_ROW_FLUXES(w);
  } else {
    const PetscReal *restrict w = wt.d;
    IT_FP_ROW_FLUXES(w);
  }
}

/* The currents J[i] of a row's m faces along an axis other than the
   fastest from their weights w[4 i + q] and the rows of the ghosted density
   that their stencils take, t[q][i] (q = 0 .. 3, the rows two below to one
   above the faces' high cells): ItFPFourthRowFluxes with the rows apart. A
   row beyond a wall, whose weights are zero, is given as any row inside
   the ghosted array (0 p adds nothing, as ItFPFourthFluxWeights's test
   leaves it out). */
#define IT_FP_ROW_TAPS(w)                                                                          \
  for (PetscInt i = 0; i < m; i++)                                                                 \
  J[i] = (((0 + w[4 * i] * t0[i]) + w[4 * i + 1] * t1[i]) + w[4 * i + 2] * t2[i]) +                \
         w[4 * i + 3] * t3[i]
static void ItFPFourthRowTaps(PetscInt m, ItFPWeights wt, const PetscScalar *restrict t0,
                              const PetscScalar *restrict t1, const PetscScalar *restrict t2,
                              const PetscScalar *restrict t3, PetscScalar *restrict J) {
  if (wt.s) {
    const float *restrict w = wt.s;
    IT_FP_ROW_TAPS(w);
  } else {
    const PetscReal *restrict w = wt.d;
    IT_FP_ROW_TAPS(w);
  }
}

/* A row's part along an axis other than the fastest, y[i] += (J[i] - Jh) / h:
   J[i] the current through cell i's low face, Jh that through its high face
   (weights w[4 i + q], rows t[q] as for ItFPFourthRowTaps), which J[i] then
   keeps for the row above. */
#define IT_FP_ROW_AXIS(w)                                                                          \
  for (PetscInt i = 0; i < m; i++) {                                                               \
    const PetscScalar Jh =                                                                         \
        (((0 + w[4 * i] * t0[i]) + w[4 * i + 1] * t1[i]) + w[4 * i + 2] * t2[i]) +                 \
        w[4 * i + 3] * t3[i];                                                                      \
    y[i] += (J[i] - Jh) / h;                                                                       \
    J[i] = Jh;                                                                                     \
  }
static void ItFPFourthRowAxis(PetscInt m, PetscReal h, ItFPWeights wt,
                              const PetscScalar *restrict t0, const PetscScalar *restrict t1,
                              const PetscScalar *restrict t2, const PetscScalar *restrict t3,
                              PetscScalar *restrict J, PetscScalar *restrict y) {
  if (wt.s) {
    const float *restrict w = wt.s;
    IT_FP_ROW_AXIS(w)
  } else {
    const PetscReal *restrict w = wt.d;
    IT_FP_ROW_AXIS(w)
  }
}

/* The rows of the ghosted density that the stencils of a row's faces along
   axis a take (ItFPFourthRowTaps) when their high cells are the row p at
   index ca along a: p + (q - 2) g, or `inside` (a row of the ghosted array)
   for the rows beyond it, [lo, hi] the ghosted array's rows. */
static inline void ItFPFourthTaps(const PetscScalar *p, PetscInt g, PetscInt ca, PetscInt lo,
                                  PetscInt hi, const PetscScalar *inside, const PetscScalar *t[4]) {
  for (PetscInt q = 0; q < 4; q++) {
    const PetscInt r = ca + q - 2;
    t[q]             = r >= lo && r <= hi ? p + (q - 2) * g : inside;
  }
}

/* A row's part along the fastest axis from its m + 1 face currents F. */
static void ItFPFourthRowFastest(PetscInt m, PetscReal h, const PetscScalar *restrict F,
                                 PetscScalar *restrict y) {
  for (PetscInt i = 0; i < m; i++) y[i] += (F[i] - F[i + 1]) / h;
}

/* A row of y = a x + b y, as PETSc's VecAXPBY computes it (a != 0, 1 and
   b != 1: a x[i] + b y[i]). */
static void ItFPRowAXPBY(PetscInt m, PetscScalar a, const PetscScalar *restrict x, PetscScalar b,
                         PetscScalar *restrict y) {
  for (PetscInt i = 0; i < m; i++) y[i] = a * x[i] + b * y[i];
}

/* y = L p of the fourth-order operator, row by row along the storage
   order's fastest axis a0 (m0 cells), each face current computed once:
   along a0 a row's m0 + 1 faces into F; along another axis a the current
   through a row's high faces is kept in buf[a] (a ring of fs[a] values, the
   owned cells below one step along a) until the row one step up along a
   takes it as its low faces' current (the first row along a computes its
   own). Along a0 a face whose stencil lies inside the ghosted array takes
   its four products without tests, the two next to each wall go through
   ItFPFourthFluxWeights (the cells beyond a wall have no weight); along the
   other axes every row takes its four products without tests, a row beyond
   a wall replaced by the row itself (its weight is zero). Every face
   current is the same sum in the same order as ItFPFourthAxis's (up to the
   sign of a zero) and each cell adds its axes in the same order, so the
   product is the same to the bit. With ab, each row then becomes
   ab[0] p + ab[1] (L p) (ItFPShellMult's VecAXPBY, the same bits, without
   another pass over the vectors). Not collective. */
static void ItFPFourthApplyRows(ItFaces f, const PetscScalar pl[], PetscScalar y[], PetscScalar F[],
                                PetscScalar *const buf[], const PetscScalar ab[]) {
  ItGrid            grid = f->grid;
  const ItGridInfo *info = ItGridGetInfo(grid);
  const PetscInt    d = info->dim, a0 = info->order[0], m0 = info->xm[a0];
  PetscInt          gs[IT_MAX_DIM], fs[IT_MAX_DIM], c[IT_MAX_DIM];

  ItGridStrides(grid, gs, fs);
  (void)ItGridFirstOwned(grid, c);
  for (PetscInt l0 = 0; l0 < info->nlocal; l0 += m0) {
    const PetscInt o  = ItGridGhostedOffset(grid, c);
    PetscScalar   *yr = y + l0;
    for (PetscInt i = 0; i < m0; i++) yr[i] = 0;
    for (PetscInt a = 0; a < d; a++) {
      const PetscInt     g = gs[a], fa = fs[a], off = ItFPFaceOffset(grid, a, c);
      const PetscReal    h = info->h[a];
      const ItFPWeights  w = ItFPFaceWeights(f, a, off); /* the row's low faces */
      const PetscScalar *p = pl + o;
      /* a face whose high cell is ca has its stencil inside for lo <= ca <= hi */
      const PetscInt lo = info->gxs[a] + 2, hi = info->gxs[a] + info->gxm[a] - 2;
      if (a == a0) { /* face k: the low face of cell k, the high face of cell k - 1 */
        const PetscInt k0 = PetscMax(0, PetscMin(m0 + 1, lo - c[a]));
        const PetscInt k1 = PetscMax(k0, PetscMin(m0 + 1, hi + 1 - c[a]));
        for (PetscInt k = 0; k < k0; k++)
          F[k] = ItFPFourthFluxWeights(ItFPWeightsAt(w, k), p + k, g);
        ItFPFourthRowFluxes(k1 - k0, ItFPWeightsAt(w, k0), p + k0, g, F + k0);
        for (PetscInt k = k1; k <= m0; k++)
          F[k] = ItFPFourthFluxWeights(ItFPWeightsAt(w, k), p + k, g);
        ItFPFourthRowFastest(m0, h, F, yr);
      } else {
        PetscScalar       *J = buf[a] + l0 % fa; /* this row's low faces, then its high ones */
        const PetscScalar *t[4];
        const PetscInt     glo = info->gxs[a], ghi = info->gxs[a] + info->gxm[a] - 1;
        if (c[a] == info->xs[a]) { /* the first row along a: its low faces */
          ItFPFourthTaps(p, g, c[a], glo, ghi, p, t);
          ItFPFourthRowTaps(m0, w, t[0], t[1], t[2], t[3], J);
        }
        ItFPFourthTaps(p + g, g, c[a] + 1, glo, ghi, p, t); /* the high faces' */
        ItFPFourthRowAxis(m0, h, ItFPWeightsAt(w, fa), t[0], t[1], t[2], t[3], J, yr);
      }
    }
    if (ab) ItFPRowAXPBY(m0, ab[0], pl + o, ab[1], yr);
    c[a0] = info->xs[a0] + m0 - 1; /* the row's last cell; the next owned one starts the next row */
    ItGridNextOwned(grid, c);
  }
}

/* y = L p of the Scharfetter–Gummel operator, a row along the storage
   order's fastest axis at a time, each axis's faces streamed along the row by
   their stride (ItFPRow's per-cell offsets made the product about 10x a
   MatMult in 5-D). Each cell's sums run in ItFPRow's order (the diagonal, then
   each axis's low and high neighbour), so the matrix-free product and the
   assembled L give the same bits. diag: room for a row. Not collective. */
static void ItFPSecondApplyRows(ItFaces f, const PetscScalar pl[], PetscScalar y[],
                                PetscScalar diag[]) {
  ItGrid            grid = f->grid;
  const ItGridInfo *info = ItGridGetInfo(grid);
  const PetscInt    d = info->dim, a0 = info->order[0], m0 = info->xm[a0];
  PetscInt          gs[IT_MAX_DIM], fs[IT_MAX_DIM], c[IT_MAX_DIM];

  ItGridStrides(grid, gs, fs);
  (void)ItGridFirstOwned(grid, c);
  for (PetscInt l0 = 0; l0 < info->nlocal; l0 += m0) {
    const PetscScalar *p  = pl + ItGridGhostedOffset(grid, c);
    PetscScalar       *yr = y + l0;

    for (PetscInt i = 0; i < m0; i++) diag[i] = 0;
    for (PetscInt a = 0; a < d; a++) {
      const PetscInt  off = ItFPFaceOffset(grid, a, c); /* faces: a0 fastest */
      const PetscReal h = info->h[a], *lo = f->lo[a] + off + fs[a], *hi = f->hi[a] + off;
      for (PetscInt i = 0; i < m0; i++) {
        diag[i] -= hi[i] / h;
        diag[i] -= lo[i] / h;
      }
    }
    for (PetscInt i = 0; i < m0; i++) {
      yr[i] = 0;
      yr[i] += diag[i] * p[i];
    }
    for (PetscInt a = 0; a < d; a++) {
      const PetscInt  g = gs[a], off = ItFPFaceOffset(grid, a, c);
      const PetscReal h = info->h[a], *lo = f->lo[a] + off, *hi = f->hi[a] + off + fs[a];
      const PetscBool periodic = (PetscBool)(info->boundary[a] == IT_BOUNDARY_PERIODIC);
      const PetscInt  last     = info->n[a] - 1;
      /* the cells of the row that have a low (high) neighbour along a */
      const PetscInt i_lo = periodic || c[a] > 0 ? 0 : (a == a0 ? 1 : m0);
      const PetscInt i_hi =
          periodic ? m0 : (a == a0 ? PetscMin(m0, last - c[a]) : (c[a] < last ? m0 : 0));
      for (PetscInt i = 0; i < m0; i++) {
        if (i >= i_lo) yr[i] += lo[i] / h * p[i - g];
        if (i < i_hi) yr[i] += hi[i] / h * p[i + g];
      }
    }
    c[a0] = info->xs[a0] + m0 - 1; /* the row's last cell; the next owned one starts the next row */
    ItGridNextOwned(grid, c);
  }
}

/* Lp = L p, matrix-free from the faces (no assembled L needed); with ab (faces of order 4 without
   a re-injection or closures) ab[0] p + ab[1] L p instead. Collective. */
static PetscErrorCode ItFPApplyFacesWith(ItFaces f, Vec p, Vec Lp, const PetscScalar ab[]) {
  ItGrid             grid = f->grid;
  const ItGridInfo  *info = ItGridGetInfo(grid);
  Vec                local;
  const PetscScalar *pl;
  PetscScalar       *y;

  PetscFunctionBegin;
  PetscCall(PetscLogEventBegin(IT_FP_APPLY, 0, 0, 0, 0));
  PetscCall(DMGetLocalVector(info->da, &local));
  PetscCall(DMGlobalToLocal(info->da, p, INSERT_VALUES, local));
  PetscCall(VecGetArrayRead(local, &pl));
  PetscCall(VecGetArray(Lp, &y));
  if (f->order == 4) {
    PetscScalar *F, *buf[IT_MAX_DIM] = {NULL};
    PetscInt     fs[IT_MAX_DIM], gs[IT_MAX_DIM], n = info->xm[info->order[0]] + 1;
    ItGridStrides(grid, gs, fs);
    for (PetscInt a = 0; a < info->dim; a++) n += a == info->order[0] ? 0 : fs[a];
    PetscCall(PetscMalloc1(n, &F));
    n = info->xm[info->order[0]] + 1;
    for (PetscInt a = 0; a < info->dim; a++)
      if (a != info->order[0]) {
        buf[a] = F + n;
        n += fs[a];
      }
    ItFPFourthApplyRows(f, pl, y, F, buf, ab);
    PetscCall(PetscFree(F));
  } else {
    PetscScalar *diag;
    PetscCall(PetscMalloc1(info->xm[info->order[0]], &diag));
    ItFPSecondApplyRows(f, pl, y, diag);
    PetscCall(PetscFree(diag));
  }
  PetscCall(VecRestoreArray(Lp, &y));
  PetscCall(VecRestoreArrayRead(local, &pl));
  PetscCall(DMRestoreLocalVector(info->da, &local));
  /* the re-injection (and at order 4 the threshold's closures) */
  if (f->closure)
    PetscCall(ItFPClosureApply(f->closure, p, Lp));
  else if (f->reset)
    PetscCall(MatMultAdd(f->reset, p, Lp, Lp));
  PetscCall(PetscLogEventEnd(IT_FP_APPLY, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Lp = L p, matrix-free from the faces (no assembled L needed). Collective. */
PetscErrorCode ItFPApplyFaces(ItFaces f, Vec p, Vec Lp) {
  PetscFunctionBegin;
  PetscCall(ItFPApplyFacesWith(f, p, Lp, NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The fourth-order operator scale (shift I - L) as a matrix-free MatShell
   (the Amat of the implicit stages and of the stationary solve; the assembled
   Scharfetter–Gummel operator of the same faces and its multigrid levels
   precondition it). A pinned row (the stationary solve) is replaced by its
   value times the unknown, as MatZeroRows does to the preconditioner. */
typedef struct {
  ItFaces     faces;
  PetscReal   shift, scale;
  PetscInt    pin; /* the pinned row's global index, -1: none */
  PetscScalar pin_value;
} ItFPShell;

static PetscErrorCode ItFPShellMult(Mat A, Vec x, Vec y) {
  ItFPShell *s;
  PetscInt   lo, hi;

  PetscFunctionBegin;
  PetscCall(MatShellGetContext(A, &s));
  {
    const PetscScalar ab[2] = {s->scale * s->shift, -s->scale};
    /* VecAXPBY's general case within the product's pass over the rows (order 4, no
       re-injection or closures to add after it) */
    if (s->faces->order == 4 && !s->faces->closure && !s->faces->reset && ab[0] != 0 &&
        ab[0] != 1 && ab[1] != 1)
      PetscCall(ItFPApplyFacesWith(s->faces, x, y, ab));
    else {
      PetscCall(ItFPApplyFaces(s->faces, x, y));
      PetscCall(VecAXPBY(y, ab[0], ab[1], x));
    }
  }
  PetscCall(VecGetOwnershipRange(x, &lo, &hi));
  if (s->pin >= lo && s->pin < hi) {
    const PetscScalar *xa;
    PetscScalar       *ya;
    PetscCall(VecGetArrayRead(x, &xa));
    PetscCall(VecGetArray(y, &ya));
    ya[s->pin - lo] = s->pin_value * xa[s->pin - lo];
    PetscCall(VecRestoreArray(y, &ya));
    PetscCall(VecRestoreArrayRead(x, &xa));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ItFPShellDestroy(Mat A) {
  ItFPShell *s;

  PetscFunctionBegin;
  PetscCall(MatShellGetContext(A, &s));
  PetscCall(PetscFree(s));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The matrix-free scale (shift I - L) of faces of order 4 (shift 0, scale 1
   until ItFPShiftedSet). Collective. */
PetscErrorCode ItFPCreateShiftedFree(ItFaces f, Mat *A) {
  ItGrid            grid = f->grid;
  const ItGridInfo *info = ItGridGetInfo(grid);
  ItFPShell        *s;
  Vec               v;
  VecType           type;

  PetscFunctionBegin;
  PetscCall(PetscNew(&s));
  s->faces = f;
  s->scale = 1;
  s->pin   = -1;
  PetscCall(MatCreateShell(info->comm, info->nlocal, info->nlocal, PETSC_DETERMINE, PETSC_DETERMINE,
                           s, A));
  PetscCall(MatShellSetOperation(*A, MATOP_MULT, (void (*)(void))ItFPShellMult));
  PetscCall(MatShellSetOperation(*A, MATOP_DESTROY, (void (*)(void))ItFPShellDestroy));
  PetscCall(DMGetGlobalVector(info->da, &v)); /* the grid's vectors (and their type) */
  PetscCall(VecGetType(v, &type));
  PetscCall(MatShellSetVecType(*A, type));
  PetscCall(DMRestoreGlobalVector(info->da, &v));
  PetscCall(PetscObjectSetName((PetscObject)*A, "FokkerPlanck4"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The shift, scale and pinned row (global index, -1: none; its value) of a
   matrix of ItFPCreateShiftedFree. Not collective. */
PetscErrorCode ItFPShiftedSet(Mat A, PetscReal shift, PetscReal scale, PetscInt pin,
                              PetscScalar pin_value) {
  ItFPShell *s;

  PetscFunctionBegin;
  PetscCall(MatShellGetContext(A, &s));
  s->shift     = shift;
  s->scale     = scale;
  s->pin       = pin;
  s->pin_value = pin_value;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The matrix of ItFPCreateShiftedFree's product assembled: the grid DMDA's
   own width-2 pattern, the closures' entries (src/fp/closure.c) joining it
   on the first assembly. For a direct factorisation of the fourth-order
   operator itself (one variable: src/solve/solve.c). Collective. */
PetscErrorCode ItFPCreateShiftedMatrix(ItGrid grid, Mat *P) {
  PetscFunctionBegin;
  PetscCall(DMCreateMatrix(ItGridGetInfo(grid)->da, P));
  PetscCall(MatSetOption(*P, MAT_NEW_NONZERO_ALLOCATION_ERR, PETSC_FALSE));
  PetscCall(PetscObjectSetName((PetscObject)*P, "FokkerPlanck4Assembled"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* P = the product of A (ItFPCreateShiftedFree) entry for entry, with its
   shift, scale and pinned row: row c of L is the stencil's
   (J_lo - J_hi) / h, J_lo = Σ_q w_lo[q] p_{c-2+q} and J_hi = Σ_q w_hi[q]
   p_{c-1+q} (the weights of ItFPFourthFlux; those beyond a wall are zero),
   plus the threshold closures and the re-injection. Collective. */
PetscErrorCode ItFPShiftedAssemble(Mat A, Mat P) {
  ItFPShell        *s;
  ItFaces           f;
  ItGrid            grid;
  const ItGridInfo *info;
  PetscInt          gs[IT_MAX_DIM], fs[IT_MAX_DIM], lo, hi;

  PetscFunctionBegin;
  PetscCall(MatShellGetContext(A, &s));
  f    = s->faces;
  grid = f->grid;
  info = ItGridGetInfo(grid);
  ItGridStrides(grid, gs, fs);
  PetscCall(MatZeroEntries(P));
  ItGridForOwned(grid, c, l) {
    const PetscInt o = ItGridGhostedOffset(grid, c);
    PetscInt       col[1 + 8 * IT_MAX_DIM], n = 1;
    PetscScalar    val[1 + 8 * IT_MAX_DIM];
    (void)l;
    col[0] = o;
    val[0] = s->scale * s->shift;
    for (PetscInt a = 0; a < info->dim; a++) {
      const PetscInt    off = ItFPFaceOffset(grid, a, c);
      const ItFPWeights wl = ItFPFaceWeights(f, a, off), wh = ItFPFaceWeights(f, a, off + fs[a]);
      for (PetscInt q = 0; q < 4; q++) {
        if (ItFPWeight(wl, q) != 0) {
          col[n]   = o + (q - 2) * gs[a];
          val[n++] = -s->scale * ItFPWeight(wl, q) / info->h[a];
        }
        if (ItFPWeight(wh, q) != 0) {
          col[n]   = o + (q - 1) * gs[a];
          val[n++] = s->scale * ItFPWeight(wh, q) / info->h[a];
        }
      }
    }
    PetscCall(MatSetValuesLocal(P, 1, &o, n, col, val, ADD_VALUES));
  }
  if (f->closure) PetscCall(ItFPClosureAddTo(f->closure, -s->scale, P));
  PetscCall(MatAssemblyBegin(P, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(P, MAT_FINAL_ASSEMBLY));
  PetscCall(MatGetOwnershipRange(P, &lo, &hi));
  PetscCall(MatSetOption(P, MAT_KEEP_NONZERO_PATTERN, PETSC_TRUE));
  PetscCall(MatZeroRows(P, s->pin >= lo && s->pin < hi ? 1 : 0, &s->pin, s->pin_value, NULL, NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* (L_a p)_c, the fourth-order operator's part along axis a at owned cell c,
   from the ghosted density pl (faces of order 4). Not collective. */
PetscScalar ItFacesAxisDivergence(ItFaces f, PetscInt a, const PetscInt c[],
                                  const PetscScalar pl[]) {
  PetscInt gs[IT_MAX_DIM], fs[IT_MAX_DIM];

  ItGridStrides(f->grid, gs, fs);
  return ItFPFourthAxis(f, a, c, ItGridGhostedOffset(f->grid, c), gs, fs, pl);
}

/* The fourth-order difference (v_{k-2} - 8 v_{k-1} + 8 v_{k+1} - v_{k+2}) / 12h
   at index k of a pencil, or the central one next to a wall (index k of cell
   `cell` of n). */
static inline PetscReal ItFPDifference(const PetscReal v[], PetscInt k, PetscInt cell, PetscInt n,
                                       PetscReal h) {
  if (cell < 2 || cell > n - 3) return (v[k + 1] - v[k - 1]) / (2 * h);
  return (v[k - 2] - 8 * v[k - 1] + 8 * v[k + 1] - v[k + 2]) / (12 * h);
}

/* The force a face current meets in the flows' face sums (ItFacesFaceFlow):
   with r = A_a / D_a and l = ln D_a at pencil cells k-2 .. k+1 around the face
   between cells k-1 and k, (-r_{k-2} + 13 r_{k-1} + 13 r_k - r_{k+1}) / 24 -
   (l_k - l_{k-1}) / h = F + h^2 F'' / 24 + O(h^4) (wide: the four cells lie in
   the box), or the two cells' mean and difference next to a wall. */
static inline PetscReal ItFPFaceForce(const PetscReal r[], const PetscReal l[], PetscInt k,
                                      PetscBool wide, PetscReal h) {
  const PetscReal rf =
      wide ? (-r[k - 2] + 13 * r[k - 1] + 13 * r[k] - r[k + 1]) / 24 : 0.5 * (r[k - 1] + r[k]);
  return rf - (l[k] - l[k - 1]) / h;
}

/* The flow's face term J_f F_f of a face between pencil cells k-1 and k
   (face index `face` of n along a wall axis, or any face of a periodic one,
   whose ghosts wrap): J_f is the operator's own face
   current, the fourth-order face formula blended with the Scharfetter–Gummel
   face by its weight theta (the one the operator applies), F_f the face force
   of ItFPFaceForce. The operator's fourth-order face current is J - h^2 J''/24
   + O(h^4) at the face and the force F + h^2 F''/24, so the sum over the faces
   is ∫ J F + (h^2/24) ∫ (J F'' - J'' F) + O(h^4), whose middle term
   integrates to zero for a current vanishing at the walls (or periodic): fourth order where
   the faces resolve the density, and the operator's own current where they
   fall back (a cell-centred fourth-order difference there is far off on a
   density a cell or two wide). The walls carry none. */
static inline PetscReal ItFPFaceFlow(PetscReal J, const PetscReal r[], const PetscReal l[],
                                     PetscInt k, PetscInt face, PetscInt n, PetscBool periodic,
                                     PetscReal h) {
  if (periodic) return J * ItFPFaceForce(r, l, k, PETSC_TRUE, h);
  if (face <= 0 || face >= n) return 0;
  return J * ItFPFaceForce(r, l, k, (PetscBool)(face >= 2 && face <= n - 2), h);
}

/* Γ_a along wall or periodic axis a: Σ_f J_f F_f over the low faces of the
   owned cells (ItFPFaceFlow; a periodic axis' seam is cell 0's low face, its
   stencil and the force's cells wrapping), added to *flow. Not collective. */
static PetscErrorCode ItFacesFaceFlow(ItFaces f, PetscInt a, const PetscScalar pl[],
                                      const PetscScalar pl2[], PetscReal *flow, PetscReal *flow2) {
  ItGrid            grid = f->grid;
  const ItGridInfo *info = ItGridGetInfo(grid);
  const PetscInt    d = info->dim, xs = info->xs[a], xm = info->xm[a], n = info->n[a];
  const PetscReal   h        = info->h[a];
  const PetscBool   periodic = (PetscBool)(info->boundary[a] == IT_BOUNDARY_PERIODIC);
  PetscReal         sum = 0, sum2 = 0, *r, *lnD;
  PetscInt          gs[IT_MAX_DIM], fs[IT_MAX_DIM];

  PetscFunctionBegin;
  ItGridStrides(grid, gs, fs);
  PetscCall(PetscMalloc2(xm + 4, &r, xm + 4, &lnD));
  ItGridForOwned(grid, c, l) {
    (void)l;
    if (c[a] != xs) continue;
    for (PetscInt k = 0; k < xm + 4; k++) { /* cells xs-2 .. xs+xm+1 */
      for (PetscInt b = 0; b < d; b++) f->x[k * d + b] = ItGridCoordinate(grid, b, c[b]);
      f->x[k * d + a] = ItGridCoordinate(grid, a, xs - 2 + k);
    }
    PetscCall(ItModelEvaluateWork(f->work, f->t, f->p, xm + 4, f->x, f->A, f->D));
    for (PetscInt k = 0; k < xm + 4; k++) {
      const PetscReal D = f->D[k * d + a];
      r[k]              = D > 0 ? f->A[k * d + a] / D : 0;
      lnD[k]            = D > 0 ? PetscLogReal(D) : 0;
    }
    /* the pencil's first face and cell; the others by the strides along a */
    const PetscInt off = ItFPFaceOffset(grid, a, c), o = ItGridGhostedOffset(grid, c);
    for (PetscInt k = 2; k < xm + 2; k++) { /* the low face of owned cell xs-2+k */
      const PetscInt face = xs - 2 + k;
      PetscReal      J;
      if (face == 0 && !periodic) continue;
      J = PetscRealPart(
          ItFPFourthFlux(f, a, off + (k - 2) * fs[a], o + (k - 2) * gs[a], gs[a], pl));
      sum += ItFPFaceFlow(J, r, lnD, k, face, n, periodic, h);
      if (!pl2) continue;
      J = PetscRealPart(
          ItFPFourthFlux(f, a, off + (k - 2) * fs[a], o + (k - 2) * gs[a], gs[a], pl2));
      sum2 += ItFPFaceFlow(J, r, lnD, k, face, n, periodic, h);
    }
  }
  PetscCall(PetscFree2(r, lnD));
  *flow += sum;
  if (pl2) *flow2 += sum2;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The entropy flows' sums Γ_a over the owned cells, added to flow[a], at the
   time and parameters of the last computation (doc/physics.md §7). Along a
   wall or periodic axis, Σ_f J_f F_f over the low faces of the owned cells
   (ItFacesFaceFlow: the operator's blended face currents, so that the flow
   is the heat of the discrete dynamics where the faces fall back to
   Scharfetter–Gummel). Along a threshold axis (whose last faces are the
   closures', src/fp/closure.c),
   Σ_c J_a(x_c) F_a(x_c) of the current J_a = A_a p - ∂a(D_a p) and the force
   F_a = A_a / D_a - ∂a ln D_a at the cell centres, by fourth-order central
   differences (second-order next to the walls; the cells on the walls are
   left out). Either midpoint rule is spectrally accurate for a smooth,
   decaying integrand, so the flows converge at fourth order. Not
   collective. */
PetscErrorCode ItFacesCellFlows(ItFaces f, const PetscScalar pl[], PetscReal flow[]) {
  PetscFunctionBegin;
  PetscCall(ItFacesCellFlowsPair(f, pl, NULL, flow, NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ItFacesCellFlows of two ghosted densities at once, pl's into flow and
   pl2's into flow2 (pl2 NULL: none): along a wall or periodic axis the
   model is evaluated along each pencil once for both (the diagnostics' flows
   and their time derivatives, the flows of L p: src/diag/diag.c); each sum
   is the one ItFacesCellFlows gives, to the bit. Not collective. */
PetscErrorCode ItFacesCellFlowsPair(ItFaces f, const PetscScalar pl[], const PetscScalar pl2[],
                                    PetscReal flow[], PetscReal flow2[]) {
  ItGrid            grid = f->grid;
  const ItGridInfo *info = ItGridGetInfo(grid);
  const PetscInt    d    = info->dim;

  PetscFunctionBegin;
  for (PetscInt a = 0; a < d; a++) {
    const PetscInt  xs = info->xs[a], xm = info->xm[a], n = info->n[a];
    const PetscReal h   = info->h[a];
    PetscReal       sum = 0, *g, *lnD; /* D p and ln D along a pencil */

    if (info->boundary[a] != IT_BOUNDARY_THRESHOLD_RESET) {
      PetscCall(ItFacesFaceFlow(f, a, pl, pl2, &flow[a], pl2 ? &flow2[a] : NULL));
      continue;
    }
    PetscCheck(!pl2, PETSC_COMM_SELF, PETSC_ERR_SUP,
               "ItFacesCellFlowsPair: a threshold axis takes one density at a time");
    PetscCall(PetscMalloc2(xm + 4, &g, xm + 4, &lnD));
    ItGridForOwned(grid, c, l) {
      (void)l;
      if (c[a] != xs) continue;
      for (PetscInt k = 0; k < xm + 4; k++) {
        for (PetscInt b = 0; b < d; b++) f->x[k * d + b] = ItGridCoordinate(grid, b, c[b]);
        f->x[k * d + a] = ItGridCoordinate(grid, a, xs - 2 + k);
      }
      PetscCall(ItModelEvaluateWork(f->work, f->t, f->p, xm + 4, f->x, f->A, f->D));
      for (PetscInt k = 0; k < xm + 4; k++) {
        const PetscInt cell = xs - 2 + k;
        PetscReal      p    = 0;
        /* the threshold's last cell counts, the cell beyond holding -p_{n-1} (p vanishes
           linearly at the threshold) */
        if (cell >= 0 && cell < n) {
          c[a] = cell;
          p    = PetscRealPart(pl[ItGridGhostedOffset(grid, c)]);
        } else if (cell == n) {
          c[a] = n - 1;
          p    = -PetscRealPart(pl[ItGridGhostedOffset(grid, c)]);
        }
        g[k]   = f->D[k * d + a] * p;
        lnD[k] = f->D[k * d + a] > 0 ? PetscLogReal(f->D[k * d + a]) : 0;
      }
      for (PetscInt k = 2; k < xm + 2; k++) {
        const PetscInt cell = xs - 2 + k;
        PetscReal      J, F;
        if (cell == 0) continue; /* on the reset side's wall */
        c[a] = cell;
        J    = f->A[k * d + a] * PetscRealPart(pl[ItGridGhostedOffset(grid, c)]) -
            ItFPDifference(g, k, cell, n, h);
        F = f->A[k * d + a] / f->D[k * d + a] - ItFPDifference(lnD, k, cell, n, h);
        sum += J * F;
      }
      c[a] = xs;
    }
    PetscCall(PetscFree2(g, lnD));
    flow[a] += sum;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The fourth-order face current of one face along a pencil (cells k-2 ..
   k+1 of the pencil's arrays around the face between pencil cells k-1 and
   k): with g = A p and q = D p at the cell centres,
   (-g_{k-2} + 7 g_{k-1} + 7 g_k - g_{k+1}) / 12 - (q_{k-2} - 15 q_{k-1} + 15 q_k - q_{k+1}) / (12
   h), the operator's face formula (ItFacesPencilFourth). */
static inline PetscReal ItFPFaceFourth(const PetscReal g[], const PetscReal q[], PetscInt k,
                                       PetscReal h) {
  return (-g[k - 2] + 7 * g[k - 1] + 7 * g[k] - g[k + 1]) / 12 -
         (q[k - 2] - 15 * q[k - 1] + 15 * q[k] - q[k + 1]) / (12 * h);
}

/* The irreversible drift A^irr_a = [A_a(x) + ε_a A_a(εx)] / 2 at the m
   points of f->x (doc/physics.md §3b) into Airr, from f->A (evaluated at
   them) and an evaluation at the reversed points (into xr, Ar, Dr). */
static PetscErrorCode ItFacesIrreversibleDrift(ItFaces f, PetscInt a, PetscInt m, PetscReal xr[],
                                               PetscReal Ar[], PetscReal Dr[], PetscReal Airr[]) {
  const PetscInt d = ItGridGetInfo(f->grid)->dim;

  PetscFunctionBegin;
  for (PetscInt k = 0; k < m; k++)
    for (PetscInt b = 0; b < d; b++)
      xr[k * d + b] = ItModelGetParity(f->model, b) * f->x[k * d + b];
  PetscCall(ItModelEvaluateWork(f->work, f->t, f->p, m, xr, Ar, Dr));
  for (PetscInt k = 0; k < m; k++)
    Airr[k] = 0.5 * (f->A[k * d + a] + ItModelGetParity(f->model, a) * Ar[k * d + a]);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* With odd variables (-parity) under -fp_order 4: the entropy flows and the
   productions' by-parts sums of the irreversible currents (doc/physics.md
   §3b, §7), added per axis a to flow[a] and ep[a] over the owned cells:
     flow[a] += Σ_f J^irr_f F^irr_f   (the face currents below and the face force
                                       of A^irr/D - ∂a ln D, as ItFacesFaceFlow),
     ep[a]   -= Σ_c ln p_c (L^irr_a p)_c,  (L^irr_a p)_c = (J^irr_lo - J^irr_hi) / h,
   the face currents J^irr of the operator's construction with the
   irreversible drift: the fourth-order face formula blended by the weight
   theta of the operator's face (the same Péclet and resolution numbers) with
   the Scharfetter–Gummel fallback of the irreversible drift with its
   coefficients as the operator's (the form of -fp_fallback: ItFPFallback), those
   next to a wall Scharfetter–Gummel's at the face (irr_lo, irr_hi), the
   walls none. So Π_a = Γ_a -
   Σ ln p L^irr_a p = ∫ (J^irr_a)^2 / (D_a p) at fourth order, as without
   parity. lnp: ln p at the ghosted offsets, PETSC_MIN_REAL where p <= 0
   (left out). Walls only (the diagnostics keep the second-order face sums
   on other boundaries). Not collective. */
PetscErrorCode ItFacesIrreversibleSums(ItFaces f, const PetscScalar pl[], const PetscReal lnp[],
                                       PetscReal flow[], PetscReal ep[]) {
  ItGrid            grid = f->grid;
  const ItGridInfo *info = ItGridGetInfo(grid);
  const PetscInt    d    = info->dim;

  PetscFunctionBegin;
  for (PetscInt a = 0; a < d; a++) {
    const PetscInt  xs = info->xs[a], xm = info->xm[a], n = info->n[a], m = xm + 4;
    const PetscReal h   = info->h[a];
    PetscReal       sum = 0, div = 0, *Airr, *g, *q, *lnD, *J, *pv, *xr, *Ar, *Dr;

    PetscCall(PetscMalloc6(m, &Airr, m, &g, m, &q, m, &lnD, xm + 1, &J, m, &pv));
    PetscCall(PetscMalloc3(m * d, &xr, m * d, &Ar, m * d, &Dr));
    ItGridForOwned(grid, c, l) {
      (void)l;
      if (c[a] != xs) continue;
      for (PetscInt k = 0; k < m; k++) { /* cells xs-2 .. xs+xm+1 */
        for (PetscInt b = 0; b < d; b++) f->x[k * d + b] = ItGridCoordinate(grid, b, c[b]);
        f->x[k * d + a] = ItGridCoordinate(grid, a, xs - 2 + k);
      }
      PetscCall(ItModelEvaluateWork(f->work, f->t, f->p, m, f->x, f->A, f->D));
      PetscCall(ItFacesIrreversibleDrift(f, a, m, xr, Ar, Dr, Airr));
      PetscCall(ItFacesPencilTheta(f, a, f->p, f->theta, f->rown));
      for (PetscInt k = 0; k < m; k++) {
        const PetscInt cell = xs - 2 + k;
        PetscReal      p    = 0;
        if (cell >= 0 && cell < n) {
          c[a] = cell;
          p    = PetscRealPart(pl[ItGridGhostedOffset(grid, c)]);
        }
        pv[k]  = p;
        g[k]   = Airr[k] * p;
        q[k]   = f->D[k * d + a] * p;
        lnD[k] = f->D[k * d + a] > 0 ? PetscLogReal(f->D[k * d + a]) : 0;
      }
      for (PetscInt k = 0; k < xm + 1;
           k++) { /* the faces xs .. xs+xm, between pencil cells k+1, k+2 */
        const PetscInt face = xs + k, i = k + 2;
        PetscInt       off;
        c[a] = face;
        off  = ItFPFaceOffset(grid, a, c);
        J[k] = 0;
        if (face == 0 || face == n) continue; /* the walls */
        J[k] = f->irr_lo[a][off] * pv[i - 1] - f->irr_hi[a][off] * pv[i];
        if (face < 2 || face > n - 2 || (f->irr_lo[a][off] == 0 && f->irr_hi[a][off] == 0))
          continue;
        {
          /* the operator's weight and fallback of this face (ItFacesPencilFourth): the
             Scharfetter–Gummel flux at the face (above), or the form of -fp_fallback */
          const PetscReal theta = f->theta[k];
          if (f->fallback != IT_FALLBACK_FACE) {
            PetscReal sg[2];
            ItFPFallback(f->fallback, h, f->irr_lo[a][off], f->irr_hi[a][off], Airr[i - 1],
                         f->D[(i - 1) * d + a], Airr[i], f->D[i * d + a], sg);
            J[k] = sg[0] * pv[i - 1] + sg[1] * pv[i];
          }
          J[k] = theta * ItFPFaceFourth(g, q, i, h) + (1 - theta) * J[k];
        }
      }
      for (PetscInt k = 2; k < xm + 2; k++) { /* the owned cells */
        const PetscInt cell = xs - 2 + k;
        c[a]                = cell;
        {
          const PetscInt o = ItGridGhostedOffset(grid, c);
          if (lnp[o] > PETSC_MIN_REAL) div += lnp[o] * (J[k - 2] - J[k - 1]) / h;
        }
      }
      for (PetscInt k = 0; k < m; k++) /* the irreversible drift over D, for the face force */
        g[k] = f->D[k * d + a] > 0 ? Airr[k] / f->D[k * d + a] : 0;
      for (PetscInt k = 0; k < xm; k++) /* the low faces of the owned cells (ItFPFaceFlow) */
        sum += ItFPFaceFlow(J[k], g, lnD, k + 2, xs + k, n, PETSC_FALSE, h);
      c[a] = xs;
    }
    PetscCall(PetscFree6(Airr, g, q, lnD, J, pv));
    PetscCall(PetscFree3(xr, Ar, Dr));
    flow[a] += sum;
    ep[a] -= div;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The reset matrix R of a grid with a threshold_reset axis (NULL otherwise),
   assembled with the faces: at order 4 the closures' R4 (src/fp/closure.c). */
Mat ItFacesGetReset(ItFaces faces) {
  return faces->closure ? ItFPClosureGetReset(faces->closure) : faces->reset;
}

/* The fourth-order closures at threshold and reset, or NULL. */
ItFPClosure ItFacesGetClosure(ItFaces faces) {
  return faces->closure;
}

/* The current through each threshold_reset axis' threshold (src/fp/boundary.c
   computes it from these faces' coefficients). Collective. */
PetscErrorCode ItFPThresholdRates(ItFaces faces, ItGrid grid, Vec p, PetscReal rate[]) {
  PetscFunctionBegin;
  if (faces->closure)
    PetscCall(ItFPClosureRates(faces->closure, p, rate)); /* -fp_order 4 */
  else
    PetscCall(ItFPThresholdCurrents(grid, faces->lo, p, rate));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The stationary density with refractory times, scaled with these faces'
   threshold currents (src/fp/boundary.c). Collective. */
PetscErrorCode ItFPRefractoryScale(ItFaces faces, ItGrid grid, Vec p) {
  PetscFunctionBegin;
  if (faces->closure) { /* -fp_order 4: the threshold closures' rates (src/fp/closure.c) */
    PetscReal rate[IT_MAX_DIM];
    PetscCall(ItFPClosureRates(faces->closure, p, rate));
    PetscCall(ItFPRefractoryScaleRates(grid, rate, p));
  } else
    PetscCall(ItFPRefractoryScaleWith(grid, faces->lo, p));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* delayed: R re-injects only along the axes without a refractory time (a
   transient holds the others' outflux in its compartment, src/fp/refractory.c);
   set before the faces are first computed. Not collective. */
PetscErrorCode ItFacesSetDelayedReset(ItFaces faces, PetscBool delayed) {
  PetscFunctionBegin;
  faces->delayed     = delayed;
  faces->computed    = PETSC_FALSE; /* R is reassembled with the next computation */
  faces->weights_due = PETSC_FALSE; /* and it is a full one */
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscBool ItFacesGetDelayedReset(ItFaces faces) {
  return faces->delayed;
}

/* How wide the cells are against the drift where the fourth-order fluxes
   act: the largest over the axes a of the root mean square of R = h_a^2
   |dA_a/dx_a| / D_a ((h/sd)^2 for an Ornstein–Uhlenbeck drift; under the
   stationary width, h_a^2/s_a^2 with the driver's share in s_a:
   ItFacesPencilTheta) over the
   faces, each weighed by its fourth-order weight theta (faces that fall back
   to Scharfetter–Gummel do not count). PETSC_MAX_REAL when an axis has no
   face of order 4 (order 2, or that axis too coarse: its second-order error
   then sets the space error, and the time tolerances stay order 2's). Its square scales as h^4, as
   the fourth-order space error does (the transient's default time tolerances follow it,
   src/solve/solve.c). The sums are those of the last full computation
   (ItFacesCompute): a guard's renewal keeps them, so a caller after the
   renewals gets the faces at that computation, not the renewed weights.
   Collective. */
PetscErrorCode ItFacesGetResolution(ItFaces f, PetscReal *rho) {
  const PetscInt d                     = ItGridGetInfo(f->grid)->dim;
  PetscReal      local[2 * IT_MAX_DIM] = {0}, sum[2 * IT_MAX_DIM] = {0};

  PetscFunctionBegin;
  for (PetscInt a = 0; a < d; a++) {
    local[a]     = f->res_sum[a];
    local[d + a] = f->res_weight[a];
  }
  PetscCall(ItGridSum(f->grid, 2 * d, local, sum));
  *rho = 0;
  for (PetscInt a = 0; a < d; a++)
    *rho = sum[d + a] > 0 ? PetscMax(*rho, PetscSqrtReal(sum[a] / sum[d + a])) : PETSC_MAX_REAL;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The operator's order: 2 (Scharfetter–Gummel) or 4. */
PetscInt ItFacesGetOrder(ItFaces faces) {
  return faces->order;
}

/* A matrix with the operator's nonzero pattern on the grid's DMDA. Collective. */
PetscErrorCode ItFPCreateMatrix(ItGrid grid, Mat *J) {
  const ItGridInfo *info = ItGridGetInfo(grid);
  PetscFunctionBegin;
  if (ItGridGetMatrixDM(
          grid)) { /* -fp_order 4: the width-1 pattern, the wide DMDA's local numbering */
    ISLocalToGlobalMapping ltog;
    PetscCall(DMCreateMatrix(ItGridGetMatrixDM(grid), J));
    PetscCall(DMGetLocalToGlobalMapping(info->da, &ltog));
    PetscCall(MatSetLocalToGlobalMapping(*J, ltog, ltog));
  } else
    PetscCall(DMCreateMatrix(info->da, J));
  /* the reset's entries (src/fp/boundary.c) join the stencil's on the first assembly */
  PetscCall(
      MatSetOption(*J, MAT_NEW_NONZERO_ALLOCATION_ERR, info->threshold ? PETSC_FALSE : PETSC_TRUE));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* L at time t: reassembled whenever its faces change (ItFacesSetTime), if it
   has been asked for (ItFPGetMatrix). Collective. */
PetscErrorCode ItFPSetTime(ItFP fp, PetscReal t) {
  PetscBool changed;

  PetscFunctionBegin;
  PetscCall(ItFacesSetTime(fp->faces, t, &changed));
  if (changed && fp->L) PetscCall(ItFPAssembleShifted(fp->faces, 0, -1, fp->L));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Lp = L(t) p at the time the faces were last set. Collective. */
PetscErrorCode ItFPApply(ItFP fp, Vec p, Vec Lp) {
  PetscFunctionBegin;
  PetscCall(ItFPApplyFaces(fp->faces, p, Lp));
  PetscFunctionReturn(PETSC_SUCCESS);
}

ItFaces ItFPGetFaces(ItFP fp) {
  return fp->faces;
}

PetscErrorCode ItFPDestroy(ItFP *fp) {
  PetscFunctionBegin;
  if (!*fp) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(ItFacesDestroy(&(*fp)->faces));
  PetscCall(MatDestroy(&(*fp)->L));
  PetscCall(PetscFree(*fp));
  PetscFunctionReturn(PETSC_SUCCESS);
}
