package dev.conveyor.api.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.doAnswer;

import dev.conveyor.api.ApiTest;
import dev.conveyor.api.ApiTests;
import dev.conveyor.api.auth.Caller;
import dev.conveyor.common.test.HttpJson;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.context.bean.override.mockito.MockitoSpyBean;

/**
 * A burst past its tenant's window is kept in memory and published as the window frees up, also when the slots free
 * up while the burst is still being stored and the poller looks in between: that look finds nothing kept yet and the
 * window with room, and the hand-over that follows must tell the poller, or the kept jobs wait for its next interval
 * (here an hour) while the workers have nothing to take.
 */
@ApiTest
class KeptJobsWakeThePollerTest {

    private static final String QUEUE = "kept-q";
    private static final int WINDOW = 2;

    @DynamicPropertySource
    static void services(DynamicPropertyRegistry registry) {
        ApiTests.services(registry);
        registry.add("conveyor.api.queues", () -> QUEUE);
        registry.add("conveyor.api.dispatch.tenant-window", () -> String.valueOf(WINDOW));
        registry.add("conveyor.api.dispatch.poll-interval", () -> "1h");
    }

    @LocalServerPort
    int port;
    @MockitoSpyBean
    TenantWindows windows;
    @Autowired
    Backlog backlog;

    @Test
    void jobsKeptAfterTheWindowFreedUpArePublishedWithoutWaitingForThePollInterval() {
        var http = ApiTests.client(port);
        var first = submit(http, WINDOW); // fills the window: published at once
        var pair = new TenantWindows.Pair(QUEUE, Caller.DEFAULT_TENANT);
        assertThat(windows.rooms()).containsEntry(pair, 0);
        // The second burst finds the window full. Before it is stored and kept in the backlog, the first burst's
        // jobs start, and the poller, woken by their slots, looks and finds nothing kept.
        var once = new AtomicBoolean();
        doAnswer(invocation -> {
            var granted = invocation.callRealMethod();
            if (once.getAndSet(true)) {
                return granted; // the poller's, publishing what was kept
            }
            assertThat(granted).isEqualTo(0);
            first.forEach(windows::settled);
            await().atMost(Duration.ofSeconds(10)).until(() -> !windows.backlog());
            return granted;
        }).when(windows).reserve(eq(QUEUE), eq(Caller.DEFAULT_TENANT), eq(WINDOW));

        var second = submit(http, WINDOW);

        assertThat(second).doesNotContainAnyElementsOf(first);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            assertThat(backlog.size()).as("jobs still kept").isZero();
            assertThat(windows.rooms()).as("the second burst holds the window").containsEntry(pair, 0);
        });
    }

    private static List<UUID> submit(HttpJson http, int jobs) {
        var body = new StringBuilder("{\"jobs\": [");
        for (var i = 0; i < jobs; i++) {
            body.append(i == 0 ? "" : ", ").append("{\"type\": \"echo\", \"queue\": \"").append(QUEUE).append("\"}");
        }
        var response = http.post("/v1/jobs/batch", body.append("]}").toString());
        assertThat(response.status()).as(response.text()).isEqualTo(202);
        var ids = new ArrayList<UUID>();
        response.json().get("jobs").forEach(job -> ids.add(UUID.fromString(job.get("id").asString())));
        return ids;
    }
}
