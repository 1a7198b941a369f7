-- The job store. Each row is one job and also its own outbox entry: a row that is due (run_at <= now()) and not
-- yet dispatched is what the dispatcher publishes to Kafka, so nothing besides this row is needed for an accepted
-- job to run eventually.
CREATE TABLE jobs (
    id                   uuid        PRIMARY KEY,              -- UUIDv7: time-ordered, so "newest first" is id order
    type                 text        NOT NULL,
    queue                text        NOT NULL,
    status               text        NOT NULL
        CONSTRAINT jobs_status_check
        CHECK (status IN ('SCHEDULED', 'QUEUED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'CANCELLED')),
    payload              jsonb       NOT NULL,
    result               jsonb,
    error                jsonb,
    attempts             integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    max_attempts         integer     NOT NULL CHECK (max_attempts >= 1),
    -- the maxAttempts the job was submitted with; a manual retry adds it to attempts
    initial_max_attempts integer     NOT NULL CHECK (initial_max_attempts >= 1),
    timeout_seconds      integer     NOT NULL CHECK (timeout_seconds >= 1),
    idempotency_key      text,
    request_hash         text,                                 -- what the idempotency key was first used for
    worker_id            text,
    created_at           timestamptz NOT NULL,
    run_at               timestamptz NOT NULL,
    started_at           timestamptz,
    finished_at          timestamptz,
    updated_at           timestamptz NOT NULL,
    -- set once the current attempt's record is on Kafka; cleared when a retry makes the job due again
    dispatched_at        timestamptz,
    -- a dispatcher that took the row to publish it holds it until then; an expired lease means it died trying
    dispatch_lease_until timestamptz
);

-- The dispatcher's question: what is due and not on Kafka yet? Small, because dispatched rows leave it.
CREATE INDEX jobs_due_idx ON jobs (run_at)
    WHERE dispatched_at IS NULL AND status IN ('SCHEDULED', 'QUEUED');

-- Idempotency keys are unique among the jobs that have one.
CREATE UNIQUE INDEX jobs_idempotency_key_idx ON jobs (idempotency_key) WHERE idempotency_key IS NOT NULL;

-- GET /v1/jobs filters, newest first (the primary key serves the unfiltered listing).
CREATE INDEX jobs_queue_id_idx ON jobs (queue, id DESC);
CREATE INDEX jobs_status_id_idx ON jobs (status, id DESC);
CREATE INDEX jobs_type_id_idx ON jobs (type, id DESC);

-- The rescuer's question: which attempts have run far past their deadline?
CREATE INDEX jobs_running_idx ON jobs (started_at) WHERE status = 'RUNNING';
