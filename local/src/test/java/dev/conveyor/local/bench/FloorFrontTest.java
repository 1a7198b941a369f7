package dev.conveyor.local.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.common.Json;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The floor's HTTP front without its store and Kafka: what it answers before a job reaches them. */
class FloorFrontTest {

    private final FloorFront front = new FloorFront(null, null, null);
    private final HttpClient http = HttpClient.newHttpClient();

    @AfterEach
    void close() {
        front.close();
        http.close();
    }

    @Test
    void answers503UntilARunBegins() throws Exception {
        assertThat(post("{\"payload\":{\"n\":0}}").statusCode()).isEqualTo(503);
    }

    @Test
    void refusesAJobThatIsNotOneOfTheRunsAndAnIdThatIsNot() throws Exception {
        var run = FloorRun.awaited(10);
        front.begin(run);

        assertThat(post("{\"payload\":{\"n\":10}}").statusCode()).isEqualTo(400);
        assertThat(post("{\"type\":\"echo\"}").statusCode()).isEqualTo(400);
        assertThat(get("/v1/jobs/" + UUID.randomUUID()).statusCode()).isEqualTo(404);
        assertThat(get("/v1/jobs/not-an-id").statusCode()).isEqualTo(404);
        assertThat(get("/v1/elsewhere").statusCode()).isEqualTo(404);
    }

    @Test
    void aLongPollAnswersTheJobQueuedAfterItsWaitAndSucceededOnceItsEndIsCommitted() throws Exception {
        var run = FloorRun.awaited(10);
        front.begin(run);
        var id = run.id(3);

        var waiting = get("/v1/jobs/" + id + "?wait=0");
        assertThat(waiting.statusCode()).isEqualTo(200);
        assertThat(Json.tree(waiting.body()).get("status").asString()).isEqualTo("QUEUED");

        run.ended(List.of(id), System.nanoTime());
        var ended = get("/v1/jobs/" + id + "?wait=30");
        assertThat(Json.tree(ended.body()).get("status").asString()).isEqualTo("SUCCEEDED");
        assertThat(Json.tree(ended.body()).get("id").asString()).isEqualTo(id.toString());
        assertThat(run.job(id)).isEqualTo(3);
        assertThat(run.job(FloorRun.awaited(10).id(3))).as("another run's id").isEqualTo(-1);
    }

    @Test
    void readsTheWaitOfTheQuery() {
        assertThat(FloorFront.waitSeconds("wait=30")).isEqualTo(30);
        assertThat(FloorFront.waitSeconds("x=1&wait=5")).isEqualTo(5);
        assertThat(FloorFront.waitSeconds("wait=999")).isEqualTo(30);
        assertThat(FloorFront.waitSeconds("wait=-1")).isZero();
        assertThat(FloorFront.waitSeconds("wait=soon")).isZero();
        assertThat(FloorFront.waitSeconds(null)).isZero();
    }

    private HttpResponse<String> post(String body) throws Exception {
        return http.send(HttpRequest.newBuilder(uri("/v1/jobs")).POST(HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "application/json").build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(uri(path)).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    private URI uri(String path) {
        return front.uri().resolve(path);
    }
}
