/* Compiled expression formulas (src/model/expr_compile.c), for the expr model
   only: the formulas translated to C, compiled by the system's C compiler
   into a shared object cached by a hash of the generated source, and loaded
   with dlopen. */
#pragma once
#include <infotherm/private/modelimpl.h>

/* The kernels of a compiled formula set: drift and diffusion at n points,
   with the parameters p[] (in the model's table order) and the time t.
   Array-of-structures: x[k*dim + i]; structure-of-arrays: x[i*ld + k]. The
   inputs and outputs do not overlap. */
typedef void (*ItExprAoSFn)(long n, double t, const double *p, const double *x, double *A,
                            double *D);
typedef void (*ItExprSoAFn)(long n, long ld, double t, const double *p, const double *x,
                            double *A, double *D);

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
