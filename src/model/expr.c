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
   names a formula uses). The model itself is never written after it is set
   up: parsers, bulk arrays and caches live in evaluation workspaces
   (ItModelWorkCreate), one per consumer. muparser's bulk evaluation runs
   OpenMP threads: -expr_threads (default 1, one thread per MPI rank) sets how
   many for each bulk call only, restoring the caller's count. Each bulk
   call costs about as much as 1000 points (muparser 2.3 prepares the formula
   again), so the model asks for large bulks (ItModelGetBulkSize), and a
   formula of no variable is evaluated once per change of the parameters. */
#include <omp.h>
#include <muParserDLL.h>
#include <ctype.h>
#include <infotherm/private/modelimpl.h>

/* The configuration (never written after ItModelSetFromOptions): the formulas,
   which of them use no name at all, the threads of a bulk evaluation. */
typedef struct {
  char           formula[2 * IT_MAX_DIM][512]; /* drift of each variable, then diffusion */
  PetscBool      constant[2 * IT_MAX_DIM];     /* uses neither a variable nor t */
  PetscBool      uses_t;                       /* some formula uses t */
  PetscInt       threads;                      /* -expr_threads */
  ItModelWork    work;                         /* the workspace of the calls that bring none */
  PetscBool      compile;                      /* -expr_compile */
  char           cc[PETSC_MAX_PATH_LEN];       /* -expr_cc */
  char           cache[PETSC_MAX_PATH_LEN];    /* -expr_cache_dir */
  ItExprCompiled compiled;                     /* the compiled kernels (handle NULL: muparser) */
  char           evaluator[PETSC_MAX_PATH_LEN + 64]; /* how the formulas are evaluated */
} ItExpr;

/* An evaluation workspace, one per consumer (ItModelWorkCreate). In bulk mode
   muparser reads every variable as an array of the bulk size: the variables
   and t are arrays, refilled before each evaluation. The parameters are
   muparser constants, folded into each formula's bytecode (sr^2/tr becomes
   one number) and redefined only when their values change (a schedule); a
   formula of no variable (a constant diffusion) is evaluated once per change
   of the parameters. Parsers, arrays and caches are all here, so two
   consumers never share one. */
typedef struct {
  muParserHandle_t parser[2 * IT_MAX_DIM];
  PetscBool        cached[2 * IT_MAX_DIM]; /* a constant's value is in cvalue */
  PetscReal        cvalue[2 * IT_MAX_DIM];
  PetscReal       *x[IT_MAX_DIM], *t, *out; /* bulk arrays */
  PetscInt         cap;
  PetscBool        defined; /* the parameters are defined, with the values pvalue */
  PetscReal        pvalue[IT_MAX_PARAMS];
} ItExprWork;

/* Binds the bulk arrays (again, after they move) to the names. */
static void ItExprBind(ItModelConst model, ItExprWork *w) {
  for (PetscInt f = 0; f < 2 * model->dim; f++) {
    for (PetscInt i = 0; i < model->dim; i++)
      mupDefineBulkVar(w->parser[f], model->var[i], w->x[i]);
    mupDefineBulkVar(w->parser[f], "t", w->t);
  }
}

