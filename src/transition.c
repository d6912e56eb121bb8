/*
 * transition.c
 *		The trigger on task.task: checks every change, stamps the audit
 *		columns, bumps the revision and logs each status transition.
 *
 * It runs BEFORE INSERT OR UPDATE FOR EACH ROW, so a direct UPDATE by the
 * owner is checked and audited exactly like an API call. It is on the hot
 * path (every dequeue and every completion goes through it), hence C:
 * column positions and enum values are looked up once per backend, the
 * log INSERT is a saved plan, and unchanged columns are not re-validated.
 */
#include "postgres.h"

#include "access/detoast.h"
#include "access/genam.h"
#include "access/stratnum.h"
#include "access/table.h"
#include "access/htup_details.h"
#include "catalog/namespace.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "common/pg_prng.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/makefuncs.h"
#include "parser/parse_func.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/fmgroids.h"
#include "utils/guc.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/timestamp.h"

#include "compat.h"
#include "rules.h"
#include "task.h"

PG_FUNCTION_INFO_V1(task_transition);
PG_FUNCTION_INFO_V1(task_settle_gate);
PG_FUNCTION_INFO_V1(task_settles);

/* Columns of task.task the trigger reads or writes. */
typedef enum TaskColumn
{
	COL_OWNER,
	COL_ID,
	COL_REVISION,
	COL_STATUS,
	COL_CODE,
	COL_NAME,
	COL_QUEUE,
	COL_OBJECT,
	COL_DESCRIPTION,
	COL_PROGRESS,
	COL_PARAMETERS,
	COL_RESOURCE,
	COL_RESULT,
	COL_ERROR,
	COL_LEASE_UNTIL,
	COL_ORDERING_KEY,
	COL_IDEMPOTENCY_KEY,
	COL_ATTEMPTS,
	COL_LEASE_TOKEN,
	COL_STATUS_AT,
	COL_CREATED_AT,
	COL_CREATED_BY,
	COL_UPDATED_AT,
	COL_UPDATED_BY,
	COL_STARTED_AT,
	COL_STARTED_BY,
	COL_COMPLETED_AT,
	COL_COMPLETED_BY,
	COL_FAILED_AT,
	COL_FAILED_BY,
	COL_RESCHEDULED_AT,
	COL_RESCHEDULED_BY,
	COL_CANCELLED_AT,
	COL_CANCELLED_BY,
	NUM_TASK_COLUMNS
} TaskColumn;

static const char *const column_names[NUM_TASK_COLUMNS] = {
	"owner", "id", "revision", "status", "code", "name", "queue", "object",
	"description", "progress", "parameters", "resource", "result", "error",
	"lease_until", "ordering_key", "idempotency_key", "attempts",
	"lease_token", "status_at",
	"created_at", "created_by", "updated_at", "updated_by",
	"started_at", "started_by", "completed_at", "completed_by",
	"failed_at", "failed_by", "rescheduled_at", "rescheduled_by",
	"cancelled_at", "cancelled_by"
};

/*
 * Columns added after 0.1.0 that the trigger writes: absent (attnum 0)
 * until ALTER EXTENSION task UPDATE adds them, and then simply skipped.
 */
typedef enum TaskExtraColumn
{
	XCOL_MAX_RUN_TIME,
	XCOL_WORKER_NAME,
	XCOL_WORKER_ADDR,
	XCOL_WORKER_PID,
	XCOL_PRIORITY,
	XCOL_RUN_AT,
	XCOL_UNIQUE_KEY,
	XCOL_ETA,
	NUM_TASK_EXTRA_COLUMNS
} TaskExtraColumn;

static const char *const extra_column_names[NUM_TASK_EXTRA_COLUMNS] = {
	"max_run_time", "worker_name", "worker_addr", "worker_pid", "priority", "run_at", "unique_key", "eta"
};

typedef enum TaskStatus
{
	ST_BLOCKED,
	ST_QUEUED,
	ST_PROCESSING,
	ST_COMPLETED,
	ST_FAILED,
	ST_RESCHEDULED,
	ST_CANCELLED,
	NUM_STATUSES
} TaskStatus;

static const char *const status_names[NUM_STATUSES] = {
	"blocked", "queued", "processing", "completed", "failed", "rescheduled", "cancelled"
};

#define ST_BIT(s) (1 << (s))

/* The transitions of DESIGN.md; everything else is rejected. */
static const int allowed_transitions[NUM_STATUSES] = {
	[ST_BLOCKED] = ST_BIT(ST_QUEUED) | ST_BIT(ST_CANCELLED),
	[ST_QUEUED] = ST_BIT(ST_PROCESSING) | ST_BIT(ST_CANCELLED),
	[ST_PROCESSING] = ST_BIT(ST_COMPLETED) | ST_BIT(ST_FAILED) | ST_BIT(ST_RESCHEDULED) |
	ST_BIT(ST_QUEUED) | ST_BIT(ST_CANCELLED),
	[ST_COMPLETED] = 0,
	[ST_FAILED] = ST_BIT(ST_QUEUED),
	[ST_RESCHEDULED] = ST_BIT(ST_PROCESSING) | ST_BIT(ST_QUEUED) | ST_BIT(ST_CANCELLED),
	[ST_CANCELLED] = 0,
};

/* The audit pair each target status stamps (-1: none besides updated). */
static const int stamp_column[NUM_STATUSES] = {
	[ST_BLOCKED] = -1,
	[ST_QUEUED] = -1,
	[ST_PROCESSING] = COL_STARTED_AT,
	[ST_COMPLETED] = COL_COMPLETED_AT,
	[ST_FAILED] = COL_FAILED_AT,
	[ST_RESCHEDULED] = COL_RESCHEDULED_AT,
	[ST_CANCELLED] = COL_CANCELLED_AT,
};


/*
 * Per-backend cache of what depends on the installed extension: column
 * numbers, enum oids and the saved log plan. Rebuilt when task.task is a
 * different relation (the extension was dropped and created again) or has
 * another number of columns (an update added some).
 * The plan lives in CacheMemoryContext via SPI_keepplan.
 */
static struct
{
	Oid			relid;
	int			natts;			/* columns added by an update: look again */
	AttrNumber	attnum[NUM_TASK_COLUMNS];
	AttrNumber	extra_attnum[NUM_TASK_EXTRA_COLUMNS];	/* 0: not there */
	Oid			status_type;
	Oid			status_oid[NUM_STATUSES];
	SPIPlanPtr	log_plan[2];	/* plain insert; insert unless already logged */
}			cache;

