package dev.conveyor.local.bench;

import java.sql.SQLException;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;

/**
 * PostgreSQL alone, on the bare path's table with its statements and no Kafka: the insert and update rates that a
 * job queue storing its jobs there cannot exceed on this machine. Each figure is rows per second; latency is a row's,
 * from the start of its insert to the commit of its last statement.
 */
final class PgAlone {

    private final FloorStore store;
    private final DataSource dataSource;
    private final List<Role> roles;

    PgAlone(FloorStore store, DataSource dataSource, List<Role> roles) {
        this.store = store;
        this.dataSource = dataSource;
        this.roles = List.copyOf(roles);
    }

    /**
     * W1's writes: the rows inserted in batches (one statement and transaction each) on one connection, and each batch
     * then marked running and ended (one statement and transaction each) on a second connection, as Conveyor's api
     * inserts on one side while it applies workers' events on the other.
     */
    RunResult batches(int rows, int batch) throws SQLException, InterruptedException {
        store.reset();
        var run = new FloorRun(rows);
        var inserted = new LinkedBlockingQueue<int[]>();
        var meter = new Meter(roles);
        try (var updater = Executors.newVirtualThreadPerTaskExecutor()) {
            var first = System.nanoTime();
            var updates = updater.submit(() -> {
                try (var connection = dataSource.getConnection()) {
                    for (var done = 0; done < rows; ) {
                        var range = inserted.take();
                        var ids = ids(run, range[0], range[1]);
                        store.start(connection, ids);
                        var ended = store.end(connection, ids, payloads(range[0], range[1]));
                        run.ended(ended, System.nanoTime());
                        done += range[1];
                    }
                }
                return null;
            });
            try (var connection = dataSource.getConnection()) {
                for (var from = 0; from < rows; from += batch) {
                    var size = Math.min(batch, rows - from);
                    var at = System.nanoTime();
                    for (var i = from; i < from + size; i++) {
                        run.submitted(i, at);
                    }
                    store.insert(connection, ids(run, from, size), payloads(from, size));
                    inserted.add(new int[] {from, size});
                }
            } catch (SQLException | RuntimeException e) {
                updates.cancel(true);
                throw e;
            }
            try {
                updates.get();
            } catch (ExecutionException e) {
                throw new IllegalStateException("PostgreSQL alone: the updates failed: " + e.getCause(), e.getCause());
            }
            run.awaitAll(FloorRuns.STALL);
            var usage = meter.stop();
            return new RunResult(rows, (run.lastEnd() - first) / 1e9, Stats.Latencies.of(run.latencies()), usage,
                    "per row: 1/" + batch + " of an INSERT and of two UPDATEs");
        } finally {
            meter.close();
        }
    }

    /**
     * W3's writes: single-row insert transactions as fast as they go, from as many connections as the api's pool
     * holds ({@value FloorTarget#POOL_SIZE}), each client inserting one row after another.
     */
    RunResult singles(int rows) throws SQLException {
        store.reset();
        var run = new FloorRun(rows);
        var latencies = new double[rows];
        var next = new AtomicInteger();
        var failures = new ConcurrentLinkedQueue<Exception>();
        var meter = new Meter(roles);
        try {
            var first = System.nanoTime();
            try (var clients = Executors.newVirtualThreadPerTaskExecutor()) {
                for (var c = 0; c < FloorTarget.POOL_SIZE; c++) {
                    clients.execute(() -> {
                        try (var connection = dataSource.getConnection()) {
                            int n;
                            while ((n = next.getAndIncrement()) < rows) {
                                var start = System.nanoTime();
                                store.insert(connection, run.id(n), FloorRun.payload(n));
                                latencies[n] = (System.nanoTime() - start) / 1e6;
                            }
                        } catch (SQLException | RuntimeException e) {
                            failures.add(e);
                        }
                    });
                }
            }
            var seconds = (System.nanoTime() - first) / 1e9;
            var usage = meter.stop();
            if (!failures.isEmpty()) {
                throw new IllegalStateException("PostgreSQL alone: " + failures.size() + " clients failed, e.g. "
                        + failures.peek(), failures.peek());
            }
            return new RunResult(rows, seconds, Stats.Latencies.of(latencies), usage,
                    "single-row INSERT transactions from " + FloorTarget.POOL_SIZE + " connections");
        } finally {
            meter.close();
        }
    }

    private static UUID[] ids(FloorRun run, int from, int size) {
        var ids = new UUID[size];
        for (var i = 0; i < size; i++) {
            ids[i] = run.id(from + i);
        }
        return ids;
    }

    private static String[] payloads(int from, int size) {
        var payloads = new String[size];
        for (var i = 0; i < size; i++) {
            payloads[i] = FloorRun.payload(from + i);
        }
        return payloads;
    }
}