/* Room for n points. */
static PetscErrorCode ItExprReserve(ItModelConst model, ItExprWork *w, PetscInt n) {
  PetscFunctionBegin;
  if (n <= w->cap) PetscFunctionReturn(PETSC_SUCCESS);
  w->cap = PetscMax(n, 2 * w->cap);
  for (PetscInt i = 0; i < model->dim; i++)
    PetscCall(PetscRealloc(sizeof(PetscReal) * w->cap, &w->x[i]));
  PetscCall(PetscRealloc(sizeof(PetscReal) * w->cap, &w->t));
  PetscCall(PetscRealloc(sizeof(PetscReal) * w->cap, &w->out));
  ItExprBind(model, w);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A workspace of the model's formulas: a parser of each, room for 64 points. */
static PetscErrorCode ItModelWorkCreate_Expr(ItModelConst model, void **work) {
  const ItExpr *e = (const ItExpr *)model->data;
  ItExprWork   *w;

  PetscFunctionBegin;
  PetscCall(PetscNew(&w));
  *work = w;
  if (e->compiled.handle)
    PetscFunctionReturn(PETSC_SUCCESS); /* the compiled kernels keep no state */
  for (PetscInt f = 0; f < 2 * model->dim; f++) {
    w->parser[f] = mupCreate(muBASETYPE_FLOAT);
    PetscCheck(w->parser[f], model->comm, PETSC_ERR_LIB, "muparser could not create a parser");
    mupSetExpr(w->parser[f], e->formula[f]);
  }
  PetscCall(ItExprReserve(model, w, 64));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ItModelWorkDestroy_Expr(ItModelConst model, void *work) {
  ItExprWork *w = (ItExprWork *)work;

  PetscFunctionBegin;
  if (!w) PetscFunctionReturn(PETSC_SUCCESS);
  for (PetscInt k = 0; k < 2 * model->dim; k++)
    if (w->parser[k]) mupRelease(w->parser[k]);
  for (PetscInt i = 0; i < model->dim; i++) PetscCall(PetscFree(w->x[i]));
  PetscCall(PetscFree(w->t));
  PetscCall(PetscFree(w->out));
  PetscCall(PetscFree(w));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The parameters' values p as constants of every formula, when they changed. */
static void ItExprSetParameters(ItModelConst model, ItExprWork *w, const PetscReal p[]) {
  PetscBool same = w->defined;

  for (PetscInt j = 0; j < model->nparam && same; j++) same = (PetscBool)(p[j] == w->pvalue[j]);
  if (same) return;
  for (PetscInt f = 0; f < 2 * model->dim; f++)
    for (PetscInt j = 0; j < model->nparam; j++)
      mupDefineConst(w->parser[f], model->param[j].name, p[j]);
  for (PetscInt j = 0; j < model->nparam; j++) w->pvalue[j] = p[j];
  for (PetscInt f = 0; f < 2 * model->dim; f++) w->cached[f] = PETSC_FALSE;
  w->defined = PETSC_TRUE;
}

/* muparser's bulk evaluation of n points, on -expr_threads OpenMP threads:
   the calling thread's thread count is set for this call and restored, so
   the process-wide setting (one thread per MPI rank) is never changed. */
static void ItExprEvalBulk(const ItExpr *e, muParserHandle_t parser, PetscReal out[], int n) {
  const int before = omp_get_max_threads();

  if (before != (int)e->threads) omp_set_num_threads((int)e->threads);
  mupEvalBulk(parser, out, n);
  if (before != (int)e->threads) omp_set_num_threads(before);
}

/* Formula f at the n points in the bulk arrays, into out[n]. */
static PetscErrorCode ItExprEvalFormula(ItModelConst model, ItExprWork *w, PetscInt f, PetscInt n,
                                        PetscReal out[]) {
  const ItExpr *e = (const ItExpr *)model->data;

  PetscFunctionBegin;
  if (n <= 0) PetscFunctionReturn(PETSC_SUCCESS);
  if (e->constant[f] && w->cached[f]) {
    for (PetscInt k = 0; k < n; k++) out[k] = w->cvalue[f];
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  ItExprEvalBulk(e, w->parser[f], out, e->constant[f] ? 1 : (int)n);
  PetscCheck(!mupError(w->parser[f]), model->comm, PETSC_ERR_USER_INPUT,
             "evaluating \"%s\" failed: %s", e->formula[f], mupGetErrorMsg(w->parser[f]));
  if (!e->constant[f]) PetscFunctionReturn(PETSC_SUCCESS);
  w->cvalue[f] = out[0];
  w->cached[f] = PETSC_TRUE;
  for (PetscInt k = 1; k < n; k++) out[k] = out[0];
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ItModelEvaluateWork_Expr(ItModelConst model, void *work, PetscReal t,
                                               const PetscReal p[], PetscInt n, const PetscReal x[],
                                               PetscReal A[], PetscReal D[]) {
  ItExprWork    *w = (ItExprWork *)work;
  const ItExpr  *e = (const ItExpr *)model->data;
  const PetscInt d = model->dim;

  PetscFunctionBegin;
  if (e->compiled.aos) {
    e->compiled.aos((long)n, t, p, x, A, D);
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(ItExprReserve(model, w, n));
  ItExprSetParameters(model, w, p);
  for (PetscInt k = 0; k < n; k++) {
    for (PetscInt i = 0; i < d; i++) w->x[i][k] = x[k * d + i];
    w->t[k] = t;
  }
  for (PetscInt f = 0; f < 2 * d; f++) {
    PetscReal *target = f < d ? A : D;
    PetscCall(ItExprEvalFormula(model, w, f, n, w->out));
    for (PetscInt k = 0; k < n; k++) target[k * d + f % d] = w->out[k];
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The same on structure-of-arrays points: each formula evaluated straight into its row. */
static PetscErrorCode ItModelEvaluateSoAWork_Expr(ItModelConst model, void *work, PetscReal t,
                                                  const PetscReal p[], PetscInt n, PetscInt ld,
                                                  const PetscReal x[], PetscReal A[],
                                                  PetscReal D[]) {
  ItExprWork    *w = (ItExprWork *)work;
  const ItExpr  *e = (const ItExpr *)model->data;
  const PetscInt d = model->dim;

  PetscFunctionBegin;
  if (e->compiled.soa) {
    e->compiled.soa((long)n, (long)ld, t, p, x, A, D);
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(ItExprReserve(model, w, n));
  ItExprSetParameters(model, w, p);
  for (PetscInt i = 0; i < d; i++) PetscCall(PetscArraycpy(w->x[i], &x[i * ld], n));
  for (PetscInt k = 0; k < n; k++) w->t[k] = t;
  for (PetscInt f = 0; f < 2 * d; f++)
    PetscCall(ItExprEvalFormula(model, w, f, n, &(f < d ? A : D)[(f % d) * ld]));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The calls that bring no workspace (ItModelEvaluateWith, ItModelEvaluateSoA)
   use the model's own, made once by ItModelSetFromOptions: one consumer at a
   time. Every consumer that may evaluate beside another brings its own. */
static PetscErrorCode ItModelEvaluate_Expr(ItModelConst model, PetscReal t, const PetscReal p[],
                                           PetscInt n, const PetscReal x[], PetscReal A[],
                                           PetscReal D[]) {
  const ItExpr *e = (const ItExpr *)model->data;

  PetscFunctionBegin;
  PetscCall(ItModelEvaluateWork(e->work, t, p, n, x, A, D));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ItModelEvaluateSoA_Expr(ItModelConst model, PetscReal t, const PetscReal p[],
                                              PetscInt n, PetscInt ld, const PetscReal x[],
                                              PetscReal A[], PetscReal D[]) {
  const ItExpr *e = (const ItExpr *)model->data;

  PetscFunctionBegin;
  PetscCall(ItModelEvaluateSoAWork(e->work, t, p, n, ld, x, A, D));
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

/* Whether any formula uses t (found by ItModelValidate_Expr). */
static PetscBool ItModelUsesTime_Expr(ItModel model) {
  return ((ItExpr *)model->data)->uses_t;
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
  PetscCall(ItModelWorkDestroy(&e->work));
  PetscCall(ItExprCompiledRelease(&e->compiled));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ItModelView_Expr(ItModel model, PetscViewer viewer) {
  ItExpr *e = (ItExpr *)model->data;

  PetscFunctionBegin;
  for (PetscInt i = 0; i < model->dim; i++)
    PetscCall(PetscViewerASCIIPrintf(viewer, "  A_%s = %s\n  D_%s = %s\n", model->var[i],
                                     e->formula[i], model->var[i], e->formula[model->dim + i]));
  PetscCall(PetscViewerASCIIPrintf(viewer, "  evaluated by: %s\n", e->evaluator));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The formulas compiled to C (src/model/expr_compile.c), unless -expr_compile
   false; when they cannot be (no working compiler, no writable cache, a
   formula the translator does not know), one line on stderr and muparser.
   Collective. */
static PetscErrorCode ItExprSetUpCompiled(ItModel model) {
  ItExpr     *e = (ItExpr *)model->data;
  const char *formulas[2 * IT_MAX_DIM];
  char       *source = NULL, *key = NULL, why[PETSC_MAX_PATH_LEN + 160] = "";

  PetscFunctionBegin;
  PetscCall(PetscStrncpy(e->evaluator, "muparser (-expr_compile false)", sizeof(e->evaluator)));
  if (!e->compile) PetscFunctionReturn(PETSC_SUCCESS);
  for (PetscInt f = 0; f < 2 * model->dim; f++) formulas[f] = e->formula[f];
  PetscCall(ItExprTranslate(model, formulas, &source, &key, why, sizeof(why)));
  if (source) {
    PetscCall(ItExprCompile(model, source, key, e->cc, e->cache, &e->compiled, why, sizeof(why)));
    free(source);
    free(key);
  }
  if (e->compiled.handle) {
    model->bulk_size = 0; /* no cost per call to amortise: the Monte Carlo's cache-sized tiles */
    PetscCall(
        PetscSNPrintf(e->evaluator, sizeof(e->evaluator), "compiled C (%s)", e->compiled.path));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCall(PetscSNPrintf(e->evaluator, sizeof(e->evaluator), "muparser (not compiled: %s)", why));
  PetscCall(PetscFPrintf(model->comm, PETSC_STDERR,
                         "infotherm: the formulas are not compiled (%s); muparser evaluates them "
                         "(-expr_compile false says so quietly)\n",
                         why));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* muparser's error code for a token it cannot identify (ecUNASSIGNABLE_TOKEN in
   muParserDef.h, C++ only). */
#define IT_EXPR_UNKNOWN_NAME 1

/* One line for a formula muparser could not parse. A name it does not know
   (muparser: "Unexpected token "k" found at position 2") is named as such,
   with the names a formula may use. Collective. */
static PetscErrorCode ItExprParseFailed(ItModel model, muParserHandle_t parser, PetscInt f,
                                        const char formula[]) {
  const PetscInt  d          = model->dim;
  const muChar_t *token      = mupGetErrorToken(parser);
  char            names[512] = "";

  PetscFunctionBegin;
  if (mupGetErrorCode(parser) == IT_EXPR_UNKNOWN_NAME && token &&
      isalpha((unsigned char)token[0])) {
    for (PetscInt i = 0; i < d; i++) {
      size_t n;
      PetscCall(PetscStrlen(names, &n));
      PetscCall(PetscSNPrintf(names + n, sizeof(names) - n, "%s%s", i ? ", " : "", model->var[i]));
    }
    SETERRQ(model->comm, PETSC_ERR_USER_INPUT,
            "-expr_%s_%s \"%s\": unknown name %s: not a variable (%s, t), an -expr_param or a "
            "muparser function",
            f < d ? "drift" : "diffusion", model->var[f % d], formula, token, names);
  }
  SETERRQ(model->comm, PETSC_ERR_USER_INPUT, "-expr_%s_%s \"%s\": %s",
          f < d ? "drift" : "diffusion", model->var[f % d], formula, mupGetErrorMsg(parser));
}

/* Parses every formula once, at the box-independent point x = 0.5, t = 0, so
   that syntax errors and unknown symbols stop the run before anything else,
   and notes which formulas use t or no name at all. Makes the model's own
   workspace (for the calls that bring none). */
static PetscErrorCode ItModelValidate_Expr(ItModel model) {
  ItExpr        *e = (ItExpr *)model->data;
  const PetscInt d = model->dim;
  PetscReal      p[IT_MAX_PARAMS];
  ItExprWork    *w;

  PetscFunctionBegin;
  PetscCall(ItModelWorkCreate(model, &e->work));
  PetscCall(ItModelWorkGetData(e->work, (void **)&w));
  for (PetscInt k = 0; k < model->nparam; k++) p[k] = model->param[k].value;
  ItExprSetParameters(model, w, p);
  for (PetscInt i = 0; i < d; i++) w->x[i][0] = 0.5;
  w->t[0] = 0;
  for (PetscInt f = 0; f < 2 * d; f++) {
    PetscBool uses_t, uses_any;
    ItExprEvalBulk(e, w->parser[f], w->out, 1);
    if (mupError(w->parser[f])) PetscCall(ItExprParseFailed(model, w->parser[f], f, e->formula[f]));
    ItExprNames(w->parser[f], &uses_t, &uses_any);
    e->constant[f] = (PetscBool)!uses_any;
    e->uses_t      = (PetscBool)(e->uses_t || uses_t);
  }
  PetscCall(ItExprSetUpCompiled(model));
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

/* -expr_param name=value,...: each a parameter of its own (-expr_name overrides
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
    for (const ItOptionName *o = model->options; o->name; o++) /* -expr_<name> is its option */
      PetscCheck(!ItOptionsNameMatches(params[k], o->name + strlen("expr_")), model->comm,
                 PETSC_ERR_USER_INPUT,
                 "-expr_param: the parameter '%s' is named like the option -%s%s of the expression "
                 "model (its option would be -expr_%s); choose another name",
                 params[k], o->name, o->name[strlen(o->name) - 1] == '_' ? "<var>" : "", params[k]);
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
/* -expr_drift_<var> or -expr_diffusion_<var>: the option whose formula gives it. */
static PetscErrorCode ItModelCoefficientOption_Expr(ItModel model, PetscInt i, PetscBool diffusion,
                                                    char option[], size_t len) {
  PetscFunctionBegin;
  PetscCall(
      PetscSNPrintf(option, len, "-expr_%s_%s", diffusion ? "diffusion" : "drift", model->var[i]));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The option names of what only the expression model reads (-expr_drift_<var>,
 * -expr_diffusion_<var>) (src/model/option_names.c). */
static const ItOptionName ItExprOptionNames[] = {
    {"expr_param", 0},
    {"expr_threads", IT_OPTION_INTEGER},
    {"expr_drift_", 0},
    {"expr_diffusion_", 0},
    /* how the formulas are evaluated, not what they are */
    {"expr_compile", IT_OPTION_SWITCH | IT_OPTION_LOCAL | IT_OPTION_STEERING},
    {"expr_cc", IT_OPTION_LOCAL | IT_OPTION_STEERING},
    {"expr_cache_dir", IT_OPTION_LOCAL | IT_OPTION_STEERING},
    {NULL, 0}};

static PetscErrorCode ItModelCreate_Expr(ItModel model) {
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
  e->threads = threads;
  e->compile = PETSC_TRUE;
  PetscCall(PetscOptionsBool("-expr_compile",
                             "compile the formulas to C with the system's compiler (else muparser)",
                             NULL, e->compile, &e->compile, NULL));
  PetscCall(PetscOptionsString("-expr_cc",
                               "the C compiler of -expr_compile (default: $CC, else cc)", NULL,
                               e->cc, e->cc, sizeof(e->cc), NULL));
  if (!e->cc[0]) {
    const char *env = getenv("CC");
    PetscCall(PetscStrncpy(e->cc, env && env[0] ? env : "cc", sizeof(e->cc)));
  }
  PetscCall(
      PetscOptionsString("-expr_cache_dir",
                         "folder of the compiled formulas (default: $XDG_CACHE_HOME/infotherm, "
                         "else ~/.cache/infotherm)",
                         NULL, e->cache, e->cache, sizeof(e->cache), NULL));
  if (!e->cache[0]) PetscCall(ItExprDefaultCache(e->cache, sizeof(e->cache)));
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
  for (PetscInt i = 0; i < d; i++) /* about 10^6 to 3·10^6 cells from 4 variables on */
    PetscCall(
        ItModelSetDefaultBox(model, i, (PetscInt[]){64, 64, 48, 32, 16, 12}[d - 1], -5.0, 5.0));
  model->ops.evaluate           = ItModelEvaluate_Expr;
  model->ops.evaluate_soa       = ItModelEvaluateSoA_Expr;
  model->ops.work_create        = ItModelWorkCreate_Expr;
  model->ops.work_destroy       = ItModelWorkDestroy_Expr;
  model->ops.evaluate_work      = ItModelEvaluateWork_Expr;
  model->ops.evaluate_soa_work  = ItModelEvaluateSoAWork_Expr;
  model->bulk_size              = 8192;
  model->ops.validate           = ItModelValidate_Expr;
  model->ops.view               = ItModelView_Expr;
  model->ops.destroy            = ItModelDestroy_Expr;
  model->ops.uses_time          = ItModelUsesTime_Expr;
  model->ops.fingerprint        = ItModelFingerprint_Expr;
  model->ops.coefficient_option = ItModelCoefficientOption_Expr;
  PetscFunctionReturn(PETSC_SUCCESS);
}

const ItModelType ItModelType_Expr = {ItModelCreate_Expr, ItExprOptionNames};
