/* The model's implementation, for src/model/ only: the parameter table, the
   schedules, and the functions an implementation provides. Implementations
   evaluate (const model, t, p[], ...) and never write to the model. */
#pragma once
#include <infotherm/model.h>

typedef const struct _p_ItModel *ItModelConst;

/* Bulk kernels compiled for AVX-512 and AVX2 besides the baseline, picked at
   run time; every version does the same IEEE operations (no FMA contraction
   under -std=c17), so the results do not depend on the machine. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && __GNUC__ >= 11
#define IT_MODEL_CLONES                                                                            \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define IT_MODEL_CLONES
#endif

/* Drift and diffusion at one point x[dim] with the parameters p[]: A[dim], D[dim]. Hot: no checks.
 */
typedef void (*ItModelPointFn)(ItModelConst model, PetscReal t, const PetscReal p[],
                               const PetscReal x[], PetscReal A[], PetscReal D[]);
/* The same at n points x[n*dim] (bulk form, for models that evaluate arrays). */
typedef PetscErrorCode (*ItModelEvaluateFn)(ItModelConst model, PetscReal t, const PetscReal p[],
                                            PetscInt n, const PetscReal x[], PetscReal A[],
                                            PetscReal D[]);
/* The same in structure-of-arrays form: x[i*ld + k], A[i*ld + k], D[i*ld + k]. */
typedef PetscErrorCode (*ItModelEvaluateSoAFn)(ItModelConst model, PetscReal t, const PetscReal p[],
                                               PetscInt n, PetscInt ld, const PetscReal x[],
                                               PetscReal A[], PetscReal D[]);
/* Models that keep state while they evaluate (muparser's parsers, arrays,
   caches) keep it in a workspace of their own type: made and freed by
   work_create/work_destroy, passed to evaluate_work/evaluate_soa_work. The
   model stays const; each consumer owns its workspace (ItModelWorkCreate). */
typedef PetscErrorCode (*ItModelWorkCreateFn)(ItModelConst model, void **work);
typedef PetscErrorCode (*ItModelWorkDestroyFn)(ItModelConst model, void *work);
typedef PetscErrorCode (*ItModelEvaluateWorkFn)(ItModelConst model, void *work, PetscReal t,
                                                const PetscReal p[], PetscInt n,
                                                const PetscReal x[], PetscReal A[], PetscReal D[]);
typedef PetscErrorCode (*ItModelEvaluateSoAWorkFn)(ItModelConst model, void *work, PetscReal t,
                                                   const PetscReal p[], PetscInt n, PetscInt ld,
                                                   const PetscReal x[], PetscReal A[],
                                                   PetscReal D[]);
typedef PetscErrorCode (*ItModelCreateFn)(ItModel model);

typedef enum { IT_PARAM_ANY, IT_PARAM_POSITIVE, IT_PARAM_NONNEGATIVE } ItParamKind;

typedef struct {
  char        name[IT_NAME_LEN];
  PetscReal   value; /* the base value (-<name>); a schedule overrides it in time */
  ItParamKind kind;
  const char *help;
} ItParam;

/* A stimulus schedule for one parameter (doc/physics.md §2): values at times,
   held piecewise constant, or ramped linearly between the points. */
#define IT_MAX_PROTOCOLS 8
#define IT_MAX_PROTOCOL_POINTS 64
typedef struct {
  PetscInt  param; /* index in the parameter table */
  PetscBool ramp;
  PetscInt  n;
  PetscReal t[IT_MAX_PROTOCOL_POINTS], value[IT_MAX_PROTOCOL_POINTS];
} ItProtocol;

typedef struct {
  ItModelPointFn       point;
  ItModelEvaluateFn    evaluate;
  ItModelEvaluateSoAFn evaluate_soa; /* default: ItModelEvaluateSoA_Bulk, through evaluate */
  /* only for models with evaluation state (expr); NULL: no workspace needed */
  ItModelWorkCreateFn      work_create;
  ItModelWorkDestroyFn     work_destroy;
  ItModelEvaluateWorkFn    evaluate_work;
  ItModelEvaluateSoAWorkFn evaluate_soa_work;
  /* model-specific options and checks, run after the parameters are read */
  PetscErrorCode (*setfromoptions)(ItModel);
  PetscErrorCode (*validate)(ItModel);
  PetscErrorCode (*view)(ItModel, PetscViewer);
  /* adds what defines this implementation's physics beyond the parameters */
  PetscErrorCode (*fingerprint)(ItModel, json_t *);
  /* formulas that use t make the model depend on time continuously */
  PetscBool (*uses_time)(ItModel);
  /* the option that gives variable i's drift (or diffusion) as a formula,
     for messages; NULL: the parameters set them (ItModelGetCoefficientOption) */
  PetscErrorCode (*coefficient_option)(ItModel, PetscInt, PetscBool, char[], size_t);
  PetscErrorCode (*destroy)(ItModel);
} ItModelOps;

