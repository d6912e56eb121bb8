/*
 * task_id_parse.c
 *		Parse and format the text form of task.task_id.
 *
 * Pure C (no PostgreSQL headers): src/task_id.c wraps it as the type's I/O
 * functions and test/fuzz/fuzz_task_id.c fuzzes it.  See task_id_parse.h.
 */
#include "task_id_parse.h"

/* Offsets of the hyphens in "TSK-OOOO-SSSS-SSSS-SSSS". */
static const unsigned char hyphen_at[] = {3, 8, 13, 18};

static inline bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

bool
task_id_parse(const char *s, size_t len, int64_t *out)
{
	int64_t		owner = 0;
	int64_t		serial = 0;
	size_t		i;

	if (s == NULL || len != TASK_ID_TEXT_LEN)
		return false;
	if (s[0] != 'T' || s[1] != 'S' || s[2] != 'K')
		return false;
	for (i = 0; i < sizeof(hyphen_at); i++)
		if (s[hyphen_at[i]] != '-')
			return false;

	/* owner: bytes 4..7 */
	for (i = 4; i < 8; i++)
	{
		if (!is_digit(s[i]))
			return false;
		owner = owner * 10 + (s[i] - '0');
	}
	/* serial: bytes 9..22, skipping the hyphens at 13 and 18 */
	for (i = 9; i < TASK_ID_TEXT_LEN; i++)
	{
		if (i == 13 || i == 18)
			continue;
		if (!is_digit(s[i]))
			return false;
		serial = serial * 10 + (s[i] - '0');
	}

	/* 4 digits and 12 digits cannot overflow their ranges */
	*out = owner * TASK_ID_SERIAL_RADIX + serial;
	return true;
}

void
task_id_format(int64_t v, char buf[TASK_ID_BUFSIZE])
{
	bool		valid = task_id_valid(v);
	uint64_t	owner = valid ? (uint64_t) v / (uint64_t) TASK_ID_SERIAL_RADIX : 0;
	uint64_t	serial = valid ? (uint64_t) v % (uint64_t) TASK_ID_SERIAL_RADIX : 0;
	int			i;

	buf[0] = 'T';
	buf[1] = 'S';
	buf[2] = 'K';
	for (i = 0; i < (int) sizeof(hyphen_at); i++)
		buf[hyphen_at[i]] = '-';
	buf[TASK_ID_TEXT_LEN] = '\0';

	/* fill the digits right to left; '?' when v is not a task id */
	for (i = 7; i >= 4; i--)
	{
		buf[i] = valid ? (char) ('0' + owner % 10) : '?';
		owner /= 10;
	}
	for (i = TASK_ID_TEXT_LEN - 1; i >= 9; i--)
	{
		if (i == 13 || i == 18)
			continue;
		buf[i] = valid ? (char) ('0' + serial % 10) : '?';
		serial /= 10;
	}
}
