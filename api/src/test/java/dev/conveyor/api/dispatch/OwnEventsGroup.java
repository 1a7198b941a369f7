package dev.conveyor.api.dispatch;

import dev.conveyor.common.Topics;
import java.util.List;
import java.util.UUID;
import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.kafka.config.ContainerCustomizer;
import org.springframework.kafka.listener.ConcurrentMessageListenerContainer;

/**
 * Gives the context's events listener a consumer group of its own. Other test classes' api contexts may still run
 * in this JVM, each with a database of its own: in the shared {@code conveyor-api} group they would take (and
 * lose) some of this context's events, and pausing this context's listener would not keep them from being read.
 */
@TestConfiguration(proxyBeanMethods = false)
public class OwnEventsGroup {

    @Bean
    ContainerCustomizer<Object, Object, ConcurrentMessageListenerContainer<Object, Object>> eventsGroupOfItsOwn() {
        var group = Topics.API_EVENTS_GROUP + "-" + UUID.randomUUID();
        return container -> {
            if (List.of(container.getContainerProperties().getTopics()).contains(Topics.EVENTS)) {
                container.getContainerProperties().setGroupId(group);
            }
        };
    }
}
