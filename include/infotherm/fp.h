/* Fokker–Planck operator: the finite-volume discretisation of
   ∂t p = -Σ_i ∂i J_i, J_i = A_i p - ∂i(D_i p), on the grid's cells, as face
   fluxes of Scharfetter–Gummel type with zero flux through the walls.
   ItFaces: the face coefficients at one time, a pure function of (model,
   grid, t); diagnostics keep their own (or read the solver's when
   the model does not depend on time). ItFP: the operator L from them, owned
   by a solver: applied matrix-free, assembled on request, or assembled
   shifted, scale (shift I - L), for implicit stages and multigrid levels. */
#pragma once
#include <petscmat.h>
#include <infotherm/grid.h>

typedef struct _p_ItFaces *ItFaces;
typedef struct _p_ItFP    *ItFP;

PetscErrorCode ItFacesCreate(ItGrid grid, ItModel model, ItFaces *faces);
PetscErrorCode ItFacesCompute(ItFaces faces, PetscReal t);
PetscErrorCode ItFacesSetTime(ItFaces faces, PetscReal t, PetscBool *changed);
PetscErrorCode ItFacesSetParameters(ItFaces faces, PetscReal t, const PetscReal p[],
                                    PetscBool *changed);
PetscInt       ItFacesGetState(ItFaces faces);
PetscErrorCode ItFacesGetAxis(ItFaces faces, PetscInt axis, const PetscReal **lo,
                              const PetscReal **hi, const PetscReal **irr_lo,
                              const PetscReal **irr_hi);
PetscBool      ItFacesIrreversible(ItFaces faces);
PetscErrorCode ItFacesGetMaxRates(ItFaces faces, PetscReal rate[]);
PetscErrorCode ItFacesSetLevel(ItFaces faces);
PetscErrorCode ItFacesSetRatesOnly(ItFaces faces);
PetscErrorCode ItFacesRestoreOrder(ItFaces faces);
PetscBool      ItFacesIsRatesOnly(ItFaces faces);
PetscErrorCode ItFacesDestroy(ItFaces *faces);

PetscErrorCode ItFPCreate(ItGrid grid, ItModel model, ItFP *fp);
PetscErrorCode ItFPCreateWithFaces(ItGrid grid, ItModel model, ItFaces faces, ItFP *fp);
PetscErrorCode ItFPSetTime(ItFP fp, PetscReal t);
PetscErrorCode ItFPGetMatrix(ItFP fp, Mat *L);
PetscErrorCode ItFPApply(ItFP fp, Vec p, Vec Lp);
ItFaces        ItFPGetFaces(ItFP fp);
/* Operators J = scale (shift I - L) straight from faces (multigrid levels,
   implicit stages), and the matrix-free L p. */
PetscErrorCode ItFPCreateMatrix(ItGrid grid, Mat *J);
PetscErrorCode ItFPAssembleShifted(ItFaces faces, PetscReal shift, PetscReal scale, Mat J);
PetscErrorCode ItFPSetShift(ItFaces faces, PetscReal shift, PetscReal scale, Mat J);
PetscErrorCode ItFPApplyFaces(ItFaces faces, Vec p, Vec Lp);
/* The fourth-order operator (-fp_order 4) scale (shift I - L), matrix-free,
   with an optional pinned row (global index, -1: none). */
PetscInt       ItFacesGetOrder(ItFaces faces);
PetscErrorCode ItFacesGetResolution(ItFaces faces, PetscReal *rho);
PetscErrorCode ItFacesSetDensity(ItFaces faces, Vec p);
PetscErrorCode ItFPCreateShiftedFree(ItFaces faces, Mat *A);
PetscScalar    ItFacesAxisDivergence(ItFaces faces, PetscInt axis, const PetscInt c[],
                                     const PetscScalar pl[]);
PetscErrorCode ItFacesCellFlows(ItFaces faces, const PetscScalar pl[], PetscReal flow[]);
PetscErrorCode ItFacesCellFlowsPair(ItFaces faces, const PetscScalar pl[], const PetscScalar pl2[],
                                    PetscReal flow[], PetscReal flow2[]);
