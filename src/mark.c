/*
 * mark.c
 *		The claim mark: where a queue's claim starts its search of the
 *		runnable index, so that it does not walk the entries of tasks
 *		claimed since the oldest snapshot of the cluster was taken.
 *
 * A claim reads task_runnable_idx (hashtext(queue), priority DESC, run_at, id) in
 * order, with SKIP LOCKED. A claimed task leaves the index only when
 * vacuum removes its old version, and its entry can be skipped cheaply
 * (marked dead by the first scan that finds the old version dead to
 * everyone) only when no snapshot can still see it. While one snapshot is
 * held open (a long report, a forgotten REPEATABLE READ transaction, a
 * replica's hot_standby_feedback), every claim walks every entry claimed
 * since, one heap visit each: the published failure of SKIP LOCKED queues
 * (docs/QUEUE.md, W6).
 *
 * The mark M of a queue is a position in that order with this property:
 *
 *	  every committed task of the queue that is runnable now (queued or
 *	  rescheduled; due or not, locked or not, held back by its ordering key
 *	  or not) sorts at M or after it
 *
 * except for the moment between a commit becoming visible and its
 * callback running (below). A claim then starts at M instead of at the
 * start of the queue's index range, and a task before M cannot be missed.
 *
 * Lowering. The transition trigger notes every row it writes that is
 * runnable afterwards (insert, requeue, retry, a new priority or run_at,
 * a move to another queue) with its position, in a backend-local list:
 * the smallest per queue. At commit (XACT_EVENT_COMMIT, after the commit
 * is visible, before wait.c wakes anyone) each noted queue's mark is
 * lowered to that position. Lowering is never wrong, only slower.
 *
 * Raising. Only a refresh raises a mark: task._claim reads the first
 * runnable entry at or after M with an ordinary MVCC read (no SKIP LOCKED,
 * no due or ordering-key filter, so locked, future and held-back tasks
 * all stop it) and stores its position (or "empty") with task._mark_set.
 * A commit may make a task runnable that the refresh's snapshot did not
 * see, so the entry also keeps the first position committed since the
 * last store ("recent"), and a store takes the lower of the two. A
 * refresh carries a ticket, the entry's epoch read before the refresh's
 * snapshot was taken; every store bumps the epoch (as do a reset and a
 * commit for a queue that does not hold the entry), and a store whose
 * ticket is stale is dropped: "recent" covers every commit since the
 * ticket only while no store has happened since. (A first version dropped
 * the store on every commit of the queue instead; under load hardly a
 * refresh got through, the mark stayed behind, and a held snapshot brought
 * back the walk.) A refresh runs on every task.claim_mark_refresh-th claim
 * of a queue (8), so a claim walks at most about that many entries of
 * claimed tasks before its first runnable one.
 *
 * Safety net. Some writes are not noted. ALTER TABLE task.task ... DISABLE
 * TRIGGER and ENABLE TRIGGER (as a restore or a test pinning times does
 * around its writes) invalidate the table's relation cache entry: every
 * backend that has claimed processes that invalidation before its next
 * claim, reads task.task's rows of pg_trigger again (their oids, xmins and
 * enabled states), and makes all marks unknown when they differ from what
 * it saw last (so does a cache reset). Each entry also keeps the
 * signature its marks were kept under, and a backend that sees another
 * forgets them (entry_triggers): one whose first claim comes after the
 * write has nothing of its own to compare with (spec mark_safety). VACUUM and ANALYZE invalidate the
 * entry too, and often while a snapshot is held, but change no trigger: a
 * first version forgot every mark on any invalidation, and each claimer
 * then read the whole queue from the beginning (0.76 s a claim after three
 * minutes of W6). A PREPARE
 * TRANSACTION (whose commit may come from another backend) makes its
 * queues' marks unknown, and keeps them unused until it has ended
 * (note_prepared); after a restart, no mark is used while a prepared
 * transaction that survived it is open, and an entry where one found no
 * room is not used until every prepared transaction that found no room
 * has ended (MarkShared; until stop 27 no entry was, and any tenant that
 * could PREPARE switched off the marks of every queue of the cluster with
 * five prepared transactions on one queue of its own, for as long as it
 * kept them). A write made with session_replication_role = replica (a
 * subscriber, a load) is noted too: the trigger is enabled ALWAYS and
 * takes only its notes there (transition.c). For a defect of ours, one
 * claim of a queue refreshes its mark from the beginning of the queue
 * every MARK_CLAIM_FULL_MS (an hour; every minute until stop 38, which
 * under a held snapshot stalled that claim's worker for up to half a
 * second) while the others go on with the mark; every
 * MARK_FULL_REFRESH_MS while the trigger is not enabled ALWAYS (a plain
 * ENABLE TRIGGER after a DISABLE leaves it ORIGIN: triggers_always). An
 * unknown mark is refreshed from the beginning of the queue.
 *
 * Claimers at once (off by default). The same entries can count the
 * transactions that hold claimed tasks of a queue: with
 * task.claim_concurrency set, a claim first takes one of its places
 * (0: 4 per CPU) and keeps it until its
 * transaction ends, or gives it back at once when it claimed nothing. A
 * claim that finds every place taken sleeps on the entry's list (wait.c's
 * lists: a place given back wakes the latest to sleep, whose backend's
 * caches are warm) until one is given back. While none is, it waits at
 * most task.claim_wait (100 ms) and then goes ahead anyway: a transaction
 * that holds its claim open for long (or a lock a place holder waits for)
 * delays the others by that much, never blocks them. While places go
 * round it waits on, at most ten times as long. The places were the
 * default while a claim locked the row of every claim in flight before
 * its own (SKIP LOCKED visits a locked row); since the claim checks the
 * row version first (task._claimable_version), they only shrink the
 * commit groups: 64 workers drain about a quarter faster without them
 * (docs/QUEUE.md, "Claimers at once").
 *
 * task.claim_mark_refresh = 0 turns marks off for a session's claims (a
 * comparison, a way out).
 *
 * Only READ COMMITTED: a refresh needs a snapshot taken after its ticket
 * was read, which a transaction snapshot is not; under REPEATABLE READ or
 * SERIALIZABLE task._mark_get returns NULL and the claim searches from the
 * beginning, as without shared memory.
 *
 * Marks live in a direct-mapped table of task.wait_slots entries, found
 * by the queue's wait key (its name hashed with the database oid); an
 * entry remembers the key and the queue's owner it holds, so two queues
 * that land on one entry take it from each other (each then refreshes
 * from the beginning) and never use each other's mark.
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/transam.h"
#include "access/twophase.h"
#include "access/xact.h"
#include "catalog/pg_class.h"
#include "catalog/pg_trigger.h"
#include "commands/trigger.h"
#include "common/hashfn.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/bufmgr.h"
#include "storage/latch.h"
#include "storage/proc.h"
#include "storage/procarray.h"
#include "storage/shmem.h"
#include "storage/spin.h"
#include "catalog/namespace.h"
#include "utils/builtins.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/fmgroids.h"
#include "utils/rel.h"
#include "utils/timestamp.h"
#include "utils/wait_event.h"

#include <unistd.h>

#include "task.h"

PG_FUNCTION_INFO_V1(task_mark_get);
PG_FUNCTION_INFO_V1(task_mark_set);
PG_FUNCTION_INFO_V1(task_mark_done);
PG_FUNCTION_INFO_V1(task_mark_peek);
PG_FUNCTION_INFO_V1(task_lease_from);
PG_FUNCTION_INFO_V1(task_lease_set);

/* task.claim_mark_refresh: a refresh every this many claims of a queue */
int			task_claim_mark_refresh = 8;

