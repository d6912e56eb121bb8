/*
 * hotpath.c
 *		The hot paths of workers and producers: task_dequeue up to its
 *		wait, the claim (task._claim), the completion (task._complete) and
 *		task_create for a task without links or keys.
 *
 * A drained task is one task_dequeue call: complete the previous task,
 * claim the next. Written in PL/pgSQL, the functions around the two
 * statements that do it (task_dequeue, _complete, _claim: calls with
 * 20- and 40-column records, two RETURN QUERY tuplestores, a simple
 * expression per claim-mark call) cost as much backend CPU as the
 * statements (docs/QUEUE.md, "The worker path in C"). Here the statements
 * are the same, as saved plans run through SPI, each with a new snapshot
 * as a statement of a VOLATILE PL/pgSQL function takes; the claim mark
 * (mark.c) is read and stored by direct calls; the claimed rows go
 * straight into the caller's tuplestore.
 *
 * task_create is the same idea for a producer: the common task (no parent,
 * access list, dependencies or keys) is the queue's lookup and one INSERT.
 *
 * Since stop 22-23 the writes, and the claim's search, run without a plan
 * (direct_insert, direct_update, claim_search: docs/QUEUE.md, "Writes
 * without a plan").
 *
 * What is not on the path stays in PL/pgSQL and is called from here: the
 * wait of a dequeue that found nothing, and a call with an argument to
 * refuse, are task._dequeue, called with the same result set; any other
 * task_create is task._create; a batch is completed by
 * task._complete_many; a queue with a claim-time limit is
 * claimed by task._claim_limited; a short queue's expired leases are
 * rescued by task._rescue_leases; a completion that finds nothing asks
 * task._write_failed which error to raise.
 */
#include "postgres.h"

#include "access/heapam.h"
#include "access/htup_details.h"
#include "access/genam.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/tupconvert.h"
#include "access/xact.h"
#include "mb/pg_wchar.h"
#include "utils/fmgrprotos.h"
#include "common/sha2.h"
#include "common/cryptohash.h"
#include "storage/lmgr.h"
#include "access/nbtree.h"
#include "catalog/index.h"
#include "catalog/namespace.h"
#include "catalog/pg_am.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_trigger.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/nodeModifyTable.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "optimizer/optimizer.h"
#include "parser/parse_func.h"
#include "rewrite/rewriteHandler.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "task.h"

PG_FUNCTION_INFO_V1(task_claim);
PG_FUNCTION_INFO_V1(task_complete_one);
PG_FUNCTION_INFO_V1(task_dequeue);
PG_FUNCTION_INFO_V1(task_create_one);
PG_FUNCTION_INFO_V1(task_complete_many);
PG_FUNCTION_INFO_V1(task_create_many_direct);
PG_FUNCTION_INFO_V1(task_queue_for_create_direct);

/* The columns of task.queue the claim reads. */
typedef enum QueueColumn
{
	QC_NAME,
	QC_OWNER,
	QC_LEASE,
	QC_MAX_PROCESSING,
	QC_KEY_CONCURRENCY,
	QC_RATE_LIMIT,
	QC_KEY_RATE_LIMIT,
	QC_FAIR_SHARE,
	QC_SERVICE_CAPPED,
	QC_PAUSED,
	QC_PRIORITY,
	QC_CREATED_AT,
	NUM_QUEUE_COLUMNS
} QueueColumn;

static const char *const queue_column_names[NUM_QUEUE_COLUMNS] = {
	"name", "owner", "lease", "max_processing", "key_concurrency", "rate_limit",
	"key_rate_limit", "fair_share", "service_capped", "paused", "priority", "created_at"
};

/* The statements, in the order of the PL/pgSQL function they replace. */
typedef enum ClaimPlan
{
	CP_LIMITED,					/* a queue with a claim-time limit */
	CP_REFRESH,					/* the first runnable entry of the mark's level from the mark */
	CP_LEVEL,					/* the first runnable entry at or under a level */
	CP_CLAIM,					/* claim up to k entries of one level from a position */
	CP_WRITE_FAILED,			/* why a completion found nothing (raises) */
	CP_QUEUE,					/* the queue a worker call acts on */
	CP_RESCUE,					/* take back a short queue's expired leases */
	CP_CREATE_QUEUE,			/* the queue a task is created in */
	CP_CREATE,					/* insert a task without keys, links or access list */
	NUM_CLAIM_PLANS
} ClaimPlan;

static const char *const claim_sql[NUM_CLAIM_PLANS] = {
	"SELECT * FROM task._claim_limited($1, $2, $3)",

	"SELECT x.run_at, x.id FROM ONLY task.task x "
	" WHERE x.owner = $1 AND x.queue = $2 AND hashtext(x.queue) = hashtext($2) "
	"   AND x.status IN ('queued', 'rescheduled') "
	"   AND x.priority = $3 AND (x.run_at, x.id) >= ($4, $5) "
	" ORDER BY x.run_at, x.id "
	" LIMIT 1",

	"SELECT x.priority, x.run_at, x.id FROM ONLY task.task x "
	" WHERE x.owner = $1 AND x.queue = $2 AND hashtext(x.queue) = hashtext($2) "
	"   AND x.status IN ('queued', 'rescheduled') "
	"   AND x.priority <= $3 "
	" ORDER BY x.priority DESC, x.run_at, x.id "
	" LIMIT 1",

	/*
	 * By the id alone, so that only the primary key fits: a plan made while
	 * the table is new (no statistics yet) took the owner's listing index
	 * for "t.owner = $1", every task of the service read for each claim
	 * until the first ANALYZE (task_dequeue's enable_seqscan = off keeps a
	 * sequential scan out). _claimable_version: not a version another claim
	 * updated after this statement's snapshot (locking it would lock that
	 * claim's task until this transaction ends, and its completion would
	 * wait; docs/QUEUE.md). Ordering keys: tasks of a key run one at a
	 * time, in the order they were created (ids of one queue share an
	 * owner, so they sort by creation): none while another task of the key
	 * is processing or an older one waits, even for a retry. The search
	 * locks the rows (their latest versions, in claim order) and returns
	 * where they are; claim_direct updates them without a plan ($8, the
	 * lease's end, is its). An UPDATE of the rows the search returns cost
	 * the executor's start-up of a ModifyTable, a scan of the primary key
	 * and the projection of every column (docs/QUEUE.md, "Stop 22"). This
	 * statement is now the fallback: claim_search does the same without a
	 * plan, unless task.task's runnable and ordering indexes are not the
	 * ones it reads.
	 */
	"        SELECT x.ctid FROM ONLY task.task x "
	"         WHERE x.owner = $1 AND x.queue = $2 AND hashtext(x.queue) = hashtext($2) "
	"           AND x.status IN ('queued', 'rescheduled') "
	"           AND x.priority = $3 AND (x.run_at, x.id) >= ($4, $5) "
	"           AND x.run_at <= $6 "
	"           AND task._claimable_version('task.task', x.ctid) "
	"           AND (x.ordering_key IS NULL OR NOT EXISTS ( "
	"                    SELECT FROM ONLY task.task k "
	"                     WHERE k.owner = $1 AND k.queue = $2 AND k.ordering_key = x.ordering_key "
	"                       AND k.status IN ('queued', 'rescheduled', 'processing') "
	"                       AND (k.status = 'processing' OR k.id < x.id))) "
	"         ORDER BY x.run_at, x.id "
	"         LIMIT $7 "
	"         FOR NO KEY UPDATE OF x SKIP LOCKED",

	"SELECT task._write_failed($1, 'complete', false, $2, '{processing}', $3)",

	"SELECT q FROM task._worker_queue($1, true) q",

	"SELECT task._rescue_leases($1, $2)",

	"SELECT q FROM task._queue_for_create($1) q",

	"INSERT INTO task.task AS x (owner, id, status, code, name, queue, object, description, "
	"                            parameters, eta, run_at, ordering_key, max_attempts, priority, max_run_time) "
	"VALUES ($1, task.task_id_make($1, nextval('task.task_serial_seq')), 'queued', $2, $3, $4, $5, $6, "
	"        $7, $8, coalesce($9, now()), $10, $11, $12, $13) "
	"RETURNING x"
};

typedef struct ClaimCache
{
	Oid			queue_type;		/* task.queue's row type the plans were made for */
	Oid			id_type;		/* task.task_id */
	Oid			queued;			/* the task.status 'queued' */
	Oid			processing;		/* ... 'processing' */
	Oid			rescheduled;	/* ... 'rescheduled' */
	Oid			completed;		/* ... 'completed' */
	Oid			task_relid;		/* task.task */
	Oid			queue_relid;	/* task.queue */
	Oid			queue_pkey;		/* its primary key: (name) */
	Oid			serial_seq;		/* task.task_serial_seq */
	AttrNumber	attnum[NUM_QUEUE_COLUMNS];
	SPIPlanPtr	plan[NUM_CLAIM_PLANS];
} ClaimCache;

static ClaimCache claim_cache;

/* A type of schema task by name. */
static Oid
task_type(const char *name)
{
	Oid			type = GetSysCacheOid2(TYPENAMENSP, Anum_pg_type_oid, CStringGetDatum(name),
									   ObjectIdGetDatum(get_namespace_oid("task", false)));

	if (!OidIsValid(type))
		elog(ERROR, "type task.%s is missing", name);
	return type;
}

static void
claim_cache_load(Oid queue_type)
{
	TupleDesc	desc = lookup_rowtype_tupdesc(queue_type, -1);
	Oid			id_type = task_type("task_id");
	int			c;
	int			i;

	for (c = 0; c < NUM_CLAIM_PLANS; c++)
		if (claim_cache.plan[c])
		{
			SPI_freeplan(claim_cache.plan[c]);
			claim_cache.plan[c] = NULL;
		}
	claim_cache.queue_type = InvalidOid;
	for (c = 0; c < NUM_QUEUE_COLUMNS; c++)
	{
		claim_cache.attnum[c] = InvalidAttrNumber;
		for (i = 0; i < desc->natts; i++)
		{
			Form_pg_attribute att = TupleDescAttr(desc, i);

			if (!att->attisdropped && strcmp(NameStr(att->attname), queue_column_names[c]) == 0)
				claim_cache.attnum[c] = att->attnum;
		}
		if (claim_cache.attnum[c] == InvalidAttrNumber)
			elog(ERROR, "column %s of task.queue is missing", queue_column_names[c]);
	}
	ReleaseTupleDesc(desc);
	claim_cache.id_type = id_type;
	claim_cache.queued = DatumGetObjectId(DirectFunctionCall2(enum_in, CStringGetDatum("queued"),
															  ObjectIdGetDatum(task_type("status"))));
	claim_cache.processing = DatumGetObjectId(DirectFunctionCall2(enum_in, CStringGetDatum("processing"),
																  ObjectIdGetDatum(task_type("status"))));
	claim_cache.rescheduled = DatumGetObjectId(DirectFunctionCall2(enum_in, CStringGetDatum("rescheduled"),
																   ObjectIdGetDatum(task_type("status"))));
	claim_cache.completed = DatumGetObjectId(DirectFunctionCall2(enum_in, CStringGetDatum("completed"),
																 ObjectIdGetDatum(task_type("status"))));
	claim_cache.task_relid = get_relname_relid("task", get_namespace_oid("task", false));
	claim_cache.serial_seq = get_relname_relid("task_serial_seq", get_namespace_oid("task", false));
	claim_cache.queue_relid = get_relname_relid("queue", get_namespace_oid("task", false));
	claim_cache.queue_pkey = get_relname_relid("queue_pkey", get_namespace_oid("task", false));
	if (!OidIsValid(claim_cache.queue_relid) || !OidIsValid(claim_cache.queue_pkey))
		elog(ERROR, "table task.queue or its primary key is missing");
	if (!OidIsValid(claim_cache.task_relid) || !OidIsValid(claim_cache.serial_seq))
		elog(ERROR, "table task.task or sequence task.task_serial_seq is missing");
	claim_cache.queue_type = queue_type;
}

static SPIPlanPtr
claim_plan(ClaimPlan which)
{
	if (claim_cache.plan[which] == NULL)
	{
		Oid			argtypes[13];
		int			nargs;
		SPIPlanPtr	plan;

		if (which == CP_LIMITED || which == CP_RESCUE)
		{
			argtypes[0] = claim_cache.queue_type;
			argtypes[1] = INT4OID;
			argtypes[2] = INTERVALOID;
			nargs = which == CP_LIMITED ? 3 : 2;
		}
		else if (which == CP_WRITE_FAILED)
		{
			argtypes[0] = claim_cache.id_type;
			argtypes[1] = INT8OID;
			argtypes[2] = BOOLOID;
			nargs = 3;
		}
		else if (which == CP_QUEUE || which == CP_CREATE_QUEUE)
		{
			argtypes[0] = TEXTOID;
			nargs = 1;
		}
		else if (which == CP_CREATE)
		{
			static const Oid create_types[13] = {
				INT4OID, TEXTOID, TEXTOID, TEXTOID, JSONBOID, TEXTOID, JSONBOID,
				TIMESTAMPTZOID, TIMESTAMPTZOID, TEXTOID, INT4OID, INT4OID, INTERVALOID
			};

			memcpy(argtypes, create_types, sizeof(create_types));
			nargs = 13;
		}
		else
		{
			argtypes[0] = INT4OID;
			argtypes[1] = TEXTOID;
			argtypes[2] = which == CP_LEVEL ? INT8OID : INT4OID;
			argtypes[3] = TIMESTAMPTZOID;
			argtypes[4] = claim_cache.id_type;
			argtypes[5] = TIMESTAMPTZOID;
			argtypes[6] = INT8OID;
			argtypes[7] = TIMESTAMPTZOID;
			nargs = which == CP_REFRESH ? 5 : which == CP_LEVEL ? 3 : 8;
		}
		plan = SPI_prepare_cursor(claim_sql[which], nargs, argtypes, CURSOR_OPT_GENERIC_PLAN);
		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
		claim_cache.plan[which] = plan;
	}
	return claim_cache.plan[which];
}

/* Appends the rows SPI returned to the caller's tuplestore, in order. */
static uint64
claim_keep_rows(ReturnSetInfo *rsinfo)
{
	TupleConversionMap *map;
	uint64		i;

	map = convert_tuples_by_position(SPI_tuptable->tupdesc, rsinfo->setDesc,
									 gettext_noop("claimed rows do not match task.task"));
	for (i = 0; i < SPI_processed; i++)
	{
		HeapTuple	tuple = SPI_tuptable->vals[i];

		if (map)
			tuple = execute_attr_map_tuple(tuple, map);
		tuplestore_puttuple(rsinfo->setResult, tuple);
	}
	if (map)
		free_conversion_map(map);
	return SPI_processed;
}

/* The whole-row value (a task.task) of the first row SPI returned. */
static Datum
spi_whole_row(void)
{
	bool		isnull;
	Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

	if (isnull)
		elog(ERROR, "statement returned a null row");
	return d;
}

/* The plans are made for the task.queue and task.task_id of the extension installed now. */
static void
claim_cache_ensure(void)
{
	Oid			queue_type = task_type("queue");

	if (claim_cache.queue_type != queue_type)
		claim_cache_load(queue_type);
}

/*
 * The common case of the queue lookup (the saved plan CP_QUEUE_DIRECT
 * was): an existing queue the caller may write to (task._may_write: its
 * owner service, or the system), read by its primary key with a new
 * snapshot, as that statement would. A SPI statement cost a quarter of a
 * task_create's instructions, its executor's start-up most of it
 * (docs/QUEUE.md, "Stop 22"). NULL when there is no such queue or the
 * caller may not write to it: the PL/pgSQL lookup then says why.
 */
static HeapTupleHeader
queue_direct(Datum name)
{
	Relation	rel;
	Relation	idx;
	SysScanDesc scan;
	ScanKeyData key;
	HeapTuple	tuple;
	HeapTupleHeader q = NULL;

	CommandCounterIncrement();
	PushActiveSnapshot(GetTransactionSnapshot());
	rel = table_open(claim_cache.queue_relid, AccessShareLock);
	idx = index_open(claim_cache.queue_pkey, AccessShareLock);
	ScanKeyInit(&key, claim_cache.attnum[QC_NAME], BTEqualStrategyNumber, F_TEXTEQ, name);
	key.sk_collation = idx->rd_indcollation[0];
	scan = systable_beginscan_ordered(rel, idx, GetActiveSnapshot(), 1, &key);
	tuple = systable_getnext_ordered(scan, ForwardScanDirection);
	if (HeapTupleIsValid(tuple))
	{
		bool		isnull;
		Datum		owner = heap_getattr(tuple, claim_cache.attnum[QC_OWNER], RelationGetDescr(rel), &isnull);

		if (task_may_write(isnull, isnull ? 0 : DatumGetInt32(owner), false))
			q = DatumGetHeapTupleHeader(heap_copy_tuple_as_datum(tuple, RelationGetDescr(rel)));
	}
	systable_endscan_ordered(scan);
	/* locked until the transaction ends, as a statement's */
	index_close(idx, NoLock);
	table_close(rel, NoLock);
	PopActiveSnapshot();
	return q;
}

