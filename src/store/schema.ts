/**
 * The schema of STATE_DIR/state.db, as numbered migrations. `PRAGMA user_version` says how many
 * ran; start-up runs the missing ones in one transaction each and refuses a database whose
 * version is newer than this binary knows (an older binary must not guess at newer tables).
 * Append a migration for every change; never edit one that shipped.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: sessions, tasks and their patches, conversations, approvals, kept events, the epoch.
  `
  CREATE TABLE meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    repo TEXT NOT NULL,
    label TEXT,
    via TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    token_expires_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    last_activity_at INTEGER NOT NULL
  );

  CREATE TABLE tasks (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    ord INTEGER NOT NULL,
    instruction TEXT NOT NULL,
    agent TEXT NOT NULL,
    branch TEXT,
    context TEXT,
    status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled', 'applied')),
    phase TEXT,
    created_at TEXT NOT NULL,
    started_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    ended_at TEXT,
    exit_code INTEGER,
    error TEXT,
    patch_count INTEGER NOT NULL DEFAULT 0,
    commit_sha TEXT,
    workspace_dir TEXT,
    baseline TEXT,
    agent_session_id TEXT
  );
  CREATE INDEX tasks_by_session ON tasks(session_id, ord);

  CREATE TABLE task_patches (
    task_id TEXT PRIMARY KEY REFERENCES tasks(id) ON DELETE CASCADE,
    patches TEXT NOT NULL
  );

  CREATE TABLE messages (
    ord INTEGER PRIMARY KEY AUTOINCREMENT,
    task_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    message_id TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('agent', 'user')),
    content TEXT NOT NULL,
    ts TEXT NOT NULL,
    UNIQUE (task_id, message_id)
  );

  CREATE TABLE approvals (
    message_id TEXT PRIMARY KEY,
    task_id TEXT NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
    content TEXT NOT NULL,
    tool TEXT NOT NULL,
    options TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'allowed', 'rejected', 'expired', 'cancelled')),
    created_at TEXT NOT NULL,
    expires_at TEXT,
    resolved_at TEXT,
    outcome TEXT,
    option_id TEXT,
    by TEXT
  );
  CREATE INDEX approvals_by_task ON approvals(task_id, created_at);

  -- The kept events of each session (what the in-memory ring holds), for resume after a restart:
  -- one row per session per written batch, body a JSON array of the events first_seq..last_seq.
  CREATE TABLE event_batches (
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    first_seq INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (session_id, first_seq)
  ) WITHOUT ROWID;

  -- The newest written seq of each session, kept even when its events are trimmed; open_from is
  -- the first seq of a batch not written yet (set when the batch opens, cleared when it is
  -- written): set at start-up, events from there on were lost with the process.
  CREATE TABLE event_seqs (
    session_id TEXT PRIMARY KEY REFERENCES sessions(id) ON DELETE CASCADE,
    last_seq INTEGER NOT NULL,
    open_from INTEGER
  ) WITHOUT ROWID;
  `,
  // 2: start-up asks for the tasks a killed server left pending or running; without an index that
  // read every task row (10 000 tasks: 20-35 ms of start to healthy). Partial: it holds only
  // unfinished tasks, so it stays a few entries long whatever the history.
  `
  CREATE INDEX tasks_unfinished ON tasks(ord) WHERE status IN ('pending', 'running');
  `,
  // 3: event_batches as an ordinary (rowid) table. Its rows are whole batches, 100 KB to over
  // 1 MB while an agent floods, and a WITHOUT ROWID table keeps such rows inside its key's
  // b-tree, where SQLite advises small rows only. Measured on the write-behind's transactions
  // while an agent printed 1 Mi characters a second for 6 s (scripts/bench-flood.ts's load, from
  // source): trimming the oldest batch took 8-16 ms each time (205 ms in 28 trims), and
  // transactions holding the event loop over 2 ms summed to 418 ms, 22 of them over 8 ms; as a
  // rowid table no trim took 2 ms, they summed to 134 ms, 3 over 8 ms. Same columns and key.
  `
  CREATE TABLE event_batches_rowid (
    session_id TEXT NOT NULL REFERENCES sessions(id) ON DELETE CASCADE,
    first_seq INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (session_id, first_seq)
  );
  INSERT INTO event_batches_rowid (session_id, first_seq, last_seq, body) SELECT session_id, first_seq, last_seq, body FROM event_batches;
  DROP TABLE event_batches;
  ALTER TABLE event_batches_rowid RENAME TO event_batches;
  `,
]

export const SCHEMA_VERSION = MIGRATIONS.length
