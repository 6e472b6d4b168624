/* Unit test of the multigrid's matrix-free prolongation (src/solve/prolong.c)
   on 1-3 ranks (tests/test_prolong_ranks.py): on 2-D, 3-D, 5-D (two axes
   carried as the DMDA's dof), a periodic axis and the fourth order's wider
   stencil, P x equals the cell-centred multilinear interpolation computed
   here from the whole coarse vector in natural order (weights 3/4 and 1/4
   per axis, all of the parent next to a wall, wrapping on a periodic axis), P 1 = 1, P x + z is
   MatMultAdd's, and the restriction is P's adjoint: (P x, r) = (x, P^T r)
   and MatMultTransposeAdd adds. */
#include "operator_checks.h"
#include <infotherm/solve.h>

/* P x at fine cell c from the whole coarse vector xa in natural order. */
static PetscReal Reference(ItGrid coarse, const PetscScalar *xa, const PetscInt c[]) {
  const PetscInt d   = ItGridGetInfo(coarse)->dim;
  PetscReal      sum = 0;

  for (PetscInt k = 0; k < (1 << d); k++) {
    PetscInt  cell[IT_MAX_DIM] = {0, 0, 0, 0, 0, 0};
    PetscReal w                = 1;
    for (PetscInt a = 0; a < d; a++) {
      const PetscInt n = ItGridGetInfo(coarse)->n[a], parent = c[a] / 2,
                     other = parent + (c[a] % 2 ? 1 : -1);
      const PetscBool periodic =
          (PetscBool)(ItGridGetInfo(coarse)->boundary[a] == IT_BOUNDARY_PERIODIC);
      const PetscBool inside = (PetscBool)(periodic || (other >= 0 && other < n));
      cell[a]                = (k >> a & 1) ? (other + n) % n : parent;
      w *= (k >> a & 1) ? (inside ? 0.25 : 0) : (inside ? 0.75 : 1);
    }
    if (w > 0) sum += w * PetscRealPart(xa[ItGridNaturalIndex(coarse, cell)]);
  }
  return sum;
}

