/* Compiled expression formulas (doc/models.md "Compiled formulas"): the expr
   model's drift and diffusion formulas translated from muparser's syntax to
   C, compiled at run time by the system's C compiler into a shared object,
   and loaded with dlopen — the code-generation route of neural simulators
   such as Brian2. The translation follows muparser 2.3's grammar and
   arithmetic operation by operation (its precedence: ?: below || below &&
   below comparisons below + - below * / and the signs below ^, which is
   right-associative; its functions as muparser defines them: abs(-0) = -0,
   rint(v) = floor(v + 0.5), asinh(v) = log(v + sqrt(v*v + 1)), min/max as
   std::min/max folds, _pi = the library's own value; comparisons give 1 or
   0), so a formula computes the same IEEE operations in the same order. Two
   differences remain, both at round-off: muparser's bytecode optimizer
   rewrites a few patterns (x*c + d, x^2 as x*x), and && or || of two
   constants truncates them to int as muparser's constant folding does.
   Anything the translator does not know makes it give up, and the model
   keeps muparser. The parameters are an argument of the kernels, loaded
   into constants before the loop, and every subexpression of parameters and
   t alone is computed once per call (as muparser folds parameters); a
   schedule or -name override therefore needs no recompilation. The shared
   object is named by a hash of the generated source and the compiler's
   command line, in a cache folder (-expr_cache_dir); rank 0 compiles into a
   file of its own and publishes it by rename(2), which is atomic, so ranks
   and concurrent runs never see half a file; every rank loads it, and all
   fall back together if any cannot. */
#include <ctype.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <muParserDLL.h>
#include <infotherm/private/modelimpl.h>

extern char **environ;

/* Bump when the generated code's interface changes: a new name for every cached object. */
#define IT_EXPR_ABI "infotherm-expr-1"

/* A translated subexpression: its C text (malloc'd), whether it uses no
   variable (then it is the same at every point of a call), and whether
   muparser folds it to a constant (no variable, no t, no ?: and no
   function of a variable number of arguments). */
typedef struct {
  char     *c;
  PetscBool invariant, folded;
} ItExprNode;

typedef struct {
  ItModelConst model;
  const char  *s;
  size_t       i;
  char         reason[160];
  char        *hoisted; /* "const double H0 = ...;\n" lines */
  int          nhoisted;
  double       pi, e; /* muparser's _pi and _e */
} ItExprParser;

/* printf into a new malloc'd string (NULL if out of memory). */
static char *ItExprFormat(const char *fmt, ...) {
  va_list ap;
  int     n;
  char   *s;

  va_start(ap, fmt);
  n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0 || !(s = malloc((size_t)n + 1))) return NULL;
  va_start(ap, fmt);
  vsnprintf(s, (size_t)n + 1, fmt, ap);
  va_end(ap);
  return s;
}

/* Appends to a malloc'd string (frees and NULLs it if out of memory). */
static void ItExprAppend(char **s, const char *text) {
  size_t a = *s ? strlen(*s) : 0, b = strlen(text);
  char  *t = realloc(*s, a + b + 1);

  if (!t) {
    free(*s);
    *s = NULL;
    return;
  }
  memcpy(t + a, text, b + 1);
  *s = t;
}

static ItExprNode ItExprFail(ItExprParser *P, const char *what) {
  if (!P->reason[0]) snprintf(P->reason, sizeof(P->reason), "%s at position %zu", what, P->i);
  return (ItExprNode){NULL, PETSC_FALSE, PETSC_FALSE};
}

static void ItExprSkip(ItExprParser *P) {
  while (P->s[P->i] && isspace((unsigned char)P->s[P->i])) P->i++;
}

/* Consumes `op` if it comes next (and is not the start of a longer operator in `notbefore`). */
static PetscBool ItExprAccept(ItExprParser *P, const char *op, const char *notbefore) {
  size_t n = strlen(op);

  ItExprSkip(P);
  if (strncmp(P->s + P->i, op, n)) return PETSC_FALSE;
  if (notbefore && P->s[P->i + n] && strchr(notbefore, P->s[P->i + n])) return PETSC_FALSE;
  P->i += n;
  return PETSC_TRUE;
}