struct _p_ItModel {
  MPI_Comm            comm;
  char                type[IT_NAME_LEN];
  const ItOptionName *options; /* what it reads besides its parameters (ItModelType) */
  PetscInt            dim;
  char                var[IT_MAX_DIM][IT_NAME_LEN];
  PetscInt            parity[IT_MAX_DIM]; /* +1 even, -1 odd under time reversal (-parity) */
  PetscInt            nparam;
  ItParam             param[IT_MAX_PARAMS];
  PetscInt            grid_n[IT_MAX_DIM]; /* default box, used when -grid_* are not given */
  PetscReal           grid_lo[IT_MAX_DIM], grid_hi[IT_MAX_DIM];
  PetscInt            nprotocol;
  ItProtocol          protocol[IT_MAX_PROTOCOLS];
  ItTimeDependence    time;
  ItModelOps          ops;
  PetscInt            bulk_size; /* points per evaluation that amortise a call (0: any) */
  /* the model's own boundaries (doc/physics.md §8): kind per axis, and for
     threshold_reset the indices + 1 of the parameters giving the threshold,
     reset point and refractory time (0: none) */
  ItBoundaryKind boundary[IT_MAX_DIM];
  PetscInt       threshold_param[IT_MAX_DIM], reset_param[IT_MAX_DIM], refractory_param[IT_MAX_DIM];
  void          *data;
};

/* Used by implementations while they are created. */
PetscErrorCode ItModelSetVariables(ItModel model, PetscInt dim, const char *const names[]);
PetscErrorCode ItModelAddParam(ItModel model, const char name[], PetscReal value, ItParamKind kind,
                               const char help[], PetscInt *index);
PetscErrorCode ItModelSetDefaultBox(ItModel model, PetscInt axis, PetscInt n, PetscReal lo,
                                    PetscReal hi);
PetscErrorCode ItModelSetBoundary(ItModel model, PetscInt axis, ItBoundaryKind kind,
                                  PetscInt threshold, PetscInt reset, PetscInt refractory);
PetscErrorCode ItModelReadVariableNames(ItModel model, PetscInt *n, char *names[], PetscBool *set);
PetscBool      ItModelIsName(const char name[]);

/* Neuron tuning curves f(v) shared by the neural models (doc/physics.md §2). */
typedef enum { IT_TUNING_LINEAR, IT_TUNING_SIGMOID, IT_TUNING_BELL } ItTuningType;
typedef struct {
  ItTuningType type;
  PetscInt     r0, lambda, rmax, beta, theta, vpref, s; /* parameter indices */
} ItTuning;

PetscErrorCode ItTuningRegister(ItModel model, const char suffix[], ItTuningType type,
                                PetscReal theta, PetscReal beta, ItTuning *tuning);
PetscErrorCode ItTuningSetFromOptions(ItModel model, const char suffix[], ItTuning *tuning);
const char    *ItTuningName(const ItTuning *tuning);
void ItTuningEvalArray(const PetscReal p[], const ItTuning *tuning, PetscInt n, const PetscReal v[],
                       PetscReal f[]);
PetscErrorCode ItTuningFingerprint(const ItTuning *tuning, const char key[], json_t *fingerprint);

static inline PetscReal ItTuningEval(const PetscReal p[], const ItTuning *tuning, PetscReal v) {
  switch (tuning->type) {
  case IT_TUNING_LINEAR:
    return p[tuning->r0] + p[tuning->lambda] * v;
  case IT_TUNING_SIGMOID:
    return p[tuning->rmax] / (1.0 + PetscExpReal(-p[tuning->beta] * (v - p[tuning->theta])));
  case IT_TUNING_BELL: {
    const PetscReal z = (v - p[tuning->vpref]) / p[tuning->s];
    return p[tuning->rmax] * PetscExpReal(-0.5 * z * z);
  }
  }
  return 0.0;
}

/* The particle's velocity parameters come first in every model with v, at these indices. */
enum { IT_P_TAU_V, IT_P_SIGMA_V, IT_P_V0, IT_P_VELOCITY_END };
PetscErrorCode ItModelAddVelocityParams(ItModel model);

/* Ornstein–Uhlenbeck velocity: A_v = -(v - v0)/tau_v, D_v = sigma_v^2/tau_v. */
static inline void ItVelocityPoint(const PetscReal p[], PetscReal v, PetscReal *A, PetscReal *D) {
  *A = -(v - p[IT_P_V0]) / p[IT_P_TAU_V];
  *D = p[IT_P_SIGMA_V] * p[IT_P_SIGMA_V] / p[IT_P_TAU_V];
}

