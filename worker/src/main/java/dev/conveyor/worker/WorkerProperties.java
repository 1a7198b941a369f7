package dev.conveyor.worker;

import dev.conveyor.common.JobLimits;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.regex.Pattern;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;

/**
 * Settings of a worker, under {@code conveyor.worker}. Checked at start-up.
 *
 * @param id                 this worker's name in events and listings; default {@code worker-<random>@<host>}
 * @param queues             the queues this worker takes jobs from
 * @param consumersPerQueue  share consumers per queue; each takes the records of one poll at a time. One by default:
 *                           measured against four, it cost the worker a fifth less CPU per job at 500 jobs/s and
 *                           answered sooner (docs/performance.md "One share consumer per queue")
 * @param maxPollRecords     most records one consumer takes per poll
 * @param maxResultBytes     largest result a job may return, encoded as JSON ({@code RESULT_TOO_LARGE} beyond)
 * @param maxStartWait       how long a record over its type's limit stays unacknowledged (holding back its
 *                           consumer's next poll) before the worker takes it and lets it wait in memory
 * @param maxInFlight        most jobs running or waiting on this worker; beyond it the worker stops polling
 * @param maxInFlightBytes   most bytes of heap the jobs running or waiting on this worker may hold with their
 *                           records and payloads (each record's bytes, plus its payload's tree as weighed when it is
 *                           taken); beyond it the worker stops polling. Default: an eighth of the heap
 * @param queuePartitions    partitions of a queue's topic if this worker is the first to need it
 * @param replicationFactor  replication factor of topics this worker creates
 * @param shutdownGrace      on shutdown, how long running jobs may take to finish before they are interrupted
 * @param heartbeatInterval  how often the worker tells the api instances it is alive
 * @param startEventAfter    how long an attempt runs before the worker tells the api it started; an attempt that
 *                           ends sooner sends only its end, which stands for its start. 0 (the default): every start
 *                           is sent as the record is taken, so the api shows RUNNING (and a cancel waits for the
 *                           attempt's end) as soon as the contract says
 * @param typeLimits         most jobs of a type running at once on this worker (type → limit); others unlimited
 * @param shareDeliveryLimit the deliveries Kafka allows a record before it archives it. A record this worker does
 *                           not start on its last delivery is handed back to the api rather than released, which
 *                           would archive it unstarted. Unset (null, the default): what Kafka says (read at start and
 *                           every minute), the share group's {@code share.delivery.count.limit} or else the brokers'
 *                           {@code group.share.delivery.count.limit}, and 5 (Kafka's default) if it cannot be read.
 *                           Set, and Kafka says otherwise, the smaller of the two ({@code DeliveryLimits})
 * @param http               settings of the built-in {@code http} handler
 * @param sql                settings of the built-in {@code sql} handler; off unless a datasource is named
 */
