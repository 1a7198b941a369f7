package dev.conveyor.worker.execute;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.UUID;
import org.junit.jupiter.api.Test;

/** A worker runs one attempt of a job once, however many records of that attempt reach it. */
class RunningAttemptsTest {

    private final RunningAttempts attempts = new RunningAttempts();
    private final UUID job = UUID.randomUUID();

    @Test
    void aSecondRecordOfTheAttemptRunningHereIsNotRunAgain() {
        assertThat(attempts.register(job, new Attempt(0, 1))).isEqualTo(RunningAttempts.Registration.REGISTERED);

        assertThat(attempts.register(job, new Attempt(0, 1)))
                .isEqualTo(RunningAttempts.Registration.ALREADY_RUNNING);
        assertThat(attempts.count()).isEqualTo(1);
    }

    @Test
    void aLaterAttemptOrGenerationIsNotTakenForACopy() {
        attempts.register(job, new Attempt(0, 1));

        assertThat(attempts.register(job, new Attempt(0, 2))).isEqualTo(RunningAttempts.Registration.REGISTERED);
        assertThat(attempts.register(job, new Attempt(1, 2))).isEqualTo(RunningAttempts.Registration.REGISTERED);
    }

    @Test
    void aCancelledJobDoesNotRegister() {
        attempts.cancel(job, 0);

        assertThat(attempts.register(job, new Attempt(0, 1))).isEqualTo(RunningAttempts.Registration.CANCELLED);
        assertThat(attempts.count()).isZero();
    }
}
