/* The box [lo, hi] of 1–3 variables cut into n_i cells each, cell-centred
   (x = lo + (i + 1/2) h), distributed over the ranks by a PETSc DMDA with a
   star stencil of width 1 and no periodicity (zero-flux walls). Owns the
   reductions across ranks. */
#include <infotherm/grid.h>

/* -grid_n, -grid_lo, -grid_hi: one value for every axis, or one per axis;
   defaults from the model. Checks the box and computes the cell sizes. */
static PetscErrorCode ItGridReadBox(ItGrid g, ItModel model) {
  const PetscInt d = g->dim;
  /* one more than an axis each, to refuse a list PETSc would cut */
  PetscInt    count[3] = {IT_MAX_DIM + 1, IT_MAX_DIM + 1, IT_MAX_DIM + 1}, n[IT_MAX_DIM + 1];
  PetscReal   lo[IT_MAX_DIM + 1], hi[IT_MAX_DIM + 1];
  PetscReal   cells = 1; /* as a real: three axes of 2^31 cells overflow 64 bits */
  PetscBool   set[3];
  const char *option[3] = {"-grid_n", "-grid_lo", "-grid_hi"};

  PetscFunctionBegin;
  for (PetscInt i = 0; i < d; i++) PetscCall(ItModelGetDefaultBox(model, i, &n[i], &lo[i], &hi[i]));
  PetscOptionsBegin(g->comm, NULL, "Grid options", "ItGrid");
  PetscCall(PetscOptionsIntArray("-grid_n", "cells per axis", NULL, n, &count[0], &set[0]));
  PetscCall(
      PetscOptionsRealArray("-grid_lo", "lower corner of the box", NULL, lo, &count[1], &set[1]));
  PetscCall(
      PetscOptionsRealArray("-grid_hi", "upper corner of the box", NULL, hi, &count[2], &set[2]));
  PetscOptionsEnd();
  PetscCall(ItOptionsCheckInt(g->comm, "-grid_n"));
  for (PetscInt k = 0; k < 3; k++)
    PetscCheck(!set[k] || count[k] == 1 || count[k] == d, g->comm, PETSC_ERR_USER_INPUT,
               "%s needs 1 or %" PetscInt_FMT " values (one per variable); got %s%" PetscInt_FMT,
               option[k], d, count[k] > IT_MAX_DIM ? "more than " : "",
               PetscMin(count[k], IT_MAX_DIM));
  /* one value stands for every axis */
  for (PetscInt i = 0; i < d; i++) {
    g->n[i]  = set[0] && count[0] == 1 ? n[0] : n[i];
    g->lo[i] = set[1] && count[1] == 1 ? lo[0] : lo[i];
    g->hi[i] = set[2] && count[2] == 1 ? hi[0] : hi[i];
    cells *= (PetscReal)PetscMax(g->n[i], 1);
  }
  PetscCheck(cells <= PETSC_MAX_INT, g->comm, PETSC_ERR_USER_INPUT,
             "-grid_n: %.4g cells do not fit in PETSc's %d-bit indices (at most %" PetscInt_FMT
             "); use fewer cells, or a PETSc with 64-bit indices (Debian's petsc64-dev)",
             (double)cells, (int)(8 * sizeof(PetscInt)), (PetscInt)PETSC_MAX_INT);
  g->cell_volume = 1.0;
  for (PetscInt i = 0; i < d; i++) {
    const char *var = ItModelGetVariableName(model, i);
    PetscCheck(g->n[i] >= 8, g->comm, PETSC_ERR_USER_INPUT,
               "-grid_n: axis %s has %" PetscInt_FMT " cells; at least 8 are needed", var, g->n[i]);
    PetscCheck(!PetscIsInfOrNanReal(g->lo[i]) && !PetscIsInfOrNanReal(g->hi[i]), g->comm,
               PETSC_ERR_USER_INPUT, "-grid_lo/-grid_hi must be finite numbers (axis %s)", var);
    PetscCheck(g->lo[i] < g->hi[i], g->comm, PETSC_ERR_USER_INPUT,
               "-grid_lo/-grid_hi: axis %s has lo = %g >= hi = %g", var, (double)g->lo[i],
               (double)g->hi[i]);
    g->h[i] = (g->hi[i] - g->lo[i]) / g->n[i];
    g->cell_volume *= g->h[i];
  }
  /* axes beyond dim have one cell, so the DMDA's three axes are always set */
  for (PetscInt i = d; i < IT_MAX_DIM; i++) {
    g->n[i]  = 1;
    g->lo[i] = 0;
    g->hi[i] = 1;
    g->h[i]  = 1;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Sets the coarse DMDA's ranks per axis to the fine one's, and its ownership
   ranges to the fine ranges over factor when every one divides. */
static PetscErrorCode ItGridAlignCoarse(ItGrid g, ItGrid fine, PetscInt factor) {
  const PetscInt *range[IT_MAX_DIM] = {NULL, NULL, NULL};
  PetscInt        m[IT_MAX_DIM] = {1, 1, 1}, *coarse[IT_MAX_DIM] = {NULL, NULL, NULL};
  PetscBool       divides = PETSC_TRUE;

  PetscFunctionBegin;
  PetscCall(DMDAGetInfo(fine->da, NULL, NULL, NULL, NULL, &m[0], &m[1], &m[2], NULL, NULL, NULL,
                        NULL, NULL, NULL));
  PetscCall(DMDAGetOwnershipRanges(fine->da, &range[0], &range[1], &range[2]));
  for (PetscInt a = 0; a < g->dim; a++)
    for (PetscInt r = 0; r < m[a]; r++) divides = (PetscBool)(divides && range[a][r] % factor == 0);
  PetscCall(DMDASetNumProcs(g->da, m[0], g->dim > 1 ? m[1] : PETSC_DECIDE,
                            g->dim > 2 ? m[2] : PETSC_DECIDE));
  if (!divides) PetscFunctionReturn(PETSC_SUCCESS);
  for (PetscInt a = 0; a < g->dim; a++) {
    PetscCall(PetscMalloc1(m[a], &coarse[a]));
    for (PetscInt r = 0; r < m[a]; r++) coarse[a][r] = range[a][r] / factor;
  }
  PetscCall(DMDASetOwnershipRanges(g->da, coarse[0], coarse[1], coarse[2]));
  for (PetscInt a = 0; a < g->dim; a++) PetscCall(PetscFree(coarse[a]));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The DMDA over the box, and this rank's owned and ghosted corners. A coarse
   grid (fine != NULL) keeps the fine grid's ranks along each axis, and owns
   the parents of each rank's fine cells where the fine ranges divide by the
   factor (then grid transfers stay on the rank). */
static PetscErrorCode ItGridCreateDA(ItGrid g, ItGrid fine, PetscInt factor) {
  PetscFunctionBegin;
  PetscCall(DMDACreate(g->comm, &g->da));
  PetscCall(DMSetDimension(g->da, g->dim));
  PetscCall(DMDASetSizes(g->da, g->n[0], g->n[1], g->n[2]));
  if (fine) PetscCall(ItGridAlignCoarse(g, fine, factor));
  PetscCall(DMDASetBoundaryType(g->da, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE));
  PetscCall(DMDASetDof(g->da, 1));
  PetscCall(DMDASetStencilType(g->da, DMDA_STENCIL_STAR));
  PetscCall(DMDASetStencilWidth(g->da, 1));
  PetscCall(DMSetFromOptions(g->da));
  PetscCall(DMSetUp(g->da));
  PetscCall(DMDASetFieldName(g->da, 0, "density"));
  PetscCall(DMDASetUniformCoordinates(g->da, g->lo[0] + 0.5 * g->h[0], g->hi[0] - 0.5 * g->h[0],
                                      g->lo[1] + 0.5 * g->h[1], g->hi[1] - 0.5 * g->h[1],
                                      g->lo[2] + 0.5 * g->h[2], g->hi[2] - 0.5 * g->h[2]));
  PetscCall(
      DMDAGetCorners(g->da, &g->xs[0], &g->xs[1], &g->xs[2], &g->xm[0], &g->xm[1], &g->xm[2]));
  PetscCall(DMDAGetGhostCorners(g->da, &g->gxs[0], &g->gxs[1], &g->gxs[2], &g->gxm[0], &g->gxm[1],
                                &g->gxm[2]));
  g->nlocal = 1;
  for (PetscInt i = 0; i < IT_MAX_DIM; i++) {
    if (i >= g->dim) {
      g->xs[i] = g->gxs[i] = 0;
      g->xm[i] = g->gxm[i] = 1;
    }
    g->nlocal *= g->xm[i];
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The same box cut into n_i / factor cells per axis, for multigrid levels and
   the error estimates of PHYSICS.md §5 (the coarse cells are unions of
   factor^d fine cells). Every axis must divide by factor. Collective. */
PetscErrorCode ItGridCreateCoarse(ItGrid fine, PetscInt factor, ItGrid *coarse) {
  ItGrid g;

  PetscFunctionBegin;
  PetscCheck(factor >= 1, fine->comm, PETSC_ERR_ARG_OUTOFRANGE, "coarsening factor %" PetscInt_FMT,
             factor);
  for (PetscInt i = 0; i < fine->dim; i++)
    PetscCheck(fine->n[i] % factor == 0 && fine->n[i] / factor >= 2, fine->comm,
               PETSC_ERR_USER_INPUT,
               "-grid_n: axis %" PetscInt_FMT " has %" PetscInt_FMT
               " cells, which a grid coarsened by %" PetscInt_FMT
               " cannot hold; use a multiple of %" PetscInt_FMT,
               i, fine->n[i], factor, 2 * factor);
  PetscCall(PetscNew(&g));
  g->comm        = fine->comm;
  g->dim         = fine->dim;
  g->cell_volume = 1.0;
  for (PetscInt i = 0; i < IT_MAX_DIM; i++) {
    g->n[i]  = i < g->dim ? fine->n[i] / factor : 1;
    g->lo[i] = fine->lo[i];
    g->hi[i] = fine->hi[i];
    g->h[i]  = i < g->dim ? (g->hi[i] - g->lo[i]) / g->n[i] : 1;
    if (i < g->dim) g->cell_volume *= g->h[i];
  }
  PetscCall(ItGridCreateDA(g, fine, factor));
  *coarse = g;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Reads the box (ItGridReadBox) and builds the DMDA. Collective. */
PetscErrorCode ItGridCreate(ItModel model, ItGrid *grid) {
  ItGrid g;

  PetscFunctionBegin;
  PetscCall(PetscNew(&g));
  g->comm = ItModelGetComm(model);
  g->dim  = ItModelGetDimension(model);
  PetscCall(ItGridReadBox(g, model));
  PetscCall(ItGridCreateDA(g, NULL, 1));
  *grid = g;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode ItGridView(ItGrid grid, PetscViewer viewer) {
  PetscMPIInt size;
  PetscInt    m[IT_MAX_DIM] = {1, 1, 1};

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_size(grid->comm, &size));
  PetscCall(DMDAGetInfo(grid->da, NULL, NULL, NULL, NULL, &m[0], &m[1], &m[2], NULL, NULL, NULL,
                        NULL, NULL, NULL));
  for (PetscInt i = 0; i < grid->dim; i++)
    PetscCall(PetscViewerASCIIPrintf(
        viewer,
        "grid axis %" PetscInt_FMT ": %" PetscInt_FMT
        " cells on [%g, %g], h = %g, split over %" PetscInt_FMT " rank(s)\n",
        i, grid->n[i], (double)grid->lo[i], (double)grid->hi[i], (double)grid->h[i], m[i]));
  PetscCall(
      PetscViewerASCIIPrintf(viewer, "decomposition: %d rank(s); this rank owns cells", size));
  PetscCall(PetscViewerASCIIUseTabs(viewer, PETSC_FALSE));
  for (PetscInt i = 0; i < grid->dim; i++)
    PetscCall(PetscViewerASCIIPrintf(viewer, " [%" PetscInt_FMT ",%" PetscInt_FMT ")", grid->xs[i],
                                     grid->xs[i] + grid->xm[i]));
  PetscCall(PetscViewerASCIIPrintf(viewer, "\n"));
  PetscCall(PetscViewerASCIIUseTabs(viewer, PETSC_TRUE));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Sums n local values over the ranks in one reduction. Collective. */
PetscErrorCode ItGridSum(ItGrid grid, PetscInt n, const PetscReal local[], PetscReal global[]) {
  PetscMPIInt count;

  PetscFunctionBegin;
  PetscCall(PetscMPIIntCast(n, &count));
  PetscCall(MPIU_Allreduce(local, global, count, MPIU_REAL, MPIU_SUM, grid->comm));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode ItGridMaxAbs(ItGrid grid, PetscReal local, PetscReal *global) {
  PetscFunctionBegin;
  local = PetscAbsReal(local);
  PetscCall(MPIU_Allreduce(&local, global, 1, MPIU_REAL, MPIU_MAX, grid->comm));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode ItGridMin(ItGrid grid, PetscReal local, PetscReal *global) {
  PetscFunctionBegin;
  PetscCall(MPIU_Allreduce(&local, global, 1, MPIU_REAL, MPIU_MIN, grid->comm));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The PETSc global index of a cell (any rank's), from the DMDA's ownership
   ranges: ranks own boxes, numbered with axis 0 fastest, and each box's cells
   follow one another with axis 0 fastest. Needs no application ordering (whose
   tables hold every cell on every rank). Not collective. */
PetscErrorCode ItGridGlobalIndex(ItGrid grid, const PetscInt cell[], PetscInt *index) {
  const PetscInt *range[IT_MAX_DIM] = {NULL, NULL, NULL};
  PetscInt        m[IT_MAX_DIM] = {1, 1, 1}, start[IT_MAX_DIM], width[IT_MAX_DIM], offset = 0;

  PetscFunctionBegin;
  PetscCall(DMDAGetInfo(grid->da, NULL, NULL, NULL, NULL, &m[0], &m[1], &m[2], NULL, NULL, NULL,
                        NULL, NULL, NULL));
  PetscCall(DMDAGetOwnershipRanges(grid->da, &range[0], &range[1], &range[2]));
  for (PetscInt a = 0; a < IT_MAX_DIM; a++) {
    start[a] = 0;
    width[a] = grid->n[a];
    for (PetscInt r = 0; a < grid->dim && r < m[a]; r++) {
      width[a] = range[a][r];
      if (cell[a] < start[a] + width[a]) break;
      start[a] += width[a];
    }
  }
  /* the ranks before this box: whole slabs along axis 2, rows along 1, boxes along 0 */
  offset = grid->n[0] * grid->n[1] * start[2] + grid->n[0] * start[1] * width[2] +
           start[0] * width[1] * width[2];
  *index = offset + ItGridBoxOffset(start, width, cell);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode ItGridDestroy(ItGrid *grid) {
  PetscFunctionBegin;
  if (!*grid) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(DMDestroy(&(*grid)->da));
  PetscCall(PetscFree(*grid));
  PetscFunctionReturn(PETSC_SUCCESS);
}
