-- Raised by the triggers that keep append-only tables append-only.
CREATE OR REPLACE FUNCTION {schema}.aqp_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
