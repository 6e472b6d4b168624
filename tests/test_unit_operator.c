/* Unit test of the fp module: in 1-D the discrete equilibrium of a linear
   gradient drift is the exact Gaussian at the cell centres (L p_exact = 0);
   and of the grid's read-only view (ItGridGetInfo).
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
  PetscCall(PetscOptionsSetValue(NULL, "-brownian_v0", "0.3"));
  PetscCall(PetscOptionsSetValue(NULL, "-brownian_tau_v", "2"));
  PetscCall(PetscOptionsSetValue(NULL, "-brownian_sigma_v", "0.7"));
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

/* ItGridGetInfo on the linear model's 3-D grid (-grid_n 10,12,14 on [-2, 2]^3):
   the cells, walls and widths given, the cell volume their product, the
   owned cells the product of the owned widths, and every cell owned once
   over the ranks. */
static PetscErrorCode CheckGridInfo(PetscInt *failures) {
  ItModel           model;
  ItGrid            grid;
  const ItGridInfo *info;
  PetscInt          owned = 1, total, ok = 1;
  PetscReal         volume = 1;

  PetscFunctionBegin;
  PetscCall(PetscOptionsClear(NULL));
  PetscCall(PetscOptionsSetValue(NULL, "-model", "linear"));
  PetscCall(PetscOptionsSetValue(NULL, "-linear_M", "-1,0,0,0,-1,0,0,0,-1"));
  PetscCall(PetscOptionsSetValue(NULL, "-linear_b", "0,0,0"));
  PetscCall(PetscOptionsSetValue(NULL, "-linear_D", "1,1,1"));
  PetscCall(PetscOptionsSetValue(NULL, "-grid_n", "10,12,14"));
  PetscCall(PetscOptionsSetValue(NULL, "-grid_lo", "-2,-2,-2"));
  PetscCall(PetscOptionsSetValue(NULL, "-grid_hi", "2,2,2"));
  PetscCall(ItModelCreate(PETSC_COMM_WORLD, &model));
  PetscCall(ItModelSetFromOptions(model));
  PetscCall(ItGridCreate(model, &grid));
  info = ItGridGetInfo(grid);
  for (PetscInt a = 0; a < info->dim; a++) {
    ok &= info->n[a] == 10 + 2 * a && info->lo[a] == -2 && info->hi[a] == 2;
    ok &= PetscAbsReal(info->h[a] - 4.0 / info->n[a]) <= 1e-15;
    volume *= info->h[a];
    owned *= info->xm[a];
  }
  for (PetscInt a = info->dim; a < IT_MAX_DIM; a++) ok &= info->n[a] == 1 && info->xm[a] == 1;
  PetscCallMPI(MPI_Allreduce(&info->nlocal, &total, 1, MPIU_INT, MPI_SUM, info->comm));
  ok &= info->dim == 3 && owned == info->nlocal && total == 10 * 12 * 14;
  ok &= PetscAbsReal(info->cell_volume - volume) <= 1e-15 * volume;
  if (!ok) (*failures)++;
  PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                        "%s grid info: 10 x 12 x 14 cells, %" PetscInt_FMT
                        " owned in all, cell volume %g\n",
                        ok ? "ok  " : "FAIL", total, (double)info->cell_volume));
  PetscCall(ItGridDestroy(&grid));
  PetscCall(ItModelDestroy(&model));
  PetscCall(PetscOptionsClear(NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

int main(int argc, char **argv) {
  PetscInt failures = 0;

  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  PetscCall(CheckExactEquilibrium(&failures));
  PetscCall(CheckGridInfo(&failures));
  PetscCall(PetscFinalize());
  return failures ? 1 : 0;
}
