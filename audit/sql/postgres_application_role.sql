-- The two-role set-up for production, run by the owner role (which creates the tables and
-- runs migrations). The application role that serves requests may read and append stored
-- events, never change or remove them: even with the triggers dropped it cannot UPDATE,
-- DELETE or TRUNCATE. It takes the event table's write lock through aqp_lock_events(),
-- a SECURITY DEFINER function, because LOCK ... IN EXCLUSIVE MODE needs UPDATE privilege.
--   {role}: the application's login role; {schema}.{table}: the event table.
GRANT USAGE ON SCHEMA {schema} TO {role};
GRANT SELECT, INSERT ON {schema}.{table} TO {role};
REVOKE UPDATE, DELETE, TRUNCATE ON {schema}.{table} FROM {role};
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {schema} TO {role};
GRANT EXECUTE ON FUNCTION {schema}.aqp_lock_events() TO {role};
