/*
 * wait.c
 *		Wake on commit: the shared-memory wait slots behind the blocking
 *		task_dequeue(..., wait => ...) and task_wait().
 *
 * Shared memory holds a fixed table of task.wait_slots slots. A waiter is
 * keyed by a 64-bit hash: of a queue name (task_dequeue) or of a task id
 * (task_wait), with different seeds; its slot is key % task.wait_slots.
 * The table is direct-mapped, with no ownership of slots and no lock to
 * take one: two keys that land on one slot share it, and a commit for one
 * of them also wakes the waiters of the other, which re-check, find
 * nothing and sleep again. Collisions cost extra wakeups, never a lost one.
 *
 * Each slot has a list of sleepers, a generation (bumped by every commit
 * that made work for one of its keys) and counters. The protocol that
 * makes a commit between a waiter's check and its sleep impossible to miss:
 *
 *	waiter:    seq := generation (task._wait_seq); look for work with a new
 *			   snapshot; if none: waiters++, join the slot's sleepers,
 *			   then sleep only while generation = seq.
 *	committer: the commit is visible to new snapshots (the XACT_EVENT_COMMIT
 *			   callback runs after ProcArrayEndTransaction), then
 *			   generation++, then broadcast if waiters > 0.
 *
 * Both sides use atomic read-modify-write operations (full barriers)
 * before reading the other's counter, so either the committer sees the
 * waiter and broadcasts, or the waiter sees the new generation and does
 * not sleep. A commit that became visible after the waiter's snapshot
 * bumped the generation after the waiter read seq.
 *
 * What a transaction made work for is noted by the task_transition trigger
 * (task_wait_note_queue / task_wait_note_task) in a backend-local list
 * (with a count per key), without locks or shared memory; the commit
 * callback wakes those slots, and commit or abort clears the list. What a
 * subtransaction noted is logged with its nesting level; when it rolls
 * back, its tasks made no longer count and its claims count as released
 * (their tasks are runnable again), which the end of the transaction,
 * commit or abort, wakes waiters for.
 * PREPARE TRANSACTION wakes nobody: waiters see prepared work at their
 * next wakeup or timeout.
 *
 * One waiter per runnable task: a commit that made c runnable tasks for a
 * queue key signals at most c sleepers of its slot, not all of them; a
 * final task status (task_wait) still broadcasts, and so does a slot
 * whose sleepers wait for different keys (a hash collision: a signal could
 * land on a waiter of the other key). A signalled waiter holds
 * the wake until it has looked for work: when its transaction aborts (an
 * error, a cancel, a client gone: FATAL), it passes the wake on to the
 * next sleeper, so a wake is never lost with the waiter it went to. When
 * it looked and claimed nothing (it calls _wait_sleep again), it passes
 * the wake on only while the slot has an announced wake that no claim has
 * used up (tokens: a commit adds one per runnable task; a committed claim,
 * by any worker, and a pass each use one): a wake whose task another
 * worker took is dropped rather than sent round every sleeper.
 *
 * Last in, first out. A slot's sleepers are a list in shared memory (links
 * per PGPROC, under the slot's spinlock), and a signal wakes the one that
 * went to sleep last, unlike a ConditionVariable, which wakes the one that
 * has slept longest. With 32 workers on a queue fed at 500 tasks/s, the
 * longest sleeper has been idle for 32 tasks; its memory has left the CPU's
 * caches and its claim runs slower (docs/QUEUE.md, "Waiters"). Waking the
 * latest keeps a few workers warm and the others asleep. A sleeper is
 * woken through its latch; a signal it got but could not use (an error, a
 * cancel) is passed to the next sleeper, as ConditionVariableCancelSleep
 * does.
 *
 * A third key space, a service's freed claim slots (limit_key): every
 * task of the service that leaves processing announces one, every claim
 * uses one (so complete-and-claim in one transaction announces nothing).
 * A task_dequeue held back by a cap (max_processing, the service's cap;
 * 65_worker.sql) sleeps on it.
 *
 * Keys are scoped by database (the database oid seeds the hash, with a
 * random number drawn at server start that no role can read: queue_key),
 * so waiters of two databases never share a key, and a transaction's list of keys
 * grows as needed (no "wake every slot" fallback that would wake other
 * databases' and tenants' waiters). task.wait_stats names only keys of the
 * caller's database.
 *
 * No snapshot while sleeping: a waiter releases its xmin for the sleep
 * (backend_xmin is NULL in pg_stat_activity) when nothing can read a table
 * with the snapshots it holds afterwards: the sleep is called by our own
 * function (task_dequeue, task_wait), which takes a new snapshot for every
 * statement after it (READ COMMITTED, volatile functions); every statement
 * running above it (the top-level one, and wrappers such as the HTTP
 * layer's) is a SELECT whose range table holds no relation and that calls
 * no STABLE SQL or PL/pgSQL function (which would read with its snapshot);
 * and the library was preloaded (the depth is counted from the start).
 * See docs/QUEUE.md.
 *
 * A waiter whose client has gone away does not claim: the client socket is
 * checked (pq_check_connection) after every wakeup and at least once a
 * second while asleep, and a closed one ends the backend (FATAL) before it
 * looks for work.
 *
 * Without shared_preload_libraries there is no table: task._wait_sleep
 * sleeps 50 ms (or less, up to its timeout) and the callers poll, after a
 * NOTICE once per backend.
 */
#include "postgres.h"

#include <limits.h>
#include <math.h>

#include "access/twophase.h"
#include "access/xact.h"
#include "catalog/pg_language.h"
#include "catalog/pg_proc.h"
#include "common/hashfn.h"
#include "executor/executor.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/nodeFuncs.h"
#include "nodes/parsenodes.h"
#include "nodes/plannodes.h"
#include "storage/proc.h"
#include "port/atomics.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "tcop/tcopprot.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
#include "utils/wait_event.h"

#include "task.h"

