package dev.conveyor.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.apache.kafka.clients.consumer.CloseOptions;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.WakeupException;
import org.junit.jupiter.api.Test;

/**
 * The api's consumers give Kafka at most {@link KafkaSetup#CLOSE_TIMEOUT} to close (Kafka's own default: 30 s), and a
 * commit Kafka does not answer in time is no exception (a stopping listener container logged it as an error).
 */
class KafkaSetupTest {

    private final List<String> calls = new ArrayList<>();
    private final List<Optional<Duration>> closeTimeouts = new ArrayList<>();
    private RuntimeException commitFailure = new TimeoutException("Timeout of 5000ms expired before committing");

    /** A consumer that records what is called on it; {@code poll} throws, as a woken consumer does. */
    @SuppressWarnings("unchecked")
    private Consumer<String, String> recording() {
        return (Consumer<String, String>) Proxy.newProxyInstance(Consumer.class.getClassLoader(),
                new Class<?>[] {Consumer.class}, (proxy, method, args) -> {
                    calls.add(method.getName());
                    if (method.getName().equals("close") && args != null && args[0] instanceof CloseOptions options) {
                        closeTimeouts.add(options.timeout());
                    }
                    if (method.getName().equals("poll")) {
                        throw new WakeupException();
                    }
                    if (method.getName().equals("commitSync")) {
                        throw commitFailure;
                    }
                    return null;
                });
    }

    @Test
    void closeWaitsForKafkaAtMostTheCloseTimeout() {
        var consumer = KafkaSetup.closingInTime(recording());

        consumer.close();

        assertThat(calls).containsExactly("close");
        assertThat(closeTimeouts).containsExactly(Optional.of(KafkaSetup.CLOSE_TIMEOUT));
    }

    @Test
    void everythingElseGoesToTheConsumerAsItIs() {
        var consumer = KafkaSetup.closingInTime(recording());

        consumer.close(CloseOptions.timeout(Duration.ofSeconds(1)));
        consumer.wakeup();

        assertThat(calls).containsExactly("close", "wakeup");
        assertThat(closeTimeouts).containsExactly(Optional.of(Duration.ofSeconds(1)));
        // the consumer's own exceptions, not reflection's wrapper
        assertThatThrownBy(() -> consumer.poll(Duration.ZERO)).isInstanceOf(WakeupException.class);
    }

    @Test
    void aCommitKafkaDoesNotAnswerInTimeIsNoException() {
        var consumer = KafkaSetup.closingInTime(recording());

        consumer.commitSync();
        consumer.commitSync(Duration.ofSeconds(1));

        assertThat(calls).containsExactly("commitSync", "commitSync");
    }

    @Test
    void aCommitThatFailsOtherwiseThrowsAsItDid() {
        commitFailure = new AuthorizationException("not allowed");
        var consumer = KafkaSetup.closingInTime(recording());

        assertThatThrownBy(consumer::commitSync).isSameAs(commitFailure);
    }
}
