package dev.conveyor.local.faults;

import static org.awaitility.Awaitility.await;

import dev.conveyor.common.Topics;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.assertj.core.api.SoftAssertions;
import tools.jackson.databind.JsonNode;

/** The hostile requests and forged Kafka records of the poison scenario, and how to tell the api read past them. */
final class Poison {

    private Poison() {
    }

    static void hostileRequests(SoftAssertions soft, List<String> apis) throws IOException {
        refused(soft, apis, "{\"type\":\"echo\",\"payload\":{\"s\":\"a\\u0000b\"}}", "payload");
        refused(soft, apis, "{\"type\":\"echo\",\"payload\":{\"a\\u0000\":1}}", "payload");
        refused(soft, apis, "{\"type\":\"ec\\u0000ho\"}", "type");
        refused(soft, apis, "{\"type\":\"echo\",\"idempotencyKey\":\"k\\u0000\"}", "idempotencyKey");
        refused(soft, apis, "{\"type\":\"echo\",\"runAt\":\"+300000-01-01T00:00:00Z\"}", "runAt");
        refused(soft, apis, "{\"type\":\"echo\",\"maxAttempts\":1e300}", "maxAttempts");
        refused(soft, apis, "{\"type\":\"echo\",\"timeoutSeconds\":99999999999999999999999}", "timeoutSeconds");
        refused(soft, apis, "{\"type\":\"echo\",\"delaySeconds\":9223372036854775807}", "delaySeconds");
        // A batch is all or nothing: one bad item, nothing stored (its good items' keys are still free).
        var items = new ArrayList<String>();
        for (var i = 0; i < 10; i++) {
            items.add(i == 3 ? "{\"type\":\"echo\",\"payload\":{\"s\":\"\\u0000\"}}"
                    : "{\"type\":\"echo\",\"idempotencyKey\":\"e-batch-" + i + "\"}");
        }
        var batch = Http.post(apis.getFirst(), "/v1/jobs/batch", "{\"jobs\":[" + String.join(",", items) + "]}",
                Duration.ofSeconds(10));
        soft.assertThat(batch.status()).as("a batch with NUL in item 3: %s", batch).isEqualTo(400);
        soft.assertThat(fields(batch)).as("fields named for a batch with NUL in item 3").anyMatch(f -> f.startsWith("jobs[3]"));
        for (var i = 0; i < 10; i++) {
            if (i != 3) {
                var again = Http.post(apis.getLast(), "/v1/jobs", "{\"type\":\"echo\",\"idempotencyKey\":\"e-batch-" + i
                        + "\"}", Duration.ofSeconds(10));
                soft.assertThat(again.status()).as("key e-batch-%d of the refused batch, used again: %s", i, again)
                        .isEqualTo(202);
            }
        }
        // A number beyond double: refused naming the payload, or stored and echoed faithfully.
        var huge = Http.post(apis.getFirst(), "/v1/jobs", "{\"type\":\"echo\",\"payload\":{\"n\":1e400}}",
                Duration.ofSeconds(10));
        if (huge.status() == 202) {
            var id = huge.json().get("id").asString();
            var job = Http.get(apis.getFirst(), "/v1/jobs/" + id + "?wait=30", Duration.ofSeconds(40)).json();
            soft.assertThat(job.get("status").asString() + " " + job.get("result"))
                    .as("the job whose payload holds 1e400").startsWith("SUCCEEDED");
        } else {
            soft.assertThat(huge.status()).as("payload 1e400: %s", huge).isEqualTo(400);
            soft.assertThat(fields(huge)).as("fields named for payload 1e400").anyMatch(f -> f.startsWith("payload"));
        }
    }

    private static void refused(SoftAssertions soft, List<String> apis, String body, String field) throws IOException {
        var answer = Http.post(apis.getFirst(), "/v1/jobs", body, Duration.ofSeconds(10));
        soft.assertThat(answer.status()).as("%s → %s", body, answer).isEqualTo(400);
        soft.assertThat(answer.isProblem()).as("%s answered with a problem document: %s", body, answer).isTrue();
        soft.assertThat(fields(answer)).as("fields named for %s (%s)", body, answer).anyMatch(f -> f.startsWith(field));
    }

    private static List<String> fields(Http.Answer answer) {
        var fields = new ArrayList<String>();
        try {
            var json = answer.json();
            if (json != null && json.has("errors")) {
                json.get("errors").forEach(e -> fields.add(e.path("field").asString("")));
            }
        } catch (RuntimeException e) {
            // not JSON: no fields
        }
        return fields;
    }

    static boolean endedCleanly(JsonNode job, String realResult) {
        var status = job.get("status").asString();
        if (status.equals("SUCCEEDED")) {
            return job.get("result").toString().equals(realResult);
        }
        return status.equals("FAILED") && !job.path("error").path("code").asString("").isEmpty()
                && !job.path("error").path("message").asString("").isEmpty();
    }

    static String dispatch(UUID id, String type, String payload, String now) {
        return "{\"v\":1,\"jobId\":\"" + id + "\",\"type\":\"" + type + "\",\"queue\":\"default\",\"attempt\":1,"
                + "\"maxAttempts\":1,\"timeoutSeconds\":30,\"payload\":" + payload + ",\"dispatchedAt\":\"" + now
                + "\",\"generation\":0}";
    }

    static String finished(UUID id, String worker, String outcome, String result, String error,
            String retryAfterMs, String now) {
        return "{\"event\":\"finished\",\"v\":1,\"jobId\":\"" + id + "\",\"attempt\":1,\"maxAttempts\":3,\"workerId\":\""
                + worker + "\",\"outcome\":\"" + outcome + "\",\"result\":" + result + ",\"error\":" + error
                + ",\"retryAfterMs\":" + retryAfterMs + ",\"at\":\"" + now + "\"}";
    }

    static void send(KafkaProducer<String, byte[]> producer, String topic, String key, String value) {
        send(producer, topic, key, value.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    static void send(KafkaProducer<String, byte[]> producer, String topic, String key, byte[] value) {
        try {
            producer.send(new ProducerRecord<>(topic, key, value)).get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            throw new IllegalStateException("cannot produce to " + topic + ": " + e, e);
        }
    }

    /** How many events the api's consumer group has not committed past, once it had {@code atMost} to catch up. */
    static long eventsLag(String bootstrapServers, Duration atMost) {
        try (var admin = Admin.create(Map.of("bootstrap.servers", bootstrapServers))) {
            var lag = new long[] {-1};
            try {
                await("the api reads past every event").atMost(atMost).pollInterval(Duration.ofMillis(500)).until(() -> {
                    var committed = admin.listConsumerGroupOffsets(Topics.API_EVENTS_GROUP).partitionsToOffsetAndMetadata()
                            .get(10, TimeUnit.SECONDS);
                    var partitions = committed.keySet().stream().filter(tp -> tp.topic().equals(Topics.EVENTS))
                            .collect(Collectors.toMap(tp -> tp, tp -> OffsetSpec.latest()));
                    var ends = admin.listOffsets(partitions).all().get(10, TimeUnit.SECONDS);
                    lag[0] = 0;
                    ends.forEach((tp, end) -> lag[0] += end.offset() - committed.get(tp).offset());
                    return lag[0] == 0;
                });
            } catch (org.awaitility.core.ConditionTimeoutException e) {
                // the lag says how far behind
            }
            return lag[0];
        }
    }
}