/*
 * libpq/libpq.h's declaration: that header pulls in libpq-be.h and with it
 * the GSSAPI headers, which the server headers do not require.
 */
extern bool pq_check_connection(void);

PG_FUNCTION_INFO_V1(task_wait_queue_key);
PG_FUNCTION_INFO_V1(task_wake_queue);
PG_FUNCTION_INFO_V1(task_wait_task_key);
PG_FUNCTION_INFO_V1(task_wait_limit_key);
PG_FUNCTION_INFO_V1(task_wait_seq);
PG_FUNCTION_INFO_V1(task_wait_sleep);
PG_FUNCTION_INFO_V1(task_wait_attached);
PG_FUNCTION_INFO_V1(task_wait_stats);
PG_FUNCTION_INFO_V1(task_pause);

/* seeds of the key spaces: queues, tasks, and services' freed claim slots */
#define WAIT_SEED_QUEUE		UINT64CONST(0x7461736b2d717565)
#define WAIT_SEED_TASK		UINT64CONST(0x7461736b2d746964)
#define WAIT_SEED_LIMIT		UINT64CONST(0x7461736b2d6c696d)

/* the polling interval without shared memory, in milliseconds */
#define WAIT_POLL_MS		50

/* label of the last waiter of a slot, shown by task.wait_stats */
#define WAIT_LABEL_BYTES	64

/* keys a transaction remembers before its list grows (no upper bound) */
#define WAIT_PENDING_INITIAL	64

/* sleepers a signal takes off a slot's list under one spinlock hold */
#define WAIT_SIGNAL_BATCH	64

/* the longest sleep between two checks of the client socket, in ms */
#define WAIT_CHECK_CLIENT_MS	1000

typedef enum WaitKind
{
	WAIT_KIND_NONE,
	WAIT_KIND_QUEUE,
	WAIT_KIND_TASK
} WaitKind;

typedef struct WaitSlot
{
	pg_atomic_uint64 generation;	/* commits that made work for a key here */
	pg_atomic_uint64 broadcasts;	/* of those, the ones that found waiters */
	pg_atomic_uint64 sleeps;		/* waits that went to sleep here */
	pg_atomic_uint32 waiters;		/* backends waiting here now */
	pg_atomic_uint32 tokens;		/* wakes announced for runnable tasks, not yet used */
	slock_t		mutex;				/* protects what follows */
	WaitKind	kind;
	Oid			database;			/* of the last waiter: label's database */
	char		label[WAIT_LABEL_BYTES];
	uint64		sleeper_key;		/* key of the sleepers, while unmixed */
	bool		mixed;				/* sleepers wait for different keys now */
	int			sleepers;			/* sleepers counted under the mutex */
	int			head;				/* pgprocno of the latest sleeper, -1: none */
} WaitSlot;

/* a backend's place in its slot's list of sleepers (by pgprocno) */
typedef struct WaitLink
{
	int			prev;			/* -1: the head */
	int			next;			/* -1: the tail */
	bool		listed;			/* in a slot's list now */
	pg_atomic_uint32 signalled; /* taken off the list by a signal */
} WaitLink;

typedef struct WaitShared
{
	int			nslots;
	uint64		seed;			/* random, drawn at server start (queue_key) */
	WaitSlot	slots[FLEXIBLE_ARRAY_MEMBER];
} WaitShared;

/* task.wait_slots, a postmaster setting */
int			task_wait_slots = 1024;

static WaitShared *wait_shared = NULL;
static WaitLink *wait_links = NULL;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* what the current transaction made work for (backend-local) */
typedef struct PendingKey
{
	uint64		key;
	uint32		count;			/* runnable tasks made for a queue key */
	uint32		claimed;		/* tasks of a queue key claimed */
	uint32		released;		/* claims a rolled-back subtransaction undid */
	bool		broadcast;		/* a task key: wake every waiter */
} PendingKey;

static PendingKey *pending = NULL;
static int	npending = 0;
static int	maxpending = 0;

/* what a subtransaction noted, to undo if it rolls back (inside one only) */
typedef struct SubNote
{
	int			entry;			/* index in pending */
	int			level;			/* the subtransaction's nesting level */
	bool		claim;
} SubNote;

static SubNote *subnotes = NULL;
static int	nsubnotes = 0;
static int	maxsubnotes = 0;

/* a signalled waiter's wake, until it has looked for work (-1: none) */
static int	holding_slot = -1;
static int	holding_level = 0;	/* the nesting level it was taken at */

/* ExecutorRun nesting depth: 1 inside a top-level statement */
static int	executor_depth = 0;

/* the statement running at each depth (1 .. MAX_TRACKED_DEPTH) */
#define MAX_TRACKED_DEPTH 16
static QueryDesc *executor_stack[MAX_TRACKED_DEPTH];
static bool executor_depth_exact = false;	/* counted since before any statement */
static ExecutorRun_hook_type prev_executor_run = NULL;

static bool fallback_noticed = false;

/* every PGPROC may sleep: regular backends, auxiliary, prepared (unused) */
static int
wait_nprocs(void)
{
	return MaxBackends + NUM_AUXILIARY_PROCS + max_prepared_xacts;
}

static Size
wait_shmem_size(void)
{
	return add_size(offsetof(WaitShared, slots),
					mul_size(task_wait_slots, sizeof(WaitSlot)));
}

static Size
wait_links_size(void)
{
	return mul_size(wait_nprocs(), sizeof(WaitLink));
}

static void
wait_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(wait_shmem_size());
	RequestAddinShmemSpace(wait_links_size());
	RequestAddinShmemSpace(task_mark_shmem_size());
}

