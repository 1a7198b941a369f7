package dev.conveyor.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Value;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.context.TestPropertySource;

/**
 * While PostgreSQL refuses connections, the api's tasks that try again and again (the rescuer, the due poller, the
 * retention pass, the record reconciler, the connections that listen for ended jobs and mark the instance alive) each log one warning, not
 * one per try, and one line when they work again. Each try is logged at debug, on here for the tasks that try most
 * often, to see that they tried several times. The dispatch poll asks PostgreSQL only while its instance holds its
 * lock, which the outage soon takes: it warns once or, when the lock went first, not at all, and it never says it
 * works before PostgreSQL does.
 */
@ApiTest
@TestPropertySource(properties = {"spring.datasource.hikari.connection-timeout=1000",
        "conveyor.api.rescue-interval=200ms", "conveyor.api.retention.interval=200ms",
        "conveyor.api.dispatch.reconcile-interval=1s",
        "logging.level.dev.conveyor.api.dispatch.RecordReconciler=DEBUG",
        "logging.level.dev.conveyor.api.results.Rescuer=DEBUG",
        "logging.level.dev.conveyor.api.dispatch.DuePoller=DEBUG",
        "logging.level.dev.conveyor.api.retention.JobCleaner=DEBUG"})
@ExtendWith(OutputCaptureExtension.class)
class StoreOutageLogTest {

    private static final List<String> TASKS = List.of("The rescue pass", "The dispatch poll",
            "Deleting the jobs past their retention", "Looking for lost job records",
            "The connection that listens for ended jobs",
            "The connection that marks this api instance alive");

    @DynamicPropertySource
    static void services(DynamicPropertyRegistry registry) {
        ApiTests.services(registry);
    }

    @Value("${spring.datasource.url}")
    String url;

    @Test
    void eachTaskWarnsOnceWhileTheStoreRefusesConnectionsAndSaysWhenItWorksAgain(CapturedOutput output)
            throws Exception {
        var path = url.substring(url.lastIndexOf('/') + 1);
        var database = path.contains("?") ? path.substring(0, path.indexOf('?')) : path;
        int from;
        try (var admin = DriverManager.getConnection(url.replace("/" + database, "/postgres"), "postgres", "");
                var statement = admin.createStatement()) {
            from = output.getOut().length();
            statement.execute("ALTER DATABASE " + database + " ALLOW_CONNECTIONS false");
            statement.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + database
                    + "'");
            boolean pollWarned;
            try {
                await().atMost(Duration.ofSeconds(60)).until(() -> since(output, from).contains(
                        "The rescue pass failed again (try 4)") && since(output, from).contains(
                        "Deleting the jobs past their retention failed again (try 4)") && since(output, from).contains(
                        "Looking for lost job records failed again (try 4)"));
                var during = since(output, from);
                var warnings = during.lines().filter(line -> line.contains(" WARN ")).toList();
                for (var task : TASKS) {
                    assertThat(warnings).as("the warnings of '%s'", task)
                            .filteredOn(line -> line.contains(task)).hasSizeLessThanOrEqualTo(1);
                }
                assertThat(warnings).filteredOn(line -> line.contains("The rescue pass failed;")).singleElement()
                        .asString().contains("attempts whose worker was lost stay RUNNING until it works again");
                // The dispatch poll claims only while its instance holds its lock (ApiInstance.judgesLeases), which
                // the outage takes within seconds: then it asks PostgreSQL nothing, and a look that asked nothing
                // is no sign that the database works (it said so, in the middle of the outage).
                assertThat(during).as("the dispatch poll while PostgreSQL refuses connections")
                        .doesNotContain("The dispatch poll works again");
                pollWarned = during.contains("The dispatch poll failed;");
            } finally {
                statement.execute("ALTER DATABASE " + database + " ALLOW_CONNECTIONS true");
            }
            var back = new ArrayList<>(List.of("The rescue pass works again, after ",
                    "Deleting the jobs past their retention works again, after ",
                    "Looking for lost job records works again, after "));
            if (pollWarned) {
                back.add("The dispatch poll works again, after ");
            }
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(since(output, from))
                    .contains(back.toArray(String[]::new)));
        }
    }

    private static String since(CapturedOutput output, int from) {
        return output.getOut().substring(from);
    }
}
