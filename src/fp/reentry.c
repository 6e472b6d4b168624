/* The other variables' motion during a refractory time (doc/physics.md
   §8.2): a neuron that crossed the threshold of axis a with the other
   variables at y re-enters at the reset τ_ref later with y moved by their
   own Fokker–Planck dynamics, V held at V_r (the Monte Carlo's convention,
   doc/monte-carlo.md). On the cells of the other axes (the cross-section of
   the grid, ny cells, the same on every rank) this is L_y, the
   Scharfetter–Gummel operator of src/fp/fp.c along every axis but a with
   the drift and diffusion evaluated at V = V_r (walls and periodic axes as
   the grid's), and the re-entry map is E = e^{τ_ref L_y}, applied to a
   field of masses per cell once per accepted step. Up to
   IT_REENTRY_DENSE_MAX cells E is computed once as a dense matrix (SLEPc's
   FN, Padé with scaling and squaring) and applied as a product; beyond,
   SLEPc's MFN applies it each time with its Expokit method (Krylov
   sub-steps; its restarted Krylov method builds an ever larger Hessenberg
   matrix on the stiff L_y of fine cells). Measured (2026-12-06,
   doc/physics.md §8.2, a loaded machine): the dense E takes 0.05 s at 64
   cells, 0.7 s at 256, 52 s at 1024; Expokit 19 ms an application at 512
   cells, 64 ms at 1024 (the restarted Krylov method 1.1 s); the two agree
   to 2e-15. E is linear, positive and conserves mass (the columns of L_y sum
   to zero); both approximations keep the mass only to their accuracy, so
   the map is corrected linearly (the stationary solve applies it to Krylov
   vectors of either sign, whose sum may cancel): the dense E's columns are
   renormalised once to sum to 1, and the MFN's result gets the mass it lost,
   sum(in) - sum(out), spread by a fixed vector (E of a uniform field, of sum
   1, computed once). Every rank computes the
   same numbers from the same field (sequential objects): the result does
   not depend on the ranks. */
#include <slepcmfn.h>
#include <slepcfn.h>
#include <infotherm/fp.h>

#define IT_REENTRY_DENSE_MAX 256

struct _p_ItReentry {
  PetscInt   axis, ny;
  PetscInt   stride[IT_MAX_DIM]; /* j = Σ_{b ≠ axis} c[b] stride[b] */
  Mat        L;                  /* L_y, sequential */
  Mat        E;                  /* e^{τ L_y}, dense (ny <= IT_REENTRY_DENSE_MAX), or NULL */
  MFN        mfn;                /* else its Expokit application */
  Vec        in, out;
  PetscReal *spread; /* the MFN's mass correction, of sum 1 (NULL: dense) */
  PetscReal  tau;
  PetscInt   applications, iterations; /* counted for -info */
};

static PetscReal ItReentryHeld = 0; /* the bytes of the dense maps alive on this process */

/* The bytes of the dense re-entry maps alive on this process: the memory
   ledger's matrices count them (ItSolveNoteMemory). Not collective. */
PetscReal ItReentryBytes(void) {
  return ItReentryHeld;
}

/* B(z) = z/(e^z - 1), as the faces use it. */
static inline PetscReal ItReentryBernoulli(PetscReal z) {
  if (PetscAbsReal(z) < 1e-10) return 1.0 - 0.5 * z;
  return z / expm1(z);
}

/* The points of cell j's centre (k = axis) and of its low faces along the
   other axes (k = b), V at the reset: point j dim + k of x (dim coordinates
   each). */