/* An invariant, non-trivial operand beside a varying one becomes a constant
   computed before the loop: a variable H<k>. */
static void ItExprHoist(ItExprParser *P, ItExprNode *a) {
  char *line, *name;

  if (!a->c || !a->invariant || !strchr(a->c, '(')) return; /* a leaf is already a name or number */
  name = ItExprFormat("H%d", P->nhoisted++);
  line = ItExprFormat("  const double %s = %s;\n", name, a->c);
  if (!name || !line) {
    free(name);
    free(line);
    free(a->c);
    a->c = NULL;
    return;
  }
  ItExprAppend(&P->hoisted, line);
  free(line);
  free(a->c);
  a->c = name;
}

/* Combines two operands with a C pattern holding two %s. */
static ItExprNode ItExprBinary(ItExprParser *P, ItExprNode a, ItExprNode b, const char *pattern) {
  ItExprNode r = {NULL, (PetscBool)(a.invariant && b.invariant), (PetscBool)(a.folded && b.folded)};

  if (a.c && b.c) {
    if (!r.invariant) {
      ItExprHoist(P, &a);
      ItExprHoist(P, &b);
    }
    if (a.c && b.c) r.c = ItExprFormat(pattern, a.c, b.c);
  }
  free(a.c);
  free(b.c);
  if (!r.c) return ItExprFail(P, "out of memory");
  return r;
}

static ItExprNode ItExprTernary(ItExprParser *P);
static ItExprNode ItExprUnary(ItExprParser *P);

/* The functions muparser 2.3 defines, with their C forms (IT_* helpers are in the preamble). */
static const struct {
  const char *name, *c;
  int         nargs; /* -1: one or more, folded left */
} ItExprFunctions[] = {
    {"sin", "sin", 1},        {"cos", "cos", 1},        {"tan", "tan", 1},
    {"asin", "asin", 1},      {"acos", "acos", 1},      {"atan", "atan", 1},
    {"atan2", "atan2", 2},    {"sinh", "sinh", 1},      {"cosh", "cosh", 1},
    {"tanh", "tanh", 1},      {"asinh", "IT_asinh", 1}, {"acosh", "IT_acosh", 1},
    {"atanh", "IT_atanh", 1}, {"log2", "IT_log2", 1},   {"log10", "log10", 1},
    {"log", "log", 1},        {"ln", "log", 1},         {"exp", "exp", 1},
    {"sqrt", "sqrt", 1},      {"sign", "IT_sign", 1},   {"rint", "IT_rint", 1},
    {"abs", "IT_abs", 1},     {"sum", "+", -1},         {"avg", "avg", -1},
    {"min", "IT_min", -1},    {"max", "IT_max", -1},
};

