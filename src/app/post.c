/* Dedicated post-processing ranks (-post_ranks K, `run` only; doc/design.md "The
   output pipeline"). The last K ranks of MPI_COMM_WORLD form the post group,
   the others the solver group; PETSC_COMM_WORLD is each rank's own group, so
   both groups set up the same model, grid and diagnostics on their own
   ranks (each grid decomposed over its own group). The solver ranks only
   step: every state the time stepper hands to its output or checkpoint
   function (t, dt, step, the row and snapshot flags, the density) is sent to
   the post ranks without waiting for them (MPI_Isend from a ring of
   IT_POST_QUEUE buffers: a solver rank waits only when the post ranks are
   that many states behind), and the post ranks replay the same calls of
   app's output and checkpoint functions on their copy: every diagnostic
   (the per-step rates of the _cum integrals included), diagnostics.csv,
   snapshots, checkpoints and summary.json. The density moves in natural
   order: each solver rank sends each post rank the overlap of their ranges
   of natural indices (no index lists). */
#include <stdlib.h>
#include <time.h>
#include <infotherm/private/appimpl.h>

#define IT_POST_QUEUE 8     /* states a solver rank may have in flight */
#define IT_POST_TAG 7401    /* the states' messages on MPI_COMM_WORLD */
#define IT_POST_HEADER 6    /* kind, t, dt, step, row (END: interrupted), snapshot */
#define IT_POST_IDLE 100000 /* nanoseconds a post rank sleeps between polls for the next state */
#define IT_POST_SIGNAL_TAG 7402 /* a post rank's signal, forwarded to every solver rank */
#define IT_POST_ACK_TAG 7403    /* a post rank has let go of the folder after the solver failed */

enum { IT_POST_OUTPUT, IT_POST_CHECKPOINT, IT_POST_END, IT_POST_FAILED };

static struct {
  PetscBool   split; /* -post_ranks K > 0 */
  PetscBool   post;  /* this rank is a post rank */
  PetscMPIInt K, nsolver, world_rank, world_size;
  MPI_Comm    group;
} ItPost;

/* -post_ranks K from the command line, before PETSc starts (it decides
   PETSC_COMM_WORLD): on a bad value, error gets one line and nothing is
   split. Starts MPI itself only when the option is there. Returns non-zero
   only when MPI fails. */
int ItPostSplit(int argc, char **argv, const char command[], char error[], size_t len) {
  const char *value = NULL;
  char       *end;
  long        K;

  for (int k = 1; k < argc; k++)
    if (!strcmp(argv[k], "-post_ranks")) value = k + 1 < argc ? argv[k + 1] : "";
  if (!value) return 0;
  if (MPI_Init(&argc, &argv) != MPI_SUCCESS) return 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &ItPost.world_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ItPost.world_size);
  K = strtol(value, &end, 10);
  if (!value[0] || *end || K < 0 || K >= ItPost.world_size) {
    snprintf(error, len,
             "-post_ranks must be an integer from 0 to %d (the ranks less one for the solver); "
             "got '%s'",
             ItPost.world_size - 1, value);
    return 0;
  }
  if (K > 0 && strcmp(command, "run")) {
    snprintf(error, len, "-post_ranks applies to run only; drop it for %s", command);
    return 0;
  }
  ItPost.K       = (PetscMPIInt)K;
  ItPost.nsolver = ItPost.world_size - ItPost.K;
  if (!K) return 0;
  ItPost.split = PETSC_TRUE;
  ItPost.post  = (PetscBool)(ItPost.world_rank >= ItPost.nsolver);
  if (MPI_Comm_split(MPI_COMM_WORLD, ItPost.post, ItPost.world_rank, &ItPost.group) != MPI_SUCCESS)
    return 1;
  PETSC_COMM_WORLD = ItPost.group;
  return 0;
}

/* After PetscFinalize: MPI too, when ItPostSplit started it. An error on one
   group would leave the other waiting for its states: it ends the job. */
void ItPostFinalize(int status) {
  int started = 0;

  if (!ItPost.world_size) return;
  if (status && ItPost.split) MPI_Abort(MPI_COMM_WORLD, status);
  MPI_Initialized(&started);
  if (started) MPI_Finalize();
}

