package dev.conveyor.api.job;

import java.util.Collection;
import java.util.UUID;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.support.SqlArrayValue;
import org.springframework.stereotype.Component;

/**
 * Locks job rows in id order, in a statement of its own, before a batched update of them. Every multi-row update
 * on the job path that can meet another one on the same rows locks this way: event batches through here, dispatch
 * marks and lease releases with a select of their own in the same order that also reads their guard from the
 * locked rows. The common order means two of them never deadlock, and the separate statement means the update then
 * reads the rows as they are once locked. (Locking within the update itself made PostgreSQL skip rows that a concurrent
 * transaction had just changed: a row locked earlier in the same command counts as already updated by it.)
 */
@Component
public class JobLocks {

    private static final String LOCK = "SELECT id FROM jobs WHERE id = ANY(:ids::uuid[]) ORDER BY id FOR UPDATE";

    private final JdbcClient jdbc;

    JobLocks(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    /** Call inside the transaction that updates the rows. */
    public void lock(Collection<UUID> ids) {
        jdbc.sql(LOCK).param("ids", new SqlArrayValue("uuid", ids.toArray())).query(UUID.class).list();
    }
}