/*
 * The queue a call acts on, by name (SPI connected, the cache loaded): an
 * existing queue the caller may write to, or else what the PL/pgSQL
 * function of the call (plan 'otherwise') returns or raises. The row is in
 * SPI's memory.
 */
static HeapTupleHeader queue_otherwise(Datum name, ClaimPlan otherwise);

static HeapTupleHeader
queue_by_name(Datum name, ClaimPlan otherwise)
{
	HeapTupleHeader found = queue_direct(name);

	return found ? found : queue_otherwise(name, otherwise);
}

/* What the PL/pgSQL function of the call (plan 'otherwise') returns or raises for the name. */
static HeapTupleHeader
queue_otherwise(Datum name, ClaimPlan otherwise)
{
	Datum		args[1] = {name};
	bool		isnull;
	Datum		q;

	if (SPI_execute_plan(claim_plan(otherwise), args, NULL, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "queue lookup failed");
	q = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		elog(ERROR, "queue lookup returned no queue");
	return DatumGetHeapTupleHeader(q);
}

/* The columns of a task.queue row the claim reads. */
static void
queue_values(HeapTupleHeader q, Datum *values, bool *nulls)
{
	TupleDesc	desc = lookup_rowtype_tupdesc(HeapTupleHeaderGetTypeId(q), HeapTupleHeaderGetTypMod(q));
	HeapTupleData tuple;
	Datum	   *all = palloc(sizeof(Datum) * desc->natts);
	bool	   *allnull = palloc(sizeof(bool) * desc->natts);
	int			c;

	tuple.t_len = HeapTupleHeaderGetDatumLength(q);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = q;
	/* one pass (heap_getattr of a column after one of variable width starts from the first) */
	heap_deform_tuple(&tuple, desc, all, allnull);
	for (c = 0; c < NUM_QUEUE_COLUMNS; c++)
	{
		values[c] = all[claim_cache.attnum[c] - 1];
		nulls[c] = allnull[claim_cache.attnum[c] - 1];
	}
	ReleaseTupleDesc(desc);
}

/*
 * Writes to task.task without a plan, each as one statement of SPI would
 * be. What an executor's start-up prepares for a statement (the table and
 * its indexes open, their predicates, the triggers' WHEN) is prepared once
 * for all the writes of one call: the completion and the claim of a
 * task_dequeue share it. Zeroed: not open yet.
 */
typedef struct DirectWrite
{
	bool		open;
	Relation	rel;
	EState	   *estate;
	ResultRelInfo *rri;
	EPQState	epq;
	int			nidx;			/* the indexes of task.task (idx's, when opened) */
	Oid		   *idx_oid;
	IndexInfo **idx_info;
	Relation   *idx_rel;		/* opened when a row first needs an entry */
	Relation	pkey;			/* among them, open from the start */
	TupleTableSlot *old;		/* a version read or locked */
	TupleTableSlot *scan;		/* claim_search's: a version its index scan returned */
	TupleTableSlot *probe;		/* ... a version of the same ordering key */
	TupleTableSlot *new;		/* the row written: a formed heap tuple */
	bool		br_done;		/* direct_form did the BEFORE row trigger's work */
	CmdType		cmd;			/* the statement a write is framed as (direct_begin) */
	TransitionCaptureState *tcs;	/* its transition tables, or NULL */
	RangeTblEntry *rte;			/* its range table entry: updatedCols, the SET list */
	Bitmapset  *claim_cols;		/* the SET lists of the claim and the completion */
	Bitmapset  *complete_cols;
	ExprState **upd_when;		/* the WHEN states of ins.upd_desc's triggers */
	ExprState **ins_when;		/* ... of ins.ins_desc's */
	Datum	   *values;			/* the row to write, before it is formed */
	bool	   *isnull;
} DirectWrite;

/* What a write is, as the statement it replaces: its command and, for an update, its SET list. */
typedef enum DirectKind
{
	DW_INSERT,					/* task_create's, task_create_many's INSERT */
	DW_CLAIM,					/* SET status, attempts, lease_token, lease_until */
	DW_COMPLETE					/* SET status, result, resource */
} DirectKind;

static void direct_open(DirectWrite *w);
static void direct_begin(DirectWrite *w, DirectKind kind);
static void direct_end(DirectWrite *w);
static int64 claim_search(DirectWrite *w, int32 owner, text *name, int32 lvl, TimestampTz from_at,
						  int64 from_id, TimestampTz at, int64 limit, ItemPointerData *tids);
static bool search_ready(DirectWrite *w);
static uint64 claim_direct(DirectWrite *w, ReturnSetInfo *rsinfo, ItemPointerData *tids, uint64 n,
						   bool lease_null, Datum lease_until);
static void direct_close(DirectWrite *w);

/*
 * Claims up to n tasks of queue q (its columns in qv, qnull: queue_values)
 * into the caller's tuplestore (SPI connected, the cache loaded); lease
 * NULL: the queue's. Returns how many.
 */
static int64
claim_into(DirectWrite *w, ReturnSetInfo *rsinfo, HeapTupleHeader q, const Datum *qv, const bool *qnull,
		   int32 n, bool lease_isnull, Datum lease)
{
	int32		owner;
	text	   *name;
	TimestampTz at;
	Datum		lease_until;
	bool		lease_null;
	TaskMarkRead mk;
	bool		have_mark;
	bool		ticketed;
	bool		lvl_null;
	int32		lvl = 0;
	TimestampTz from_at = 0;
	int64		from_id = 0;
	bool		below_null = true;
	int64		below = 0;
	int64		got = 0;

	owner = DatumGetInt32(qv[QC_OWNER]);
	name = DatumGetTextPP(qv[QC_NAME]);

	/* a queue with a claim-time limit takes the limited claim */
	if (DatumGetInt32(qv[QC_MAX_PROCESSING]) != 0 || DatumGetInt32(qv[QC_KEY_CONCURRENCY]) != 1 ||
		DatumGetInt32(qv[QC_RATE_LIMIT]) != 0 || DatumGetInt32(qv[QC_KEY_RATE_LIMIT]) != 0 ||
		DatumGetBool(qv[QC_FAIR_SHARE]) || DatumGetBool(qv[QC_SERVICE_CAPPED]))
	{
		Datum		args[3];
		char		nulls[3] = {' ', ' ', ' '};

		args[0] = PointerGetDatum(q);
		args[1] = Int32GetDatum(n);
		args[2] = lease;
		if (lease_isnull)
			nulls[2] = 'n';
		if (SPI_execute_plan(claim_plan(CP_LIMITED), args, nulls, false, 0) != SPI_OK_SELECT)
			elog(ERROR, "limited claim failed");
		return (int64) claim_keep_rows(rsinfo);
	}

	/*
	 * The real clock, read once: now() stands still for a whole
	 * transaction, so a waiting dequeue would never see tasks created while
	 * it waits, and a lease claimed late would start in the past.
	 */
	at = GetCurrentTimestamp();
	lease_null = lease_isnull && qnull[QC_LEASE];
	lease_until = lease_null ? (Datum) 0 :
		DirectFunctionCall2(timestamptz_pl_interval, TimestampTzGetDatum(at),
							lease_isnull ? qv[QC_LEASE] : lease);

	/* a place among the queue's claimers, and where to start */
	have_mark = task_mark_read(owner, name, true, &mk);
	if (have_mark && mk.empty)
	{
		task_mark_give_back(name);
		return 0;
	}
	ticketed = have_mark && mk.ticketed;
	lvl_null = !(have_mark && mk.at);
	if (lvl_null)
	{
		below_null = false;
		below = PG_INT32_MAX;
	}
	else
	{
		lvl = mk.priority;
		from_at = mk.run_at;
		from_id = mk.id;
		if (ticketed)
		{
			/* refresh: the first runnable entry of the mark's level at or after it */
			Datum		args[5];

			args[0] = Int32GetDatum(owner);
			args[1] = PointerGetDatum(name);
			args[2] = Int32GetDatum(lvl);
			args[3] = TimestampTzGetDatum(mk.run_at);
			args[4] = Int64GetDatum(mk.id);
			if (SPI_execute_plan(claim_plan(CP_REFRESH), args, NULL, false, 1) != SPI_OK_SELECT)
				elog(ERROR, "claim mark refresh failed");
			if (SPI_processed > 0)
			{
				bool		isnull;

				from_at = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
				from_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
				(void) task_mark_store(owner, name, mk.ticket, false, lvl, from_at, from_id, false);
				ticketed = false;
			}
			else
			{
				below_null = false;
				below = (int64) lvl - 1;
			}
		}
	}

	for (;;)
	{
		Datum		args[8];
		char		nulls[8] = {' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};

		if (!below_null)
		{
			/* the first runnable entry at or under level "below", locked or not */
			args[0] = Int32GetDatum(owner);
			args[1] = PointerGetDatum(name);
			args[2] = Int64GetDatum(below);
			if (SPI_execute_plan(claim_plan(CP_LEVEL), args, NULL, false, 1) != SPI_OK_SELECT)
				elog(ERROR, "claim level lookup failed");
			lvl_null = SPI_processed == 0;
			if (!lvl_null)
			{
				bool		isnull;

				lvl = DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
				from_at = DatumGetTimestampTz(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 2, &isnull));
				from_id = DatumGetInt64(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 3, &isnull));
			}
			if (ticketed)
			{
				/* from the beginning when the mark had no position */
				(void) task_mark_store(owner, name, mk.ticket, lvl_null, lvl, from_at, from_id,
									   !(have_mark && mk.at));
				ticketed = false;
			}
			if (lvl_null)
			{
				/* nothing claimed: no place among the queue's claimers needed */
				if (got == 0)
					task_mark_give_back(name);
				break;
			}
		}
		if (search_ready(w))
		{
			/* the search and the update in one statement's frame */
			ItemPointerData *tids = palloc(sizeof(ItemPointerData) * ((int64) n - got));
			int64		k;

			direct_begin(w, DW_CLAIM);
			k = claim_search(w, owner, name, lvl, from_at, from_id, at, (int64) n - got, tids);
			got += (int64) claim_direct(w, rsinfo, tids, (uint64) k, lease_null, lease_until);
			direct_end(w);
			pfree(tids);
		}
		else
		{
			ItemPointerData *tids;
			uint64		k;
			uint64		i;

			args[0] = Int32GetDatum(owner);
			args[1] = PointerGetDatum(name);
			args[2] = Int32GetDatum(lvl);
			args[3] = TimestampTzGetDatum(from_at);
			args[4] = Int64GetDatum(from_id);
			args[5] = TimestampTzGetDatum(at);
			args[6] = Int64GetDatum((int64) n - got);
			args[7] = lease_until;
			if (lease_null)
				nulls[7] = 'n';
			if (SPI_execute_plan(claim_plan(CP_CLAIM), args, nulls, false, 0) != SPI_OK_SELECT)
				elog(ERROR, "claim failed");
			k = SPI_processed;
			tids = palloc(sizeof(ItemPointerData) * Max(k, 1));
			for (i = 0; i < k; i++)
			{
				bool		isnull;
				Datum		d = SPI_getbinval(SPI_tuptable->vals[i], SPI_tuptable->tupdesc, 1, &isnull);

				if (isnull)
					elog(ERROR, "claim returned no row position");
				tids[i] = *(ItemPointer) DatumGetPointer(d);
			}
			direct_begin(w, DW_CLAIM);
			got += (int64) claim_direct(w, rsinfo, tids, k, lease_null, lease_until);
			direct_end(w);
			pfree(tids);
		}
		if (got >= n)
			break;
		/* then the next level down */
		below_null = false;
		below = (int64) lvl - 1;
	}
	return got;
}

/*
 * task._claim(q task.queue, n integer, lease interval) → SETOF task.task:
 * claims up to n runnable tasks of a queue (higher priority first, FIFO
 * within a priority, SKIP LOCKED), from the queue's claim mark.
 */
Datum
task_claim(PG_FUNCTION_ARGS)
{
	Datum		qv[NUM_QUEUE_COLUMNS];
	bool		qnull[NUM_QUEUE_COLUMNS];

	InitMaterializedSRF(fcinfo, 0);
	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		return (Datum) 0;
	claim_cache_ensure();
	queue_values(PG_GETARG_HEAPTUPLEHEADER(0), qv, qnull);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	{
		DirectWrite w = {0};

		(void) claim_into(&w, (ReturnSetInfo *) fcinfo->resultinfo, PG_GETARG_HEAPTUPLEHEADER(0), qv, qnull,
						  PG_GETARG_INT32(1), PG_ARGISNULL(2), PG_ARGISNULL(2) ? (Datum) 0 : PG_GETARG_DATUM(2));
		direct_close(&w);
	}
	SPI_finish();
	return (Datum) 0;
}

/*
 * The insert of task_create without the executor's plan: a task row built
 * here and stored by direct_insert (the steps of ExecSimpleRelationInsert,
 * the routine logical replication applies an insert with), which runs the same BEFORE and
 * AFTER row triggers, NOT NULL checks and index entries as the INSERT it
 * replaces. What it saves is the plan's start-up: the INSERT's VALUES is a
 * 44-column projection built anew by every execution, and with the
 * RETURNING a sixth of a task_create's instructions (docs/QUEUE.md,
 * "Stop 22"). The columns task_create does not set take their defaults,
 * read once from the catalog: a constant, or now() (the transaction's
 * start, which the INSERT's now() is too); any other default (none today)
 * and the INSERT runs instead. Each write is framed as its statement
 * (direct_begin, direct_end): the statement-level triggers an operator
 * adds fire, transition tables are filled, and an update's SET list is the
 * claim's or the completion's. Not done: row-level security, which the
 * definer of the API functions, a superuser, bypasses anyway.
 */
typedef enum InsertColumn
{
	IC_OWNER, IC_ID, IC_STATUS, IC_CODE, IC_NAME, IC_QUEUE, IC_OBJECT, IC_DESCRIPTION,
	IC_PARAMETERS, IC_ETA, IC_RUN_AT, IC_ORDERING_KEY, IC_MAX_ATTEMPTS, IC_PRIORITY,
	IC_MAX_RUN_TIME,
	NUM_INSERT_COLUMNS,
	/* not set by task_create: read or written by the completion */
	IC_LEASE_TOKEN = NUM_INSERT_COLUMNS, IC_RESULT, IC_RESOURCE,
	/* ... by the claim */
	IC_ATTEMPTS, IC_LEASE_UNTIL, IC_REVISION,
	NUM_TASK_COLUMNS
} InsertColumn;

static const char *const insert_column_names[NUM_TASK_COLUMNS] = {
	"owner", "id", "status", "code", "name", "queue", "object", "description",
	"parameters", "eta", "run_at", "ordering_key", "max_attempts", "priority",
	"max_run_time", "lease_token", "result", "resource", "attempts", "lease_until", "revision"
};

/*
 * A trigger of a foreign key that a direct write may leave out, because
 * PostgreSQL would queue it for nothing or it would return at once: on an
 * update of task.task, the trigger of a key that references it
 * (RI_FKey_noaction_upd and the like: four keys since stop 39, from
 * task_access, task_dependency, market_task and task.task's own parent) when
 * the referenced columns are unchanged byte for byte or the old ones hold
 * a NULL, which is what RI_FKey_pk_upd_check_required tells
 * AfterTriggerSaveEvent before it queues the event; on an insert, the
 * check of task.task's own key (parent) when the new row's key is all
 * NULL, or has a NULL and is MATCH SIMPLE, where RI_FKey_check returns
 * without a look. A claim or a completion changes neither the id nor the
 * owner, and a task without a parent has a NULL key, so the checks of an
 * update (nine before stop 39: a twentieth of a drained task's
 * instructions) and the insert's queued event (a twentieth of a
 * task_create's) are not made.
 * When a row does not qualify (a BEFORE trigger changed a key, a task
 * with a parent), the write fires the full set.
 */
typedef struct RiSkip
{
	Oid			tgoid;
	bool		on_update;		/* PK side, ON UPDATE; else FK side, the insert's check */
	bool		simple;			/* MATCH SIMPLE (FK side) */
	int			nkeys;
	AttrNumber	keys[INDEX_MAX_KEYS];	/* confkey (PK side) or conkey (FK side) */
} RiSkip;

