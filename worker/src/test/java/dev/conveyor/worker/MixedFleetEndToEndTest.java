package dev.conveyor.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.common.Topics;
import dev.conveyor.common.test.TestKafka;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.Test;

/**
 * A queue served by workers with different handlers: a job that reaches a worker without its handler is given back,
 * and its next record goes to another partition, so it reaches a worker that has the handler. Kafka hands each
 * partition of a share group to one member while the members are no more than the partitions, so a record always
 * keyed to its job's partition came back to the same worker every time, and the job failed after 20 hand-backs.
 */
class MixedFleetEndToEndTest {

    private static final String QUEUE = "mixed";
    private static final String SHARE_GROUP = Topics.shareGroup(QUEUE);

    @Test
    void aJobGivenBackReachesAWorkerWithItsHandler() {
        // four partitions for four consumers (two per worker): each worker takes two partitions of its own
        try (var system = new RunningSystem(RunningSystem.Services.embedded(), QUEUE,
                List.of("--conveyor.api.queue-partitions=4"))) {
            system.startWorker(QUEUE, "plain-worker", "--conveyor.worker.queue-partitions=4");
            system.startWorker(QUEUE, "greeting-worker", List.of(Greetings.HANDLER),
                    "--conveyor.worker.queue-partitions=4");
            await().atMost(Duration.ofSeconds(60)).until(() -> system.http().get("/v1/workers").json()
                    .get("workers").size() == 2);
            // and Kafka has given each of the four consumers its partition: jobs published before that go to the
            // plain worker's consumers alone, and come back to them, with a backoff that doubles each time
            try (var admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                    TestKafka.bootstrapServers()))) {
                await().atMost(Duration.ofSeconds(60)).until(() -> {
                    var members = admin.describeShareGroups(List.of(SHARE_GROUP)).all().get().get(SHARE_GROUP)
                            .members();
                    return members.size() == 4
                            && members.stream().allMatch(m -> m.assignment().topicPartitions().size() == 1);
                });
            }

            var ids = Greetings.submit(system, QUEUE, 40);

            var givenBack = 0;
            for (var id : ids) {
                var job = system.http().get("/v1/jobs/" + id + "?wait=60").json();
                assertThat(job.get("status").asString()).as("%s", job).isEqualTo("SUCCEEDED");
                assertThat(job.get("result").get("hello").asString()).startsWith("n");
                // given back unstarted, it keeps its attempts: the hand-back shows in its error alone
                assertThat(job.get("attempts").asInt()).as("attempts started, %s", job).isEqualTo(1);
                givenBack += "NO_HANDLER".equals(job.path("error").path("code").asString(null)) ? 1 : 0;
            }
            // the plain worker took some and gave them back (its partitions hold about half of the keys)
            assertThat(givenBack).as("jobs given back before they ran").isPositive();
        }
    }
}
