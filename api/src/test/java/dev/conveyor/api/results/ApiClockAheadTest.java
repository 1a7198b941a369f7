package dev.conveyor.api.results;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.ApiTest;
import dev.conveyor.api.ApiTests;
import dev.conveyor.api.job.UuidV7;
import dev.conveyor.common.Json;
import dev.conveyor.common.Topics;
import dev.conveyor.common.message.JobError;
import dev.conveyor.common.message.JobEvent;
import dev.conveyor.common.message.JobFinished;
import dev.conveyor.common.message.JobStarted;
import dev.conveyor.common.test.HttpJson;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.context.bean.override.convention.TestBean;

/**
 * An api whose clock has jumped a year ahead (a bad time server; its host's clock set by hand): what it stores is due,
 * and leased, by the database's clock, which decides when a job is due. Counted from the api's clock, a retry waited
 * a year after its backoff, a submitted job with a delay a year after it, and a job this instance leased was its own
 * for a year (the poller took none of them over, should the instance's publication fail); and all still did once that
 * clock was set right.
 */
@ApiTest
class ApiClockAheadTest {

    @DynamicPropertySource
    static void services(DynamicPropertyRegistry registry) {
        ApiTests.services(registry);
    }

    @TestBean(name = "clock")
    Clock clock;

    static Clock clock() {
        return Clock.offset(Clock.systemUTC(), Duration.ofDays(365));
    }

    @LocalServerPort
    int port;
    @Autowired
    JdbcClient jdbc;
    @Autowired
    KafkaTemplate<String, String> kafka;

    private HttpJson http;

    @BeforeEach
    void client() {
        http = ApiTests.client(port);
    }

    @Test
    void aSubmittedJobIsCreatedDueAndLeasedByTheDatabasesClock() throws Exception {
        var delayed = http.post("/v1/jobs", "{\"type\": \"echo\", \"delaySeconds\": 1}").json();
        var id = UUID.fromString(delayed.get("id").asString());
        var createdAt = Instant.parse(delayed.get("createdAt").asString());
        assertThat(createdAt).isBetween(Instant.now().minusSeconds(60), Instant.now().plusSeconds(60));
        assertThat(Instant.parse(delayed.get("runAt").asString())).isEqualTo(createdAt.plusSeconds(1));
        assertThat(http.get("/v1/jobs/" + id).json().get("createdAt").asString())
                .isEqualTo(delayed.get("createdAt").asString());
        // due a second after it was stored: the poller publishes it then, not a year later
        await().atMost(Duration.ofSeconds(20)).until(() -> jdbc.sql("SELECT dispatched_at IS NOT NULL FROM jobs "
                + "WHERE id = :id").param("id", id).query(Boolean.class).single());

        var queued = UUID.fromString(http.post("/v1/jobs", "{\"type\": \"echo\"}").json().get("id").asString());
        assertThat(jdbc.sql("""
                SELECT created_at BETWEEN now() - interval '1 minute' AND now()
                       AND run_at = created_at AND updated_at = created_at
                       AND (dispatch_lease_until IS NULL
                            OR dispatch_lease_until BETWEEN created_at AND created_at + interval '60 seconds')
                FROM jobs WHERE id = :id""").param("id", queued).query(Boolean.class).single())
                .as("created, due and leased by the database's clock").isTrue();
    }

    /**
     * A job's id is time-ordered (UUIDv7) and the listing is newest first by it: taken from this api's clock, the ids
     * of its jobs were a year ahead of every other instance's, and its jobs were listed before theirs for a year
     * (a client paging from the newest met them first, a job submitted later elsewhere after them). Ids carry the
     * database's time, as createdAt does.
     */
    @Test
    void aJobsIdCarriesTheDatabasesTimeSoThatListingsStayNewestFirst() {
        var first = http.post("/v1/jobs", "{\"type\": \"echo\", \"delaySeconds\": 3600}").json();
        var id = UUID.fromString(first.get("id").asString());
        var idTime = Instant.ofEpochMilli(id.getMostSignificantBits() >>> 16);
        assertThat(Duration.between(Instant.parse(first.get("createdAt").asString()), idTime).abs())
                .as("the id's time against createdAt").isLessThan(Duration.ofSeconds(10));

        // a job submitted after it through another instance, whose clock is right
        var later = new UuidV7(Clock.systemUTC()).get();
        jdbc.sql("""
                INSERT INTO jobs (id, type, queue, status, payload, max_attempts, initial_max_attempts, timeout_seconds,
                                  created_at, run_at, updated_at)
                VALUES (:id, 'echo', 'default', 'SCHEDULED', '{}', 1, 1, 60, now(), now() + interval '1 hour', now())
                """).param("id", later).update();

        var listed = http.get("/v1/jobs?limit=2&status=SCHEDULED").json().get("jobs");
        assertThat(listed.valueStream().map(j -> j.get("id").asString()))
                .containsExactly(later.toString(), id.toString());
    }

    @Test
    void aFailedAttemptIsRetriedAfterItsBackoffWhateverTheApisClockSays() throws Exception {
        var id = UUID.fromString(http.post("/v1/jobs", "{\"type\": \"echo\", \"maxAttempts\": 3}").json()
                .get("id").asString());
        var now = Instant.now();
        kafka.send(Topics.EVENTS, id.toString(), Json.write(new JobStarted(JobEvent.VERSION, id, 1, 0, "w1", now)));
        kafka.send(Topics.EVENTS, id.toString(), Json.write(new JobFinished(JobEvent.VERSION, id, 1, 0, 3, "w1",
                JobFinished.Outcome.FAILED, null, new JobError(JobError.HANDLER_ERROR, "boom", true), null, now)));
        await().atMost(Duration.ofSeconds(20)).until(() -> jdbc.sql("SELECT attempts FROM jobs WHERE id = :id")
                .param("id", id).query(Integer.class).single() == 1);

        // the backoff after a first failure is a second (±20 %): then the poller publishes it again
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> assertThat(jdbc.sql("""
                SELECT status = 'QUEUED' AND run_at <= now() + interval '2 seconds' FROM jobs WHERE id = :id""")
                .param("id", id).query(Boolean.class).single()).as("due again within its backoff").isTrue());
    }
}