/* What a row of task.task is made of, kept until task.task's relcache entry is invalidated. */
static struct
{
	bool		valid;
	bool		direct;			/* every default a constant or now() */
	Oid			relid;
	int			natts;
	AttrNumber	attnum[NUM_TASK_COLUMNS];
	Oid			pkey;			/* task_pkey: (id, owner) */
	RegProcedure id_eq;			/* task_id = task_id */
	bool		search;			/* the two indexes below are as claim_search reads them */
	Oid			runnable;		/* task_runnable_idx: (hashtext(queue), priority DESC, run_at, id) */
	Oid			hash_collation; /* its hashtext's */
	RegProcedure run_at_cmp;	/* its comparison functions of run_at and id */
	RegProcedure id_cmp;
	Oid			ordering;		/* task_ordering_idx: (queue, ordering_key, ...) */
	AttrNumber	search_natts;	/* the last column the search reads */
	char	   *kind;			/* per column: 'n' NULL, 'c' constant, 't' now(), 's' set here */
	Datum	   *value;			/* the constants */
	int			nri;			/* the foreign keys' triggers a write may leave out: ri_skip_load */
	struct RiSkip *ri;
	TriggerDesc *upd_desc;		/* task.task's triggers less those (ri_desc), or NULL */
	TriggerDesc *ins_desc;
	int			nnotnull;		/* the NOT NULL columns of task.task (attnums) */
	AttrNumber *notnull;
	char		br_upd;			/* the tgenabled of task_transition when it is the only */
	char		br_ins;			/* BEFORE row trigger of an update, an insert; else 0 */
	bool		gate_only;		/* upd_desc's AFTER row triggers: the settle gate, and */
	int			nfkupd;			/* foreign keys' checks of an update of the referencing */
	AttrNumber	fkupd[INDEX_MAX_KEYS];	/* columns, all of one key (parent): none when NULL */
	MemoryContext cxt;
}			ins;

/*
 * What ExecOpenIndices builds for each index of task.task at every
 * statement (its IndexInfo: the columns, the expressions and the partial
 * predicate, copied from the relcache, planned and compiled), kept across
 * calls until the relcache entry of the table or of one of its indexes is
 * invalidated (an index created, dropped, reindexed or made ready is):
 * a fifth of a task_create's instructions, an eighth of a drained task's.
 * Each call still opens and locks every index, as the executor does.
 */
static struct
{
	bool		valid;
	int			n;
	Oid		   *oids;			/* in RelationGetIndexList's order */
	IndexInfo **info;
	MemoryContext cxt;
}			idx;

static void
insert_cache_inval(Datum arg, Oid relid)
{
	int			i;

	if (relid == InvalidOid || relid == ins.relid || relid == ins.runnable || relid == ins.ordering)
		ins.valid = idx.valid = false;
	/* an index of task.task changed: claim_search's indexes are looked up again too */
	for (i = 0; i < idx.n; i++)
		if (idx.oids[i] == relid)
			ins.valid = idx.valid = false;
}

/*
 * Whether task.task's runnable and ordering indexes are the ones
 * claim_search reads (by their columns; else the claim's search runs as
 * its statement, CP_CLAIM).
 */
static void
search_indexes_load(Relation rel)
{
	Oid			nsp = RelationGetNamespace(rel);
	Relation	idx;
	List	   *exprs;
	int			c;

	ins.search = false;
	ins.runnable = get_relname_relid("task_runnable_idx", nsp);
	ins.ordering = get_relname_relid("task_ordering_idx", nsp);
	ins.search_natts = 0;
	for (c = 0; c < NUM_TASK_COLUMNS; c++)
		ins.search_natts = Max(ins.search_natts, ins.attnum[c]);
	if (!OidIsValid(ins.runnable) || !OidIsValid(ins.ordering))
		return;
	idx = index_open(ins.runnable, AccessShareLock);
	exprs = RelationGetIndexExpressions(idx);
	ins.search = idx->rd_index->indrelid == RelationGetRelid(rel) &&
		IndexRelationGetNumberOfKeyAttributes(idx) == 4 &&
		idx->rd_rel->relam == BTREE_AM_OID &&
		idx->rd_index->indkey.values[0] == 0 &&
		idx->rd_index->indkey.values[1] == ins.attnum[IC_PRIORITY] &&
		idx->rd_index->indkey.values[2] == ins.attnum[IC_RUN_AT] &&
		idx->rd_index->indkey.values[3] == ins.attnum[IC_ID] &&
		list_length(exprs) == 1 && IsA(linitial(exprs), FuncExpr) &&
		((FuncExpr *) linitial(exprs))->funcid == F_HASHTEXT &&
		list_length(((FuncExpr *) linitial(exprs))->args) == 1 &&
		IsA(linitial(((FuncExpr *) linitial(exprs))->args), Var) &&
		((Var *) linitial(((FuncExpr *) linitial(exprs))->args))->varattno == ins.attnum[IC_QUEUE];
	if (ins.search)
	{
		ins.hash_collation = ((FuncExpr *) linitial(exprs))->inputcollid;
		ins.run_at_cmp = get_opfamily_proc(idx->rd_opfamily[2], idx->rd_opcintype[2], idx->rd_opcintype[2],
										   BTORDER_PROC);
		ins.id_cmp = get_opfamily_proc(idx->rd_opfamily[3], idx->rd_opcintype[3], idx->rd_opcintype[3],
									   BTORDER_PROC);
		ins.search = RegProcedureIsValid(ins.run_at_cmp) && RegProcedureIsValid(ins.id_cmp) &&
			(idx->rd_indoption[2] & INDOPTION_DESC) == 0 && (idx->rd_indoption[3] & INDOPTION_DESC) == 0;
	}
	index_close(idx, AccessShareLock);
	idx = index_open(ins.ordering, AccessShareLock);
	ins.search = ins.search && idx->rd_index->indrelid == RelationGetRelid(rel) &&
		idx->rd_rel->relam == BTREE_AM_OID &&
		IndexRelationGetNumberOfKeyAttributes(idx) >= 2 &&
		idx->rd_index->indkey.values[0] == ins.attnum[IC_QUEUE] &&
		idx->rd_index->indkey.values[1] == ins.attnum[IC_ORDERING_KEY];
	index_close(idx, AccessShareLock);
}

static TriggerDesc *ri_desc(TriggerDesc *desc, bool on_update);

/*
 * The tgenabled of the trigger task_transition when it is the only BEFORE
 * row trigger of td for event (TRIGGER_TYPE_INSERT or _UPDATE), with no
 * WHEN, column list or arguments: then a direct write does its work itself
 * (task_transition_row, direct_form) where the trigger would fire. Else 0.
 */
static char
br_only_transition(TriggerDesc *td, int16 event)
{
	char		enabled = 0;
	int			i;

	for (i = 0; i < td->numtriggers; i++)
	{
		Trigger    *t = &td->triggers[i];
		FmgrInfo	f;

		if (!TRIGGER_FOR_ROW(t->tgtype) || !TRIGGER_FOR_BEFORE(t->tgtype) || !(t->tgtype & event))
			continue;
		if (enabled != 0 || t->tgqual != NULL || t->tgnattr > 0 || t->tgnargs > 0)
			return 0;
		fmgr_info(t->tgfoid, &f);
		if (f.fn_addr != task_transition)
			return 0;
		enabled = t->tgenabled;
	}
	return enabled;
}

/*
 * The columns of the foreign key of trigger t (referenced: the referenced
 * table's; else the referencing one's) into keys, and whether it is MATCH
 * SIMPLE; false when its constraint is not found.
 */
static bool
fk_columns(Trigger *t, bool referenced, int *nkeys, AttrNumber *keys, bool *simple)
{
	HeapTuple	con = SearchSysCache1(CONSTROID, ObjectIdGetDatum(t->tgconstraint));
	AttrNumber	conkey[INDEX_MAX_KEYS];
	AttrNumber	confkey[INDEX_MAX_KEYS];
	Oid			pf[INDEX_MAX_KEYS];
	Oid			pp[INDEX_MAX_KEYS];
	Oid			ff[INDEX_MAX_KEYS];
	AttrNumber	delset[INDEX_MAX_KEYS];
	int			ndelset;

	if (!HeapTupleIsValid(con))
		return false;
	DeconstructFkConstraintRow(con, nkeys, conkey, confkey, pf, pp, ff, &ndelset, delset);
	*simple = ((Form_pg_constraint) GETSTRUCT(con))->confmatchtype == FKCONSTR_MATCH_SIMPLE;
	ReleaseSysCache(con);
	memcpy(keys, referenced ? confkey : conkey, sizeof(AttrNumber) * *nkeys);
	return true;
}

/*
 * ins.gate_only: whether the AFTER row triggers of an update left in
 * ins.upd_desc are the settle gate (task._settle_gate) and the check of
 * one foreign key (MATCH SIMPLE) of the updated table's own columns,
 * which queues nothing for a row with a NULL in its key
 * (RI_FKey_fk_upd_check_required); no transition tables.
 */
static void
gate_only_load(void)
{
	Oid			gate = LookupFuncName(list_make2(makeString("task"), makeString("_settle_gate")), 0, NULL, true);
	int			ngate = 0;
	int			other = 0;
	int			i;

	ins.gate_only = false;
	ins.nfkupd = 0;
	if (ins.upd_desc == NULL || ins.upd_desc->trig_update_old_table || ins.upd_desc->trig_update_new_table ||
		!OidIsValid(gate))
		return;
	for (i = 0; i < ins.upd_desc->numtriggers; i++)
	{
		Trigger    *t = &ins.upd_desc->triggers[i];
		bool		simple;

		if (!TRIGGER_FOR_ROW(t->tgtype) || !TRIGGER_FOR_AFTER(t->tgtype) || !TRIGGER_FOR_UPDATE(t->tgtype))
			continue;
		if (t->tgfoid == gate)
		{
			ngate++;
			continue;
		}
		/* MATCH SIMPLE: a NULL in any column of the key, and no check */
		if (RI_FKey_trigger_type(t->tgfoid) != RI_TRIGGER_FK || ins.nfkupd > 0 ||
			!fk_columns(t, false, &ins.nfkupd, ins.fkupd, &simple) || !simple)
			other++;
	}
	ins.gate_only = ngate == 1 && other == 0;
}

/* Whether the foreign keys' update checks gate_only_load found queue nothing for slot (a NULL key). */
static bool
fkupd_idle(TupleTableSlot *slot)
{
	int			k;

	for (k = 0; k < ins.nfkupd; k++)
	{
		bool		isnull;

		(void) slot_getattr(slot, ins.fkupd[k], &isnull);
		if (isnull)
			return true;
	}
	return ins.nfkupd == 0;
}

/*
 * ins.ri: the triggers of rel (task.task) a write may leave out (RiSkip);
 * ins.upd_desc and ins.ins_desc: its triggers without them.
 */
static void
ri_skip_load(Relation rel)
{
	TriggerDesc *td = rel->trigdesc;
	int			i;

	ins.nri = 0;
	ins.ri = NULL;
	if (td == NULL)
		return;
	ins.ri = MemoryContextAllocZero(ins.cxt, sizeof(RiSkip) * td->numtriggers);
	for (i = 0; i < td->numtriggers; i++)
	{
		Trigger    *t = &td->triggers[i];
		int			type = RI_FKey_trigger_type(t->tgfoid);
		bool		on_update = type == RI_TRIGGER_PK &&
			t->tgtype == (TRIGGER_TYPE_ROW | TRIGGER_TYPE_UPDATE);
		bool		on_insert = type == RI_TRIGGER_FK &&
			t->tgtype == (TRIGGER_TYPE_ROW | TRIGGER_TYPE_INSERT);
		RiSkip	   *r = &ins.ri[ins.nri];

		if (!on_update && !on_insert)
			continue;
		if (!fk_columns(t, on_update, &r->nkeys, r->keys, &r->simple))
			continue;			/* not a key after all: left in */
		r->tgoid = t->tgoid;
		r->on_update = on_update;
		ins.nri++;
	}
	ins.upd_desc = ri_desc(td, true);
	ins.ins_desc = ri_desc(td, false);
	gate_only_load();
	ins.br_upd = br_only_transition(td, TRIGGER_TYPE_UPDATE);
	ins.br_ins = br_only_transition(td, TRIGGER_TYPE_INSERT);
}

/*
 * A copy of desc (task.task's triggers) in ins.cxt, less the ones ins.ri
 * says an update (on_update) or an insert may leave out; NULL when none is.
 */
static TriggerDesc *
ri_desc(TriggerDesc *desc, bool on_update)
{
	TriggerDesc *f;
	MemoryContext old;
	int			i;
	int			j;

	if (desc == NULL || ins.nri == 0)
		return NULL;
	old = MemoryContextSwitchTo(ins.cxt);
	f = CopyTriggerDesc(desc);
	MemoryContextSwitchTo(old);
	f->numtriggers = 0;
	f->trig_insert_after_row = f->trig_update_after_row = false;
	for (i = 0; i < desc->numtriggers; i++)
	{
		Trigger    *t = &desc->triggers[i];
		bool		out = false;

		for (j = 0; j < ins.nri && !out; j++)
			out = ins.ri[j].tgoid == t->tgoid && ins.ri[j].on_update == on_update;
		if (out)
			continue;
		f->triggers[f->numtriggers++] = f->triggers[i];
		if (TRIGGER_FOR_ROW(t->tgtype) && TRIGGER_FOR_AFTER(t->tgtype))
		{
			f->trig_insert_after_row |= TRIGGER_FOR_INSERT(t->tgtype);
			f->trig_update_after_row |= TRIGGER_FOR_UPDATE(t->tgtype);
		}
	}
	return f->numtriggers < desc->numtriggers ? f : NULL;
}

/*
 * Whether every trigger ri_desc left out of an update (old: the version
 * updated) or an insert (old NULL) would do nothing for the row in slot.
 */
static bool
ri_skippable(TupleTableSlot *old, TupleTableSlot *slot)
{
	int			j;
	int			k;

	for (j = 0; j < ins.nri; j++)
	{
		RiSkip	   *r = &ins.ri[j];
		int			nulls = 0;
		bool		same = true;

		if (r->on_update != (old != NULL))
			continue;
		for (k = 0; k < r->nkeys; k++)
		{
			bool		isnull;
			Datum		v = slot_getattr(old != NULL ? old : slot, r->keys[k], &isnull);

			if (isnull)
				nulls++;
			else if (old != NULL && same)
			{
				Form_pg_attribute att = TupleDescAttr(slot->tts_tupleDescriptor, r->keys[k] - 1);
				bool		newnull;
				Datum		nv = slot_getattr(slot, r->keys[k], &newnull);

				same = !newnull && datum_image_eq(v, nv, att->attbyval, att->attlen);
			}
		}
		if (old != NULL ? (nulls == 0 && !same) : !(nulls == r->nkeys || (nulls > 0 && r->simple)))
			return false;
	}
	return true;
}

