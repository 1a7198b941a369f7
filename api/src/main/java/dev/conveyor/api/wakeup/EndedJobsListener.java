package dev.conveyor.api.wakeup;

import dev.conveyor.api.dispatch.Backlog;
import dev.conveyor.api.dispatch.TenantWindows;
import dev.conveyor.common.Threads;
import java.sql.Connection;
import java.time.Duration;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.UUID;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * Holds one database connection that {@code LISTEN}s for ended jobs and wakes this instance's long-polls. When
 * the connection breaks it wakes everybody (they read their job again) and reconnects.
 */
@Component
class EndedJobsListener implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(EndedJobsListener.class);
    private static final int WAIT_MILLIS = 500;

    private final DataSource dataSource;
    private final JobWaiters waiters;
    private final TenantWindows windows;
    private final Backlog backlog;
    private volatile boolean running;
    private Thread listener;

    EndedJobsListener(DataSource dataSource, JobWaiters waiters, TenantWindows windows, Backlog backlog) {
        this.dataSource = dataSource;
        this.waiters = waiters;
        this.windows = windows;
        this.backlog = backlog;
    }

    private void listen() {
        while (running) {
            try (var connection = dataSource.getConnection()) {
                connection.setAutoCommit(true);
                try (var statement = connection.createStatement()) {
                    statement.execute("LISTEN " + JobNotifications.CHANNEL);
                }
                // Anything that ended while we were not listening: let the waiters look again.
                waiters.wakeAll();
                receive(connection);
            } catch (SQLException | RuntimeException e) {
                if (!running) {
                    return;
                }
                log.warn("Lost the job notifications connection (reconnecting): {}", e.getMessage());
                waiters.wakeAll();
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException interrupted) {
                    return;
                }
            }
        }
    }

    private void receive(Connection connection) throws SQLException {
        var pg = connection.unwrap(PGConnection.class);
        while (running) {
            var notifications = pg.getNotifications(WAIT_MILLIS);
            if (notifications == null) {
                continue;
            }
            var ids = new ArrayList<UUID>();
            for (var notification : notifications) {
                for (var id : notification.getParameter().split(",")) {
                    ids.add(UUID.fromString(id));
                }
            }
            waiters.wake(ids);
            // a job that ended holds no slot of its tenant's window, whichever instance read its start, and is not
            // published from this instance's backlog (a cancel on another instance)
            ids.forEach(windows::settled);
            backlog.ended(ids);
        }
    }

    @Override
    public void start() {
        running = true;
        listener = Thread.ofPlatform().daemon().name("ended-jobs-listener").start(this::listen);
    }

    @Override
    public void stop() {
        running = false;
        Threads.joinOrInterrupt(listener, Duration.ofMillis(WAIT_MILLIS * 4L));
    }

    @Override
    public boolean isRunning() {
        return running;
    }
}
