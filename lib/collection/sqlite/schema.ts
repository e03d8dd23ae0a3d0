// The SQLite layout of a collection (format 1): settings, items with their vectors, and the
// journal of changes the index snapshot does not hold yet.

/**
 * WAL with synchronous=FULL: a committed transaction survives a crash or power loss, and readers
 * never see half a batch.
 */
export const PRAGMAS = ['journal_mode = WAL', 'synchronous = FULL'];

export const SCHEMA = `
  CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    source TEXT,
    hash TEXT NOT NULL UNIQUE,
    width INTEGER,
    height INTEGER,
    metadata TEXT NOT NULL DEFAULT '{}',
    added_at INTEGER NOT NULL,
    vector BLOB NOT NULL
  );
  CREATE TABLE IF NOT EXISTS changes (seq INTEGER PRIMARY KEY AUTOINCREMENT, op TEXT NOT NULL, id INTEGER NOT NULL);
`;

/** The file of the database inside the collection directory. */
export const DATABASE_FILE = 'collection.db';
