/*
 * rules.c
 *		The validation rules of task's data, each written once.
 *
 * The transition trigger (transition.c) checks every column it is given
 * with these; SQL paths that must reject input before they write (a queue
 * or a namespace name, a log message, the status of a new task) call the
 * same rules through the task._check_* wrappers at the end of this file,
 * so a rule, its limit and its message exist exactly once.
 */
#include "postgres.h"

#include <math.h>

#include "access/detoast.h"
#include "catalog/pg_type.h"
#include "fmgr.h"
#include "mb/pg_wchar.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/datetime.h"
#include "utils/jsonb.h"
#include "utils/timestamp.h"

#include "rules.h"

PG_FUNCTION_INFO_V1(task_check_text);
PG_FUNCTION_INFO_V1(task_check_path_sql);
PG_FUNCTION_INFO_V1(task_check_new_status_sql);
PG_FUNCTION_INFO_V1(task_check_time_sql);
PG_FUNCTION_INFO_V1(task_check_batch);

/* A value quoted in a message: at most 255 bytes of it (whole characters). */
static const char *
quoted(const char *s, int len)
{
	if (s == NULL)
		return "<NULL>";
	return pnstrdup(s, pg_mbcliplen(s, len, 255));
}

/* ---------------------------------------------------------------------
 * Validation helpers: one message shape per kind of mistake.
 * ---------------------------------------------------------------------
 */
static inline void
check_length(const char *field, int len, int max)
{
	if (len > max)
		ereport(ERROR,
				(errcode(ERRCODE_STRING_DATA_RIGHT_TRUNCATION),
				 errmsg("task %s is too long", field),
				 errdetail("It is %d bytes; the limit is %d bytes.", len, max),
				 errhint("Shorten the %s, or keep large data in parameters or the result.", field)));
}

/*
 * The length in bytes of the blank (white space, no glyph) UTF-8 character
 * at s[i], 0 for any other: U+00A0, U+1680, U+2000..U+200B, U+2028,
 * U+2029, U+202F, U+205F, U+3000 and U+FEFF. A name of no-break spaces is
 * as blank as one of spaces.
 */
static inline int
utf8_blank_len(const unsigned char *s, int i, int len)
{
	if (s[i] == 0xc2 && i + 1 < len && s[i + 1] == 0xa0)
		return 2;
	if (i + 2 >= len)
		return 0;
	if ((s[i] == 0xe1 && s[i + 1] == 0x9a && s[i + 2] == 0x80) ||
		(s[i] == 0xe2 && s[i + 1] == 0x80 &&
		 (s[i + 2] <= 0x8b || s[i + 2] == 0xa8 || s[i + 2] == 0xa9 || s[i + 2] == 0xaf)) ||
		(s[i] == 0xe2 && s[i + 1] == 0x81 && s[i + 2] == 0x9f) ||
		(s[i] == 0xe3 && s[i + 1] == 0x80 && s[i + 2] == 0x80) ||
		(s[i] == 0xef && s[i + 1] == 0xbb && s[i + 2] == 0xbf))
		return 3;
	return 0;
}

/*
 * No control characters (C0, DEL and, in UTF-8, the C1 controls
 * U+0080..U+009F); newlines and tabs only where multi-line text is
 * expected. Not blank: something besides white space (ASCII or Unicode
 * spaces, and the newlines and tabs of multi-line text).
 */