/* set by hotpath.c while a task_dequeue's lease rescue runs */
bool		task_lease_look_in_claim = false;

/* task.claim_concurrency: places per queue (-1: no limit; 0: 4 per CPU) */
int			task_claim_concurrency = -1;

/*
 * task.claim_wait: how long a claim waits for a place while none is given
 * back (holders that keep their transactions open), in milliseconds; while
 * places go round it waits on, at most CLAIM_WAIT_ROUNDS times as long
 */
int			task_claim_wait = 100;
#define CLAIM_WAIT_ROUNDS	10

/* places a transaction holds before it stops counting (several queues) */
#define CLAIM_HELD_MAX	16

/*
 * The safety net's looks from the beginning of a queue. A rescue's look at
 * its queue's leases: every MARK_FULL_REFRESH_MS from task_maintain
 * (housekeeping), at most every MARK_CLAIM_FULL_MS from a claim that came
 * up short (a worker's task_dequeue). The claim mark: one claim of the
 * queue every MARK_CLAIM_FULL_MS. Under a held snapshot a look from the
 * beginning reads every version kept since, a second of a core at the
 * fourth minute of W6, and while it ran its worker stopped and a backlog
 * built behind it (docs/QUEUE.md, stops 37 and 38). Every write is noted
 * (under session_replication_role = replica too, since stop 38): what the
 * looks would find is a defect of ours, not a case.
 */
#define MARK_FULL_REFRESH_MS	60000
#define MARK_CLAIM_FULL_MS		3600000

/* prepared transactions an entry remembers (more: it is not used until they end) */
#define MARK_PREPARED_MAX	4

/* queues a transaction remembers before its list grows */
#define MARK_PENDING_INITIAL	16

typedef struct MarkPos
{
	int32		priority;
	TimestampTz run_at;
	int64		id;
} MarkPos;

typedef enum MarkState
{
	MARK_UNKNOWN,				/* refresh from the beginning */
	MARK_AT,					/* nothing runnable before pos */
	MARK_EMPTY					/* nothing runnable at all */
} MarkState;

typedef struct ClaimMark
{
	slock_t		mutex;
	uint64		key;			/* the queue's wait key */
	int32		owner;			/* and its owner */
	MarkState	state;
	MarkPos		pos;
	uint64		generation;		/* epoch: bumped by every store and reset */
	bool		recent_any;		/* a commit made the queue runnable work */
	MarkPos		recent;			/* since the last store: the first position */
	uint32		claims;			/* claims since the last refresh */
	TimestampTz full_at;		/* the last refresh from the beginning */
	int			claimers;		/* places taken (task.claim_concurrency) */
	int			waiting;		/* claims waiting for a place: the latest, by
								 * pgprocno (-1: none; wait.c's lists) */
	uint64		given_back;		/* places given back, ever */
	/* the lease mark: no processing task's lease_until is before lease_from */
	bool		lease_known;
	TimestampTz lease_from;
	uint64		lease_generation;
	bool		lease_recent_any;
	TimestampTz lease_recent;	/* the first lease committed since the last store */
	TimestampTz lease_full_at;
	/*
	 * task.task's triggers as the backend that last used the entry saw
	 * them (watch_task_table's signature): a backend that sees others
	 * forgets the entry's marks (entry_triggers)
	 */
	uint64		triggers;
	/* prepared transactions that wrote a row of the entry's queue (below) */
	int			nprepared;
	TransactionId prepared[MARK_PREPARED_MAX];
	/*
	 * MarkShared's overflows when the last one that found no room here was
	 * noted: the entry is not used while this is above overflows_ended
	 */
	uint64		overflow;
} ClaimMark;

/* a prepared transaction no entry names (MarkShared's list) */
typedef struct GlobalPrepared
{
	TransactionId xid;
	bool		all;			/* survived a restart: no entry is used */
} GlobalPrepared;

typedef struct MarkShared
{
	/*
	 * Prepared transactions no entry can name: those that survived a
	 * restart (their rows were written before it; read from
	 * pg_prepared_xacts by the first use of a mark, while unchecked):
	 * while any of them is in progress no entry is used; and those that
	 * found no room among an entry's (overflows counts them): the entries
	 * they found full are not used until the list has been seen empty
	 * (overflows_ended), the others are. At most max_prepared_xacts are
	 * prepared at once, and the ended ones are dropped before one is
	 * added: the list (after marks[]) has room.
	 */
	slock_t		mutex;			/* unchecked, nglobal, the counts, the list */
	bool		unchecked;
	int			nglobal;
	uint64		overflows;
	uint64		overflows_ended;
	int			nmarks;
	ClaimMark	marks[FLEXIBLE_ARRAY_MEMBER];
} MarkShared;

static MarkShared *mark_shared = NULL;

/* what the current transaction made runnable: the first position per queue */
typedef struct PendingMark
{
	uint64		key;
	int32		owner;
	bool		has_pos;
	MarkPos		pos;			/* the first runnable row written */
	bool		has_lease;
	TimestampTz lease;			/* the first lease_until of a processing row written */
	bool		has_taken;
	MarkPos		taken;			/* the first row this transaction took out of runnable */
	bool		has_lease_taken;
	TimestampTz lease_taken;	/* the first lease_until this transaction changed or ended */
} PendingMark;

/* the ticket of this backend's last task._lease_from */
static bool lease_ticketed = false;
static uint64 lease_ticket_key;
static int32 lease_ticket_owner;
static uint64 lease_ticket;
static bool lease_ticket_full;

/* task.task in this database (InvalidOid: not looked up yet) */
static Oid	task_relid = InvalidOid;
static bool callback_registered = false;

/* task.task's triggers as this backend saw them last (after an invalidation) */
static bool triggers_recheck = true;
static bool triggers_known = false;
static uint64 triggers_seen = 0;

/*
 * Whether the transition trigger is enabled ALWAYS, as installed (then a
 * write under session_replication_role = replica is noted too): the
 * claim's look from the beginning every MARK_CLAIM_FULL_MS; else (ENABLE
 * TRIGGER after a DISABLE resets it to ORIGIN) every MARK_FULL_REFRESH_MS.
 */
static bool triggers_always = false;

/* the entries this transaction holds a place in */
static int	held[CLAIM_HELD_MAX];
static int	nheld = 0;

static PendingMark *pending = NULL;
static int	npending = 0;
static int	maxpending = 0;
static TransactionId pending_xid = InvalidTransactionId;	/* when preparing */

static uint64 note_global_prepared(TransactionId xid);

