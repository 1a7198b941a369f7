package dev.conveyor.local;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;

/**
 * A single-node Kafka broker (KRaft, combined broker and controller) in its own JVM, run from the
 * {@code kafka_2.13} jar on this launcher's class path.
 *
 * <p>Share groups need no switch: Kafka 4.2 formats storage with the {@code share.version} feature
 * on (and warns that {@code share} in {@code group.coordinator.rebalance.protocols} is deprecated).
 * They do need the share-state topic to fit on one broker, hence its replication settings below.
 */
final class KafkaBrokerProcess {

    static final Duration START_TIMEOUT = Duration.ofSeconds(90);
    static final Duration STOP_GRACE = Duration.ofSeconds(30);
    /** Broker logging goes through SLF4J to Logback; this resource keeps it to what matters. */
    static final String LOGBACK_CONFIG = "conveyor-kafka-logback.xml";

    private final JavaLauncher java;
    private final List<String> options;
    private final Path properties;
    private final Path logFile;
    private final String bootstrapServers;
    private final Consumer<ChildProcess> launched;
    private volatile ChildProcess process;

    private KafkaBrokerProcess(JavaLauncher java, List<String> options, Path properties, Path logFile,
            String bootstrapServers, Consumer<ChildProcess> launched) {
        this.java = java;
        this.options = List.copyOf(options);
        this.properties = properties;
        this.logFile = logFile;
        this.bootstrapServers = bootstrapServers;
        this.launched = launched;
    }

    /**
     * Formats storage in {@code directory} (wiped first), starts the broker on free ports and waits
     * until it answers {@code describeCluster}.
     */
    static KafkaBrokerProcess start(JavaLauncher java, List<String> jvmOptions, Path directory, Path logFile) {
        return start(java, jvmOptions, directory, logFile, Map.of());
    }

    /**
     * As {@link #start(JavaLauncher, List, Path, Path)}, with {@code extraProperties} added to (or replacing
     * lines of) the broker's {@code server.properties}, e.g. {@code group.share.record.lock.duration.ms}.
     */
    static KafkaBrokerProcess start(JavaLauncher java, List<String> jvmOptions, Path directory, Path logFile,
            Map<String, String> extraProperties) {
        return start(java, jvmOptions, directory, logFile, extraProperties, child -> { });
    }

    /**
     * As {@link #start(JavaLauncher, List, Path, Path, Map)}, telling {@code launched} of each process as soon as it
     * is launched (the storage tool, the broker), before the start waits for it: so that a stop while the start is
     * still waiting can stop them (the broker otherwise outlived a Ctrl-C of {@code local} during its start).
     */
    static KafkaBrokerProcess start(JavaLauncher java, List<String> jvmOptions, Path directory, Path logFile,
            Map<String, String> extraProperties, Consumer<ChildProcess> launched) {
        try {
            FileTrees.delete(directory);
            Files.createDirectories(directory);
            var ports = freePorts(2);
            var port = ports[0];
            var properties = directory.resolve("server.properties").toAbsolutePath();
            Files.writeString(properties, withExtra(serverProperties(port, ports[1],
                    directory.resolve("log").toAbsolutePath()), extraProperties));
            var options = new ArrayList<>(jvmOptions);
            // C1 only: on a small machine the broker's C2 compiler took a third of its CPU through 110,000 jobs and was
            // still at it, and its C1 code costs less in all (docs/performance.md, "The embedded broker compiles with
            // C1 only").
            options.addAll(List.of("-Xms256m", "-Xmx1g", "-XX:TieredStopAtLevel=1",
                    "-Dlogback.configurationFile=" + LOGBACK_CONFIG));
            format(java, options, properties, logFile, launched);
            var broker = new KafkaBrokerProcess(java, options, properties, logFile, "localhost:" + port, launched);
            broker.run();
            return broker;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot prepare Kafka in " + directory + ": " + e.getMessage(), e);
        }
    }

    /**
     * Starts the broker again, after {@link #stop()} or {@link #kill()}, on the same ports and with the same data
     * (nothing is formatted), and waits until it answers.
     */
    synchronized void restart() {
        if (process.isAlive()) {
            throw new IllegalStateException("the Kafka broker " + process + " still runs; stop or kill it first");
        }
        run();
    }