static void
load_cache(Relation rel)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			i;
	bool		v010;

	if (cache.relid == RelationGetRelid(rel) && cache.natts == desc->natts)
		return;

	/*
	 * Only the extension's own tables: the trigger writes the task's log as
	 * the tables' owner and wakes its queue, so a copy of task.task's
	 * columns made by anyone else (a temporary table) must not get it. The
	 * function is not executable by PUBLIC either (40_trigger.sql), and
	 * only the schema's owner creates tables in schema task.
	 */
	if (RelationGetNamespace(rel) != get_namespace_oid("task", false) ||
		rel->rd_rel->relowner != task_tables_owner())
		ereport(ERROR,
				(errcode(ERRCODE_TRIGGERED_ACTION_EXCEPTION),
				 errmsg("task_transition() must be a trigger on task.task"),
				 errdetail("Relation \"%s\" is not a table of the task extension.",
						   RelationGetRelationName(rel)),
				 errhint("Do not attach the extension's trigger functions to other tables.")));

	cache.relid = InvalidOid;
	for (i = 0; i < 2; i++)
		if (cache.log_plan[i])
		{
			SPI_freeplan(cache.log_plan[i]);
			cache.log_plan[i] = NULL;
		}

	/*
	 * A 0.1.0 schema (before ALTER EXTENSION task UPDATE) names the result
	 * columns result (the URI) and result_value (the JSON): the installed
	 * library must keep serving it until the update, which renames them in
	 * place (same attribute numbers, so this cache stays right).
	 */
	v010 = SPI_fnumber(desc, "resource") <= 0 && SPI_fnumber(desc, "result_value") > 0;

	for (i = 0; i < NUM_TASK_COLUMNS; i++)
	{
		const char *name = !v010 ? column_names[i] :
			i == COL_RESOURCE ? "result" : i == COL_RESULT ? "result_value" : column_names[i];
		int			attno = SPI_fnumber(desc, name);

		if (attno <= 0)
			ereport(ERROR,
					(errcode(ERRCODE_TRIGGERED_ACTION_EXCEPTION),
					 errmsg("task_transition() must be a trigger on task.task"),
					 errdetail("Relation \"%s\" has no column \"%s\".",
							   RelationGetRelationName(rel), name)));
		cache.attnum[i] = attno;
	}

	for (i = 0; i < NUM_TASK_EXTRA_COLUMNS; i++)
		cache.extra_attnum[i] = Max(SPI_fnumber(desc, extra_column_names[i]), 0);

	cache.status_type = TupleDescAttr(desc, cache.attnum[COL_STATUS] - 1)->atttypid;
	for (i = 0; i < NUM_STATUSES; i++)
		cache.status_oid[i] = DatumGetObjectId(DirectFunctionCall2(enum_in,
																   CStringGetDatum(status_names[i]),
																   ObjectIdGetDatum(cache.status_type)));
	cache.relid = RelationGetRelid(rel);
	cache.natts = desc->natts;
}

/* The trigger runs ahead of NOT NULL: a NULL status is not one to look up. */
static void
require_status(const bool *nulls)
{
	if (nulls[cache.attnum[COL_STATUS] - 1])
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("task status must not be null"),
				 errhint("Set one of blocked, queued, processing, completed, failed, rescheduled, cancelled.")));
}

static TaskStatus
status_of(Datum d)
{
	Oid			oid = DatumGetObjectId(d);
	int			i;

	for (i = 0; i < NUM_STATUSES; i++)
		if (cache.status_oid[i] == oid)
			return (TaskStatus) i;
	elog(ERROR, "unrecognized task status oid %u", oid);
	return ST_QUEUED;			/* keep compiler quiet */
}

/*
 * A result set to a JSON string that is a relative resource URI, with no
 * resource: the URI becomes the resource and the result NULL
 * (task_result_uri). changed as validate_columns' (NULL: inserting).
 */
static void
result_as_resource(Datum *values, bool *nulls, const bool *changed)
{
	int			res = cache.attnum[COL_RESULT] - 1;
	int			uri = cache.attnum[COL_RESOURCE] - 1;
	Datum		d;

	if ((changed == NULL || changed[COL_RESULT]) && !nulls[res] && nulls[uri] &&
		task_result_uri(values[res], &d))
	{
		values[uri] = d;
		nulls[uri] = false;
		values[res] = (Datum) 0;
		nulls[res] = true;
	}
}

/*
 * Validate the user-settable columns. On UPDATE only the changed ones
 * (changed[i] true), so a large unchanged parameters value is not detoasted.
 */
static void
validate_columns(Datum *values, bool *nulls, const bool *changed)
{
#define CHANGED(c) (changed == NULL || changed[c])
#define V(c) values[cache.attnum[c] - 1]
#define N(c) nulls[cache.attnum[c] - 1]
	/* the BEFORE trigger runs ahead of the NOT NULL constraints */
	if (CHANGED(COL_CODE) && N(COL_CODE))
		task_code_null_error();
	if (CHANGED(COL_QUEUE) && N(COL_QUEUE))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("task queue must not be null"),
				 errhint("Pass queue => the name of a queue of the service.")));
	if (CHANGED(COL_CODE))
		task_check_code(DatumGetTextPP(V(COL_CODE)));
	if (CHANGED(COL_QUEUE))
	{
		text	   *q = DatumGetTextPP(V(COL_QUEUE));

		task_check_path(TASK_PATH_QUEUE, VARDATA_ANY(q), VARSIZE_ANY_EXHDR(q));
	}
	if (CHANGED(COL_NAME) && !N(COL_NAME))
		task_check_text_value("name", V(COL_NAME), MAX_NAME_BYTES, false);
	if (CHANGED(COL_DESCRIPTION) && !N(COL_DESCRIPTION))
		task_check_text_value("description", V(COL_DESCRIPTION), MAX_DESCRIPTION_BYTES, true);
	if (CHANGED(COL_ERROR) && !N(COL_ERROR))
		task_check_text_value("error", V(COL_ERROR), MAX_ERROR_BYTES, true);
	if (CHANGED(COL_ORDERING_KEY) && !N(COL_ORDERING_KEY))
		task_check_text_value("ordering key", V(COL_ORDERING_KEY), MAX_KEY_BYTES, false);
	if (CHANGED(COL_IDEMPOTENCY_KEY) && !N(COL_IDEMPOTENCY_KEY))
		task_check_text_value("idempotency key", V(COL_IDEMPOTENCY_KEY), MAX_KEY_BYTES, false);
	if (CHANGED(COL_RESOURCE) && !N(COL_RESOURCE))
		task_check_uri(V(COL_RESOURCE));
	if (CHANGED(COL_OBJECT) && !N(COL_OBJECT))
		task_check_json("object", V(COL_OBJECT), MAX_OBJECT_BYTES, true);
	if (CHANGED(COL_PARAMETERS) && !N(COL_PARAMETERS))
		task_check_json("parameters", V(COL_PARAMETERS), MAX_PARAMETERS_BYTES, true);
	if (CHANGED(COL_RESULT) && !N(COL_RESULT))
		task_check_json("result", V(COL_RESULT), MAX_RESULT_BYTES, false);
	if (!N(COL_RESOURCE) && !N(COL_RESULT) &&
		(CHANGED(COL_RESOURCE) || CHANGED(COL_RESULT)))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("a task result is either a JSON value or a resource URI, not both"),
				 errhint("Set result (a JSON value) or resource (a URI), and the other to NULL.")));
	/* started: claimed at least once, and not waiting for a (new) attempt */
	if (CHANGED(COL_PROGRESS) && !N(COL_PROGRESS))
		task_check_progress(V(COL_PROGRESS),
							!N(COL_STARTED_AT) &&
							status_of(V(COL_STATUS)) != ST_QUEUED &&
							status_of(V(COL_STATUS)) != ST_BLOCKED &&
							status_of(V(COL_STATUS)) != ST_RESCHEDULED);
#undef CHANGED
#undef V
#undef N
}

/* Whether an UPDATE left a column as it was, without detoasting large values. */
static bool
column_unchanged(TupleDesc desc, int attno, Datum a, bool anull, Datum b, bool bnull)
{
	Form_pg_attribute att = TupleDescAttr(desc, attno - 1);

	if (anull || bnull)
		return anull == bnull;
	if (att->attlen == -1 &&
		VARATT_IS_EXTERNAL_ONDISK(DatumGetPointer(a)) &&
		VARATT_IS_EXTERNAL_ONDISK(DatumGetPointer(b)))
		return memcmp(DatumGetPointer(a), DatumGetPointer(b),
					  VARSIZE_EXTERNAL(DatumGetPointer(a))) == 0;
	return datum_image_eq(a, b, att->attbyval, att->attlen);
}

