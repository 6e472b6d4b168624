/* The operator's boundaries other than walls (doc/physics.md §8). A
   threshold_reset axis: the face at its upper end carries the
   Scharfetter–Gummel current across the half cell between the last cell's
   centre and the absorbing threshold (p = 0 there),
     J_th = B(-A h/(2D)) D p_{n-1} / (h/2),
   and the reset matrix R sends it to the two cells whose centres bracket the
   reset point (linear weights): L = L_faces + R, whose columns still sum to
   zero with non-negative off-diagonals (an M-matrix). R is assembled from the
   faces (any rank's top cell may feed any rank's reset cell) and is added to
   the matrix-free product and to the assembled operators. Periodic axes need
   nothing here: the DMDA's periodic ghosts make the faces at both ends one. */
#include <infotherm/fp.h>

/* B(z) = z/(e^z - 1), as the faces use it. */
static inline PetscReal ItFPBernoulliHalf(PetscReal z) {
  if (PetscAbsReal(z) < 1e-10) return 1.0 - 0.5 * z;
  return z / expm1(z);
}

/* The threshold face's coefficients from the face's drift Af and diffusion
   Df and the last cell's diffusion Dlow: lo carries the current out of the
   last cell; the cell beyond is empty, so hi multiplies nothing in the
   operator and is kept only for the force of the last half cell,
   ln(lo/hi) = A h/(2 D) (the entropy flow's term, src/diag/diag.c). */
void ItFPThresholdFace(PetscReal h, PetscReal Af, PetscReal Df, PetscReal Dlow, PetscReal *lo,
                       PetscReal *hi) {
  const PetscReal half = 0.5 * h, z = Af / Df * half;

  /* scaled by h/half so that, like the other faces, lo p_{n-1} / h is the last cell's loss rate */
  *lo = ItFPBernoulliHalf(-z) * Dlow / half;
  *hi = ItFPBernoulliHalf(z) * Dlow / half;
}

/* The reset matrix's layout: row r, column c holds the rate at which the top
   cell c's mass re-enters cell r. Collective. */