/* a before b in claim order: higher priority first, then run_at, then id */
static inline bool
pos_before(const MarkPos *a, const MarkPos *b)
{
	if (a->priority != b->priority)
		return a->priority > b->priority;
	if (a->run_at != b->run_at)
		return a->run_at < b->run_at;
	return a->id < b->id;
}

void
task_mark_init(void)
{
	DefineCustomIntVariable("task.claim_mark_refresh",
							"Claims of a queue between two refreshes of its claim mark.",
							"A claim starts its search where nothing runnable sorts before; every this many claims of a queue first move that mark up to the queue's first runnable task. Lower: fewer index entries read per claim under a held snapshot, one more statement more often. 0: no marks, every claim searches from the beginning of its queue.",
							&task_claim_mark_refresh,
							8, 0, 1000000,
							PGC_USERSET,
							0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("task.claim_concurrency",
							"Transactions holding claimed tasks of one queue at once, beyond which a claim waits for one to end (task.claim_wait).",
							"-1 (the default): no limit; 0: four per CPU of the server. Waits only happen with more workers than that draining one queue.",
							&task_claim_concurrency,
							-1, -1, 100000,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);
	DefineCustomIntVariable("task.claim_wait",
							"How long a claim waits for a place among a queue's claimers while none is given back, before it goes ahead anyway.",
							"While places are given back (other claims end) it waits on, at most ten times as long: the latest claim to wait gets the next place. 0: never wait.",
							&task_claim_wait,
							100, 0, 60000,
							PGC_SUSET,
							GUC_UNIT_MS,
							NULL, NULL, NULL);
}

static int
claim_limit(void)
{
	static int	cpus = 0;

	if (task_claim_concurrency != 0)
		return task_claim_concurrency;
	if (cpus == 0)
	{
		long		n = sysconf(_SC_NPROCESSORS_ONLN);

		cpus = n > 0 ? (int) Min(n, 10000) : 1;
	}
	return 4 * cpus;
}

/*
 * Take a place among the claimers of entry i (held until the transaction
 * ends, or the backend sleeps for work): wait while all are taken (see
 * the head of this file for how long), then take one anyway. A place given back
 * wakes the latest claim to wait, whose backend ran last and whose caches
 * are warm; with the oldest first, as a condition variable wakes, every
 * claim of a drain with more workers than places ran in the backend idle
 * the longest (docs/QUEUE.md, "Claimers at once").
 */
static void
claim_admit(int i)
{
	ClaimMark  *m = &mark_shared->marks[i];
	int			limit = claim_limit();
	TimestampTz start;
	TimestampTz deadline;
	TimestampTz most;
	uint64		seen = 0;
	int			k;

	if (limit < 0 || nheld >= CLAIM_HELD_MAX)
		return;
	for (k = 0; k < nheld; k++)
		if (held[k] == i)
			return;
	start = GetCurrentTimestamp();
	deadline = TimestampTzPlusMilliseconds(start, task_claim_wait);
	most = TimestampTzPlusMilliseconds(start, (int64) task_claim_wait * CLAIM_WAIT_ROUNDS);
	for (;;)
	{
		TimestampTz now = GetCurrentTimestamp();
		long		left;
		bool		taken = false;

		SpinLockAcquire(&m->mutex);
		/* places went round since the last deadline: wait on, up to the most */
		if (now >= deadline && m->given_back != seen && now < most)
			deadline = Min(TimestampTzPlusMilliseconds(now, task_claim_wait), most);
		seen = m->given_back;
		left = TimestampDifferenceMilliseconds(now, deadline);
		if (m->claimers < limit || left <= 0)
		{
			m->claimers++;
			taken = true;
		}
		/* off the list while awake: an error below leaves nothing behind */
		if (task_sleeper_listed())
			task_sleeper_unlink(&m->waiting, MyProc->pgprocno);
		if (!taken)
			task_sleeper_push(&m->waiting);
		SpinLockRelease(&m->mutex);
		if (taken)
			break;
		(void) WaitLatch(MyLatch, WL_LATCH_SET | WL_TIMEOUT | WL_EXIT_ON_PM_DEATH,
						 left, PG_WAIT_EXTENSION);
		ResetLatch(MyLatch);
		if (INTERRUPTS_PENDING_CONDITION())
		{
			SpinLockAcquire(&m->mutex);
			if (task_sleeper_listed())
				task_sleeper_unlink(&m->waiting, MyProc->pgprocno);
			SpinLockRelease(&m->mutex);
			CHECK_FOR_INTERRUPTS();
		}
	}
	held[nheld++] = i;
}

/*
 * Entry m's marks and what it remembers of commits, forgotten (a new
 * queue takes it, or task.task's triggers changed since they were kept);
 * stamped with the triggers this backend sees. Under m's spinlock.
 */
static void
forget_entry(ClaimMark *m)
{
	m->triggers = triggers_seen;
	m->state = MARK_UNKNOWN;
	m->generation++;
	m->recent_any = false;
	m->lease_known = false;
	m->lease_generation++;
	m->lease_recent_any = false;
}

/*
 * Entry m now holds the marks of queue key: if it held another queue's,
 * neither of them is known for this one. Under m's spinlock.
 */
static void
take_entry(ClaimMark *m, uint64 key, int32 owner)
{
	if (m->key == key && m->owner == owner)
		return;
	m->key = key;
	m->owner = owner;
	forget_entry(m);
}

/* Give back the place held in entry i, if any. */
static bool
release_place(int i)
{
	int			k;

	for (k = 0; k < nheld; k++)
		if (held[k] == i)
		{
			ClaimMark  *m = &mark_shared->marks[i];

			SpinLockAcquire(&m->mutex);
			if (m->claimers > 0)
				m->claimers--;
			m->given_back++;
			SpinLockRelease(&m->mutex);
			task_sleepers_signal(&m->mutex, &m->waiting, 1);
			held[k] = held[--nheld];
			return true;
		}
	return false;
}

/* Give back every place this backend holds: its transaction ends. */
static void
task_mark_release_places(void)
{
	if (mark_shared == NULL)
	{
		nheld = 0;
		return;
	}
	while (nheld > 0)
		(void) release_place(held[nheld - 1]);
}

/*
 * task._mark_done(queue text) → boolean: the claim took nothing, so it
 * holds no row of the queue: give its place back (true when it held one).
 */
Datum
task_mark_done(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(task_mark_give_back(PG_GETARG_TEXT_PP(0)));
}

bool
task_mark_give_back(text *queue)
{
	uint64		key;

	if (mark_shared == NULL)
		return false;
	key = task_wait_key_of_queue(VARDATA_ANY(queue), VARSIZE_ANY_EXHDR(queue));
	return release_place((int) (key % (uint64) mark_shared->nmarks));
}

Size
task_mark_shmem_size(void)
{
	return add_size(add_size(offsetof(MarkShared, marks),
							 mul_size(task_wait_slots, sizeof(ClaimMark))),
					mul_size(Max(max_prepared_xacts, 1), sizeof(GlobalPrepared)));
}

/* the list of MarkShared's prepared transactions no entry names */
static inline GlobalPrepared *
global_prepared(void)
{
	return (GlobalPrepared *) &mark_shared->marks[mark_shared->nmarks];
}

/* called by wait.c's shmem startup hook, under AddinShmemInitLock */
void
task_mark_shmem_init(void)
{
	bool		found;

	mark_shared = ShmemInitStruct("task claim marks", task_mark_shmem_size(), &found);
	if (!found)
	{
		int			i;

		mark_shared->nmarks = task_wait_slots;
		for (i = 0; i < task_wait_slots; i++)
		{
			ClaimMark  *m = &mark_shared->marks[i];

			SpinLockInit(&m->mutex);
			m->key = 0;
			m->owner = 0;
			m->state = MARK_UNKNOWN;
			m->generation = 0;
			m->recent_any = false;
			m->claims = 0;
			m->full_at = 0;
			m->claimers = 0;
			m->waiting = -1;
			m->given_back = 0;
			m->lease_known = false;
			m->lease_from = 0;
			m->lease_generation = 0;
			m->lease_recent_any = false;
			m->lease_full_at = 0;
			m->triggers = 0;
			m->nprepared = 0;
			m->overflow = 0;
		}
		SpinLockInit(&mark_shared->mutex);
		mark_shared->unchecked = max_prepared_xacts > 0;
		mark_shared->nglobal = 0;
		mark_shared->overflows = 0;
		mark_shared->overflows_ended = 0;
	}
}

static inline ClaimMark *
mark_of(uint64 key)
{
	return &mark_shared->marks[key % (uint64) mark_shared->nmarks];
}

/*
 * A relation cache invalidation of task.task (its triggers disabled or
 * enabled, its definition changed, its statistics updated), or of every
 * relation (a cache reset): make every mark unknown. No catalog access
 * here; the oid is looked up again by the next task._mark_get.
 */
static void
mark_relcache_callback(Datum arg, Oid relid)
{
	if (mark_shared == NULL || (relid != InvalidOid && relid != task_relid))
		return;
	/* no catalog access here: the next use of a mark looks at the triggers */
	triggers_recheck = true;
	if (relid == InvalidOid)
		task_relid = InvalidOid;
}

/* Forget every mark: a write may have bypassed the transition trigger. */
static void
reset_all_marks(void)
{
	int			i;

	for (i = 0; i < mark_shared->nmarks; i++)
	{
		ClaimMark  *m = &mark_shared->marks[i];

		SpinLockAcquire(&m->mutex);
		m->state = MARK_UNKNOWN;
		m->generation++;
		m->lease_known = false;
		m->lease_generation++;
		SpinLockRelease(&m->mutex);
	}
}

/*
 * Entry m is used by a backend that sees task.task's triggers as
 * triggers_seen: if the entry's marks were kept by backends that saw them
 * otherwise, they are forgotten. reset_all_marks covers the backends that
 * used a mark before a write that bypassed the trigger (they see the
 * change); this covers one whose first use of a mark comes after it (a
 * worker that reconnected, a new pool), which has nothing to compare
 * with, while no backend that knew the old triggers claims again. Under
 * m's spinlock.
 */
static void
entry_triggers(ClaimMark *m, uint64 key, int32 owner)
{
	/* another queue's entry: unknown to this one anyway (take_entry) */
	if (m->key != key || m->owner != owner || m->triggers == triggers_seen)
		return;
	forget_entry(m);
}

/*
 * The oid, xmin and enabled state of each trigger of relation relid; and
 * into *always, whether the transition trigger is enabled ALWAYS.
 */
static uint64
triggers_signature(Oid relid, bool *always)
{
	Relation	tgrel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tup;
	uint64		sig = 0;

	*always = false;

	tgrel = table_open(TriggerRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_trigger_tgrelid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(relid));
	scan = systable_beginscan(tgrel, TriggerRelidNameIndexId, true, NULL, 1, &key);
	while (HeapTupleIsValid(tup = systable_getnext(scan)))
	{
		Form_pg_trigger t = (Form_pg_trigger) GETSTRUCT(tup);

		sig = hash_combine64(sig, (uint64) t->oid);
		sig = hash_combine64(sig, (uint64) HeapTupleHeaderGetXmin(tup->t_data));
		sig = hash_combine64(sig, (uint64) (unsigned char) t->tgenabled);
		if (t->tgenabled == TRIGGER_FIRES_ALWAYS && TRIGGER_FOR_ROW(t->tgtype) &&
			TRIGGER_FOR_BEFORE(t->tgtype))
		{
			FmgrInfo	f;

			fmgr_info(t->tgfoid, &f);
			if (f.fn_addr == task_transition)
				*always = true;
		}
	}
	systable_endscan(scan);
	table_close(tgrel, AccessShareLock);
	return sig;
}

/*
 * Before a mark is used: know which relation task.task is, and after an
 * invalidation of its relation cache entry, forget every mark if its
 * triggers changed (disabled, enabled, dropped, created) since this
 * backend last looked.
 */
static void
watch_task_table(void)
{
	if (!callback_registered)
	{
		CacheRegisterRelcacheCallback(mark_relcache_callback, (Datum) 0);
		callback_registered = true;
	}
	if (!OidIsValid(task_relid))
		task_relid = get_relname_relid("task", get_namespace_oid("task", false));
	if (triggers_recheck && OidIsValid(task_relid))
	{
		uint64		sig = triggers_signature(task_relid, &triggers_always);

		if (triggers_known && sig != triggers_seen)
			reset_all_marks();
		triggers_seen = sig;
		triggers_known = true;
		triggers_recheck = false;
	}
}

/*
 * The transition trigger: a row of the queue is runnable after this write,
 * at pos. Kept until the end of the transaction, the smallest per queue.
 */
static PendingMark *
pending_of(int32 owner, uint64 key)
{
	int			i;

	for (i = npending - 1; i >= 0; i--)
		if (pending[i].key == key && pending[i].owner == owner)
			return &pending[i];
	pending = task_list_room(pending, npending, &maxpending, sizeof(PendingMark), MARK_PENDING_INITIAL);
	pending[npending].key = key;
	pending[npending].owner = owner;
	pending[npending].has_pos = false;
	pending[npending].has_lease = false;
	pending[npending].has_taken = false;
	pending[npending].has_lease_taken = false;
	return &pending[npending++];
}

/* Keeps the first (lowest) position, or lease, noted in a transaction. */
static void
keep_first_pos(bool *has, MarkPos *first, int32 priority, TimestampTz run_at, int64 id)
{
	MarkPos		pos = {priority, run_at, id};

	if (!*has || pos_before(&pos, first))
		*first = pos;
	*has = true;
}

static void
keep_first_lease(bool *has, TimestampTz *first, TimestampTz lease)
{
	if (!*has || lease < *first)
		*first = lease;
	*has = true;
}

/*
 * The transition trigger: a row of the queue runnable at this position
 * after a write. With taken: a row that was runnable there before this
 * write and is not any more (a claim, a cancel, a block) or moved. Until
 * the transaction ends, a refresh of the mark by this backend sees the row
 * as this transaction wrote it, and the transaction may still roll back:
 * the refresh stores no position past it (task_mark_store).
 */
void
task_mark_note(int32 owner, uint64 key, int32 priority, TimestampTz run_at, int64 id, bool taken)
{
	PendingMark *p;

	if (mark_shared == NULL)
		return;
	p = pending_of(owner, key);
	if (taken)
		keep_first_pos(&p->has_taken, &p->taken, priority, run_at, id);
	else
		keep_first_pos(&p->has_pos, &p->pos, priority, run_at, id);
}

/*
 * The transition trigger: a processing row of the queue, leased until
 * lease. With taken: the lease before this write changed it or ended the
 * processing; a rescue's look by this backend sees the row as written, and
 * the transaction may roll back: the look stores no lease mark past it
 * (task._lease_set).
 */
void
task_mark_note_lease(int32 owner, uint64 key, TimestampTz lease, bool taken)
{
	PendingMark *p;

	if (mark_shared == NULL)
		return;
	p = pending_of(owner, key);
	if (taken)
		keep_first_lease(&p->has_lease_taken, &p->lease_taken, lease);
	else
		keep_first_lease(&p->has_lease, &p->lease, lease);
}

/*
 * A PREPARE TRANSACTION's rows become visible when COMMIT PREPARED runs,
 * maybe in another backend, which knows nothing of them: no callback of
 * ours lowers a mark then. So, while a prepared transaction that wrote a
 * row of the entry's queue is in progress, the entry is not used (claims
 * and lease rescues look from the beginning and store nothing: a refresh
 * would store a position past the rows it cannot see yet), and once none
 * is, it is forgotten (the next claim refreshes from the beginning). A
 * prepared transaction that finds no room among the entry's keeps the
 * entry unused until every one that found no room in an entry has ended
 * (MarkShared). Called under the entry's mutex.
 */
static void
note_prepared(ClaimMark *m, TransactionId xid)
{
	int			i;

	for (i = 0; i < m->nprepared; i++)
		if (TransactionIdEquals(m->prepared[i], xid))
			return;
	if (m->nprepared < MARK_PREPARED_MAX)
		m->prepared[m->nprepared++] = xid;
	else
		m->overflow = note_global_prepared(xid);
}

/*
 * Keep in progress only the ones of a list of prepared transactions, in
 * place; the count left. TransactionIdIsInProgress takes a lock: the
 * callers hold no spinlock.
 */
static int
still_prepared(TransactionId *xids, int n)
{
	int			i;
	int			left = 0;

	for (i = 0; i < n; i++)
		if (TransactionIdIsInProgress(xids[i]))
			xids[left++] = xids[i];
	return left;
}

/*
 * The prepared transactions no entry names (MarkShared): the survivors of
 * a restart, read once, and those that found no room in an entry. True
 * while a survivor is in progress (no entry is used); those that found no
 * room keep only their entries unused (entry_overflowed). When the last of
 * the list has ended, every entry is forgotten (a mark may have been
 * stored past their rows) and the entries that were full are used again.
 */
static bool
global_prepared_pending(void)
{
	TransactionId *xids;
	TransactionId *ended;
	bool	   *all;
	GlobalPrepared *list = global_prepared();
	int			n;
	int			left;
	int			i;
	int			j;
	bool		unchecked;
	bool		any_all;

	/*
	 * The common case without the global mutex (every claim comes here):
	 * an entry's mutex, taken and given back just before, orders this read
	 * after any addition made under that entry's mutex (note_prepared).
	 */
	unchecked = ((volatile MarkShared *) mark_shared)->unchecked;
	n = ((volatile MarkShared *) mark_shared)->nglobal;
	if (!unchecked && n == 0)
	{
		/* the list is empty: the entries that were full are free again */
		if (((volatile MarkShared *) mark_shared)->overflows != ((volatile MarkShared *) mark_shared)->overflows_ended)
		{
			SpinLockAcquire(&mark_shared->mutex);
			if (mark_shared->nglobal == 0)
				mark_shared->overflows_ended = mark_shared->overflows;
			SpinLockRelease(&mark_shared->mutex);
		}
		return false;
	}
	xids = palloc(Max(max_prepared_xacts, 1) * sizeof(TransactionId));
	ended = palloc(Max(max_prepared_xacts, 1) * sizeof(TransactionId));
	all = palloc(Max(max_prepared_xacts, 1) * sizeof(bool));

	if (unchecked)
	{
		/* the survivors of a restart: pg_prepared_xacts, once */
		int			found = 0;

		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		if (SPI_execute("SELECT transaction FROM pg_catalog.pg_prepared_xacts", true, 0) != SPI_OK_SELECT)
			elog(ERROR, "prepared transactions lookup failed");
		for (i = 0; i < (int) SPI_processed && found < max_prepared_xacts; i++)
		{
			bool		isnull;
			Datum		d = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);

			if (!isnull)
				xids[found++] = DatumGetTransactionId(d);
		}
		SPI_finish();
		SpinLockAcquire(&mark_shared->mutex);
		if (mark_shared->unchecked)
		{
			for (i = 0; i < found && mark_shared->nglobal < max_prepared_xacts; i++)
			{
				list[mark_shared->nglobal].xid = xids[i];
				list[mark_shared->nglobal++].all = true;
			}
			mark_shared->unchecked = false;
		}
		SpinLockRelease(&mark_shared->mutex);
	}

	SpinLockAcquire(&mark_shared->mutex);
	n = mark_shared->nglobal;
	for (i = 0; i < n; i++)
	{
		xids[i] = list[i].xid;
		all[i] = list[i].all;
	}
	if (n == 0)
		mark_shared->overflows_ended = mark_shared->overflows;
	SpinLockRelease(&mark_shared->mutex);
	if (n == 0)
		return false;
	memcpy(ended, xids, n * sizeof(TransactionId));
	left = still_prepared(xids, n);
	if (left == n)
	{
		for (i = 0; i < n; i++)
			if (all[i])
				return true;
		return false;
	}

	/* drop the ones seen ended, and only those (others may have come) */
	SpinLockAcquire(&mark_shared->mutex);
	for (i = 0; i < n; i++)
	{
		bool		alive = false;

		for (j = 0; j < left && !alive; j++)
			alive = TransactionIdEquals(ended[i], xids[j]);
		if (alive)
			continue;
		for (j = 0; j < mark_shared->nglobal; j++)
			if (TransactionIdEquals(list[j].xid, ended[i]))
			{
				list[j] = list[--mark_shared->nglobal];
				break;
			}
	}
	n = mark_shared->nglobal;
	any_all = false;
	for (i = 0; i < n; i++)
		any_all = any_all || list[i].all;
	SpinLockRelease(&mark_shared->mutex);
	if (n > 0)
		return any_all;
	reset_all_marks();
	/* after the reset: an entry that was full is used again with no mark */
	SpinLockAcquire(&mark_shared->mutex);
	if (mark_shared->nglobal == 0)
		mark_shared->overflows_ended = mark_shared->overflows;
	SpinLockRelease(&mark_shared->mutex);
	return false;
}

