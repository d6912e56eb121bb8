# Makefile for the task extension (PGXS)
#
#   make demo    install what is missing, build, install, run the scenario
#   make test    install what is missing, build, install, run every test
#   make installcheck  the regression tests and specs against a running server
#   make bench   the benchmark against the raw-SQL baseline and the peers
#   make valgrind  the regression SQL under valgrind memcheck
#
# The two set-up targets work on a machine that has no PostgreSQL headers
# yet: PGXS is only included once it exists, and they call make again.

# task; task_http: its HTTP layer for PostgREST, in the schema the operator
# names at CREATE EXTENSION task_http SCHEMA ... (sql/http/); task_router:
# its API routed over several nodes (docs/SCALE-OUT.md, sql/router/)
EXTENSION  = task task_http task_router
EXTVERSION = $(shell sed -n "s/^default_version = '\(.*\)'/\1/p" task.control)

MODULE_big = task
OBJS = \
	src/task.o \
	src/task_id.o \
	src/task_id_parse.o \
	src/identity.o \
	src/rules.o \
	src/transition.o \
	src/wait.o \
	src/mark.o \
	src/hotpath.o \
	src/json.o \
	src/maintenance.o

# The install script is built from the fragments in sql/, in name order;
# the update from the last release from those in sql/update/, in name
# order. Released install scripts (sql/task--0.1.0.sql) are frozen.
SQL_FRAGMENTS = $(sort $(wildcard sql/[0-9]*.sql))
UPDATE_FROM = 0.1.0
UPDATE_FRAGMENTS = $(sort $(wildcard sql/update/[0-9]*.sql))
HTTP_FRAGMENTS = $(sort $(wildcard sql/http/*.sql))
# task_router: the types and (always empty) tables of task, so that its
# row types are the shard's, then its own fragments in sql/router/
ROUTER_FRAGMENTS = sql/10_types.sql sql/20_tables.sql $(sort $(wildcard sql/router/[0-9]*.sql))
DATA_built = sql/task--$(EXTVERSION).sql sql/task--$(UPDATE_FROM)--$(EXTVERSION).sql sql/task_http--$(EXTVERSION).sql sql/task_router--$(EXTVERSION).sql
DATA = sql/task--0.1.0.sql

PG_CPPFLAGS = -I$(srcdir)/src
# -Wno-unused-parameter: PostgreSQL's own headers (bufpage.h) trip -Wextra's unused-parameter
PG_CFLAGS = -Wall -Wextra -Werror -Wno-unused-parameter

# Debian's PostgreSQL 15; override with make PG_CONFIG=...
PG_CONFIG ?= $(firstword $(wildcard /usr/lib/postgresql/15/bin/pg_config) pg_config)
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)

ifneq ($(wildcard $(PGXS)),)
include $(PGXS)
else
all:
	@echo "PostgreSQL server headers not found: run 'make demo' or 'make test' (they install them), or set PG_CONFIG" >&2
	@exit 1
endif

sql/task--$(EXTVERSION).sql: $(SQL_FRAGMENTS) task.control
	@{ echo '-- generated from sql/[0-9]*.sql by make: edit the fragments, not this file'; \
	   printf '%s\n' '\echo Use "CREATE EXTENSION task CASCADE" to load this file. \quit'; \
	   for f in $(SQL_FRAGMENTS); do echo; echo "-- ---- $$f"; sed '/^\\echo Use /d' $$f; done; } > $@

sql/task_http--$(EXTVERSION).sql: $(HTTP_FRAGMENTS) task_http.control
	@{ echo '-- generated from sql/http/*.sql by make: edit the fragments, not this file'; \
	   printf '%s\n' '\echo Use "CREATE SCHEMA api; CREATE EXTENSION task_http SCHEMA api" to load this file. \quit'; \
	   for f in $(HTTP_FRAGMENTS); do echo; echo "-- ---- $$f"; sed '/^\\echo Use /d' $$f; done; } > $@

sql/task--$(UPDATE_FROM)--$(EXTVERSION).sql: $(UPDATE_FRAGMENTS) $(SQL_FRAGMENTS) $(HTTP_FRAGMENTS) sql/update/expand.awk task.control
	@{ echo '-- generated from sql/update/[0-9]*.sql by make: edit the fragments, not this file'; \
	   printf '%s\n' '\echo Use "ALTER EXTENSION task UPDATE" to load this file. \quit'; \
	   for f in $(UPDATE_FRAGMENTS); do echo; echo "-- ---- $$f"; \
	     sed '/^\\echo Use /d' $$f | awk -v src=$$f -v fragments="$(SQL_FRAGMENTS) $(HTTP_FRAGMENTS)" -f sql/update/expand.awk || exit 1; done; } > $@.tmp
	@mv $@.tmp $@

sql/task_router--$(EXTVERSION).sql: $(ROUTER_FRAGMENTS) task_router.control
	@{ echo '-- generated from sql/10_types.sql, sql/20_tables.sql and sql/router/[0-9]*.sql by make: edit those, not this file'; \
	   printf '%s\n' '\echo Use "CREATE EXTENSION task_router CASCADE" to load this file. \quit'; \
	   for f in $(ROUTER_FRAGMENTS); do echo; echo "-- ---- $$f"; sed '/^\\echo Use /d' $$f; done; } > $@

# One version number: task.control (task_router.control carries the same). META.json and CHANGELOG.md must agree.
checkver:
	@grep -q "^default_version = '$(EXTVERSION)'" task_router.control || { echo "task_router.control does not carry version $(EXTVERSION) of task.control" >&2; exit 1; }
	@grep -q '"version": "$(EXTVERSION)"' META.json || { echo "META.json does not carry version $(EXTVERSION) of task.control" >&2; exit 1; }
	@grep -q '^## $(EXTVERSION)' CHANGELOG.md || { echo "CHANGELOG.md has no '## $(EXTVERSION)' section" >&2; exit 1; }
	@grep -q "^default_version = '$(EXTVERSION)'" task_http.control || { echo "task_http.control does not carry version $(EXTVERSION) of task.control" >&2; exit 1; }

deps:
	test/harness/deps.sh

demo: checkver deps
	$(MAKE) install
	test/harness/demo.sh

test: checkver deps
	$(MAKE) install
	test/harness/check.sh $(TESTS)

# The regression tests and isolation specs against a running server, as PGXS
# users expect: PGHOST, PGPORT and PGUSER (a superuser) name it; it creates
# the database contrib_regression there. The server needs the settings of
# test/harness/task.conf: shared_preload_libraries = 'task,pg_cron',
# cron.database_name = 'contrib_regression', cron.use_background_workers = on
# (docs/OPERATIONS.md). Run it against a throwaway server: the tests create
# roles, which are cluster-wide.
installcheck:
	PG_CONFIG=$(PG_CONFIG) TASK_CHECK_EXISTING=server test/harness/check.sh $(TESTS)

bench: deps
	$(MAKE) install
	bench/run.sh $(BENCH)
	bench/listing.sh
	bench/latency.sh $(BENCH)
	bench/soak.sh $(BENCH)

fuzz:
	$(MAKE) -C test/fuzz

# the regression SQL against a server under valgrind memcheck (slow: minutes)
valgrind: deps
	$(MAKE) install
	test/harness/valgrind.sh $(TESTS)

.PHONY: checkver deps demo test installcheck bench fuzz valgrind
