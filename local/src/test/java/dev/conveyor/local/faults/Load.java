package dev.conveyor.local.faults;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;

/**
 * Client threads that submit single jobs through the apis in turn until stopped, and sort every answer: accepted
 * (202, into the ledger), refused with a problem document (by status), anything else, or no answer at all.
 */
final class Load implements AutoCloseable {

    /** What one submission got. */
    record Outcome(String api, int status, String detail) {
    }

    private final Ledger ledger;
    private final Supplier<List<String>> apis;
    private final String body;
    private final Duration pace;
    private final Duration timeout;
    private final List<Thread> threads = new ArrayList<>();
    private final Map<Integer, AtomicInteger> problems = new ConcurrentHashMap<>();
    private final List<Outcome> unexpected = new CopyOnWriteArrayList<>();
    private final List<Outcome> unanswered = new CopyOnWriteArrayList<>();
    private final AtomicInteger sent = new AtomicInteger();
    private volatile boolean running = true;

    /**
     * Starts {@code clients} threads, each submitting {@code body} and then pausing {@code pace} (to hold a steady
     * rate that leaves the two cores to the system under test).
     */
    Load(Ledger ledger, Supplier<List<String>> apis, int clients, String body, Duration pace, Duration timeout) {
        this.ledger = ledger;
        this.apis = apis;
        this.body = body;
        this.pace = pace;
        this.timeout = timeout;
        for (var n = 0; n < clients; n++) {
            var client = n;
            threads.add(Thread.ofVirtual().name("load-" + n).start(() -> run(client)));
        }
    }

    private void run(int client) {
        var turn = client;
        while (running) {
            var targets = apis.get();
            var api = targets.get(Math.floorMod(turn++, targets.size()));
            sent.incrementAndGet();
            try {
                var answer = Http.post(api, "/v1/jobs", body, timeout);
                if (answer.status() == 202) {
                    ledger.accept(answer.json());
                } else if (answer.isProblem() && answer.status() >= 500) {
                    problems.computeIfAbsent(answer.status(), k -> new AtomicInteger()).incrementAndGet();
                } else {
                    unexpected.add(new Outcome(api, answer.status(), answer.toString()));
                }
            } catch (IOException e) {
                unanswered.add(new Outcome(api, 0, e.toString()));
            }
            try {
                Thread.sleep(pace);
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    int sent() {
        return sent.get();
    }

    /** Refusals by status (only 5xx problem documents are counted here; others are unexpected). */
    Map<Integer, Integer> problems() {
        var out = new java.util.TreeMap<Integer, Integer>();
        problems.forEach((status, count) -> out.put(status, count.get()));
        return out;
    }

    List<Outcome> unexpected() {
        return List.copyOf(unexpected);
    }

    List<Outcome> unanswered() {
        return List.copyOf(unanswered);
    }

    /** Stops the clients and waits for their last requests. */
    @Override
    public void close() {
        running = false;
        for (var thread : threads) {
            try {
                thread.join(Duration.ofSeconds(60));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    String summary() {
        return "sent=" + sent() + " accepted=" + ledger.size() + " refused(problem)=" + problems() + " unexpected="
                + unexpected.size() + " unanswered=" + unanswered.size();
    }
}