/*
 * The columns validate_columns does not cover, on INSERT (oldvalues NULL)
 * or when an UPDATE changes them: the unique key's length, and the times
 * a caller gives (task_check_time: finite, years 1 to 9999).
 */
static void
validate_extra_columns(TupleDesc desc, const Datum *values, const bool *nulls,
					   const Datum *oldvalues, const bool *oldnulls)
{
	static const TaskExtraColumn times[] = {XCOL_RUN_AT, XCOL_ETA};
	AttrNumber	a;
	int			i;

#define SET_NOW(a) (!nulls[(a) - 1] && \
					(oldvalues == NULL || \
					 !column_unchanged(desc, (a), oldvalues[(a) - 1], oldnulls[(a) - 1], values[(a) - 1], nulls[(a) - 1])))
	if ((a = cache.extra_attnum[XCOL_UNIQUE_KEY]) > 0 && SET_NOW(a))
		task_check_text_value("unique key", values[a - 1], MAX_KEY_BYTES, false);
	for (i = 0; i < (int) lengthof(times); i++)
		if ((a = cache.extra_attnum[times[i]]) > 0 && SET_NOW(a))
			task_check_time(extra_column_names[times[i]], values[a - 1]);
#undef SET_NOW
}

static void
reject_change(const char *column, const char *why)
{
	ereport(ERROR,
			(errcode(ERRCODE_GENERATED_ALWAYS),
			 errmsg("column \"%s\" of a task cannot be changed", column),
			 errdetail("%s", why),
			 errhint("Leave \"%s\" out of the UPDATE.", column)));
}

/*
 * A finished task (completed, failed or cancelled) does not change: an
 * UPDATE that keeps its status may change no column but parent (set to
 * NULL when the parent is purged); the extension's own updates of it
 * change none (an access list's change bumps the revision only). A failed
 * task changes again through task_retry, which moves it to queued.
 */
static void
check_finished_unchanged(Relation rel, TupleDesc desc, TaskStatus status,
						 const Datum *oldvalues, const bool *oldnulls,
						 const Datum *values, const bool *nulls)
{
	AttrNumber	parent = get_attnum(RelationGetRelid(rel), "parent");
	int			attno;

	for (attno = 1; attno <= desc->natts; attno++)
	{
		Oid			typoutput;
		bool		typisvarlena;

		if (TupleDescAttr(desc, attno - 1)->attisdropped || attno == parent ||
			column_unchanged(desc, attno, oldvalues[attno - 1], oldnulls[attno - 1],
							 values[attno - 1], nulls[attno - 1]))
			continue;
		getTypeOutputInfo(TupleDescAttr(desc, cache.attnum[COL_ID] - 1)->atttypid, &typoutput, &typisvarlena);
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("cannot update task %s: it is %s",
						OidOutputFunctionCall(typoutput, values[cache.attnum[COL_ID] - 1]),
						status_names[status]),
				 errdetail("A finished task does not change (column \"%s\" was set).",
						   NameStr(TupleDescAttr(desc, attno - 1)->attname)),
				 errhint(status == ST_FAILED
						 ? "Retry it (task_retry) or create a new task."
						 : "Create a new task instead.")));
	}
}

static void
reject_transition(TaskStatus from, TaskStatus to, Oid idtype, Datum id)
{
	StringInfoData allowed;
	Oid			typoutput;
	bool		typisvarlena;
	char	   *idstr;
	int			i;

	getTypeOutputInfo(idtype, &typoutput, &typisvarlena);
	idstr = OidOutputFunctionCall(typoutput, id);

	initStringInfo(&allowed);
	for (i = 0; i < NUM_STATUSES; i++)
		if (allowed_transitions[from] & ST_BIT(i))
			appendStringInfo(&allowed, "%s%s", allowed.len ? ", " : "", status_names[i]);

	if (allowed.len)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("invalid task status transition from \"%s\" to \"%s\"",
						status_names[from], status_names[to]),
				 errdetail("Task %s is %s; a %s task can move to: %s.",
						   idstr, status_names[from], status_names[from], allowed.data),
				 errhint("Read the task again (task_get) and act on its current status.")));
	else
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("invalid task status transition from \"%s\" to \"%s\"",
						status_names[from], status_names[to]),
				 errdetail("Task %s is %s, a final status.", idstr, status_names[from]),
				 errhint("A finished task does not change; create a new task instead.")));
}

/*
 * Insert the transition entry "from -> to" into task.task_log. With
 * unless_logged, only when the task has no stored entry into "to" yet (used
 * to keep the first claim, see below).
 */
static void
log_transition(Relation rel, Datum owner, Datum id, Datum at,
			   TaskStatus from, TaskStatus to, Datum actor, bool unless_logged)
{
	static const char *const sql[2] = {
		"INSERT INTO task.task_log "
		"(owner, task_id, at, message, from_status, to_status, by) "
		"VALUES ($1, $2, $3, $4, $5, $6, $7)",
		"INSERT INTO task.task_log "
		"(owner, task_id, at, message, from_status, to_status, by) "
		"SELECT $1, $2, $3, $4, $5, $6, $7 WHERE NOT EXISTS "
		"(SELECT FROM ONLY task.task_log l WHERE l.owner OPERATOR(pg_catalog.=) $1 "
		"AND l.task_id OPERATOR(task.=) $2 AND l.to_status OPERATOR(pg_catalog.=) $6)"
	};
	int			which = unless_logged ? 1 : 0;
	TaskOwnerSpi owner_spi;
	Datum		args[7];
	char		msg[64];
	int			ret;

	task_owner_spi_connect(&owner_spi);

	if (cache.log_plan[which] == NULL)
	{
		Oid			argtypes[7];
		SPIPlanPtr	plan;

		argtypes[0] = INT4OID;
		argtypes[1] = TupleDescAttr(RelationGetDescr(rel), cache.attnum[COL_ID] - 1)->atttypid;
		argtypes[2] = TIMESTAMPTZOID;
		argtypes[3] = TEXTOID;
		argtypes[4] = cache.status_type;
		argtypes[5] = cache.status_type;
		argtypes[6] = TEXTOID;
		plan = SPI_prepare(sql[which], 7, argtypes);
		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
		cache.log_plan[which] = plan;
	}

	snprintf(msg, sizeof(msg), "%s -> %s", status_names[from], status_names[to]);
	args[0] = owner;
	args[1] = id;
	args[2] = at;
	args[3] = CStringGetTextDatum(msg);
	args[4] = ObjectIdGetDatum(cache.status_oid[from]);
	args[5] = ObjectIdGetDatum(cache.status_oid[to]);
	args[6] = actor;

	ret = SPI_execute_plan(cache.log_plan[which], args, NULL, false, 0);
	if (ret != SPI_OK_INSERT)
		elog(ERROR, "task log insert failed: %s", SPI_result_code_string(ret));

	task_owner_spi_finish(&owner_spi);
}

/*
 * The lease a direct move into processing starts: the queue's lease length
 * from now (a claim sets its own lease and token; an UPDATE by the owner
 * that sets status = 'processing' gets one here, so that lease rescue and
 * fencing apply to it as to a claim).
 */
