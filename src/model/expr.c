/* Expression model (doc/physics.md §2): the drift A_i and diffusion D_i of every
   variable written as formulas in the variables, named parameters and t,
     -model expr -vars v,r -expr_drift_v "(-(v - v0)/tau)" -expr_diffusion_v "s^2/tau"
     -expr_drift_r ... -expr_diffusion_r ... -expr_param tau=1,s=0.8,v0=0
   evaluated with muparser's C API in bulk over arrays of points. Each named
   parameter joins the model's parameter table (so -tau 2 overrides it and it
   appears in summary.json). A formula that does not parse, or names an
   unknown symbol, is reported with the formula and the position before any
   solve; a diffusion that is not positive on the box is reported by the
   operator's assembly with where it happens. The force's ∂i D_i is never asked
   for: the operator and the diagnostics use D at cells and faces. A model
   whose formulas use t depends on time continuously (muparser lists the
   names a formula uses). muparser's bulk evaluation runs OpenMP threads:
   -expr_threads (default 1, one thread per MPI rank) sets how many. Each bulk
   call costs about as much as 1000 points (muparser 2.3 prepares the formula
   again), so the model asks for large bulks (ItModelGetBulkSize), and a
   formula of no variable is evaluated once per change of the parameters. */
#include <omp.h>
#include <muParserDLL.h>
#include <infotherm/private/modelimpl.h>

/* In bulk mode muparser reads every variable as an array of the bulk size:
   the variables and t are arrays, refilled before each evaluation. The
   parameters are muparser constants, folded into each formula's bytecode
   (sr^2/tr becomes one number) and redefined only when their values change
   (a schedule): that cache, like the arrays, is workspace, not configuration.
   A formula of no variable (a constant diffusion) is evaluated once per call. */
typedef struct {
  muParserHandle_t parser[2 * IT_MAX_DIM]; /* drift of each variable, then diffusion */
  char             formula[2 * IT_MAX_DIM][512];
  PetscBool        constant[2 * IT_MAX_DIM]; /* uses neither a variable nor t */
  PetscBool        cached[2 * IT_MAX_DIM];   /* a constant's value is in cvalue */
  PetscReal        cvalue[2 * IT_MAX_DIM];
  PetscReal       *x[IT_MAX_DIM], *t, *out; /* bulk arrays */
  PetscInt         cap;
  PetscBool        defined; /* the parameters are defined, with the values pvalue */
  PetscReal        pvalue[IT_MAX_PARAMS];
} ItExpr;

/* Binds the bulk arrays (again, after they move) to the names. */
static void ItExprBind(ItModelConst model) {
  ItExpr *e = (ItExpr *)model->data;

  for (PetscInt f = 0; f < 2 * model->dim; f++) {
    for (PetscInt i = 0; i < model->dim; i++)
      mupDefineBulkVar(e->parser[f], model->var[i], e->x[i]);
    mupDefineBulkVar(e->parser[f], "t", e->t);
  }
}

