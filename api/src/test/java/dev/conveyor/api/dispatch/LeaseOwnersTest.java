package dev.conveyor.api.dispatch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.ApiTest;
import dev.conveyor.api.ApiTests;
import dev.conveyor.common.test.HttpJson;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.core.env.Environment;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

/**
 * A dispatch lease ends with its owner: jobs another api instance accepted (or took) and died before publishing are
 * published at once, not when the lease runs out. Jobs a live instance holds are left to it.
 */
@ApiTest
class LeaseOwnersTest {

    @DynamicPropertySource
    static void services(DynamicPropertyRegistry registry) {
        ApiTests.services(registry);
    }

    @LocalServerPort
    int port;
    @Autowired
    JdbcClient jdbc;
    @Autowired
    Environment environment;
    @Autowired
    LeaseReleases releases;
    @Autowired
    ApiInstance instance;

    HttpJson http;

    @BeforeEach
    void client() {
        http = ApiTests.client(port);
    }

    /** A submitted job, made to look as if {@code owner} had taken it for an hour and not published it yet. */
    private UUID leasedBy(long owner) {
        var id = UUID.fromString(http.post("/v1/jobs", "{\"type\": \"echo\", \"delaySeconds\": 3600}").json()
                .get("id").asString());
        jdbc.sql("""
                UPDATE jobs SET status = 'QUEUED', run_at = now(), dispatched_at = NULL,
                    dispatch_lease_until = now() + interval '1 hour', dispatch_owner = :owner
                WHERE id = :id""").param("owner", owner).param("id", id).update();
        return id;
    }

    private boolean dispatched(UUID id) {
        return jdbc.sql("SELECT dispatched_at IS NOT NULL FROM jobs WHERE id = :id").param("id", id)
                .query(Boolean.class).single();
    }

    @Test
    void aJobLeasedByAnInstanceThatIsGoneIsPublishedAtOnce() {
        var id = leasedBy(4242L); // nobody holds this id's lock: its instance died

        await().atMost(Duration.ofSeconds(10)).until(() -> dispatched(id));
    }

    @Test
    void aJobLeasedByALiveInstanceWaitsForItsLease() throws Exception {
        var owner = 777_777L;
        try (var other = holdLock(owner)) {
            var held = leasedBy(owner);
            var marker = leasedBy(4243L);

            await().atMost(Duration.ofSeconds(10)).until(() -> dispatched(marker));
            assertThat(dispatched(held)).as("leased by an instance that still runs").isFalse();
        }
    }

    @Test
    void aLeaseGivenUpAfterAFailedPublishIsTakenAgainAtOnce() throws Exception {
        var otherInstance = 777_778L;
        try (var other = holdLock(otherInstance)) {
            var mine = leasedBy(instance.id());
            var others = leasedBy(otherInstance);

            // the first attempt of generation 0 of each, as the dispatcher published it
            releases.release(new Dispatcher.Item(mine, "default", "echo", "default", 0, 3, 300, null, 0));
            releases.release(new Dispatcher.Item(others, "default", "echo", "default", 0, 3, 300, null, 0));

            await().atMost(Duration.ofSeconds(10)).until(() -> dispatched(mine));
            assertThat(jdbc.sql("SELECT dispatch_lease_until > now() FROM jobs WHERE id = :id").param("id", others)
                    .query(Boolean.class).single()).as("another instance's lease is not this one's to give up")
                    .isTrue();
        }
    }

    /** A connection holding the advisory lock of an api instance {@code id}, as a live instance does. */
    private java.sql.Connection holdLock(long id) throws java.sql.SQLException {
        var connection = DriverManager.getConnection(environment.getProperty("spring.datasource.url"),
                environment.getProperty("spring.datasource.username"),
                environment.getProperty("spring.datasource.password"));
        try (var lock = connection.prepareStatement("SELECT pg_advisory_lock(?)")) {
            lock.setLong(1, id);
            lock.execute();
        }
        return connection;
    }
}
