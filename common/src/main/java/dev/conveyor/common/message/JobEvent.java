package dev.conveyor.common.message;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import java.util.UUID;

/**
 * What a worker reports about an attempt, on {@code conveyor.events} keyed by job id. The {@code event} property
 * names the kind, so a producer in any language can write these.
 */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "event")
@JsonSubTypes({
        @JsonSubTypes.Type(value = JobStarted.class, name = "started"),
        @JsonSubTypes.Type(value = JobProgress.class, name = "progress"),
        @JsonSubTypes.Type(value = JobFinished.class, name = "finished")
})
public sealed interface JobEvent permits JobStarted, JobProgress, JobFinished {

    int VERSION = 1;

    UUID jobId();

    int attempt();

    /**
     * The generation of the job the attempt belongs to (its explicit retries so far, as the dispatch said): an event
     * of an earlier generation never touches the job once it has been retried. Absent in older events: 0.
     */
    int generation();
}
