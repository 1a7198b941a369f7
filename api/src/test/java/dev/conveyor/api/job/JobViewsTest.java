package dev.conveyor.api.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.ApiTest;
import dev.conveyor.api.ApiTests;
import dev.conveyor.common.test.HttpJson;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * {@code view=summary} of {@code GET /v1/jobs} and {@code GET /v1/jobs/{id}}: jobs without their payloads and results,
 * for views that show neither (the dashboard's list) or that look for a change (its page of one job).
 */
@ApiTest
class JobViewsTest {

    private static final int MIB = 1024 * 1024;
    /** The test's ids, sorting as they were made. */
    private static final UuidV7 IDS = new UuidV7(Clock.systemUTC());

    @DynamicPropertySource
    static void services(DynamicPropertyRegistry registry) {
        ApiTests.services(registry);
    }

    @LocalServerPort
    int port;
    @Autowired
    JdbcClient jdbc;

    HttpJson http;

    @BeforeEach
    void client() {
        http = ApiTests.client(port);
    }

    /** Jobs of {@code type} that ended with a payload and a result of {@code bytes} each, oldest first. */
    private List<String> endedJobs(String type, int count, int bytes) {
        var ids = new ArrayList<String>();
        for (var i = 0; i < count; i++) {
            var id = IDS.get();
            jdbc.sql("""
                    INSERT INTO jobs (id, type, queue, status, payload, result, max_attempts, initial_max_attempts,
                                      timeout_seconds, attempts, created_at, run_at, started_at, finished_at, updated_at)
                    VALUES (:id, :type, 'default', 'SUCCEEDED', jsonb_build_object('s', repeat('p', :bytes)),
                            jsonb_build_object('s', repeat('r', :bytes)), 3, 3, 60, 1, now(), now(), now(), now(),
                            now())""")
                    .param("id", id).param("type", type).param("bytes", bytes).update();
            ids.add(id.toString());
        }
        return ids;
    }

    /**
     * The dashboard's list, 50 jobs of 1 MiB payloads and results: in full a page stops at 8 MiB (4 jobs, and each
     * refresh every 2 s downloads those 8 MiB again); in summary all 50 come in one small page.
     */
    @Test
    void aSummaryListsFiftyJobsOfMegabytePayloadsInOneSmallPage() {
        var ids = endedJobs("huge-listed", 50, MIB);

        var start = System.nanoTime();
        var full = http.get("/v1/jobs?type=huge-listed&limit=50");
        var fullMillis = (System.nanoTime() - start) / 1_000_000;
        start = System.nanoTime();
        var summary = http.get("/v1/jobs?type=huge-listed&limit=50&view=summary");
        var summaryMillis = (System.nanoTime() - start) / 1_000_000;
        System.out.printf("listing 50 jobs of 1 MiB payloads and results: full %d bytes, %d jobs, %d ms; "
                + "summary %d bytes, %d jobs, %d ms%n", full.text().length(), full.json().get("jobs").size(),
                fullMillis, summary.text().length(), summary.json().get("jobs").size(), summaryMillis);

        assertThat(summary.status()).as(summary.text()).isEqualTo(200);
        var jobs = summary.json().get("jobs");
        var listed = new ArrayList<String>();
        jobs.forEach(job -> listed.add(job.get("id").asString()));
        assertThat(listed).containsExactlyElementsOf(ids.reversed());
        assertThat(summary.json().get("next").isNull()).isTrue();
        assertThat(summary.text().length()).isLessThan(64 * 1024);
        var job = jobs.get(0);
        assertThat(job.has("payload")).isFalse();
        assertThat(job.has("result")).isFalse();
        assertThat(job.get("status").asString()).isEqualTo("SUCCEEDED");
        assertThat(job.get("attempts").asInt()).isEqualTo(1);
        assertThat(job.has("error")).isTrue();
        assertThat(job.has("progress")).isTrue();
    }

    @Test
    void aFullViewIsTheDefaultListing() {
        var ids = endedJobs("full-listed", 2, 10);

        var full = http.get("/v1/jobs?type=full-listed&view=full").json();

        assertThat(full.get("jobs").get(0).get("id").asString()).isEqualTo(ids.get(1));
        assertThat(full.get("jobs").get(0).get("payload").get("s").asString()).isEqualTo("p".repeat(10));
        assertThat(full.get("jobs").get(0).get("result").get("s").asString()).isEqualTo("r".repeat(10));
        assertThat(full).isEqualTo(http.get("/v1/jobs?type=full-listed").json());
    }

    /**
     * The dashboard's page of one job, refreshed every 1.5 s: a summary says whether anything changed, so that the
     * page need not download the job's 2 MiB of payload and result again at each refresh to learn that nothing did.
     */
    @Test
    void aSummaryOfOneJobLeavesOutItsPayloadAndResult() {
        var id = endedJobs("huge-got", 1, MIB).getFirst();

        var summary = http.get("/v1/jobs/" + id + "?view=summary");
        var waited = http.get("/v1/jobs/" + id + "?view=summary&wait=5");
        var full = http.get("/v1/jobs/" + id + "?view=full");

        assertThat(summary.status()).as(summary.text()).isEqualTo(200);
        assertThat(summary.text().length()).isLessThan(2048);
        assertThat(summary.json().has("payload")).isFalse();
        assertThat(summary.json().has("result")).isFalse();
        assertThat(summary.json().get("id").asString()).isEqualTo(id);
        assertThat(summary.json().get("updatedAt").asString())
                .isEqualTo(full.json().get("updatedAt").asString());
        assertThat(waited.json()).isEqualTo(summary.json());
        assertThat(full.json().get("payload").get("s").asString()).hasSize(MIB);
        assertThat(http.get("/v1/jobs/" + id + "?view=brief").json().get("errors").get(0).get("field").asString())
                .isEqualTo("view");
    }

    /** A long-poll answered with the job as the transaction that ended it wrote it answers the summary of it too. */
    @Test
    void aLongPolledSummaryOfAJobThatEndsMeanwhileIsASummary() throws Exception {
        var id = http.post("/v1/jobs", "{\"type\": \"echo\", \"queue\": \"nobody-listens\", \"payload\": "
                + "{\"s\": \"x\"}}").json().get("id").asString();
        var waiting = CompletableFuture.supplyAsync(
                () -> http.get("/v1/jobs/" + id + "?view=summary&wait=30"));
        await().atMost(Duration.ofSeconds(10)).until(
                () -> jdbc.sql("SELECT count(*) FROM jobs WHERE id = :id AND status = 'QUEUED'")
                        .param("id", UUID.fromString(id)).query(Long.class).single() == 1);

        assertThat(http.post("/v1/jobs/" + id + "/cancel", "").status()).isEqualTo(202);

        var answer = waiting.get(20, TimeUnit.SECONDS);
        assertThat(answer.json().get("status").asString()).isEqualTo("CANCELLED");
        assertThat(answer.json().has("payload")).isFalse();
        assertThat(answer.json().has("result")).isFalse();
    }

    /**
     * A filter given twice ({@code queue=a&queue=b}, as a client asking for either might send it) was joined into one
     * ("a,b"), which no queue is: an empty list, as if neither had jobs. Now a 400 naming each such parameter.
     */
    @Test
    void aParameterGivenTwiceIsA400NamingIt() {
        endedJobs("twice-listed", 1, 10);

        var listed = http.get("/v1/jobs?type=twice-listed&type=other&queue=default&queue=other&limit=5");
        var got = http.get("/v1/jobs/" + UUID.randomUUID() + "?wait=1&wait=2");

        assertThat(listed.status()).as(listed.text()).isEqualTo(400);
        var fields = new ArrayList<String>();
        listed.json().get("errors").forEach(error -> fields.add(error.get("field").asString()));
        assertThat(fields).containsExactlyInAnyOrder("type", "queue");
        assertThat(listed.json().get("errors").get(0).get("message").asString()).contains("once");
        assertThat(got.status()).as(got.text()).isEqualTo(400);
        assertThat(got.json().get("errors").get(0).get("field").asString()).isEqualTo("wait");
    }

    @Test
    void anUnknownViewIsA400NamingIt() {
        var answer = http.get("/v1/jobs?view=brief");

        assertThat(answer.status()).isEqualTo(400);
        assertThat(answer.json().get("errors").get(0).get("field").asString()).isEqualTo("view");
        assertThat(answer.json().get("errors").get(0).get("message").asString()).contains("full", "summary");
    }
}
