/* Unit test of the Gaussian closed forms and grid-density statistics
   (src/gaussian/gaussian.c, src/grid/density.c), single rank: the Cholesky factor
   reproduces S and its log-determinant the one of Gaussian elimination for
   every d up to IT_MAX_DIM; sub-covariance log-determinants and the Gaussian
   mutual information against closed forms; NaN for a matrix that is not
   positive definite; natural and marginal indices on a 3-variable grid; the
   entropy of a uniform density. */
#include <infotherm/grid.h>
#include <infotherm/gaussian.h>

/* Prints one check and counts a failure. */
static PetscErrorCode Check(PetscBool ok, const char what[], PetscReal got, PetscReal want,
                            PetscInt *failures) {
  PetscFunctionBegin;
  if (!ok) (*failures)++;
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%s %s: %.17g (want %.17g)\n", ok ? "ok  " : "FAIL", what,
                        (double)got, (double)want));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ln |det A| by Gaussian elimination with partial pivoting (A is overwritten). */
static PetscReal LogDetByElimination(PetscInt d, PetscReal A[]) {
  PetscReal logdet = 0;

  for (PetscInt k = 0; k < d; k++) {
    PetscInt p = k;
    for (PetscInt i = k + 1; i < d; i++)
      if (PetscAbsReal(A[i * d + k]) > PetscAbsReal(A[p * d + k])) p = i;
    for (PetscInt j = 0; j < d; j++) {
      const PetscReal swap = A[k * d + j];
      A[k * d + j]         = A[p * d + j];
      A[p * d + j]         = swap;
    }
    logdet += PetscLogReal(PetscAbsReal(A[k * d + k]));
    for (PetscInt i = k + 1; i < d; i++) {
      const PetscReal f = A[i * d + k] / A[k * d + k];
      for (PetscInt j = k; j < d; j++) A[i * d + j] -= f * A[k * d + j];
    }
  }
  return logdet;
}

