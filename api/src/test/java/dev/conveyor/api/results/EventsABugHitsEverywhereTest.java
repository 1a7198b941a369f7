package dev.conveyor.api.results;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.doAnswer;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.conveyor.api.ApiTest;
import dev.conveyor.api.ApiTests;
import dev.conveyor.common.message.JobFinished;
import dev.conveyor.common.test.HttpJson;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.context.bean.override.mockito.MockitoSpyBean;

/**
 * A bug that the api's code hits on every event of some kind (stood in for by a lifecycle that throws for every
 * success a worker reports while {@link #bug} is set) fails at most {@value EventApplier.CodeFailures#MOST} jobs a minute; the other jobs'
 * events wait, retried in place, and are applied once the bug is gone (a fixed api), their outcomes kept.
 */
@ApiTest
class EventsABugHitsEverywhereTest {

    @DynamicPropertySource
    static void services(DynamicPropertyRegistry registry) {
        ApiTests.services(registry);
    }

    @LocalServerPort
    int port;
    @Autowired
    EventApplier applier;
    @MockitoSpyBean
    JobLifecycle lifecycle;

    volatile boolean bug;

    @Test
    void atMostTenJobsFailAndTheRestWaitForTheFix() {
        var http = ApiTests.client(port);
        doAnswer(call -> {
            JobFinished finished = call.getArgument(1);
            if (bug && finished.outcome() == JobFinished.Outcome.SUCCEEDED) {
                throw new IllegalStateException("a bug on every success");
            }
            return call.callRealMethod();
        }).when(lifecycle).finished(any(), any(), any(), any());
        var ids = new ArrayList<UUID>();
        var events = new ArrayList<String>();
        for (var i = 0; i < 15; i++) {
            var id = UUID.fromString(http.post("/v1/jobs", "{\"type\": \"echo\"}").json().get("id").asString());
            ids.add(id);
            events.add(started(id));
            events.add(succeeded(id));
        }
        bug = true;

        var logger = (Logger) LoggerFactory.getLogger(EventApplier.class);
        var logged = new ListAppender<ILoggingEvent>();
        logged.start();
        logger.addAppender(logged);
        try {
            var applied = CompletableFuture.runAsync(() -> applier.apply(events));
            // the eleventh job's events wait for a fix, unapplied, instead of failing it too
            await().atMost(Duration.ofSeconds(30)).until(() -> List.copyOf(logged.list).stream()
                    .anyMatch(line -> line.getFormattedMessage().contains("taking it for a bug that hits every")));
            assertThat(status(http, ids.get(EventApplier.CodeFailures.MOST))).isEqualTo("QUEUED");
            assertThat(applied).isNotDone();
            bug = false; // the fix
            applied.join();
        } finally {
            logger.detachAppender(logged);
        }

        var first = ids.subList(0, EventApplier.CodeFailures.MOST);
        var rest = ids.subList(EventApplier.CodeFailures.MOST, ids.size());
        assertThat(first).allSatisfy(id -> assertThat(job(http, id).get("error").get("code").asString())
                .isEqualTo("INVALID_REPORT"));
        assertThat(rest).allSatisfy(id -> assertThat(status(http, id)).isEqualTo("SUCCEEDED"));
    }

    private static tools.jackson.databind.JsonNode job(HttpJson http, UUID id) {
        return http.get("/v1/jobs/" + id).json();
    }

    private static String status(HttpJson http, UUID id) {
        return job(http, id).get("status").asString();
    }

    private static String started(UUID id) {
        return EventsTest.started(id, 1, 0);
    }

    private static String succeeded(UUID id) {
        return EventsTest.succeeded(id, 1, 0, "{\"ok\": true}");
    }
}
