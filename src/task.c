/*
 * task.c
 *		Module entry point of the task extension: _PG_init and settings.
 *
 * The other files each hold one concern: task_id.c (the id type),
 * identity.c (who is calling), transition.c (the audit trigger), wait.c
 * (wake on commit: shared memory, its postmaster setting and hooks).
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/guc.h"

#include "task.h"

PG_MODULE_MAGIC;

/* task.result_uri_prefix: where a task's JSON result is served */
char	   *task_result_uri_prefix = NULL;

/* task.artifact_uri_prefix: where a marketplace artifact is downloaded (read in SQL) */
char	   *task_artifact_uri_prefix = NULL;

/* task.schedules_per_service: the limit task_schedule enforces (read in SQL) */
int			task_schedules_per_service = 100;

void		_PG_init(void);

void
_PG_init(void)
{
	DefineCustomStringVariable("task.result_uri_prefix",
							   "URI prefix of task result endpoints.",
							   "A task whose result is a JSON value reports its result as <prefix>/<task id>/result.",
							   &task_result_uri_prefix,
							   "/public/v1/system/tasks",
							   PGC_SUSET,
							   0,
							   NULL, NULL, NULL);

	DefineCustomStringVariable("task.artifact_uri_prefix",
							   "URI prefix of marketplace artifact downloads.",
							   "An artifact's download_url is <prefix>?id=<task id>&artifact=<n>.",
							   &task_artifact_uri_prefix,
							   "/rpc/task_artifact",
							   PGC_SUSET,
							   0,
							   NULL, NULL, NULL);

	DefineCustomIntVariable("task.schedules_per_service",
							"Most recurring tasks (task_schedule) one service may have.",
							"task_schedule refuses a new schedule beyond it; existing ones keep running.",
							&task_schedules_per_service,
							100, 0, 100000,
							PGC_SUSET,
							0,
							NULL, NULL, NULL);

	task_wait_init();
	task_mark_init();

	MarkGUCPrefixReserved("task");
}
