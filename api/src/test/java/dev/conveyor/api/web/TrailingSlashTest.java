package dev.conveyor.api.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.api.ApiTest;
import dev.conveyor.api.ApiTests;
import dev.conveyor.common.test.HttpJson;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * A path with a trailing slash is another path: a 404 (Spring 6 no longer matches one, and the api neither redirects
 * nor strips it, so that what the auth filter and the scopes check is the path that runs). The problem says which
 * path was meant, so that a client's base URL ending in a slash is found at the first request.
 */
@ApiTest
class TrailingSlashTest {

    @DynamicPropertySource
    static void services(DynamicPropertyRegistry registry) {
        ApiTests.services(registry);
    }

    @LocalServerPort
    int port;

    HttpJson http;

    @BeforeEach
    void client() {
        http = ApiTests.client(port);
    }

    @Test
    void aRoutesPathWithATrailingSlashIsA404NamingThePathWithout() {
        var id = http.post("/v1/jobs", "{\"type\": \"echo\"}").json().get("id").asString();

        assertMeant(http.get("/v1/jobs/"), "/v1/jobs");
        assertMeant(http.post("/v1/jobs/", "{\"type\": \"echo\"}"), "/v1/jobs");
        assertMeant(http.get("/v1/jobs/" + id + "/"), "/v1/jobs/" + id);
        assertMeant(http.get("/v1/jobs/" + id + "/?wait=1"), "/v1/jobs/" + id);
        assertMeant(http.post("/v1/jobs/" + id + "/cancel/", ""), "/v1/jobs/" + id + "/cancel");
        assertMeant(http.post("/v1/jobs/batch/", "{\"jobs\": [{\"type\": \"echo\"}]}"), "/v1/jobs/batch");
        assertMeant(http.get("/v1/queues/"), "/v1/queues");
        assertMeant(http.get("/v1/workers//"), "/v1/workers");
        assertThat(http.get("/v1/jobs?limit=1").status()).isEqualTo(200);
    }

    @Test
    void aPathThatIsNoRouteWithoutItsSlashEitherIsAPlain404() {
        var answer = http.get("/v1/nothing-here/");

        assertThat(answer.status()).isEqualTo(404);
        assertThat(answer.contentType()).startsWith("application/problem+json");
        assertThat(answer.json().get("detail").asString()).doesNotContain("trailing slash");
        var unknownJob = http.get("/v1/jobs/" + UUID.randomUUID() + "/");
        assertThat(unknownJob.status()).isEqualTo(404);
        assertThat(unknownJob.json().get("detail").asString()).contains("trailing slash");
    }

    private static void assertMeant(HttpJson.Response answer, String meant) {
        assertThat(answer.status()).as("%s", answer.text()).isEqualTo(404);
        assertThat(answer.contentType()).startsWith("application/problem+json");
        var problem = answer.json();
        assertThat(problem.get("type").asString()).isEqualTo("about:blank");
        assertThat(problem.get("status").asInt()).isEqualTo(404);
        assertThat(problem.get("detail").asString()).as("%s", answer.text())
                .isEqualTo("There is nothing at this path. Paths take no trailing slash: " + meant);
    }
}
