/* Statistics of a density on the grid that do not communicate, shared by
   diag (on marginals it has reduced across the ranks) and the Monte Carlo (on
   a density it holds whole): the layout of the marginal over a subset of the
   axes (index helpers in grid.h) and the differential entropy of a density
   sampled on cells, S = -Σ_k m_k ln m_k × (cell volume). */
#include <infotherm/private/gridimpl.h>

/* -Σ m ln m over `count` values, times the cell volume `cell` (cells with
   m <= 0 add nothing). Not collective. */
PetscReal ItGridEntropyOf(const PetscReal m[], PetscInt count, PetscReal cell) {
  PetscReal s = 0;

  for (PetscInt k = 0; k < count; k++)
    if (m[k] > 0) s -= m[k] * PetscLogReal(m[k]);
  return s * cell;
}

/* The marginal over the axes in mask: its number of cells and the volume of
   one of its cells (the product of the masked axes' cell sizes, in increasing
   axis order). An empty mask gives one cell of volume 1. Not collective. */
PetscErrorCode ItGridMarginalLayout(ItGrid grid, const PetscBool mask[], PetscInt *size,
                                    PetscReal *cell) {
  PetscFunctionBegin;
  *size = 1;
  *cell = 1;
  for (PetscInt i = 0; i < grid->info.dim; i++)
    if (mask[i]) {
      *size *= grid->info.n[i];
      *cell *= grid->info.h[i];
    }
  PetscFunctionReturn(PETSC_SUCCESS);
}
