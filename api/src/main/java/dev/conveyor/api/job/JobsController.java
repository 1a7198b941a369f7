package dev.conveyor.api.job;

import dev.conveyor.api.auth.ApiKeys;
import dev.conveyor.api.auth.Caller;
import dev.conveyor.api.auth.RequiresScope;
import dev.conveyor.api.auth.Scope;
import dev.conveyor.api.limits.Limits;
import dev.conveyor.api.wakeup.JobWaiters;
import dev.conveyor.api.web.ApiException;
import dev.conveyor.api.web.FieldError;
import dev.conveyor.api.web.JsonAnswers;
import dev.conveyor.api.web.PathIds;
import dev.conveyor.common.JobStatus;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.UUID;
import java.util.regex.Pattern;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

/** {@code GET /v1/jobs/{id}} (with long-polling) and {@code GET /v1/jobs}. */
@RestController
class JobsController {

    private static final int MAX_WAIT_SECONDS = 60;
    /** {@code wait}: seconds as decimal digits, with a fraction or not ({@code 30}, {@code 2.5}). */
    private static final Pattern WAIT = Pattern.compile("[0-9]{1,9}(\\.[0-9]{1,9})?");
    private static final int MAX_LIMIT = 500;

    private final JobRepository jobs;
    private final JobWaiters waiters;
    private final Limits limits;
    private final JsonAnswers answers;
    private final ApiKeys keys;

    JobsController(JobRepository jobs, JobWaiters waiters, Limits limits, JsonAnswers answers, ApiKeys keys) {
        this.answers = answers;
        this.keys = keys;
        this.jobs = jobs;
        this.waiters = waiters;
        this.limits = limits;
    }

    @GetMapping("/v1/jobs/{id}")
    @RequiresScope(Scope.JOBS_READ)
    void get(@PathVariable String id, @RequestParam(required = false) String wait,
            @RequestParam(required = false) String view, Caller caller, HttpServletRequest request,
            HttpServletResponse response) throws InterruptedException, IOException {
        var jobId = PathIds.jobId(id);
        once(request, "wait", "view");
        var errors = new ArrayList<FieldError>();
        var waitFor = waitDuration(wait, errors);
        var summary = summary(view, errors);
        if (!errors.isEmpty()) {
            throw ApiException.invalid(errors);
        }
        Job job;
        if (!waitFor.isPositive()) {
            job = find(jobId, caller, summary);
        } else {
            try (var permit = limits.longPoll(caller)) {
                job = await(jobId, caller, Instant.now().plus(waitFor), summary);
            }
            // revoked while it waited: what the job became is no longer this key's to see
            keys.requireStillActive(caller, response);
            if (waiters.closing()) {
                // answered early because this instance is stopping: the client's next poll goes to another one
                response.setHeader(HttpHeaders.CONNECTION, "close");
            }
        }
        answers.write(response, HttpStatus.OK, summary ? JobSummary.of(job) : job);
    }

    /** Another tenant's job is answered as one that does not exist. */
    private Job find(UUID jobId, Caller caller, boolean summary) {
        return jobs.find(jobId, caller.visibleTenant(), summary)
                .orElseThrow(() -> ApiException.notFound("No job " + jobId));
    }

    /** The job once it has ended, or as it stands at the deadline or when this instance begins to shut down. */
    private Job await(UUID jobId, Caller caller, Instant deadline, boolean summary) throws InterruptedException {
        while (true) {
            try (var registration = waiters.register(jobId)) {
                var left = Duration.between(Instant.now(), deadline);
                if (left.isPositive() && !waiters.closing() && waiters.knownUnended(jobId, caller.visibleTenant())) {
                    // submitted here and not ended since: nothing to read yet
                    var handed = awaitHanded(registration, left, caller);
                    if (handed != null) {
                        return handed;
                    }
                    continue;
                }
                var job = find(jobId, caller, summary);
                left = Duration.between(Instant.now(), deadline);
                if (job.status().isTerminal() || !left.isPositive() || waiters.closing()) {
                    return job;
                }
                var handed = awaitHanded(registration, left, caller);
                if (handed != null) {
                    return handed;
                }
            }
        }
    }

    /**
     * Waits for the job's wake-up; answers the ended job when the transaction that ended it handed it over (then it
     * need not be read), else null.
     */
    private static Job awaitHanded(JobWaiters.Registration registration, Duration left, Caller caller)
            throws InterruptedException {
        return registration.await(left) ? registration.handed(caller.visibleTenant()) : null;
    }

