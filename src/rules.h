/*
 * rules.h
 *		The validation rules of task's data, written once (src/rules.c) and
 *		called by the trigger and, through SQL wrappers, by every SQL path.
 */
#ifndef TASK_RULES_H
#define TASK_RULES_H

#include "postgres.h"

/* Limits, documented in the README ("Limits"). */
#define MAX_CODE_BYTES			255
#define MAX_QUEUE_BYTES			255
#define MAX_NAMESPACE_BYTES		200
#define MAX_NAME_BYTES			255
#define MAX_KEY_BYTES			255
#define MAX_DESCRIPTION_BYTES	4096
#define MAX_ERROR_BYTES			8192
#define MAX_URI_BYTES			2048
#define MAX_OBJECT_BYTES		8192
#define MAX_PARAMETERS_BYTES	(1024 * 1024)
#define MAX_RESULT_BYTES		(16 * 1024 * 1024)

/* Slash-separated names: queues and service namespaces share one grammar. */
typedef enum TaskPathKind
{
	TASK_PATH_QUEUE,
	TASK_PATH_NAMESPACE
} TaskPathKind;

extern void task_check_code(text *t);
extern void task_code_null_error(void) pg_attribute_noreturn();
extern void task_check_path(TaskPathKind kind, const char *s, int len);
extern void task_check_text_value(const char *field, Datum d, int max, bool multiline);
extern void task_check_uri(Datum d);
extern void task_check_json(const char *field, Datum d, int max, bool object_only);
extern bool task_result_uri(Datum d, Datum *uri);
extern void task_check_progress(Datum d, bool started);
extern void task_check_time(const char *field, Datum d);
extern void task_check_new_status(const char *status);

#endif							/* TASK_RULES_H */
