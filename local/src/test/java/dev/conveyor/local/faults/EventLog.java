package dev.conveyor.local.faults;

import dev.conveyor.common.Json;
import dev.conveyor.common.Topics;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Set;
import java.util.TreeMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Everything the workers reported on {@code conveyor.events}, read from the beginning by a plain consumer of the
 * test's own (no group): the history of every job's runs, which the Job resource does not show (it has the last
 * attempt only). Unreadable records (the poison scenario writes some) are counted and skipped.
 */
final class EventLog implements AutoCloseable {

    /** One event about a job: {@code kind} is started, progress or finished. */
    record Event(String kind, int attempt, String workerId, Instant at, String outcome, String errorCode,
            Instant startedAt) {
    }

    private final Map<UUID, List<Event>> byJob = new ConcurrentHashMap<>();
    private final AtomicLong unreadable = new AtomicLong();
    private final KafkaConsumer<String, String> consumer;
    private final Thread thread;
    private volatile boolean running = true;

    EventLog(String bootstrapServers) {
        consumer = new KafkaConsumer<>(Map.<String, Object>of("bootstrap.servers", bootstrapServers,
                "enable.auto.commit", false, "auto.offset.reset", "earliest", "reconnect.backoff.max.ms", 1000),
                new StringDeserializer(), new StringDeserializer());
        List<TopicPartition> partitions = List.of();
        var deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (partitions.isEmpty() && System.nanoTime() < deadline) {
            partitions = consumer.partitionsFor(Topics.EVENTS, Duration.ofSeconds(10)).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
        }
        if (partitions.isEmpty()) {
            consumer.close();
            throw new IllegalStateException(Topics.EVENTS + " has no partitions after 60 s");
        }
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        thread = Thread.ofPlatform().daemon().name("event-log").start(this::run);
    }

    private void run() {
        try {
            while (running) {
                for (var record : consumer.poll(Duration.ofMillis(200))) {
                    add(record.value());
                }
            }
        } catch (WakeupException e) {
            // closing
        } finally {
            consumer.close(Duration.ofSeconds(2));
        }
    }

    private void add(String value) {
        try {
            var node = Json.tree(value);
            var id = UUID.fromString(node.get("jobId").asString());
            var event = new Event(node.get("event").asString(), node.get("attempt").asInt(),
                    node.hasNonNull("workerId") ? node.get("workerId").asString() : null,
                    Instant.parse(node.get("at").asString()),
                    node.hasNonNull("outcome") ? node.get("outcome").asString() : null,
                    node.hasNonNull("error") && node.get("error").hasNonNull("code")
                            ? node.get("error").get("code").asString() : null,
                    node.hasNonNull("startedAt") ? Instant.parse(node.get("startedAt").asString()) : null);
            byJob.computeIfAbsent(id, k -> java.util.Collections.synchronizedList(new ArrayList<>())).add(event);
        } catch (RuntimeException e) {
            unreadable.incrementAndGet();
        }
    }

    /** The events of one job, in the order they were read (the order of its partition). */
    List<Event> of(UUID jobId) {
        var events = byJob.get(jobId);
        if (events == null) {
            return List.of();
        }
        synchronized (events) {
            return List.copyOf(events);
        }
    }

    /**
     * The starts of one job: each is a run of its handler (or about to be). A worker reports the start of a short
     * attempt only with its end (which says when it started): such an end counts as the attempt's start here.
     */
    List<Event> starts(UUID jobId) {
        var events = of(jobId);
        var started = new HashSet<String>();
        events.stream().filter(e -> e.kind().equals("started")).forEach(e -> started.add(e.attempt() + "@"
                + e.workerId()));
        var out = new ArrayList<Event>();
        for (var e : events) {
            if (e.kind().equals("started")) {
                out.add(e);
            } else if (e.kind().equals("finished") && e.startedAt() != null
                    && !started.contains(e.attempt() + "@" + e.workerId())) {
                out.add(new Event("started", e.attempt(), e.workerId(), e.startedAt(), null, null, null));
            }
        }
        return out;
    }

