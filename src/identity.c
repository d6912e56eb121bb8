/*
 * identity.c
 *		Who is calling: the service or account a database role acts as.
 *
 * Identity is decided by the role in effect at the outer level
 * (GetOuterUserId(): the session user, or the role chosen with SET ROLE),
 * never by a setting a session can change; SECURITY DEFINER functions do
 * not change it.
 *
 *  - A login role is looked up in task.login.
 *  - One of the extension's web roles (task_web_operations, task_web_service,
 *    task_web_vendor, task_web_client: NOLOGIN roles that only PostgREST's
 *    authenticator is granted) takes its identity from the "task_identity"
 *    claim of request.jwt.claims, which PostgREST sets from a verified JWT.
 *    The claimed service or account must exist, be active and be of the
 *    web role's kind. For any other role the claims are ignored.
 *  - An unmapped superuser is the operator ("system"); any other unmapped
 *    role is nobody.
 *
 * A login's mapping counts only while the role is a member of the group
 * role task_login_grant gave it: DROP ROLE removes that membership, so a
 * row of task.login left behind by a dropped role never grants anything,
 * not even to a new role that gets the same oid (task_maintain deletes
 * such rows). A disabled account's logins lose the membership too.
 *
 * One exception to "the outer role decides": task._run_schedule, the job
 * of a recurring task, acts as the schedule's service for the rest of its
 * transaction (task._act_as_service below). That switch lives in this
 * file's memory, not in a setting, and only the extension's owner can
 * throw it, so no session can forge it.
 *
 * The answer stands for the rest of the transaction (the trigger asks on
 * every task change), and is kept for the transactions that follow while
 * nothing it was made from has changed: a worker's or a PostgREST
 * connection's next transaction by the same role (with the same claims)
 * looks nothing up. What it was made from: the rows of task.login,
 * task.account and task.service, whose statement-level trigger
 * (task._identity_changed) sends a relcache invalidation of its table at
 * commit, and the roles and their memberships (pg_authid, pg_auth_members),
 * whose syscache invalidations PostgreSQL sends. Either, received by this
 * backend at its next transaction start (or lock), drops the kept answer.
 * The lookup reads with a snapshot taken when it runs, not the statement's:
 * a change committed before it is in the answer, and one committed after it
 * sends its invalidation after its commit, hence after the lookup; an
 * invalidation received while looking up keeps the answer from outliving
 * its transaction.
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "funcapi.h"
#include "utils/builtins.h"
#include "commands/trigger.h"
#include "utils/guc.h"
#include "utils/inval.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/snapmgr.h"
#include "utils/syscache.h"

#include "compat.h"
#include "task.h"

PG_FUNCTION_INFO_V1(task_current_actor);
PG_FUNCTION_INFO_V1(task_current_service);
PG_FUNCTION_INFO_V1(task_current_account);
PG_FUNCTION_INFO_V1(task_current_is_operations);
PG_FUNCTION_INFO_V1(task_may_write_sql);
PG_FUNCTION_INFO_V1(task_identity_invalidate);
PG_FUNCTION_INFO_V1(task_identity_changed);
PG_FUNCTION_INFO_V1(task_current_kind);

PG_FUNCTION_INFO_V1(task_roles);
PG_FUNCTION_INFO_V1(task_act_as_service);

/*
 * The extension's roles: the one list of their names. Per kind of caller
 * a group role (what a mapped login is made a member of) and a web role
 * (what PostgREST switches to; identity from the JWT claims), with the
 * account type it stands for (NULL: a service). The SQL side reads this
 * list through task._roles(). The last entry, the anonymous web role,
 * carries no identity and is never trusted for one.
 */
static const struct
{
	const char *kind;
	const char *group_role;
	const char *role;			/* the web role */
	const char *account_type;
}			web_roles[] = {
	{"operations", "task_operations", "task_web_operations", "Operations"},
	{"service", "task_service", "task_web_service", NULL},
	{"vendor", "task_vendor", "task_web_vendor", "Vendor"},
	{"client", "task_client", "task_web_client", "Client"},
	{"anon", NULL, "task_web_anon", NULL},
};

/* the web roles whose JWT claims are trusted for an identity */
#define NUM_WEB_ROLES (lengthof(web_roles) - 1)

static TaskIdentity cached_identity;
static LocalTransactionId cached_lxid = InvalidLocalTransactionId;
static Oid	cached_role = InvalidOid;
static int	cached_web = -1;		/* web_role_index(cached_role) */
static char *cached_claims = NULL;	/* TopMemoryContext: outlives transactions */
static SPIPlanPtr login_plan = NULL;

