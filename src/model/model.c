/* Model registry (the models of src/model/models.def) and the parts every
   model shares: named variables, named parameters read from the options
   database (-<model>_<name> value; the bare -<name> of earlier releases still
   works, deprecated, as do the bare names of a model's own flagged options)
   and checked once, and the bulk evaluation of the drift A_i(x,t) and
   diffusion D_i(x,t) of dx_i = A_i dt + sqrt(2 D_i) dW_i (doc/physics.md §1).
   This file calls the model files; they call define.c, work.c and the
   shared pieces (tuning.c, ...), never this file. */
#include <ctype.h>
#include <infotherm/private/modelimpl.h>

static PetscFunctionList ItModelList       = NULL;
static PetscBool         ItModelRegistered = PETSC_FALSE;
static char              ItModelNames[256] = ""; /* for messages */
#define IT_MAX_TYPES 32
static struct {
  char               name[IT_NAME_LEN];
  const ItModelType *type;
} ItModelTypes[IT_MAX_TYPES]; /* in the order registered */
static PetscInt ItModelNTypes = 0;

static PetscErrorCode ItModelRegister(const char name[], const ItModelType *type) {
  PetscFunctionBegin;
  PetscCheck(ItModelNTypes < IT_MAX_TYPES, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "more than %d models registered", IT_MAX_TYPES);
  PetscCall(PetscStrncpy(ItModelTypes[ItModelNTypes].name, name, IT_NAME_LEN));
  ItModelTypes[ItModelNTypes++].type = type;
  PetscCall(PetscFunctionListAdd(&ItModelList, name, type->create));
  PetscCall(PetscStrlcat(ItModelNames, " ", sizeof(ItModelNames)));
  PetscCall(PetscStrlcat(ItModelNames, name, sizeof(ItModelNames)));
  if (type->options) PetscCall(ItOptionsRegister(name, PETSC_TRUE, type->options));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The option names of what every model reads: -model and -parity, -protocol
   (read below), -vars (src/model/define.c); the parameters and a model's own
   options are the model's (src/model/option_names.c). */
static const ItOptionName ItModelOptionNames[] = {
    {"model", 0}, {"vars", 0}, {"parity", 0}, {"protocol", 0}, {NULL, 0}};

/* The built-in models, one line each in src/model/models.def. */
#define IT_MODEL(type, Suffix) extern const ItModelType ItModelType_##Suffix;
#include "models.def"
#undef IT_MODEL

/* Registers every built-in model of src/model/models.def, in its order, and
   the option names each reads besides its parameters (each model's table
   beside its options block). Not collective. */
PetscErrorCode ItModelRegisterAll(void) {
  static const struct {
    const char        *name;
    const ItModelType *type;
  } models[] = {
#define IT_MODEL(type, Suffix) {#type, &ItModelType_##Suffix},
#include "models.def"
#undef IT_MODEL
  };

  PetscFunctionBegin;
  if (ItModelRegistered) PetscFunctionReturn(PETSC_SUCCESS);
  ItModelRegistered = PETSC_TRUE;
  for (size_t k = 0; k < sizeof(models) / sizeof(models[0]); k++)
    PetscCall(ItModelRegister(models[k].name, models[k].type));
  /* what every model reads: -model, -vars, -parity, -protocol */
  PetscCall(ItOptionsRegister("model", PETSC_TRUE, ItModelOptionNames));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The registered models (after ItModelRegisterAll), for tests that cover
   every one. Not collective. */
PetscInt ItModelGetTypeCount(void) {
  return ItModelNTypes;
}

const char *ItModelGetTypeNameAt(PetscInt k) {
  return k >= 0 && k < ItModelNTypes ? ItModelTypes[k].name : NULL;
}

PetscErrorCode ItModelCreate(MPI_Comm comm, ItModel *model) {
  PetscFunctionBegin;
  PetscCall(PetscNew(model));
  (*model)->comm = comm;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode ItModelGetBoundary(ItModel model, PetscInt axis, ItBoundaryKind *kind,
                                  PetscBool *set, PetscReal *threshold, PetscReal *reset,
                                  PetscReal *refractory) {
  PetscFunctionBegin;
  *kind = model->boundary[axis];
  *set  = (PetscBool)(model->threshold_param[axis] > 0);
  if (*set) {
    *threshold  = model->param[model->threshold_param[axis] - 1].value;
    *reset      = model->param[model->reset_param[axis] - 1].value;
    *refractory = model->param[model->refractory_param[axis] - 1].value;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ItModelEvaluate_Point(ItModelConst model, PetscReal t, const PetscReal p[],
                                            PetscInt n, const PetscReal x[], PetscReal A[],
                                            PetscReal D[]) {
  const PetscInt d = model->dim;

  PetscFunctionBegin;
  for (PetscInt k = 0; k < n; k++) model->ops.point(model, t, p, &x[k * d], &A[k * d], &D[k * d]);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Structure-of-arrays points through the model's array-of-structures bulk
   evaluation, 64 points at a time (models without their own SoA kernel). */
static PetscErrorCode ItModelEvaluateSoA_Bulk(ItModelConst model, PetscReal t, const PetscReal p[],
                                              PetscInt n, PetscInt ld, const PetscReal x[],
                                              PetscReal A[], PetscReal D[]) {
  const PetscInt d = model->dim;
  PetscReal      xa[64 * IT_MAX_DIM], Aa[64 * IT_MAX_DIM], Da[64 * IT_MAX_DIM];

  PetscFunctionBegin;
  for (PetscInt k0 = 0; k0 < n; k0 += 64) {
    const PetscInt m = PetscMin(64, n - k0);
    for (PetscInt k = 0; k < m; k++)
      for (PetscInt i = 0; i < d; i++) xa[k * d + i] = x[i * ld + k0 + k];
    PetscCall(model->ops.evaluate(model, t, p, m, xa, Aa, Da));
    for (PetscInt k = 0; k < m; k++)
      for (PetscInt i = 0; i < d; i++) {
        A[i * ld + k0 + k] = Aa[k * d + i];
        D[i * ld + k0 + k] = Da[k * d + i];
      }
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A variable name becomes part of column names, JSON keys and HDF5 attribute
   names: letters, digits and '_', starting with a letter, and none of the
   snapshot's own attribute names. */
static PetscErrorCode ItModelCheckName(ItModel model, const char name[]) {
  static const char *const reserved[] = {"time",    "dim",   "model",   "options",
                                         "nrow",    "nsnap", "columns", "checkpoint_version",
                                         "physics", "X",     "Y"};
  size_t                   len;
  PetscBool                ok;

  PetscFunctionBegin;
  PetscCall(PetscStrlen(name, &len));
  PetscCheck(ItModelIsName(name), model->comm, PETSC_ERR_USER_INPUT,
             "-vars: '%s' is not a valid variable name (letters, digits and _, starting with a "
             "letter, at most 23 characters)",
             name);
  for (size_t k = 0; k < sizeof(reserved) / sizeof(reserved[0]); k++) {
    PetscCall(PetscStrcmp(name, reserved[k], &ok));
    PetscCheck(!ok, model->comm, PETSC_ERR_USER_INPUT,
               "-vars: '%s' is a reserved name; choose another", name);
  }
  if ((name[0] == 'n' || name[0] == 'l' || name[0] == 'h') && len <= 3) {
    PetscBool grid_attr =
        (PetscBool)((len == 2 && name[0] == 'n' && isdigit((unsigned char)name[1])) ||
                    (len == 3 &&
                     ((name[0] == 'l' && name[1] == 'o') || (name[0] == 'h' && name[1] == 'i')) &&
                     isdigit((unsigned char)name[2])));
    PetscCheck(!grid_attr, model->comm, PETSC_ERR_USER_INPUT,
               "-vars: '%s' is a reserved name; choose another", name);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* -vars renames the model's variables (as many as it has). */
static PetscErrorCode ItModelApplyVariableNames(ItModel model) {
  char     *names[IT_MAX_DIM];
  PetscInt  n;
  PetscBool set;

  PetscFunctionBegin;
  PetscCall(ItModelReadVariableNames(model, &n, names, &set));
  PetscCheck(!set || n == model->dim, model->comm, PETSC_ERR_USER_INPUT,
             "-vars names %" PetscInt_FMT " variables but model %s has %" PetscInt_FMT, n,
             model->type, model->dim);
  for (PetscInt i = 0; i < n; i++) {
    PetscCall(ItModelCheckName(model, names[i]));
    for (PetscInt j = 0; j < i; j++) {
      PetscBool same;
      PetscCall(PetscStrcmp(names[i], names[j], &same));
      PetscCheck(!same, model->comm, PETSC_ERR_USER_INPUT, "-vars: the name '%s' is given twice",
                 names[i]);
    }
    PetscCall(PetscStrncpy(model->var[i], names[i], IT_NAME_LEN));
  }
  for (PetscInt i = 0; i < n; i++) PetscCall(PetscFree(names[i]));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The option of parameter k: -<model>_<name> (-inference_tau_r), in the
   style of PETSc's -physics_<name>_*. Not collective. */
PetscErrorCode ItModelGetParameterOption(ItModel model, PetscInt k, char option[], size_t len) {
  PetscFunctionBegin;
  PetscCall(PetscSNPrintf(option, len, "-%s_%s", model->type, model->param[k].name));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The bare -<name> of earlier releases, kept for one release: its value
   moves to `option` (-<model>_<name>), and the pair is added to `moved` for
   the warning. This is PetscOptionsDeprecated's transfer, written out because
   PETSc's prints a line per option on stdout and lets the old name override
   the new one when both are given (an options file's -tau_r over the
   command line's -inference_tau_r); both given is refused here. Collective:
   every rank holds the same options. */
static PetscErrorCode ItModelMoveDeprecatedName(ItModel model, const char name[],
                                                const char option[], char moved[], size_t len) {
  char        old[IT_NAME_LEN + 1], value[256];
  const char *given;
  PetscBool   set, both;

  PetscFunctionBegin;
  PetscCall(PetscSNPrintf(old, sizeof(old), "-%s", name));
  PetscCall(PetscOptionsFindPair(NULL, NULL, old, &given, &set));
  if (!set) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscOptionsHasName(NULL, NULL, option, &both));
  PetscCheck(!both, model->comm, PETSC_ERR_USER_INPUT,
             "%s and %s are both given: %s is the old name of %s; drop it", old, option, old,
             option);
  PetscCheck(given && given[0], model->comm, PETSC_ERR_USER_INPUT,
             "%s is given without a value (its last occurrence, on the command line or in an "
             "options file); give it one, as %s, or drop it",
             old, option);
  PetscCall(PetscStrncpy(value, given, sizeof(value)));
  PetscCall(PetscOptionsSetValue(NULL, option, value));
  PetscCall(PetscOptionsClearValue(NULL, old));
  if (moved[0]) PetscCall(PetscStrlcat(moved, ", ", len));
  PetscCall(PetscStrlcat(moved, old, len));
  PetscCall(PetscStrlcat(moved, " -> ", len));
  PetscCall(PetscStrlcat(moved, option, len));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Moves every deprecated bare name the model reads to its prefixed one: the
   parameters' (-tau_r -> -inference_tau_r; a parameter named like an option
   of infotherm or PETSc leaves that option alone, and is refused later) and
   those of its own options flagged IT_OPTION_BARE_DEPRECATED (-tuning ->
   -inference_tuning), with one line on stderr for all of them (unless
   -options_suppress_deprecated_warnings, PETSc's switch for its own).
   Collective. */
static PetscErrorCode ItModelMoveDeprecatedNames(ItModel model) {
  char         moved[2048] = "", option[2 * IT_NAME_LEN + 2];
  const size_t prefix      = strlen(model->type) + 1;
  PetscBool    quiet       = PETSC_FALSE;

  PetscFunctionBegin;
  for (PetscInt k = 0; k < model->nparam; k++) {
    if (ItOptionsFind(model->param[k].name, NULL, NULL)) continue;
    PetscCall(ItModelGetParameterOption(model, k, option, sizeof(option)));
    PetscCall(ItModelMoveDeprecatedName(model, model->param[k].name, option, moved, sizeof(moved)));
  }
  for (const ItOptionName *o = model->options; o && o->name; o++) {
    if (!(o->flags & IT_OPTION_BARE_DEPRECATED)) continue;
    PetscCheck(!strncmp(o->name, model->type, prefix - 1) && o->name[prefix - 1] == '_',
               model->comm, PETSC_ERR_PLIB, "the option %s of model %s lacks its prefix %s_",
               o->name, model->type, model->type);
    PetscCall(PetscSNPrintf(option, sizeof(option), "-%s", o->name));
    PetscCall(ItModelMoveDeprecatedName(model, o->name + prefix, option, moved, sizeof(moved)));
  }
  PetscCall(PetscOptionsGetBool(NULL, NULL, "-options_suppress_deprecated_warnings", &quiet, NULL));
  if (moved[0] && !quiet)
    PetscCall(PetscFPrintf(model->comm, PETSC_STDERR,
                           "infotherm: warning: deprecated option names: %s (a model's parameters "
                           "and options take its name as a prefix; the bare names go in the next "
                           "release)\n",
                           moved));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* -<model>_<name> value for every parameter, checked. */
static PetscErrorCode ItModelReadParameters(ItModel model) {
  PetscFunctionBegin;
  PetscOptionsBegin(model->comm, NULL, "Model parameters", "ItModel");
  for (PetscInt k = 0; k < model->nparam; k++) {
    ItParam *param = &model->param[k];
    char     option[2 * IT_NAME_LEN + 2];

    PetscCall(ItModelGetParameterOption(model, k, option, sizeof(option)));
    PetscCall(PetscOptionsReal(option, param->help, NULL, param->value, &param->value, NULL));
    PetscCheck(param->kind != IT_PARAM_POSITIVE || param->value > 0, model->comm,
               PETSC_ERR_USER_INPUT, "%s must be positive (%s); got %g", option, param->help,
               (double)param->value);
    PetscCheck(param->kind != IT_PARAM_NONNEGATIVE || param->value >= 0, model->comm,
               PETSC_ERR_USER_INPUT, "%s must be zero or positive (%s); got %g", option,
               param->help, (double)param->value);
    PetscCheck(!PetscIsInfOrNanReal(param->value), model->comm, PETSC_ERR_USER_INPUT,
               "%s must be a finite number; got %g", option, (double)param->value);
  }
  PetscOptionsEnd();
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* -parity v:odd,r:even (doc/physics.md §3b); every variable is even by default. */
static PetscErrorCode ItModelReadParity(ItModel model) {
  char    *parity[IT_MAX_DIM];
  PetscInt nparity = IT_MAX_DIM;

  PetscFunctionBegin;
  for (PetscInt i = 0; i < model->dim; i++) model->parity[i] = 1;
  PetscOptionsBegin(model->comm, NULL, "Model parity", "ItModel");
  PetscCall(PetscOptionsStringArray(
      "-parity", "parity of variables under time reversal, e.g. v:odd (doc/physics.md 3b)", NULL,
      parity, &nparity, NULL));
  PetscOptionsEnd();
  for (PetscInt k = 0; k < nparity; k++) {
    char     *colon;
    PetscInt  i;
    PetscBool odd, even;
    PetscCall(PetscStrchr(parity[k], ':', &colon));
    PetscCheck(colon, model->comm, PETSC_ERR_USER_INPUT,
               "-parity takes var:odd or var:even entries; got '%s'", parity[k]);
    *colon = 0;
    PetscCall(ItModelVariableIndex(model, "-parity", parity[k], &i));
    PetscCall(PetscStrcmp(colon + 1, "odd", &odd));
    PetscCall(PetscStrcmp(colon + 1, "even", &even));
    PetscCheck(odd || even, model->comm, PETSC_ERR_USER_INPUT,
               "-parity %s:%s: the parity must be odd or even", parity[k], colon + 1);
    model->parity[i] = odd ? -1 : 1;
    PetscCall(PetscFree(parity[k]));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* One schedule "name:value@time,..." or "name:ramp:value@time,...". */
static PetscErrorCode ItModelParseSchedule(ItModel model, char *schedule, ItProtocol *p) {
  char     *colon, *points, *point, *save = NULL;
  PetscBool ramp;

  PetscFunctionBegin;
  PetscCall(PetscStrchr(schedule, ':', &colon));
  PetscCheck(colon, model->comm, PETSC_ERR_USER_INPUT,
             "-protocol takes name:value@time,value@time,... (or name:ramp:...); got '%s'",
             schedule);
  *colon = 0;
  PetscCall(ItModelFindParameter(model, schedule, &p->param));
  PetscCheck(p->param >= 0, model->comm, PETSC_ERR_USER_INPUT,
             "-protocol: '%s' is not a parameter of model %s (infotherm info lists them)", schedule,
             model->type);
  for (PetscInt a = 0; a < model->dim; a++) /* the grid and the reset are set up once */
    PetscCheck(p->param + 1 != model->threshold_param[a] && p->param + 1 != model->reset_param[a] &&
                   p->param + 1 != model->refractory_param[a],
               model->comm, PETSC_ERR_USER_INPUT,
               "-protocol: '%s' places the threshold, the reset or the refractory time of %s, "
               "which cannot change during a run; give it as -%s_%s without a schedule",
               schedule, model->var[a], model->type, schedule);
  for (PetscInt k = 0; k < model->nprotocol; k++)
    PetscCheck(model->protocol[k].param != p->param, model->comm, PETSC_ERR_USER_INPUT,
               "-protocol: '%s' has two schedules", schedule);
  points = colon + 1;
  PetscCall(PetscStrbeginswith(points, "ramp:", &ramp));
  p->ramp = ramp;
  if (ramp) points += 5;
  p->n = 0;
  for (point = strtok_r(points, ",", &save); point; point = strtok_r(NULL, ",", &save)) {
    const char *name = model->param[p->param].name;
    char       *at;
    PetscCheck(p->n < IT_MAX_PROTOCOL_POINTS, model->comm, PETSC_ERR_USER_INPUT,
               "-protocol %s: at most %d points", name, IT_MAX_PROTOCOL_POINTS);
    PetscCall(PetscStrchr(point, '@', &at));
    PetscCheck(at, model->comm, PETSC_ERR_USER_INPUT,
               "-protocol %s: each point is value@time; got '%s'", name, point);
    *at = 0;
    PetscCall(PetscOptionsStringToReal(point, &p->value[p->n]));
    PetscCall(PetscOptionsStringToReal(at + 1, &p->t[p->n]));
    PetscCheck(!PetscIsInfOrNanReal(p->value[p->n]) && !PetscIsInfOrNanReal(p->t[p->n]),
               model->comm, PETSC_ERR_USER_INPUT, "-protocol %s: values and times must be finite",
               name);
    PetscCheck(p->n == 0 || p->t[p->n] > p->t[p->n - 1], model->comm, PETSC_ERR_USER_INPUT,
               "-protocol %s: the times must increase", name);
    PetscCheck(model->param[p->param].kind != IT_PARAM_POSITIVE || p->value[p->n] > 0, model->comm,
               PETSC_ERR_USER_INPUT, "-protocol %s: the values must be positive", name);
    PetscCheck(model->param[p->param].kind != IT_PARAM_NONNEGATIVE || p->value[p->n] >= 0,
               model->comm, PETSC_ERR_USER_INPUT, "-protocol %s: the values must be >= 0", name);
    p->n++;
  }
  PetscCheck(p->n >= 1, model->comm, PETSC_ERR_USER_INPUT, "-protocol %s: no points",
             model->param[p->param].name);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* -protocol name:value@time,value@time,...  (held piecewise constant), or
   -protocol name:ramp:value@time,...  (linear between the points); several
   parameters are separated by ';' in the one value:
   -protocol "h:0@0,1@5,0@20;tau_w:ramp:1@0,2@20". */
static PetscErrorCode ItModelReadSchedules(ItModel model) {
  char      text[4096] = "", *schedule, *save = NULL;
  PetscBool set;

  PetscFunctionBegin;
  PetscOptionsBegin(model->comm, NULL, "Stimulus schedules", "ItModel");
  PetscCall(PetscOptionsString("-protocol",
                               "schedules of parameters: name:value@time,... (held) or "
                               "name:ramp:value@time,...; several separated by ';'",
                               NULL, text, text, sizeof(text), &set));
  PetscOptionsEnd();
  if (!set) PetscFunctionReturn(PETSC_SUCCESS);
  for (schedule = strtok_r(text, ";", &save); schedule; schedule = strtok_r(NULL, ";", &save)) {
    PetscCheck(model->nprotocol < IT_MAX_PROTOCOLS, model->comm, PETSC_ERR_USER_INPUT,
               "-protocol: at most %d schedules", IT_MAX_PROTOCOLS);
    PetscCall(ItModelParseSchedule(model, schedule, &model->protocol[model->nprotocol]));
    model->nprotocol++;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Reads -model, builds that model, then its variable names (-vars), every
   parameter (-<model>_<name>), the parity and the schedules, and checks them. After
   this the model never changes. Collective. */
PetscErrorCode ItModelSetFromOptions(ItModel model) {
  char            type[IT_NAME_LEN] = "inference";
  ItModelCreateFn create;

  PetscFunctionBegin;
  PetscCall(ItModelRegisterAll());
  PetscOptionsBegin(model->comm, NULL, "Model options", "ItModel");
  PetscCall(PetscOptionsFList("-model", "model of doc/physics.md §2", "ItModelSetFromOptions",
                              ItModelList, type, type, sizeof(type), NULL));
  PetscOptionsEnd();
  PetscCall(PetscFunctionListFind(ItModelList, type, &create));
  PetscCheck(create, model->comm, PETSC_ERR_USER_INPUT, "-model %s is not a known model; known:%s",
             type, ItModelNames);
  PetscCall(PetscStrncpy(model->type, type, IT_NAME_LEN));
  for (PetscInt k = 0; k < ItModelNTypes; k++)
    if (!strcmp(ItModelTypes[k].name, type)) model->options = ItModelTypes[k].type->options;
  model->ops.evaluate     = ItModelEvaluate_Point;
  model->ops.evaluate_soa = ItModelEvaluateSoA_Bulk;
  PetscCall((*create)(model));
  PetscCall(ItModelApplyVariableNames(model));
  PetscCall(ItModelMoveDeprecatedNames(model));
  PetscCall(ItModelReadParameters(model));
  PetscCall(ItModelReadParity(model));
  if (model->ops.setfromoptions) PetscCall(model->ops.setfromoptions(model));
  PetscCall(ItModelReadSchedules(model));
  if (model->ops.validate) PetscCall(model->ops.validate(model));
  model->time = IT_TIME_INDEPENDENT;
  for (PetscInt k = 0; k < model->nprotocol; k++)
    model->time =
        PetscMax(model->time, model->protocol[k].ramp ? IT_TIME_CONTINUOUS : IT_TIME_PIECEWISE);
  if (model->ops.uses_time && model->ops.uses_time(model)) model->time = IT_TIME_CONTINUOUS;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The value of a schedule at time t: its first value up to the first point;
   a value set at t_k holds for t > t_k (a step that ends on a switching time
   still sees the old value), or is ramped linearly to the next point. With
   `right`, the limit from above: a held value set at t_k already at t_k. */
static PetscReal ItModelScheduleValue(const ItProtocol *protocol, PetscReal t, PetscBool right) {
  PetscInt k = 0;

  while (k + 1 < protocol->n && (t > protocol->t[k + 1] || (right && t == protocol->t[k + 1]))) k++;
  if (!protocol->ramp || k + 1 >= protocol->n || t < protocol->t[0]) return protocol->value[k];
  return protocol->value[k] + (protocol->value[k + 1] - protocol->value[k]) * (t - protocol->t[k]) /
                                  (protocol->t[k + 1] - protocol->t[k]);
}

static void ItModelParameters(ItModel model, PetscReal t, PetscBool right, PetscReal p[]) {
  for (PetscInt k = 0; k < model->nparam; k++) p[k] = model->param[k].value;
  for (PetscInt k = 0; k < model->nprotocol; k++)
    p[model->protocol[k].param] = ItModelScheduleValue(&model->protocol[k], t, right);
}

/* The parameters at time t: the base values with every schedule applied.
   Pure; not collective. */
PetscErrorCode ItModelGetParameters(ItModel model, PetscReal t, PetscReal p[]) {
  PetscFunctionBegin;
  ItModelParameters(model, t, PETSC_FALSE, p);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Their limit from above at t, lim s->t+ of the parameters at s: at a switch
   of a held schedule the new value (the one the next interval uses), elsewhere
   the parameters at t. Pure; not collective. */
PetscErrorCode ItModelGetParametersRight(ItModel model, PetscReal t, PetscReal p[]) {
  PetscFunctionBegin;
  ItModelParameters(model, t, PETSC_TRUE, p);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Drift and diffusion at n points with the parameters at time t. Not collective. */
PetscErrorCode ItModelEvaluate(ItModel model, PetscReal t, PetscInt n, const PetscReal x[],
                               PetscReal A[], PetscReal D[]) {
  PetscReal p[IT_MAX_PARAMS];

  PetscFunctionBegin;
  PetscCall(ItModelGetParameters(model, t, p));
  PetscCall(model->ops.evaluate(model, t, p, n, x, A, D));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The same with given parameter values (e.g. a Monte Carlo with one changed). */
PetscErrorCode ItModelEvaluateWith(ItModel model, PetscReal t, const PetscReal p[], PetscInt n,
                                   const PetscReal x[], PetscReal A[], PetscReal D[]) {
  PetscFunctionBegin;
  PetscCall(model->ops.evaluate(model, t, p, n, x, A, D));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The same on structure-of-arrays points, x[i*ld + k] (the Monte Carlo's layout). */
PetscErrorCode ItModelEvaluateSoA(ItModel model, PetscReal t, const PetscReal p[], PetscInt n,
                                  PetscInt ld, const PetscReal x[], PetscReal A[], PetscReal D[]) {
  PetscFunctionBegin;
  PetscCall(model->ops.evaluate_soa(model, t, p, n, ld, x, A, D));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscInt ItModelGetBulkSize(ItModel model) {
  return model->bulk_size;
}

/* The first schedule point after t (PETSC_MAX_REAL if none): time steps land on it. */
PetscReal ItModelNextSwitch(ItModel model, PetscReal t) {
  PetscReal next = PETSC_MAX_REAL;

  for (PetscInt k = 0; k < model->nprotocol; k++)
    for (PetscInt j = 0; j < model->protocol[k].n; j++)
      if (model->protocol[k].t[j] > t * (1 + 1e-14) + 1e-300)
        next = PetscMin(next, model->protocol[k].t[j]);
  return next;
}

ItTimeDependence ItModelGetTimeDependence(ItModel model) {
  return model->time;
}

/* Everything that defines the model's physics, as a JSON object: the model,
   variables, parity, the base value of every parameter, every schedule and
   what the implementation adds (tuning curves, M/b/D, formulas). Checkpoints
   and snapshots compare it; summary.json records it. The caller owns the
   object. Not collective. */
PetscErrorCode ItModelGetFingerprint(ItModel model, json_t **fingerprint) {
  json_t *root = json_object(), *vars = json_array(), *parity = json_object(),
         *params = json_object(), *schedules = json_object();

  PetscFunctionBegin;
  json_object_set_new(root, "model", json_string(model->type));
  for (PetscInt i = 0; i < model->dim; i++) {
    json_array_append_new(vars, json_string(model->var[i]));
    json_object_set_new(parity, model->var[i], json_string(model->parity[i] < 0 ? "odd" : "even"));
  }
  for (PetscInt k = 0; k < model->nparam; k++)
    json_object_set_new(params, model->param[k].name, json_real((double)model->param[k].value));
  for (PetscInt k = 0; k < model->nprotocol; k++) {
    const ItProtocol *s      = &model->protocol[k];
    json_t           *points = json_array(), *schedule = json_object();
    for (PetscInt j = 0; j < s->n; j++)
      json_array_append_new(points, json_pack("[f, f]", (double)s->t[j], (double)s->value[j]));
    json_object_set_new(schedule, "ramp", json_boolean(s->ramp));
    json_object_set_new(schedule, "points", points);
    json_object_set_new(schedules, model->param[s->param].name, schedule);
  }
  json_object_set_new(root, "variables", vars);
  json_object_set_new(root, "parity", parity);
  json_object_set_new(root, "parameters", params);
  json_object_set_new(root, "schedules", schedules);
  if (model->ops.fingerprint) PetscCall(model->ops.fingerprint(model, root));
  *fingerprint = root;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode ItModelVariableIndex(ItModel model, const char option[], const char name[],
                                    PetscInt *index) {
  PetscBool match;

  PetscFunctionBegin;
  for (PetscInt i = 0; i < model->dim; i++) {
    PetscCall(PetscStrcmp(model->var[i], name, &match));
    if (match) {
      *index = i;
      PetscFunctionReturn(PETSC_SUCCESS);
    }
  }
  SETERRQ(model->comm, PETSC_ERR_USER_INPUT, "%s: '%s' is not a variable of model %s", option, name,
          model->type);
}

const char *ItModelGetTypeName(ItModel model) {
  return model->type;
}

PetscErrorCode ItModelGetCoefficientOption(ItModel model, PetscInt i, PetscBool diffusion,
                                           char option[], size_t len) {
  PetscFunctionBegin;
  option[0] = 0;
  if (model->ops.coefficient_option)
    PetscCall(model->ops.coefficient_option(model, i, diffusion, option, len));
  PetscFunctionReturn(PETSC_SUCCESS);
}

MPI_Comm ItModelGetComm(ItModel model) {
  return model->comm;
}

PetscInt ItModelGetDimension(ItModel model) {
  return model->dim;
}

const char *ItModelGetVariableName(ItModel model, PetscInt i) {
  return model->var[i];
}

PetscInt ItModelGetParity(ItModel model, PetscInt i) {
  return model->parity[i];
}

PetscBool ItModelHasOddVariables(ItModel model) {
  for (PetscInt i = 0; i < model->dim; i++)
    if (model->parity[i] < 0) return PETSC_TRUE;
  return PETSC_FALSE;
}

PetscInt ItModelGetParameterCount(ItModel model) {
  return model->nparam;
}

PetscErrorCode ItModelGetParameterInfo(ItModel model, PetscInt k, const char **name,
                                       PetscReal *base, PetscBool *positive) {
  PetscFunctionBegin;
  if (name) *name = model->param[k].name;
  if (base) *base = model->param[k].value;
  if (positive) *positive = (PetscBool)(model->param[k].kind == IT_PARAM_POSITIVE);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode ItModelGetDefaultBox(ItModel model, PetscInt axis, PetscInt *n, PetscReal *lo,
                                    PetscReal *hi) {
  PetscFunctionBegin;
  *n  = model->grid_n[axis];
  *lo = model->grid_lo[axis];
  *hi = model->grid_hi[axis];
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode ItModelView(ItModel model, PetscViewer viewer) {
  PetscFunctionBegin;
  PetscCall(PetscViewerASCIIPrintf(viewer, "model %s, %" PetscInt_FMT " variable(s):", model->type,
                                   model->dim));
  PetscCall(PetscViewerASCIIUseTabs(viewer, PETSC_FALSE));
  for (PetscInt i = 0; i < model->dim; i++)
    PetscCall(PetscViewerASCIIPrintf(viewer, " %s", model->var[i]));
  PetscCall(PetscViewerASCIIPrintf(viewer, "\n"));
  PetscCall(PetscViewerASCIIUseTabs(viewer, PETSC_TRUE));
  if (model->ops.view) PetscCall(model->ops.view(model, viewer));
  for (PetscInt k = 0; k < model->nparam; k++) /* the name -protocol takes, the value, the option */
    PetscCall(PetscViewerASCIIPrintf(viewer, "  %-10s = %-12g %s (-%s_%s)\n", model->param[k].name,
                                     (double)model->param[k].value, model->param[k].help,
                                     model->type, model->param[k].name));
  for (PetscInt k = 0; k < model->nprotocol; k++) {
    const ItProtocol *s = &model->protocol[k];
    PetscCall(PetscViewerASCIIPrintf(viewer, "  schedule of %s (%s):", model->param[s->param].name,
                                     s->ramp ? "ramped" : "held"));
    PetscCall(PetscViewerASCIIUseTabs(viewer, PETSC_FALSE));
    for (PetscInt j = 0; j < s->n; j++)
      PetscCall(PetscViewerASCIIPrintf(viewer, " %g@%g", (double)s->value[j], (double)s->t[j]));
    PetscCall(PetscViewerASCIIPrintf(viewer, "\n"));
    PetscCall(PetscViewerASCIIUseTabs(viewer, PETSC_TRUE));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode ItModelDestroy(ItModel *model) {
  PetscFunctionBegin;
  if (!*model) PetscFunctionReturn(PETSC_SUCCESS);
  if ((*model)->ops.destroy) PetscCall((*model)->ops.destroy(*model));
  PetscCall(PetscFree((*model)->data));
  PetscCall(PetscFree(*model));
  PetscFunctionReturn(PETSC_SUCCESS);
}
