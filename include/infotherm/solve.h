/* Solve: the transient solve of dp/dt = L p with PETSc TS, the stationary
   solve of L p = 0 with ∫ p = 1, the checks that a grid function is a
   density, and progress. */
#pragma once
#include <petscts.h>
#include <infotherm/fp.h>

/* Called after every accepted step, and at t = 0 and every output or snapshot
   time with `row` marking the multiples of -output_every and `snapshot` those
   of -snapshot_every (and t_final); a time may be handed over more than once. */
typedef PetscErrorCode (*ItSolveOutputFn)(void *ctx, PetscReal t, PetscInt step, Vec p,
                                          PetscBool row, PetscBool snapshot);

/* Polled after every step (collective): stop = write a checkpoint and return;
   checkpoint = write one and go on. */
typedef PetscErrorCode (*ItSolveInterruptFn)(void *ctx, PetscBool *stop, PetscBool *checkpoint);
/* Writes a checkpoint of p at time t, with the step number and the next step size. */
typedef PetscErrorCode (*ItSolveCheckpointFn)(void *ctx, PetscReal t, PetscInt step, PetscReal dt,
                                              Vec p);

typedef struct {
  PetscReal t_final, output_every, snapshot_every, checkpoint_every, checkpoint_wall;
  PetscBool quiet;
  PetscReal progress; /* -progress: a line on stderr every this % of the interval (0: none) */
  /* a restart continues from t0 with step0 and the step size dt0 */
  PetscBool restarted;
  PetscReal t0, dt0;
  PetscInt  step0;
  /* and a refractory compartment's history (ItRefractoryGetState; 0: none) */
  PetscInt            nhistory;
  const PetscReal    *history;
  ItSolveInterruptFn  interrupt;
  ItSolveCheckpointFn checkpoint;
  /* > 0: the time stepper's tolerances (defaults or -ts_rtol/-ts_atol) times
     this factor (-error_estimate's time-error solve); 0: as they are */
  PetscReal tolerance_factor;
  /* the stage solves at IT_SOLVE_STAGE_RTOL of -ts_rtol also under -fp_order 4
     (-error_estimate's own solves; src/solve/solve.c) */
  PetscBool tight_stages;
  /* when set, called with the solver's faces (the fine operator's) once they
     are computed, and with NULL before they are freed: the diagnostics share
     them (ItDiagShareFaces) */
  PetscErrorCode (*share_faces)(void *ctx, ItGrid grid, ItFaces faces);
  /* when set, called (with share_ctx) before the solver makes its faces: faces of
     the grid and model at t = 0 that it then owns (their Scharfetter–Gummel
     coefficients computed: the diagnostics' check, ItDiagTakeFaces), or NULL */
  PetscErrorCode (*take_faces)(void *ctx, ItGrid grid, ItFaces *faces);
  void *share_ctx;
} ItSolveSettings;

/* What a transient solve did (ItSolveTransient fills it; the settings are
   only read). */
typedef struct {
  PetscInt  steps;
  PetscReal t_end;       /* where the solve stopped */
  PetscBool interrupted; /* stopped early, after writing a checkpoint */
} ItSolveResult;

/* Geometric multigrid over the grid halved per axis, for J = scale (shift I -
   L) with rediscretised levels (src/solve/mg.c). */
#define IT_MG_MAX_LEVELS 16
/* A level smoother's sweeps: symmetric Gauss–Seidel, or one direction per
   sweep (forward before the coarse correction, backward after). */
typedef enum {
  IT_SMOOTH_SYMMETRIC,
  IT_SMOOTH_ALTERNATING,
  IT_SMOOTH_SYMMETRIC_BACKWARD
} ItSmoothDirection;
typedef struct _p_ItMG *ItMG;
PetscErrorCode ItMGCreate(ItGrid fine, ItModel model, ItFaces faces, Mat op, PetscInt levels,
                          ItMG *mg);
PetscInt       ItMGGetLevels(ItMG mg);
PetscErrorCode ItMGSetTime(ItMG mg, PetscReal t);
PetscErrorCode ItMGSetPin(ItMG mg, const PetscInt cell[]);
PetscErrorCode ItMGSetShift(ItMG mg, PetscReal shift, PetscReal scale);
PetscErrorCode ItMGSetLazy(ItMG mg, PetscBool lazy);
PetscErrorCode ItMGSetUpCoarse(ItMG mg);
PetscErrorCode ItMGSetUpPC(ItMG mg, PC pc, PCMGCycleType cycle, PetscInt sweeps);
PetscErrorCode ItMGSetFineKrylov(ItMG mg, PC pc, PetscInt sweeps);
PetscErrorCode ItMGSetSmoothing(ItMG mg, PC pc, ItSmoothDirection direction, PetscBool fine_v,
                                PetscInt next_post);
PetscErrorCode ItMGSetSmoothingFixed(ItMG mg, PC pc, PetscBool *fixed);
PetscErrorCode ItMGRestartSmoothing(ItMG mg, PC pc);
PetscBool      ItMGGetMatrixFree(ItMG mg);
PetscErrorCode ItMGCheckPC(ItMG mg, PC pc, PetscBool used);
PetscErrorCode ItMGNoteMemory(ItMG mg);
PetscErrorCode ItMGDestroy(ItMG *mg);
PetscErrorCode ItMGMatrixFree(ItGrid fine, ItFaces faces, const char prefix[],
                              PetscBool *matrix_free);