/*
 * cached_identity may also answer a later transaction (see the header):
 * cleared by any invalidation of what it was made from, which also counts
 * in identity_changes. identity_rels: task.login, task.account,
 * task.service, whose relcache invalidations count.
 */
static bool cached_kept = false;
static uint64 identity_changes = 0;
static Oid	identity_rels[3];
static bool identity_callbacks = false;

/* task._act_as_service: the service a schedule's job acts as, in transaction acting_lxid */
static TaskIdentity acting_identity;
static LocalTransactionId acting_lxid = InvalidLocalTransactionId;
static SPIPlanPtr claim_plan = NULL;

/*
 * The owner of schema task: the role that created the extension, which
 * owns its tables. Internal lookups and writes run as this role.
 */
Oid
task_tables_owner(void)
{
	Oid			nsp = get_namespace_oid("task", false);
	HeapTuple	tup;
	Oid			owner;

	tup = SearchSysCache1(NAMESPACEOID, ObjectIdGetDatum(nsp));
	if (!HeapTupleIsValid(tup))
		elog(ERROR, "cache lookup failed for namespace %u", nsp);
	owner = ((Form_pg_namespace) GETSTRUCT(tup))->nspowner;
	ReleaseSysCache(tup);
	return owner;
}

/*
 * Internal lookups and writes: SPI as the tables' owner, whoever the caller
 * is, with row-level security not forced on it; task_owner_spi_finish
 * restores the caller.
 */
void
task_owner_spi_connect(TaskOwnerSpi *save)
{
	GetUserIdAndSecContext(&save->userid, &save->sec_context);
	SetUserIdAndSecContext(task_tables_owner(),
						   save->sec_context | SECURITY_LOCAL_USERID_CHANGE | SECURITY_NOFORCE_RLS);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
}

void
task_owner_spi_finish(TaskOwnerSpi *save)
{
	SPI_finish();
	SetUserIdAndSecContext(save->userid, save->sec_context);
}

/* Index of the web role `role` is, or -1. */
static int
web_role_index(Oid role)
{
	int			i;

	for (i = 0; i < (int) NUM_WEB_ROLES; i++)
		if (get_role_oid(web_roles[i].role, true) == role)
			return i;
	return -1;
}

static SPIPlanPtr
prepare_kept(const char *sql, Oid argtype)
{
	Oid			argtypes[1] = {argtype};
	SPIPlanPtr	plan = SPI_prepare(sql, 1, argtypes);

	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
	SPI_keepplan(plan);
	return plan;
}

/*
 * Is login role `role` still a member of the group role of its identity
 * (account_type NULL: a service)? See the header.
 */
static bool
login_in_group(Oid role, const char *account_type)
{
	int			i;

	for (i = 0; i < (int) NUM_WEB_ROLES; i++)
	{
		const char *type = web_roles[i].account_type;

		if (web_roles[i].group_role != NULL &&
			(type == NULL ? account_type == NULL
			 : account_type != NULL && strcmp(type, account_type) == 0))
		{
			Oid			group = get_role_oid(web_roles[i].group_role, true);

			return OidIsValid(group) && is_member_of_role_nosuper(role, group);
		}
	}
	return false;
}

/*
 * Fill ident from a row (service, account, account type, account active):
 * the shape both lookups return. web < 0 for a login (role); else the web
 * role, whose kind the identity must match.
 */
static void
identity_from_row(TaskIdentity *ident, int web, Oid role)
{
	HeapTuple	tup = SPI_tuptable->vals[0];
	TupleDesc	desc = SPI_tuptable->tupdesc;
	bool		snull,
				anull,
				tnull,
				actnull;
	Datum		svc = SPI_getbinval(tup, desc, 1, &snull);
	Datum		acc = SPI_getbinval(tup, desc, 2, &anull);
	char	   *type = SPI_getvalue(tup, desc, 3);
	bool		active = DatumGetBool(SPI_getbinval(tup, desc, 4, &actnull));

	tnull = (type == NULL);
	if (!snull)
	{
		if (web >= 0 && web_roles[web].account_type != NULL)
			return;				/* a service claimed under an account's web role */
		if (web < 0 && !login_in_group(role, NULL))
			return;				/* a mapping its role no longer holds */
		ident->kind = TASK_IDENT_SERVICE;
		ident->service = DatumGetInt32(svc);
		snprintf(ident->actor, sizeof(ident->actor), "SVC-%04d", ident->service);
	}
	else if (!anull)
	{
		ident->account = DatumGetInt64(acc);
		snprintf(ident->actor, sizeof(ident->actor), "ACC-%04d-%04d",
				 (int) (ident->account / 10000), (int) (ident->account % 10000));
		if (web >= 0 && (web_roles[web].account_type == NULL || tnull ||
						 strcmp(type, web_roles[web].account_type) != 0))
			return;				/* an account claimed under another kind's web role */
		if (web < 0 && !login_in_group(role, type))
			return;				/* a mapping its role no longer holds */
		if (!actnull && active)
		{
			ident->kind = TASK_IDENT_ACCOUNT;
			ident->operations = !tnull && strcmp(type, "Operations") == 0;
		}
	}
}

