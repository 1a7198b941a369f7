-- The dashboard's throughput and latency charts (GET /v1/stats): every few seconds, the jobs that ended in the last
-- few seconds, found by when their end was recorded. Ended rows are written once more with updated_at = now() and
-- never again (a retry takes them out of this index), so the index holds each ended job once, at the moment its end
-- was recorded; the query reads only the newest entries. Partial, so the writes of a job's earlier states (insert,
-- dispatch, start) do not touch it: it costs one index entry per ended job. The price beyond that: updated_at is now
-- an indexed column, so an update that changes nothing else indexed (a progress report of a running job) can no
-- longer be a HOT update when its page has room for one. Indexing finished_at instead would keep those HOT, but it
-- holds the worker's clock: an end recorded late (an events backlog) would fall into a bucket already counted.
CREATE INDEX jobs_ended_idx ON jobs (updated_at) WHERE status IN ('SUCCEEDED', 'FAILED', 'CANCELLED');
