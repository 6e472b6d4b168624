/* The boundary kind of each axis (doc/physics.md §8): zero-flux walls (the
   default), periodic (a circle; the DMDA's periodic boundary), or
   threshold_reset (the axis' upper end absorbs, and its current re-enters
   at the reset point after the refractory time). Read from
   -grid_boundary var:kind,..., -reset_<var> and -refractory_<var>, with the
   model's own boundary (a spiking model's threshold, reset and refractory
   parameters) as the default. */
#include <infotherm/private/gridimpl.h>

static const char *const ItBoundaryNames[] = {"wall", "periodic", "threshold_reset"};

const char *ItGridBoundaryName(ItBoundaryKind kind) {
  return ItBoundaryNames[kind];
}

PetscErrorCode ItGridRefractoryOption(ItModel model, PetscInt a, char option[], size_t len) {
  ItBoundaryKind kind;
  PetscBool      own;
  PetscReal      threshold, reset, refractory;
  PetscInt       k = -1;

  PetscFunctionBegin;
  PetscCall(ItModelGetBoundary(model, a, &kind, &own, &threshold, &reset, &refractory));
  if (own) PetscCall(ItModelFindParameter(model, "tau_ref", &k));
  if (k >= 0)
    PetscCall(ItModelGetParameterOption(model, k, option, len));
  else
    PetscCall(PetscSNPrintf(option, len, "-refractory_%s", ItModelGetVariableName(model, a)));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The option names of the boundaries (-reset_<var>, -refractory_<var> of a
   threshold_reset axis) (src/model/option_names.c). */
const ItOptionName ItGridBoundaryOptionNames[] = {
    {"grid_boundary", 0}, {"reset_", 0}, {"refractory_", 0}, {NULL, 0}};

/* -grid_boundary's entries "var:kind". */
static PetscErrorCode ItGridReadBoundaryKinds(ItGrid g, ItModel model) {
  char    *entry[IT_MAX_DIM + 1];
  PetscInt n = IT_MAX_DIM + 1;

  PetscFunctionBegin;
  PetscOptionsBegin(g->info.comm, NULL, "Grid boundaries", "ItGrid");
  PetscCall(PetscOptionsStringArray(
      "-grid_boundary",
      "boundary kind per variable, var:kind with kind wall, periodic or threshold_reset "
      "(doc/physics.md 8; default: the model's, else wall)",
      NULL, entry, &n, NULL));
  PetscOptionsEnd();
  for (PetscInt k = 0; k < n; k++) {
    char    *colon;
    PetscInt a, kind = -1;
    PetscCall(PetscStrchr(entry[k], ':', &colon));
    PetscCheck(colon, g->info.comm, PETSC_ERR_USER_INPUT,
               "-grid_boundary takes var:kind entries (kind: wall, periodic or "
               "threshold_reset); got '%s'",
               entry[k]);
    *colon = 0;
    PetscCall(ItModelVariableIndex(model, "-grid_boundary", entry[k], &a));
    for (PetscInt b = 0; b < 3; b++) {
      PetscBool same;
      PetscCall(PetscStrcmp(colon + 1, ItBoundaryNames[b], &same));
      if (same) kind = b;
    }
    PetscCheck(kind >= 0, g->info.comm, PETSC_ERR_USER_INPUT,
               "-grid_boundary %s:%s: the kind must be wall, periodic or threshold_reset", entry[k],
               colon + 1);
    g->info.boundary[a] = (ItBoundaryKind)kind;
    PetscCall(PetscFree(entry[k]));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The reset point and refractory time of threshold_reset axis a: the model's
   parameters when it names them (the threshold is then its box's upper end),
   else -reset_<var> (required) and -refractory_<var> (default 0). */
static PetscErrorCode ItGridReadReset(ItGrid g, ItModel model, PetscInt a) {
  const char    *var = ItModelGetVariableName(model, a);
  char           reset_opt[IT_NAME_LEN + 8], refr_opt[IT_NAME_LEN + 16];
  ItBoundaryKind kind;
  PetscBool      own, set_reset = PETSC_FALSE, set_refr = PETSC_FALSE;
  PetscReal      threshold = g->info.hi[a], reset = 0, refractory = 0;

  PetscFunctionBegin;
  PetscCall(ItModelGetBoundary(model, a, &kind, &own, &threshold, &reset, &refractory));
  if (own)
    PetscCheck(PetscAbsReal(g->info.hi[a] - threshold) <=
                   1e-12 * PetscMax(1, PetscAbsReal(threshold)),
               g->info.comm, PETSC_ERR_USER_INPUT,
               "-grid_hi %g for %s, but the threshold is %g: the threshold is the box's upper "
               "end; drop -grid_hi or give the two the same value",
               (double)g->info.hi[a], var, (double)threshold);
  PetscCall(PetscSNPrintf(reset_opt, sizeof(reset_opt), "-reset_%s", var));
  PetscCall(PetscSNPrintf(refr_opt, sizeof(refr_opt), "-refractory_%s", var));
  PetscOptionsBegin(g->info.comm, NULL, "Threshold and reset", "ItGrid");
  PetscCall(PetscOptionsReal(reset_opt, "threshold_reset: the reset point of this variable", NULL,
                             reset, &reset, &set_reset));
  PetscCall(PetscOptionsReal(refr_opt, "threshold_reset: the refractory time (0: at once)", NULL,
                             refractory, &refractory, &set_refr));
  PetscOptionsEnd();
  PetscCheck(own || set_reset, g->info.comm, PETSC_ERR_USER_INPUT,
             "-grid_boundary %s:threshold_reset needs the reset point: give %s", var, reset_opt);
  PetscCheck(!own || !set_reset, g->info.comm, PETSC_ERR_USER_INPUT,
             "%s: the model's reset parameter sets it; change that parameter instead", reset_opt);
  PetscCheck(!own || !set_refr, g->info.comm, PETSC_ERR_USER_INPUT,
             "%s: the model's refractory parameter sets it; change that parameter instead",
             refr_opt);
  PetscCheck(refractory >= 0 && !PetscIsInfOrNanReal(refractory), g->info.comm,
             PETSC_ERR_USER_INPUT, "%s %g: give a refractory time >= 0", refr_opt,
             (double)refractory);
  /* the reset cells lie below the last one, whose current they receive */
  PetscCheck(reset > g->info.lo[a] && reset <= ItGridCoordinate(g, a, g->info.n[a] - 2),
             g->info.comm, PETSC_ERR_USER_INPUT,
             "the reset point %g of %s must lie inside the box, below the centre %g of the "
             "next-to-last cell (threshold %g): change %s or -grid_n",
             (double)reset, var, (double)ItGridCoordinate(g, a, g->info.n[a] - 2),
             (double)g->info.hi[a], own ? "the model's reset" : reset_opt);
  g->info.reset[a]      = reset;
  g->info.refractory[a] = refractory;
  g->info.threshold     = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Every axis' boundary kind, and the reset of the threshold_reset ones. Collective. */
PetscErrorCode ItGridReadBoundary(ItGrid g, ItModel model) {
  PetscFunctionBegin;
  g->info.threshold = PETSC_FALSE;
  for (PetscInt a = 0; a < g->info.dim; a++) {
    ItBoundaryKind kind;
    PetscBool      own;
    PetscReal      th, r, ref;
    PetscCall(ItModelGetBoundary(model, a, &kind, &own, &th, &r, &ref));
    g->info.boundary[a] = kind;
  }
  PetscCall(ItGridReadBoundaryKinds(g, model));
  for (PetscInt a = 0; a < g->info.dim; a++)
    if (g->info.boundary[a] == IT_BOUNDARY_THRESHOLD_RESET) PetscCall(ItGridReadReset(g, model, a));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Moves the lower end of each threshold_reset axis down so that the reset
   point lies on a face: k cells between reset and threshold, the largest
   integer not above n (hi - reset)/(hi - lo) -- with coarsened (the grids 2
   and 4 times coarser of -error_estimate richardson will be made), the
   largest multiple of 4, so that the reset lies on their faces too --,
   h = (hi - reset)/k, lo = hi - n h (the default box, whose lower end lies
   far in the density's tail; -fp_order 4's reset closure needs the reset on
   a face, and four cells above it: with k < 4 the box stays). Not
   collective. */
PetscErrorCode ItGridPlaceReset(ItGrid g, PetscBool coarsened) {
  PetscFunctionBegin;
  g->info.cell_volume = 1;
  for (PetscInt a = 0; a < g->info.dim; a++) {
    if (g->info.boundary[a] == IT_BOUNDARY_THRESHOLD_RESET) {
      const PetscReal span  = g->info.hi[a] - g->info.reset[a];
      const PetscReal cells = g->info.n[a] * span / (g->info.hi[a] - g->info.lo[a]);
      const PetscInt  k4    = coarsened ? 4 * (PetscInt)PetscFloorReal(cells / 4) : 0;
      const PetscInt  k     = k4 >= 4 ? k4 : PetscMax(1, (PetscInt)PetscFloorReal(cells));
      /* fewer than four cells above the reset take no closure there (src/fp/closure.c): the box
         stays, rather than widen its cells by up to a half (8 cells of the lif model: 2 above the
         reset, h 0.35 -> 0.5, the rate 46 % off against 25 % at order 2) */
      if (k >= 4) {
        g->info.h[a]  = span / k;
        g->info.lo[a] = g->info.hi[a] - g->info.n[a] * g->info.h[a];
      }
    }
    g->info.cell_volume *= g->info.h[a];
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A coarse grid of the same box has the same boundaries. Not collective. */
PetscErrorCode ItGridCopyBoundary(ItGrid fine, ItGrid coarse) {
  PetscFunctionBegin;
  for (PetscInt a = 0; a < IT_MAX_DIM; a++) {
    coarse->info.boundary[a]   = fine->info.boundary[a];
    coarse->info.reset[a]      = fine->info.reset[a];
    coarse->info.refractory[a] = fine->info.refractory[a];
  }
  coarse->info.threshold = fine->info.threshold;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Cells k and k + 1 bracket the reset point by their centres; w is the upper
   one's share (linear: the re-injected mass's centre is the reset point).
   A reset below the first centre goes to cell 0 alone; ItGridReadReset keeps
   both cells below the last on the grid read, coarse levels are clamped.
   Not collective. */
void ItGridResetCells(ItGrid grid, PetscInt axis, PetscInt *k, PetscReal *w) {
  const PetscReal s = (grid->info.reset[axis] - grid->info.lo[axis]) / grid->info.h[axis] - 0.5;

  if (s <= 0) {
    *k = 0;
    *w = 0;
    return;
  }
  *k = (PetscInt)PetscFloorReal(s);
  *w = s - *k;
  if (*k >
      grid->info.n[axis] - 2) { /* only a coarse multigrid level's few cells (a preconditioner) */
    *k = grid->info.n[axis] - 2;
    *w = 1;
  }
}
