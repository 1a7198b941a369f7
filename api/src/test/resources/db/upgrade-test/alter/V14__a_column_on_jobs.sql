-- MigrationLockTest: a migration of a release after V13 that changes jobs (ACCESS EXCLUSIVE, for a moment)
ALTER TABLE jobs ADD COLUMN upgrade_test TEXT;
