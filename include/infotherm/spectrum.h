/* Spectrum: the slowest relaxation rates of the Fokker–Planck operator L
   (PHYSICS.md §6) and their eigenvectors, from SLEPc's eigensolver with
   shift-and-invert. L has the eigenvalue 0 (the stationary density); the
   others are -λ_k with 0 < Re λ_1 <= Re λ_2 <= ... A rate here is λ_k
   (positive for decay), its imaginary part the oscillation, so that a mode
   evolves as exp(-(λ_k + i λ_k_imag) t). A complex pair is reported as two
   consecutive rates k, k+1 with imaginary parts +ω and -ω, and, as LAPACK
   does, the real and imaginary parts of the eigenvector of rate k as the
   vectors of k and k+1. */
#pragma once
#include <infotherm/fp.h>

typedef struct _p_ItSpectrum *ItSpectrum;

PetscErrorCode ItSpectrumCreate(ItGrid grid, ItModel model, ItSpectrum *spectrum);
PetscErrorCode ItSpectrumSetFromOptions(ItSpectrum spectrum);
PetscErrorCode ItSpectrumSolve(ItSpectrum spectrum);
PetscInt       ItSpectrumGetCount(ItSpectrum spectrum);
PetscReal      ItSpectrumGetTime(ItSpectrum spectrum);
PetscErrorCode ItSpectrumGetRate(ItSpectrum spectrum, PetscInt k, PetscReal *rate, PetscReal *imag,
                                 PetscReal *residual);
PetscErrorCode ItSpectrumGetVector(ItSpectrum spectrum, PetscInt k, Vec *v);
PetscErrorCode ItSpectrumGetBoundaryMass(ItSpectrum spectrum, PetscInt k, PetscReal *fraction);
PetscErrorCode ItSpectrumGetIterations(ItSpectrum spectrum, PetscInt *iterations);
PetscErrorCode ItSpectrumDestroy(ItSpectrum *spectrum);
