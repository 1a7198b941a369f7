package dev.conveyor.api;

import dev.conveyor.api.job.UuidV7;
import dev.conveyor.common.Topics;
import dev.conveyor.common.kafka.QueueTopics;
import dev.conveyor.common.kafka.WorkersTopic;
import java.time.Clock;
import java.util.UUID;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.kafka.autoconfigure.ConcurrentKafkaListenerContainerFactoryConfigurer;
import org.springframework.boot.web.server.context.WebServerGracefulShutdownLifecycle;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.task.SimpleAsyncTaskExecutor;
import org.springframework.kafka.config.ConcurrentKafkaListenerContainerFactory;
import org.springframework.kafka.config.ContainerCustomizer;
import org.springframework.kafka.config.TopicBuilder;
import org.springframework.kafka.core.ConsumerFactory;
import org.springframework.kafka.core.KafkaAdmin;
import org.springframework.kafka.listener.CommonErrorHandler;
import org.springframework.kafka.listener.ConcurrentMessageListenerContainer;
import org.springframework.kafka.listener.DefaultErrorHandler;
import org.springframework.util.backoff.FixedBackOff;

/** The api's Kafka topics and shared beans. */
@Configuration(proxyBeanMethods = false)
class KafkaSetup {

    @Bean
    Clock clock() {
        return Clock.systemUTC();
    }

    @Bean
    Supplier<UUID> jobIds(Clock clock) {
        return new UuidV7(clock);
    }

    @Bean
    NewTopic eventsTopic(ApiProperties properties) {
        return TopicBuilder.name(Topics.EVENTS).partitions(properties.queuePartitions())
                .replicas(properties.replicationFactor()).build();
    }

    @Bean
    NewTopic controlTopic(ApiProperties properties) {
        return TopicBuilder.name(Topics.CONTROL).partitions(1).replicas(properties.replicationFactor()).build();
    }

    @Bean
    NewTopic workersTopic(ApiProperties properties) {
        return TopicBuilder.name(Topics.WORKERS).partitions(WorkersTopic.PARTITIONS)
                .replicas(properties.replicationFactor()).configs(WorkersTopic.CONFIGS).build();
    }

    @Bean(destroyMethod = "close")
    Admin kafkaAdminClient(KafkaAdmin admin) {
        return Admin.create(admin.getConfigurationProperties());
    }

    @Bean
    QueueTopics queueTopics(Admin admin, ApiProperties properties) {
        return new QueueTopics(admin, properties.queuePartitions(), properties.replicationFactor());
    }

    /**
     * Spring Boot's listener container factory, as Boot would make it, except that the events listener (the api's
     * only {@code @KafkaListener}) polls and applies on a platform thread of its own, not on the virtual thread Boot
     * gives listeners when virtual threads are on. It blocks all the time, in the consumer's select and in the
     * applier's statements, and on a virtual thread each such wait went through the JDK's I/O poller: a
     * registration, a park that copies the applier's deep stack to the heap, and two wake-ups (the poller's and a
     * carrier's) where a platform thread takes one. A daemon, as a virtual thread is: a listener that does not stop
     * in time (a statement waiting on an unreachable database) must not keep the process alive.
     *
     * <p>At shutdown the listener stops after the web server has finished its requests, not before (Spring Kafka's
     * default phase): its stop commits offsets and closes the consumer, which with Kafka unreachable waits out
     * Spring's 30 s limit, and the web server's drain (the long-polls' answers among it) came only after that.
     */
    @Bean
    ConcurrentKafkaListenerContainerFactory<Object, Object> kafkaListenerContainerFactory(
            ConcurrentKafkaListenerContainerFactoryConfigurer configurer, ConsumerFactory<Object, Object> consumers,
            ObjectProvider<ContainerCustomizer<Object, Object, ConcurrentMessageListenerContainer<Object, Object>>>
                    customizers) {
        var factory = new ConcurrentKafkaListenerContainerFactory<Object, Object>();
        configurer.configure(factory, consumers);
        customizers.ifAvailable(factory::setContainerCustomizer);
        var threads = new SimpleAsyncTaskExecutor("conveyor-events-");
        threads.setDaemon(true);
        factory.getContainerProperties().setListenerTaskExecutor(threads);
        factory.setPhase(WebServerGracefulShutdownLifecycle.SMART_LIFECYCLE_PHASE - 512);
        return factory;
    }

    /** An event batch that cannot be applied (the database is down) is retried until it can: never dropped. */
    @Bean
    CommonErrorHandler eventsErrorHandler() {
        return new DefaultErrorHandler(new FixedBackOff(1000, FixedBackOff.UNLIMITED_ATTEMPTS));
    }
}
