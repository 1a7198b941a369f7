-- Attempts that are not charged to the job's budget, and the attempts lost with a worker that died.
--
-- An attempt that a worker hands back (it is shutting down) or that is lost with its worker (it crashed, or lost
-- Kafka for good) says nothing about the job itself, so it does not use up maxAttempts: the budget counts
-- attempts - uncharged_attempts. Lost attempts have a budget of their own (conveyor.api.retry.max-lost-attempts),
-- because a job that keeps killing its workers must stop, and they are retried with backoff so that such a job
-- does not take down the fleet one worker after another. An explicit retry starts both counts afresh.
ALTER TABLE jobs ADD COLUMN uncharged_attempts integer NOT NULL DEFAULT 0 CHECK (uncharged_attempts >= 0);
ALTER TABLE jobs ADD COLUMN lost_attempts integer NOT NULL DEFAULT 0 CHECK (lost_attempts >= 0);

-- The moves a job's status may make, as JobStatus says (a test checks that the two agree). Every statement that
-- changes a status is checked against this table by the trigger below, so a statement that would make a move the
-- state machine does not allow fails instead of corrupting the job. Updates that keep the status are not moves.
CREATE TABLE job_transitions (
    from_status text NOT NULL,
    to_status   text NOT NULL,
    PRIMARY KEY (from_status, to_status)
);

INSERT INTO job_transitions (from_status, to_status) VALUES
    ('SCHEDULED', 'QUEUED'),
    ('SCHEDULED', 'CANCELLED'),
    ('QUEUED', 'RUNNING'),
    ('QUEUED', 'SUCCEEDED'),
    ('QUEUED', 'FAILED'),
    ('QUEUED', 'CANCELLED'),
    ('QUEUED', 'SCHEDULED'),
    ('RUNNING', 'SUCCEEDED'),
    ('RUNNING', 'FAILED'),
    ('RUNNING', 'CANCELLED'),
    ('RUNNING', 'SCHEDULED'),
    ('FAILED', 'QUEUED'),
    ('CANCELLED', 'QUEUED');

-- Statement-level, like the counters' trigger: one check per batched write, not one per row.
CREATE FUNCTION jobs_check_transitions() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    SELECT o.id, o.status AS from_status, n.status AS to_status INTO bad
    FROM old_jobs o JOIN new_jobs n ON n.id = o.id
    WHERE o.status <> n.status
      AND NOT EXISTS (SELECT 1 FROM job_transitions t WHERE t.from_status = o.status AND t.to_status = n.status)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'job % may not move from % to %', bad.id, bad.from_status, bad.to_status
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER jobs_check_transitions AFTER UPDATE ON jobs
    REFERENCING OLD TABLE AS old_jobs NEW TABLE AS new_jobs
    FOR EACH STATEMENT EXECUTE FUNCTION jobs_check_transitions();