static inline void
check_plain_text(const char *field, const char *s, int len, bool multiline)
{
	const unsigned char *u = (const unsigned char *) s;
	bool		utf8 = GetDatabaseEncoding() == PG_UTF8;
	int			i;
	bool		blank = true;

	for (i = 0; i < len; i++)
	{
		unsigned char c = u[i];

		if (c < 0x20 || c == 0x7f)
		{
			if (multiline && (c == '\n' || c == '\t' || c == '\r'))
				continue;
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("task %s must not contain control characters", field),
					 errdetail("Byte %d of the %s is 0x%02x.", i + 1, field, c),
					 errhint("Remove the control characters%s.",
							 multiline ? " (newlines and tabs are allowed)" : "")));
		}
		if (c >= 0x80 && utf8)
		{
			int			n;

			if (c == 0xc2 && i + 1 < len && u[i + 1] >= 0x80 && u[i + 1] <= 0x9f)
				ereport(ERROR,
						(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
						 errmsg("task %s must not contain control characters", field),
						 errdetail("Bytes %d and %d of the %s are 0xc2 0x%02x, the control character U+%04X.",
								   i + 1, i + 2, field, u[i + 1], u[i + 1]),
						 errhint("Remove the control characters%s.",
								 multiline ? " (newlines and tabs are allowed)" : "")));
			n = utf8_blank_len(u, i, len);
			if (n > 0)
			{
				i += n - 1;
				continue;
			}
		}
		if (c != ' ')
			blank = false;
	}
	if (blank)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("task %s must not be empty", field),
				 errhint("Give a non-blank %s, or NULL where the %s is optional.", field, field)));
}

static inline bool
is_ident_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static inline bool
is_ident_char(char c)
{
	return is_ident_start(c) || (c >= '0' && c <= '9');
}

/* code: dot-separated identifiers, e.g. platform.accounts.buyers.transfer */
void
task_check_code(text *t)
{
	const char *s = VARDATA_ANY(t);
	int			len = VARSIZE_ANY_EXHDR(t);
	int			i;
	bool		at_start = true;
	bool		ok = len > 0;

	check_length("code", len, MAX_CODE_BYTES);
	for (i = 0; ok && i < len; i++)
	{
		if (at_start)
		{
			ok = is_ident_start(s[i]);
			at_start = false;
		}
		else if (s[i] == '.')
			at_start = true;
		else
			ok = is_ident_char(s[i]);
	}
	if (!ok || at_start)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid task code: \"%s\"", text_to_cstring(t)),
				 errdetail("A task code is one or more identifiers (a letter or underscore, then letters, digits or underscores) separated by dots."),
				 errhint("Use a code such as \"platform.accounts.buyers.transfer\".")));
}

/*
 * Queue names and service namespaces: one or more segments of letters,
 * digits, "_", "-" or "." separated by single slashes, with no slash at
 * either end. One message per kind, naming its limit.
 */
void
task_check_path(TaskPathKind kind, const char *s, int len)
{
	int			max = kind == TASK_PATH_QUEUE ? MAX_QUEUE_BYTES : MAX_NAMESPACE_BYTES;
	int			i;
	int			seglen = 0;
	bool		ok = s != NULL && len > 0 && len <= max;

	for (i = 0; ok && i < len; i++)
	{
		char		c = s[i];

		if (c == '/')
		{
			ok = seglen > 0;
			seglen = 0;
		}
		else if (is_ident_char(c) || c == '-' || c == '.')
			seglen++;
		else
			ok = false;
	}
	if (ok && seglen > 0)
		return;
	if (kind == TASK_PATH_QUEUE)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("invalid task queue name: \"%s\"", quoted(s, len)),
				 errdetail("A queue name is one or more segments of letters, digits, \"_\", \"-\" or \".\" separated by single slashes, with no slash at either end, at most %d bytes.", max),
				 errhint("Use a name such as \"marketplace/platform/internal/buyers/commands\".")));
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("invalid service namespace: \"%s\"", quoted(s, len)),
			 errdetail("A namespace is one or more segments of letters, digits, \"_\", \"-\" or \".\" separated by single slashes, at most %d bytes.", max),
			 errhint("Use a namespace such as \"marketplace/platform\"; the service's queues are named <namespace>/...")));
}


void
task_check_text_value(const char *field, Datum d, int max, bool multiline)
{
	text	   *t = DatumGetTextPP(d);

	check_length(field, VARSIZE_ANY_EXHDR(t), max);
	check_plain_text(field, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t), multiline);
}

/* The length of a dot at s[i] ("." or "%2E"), 0 when there is none. */
static int
dot_at(const char *s, int i, int len)
{
	if (i < len && s[i] == '.')
		return 1;
	if (i + 2 < len && s[i] == '%' && s[i + 1] == '2' && (s[i + 2] == 'e' || s[i + 2] == 'E'))
		return 3;
	return 0;
}

