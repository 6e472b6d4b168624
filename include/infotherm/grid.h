/* Grid: the distributed cell-centred box (a PETSc DMDA) on which the density
   lives, conversions between cell index and coordinate, and the reductions
   across ranks that physics code needs. */
#pragma once
#include <petscdmda.h>
#include <infotherm/model.h>

typedef struct _p_ItGrid *ItGrid;

struct _p_ItGrid {
  MPI_Comm  comm;
  DM        da;
  PetscInt  dim;
  PetscInt  n[IT_MAX_DIM];
  PetscReal lo[IT_MAX_DIM], hi[IT_MAX_DIM], h[IT_MAX_DIM];
  PetscReal cell_volume;
  /* owned and ghosted corners; axes beyond dim have start 0 and width 1 */
  PetscInt xs[IT_MAX_DIM], xm[IT_MAX_DIM], gxs[IT_MAX_DIM], gxm[IT_MAX_DIM];
  PetscInt nlocal;
};

PetscErrorCode ItGridCreate(ItModel model, ItGrid *grid);
PetscErrorCode ItGridView(ItGrid grid, PetscViewer viewer);
PetscErrorCode ItGridDestroy(ItGrid *grid);
PetscErrorCode ItGridSum(ItGrid grid, PetscInt n, const PetscReal local[], PetscReal global[]);
PetscErrorCode ItGridMaxAbs(ItGrid grid, PetscReal local, PetscReal *global);
PetscErrorCode ItGridMin(ItGrid grid, PetscReal local, PetscReal *global);
PetscErrorCode ItGridGlobalIndex(ItGrid grid, const PetscInt cell[], PetscInt *index);

/* Centre of cell `index` along `axis`. */
static inline PetscReal ItGridCoordinate(ItGrid grid, PetscInt axis, PetscInt index) {
  return grid->lo[axis] + (index + 0.5) * grid->h[axis];
}

/* Visit every owned cell: c[] the global cell index, l the offset in the owned array. */
#define ItGridForOwned(grid, c, l)                                                                 \
  for (PetscInt c[IT_MAX_DIM] = {0, 0, (grid)->xs[2]}, l = 0;                                      \
       c[2] < (grid)->xs[2] + (grid)->xm[2]; c[2]++)                                               \
    for (c[1] = (grid)->xs[1]; c[1] < (grid)->xs[1] + (grid)->xm[1]; c[1]++)                       \
      for (c[0] = (grid)->xs[0]; c[0] < (grid)->xs[0] + (grid)->xm[0]; c[0]++, l++)

/* Offset of a cell in a ghosted local array. */
static inline PetscInt ItGridGhostedOffset(ItGrid grid, const PetscInt c[]) {
  return ((c[2] - grid->gxs[2]) * grid->gxm[1] + (c[1] - grid->gxs[1])) * grid->gxm[0] +
         (c[0] - grid->gxs[0]);
}
