/* Spectrum: the slowest relaxation rates of the Fokker–Planck operator L
   (doc/physics.md §6) and their eigenvectors, from SLEPc's eigensolver with
   shift-and-invert. L has the eigenvalue 0 (the stationary density); the
   others are -λ_k + i ω_k with 0 < λ_1 <= λ_2 <= ... A rate here is λ_k
   (positive for decay) and its imaginary part ω_k, so that a mode evolves as
   exp((-λ_k + i ω_k) t). A complex pair is reported as two consecutive rates
   k, k+1 with ω and -ω (ω > 0 first), and, as LAPACK does, the real and
   imaginary parts of the eigenvector of rate k as the vectors of k and k+1.
   Create / SetFromOptions (reads -spectrum_t, -spectrum_nev and the
   eigensolver's -spectrum_eps_*, -spectrum_st_*) / Solve / Get* / Destroy;
   all collective but the getters. */
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

/* Option names read here (src/model/option_names.c). */
extern const ItOptionName ItSpectrumOptionNames[]; /* src/spectrum/spectrum.c */
