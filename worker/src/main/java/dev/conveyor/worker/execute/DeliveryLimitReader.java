package dev.conveyor.worker.execute;

import dev.conveyor.common.log.LogText;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.DescribeClusterOptions;
import org.apache.kafka.clients.admin.DescribeConfigsOptions;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.config.ConfigResource;

/**
 * Reads from Kafka how many deliveries it allows a record of each share group before it archives it: the group's
 * {@code share.delivery.count.limit} where the brokers know that group config (Kafka 4.3 and later, KIP-1240), else
 * the brokers' {@code group.share.delivery.count.limit} (the least of those that answer). Gives up on whatever has not
 * answered within its time, and on whatever Kafka refuses (a principal without DescribeConfigs): it never throws.
 */
final class DeliveryLimitReader implements DeliveryLimits.Source {

    /** The share group's own limit, Kafka 4.3 and later. */
    static final String GROUP_CONFIG = "share.delivery.count.limit";
    /** The brokers' limit, for every share group without its own. */
    static final String BROKER_CONFIG = "group.share.delivery.count.limit";

    private final Admin admin;
    private final Duration within;

    DeliveryLimitReader(Admin admin, Duration within) {
        this.admin = admin;
        this.within = within;
    }

    @Override
    public DeliveryLimits.Read read(List<String> groups) {
        var deadline = System.nanoTime() + within.toNanos();
        var found = new HashMap<String, Integer>();
        var problems = new ArrayList<String>();
        try {
            for (var entry : describe(groups.stream().map(group -> new ConfigResource(ConfigResource.Type.GROUP,
                    group)).toList(), GROUP_CONFIG, deadline, problems).entrySet()) {
                found.put(entry.getKey().name(), entry.getValue());
            }
            if (found.size() < groups.size()) {
                var broker = brokersLimit(deadline, problems);
                if (broker != null) {
                    groups.forEach(group -> found.putIfAbsent(group, broker));
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            problems.add("interrupted");
        } catch (RuntimeException e) {
            // whatever the admin client throws: the worker starts all the same, on the setting or Kafka's default
            problems.add(reason(e));
        }
        return new DeliveryLimits.Read(found, problems.isEmpty() ? null : String.join("; ", problems));
    }

    /** The least limit of the brokers that answer, or null if none does. */
    private Integer brokersLimit(long deadline, List<String> problems) throws InterruptedException {
        List<ConfigResource> brokers;
        try {
            brokers = admin.describeCluster(new DescribeClusterOptions().timeoutMs(millisLeft(deadline))).nodes()
                    .get(nanosLeft(deadline), TimeUnit.NANOSECONDS).stream()
                    .map(node -> new ConfigResource(ConfigResource.Type.BROKER, node.idString())).toList();
        } catch (ExecutionException | TimeoutException e) {
            problems.add("the brokers: " + reason(e));
            return null;
        }
        Integer least = null;
        for (var limit : describe(brokers, BROKER_CONFIG, deadline, problems).values()) {
            least = least == null ? limit : Math.min(least, limit);
        }
        return least;
    }

    /** Per resource that answered with a usable {@code name}, its value; what went wrong with the others. */
    private Map<ConfigResource, Integer> describe(List<ConfigResource> resources, String name, long deadline,
            List<String> problems) throws InterruptedException {
        var found = new HashMap<ConfigResource, Integer>();
        if (resources.isEmpty()) {
            return found;
        }
        Map<ConfigResource, KafkaFuture<Config>> described = admin.describeConfigs(resources,
                new DescribeConfigsOptions().timeoutMs(millisLeft(deadline))).values();
        for (var resource : resources) {
            var what = resource.type().name().toLowerCase() + " " + resource.name();
            try {
                var entry = described.get(resource).get(nanosLeft(deadline), TimeUnit.NANOSECONDS).get(name);
                if (entry == null || entry.value() == null) {
                    continue; // a group config the brokers do not know (before Kafka 4.3)
                }
                var value = Integer.parseInt(entry.value().trim());
                if (value < 1 || value > Short.MAX_VALUE) {
                    problems.add(what + ": " + name + " is " + value);
                } else {
                    found.put(resource, value);
                }
            } catch (ExecutionException | TimeoutException e) {
                problems.add(what + ": " + reason(e));
            } catch (NumberFormatException e) {
                problems.add(what + ": " + name + " is not a number");
            }
        }
        return found;
    }

    private static long nanosLeft(long deadline) {
        return Math.max(0, deadline - System.nanoTime());
    }

    private static int millisLeft(long deadline) {
        return (int) Math.max(1, Math.min(Integer.MAX_VALUE, TimeUnit.NANOSECONDS.toMillis(nanosLeft(deadline))));
    }

    private static String reason(Exception e) {
        if (e instanceof TimeoutException) {
            return "no answer in time";
        }
        var cause = e instanceof ExecutionException && e.getCause() != null ? e.getCause() : e;
        return cause.getClass().getSimpleName() + (cause.getMessage() == null ? ""
                : ": " + LogText.of(cause.getMessage(), 200));
    }
}
