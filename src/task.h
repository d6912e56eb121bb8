/*
 * task.h
 *		Declarations shared by the C files of the task extension.
 */
#ifndef TASK_H
#define TASK_H

#include "postgres.h"

#include "datatype/timestamp.h"
#include "fmgr.h"
#include "utils/relcache.h"
#include "storage/spin.h"

/*
 * The longest lease, backoff or maximum run time: "1 year", as 366 days
 * (comparing intervals, PostgreSQL counts a year as 360 days, which would
 * refuse '365 days'; sql/45_queues.sql uses the same bound).
 */
#define TASK_ONE_YEAR_DAYS 366

/* ---- task.c: settings ---- */
extern char *task_result_uri_prefix;
extern int	task_schedules_per_service;

/* ---- identity.c: who is calling ---- */
typedef enum TaskIdentityKind
{
	TASK_IDENT_NONE,			/* unmapped role, or a disabled account */
	TASK_IDENT_SYSTEM,			/* an unmapped superuser: the operator */
	TASK_IDENT_SERVICE,			/* a login mapped to a service */
	TASK_IDENT_ACCOUNT			/* a login mapped to an account */
} TaskIdentityKind;

typedef struct TaskIdentity
{
	TaskIdentityKind kind;
	int32		service;		/* SVC number when kind is SERVICE */
	int64		account;		/* ACC number when kind is ACCOUNT */
	bool		operations;		/* SYSTEM, or an active Operations account */
	char		actor[NAMEDATALEN + 16];	/* "SVC-0001", "ACC-0000-0001" or a role name */
} TaskIdentity;

extern const TaskIdentity *task_current_identity(void);
extern bool task_may_write(bool owner_isnull, int32 owner, bool ops_allowed);
/* moves when a login, account or service row may have changed */
extern uint64 task_identity_epoch(void);

/* Run SPI statements with the privileges of the extension's tables' owner. */
extern Oid	task_tables_owner(void);
/* task_id.c: task.task_id_make(owner, serial), called directly by the insert of hotpath.c */
extern Datum task_id_make(PG_FUNCTION_ARGS);
extern Datum task_id_owner(PG_FUNCTION_ARGS);

/* SPI_connect as the tables' owner (row-level security not forced), and back. */
typedef struct TaskOwnerSpi
{
	Oid			userid;
	int			sec_context;
} TaskOwnerSpi;
extern void task_owner_spi_connect(TaskOwnerSpi *save);
extern void task_owner_spi_finish(TaskOwnerSpi *save);

/* ---- wait.c: wake on commit (blocking task_dequeue and task_wait) ---- */
/* room for one more element in a backend-local list (TopMemoryContext) */
extern void *task_list_room(void *list, int used, int *max, Size elem, int initial);
extern int	task_wait_slots;
extern void task_wait_init(void);
/* a queue got runnable work / a task reached a final status (noted, woken at commit) */
extern void task_wait_note_queue(const char *name, int len);
extern void task_wait_note_task(int64 id);
extern void task_wait_note_claim(const char *name, int len);
/* a task of the service left processing (a claim slot is free) / was claimed (one is taken) */
extern void task_wait_note_limit(int32 owner, bool claim);
/* a queue's wait key: its name hashed with the database oid */
extern uint64 task_wait_key_of_queue(const char *name, int len);
/* a service's key of freed claim slots: its number hashed with the database oid */
extern uint64 task_wait_key_of_limit(int32 owner);
/* the generation of a key's slot (false without shared memory) */
extern bool task_wait_generation(int64 key, int64 *seq);
extern void task_wait_unused_wake(void);
/* lists of sleeping backends, latest first (head: a pgprocno, -1 empty; under the caller's spinlock) */
extern void task_sleeper_push(int *head);
extern void task_sleeper_unlink(int *head, int no);
extern bool task_sleeper_listed(void);
extern void task_sleepers_signal(slock_t *mutex, int *head, uint32 count);

/* ---- mark.c: where a queue's claim starts (in wait.c's shared memory) ---- */
extern int	task_claim_mark_refresh;
extern void task_mark_init(void);
extern Size task_mark_shmem_size(void);
extern void task_mark_shmem_init(void);
/* a runnable position / a lease written (taken: as it was before an update) */
extern void task_mark_note(int32 owner, uint64 key, int32 priority, TimestampTz run_at, int64 id, bool taken);
extern void task_mark_note_lease(int32 owner, uint64 key, TimestampTz lease, bool taken);
extern void task_mark_xact_end(bool commit, bool prepare);
extern void task_mark_pre_prepare(void);

/* ---- transition.c: a claim's fencing token ---- */
extern int64 task_lease_token_for(int32 revision);
/* the trigger task_transition and its work on a row (transition.c) */
extern Datum task_transition(PG_FUNCTION_ARGS);
extern void task_transition_row(Relation rel, Datum *oldvalues, bool *oldnulls, Datum *values, bool *nulls);
/* whether the trigger task_settle_dependents, fired for this new row, would act (transition.c) */
extern bool task_settle_gate_acts(Relation rel, HeapTuple newtuple);
/* a claim mark as task._mark_get returns it (at: a position; else from the beginning) */
typedef struct TaskMarkRead
{
	bool		at;
	int32		priority;
	TimestampTz run_at;
	int64		id;
	bool		empty;
	bool		ticketed;
	uint64		ticket;
} TaskMarkRead;
extern bool task_mark_read(int32 owner, text *queue, bool claim, TaskMarkRead *out);
extern bool task_mark_store(int32 owner, text *queue, uint64 ticket, bool empty,
							int32 priority, TimestampTz run_at, int64 id, bool full);
extern bool task_mark_give_back(text *queue);
/* a row version no other transaction updated (committed or running): the claim may lock it */
extern bool task_version_claimable(struct RelationData *rel, struct ItemPointerData *tid);
extern int	task_claim_concurrency;
extern bool task_lease_look_in_claim;
extern int	task_claim_wait;

#endif							/* TASK_H */
