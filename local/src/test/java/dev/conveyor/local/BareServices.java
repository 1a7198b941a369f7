package dev.conveyor.local;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * For tests outside this package (the benchmark's floor): an embedded PostgreSQL and a Kafka broker process, as
 * {@code LocalSystem} starts them, without Conveyor.
 */
public final class BareServices implements AutoCloseable {

    private final EmbeddedPostgresService postgres;
    private final KafkaBrokerProcess kafka;

    private BareServices(EmbeddedPostgresService postgres, KafkaBrokerProcess kafka) {
        this.postgres = postgres;
        this.kafka = kafka;
    }

    /** Starts both, side by side (neither needs the other), with their data and logs under {@code home}. */
    public static BareServices start(Path home) {
        var kafkaStart = CompletableFuture.supplyAsync(() -> KafkaBrokerProcess.start(JavaLauncher.current(),
                List.of(), home.resolve("data/kafka"), home.resolve("logs/kafka.log")));
        EmbeddedPostgresService postgres;
        try {
            postgres = EmbeddedPostgresService.start(home.resolve("data/postgres"), 0,
                    home.resolve("logs/postgres.log"));
        } catch (RuntimeException e) {
            kafkaStart.thenAccept(KafkaBrokerProcess::stop);
            throw e;
        }
        try {
            return new BareServices(postgres, kafkaStart.join());
        } catch (CompletionException e) {
            postgres.close();
            throw e.getCause() instanceof RuntimeException cause ? cause : e;
        }
    }

    public String jdbcUrl() {
        return postgres.jdbcUrl();
    }

    public String user() {
        return EmbeddedPostgresService.USER;
    }

    public String password() {
        return EmbeddedPostgresService.PASSWORD;
    }

    public String bootstrapServers() {
        return kafka.bootstrapServers();
    }

    /** PostgreSQL's postmaster. */
    public long postgresPid() {
        return postgres.pid().orElseThrow();
    }

    public long brokerPid() {
        return kafka.process().pid();
    }

    @Override
    public void close() {
        try {
            kafka.stop();
        } finally {
            postgres.close();
        }
    }
}
