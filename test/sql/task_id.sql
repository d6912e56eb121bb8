-- task.task_id: the base type, its operators, index support and errors.
-- The harness has already run CREATE EXTENSION task.

-- Show message, detail and hint of each error; hide CONTEXT lines.
\set VERBOSITY default
\set SHOW_CONTEXT never

--
-- The operators live in schema task: they are found only with task on the
-- search_path (or spelled OPERATOR(task.=)).  ORDER BY, DISTINCT, GROUP BY
-- and indexes use the default operator classes and need no search_path.
--
SET search_path = "$user", public;
SELECT 'TSK-0001-2474-4798-1266'::task.task_id = 'TSK-0001-2474-4798-1266';
SELECT 'TSK-0001-2474-4798-1266'::task.task_id OPERATOR(task.=) 'TSK-0001-2474-4798-1266';
SET search_path = "$user", public, task;

--
-- Valid input and output round trips
--
SELECT 'TSK-0000-0000-0000-0000'::task.task_id AS min,
       'TSK-9999-9999-9999-9999'::task.task_id AS max,
       'TSK-0001-2474-4798-1266'::task.task_id AS example;

-- text in, text out, unchanged
SELECT v, v::task.task_id::text = v AS round_trip
FROM (VALUES ('TSK-0000-0000-0000-0000'), ('TSK-9999-9999-9999-9999'),
             ('TSK-0001-2474-4798-1266'), ('TSK-0010-0000-0000-0001'),
             ('TSK-1234-5678-9012-3456')) AS t(v);

-- the parts
SELECT task.task_id_owner(v) AS owner, task.task_id_serial(v) AS serial
FROM (VALUES ('TSK-0000-0000-0000-0000'::task.task_id),
             ('TSK-9999-9999-9999-9999'), ('TSK-0001-2474-4798-1266')) AS t(v);

-- make is the inverse of owner/serial
SELECT task.task_id_make(1, 247447981266) AS example,
       task.task_id_make(0, 0) AS min,
       task.task_id_make(9999, 999999999999) AS max,
       task.task_id_make(42, 7) AS small;
SELECT count(*) AS mismatches
FROM generate_series(0, 9999, 101) AS o,
     unnest(ARRAY[0, 1, 999999999999, 123456789012, 1000000]::int8[]) AS s
WHERE task.task_id_owner(task.task_id_make(o, s)) <> o
   OR task.task_id_serial(task.task_id_make(o, s)) <> s
   OR task.task_id_make(o, s)::text::task.task_id <> task.task_id_make(o, s);

-- STRICT: NULL in, NULL out
SELECT task.task_id_make(NULL, 1) IS NULL AS a, task.task_id_make(1, NULL) IS NULL AS b,
       task.task_id_owner(NULL) IS NULL AS c, NULL::task.task_id IS NULL AS d;

-- casts: explicit and assignment, both ways
SELECT 'TSK-0001-2474-4798-1266'::text::task.task_id AS from_text,
       pg_typeof('TSK-0001-2474-4798-1266'::task.task_id::text) AS to_text;
CREATE TEMP TABLE cast_test (id task.task_id, label text);
INSERT INTO cast_test VALUES ('TSK-0002-0000-0000-0001'::text, 'TSK-0002-0000-0000-0002'::task.task_id);
SELECT * FROM cast_test;
DROP TABLE cast_test;

--
-- Comparison and ordering
--
SELECT a, b, a = b AS eq, a <> b AS ne, a < b AS lt, a <= b AS le,
       a > b AS gt, a >= b AS ge, task.task_id_cmp(a, b) AS cmp
FROM (VALUES
    ('TSK-0001-0000-0000-0001'::task.task_id, 'TSK-0001-0000-0000-0001'::task.task_id),
    ('TSK-0001-0000-0000-0001', 'TSK-0001-0000-0000-0002'),
    ('TSK-0002-0000-0000-0000', 'TSK-0001-9999-9999-9999'),
    ('TSK-0000-0000-0000-0000', 'TSK-9999-9999-9999-9999')) AS t(a, b);

-- order is owner first, then serial: the same as the text order
SELECT v FROM (VALUES ('TSK-0002-0000-0000-0000'::task.task_id),
                      ('TSK-0001-9999-9999-9999'), ('TSK-0000-0000-0000-0000'),
                      ('TSK-0001-0000-0000-0010'), ('TSK-0001-0000-0000-0009'),
                      ('TSK-9999-9999-9999-9999'))
         AS t(v)
ORDER BY v;

