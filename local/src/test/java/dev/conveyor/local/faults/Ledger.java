package dev.conveyor.local.faults;

import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.awaitility.core.ConditionTimeoutException;
import tools.jackson.databind.JsonNode;

/**
 * The jobs one scenario had accepted (a 202 or an idempotent replay), and their final states as the api shows
 * them. {@link #settle} waits for every one to end, with long-polls ({@code ?wait=}) that cost the api no polling,
 * and {@link #report} counts what happened.
 */
final class Ledger {

    static final Set<String> TERMINAL = Set.of("SUCCEEDED", "FAILED", "CANCELLED");
    private static final int CONCURRENT_POLLS = 256;

    private final String scenario;
    private final Map<UUID, Boolean> accepted = new ConcurrentHashMap<>();
    private final Map<UUID, JsonNode> last = new ConcurrentHashMap<>();
    private final Set<UUID> missing = ConcurrentHashMap.newKeySet();

    Ledger(String scenario) {
        this.scenario = scenario;
    }

    void accept(UUID id) {
        accepted.put(id, Boolean.TRUE);
    }

    void accept(JsonNode job) {
        accept(UUID.fromString(job.get("id").asString()));
    }

    Set<UUID> ids() {
        return Set.copyOf(accepted.keySet());
    }

    int size() {
        return accepted.size();
    }

    /** The job as last read. */
    JsonNode job(UUID id) {
        return last.get(id);
    }

    /**
     * Waits up to {@code atMost} until every accepted job is terminal, reading them through whichever of
     * {@code apis} answers; returns normally either way (the report says what did not end).
     */
    void settle(Supplier<List<String>> apis, Duration atMost) {
        try {
            await("every job of " + scenario + " terminal").atMost(atMost).pollDelay(Duration.ZERO)
                    .pollInterval(Duration.ofMillis(200)).until(() -> pollPending(apis.get()) == 0);
        } catch (ConditionTimeoutException e) {
            // reported as stuck
        }
    }

    /** One round of long-polls over the jobs not known to be terminal; answers how many remain so. */
    private int pollPending(List<String> apis) throws InterruptedException {
        var pending = accepted.keySet().stream().filter(id -> !isTerminal(last.get(id))).toList();
        if (pending.isEmpty()) {
            return 0;
        }
        var permits = new Semaphore(CONCURRENT_POLLS);
        var turn = new AtomicInteger();
        try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
            for (var id : pending) {
                permits.acquire();
                executor.submit(() -> {
                    try {
                        read(id, apis.get(Math.floorMod(turn.getAndIncrement(), apis.size())), 3);
                    } finally {
                        permits.release();
                    }
                });
            }
        }
        return (int) pending.stream().filter(id -> !isTerminal(last.get(id))).count();
    }

    /** Reads every accepted job once more (e.g. to see that terminal ones stayed so). */
    void refresh(List<String> apis) {
        var turn = new AtomicInteger();
        try (var executor = Executors.newVirtualThreadPerTaskExecutor()) {
            var permits = new Semaphore(CONCURRENT_POLLS);
            for (var id : accepted.keySet()) {
                permits.acquireUninterruptibly();
                executor.submit(() -> {
                    try {
                        read(id, apis.get(Math.floorMod(turn.getAndIncrement(), apis.size())), 0);
                    } finally {
                        permits.release();
                    }
                });
            }
        }
    }

    private void read(UUID id, String api, int waitSeconds) {
        try {
            var answer = Http.get(api, "/v1/jobs/" + id + "?wait=" + waitSeconds, Duration.ofSeconds(waitSeconds + 10));
            if (answer.status() == 200) {
                last.put(id, answer.json());
                missing.remove(id);
            } else if (answer.status() == 404) {
                missing.add(id);
            }
        } catch (IOException | RuntimeException e) {
            // that api is down or slow: the next round asks again
        }
    }

    static boolean isTerminal(JsonNode job) {
        return job != null && TERMINAL.contains(job.get("status").asString());
    }

    /** What happened to this scenario's jobs. */
    record Report(String scenario, int accepted, int succeeded, int failed, int cancelled, int lost, int stuck,
            int unread, int retried, Duration heal, Map<UUID, String> examples) {

        String line() {
            return "[fault-suite] %-28s accepted=%d succeeded=%d failed=%d cancelled=%d lost=%d stuck=%d unread=%d attempts>1=%d heal=%s"
                    .formatted(scenario, accepted, succeeded, failed, cancelled, lost, stuck, unread, retried,
                            heal == null ? "n/a" : "%.1fs".formatted(heal.toMillis() / 1000.0));
        }

        @Override
        public String toString() {
            return line() + (examples.isEmpty() ? "" : System.lineSeparator() + "  examples: " + examples);
        }
    }

    /**
     * Counts the jobs by final state; {@code heal} runs from {@code faultAt} to the last {@code finishedAt} (null
     * when there was no fault). Lost: the api answers 404 for a job it accepted. Stuck: not terminal. Unread: no
     * answer at all.
     */
    Report report(Instant faultAt) {
        return report(faultAt, id -> "");
    }

    /** As {@link #report(Instant)}, each example followed by {@code history} of its job (e.g. its events). */
    Report report(Instant faultAt, java.util.function.Function<UUID, String> history) {
        int succeeded = 0, failed = 0, cancelled = 0, stuck = 0, unread = 0, retried = 0;
        Instant lastFinish = null;
        var examples = new LinkedHashMap<UUID, String>();
        for (var id : accepted.keySet()) {
            var job = last.get(id);
            if (missing.contains(id)) {
                example(examples, id, "404: lost");
                continue;
            }
            if (job == null) {
                unread++;
                example(examples, id, "never read");
                continue;
            }
            var status = job.get("status").asString();
            switch (status) {
                case "SUCCEEDED" -> succeeded++;
                case "FAILED" -> failed++;
                case "CANCELLED" -> cancelled++;
                default -> stuck++;
            }
            if (!status.equals("SUCCEEDED")) {
                example(examples, id, status + " attempts=" + job.get("attempts") + " error=" + job.get("error")
                        + " worker=" + job.get("workerId") + history.apply(id));
            }
            if (job.get("attempts").asInt() > 1) {
                retried++;
            }
            if (isTerminal(job) && job.hasNonNull("finishedAt")) {
                var finished = Instant.parse(job.get("finishedAt").asString());
                lastFinish = lastFinish == null || finished.isAfter(lastFinish) ? finished : lastFinish;
            }
        }
        var heal = faultAt == null || lastFinish == null ? null : Duration.between(faultAt, lastFinish);
        return new Report(scenario, accepted.size(), succeeded, failed, cancelled, missing.size(), stuck, unread,
                retried, heal, examples);
    }

    private static void example(Map<UUID, String> examples, UUID id, String what) {
        if (examples.size() < 8) {
            examples.put(id, what);
        }
    }
}
