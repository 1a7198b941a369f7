package dev.conveyor.local;

import dev.conveyor.common.Json;
import dev.conveyor.common.Topics;
import dev.conveyor.common.message.JobDispatch;
import dev.conveyor.worker.ConveyorWorkerApplication;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.awaitility.Awaitility;

/**
 * One worker, in this JVM, holding {@code N} (default 5000) {@code http} jobs in flight against a server that answers
 * after 1 s. Kafka and the server run in JVMs of their own, and there is no api: the jobs go straight onto the
 * queue's topic and the outcomes are read from {@code conveyor.events}, so the thread count and RSS printed are
 * the worker's (plus this small producer and consumer). See the README for the command.
 */
final class HttpInFlightBenchmark {

    public static void main(String[] args) throws Exception {
        var jobs = args.length > 0 ? Integer.parseInt(args[0]) : 5000;
        var home = Files.createTempDirectory("conveyor-bench");
        var java = JavaLauncher.current();
        var kafka = KafkaBrokerProcess.start(java, List.of(), home.resolve("kafka"), home.resolve("kafka.log"));
        var port = freePort();
        var server = ChildProcess.start("slow-server", java.command(SlowServer.class.getName(),
                // the JDK server keeps only 200 idle connections by default and closes the others under the client
                List.of("-Dsun.net.httpserver.maxIdleConnections=20000"),
                List.of(String.valueOf(port), "1000")), home.resolve("server.log"));
        Awaitility.await().atMost(Duration.ofSeconds(30)).ignoreExceptions()
                .until(() -> { new Socket(InetAddress.getLoopbackAddress(), port).close(); return true; });
        var queue = "bench";
        var bootstrap = kafka.bootstrapServers();
        try (var admin = Admin.create(Map.of("bootstrap.servers", bootstrap))) {
            admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.GROUP, Topics.shareGroup(queue)),
                    List.of(new AlterConfigOp(new ConfigEntry("share.auto.offset.reset", "earliest"),
                            AlterConfigOp.OpType.SET)))).all().get();
        }
        var worker = ConveyorWorkerApplication.application().run("--server.port=0",
                "--spring.kafka.bootstrap-servers=" + bootstrap, "--conveyor.worker.id=bench-worker",
                "--conveyor.worker.queues=" + queue, "--conveyor.worker.max-poll-records=500",
                "--conveyor.worker.http.allowed-addresses=127.0.0.0/8", "--logging.level.org.apache.kafka=WARN");
        var threads = ManagementFactory.getThreadMXBean();
        threads.resetPeakThreadCount();
        var rssBefore = status("VmRSS");

        try (var consumer = new KafkaConsumer<String, String>(Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.GROUP_ID_CONFIG, "bench-" + UUID.randomUUID(), ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
                "latest"), new StringDeserializer(), new StringDeserializer());
                var producer = new KafkaProducer<String, String>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG,
                        bootstrap), new StringSerializer(), new StringSerializer())) {
            consumer.subscribe(List.of(Topics.EVENTS));
            Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> {
                consumer.poll(Duration.ofMillis(100));
                return !consumer.assignment().isEmpty();
            });
            var url = "http://127.0.0.1:" + port + "/";
            var started = System.nanoTime();
            for (var i = 0; i < jobs; i++) {
                var id = UUID.randomUUID();
                var job = new JobDispatch(JobDispatch.VERSION, id, "http", queue, 1, 1, 120,
                        Json.tree("{\"url\": \"" + url + i + "\"}"), Instant.now(), 0);
                producer.send(new ProducerRecord<>(Topics.jobs(queue), id.toString(), Json.write(job)));
            }
            producer.flush();
            var succeeded = new HashSet<String>();
            var failed = 0;
            var peakInFlight = 0;
            while (succeeded.size() + failed < jobs) {
                for (var record : consumer.poll(Duration.ofMillis(200))) {
                    var event = Json.tree(record.value());
                    if (event.has("outcome")) {
                        if ("SUCCEEDED".equals(event.get("outcome").asString())) {
                            succeeded.add(event.get("jobId").asString());
                        } else {
                            failed++;
                            System.out.println("failed: " + event);
                        }
                    }
                }
                peakInFlight = Math.max(peakInFlight, worker.getBean(dev.conveyor.worker.execute.JobRunner.class)
                        .inFlight());
            }
            var took = Duration.ofNanos(System.nanoTime() - started);
            System.out.printf("%n%d http jobs against a server answering after 1 s: %d succeeded, %d failed in %.2f s%n",
                    jobs, succeeded.size(), failed, took.toMillis() / 1000.0);
            System.out.printf("peak jobs in flight on the worker: %d%n", peakInFlight);
            System.out.printf("peak platform threads (ThreadMXBean, this JVM): %d; now %d%n",
                    threads.getPeakThreadCount(), threads.getThreadCount());
            System.out.printf("RSS of this JVM: %s before the jobs, peak VmHWM %s%n", rssBefore, status("VmHWM"));
        } finally {
            worker.close();
            server.stop(Duration.ofSeconds(5));
            kafka.process().stop(Duration.ofSeconds(30));
            FileTrees.delete(home);
        }
        System.exit(0);
    }

    private static String status(String field) throws Exception {
        return Files.readAllLines(Path.of("/proc/self/status")).stream().filter(line -> line.startsWith(field + ":"))
                .map(line -> line.substring(field.length() + 1).strip()).findFirst().orElse("?");
    }

    private static int freePort() throws Exception {
        try (var socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
