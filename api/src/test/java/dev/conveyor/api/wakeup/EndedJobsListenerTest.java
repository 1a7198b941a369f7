package dev.conveyor.api.wakeup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.timeout;
import static org.mockito.Mockito.verify;

import dev.conveyor.api.ApiTests;
import dev.conveyor.api.dispatch.Backlog;
import dev.conveyor.api.dispatch.TenantWindows;
import dev.conveyor.common.test.CapturedLines;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;
import org.springframework.jdbc.core.simple.JdbcClient;

/**
 * The notifications of ended jobs: anyone with access to the database can {@code NOTIFY} the channel, with any
 * text; only what names jobs is taken, and the listener goes on.
 */
class EndedJobsListenerTest {

    private final PGSimpleDataSource database = ApiTests.migratedDatabase();
    private final JdbcClient jdbc = JdbcClient.create(database);
    private final JobWaiters waiters = new JobWaiters(new SimpleMeterRegistry());
    private final TenantWindows windows = mock(TenantWindows.class);
    private final Backlog backlog = mock(Backlog.class);
    private final EndedJobsListener listener = new EndedJobsListener(database, waiters, windows, backlog);
    private CapturedLines lines;

    @BeforeEach
    void listen() throws InterruptedException {
        listener.start();
        var probe = UUID.randomUUID();
        try (var registration = waiters.register(probe)) {
            // notifications sent before its LISTEN are not heard: send until one is
            await().atMost(Duration.ofSeconds(20)).until(() -> {
                notify(probe.toString());
                return registration.await(Duration.ofMillis(200));
            });
        }
        lines = CapturedLines.start(EndedJobsListener.class);
    }

    @AfterEach
    void stop() {
        lines.close();
        listener.stop();
    }

    private void notify(String payload) {
        jdbc.sql("SELECT pg_notify(:channel, :payload)").param("channel", JobNotifications.CHANNEL)
                .param("payload", payload).query().singleRow();
    }

    @Test
    void aPayloadThatNamesNoJobIsSkippedAndTheJobsBesideItAndAfterItAreHeard() {
        var beside = UUID.randomUUID();
        var after = UUID.randomUUID();

        notify("not-a-uuid," + beside + ",," + "x".repeat(5000) + CapturedLines.FORGED);
        notify("");
        notify(after.toString());

        verify(backlog, timeout(10_000)).ended(List.of(after));
        verify(backlog).ended(List.of(beside));
        verify(windows).settled(beside);
        verify(windows).settled(after);
        assertThat(lines.lines()).noneMatch(line -> line.getFormattedMessage().contains("Lost the job notifications"));
        // one line for what names no job, however much of it there is, at most once a minute
        lines.assertSafe(1, 1_000);
    }
}
