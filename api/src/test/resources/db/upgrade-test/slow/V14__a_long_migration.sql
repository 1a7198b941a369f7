-- MigrationLockTest: a migration of a release after V13 that runs longer than an idle transaction of the api may last
CREATE TABLE upgrade_test (id INT);
SELECT pg_sleep(3);
