-- Backtest Notebook catalog, schema version 1 (docs/catalog.md). The whole DDL lives here;
-- later versions add migration steps in migrations.ts. All timestamps are UTC: ISO-8601 text
-- with 'Z' (millisecond precision) or integer nanoseconds since the epoch (*_ts_* columns).
-- STRICT tables: a value of the wrong type is an error, never silently coerced.

-- One symbol over a date range, built from one or more DBN sources (docs/bars.md).
CREATE TABLE datasets (
  dataset_id        TEXT PRIMARY KEY CHECK (dataset_id GLOB 'ds_[0-9a-f]*' AND length(dataset_id) = 19),
  symbol            TEXT NOT NULL CHECK (symbol <> ''),
  databento_dataset TEXT,                       -- e.g. GLBX.MDP3; NULL for synthetic data
  schemas           TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(schemas) AND json_type(schemas) = 'array'),
  range_start       TEXT,                       -- first bar ts (after derive) else first source ts_recv, ISO UTC
  range_end         TEXT,                       -- exclusive end, ISO UTC
  bar_count         INTEGER CHECK (bar_count IS NULL OR bar_count >= 0),
  bars_path         TEXT,                       -- relative to the data dir
  manifest          TEXT CHECK (manifest IS NULL OR json_valid(manifest)),
  derive_version    INTEGER NOT NULL CHECK (derive_version >= 0),
  status            TEXT NOT NULL DEFAULT 'imported'
                    CHECK (status IN ('imported', 'deriving', 'ready', 'failed')),
  error             TEXT,
  created_at        TEXT NOT NULL,
  updated_at        TEXT NOT NULL
) STRICT;
CREATE INDEX datasets_by_symbol ON datasets (symbol, range_start);

-- The DBN files a dataset was built from, content-addressed in the raw cache (docs/data-layout.md).
CREATE TABLE dataset_sources (
  dataset_id    TEXT NOT NULL REFERENCES datasets (dataset_id) ON DELETE CASCADE,
  sha256        TEXT NOT NULL CHECK (sha256 GLOB '[0-9a-f]*' AND length(sha256) = 64),
  path          TEXT NOT NULL,                  -- raw cache path, relative to the data dir
  original_name TEXT,                           -- the file name it was imported from
  schema        TEXT NOT NULL,                  -- 'trades' | 'tbbo'
  dbn_version   INTEGER NOT NULL CHECK (dbn_version BETWEEN 1 AND 3),
  bytes         INTEGER NOT NULL CHECK (bytes >= 0),
  records       INTEGER NOT NULL CHECK (records >= 0),  -- records of this dataset's symbol
  first_ts_recv INTEGER,                        -- ns UTC
  last_ts_recv  INTEGER,                        -- ns UTC
  meta_start    INTEGER,                        -- metadata start, ns UTC
  meta_end      INTEGER,                        -- metadata end, ns UTC (NULL = open)
  PRIMARY KEY (dataset_id, sha256)
) STRICT;
CREATE INDEX dataset_sources_by_sha ON dataset_sources (sha256);

-- One backtest run (docs/catalog.md). run_id is a ULID: its text order is its creation order.
CREATE TABLE runs (
  run_id         TEXT PRIMARY KEY CHECK (length(run_id) = 26),
  input_hash     TEXT NOT NULL CHECK (length(input_hash) = 64),
  status         TEXT NOT NULL DEFAULT 'queued'
                 CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'canceled')),
  dataset_id     TEXT NOT NULL REFERENCES datasets (dataset_id),
  symbol         TEXT,                          -- denormalised from the dataset for search
  strategy_id    TEXT NOT NULL,
  params         TEXT NOT NULL CHECK (json_valid(params)),
  seed           INTEGER NOT NULL,
  costs          TEXT NOT NULL CHECK (json_valid(costs)),
  session        TEXT NOT NULL,
  code_hash      TEXT NOT NULL,
  engine_version TEXT NOT NULL,
  artifacts_dir  TEXT,                          -- relative to the data dir
  metrics        TEXT CHECK (metrics IS NULL OR json_valid(metrics)),
  -- extracted from metrics for filtering and sorting without JSON parsing
  total_return   REAL,
  sharpe         REAL,
  max_drawdown   REAL,
  num_trades     INTEGER,
  final_equity   REAL,
  error          TEXT,
  tags           TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(tags) AND json_type(tags) = 'array'),
  notes          TEXT NOT NULL DEFAULT '',
  created_at     TEXT NOT NULL,
  started_at     TEXT,
  finished_at    TEXT,
  sweep_id       TEXT
) STRICT;
CREATE INDEX runs_by_input_hash ON runs (input_hash, status);
CREATE INDEX runs_by_status ON runs (status, run_id DESC);
CREATE INDEX runs_by_strategy ON runs (strategy_id, run_id DESC);
CREATE INDEX runs_by_dataset ON runs (dataset_id, run_id DESC);
CREATE INDEX runs_by_sweep ON runs (sweep_id, run_id DESC) WHERE sweep_id IS NOT NULL;

