package dev.conveyor.local.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.local.bench.BenchOptions.SystemShape;
import java.net.URI;
import java.util.List;
import org.junit.jupiter.api.Test;

class BenchOptionsTest {

    @Test
    void byDefaultRunsEveryWorkloadThreeTimesAtTheIssuesSizesWithScaling() {
        var options = BenchOptions.parse();

        assertThat(options.workloads()).containsExactly(Workload.values());
        assertThat(options.runs()).isEqualTo(3);
        assertThat(options.warmups()).containsExactly(1_000);
        assertThat(options.scaling()).containsExactly(new SystemShape(1, 2), new SystemShape(1, 4), new SystemShape(2, 2));
        assertThat(options.scalingWorkloads()).containsExactly(Workload.W1_BATCH);
        assertThat(List.of(options.w1Jobs(), options.batchSize(), options.clients(), options.w2Jobs(),
                options.w2DelayMs(), options.w3Rate(), options.w3Seconds(), options.w4Jobs(), options.w4SleepMs()))
                .containsExactly(20_000, 1_000, 64, 5_000, 50, 500, 20, 10_000, 10_000);
        assertThat(options.urls()).isEmpty();
    }

    @Test
    void quickRunsOnceWithSmallerSizesAndNoScalingUnlessToldOtherwise() {
        var quick = BenchOptions.parse("--quick");
        var quickWithScaling = BenchOptions.parse("--quick", "--scaling=2x1", "--runs=2");

        assertThat(quick.runs()).isEqualTo(1);
        assertThat(quick.scaling()).isEmpty();
        assertThat(quick.w1Jobs()).isEqualTo(5_000);
        assertThat(quickWithScaling.scaling()).containsExactly(new SystemShape(2, 1));
        assertThat(quickWithScaling.runs()).isEqualTo(2);
    }

    @Test
    void readsWorkloadsWarmUpsAndARunningSystem() {
        var options = BenchOptions.parse("--workloads=w3,w1-batch", "--warmup=1000,10000", "--scaling=none",
                "--url=http://a:8080,http://b:8081/", "--pids=api:10,api:11,worker:12,postgres:13");

        assertThat(options.workloads()).containsExactly(Workload.W3, Workload.W1_BATCH);
        assertThat(options.warmups()).containsExactly(1_000, 10_000);
        assertThat(options.scaling()).isEmpty();
        assertThat(options.urls()).containsExactly(URI.create("http://a:8080/"), URI.create("http://b:8081/"));
        assertThat(options.pids()).containsEntry("api", List.of(10L, 11L)).containsEntry("postgres", List.of(13L));
    }

    @Test
    void runsTheFloorAfterConveyorsWorkloadsByDefault() {
        var options = BenchOptions.parse("--quick");

        assertThat(options.workloads()).endsWith(Workload.FLOOR_W1, Workload.FLOOR_W1_SINGLE, Workload.FLOOR_W2,
                Workload.FLOOR_W3, Workload.FLOOR_W3_HTTP, Workload.PG_BATCHES, Workload.PG_SINGLE);
        assertThat(options.workloads().stream().filter(Workload::onFloor)).hasSize(7);
        assertThat(options.jdbc()).isEmpty();
        assertThat(options.kafka()).isEmpty();
    }

    @Test
    void readsFloorWorkloadsAndTheStoresOfARunningSystem() {
        var options = BenchOptions.parse("--workloads=pg-alone,floor-w3,pg-single", "--url=http://a:8080",
                "--jdbc=jdbc:postgresql://db:5432/conveyor?user=u&password=p=q", "--kafka=k1:9092,k2:9092");

        assertThat(options.workloads()).containsExactly(Workload.PG_BATCHES, Workload.PG_SINGLE, Workload.FLOOR_W3);
        assertThat(options.jdbc()).isEqualTo("jdbc:postgresql://db:5432/conveyor?user=u&password=p=q");
        assertThat(options.kafka()).isEqualTo("k1:9092,k2:9092");
        assertThat(Workload.FLOOR_W3.floorSystem()).isEqualTo("bare Kafka + PostgreSQL");
        assertThat(Workload.named("floor-w3-http").floorSystem()).isEqualTo("bare Kafka + PostgreSQL");
        assertThat(Workload.PG_SINGLE.floorSystem()).isEqualTo("PostgreSQL alone");
    }

