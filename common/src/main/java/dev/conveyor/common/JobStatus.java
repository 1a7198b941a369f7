package dev.conveyor.common;

import java.util.EnumSet;
import java.util.Set;

/** The states of a job, and the only moves allowed between them (the migration's CHECK mirrors the names). */
public enum JobStatus {
    SCHEDULED, QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED;

    /** True for the states a job never leaves, except through an explicit retry. */
    public boolean isTerminal() {
        return this == SUCCEEDED || this == FAILED || this == CANCELLED;
    }

    /** Whether a job in this state may move to {@code next}. */
    public boolean canMoveTo(JobStatus next) {
        return allowedNext().contains(next);
    }

    private Set<JobStatus> allowedNext() {
        return switch (this) {
            case SCHEDULED -> EnumSet.of(QUEUED, CANCELLED);
            // QUEUED straight to a terminal state: the start and the end of an attempt applied in one batch
            // (a fast job, or one a worker reported without running it: no handler, cancelled meanwhile).
            case QUEUED -> EnumSet.of(RUNNING, SUCCEEDED, FAILED, CANCELLED, SCHEDULED);
            // RUNNING to RUNNING: the worker died and another one started the next attempt.
            case RUNNING -> EnumSet.of(RUNNING, SUCCEEDED, FAILED, CANCELLED, SCHEDULED);
            case FAILED, CANCELLED -> EnumSet.of(QUEUED);
            case SUCCEEDED -> EnumSet.noneOf(JobStatus.class);
        };
    }
}