static void
wait_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	/*
	 * No LWLock tranche is needed: slots are found by arithmetic, counters
	 * are atomics, and the slot's spinlock protects its label and its list
	 * of sleepers.
	 */
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	wait_shared = ShmemInitStruct("task wait slots", wait_shmem_size(), &found);
	if (!found)
	{
		int			i;

		wait_shared->nslots = task_wait_slots;
		if (!pg_strong_random(&wait_shared->seed, sizeof(wait_shared->seed)))
			wait_shared->seed = (uint64) GetCurrentTimestamp() ^ ((uint64) MyProcPid << 32);
		for (i = 0; i < task_wait_slots; i++)
		{
			WaitSlot   *slot = &wait_shared->slots[i];

			pg_atomic_init_u64(&slot->generation, 0);
			pg_atomic_init_u64(&slot->broadcasts, 0);
			pg_atomic_init_u64(&slot->sleeps, 0);
			pg_atomic_init_u32(&slot->waiters, 0);
			pg_atomic_init_u32(&slot->tokens, 0);
			SpinLockInit(&slot->mutex);
			slot->kind = WAIT_KIND_NONE;
			slot->database = InvalidOid;
			slot->label[0] = '\0';
			slot->sleeper_key = 0;
			slot->mixed = false;
			slot->sleepers = 0;
			slot->head = -1;
		}
	}
	wait_links = ShmemInitStruct("task wait links", wait_links_size(), &found);
	if (!found)
	{
		int			i;

		for (i = 0; i < wait_nprocs(); i++)
		{
			wait_links[i].prev = wait_links[i].next = -1;
			wait_links[i].listed = false;
			pg_atomic_init_u32(&wait_links[i].signalled, 0);
		}
	}
	task_mark_shmem_init();
	LWLockRelease(AddinShmemInitLock);
}

/*
 * Lists of sleeping backends, the latest first: a head (a pgprocno, -1:
 * empty) guarded by a spinlock of the caller's, and one link per backend
 * here. A backend is on at most one list at a time: the wait slots' lists
 * below and the claim places' lists in mark.c.
 */

/* Put this backend at the head of a list. Under the list's spinlock. */
void
task_sleeper_push(int *head)
{
	int			me = MyProc->pgprocno;
	WaitLink   *l = &wait_links[me];

	l->prev = -1;
	l->next = *head;
	if (*head >= 0)
		wait_links[*head].prev = me;
	*head = me;
	l->listed = true;
	pg_atomic_write_u32(&l->signalled, 0);
}

/* Take sleeper no off a list. Under the list's spinlock. */
void
task_sleeper_unlink(int *head, int no)
{
	WaitLink   *l = &wait_links[no];

	if (l->prev >= 0)
		wait_links[l->prev].next = l->next;
	else
		*head = l->next;
	if (l->next >= 0)
		wait_links[l->next].prev = l->prev;
	l->prev = l->next = -1;
	l->listed = false;
}

/* This backend is on a list (read under the list's spinlock). */
bool
task_sleeper_listed(void)
{
	return wait_links[MyProc->pgprocno].listed;
}

/*
 * Wake up to count sleepers of a list, the latest first (all of them when
 * count is PG_UINT32_MAX): each is taken off the list and marked, then its
 * latch is set (outside the spinlock).
 */
void
task_sleepers_signal(slock_t *mutex, int *head, uint32 count)
{
	int			woken[WAIT_SIGNAL_BATCH];
	int			n;
	int			i;

	do
	{
		n = 0;
		SpinLockAcquire(mutex);
		while (count > 0 && *head >= 0 && n < WAIT_SIGNAL_BATCH)
		{
			int			no = *head;

			task_sleeper_unlink(head, no);
			pg_atomic_write_u32(&wait_links[no].signalled, 1);
			woken[n++] = no;
			if (count != PG_UINT32_MAX)
				count--;
		}
		SpinLockRelease(mutex);
		for (i = 0; i < n; i++)
			SetLatch(&GetPGProcByNumber(woken[i])->procLatch);
	} while (n == WAIT_SIGNAL_BATCH && count > 0);
}

#define sleeper_push(slot) task_sleeper_push(&(slot)->head)
#define sleeper_unlink(slot, no) task_sleeper_unlink(&(slot)->head, (no))
#define sleepers_signal(slot, count) task_sleepers_signal(&(slot)->mutex, &(slot)->head, (count))

/*
 * Wake the waiters of one slot: a commit made work for one of its keys.
 * A queue key with count runnable tasks signals at most count sleepers;
 * a task key, or a slot whose sleepers wait for different keys, wakes all.
 */
static void
wake_slot(WaitSlot *slot, uint32 count, bool broadcast)
{
	uint32		waiters;

	if (!broadcast)
		pg_atomic_fetch_add_u32(&slot->tokens, count);
	pg_atomic_fetch_add_u64(&slot->generation, 1);
	waiters = pg_atomic_read_u32(&slot->waiters);
	if (waiters == 0)
		return;
	pg_atomic_fetch_add_u64(&slot->broadcasts, 1);
	if (!broadcast)
	{
		SpinLockAcquire(&slot->mutex);
		broadcast = slot->mixed;
		SpinLockRelease(&slot->mutex);
	}
	sleepers_signal(slot, broadcast ? PG_UINT32_MAX : count);
}

/* Use up to n of a slot's announced wakes; returns how many it used. */
static uint32
take_tokens(WaitSlot *slot, uint32 n)
{
	uint32		old = pg_atomic_read_u32(&slot->tokens);

	while (old > 0 && n > 0)
	{
		uint32		take = Min(old, n);

		if (pg_atomic_compare_exchange_u32(&slot->tokens, &old, old - take))
			return take;
	}
	return 0;
}

/*
 * Pass a wake this backend holds on to the next sleeper of its slot. A
 * waiter that never looked for work (its transaction aborted) always
 * passes it. One that looked and claimed nothing (looked = true) passes it
 * only while the slot has an announced wake that no claim has used: the
 * task it was woken for may merely have been locked. If another worker
 * claimed that task, its commit used the wake up and this one is dropped,
 * instead of going round the sleepers for nothing until the next task
 * arrives; and a wake that cannot be used (a task held back by its
 * ordering key) goes round once per announcement, not forever.
 */