/*
 * A prepared transaction no entry has room for (called under an entry's
 * mutex): the count of such notes, which the entry keeps (entry_overflowed).
 */
static uint64
note_global_prepared(TransactionId xid)
{
	GlobalPrepared *list = global_prepared();
	uint64		count;
	int			i;

	SpinLockAcquire(&mark_shared->mutex);
	for (i = 0; i < mark_shared->nglobal; i++)
		if (TransactionIdEquals(list[i].xid, xid))
			break;
	if (i == mark_shared->nglobal && mark_shared->nglobal < max_prepared_xacts)
	{
		list[mark_shared->nglobal].xid = xid;
		list[mark_shared->nglobal++].all = false;
	}
	count = ++mark_shared->overflows;
	SpinLockRelease(&mark_shared->mutex);
	return count;
}

/*
 * Whether a prepared transaction that found no room in entry m may still
 * be open (called under the entry's mutex): until MarkShared's list has
 * been seen empty since it was noted. A stale read of overflows_ended is
 * smaller, so it only keeps the entry unused longer.
 */
static inline bool
entry_overflowed(ClaimMark *m)
{
	return m->overflow > ((volatile MarkShared *) mark_shared)->overflows_ended;
}

/*
 * Whether a prepared transaction (above) still holds the entry; when the
 * last one has ended, the entry's marks are forgotten.
 */
