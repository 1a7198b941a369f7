package dev.conveyor.common;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class JobStatusTest {

    @ParameterizedTest
    @EnumSource(value = JobStatus.class, names = {"SUCCEEDED", "FAILED", "CANCELLED"})
    void terminalStatesAreTerminal(JobStatus status) {
        assertThat(status.isTerminal()).isTrue();
    }

    @ParameterizedTest
    @EnumSource(value = JobStatus.class, names = {"SCHEDULED", "QUEUED", "RUNNING"})
    void activeStatesAreNotTerminal(JobStatus status) {
        assertThat(status.isTerminal()).isFalse();
    }

    @Test
    void succeededIsFinal() {
        assertThat(JobStatus.SUCCEEDED.allowedNext()).isEmpty();
        for (var next : JobStatus.values()) {
            assertThat(JobStatus.SUCCEEDED.canMoveTo(next)).as("SUCCEEDED -> %s", next)
                    .isEqualTo(next == JobStatus.SUCCEEDED);
        }
    }

    @Test
    void failedAndCancelledOnlyGoBackToQueuedThroughRetry() {
        assertThat(JobStatus.FAILED.canMoveTo(JobStatus.QUEUED)).isTrue();
        assertThat(JobStatus.CANCELLED.canMoveTo(JobStatus.QUEUED)).isTrue();
        assertThat(JobStatus.FAILED.canMoveTo(JobStatus.RUNNING)).isFalse();
        assertThat(JobStatus.CANCELLED.canMoveTo(JobStatus.SUCCEEDED)).isFalse();
    }

    @Test
    void aScheduledJobCannotStartWithoutBeingQueued() {
        assertThat(JobStatus.SCHEDULED.canMoveTo(JobStatus.RUNNING)).isFalse();
        assertThat(JobStatus.SCHEDULED.canMoveTo(JobStatus.QUEUED)).isTrue();
    }
}