static void
pass_wake(bool looked)
{
	if (holding_slot >= 0 && wait_shared != NULL)
	{
		WaitSlot   *slot = &wait_shared->slots[holding_slot];

		if (!looked || take_tokens(slot, 1) > 0)
			sleepers_signal(slot, 1);
	}
	holding_slot = -1;
}

/*
 * A waiting task_dequeue ends without a claim (its wait ran out after a
 * look that found nothing, or its queue was paused meanwhile): a wake it
 * holds goes on as when it sleeps again. Its commit would drop it, and a
 * task that was only locked when it looked stayed unclaimed while the
 * other sleepers slept on.
 */
void
task_wait_unused_wake(void)
{
	pass_wake(true);
}

static void
wait_xact_callback(XactEvent event, void *arg)
{
	bool		ends = (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
						event == XACT_EVENT_PREPARE ||
						event == XACT_EVENT_PARALLEL_COMMIT ||
						event == XACT_EVENT_PARALLEL_ABORT);

	if (event == XACT_EVENT_PRE_PREPARE)
		task_mark_pre_prepare();
	if (!ends)
		return;

	/*
	 * The claim marks first (mark.c): a commit lowers them before this
	 * callback wakes anyone, so a woken waiter's claim starts low enough.
	 */
	task_mark_xact_end(event == XACT_EVENT_COMMIT, event == XACT_EVENT_PREPARE);

	/*
	 * A waiter that was signalled and did not get to look for work (an
	 * error, a cancel, a client gone) passes its wake on; one that looked
	 * and committed has used it.
	 */
	if (event == XACT_EVENT_ABORT || event == XACT_EVENT_PARALLEL_ABORT)
	{
		int			i;

		pass_wake(false);

		/*
		 * Claims rolled back: their tasks are runnable again (and a limited
		 * queue's claim slots free again), as if a commit had made them so.
		 * The abort is visible already (ProcArrayEndTransaction ran).
		 */
		for (i = 0; wait_shared != NULL && i < npending; i++)
			if (!pending[i].broadcast && pending[i].claimed + pending[i].released > 0)
				wake_slot(&wait_shared->slots[pending[i].key % (uint64) wait_shared->nslots],
						  pending[i].claimed + pending[i].released, false);
	}
	holding_slot = -1;

	if (event == XACT_EVENT_COMMIT && wait_shared != NULL)
	{
		int			i;

		for (i = 0; i < npending; i++)
		{
			WaitSlot   *slot = &wait_shared->slots[pending[i].key % (uint64) wait_shared->nslots];

			/*
			 * Claims use announced wakes up, the transaction's own first:
			 * a task made and claimed in one transaction wakes nobody.
			 */
			uint64		made = (uint64) pending[i].count + pending[i].released;

			if (pending[i].broadcast)
				wake_slot(slot, pending[i].count, true);
			else if (made > pending[i].claimed)
				wake_slot(slot, (uint32) Min(made - pending[i].claimed, PG_UINT32_MAX), false);
			else if (pending[i].claimed > made)
				take_tokens(slot, pending[i].claimed - (uint32) made);
		}
	}

	/* every end of a transaction forgets it */
	npending = 0;
	nsubnotes = 0;
}

/*
 * A subtransaction rolled back: what it noted is undone (its tasks made
 * are gone; its claims are released, their tasks runnable again). One
 * committed: what it noted is its parent's now.
 */
static void
wait_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					  SubTransactionId parentSubid, void *arg)
{
	int			level = GetCurrentTransactionNestLevel();
	int			i;

	if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		/*
		 * A wake taken in this subtransaction (a waiter called inside a
		 * savepoint or an EXCEPTION block, cancelled or failed after its
		 * signal and before its look): passed on now, as a top-level abort
		 * does; the transaction may still commit, which would drop it.
		 */
		if (holding_slot >= 0 && holding_level >= level)
			pass_wake(false);
		while (nsubnotes > 0 && subnotes[nsubnotes - 1].level >= level)
		{
			SubNote    *n = &subnotes[--nsubnotes];
			PendingKey *p = &pending[n->entry];

			if (n->claim)
			{
				if (p->claimed > 0)
					p->claimed--;
				if (p->released < PG_UINT32_MAX)
					p->released++;
			}
			else if (p->count > 0)
				p->count--;
		}
	}
	else if (event == SUBXACT_EVENT_COMMIT_SUB)
	{
		/* the top level needs no log: an abort there undoes everything */
		for (i = nsubnotes - 1; i >= 0 && subnotes[i].level >= level; i--)
			subnotes[i].level = level - 1;
		if (level - 1 <= 1)
			while (nsubnotes > 0 && subnotes[nsubnotes - 1].level <= 1)
				nsubnotes--;
	}
}

/* Count ExecutorRun nesting: a sleep knows whether it is in a top-level statement. */
static void
wait_executor_run(QueryDesc *queryDesc, ScanDirection direction, uint64 count,
				  bool execute_once)
{
	executor_depth++;
	if (executor_depth <= MAX_TRACKED_DEPTH)
		executor_stack[executor_depth - 1] = queryDesc;
	PG_TRY();
	{
		if (prev_executor_run)
			prev_executor_run(queryDesc, direction, count, execute_once);
		else
			standard_ExecutorRun(queryDesc, direction, count, execute_once);
	}
	PG_FINALLY();
	{
		executor_depth--;
	}
	PG_END_TRY();
}

