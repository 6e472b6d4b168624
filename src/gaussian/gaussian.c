/* Gaussian closed forms for any number of variables d: the Cholesky factor
   S = L L^T of a covariance with ln det S = 2 Σ_i ln L_ii, the log-determinant
   of the sub-covariance S_MM of a subset M of the variables, and the mutual
   information of a Gaussian between a set X and the rest Y,
   I(X;Y) = ½ ln(det S_XX det S_YY / det S) = ½ (ln det S_XX + ln det S_YY - ln det S).
   The factorisation is LAPACK's potrf (through petscblaslapack.h), the call
   the solver's initial Gaussian has always used, so a factor computed here is
   bitwise the one the initial density and the Monte Carlo's initial particles
   were drawn with. Nothing here communicates. */
#include <infotherm/gaussian.h>
#include <petscblaslapack.h>

static PetscErrorCode ItGaussianCheckSize(PetscInt d) {
  PetscFunctionBegin;
  PetscCheck(d >= 0 && d <= IT_MAX_DIM, PETSC_COMM_SELF, PETSC_ERR_ARG_OUTOFRANGE,
             "a Gaussian of %" PetscInt_FMT " variables; at most %d are supported", d, IT_MAX_DIM);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Factors a symmetric d x d matrix S (row-major; only one triangle is read)
   as S = L L^T: L lower triangular, row-major, zero above the diagonal;
   *logdet = ln det S = 2 Σ_i ln L_ii. When S is not positive definite (or holds
   a NaN), *definite is PETSC_FALSE, *logdet is NaN and L is zero. d = 0 gives
   ln det = 0. Not collective. */
PetscErrorCode ItGaussianCholesky(PetscInt d, const PetscReal S[], PetscReal L[], PetscReal *logdet,
                                  PetscBool *definite) {
  PetscReal    chol[IT_MAX_DIM * IT_MAX_DIM];
  PetscBLASInt n, info = 0;

  PetscFunctionBegin;
  PetscCall(ItGaussianCheckSize(d));
  *definite = PETSC_TRUE;
  *logdet   = 0;
  if (d == 0) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscArraycpy(chol, S, d * d));
  PetscCall(PetscBLASIntCast(d, &n));
  PetscCallBLAS("LAPACKpotrf", LAPACKpotrf_("L", &n, chol, &n, &info));
  PetscCheck(info >= 0, PETSC_COMM_SELF, PETSC_ERR_LIB, "LAPACK potrf: illegal argument %d",
             (int)-info);
  /* LAPACK's factor is column-major, L(i,j) = chol[j*d + i]; hand it out row-major */
  for (PetscInt i = 0; i < d; i++)
    for (PetscInt j = 0; j < d; j++) L[i * d + j] = j <= i ? chol[j * d + i] : 0;
  for (PetscInt i = 0; i < d; i++)
    if (!(L[i * d + i] > 0)) *definite = PETSC_FALSE; /* also catches a NaN */
  if (info > 0 || !*definite) {
    *definite = PETSC_FALSE;
    *logdet   = (PetscReal)NAN;
    PetscCall(PetscArrayzero(L, d * d));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  for (PetscInt i = 0; i < d; i++) *logdet += 2 * PetscLogReal(L[i * d + i]);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* ln det S_MM, the sub-covariance of the variables in mask (in increasing
   order); NaN when S_MM is not positive definite, 0 for an empty mask. Not collective. */
PetscErrorCode ItGaussianLogDet(PetscInt d, const PetscReal S[], const PetscBool mask[],
                                PetscReal *logdet) {
  PetscInt  axes[IT_MAX_DIM], m = 0;
  PetscReal sub[IT_MAX_DIM * IT_MAX_DIM], L[IT_MAX_DIM * IT_MAX_DIM];
  PetscBool definite;

  PetscFunctionBegin;
  PetscCall(ItGaussianCheckSize(d));
  for (PetscInt i = 0; i < d; i++)
    if (mask[i]) axes[m++] = i;
  for (PetscInt a = 0; a < m; a++)
    for (PetscInt b = 0; b < m; b++) sub[a * m + b] = S[axes[a] * d + axes[b]];
  PetscCall(ItGaussianCholesky(m, sub, L, logdet, &definite));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The Gaussian mutual information between the variables in mask (X) and the
   others (Y), I(X;Y) = ½ (ln det S_XX + ln det S_YY - ln det S), in nats;
   NaN when S, S_XX or S_YY is not positive definite. Not collective. */
PetscErrorCode ItGaussianMutualInformation(PetscInt d, const PetscReal S[], const PetscBool mask[],
                                           PetscReal *mi) {
  PetscBool all[IT_MAX_DIM], rest[IT_MAX_DIM];
  PetscReal logdet, logdet_x, logdet_y;

  PetscFunctionBegin;
  PetscCall(ItGaussianCheckSize(d));
  for (PetscInt i = 0; i < d; i++) {
    all[i]  = PETSC_TRUE;
    rest[i] = (PetscBool)!mask[i];
  }
  PetscCall(ItGaussianLogDet(d, S, all, &logdet));
  PetscCall(ItGaussianLogDet(d, S, mask, &logdet_x));
  PetscCall(ItGaussianLogDet(d, S, rest, &logdet_y));
  *mi = 0.5 * (logdet_x + logdet_y - logdet);
  PetscFunctionReturn(PETSC_SUCCESS);
}