static void
insert_cache_load(Relation rel)
{
	TupleDesc	desc = RelationGetDescr(rel);
	static bool registered = false;
	MemoryContext old;
	int			c;
	int			i;

	if (!registered)
	{
		CacheRegisterRelcacheCallback(insert_cache_inval, (Datum) 0);
		registered = true;
	}
	/* as idx's (index_cache_load): what a write of this transaction may still read */
	if (ins.cxt != NULL)
		MemoryContextSetParent(ins.cxt, TopTransactionContext);
	ins.cxt = AllocSetContextCreate(CacheMemoryContext, "task insert", ALLOCSET_SMALL_SIZES);
	ins.relid = RelationGetRelid(rel);
	ins.natts = desc->natts;
	ins.direct = true;
	old = MemoryContextSwitchTo(ins.cxt);
	ins.kind = palloc(desc->natts);
	ins.value = palloc0(sizeof(Datum) * desc->natts);
	MemoryContextSwitchTo(old);
	for (c = 0; c < NUM_TASK_COLUMNS; c++)
	{
		ins.attnum[c] = SPI_fnumber(desc, insert_column_names[c]);
		if (ins.attnum[c] <= 0)
			elog(ERROR, "column %s of task.task is missing", insert_column_names[c]);
	}
	ins.pkey = RelationGetPrimaryKeyIndex(rel);
	if (!OidIsValid(ins.pkey))
		elog(ERROR, "task.task has no primary key");
	{
		Relation	idx = index_open(ins.pkey, AccessShareLock);
		Oid			op;

		if (IndexRelationGetNumberOfKeyAttributes(idx) != 2 ||
			idx->rd_index->indkey.values[0] != ins.attnum[IC_ID] ||
			idx->rd_index->indkey.values[1] != ins.attnum[IC_OWNER])
			elog(ERROR, "the primary key of task.task is not (id, owner)");
		op = get_opfamily_member(idx->rd_opfamily[0], idx->rd_opcintype[0], idx->rd_opcintype[0],
								 BTEqualStrategyNumber);
		if (!OidIsValid(op))
			elog(ERROR, "no equality operator for task.task_id");
		ins.id_eq = get_opcode(op);
		index_close(idx, AccessShareLock);
	}
	search_indexes_load(rel);
	ri_skip_load(rel);
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);
		Node	   *def;

		ins.kind[i] = 'n';
		for (c = 0; c < NUM_INSERT_COLUMNS; c++)
			if (ins.attnum[c] == i + 1)
				ins.kind[i] = 's';
		if (ins.kind[i] == 's' || att->attisdropped || att->attgenerated)
			continue;
		def = build_column_default(rel, i + 1);
		if (def == NULL)
			continue;
		if (IsA(def, Const))
		{
			Const	   *k = (Const *) def;

			if (!k->constisnull)
			{
				ins.kind[i] = 'c';
				old = MemoryContextSwitchTo(ins.cxt);
				ins.value[i] = datumCopy(k->constvalue, k->constbyval, k->constlen);
				MemoryContextSwitchTo(old);
			}
		}
		else if (IsA(def, FuncExpr) && ((FuncExpr *) def)->funcid == F_NOW &&
				 att->atttypid == TIMESTAMPTZOID)
			ins.kind[i] = 't';
		else
			ins.direct = false;
	}
	ins.notnull = MemoryContextAlloc(ins.cxt, sizeof(AttrNumber) * desc->natts);
	ins.nnotnull = 0;
	for (i = 0; i < desc->natts; i++)
		if (TupleDescAttr(desc, i)->attnotnull && !TupleDescAttr(desc, i)->attisdropped)
			ins.notnull[ins.nnotnull++] = i + 1;
	ins.valid = true;
}

/* Builds idx from the open indexes of task.task (descs, in list order). */
static void
index_cache_load(Relation *descs, int n)
{
	MemoryContext old;
	int			i;

	/*
	 * The IndexInfos of the last load may still be in use by a write of
	 * this transaction (a trigger's write nested in it): freed at its end.
	 */
	if (idx.cxt != NULL)
		MemoryContextSetParent(idx.cxt, TopTransactionContext);
	idx.cxt = AllocSetContextCreate(CacheMemoryContext, "task indexes", ALLOCSET_SMALL_SIZES);
	idx.n = 0;
	old = MemoryContextSwitchTo(idx.cxt);
	idx.oids = palloc(sizeof(Oid) * Max(n, 1));
	idx.info = palloc(sizeof(IndexInfo *) * Max(n, 1));
	for (i = 0; i < n; i++)
	{
		IndexInfo  *ii = BuildIndexInfo(descs[i]);

		/* what ExecPrepareQual and FormIndexDatum would prepare per statement */
		if (ii->ii_Predicate != NIL)
			ii->ii_PredicateState = ExecInitQual((List *) expression_planner((Expr *) ii->ii_Predicate), NULL);
		if (ii->ii_Expressions != NIL)
		{
			ListCell   *lc;

			foreach(lc, ii->ii_Expressions)
				ii->ii_ExpressionsState = lappend(ii->ii_ExpressionsState,
												  ExecInitExpr(expression_planner((Expr *) lfirst(lc)), NULL));
		}
		idx.oids[i] = RelationGetRelid(descs[i]);
		idx.info[i] = ii;
	}
	MemoryContextSwitchTo(old);
	idx.n = n;
	idx.valid = true;
}

/*
 * The indexes of task.task for a write (w->rel open and locked, so
 * invalidations read): idx, loaded again if out of date (every index then
 * opened to build it), and the primary key opened. The other indexes are
 * opened by direct_indexes_for when a row written has an entry in them: of
 * the ten, a queued task has entries in three, and opening and locking
 * the seven others cost a tenth of a task_create.
 */
static void
direct_open_indices(DirectWrite *w)
{
	List	   *oids = RelationGetIndexList(w->rel);
	int			n = list_length(oids);
	bool		same = idx.valid && idx.n == n;
	ListCell   *lc;
	int			i = 0;

	w->nidx = n;
	w->idx_oid = palloc(sizeof(Oid) * Max(n, 1));
	w->idx_rel = palloc0(sizeof(Relation) * Max(n, 1));
	w->idx_info = palloc(sizeof(IndexInfo *) * Max(n, 1));
	foreach(lc, oids)
	{
		w->idx_oid[i] = lfirst_oid(lc);
		same = same && idx.oids[i] == w->idx_oid[i];
		i++;
	}
	list_free(oids);
	if (!same)
	{
		for (i = 0; i < n; i++)
			w->idx_rel[i] = index_open(w->idx_oid[i], RowExclusiveLock);
		index_cache_load(w->idx_rel, n);
	}
	w->pkey = NULL;
	for (i = 0; i < n; i++)
	{
		w->idx_info[i] = idx.info[i];
		if (w->idx_oid[i] == ins.pkey)
		{
			if (w->idx_rel[i] == NULL)
				w->idx_rel[i] = index_open(w->idx_oid[i], RowExclusiveLock);
			w->pkey = w->idx_rel[i];
		}
	}
	if (w->pkey == NULL)
		elog(ERROR, "the primary key of task.task is not open");
	w->rri->ri_IndexRelationDescs = palloc(sizeof(Relation) * Max(n, 1));
	w->rri->ri_IndexRelationInfo = palloc(sizeof(IndexInfo *) * Max(n, 1));
	w->rri->ri_NumIndices = 0;
}

/*
 * Points the result relation at the indexes the row in slot (as it is
 * stored, after the BEFORE triggers) has entries in, as ExecOpenIndices
 * would at all of them: an index not ready for inserts or whose
 * predicate the row does not meet is one ExecInsertIndexTuples skips.
 */
static void
direct_indexes_for(DirectWrite *w, TupleTableSlot *slot)
{
	ExprContext *econtext = GetPerTupleExprContext(w->estate);
	ResultRelInfo *rri = w->rri;
	int			n = 0;
	int			i;

	econtext->ecxt_scantuple = slot;
	for (i = 0; i < w->nidx; i++)
	{
		IndexInfo  *ii = w->idx_info[i];

		if (!ii->ii_ReadyForInserts ||
			(ii->ii_PredicateState != NULL && !ExecQual(ii->ii_PredicateState, econtext)))
			continue;
		if (w->idx_rel[i] == NULL)
			w->idx_rel[i] = index_open(w->idx_oid[i], RowExclusiveLock);
		ii->ii_CheckedUnchanged = false;
		rri->ri_IndexRelationDescs[n] = w->idx_rel[i];
		rri->ri_IndexRelationInfo[n] = ii;
		n++;
	}
	rri->ri_NumIndices = n;
}

/*
 * ExecSimpleRelationInsert and ExecSimpleRelationUpdate (logical
 * replication's apply), step for step -- the replica identity check, the
 * BEFORE row triggers, generated columns and constraints, the tuple, its
 * index entries, the AFTER row triggers -- but for the indexes: those the
 * row as stored has entries in (direct_indexes_for). False: a BEFORE
 * trigger skipped the row.
 */
/* The row after the BEFORE triggers: generated columns, constraints. */
static void
direct_check_row(DirectWrite *w, TupleTableSlot *slot, CmdType cmd)
{
	TupleDesc	desc = RelationGetDescr(w->rel);
	TupleConstr *constr = desc->constr;

	if (constr && constr->has_generated_stored)
		ExecComputeStoredGenerated(w->rri, w->estate, slot, cmd);
	if (constr && constr->num_check == 0 && !constr->has_generated_stored &&
		TTS_IS_HEAPTUPLE(slot))
	{
		/*
		 * Without CHECK constraints, ExecConstraints checks NOT NULL, every
		 * column in turn (a twentieth of an insert's instructions for 44):
		 * here the formed row's null bitmap, at the NOT NULL columns only;
		 * a NULL found, ExecConstraints raises the error as it would.
		 */
		HeapTuple	tuple = ExecFetchSlotHeapTuple(slot, false, NULL);
		int			i;

		for (i = 0; i < ins.nnotnull; i++)
			if (heap_attisnull(tuple, ins.notnull[i], desc))
			{
				ExecConstraints(w->rri, slot, w->estate);
				break;
			}
	}
	else if (constr)
		ExecConstraints(w->rri, slot, w->estate);
	if (w->rel->rd_rel->relispartition)
		ExecPartitionCheck(w->rri, slot, w->estate, true);
}

/*
 * A BEFORE row trigger of task.task returned NULL for a write of the API
 * (what: insert, claim or completion): the call cannot half-happen.
 */
static void
trigger_skipped(const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_TRIGGERED_ACTION_EXCEPTION),
			 errmsg("a trigger on task.task skipped the %s of a task", what),
			 errhint("A BEFORE trigger on task.task must return the row for the extension's writes.")));
}

/* Whether the update of old into slot moves the task into completed (the direct writes' one final status). */
static bool
settles(TupleTableSlot *old, TupleTableSlot *slot)
{
	bool		n1;
	bool		n2;
	Datum		from = slot_getattr(old, ins.attnum[IC_STATUS], &n1);
	Datum		to = slot_getattr(slot, ins.attnum[IC_STATUS], &n2);

	return !n1 && !n2 && DatumGetObjectId(to) == claim_cache.completed && DatumGetObjectId(from) != claim_cache.completed;
}

/*
 * The AFTER row triggers of an insert (old NULL) or an update of old's
 * version: without the foreign keys' triggers that would do nothing for
 * this row (desc, when: ri_desc's, RiSkip), else all of them.
 */
static void
direct_after(DirectWrite *w, TriggerDesc *desc, ExprState **when, TupleTableSlot *old,
			 TupleTableSlot *slot, List *recheck)
{
	ResultRelInfo *rri = w->rri;
	TriggerDesc *all = rri->ri_TrigDesc;
	ExprState **allwhen = rri->ri_TrigWhenExprs;

	if (desc != NULL && ri_skippable(old, slot))
	{
		/*
		 * A completion whose only AFTER row trigger left is the settle
		 * gate, which would do nothing for this row: no event queued
		 * (its firing at the end of the statement, the tuples fetched
		 * again, was a twelfth of a drained task's instructions).
		 */
		if (old != NULL && ins.gate_only && w->tcs == NULL && recheck == NIL &&
			settles(old, slot) && fkupd_idle(slot) &&
			!task_settle_gate_acts(w->rel, ExecFetchSlotHeapTuple(slot, false, NULL)))
			return;
		rri->ri_TrigDesc = desc;
		rri->ri_TrigWhenExprs = when;
	}
	if (old == NULL)
		ExecARInsertTriggers(w->estate, rri, slot, recheck, w->tcs);
	else
		ExecARUpdateTriggers(w->estate, rri, NULL, NULL, &old->tts_tid, NULL, slot, recheck, w->tcs, false);

	/*
	 * The whole set again before the events fire (direct_end): they find
	 * their trigger, and its function's cache, by position in it. An
	 * error above ends the call and its result relation with it.
	 */
	rri->ri_TrigDesc = all;
	rri->ri_TrigWhenExprs = allwhen;
}

static bool
direct_insert(DirectWrite *w, TupleTableSlot *slot)
{
	ResultRelInfo *rri = w->rri;
	List	   *recheck = NIL;

	CheckCmdReplicaIdentity(w->rel, CMD_INSERT);
	if (!w->br_done && rri->ri_TrigDesc && rri->ri_TrigDesc->trig_insert_before_row &&
		!ExecBRInsertTriggers(w->estate, rri, slot))
		return false;
	direct_check_row(w, slot, CMD_INSERT);
	simple_table_tuple_insert(w->rel, slot);
	direct_indexes_for(w, slot);
	if (rri->ri_NumIndices > 0)
		recheck = ExecInsertIndexTuples(rri, slot, w->estate, false, false, NULL, NIL);
	direct_after(w, ins.ins_desc, w->ins_when, NULL, slot, recheck);
	list_free(recheck);
	return true;
}

static bool
direct_update(DirectWrite *w, TupleTableSlot *oldslot, TupleTableSlot *slot)
{
	ResultRelInfo *rri = w->rri;
	ItemPointer tid = &oldslot->tts_tid;
	List	   *recheck = NIL;
	bool		update_indexes;

	CheckCmdReplicaIdentity(w->rel, CMD_UPDATE);
	if (!w->br_done && rri->ri_TrigDesc && rri->ri_TrigDesc->trig_update_before_row &&
		!ExecBRUpdateTriggers(w->estate, &w->epq, rri, tid, NULL, slot, NULL))
		return false;
	direct_check_row(w, slot, CMD_UPDATE);
	simple_table_tuple_update(w->rel, tid, slot, w->estate->es_snapshot, &update_indexes);
	if (update_indexes)
	{
		direct_indexes_for(w, slot);
		if (rri->ri_NumIndices > 0)
			recheck = ExecInsertIndexTuples(rri, slot, w->estate, true, false, NULL, NIL);
	}
	direct_after(w, ins.upd_desc, w->upd_when, oldslot, slot, recheck);
	list_free(recheck);
	return true;
}

/* task.task, opened for a direct write, its cache up to date. */
static Relation
task_rel_open(void)
{
	Relation	rel = table_open(claim_cache.task_relid, RowExclusiveLock);

	if (!ins.valid || ins.relid != RelationGetRelid(rel) || ins.natts != RelationGetDescr(rel)->natts)
		insert_cache_load(rel);
	return rel;
}

static void
direct_open(DirectWrite *w)
{
	RangeTblEntry *rte;
	static const InsertColumn claim_set[] = {IC_STATUS, IC_ATTEMPTS, IC_LEASE_TOKEN, IC_LEASE_UNTIL};
	static const InsertColumn complete_set[] = {IC_STATUS, IC_RESULT, IC_RESOURCE};
	int			i;

	if (w->open)
		return;
	w->rel = task_rel_open();
	w->estate = CreateExecutorState();
	rte = makeNode(RangeTblEntry);
	rte->rtekind = RTE_RELATION;
	rte->relid = RelationGetRelid(w->rel);
	rte->relkind = w->rel->rd_rel->relkind;
	rte->rellockmode = RowExclusiveLock;

	/*
	 * The columns the claim and the completion set, each as its UPDATE's
	 * SET list was (a trigger "UPDATE OF" a column fires by it): put in
	 * updatedCols by direct_begin; an insert has none.
	 */
	w->claim_cols = w->complete_cols = NULL;
	for (i = 0; i < (int) lengthof(claim_set); i++)
		w->claim_cols = bms_add_member(w->claim_cols, ins.attnum[claim_set[i]] - FirstLowInvalidHeapAttributeNumber);
	for (i = 0; i < (int) lengthof(complete_set); i++)
		w->complete_cols = bms_add_member(w->complete_cols,
										  ins.attnum[complete_set[i]] - FirstLowInvalidHeapAttributeNumber);
	w->rte = rte;
	ExecInitRangeTable(w->estate, list_make1(rte));
	w->rri = makeNode(ResultRelInfo);
	InitResultRelInfo(w->rri, w->rel, 1, NULL, 0);
	w->estate->es_opened_result_relations = lappend(w->estate->es_opened_result_relations, w->rri);
	direct_open_indices(w);
	EvalPlanQualInit(&w->epq, w->estate, NULL, NIL, -1);
	w->old = table_slot_create(w->rel, &w->estate->es_tupleTable);
	w->scan = table_slot_create(w->rel, &w->estate->es_tupleTable);
	w->probe = table_slot_create(w->rel, &w->estate->es_tupleTable);
	w->new = ExecInitExtraTupleSlot(w->estate, RelationGetDescr(w->rel), &TTSOpsHeapTuple);
	w->values = palloc(sizeof(Datum) * RelationGetDescr(w->rel)->natts);
	w->isnull = palloc(sizeof(bool) * RelationGetDescr(w->rel)->natts);
	/* the WHEN states of the triggers without the keys' (ri_desc), compiled when first read */
	w->upd_when = ins.upd_desc ? palloc0(sizeof(ExprState *) * Max(ins.upd_desc->numtriggers, 1)) : NULL;
	w->ins_when = ins.ins_desc ? palloc0(sizeof(ExprState *) * Max(ins.ins_desc->numtriggers, 1)) : NULL;
	w->open = true;
}

