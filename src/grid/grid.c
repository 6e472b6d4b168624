/* The box [lo, hi] of 1–6 variables cut into n_i cells each, cell-centred
   (x = lo + (i + 1/2) h), distributed over the ranks by a PETSc DMDA with a
   star stencil of width 1 and no periodicity (zero-flux walls). The DMDA
   distributes up to three axes (the largest, or -grid_distribute); the cells
   of the other axes are the degrees of freedom of a grid point, whose
   coupling inside the point (a neighbour along each such axis) and to the
   neighbouring points (the same dof) is given to the matrix preallocation by
   DMDASetBlockFillsSparse. Owns the reductions across ranks. */
#include <infotherm/private/gridimpl.h>
#include <strings.h>

/* The axes the DMDA distributes: the count variables named by
   -grid_distribute (at most three), or, when it is not set, the largest three
   axes (the earlier of equal ones). Frees names[]. */
static PetscErrorCode ItGridChooseDistribution(ItGrid g, ItModel model, PetscBool set,
                                               PetscInt count, char *names[]) {
  const PetscInt d                  = g->info.dim;
  PetscBool      chosen[IT_MAX_DIM] = {PETSC_FALSE};

  PetscFunctionBegin;
  if (set) {
    PetscCheck(count >= 1 && count <= PetscMin(3, d), g->info.comm, PETSC_ERR_USER_INPUT,
               "-grid_distribute names %" PetscInt_FMT " variables; give 1 to %" PetscInt_FMT,
               count, PetscMin(3, d));
    for (PetscInt k = 0; k < count; k++) {
      PetscInt a;
      PetscCall(ItModelVariableIndex(model, "-grid_distribute", names[k], &a));
      PetscCheck(!chosen[a], g->info.comm, PETSC_ERR_USER_INPUT, "-grid_distribute names %s twice",
                 names[k]);
      chosen[a] = PETSC_TRUE;
      PetscCall(PetscFree(names[k]));
    }
  } else {
    PetscInt nchosen = 0;
    for (PetscInt a = 0; a < d; a++) /* a periodic axis needs the DMDA's periodic boundary */
      if (g->info.boundary[a] == IT_BOUNDARY_PERIODIC) {
        chosen[a] = PETSC_TRUE;
        nchosen++;
      }
    PetscCheck(nchosen <= 3, g->info.comm, PETSC_ERR_USER_INPUT,
               "-grid_boundary: %" PetscInt_FMT " periodic axes; at most 3 can be periodic",
               nchosen);
    for (PetscInt k = nchosen; k < PetscMin(3, d); k++) { /* the largest axis not chosen yet */
      PetscInt best = -1;
      for (PetscInt a = 0; a < d; a++)
        if (!chosen[a] && (best < 0 || g->info.n[a] > g->info.n[best])) best = a;
      chosen[best] = PETSC_TRUE;
    }
  }
  for (PetscInt a = 0; a < d; a++)
    PetscCheck(chosen[a] || g->info.boundary[a] != IT_BOUNDARY_PERIODIC, g->info.comm,
               PETSC_ERR_USER_INPUT,
               "-grid_distribute leaves out the periodic axis %s: name it (a periodic axis is "
               "one the DMDA distributes)",
               ItModelGetVariableName(model, a));
  g->info.ndist = 0;
  for (PetscInt a = 0; a < d; a++)
    if (chosen[a]) g->info.dist[g->info.ndist++] = a;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* -grid_n, -grid_lo, -grid_hi: one value for every axis, or one per axis;
   defaults from the model. Checks the box and computes the cell sizes; then
   the distributed axes (-grid_distribute, ItGridChooseDistribution). */
/* -fp_order 4's default blend: the cell Péclet number at which a face's flux
   is half fourth-order, half Scharfetter–Gummel (src/fp/fp.c; chosen by
   measurement, doc/physics.md §7). */
#define IT_GRID_PECLET 32.0
/* ... and the resolution number h^2 / s^2 (s the density's width along the
   axis, src/fp/fp.c ItFacesPencilTheta) at which it is (-fp_resolution). */
#define IT_GRID_RESOLUTION 1.0
/* -fp_weights auto: order 4's face weights in single precision from this
   many variables on, where the matrix-free product streams 32 d bytes of
   weights a cell (against 8 of density) and is memory-bound: 38 % less time
   a product at 32^4 on 2 ranks, the moments of the 4-variable transient
   moved by 5e-8 relative (doc/performance.md, 2026-12-07). In 1-3
   variables the fine grids' errors reach 1e-9 and the weights' rounding
   would show (the 2-D rotating case at 128^2: 1.4e-8 in MI), while their
   products are cheap. */
#define IT_GRID_SINGLE_WEIGHTS_DIM 4
/* ... and a transient's guard from the density's own width: R_v = h^2 / (c v_a) (src/fp/fp.c
   ItFacesGuardedResolution, -fp_guard_width c; doc/numerics.md "The blend's width"). */
#define IT_GRID_GUARD_WIDTH 1.875
/* The option names of the grid's options (ItGridReadBox, -fp_*; the boundaries' are in
   src/grid/boundary.c) (src/model/option_names.c). */
const ItOptionName ItGridOptionNames[] = {{"grid_n", IT_OPTION_INTEGER},
                                          {"grid_lo", 0},
                                          {"grid_hi", 0},
                                          {"grid_distribute", 0},
                                          {"fp_order", IT_OPTION_INTEGER},
                                          {"fp_peclet", 0},
                                          {"fp_resolution", 0},
                                          {"fp_guard_width", 0},
                                          {"fp_fallback", 0},
                                          {"fp_weights", 0},
                                          {NULL, 0}};

static PetscErrorCode ItGridReadBox(ItGrid g, ItModel model) {
  const PetscInt d = g->info.dim;
  /* one more than an axis each, to refuse a list PETSc would cut */
  PetscInt    count[3] = {IT_MAX_DIM + 1, IT_MAX_DIM + 1, IT_MAX_DIM + 1}, n[IT_MAX_DIM + 1];
  PetscReal   lo[IT_MAX_DIM + 1], hi[IT_MAX_DIM + 1];
  PetscReal   cells = 1; /* as a real: three axes of 2^31 cells overflow 64 bits */
  PetscBool   set[3], setdist;
  const char *option[3] = {"-grid_n", "-grid_lo", "-grid_hi"};
  char       *dist[IT_MAX_DIM + 1];
  PetscInt    ndist = IT_MAX_DIM + 1;
  PetscBool   order_set;

  PetscFunctionBegin;
  g->info.order_fp    = 2;
  g->info.peclet      = IT_GRID_PECLET;
  g->info.resolution  = IT_GRID_RESOLUTION;
  g->info.guard_width = IT_GRID_GUARD_WIDTH;
  g->info.fallback    = IT_FALLBACK_BALANCED;
  for (PetscInt i = 0; i < d; i++) PetscCall(ItModelGetDefaultBox(model, i, &n[i], &lo[i], &hi[i]));
  PetscOptionsBegin(g->info.comm, NULL, "Grid options", "ItGrid");
  PetscCall(PetscOptionsIntArray("-grid_n", "cells per axis", NULL, n, &count[0], &set[0]));
  PetscCall(
      PetscOptionsRealArray("-grid_lo", "lower corner of the box", NULL, lo, &count[1], &set[1]));
  PetscCall(
      PetscOptionsRealArray("-grid_hi", "upper corner of the box", NULL, hi, &count[2], &set[2]));
  PetscCall(PetscOptionsStringArray("-grid_distribute",
                                    "the variables the DMDA distributes over the ranks (1 to 3; "
                                    "default: the three largest axes)",
                                    NULL, dist, &ndist, &setdist));
  PetscCall(PetscOptionsInt("-fp_order",
                            "order of the Fokker-Planck operator: 2 (Scharfetter-Gummel) or 4",
                            NULL, g->info.order_fp, &g->info.order_fp, &order_set));
  PetscCall(PetscOptionsReal("-fp_peclet",
                             "-fp_order 4: the cell Peclet number |A| h/D at which a face's flux "
                             "is half fourth-order, half Scharfetter-Gummel",
                             NULL, g->info.peclet, &g->info.peclet, NULL));
  PetscCall(PetscOptionsReal("-fp_resolution",
                             "-fp_order 4: the resolution number h^2/s^2 at which a face's flux is "
                             "half fourth-order, half Scharfetter-Gummel, s the density's width "
                             "along the axis (the stationary law's; transients: no wider than "
                             "the density's own, doc/numerics.md)",
                             NULL, g->info.resolution, &g->info.resolution, NULL));
  PetscCall(PetscOptionsReal("-fp_guard_width",
                             "-fp_order 4, transients: the guard's resolution number from the "
                             "density's own variance v along the axis is h^2/(c v), c this "
                             "(larger: more of the faces fourth order while the density is "
                             "narrow; doc/numerics.md)",
                             NULL, g->info.guard_width, &g->info.guard_width, NULL));
  {
    const char *forms[] = {"face", "cells", "balanced"};
    PetscInt    form    = g->info.fallback;
    PetscCall(PetscOptionsEList(
        "-fp_fallback",
        "-fp_order 4: the Scharfetter-Gummel flux a face falls back to: balanced (the face's "
        "equilibrium ratio, its magnitude mixed with the cells' so the means move as sum A p), "
        "face (its coefficients at the face: a drift of the means where the Peclet number "
        "varies) or cells (at the face's two cells: the means move exactly for a linear drift, "
        "the variances grow more); doc/numerics.md",
        NULL, forms, 3, forms[form], &form, NULL));
    g->info.fallback = form;
  }
  {
    const char *kinds[] = {"auto", "single", "double"};
    PetscInt    kind    = 0;
    PetscCall(PetscOptionsEList(
        "-fp_weights",
        "-fp_order 4: the precision in which the operator's face weights are kept: single (half "
        "the bytes each product streams; mass stays exact, the operator moves by about 1e-7 "
        "relative), double, or auto (single from 4 variables on, where the product is "
        "memory-bound; doc/performance.md)",
        NULL, kinds, 3, kinds[kind], &kind, NULL));
    g->info.single_weights =
        (PetscBool)(kind == 1 || (kind == 0 && d >= IT_GRID_SINGLE_WEIGHTS_DIM));
  }
  PetscOptionsEnd();
  PetscCall(ItOptionsCheckInt(g->info.comm, "-grid_n"));
  if (order_set) PetscCall(ItOptionsCheckInt(g->info.comm, "-fp_order"));
  PetscCheck(g->info.order_fp == 2 || g->info.order_fp == 4, g->info.comm, PETSC_ERR_USER_INPUT,
             "-fp_order %" PetscInt_FMT ": give 2 (Scharfetter-Gummel) or 4 (fourth order)",
             g->info.order_fp);
  PetscCheck(g->info.peclet > 0 && !PetscIsInfOrNanReal(g->info.peclet), g->info.comm,
             PETSC_ERR_USER_INPUT, "-fp_peclet %g: give a positive cell Peclet number",
             (double)g->info.peclet);
  PetscCheck(g->info.resolution > 0 && !PetscIsInfOrNanReal(g->info.resolution), g->info.comm,
             PETSC_ERR_USER_INPUT, "-fp_resolution %g: give a positive resolution number",
             (double)g->info.resolution);
  PetscCheck(g->info.guard_width > 0 && !PetscIsInfOrNanReal(g->info.guard_width), g->info.comm,
             PETSC_ERR_USER_INPUT, "-fp_guard_width %g: give a positive factor (default 1.875)",
             (double)g->info.guard_width);
  g->info.width = g->info.order_fp / 2;
  for (PetscInt k = 0; k < 3; k++)
    PetscCheck(!set[k] || count[k] == 1 || count[k] == d, g->info.comm, PETSC_ERR_USER_INPUT,
               "%s needs 1 or %" PetscInt_FMT " values (one per variable); got %s%" PetscInt_FMT,
               option[k], d, count[k] > IT_MAX_DIM ? "more than " : "",
               PetscMin(count[k], IT_MAX_DIM));
  /* one value stands for every axis */
  for (PetscInt i = 0; i < d; i++) {
    g->info.n[i]  = set[0] && count[0] == 1 ? n[0] : n[i];
    g->info.lo[i] = set[1] && count[1] == 1 ? lo[0] : lo[i];
    g->info.hi[i] = set[2] && count[2] == 1 ? hi[0] : hi[i];
    cells *= (PetscReal)PetscMax(g->info.n[i], 1);
  }
  PetscCheck(cells <= PETSC_MAX_INT, g->info.comm, PETSC_ERR_USER_INPUT,
             "-grid_n: %.4g cells do not fit in PETSc's %d-bit indices (at most %" PetscInt_FMT
             "); use fewer cells, or a PETSc with 64-bit indices (Debian's petsc64-dev)",
             (double)cells, (int)(8 * sizeof(PetscInt)), (PetscInt)PETSC_MAX_INT);
  g->info.cell_volume = 1.0;
  for (PetscInt i = 0; i < d; i++) {
    const char *var = ItModelGetVariableName(model, i);
    PetscCheck(g->info.n[i] >= 8, g->info.comm, PETSC_ERR_USER_INPUT,
               "-grid_n: axis %s has %" PetscInt_FMT " cells; at least 8 are needed", var,
               g->info.n[i]);
    PetscCheck(!PetscIsInfOrNanReal(g->info.lo[i]) && !PetscIsInfOrNanReal(g->info.hi[i]),
               g->info.comm, PETSC_ERR_USER_INPUT,
               "-grid_lo/-grid_hi must be finite numbers (axis %s)", var);
    PetscCheck(g->info.lo[i] < g->info.hi[i], g->info.comm, PETSC_ERR_USER_INPUT,
               "-grid_lo/-grid_hi: axis %s has lo = %g >= hi = %g", var, (double)g->info.lo[i],
               (double)g->info.hi[i]);
    g->info.h[i] = (g->info.hi[i] - g->info.lo[i]) / g->info.n[i];
    g->info.cell_volume *= g->info.h[i];
  }
  /* axes beyond dim have one cell */
  for (PetscInt i = d; i < IT_MAX_DIM; i++) {
    g->info.n[i]  = 1;
    g->info.lo[i] = 0;
    g->info.hi[i] = 1;
    g->info.h[i]  = 1;
  }
  PetscCall(ItGridReadBoundary(g, model));
  /* -fp_order 4 takes the reset on a face (src/fp/closure.c): the default box's lower end
     moves down by less than a cell's width per cell between reset and threshold */
  if (g->info.order_fp == 4 && !set[1]) {
    char      value[32] = "";
    PetscBool coarsened;
    /* -error_estimate richardson (or bare, or true) will coarsen this grid by 2 and 4 */
    PetscCall(
        PetscOptionsGetString(NULL, NULL, "-error_estimate", value, sizeof(value), &coarsened));
    static const char *const off[] = {"order", "false", "no", "off", "0"};
    for (size_t k = 0; coarsened && k < sizeof(off) / sizeof(off[0]); k++)
      coarsened = (PetscBool)(strcasecmp(value, off[k]) != 0);
    PetscCall(ItGridPlaceReset(g, coarsened));
  }
  PetscCall(ItGridChooseDistribution(g, model, setdist, ndist, dist));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The storage order (the non-distributed axes, the distributed ones, then
   the axes beyond dim) and the number of cells per grid point. */
static void ItGridSetOrder(ItGrid g) {
  PetscBool distributed[IT_MAX_DIM] = {PETSC_FALSE};
  PetscInt  k                       = 0;

  for (PetscInt j = 0; j < g->info.ndist; j++) distributed[g->info.dist[j]] = PETSC_TRUE;
  g->info.dof = 1;
  for (PetscInt a = 0; a < g->info.dim; a++)
    if (!distributed[a]) {
      g->info.order[k++] = a;
      g->info.dof *= g->info.n[a];
    }
  for (PetscInt j = 0; j < g->info.ndist; j++) g->info.order[k++] = g->info.dist[j];
  for (PetscInt a = g->info.dim; a < IT_MAX_DIM; a++) g->info.order[k++] = a;
}

/* The coupling of the dofs of a grid point (its cells along the
   non-distributed axes: each with itself and its neighbours along those
   axes) and to the neighbouring points (each dof with the same dof), in
   DMDASetBlockFillsSparse's compressed rows. */
static PetscErrorCode ItGridSetBlockFills(ItGrid g, DM da) {
  const PetscInt nnd = g->info.dim - g->info.ndist, dof = g->info.dof;
  PetscInt      *dfill, *ofill, k;

  PetscFunctionBegin;
  PetscCall(PetscMalloc2(dof + 1 + dof * (1 + 2 * nnd), &dfill, 2 * dof + 1, &ofill));
  k = dof + 1;
  for (PetscInt i = 0; i < dof; i++) {
    PetscInt c[IT_MAX_DIM], rest = i, stride = 1;
    dfill[i] = k;
    for (PetscInt j = 0; j < nnd; j++) {
      c[j] = rest % g->info.n[g->info.order[j]];
      rest /= g->info.n[g->info.order[j]];
    }
    for (PetscInt j = 0; j < nnd; j++) { /* the neighbour below along axis order[j] */
      if (c[j] > 0) dfill[k++] = i - stride;
      stride *= g->info.n[g->info.order[j]];
    }
    dfill[k++] = i;
    stride     = 1;
    for (PetscInt j = 0; j < nnd; j++) { /* and above */
      if (c[j] < g->info.n[g->info.order[j]] - 1) dfill[k++] = i + stride;
      stride *= g->info.n[g->info.order[j]];
    }
    PetscCall(PetscSortInt(k - dfill[i], &dfill[dfill[i]]));
    ofill[i]           = dof + 1 + i;
    ofill[dof + 1 + i] = i;
  }
  dfill[dof] = k;
  ofill[dof] = 2 * dof + 1;
  PetscCall(DMDASetBlockFillsSparse(da, dfill, ofill));
  PetscCall(PetscFree2(dfill, ofill));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Sets the coarse DMDA's ranks per distributed axis to the fine one's, and its
   ownership ranges to the fine ranges over factor when every one divides (then
   grid transfers stay on the rank). */
static PetscErrorCode ItGridAlignCoarse(ItGrid g, ItGrid fine, PetscInt factor) {
  const PetscInt *range[3] = {NULL, NULL, NULL};
  PetscInt        m[3] = {1, 1, 1}, *coarse[3] = {NULL, NULL, NULL};
  PetscBool       divides = PETSC_TRUE;

  PetscFunctionBegin;
  PetscCall(DMDAGetInfo(fine->info.da, NULL, NULL, NULL, NULL, &m[0], &m[1], &m[2], NULL, NULL,
                        NULL, NULL, NULL, NULL));
  PetscCall(DMDAGetOwnershipRanges(fine->info.da, &range[0], &range[1], &range[2]));
  for (PetscInt j = 0; j < g->info.ndist; j++)
    for (PetscInt r = 0; r < m[j]; r++) divides = (PetscBool)(divides && range[j][r] % factor == 0);
  PetscCall(DMDASetNumProcs(g->info.da, m[0], g->info.ndist > 1 ? m[1] : PETSC_DECIDE,
                            g->info.ndist > 2 ? m[2] : PETSC_DECIDE));
  if (!divides) PetscFunctionReturn(PETSC_SUCCESS);
  for (PetscInt j = 0; j < g->info.ndist; j++) {
    PetscCall(PetscMalloc1(m[j], &coarse[j]));
    for (PetscInt r = 0; r < m[j]; r++) coarse[j][r] = range[j][r] / factor;
  }
  PetscCall(DMDASetOwnershipRanges(g->info.da, coarse[0], coarse[1], coarse[2]));
  for (PetscInt j = 0; j < g->info.ndist; j++) PetscCall(PetscFree(coarse[j]));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* With a stencil of width 2 (the fourth-order operator, applied matrix-free,
   ghosts two cells), the assembled matrices (the Scharfetter–Gummel
   preconditioner and its levels) keep the width-1 pattern: they come from a
   DMDA of width 1 with the same ranks and ownership, hence the same global
   numbering (ItFPCreateMatrix maps the wide DMDA's local numbering onto it). */
static PetscErrorCode ItGridCreateMatrixDA(ItGrid g, const PetscInt n[]) {
  const PetscInt *range[3] = {NULL, NULL, NULL};
  PetscInt        m[3]     = {1, 1, 1};

  PetscFunctionBegin;
  PetscCall(DMDAGetInfo(g->info.da, NULL, NULL, NULL, NULL, &m[0], &m[1], &m[2], NULL, NULL, NULL,
                        NULL, NULL, NULL));
  PetscCall(DMDAGetOwnershipRanges(g->info.da, &range[0], &range[1], &range[2]));
  PetscCall(DMDACreate(g->info.comm, &g->da_matrix));
  PetscCall(DMSetDimension(g->da_matrix, g->info.ndist));
  PetscCall(DMDASetSizes(g->da_matrix, n[0], n[1], n[2]));
  PetscCall(DMDASetNumProcs(g->da_matrix, m[0], m[1], m[2]));
  PetscCall(DMDASetOwnershipRanges(g->da_matrix, range[0], range[1], range[2]));
  {
    DMBoundaryType bt[3]; /* a periodic axis' matrix wraps as its operator does */
    PetscCall(DMDAGetInfo(g->info.da, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, &bt[0],
                          &bt[1], &bt[2], NULL));
    PetscCall(DMDASetBoundaryType(g->da_matrix, bt[0], bt[1], bt[2]));
  }
  PetscCall(DMDASetDof(g->da_matrix, g->info.dof));
  PetscCall(DMDASetStencilType(g->da_matrix, DMDA_STENCIL_STAR));
  PetscCall(DMDASetStencilWidth(g->da_matrix, 1));
  PetscCall(DMSetUp(g->da_matrix));
  if (g->info.dof > 1) PetscCall(ItGridSetBlockFills(g, g->da_matrix));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The DMDA over the distributed axes with the other axes' cells as its dof,
   and this rank's owned and ghosted corners. A coarse grid (fine != NULL)
   keeps the fine grid's ranks along each distributed axis and, where the fine
   ranges divide by the factor, owns the parents of each rank's fine cells.
   The DMDA gets no coordinates: nothing reads them (ItGridCoordinate gives a
   cell's centre, the outputs write their own axes), and DMDA coordinates are
   a vector of d doubles per point with a DMDA and scatter of their own on
   every multigrid level (37 B per unknown of a 1024^2 solve, measured
   2026-12-06). */
static PetscErrorCode ItGridCreateDA(ItGrid g, ItGrid fine, PetscInt factor) {
  PetscInt       n[3] = {1, 1, 1}, xs[3] = {0}, xm[3] = {1, 1, 1}, gxs[3] = {0}, gxm[3] = {1, 1, 1};
  DMBoundaryType bt[3] = {DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE};
  PetscInt       start = 0;
  PetscMPIInt    rank;

  PetscFunctionBegin;
  ItGridSetOrder(g);
  for (PetscInt j = 0; j < g->info.ndist; j++) {
    const PetscInt a = g->info.dist[j];
    n[j]             = g->info.n[a];
    if (g->info.boundary[a] == IT_BOUNDARY_PERIODIC) bt[j] = DM_BOUNDARY_PERIODIC;
  }
  PetscCall(DMDACreate(g->info.comm, &g->info.da));
  PetscCall(DMSetDimension(g->info.da, g->info.ndist));
  PetscCall(DMDASetSizes(g->info.da, n[0], n[1], n[2]));
  if (fine) PetscCall(ItGridAlignCoarse(g, fine, factor));
  PetscCall(DMDASetBoundaryType(g->info.da, bt[0], bt[1], bt[2]));
  PetscCall(DMDASetDof(g->info.da, g->info.dof));
  PetscCall(DMDASetStencilType(g->info.da, DMDA_STENCIL_STAR));
  PetscCall(DMDASetStencilWidth(g->info.da, g->info.width));
  PetscCall(DMSetFromOptions(g->info.da));
  PetscCall(DMSetUp(g->info.da));
  if (g->info.dof == 1)
    PetscCall(DMDASetFieldName(g->info.da, 0, "density"));
  else
    PetscCall(ItGridSetBlockFills(g, g->info.da));
  if (g->info.width > 1) PetscCall(ItGridCreateMatrixDA(g, n));
  PetscCall(DMDAGetCorners(g->info.da, &xs[0], &xs[1], &xs[2], &xm[0], &xm[1], &xm[2]));
  PetscCall(DMDAGetGhostCorners(g->info.da, &gxs[0], &gxs[1], &gxs[2], &gxm[0], &gxm[1], &gxm[2]));
  for (PetscInt a = 0; a < IT_MAX_DIM; a++) { /* the non-distributed axes: whole */
    g->info.xs[a] = g->info.gxs[a] = 0;
    g->info.xm[a] = g->info.gxm[a] = g->info.n[a];
  }
  for (PetscInt j = 0; j < g->info.ndist; j++) {
    const PetscInt a = g->info.dist[j];
    g->info.xs[a]    = xs[j];
    g->info.xm[a]    = xm[j];
    g->info.gxs[a]   = gxs[j];
    g->info.gxm[a]   = gxm[j];
  }
  g->info.nlocal = 1;
  for (PetscInt a = 0; a < IT_MAX_DIM; a++) g->info.nlocal *= g->info.xm[a];
  g->info.rstart = 0; /* MPI_Exscan leaves the first rank's result undefined */
  PetscCallMPI(MPI_Comm_rank(g->info.comm, &rank));
  PetscCallMPI(MPI_Exscan(&g->info.nlocal, &start, 1, MPIU_INT, MPI_SUM, g->info.comm));
  if (rank > 0) g->info.rstart = start;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The same box cut into n_i / factor cells per axis, for multigrid levels and
   the error estimates of doc/physics.md §5 (the coarse cells are unions of
   factor^d fine cells). Every axis must divide by factor. Collective. */
/* The fewest cells per axis of a grid coarsened for -error_estimate: on 2 or
   3 cells its solves fail or mean nothing. The multigrid's levels may go down
   to 2. */
#define IT_GRID_MIN_COARSE 4

/* Refuses a grid that -error_estimate cannot coarsen by factor: every axis
   divisible, IT_GRID_MIN_COARSE cells per axis left. Collective. */
PetscErrorCode ItGridCheckEstimateCoarsening(ItGrid fine, PetscInt factor) {
  PetscFunctionBegin;
  for (PetscInt i = 0; i < fine->info.dim; i++)
    PetscCheck(fine->info.n[i] % factor == 0 && fine->info.n[i] / factor >= IT_GRID_MIN_COARSE,
               fine->info.comm, PETSC_ERR_USER_INPUT,
               "-grid_n: axis %" PetscInt_FMT " has %" PetscInt_FMT
               " cells, which a grid coarsened by %" PetscInt_FMT
               " cannot hold; use a multiple of %" PetscInt_FMT " of at least %" PetscInt_FMT
               " (-error_estimate needs %d cells per axis on its coarsest grid)",
               i, fine->info.n[i], factor, factor, IT_GRID_MIN_COARSE * factor, IT_GRID_MIN_COARSE);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode ItGridCreateCoarse(ItGrid fine, PetscInt factor, ItGrid *coarse) {
  PetscFunctionBegin;
  PetscCall(ItGridCreateCoarseOrder(fine, factor, fine->info.order_fp, coarse));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ItGridCreateCoarse with the operator's order (-fp_order) given: 2 or 4;
   factor 1 and another order is the same grid for the other operator, owned
   as the fine one is (-error_estimate order, doc/physics.md §5). Collective. */
PetscErrorCode ItGridCreateCoarseOrder(ItGrid fine, PetscInt factor, PetscInt order,
                                       ItGrid *coarse) {
  ItGrid g;

  PetscFunctionBegin;
  PetscCheck(factor >= 1, fine->info.comm, PETSC_ERR_ARG_OUTOFRANGE,
             "coarsening factor %" PetscInt_FMT, factor);
  for (PetscInt i = 0; i < fine->info.dim; i++)
    PetscCheck(fine->info.n[i] % factor == 0 && fine->info.n[i] / factor >= 2, fine->info.comm,
               PETSC_ERR_USER_INPUT,
               "-grid_n: axis %" PetscInt_FMT " has %" PetscInt_FMT
               " cells, which a grid coarsened by %" PetscInt_FMT
               " cannot hold; use a multiple of %" PetscInt_FMT,
               i, fine->info.n[i], factor, 2 * factor);
  PetscCall(PetscNew(&g));
  g->info.comm             = fine->info.comm;
  g->info.dim              = fine->info.dim;
  g->info.ndist            = fine->info.ndist;
  g->info.order_fp         = order;
  g->info.peclet           = fine->info.peclet;
  g->info.resolution       = fine->info.resolution;
  g->info.fallback         = fine->info.fallback;
  g->info.width            = order / 2;
  g->info.stationary_width = fine->info.stationary_width;
  for (PetscInt j = 0; j < fine->info.ndist; j++) g->info.dist[j] = fine->info.dist[j];
  PetscCall(ItGridCopyBoundary(fine, g));
  g->info.cell_volume = 1.0;
  for (PetscInt i = 0; i < IT_MAX_DIM; i++) {
    g->info.n[i]  = i < g->info.dim ? fine->info.n[i] / factor : 1;
    g->info.lo[i] = fine->info.lo[i];
    g->info.hi[i] = fine->info.hi[i];
    g->info.h[i]  = i < g->info.dim ? (g->info.hi[i] - g->info.lo[i]) / g->info.n[i] : 1;
    if (i < g->info.dim) g->info.cell_volume *= g->info.h[i];
  }
  PetscCall(ItGridCreateDA(g, fine, factor));
  *coarse = g;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Reads the box (ItGridReadBox) and builds the DMDA. Collective. */
PetscErrorCode ItGridCreate(ItModel model, ItGrid *grid) {
  PetscFunctionBegin;
  PetscCall(ItGridCreateBox(model, grid));
  PetscCall(ItGridSetUp(*grid));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The first half of ItGridCreate: the box and its cells, read and checked,
   without the DMDA (nothing of the grid's size is allocated yet: the caller
   can check what the grid will cost first). Collective. */
PetscErrorCode ItGridCreateBox(ItModel model, ItGrid *grid) {
  ItGrid g;

  PetscFunctionBegin;
  PetscCall(PetscNew(&g));
  g->info.comm = ItModelGetComm(model);
  g->info.dim  = ItModelGetDimension(model);
  PetscCall(ItGridReadBox(g, model));
  *grid = g;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Whether the fourth-order blend's resolution number measures the cells
   against the width of the stationary law (what a driven variable inherits
   from its driver included, src/fp/fp.c ItFacesPencilTheta): the stationary
   command's; a transient's density may be narrower (its initial one), so
   the time stepper keeps the drift's own width. Before any faces are
   created on the grid. Not collective. */
PetscErrorCode ItGridSetStationaryWidth(ItGrid grid, PetscBool stationary) {
  PetscFunctionBegin;
  grid->info.stationary_width = stationary;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The second half: the DMDA over the box. Collective. */
PetscErrorCode ItGridSetUp(ItGrid grid) {
  PetscFunctionBegin;
  PetscCall(ItGridCreateDA(grid, NULL, 1));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode ItGridView(ItGrid grid, PetscViewer viewer) {
  PetscMPIInt size;
  PetscInt    mda[3] = {1, 1, 1}, m[IT_MAX_DIM];

  PetscFunctionBegin;
  PetscCallMPI(MPI_Comm_size(grid->info.comm, &size));
  PetscCall(DMDAGetInfo(grid->info.da, NULL, NULL, NULL, NULL, &mda[0], &mda[1], &mda[2], NULL,
                        NULL, NULL, NULL, NULL, NULL));
  for (PetscInt i = 0; i < IT_MAX_DIM; i++) m[i] = 1; /* a non-distributed axis: one part */
  for (PetscInt j = 0; j < grid->info.ndist; j++) m[grid->info.dist[j]] = mda[j];
  for (PetscInt i = 0; i < grid->info.dim; i++)
    PetscCall(PetscViewerASCIIPrintf(viewer,
                                     "grid axis %" PetscInt_FMT ": %" PetscInt_FMT
                                     " cells on [%g, %g], h = %g, split over %" PetscInt_FMT
                                     " rank(s)\n",
                                     i, grid->info.n[i], (double)grid->info.lo[i],
                                     (double)grid->info.hi[i], (double)grid->info.h[i], m[i]));
  if (grid->info.dof > 1) {
    PetscCall(PetscViewerASCIIPrintf(viewer, "distributed axes (-grid_distribute):"));
    PetscCall(PetscViewerASCIIUseTabs(viewer, PETSC_FALSE));
    for (PetscInt j = 0; j < grid->info.ndist; j++)
      PetscCall(PetscViewerASCIIPrintf(viewer, " %" PetscInt_FMT, grid->info.dist[j]));
    PetscCall(PetscViewerASCIIPrintf(
        viewer, "; the others' %" PetscInt_FMT " cells per grid point are its dof\n",
        grid->info.dof));
    PetscCall(PetscViewerASCIIUseTabs(viewer, PETSC_TRUE));
  }
  PetscCall(
      PetscViewerASCIIPrintf(viewer, "decomposition: %d rank(s); this rank owns cells", size));
  PetscCall(PetscViewerASCIIUseTabs(viewer, PETSC_FALSE));
  for (PetscInt i = 0; i < grid->info.dim; i++)
    PetscCall(PetscViewerASCIIPrintf(viewer, " [%" PetscInt_FMT ",%" PetscInt_FMT ")",
                                     grid->info.xs[i], grid->info.xs[i] + grid->info.xm[i]));
  PetscCall(PetscViewerASCIIPrintf(viewer, "\n"));
  PetscCall(PetscViewerASCIIUseTabs(viewer, PETSC_TRUE));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Sums n local values over the ranks in one reduction. Collective. */
PetscErrorCode ItGridSum(ItGrid grid, PetscInt n, const PetscReal local[], PetscReal global[]) {
  PetscMPIInt count;

  PetscFunctionBegin;
  PetscCall(PetscMPIIntCast(n, &count));
  PetscCall(MPIU_Allreduce(local, global, count, MPIU_REAL, MPIU_SUM, grid->info.comm));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode ItGridMaxAbs(ItGrid grid, PetscReal local, PetscReal *global) {
  PetscFunctionBegin;
  local = PetscAbsReal(local);
  PetscCall(MPIU_Allreduce(&local, global, 1, MPIU_REAL, MPIU_MAX, grid->info.comm));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode ItGridMin(ItGrid grid, PetscReal local, PetscReal *global) {
  PetscFunctionBegin;
  PetscCall(MPIU_Allreduce(&local, global, 1, MPIU_REAL, MPIU_MIN, grid->info.comm));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The PETSc global index of a cell (any rank's), from the DMDA's ownership
   ranges: the ranks own boxes of the distributed axes, numbered with the
   DMDA's first axis fastest, and each box holds its cells in the storage order
   (ItGridStorageOffset). Needs no application ordering (whose tables hold
   every cell on every rank). Not collective. */
PetscErrorCode ItGridGlobalIndex(ItGrid grid, const PetscInt cell[], PetscInt *index) {
  const PetscInt *range[3] = {NULL, NULL, NULL};
  PetscInt        m[3] = {1, 1, 1}, n[3] = {1, 1, 1}, s[3] = {0, 0, 0}, w[3] = {1, 1, 1};
  PetscInt        start[IT_MAX_DIM], width[IT_MAX_DIM];

  PetscFunctionBegin;
  PetscCall(DMDAGetInfo(grid->info.da, NULL, NULL, NULL, NULL, &m[0], &m[1], &m[2], NULL, NULL,
                        NULL, NULL, NULL, NULL));
  PetscCall(DMDAGetOwnershipRanges(grid->info.da, &range[0], &range[1], &range[2]));
  for (PetscInt a = 0; a < IT_MAX_DIM; a++) { /* the non-distributed axes: whole */
    start[a] = 0;
    width[a] = grid->info.n[a];
  }
  for (PetscInt j = 0; j < grid->info.ndist;
       j++) { /* the owner's box along each distributed axis */
    const PetscInt a = grid->info.dist[j];
    n[j]             = grid->info.n[a];
    for (PetscInt r = 0; r < m[j]; r++) {
      w[j] = range[j][r];
      if (cell[a] < s[j] + w[j]) break;
      s[j] += w[j];
    }
    start[a] = s[j];
    width[a] = w[j];
  }
  /* the ranks before the owner: whole slabs along the third axis, rows along the second, boxes */
  *index = grid->info.dof * (n[0] * n[1] * s[2] + n[0] * s[1] * w[2] + s[0] * w[1] * w[2]) +
           ItGridStorageOffset(grid, start, width, cell);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A scatter of a grid vector p into a sequential vector *all of the whole
   grid in natural order (axis 0 fastest) on every rank. Collective. */
PetscErrorCode ItGridNaturalAllScatter(ItGrid grid, Vec p, Vec *all, VecScatter *scatter) {
  IS        from, owned, to;
  PetscInt *natural;

  PetscFunctionBegin;
  PetscCall(PetscMalloc1(grid->info.nlocal, &natural));
  ItGridForOwned(grid, c, l) natural[l] = ItGridNaturalIndex(grid, c);
  /* every rank receives every cell: the natural index of each global index, in
     global order (the ranks own consecutive ranges, in rank order) */
  PetscCall(
      ISCreateGeneral(grid->info.comm, grid->info.nlocal, natural, PETSC_OWN_POINTER, &owned));
  PetscCall(ISAllGather(owned, &to));
  PetscCall(ISCreateStride(PETSC_COMM_SELF, ItGridCellCount(grid), 0, 1, &from));
  PetscCall(VecCreateSeq(PETSC_COMM_SELF, ItGridCellCount(grid), all));
  PetscCall(VecScatterCreate(p, from, *all, to, scatter));
  PetscCall(ISDestroy(&owned));
  PetscCall(ISDestroy(&from));
  PetscCall(ISDestroy(&to));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode ItGridDestroy(ItGrid *grid) {
  PetscFunctionBegin;
  if (!*grid) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(DMDestroy(&(*grid)->info.da));
  PetscCall(DMDestroy(&(*grid)->da_matrix));
  PetscCall(PetscFree(*grid));
  PetscFunctionReturn(PETSC_SUCCESS);
}
