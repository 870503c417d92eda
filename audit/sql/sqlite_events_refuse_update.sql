-- Stored events are never changed: a correction is a new event.
CREATE TRIGGER IF NOT EXISTS {table}_refuse_update BEFORE UPDATE ON {table}
BEGIN
    SELECT RAISE(ABORT, 'stored events are immutable: UPDATE refused');
END
