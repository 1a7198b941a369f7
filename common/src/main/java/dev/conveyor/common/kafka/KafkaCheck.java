package dev.conveyor.common.kafka;

import java.time.Duration;
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
