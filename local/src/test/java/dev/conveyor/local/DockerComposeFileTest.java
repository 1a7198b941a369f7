package dev.conveyor.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/** docker-compose.yml cannot be run here (no Docker engine), so its promises are checked as text. */
class DockerComposeFileTest {

    static Path root;
    static Map<String, Map<String, Object>> services;

    @BeforeAll
    @SuppressWarnings("unchecked")
    static void readComposeFile() throws IOException {
        root = Path.of("").toAbsolutePath();
        while (!Files.exists(root.resolve("docker-compose.yml"))) {
            root = root.getParent();
            assertThat(root).as("a directory above the working directory holds docker-compose.yml").isNotNull();
        }
        Map<String, Object> compose = new Yaml().load(Files.readString(root.resolve("docker-compose.yml")));
        services = (Map<String, Map<String, Object>>) compose.get("services");
    }

    @Test
    void definesKafkaPostgresApiAndWorker() {
        assertThat(services).containsOnlyKeys("kafka", "postgres", "api", "worker");
    }

    @Nested
    class Infrastructure {

        @Test
        void runsKafka42WithOneReplicaOfEveryInternalTopicIncludingShareState() {
            assertThat((String) services.get("kafka").get("image")).startsWith("apache/kafka:4.2");
            assertThat(environment("kafka")).containsEntry("KAFKA_PROCESS_ROLES", "broker,controller")
                    .containsEntry("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "1")
                    .containsEntry("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "1")
                    .containsEntry("KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "1")
                    .containsEntry("KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR", "1")
                    .containsEntry("KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR", "1");
            assertThat(environment("kafka").get("KAFKA_ADVERTISED_LISTENERS")).contains("PLAINTEXT://kafka:9092");
        }

        @Test
        void handsADeadWorkersSharePartitionsToTheOthersAfterSixSeconds() {
            assertThat(environment("kafka")).containsEntry("KAFKA_GROUP_SHARE_MIN_SESSION_TIMEOUT_MS", "6000")
                    .containsEntry("KAFKA_GROUP_SHARE_SESSION_TIMEOUT_MS", "6000")
                    .containsEntry("KAFKA_GROUP_SHARE_MIN_HEARTBEAT_INTERVAL_MS", "2000")
                    .containsEntry("KAFKA_GROUP_SHARE_HEARTBEAT_INTERVAL_MS", "2000");
        }

        @Test
        void runsPostgres18WithTheConveyorDatabase() {
            assertThat((String) services.get("postgres").get("image")).matches("postgres:18(\\..*|-.*)?");
            assertThat(environment("postgres")).containsEntry("POSTGRES_DB", "conveyor")
                    .containsEntry("POSTGRES_USER", "conveyor").containsEntry("POSTGRES_PASSWORD", "conveyor");
            assertThat(services.get("postgres").get("healthcheck").toString()).contains("pg_isready");
        }

        @Test
        void apiStartsOnlyOnceKafkaAndPostgresAreHealthy() {
            assertThat(services.get("kafka")).containsKey("healthcheck");
            assertThat(services.get("api").get("depends_on")).isEqualTo(Map.of(
                    "kafka", Map.of("condition", "service_healthy"),
                    "postgres", Map.of("condition", "service_healthy")));
        }
    }

    @Nested
    class Applications {

        @Test
        void buildFromDockerfilesInTheRepository() throws IOException {
            for (var module : List.of("api", "worker")) {
                var build = map(services.get(module).get("build"));
                assertThat(build).containsEntry("context", ".").containsEntry("dockerfile", module + "/Dockerfile");
                var dockerfile = Files.readString(root.resolve(module + "/Dockerfile"));
                assertThat(dockerfile).contains("FROM maven:3.9-eclipse-temurin-25 AS build",
                        "mvn -B -q -pl " + module + " -am package -DskipTests", "FROM eclipse-temurin:25-jre",
                        "COPY --from=build /src/" + module + "/target/conveyor-" + module + "-*-exec.jar /app/app.jar",
                        "java -Djarmode=tools -jar /app/app.jar extract --destination /app/extracted",
                        // the same inlining as local's api and workers
                        "ENTRYPOINT [\"java\", \"-XX:MaxRAMPercentage=75\", \"-XX:+UseCompactObjectHeaders\", "
                                + LocalSystem.SMALL_INLINING.stream().map(option -> "\"" + option + "\", ")
                                        .collect(Collectors.joining())
                                + "\"-jar\", \"/app/extracted/app.jar\"]");
                assertThat(dockerfile).containsPattern("(?m)^USER (?!root)\\w+");
                assertThat(Files.readString(root.resolve(module + "/pom.xml")))
                        .as("the Dockerfile copies the jar with classifier exec").contains("<classifier>exec</classifier>");
            }
            assertThat(Files.readString(root.resolve(".dockerignore"))).contains("**/target");
        }

        @Test
        void kafkaAndPostgresAreReachableFromTheHostOnlyOnLoopback() {
            assertThat(services.get("kafka").get("ports")).isEqualTo(List.of("127.0.0.1:9094:9094"));
            assertThat(services.get("postgres")).doesNotContainKey("ports");
        }

        @Test
        void workerCanBeScaled() {
            assertThat(services.get("worker")).doesNotContainKeys("ports", "container_name");
            // open without keys: published on the host's loopback only
            assertThat(services.get("api").get("ports")).isEqualTo(List.of("127.0.0.1:8080:8080"));
        }

        @Test
        void setOnlySpringPropertiesThatExist() throws IOException {
            var known = knownProperties(root);
            for (var module : List.of("api", "worker")) {
                for (var variable : environment(module).keySet()) {
                    assertThat(known).as("%s sets %s; no property of Spring Boot or Conveyor answers to it", module, variable)
                            .anySatisfy(property -> assertThat(environmentNames(property)).contains(variable));
                }
            }
            assertThat(environment("api")).containsEntry("SPRING_KAFKA_BOOTSTRAP_SERVERS", "kafka:9092")
                    .containsEntry("SPRING_DATASOURCE_URL", "jdbc:postgresql://postgres:5432/conveyor");
            assertThat(environment("worker")).containsEntry("SPRING_KAFKA_BOOTSTRAP_SERVERS", "kafka:9092")
                    .containsEntry("CONVEYOR_WORKER_QUEUES", "default");
        }

        /**
         * Open (no keys) and given an address, the api answered any name: a page of another site, its name pointed at
         * 127.0.0.1 (DNS rebinding), reached it through the host's published loopback port from the user's browser,
         * and could submit jobs ({@code http} ones to the compose network), read and cancel them. Listing its service
         * name keeps it to loopback names and that name, which the other containers use.
         */
        @Test
        void anOpenApiAnswersOnlyLoopbackNamesAndItsServiceName() {
            var api = environment("api");
            assertThat(api).containsKey("SERVER_ADDRESS").doesNotContainKey("CONVEYOR_API_AUTH_KEYS_0_HASH");
            assertThat(api).containsEntry("CONVEYOR_API_AUTH_OPEN_HOSTS", "api");
            assertThat(services).containsKey("api");
        }

        @Test
        void givesEachApplicationTheTimeItsStopTakes() {
            // the worker's shutdown-grace (30 s) plus its bounded waits for Kafka (13 s); Docker's default is 10 s
            assertThat(services.get("worker").get("stop_grace_period")).isEqualTo("45s");
            assertThat(services.get("api").get("stop_grace_period")).isEqualTo("30s");
        }

        @Test
        void apiAcceptsJobsForTheQueuesTheWorkersTake() {
            assertThat(environment("api")).containsEntry("CONVEYOR_API_QUEUES", environment("worker").get("CONVEYOR_WORKER_QUEUES"));
        }
    }

    /** Both names Spring Boot binds from the environment: {@code A_B_CD} (dashes dropped) and {@code A_B_C_D}. */
    static Set<String> environmentNames(String property) {
        var upper = property.toUpperCase().replace('.', '_');
        return new HashSet<>(List.of(upper.replace("-", ""), upper.replace('-', '_')));
    }

    /** Spring Boot's documented properties, plus Conveyor's own from its sources and config files. */
    static Set<String> knownProperties(Path root) throws IOException {
        var known = new HashSet<String>();
        var name = Pattern.compile("\"name\"\\s*:\\s*\"([^\"]+)\"");
        for (var url : Collections.list(DockerComposeFileTest.class.getClassLoader()
                .getResources("META-INF/spring-configuration-metadata.json"))) {
            try (InputStream in = url.openStream()) {
                name.matcher(new String(in.readAllBytes(), StandardCharsets.UTF_8)).results().forEach(m -> known.add(m.group(1)));
            }
        }
        assertThat(known).as("Spring Boot's configuration metadata is on the class path").contains("spring.datasource.url");
        for (var module : List.of("api", "worker")) {
            known.addAll(ConveyorProperties.declaredIn(root.resolve(module + "/src/main")));
        }
        return known;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object value) {
        return (Map<String, Object>) value;
    }

    private static Map<String, String> environment(String service) {
        var environment = map(services.get(service).get("environment"));
        var strings = new java.util.LinkedHashMap<String, String>();
        environment.forEach((key, value) -> strings.put(key, String.valueOf(value)));
        return strings;
    }
}
