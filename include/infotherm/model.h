/* Model: the variables, drift A_i(x,t) and diffusion D_i(x,t) of doc/physics.md §1–2,
   their named parameters, stimulus schedules and validation. Implementations
   are picked by name (-model) from a registry; each is one file in src/model/.
   After ItModelSetFromOptions a model is immutable configuration: time is an
   argument. The parameters at time t come from one pure function,
   ItModelGetParameters (base values with the schedules applied), and every
   evaluation takes them as an argument. */
#pragma once
#include <petscsys.h>
#include <petscviewer.h>
#include <jansson.h>

#if PETSC_VERSION_LT(3, 19, 0)
#define PETSC_SUCCESS 0 /* PETSc 3.18, as Debian 12 ships it */
#endif

#define IT_MAX_DIM 6     /* variables of a model and its grid (doc/design.md "Dimensions") */
#define IT_MAX_PARAMS 40 /* parameters of one model */
#define IT_NAME_LEN 32

typedef struct _p_ItModel     *ItModel;
typedef struct _p_ItModelWork *ItModelWork;

/* How the operator depends on time: not at all; only through held (piecewise
   constant) schedules, constant between switching times; or continuously
   (ramped schedules, formulas using t). */
typedef enum { IT_TIME_INDEPENDENT, IT_TIME_PIECEWISE, IT_TIME_CONTINUOUS } ItTimeDependence;

/* The boundary kind of an axis (doc/physics.md §8): zero-flux walls, a
   circle, or an absorbing upper end whose current is re-injected at a reset
   point. */
typedef enum { IT_BOUNDARY_WALL, IT_BOUNDARY_PERIODIC, IT_BOUNDARY_THRESHOLD_RESET } ItBoundaryKind;

/* Registers the models of src/model/models.def and their option names. Not collective. */
PetscErrorCode ItModelRegisterAll(void);
/* The registered models, k < ItModelGetTypeCount(), in the order registered. */
PetscInt       ItModelGetTypeCount(void);
const char    *ItModelGetTypeNameAt(PetscInt k);
PetscErrorCode ItModelCreate(MPI_Comm comm, ItModel *model);
PetscErrorCode ItModelSetFromOptions(ItModel model);
PetscErrorCode ItModelView(ItModel model, PetscViewer viewer);
PetscErrorCode ItModelDestroy(ItModel *model);

/* Configuration (never changes after ItModelSetFromOptions). */
MPI_Comm    ItModelGetComm(ItModel model);
const char *ItModelGetTypeName(ItModel model);
/* For messages: the option that gives variable i's drift (diffusion: true)
   as a formula (-expr_drift_v), or "" when the model's parameters set it. */
PetscErrorCode ItModelGetCoefficientOption(ItModel model, PetscInt i, PetscBool diffusion,
                                           char option[], size_t len);
PetscInt       ItModelGetDimension(ItModel model);
const char    *ItModelGetVariableName(ItModel model, PetscInt i);
PetscInt       ItModelGetParity(ItModel model, PetscInt i);
PetscBool      ItModelHasOddVariables(ItModel model);
PetscInt       ItModelGetParameterCount(ItModel model);
PetscErrorCode ItModelGetParameterInfo(ItModel model, PetscInt k, const char **name,
                                       PetscReal *base, PetscBool *positive);
PetscErrorCode ItModelFindParameter(ItModel model, const char name[], PetscInt *k);
/* The option that sets parameter k: -<model>_<name> (the bare -<name> is deprecated). */
PetscErrorCode   ItModelGetParameterOption(ItModel model, PetscInt k, char option[], size_t len);
PetscErrorCode   ItModelVariableIndex(ItModel model, const char option[], const char name[],
                                      PetscInt *index);
PetscErrorCode   ItModelGetDefaultBox(ItModel model, PetscInt axis, PetscInt *n, PetscReal *lo,
                                      PetscReal *hi);
ItTimeDependence ItModelGetTimeDependence(ItModel model);
/* The model's own boundary on an axis (a spiking model's threshold and
   reset; wall for the others) and, for threshold_reset, the base values of
   its threshold, reset point and refractory time (set: whether the model
   names them; otherwise -reset_<var>, -refractory_<var> give them). */
PetscErrorCode ItModelGetBoundary(ItModel model, PetscInt axis, ItBoundaryKind *kind,
                                  PetscBool *set, PetscReal *threshold, PetscReal *reset,
                                  PetscReal *refractory);
PetscErrorCode ItModelGetFingerprint(ItModel model, json_t **fingerprint);