/* The levels' operators and smoothers from the faces (src/solve/smooth.c). */
PetscBool      ItSmoothSupported(ItFaces faces);
PetscErrorCode ItSmoothFromOptions(MPI_Comm comm, PetscBool *matrix_free);
PetscErrorCode ItSmoothCreateOperator(ItGrid grid, ItFaces faces, Mat *A);
PetscBool      ItSmoothIsOperator(Mat A);
PetscErrorCode ItSmoothOperatorSetShift(Mat A, PetscReal shift, PetscReal scale);
PetscErrorCode ItSmoothOperatorSetPin(Mat A, PetscInt row, PetscScalar value);
PetscErrorCode ItSmoothOperatorAssemble(Mat A, Mat *J);
PetscErrorCode ItSmoothDiagonalAt(Mat A, PetscInt row, PetscScalar *value);
PetscErrorCode ItSmoothSetUpPC(PC pc, ItSmoothDirection direction);
PetscErrorCode ItSmoothPCSetResidual(PC pc, Vec residual);
PetscErrorCode ItSmoothPCSetPostSweeps(PC pc, PetscInt sweeps);
PetscErrorCode ItSmoothPCRestart(PC pc);
/* The stage solves' preconditioner under -fp_order 4: Jacobi or the
   multigrid, per stage (src/solve/stagepc.c). */
typedef struct _p_ItStagePC *ItStagePC;
PetscErrorCode ItStagePCCreate(KSP ksp, Mat P, ItGrid grid, ItFaces faces, ItStagePC *pc);
PetscErrorCode ItStagePCSetShift(ItStagePC pc, PetscReal shift);
void           ItStagePCCount(ItStagePC pc, PetscInt its);
PetscBool      ItStagePCJacobi(ItStagePC pc);
PetscInt       ItStagePCVectors(ItStagePC pc);
PetscErrorCode ItStagePCDestroy(ItStagePC *pc);
/* The prolongation between two levels, matrix-free (src/solve/prolong.c). */
PetscErrorCode ItMGProlongationCreate(ItGrid fine, ItGrid coarse, Mat *P);
PetscErrorCode ItMGProlongationBytes(Mat P, PetscReal *bytes);

PetscErrorCode ItSolveSettingsFromOptions(MPI_Comm comm, ItSolveSettings *settings);
PetscErrorCode ItSolveCheckScales(ItGrid grid, ItModel model, const ItSolveSettings *settings);
PetscErrorCode ItSolveCheckScalesFrom(ItGrid grid, ItModel model, const ItSolveSettings *settings,
                                      const PetscReal rate0[]);
PetscInt       ItSolveOutputCount(const ItSolveSettings *settings);
PetscReal      ItSolveOutputTime(const ItSolveSettings *settings, PetscInt k);
PetscErrorCode ItSolveTransient(ItGrid grid, ItModel model, const ItSolveSettings *settings, Vec p,
                                ItSolveOutputFn output, void *ctx, ItSolveResult *result);
PetscErrorCode ItSolveStationary(ItGrid grid, ItModel model, PetscReal t, Vec p,
                                 PetscReal *residual, PetscInt *iterations);
/* What a stationary solve did: its true relative residual ‖b − A x‖/‖b‖ (of
   the last pinned solve, computed by its convergence check), its Krylov
   iterations (of every method tried), the method that converged, and when
   the first one failed, a note naming the failure and the method that took
   over ("" otherwise). */
typedef struct {
  PetscReal residual;
  PetscInt  iterations;
  char      method[64];
  char      fallback[512];
} ItSolveStationaryResult;
PetscErrorCode ItSolveStationarySmoothingFromOptions(MPI_Comm comm, PetscInt levels,
                                                     PetscBool fourth, ItSmoothDirection *direction,
                                                     PetscBool *fine_v, PetscInt *next_post);
PetscErrorCode ItSolveStationaryReport(ItGrid grid, ItModel model, PetscReal t, Vec p,
                                       ItSolveStationaryResult *result);
PetscErrorCode ItSolveNormalize(ItGrid grid, Vec p);

/* A density: every cell finite, positive mass, and cells of negative value
   (the time stepper's undershoot in the tails) holding at most this fraction
   of the mass. */
#define IT_NEGATIVE_MASS_LIMIT 1e-3
/* How far from 1 the mass of a density that infotherm wrote may be: the
   stepper keeps it to round-off (ItSolveStageMass), a snapshot stores it in
   double precision. */
#define IT_SOLVE_MASS_TOLERANCE 1e-6
PetscErrorCode ItSolveDensityStatus(ItGrid grid, Vec p, PetscReal *mass, PetscReal *negative,
                                    PetscReal *nonfinite);
PetscBool      ItSolveIsDensity(PetscReal mass, PetscReal negative);
PetscErrorCode ItSolveCheckReadDensity(ItGrid grid, Vec p, const char what[], const char fix[]);
PetscErrorCode ItSolveCheckDensity(ItGrid grid, Vec p, const char what[], const char fix[]);

/* Option names read here (src/model/option_names.c). */
extern const ItOptionName ItSolveOptionNames[]; /* src/solve/solve.c */
