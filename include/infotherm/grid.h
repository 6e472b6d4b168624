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

/* The Scharfetter-Gummel flux an order-4 face falls back to (-fp_fallback,
   doc/numerics.md "The fallback's form"). */
enum { IT_FALLBACK_FACE, IT_FALLBACK_CELLS, IT_FALLBACK_BALANCED };

/* The grid's read-only view (like PETSc's DMDALocalInfo): its geometry, this
   rank's part and its boundaries. The grid itself is opaque
   (include/infotherm/private/gridimpl.h, for src/grid only); code elsewhere
   reads this view and cannot change the grid. Axes beyond dim: n = xm = gxm
   = 1, xs = gxs = 0. */
typedef struct {
  MPI_Comm  comm;
  DM        da; /* the DMDA: vectors, ghost exchange, matrices of width 1 */
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
  PetscReal resolution;        /* -fp_resolution: the same for h^2 / s^2 */
  PetscReal guard_width;       /* -fp_guard_width: a transient's guard, R_v = h^2/(it v_a) */
  PetscInt  fallback;          /* -fp_fallback: order 4's fallback form, IT_FALLBACK_* */
  PetscBool single_weights;    /* -fp_weights: order 4's weights kept in single precision */
  PetscBool stationary_width;  /* its width the stationary law's (the stationary command) */
  /* boundary kinds per axis (-grid_boundary, doc/physics.md §8); for
     threshold_reset the reset point and the refractory time */
  ItBoundaryKind boundary[IT_MAX_DIM];
  PetscReal      reset[IT_MAX_DIM], refractory[IT_MAX_DIM];
  PetscBool      threshold; /* some axis is threshold_reset */
} ItGridInfo;

/* The grid's view, valid as long as the grid. Not collective; costs nothing
   (the view is the grid's first member, as a PETSc object starts with its
   header), so hot loops may call it. */
static inline const ItGridInfo *ItGridGetInfo(ItGrid grid) {
  return (const ItGridInfo *)grid;
}
/* The width-1 DMDA for the assembled matrices when the stencil is wider, else NULL. */
DM             ItGridGetMatrixDM(ItGrid grid);
PetscErrorCode ItGridCreate(ItModel model, ItGrid *grid);
PetscErrorCode ItGridCreateBox(ItModel model, ItGrid *grid);
PetscErrorCode ItGridSetUp(ItGrid grid);
PetscErrorCode ItGridSetStationaryWidth(ItGrid grid, PetscBool stationary);
PetscErrorCode ItGridCheckEstimateCoarsening(ItGrid fine, PetscInt factor);
PetscErrorCode ItGridCreateCoarse(ItGrid fine, PetscInt factor, ItGrid *coarse);
PetscErrorCode ItGridCreateCoarseOrder(ItGrid fine, PetscInt factor, PetscInt order,
                                       ItGrid *coarse);
PetscErrorCode ItGridView(ItGrid grid, PetscViewer viewer);
/* -grid_boundary, -reset_<var>, -refractory_<var> (src/grid/boundary.c). */
PetscErrorCode ItGridReadBoundary(ItGrid grid, ItModel model);
PetscErrorCode ItGridCopyBoundary(ItGrid fine, ItGrid coarse);
PetscErrorCode ItGridPlaceReset(ItGrid grid, PetscBool coarsened);
const char    *ItGridBoundaryName(ItBoundaryKind kind);
/* The option that sets the refractory time of axis a, for messages: the
   model's own parameter (-lif_tau_ref) when the model names it, else
   -refractory_<var>. */
PetscErrorCode ItGridRefractoryOption(ItModel model, PetscInt a, char option[], size_t len);
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
PetscErrorCode ItMemoryGetLocal(PetscReal local[]);
PetscReal      ItMemoryResident(void);
PetscErrorCode ItMemoryMatrixBytes(Mat A, PetscReal *bytes);

/* A density on fine restricted to the coarser grid coarse of the same box (src/grid/restrict.c). */
PetscErrorCode ItGridRestrict(ItGrid fine, ItGrid coarse, Vec pf, Vec pc);

/* Centre of cell `index` along `axis`. */
static inline PetscReal ItGridCoordinate(ItGrid grid, PetscInt axis, PetscInt index) {
  const ItGridInfo *info = ItGridGetInfo(grid);
  return info->lo[axis] + (index + 0.5) * info->h[axis];
}

/* The first owned cell (c = the owned corner); its offset 0, or nlocal when
   this rank owns none. The owned cells are visited in storage order. */
static inline PetscInt ItGridFirstOwned(ItGrid grid, PetscInt c[]) {
  const ItGridInfo *info = ItGridGetInfo(grid);
  for (PetscInt a = 0; a < IT_MAX_DIM; a++) c[a] = info->xs[a];
  return info->nlocal > 0 ? 0 : info->nlocal;
}

