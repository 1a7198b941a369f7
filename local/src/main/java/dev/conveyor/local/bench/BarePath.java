package dev.conveyor.local.bench;

import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.apache.kafka.clients.consumer.AcknowledgeType;
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
 */
final class BarePath implements AutoCloseable {

    static final String JOBS = "bench-floor.jobs";
    static final String RESULTS = "bench-floor.results";

    /** As the worker's and the api's loops. */
    private static final Duration POLL = Duration.ofMillis(500);
    private static final Duration COMMIT_TIMEOUT = Duration.ofSeconds(10);

    private final FloorStore store;
    private final DataSource dataSource;
    private final KafkaProducer<String, String> apiProducer;
    private final KafkaProducer<String, String> workerProducer;
    private final List<Thread> loops = new ArrayList<>();
    private final List<KafkaShareConsumer<String, String>> shareConsumers = new ArrayList<>();
    private final KafkaConsumer<String, String> resultsConsumer;
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
     * A worker's loop: per poll, sends every job's result (a noop job's result is its payload), waits until Kafka has
     * them all, then accepts the records and commits the acknowledgements, as Conveyor's worker does per poll.
     */
    private void work(KafkaShareConsumer<String, String> consumer) {
        try (consumer) {
            consumer.subscribe(List.of(JOBS));
            while (running) {
                var records = consumer.poll(POLL);
                if (records.isEmpty()) {
                    continue;
                }
                var sent = new ArrayList<Future<RecordMetadata>>(records.count());
                for (var record : records) {
                    sent.add(workerProducer.send(new ProducerRecord<>(RESULTS, record.key(), record.value())));
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
        apiProducer.close(Duration.ofSeconds(10));
        workerProducer.close(Duration.ofSeconds(10));
    }
}