PetscErrorCode ItFPResetCreate(ItGrid grid, Mat *R) {
  const ItGridInfo *info = ItGridGetInfo(grid);
  PetscFunctionBegin;
  PetscCall(MatCreateAIJ(info->comm, info->nlocal, info->nlocal, PETSC_DETERMINE, PETSC_DETERMINE,
                         2 * info->dim, NULL, 2 * info->dim, NULL, R));
  PetscCall(MatSetOption(*R, MAT_NEW_NONZERO_ALLOCATION_ERR, PETSC_FALSE));
  PetscCall(PetscObjectSetName((PetscObject)*R, "Reset"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* R from the threshold faces' coefficients lo[a] (the face past the last
   cell along every threshold_reset axis a; delayed: only the axes without a
   refractory time). Collective. */
PetscErrorCode ItFPResetAssemble(ItGrid grid, PetscReal *const lo[], PetscBool delayed, Mat R) {
  const ItGridInfo *info = ItGridGetInfo(grid);
  PetscFunctionBegin;
  PetscCall(MatZeroEntries(R));
  for (PetscInt a = 0; a < info->dim; a++) {
    PetscInt  k;
    PetscReal w;
    if (info->boundary[a] != IT_BOUNDARY_THRESHOLD_RESET) continue;
    if (delayed && info->refractory[a] > 0) continue;
    ItGridResetCells(grid, a, &k, &w);
    ItGridForOwned(grid, c, l) {
      PetscInt    col, row[2];
      PetscScalar val[2];
      (void)l;
      if (c[a] != info->n[a] - 1) continue;
      PetscCall(ItGridGlobalIndex(grid, c, &col));
      c[a]++;
      {
        const PetscReal rate = lo[a][ItFPFaceOffset(grid, a, c)] / info->h[a];
        val[0]               = (1 - w) * rate;
        val[1]               = w * rate;
      }
      c[a] = k;
      PetscCall(ItGridGlobalIndex(grid, c, &row[0]));
      c[a] = k + 1;
      PetscCall(ItGridGlobalIndex(grid, c, &row[1]));
      c[a] = info->n[a] - 1;
      PetscCall(MatSetValues(R, 2, row, 1, &col, val, ADD_VALUES));
    }
  }
  PetscCall(MatAssemblyBegin(R, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(R, MAT_FINAL_ASSEMBLY));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* J += -scale R (J = scale (shift I - L), L containing R), after J's own
   entries were inserted: J is flushed first (inserted and added values do
   not mix). Every row of R is owned where J's is. Collective. */
PetscErrorCode ItFPResetAddTo(Mat R, PetscReal scale, Mat J) {
  PetscInt rstart, rend;

  PetscFunctionBegin;
  PetscCall(MatAssemblyBegin(J, MAT_FLUSH_ASSEMBLY));
  PetscCall(MatAssemblyEnd(J, MAT_FLUSH_ASSEMBLY));
  PetscCall(MatGetOwnershipRange(R, &rstart, &rend));
  for (PetscInt row = rstart; row < rend; row++) {
    PetscInt           ncols;
    const PetscInt    *cols;
    const PetscScalar *vals;
    PetscScalar        v[2 * IT_MAX_DIM];
    PetscCall(MatGetRow(R, row, &ncols, &cols, &vals));
    for (PetscInt k = 0; k < ncols; k++) v[k] = -scale * vals[k];
    if (ncols) PetscCall(MatSetValues(J, 1, &row, ncols, cols, v, ADD_VALUES));
    PetscCall(MatRestoreRow(R, row, &ncols, &cols, &vals));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The current through each threshold_reset axis' threshold, rate[a] (0 on
   the other axes): the firing rate ν_a = Σ lo p_{n-1} over the last cells
   times the cross-section, from the faces' coefficients lo (ItFPThresholdRates,
   src/fp/fp.c, passes its faces'). Collective. */
PetscErrorCode ItFPThresholdCurrents(ItGrid grid, PetscReal *const lo[], Vec p, PetscReal rate[]) {
  const ItGridInfo  *info = ItGridGetInfo(grid);
  const PetscScalar *pa;
  PetscReal          local[IT_MAX_DIM] = {0};

  PetscFunctionBegin;
  PetscCall(VecGetArrayRead(p, &pa));
  for (PetscInt a = 0; a < info->dim; a++) {
    if (info->boundary[a] != IT_BOUNDARY_THRESHOLD_RESET) continue;
    ItGridForOwned(grid, c, l) {
      if (c[a] != info->n[a] - 1) continue;
      c[a]++;
      local[a] +=
          lo[a][ItFPFaceOffset(grid, a, c)] * PetscRealPart(pa[l]) * info->cell_volume / info->h[a];
      c[a]--;
    }
  }
  PetscCall(VecRestoreArrayRead(p, &pa));
  PetscCall(ItGridSum(grid, IT_MAX_DIM, local, rate));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The stationary density with refractory times (doc/physics.md §8.2): p_0
   of mass 1 with re-injection at once, rates ν_0a, becomes
   p = p_0 / (1 + Σ_a ν_0a τ_a), the refractory compartments holding
   ν_a τ_a = ν_0a τ_a / (1 + Σ ν_0 τ): exact for the stationary state, whose
   rates are constant over the refractory time; lo: the faces' coefficients
   (ItFPRefractoryScale, src/fp/fp.c, passes its faces'). Collective. */
PetscErrorCode ItFPRefractoryScaleWith(ItGrid grid, PetscReal *const lo[], Vec p) {
  const ItGridInfo *info = ItGridGetInfo(grid);
  PetscReal         rate[IT_MAX_DIM];

  PetscFunctionBegin;
  if (!info->threshold) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(ItFPThresholdCurrents(grid, lo, p, rate));
  PetscCall(ItFPRefractoryScaleRates(grid, rate, p));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The same scaling from the rates ν_0a of p (-fp_order 4: the threshold
   closures', src/fp/closure.c). Collective. */
PetscErrorCode ItFPRefractoryScaleRates(ItGrid grid, const PetscReal rate[], Vec p) {
  const ItGridInfo *info = ItGridGetInfo(grid);
  PetscReal         held = 0;

  PetscFunctionBegin;
  if (!info->threshold) PetscFunctionReturn(PETSC_SUCCESS);
  for (PetscInt a = 0; a < info->dim; a++)
    if (info->boundary[a] == IT_BOUNDARY_THRESHOLD_RESET) held += rate[a] * info->refractory[a];
  PetscCall(VecScale(p, 1 / (1 + held)));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Whether face `face` (between cells face - 1 and face) of an axis of n cells
   with this boundary kind takes the fourth-order stencil (-fp_order 4): on a
   periodic axis every face (the DMDA's ghosts wrap), else those whose four
   cells face - 2 .. face + 1 lie inside the box (the two faces next to a wall
   or a threshold fall back to Scharfetter–Gummel). Not collective. */
PetscBool ItFPFourthFace(ItBoundaryKind kind, PetscInt face, PetscInt n) {
  if (kind == IT_BOUNDARY_PERIODIC) return PETSC_TRUE;
  return (PetscBool)(face >= 2 && face <= n - 2);
}
