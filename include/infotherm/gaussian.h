/* Gaussian closed forms for any number of variables (at most IT_MAX_DIM):
   the Cholesky factor of a covariance, the log-determinant of a
   sub-covariance and the mutual information of a Gaussian between a set of
   its variables and the rest. Used by the initial Gaussian (src/init), the
   Monte Carlo's Gaussian estimates and the cross-check (src/mc). */
#pragma once
#include <infotherm/model.h>

/* Gaussian closed forms (src/gaussian/gaussian.c): a covariance S is d x d, row-major and symmetric
   (one triangle is read); a mask selects a subset of the d variables. Not collective. */
PetscErrorCode ItGaussianCholesky(PetscInt d, const PetscReal S[], PetscReal L[], PetscReal *logdet,
                                  PetscBool *definite);
PetscErrorCode ItGaussianLogDet(PetscInt d, const PetscReal S[], const PetscBool mask[],
                                PetscReal *logdet);
PetscErrorCode ItGaussianMutualInformation(PetscInt d, const PetscReal S[], const PetscBool mask[],
                                           PetscReal *mi);
