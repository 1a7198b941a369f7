package dev.conveyor.local;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * deploy/kubernetes cannot be applied here (no cluster), so what its Deployments promise is checked as text; what the
 * metrics they scale on are is checked against a running system (ObservabilityEndToEndTest).
 */
class KubernetesManifestsTest {

    /** The longest start the probes must wait out: a migration that builds an index on a large jobs table. */
    private static final int LONGEST_START_SECONDS = 600;

    static Path root;
    static List<Map<String, Object>> containers = new ArrayList<>();
    static List<Map<String, Object>> manifests = new ArrayList<>();

    @BeforeAll
    static void readManifests() throws IOException {
        root = Path.of("").toAbsolutePath();
        while (!Files.isDirectory(root.resolve("deploy/kubernetes"))) {
            root = root.getParent();
            assertThat(root).as("a directory above the working directory holds deploy/kubernetes").isNotNull();
        }
        try (var files = Files.list(root.resolve("deploy/kubernetes"))) {
            for (var file : files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList()) {
                for (var document : new Yaml().loadAll(Files.readString(file))) {
                    var manifest = map(document);
                    manifests.add(manifest);
                    if ("Deployment".equals(manifest.get("kind"))) {
                        var pod = map(map(map(manifest.get("spec")).get("template")).get("spec"));
                        ((List<?>) pod.get("containers")).forEach(container -> containers.add(map(container)));
                    }
                }
            }
        }
        assertThat(containers).hasSize(2);
    }

    /**
     * A liveness probe alone counts a start as a death once its first failures are used up (here 30 s plus three
     * periods): an api migrating a large jobs table (V7 built an index on it), or waiting for another replica's
     * migration, or a JVM starting cold on a busy node (23 to 26 CPU seconds measured, on half a core requested), was
     * restarted in the middle of its start, again and again. A startup probe holds the liveness probe back until the
     * process has started, for as long as a start may take.
     */
    @Test
    void aSlowStartIsNotTakenForADeadProcess() {
        for (var container : containers) {
            assertThat(container).as("probes of %s", container.get("name")).containsKeys("livenessProbe",
                    "readinessProbe", "startupProbe");
            var startup = map(container.get("startupProbe"));
            assertThat(startup.get("httpGet")).isEqualTo(map(container.get("livenessProbe")).get("httpGet"));
            var period = ((Number) startup.getOrDefault("periodSeconds", 10)).intValue();
            var failures = ((Number) startup.getOrDefault("failureThreshold", 3)).intValue();
            assertThat(period * failures).as("seconds %s may take to start", container.get("name"))
                    .isGreaterThanOrEqualTo(LONGEST_START_SECONDS);
            assertThat(period).as("how soon a started %s is seen", container.get("name")).isLessThanOrEqualTo(5);
        }
    }

    @Test
    void setOnlyPropertiesThatExist() throws IOException {
        var known = DockerComposeFileTest.knownProperties(root);
        for (var container : containers) {
            for (var entry : (List<?>) container.get("env")) {
                var variable = (String) map(entry).get("name");
                // an element of a list (CONVEYOR_API_AUTH_KEYS_0_ID): the list itself must exist
                var names = List.of(variable, variable.replaceFirst("_[0-9]+_[A-Z0-9_]+$", ""));
                assertThat(known).as("%s sets %s; no property of Spring Boot or Conveyor answers to it",
                        container.get("name"), variable).anySatisfy(property -> assertThat(
                                DockerComposeFileTest.environmentNames(property)).containsAnyElementsOf(names));
            }
        }
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> map(Object value) {
        assertThat(value).isInstanceOf(Map.class);
        return (Map<String, Object>) value;
    }

    /**
     * The worker's actuator asks for no key, and its metrics name queues, job types and error codes: its NetworkPolicy
     * must select the worker's pods and let in only the actuator's port, and must not restrict what the worker sends
     * (Kafka, PostgreSQL, the hosts of http jobs).
     */
    @Test
    void onlyTheWorkersActuatorIsOpenAndOnlyToMonitoring() {
        var worker = manifests.stream().filter(m -> "Deployment".equals(m.get("kind")))
                .filter(m -> "conveyor-worker".equals(map(m.get("metadata")).get("name"))).findFirst().orElseThrow();
        var podLabels = map(map(map(map(worker.get("spec")).get("template")).get("metadata")).get("labels"));
        var container = map(((List<?>) map(map(map(worker.get("spec")).get("template")).get("spec")).get("containers"))
                .getFirst());
        var portNames = ((List<?>) container.get("ports")).stream().map(port -> map(port).get("name")).toList();

        var policies = manifests.stream().filter(m -> "NetworkPolicy".equals(m.get("kind"))).toList();
        assertThat(policies).hasSize(1);
        var spec = map(policies.getFirst().get("spec"));
        var selected = map(map(spec.get("podSelector")).get("matchLabels"));
        assertThat(podLabels).as("the worker's pod labels").containsAllEntriesOf(selected);
        assertThat(selected).isNotEmpty();
        assertThat(spec.get("policyTypes")).as("egress stays open").isEqualTo(List.of("Ingress"));
        var rules = (List<?>) spec.get("ingress");
        assertThat(rules).hasSize(1);
        var rule = map(rules.getFirst());
        assertThat(rule.get("from")).as("a rule without sources would let every pod in").isNotNull();
        assertThat(((List<?>) rule.get("ports")).stream().map(port -> map(port).get("port")).toList())
                .isEqualTo(List.of("actuator")).isEqualTo(portNames);
    }
}
