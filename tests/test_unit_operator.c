/* Unit test of the fp module: in 1-D the discrete equilibrium of a linear
   gradient drift is the exact Gaussian at the cell centres (L p_exact = 0).
   The column sums and off-diagonal signs of L for every registered model are
   checked by tests/test_conformance_models.c. Single rank. */
#include <infotherm/fp.h>

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
  PetscCall(CheckExactEquilibrium(&failures));
  PetscCall(PetscFinalize());
  return failures ? 1 : 0;
}
