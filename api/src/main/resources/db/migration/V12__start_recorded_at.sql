-- When the api recorded the running attempt's start, by the database's clock. started_at is the worker's clock, as
-- its start says; the rescuer counted an attempt's deadline (timeout_seconds + rescue-grace) from it, so every attempt
-- of a worker whose clock ran some minutes behind was taken for one past its deadline as soon as it started, lost and
-- run again, and failed WORKER_LOST after max-lost-attempts; a worker ahead kept a silent attempt RUNNING that much
-- longer. The deadline is counted from here now (from started_at for the attempts that started before this column).
-- No index holds it, so the start's write stays as it was.
ALTER TABLE jobs ADD COLUMN start_recorded_at timestamptz;
