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

/* Gaussian closed forms (src/grid/gaussian.c): a covariance S is d x d, row-major and symmetric
   (one triangle is read); a mask selects a subset of the d variables. Not collective. */
PetscErrorCode ItGridCholesky(PetscInt d, const PetscReal S[], PetscReal L[], PetscReal *logdet,
                              PetscBool *definite);
PetscErrorCode ItGridGaussianLogDet(PetscInt d, const PetscReal S[], const PetscBool mask[],
                                    PetscReal *logdet);
PetscErrorCode ItGridGaussianMutualInformation(PetscInt d, const PetscReal S[],
                                               const PetscBool mask[], PetscReal *mi);

/* Grid-density statistics (src/grid/density.c), shared by diag and the Monte
   Carlo; nothing here communicates. The natural order of the cells has axis 0
   fastest; the marginal over a mask of axes is stored the same way over the
   masked axes (in increasing order, the first fastest). */
PetscReal      ItGridEntropyOf(const PetscReal m[], PetscInt count, PetscReal cell);
PetscErrorCode ItGridMarginalLayout(ItGrid grid, const PetscBool mask[], PetscInt *size,
                                    PetscReal *cell);

/* Number of cells of the whole grid. */
static inline PetscInt ItGridCellCount(ItGrid grid) {
  PetscInt count = 1;

  for (PetscInt i = 0; i < grid->dim; i++) count *= grid->n[i];
  return count;
}

/* Natural index of cell c (axis 0 fastest). */
static inline PetscInt ItGridNaturalIndex(ItGrid grid, const PetscInt c[]) {
  PetscInt index = 0;

  for (PetscInt i = grid->dim - 1; i >= 0; i--) index = index * grid->n[i] + c[i];
  return index;
}

/* The cell c of a natural index; axes beyond dim (one cell each) get 0. */
static inline void ItGridNaturalCell(ItGrid grid, PetscInt index, PetscInt c[]) {
  for (PetscInt i = 0; i < IT_MAX_DIM; i++) {
    c[i] = index % grid->n[i];
    index /= grid->n[i];
  }
}

/* Index of cell c in the marginal over the axes in mask (0 for an empty mask). */
static inline PetscInt ItGridMarginalIndex(ItGrid grid, const PetscBool mask[],
                                           const PetscInt c[]) {
  PetscInt index = 0, stride = 1;

  for (PetscInt i = 0; i < grid->dim; i++)
    if (mask[i]) {
      index += c[i] * stride;
      stride *= grid->n[i];
    }
  return index;
}
