-- Cancelling a RUNNING job cannot stop it at once: its worker learns of it over Kafka. Until the attempt ends,
-- this marks that the job must get no further attempt, whatever the attempt's outcome.
ALTER TABLE jobs ADD COLUMN cancel_requested_at timestamptz;

-- Bumped by each explicit retry. Dispatches and cancellations carry it, so a worker that was told to skip a
-- cancelled job still runs the job once it is retried.
ALTER TABLE jobs ADD COLUMN generation integer NOT NULL DEFAULT 0;

-- The last progress a handler reported for the running attempt: {"fraction": 0..1, "message": "...", "at": "..."}.
ALTER TABLE jobs ADD COLUMN progress jsonb;
