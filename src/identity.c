/*
 * identity.c
 *		Who is calling: the service or account a database role acts as.
 *
 * Identity is decided by the role in effect at the outer level
 * (GetOuterUserId(): the session user, or the role chosen with SET ROLE),
 * never by a setting a session can change, and SECURITY DEFINER functions
 * do not change it. The role is looked up in task.login; an unmapped
 * superuser is the operator ("system"); any other unmapped role is nobody.
 *
 * The answer is cached for the rest of the transaction: the trigger asks
 * on every task change, and a worker loop runs one transaction per task,
 * so this costs one lookup per transaction.
 */
#include "postgres.h"

#include "catalog/namespace.h"
#include "catalog/pg_namespace.h"
#include "catalog/pg_type.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/lsyscache.h"
#include "utils/syscache.h"

#include "compat.h"
#include "task.h"

PG_FUNCTION_INFO_V1(task_current_actor);
PG_FUNCTION_INFO_V1(task_current_service);
PG_FUNCTION_INFO_V1(task_current_account);
PG_FUNCTION_INFO_V1(task_current_is_operations);
PG_FUNCTION_INFO_V1(task_identity_invalidate);
PG_FUNCTION_INFO_V1(task_current_kind);

static TaskIdentity cached_identity;
static LocalTransactionId cached_lxid = InvalidLocalTransactionId;
static Oid	cached_role = InvalidOid;
static SPIPlanPtr login_plan = NULL;

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

static void
lookup_identity(Oid role, TaskIdentity *ident)
{
	Oid			save_userid;
	int			save_sec_context;
	Datum		arg[1];
	int			ret;

	memset(ident, 0, sizeof(*ident));
	ident->kind = TASK_IDENT_NONE;

	GetUserIdAndSecContext(&save_userid, &save_sec_context);
	SetUserIdAndSecContext(task_tables_owner(),
						   save_sec_context | SECURITY_LOCAL_USERID_CHANGE);

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");

	if (login_plan == NULL)
	{
		Oid			argtypes[1] = {OIDOID};
		SPIPlanPtr	plan;

		plan = SPI_prepare("SELECT l.service, l.account, "
						   "       (a.type OPERATOR(pg_catalog.=) 'Operations'), "
						   "       (a.status OPERATOR(pg_catalog.=) 'Active') "
						   "  FROM task.login l "
						   "  LEFT JOIN task.account a ON a.id OPERATOR(pg_catalog.=) l.account "
						   " WHERE l.role::pg_catalog.oid OPERATOR(pg_catalog.=) $1",
						   1, argtypes);
		if (plan == NULL)
			elog(ERROR, "SPI_prepare failed: %s", SPI_result_code_string(SPI_result));
		SPI_keepplan(plan);
		login_plan = plan;
	}

	arg[0] = ObjectIdGetDatum(role);
	ret = SPI_execute_plan(login_plan, arg, NULL, true, 1);
	if (ret != SPI_OK_SELECT)
		elog(ERROR, "identity lookup failed: %s", SPI_result_code_string(ret));

	if (SPI_processed == 1)
	{
		HeapTuple	tup = SPI_tuptable->vals[0];
		TupleDesc	desc = SPI_tuptable->tupdesc;
		bool		isnull;
		Datum		d;

		d = SPI_getbinval(tup, desc, 1, &isnull);
		if (!isnull)
		{
			ident->kind = TASK_IDENT_SERVICE;
			ident->service = DatumGetInt32(d);
			snprintf(ident->actor, sizeof(ident->actor), "SVC-%04d", ident->service);
		}
		else
		{
			bool		ops_null,
						active_null;
			bool		is_ops,
						active;

			ident->account = DatumGetInt64(SPI_getbinval(tup, desc, 2, &isnull));
			is_ops = DatumGetBool(SPI_getbinval(tup, desc, 3, &ops_null));
			active = DatumGetBool(SPI_getbinval(tup, desc, 4, &active_null));
			snprintf(ident->actor, sizeof(ident->actor), "ACC-%04d-%04d",
					 (int) (ident->account / 10000), (int) (ident->account % 10000));
			if (!active_null && active)
			{
				ident->kind = TASK_IDENT_ACCOUNT;
				ident->operations = !ops_null && is_ops;
			}
		}
	}
	else if (superuser_arg(role))
	{
		ident->kind = TASK_IDENT_SYSTEM;
		ident->operations = true;
	}

	if (ident->actor[0] == '\0')
	{
		char	   *rolname = GetUserNameFromId(role, true);

		strlcpy(ident->actor, rolname ? rolname : "unknown", sizeof(ident->actor));
	}

	SPI_finish();
	SetUserIdAndSecContext(save_userid, save_sec_context);
}

const TaskIdentity *
task_current_identity(void)
{
	Oid			role = GetOuterUserId();
	LocalTransactionId lxid = TASK_CURRENT_LXID();

	if (lxid != cached_lxid || role != cached_role || lxid == InvalidLocalTransactionId)
	{
		/* invalidate first: an error during the lookup must not leave a stale answer */
		cached_lxid = InvalidLocalTransactionId;
		lookup_identity(role, &cached_identity);
		cached_role = role;
		cached_lxid = lxid;
	}
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

/* Called by task_login_grant/revoke: the next question looks the role up again. */
Datum
task_identity_invalidate(PG_FUNCTION_ARGS)
{
	cached_lxid = InvalidLocalTransactionId;
	PG_RETURN_VOID();
}

Datum
task_current_kind(PG_FUNCTION_ARGS)
{
	static const char *const kinds[] = {"none", "system", "service", "account"};

	PG_RETURN_TEXT_P(cstring_to_text(kinds[task_current_identity()->kind]));
}
