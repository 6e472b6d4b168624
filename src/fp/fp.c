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

static PetscLogEvent IT_FP_ASSEMBLE = 0; /* "ItFPAssemble" in -log_view */

/* B(z) = z/(e^z - 1), accurate through z = 0 and for large |z|. */
static inline PetscReal ItBernoulli(PetscReal z) {
  if (PetscAbsReal(z) < 1e-10) return 1.0 - 0.5 * z;
  return z / expm1(z);
}

PetscErrorCode ItFPCreate(ItGrid grid, ItModel model, ItFP *fp) {
  ItFP f;

  PetscFunctionBegin;
  if (!IT_FP_ASSEMBLE)
    PetscCall(PetscLogEventRegister("ItFPAssemble", MAT_CLASSID, &IT_FP_ASSEMBLE));
  PetscCall(PetscNew(&f));
  f->grid  = grid;
  f->model = model;
  for (PetscInt a = 0; a < grid->dim; a++) {
    const PetscInt nfaces = grid->nlocal / grid->xm[a] * (grid->xm[a] + 1);
    PetscCall(PetscMalloc2(nfaces, &f->flux_lo[a], nfaces, &f->flux_hi[a]));
    f->irr_lo[a] = f->flux_lo[a];
    f->irr_hi[a] = f->flux_hi[a];
    for (PetscInt i = 0; i < grid->dim; i++)
      if (model->parity[i] < 0 && f->irr_lo[a] == f->flux_lo[a])
        PetscCall(PetscMalloc2(nfaces, &f->irr_lo[a], nfaces, &f->irr_hi[a]));
  }
  PetscCall(DMCreateMatrix(grid->da, &f->L));
  PetscCall(MatSetOption(f->L, MAT_NEW_NONZERO_ALLOCATION_ERR, PETSC_TRUE));
  PetscCall(PetscObjectSetName((PetscObject)f->L, "FokkerPlanck"));
  *fp = f;
  PetscCall(ItFPAssemble(f, 0.0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The face coefficients of one pencil of cells along axis a through cell c
   (c[a] ignored): the drift and diffusion are evaluated in bulk at the pencil's
   faces and at its cells including one neighbour on each side. With `irr`, the
   drift is its irreversible part A^irr_i(x) = [A_i(x) + ε_i A_i(εx)]/2
   (PHYSICS.md §3b), evaluated also at the time-reversed points εx. */
static PetscErrorCode ItFPPencil(ItFP fp, PetscInt a, PetscInt c[], PetscBool irr, PetscReal *x,
                                 PetscReal *A, PetscReal *D, PetscReal *Dcell) {
  ItGrid          grid  = fp->grid;
  ItModel         model = fp->model;
  const PetscInt  d = grid->dim, xs = grid->xs[a], xm = grid->xm[a];
  const PetscReal h     = grid->h[a];
  const PetscInt  nface = xm + 1, ncell = xm + 2, npt = nface + ncell;
  PetscReal      *flux_lo = irr ? fp->irr_lo[a] : fp->flux_lo[a],
            *flux_hi      = irr ? fp->irr_hi[a] : fp->flux_hi[a];

  PetscFunctionBegin;
  /* faces xs .. xs+xm (face f lies between cells f-1 and f), then cells xs-1 .. xs+xm */
  for (PetscInt k = 0; k < npt; k++) {
    for (PetscInt b = 0; b < d; b++) x[k * d + b] = ItGridCoordinate(grid, b, c[b]);
    x[k * d + a] =
        k < nface ? grid->lo[a] + (xs + k) * h : ItGridCoordinate(grid, a, xs - 1 + (k - nface));
  }
  PetscCall(ItModelEvaluate(model, fp->t, npt, x, A, D));
  if (irr) {
    PetscReal *Ar = A + npt * d, *Dr = D + npt * d, *xr = x + npt * d;
    for (PetscInt k = 0; k < nface; k++)
      for (PetscInt b = 0; b < d; b++) xr[k * d + b] = model->parity[b] * x[k * d + b];
    PetscCall(ItModelEvaluate(model, fp->t, nface, xr, Ar, Dr));
    for (PetscInt k = 0; k < nface; k++)
      A[k * d + a] = 0.5 * (A[k * d + a] + model->parity[a] * Ar[k * d + a]);
  }
  for (PetscInt k = 0; k < ncell; k++) Dcell[k] = D[(nface + k) * d + a];
  for (PetscInt k = 0; k < nface; k++) {
    const PetscInt  f  = xs + k;
    const PetscReal Af = A[k * d + a], Df = D[k * d + a];
    PetscInt        off;

    c[a] = f;
    off  = ItFPFaceOffset(grid, a, c);
    if (f == 0 || f == grid->n[a]) { /* a wall: zero flux */
      flux_lo[off] = flux_hi[off] = 0;
      continue;
    }
    if (!(Df > 0 && !PetscIsInfOrNanReal(Af / Df) && Dcell[k] > 0 && Dcell[k + 1] > 0)) {
      /* recorded, and reported collectively by ItFPAssemble */
      if (fp->bad_axis < 0 || x[k * d + a] < fp->bad_x) fp->bad_x = x[k * d + a];
      fp->bad_axis = a;
      flux_lo[off] = flux_hi[off] = 0;
      continue;
    }
    flux_lo[off] = ItBernoulli(-Af / Df * h) * Dcell[k] / h;
    flux_hi[off] = ItBernoulli(Af / Df * h) * Dcell[k + 1] / h;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Evaluates the face coefficients at time t and assembles L. Collective. */
PetscErrorCode ItFPAssemble(ItFP fp, PetscReal t) {
  ItGrid         grid = fp->grid;
  const PetscInt d    = grid->dim;
  PetscInt       maxm = 0;
  PetscReal     *x, *A, *D, *Dcell;

  PetscFunctionBegin;
  PetscCall(PetscLogEventBegin(IT_FP_ASSEMBLE, 0, 0, 0, 0));
  fp->t        = t;
  fp->bad_axis = -1;
  for (PetscInt k = 0; k < fp->model->nprotocol; k++)
    fp->assembled[k] = ItModelProtocolValue(&fp->model->protocol[k], t);
  for (PetscInt a = 0; a < d; a++) maxm = PetscMax(maxm, grid->xm[a]);
  /* room for a pencil's faces and cells, and the reversed faces */
  PetscCall(PetscMalloc4((3 * maxm + 4) * d, &x, (3 * maxm + 4) * d, &A, (3 * maxm + 4) * d, &D,
                         maxm + 2, &Dcell));
  for (PetscInt a = 0; a < d; a++) {
    /* one pencil per owned cell on the plane c[a] = xs[a] */
    ItGridForOwned(grid, c, l) {
      (void)l;
      if (c[a] != grid->xs[a]) continue;
      PetscCall(ItFPPencil(fp, a, c, PETSC_FALSE, x, A, D, Dcell));
      if (fp->irr_lo[a] != fp->flux_lo[a])
        PetscCall(ItFPPencil(fp, a, c, PETSC_TRUE, x, A, D, Dcell));
      c[a] = grid->xs[a];
    }
  }
  PetscCall(PetscFree4(x, A, D, Dcell));
  {
    PetscReal axis, where;
    PetscCall(ItGridMin(grid, fp->bad_axis < 0 ? PETSC_MAX_REAL : (PetscReal)fp->bad_axis, &axis));
    if (axis < IT_MAX_DIM) {
      PetscCall(
          ItGridMin(grid, fp->bad_axis == (PetscInt)axis ? fp->bad_x : PETSC_MAX_REAL, &where));
      SETERRQ(grid->comm, PETSC_ERR_USER_INPUT,
              "the diffusion D_%s is not positive (or the drift not finite) at %s = %g: narrow the "
              "box (-grid_lo/-grid_hi) or change the model's noise",
              fp->model->var[(PetscInt)axis], fp->model->var[(PetscInt)axis], (double)where);
    }
  }

  PetscCall(MatZeroEntries(fp->L));
  ItGridForOwned(grid, c, l) {
    MatStencil  row = {0}, col[2 * IT_MAX_DIM + 1];
    PetscScalar val[2 * IT_MAX_DIM + 1];
    PetscInt    ncol = 1;

    (void)l;
    row.i = c[0], row.j = c[1], row.k = c[2];
    col[0] = row;
    val[0] = 0;
    for (PetscInt a = 0; a < d; a++) {
      const PetscReal h = grid->h[a];
      PetscInt        off_lo, off_hi;

      off_lo = ItFPFaceOffset(grid, a, c);
      c[a]++;
      off_hi = ItFPFaceOffset(grid, a, c);
      c[a]--;
      /* low face: J = lo p_{c-1} - hi p_c enters cell c with + */
      val[0] -= fp->flux_hi[a][off_lo] / h;
      if (c[a] > 0) {
        col[ncol] = row;
        if (a == 0)
          col[ncol].i--;
        else if (a == 1)
          col[ncol].j--;
        else
          col[ncol].k--;
        val[ncol++] = fp->flux_lo[a][off_lo] / h;
      }
      /* high face: J = lo p_c - hi p_{c+1} leaves cell c */
      val[0] -= fp->flux_lo[a][off_hi] / h;
      if (c[a] < grid->n[a] - 1) {
        col[ncol] = row;
        if (a == 0)
          col[ncol].i++;
        else if (a == 1)
          col[ncol].j++;
        else
          col[ncol].k++;
        val[ncol++] = fp->flux_hi[a][off_hi] / h;
      }
    }
    PetscCall(MatSetValuesStencil(fp->L, 1, &row, ncol, col, val, INSERT_VALUES));
  }
  PetscCall(MatAssemblyBegin(fp->L, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(fp->L, MAT_FINAL_ASSEMBLY));
  PetscCall(PetscLogEventEnd(IT_FP_ASSEMBLE, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Reassembles L for time t only when a scheduled parameter (-protocol) has
   another value than L was assembled with: piecewise-constant schedules cost
   one assembly per switch, ramps one per evaluation time. Collective. */
PetscErrorCode ItFPUpdate(ItFP fp, PetscReal t) {
  ItModel   model   = fp->model;
  PetscBool changed = PETSC_FALSE;

  PetscFunctionBegin;
  for (PetscInt k = 0; k < model->nprotocol; k++)
    changed =
        (PetscBool)(changed || ItModelProtocolValue(&model->protocol[k], t) != fp->assembled[k]);
  if (changed) PetscCall(ItFPAssemble(fp, t));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode ItFPDestroy(ItFP *fp) {
  PetscFunctionBegin;
  if (!*fp) PetscFunctionReturn(PETSC_SUCCESS);
  for (PetscInt a = 0; a < (*fp)->grid->dim; a++) {
    if ((*fp)->irr_lo[a] != (*fp)->flux_lo[a])
      PetscCall(PetscFree2((*fp)->irr_lo[a], (*fp)->irr_hi[a]));
    PetscCall(PetscFree2((*fp)->flux_lo[a], (*fp)->flux_hi[a]));
  }
  PetscCall(MatDestroy(&(*fp)->L));
  PetscCall(PetscFree(*fp));
  PetscFunctionReturn(PETSC_SUCCESS);
}