/* Whether the segment at s[i] is "." or "..", dots written plainly or %2E. */
static bool
dot_segment(const char *s, int i, int len)
{
	int			d = dot_at(s, i, len);
	int			e;

	if (d == 0)
		return false;
	i += d;
	if (i == len || s[i] == '/' || s[i] == '?' || s[i] == '#')
		return true;
	e = dot_at(s, i, len);
	if (e == 0)
		return false;
	i += e;
	return i == len || s[i] == '/' || s[i] == '?' || s[i] == '#';
}

/*
 * A resource result is a relative reference that is a path (RFC 3986
 * path-absolute): it starts with one "/", and api.task_result answers it
 * as a 303 Location, so nothing a browser or proxy could read as another
 * host may pass: no "//" or "/\" (browsers treat a backslash like a
 * slash), no backslash anywhere nor its percent-encoding %5C, no %2F
 * right after the leading slash (some servers decode them before
 * routing, making "//"), no scheme, and
 * only printable ASCII (no spaces, no control characters; other
 * characters are percent-encoded).
 */
static bool
uri_is_relative_path(const char *s, int len)
{
	int			i;
	bool		in_path = true;

	if (len < 2 || s[0] != '/' || s[1] == '/')
		return false;
	for (i = 0; i < len; i++)
	{
		unsigned char c = (unsigned char) s[i];

		if (c <= 0x20 || c >= 0x7f || c == '\\')
			return false;
		/*
		 * In the path (up to "?" or "#"): no empty segment ("//") and no
		 * dot segment ("/./", "/../", or one at the end; a dot may be
		 * written %2E): a client or proxy that normalises the path could
		 * turn "/.//host/x" into "//host/x", another host.
		 */
		if (c == '?' || c == '#')
			in_path = false;
		if (in_path && c == '/' && i + 1 < len &&
			(s[i + 1] == '/' || dot_segment(s, i + 1, len)))
			return false;
		if (c == '%' && i + 2 < len &&
			((s[i + 1] == '5' && (s[i + 2] == 'c' || s[i + 2] == 'C')) ||
			 (i == 1 && s[i + 1] == '2' && (s[i + 2] == 'f' || s[i + 2] == 'F'))))
			return false;
	}
	return true;
}

void
task_check_uri(Datum d)
{
	text	   *t = DatumGetTextPP(d);
	const char *s = VARDATA_ANY(t);
	int			len = VARSIZE_ANY_EXHDR(t);

	check_length("result URI", len, MAX_URI_BYTES);
	if (!uri_is_relative_path(s, len))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("task result must be a relative URI"),
				 errdetail("A resource result is a path starting with a single \"/\", of printable ASCII without spaces or backslashes (nor %%5C, nor %%2F after the leading slash), without empty (\"//\") or dot (\"/./\", \"/../\") segments."),
				 errhint("Use a URI such as \"/public/v1/accounts/buyers/BUY-1190-0394\", or pass a JSON result instead.")));
}

void
task_check_json(const char *field, Datum d, int max, bool object_only)
{
	Size		size = toast_raw_datum_size(d) - VARHDRSZ;

	if (size > (Size) max)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("task %s is too large", field),
				 errdetail("It is %zu bytes; the limit is %d bytes.", size, max),
				 errhint("Store large data elsewhere and reference it by URI.")));
	if (object_only)
	{
		Jsonb	   *jb = DatumGetJsonbP(d);

		if (!JB_ROOT_IS_OBJECT(jb) || JB_ROOT_IS_SCALAR(jb))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("task %s must be a JSON object", field),
					 errhint("Pass an object such as '{\"id\": \"BUY-1190-0394\"}'.")));
	}
}

/*
 * A task's result given as a JSON string that is a relative URI of a
 * resource: DESIGN's task_complete(id, result) takes "a JSON value or a
 * relative URI of a resource" in one argument (and seed 001's result is
 * such a URI), so such a string is the resource, not a JSON value (which
 * task_result could not tell from a resource, and HTTP would answer 200,
 * not 303). True, with the URI as text in *uri. Only a small value is
 * detoasted; a result left a JSON value is checked by validate_columns.
 */
