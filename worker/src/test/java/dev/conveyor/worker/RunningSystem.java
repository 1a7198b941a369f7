package dev.conveyor.worker;

import dev.conveyor.api.ConveyorApiApplication;
import dev.conveyor.common.test.HttpJson;
import dev.conveyor.common.test.TestKafka;
import dev.conveyor.common.test.TestPostgres;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import dev.conveyor.common.handler.JobHandler;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.support.GenericApplicationContext;

/**
 * A whole Conveyor in this JVM: one api and some workers (each its own Spring application, talking only through
 * Kafka and PostgreSQL, as separate processes would), on a real broker and a real database of its own.
 */
final class RunningSystem implements AutoCloseable {

    private final ConfigurableApplicationContext api;
    private final List<ConfigurableApplicationContext> workers = new ArrayList<>();
    private final HttpJson http;
    private final String kafka;

    /** Where the system keeps its state: a PostgreSQL database and a Kafka cluster. */
    record Services(String jdbcUrl, String user, String password, String kafka) {

        /** The embedded ones: a new database on the shared server, the shared broker. */
        static Services embedded() {
            return new Services(TestPostgres.newDatabase(), "postgres", "", TestKafka.bootstrapServers());
        }
    }

    RunningSystem(String queues, String... workerIds) {
        this(Services.embedded(), queues, workerIds);
    }

    RunningSystem(Services services, String queues, String... workerIds) {
        this(services, queues, List.of(), workerIds);
    }

    /** With {@code apiArgs} added to the api's command line. */
    RunningSystem(Services services, String queues, List<String> apiArgs, String... workerIds) {
        kafka = services.kafka();
        api = ConveyorApiApplication.application().run(Stream.concat(Stream.of(
                "--server.port=0",
                "--spring.datasource.url=" + services.jdbcUrl(),
                "--spring.datasource.username=" + services.user(),
                "--spring.datasource.password=" + services.password(),
                "--spring.kafka.bootstrap-servers=" + kafka,
                "--conveyor.api.retry.base-delay=100ms", "--conveyor.api.queues=" + queues,
                "--conveyor.api.dispatch.poll-interval=50ms"), apiArgs.stream()).toArray(String[]::new));
        http = new HttpJson("http://localhost:" + api.getEnvironment().getProperty("local.server.port"));
        for (var id : workerIds) {
            startWorker(queues, id);
        }
    }

    ConfigurableApplicationContext startWorker(String queues, String id, String... extra) {
        return startWorker(queues, id, List.of(), extra);
    }

    /** Starts a worker that also runs the given handlers (as a user's handler beans would be). */
    ConfigurableApplicationContext startWorker(String queues, String id, List<JobHandler> handlers,
            String... extra) {
        var args = Stream.concat(Stream.of(
                "--server.port=0",
                "--spring.kafka.bootstrap-servers=" + kafka,
                "--conveyor.worker.id=" + id,
                "--conveyor.worker.queues=" + queues,
                "--conveyor.worker.consumers-per-queue=2",
                "--conveyor.worker.max-poll-records=20"), Stream.of(extra)).toArray(String[]::new);
        var application = ConveyorWorkerApplication.application();
        application.addInitializers(context -> handlers.forEach(handler -> ((GenericApplicationContext) context)
                .registerBean(handler.type() + "Handler", JobHandler.class, () -> handler)));
        var worker = application.run(args);
        workers.add(worker);
        return worker;
    }

    /** Shuts one worker down gracefully, as a deployment would; {@link #close()} still closes the rest. */
    void stopWorker(String id) {
        workers.stream().filter(worker -> id.equals(worker.getEnvironment().getProperty("conveyor.worker.id")))
                .forEach(ConfigurableApplicationContext::close);
    }

    HttpJson http() {
        return http;
    }

    @Override
    public void close() {
        workers.forEach(ConfigurableApplicationContext::close);
        api.close();
    }
}
