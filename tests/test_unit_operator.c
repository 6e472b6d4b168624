/* Unit test of the fp module, for every registered model: the columns of L sum
   to zero (mass conservation, checked as L^T 1 = 0 relative to |L|), the
   off-diagonal entries are non-negative (an M-matrix, so backward Euler keeps
   p >= 0), and in 1-D the discrete equilibrium of a linear gradient drift is
   the exact Gaussian at the cell centres (L p_exact = 0). Single rank. */
#include <infotherm/fp.h>

static const char *const models[] = {"linear",     "brownian", "inference",
                                     "population", "hebbian",  "bistable"};

static PetscErrorCode CheckModel(const char name[], PetscInt *failures) {
  ItModel   model;
  ItGrid    grid;
  ItFP      fp;
  Mat       L;
  Vec       ones, colsum;
  PetscReal worst, scale, minoff = 0;
  PetscInt  rstart, rend;

  PetscFunctionBegin;
  PetscCall(PetscOptionsSetValue(NULL, "-model", name));
  PetscCall(PetscOptionsSetValue(NULL, "-grid_n", "12"));
  PetscCall(ItModelCreate(PETSC_COMM_WORLD, &model));
  PetscCall(ItModelSetFromOptions(model));
  PetscCall(ItGridCreate(model, &grid));
  PetscCall(ItFPCreate(grid, model, &fp));
  PetscCall(ItFPSetTime(fp, 0.0));
  PetscCall(ItFPGetMatrix(fp, &L));
  PetscCall(MatCreateVecs(L, &ones, &colsum));
  PetscCall(VecSet(ones, 1.0));
  PetscCall(MatMultTranspose(L, ones, colsum));
  PetscCall(VecNorm(colsum, NORM_INFINITY, &worst));
  PetscCall(MatNorm(L, NORM_INFINITY, &scale));
  PetscCall(MatGetOwnershipRange(L, &rstart, &rend));
  for (PetscInt row = rstart; row < rend; row++) {
    PetscInt           ncols;
    const PetscInt    *cols;
    const PetscScalar *vals;
    PetscCall(MatGetRow(L, row, &ncols, &cols, &vals));
    for (PetscInt k = 0; k < ncols; k++)
      if (cols[k] != row) minoff = PetscMin(minoff, PetscRealPart(vals[k]));
    PetscCall(MatRestoreRow(L, row, &ncols, &cols, &vals));
  }
  /* each column sum adds about 2*dim entries of size |L|: round-off is a few ulps of |L| */
  if (worst > 1e-14 * scale) (*failures)++;
  if (minoff < 0) (*failures)++;
  PetscCall(PetscPrintf(
      PETSC_COMM_WORLD,
      "%s %-10s max |column sum| / |L| = %.1e (< 1e-14), min off-diagonal = %g (>= 0)\n",
      worst <= 1e-14 * scale && minoff >= 0 ? "ok  " : "FAIL", name, (double)(worst / scale),
      (double)minoff));
  PetscCall(VecDestroy(&ones));
  PetscCall(VecDestroy(&colsum));
  PetscCall(ItFPDestroy(&fp));
  PetscCall(ItGridDestroy(&grid));
  PetscCall(ItModelDestroy(&model));
  PetscCall(PetscOptionsClearValue(NULL, "-grid_n"));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* dx = -(x - 0.3)/tau dt + sqrt(2 D) dW: p ∝ exp(-(x-0.3)^2 tau/(2D)); the face
   value a = A/D integrates the linear a(x) exactly, so L p = 0 to round-off. */
static PetscErrorCode CheckExactEquilibrium(PetscInt *failures) {
  ItModel      model;
  ItGrid       grid;
  ItFP         fp;
  Mat          L;
  Vec          p, Lp;
  PetscScalar *pa;
  PetscReal    residual, scale, pmax;

  PetscFunctionBegin;
  PetscCall(PetscOptionsSetValue(NULL, "-model", "brownian"));
  PetscCall(PetscOptionsSetValue(NULL, "-v0", "0.3"));
  PetscCall(PetscOptionsSetValue(NULL, "-tau_v", "2"));
  PetscCall(PetscOptionsSetValue(NULL, "-sigma_v", "0.7"));
  PetscCall(PetscOptionsSetValue(NULL, "-grid_n", "37"));
  PetscCall(ItModelCreate(PETSC_COMM_WORLD, &model));
  PetscCall(ItModelSetFromOptions(model));
  PetscCall(ItGridCreate(model, &grid));
  PetscCall(ItFPCreate(grid, model, &fp));
  PetscCall(ItFPSetTime(fp, 0.0));
  PetscCall(ItFPGetMatrix(fp, &L));
  PetscCall(MatCreateVecs(L, &p, &Lp));
  PetscCall(VecGetArray(p, &pa));
  ItGridForOwned(grid, c, l) {
    const PetscReal x = ItGridCoordinate(grid, 0, c[0]) - 0.3;
    pa[l]             = PetscExpReal(-x * x / (2 * 0.49));
  }
  PetscCall(VecRestoreArray(p, &pa));
  PetscCall(MatMult(L, p, Lp));
  PetscCall(VecNorm(Lp, NORM_INFINITY, &residual));
  PetscCall(MatNorm(L, NORM_INFINITY, &scale));
  PetscCall(VecNorm(p, NORM_INFINITY, &pmax));
  if (residual > 1e-13 * scale * pmax) (*failures)++;
  PetscCall(PetscPrintf(
      PETSC_COMM_WORLD,
      "%s brownian   |L p_exact| / (|L| |p|) = %.1e (< 1e-13): the discrete equilibrium is exact\n",
      residual <= 1e-13 * scale * pmax ? "ok  " : "FAIL", (double)(residual / (scale * pmax))));
  PetscCall(VecDestroy(&p));
  PetscCall(VecDestroy(&Lp));
  PetscCall(ItFPDestroy(&fp));
  PetscCall(ItGridDestroy(&grid));
  PetscCall(ItModelDestroy(&model));
  PetscFunctionReturn(PETSC_SUCCESS);
}

int main(int argc, char **argv) {
  PetscInt failures = 0;

  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  for (size_t k = 0; k < sizeof(models) / sizeof(models[0]); k++)
    PetscCall(CheckModel(models[k], &failures));
  PetscCall(CheckExactEquilibrium(&failures));
  PetscCall(PetscFinalize());
  return failures ? 1 : 0;
}