    /**
     * Jobs with an attempt below their last that left no event at all: a worker took its record and stopped before
     * it reported the attempt (the api's reconciler counted it as lost). Only a fault that stops workers explains it.
     */
    Set<UUID> lostWithoutATrace(Ledger ledger) {
        var out = new HashSet<UUID>();
        for (var id : ledger.ids()) {
            var job = ledger.job(id);
            if (job == null) {
                continue;
            }
            var reported = of(id).stream().map(Event::attempt).collect(java.util.stream.Collectors.toSet());
            for (var attempt = 1; attempt < job.get("attempts").asInt(); attempt++) {
                if (!reported.contains(attempt)) {
                    out.add(id);
                }
            }
        }
        return out;
    }

    /**
     * The runs of one job: its starts, less copies of one message (same worker, attempt and instant), which a
     * producer retrying across a broker crash can write twice.
     */
    List<Event> runs(UUID jobId) {
        return starts(jobId).stream().distinct().toList();
    }

    /** How many of the job's events are copies of another (same content). */
    int copies(UUID jobId) {
        var events = of(jobId);
        return events.size() - (int) events.stream().distinct().count();
    }

    /**
     * How the jobs ran, from {@code conveyor.events}: jobs run more than once (and of those, how many re-ran an
     * attempt number already started, which {@code attempts} does not count), copied event messages, and jobs the
     * api shows unfinished although their outcome is on Kafka.
     */
    String runs(Ledger ledger) {
        int rerun = 0, sameAttempt = 0, copied = 0, unrecorded = 0;
        for (var id : ledger.ids()) {
            var runs = runs(id);
            if (runs.size() > 1) {
                rerun++;
                if (runs.stream().map(EventLog.Event::attempt).distinct().count() < runs.size()) {
                    sameAttempt++;
                }
            }
            if (copies(id) > 0) {
                copied++;
            }
            var job = ledger.job(id);
            if (job != null && !Ledger.isTerminal(job) && of(id).stream().anyMatch(e -> e.kind().equals("finished")
                    && e.attempt() == job.get("attempts").asInt())) {
                unrecorded++;
            }
        }
        return "runs>1=" + rerun + " (re-ran a started attempt number=" + sameAttempt + ") jobs with copied events="
                + copied + " unfinished although their outcome is on Kafka=" + unrecorded;
    }

    /** Jobs the worker started and did not report finished. */
    Set<UUID> unfinishedOn(Set<UUID> ids, String workerId) {
        var out = new HashSet<UUID>();
        for (var id : ids) {
            var starts = new HashMap<Integer, Boolean>();
            for (var e : of(id)) {
                if (workerId.equals(e.workerId()) && e.kind().equals("started")) {
                    starts.put(e.attempt(), Boolean.TRUE);
                } else if (workerId.equals(e.workerId()) && e.kind().equals("finished")) {
                    starts.remove(e.attempt());
                }
            }
            if (!starts.isEmpty()) {
                out.add(id);
            }
        }
        return out;
    }

    /** Jobs run more than once, or with attempts > 1, that are not among those the fault explains. */
    Map<UUID, String> unexplainedRetries(Ledger ledger, Set<UUID> explained) {
        var out = new TreeMap<UUID, String>();
        for (var id : ledger.ids()) {
            var job = ledger.job(id);
            var starts = runs(id);
            var attempts = job == null ? 0 : job.get("attempts").asInt();
            if ((attempts > 1 || starts.size() > 1) && !explained.contains(id)) {
                out.put(id, "attempts=" + attempts + " runs=" + starts.stream()
                        .map(s -> s.attempt() + "@" + s.workerId() + " " + s.at()).toList());
            }
        }
        return out;
    }

    /** What {@code conveyor.events} holds about a job: each event as kind attempt@worker (outcome), in order. */
    String history(UUID id) {
        return " events=" + of(id).stream().map(e -> e.kind() + " " + e.attempt() + "@" + e.workerId()
                + (e.outcome() == null ? "" : " " + e.outcome())).toList();
    }

    long unreadable() {
        return unreadable.get();
    }

    @Override
    public void close() {
        running = false;
        consumer.wakeup();
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