/* S = B B^T + I for a fixed B, for every d: L L^T = S, ln det by elimination. */
static PetscErrorCode CheckCholesky(PetscInt *failures) {
  PetscFunctionBegin;
  for (PetscInt d = 1; d <= IT_MAX_DIM; d++) {
    PetscReal S[IT_MAX_DIM * IT_MAX_DIM], L[IT_MAX_DIM * IT_MAX_DIM], A[IT_MAX_DIM * IT_MAX_DIM];
    PetscReal logdet, want, worst = 0;
    PetscBool definite;
    char      what[64];
    for (PetscInt i = 0; i < d; i++)
      for (PetscInt j = 0; j < d; j++) {
        S[i * d + j] = i == j;
        for (PetscInt k = 0; k < d; k++)
          S[i * d + j] += PetscSinReal(1 + i + 2.0 * k) * PetscSinReal(1 + j + 2.0 * k);
      }
    PetscCall(PetscArraycpy(A, S, d * d));
    want = LogDetByElimination(d, A);
    PetscCall(ItGaussianCholesky(d, S, L, &logdet, &definite));
    for (PetscInt i = 0; i < d; i++)
      for (PetscInt j = 0; j < d; j++) {
        PetscReal s = 0;
        for (PetscInt k = 0; k < d; k++) s += L[i * d + k] * L[j * d + k];
        worst = PetscMax(worst, PetscAbsReal(s - S[i * d + j]));
        if (j > i && L[i * d + j] != 0) worst = PETSC_MAX_REAL;
      }
    /* S has entries of order d and condition number below 10^3: a few ulps of d each */
    PetscCall(PetscSNPrintf(what, sizeof(what), "d = %" PetscInt_FMT ": max |L L^T - S|", d));
    PetscCall(Check((PetscBool)(definite && worst < 1e-14 * d), what, worst, 0, failures));
    PetscCall(PetscSNPrintf(what, sizeof(what), "d = %" PetscInt_FMT ": ln det S", d));
    PetscCall(
        Check((PetscBool)(PetscAbsReal(logdet - want) < 1e-13), what, logdet, want, failures));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A 3-variable covariance: ln det of masks, the mutual information against
   2x2/3x3 determinants; a 2-variable one against -½ ln(1 - ρ²); NaN cases. */
static PetscErrorCode CheckClosedForms(PetscInt *failures) {
  const PetscReal S[9] = {2.0, 0.3, -0.4, 0.3, 1.5, 0.2, -0.4, 0.2, 0.8};
  const PetscReal C[4] = {1.0, 0.6, 0.6, 1.0}, bad[4] = {1.0, 2.0, 2.0, 1.0};
  const PetscBool x13[3]  = {PETSC_TRUE, PETSC_FALSE, PETSC_TRUE};
  const PetscBool none[3] = {PETSC_FALSE, PETSC_FALSE, PETSC_FALSE};
  const PetscBool x1[2]   = {PETSC_TRUE, PETSC_FALSE};
  const PetscReal det13   = S[0] * S[8] - S[2] * S[6];
  const PetscReal det = S[0] * (S[4] * S[8] - S[5] * S[7]) - S[1] * (S[3] * S[8] - S[5] * S[6]) +
                        S[2] * (S[3] * S[7] - S[4] * S[6]);
  PetscReal logdet, mi, L[4];
  PetscBool definite;

  PetscFunctionBegin;
  /* closed forms of a well-conditioned matrix: round-off of a few ulps */
  PetscCall(ItGaussianLogDet(3, S, x13, &logdet));
  PetscCall(Check((PetscBool)(PetscAbsReal(logdet - PetscLogReal(det13)) < 1e-14),
                  "ln det S_{x1,x3}", logdet, PetscLogReal(det13), failures));
  PetscCall(ItGaussianLogDet(3, S, none, &logdet));
  PetscCall(Check((PetscBool)(logdet == 0), "ln det of no variable", logdet, 0, failures));
  PetscCall(ItGaussianMutualInformation(3, S, x13, &mi));
  PetscCall(Check((PetscBool)(PetscAbsReal(mi - 0.5 * PetscLogReal(det13 * S[4] / det)) < 1e-14),
                  "I({x1,x3}; x2)", mi, 0.5 * PetscLogReal(det13 * S[4] / det), failures));
  PetscCall(ItGaussianMutualInformation(2, C, x1, &mi));
  PetscCall(Check((PetscBool)(PetscAbsReal(mi + 0.5 * PetscLogReal(1 - 0.36)) < 1e-15),
                  "I(x1; x2) at rho = 0.6", mi, -0.5 * PetscLogReal(1 - 0.36), failures));
  PetscCall(ItGaussianCholesky(2, bad, L, &logdet, &definite));
  PetscCall(Check((PetscBool)(!definite && PetscIsNanReal(logdet)),
                  "not positive definite: flagged, ln det NaN", logdet, NAN, failures));
  PetscCall(ItGaussianMutualInformation(2, bad, x1, &mi));
  PetscCall(
      Check((PetscBool)PetscIsNanReal(mi), "not positive definite: I NaN", mi, NAN, failures));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Natural and marginal indices on an 8 x 9 x 10 grid; entropy of a uniform density. */
static PetscErrorCode CheckDensity(PetscInt *failures) {
  const PetscBool mask[3] = {PETSC_TRUE, PETSC_FALSE, PETSC_TRUE};
  ItModel         model;
  ItGrid          grid;
  PetscInt        size, bad = 0;
  PetscReal       cell, *uniform, S;

  PetscFunctionBegin;
  PetscCall(PetscOptionsSetValue(NULL, "-model", "population"));
  PetscCall(PetscOptionsSetValue(NULL, "-grid_n", "8,9,10"));
  PetscCall(ItModelCreate(PETSC_COMM_WORLD, &model));
  PetscCall(ItModelSetFromOptions(model));
  PetscCall(ItGridCreate(model, &grid));
  for (PetscInt k = 0; k < ItGridCellCount(grid); k++) {
    PetscInt c[IT_MAX_DIM];
    ItGridNaturalCell(grid, k, c);
    if (ItGridNaturalIndex(grid, c) != k || k != (c[2] * 9 + c[1]) * 8 + c[0]) bad++;
    if (ItGridMarginalIndex(grid, mask, c) != c[0] + 8 * c[2]) bad++;
  }
  PetscCall(Check((PetscBool)(bad == 0 && ItGridCellCount(grid) == 720),
                  "natural and marginal indices of 720 cells (wrong ones)", bad, 0, failures));
  PetscCall(ItGridMarginalLayout(grid, mask, &size, &cell));
  PetscCall(Check(
      (PetscBool)(size == 80 && cell == ItGridGetInfo(grid)->h[0] * ItGridGetInfo(grid)->h[2]),
      "marginal over (v, r2): 80 cells", size, 80, failures));
  /* a uniform density 1/|box| has the entropy ln |box|: 720 equal terms, round-off far below 1e-12
   */
  PetscCall(PetscMalloc1(720, &uniform));
  for (PetscInt k = 0; k < 720; k++) uniform[k] = 1 / (720 * ItGridGetInfo(grid)->cell_volume);
  S = ItGridEntropyOf(uniform, 720, ItGridGetInfo(grid)->cell_volume);
  PetscCall(Check(
      (PetscBool)(PetscAbsReal(S - PetscLogReal(720 * ItGridGetInfo(grid)->cell_volume)) < 1e-12),
      "entropy of a uniform density", S, PetscLogReal(720 * ItGridGetInfo(grid)->cell_volume),
      failures));
  PetscCall(PetscFree(uniform));
  PetscCall(ItGridDestroy(&grid));
  PetscCall(ItModelDestroy(&model));
  PetscFunctionReturn(PETSC_SUCCESS);
}

int main(int argc, char **argv) {
  PetscInt failures = 0;

  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  PetscCall(CheckCholesky(&failures));
  PetscCall(CheckClosedForms(&failures));
  PetscCall(CheckDensity(&failures));
  PetscCall(PetscFinalize());
  return failures ? 1 : 0;
}