static Datum
queue_lease_until(Datum queue, TimestampTz now)
{
	TaskOwnerSpi owner_spi;
	Oid			argtypes[1] = {TEXTOID};
	Datum		args[1];
	Datum		lease = (Datum) 0;
	Datum		result;
	bool		isnull = true;

	task_owner_spi_connect(&owner_spi);
	args[0] = queue;
	if (SPI_execute_with_args("SELECT q.lease FROM task.queue q WHERE q.name OPERATOR(pg_catalog.=) $1",
							  1, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "queue lease lookup failed");
	if (SPI_processed == 1)
		lease = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	if (isnull)
		result = TimestampTzGetDatum(now);
	else
		result = DirectFunctionCall2(timestamptz_pl_interval, TimestampTzGetDatum(now), lease);
	task_owner_spi_finish(&owner_spi);
	return result;
}

/*
 * A claim's fencing token: the revision the claim gives the task in the low
 * 31 bits, and 22 random bits above them. The revision alone was unique
 * only while the database went forward: restored from a dump, or failed
 * over to a standby that had not received the last claims, it hands out
 * again the revisions it had handed out after that point, and a worker of
 * the old claim could complete the task under the new one. The random bits
 * tell the two apart (a chance of 1 in 2^22 that they do not). 53 bits in
 * all: a JSON number read as a double (JavaScript's JSON.parse) keeps it.
 */
int64
task_lease_token_for(int32 revision)
{
	uint32		r = pg_prng_uint32(&pg_global_prng_state) & 0x3FFFFF;

	return ((int64) r << 31) | (int64) (revision & 0x7FFFFFFF);
}

PG_FUNCTION_INFO_V1(task_lease_token);

/* task._lease_token(revision integer) → bigint: the token of a claim (above) */
Datum
task_lease_token(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(task_lease_token_for(PG_GETARG_INT32(0)));
}

/* A task code of the marketplace's (market.*): hired tasks have one. */
static bool
is_market_code(Datum code)
{
	text	   *t = DatumGetTextPP(code);

	return VARSIZE_ANY_EXHDR(t) >= 7 && memcmp(VARDATA_ANY(t), "market.", 7) == 0;
}

/*
 * A hired task (a row of task.market_task) is not retried, whatever the
 * path (task_retry, task_bulk('retry'), a direct UPDATE): its escrow was
 * refunded when it failed, and an agent who then completed it could never
 * be paid. Asked only for a retry of a task whose code is market.*.
 */
static void
refuse_hired_retry(Relation rel, Datum owner, Datum id)
{
	TaskOwnerSpi owner_spi;
	Oid			argtypes[2];
	Datum		args[2] = {owner, id};
	char	   *escrow = NULL;
	Oid			out;
	bool		varlena;

	/* a 0.1.0 schema (before ALTER EXTENSION task UPDATE) hires nothing */
	if (!OidIsValid(get_relname_relid("market_task", RelationGetNamespace(rel))))
		return;
	argtypes[0] = TupleDescAttr(RelationGetDescr(rel), cache.attnum[COL_OWNER] - 1)->atttypid;
	argtypes[1] = TupleDescAttr(RelationGetDescr(rel), cache.attnum[COL_ID] - 1)->atttypid;
	task_owner_spi_connect(&owner_spi);
	if (SPI_execute_with_args("SELECT m.escrow FROM task.market_task m"
							  " WHERE m.owner OPERATOR(pg_catalog.=) $1 AND m.task_id OPERATOR(task.=) $2",
							  2, argtypes, args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "hired task lookup failed");
	if (SPI_processed == 1)
	{
		char	   *e = SPI_getvalue(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1);
		MemoryContext old = MemoryContextSwitchTo(TopTransactionContext);

		escrow = pstrdup(e ? e : "settled");
		MemoryContextSwitchTo(old);
	}
	task_owner_spi_finish(&owner_spi);
	getTypeOutputInfo(argtypes[1], &out, &varlena);
	if (escrow)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("a hired task cannot be retried"),
				 errdetail("Task %s was hired; its escrow is %s.",
						   OidOutputFunctionCall(out, id), escrow),
				 errhint("Hire again (task_hire) instead of retrying a hired task.")));
}

/*
 * Who takes the task: the session moving it into processing (a claim, or a
 * direct UPDATE). Its application_name (what a worker names itself in its
 * connection string), client address (inet_client_addr()) and backend pid
 * are read from this backend's memory: no catalog access, no I/O. The row
 * keeps them after the task leaves processing (the last holder); lease
 * rescue and task_cancel name that holder in the log.
 *
 * The address does not change during a session: it is formatted once per
 * backend and kept in TopMemoryContext (a few bytes, for the backend's
 * life) rather than on every claim.
 */
static void
stamp_worker(Datum *values, bool *nulls, bool *replace)
{
	static bool addr_known = false;
	static bool addr_null = true;
	static Datum addr = (Datum) 0;
	AttrNumber	a;

	if (!addr_known)
	{
		/* inet_client_addr(): NULL for a Unix socket or a background process */
		LOCAL_FCINFO(fc, 0);
		Datum		d;

		InitFunctionCallInfoData(*fc, NULL, 0, InvalidOid, NULL, NULL);
		d = inet_client_addr(fc);
		addr_null = fc->isnull;
		if (!addr_null)
		{
			MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

			addr = datumCopy(d, false, -1);
			MemoryContextSwitchTo(old);
		}
		addr_known = true;
	}

	if ((a = cache.extra_attnum[XCOL_WORKER_NAME]) > 0)
	{
		bool		none = application_name == NULL || application_name[0] == '\0';

		values[a - 1] = none ? (Datum) 0 : CStringGetTextDatum(application_name);
		nulls[a - 1] = none;
		replace[a - 1] = true;
	}
	if ((a = cache.extra_attnum[XCOL_WORKER_ADDR]) > 0)
	{
		values[a - 1] = addr;
		nulls[a - 1] = addr_null;
		replace[a - 1] = true;
	}
	if ((a = cache.extra_attnum[XCOL_WORKER_PID]) > 0)
	{
		values[a - 1] = Int32GetDatum(MyProcPid);
		nulls[a - 1] = false;
		replace[a - 1] = true;
	}
}

/*
 * A task's own maximum run time bounds the lease of each claim: the lease
 * never outlasts started_at + max_run_time, so the lease rescue that
 * already runs (task_dequeue on a short queue, task_maintain) ends an
 * attempt that runs too long, and no query looks for it. (A queue's
 * max_run_time needs a lookup: the rescue checks it, see 65_worker.sql.)
 */
static void
clamp_lease(Datum *values, bool *nulls, bool *replace, int lease_att, TimestampTz now)
{
	AttrNumber	a = cache.extra_attnum[XCOL_MAX_RUN_TIME];
	Datum		limit;

	if (a <= 0 || nulls[a - 1])
		return;
	limit = DirectFunctionCall2(timestamptz_pl_interval, TimestampTzGetDatum(now), values[a - 1]);
	if (nulls[lease_att] || DatumGetTimestampTz(values[lease_att]) > DatumGetTimestampTz(limit))
	{
		values[lease_att] = limit;
		nulls[lease_att] = false;
		replace[lease_att] = true;
	}
}

/*
 * max_run_time must not be negative. This was a CHECK constraint of the table
 * (0.2.0 before issue 15); a CHECK is parsed and planned again by every
 * statement that writes the table (ExecRelCheck: stringToNode and
 * expression_planner per statement), which cost the claim and the
 * completion, that never change it, about a tenth of their CPU. The same
 * error (23514, naming the constraint it replaces) is raised here, and only
 * when the value is new.
 */
