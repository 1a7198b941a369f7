package dev.conveyor.common.handler;

import tools.jackson.databind.JsonNode;

/**
 * Runs jobs of one type. Called on a virtual thread of its own, so blocking I/O is fine; an interrupt means the
 * deadline passed or the job was cancelled. Return the result (any JSON value), or throw: a {@link JobFailure}
 * says exactly how the attempt failed, any other exception is a retryable {@code HANDLER_ERROR}.
 */
public interface JobHandler {

    /** The job type this handler runs, as in {@code POST /v1/jobs {"type": ...}}. */
    String type();

    JsonNode handle(JobContext context) throws Exception;
}
