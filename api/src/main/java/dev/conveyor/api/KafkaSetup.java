package dev.conveyor.api;

import dev.conveyor.api.job.StoreTime;
import dev.conveyor.api.job.UuidV7;
import dev.conveyor.common.Topics;
import dev.conveyor.common.kafka.QueueTopics;
import dev.conveyor.common.kafka.WorkersTopic;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Clock;
import java.time.Duration;
import java.util.UUID;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.errors.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.kafka.autoconfigure.DefaultKafkaConsumerFactoryCustomizer;
import org.springframework.boot.kafka.autoconfigure.DefaultKafkaProducerFactoryCustomizer;
import org.springframework.boot.kafka.autoconfigure.ConcurrentKafkaListenerContainerFactoryConfigurer;
import org.springframework.boot.web.server.context.WebServerGracefulShutdownLifecycle;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.task.SimpleAsyncTaskExecutor;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.kafka.config.ConcurrentKafkaListenerContainerFactory;
import org.springframework.kafka.config.ContainerCustomizer;
import org.springframework.kafka.config.TopicBuilder;
import org.springframework.kafka.core.ConsumerFactory;
import org.springframework.kafka.core.KafkaAdmin;
import org.springframework.kafka.listener.CommonErrorHandler;
import org.springframework.kafka.listener.ConcurrentMessageListenerContainer;
import org.springframework.kafka.listener.DefaultErrorHandler;
import org.springframework.kafka.listener.MessageListenerContainer;
import org.springframework.kafka.support.ProducerListener;
import org.springframework.util.backoff.FixedBackOff;

/**
 * The api's Kafka topics and shared beans.
 *
 * <p>Nothing the api holds for Kafka needs Kafka to stop: jobs not yet on Kafka are in their rows (the poller
 * publishes them again), and events whose offsets were not committed are applied again after a restart, which
 * changes nothing. So every Kafka client of the api gives Kafka at most {@link #CLOSE_TIMEOUT} to close, and the events
 * listener as long to commit, instead of Kafka's 30 and 60 s: with Kafka unreachable an api took 91 s to stop,
 * longer than any orchestrator's grace period.
 */
@Configuration(proxyBeanMethods = false)
class KafkaSetup {

    static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(5);

    private static final Logger log = LoggerFactory.getLogger(KafkaSetup.class);

    @Bean
    Clock clock() {
        return Clock.systemUTC();
    }

    /** The database's time, which job ids carry (see {@link StoreTime}). */
    @Bean
    StoreTime storeTime(JdbcClient jdbc) {
        return new StoreTime(jdbc);
    }

    @Bean
    Supplier<UUID> jobIds(StoreTime storeTime) {
        return new UuidV7(storeTime);
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

    @Bean(destroyMethod = "") // closed by kafkaAdminClientCloser, in time
    Admin kafkaAdminClient(KafkaAdmin admin) {
        return Admin.create(admin.getConfigurationProperties());
    }

    /** Closes the admin client within {@link #CLOSE_TIMEOUT} (its own close waits out every pending call). */
    @Bean
    DisposableBean kafkaAdminClientCloser(Admin admin) {
        return () -> admin.close(CLOSE_TIMEOUT);
    }

    /** Producers close within {@link #CLOSE_TIMEOUT}: what they still hold is in the jobs' rows. */
    @Bean
    DefaultKafkaProducerFactoryCustomizer producersCloseInTime() {
        return factory -> factory.setPhysicalCloseTimeout((int) CLOSE_TIMEOUT.toSeconds());
    }

    /** Consumers close within {@link #CLOSE_TIMEOUT}: Spring Kafka's containers call {@code close()}, 30 s. */
    @Bean
    DefaultKafkaConsumerFactoryCustomizer consumersCloseInTime() {
        return factory -> factory.addPostProcessor(KafkaSetup::closingInTime);
    }

    /**
     * {@code consumer}, but for its {@code close()}, which closes it within {@link #CLOSE_TIMEOUT}, and a
     * {@code commitSync} that Kafka does not answer in time, which is one warning and no exception.
     *
     * <p>Offsets not committed are committed with the next commit (it carries every partition's latest offset) or,
     * failing that, their events are applied again after a restart, which changes nothing. While the listener runs, its
     * error handler logged such a timeout as one warning too; but the commit a stopping container makes left the
     * listener's thread with the exception, which Spring Kafka logs at {@code ERROR} with its stack trace ("Error while
     * stopping the container") on every orderly stop while Kafka is away.
     */
    @SuppressWarnings("unchecked")
    static <K, V> Consumer<K, V> closingInTime(Consumer<K, V> consumer) {
        return (Consumer<K, V>) Proxy.newProxyInstance(Consumer.class.getClassLoader(),
                new Class<?>[] {Consumer.class}, (proxy, method, args) -> {
                    if (method.getName().equals("close") && method.getParameterCount() == 0) {
                        consumer.close(CloseOptions.timeout(CLOSE_TIMEOUT));
                        return null;
                    }
                    try {
                        return method.invoke(consumer, args);
                    } catch (InvocationTargetException e) {
                        if (e.getCause() instanceof TimeoutException timeout
                                && method.getName().equals("commitSync")) {
                            log.warn("Kafka did not take the events' offsets in time (they go with the next commit; "
                                    + "events not committed are applied again after a restart, which changes "
                                    + "nothing): {}", timeout.getMessage());
                            return null;
                        }
                        throw e.getCause();
                    }
                });
    }

    /**
     * Replaces Boot's {@code LoggingProducerListener}, which logs every failed send as an error with its stack trace
     * and the first 100 characters of the record: a job's record carries its payload (an {@code http} job's URL
     * among it), and during a Kafka outage that was an error and a payload in the log for every job the api could not
     * publish. Each send of the api handles its own failure: the {@code Dispatcher} logs an outage once and the jobs
     * are published again from their rows; {@code ControlPublisher} logs the cancellations it will send again.
     */
    @Bean
    ProducerListener<Object, Object> kafkaProducerListener() {
        return new ProducerListener<>() {
        };
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
        factory.getContainerProperties().setSyncCommitTimeout(CLOSE_TIMEOUT);
        return factory;
    }

    /**
     * An event batch that cannot be applied (the database is down) is retried until it can: never dropped. A commit
     * of the events' offsets that times out (Kafka unreachable) is one line in the log, not a stack trace a second.
     */
    @Bean
    CommonErrorHandler eventsErrorHandler() {
        return new DefaultErrorHandler(new FixedBackOff(1000, FixedBackOff.UNLIMITED_ATTEMPTS)) {
            @Override
            public void handleOtherException(Exception thrown, Consumer<?, ?> consumer,
                    MessageListenerContainer container, boolean batchListener) {
                if (thrown instanceof TimeoutException) {
                    log.warn("Kafka did not answer the events listener in time (the api keeps trying; events not "
                            + "committed are applied again after a restart, which changes nothing): {}",
                            thrown.getMessage());
                    return;
                }
                super.handleOtherException(thrown, consumer, container, batchListener);
            }
        };
    }
}
