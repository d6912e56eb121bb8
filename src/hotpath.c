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

#include "access/htup_details.h"
#include "access/tupconvert.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/timestamp.h"
#include "utils/syscache.h"
#include "utils/typcache.h"

#include "task.h"

PG_FUNCTION_INFO_V1(task_claim);
PG_FUNCTION_INFO_V1(task_complete_one);
PG_FUNCTION_INFO_V1(task_dequeue);
PG_FUNCTION_INFO_V1(task_create_one);

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
	CP_COMPLETE,				/* complete a processing task */
	CP_WRITE_FAILED,			/* why a completion found nothing (raises) */
	CP_QUEUE,					/* the queue a worker call acts on */
	CP_RESCUE,					/* take back a short queue's expired leases */
	CP_COMPLETE_MANY,			/* complete a batch (PL/pgSQL: all or nothing) */
	CP_CREATE_QUEUE,			/* the queue a task is created in */
	CP_CREATE,					/* insert a task without keys, links or access list */
	CP_QUEUE_DIRECT,			/* an existing queue the caller may write to */
	NUM_CLAIM_PLANS
} ClaimPlan;

static const char *const claim_sql[NUM_CLAIM_PLANS] = {
	"SELECT * FROM task._claim_limited($1, $2, $3)",

	"SELECT x.run_at, x.id FROM ONLY task.task x "
	" WHERE x.owner = $1 AND x.queue = $2 "
	"   AND x.status IN ('queued', 'rescheduled') "
	"   AND x.priority = $3 AND (x.run_at, x.id) >= ($4, $5) "
	" ORDER BY x.run_at, x.id "
	" LIMIT 1",

	"SELECT x.priority, x.run_at, x.id FROM ONLY task.task x "
	" WHERE x.owner = $1 AND x.queue = $2 "
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
	 * is processing or an older one waits, even for a retry. Returned in
	 * claim order.
	 */
	"WITH claimed AS ("
	"UPDATE ONLY task.task t "
	"   SET status = 'processing', "
	"       attempts = t.attempts + 1, "
	"       lease_token = task._lease_token(t.revision + 1), "
	"       lease_until = $8 "
	" WHERE t.id = ANY (ARRAY( "
	"        SELECT x.id FROM ONLY task.task x "
	"         WHERE x.owner = $1 AND x.queue = $2 "
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
	"         FOR UPDATE SKIP LOCKED)) "
	"   AND t.owner = task.task_id_owner(t.id) "
	"RETURNING t.*) "
	"SELECT * FROM claimed c ORDER BY c.run_at, c.id",

	/*
	 * A probe of the primary key by id, whatever the statistics say:
	 * "status = 'processing'" let a generic plan read the partial lease
	 * index whole (its statistics count only live processing tasks, so it
	 * looks tiny) and filter on the id, and "owner = <parameter>" the
	 * owner's listing index, on a fresh table; under a held snapshot both
	 * keep every version since, and each completion walked them all. Hence
	 * status as text, and the owner (the distribution key) derived from
	 * the row's own id. Fenced by the claim's token unless forced.
	 */
	"UPDATE ONLY task.task x "
	"   SET status = 'completed', result = $3, resource = $4 "
	" WHERE x.id = $1 AND x.owner = task.task_id_owner(x.id) "
	"   AND task._may_write(x.owner, false) "
	"   AND x.status::text = 'processing' "
	"   AND ($5 OR x.lease_token IS NOT DISTINCT FROM $2) "
	"RETURNING *",

	"SELECT task._write_failed($1, 'complete', false, $2, '{processing}', $3)",

	"SELECT q FROM task._worker_queue($1, true) q",

	"SELECT task._rescue_leases($1, $2)",

	"SELECT task._complete_many($1, $2)",

	"SELECT q FROM task._queue_for_create($1) q",

	"INSERT INTO task.task AS x (owner, id, status, code, name, queue, object, description, "
	"                            parameters, eta, run_at, ordering_key, max_attempts, priority, max_run_time) "
	"VALUES ($1, task.task_id_make($1, nextval('task.task_serial_seq')), 'queued', $2, $3, $4, $5, $6, "
	"        $7, $8, coalesce($9, now()), $10, $11, $12, $13) "
	"RETURNING *",

	/*
	 * The common case of task._worker_queue and task._queue_for_create,
	 * without the call of a PL/pgSQL function: the queue exists and the
	 * caller may write to it. Nothing found, they run, and raise the error
	 * that says why, make the queue, or return a queue not made yet.
	 */
	"SELECT x FROM task.queue x WHERE x.name = $1 AND task._may_write(x.owner, false)"
};

