package dev.conveyor.common;

import java.util.EnumSet;
import java.util.Set;

/**
 * The states of a job, and the only moves allowed between them. The api's migration V4 holds the same table
 * ({@code job_transitions}) and a trigger that refuses any other move; a test checks that the two agree.
 * An update that keeps the status (a dispatch mark, progress, a redispatch) is not a move.
 */
public enum JobStatus {
    SCHEDULED, QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED;

    /** The states a job may be created in. */
    public static final Set<JobStatus> INITIAL = EnumSet.of(SCHEDULED, QUEUED);

    /** True for the states a job never leaves, except through an explicit retry. */
    public boolean isTerminal() {
        return this == SUCCEEDED || this == FAILED || this == CANCELLED;
    }

    /** Whether a job in this state may move to {@code next} (staying where it is always may). */
    public boolean canMoveTo(JobStatus next) {
        return next == this || allowedNext().contains(next);
    }

    /** The states this one may move to, itself not included. */
    public Set<JobStatus> allowedNext() {
        return switch (this) {
            case SCHEDULED -> EnumSet.of(QUEUED, CANCELLED);
            // QUEUED straight to an end: an attempt's start and end applied together (a fast job, or one a worker
            // reported without running it: no handler, cancelled meanwhile), or a cancel.
            case QUEUED -> EnumSet.of(RUNNING, SUCCEEDED, FAILED, CANCELLED, SCHEDULED);
            case RUNNING -> EnumSet.of(SUCCEEDED, FAILED, CANCELLED, SCHEDULED);
            case FAILED, CANCELLED -> EnumSet.of(QUEUED);
            case SUCCEEDED -> EnumSet.noneOf(JobStatus.class);
        };
    }
}