/*
 * Begins a write framed as one statement of its kind (an INSERT, or an
 * UPDATE with the claim's or the completion's SET list): what this
 * transaction did so far visible, a new snapshot, AFTER triggers
 * collected, the transition tables of task.task's triggers that have
 * them, and its BEFORE statement triggers fired, as the executor's
 * start-up and ModifyTable's first row would.
 */
static void
direct_begin(DirectWrite *w, DirectKind kind)
{
	CmdType		cmd = kind == DW_INSERT ? CMD_INSERT : CMD_UPDATE;
	TriggerDesc *td;

	direct_open(w);
	w->rte->updatedCols = kind == DW_CLAIM ? w->claim_cols : kind == DW_COMPLETE ? w->complete_cols : NULL;
	CommandCounterIncrement();
	PushActiveSnapshot(GetTransactionSnapshot());
	w->estate->es_snapshot = GetActiveSnapshot();
	w->estate->es_output_cid = GetCurrentCommandId(true);
	AfterTriggerBeginQuery();
	w->cmd = cmd;
	w->tcs = NULL;
	td = w->rri->ri_TrigDesc;
	if (td != NULL)
	{
		w->tcs = MakeTransitionCaptureState(td, RelationGetRelid(w->rel), cmd);
		if (cmd == CMD_INSERT)
			ExecBSInsertTriggers(w->estate, w->rri);
		else
			ExecBSUpdateTriggers(w->estate, w->rri);
	}
}

/*
 * Ends it: the AFTER statement triggers queued, then the AFTER triggers
 * fire, as at the end of a statement.
 */
static void
direct_end(DirectWrite *w)
{
	if (w->rri->ri_TrigDesc != NULL)
	{
		if (w->cmd == CMD_INSERT)
			ExecASInsertTriggers(w->estate, w->rri, w->tcs);
		else
			ExecASUpdateTriggers(w->estate, w->rri, w->tcs);
	}
	AfterTriggerEndQuery(w->estate);
	w->tcs = NULL;
	ExecClearTuple(w->old);
	ExecClearTuple(w->new);
	PopActiveSnapshot();
}

/* The row to write (w->values, w->isnull), a copy of the version in w->old (which it reads). */
static void
direct_new_row(DirectWrite *w)
{
	int			natts = RelationGetDescr(w->rel)->natts;

	slot_getallattrs(w->old);
	memcpy(w->values, w->old->tts_values, sizeof(Datum) * natts);
	memcpy(w->isnull, w->old->tts_isnull, sizeof(bool) * natts);
}

/*
 * The row to write, formed once in w->new: the BEFORE trigger reads it as
 * it is, and the table stores what the trigger returns (a virtual slot was
 * formed for the trigger and again for the table).
 */
static TupleTableSlot *
direct_form(DirectWrite *w, TupleTableSlot *old)
{
	char		enabled = old != NULL ? ins.br_upd : ins.br_ins;

	/* as TriggerEnabled decides whether the trigger fires */
	w->br_done = enabled == TRIGGER_FIRES_ALWAYS ||
		(SessionReplicationRole == SESSION_REPLICATION_ROLE_REPLICA ?
		 enabled == TRIGGER_FIRES_ON_REPLICA : enabled == TRIGGER_FIRES_ON_ORIGIN);
	if (w->br_done)
		task_transition_row(w->rel, old != NULL ? old->tts_values : NULL, old != NULL ? old->tts_isnull : NULL,
							w->values, w->isnull);
	return ExecStoreHeapTuple(heap_form_tuple(RelationGetDescr(w->rel), w->values, w->isnull), w->new, true);
}

/* Closes what direct_open opened (before SPI_finish: it lives in SPI's memory). */
static void
direct_close(DirectWrite *w)
{
	int			i;

	if (!w->open)
		return;
	/* the indexes direct_open_indices and direct_indexes_for opened, as ExecCloseIndices */
	w->rri->ri_NumIndices = 0;
	for (i = 0; i < w->nidx; i++)
		if (w->idx_rel[i] != NULL)
			index_close(w->idx_rel[i], RowExclusiveLock);
	EvalPlanQualEnd(&w->epq);
	ExecCloseResultRelations(w->estate);
	ExecResetTupleTable(w->estate->es_tupleTable, false);
	FreeExecutorState(w->estate);
	table_close(w->rel, NoLock);
	w->open = false;
}

/*
 * One row of a direct insert (w begun, ins.direct): v and isnull hold the
 * values of the insert columns (IC_ID is made here, from the serial), the
 * other columns get their defaults (now: the transaction's start, as the
 * INSERT's now()). Returns the slot holding the row as stored.
 */
static TupleTableSlot *
insert_row(DirectWrite *w, Datum *v, bool *isnull, TimestampTz now)
{
	TupleTableSlot *slot;
	int			i;
	int			c;

	for (i = 0; i < ins.natts; i++)
	{
		w->isnull[i] = ins.kind[i] == 'n';
		w->values[i] = ins.kind[i] == 'c' ? ins.value[i] :
			ins.kind[i] == 't' ? TimestampTzGetDatum(now) : (Datum) 0;
	}
	v[IC_ID] = DirectFunctionCall2(task_id_make, v[IC_OWNER],
								   DirectFunctionCall1(nextval_oid, ObjectIdGetDatum(claim_cache.serial_seq)));
	isnull[IC_ID] = false;
	for (c = 0; c < NUM_INSERT_COLUMNS; c++)
	{
		w->values[ins.attnum[c] - 1] = isnull[c] ? (Datum) 0 : v[c];
		w->isnull[ins.attnum[c] - 1] = isnull[c];
	}
	slot = direct_form(w, NULL);
	if (!direct_insert(w, slot))
		trigger_skipped("insert");
	return slot;
}

/*
 * Inserts a task (SPI connected, the cache loaded): v and isnull hold the
 * values of the insert columns (IC_ID is made here). Returns the row as
 * stored, a task.task in the current (SPI's) memory; or (Datum) 0 when a
 * default of task.task asks for the INSERT statement instead.
 */
static Datum
insert_direct(Datum *v, bool *isnull)
{
	DirectWrite w = {0};
	TupleTableSlot *slot;
	Datum		row;

	direct_open(&w);
	if (!ins.direct)
	{
		direct_close(&w);
		return (Datum) 0;
	}
	direct_begin(&w, DW_INSERT);
	slot = insert_row(&w, v, isnull, GetCurrentTransactionStartTimestamp());
	row = ExecFetchSlotHeapTupleDatum(slot);
	direct_end(&w);
	direct_close(&w);
	return row;
}

/* Whether a version of a task is one the completion takes: processing, under this claim unless forced. */
static bool
completable(TupleTableSlot *slot, bool token_isnull, Datum token, bool force)
{
	bool		isnull;
	Datum		status = slot_getattr(slot, ins.attnum[IC_STATUS], &isnull);
	Datum		held;

	if (isnull || DatumGetObjectId(status) != claim_cache.processing)
		return false;
	if (force)
		return true;
	held = slot_getattr(slot, ins.attnum[IC_LEASE_TOKEN], &isnull);
	if (isnull || token_isnull)
		return isnull && token_isnull;
	return DatumGetInt64(held) == DatumGetInt64(token);
}

/*
 * The completion's UPDATE without its plan (as the insert above): the
 * task's visible version by the primary key, then locked at its latest
 * version and checked again, as the UPDATE's re-check under READ COMMITTED
 * does (another transaction's rescue or heartbeat may have changed it),
 * then updated by direct_update (ExecSimpleRelationUpdate's steps): the same row triggers, index
 * entries and "UPDATE OF status" trigger as the statement. The caller's
 * right to write is task._may_write's (its owner service, or the system).
 * Returns whether it completed the task; *row is then the completed row,
 * a task.task in the current (SPI's) memory. Not completed: the caller
 * asks task._write_failed why.
 */
/*
 * Where this backend's recent claims wrote their tasks' new versions, by
 * task id (a direct-mapped memo of CLAIMED_TIDS entries; a collision
 * overwrites): a worker completes what its own connection claimed, and
 * fetching that version by its tid costs a tenth of a search of the
 * primary key (whose entries of the task's earlier versions are visited
 * too). An entry only says where to look: the version there counts when
 * it is visible to the snapshot and is the task's row (its id and owner),
 * so the row the search would have found (one version of a row is visible
 * to a snapshot); else the search runs as before. A rewrite of the table
 * (a new relfilenode), a block cut off by VACUUM, an update since (a
 * heartbeat) or a line pointer used again all end in the search.
 */
#define CLAIMED_TIDS 1024

typedef struct ClaimedTid
{
	int64		id;
	Oid			relnode;
	ItemPointerData tid;
} ClaimedTid;

static ClaimedTid claimed_tids[CLAIMED_TIDS];

static inline ClaimedTid *
claimed_entry(int64 id)
{
	return &claimed_tids[(uint64) id % CLAIMED_TIDS];
}

static void
claimed_note(Relation rel, int64 id, ItemPointer tid)
{
	ClaimedTid *c = claimed_entry(id);

	c->id = id;
	c->relnode = rel->rd_node.relNode;
	c->tid = *tid;
}

/* The task's version visible to the active snapshot, at its claim's tid, into slot. */
static bool
claimed_fetch(Relation rel, int64 id, int32 owner, TupleTableSlot *slot)
{
	ClaimedTid *c = claimed_entry(id);
	bool		isnull;

	if (c->id != id || c->relnode != rel->rd_node.relNode || !ItemPointerIsValid(&c->tid) ||
		ItemPointerGetBlockNumber(&c->tid) >= RelationGetNumberOfBlocks(rel))
		return false;
	c->id = 0;					/* used once: a completion moves the task on */

	/*
	 * The page pruned first, as an index scan's visit prunes it
	 * (heapam_index_fetch_tuple): without it the completion's new version
	 * found less room there and more went to another page (a row lock and
	 * a larger record in the WAL).
	 */
	{
		Buffer		buf = ReadBuffer(rel, ItemPointerGetBlockNumber(&c->tid));

		heap_page_prune_opt(rel, buf);
		ReleaseBuffer(buf);
	}
	if (!table_tuple_fetch_row_version(rel, &c->tid, GetActiveSnapshot(), slot))
		return false;
	slot_getsomeattrs(slot, Max(ins.attnum[IC_ID], ins.attnum[IC_OWNER]));
	isnull = slot->tts_isnull[ins.attnum[IC_ID] - 1] || slot->tts_isnull[ins.attnum[IC_OWNER] - 1];
	if (!isnull && DatumGetInt64(slot->tts_values[ins.attnum[IC_ID] - 1]) == id &&
		DatumGetInt32(slot->tts_values[ins.attnum[IC_OWNER] - 1]) == owner)
		return true;
	ExecClearTuple(slot);
	return false;
}

static bool
complete_in(DirectWrite *w, Datum id, bool token_isnull, Datum token, bool result_isnull, Datum result,
			bool resource_isnull, Datum resource, bool force, Datum *row)
{
	int32		owner = DatumGetInt32(DirectFunctionCall1(task_id_owner, id));
	Relation	rel;
	TupleTableSlot *slot;
	IndexScanDesc scan;
	ScanKeyData key[2];
	bool		done = false;

	if (!task_may_write(false, owner, false))
		return false;
	rel = w->rel;
	slot = w->old;
	scan = NULL;
	if (!claimed_fetch(rel, DatumGetInt64(id), owner, slot))
	{
		ScanKeyInit(&key[0], 1, BTEqualStrategyNumber, ins.id_eq, id);
		ScanKeyInit(&key[1], 2, BTEqualStrategyNumber, F_INT4EQ, Int32GetDatum(owner));
		scan = index_beginscan(rel, w->pkey, GetActiveSnapshot(), 2, 0);
		index_rescan(scan, key, 2, NULL, 0);
		if (!index_getnext_slot(scan, ForwardScanDirection, slot))
			ExecClearTuple(slot);
	}
	if (!TTS_EMPTY(slot) && completable(slot, token_isnull, token, force))
	{
		TM_FailureData tmfd;
		TM_Result	res;

		/*
		 * Under REPEATABLE READ or SERIALIZABLE a version updated since the
		 * snapshot is not followed (as the UPDATE's ExecUpdate does not):
		 * TM_Updated, not completed, and task._write_failed, which reads
		 * the snapshot's version, raises 40001 (changed concurrently).
		 */
		res = table_tuple_lock(rel, &slot->tts_tid, GetActiveSnapshot(), slot,
							   GetCurrentCommandId(false), LockTupleNoKeyExclusive, LockWaitBlock,
							   IsolationUsesXactSnapshot() ? 0 : TUPLE_LOCK_FLAG_FIND_LAST_VERSION, &tmfd);
		if (res == TM_Ok && (!tmfd.traversed || completable(slot, token_isnull, token, force)))
		{
			TupleTableSlot *newslot;

			direct_new_row(w);
			w->values[ins.attnum[IC_STATUS] - 1] = ObjectIdGetDatum(claim_cache.completed);
			w->values[ins.attnum[IC_RESULT] - 1] = result_isnull ? (Datum) 0 : result;
			w->isnull[ins.attnum[IC_RESULT] - 1] = result_isnull;
			w->values[ins.attnum[IC_RESOURCE] - 1] = resource_isnull ? (Datum) 0 : resource;
			w->isnull[ins.attnum[IC_RESOURCE] - 1] = resource_isnull;
			newslot = direct_form(w, slot);
			if (!direct_update(w, slot, newslot))
				trigger_skipped("completion");
			*row = ExecFetchSlotHeapTupleDatum(newslot);
			done = true;
		}
	}
	if (scan != NULL)
		index_endscan(scan);
	return done;
}

/* One completion as a statement of its own: complete_in between direct_begin and direct_end. */
static bool
complete_direct(DirectWrite *w, Datum id, bool token_isnull, Datum token, bool result_isnull, Datum result,
				bool resource_isnull, Datum resource, bool force, Datum *row)
{
	bool		done;

	direct_begin(w, DW_COMPLETE);
	done = complete_in(w, id, token_isnull, token, result_isnull, result, resource_isnull, resource, force, row);
	direct_end(w);
	return done;
}

/* Opens w and says whether claim_search may run (else the search is CP_CLAIM's statement). */
static bool
search_ready(DirectWrite *w)
{
	direct_open(w);
	return ins.search;
}

/* What the claim's search looks for: CP_CLAIM's parameters. */
typedef struct ClaimWhere
{
	int32		owner;
	text	   *name;
	int32		priority;
	TimestampTz from_at;		/* (run_at, id) at or after (from_at, from_id) */
	int64		from_id;
	TimestampTz at;				/* run_at not after it */
} ClaimWhere;

/* A text datum equals the text t (byte for byte: texteq of a deterministic collation). */
static bool
text_is(Datum d, text *t)
{
	text	   *x = DatumGetTextPP(d);

	return VARSIZE_ANY_EXHDR(x) == VARSIZE_ANY_EXHDR(t) &&
		memcmp(VARDATA_ANY(x), VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)) == 0;
}

/*
 * Whether no task of the ordering key holds back the task id: none of the
 * queue's tasks of the key is processing, or queued or rescheduled with a
 * smaller id (CP_CLAIM's NOT EXISTS), read under snap through the
 * ordering index.
 */
static bool
ordering_free(DirectWrite *w, const ClaimWhere *cw, Datum key, int64 id, Snapshot snap)
{
	Relation	idx = index_open(ins.ordering, AccessShareLock);
	IndexScanDesc scan;
	ScanKeyData k[2];
	bool		free = true;

	ScanKeyInit(&k[0], 1, BTEqualStrategyNumber, F_TEXTEQ, PointerGetDatum(cw->name));
	k[0].sk_collation = idx->rd_indcollation[0];
	ScanKeyInit(&k[1], 2, BTEqualStrategyNumber, F_TEXTEQ, key);
	k[1].sk_collation = idx->rd_indcollation[1];
	scan = index_beginscan(w->rel, idx, snap, 2, 0);
	index_rescan(scan, k, 2, NULL, 0);
	while (free && index_getnext_slot(scan, ForwardScanDirection, w->probe))
	{
		Datum	   *v;
		bool	   *nul;
		Oid			status;

		slot_getsomeattrs(w->probe, ins.search_natts);
		v = w->probe->tts_values;
		nul = w->probe->tts_isnull;
		status = DatumGetObjectId(v[ins.attnum[IC_STATUS] - 1]);
		if (!nul[ins.attnum[IC_OWNER] - 1] && DatumGetInt32(v[ins.attnum[IC_OWNER] - 1]) == cw->owner &&
			!nul[ins.attnum[IC_ORDERING_KEY] - 1] && text_is(v[ins.attnum[IC_ORDERING_KEY] - 1], DatumGetTextPP(key)) &&
			(status == claim_cache.processing ||
			 ((status == claim_cache.queued || status == claim_cache.rescheduled) &&
			  DatumGetInt64(v[ins.attnum[IC_ID] - 1]) < id)))
			free = false;
	}
	index_endscan(scan);
	index_close(idx, NoLock);
	return free;
}

