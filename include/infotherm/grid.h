/* Grid: the distributed cell-centred box (a PETSc DMDA) on which the density
   lives, conversions between cell index and coordinate, and the reductions
   across ranks that physics code needs.

   Up to three axes are distributed by the DMDA (dist[]); the others are
   carried at each grid point as the DMDA's degrees of freedom, owned whole by
   every rank (xs = gxs = 0, xm = gxm = n). PETSc stores the dof fastest, so
   the owned and ghosted arrays run in the storage order order[] (the
   non-distributed axes, then the distributed ones, each fastest first), while
   the natural order of the whole grid (snapshots, marginals, the Monte Carlo)
   keeps axis 0 fastest. Every mapping goes through the helpers below. */
#pragma once
#include <petscdmda.h>
#include <infotherm/model.h>

typedef struct _p_ItGrid *ItGrid;

struct _p_ItGrid {
  MPI_Comm  comm;
  DM        da;
  DM        da_matrix; /* width 1 for the assembled matrices when width > 1, else NULL */
  PetscInt  dim;
  PetscInt  n[IT_MAX_DIM];
  PetscReal lo[IT_MAX_DIM], hi[IT_MAX_DIM], h[IT_MAX_DIM];
  PetscReal cell_volume;
  /* owned and ghosted corners; axes beyond dim have start 0 and width 1 */
  PetscInt  xs[IT_MAX_DIM], xm[IT_MAX_DIM], gxs[IT_MAX_DIM], gxm[IT_MAX_DIM];
  PetscInt  nlocal, rstart;    /* owned cells, and the global index of the first */
  PetscInt  ndist, dist[3];    /* the DMDA's axes (variables), in increasing order */
  PetscInt  order[IT_MAX_DIM]; /* the owned/ghosted arrays' axes, fastest first */
  PetscInt  dof;               /* cells per grid point: the non-distributed axes */
  PetscInt  order_fp;          /* the operator's order, -fp_order: 2 or 4 */
  PetscInt  width;             /* the DMDA's stencil width: order_fp / 2 */
  PetscReal peclet;            /* -fp_peclet: where order 4 weighs half its fall-back */
  PetscReal resolution;        /* -fp_resolution: the same for h^2 |dA/dx| / D */
  /* boundary kinds per axis (-grid_boundary, doc/physics.md §8); for
     threshold_reset the reset point and the refractory time */
  ItBoundaryKind boundary[IT_MAX_DIM];
  PetscReal      reset[IT_MAX_DIM], refractory[IT_MAX_DIM];
  PetscBool      threshold; /* some axis is threshold_reset */
};

/* A read-only view of a grid's geometry and of this rank's part (like
   DMDALocalInfo), for code outside src/grid that needs no more
   (src/grid/info.c). Axes beyond dim: n = 1, xs = 0, xm = 1. */
typedef struct {
  MPI_Comm  comm;
  PetscInt  dim;
  PetscInt  n[IT_MAX_DIM];
  PetscReal lo[IT_MAX_DIM], hi[IT_MAX_DIM], h[IT_MAX_DIM];
  PetscReal cell_volume;
  PetscInt  xs[IT_MAX_DIM], xm[IT_MAX_DIM]; /* the owned corner and widths */
  PetscInt  nlocal, rstart;                 /* owned cells, global index of the first */
  PetscInt  order;                          /* the operator's order, -fp_order */
} ItGridInfo;

PetscErrorCode ItGridGetInfo(ItGrid grid, ItGridInfo *info);
PetscErrorCode ItGridCreate(ItModel model, ItGrid *grid);
PetscErrorCode ItGridCreateBox(ItModel model, ItGrid *grid);
PetscErrorCode ItGridSetUp(ItGrid grid);
PetscErrorCode ItGridCheckEstimateCoarsening(ItGrid fine, PetscInt factor);
PetscErrorCode ItGridCreateCoarse(ItGrid fine, PetscInt factor, ItGrid *coarse);
PetscErrorCode ItGridCreateCoarseOrder(ItGrid fine, PetscInt factor, PetscInt order,
                                       ItGrid *coarse);
PetscErrorCode ItGridView(ItGrid grid, PetscViewer viewer);
/* -grid_boundary, -reset_<var>, -refractory_<var> (src/grid/boundary.c). */
PetscErrorCode ItGridReadBoundary(ItGrid grid, ItModel model);
PetscErrorCode ItGridCopyBoundary(ItGrid fine, ItGrid coarse);
const char    *ItGridBoundaryName(ItBoundaryKind kind);
/* The two cells whose centres bracket the reset point along a threshold_reset
   axis, and the weight of the upper one. */
void           ItGridResetCells(ItGrid grid, PetscInt axis, PetscInt *k, PetscReal *w);
PetscErrorCode ItGridDestroy(ItGrid *grid);
PetscErrorCode ItGridSum(ItGrid grid, PetscInt n, const PetscReal local[], PetscReal global[]);
PetscErrorCode ItGridMaxAbs(ItGrid grid, PetscReal local, PetscReal *global);
PetscErrorCode ItGridMin(ItGrid grid, PetscReal local, PetscReal *global);
PetscErrorCode ItGridGlobalIndex(ItGrid grid, const PetscInt cell[], PetscInt *index);
PetscErrorCode ItGridNaturalAllScatter(ItGrid grid, Vec p, Vec *all, VecScatter *scatter);
/* The memory ledger (src/grid/ledger.c): what each part of a command holds
   on this process, noted by the modules that allocate it from their
   objects' sizes; summary.json's memory components. Not collective. */
