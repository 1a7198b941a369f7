package dev.conveyor.api.submit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.auth.Caller;
import dev.conveyor.api.auth.Scope;
import dev.conveyor.api.limits.TooManyRequests;
import dev.conveyor.api.web.ApiException;
import jakarta.servlet.ReadListener;
import jakarta.servlet.ServletInputStream;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.springframework.http.HttpStatus;
import org.springframework.mock.web.MockHttpServletRequest;

class BodyMemoryTest {

    private static final int KIB = 1024;

    private static MockHttpServletRequest request(int bytes) {
        var request = new MockHttpServletRequest("POST", "/v1/jobs/batch");
        request.setContent(new byte[bytes]);
        return request;
    }

    /** A chunked body: no Content-Length. */
    private static MockHttpServletRequest unannounced(int bytes) {
        var request = new MockHttpServletRequest("POST", "/v1/jobs/batch") {
            @Override
            public long getContentLengthLong() {
                return -1;
            }
        };
        request.setContent(new byte[bytes]);
        return request;
    }

    private static HttpStatus status(Throwable refusal) {
        return (HttpStatus) ((ApiException) refusal).status();
    }

    /** Body memory whose bodies may take 20 s, and longer at 64 KiB/s (the defaults). */
    private static BodyMemory memory(long capacityBytes, Duration wait) {
        return new BodyMemory(capacityBytes, wait, Duration.ofSeconds(20), 64 * KIB, System::nanoTime);
    }

    /**
     * A body of {@code bytes} announced that arrives at most {@code perRead} bytes at a time, each byte taking
     * {@code perByte} on {@code clock}.
     */
    private static MockHttpServletRequest arriving(int bytes, int perRead, Duration perByte, AtomicLong clock) {
        var request = new MockHttpServletRequest("POST", "/v1/jobs/batch") {
            private final ServletInputStream in = new ServletInputStream() {
                private int left = bytes;

                @Override
                public int read() {
                    throw new UnsupportedOperationException("read a byte at a time");
                }

                @Override
                public int read(byte[] into, int offset, int length) {
                    if (left == 0) {
                        return -1;
                    }
                    var read = Math.min(Math.min(length, perRead), left);
                    clock.addAndGet(read * perByte.toNanos());
                    left -= read;
                    return read;
                }

                @Override
                public boolean isFinished() {
                    return left == 0;
                }

                @Override
                public boolean isReady() {
                    return true;
                }

                @Override
                public void setReadListener(ReadListener listener) {
                    throw new UnsupportedOperationException();
                }
            };

            @Override
            public ServletInputStream getInputStream() {
                return in;
            }
        };
        request.setContent(new byte[bytes]); // sets the Content-Length
        return request;
    }

    /** A body of unannounced length arriving as {@link #arriving} does. */
    private static MockHttpServletRequest arrivingUnannounced(int bytes, int perRead, Duration perByte,
            AtomicLong clock) {
        var announced = arriving(bytes, perRead, perByte, clock);
        var request = new MockHttpServletRequest("POST", "/v1/jobs/batch") {
            @Override
            public long getContentLengthLong() {
                return -1;
            }

            @Override
            public ServletInputStream getInputStream() {
                return announced.getInputStream();
            }
        };
        return request;
    }

    @Test
    void aBodyHoldsTwiceItsSizeUntilItIsAnswered() {
        var memory = memory(1024 * KIB, Duration.ofSeconds(5));

        try (var body = memory.read(request(300 * KIB), 1024 * KIB, Caller.OPEN)) {
            assertThat(body.bytes()).hasSize(300 * KIB);
            assertThat(memory.reservedBytes()).isEqualTo(600 * KIB);
        }
        assertThat(memory.reservedBytes()).isZero();
    }

