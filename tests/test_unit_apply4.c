/* Unit test of the fourth-order operator's matrix-free product (src/fp/fp.c
   ItFPFourthApplyRows: each face current once, rows without tests, the stage
   shell's VecAXPBY within the pass) on 1-3 ranks (tests/test_apply4_ranks.py):
   on 2-D, 3-D, 4-D (a dof axis) and periodic grids with the guard on, the
   product L p equals the per-cell sum of ItFacesAxisDivergence over the axes
   to the bit; the stage shell scale (shift I - L) equals
   scale shift p - scale L p computed apart (VecAXPBY) to the bit; and
   ItFPShiftedAssemble's matrix times p equals the shell's product to
   round-off (1e-13 of its largest entry). Also 1-D, grids whose ranks
   own 2-3 planes, a periodic fastest axis and two periodic axes; and faces
   renewed by the guard (ItFacesSetDensity: the renewal leaves the pencils
   and faces whose weights do not change) give the product of faces computed
   afresh under the last density, to the bit. Both precisions of the
   weights (-fp_weights: single by default from 4 variables on) pass these;
   and the single weights' product differs from the double ones' by their
   rounding alone (above 0, at most 1e-6 of the largest entry: each weight
   moves by at most 2^-24 of itself, a face's current by 2^-24 of the sum of
   its four products' magnitudes) while its entries still sum to zero (the
   flux form telescopes whatever the weights: mass exact). */
#include "operator_checks.h"

/* A smooth positive density, not symmetric about the box's centre, of width
   the box over w along each axis. */
static PetscErrorCode DensityOfWidth(ItGrid grid, PetscReal w0, Vec p) {
  const ItGridInfo *info = ItGridGetInfo(grid);
  PetscScalar      *a;

  PetscFunctionBegin;
  PetscCall(VecGetArray(p, &a));
  ItGridForOwned(grid, c, l) {
    PetscReal e = 0;
    for (PetscInt b = 0; b < info->dim; b++) {
      const PetscReal w = (info->hi[b] - info->lo[b]) / w0,
                      x = ItGridCoordinate(grid, b, c[b]) - 0.4 * info->lo[b] - 0.6 * info->hi[b];
      e += 0.5 * x * x / (w * w);
    }
    a[l] = PetscExpReal(-e) * (1 + 0.2 * PetscSinReal((PetscReal)(3 * l)));
  }
  PetscCall(VecRestoreArray(p, &a));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode Density(ItGrid grid, Vec p) {
  return DensityOfWidth(grid, 5, p);
}

/* The faces at t = 0.3 under the guard of a wide density p1, renewed to a
   narrower p2, back to p1 and to p2 again, against faces computed at once
   under p2: their products of p1 equal to the bit. */
static PetscErrorCode CheckRenewal(const char name[], const char *const options[][2],
                                   PetscInt *failures) {
  ItModel   model;
  ItGrid    grid;
  ItFaces   renewed, fresh;
  Vec       p1, p2, y1, y2;
  PetscReal e;

  PetscFunctionBegin;
  PetscCall(ItTestModel(options, &model));
  PetscCall(ItGridCreate(model, &grid));
  const ItGridInfo *info = ItGridGetInfo(grid);
  PetscCall(DMCreateGlobalVector(info->da, &p1));
  PetscCall(VecDuplicate(p1, &p2));
  PetscCall(VecDuplicate(p1, &y1));
  PetscCall(VecDuplicate(p1, &y2));
  PetscCall(DensityOfWidth(grid, 3, p1));
  PetscCall(DensityOfWidth(grid, 12, p2));
  PetscCall(ItFacesCreate(grid, model, &renewed));
  PetscCall(ItFacesSetDensity(renewed, p1));
  PetscCall(ItFacesCompute(renewed, 0.3));
  PetscCall(ItFacesSetDensity(renewed, p2));
  PetscCall(ItFacesSetDensity(renewed, p1));
  PetscCall(ItFacesSetDensity(renewed, p2));
  PetscCall(ItFacesCreate(grid, model, &fresh));
  PetscCall(ItFacesSetDensity(fresh, p2));
  PetscCall(ItFacesCompute(fresh, 0.3));
  PetscCall(ItFPApplyFaces(renewed, p1, y1));
  PetscCall(ItFPApplyFaces(fresh, p1, y2));
  PetscCall(ItTestMaxRel(y1, y2, &e));
  if (e != 0) (*failures)++;
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%s %s: renewed faces against fresh ones %.1e\n",
                        e == 0 ? "ok  " : "FAIL", name, (double)e));
  PetscCall(VecDestroy(&p1));
  PetscCall(VecDestroy(&p2));
  PetscCall(VecDestroy(&y1));
  PetscCall(VecDestroy(&y2));
  PetscCall(ItFacesDestroy(&renewed));
  PetscCall(ItFacesDestroy(&fresh));
  PetscCall(ItGridDestroy(&grid));
  PetscCall(ItModelDestroy(&model));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The product of the faces of options with -fp_weights single against
   -fp_weights double (the same grid and density): their difference is the
   weights' rounding (0 < e <= 1e-6 of the largest entry), and the single
   weights' entries sum to zero to round-off (1e-13 of the sum of their
   magnitudes: walls only). */