/* Whether this rank only steps (a solver rank with post ranks beside it). */
PetscBool ItPostSolverOnly(void) {
  return (PetscBool)(ItPost.split && !ItPost.post);
}

/* The solver's side: a ring of send buffers, each with one request per post rank. */
typedef struct {
  ItApp             *app;
  ItSolveInterruptFn interrupt; /* app's, called with app */
  Vec                natural;
  PetscInt
      *range; /* the natural indices of every world rank in its group's grid: [2 r], [2 r + 1] */
  PetscInt    nlocal;
  PetscReal  *buffer[IT_POST_QUEUE];
  MPI_Request request[IT_POST_QUEUE][64];
  PetscInt    next;
} ItPostLink;

/* Every world rank's range of natural indices (its group's natural vector). Collective on the
 * world. */
static PetscErrorCode ItPostRanges(ItApp *app, Vec *natural, PetscInt **range) {
  PetscInt mine[2];

  PetscFunctionBegin;
  PetscCall(DMDACreateNaturalVector(ItGridGetInfo(app->grid)->da, natural));
  PetscCall(VecGetOwnershipRange(*natural, &mine[0], &mine[1]));
  PetscCall(PetscMalloc1(2 * ItPost.world_size, range));
  PetscCallMPI(MPI_Allgather(mine, 2, MPIU_INT, *range, 2, MPIU_INT, MPI_COMM_WORLD));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The overlap [*a, *b) of world ranks r's and s's ranges. */
static void ItPostOverlap(const PetscInt range[], PetscMPIInt r, PetscMPIInt s, PetscInt *a,
                          PetscInt *b) {
  *a = PetscMax(range[2 * r], range[2 * s]);
  *b = PetscMax(*a, PetscMin(range[2 * r + 1], range[2 * s + 1]));
}

/* Sends one state to every post rank, waiting only for the send that used
   this ring slot IT_POST_QUEUE states ago. */
static PetscErrorCode ItPostSend(ItPostLink *link, const PetscReal header[], Vec p) {
  const PetscInt     slot = link->next++ % IT_POST_QUEUE;
  PetscReal         *buf  = link->buffer[slot];
  const PetscScalar *a;
  PetscInt           off = 0;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Waitall(ItPost.K, link->request[slot], MPI_STATUSES_IGNORE));
  PetscCall(DMDAGlobalToNaturalBegin(ItGridGetInfo(link->app->grid)->da, p, INSERT_VALUES,
                                     link->natural));
  PetscCall(
      DMDAGlobalToNaturalEnd(ItGridGetInfo(link->app->grid)->da, p, INSERT_VALUES, link->natural));
  PetscCall(VecGetArrayRead(link->natural, &a));
  for (PetscMPIInt q = 0; q < ItPost.K; q++) {
    const PetscInt start = link->range[2 * ItPost.world_rank];
    PetscInt       i0, i1;
    PetscMPIInt    count;
    ItPostOverlap(link->range, ItPost.world_rank, ItPost.nsolver + q, &i0, &i1);
    PetscCall(PetscArraycpy(&buf[off], header, IT_POST_HEADER));
    for (PetscInt i = i0; i < i1; i++)
      buf[off + IT_POST_HEADER + i - i0] = PetscRealPart(a[i - start]);
    PetscCall(PetscMPIIntCast(IT_POST_HEADER + i1 - i0, &count));
    PetscCallMPI(MPI_Isend(&buf[off], count, MPIU_REAL, ItPost.nsolver + q, IT_POST_TAG,
                           MPI_COMM_WORLD, &link->request[slot][q]));
    off += count;
  }
  PetscCall(VecRestoreArrayRead(link->natural, &a));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ItPostOutputSend(void *ctx, PetscReal t, PetscInt step, Vec p, PetscBool row,
                                       PetscBool snapshot) {
  const PetscReal header[IT_POST_HEADER] = {IT_POST_OUTPUT, t, 0, (PetscReal)step, row, snapshot};

  PetscFunctionBegin;
  PetscCall(ItPostSend((ItPostLink *)ctx, header, p));
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ItPostCheckpointSend(void *ctx, PetscReal t, PetscInt step, PetscReal dt,
                                           Vec p) {
  ItPostLink     *link                   = (ItPostLink *)ctx;
  const PetscReal header[IT_POST_HEADER] = {IT_POST_CHECKPOINT, t, dt, (PetscReal)step, 0, 0};

  PetscFunctionBegin;
  PetscCall(ItPostSend(link, header, p));
  PetscCall(PetscTime(&link->app->last_checkpoint));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A signal that reached a post rank alone (kill -USR1 of its pid) would be
   lost: the post rank tells every solver rank once, and the solver ranks
   count it as their own at their next poll (ItPostSignalReceive). The
   message is one int, sent eagerly. */
static PetscErrorCode ItPostSignalForward(void) {
  static PetscBool forwarded = PETSC_FALSE;
  int              one       = 1;

  PetscFunctionBegin;
  if (forwarded || ItIOSignalsReceived() == 0) PetscFunctionReturn(PETSC_SUCCESS);
  forwarded = PETSC_TRUE;
  for (PetscMPIInt s = 0; s < ItPost.nsolver; s++) {
    MPI_Request request;
    PetscCallMPI(MPI_Isend(&one, 1, MPI_INT, s, IT_POST_SIGNAL_TAG, MPI_COMM_WORLD, &request));
    PetscCallMPI(MPI_Request_free(&request));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A solver rank: a post rank's forwarded signal counts as received here. */
static PetscErrorCode ItPostSignalReceive(void) {
  int arrived = 0, one;

  PetscFunctionBegin;
  PetscCallMPI(
      MPI_Iprobe(MPI_ANY_SOURCE, IT_POST_SIGNAL_TAG, MPI_COMM_WORLD, &arrived, MPI_STATUS_IGNORE));
  if (!arrived) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCallMPI(MPI_Recv(&one, 1, MPI_INT, MPI_ANY_SOURCE, IT_POST_SIGNAL_TAG, MPI_COMM_WORLD,
                        MPI_STATUS_IGNORE));
  ItIOSignalsForwarded();
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The signal and wall-clock poll of app, with app as its context. */
static PetscErrorCode ItPostInterrupt(void *ctx, PetscBool *stop, PetscBool *checkpoint) {
  ItPostLink *link = (ItPostLink *)ctx;

  PetscFunctionBegin;
  PetscCall(ItPostSignalReceive());
  PetscCall(link->interrupt(link->app, stop, checkpoint));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The solver group failed (a time step that stops the run, after its
   checkpoint): the post ranks hold the folder's lock, and the job ends with
   MPI_Abort (ItPostFinalize), so each is told, lets go of the folder and
   answers before this rank returns the error (ItPostReplay). Collective on
   the solver group. */
static PetscErrorCode ItPostFailed(ItPostLink *link, PetscErrorCode ierr) {
  const PetscReal header[IT_POST_HEADER] = {IT_POST_FAILED, 0, 0, 0, 0, 0};

  PetscFunctionBegin;
  PetscCall(ItPostSend(link, header, link->app->p));
  for (PetscInt s = 0; s < IT_POST_QUEUE; s++)
    PetscCallMPI(MPI_Waitall(ItPost.K, link->request[s], MPI_STATUSES_IGNORE));
  for (PetscMPIInt q = 0; q < ItPost.K; q++) {
    int one;
    PetscCallMPI(MPI_Recv(&one, 1, MPI_INT, ItPost.nsolver + q, IT_POST_ACK_TAG, MPI_COMM_WORLD,
                          MPI_STATUS_IGNORE));
  }
  PetscCall(ierr);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The solver group: steps, hands every state on, then the end (where it
   stopped, whether interrupted, the last density). */
static PetscErrorCode ItPostSolve(ItPostLink *link) {
  ItApp          *app = link->app;
  ItSolveSettings settings;
  PetscReal       header[IT_POST_HEADER] = {IT_POST_END, 0, 0, 0, 0, 0};
  PetscLogDouble  start, end;

  PetscFunctionBegin;
  for (PetscInt s = 0; s < IT_POST_QUEUE; s++) {
    PetscCall(PetscMalloc1(link->nlocal + IT_POST_HEADER * ItPost.K, &link->buffer[s]));
    for (PetscMPIInt q = 0; q < ItPost.K; q++) link->request[s][q] = MPI_REQUEST_NULL;
  }
  settings            = app->settings;
  settings.checkpoint = ItPostCheckpointSend;
  link->interrupt     = app->settings.interrupt;
  settings.interrupt  = link->interrupt ? ItPostInterrupt : NULL;
  PetscCall(PetscTime(&start));
  {
    const PetscErrorCode ierr = ItSolveTransient(app->grid, app->model, &settings, app->p,
                                                 ItPostOutputSend, link, &app->result);
    if (ierr) PetscCall(ItPostFailed(link, ierr));
  }
  PetscCall(PetscTime(&end));
  header[1] = app->result.t_end;
  header[2] = end - start; /* the solver group's time */
  header[3] = (PetscReal)app->result.steps;
  header[4] = app->result.interrupted;
  PetscCall(ItPostSend(link, header, app->p));
  for (PetscInt s = 0; s < IT_POST_QUEUE; s++) {
    PetscCallMPI(MPI_Waitall(ItPost.K, link->request[s], MPI_STATUSES_IGNORE));
    PetscCall(PetscFree(link->buffer[s]));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The post group: receives each state from every solver rank into p (natural
   order, then the post grid's own ordering) and replays the call. */
static PetscErrorCode ItPostReplay(ItPostLink *link, ItSolveOutputFn output,
                                   ItSolveCheckpointFn checkpoint) {
  ItApp     *app = link->app;
  PetscReal *buf, header[IT_POST_HEADER];
  PetscBool  done = PETSC_FALSE;

  PetscFunctionBegin;
  PetscCall(PetscMalloc1(link->nlocal + IT_POST_HEADER, &buf));
  while (!done) {
    PetscScalar *a;
    int          arrived = 0;
    /* wait for the next state without spinning: the solver ranks may share these cores */
    while (!arrived) {
      PetscCall(ItPostSignalForward());
      PetscCallMPI(MPI_Iprobe(0, IT_POST_TAG, MPI_COMM_WORLD, &arrived, MPI_STATUS_IGNORE));
      if (!arrived) nanosleep(&(struct timespec){0, IT_POST_IDLE}, NULL);
    }
    PetscCall(VecGetArray(link->natural, &a));
    for (PetscMPIInt s = 0; s < ItPost.nsolver; s++) {
      const PetscInt start = link->range[2 * ItPost.world_rank];
      PetscInt       i0, i1;
      PetscMPIInt    count;
      ItPostOverlap(link->range, s, ItPost.world_rank, &i0, &i1);
      PetscCall(PetscMPIIntCast(IT_POST_HEADER + i1 - i0, &count));
      PetscCallMPI(
          MPI_Recv(buf, count, MPIU_REAL, s, IT_POST_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
      for (PetscInt i = i0; i < i1; i++) a[i - start] = buf[IT_POST_HEADER + i - i0];
      if (s == 0) PetscCall(PetscArraycpy(header, buf, IT_POST_HEADER));
    }
    PetscCall(VecRestoreArray(link->natural, &a));
    PetscCall(DMDANaturalToGlobalBegin(ItGridGetInfo(app->grid)->da, link->natural, INSERT_VALUES,
                                       app->p));
    PetscCall(
        DMDANaturalToGlobalEnd(ItGridGetInfo(app->grid)->da, link->natural, INSERT_VALUES, app->p));
    switch ((int)header[0]) {
    case IT_POST_OUTPUT:
      PetscCall(output(app, header[1], (PetscInt)header[3], app->p, (PetscBool)(header[4] != 0),
                       (PetscBool)(header[5] != 0)));
      break;
    case IT_POST_CHECKPOINT:
      PetscCall(checkpoint(app, header[1], (PetscInt)header[3], header[2], app->p));
      break;
    case IT_POST_FAILED: { /* let go of the folder, answer, and wait for the solver's MPI_Abort
                              (which follows its one line on stderr) */
      int one = 1, never;
      ItIOAbandon();
      for (PetscMPIInt s = 0; s < ItPost.nsolver; s++)
        PetscCallMPI(MPI_Send(&one, 1, MPI_INT, s, IT_POST_ACK_TAG, MPI_COMM_WORLD));
      PetscCallMPI(
          MPI_Recv(&never, 1, MPI_INT, 0, IT_POST_ACK_TAG + 1, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
      break;
    }
    default:
      app->result.t_end       = header[1];
      app->result.steps       = (PetscInt)header[3];
      app->result.interrupted = (PetscBool)(header[4] != 0);
      done                    = PETSC_TRUE;
    }
  }
  PetscCall(PetscPrintf(PETSC_COMM_WORLD,
                        "post: %d solver rank(s) took %" PetscInt_FMT
                        " steps in %.3g s (%.3g steps/s) while %d post rank(s) computed the "
                        "diagnostics and wrote the outputs\n",
                        ItPost.nsolver, app->result.steps, (double)header[2],
                        (double)(header[2] > 0 ? app->result.steps / header[2] : 0), ItPost.K));
  PetscCall(PetscFree(buf));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The option names of the post-processing ranks' options (src/model/option_names.c). */
const ItOptionName ItAppPostOptionNames[] = {{"post_ranks", IT_OPTION_INTEGER}, {NULL, 0}};

/* -post_ranks (read before PETSc starts; here for -help, and to refuse it in an options file). */
PetscErrorCode ItPostOptions(void) {
  PetscInt  K = ItPost.K;
  PetscBool set;

  PetscFunctionBegin;
  PetscOptionsBegin(PETSC_COMM_WORLD, NULL, "Post-processing ranks", "ItApp");
  PetscCall(PetscOptionsInt("-post_ranks",
                            "ranks (the last K) that compute the diagnostics and write the outputs "
                            "while the others step (run only; on the command line)",
                            NULL, K, &K, &set));
  PetscOptionsEnd();
  PetscCheck(!set || K == ItPost.K, PETSC_COMM_WORLD, PETSC_ERR_USER_INPUT,
             "-post_ranks %" PetscInt_FMT
             " in an options file: give -post_ranks on the command line (it splits the ranks "
             "before the options are read)",
             K);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The transient of `run`: ItSolveTransient with output and checkpoint on these
   ranks (-post_ranks 0), or split between the solver and the post group.
   Collective on MPI_COMM_WORLD. */
PetscErrorCode ItPostTransient(ItApp *app, ItSolveOutputFn output, ItSolveCheckpointFn checkpoint) {
  ItPostLink link = {.app = app};

  PetscFunctionBegin;
  PetscCall(ItPostOptions());
  if (!ItPost.split) {
    PetscCall(
        ItSolveTransient(app->grid, app->model, &app->settings, app->p, output, app, &app->result));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCheck(ItPost.K <= 64, PETSC_COMM_WORLD, PETSC_ERR_USER_INPUT,
             "-post_ranks %d: at most 64 post ranks", ItPost.K);
  for (PetscInt a = 0; a < ItGridGetInfo(app->grid)->dim;
       a++) /* the compartment lives with the solver */
    PetscCheck(ItGridGetInfo(app->grid)->refractory[a] == 0, PETSC_COMM_WORLD, PETSC_ERR_USER_INPUT,
               "-post_ranks with a refractory time (%g): the refractory compartment's history "
               "stays on the solver ranks; drop -post_ranks",
               (double)ItGridGetInfo(app->grid)->refractory[a]);
  PetscCall(ItPostRanges(app, &link.natural, &link.range));
  PetscCall(VecGetLocalSize(link.natural, &link.nlocal));
  if (ItPost.post)
    PetscCall(ItPostReplay(&link, output, checkpoint));
  else
    PetscCall(ItPostSolve(&link));
  PetscCall(PetscFree(link.range));
  PetscCall(VecDestroy(&link.natural));
  PetscFunctionReturn(PETSC_SUCCESS);
}
