/* Geometric multigrid for the linear systems of the solver,
     J = scale (shift I - L),
   the implicit stages (shift = TS's shift, scale = 1) and the stationary
   solve (shift = 0, one pinned row). The levels are the grid coarsened by 2
   per axis (ItGridCreateCoarse) while every axis divides, down to about
   IT_MG_COARSE_CELLS cells; each level's operator is rediscretised: the same
   Scharfetter–Gummel faces on its coarser cells at the same time t, so every
   level is an M-matrix (a Galerkin product of a convection-dominated operator
   is not). Prolongation is the cell-centred multilinear interpolation (weights
   3/4, 1/4 per axis, constant next to a wall, wrapping on a periodic axis), applied matrix-free
   (src/solve/prolong.c); restriction is its transpose,
   whose columns each sum to 1 in every row of P, so restriction keeps the sum
   of a residual (its mass). With that restriction the coarse problem is
   2^d (shift I - L_c) per level (P^T P = 2^d I when lumped). The coarse
   levels take the shift rounded to a few bits (ItMGCoarseShift), so that a
   step shortened by round-off keeps their factorisation; the fine level, the
   operator the Krylov method applies, takes it exactly. With a fine operator
   of ItSmoothCreateOperator (-fp_matrix_free, ItMGMatrixFree) every level
   but the coarsest is applied from its faces and smoothed by symmetric
   Gauss–Seidel on them (src/solve/smooth.c); the coarsest stays assembled for
   its LU factors. */
#include <infotherm/solve.h>
#include <math.h>

/* Coarsen while the coarse grid has more cells than this (the coarse solve is
   a direct one). */
#define IT_MG_COARSE_CELLS 1024

struct _p_ItMG {
  PetscInt  nlevels; /* 0 = coarsest .. nlevels - 1 = the fine grid */
  ItGrid    grid[IT_MG_MAX_LEVELS];
  ItFaces   faces[IT_MG_MAX_LEVELS]; /* the fine level's belong to the caller */
  Mat       op[IT_MG_MAX_LEVELS];    /* scale_l (shift I - L_l) */
  Mat       P[IT_MG_MAX_LEVELS];     /* interpolation from level l - 1 to l */
  PetscReal shift, scale;            /* the fine level's */
  PetscReal coarse_shift;            /* the coarse levels' (ItMGCoarseShift of shift) */
  PetscBool dirty;                   /* the faces changed since the fine operator was assembled */
  /* the coarse levels: their faces changed since they were assembled (coarse_dirty), their time
     and the shift and scale they are to take; under ItMGSetLazy computed and assembled only by
     ItMGSetUpCoarse (coarse_pending: not yet at coarse_t, or not yet at that shift) */
  PetscBool coarse_dirty, lazy, coarse_pending;
  /* under ItMGSetLazy: a preconditioner has asked for the levels (ItMGSetUpCoarse) */
  PetscBool used;
  PetscReal coarse_t, coarse_scale, next_coarse_shift, next_coarse_scale;
  PetscInt  fine_state; /* the fine faces' state (ItFacesGetState) when last seen */
  PetscInt  pin[IT_MAX_DIM];
  PetscBool pinned;
  PetscInt  fine_sweeps; /* ItMGSetFineKrylov's GMRES sweeps at the fine level (0: none) */
  PetscBool matrix_free; /* the levels above the coarsest from their faces (src/solve/smooth.c) */
};

/* How many levels the fine grid allows: halve while every axis is even, every
   rank keeps at least 2 cells per axis, and the grid has more than
   IT_MG_COARSE_CELLS cells. */
