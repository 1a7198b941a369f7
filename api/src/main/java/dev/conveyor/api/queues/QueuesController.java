package dev.conveyor.api.queues;

import dev.conveyor.api.auth.RequiresScope;
import dev.conveyor.api.auth.Scope;
import dev.conveyor.api.web.JsonAnswers;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.List;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/** {@code GET /v1/queues}: cheap enough to poll every second, whatever the number of jobs. */
@RestController
@RequiresScope(Scope.ADMIN)
class QueuesController {

    private final QueueCounts counts;
    private final JsonAnswers answers;

    QueuesController(QueueCounts counts, JsonAnswers answers) {
        this.counts = counts;
        this.answers = answers;
    }

    /** JSON whatever the request accepts ({@link JsonAnswers}): Spring MVC answered YAML when asked. */
    @GetMapping("/v1/queues")
    void queues(HttpServletResponse response) throws IOException {
        answers.write(response, HttpStatus.OK, new Queues(counts.all()));
    }

    /** The answer's shape: {@code {"queues": [...]}}. */
    record Queues(List<QueueStats> queues) {
    }
}
