package dev.conveyor.api.limits;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.api.auth.Caller;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.datasource.SimpleDriverDataSource;

/** The instance's long-polls and each key's are given back however a long-poll ends, refused ones included. */
class LongPollPermitsTest {

    /** One per key, three on the instance; no database is asked. */
    private final Limits limits = new Limits(new LimitsProperties(0, 0, 1, 0, 0, 0, 3),
            JdbcClient.create(new SimpleDriverDataSource()), new SimpleMeterRegistry());

    private static Caller key(String id) {
        return new Caller(id, "tenant", Set.of());
    }

    @Test
    void aKeysRefusalGivesTheInstancesPlaceBack() {
        var held = limits.longPoll(key("a"));
        for (var i = 0; i < 10; i++) {
            assertThatThrownBy(() -> limits.longPoll(key("a"))).isInstanceOf(TooManyRequests.class)
                    .matches(refusal -> !((TooManyRequests) refusal).closeConnection(), "keeps its connection");
        }
        // ten refusals of key a took none of the instance's three: two more keys may wait
        var b = limits.longPoll(key("b"));
        var c = limits.longPoll(key("c"));
        assertThatThrownBy(() -> limits.longPoll(key("d"))).isInstanceOf(TooManyRequests.class)
                .hasMessageContaining("api instance has 3")
                .matches(refusal -> ((TooManyRequests) refusal).closeConnection(), "closes its connection");

        held.close();
        limits.longPoll(key("d")).close();
        b.close();
        c.close();
        var open = new Limits.Permit[] {limits.longPoll(key("a")), limits.longPoll(key("b")),
                limits.longPoll(key("c"))};
        assertThat(open).hasSize(3);
    }

    @Test
    void withoutKeysOnlyTheInstancesBoundCounts() {
        var open = new Limits.Permit[] {limits.longPoll(Caller.OPEN), limits.longPoll(Caller.OPEN),
                limits.longPoll(Caller.OPEN)};
        assertThatThrownBy(() -> limits.longPoll(Caller.OPEN)).isInstanceOf(TooManyRequests.class);
        open[0].close();
        limits.longPoll(Caller.OPEN).close();
    }
}