static void
lookup_identity(Oid role, int web, const char *claims, TaskIdentity *ident)
{
	TaskOwnerSpi owner_spi;
	Datum		arg[1];
	int			ret = SPI_OK_SELECT;
	bool		found = false;

	memset(ident, 0, sizeof(*ident));
	ident->kind = TASK_IDENT_NONE;

	task_owner_spi_connect(&owner_spi);

	if (web < 0)
	{
		if (login_plan == NULL)
			login_plan = prepare_kept(
				"SELECT l.service, l.account, a.type::pg_catalog.text, "
				"       (a.status OPERATOR(pg_catalog.=) 'Active') "
				"  FROM task.login l "
				"  LEFT JOIN task.account a ON a.id OPERATOR(pg_catalog.=) l.account "
				" WHERE l.role::pg_catalog.oid OPERATOR(pg_catalog.=) $1", OIDOID);
		arg[0] = ObjectIdGetDatum(role);
		ret = SPI_execute_snapshot(login_plan, arg, NULL, GetLatestSnapshot(),
								   InvalidSnapshot, true, false, 1);
	}
	else if (claims != NULL && claims[0] != '\0')
	{
		/*
		 * the claim names a service SVC-XXXX or an account ACC-XXXX-YYYY.
		 * The casts sit inside CASE: in a join condition "ident ~ re AND
		 * id = cast(ident)" nothing orders the two, and the generic plan
		 * (from the sixth lookup on) cast an account id to int4 and failed.
		 */
		if (claim_plan == NULL)
			claim_plan = prepare_kept(
				"WITH c AS (SELECT ($1::pg_catalog.jsonb OPERATOR(pg_catalog.->>) 'task_identity') AS ident) "
				"SELECT s.id, a.id, a.type::pg_catalog.text, "
				"       (a.status OPERATOR(pg_catalog.=) 'Active') "
				"  FROM c "
				"  LEFT JOIN task.service s "
				"    ON s.id OPERATOR(pg_catalog.=) CASE WHEN c.ident OPERATOR(pg_catalog.~) '^SVC-[0-9]{4}$' "
				"       THEN pg_catalog.substr(c.ident, 5)::pg_catalog.int4 END "
				"  LEFT JOIN task.account a "
				"    ON a.id OPERATOR(pg_catalog.=) CASE WHEN c.ident OPERATOR(pg_catalog.~) '^ACC-[0-9]{4}-[0-9]{4}$' "
				"       THEN (pg_catalog.substr(c.ident, 5, 4) "
				"             OPERATOR(pg_catalog.||) pg_catalog.substr(c.ident, 10, 4))::pg_catalog.int8 END "
				" WHERE s.id IS NOT NULL OR a.id IS NOT NULL", TEXTOID);
		arg[0] = CStringGetTextDatum(claims);
		ret = SPI_execute_snapshot(claim_plan, arg, NULL, GetLatestSnapshot(),
								   InvalidSnapshot, true, false, 1);
	}
	/* else: a web role without claims is nobody */

	if (ret != SPI_OK_SELECT)
		elog(ERROR, "identity lookup failed: %s", SPI_result_code_string(ret));

	if (web < 0 || (claims != NULL && claims[0] != '\0'))
		found = (SPI_processed == 1);
	if (found)
		identity_from_row(ident, web, role);
	else if (web < 0 && superuser_arg(role))
	{
		ident->kind = TASK_IDENT_SYSTEM;
		ident->operations = true;
	}

	if (ident->actor[0] == '\0')
	{
		char	   *rolname = GetUserNameFromId(role, true);

		strlcpy(ident->actor, rolname ? rolname : "unknown", sizeof(ident->actor));
	}

	task_owner_spi_finish(&owner_spi);
}