void
task_wait_init(void)
{
	if (process_shared_preload_libraries_in_progress)
	{
		DefineCustomIntVariable("task.wait_slots",
								"Number of shared-memory wait slots for blocking task_dequeue and task_wait.",
								"Waiters hash to a slot by queue name or task id; waiters that share a slot get each other's wakeups.",
								&task_wait_slots,
								1024, 16, 1024 * 1024,
								PGC_POSTMASTER,
								0,
								NULL, NULL, NULL);

		prev_shmem_request_hook = shmem_request_hook;
		shmem_request_hook = wait_shmem_request;
		prev_shmem_startup_hook = shmem_startup_hook;
		shmem_startup_hook = wait_shmem_startup;
	}
	RegisterXactCallback(wait_xact_callback, NULL);
	RegisterSubXactCallback(wait_subxact_callback, NULL);

	/*
	 * The ExecutorRun depth is exact only when the hook was there before
	 * any statement ran: loaded later (in the middle of a statement) it
	 * would not count the levels already running, so a backend that loads
	 * the library on first use never releases its xmin.
	 */
	if (process_shared_preload_libraries_in_progress)
	{
		prev_executor_run = ExecutorRun_hook;
		ExecutorRun_hook = wait_executor_run;
		executor_depth_exact = true;
	}
}

/*
 * Keys of one database: the database oid is part of the seed, and so is a
 * random number drawn at server start. Without it, any role computed a
 * queue's key with SQL (hashtextextended is the same hash) and so its
 * wait slot and claim mark entry (key % task.wait_slots), and named a
 * queue of its own that lands on another tenant's: a claim of it took the
 * entry from the other queue (whose claims then searched from the
 * beginning), a prepared transaction that wrote to it kept the entry
 * unused for as long as it stayed prepared, and its waiters shared the
 * slot (until stop 27). Keys live in shared memory only, which a restart
 * makes again.
 */
static inline uint64
key_seed(uint64 space)
{
	return space ^ ((uint64) MyDatabaseId << 32) ^ (wait_shared != NULL ? wait_shared->seed : 0);
}

static inline uint64
queue_key(const char *name, int len)
{
	return hash_bytes_extended((const unsigned char *) name, len, key_seed(WAIT_SEED_QUEUE));
}

static inline uint64
task_key(int64 id)
{
	return hash_bytes_extended((const unsigned char *) &id, sizeof(id), key_seed(WAIT_SEED_TASK));
}

/*
 * The key of a service's freed claim slots: a task of the service left
 * processing, so a claim of a queue at its limit (max_processing, or the
 * service's cap) may find room (65_worker.sql).
 */
static inline uint64
limit_key(int32 owner)
{
	return hash_bytes_extended((const unsigned char *) &owner, sizeof(owner), key_seed(WAIT_SEED_LIMIT));
}

/*
 * Room for one more element in a backend-local list that outlives
 * transactions (TopMemoryContext): the list, grown when used = *max.
 */
void *
task_list_room(void *list, int used, int *max, Size elem, int initial)
{
	if (used < *max)
		return list;
	*max = *max == 0 ? initial : *max * 2;
	return list == NULL ? MemoryContextAlloc(TopMemoryContext, *max * elem) : repalloc(list, *max * elem);
}

/* Inside a subtransaction: log a note of pending[entry], to undo if it rolls back. */
static void
note_sub(int entry, bool claim)
{
	int			level = GetCurrentTransactionNestLevel();

	if (level <= 1)
		return;
	subnotes = task_list_room(subnotes, nsubnotes, &maxsubnotes, sizeof(SubNote), WAIT_PENDING_INITIAL);
	subnotes[nsubnotes].entry = entry;
	subnotes[nsubnotes].level = level;
	subnotes[nsubnotes].claim = claim;
	nsubnotes++;
}

/*
 * Remember a key until the end of the transaction. The last few entries
 * are searched for a repeat (a bulk enqueue notes one queue many times);
 * a repeat further back only costs one more wake of its slot.
 */
static void
note_key(uint64 key, bool broadcast, bool claim)
{
	int			i;
	uint32	   *counter;

	for (i = npending - 1; i >= 0 && i >= npending - 8; i--)
		if (pending[i].key == key && pending[i].broadcast == broadcast)
		{
			counter = claim ? &pending[i].claimed : &pending[i].count;
			if (*counter < PG_UINT32_MAX)
				(*counter)++;
			note_sub(i, claim);
			return;
		}
	pending = task_list_room(pending, npending, &maxpending, sizeof(PendingKey), WAIT_PENDING_INITIAL);
	pending[npending].key = key;
	pending[npending].count = claim ? 0 : 1;
	pending[npending].claimed = claim ? 1 : 0;
	pending[npending].released = 0;
	pending[npending].broadcast = broadcast;
	note_sub(npending, claim);
	npending++;
}

uint64
task_wait_key_of_queue(const char *name, int len)
{
	return queue_key(name, len);
}

uint64
task_wait_key_of_limit(int32 owner)
{
	return limit_key(owner);
}

void
task_wait_note_queue(const char *name, int len)
{
	note_key(queue_key(name, len), false, false);
}

void
task_wait_note_claim(const char *name, int len)
{
	note_key(queue_key(name, len), false, true);
}

void
task_wait_note_limit(int32 owner, bool claim)
{
	note_key(limit_key(owner), false, claim);
}

void
task_wait_note_task(int64 id)
{
	note_key(task_key(id), true, false);
}

/* ---------------------------------------------------------------------
 * SQL-callable functions (internal: task._wait_*)
 * ---------------------------------------------------------------------
 */

/* task._wait_key(queue text) → bigint */
Datum
task_wait_queue_key(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);

	PG_RETURN_INT64((int64) queue_key(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)));
}

/*
 * task._wake_queue(queue text, owner integer) → void: at commit, wake
 * every waiter of the queue, and every waiter held back by a limit of its
 * service (task_queue_configure, when it unpauses a queue or changes its
 * limits: tasks may then be claimable that no commit announced). Each
 * woken waiter looks once and sleeps again if it finds nothing.
 */
Datum
task_wake_queue(PG_FUNCTION_ARGS)
{
	text	   *t = PG_GETARG_TEXT_PP(0);

	note_key(queue_key(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)), true, false);
	note_key(limit_key(PG_GETARG_INT32(1)), true, false);
	PG_RETURN_VOID();
}

/* task._wait_key(id task.task_id) → bigint (task_id is an int64 by value) */
Datum
task_wait_task_key(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64((int64) task_key(PG_GETARG_INT64(0)));
}

