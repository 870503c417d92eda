-- Append-only tables (stored events, signed checkpoints): no row is changed or removed.
CREATE OR REPLACE TRIGGER aqp_refuse_change BEFORE UPDATE OR DELETE ON {schema}.{table}
FOR EACH ROW EXECUTE FUNCTION {schema}.aqp_refuse_change()
