package dev.conveyor.client;

/**
 * Filters for listing jobs (each optional, exact match) and the page size, 1 to 500:
 * {@code JobQuery.all().status(JobStatus.FAILED).queue("emails")}.
 */
public record JobQuery(JobStatus status, String queue, String type, int pageSize) {

    public JobQuery {
        if (pageSize < 1 || pageSize > 500) {
            throw new IllegalArgumentException("pageSize must be from 1 to 500, not " + pageSize);
        }
    }

    /** Every job, 100 per page. */
    public static JobQuery all() {
        return new JobQuery(null, null, null, 100);
    }

    public JobQuery status(JobStatus status) {
        return new JobQuery(status, queue, type, pageSize);
    }

    public JobQuery queue(String queue) {
        return new JobQuery(status, queue, type, pageSize);
    }

    public JobQuery type(String type) {
        return new JobQuery(status, queue, type, pageSize);
    }

    public JobQuery pageSize(int pageSize) {
        return new JobQuery(status, queue, type, pageSize);
    }
}
