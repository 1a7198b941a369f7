package dev.conveyor.client;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.ConveyorApiApplication;
import dev.conveyor.common.test.TestKafka;
import dev.conveyor.common.test.TestPostgres;
import dev.conveyor.worker.ConveyorWorkerApplication;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Map;
import java.util.UUID;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.context.ConfigurableApplicationContext;

/** The client against a real api and worker (each its own Spring application) on embedded PostgreSQL and Kafka. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ClientAgainstApiTest {

    private static final String QUEUE = "client";
    private static final Duration LONG = Duration.ofSeconds(60);

    private ConfigurableApplicationContext api;
    private ConfigurableApplicationContext worker;
    private ConveyorClient client;

    record Greeting(String text, int times) {
    }

    @BeforeAll
    void start() {
        var kafka = TestKafka.bootstrapServers();
        api = ConveyorApiApplication.application().run("--server.port=0",
                "--spring.datasource.url=" + TestPostgres.newDatabase(), "--spring.datasource.username=postgres",
                "--spring.datasource.password=", "--spring.kafka.bootstrap-servers=" + kafka,
                "--conveyor.api.queues=" + QUEUE, "--conveyor.api.dispatch.poll-interval=50ms",
                "--conveyor.api.retry.base-delay=100ms");
        worker = ConveyorWorkerApplication.application().run("--server.port=0",
                "--spring.kafka.bootstrap-servers=" + kafka, "--conveyor.worker.id=client-test-worker",
                "--conveyor.worker.queues=" + QUEUE, "--conveyor.worker.consumers-per-queue=2");
        client = ConveyorClient.create("http://localhost:" + api.getEnvironment().getProperty("local.server.port"));
    }

    @AfterAll
    void stop() {
        client.close();
        worker.close();
        api.close();
    }

    private static JobRequest echo(Object payload) {
        return JobRequest.of("echo", payload).queue(QUEUE);
    }

    @Test
    void submitsATypedJobAndReadsItsResultAsThatType() {
        var submitted = client.submit(echo(new Greeting("hello", 3)).maxAttempts(2).timeout(Duration.ofSeconds(5)));
        assertThat(submitted.maxAttempts()).isEqualTo(2);
        assertThat(submitted.timeoutSeconds()).isEqualTo(5);
        assertThat(submitted.idempotencyKey()).as("made up by the client").startsWith("conveyor-client-");

        var ended = client.await(submitted.id(), LONG);
        assertThat(ended.status()).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(ended.result(Greeting.class)).isEqualTo(new Greeting("hello", 3));
        assertThat(ended.workerId()).isEqualTo("client-test-worker");
    }

    @Test
    void theSameKeyAnswersTheSameJobAndADifferentRequestWithItIsAConflict() {
        var key = "order-" + UUID.randomUUID();
        var first = client.submit(echo(Map.of("order", 42)).idempotencyKey(key));
        assertThat(client.submit(echo(Map.of("order", 42)).idempotencyKey(key)).id()).isEqualTo(first.id());
        assertThatThrownBy(() -> client.submit(echo(Map.of("order", 43)).idempotencyKey(key)))
                .isInstanceOfSatisfying(ProblemException.class, e -> {
                    assertThat(e.status()).isEqualTo(409);
                    assertThat(e.problem().type()).endsWith("/idempotency-conflict");
                });
    }

    @Test
    void aBadRequestThrowsTheProblemNamingEachField() {
        assertThatThrownBy(() -> client.submit(JobRequest.of("Not A Type").queue(QUEUE).maxAttempts(0)))
                .isInstanceOfSatisfying(ProblemException.class, e -> {
                    assertThat(e.status()).isEqualTo(400);
                    assertThat(e.fieldErrors()).extracting(Problem.FieldError::field)
                            .containsExactlyInAnyOrder("type", "maxAttempts");
                });
        assertThatThrownBy(() -> client.get(UUID.randomUUID())).isInstanceOfSatisfying(ProblemException.class,
                e -> assertThat(e.status()).isEqualTo(404));
    }

    @Test
    void aBatchIsSubmittedInOrderAndRuns() {
        var jobs = client.submitAll(IntStream.range(0, 3).mapToObj(i -> echo(Map.of("n", i))).toList());
        assertThat(jobs).extracting(job -> job.payload().get("n").asInt()).containsExactly(0, 1, 2);
        assertThat(jobs).allSatisfy(job -> assertThat(client.await(job.id(), LONG).status())
                .isEqualTo(JobStatus.SUCCEEDED));
    }

    @Test
    void listStreamsEveryMatchingJobAcrossPagesNewestFirst() {
        var type = "listed-" + UUID.randomUUID().toString().substring(0, 8);
        var ids = new ArrayList<UUID>();
        for (var i = 0; i < 5; i++) {
            ids.add(client.submit(JobRequest.of(type).queue(QUEUE).delay(Duration.ofHours(1))).id());
        }
        var listed = client.list(JobQuery.all().type(type).queue(QUEUE).status(JobStatus.SCHEDULED).pageSize(2))
                .map(Job::id).toList();
        assertThat(listed).containsExactlyElementsOf(ids.reversed());
    }

    @Test
    void cancelStopsARunningJob() {
        var job = client.submit(JobRequest.of("sleep", Map.of("ms", 60_000)).queue(QUEUE));
        await().atMost(LONG).until(() -> client.get(job.id()).status() == JobStatus.RUNNING);
        client.cancel(job.id());
        assertThat(client.await(job.id(), LONG).status()).isEqualTo(JobStatus.CANCELLED);
        assertThatThrownBy(() -> client.cancel(job.id())).isInstanceOfSatisfying(ProblemException.class,
                e -> assertThat(e.status()).isEqualTo(409));
    }

    @Test
    void retryRunsAFailedJobAgain() {
        var job = client.submit(JobRequest.of("fail", Map.of("untilAttempt", 2)).queue(QUEUE).maxAttempts(1));
        var failed = client.await(job.id(), LONG);
        assertThat(failed.status()).isEqualTo(JobStatus.FAILED);
        assertThat(failed.error().code()).isEqualTo("HANDLER_ERROR");

        assertThat(client.retry(job.id()).status()).isEqualTo(JobStatus.QUEUED);
        var succeeded = client.await(job.id(), LONG);
        assertThat(succeeded.status()).isEqualTo(JobStatus.SUCCEEDED);
        assertThat(succeeded.result(Map.class)).isEqualTo(Map.of("attempt", 2));
    }

    @Test
    void awaitAnswersAJobThatHasNotEndedWhenTheTimeIsUp() {
        var job = client.submit(JobRequest.of("sleep", Map.of("ms", 60_000)).queue(QUEUE));
        var started = System.nanoTime();
        assertThat(client.await(job.id(), Duration.ofMillis(1500)).isTerminal()).isFalse();
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isBetween(Duration.ofMillis(1400),
                Duration.ofSeconds(10));
        client.cancel(job.id());
    }

}