static void
check_max_run_time(Relation rel, Datum *values, bool *nulls)
{
	AttrNumber	a = cache.extra_attnum[XCOL_MAX_RUN_TIME];
	Interval	zero = {0};

	if (a <= 0 || nulls[a - 1])
		return;
	if (!DatumGetBool(DirectFunctionCall2(interval_gt, values[a - 1], IntervalPGetDatum(&zero))))
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("new row for relation \"%s\" violates check constraint \"%s\"",
						RelationGetRelationName(rel), "task_max_run_time_check"),
				 errdetail("max_run_time must not be negative (0: no limit)."),
				 errhint("Leave max_run_time out (NULL: the queue's limit applies) or give it an interval of 0 or more."),
				 errtableconstraint(rel, "task_max_run_time_check")));
	/* the claim adds it to the clock: past the timestamps' range, no claim of the queue would work */
	{
		Interval	one_year = {.time = 0,.day = TASK_ONE_YEAR_DAYS,.month = 0};

		if (DatumGetBool(DirectFunctionCall2(interval_gt, values[a - 1], IntervalPGetDatum(&one_year))))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("max_run_time must be between 0 and 1 year"),
					 errhint("Pass how long one attempt may run, e.g. interval '10 minutes'; NULL: the queue's limit applies.")));
	}
}