/* task._wait_limit_key(owner integer) → bigint */
Datum
task_wait_limit_key(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64((int64) limit_key(PG_GETARG_INT32(0)));
}

static inline WaitSlot *
slot_of(int64 key)
{
	return &wait_shared->slots[(uint64) key % (uint64) wait_shared->nslots];
}

/* The generation of key's slot in *seq; false without shared memory. */
bool
task_wait_generation(int64 key, int64 *seq)
{
	if (wait_shared == NULL)
		return false;
	*seq = (int64) pg_atomic_read_u64(&slot_of(key)->generation);
	return true;
}

/* task._wait_seq(key) → the generation of key's slot; NULL without shared memory */
Datum
task_wait_seq(PG_FUNCTION_ARGS)
{
	int64		seq;

	if (!task_wait_generation(PG_GETARG_INT64(0), &seq))
		PG_RETURN_NULL();
	PG_RETURN_INT64(seq);
}

/*
 * Undo "waiters++" and leave the list when the sleep ends (also by an error
 * or a FATAL exit). A signal that came and was not used (the sleep ended
 * otherwise) goes to the next sleeper; the normal end clears it first.
 */
static void
wait_cleanup(int code, Datum arg)
{
	WaitSlot   *slot = (WaitSlot *) DatumGetPointer(arg);
	WaitLink   *l = &wait_links[MyProc->pgprocno];
	bool		unused;

	SpinLockAcquire(&slot->mutex);
	if (l->listed)
		sleeper_unlink(slot, MyProc->pgprocno);
	unused = pg_atomic_exchange_u32(&l->signalled, 0) != 0;
	if (--slot->sleepers <= 0)
	{
		slot->sleepers = 0;
		slot->mixed = false;
	}
	SpinLockRelease(&slot->mutex);
	pg_atomic_fetch_sub_u32(&slot->waiters, 1);
	if (unused)
		sleepers_signal(slot, 1);
}

/*
 * Whether a function may read a table with the snapshot of the statement
 * that calls it: a STABLE or IMMUTABLE function written in SQL, PL/pgSQL or
 * any other procedural language runs its queries with its caller's
 * snapshot. Built-in and C functions (casts, type I/O, json_agg,
 * current_setting ...) are taken to read none; a VOLATILE function takes a
 * new snapshot for each of its statements (READ COMMITTED).
 */
static bool
reads_with_callers_snapshot(Oid funcid, void *context)
{
	HeapTuple	tp;
	Form_pg_proc proc;
	bool		reads;

	tp = SearchSysCache1(PROCOID, ObjectIdGetDatum(funcid));
	if (!HeapTupleIsValid(tp))
		return true;
	proc = (Form_pg_proc) GETSTRUCT(tp);
	reads = proc->provolatile != PROVOLATILE_VOLATILE &&
		proc->prolang != INTERNALlanguageId && proc->prolang != ClanguageId;
	ReleaseSysCache(tp);
	return reads;
}

static bool
expr_reads_tables(Node *node, void *context)
{
	if (node == NULL)
		return false;
	if (check_functions_in_node(node, reads_with_callers_snapshot, context))
		return true;
	return expression_tree_walker(node, expr_reads_tables, context);
}

/* Whether a plan node (or one below it, subplans included) calls such a function. */
static bool
plan_reads_tables(PlanState *ps, void *context)
{
	Plan	   *plan = ps->plan;

	if (expr_reads_tables((Node *) plan->targetlist, context) ||
		expr_reads_tables((Node *) plan->qual, context))
		return true;
	switch (nodeTag(plan))
	{
		case T_NestLoop:
		case T_MergeJoin:
		case T_HashJoin:
			if (expr_reads_tables((Node *) ((Join *) plan)->joinqual, context))
				return true;
			break;
		case T_Result:
			if (expr_reads_tables(((Result *) plan)->resconstantqual, context))
				return true;
			break;
		case T_Limit:
			if (expr_reads_tables(((Limit *) plan)->limitOffset, context) ||
				expr_reads_tables(((Limit *) plan)->limitCount, context))
				return true;
			break;
		case T_FunctionScan:
			if (expr_reads_tables((Node *) ((FunctionScan *) plan)->functions, context))
				return true;
			break;
		case T_ValuesScan:
			if (expr_reads_tables((Node *) ((ValuesScan *) plan)->values_lists, context))
				return true;
			break;
		default:
			break;
	}
	return planstate_tree_walker(ps, plan_reads_tables, context);
}

/*
 * Whether this sleep may release the backend's xmin: nothing reads a table
 * with the snapshots held now once the sleep is over. The sleep is called
 * by a statement of our own function (task_dequeue, task_wait), which takes
 * a new snapshot for each statement after it (READ COMMITTED, VOLATILE).
 * Every statement running above it, from the top-level one down to the one
 * that called our function (directly, or through wrappers such as the HTTP
 * layer's), must read nothing with its snapshot once the call returns: a
 * SELECT without row locks whose range table, subqueries included, holds
 * no relation, and that calls no function that would read with its
 * snapshot (a STABLE SQL or PL/pgSQL function; see above). Otherwise the
 * xmin is kept: such a statement may read a table with its old snapshot
 * after the wait, and rows it must see could have been pruned.
 */
static bool
may_release_xmin(int own_levels)
{
	int			level;

	if (!executor_depth_exact || executor_depth < own_levels + 1 || executor_depth > MAX_TRACKED_DEPTH ||
		IsolationUsesXactSnapshot())
		return false;
	for (level = 0; level < executor_depth - own_levels; level++)
	{
		QueryDesc  *qd = executor_stack[level];
		PlannedStmt *stmt = qd ? qd->plannedstmt : NULL;
		ListCell   *rc;

		if (stmt == NULL || stmt->commandType != CMD_SELECT || stmt->rowMarks != NIL ||
			qd->planstate == NULL)
			return false;
		foreach(rc, stmt->rtable)
			if (((RangeTblEntry *) lfirst(rc))->rtekind == RTE_RELATION)
				return false;
		if (plan_reads_tables(qd->planstate, NULL))
			return false;
	}
	return true;
}

