-- MigrationLockTest: a migration of a release after V13 that builds an index as the README's rules say
CREATE INDEX CONCURRENTLY IF NOT EXISTS jobs_upgrade_test ON jobs (updated_at);
