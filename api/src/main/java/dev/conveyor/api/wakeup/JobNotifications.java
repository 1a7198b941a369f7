package dev.conveyor.api.wakeup;

import java.util.List;
import java.util.UUID;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.stereotype.Component;

/**
 * Tells every api instance that jobs ended, through PostgreSQL {@code NOTIFY}: sent with the transaction that
 * ended them, so nobody is woken for a change that did not commit.
 */
@Component
public class JobNotifications {

    /** The channel every api instance listens on. */
    public static final String CHANNEL = "conveyor_job_ended";
    /** Ids in one notification: it carries at most 8000 bytes, and 200 ids of 37 characters stay well below. */
    public static final int IDS_PER_NOTIFICATION = 200;

    private final JdbcClient jdbc;

    JobNotifications(JdbcClient jdbc) {
        this.jdbc = jdbc;
    }

    /** Call inside the transaction that ended the jobs. */
    public void notifyEnded(List<UUID> ids) {
        for (var from = 0; from < ids.size(); from += IDS_PER_NOTIFICATION) {
            var chunk = ids.subList(from, Math.min(ids.size(), from + IDS_PER_NOTIFICATION));
            var payload = String.join(",", chunk.stream().map(UUID::toString).toList());
            jdbc.sql("SELECT pg_notify(:channel, :payload)").param("channel", CHANNEL).param("payload", payload)
                    .query().singleRow();
        }
    }
}