/* Time. */
PetscErrorCode ItModelGetParameters(ItModel model, PetscReal t, PetscReal p[]);
PetscErrorCode ItModelGetParametersRight(ItModel model, PetscReal t, PetscReal p[]);
PetscReal      ItModelNextSwitch(ItModel model, PetscReal t);

/* Drift and diffusion at n points x[n*dim] with the parameters at time t (or
   the given ones, p[ItModelGetParameterCount]). Not collective. */
PetscErrorCode ItModelEvaluate(ItModel model, PetscReal t, PetscInt n, const PetscReal x[],
                               PetscReal A[], PetscReal D[]);
PetscErrorCode ItModelEvaluateWith(ItModel model, PetscReal t, const PetscReal p[], PetscInt n,
                                   const PetscReal x[], PetscReal A[], PetscReal D[]);

/* Option reading shared by every module: PETSc reads integers into a 32-bit
   PetscInt with a wrap-around (4294967396 becomes 100), so every integer of
   an option's value, as given, is checked to fit. Collective. */
PetscErrorCode ItOptionsCheckInt(MPI_Comm comm, const char option[]);

/* The option names each module reads, declared in a table next to its
   options block and registered once (src/model/option_names.c: the
   modules' tables by the application, each model's by ItModelRegisterAll),
   so that the check of the command line (src/app/options.c) and analyze's
   use of a snapshot's options (src/io/snapshot.c) know every option without
   tables of their own. A name (without '-') that ends in '_' is a prefix; a
   table ends with {NULL}. */
typedef enum {
  IT_OPTION_SWITCH   = 1, /* given without a value it means true */
  IT_OPTION_INTEGER  = 2, /* every integer of its value must fit a PetscInt */
  IT_OPTION_LOCAL    = 4, /* of one invocation: analyze does not take it from a snapshot */
  IT_OPTION_STEERING = 8, /* where and how far a run went: snapshots of one run may differ */
  IT_OPTION_PETSC = 16, /* the prefix of a PETSc or SLEPc object's options (PETSc documents them) */
  /* a model's option -<model>_<name> whose bare -<name> is its deprecated name of earlier
     releases (-tuning for -inference_tuning): the bare name moves to it, with a warning */
  IT_OPTION_BARE_DEPRECATED = 32
} ItOptionFlag;
typedef struct {
  const char *name;
  int         flags; /* ItOptionFlag bits */
} ItOptionName;
/* owner: a module ("solve") or model types; setup: read by the model or the
   grid before the options are checked (ItAppSetUp), so that one unused there
   is one this run does not read; otherwise read later or by another command.
   Registering a table twice is a no-op. Not collective. */
PetscErrorCode ItOptionsRegister(const char owner[], PetscBool setup, const ItOptionName names[]);
/* The registered entry that name (without '-') matches, its owner and
   whether it is read at set-up; NULL when none. */
const ItOptionName *ItOptionsFind(const char name[], const char **owner, PetscBool *setup);
/* Every registered entry, k = 0, 1, ... until NULL. */
const ItOptionName *ItOptionsGet(PetscInt k, const char **owner, PetscBool *setup);
PetscBool           ItOptionsNameMatches(const char name[], const char entry[]);
/* The same in structure-of-arrays form, as the Monte Carlo keeps its particles:
   point k < n is x[i*ld + k] and gets A[i*ld + k], D[i*ld + k] (ld >= n).
   ItModelGetBulkSize: the points per call that amortise the model's cost per
   call (0: any number). Not collective. */
PetscErrorCode ItModelEvaluateSoA(ItModel model, PetscReal t, const PetscReal p[], PetscInt n,
                                  PetscInt ld, const PetscReal x[], PetscReal A[], PetscReal D[]);
PetscInt       ItModelGetBulkSize(ItModel model);

/* An evaluation workspace: what a model writes while it evaluates (the expr
   model's parsers, arrays and caches), owned by one consumer, so consumers
   that evaluate one model at once do not share state; the model itself is
   never written. Models without evaluation state need none: their workspace
   is empty and costs nothing. The calls above without a workspace use the
   model's own, for one consumer at a time. Not collective. */
PetscErrorCode ItModelWorkCreate(ItModel model, ItModelWork *work);
PetscErrorCode ItModelWorkDestroy(ItModelWork *work);
PetscErrorCode ItModelEvaluateWork(ItModelWork work, PetscReal t, const PetscReal p[], PetscInt n,
                                   const PetscReal x[], PetscReal A[], PetscReal D[]);
PetscErrorCode ItModelEvaluateSoAWork(ItModelWork work, PetscReal t, const PetscReal p[],
                                      PetscInt n, PetscInt ld, const PetscReal x[], PetscReal A[],
                                      PetscReal D[]);
