/*
 * task_id_parse.h
 *		Text form of task.task_id: parse and format, without PostgreSQL.
 *
 * A task id is an int64 equal to owner * 10^12 + serial, where owner is the
 * owning service number (0..9999) and serial is 0..999999999999.  Its text
 * form is exactly "TSK-OOOO-SSSS-SSSS-SSSS" (23 bytes).  This file only uses
 * the C standard headers so that the fuzzer (test/fuzz) links it alone.
 */
#ifndef TASK_ID_PARSE_H
#define TASK_ID_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TASK_ID_SERIAL_RADIX	INT64_C(1000000000000)	/* 10^12 */
#define TASK_ID_OWNER_MAX		9999
#define TASK_ID_SERIAL_MAX		INT64_C(999999999999)
#define TASK_ID_MIN				INT64_C(0)
#define TASK_ID_MAX				INT64_C(9999999999999999)	/* 9999 * 10^12 + SERIAL_MAX */

/* length of the text form, without the terminating NUL */
#define TASK_ID_TEXT_LEN		23
/* size of the buffer task_id_format() writes */
#define TASK_ID_BUFSIZE			(TASK_ID_TEXT_LEN + 1)

/* true when v is the binary form of some task id */
static inline bool
task_id_valid(int64_t v)
{
	return v >= TASK_ID_MIN && v <= TASK_ID_MAX;
}

/*
 * Parse the len bytes at s.  Returns true and sets *out when they are exactly
 * "TSK-" followed by four groups of four ASCII digits separated by '-';
 * otherwise returns false and leaves *out alone.  No leading or trailing
 * bytes (whitespace, NUL) are tolerated, and "TSK" must be upper case.
 */
extern bool task_id_parse(const char *s, size_t len, int64_t *out);

/*
 * Write the text form of v and a NUL into buf.  v must satisfy
 * task_id_valid(); any other value is written with '?' for every digit,
 * which task_id_parse() rejects, so a bug cannot produce a plausible id.
 */
extern void task_id_format(int64_t v, char buf[TASK_ID_BUFSIZE]);

#endif							/* TASK_ID_PARSE_H */
