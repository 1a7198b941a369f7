package dev.conveyor.api.manage;

import dev.conveyor.api.auth.Caller;
import dev.conveyor.api.auth.RequiresScope;
import dev.conveyor.api.auth.Scope;
import dev.conveyor.api.dispatch.Backlog;
import dev.conveyor.api.dispatch.Dispatcher;
import dev.conveyor.api.dispatch.TenantWindows;
import dev.conveyor.api.job.JobRepository;
import dev.conveyor.api.limits.Limits;
import dev.conveyor.api.metrics.JobMetrics;
import dev.conveyor.api.wakeup.JobNotifications;
import dev.conveyor.api.web.ApiException;
import dev.conveyor.api.web.JsonAnswers;
import dev.conveyor.api.web.PathIds;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.List;
import java.util.UUID;
import org.springframework.http.HttpStatus;
import org.springframework.transaction.support.TransactionTemplate;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RestController;

/** {@code POST /v1/jobs/{id}/cancel} and {@code POST /v1/jobs/{id}/retry}. */
@RestController
class ManageController {

    private final JobCommands commands;
    private final JobRepository jobs;
    private final ControlPublisher control;
    private final Dispatcher dispatcher;
    private final JobNotifications notifications;
    private final TransactionTemplate transaction;
    private final JobMetrics jobMetrics;
    private final TenantWindows windows;
    private final Backlog backlog;
    private final JsonAnswers answers;
    private final Limits limits;

    ManageController(JobCommands commands, JobRepository jobs, ControlPublisher control, Dispatcher dispatcher,
            JobNotifications notifications, TransactionTemplate transaction, JobMetrics jobMetrics,
            TenantWindows windows, Backlog backlog, JsonAnswers answers, Limits limits) {
        this.limits = limits;
        this.answers = answers;
        this.windows = windows;
        this.backlog = backlog;
        this.commands = commands;
        this.jobs = jobs;
        this.control = control;
        this.dispatcher = dispatcher;
        this.notifications = notifications;
        this.transaction = transaction;
        this.jobMetrics = jobMetrics;
    }

    @PostMapping("/v1/jobs/{id}/cancel")
    @RequiresScope(Scope.JOBS_WRITE)
    void cancel(@PathVariable String id, Caller caller, HttpServletResponse response) throws IOException {
        var jobId = PathIds.jobId(id);
        var tenant = caller.visibleTenant();
        var changed = transaction.execute(status -> commands.cancel(jobId, tenant).map(c -> {
            if (c.job().status().isTerminal()) {
                notifications.notifyEnded(List.of(jobId));
            }
            control.record(jobId, c.generation());
            return c;
        })).orElseThrow(() -> refusal(jobId, tenant, "cancelled"));
        if (changed.job().status().isTerminal()) {
            var job = changed.job();
            jobMetrics.ended(job.queue(), job.type(), job.status(), job.createdAt(), job.finishedAt());
            // kept here past its window: never published (the NOTIFY drops it from other instances' backlogs)
            backlog.ended(List.of(jobId));
        }
        // Even a job cancelled at once may have its record on Kafka already: the workers must skip it. Recorded with
        // the cancel, so that it is sent again if this process dies here or Kafka does not take it.
        control.send(jobId, changed.generation());
        answers.write(response, HttpStatus.ACCEPTED, changed.job());
    }

    @PostMapping("/v1/jobs/{id}/retry")
    @RequiresScope(Scope.JOBS_WRITE)
    void retry(@PathVariable String id, Caller caller, HttpServletResponse response) throws IOException {
        var jobId = PathIds.jobId(id);
        var tenant = caller.visibleTenant();
        // A retried job waits again, and counts against its tenant's queued-per-tenant like a submission. The limit is
        // checked once the job is known to be retryable (a 404 or 409 comes first), under its row lock and before it
        // is counted as waiting.
        var changed = transaction.execute(status -> commands.lockRetryable(jobId, tenant).flatMap(jobTenant -> {
            limits.retrying(jobTenant);
            return commands.retry(jobId, tenant);
        })).orElseThrow(() -> refusal(jobId, tenant, "retried"));
        var job = changed.job();
        windows.take(job.id(), job.queue(), changed.tenant());
        dispatcher.publish(List.of(Dispatcher.Item.of(job, changed.tenant(), changed.generation())));
        answers.write(response, HttpStatus.ACCEPTED, job);
    }

    /** Why the change was not made: no such job (for this tenant), or one in a state that does not allow it. */
    private ApiException refusal(UUID id, String tenant, String what) {
        var job = jobs.find(id, tenant).orElseThrow(() -> ApiException.notFound("No job " + id));
        var allowed = what.equals("retried") ? "FAILED or CANCELLED" : "SCHEDULED, QUEUED or RUNNING";
        return ApiException.conflict("invalid-state", "Job cannot be " + what,
                "Job " + id + " is " + job.status() + "; only a " + allowed + " job can be " + what);
    }
}