/* f(args...) after its name. */
static ItExprNode ItExprCall(ItExprParser *P, size_t fn) {
  ItExprNode args[64];
  int        n = 0;
  ItExprNode r = {NULL, PETSC_TRUE, PETSC_TRUE};
  char      *acc;

  if (!ItExprAccept(P, "(", NULL)) return ItExprFail(P, "a function without '('");
  do {
    if (n == 64) {
      for (int k = 0; k < n; k++) free(args[k].c);
      return ItExprFail(P, "more than 64 arguments");
    }
    args[n] = ItExprTernary(P);
    if (!args[n].c) {
      for (int k = 0; k < n; k++) free(args[k].c);
      return args[n];
    }
    r.invariant = (PetscBool)(r.invariant && args[n].invariant);
    r.folded    = (PetscBool)(r.folded && args[n].folded);
    n++;
  } while (ItExprAccept(P, ",", NULL));
  if (!ItExprAccept(P, ")", NULL) ||
      (ItExprFunctions[fn].nargs > 0 && n != ItExprFunctions[fn].nargs)) {
    for (int k = 0; k < n; k++) free(args[k].c);
    return ItExprFail(P, "a function call muparser would not take");
  }
  if (!r.invariant)
    for (int k = 0; k < n; k++) ItExprHoist(P, &args[k]);
  for (int k = 0; k < n; k++)
    if (!args[k].c) {
      for (int j = 0; j < n; j++) free(args[j].c);
      return ItExprFail(P, "out of memory");
    }
  if (ItExprFunctions[fn].nargs == 1)
    acc = ItExprFormat("%s(%s)", ItExprFunctions[fn].c, args[0].c);
  else if (ItExprFunctions[fn].nargs == 2)
    acc = ItExprFormat("%s(%s, %s)", ItExprFunctions[fn].c, args[0].c, args[1].c);
  else if (!strcmp(ItExprFunctions[fn].c, "+") || !strcmp(ItExprFunctions[fn].c, "avg")) {
    /* muparser: s = 0; s += a[i] in order (avg: s / n); variadic functions are never folded */
    acc = ItExprFormat("(0.0");
    for (int k = 0; k < n && acc; k++) {
      char *next = ItExprFormat("%s + (%s)", acc, args[k].c);
      free(acc);
      acc = next;
    }
    if (acc) {
      char *next = !strcmp(ItExprFunctions[fn].c, "avg") ? ItExprFormat("%s) / %d.0", acc, n)
                                                         : ItExprFormat("%s)", acc);
      free(acc);
      acc = next;
    }
    r.folded = PETSC_FALSE;
  } else { /* min/max: r = a[0]; r = std::min(r, a[i]) for every i, the first included */
    acc = ItExprFormat("(%s)", args[0].c);
    for (int k = 0; k < n && acc; k++) {
      char *next = ItExprFormat("%s(%s, %s)", ItExprFunctions[fn].c, acc, args[k].c);
      free(acc);
      acc = next;
    }
    r.folded = PETSC_FALSE;
  }
  for (int k = 0; k < n; k++) free(args[k].c);
  if (!acc) return ItExprFail(P, "out of memory");
  r.c = ItExprFormat("(%s)", acc);
  free(acc);
  return r.c ? r : ItExprFail(P, "out of memory");
}

/* A number as muparser reads it (a C++ stream's double: digits, '.', an
   exponent; no sign, which is an operator here), written back exactly as
   a hexadecimal double constant. */
static ItExprNode ItExprNumber(ItExprParser *P) {
  const char *start = P->s + P->i, *q = start;
  char       *end;
  double      value;

  while (isdigit((unsigned char)*q) || *q == '.') q++;
  if (*q == 'e' || *q == 'E') {
    const char *r = q + 1;
    if (*r == '+' || *r == '-') r++;
    if (isdigit((unsigned char)*r)) {
      while (isdigit((unsigned char)*r)) r++;
      q = r;
    }
  }
  value = strtod(start, &end);
  if (end != q || !isfinite(value))
    return ItExprFail(P, "a number the translator does not read as muparser does");
  P->i += (size_t)(q - start);
  return (ItExprNode){ItExprFormat("%a", value), PETSC_TRUE, PETSC_TRUE};
}

/* A name: a function call, a variable, t, a parameter, _pi or _e. */
static ItExprNode ItExprName(ItExprParser *P) {
  char   name[64];
  size_t n = 0;

  while ((isalnum((unsigned char)P->s[P->i]) || P->s[P->i] == '_') && n + 1 < sizeof(name))
    name[n++] = P->s[P->i++];
  name[n] = 0;
  ItExprSkip(P);
  if (P->s[P->i] == '(') {
    for (size_t f = 0; f < sizeof(ItExprFunctions) / sizeof(ItExprFunctions[0]); f++)
      if (!strcmp(name, ItExprFunctions[f].name)) return ItExprCall(P, f);
    return ItExprFail(P, "an unknown function");
  }
  for (PetscInt i = 0; i < P->model->dim; i++)
    if (!strcmp(name, P->model->var[i]))
      return (ItExprNode){ItExprFormat("X%d", (int)i), PETSC_FALSE, PETSC_FALSE};
  if (!strcmp(name, "t")) return (ItExprNode){ItExprFormat("t"), PETSC_TRUE, PETSC_FALSE};
  for (PetscInt j = 0; j < P->model->nparam; j++)
    if (!strcmp(name, P->model->param[j].name))
      return (ItExprNode){ItExprFormat("P%d", (int)j), PETSC_TRUE, PETSC_TRUE};
  if (!strcmp(name, "_pi")) return (ItExprNode){ItExprFormat("%a", P->pi), PETSC_TRUE, PETSC_TRUE};
  if (!strcmp(name, "_e")) return (ItExprNode){ItExprFormat("%a", P->e), PETSC_TRUE, PETSC_TRUE};
  return ItExprFail(P, "an unknown name");
}

