/* Unit test of the fourth-order operator's matrix-free product (src/fp/fp.c
   ItFPFourthApplyRows: each face current once, rows without tests, the stage
   shell's VecAXPBY within the pass) on 1-3 ranks (tests/test_apply4_ranks.py):
   on 2-D, 3-D, 4-D (a dof axis) and periodic grids with the guard on, the
   product L p equals the per-cell sum of ItFacesAxisDivergence over the axes
   to the bit; the stage shell scale (shift I - L) equals
   scale shift p - scale L p computed apart (VecAXPBY) to the bit; and
   ItFPShiftedAssemble's matrix times p equals the shell's product to
   round-off (1e-13 of its largest entry). */
#include "operator_checks.h"

/* A smooth positive density, not symmetric about the box's centre. */
static PetscErrorCode Density(ItGrid grid, Vec p) {
  const ItGridInfo *info = ItGridGetInfo(grid);
  PetscScalar      *a;

  PetscFunctionBegin;
  PetscCall(VecGetArray(p, &a));
  ItGridForOwned(grid, c, l) {
    PetscReal e = 0;
    for (PetscInt b = 0; b < info->dim; b++) {
      const PetscReal w = (info->hi[b] - info->lo[b]) / 5,
                      x = ItGridCoordinate(grid, b, c[b]) - 0.4 * info->lo[b] - 0.6 * info->hi[b];
      e += 0.5 * x * x / (w * w);
    }
    a[l] = PetscExpReal(-e) * (1 + 0.2 * PetscSinReal((PetscReal)(3 * l)));
  }
  PetscCall(VecRestoreArray(p, &a));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode CheckCase(const char name[], const char *const options[][2],
                                PetscInt *failures) {
  ItModel   model;
  ItGrid    grid;
  ItFaces   faces;
  Mat       A, P;
  Vec       p, y, z, s;
  PetscReal e_apply, e_shell, e_matrix;

  PetscFunctionBegin;
  PetscCall(PetscOptionsClear(NULL));
  for (PetscInt k = 0; options[k][0]; k++)
    PetscCall(PetscOptionsSetValue(NULL, options[k][0], options[k][1]));
  PetscCall(ItModelCreate(PETSC_COMM_WORLD, &model));
  PetscCall(ItModelSetFromOptions(model));
  PetscCall(ItGridCreate(model, &grid));
  const ItGridInfo *info = ItGridGetInfo(grid);
  PetscCall(ItFacesCreate(grid, model, &faces));
  PetscCall(DMCreateGlobalVector(info->da, &p));
  PetscCall(VecDuplicate(p, &y));
  PetscCall(VecDuplicate(p, &z));
  PetscCall(VecDuplicate(p, &s));
  PetscCall(Density(grid, p));
  PetscCall(ItFacesSetDensity(faces, p)); /* the transient's guard */
  PetscCall(ItFacesCompute(faces, 0));
  /* L p against the per-cell reference */
  PetscCall(ItFPApplyFaces(faces, p, y));
  PetscCall(ItTestApplyReference(grid, faces, p, z));
  PetscCall(ItTestMaxRel(y, z, &e_apply));
  /* the stage shell 1.3 (20 I - L) against its parts, and the assembled matrix */
  PetscCall(ItFPCreateShiftedFree(faces, &A));
  PetscCall(ItFPShiftedSet(A, 20, 1.3, -1, 0));
  PetscCall(MatMult(A, p, s));
  PetscCall(VecAXPBY(y, 1.3 * 20, -1.3, p));
  PetscCall(ItTestMaxRel(s, y, &e_shell));
  PetscCall(ItFPCreateShiftedMatrix(grid, &P));
  PetscCall(ItFPShiftedAssemble(A, P));
  PetscCall(MatMult(P, p, z));
  PetscCall(ItTestMaxRel(z, s, &e_matrix));
  if (e_apply != 0 || e_shell != 0 || e_matrix > 1e-13) (*failures)++;
  PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                        "%s %s: L p against the per-cell sum %.1e (0), the shell against "
                        "VecAXPBY %.1e (0), the assembled matrix %.1e (<= 1e-13)\n",
                        e_apply == 0 && e_shell == 0 && e_matrix <= 1e-13 ? "ok  " : "FAIL", name,
                        (double)e_apply, (double)e_shell, (double)e_matrix));
  PetscCall(MatDestroy(&P));
  PetscCall(MatDestroy(&A));
  PetscCall(VecDestroy(&p));
  PetscCall(VecDestroy(&y));
  PetscCall(VecDestroy(&z));
  PetscCall(VecDestroy(&s));
  PetscCall(ItFacesDestroy(&faces));
  PetscCall(ItGridDestroy(&grid));
  PetscCall(ItModelDestroy(&model));
  PetscFunctionReturn(PETSC_SUCCESS);
}

int main(int argc, char **argv) {
  PetscInt                 failures   = 0;
  static const char *const two[][2]   = {{"-model", "linear"},   {"-linear_M", "-1,-1.5,2,-2"},
                                         {"-linear_D", "1,0.2"}, {"-grid_n", "20,24"},
                                         {"-grid_lo", "-4,-3"},  {"-grid_hi", "4,3"},
                                         {"-fp_order", "4"},     {NULL, NULL}};
  static const char *const three[][2] = {
      {"-model", "linear"},         {"-linear_M", "-1,0,0.2,0.5,-1,0,0,0.5,-1"},
      {"-linear_D", "0.5,0.4,0.3"}, {"-grid_n", "12,10,14"},
      {"-grid_lo", "-3,-3,-3"},     {"-grid_hi", "3,3,3"},
      {"-fp_order", "4"},           {NULL, NULL}};
  static const char *const four[][2] = {
      {"-model", "linear"},
      {"-linear_M", "-1,0,0,0.2,1.5,-2,0,0,0,0.8,-1.2,0,0.3,0,0.5,-1"},
      {"-linear_D", "1,0.3,0.2,0.4"},
      {"-grid_n", "10,8,9,12"},
      {"-grid_lo", "-5,-4,-3,-4"},
      {"-grid_hi", "5,4,3,4"},
      {"-fp_order", "4"},
      {NULL, NULL}};
  static const char *const periodic[][2] = {{"-model", "linear"},
                                            {"-grid_n", "16,20"},
                                            {"-grid_lo", "-3,0"},
                                            {"-grid_hi", "3,6.283185307179586"},
                                            {"-grid_boundary", "x2:periodic"},
                                            {"-fp_order", "4"},
                                            {NULL, NULL}};

  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  PetscCall(CheckCase("2-D 20 x 24", two, &failures));
  PetscCall(CheckCase("3-D 12 x 10 x 14", three, &failures));
  PetscCall(CheckCase("4-D 10 x 8 x 9 x 12 (a dof axis)", four, &failures));
  PetscCall(CheckCase("2-D periodic x2", periodic, &failures));
  PetscCall(PetscFinalize());
  return failures ? 1 : 0;
}