    /**
     * Written by {@link JsonAnswers}, as the other job endpoints are: through Spring MVC's content negotiation,
     * {@code Accept: application/yaml} chose the YAML converter, which cannot write the payloads as PostgreSQL wrote
     * them (a 500), and {@code Accept: text/html} made a 406.
     */
    @GetMapping("/v1/jobs")
    @RequiresScope(Scope.JOBS_READ)
    void list(Caller caller, @RequestParam(required = false) String status,
            @RequestParam(required = false) String queue, @RequestParam(required = false) String type,
            @RequestParam(required = false) String limit, @RequestParam(required = false) String after,
            @RequestParam(required = false) String view, HttpServletRequest request, HttpServletResponse response)
            throws IOException {
        once(request, "status", "queue", "type", "limit", "after", "view");
        var errors = new ArrayList<FieldError>();
        var filter = new JobRepository.JobFilter(caller.visibleTenant(), status(status, errors), text("queue", queue, errors),
                text("type", type, errors));
        var size = limit(limit, errors);
        var cursor = cursor(after, errors);
        var summary = summary(view, errors);
        if (!errors.isEmpty()) {
            throw ApiException.invalid(errors);
        }
        JobRepository.Page page;
        try (var permit = limits.listing(caller)) {
            page = jobs.list(filter, cursor, size + 1, summary);
        }
        var more = page.jobs().size() > size || page.cut();
        var shown = page.jobs().size() > size ? page.jobs().subList(0, size) : page.jobs();
        var answer = new LinkedHashMap<String, Object>();
        answer.put("jobs", summary ? shown.stream().map(JobSummary::of).toList() : shown);
        answer.put("next", more ? encodeCursor(shown.getLast().id()) : null);
        answers.write(response, HttpStatus.OK, answer);
    }

    /**
     * A 400 naming each parameter given more than once. Spring MVC joined their values with commas: {@code queue=a&
     * queue=b}, as a client asking for jobs of either might send it, filtered on the queue "a,b", which no queue is,
     * and answered an empty list as if neither had jobs.
     */
    private static void once(HttpServletRequest request, String... names) {
        var errors = new ArrayList<FieldError>();
        for (var name : names) {
            var values = request.getParameterValues(name);
            if (values != null && values.length > 1) {
                errors.add(new FieldError(name, "is given " + values.length + " times; give it at most once"));
            }
        }
        if (!errors.isEmpty()) {
            throw ApiException.invalid(errors);
        }
    }

    private static Duration waitDuration(String wait, ArrayList<FieldError> errors) {
        if (wait == null || wait.isEmpty()) {
            return Duration.ZERO;
        }
        // Decimal digits only: Double.parseDouble also read "1e1", " 1", "1d", "0x1p3" and "Infinity"
        if (WAIT.matcher(wait).matches()) {
            var seconds = Double.parseDouble(wait);
            if (seconds <= MAX_WAIT_SECONDS) {
                return Duration.ofMillis(Math.round(seconds * 1000));
            }
        }
        errors.add(new FieldError("wait", "must be a number of seconds from 0 to " + MAX_WAIT_SECONDS));
        return Duration.ZERO;
    }

    private static JobStatus status(String status, ArrayList<FieldError> errors) {
        if (status == null) {
            return null;
        }
        try {
            return JobStatus.valueOf(status);
        } catch (IllegalArgumentException e) {
            errors.add(new FieldError("status", "must be one of SCHEDULED, QUEUED, RUNNING, SUCCEEDED, FAILED, "
                    + "CANCELLED"));
            return null;
        }
    }

    /**
     * An exact-match filter; PostgreSQL cannot compare text holding a NUL character (a 500 otherwise). An empty one
     * matched nothing (no queue or type is empty), where a client most likely meant no filter: a 400, as for
     * {@code status=}.
     */
    private static String text(String name, String value, ArrayList<FieldError> errors) {
        if (value != null && value.isEmpty()) {
            errors.add(new FieldError(name, "must not be empty (leave it out to list every " + name + ")"));
            return null;
        }
        if (value != null && value.indexOf('\u0000') >= 0) {
            errors.add(new FieldError(name, "must not contain the NUL character (%00)"));
            return null;
        }
        return value;
    }

    private static int limit(String limit, ArrayList<FieldError> errors) {
        if (limit == null) {
            return 50;
        }
        // ASCII digits only: Integer.parseInt also takes a sign and other scripts' digits (+5, \u0663)
        if (!limit.isEmpty() && limit.length() <= 9 && limit.chars().allMatch(c -> c >= '0' && c <= '9')) {
            var value = Integer.parseInt(limit);
            if (value >= 1 && value <= MAX_LIMIT) {
                return value;
            }
        }
        errors.add(new FieldError("limit", "must be an integer from 1 to " + MAX_LIMIT));
        return 0;
    }

    /**
     * {@code view}: {@code full} (the default) or {@code summary}, the jobs without payloads and results: a list that
     * shows neither (the dashboard's, refreshed every 2 s) otherwise downloaded them whole, up to a page's 8 MiB, and
     * the dashboard's page of one job downloaded its payload and result again every 1.5 s to learn whether it changed.
     */
    private static boolean summary(String view, ArrayList<FieldError> errors) {
        if (view == null || view.equals("full")) {
            return false;
        }
        if (view.equals("summary")) {
            return true;
        }
        errors.add(new FieldError("view", "must be full or summary"));
        return false;
    }

    private static UUID cursor(String after, ArrayList<FieldError> errors) {
        if (after == null) {
            return null;
        }
        UUID last = null;
        try {
            last = PathIds.uuid(new String(Base64.getUrlDecoder().decode(after), StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            // reported below
        }
        if (last == null) {
            errors.add(new FieldError("after", "is not a cursor this api gave out (use the 'next' of a page)"));
        }
        return last;
    }

    private static String encodeCursor(UUID last) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(last.toString().getBytes(StandardCharsets.UTF_8));
    }
}