static ItExprNode ItExprPrimary(ItExprParser *P) {
  ItExprSkip(P);
  if (ItExprAccept(P, "(", NULL)) {
    ItExprNode a = ItExprTernary(P);
    if (a.c && !ItExprAccept(P, ")", NULL)) {
      free(a.c);
      return ItExprFail(P, "a missing ')'");
    }
    return a;
  }
  if (isdigit((unsigned char)P->s[P->i]) || P->s[P->i] == '.') return ItExprNumber(P);
  if (isalpha((unsigned char)P->s[P->i]) || P->s[P->i] == '_') return ItExprName(P);
  return ItExprFail(P, "an unexpected character");
}

/* a ^ b, right-associative; the exponent may carry a sign (2^-x^2 = 2^(-(x^2))). */
static ItExprNode ItExprPower(ItExprParser *P) {
  ItExprNode a = ItExprPrimary(P);

  if (!a.c || !ItExprAccept(P, "^", NULL)) return a;
  return ItExprBinary(P, a, ItExprUnary(P), "pow(%s, %s)");
}

/* The signs: below ^ (-x^2 = -(x^2)), at the level of * and /. A sign of an
   invariant operand is folded by muparser. */
static ItExprNode ItExprUnary(ItExprParser *P) {
  if (ItExprAccept(P, "-", NULL)) {
    ItExprNode a = ItExprUnary(P), r;
    if (!a.c) return a;
    r = (ItExprNode){ItExprFormat("(-%s)", a.c), a.invariant, a.folded};
    free(a.c);
    return r.c ? r : ItExprFail(P, "out of memory");
  }
  if (ItExprAccept(P, "+", NULL)) return ItExprUnary(P);
  return ItExprPower(P);
}

static ItExprNode ItExprProduct(ItExprParser *P) {
  ItExprNode a = ItExprUnary(P);

  while (a.c) {
    if (ItExprAccept(P, "*", NULL))
      a = ItExprBinary(P, a, ItExprUnary(P), "(%s * %s)");
    else if (ItExprAccept(P, "/", NULL))
      a = ItExprBinary(P, a, ItExprUnary(P), "(%s / %s)");
    else
      break;
  }
  return a;
}

static ItExprNode ItExprSum(ItExprParser *P) {
  ItExprNode a = ItExprProduct(P);

  while (a.c) {
    if (ItExprAccept(P, "+", NULL))
      a = ItExprBinary(P, a, ItExprProduct(P), "(%s + %s)");
    else if (ItExprAccept(P, "-", NULL))
      a = ItExprBinary(P, a, ItExprProduct(P), "(%s - %s)");
    else
      break;
  }
  return a;
}

static ItExprNode ItExprComparison(ItExprParser *P) {
  static const char *const ops[] = {"<=", ">=", "!=", "==", "<", ">"};
  ItExprNode               a     = ItExprSum(P);

  while (a.c) {
    size_t k;
    for (k = 0; k < 6; k++)
      if (ItExprAccept(P, ops[k], k >= 4 ? "=" : NULL)) break;
    if (k == 6) break;
    char pattern[32];
    snprintf(pattern, sizeof(pattern), "((double)(%%s %s %%s))", ops[k]);
    a = ItExprBinary(P, a, ItExprSum(P), pattern);
  }
  return a;
}