static bool
entry_prepared_pending(ClaimMark *m)
{
	TransactionId xids[MARK_PREPARED_MAX];
	bool		ended[MARK_PREPARED_MAX];
	int			n;
	int			i;
	int			j;
	bool		pending;

	SpinLockAcquire(&m->mutex);
	n = m->nprepared;
	memcpy(xids, m->prepared, n * sizeof(TransactionId));
	SpinLockRelease(&m->mutex);
	if (n == 0)
		return false;

	/* TransactionIdIsInProgress takes a lock: not under the spinlock */
	for (i = 0; i < n; i++)
		ended[i] = !TransactionIdIsInProgress(xids[i]);

	/*
	 * Drop the ones seen ended, and only those: a PREPARE may have added
	 * another meanwhile. The marks are forgotten when the list has just
	 * become empty.
	 */
	SpinLockAcquire(&m->mutex);
	for (i = 0; i < n; i++)
		if (ended[i])
			for (j = 0; j < m->nprepared; j++)
				if (TransactionIdEquals(m->prepared[j], xids[i]))
				{
					m->prepared[j] = m->prepared[--m->nprepared];
					break;
				}
	pending = m->nprepared > 0;
	if (!pending && n > 0)
	{
		/* every one has ended: forget what was stored while they were open */
		m->state = MARK_UNKNOWN;
		m->generation++;
		m->lease_known = false;
		m->lease_generation++;
	}
	SpinLockRelease(&m->mutex);
	return pending;
}

