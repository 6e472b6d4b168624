/* What every assembled Fokker-Planck operator L must satisfy, shared by the
   C unit tests: its largest |column sum| relative to |L|_inf (L^T 1 = 0, so
   mass is conserved) and its smallest off-diagonal entry over all ranks
   (>= 0: an M-matrix). Collective on L. */
#ifndef INFOTHERM_TESTS_OPERATOR_CHECKS_H
#define INFOTHERM_TESTS_OPERATOR_CHECKS_H
#include <petscmat.h>

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
