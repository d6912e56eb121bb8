/*
 * task_id.c
 *		The task.task_id base type: I/O, comparison, hashing, constructors.
 *
 * A task id is an int64 (owner * 10^12 + serial) passed by value; its text
 * form "TSK-OOOO-SSSS-SSSS-SSSS" is parsed and written by task_id_parse.c.
 * The SQL objects are declared in sql/010_task_id.sql.
 */
#include "postgres.h"

#include <string.h>

#include "common/hashfn.h"
#include "fmgr.h"
#include "libpq/pqformat.h"
#include "mb/pg_wchar.h"
#include "utils/sortsupport.h"

#include "task_id_parse.h"

/* The type is declared PASSEDBYVALUE with INTERNALLENGTH 8. */
#if SIZEOF_DATUM < 8
#error "task.task_id needs a 64-bit Datum (pass-by-value int64)"
#endif

#define DatumGetTaskId(d)		DatumGetInt64(d)
#define TaskIdGetDatum(v)		Int64GetDatum(v)
#define PG_GETARG_TASK_ID(n)	DatumGetTaskId(PG_GETARG_DATUM(n))
#define PG_RETURN_TASK_ID(v)	return TaskIdGetDatum(v)

/* How much of a rejected input the error message quotes, in bytes. */
#define TASK_ID_SHOWN_MAX		40

PG_FUNCTION_INFO_V1(task_id_in);
PG_FUNCTION_INFO_V1(task_id_out);
PG_FUNCTION_INFO_V1(task_id_recv);
PG_FUNCTION_INFO_V1(task_id_send);
PG_FUNCTION_INFO_V1(task_id_eq);
PG_FUNCTION_INFO_V1(task_id_ne);
PG_FUNCTION_INFO_V1(task_id_lt);
PG_FUNCTION_INFO_V1(task_id_le);
PG_FUNCTION_INFO_V1(task_id_gt);
PG_FUNCTION_INFO_V1(task_id_ge);
PG_FUNCTION_INFO_V1(task_id_cmp);
PG_FUNCTION_INFO_V1(task_id_hash);
PG_FUNCTION_INFO_V1(task_id_hash_extended);
PG_FUNCTION_INFO_V1(task_id_sortsupport);
PG_FUNCTION_INFO_V1(task_id_make);
PG_FUNCTION_INFO_V1(task_id_owner);
PG_FUNCTION_INFO_V1(task_id_serial);

/*
 * Reject a text that is not a task id.  The message quotes at most
 * TASK_ID_SHOWN_MAX bytes of it, cut at a character boundary, so that a huge
 * input does not make a huge message.
 */
static void
task_id_syntax_error(const char *s, size_t len)
{
	int			cut = pg_mbcliplen(s, (int) Min(len, (size_t) PG_INT32_MAX),
								   TASK_ID_SHOWN_MAX);
	char	   *shown = psprintf("%.*s%s", cut, s,
								 (size_t) cut < len ? "..." : "");

	ereport(ERROR,
			(errcode(ERRCODE_INVALID_TEXT_REPRESENTATION),
			 errmsg("invalid input syntax for type %s: \"%s\"",
					"task_id", shown),
			 errdetail("A task id has the form TSK-XXXX-YYYY-YYYY-YYYY: \"TSK-\", the four digits of the owning service SVC-XXXX, then three groups of four digits."),
			 errhint("Write it in upper case with no surrounding spaces, for example TSK-0001-2474-4798-1266, or build it with task.task_id_make(owner, serial).")));
}

/* Reject a binary value outside 0..TASK_ID_MAX. */
static inline void
task_id_check_binary(int64 v)
{
	if (!task_id_valid(v))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("task_id value %lld is out of range", (long long) v),
				 errdetail("The binary form of a task id is an int8 between 0 and %lld.",
						   (long long) TASK_ID_MAX),
				 errhint("Send owner * 10^12 + serial, with owner in 0..9999 and serial in 0..999999999999.")));
}

Datum
task_id_in(PG_FUNCTION_ARGS)
{
	const char *s = PG_GETARG_CSTRING(0);
	size_t		len = strlen(s);
	int64_t		v;

	if (!task_id_parse(s, len, &v))
		task_id_syntax_error(s, len);
	PG_RETURN_TASK_ID((int64) v);
}