static inline void
note_queue(Datum queue)
{
	text	   *t = DatumGetTextPP(queue);

	task_wait_note_queue(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}

static void
note_claim(Datum queue)
{
	text	   *t = DatumGetTextPP(queue);

	task_wait_note_claim(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
}

/*
 * The marks (mark.c): a row that is runnable after this write, new or not
 * (a requeue, a retry, a new priority, run_at or queue), may sort before
 * the queue's claim mark; its position lowers the mark at commit. A
 * processing row's lease_until lowers the queue's lease mark likewise.
 * With taken, the row as it was before an update: a runnable position or
 * a lease this transaction took away, which a refresh made later in the
 * same transaction must not move past (the transaction may roll back).
 */
static void
note_mark(Datum *values, bool *nulls, bool taken)
{
	AttrNumber	pa = cache.extra_attnum[XCOL_PRIORITY];
	AttrNumber	ra = cache.extra_attnum[XCOL_RUN_AT];
	TaskStatus	status = status_of(values[cache.attnum[COL_STATUS] - 1]);
	text	   *t = DatumGetTextPP(values[cache.attnum[COL_QUEUE] - 1]);
	int32		owner = DatumGetInt32(values[cache.attnum[COL_OWNER] - 1]);
	uint64		key;

	if (status == ST_PROCESSING && !nulls[cache.attnum[COL_LEASE_UNTIL] - 1])
	{
		TimestampTz lease = DatumGetTimestampTz(values[cache.attnum[COL_LEASE_UNTIL] - 1]);

		key = task_wait_key_of_queue(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
		task_mark_note_lease(owner, key, lease, taken);
		return;
	}
	if ((status != ST_QUEUED && status != ST_RESCHEDULED) || pa == 0 || ra == 0 ||
		nulls[pa - 1] || nulls[ra - 1])
		return;
	key = task_wait_key_of_queue(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
	task_mark_note(owner, key, DatumGetInt32(values[pa - 1]), DatumGetTimestampTz(values[ra - 1]),
				   DatumGetInt64(values[cache.attnum[COL_ID] - 1]), taken);
}

/*
 * What a write of a row of task.task leaves for its transaction's end:
 * the wakes on commit (wait.c) and the row's places in its queue's marks,
 * the old one taken and the new one (note_mark). oldvalues NULL: an
 * insert.
 */
static void
note_write(Datum *oldvalues, bool *oldnulls, Datum *values, bool *nulls)
{
#define ATT(c) (cache.attnum[c] - 1)
	TaskStatus	to = status_of(values[ATT(COL_STATUS)]);
	TaskStatus	from = oldvalues != NULL ? status_of(oldvalues[ATT(COL_STATUS)]) : to;

	if (oldvalues != NULL)
		note_mark(oldvalues, oldnulls, true);

	/*
	 * Wake on commit (wait.c): remember the queue when the task becomes
	 * runnable (queued, or rescheduled: runnable at run_at, which a waiter
	 * re-reads), and the task when it reaches a final status. Backend-local
	 * and lock-free; nothing is woken before the transaction commits.
	 */
	if (oldvalues == NULL)
	{
		if (to == ST_QUEUED)
			note_queue(values[ATT(COL_QUEUE)]);
	}
	else if (from != to)
	{
		/* a claim slot is free: wakes a waiter held by a limit (wait.c) */
		if (from == ST_PROCESSING)
			task_wait_note_limit(DatumGetInt32(values[ATT(COL_OWNER)]), false);

		/*
		 * A task with an ordering key that leaves processing (or is
		 * cancelled while it waits) may release the next task of its key:
		 * that wakes the queue too. A claim wakes nobody; it uses up one of
		 * the queue's announced wakes (wait.c), and one of its service's
		 * freed claim slots (a slot freed and taken again in one
		 * transaction, complete-and-claim, wakes nobody).
		 */
		if (to == ST_PROCESSING)
		{
			note_claim(values[ATT(COL_QUEUE)]);
			task_wait_note_limit(DatumGetInt32(values[ATT(COL_OWNER)]), true);
		}
		else if (to == ST_QUEUED || to == ST_RESCHEDULED || !nulls[ATT(COL_ORDERING_KEY)])
			note_queue(values[ATT(COL_QUEUE)]);
		if (to == ST_COMPLETED || to == ST_FAILED || to == ST_CANCELLED)
			task_wait_note_task(DatumGetInt64(values[ATT(COL_ID)]));
	}
	else if ((to == ST_QUEUED || to == ST_RESCHEDULED) && cache.extra_attnum[XCOL_RUN_AT] > 0)
	{
		/*
		 * A waiting task sooner due, its status unchanged
		 * (task_bulk('reschedule', ..., run_at => now()), an UPDATE of
		 * run_at): a waiter sleeps until the earliest due time it read
		 * before, so this wakes the queue as a new task would.
		 */
		AttrNumber	ra = cache.extra_attnum[XCOL_RUN_AT];

		if (!nulls[ra - 1] && !oldnulls[ra - 1] &&
			DatumGetTimestampTz(values[ra - 1]) < DatumGetTimestampTz(oldvalues[ra - 1]))
			note_queue(values[ATT(COL_QUEUE)]);
	}

	note_mark(values, nulls, false);
#undef ATT
}

/*
 * The trigger task_transition (BEFORE INSERT OR UPDATE FOR EACH ROW): the
 * row as a BEFORE trigger gets it, deformed, changed by
 * task_transition_row, formed again.
 */
Datum
task_transition(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Relation	rel;
	TupleDesc	desc;
	HeapTuple	newtuple;
	Datum	   *values;
	bool	   *nulls;
	Datum	   *oldvalues = NULL;
	bool	   *oldnulls = NULL;
	HeapTuple	result;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("task_transition() was not called by trigger manager")));
	if (!TRIGGER_FIRED_BEFORE(trigdata->tg_event) || !TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		TRIGGER_FIRED_BY_DELETE(trigdata->tg_event) || TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("task_transition() must be fired BEFORE INSERT OR UPDATE FOR EACH ROW")));

	rel = trigdata->tg_relation;
	desc = RelationGetDescr(rel);
	values = palloc(desc->natts * sizeof(Datum));
	nulls = palloc(desc->natts * sizeof(bool));
	if (TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		newtuple = trigdata->tg_trigtuple;
	else
	{
		newtuple = trigdata->tg_newtuple;
		oldvalues = palloc(desc->natts * sizeof(Datum));
		oldnulls = palloc(desc->natts * sizeof(bool));
		heap_deform_tuple(trigdata->tg_trigtuple, desc, oldvalues, oldnulls);
	}
	heap_deform_tuple(newtuple, desc, values, nulls);

	task_transition_row(rel, oldvalues, oldnulls, values, nulls);

	/* replica: written as given (task_transition_row took its notes only) */
	if (SessionReplicationRole == SESSION_REPLICATION_ROLE_REPLICA)
		return PointerGetDatum(newtuple);

	/*
	 * values and nulls hold the whole row (newtuple, deformed, then
	 * changed): formed as heap_modify_tuple forms it, without deforming
	 * newtuple a second time.
	 */
	result = heap_form_tuple(desc, values, nulls);
	result->t_data->t_ctid = newtuple->t_data->t_ctid;
	result->t_self = newtuple->t_self;
	result->t_tableOid = newtuple->t_tableOid;
	return PointerGetDatum(result);
}

/*
 * What the trigger task_transition does to a row of rel (task.task): the
 * row to insert (oldvalues NULL) or the new version of an update of the
 * version in oldvalues, oldnulls; values and nulls (all of rel's columns)
 * are checked and changed in place (audit stamps, revision, lease, ...),
 * and the transition is logged and noted for the wake on commit. The hot
 * path's writes (hotpath.c) call it on the row they are about to form,
 * instead of the trigger, when the trigger is the table's only BEFORE row
 * trigger and would fire: the same work without a tuple deformed twice
 * and formed again.
 */
void
task_transition_row(Relation rel, Datum *oldvalues, bool *oldnulls, Datum *values, bool *nulls)
{
	TupleDesc	desc = RelationGetDescr(rel);
	int			natts;
	bool	   *replace;
	bool		inserting = oldvalues == NULL;
	/* the real clock: statement and transaction start times stand still
	 * inside a procedure that commits per task */
	TimestampTz now = GetCurrentTimestamp();
	Datum		nowd = TimestampTzGetDatum(now);
	Datum		actor;
	const TaskIdentity *ident;

#define ATT(c) (cache.attnum[c] - 1)
#define SET(c, v) do { values[ATT(c)] = (v); nulls[ATT(c)] = false; replace[ATT(c)] = true; } while (0)
#define SETNULL(c) do { values[ATT(c)] = (Datum) 0; nulls[ATT(c)] = true; replace[ATT(c)] = true; } while (0)

	load_cache(rel);

	/*
	 * Under session_replication_role = replica (a subscriber applying a
	 * publication of task.task, a load that skips triggers) the row is
	 * written as given: no check, stamp or log. The trigger is enabled
	 * ALWAYS all the same, for the notes: a runnable row or a lease so
	 * written lowers its queue's marks and wakes its waiters like any
	 * other, so that no claim needs to look from the beginning of the queue
	 * for writes nobody noted (mark.c).
	 */
	if (SessionReplicationRole == SESSION_REPLICATION_ROLE_REPLICA)
	{
		/* no status: the NOT NULL constraint refuses the row after us */
		if (!nulls[ATT(COL_STATUS)])
			note_write(oldvalues, oldnulls, values, nulls);
		return;
	}

	ident = task_current_identity();
	actor = CStringGetTextDatum(ident->actor);

	natts = desc->natts;
	replace = palloc0(natts * sizeof(bool));

	if (inserting)
	{
		TaskStatus	status;
		int			c;

		require_status(nulls);

		/*
		 * A restore (pg_restore, psql < dump: COPY or INSERT of rows that
		 * already lived) is taken as it is: any status, its audit columns,
		 * revision and lease. It is recognised by created_by, which no API
		 * call ever supplies (the trigger stamps it: a stored task always
		 * has one), and by who asks: INSERT on task.task is granted to
		 * nobody, so only the tables' owner or a superuser can get here
		 * directly -- and the session's role itself must be one, so that no
		 * SECURITY DEFINER API call made by an application role qualifies.
		 */
		if (!nulls[ATT(COL_CREATED_BY)] &&
			has_privs_of_role(GetOuterUserId(), rel->rd_rel->relowner))
			goto restored;

		status = status_of(values[ATT(COL_STATUS)]);
		task_check_new_status(status_names[status]);

		/* audit columns are ours, whatever the INSERT said */
		for (c = COL_STARTED_AT; c <= COL_CANCELLED_BY; c++)
			SETNULL(c);
		SET(COL_REVISION, Int32GetDatum(1));
		SET(COL_STATUS_AT, nowd);
		SET(COL_CREATED_AT, nowd);
		SET(COL_CREATED_BY, actor);
		SET(COL_UPDATED_AT, nowd);
		SET(COL_UPDATED_BY, actor);
		SETNULL(COL_LEASE_UNTIL);

		result_as_resource(values, nulls, NULL);
		validate_columns(values, nulls, NULL);
		validate_extra_columns(desc, values, nulls, NULL, NULL);
		check_max_run_time(rel, values, nulls);
	}
	else
	{
		bool		changed[NUM_TASK_COLUMNS];
		TaskStatus	from,
					to;
		int			c;

		require_status(nulls);

		for (c = 0; c < NUM_TASK_COLUMNS; c++)
			changed[c] = !column_unchanged(desc, cache.attnum[c],
										   oldvalues[ATT(c)], oldnulls[ATT(c)],
										   values[ATT(c)], nulls[ATT(c)]);

		if (changed[COL_OWNER] || changed[COL_ID])
			reject_change(changed[COL_ID] ? "id" : "owner", "A task keeps its id and owner for life.");
		if (changed[COL_CODE] || changed[COL_QUEUE])
			reject_change(changed[COL_CODE] ? "code" : "queue", "A task keeps its code and queue for life; create a new task instead.");
		if (changed[COL_REVISION])
			reject_change("revision", "The revision is bumped by the extension on every change; compare it in the WHERE clause for optimistic concurrency.");
		for (c = COL_STATUS_AT; c <= COL_CANCELLED_BY; c++)
			if (changed[c])
				reject_change(column_names[c], "Audit columns are stamped by the extension.");

		from = status_of(oldvalues[ATT(COL_STATUS)]);
		to = status_of(values[ATT(COL_STATUS)]);
		if (from == to && (from == ST_COMPLETED || from == ST_FAILED || from == ST_CANCELLED))
			check_finished_unchanged(rel, desc, from, oldvalues, oldnulls, values, nulls);

		SET(COL_REVISION, Int32GetDatum(DatumGetInt32(oldvalues[ATT(COL_REVISION)]) + 1));
		SET(COL_UPDATED_AT, nowd);
		SET(COL_UPDATED_BY, actor);

		if (from != to)
		{
			if (!(allowed_transitions[from] & ST_BIT(to)))
				reject_transition(from, to, TupleDescAttr(desc, ATT(COL_ID))->atttypid, values[ATT(COL_ID)]);

			SET(COL_STATUS_AT, nowd);
			if (stamp_column[to] >= 0)
			{
				SET(stamp_column[to], nowd);
				SET(stamp_column[to] + 1, actor);
			}
			if (from == ST_PROCESSING)
				SETNULL(COL_LEASE_UNTIL);

			/*
			 * A move into processing that is not a claim (the claim sets
			 * the token to the new revision, counts the attempt and starts
			 * the lease itself) gets all three here, as a claim would.
			 */
			if (to == ST_PROCESSING && !changed[COL_LEASE_TOKEN])
			{
				SET(COL_LEASE_TOKEN, Int64GetDatum(task_lease_token_for(DatumGetInt32(values[ATT(COL_REVISION)]))));
				if (!changed[COL_ATTEMPTS])
					SET(COL_ATTEMPTS, Int32GetDatum(DatumGetInt32(oldvalues[ATT(COL_ATTEMPTS)]) + 1));
				if (!changed[COL_LEASE_UNTIL] || nulls[ATT(COL_LEASE_UNTIL)])
					SET(COL_LEASE_UNTIL, queue_lease_until(values[ATT(COL_QUEUE)], now));
			}
			if (to == ST_PROCESSING)
			{
				stamp_worker(values, nulls, replace);
				clamp_lease(values, nulls, replace, ATT(COL_LEASE_UNTIL), now);
			}
			if (to == ST_COMPLETED)
			{
				SET(COL_PROGRESS, Float8GetDatum(100.0));
				changed[COL_PROGRESS] = false;
			}
			/* a retried task starts a new run: no progress until it is claimed */
			if (from == ST_FAILED && to == ST_QUEUED)
			{
				if (!nulls[ATT(COL_CODE)] && is_market_code(values[ATT(COL_CODE)]))
					refuse_hired_retry(rel, values[ATT(COL_OWNER)], values[ATT(COL_ID)]);
				SETNULL(COL_PROGRESS);
				changed[COL_PROGRESS] = false;
			}
		}

		result_as_resource(values, nulls, changed);
		validate_columns(values, nulls, changed);
		validate_extra_columns(desc, values, nulls, oldvalues, oldnulls);
		if (cache.extra_attnum[XCOL_MAX_RUN_TIME] > 0 &&
			!column_unchanged(desc, cache.extra_attnum[XCOL_MAX_RUN_TIME],
							  oldvalues[cache.extra_attnum[XCOL_MAX_RUN_TIME] - 1],
							  oldnulls[cache.extra_attnum[XCOL_MAX_RUN_TIME] - 1],
							  values[cache.extra_attnum[XCOL_MAX_RUN_TIME] - 1],
							  nulls[cache.extra_attnum[XCOL_MAX_RUN_TIME] - 1]))
			check_max_run_time(rel, values, nulls);

		/*
		 * The log of transitions. Two are never stored, because task_logs()
		 * derives them from the audit columns, so that a task drained once
		 * (claimed, completed) writes no log row at all:
		 *  - "processing -> completed": it happens once, at completed_at;
		 *  - the first claim, "queued -> processing" at started_at. A later
		 *    claim overwrites started_at, so it first stores the first claim
		 *    (unless stored already), then itself.
		 */
		if (from != to && to != ST_COMPLETED)
		{
			if (to == ST_PROCESSING && !oldnulls[ATT(COL_STARTED_AT)])
				log_transition(rel, values[ATT(COL_OWNER)], values[ATT(COL_ID)],
							   oldvalues[ATT(COL_STARTED_AT)], ST_QUEUED, ST_PROCESSING,
							   oldvalues[ATT(COL_STARTED_BY)], true);
			if (to != ST_PROCESSING || !oldnulls[ATT(COL_STARTED_AT)])
				log_transition(rel, values[ATT(COL_OWNER)], values[ATT(COL_ID)],
							   nowd, from, to, actor, false);
		}
	}

restored:
	note_write(oldvalues, oldnulls, values, nulls);
	pfree(replace);
#undef ATT
#undef SET
#undef SETNULL
}


/*
 * The gate of the final-transition trigger (task_settle_dependents, AFTER
 * UPDATE OF status ... WHEN the status became completed, failed or
 * cancelled). The work is task._settle_dependents() (75_dependencies.sql):
 * move a hired task's escrow (code "market.*"), send the queue's NOTIFY
 * (task_queue_notify), settle the blocked tasks that depend on this one.
 * Most tasks need none of it, and a PL/pgSQL trigger call (a SECURITY
 * DEFINER function with its own search_path, two records of 40 columns,
 * two queries) cost a completion about a third of its CPU. So this C
 * function looks first and calls task._settle_dependents() with the same
 * trigger data only when there is something to do. A condition added to
 * that function must be added here.
 *
 * The look is two index probes read directly, not a query: through SPI,
 * the executor's start-up of a saved plan cost more than the probes (a
 * drained task's backend CPU fell 5-10% without it). Each is read with the
 * snapshot a query of the PL/pgSQL function would take (in READ COMMITTED,
 * a new one): task_dependency_on_idx for a task that depends on this one,
 * then the queue's primary key for its notify channel. Row security does
 * not apply to the probes; what they read is not shown to the caller, it
 * only decides whether the function runs, and the function reads under
 * its own rules.
 */
typedef struct SettleRels
{
	Oid			task_relid;		/* the task.task these belong to */
	Oid			dep_rel;		/* task.task_dependency */
	Oid			dep_idx;		/* task_dependency_on_idx (owner, depends_on) */
	AttrNumber	dep_owner;
	AttrNumber	dep_on;
	RegProcedure id_eq;			/* = of task.task_id */
	Oid			queue_rel;		/* task.queue */
	Oid			queue_idx;		/* its primary key (name) */
	AttrNumber	queue_name;
	AttrNumber	queue_channel;	/* notify_channel */
} SettleRels;

static SettleRels settle_rels;

static Oid
settle_relid(const char *name, Oid nsp)
{
	Oid			relid = get_relname_relid(name, nsp);

	if (!OidIsValid(relid))
		elog(ERROR, "relation task.%s is missing", name);
	return relid;
}

static AttrNumber
settle_attnum(Oid relid, const char *name)
{
	AttrNumber	attno = get_attnum(relid, name);

	if (attno == InvalidAttrNumber)
		elog(ERROR, "column %s of %s is missing", name, get_rel_name(relid));
	return attno;
}

static void
settle_rels_load(Relation rel)
{
	Oid			nsp = RelationGetNamespace(rel);
	Oid			idtype = TupleDescAttr(RelationGetDescr(rel), cache.attnum[COL_ID] - 1)->atttypid;
	Oid			eqop;
	SettleRels	r;

	r.task_relid = RelationGetRelid(rel);
	r.dep_rel = settle_relid("task_dependency", nsp);
	r.dep_idx = settle_relid("task_dependency_on_idx", nsp);
	r.dep_owner = settle_attnum(r.dep_rel, "owner");
	r.dep_on = settle_attnum(r.dep_rel, "depends_on");
	eqop = OpernameGetOprid(list_make2(makeString("task"), makeString("=")), idtype, idtype);
	if (!OidIsValid(eqop))
		elog(ERROR, "operator task.= for task.task_id is missing");
	r.id_eq = get_opcode(eqop);
	r.queue_rel = settle_relid("queue", nsp);
	r.queue_idx = settle_relid("queue_pkey", nsp);
	r.queue_name = settle_attnum(r.queue_rel, "name");
	r.queue_channel = settle_attnum(r.queue_rel, "notify_channel");
	settle_rels = r;
}

/*
 * Whether an index probe of relid finds a row; with channel, whether the
 * row found has a non-empty text in that column.
 */
static bool
settle_probe(Oid relid, Oid indexid, ScanKey keys, int nkeys, Snapshot snapshot, AttrNumber channel)
{
	Relation	rel = table_open(relid, AccessShareLock);
	SysScanDesc scan = systable_beginscan(rel, indexid, true, snapshot, nkeys, keys);
	HeapTuple	tuple = systable_getnext(scan);
	bool		found = HeapTupleIsValid(tuple);

	if (found && channel != InvalidAttrNumber)
	{
		bool		isnull;
		Datum		d = heap_getattr(tuple, channel, RelationGetDescr(rel), &isnull);

		found = !isnull && VARSIZE_ANY_EXHDR(DatumGetPointer(d)) > 0;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
	return found;
}

/*
 * What the probes last found, kept while the next snapshot would be the
 * same. A completion of ten tasks (complete_batch, one statement) fires
 * the gate ten times at the end of its statement, each with a new
 * snapshot (READ COMMITTED). When no transaction has ended since the
 * answers were read (snapXactCompletionCount, the count PostgreSQL itself
 * compares to reuse a snapshot), in the same transaction at the same
 * command id, the new snapshot sees what the old one saw, and a probe
 * would read the same rows. So the gate keeps: whether the service has
 * any dependency at all (a probe of the index's first column: when it has
 * none, no task of it has a dependent, and the per-task probe is not
 * needed), and the last queue's answer. A call of
 * task._settle_dependents moves the command id, so only "nothing to do"
 * is ever reused. A queue name longer than the buffer is probed every time.
 */
static struct
{
	LocalTransactionId lxid;	/* Invalid: nothing kept */
	CommandId	cid;
	uint64		completions;
	Oid			task_relid;
	bool		owner_valid;
	int32		owner;
	bool		owner_deps;		/* the service has a dependency */
	bool		queue_valid;
	bool		queue_needed;	/* the queue has a notify channel */
	int			len;
	char		name[NAMEDATALEN * 2];
}			settle_memo;

/* Whether settle_memo holds answers for a snapshot of this count and command id (0: never). */
static bool
settle_memo_current(uint64 completions, CommandId cid)
{
	if (completions != 0 && settle_memo.lxid == TASK_CURRENT_LXID() && settle_memo.lxid != InvalidLocalTransactionId &&
		settle_memo.completions == completions && settle_memo.cid == cid &&
		settle_memo.task_relid == settle_rels.task_relid)
		return true;
	settle_memo.lxid = InvalidLocalTransactionId;
	settle_memo.owner_valid = settle_memo.queue_valid = false;
	if (completions == 0)
		return false;
	settle_memo.lxid = TASK_CURRENT_LXID();
	settle_memo.completions = completions;
	settle_memo.cid = cid;
	settle_memo.task_relid = settle_rels.task_relid;
	return true;
}

static bool
settle_needed(Relation rel, Datum owner, Datum id, Datum queue)
{
	ScanKeyData keys[2];
	Snapshot	snapshot;
	uint64		completions;
	bool		memo;
	bool		needed;
	text	   *name;

	if (settle_rels.task_relid != RelationGetRelid(rel))
		settle_rels_load(rel);
	snapshot = GetTransactionSnapshot();
	/* the registered copy has its count zeroed (CopySnapshot): read it first; 0 for other kinds */
	completions = snapshot->snapshot_type == SNAPSHOT_MVCC ? snapshot->snapXactCompletionCount : 0;
	memo = settle_memo_current(completions, snapshot->curcid);
	snapshot = RegisterSnapshot(snapshot);

	/* a task that depends on this one: none when the service has no dependency */
	ScanKeyInit(&keys[0], settle_rels.dep_owner, BTEqualStrategyNumber, F_INT4EQ, owner);
	ScanKeyInit(&keys[1], settle_rels.dep_on, BTEqualStrategyNumber, settle_rels.id_eq, id);
	if (memo && !(settle_memo.owner_valid && settle_memo.owner == DatumGetInt32(owner)))
	{
		settle_memo.owner = DatumGetInt32(owner);
		settle_memo.owner_deps = settle_probe(settle_rels.dep_rel, settle_rels.dep_idx, keys, 1, snapshot,
											  InvalidAttrNumber);
		settle_memo.owner_valid = true;
	}
	if (memo && !settle_memo.owner_deps)
		needed = false;
	else
		needed = settle_probe(settle_rels.dep_rel, settle_rels.dep_idx, keys, 2, snapshot, InvalidAttrNumber);

	/* the queue's notify channel */
	name = DatumGetTextPP(queue);
	if (!needed && memo && settle_memo.queue_valid && settle_memo.len == (int) VARSIZE_ANY_EXHDR(name) &&
		memcmp(settle_memo.name, VARDATA_ANY(name), settle_memo.len) == 0)
		needed = settle_memo.queue_needed;
	else if (!needed)
	{
		ScanKeyInit(&keys[0], settle_rels.queue_name, BTEqualStrategyNumber, F_TEXTEQ, queue);
		needed = settle_probe(settle_rels.queue_rel, settle_rels.queue_idx, keys, 1, snapshot,
							  settle_rels.queue_channel);
		if (memo && VARSIZE_ANY_EXHDR(name) <= sizeof(settle_memo.name))
		{
			settle_memo.len = VARSIZE_ANY_EXHDR(name);
			memcpy(settle_memo.name, VARDATA_ANY(name), settle_memo.len);
			settle_memo.queue_needed = needed;
			settle_memo.queue_valid = true;
		}
	}
	UnregisterSnapshot(snapshot);
	return needed;
}

/*
 * Whether the gate, fired for the new row tuple (a move into a final
 * status: the trigger's WHEN, task._settles), calls
 * task._settle_dependents: a marketplace task's row, a task another one
 * depends on, a queue with a notify channel. The direct writes
 * (src/hotpath.c) ask it for a completion before they queue the
 * trigger's event: when the gate would do nothing, no event is queued.
 */
bool
task_settle_gate_acts(Relation rel, HeapTuple tuple)
{
	TupleDesc	desc = RelationGetDescr(rel);
	bool		isnull;
	Datum		code;
	Datum		owner;
	Datum		id;
	Datum		queue;

	load_cache(rel);
	code = heap_getattr(tuple, cache.attnum[COL_CODE], desc, &isnull);
	if (!isnull && is_market_code(code))
		return true;
	owner = heap_getattr(tuple, cache.attnum[COL_OWNER], desc, &isnull);
	id = heap_getattr(tuple, cache.attnum[COL_ID], desc, &isnull);
	queue = heap_getattr(tuple, cache.attnum[COL_QUEUE], desc, &isnull);
	return settle_needed(rel, owner, id, queue);
}

Datum
task_settle_gate(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) || !TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("task_settle_gate() must be fired AFTER UPDATE FOR EACH ROW")));

	if (task_settle_gate_acts(trigdata->tg_relation, trigdata->tg_newtuple))
	{
		Oid			fn = LookupFuncName(list_make2(makeString("task"), makeString("_settle_dependents")),
										0, NULL, false);
		FmgrInfo	finfo;
		LOCAL_FCINFO(fc, 0);

		/* called as the trigger itself would have been: same trigger data */
		fmgr_info(fn, &finfo);
		InitFunctionCallInfoData(*fc, &finfo, 0, InvalidOid, (Node *) trigdata, NULL);
		(void) FunctionCallInvoke(fc);
	}
	return PointerGetDatum(NULL);
}

