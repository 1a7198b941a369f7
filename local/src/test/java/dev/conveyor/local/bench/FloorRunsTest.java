package dev.conveyor.local.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.local.BareServices;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FloorRunsTest {

    @TempDir
    static Path home;

    private static BareServices services;

    @BeforeAll
    static void startServices() {
        services = BareServices.start(home);
    }

    @AfterAll
    static void stopServices() {
        if (services != null) {
            services.close();
        }
    }

    @Test
    void runsTheBarePathInW1W2AndW3ShapesBehindHttpTooAndPostgresAloneWithEveryJobEnded() throws Exception {
        var options = BenchOptions.parse("--w1-jobs=200", "--w2-jobs=300", "--w2-delay-ms=50", "--w3-rate=50",
                "--w3-seconds=2", "--batch-size=50", "--clients=8");
        var target = new FloorTarget(services.jdbcUrl(), services.user(), services.password(),
                services.bootstrapServers());
        var roles = List.of(new Role("broker", List.of(services.brokerPid()), false),
                new Role("postgres", List.of(services.postgresPid()), true),
                new Role("bench", List.of(ProcessHandle.current().pid()), false));

        try (var server = new DelayServer(Duration.ofMillis(50));
             var floors = new FloorRuns(target, roles, options, server)) {
            var burst = floors.measure(Workload.FLOOR_W1);
            assertThat(burst.jobs()).isEqualTo(200);
            assertThat(burst.jobsPerSecond()).isPositive();
            assertThat(burst.latency().p50()).isPositive().isLessThanOrEqualTo(burst.latency().max());
            assertThat(burst.usage()).containsKeys("broker", "postgres", "bench");
            // CPU is counted in ticks of 10 ms, which 200 jobs may not fill
            assertThat(burst.cpuMsPerJob("postgres")).isNotNegative();
            assertThat(burst.note()).contains("bench JVM (the floor's api, worker and load)");

            var singles = floors.measure(Workload.FLOOR_W1_SINGLE);
            assertThat(singles.jobs()).isEqualTo(200);
            assertThat(singles.latency().p50()).isPositive().isLessThanOrEqualTo(singles.latency().max());
            assertThat(succeeded()).isEqualTo(200);
            assertThat(jobsWhere("payload->>'n' IS NOT NULL")).as("the payload each client posted").isEqualTo(200);

            var http = floors.measure(Workload.FLOOR_W2);
            assertThat(http.jobs()).isEqualTo(300);
            assertThat(http.latency().p50()).as("each job waits for its 50 ms answer").isGreaterThanOrEqualTo(50);
            assertThat(http.note()).contains("HTTP server: at most");
            assertThat(server.mostAtOnce()).as("more than one GET at once").isGreaterThan(1)
                    .isLessThanOrEqualTo(BarePath.CONNECTIONS_PER_HOST);
            assertThat(succeeded()).isEqualTo(300);
            assertThat(httpResults()).isEqualTo(300);

            var paced = floors.measure(Workload.FLOOR_W3);
            assertThat(paced.jobs()).isEqualTo(100);
            assertThat(paced.seconds()).as("100 jobs paced at 50/s take two seconds to submit").isGreaterThan(1.9);
            assertThat(paced.latency().p50()).isPositive();
            assertThat(succeeded()).isEqualTo(100);

            var overHttp = floors.measure(Workload.FLOOR_W3_HTTP);
            assertThat(overHttp.jobs()).isEqualTo(100);
            assertThat(overHttp.seconds()).as("100 jobs paced at 50/s take two seconds to submit").isGreaterThan(1.9);
            assertThat(overHttp.latency().p50()).isPositive().isLessThanOrEqualTo(overHttp.latency().max());
            assertThat(overHttp.note()).contains("202 ").contains("readable ");
            assertThat(succeeded()).isEqualTo(100);
            assertThat(jobsWhere("payload->>'n' IS NOT NULL")).as("the payload the client posted").isEqualTo(100);

            var batches = floors.measure(Workload.PG_BATCHES);
            assertThat(batches.jobs()).isEqualTo(200);
            assertThat(batches.usage()).containsKeys("postgres", "bench").doesNotContainKey("broker");
            assertThat(succeeded()).isEqualTo(200);

            var inserts = floors.measure(Workload.PG_SINGLE);
            assertThat(inserts.jobs()).isEqualTo(100);
            assertThat(inserts.jobsPerSecond()).isPositive();
            assertThat(inserts.latency().p50()).isPositive();
            assertThat(inserts.note()).contains("single-row INSERT transactions from 20 connections");
        }
    }

    private static long succeeded() throws Exception {
        return jobsWhere("status = 'SUCCEEDED' AND finished_at IS NOT NULL");
    }

    /** Jobs whose result is the answer of the benchmark's HTTP server. */
    private static long httpResults() throws Exception {
        return jobsWhere("result->>'status' = '200' AND result->>'body' = 'ok'");
    }

    private static long jobsWhere(String condition) throws Exception {
        try (var connection = DriverManager.getConnection(services.jdbcUrl(), services.user(), services.password());
             var rows = connection.createStatement().executeQuery(
                     "SELECT count(*) FROM bench_floor.jobs WHERE " + condition)) {
            rows.next();
            return rows.getLong(1);
        }
    }
}
