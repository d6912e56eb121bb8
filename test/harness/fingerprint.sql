-- The catalog fingerprint of the installed extension "task": one line per
-- object, column, constraint, index, policy, trigger, privilege and
-- comment, sorted. Two databases whose fingerprints are equal have the
-- same schema (test/harness/upgrade.sh compares a fresh install with an
-- updated one). Column order is ignored (ALTER TABLE ADD COLUMN appends).
\pset format unaligned
\pset tuples_only on
WITH ext AS (
    SELECT d.classid, d.objid FROM pg_catalog.pg_depend d
     WHERE d.refclassid = 'pg_catalog.pg_extension'::regclass AND d.deptype = 'e'
       AND d.refobjid = (SELECT oid FROM pg_catalog.pg_extension WHERE extname = 'task')
), rels AS (
    SELECT c.oid, c.relkind FROM pg_catalog.pg_class c JOIN ext ON ext.classid = 'pg_catalog.pg_class'::regclass AND ext.objid = c.oid
)
SELECT line FROM (
    -- every member object, by its identity
    SELECT 'object ' || pg_catalog.pg_describe_object(classid, objid, 0) AS line FROM ext
    UNION ALL
    -- functions: whole definition (body, volatility, security, settings)
    SELECT 'function ' || p.oid::regprocedure || E'\n' || pg_catalog.pg_get_functiondef(p.oid)
      FROM pg_catalog.pg_proc p JOIN ext ON ext.classid = 'pg_catalog.pg_proc'::regclass AND ext.objid = p.oid
     WHERE p.prokind IN ('f', 'p', 'w')
    UNION ALL
    SELECT 'proacl ' || p.oid::regprocedure || ' ' || coalesce(p.proacl::text, 'default')
      FROM pg_catalog.pg_proc p JOIN ext ON ext.classid = 'pg_catalog.pg_proc'::regclass AND ext.objid = p.oid
    UNION ALL
    -- columns of tables, views, sequences and composite types
    SELECT 'column ' || a.attrelid::regclass || '.' || a.attname || ' ' || pg_catalog.format_type(a.atttypid, a.atttypmod)
           || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
           || coalesce(' default ' || pg_catalog.pg_get_expr(ad.adbin, ad.adrelid), '')
           || coalesce(' acl ' || a.attacl::text, '')
      FROM pg_catalog.pg_attribute a JOIN rels r ON r.oid = a.attrelid
      LEFT JOIN pg_catalog.pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
     WHERE a.attnum > 0 AND NOT a.attisdropped
    UNION ALL
    SELECT 'relation ' || c.oid::regclass || ' kind ' || c.relkind::text || ' rls ' || c.relrowsecurity || ' force ' || c.relforcerowsecurity
           || ' acl ' || coalesce(c.relacl::text, 'default') || coalesce(' options ' || c.reloptions::text, '')
      FROM pg_catalog.pg_class c JOIN rels r ON r.oid = c.oid
    UNION ALL
    SELECT 'view ' || c.oid::regclass || ' ' || pg_catalog.pg_get_viewdef(c.oid)
      FROM pg_catalog.pg_class c JOIN rels r ON r.oid = c.oid WHERE c.relkind IN ('v', 'm')
    UNION ALL
    SELECT 'sequence ' || s.seqrelid::regclass || ' ' || s.seqtypid::regtype || ' ' || s.seqstart || ' ' || s.seqincrement
           || ' ' || s.seqmin || ' ' || s.seqmax || ' ' || s.seqcache || ' ' || s.seqcycle
      FROM pg_catalog.pg_sequence s JOIN rels r ON r.oid = s.seqrelid
    UNION ALL
    SELECT 'constraint ' || co.conrelid::regclass || ' ' || co.conname || ' ' || pg_catalog.pg_get_constraintdef(co.oid)
      FROM pg_catalog.pg_constraint co JOIN rels r ON r.oid = co.conrelid
    UNION ALL
    SELECT 'index ' || pg_catalog.pg_get_indexdef(i.indexrelid)
      FROM pg_catalog.pg_index i JOIN rels r ON r.oid = i.indrelid
    UNION ALL
    SELECT 'trigger ' || pg_catalog.pg_get_triggerdef(t.oid) || ' enabled ' || t.tgenabled::text
      FROM pg_catalog.pg_trigger t JOIN rels r ON r.oid = t.tgrelid WHERE NOT t.tgisinternal
    UNION ALL
    SELECT 'policy ' || p.polrelid::regclass || ' ' || p.polname || ' cmd ' || p.polcmd::text || ' permissive ' || p.polpermissive
           || ' roles ' || (SELECT pg_catalog.string_agg(CASE WHEN rr = 0 THEN 'public' ELSE pg_catalog.pg_get_userbyid(rr)::text END, ',' ORDER BY 1)
                              FROM pg_catalog.unnest(p.polroles) rr)
           || coalesce(' using ' || pg_catalog.pg_get_expr(p.polqual, p.polrelid), '')
           || coalesce(' check ' || pg_catalog.pg_get_expr(p.polwithcheck, p.polrelid), '')
      FROM pg_catalog.pg_policy p JOIN rels r ON r.oid = p.polrelid
    UNION ALL
    SELECT 'enum ' || e.enumtypid::regtype || ' ' || e.enumlabel || ' ' || pg_catalog.rank() OVER (PARTITION BY e.enumtypid ORDER BY e.enumsortorder)
      FROM pg_catalog.pg_enum e JOIN ext ON ext.classid = 'pg_catalog.pg_type'::regclass AND ext.objid = e.enumtypid
    UNION ALL
    SELECT 'schema ' || n.nspname || ' acl ' || coalesce(n.nspacl::text, 'default')
      FROM pg_catalog.pg_namespace n JOIN ext ON ext.classid = 'pg_catalog.pg_namespace'::regclass AND ext.objid = n.oid
    UNION ALL
    SELECT 'config_dump ' || c::regclass || ' ' || coalesce(cond, '')
      FROM pg_catalog.pg_extension x, unnest(x.extconfig, x.extcondition) AS u(c, cond)
     WHERE x.extname = 'task'
    UNION ALL
    -- comments on member objects and on their columns
    SELECT 'comment ' || pg_catalog.pg_describe_object(d.classoid, d.objoid, d.objsubid) || ': ' || d.description
      FROM pg_catalog.pg_description d
     WHERE (d.classoid, d.objoid) IN (SELECT classid, objid FROM ext)
) f
ORDER BY line COLLATE "C";