-- Terminal states stay terminal; the adapter checks first (with a friendlier message), this
-- trigger guards every writer, including ones that bypass the adapter.
CREATE TRIGGER runs_status_transition BEFORE UPDATE OF status ON runs
WHEN NEW.status <> OLD.status AND NOT (
     (OLD.status = 'queued'  AND NEW.status IN ('running', 'failed', 'canceled'))
  OR (OLD.status = 'running' AND NEW.status IN ('succeeded', 'failed', 'canceled')))
BEGIN
  SELECT RAISE(ABORT, 'illegal run status transition');
END;

-- Full-text search over strategy, symbol, tags and notes (external content = runs).
CREATE VIRTUAL TABLE runs_fts USING fts5(
  strategy_id, symbol, tags, notes,
  content = 'runs', content_rowid = 'rowid', tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER runs_fts_insert AFTER INSERT ON runs BEGIN
  INSERT INTO runs_fts (rowid, strategy_id, symbol, tags, notes)
  VALUES (NEW.rowid, NEW.strategy_id, NEW.symbol, NEW.tags, NEW.notes);
END;
CREATE TRIGGER runs_fts_delete AFTER DELETE ON runs BEGIN
  INSERT INTO runs_fts (runs_fts, rowid, strategy_id, symbol, tags, notes)
  VALUES ('delete', OLD.rowid, OLD.strategy_id, OLD.symbol, OLD.tags, OLD.notes);
END;
CREATE TRIGGER runs_fts_update AFTER UPDATE OF strategy_id, symbol, tags, notes ON runs BEGIN
  INSERT INTO runs_fts (runs_fts, rowid, strategy_id, symbol, tags, notes)
  VALUES ('delete', OLD.rowid, OLD.strategy_id, OLD.symbol, OLD.tags, OLD.notes);
  INSERT INTO runs_fts (rowid, strategy_id, symbol, tags, notes)
  VALUES (NEW.rowid, NEW.strategy_id, NEW.symbol, NEW.tags, NEW.notes);
END;

-- A change counter a watcher can poll cheaply (one row, one integer): bumped by every
-- insert, update and delete of datasets, dataset_sources and runs, from any process.
-- (PRAGMA data_version is the per-connection alternative: it changes when another
-- connection commits, but not for the watcher's own writes.)
CREATE TABLE catalog_changes (
  id      INTEGER PRIMARY KEY CHECK (id = 1),
  counter INTEGER NOT NULL
) STRICT;
INSERT INTO catalog_changes (id, counter) VALUES (1, 0);
CREATE TRIGGER datasets_changed_i AFTER INSERT ON datasets BEGIN UPDATE catalog_changes SET counter = counter + 1; END;
CREATE TRIGGER datasets_changed_u AFTER UPDATE ON datasets BEGIN UPDATE catalog_changes SET counter = counter + 1; END;
CREATE TRIGGER datasets_changed_d AFTER DELETE ON datasets BEGIN UPDATE catalog_changes SET counter = counter + 1; END;
CREATE TRIGGER sources_changed_i AFTER INSERT ON dataset_sources BEGIN UPDATE catalog_changes SET counter = counter + 1; END;
CREATE TRIGGER sources_changed_u AFTER UPDATE ON dataset_sources BEGIN UPDATE catalog_changes SET counter = counter + 1; END;
CREATE TRIGGER sources_changed_d AFTER DELETE ON dataset_sources BEGIN UPDATE catalog_changes SET counter = counter + 1; END;
CREATE TRIGGER runs_changed_i AFTER INSERT ON runs BEGIN UPDATE catalog_changes SET counter = counter + 1; END;
CREATE TRIGGER runs_changed_u AFTER UPDATE ON runs BEGIN UPDATE catalog_changes SET counter = counter + 1; END;
CREATE TRIGGER runs_changed_d AFTER DELETE ON runs BEGIN UPDATE catalog_changes SET counter = counter + 1; END;
