/* The read-only view of a grid (ItGridInfo): a copy of its geometry and of
   this rank's part, so that code outside src/grid reads fields it cannot
   change. */
#include <infotherm/grid.h>

/* Fills info from grid. Not collective. */
PetscErrorCode ItGridGetInfo(ItGrid grid, ItGridInfo *info) {
  PetscFunctionBegin;
  info->comm        = grid->comm;
  info->dim         = grid->dim;
  info->cell_volume = grid->cell_volume;
  info->nlocal      = grid->nlocal;
  info->rstart      = grid->rstart;
  info->order       = grid->order_fp;
  for (PetscInt a = 0; a < IT_MAX_DIM; a++) {
    info->n[a]  = a < grid->dim ? grid->n[a] : 1;
    info->lo[a] = a < grid->dim ? grid->lo[a] : 0;
    info->hi[a] = a < grid->dim ? grid->hi[a] : 0;
    info->h[a]  = a < grid->dim ? grid->h[a] : 0;
    info->xs[a] = grid->xs[a];
    info->xm[a] = grid->xm[a];
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}
