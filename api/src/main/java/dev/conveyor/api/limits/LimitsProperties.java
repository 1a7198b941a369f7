package dev.conveyor.api.limits;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * What one API key or tenant may take of the api, under {@code conveyor.api.limits}. A request over a limit gets a
 * 429 problem with {@code Retry-After}, and nothing is stored. 0 turns a limit off. (Body and payload sizes are
 * {@code conveyor.api.max-payload-bytes} and {@code max-batch-body-bytes}: 413.)
 *
 * @param submitRate      jobs per second one key may submit, on average (a batch counts each of its jobs)
 * @param submitBurst     jobs one key may submit at once after a quiet while (the bucket's size)
 * @param longPollsPerKey {@code GET /v1/jobs/{id}?wait=} requests one key may have open at once, per api instance
 * @param longPolls       {@code GET /v1/jobs/{id}?wait=} requests open at once on an api instance, whatever their key
 *                        (and without keys): each holds one of the web server's connections
 *                        ({@code server.tomcat.max-connections}) for up to a minute, so that many less than it are
 *                        left for the other requests, the health probes among them
 * @param queuedPerTenant jobs one tenant may have waiting (SCHEDULED or QUEUED); checked against counts at most a
 *                        second old, so it can be passed by about a second's submissions
 * @param listsPerKey     {@code GET /v1/jobs} listings one key may have under way at once, per api instance: each holds
 *                        one of the api's database connections while it runs, and a filter its indexes serve badly
 *                        (a rare type among a tenant's many jobs) can take seconds
 * @param tenantBodyShare the percentage of the memory for large request bodies (over 64 KiB, from
 *                        {@code conveyor.api.body-memory-bytes}) that one tenant's bodies may hold at once, per api
 *                        instance, so that one tenant sending large bodies slowly cannot keep every other tenant's
 *                        large submissions waiting; a tenant holding nothing may always send one body
 */
@ConfigurationProperties("conveyor.api.limits")
public record LimitsProperties(
        @DefaultValue("10000") double submitRate,
        @DefaultValue("20000") int submitBurst,
        @DefaultValue("1000") int longPollsPerKey,
        @DefaultValue("1000000") long queuedPerTenant,
        @DefaultValue("4") int listsPerKey,
        @DefaultValue("50") int tenantBodyShare,
        @DefaultValue("6000") int longPolls) {

    /** Tomcat's {@code server.tomcat.max-connections} unless configured otherwise. */
    public static final int DEFAULT_MAX_CONNECTIONS = 8192;

    public LimitsProperties {
        if (!Double.isFinite(submitRate)) {
            // NaN turned the limit off unnoticed, and Infinity made the bucket's arithmetic NaN
            throw new IllegalArgumentException("conveyor.api.limits.submit-rate must be a number of jobs per second "
                    + "(0 turns the limit off)");
        }
        if (submitRate < 0 || submitBurst < 0 || longPollsPerKey < 0 || queuedPerTenant < 0 || listsPerKey < 0
                || tenantBodyShare < 0 || longPolls < 0) {
            throw new IllegalArgumentException("conveyor.api.limits.* must not be negative (0 turns a limit off)");
        }
        if (tenantBodyShare > 100) {
            throw new IllegalArgumentException("conveyor.api.limits.tenant-body-share is a percentage: 1 to 100 "
                    + "(0 or 100 turn the limit off)");
        }
        if (submitRate > 0 && submitBurst < 1000) {
            throw new IllegalArgumentException("conveyor.api.limits.submit-burst must be at least 1000 (a batch of "
                    + "1000 jobs must fit) when submit-rate is set");
        }
    }

    /**
     * Checks {@code long-polls} against the web server's connections: with as many long-polls open as it has, no other
     * request (a submission, a health probe) would be answered until one of them ends. {@code maxConnections} below 0
     * is no bound (Tomcat's -1); so is a {@code long-polls} of 0, the limit turned off.
     */
    public void requireRoomBeside(int maxConnections) {
        if (longPolls > 0 && maxConnections >= 0 && longPolls >= maxConnections) {
            throw new IllegalArgumentException("conveyor.api.limits.long-polls (" + longPolls + ") must be less than "
                    + "server.tomcat.max-connections (" + maxConnections + "): every open long-poll holds a "
                    + "connection, and the other requests, health probes among them, need some left. Lower it, or "
                    + "raise server.tomcat.max-connections with it");
        }
    }
}
