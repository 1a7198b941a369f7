package dev.conveyor.local.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.common.Topics;
import dev.conveyor.local.FaultCluster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.assertj.core.api.SoftAssertions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;
import tools.jackson.databind.JsonNode;

/**
 * Issue #7, "Nothing stops, nothing sticks, nothing is lost": the whole system in real processes (PostgreSQL, a
 * Kafka broker, two apis, three workers), started once, and one fault after another injected into it under load.
 * After each fault every job the scenario had accepted is read back through the api: none lost, none left in a
 * non-final state, and every extra run explained by the fault (at least once). Each scenario prints its counts and
 * its time to heal (fault to the last job's end) as a {@code [fault-suite]} line, also written to
 * {@code target/fault-suite/<run>/summary.txt}; the processes' logs stay beside it.
 *
 * <p>The poison scenario runs last: a record that wedges the api's event consumer would otherwise take every later
 * scenario down with it, and hide what those would have shown.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FaultSuiteTest {

    /** The promise of scenario a: a dead worker's jobs start again this soon (plus {@link #SLACK}). */
    static final Duration RERUN_WITHIN = Duration.ofSeconds(10);
    static final Duration SLACK = Duration.ofSeconds(2);
    /**
     * Jobs a killed worker had taken but whose start never reached Kafka (a start is not awaited) run again once the api's
     * reconciler, which looks every second, has found their records settled for a whole reconcile-interval (10 s); the
     * records settle when their lock ends, and on a busy partition only once the records before them have.
     */
    static final Duration UNTRACED_RERUN_WITHIN = Duration.ofSeconds(40);
    static final Duration WORKER_LOST_AFTER = Duration.ofSeconds(5);
    static final int MAX_LOST_ATTEMPTS = 3;
    static final int WORKERS = 3;
    static final String ECHO = "{\"type\":\"echo\",\"payload\":{\"n\":1}}";

    static FaultCluster cluster;
    static EventLog events;
    static Path home;
    static final List<String> summary = new CopyOnWriteArrayList<>();

    @RegisterExtension
    static final TestWatcher LOG_TAILS = new TestWatcher() {
        @Override
        public void testFailed(ExtensionContext context, Throwable cause) {
            if (cluster != null) {
                System.out.println("==== " + context.getDisplayName() + " failed; the processes' last log lines:");
                System.out.println(cluster.tails(25));
            }
        }
    };

    @BeforeAll
    static void startTheSystem() throws IOException {
        home = Path.of("target", "fault-suite", DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")
                .format(java.time.LocalDateTime.now())).toAbsolutePath();
        Files.createDirectories(home);
        var settings = new FaultCluster.Settings(2, WORKERS, List.of("default", "two"),
                // Scenario g: a job must outlive the share record lock; 5 s instead of 30 s keeps it short.
                Map.of("group.share.record.lock.duration.ms", "5000", "group.share.min.record.lock.duration.ms", "1000"),
                List.of("--conveyor.api.queues=default,two",
                        "--conveyor.api.retry.base-delay=200ms",
                        "--conveyor.api.retry.max-lost-attempts=" + MAX_LOST_ATTEMPTS,
                        "--conveyor.api.worker-lost-after=" + WORKER_LOST_AFTER.toSeconds() + "s"),
                List.of("--conveyor.worker.test-handlers.halt=true",
                        "--conveyor.worker.shutdown-grace=5s"),
                List.of("-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1"));
        var started = System.nanoTime();
        try {
            cluster = FaultCluster.start(settings, home, Map.of("two", 2));
            events = new EventLog(cluster.bootstrapServers());
            awaitWorkersListed(cluster.liveWorkers().stream().map(FaultCluster.Worker::id).toList());
        } catch (RuntimeException | Error e) {
            if (cluster != null) {
                System.out.println(cluster.tails(40));
            }
            throw e;
        }
        record("system started in %.1f s (logs in %s)".formatted((System.nanoTime() - started) / 1e9, cluster.logs()));
    }

    @AfterAll
    static void stopTheSystem() throws IOException {
        if (events != null) {
            events.close();
        }
        if (cluster != null) {
            cluster.close();
        }
        if (home != null) {
            Files.write(home.resolve("summary.txt"), summary);
            deleteTree(home.resolve("data")); // the logs stay
        }
        System.out.println(String.join(System.lineSeparator(), summary));
    }

    /** A scenario that failed may leave a process down; the next one starts from a whole system. */
    @BeforeEach
    void wholeSystem() {
        if (!cluster.postgresAlive()) {
            cluster.restartPostgres();
        }
        if (!cluster.kafkaAlive()) {
            cluster.restartKafka();
        }
        cluster.apis().stream().filter(api -> !api.isAlive()).forEach(FaultCluster.Api::restart);
        while (cluster.liveWorkers().size() < WORKERS) {
            cluster.startWorker();
        }
        awaitWorkersListed(cluster.liveWorkers().stream().map(FaultCluster.Worker::id).toList());
    }

    @Test
    @Order(1)
    void a_aKilledWorkersJobsRunAgainWithinTenSeconds() {
        var ledger = new Ledger("a worker SIGKILL");
        submitBatches(ledger, 2000, "{\"type\":\"sleep\",\"payload\":{\"ms\":3000}}");
        var workers = cluster.liveWorkers();
        // In flight (started: the start is on Kafka; not finished) on at least two workers, so that one survives the
        // kill of the busiest. Not on every worker: on a cold 2-core machine the share group sometimes leaves a
        // worker without records for over a minute (CI, 1 December), which says nothing about the rescue tested here.
        await("jobs in flight on two workers").atMost(Duration.ofSeconds(90)).until(() ->
                workers.stream().filter(w -> events.unfinishedOn(ledger.ids(), w.id()).size() >= 50).count() >= 2);
        var victim = workers.stream().max(Comparator.comparingInt(w -> events.unfinishedOn(ledger.ids(), w.id()).size()))
                .orElseThrow();
        var inFlightAtKill = workers.stream().mapToInt(w -> events.unfinishedOn(ledger.ids(), w.id()).size()).sum();
        var killedAt = Instant.now();
        victim.kill();
        // No replacement until the next scenario: the survivors alone must take over, including the victim's share
        // partitions, which Kafka hands them once its session ends (6 s here; Kafka's default is 45 s). A replacement
        // joining would hand them over too, as soon as it started, and hide a long session.
        ledger.settle(this::apis, Duration.ofSeconds(90));

        var report = ledger.report(killedAt, events::history);
        // The victim's runs cut short: it started them and never reported their end (a start may be stamped a
        // moment after killedAt, which is taken just before the signal).
        var cutShort = events.unfinishedOn(ledger.ids(), victim.id());
        var late = new TreeMap<UUID, String>();
        var reran = new ArrayList<Duration>();
        for (var id : cutShort) {
            var next = events.starts(id).stream().filter(s -> !s.workerId().equals(victim.id()))
                    .filter(s -> !s.at().isBefore(killedAt)).findFirst();
            if (next.isEmpty()) {
                late.put(id, "never started again");
            } else {
                var delay = Duration.between(killedAt, next.get().at());
                reran.add(delay);
                if (delay.compareTo(RERUN_WITHIN.plus(SLACK)) > 0) {
                    late.put(id, "started again " + seconds(delay) + " after the kill, on " + next.get().workerId());
                }
            }
        }
        // Jobs the victim had taken but not yet reported (younger than start-event-after): their attempt left no
        // event, and the api's reconciler counts it as lost once Kafka shows their records settled.
        var untraced = events.lostWithoutATrace(ledger);
        var reranUntraced = new ArrayList<Duration>();
        for (var id : untraced) {
            events.starts(id).stream().filter(s -> !s.at().isBefore(killedAt)).findFirst().ifPresentOrElse(
                    s -> {
                        var delay = Duration.between(killedAt, s.at());
                        reranUntraced.add(delay);
                        if (delay.compareTo(UNTRACED_RERUN_WITHIN) > 0) {
                            late.put(id, "taken without a trace, started again " + seconds(delay) + " after the kill");
                        }
                    },
                    () -> late.put(id, "taken without a trace and never started again"));
        }
        var explained = new HashSet<>(cutShort);
        explained.addAll(untraced);
        var unexplained = events.unexplainedRetries(ledger, explained);
        var slowest = reran.stream().max(Comparator.naturalOrder()).orElse(null);
        var slowestUntraced = reranUntraced.stream().max(Comparator.naturalOrder()).orElse(null);
        record(report.line() + " | " + events.runs(ledger) + " | in flight at kill=" + inFlightAtKill + " on " + victim.id() + ": cut short="
                + cutShort.size() + ", slowest rerun=" + (slowest == null ? "n/a" : seconds(slowest))
                + "; taken without a trace=" + untraced.size() + ", slowest rerun="
                + (slowestUntraced == null ? "n/a" : seconds(slowestUntraced)));

        var soft = new SoftAssertions();
        soft.assertThat(cutShort).as("jobs the killed worker was running at the kill").isNotEmpty();
        allSucceeded(soft, report);
        soft.assertThat(late.size()).as("cut-short jobs of %s (of %d) not started again within %s + %s of the kill, e.g. %s",
                victim.id(), cutShort.size(), seconds(RERUN_WITHIN), seconds(SLACK), sample(late)).isZero();
        soft.assertThat(unexplained.size()).as("jobs with attempts > 1 (or more than one run) that the kill does not "
                + "explain, e.g. %s", sample(unexplained)).isZero();
        soft.assertAll();
    }

    @Test
    @Order(2)
    void b_aKilledApiLosesNoSubmissionAndRetriedKeysMakeOneJobEach() throws Exception {
        var ledger = new Ledger("b api SIGKILL");
        var apis = cluster.apis();
        var keys = new ConcurrentHashMap<String, UUID>();
        var failures = new CopyOnWriteArrayList<String>();
        var retried = new AtomicInteger();
        var replayed = new AtomicInteger();
        var noAnswer = new AtomicInteger();
        var counter = new AtomicInteger();
        var running = new AtomicBoolean(true);
        var clients = new ArrayList<Thread>();
        for (var n = 0; n < 8; n++) {
            var first = n;
            clients.add(Thread.ofVirtual().start(() -> {
                var turn = first;
                while (running.get()) {
                    var key = "b-" + counter.incrementAndGet();
                    var body = "{\"type\":\"echo\",\"payload\":{\"key\":\"" + key + "\"}}";
                    submitOnce(apis, turn++, key, body, ledger, keys, failures, retried, replayed, noAnswer);
                    pace(Duration.ofMillis(100));
                }
            }));
        }
        window(Duration.ofSeconds(3)); // load through both apis before the fault
        var killedAt = Instant.now();
        apis.getFirst().kill();
        window(Duration.ofSeconds(4)); // every client now meets the dead api in turn
        var restartStarted = System.nanoTime();
        apis.getFirst().restart();
        var restart = Duration.ofNanos(System.nanoTime() - restartStarted);
        window(Duration.ofSeconds(2)); // and both apis again
        running.set(false);
        for (var client : clients) {
            client.join(Duration.ofSeconds(30));
        }
        ledger.settle(this::apis, Duration.ofSeconds(60));
        var report = ledger.report(killedAt, events::history);

        var jobsByKey = listJobs("type=echo").stream().filter(j -> j.hasNonNull("idempotencyKey"))
                .filter(j -> j.get("idempotencyKey").asString().startsWith("b-"))
                .collect(Collectors.groupingBy(j -> j.get("idempotencyKey").asString()));
        var notOne = new TreeMap<String, String>();
        keys.forEach((key, id) -> {
            var jobs = jobsByKey.getOrDefault(key, List.of());
            if (jobs.size() != 1 || !jobs.getFirst().get("id").asString().equals(id.toString())) {
                notOne.put(key, jobs.size() + " jobs " + jobs.stream().map(j -> j.get("id").asString()).toList()
                        + ", answered " + id);
            }
        });
        jobsByKey.keySet().stream().filter(key -> !keys.containsKey(key))
                .forEach(key -> notOne.put(key, "a job no client was answered for"));
        // The same key again, now that both apis run: the same job, replayed.
        var replays = new TreeMap<String, String>();
        keys.entrySet().stream().limit(200).forEach(entry -> {
            try {
                var answer = Http.post(apis.get(entry.getKey().hashCode() & 1).baseUrl(), "/v1/jobs",
                        "{\"type\":\"echo\",\"payload\":{\"key\":\"" + entry.getKey() + "\"}}", Duration.ofSeconds(10),
                        "Idempotency-Key", entry.getKey());
                if (answer.status() != 200 || !"true".equals(answer.header("Idempotent-Replayed"))
                        || !answer.json().get("id").asString().equals(entry.getValue().toString())) {
                    replays.put(entry.getKey(), answer.toString());
                }
            } catch (IOException e) {
                replays.put(entry.getKey(), e.toString());
            }
        });
        record(report.line() + " | " + events.runs(ledger) + " | api restart took " + seconds(restart) + ", keys=" + keys.size() + " no answer, retried on the other api=" + noAnswer.get()
                + " (answered 200 replay=" + replayed.get() + ", 202=" + (retried.get() - replayed.get()) + ")");

        var soft = new SoftAssertions();
        soft.assertThat(noAnswer.get()).as("submissions that met the dead api").isPositive();
        soft.assertThat(failures.size()).as("submissions answered with something other than 202 or a replay, e.g. %s",
                failures.stream().limit(5).toList()).isZero();
        allSucceeded(soft, report);
        soft.assertThat(notOne.size()).as("idempotency keys that do not map to exactly the one job answered, e.g. %s",
                sample(notOne)).isZero();
        soft.assertThat(replays.size()).as("keys submitted again that did not replay their job, e.g. %s", sample(replays))
                .isZero();
        soft.assertAll();
    }

    @Test
    @Order(3)
    void c_aKafkaCrashLosesNoAcceptedJob() {
        var ledger = new Ledger("c Kafka SIGKILL 15 s");
        Instant killedAt;
        Instant restartedAt;
        Instant back;
        Load load;
        Map<String, Integer> readyInTheOutage;
        try (var l = new Load(ledger, this::apis, 4, ECHO, Duration.ofMillis(50), Duration.ofSeconds(30))) {
            load = l;
            window(Duration.ofSeconds(3)); // load before the fault
            killedAt = Instant.now();
            cluster.killKafka();
            window(Duration.ofSeconds(15)); // the outage the scenario asks for, with submissions going on
            readyInTheOutage = readiness();
            restartedAt = Instant.now();
            cluster.restartKafka();
            back = Instant.now();
            window(Duration.ofSeconds(3)); // and after it
        }
        ledger.settle(this::apis, Duration.ofSeconds(90));
        var report = ledger.report(killedAt, events::history);
        record(report.line() + " | " + events.runs(ledger) + " | Kafka answered again " + seconds(Duration.between(killedAt, back))
                + " after the kill (restart " + seconds(Duration.between(restartedAt, back)) + "), "
                + load.summary());

        var soft = new SoftAssertions();
        soft.assertThat(load.unexpected()).as("answers other than 202 or a 503 problem").isEmpty();
        soft.assertThat(load.unanswered()).as("submissions with no answer (connection failed or timed out)").isEmpty();
        soft.assertThat(load.problems().keySet()).as("refusals during the outage").isSubsetOf(503);
        // an api without Kafka still takes jobs: an orchestrator must not take them all out of their Service
        soft.assertThat(readyInTheOutage).as("each api's readiness 15 s into the outage").isNotEmpty()
                .allSatisfy((api, status) -> assertThat(status).as(api).isEqualTo(200));
        allSucceeded(soft, report);
        soft.assertAll();
    }

    /** Each live api's readiness status ({@code -1}: no answer). */
    private Map<String, Integer> readiness() {
        var statuses = new java.util.LinkedHashMap<String, Integer>();
        for (var api : apis()) {
            try {
                statuses.put(api, Http.get(api, "/actuator/health/readiness", Duration.ofSeconds(10)).status());
            } catch (IOException e) {
                statuses.put(api, -1);
            }
        }
        return statuses;
    }

    @Test
    @Order(4)
    void d_aPostgresCrashAnswers503AndLosesNoAcceptedJob() {
        var ledger = new Ledger("d PostgreSQL immediate stop");
        Instant stoppedAt;
        Load load;
        try (var l = new Load(ledger, this::apis, 4, ECHO, Duration.ofMillis(50), Duration.ofSeconds(30))) {
            load = l;
            window(Duration.ofSeconds(3)); // load before the fault
            stoppedAt = Instant.now();
            cluster.stopPostgresImmediately();
            window(Duration.ofSeconds(10)); // the outage, with submissions going on
            cluster.restartPostgres();
            window(Duration.ofSeconds(4)); // and after it
        }
        ledger.settle(this::apis, Duration.ofSeconds(60));
        var report = ledger.report(stoppedAt, events::history);
        record(report.line() + " | " + events.runs(ledger) + " | " + load.summary());

        var soft = new SoftAssertions();
        soft.assertThat(load.problems()).as("503 problems during the outage").containsKey(503);
        soft.assertThat(load.problems().keySet()).as("statuses of refusals").isSubsetOf(503);
        soft.assertThat(load.unexpected()).as("answers other than 202 or a 503 problem").isEmpty();
        soft.assertThat(load.unanswered()).as("submissions with no answer (connection failed or timed out)").isEmpty();
        allSucceeded(soft, report);
        soft.assertAll();
    }

    @Test
    @Order(5)
    void f_aJobThatHaltsItsWorkerFailsAfterTheLostAttemptsAllowedAndTheFleetSurvives() throws IOException {
        var ledger = new Ledger("f halting job");
        var supervising = new AtomicBoolean(true);
        var halted = new CopyOnWriteArrayList<String>();
        cluster.liveWorkers().forEach(w -> supervise(w, supervising, halted));
        Instant submittedAt = Instant.now();
        JsonNode job;
        try {
            var answer = Http.post(apis().getFirst(), "/v1/jobs", "{\"type\":\"halt\",\"payload\":{}}",
                    Duration.ofSeconds(10));
            assertThat(answer.status()).as("submitting a halt job: %s", answer).isEqualTo(202);
            ledger.accept(answer.json());
            ledger.settle(this::apis, Duration.ofSeconds(120));
        } finally {
            supervising.set(false);
        }
        var id = ledger.ids().iterator().next();
        job = ledger.job(id);
        var starts = events.starts(id);
        var gaps = new ArrayList<String>();
        for (var i = 1; i < starts.size(); i++) {
            gaps.add(seconds(Duration.between(starts.get(i - 1).at(), starts.get(i).at())));
        }
        var report = ledger.report(submittedAt, events::history);
        record(report.line() + " | workers halted=" + halted.size() + ", runs=" + starts.size() + " on "
                + starts.stream().map(EventLog.Event::workerId).toList() + ", between runs " + gaps + ", job: "
                + (job == null ? "never read" : job.get("status") + " " + job.get("error")));

        // Then, as a supervisor would have: every halted worker replaced; 100 jobs run on the fleet.
        while (cluster.liveWorkers().size() < WORKERS) {
            cluster.startWorker();
        }
        awaitWorkersListed(cluster.liveWorkers().stream().map(FaultCluster.Worker::id).toList());
        var after = new Ledger("f fleet after halts");
        submitBatches(after, 100, ECHO);
        after.settle(this::apis, Duration.ofSeconds(60));
        var afterReport = after.report(null, events::history);
        record(afterReport.line());

        var soft = new SoftAssertions();
        soft.assertThat(job).as("the halt job").isNotNull();
        if (job != null) {
            soft.assertThat(job.get("status").asString()).as("status of the halt job (error %s)", job.get("error"))
                    .isEqualTo("FAILED");
            soft.assertThat(job.path("error").path("code").asString("")).as("error code of the halt job: %s",
                    job.get("error")).isEqualTo("WORKER_LOST");
            soft.assertThat(job.get("attempts").asInt()).as("attempts of the halt job (max-lost-attempts=%d)",
                    MAX_LOST_ATTEMPTS).isEqualTo(MAX_LOST_ATTEMPTS);
        }
        // One more than the losses allowed when the first worker halts before Kafka has its record's acceptance
        // (a first attempt on its first delivery starts at once); the record then comes back to a second worker,
        // which runs it only once Kafka has the acceptance, as every later attempt does.
        soft.assertThat(halted.size()).as("workers the halt job stopped: %s", halted)
                .isBetween(MAX_LOST_ATTEMPTS, MAX_LOST_ATTEMPTS + 1);
        allSucceeded(soft, afterReport);
        soft.assertAll();
    }

    @Test
    @Order(6)
    void g_aJobLongerThanTheRecordLockRunsOnceAndFiveWorkersShareATwoPartitionQueue() {
        var ledger = new Ledger("g long job");
        var long_ = submit(ledger, "{\"type\":\"sleep\",\"timeoutSeconds\":60,\"payload\":{\"ms\":12000}}");
        // Two more workers: five on queue `two`, which has two partitions.
        var extra = List.of(cluster.startWorker(), cluster.startWorker());
        try {
            var five = cluster.liveWorkers().stream().map(FaultCluster.Worker::id).toList();
            awaitWorkersListed(five);
            var spread = new Ledger("g five workers, 2 partitions");
            var started = Instant.now();
            try (var load = new Load(spread, this::apis, 8, "{\"type\":\"sleep\",\"queue\":\"two\",\"payload\":{\"ms\":1500}}",
                    Duration.ofMillis(20), Duration.ofSeconds(30))) {
                await("400 jobs on queue two").atMost(Duration.ofSeconds(60)).until(() -> spread.size() >= 400);
            }
            spread.settle(this::apis, Duration.ofSeconds(60));
            ledger.settle(this::apis, Duration.ofSeconds(40));
            var report = ledger.report(null, events::history);
            var spreadReport = spread.report(started, events::history);
            var byWorker = new TreeMap<String, Integer>();
            spread.ids().forEach(id -> events.starts(id).forEach(s -> byWorker.merge(s.workerId(), 1, Integer::sum)));
            var longJob = ledger.job(long_);
            var longRuns = events.runs(long_);
            record(report.line() + " | 12 s job with a 5 s record lock: runs=" + longRuns.size() + " attempts="
                    + (longJob == null ? "?" : longJob.get("attempts")));
            record(spreadReport.line() + " | runs per worker " + byWorker);

            var soft = new SoftAssertions();
            allSucceeded(soft, report);
            soft.assertThat(longRuns).as("runs of the job longer than the record lock").hasSize(1);
            if (longJob != null) {
                soft.assertThat(longJob.get("attempts").asInt()).as("attempts of the long job").isEqualTo(1);
            }
            allSucceeded(soft, spreadReport);
            soft.assertThat(byWorker.keySet()).as("workers that ran jobs of queue two (2 partitions)")
                    .containsAll(five);
            soft.assertAll();
        } finally {
            extra.forEach(w -> w.stop(Duration.ofSeconds(10)));
        }
    }

    @Test
    @Order(7)
    void h_aKafkaOutageLongerThanWorkerLostAfterRetriesNoJobWhoseWorkerStillRunsIt() {
        var ledger = new Ledger("h Kafka outage 12 s");
        submitBatches(ledger, 30, "{\"type\":\"sleep\",\"timeoutSeconds\":120,\"payload\":{\"ms\":30000}}");
        await("30 long jobs running").atMost(Duration.ofSeconds(60)).until(() ->
                ledger.ids().stream().allMatch(id -> !events.starts(id).isEmpty()));
        var killedAt = Instant.now();
        cluster.killKafka();
        window(WORKER_LOST_AFTER.multipliedBy(2)); // the outage must outlast worker-lost-after
        cluster.restartKafka();
        var outage = Duration.between(killedAt, Instant.now());
        ledger.settle(this::apis, Duration.ofSeconds(90));
        var report = ledger.report(killedAt, events::history);
        var rerun = new TreeMap<UUID, String>();
        ledger.ids().forEach(id -> {
            var starts = events.runs(id);
            var job = ledger.job(id);
            if (starts.size() != 1 || job == null || job.get("attempts").asInt() != 1) {
                rerun.put(id, "runs " + starts.stream().map(s -> s.attempt() + "@" + s.workerId() + " " + s.at()).toList()
                        + " attempts=" + (job == null ? "?" : job.get("attempts") + " error=" + job.get("error")));
            }
        });
        record(report.line() + " | " + events.runs(ledger) + " | Kafka answered again " + seconds(outage) + " after the kill; retried while still "
                + "running=" + rerun.size());

        var soft = new SoftAssertions();
        allSucceeded(soft, report);
        soft.assertThat(rerun.size()).as("jobs (of %d) run again although their worker ran them through the outage, "
                + "e.g. %s", ledger.size(), sample(rerun)).isZero();
        soft.assertAll();
    }

    @Test
    @Order(8)
    void e_poisonInputsAndRecordsFailOnlyThemselves() throws Exception {
        var ledger = new Ledger("e poison, 1000 echo around");
        var soft = new SoftAssertions();
        // Real jobs for forged events to hit, running while the poison goes in.
        var targets = new Ledger("e targets");
        var nulResult = submit(targets, "{\"type\":\"sleep\",\"payload\":{\"ms\":15000}}");
        var hugeRetryAfter = submit(targets, "{\"type\":\"sleep\",\"payload\":{\"ms\":15000}}");
        var nulProgress = submit(targets, "{\"type\":\"sleep\",\"payload\":{\"ms\":15000}}");
        var tinyResult = submit(targets, "{\"type\":\"sleep\",\"payload\":{\"ms\":15000}}");
        var toCancel = submit(targets, "{\"type\":\"sleep\",\"payload\":{\"ms\":60000}}");
        submitBatches(ledger, 500, ECHO);
        var firstPoisonAt = Instant.now();
        Poison.hostileRequests(soft, apis());
        ledger.settle(this::apis, Duration.ofSeconds(60));
        var doneEarlier = ledger.ids().stream().filter(id -> Ledger.isTerminal(ledger.job(id))).limit(2).toList();
        await("the target jobs running").atMost(Duration.ofSeconds(60)).until(() ->
                List.of(nulResult, hugeRetryAfter, nulProgress, tinyResult, toCancel).stream().allMatch(id -> !events.starts(id).isEmpty()));

        try (var producer = new KafkaProducer<>(Map.<String, Object>of("bootstrap.servers", cluster.bootstrapServers(),
                "acks", "all"), new StringSerializer(), new ByteArraySerializer())) {
            var now = Instant.now().toString();
            var garbage = new byte[] {0, (byte) 0xff, 'n', 'o', 't', ' ', 'j', 's', 'o', 'n', (byte) 0xc3};
            for (var topic : List.of(Topics.jobs("default"), Topics.EVENTS, Topics.CONTROL, Topics.WORKERS)) {
                Poison.send(producer, topic, "garbage", garbage);
                Poison.send(producer, topic, "wrong-fields", "{\"v\":1,\"jobId\":\"not-a-uuid\",\"attempt\":\"x\",\"event\":\"finished\"}");
                Poison.send(producer, topic, "empty-object", "{}");
            }
            // jobs: a dispatch of a job the api never had, and one that would fail a job that SUCCEEDED already
            var stranger = UUID.randomUUID();
            Poison.send(producer, Topics.jobs("default"), stranger.toString(), Poison.dispatch(stranger, "echo", "{}", now));
            var done = doneEarlier.getFirst();
            Poison.send(producer, Topics.jobs("default"), done.toString(),
                    Poison.dispatch(done, "fail", "{\"message\":\"forged\",\"retryable\":false}", now));
            // events: an unknown kind, a success whose result holds NUL, a retry in 292 million years, NUL progress,
            // and a start of a new attempt of a job that ended
            Poison.send(producer, Topics.EVENTS, nulResult.toString(), "{\"event\":\"exploded\",\"v\":99,\"jobId\":\"" + nulResult
                    + "\",\"attempt\":1,\"at\":\"" + now + "\"}");
            var worker = events.starts(nulResult).getFirst().workerId();
            Poison.send(producer, Topics.EVENTS, nulResult.toString(), Poison.finished(nulResult, worker, "SUCCEEDED",
                    "{\"s\":\"a\\u0000b\"}", "null", "null", now));
            // short text, but 20,001 characters written out: jsonb refuses it, which would fail the batch's update
            Poison.send(producer, Topics.EVENTS, tinyResult.toString(), Poison.finished(tinyResult,
                    events.starts(tinyResult).getFirst().workerId(), "SUCCEEDED", "{\"x\":1e-20000}", "null", "null",
                    now));
            Poison.send(producer, Topics.EVENTS, hugeRetryAfter.toString(), Poison.finished(hugeRetryAfter,
                    events.starts(hugeRetryAfter).getFirst().workerId(), "FAILED", "null",
                    "{\"code\":\"HANDLER_ERROR\",\"message\":\"forged\",\"retryable\":true}", "9000000000000000000", now));
            Poison.send(producer, Topics.EVENTS, nulProgress.toString(), "{\"event\":\"progress\",\"v\":1,\"jobId\":\"" + nulProgress
                    + "\",\"attempt\":1,\"fraction\":1e308,\"message\":\"a\\u0000b\",\"at\":\"" + now + "\"}");
            var ended = doneEarlier.getLast();
            Poison.send(producer, Topics.EVENTS, ended.toString(), "{\"event\":\"started\",\"v\":1,\"jobId\":\"" + ended
                    + "\",\"attempt\":5,\"workerId\":\"fw-evil@faults\",\"at\":\"" + now + "\"}");
            Poison.send(producer, Topics.EVENTS, stranger.toString(), Poison.finished(stranger, "fw-evil@faults", "SUCCEEDED",
                    "{}", "null", "null", now));
            // control: a cancellation of a job nobody has
            Poison.send(producer, Topics.CONTROL, stranger.toString(), "{\"v\":1,\"jobId\":\"" + stranger
                    + "\",\"generation\":-1,\"at\":\"" + now + "\"}");
            // workers: a heartbeat from the year 300000 with nonsense counts
            Poison.send(producer, Topics.WORKERS, "fw-evil@faults", "{\"v\":1,\"workerId\":\"fw-evil@faults\",\"queues\":[\"\\u0000\"],"
                    + "\"types\":null,\"inFlight\":-1,\"completed\":-9,\"startedAt\":\"+300000-01-01T00:00:00Z\","
                    + "\"at\":\"+300000-01-01T00:00:00Z\"}");
            producer.flush();
        }
        var before = Map.of(doneEarlier.getFirst(), ledger.job(doneEarlier.getFirst()), doneEarlier.getLast(),
                ledger.job(doneEarlier.getLast()));
        submitBatches(ledger, 500, ECHO);
        // The system still records outcomes, and the api has read past every poisoned event.
        var cancel = Http.post(apis().getFirst(), "/v1/jobs/" + toCancel + "/cancel", "", Duration.ofSeconds(10));
        soft.assertThat(cancel.status()).as("cancelling a running job after the poison: %s", cancel).isEqualTo(202);
        ledger.settle(this::apis, Duration.ofSeconds(45));
        targets.settle(this::apis, Duration.ofSeconds(20));
        var lag = Poison.eventsLag(cluster.bootstrapServers(), Duration.ofSeconds(15));
        var report = ledger.report(firstPoisonAt, events::history);
        ledger.refresh(apis());

        var t = targets.job(nulResult);
        soft.assertThat(t).as("the job whose forged result held NUL").isNotNull();
        if (t != null) {
            soft.assertThat(Poison.endedCleanly(t, "{\"sleptMs\":15000}")).as("the job whose forged result held NUL: %s", t)
                    .isTrue();
        }
        var tiny = targets.job(tinyResult);
        soft.assertThat(tiny != null && Poison.endedCleanly(tiny, "{\"sleptMs\":15000}"))
                .as("the job whose forged result held 1e-20000: %s", tiny).isTrue();
        var r = targets.job(hugeRetryAfter);
        soft.assertThat(r).as("the job told to retry in 9e18 ms").isNotNull();
        if (r != null) {
            var status = r.get("status").asString();
            var cappedRetry = status.equals("SCHEDULED") && Instant.parse(r.get("runAt").asString())
                    .isBefore(Instant.now().plus(Duration.ofMinutes(75)));
            soft.assertThat(Poison.endedCleanly(r, "{\"sleptMs\":15000}") || cappedRetry)
                    .as("the job told to retry in 9e18 ms ends, or waits no longer than retry.max-delay: %s", r).isTrue();
            if (cappedRetry) {
                Http.post(apis().getFirst(), "/v1/jobs/" + hugeRetryAfter + "/cancel", "", Duration.ofSeconds(10));
            }
        }
        var p = targets.job(nulProgress);
        soft.assertThat(p == null ? null : p.get("status").asString()).as("the job with NUL progress: %s", p)
                .isEqualTo("SUCCEEDED");
        var c = targets.job(toCancel);
        soft.assertThat(c == null ? null : c.get("status").asString()).as("the job cancelled after the poison: %s", c)
                .isEqualTo("CANCELLED");
        before.forEach((id, was) -> {
            var now = ledger.job(id);
            soft.assertThat(now.get("status").asString() + " " + now.get("finishedAt") + " " + now.get("result"))
                    .as("job %s, ended before forged records about it", id)
                    .isEqualTo(was.get("status").asString() + " " + was.get("finishedAt") + " " + was.get("result"));
        });
        var listed = Http.get(apis().getFirst(), "/v1/workers", Duration.ofSeconds(10));
        soft.assertThat(listed.status()).as("GET /v1/workers after the poison: %s", listed).isEqualTo(200);
        awaitWorkersListed(cluster.liveWorkers().stream().map(FaultCluster.Worker::id).toList());
        record(report.line() + " | " + events.runs(ledger) + " | unreadable events seen by the suite=" + events.unreadable() + ", api events lag="
                + lag + ", targets " + targets.ids().stream().map(id -> Optional.ofNullable(targets.job(id))
                        .map(j -> j.get("status").asString()).orElse("?")).toList());

        allSucceeded(soft, report);
        soft.assertThat(lag).as("events the api has not read past (conveyor-api lag on %s)", Topics.EVENTS)
                .isZero();
        soft.assertAll();
    }

    // ---- shared steps

    /** The base URLs of the apis that run now (all of them when none does, so that the failure shows). */
    List<String> apis() {
        var live = cluster.apis().stream().filter(FaultCluster.Api::isAlive).map(FaultCluster.Api::baseUrl).toList();
        return live.isEmpty() ? cluster.apis().stream().map(FaultCluster.Api::baseUrl).toList() : live;
    }

    private void submitBatches(Ledger ledger, int count, String job) {
        var apis = apis();
        var turn = 0;
        for (var left = count; left > 0; left -= 500) {
            var size = Math.min(500, left);
            var body = "{\"jobs\":[" + String.join(",", java.util.Collections.nCopies(size, job)) + "]}";
            try {
                var answer = Http.post(apis.get(turn++ % apis.size()), "/v1/jobs/batch", body, Duration.ofSeconds(60));
                assertThat(answer.status()).as("batch of %d: %s", size, answer).isEqualTo(202);
                answer.json().get("jobs").forEach(ledger::accept);
            } catch (IOException e) {
                throw new AssertionError("batch of " + size + " got no answer: " + e, e);
            }
        }
    }

    private UUID submit(Ledger ledger, String job) {
        try {
            var answer = Http.post(apis().getFirst(), "/v1/jobs", job, Duration.ofSeconds(10));
            assertThat(answer.status()).as("%s: %s", job, answer).isEqualTo(202);
            ledger.accept(answer.json());
            return UUID.fromString(answer.json().get("id").asString());
        } catch (IOException e) {
            throw new AssertionError(job + " got no answer: " + e, e);
        }
    }

    /**
     * One logical submission of scenario b: to the api in turn, and on no answer (refused, reset, timed out) to the
     * other one with the same key, as a careful client does.
     */
    private static void submitOnce(List<FaultCluster.Api> apis, int turn, String key, String body, Ledger ledger,
            Map<String, UUID> keys, List<String> failures, AtomicInteger retried, AtomicInteger replayed,
            AtomicInteger noAnswer) {
        for (var attempt = 0; attempt < 6; attempt++) {
            var api = apis.get(Math.floorMod(turn + attempt, apis.size()));
            try {
                var answer = Http.post(api.baseUrl(), "/v1/jobs", body, Duration.ofSeconds(10), "Idempotency-Key", key);
                var replay = answer.status() == 200 && "true".equals(answer.header("Idempotent-Replayed"));
                if (answer.status() == 202 || replay) {
                    var id = UUID.fromString(answer.json().get("id").asString());
                    keys.put(key, id);
                    ledger.accept(id);
                    if (attempt > 0) {
                        retried.incrementAndGet();
                        if (replay) {
                            replayed.incrementAndGet();
                        }
                    }
                } else {
                    failures.add(key + " on " + api.name() + " (try " + (attempt + 1) + "): " + answer);
                }
                return;
            } catch (IOException e) {
                noAnswer.incrementAndGet();
            }
        }
        failures.add(key + ": no answer from either api in 6 tries");
    }

    /** Every job of the report ended SUCCEEDED: none lost, none stuck, none failed. */
    private static void allSucceeded(SoftAssertions soft, Ledger.Report report) {
        soft.assertThat(report.accepted()).as("jobs accepted in %s", report.scenario()).isPositive();
        soft.assertThat(report.succeeded()).as("jobs SUCCEEDED of those accepted: %s", report)
                .isEqualTo(report.accepted());
        soft.assertThat(report.lost()).as("jobs lost (404): %s", report).isZero();
        soft.assertThat(report.stuck()).as("jobs stuck in a non-final state: %s", report).isZero();
    }

    /** Restarts the worker when it exits while {@code supervising}, as a process supervisor would. */
    private static void supervise(FaultCluster.Worker worker, AtomicBoolean supervising, List<String> exited) {
        worker.onExit().thenRun(() -> {
            if (supervising.get()) {
                exited.add(worker.id());
                supervise(cluster.startWorker(), supervising, exited);
            }
        });
    }

    /** Every job of the api's listing that matches {@code filter}, page after page. */
    private List<JsonNode> listJobs(String filter) throws IOException {
        var jobs = new ArrayList<JsonNode>();
        String after = null;
        do {
            var page = Http.get(apis().getFirst(), "/v1/jobs?limit=500&" + filter + (after == null ? "" : "&after=" + after),
                    Duration.ofSeconds(30));
            assertThat(page.status()).as("listing jobs: %s", page).isEqualTo(200);
            page.json().get("jobs").forEach(jobs::add);
            after = page.json().hasNonNull("next") ? page.json().get("next").asString() : null;
        } while (after != null);
        return jobs;
    }

    private static void awaitWorkersListed(List<String> ids) {
        await("workers " + ids + " listed by the api").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500))
                .until(() -> {
                    var listed = Http.get(cluster.apis().getFirst().baseUrl(), "/v1/workers", Duration.ofSeconds(5));
                    if (listed.status() != 200) {
                        return false;
                    }
                    var names = new HashSet<String>();
                    listed.json().get("workers").forEach(w -> names.add(w.get("id").asString()));
                    return names.containsAll(ids);
                });
    }

    /**
     * A fixed pause that keeps a fault window open while load flows through it (e.g. "Kafka is down for 15 s"). It
     * never waits for an outcome: outcomes are awaited.
     */
    private static void window(Duration length) {
        try {
            Thread.sleep(length);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static void pace(Duration pause) {
        window(pause);
    }

    /** At most five entries of a map of violations, and how many there are: enough to see the cause. */
    private static String sample(Map<?, ?> violations) {
        return violations.entrySet().stream().limit(5).map(e -> e.getKey() + ": " + e.getValue())
                .collect(Collectors.joining("; ", "{", violations.size() > 5 ? "; ... " + violations.size() + " in all}" : "}"));
    }

    private static void deleteTree(Path root) throws IOException {
        if (Files.exists(root)) {
            try (var paths = Files.walk(root)) {
                for (var path : paths.sorted(Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(path);
                }
            }
        }
    }

    private static String seconds(Duration duration) {
        return "%.1fs".formatted(duration.toMillis() / 1000.0);
    }

    private static void record(String line) {
        summary.add(line);
        System.out.println(line);
    }
}
