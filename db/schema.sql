-- db/schema.sql — the dynn results database (SQLite), schema version 7.
--
-- Embedded in the binary (db/schema_sql.c) and run on an empty database; older databases are
-- brought up to date by the migrations in db/db.c (PRAGMA user_version holds the version).
-- Times are Unix seconds (REAL, UTC). Documented in docs/FORMATS.md, "Results database".

-- One row per experiment name (the `name:` of an experiment file).
CREATE TABLE experiments (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  REAL NOT NULL
);

-- One row per `dynn run`, with the provenance of the binary and the machine.
CREATE TABLE runs (
    id            INTEGER PRIMARY KEY,
    uuid          TEXT NOT NULL UNIQUE,
    experiment_id INTEGER NOT NULL REFERENCES experiments(id),
    spec_path     TEXT NOT NULL,             -- experiment file as given on the command line
    spec_sha256   TEXT NOT NULL,             -- hash of its bytes
    status        TEXT NOT NULL CHECK (status IN ('RUNNING', 'FINISHED', 'FAILED', 'KILLED')),
    started_at    REAL NOT NULL,
    ended_at      REAL,
    git_commit    TEXT NOT NULL,             -- of the dynn build
    git_dirty     INTEGER NOT NULL,
    host          TEXT NOT NULL,
    cpu_model     TEXT NOT NULL,
    compiler      TEXT NOT NULL,
    cflags        TEXT NOT NULL,
    dynn_version  TEXT NOT NULL,
    build_id      TEXT NOT NULL,             -- part of every stage cache key
    seed          INTEGER NOT NULL,
    argv          TEXT NOT NULL,             -- the dynn command line
    pid           INTEGER NOT NULL,          -- of the runner, to tell a crashed run from a live one
    pid_start     INTEGER NOT NULL           -- its start time (clock ticks since boot)
);
CREATE INDEX runs_started ON runs(started_at);

-- One row per stage instance of a run. A CACHED row points at the FINISHED row whose records it reuses.
CREATE TABLE stages (
    id           INTEGER PRIMARY KEY,
    run_id       INTEGER NOT NULL REFERENCES runs(id),
    name         TEXT NOT NULL,              -- instance name, "train@method=uniform,seed=1"
    stage        TEXT NOT NULL,              -- the stage it was expanded from, "train"
    type         TEXT NOT NULL,
    key          TEXT,                       -- SHA-256 cache key, known once its inputs are
    status       TEXT NOT NULL CHECK (status IN ('QUEUED', 'RUNNING', 'FINISHED', 'FAILED', 'KILLED', 'CACHED', 'SKIPPED')),
    cached_from  INTEGER REFERENCES stages(id),
    threads      INTEGER NOT NULL,
    started_at   REAL,
    ended_at     REAL,
    exit_code    INTEGER,
    error        TEXT,
    log          TEXT,                       -- path of the stage's log file
    UNIQUE (run_id, name)
);
CREATE INDEX stages_finished_key ON stages(key, ended_at) WHERE status = 'FINISHED';  -- cache lookups

-- Cache entries `dynn fsck --repair` found unusable (an artifact's object missing from the store or
-- not matching its hash): the FINISHED stage is never a cache hit again; its records stay. Version 4.
CREATE TABLE cache_voided (
    stage_id   INTEGER PRIMARY KEY REFERENCES stages(id),
    reason     TEXT NOT NULL,
    voided_at  REAL NOT NULL
);

-- The stage graph of a run: stage_id needed needs_stage_id (both instances of the same run). Version 2.
CREATE TABLE stage_needs (
    stage_id        INTEGER NOT NULL REFERENCES stages(id),
    needs_stage_id  INTEGER NOT NULL REFERENCES stages(id),
    PRIMARY KEY (stage_id, needs_stage_id)
) WITHOUT ROWID;

-- A stage instance's params, flattened: "cmd.0", "env.LC_ALL", "matrix.seed".
CREATE TABLE params (
    stage_id  INTEGER NOT NULL REFERENCES stages(id),
    name      TEXT NOT NULL,
    value     TEXT NOT NULL,
    PRIMARY KEY (stage_id, name)
) WITHOUT ROWID;

