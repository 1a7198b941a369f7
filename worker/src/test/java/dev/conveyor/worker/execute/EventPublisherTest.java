package dev.conveyor.worker.execute;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.conveyor.common.message.JobError;
import dev.conveyor.common.message.JobEvent;
import dev.conveyor.common.message.JobFinished;
import dev.conveyor.worker.tracing.JobTracing;
import java.time.Duration;
import java.time.Instant;
import java.util.ConcurrentModificationException;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.springframework.kafka.core.KafkaTemplate;
import org.springframework.kafka.core.ProducerFactory;
import tools.jackson.core.JsonGenerator;
import tools.jackson.databind.SerializationContext;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/** An attempt's outcome survives a Kafka outage: it is only on this worker until Kafka has it. */
class EventPublisherTest {

    /** KafkaTemplate closes the producer after each send; the factory's own producers ignore that, so does this. */
    private final MockProducer<String, String> producer = new MockProducer<>(false, null, new StringSerializer(),
            new StringSerializer()) {
        @Override
        public void close(Duration timeout) {
        }
    };
    private final EventPublisher events = new EventPublisher(new KafkaTemplate<>(new ProducerFactory<>() {
        @Override
        public Producer<String, String> createProducer() {
            return producer;
        }
    }), JobTracing.off());

    private final JobFinished outcome = new JobFinished(JobEvent.VERSION, UUID.randomUUID(), 1, 0, 3, "w",
            JobFinished.Outcome.FAILED, null, new JobError("TIMEOUT", "late", true), null, Instant.now());

    /** Fails the send waiting in the producer, as its delivery timeout would while Kafka is down. */
    private boolean failPendingSend() {
        return producer.errorNext(new TimeoutException("Kafka is down"));
    }

    @Test
    void anOutcomeIsSentAgainUntilKafkaTakesIt() {
        var logged = new ListAppender<ILoggingEvent>();
        var logger = (Logger) LoggerFactory.getLogger(EventPublisher.class);
        logger.addAppender(logged);
        logged.start();
        try {
            var delivered = CompletableFuture.supplyAsync(() -> events.sendUntilDelivered(outcome, () -> false));

            for (var i = 0; i < 3; i++) {
                await().until(this::failPendingSend);
            }
            await().until(producer::completeNext);

            assertThat(delivered.join()).isTrue();
        } finally {
            logger.detachAppender(logged);
        }
        assertThat(producer.history()).as("one send at a time: no copies while Kafka is down").hasSize(4);
        // three failures within seconds: one line (during an outage every job in flight would write its own)
        assertThat(logged.list).extracting(ILoggingEvent::getFormattedMessage).singleElement().asString()
                .contains("Kafka did not take the outcome of job " + outcome.jobId() + " (try 1; trying again)")
                .endsWith(": Kafka is down");
    }

    @Test
    void aWorkerBeingStoppedGivesUp() {
        var delivered = CompletableFuture.supplyAsync(() -> events.sendUntilDelivered(outcome, () -> true));

        await().until(this::failPendingSend);

        assertThat(delivered.join()).isFalse();
    }

    /**
     * An outcome whose encoding throws (its result a node that a thread the handler left running began to fill after
     * the worker checked it) is no Kafka outage: it was sent again and again, each time failing the same way, until
     * the worker stopped, and its job waited for the api's rescuer.
     */
    @Test
    void anOutcomeThatCannotBeEncodedIsRefusedAtOnceNotSentAgainAndAgain() {
        var result = new ObjectNode(JsonNodeFactory.instance) {
            @Override
            public void serialize(JsonGenerator generator, SerializationContext context) {
                throw new ConcurrentModificationException();
            }
        };
        var unencodable = new JobFinished(JobEvent.VERSION, UUID.randomUUID(), 1, 0, 3, "w",
                JobFinished.Outcome.SUCCEEDED, result, null, null, Instant.now());

        var sending = CompletableFuture.supplyAsync(() -> events.sendUntilDelivered(unencodable, () -> false));

        assertThat(sending).failsWithin(Duration.ofSeconds(5)).withThrowableOfType(ExecutionException.class)
                .havingCause().isInstanceOf(EventPublisher.Unencodable.class)
                .withMessageContaining("ConcurrentModificationException");
        assertThat(producer.history()).isEmpty();
    }
}
