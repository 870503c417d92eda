-- Stored events are never removed: erasure destroys a data subject's key, not the event.
CREATE TRIGGER IF NOT EXISTS {table}_refuse_delete BEFORE DELETE ON {table}
BEGIN
    SELECT RAISE(ABORT, 'stored events are immutable: DELETE refused');
END
