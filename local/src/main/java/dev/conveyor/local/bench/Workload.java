package dev.conveyor.local.bench;

import java.util.Arrays;

/** The benchmark's workloads, as issue #8 defines them. */
enum Workload {

    W1_BATCH("w1-batch", "W1 noop, batches"),
    W1_SINGLE("w1-single", "W1 noop, single POSTs"),
    W2("w2", "W2 http GET"),
    W3("w3", "W3 paced single POSTs"),
    W4("w4", "W4 sleep in flight");

    private final String id;
    private final String title;

    Workload(String id, String title) {
        this.id = id;
        this.title = title;
    }

    static Workload named(String id) {
        return Arrays.stream(values()).filter(w -> w.id.equals(id)).findFirst().orElseThrow(
                () -> new IllegalArgumentException("--workloads: no workload '" + id + "'; there are "
                        + Arrays.stream(values()).map(w -> w.id).toList()));
    }

    String title() {
        return title;
    }

    boolean isW1() {
        return this == W1_BATCH || this == W1_SINGLE;
    }
}
