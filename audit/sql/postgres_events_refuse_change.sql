-- Stored events are never changed or removed, row by row.
CREATE OR REPLACE TRIGGER aqp_refuse_change BEFORE UPDATE OR DELETE ON {schema}.{table}
FOR EACH ROW EXECUTE FUNCTION {schema}.aqp_refuse_change()
