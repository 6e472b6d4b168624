/* The commands of doc/design.md, as a table built from src/app/commands.def:
   each line IT_COMMAND(name) is the descriptor ItAppCommand_name that the
   command's file src/app/cmd_<name>.c defines (its -help line, set-up, run,
   -help, whether it takes files or reads -error_estimate, the names of the
   options only it reads), and meson.build compiles that file. A new command
   is a line of commands.def and its file; `infotherm -help` and `infotherm
   help -list` list it from here. With -help the set-up runs and the
   command's help lists the options of what it would create instead of
   running it. A command reads its options, validates everything before it
   writes anything, then composes model, grid, operator, solver, diagnostics
   and output; no command calls back into this dispatcher. */
#include <infotherm/private/appimpl.h>

#define IT_COMMAND(name) extern const ItAppCommand ItAppCommand_##name;
#include "commands.def"
#undef IT_COMMAND

static const ItAppCommand *const ItAppCommands[] = {
#define IT_COMMAND(name) &ItAppCommand_##name,
#include "commands.def"
#undef IT_COMMAND
};

#define IT_NCOMMAND (sizeof(ItAppCommands) / sizeof(ItAppCommands[0]))

/* The table's command named `command` (NULL: none). */
static const ItAppCommand *ItAppFindCommand(const char command[]) {
  for (size_t k = 0; k < IT_NCOMMAND; k++)
    if (!strcmp(ItAppCommands[k]->name, command)) return ItAppCommands[k];
  return NULL;
}

/* Registers the set-up's options and every command's (an options file serves
   every command, so each command's are known to all). Not collective. */
static PetscErrorCode ItAppRegisterCommandOptions(void) {
  PetscFunctionBegin;
  PetscCall(ItOptionsRegister("app", PETSC_FALSE, ItAppOptionNames));
  for (size_t k = 0; k < IT_NCOMMAND; k++)
    if (ItAppCommands[k]->options)
      PetscCall(ItOptionsRegister(ItAppCommands[k]->name, PETSC_FALSE, ItAppCommands[k]->options));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* "run, stationary, ... or spectrum": the commands, or (estimating) those
   that read -error_estimate, joined by `last` ("or", "and"). Not collective. */
static void ItAppCommandList(PetscBool estimating, const char last[], char list[], size_t len) {
  size_t n = 0, k = 0;

  list[0] = 0;
  for (size_t j = 0; j < IT_NCOMMAND; j++) n += !estimating || ItAppCommands[j]->error_estimate;
  for (size_t j = 0; j < IT_NCOMMAND; j++) {
    if (estimating && !ItAppCommands[j]->error_estimate) continue;
    if (k) snprintf(list + strlen(list), len - strlen(list), "%s", k + 1 < n ? ", " : last);
    snprintf(list + strlen(list), len - strlen(list), "%s", ItAppCommands[j]->name);
    k++;
  }
}

/* The usage text of `infotherm -help` (and PETSc's -help header): the
   commands' lines from the table, then what holds for all. Not collective;
   needs no PETSc. */
const char *ItAppUsage(void) {
  static char text[4096];
  size_t      n;

  if (text[0]) return text;
  n = (size_t)snprintf(text, sizeof(text), "%s",
                       "infotherm: Fokker–Planck densities, information and thermodynamics.\n"
                       "usage: infotherm COMMAND [-options_file FILE] [-option value ...]\n"
                       "commands:\n");
  for (size_t k = 0; k < IT_NCOMMAND && n < sizeof(text); k++)
    n += (size_t)snprintf(text + n, sizeof(text) - n, "  %-10s  %s\n", ItAppCommands[k]->name,
                          ItAppCommands[k]->summary);
  if (n < sizeof(text))
    snprintf(
        text + n, sizeof(text) - n, "%s",
        "infotherm COMMAND -help lists the command's options (and runs nothing); infotherm\n"
        "-version prints the version; infotherm help -list lists the commands, one a line.\n"
        "Every option is a PETSc option. Solver prefixes: the time stepper reads -ts_*, -ksp_*,\n"
        "-pc_*; the stationary solve (stationary, -init stationary, -kl_reference stationary)\n"
        "reads -stationary_ksp_*, -stationary_pc_*; the spectrum's eigensolver reads\n"
        "-spectrum_eps_*, -spectrum_st_* (its shift-and-invert solver -spectrum_st_ksp_*,\n"
        "-spectrum_st_pc_*). Documentation: README.md and doc/.\n");
  return text;
}

/* infotherm help -list: one line a command, "NAME<TAB>FLAGS<TAB>SUMMARY",
   FLAGS "files" (takes file arguments), "error_estimate" (reads it), joined
   by ',' ("-": none), for scripts (tools/options_doc.py, tests/test_help.py). */
void ItAppListCommands(FILE *out) {
  for (size_t k = 0; k < IT_NCOMMAND; k++) {
    const ItAppCommand *c = ItAppCommands[k];
    char                flags[64];

    snprintf(flags, sizeof(flags), "%s%s%s", c->files ? "files" : "",
             c->files && c->error_estimate ? "," : "", c->error_estimate ? "error_estimate" : "");
    fprintf(out, "%s\t%s\t%s\n", c->name, flags[0] ? flags : "-", c->summary);
  }
}

/* Whether a signal makes `command` write a checkpoint and stop (its
   descriptor's flag; PETSC_FALSE for an unknown command). Needs no PETSc. */
PetscBool ItAppCommandCheckpoints(const char command[]) {
  const ItAppCommand *cmd = ItAppFindCommand(command);
  return (PetscBool)(cmd && cmd->checkpoints);
}

/* Runs the command; interrupted: stopped early after writing a checkpoint
   (exit status 3). Collective. */
PetscErrorCode ItAppMain(const char command[], const char stem[], PetscInt nfile, char *files[],
                         PetscBool *interrupted) {
  const ItAppCommand *cmd = ItAppFindCommand(command);
  ItApp               app = {0};
  static char         list[512], estimating[512];

  PetscFunctionBegin;
  PetscCall(ItAppRegisterCommandOptions()); /* before any options check reads the registry */
  ItAppCommandList(PETSC_FALSE, " or ", list, sizeof(list));
  PetscCheck(cmd, PETSC_COMM_WORLD, PETSC_ERR_USER_INPUT,
             "the command '%s' is not available; use %s", command, list);
  PetscCheck(!nfile || cmd->files, PETSC_COMM_WORLD, PETSC_ERR_USER_INPUT,
             "'%s' takes no file arguments (got %s); options start with '-'", command, files[0]);
  ItAppCommandList(PETSC_TRUE, " and ", estimating, sizeof(estimating));
  app.command          = command;
  app.sizes_only       = cmd->sizes_only;
  app.layout           = cmd->layout;
  app.estimating       = cmd->error_estimate ? NULL : estimating;
  app.stationary_width = cmd->stationary_width;
  if (cmd->setup)
    PetscCall(cmd->setup(&app, nfile, files));
  else
    PetscCall(ItAppSetUp(&app, stem));
  if (ItAppHelpRequested()) { /* lists the options, solves and writes nothing */
    if (cmd->help) PetscCall(cmd->help(&app));
  } else
    PetscCall(cmd->run(&app, nfile, files));
  *interrupted = app.interrupted;
  PetscCall(ItAppTearDown(&app));
  PetscFunctionReturn(PETSC_SUCCESS);
}
