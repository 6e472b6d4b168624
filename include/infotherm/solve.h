/* Solve: the transient solve of dp/dt = L p with PETSc TS, the stationary
   solve of L p = 0 with ∫ p = 1, initial Gaussian densities, and progress. */
#pragma once
#include <petscts.h>
#include <infotherm/fp.h>

/* Called after every accepted step, and at t = 0 and every output or snapshot
   time with `row` marking the multiples of -output_every and `snapshot` those
   of -snapshot_every (and t_final); a time may be handed over more than once. */
typedef PetscErrorCode (*ItSolveOutputFn)(void *ctx, PetscReal t, PetscInt step, Vec p, PetscBool row, PetscBool snapshot);

typedef struct {
  PetscReal t_final, output_every, snapshot_every;
  PetscBool quiet;
  PetscInt  steps, ksp_iterations; /* filled by the solve */
} ItSolveSettings;

PetscErrorCode ItSolveSettingsFromOptions(MPI_Comm comm, ItSolveSettings *settings);
PetscErrorCode ItSolveTransient(ItFP fp, ItSolveSettings *settings, Vec p, ItSolveOutputFn output, void *ctx);
PetscErrorCode ItSolveStationary(ItFP fp, Vec p, PetscReal *residual, PetscInt *iterations);
PetscErrorCode ItSolveGaussian(ItGrid grid, Vec p);
PetscErrorCode ItSolveNormalize(ItGrid grid, Vec p);
