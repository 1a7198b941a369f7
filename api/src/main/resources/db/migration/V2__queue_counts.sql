-- GET /v1/queues: jobs per (queue, status) without counting the jobs table on every call. Counting a million rows
-- takes a sequential scan of the whole table (hundreds of milliseconds); summing this table takes well under one.
--
-- Rows are deltas, not totals: the count of (queue, status) is sum(n) over its slots. Each writer adds to the slot
-- of its own backend, so concurrent transactions that move jobs of the same queue lock different counter rows
-- (a single row per (queue, status) would serialize every writer of a busy queue until its commit). A slot may go
-- negative (a job counted in by one backend and out by another); only the sum means anything.
CREATE TABLE queue_counts (
    queue  text     NOT NULL,
    status text     NOT NULL,
    slot   smallint NOT NULL,
    n      bigint   NOT NULL,
    PRIMARY KEY (queue, status, slot)
) WITH (fillfactor = 50); -- room on each page for HOT updates: n changes on every write, no index column does

-- Statement-level triggers see all rows of one statement at once (transition tables), so one batched write on
-- the job path (multi-row INSERT ... FROM unnest, UPDATE ... FROM unnest) costs one extra upsert of a few rows,
-- not one per job. Rows are upserted in (queue, status) order so that two statements that share a slot lock
-- counter rows in the same order and cannot deadlock on them.
--
-- The slot is the backend's pid modulo 16: stable for a connection, spread across a pool.
CREATE FUNCTION queue_counts_add_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO queue_counts AS c (queue, status, slot, n)
    SELECT queue, status, pg_backend_pid() % 16, count(*)
    FROM inserted_jobs
    GROUP BY queue, status
    ORDER BY queue, status
    ON CONFLICT (queue, status, slot) DO UPDATE SET n = c.n + excluded.n;
    RETURN NULL;
END
$$;

-- An update counts every old row out and every new row in; rows whose queue and status did not change cancel
-- out in the sum and write nothing, so the many updates that only touch other columns (dispatch marks, lease
-- renewals) cost a scan of their transition tables and no counter write. (An UPDATE trigger with transition
-- tables may not name columns, so it fires for those too.)
CREATE FUNCTION queue_counts_move_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO queue_counts AS c (queue, status, slot, n)
    SELECT queue, status, pg_backend_pid() % 16, sum(d)
    FROM (SELECT queue, status, 1 AS d FROM new_jobs
          UNION ALL
          SELECT queue, status, -1 FROM old_jobs) moved
    GROUP BY queue, status
    HAVING sum(d) <> 0
    ORDER BY queue, status
    ON CONFLICT (queue, status, slot) DO UPDATE SET n = c.n + excluded.n;
    RETURN NULL;
END
$$;

CREATE FUNCTION queue_counts_subtract_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO queue_counts AS c (queue, status, slot, n)
    SELECT queue, status, pg_backend_pid() % 16, -count(*)
    FROM deleted_jobs
    GROUP BY queue, status
    ORDER BY queue, status
    ON CONFLICT (queue, status, slot) DO UPDATE SET n = c.n + excluded.n;
    RETURN NULL;
END
$$;

-- TRUNCATE fires no DELETE trigger; without this the counters would keep counting jobs that are gone.
CREATE FUNCTION queue_counts_clear() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM queue_counts;
    RETURN NULL;
END
$$;

-- Writers wait from here until this migration commits, so the backfill below and the triggers meet exactly.
LOCK TABLE jobs IN SHARE ROW EXCLUSIVE MODE;

-- A trigger with transition tables may have only one event, hence one trigger per event.
CREATE TRIGGER jobs_count_inserts AFTER INSERT ON jobs
    REFERENCING NEW TABLE AS inserted_jobs
    FOR EACH STATEMENT EXECUTE FUNCTION queue_counts_add_inserted();

CREATE TRIGGER jobs_count_updates AFTER UPDATE ON jobs
    REFERENCING OLD TABLE AS old_jobs NEW TABLE AS new_jobs
    FOR EACH STATEMENT EXECUTE FUNCTION queue_counts_move_updated();

CREATE TRIGGER jobs_count_deletes AFTER DELETE ON jobs
    REFERENCING OLD TABLE AS deleted_jobs
    FOR EACH STATEMENT EXECUTE FUNCTION queue_counts_subtract_deleted();

CREATE TRIGGER jobs_count_truncate AFTER TRUNCATE ON jobs
    FOR EACH STATEMENT EXECUTE FUNCTION queue_counts_clear();

-- Jobs that exist before this migration, all in slot 0. Flyway runs this file in one transaction and the lock
-- taken above keeps writers out until it commits, so no job is counted twice or missed.
INSERT INTO queue_counts (queue, status, slot, n)
SELECT queue, status, 0, count(*) FROM jobs GROUP BY queue, status;

-- The age of the oldest QUEUED job per queue: one descent of this index per queue (min(run_at) is its first
-- entry). Partial, so it holds only the jobs waiting for a worker, not the millions that have finished.
CREATE INDEX jobs_queued_run_at_idx ON jobs (queue, run_at) WHERE status = 'QUEUED';
