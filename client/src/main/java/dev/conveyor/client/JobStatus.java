package dev.conveyor.client;

/** Where a job is in its life; {@link #SUCCEEDED}, {@link #FAILED} and {@link #CANCELLED} are terminal. */
public enum JobStatus {
    SCHEDULED, QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED;

    public boolean isTerminal() {
        return this == SUCCEEDED || this == FAILED || this == CANCELLED;
    }
}
