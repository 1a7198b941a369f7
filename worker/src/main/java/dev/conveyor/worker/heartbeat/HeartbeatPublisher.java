package dev.conveyor.worker.heartbeat;

import dev.conveyor.common.Json;
import dev.conveyor.common.Threads;
import dev.conveyor.common.Topics;
import dev.conveyor.common.message.WorkerHeartbeat;
import dev.conveyor.worker.ShutdownWaits;
import dev.conveyor.worker.WorkerProperties;
import dev.conveyor.worker.execute.HandlerRegistry;
import dev.conveyor.worker.execute.JobRunner;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.context.SmartLifecycle;
import org.springframework.core.NestedExceptionUtils;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.stereotype.Component;

/**
 * Tells every api instance that this worker is alive: a {@link WorkerHeartbeat} on {@code conveyor.workers}, keyed
 * by worker id, when the worker starts and then every {@code heartbeatInterval}; and a tombstone when it stops, so
 * that the api instances drop it at once rather than when its heartbeat goes stale.
 */
@Component
class HeartbeatPublisher implements SmartLifecycle, DisposableBean {

    /**
     * Before the queue consumers (default phase) in starting, after them in stopping: the consumers wait for their
     * running jobs, and the worker stays listed (with its in-flight count going down) until they are done. The
     * tombstone is its last word.
     */
    static final int PHASE = DEFAULT_PHASE - 1024;

    private static final Logger log = LoggerFactory.getLogger(HeartbeatPublisher.class);
    /**
     * Most heartbeats on their way at once: enough that a broker slow to answer (a few seconds) still gets one every
     * interval, few enough that an outage does not pile them up in the producer.
     */
    static final int MAX_ON_THE_WAY = 5;

    private final KafkaTemplate<String, String> kafka;
    private final JobRunner runner;
    private final HandlerRegistry handlers;
    private final WorkerProperties properties;
    private final Clock clock;
    private final Instant startedAt;
    private volatile Thread beating;
    private volatile CountDownLatch stopping;
    private volatile boolean failing;
    private final AtomicInteger onTheWay = new AtomicInteger();

    HeartbeatPublisher(KafkaTemplate<String, String> kafka, JobRunner runner, HandlerRegistry handlers,
            WorkerProperties properties, Clock clock) {
        this.kafka = kafka;
        this.runner = runner;
        this.handlers = handlers;
        this.properties = properties;
        this.clock = clock;
        this.startedAt = clock.instant();
    }

    @Override
    public synchronized void start() {
        if (beating != null) {
            return;
        }
        var stop = new CountDownLatch(1);
        stopping = stop;
        // A platform thread: virtual threads are not time-sliced, so handlers busy computing on every carrier could
        // hold a virtual heartbeat back for as long as they compute, and the api would take the worker for dead.
        beating = Thread.ofPlatform().daemon().name("heartbeat").start(() -> beat(stop));
    }

    private void beat(CountDownLatch stop) {
        try {
            do {
                send();
            } while (!stop.await(properties.heartbeatInterval().toMillis(), TimeUnit.MILLISECONDS));
        } catch (InterruptedException e) {
            // stopping
        }
    }

    /**
     * Sends a heartbeat, unless {@link #MAX_ON_THE_WAY} are still on their way: while Kafka is unreachable each would
     * wait in the producer until its delivery timeout (two minutes), and they would all arrive in a burst when Kafka
     * comes back. Those on their way say as much (the api keeps a worker's newest); the next one sent says the rest.
     */
    void send() {
        if (onTheWay.get() >= MAX_ON_THE_WAY) {
            return;
        }
        var heartbeat = new WorkerHeartbeat(WorkerHeartbeat.VERSION, properties.id(), properties.queues(),
                handlers.types(), runner.inFlight(), runner.completed(), startedAt, clock.instant(),
                properties.heartbeatInterval().toMillis());
        onTheWay.incrementAndGet();
        try {
            kafka.send(Topics.WORKERS, properties.id(), Json.write(heartbeat)).whenComplete((sent, failure) -> {
                onTheWay.decrementAndGet();
                noteOutcome(failure);
            });
        } catch (RuntimeException e) {
            onTheWay.decrementAndGet();
            noteOutcome(e);
        }
    }

    /** Logs when heartbeats start failing and when they work again, not every failed beat. */
    private void noteOutcome(Throwable failure) {
        if (failure != null && !failing) {
            failing = true;
            log.warn("Could not send a heartbeat (the api instances will stop listing this worker if this lasts): {}",
                    NestedExceptionUtils.getMostSpecificCause(failure).getMessage());
        } else if (failure == null && failing) {
            failing = false;
            log.info("Heartbeats are getting through again");
        }
    }

    @Override
    public synchronized void stop() {
        var thread = beating;
        if (thread == null) {
            return;
        }
        stopping.countDown();
        Threads.joinOrInterrupt(thread, Duration.ofSeconds(1));
        beating = null;
        // Sent after the last heartbeat by the same producer to the same partition, so it arrives after it. The send
        // itself may wait for max.block.ms (10 s; Kafka's default a minute) for the topic's metadata or for room in
        // the producer, before its own wait began: it is sent from a thread of its own, so that both fit in one.
        var tombstone = CompletableFuture.supplyAsync(() -> kafka.send(Topics.WORKERS, properties.id(), null),
                task -> Thread.ofVirtual().name("tombstone").start(task)).thenCompose(sent -> sent);
        try {
            tombstone.get(ShutdownWaits.TOMBSTONE.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (TimeoutException e) {
            log.warn("Kafka did not take the tombstone of worker {} within {}; the api instances drop it when its "
                    + "heartbeat goes stale", properties.id(), ShutdownWaits.TOMBSTONE);
        } catch (ExecutionException | RuntimeException e) {
            log.warn("Could not announce that worker {} stops; the api instances drop it when its heartbeat "
                    + "goes stale: {}", properties.id(), NestedExceptionUtils.getMostSpecificCause(e).getMessage());
        }
    }

    /** A context that fails to start is destroyed without being stopped: the beat must not outlive it. */
    @Override
    public void destroy() {
        stop();
    }

    @Override
    public boolean isRunning() {
        return beating != null;
    }

    @Override
    public int getPhase() {
        return PHASE;
    }
}
