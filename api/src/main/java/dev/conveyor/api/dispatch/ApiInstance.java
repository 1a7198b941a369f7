package dev.conveyor.api.dispatch;

import dev.conveyor.api.TaskFailures;
import dev.conveyor.common.Threads;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.stereotype.Component;

/**
 * This api instance's identity in the database: a random id on which it holds a session advisory lock for as long as
 * it runs, on a connection of its own. PostgreSQL releases the lock the moment that connection ends, so whether an
 * instance is alive can be read from {@code pg_locks} by any other; dispatch leases carry their owner's id, and a
 * lease whose owner is gone is taken over at once (see {@link DuePoller}).
 *
 * <p>If the connection breaks (the database restarts), the lock is taken again on a new one; meanwhile other
 * instances may take this one's leases, which at worst publishes a job twice (at least once).
 */
@Component
public class ApiInstance implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(ApiInstance.class);
    private static final Duration CHECK = Duration.ofSeconds(2);
    private static final Duration START_WAIT = Duration.ofSeconds(10);

    /** Live owners' ids, as {@link #lock} takes them: a bigint advisory lock shows as (classid, objid, objsubid 1). */
    static final String LIVE_OWNERS_SQL = """
            SELECT (l.classid::bigint << 32) | l.objid::bigint FROM pg_locks l
            WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.granted""";

    private final DataSource dataSource;
    private final long id = new SecureRandom().nextLong() & 0x3FFF_FFFF_FFFF_FFFFL;
    private final TaskFailures failures = new TaskFailures(log, "The connection that marks this api instance alive",
            "other instances may take its dispatch leases (publishing those jobs twice at worst)");
    /**
     * How long after taking its lock again (a broken connection: most often a restart of the database, which ended
     * every instance's lock at once) this instance judges no lease: the other instances notice within {@link #CHECK}
     * and take theirs again, and until then their leases look dead.
     */
    static final Duration REGAINED_GRACE = CHECK.multipliedBy(3);

    private volatile boolean running;
    private volatile Thread holder;
    /** {@link System#nanoTime()} when the lock was last taken; {@link #NOT_HELD} while it is not held. */
    private volatile long heldSince = NOT_HELD;
    private static final long NOT_HELD = Long.MIN_VALUE;
    private volatile boolean regained;

    ApiInstance(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** The id leases taken by this instance carry. */
    public long id() {
        return id;
    }

    /**
     * Whether this instance may take over leases whose owners look dead: it holds its own lock (else its own leases
     * look dead too, and it would publish again the jobs it has just published), and, if it took the lock again after
     * losing it, has held it for {@link #REGAINED_GRACE}. After a database restart every instance's lock is gone for
     * a moment; an instance that judged leases then published again the jobs the others had on Kafka, running or
     * about to, whose starts were not yet recorded (fault scenario d: 11 of 255 jobs run twice).
     */
    public boolean judgesLeases() {
        var since = heldSince;
        return since != NOT_HELD && (!regained || System.nanoTime() - since >= REGAINED_GRACE.toNanos());
    }

    private void hold(CountDownLatch locked) {
        while (running) {
            try (var connection = dataSource.getConnection()) {
                lock(connection);
                heldSince = System.nanoTime();
                locked.countDown();
                failures.worked();
                while (running) {
                    Thread.sleep(CHECK);
                    try (var check = connection.createStatement()) {
                        check.execute("SELECT 1");
                    }
                }
            } catch (InterruptedException e) {
                return;
            } catch (SQLException | RuntimeException e) {
                if (heldSince != NOT_HELD) {
                    regained = true; // the next lock is taken again
                }
                heldSince = NOT_HELD;
                if (!running) {
                    return;
                }
                failures.failed(e);
                try {
                    Thread.sleep(CHECK);
                } catch (InterruptedException interrupted) {
                    return;
                }
            }
        }
    }

    private void lock(Connection connection) throws SQLException {
        try (var statement = connection.prepareStatement("SELECT pg_advisory_lock(?)")) {
            statement.setLong(1, id);
            statement.execute();
        }
    }

    /** Takes the lock before anything can take a lease in this instance's name (waits a bounded time for it). */
    @Override
    public void start() {
        running = true;
        var locked = new CountDownLatch(1);
        holder = Thread.ofPlatform().daemon().name("api-instance").start(() -> hold(locked));
        try {
            if (!locked.await(START_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
                log.warn("Could not mark this api instance alive within {}; until it can, other instances may take "
                        + "its dispatch leases (publishing those jobs twice at worst)", START_WAIT);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void stop() {
        running = false;
        var thread = holder;
        if (thread != null) {
            Threads.joinOrInterrupt(thread, CHECK.multipliedBy(2));
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    /** Up before the submitters and dispatchers that take leases in its name, down after them. */
    @Override
    public int getPhase() {
        return SmartLifecycle.DEFAULT_PHASE - 32768;
    }
}
