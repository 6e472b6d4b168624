/* The preconditioner of the implicit stage solves under -fp_order 4: per
   stage, point Jacobi (the inverse diagonal of the Scharfetter–Gummel stage
   matrix shift I - L) when the shift dominates the operator's diffusive
   rates, the multigrid of ItMGSetUpPC otherwise. The rate is
   r = Σ_a 2 max min(lo, hi) / h_a over the faces (lo, hi the face's
   Scharfetter–Gummel coefficients: min(lo, hi) is the symmetric, diffusive
   part, D_a / h_a where the cell Péclet number is small; lo - hi = A_a is
   the drift's). Where r is at most a small multiple of the shift the stage
   matrix is well conditioned (its smooth modes are damped by the shift
   alone, and a coarse-grid correction buys nothing a diagonal does not):
   one Jacobi-preconditioned GMRES iteration costs a fourth-order product and
   a pointwise scaling, against a V-cycle's two fourth-order products, four
   Gauss–Seidel sweeps and the transfers, about 3.8 times as much in CPU
   time per iteration (measured in 2-D and 4-D). Measured 2026-12-06
   (doc/performance.md, "The 4-variable transient's stage solves"), Jacobi's
   iterations over the multigrid's: 1.4-1.9x at r/shift 0.1-1.2 (the
   rotating 2-D case at 128^2 and 256^2, the 4-variable transient at 24^4
   and 32^4), 3.6x at 2.2, 7-11x at 9 (256^2, the first step); hence the
   bound IT_STAGE_PC_RATIO, below the break-even near 2.3.
   -ts_stage_jacobi_ratio sets it (0: the multigrid at every stage, as
   before). Jacobi's iterations do not depend on the ranks (a pointwise
   preconditioner). The multigrid PC, configured from the options as before,
   is kept whole inside the shell and set up whenever the shell is; a
   -pc_type named in the options (mg included) keeps the KSP's own PC. */
#include <infotherm/solve.h>

/* The largest r/shift at which the stages take Jacobi (measured). */
#define IT_STAGE_PC_RATIO 1.5

struct _p_ItStagePC {
  PC        mg;    /* the multigrid of ItMGSetUpPC, as the options left it */
  Mat       P;     /* the Scharfetter–Gummel stage matrix, whose diagonal Jacobi inverts */
  ItFaces   faces; /* whose rates decide */
  ItGrid    grid;
  Vec       inv;               /* 1 / diag(P) at the current shift */
  PetscReal ratio;             /* -ts_stage_jacobi_ratio */
  PetscReal rate;              /* Σ_a r_a of the faces at state `state` */
  PetscInt  state;             /* ItFacesGetState when rate was computed, -1: never */
  PetscBool jacobi;            /* the current stage's choice */
  PetscInt  stages[2], its[2]; /* stage solves and iterations under multigrid [0], Jacobi [1] */
};

