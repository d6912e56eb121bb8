/*
 * json.c
 *		Building the JSON Task object: what costs too much in SQL.
 *
 * task._strip_nulls drops the top-level keys of an object whose value is
 * null, keeping nested values as they are (jsonb_strip_nulls would also
 * strip the nulls inside parameters and results). Written in SQL
 * (jsonb_each + jsonb_object_agg) it cannot be inlined, so every query
 * that called it parsed and planned its body again: that was most of the
 * cost of task_get (docs/PERFORMANCE.md, "Reading tasks").
 *
 * task._actor_json gives the author of an audit stamp, a log record or a
 * message as JSON. A task has up to seven stamps, mostly by one or two
 * authors, and a listing repeats them from task to task: the lookup of a
 * service's or an account's name is kept for the rest of the transaction,
 * until a login, account or service row may have changed (the
 * invalidations that also clear the kept identity, identity.c).
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/jsonb.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"

#include "compat.h"
#include "task.h"

PG_FUNCTION_INFO_V1(task_strip_nulls);
PG_FUNCTION_INFO_V1(task_actor_json);

/* Whether the object has a top-level key whose value is null. */
static bool
has_null_value(Jsonb *jb)
{
	JsonbIterator *it = JsonbIteratorInit(&jb->root);
	JsonbValue	v;
	JsonbIteratorToken tok;
	bool		found = false;

	while ((tok = JsonbIteratorNext(&it, &v, true)) != WJB_DONE)
	{
		if (tok == WJB_VALUE && v.type == jbvNull)
		{
			found = true;
			break;
		}
	}
	return found;
}

Datum
task_strip_nulls(PG_FUNCTION_ARGS)
{
	Jsonb	   *jb = PG_GETARG_JSONB_P(0);
	JsonbIterator *it;
	JsonbParseState *state = NULL;
	JsonbValue	k;
	JsonbValue	v;
	JsonbValue *res = NULL;
	JsonbIteratorToken tok;

	if (!JB_ROOT_IS_OBJECT(jb))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("cannot strip the null keys of a jsonb %s", JB_ROOT_IS_SCALAR(jb) ? "scalar" : "array"),
				 errhint("Pass a JSON object.")));

	/* the common case: nothing to drop, the value itself */
	if (!has_null_value(jb))
		PG_RETURN_JSONB_P(jb);

	it = JsonbIteratorInit(&jb->root);
	while ((tok = JsonbIteratorNext(&it, &k, true)) != WJB_DONE)
	{
		if (tok == WJB_KEY)
		{
			tok = JsonbIteratorNext(&it, &v, true);
			Assert(tok == WJB_VALUE);
			if (v.type == jbvNull)
				continue;
			(void) pushJsonbValue(&state, WJB_KEY, &k);
			(void) pushJsonbValue(&state, WJB_VALUE, &v);
		}
		else
			res = pushJsonbValue(&state, tok, NULL);	/* begin and end of the object */
	}
	PG_RETURN_JSONB_P(JsonbValueToJsonb(res));
}

/* ---------------------------------------------------------------- actors */

/* An object of one key: {"key": value}, value NULL for null. */
static Jsonb *
one_key_object(const char *key, text *value)
{
	JsonbParseState *state = NULL;
	JsonbValue	k;
	JsonbValue	v;

	k.type = jbvString;
	k.val.string.val = (char *) key;
	k.val.string.len = strlen(key);
	if (value)
	{
		v.type = jbvString;
		v.val.string.val = VARDATA_ANY(value);
		v.val.string.len = VARSIZE_ANY_EXHDR(value);
	}
	else
		v.type = jbvNull;
	(void) pushJsonbValue(&state, WJB_BEGIN_OBJECT, NULL);
	(void) pushJsonbValue(&state, WJB_KEY, &k);
	(void) pushJsonbValue(&state, WJB_VALUE, &v);
	return JsonbValueToJsonb(pushJsonbValue(&state, WJB_END_OBJECT, NULL));
}

/*
 * The number of an id of exactly "<prefix>NNNN" (groups == 1) or
 * "<prefix>NNNN-NNNN" (groups == 2), as the patterns ^SVC-[0-9]{4}$ and
 * ^ACC-[0-9]{4}-[0-9]{4}$ match; -1 for anything else.
 */
static int64
id_number(const char *s, int len, const char *prefix, int groups)
{
	int			plen = strlen(prefix);
	int64		n = 0;
	int			i;

	if (len != plen + 4 * groups + (groups - 1) || strncmp(s, prefix, plen) != 0)
		return -1;
	for (i = plen; i < len; i++)
	{
		if (groups == 2 && i == plen + 4)
		{
			if (s[i] != '-')
				return -1;
			continue;
		}
		if (s[i] < '0' || s[i] > '9')
			return -1;
		n = n * 10 + (s[i] - '0');
	}
	return n;
}

#define ACTOR_CACHE_SIZE 32

typedef struct ActorEntry
{
	bool		account;		/* an account, else a service */
	int64		number;
	Jsonb	   *doc;			/* {id, name, revision}; NULL: no row seen */
} ActorEntry;

static MemoryContext actor_cxt = NULL;
static ActorEntry actor_cache[ACTOR_CACHE_SIZE];
static int	actor_count = 0;
static int	actor_next = 0;		/* the entry a full cache replaces next */
static LocalTransactionId actor_lxid = InvalidLocalTransactionId;
static uint64 actor_epoch = 0;

