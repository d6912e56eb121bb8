/*
 * fuzz_task_id.c
 *		libFuzzer target for the task_id text parser and formatter.
 *
 * For every input it checks, and aborts on any mismatch:
 *   1. task_id_parse() accepts exactly what an independent reference
 *      (a per-position pattern and strtoll) accepts, with the same value;
 *   2. an accepted input is canonical: parse -> format gives back the same
 *      23 bytes, and parsing that text gives the same value;
 *   3. any int64 built from the input bytes formats to a text that parses
 *      back to it when it is a task id, and to an unparsable text otherwise.
 *
 * Built with -DTASK_ID_FUZZ_STANDALONE it has its own main() that runs fixed
 * edge cases and then every file named on the command line, for machines
 * without clang/libFuzzer (make check).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "task_id_parse.h"

#define CHECK(cond) \
	do { \
		if (!(cond)) \
		{ \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
			abort(); \
		} \
	} while (0)

/* Reference acceptor: a different formulation of the same grammar. */
static int
reference_parse(const uint8_t *s, size_t len, int64_t *out)
{
	static const char pattern[] = "TSK-dddd-dddd-dddd-dddd";
	char		digits[17];
	int			nd = 0;
	size_t		i;

	if (len != sizeof(pattern) - 1)
		return 0;
	for (i = 0; i < len; i++)
	{
		if (pattern[i] == 'd')
		{
			if (s[i] < '0' || s[i] > '9')
				return 0;
			digits[nd++] = (char) s[i];
		}
		else if (s[i] != (uint8_t) pattern[i])
			return 0;
	}
	digits[nd] = '\0';
	*out = (int64_t) strtoll(digits, NULL, 10);
	return 1;
}

/* Format v and check the result against the parser. */
static void
check_format(int64_t v)
{
	char		buf[TASK_ID_BUFSIZE + 8];
	int64_t		back = -42;

	memset(buf, 0x5a, sizeof(buf));
	task_id_format(v, buf);
	CHECK(buf[TASK_ID_TEXT_LEN] == '\0');
	CHECK(strlen(buf) == TASK_ID_TEXT_LEN);
	CHECK((unsigned char) buf[TASK_ID_BUFSIZE] == 0x5a);	/* no overrun */

	if (task_id_valid(v))
	{
		CHECK(task_id_parse(buf, TASK_ID_TEXT_LEN, &back));
		CHECK(back == v);
		CHECK(v / TASK_ID_SERIAL_RADIX <= TASK_ID_OWNER_MAX);
	}
	else
	{
		CHECK(!task_id_parse(buf, TASK_ID_TEXT_LEN, &back));
		CHECK(back == -42);		/* *out untouched on failure */
	}
}

int			LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int64_t		v = -42;
	int64_t		ref = -43;
	int			ok = task_id_parse((const char *) data, size, &v);
	int			ref_ok = reference_parse(data, size, &ref);

	/* 1. same language, same value */
	CHECK(ok == ref_ok);
	if (!ok)
		CHECK(v == -42);
	else
	{
		char		buf[TASK_ID_BUFSIZE];
		int64_t		again = -44;

		CHECK(v == ref);
		CHECK(task_id_valid(v));

		/* 2. canonical: format gives the same bytes, which parse the same */
		task_id_format(v, buf);
		CHECK(memcmp(buf, data, TASK_ID_TEXT_LEN) == 0);
		CHECK(task_id_parse(buf, TASK_ID_TEXT_LEN, &again));
		CHECK(again == v);
	}

	/* 3. format of arbitrary values, raw and folded into the valid range */
	if (size >= 8)
	{
		uint64_t	raw;

		memcpy(&raw, data, sizeof(raw));
		check_format((int64_t) raw);
		check_format((int64_t) (raw % (uint64_t) (TASK_ID_MAX + 1)));
	}
	return 0;
}

#ifdef TASK_ID_FUZZ_STANDALONE
static void
run_buffer(const char *s, size_t len)
{
	/* an exact-size heap copy, so that a sanitizer sees any over-read */
	uint8_t    *copy = malloc(len ? len : 1);

	CHECK(copy != NULL);
	memcpy(copy, s, len);
	LLVMFuzzerTestOneInput(copy, len);
	free(copy);
}

static int
run_file(const char *path)
{
	FILE	   *f = fopen(path, "rb");
	char	   *buf;
	long		n;

	if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 ||
		fseek(f, 0, SEEK_SET) != 0)
	{
		perror(path);
		return 1;
	}
	buf = malloc((size_t) n + 1);
	CHECK(buf != NULL);
	CHECK(fread(buf, 1, (size_t) n, f) == (size_t) n);
	fclose(f);
	run_buffer(buf, (size_t) n);
	free(buf);
	return 0;
}

int
main(int argc, char **argv)
{
	static const char *const good[] = {
		"TSK-0000-0000-0000-0000", "TSK-9999-9999-9999-9999",
		"TSK-0001-2474-4798-1266",
	};
	static const int64_t values[] = {
		0, 1, INT64_C(1247447981266), TASK_ID_SERIAL_MAX, TASK_ID_SERIAL_RADIX,
		TASK_ID_MAX, TASK_ID_MAX + 1, -1, INT64_MIN, INT64_MAX,
	};
	int64_t		v;
	int			failures = 0;
	int			i;

	for (i = 0; i < (int) (sizeof(good) / sizeof(good[0])); i++)
	{
		CHECK(task_id_parse(good[i], strlen(good[i]), &v));
		run_buffer(good[i], strlen(good[i]));
	}
	CHECK(task_id_parse("TSK-0001-2474-4798-1266", 23, &v) && v == INT64_C(1247447981266));
	/* embedded NUL, given a length */
	CHECK(!task_id_parse("TSK-0001-2474-4798-126\0", 23, &v));
	CHECK(!task_id_parse("TSK-0001-2474-4798-1266\0", 24, &v));
	CHECK(!task_id_parse("TSK-0001-2474-4798-1266", 22, &v));
	CHECK(!task_id_parse("tsk-0001-2474-4798-1266", 23, &v));
	CHECK(!task_id_parse(NULL, 0, &v));
	for (i = 0; i < (int) (sizeof(values) / sizeof(values[0])); i++)
		check_format(values[i]);

	for (i = 1; i < argc; i++)
		failures += run_file(argv[i]);
	printf("fuzz_task_id: edge cases and %d file(s) checked\n", argc - 1 - failures);
	return failures ? 1 : 0;
}
#endif
