#!/usr/bin/env python3
# Rebuilds sql/update/60_market.sql from the install fragments, so that the
# update creates every object exactly as a fresh install does (the upgrade
# check compares function bodies byte for byte). Run it from the top of the
# checkout after changing sql/22_market_tables.sql, 54_market_hooks.sql,
# 87_market.sql, 92_market_access.sql, 97_market_http.sql, or one of the core
# functions the marketplace hooks into (task._task_json, task_list,
# task_complete, task_fail, task_cancel, task_retry, task._settle_dependents,
# task_maintain): python3 test/harness/market_fragment.py
import re
def block(path, name):
    s=open(path).read()
    a=s.index(f"CREATE FUNCTION task.{name}(")
    c=s.index(f"COMMENT ON FUNCTION task.{name}(", a)
    # end of the comment statement: first line ending with "';" after c
    m=re.compile(r"';\n").search(s, c)
    return s[a:m.end()].replace("CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1)
def body(path):
    s=open(path).read()
    return s.split("\n",1)[1]  # drop the \echo guard line
out = ["""\\echo Use "ALTER EXTENSION task UPDATE" to load this file. \\quit
--
-- The marketplace (issue 13, seed 004): its tables, the hooks the core
-- calls, the core functions that call them (task._task_json, task_list
-- with agent =>, task_complete, task_fail, task_cancel, task_retry,
-- task._settle_dependents, task_maintain),
-- the marketplace functions, access rules and HTTP layer. The objects are
-- created exactly as sql/22_market_tables.sql, 54_market_hooks.sql,
-- 87_market.sql, 92_market_access.sql and 97_market_http.sql create them.

-- ---------------------------------------------------------------- 22_market_tables.sql
""", body("sql/22_market_tables.sql"),
"\n-- ---------------------------------------------------------------- 54_market_hooks.sql\n", body("sql/54_market_hooks.sql"),
"\n-- ---------------------------------------------------------------- the core's changed functions\n",
block("sql/55_read.sql","_task_json"), "\n",
"DROP FUNCTION task.task_list(task.status, text, text, text, task.task_id, timestamptz, integer, integer);\n\n",
block("sql/55_read.sql","task_list").replace("CREATE OR REPLACE FUNCTION","CREATE FUNCTION",1), "\n",
block("sql/65_worker.sql","task_complete"), "\n",
block("sql/65_worker.sql","task_fail"), "\n",
block("sql/70_control.sql","task_cancel"), "\n",
block("sql/70_control.sql","task_retry"), "\n",
block("sql/75_dependencies.sql","_settle_dependents"), "\n",
block("sql/80_maintenance.sql","task_maintain"), "\n",
"-- ---------------------------------------------------------------- 87_market.sql\n", body("sql/87_market.sql"),
"""
-- the internal helpers: callable by nobody but the owner (as 90_access.sql does)
DO $$
DECLARE
    f regprocedure;
BEGIN
    FOR f IN
        SELECT p.oid::regprocedure FROM pg_catalog.pg_proc p
         WHERE p.pronamespace = 'task'::regnamespace AND p.proname LIKE '\\_%'
    LOOP
        EXECUTE pg_catalog.format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', f);
    END LOOP;
END
$$;
""",
"\n-- ---------------------------------------------------------------- 92_market_access.sql\n", body("sql/92_market_access.sql"),
"\n-- ---------------------------------------------------------------- 97_market_http.sql\n", body("sql/97_market_http.sql"),
]
open("sql/update/60_market.sql","w").write("".join(out))