    /** Kills the broker at once (SIGKILL), as a crash would: no controlled shutdown, no flush. */
    synchronized void kill() {
        process.kill();
    }

    private void run() {
        var child = ChildProcess.start("kafka", java.command("kafka.Kafka", options, List.of(properties.toString())),
                logFile);
        process = child;
        launched.accept(child);
        try {
            awaitReady();
        } catch (RuntimeException e) {
            child.stop(Duration.ofSeconds(5));
            throw e;
        }
    }

    static String withExtra(String properties, Map<String, String> extra) {
        var lines = new ArrayList<String>();
        properties.lines().filter(line -> !extra.containsKey(line.substring(0, Math.max(0, line.indexOf('=')))))
                .forEach(lines::add);
        extra.forEach((key, value) -> lines.add(key + "=" + value));
        return String.join("\n", lines) + "\n";
    }

    String bootstrapServers() {
        return bootstrapServers;
    }

    ChildProcess process() {
        return process;
    }

    /** Stops the broker (SIGTERM, then a kill after {@link #STOP_GRACE}); true when it went by itself. */
    boolean stop() {
        return process.stop(STOP_GRACE);
    }

    static String serverProperties(int port, int controllerPort, Path logDirectory) {
        return """
                process.roles=broker,controller
                node.id=1
                controller.quorum.voters=1@localhost:%2$d
                listeners=PLAINTEXT://localhost:%1$d,CONTROLLER://localhost:%2$d
                advertised.listeners=PLAINTEXT://localhost:%1$d
                controller.listener.names=CONTROLLER
                inter.broker.listener.name=PLAINTEXT
                listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
                log.dirs=%3$s
                group.initial.rebalance.delay.ms=0
                offsets.topic.replication.factor=1
                offsets.topic.num.partitions=10
                transaction.state.log.replication.factor=1
                transaction.state.log.min.isr=1
                transaction.state.log.num.partitions=10
                share.coordinator.state.topic.replication.factor=1
                share.coordinator.state.topic.min.isr=1
                share.coordinator.state.topic.num.partitions=10
                group.share.min.session.timeout.ms=6000
                group.share.session.timeout.ms=6000
                group.share.min.heartbeat.interval.ms=2000
                group.share.heartbeat.interval.ms=2000
                """.formatted(port, controllerPort, logDirectory.toString().replace("\\", "/"));
    }

    private static void format(JavaLauncher java, List<String> options, Path properties, Path logFile,
            Consumer<ChildProcess> launched) {
        var args = List.of("format", "-t", Uuid.randomUuid().toString(), "-c", properties.toString());
        var tool = ChildProcess.start("kafka-storage", java.command("kafka.tools.StorageTool", options, args), logFile);
        launched.accept(tool);
        if (!tool.awaitExit(Duration.ofSeconds(60))) {
            tool.stop(Duration.ofSeconds(1));
            throw new IllegalStateException("formatting Kafka storage took over 60 s; see " + logFile);
        }
        if (tool.exitValue() != 0) {
            throw new IllegalStateException("formatting Kafka storage failed (exit " + tool.exitValue() + "):"
                    + System.lineSeparator() + tool.tail(20));
        }
    }

    private void awaitReady() {
        var config = Map.<String, Object>of(
                AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 2_000,
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 3_000,
                AdminClientConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 500);
        try (var admin = Admin.create(config)) {
            Readiness.await("Kafka broker at " + bootstrapServers, START_TIMEOUT, List.of(process),
                    () -> !admin.describeCluster().nodes().get(3, TimeUnit.SECONDS).isEmpty());
        }
    }

    /**
     * {@code count} different free ports. Every socket stays open until all are chosen: a port asked for after
     * another was closed may be that same port again (the broker then refuses to start, as its listeners must
     * differ).
     */
    static int[] freePorts(int count) throws IOException {
        var sockets = new ArrayList<ServerSocket>();
        try {
            for (var i = 0; i < count; i++) {
                var socket = new ServerSocket();
                sockets.add(socket);
                socket.setReuseAddress(true);
                socket.bind(new InetSocketAddress(0));
            }
            return sockets.stream().mapToInt(ServerSocket::getLocalPort).toArray();
        } finally {
            for (var socket : sockets) {
                socket.close();
            }
        }
    }
}