/* && and ||: muparser's constant folding truncates two constants to int. */
static ItExprNode ItExprLogic(ItExprParser *P, const char *op, int level) {
  ItExprNode a = level ? ItExprLogic(P, "&&", 0) : ItExprComparison(P);

  while (a.c && ItExprAccept(P, op, NULL)) {
    ItExprNode b = level ? ItExprLogic(P, "&&", 0) : ItExprComparison(P);
    char       pattern[64];
    if (a.folded && b.folded)
      snprintf(pattern, sizeof(pattern), "((double)((int)%%s %s (int)%%s))", op);
    else
      snprintf(pattern, sizeof(pattern), "((double)(%%s %s %%s))", op);
    a = ItExprBinary(P, a, b, pattern);
  }
  return a;
}

/* c ? a : b, the lowest precedence; a condition is true when it is not 0 (NaN is true). */
static ItExprNode ItExprTernary(ItExprParser *P) {
  ItExprNode c = ItExprLogic(P, "||", 1), a, b, r;

  if (!c.c || !ItExprAccept(P, "?", NULL)) return c;
  a = ItExprTernary(P);
  if (!a.c || !ItExprAccept(P, ":", NULL)) {
    free(c.c);
    free(a.c);
    return ItExprFail(P, "a '?' without ':'");
  }
  b = ItExprTernary(P);
  if (!b.c) {
    free(c.c);
    free(a.c);
    return b;
  }
  r.invariant = (PetscBool)(c.invariant && a.invariant && b.invariant);
  r.folded    = PETSC_FALSE;
  if (!r.invariant) {
    ItExprHoist(P, &c);
    ItExprHoist(P, &a);
    ItExprHoist(P, &b);
  }
  r.c = c.c && a.c && b.c ? ItExprFormat("(%s != 0 ? %s : %s)", c.c, a.c, b.c) : NULL;
  free(c.c);
  free(a.c);
  free(b.c);
  return r.c ? r : ItExprFail(P, "out of memory");
}

/* muparser's value of one of its constants (_pi is 3.141592653589 in a GCC build). */
static double ItExprMuparserConstant(const char name[]) {
  muParserHandle_t parser = mupCreate(muBASETYPE_FLOAT);
  double           value;

  mupSetExpr(parser, name);
  value = mupEval(parser);
  if (mupError(parser)) value = NAN;
  mupRelease(parser);
  return value;
}

static const char ItExprPreamble[] =
    "#include <math.h>\n"
    "static inline double IT_abs(double v) { return (v >= 0) ? v : -v; }\n"
    "static inline double IT_sign(double v) { return (double)((v < 0) ? -1 : (v > 0) ? 1 : 0); }\n"
    "static inline double IT_rint(double v) { return floor(v + 0.5); }\n"
    "static inline double IT_log2(double v) { return log(v) / log(2.0); }\n"
    "static inline double IT_asinh(double v) { return log(v + sqrt(v * v + 1)); }\n"
    "static inline double IT_acosh(double v) { return log(v + sqrt(v * v - 1)); }\n"
    "static inline double IT_atanh(double v) { return (0.5 * log((1 + v) / (1 - v))); }\n"
    "static inline double IT_min(double a, double b) { return (b < a) ? b : a; }\n"
    "static inline double IT_max(double a, double b) { return (a < b) ? b : a; }\n";

/* The text of a C string literal holding s. */
static char *ItExprQuote(const char *s) {
  char *q = malloc(4 * strlen(s) + 3), *o = q;

  if (!q) return NULL;
  *o++ = '"';
  for (; *s; s++) {
    if (*s == '"' || *s == '\\') *o++ = '\\';
    if (isprint((unsigned char)*s))
      *o++ = *s;
    else
      o += sprintf(o, "\\%03o", (unsigned char)*s);
  }
  *o++ = '"';
  *o   = 0;
  return q;
}

/* One kernel: the loop over the points, `load` reading the variables, `index` placing the results.
 */
