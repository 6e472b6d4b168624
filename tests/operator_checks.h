/* Checks shared by the C unit tests and tools/bench_order4_apply.c: what
   every assembled Fokker-Planck operator L must satisfy, the largest
   relative difference of two vectors, and the per-cell reference of the
   matrix-free product. */
#ifndef INFOTHERM_TESTS_OPERATOR_CHECKS_H
#define INFOTHERM_TESTS_OPERATOR_CHECKS_H
#include <infotherm/fp.h>
#include <petscmat.h>

/* The model of a case's options ({name, value} pairs ended by {NULL, NULL}),
   set in place of every option held before. Collective. */
static inline PetscErrorCode ItTestModel(const char *const options[][2], ItModel *model) {
  PetscFunctionBegin;
  PetscCall(PetscOptionsClear(NULL));
  for (PetscInt k = 0; options[k][0]; k++)
    PetscCall(PetscOptionsSetValue(NULL, options[k][0], options[k][1]));
  PetscCall(ItModelCreate(PETSC_COMM_WORLD, model));
  PetscCall(ItModelSetFromOptions(*model));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* |b - a|_inf / |b|_inf. Collective. */
static inline PetscErrorCode ItTestMaxRel(Vec a, Vec b, PetscReal *rel) {
  Vec       d;
  PetscReal n, m;

  PetscFunctionBegin;
  PetscCall(VecDuplicate(a, &d));
  PetscCall(VecWAXPY(d, -1, a, b));
  PetscCall(VecNorm(d, NORM_INFINITY, &n));
  PetscCall(VecNorm(b, NORM_INFINITY, &m));
  *rel = n / m;
  PetscCall(VecDestroy(&d));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* z = L x cell by cell, axis by axis (ItFacesAxisDivergence summed over the
   axes): the reference of the rows' product ItFPApplyFaces. Collective. */
static inline PetscErrorCode ItTestApplyReference(ItGrid grid, ItFaces faces, Vec x, Vec z) {
  const ItGridInfo  *info = ItGridGetInfo(grid);
  Vec                local;
  const PetscScalar *xl;
  PetscScalar       *za;

  PetscFunctionBegin;
  PetscCall(DMGetLocalVector(info->da, &local));
  PetscCall(DMGlobalToLocal(info->da, x, INSERT_VALUES, local));
  PetscCall(VecGetArrayRead(local, &xl));
  PetscCall(VecGetArray(z, &za));
  ItGridForOwned(grid, c, l) {
    PetscScalar v = 0;
    for (PetscInt a = 0; a < info->dim; a++) v += ItFacesAxisDivergence(faces, a, c, xl);
    za[l] = v;
  }
  PetscCall(VecRestoreArray(z, &za));
  PetscCall(VecRestoreArrayRead(local, &xl));
  PetscCall(DMRestoreLocalVector(info->da, &local));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* L's largest |column sum| relative to |L|_inf (L^T 1 = 0, so mass is
   conserved) and its smallest off-diagonal entry over all ranks (>= 0: an
   M-matrix). Collective on L. */
static inline PetscErrorCode ItTestOperatorProperties(Mat L, PetscReal *colsum, PetscReal *minoff) {
  Vec       ones, sums;
  PetscReal worst, scale, local = 0;
  PetscInt  rstart, rend;

  PetscFunctionBegin;
  PetscCall(MatCreateVecs(L, &ones, &sums));
  PetscCall(VecSet(ones, 1.0));
  PetscCall(MatMultTranspose(L, ones, sums));
  PetscCall(VecNorm(sums, NORM_INFINITY, &worst));
  PetscCall(MatNorm(L, NORM_INFINITY, &scale));
  PetscCall(MatGetOwnershipRange(L, &rstart, &rend));
  for (PetscInt row = rstart; row < rend; row++) {
    PetscInt           ncols;
    const PetscInt    *cols;
    const PetscScalar *vals;
    PetscCall(MatGetRow(L, row, &ncols, &cols, &vals));
    for (PetscInt k = 0; k < ncols; k++)
      if (cols[k] != row) local = PetscMin(local, PetscRealPart(vals[k]));
    PetscCall(MatRestoreRow(L, row, &ncols, &cols, &vals));
  }
  PetscCall(
      MPIU_Allreduce(&local, minoff, 1, MPIU_REAL, MPIU_MIN, PetscObjectComm((PetscObject)L)));
  *colsum = worst / scale;
  PetscCall(VecDestroy(&ones));
  PetscCall(VecDestroy(&sums));
  PetscFunctionReturn(PETSC_SUCCESS);
}
#endif
