package dev.conveyor.api.submit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.web.ApiException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
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

    @Test
    void aBodyHoldsTwiceItsSizeUntilItIsAnswered() {
        var memory = new BodyMemory(1024 * KIB, Duration.ofSeconds(5));

        try (var body = memory.read(request(300 * KIB), 1024 * KIB)) {
            assertThat(body.bytes()).hasSize(300 * KIB);
            assertThat(memory.reservedBytes()).isEqualTo(600 * KIB);
        }
        assertThat(memory.reservedBytes()).isZero();
    }

    @Test
    void aBodyThatFindsNoMemoryWithinTheWaitIsA503AndTakesNone() {
        var memory = new BodyMemory(1024 * KIB, Duration.ofMillis(50));

        try (var first = memory.read(request(300 * KIB), 1024 * KIB)) {
            assertThatThrownBy(() -> memory.read(request(300 * KIB), 1024 * KIB))
                    .isInstanceOf(ApiException.class)
                    .satisfies(refusal -> assertThat(status(refusal)).isEqualTo(HttpStatus.SERVICE_UNAVAILABLE));
            assertThat(memory.reservedBytes()).isEqualTo(600 * KIB);
        }
        assertThat(memory.reservedBytes()).isZero();
    }

    @Test
    void aWaitingBodyIsReadOnceMemoryIsGivenBack() throws Exception {
        var memory = new BodyMemory(1024 * KIB, Duration.ofSeconds(30));
        var first = memory.read(request(300 * KIB), 1024 * KIB);
        try (var threads = Executors.newVirtualThreadPerTaskExecutor()) {
            var second = CompletableFuture.supplyAsync(() -> {
                try (var body = memory.read(request(400 * KIB), 1024 * KIB)) {
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
        var memory = new BodyMemory(4096 * KIB, Duration.ofSeconds(5));

        try (var body = memory.read(unannounced(200 * KIB), 1024 * KIB)) {
            assertThat(body.bytes()).hasSize(200 * KIB);
            // four chunks of 64 KiB reserved, twice over
            assertThat(memory.reservedBytes()).isEqualTo(2 * 256 * KIB);
        }
        assertThatThrownBy(() -> memory.read(unannounced(1100 * KIB), 1024 * KIB))
                .satisfies(refusal -> assertThat(status(refusal)).isEqualTo(HttpStatus.CONTENT_TOO_LARGE));
        assertThat(memory.reservedBytes()).isZero();
    }

    /** A body larger than all the memory for large bodies takes all of it, rather than waiting for ever. */
    @Test
    void aBodyLargerThanTheMemoryTakesAllOfIt() {
        var memory = new BodyMemory(1024 * KIB, Duration.ofMillis(50));

        try (var body = memory.read(request(900 * KIB), 1024 * KIB)) {
            assertThat(memory.reservedBytes()).isEqualTo(768 * KIB); // three quarters: the large bodies' part
            assertThatThrownBy(() -> memory.read(request(100 * KIB), 1024 * KIB))
                    .satisfies(refusal -> assertThat(status(refusal)).isEqualTo(HttpStatus.SERVICE_UNAVAILABLE));
        }
    }

    /** A chunked single submission is not held back by large bodies either, until it grows past a small one. */
    @Test
    void aBodyOfUnannouncedLengthStartsAmongTheSmallOnesAndMovesOnceItGrows() {
        var memory = new BodyMemory(1024 * KIB, Duration.ofMillis(50));

        try (var large = memory.read(request(900 * KIB), 1024 * KIB)) {
            try (var small = memory.read(unannounced(KIB), 1024 * KIB)) {
                assertThat(small.bytes()).hasSize(KIB);
                assertThat(memory.reservedBytes()).isEqualTo(768 * KIB + 2 * BodyMemory.SMALL);
            }
            assertThatThrownBy(() -> memory.read(unannounced(200 * KIB), 1024 * KIB))
                    .satisfies(refusal -> assertThat(status(refusal)).isEqualTo(HttpStatus.SERVICE_UNAVAILABLE));
            assertThat(memory.reservedBytes()).isEqualTo(768 * KIB);
        }
        try (var grown = memory.read(unannounced(200 * KIB), 1024 * KIB)) {
            assertThat(grown.bytes()).hasSize(200 * KIB);
            assertThat(memory.reservedBytes()).isEqualTo(2 * 256 * KIB);
        }
        assertThat(memory.reservedBytes()).isZero();
    }

    /** Large bodies sent slowly hold their part of the memory for as long as they take, but not the small ones'. */
    @Test
    void smallBodiesAreNotHeldBackByLargeOnes() {
        var memory = new BodyMemory(1024 * KIB, Duration.ofMillis(50));

        try (var large = memory.read(request(900 * KIB), 1024 * KIB);
                var small = memory.read(request(BodyMemory.SMALL), 1024 * KIB)) {
            assertThat(small.bytes()).hasSize(BodyMemory.SMALL);
            assertThat(memory.reservedBytes()).isEqualTo(768 * KIB + 2 * BodyMemory.SMALL);
        }
        assertThat(memory.reservedBytes()).isZero();
    }
}
