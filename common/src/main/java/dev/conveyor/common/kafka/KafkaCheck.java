package dev.conveyor.common.kafka;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeClusterOptions;

/** Asks Kafka whether it answers, for health checks. */
public final class KafkaCheck {

    private KafkaCheck() {
    }

    /** What a reachable cluster said about itself. */
    public record Cluster(String clusterId, int brokers) {
    }

    /** What a health check found: whether the cluster answered, and what to show of it. */
    public record Probe(boolean answered, Map<String, Object> details) {
    }

    /**
     * Asks the cluster, as a health check does, without throwing: an exception given to Spring's health indicator
     * (thrown, or passed to {@code down(e)}) is logged with its stack trace at every call, and the probes are called
     * every few seconds for as long as Kafka is away (the api's by anyone: they need no key). The outage is logged
     * where it stops work.
     */
    public static Probe probe(Admin admin, Duration timeout) {
        try {
            var cluster = describe(admin, timeout);
            return new Probe(true, Map.of("clusterId", String.valueOf(cluster.clusterId()), "brokers",
                    cluster.brokers()));
        } catch (Exception e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            return new Probe(false, Map.of("error", e.toString()));
        }
    }

    /** Describes the cluster, or throws when it does not answer within {@code timeout}. */
    public static Cluster describe(Admin admin, Duration timeout) throws Exception {
        var options = new DescribeClusterOptions().timeoutMs((int) timeout.toMillis());
        var cluster = admin.describeCluster(options);
        try {
            var id = cluster.clusterId().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            var nodes = cluster.nodes().get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            return new Cluster(id, nodes.size());
        } catch (ExecutionException e) {
            throw e.getCause() instanceof Exception cause ? cause : e;
        } catch (TimeoutException e) {
            throw new TimeoutException("Kafka did not answer within " + timeout.toMillis() + " ms");
        }
    }
}
