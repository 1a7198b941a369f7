package dev.conveyor.worker.handlers;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.conveyor.common.Json;
import dev.conveyor.common.handler.JobContext;
import dev.conveyor.common.handler.JobFailure;
import dev.conveyor.common.handler.JobHandler;
import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;

/** The test-only {@code halt} handler exists only when asked for, and halts through what it is given. */
class HaltHandlerTest {

    private final ApplicationContextRunner context = new ApplicationContextRunner()
            .withUserConfiguration(HaltHandler.class);

    @Test
    void isAbsentUnlessThePropertyIsSet() {
        context.run(worker -> assertThat(worker).doesNotHaveBean(JobHandler.class));
        context.withPropertyValues("conveyor.worker.test-handlers.halt=false")
                .run(worker -> assertThat(worker).doesNotHaveBean(JobHandler.class));
    }

    @Test
    void isAHandlerOfTypeHaltWhenThePropertyIsTrue() {
        context.withPropertyValues("conveyor.worker.test-handlers.halt=true").run(worker -> {
            assertThat(worker).hasSingleBean(JobHandler.class);
            assertThat(worker.getBean(JobHandler.class).type()).isEqualTo("halt");
        });
    }

    @Test
    void haltsWithStatus137() throws Exception {
        var status = new AtomicInteger(-1);
        var handler = new HaltHandler(status::set);

        catchThrowableOfType(IllegalStateException.class, () -> handler.handle(context("{\"afterMs\": 1}")));

        assertThat(status).hasValue(137);
    }

    @Test
    void refusesAnUnreadableWait() {
        var status = new AtomicInteger(-1);
        var failure = catchThrowableOfType(JobFailure.class,
                () -> new HaltHandler(status::set).handle(context("{\"afterMs\": -1}")));
        assertThat(failure.retryable()).isFalse();
        assertThat(status).hasValue(-1);
    }

    private static JobContext context(String payload) {
        return new JobContext(UUID.randomUUID(), "halt", "default", 1, 1, Json.tree(payload),
                Instant.now().plusSeconds(10));
    }
}
