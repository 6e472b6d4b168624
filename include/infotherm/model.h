/* Model: the variables, drift A_i(x,t) and diffusion D_i(x,t) of PHYSICS.md §1–2,
   their named parameters and their validation. Implementations are picked by
   name (-model) from a registry; each is one file in src/model/. */
#pragma once
#include <petscsys.h>
#include <petscviewer.h>

#if PETSC_VERSION_LT(3, 19, 0)
#define PETSC_SUCCESS 0 /* PETSc 3.18, as Debian 12 ships it */
#endif

#define IT_MAX_DIM 3
#define IT_MAX_PARAMS 40
#define IT_NAME_LEN 32

typedef struct _p_ItModel *ItModel;

/* Drift and diffusion at one point x[dim]: A[dim], D[dim]. Hot: no checks. */
typedef void (*ItModelPointFn)(ItModel model, PetscReal t, const PetscReal x[], PetscReal A[],
                               PetscReal D[]);
/* The same at n points x[n*dim] (bulk form, for models that evaluate arrays). */
typedef PetscErrorCode (*ItModelEvaluateFn)(ItModel model, PetscReal t, PetscInt n,
                                            const PetscReal x[], PetscReal A[], PetscReal D[]);
typedef PetscErrorCode (*ItModelCreateFn)(ItModel model);

typedef enum { IT_PARAM_ANY, IT_PARAM_POSITIVE } ItParamKind;

typedef struct {
  char        name[IT_NAME_LEN];
  PetscReal   value;
  ItParamKind kind;
  const char *help;
} ItParam;

/* A stimulus schedule for one parameter (PHYSICS.md §2): values at times,
   held piecewise constant, or ramped linearly between the points. */
#define IT_MAX_PROTOCOLS 8
#define IT_MAX_PROTOCOL_POINTS 64
typedef struct {
  PetscInt  param; /* index in the parameter table */
  PetscBool ramp;
  PetscInt  n;
  PetscReal t[IT_MAX_PROTOCOL_POINTS], value[IT_MAX_PROTOCOL_POINTS];
} ItProtocol;

struct _p_ItModel {
  MPI_Comm comm;
  char     type[IT_NAME_LEN];
  PetscInt dim;
  char     var[IT_MAX_DIM][IT_NAME_LEN];
  PetscInt parity[IT_MAX_DIM]; /* +1 even, -1 odd under time reversal (-parity) */
  PetscInt nparam;
  ItParam  param[IT_MAX_PARAMS];
  /* default box, used when -grid_* are not given */
  PetscInt          grid_n[IT_MAX_DIM];
  PetscReal         grid_lo[IT_MAX_DIM], grid_hi[IT_MAX_DIM];
  PetscInt          nprotocol;
  ItProtocol        protocol[IT_MAX_PROTOCOLS];
  ItModelPointFn    point;
  ItModelEvaluateFn evaluate;
  /* model-specific options and checks, run after the parameters are read */
  PetscErrorCode (*setfromoptions)(ItModel);
  PetscErrorCode (*validate)(ItModel);
  PetscErrorCode (*view)(ItModel, PetscViewer);
  PetscErrorCode (*destroy)(ItModel);
  void *data;
};

/* Parameter value by index, for hot kernels. */
#define ItParamValue(model, k) ((model)->param[(k)].value)

PetscErrorCode ItModelRegisterAll(void);
PetscErrorCode ItModelRegister(const char name[], ItModelCreateFn create);
PetscErrorCode ItModelCreate(MPI_Comm comm, ItModel *model);
PetscErrorCode ItModelSetFromOptions(ItModel model);
PetscErrorCode ItModelView(ItModel model, PetscViewer viewer);
PetscErrorCode ItModelDestroy(ItModel *model);
PetscErrorCode ItModelEvaluate(ItModel model, PetscReal t, PetscInt n, const PetscReal x[],
                               PetscReal A[], PetscReal D[]);
PetscErrorCode ItModelSetTime(ItModel model, PetscReal t);
PetscReal      ItModelProtocolValue(const ItProtocol *protocol, PetscReal t);
PetscReal      ItModelNextSwitch(ItModel model, PetscReal t);
PetscErrorCode ItModelVariableIndex(ItModel model, const char option[], const char name[],
                                    PetscInt *index);

/* Used by implementations while they are created. */
PetscErrorCode ItModelSetVariables(ItModel model, PetscInt dim, const char *const names[]);
PetscErrorCode ItModelAddParam(ItModel model, const char name[], PetscReal value, ItParamKind kind,
                               const char help[], PetscInt *index);
PetscErrorCode ItModelSetDefaultBox(ItModel model, PetscInt axis, PetscInt n, PetscReal lo,
                                    PetscReal hi);

/* Neuron tuning curves f(v) shared by the neural models (PHYSICS.md §2). */
typedef enum { IT_TUNING_LINEAR, IT_TUNING_SIGMOID, IT_TUNING_BELL } ItTuningType;
typedef struct {
  ItTuningType type;
  PetscInt     r0, lambda, rmax, beta, theta, vpref, s; /* parameter indices */
} ItTuning;

PetscErrorCode ItTuningRegister(ItModel model, const char suffix[], ItTuningType type,
                                PetscReal theta, PetscReal beta, ItTuning *tuning);
PetscErrorCode ItTuningSetFromOptions(ItModel model, const char suffix[], ItTuning *tuning);
const char    *ItTuningName(const ItTuning *tuning);

static inline PetscReal ItTuningEval(ItModel model, const ItTuning *tuning, PetscReal v) {
  switch (tuning->type) {
  case IT_TUNING_LINEAR:
    return ItParamValue(model, tuning->r0) + ItParamValue(model, tuning->lambda) * v;
  case IT_TUNING_SIGMOID:
    return ItParamValue(model, tuning->rmax) /
           (1.0 + PetscExpReal(-ItParamValue(model, tuning->beta) *
                               (v - ItParamValue(model, tuning->theta))));
  case IT_TUNING_BELL: {
    const PetscReal z = (v - ItParamValue(model, tuning->vpref)) / ItParamValue(model, tuning->s);
    return ItParamValue(model, tuning->rmax) * PetscExpReal(-0.5 * z * z);
  }
  }
  return 0.0;
}

/* The particle's velocity parameters come first in every model with v, at these indices. */
enum { IT_P_TAU_V, IT_P_SIGMA_V, IT_P_V0, IT_P_VELOCITY_END };
PetscErrorCode ItModelAddVelocityParams(ItModel model);

/* Ornstein–Uhlenbeck velocity: A_v = -(v - v0)/tau_v, D_v = sigma_v^2/tau_v. */
static inline void ItVelocityPoint(ItModel model, PetscReal v, PetscReal *A, PetscReal *D) {
  const PetscReal tau_v   = ItParamValue(model, IT_P_TAU_V),
                  sigma_v = ItParamValue(model, IT_P_SIGMA_V);

  *A = -(v - ItParamValue(model, IT_P_V0)) / tau_v;
  *D = sigma_v * sigma_v / tau_v;
}

PetscErrorCode ItModelCreate_Linear(ItModel);
PetscErrorCode ItModelCreate_Brownian(ItModel);
PetscErrorCode ItModelCreate_Inference(ItModel);
PetscErrorCode ItModelCreate_Population(ItModel);
PetscErrorCode ItModelCreate_Hebbian(ItModel);
PetscErrorCode ItModelCreate_Bistable(ItModel);
PetscErrorCode ItModelCreate_Expr(ItModel);
