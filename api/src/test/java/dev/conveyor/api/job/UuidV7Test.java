package dev.conveyor.api.job;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class UuidV7Test {

    @Test
    void idsAreVersion7WithTheTimeInFront() {
        var at = Instant.parse("2026-11-28T10:15:30.123Z");
        var id = new UuidV7(Clock.fixed(at, ZoneOffset.UTC)).get();

        assertThat(id.version()).isEqualTo(7);
        assertThat(id.variant()).isEqualTo(2);
        assertThat(id.getMostSignificantBits() >>> 16).isEqualTo(at.toEpochMilli());
    }

    @Test
    void idsMadeInOneMillisecondSortInTheOrderTheyWereMade() {
        var ids = new UuidV7(Clock.fixed(Instant.now(), ZoneOffset.UTC));
        var made = new ArrayList<UUID>();
        for (var i = 0; i < 10_000; i++) {
            made.add(ids.get());
        }

        // PostgreSQL compares uuids as unsigned bytes, which is the order of their hex text
        assertThat(made.stream().map(UUID::toString).toList()).isSorted().doesNotHaveDuplicates();
    }
}