static PetscErrorCode ItStagePCApply(PC pc, Vec x, Vec y) {
  ItStagePC s;

  PetscFunctionBegin;
  PetscCall(PCShellGetContext(pc, &s));
  if (s->jacobi)
    PetscCall(VecPointwiseMult(y, s->inv, x));
  else {
    PetscCall(PCSetUp(s->mg)); /* at once when set up for these operators */
    PetscCall(PCApply(s->mg, x, y));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The multigrid sees the operators the KSP gives the shell, and is set up
   when the shell is and the stage takes it, else at its first application
   (PCSetUp returns at once when its matrix is unchanged): a Jacobi stage's
   coarse levels are not computed (ItMGSetLazy). */
static PetscErrorCode ItStagePCSetUp(PC pc) {
  ItStagePC s;
  Mat       A, P;

  PetscFunctionBegin;
  PetscCall(PCShellGetContext(pc, &s));
  PetscCall(PCGetOperators(pc, &A, &P));
  PetscCall(PCSetOperators(s->mg, A, P));
  if (!s->jacobi) PetscCall(PCSetUp(s->mg));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ItStagePCView(PC pc, PetscViewer viewer) {
  ItStagePC s;
  PetscBool ascii;

  PetscFunctionBegin;
  PetscCall(PCShellGetContext(pc, &s));
  PetscCall(PetscObjectTypeCompare((PetscObject)viewer, PETSCVIEWERASCII, &ascii));
  if (ascii)
    PetscCall(PetscViewerASCIIPrintf(
        viewer,
        "stages whose diffusive rate is at most %g times the shift: Jacobi (%" PetscInt_FMT
        " solves, %" PetscInt_FMT " iterations); the others (%" PetscInt_FMT
        " solves, %" PetscInt_FMT " iterations):\n",
        (double)s->ratio, s->stages[1], s->its[1], s->stages[0], s->its[0]));
  PetscCall(PetscViewerASCIIPushTab(viewer));
  PetscCall(PCView(s->mg, viewer));
  PetscCall(PetscViewerASCIIPopTab(viewer));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Replaces ksp's preconditioner, the multigrid of ItMGSetUpPC after the
   options, by the shell that chooses per stage; P is the Scharfetter–Gummel
   stage matrix (the multigrid's fine level), faces its faces on grid. *out stays
   NULL when the options chose another -pc_type (or named -pc_type mg
   itself: the multigrid at every stage) or -ts_stage_jacobi_ratio is 0.
   Collective. */
PetscErrorCode ItStagePCCreate(KSP ksp, Mat P, ItGrid grid, ItFaces faces, ItStagePC *out) {
  ItStagePC   s;
  PC          mg, shell;
  PetscBool   is_mg, named;
  PetscReal   ratio = IT_STAGE_PC_RATIO;
  const char *prefix;

  PetscFunctionBegin;
  *out = NULL;
  PetscCall(KSPGetOptionsPrefix(ksp, &prefix));
  PetscCall(PetscOptionsGetReal(NULL, prefix, "-ts_stage_jacobi_ratio", &ratio, NULL));
  PetscCheck(ratio >= 0, PetscObjectComm((PetscObject)ksp), PETSC_ERR_USER_INPUT,
             "-%sts_stage_jacobi_ratio %g: give a ratio >= 0 (0: the multigrid at every stage)",
             prefix ? prefix : "", (double)ratio);
  PetscCall(KSPGetPC(ksp, &mg));
  PetscCall(PetscObjectTypeCompare((PetscObject)mg, PCMG, &is_mg));
  PetscCall(PetscOptionsHasName(NULL, prefix, "-pc_type", &named));
  if (!is_mg || named || ratio == 0) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscNew(&s));
  s->mg    = mg;
  s->P     = P;
  s->faces = faces;
  s->grid  = grid;
  s->ratio = ratio;
  s->state = -1;
  PetscCall(PetscObjectReference((PetscObject)mg));
  PetscCall(MatCreateVecs(P, &s->inv, NULL));
  PetscCall(PCCreate(PetscObjectComm((PetscObject)ksp), &shell));
  PetscCall(PCSetType(shell, PCSHELL));
  PetscCall(PCShellSetContext(shell, s));
  PetscCall(PCShellSetApply(shell, ItStagePCApply));
  PetscCall(PCShellSetSetUp(shell, ItStagePCSetUp));
  PetscCall(PCShellSetView(shell, ItStagePCView));
  PetscCall(PCShellSetName(shell, "Jacobi or multigrid by stage"));
  PetscCall(KSPSetPC(ksp, shell));
  PetscCall(PCDestroy(&shell));
  *out = s;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The rate that decides: Σ_a 2 max_faces min(lo, hi) / h_a, the
   symmetric (diffusive) part of the face coefficients J = lo p_{c-1} - hi
   p_c (lo - hi is the drift's part). Collective. */
static PetscErrorCode ItStagePCRate(ItStagePC s) {
  const ItGridInfo *info = ItGridGetInfo(s->grid);

  PetscFunctionBegin;
  s->rate = 0;
  for (PetscInt a = 0; a < info->dim; a++) {
    const PetscInt   nfaces = info->nlocal / info->xm[a] * (info->xm[a] + 1);
    const PetscReal *lo, *hi;
    PetscReal        largest = 0, rate;
    PetscCall(ItFacesGetAxis(s->faces, a, &lo, &hi, NULL, NULL));
    for (PetscInt k = 0; k < nfaces; k++) largest = PetscMax(largest, PetscMin(lo[k], hi[k]));
    PetscCall(ItGridMaxAbs(s->grid, 2 * largest / info->h[a], &rate));
    s->rate += rate;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The choice for a stage whose matrix P now holds shift (after
   ItMGSetShift): Jacobi when Σ_a r_a <= ratio shift, with P's inverse
   diagonal. Collective. */
PetscErrorCode ItStagePCSetShift(ItStagePC s, PetscReal shift) {
  PetscFunctionBegin;
  if (!s) PetscFunctionReturn(PETSC_SUCCESS);
  if (s->state != ItFacesGetState(s->faces)) {
    PetscCall(ItStagePCRate(s));
    s->state = ItFacesGetState(s->faces);
  }
  s->jacobi = (PetscBool)(s->rate <= s->ratio * shift);
  PetscCall(PetscInfo(s->mg, "stage: rate %g, shift %g, ratio %g: %s\n", (double)s->rate,
                      (double)shift, (double)(s->rate / shift),
                      s->jacobi ? "Jacobi" : "multigrid"));
  if (s->jacobi) {
    PetscCall(MatGetDiagonal(s->P, s->inv));
    PetscCall(VecReciprocal(s->inv));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Whether the current stage takes Jacobi (NULL: no). */
PetscBool ItStagePCJacobi(ItStagePC s) {
  return s ? s->jacobi : PETSC_FALSE;
}

/* Counts a finished stage solve of `its` iterations under the current choice. */
void ItStagePCCount(ItStagePC s, PetscInt its) {
  if (!s) return;
  s->stages[s->jacobi]++;
  s->its[s->jacobi] += its;
}

/* The vectors the shell adds to the Krylov method's (its inverse diagonal). */
PetscInt ItStagePCVectors(ItStagePC s) {
  return s ? 1 : 0;
}

PetscErrorCode ItStagePCDestroy(ItStagePC *s) {
  PetscFunctionBegin;
  if (!*s) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PCDestroy(&(*s)->mg));
  PetscCall(VecDestroy(&(*s)->inv));
  PetscCall(PetscFree(*s));
  PetscFunctionReturn(PETSC_SUCCESS);
}
