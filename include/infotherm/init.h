/* Init: the initial density of run, mc, crosscheck and the error estimates
   (src/init/init.c). -init gaussian (N(-init_mean, -init_cov) at the cell
   centres), stationary (solved with the parameters at t = 0) or file (a
   density snapshot, -init_file). */
#pragma once
#include <infotherm/grid.h>

typedef enum { IT_INIT_GAUSSIAN, IT_INIT_STATIONARY, IT_INIT_FILE } ItInitKind;
typedef struct _p_ItInit *ItInit;

PetscErrorCode ItInitCreate(ItGrid grid, ItModel model, ItInit *init);
PetscErrorCode ItInitSetFromOptions(ItInit init);
ItInitKind     ItInitGetKind(ItInit init);
PetscErrorCode ItInitDensity(ItInit init, ItGrid grid, Vec p);
PetscErrorCode ItInitDestroy(ItInit *init);

/* A density snapshot on grid, checked and normalised (option: the option
   that named the file, for messages). */
PetscErrorCode ItInitReadDensity(ItGrid grid, ItModel model, const char option[], const char file[],
                                 Vec p);
/* The initial Gaussian's mean and lower Cholesky factor from -init_mean,
   -init_cov (checked against the box), and its density at the cell centres. */
PetscErrorCode ItInitGaussianOptions(ItGrid grid, PetscReal mean[], PetscReal L[]);
PetscErrorCode ItInitGaussian(ItGrid grid, Vec p);

/* Option names read here (src/model/option_names.c). */
extern const ItOptionName ItInitOptionNames[]; /* src/init/init.c */