Datum
task_id_out(PG_FUNCTION_ARGS)
{
	int64		v = PG_GETARG_TASK_ID(0);
	char	   *buf = palloc(TASK_ID_BUFSIZE);

	/* in, recv and make only build valid values: anything else is damage */
	if (!task_id_valid(v))
		ereport(ERROR,
				(errcode(ERRCODE_DATA_CORRUPTED),
				 errmsg("task_id value %lld is out of range", (long long) v)));
	task_id_format(v, buf);
	PG_RETURN_CSTRING(buf);
}

Datum
task_id_recv(PG_FUNCTION_ARGS)
{
	StringInfo	buf = (StringInfo) PG_GETARG_POINTER(0);
	int64		v = pq_getmsgint64(buf);

	task_id_check_binary(v);
	PG_RETURN_TASK_ID(v);
}

Datum
task_id_send(PG_FUNCTION_ARGS)
{
	int64		v = PG_GETARG_TASK_ID(0);
	StringInfoData buf;

	pq_begintypsend(&buf);
	pq_sendint64(&buf, v);
	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* Comparison: plain int64 order, which is also the text order. */

Datum
task_id_eq(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(PG_GETARG_TASK_ID(0) == PG_GETARG_TASK_ID(1));
}

Datum
task_id_ne(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(PG_GETARG_TASK_ID(0) != PG_GETARG_TASK_ID(1));
}

Datum
task_id_lt(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(PG_GETARG_TASK_ID(0) < PG_GETARG_TASK_ID(1));
}

Datum
task_id_le(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(PG_GETARG_TASK_ID(0) <= PG_GETARG_TASK_ID(1));
}

Datum
task_id_gt(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(PG_GETARG_TASK_ID(0) > PG_GETARG_TASK_ID(1));
}

Datum
task_id_ge(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(PG_GETARG_TASK_ID(0) >= PG_GETARG_TASK_ID(1));
}

Datum
task_id_cmp(PG_FUNCTION_ARGS)
{
	int64		a = PG_GETARG_TASK_ID(0);
	int64		b = PG_GETARG_TASK_ID(1);

	PG_RETURN_INT32(a < b ? -1 : (a > b ? 1 : 0));
}

/* The same hash as hashint8, so a task id hashes like its int8 value. */
Datum
task_id_hash(PG_FUNCTION_ARGS)
{
	int64		v = PG_GETARG_TASK_ID(0);
	uint32		lohalf = (uint32) v;
	uint32		hihalf = (uint32) (v >> 32);

	lohalf ^= (v >= 0) ? hihalf : ~hihalf;
	return hash_uint32(lohalf);
}

/* The same hash as hashint8extended. */
Datum
task_id_hash_extended(PG_FUNCTION_ARGS)
{
	int64		v = PG_GETARG_TASK_ID(0);
	uint64		seed = PG_GETARG_INT64(1);
	uint32		lohalf = (uint32) v;
	uint32		hihalf = (uint32) (v >> 32);

	lohalf ^= (v >= 0) ? hihalf : ~hihalf;
	return hash_uint32_extended(lohalf, seed);
}

/* Sorting compares the Datums as signed integers: PG15's fast path. */
Datum
task_id_sortsupport(PG_FUNCTION_ARGS)
{
	SortSupport ssup = (SortSupport) PG_GETARG_POINTER(0);

	ssup->comparator = ssup_datum_signed_cmp;
	PG_RETURN_VOID();
}

Datum
task_id_make(PG_FUNCTION_ARGS)
{
	int32		owner = PG_GETARG_INT32(0);
	int64		serial = PG_GETARG_INT64(1);

	if (owner < 0 || owner > TASK_ID_OWNER_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("task_id owner %d is out of range", owner),
				 errdetail("The owner is a service number between 0 and %d.",
						   TASK_ID_OWNER_MAX),
				 errhint("Pass the number of the owning service SVC-XXXX.")));
	if (serial < 0 || serial > TASK_ID_SERIAL_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("task_id serial %lld is out of range", (long long) serial),
				 errdetail("The serial is a number between 0 and %lld.",
						   (long long) TASK_ID_SERIAL_MAX),
				 errhint("Pass a serial of at most twelve decimal digits.")));

	PG_RETURN_TASK_ID((int64) owner * TASK_ID_SERIAL_RADIX + serial);
}

Datum
task_id_owner(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT32((int32) (PG_GETARG_TASK_ID(0) / TASK_ID_SERIAL_RADIX));
}

Datum
task_id_serial(PG_FUNCTION_ARGS)
{
	PG_RETURN_INT64(PG_GETARG_TASK_ID(0) % TASK_ID_SERIAL_RADIX);
}