/*
 * CP_CLAIM's WHERE for the version in slot: the queue and its owner,
 * runnable, of the priority, at or after the start and due, a version no
 * other claim updated (task_version_claimable), not held back by its
 * ordering key. *past: not due, nor is any entry after it in the index.
 */
static bool
claim_where(DirectWrite *w, TupleTableSlot *slot, const ClaimWhere *cw, Snapshot snap, bool *past)
{
	Datum	   *v;
	bool	   *nul;
	Oid			status;
	TimestampTz run_at;
	int64		id;

	slot_getsomeattrs(slot, ins.search_natts);
	v = slot->tts_values;
	nul = slot->tts_isnull;
	if (nul[ins.attnum[IC_RUN_AT] - 1] || nul[ins.attnum[IC_ID] - 1] || nul[ins.attnum[IC_OWNER] - 1] ||
		nul[ins.attnum[IC_PRIORITY] - 1] || nul[ins.attnum[IC_STATUS] - 1] || nul[ins.attnum[IC_QUEUE] - 1])
		return false;
	run_at = DatumGetTimestampTz(v[ins.attnum[IC_RUN_AT] - 1]);
	id = DatumGetInt64(v[ins.attnum[IC_ID] - 1]);
	status = DatumGetObjectId(v[ins.attnum[IC_STATUS] - 1]);
	if (run_at > cw->at)
	{
		*past = true;
		return false;
	}
	if (DatumGetInt32(v[ins.attnum[IC_OWNER] - 1]) != cw->owner ||
		!text_is(v[ins.attnum[IC_QUEUE] - 1], cw->name) ||
		(status != claim_cache.queued && status != claim_cache.rescheduled) ||
		DatumGetInt32(v[ins.attnum[IC_PRIORITY] - 1]) != cw->priority ||
		run_at < cw->from_at || (run_at == cw->from_at && id < cw->from_id))
		return false;
	if (!task_version_claimable(w->rel, &slot->tts_tid))
		return false;
	return nul[ins.attnum[IC_ORDERING_KEY] - 1] ||
		ordering_free(w, cw, v[ins.attnum[IC_ORDERING_KEY] - 1], id, snap);
}

/*
 * The claim's search without a plan (CP_CLAIM's statement, whose executor
 * start-up was a sixth of a drained task's instructions): the queue's
 * entries of one priority in the runnable index from (from_at, from_id)
 * on, in its order (run_at, id); each visible version checked as the
 * statement's WHERE (claim_where), then locked FOR NO KEY UPDATE SKIP LOCKED at
 * its latest version, which, if it is a newer one, is checked again (the
 * re-check of LockRows under READ COMMITTED; under REPEATABLE READ a
 * version updated since the snapshot is a serialization failure, as
 * there). Up to limit rows; the tids of the versions locked, in claim
 * order, go to tids. Runs in direct_begin's frame (its snapshot).
 */
static int64
claim_search(DirectWrite *w, int32 owner, text *name, int32 lvl, TimestampTz from_at, int64 from_id,
			 TimestampTz at, int64 limit, ItemPointerData *tids)
{
	Snapshot	snap = GetActiveSnapshot();
	Relation	idx = index_open(ins.runnable, AccessShareLock);
	ClaimWhere	cw = {owner, name, lvl, from_at, from_id, at};
	IndexScanDesc scan;
	ScanKeyData key[3];
	ScanKeyData *row = palloc(sizeof(ScanKeyData) * 2);
	int64		got = 0;

	ScanKeyInit(&key[0], 1, BTEqualStrategyNumber, F_INT4EQ,
				DirectFunctionCall1Coll(hashtext, ins.hash_collation, PointerGetDatum(name)));
	ScanKeyInit(&key[1], 2, BTEqualStrategyNumber, F_INT4EQ, Int32GetDatum(lvl));

	/*
	 * (run_at, id) >= (from_at, from_id), a row comparison, as the
	 * statement's: the scan starts at the mark, also among tasks made in
	 * one transaction (one run_at)
	 */
	ScanKeyEntryInitialize(&row[0], SK_ROW_MEMBER, 3, BTGreaterEqualStrategyNumber, InvalidOid,
						   InvalidOid, ins.run_at_cmp, TimestampTzGetDatum(from_at));
	ScanKeyEntryInitialize(&row[1], SK_ROW_MEMBER | SK_ROW_END, 4, BTGreaterEqualStrategyNumber, InvalidOid,
						   InvalidOid, ins.id_cmp, Int64GetDatum(from_id));
	ScanKeyEntryInitialize(&key[2], SK_ROW_HEADER, 3, BTGreaterEqualStrategyNumber, InvalidOid,
						   InvalidOid, InvalidOid, PointerGetDatum(row));
	scan = index_beginscan(w->rel, idx, snap, 3, 0);
	index_rescan(scan, key, 3, NULL, 0);
	while (got < limit && index_getnext_slot(scan, ForwardScanDirection, w->scan))
	{
		bool		past = false;
		TM_FailureData tmfd;
		TM_Result	res;

		if (!claim_where(w, w->scan, &cw, snap, &past))
		{
			if (past)
				break;
			continue;
		}
		/* LockRows' flags */
		res = table_tuple_lock(w->rel, &w->scan->tts_tid, snap, w->old, w->estate->es_output_cid,
							   LockTupleNoKeyExclusive, LockWaitSkip,
							   TUPLE_LOCK_FLAG_LOCK_UPDATE_IN_PROGRESS |
							   (IsolationUsesXactSnapshot() ? 0 : TUPLE_LOCK_FLAG_FIND_LAST_VERSION), &tmfd);
		switch (res)
		{
			case TM_Ok:
				if (tmfd.traversed && !claim_where(w, w->old, &cw, snap, &past))
					continue;
				break;
			case TM_WouldBlock:		/* SKIP LOCKED */
			case TM_SelfModified:	/* written by this transaction since: as LockRows, skipped */
				continue;
			case TM_Updated:
			case TM_Deleted:
				if (IsolationUsesXactSnapshot())
					ereport(ERROR,
							(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
							 errmsg("could not serialize access due to concurrent update")));
				if (res == TM_Deleted)
					continue;
				elog(ERROR, "unexpected table_tuple_lock status: %u", res);
				break;
			default:
				elog(ERROR, "unexpected table_tuple_lock status: %u", res);
		}
		tids[got++] = w->old->tts_tid;
	}
	index_endscan(scan);
	index_close(idx, NoLock);
	pfree(row);
	return got;
}

/*
 * The claim's update of the rows its search locked (tids, in claim
 * order), without a plan (as the completion above): processing, one more
 * attempt, a new lease token (task._lease_token of the revision the
 * update makes) and the lease's end, through direct_update and so the
 * same triggers as an UPDATE. The rows as updated go to the caller's
 * tuplestore, in claim order. Returns how many. In direct_begin's frame.
 */
static uint64
claim_direct(DirectWrite *w, ReturnSetInfo *rsinfo, ItemPointerData *tids, uint64 n, bool lease_null, Datum lease_until)
{
	Relation	rel;
	TupleTableSlot *slot;
	TupleTableSlot *newslot;
	uint64		i;

	rel = w->rel;
	slot = w->old;
	for (i = 0; i < n; i++)
	{
		HeapTupleData tuple;
		HeapTupleHeader td;
		int			a;

		/* the version the search locked: the latest */
		if (!table_tuple_fetch_row_version(rel, &tids[i], SnapshotAny, slot))
			elog(ERROR, "claimed task is gone");
		direct_new_row(w);
		w->values[ins.attnum[IC_STATUS] - 1] = ObjectIdGetDatum(claim_cache.processing);
		a = ins.attnum[IC_ATTEMPTS] - 1;
		w->values[a] = Int32GetDatum(DatumGetInt32(slot->tts_values[a]) + 1);
		a = ins.attnum[IC_LEASE_TOKEN] - 1;
		w->values[a] =
			Int64GetDatum(task_lease_token_for(DatumGetInt32(slot->tts_values[ins.attnum[IC_REVISION] - 1]) + 1));
		w->isnull[a] = false;
		a = ins.attnum[IC_LEASE_UNTIL] - 1;
		w->values[a] = lease_null ? (Datum) 0 : lease_until;
		w->isnull[a] = lease_null;
		newslot = direct_form(w, slot);
		if (!direct_update(w, slot, newslot))
			trigger_skipped("claim");
		{
			bool		isnull;
			Datum		claimed = slot_getattr(newslot, ins.attnum[IC_ID], &isnull);

			if (!isnull)
				claimed_note(rel, DatumGetInt64(claimed), &newslot->tts_tid);
		}

		td = DatumGetHeapTupleHeader(ExecFetchSlotHeapTupleDatum(newslot));
		tuple.t_len = HeapTupleHeaderGetDatumLength(td);
		ItemPointerSetInvalid(&tuple.t_self);
		tuple.t_tableOid = InvalidOid;
		tuple.t_data = td;
		tuplestore_puttuple(rsinfo->setResult, &tuple);
	}
	return n;
}

/*
 * Completes a processing task (SPI connected, the cache loaded), fenced by
 * its claim's token unless forced; when it finds nothing,
 * task._write_failed raises the error that says why. Returns the completed
 * row (a task.task in SPI's memory) and sets *found, or leaves *found
 * false if _write_failed raised nothing.
 */
static Datum
complete_one(DirectWrite *w, bool *found, bool id_isnull, Datum id, bool token_isnull, Datum token, bool result_isnull, Datum result,
			 bool resource_isnull, Datum resource, bool force)
{
	Datum		args[3];
	char		nulls[3] = {' ', ' ', ' '};

	if (!result_isnull && !resource_isnull)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a task result is either a JSON value or a resource URI, not both"),
				 errhint("Pass result => a JSON value, or resource => '/relative/uri'.")));
	*found = false;
	if (!id_isnull)
	{
		Datum		row;

		if (complete_direct(w, id, token_isnull, token, result_isnull, result, resource_isnull, resource,
							force, &row))
		{
			*found = true;
			return row;
		}
	}
	/* not completed: task._write_failed raises the error that says why */
	args[0] = id;
	nulls[0] = id_isnull ? 'n' : ' ';
	args[1] = token;
	nulls[1] = token_isnull ? 'n' : ' ';
	args[2] = BoolGetDatum(!force);
	if (SPI_execute_plan(claim_plan(CP_WRITE_FAILED), args, nulls, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "completion check failed");
	return (Datum) 0;
}

static int
int64_cmp(const void *a, const void *b)
{
	int64		x = *(const int64 *) a;
	int64		y = *(const int64 *) b;

	return x < y ? -1 : x > y ? 1 : 0;
}

/*
 * Completes a batch (SPI connected, the cache loaded): every task of ids,
 * each fenced by its token in tokens (NULL: no token), all or nothing --
 * the first task of the batch (in its order) that cannot be completed
 * makes task._write_failed raise why, which undoes the others with the
 * statement. Each one is complete_direct's; the batch was one UPDATE of a
 * join with the arrays, which cost as much again per task in the
 * executor's start-up and its join (docs/QUEUE.md, "Stop 22"). Returns
 * how many it completed; -1 for ids NULL (the SQL function's NULL).
 */
static int32
complete_many(DirectWrite *w, ArrayType *ids, ArrayType *tokens)
{
	Datum	   *idv;
	bool	   *idnull;
	int			nids;
	Datum	   *tokv = NULL;
	bool	   *toknull = NULL;
	int			ntok = 0;
	int64	   *sorted;
	int32		done = 0;
	int			i;

	if (ids == NULL)
		return -1;
	/* as task_wait_many: a list of ids has one dimension (an empty array has none) */
	if ((ARR_NDIM(ids) != 0 && ARR_NDIM(ids) != 1) || (tokens && ARR_NDIM(tokens) != 0 && ARR_NDIM(tokens) != 1))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("complete_batch and complete_tokens must be one-dimensional arrays"),
				 errhint("Pass complete_batch => ARRAY[...]::task.task_id[] and complete_tokens => ARRAY[...]::bigint[], one dimension each.")));
	{
		int16		len;
		bool		byval;
		char		align;

		get_typlenbyvalalign(claim_cache.id_type, &len, &byval, &align);
		deconstruct_array(ids, claim_cache.id_type, len, byval, align, &idv, &idnull, &nids);
	}
	if (tokens)
	{
		deconstruct_array(tokens, INT8OID, sizeof(int64), FLOAT8PASSBYVAL, TYPALIGN_DOUBLE, &tokv, &toknull, &ntok);
		if (ntok != nids)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("complete_tokens must have one token per task of complete_batch"),
					 errhint("Pass the lease_token of each task, in the same order.")));
	}
	for (i = 0; i < nids; i++)
		if (idnull[i] || (tokens && toknull[i]))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("complete_batch and complete_tokens must not contain null"),
					 errhint("Pass the id and the lease_token of each claimed task; leave the NULLs out.")));
	sorted = palloc(sizeof(int64) * Max(nids, 1));
	for (i = 0; i < nids; i++)
		sorted[i] = DatumGetInt64(idv[i]);
	qsort(sorted, nids, sizeof(int64), int64_cmp);
	for (i = 1; i < nids; i++)
		if (sorted[i] == sorted[i - 1])
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("complete_batch lists a task more than once"),
					 errhint("List each claimed task once.")));
	pfree(sorted);
	/* one statement for the batch, as its UPDATE was: its AFTER triggers fire at the end */
	direct_begin(w, DW_COMPLETE);
	for (i = 0; i < nids; i++)
	{
		Datum		row;
		bool		tnull = tokens == NULL;
		Datum		tok = tnull ? (Datum) 0 : tokv[i];

		if (complete_in(w, idv[i], tnull, tok, true, (Datum) 0, true, (Datum) 0, false, &row))
			done++;
		else
		{
			Datum		args[3] = {idv[i], tok, BoolGetDatum(true)};
			char		nulls[3] = {' ', tnull ? 'n' : ' ', ' '};

			direct_end(w);
			/* raises: the first task of the batch it could not complete, and why */
			if (SPI_execute_plan(claim_plan(CP_WRITE_FAILED), args, nulls, false, 0) != SPI_OK_SELECT)
				elog(ERROR, "completion check failed");
			return done;
		}
	}
	direct_end(w);
	return done;
}

/*
 * task._complete_many(ids task.task_id[], tokens bigint[]) → integer: the
 * batch completion of task_dequeue (complete_batch, complete_tokens) for
 * the PL/pgSQL task._dequeue; the C task_dequeue calls complete_many.
 */
Datum
task_complete_many(PG_FUNCTION_ARGS)
{
	DirectWrite w = {0};
	int32		done;

	claim_cache_ensure();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	done = complete_many(&w, PG_ARGISNULL(0) ? NULL : PG_GETARG_ARRAYTYPE_P(0),
						 PG_ARGISNULL(1) ? NULL : PG_GETARG_ARRAYTYPE_P(1));
	direct_close(&w);
	SPI_finish();
	if (done < 0)
		PG_RETURN_NULL();
	PG_RETURN_INT32(done);
}

/*
 * task._complete(id task_id, token bigint, result jsonb, resource text,
 * force boolean) → task.task: completes a processing task (see above);
 * the completed row.
 */
Datum
task_complete_one(PG_FUNCTION_ARGS)
{
	bool		found;
	Datum		row;
	DirectWrite w = {0};

	claim_cache_ensure();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	row = complete_one(&w, &found, PG_ARGISNULL(0), PG_ARGISNULL(0) ? (Datum) 0 : PG_GETARG_DATUM(0),
						 PG_ARGISNULL(1), PG_ARGISNULL(1) ? (Datum) 0 : PG_GETARG_DATUM(1),
						 PG_ARGISNULL(2), PG_ARGISNULL(2) ? (Datum) 0 : PG_GETARG_DATUM(2),
						 PG_ARGISNULL(3), PG_ARGISNULL(3) ? (Datum) 0 : PG_GETARG_DATUM(3),
						 !PG_ARGISNULL(4) && PG_GETARG_BOOL(4));
	if (found)
		row = SPI_datumTransfer(row, false, -1);
	direct_close(&w);
	SPI_finish();
	if (!found)
		PG_RETURN_NULL();
	PG_RETURN_DATUM(row);
}

/* Whether an interval is zero (sign < 0 negative, 0 zero, > 0 positive). */
static int
interval_sign(Datum span)
{
	Interval	zero;

	memset(&zero, 0, sizeof(zero));
	return DatumGetInt32(DirectFunctionCall2(interval_cmp, span, IntervalPGetDatum(&zero)));
}

