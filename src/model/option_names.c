/* The registry of option names: each module's table (declared next to the
   options block that reads them) and each model's, registered once, so that
   whoever checks or copies options looks them up here instead of keeping a
   list of its own. A fixed number of tables (the modules and the models),
   held by pointer: the tables are static data of their modules. */
#include <errno.h>
#include <strings.h>
#include <infotherm/model.h>

#define IT_MAX_OPTION_TABLES 64

typedef struct {
  const char         *owner;
  PetscBool           setup;
  const ItOptionName *names;
} ItOptionTable;

static ItOptionTable ItOptionTables[IT_MAX_OPTION_TABLES];
static PetscInt      ItOptionTableCount = 0;

PetscErrorCode ItOptionsRegister(const char owner[], PetscBool setup, const ItOptionName names[]) {
  PetscFunctionBegin;
  for (PetscInt k = 0; k < ItOptionTableCount; k++)
    if (ItOptionTables[k].names == names) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCheck(ItOptionTableCount < IT_MAX_OPTION_TABLES, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "more than %d option tables", IT_MAX_OPTION_TABLES);
  ItOptionTables[ItOptionTableCount].owner = owner;
  ItOptionTables[ItOptionTableCount].setup = setup;
  ItOptionTables[ItOptionTableCount].names = names;
  ItOptionTableCount++;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Whether name is entry, or starts with entry when entry ends in '_'
   (ignoring case, as PETSc does). */
PetscBool ItOptionsNameMatches(const char name[], const char entry[]) {
  const size_t len = strlen(entry);

  return (PetscBool)(entry[len - 1] == '_' ? !strncasecmp(name, entry, len)
                                           : !strcasecmp(name, entry));
}

const ItOptionName *ItOptionsGet(PetscInt k, const char **owner, PetscBool *setup) {
  for (PetscInt t = 0; t < ItOptionTableCount; t++)
    for (const ItOptionName *o = ItOptionTables[t].names; o->name; o++)
      if (k-- == 0) {
        if (owner) *owner = ItOptionTables[t].owner;
        if (setup) *setup = ItOptionTables[t].setup;
        return o;
      }
  return NULL;
}

const ItOptionName *ItOptionsFind(const char name[], const char **owner, PetscBool *setup) {
  const ItOptionName *o;

  for (PetscInt k = 0; (o = ItOptionsGet(k, owner, setup)); k++)
    if (ItOptionsNameMatches(name, o->name)) return o;
  return NULL;
}

/* Every comma-separated integer given to `option`, read as 64 bits, must fit
   in a PetscInt; what is not a plain integer is left to PETSc's own parser. */
PetscErrorCode ItOptionsCheckInt(MPI_Comm comm, const char option[]) {
  const char *given;
  PetscBool   set;

  PetscFunctionBegin;
  PetscCall(PetscOptionsFindPair(NULL, NULL, option, &given, &set));
  while (set && given && *given) {
    char     *end;
    long long value;
    errno = 0;
    value = strtoll(given, &end, 10);
    PetscCheck(
        end == given || (errno != ERANGE && value >= PETSC_MIN_INT && value <= PETSC_MAX_INT), comm,
        PETSC_ERR_USER_INPUT,
        "%s %.*s does not fit in PETSc's %d-bit integers (at most %" PetscInt_FMT ")", option,
        (int)strcspn(given, ","), given, (int)(8 * sizeof(PetscInt)), (PetscInt)PETSC_MAX_INT);
    given = strchr(given, ',');
    if (given) given++;
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}