static char *ItExprKernel(ItModelConst model, const char *signature, const char *hoisted,
                          char *const body[], const char *load, const char *index) {
  const int d    = (int)model->dim;
  char     *text = ItExprFormat("%s {\n", signature);

  for (PetscInt j = 0; j < model->nparam && text; j++) {
    char *line = ItExprFormat("  const double P%d = p[%d];\n", (int)j, (int)j);
    if (line) ItExprAppend(&text, line);
    free(line);
  }
  if (text) ItExprAppend(&text, "  (void)p;\n  (void)t;\n");
  if (text) ItExprAppend(&text, hoisted ? hoisted : "");
  if (text) ItExprAppend(&text, "  for (long k = 0; k < n; k++) {\n");
  for (int i = 0; i < d && text; i++) {
    char *line = ItExprFormat(load, i, i, i);
    if (line) ItExprAppend(&text, line);
    free(line);
  }
  for (int f = 0; f < 2 * d && text; f++) {
    char *where = ItExprFormat(index, f % d, f % d), *line;
    line = where ? ItExprFormat("    %c[%s] = %s;\n", f < d ? 'A' : 'D', where, body[f]) : NULL;
    if (line) ItExprAppend(&text, line);
    free(where);
    free(line);
  }
  if (text) ItExprAppend(&text, "  }\n}\n");
  return text;
}