-- Files a stage produced, content-addressed under <state dir>/store/.
CREATE TABLE artifacts (
    id        INTEGER PRIMARY KEY,
    stage_id  INTEGER NOT NULL REFERENCES stages(id),
    name      TEXT NOT NULL,
    kind      TEXT NOT NULL,                 -- "file": a workspace file (exec outs); others: store only
    hash      TEXT NOT NULL,                 -- SHA-256 of the content
    path      TEXT NOT NULL,                 -- store path relative to the state directory
    size      INTEGER NOT NULL,
    UNIQUE (stage_id, name)
);

CREATE TABLE metrics (
    id        INTEGER PRIMARY KEY,
    stage_id  INTEGER NOT NULL REFERENCES stages(id),
    subnet    TEXT,                          -- NULL when the metric is not about one subnet
    name      TEXT NOT NULL,
    value     REAL,                          -- NULL for NaN
    step      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX metrics_stage ON metrics(stage_id);

-- Profiling results (filled by the profile stage); every latency sample is kept. What was measured
-- lives here, the conditions it was measured under in `conditions` (version 5; before, platform,
-- batch, threads, cpus and frequency_khz were columns of a table named measurements).
CREATE TABLE measurement_results (
    id             INTEGER PRIMARY KEY,
    stage_id       INTEGER NOT NULL REFERENCES stages(id),
    subnet         TEXT,
    energy_j       REAL,                     -- all timed samples together (per inference: / n_samples)
    n_samples      INTEGER NOT NULL,
    subnet_index   INTEGER,                  -- (version 3) position of the subnet in the model
    macs           INTEGER,                  -- (version 3) multiply-accumulates per image
    peak_rss_kib   INTEGER,                  -- (version 3) peak resident memory of the profiler
    avg_power_w    REAL,                     -- (version 3) mean power while timing
    instructions   INTEGER,                  -- (version 6) of one forward pass, counted (condition counter)
    cpu_share      REAL,                     -- (version 7) process CPU time / (wall x threads) of the timed loop
    wait_share     REAL,                     -- (version 7) its threads' run delay / (wall x threads)
    others_share   REAL,                     -- (version 7) other work on the measured CPUs / (wall x CPUs)
    attempts       INTEGER,                  -- (version 7) timed loops run (a disturbed point is measured again)
    interference_flagged INTEGER NOT NULL DEFAULT 0 -- (version 7) 1: disturbed on every attempt: not a latency
);
CREATE INDEX measurements_stage ON measurement_results(stage_id);

-- A measurement's conditions, one row per key that is set (keys: the registry in db/conditions.h;
-- INT keys are stored as integers, TEXT keys as text). Version 5.
CREATE TABLE conditions (
    measurement_id  INTEGER NOT NULL REFERENCES measurement_results(id),
    key             TEXT NOT NULL,
    value           NOT NULL,
    PRIMARY KEY (measurement_id, key)
) WITHOUT ROWID;
CREATE INDEX conditions_key ON conditions(key, value);

-- The measurements as one row each with the conditions of schema version 4 as columns, as
-- `dynn query` and scripts knew them (read-only; other keys: join conditions).
CREATE VIEW measurements AS
SELECT r.id, r.stage_id,
       COALESCE((SELECT c.value FROM conditions c WHERE c.measurement_id = r.id AND c.key = 'platform'), '') AS platform,
       r.subnet,
       (SELECT c.value FROM conditions c WHERE c.measurement_id = r.id AND c.key = 'batch') AS batch,
       (SELECT c.value FROM conditions c WHERE c.measurement_id = r.id AND c.key = 'threads') AS threads,
       (SELECT c.value FROM conditions c WHERE c.measurement_id = r.id AND c.key = 'cpus') AS cpus,
       (SELECT c.value FROM conditions c WHERE c.measurement_id = r.id AND c.key = 'cpu_freq') AS frequency_khz,
       r.energy_j, r.n_samples, r.subnet_index, r.macs, r.peak_rss_kib, r.avg_power_w
FROM measurement_results r;

CREATE TABLE latency_samples (
    measurement_id  INTEGER NOT NULL REFERENCES measurement_results(id),
    idx             INTEGER NOT NULL,
    latency_s       REAL NOT NULL,
    PRIMARY KEY (measurement_id, idx)
) WITHOUT ROWID;
