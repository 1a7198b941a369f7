package dev.conveyor.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.springframework.boot.context.properties.bind.BindException;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.boot.context.properties.source.MapConfigurationPropertySource;

/** Settings an operator may get wrong stop the api at start, naming the property, instead of misbehaving later. */
class ApiPropertiesTest {

    private static ApiProperties bind(Map<String, String> settings) {
        return new Binder(new MapConfigurationPropertySource(settings))
                .bindOrCreate("conveyor.api", Bindable.of(ApiProperties.class));
    }

    private static void refused(String property, String value, String... message) {
        assertThatThrownBy(() -> bind(Map.of(property, value))).as("%s=%s", property, value)
                .isInstanceOf(BindException.class).rootCause().isInstanceOf(IllegalArgumentException.class)
                .message().contains(property).contains(List.of(message));
    }

    @Test
    void aQueueNamedTwiceIsRefused() {
        refused("conveyor.api.queues", "default,emails,default", "'default'", "twice");
    }

    @Test
    void aRetentionPastWhatPostgresqlCountsBackIsRefused() {
        // "keep for ever" written as 9999999d: now() minus 27,000 years is out of PostgreSQL's range, so every
        // pass of the cleaner failed, and with succeeded failing first no ended job of any status was deleted
        for (var status : new String[] {"succeeded", "cancelled", "failed"}) {
            refused("conveyor.api.retention." + status, "9999999d", "0: for ever");
        }
        assertThat(bind(Map.of("conveyor.api.retention.failed", "36500d")).retention().failed()).hasDays(36_500);
    }

    @Test
    void moreLostAttemptsThanAWorkerWouldDispatchAreRefused() {
        // a worker refuses a record more than JobLimits.MAX_ATTEMPTS_UNCHARGED attempts above its maxAttempts (as a
        // forged one): a job allowed more lost attempts than fit would have its real records refused
        refused("conveyor.api.retry.max-lost-attempts", "100", "from 1 to 99");
        refused("conveyor.api.retry.max-lost-attempts", "0", "from 1 to 99");
        assertThat(bind(Map.of("conveyor.api.retry.max-lost-attempts", "99")).retry().maxLostAttempts()).isEqualTo(99);
    }

    @Test
    void aRetryDelayOfMoreThanAYearIsRefused() {
        // the backoff reads it in milliseconds and adds it to now: 100000000000000d is more milliseconds than a long
        // holds (an ArithmeticException on every retryable failure, which the events applier takes for a passing
        // fault and tries again for ever), and 1000000000d puts the retry past PostgreSQL's last timestamp
        refused("conveyor.api.retry.max-delay", "366d", "365d");
        refused("conveyor.api.retry.max-delay", "100000000000000d", "365d");
        refused("conveyor.api.retry.max-delay", "1000000000d", "365d");
        assertThat(bind(Map.of("conveyor.api.retry.max-delay", "365d")).retry().maxDelay()).hasDays(365);
    }

    @Test
    void aRescueGraceOfCenturiesIsRefused() {
        // the rescuer compares it in nanoseconds: past 292 years every round of it threw, and no lost attempt was
        // ever run again
        refused("conveyor.api.rescue-grace", "9999999d", "36500d");
    }

    @Test
    void loopsThatQueryTheDatabaseRunAtMostEveryTenMillisecondsAndAtLeastDaily() {
        for (var property : new String[] {"conveyor.api.dispatch.poll-interval", "conveyor.api.rescue-interval",
                "conveyor.api.retention.interval"}) {
            refused(property, "1ns", "from 10ms to 1d");
            refused(property, "9999999d", "from 10ms to 1d");
        }
        var fast = bind(Map.of("conveyor.api.dispatch.poll-interval", "10ms", "conveyor.api.rescue-interval", "1d"));
        assertThat(fast.dispatch().pollInterval()).hasMillis(10);
        assertThat(fast.rescueInterval()).hasDays(1);
    }
}