static PetscErrorCode ItMGCountLevels(ItGrid fine, PetscInt *nlevels) {
  const ItGridInfo *info = ItGridGetInfo(fine);
  PetscInt ranks[3] = {1, 1, 1}, m[IT_MAX_DIM], n[IT_MAX_DIM], cells = ItGridCellCount(fine);

  PetscFunctionBegin;
  PetscCall(DMDAGetInfo(info->da, NULL, NULL, NULL, NULL, &ranks[0], &ranks[1], &ranks[2], NULL,
                        NULL, NULL, NULL, NULL, NULL));
  for (PetscInt a = 0; a < info->dim; a++) { /* ranks along each axis (1 when not distributed) */
    n[a] = info->n[a];
    m[a] = 1;
  }
  for (PetscInt j = 0; j < info->ndist; j++) m[info->dist[j]] = ranks[j];
  *nlevels = 1;
  while (cells > IT_MG_COARSE_CELLS && *nlevels < IT_MG_MAX_LEVELS) {
    PetscBool halves = PETSC_TRUE;
    for (PetscInt a = 0; a < info->dim; a++)
      halves = (PetscBool)(halves && n[a] % 2 == 0 && n[a] / 2 >= 2 * m[a]);
    if (!halves) break;
    cells = 1;
    for (PetscInt a = 0; a < info->dim; a++) cells *= (n[a] /= 2);
    (*nlevels)++;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The hierarchy below the fine grid, whose faces (the caller's) define the
   operator: coarse grids, their faces of the same model, interpolations and
   one matrix per level. op is the fine level's matrix (the caller's; it gets
   the fine operator). levels: at most this many (0: as many as the grid
   allows). Collective. */
PetscErrorCode ItMGCreate(ItGrid fine, ItModel model, ItFaces faces, Mat op, PetscInt levels,
                          ItMG *out) {
  ItMG mg;

  PetscFunctionBegin;
  PetscCall(PetscNew(&mg));
  PetscCall(ItMGCountLevels(fine, &mg->nlevels));
  if (levels > 0) mg->nlevels = PetscMin(mg->nlevels, levels);
  mg->grid[mg->nlevels - 1]  = fine;
  mg->faces[mg->nlevels - 1] = faces;
  mg->op[mg->nlevels - 1]    = op;
  mg->matrix_free            = ItSmoothIsOperator(op);
  for (PetscInt l = mg->nlevels - 2; l >= 0; l--) {
    PetscCall(ItGridCreateCoarse(mg->grid[l + 1], 2, &mg->grid[l]));
    PetscCall(ItFacesCreate(mg->grid[l], model, &mg->faces[l]));
    PetscCall(ItFacesSetLevel(mg->faces[l]));
    PetscCall(ItFacesSetDelayedReset(mg->faces[l], ItFacesGetDelayedReset(faces)));
    if (mg->matrix_free && l > 0)
      PetscCall(ItSmoothCreateOperator(mg->grid[l], mg->faces[l], &mg->op[l]));
    else
      PetscCall(ItFPCreateMatrix(mg->grid[l], &mg->op[l]));
    PetscCall(ItMGProlongationCreate(mg->grid[l + 1], mg->grid[l], &mg->P[l + 1]));
  }
  mg->dirty        = PETSC_TRUE;
  mg->coarse_dirty = PETSC_TRUE;
  mg->fine_state   = ItFacesGetState(faces);
  mg->scale        = 1;
  *out             = mg;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Whether the fine operator (and the levels above the coarsest) should be
   applied from the faces: -fp_matrix_free (ItSmoothFromOptions), faces that
   allow it (ItSmoothSupported), a grid with at least two levels, and the
   multigrid of ItMGSetUpPC with its smoothers and rediscretised levels (none
   of -<prefix>pc_type other than mg, -<prefix>mg_levels_pc_type,
   -<prefix>pc_mg_galerkin, which need entries). Collective. */
PetscErrorCode ItMGMatrixFree(ItGrid fine, ItFaces faces, const char prefix[],
                              PetscBool *matrix_free) {
  const char *const needs_entries[] = {"mg_levels_pc_type", "pc_mg_galerkin"};
  PetscInt          levels;
  char              type[64] = "mg";
  PetscBool         set;

  PetscFunctionBegin;
  PetscCall(ItSmoothFromOptions(ItGridGetInfo(fine)->comm, matrix_free));
  PetscCall(ItMGCountLevels(fine, &levels));
  if (!ItSmoothSupported(faces) || levels < 2) *matrix_free = PETSC_FALSE;
  PetscCall(PetscOptionsGetString(NULL, prefix, "-pc_type", type, sizeof(type), &set));
  if (set && strcmp(type, PCMG)) *matrix_free = PETSC_FALSE;
  for (size_t k = 0; k < sizeof(needs_entries) / sizeof(needs_entries[0]); k++) {
    char name[64];
    PetscCall(PetscSNPrintf(name, sizeof(name), "-%s", needs_entries[k]));
    PetscCall(PetscOptionsHasName(NULL, prefix, name, &set));
    if (set) *matrix_free = PETSC_FALSE;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscInt ItMGGetLevels(ItMG mg) {
  return mg->nlevels;
}

/* Keeps the fine level only (the preconditioner is not multigrid). */
static PetscErrorCode ItMGDestroyCoarse(ItMG mg) {
  const PetscInt fine = mg->nlevels - 1;

  PetscFunctionBegin;
  for (PetscInt l = 0; l < fine; l++) {
    PetscCall(MatDestroy(&mg->op[l]));
    PetscCall(MatDestroy(&mg->P[l + 1]));
    PetscCall(ItFacesDestroy(&mg->faces[l]));
    PetscCall(ItGridDestroy(&mg->grid[l]));
  }
  mg->grid[0]  = mg->grid[fine];
  mg->faces[0] = mg->faces[fine];
  mg->op[0]    = mg->op[fine];
  mg->nlevels  = 1;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode ItMGDestroy(ItMG *mg) {
  PetscFunctionBegin;
  if (!*mg) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(ItMGDestroyCoarse(*mg));
  PetscCall(PetscFree(*mg));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The coarse levels' faces at coarse_t. Collective. */
static PetscErrorCode ItMGSetCoarseTime(ItMG mg) {
  PetscFunctionBegin;
  for (PetscInt l = mg->nlevels - 2; l >= 0; l--) {
    PetscBool changed;
    PetscCall(ItFacesSetTime(mg->faces[l], mg->coarse_t, &changed));
    if (changed) mg->coarse_dirty = PETSC_TRUE;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The coarse levels' faces at time t (under ItMGSetLazy: at the next
   ItMGSetUpCoarse). The fine faces are the caller's, and only the caller
   writes them (ItFPSetTime, which keeps its L in step): set them to t first;
   a change of theirs is seen here from their state. Collective. */
PetscErrorCode ItMGSetTime(ItMG mg, PetscReal t) {
  const PetscInt fine = mg->nlevels - 1;

  PetscFunctionBegin;
  mg->coarse_t = t;
  if (mg->lazy)
    mg->coarse_pending = PETSC_TRUE;
  else
    PetscCall(ItMGSetCoarseTime(mg));
  if (ItFacesGetState(mg->faces[fine]) != mg->fine_state) mg->dirty = mg->coarse_dirty = PETSC_TRUE;
  mg->fine_state = ItFacesGetState(mg->faces[fine]);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Coarse levels computed only when a preconditioner uses them: from now on
   ItMGSetTime and ItMGSetShift only note the time and the shift for the
   coarse levels, and ItMGSetUpCoarse computes their faces and assembles
   them (the same operators, bit for bit, as when done at once: a level's
   faces are a function of t, its matrix of the faces, shift and scale).
   The stage preconditioner's Jacobi stages (src/solve/stagepc.c) never read
   them. Not collective. */
PetscErrorCode ItMGSetLazy(ItMG mg, PetscBool lazy) {
  PetscFunctionBegin;
  mg->lazy = lazy;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The pinned row of level l: the pinned fine cell's ancestor, its row
   replaced by its diagonal times the unknown (MatZeroRows). Collective. */
static PetscErrorCode ItMGPinLevel(ItMG mg, PetscInt l) {
  PetscInt    cell[IT_MAX_DIM] = {0, 0, 0}, row, lo, hi;
  PetscScalar diag             = 0;
  PetscReal   value;

  PetscFunctionBegin;
  for (PetscInt a = 0; a < ItGridGetInfo(mg->grid[l])->dim; a++)
    cell[a] = mg->pin[a] >> (mg->nlevels - 1 - l);
  PetscCall(ItGridGlobalIndex(mg->grid[l], cell, &row));
  PetscCall(MatGetOwnershipRange(mg->op[l], &lo, &hi));
  if (row >= lo && row < hi) PetscCall(ItSmoothDiagonalAt(mg->op[l], row, &diag));
  PetscCall(ItGridMaxAbs(mg->grid[l], PetscRealPart(diag), &value));
  if (ItSmoothIsOperator(mg->op[l])) {
    PetscCall(ItSmoothOperatorSetPin(mg->op[l], row, value));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(MatSetOption(mg->op[l], MAT_KEEP_NONZERO_PATTERN, PETSC_TRUE));
  PetscCall(MatZeroRows(mg->op[l], (row >= lo && row < hi) ? 1 : 0, &row, value, NULL, NULL));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Pins fine cell `cell` (the stationary solve's p_pin = its value) on every
   level from the next ItMGSetShift on; NULL: none. Not collective. */
PetscErrorCode ItMGSetPin(ItMG mg, const PetscInt cell[]) {
  PetscFunctionBegin;
  mg->pinned = (PetscBool)(cell != NULL);
  for (PetscInt a = 0; a < IT_MAX_DIM && cell; a++) mg->pin[a] = cell[a];
  mg->dirty = mg->coarse_dirty = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Significant bits of the coarse levels' shift: its relative error is at
   most 2^-IT_MG_SHIFT_BITS (1.6 % with 6 bits). */
#define IT_MG_SHIFT_BITS 6

/* The coarse levels' shift for the fine level's `shift`: shift rounded to
   IT_MG_SHIFT_BITS significant bits (exact in binary, 0 for 0). A function of
   shift alone, so a run restarted anywhere assembles and factors the coarse
   levels the uninterrupted run had, bit for bit; and the last step of an
   output segment, whose length target - t differs from the step by
   round-off, changes TS's shift in its last bits only, which keeps the coarse
   levels and their factorisation (PCSetUp then sees a new fine matrix only).
   The preconditioner's coarse correction is that of a slightly different
   shift: the iteration counts may move, the answer (the fine operator's
   residual) does not. */
static PetscReal ItMGCoarseShift(PetscReal shift) {
  int          e;
  const double m = frexp((double)shift, &e); /* shift = m 2^e, 1/2 <= |m| < 1 */

  return (PetscReal)ldexp(round(ldexp(m, IT_MG_SHIFT_BITS)), e - IT_MG_SHIFT_BITS);
}

/* Level l's operator scale_l (shift I - L_l), scale_l = scale (2^d)^k k
   levels below the fine one: assembled when the faces changed (or a row is
   pinned), otherwise only its diagonal. Collective. */
static PetscErrorCode ItMGSetLevelShift(ItMG mg, PetscInt l, PetscReal shift, PetscReal scale) {
  const PetscInt  fine  = mg->nlevels - 1;
  const PetscReal s     = scale * PetscPowInt(1 << ItGridGetInfo(mg->grid[l])->dim, fine - l);
  const PetscBool dirty = l == fine ? mg->dirty : mg->coarse_dirty;

  PetscFunctionBegin;
  if (ItSmoothIsOperator(mg->op[l])) { /* applied from the faces: nothing to assemble */
    PetscCall(ItSmoothOperatorSetShift(mg->op[l], shift, s));
    if (!mg->pinned) PetscCall(ItSmoothOperatorSetPin(mg->op[l], -1, 0));
  } else if (dirty || mg->pinned)
    PetscCall(ItFPAssembleShifted(mg->faces[l], shift, s, mg->op[l]));
  else
    PetscCall(ItFPSetShift(mg->faces[l], shift, s, mg->op[l]));
  if (mg->pinned) PetscCall(ItMGPinLevel(mg, l));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The coarse levels at the time, shift and scale last given (their faces
   computed if pending); a level is rewritten only when its shift, the scale
   or its faces changed. Collective. */
PetscErrorCode ItMGSetUpCoarse(ItMG mg) {
  const PetscBool kept =
      (PetscBool)(!mg->coarse_dirty && mg->next_coarse_scale == mg->coarse_scale &&
                  mg->next_coarse_shift == mg->coarse_shift);

  PetscFunctionBegin;
  mg->used = PETSC_TRUE;
  if (mg->coarse_pending) PetscCall(ItMGSetCoarseTime(mg));
  mg->coarse_pending = PETSC_FALSE;
  if (!(kept && !mg->coarse_dirty))
    for (PetscInt l = mg->nlevels - 2; l >= 0; l--)
      PetscCall(ItMGSetLevelShift(mg, l, mg->next_coarse_shift, mg->next_coarse_scale));
  mg->coarse_dirty = PETSC_FALSE;
  mg->coarse_shift = mg->next_coarse_shift;
  mg->coarse_scale = mg->next_coarse_scale;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Every level's operator: the fine one with `shift` itself, the coarse ones
   with ItMGCoarseShift(shift) (under ItMGSetLazy at the next
   ItMGSetUpCoarse); a level is rewritten only when its shift, the scale or
   the faces changed. Collective. */
PetscErrorCode ItMGSetShift(ItMG mg, PetscReal shift, PetscReal scale) {
  const PetscInt fine = mg->nlevels - 1;

  PetscFunctionBegin;
  if (!(!mg->dirty && scale == mg->scale && shift == mg->shift))
    PetscCall(ItMGSetLevelShift(mg, fine, shift, scale));
  mg->dirty             = PETSC_FALSE;
  mg->shift             = shift;
  mg->scale             = scale;
  mg->next_coarse_shift = ItMGCoarseShift(shift);
  mg->next_coarse_scale = scale;
  if (mg->lazy)
    mg->coarse_pending = PETSC_TRUE;
  else
    PetscCall(ItMGSetUpCoarse(mg));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Makes pc a V- or W-cycle over the levels (when there are at least two), with
   smoothers suited to non-symmetric M-matrices: `sweeps` Richardson steps of
   SSOR (Gauss–Seidel forward and back), and the default direct coarse solve
   (LU, or redundant LU on several ranks). Every choice is an option under the
   KSP's prefix (-pc_type, -mg_levels_ksp_type, -mg_coarse_pc_type, ...),
   read by the caller's KSPSetFromOptions; with another -pc_type the coarse
   levels are freed by ItMGCheckPC. Collective. */
PetscErrorCode ItMGSetUpPC(ItMG mg, PC pc, PCMGCycleType cycle, PetscInt sweeps) {
  PetscFunctionBegin;
  if (mg->nlevels < 2) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PCSetType(pc, PCMG));
  PetscCall(PCMGSetLevels(pc, mg->nlevels, NULL));
  PetscCall(PCMGSetType(pc, PC_MG_MULTIPLICATIVE));
  PetscCall(PCMGSetCycleType(pc, cycle));
  PetscCall(PCMGSetGalerkin(pc, PC_MG_GALERKIN_EXTERNAL));
  for (PetscInt l = 0; l < mg->nlevels; l++) {
    KSP smoother;
    PC  smoother_pc;
    PetscCall(PCMGGetSmoother(pc, l, &smoother));
    if (l < mg->nlevels - 1) PetscCall(KSPSetOperators(smoother, mg->op[l], mg->op[l]));
    if (l == 0) continue;
    PetscCall(PCMGSetInterpolation(pc, l, mg->P[l]));
    PetscCall(PCMGSetRestriction(pc, l, mg->P[l]));
    PetscCall(KSPSetType(smoother, KSPRICHARDSON));
    PetscCall(KSPGetPC(smoother, &smoother_pc));
    if (mg->matrix_free)
      PetscCall(ItSmoothSetUpPC(smoother_pc, IT_SMOOTH_SYMMETRIC));
    else
      PetscCall(PCSetType(smoother_pc, PCSOR));
    PetscCall(KSPSetTolerances(smoother, PETSC_DEFAULT, PETSC_DEFAULT, PETSC_DEFAULT, sweeps));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* After ItMGSetUpPC, for levels applied from their faces: the smoothers'
   sweeps (ItSmoothSetUpPC), each level's residual vector given to the
   multigrid (PCMGSetR) and to its smoother, whose symmetric pre-smoothing
   (from zero or, in a W-cycle's second visit, from a guess) leaves the
   residual there (ItSmoothPCSetResidual: the
   multigrid's MatResidual after it then costs nothing), and with fine_v a
   V-cycle from the fine level to the next (PCMGSetCycleTypeOnLevel) with
   ItMGSetUpPC's cycle below; the level below the fine one (when it is not
   the coarsest) post-smooths with next_post sweeps (0: as it pre-smooths).
   The assembled levels keep PETSc's SOR. A smoother tells a pre- from a
   post-smoothing by the order of its calls (ItSmoothPCApplyRichardson),
   which holds for PCMG's multiplicative and full cycles only: under another
   type (-pc_mg_type kaskade) ItMGSetSmoothingFixed undoes the difference.
   Collective. */
PetscErrorCode ItMGSetSmoothing(ItMG mg, PC pc, ItSmoothDirection direction, PetscBool fine_v,
                                PetscInt next_post) {
  PetscFunctionBegin;
  if (mg->nlevels < 2) PetscFunctionReturn(PETSC_SUCCESS);
  for (PetscInt l = 1; l < mg->nlevels && mg->matrix_free; l++) {
    KSP smoother;
    PC  smoother_pc;
    Vec r;
    PetscCall(PCMGGetSmoother(pc, l, &smoother));
    PetscCall(KSPGetPC(smoother, &smoother_pc));
    PetscCall(ItSmoothSetUpPC(smoother_pc, direction));
    PetscCall(ItSmoothPCSetPostSweeps(smoother_pc, l == mg->nlevels - 2 ? next_post : 0));
    PetscCall(DMCreateGlobalVector(ItGridGetInfo(mg->grid[l])->da, &r));
    PetscCall(PCMGSetR(pc, l, r));
    PetscCall(ItSmoothPCSetResidual(smoother_pc, r));
    PetscCall(VecDestroy(&r));
  }
  if (fine_v) PetscCall(PCMGSetCycleTypeOnLevel(pc, mg->nlevels - 1, PC_MG_CYCLE_V));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Level l's face smoother (ItSmoothSetUpPC's PCSHELL), NULL where the
   options chose another (-mg_levels_pc_type). Not collective. */
static PetscErrorCode ItMGLevelSmoother(PC pc, PetscInt l, PC *smoother_pc) {
  KSP       smoother;
  PetscBool shell;

  PetscFunctionBegin;
  PetscCall(PCMGGetSmoother(pc, l, &smoother));
  PetscCall(KSPGetPC(smoother, smoother_pc));
  PetscCall(PetscObjectTypeCompare((PetscObject)*smoother_pc, PCSHELL, &shell));
  if (!shell) *smoother_pc = NULL;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* After the options are read: under a PCMG type other than multiplicative
   or full (kaskade calls each level's smoother once per apply, from the
   interpolated guess, so the calls' pre/post order flips from one apply to
   the next; additive calls from zero only), every face-applied level's
   post-smoothing takes its pre-smoothing's sweeps and leaves no residual, so
   the preconditioner stays one fixed linear map under GMRES. *fixed: whether
   it did (so the caller refuses sweeps that differ before and after).
   Collective. */
PetscErrorCode ItMGSetSmoothingFixed(ItMG mg, PC pc, PetscBool *fixed) {
  PetscBool isMG;
  PCMGType  type;

  PetscFunctionBegin;
  *fixed = PETSC_FALSE;
  if (mg->nlevels < 2) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscObjectTypeCompare((PetscObject)pc, PCMG, &isMG));
  if (!isMG) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PCMGGetType(pc, &type));
  if (type == PC_MG_MULTIPLICATIVE || type == PC_MG_FULL) PetscFunctionReturn(PETSC_SUCCESS);
  *fixed = PETSC_TRUE;
  for (PetscInt l = 1; l < mg->nlevels && mg->matrix_free; l++) {
    PC smoother_pc;
    PetscCall(ItMGLevelSmoother(pc, l, &smoother_pc));
    if (!smoother_pc) continue; /* the user's smoother (-mg_levels_pc_type) */
    PetscCall(ItSmoothPCSetPostSweeps(smoother_pc, 0));
    PetscCall(ItSmoothPCSetResidual(smoother_pc, NULL));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Before each solve: every face-applied level's smoother takes its next call
   from a guess as a pre-smoothing (ItSmoothPCRestart). Not collective. */
PetscErrorCode ItMGRestartSmoothing(ItMG mg, PC pc) {
  PetscBool isMG;

  PetscFunctionBegin;
  if (mg->nlevels < 2 || !mg->matrix_free) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscObjectTypeCompare((PetscObject)pc, PCMG, &isMG));
  if (!isMG) PetscFunctionReturn(PETSC_SUCCESS);
  for (PetscInt l = 1; l < mg->nlevels; l++) {
    PC smoother_pc;
    PetscCall(ItMGLevelSmoother(pc, l, &smoother_pc));
    if (smoother_pc) PetscCall(ItSmoothPCRestart(smoother_pc));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Whether the levels above the coarsest are applied from their faces. */
PetscBool ItMGGetMatrixFree(ItMG mg) {
  return mg->matrix_free;
}

/* When the operator differs from the preconditioning matrix (-fp_order 4:
   the matrix-free fourth-order operator against the Scharfetter–Gummel
   levels): the fine level smooths with `sweeps` GMRES iterations on the
   operator itself, preconditioned by the SOR of its Scharfetter–Gummel
   matrix, and the caller's outer Krylov method must be a flexible one (the
   smoother is not a fixed linear map). Richardson with SOR there sweeps the
   Scharfetter–Gummel residual (PCApplyRichardson never sees the operator),
   and the ranks' SOR blocks then decide what the fourth-order residual keeps:
   the rotating 2-D case's stationary solve took 27, 44, 45, 44 iterations on
   1-4 ranks at 128^2 and 42-57 at 64^2; with 3 GMRES sweeps 11-13 on every
   grid from 64^2 to 256^2 and every rank count from 1 to 4 (doc/numerics.md).
   Every choice stays an option (-mg_levels_N_ksp_type ...). Collective. */
PetscErrorCode ItMGSetFineKrylov(ItMG mg, PC pc, PetscInt sweeps) {
  KSP smoother;

  PetscFunctionBegin;
  if (mg->nlevels < 2) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PCMGGetSmoother(pc, mg->nlevels - 1, &smoother));
  PetscCall(KSPSetType(smoother, KSPGMRES));
  PetscCall(KSPGMRESSetRestart(smoother, sweeps));
  PetscCall(KSPSetTolerances(smoother, PETSC_DEFAULT, PETSC_DEFAULT, PETSC_DEFAULT, sweeps));
  mg->fine_sweeps = sweeps;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The multigrid's memory on this process, for the ledger (ItMemorySet): the
   coarse levels' operators (their allocated entries), the prolongations'
   ghosted coarse arrays (ItMGProlongationBytes),
   the vectors PCMG keeps on every level below the finest (right-hand side,
   solution, residual) and the finest's residual, and on every smoothed
   level (the fine one included) the SOR smoothers' inverted diagonal and
   work (3 vectors; from the faces: the ghosted array a sweep works in, 1)
   and the Richardson iteration's 2 work vectors, plus the
   fine level's GMRES vectors under ItMGSetFineKrylov. The
   coarsest level's LU factors (about 1000 cells) are not counted. Under
   ItMGSetLazy with no stage that took the multigrid (every stage Jacobi,
   src/solve/stagepc.c) PCMG was never set up: its vectors, the smoothers'
   and the prolongations' ghosted arrays were never made or written, and
   only the coarse operators count (at 32^4 on 2 ranks the rest is 16.8 MB
   a rank, most of the ledger's multigrid). Not collective. */
PetscErrorCode ItMGNoteMemory(ItMG mg) {
  const PetscReal set_up = !mg->lazy || mg->used ? 1 : 0; /* 0: the operators alone */
  PetscReal       bytes  = 0, b;

  PetscFunctionBegin;
  for (PetscInt l = 0; l < mg->nlevels && mg->nlevels > 1; l++) {
    const PetscReal n        = mg->grid[l] ? (PetscReal)ItGridGetInfo(mg->grid[l])->nlocal : 0;
    const PetscReal smoother = mg->matrix_free ? 1 : 3;
    if (l < mg->nlevels - 1 && mg->op[l]) {
      PetscCall(ItMemoryMatrixBytes(mg->op[l], &b));
      bytes += b + set_up * 3 * n * sizeof(PetscScalar);
    }
    if (l > 0 && mg->P[l]) {
      PetscCall(ItMGProlongationBytes(mg->P[l], &b));
      bytes +=
          set_up * (b + (smoother + 2 + (l == mg->nlevels - 1 ? 1 : 0)) * n * sizeof(PetscScalar));
    }
    if (l == mg->nlevels - 1 && mg->fine_sweeps > 0) /* GMRES(k) smoothing: k + 4 vectors more */
      bytes += set_up * (mg->fine_sweeps + 4) * n * sizeof(PetscScalar);
  }
  ItMemorySet(IT_MEMORY_MULTIGRID, bytes);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* After the options: frees the coarse levels when pc is not the multigrid
   built by ItMGSetUpPC or is not used (an explicit time stepper), and refuses
   a -pc_mg_levels that replaced its levels. Collective. */
PetscErrorCode ItMGCheckPC(ItMG mg, PC pc, PetscBool used) {
  PetscBool is_mg;
  PetscInt  levels     = 0;
  char      prefix[64] = "";

  PetscFunctionBegin;
  PetscCall(PetscObjectTypeCompare((PetscObject)pc, PCMG, &is_mg));
  if (is_mg) PetscCall(PCMGGetLevels(pc, &levels));
  if (used && is_mg && mg->nlevels > 1) {
    const char *p;
    PetscCall(PCGetOptionsPrefix(pc, &p));
    if (p) PetscCall(PetscStrncpy(prefix, p, sizeof(prefix)));
    PetscCheck(levels == mg->nlevels, PetscObjectComm((PetscObject)pc), PETSC_ERR_USER_INPUT,
               "-%spc_mg_levels %" PetscInt_FMT ": the levels of the multigrid come from the grid "
               "(%" PetscInt_FMT " here: cells halved per axis while they divide by 2); remove "
               "-%spc_mg_levels, or choose -grid_n",
               prefix, levels, mg->nlevels, prefix);
  }
  if (!used || !is_mg || mg->nlevels < 2) PetscCall(ItMGDestroyCoarse(mg));
  PetscFunctionReturn(PETSC_SUCCESS);
}