bool
task_result_uri(Datum d, Datum *uri)
{
	Size		size = toast_raw_datum_size(d) - VARHDRSZ;
	Jsonb	   *jb;
	JsonbValue	v;

	if (size > MAX_URI_BYTES + 64)
		return false;
	jb = DatumGetJsonbP(d);
	if (!JB_ROOT_IS_SCALAR(jb) || !JsonbExtractScalar(&jb->root, &v) || v.type != jbvString ||
		v.val.string.len > MAX_URI_BYTES || !uri_is_relative_path(v.val.string.val, v.val.string.len))
		return false;
	*uri = PointerGetDatum(cstring_to_text_with_len(v.val.string.val, v.val.string.len));
	return true;
}

void
task_check_progress(Datum d, bool started)
{
	float8		p = DatumGetFloat8(d);

	if (!started)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("task progress is undefined before the task starts"),
				 errhint("Report progress once the task is processing (after task_dequeue).")));
	if (isnan(p) || p < 0 || p > 100)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("task progress must be between 0 and 100"),
				 errdetail("Progress %g was given.", p),
				 errhint("Progress is a percentage.")));
}

/*
 * A time a caller gives (run_at, eta, a reschedule's at): finite (a run_at
 * of -infinity would run before every task of its queue, one of infinity
 * never), and in the years 1 to 9999 in UTC: the Task object writes times
 * in RFC 3339 (UTC, a four-digit year), which has no other years.
 */
void
task_check_time(const char *field, Datum d)
{
	TimestampTz t = DatumGetTimestampTz(d);
	const TimestampTz first = (TimestampTz) (date2j(1, 1, 1) - POSTGRES_EPOCH_JDATE) * USECS_PER_DAY;
	const TimestampTz past_last = (TimestampTz) (date2j(10000, 1, 1) - POSTGRES_EPOCH_JDATE) * USECS_PER_DAY;

	if (TIMESTAMP_NOT_FINITE(t))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a finite time", field),
				 errhint("Pass a time such as now() + interval '1 hour'.")));
	if (t < first || t >= past_last)
	{
		struct pg_tm tm;
		fsec_t		fsec;
		char		utc[MAXDATELEN + 1] = "?";

		/* in UTC and ISO whatever the session's TimeZone and DateStyle */
		if (timestamp2tm(t, NULL, &tm, &fsec, NULL, NULL) == 0)
			EncodeDateTime(&tm, fsec, false, 0, NULL, USE_ISO_DATES, utc);
		ereport(ERROR,
				(errcode(ERRCODE_DATETIME_VALUE_OUT_OF_RANGE),
				 errmsg("%s is out of range: %s UTC", field, utc),
				 errdetail("Times are written in RFC 3339 (UTC, a four-digit year): from 0001-01-01 to 9999-12-31."),
				 errhint("Pass a time such as now() + interval '1 hour'.")));
	}
}

/* A task starts queued (the default) or blocked; anything else is refused. */
void
task_check_new_status(const char *status)
{
	if (status != NULL && (strcmp(status, "queued") == 0 || strcmp(status, "blocked") == 0))
		return;
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
			 errmsg("a new task must be queued or blocked, not %s", status ? status : "NULL"),
			 errhint("Leave status out (queued) or pass status => 'blocked'.")));
}

/* ---------------------------------------------------------------------
 * SQL wrappers
 * ---------------------------------------------------------------------
 */

/*
 * task._check_text(field, value, max_bytes, multiline): the trigger's text
 * rules for SQL callers (log messages, cancel reasons, names of services),
 * so every text the extension stores is checked the same way.
 */
Datum
task_check_text(PG_FUNCTION_ARGS)
{
	char	   *field = text_to_cstring(PG_GETARG_TEXT_PP(0));

	if (PG_ARGISNULL(1))
		PG_RETURN_NULL();
	task_check_text_value(field, PG_GETARG_DATUM(1), PG_GETARG_INT32(2), PG_GETARG_BOOL(3));
	PG_RETURN_DATUM(PG_GETARG_DATUM(1));
}

