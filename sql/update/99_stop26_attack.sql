\echo Use "ALTER EXTENSION task UPDATE" to load this file. \quit
--
-- Stop 26, attack review. A party's accept of a dispute's split may name
-- the amount it read (agent_amount): when the other party proposed
-- another split meanwhile, the accept is refused (55000) and nothing is
-- accepted, instead of accepting the new split unseen.
-- @replace function task.task_dispute_resolve