-- a sort of 10000 values (through the sort support) agrees with int8 order
SELECT count(*) AS out_of_order
FROM (SELECT task.task_id_serial(v) + task.task_id_owner(v) * 1000000000000 AS n,
             lag(task.task_id_serial(v) + task.task_id_owner(v) * 1000000000000)
                 OVER (ORDER BY v) AS prev
      FROM (SELECT task.task_id_make((i * 7919) % 10000, (i * 104729) % 1000000)
            FROM generate_series(1, 10000) AS i) AS t(v)) AS s
WHERE prev > n;

--
-- Hash support: the same hash as int8
--
SELECT task.task_id_hash(v) = hashint8(n) AS hash_as_int8,
       task.task_id_hash_extended(v, 0) = hashint8extended(n, 0) AS ext0_as_int8,
       task.task_id_hash_extended(v, 42) = hashint8extended(n, 42) AS ext42_as_int8
FROM (VALUES ('TSK-0000-0000-0000-0000'::task.task_id, 0::int8),
             ('TSK-0001-2474-4798-1266', 1247447981266),
             ('TSK-9999-9999-9999-9999', 9999999999999999)) AS t(v, n);

--
-- Catalog: the operators and opclasses the planner relies on
--
SELECT o.oprname, o.oprcanhash, o.oprcanmerge,
       o.oprcom::regoperator AS commutator, o.oprnegate::regoperator AS negator,
       o.oprrest, o.oprjoin
FROM pg_operator o
WHERE o.oprleft = 'task.task_id'::regtype AND o.oprright = 'task.task_id'::regtype
ORDER BY o.oprname;
SELECT am.amname, opc.opcname, opc.opcdefault
FROM pg_opclass opc JOIN pg_am am ON am.oid = opc.opcmethod
WHERE opc.opcintype = 'task.task_id'::regtype
ORDER BY am.amname;
SELECT p.proname, p.provolatile, p.proparallel, p.proisstrict, p.proleakproof
FROM pg_proc p
WHERE p.pronamespace = 'task'::regnamespace AND p.proname LIKE 'task\_id\_%'
ORDER BY p.proname;

--
-- B-tree index
--
CREATE TEMP TABLE tid (id task.task_id NOT NULL, n int NOT NULL);
INSERT INTO tid
SELECT task.task_id_make(i % 50, i), i FROM generate_series(1, 5000) AS i;
CREATE INDEX tid_btree ON tid (id);
ANALYZE tid;
SET enable_seqscan = off;
SET enable_bitmapscan = off;
EXPLAIN (COSTS OFF)
SELECT n FROM tid WHERE id = 'TSK-0007-0000-0000-0007';
SELECT n FROM tid WHERE id = 'TSK-0007-0000-0000-0007';
EXPLAIN (COSTS OFF)
SELECT id FROM tid WHERE id BETWEEN 'TSK-0003-0000-0000-0000' AND 'TSK-0003-0000-0000-0200'
ORDER BY id;
SELECT id FROM tid WHERE id BETWEEN 'TSK-0003-0000-0000-0000' AND 'TSK-0003-0000-0000-0200'
ORDER BY id;
-- ORDER BY ... LIMIT reads the index backwards
EXPLAIN (COSTS OFF)
SELECT id FROM tid ORDER BY id DESC LIMIT 3;
SELECT id FROM tid ORDER BY id DESC LIMIT 3;
-- a unique index rejects a duplicate
CREATE UNIQUE INDEX tid_unique ON tid (id);
INSERT INTO tid VALUES ('TSK-0007-0000-0000-0007', 0);
\echo :LAST_ERROR_SQLSTATE
DROP INDEX tid_unique;
DROP INDEX tid_btree;

--
-- Hash index, hash join, merge join, hash aggregate
--
CREATE INDEX tid_hash ON tid USING hash (id);
EXPLAIN (COSTS OFF)
SELECT n FROM tid WHERE id = 'TSK-0007-0000-0000-0007';
SELECT n FROM tid WHERE id = 'TSK-0007-0000-0000-0007';
DROP INDEX tid_hash;
RESET enable_seqscan;
RESET enable_bitmapscan;

