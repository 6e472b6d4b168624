/* Options that nothing reads stop the run before anything is written:
   a misspelt -t_finl, -grid_n=32 or --t_final would otherwise run
   with other values. Objects read their options at different times, so the
   check runs once the model and the grid have read theirs (ItAppSetUp) and
   accepts, besides every option used so far: the options of infotherm that a
   command reads later or another command reads (an options file serves run,
   stationary, mc and crosscheck alike), each declared by its module beside
   the options block that reads it and registered here (src/model/
   option_names.c), with the prefixes of the PETSc objects the modules create
   later (-ts_, -ksp_, -stationary_ksp_, ...), and PETSc's own options. The rest is refused with the
   closest known name (an edit distance with transpositions); -options_left no runs anyway (PETSc's
   own switch for the report of unused options). An option that only one
   model reads (-tuning, -linear_D, a model's parameter -inference_tau_r) counts as unknown
   under another model. */
#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <strings.h>
#include <infotherm/private/appimpl.h>
#include <infotherm/mc.h>
#include <infotherm/spectrum.h>

/* PETSc's and SLEPc's own options, not those of an object that a module
   creates (those are in the module's table, -ts_ in solve's): some read only
   at PetscFinalize. An entry that ends in '_' is a prefix. */
/* clang-format off */
static const ItOptionName ItAppPETScOptionNames[] = {
    {"log_view", IT_OPTION_LOCAL | IT_OPTION_STEERING},
    {"options_left", IT_OPTION_LOCAL | IT_OPTION_STEERING},
    {"help", IT_OPTION_SWITCH | IT_OPTION_LOCAL | IT_OPTION_STEERING},
    {"mat_", 0}, {"vec_", 0}, {"dm_", 0}, {"da_", 0}, {"all_", 0}, {"log", 0}, {"log_", 0},
    {"options_", 0}, {"malloc", 0}, {"malloc_", 0}, {"memory_", 0}, {"objects_", 0}, {"info", 0},
    {"info_", 0}, {"viewer_", 0}, {"version", 0}, {"on_error_", 0}, {"fp_trap", 0}, {"mpi_", 0},
    {"sf_", 0}, {"is_", 0}, {"draw_", 0}, {"saws_", 0}, {"python", 0}, {"citations", 0},
    {"no_signal_handler", 0}, {"debugger", 0}, {"start_in_debugger", 0}, {"stop_for_debugger", 0},
    {"display", 0}, {"skip_petscrc", 0}, {"use_gpu_aware_mpi", 0}, {"device_", 0}, {"nox", 0},
    {"nox_warning", 0}, {"check_pointer_intensity", 0}, {"petsc_", 0}, {"slepc_", 0}, {NULL, 0}};
/* clang-format on */

/* Registers the tables of the modules (each beside its options block) and
   PETSc's; the models register theirs in ItModelRegisterAll, the commands
   theirs and the set-up's (app.c's) from the command table (ItAppMain,
   before anything is read, so this file calls neither the dispatcher nor
   the set-up). A new module that reads
   options adds its table here. Not collective. */
