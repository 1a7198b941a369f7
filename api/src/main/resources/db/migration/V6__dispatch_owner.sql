-- Which api instance holds a job's dispatch lease. Each instance holds a PostgreSQL session advisory lock on its
-- own id for as long as it runs; the server drops it the moment the instance's connection goes (a crash, a kill).
-- So a lease whose owner no longer holds its lock belongs to a dead instance, and the poller of any other
-- instance takes the job at once instead of waiting for the lease to run out.
ALTER TABLE jobs ADD COLUMN dispatch_owner bigint;