static void
identity_forget(void)
{
	cached_kept = false;
	identity_changes++;
}

static void
identity_relcache_changed(Datum arg, Oid relid)
{
	int			i;

	for (i = 0; i < (int) lengthof(identity_rels); i++)
		if (relid == InvalidOid || relid == identity_rels[i])
		{
			identity_forget();
			return;
		}
}

static void
identity_syscache_changed(Datum arg, int cacheid, uint32 hashvalue)
{
	identity_forget();
}

/* the tables an identity is read from, and the callbacks that watch them */
static void
identity_watch(void)
{
	static const char *const names[] = {"login", "account", "service"};
	Oid			nsp = get_namespace_oid("task", true);
	int			i;

	if (!identity_callbacks)
	{
		CacheRegisterRelcacheCallback(identity_relcache_changed, (Datum) 0);
		CacheRegisterSyscacheCallback(AUTHOID, identity_syscache_changed, (Datum) 0);
		CacheRegisterSyscacheCallback(AUTHMEMROLEMEM, identity_syscache_changed, (Datum) 0);
		identity_callbacks = true;
	}
	for (i = 0; i < (int) lengthof(identity_rels); i++)
		identity_rels[i] = OidIsValid(nsp) ? get_relname_relid(names[i], nsp) : InvalidOid;
}

static bool
same_claims(const char *claims)
{
	return claims ? cached_claims != NULL && strcmp(claims, cached_claims) == 0
		: cached_claims == NULL;
}

/*
 * A count that moves whenever an identity read from task.login,
 * task.account or task.service may have changed (the same invalidations
 * that clear the kept identity): json.c keeps the names of actors until it
 * moves. Watches from the first call on.
 */
uint64
task_identity_epoch(void)
{
	if (!identity_callbacks)
		identity_watch();
	return identity_changes;
}

const TaskIdentity *
task_current_identity(void)
{
	Oid			role = GetOuterUserId();
	LocalTransactionId lxid = TASK_CURRENT_LXID();
	const char *claims;
	int			web;

	/* the job of a recurring task, acting as its service (see the header) */
	if (lxid == acting_lxid && lxid != InvalidLocalTransactionId)
		return &acting_identity;

	/*
	 * Asked again by the same role, in the same transaction or in a later
	 * one while nothing the answer was made from changed: it stands, unless
	 * the role is a web role whose claims changed. This is the trigger's
	 * path (every row) and every transaction's first question, so it reads
	 * nothing else: the role's kind (cached_web) cannot change without an
	 * invalidation of pg_authid, which clears cached_kept.
	 */
	if (lxid != InvalidLocalTransactionId && role == cached_role &&
		(lxid == cached_lxid || cached_kept) &&
		(cached_web < 0 || same_claims(GetConfigOption("request.jwt.claims", true, false))))
	{
		cached_lxid = lxid;
		return &cached_identity;
	}

	web = web_role_index(role);
	claims = web >= 0 ? GetConfigOption("request.jwt.claims", true, false) : NULL;

	/* invalidate first: an error during the lookup must not leave a stale answer */
	cached_lxid = InvalidLocalTransactionId;
	cached_kept = false;
	if (cached_claims)
	{
		pfree(cached_claims);
		cached_claims = NULL;
	}
	identity_watch();
	{
		uint64		changes = identity_changes;

		lookup_identity(role, web, claims, &cached_identity);
		/* kept for later transactions unless something changed meanwhile */
		cached_kept = (identity_changes == changes);
	}
	if (claims)
		cached_claims = MemoryContextStrdup(TopMemoryContext, claims);
	cached_role = role;
	cached_web = web;
	cached_lxid = lxid;
	return &cached_identity;
}

Datum
task_current_actor(PG_FUNCTION_ARGS)
{
	PG_RETURN_TEXT_P(cstring_to_text(task_current_identity()->actor));
}

Datum
task_current_service(PG_FUNCTION_ARGS)
{
	const TaskIdentity *ident = task_current_identity();

	if (ident->kind != TASK_IDENT_SERVICE)
		PG_RETURN_NULL();
	PG_RETURN_INT32(ident->service);
}