typedef enum {
  IT_MEMORY_PROGRAM,     /* resident before any grid: libraries, MPI, PETSc */
  IT_MEMORY_DENSITY,     /* the density and the app's other grid vectors */
  IT_MEMORY_FACES,       /* every set of face coefficients (solver, diagnostics, levels) */
  IT_MEMORY_DIAGNOSTICS, /* the diagnostics' ghosted density, logarithms, marginals */
  IT_MEMORY_MATRIX,      /* the assembled fine-grid operator */
  IT_MEMORY_MULTIGRID,   /* coarse operators, prolongations, level and smoother vectors */
  IT_MEMORY_STAGES,      /* the time stepper's stage and work vectors */
  IT_MEMORY_KRYLOV,      /* the Krylov method's vectors */
  IT_MEMORY_IO,          /* snapshot buffers */
  IT_MEMORY_PARTS
} ItMemoryPart;
const char    *ItMemoryPartName(ItMemoryPart part);
void           ItMemoryAdd(ItMemoryPart part, PetscReal bytes);
void           ItMemorySet(ItMemoryPart part, PetscReal bytes);
PetscReal      ItMemoryGetPeak(ItMemoryPart part);
PetscReal      ItMemoryResident(void);
PetscErrorCode ItMemoryMatrixBytes(Mat A, PetscReal *bytes);

/* A density on fine restricted to the coarser grid coarse of the same box (src/grid/restrict.c). */
PetscErrorCode ItGridRestrict(ItGrid fine, ItGrid coarse, Vec pf, Vec pc);

/* Centre of cell `index` along `axis`. */
static inline PetscReal ItGridCoordinate(ItGrid grid, PetscInt axis, PetscInt index) {
  return grid->lo[axis] + (index + 0.5) * grid->h[axis];
}

/* The first owned cell (c = the owned corner); its offset 0, or nlocal when
   this rank owns none. The owned cells are visited in storage order. */
static inline PetscInt ItGridFirstOwned(ItGrid grid, PetscInt c[]) {
  for (PetscInt a = 0; a < IT_MAX_DIM; a++) c[a] = grid->xs[a];
  return grid->nlocal > 0 ? 0 : grid->nlocal;
}

/* The next owned cell in the owned array's (storage) order. */
static inline void ItGridNextOwned(ItGrid grid, PetscInt c[]) {
  for (PetscInt k = 0; k < grid->dim; k++) {
    const PetscInt a = grid->order[k];
    if (++c[a] < grid->xs[a] + grid->xm[a]) return;
    c[a] = grid->xs[a];
  }
}

/* Visit every owned cell: c[] the global cell index, l the offset in the owned array. */
#define ItGridForOwned(grid, c, l)                                                                 \
  for (PetscInt c[IT_MAX_DIM], l = ItGridFirstOwned(grid, c); l < (grid)->nlocal;                  \
       l++, ItGridNextOwned(grid, c))

/* Offset of a cell in an array over the box [start, start + width) per axis (axis 0 fastest). */
static inline PetscInt ItGridBoxOffset(const PetscInt start[], const PetscInt width[],
                                       const PetscInt c[]) {
  PetscInt offset = 0;

  for (PetscInt a = IT_MAX_DIM - 1; a >= 0; a--) offset = offset * width[a] + (c[a] - start[a]);
  return offset;
}

/* Offset of a cell in an array of the grid's storage order over the box
   [start, start + width) per axis (order[0] fastest). */
static inline PetscInt ItGridStorageOffset(ItGrid grid, const PetscInt start[],
                                           const PetscInt width[], const PetscInt c[]) {
  PetscInt offset = 0;

  for (PetscInt k = grid->dim - 1; k >= 0; k--) { /* order[dim..] are axes of one cell */
    const PetscInt a = grid->order[k];
    offset           = offset * width[a] + (c[a] - start[a]);
  }
  return offset;
}

/* Offset of a cell in a ghosted local array. */
static inline PetscInt ItGridGhostedOffset(ItGrid grid, const PetscInt c[]) {
  return ItGridStorageOffset(grid, grid->gxs, grid->gxm, c);
}

/* Offset of an owned cell in the owned (global vector's local) array. */
static inline PetscInt ItGridOwnedOffset(ItGrid grid, const PetscInt c[]) {
  return ItGridStorageOffset(grid, grid->xs, grid->xm, c);
}

/* Index of a cell in the natural (row-major, axis 0 fastest) order of the whole grid. */
static inline PetscInt ItGridNaturalIndex(ItGrid grid, const PetscInt c[]) {
  const PetscInt zero[IT_MAX_DIM] = {0};

  return ItGridBoxOffset(zero, grid->n, c);
}

/* Number of cells of the whole grid. */
static inline PetscInt ItGridCellCount(ItGrid grid) {
  PetscInt count = 1;

  for (PetscInt a = 0; a < grid->dim; a++) count *= grid->n[a];
  return count;
}

/* Grid-density statistics (src/grid/density.c), shared by diag and the Monte
   Carlo; nothing here communicates. The natural order of the cells has axis 0
   fastest; the marginal over a mask of axes is stored the same way over the
   masked axes (in increasing order, the first fastest). */
PetscReal      ItGridEntropyOf(const PetscReal m[], PetscInt count, PetscReal cell);
PetscErrorCode ItGridMarginalLayout(ItGrid grid, const PetscBool mask[], PetscInt *size,
                                    PetscReal *cell);

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

/* Option names read here (src/model/option_names.c). */
extern const ItOptionName ItGridOptionNames[];         /* src/grid/grid.c */
extern const ItOptionName ItGridBoundaryOptionNames[]; /* src/grid/boundary.c */
