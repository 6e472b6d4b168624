/* Compiled expr formulas (src/model/expr_compile.c) against muparser: every
   formula set of the test suite's expression models (tests/test_*.py,
   input/expr.opts, tools/bench.sh), and one that uses every function,
   operator and constant muparser defines, evaluated at 2000 random points
   of the box, random times and two parameter sets (the base values, and
   each scaled by a random factor in [0.5, 1.5], as a schedule would), in
   both layouts. The compiled kernels must equal muparser's to 1e-14 of the
   formula's largest value over the points (norm-wise: muparser's bytecode
   optimizer rewrites x*c + d and x^2, which moves a value by an ulp, and
   relative to the value itself that is large only where the formula
   cancels to near 0); NaN where muparser gives NaN. Then the fallbacks:
   -expr_compile false, a compiler that does not exist and one that fails
   (`false`) each evaluate with muparser (bit for bit the same as muparser)
   and say why; a second model reuses the cached object. Single rank. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <infotherm/model.h>

#define NPT 2000

static PetscInt failures = 0;

static void Check(PetscBool ok, const char what[]) {
  if (!ok) failures++;
  PetscCallVoid(PetscPrintf(PETSC_COMM_WORLD, "%s %s\n", ok ? "ok  " : "FAIL", what));
}

/* The suite's formula sets (without spaces: PetscOptionsInsertString splits on them). */
static const char *const sets[] = {
    /* test_expr.py: brownian, inference, linear, bistable, hebbian; -tau override */
    "-vars v -expr_param tau=2,s=0.8,v0=0.7 -expr_drift_v (-(v-v0)/tau) -expr_diffusion_v s^2/tau "
    "-grid_lo -7 -grid_hi 7",
    "-vars v,r -expr_param tr=0.1,sr=0.2 -expr_drift_v (-v) -expr_diffusion_v 1 "
    "-expr_drift_r (-r+(1/(1+exp(-2*v))))/tr -expr_diffusion_r sr^2/tr -grid_lo -6,-1 -grid_hi 6,2",
    "-vars x1,x2 -expr_drift_x1 (-x1+0.3*x2+0.2) -expr_diffusion_x1 0.5 "
    "-expr_drift_x2 0.6*x1-0.8*x2-0.1 -expr_diffusion_x2 0.3",
    "-vars w -expr_param h=0.2 -expr_drift_w (-(w^3-w-h)) -expr_diffusion_w 0.25 -grid_lo -2.5 "
    "-grid_hi 2.5",
    "-vars v,r,w -expr_drift_v (-v) -expr_diffusion_v 1 -expr_drift_r (-r+w*(1/(1+exp(-2*v))))/0.1 "
    "-expr_diffusion_r 0.01/0.1 -expr_drift_w (0.2*(1/(1+exp(-2*v)))*r*r-(w-0.5))/10 "
    "-expr_diffusion_w 0.01/10 -grid_lo -6,-0.8,-0.2 -grid_hi 6,1.8,1.6",
    "-vars v -expr_param tau=1 -expr_drift_v (-v/tau) -expr_diffusion_v 1/tau",
    /* test_input.py: comparisons, log, a diffusion in t */
    "-vars v,r -expr_drift_v (-v+0.3*(v<=1)-0.1*(v>=2)+(v==0)+(v!=0)*0) -expr_diffusion_v 1 "
    "-expr_drift_r (-r/2) -expr_diffusion_r 1",
    "-vars v,r -expr_drift_v log(v) -expr_diffusion_v 1 -expr_drift_r (-r) -expr_diffusion_r r",
    "-vars v -expr_param tau=2,s=0.5 -expr_drift_v (-v+0.3)/tau -expr_diffusion_v s^2+0*v",
    "-vars v -expr_drift_v (-v) -expr_diffusion_v 1-t",
    /* test_multigrid.py */
    "-vars v,r -expr_param tau_r=0.2,rmax=1,beta=2 -expr_drift_v (-v) -expr_diffusion_v 1 "
    "-expr_drift_r (-r+rmax/(1+exp(-beta*v)))/tau_r -expr_diffusion_r 0.04/tau_r -grid_lo -6,-1 "
    "-grid_hi 6,2",
    /* test_population_plastic.py */
    "-vars v,r1,r2,w1,w2 -expr_param "
    "tau_v=0.8,sigma_v=1.1,v0=0.2,tau_r=0.15,sigma_r=0.25,tau_w=3.0,sigma_w=0.2,eps=0.4,thetaM=0.3,"
    "w0=0.6,rmax1=1.2,vpref1=-0.4,s1=0.9,r02=0.5,lambda2=0.2 -expr_drift_v (-(v-v0)/tau_v) "
    "-expr_diffusion_v sigma_v^2/tau_v -expr_drift_r1 "
    "(-r1+w1*(rmax1*exp(-0.5*((v-vpref1)/s1)^2)))/tau_r "
    "-expr_diffusion_r1 sigma_r^2/tau_r -expr_drift_r2 (-r2+w2*(r02+lambda2*v))/tau_r "
    "-expr_diffusion_r2 sigma_r^2/tau_r "
    "-expr_drift_w1 (eps*(rmax1*exp(-0.5*((v-vpref1)/s1)^2))*r1*(r1-thetaM)-(w1-w0))/tau_w "
    "-expr_diffusion_w1 sigma_w^2/tau_w*w1 "
    "-expr_drift_w2 (eps*(r02+lambda2*v)*r2*(r2-thetaM)-(w2-w0))/tau_w "
    "-expr_diffusion_w2 sigma_w^2/tau_w*w2 -grid_lo -6,-1.2,-1.2,-0.3,-0.3 -grid_hi "
    "6,2.2,2.2,1.4,1.4",
    /* test_protocol.py, test_time_dependence.py, test_output.py */
    "-vars x1,x2 -expr_param b1=0 -expr_drift_x1 (-x1+0.3*x2+b1) -expr_diffusion_x1 0.5 "
    "-expr_drift_x2 0.6*x1-0.8*x2 -expr_diffusion_x2 0.3",
    "-vars x -expr_drift_x (2*t-x) -expr_diffusion_x 0.5",
    "-vars x -expr_drift_x (-x) -expr_diffusion_x 0.2+0.3*t",
    "-vars x -expr_param a=0 -expr_drift_x (a-x) -expr_diffusion_x 0.5",
    "-vars x -expr_param k=1 -expr_drift_x (-k*x+0.5*t) -expr_diffusion_x 0.5+0*t",
    "-vars x,y -expr_drift_x (-x+0.5*t) -expr_diffusion_x 0.5 -expr_drift_y (x-2*y) "
    "-expr_diffusion_y 0.3+0.1*t",
    /* input/expr.opts and tools/bench.sh */
    "-vars v,r -expr_param tau_v=1,sigma_v=1,v0=0,tau_r=0.1,sigma_r=0.4,g=0.2 "
    "-expr_drift_v (-(v-v0)/tau_v) -expr_diffusion_v sigma_v^2/tau_v "
    "-expr_drift_r (-r+g*(v+v^3/3))/tau_r -expr_diffusion_r sigma_r^2/tau_r",
    "-vars v,r -expr_param tau_v=1,sigma_v=1,v0=0,tau_r=0.1,sigma_r=0.2,rmax=1,beta=2,theta=0 "
    "-expr_drift_v (-(v-v0)/tau_v) -expr_diffusion_v sigma_v^2/tau_v "
    "-expr_drift_r (-r+rmax/(1+exp(-beta*(v-theta))))/tau_r -expr_diffusion_r sigma_r^2/tau_r",
    /* every function, operator and constant of muparser 2.3 */
    "-vars x,y,z -expr_param a=0.7,b=2 -grid_lo -3 -grid_hi 3 "
    "-expr_drift_x sin(x)+cos(x)*tan(x/4)+asin(tanh(x))+acos(tanh(x)/2)+atan(x)+atan2(x,a)+sin(t) "
    "-expr_diffusion_x sinh(x)+cosh(x)+tanh(x)+asinh(x)+acosh(1+x^2)+atanh(tanh(x)*0.9) "
    "-expr_drift_y log2(1+x^2)+log10(2+y)+log(3+x)+ln(4+y)+exp(-x^2)+sqrt(1+y^2)+sign(x-y)+"
    "rint(x*3)+abs(y-x)+abs(-0*x)+sign(0*x) "
    "-expr_diffusion_y sum(x,y,a)+avg(x,y)+min(x,y,a)+max(x,y,b)+min(z)+_pi*x+_e^y+sum(1)+max(a,b) "
    "-expr_drift_z (x<y)+(x<=y)*2+(x>y)*3+(x>=y)*4+(x==y)+(x!=y)*5+(x>0&&y>0)+(x>0||y>0)*2+"
    "(x>0?y:z>0?z:t)+(a&&b)+(a||0)*3+(1?2:3+4)+(a<b?a:b)*x "
    "-expr_diffusion_z (-x^2+2^-x^2+2*-y+(-a)^2+a^-b-(x-a)/b*3+x^3+z^4+1e-3*x+.5*y+2.5e+1+x^-2+"
    "2--z+2^+2+x^0+y^1+(x^2)^0.5+x^a+(z<0?0:z^1.5)+t^2*x)",
};