@ConfigurationProperties("conveyor.worker")
public record WorkerProperties(
        String id,
        @DefaultValue("default") List<String> queues,
        @DefaultValue("1") int consumersPerQueue,
        @DefaultValue("100") int maxPollRecords,
        @DefaultValue("1048576") int maxResultBytes,
        @DefaultValue("10s") Duration maxStartWait,
        @DefaultValue("10000") int maxInFlight,
        DataSize maxInFlightBytes,
        @DefaultValue("3") int queuePartitions,
        @DefaultValue("1") short replicationFactor,
        @DefaultValue("30s") Duration shutdownGrace,
        @DefaultValue("1s") Duration heartbeatInterval,
        @DefaultValue("0ms") Duration startEventAfter,
        Map<String, Integer> typeLimits,
        Integer shareDeliveryLimit,
        @DefaultValue HttpSettings http,
        @DefaultValue SqlSettings sql) {

    /** The longest heartbeat interval: the api waits at most three of these before it takes a worker for dead. */
    static final Duration MAX_HEARTBEAT_INTERVAL = Duration.ofMinutes(1);
    private static final Pattern QUEUE = JobLimits.QUEUE;
    private static final Pattern TYPE = JobLimits.TYPE;
    /** The default max-in-flight-bytes is the heap over this. */
    static final int HEAP_SHARE = 8;
    /** The longest worker id (the api keeps at most this many characters of it). */
    static final int MAX_ID = 255;
    /** Most queues a worker takes jobs from, as most the api keeps in a heartbeat. */
    static final int MAX_QUEUES = 1_000;

    public WorkerProperties {
        if (id == null || id.isBlank()) {
            var host = hostName();
            id = "worker-" + HexFormat.of().toHexDigits((short) ThreadLocalRandom.current().nextInt()) + "@"
                    + host.substring(0, Math.min(host.length(), MAX_ID - 12));
        }
        // the api stores an attempt's worker with it and matches heartbeats to it: an id it would cut or change
        // could not be matched, and the worker's running attempts would be rescued as a dead worker's
        require(id.length() <= MAX_ID && id.chars().noneMatch(Character::isISOControl),
                "conveyor.worker.id must be at most " + MAX_ID + " characters, none of them a control character");
        require(queues != null && !queues.isEmpty(), "conveyor.worker.queues must name at least one queue");
        // the api keeps no heartbeat that lists more: the worker would not be listed, nor the handlers it has known
        require(queues.size() <= MAX_QUEUES, "conveyor.worker.queues names " + queues.size() + " queues, more than "
                + MAX_QUEUES + ": the api keeps no heartbeat that lists more");
        var named = new HashSet<String>();
        for (var queue : queues) {
            require(QUEUE.matcher(queue).matches(),
                    "conveyor.worker.queues: '" + queue + "' is not a queue name ([a-z0-9][a-z0-9_-]{0,63})");
            require(named.add(queue), "conveyor.worker.queues names '" + queue + "' twice: name each queue once");
        }
        queues = List.copyOf(queues);
        require(consumersPerQueue >= 1, "conveyor.worker.consumers-per-queue must be at least 1");
        require(maxPollRecords >= 1, "conveyor.worker.max-poll-records must be at least 1");
        require(maxResultBytes >= 4, "conveyor.worker.max-result-bytes must be at least 4");
        require(!maxStartWait.isNegative(), "conveyor.worker.max-start-wait must not be negative");
        require(maxInFlight >= 1, "conveyor.worker.max-in-flight must be at least 1");
        if (maxInFlightBytes == null) {
            maxInFlightBytes = DataSize.ofBytes(Runtime.getRuntime().maxMemory() / HEAP_SHARE);
        }
        require(maxInFlightBytes.toBytes() >= 1, "conveyor.worker.max-in-flight-bytes must be at least 1B");
        require(queuePartitions >= 1, "conveyor.worker.queue-partitions must be at least 1");
        require(replicationFactor >= 1, "conveyor.worker.replication-factor must be at least 1");
        require(!shutdownGrace.isNegative(), "conveyor.worker.shutdown-grace must not be negative");
        // the heartbeat thread waits whole milliseconds: under 10 it would send (or skip) one after another
        // and over a minute, the api would take the worker for dead between two beats for as long as it lists it
        require(heartbeatInterval.compareTo(Duration.ofMillis(10)) >= 0
                        && heartbeatInterval.compareTo(MAX_HEARTBEAT_INTERVAL) <= 0,
                "conveyor.worker.heartbeat-interval must be from 10ms to 1m");
        // The api's reconciler, every reconcile-interval (at least 1s), takes a settled record without a start for a
        // lost attempt once two rounds found it so: a start must be well on its way by then.
        require(!startEventAfter.isNegative() && startEventAfter.compareTo(Duration.ofMillis(500)) <= 0,
                "conveyor.worker.start-event-after must be from 0 to 500ms");
        typeLimits = typeLimits == null ? Map.of() : Map.copyOf(typeLimits);
        typeLimits.forEach((type, limit) -> {
            // a limit under a name no job type can have never applies
            require(TYPE.matcher(type).matches(), "conveyor.worker.type-limits: '" + type
                    + "' is not a job type ([a-z0-9][a-z0-9._-]{0,99})");
            require(limit != null && limit >= 1, "conveyor.worker.type-limits." + type + " must be at least 1");
        });
        // Kafka's own bounds for group.share.delivery.count.limit
        require(shareDeliveryLimit == null || shareDeliveryLimit >= 2 && shareDeliveryLimit <= 10,
                "conveyor.worker.share-delivery-limit must be from 2 to 10, as Kafka's group.share.delivery.count.limit");
        http = http == null ? HttpSettings.defaults() : http;
        sql = sql == null ? SqlSettings.off() : sql;
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            return "unknown-host";
        }
    }

    static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }
}
