-- The event table on SQLite. The notification id is declared as the table's rowid
-- (INTEGER PRIMARY KEY) so VACUUM can never renumber it, and AUTOINCREMENT so an id is
-- never reused. The Merkle log hashes the notification id, so a renumbering would break it.
CREATE TABLE IF NOT EXISTS {table} (
    originator_id TEXT NOT NULL,
    originator_version INTEGER NOT NULL,
    topic TEXT NOT NULL,
    state BLOB NOT NULL,
    rowid INTEGER PRIMARY KEY AUTOINCREMENT,
    UNIQUE (originator_id, originator_version)
)
