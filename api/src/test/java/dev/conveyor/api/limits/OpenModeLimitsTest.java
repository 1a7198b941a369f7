package dev.conveyor.api.limits;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.ApiTest;
import dev.conveyor.api.ApiTests;
import dev.conveyor.common.test.HttpJson;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * Without keys every client is the same caller: the limits per key do not make them share one key's budget (the
 * contract lets thousands of clients long-poll at once); the tenant's limit still holds.
 */
@ApiTest
class OpenModeLimitsTest {

    @DynamicPropertySource
    static void services(DynamicPropertyRegistry registry) {
        ApiTests.services(registry);
        registry.add("conveyor.api.limits.submit-rate", () -> "0.01");
        registry.add("conveyor.api.limits.submit-burst", () -> "1000");
        registry.add("conveyor.api.limits.long-polls-per-key", () -> "2");
        registry.add("conveyor.api.limits.queued-per-tenant", () -> "2005");
    }

    @LocalServerPort
    int port;
    @Autowired
    MeterRegistry meters;

    private static String batch(int n) {
        var items = new ArrayList<String>();
        for (var i = 0; i < n; i++) {
            items.add("{\"type\": \"echo\"}");
        }
        return "{\"jobs\": [" + String.join(",", items) + "]}";
    }

    @Test
    void moreClientsWithoutKeysLongPollAtOnceThanOneKeyMay() {
        var http = ApiTests.client(port);
        var id = http.post("/v1/jobs", "{\"type\": \"echo\"}").json().get("id").asString();
        var open = new ArrayList<CompletableFuture<HttpJson.Response>>();
        for (var i = 0; i < 5; i++) {
            open.add(CompletableFuture.supplyAsync(() -> http.get("/v1/jobs/" + id + "?wait=60")));
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> openLongPolls() == 5
                || open.stream().anyMatch(CompletableFuture::isDone));
        assertThat(http.post("/v1/jobs/" + id + "/cancel", "").status()).isEqualTo(202);
        for (var future : open) {
            var answer = future.join();
            assertThat(answer.status()).as(answer.text()).isEqualTo(200);
            assertThat(answer.json().get("status").asString()).isEqualTo("CANCELLED");
        }
    }

    @Test
    void clientsWithoutKeysSubmitPastOneKeysBurstWithinTheTenantsLimit() {
        var http = ApiTests.client(port);
        assertThat(http.post("/v1/jobs/batch", batch(1000)).status()).isEqualTo(202);
        assertThat(http.post("/v1/jobs/batch", batch(1000)).status()).isEqualTo(202);

        // the tenant's limit holds all the same: 2,000 waiting (2,001 while the other test's job is counted) of 2,005
        var refused = http.post("/v1/jobs/batch", batch(6));
        assertThat(refused.status()).as(refused.text()).isEqualTo(429);
        assertThat(refused.json().get("type").asString()).endsWith("/tenant-backlog-full");
        assertThat(http.post("/v1/jobs/batch", batch(4)).status()).isEqualTo(202);
    }

    private double openLongPolls() {
        return meters.get("conveyor.longpolls.open").gauge().value();
    }
}
