/* Dedicated post-processing ranks (-post_ranks K, for run and crosscheck;
   doc/design.md "The output pipeline", doc/performance.md "Post-processing
   ranks"). The last K ranks of MPI_COMM_WORLD form the post group, the
   others the solver group; PETSC_COMM_WORLD is each rank's own group, so
   both groups set up the same model, grid and diagnostics on their own
   ranks (each grid a DMDA decomposed over its own group: the diagnostics run
   unchanged on the post group, with their reductions among its ranks). The
   solver ranks only step: every state the time stepper hands to its output
   or checkpoint function (t, dt, step, the row and snapshot flags, the
   density) goes to the post ranks, which replay the same calls of the
   command's output and checkpoint functions on their copy.

   The density moves by one PetscSF over MPI_COMM_WORLD, prepared once, from
   the solver ranks' global vectors (roots) to the post ranks' (leaves): each
   post rank receives its block of the grid straight from the solver ranks
   that own its parts, no natural-order copy, no whole grid on one rank. A
   solver rank copies its block into a ring of IT_POST_QUEUE buffers, begins
   the broadcast and steps on; it ends a broadcast only when it reuses the
   buffer (it waits only when the post ranks are that many states behind).
   A post rank begins the next state's broadcast into a receive buffer as
   soon as it has the last one, so the transfer overlaps its diagnostics. The
   header (kind, t, dt, step, flags) goes from solver rank 0 to every post
   rank as a small message, with a refractory time followed by the
   re-injection field (two or more variables) or a checkpoint's history,
   all sent without waiting and completed with the state's ring slot. After
   the end the solver ranks' memory ledger, summed, goes to the post ranks
   for summary.json (ItPostAddSolverMemory). */
#include <stdlib.h>
#include <time.h>
#include <petscsf.h>
#include <infotherm/private/appimpl.h>

#define IT_POST_QUEUE 4     /* states a solver rank may have in flight */
#define IT_POST_TAG 7401    /* the headers' messages on MPI_COMM_WORLD */
#define IT_POST_HEADER 9    /* kind, t, dt, step, row (END: interrupted), snapshot; END: costs */
#define IT_POST_IDLE 100000 /* nanoseconds a post rank sleeps between polls for the next state */
#define IT_POST_SIGNAL_TAG 7402  /* a post rank's signal, forwarded to every solver rank */
#define IT_POST_ACK_TAG 7403     /* a post rank has let go of the folder after the solver failed */
#define IT_POST_HISTORY_TAG 7406 /* a checkpoint's refractory history, to every post rank */
#define IT_POST_FIELD_TAG 7407   /* a state's refractory re-injection field (2+ variables) */
#define IT_POST_MEMORY_TAG 7408  /* the solver ranks' memory, summed, after the end */

enum { IT_POST_OUTPUT, IT_POST_CHECKPOINT, IT_POST_END, IT_POST_FAILED };

static struct {
  PetscBool   split; /* -post_ranks K > 0 */
  PetscBool   post;  /* this rank is a post rank */
  PetscBool   apart; /* the groups have left their common set-up (ItPostTransient) */
  PetscMPIInt K, nsolver, world_rank, world_size;
  MPI_Comm    group;
  /* on the post ranks, from the end: the solver ranks' memory ledger and peak resident memory,
     summed over them (ItMemoryGetLocal's layout), for summary.json */
  PetscReal solver_memory[IT_MEMORY_PARTS + 1];
  PetscBool solver_memory_set;
} ItPost;

static PetscLogEvent IT_POST_SEND = 0, IT_POST_WAIT = 0, IT_POST_RECEIVE = 0;

/* This process's CPU seconds (all threads): what a rank spent, whatever the machine's load. */
static PetscLogDouble ItPostCPU(void) {
  struct timespec ts;

  if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts)) return 0;
  return (PetscLogDouble)ts.tv_sec + 1e-9 * (PetscLogDouble)ts.tv_nsec;
}

/* The value of -post_ranks as PETSc will read it: the command line and the
   options files it names, in order, the last one winning (NULL: not given);
   *file: whether that value came from an options file. */
static const char *ItPostValue(int argc, char **argv, char buffer[], size_t len, int *file) {
  const char *value = NULL;

  *file = 0;
  for (int k = 1; k < argc; k++)
    if (!strcmp(argv[k], "-post_ranks")) {
      value = k + 1 < argc ? argv[k + 1] : "";
      *file = 0;
    } else if (!strcmp(argv[k], "-options_file") && k + 1 < argc &&
               ItIOOptionsFileValue(argv[k + 1], "-post_ranks", buffer, len)) {
      value = buffer;
      *file = 1;
    }
  return value;
}

/* -post_ranks K from the command line or an options file, before PETSc
   starts (it decides PETSC_COMM_WORLD): on a bad value, error gets one line
   and nothing is split. An options file serves every command: there, for a
   command other than run and crosscheck, it splits nothing. Starts MPI
   itself only when the option is there. Returns non-zero only when MPI
   fails. */
