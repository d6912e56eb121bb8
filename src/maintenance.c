/*
 * maintenance.c
 *		The NOTICE that carries task_maintain()'s counts into a pg_cron
 *		job's run details.
 *
 * pg_cron 1.4 (src/pg_cron.c, GetBgwTaskFeedback) stores every message its
 * background worker sends in cron.job_run_details.return_message, each one
 * replacing the last: a NOTICE raised inside the job's statement is
 * replaced by the statement's tag ("SELECT 1"). This trigger function runs
 * deferred, at the commit that follows the tag, so its NOTICE is the last
 * message and stays. It is C because a PL/pgSQL RAISE would add a
 * "CONTEXT: PL/pgSQL function ..." line to the message. Other sessions
 * (psql, libpq-mode pg_cron jobs) get no NOTICE: they read the counts from
 * task_maintain()'s result or task_maintain_runs().
 */
#include "postgres.h"

#include "commands/trigger.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "postmaster/bgworker.h"

PG_FUNCTION_INFO_V1(task_maintain_notice);

Datum
task_maintain_notice(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	TupleDesc	tupdesc;
	int			attnum;
	char	   *counts;

	if (!CALLED_AS_TRIGGER(fcinfo) || !TRIGGER_FIRED_BY_INSERT(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("task._maintain_notice must be an AFTER INSERT row trigger"),
				 errhint("It is the trigger of task.maintenance_run only.")));

	/* pg_cron's job workers are background workers of type "pg_cron" */
	if (MyBackendType != B_BG_WORKER || MyBgworkerEntry == NULL ||
		strcmp(MyBgworkerEntry->bgw_type, "pg_cron") != 0)
		return PointerGetDatum(NULL);

	tupdesc = trigdata->tg_relation->rd_att;
	attnum = SPI_fnumber(tupdesc, "result");
	if (attnum <= 0)
		ereport(ERROR,
				(errcode(ERRCODE_UNDEFINED_COLUMN),
				 errmsg("task._maintain_notice needs a column \"result\""),
				 errhint("It is the trigger of task.maintenance_run only.")));
	counts = SPI_getvalue(trigdata->tg_trigtuple, tupdesc, attnum);
	ereport(NOTICE, (errmsg("task_maintain %s", counts ? counts : "null")));
	return PointerGetDatum(NULL);
}
