package dev.conveyor.api.results;

import dev.conveyor.common.Json;
import dev.conveyor.common.JsonNumbers;
import dev.conveyor.common.log.LogInterval;
import dev.conveyor.common.log.LogText;
import dev.conveyor.common.message.JobError;
import dev.conveyor.common.message.JobEvent;
import dev.conveyor.common.message.JobFinished;
import dev.conveyor.common.message.JobProgress;
import dev.conveyor.common.message.JobStarted;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Optional;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tools.jackson.databind.JsonNode;

/**
 * Reads worker events as untrusted input: an event is decoded, checked and made storable here, so that nothing a
 * worker (or anyone who can write to the topic) sends can fail the batch it arrives in. What PostgreSQL cannot
 * store (a NUL character in any text, an instant out of its range) is replaced; a result that cannot be stored (a NUL
 * character, a number longer than {@link JsonNumbers#MAX_CHARS} characters written out, as its exact value is) ends
 * its attempt with {@code RESULT_INVALID}; a finished event that cannot be read but names its job and attempt ends
 * that attempt with {@code INVALID_REPORT}; anything else unreadable is skipped.
 */
public final class EventReader {

    static final String RESULT_INVALID = "RESULT_INVALID";
    static final String INVALID_REPORT = "INVALID_REPORT";

    private static final Logger log = LoggerFactory.getLogger(EventReader.class);
    private static final int MAX_WORKER_ID = 255;
    private static final int MAX_CODE = 100;
    private static final int MAX_MESSAGE = 8192;
    private static final int MAX_PROGRESS_MESSAGE = 500;
    private static final int MAX_DEPTH = 500;
    /** Workers' clocks may be off; an instant further off than this is taken as "now". */
    private static final Duration CLOCK_SLACK = Duration.ofDays(1);
    private static final Lines LINES = new Lines(Duration.ofMinutes(1));

    /**
     * How often each kind of line about an event that cannot be read is logged at most, with a count of those held
     * back (each is counted in {@code conveyor_events_rejected_total} too): whoever can write to
     * {@code conveyor.events} can write such records as fast as they like, and a line each filled the api's log.
     */
    static final class Lines {

        private final LogInterval skipped;
        private final LogInterval withoutJob;
        private final LogInterval invalidReports;

        Lines(Duration every) {
            skipped = new LogInterval(every);
            withoutJob = new LogInterval(every);
            invalidReports = new LogInterval(every);
        }
    }

    private EventReader() {
    }

    /** The event in {@code text}, made storable; empty when it cannot be read at all. */
    static Optional<JobEvent> read(String text, Instant now) {
        return read(text, now, LINES);
    }

    /** As {@link #read(String, Instant)}, logging what it cannot read through {@code lines}. */
    static Optional<JobEvent> read(String text, Instant now, Lines lines) {
        JobEvent event;
        try {
            event = Json.read(text, JobEvent.class);
        } catch (RuntimeException e) {
            return unreadable(text, e, now, lines);
        }
        if (event == null || event.jobId() == null || event.attempt() < 1) {
            var heldBack = lines.withoutJob.pass();
            if (heldBack >= 0) {
                log.warn("Skipping an event without a job or a valid attempt: {}{}", abbreviate(text),
                        LogInterval.heldBack(heldBack));
            }
            return Optional.empty();
        }
        return Optional.of(switch (event) {
            case JobStarted s -> new JobStarted(s.v(), s.jobId(), s.attempt(), s.generation(), workerId(s.workerId()),
                    instant(s.at(), now));
            case JobProgress p -> new JobProgress(p.v(), p.jobId(), p.attempt(), p.generation(), fraction(p.fraction()),
                    clean(p.message(), MAX_PROGRESS_MESSAGE), instant(p.at(), now));
            case JobFinished f -> finished(f, now);
        });
    }

    private static JobFinished finished(JobFinished f, Instant now) {
        var outcome = f.outcome() == null ? JobFinished.Outcome.FAILED : f.outcome();
        var error = f.error() == null ? null : new JobError(
                f.error().code() == null ? JobError.HANDLER_ERROR : clean(f.error().code(), MAX_CODE),
                clean(f.error().message(), MAX_MESSAGE), f.error().retryable());
        if (outcome == JobFinished.Outcome.FAILED && error == null) {
            error = new JobError(INVALID_REPORT, "the worker reported a failure without an error", true);
        }
        var result = f.result();
        if (outcome == JobFinished.Outcome.SUCCEEDED) {
            var problem = unstorable(result, "$", 0);
            if (problem != null) {
                outcome = JobFinished.Outcome.FAILED;
                // cut as a worker's message is: the path may spell keys of up to 10,000 characters each
                error = new JobError(RESULT_INVALID, clean("the result cannot be stored: " + problem, MAX_MESSAGE),
                        false);
                result = null;
            }
        }
        var retryAfter = f.retryAfterMs() == null ? null : Math.max(0, f.retryAfterMs());
        var at = instant(f.at(), now);
        // when the attempt started (an end that stands for its start): never after its end
        var startedAt = f.startedAt() == null ? null : instant(f.startedAt(), now);
        return new JobFinished(f.v(), f.jobId(), f.attempt(), f.generation(), f.maxAttempts(), workerId(f.workerId()),
                outcome, outcome == JobFinished.Outcome.SUCCEEDED ? result : null, error, retryAfter, at,
                startedAt == null || startedAt.isAfter(at) ? null : startedAt,
                // a hand-back says its attempt never ran: only a failure can (a result of a run is never dropped)
                outcome == JobFinished.Outcome.FAILED ? f.handBacks() : null);
    }