typedef struct ClaimCache
{
	Oid			queue_type;		/* task.queue's row type the plans were made for */
	Oid			id_type;		/* task.task_id */
	Oid			queued;			/* the task.status 'queued' */
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
		else if (which == CP_COMPLETE || which == CP_WRITE_FAILED)
		{
			argtypes[0] = claim_cache.id_type;
			argtypes[1] = INT8OID;
			argtypes[2] = which == CP_COMPLETE ? JSONBOID : BOOLOID;
			argtypes[3] = TEXTOID;
			argtypes[4] = BOOLOID;
			nargs = which == CP_COMPLETE ? 5 : 3;
		}
		else if (which == CP_COMPLETE_MANY)
		{
			argtypes[0] = get_array_type(claim_cache.id_type);
			argtypes[1] = INT8ARRAYOID;
			nargs = 2;
		}
		else if (which == CP_QUEUE || which == CP_CREATE_QUEUE || which == CP_QUEUE_DIRECT)
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

/* The plans are made for the task.queue and task.task_id of the extension installed now. */
static void
claim_cache_ensure(void)
{
	Oid			queue_type = task_type("queue");

	if (claim_cache.queue_type != queue_type)
		claim_cache_load(queue_type);
}

/*
 * The queue a call acts on, by name (SPI connected, the cache loaded): an
 * existing queue the caller may write to, or else what the PL/pgSQL
 * function of the call (plan 'otherwise') returns or raises. The row is in
 * SPI's memory.
 */
static HeapTupleHeader
queue_by_name(Datum name, ClaimPlan otherwise)
{
	Datum		args[1] = {name};
	bool		isnull;
	Datum		q;

	if (SPI_execute_plan(claim_plan(CP_QUEUE_DIRECT), args, NULL, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "queue lookup failed");
	if (SPI_processed != 1 &&
		(SPI_execute_plan(claim_plan(otherwise), args, NULL, false, 1) != SPI_OK_SELECT || SPI_processed != 1))
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
	int			c;

	tuple.t_len = HeapTupleHeaderGetDatumLength(q);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = q;
	for (c = 0; c < NUM_QUEUE_COLUMNS; c++)
		values[c] = heap_getattr(&tuple, claim_cache.attnum[c], desc, &nulls[c]);
	ReleaseTupleDesc(desc);
}

/*
 * Claims up to n tasks of queue q (its columns in qv, qnull: queue_values)
 * into the caller's tuplestore (SPI connected, the cache loaded); lease
 * NULL: the queue's. Returns how many.
 */
static int64
claim_into(ReturnSetInfo *rsinfo, HeapTupleHeader q, const Datum *qv, const bool *qnull,
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
		got += (int64) claim_keep_rows(rsinfo);
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
	(void) claim_into((ReturnSetInfo *) fcinfo->resultinfo, PG_GETARG_HEAPTUPLEHEADER(0), qv, qnull,
					  PG_GETARG_INT32(1), PG_ARGISNULL(2), PG_ARGISNULL(2) ? (Datum) 0 : PG_GETARG_DATUM(2));
	SPI_finish();
	return (Datum) 0;
}

/*
 * A row SPI returned (a task.task of RETURNING *) as this function's
 * composite result, in the caller's memory (before SPI_finish).
 */
static Datum
row_as_result(HeapTuple tuple, TupleDesc desc)
{
	TupleConversionMap *map = convert_tuples_by_position(SPI_tuptable->tupdesc, desc,
														 gettext_noop("the row does not match task.task"));

	if (map)
		tuple = execute_attr_map_tuple(tuple, map);
	return SPI_datumTransfer(heap_copy_tuple_as_datum(tuple, BlessTupleDesc(desc)), false, -1);
}

/*
 * Completes a processing task (SPI connected, the cache loaded), fenced by
 * its claim's token unless forced; when it finds nothing,
 * task._write_failed raises the error that says why. Returns the completed
 * row (in SPI's memory), or NULL if _write_failed raised nothing.
 */
static HeapTuple
complete_one(bool id_isnull, Datum id, bool token_isnull, Datum token, bool result_isnull, Datum result,
			 bool resource_isnull, Datum resource, bool force)
{
	Datum		args[5];
	char		nulls[5] = {' ', ' ', ' ', ' ', ' '};

	if (!result_isnull && !resource_isnull)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a task result is either a JSON value or a resource URI, not both"),
				 errhint("Pass result => a JSON value, or resource => '/relative/uri'.")));
	args[0] = id;
	nulls[0] = id_isnull ? 'n' : ' ';
	args[1] = token;
	nulls[1] = token_isnull ? 'n' : ' ';
	args[2] = result;
	nulls[2] = result_isnull ? 'n' : ' ';
	args[3] = resource;
	nulls[3] = resource_isnull ? 'n' : ' ';
	args[4] = BoolGetDatum(force);
	if (SPI_execute_plan(claim_plan(CP_COMPLETE), args, nulls, false, 0) != SPI_OK_UPDATE_RETURNING)
		elog(ERROR, "completion failed");
	if (SPI_processed > 0)
		return SPI_tuptable->vals[0];
	args[2] = BoolGetDatum(!force);
	nulls[2] = ' ';
	if (SPI_execute_plan(claim_plan(CP_WRITE_FAILED), args, nulls, false, 0) != SPI_OK_SELECT)
		elog(ERROR, "completion check failed");
	return NULL;
}