static PetscErrorCode CheckSingle(const char name[], const char *const options[][2],
                                  PetscInt *failures) {
  const char *kinds[2] = {"single", "double"};
  Vec         y[2];
  PetscReal   e, total, norm1;
  PetscScalar sum;

  PetscFunctionBegin;
  for (PetscInt k = 0; k < 2; k++) {
    ItModel model;
    ItGrid  grid;
    ItFaces faces;
    Vec     p;
    PetscCall(ItTestModel(options, &model));
    PetscCall(PetscOptionsSetValue(NULL, "-fp_weights", kinds[k]));
    PetscCall(ItGridCreate(model, &grid));
    PetscCall(ItFacesCreate(grid, model, &faces));
    PetscCall(DMCreateGlobalVector(ItGridGetInfo(grid)->da, &p));
    PetscCall(Density(grid, p));
    PetscCall(ItFacesSetDensity(faces, p));
    PetscCall(ItFacesCompute(faces, 0));
    PetscCall(VecDuplicate(p, &y[k]));
    PetscCall(ItFPApplyFaces(faces, p, y[k]));
    PetscCall(VecDestroy(&p));
    PetscCall(ItFacesDestroy(&faces));
    PetscCall(ItGridDestroy(&grid));
    PetscCall(ItModelDestroy(&model));
  }
  PetscCall(ItTestMaxRel(y[0], y[1], &e));
  PetscCall(VecSum(y[0], &sum));
  PetscCall(VecNorm(y[0], NORM_1, &norm1));
  total = PetscAbsScalar(sum) / norm1;
  if (!(e > 0 && e <= 1e-6 && total <= 1e-13)) (*failures)++;
  PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                        "%s %s: single weights against double %.1e (0 < e <= 1e-6), their L p "
                        "sums to %.1e of its magnitude (<= 1e-13)\n",
                        e > 0 && e <= 1e-6 && total <= 1e-13 ? "ok  " : "FAIL", name, (double)e,
                        (double)total));
  PetscCall(VecDestroy(&y[0]));
  PetscCall(VecDestroy(&y[1]));
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
  PetscCall(ItTestModel(options, &model));
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
  static const char *const four_double[][2] = {
      {"-model", "linear"},
      {"-linear_M", "-1,0,0,0.2,1.5,-2,0,0,0,0.8,-1.2,0,0.3,0,0.5,-1"},
      {"-linear_D", "1,0.3,0.2,0.4"},
      {"-grid_n", "10,8,9,12"},
      {"-grid_lo", "-5,-4,-3,-4"},
      {"-grid_hi", "5,4,3,4"},
      {"-fp_order", "4"},
      {"-fp_weights", "double"},
      {NULL, NULL}};
  static const char *const two_single[][2] = {
      {"-model", "linear"}, {"-linear_M", "-1,-1.5,2,-2"}, {"-linear_D", "1,0.2"},
      {"-grid_n", "20,24"}, {"-grid_lo", "-4,-3"},         {"-grid_hi", "4,3"},
      {"-fp_order", "4"},   {"-fp_weights", "single"},     {NULL, NULL}};
  static const char *const periodic[][2] = {{"-model", "linear"},
                                            {"-grid_n", "16,20"},
                                            {"-grid_lo", "-3,0"},
                                            {"-grid_hi", "3,6.283185307179586"},
                                            {"-grid_boundary", "x2:periodic"},
                                            {"-fp_order", "4"},
                                            {NULL, NULL}};

  static const char *const one[][2] = {
      {"-model", "linear"}, {"-linear_M", "-1"}, {"-linear_D", "0.3"}, {"-grid_n", "40"},
      {"-grid_lo", "-4"},   {"-grid_hi", "4"},   {"-fp_order", "4"},   {NULL, NULL}};
  static const char *const thin[][2]  = {{"-model", "linear"},   {"-linear_M", "-1,-1.5,2,-2"},
                                         {"-linear_D", "1,0.2"}, {"-grid_n", "20,8"},
                                         {"-grid_lo", "-4,-3"},  {"-grid_hi", "4,3"},
                                         {"-fp_order", "4"},     {NULL, NULL}};
  static const char *const thin3[][2] = {
      {"-model", "linear"},         {"-linear_M", "-1,0,0.2,0.5,-1,0,0,0.5,-1"},
      {"-linear_D", "0.5,0.4,0.3"}, {"-grid_n", "8,8,8"},
      {"-grid_lo", "-3,-3,-3"},     {"-grid_hi", "3,3,3"},
      {"-fp_order", "4"},           {NULL, NULL}};
  static const char *const fastest[][2] = {{"-model", "linear"},
                                           {"-grid_n", "20,16"},
                                           {"-grid_lo", "0,-3"},
                                           {"-grid_hi", "6.283185307179586,3"},
                                           {"-grid_boundary", "x1:periodic"},
                                           {"-fp_order", "4"},
                                           {NULL, NULL}};
  static const char *const both[][2]    = {{"-model", "linear"},
                                           {"-grid_n", "12,16"},
                                           {"-grid_lo", "0,0"},
                                           {"-grid_hi", "6.283185307179586,6.283185307179586"},
                                           {"-grid_boundary", "x1:periodic,x2:periodic"},
                                           {"-fp_order", "4"},
                                           {NULL, NULL}};

  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  PetscCall(CheckCase("2-D 20 x 24", two, &failures));
  PetscCall(CheckCase("3-D 12 x 10 x 14", three, &failures));
  PetscCall(CheckCase("4-D 10 x 8 x 9 x 12 (a dof axis)", four, &failures));
  PetscCall(CheckCase("4-D 10 x 8 x 9 x 12, -fp_weights double", four_double, &failures));
  PetscCall(CheckCase("2-D 20 x 24, -fp_weights single", two_single, &failures));
  PetscCall(CheckCase("2-D periodic x2", periodic, &failures));
  PetscCall(CheckCase("1-D 40", one, &failures));
  PetscCall(CheckCase("2-D 20 x 8 (3 ranks own 3, 3, 2 planes)", thin, &failures));
  PetscCall(CheckCase("3-D 8^3 (3 ranks own 3, 3, 2 planes)", thin3, &failures));
  PetscCall(CheckCase("2-D periodic x1 (the fastest axis)", fastest, &failures));
  PetscCall(CheckCase("2-D periodic x1 and x2", both, &failures));
  PetscCall(CheckRenewal("2-D renewal", two, &failures));
  PetscCall(CheckRenewal("3-D renewal", three, &failures));
  PetscCall(CheckRenewal("4-D renewal", four, &failures));
  PetscCall(CheckRenewal("2-D periodic renewal", periodic, &failures));
  PetscCall(CheckRenewal("2-D renewal, -fp_weights single", two_single, &failures));
  PetscCall(CheckSingle("4-D", four, &failures));
  PetscCall(CheckSingle("2-D", two, &failures));
  PetscCall(PetscFinalize());
  return failures ? 1 : 0;
}
