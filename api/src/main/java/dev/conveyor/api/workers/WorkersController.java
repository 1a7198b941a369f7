package dev.conveyor.api.workers;

import dev.conveyor.api.auth.RequiresScope;
import dev.conveyor.api.auth.Scope;
import java.util.List;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/** {@code GET /v1/workers}: the workers heard from within {@code conveyor.api.worker-ttl}, by id. */
@RestController
@RequiresScope(Scope.ADMIN)
class WorkersController {

    private final WorkerTable table;

    WorkersController(WorkerTable table) {
        this.table = table;
    }

    @GetMapping("/v1/workers")
    Workers list() {
        return new Workers(table.live());
    }

    record Workers(List<Worker> workers) {
    }
}
