package dev.conveyor.api.submit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.api.ApiProperties;
import dev.conveyor.api.web.FieldError;
import dev.conveyor.common.Json;
import java.time.Clock;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

/** Jobs go only to the queues of {@code conveyor.api.queues}. */
class QueueAllowListTest {

    private static ApiProperties properties(Map<String, String> settings) {
        return new Binder(new MapConfigurationPropertySource(settings))
                .bindOrCreate("conveyor.api", Bindable.of(ApiProperties.class));
    }

    private static SubmitRequests requests(String queues) {
        return new SubmitRequests(properties(Map.of("conveyor.api.queues", queues)), Clock.systemUTC(),
                UUID::randomUUID);
    }

    @Test
    void servesTheDefaultQueueUnlessConfigured() {
        assertThat(properties(Map.of()).queues()).containsExactly("default");
        assertThat(requests("default").check(Json.tree("{\"type\": \"echo\"}"), "", null, "default").job().queue())
                .isEqualTo("default");
    }

    @Test
    void acceptsEveryConfiguredQueue() {
        var checked = requests("default,emails").check(Json.tree("{\"type\": \"echo\", \"queue\": \"emails\"}"), "",
                null, "default");

        assertThat(checked.errors()).isEmpty();
        assertThat(checked.job().queue()).isEqualTo("emails");
    }

    @Test
    void refusesAnotherQueueListingTheServedOnes() {
        var checked = requests("default,emails").check(Json.tree("{\"type\": \"echo\", \"queue\": \"emials\"}"),
                "jobs[2].", null, "default");

        assertThat(checked.job()).isNull();
        assertThat(checked.errors()).singleElement().satisfies(error -> {
            assertThat(error.field()).isEqualTo("jobs[2].queue");
            assertThat(error.message()).contains("default, emails");
        });
    }

    @Test
    void withoutTheDefaultQueueAmongTheServedOnesAQueueIsRequired() {
        var checked = requests("emails").check(Json.tree("{\"type\": \"echo\"}"), "", null, "default");

        assertThat(checked.errors()).extracting(FieldError::field).containsExactly("queue");
        assertThat(checked.errors().getFirst().message()).contains("'default'", "emails");
    }

    @Test
    void refusesToStartWithANameThatIsNoQueueName() {
        assertThatThrownBy(() -> properties(Map.of("conveyor.api.queues", "default,Emails")))
                .isInstanceOf(BindException.class)
                .rootCause().hasMessageContaining("conveyor.api.queues").hasMessageContaining("'Emails'");
    }
}
