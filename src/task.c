/*
 * task.c
 *		Module entry point of the task extension: _PG_init and settings.
 *
 * The other files each hold one concern: task_id.c (the id type),
 * identity.c (who is calling), transition.c (the audit trigger), wait.c
 * (wake on commit: shared memory, its postmaster setting and hooks).
 */
#include "postgres.h"

#include "executor/spi.h"
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

PG_FUNCTION_INFO_V1(task_can_commit);

/*
 * task._can_commit(), called from a PL/pgSQL procedure: whether that
 * procedure may COMMIT, i.e. runs non-atomically (a CALL on its own, not
 * inside a transaction block or a function). SQL has no way to tell, and
 * a COMMIT that cannot be made fails only with "invalid transaction
 * termination".
 */
Datum
task_can_commit(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(SPI_inside_nonatomic_context());
}

/*
 * A URI prefix (task.result_uri_prefix, task.artifact_uri_prefix) is a
 * relative path, as every URI the extension hands out: empty (the
 * default), or "/" and segments of printable ASCII without spaces,
 * backslashes, "?" or "#", none of them empty (no "//", no trailing "/")
 * or a dot segment. A prefix ending in "/" made result URIs with "//",
 * and one with a scheme and host made them absolute.
 */
static bool
check_uri_prefix(char **newval, void **extra, GucSource source)
{
	const char *s = *newval;
	const char *seg;
	const char *p;

	if (s == NULL || s[0] == '\0')
		return true;
	if (s[0] != '/')
		goto bad;
	seg = s + 1;
	for (p = s + 1;; p++)
	{
		if (*p == '/' || *p == '\0')
		{
			size_t		len = p - seg;

			if (len == 0 || (len == 1 && seg[0] == '.') ||
				(len == 2 && seg[0] == '.' && seg[1] == '.'))
				goto bad;
			if (*p == '\0')
				return true;
			seg = p + 1;
		}
		else if (*p <= ' ' || *p > '~' || *p == '\\' || *p == '?' || *p == '#')
			goto bad;
	}
bad:
	GUC_check_errdetail("A URI prefix is a path such as \"/api/v2/tasks\": a \"/\" and segments of printable ASCII without spaces, backslashes, \"?\" or \"#\", no empty or dot segment, no trailing \"/\".");
	GUC_check_errhint("Give the path only (no scheme or host), or an empty string for the default.");
	return false;
}

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
							   check_uri_prefix, NULL, NULL);

	DefineCustomStringVariable("task.artifact_uri_prefix",
							   "URI prefix of marketplace artifact downloads.",
							   "An artifact's download_url is <prefix>?id=<task id>&artifact=<n>.",
							   &task_artifact_uri_prefix,
							   "/rpc/task_artifact",
							   PGC_SUSET,
							   0,
							   check_uri_prefix, NULL, NULL);

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
