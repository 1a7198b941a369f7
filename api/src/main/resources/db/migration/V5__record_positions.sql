-- Where the current attempt's record sits on its queue's topic, written with dispatched_at by the dispatch mark.
-- Kafka may archive a record that no worker started (its delivery limit reached through releases, or a reject);
-- the job then waits QUEUED with nothing on Kafka to run it. The reconciler compares these positions with the
-- share group's start offset per partition (every record below it is acknowledged or archived) to find them.
-- Only meaningful while dispatched_at is set; a job dispatched before this migration has none and is not reconciled.
ALTER TABLE jobs ADD COLUMN record_partition integer;
ALTER TABLE jobs ADD COLUMN record_offset bigint;

-- The reconciler's question: which dispatched jobs wait QUEUED, per queue and partition, below a given offset?
-- Small, because a job leaves it as soon as a worker's start is applied.
CREATE INDEX jobs_dispatched_queued_idx ON jobs (queue, record_partition, record_offset)
    WHERE status = 'QUEUED' AND dispatched_at IS NOT NULL;