    /**
     * A finished event that names its job and attempt but cannot be read whole still ends that attempt, as failed:
     * otherwise the job would stay RUNNING until the rescuer gives up on it.
     */
    private static Optional<JobEvent> unreadable(String text, RuntimeException e, Instant now, Lines lines) {
        try {
            var tree = Json.tree(text);
            if ("finished".equals(tree.path("event").asString(null)) && tree.path("attempt").canConvertToInt()
                    && tree.path("attempt").asInt() >= 1) {
                var jobId = UUID.fromString(tree.path("jobId").asString());
                var heldBack = lines.invalidReports.pass();
                if (heldBack >= 0) {
                    log.warn("The report of job {} cannot be read ({}); its attempt fails with {}{}", jobId,
                            LogText.of(e.getMessage(), 500), INVALID_REPORT, LogInterval.heldBack(heldBack));
                }
                return Optional.of(new JobFinished(JobEvent.VERSION, jobId, tree.path("attempt").asInt(),
                        tree.path("generation").asInt(0), tree.path("maxAttempts").asInt(1),
                        workerId(tree.path("workerId").asString(null)), JobFinished.Outcome.FAILED, null,
                        new JobError(INVALID_REPORT, "the worker's report of this attempt cannot be read: "
                                + clean(e.getMessage(), 500), false), null, now));
            }
        } catch (RuntimeException ignored) {
            // not even JSON with a job id: nothing to attribute it to
        }
        var heldBack = lines.skipped.pass();
        if (heldBack >= 0) {
            log.warn("Skipping an unreadable event ({}): {}{}", LogText.of(e.getMessage(), 500), abbreviate(text),
                    LogInterval.heldBack(heldBack));
        }
        return Optional.empty();
    }

    /** Where a JSON value holds something jsonb cannot store, or null when it can all be stored. */
    static String unstorable(JsonNode node, String path, int depth) {
        var found = problem(node, depth);
        return found == null ? null : found.why() + " at " + path + String.join("", found.where());
    }

    /**
     * What jsonb cannot store in {@code node}, and where under it: the steps there are collected as the search comes
     * back up, so a path is spelt once, for the problem found. Spelt for every value on the way down (as it was), a
     * megabyte result with long keys above a long array cost a copy of the path per element, 20 s of the listener.
     */
    private static Found problem(JsonNode node, int depth) {
        if (node == null) {
            return null;
        }
        if (depth > MAX_DEPTH) {
            return new Found("it is nested deeper than " + MAX_DEPTH + " levels");
        }
        if (node.isString() && node.asString().indexOf('\0') >= 0) {
            return new Found("it holds a NUL character (\\u0000)");
        }
        // a DecimalNode's asDouble() throws beyond a double's range: only a double can be infinite
        if ((node.isDouble() || node.isFloat()) && !Double.isFinite(node.asDouble())) {
            return new Found("it holds a number that is not finite");
        }
        // read exactly, 1e-20000 is short text that jsonb would refuse, failing the update of the whole batch
        if (node.isBigDecimal() && !JsonNumbers.storable(node.decimalValue())
                || node.isBigInteger() && !JsonNumbers.storable(node.bigIntegerValue())) {
            return new Found("it holds a number longer than " + JsonNumbers.MAX_CHARS
                    + " characters written out in full");
        }
        if (node.isObject()) {
            for (var field : node.properties()) {
                if (field.getKey().indexOf('\0') >= 0) {
                    return new Found("it holds a NUL character (\\u0000) in a field name");
                }
                var inner = problem(field.getValue(), depth + 1);
                if (inner != null) {
                    inner.where().addFirst("." + field.getKey());
                    return inner;
                }
            }
        } else if (node.isArray()) {
            for (var i = 0; i < node.size(); i++) {
                var inner = problem(node.get(i), depth + 1);
                if (inner != null) {
                    inner.where().addFirst("[" + i + "]");
                    return inner;
                }
            }
        }
        return null;
    }

    /** Why a value cannot be stored, and the steps to it from where the search began. */
    private record Found(String why, ArrayDeque<String> where) {

        Found(String why) {
            this(why, new ArrayDeque<>());
        }
    }

    /**
     * A worker's id as the api stores it with an attempt (cut to 255 characters, NUL replaced), so that the ids its
     * heartbeats carry compare equal to it.
     */
    public static String workerId(String id) {
        return id == null ? null : clean(id, MAX_WORKER_ID);
    }

    /** Text as PostgreSQL can store it: NUL characters replaced, cut to {@code max} characters. */
    static String clean(String text, int max) {
        if (text == null) {
            return null;
        }
        var cut = text.length() > max ? text.substring(0, max) : text;
        return cut.indexOf('\0') >= 0 ? cut.replace('\0', '\uFFFD') : cut;
    }

    private static Instant instant(Instant at, Instant now) {
        if (at == null || at.isBefore(now.minus(CLOCK_SLACK)) || at.isAfter(now.plus(CLOCK_SLACK))) {
            return now;
        }
        return at;
    }

    private static double fraction(double fraction) {
        return Double.isNaN(fraction) ? 0 : Math.max(0, Math.min(1, fraction));
    }

    /** An event's text for a log line: anyone who can write to the topic chose it, line breaks and escapes too. */
    private static String abbreviate(String text) {
        return LogText.of(text, 300);
    }
}
