-- Append-only: nothing is removed; erasure destroys a data subject's key, not the event.
CREATE TRIGGER IF NOT EXISTS {table}_refuse_delete BEFORE DELETE ON {table}
BEGIN
    SELECT RAISE(ABORT, '{table} is append-only: DELETE refused');
END
