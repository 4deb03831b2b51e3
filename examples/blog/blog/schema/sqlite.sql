-- The blog's tables for SQLite. Run by `demijohn --app blog init-db`;
-- IF NOT EXISTS makes running it again harmless.
-- Times are ISO 8601 UTC text written by the app, so both databases return
-- the same values.

CREATE TABLE IF NOT EXISTS users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT UNIQUE NOT NULL,
    password_hash TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS posts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    author_id INTEGER NOT NULL REFERENCES users (id),
    created TEXT NOT NULL,
    title TEXT NOT NULL,
    body TEXT NOT NULL
);

CREATE INDEX IF NOT EXISTS posts_by_created ON posts (created);