CREATE TEMP TABLE tid2 AS
SELECT task.task_id_make(i % 50, i) AS id FROM generate_series(1, 5000, 7) AS i;
ANALYZE tid2;
SET enable_mergejoin = off;
SET enable_nestloop = off;
EXPLAIN (COSTS OFF)
SELECT count(*) FROM tid JOIN tid2 USING (id);
SELECT count(*) FROM tid JOIN tid2 USING (id);
RESET enable_mergejoin;
SET enable_hashjoin = off;
EXPLAIN (COSTS OFF)
SELECT count(*) FROM tid JOIN tid2 USING (id);
SELECT count(*) FROM tid JOIN tid2 USING (id);
RESET enable_hashjoin;
RESET enable_nestloop;

SET enable_sort = off;
EXPLAIN (COSTS OFF)
SELECT id, count(*) FROM (SELECT id FROM tid UNION ALL SELECT id FROM tid2) AS u
GROUP BY id;
SELECT count(*) AS groups, sum(c) AS rows
FROM (SELECT id, count(*) AS c FROM (SELECT id FROM tid UNION ALL SELECT id FROM tid2) AS u
      GROUP BY id) AS g;
RESET enable_sort;
SELECT count(DISTINCT id) AS distinct_ids FROM (SELECT id FROM tid UNION ALL SELECT id FROM tid2) AS u;

--
-- Malformed input: one full error, then every class in a table
--
SELECT 'tsk-0001-2474-4798-1266'::task.task_id;
\echo :LAST_ERROR_SQLSTATE

-- a 10 kB input is quoted as its first 40 bytes and "..."
SELECT repeat('TSK-0001-2474-4798-1266', 500)::task.task_id;
\echo :LAST_ERROR_SQLSTATE

CREATE FUNCTION pg_temp.try_task_id(input text)
RETURNS TABLE (state text, message text) LANGUAGE plpgsql AS $$
BEGIN
    PERFORM input::task.task_id;
    RETURN QUERY SELECT 'ok'::text, NULL::text;
EXCEPTION WHEN others THEN
    RETURN QUERY SELECT SQLSTATE::text, SQLERRM::text;
END
$$;

SELECT label, r.state, r.message
FROM (VALUES
    ('valid',                     'TSK-0001-2474-4798-1266'),
    ('lower-case prefix',         'tsk-0001-2474-4798-1266'),
    ('mixed-case prefix',         'Tsk-0001-2474-4798-1266'),
    ('wrong prefix',              'TSX-0001-2474-4798-1266'),
    ('service prefix',            'SVC-0001-2474-4798-1266'),
    ('no prefix',                 '0001-2474-4798-1266'),
    ('no hyphens',                'TSK0001247447981266'),
    ('underscore separator',      'TSK_0001_2474_4798_1266'),
    ('3-digit owner',             'TSK-001-2474-4798-1266'),
    ('5-digit owner',             'TSK-00001-2474-4798-1266'),
    ('3-digit group',             'TSK-0001-247-4798-1266'),
    ('5-digit group',             'TSK-0001-2474-47980-1266'),
    ('two serial groups',         'TSK-0001-2474-4798'),
    ('four serial groups',        'TSK-0001-2474-4798-1266-0000'),
    ('hyphens moved',             'TSK-00012-474-4798-1266'),
    ('letter in owner',           'TSK-00A1-2474-4798-1266'),
    ('letter in serial',          'TSK-0001-2474-4798-126x'),
    ('sign in serial',            'TSK-0001-+474-4798-1266'),
    ('fullwidth digit',           'TSK-0001-2474-4798-126１'),
    ('leading space',             ' TSK-0001-2474-4798-1266'),
    ('trailing space',            'TSK-0001-2474-4798-1266 '),
    ('trailing newline',          E'TSK-0001-2474-4798-1266\n'),
    ('leading tab',               E'\tTSK-0001-2474-4798-1266'),
    ('empty',                     ''),
    ('prefix only',               'TSK-'),
    ('10 kB',                     repeat('9', 10000)),
    ('38 x + 2-byte chars',       repeat('x', 38) || 'éé'),
    ('39 x + 2-byte chars',       repeat('x', 39) || 'éé')
) AS t(label, input),
LATERAL pg_temp.try_task_id(t.input) AS r;

-- the quote is cut at a character boundary, within 40 bytes
SELECT octet_length(t.input) AS input_bytes, octet_length(r.message) AS message_bytes,
       r.message
FROM (VALUES (repeat('x', 38) || 'éé'), (repeat('x', 39) || 'éé'),
             (repeat('é', 30))) AS t(input),
LATERAL pg_temp.try_task_id(t.input) AS r;