/*
 * task._check_path(kind, value): the queue-name ('queue') or namespace
 * ('namespace') rule; returns the value.
 */
Datum
task_check_path_sql(PG_FUNCTION_ARGS)
{
	char	   *kind = PG_ARGISNULL(0) ? "" : text_to_cstring(PG_GETARG_TEXT_PP(0));
	TaskPathKind k;

	if (strcmp(kind, "queue") == 0)
		k = TASK_PATH_QUEUE;
	else if (strcmp(kind, "namespace") == 0)
		k = TASK_PATH_NAMESPACE;
	else
		elog(ERROR, "unknown path kind \"%s\"", kind);	/* internal callers only */
	if (PG_ARGISNULL(1))
		task_check_path(k, NULL, 0);
	else
	{
		text	   *t = PG_GETARG_TEXT_PP(1);

		task_check_path(k, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
	}
	PG_RETURN_DATUM(PG_GETARG_DATUM(1));
}

/* task._check_new_status(status): the rule for the status of a new task. */
Datum
task_check_new_status_sql(PG_FUNCTION_ARGS)
{
	task_check_new_status(PG_ARGISNULL(0) ? NULL
						  : DatumGetCString(DirectFunctionCall1(enum_out, PG_GETARG_DATUM(0))));
	PG_RETURN_VOID();
}

/* task._check_time(field, at): the rule for a time a caller gives; returns it. */
Datum
task_check_time_sql(PG_FUNCTION_ARGS)
{
	task_check_time(text_to_cstring(PG_GETARG_TEXT_PP(0)), PG_GETARG_DATUM(1));
	PG_RETURN_DATUM(PG_GETARG_DATUM(1));
}

/* The task of a batch an error is about: its CONTEXT line. */
static void
batch_error_context(void *arg)
{
	errcontext("task %d of the batch", *(int *) arg);
}

/*
 * A task without a code: the error of the transition trigger
 * (validate_columns) and of task_create_many's check of its batch, which
 * refuses it before a serial is drawn.
 */
void
task_code_null_error(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
			 errmsg("task code must not be null"),
			 errhint("Pass code => the workflow, dot-separated identifiers such as accounts.buyers.transfer.")));
}

/*
 * task._check_batch(code, parameters, ordering_keys): the trigger's rules
 * for the fields task_create_many gives each of its tasks, for the whole
 * batch before it takes a serial. The trigger checks each row after its
 * id was drawn, so a batch refused at its last task had taken a serial of
 * the one sequence every service shares for each task before it
 * (docs/THREAT-MODEL.md, "Task serials"). A NULL code is refused here too;
 * other NULLs are left to the trigger.
 */

Datum
task_check_batch(PG_FUNCTION_ARGS)
{
	ErrorContextCallback cb;
	int			i = 0;
	int			arg;

	if (PG_ARGISNULL(0))
		task_code_null_error();
	task_check_code(PG_GETARG_TEXT_PP(0));
	cb.callback = batch_error_context;
	cb.arg = &i;
	cb.previous = error_context_stack;
	error_context_stack = &cb;
	for (arg = 1; arg <= 2; arg++)
	{
		Datum	   *elems;
		bool	   *nulls;
		int			n;

		if (PG_ARGISNULL(arg))
			continue;
		deconstruct_array(PG_GETARG_ARRAYTYPE_P(arg), arg == 1 ? JSONBOID : TEXTOID, -1, false,
						  TYPALIGN_INT, &elems, &nulls, &n);
		for (i = 1; i <= n; i++)
		{
			if (nulls[i - 1])
				continue;
			if (arg == 1)
				task_check_json("parameters", elems[i - 1], MAX_PARAMETERS_BYTES, true);
			else
				task_check_text_value("ordering key", elems[i - 1], MAX_KEY_BYTES, false);
		}
	}
	error_context_stack = cb.previous;
	PG_RETURN_VOID();
}