    @Test
    void refusesTheFloorsStoresWithoutARunningSystemOrOfAnotherKind() {
        assertThatThrownBy(() -> BenchOptions.parse("--kafka=k:9092")).hasMessageContaining("go with --url");
        assertThatThrownBy(() -> BenchOptions.parse("--url=http://a:8080", "--jdbc=jdbc:mysql://db/x"))
                .hasMessageContaining("PostgreSQL JDBC URL");
        assertThatThrownBy(() -> BenchOptions.parse("--workloads=floor")).hasMessageContaining("pg-alone");
    }

    @Test
    void refusesWhatItCannotUseSayingWhy() {
        assertThatThrownBy(() -> BenchOptions.parse("--w1-jobz=5")).hasMessage("unknown option --w1-jobz; see --help");
        assertThatThrownBy(() -> BenchOptions.parse("--workloads=w5")).hasMessageContaining("no workload 'w5'");
        assertThatThrownBy(() -> BenchOptions.parse("--scaling=4")).hasMessageContaining("APIS x WORKERS");
        assertThatThrownBy(() -> BenchOptions.parse("--batch-size=1001")).hasMessageContaining("from 1 to 1000");
        assertThatThrownBy(() -> BenchOptions.parse("--pids=kafka:1")).hasMessageContaining("ROLE:PID");
        assertThatThrownBy(() -> BenchOptions.parse("--scaling-workloads=w3")).hasMessageContaining("only w1-batch");
        assertThatThrownBy(() -> BenchOptions.parse("20000")).hasMessageContaining("unexpected argument");
    }

    @Test
    void printsTimelinesOnlyWhenAsked() {
        assertThat(BenchOptions.parse().timeline()).isFalse();
        assertThat(BenchOptions.parse("--timeline", "--workloads=w2").timeline()).isTrue();
        assertThat(BenchOptions.parse("--timeline", "--url=http://a:8080").timeline()).isTrue();
        assertThat(BenchOptions.HELP).contains("--timeline");
    }

    @Test
    void startsSystemsColdUnlessToldToUseTheAotCache() {
        assertThat(BenchOptions.parse().aot()).isFalse();
        assertThat(BenchOptions.parse("--aot", "--workloads=w3").aot()).isTrue();
        assertThat(BenchOptions.HELP).contains("--aot");
        assertThatThrownBy(() -> BenchOptions.parse("--aot", "--url=http://a:8080"))
                .hasMessageContaining("--aot goes with the systems the benchmark starts");
    }

    @Test
    void passesJavaOptionsToTheSystemsItStartsAndChecksThemFirst() {
        assertThat(BenchOptions.parse().javaOptions()).isEmpty();
        assertThat(BenchOptions.parse("--worker-java-option=-XX:TieredStopAtLevel=1", "--workloads=w2",
                "--api-java-option=-Xmx2g", "--worker-java-option=-Xmx1g").javaOptions())
                .containsExactly("--worker-java-option=-XX:TieredStopAtLevel=1", "--api-java-option=-Xmx2g",
                        "--worker-java-option=-Xmx1g");
        assertThat(BenchOptions.HELP).contains("--worker-java-option=OPT", "--api-java-option=OPT");
        assertThatThrownBy(() -> BenchOptions.parse("--worker-java-option=Xmx1g"))
                .hasMessage("--worker-java-option takes one JVM option such as -Xmx1g, not 'Xmx1g'");
        assertThatThrownBy(() -> BenchOptions.parse("--api-java-option=-Xmx2g", "--url=http://a:8080"))
                .hasMessageContaining("go with the systems the benchmark starts, not with --url");
    }

    @Test
    void namesSystemsForTheTable() {
        assertThat(SystemShape.parse("2x4")).hasToString("2 apis, 4 workers");
        assertThat(SystemShape.parse("1x1")).hasToString("1 api, 1 worker");
    }
}
