package dev.conveyor.api.wakeup;

import dev.conveyor.api.TaskFailures;
import dev.conveyor.api.dispatch.Backlog;
import dev.conveyor.api.dispatch.TenantWindows;
import dev.conveyor.common.Threads;
import dev.conveyor.common.log.LogInterval;
import dev.conveyor.common.log.LogText;
import java.sql.Connection;
import java.time.Duration;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * Holds one database connection that {@code LISTEN}s for ended jobs and wakes this instance's long-polls. When
 * the connection breaks it wakes everybody (they read their job again) and reconnects. Waiting for notifications
 * reads without writing, so a database that stopped answering (its host gone, a failover) would never show: after
 * {@code CHECK_AFTER} without a notification the connection is asked a {@code SELECT 1}, which must be answered
 * within {@code CHECK_TIMEOUT}.
 */
@Component
class EndedJobsListener implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(EndedJobsListener.class);
    private static final int WAIT_MILLIS = 500;
    private static final long CHECK_AFTER_NANOS = Duration.ofSeconds(5).toNanos();
    private static final int CHECK_TIMEOUT_MILLIS = 5_000;
    private static final Duration UNREADABLE_LOGGED_EVERY = Duration.ofMinutes(1);

    private final DataSource dataSource;
    private final JobWaiters waiters;
    private final TenantWindows windows;
    private final Backlog backlog;
    private final LogInterval unreadable = new LogInterval(UNREADABLE_LOGGED_EVERY);
    private final TaskFailures failures = new TaskFailures(log, "The connection that listens for ended jobs",
            "long-polls here hear late of jobs ended on other api instances");
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
                failures.worked();
                receive(connection);
            } catch (SQLException | RuntimeException e) {
                if (!running) {
                    return;
                }
                failures.failed(e);
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
        // the pool sets its own timeout again when the connection is returned
        connection.setNetworkTimeout(Runnable::run, CHECK_TIMEOUT_MILLIS);
        var heard = System.nanoTime();
        while (running) {
            var notifications = pg.getNotifications(WAIT_MILLIS);
            if (notifications == null || notifications.length == 0) {
                if (System.nanoTime() - heard >= CHECK_AFTER_NANOS) {
                    try (var check = connection.createStatement()) {
                        check.execute("SELECT 1");
                    }
                    heard = System.nanoTime();
                }
                continue;
            }
            heard = System.nanoTime();
            var ids = new ArrayList<UUID>();
            for (var notification : notifications) {
                read(notification.getParameter(), ids);
            }
            if (ids.isEmpty()) {
                continue;
            }
            waiters.wake(ids);
            // a job that ended holds no slot of its tenant's window, whichever instance read its start, and is not
            // published from this instance's backlog (a cancel on another instance)
            ids.forEach(windows::settled);
            backlog.ended(ids);
        }
    }

    /**
     * Adds the job ids of a notification's payload to {@code ids}. Anyone who can reach the database can
     * {@code NOTIFY} the channel with any text: what names no job is skipped (logged at most once a minute), where it
     * broke the connection, and the notifications with it or sent during the reconnect went unheard.
     */
    private void read(String payload, List<UUID> ids) {
        String unread = null;
        for (var id : payload.split(",", -1)) {
            try {
                ids.add(UUID.fromString(id));
            } catch (IllegalArgumentException e) {
                unread = unread == null ? id : unread;
            }
        }
        if (unread != null) {
            var heldBack = unreadable.pass();
            if (heldBack >= 0) {
                log.warn("Skipping what names no job in a notification on {}: '{}'{}", JobNotifications.CHANNEL,
                        LogText.of(unread, 100), LogInterval.heldBack(heldBack));
            }
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