    @Test
    void aBodyThatFindsNoMemoryWithinTheWaitIsA503AndTakesNone() {
        var memory = memory(1024 * KIB, Duration.ofMillis(50));

        try (var first = memory.read(request(300 * KIB), 1024 * KIB, Caller.OPEN)) {
            assertThatThrownBy(() -> memory.read(request(300 * KIB), 1024 * KIB, Caller.OPEN))
                    .isInstanceOf(ApiException.class)
                    .satisfies(refusal -> assertThat(status(refusal)).isEqualTo(HttpStatus.SERVICE_UNAVAILABLE));
            assertThat(memory.reservedBytes()).isEqualTo(600 * KIB);
        }
        assertThat(memory.reservedBytes()).isZero();
    }

    @Test
    void aWaitingBodyIsReadOnceMemoryIsGivenBack() throws Exception {
        var memory = memory(1024 * KIB, Duration.ofSeconds(30));
        var first = memory.read(request(300 * KIB), 1024 * KIB, Caller.OPEN);
        try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
            var second = CompletableFuture.supplyAsync(() -> {
                try (var body = memory.read(request(400 * KIB), 1024 * KIB, Caller.OPEN)) {
                    return body.bytes().length;
                }
            }, threads);
            await().atMost(Duration.ofSeconds(10)).until(memory::hasWaiting);
            assertThat(second).isNotDone();

            first.close();

            assertThat(second.get()).isEqualTo(400 * KIB);
        }
        assertThat(memory.reservedBytes()).isZero();
    }

    @Test
    void aBodyOfUnannouncedLengthReservesAsItIsReadAndGivesAllBackPastTheLimit() {
        var memory = memory(4096 * KIB, Duration.ofSeconds(5));

        try (var body = memory.read(unannounced(200 * KIB), 1024 * KIB, Caller.OPEN)) {
            assertThat(body.bytes()).hasSize(200 * KIB);
            // four chunks of 64 KiB reserved, twice over
            assertThat(memory.reservedBytes()).isEqualTo(2 * 256 * KIB);
        }
        assertThatThrownBy(() -> memory.read(unannounced(1100 * KIB), 1024 * KIB, Caller.OPEN))
                .satisfies(refusal -> assertThat(status(refusal)).isEqualTo(HttpStatus.CONTENT_TOO_LARGE));
        assertThat(memory.reservedBytes()).isZero();
    }

    /** A body larger than all the memory for large bodies takes all of it, rather than waiting for ever. */
    @Test
    void aBodyLargerThanTheMemoryTakesAllOfIt() {
        var memory = memory(1024 * KIB, Duration.ofMillis(50));

        try (var body = memory.read(request(900 * KIB), 1024 * KIB, Caller.OPEN)) {
            assertThat(memory.reservedBytes()).isEqualTo(768 * KIB); // three quarters: the large bodies' part
            assertThatThrownBy(() -> memory.read(request(100 * KIB), 1024 * KIB, Caller.OPEN))
                    .satisfies(refusal -> assertThat(status(refusal)).isEqualTo(HttpStatus.SERVICE_UNAVAILABLE));
        }
    }

    /** A chunked single submission is not held back by large bodies either, until it grows past a small one. */
    @Test
    void aBodyOfUnannouncedLengthStartsAmongTheSmallOnesAndMovesOnceItGrows() {
        var memory = memory(1024 * KIB, Duration.ofMillis(50));

        try (var large = memory.read(request(900 * KIB), 1024 * KIB, Caller.OPEN)) {
            try (var small = memory.read(unannounced(KIB), 1024 * KIB, Caller.OPEN)) {
                assertThat(small.bytes()).hasSize(KIB);
                assertThat(memory.reservedBytes()).isEqualTo(768 * KIB + 2 * BodyMemory.SMALL);
            }
            assertThatThrownBy(() -> memory.read(unannounced(200 * KIB), 1024 * KIB, Caller.OPEN))
                    .satisfies(refusal -> assertThat(status(refusal)).isEqualTo(HttpStatus.SERVICE_UNAVAILABLE));
            assertThat(memory.reservedBytes()).isEqualTo(768 * KIB);
        }
        try (var grown = memory.read(unannounced(200 * KIB), 1024 * KIB, Caller.OPEN)) {
            assertThat(grown.bytes()).hasSize(200 * KIB);
            assertThat(memory.reservedBytes()).isEqualTo(2 * 256 * KIB);
        }
        assertThat(memory.reservedBytes()).isZero();
    }

    /** Large bodies sent slowly hold their part of the memory for as long as they take, but not the small ones'. */
    @Test
    void smallBodiesAreNotHeldBackByLargeOnes() {
        var memory = memory(1024 * KIB, Duration.ofMillis(50));

        try (var large = memory.read(request(900 * KIB), 1024 * KIB, Caller.OPEN);
                var small = memory.read(request(BodyMemory.SMALL), 1024 * KIB, Caller.OPEN)) {
            assertThat(small.bytes()).hasSize(BodyMemory.SMALL);
            assertThat(memory.reservedBytes()).isEqualTo(768 * KIB + 2 * BodyMemory.SMALL);
        }
        assertThat(memory.reservedBytes()).isZero();
    }

    @Nested
    class ABodyThatTakesTooLong {

        private final AtomicLong clock = new AtomicLong();
        /** 10 s for a body, plus a second per KiB received. */
        private final BodyMemory memory = new BodyMemory(4096 * KIB, Duration.ofSeconds(5), Duration.ofSeconds(10),
                KIB, clock::get);

        private void assertRefusedForItsTime(Throwable refusal) {
            assertThat(status(refusal)).isEqualTo(HttpStatus.BAD_REQUEST);
            assertThat(((ApiException) refusal).errors()).singleElement().satisfies(error -> {
                assertThat(error.field()).isEqualTo("body");
                assertThat(error.message()).startsWith("did not arrive in time")
                        .contains("10 s (conveyor.api.body-timeout)", "1024 bytes received (body-min-rate)");
            });
        }

        /** One byte a second holds a large reservation no longer than the body's time, and then gives it back. */
        @Test
        void isRefusedOnceItsTimeIsUpAndGivesItsMemoryBack() {
            var trickle = arriving(1024 * KIB, 1, Duration.ofSeconds(1), clock);

            assertThatThrownBy(() -> memory.read(trickle, 2048 * KIB, Caller.OPEN)).satisfies(this::assertRefusedForItsTime)
                    .hasMessageContaining("had sent 11 of its " + 1024 * KIB + " bytes in 11 s");
            assertThat(clock.get()).isLessThanOrEqualTo(Duration.ofSeconds(11).toNanos());
            assertThat(memory.reservedBytes()).isZero();
        }

        @Test
        void isRefusedAlsoWhenItsLengthIsUnannounced() {
            var trickle = arrivingUnannounced(1024 * KIB, 1, Duration.ofSeconds(1), clock);

            assertThatThrownBy(() -> memory.read(trickle, 2048 * KIB, Caller.OPEN)).satisfies(this::assertRefusedForItsTime)
                    .hasMessageContaining("had sent 11 bytes in 11 s");
            assertThat(memory.reservedBytes()).isZero();
        }

        @Test
        void isRefusedAlsoWhenItIsSmall() {
            var trickle = arriving(KIB, 1, Duration.ofSeconds(1), clock);

            assertThatThrownBy(() -> memory.read(trickle, 2048 * KIB, Caller.OPEN)).satisfies(this::assertRefusedForItsTime);
            assertThat(memory.reservedBytes()).isZero();
        }

        /** At the minimum rate a body takes as long as it needs: 2 MiB at 1 KiB/s is 34 minutes, not 10 s. */
        @Test
        void arrivingAtTheMinimumRateIsNeverCutOff() {
            var steady = arriving(2048 * KIB, KIB, Duration.ofSeconds(1).dividedBy(KIB), clock);

            try (var body = memory.read(steady, 2048 * KIB, Caller.OPEN)) {
                assertThat(body.bytes()).hasSize(2048 * KIB);
            }
            assertThat(Duration.ofNanos(clock.get())).isGreaterThan(Duration.ofMinutes(34));
        }

        /** The time a body waits for memory is the api's, not the client's: it does not count. */
        @Test
        void thatWaitedForMemoryLongerThanItsTimeIsRead() throws Exception {
            var first = memory.read(arriving(1024 * KIB, 1024 * KIB, Duration.ZERO, clock), 2048 * KIB, Caller.OPEN);
            try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
                var second = CompletableFuture.supplyAsync(() -> {
                    try (var body = memory.read(arriving(1024 * KIB, KIB, Duration.ZERO, clock), 2048 * KIB, Caller.OPEN)) {
                        return body.bytes().length;
                    }
                }, threads);
                await().atMost(Duration.ofSeconds(10)).until(memory::hasWaiting);
                clock.addAndGet(Duration.ofSeconds(30).toNanos());

                first.close();

                assertThat(second.get()).isEqualTo(1024 * KIB);
            }
            assertThat(memory.reservedBytes()).isZero();
        }

        /** Time is checked before the api waits for more, not after: bytes that came late are not thrown away. */
        @Test
        void whoseOneReadTookLongIsStillRead() {
            var late = arriving(16 * KIB, 16 * KIB, Duration.ofSeconds(30).dividedBy(16 * KIB), clock);

            try (var body = memory.read(late, 2048 * KIB, Caller.OPEN)) {
                assertThat(body.bytes()).hasSize(16 * KIB);
            }
        }
    }

    /** Tomcat's read timeout (BodyTimeout sets it to body-timeout) is the same refusal, not a body cut short. */
    @Test
    void aReadThatTimesOutIsARefusalForTheBodysTime() {
        var memory = memory(1024 * KIB, Duration.ofSeconds(5));
        var timesOut = new MockHttpServletRequest("POST", "/v1/jobs/batch") {
            @Override
            public long getContentLengthLong() {
                return 300 * KIB;
            }

            @Override
            public ServletInputStream getInputStream() {
                return new ServletInputStream() {
                    @Override
                    public int read() throws IOException {
                        // as Tomcat's stream fails a read that waited its read timeout
                        throw new IOException("read failed", new SocketTimeoutException());
                    }

                    @Override
                    public boolean isFinished() {
                        return false;
                    }

                    @Override
                    public boolean isReady() {
                        return true;
                    }

                    @Override
                    public void setReadListener(ReadListener listener) {
                        throw new UnsupportedOperationException();
                    }
                };
            }
        };

        assertThatThrownBy(() -> memory.read(timesOut, 1024 * KIB, Caller.OPEN))
                .satisfies(refusal -> assertThat(status(refusal)).isEqualTo(HttpStatus.BAD_REQUEST))
                .hasMessageStartingWith("body: did not arrive in time");
        assertThat(memory.reservedBytes()).isZero();
    }

    /**
     * With keys, one tenant's large bodies hold at most {@code limits.tenant-body-share} of the large bodies' part: a
     * tenant sending large bodies slowly, again and again, kept every other tenant's large submissions waiting and then
     * refused them (503).
     */
    @Nested
    class ATenantsShare {

        private static final Caller ACME = new Caller("acme-rw", "acme", Set.of(Scope.JOBS_WRITE));
        private static final Caller ACME_TOO = new Caller("acme-ci", "acme", Set.of(Scope.JOBS_WRITE));
        private static final Caller GLOBEX = new Caller("globex-rw", "globex", Set.of(Scope.JOBS_WRITE));

        /** 4 MiB: 3 MiB for large bodies, of which a tenant may hold half (1536 KiB); bodies wait 50 ms. */
        private final BodyMemory memory = new BodyMemory(4096 * KIB, Duration.ofMillis(50), Duration.ofSeconds(20),
                64 * KIB, 50, System::nanoTime);

        private void assertTenantFull(Throwable refusal) {
            assertThat(refusal).isInstanceOf(TooManyRequests.class);
            assertThat(((ApiException) refusal).problemType()).isEqualTo("tenant-bodies-full");
            assertThat(refusal.getMessage()).contains("may hold at most 1.5 MiB", "tenant-body-share");
            assertThat(((TooManyRequests) refusal).retryAfterSeconds()).isEqualTo(1);
        }

        @Test
        void aTenantsLargeBodiesTakeAtMostItsShareAndLeaveTheRestToOthers() {
            try (var first = memory.read(request(700 * KIB), 8192 * KIB, ACME)) {
                // another of acme's bodies, through another of its keys, would take acme past its half: refused at
                // once, before it is read; without the share it took the rest and globex waited, then got a 503
                assertThatThrownBy(() -> memory.read(request(700 * KIB), 8192 * KIB, ACME_TOO))
                        .satisfies(this::assertTenantFull);
                assertThat(memory.heldByTenantKib("acme")).isEqualTo(1400);
                try (var other = memory.read(request(700 * KIB), 8192 * KIB, GLOBEX)) {
                    assertThat(other.bytes()).hasSize(700 * KIB);
                    assertThat(memory.heldByTenantKib("globex")).isEqualTo(1400);
                }
                assertThat(first.bytes()).hasSize(700 * KIB);
            }
            assertThat(memory.heldByTenantKib("acme")).isZero();
            assertThat(memory.heldByTenantKib("globex")).isZero();
            assertThat(memory.reservedBytes()).isZero();
        }

        @Test
        void aTenantHoldingNothingMaySendOneBodyLargerThanItsShare() {
            try (var body = memory.read(request(1200 * KIB), 8192 * KIB, ACME)) {
                assertThat(body.bytes()).hasSize(1200 * KIB);
                assertThat(memory.heldByTenantKib("acme")).isEqualTo(2400);
                assertThatThrownBy(() -> memory.read(request(100 * KIB), 8192 * KIB, ACME))
                        .satisfies(this::assertTenantFull);
            }
            assertThat(memory.heldByTenantKib("acme")).isZero();
        }

        @Test
        void smallBodiesAndTheOpenApiAreNotCounted() {
            try (var first = memory.read(request(700 * KIB), 8192 * KIB, ACME);
                    var small = memory.read(request(BodyMemory.SMALL), 8192 * KIB, ACME)) {
                assertThat(small.bytes()).hasSize(BodyMemory.SMALL);
                assertThat(memory.heldByTenantKib("acme")).isEqualTo(1400);
            }
            try (var first = memory.read(request(700 * KIB), 8192 * KIB, Caller.OPEN);
                    var second = memory.read(request(700 * KIB), 8192 * KIB, Caller.OPEN)) {
                assertThat(second.bytes()).hasSize(700 * KIB);
                assertThat(memory.heldByTenantKib(Caller.DEFAULT_TENANT)).isZero();
            }
        }

        @Test
        void aChunkedBodyGrowingPastTheShareIsRefusedAndGivesBackWhatItHeld() {
            try (var first = memory.read(request(500 * KIB), 8192 * KIB, ACME)) {
                assertThatThrownBy(() -> memory.read(unannounced(1000 * KIB), 8192 * KIB, ACME))
                        .satisfies(this::assertTenantFull);
                assertThat(memory.heldByTenantKib("acme")).isEqualTo(1000);
            }
            assertThat(memory.heldByTenantKib("acme")).isZero();
            assertThat(memory.reservedBytes()).isZero();
        }

        @Test
        void aBodyThatFindsNoMemoryGivesBackItsShare() {
            try (var acme = memory.read(request(750 * KIB), 8192 * KIB, ACME);
                    var globex = memory.read(request(750 * KIB), 8192 * KIB, GLOBEX)) {
                var initech = new Caller("initech-rw", "initech", Set.of(Scope.JOBS_WRITE));
                assertThatThrownBy(() -> memory.read(request(100 * KIB), 8192 * KIB, initech))
                        .satisfies(refusal -> assertThat(status(refusal)).isEqualTo(HttpStatus.SERVICE_UNAVAILABLE));
                assertThat(memory.heldByTenantKib("initech")).isZero();
            }
        }
    }
}