-- NUL: PostgreSQL refuses it before the type sees it (text cannot hold it)
SELECT E'TSK-0001\x00-2474-4798-1266'::task.task_id;
\echo :LAST_ERROR_SQLSTATE
SELECT convert_from('\x54534b2d3030303100'::bytea, 'UTF8')::task.task_id;
\echo :LAST_ERROR_SQLSTATE
SELECT ('TSK-0001' || chr(0))::task.task_id;
\echo :LAST_ERROR_SQLSTATE
-- and a backslash-escape spelled out is just a malformed id
SELECT E'TSK-0001\\x00-2474-4798-1266'::task.task_id;

--
-- task_id_make out of range
--
SELECT task.task_id_make(-1, 0);
\echo :LAST_ERROR_SQLSTATE
SELECT task.task_id_make(10000, 0);
\echo :LAST_ERROR_SQLSTATE
SELECT task.task_id_make(1, -1);
\echo :LAST_ERROR_SQLSTATE
SELECT task.task_id_make(1, 1000000000000);
\echo :LAST_ERROR_SQLSTATE

--
-- Binary send / receive
--
-- send is an int8 in network byte order
SELECT task.task_id_send('TSK-0000-0000-0000-0000') AS min,
       task.task_id_send('TSK-0001-2474-4798-1266') AS example,
       task.task_id_send('TSK-9999-9999-9999-9999') AS max,
       int8send(1247447981266) AS example_as_int8;

-- round trip through COPY (FORMAT binary): out to a file in the data
-- directory, back in, file removed (needs a superuser, as the suite runs)
CREATE TEMP TABLE bin_out AS
SELECT task.task_id_make(o, s) AS id
FROM unnest(ARRAY[0, 1, 9999]) AS o, unnest(ARRAY[0, 247447981266, 999999999999]::int8[]) AS s;
CREATE TEMP TABLE bin_in (id task.task_id);
COPY bin_out TO PROGRAM 'cat > task_id_regress.bin' (FORMAT binary);
COPY bin_in FROM PROGRAM 'cat task_id_regress.bin && rm -f task_id_regress.bin' (FORMAT binary);
SELECT count(*) AS copied, count(*) FILTER (WHERE o.id IS NULL) AS missing
FROM bin_in i LEFT JOIN bin_out o USING (id);
SELECT id FROM bin_in ORDER BY id;

-- hand-made binary COPY data: header, one row of one 8-byte field, trailer;
-- the errors below show their COPY context
\set SHOW_CONTEXT errors
TRUNCATE bin_in;
-- TSK-0001-2474-4798-1266 = 1247447981266
COPY bin_in FROM PROGRAM 'printf ''PGCOPY\n\377\r\n\000\000\000\000\000\000\000\000\000\000\001\000\000\000\010\000\000\001\042\161\261\234\322\377\377''' (FORMAT binary);
-- the largest value, 9999999999999999
COPY bin_in FROM PROGRAM 'printf ''PGCOPY\n\377\r\n\000\000\000\000\000\000\000\000\000\000\001\000\000\000\010\000\043\206\362\157\300\377\377\377\377''' (FORMAT binary);
SELECT id FROM bin_in ORDER BY id;
-- one past the largest, 10^16
COPY bin_in FROM PROGRAM 'printf ''PGCOPY\n\377\r\n\000\000\000\000\000\000\000\000\000\000\001\000\000\000\010\000\043\206\362\157\301\000\000\377\377''' (FORMAT binary);
\echo :LAST_ERROR_SQLSTATE
-- negative, -1
COPY bin_in FROM PROGRAM 'printf ''PGCOPY\n\377\r\n\000\000\000\000\000\000\000\000\000\000\001\000\000\000\010\377\377\377\377\377\377\377\377\377\377''' (FORMAT binary);
\echo :LAST_ERROR_SQLSTATE
-- a 4-byte field is too short for an int8
COPY bin_in FROM PROGRAM 'printf ''PGCOPY\n\377\r\n\000\000\000\000\000\000\000\000\000\000\001\000\000\000\004\000\000\000\001\377\377''' (FORMAT binary);
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) AS rows_after_errors FROM bin_in;

DROP TABLE tid, tid2, bin_out, bin_in;

-- min() and max() (need task on the search_path, like the operators)
SET search_path = task, public;
SELECT min(v), max(v) FROM (VALUES ('TSK-0002-0000-0000-0001'::task_id), ('TSK-0001-9999-9999-9999'), ('TSK-0001-0000-0000-0005')) t(v);
SELECT min(v) IS NULL AS empty_min FROM (SELECT 'TSK-0001-0000-0000-0001'::task_id WHERE false) t(v);
