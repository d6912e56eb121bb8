\echo Use "ALTER EXTENSION task UPDATE" to load this file. \quit
--
-- The marketplace's tables and the hooks the core calls (issue 13), before
-- any fragment replaces a core function whose body calls them (SQL
-- function bodies are checked when they are created). The rest of the
-- marketplace: 60_market.sql.

-- @include sql/22_market_tables.sql
-- @include sql/54_market_hooks.sql