static PetscErrorCode CheckCase(const char name[], const char *const options[][2],
                                PetscInt *failures) {
  ItModel            model;
  ItGrid             fine, coarse;
  Mat                P;
  Vec                x, z, y, r, w, xt, all, ones;
  VecScatter         sc;
  PetscRandom        rnd;
  const PetscScalar *xa, *ya;
  PetscReal          err = 0, scale, adjoint, add, sum_add, one;
  PetscScalar        px_r, x_ptr, sum;

  PetscFunctionBegin;
  PetscCall(ItTestModel(options, &model));
  PetscCall(ItGridCreate(model, &fine));
  PetscCall(ItGridCreateCoarse(fine, 2, &coarse));
  PetscCall(ItMGProlongationCreate(fine, coarse, &P));
  PetscCall(DMCreateGlobalVector(ItGridGetInfo(coarse)->da, &x));
  PetscCall(DMCreateGlobalVector(ItGridGetInfo(fine)->da, &y));
  PetscCall(VecDuplicate(x, &xt));
  PetscCall(VecDuplicate(y, &z));
  PetscCall(VecDuplicate(y, &r));
  PetscCall(PetscRandomCreate(PETSC_COMM_WORLD, &rnd));
  PetscCall(PetscRandomSetFromOptions(rnd));
  PetscCall(VecSetRandom(x, rnd));
  PetscCall(VecSetRandom(z, rnd));
  PetscCall(VecSetRandom(r, rnd));
  /* P x against the reference */
  PetscCall(MatMult(P, x, y));
  PetscCall(ItGridNaturalAllScatter(coarse, x, &all, &sc));
  PetscCall(VecScatterBegin(sc, x, all, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecScatterEnd(sc, x, all, INSERT_VALUES, SCATTER_FORWARD));
  PetscCall(VecGetArrayRead(all, &xa));
  PetscCall(VecGetArrayRead(y, &ya));
  ItGridForOwned(fine, c, l) err =
      PetscMax(err, PetscAbsReal(PetscRealPart(ya[l]) - Reference(coarse, xa, c)));
  PetscCall(VecRestoreArrayRead(y, &ya));
  PetscCall(VecRestoreArrayRead(all, &xa));
  PetscCall(MPIU_Allreduce(MPI_IN_PLACE, &err, 1, MPIU_REAL, MPIU_MAX, PETSC_COMM_WORLD));
  PetscCall(VecNorm(x, NORM_INFINITY, &scale));
  err /= scale;
  /* the adjoint: (P x, r) = (x, P^T r) */
  PetscCall(VecDot(y, r, &px_r));
  PetscCall(MatMultTranspose(P, r, xt));
  PetscCall(VecDot(x, xt, &x_ptr));
  adjoint = PetscAbsScalar(px_r - x_ptr) / PetscAbsScalar(px_r);
  /* the adding forms: z + P x into another vector and in place */
  PetscCall(VecDuplicate(y, &w));
  PetscCall(MatMultAdd(P, x, z, w));
  PetscCall(MatMultAdd(P, x, z, z));
  PetscCall(VecAXPY(z, -1, y)); /* z + P x - P x */
  PetscCall(VecAXPY(w, -1, z)); /* (z + P x) - z */
  PetscCall(VecAXPY(w, -1, y));
  PetscCall(VecNorm(w, NORM_INFINITY, &add));
  PetscCall(VecDestroy(&w));
  PetscCall(MatMultTransposeAdd(P, r, xt, xt)); /* 2 P^T r */
  PetscCall(VecDot(x, xt, &sum));
  sum_add = PetscAbsScalar(sum - 2 * x_ptr) / PetscAbsScalar(x_ptr);
  /* rows sum to 1 */
  PetscCall(VecDuplicate(y, &ones));
  PetscCall(VecSet(x, 1));
  PetscCall(MatMult(P, x, ones));
  PetscCall(VecShift(ones, -1));
  PetscCall(VecNorm(ones, NORM_INFINITY, &one));
  {
    const PetscBool ok = (PetscBool)(err <= 1e-15 && adjoint <= 1e-13 && sum_add <= 1e-13 &&
                                     add <= 1e-14 && one <= 1e-15);
    if (!ok) (*failures)++;
    PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                          "%s %s: |P x - interpolation| %.1e, adjoint %.1e, transpose-add %.1e, "
                          "add %.1e, P 1 - 1 %.1e\n",
                          ok ? "ok  " : "FAIL", name, (double)err, (double)adjoint, (double)sum_add,
                          (double)add, (double)one));
  }
  PetscCall(VecScatterDestroy(&sc));
  PetscCall(VecDestroy(&all));
  PetscCall(VecDestroy(&ones));
  PetscCall(VecDestroy(&x));
  PetscCall(VecDestroy(&xt));
  PetscCall(VecDestroy(&y));
  PetscCall(VecDestroy(&z));
  PetscCall(VecDestroy(&r));
  PetscCall(PetscRandomDestroy(&rnd));
  PetscCall(MatDestroy(&P));
  PetscCall(ItGridDestroy(&coarse));
  PetscCall(ItGridDestroy(&fine));
  PetscCall(ItModelDestroy(&model));
  PetscCall(PetscOptionsClear(NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

int main(int argc, char **argv) {
  PetscInt                 failures   = 0;
  static const char *const two[][2]   = {{"-model", "linear"},
                                         {"-grid_n", "16,12"},
                                         {"-grid_lo", "-4,-3"},
                                         {"-grid_hi", "4,3"},
                                         {NULL, NULL}};
  static const char *const odd[][2]   = {{"-model", "linear"},
                                         {"-grid_n", "30,10"},
                                         {"-grid_lo", "-4,-3"},
                                         {"-grid_hi", "4,3"},
                                         {NULL, NULL}};
  static const char *const three[][2] = {
      {"-model", "linear"},   {"-linear_M", "-1,0,0,0,-1,0,0,0,-1"},
      {"-linear_b", "0,0,0"}, {"-linear_D", "1,1,1"},
      {"-grid_n", "12,8,10"}, {"-grid_lo", "-2,-2,-2"},
      {"-grid_hi", "2,2,2"},  {NULL, NULL}};
  static const char *const five[][2]     = {{"-model", "population_plastic"},
                                            {"-grid_n", "8,8,12,8,8"},
                                            {"-grid_lo", "-6,-1.2,-1.2,-0.3,-0.3"},
                                            {"-grid_hi", "6,2.2,2.2,1.4,1.4"},
                                            {NULL, NULL}};
  static const char *const periodic[][2] = {{"-model", "linear"},
                                            {"-grid_n", "12,16"},
                                            {"-grid_lo", "-3,0"},
                                            {"-grid_hi", "3,6.283185307179586"},
                                            {"-grid_boundary", "x2:periodic"},
                                            {NULL, NULL}};
  static const char *const fourth[][2]   = {{"-model", "linear"},  {"-grid_n", "16,20"},
                                            {"-grid_lo", "-4,-4"}, {"-grid_hi", "4,4"},
                                            {"-fp_order", "4"},    {NULL, NULL}};

  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  PetscCall(CheckCase("2-D 16 x 12", two, &failures));
  PetscCall(CheckCase("2-D 30 x 10 (odd ownership on 2 ranks)", odd, &failures));
  PetscCall(CheckCase("3-D 12 x 8 x 10", three, &failures));
  PetscCall(CheckCase("5-D 8 x 8 x 12 x 8 x 8 (dof axes)", five, &failures));
  PetscCall(CheckCase("2-D periodic x2", periodic, &failures));
  PetscCall(CheckCase("2-D -fp_order 4 (stencil width 2)", fourth, &failures));
  PetscCall(PetscFinalize());
  return failures ? 1 : 0;
}
