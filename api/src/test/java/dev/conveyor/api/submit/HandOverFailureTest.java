package dev.conveyor.api.submit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.anyList;
import static org.mockito.Mockito.doThrow;

import dev.conveyor.api.ApiTest;
import dev.conveyor.api.ApiTests;
import dev.conveyor.api.auth.Caller;
import dev.conveyor.api.dispatch.Dispatcher;
import dev.conveyor.api.dispatch.TenantWindows;
import dev.conveyor.common.test.HttpJson;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.RejectedExecutionException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;
import org.springframework.test.context.bean.override.mockito.MockitoSpyBean;

/**
 * Once its jobs are committed, a submission is answered as stored, whatever fails on their way to Kafka after that:
 * a 500 there would invite a client to send the same jobs again. The jobs stay stored with this instance's lease (the
 * poller publishes them when it ends), and the window slots they reserved are free again.
 */
@ApiTest
class HandOverFailureTest {

    private static final int WINDOW = 3;

    @DynamicPropertySource
    static void services(DynamicPropertyRegistry registry) {
        ApiTests.services(registry);
        registry.add("conveyor.api.queues", () -> "handover-batch,handover-single");
        registry.add("conveyor.api.dispatch.tenant-window", () -> Integer.toString(WINDOW));
    }

    @LocalServerPort
    int port;
    @Autowired
    JdbcClient jdbc;
    @Autowired
    TenantWindows windows;
    @MockitoSpyBean
    Dispatcher dispatcher;

    HttpJson http;

    @BeforeEach
    void dispatcherRefusesWork() {
        http = ApiTests.client(port);
        // what Dispatcher.publish does once its executor is shut down (the api stopping under a late request)
        doThrow(new RejectedExecutionException("the dispatcher has stopped")).when(dispatcher).publish(anyList());
    }

    @Test
    void aBatchStoredButNotHandedToKafkaIsStillAcceptedAndItsSlotsAreFree() {
        var queue = "handover-batch";
        var response = http.post("/v1/jobs/batch", """
                {"jobs": [{"type": "echo", "queue": "%1$s"}, {"type": "echo", "queue": "%1$s"},
                          {"type": "echo", "queue": "%1$s"}]}""".formatted(queue));

        assertThat(response.status()).as(response.text()).isEqualTo(202);
        var ids = new ArrayList<UUID>();
        response.json().get("jobs").forEach(job -> ids.add(UUID.fromString(job.get("id").asString())));
        assertThat(ids).hasSize(WINDOW);
        assertStoredForThePoller(ids);
        assertWholeWindowFree(queue);
    }

    @Test
    void aSingleSubmissionStoredButNotHandedToKafkaIsStillAcceptedAndItsSlotIsFree() {
        var queue = "handover-single";
        var response = http.post("/v1/jobs", "{\"type\": \"echo\", \"queue\": \"" + queue + "\"}");

        assertThat(response.status()).as(response.text()).isEqualTo(202);
        assertStoredForThePoller(List.of(UUID.fromString(response.json().get("id").asString())));
        assertWholeWindowFree(queue);
    }

    /** Every job is stored, queued, and leased by this instance (which would have published it). */
    private void assertStoredForThePoller(List<UUID> ids) {
        var rows = jdbc.sql("""
                        SELECT status FROM jobs
                        WHERE id = ANY(:ids) AND dispatch_lease_until > now() AND dispatch_owner IS NOT NULL""")
                .param("ids", ids.toArray(UUID[]::new))
                .query(String.class).list();
        assertThat(rows).hasSize(ids.size()).containsOnly("QUEUED");
    }

    private void assertWholeWindowFree(String queue) {
        assertThat(windows.reserve(queue, Caller.DEFAULT_TENANT, WINDOW)).as("slots given back").isEqualTo(WINDOW);
        windows.unreserve(queue, Caller.DEFAULT_TENANT, WINDOW);
    }
}