/*
 * The PL/pgSQL functions a C function hands calls to, looked up once per
 * call site and kept in the caller's fn_extra: task.<name>, the only one of
 * that name, taking nargs arguments.
 */
#define PLPGSQL_SLOTS 2

static FmgrInfo *
plpgsql_function(FunctionCallInfo fcinfo, int slot, const char *name, int nargs)
{
	FmgrInfo  **fns = (FmgrInfo **) fcinfo->flinfo->fn_extra;

	Assert(slot >= 0 && slot < PLPGSQL_SLOTS);
	if (fns == NULL)
	{
		fns = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, PLPGSQL_SLOTS * sizeof(FmgrInfo *));
		fcinfo->flinfo->fn_extra = fns;
	}
	if (fns[slot] == NULL)
	{
		Oid			fn = LookupFuncName(list_make2(makeString("task"), makeString(pstrdup(name))), -1,
										NULL, false);
		FmgrInfo   *flinfo = MemoryContextAllocZero(fcinfo->flinfo->fn_mcxt, sizeof(FmgrInfo));

		fmgr_info_cxt(fn, flinfo, fcinfo->flinfo->fn_mcxt);
		if (flinfo->fn_nargs != nargs)
			elog(ERROR, "task.%s takes %d arguments, not %d", name, flinfo->fn_nargs, nargs);
		fns[slot] = flinfo;
	}
	return fns[slot];
}

/* Calls fn with these arguments (and, set_result, this call's result set). */
static Datum
call_plpgsql_with(FunctionCallInfo fcinfo, FmgrInfo *fn, const Datum *args, const bool *nulls,
				  bool set_result)
{
	LOCAL_FCINFO(fc, FUNC_MAX_ARGS);
	Datum		result;
	int			i;

	InitFunctionCallInfoData(*fc, fn, fn->fn_nargs, fcinfo->fncollation, fcinfo->context,
							 set_result ? fcinfo->resultinfo : NULL);
	for (i = 0; i < fn->fn_nargs; i++)
	{
		fc->args[i].value = nulls[i] ? (Datum) 0 : args[i];
		fc->args[i].isnull = nulls[i];
	}
	result = FunctionCallInvoke(fc);
	fcinfo->isnull = fc->isnull;
	return result;
}

/*
 * The PL/pgSQL function name (slot 0 of the call site) called with this
 * call's arguments and result set; the arguments from first_null on as
 * NULL.
 */
static Datum
call_plpgsql(FunctionCallInfo fcinfo, const char *name, int first_null)
{
	Datum		args[FUNC_MAX_ARGS];
	bool		nulls[FUNC_MAX_ARGS];
	int			i;

	for (i = 0; i < fcinfo->nargs; i++)
	{
		args[i] = fcinfo->args[i].value;
		nulls[i] = i >= first_null || fcinfo->args[i].isnull;
	}
	return call_plpgsql_with(fcinfo, plpgsql_function(fcinfo, 0, name, fcinfo->nargs), args, nulls, true);
}

/*
 * The wait of a task_dequeue whose look found nothing: task._dequeue_sleep
 * sleeps once (at once woken by a commit since the generations in args
 * were read: args[2..5], key, seq, lkey, lseq), then the generations are
 * read again and the claim looks again, until it claims or the wait is
 * over. args[0] is the queue (in the caller's memory), args[1] is set
 * here: the end of the wait. Between the sleeps no statement of ours is
 * open, so a sleep holds no snapshot of ours (wait.c, may_release_xmin).
 */
/*
 * Whether a queue has a limit that a claim serializes on (the claim lock
 * of _claim_limited: the row of the queue, or of its service when capped).
 */
static bool
queue_limited(const Datum *qv)
{
	return DatumGetInt32(qv[QC_MAX_PROCESSING]) != 0 || DatumGetBool(qv[QC_SERVICE_CAPPED]) ||
		DatumGetInt32(qv[QC_RATE_LIMIT]) != 0 || DatumGetInt32(qv[QC_KEY_RATE_LIMIT]) != 0;
}

/*
 * The claim lock of a limited queue (task._claim_lock, 65_worker.sql): a
 * transaction-level lock of the queue (or of its service, when capped) on
 * a key only the extension can compute (task._lock_key) and in a space no
 * SQL function can take (advisory, fourth field CLAIM_LOCK_SPACE: the
 * pg_advisory_* functions use 1 and 2; lock_key). It needs no transaction id, and
 * unlike a row lock it can be let go before the transaction ends: a
 * waiting call's look at a limited queue that claims nothing gives back
 * the locks it took (look_begin / look_end), so the sleeper holds neither
 * the lock, which the queue's other claims would wait for, nor an id,
 * which would hold back vacuum's horizon. A look takes a lock a second
 * time when its transaction claimed before (the count goes up by one,
 * and giving it back leaves the first hold).
 */
#define CLAIM_LOCK_SPACE 0x7461
#define LOOK_MAX_LOCKS 8

static LOCKTAG look_locks[LOOK_MAX_LOCKS];
static int	look_nlocks = -1;	/* -1: no look is counting */

PG_FUNCTION_INFO_V1(task_claim_lock_take);

/*
 * task._lock_key(name text) → bigint: a keyed hash of a name that no other
 * role can compute: the first 8 bytes of SHA-256 of the secret
 * (task.lock_secret's value), "/" and the name in UTF-8. The key of a
 * claim lock (below) and the suffix of a queue's NOTIFY channel
 * (task_queue_notify). It was a SQL function, whose call cost twice the
 * claim lock it keyed.
 */
PG_FUNCTION_INFO_V1(task_lock_key);

static uint64
lock_key(text *name)
{
	Oid			seq = get_relname_relid("lock_secret", get_namespace_oid("task", false));
	LOCAL_FCINFO(fc, 1);
	Datum		secret;
	char	   *s;
	char	   *utf8;
	pg_cryptohash_ctx *ctx;
	uint8		digest[PG_SHA256_DIGEST_LENGTH];
	uint64		key = 0;
	int			i;

	if (!OidIsValid(seq))
		elog(ERROR, "sequence task.lock_secret is missing");
	InitFunctionCallInfoData(*fc, NULL, 1, InvalidOid, NULL, NULL);
	fc->args[0].value = ObjectIdGetDatum(seq);
	fc->args[0].isnull = false;
	secret = pg_sequence_last_value(fc);
	if (fc->isnull)
		elog(ERROR, "sequence task.lock_secret has no value");
	s = psprintf(INT64_FORMAT "/%.*s", DatumGetInt64(secret), (int) VARSIZE_ANY_EXHDR(name), VARDATA_ANY(name));
	utf8 = pg_server_to_any(s, strlen(s), PG_UTF8);
	ctx = pg_cryptohash_create(PG_SHA256);
	if (pg_cryptohash_init(ctx) < 0 || pg_cryptohash_update(ctx, (uint8 *) utf8, strlen(utf8)) < 0 ||
		pg_cryptohash_final(ctx, digest, sizeof(digest)) < 0)
		elog(ERROR, "could not compute a keyed hash");
	pg_cryptohash_free(ctx);
	for (i = 0; i < 8; i++)
		key = (key << 8) | digest[i];
	return key;
}

Datum
task_lock_key(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64((int64) lock_key(PG_GETARG_TEXT_PP(0)));
}

/* task._claim_lock_take(name text, wait boolean) → boolean: the claim lock of name; false when not wait and held */
Datum
task_claim_lock_take(PG_FUNCTION_ARGS)
{
	uint64		key = lock_key(PG_GETARG_TEXT_PP(0));
	LOCKTAG		tag;
	ResourceOwner owner = CurrentResourceOwner;
	volatile LockAcquireResult got = LOCKACQUIRE_NOT_AVAIL;

	SET_LOCKTAG_ADVISORY(tag, MyDatabaseId, (uint32) (key >> 32), (uint32) key, CLAIM_LOCK_SPACE);
	/*
	 * Held by the (sub)transaction, not by the statement: task._claim_lock
	 * takes it inside an EXCEPTION block when it has to wait, and that
	 * block's commit hands it to the owner of the transaction level around
	 * it, where look_end's give-back under the statement's owner did not
	 * find it ("you don't own a lock of type ExclusiveLock": the waiter
	 * slept holding it, and every other claim of the queue waited 1 s for
	 * it and took nothing). Under the level's own owner both find it; a
	 * savepoint rolled back still lets it go.
	 */
	CurrentResourceOwner = CurTransactionResourceOwner;
	PG_TRY();
	{
		got = LockAcquire(&tag, ExclusiveLock, false, !PG_GETARG_BOOL(1));
	}
	PG_FINALLY();
	{
		CurrentResourceOwner = owner;
	}
	PG_END_TRY();
	if (got == LOCKACQUIRE_NOT_AVAIL)
		PG_RETURN_BOOL(false);
	if (look_nlocks >= 0 && look_nlocks < LOOK_MAX_LOCKS)
		look_locks[look_nlocks++] = tag;
	else if (look_nlocks >= 0)
		look_nlocks = LOOK_MAX_LOCKS + 1;	/* too many to count: none is given back */
	PG_RETURN_BOOL(true);
}

/* A look that may give back the claim locks it takes (a waiting call at a limited queue). */
static void
look_begin(bool counting)
{
	look_nlocks = counting ? 0 : -1;
}

/* Ends the look: when it claimed nothing, the claim locks it took are given back. */
static void
look_end(int64 got)
{
	int			i;

	if (got == 0 && look_nlocks >= 0 && look_nlocks <= LOOK_MAX_LOCKS)
	{
		ResourceOwner owner = CurrentResourceOwner;

		/* the owner task_claim_lock_take took them under (or that of the EXCEPTION block it took them in) */
		CurrentResourceOwner = CurTransactionResourceOwner;
		for (i = look_nlocks - 1; i >= 0; i--)
			LockRelease(&look_locks[i], ExclusiveLock, false);
		CurrentResourceOwner = owner;
	}
	look_nlocks = -1;
}

static void
dequeue_wait(FunctionCallInfo fcinfo, Datum *args, bool *nulls, int32 n)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	FmgrInfo   *sleep = plpgsql_function(fcinfo, 1, "_dequeue_sleep", 6);
	HeapTupleHeader q = DatumGetHeapTupleHeader(args[0]);
	Datum		qv[NUM_QUEUE_COLUMNS];
	bool		qnull[NUM_QUEUE_COLUMNS];
	bool		lease_isnull = PG_ARGISNULL(2);
	Datum		lease = lease_isnull ? (Datum) 0 : PG_GETARG_DATUM(2);
	TimestampTz until;
	int64		seq;
	int64		got;

	until = DatumGetTimestampTz(DirectFunctionCall2(timestamptz_pl_interval,
													TimestampTzGetDatum(GetCurrentTimestamp()),
													PG_GETARG_DATUM(3)));
	args[1] = TimestampTzGetDatum(until);
	queue_values(q, qv, qnull);
	do
	{
		args[0] = PointerGetDatum(q);
		(void) call_plpgsql_with(fcinfo, sleep, args, nulls, false);
		nulls[3] = !task_wait_generation(DatumGetInt64(args[2]), &seq);
		args[3] = Int64GetDatum(seq);
		if (!nulls[4])
		{
			nulls[5] = !task_wait_generation(DatumGetInt64(args[4]), &seq);
			args[5] = Int64GetDatum(seq);
		}
		if (SPI_connect() != SPI_OK_CONNECT)
			elog(ERROR, "SPI_connect failed");
		/*
		 * The queue as it is now: created meanwhile, paused, its limits or
		 * lease changed (task_queue_configure) while this call slept.
		 */
		{
			HeapTupleHeader was = q;

			q = DatumGetHeapTupleHeader(SPI_datumTransfer(PointerGetDatum(queue_by_name(qv[QC_NAME], CP_QUEUE)),
														  false, -1));
			pfree(was);
			queue_values(q, qv, qnull);
		}
		if (DatumGetBool(qv[QC_PAUSED]))
		{
			/*
			 * Paused: nothing to claim, and a wake that brought this
			 * call here is another waiter's to use; sleep on until the
			 * unpause's commit (task_queue_configure wakes the queue)
			 */
			SPI_finish();
			task_wait_unused_wake();
			got = 0;
			continue;
		}
		if (nulls[4] && queue_limited(qv))
		{
			/* limited since the wait began: sleep on its freed-slot key too from now on */
			args[4] = Int64GetDatum((int64) task_wait_key_of_limit(DatumGetInt32(qv[QC_OWNER])));
			nulls[4] = false;
			nulls[5] = !task_wait_generation(DatumGetInt64(args[4]), &seq);
			args[5] = Int64GetDatum(seq);
		}
		{
			DirectWrite w = {0};

			look_begin(queue_limited(qv));
			got = claim_into(&w, rsinfo, q, qv, qnull, n, lease_isnull, lease);
			look_end(got);
			direct_close(&w);
		}
		SPI_finish();
	} while (got == 0 && GetCurrentTimestamp() < until);
	if (got == 0)
		task_wait_unused_wake();
}

/*
 * task.task_dequeue(queue, n, lease, wait, complete, complete_token,
 * result, resource, complete_batch, complete_tokens) → SETOF task.task
 * (65_worker.sql). Here, with valid arguments: complete the previous task
 * (or batch), find the queue, claim, and rescue expired leases when the
 * queue is short; when that found nothing and the call waits, dequeue_wait
 * sleeps from the wake generations read before the look and claims again
 * when woken. A call with an argument to refuse is
 * task._dequeue's whole, which does the same in the same order and raises
 * the error.
 */
