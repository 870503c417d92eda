-- ... nor all at once.
CREATE OR REPLACE TRIGGER aqp_refuse_truncate BEFORE TRUNCATE ON {schema}.{table}
FOR EACH STATEMENT EXECUTE FUNCTION {schema}.aqp_refuse_change()