/* The next owned cell in the owned array's (storage) order. */
static inline void ItGridNextOwned(ItGrid grid, PetscInt c[]) {
  const ItGridInfo *info = ItGridGetInfo(grid);
  for (PetscInt k = 0; k < info->dim; k++) {
    const PetscInt a = info->order[k];
    if (++c[a] < info->xs[a] + info->xm[a]) return;
    c[a] = info->xs[a];
  }
}

/* The cell c of offset l in the owned array (the inverse of ItGridOwnedOffset). */
static inline void ItGridOwnedCell(ItGrid grid, PetscInt l, PetscInt c[]) {
  const ItGridInfo *info = ItGridGetInfo(grid);
  for (PetscInt a = 0; a < IT_MAX_DIM; a++) c[a] = info->xs[a];
  for (PetscInt k = 0; k < info->dim; k++) { /* the owned array runs in storage order */
    const PetscInt a = info->order[k];
    c[a]             = info->xs[a] + l % info->xm[a];
    l /= info->xm[a];
  }
}

/* The storage order's strides per axis: gs in a ghosted local array, fs in an
   owned-sized array (the axes before a in storage order have xm cells, or
   faces, each way). */
static inline void ItGridStrides(ItGrid grid, PetscInt gs[], PetscInt fs[]) {
  const ItGridInfo *info = ItGridGetInfo(grid);
  PetscInt          g = 1, h = 1;

  for (PetscInt k = 0; k < info->dim; k++) {
    const PetscInt a = info->order[k];
    gs[a]            = g;
    fs[a]            = h;
    g *= info->gxm[a];
    h *= info->xm[a];
  }
}

/* Visit every owned cell: c[] the global cell index, l the offset in the owned array. */
#define ItGridForOwned(grid, c, l)                                                                 \
  for (PetscInt c[IT_MAX_DIM], l = ItGridFirstOwned(grid, c); l < ItGridGetInfo(grid)->nlocal;     \
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
  const ItGridInfo *info   = ItGridGetInfo(grid);
  PetscInt          offset = 0;

  for (PetscInt k = info->dim - 1; k >= 0; k--) { /* order[dim..] are axes of one cell */
    const PetscInt a = info->order[k];
    offset           = offset * width[a] + (c[a] - start[a]);
  }
  return offset;
}

/* Offset of a cell in a ghosted local array. */
static inline PetscInt ItGridGhostedOffset(ItGrid grid, const PetscInt c[]) {
  const ItGridInfo *info = ItGridGetInfo(grid);
  return ItGridStorageOffset(grid, info->gxs, info->gxm, c);
}

/* Offset of an owned cell in the owned (global vector's local) array. */
static inline PetscInt ItGridOwnedOffset(ItGrid grid, const PetscInt c[]) {
  const ItGridInfo *info = ItGridGetInfo(grid);
  return ItGridStorageOffset(grid, info->xs, info->xm, c);
}

/* Index of a cell in the natural (row-major, axis 0 fastest) order of the whole grid. */
static inline PetscInt ItGridNaturalIndex(ItGrid grid, const PetscInt c[]) {
  const PetscInt zero[IT_MAX_DIM] = {0};

  return ItGridBoxOffset(zero, ItGridGetInfo(grid)->n, c);
}

/* Number of cells of the whole grid. */
static inline PetscInt ItGridCellCount(ItGrid grid) {
  const ItGridInfo *info  = ItGridGetInfo(grid);
  PetscInt          count = 1;

  for (PetscInt a = 0; a < info->dim; a++) count *= info->n[a];
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
  const ItGridInfo *info = ItGridGetInfo(grid);
  for (PetscInt i = 0; i < IT_MAX_DIM; i++) {
    c[i] = index % info->n[i];
    index /= info->n[i];
  }
}

/* Index of cell c in the marginal over the axes in mask (0 for an empty mask). */
static inline PetscInt ItGridMarginalIndex(ItGrid grid, const PetscBool mask[],
                                           const PetscInt c[]) {
  const ItGridInfo *info  = ItGridGetInfo(grid);
  PetscInt          index = 0, stride = 1;

  for (PetscInt i = 0; i < info->dim; i++)
    if (mask[i]) {
      index += c[i] * stride;
      stride *= info->n[i];
    }
  return index;
}

/* Option names read here (src/model/option_names.c). */
extern const ItOptionName ItGridOptionNames[];         /* src/grid/grid.c */
extern const ItOptionName ItGridBoundaryOptionNames[]; /* src/grid/boundary.c */
