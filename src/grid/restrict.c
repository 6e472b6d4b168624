/* Restriction of a density to a coarser grid of the same box (the grids of
   doc/physics.md §5's error estimates, ItGridCreateCoarse): each coarse cell
   the mean of its children. */
#include <infotherm/private/gridimpl.h>

/* The coarse density pc (grid coarse) of a fine one pf: each coarse cell the
   mean of its children (their sum times the volume ratio), so the mass is
   kept. A sparse matrix with one entry per fine cell, whatever the two grids'
   decompositions. Collective. */
PetscErrorCode ItGridRestrict(ItGrid fine, ItGrid coarse, Vec pf, Vec pc) {
  Mat       R;
  PetscInt  factor[IT_MAX_DIM], children = 1, lo, hi;
  PetscReal weight;

  PetscFunctionBegin;
  for (PetscInt a = 0; a < IT_MAX_DIM; a++) {
    factor[a] = fine->info.n[a] / coarse->info.n[a];
    children *= factor[a];
  }
  weight = 1.0 / children;
  PetscCall(VecGetOwnershipRange(pc, &lo, &hi));
  PetscCall(MatCreateAIJ(fine->info.comm, hi - lo, fine->info.nlocal, PETSC_DETERMINE,
                         PETSC_DETERMINE, children, NULL, children, NULL, &R));
  PetscCall(MatSetOption(R, MAT_NEW_NONZERO_ALLOCATION_ERR, PETSC_FALSE));
  ItGridForOwned(fine, c, l) {
    PetscInt parent[IT_MAX_DIM], row, col;
    for (PetscInt a = 0; a < IT_MAX_DIM; a++) parent[a] = c[a] / factor[a];
    PetscCall(ItGridGlobalIndex(coarse, parent, &row));
    PetscCall(ItGridGlobalIndex(fine, c, &col));
    PetscCall(MatSetValue(R, row, col, weight, INSERT_VALUES));
  }
  PetscCall(MatAssemblyBegin(R, MAT_FINAL_ASSEMBLY));
  PetscCall(MatAssemblyEnd(R, MAT_FINAL_ASSEMBLY));
  PetscCall(MatMult(R, pf, pc));
  PetscCall(MatDestroy(&R));
  PetscFunctionReturn(PETSC_SUCCESS);
}