static PetscErrorCode ItAppRegisterOptions(void) {
  static const struct {
    const char         *owner;
    const ItOptionName *names;
  } tables[] = {{"io", ItIOFolderOptionNames},       {"io", ItIOSnapshotOptionNames},
                {"solve", ItSolveOptionNames},       {"diag", ItDiagOptionNames},
                {"spectrum", ItSpectrumOptionNames}, {"init", ItInitOptionNames},
                {"estimate", ItEstimateOptionNames}, {"mc", ItMCOptionNames},
                {"mc", ItCrosscheckOptionNames},     {"app", ItAppPostOptionNames},
                {"app", ItAppMemoryOptionNames},     {"petsc", ItAppPETScOptionNames}};

  PetscFunctionBegin;
  PetscCall(ItModelRegisterAll());
  PetscCall(ItOptionsRegister("grid", PETSC_TRUE, ItGridOptionNames));
  PetscCall(ItOptionsRegister("grid", PETSC_TRUE, ItGridBoundaryOptionNames));
  for (size_t k = 0; k < sizeof(tables) / sizeof(tables[0]); k++)
    PetscCall(ItOptionsRegister(tables[k].owner, PETSC_FALSE, tables[k].names));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The registered entry that name matches among those read later or by
   another command, or PETSc's (setup: false), or among those read at set-up
   by the model or the grid (setup: true; unused at the check, it is one that
   this run does not read), and its owner. */
static const ItOptionName *ItAppFindOption(const char name[], PetscBool setup, const char **owner) {
  const ItOptionName *o;
  PetscBool           at_setup;

  for (PetscInt k = 0; (o = ItOptionsGet(k, owner, &at_setup)); k++)
    if (at_setup == setup && ItOptionsNameMatches(name, o->name)) return o;
  return NULL;
}

/* Whether entry o is one of infotherm's (PETSc's are neither suggested nor checked for values). */
static PetscBool ItAppOwnOption(PetscInt k, const ItOptionName **o) {
  const char *owner = NULL;

  *o = ItOptionsGet(k, &owner, NULL);
  return (PetscBool)(*o && strcmp(owner, "petsc"));
}

#define IT_COUNT(a) ((PetscInt)(sizeof(a) / sizeof((a)[0])))

/* Edit distance of a and b, ignoring case, with adjacent transpositions
   counted as one edit (optimal string alignment); names longer than 63
   characters are compared on their first 63. */
static PetscInt ItAppEditDistance(const char a[], const char b[]) {
  PetscInt d[64][64];
  PetscInt m = (PetscInt)PetscMin(strlen(a), 63), n = (PetscInt)PetscMin(strlen(b), 63);

  for (PetscInt i = 0; i <= m; i++) d[i][0] = i;
  for (PetscInt j = 0; j <= n; j++) d[0][j] = j;
  for (PetscInt i = 1; i <= m; i++)
    for (PetscInt j = 1; j <= n; j++) {
      const PetscInt cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
      d[i][j] = PetscMin(PetscMin(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && tolower((unsigned char)a[i - 1]) == tolower((unsigned char)b[j - 2]) &&
          tolower((unsigned char)a[i - 2]) == tolower((unsigned char)b[j - 1]))
        d[i][j] = PetscMin(d[i][j], d[i - 2][j - 2] + 1);
    }
  return d[m][n];
}

/* The closer of *best and candidate to name (distance *distance). */
static void ItAppCloser(const char name[], const char candidate[], const char **best,
                        PetscInt *distance) {
  const PetscInt e = ItAppEditDistance(name, candidate);

  if (e < *distance) {
    *distance = e;
    *best     = candidate;
  }
}

/* The known option closest to name: the table, the model's options and
   parameters, and the expression formulas of this model's variables. */
static PetscErrorCode ItAppClosestOption(ItApp *app, const char name[], char closest[], size_t len,
                                         PetscInt *distance) {
  const char *best = "";
  char        formula[2 * IT_MAX_DIM][64], param[IT_MAX_PARAMS][2 * IT_NAME_LEN + 2];

  PetscFunctionBegin;
  *distance = PETSC_MAX_INT;
  for (PetscInt k = 0; ItOptionsGet(k, NULL, NULL); k++) {
    const ItOptionName *o;
    if (ItAppOwnOption(k, &o) && o->name[strlen(o->name) - 1] != '_')
      ItAppCloser(name, o->name, &best, distance);
  }
  for (PetscInt k = 0; k < ItModelGetParameterCount(app->model); k++) { /* -inference_tau_r */
    const char *bare;
    PetscInt    e;
    PetscCall(ItModelGetParameterOption(app->model, k, param[k], sizeof(param[k])));
    PetscCall(ItModelGetParameterInfo(app->model, k, &bare, NULL, NULL));
    ItAppCloser(name, param[k] + 1, &best, distance);
    e = ItAppEditDistance(name, bare); /* a misspelt old name (-sigma_ww): the new one */
    if (e < *distance) {
      *distance = e;
      best      = param[k] + 1;
    }
  }
  for (PetscInt f = 0; f < 2 * ItGridGetInfo(app->grid)->dim;
       f++) { /* a model's formulas (-expr_drift_v) */
    const PetscInt d = ItGridGetInfo(app->grid)->dim;
    PetscCall(ItModelGetCoefficientOption(app->model, f % d, (PetscBool)(f >= d), formula[f],
                                          sizeof(formula[f])));
    if (formula[f][0]) ItAppCloser(name, formula[f] + 1, &best, distance);
  }
  PetscCall(PetscStrncpy(closest, best, len));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The registered model whose parameters' prefix (<model>_) name starts
   with, the longest (lif_inference_tau_m is lif_inference's); NULL if none. */
static const char *ItAppParameterModel(const char name[]) {
  const char *model = NULL;

  for (PetscInt k = 0; k < ItModelGetTypeCount(); k++) {
    const char  *type = ItModelGetTypeNameAt(k);
    const size_t len  = strlen(type);
    if (!strncasecmp(name, type, len) && name[len] == '_' && (!model || len > strlen(model)))
      model = type;
  }
  return model;
}

/* One sentence on an unknown option: a '=' or a second '-' in its name, an
   option or a parameter of another model, or the closest known option. */
static PetscErrorCode ItAppUnknownOption(ItApp *app, const char name[], char text[], size_t len) {
  char        clean[256], closest[64];
  const char *owner = NULL;
  const char *eq    = strchr(name, '=');
  PetscInt    distance;

  PetscFunctionBegin;
  snprintf(clean, sizeof(clean), "%.*s", (int)(eq ? eq - name : (ptrdiff_t)strlen(name)),
           name + (name[0] == '-'));
  PetscCall(ItAppClosestOption(app, clean, closest, sizeof(closest), &distance));
  if (eq)
    snprintf(text, len, "nothing reads -%s (write the value after a space: -%s %s)", name, clean,
             eq + 1);
  else if (name[0] == '-')
    snprintf(text, len, "nothing reads -%s (options start with one '-': -%s)", name, clean);
  else if (ItAppFindOption(name, PETSC_TRUE, &owner) && strcmp(owner, "grid"))
    snprintf(text, len,
             "nothing reads -%s under -model %s (infotherm info -model %s lists what it reads)",
             name, ItModelGetTypeName(app->model), ItModelGetTypeName(app->model));
  else if (ItAppParameterModel(name) &&
           strcmp(ItAppParameterModel(name), ItModelGetTypeName(app->model)))
    snprintf(text, len,
             "nothing reads -%s under -model %s (a parameter of model %s; infotherm info -model "
             "%s lists what it reads)",
             name, ItModelGetTypeName(app->model), ItAppParameterModel(name),
             ItModelGetTypeName(app->model));
  else if (distance <= PetscMax(2, (PetscInt)strlen(clean) / 3))
    snprintf(text, len, "nothing reads -%s (did you mean -%s?)", name, closest);
  else
    snprintf(text, len, "nothing reads -%s (the closest known option is -%s)", name, closest);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Stops the run at an option that nothing has read and nothing will read,
   unless -options_left no (or -help, which lists the options as they are
   read). Collective: every rank holds the same options. */
PetscErrorCode ItAppCheckOptions(ItApp *app) {
  PetscInt  n, unknown = 0;
  char    **names, **values, first[512] = "", others[256] = "";
  PetscBool help, left = PETSC_TRUE, set;

  PetscFunctionBegin;
  /* a parameter named like an option (-expr_param t_final=1, or cc: -expr_cc) would read that
     option's value, under its own name (deprecated) or its option's */
  for (PetscInt k = 0; k < ItModelGetParameterCount(app->model); k++) {
    const char *param;
    char        option[2 * IT_NAME_LEN + 2];
    PetscCall(ItModelGetParameterInfo(app->model, k, &param, NULL, NULL));
    PetscCall(ItModelGetParameterOption(app->model, k, option, sizeof(option)));
    PetscCheck(!ItOptionsFind(param, NULL, NULL) && strncasecmp(param, "grid_", 5) &&
                   !ItOptionsFind(option + 1, NULL, NULL),
               PETSC_COMM_WORLD, PETSC_ERR_USER_INPUT,
               "the parameter '%s' is named like an option of infotherm or PETSc (-%s or %s); "
               "choose another name",
               param, param, option);
  }
  PetscCall(PetscOptionsHasHelp(NULL, &help));
  PetscCall(PetscOptionsGetBool(NULL, NULL, "-options_left", &left, &set));
  if (help || (set && !left)) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscOptionsLeftGet(NULL, &n, &names, &values));
  for (PetscInt k = 0; k < n; k++) {
    if (ItAppFindOption(names[k], PETSC_FALSE, NULL))
      continue; /* read later, or by another command */
    if (!unknown++)
      PetscCall(ItAppUnknownOption(app, names[k], first, sizeof(first)));
    else
      PetscCall(PetscStrlcat(others, unknown > 2 ? ", -" : "; nor -", sizeof(others)));
    if (unknown > 1) PetscCall(PetscStrlcat(others, names[k], sizeof(others)));
  }
  PetscCall(PetscOptionsLeftRestore(NULL, &n, &names, &values));
  PetscCheck(!unknown, PETSC_COMM_WORLD, PETSC_ERR_USER_INPUT,
             "%s%s; -options_left no lets a run go on with options that nothing reads", first,
             others);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* analyze sets the options stored in a snapshot (ItIOSnapshotOptions); those
   another command's run stored are no mistake of this one, so they count as
   used: only what the command line gives is checked. Collective. */
PetscErrorCode ItAppSnapshotOptions(const char file[]) {
  PetscInt n, ngiven;
  char   **given, **names, **values;

  PetscFunctionBegin;
  PetscCall(ItAppRegisterOptions()); /* ItIOSnapshotOptions looks up which options to leave */
  PetscCall(PetscOptionsLeftGet(NULL, &n, &names, &values));
  ngiven = n; /* the restore zeroes n */
  PetscCall(PetscMalloc1(ngiven + 1, &given));
  for (PetscInt k = 0; k < ngiven; k++) PetscCall(PetscStrallocpy(names[k], &given[k]));
  PetscCall(PetscOptionsLeftRestore(NULL, &n, &names, &values));
  PetscCall(ItIOSnapshotOptions(PETSC_COMM_WORLD, file));
  PetscCall(PetscOptionsLeftGet(NULL, &n, &names, &values));
  for (PetscInt k = 0; k < n; k++) {
    PetscBool from_user = PETSC_FALSE, has;
    char      key[512];
    for (PetscInt j = 0; j < ngiven && !from_user; j++)
      PetscCall(PetscStrcasecmp(names[k], given[j], &from_user));
    PetscCall(PetscSNPrintf(key, sizeof(key), "-%s", names[k]));
    if (!from_user) PetscCall(PetscOptionsHasName(NULL, NULL, key, &has)); /* marks it used */
  }
  PetscCall(PetscOptionsLeftRestore(NULL, &n, &names, &values));
  for (PetscInt k = 0; k < ngiven; k++) PetscCall(PetscFree(given[k]));
  PetscCall(PetscFree(given));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A list value (comma-separated) with an empty entry (-grid_n 32, or
   -grid_distribute x1,,x2: PETSc reads 0, a zero-length string, or skips
   it), and an integer option's entries beyond the range of PetscInt. */
static PetscErrorCode ItAppCheckList(const char name[], PetscBool integer, const char value[]) {
  const size_t len = strlen(value);
  const char  *v   = value;

  PetscFunctionBegin;
  PetscCheck(value[0] != ',' && value[len - 1] != ',' && !strstr(value, ",,"), PETSC_COMM_WORLD,
             PETSC_ERR_USER_INPUT, "-%s %s has an empty entry in its comma-separated list", name,
             value);
  for (const char *e = value; e; e = strchr(e, ',') ? strchr(e, ',') + 1 : NULL) {
    char  *end;
    double x = strtod(e, &end);
    PetscCheck(!((*end == ',' || !*end) && end != e && x != 0 && fabs(x) < DBL_MIN),
               PETSC_COMM_WORLD, PETSC_ERR_USER_INPUT,
               "-%s %s: %.*s is subnormal (below %g in magnitude), too small to compute with", name,
               value, (int)(end - e), e, DBL_MIN);
  }
  if (!integer) PetscFunctionReturn(PETSC_SUCCESS);
  while (*v) {
    char     *end;
    long long n;
    const int tlen = (int)(strchr(v, ',') ? strchr(v, ',') - v : (ptrdiff_t)strlen(v));
    errno          = 0;
    n              = strtoll(v, &end, 10);
    /* decimal integers only: PETSc refuses 1.5, 1e3 or 0x10 without naming the option */
    PetscCheck(end != v && (*end == ',' || !*end) && errno != ERANGE && n <= PETSC_MAX_INT &&
                   n >= -PETSC_MAX_INT,
               PETSC_COMM_WORLD, PETSC_ERR_USER_INPUT,
               "-%s %s: '%.*s' is not an integer of at most %d in magnitude", name, value, tlen, v,
               PETSC_MAX_INT);
    v = strchr(v, ',');
    if (!v) break;
    v++;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Stops at option `name` (without '-') if it is given without a value: PETSc
   would read its default there, over an earlier value of the same option.
   An option nothing has read yet is looked up in PETSc's list of options
   left unused (names, values), so that the look-up does not mark it used. */
static PetscErrorCode ItAppCheckValue(const char name[], int flags, PetscInt nleft, char **names,
                                      char **values) {
  char        key[256];
  const char *value = NULL;
  PetscBool   set   = PETSC_FALSE, used;

  PetscFunctionBegin;
  if ((flags & IT_OPTION_SWITCH) || name[strlen(name) - 1] == '_')
    PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscSNPrintf(key, sizeof(key), "-%s", name));
  PetscCall(PetscOptionsUsed(NULL, name, &used));
  if (used) PetscCall(PetscOptionsFindPair(NULL, NULL, key, &value, &set));
  for (PetscInt k = 0; !used && k < nleft; k++)
    if (!strcasecmp(names[k], name)) {
      set   = PETSC_TRUE;
      value = values[k];
    }
  PetscCheck(!set || (value && value[0]), PETSC_COMM_WORLD, PETSC_ERR_USER_INPUT,
             "-%s is given without a value (its last occurrence, on the command line or in an "
             "options file); give it one or drop it",
             name);
  if (set) PetscCall(ItAppCheckList(name, (PetscBool) !!(flags & IT_OPTION_INTEGER), value));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Options of PETSc's grid (DMDA) that would change the grid behind infotherm's
   back: the grid is set by -grid_n, -grid_lo, -grid_hi and -grid_distribute. */
static const char *const ItAppGridOwned[] = {"da_grid_x",
                                             "da_grid_y",
                                             "da_grid_z",
                                             "da_refine",
                                             "da_refine_x",
                                             "da_refine_y",
                                             "da_refine_z",
                                             "da_refine_hierarchy_x",
                                             "da_refine_hierarchy_y",
                                             "da_refine_hierarchy_z",
                                             "da_stencil_width",
                                             "da_stencil_type",
                                             "da_bd_x",
                                             "da_bd_y",
                                             "da_bd_z",
                                             "da_overlap"};

/* Every option of infotherm given without a value, and PETSc's options that
   resize the grid, stop the command before anything is read or written.
   With model NULL (before the model and the grid read their options) only
   the grid's options and -model; with the model, all of infotherm's.
   Collective: every rank holds the same options. */
PetscErrorCode ItAppCheckValues(ItModel model) {
  PetscBool set;
  PetscInt  nleft;
  char    **names, **values;

  PetscFunctionBegin;
  PetscCall(ItAppRegisterOptions());
  PetscCall(PetscOptionsLeftGet(NULL, &nleft, &names, &values));
  /* before the model and the grid read their options: the grid's, -model and the integers
     (before PETSc's parser sees them) */
  for (PetscInt k = 0; ItOptionsGet(k, NULL, NULL); k++) {
    const char         *owner;
    const ItOptionName *o = ItOptionsGet(k, &owner, NULL);
    if (strcmp(owner, "petsc") && (model || !strcmp(owner, "grid") || !strcmp(o->name, "model") ||
                                   (o->flags & IT_OPTION_INTEGER)))
      PetscCall(ItAppCheckValue(o->name, o->flags, nleft, names, values));
  }
  for (PetscInt k = 0; model && k < ItModelGetParameterCount(model); k++) {
    char option[2 * IT_NAME_LEN + 2];
    PetscCall(ItModelGetParameterOption(model, k, option, sizeof(option)));
    PetscCall(ItAppCheckValue(option + 1, 0, nleft, names, values));
  }
  for (PetscInt k = 0; model && k < nleft; k++) {
    const PetscInt d = ItModelGetDimension(model);
    PetscInt       n = 1;
    if (!values[k] || (strcasecmp(names[k], "init_mean") && strcasecmp(names[k], "init_cov")))
      continue;
    for (const char *c = values[k]; *c; c++) n += *c == ',';
    PetscCheck(strcasecmp(names[k], "init_mean") || n == d, PETSC_COMM_WORLD, PETSC_ERR_USER_INPUT,
               "-init_mean needs %" PetscInt_FMT " values (one per variable); got %" PetscInt_FMT,
               d, n);
    PetscCheck(strcasecmp(names[k], "init_cov") || n == d || n == d * d, PETSC_COMM_WORLD,
               PETSC_ERR_USER_INPUT,
               "-init_cov needs %" PetscInt_FMT " values (row-major) or %" PetscInt_FMT
               " variances; got %" PetscInt_FMT,
               d * d, d, n);
  }
  PetscCall(PetscOptionsLeftRestore(NULL, &nleft, &names, &values));
  for (PetscInt k = 0; k < IT_COUNT(ItAppGridOwned); k++) {
    char key[64];
    PetscCall(PetscSNPrintf(key, sizeof(key), "-%s", ItAppGridOwned[k]));
    PetscCall(PetscOptionsHasName(NULL, NULL, key, &set));
    PetscCheck(!set, PETSC_COMM_WORLD, PETSC_ERR_USER_INPUT,
               "%s would resize PETSc's grid behind infotherm's back; set the grid with -grid_n, "
               "-grid_lo, -grid_hi (and -grid_distribute)",
               key);
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* -error_estimate where the command has no error estimate (analyze, mc,
   info) would be accepted and ignored: refused. estimating: the commands
   that have one ("run, stationary, crosscheck and spectrum", from the
   command table), NULL when this command is one of them. Collective. */
PetscErrorCode ItAppCheckCommandOptions(const char command[], const char estimating[]) {
  static const char *const off[]     = {"false", "no", "off", "0"};
  char                     value[32] = "";
  PetscBool                set;

  PetscFunctionBegin;
  /* a method (richardson, order) or a truth value: only false, no, off, 0 turn it off */
  PetscCall(PetscOptionsGetString(NULL, NULL, "-error_estimate", value, sizeof(value), &set));
  if (!set || !estimating) PetscFunctionReturn(PETSC_SUCCESS);
  for (size_t k = 0; k < IT_COUNT(off); k++)
    if (!strcasecmp(value, off[k])) PetscFunctionReturn(PETSC_SUCCESS);
  SETERRQ(PETSC_COMM_WORLD, PETSC_ERR_USER_INPUT,
          "-error_estimate applies to %s; '%s' has no error estimate: drop it", estimating,
          command);
}