/* The Hebbian / BCM neuron–synapse pair of doc/physics.md §2 (src/model/hebbian.c):
   an input u(v) drives the neuron r through the weight w,
     A_r = (-r + w u)/tau_r,                          D_r = sigma_r^2/tau_r,
     A_w = (eps u r (r - thetaM) - (w - w0))/tau_w,   D_w = sigma_w^2/tau_w (x w if multiplicative).
   A model with several pairs registers the parameters once and shares them. */
typedef struct {
  PetscInt  tau_r, sigma_r, tau_w, sigma_w, eps, thetaM, w0; /* parameter indices */
  PetscBool multiplicative;                                  /* -<model>_w_noise multiplicative */
} ItSynapse;

PetscErrorCode ItSynapseRegister(ItModel model, PetscReal sigma_r, PetscReal sigma_w,
                                 ItSynapse *synapse);
PetscErrorCode ItSynapseSetFromOptions(ItModel model, ItSynapse *synapse);
const char    *ItSynapseNoiseName(const ItSynapse *synapse);
void           ItSynapseEvalArray(const PetscReal p[], const ItSynapse *synapse, PetscInt n,
                                  const PetscReal r[], const PetscReal w[], PetscReal Au_r[], PetscReal A_w[],
                                  PetscReal D_r[], PetscReal D_w[]);

static inline void ItSynapsePoint(const PetscReal p[], const ItSynapse *synapse, PetscReal u,
                                  PetscReal r, PetscReal w, PetscReal A[2], PetscReal D[2]) {
  const PetscReal tau_r = p[synapse->tau_r], sigma_r = p[synapse->sigma_r];
  const PetscReal tau_w = p[synapse->tau_w], sigma_w = p[synapse->sigma_w];

  A[0] = (-r + w * u) / tau_r;
  D[0] = sigma_r * sigma_r / tau_r;
  A[1] = (p[synapse->eps] * u * r * (r - p[synapse->thetaM]) - (w - p[synapse->w0])) / tau_w;
  D[1] = sigma_w * sigma_w / tau_w * (synapse->multiplicative ? w : 1.0);
}

/* A built-in model: how it is made and the option names it reads besides
   its parameters (a table ending in {NULL}, named -<model>_..., or NULL).
   Each model file defines one, ItModelType_<Suffix>, and
   src/model/models.def lists it: that line is its registration, its
   declaration and its line in the build. */
typedef struct {
  ItModelCreateFn     create;
  const ItOptionName *options;
} ItModelType;

/* The implementation's part of a workspace (NULL for a model that needs none). */
PetscErrorCode ItModelWorkGetData(ItModelWork work, void **data);

/* Compiled expression formulas (src/model/expr_compile.c), for the expr
   model only: the formulas translated to C, compiled by the system's C
   compiler into a shared object cached by a hash of the generated source,
   and loaded with dlopen. */
/* The kernels of a compiled formula set: drift and diffusion at n points,
   with the parameters p[] (in the model's table order) and the time t.
   Array-of-structures: x[k*dim + i]; structure-of-arrays: x[i*ld + k]. The
   inputs and outputs do not overlap. */
typedef void (*ItExprAoSFn)(long n, double t, const double *p, const double *x, double *A,
                            double *D);
typedef void (*ItExprSoAFn)(long n, long ld, double t, const double *p, const double *x, double *A,
                            double *D);

typedef struct {
  void       *handle; /* dlopen's */
  ItExprAoSFn aos;
  ItExprSoAFn soa;
  char        path[PETSC_MAX_PATH_LEN + 32]; /* the shared object */
} ItExprCompiled;

/* The C source of the formulas (drift of each variable, then diffusion),
   in malloc'd *source; NULL and a reason when a formula holds something
   the translator does not know (the caller then keeps muparser). Not
   collective. *key: what the object computes (the formulas and names), which
   the object embeds and ItExprCompile checks after loading it. */
PetscErrorCode ItExprTranslate(ItModelConst model, const char *const formula[], char **source,
                               char **key, char reason[], size_t len);

/* Compiles `source` with `cc` (words separated by spaces) into a shared
   object under `cache` (rank 0 of the model's communicator compiles, the
   others wait; a file is published by an atomic rename), and loads it on
   every rank. compiled->handle is NULL, and `reason` says why, when any
   rank could not load it. Collective. */
PetscErrorCode ItExprCompile(ItModelConst model, const char source[], const char key[],
                             const char cc[], const char cache[], ItExprCompiled *compiled,
                             char reason[], size_t len);
PetscErrorCode ItExprCompiledRelease(ItExprCompiled *compiled);

/* The default cache folder: $XDG_CACHE_HOME/infotherm, else $HOME/.cache/infotherm. */
PetscErrorCode ItExprDefaultCache(char cache[], size_t len);
