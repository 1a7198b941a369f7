package dev.conveyor.local.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.common.Json;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import tools.jackson.databind.JsonNode;

class TimelineTest {

    private static final Instant FIRST = Instant.parse("2026-12-05T10:00:00Z");

    @Test
    void countsEachJobsStepsFromTheFirstSubmitWithGapsLeftVisible() {
        var jobs = new ArrayList<JsonNode>();
        // 1,000 ms of run: steps of 50 ms (1,000 / 40 rounded up to 50)
        jobs.add(job(0, 10, 70, 120));
        jobs.add(job(0, 60, 110, 990));
        jobs.add(job(40, 420, null, 1_000)); // not started, say: no finishedAt

        var timeline = Timeline.of(FIRST, FIRST.plusMillis(1_000), jobs);

        assertThat(timeline.stepMillis()).isEqualTo(50);
        var counts = timeline.counts();
        assertThat(counts).hasNumberOfRows(21); // 0 to 1,000 ms
        assertThat(counts[0]).containsExactly(3, 1, 0, 0);
        assertThat(counts[1]).containsExactly(0, 1, 1, 0);
        assertThat(counts[2]).containsExactly(0, 0, 1, 1);
        assertThat(counts[8]).containsExactly(0, 1, 0, 0);
        assertThat(counts[5]).containsExactly(0, 0, 0, 0);
        assertThat(counts[19]).containsExactly(0, 0, 0, 1);
        assertThat(counts[20]).containsExactly(0, 0, 0, 1);
        var lines = timeline.render().lines().toList();
        assertThat(lines).hasSize(22);
        assertThat(lines.get(1)).contains("0 ms").contains("3 (      3)");
        assertThat(lines.getLast()).contains("1,000 ms").contains("1 (      3)");
    }

    @Test
    void keepsToAboutFortyStepsForLongRunsAndCountsEarlyStampsInTheFirst() {
        var jobs = List.of(job(-5, 100, 10_100, 12_345), job(0, 200, 10_200, 10_300));

        var timeline = Timeline.of(FIRST, FIRST.plusMillis(12_345), jobs);

        assertThat(timeline.stepMillis()).isEqualTo(350); // 12,345 / 40 = 308, up to 350
        assertThat(timeline.counts()).hasNumberOfRows(36);
        assertThat(timeline.counts()[0][0]).isEqualTo(2);
        var recorded = 0L;
        for (var row : timeline.counts()) {
            recorded += row[3];
        }
        assertThat(recorded).isEqualTo(2);
    }

    private static JsonNode job(long created, Integer started, Integer finished, int recorded) {
        return Json.tree("""
                {"createdAt": "%s", "startedAt": %s, "finishedAt": %s, "updatedAt": "%s"}"""
                .formatted(FIRST.plusMillis(created), stamp(started), stamp(finished), FIRST.plusMillis(recorded)));
    }

    private static String stamp(Integer millis) {
        return millis == null ? "null" : "\"" + FIRST.plusMillis(millis) + "\"";
    }
}