int ItPostSplit(int argc, char **argv, const char command[], char error[], size_t len) {
  char        buffer[64];
  int         file;
  const char *value   = ItPostValue(argc, argv, buffer, sizeof(buffer), &file);
  const int   applies = !strcmp(command, "run") || !strcmp(command, "crosscheck");
  char       *end;
  long        K;

  if (!value || (file && !applies)) return 0;
  if (MPI_Init(&argc, &argv) != MPI_SUCCESS) return 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &ItPost.world_rank);
  MPI_Comm_size(MPI_COMM_WORLD, &ItPost.world_size);
  K = strtol(value, &end, 10);
  if (error[0]) return 0; /* a fault found before (a bad options file) is reported first */
  if (!value[0] || *end || K < 0 || K >= ItPost.world_size) {
    snprintf(error, len,
             "-post_ranks must be an integer from 0 to %d (the ranks less one for the solver); "
             "got '%s'%s",
             ItPost.world_size - 1, value, file ? " in an options file" : "");
    return 0;
  }
  if (K > 0 && !applies) {
    snprintf(error, len, "-post_ranks applies to run and crosscheck only; drop it for %s", command);
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

/* Whether this rank keeps stderr quiet: a post rank while both groups run
   the same set-up on the same options (the solver group's rank 0 says the
   same line, error or warning, once). Not collective. */
int ItPostQuiet(void) {
  return ItPost.split && ItPost.post && !ItPost.apart;
}

/* PetscVFPrintf on every rank: what goes to stderr is dropped while
   ItPostQuiet (PETSc's warnings and infotherm's, printed by each group's
   rank 0), the rest goes to the printer PETSc had. */
static PetscErrorCode (*ItPostVFPrintfNext)(FILE *, const char[], va_list);
static PetscErrorCode ItPostVFPrintf(FILE *fd, const char format[], va_list ap) {
  if (fd == PETSC_STDERR && ItPostQuiet()) return PETSC_SUCCESS;
  return ItPostVFPrintfNext(fd, format, ap);
}

/* After PetscInitialize: routes PETSc's printing through ItPostVFPrintf when
   the ranks are split. Not collective. */
void ItPostInstallPrint(void) {
  if (!ItPost.split || PetscVFPrintf == ItPostVFPrintf) return;
  ItPostVFPrintfNext = PetscVFPrintf;
  PetscVFPrintf      = ItPostVFPrintf;
}

/* Whether this rank only steps (a solver rank with post ranks beside it). */
PetscBool ItPostSolverOnly(void) {
  return (PetscBool)(ItPost.split && !ItPost.post);
}

/* Whether this rank only post-processes (a post rank: it never steps). */
PetscBool ItPostPostOnly(void) {
  return (PetscBool)(ItPost.split && ItPost.post);
}

/* Both sides of the link between the groups. */
typedef struct {
  ItApp              *app;
  void               *ctx;       /* the output's and the checkpoint's context */
  ItSolveInterruptFn  interrupt; /* the command's, called with ctx */
  ItSolveCheckpointFn checkpoint;
  /* roots: the solver ranks' owned cells; leaves: the post ranks'; one copy per ring slot (a
     PetscSF's broadcasts in flight must not share it: each of its links has its own tag) */
  PetscSF  sf[IT_POST_QUEUE];
  PetscInt nlocal; /* owned cells of this rank's grid */
  /* the solver side: a ring of root buffers, the broadcasts in flight, rank 0's headers */
  PetscScalar *ring[IT_POST_QUEUE];
  PetscBool    busy[IT_POST_QUEUE];
  PetscReal    header[IT_POST_QUEUE][IT_POST_HEADER];
  MPI_Request *request; /* [slot * K + q]: rank 0's header to post rank q */
  /* rank 0, a refractory time in two or more variables: each slot's re-injection field (nfield
     reals, NULL until the first) and its sends, [slot * K + q] */
  PetscReal   *field[IT_POST_QUEUE];
  PetscInt     nfield;
  MPI_Request *field_request;
  /* rank 0, a checkpoint with a refractory time: the slot's history (ItRefractoryGetState's,
     freed with the slot; nhistory reals, in the memory ledger's io_buffers) and its sends,
     [slot * K + q] */
  PetscReal   *history[IT_POST_QUEUE];
  PetscInt     nhistory[IT_POST_QUEUE];
  MPI_Request *history_request;
  PetscInt     next;
  /* what moved, and how long this rank waited for it */
  PetscInt       states;
  PetscLogDouble blocked;
  /* the post side: the receive buffer of the next state, whether its broadcast is posted */
  PetscScalar *receive;
  PetscBool    posted;
} ItPostLink;

/* The solver group's DMDA layout (sizes, the process grid and its ownership
   ranges along each axis), from solver rank 0 to every world rank:
   layout = {M, N, P, dof, m, n, p, lx[m], ly[n], lz[p]}. Collective on the world. */
static PetscErrorCode ItPostLayout(DM da, PetscInt **layout) {
  PetscInt        dim, M, N, P, m, n, p, dof, size;
  const PetscInt *l[3];

  PetscFunctionBegin;
  PetscCall(DMDAGetInfo(da, &dim, &M, &N, &P, &m, &n, &p, &dof, NULL, NULL, NULL, NULL, NULL));
  PetscCall(DMDAGetOwnershipRanges(da, &l[0], &l[1], &l[2]));
  size = 7 + m + n + p;
  PetscCallMPI(MPI_Bcast(&size, 1, MPIU_INT, 0, MPI_COMM_WORLD));
  PetscCall(PetscMalloc1(size, layout));
  if (ItPost.world_rank == 0) {
    const PetscInt head[7] = {M, N, P, dof, m, n, p}, np[3] = {m, n, p};
    PetscInt       off = 7;
    PetscCall(PetscArraycpy(*layout, head, 7));
    for (PetscInt a = 0; a < 3; a++)
      for (PetscInt k = 0; k < np[a]; k++) (*layout)[off++] = l[a] ? l[a][k] : 1;
  }
  PetscCallMPI(MPI_Bcast(*layout, (PetscMPIInt)size, MPIU_INT, 0, MPI_COMM_WORLD));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* For one axis of the solver's layout (np processes owning l[] points each,
   n points): each point's process and its offset in that process's range. */
static PetscErrorCode ItPostAxisOwners(PetscInt n, PetscInt np, const PetscInt l[], PetscInt **who,
                                       PetscInt **offset) {
  PetscFunctionBegin;
  PetscCall(PetscMalloc2(n, who, n, offset));
  for (PetscInt r = 0, i = 0; r < np; r++)
    for (PetscInt k = 0; k < l[r] && i < n; k++, i++) (*who)[i] = r, (*offset)[i] = k;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* On a post rank: for each owned cell of its grid, in its global vector's
   order, the solver rank that owns it and the cell's place in that rank's
   global vector (the DMDA's ordering: each rank's block, x fastest, the
   dof innermost). */
static PetscErrorCode ItPostRemotes(DM da, const PetscInt layout[], PetscInt nlocal,
                                    PetscSFNode **remote) {
  const PetscInt  M = layout[0], N = layout[1], P = layout[2], dof = layout[3];
  const PetscInt  m = layout[4], n = layout[5], p = layout[6];
  const PetscInt *lx = &layout[7], *ly = lx + m, *lz = ly + n;
  PetscInt       *wx, *ox, *wy, *oy, *wz, *oz, xs, ys, zs, xm, ym, zm, c = 0;

  PetscFunctionBegin;
  PetscCall(ItPostAxisOwners(M, m, lx, &wx, &ox));
  PetscCall(ItPostAxisOwners(N, n, ly, &wy, &oy));
  PetscCall(ItPostAxisOwners(P, p, lz, &wz, &oz));
  PetscCall(DMDAGetCorners(da, &xs, &ys, &zs, &xm, &ym, &zm));
  PetscCall(PetscMalloc1(nlocal, remote));
  for (PetscInt k = zs; k < zs + zm; k++)
    for (PetscInt j = ys; j < ys + ym; j++)
      for (PetscInt i = xs; i < xs + xm; i++) {
        const PetscInt r    = wx[i] + m * (wy[j] + n * wz[k]);
        const PetscInt base = ((oz[k] * ly[wy[j]] + oy[j]) * lx[wx[i]] + ox[i]) * dof;
        for (PetscInt d = 0; d < dof; d++, c++) {
          (*remote)[c].rank  = r; /* the solver group's ranks are world ranks 0 .. nsolver - 1 */
          (*remote)[c].index = base + d;
        }
      }
  PetscCheck(c == nlocal, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "post ranks: %" PetscInt_FMT " cells mapped for %" PetscInt_FMT " owned", c, nlocal);
  PetscCall(PetscFree2(wx, ox));
  PetscCall(PetscFree2(wy, oy));
  PetscCall(PetscFree2(wz, oz));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The star forest from the solver ranks' owned cells to the post ranks',
   after checking that both groups' grids are the same grid (sizes, dof, and
   the distributed axes). Collective on the world. */
static PetscErrorCode ItPostScatterCreate(ItPostLink *link) {
  DM           da = ItGridGetInfo(link->app->grid)->da;
  PetscInt    *layout, mine[4], M, N, P, dof;
  PetscSFNode *remote = NULL;
  int          same, all;

  PetscFunctionBegin;
  if (!IT_POST_SEND) {
    PetscCall(PetscLogEventRegister("ItPostSend", PETSCSF_CLASSID, &IT_POST_SEND));
    PetscCall(PetscLogEventRegister("ItPostWait", PETSCSF_CLASSID, &IT_POST_WAIT));
    PetscCall(PetscLogEventRegister("ItPostReceive", PETSCSF_CLASSID, &IT_POST_RECEIVE));
  }
  PetscCall(VecGetLocalSize(link->app->p, &link->nlocal));
  PetscCall(ItPostLayout(da, &layout));
  PetscCall(
      DMDAGetInfo(da, NULL, &M, &N, &P, NULL, NULL, NULL, &dof, NULL, NULL, NULL, NULL, NULL));
  mine[0] = M, mine[1] = N, mine[2] = P, mine[3] = dof;
  same =
      mine[0] == layout[0] && mine[1] == layout[1] && mine[2] == layout[2] && mine[3] == layout[3];
  PetscCallMPI(MPI_Allreduce(&same, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD));
  PetscCheck(all, PETSC_COMM_SELF, PETSC_ERR_PLIB,
             "post ranks: the post group's grid (%" PetscInt_FMT " x %" PetscInt_FMT
             " x %" PetscInt_FMT ", dof %" PetscInt_FMT ") is not the solver group's",
             M, N, P, dof);
  if (ItPost.post) PetscCall(ItPostRemotes(da, layout, link->nlocal, &remote));
  PetscCall(PetscFree(layout));
  PetscCall(PetscSFCreate(MPI_COMM_WORLD, &link->sf[0]));
  PetscCall(PetscSFSetType(link->sf[0], PETSCSFBASIC));
  PetscCall(PetscSFSetGraph(link->sf[0], ItPost.post ? 0 : link->nlocal,
                            ItPost.post ? link->nlocal : 0, NULL, PETSC_OWN_POINTER, remote,
                            PETSC_OWN_POINTER));
  PetscCall(PetscSFSetUp(link->sf[0]));
  for (PetscInt s = 1; s < IT_POST_QUEUE; s++) {
    PetscCall(PetscSFDuplicate(link->sf[0], PETSCSF_DUPLICATE_GRAPH, &link->sf[s]));
    PetscCall(PetscSFSetUp(link->sf[s]));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The messages and bytes this rank sends per state (the broadcast's, and
   rank 0's headers and, with a refractory time in two or more variables,
   its re-injection fields). */
static PetscErrorCode ItPostTraffic(ItPostLink *link, PetscInt *messages, PetscInt *bytes) {
  const ItGridInfo *info = ItGridGetInfo(link->app->grid);
  PetscInt          nranks, ny = 0;
  const PetscInt   *offset;

  PetscFunctionBegin;
  PetscCall(PetscSFGetLeafRanks(link->sf[0], &nranks, NULL, &offset, NULL));
  for (PetscInt a = 0; a < info->dim && info->dim > 1; a++) { /* the cross-section's cells */
    if (info->boundary[a] != IT_BOUNDARY_THRESHOLD_RESET || info->refractory[a] == 0) continue;
    ny = 1;
    for (PetscInt b = 0; b < info->dim; b++) ny *= b == a ? 1 : info->n[b];
  }
  *messages = nranks + (ItPost.world_rank == 0 ? ItPost.K * (ny ? 2 : 1) : 0);
  *bytes =
      offset[nranks] * (PetscInt)sizeof(PetscScalar) +
      (ItPost.world_rank == 0 ? ItPost.K * (IT_POST_HEADER + ny) * (PetscInt)sizeof(PetscReal) : 0);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The solver side: frees ring slot `slot`, ending its broadcast and rank 0's headers, fields
   and checkpoint histories (the only place a solver rank waits for the post ranks). */
static PetscErrorCode ItPostSlotFree(ItPostLink *link, PetscInt slot) {
  PetscLogDouble start, end;

  PetscFunctionBegin;
  if (!link->busy[slot]) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCall(PetscLogEventBegin(IT_POST_WAIT, 0, 0, 0, 0));
  PetscCall(PetscTime(&start));
  PetscCall(PetscSFBcastEnd(link->sf[slot], MPIU_SCALAR, link->ring[slot], NULL, MPI_REPLACE));
  if (ItPost.world_rank == 0)
    PetscCallMPI(MPI_Waitall(ItPost.K, &link->request[slot * ItPost.K], MPI_STATUSES_IGNORE));
  if (ItPost.world_rank == 0)
    PetscCallMPI(MPI_Waitall(ItPost.K, &link->field_request[slot * ItPost.K], MPI_STATUSES_IGNORE));
  if (ItPost.world_rank == 0)
    PetscCallMPI(
        MPI_Waitall(ItPost.K, &link->history_request[slot * ItPost.K], MPI_STATUSES_IGNORE));
  if (link->history[slot])
    ItMemoryAdd(IT_MEMORY_IO, -(PetscReal)link->nhistory[slot] * sizeof(PetscReal));
  PetscCall(PetscFree(link->history[slot]));
  PetscCall(PetscTime(&end));
  PetscCall(PetscLogEventEnd(IT_POST_WAIT, 0, 0, 0, 0));
  link->blocked += end - start;
  link->busy[slot] = PETSC_FALSE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Hands one state to the post ranks: the density into the next ring slot,
   its broadcast begun, rank 0's header sent; returns without waiting unless
   the slot's previous state is still in flight. */
static PetscErrorCode ItPostSend(ItPostLink *link, const PetscReal header[], Vec p) {
  const PetscInt     slot = link->next++ % IT_POST_QUEUE;
  const PetscScalar *a;

  PetscFunctionBegin;
  PetscCall(ItPostSlotFree(link, slot));
  PetscCall(PetscLogEventBegin(IT_POST_SEND, 0, 0, 0, 0));
  PetscCall(VecGetArrayRead(p, &a));
  PetscCall(PetscArraycpy(link->ring[slot], a, link->nlocal));
  PetscCall(VecRestoreArrayRead(p, &a));
  PetscCall(PetscSFBcastBegin(link->sf[slot], MPIU_SCALAR, link->ring[slot], NULL, MPI_REPLACE));
  link->busy[slot] = PETSC_TRUE;
  if (ItPost.world_rank == 0) {
    PetscCall(PetscArraycpy(link->header[slot], header, IT_POST_HEADER));
    for (PetscMPIInt q = 0; q < ItPost.K; q++)
      PetscCallMPI(MPI_Isend(link->header[slot], IT_POST_HEADER, MPIU_REAL, ItPost.nsolver + q,
                             IT_POST_TAG, MPI_COMM_WORLD, &link->request[slot * ItPost.K + q]));
  }
  link->states++;
  PetscCall(PetscLogEventEnd(IT_POST_SEND, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* Every broadcast and header in flight ended. */
static PetscErrorCode ItPostDrain(ItPostLink *link) {
  PetscFunctionBegin;
  for (PetscInt s = 0; s < IT_POST_QUEUE; s++) PetscCall(ItPostSlotFree(link, s));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A state's header carries the refractory compartment's re-injection rate,
   re-injected and held mass at t (doc/physics.md §8.2), which the post
   ranks' diagnostics read. */
static PetscErrorCode ItPostOutputSend(void *ctx, PetscReal t, PetscInt step, Vec p, PetscBool row,
                                       PetscBool snapshot) {
  PetscReal header[IT_POST_HEADER] = {
      IT_POST_OUTPUT, t, 0, (PetscReal)step, row, snapshot, 0, 0, 0};
  ItPostLink  *link = (ItPostLink *)ctx;
  ItRefractory h;

  PetscFunctionBegin;
  PetscCall(ItRefractoryQuery(p, &h));
  if (h) PetscCall(ItRefractoryGet(h, t, &header[6], &header[7], &header[8]));
  PetscCall(ItPostSend(link, header, p));
  if (h && ItRefractoryGetFieldSize(h) && ItPost.world_rank == 0) {
    /* two or more variables: the re-injection field at t, after the header, from the slot's
       buffer (its sends end with the slot's, ItPostSlotFree: no wait for a post rank here) */
    const PetscInt ny = ItRefractoryGetFieldSize(h), slot = (link->next - 1) % IT_POST_QUEUE;
    if (!link->field[slot]) {
      PetscCall(PetscMalloc1(ny, &link->field[slot]));
      link->nfield = ny;
      ItMemoryAdd(IT_MEMORY_IO, (PetscReal)ny * sizeof(PetscReal));
    }
    PetscCall(ItRefractoryGetInflowField(h, t, link->field[slot]));
    for (PetscMPIInt q = 0; q < ItPost.K; q++)
      PetscCallMPI(MPI_Isend(link->field[slot], (PetscMPIInt)ny, MPIU_REAL, ItPost.nsolver + q,
                             IT_POST_FIELD_TAG, MPI_COMM_WORLD,
                             &link->field_request[slot * ItPost.K + q]));
  }
  PetscFunctionReturn(PETSC_SUCCESS);
}

static PetscErrorCode ItPostCheckpointSend(void *ctx, PetscReal t, PetscInt step, PetscReal dt,
                                           Vec p) {
  ItPostLink     *link                   = (ItPostLink *)ctx;
  const PetscReal header[IT_POST_HEADER] = {IT_POST_CHECKPOINT, t, dt, (PetscReal)step};
  ItRefractory    h;

  PetscFunctionBegin;
  PetscCall(ItPostSend(link, header, p));
  PetscCall(ItRefractoryQuery(p, &h));
  if (h && ItPost.world_rank == 0) {
    /* the history, which the checkpoint holds, after the header, from the slot's own copy (its
       sends end with the slot's, ItPostSlotFree: no wait for a post rank here) */
    const PetscInt slot = (link->next - 1) % IT_POST_QUEUE;
    PetscInt       n;
    PetscCall(ItRefractoryGetState(h, &n, &link->history[slot]));
    link->nhistory[slot] = n;
    ItMemoryAdd(IT_MEMORY_IO, (PetscReal)n * sizeof(PetscReal));
    for (PetscMPIInt q = 0; q < ItPost.K; q++)
      PetscCallMPI(MPI_Isend(link->history[slot], (PetscMPIInt)n, MPIU_REAL, ItPost.nsolver + q,
                             IT_POST_HISTORY_TAG, MPI_COMM_WORLD,
                             &link->history_request[slot * ItPost.K + q]));
  }
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

/* A solver rank: a post rank's forwarded signal counts as received here.
   Called after every step, it also lets MPI move the broadcasts in flight. */
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

/* The command's signal and wall-clock poll (if any), after a post rank's forwarded signal. */
static PetscErrorCode ItPostInterrupt(void *ctx, PetscBool *stop, PetscBool *checkpoint) {
  ItPostLink *link = (ItPostLink *)ctx;

  PetscFunctionBegin;
  PetscCall(ItPostSignalReceive());
  *stop = *checkpoint = PETSC_FALSE;
  if (link->interrupt) PetscCall(link->interrupt(link->ctx, stop, checkpoint));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The solver group failed (a time step that stops the run, after its
   checkpoint): the post ranks hold the folder's lock, and the job ends with
   MPI_Abort (ItPostFinalize), so each is told, lets go of the folder and
   answers before this rank returns the error (ItPostReplay). Collective on
   the solver group. */
static PetscErrorCode ItPostFailed(ItPostLink *link, PetscErrorCode ierr) {
  const PetscReal header[IT_POST_HEADER] = {IT_POST_FAILED};

  PetscFunctionBegin;
  PetscCall(ItPostSend(link, header, link->app->p));
  PetscCall(ItPostDrain(link));
  for (PetscMPIInt q = 0; q < ItPost.K; q++) {
    int one;
    PetscCallMPI(MPI_Recv(&one, 1, MPI_INT, ItPost.nsolver + q, IT_POST_ACK_TAG, MPI_COMM_WORLD,
                          MPI_STATUS_IGNORE));
  }
  PetscCall(ierr);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The solver group: steps, hands every state on, then the end (where it
   stopped, whether interrupted, the last density, the solver's time and
   what it spent waiting for the transfer). */
static PetscErrorCode ItPostSolve(ItPostLink *link) {
  ItApp          *app = link->app;
  ItSolveSettings settings;
  PetscReal       header[IT_POST_HEADER] = {IT_POST_END}, local[4], global[4];
  PetscReal       mine[IT_MEMORY_PARTS + 1], memory[IT_MEMORY_PARTS + 1];
  PetscLogDouble  start, end, cpu;
  PetscInt        messages = 0, bytes = 0;

  PetscFunctionBegin;
  PetscCall(PetscMalloc1(IT_POST_QUEUE * ItPost.K, &link->request));
  PetscCall(PetscMalloc1(IT_POST_QUEUE * ItPost.K, &link->field_request));
  PetscCall(PetscMalloc1(IT_POST_QUEUE * ItPost.K, &link->history_request));
  for (PetscInt k = 0; k < IT_POST_QUEUE * ItPost.K; k++) link->field_request[k] = MPI_REQUEST_NULL;
  for (PetscInt k = 0; k < IT_POST_QUEUE * ItPost.K; k++)
    link->history_request[k] = MPI_REQUEST_NULL;
  for (PetscInt s = 0; s < IT_POST_QUEUE; s++) {
    PetscCall(PetscMalloc1(link->nlocal, &link->ring[s]));
    link->busy[s]    = PETSC_FALSE;
    link->field[s]   = NULL;
    link->history[s] = NULL;
  }
  ItMemoryAdd(IT_MEMORY_IO, (PetscReal)IT_POST_QUEUE * link->nlocal * sizeof(PetscScalar));
  settings            = app->settings;
  settings.checkpoint = link->checkpoint ? ItPostCheckpointSend : NULL;
  settings.interrupt  = ItPostInterrupt; /* also moves the transfers on after each step */
  PetscCall(PetscTime(&start));
  cpu = ItPostCPU();
  {
    const PetscErrorCode ierr = ItSolveTransient(app->grid, app->model, &settings, app->p,
                                                 ItPostOutputSend, link, &app->result);
    if (ierr) PetscCall(ItPostFailed(link, ierr));
  }
  PetscCall(PetscTime(&end));
  PetscCall(ItPostTraffic(link, &messages, &bytes));
  local[0] = link->blocked, local[1] = (PetscReal)messages, local[2] = (PetscReal)bytes;
  local[3] = ItPostCPU() - cpu;
  PetscCall(MPIU_Allreduce(local, global, 4, MPIU_REAL, MPI_MAX, PETSC_COMM_WORLD));
  header[1] = app->result.t_end;
  header[2] = end - start; /* the solver group's time */
  header[3] = (PetscReal)app->result.steps;
  header[4] = app->result.interrupted;
  header[5] = global[0]; /* the longest a solver rank waited for the post ranks */
  header[6] = global[1]; /* the most messages and bytes a solver rank sent per state */
  header[7] = global[2];
  header[8] = global[3]; /* the most CPU seconds a solver rank spent */
  PetscCall(ItPostSend(link, header, app->p));
  PetscCall(ItPostDrain(link));
  /* the solver ranks' memory for the post ranks' summary.json (their ring and the checkpoints'
     histories included) */
  PetscCall(ItMemoryGetLocal(mine));
  PetscCall(
      MPIU_Allreduce(mine, memory, IT_MEMORY_PARTS + 1, MPIU_REAL, MPIU_SUM, PETSC_COMM_WORLD));
  if (ItPost.world_rank == 0)
    for (PetscMPIInt q = 0; q < ItPost.K; q++)
      PetscCallMPI(MPI_Send(memory, IT_MEMORY_PARTS + 1, MPIU_REAL, ItPost.nsolver + q,
                            IT_POST_MEMORY_TAG, MPI_COMM_WORLD));
  for (PetscInt s = 0; s < IT_POST_QUEUE; s++) PetscCall(PetscFree(link->ring[s]));
  ItMemoryAdd(IT_MEMORY_IO, -(PetscReal)IT_POST_QUEUE * link->nlocal * sizeof(PetscScalar));
  for (PetscInt s = 0; s < IT_POST_QUEUE; s++) {
    if (link->field[s]) ItMemoryAdd(IT_MEMORY_IO, -(PetscReal)link->nfield * sizeof(PetscReal));
    PetscCall(PetscFree(link->field[s]));
  }
  PetscCall(PetscFree(link->request));
  PetscCall(PetscFree(link->field_request));
  PetscCall(PetscFree(link->history_request));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A post rank: begins receiving the next state's density into link->receive. */
static PetscErrorCode ItPostPost(ItPostLink *link) {
  PetscFunctionBegin;
  PetscCall(PetscSFBcastBegin(link->sf[link->states % IT_POST_QUEUE], MPIU_SCALAR, NULL,
                              link->receive, MPI_REPLACE));
  link->posted = PETSC_TRUE;
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A post rank: the next state's header (waited for without spinning: the
   solver ranks may share these cores), its density into app->p, and the
   broadcast of the state after it begun at once unless this one is the last. */
static PetscErrorCode ItPostReceive(ItPostLink *link, PetscReal header[]) {
  PetscScalar *a;
  int          arrived = 0;

  PetscFunctionBegin;
  while (!arrived) {
    PetscCall(ItPostSignalForward());
    PetscCallMPI(MPI_Iprobe(0, IT_POST_TAG, MPI_COMM_WORLD, &arrived, MPI_STATUS_IGNORE));
    if (!arrived) nanosleep(&(struct timespec){0, IT_POST_IDLE}, NULL);
  }
  PetscCall(PetscLogEventBegin(IT_POST_RECEIVE, 0, 0, 0, 0));
  PetscCallMPI(MPI_Recv(header, IT_POST_HEADER, MPIU_REAL, 0, IT_POST_TAG, MPI_COMM_WORLD,
                        MPI_STATUS_IGNORE));
  PetscCall(PetscSFBcastEnd(link->sf[link->states % IT_POST_QUEUE], MPIU_SCALAR, NULL,
                            link->receive, MPI_REPLACE));
  link->posted = PETSC_FALSE;
  PetscCall(VecGetArray(link->app->p, &a));
  PetscCall(PetscArraycpy(a, link->receive, link->nlocal));
  PetscCall(VecRestoreArray(link->app->p, &a));
  link->states++;
  if ((int)header[0] == IT_POST_OUTPUT || (int)header[0] == IT_POST_CHECKPOINT)
    PetscCall(ItPostPost(link));
  PetscCall(PetscLogEventEnd(IT_POST_RECEIVE, 0, 0, 0, 0));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A post rank: a checkpoint's refractory history from world rank 0 into h. */
static PetscErrorCode ItPostReceiveHistory(ItRefractory h) {
  MPI_Status  status;
  PetscMPIInt n;
  PetscReal  *state;

  PetscFunctionBegin;
  PetscCallMPI(MPI_Probe(0, IT_POST_HISTORY_TAG, MPI_COMM_WORLD, &status));
  PetscCallMPI(MPI_Get_count(&status, MPIU_REAL, &n));
  PetscCall(PetscMalloc1(n, &state));
  ItMemoryAdd(IT_MEMORY_IO, (PetscReal)n * sizeof(PetscReal));
  PetscCallMPI(
      MPI_Recv(state, n, MPIU_REAL, 0, IT_POST_HISTORY_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
  PetscCall(ItRefractorySetState(h, n, state));
  PetscCall(PetscFree(state));
  ItMemoryAdd(IT_MEMORY_IO, -(PetscReal)n * sizeof(PetscReal));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* A post rank: a state's re-injection field from world rank 0 into h (two
   or more variables). */
static PetscErrorCode ItPostReceiveField(ItRefractory h) {
  const PetscInt ny = ItRefractoryGetFieldSize(h);
  PetscReal     *field;

  PetscFunctionBegin;
  PetscCall(PetscMalloc1(ny, &field));
  ItMemoryAdd(IT_MEMORY_IO, (PetscReal)ny * sizeof(PetscReal));
  PetscCallMPI(MPI_Recv(field, (PetscMPIInt)ny, MPIU_REAL, 0, IT_POST_FIELD_TAG, MPI_COMM_WORLD,
                        MPI_STATUS_IGNORE));
  PetscCall(ItRefractorySetFixedField(h, field));
  PetscCall(PetscFree(field));
  ItMemoryAdd(IT_MEMORY_IO, -(PetscReal)ny * sizeof(PetscReal));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The post group: receives each state into app->p and replays the call. */
static PetscErrorCode ItPostReplay(ItPostLink *link, ItSolveOutputFn output) {
  ItApp         *app = link->app;
  PetscReal      header[IT_POST_HEADER];
  PetscBool      done = PETSC_FALSE;
  PetscLogDouble start, end, work = 0, cpu = 0, cpu0;
  ItRefractory   refractory = NULL;

  PetscFunctionBegin;
  PetscCall(PetscMalloc1(link->nlocal, &link->receive));
  ItMemoryAdd(IT_MEMORY_IO, (PetscReal)link->nlocal * sizeof(PetscScalar));
  /* a refractory compartment's copy: the diagnostics and the checkpoints read it from p */
  PetscCall(ItRefractoryCreateCopy(app->grid, app->model, &refractory)); /* no re-entry map */
  if (refractory) PetscCall(ItRefractoryAttach(refractory, app->p));
  PetscCall(ItPostPost(link));
  while (!done) {
    PetscCall(ItPostReceive(link, header));
    PetscCall(PetscTime(&start));
    cpu0 = ItPostCPU();
    switch ((int)header[0]) {
    case IT_POST_OUTPUT:
      if (refractory) ItRefractorySetFixed(refractory, header[1], header[6], header[7], header[8]);
      if (refractory && ItRefractoryGetFieldSize(refractory))
        PetscCall(ItPostReceiveField(refractory));
      PetscCall(output(link->ctx, header[1], (PetscInt)header[3], app->p,
                       (PetscBool)(header[4] != 0), (PetscBool)(header[5] != 0)));
      break;
    case IT_POST_CHECKPOINT:
      if (refractory) PetscCall(ItPostReceiveHistory(refractory));
      PetscCall(link->checkpoint(link->ctx, header[1], (PetscInt)header[3], header[2], app->p));
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
      PetscCallMPI(MPI_Recv(ItPost.solver_memory, IT_MEMORY_PARTS + 1, MPIU_REAL, 0,
                            IT_POST_MEMORY_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE));
      ItPost.solver_memory_set = PETSC_TRUE;
      app->result.t_end        = header[1];
      app->result.steps        = (PetscInt)header[3];
      app->result.interrupted  = (PetscBool)(header[4] != 0);
      done                     = PETSC_TRUE;
    }
    PetscCall(PetscTime(&end));
    work += end - start;
    cpu += ItPostCPU() - cpu0;
  }
  {
    const PetscReal n = link->states > 1 ? (PetscReal)(link->states - 1) : 1;
    PetscCall(PetscPrintf(
        PETSC_COMM_WORLD,
        "post: %d solver rank(s) took %" PetscInt_FMT " steps in %.3g s (%.3g steps/s), "
        "%.3g s and %.3g CPU s per state, of which %.3g s in all waiting for the post ranks, "
        "sending at most %.0f message(s) and %.0f bytes per state; %d post rank(s) computed "
        "the diagnostics and wrote the outputs in %.3g s and %.3g CPU s per state\n",
        ItPost.nsolver, app->result.steps, (double)header[2],
        (double)(header[2] > 0 ? app->result.steps / header[2] : 0), (double)(header[2] / n),
        (double)(header[8] / n), (double)header[5], (double)header[6], (double)header[7], ItPost.K,
        (double)(work / n), (double)(cpu / n)));
  }
  PetscCall(PetscFree(link->receive));
  ItMemoryAdd(IT_MEMORY_IO, -(PetscReal)link->nlocal * sizeof(PetscScalar));
  if (refractory) PetscCall(ItRefractoryAttach(NULL, app->p));
  PetscCall(ItRefractoryDestroy(&refractory));
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* On the post group's first rank, after the end: the solver ranks' memory
   (summed over them) added to this rank's local[] (ItMemoryGetLocal's
   layout), so that summary.json's memory, summed over the post ranks,
   covers every rank of the job. Elsewhere nothing. Not collective. */
PetscErrorCode ItPostAddSolverMemory(PetscReal local[]) {
  PetscMPIInt rank;

  PetscFunctionBegin;
  if (!ItPost.solver_memory_set) PetscFunctionReturn(PETSC_SUCCESS);
  PetscCallMPI(MPI_Comm_rank(PETSC_COMM_WORLD, &rank));
  if (rank == 0)
    for (PetscInt k = 0; k <= IT_MEMORY_PARTS; k++) local[k] += ItPost.solver_memory[k];
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The option names of the post-processing ranks' options (src/model/option_names.c). */
const ItOptionName ItAppPostOptionNames[] = {{"post_ranks", IT_OPTION_INTEGER}, {NULL, 0}};

/* -post_ranks (read before PETSc starts, from the command line and the
   options files it names; here for -help, and to refuse a value PETSc reads
   from elsewhere, PETSC_OPTIONS, that did not split the ranks). */
PetscErrorCode ItPostOptions(void) {
  PetscInt  K = ItPost.K;
  PetscBool set;

  PetscFunctionBegin;
  PetscOptionsBegin(PETSC_COMM_WORLD, NULL, "Post-processing ranks", "ItApp");
  PetscCall(PetscOptionsInt("-post_ranks",
                            "ranks (the last K) that compute the diagnostics and write the outputs "
                            "while the others step (run and crosscheck; doc/performance.md)",
                            NULL, K, &K, &set));
  PetscOptionsEnd();
  PetscCheck(!set || K == ItPost.K, PETSC_COMM_WORLD, PETSC_ERR_USER_INPUT,
             "-post_ranks %" PetscInt_FMT
             " did not split the ranks (set outside the command line and its -options_file, "
             "e.g. in PETSC_OPTIONS): give -post_ranks on the command line or in the options file",
             K);
  PetscFunctionReturn(PETSC_SUCCESS);
}

/* The transient of run and crosscheck: ItSolveTransient with output and
   checkpoint (called with ctx) on these ranks (-post_ranks 0), or split
   between the solver and the post group. Collective on MPI_COMM_WORLD. */
PetscErrorCode ItPostTransient(ItApp *app, ItSolveOutputFn output, ItSolveCheckpointFn checkpoint,
                               void *ctx) {
  ItPostLink link = {.app = app, .ctx = ctx, .checkpoint = checkpoint};

  PetscFunctionBegin;
  PetscCall(ItPostOptions());
  if (!ItPost.split) {
    ItSolveSettings settings = app->settings;
    settings.checkpoint      = checkpoint;
    PetscCall(
        ItSolveTransient(app->grid, app->model, &settings, app->p, output, ctx, &app->result));
    PetscFunctionReturn(PETSC_SUCCESS);
  }
  PetscCheck(ItPost.K <= 64, PETSC_COMM_WORLD, PETSC_ERR_USER_INPUT,
             "-post_ranks %d: at most 64 post ranks", ItPost.K);
  link.interrupt = app->settings.interrupt;
  ItPost.apart   = PETSC_TRUE; /* from here each group says its own */
  PetscCall(ItPostScatterCreate(&link));
  if (ItPost.post)
    PetscCall(ItPostReplay(&link, output));
  else
    PetscCall(ItPostSolve(&link));
  for (PetscInt s = 0; s < IT_POST_QUEUE; s++) PetscCall(PetscSFDestroy(&link.sf[s]));
  PetscFunctionReturn(PETSC_SUCCESS);
}
