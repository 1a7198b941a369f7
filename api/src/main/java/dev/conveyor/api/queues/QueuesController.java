package dev.conveyor.api.queues;

import dev.conveyor.api.auth.RequiresScope;
import dev.conveyor.api.auth.Scope;
import java.util.List;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/** {@code GET /v1/queues}: cheap enough to poll every second, whatever the number of jobs. */
@RestController
@RequiresScope(Scope.ADMIN)
class QueuesController {

    private final QueueCounts counts;

    QueuesController(QueueCounts counts) {
        this.counts = counts;
    }

    @GetMapping("/v1/queues")
    Queues queues() {
        return new Queues(counts.all());
    }

    /** The answer's shape: {@code {"queues": [...]}}. */
    record Queues(List<QueueStats> queues) {
    }
}
