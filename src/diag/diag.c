/* Diagnostics of a density p on the grid: mass ∫ p, the differential entropy
   S = -∫ p ln p, and the mean and variance of every variable, plus the mass in
   the outermost layer of cells (a box that is too small). All local sums go
   into one reduction. A cell with p <= 0 (underflow) contributes 0 to p ln p. */
#include <infotherm/diag.h>

enum { IT_SUM_MASS, IT_SUM_ENTROPY, IT_SUM_BOUNDARY, IT_SUM_MOMENTS };

PetscErrorCode ItDiagCreate(ItFP fp, ItDiag *diag)
{
  ItDiag         g;
  ItModel        model = fp->model;
  const PetscInt d     = model->dim;

  PetscFunctionBegin;
  PetscCall(PetscNew(&g));
  g->fp   = fp;
  g->ncol = 2 + 2 * d;
  PetscCall(PetscMalloc2(g->ncol, &g->name, g->ncol, &g->value));
  PetscCall(PetscStrncpy(g->name[0], "mass", IT_DIAG_NAME_LEN));
  PetscCall(PetscStrncpy(g->name[1], "entropy", IT_DIAG_NAME_LEN));
  for (PetscInt i = 0; i < d; i++) {
    PetscCall(PetscSNPrintf(g->name[2 + i], IT_DIAG_NAME_LEN, "mean_%s", model->var[i]));
    PetscCall(PetscSNPrintf(g->name[2 + d + i], IT_DIAG_NAME_LEN, "var_%s", model->var[i]));
  }
  *diag = g;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Evaluates every column at time t. Collective. */
PetscErrorCode ItDiagEvaluate(ItDiag diag, PetscReal t, Vec p)
{
  ItGrid             grid = diag->fp->grid;
  const PetscInt     d    = grid->dim, nsum = IT_SUM_MOMENTS + 2 * d;
  PetscReal          local[IT_SUM_MOMENTS + 2 * IT_MAX_DIM] = {0}, sum[IT_SUM_MOMENTS + 2 * IT_MAX_DIM];
  PetscReal          centre[IT_MAX_DIM];
  const PetscScalar *pa;

  PetscFunctionBegin;
  (void)t;
  /* moments about the box centre, to keep the variance free of cancellation */
  for (PetscInt i = 0; i < d; i++) centre[i] = 0.5 * (grid->lo[i] + grid->hi[i]);
  PetscCall(VecGetArrayRead(p, &pa));
  ItGridForOwned(grid, c, l)
  {
    const PetscReal pc = PetscRealPart(pa[l]);
    PetscBool       wall = PETSC_FALSE;

    local[IT_SUM_MASS] += pc;
    if (pc > 0) local[IT_SUM_ENTROPY] -= pc * PetscLogReal(pc);
    for (PetscInt i = 0; i < d; i++) {
      const PetscReal x = ItGridCoordinate(grid, i, c[i]) - centre[i];
      local[IT_SUM_MOMENTS + i] += x * pc;
      local[IT_SUM_MOMENTS + d + i] += x * x * pc;
      if (c[i] == 0 || c[i] == grid->n[i] - 1) wall = PETSC_TRUE;
    }
    if (wall) local[IT_SUM_BOUNDARY] += pc;
  }
  PetscCall(VecRestoreArrayRead(p, &pa));
  PetscCall(ItGridSum(grid, nsum, local, sum));
  for (PetscInt k = 0; k < nsum; k++) sum[k] *= grid->cell_volume;
  diag->value[0]      = sum[IT_SUM_MASS];
  diag->value[1]      = sum[IT_SUM_ENTROPY];
  diag->boundary_mass = sum[IT_SUM_BOUNDARY] / sum[IT_SUM_MASS];
  for (PetscInt i = 0; i < d; i++) {
    const PetscReal mean = sum[IT_SUM_MOMENTS + i] / sum[IT_SUM_MASS];
    diag->value[2 + i]     = mean + centre[i];
    diag->value[2 + d + i] = sum[IT_SUM_MOMENTS + d + i] / sum[IT_SUM_MASS] - mean * mean;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode ItDiagDestroy(ItDiag *diag)
{
  PetscFunctionBegin;
  if (!*diag) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscFree2((*diag)->name, (*diag)->value));
  PetscCall(PetscFree(*diag));
  PetscFunctionReturn(PETSC_SUCCESS);
}