/*
 * Release the backend's xmin for a sleep (backend_xmin NULL): vacuum and
 * pruning need not keep rows for this backend while it sleeps. The next
 * snapshot (the look after the sleep) sets a new xmin. own_levels: 1 for
 * the waits (the innermost statement is our function's own, which takes a
 * new snapshot for each statement after it); 0 for task._pause, whose
 * caller's statement is checked too (task_maintain_all's PERFORM passes:
 * it reads nothing; SELECT task._pause(...) FROM a table does not).
 */
static void
release_xmin_at(int own_levels)
{
	if (!may_release_xmin(own_levels))
		return;
	InvalidateCatalogSnapshot();
	MyProc->xmin = InvalidTransactionId;
}

static void
release_xmin(void)
{
	release_xmin_at(1);
}

/*
 * End the backend, before it claims anything, when its client has gone.
 * pq_check_connection resets the latch when it finds it set (so that the
 * socket's event can show): a latch set before the check is set again, and
 * the sleep loop reads its signal flag after the check, so that neither a
 * signal nor an interrupt that came just before is lost for a whole turn.
 */
static void
check_client(void)
{
	bool		was_set;

	/*
	 * No client socket: a background worker whose output goes elsewhere, such
	 * as pg_cron's (DestRemote through a shm_mq, no MyProcPort and no wait
	 * set of the socket: pq_check_connection would crash it; until stop 40
	 * a pg_cron job that waited did, and the server restarted)
	 */
	if (whereToSendOutput != DestRemote || MyProcPort == NULL)
		return;
	was_set = MyLatch->is_set;
	if (!pq_check_connection())
		ereport(FATAL,
				(errcode(ERRCODE_CONNECTION_FAILURE),
				 errmsg("connection to client lost while waiting"),
				 errhint("A waiting worker whose client has gone claims nothing; the task stays queued for the next worker.")));
	if (was_set)
		SetLatch(MyLatch);
}

/* A positive timeout in milliseconds, rounded up, at most INT_MAX. */
static long
ms_ceil(double ms)
{
	return ms >= (double) INT_MAX ? INT_MAX : (long) ceil(ms);
}

/*
 * One turn of a sleep until deadline: interrupts first, then the
 * milliseconds left (0: over), and the client checked when there are some.
 */
static long
turn_left(TimestampTz deadline)
{
	long		left;

	CHECK_FOR_INTERRUPTS();
	left = (long) ((deadline - GetCurrentTimestamp() + 999) / 1000);
	if (left <= 0)
		return 0;
	check_client();
	return left;
}

/*
 * The polling fallback: sleep up to WAIT_POLL_MS on the latch (interrupts
 * and postmaster death end it as in a CV sleep), after a NOTICE once.
 */
static void
poll_sleep(long timeout_ms)
{
	if (!fallback_noticed)
	{
		fallback_noticed = true;
		ereport(NOTICE,
				(errmsg("task waits poll every %d ms in this server", WAIT_POLL_MS),
				 errdetail("The task library is not loaded by shared_preload_libraries, so there is no shared memory to sleep on."),
				 errhint("Add task to shared_preload_libraries for wake-on-commit, and restart the server.")));
	}
	release_xmin();
	(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
					 Min(timeout_ms, WAIT_POLL_MS), PG_WAIT_EXTENSION);
	ResetLatch(MyLatch);
	CHECK_FOR_INTERRUPTS();
	check_client();
}

/*
 * task._wait_sleep(key bigint, seq bigint, timeout_ms double precision,
 * label text, is_task boolean) → boolean: sleeps until a commit bumps the generation of
 * key's slot past seq (true) or timeout_ms pass (false). Returns at once
 * (true) when it has moved already. Without shared memory (seq NULL): one
 * poll interval, false.
 */
