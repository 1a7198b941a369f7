package dev.conveyor.worker.execute;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.common.handler.JobContext;
import dev.conveyor.common.handler.JobHandler;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullSource;
import org.junit.jupiter.params.provider.ValueSource;
import tools.jackson.databind.JsonNode;

/**
 * The handlers a worker runs are checked as it starts: a type no job can have (the api takes only
 * {@code [a-z0-9][a-z0-9._-]{0,99}}) stops the start naming the handler, where the worker started and the handler
 * never ran, its type advertised in every heartbeat.
 */
class HandlerRegistryTest {

    private static JobHandler handler(String type) {
        return new JobHandler() {
            @Override
            public String type() {
                return type;
            }

            @Override
            public JsonNode handle(JobContext context) {
                return null;
            }
        };
    }

    @ParameterizedTest
    @NullSource
    @ValueSource(strings = {"", "InvoiceTotal", "invoice total", "-invoice", "invoice/total", "invoice\u0000"})
    void aHandlerForATypeNoJobCanHaveStopsTheStart(String type) {
        assertThatThrownBy(() -> new HandlerRegistry(List.of(handler("echo"), handler(type))))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("is not a job type ([a-z0-9][a-z0-9._-]{0,99})")
                .hasMessageContaining(HandlerRegistryTest.class.getName());
    }

    @Test
    void moreThanAThousandHandlersStopTheStart() {
        // the api keeps no heartbeat listing more types: the worker would not be listed, nor its handlers known
        var handlers = java.util.stream.IntStream.range(0, 1001).mapToObj(i -> handler("t" + i)).toList();
        assertThatThrownBy(() -> new HandlerRegistry(handlers)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("1001 job types, more than the 1000");
        assertThat(new HandlerRegistry(handlers.subList(0, 1000)).types()).hasSize(1000);
    }

    @Test
    void twoHandlersForOneTypeStopTheStart() {
        assertThatThrownBy(() -> new HandlerRegistry(List.of(handler("echo"), handler("echo"))))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("Two handlers for job type 'echo'");
    }

    @Test
    void handlersOfEveryTypeAJobCanHaveAreFoundByType() {
        var longest = "a".repeat(100);
        var registry = new HandlerRegistry(List.of(handler("invoice-total"), handler("v2.report_daily"),
                handler(longest), handler("0")));

        assertThat(registry.types()).containsExactly("0", longest, "invoice-total", "v2.report_daily");
        assertThat(registry.find("invoice-total")).isPresent();
    }
}