/*
 * Under READ COMMITTED each statement reads with a snapshot of its own: a
 * rename committed since the last one must show (the invalidation that
 * moves the epoch reaches this backend only when it next takes a lock, and
 * comes after the commit is visible). The names are kept while the
 * snapshot sees the same commits: the same xmin, xmax and running count
 * (any commit moves xmax or lowers the count) and command.
 */
typedef struct ActorSnap
{
	TransactionId xmin;
	TransactionId xmax;
	uint32		xcnt;
	CommandId	curcid;
} ActorSnap;

static ActorSnap actor_snap;

static void
actor_snap_now(ActorSnap *out)
{
	memset(out, 0, sizeof(*out));
	if (!IsolationUsesXactSnapshot() && ActiveSnapshotSet())
	{
		Snapshot	snap = GetActiveSnapshot();

		out->xmin = snap->xmin;
		out->xmax = snap->xmax;
		out->xcnt = snap->xcnt;
		out->curcid = snap->curcid;
	}
}
static SPIPlanPtr actor_plan[2] = {NULL, NULL};

static const char *const actor_sql[2] = {
	"SELECT pg_catalog.jsonb_build_object('id', $1, 'name', s.name, 'revision', s.revision) "
	"  FROM task.service s WHERE s.id OPERATOR(pg_catalog.=) $2::integer",
	"SELECT pg_catalog.jsonb_build_object('id', $1, 'name', a.name, 'revision', a.revision) "
	"  FROM task.account a WHERE a.id OPERATOR(pg_catalog.=) $2"
};

/*
 * The {id, name, revision} of a service or an account, read as the caller
 * (row-level security as for any query of theirs) once per snapshot (see ActorSnap)
 * while nothing it was read from changed; NULL when no row is seen.
 */
static Jsonb *
actor_lookup(bool account, int64 number, text *actor)
{
	LocalTransactionId lxid = TASK_CURRENT_LXID();
	uint64		epoch = task_identity_epoch();
	Jsonb	   *doc = NULL;
	Datum		args[2];
	bool		isnull;
	int			i;
	ActorSnap	snap;

	actor_snap_now(&snap);
	if (actor_cxt == NULL)
		actor_cxt = AllocSetContextCreate(TopMemoryContext, "task actor names", ALLOCSET_SMALL_SIZES);
	if (lxid != actor_lxid || epoch != actor_epoch || lxid == InvalidLocalTransactionId ||
		memcmp(&snap, &actor_snap, sizeof(snap)) != 0)
	{
		MemoryContextReset(actor_cxt);
		actor_count = 0;
		actor_next = 0;
		actor_lxid = lxid;
		actor_epoch = epoch;
		actor_snap = snap;
	}
	for (i = 0; i < actor_count; i++)
		if (actor_cache[i].account == account && actor_cache[i].number == number)
			return actor_cache[i].doc;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (actor_plan[account] == NULL)
	{
		Oid			types[2] = {TEXTOID, INT8OID};
		SPIPlanPtr	plan = SPI_prepare(actor_sql[account], 2, types);

		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
		actor_plan[account] = plan;
	}
	args[0] = PointerGetDatum(actor);
	args[1] = Int64GetDatum(number);
	if (SPI_execute_plan(actor_plan[account], args, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "actor lookup failed");
	if (SPI_processed > 0)
	{
		Datum		d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);

		if (!isnull)
		{
			Jsonb	   *found = DatumGetJsonbP(d);

			doc = MemoryContextAlloc(actor_cxt, VARSIZE(found));
			memcpy(doc, found, VARSIZE(found));
		}
	}
	SPI_finish();

	/* the epoch may have moved during the lookup: keep it only if not */
	if (task_identity_epoch() == actor_epoch)
	{
		if (actor_count < ACTOR_CACHE_SIZE)
			i = actor_count++;
		else
		{
			i = actor_next;
			actor_next = (actor_next + 1) % ACTOR_CACHE_SIZE;
		}
		actor_cache[i].account = account;
		actor_cache[i].number = number;
		actor_cache[i].doc = doc;
	}
	return doc;
}

/*
 * task._actor_json(actor text) → jsonb: the author of an audit stamp or a
 * log record. A service: {id, name, revision}. An account: the same for
 * itself and for Operations, {id} for anyone else. Any other text (a role
 * that is neither, the operator, a maintenance job): {name}.
 */
Datum
task_actor_json(PG_FUNCTION_ARGS)
{
	text	   *actor = PG_ARGISNULL(0) ? NULL : PG_GETARG_TEXT_PP(0);
	const char *s;
	int			len;
	int64		n;
	Jsonb	   *doc;

	if (actor == NULL)
		PG_RETURN_JSONB_P(one_key_object("name", NULL));
	s = VARDATA_ANY(actor);
	len = VARSIZE_ANY_EXHDR(actor);
	if ((n = id_number(s, len, "SVC-", 1)) >= 0)
		doc = actor_lookup(false, n, actor);
	else if ((n = id_number(s, len, "ACC-", 2)) >= 0)
	{
		const TaskIdentity *ident = task_current_identity();

		/* an account's name only to itself and Operations; others see its id */
		if (!ident->operations && !(ident->kind == TASK_IDENT_ACCOUNT && ident->account == n))
			PG_RETURN_JSONB_P(one_key_object("id", actor));
		doc = actor_lookup(true, n, actor);
	}
	else
		PG_RETURN_JSONB_P(one_key_object("name", actor));
	if (doc == NULL)
		PG_RETURN_NULL();
	/* a copy: the kept one goes when the cache is cleared */
	{
		Jsonb	   *copy = palloc(VARSIZE(doc));

		memcpy(copy, doc, VARSIZE(doc));
		PG_RETURN_JSONB_P(copy);
	}
}
