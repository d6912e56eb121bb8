# Expands the directives of an update fragment (sql/update/NN_*.sql) with the
# text of the install fragments, so an update replaces an object with exactly
# what a fresh install creates and nothing is written twice:
#
#   -- @replace function task.task_create    CREATE OR REPLACE FUNCTION ... and its COMMENT
#   -- @replace procedure task.task_hire_sync  CREATE OR REPLACE PROCEDURE ... and its COMMENT
#   -- @replace view api.tasks               CREATE OR REPLACE VIEW ... (up to its ";") and the
#                                            COMMENT ON VIEW / COLUMN statements right after it
#   -- @include sql/87_market.sql            a whole install fragment, new in this version
#   -- @create table task.queue_rate         a table new in this version: every statement of the
#   -- @create sequence task.lock_secret     install fragments that makes or sets it up, in their
#   -- @create type task.claim_mark          order -- CREATE TABLE/SEQUENCE/TYPE, its indexes, COMMENTs,
#                                            ALTER TABLE/SEQUENCE, setval, pg_extension_config_dump,
#                                            its triggers and policies (create their functions first)
#   -- @create triggers task._identity_changed   the triggers, new in this version, that run a
#                                            function (on tables that exist already): every
#                                            CREATE TRIGGER ... EXECUTE FUNCTION that function()
#
# Usage (the Makefile): awk -v src=FRAGMENT -v fragments="sql/10_types.sql ..." -f expand.awk < FRAGMENT
function emit(kind, name,    n, i, f, line, on, done, incomment, found) {
	n = split(fragments, files, " ")
	found = 0
	for (i = 1; i <= n; i++) {
		f = files[i]
		on = 0; done = 0; incomment = 0
		while ((getline line < f) > 0) {
			# task_http's source (sql/http/) names its schema @extschema@: databases updated
			# from 0.1.0 have it as schema api
			gsub(/@extschema@/, "api", line)
			if (done) continue
			if (!on && kind == "function" && index(line, "CREATE FUNCTION " name "(") == 1) {
				on = 1; found++
				sub(/^CREATE FUNCTION/, "CREATE OR REPLACE FUNCTION", line)
			} else if (!on && kind == "procedure" && index(line, "CREATE PROCEDURE " name "(") == 1) {
				on = 1; found++
				sub(/^CREATE PROCEDURE/, "CREATE OR REPLACE PROCEDURE", line)
			} else if (!on && kind == "view" && index(line, "CREATE VIEW " name " ") == 1) {
				on = 1; found++
				sub(/^CREATE VIEW/, "CREATE OR REPLACE VIEW", line)
			}
			if (on == 2) {	# after a view: its COMMENT ON VIEW / COLUMN statements
				if (!incomment && index(line, "COMMENT ON VIEW " name " ") != 1 &&
				    index(line, "COMMENT ON COLUMN " name ".") != 1) { on = 0; done = 1; continue }
				print line
				incomment = (line !~ /';$/)
				continue
			}
			if (!on) continue
			print line
			if (kind == "view" && line ~ /;$/) { on = 2; continue }
			if (line ~ /^COMMENT ON (FUNCTION|PROCEDURE)/) incomment = 1
			if (incomment && line ~ /(';|\$\$;)$/) { on = 0; incomment = 0 }
		}
		close(f)
	}
	if (found == 0) {
		printf("expand.awk: %s: no %s %s in the install fragments\n", src, kind, name) > "/dev/stderr"
		failed = 1
		exit 1
	}
}
# Is LINE the first line of a statement that makes or sets up NAME?
function about(line, name) {
	return index(line, "CREATE TABLE " name " (") == 1 || index(line, "CREATE SEQUENCE " name " ") == 1 ||
	       index(line, "CREATE SEQUENCE " name ";") == 1 ||
	       index(line, "CREATE TYPE " name " ") == 1 || index(line, "COMMENT ON TYPE " name " ") == 1 ||
	       index(line, "COMMENT ON TABLE " name " ") == 1 || index(line, "COMMENT ON SEQUENCE " name " ") == 1 ||
	       index(line, "COMMENT ON COLUMN " name ".") == 1 ||
	       index(line, "ALTER TABLE " name " ") == 1 || index(line, "ALTER SEQUENCE " name " ") == 1 ||
	       index(line, "SELECT pg_catalog.pg_extension_config_dump('" name "',") == 1 ||
	       index(line, "SELECT pg_catalog.setval('" name "',") == 1 ||
	       (line ~ /^(CREATE (UNIQUE )?INDEX|CREATE (CONSTRAINT )?TRIGGER|COMMENT ON TRIGGER|CREATE POLICY) / &&
	        index(line " ", " ON " name " ") > 0)
}
function create(kind, name,    n, i, f, line, on, found) {
	n = split(fragments, files, " ")
	found = 0
	for (i = 1; i <= n; i++) {
		f = files[i]; on = 0
		while ((getline line < f) > 0) {
			if (!on && about(line, name)) {
				on = 1
				if (index(line, "CREATE " toupper(kind) " " name) == 1) found++
			}
			if (!on) continue
			print line
			if (line ~ /;$/) on = 0   # a statement ends at the first line ending with ";"
		}
		close(f)
	}
	if (found != 1) {
		printf("expand.awk: %s: %d CREATE %s %s in the install fragments\n", src, found, toupper(kind), name) > "/dev/stderr"
		failed = 1
		exit 1
	}
}
# every CREATE TRIGGER statement of the install fragments that executes FUNC
function triggers(func,    n, i, f, line, stmt, found) {
	n = split(fragments, files, " ")
	found = 0
	for (i = 1; i <= n; i++) {
		f = files[i]; stmt = ""
		while ((getline line < f) > 0) {
			if (stmt == "" && line !~ /^CREATE (CONSTRAINT )?TRIGGER /) continue
			stmt = stmt line "\n"
			if (line !~ /;$/) continue
			if (index(stmt, " EXECUTE FUNCTION " func "()") > 0) { printf "%s", stmt; found++ }
			stmt = ""
		}
		close(f)
	}
	if (found == 0) {
		printf("expand.awk: %s: no trigger executes %s in the install fragments\n", src, func) > "/dev/stderr"
		failed = 1
		exit 1
	}
}
/^-- @replace (function|procedure|view) [^ ]+$/ { emit($3, $4); next }
/^-- @create triggers [^ ]+$/ { triggers($4); next }
/^-- @create (table|sequence|type) [^ ]+$/ { create($3, $4); next }
/^-- @include [^ ]+$/ {
	f = $3; n = 0
	while ((getline line < f) > 0) { n++; if (line !~ /^\\echo Use /) print line }
	close(f)
	if (n == 0) { printf("expand.awk: %s: cannot read %s\n", src, f) > "/dev/stderr"; failed = 1; exit 1 }
	next
}
{ print }
END { if (failed) exit 1 }
