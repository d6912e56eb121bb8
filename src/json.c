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
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/jsonb.h"

PG_FUNCTION_INFO_V1(task_strip_nulls);

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