Datum
task_current_account(PG_FUNCTION_ARGS)
{
	const TaskIdentity *ident = task_current_identity();

	if (ident->kind != TASK_IDENT_ACCOUNT)
		PG_RETURN_NULL();
	PG_RETURN_INT64(ident->account);
}

Datum
task_current_is_operations(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(task_current_identity()->operations);
}

/*
 * Whether the caller may change a task of this owner: the owning service,
 * the system, or (ops_allowed) an active Operations account. The one rule
 * of task._may_write and of the C paths that write without a statement
 * (hotpath.c).
 */
bool
task_may_write(bool owner_isnull, int32 owner, bool ops_allowed)
{
	const TaskIdentity *who = task_current_identity();

	if (who->kind == TASK_IDENT_SYSTEM)
		return true;
	if (who->kind == TASK_IDENT_SERVICE && !owner_isnull && who->service == owner)
		return true;
	return ops_allowed && who->operations;
}

/* task._may_write(owner integer, ops_allowed boolean) → boolean (NULL ops_allowed: false) */
Datum
task_may_write_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(task_may_write(PG_ARGISNULL(0), PG_ARGISNULL(0) ? 0 : PG_GETARG_INT32(0),
								  !PG_ARGISNULL(1) && PG_GETARG_BOOL(1)));
}

Datum
task_current_kind(PG_FUNCTION_ARGS)
{
	static const char *const kinds[] = {"none", "system", "service", "account"};

	PG_RETURN_TEXT_P(cstring_to_text(kinds[task_current_identity()->kind]));
}

/* Called by task_login_grant/revoke: the next question looks the role up again. */
Datum
task_identity_invalidate(PG_FUNCTION_ARGS)
{
	cached_lxid = InvalidLocalTransactionId;
	identity_forget();
	PG_RETURN_VOID();
}

/*
 * task._identity_changed(): statement-level AFTER trigger of task.login,
 * task.account and task.service. An identity read from them may be kept
 * by every backend (see the header): the relcache invalidation of the
 * table, sent to all of them when this transaction commits (and processed
 * here at the next command), makes each look it up again.
 */
Datum
task_identity_changed(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("task._identity_changed() must be called as a trigger")));
	CacheInvalidateRelcache(trigdata->tg_relation);
	PG_RETURN_POINTER(NULL);
}

/*
 * task._roles(): the list above as a table (kind, group_role, web_role,
 * account_type), for the SQL that creates roles, grants and memberships.
 */
Datum
task_roles(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	int			i;

	InitMaterializedSRF(fcinfo, 0);
	for (i = 0; i < (int) lengthof(web_roles); i++)
	{
		Datum		values[4];
		bool		nulls[4] = {false, false, false, false};

		values[0] = CStringGetTextDatum(web_roles[i].kind);
		if (web_roles[i].group_role)
			values[1] = DirectFunctionCall1(namein, CStringGetDatum(web_roles[i].group_role));
		else
			nulls[1] = true;
		values[2] = DirectFunctionCall1(namein, CStringGetDatum(web_roles[i].role));
		if (web_roles[i].account_type)
			values[3] = CStringGetTextDatum(web_roles[i].account_type);
		else
			nulls[3] = true;
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	return (Datum) 0;
}

/*
 * task._act_as_service(service): from now to the end of the transaction
 * the caller acts as that service (NULL: stop). For task._run_schedule
 * only: it must run as the extension's owner (the owner of schema task),
 * i.e. inside a SECURITY DEFINER function of the extension, and PUBLIC
 * cannot execute it. The switch is this file's memory, tied to the
 * transaction's local id, so it ends with the transaction whatever
 * happens and nothing a session sets can turn it on.
 */
Datum
task_act_as_service(PG_FUNCTION_ARGS)
{
	if (GetUserId() != task_tables_owner())
		ereport(ERROR,
				(errcode(ERRCODE_INSUFFICIENT_PRIVILEGE),
				 errmsg("permission denied to act as a service"),
				 errhint("Only the extension's recurring-task job does this.")));
	if (PG_ARGISNULL(0))
	{
		acting_lxid = InvalidLocalTransactionId;
		PG_RETURN_VOID();
	}
	memset(&acting_identity, 0, sizeof(acting_identity));
	acting_identity.kind = TASK_IDENT_SERVICE;
	acting_identity.service = PG_GETARG_INT32(0);
	snprintf(acting_identity.actor, sizeof(acting_identity.actor), "SVC-%04d", acting_identity.service);
	acting_lxid = TASK_CURRENT_LXID();
	PG_RETURN_VOID();
}
