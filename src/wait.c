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
 * Each slot has a ConditionVariable, a generation (bumped by every commit
 * that made work for one of its keys) and counters. The protocol that
 * makes a commit between a waiter's check and its sleep impossible to miss:
 *
 *	waiter:    seq := generation (task._wait_seq); look for work with a new
 *			   snapshot; if none: waiters++, ConditionVariablePrepareToSleep,
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
 * (task_wait_note_queue / task_wait_note_task) in a small backend-local
 * list, without locks or shared memory; the commit callback wakes those
 * slots, and commit or abort clears the list. Entries of a rolled-back
 * subtransaction stay in the list and cost a spurious wakeup at most.
 * PREPARE TRANSACTION wakes nobody: waiters see prepared work at their
 * next wakeup or timeout.
 *
 * Without shared_preload_libraries there is no table: task._wait_sleep
 * sleeps 50 ms (or less, up to its timeout) and the callers poll, after a
 * NOTICE once per backend.
 */
#include "postgres.h"

#include <limits.h>
#include <math.h>

#include "access/xact.h"
#include "common/hashfn.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "port/atomics.h"
#include "storage/condition_variable.h"
#include "storage/ipc.h"
#include "storage/latch.h"
#include "storage/lwlock.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
#include "utils/wait_event.h"

#include "task.h"

PG_FUNCTION_INFO_V1(task_wait_queue_key);
PG_FUNCTION_INFO_V1(task_wait_task_key);
PG_FUNCTION_INFO_V1(task_wait_seq);
PG_FUNCTION_INFO_V1(task_wait_sleep);
PG_FUNCTION_INFO_V1(task_wait_attached);
PG_FUNCTION_INFO_V1(task_wait_stats);

/* seeds of the two key spaces */
#define WAIT_SEED_QUEUE		UINT64CONST(0x7461736b2d717565)
#define WAIT_SEED_TASK		UINT64CONST(0x7461736b2d746964)

/* the polling interval without shared memory, in milliseconds */
#define WAIT_POLL_MS		50

/* label of the last waiter of a slot, shown by task.wait_stats */
#define WAIT_LABEL_BYTES	64

/* distinct keys a transaction remembers before it wakes every slot */
#define WAIT_PENDING_MAX	64

typedef enum WaitKind
{
	WAIT_KIND_NONE,
	WAIT_KIND_QUEUE,
	WAIT_KIND_TASK
} WaitKind;

typedef struct WaitSlot
{
	ConditionVariable cv;
	pg_atomic_uint64 generation;	/* commits that made work for a key here */
	pg_atomic_uint64 broadcasts;	/* of those, the ones that found waiters */
	pg_atomic_uint64 sleeps;		/* waits that went to sleep here */
	pg_atomic_uint32 waiters;		/* backends waiting here now */
	slock_t		mutex;				/* protects kind and label */
	WaitKind	kind;
	char		label[WAIT_LABEL_BYTES];
} WaitSlot;

typedef struct WaitShared
{
	int			nslots;
	WaitSlot	slots[FLEXIBLE_ARRAY_MEMBER];
} WaitShared;

/* task.wait_slots, a postmaster setting */
int			task_wait_slots = 1024;

static WaitShared *wait_shared = NULL;

static shmem_request_hook_type prev_shmem_request_hook = NULL;
static shmem_startup_hook_type prev_shmem_startup_hook = NULL;

/* what the current transaction made work for (backend-local, no allocation) */
static uint64 pending[WAIT_PENDING_MAX];
static int	npending = 0;
static bool pending_all = false;

static bool fallback_noticed = false;

static Size
wait_shmem_size(void)
{
	return add_size(offsetof(WaitShared, slots),
					mul_size(task_wait_slots, sizeof(WaitSlot)));
}

static void
wait_shmem_request(void)
{
	if (prev_shmem_request_hook)
		prev_shmem_request_hook();
	RequestAddinShmemSpace(wait_shmem_size());
}

static void
wait_shmem_startup(void)
{
	bool		found;

	if (prev_shmem_startup_hook)
		prev_shmem_startup_hook();

	/*
	 * No LWLock tranche is needed: slots are found by arithmetic, counters
	 * are atomics, the label has a spinlock, and each ConditionVariable
	 * protects its wait list with its own spinlock.
	 */
	LWLockAcquire(AddinShmemInitLock, LW_EXCLUSIVE);
	wait_shared = ShmemInitStruct("task wait slots", wait_shmem_size(), &found);
	if (!found)
	{
		int			i;

		wait_shared->nslots = task_wait_slots;
		for (i = 0; i < task_wait_slots; i++)
		{
			WaitSlot   *slot = &wait_shared->slots[i];

			ConditionVariableInit(&slot->cv);
			pg_atomic_init_u64(&slot->generation, 0);
			pg_atomic_init_u64(&slot->broadcasts, 0);
			pg_atomic_init_u64(&slot->sleeps, 0);
			pg_atomic_init_u32(&slot->waiters, 0);
			SpinLockInit(&slot->mutex);
			slot->kind = WAIT_KIND_NONE;
			slot->label[0] = '\0';
		}
	}
	LWLockRelease(AddinShmemInitLock);
}

/* Wake the waiters of one slot: a commit made work for one of its keys. */
static void
wake_slot(WaitSlot *slot)
{
	pg_atomic_fetch_add_u64(&slot->generation, 1);
	if (pg_atomic_read_u32(&slot->waiters) > 0)
	{
		pg_atomic_fetch_add_u64(&slot->broadcasts, 1);
		ConditionVariableBroadcast(&slot->cv);
	}
}

