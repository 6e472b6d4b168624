/* The multigrid's prolongation applied matrix-free: the cell-centred
   multilinear interpolation of src/solve/mg.c (weights 3/4 and 1/4 per axis,
   all of the parent next to a wall, wrapping on a periodic axis), as a MatShell whose product and
   transposed product (the restriction) loop over the fine grid's owned cells
   and read or add into the coarse level's ghosted array. It holds no entries:
   an assembled prolongation keeps 2^d of them a fine row (12 bytes each, 64
   bytes per unknown in 2-D, 400 in 5-D); this keeps one ghosted coarse array
   (1/2^d of a fine vector). The ghosts come from a box-stencil copy of the
   coarse DMDA (the grid's own is a star, without the diagonal neighbours
   that a corner of the owned block interpolates from), as wide as the
   fine and coarse ownerships need (1 when the coarse one is the fine one
   halved, ItGridAlignCoarse). Rows and their weights: ItMGProlongRow; every
   row sums to 1. (Piecewise constant, one entry per row instead of 2^d, took
   as many iterations on one rank but more on several: 2-D 512^2 stage solves
   3, 5, 6, 6, 6 on 1, 2, 4, 8, 16 ranks against 3, 5, 5, 5, 5; stationary
   6, 7, 8, 8, 8 against 6, 7, 7, 7, 7.) */
#include <infotherm/solve.h>

typedef struct {
  ItGrid fine, coarse;
  DM     da;    /* the coarse grid's DMDA with a box stencil */
  Vec    local; /* its ghosted work array */
  /* per axis a and owned fine index i (from xs[a]): the offsets in the
     ghosted coarse array of the parent (side 0) and of its neighbour on the
     cell's side (side 1) along a, and their weights (ItMGProlongTables) */
  PetscInt  *offset[IT_MAX_DIM];
  PetscReal *weight[IT_MAX_DIM];
} ItProlong;

/* The rows' factors along each axis: a fine cell takes 3/4 of its parent and
   1/4 of the parent's neighbour on its side (across the seam of a periodic
   axis), or all of its parent next to a wall (weight 0 for the missing neighbour, which points at
   the parent). start, span: the ghosted coarse box; the storage offset is linear in the cell, so an
   axis' share is (cell - start) times its stride. */
