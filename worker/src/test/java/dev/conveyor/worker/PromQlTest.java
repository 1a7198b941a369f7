package dev.conveyor.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class PromQlTest {

    @Test
    void findsTheMetricsOfAnExpressionAndNotItsFunctionsLabelsOrKeywords() {
        assertThat(PromQl.metricNames("histogram_quantile(0.95, sum by (le, queue) "
                + "(rate(conveyor_jobs_queue_wait_seconds_bucket{queue=~\"$queue\", status!=\"x y\"}"
                + "[$__rate_interval])))"))
                .containsExactly("conveyor_jobs_queue_wait_seconds_bucket");
        assertThat(PromQl.metricNames("max(a_total) / on (queue) group_left sum without (type) (b) > bool 3"))
                .containsExactly("a_total", "b");
    }

    @Test
    void findsTheLabelsAnExpressionMatchesOnAndGroupsBy() {
        assertThat(PromQl.labels("histogram_quantile(0.95, sum by (le, queue) "
                + "(rate(conveyor_jobs_queue_wait_seconds_bucket{queue=~\"$queue\", status!=\"x, y=z\"}"
                + "[$__rate_interval])))"))
                .containsOnlyKeys("conveyor_jobs_queue_wait_seconds_bucket")
                .containsEntry("conveyor_jobs_queue_wait_seconds_bucket", java.util.Set.of("queue", "status", "le"));
        assertThat(PromQl.labels("sum by (instance) (conveyor_worker_handlers_stuck)"))
                .containsEntry("conveyor_worker_handlers_stuck", java.util.Set.of("instance"));
    }

    @Test
    void refusesUnbalancedBracketsAndUnknownVariables() {
        assertThatThrownBy(() -> PromQl.metricNames("max(conveyor_events_lag")).hasMessageContaining("unbalanced");
        assertThatThrownBy(() -> PromQl.metricNames("max(conveyor_events_lag{x=\"$other\"})"))
                .hasMessageContaining("unknown variable");
    }
}
