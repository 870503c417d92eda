-- Serialises appends so notification ids commit in order (the Merkle log relies on it).
-- SECURITY DEFINER: runs with the owner's right to take the lock, so the application role
-- needs no UPDATE, DELETE or TRUNCATE privilege on the event table.
CREATE OR REPLACE FUNCTION {schema}.aqp_lock_events() RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
BEGIN
    LOCK TABLE {schema}.{table} IN EXCLUSIVE MODE;
END
$$
