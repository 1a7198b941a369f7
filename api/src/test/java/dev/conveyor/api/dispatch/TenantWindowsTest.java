package dev.conveyor.api.dispatch;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class TenantWindowsTest {

    private final TenantWindows windows = new TenantWindows(3, Duration.ofHours(1).toNanos());
    private final AtomicInteger wakes = new AtomicInteger();

    {
        windows.onFreed(wakes::incrementAndGet);
    }

    @Test
    void reservesNoMoreThanTheWindowPerQueueAndTenant() {
        assertThat(windows.reserve("q", "a", 2)).isEqualTo(2);
        assertThat(windows.reserve("q", "a", 2)).isEqualTo(1);
        assertThat(windows.reserve("q", "a", 1)).isZero();
        assertThat(windows.backlog()).isTrue();
        // another tenant, or the same tenant on another queue, has a window of its own
        assertThat(windows.reserve("q", "b", 3)).isEqualTo(3);
        assertThat(windows.reserve("other", "a", 3)).isEqualTo(3);
        assertThat(windows.rooms()).containsEntry(new TenantWindows.Pair("q", "a"), 0)
                .containsEntry(new TenantWindows.Pair("q", "b"), 0);
    }

    @Test
    void aStartedJobFreesItsSlotOnceAndWakesThePollerWhenSomeoneWaits() {
        var first = UUID.randomUUID();
        var second = UUID.randomUUID();
        windows.reserve("q", "a", 2);
        windows.hold(first, "q", "a");
        windows.hold(second, "q", "a");
        windows.backlog(true);

        windows.settled(first);
        windows.settled(first);
        windows.settled(UUID.randomUUID());

        assertThat(windows.rooms()).containsEntry(new TenantWindows.Pair("q", "a"), 2);
        assertThat(wakes).hasValue(1);
        assertThat(windows.held()).isEqualTo(1);
    }

    @Test
    void thePollerIsWokenOnceATenthOfAWindowHasFreedUp() {
        var large = new TenantWindows(30, Duration.ofHours(1).toNanos());
        var woken = new AtomicInteger();
        large.onFreed(woken::incrementAndGet);
        var jobs = java.util.stream.Stream.generate(UUID::randomUUID).limit(7).toList();
        jobs.forEach(job -> large.take(job, "q", "a"));
        large.backlog(true);

        jobs.subList(0, 2).forEach(large::settled);
        assertThat(woken).hasValue(0);
        jobs.subList(2, 6).forEach(large::settled);
        assertThat(woken).hasValue(1);

        large.looking();
        large.settled(jobs.get(6));
        assertThat(woken).hasValue(1);
    }

    @Test
    void unusedReservationsAndUnpublishedJobsGiveTheirSlotsBack() {
        var published = UUID.randomUUID();
        windows.reserve("q", "a", 3);
        windows.hold(published, "q", "a");
        windows.unreserve("q", "a", 2);
        assertThat(windows.rooms()).containsEntry(new TenantWindows.Pair("q", "a"), 2);

        windows.settled(published);
        assertThat(windows.rooms()).doesNotContainKey(new TenantWindows.Pair("q", "a"));
    }

    @Test
    void aJobPublishedAgainHoldsOneSlot() {
        var job = UUID.randomUUID();
        windows.take(job, "q", "a");
        windows.take(job, "q", "a");
        windows.reserve("q", "a", 1);
        windows.hold(job, "q", "a");

        assertThat(windows.rooms()).containsEntry(new TenantWindows.Pair("q", "a"), 2);
    }

    @Test
    void aJobThePollerTookIsAdmittedOnlyIfItsWindowStillHasRoom() {
        var submitted = UUID.randomUUID();
        windows.reserve("q", "a", 1);
        windows.hold(submitted, "q", "a");

        assertThat(windows.admit(UUID.randomUUID(), "q", "a")).isTrue();
        assertThat(windows.admit(UUID.randomUUID(), "q", "a")).isTrue();
        assertThat(windows.backlog()).isFalse();
        assertThat(windows.admit(UUID.randomUUID(), "q", "a")).isFalse();
        assertThat(windows.backlog()).isTrue();
        // published again while it holds its slot: it keeps that one
        assertThat(windows.admit(submitted, "q", "a")).isTrue();
        assertThat(windows.admit(UUID.randomUUID(), "q", "b")).isTrue();

        assertThat(windows.rooms()).containsEntry(new TenantWindows.Pair("q", "a"), 0)
                .containsEntry(new TenantWindows.Pair("q", "b"), 2);
        assertThat(windows.held()).isEqualTo(4);
        windows.settled(submitted);
        assertThat(windows.rooms()).containsEntry(new TenantWindows.Pair("q", "a"), 1);
    }

    @Test
    void slotsHeldPastTheExpiryAreFreed() {
        var expiring = new TenantWindows(3, 0);
        expiring.take(UUID.randomUUID(), "q", "a");
        expiring.take(UUID.randomUUID(), "q", "a");

        assertThat(expiring.expire()).isEqualTo(2);
        assertThat(expiring.rooms()).isEmpty();
        assertThat(expiring.held()).isZero();
    }
}
