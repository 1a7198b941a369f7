package dev.conveyor.api.metrics;

import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;

/**
 * What the metrics need of a job whose events are applied, read with its row lock (no query of its own).
 *
 * @param runAt when its current attempt became due: the start of its queue wait
 */
public record JobFacts(String queue, String type, Instant createdAt, Instant runAt) {

    /** The columns to add to a query whose rows {@link #read} reads. */
    public static final String COLUMNS = "queue, type, created_at, run_at";

    public static JobFacts read(ResultSet rs) throws SQLException {
        return new JobFacts(rs.getString("queue"), rs.getString("type"),
                rs.getObject("created_at", OffsetDateTime.class).toInstant(),
                rs.getObject("run_at", OffsetDateTime.class).toInstant());
    }
}