static void ItReentryPoints(ItReentry r, ItGrid grid, PetscReal x[]) {
  const ItGridInfo *info = ItGridGetInfo(grid);
  const PetscInt    d    = info->dim;

  for (PetscInt j = 0; j < r->ny; j++) {
    PetscInt c[IT_MAX_DIM];
    for (PetscInt b = 0; b < d; b++) c[b] = b == r->axis ? 0 : (j / r->stride[b]) % info->n[b];
    for (PetscInt k = 0; k < d; k++) {
      PetscReal *xk = &x[(j * d + k) * d];
      for (PetscInt b = 0; b < d; b++) xk[b] = ItGridCoordinate(grid, b, c[b]);
      xk[r->axis] = info->reset[r->axis];
      if (k != r->axis) xk[k] -= 0.5 * info->h[k]; /* the low face along k */
    }
  }
}

/* L_y from the drift and diffusion at the cells and faces of the
   cross-section (ItReentryPoints): the face on the low side of cell j along
   b carries J = lo m_{j-} - hi m_j between its two cells' masses. */
static PetscErrorCode ItReentryAssemble(ItReentry r, ItGrid grid, ItModel model) {
  const ItGridInfo *info = ItGridGetInfo(grid);
  const PetscInt    d = info->dim, npt = r->ny * d;
  PetscReal        *x, *A, *D;
  char              option[64];

  PetscFunctionBegin;
  PetscCall(ItGridRefractoryOption(model, r->axis, option, sizeof(option)));
  PetscCall(PetscMalloc3(npt * d, &x, npt * d, &A, npt * d, &D));
  ItReentryPoints(r, grid, x);
  PetscCall(ItModelEvaluate(model, 0, npt, x, A, D));
  PetscCall(MatCreateSeqAIJ(PETSC_COMM_SELF, r->ny, r->ny, 2 * d + 1, NULL, &r->L));
  for (PetscInt j = 0; j < r->ny; j++)
    for (PetscInt b = 0; b < d; b++) {
      const PetscInt  cb = b == r->axis ? 0 : (j / r->stride[b]) % info->n[b], k = j * d + b;
      const PetscReal h = info->h[b];
      PetscInt        jl, rows[2];
      PetscReal       Af, Df, Dl, Dr, lo, hi, v[4];
      if (b == r->axis) continue;
      if (cb == 0 && info->boundary[b] != IT_BOUNDARY_PERIODIC) continue; /* a wall */
      jl = cb > 0 ? j - r->stride[b] : j + (info->n[b] - 1) * r->stride[b];
      Af = A[k * d + b], Df = D[k * d + b], Dl = D[(jl * d + r->axis) * d + b],
      Dr = D[(j * d + r->axis) * d + b];
      PetscCheck(!PetscIsInfOrNanReal(Af) && Df > 0 && Dl > 0 && Dr > 0 &&
                     !PetscIsInfOrNanReal(Df + Dl + Dr),
                 info->comm, PETSC_ERR_USER_INPUT,
                 "the refractory time's motion of %s at the reset (%s = %g): drift %g, diffusion "
                 "%g at %s = %g are not a finite drift and a positive diffusion; change the "
                 "model's parameters or set %s 0",
                 ItModelGetVariableName(model, b), ItModelGetVariableName(model, r->axis),
                 (double)info->reset[r->axis], (double)Af, (double)Df,
                 ItModelGetVariableName(model, b), (double)x[k * d + b], option);
      lo      = ItReentryBernoulli(-Af / Df * h) * Dl / h / h;
      hi      = ItReentryBernoulli(Af / Df * h) * Dr / h / h;
      rows[0] = jl, rows[1] = j;
      v[0] = -lo, v[1] = hi, v[2] = lo, v[3] = -hi; /* J leaves jl, enters j */
      PetscCall(MatSetValues(r->L, 2, rows, 2, rows, v, ADD_VALUES));
    }
  PetscCall(MatAssemblyBegin(r->L, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(r->L, MAT_FINAL_ASSEMBLY));
  PetscCall(PetscFree3(x, A, D));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The dense E's columns scaled to sum to 1 (to round-off): the mass the
   Padé approximation loses, corrected once and linearly. */
static PetscErrorCode ItReentryNormalizeColumns(ItReentry r) {
  PetscReal *sum;
  Vec        scale;

  PetscFunctionBegin;
  PetscCall(PetscMalloc1(r->ny, &sum));
  PetscCall(MatGetColumnSumsRealPart(r->E, sum));
  PetscCall(VecDuplicate(r->in, &scale));
  for (PetscInt j = 0; j < r->ny; j++) {
    PetscCheck(sum[j] > 0, PETSC_COMM_SELF, PETSC_ERR_PLIB,
               "refractory re-entry: column %" PetscInt_FMT " of e^{tau L} sums to %g", j,
               (double)sum[j]);
    PetscCall(VecSetValue(scale, j, 1.0 / sum[j], INSERT_VALUES));
  }
  PetscCall(VecAssemblyBegin(scale));
  PetscCall(VecAssemblyEnd(scale));
  PetscCall(MatDiagonalScale(r->E, NULL, scale));
  PetscCall(VecDestroy(&scale));
  PetscCall(PetscFree(sum));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The MFN's mass correction: E applied to the uniform field, scaled to sum
   1 (once; the fixed vector that makes the correction linear). */
static PetscErrorCode ItReentrySpread(ItReentry r) {
  const PetscScalar *a;
  PetscReal          sum = 0;

  PetscFunctionBegin;
  PetscCall(PetscMalloc1(r->ny, &r->spread));
  PetscCall(VecSet(r->in, 1.0 / r->ny));
  PetscCall(MFNSolve(r->mfn, r->in, r->out));
  PetscCall(VecGetArrayRead(r->out, &a));
  for (PetscInt j = 0; j < r->ny; j++) r->spread[j] = PetscRealPart(a[j]), sum += r->spread[j];
  PetscCall(VecRestoreArrayRead(r->out, &a));
  PetscCheck(sum > 0, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "refractory re-entry: e^{tau L} of a uniform field sums to %g", (double)sum);
  for (PetscInt j = 0; j < r->ny; j++) r->spread[j] /= sum;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The re-entry map of threshold_reset axis `axis` with refractory time tau
   on grid (the model's drift and diffusion at t = 0: a model that depends on
   time is refused by the caller); without map only the cross-section's
   indexing (a post rank's copy, which applies no map). Collective (every
   rank builds the same). */
PetscErrorCode ItReentryCreate(ItGrid grid, ItModel model, PetscInt axis, PetscReal tau,
                               PetscBool map, ItReentry *out) {
  const ItGridInfo *info = ItGridGetInfo(grid);
  ItReentry         r;
  FN                fn;

  PetscFunctionBegin;
  PetscCall(PetscNew(&r));
  r->axis = axis;
  r->tau  = tau;
  r->ny   = 1;
  for (PetscInt b = 0; b < info->dim; b++) {
    r->stride[b] = b == axis ? 0 : r->ny;
    if (b != axis) r->ny *= info->n[b];
  }
  if (!map) {
    *out = r;
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(SlepcInitialize(NULL, NULL, NULL, NULL)); /* once; PETSc runs already */
  PetscCall(ItReentryAssemble(r, grid, model));
  PetscCall(MatCreateVecs(r->L, &r->in, &r->out));
  if (r->ny <= IT_REENTRY_DENSE_MAX) { /* once, dense */
    Mat Ld;
    PetscCall(FNCreate(PETSC_COMM_SELF, &fn));
    PetscCall(FNSetType(fn, FNEXP));
    PetscCall(FNSetScale(fn, tau, 1.0));
    PetscCall(MatConvert(r->L, MATSEQDENSE, MAT_INITIAL_MATRIX, &Ld));
    PetscCall(MatDuplicate(Ld, MAT_DO_NOT_COPY_VALUES, &r->E));
    PetscCall(FNEvaluateFunctionMat(fn, Ld, r->E));
    PetscCall(MatDestroy(&Ld));
    PetscCall(FNDestroy(&fn));
    PetscCall(ItReentryNormalizeColumns(r));
    ItReentryHeld += (PetscReal)r->ny * r->ny * sizeof(PetscScalar);
  } else {
    PetscCall(MFNCreate(PETSC_COMM_SELF, &r->mfn));
    PetscCall(MFNSetType(r->mfn, MFNEXPOKIT));
    PetscCall(MFNSetOperator(r->mfn, r->L));
    PetscCall(MFNGetFN(r->mfn, &fn));
    PetscCall(FNSetType(fn, FNEXP));
    PetscCall(FNSetScale(fn, tau, 1.0));
    PetscCall(MFNSetTolerances(r->mfn, 1e-13, PETSC_DEFAULT));
    PetscCall(MFNSetErrorIfNotConverged(r->mfn, PETSC_TRUE));
    PetscCall(ItReentrySpread(r));
  }
  *out = r;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode ItReentryDestroy(ItReentry *r) {
  PetscFunctionBegin;
  if (!*r) PetscFunctionReturn(PETSC_SUCCESS);
  if ((*r)->applications)
    PetscCall(PetscInfo(NULL,
                        "refractory re-entry: %" PetscInt_FMT " applications (%s), %" PetscInt_FMT
                        " Krylov iterations\n",
                        (*r)->applications, (*r)->E ? "dense" : "MFN", (*r)->iterations));
  if ((*r)->E) ItReentryHeld -= (PetscReal)(*r)->ny * (*r)->ny * sizeof(PetscScalar);
  PetscCall(MFNDestroy(&(*r)->mfn));
  PetscCall(MatDestroy(&(*r)->E));
  PetscCall(MatDestroy(&(*r)->L));
  PetscCall(VecDestroy(&(*r)->in));
  PetscCall(VecDestroy(&(*r)->out));
  PetscCall(PetscFree((*r)->spread));
  PetscCall(PetscFree(*r));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The cells of the cross-section. */
PetscInt ItReentryGetSize(ItReentry r) {
  return r->ny;
}

/* The cross-section's index of the grid's cell c. */
PetscInt ItReentryIndex(ItReentry r, const PetscInt c[]) {
  PetscInt j = 0;
  for (PetscInt b = 0; b < IT_MAX_DIM; b++) j += c[b] * r->stride[b];
  return j;
}

/* out = e^{τ_ref L_y} in (ny masses), of in's sum to round-off; linear in
   in (a zero field stays zero). Not collective. */
PetscErrorCode ItReentryApply(ItReentry r, const PetscReal in[], PetscReal out[]) {
  PetscScalar *a;
  PetscReal    sum_in = 0, sum_out = 0, nonzero = 0;
  PetscInt     its;

  PetscFunctionBegin;
  PetscCheck(r->L, PETSC_COMM_SELF, PETSC_ERR_PLIB, "refractory re-entry: a copy without its map");
  for (PetscInt j = 0; j < r->ny; j++) sum_in += in[j], nonzero += PetscAbsReal(in[j]);
  if (nonzero == 0) {
    PetscCall(PetscArrayzero(out, r->ny));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(VecGetArrayWrite(r->in, &a));
  for (PetscInt j = 0; j < r->ny; j++) a[j] = in[j];
  PetscCall(VecRestoreArrayWrite(r->in, &a));
  if (r->E)
    PetscCall(MatMult(r->E, r->in, r->out));
  else {
    PetscCall(MFNSolve(r->mfn, r->in, r->out));
    PetscCall(MFNGetIterationNumber(r->mfn, &its));
    r->iterations += its;
  }
  r->applications++;
  PetscCall(VecGetArray(r->out, &a));
  for (PetscInt j = 0; j < r->ny; j++) out[j] = PetscRealPart(a[j]), sum_out += out[j];
  PetscCall(VecRestoreArray(r->out, &a));
  if (r->spread) /* the MFN's lost mass, added along a fixed vector (linear in in) */
    for (PetscInt j = 0; j < r->ny; j++) out[j] += (sum_in - sum_out) * r->spread[j];
  PetscFunctionReturn(PETSC_SUCCESS);
}