PetscErrorCode ItFacesIrreversibleSums(ItFaces faces, const PetscScalar pl[], const PetscReal lnp[],
                                       PetscReal flow[], PetscReal ep[]);
PetscErrorCode ItFPShiftedSet(Mat A, PetscReal shift, PetscReal scale, PetscInt pin,
                              PetscScalar pin_value);
PetscErrorCode ItFPCreateShiftedMatrix(ItGrid grid, Mat *P);
PetscErrorCode ItFPShiftedAssemble(Mat A, Mat P);
ItModel        ItFPGetModel(ItFP fp);
/* Threshold and reset (src/fp/boundary.c, doc/physics.md §8): the threshold
   face's coefficients, and the reset matrix R (L = L_faces + R) of faces on
   a grid with a threshold_reset axis (NULL otherwise). */
void ItFPThresholdFace(PetscReal h, PetscReal Af, PetscReal Df, PetscReal Dlow, PetscReal *lo,
                       PetscReal *hi);
PetscErrorCode ItFPResetCreate(ItGrid grid, Mat *R);
PetscErrorCode ItFPResetAssemble(ItGrid grid, PetscReal *const lo[], PetscBool delayed, Mat R);
PetscErrorCode ItFPResetAddTo(Mat R, PetscReal scale, Mat J);
Mat            ItFacesGetReset(ItFaces faces);
PetscBool      ItFPFourthFace(ItBoundaryKind kind, PetscInt face, PetscInt n);
/* -fp_order 4: the closures at threshold and reset (src/fp/closure.c). */
typedef struct _p_ItFPClosure *ItFPClosure;
PetscErrorCode                 ItFPClosureCreate(ItGrid grid, ItModel model, ItFPClosure *cl);
PetscErrorCode                 ItFPClosureDestroy(ItFPClosure *cl);
PetscBool                      ItFPClosureFace(ItFPClosure cl, PetscInt a, PetscInt face);
PetscErrorCode                 ItFPClosureBegin(ItFPClosure cl);
PetscErrorCode ItFPClosureSet(ItFPClosure cl, PetscReal t, const PetscReal p[], PetscInt a,
                              const PetscInt c[], PetscInt face, PetscReal lo, PetscReal hi,
                              PetscBool delayed);
PetscErrorCode ItFPClosureEnd(ItFPClosure cl);
PetscErrorCode ItFPClosureApply(ItFPClosure cl, Vec p, Vec Lp);
PetscErrorCode ItFPClosureAddTo(ItFPClosure cl, PetscReal scale, Mat J);
PetscErrorCode ItFPClosureAxis(ItFPClosure cl, PetscInt a, Vec p, Vec div, Vec loss);
Mat            ItFPClosureGetReset(ItFPClosure cl);
Vec            ItFPClosureGetShape(ItFPClosure cl);
PetscErrorCode ItFPClosureRates(ItFPClosure cl, Vec p, PetscReal rate[]);
ItFPClosure    ItFacesGetClosure(ItFaces faces);
PetscErrorCode ItFPThresholdRates(ItFaces faces, ItGrid grid, Vec p, PetscReal rate[]);
PetscErrorCode ItFPRefractoryScale(ItFaces faces, ItGrid grid, Vec p);
/* The same from the faces' coefficients lo[axis] (src/fp/boundary.c, which
   never reads an ItFaces: fp.c calls it, not the other way round). */
PetscErrorCode ItFPThresholdCurrents(ItGrid grid, PetscReal *const lo[], Vec p, PetscReal rate[]);
PetscErrorCode ItFPRefractoryScaleWith(ItGrid grid, PetscReal *const lo[], Vec p);
PetscErrorCode ItFPRefractoryScaleRates(ItGrid grid, const PetscReal rate[], Vec p);
/* A transient's refractory compartment (src/fp/refractory.c): the faces
   leave the delayed axes out of R, and the history of the outflux gives the
   re-injection τ_ref later. */
PetscErrorCode                  ItFacesSetDelayedReset(ItFaces faces, PetscBool delayed);
PetscBool                       ItFacesGetDelayedReset(ItFaces faces);
typedef struct _p_ItRefractory *ItRefractory;
PetscErrorCode                  ItRefractoryCheck(ItGrid grid, ItModel model);
PetscInt                        ItRefractoryGetFieldSize(ItRefractory h);
PetscErrorCode ItRefractoryExitField(ItRefractory h, ItFaces faces, ItGrid grid, Vec p,
                                     const PetscReal **field, PetscReal *rate);
