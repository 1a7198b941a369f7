package dev.conveyor.worker.execute;

import dev.conveyor.common.Threads;
import dev.conveyor.common.Topics;
import dev.conveyor.common.kafka.KafkaCheck;
import dev.conveyor.common.kafka.QueueTopics;
import dev.conveyor.worker.ShutdownWaits;
import dev.conveyor.worker.WorkerProperties;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.context.SmartLifecycle;
import org.springframework.kafka.core.ShareConsumerFactory;
import org.springframework.stereotype.Component;

/**
 * Starts the configured number of share consumers for each queue, replaces any that stops unexpectedly (see
 * {@link SupervisedConsumer}), and stops them.
 */
@Component
class QueueConsumers implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(QueueConsumers.class);

    private final ShareConsumerFactory<String, String> factory;
    private final QueueTopics queueTopics;
    private final JobRunner runner;
    private final HandlerRegistry handlers;
    private final WorkerProperties properties;
    private final BooleanSupplier kafkaAnswers;
    private final Duration cutOffAfter;
    private final List<SupervisedConsumer> consumers = new CopyOnWriteArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private volatile boolean running;

    @Autowired
    QueueConsumers(ShareConsumerFactory<String, String> factory, QueueTopics queueTopics, JobRunner runner,
            HandlerRegistry handlers, WorkerProperties properties, Admin admin) {
        this(factory, queueTopics, runner, handlers, properties, () -> answers(admin), QueueConsumer.CUT_OFF_AFTER);
    }

    /**
     * @param kafkaAnswers whether Kafka answers now: asked while a consumer cut off from it waits
     * @param cutOffAfter  how long a consumer goes on without a connection to Kafka before it closes
     */
    QueueConsumers(ShareConsumerFactory<String, String> factory, QueueTopics queueTopics, JobRunner runner,
            HandlerRegistry handlers, WorkerProperties properties, BooleanSupplier kafkaAnswers,
            Duration cutOffAfter) {
        this.handlers = handlers;
        this.factory = factory;
        this.queueTopics = queueTopics;
        this.runner = runner;
        this.properties = properties;
        this.kafkaAnswers = kafkaAnswers;
        this.cutOffAfter = cutOffAfter;
    }

    private static boolean answers(Admin admin) {
        return KafkaCheck.probe(admin, SupervisedConsumer.PROBE_EVERY).answered();
    }

    @Override
    public void start() {
        for (var queue : properties.queues()) {
            queueTopics.ensure(queue);
            for (var n = 0; n < properties.consumersPerQueue(); n++) {
                var clientId = properties.id() + "-" + queue + "-" + n;
                var consumer = new SupervisedConsumer(queue, n, () -> new QueueConsumer(Topics.jobs(queue),
                        factory.createShareConsumer(Topics.shareGroup(queue), clientId), runner,
                        properties.maxInFlight(), properties.maxInFlightBytes().toBytes(), cutOffAfter), kafkaAnswers);
                consumers.add(consumer);
                threads.add(Thread.ofPlatform().name("consumer-" + queue + "-" + n).start(consumer));
            }
        }
        running = true;
        log.info("Worker {} takes jobs from {} with {} consumers each; handlers: {}", properties.id(),
                properties.queues(), properties.consumersPerQueue(), handlers.types());
    }

    /**
     * Graceful shutdown: stop taking records (those waiting to start are released for other workers), let running
     * jobs finish within the grace period, then interrupt the rest and hand them back to the api, which runs them
     * again elsewhere. Each job's outcome is reported once: by the run that finished it.
     */
    @Override
    public void stop() {
        runner.drain();
        consumers.forEach(SupervisedConsumer::stop);
        var graceEnds = System.nanoTime() + properties.shutdownGrace().toNanos();
        for (var thread : threads) {
            joinUntil(thread, graceEnds);
        }
        awaitNoneInFlight(graceEnds);
        if (runner.inFlight() > 0) {
            log.warn("{} jobs still running after the {} grace period: interrupting them and handing them back",
                    runner.inFlight(), properties.shutdownGrace());
            runner.abandonRunning();
            awaitNoneInFlight(System.nanoTime() + ShutdownWaits.HAND_BACKS.toNanos());
        }
        var unreported = runner.inFlight();
        if (unreported > 0) {
            log.warn("Kafka has not taken the outcomes or hand-backs of {} jobs; stopping without them (each one "
                    + "at DEBUG): the api runs them again once this worker has been silent for its "
                    + "worker-lost-after", unreported);
        }
        threads.forEach(thread -> Threads.joinOrInterrupt(thread, Duration.ofSeconds(5)));
        consumers.clear();
        threads.clear();
        running = false;
    }

    /** Waits until the worker runs nothing, or the deadline passes. */
    private void awaitNoneInFlight(long deadlineNanos) {
        while (runner.inFlight() > 0 && System.nanoTime() < deadlineNanos) {
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static void joinUntil(Thread thread, long deadlineNanos) {
        var left = deadlineNanos - System.nanoTime();
        if (left <= 0) {
            return;
        }
        try {
            thread.join(Duration.ofNanos(left));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Per queue, how many of its consumers run now (none while every one of them waits to be replaced). */
    Map<String, Integer> workingByQueue() {
        var working = new TreeMap<String, Integer>();
        properties.queues().forEach(queue -> working.put(queue, 0));
        consumers.forEach(consumer -> {
            if (consumer.working()) {
                working.merge(consumer.queue(), 1, Integer::sum);
            }
        });
        return working;
    }

    /** How many times consumers were replaced since the worker started. */
    int restarts() {
        return consumers.stream().mapToInt(SupervisedConsumer::restarts).sum();
    }

    @Override
    public boolean isRunning() {
        return running;
    }
}
