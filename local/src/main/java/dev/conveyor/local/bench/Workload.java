package dev.conveyor.local.bench;

import java.util.Arrays;
import java.util.List;

/**
 * The benchmark's workloads: issue #8's, through Conveyor, and the floor under them, measured on the same PostgreSQL
 * and Kafka broker without Conveyor ({@link FloorRuns}).
 */
enum Workload {

    W1_BATCH("w1-batch", "W1 noop, batches"),
    W1_SINGLE("w1-single", "W1 noop, single POSTs"),
    W2("w2", "W2 http GET"),
    W3("w3", "W3 paced single POSTs"),
    W4("w4", "W4 sleep in flight"),
    FLOOR_W1("floor-w1", "W1 bare path, batches"),
    FLOOR_W1_SINGLE("floor-w1-single", "W1 bare path behind HTTP, single POSTs"),
    FLOOR_W2("floor-w2", "W2 bare path, http GET"),
    FLOOR_W3("floor-w3", "W3 bare path, paced single inserts"),
    FLOOR_W3_HTTP("floor-w3-http", "W3 bare path behind HTTP, POST + long-poll"),
    PG_BATCHES("pg-batches", "PostgreSQL alone: insert + 2 updates, batches"),
    PG_SINGLE("pg-single", "PostgreSQL alone: single-row inserts");

    /** A name on the command line for both PostgreSQL-alone workloads. */
    static final String PG_ALONE = "pg-alone";

    private final String id;
    private final String title;

    Workload(String id, String title) {
        this.id = id;
        this.title = title;
    }

    static Workload named(String id) {
        return Arrays.stream(values()).filter(w -> w.id.equals(id)).findFirst().orElseThrow(
                () -> new IllegalArgumentException("--workloads: no workload '" + id + "'; there are "
                        + Arrays.stream(values()).map(w -> w.id).toList() + " and " + PG_ALONE));
    }

    /** The workloads a name on the command line stands for: one, or both PostgreSQL-alone ones for {@value #PG_ALONE}. */
    static List<Workload> listed(String id) {
        return id.equals(PG_ALONE) ? List.of(PG_BATCHES, PG_SINGLE) : List.of(named(id));
    }

    String title() {
        return title;
    }

    boolean isW1() {
        return this == W1_BATCH || this == W1_SINGLE;
    }

    /** Whether it runs without Conveyor, on the system's PostgreSQL and Kafka broker. */
    boolean onFloor() {
        return bare() || this == PG_BATCHES || this == PG_SINGLE;
    }

    /** Whether it is the bare Kafka + PostgreSQL path (the PostgreSQL-alone workloads need no Kafka). */
    boolean bare() {
        return this == FLOOR_W1 || this == FLOOR_W1_SINGLE || this == FLOOR_W2 || this == FLOOR_W3
                || this == FLOOR_W3_HTTP;
    }

    /** What the table's system column says for a workload that runs without Conveyor. */
    String floorSystem() {
        return bare() ? "bare Kafka + PostgreSQL" : "PostgreSQL alone";
    }
}
