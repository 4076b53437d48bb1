-- People, their sessions and API tokens, and read-only share links. Secrets are never
-- stored: only their SHA-256 (hex). Times here are Unix seconds, compared in Rust.

CREATE TABLE people (
    name          TEXT PRIMARY KEY NOT NULL,
    role          TEXT NOT NULL,
    -- Argon2id PHC string; NULL until the person sets a password.
    password_hash TEXT,
    created_at    INTEGER NOT NULL
);

-- One-time login links printed by `runboard user add`.
CREATE TABLE login_links (
    secret_hash TEXT PRIMARY KEY NOT NULL,
    person      TEXT NOT NULL REFERENCES people(name) ON DELETE CASCADE,
    expires_at  INTEGER NOT NULL
);

-- A link shares one run (run_id) or one experiment (experiment), read-only.
-- created_by NULL: the built-in admin (the server token).
CREATE TABLE share_links (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    secret_hash TEXT NOT NULL UNIQUE,
    run_id      TEXT REFERENCES runs(run_id),
    experiment  TEXT,
    created_by  TEXT REFERENCES people(name) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER
);

-- Browser sessions. person NULL and share_link NULL: the built-in admin (`?token=`).
-- Removing a person or revoking a link deletes their sessions.
CREATE TABLE sessions (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    secret_hash TEXT NOT NULL UNIQUE,
    person      TEXT REFERENCES people(name) ON DELETE CASCADE,
    share_link  INTEGER REFERENCES share_links(id) ON DELETE CASCADE,
    created_at  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL
);

-- Personal API tokens (bearer). person NULL: the built-in admin.
CREATE TABLE api_tokens (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    secret_hash TEXT NOT NULL UNIQUE,
    person      TEXT REFERENCES people(name) ON DELETE CASCADE,
    label       TEXT NOT NULL,
    created_at  INTEGER NOT NULL
);

ALTER TABLE runs ADD COLUMN submitted_by TEXT;