static void
wait_xact_callback(XactEvent event, void *arg)
{
	if (npending == 0 && !pending_all)
		return;

	if (event == XACT_EVENT_COMMIT && wait_shared != NULL)
	{
		int			i;

		if (pending_all)
			for (i = 0; i < wait_shared->nslots; i++)
				wake_slot(&wait_shared->slots[i]);
		else
			for (i = 0; i < npending; i++)
				wake_slot(&wait_shared->slots[pending[i] % (uint64) wait_shared->nslots]);
	}

	/* every end of a transaction forgets it; an abort wakes nobody */
	if (event == XACT_EVENT_COMMIT || event == XACT_EVENT_ABORT ||
		event == XACT_EVENT_PREPARE ||
		event == XACT_EVENT_PARALLEL_COMMIT || event == XACT_EVENT_PARALLEL_ABORT)
	{
		npending = 0;
		pending_all = false;
	}
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
}

static inline uint64
queue_key(const char *name, int len)
{
	return hash_bytes_extended((const unsigned char *) name, len, WAIT_SEED_QUEUE);
}

static inline uint64
task_key(int64 id)
{
	return hash_bytes_extended((const unsigned char *) &id, sizeof(id), WAIT_SEED_TASK);
}

static void
note_key(uint64 key)
{
	int			i;

	if (pending_all)
		return;
	for (i = 0; i < npending; i++)
		if (pending[i] == key)
			return;
	if (npending == WAIT_PENDING_MAX)
	{
		pending_all = true;
		return;
	}
	pending[npending++] = key;
}

void
task_wait_note_queue(const char *name, int len)
{
	note_key(queue_key(name, len));
}

void
task_wait_note_task(int64 id)
{
	note_key(task_key(id));
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

/* task._wait_key(id task.task_id) → bigint (task_id is an int64 by value) */
Datum
task_wait_task_key(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64((int64) task_key(PG_GETARG_INT64(0)));
}

static inline WaitSlot *
slot_of(int64 key)
{
	return &wait_shared->slots[(uint64) key % (uint64) wait_shared->nslots];
}

/* task._wait_seq(key) → the generation of key's slot; NULL without shared memory */
Datum
task_wait_seq(PG_FUNCTION_ARGS)
{
	if (wait_shared == NULL)
		PG_RETURN_NULL();
	PG_RETURN_INT64((int64) pg_atomic_read_u64(&slot_of(PG_GETARG_INT64(0))->generation));
}

/* Undo "waiters++" when the sleep ends by an error or a FATAL exit. */
static void
wait_cleanup(int code, Datum arg)
{
	WaitSlot   *slot = (WaitSlot *) DatumGetPointer(arg);

	ConditionVariableCancelSleep();
	pg_atomic_fetch_sub_u32(&slot->waiters, 1);
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
	(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
					 Min(timeout_ms, WAIT_POLL_MS), PG_WAIT_EXTENSION);
	ResetLatch(MyLatch);
	CHECK_FOR_INTERRUPTS();
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
	TimestampTz deadline;

	if (timeout_arg <= 0)
		PG_RETURN_BOOL(false);
	timeout_ms = timeout_arg >= (double) INT_MAX ? INT_MAX : (long) ceil(timeout_arg);

	if (wait_shared == NULL || PG_ARGISNULL(1))
	{
		poll_sleep(timeout_ms);
		PG_RETURN_BOOL(false);
	}

	seq = (uint64) PG_GETARG_INT64(1);
	slot = slot_of(key);
	deadline = TimestampTzPlusMilliseconds(GetCurrentTimestamp(), timeout_ms);

	if (!PG_ARGISNULL(3))
	{
		text	   *label = PG_GETARG_TEXT_PP(3);
		int			len = Min(VARSIZE_ANY_EXHDR(label), WAIT_LABEL_BYTES - 1);

		SpinLockAcquire(&slot->mutex);
		slot->kind = !PG_ARGISNULL(4) && PG_GETARG_BOOL(4) ? WAIT_KIND_TASK : WAIT_KIND_QUEUE;
		memcpy(slot->label, VARDATA_ANY(label), len);
		slot->label[len] = '\0';
		SpinLockRelease(&slot->mutex);
	}

	pg_atomic_fetch_add_u32(&slot->waiters, 1);
	PG_ENSURE_ERROR_CLEANUP(wait_cleanup, PointerGetDatum(slot));
	{
		ConditionVariablePrepareToSleep(&slot->cv);
		pg_atomic_fetch_add_u64(&slot->sleeps, 1);
		for (;;)
		{
			long		left;

			CHECK_FOR_INTERRUPTS();
			/* a full barrier: pairs with wake_slot's increment */
			if (pg_atomic_fetch_add_u64(&slot->generation, 0) != seq)
			{
				woken = true;
				break;
			}
			left = (long) ((deadline - GetCurrentTimestamp() + 999) / 1000);
			if (left <= 0)
				break;
			(void) ConditionVariableTimedSleep(&slot->cv, left, PG_WAIT_EXTENSION);
		}
	}
	PG_END_ENSURE_ERROR_CLEANUP(wait_cleanup, PointerGetDatum(slot));
	wait_cleanup(0, PointerGetDatum(slot));

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
		char		label[WAIT_LABEL_BYTES];

		if (generation == 0 && sleeps == 0 && waiters == 0)
			continue;

		SpinLockAcquire(&slot->mutex);
		kind = slot->kind;
		memcpy(label, slot->label, WAIT_LABEL_BYTES);
		SpinLockRelease(&slot->mutex);

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
