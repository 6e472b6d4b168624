/* Options checked against what PETSc's objects read: after the time stepper
   or the stationary solver has read its options, any option of its families
   (-ts_*, -ksp_*, -pc_*, -snes_*; -stationary_ksp_*, -stationary_pc_*) that
   PETSc left unused is a misspelling (-ts_rtoll, -ksp_rtl) that would
   otherwise run with the default, and stops the command with one line
   (PETSc's own list of options left unused; -options_left no lets the run go
   on, as for infotherm's options). Names that PETSc reads only when a solve
   ends or is viewed (-*_view*, -*_monitor*, -*_converged_reason) are left to
   PETSc. */
#include <strings.h>
#include <infotherm/io.h>

/* Whether PETSc reads option `name` only after a solve (viewers, monitors, reports). */
static PetscBool ItIOReadLate(const char name[]) {
  return (PetscBool)(strstr(name, "view") || strstr(name, "monitor") ||
                     strstr(name, "converged_reason") || strstr(name, "_log") ||
                     strstr(name, "mg_levels_") || strstr(name, "mg_coarse_"));
}

/* Stops at an option that starts with one of the n prefixes (without '-')
   and that PETSc has left unused; `what` names the object that has read its
   options. Collective on comm: every rank holds the same options. */
PetscErrorCode ItIOCheckUnusedOptions(MPI_Comm comm, const char *const prefixes[], PetscInt n,
                                      const char what[]) {
  PetscInt  nleft;
  char    **names, **values, bad[256] = "";
  PetscBool help, left = PETSC_TRUE, set;

  PetscFunctionBegin;
  PetscCall(PetscOptionsHasHelp(NULL, &help));
  PetscCall(PetscOptionsGetBool(NULL, NULL, "-options_left", &left, &set));
  if (help || (set && !left)) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscOptionsLeftGet(NULL, &nleft, &names, &values));
  for (PetscInt k = 0; k < nleft && !bad[0]; k++)
    for (PetscInt j = 0; j < n && !bad[0]; j++)
      if (!strncasecmp(names[k], prefixes[j], strlen(prefixes[j])) && !ItIOReadLate(names[k]))
        PetscCall(PetscStrncpy(bad, names[k], sizeof(bad)));
  PetscCall(PetscOptionsLeftRestore(NULL, &nleft, &names, &values));
  PetscCheck(!bad[0], comm, PETSC_ERR_USER_INPUT,
             "nothing reads -%s: %s has read its options and left it unused (a misspelling? "
             "-help lists what it reads); -options_left no lets a run go on with options that "
             "nothing reads",
             bad, what);
  PetscFunctionReturn(PETSC_SUCCESS);
}
