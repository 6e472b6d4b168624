/* Monte Carlo (doc/physics.md §4): the Langevin equation of the model,
   dx_i = A_i dt + sqrt(2 D_i) dW_i, integrated for many independent particles
   spread over the ranks, each with a Philox stream keyed by (seed, global
   index); reflecting walls; estimates with standard errors (moments, a binned
   kernel density estimate smoothed with FFTW's MPI interface, mutual
   information, the Stratonovich medium entropy ∫ F_i ∘ dx_i); and the
   Fokker–Planck vs Monte Carlo cross-check report. Every reduction over
   particles is done block by block in global-index order, so the estimates
   are bitwise the same on any number of ranks. Arrays of grid size are
   distributed over the ranks (FFTW's slabs), so memory per rank falls with
   the rank count. */
#pragma once
#include <infotherm/diag.h>
#include <infotherm/io.h>

typedef struct _p_ItMC *ItMC;

PetscErrorCode ItMCCreate(ItGrid grid, ItModel model, ItDiag diag, PetscReal t_final, ItMC *mc);
PetscErrorCode ItMCSetKLColumn(ItMC mc);
PetscErrorCode ItMCInitialize(ItMC mc, PetscBool gaussian, Vec p0);
PetscErrorCode ItMCAdvance(ItMC mc, PetscReal t);
PetscErrorCode ItMCEstimate(ItMC mc, Vec reference);
PetscErrorCode ItMCDensityToVec(ItMC mc, Vec p);
PetscErrorCode ItMCAppendRow(ItMC mc);
PetscErrorCode ItMCWriteTable(ItMC mc, ItIO io);
PetscErrorCode ItMCWriteSummary(ItMC mc, ItIO io, const char command[], PetscLogDouble wall);
PetscErrorCode ItMCRate(ItMC mc, PetscReal *rate);
PetscErrorCode ItMCReport(ItMC mc);
PetscErrorCode ItMCSetParameter(ItMC mc, PetscInt k, PetscReal value);
PetscErrorCode ItMCDestroy(ItMC *mc);

/* Cross-check report (src/mc/crosscheck.c). */
typedef struct _p_ItCrosscheck *ItCrosscheck;

PetscErrorCode ItCrosscheckCreate(ItMC mc, ItDiag diag, ItCrosscheck *cc);
PetscErrorCode ItCrosscheckAdd(ItCrosscheck cc, PetscReal t, const PetscReal fp_values[]);
PetscErrorCode ItCrosscheckReport(ItCrosscheck cc, ItIO io, PetscInt *nfail, char worst[],
                                  PetscInt *ninconclusive, char inconclusive[], size_t len);
PetscErrorCode ItCrosscheckDestroy(ItCrosscheck *cc);
/* -error_estimate: a second Monte Carlo at twice the step (its bias), and the
   solver's values on the coarse grids at the same times (its error). */
PetscErrorCode ItCrosscheckSetBiasRun(ItCrosscheck cc, ItMC coarse_dt);
PetscErrorCode ItCrosscheckAddBias(ItCrosscheck cc);
PetscErrorCode ItCrosscheckSetSolverLevels(ItCrosscheck cc, PetscInt nlevel,
                                           const PetscReal *values[], const PetscReal *cov[]);

/* Option names read here (src/model/option_names.c). */
extern const ItOptionName ItMCOptionNames[];         /* src/mc/mc.c */
extern const ItOptionName ItCrosscheckOptionNames[]; /* src/mc/crosscheck.c */
