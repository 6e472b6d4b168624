/* Signal handling for batch systems (SIGUSR1, SIGTERM). */
#include <signal.h>
#include <infotherm/private/ioimpl.h>

/* SIGUSR1 and SIGTERM (what Slurm sends before a time limit and on
   pre-emption). For a command that checkpoints (run) they only count: the
   time loop polls the count after each step (and before the first),
   finishes the step, writes a checkpoint and exits. A second signal while the
   checkpoint is written changes nothing but the count. Any other command
   removes its lock and the temporary file in progress and dies of the
   signal. Installed right after PetscInitialize, before anything slow. */
static volatile sig_atomic_t ItSignalCount = 0;

static void ItIOSignalHandler(int sig) {
  (void)sig;
  ItSignalCount++;
}

static void ItIOSignalFatal(int sig) {
  ItIOAbandon();
  signal(sig, SIG_DFL);
  raise(sig);
}

/* No PETSc calls: main installs the handlers before PetscInitialize (which
   may take a while under MPI) and again after it (PETSc installs its own). */
PetscErrorCode ItIOSignalsInstall(PetscBool checkpoint) {
  struct sigaction action;

  memset(&action, 0, sizeof(action));
  action.sa_handler = checkpoint ? ItIOSignalHandler : ItIOSignalFatal;
  sigemptyset(&action.sa_mask);
  if (sigaction(SIGUSR1, &action, NULL) != 0 || sigaction(SIGTERM, &action, NULL) != 0)
    return PETSC_ERR_SYS;
  return PETSC_SUCCESS;
}

PetscInt ItIOSignalsReceived(void) {
  return (PetscInt)ItSignalCount;
}

/* Counts a signal that another rank received (a post rank's, forwarded). */
void ItIOSignalsForwarded(void) {
  ItSignalCount++;
}