PetscErrorCode ItExprTranslate(ItModelConst model, const char *const formula[], char **source,
                               char **key, char reason[], size_t len) {
  const int    d                    = (int)model->dim;
  char        *body[2 * IT_MAX_DIM] = {NULL};
  char        *quoted = NULL, *aos = NULL, *soa = NULL, *loads = NULL;
  ItExprParser P = {.model = model};

  PetscFunctionBegin;
  *source = NULL;
  *key    = NULL;
  P.pi    = ItExprMuparserConstant("_pi");
  P.e     = ItExprMuparserConstant("_e");
  for (int f = 0; f < 2 * d; f++) {
    ItExprNode r;
    P.s = formula[f];
    P.i = 0;
    r   = ItExprTernary(&P);
    ItExprSkip(&P);
    if (r.c && P.s[P.i]) {
      free(r.c);
      r = ItExprFail(&P, "an unexpected character");
    }
    if (!r.c) {
      snprintf(reason, len, "\"%s\": %s", formula[f], P.reason);
      goto done;
    }
    ItExprHoist(&P, &r); /* a formula of no variable: once per call */
    body[f] = r.c;
    if (!body[f]) {
      snprintf(reason, len, "out of memory");
      goto done;
    }
  }
  /* the key: what the object computes, checked after it is loaded */
  *key = ItExprFormat("%s", IT_EXPR_ABI);
  for (int i = 0; i < d && *key; i++) {
    char *part = ItExprFormat("|var %s", model->var[i]);
    if (part) ItExprAppend(key, part);
    free(part);
  }
  for (PetscInt j = 0; j < model->nparam && *key; j++) {
    char *part = ItExprFormat("|param %s", model->param[j].name);
    if (part) ItExprAppend(key, part);
    free(part);
  }
  for (int f = 0; f < 2 * d && *key; f++) {
    char *part = ItExprFormat("|%s %s", f < d ? "drift" : "diffusion", formula[f]);
    if (part) ItExprAppend(key, part);
    free(part);
  }
  quoted = *key ? ItExprQuote(*key) : NULL;
  aos    = ItExprKernel(model,
                        "void it_expr_aos(long n, double t, const double *restrict p, const double "
                           "*restrict x, double *restrict A, double *restrict D)",
                        P.hoisted, body, "    const double X%d = x[k * DIM + %d];\n", "k * DIM + %d");
  soa    = ItExprKernel(model,
                        "void it_expr_soa(long n, long ld, double t, const double *restrict p, const "
                           "double *restrict x, double *restrict A, double *restrict D)",
                        P.hoisted, body, "    const double X%d = x[%d * ld + k];\n", "%d * ld + k");
  loads  = ItExprFormat("#define DIM %d\n", d);
  if (!quoted || !aos || !soa || !loads) {
    snprintf(reason, len, "out of memory");
    goto done;
  }
  *source = ItExprFormat("/* generated by infotherm from the formulas of -model expr */\n%s%s"
                         "const char it_expr_key[] = %s;\n%s%s",
                         ItExprPreamble, loads, quoted, aos, soa);
  if (!*source) snprintf(reason, len, "out of memory");
done:
  for (int f = 0; f < 2 * d; f++) free(body[f]);
  free(P.hoisted);
  if (!*source) {
    free(*key);
    *key = NULL;
  }
  free(quoted);
  free(aos);
  free(soa);
  free(loads);
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode ItExprDefaultCache(char cache[], size_t len) {
  const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");

  PetscFunctionBegin;
  if (xdg && xdg[0])
    snprintf(cache, len, "%s/infotherm", xdg);
  else if (home && home[0])
    snprintf(cache, len, "%s/.cache/infotherm", home);
  else
    snprintf(cache, len, "/tmp/infotherm-cache-%d", (int)getuid());
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* mkdir -p. Returns errno (0 when the folder exists). */
static int ItExprMakeFolder(const char path[]) {
  char copy[PETSC_MAX_PATH_LEN];

  snprintf(copy, sizeof(copy), "%s", path);
  for (char *c = copy + 1; *c; c++) {
    if (*c != '/') continue;
    *c = 0;
    if (mkdir(copy, 0777) && errno != EEXIST) return errno;
    *c = '/';
  }
  if (mkdir(copy, 0777) && errno != EEXIST) return errno;
  return 0;
}

/* 64-bit FNV-1a of a string, continued from h. */
static unsigned long long ItExprHash(unsigned long long h, const char *s) {
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
  return h;
}

static const char *const ItExprFlags[] = {"-O2", "-fPIC", "-shared", "-fno-math-errno",
                                          "-ffp-contract=off"};

/* Runs the compiler (no shell: the words of `cc`, then the flags) with its
   output in `log`. Returns 0 on success, else a reason in `why`. */
static int ItExprRunCompiler(const char cc[], const char src[], const char out[], const char log[],
                             char why[], size_t len) {
  char                       words[PETSC_MAX_PATH_LEN];
  char                      *argv[64];
  int                        argc = 0, status = 0, err;
  pid_t                      pid;
  posix_spawn_file_actions_t actions;

  snprintf(words, sizeof(words), "%s", cc);
  for (char *w = strtok(words, " \t"); w && argc < 48; w = strtok(NULL, " \t")) argv[argc++] = w;
  if (!argc) {
    snprintf(why, len, "no compiler named");
    return 1;
  }
  for (size_t k = 0; k < sizeof(ItExprFlags) / sizeof(ItExprFlags[0]); k++)
    argv[argc++] = (char *)ItExprFlags[k];
  argv[argc++] = "-o";
  argv[argc++] = (char *)out;
  argv[argc++] = (char *)src;
  argv[argc++] = "-lm";
  argv[argc]   = NULL;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log, O_WRONLY | O_CREAT | O_TRUNC,
                                   0666);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  err = posix_spawnp(&pid, argv[0], &actions, NULL, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (err) {
    snprintf(why, len, "cannot run '%s': %s", argv[0], strerror(err));
    return 1;
  }
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) {
      snprintf(why, len, "waiting for '%s': %s", argv[0], strerror(errno));
      return 1;
    }
  if (!WIFEXITED(status) || WEXITSTATUS(status)) {
    snprintf(why, len, "'%s' failed (exit %d; its output is in %s)", argv[0],
             WIFEXITED(status) ? WEXITSTATUS(status) : -1, log);
    return 1;
  }
  return 0;
}

/* Rank 0's part: the shared object at `path`, compiled unless it exists. Returns 0 on success. */
static int ItExprBuild(const char source[], const char cc[], const char cache[], const char path[],
                       const char stem[], char why[], size_t len) {
  char  src[PETSC_MAX_PATH_LEN + 32], tmp[PETSC_MAX_PATH_LEN + 32], log[PETSC_MAX_PATH_LEN + 32];
  FILE *f;
  int   err;

  if (access(path, R_OK) == 0) return 0;
  if ((err = ItExprMakeFolder(cache))) {
    snprintf(why, len, "cannot make the cache folder %s (-expr_cache_dir): %s", cache,
             strerror(err));
    return 1;
  }
  /* files of this process only, published by rename(2) */
  snprintf(src, sizeof(src), "%s.%d.c", stem, (int)getpid());
  snprintf(tmp, sizeof(tmp), "%s.%d.so", stem, (int)getpid());
  snprintf(log, sizeof(log), "%s.log", stem);
  if (!(f = fopen(src, "w")) || fputs(source, f) < 0 || fclose(f)) {
    snprintf(why, len, "cannot write %s (-expr_cache_dir): %s", src, strerror(errno));
    return 1;
  }
  err = ItExprRunCompiler(cc, src, tmp, log, why, len);
  if (!err && rename(tmp, path)) {
    snprintf(why, len, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
    err = 1;
  }
  if (err)
    unlink(tmp);
  else {
    char kept[PETSC_MAX_PATH_LEN + 32];
    snprintf(kept, sizeof(kept), "%s.c", stem); /* beside the object, for whoever reads it */
    if (rename(src, kept)) unlink(src);
    unlink(log);
  }
  if (err) unlink(src);
  return err;
}

/* Every rank's part: the object loaded, its kernels found, its key checked. Returns 0 on success.
 */
static int ItExprLoad(const char path[], const char key[], ItExprCompiled *c, char why[],
                      size_t len) {
  const char *stored;

  snprintf(c->path, sizeof(c->path), "%s", path);
  if (!(c->handle = dlopen(path, RTLD_NOW | RTLD_LOCAL))) {
    snprintf(why, len, "cannot load %s: %s", path, dlerror());
    return 1;
  }
  c->aos = (ItExprAoSFn)(uintptr_t)dlsym(c->handle, "it_expr_aos");
  c->soa = (ItExprSoAFn)(uintptr_t)dlsym(c->handle, "it_expr_soa");
  stored = (const char *)dlsym(c->handle, "it_expr_key");
  if (!c->aos || !c->soa || !stored || strcmp(stored, key)) {
    snprintf(why, len, "%s does not hold these formulas", path);
    dlclose(c->handle);
    c->handle = NULL;
    return 1;
  }
  return 0;
}

PetscErrorCode ItExprCompile(ItModelConst model, const char source[], const char key[],
                             const char cc[], const char cache[], ItExprCompiled *compiled,
                             char reason[], size_t len) {
  char               path[PETSC_MAX_PATH_LEN + 32], stem[PETSC_MAX_PATH_LEN];
  unsigned long long h = 14695981039346656037ULL;
  PetscMPIInt        rank, built = 0, loaded, all;

  PetscFunctionBegin;
  PetscCall(PetscMemzero(compiled, sizeof(*compiled)));
  reason[0] = 0;
  h         = ItExprHash(h, source);
  h         = ItExprHash(h, cc);
  for (size_t k = 0; k < sizeof(ItExprFlags) / sizeof(ItExprFlags[0]); k++)
    h = ItExprHash(h, ItExprFlags[k]);
  PetscCall(PetscSNPrintf(stem, sizeof(stem), "%s/expr-%016llx", cache, h));
  PetscCall(PetscSNPrintf(path, sizeof(path), "%s.so", stem));
  PetscCallMPI(MPI_Comm_rank(model->comm, &rank));
  if (rank == 0) built = ItExprBuild(source, cc, cache, path, stem, reason, len) ? 0 : 1;
  PetscCallMPI(MPI_Bcast(&built, 1, MPI_INT, 0, model->comm));
  loaded = built && !ItExprLoad(path, key, compiled, reason, len);
  PetscCallMPI(MPI_Allreduce(&loaded, &all, 1, MPI_INT, MPI_MIN, model->comm));
  if (!all) {
    if (built && !reason[0]) snprintf(reason, len, "another rank cannot load %s", path);
    PetscCall(ItExprCompiledRelease(compiled));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

PetscErrorCode ItExprCompiledRelease(ItExprCompiled *compiled) {
  PetscFunctionBegin;
  if (compiled->handle) dlclose(compiled->handle);
  compiled->handle = NULL;
  compiled->aos    = NULL;
  compiled->soa    = NULL;
  PetscFunctionReturn(PETSC_SUCCESS);
}
