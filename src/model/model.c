/* Model registry and the parts every model shares: named variables, named
   parameters read from the options database (-<name> value) and checked once,
   and the bulk evaluation of the drift A_i(x,t) and diffusion D_i(x,t) of
   dx_i = A_i dt + sqrt(2 D_i) dW_i (PHYSICS.md §1). */
#include <ctype.h>
#include <infotherm/model.h>

static PetscErrorCode    ItModelProtocolsFromOptions(ItModel model);
static PetscFunctionList ItModelList       = NULL;
static PetscBool         ItModelRegistered = PETSC_FALSE;
static char              ItModelNames[256] = ""; /* for messages */

PetscErrorCode ItModelRegister(const char name[], ItModelCreateFn create) {
  PetscFunctionBegin;
  PetscCall(PetscFunctionListAdd(&ItModelList, name, create));
  PetscCall(PetscStrlcat(ItModelNames, " ", sizeof(ItModelNames)));
  PetscCall(PetscStrlcat(ItModelNames, name, sizeof(ItModelNames)));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Registers every built-in model. Not collective. */
PetscErrorCode ItModelRegisterAll(void) {
  PetscFunctionBegin;
  if (ItModelRegistered) PetscFunctionReturn(PETSC_SUCCESS);
  ItModelRegistered = PETSC_TRUE;
  PetscCall(ItModelRegister("linear", ItModelCreate_Linear));
  PetscCall(ItModelRegister("brownian", ItModelCreate_Brownian));
  PetscCall(ItModelRegister("inference", ItModelCreate_Inference));
  PetscCall(ItModelRegister("population", ItModelCreate_Population));
  PetscCall(ItModelRegister("hebbian", ItModelCreate_Hebbian));
  PetscCall(ItModelRegister("bistable", ItModelCreate_Bistable));
  PetscCall(ItModelRegister("expr", ItModelCreate_Expr));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode ItModelCreate(MPI_Comm comm, ItModel *model) {
  PetscFunctionBegin;
  PetscCall(PetscNew(model));
  (*model)->comm = comm;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode ItModelSetVariables(ItModel model, PetscInt dim, const char *const names[]) {
  PetscFunctionBegin;
  PetscCheck(dim >= 1 && dim <= IT_MAX_DIM, model->comm, PETSC_ERR_USER_INPUT,
             "a model has 1 to %d variables, not %" PetscInt_FMT, IT_MAX_DIM, dim);
  model->dim = dim;
  for (PetscInt i = 0; i < dim; i++) PetscCall(PetscStrncpy(model->var[i], names[i], IT_NAME_LEN));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode ItModelAddParam(ItModel model, const char name[], PetscReal value, ItParamKind kind,
                               const char help[], PetscInt *index) {
  ItParam *param;

  PetscFunctionBegin;
  PetscCheck(model->nparam < IT_MAX_PARAMS, model->comm, PETSC_ERR_PLIB, "too many parameters");
  param = &model->param[model->nparam];
  PetscCall(PetscStrncpy(param->name, name, IT_NAME_LEN));
  param->value = value;
  param->kind  = kind;
  param->help  = help;
  if (index) *index = model->nparam;
  model->nparam++;
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode ItModelSetDefaultBox(ItModel model, PetscInt axis, PetscInt n, PetscReal lo,
                                    PetscReal hi) {
  PetscFunctionBegin;
  model->grid_n[axis]  = n;
  model->grid_lo[axis] = lo;
  model->grid_hi[axis] = hi;
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ItModelEvaluate_Point(ItModel model, PetscReal t, PetscInt n,
                                            const PetscReal x[], PetscReal A[], PetscReal D[]) {
  const PetscInt d = model->dim;

  PetscFunctionBegin;
  for (PetscInt k = 0; k < n; k++) model->point(model, t, &x[k * d], &A[k * d], &D[k * d]);
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
  ok = (PetscBool)(len > 0 && len < 24 && isalpha((unsigned char)name[0]));
  for (size_t k = 0; ok && k < len; k++)
    ok = (PetscBool)(isalnum((unsigned char)name[k]) || name[k] == '_');
  PetscCheck(ok, model->comm, PETSC_ERR_USER_INPUT,
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

/* Reads -model, builds that model, then its variable names (-vars) and every
   parameter (-<name>), and checks them. Collective. */
PetscErrorCode ItModelSetFromOptions(ItModel model) {
  char            type[IT_NAME_LEN] = "inference";
  ItModelCreateFn create;
  PetscBool       set;

  PetscFunctionBegin;
  PetscCall(ItModelRegisterAll());
  PetscOptionsBegin(model->comm, NULL, "Model options", "ItModel");
  PetscCall(PetscOptionsFList("-model", "model of PHYSICS.md §2", "ItModelSetFromOptions",
                              ItModelList, type, type, sizeof(type), NULL));
  PetscOptionsEnd();
  PetscCall(PetscFunctionListFind(ItModelList, type, &create));
  PetscCheck(create, model->comm, PETSC_ERR_USER_INPUT, "-model %s is not a known model; known:%s",
             type, ItModelNames);
  PetscCall(PetscStrncpy(model->type, type, IT_NAME_LEN));
  model->evaluate = ItModelEvaluate_Point;
  PetscCall((*create)(model));

  PetscOptionsBegin(model->comm, NULL, "Model parameters", "ItModel");
  {
    char    *names[IT_MAX_DIM];
    PetscInt nvars = IT_MAX_DIM;
    PetscCall(PetscOptionsStringArray("-vars", "variable names, comma separated", NULL, names,
                                      &nvars, &set));
    if (set) {
      PetscCheck(nvars == model->dim, model->comm, PETSC_ERR_USER_INPUT,
                 "-vars names %" PetscInt_FMT " variables but model %s has %" PetscInt_FMT, nvars,
                 model->type, model->dim);
      for (PetscInt i = 0; i < nvars; i++) {
        PetscCall(ItModelCheckName(model, names[i]));
        for (PetscInt j = 0; j < i; j++) {
          PetscBool same;
          PetscCall(PetscStrcmp(names[i], names[j], &same));
          PetscCheck(!same, model->comm, PETSC_ERR_USER_INPUT,
                     "-vars: the name '%s' is given twice", names[i]);
        }
        PetscCall(PetscStrncpy(model->var[i], names[i], IT_NAME_LEN));
      }
      for (PetscInt i = 0; i < nvars; i++) PetscCall(PetscFree(names[i]));
    }
  }
  for (PetscInt k = 0; k < model->nparam; k++) {
    ItParam *param = &model->param[k];
    char     option[IT_NAME_LEN + 1];

    PetscCall(PetscSNPrintf(option, sizeof(option), "-%s", param->name));
    PetscCall(PetscOptionsReal(option, param->help, NULL, param->value, &param->value, NULL));
    PetscCheck(param->kind != IT_PARAM_POSITIVE || param->value > 0, model->comm,
               PETSC_ERR_USER_INPUT, "%s must be positive (%s); got %g", option, param->help,
               (double)param->value);
    PetscCheck(!PetscIsInfOrNanReal(param->value), model->comm, PETSC_ERR_USER_INPUT,
               "%s must be a finite number; got %g", option, (double)param->value);
  }
  {
    char    *parity[IT_MAX_DIM];
    PetscInt nparity = IT_MAX_DIM;
    for (PetscInt i = 0; i < model->dim; i++) model->parity[i] = 1;
    PetscCall(PetscOptionsStringArray(
        "-parity", "parity of variables under time reversal, e.g. v:odd (PHYSICS.md 3b)", NULL,
        parity, &nparity, NULL));
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
  }
  PetscOptionsEnd();
  if (model->setfromoptions) PetscCall(model->setfromoptions(model));
  PetscCall(ItModelProtocolsFromOptions(model));
  if (model->validate) PetscCall(model->validate(model));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Drift and diffusion at n points. Not collective. */
PetscErrorCode ItModelEvaluate(ItModel model, PetscReal t, PetscInt n, const PetscReal x[],
                               PetscReal A[], PetscReal D[]) {
  PetscFunctionBegin;
  PetscCall(ItModelSetTime(model, t));
  PetscCall(model->evaluate(model, t, n, x, A, D));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The value of a schedule at time t: its first value up to the first point;
   a value set at t_k holds for t > t_k (a step that ends on a switching time
   still sees the old value), or is ramped linearly to the next point. */
PetscReal ItModelProtocolValue(const ItProtocol *protocol, PetscReal t) {
  PetscInt k = 0;

  while (k + 1 < protocol->n && t > protocol->t[k + 1]) k++;
  if (!protocol->ramp || k + 1 >= protocol->n || t < protocol->t[0]) return protocol->value[k];
  return protocol->value[k] + (protocol->value[k + 1] - protocol->value[k]) * (t - protocol->t[k]) /
                                  (protocol->t[k + 1] - protocol->t[k]);
}

/* Sets every scheduled parameter to its value at time t. Not collective. */
PetscErrorCode ItModelSetTime(ItModel model, PetscReal t) {
  PetscFunctionBegin;
  for (PetscInt k = 0; k < model->nprotocol; k++)
    model->param[model->protocol[k].param].value = ItModelProtocolValue(&model->protocol[k], t);
  PetscFunctionReturn(PETSC_SUCCESS);
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

/* -protocol name:value@time,value@time,...  (held piecewise constant), or
   -protocol name:ramp:value@time,...  (linear between the points); several
   parameters are separated by ';' in the one value:
   -protocol "h:0@0,1@5,0@20;tau_w:ramp:1@0,2@20". */
static PetscErrorCode ItModelProtocolsFromOptions(ItModel model) {
  char      text[4096] = "", *schedule, *save = NULL;
  PetscBool set;

  PetscFunctionBegin;
  PetscCall(PetscOptionsGetString(NULL, NULL, "-protocol", text, sizeof(text), &set));
  if (!set) PetscFunctionReturn(PETSC_SUCCESS);
  for (schedule = strtok_r(text, ";", &save); schedule; schedule = strtok_r(NULL, ";", &save)) {
    ItProtocol *p = &model->protocol[model->nprotocol];
    char       *colon, *points, *point, *save2 = NULL;
    PetscBool   found = PETSC_FALSE;

    PetscCheck(model->nprotocol < IT_MAX_PROTOCOLS, model->comm, PETSC_ERR_USER_INPUT,
               "-protocol: at most %d schedules", IT_MAX_PROTOCOLS);
    PetscCall(PetscStrchr(schedule, ':', &colon));
    PetscCheck(colon, model->comm, PETSC_ERR_USER_INPUT,
               "-protocol takes name:value@time,value@time,... (or name:ramp:...); got '%s'",
               schedule);
    *colon = 0;
    for (PetscInt k = 0; k < model->nparam; k++) {
      PetscCall(PetscStrcmp(model->param[k].name, schedule, &found));
      if (found) {
        p->param = k;
        break;
      }
    }
    PetscCheck(found, model->comm, PETSC_ERR_USER_INPUT,
               "-protocol: '%s' is not a parameter of model %s (infotherm info lists them)",
               schedule, model->type);
    points  = colon + 1;
    p->ramp = PETSC_FALSE;
    if (!strncmp(points, "ramp:", 5)) {
      p->ramp = PETSC_TRUE;
      points += 5;
    }
    p->n = 0;
    for (point = strtok_r(points, ",", &save2); point; point = strtok_r(NULL, ",", &save2)) {
      char *at;
      PetscCheck(p->n < IT_MAX_PROTOCOL_POINTS, model->comm, PETSC_ERR_USER_INPUT,
                 "-protocol %s: at most %d points", model->param[p->param].name,
                 IT_MAX_PROTOCOL_POINTS);
      PetscCall(PetscStrchr(point, '@', &at));
      PetscCheck(at, model->comm, PETSC_ERR_USER_INPUT,
                 "-protocol %s: each point is value@time; got '%s'", model->param[p->param].name,
                 point);
      *at = 0;
      PetscCall(PetscOptionsStringToReal(point, &p->value[p->n]));
      PetscCall(PetscOptionsStringToReal(at + 1, &p->t[p->n]));
      PetscCheck(p->n == 0 || p->t[p->n] > p->t[p->n - 1], model->comm, PETSC_ERR_USER_INPUT,
                 "-protocol %s: the times must increase", model->param[p->param].name);
      PetscCheck(model->param[p->param].kind != IT_PARAM_POSITIVE || p->value[p->n] > 0,
                 model->comm, PETSC_ERR_USER_INPUT, "-protocol %s: the values must be positive",
                 model->param[p->param].name);
      p->n++;
    }
    PetscCheck(p->n >= 1, model->comm, PETSC_ERR_USER_INPUT, "-protocol %s: no points",
               model->param[p->param].name);
    model->nprotocol++;
  }
  PetscCall(ItModelSetTime(model, 0.0));
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

PetscErrorCode ItModelView(ItModel model, PetscViewer viewer) {
  PetscFunctionBegin;
  PetscCall(PetscViewerASCIIPrintf(viewer, "model %s, %" PetscInt_FMT " variable(s):", model->type,
                                   model->dim));
  PetscCall(PetscViewerASCIIUseTabs(viewer, PETSC_FALSE));
  for (PetscInt i = 0; i < model->dim; i++)
    PetscCall(PetscViewerASCIIPrintf(viewer, " %s", model->var[i]));
  PetscCall(PetscViewerASCIIPrintf(viewer, "\n"));
  PetscCall(PetscViewerASCIIUseTabs(viewer, PETSC_TRUE));
  if (model->view) PetscCall(model->view(model, viewer));
  for (PetscInt k = 0; k < model->nparam; k++)
    PetscCall(PetscViewerASCIIPrintf(viewer, "  %-10s = %-12g %s\n", model->param[k].name,
                                     (double)model->param[k].value, model->param[k].help));
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode ItModelDestroy(ItModel *model) {
  PetscFunctionBegin;
  if (!*model) PetscFunctionReturn(PETSC_SUCCESS);
  if ((*model)->destroy) PetscCall((*model)->destroy(*model));
  PetscCall(PetscFree((*model)->data));
  PetscCall(PetscFree(*model));
  PetscFunctionReturn(PETSC_SUCCESS);
}