/* Room for n points. */
static PetscErrorCode ItExprReserve(ItModelConst model, PetscInt n) {
  ItExpr *e = (ItExpr *)model->data;

  PetscFunctionBegin;
  if (n <= e->cap) PetscFunctionReturn(PETSC_SUCCESS);
  e->cap = PetscMax(n, 2 * e->cap);
  for (PetscInt i = 0; i < model->dim; i++)
    PetscCall(PetscRealloc(sizeof(PetscReal) * e->cap, &e->x[i]));
  PetscCall(PetscRealloc(sizeof(PetscReal) * e->cap, &e->t));
  PetscCall(PetscRealloc(sizeof(PetscReal) * e->cap, &e->out));
  ItExprBind(model);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The parameters' values p as constants of every formula, when they changed. */
static void ItExprSetParameters(ItModelConst model, const PetscReal p[]) {
  ItExpr   *e    = (ItExpr *)model->data;
  PetscBool same = e->defined;

  for (PetscInt j = 0; j < model->nparam && same; j++) same = (PetscBool)(p[j] == e->pvalue[j]);
  if (same) return;
  for (PetscInt f = 0; f < 2 * model->dim; f++)
    for (PetscInt j = 0; j < model->nparam; j++)
      mupDefineConst(e->parser[f], model->param[j].name, p[j]);
  for (PetscInt j = 0; j < model->nparam; j++) e->pvalue[j] = p[j];
  for (PetscInt f = 0; f < 2 * model->dim; f++) e->cached[f] = PETSC_FALSE;
  e->defined = PETSC_TRUE;
}

/* Formula f at the n points in the bulk arrays, into out[n]. */
static PetscErrorCode ItExprEvalFormula(ItModelConst model, PetscInt f, PetscInt n,
                                        PetscReal out[]) {
  ItExpr *e = (ItExpr *)model->data;

  PetscFunctionBegin;
  if (n <= 0) PetscFunctionReturn(PETSC_SUCCESS);
  if (e->constant[f] && e->cached[f]) {
    for (PetscInt k = 0; k < n; k++) out[k] = e->cvalue[f];
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  mupEvalBulk(e->parser[f], out, e->constant[f] ? 1 : (int)n);
  PetscCheck(!mupError(e->parser[f]), model->comm, PETSC_ERR_USER_INPUT,
             "evaluating \"%s\" failed: %s", e->formula[f], mupGetErrorMsg(e->parser[f]));
  if (!e->constant[f]) PetscFunctionReturn(PETSC_SUCCESS);
  e->cvalue[f] = out[0];
  e->cached[f] = PETSC_TRUE;
  for (PetscInt k = 1; k < n; k++) out[k] = out[0];
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ItModelEvaluate_Expr(ItModelConst model, PetscReal t, const PetscReal p[],
                                           PetscInt n, const PetscReal x[], PetscReal A[],
                                           PetscReal D[]) {
  ItExpr        *e = (ItExpr *)model->data;
  const PetscInt d = model->dim;

  PetscFunctionBegin;
  PetscCall(ItExprReserve(model, n));
  ItExprSetParameters(model, p);
  for (PetscInt k = 0; k < n; k++) {
    for (PetscInt i = 0; i < d; i++) e->x[i][k] = x[k * d + i];
    e->t[k] = t;
  }
  for (PetscInt f = 0; f < 2 * d; f++) {
    PetscReal *target = f < d ? A : D;
    PetscCall(ItExprEvalFormula(model, f, n, e->out));
    for (PetscInt k = 0; k < n; k++) target[k * d + f % d] = e->out[k];
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The same on structure-of-arrays points: each formula evaluated straight into its row. */
static PetscErrorCode ItModelEvaluateSoA_Expr(ItModelConst model, PetscReal t, const PetscReal p[],
                                              PetscInt n, PetscInt ld, const PetscReal x[],
                                              PetscReal A[], PetscReal D[]) {
  ItExpr        *e = (ItExpr *)model->data;
  const PetscInt d = model->dim;

  PetscFunctionBegin;
  PetscCall(ItExprReserve(model, n));
  ItExprSetParameters(model, p);
  for (PetscInt i = 0; i < d; i++) PetscCall(PetscArraycpy(e->x[i], &x[i * ld], n));
  for (PetscInt k = 0; k < n; k++) e->t[k] = t;
  for (PetscInt f = 0; f < 2 * d; f++)
    PetscCall(ItExprEvalFormula(model, f, n, &(f < d ? A : D)[(f % d) * ld]));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The names a formula uses (after parsing): does it use t, or any name at all? */
static void ItExprNames(muParserHandle_t parser, PetscBool *uses_t, PetscBool *uses_any) {
  const int nvar = mupGetExprVarNum(parser);

  *uses_t   = PETSC_FALSE;
  *uses_any = (PetscBool)(nvar > 0);
  for (int k = 0; k < nvar; k++) {
    const muChar_t *name;
    muFloat_t      *value;
    mupGetExprVar(parser, (unsigned)k, &name, &value);
    if (!strcmp(name, "t")) *uses_t = PETSC_TRUE;
  }
}

/* Whether any formula uses t. */
static PetscBool ItModelUsesTime_Expr(ItModel model) {
  ItExpr   *e = (ItExpr *)model->data;
  PetscBool uses_t, uses_any;

  for (PetscInt f = 0; f < 2 * model->dim; f++) {
    ItExprNames(e->parser[f], &uses_t, &uses_any);
    if (uses_t) return PETSC_TRUE;
  }
  return PETSC_FALSE;
}

/* The formulas (the named parameters are in the table). */
static PetscErrorCode ItModelFingerprint_Expr(ItModel model, json_t *fingerprint) {
  ItExpr *e        = (ItExpr *)model->data;
  json_t *formulas = json_object();

  PetscFunctionBegin;
  for (PetscInt f = 0; f < 2 * model->dim; f++) {
    char key[64];
    PetscCall(PetscSNPrintf(key, sizeof(key), "%s_%s", f < model->dim ? "drift" : "diffusion",
                            model->var[f % model->dim]));
    json_object_set_new(formulas, key, json_string(e->formula[f]));
  }
  json_object_set_new(fingerprint, "formulas", formulas);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ItModelDestroy_Expr(ItModel model) {
  ItExpr *e = (ItExpr *)model->data;

  PetscFunctionBegin;
  for (PetscInt k = 0; k < 2 * model->dim; k++)
    if (e->parser[k]) mupRelease(e->parser[k]);
  for (PetscInt i = 0; i < model->dim; i++) PetscCall(PetscFree(e->x[i]));
  PetscCall(PetscFree(e->t));
  PetscCall(PetscFree(e->out));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ItModelView_Expr(ItModel model, PetscViewer viewer) {
  ItExpr *e = (ItExpr *)model->data;

  PetscFunctionBegin;
  for (PetscInt i = 0; i < model->dim; i++)
    PetscCall(PetscViewerASCIIPrintf(viewer, "  A_%s = %s\n  D_%s = %s\n", model->var[i],
                                     e->formula[i], model->var[i], e->formula[model->dim + i]));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Parses every formula once, at the box-independent point x = 0.5, t = 0, so
   that syntax errors and unknown symbols stop the run before anything else. */
static PetscErrorCode ItModelValidate_Expr(ItModel model) {
  ItExpr        *e = (ItExpr *)model->data;
  const PetscInt d = model->dim;
  PetscReal      p[IT_MAX_PARAMS];

  PetscFunctionBegin;
  for (PetscInt k = 0; k < model->nparam; k++) p[k] = model->param[k].value;
  ItExprSetParameters(model, p);
  for (PetscInt i = 0; i < d; i++) e->x[i][0] = 0.5;
  e->t[0] = 0;
  for (PetscInt f = 0; f < 2 * d; f++) {
    PetscBool uses_t, uses_any;
    mupEvalBulk(e->parser[f], e->out, 1);
    PetscCheck(!mupError(e->parser[f]), model->comm, PETSC_ERR_USER_INPUT, "-expr_%s_%s \"%s\": %s",
               f < d ? "drift" : "diffusion", model->var[f % d], e->formula[f],
               mupGetErrorMsg(e->parser[f]));
    ItExprNames(e->parser[f], &uses_t, &uses_any);
    e->constant[f] = (PetscBool)!uses_any;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Whether muparser knows the name already: a constant (_pi, _e) or a function
   of one to three arguments (sin, min, atan2, ...); asked of a fresh parser. */
static PetscBool ItExprIsBuiltIn(const char name[]) {
  const char *const forms[] = {"%s", "%s(1)", "%s(1,1)", "%s(1,1,1)"};
  muParserHandle_t  parser  = mupCreate(muBASETYPE_FLOAT);
  PetscBool         known   = PETSC_FALSE;

  for (size_t k = 0; parser && k < sizeof(forms) / sizeof(forms[0]) && !known; k++) {
    char text[64];
    snprintf(text, sizeof(text), forms[k], name);
    mupSetExpr(parser, text);
    (void)mupEval(parser);
    known = (PetscBool)!mupError(parser); /* mupError also clears the error */
  }
  if (parser) mupRelease(parser);
  return known;
}

/* A name of the formulas (a variable or a parameter, `what`, given by
   `option`): letters, digits and _, starting with a letter, neither t nor a
   name muparser defines, nor one of the first `nvar` variables. */
static PetscErrorCode ItExprCheckName(ItModel model, const char option[], const char what[],
                                      const char name[], PetscInt nvar) {
  PetscBool ok;

  PetscFunctionBegin;
  PetscCheck(!ItExprIsBuiltIn(name), model->comm, PETSC_ERR_USER_INPUT,
             "%s: '%s' is a name muparser defines (a function or constant); choose another %s name",
             option, name, what);
  PetscCheck(ItModelIsName(name), model->comm, PETSC_ERR_USER_INPUT,
             "%s: '%s' is not a valid %s name (letters, digits and _, starting with a letter, at "
             "most 23 characters)",
             option, name, what);
  PetscCall(PetscStrcmp(name, "t", &ok));
  PetscCheck(!ok, model->comm, PETSC_ERR_USER_INPUT,
             "%s: 't' is the time in every formula; choose another %s name", option, what);
  for (PetscInt i = 0; i < nvar; i++) {
    PetscCall(PetscStrcmp(name, model->var[i], &ok));
    PetscCheck(!ok, model->comm, PETSC_ERR_USER_INPUT,
               "%s: '%s' is a variable of the model (-vars); a parameter needs a name of its own",
               option, name);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* -expr_param name=value,...: each a parameter of its own (-name overrides
   it). Inside the caller's PetscOptionsBegin/End. */
static PetscErrorCode ItExprReadParameters(PetscOptionItems *PetscOptionsObject, ItModel model) {
  char    *params[IT_MAX_PARAMS + 1];
  PetscInt nparams = IT_MAX_PARAMS + 1; /* one more, to refuse a list PETSc would cut */

  PetscFunctionBegin;
  PetscCall(PetscOptionsStringArray("-expr_param", "named parameters, name=value,...", NULL, params,
                                    &nparams, NULL));
  PetscCheck(nparams <= IT_MAX_PARAMS, model->comm, PETSC_ERR_USER_INPUT,
             "-expr_param: at most %d parameters", IT_MAX_PARAMS);
  for (PetscInt k = 0; k < nparams; k++) {
    char     *eq, *end;
    PetscReal value;
    PetscInt  known;
    PetscCall(PetscStrchr(params[k], '=', &eq));
    PetscCheck(eq, model->comm, PETSC_ERR_USER_INPUT,
               "-expr_param takes name=value entries; got '%s'", params[k]);
    *eq   = 0;
    value = strtod(eq + 1, &end);
    PetscCheck(eq[1] && !*end, model->comm, PETSC_ERR_USER_INPUT,
               "-expr_param %s: '%s' is not a number", params[k], eq + 1);
    PetscCall(ItExprCheckName(model, "-expr_param", "parameter", params[k], model->dim));
    PetscCall(ItModelFindParameter(model, params[k], &known));
    PetscCheck(known < 0, model->comm, PETSC_ERR_USER_INPUT,
               "-expr_param: the parameter '%s' is given twice", params[k]);
    PetscCall(ItModelAddParam(model, params[k], value, IT_PARAM_ANY, "expression parameter", NULL));
    PetscCall(PetscFree(params[k]));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The formula of `option` as given: no longer than the buffer that holds it,
   and without muparser's assignment operator (v = 0 would change a variable
   for the formulas evaluated after it); ==, !=, <= and >= compare. */
static PetscErrorCode ItExprCheckFormula(ItModel model, const char option[], const char formula[],
                                         size_t size) {
  const char *given;
  PetscBool   set;
  size_t      len;

  PetscFunctionBegin;
  PetscCall(PetscOptionsFindPair(NULL, NULL, option, &given, &set));
  PetscCall(PetscStrlen(given, &len));
  PetscCheck(len < size, model->comm, PETSC_ERR_USER_INPUT,
             "%s: the formula has %zu characters; at most %zu are allowed", option, len, size - 1);
  for (size_t k = 0; formula[k]; k++) {
    if (formula[k] != '=') continue;
    if (formula[k + 1] == '=') { /* == */
      k++;
      continue;
    }
    PetscCheck(k > 0 && strchr("!<>", formula[k - 1]), model->comm, PETSC_ERR_USER_INPUT,
               "%s \"%s\": the '=' at position %zu assigns a value (muparser's assignment "
               "operator); a formula may compare (==, !=, <=, >=) but not assign",
               option, formula, k);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode ItModelCreate_Expr(ItModel model) {
  ItExpr   *e;
  char     *vars[IT_MAX_DIM];
  PetscInt  nvars = IT_MAX_DIM, d, threads = 1;
  PetscBool set;

  PetscFunctionBegin;
  PetscCall(PetscNew(&e));
  model->data = e;
  PetscCall(ItModelReadVariableNames(model, &nvars, vars, &set));
  PetscCheck(set && nvars >= 1, model->comm, PETSC_ERR_USER_INPUT,
             "-model expr needs -vars (1 to %d names, e.g. -vars v,r)", IT_MAX_DIM);
  d = nvars;
  PetscCall(ItModelSetVariables(model, d, (const char *const *)vars));
  for (PetscInt i = 0; i < nvars; i++) {
    PetscCall(ItExprCheckName(model, "-vars", "variable", vars[i], 0));
    PetscCall(PetscFree(vars[i]));
  }
  PetscOptionsBegin(model->comm, NULL, "Expression model", "ItModel");
  PetscCall(PetscOptionsInt("-expr_threads",
                            "OpenMP threads of muparser's bulk evaluation per MPI rank", NULL,
                            threads, &threads, NULL));
  PetscCheck(threads >= 1, model->comm, PETSC_ERR_USER_INPUT,
             "-expr_threads must be at least 1; got %" PetscInt_FMT, threads);
  PetscCall(ItOptionsCheckInt(model->comm, "-expr_threads"));
  omp_set_num_threads((int)threads);
  PetscCall(ItExprReadParameters(PetscOptionsObject, model));
  for (PetscInt f = 0; f < 2 * d; f++) {
    char option[64];
    PetscCall(PetscSNPrintf(option, sizeof(option), "-expr_%s_%s", f < d ? "drift" : "diffusion",
                            model->var[f % d]));
    PetscCall(PetscOptionsString(option, "formula in the variables, parameters and t", NULL,
                                 e->formula[f], e->formula[f], sizeof(e->formula[f]), &set));
    PetscCheck(set, model->comm, PETSC_ERR_USER_INPUT, "-model expr needs %s", option);
    PetscCheck(e->formula[f][0], model->comm, PETSC_ERR_USER_INPUT, "%s is empty; give a formula",
               option);
    PetscCall(ItExprCheckFormula(model, option, e->formula[f], sizeof(e->formula[f])));
  }
  PetscOptionsEnd();
  for (PetscInt f = 0; f < 2 * d; f++) {
    e->parser[f] = mupCreate(muBASETYPE_FLOAT);
    PetscCheck(e->parser[f], model->comm, PETSC_ERR_LIB, "muparser could not create a parser");
    mupSetExpr(e->parser[f], e->formula[f]);
  }
  /* the parameter values at time t are copied into the bulk arrays at every
     evaluation, so -name overrides and schedules reach the formulas */
  PetscCall(ItExprReserve(model, 64));
  for (PetscInt i = 0; i < d; i++) /* about 10^6 to 3·10^6 cells from 4 variables on */
    PetscCall(
        ItModelSetDefaultBox(model, i, (PetscInt[]){64, 64, 48, 32, 16, 12}[d - 1], -5.0, 5.0));
  model->ops.evaluate     = ItModelEvaluate_Expr;
  model->ops.evaluate_soa = ItModelEvaluateSoA_Expr;
  model->bulk_size        = 8192;
  model->ops.validate     = ItModelValidate_Expr;
  model->ops.view         = ItModelView_Expr;
  model->ops.destroy      = ItModelDestroy_Expr;
  model->ops.uses_time    = ItModelUsesTime_Expr;
  model->ops.fingerprint  = ItModelFingerprint_Expr;
  PetscFunctionReturn(PETSC_SUCCESS);
}