/* Uniform points in the box of the options (a single value for every axis, or one per axis). */
static PetscErrorCode RandomPoints(ItModel model, PetscRandom rnd, PetscReal x[], PetscReal xs[]) {
  const PetscInt d = ItModelGetDimension(model);
  PetscReal      lo[IT_MAX_DIM], hi[IT_MAX_DIM];
  PetscInt       nlo = IT_MAX_DIM, nhi = IT_MAX_DIM;
  PetscBool      set;

  PetscFunctionBegin;
  for (PetscInt i = 0; i < d; i++) {
    PetscInt n;
    PetscCall(ItModelGetDefaultBox(model, i, &n, &lo[i], &hi[i]));
  }
  PetscCall(PetscOptionsGetRealArray(NULL, NULL, "-grid_lo", lo, &nlo, &set));
  if (set && nlo == 1)
    for (PetscInt i = 1; i < d; i++) lo[i] = lo[0];
  PetscCall(PetscOptionsGetRealArray(NULL, NULL, "-grid_hi", hi, &nhi, &set));
  if (set && nhi == 1)
    for (PetscInt i = 1; i < d; i++) hi[i] = hi[0];
  for (PetscInt k = 0; k < NPT; k++)
    for (PetscInt i = 0; i < d; i++) {
      PetscReal u;
      PetscCall(PetscRandomGetValueReal(rnd, &u));
      x[k * d + i] = xs[i * NPT + k] = lo[i] + (hi[i] - lo[i]) * u;
    }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* How the model evaluates its formulas (the "evaluated by" line of its view). */
static PetscErrorCode Evaluator(ItModel model, char text[], size_t len) {
  char        path[] = "/tmp/infotherm-expr-view-XXXXXX";
  int         fd     = mkstemp(path);
  PetscViewer viewer;
  FILE       *f;
  char        line[8192];

  PetscFunctionBegin;
  PetscCheck(fd >= 0, PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "mkstemp failed");
  close(fd);
  PetscCall(PetscViewerASCIIOpen(PETSC_COMM_SELF, path, &viewer));
  PetscCall(ItModelView(model, viewer));
  PetscCall(PetscViewerDestroy(&viewer));
  text[0] = 0;
  f       = fopen(path, "r");
  while (f && fgets(line, sizeof(line), f))
    if (strstr(line, "evaluated by:")) snprintf(text, len, "%s", strstr(line, ":") + 2);
  if (f) fclose(f);
  unlink(path);
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode MakeModel(const char set[], const char extra[], ItModel *model) {
  PetscFunctionBegin;
  PetscCall(PetscOptionsClear(NULL));
  PetscCall(PetscOptionsInsertString(NULL, "-model expr"));
  PetscCall(PetscOptionsInsertString(NULL, set));
  PetscCall(PetscOptionsInsertString(NULL, extra));
  PetscCall(ItModelCreate(PETSC_COMM_WORLD, model));
  PetscCall(ItModelSetFromOptions(*model));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Largest |a - b| over the largest |b|, per formula column; NaN must meet NaN. */
static PetscReal Difference(PetscInt d, const PetscReal a[], const PetscReal b[], PetscInt i,
                            PetscBool soa) {
  PetscReal diff = 0, scale = 0;

  for (PetscInt k = 0; k < NPT; k++) {
    const PetscReal u = soa ? a[i * NPT + k] : a[k * d + i],
                    v = soa ? b[i * NPT + k] : b[k * d + i];
    if (PetscIsNanReal(u) || PetscIsNanReal(v)) {
      if (PetscIsNanReal(u) != PetscIsNanReal(v)) return PETSC_INFINITY;
      continue;
    }
    if (PetscIsInfReal(u) || PetscIsInfReal(v)) {
      if (u != v) return PETSC_INFINITY;
      continue;
    }
    diff  = PetscMax(diff, PetscAbsReal(u - v));
    scale = PetscMax(scale, PetscAbsReal(v));
  }
  return scale > 0 ? diff / scale : diff;
}

/* Compiled (model c) against muparser (model m) on one set: both layouts, two parameter sets. */
static PetscErrorCode CompareSet(ItModel c, ItModel m, PetscRandom rnd, PetscReal *worst) {
  const PetscInt d = ItModelGetDimension(c), np = ItModelGetParameterCount(c);
  PetscReal     *x, *xs, *A[4], *D[4];
  PetscReal      p[IT_MAX_PARAMS];

  PetscFunctionBegin;
  PetscCall(PetscMalloc2(NPT * d, &x, NPT * d, &xs));
  for (PetscInt j = 0; j < 4; j++) PetscCall(PetscMalloc2(NPT * d, &A[j], NPT * d, &D[j]));
  *worst = 0;
  for (PetscInt trial = 0; trial < 2; trial++) {
    PetscReal t;
    PetscCall(RandomPoints(c, rnd, x, xs));
    PetscCall(PetscRandomGetValueReal(rnd, &t));
    t *= 3;
    PetscCall(ItModelGetParameters(c, t, p));
    for (PetscInt j = 0; trial && j < np; j++) {
      PetscReal u;
      PetscCall(PetscRandomGetValueReal(rnd, &u));
      p[j] *= 0.5 + u;
    }
    PetscCall(ItModelEvaluateWith(c, t, p, NPT, x, A[0], D[0]));
    PetscCall(ItModelEvaluateWith(m, t, p, NPT, x, A[1], D[1]));
    PetscCall(ItModelEvaluateSoA(c, t, p, NPT, NPT, xs, A[2], D[2]));
    PetscCall(ItModelEvaluateSoA(m, t, p, NPT, NPT, xs, A[3], D[3]));
    for (PetscInt i = 0; i < d; i++) {
      *worst = PetscMax(*worst, Difference(d, A[0], A[1], i, PETSC_FALSE));
      *worst = PetscMax(*worst, Difference(d, D[0], D[1], i, PETSC_FALSE));
      *worst = PetscMax(*worst, Difference(d, A[2], A[3], i, PETSC_TRUE));
      *worst = PetscMax(*worst, Difference(d, D[2], D[3], i, PETSC_TRUE));
    }
  }
  for (PetscInt j = 0; j < 4; j++) PetscCall(PetscFree2(A[j], D[j]));
  PetscCall(PetscFree2(x, xs));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Whether two models give bit for bit the same values at the same points. */
static PetscErrorCode Same(ItModel a, ItModel b, PetscRandom rnd, PetscBool *same) {
  const PetscInt d = ItModelGetDimension(a);
  PetscReal     *x, *xs, *A[2], *D[2];

  PetscFunctionBegin;
  PetscCall(PetscMalloc2(NPT * d, &x, NPT * d, &xs));
  for (PetscInt j = 0; j < 2; j++) PetscCall(PetscMalloc2(NPT * d, &A[j], NPT * d, &D[j]));
  PetscCall(RandomPoints(a, rnd, x, xs));
  PetscCall(ItModelEvaluate(a, 0.3, NPT, x, A[0], D[0]));
  PetscCall(ItModelEvaluate(b, 0.3, NPT, x, A[1], D[1]));
  *same = PETSC_TRUE;
  for (PetscInt k = 0; k < NPT * d; k++)
    if (A[0][k] != A[1][k] || D[0][k] != D[1][k]) *same = PETSC_FALSE;
  for (PetscInt j = 0; j < 2; j++) PetscCall(PetscFree2(A[j], D[j]));
  PetscCall(PetscFree2(x, xs));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static void RemoveFolder(const char path[]) {
  DIR           *dir = opendir(path);
  struct dirent *e;

  while (dir && (e = readdir(dir))) {
    char file[PETSC_MAX_PATH_LEN + 300];
    if (e->d_name[0] == '.') continue;
    snprintf(file, sizeof(file), "%.3800s/%.255s", path, e->d_name);
    unlink(file);
  }
  if (dir) closedir(dir);
  rmdir(path);
}

int main(int argc, char **argv) {
  char        cache[] = "/tmp/infotherm-expr-cache-XXXXXX", extra[PETSC_MAX_PATH_LEN + 64];
  char        evaluator[PETSC_MAX_PATH_LEN + 256], what[2 * PETSC_MAX_PATH_LEN + 1024];
  PetscRandom rnd;
  PetscReal   all = 0;

  PetscCall(PetscInitialize(&argc, &argv, NULL, NULL));
  PetscCheck(mkdtemp(cache), PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "mkdtemp failed");
  PetscCall(PetscRandomCreate(PETSC_COMM_SELF, &rnd));
  PetscCall(PetscRandomSetSeed(rnd, 20261206));
  PetscCall(PetscRandomSeed(rnd));
  for (size_t s = 0; s < sizeof(sets) / sizeof(sets[0]); s++) {
    ItModel   c, m;
    PetscReal worst = 0;
    snprintf(extra, sizeof(extra), "-expr_cache_dir %s", cache);
    PetscCall(MakeModel(sets[s], extra, &c));
    PetscCall(Evaluator(c, evaluator, sizeof(evaluator)));
    snprintf(what, sizeof(what), "set %zu is compiled: %s", s, evaluator);
    what[strcspn(what, "\n")] = 0;
    Check((PetscBool)!strncmp(evaluator, "compiled C", 10), what);
    PetscCall(MakeModel(sets[s], "-expr_compile false", &m));
    PetscCall(CompareSet(c, m, rnd, &worst));
    all = PetscMax(all, worst);
    snprintf(what, sizeof(what),
             "set %zu: compiled = muparser to %.2e of the largest value (<= 1e-14)", s,
             (double)worst);
    Check((PetscBool)(worst <= 1e-14), what);
    PetscCall(ItModelDestroy(&c));
    PetscCall(ItModelDestroy(&m));
  }
  PetscCall(
      PetscPrintf(PETSC_COMM_WORLD, "largest difference over every set: %.3e\n", (double)all));

  /* the fallbacks: each evaluates with muparser, bit for bit, and says why */
  {
    const char *const ways[] = {"-expr_compile false", "-expr_cc /nonexistent/cc", "-expr_cc false",
                                "-expr_cache_dir /proc/no/such/folder"};
    const char *const reason[] = {"-expr_compile false", "cannot run '/nonexistent/cc'",
                                  "'false' failed", "cannot make the cache folder"};
    ItModel           m;
    PetscCall(MakeModel(sets[1], "-expr_compile false", &m));
    for (size_t w = 0; w < sizeof(ways) / sizeof(ways[0]); w++) {
      ItModel   f;
      PetscBool same = PETSC_FALSE;
      char      fresh[PETSC_MAX_PATH_LEN + 128];
      /* a cache folder of its own, so that the compiler must run */
      snprintf(fresh, sizeof(fresh), "-expr_cache_dir %s/fresh%zu %s", cache, w, ways[w]);
      PetscCall(MakeModel(sets[1], fresh, &f));
      PetscCall(Evaluator(f, evaluator, sizeof(evaluator)));
      PetscCall(Same(f, m, rnd, &same));
      evaluator[strcspn(evaluator, "\n")] = 0;
      snprintf(what, sizeof(what), "%s: muparser evaluates, the same values (%s)", ways[w],
               evaluator);
      Check((PetscBool)(same && !strncmp(evaluator, "muparser", 8) && strstr(evaluator, reason[w])),
            what);
      PetscCall(ItModelDestroy(&f));
      snprintf(fresh, sizeof(fresh), "%s/fresh%zu", cache, w);
      RemoveFolder(fresh);
    }
    PetscCall(ItModelDestroy(&m));
  }

  /* a second model of the same formulas loads the cached object: the same file, not rewritten */
  {
    ItModel     c;
    struct stat before, after;
    char        path[PETSC_MAX_PATH_LEN + 256], again[PETSC_MAX_PATH_LEN + 256];
    snprintf(extra, sizeof(extra), "-expr_cache_dir %s", cache);
    PetscCall(MakeModel(sets[0], extra, &c));
    PetscCall(Evaluator(c, evaluator, sizeof(evaluator)));
    PetscCall(ItModelDestroy(&c));
    snprintf(path, sizeof(path), "%s", evaluator + strlen("compiled C ("));
    path[strcspn(path, ")")] = 0;
    PetscCheck(!stat(path, &before), PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "no %s", path);
    PetscCall(MakeModel(sets[0], extra, &c));
    PetscCall(Evaluator(c, again, sizeof(again)));
    PetscCall(ItModelDestroy(&c));
    PetscCheck(!stat(path, &after), PETSC_COMM_SELF, PETSC_ERR_FILE_OPEN, "no %s", path);
    Check((PetscBool)(!strcmp(evaluator, again) && before.st_ino == after.st_ino &&
                      before.st_mtim.tv_sec == after.st_mtim.tv_sec &&
                      before.st_mtim.tv_nsec == after.st_mtim.tv_nsec),
          "the same formulas again load the cached object (same file, not rewritten)");
  }
  RemoveFolder(cache);
  PetscCall(PetscRandomDestroy(&rnd));
  PetscCall(PetscPrintf(PETSC_COMM_WORLD, "%s: %" PetscInt_FMT " failure(s)\n",
                        failures ? "FAILED" : "passed", failures));
  PetscCall(PetscFinalize());
  return failures ? 1 : 0;
}
