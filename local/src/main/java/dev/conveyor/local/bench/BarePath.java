package dev.conveyor.local.bench;

import dev.conveyor.common.Json;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.apache.hc.client5.http.classic.methods.HttpGet;
import org.apache.hc.client5.http.impl.classic.CloseableHttpClient;
import org.apache.hc.client5.http.impl.classic.HttpClients;
import org.apache.hc.client5.http.impl.io.PoolingHttpClientConnectionManagerBuilder;
import org.apache.hc.core5.http.io.entity.EntityUtils;
import org.apache.hc.core5.io.CloseMode;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The bare path: the least a durable job queue on Kafka and PostgreSQL does per job, hand-written with plain JDBC and
 * kafka-clients in the benchmark's JVM, with Conveyor's Kafka settings. The "api" inserts jobs and commits, then
 * sends one record per job to {@value #JOBS}; the "worker" (share consumers, as Conveyor's) sends each job's result to
 * {@value #RESULTS}, waits until Kafka has the poll's results, accepts the records and commits the acknowledgements;
 * the api's consumer stores the results of a poll with one {@code UPDATE}, then commits its offsets. Nothing is
 * parsed, no event but the result is sent, and nothing else is written: a floor under Conveyor's path, not a rival.
 *
 * <p>In W2's shape each job is a GET first, all of a poll's at once on virtual threads, through one pool of
 * keep-alive connections with at most {@value #CONNECTIONS_PER_HOST} to the host (as Conveyor's worker's default
 * {@code max-connections-per-host}); its result is the answer's status and body.
 */
final class BarePath implements AutoCloseable {

    static final String JOBS = "bench-floor.jobs";
    static final String RESULTS = "bench-floor.results";

    /** As the worker's and the api's loops. */
    private static final Duration POLL = Duration.ofMillis(500);
    private static final Duration COMMIT_TIMEOUT = Duration.ofSeconds(10);
    /** As the worker's {@code conveyor.worker.http.max-connections-per-host}. */
    static final int CONNECTIONS_PER_HOST = 256;

    private final FloorStore store;
    private final DataSource dataSource;
    private final KafkaProducer<String, String> apiProducer;
    private final KafkaProducer<String, String> workerProducer;
    private final List<Thread> loops = new ArrayList<>();
    private final List<KafkaShareConsumer<String, String>> shareConsumers = new ArrayList<>();
    private final KafkaConsumer<String, String> resultsConsumer;
    private final CloseableHttpClient http = HttpClients.custom()
            .setConnectionManager(PoolingHttpClientConnectionManagerBuilder.create()
                    .setMaxConnTotal(CONNECTIONS_PER_HOST)
                    .setMaxConnPerRoute(CONNECTIONS_PER_HOST)
                    .build())
            // the client's default retry: a GET sent on a keep-alive connection that the server closed meanwhile
            // (NoHttpResponseException) goes again once, as Conveyor's worker's does
            .disableCookieManagement()
            .build();
    private volatile FloorRun current;
    private volatile Throwable broken;
    private volatile boolean running = true;

    /** Creates the topics and the share group's start, and starts the worker's and the api's consumers. */
    BarePath(FloorTarget target, FloorStore store, DataSource dataSource) {
        this.store = store;
        this.dataSource = dataSource;
        var kafka = new FloorKafka(target.bootstrap());
        kafka.prepareTopics();
        apiProducer = new KafkaProducer<>(kafka.apiProducer(), new StringSerializer(), new StringSerializer());
        workerProducer = new KafkaProducer<>(kafka.workerProducer(), new StringSerializer(), new StringSerializer());
        for (var n = 1; n <= FloorKafka.SHARE_CONSUMERS; n++) {
            shareConsumers.add(new KafkaShareConsumer<>(kafka.shareConsumer(), new StringDeserializer(),
                    new StringDeserializer()));
        }
        resultsConsumer = new KafkaConsumer<>(kafka.resultsConsumer(), new StringDeserializer(),
                new StringDeserializer());
        for (var n = 0; n < shareConsumers.size(); n++) {
            var consumer = shareConsumers.get(n);
            loops.add(Thread.ofPlatform().daemon().name("floor-worker-" + (n + 1)).start(() -> work(consumer)));
        }
        loops.add(Thread.ofPlatform().daemon().name("floor-results").start(this::applyResults));
    }

    /** Makes {@code run} the one whose ends are recorded; fails if a loop of the path has failed. */
    void begin(FloorRun run) {
        if (broken != null) {
            throw new IllegalStateException("bare path failed: " + broken, broken);
        }
        current = run;
    }

    /** The api's publish after its insert committed: asynchronous, a failure fails the run. */
    void publish(FloorRun run, int job) {
        apiProducer.send(new ProducerRecord<>(JOBS, run.id(job).toString(), FloorRun.payload(job)), (sent, failure) -> {
            if (failure != null) {
                run.fail(failure);
            }
        });
    }

    /**
     * A worker's loop: per poll, sends every job's result (a noop job's result is its payload; an http job's, the
     * answer to its GET), waits until Kafka has them all, then accepts the records and commits the acknowledgements,
     * as Conveyor's worker does per poll.
     */
    private void work(KafkaShareConsumer<String, String> consumer) {
        try (consumer) {
            consumer.subscribe(List.of(JOBS));
            while (running) {
                var records = consumer.poll(POLL);
                if (records.isEmpty()) {
                    continue;
                }
                var run = current;
                var results = run == null || run.call() == null ? payloads(records) : call(records, run.call());
                var sent = new ArrayList<Future<RecordMetadata>>(records.count());
                var i = 0;
                for (var record : records) {
                    sent.add(workerProducer.send(new ProducerRecord<>(RESULTS, record.key(), results.get(i++))));
                }
                for (var result : sent) {
                    result.get();
                }
                records.forEach(record -> consumer.acknowledge(record, AcknowledgeType.ACCEPT));
                consumer.commitSync(COMMIT_TIMEOUT);
            }
        } catch (WakeupException e) {
            // closing
        } catch (Exception e) {
            failCurrent(e);
        }
    }

    private static List<String> payloads(ConsumerRecords<String, String> records) {
        var payloads = new ArrayList<String>(records.count());
        records.forEach(record -> payloads.add(record.value()));
        return payloads;
    }

    /** GETs {@code uri} once per record, all at once (the connection pool holds back those over its limit). */
    private List<String> call(ConsumerRecords<String, String> records, URI uri)
            throws InterruptedException, ExecutionException {
        var answers = new ArrayList<Future<String>>(records.count());
        try (var calls = Executors.newVirtualThreadPerTaskExecutor()) {
            for (ConsumerRecord<String, String> ignored : records) {
                answers.add(calls.submit(() -> get(uri)));
            }
        }
        var results = new ArrayList<String>(answers.size());
        for (var answer : answers) {
            results.add(answer.get());
        }
        return results;
    }

    /** The answer as the job's result; an answer other than 2xx fails the run. */
    private String get(URI uri) throws IOException {
        return http.execute(new HttpGet(uri), response -> {
            var body = EntityUtils.toString(response.getEntity(), StandardCharsets.UTF_8);
            if (response.getCode() / 100 != 2) {
                throw new IllegalStateException("GET " + uri + " answered " + response.getCode());
            }
            return Json.write(Map.of("status", response.getCode(), "body", body));
        });
    }

    /** The api's loop: stores the results of one poll with one statement, then commits the poll's offsets. */
    private void applyResults() {
        try (var consumer = resultsConsumer) {
            consumer.subscribe(List.of(RESULTS));
            while (running) {
                var records = consumer.poll(POLL);
                if (records.isEmpty()) {
                    continue;
                }
                var ids = new UUID[records.count()];
                var results = new String[ids.length];
                var i = 0;
                for (var record : records) {
                    ids[i] = UUID.fromString(record.key());
                    results[i++] = record.value();
                }
                List<UUID> ended;
                try (var connection = dataSource.getConnection()) {
                    ended = store.end(connection, ids, results);
                }
                var at = System.nanoTime();
                var run = current;
                if (run != null) {
                    run.ended(ended, at);
                }
                consumer.commitSync();
            }
        } catch (WakeupException e) {
            // closing
        } catch (SQLException | RuntimeException e) {
            failCurrent(e);
        }
    }

    private void failCurrent(Throwable e) {
        if (!running) {
            return;
        }
        broken = e;
        var run = current;
        if (run != null) {
            run.fail(e);
        }
    }

    @Override
    public void close() {
        running = false;
        shareConsumers.forEach(KafkaShareConsumer::wakeup);
        resultsConsumer.wakeup();
        for (var loop : loops) {
            try {
                loop.join(TimeUnit.SECONDS.toMillis(15));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        http.close(CloseMode.GRACEFUL);
        apiProducer.close(Duration.ofSeconds(10));
        workerProducer.close(Duration.ofSeconds(10));
    }
}
