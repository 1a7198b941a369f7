package dev.conveyor.api.workers;

import dev.conveyor.api.auth.RequiresScope;
import dev.conveyor.api.auth.Scope;
import dev.conveyor.api.web.JsonAnswers;
import jakarta.servlet.http.HttpServletResponse;
import java.io.IOException;
import java.util.List;
import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/** {@code GET /v1/workers}: the workers heard from within {@code conveyor.api.worker-ttl}, by id. */
@RestController
@RequiresScope(Scope.ADMIN)
class WorkersController {

    private final WorkerTable table;
    private final JsonAnswers answers;

    WorkersController(WorkerTable table, JsonAnswers answers) {
        this.table = table;
        this.answers = answers;
    }

    /** JSON whatever the request accepts ({@link JsonAnswers}): Spring MVC answered YAML when asked. */
    @GetMapping("/v1/workers")
    void list(HttpServletResponse response) throws IOException {
        answers.write(response, HttpStatus.OK, new Workers(table.live()));
    }

    record Workers(List<Worker> workers) {
    }
}