/*
 * task._settles(old task.status, new task.status) → boolean: whether an
 * update moves a task into a final status (completed, failed, cancelled),
 * the WHEN of the trigger task_settle_dependents. PostgreSQL reads a
 * trigger's WHEN from its stored form and compiles it again in every
 * statement that updates the table (claims and completions included): a
 * call of this function, two columns, is a fifth of the size of the IN
 * list and IS DISTINCT FROM it replaces, and compiles in a fraction of
 * the time. The enum's oids are kept per backend, looked up again when
 * the type is another (the extension was created again).
 */
Datum
task_settles(PG_FUNCTION_ARGS)
{
	static Oid	type = InvalidOid;
	static Oid	final[3];
	Oid			old_status = PG_GETARG_OID(0);
	Oid			new_status = PG_GETARG_OID(1);
	Oid			argtype = get_fn_expr_argtype(fcinfo->flinfo, 1);

	if (!OidIsValid(argtype))
		ereport(ERROR,
				(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
				 errmsg("task._settles() needs to know its argument type"),
				 errhint("Call it with two task.status values.")));
	if (argtype != type)
	{
		static const char *const names[3] = {"completed", "failed", "cancelled"};
		int			i;

		type = InvalidOid;
		for (i = 0; i < 3; i++)
			final[i] = DatumGetObjectId(DirectFunctionCall2(enum_in, CStringGetDatum(names[i]),
															ObjectIdGetDatum(argtype)));
		type = argtype;
	}
	PG_RETURN_BOOL(old_status != new_status &&
				   (new_status == final[0] || new_status == final[1] || new_status == final[2]));
}