static PetscErrorCode ItMGProlongTables(ItProlong *P, const PetscInt start[],
                                        const PetscInt span[]) {
  const ItGrid fine = P->fine, coarse = P->coarse;
  PetscInt     corner[IT_MAX_DIM], o0;

  PetscFunctionBegin;
  for (PetscInt a = 0; a < IT_MAX_DIM; a++) corner[a] = start[a];
  o0 = ItGridStorageOffset(coarse, start, span, corner);
  for (PetscInt a = 0; a < ItGridGetInfo(fine)->dim; a++) {
    PetscInt stride;
    corner[a]++;
    stride = ItGridStorageOffset(coarse, start, span, corner) - o0;
    corner[a]--;
    PetscCall(PetscMalloc2(2 * ItGridGetInfo(fine)->xm[a], &P->offset[a],
                           2 * ItGridGetInfo(fine)->xm[a], &P->weight[a]));
    for (PetscInt i = 0; i < ItGridGetInfo(fine)->xm[a]; i++) {
      const PetscInt c = ItGridGetInfo(fine)->xs[a] + i, parent = c / 2, side = c % 2 ? 1 : -1;
      /* a periodic axis has no end: the neighbour across its seam is a ghost of the
         periodic coarse DMDA (index -1 or n) */
      const PetscBool inside =
          (PetscBool)(ItGridGetInfo(fine)->boundary[a] == IT_BOUNDARY_PERIODIC ||
                      (parent + side >= 0 && parent + side < ItGridGetInfo(coarse)->n[a]));
      P->offset[a][2 * i]     = (parent - start[a]) * stride;
      P->offset[a][2 * i + 1] = (parent + (inside ? side : 0) - start[a]) * stride;
      P->weight[a][2 * i]     = inside ? 0.75 : 1;
      P->weight[a][2 * i + 1] = inside ? 0.25 : 0;
    }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The corners of a row of fine cells along the storage's fastest axis a0
   (the other axes fixed at c): their offsets and weights over the other axes,
   those of weight 0 (a missing neighbour) left out. Returns their number. */
static PetscInt ItMGProlongRowCorners(const ItProlong *P, const PetscInt c[], PetscInt a0,
                                      PetscInt offset[], PetscReal weight[]) {
  const ItGrid   grid = P->fine;
  const PetscInt d    = ItGridGetInfo(grid)->dim;
  PetscInt       n    = 0;

  for (PetscInt k = 0; k < (1 << d); k++) {
    PetscReal w = 1;
    PetscInt  o = 0;
    if (k >> a0 & 1) continue; /* a0's two sides are the row's own */
    for (PetscInt a = 0; a < d; a++) {
      const PetscInt j = 2 * (c[a] - ItGridGetInfo(grid)->xs[a]) + (k >> a & 1);
      if (a == a0) continue;
      w *= P->weight[a][j];
      o += P->offset[a][j];
    }
    if (w == 0) continue;
    offset[n]   = o;
    weight[n++] = w;
  }
  return n;
}

/* y (+)= P x (transpose false: x the ghosted coarse array, y the fine owned
   one) or x += P^T y (transpose: y read, x the ghosted coarse array added
   to), a row of cells along the storage's fastest axis at a time. Not
   collective. */
static void ItMGProlongApply(const ItProlong *P, PetscScalar *coarse, PetscScalar *fine,
                             PetscBool transpose, PetscBool add) {
  const ItGrid     grid = P->fine;
  const PetscInt   a0 = ItGridGetInfo(grid)->order[0], n0 = ItGridGetInfo(grid)->xm[a0];
  const PetscInt  *off0 = P->offset[a0];
  const PetscReal *w0   = P->weight[a0];
  PetscInt         c[IT_MAX_DIM], offset[1 << (IT_MAX_DIM - 1)];
  PetscReal        weight[1 << (IT_MAX_DIM - 1)];

  if (ItGridGetInfo(grid)->nlocal == 0) return;
  (void)ItGridFirstOwned(grid, c);
  for (PetscInt row = 0; row < ItGridGetInfo(grid)->nlocal / n0; row++) {
    const PetscInt nc = ItMGProlongRowCorners(P, c, a0, offset, weight);
    PetscScalar   *f  = fine + row * n0;
    for (PetscInt i = 0; i < n0; i++) {
      const PetscInt  oa = off0[2 * i], ob = off0[2 * i + 1];
      const PetscReal wa = w0[2 * i], wb = w0[2 * i + 1];
      if (transpose) {
        for (PetscInt k = 0; k < nc; k++) {
          coarse[offset[k] + oa] += weight[k] * wa * f[i];
          coarse[offset[k] + ob] += weight[k] * wb * f[i];
        }
      } else {
        PetscScalar sum = 0;
        for (PetscInt k = 0; k < nc; k++)
          sum += weight[k] * (wa * coarse[offset[k] + oa] + wb * coarse[offset[k] + ob]);
        f[i] = add ? f[i] + sum : sum;
      }
    }
    c[a0] = ItGridGetInfo(grid)->xs[a0] + n0 - 1; /* the next row */
    ItGridNextOwned(grid, c);
  }
}

static PetscErrorCode ItMGProlongMultAdd(Mat A, Vec x, Vec z, Vec y) {
  ItProlong   *P;
  PetscScalar *xl, *ya;

  PetscFunctionBegin;
  PetscCall(MatShellGetContext(A, &P));
  if (z && z != y) PetscCall(VecCopy(z, y));
  PetscCall(DMGlobalToLocalBegin(P->da, x, INSERT_VALUES, P->local));
  PetscCall(DMGlobalToLocalEnd(P->da, x, INSERT_VALUES, P->local));
  PetscCall(VecGetArray(P->local, &xl));
  PetscCall(VecGetArray(y, &ya));
  ItMGProlongApply(P, xl, ya, PETSC_FALSE, (PetscBool)(z != NULL));
  PetscCall(VecRestoreArray(y, &ya));
  PetscCall(VecRestoreArray(P->local, &xl));
  PetscCall(
      PetscLogFlops(2.0 * (1 << ItGridGetInfo(P->fine)->dim) * ItGridGetInfo(P->fine)->nlocal));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ItMGProlongMult(Mat A, Vec x, Vec y) {
  PetscFunctionBegin;
  PetscCall(ItMGProlongMultAdd(A, x, NULL, y));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* y = z + P^T x: every fine cell's share added into the ghosted coarse
   array, whose ghosts go to their owners (ADD_VALUES). */
static PetscErrorCode ItMGProlongMultTransposeAdd(Mat A, Vec x, Vec z, Vec y) {
  ItProlong   *P;
  PetscScalar *xa, *yl;

  PetscFunctionBegin;
  PetscCall(MatShellGetContext(A, &P));
  if (!z)
    PetscCall(VecSet(y, 0));
  else if (z != y)
    PetscCall(VecCopy(z, y));
  PetscCall(VecSet(P->local, 0));
  PetscCall(VecGetArray(P->local, &yl));
  PetscCall(VecGetArray(x, &xa));
  ItMGProlongApply(P, yl, xa, PETSC_TRUE, PETSC_TRUE);
  PetscCall(VecRestoreArray(x, &xa));
  PetscCall(VecRestoreArray(P->local, &yl));
  PetscCall(DMLocalToGlobalBegin(P->da, P->local, ADD_VALUES, y));
  PetscCall(DMLocalToGlobalEnd(P->da, P->local, ADD_VALUES, y));
  PetscCall(
      PetscLogFlops(2.0 * (1 << ItGridGetInfo(P->fine)->dim) * ItGridGetInfo(P->fine)->nlocal));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ItMGProlongMultTranspose(Mat A, Vec x, Vec y) {
  PetscFunctionBegin;
  PetscCall(ItMGProlongMultTransposeAdd(A, x, NULL, y));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ItMGProlongDestroy(Mat A) {
  ItProlong *P;

  PetscFunctionBegin;
  PetscCall(MatShellGetContext(A, &P));
  PetscCall(VecDestroy(&P->local));
  PetscCall(DMDestroy(&P->da));
  for (PetscInt a = 0; a < IT_MAX_DIM; a++) PetscCall(PetscFree2(P->offset[a], P->weight[a]));
  PetscCall(PetscFree(P));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The ghost width the fine ownership needs of the coarse one: the parents of
   the owned fine cells and their neighbours, beyond the owned coarse cells
   (the largest over the ranks; at least 1). Collective. */
static PetscErrorCode ItMGProlongWidth(ItGrid fine, ItGrid coarse, PetscInt *width) {
  PetscInt need = 1;

  PetscFunctionBegin;
  for (PetscInt a = 0; a < ItGridGetInfo(fine)->dim; a++) {
    const PetscInt lo = ItGridGetInfo(fine)->xs[a] / 2 - 1,
                   hi = (ItGridGetInfo(fine)->xs[a] + ItGridGetInfo(fine)->xm[a] - 1) / 2 + 1;
    if (ItGridGetInfo(fine)->xm[a] == 0) continue;
    need = PetscMax(need, ItGridGetInfo(coarse)->xs[a] - lo);
    need = PetscMax(need, hi - (ItGridGetInfo(coarse)->xs[a] + ItGridGetInfo(coarse)->xm[a] - 1));
  }
  PetscCall(MPIU_Allreduce(&need, width, 1, MPIU_INT, MPI_MAX, ItGridGetInfo(fine)->comm));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The box-stencil copy of the coarse grid's DMDA: same sizes, ranks,
   ownership, dof and boundaries. Collective. */
static PetscErrorCode ItMGProlongDA(ItGrid coarse, PetscInt width, DM *da) {
  PetscInt        dim, M, N, Pz, m, n, p, dof;
  DMBoundaryType  bx, by, bz;
  const PetscInt *lx, *ly, *lz;

  PetscFunctionBegin;
  PetscCall(DMDAGetInfo(ItGridGetInfo(coarse)->da, &dim, &M, &N, &Pz, &m, &n, &p, &dof, NULL, &bx,
                        &by, &bz, NULL));
  PetscCall(DMDAGetOwnershipRanges(ItGridGetInfo(coarse)->da, &lx, &ly, &lz));
  PetscCall(DMDACreate(ItGridGetInfo(coarse)->comm, da));
  PetscCall(DMSetDimension(*da, dim));
  PetscCall(DMDASetSizes(*da, M, N, Pz));
  PetscCall(DMDASetNumProcs(*da, m, n, p));
  PetscCall(DMDASetOwnershipRanges(*da, lx, ly, lz));
  PetscCall(DMDASetBoundaryType(*da, bx, by, bz));
  PetscCall(DMDASetDof(*da, dof));
  PetscCall(DMDASetStencilType(*da, DMDA_STENCIL_BOX));
  PetscCall(DMDASetStencilWidth(*da, width));
  PetscCall(DMSetUp(*da));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The prolongation from coarse to fine (fine cells halves of coarse ones
   along every axis), applied matrix-free; its transpose is the restriction.
   Collective. */
PetscErrorCode ItMGProlongationCreate(ItGrid fine, ItGrid coarse, Mat *A) {
  ItProlong *P;
  PetscInt   width, gxs[3] = {0}, gxm[3] = {1, 1, 1}, start[IT_MAX_DIM], span[IT_MAX_DIM];

  PetscFunctionBegin;
  PetscCall(PetscNew(&P));
  P->fine   = fine;
  P->coarse = coarse;
  PetscCall(ItMGProlongWidth(fine, coarse, &width));
  PetscCall(ItMGProlongDA(coarse, width, &P->da));
  PetscCall(DMCreateLocalVector(P->da, &P->local));
  /* the ghosted box: the grid's storage order over the box DMDA's ghosted corners */
  PetscCall(DMDAGetGhostCorners(P->da, &gxs[0], &gxs[1], &gxs[2], &gxm[0], &gxm[1], &gxm[2]));
  for (PetscInt a = 0; a < IT_MAX_DIM; a++) {
    start[a] = ItGridGetInfo(coarse)->gxs[a];
    span[a]  = ItGridGetInfo(coarse)->gxm[a];
  }
  for (PetscInt j = 0; j < ItGridGetInfo(coarse)->ndist; j++) {
    start[ItGridGetInfo(coarse)->dist[j]] = gxs[j];
    span[ItGridGetInfo(coarse)->dist[j]]  = gxm[j];
  }
  PetscCall(ItMGProlongTables(P, start, span));
  PetscCall(MatCreateShell(ItGridGetInfo(fine)->comm, ItGridGetInfo(fine)->nlocal,
                           ItGridGetInfo(coarse)->nlocal, PETSC_DETERMINE, PETSC_DETERMINE, P, A));
  PetscCall(MatShellSetOperation(*A, MATOP_MULT, (void (*)(void))ItMGProlongMult));
  PetscCall(MatShellSetOperation(*A, MATOP_MULT_ADD, (void (*)(void))ItMGProlongMultAdd));
  PetscCall(
      MatShellSetOperation(*A, MATOP_MULT_TRANSPOSE, (void (*)(void))ItMGProlongMultTranspose));
  PetscCall(MatShellSetOperation(*A, MATOP_MULT_TRANSPOSE_ADD,
                                 (void (*)(void))ItMGProlongMultTransposeAdd));
  PetscCall(MatShellSetOperation(*A, MATOP_DESTROY, (void (*)(void))ItMGProlongDestroy));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The bytes a prolongation holds on this process (its ghosted coarse array;
   an assembled one: its entries). Not collective. */
PetscErrorCode ItMGProlongationBytes(Mat A, PetscReal *bytes) {
  PetscBool  shell;
  ItProlong *P;
  PetscInt   n;

  PetscFunctionBegin;
  PetscCall(PetscObjectTypeCompare((PetscObject)A, MATSHELL, &shell));
  if (!shell) {
    PetscCall(ItMemoryMatrixBytes(A, bytes));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(MatShellGetContext(A, &P));
  PetscCall(VecGetLocalSize(P->local, &n));
  *bytes = (PetscReal)n * sizeof(PetscScalar);
  PetscFunctionReturn(PETSC_SUCCESS);
}
