package dev.conveyor.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.local.LocalOptions.InvalidOptionException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class LocalOptionsTest {

    @Nested
    class Defaults {

        @Test
        void startOneApiOnPort8080AndTwoWorkersOnTheDefaultQueue() {
            var options = LocalOptions.parse();

            assertThat(options.port()).isEqualTo(8080);
            assertThat(options.apis()).isEqualTo(1);
            assertThat(options.workers()).isEqualTo(2);
            assertThat(options.workerArgs()).isEmpty();
            assertThat(options.apiArgs()).isEmpty();
            assertThat(options.apiJavaOptions()).isEmpty();
            assertThat(options.workerJavaOptions()).isEmpty();
            assertThat(options.postgresSettings()).isEmpty();
            assertThat(options.restartWorkers()).isTrue();
            assertThat(options.queues()).containsExactly("default");
            assertThat(options.postgres()).isEmpty();
            assertThat(options.kafka()).isEmpty();
            assertThat(options.home()).isEqualTo(Path.of(".conveyor"));
            assertThat(options.logs()).isEqualTo(Path.of(".conveyor", "logs"));
            assertThat(options.help()).isFalse();
        }
    }

    @Nested
    class Parsing {

        @Test
        void readsEveryOption() {
            var options = LocalOptions.parse("--port=9090", "--workers=5", "--queues=emails, default,emails",
                    "--postgres-url=jdbc:postgresql://db:5432/conveyor", "--postgres-user=conveyor",
                    "--postgres-password=secret", "--kafka=broker:9092", "--home=/tmp/c");

            assertThat(options.port()).isEqualTo(9090);
            assertThat(options.workers()).isEqualTo(5);
            assertThat(options.queues()).containsExactly("emails", "default");
            assertThat(options.postgres()).contains(new LocalOptions.ExternalPostgres(
                    "jdbc:postgresql://db:5432/conveyor", "conveyor", "secret"));
            assertThat(options.kafka()).contains("broker:9092");
            assertThat(options.home()).isEqualTo(Path.of("/tmp/c"));
        }

        @Test
        void keepsPostgresSettingsInOrderTheLastOfANameWinning() {
            var options = LocalOptions.parse("--postgres-setting=shared_preload_libraries=pg_stat_statements",
                    "--postgres-setting=pg_stat_statements.track=all", "--postgres-setting=work_mem=8MB",
                    "--postgres-setting=work_mem= 16MB ", "--postgres-setting=search_path=a,b");

            assertThat(options.postgresSettings()).containsExactly(
                    Map.entry("shared_preload_libraries", "pg_stat_statements"),
                    Map.entry("pg_stat_statements.track", "all"), Map.entry("work_mem", "16MB"),
                    Map.entry("search_path", "a,b"));
        }

        @Test
        void startsSeveralApisOnConsecutivePortsAndPassesWorkerArguments() {
            var options = LocalOptions.parse("--port=9090", "--apis=3",
                    "--worker-arg=--conveyor.worker.http.allowed-addresses=127.0.0.1/32",
                    "--worker-arg=--conveyor.worker.max-in-flight=500");

            assertThat(options.apis()).isEqualTo(3);
            assertThat(List.of(options.apiPort(1), options.apiPort(2), options.apiPort(3))).containsExactly(9090, 9091, 9092);
            assertThat(options.workerArgs()).containsExactly("--conveyor.worker.http.allowed-addresses=127.0.0.1/32",
                    "--conveyor.worker.max-in-flight=500");
            assertThatThrownBy(() -> LocalOptions.parse("--apis=9")).hasMessageStartingWith("--apis must be");
            assertThatThrownBy(() -> LocalOptions.parse("--port=65535", "--apis=2")).hasMessageContaining("lower --port");
        }

        @Test
        void passesApiArgumentsToEveryApiAfterLocalsOwn() {
            var options = LocalOptions.parse("--apis=2", "--api-arg=--conveyor.api.retention.succeeded=1h",
                    "--api-arg=--conveyor.api.insert-writers=2");

            assertThat(options.apiArgs()).containsExactly("--conveyor.api.retention.succeeded=1h",
                    "--conveyor.api.insert-writers=2");
            assertThat(LocalSystem.apiArgs(options, 2, "jdbc:postgresql://db:5432/conveyor", "u", "p", "broker:9092"))
                    .containsExactly("--server.port=8081", "--spring.datasource.url=jdbc:postgresql://db:5432/conveyor",
                            "--spring.kafka.bootstrap-servers=broker:9092", "--conveyor.api.queues=default",
                            "--spring.datasource.username=u", "--spring.datasource.password=p",
                            "--conveyor.api.retention.succeeded=1h", "--conveyor.api.insert-writers=2");
            assertThat(LocalOptions.HELP).contains("--api-arg=ARG");
        }

        @Test
        void keepsEachProcessKindsJavaOptionsInOrder() {
            var options = LocalOptions.parse("--worker-java-option=-Xmx1g", "--api-java-option=-Xmx2g",
                    "--worker-java-option=-XX:TieredStopAtLevel=1", "--worker-java-option=-Dname=a b=c");

            assertThat(options.workerJavaOptions())
                    .containsExactly("-Xmx1g", "-XX:TieredStopAtLevel=1", "-Dname=a b=c");
            assertThat(options.apiJavaOptions()).containsExactly("-Xmx2g");
            assertThat(LocalOptions.HELP).contains("--worker-java-option=OPT", "--api-java-option=OPT");
        }

        @Test
        void allowsZeroWorkersAndAPasswordWithEqualsSigns() {
            var options = LocalOptions.parse("--workers=0", "--postgres-url=jdbc:postgresql://h/d", "--postgres-password=a=b");

            assertThat(options.workers()).isZero();
            assertThat(options.postgres().orElseThrow().password()).isEqualTo("a=b");
            assertThat(options.postgres().orElseThrow().user()).isNull();
        }

        @Test
        void turnsWorkerRestartsOffAndOn() {
            assertThat(LocalOptions.parse("--restart-workers=false").restartWorkers()).isFalse();
            assertThat(LocalOptions.parse("--restart-workers=false", "--restart-workers=TRUE").restartWorkers()).isTrue();
            assertThat(LocalOptions.HELP).contains("--restart-workers=B", "(default true)");
        }

        @Test
        void recognisesHelp() {
            assertThat(LocalOptions.parse("--help").help()).isTrue();
            assertThat(LocalOptions.parse("-h").help()).isTrue();
            assertThat(LocalOptions.HELP).contains("--port=N", "--workers=N", "--queues=a,b", "--postgres-url=",
                    "--postgres-user=", "--postgres-password=", "--kafka=HOST:PORT", "--home=DIR", "--help");
        }
    }

    @Nested
    class Errors {

        @Test
        void rejectNumbersOutOfRangeNamingTheOption() {
            assertThatThrownBy(() -> LocalOptions.parse("--port=0")).isInstanceOf(InvalidOptionException.class)
                    .hasMessage("--port must be a whole number from 1 to 65535, not '0'");
            assertThatThrownBy(() -> LocalOptions.parse("--workers=many")).hasMessageStartingWith("--workers must be");
            assertThatThrownBy(() -> LocalOptions.parse("--workers=65")).hasMessageStartingWith("--workers must be");
        }

        @Test
        void rejectUnknownOptionsAndBareArguments() {
            assertThatThrownBy(() -> LocalOptions.parse("--wrokers=3")).hasMessage("unknown option --wrokers; see --help");
            assertThatThrownBy(() -> LocalOptions.parse("3")).hasMessageContaining("unexpected argument '3'");
            assertThatThrownBy(() -> LocalOptions.parse("--port")).hasMessageContaining("--name=value");
        }

        @Test
        void rejectJavaOptionsThatAreNotOneOptionOrWouldReplaceWhatRuns() {
            assertThatThrownBy(() -> LocalOptions.parse("--worker-java-option=Xmx1g"))
                    .isInstanceOf(InvalidOptionException.class)
                    .hasMessage("--worker-java-option takes one JVM option such as -Xmx1g, not 'Xmx1g'");
            assertThatThrownBy(() -> LocalOptions.parse("--api-java-option=")).hasMessageContaining("not ''");
            assertThatThrownBy(() -> LocalOptions.parse("--api-java-option=-")).hasMessageContaining("not '-'");
            assertThatThrownBy(() -> LocalOptions.parse("--worker-java-option=-Xmx1g "))
                    .hasMessageContaining("one JVM option");
            assertThatThrownBy(() -> LocalOptions.parse("--worker-java-option=-jar"))
                    .hasMessage("--worker-java-option=-jar would change what local runs, not how: the class path and "
                            + "main class are local's own");
            assertThatThrownBy(() -> LocalOptions.parse("--api-java-option=--class-path=/tmp"))
                    .hasMessageContaining("would change what local runs");
        }

        /**
         * Spring joins the values of a command-line property given twice with a comma: local's own and the user's
         * would become {@code 8080,9000} (a port that stops the start) or {@code default,emails} (queues the api
         * accepts and the workers do not take). Each has an option of local's own.
         */
        @Test
        void rejectProcessArgumentsForPropertiesLocalSetsNamingItsOption() {
            assertThatThrownBy(() -> LocalOptions.parse("--api-arg=--server.port=9000"))
                    .isInstanceOf(InvalidOptionException.class)
                    .hasMessage("--api-arg=--server.port=9000 sets a property that local sets itself (Spring would "
                            + "join the two values); use --port");
            assertThatThrownBy(() -> LocalOptions.parse("--api-arg=--conveyor.api.Queues=emails"))
                    .hasMessageEndingWith("use --queues");
            assertThatThrownBy(() -> LocalOptions.parse("--api-arg=--spring.datasource.url=jdbc:postgresql://h/d"))
                    .hasMessageEndingWith("use --postgres-url");
            assertThatThrownBy(() -> LocalOptions.parse("--worker-arg=--conveyor.worker.queues=emails"))
                    .hasMessageEndingWith("use --queues");
            assertThatThrownBy(() -> LocalOptions.parse("--worker-arg=--spring.kafka.bootstrap-servers=b:9092"))
                    .hasMessageEndingWith("use --kafka");
            assertThatThrownBy(() -> LocalOptions.parse("--worker-arg=--conveyor.worker.id=w"))
                    .hasMessageContaining("sets a property that local sets itself");
            assertThatThrownBy(() -> LocalOptions.parse("--api-arg=")).hasMessage("--api-arg must not be empty");
            assertThat(LocalOptions.parse("--api-arg=--server.shutdown=immediate", "--api-arg=--spring.datasource.hikari"
                    + ".maximum-pool-size=30").apiArgs()).hasSize(2);
        }

        @Test
        void rejectARestartSettingThatIsNeitherTrueNorFalse() {
            assertThatThrownBy(() -> LocalOptions.parse("--restart-workers=yes")).isInstanceOf(InvalidOptionException.class)
                    .hasMessage("--restart-workers must be true or false, not 'yes'");
        }

        @Test
        void rejectBadQueueNames() {
            assertThatThrownBy(() -> LocalOptions.parse("--queues=")).hasMessageContaining("at least one queue");
            assertThatThrownBy(() -> LocalOptions.parse("--queues=Emails")).hasMessageContaining("'Emails' is not a queue name");
        }

        @Test
        void rejectAPostgresUrlThatIsNotJdbcPostgres() {
            assertThatThrownBy(() -> LocalOptions.parse("--postgres-url=postgres://h/d"))
                    .hasMessageContaining("jdbc:postgresql://");
        }

        @Test
        void rejectPostgresCredentialsWithoutUrl() {
            assertThatThrownBy(() -> LocalOptions.parse("--postgres-user=x")).hasMessageContaining("need --postgres-url");
        }

        @Test
        void rejectPostgresSettingsThatAreNotNameEqualsValueOrAreForAnExternalServer() {
            for (var bad : List.of("--postgres-setting=work_mem", "--postgres-setting=work_mem=",
                    "--postgres-setting==16MB", "--postgres-setting=Work-Mem=16MB", "--postgres-setting=a b=1",
                    "--postgres-setting=work_mem=16\u0000MB")) {
                assertThatThrownBy(() -> LocalOptions.parse(bad)).as(bad).isInstanceOf(InvalidOptionException.class)
                        .hasMessageContaining("--postgres-setting");
            }
            assertThatThrownBy(() -> LocalOptions.parse("--postgres-url=jdbc:postgresql://db:5432/conveyor",
                    "--postgres-setting=work_mem=16MB")).hasMessageContaining("embedded PostgreSQL");
        }

        @Test
        void rejectKafkaWithoutPort() {
            for (var bad : List.of("--kafka=localhost", "--kafka=localhost:x", "--kafka=a:9092,b")) {
                assertThatThrownBy(() -> LocalOptions.parse(bad)).isInstanceOf(InvalidOptionException.class);
            }
            assertThat(LocalOptions.parse("--kafka=a:9092,b:9093").kafka()).contains("a:9092,b:9093");
        }
    }
}