/*
 * Take the entry's mutex to read or store its mark, unless prepared
 * transactions keep it unused (above): false then, and the mutex is not
 * held. Whether it has any is read under the same hold as the mark, so a
 * claim takes the mutex once when it has none (the common case).
 */
static bool
lock_entry_unless_prepared(ClaimMark *m)
{
	if (global_prepared_pending())
		return false;
	for (;;)
	{
		SpinLockAcquire(&m->mutex);
		if (entry_overflowed(m))
		{
			SpinLockRelease(&m->mutex);
			return false;
		}
		if (m->nprepared == 0)
			return true;
		SpinLockRelease(&m->mutex);
		if (entry_prepared_pending(m))
			return false;
	}
}

/*
 * Before a PREPARE TRANSACTION (wait.c's callback): its xid, which the
 * prepared transaction keeps (task_mark_xact_end records it in the entries
 * of the queues it wrote to).
 */
void
task_mark_pre_prepare(void)
{
	if (npending > 0)
		pending_xid = GetTopTransactionIdIfAny();
}

/*
 * The end of a transaction (wait.c's callback, first): a commit lowers the
 * marks of the queues it made runnable work for, before anyone is woken;
 * a PREPARE makes them unknown (its commit may come from another backend);
 * an abort changes nothing. Every end forgets the list and gives back
 * the transaction's places among claimers.
 */
void
task_mark_xact_end(bool commit, bool prepare)
{
	int			i;

	task_lease_look_in_claim = false;
	task_mark_release_places();

	if (mark_shared != NULL && (commit || prepare))
		for (i = 0; i < npending; i++)
		{
			PendingMark *p = &pending[i];
			ClaimMark  *m = mark_of(p->key);
			bool		ours;

			/* room for this one: the entry's ended ones go first */
			if (prepare && TransactionIdIsValid(pending_xid))
				(void) entry_prepared_pending(m);

			SpinLockAcquire(&m->mutex);
			ours = m->key == p->key && m->owner == p->owner;
			if (prepare && TransactionIdIsValid(pending_xid))
				note_prepared(m, pending_xid);
			if (p->has_pos)
			{
				if (!ours || prepare)
				{
					if (ours)
						m->state = MARK_UNKNOWN;
					m->generation++;
				}
				else
				{
					if (m->state == MARK_EMPTY ||
						(m->state == MARK_AT && pos_before(&p->pos, &m->pos)))
					{
						m->state = MARK_AT;
						m->pos = p->pos;
					}
					if (!m->recent_any || pos_before(&p->pos, &m->recent))
						m->recent = p->pos;
					m->recent_any = true;
				}
			}
			if (p->has_lease)
			{
				if (!ours || prepare)
				{
					if (ours)
						m->lease_known = false;
					m->lease_generation++;
				}
				else
				{
					if (m->lease_known && p->lease < m->lease_from)
						m->lease_from = p->lease;
					if (!m->lease_recent_any || p->lease < m->lease_recent)
						m->lease_recent = p->lease;
					m->lease_recent_any = true;
				}
			}
			SpinLockRelease(&m->mutex);
		}
	lease_ticketed = false;
	npending = 0;
	pending_xid = InvalidTransactionId;
}

/*
 * task._mark_get(owner integer, queue text) → task.claim_mark:
 * where the claim starts, and a ticket when it should refresh the mark
 * first. NULL: no marks here (no shared memory, or a transaction
 * snapshot); the claim searches from the beginning.
 *   (NULL, NULL, NULL, false, ticket)  unknown: refresh from the beginning
 *   (p, r, i, false, ticket or NULL)   start at (p, r, i)
 *   (NULL, NULL, NULL, true, NULL)     nothing runnable: claim nothing
 */
static Datum mark_read(FunctionCallInfo fcinfo, bool claim);

Datum
task_mark_get(PG_FUNCTION_ARGS)
{
	return mark_read(fcinfo, true);
}

/*
 * task._mark_peek(owner integer, queue text) → task.claim_mark: the mark
 * only, for a look that claims nothing (the next due time of a waiting
 * dequeue): no place taken, no claim counted, no ticket.
 */
Datum
task_mark_peek(PG_FUNCTION_ARGS)
{
	return mark_read(fcinfo, false);
}

/*
 * The mark of a queue, read for a claim (a place is taken and the claim
 * counted) or for a look. False: no marks here, search from the beginning
 * (the SQL functions return NULL).
 */