Datum
task_wait_sleep(PG_FUNCTION_ARGS)
{
	int64		key = PG_GETARG_INT64(0);
	double		timeout_arg = PG_ARGISNULL(2) ? 0 : PG_GETARG_FLOAT8(2);
	long		timeout_ms;
	WaitSlot   *slot;
	uint64		seq;
	volatile bool woken = false;
	volatile bool by_signal = false;
	bool		is_task;
	text	   *label;
	TimestampTz deadline;

	if (timeout_arg <= 0)
		PG_RETURN_BOOL(false);
	timeout_ms = ms_ceil(timeout_arg);

	if (wait_shared == NULL || PG_ARGISNULL(1))
	{
		CHECK_FOR_INTERRUPTS();
		poll_sleep(timeout_ms);
		PG_RETURN_BOOL(false);
	}

	seq = (uint64) PG_GETARG_INT64(1);
	slot = slot_of(key);
	is_task = !PG_ARGISNULL(4) && PG_GETARG_BOOL(4);
	deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), timeout_ms);

	/* a wake this backend holds and did not use (it claimed nothing) */
	pass_wake(true);

	/* detoast before the spinlock: nothing may allocate or fail under it */
	label = PG_ARGISNULL(3) ? NULL : PG_GETARG_TEXT_PP(3);
	SpinLockAcquire(&slot->mutex);
	if (label != NULL)
	{
		int			len = Min(VARSIZE_ANY_EXHDR(label), WAIT_LABEL_BYTES - 1);

		slot->kind = is_task ? WAIT_KIND_TASK : WAIT_KIND_QUEUE;
		slot->database = MyDatabaseId;
		memcpy(slot->label, VARDATA_ANY(label), len);
		slot->label[len] = '\0';
	}
	if (slot->sleepers++ == 0)
		slot->sleeper_key = (uint64) key;
	else if (slot->sleeper_key != (uint64) key)
		slot->mixed = true;
	sleeper_push(slot);
	SpinLockRelease(&slot->mutex);

	pg_atomic_fetch_add_u32(&slot->waiters, 1);
	PG_ENSURE_ERROR_CLEANUP(wait_cleanup, PointerGetDatum(slot));
	{
		WaitLink   *me = &wait_links[MyProc->pgprocno];

		pg_atomic_fetch_add_u64(&slot->sleeps, 1);
		release_xmin();

		/*
		 * A commit between the caller's look and PrepareToSleep moved the
		 * generation already: no sleep. After that, only a signal (or a
		 * broadcast) ends the sleep: a waiter that the commit did not
		 * signal sleeps on, even though the generation moved (the periodic
		 * wakeups to check the client do not look at it).
		 */
		if (pg_atomic_fetch_add_u64(&slot->generation, 0) != seq)
			woken = true;
		while (!woken)
		{
			long		left = turn_left(deadline);

			if (left <= 0)
				break;

			/*
			 * A signal that set the latch while the client check reset it
			 * shows in the flag (written before the latch was set; the
			 * reset is a barrier): no sleep then. Without this, a waiter
			 * signalled between joining the list and its first check slept
			 * its whole turn (1 s) with the list's signals going nowhere:
			 * W6's pickup tail (docs/QUEUE.md, "The lost latch").
			 */
			if (pg_atomic_read_u32(&me->signalled) == 0)
				(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
								 Min(left, WAIT_CHECK_CLIENT_MS), PG_WAIT_EXTENSION);
			ResetLatch(MyLatch);
			if (pg_atomic_read_u32(&me->signalled) == 0)
				continue;		/* a timeout, or the latch set for another reason */
			/* a full barrier: pairs with wake_slot's increment */
			if (pg_atomic_fetch_add_u64(&slot->generation, 0) != seq)
			{
				pg_atomic_write_u32(&me->signalled, 0);
				woken = by_signal = true;
			}
			else
			{
				/*
				 * A wake passed on by a waiter that found nothing, while this
				 * one has seen every commit: back on the list, and sleep on.
				 */
				SpinLockAcquire(&slot->mutex);
				sleeper_push(slot);
				SpinLockRelease(&slot->mutex);
			}
		}
	}
	PG_END_ENSURE_ERROR_CLEANUP(wait_cleanup, PointerGetDatum(slot));
	wait_cleanup(0, PointerGetDatum(slot));

	/*
	 * A queue waiter holds the signal it got until it has looked for work:
	 * passed on if it sleeps again or its transaction aborts (the client
	 * check below included), used up when it commits.
	 */
	if (by_signal && !is_task)
	{
		holding_slot = (int) (slot - wait_shared->slots);
		holding_level = GetCurrentTransactionNestLevel();
	}
	check_client();

	PG_RETURN_BOOL(woken);
}

/* task._wait_attached() → whether this backend has the shared wait slots */
Datum
task_wait_attached(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(wait_shared != NULL);
}

/*
 * task._wait_stats() → the slots that ever had a waiter or a wakeup: slot,
 * kind and label of the last waiter, waiters now, sleeps, wakeups
 * (commits that made work there) and broadcasts (wakeups that found
 * waiters). Empty without shared memory.
 */
Datum
task_wait_stats(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	if (wait_shared == NULL)
		return (Datum) 0;

	for (i = 0; i < wait_shared->nslots; i++)
	{
		WaitSlot   *slot = &wait_shared->slots[i];
		Datum		values[7];
		bool		nulls[7] = {0};
		uint64		generation = pg_atomic_read_u64(&slot->generation);
		uint64		sleeps = pg_atomic_read_u64(&slot->sleeps);
		uint32		waiters = pg_atomic_read_u32(&slot->waiters);
		WaitKind	kind;
		Oid			database;
		char		label[WAIT_LABEL_BYTES];

		if (generation == 0 && sleeps == 0 && waiters == 0)
			continue;

		SpinLockAcquire(&slot->mutex);
		kind = slot->kind;
		database = slot->database;
		memcpy(label, slot->label, WAIT_LABEL_BYTES);
		SpinLockRelease(&slot->mutex);

		/* another database's queue names and task ids are not shown */
		if (database != MyDatabaseId)
			kind = WAIT_KIND_NONE;

		values[0] = Int32GetDatum(i);
		if (kind == WAIT_KIND_NONE)
		{
			nulls[1] = true;
			nulls[2] = true;
		}
		else
		{
			values[1] = CStringGetTextDatum(kind == WAIT_KIND_TASK ? "task" : "queue");
			values[2] = CStringGetTextDatum(label);
		}
		values[3] = Int32GetDatum((int32) waiters);
		values[4] = Int64GetDatum((int64) sleeps);
		values[5] = Int64GetDatum((int64) generation);
		values[6] = Int64GetDatum((int64) pg_atomic_read_u64(&slot->broadcasts));
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * task._pause(ms double precision): sleep ms milliseconds on the latch,
 * holding no xmin outside a transaction block when no statement running,
 * its caller's included, reads a table afterwards (the test of the waits;
 * task_maintain_all's PERFORM calls it directly, and CALL opens no
 * executor level).
 * Interrupts end it as they end a wait; a client gone ends the backend
 * (FATAL), as it ends a waiter's. Without the library preloaded it
 * sleeps all the same, holding its xmin.
 */
Datum
task_pause(PG_FUNCTION_ARGS)
{
	double		ms = PG_ARGISNULL(0) ? 0 : PG_GETARG_FLOAT8(0);
	TimestampTz deadline;

	if (!(ms > 0))
		PG_RETURN_VOID();
	deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), ms_ceil(ms));
	/* not in a transaction block: no cursor of the caller's lives on */
	if (!IsTransactionBlock())
		release_xmin_at(0);
	for (;;)
	{
		long		left = turn_left(deadline);

		if (left <= 0)
			break;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 Min(left, WAIT_CHECK_CLIENT_MS), PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
	}
	PG_RETURN_VOID();
}