Datum
task_dequeue(PG_FUNCTION_ARGS)
{
	static const Interval one_hour = {.time = USECS_PER_HOUR,.day = 0,.month = 0};
	static const Interval one_year = {.time = 0,.day = TASK_ONE_YEAR_DAYS,.month = 0};
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int32		n;
	Datum		args[2];
	HeapTupleHeader q;
	Datum		qv[NUM_QUEUE_COLUMNS];
	bool		qnull[NUM_QUEUE_COLUMNS];
	bool		isnull;
	int64		got;
	bool		waits;
	bool		paused;
	Datum		wargs[6];
	bool		wnulls[6] = {false, false, false, true, true, true};
	DirectWrite w = {0};

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1) || PG_ARGISNULL(3) ||
		PG_GETARG_INT32(1) < 1 || PG_GETARG_INT32(1) > 1000 ||
		interval_sign(PG_GETARG_DATUM(3)) < 0 ||
		DatumGetInt32(DirectFunctionCall2(interval_cmp, PG_GETARG_DATUM(3),
										  IntervalPGetDatum(&one_hour))) > 0 ||
		(!PG_ARGISNULL(2) && (interval_sign(PG_GETARG_DATUM(2)) <= 0 ||
							  DatumGetInt32(DirectFunctionCall2(interval_cmp, PG_GETARG_DATUM(2),
																IntervalPGetDatum(&one_year))) > 0)))
		return call_plpgsql(fcinfo, "_dequeue", 10);

	n = PG_GETARG_INT32(1);
	waits = interval_sign(PG_GETARG_DATUM(3)) > 0;
	InitMaterializedSRF(fcinfo, 0);
	claim_cache_ensure();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	/* the one-round-trip loop: finish the previous task first */
	if (!PG_ARGISNULL(4))
	{
		bool		found;

		(void) complete_one(&w, &found, false, PG_GETARG_DATUM(4),
							PG_ARGISNULL(5), PG_ARGISNULL(5) ? (Datum) 0 : PG_GETARG_DATUM(5),
							PG_ARGISNULL(6), PG_ARGISNULL(6) ? (Datum) 0 : PG_GETARG_DATUM(6),
							PG_ARGISNULL(7), PG_ARGISNULL(7) ? (Datum) 0 : PG_GETARG_DATUM(7),
							false);
	}

	/* ... or the previous batch, all or nothing */
	if (!PG_ARGISNULL(8) && ArrayGetNItems(ARR_NDIM(PG_GETARG_ARRAYTYPE_P(8)),
										   ARR_DIMS(PG_GETARG_ARRAYTYPE_P(8))) > 0)
		(void) complete_many(&w, PG_GETARG_ARRAYTYPE_P(8), PG_ARGISNULL(9) ? NULL : PG_GETARG_ARRAYTYPE_P(9));

	q = queue_by_name(PG_GETARG_DATUM(0), CP_QUEUE);
	q = (HeapTupleHeader) DatumGetPointer(datumCopy(PointerGetDatum(q), false, -1));
	queue_values(q, qv, qnull);
	if (DatumGetBool(qv[QC_PAUSED]) && !waits)
	{
		direct_close(&w);
		SPI_finish();
		return (Datum) 0;
	}

	/*
	 * A waiting call reads the queue's wake generation before it looks
	 * (wait.c): a commit after this point ends the sleep. For a queue with
	 * a limit, also the generation of its service's freed claim slots.
	 * task._dequeue reads them at the same point.
	 */
	if (waits)
	{
		text	   *name = DatumGetTextPP(qv[QC_NAME]);
		int64		key = (int64) task_wait_key_of_queue(VARDATA_ANY(name), VARSIZE_ANY_EXHDR(name));
		int64		seq = 0;

		wnulls[3] = !task_wait_generation(key, &seq);
		wargs[2] = Int64GetDatum(key);
		wargs[3] = Int64GetDatum(seq);
		if (queue_limited(qv))
		{
			key = (int64) task_wait_key_of_limit(DatumGetInt32(qv[QC_OWNER]));
			wnulls[5] = !task_wait_generation(key, &seq);
			wargs[4] = Int64GetDatum(key);
			wnulls[4] = false;
			wargs[5] = Int64GetDatum(seq);
		}
	}

	/*
	 * Paused, and the call waits: the queue read again after the
	 * generations, so that an unpause committed before them is seen here
	 * and one after them ends the sleep; still paused, it sleeps at once
	 * (dequeue_wait, which sleeps while the queue stays paused).
	 */
	got = 0;
	if (DatumGetBool(qv[QC_PAUSED]))
	{
		q = queue_by_name(PG_GETARG_DATUM(0), CP_QUEUE);
		q = (HeapTupleHeader) DatumGetPointer(datumCopy(PointerGetDatum(q), false, -1));
		queue_values(q, qv, qnull);
	}
	paused = DatumGetBool(qv[QC_PAUSED]);
	if (!paused)
	{
		look_begin(waits && queue_limited(qv));
		got = claim_into(&w, rsinfo, q, qv, qnull, n, PG_ARGISNULL(2), PG_ARGISNULL(2) ? (Datum) 0 : PG_GETARG_DATUM(2));
	}

	/* a short queue: also look for expired leases to take over */
	if (!paused && got < n)
	{
		args[0] = PointerGetDatum(q);
		args[1] = Int32GetDatum((int32) (n - got));
		task_lease_look_in_claim = true;
		if (SPI_execute_plan(claim_plan(CP_RESCUE), args, NULL, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "lease rescue failed");
		task_lease_look_in_claim = false;
		if (DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)) > 0 && !isnull)
			got += claim_into(&w, rsinfo, q, qv, qnull, (int32) (n - got), PG_ARGISNULL(2),
							  PG_ARGISNULL(2) ? (Datum) 0 : PG_GETARG_DATUM(2));
	}
	if (!paused)
		look_end(got);

	/*
	 * Nothing to do and a wait: sleep (at once woken by a commit since the
	 * generations were read) and claim when woken.
	 */
	direct_close(&w);
	if (got == 0 && waits)
	{
		wargs[0] = SPI_datumTransfer(PointerGetDatum(q), false, -1);
		SPI_finish();
		dequeue_wait(fcinfo, wargs, wnulls, n);
		return (Datum) 0;
	}
	SPI_finish();
	return (Datum) 0;
}

/*
 * task.task_create(code, queue, name, description, object, parent,
 * parameters, eta, access, status, run_at, idempotency_key, ordering_key,
 * max_attempts, depends_on, blocks_parent, priority, unique_key, debounce,
 * max_run_time) → task.task (50_create.sql). Here a task with none of a
 * parent, an access list, dependencies, a key or a status other than
 * queued, with valid arguments: the queue (task._queue_for_create, which
 * makes it on a service's first task there and checks the caller may
 * write to it), then the INSERT as a saved plan. Any other call is
 * task._create, the PL/pgSQL task_create was, with the same arguments.
 */
/*
 * The planner settings the SET clauses of the other API functions give
 * (docs/QUEUE.md, "Plans made on an empty table"), for the statements
 * task_create plans (the fallbacks: its own SET clause would cost every
 * call). Returns the GUC nest level to pass to AtEOXact_GUC(true, ...),
 * as fmgr_security_definer does; an error unwinds it with the
 * transaction.
 */
static int
planner_settings(void)
{
	int			nest = NewGUCNestLevel();

	(void) set_config_option("plan_cache_mode", "force_generic_plan", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	(void) set_config_option("enable_seqscan", "off", PGC_USERSET, PGC_S_SESSION,
							 GUC_ACTION_SAVE, true, 0, false);
	return nest;
}

typedef enum CreateArg
{
	CA_CODE, CA_QUEUE, CA_NAME, CA_DESCRIPTION, CA_OBJECT, CA_PARENT, CA_PARAMETERS, CA_ETA,
	CA_ACCESS, CA_STATUS, CA_RUN_AT, CA_IDEMPOTENCY_KEY, CA_ORDERING_KEY, CA_MAX_ATTEMPTS,
	CA_DEPENDS_ON, CA_BLOCKS_PARENT, CA_PRIORITY, CA_UNIQUE_KEY, CA_DEBOUNCE, CA_MAX_RUN_TIME,
	NUM_CREATE_ARGS
} CreateArg;

/*
 * The queue a task is created in (SPI connected, the cache loaded): an
 * existing queue the caller may write to, read directly, or else what
 * task._queue_for_create returns (a queue it made) or raises. In SPI's
 * memory.
 */
static HeapTupleHeader
queue_for_create(Datum name)
{
	HeapTupleHeader q = queue_direct(name);

	if (q == NULL)
	{
		int			nest = planner_settings();

		q = queue_otherwise(name, CP_CREATE_QUEUE);
		AtEOXact_GUC(true, nest);
	}
	return q;
}

/*
 * task._queue_for_create_direct(queue text) → task.queue: task_create_many's
 * lookup of its queue, as task_create's (queue_for_create), without the
 * PL/pgSQL call of task._queue_for_create (a tenth of a batch of 100's
 * instructions) when the queue exists and is the caller's.
 */
Datum
task_queue_for_create_direct(PG_FUNCTION_ARGS)
{
	Datum		q;

	claim_cache_ensure();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	q = SPI_datumTransfer(PointerGetDatum(queue_for_create(PG_GETARG_DATUM(0))), false, -1);
	SPI_finish();
	PG_RETURN_DATUM(q);
}

Datum
task_create_one(PG_FUNCTION_ARGS)
{
	/* task._check_max_run_time's bounds: a call outside them is _create's, which raises its error */
	static const Interval one_year = {.time = 0,.day = TASK_ONE_YEAR_DAYS,.month = 0};
	HeapTupleHeader q;
	Datum		qv[NUM_QUEUE_COLUMNS];
	bool		qnull[NUM_QUEUE_COLUMNS];
	Datum		args[13];
	char		nulls[13];
	int			sign;
	Datum		row;

	if (PG_NARGS() != NUM_CREATE_ARGS)
		elog(ERROR, "task_create takes %d arguments", NUM_CREATE_ARGS);
	claim_cache_ensure();
	if (PG_ARGISNULL(CA_CODE) || PG_ARGISNULL(CA_QUEUE) || !PG_ARGISNULL(CA_PARENT) ||
		!PG_ARGISNULL(CA_ACCESS) || PG_ARGISNULL(CA_STATUS) ||
		PG_GETARG_OID(CA_STATUS) != claim_cache.queued ||
		!PG_ARGISNULL(CA_IDEMPOTENCY_KEY) || !PG_ARGISNULL(CA_UNIQUE_KEY) || !PG_ARGISNULL(CA_DEBOUNCE) ||
		(!PG_ARGISNULL(CA_DEPENDS_ON) &&
		 ArrayGetNItems(ARR_NDIM(PG_GETARG_ARRAYTYPE_P(CA_DEPENDS_ON)),
						ARR_DIMS(PG_GETARG_ARRAYTYPE_P(CA_DEPENDS_ON))) > 0) ||
		(!PG_ARGISNULL(CA_BLOCKS_PARENT) && PG_GETARG_BOOL(CA_BLOCKS_PARENT)) ||
		(!PG_ARGISNULL(CA_MAX_ATTEMPTS) &&
		 (PG_GETARG_INT32(CA_MAX_ATTEMPTS) < 1 || PG_GETARG_INT32(CA_MAX_ATTEMPTS) > 1000)) ||
		(!PG_ARGISNULL(CA_MAX_RUN_TIME) &&
		 (interval_sign(PG_GETARG_DATUM(CA_MAX_RUN_TIME)) < 0 ||
		  DatumGetInt32(DirectFunctionCall2(interval_cmp, PG_GETARG_DATUM(CA_MAX_RUN_TIME),
											IntervalPGetDatum(&one_year))) > 0)))
		return call_plpgsql(fcinfo, "_create", NUM_CREATE_ARGS);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	q = queue_for_create(PG_GETARG_DATUM(CA_QUEUE));
	queue_values(q, qv, qnull);

#define ARG(i, a) \
	do { \
		args[i] = PG_ARGISNULL(a) ? (Datum) 0 : PG_GETARG_DATUM(a); \
		nulls[i] = PG_ARGISNULL(a) ? 'n' : ' '; \
	} while (0)
	args[0] = qv[QC_OWNER];
	nulls[0] = ' ';
	ARG(1, CA_CODE);
	ARG(2, CA_NAME);
	ARG(3, CA_QUEUE);
	ARG(4, CA_OBJECT);
	ARG(5, CA_DESCRIPTION);
	ARG(6, CA_PARAMETERS);
	ARG(7, CA_ETA);
	ARG(8, CA_RUN_AT);
	ARG(9, CA_ORDERING_KEY);
	ARG(10, CA_MAX_ATTEMPTS);
	ARG(11, CA_PRIORITY);
	if (nulls[11] == 'n')
	{
		args[11] = qv[QC_PRIORITY];
		nulls[11] = qnull[QC_PRIORITY] ? 'n' : ' ';
	}
	/* the maximum run time as stored: none for 0 (task._check_max_run_time) */
	ARG(12, CA_MAX_RUN_TIME);
	sign = nulls[12] == 'n' ? 0 : interval_sign(args[12]);
	if (sign == 0)
		nulls[12] = 'n';
#undef ARG

	{
		Datum		v[NUM_INSERT_COLUMNS];
		bool		vnull[NUM_INSERT_COLUMNS];
		static const int from_arg[NUM_INSERT_COLUMNS] = {
			[IC_OWNER] = 0,[IC_ID] = -1,[IC_STATUS] = -1,[IC_CODE] = 1,[IC_NAME] = 2,
			[IC_QUEUE] = 3,[IC_OBJECT] = 4,[IC_DESCRIPTION] = 5,[IC_PARAMETERS] = 6,
			[IC_ETA] = 7,[IC_RUN_AT] = 8,[IC_ORDERING_KEY] = 9,[IC_MAX_ATTEMPTS] = 10,
			[IC_PRIORITY] = 11,[IC_MAX_RUN_TIME] = 12
		};
		int			c;

		for (c = 0; c < NUM_INSERT_COLUMNS; c++)
		{
			v[c] = from_arg[c] < 0 ? (Datum) 0 : args[from_arg[c]];
			vnull[c] = from_arg[c] < 0 || nulls[from_arg[c]] == 'n';
		}
		v[IC_STATUS] = ObjectIdGetDatum(claim_cache.queued);
		vnull[IC_STATUS] = false;
		if (vnull[IC_RUN_AT])
		{
			v[IC_RUN_AT] = TimestampTzGetDatum(GetCurrentTransactionStartTimestamp());
			vnull[IC_RUN_AT] = false;
		}
		row = insert_direct(v, vnull);
	}
	if (row == (Datum) 0)
	{
		int			nest = planner_settings();

		if (SPI_execute_plan(claim_plan(CP_CREATE), args, nulls, false, 0) != SPI_OK_INSERT_RETURNING ||
			SPI_processed != 1)
			elog(ERROR, "task insert failed");
		row = spi_whole_row();
		AtEOXact_GUC(true, nest);
	}
	row = SPI_datumTransfer(row, false, -1);
	SPI_finish();
	PG_RETURN_DATUM(row);
}

/*
 * task._create_many(q task.queue, code text, parameters jsonb[], run_at
 * timestamptz, ordering_keys text[], priority integer, max_run_time
 * interval) → SETOF task.task_id: the insert of task_create_many (which
 * has looked the queue up and checked the batch), one direct insert per
 * task in one statement, as task_create's (insert_row): each row formed
 * once, the transition trigger's work done on it, only its indexes'
 * entries. The ids come in the order of the array. No row at all when a
 * default of task.task is one the direct insert does not know:
 * task_create_many then runs its INSERT, which names the same columns.
 */
Datum
task_create_many_direct(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	HeapTupleHeader q;
	Datum		qv[NUM_QUEUE_COLUMNS];
	bool		qnull[NUM_QUEUE_COLUMNS];
	Datum	   *pv;
	bool	   *pn;
	int			np;
	Datum	   *kv = NULL;
	bool	   *kn = NULL;
	int			nk = 0;
	TimestampTz now = GetCurrentTransactionStartTimestamp();
	DirectWrite w = {0};
	MemoryContext rowcxt;
	int			i;

	/* a NULL code (task_create_many's check refuses it first) is the trigger's to refuse, as in the INSERT */
	if (PG_ARGISNULL(0) || PG_ARGISNULL(2))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("task._create_many needs a queue and parameters"),
				 errhint("Call task_create_many.")));
	InitMaterializedSRF(fcinfo, MAT_SRF_USE_EXPECTED_DESC);
	claim_cache_ensure();
	q = PG_GETARG_HEAPTUPLEHEADER(0);
	queue_values(q, qv, qnull);
	deconstruct_array(PG_GETARG_ARRAYTYPE_P(2), JSONBOID, -1, false, TYPALIGN_INT, &pv, &pn, &np);
	if (!PG_ARGISNULL(4))
		deconstruct_array(PG_GETARG_ARRAYTYPE_P(4), TEXTOID, -1, false, TYPALIGN_INT, &kv, &kn, &nk);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	direct_open(&w);
	if (!ins.direct)
	{
		direct_close(&w);
		SPI_finish();
		return (Datum) 0;
	}
	direct_begin(&w, DW_INSERT);
	rowcxt = AllocSetContextCreate(CurrentMemoryContext, "task_create_many row", ALLOCSET_DEFAULT_SIZES);
	for (i = 0; i < np; i++)
	{
		Datum		v[NUM_INSERT_COLUMNS] = {0};
		bool		isnull[NUM_INSERT_COLUMNS];
		MemoryContext old;
		Datum		id;
		bool		idnull = false;

		memset(isnull, true, sizeof(isnull));
		v[IC_OWNER] = qv[QC_OWNER];
		isnull[IC_OWNER] = false;
		v[IC_STATUS] = ObjectIdGetDatum(claim_cache.queued);
		isnull[IC_STATUS] = false;
		v[IC_CODE] = PG_ARGISNULL(1) ? (Datum) 0 : PG_GETARG_DATUM(1);
		isnull[IC_CODE] = PG_ARGISNULL(1);
		v[IC_QUEUE] = qv[QC_NAME];
		isnull[IC_QUEUE] = false;
		v[IC_PARAMETERS] = pv[i];
		isnull[IC_PARAMETERS] = pn[i];
		v[IC_RUN_AT] = PG_ARGISNULL(3) ? TimestampTzGetDatum(now) : PG_GETARG_DATUM(3);
		isnull[IC_RUN_AT] = false;
		if (i < nk)
		{
			v[IC_ORDERING_KEY] = kv[i];
			isnull[IC_ORDERING_KEY] = kn[i];
		}
		v[IC_PRIORITY] = PG_ARGISNULL(5) ? qv[QC_PRIORITY] : PG_GETARG_DATUM(5);
		isnull[IC_PRIORITY] = PG_ARGISNULL(5) && qnull[QC_PRIORITY];
		v[IC_MAX_RUN_TIME] = PG_ARGISNULL(6) ? (Datum) 0 : PG_GETARG_DATUM(6);
		isnull[IC_MAX_RUN_TIME] = PG_ARGISNULL(6);

		old = MemoryContextSwitchTo(rowcxt);
		(void) insert_row(&w, v, isnull, now);
		id = v[IC_ID];
		MemoryContextSwitchTo(old);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, &id, &idnull);
		/* the row formed in rowcxt: let go of it before the context is reset */
		ExecClearTuple(w.new);
		ResetPerTupleExprContext(w.estate);
		MemoryContextReset(rowcxt);
	}
	direct_end(&w);
	direct_close(&w);
	SPI_finish();
	return (Datum) 0;
}
