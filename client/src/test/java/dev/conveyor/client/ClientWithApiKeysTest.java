package dev.conveyor.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.api.ConveyorApiApplication;
import dev.conveyor.api.auth.KeyHash;
import dev.conveyor.common.test.TestKafka;
import dev.conveyor.common.test.TestPostgres;
import java.net.URI;
import java.util.ArrayList;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.context.ConfigurableApplicationContext;

/** The client against a real api with API keys (no worker: the jobs only need to be stored and read back). */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClientWithApiKeysTest {

    private static final String QUEUE = "client-keys";
    private static final String ACME = "cvk_client-acme-rw-0123456789abcdef0123456789abcdef";
    private static final String ACME_READER = "cvk_client-acme-ro-0123456789abcdef0123456789abcdef";
    private static final String GLOBEX = "cvk_client-globex-rw-0123456789abcdef0123456789abcdef";

    private ConfigurableApplicationContext api;
    private URI base;

    @BeforeAll
    void start() {
        var args = new ArrayList<>(java.util.List.of("--server.port=0",
                "--spring.datasource.url=" + TestPostgres.newDatabase(), "--spring.datasource.username=postgres",
                "--spring.datasource.password=", "--spring.kafka.bootstrap-servers=" + TestKafka.bootstrapServers(),
                "--conveyor.api.queues=" + QUEUE));
        key(args, 0, "acme-rw", "acme", ACME, "jobs:write,jobs:read");
        key(args, 1, "acme-ro", "acme", ACME_READER, "jobs:read");
        key(args, 2, "globex-rw", "globex", GLOBEX, "jobs:write,jobs:read");
        api = ConveyorApiApplication.application().run(args.toArray(String[]::new));
        base = URI.create("http://localhost:" + api.getEnvironment().getProperty("local.server.port"));
    }

    private static void key(ArrayList<String> args, int i, String id, String tenant, String key, String scopes) {
        var prefix = "--conveyor.api.auth.keys[" + i + "].";
        args.addAll(java.util.List.of(prefix + "id=" + id, prefix + "tenant=" + tenant, prefix + "scopes=" + scopes,
                prefix + "hash=" + KeyHash.of(key)));
    }

    @AfterAll
    void stop() {
        api.close();
    }

    private ConveyorClient client(String key) {
        return ConveyorClient.builder(base).apiKey(key).build();
    }

    @Test
    void aClientWithAKeySubmitsAndReadsItsTenantsJobsOnly() {
        try (var acme = client(ACME); var globex = client(GLOBEX)) {
            var job = acme.submit(JobRequest.of("echo", Map.of("for", "acme")).queue(QUEUE));

            assertThat(acme.get(job.id()).payload().get("for").asString()).isEqualTo("acme");
            assertThatThrownBy(() -> globex.get(job.id())).isInstanceOfSatisfying(ProblemException.class,
                    e -> assertThat(e.status()).as("another tenant's job does not exist").isEqualTo(404));
            assertThat(globex.list(JobQuery.all().queue(QUEUE))).extracting(Job::id).doesNotContain(job.id());
        }
    }

    @Test
    void withoutAValidKeyEveryCallIs401AndAKeyWithoutTheScopeIs403() {
        try (var none = ConveyorClient.create(base.toString()); var wrong = client("cvk_not-a-key");
                var reader = client(ACME_READER)) {
            assertThatThrownBy(() -> none.submit(JobRequest.of("echo").queue(QUEUE)))
                    .isInstanceOfSatisfying(ProblemException.class, e -> assertThat(e.status()).isEqualTo(401))
                    .hasMessageContaining("Builder.apiKey");
            assertThatThrownBy(() -> wrong.page(JobQuery.all(), null))
                    .isInstanceOfSatisfying(ProblemException.class, e -> assertThat(e.status()).isEqualTo(401))
                    .hasMessageNotContaining("cvk_not-a-key");
            assertThatThrownBy(() -> reader.submit(JobRequest.of("echo").queue(QUEUE)))
                    .isInstanceOfSatisfying(ProblemException.class, e -> {
                        assertThat(e.status()).isEqualTo(403);
                        assertThat(e.problem().detail()).contains("jobs:write");
                        assertThat(e.getMessage()).doesNotContain(ACME_READER);
                    });
            assertThat(reader.page(JobQuery.all(), null).jobs()).isNotNull();
        }
    }
}