/*
 * task._complete(id task_id, token bigint, result jsonb, resource text,
 * force boolean) → task.task: completes a processing task (see above);
 * the completed row.
 */
Datum
task_complete_one(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
	HeapTuple	tuple;
	Datum		row = (Datum) 0;

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "task._complete must return a composite type");
	claim_cache_ensure();
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	tuple = complete_one(PG_ARGISNULL(0), PG_ARGISNULL(0) ? (Datum) 0 : PG_GETARG_DATUM(0),
						 PG_ARGISNULL(1), PG_ARGISNULL(1) ? (Datum) 0 : PG_GETARG_DATUM(1),
						 PG_ARGISNULL(2), PG_ARGISNULL(2) ? (Datum) 0 : PG_GETARG_DATUM(2),
						 PG_ARGISNULL(3), PG_ARGISNULL(3) ? (Datum) 0 : PG_GETARG_DATUM(3),
						 !PG_ARGISNULL(4) && PG_GETARG_BOOL(4));
	if (tuple)
		row = row_as_result(tuple, desc);
	SPI_finish();
	if (!tuple)
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
			SPI_finish();
			return;
		}
		if (nulls[4] && (DatumGetInt32(qv[QC_MAX_PROCESSING]) != 0 || DatumGetBool(qv[QC_SERVICE_CAPPED]) ||
						 DatumGetInt32(qv[QC_RATE_LIMIT]) != 0 || DatumGetInt32(qv[QC_KEY_RATE_LIMIT]) != 0))
		{
			/* limited since the wait began: sleep on its freed-slot key too from now on */
			args[4] = Int64GetDatum((int64) task_wait_key_of_limit(DatumGetInt32(qv[QC_OWNER])));
			nulls[4] = false;
			nulls[5] = !task_wait_generation(DatumGetInt64(args[4]), &seq);
			args[5] = Int64GetDatum(seq);
		}
		got = claim_into(rsinfo, q, qv, qnull, n, lease_isnull, lease);
		SPI_finish();
	} while (got == 0 && GetCurrentTimestamp() < until);
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
	Datum		wargs[6];
	bool		wnulls[6] = {false, false, false, true, true, true};

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
		(void) complete_one(false, PG_GETARG_DATUM(4),
							PG_ARGISNULL(5), PG_ARGISNULL(5) ? (Datum) 0 : PG_GETARG_DATUM(5),
							PG_ARGISNULL(6), PG_ARGISNULL(6) ? (Datum) 0 : PG_GETARG_DATUM(6),
							PG_ARGISNULL(7), PG_ARGISNULL(7) ? (Datum) 0 : PG_GETARG_DATUM(7),
							false);

	/* ... or the previous batch, in one statement */
	if (!PG_ARGISNULL(8) && ArrayGetNItems(ARR_NDIM(PG_GETARG_ARRAYTYPE_P(8)),
										   ARR_DIMS(PG_GETARG_ARRAYTYPE_P(8))) > 0)
	{
		char		nulls[2] = {' ', PG_ARGISNULL(9) ? 'n' : ' '};

		args[0] = PG_GETARG_DATUM(8);
		args[1] = PG_ARGISNULL(9) ? (Datum) 0 : PG_GETARG_DATUM(9);
		if (SPI_execute_plan(claim_plan(CP_COMPLETE_MANY), args, nulls, false, 1) != SPI_OK_SELECT)
			elog(ERROR, "batch completion failed");
	}

	q = queue_by_name(PG_GETARG_DATUM(0), CP_QUEUE);
	q = (HeapTupleHeader) DatumGetPointer(datumCopy(PointerGetDatum(q), false, -1));
	queue_values(q, qv, qnull);
	if (DatumGetBool(qv[QC_PAUSED]))
	{
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
		if (DatumGetInt32(qv[QC_MAX_PROCESSING]) != 0 || DatumGetBool(qv[QC_SERVICE_CAPPED]) ||
			DatumGetInt32(qv[QC_RATE_LIMIT]) != 0 || DatumGetInt32(qv[QC_KEY_RATE_LIMIT]) != 0)
		{
			key = (int64) task_wait_key_of_limit(DatumGetInt32(qv[QC_OWNER]));
			wnulls[5] = !task_wait_generation(key, &seq);
			wargs[4] = Int64GetDatum(key);
			wnulls[4] = false;
			wargs[5] = Int64GetDatum(seq);
		}
	}

	got = claim_into(rsinfo, q, qv, qnull, n, PG_ARGISNULL(2), PG_ARGISNULL(2) ? (Datum) 0 : PG_GETARG_DATUM(2));

	/* a short queue: also look for expired leases to take over */
	if (got < n)
	{
		args[0] = PointerGetDatum(q);
		args[1] = Int32GetDatum((int32) (n - got));
		if (SPI_execute_plan(claim_plan(CP_RESCUE), args, NULL, false, 1) != SPI_OK_SELECT || SPI_processed != 1)
			elog(ERROR, "lease rescue failed");
		if (DatumGetInt32(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull)) > 0 && !isnull)
			got += claim_into(rsinfo, q, qv, qnull, (int32) (n - got), PG_ARGISNULL(2),
							  PG_ARGISNULL(2) ? (Datum) 0 : PG_GETARG_DATUM(2));
	}

	/*
	 * Nothing to do and a wait: sleep (at once woken by a commit since the
	 * generations were read) and claim when woken.
	 */
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
typedef enum CreateArg
{
	CA_CODE, CA_QUEUE, CA_NAME, CA_DESCRIPTION, CA_OBJECT, CA_PARENT, CA_PARAMETERS, CA_ETA,
	CA_ACCESS, CA_STATUS, CA_RUN_AT, CA_IDEMPOTENCY_KEY, CA_ORDERING_KEY, CA_MAX_ATTEMPTS,
	CA_DEPENDS_ON, CA_BLOCKS_PARENT, CA_PRIORITY, CA_UNIQUE_KEY, CA_DEBOUNCE, CA_MAX_RUN_TIME,
	NUM_CREATE_ARGS
} CreateArg;

Datum
task_create_one(PG_FUNCTION_ARGS)
{
	TupleDesc	desc;
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
		(!PG_ARGISNULL(CA_MAX_RUN_TIME) && interval_sign(PG_GETARG_DATUM(CA_MAX_RUN_TIME)) < 0))
		return call_plpgsql(fcinfo, "_create", NUM_CREATE_ARGS);

	if (get_call_result_type(fcinfo, NULL, &desc) != TYPEFUNC_COMPOSITE)
		elog(ERROR, "task_create must return a composite type");
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	q = queue_by_name(PG_GETARG_DATUM(CA_QUEUE), CP_CREATE_QUEUE);
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

	if (SPI_execute_plan(claim_plan(CP_CREATE), args, nulls, false, 0) != SPI_OK_INSERT_RETURNING ||
		SPI_processed != 1)
		elog(ERROR, "task insert failed");
	row = row_as_result(SPI_tuptable->vals[0], desc);
	SPI_finish();
	PG_RETURN_DATUM(row);
}