bool
task_mark_read(int32 owner, text *queue, bool claim, TaskMarkRead *out)
{
	uint64		key;
	ClaimMark  *m;
	MarkState	state;
	MarkPos		pos = {0, 0, 0};
	bool		ticketed = false;
	uint64		ticket = 0;
	TimestampTz now = GetCurrentTimestamp();
	int			i;

	if (mark_shared == NULL)
		return false;

	key = task_wait_key_of_queue(VARDATA_ANY(queue), VARSIZE_ANY_EXHDR(queue));
	if (claim)
		claim_admit((int) (key % (uint64) mark_shared->nmarks));

	if (IsolationUsesXactSnapshot() || task_claim_mark_refresh == 0)
		return false;

	watch_task_table();

	m = mark_of(key);
	if (!lock_entry_unless_prepared(m))
		return false;
	entry_triggers(m, key, owner);
	if (claim && m->key == key && m->owner == owner && m->state != MARK_UNKNOWN &&
		TimestampDifferenceExceeds(m->full_at, now,
								   triggers_always ? MARK_CLAIM_FULL_MS : MARK_FULL_REFRESH_MS))
	{
		/*
		 * The safety net's refresh from the beginning is due: this claim
		 * does it, the others go on with the mark meanwhile (under a held
		 * snapshot it reads every entry since, so once is enough).
		 */
		m->full_at = now;
		state = MARK_UNKNOWN;
		ticketed = true;
		ticket = m->generation;
	}
	else if (m->key == key && m->owner == owner && m->state != MARK_UNKNOWN)
	{
		state = m->state;
		pos = m->pos;
		if (claim && state == MARK_AT && ++m->claims >= (uint32) task_claim_mark_refresh)
		{
			m->claims = 0;
			ticketed = true;
			ticket = m->generation;
		}
	}
	else
	{
		state = MARK_UNKNOWN;
		ticketed = claim;
		ticket = m->generation;
	}
	SpinLockRelease(&m->mutex);

	/* what this transaction made runnable itself is not in the mark yet */
	if (state != MARK_UNKNOWN)
		for (i = 0; i < npending; i++)
			if (pending[i].key == key && pending[i].owner == owner && pending[i].has_pos)
			{
				if (state == MARK_EMPTY || pos_before(&pending[i].pos, &pos))
					pos = pending[i].pos;
				state = MARK_AT;
				break;
			}

	out->at = state == MARK_AT;
	out->priority = pos.priority;
	out->run_at = pos.run_at;
	out->id = pos.id;
	out->empty = state == MARK_EMPTY;
	out->ticketed = ticketed;
	out->ticket = ticket;
	return true;
}

static Datum
mark_read(FunctionCallInfo fcinfo, bool claim)
{
	TaskMarkRead mk;
	TupleDesc	desc;
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};

	if (!task_mark_read(PG_GETARG_INT32(0), PG_GETARG_TEXT_PP(1), claim, &mk))
		PG_RETURN_NULL();

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("task._mark_get must return a composite type")));
	desc = BlessTupleDesc(desc);

	if (mk.at)
	{
		values[0] = Int32GetDatum(mk.priority);
		values[1] = TimestampTzGetDatum(mk.run_at);
		values[2] = Int64GetDatum(mk.id);
	}
	else
		nulls[0] = nulls[1] = nulls[2] = true;
	values[3] = BoolGetDatum(mk.empty);
	values[4] = Int64GetDatum((int64) mk.ticket);
	nulls[4] = !mk.ticketed;

	PG_RETURN_DATUM(HeapTupleGetDatum(heap_form_tuple(desc, values, nulls)));
}

/*
 * task._mark_set(owner integer, queue text, ticket bigint, priority integer,
 *                run_at timestamptz, id task_id, full boolean) → boolean:
 * store the first runnable position a refresh found (NULL priority:
 * none), unless the mark changed since the ticket was taken. full: the
 * refresh started at the beginning of the queue. True when stored.
 */
Datum
task_mark_set(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(2) || PG_ARGISNULL(6))
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL(task_mark_store(PG_GETARG_INT32(0), PG_GETARG_TEXT_PP(1),
								   (uint64) PG_GETARG_INT64(2),
								   PG_ARGISNULL(3) || PG_ARGISNULL(4) || PG_ARGISNULL(5),
								   PG_ARGISNULL(3) ? 0 : PG_GETARG_INT32(3),
								   PG_ARGISNULL(4) ? 0 : PG_GETARG_TIMESTAMPTZ(4),
								   PG_ARGISNULL(5) ? 0 : PG_GETARG_INT64(5),
								   PG_GETARG_BOOL(6)));
}

/* task._mark_set's work: empty, or the position (priority, run_at, id) */
bool
task_mark_store(int32 owner, text *queue, uint64 ticket, bool empty,
				int32 priority, TimestampTz run_at, int64 id, bool full)
{
	bool		stored;
	uint64		key;
	ClaimMark  *m;
	int			i;

	if (mark_shared == NULL || IsolationUsesXactSnapshot())
		return false;

	key = task_wait_key_of_queue(VARDATA_ANY(queue), VARSIZE_ANY_EXHDR(queue));
	m = mark_of(key);

	/*
	 * Rows this transaction took out of the queue are invisible to its own
	 * refresh as they were: not past the first of them (it may roll back)
	 */
	for (i = 0; i < npending; i++)
		if (pending[i].key == key && pending[i].owner == owner && pending[i].has_taken)
		{
			MarkPos		pos = {priority, run_at, id};

			if (empty || pos_before(&pending[i].taken, &pos))
			{
				empty = false;
				priority = pending[i].taken.priority;
				run_at = pending[i].taken.run_at;
				id = pending[i].taken.id;
			}
			break;
		}

	SpinLockAcquire(&m->mutex);
	stored = m->generation == ticket &&
		(full || (m->key == key && m->owner == owner && m->state != MARK_UNKNOWN));
	if (stored)
	{
		/* what was committed since the last store, if the entry was ours */
		bool		recent = m->key == key && m->owner == owner && m->recent_any;

		take_entry(m, key, owner);
		if (empty)
			m->state = MARK_EMPTY;
		else
		{
			m->state = MARK_AT;
			m->pos.priority = priority;
			m->pos.run_at = run_at;
			m->pos.id = id;
		}
		if (recent && (empty || pos_before(&m->recent, &m->pos)))
		{
			m->state = MARK_AT;
			m->pos = m->recent;
		}
		m->recent_any = false;
		if (full)
			m->full_at = GetCurrentTimestamp();
		m->claims = 0;
		m->generation++;
	}
	SpinLockRelease(&m->mutex);

	return stored;
}

