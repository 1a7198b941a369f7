package dev.conveyor.worker;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.common.Json;
import dev.conveyor.common.handler.JobContext;
import dev.conveyor.common.handler.JobHandler;
import java.util.ArrayList;
import java.util.List;
import tools.jackson.databind.JsonNode;

/** A job type that only some workers of a queue have: the tests of jobs given back for want of a handler. */
final class Greetings {

    /** Answers {@code {"hello": name}}. */
    static final JobHandler HANDLER = new JobHandler() {
        @Override
        public String type() {
            return "greet";
        }

        @Override
        public JsonNode handle(JobContext context) {
            return Json.tree("{\"hello\": \"" + context.payload().get("name").asString() + "\"}");
        }
    };

    private Greetings() {
    }

    /** Submits {@code count} greet jobs to {@code queue} in one batch, with maxAttempts 1; answers their ids. */
    static List<String> submit(RunningSystem system, String queue, int count) {
        var jobs = new StringBuilder();
        for (var i = 0; i < count; i++) {
            jobs.append(i == 0 ? "" : ",").append("{\"type\": \"greet\", \"queue\": \"" + queue
                    + "\", \"maxAttempts\": 1, \"payload\": {\"name\": \"n" + i + "\"}}");
        }
        var response = system.http().post("/v1/jobs/batch", "{\"jobs\": [" + jobs + "]}");
        assertThat(response.status()).as(response.text()).isEqualTo(202);
        var ids = new ArrayList<String>();
        response.json().get("jobs").forEach(job -> ids.add(job.get("id").asString()));
        return ids;
    }
}
