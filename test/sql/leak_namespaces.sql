-- Namespaces that cannot overlap (issue 16): a service's queues are named
-- <namespace>/..., so one namespace inside another would let the outer
-- service squat the inner one's queue names. task_service_create refuses a
-- namespace that contains, or lies inside, an existing one -- in either
-- order -- and accepts one that only shares a prefix of characters.
\set VERBOSITY default
\set SHOW_CONTEXT never
SET search_path = task, public;

CREATE FUNCTION pg_temp.try(sql text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE sql;
    RETURN 'ok';
EXCEPTION WHEN OTHERS THEN
    RETURN SQLSTATE || ' ' || SQLERRM;
END
$$;

SELECT pg_temp.try($$SELECT task.task_service_create('lkn-gamma', 'lkn/gamma')$$) AS gamma;
-- inside it, or it inside: refused
SELECT pg_temp.try($$SELECT task.task_service_create('lkn-gamma-child', 'lkn/gamma/child')$$) AS child_after_parent;
SELECT pg_temp.try($$SELECT task.task_service_create('lkn-gamma-deep', 'lkn/gamma/child/deep')$$) AS grandchild;
SELECT pg_temp.try($$SELECT task.task_service_create('lkn-delta-child', 'lkn/delta/child')$$) AS delta_child;
SELECT pg_temp.try($$SELECT task.task_service_create('lkn-delta', 'lkn/delta')$$) AS parent_after_child;
SELECT pg_temp.try($$SELECT task.task_service_create('lkn-root', 'lkn')$$) AS root_over_both;
-- the same namespace: refused as before
SELECT pg_temp.try($$SELECT task.task_service_create('lkn-gamma-2', 'lkn/gamma')$$) AS same_namespace;
-- a refused duplicate uses up no service number (there are 9999, never reused)
SELECT last_value AS svc_seq_before FROM task.service_id_seq \gset
SELECT pg_temp.try($$SELECT task.task_service_create('lkn-gamma-2', 'lkn/gamma')$$) AS same_namespace_again;
SELECT pg_temp.try($$SELECT task.task_service_create('lkn-gamma', 'lkn/gamma-2')$$) AS same_name;
SELECT last_value = :svc_seq_before AS no_number_used FROM task.service_id_seq;
-- a shared prefix of characters is not nesting
SELECT pg_temp.try($$SELECT task.task_service_create('lkn-gammas', 'lkn/gammas')$$) AS gammas;
SELECT pg_temp.try($$SELECT task.task_service_create('lkn-gam', 'lkn/gam')$$) AS gam;
SELECT pg_temp.try($$SELECT task.task_service_create('lkn-delta-sibling', 'lkn/delta/sibling')$$) AS delta_sibling;

SELECT name, namespace FROM task.service WHERE name LIKE 'lkn-%' ORDER BY namespace;

-- so a queue name belongs to one namespace only: the parent cannot make
-- a queue under the child's name
SELECT s.id AS gamma_id FROM task.service s WHERE s.name = 'lkn-gamma' \gset
SELECT regexp_replace(pg_temp.try(format($$SELECT task.task_queue_create('lkn/gammas/q', owner => %L)$$,
                                         task.service_text(:gamma_id))), 'SVC-\d{4}', 'SVC-NNNN') AS gamma_squats_gammas;