PetscErrorCode ItRefractorySource(ItRefractory h, ItGrid grid, Vec shape, PetscReal t,
                                  PetscReal scale, Vec F);
PetscErrorCode ItRefractoryGetInflowField(ItRefractory h, PetscReal t, PetscReal field[]);
PetscErrorCode ItRefractorySetFixedField(ItRefractory h, const PetscReal field[]);
PetscErrorCode ItRefractoryStationaryAdd(ItRefractory h, ItFaces faces, ItGrid grid, Vec p,
                                         PetscReal minus, PetscReal scale, Vec F);
PetscErrorCode ItRefractoryStationaryOperator(ItRefractory h, ItFaces faces, ItGrid grid, Mat op,
                                              PetscInt pin, Mat *M);
PetscErrorCode ItRefractoryCreate(ItGrid grid, ItModel model, ItRefractory *h);
PetscErrorCode ItRefractoryCreateCopy(ItGrid grid, ItModel model, ItRefractory *h);
PetscErrorCode ItRefractoryDestroy(ItRefractory *h);
void           ItRefractorySetPast(ItRefractory h, PetscReal rate);
PetscReal      ItRefractoryGetTime(ItRefractory h);
PetscInt       ItRefractoryGetAxis(ItRefractory h);
PetscErrorCode ItRefractoryPush(ItRefractory h, PetscReal t, PetscReal Q, PetscReal nu,
                                const PetscReal field[]);
PetscErrorCode ItRefractoryGetLast(ItRefractory h, PetscReal *t, PetscReal *Q);
PetscErrorCode ItRefractoryGet(ItRefractory h, PetscReal t, PetscReal *inflow, PetscReal *injected,
                               PetscReal *held);
PetscErrorCode ItRefractoryResetVector(ItRefractory h, ItGrid grid, Vec r);
PetscErrorCode ItRefractoryAttach(ItRefractory h, Vec p);
void           ItRefractorySetTotal(ItRefractory h, PetscReal total);
void      ItRefractorySetFixed(ItRefractory h, PetscReal t, PetscReal inflow, PetscReal injected,
                               PetscReal held);
PetscReal ItRefractoryGetTotal(ItRefractory h);
PetscErrorCode ItRefractoryGetState(ItRefractory h, PetscInt *n, PetscReal **state);
PetscErrorCode ItRefractorySetState(ItRefractory h, PetscInt n, const PetscReal state[]);
PetscErrorCode ItRefractoryQuery(Vec p, ItRefractory *h);
/* The other variables' motion during a refractory time (src/fp/reentry.c):
   the re-entry map e^{τ_ref L_y} on the grid's cross-section along an axis. */
typedef struct _p_ItReentry *ItReentry;
PetscErrorCode ItReentryCreate(ItGrid grid, ItModel model, PetscInt axis, PetscReal tau,
                               PetscBool map, ItReentry *r);
PetscErrorCode ItReentryDestroy(ItReentry *r);
PetscInt       ItReentryGetSize(ItReentry r);
PetscInt       ItReentryIndex(ItReentry r, const PetscInt c[]);
PetscErrorCode ItReentryApply(ItReentry r, const PetscReal in[], PetscReal out[]);
PetscReal      ItReentryBytes(void);
PetscErrorCode ItFPDestroy(ItFP *fp);

/* Offset of the low face of owned cell c along `axis` in the face arrays: the
   owned box with one more face along `axis`, in the grid's storage order (the
   density's fastest axis fastest, so a row of cells streams its faces). */
static inline PetscInt ItFPFaceOffset(ItGrid grid, PetscInt axis, const PetscInt c[]) {
  const ItGridInfo *info = ItGridGetInfo(grid);
  PetscInt          m[IT_MAX_DIM];

  for (PetscInt a = 0; a < IT_MAX_DIM; a++) m[a] = info->xm[a] + (a == axis);
  return ItGridStorageOffset(grid, info->xs, m, c);
}