/*
 * task._lease_from(owner integer, queue text) → timestamptz: where a
 * rescue of expired leases starts in the queue's lease index (no
 * processing task's lease_until is before it; NULL: from the beginning),
 * and a ticket for task._lease_set. The lease mark works as the claim
 * mark does: lowered at commit by the processing rows the trigger noted
 * (a claim, a heartbeat, a lease set by hand), raised by a rescue that
 * looked at every lease before a time, with a ticket read before its
 * snapshot; one rescue looks from the beginning every
 * MARK_FULL_REFRESH_MS (from a claim, every MARK_CLAIM_FULL_MS).
 * Under a held snapshot the lease index keeps the entry of
 * every processing version since, so a rescue from the beginning walks
 * all the tasks completed since their lease would have run out.
 */
Datum
task_lease_from(PG_FUNCTION_ARGS)
{
	int32		owner = PG_GETARG_INT32(0);
	text	   *queue = PG_GETARG_TEXT_PP(1);
	uint64		key;
	ClaimMark  *m;
	bool		known;
	TimestampTz from = 0;

	lease_ticketed = false;
	if (mark_shared == NULL || IsolationUsesXactSnapshot() || task_claim_mark_refresh == 0)
		PG_RETURN_NULL();
	watch_task_table();

	key = task_wait_key_of_queue(VARDATA_ANY(queue), VARSIZE_ANY_EXHDR(queue));
	m = mark_of(key);
	if (!lock_entry_unless_prepared(m))
		PG_RETURN_NULL();
	entry_triggers(m, key, owner);
	known = m->key == key && m->owner == owner && m->lease_known;
	if (known && TimestampDifferenceExceeds(m->lease_full_at, GetCurrentTimestamp(),
											task_lease_look_in_claim ? MARK_CLAIM_FULL_MS : MARK_FULL_REFRESH_MS))
	{
		/* this rescue looks from the beginning; the others go on meanwhile */
		m->lease_full_at = GetCurrentTimestamp();
		known = false;
	}
	if (known)
		from = m->lease_from;
	lease_ticket = m->lease_generation;
	SpinLockRelease(&m->mutex);

	lease_ticketed = true;
	lease_ticket_key = key;
	lease_ticket_owner = owner;
	lease_ticket_full = !known;

	/* what this transaction leased itself is not in the mark yet */
	if (known)
	{
		int			i;

		for (i = 0; i < npending; i++)
			if (pending[i].key == key && pending[i].owner == owner &&
				pending[i].has_lease && pending[i].lease < from)
				from = pending[i].lease;
		PG_RETURN_TIMESTAMPTZ(from);
	}
	PG_RETURN_NULL();
}

/*
 * task._lease_set(owner integer, queue text, upto timestamptz) → boolean:
 * the rescue since task._lease_from looked at every lease before upto:
 * store it, unless the lease mark moved since the ticket was taken.
 */
Datum
task_lease_set(PG_FUNCTION_ARGS)
{
	int32		owner = PG_GETARG_INT32(0);
	text	   *queue = PG_GETARG_TEXT_PP(1);
	TimestampTz upto = PG_GETARG_TIMESTAMPTZ(2);
	uint64		key;
	ClaimMark  *m;
	bool		stored;

	if (mark_shared == NULL || !lease_ticketed)
		PG_RETURN_BOOL(false);
	key = task_wait_key_of_queue(VARDATA_ANY(queue), VARSIZE_ANY_EXHDR(queue));
	if (key != lease_ticket_key || owner != lease_ticket_owner)
		PG_RETURN_BOOL(false);
	lease_ticketed = false;
	/* not past a lease this transaction changed: it may roll back */
	{
		int			i;

		for (i = 0; i < npending; i++)
			if (pending[i].key == key && pending[i].owner == owner &&
				pending[i].has_lease_taken && pending[i].lease_taken < upto)
				upto = pending[i].lease_taken;
	}
	m = mark_of(key);
	SpinLockAcquire(&m->mutex);
	stored = m->lease_generation == lease_ticket &&
		(lease_ticket_full || (m->key == key && m->owner == owner && m->lease_known));
	if (stored)
	{
		bool		recent = m->key == key && m->owner == owner && m->lease_recent_any;

		take_entry(m, key, owner);
		m->lease_known = true;
		m->lease_from = upto;
		if (recent && m->lease_recent < upto)
			m->lease_from = m->lease_recent;
		m->lease_recent_any = false;
		if (lease_ticket_full)
			m->lease_full_at = GetCurrentTimestamp();
		m->lease_generation++;
	}
	SpinLockRelease(&m->mutex);
	PG_RETURN_BOOL(stored);
}

/*
 * task._claimable_version(rel regclass, version tid) → boolean: the row
 * version at tid has no updater that committed or is still running (a
 * lock-only xmax, an aborted updater or none: true). The claim's search
 * checks it before FOR UPDATE SKIP LOCKED: for a version updated after the
 * statement's snapshot (another claim that committed while it ran), the
 * lock would follow the update chain, lock the newest version (the other
 * worker's task, processing), fail the re-check and skip it, and keep the
 * lock until the transaction ends: the other worker's completion waited
 * for it (docs/QUEUE.md, "Claimers at once"). A claim that commits between
 * this check and the lock still can; the window is that, not the
 * statement. A running updater would be skipped by SKIP LOCKED anyway.
 * task_version_claimable is the check, for the claim's search in C
 * (hotpath.c), with the table open.
 */
bool
task_version_claimable(Relation rel, ItemPointer tid)
{
	Buffer		buf;
	Page		page;
	OffsetNumber off;
	TransactionId updater = InvalidTransactionId;

	/*
	 * The tid is a version the caller's scan just returned, so its block
	 * exists: no size check (RelationGetNumberOfBlocks is an lseek per call,
	 * and this runs for every entry a claim looks at).
	 */
	buf = ReadBuffer(rel, ItemPointerGetBlockNumber(tid));
	LockBuffer(buf, BUFFER_LOCK_SHARE);
	page = BufferGetPage(buf);
	off = ItemPointerGetOffsetNumber(tid);
	if (off >= FirstOffsetNumber && off <= PageGetMaxOffsetNumber(page))
	{
		ItemId		lp = PageGetItemId(page, off);

		if (ItemIdIsNormal(lp))
		{
			HeapTupleHeader htup = (HeapTupleHeader) PageGetItem(page, lp);

			if (!(htup->t_infomask & HEAP_XMAX_INVALID) &&
				!HEAP_XMAX_IS_LOCKED_ONLY(htup->t_infomask))
				updater = HeapTupleHeaderGetUpdateXid(htup);
		}
	}
	UnlockReleaseBuffer(buf);

	if (!TransactionIdIsValid(updater) || TransactionIdIsCurrentTransactionId(updater))
		return true;
	return !TransactionIdIsInProgress(updater) && !TransactionIdDidCommit(updater);
}

/* The SQL function (the claims of 65_worker.sql); internal: not granted to PUBLIC. */
PG_FUNCTION_INFO_V1(task_claimable_version);

Datum
task_claimable_version(PG_FUNCTION_ARGS)
{
	Relation	rel = table_open(PG_GETARG_OID(0), AccessShareLock);
	bool		claimable = rel->rd_rel->relkind != RELKIND_RELATION ||
		task_version_claimable(rel, (ItemPointer) PG_GETARG_POINTER(1));

	table_close(rel, AccessShareLock);
	PG_RETURN_BOOL(claimable);
}
