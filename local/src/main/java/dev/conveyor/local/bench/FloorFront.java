package dev.conveyor.local.bench;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.conveyor.common.Json;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import javax.sql.DataSource;

/**
 * The bare path behind HTTP, for W3's shape with the two requests per job that Conveyor's contract asks of a client:
 * {@code POST /v1/jobs} reads the job's JSON, inserts the job in a transaction of its own, publishes it on the
 * {@link BarePath} and answers 202 with its id; {@code GET /v1/jobs/{id}?wait=S} answers the job once its end is
 * committed (or after {@code S} seconds, still {@code QUEUED}). The JDK's own HTTP server, one virtual thread per
 * request, JSON read and written with Jackson, and the job's end taken from memory instead of a read of its row: the
 * least a server of that shape does per request, not a rival to the api (no validation, keys, limits, idempotency).
 */
final class FloorFront implements AutoCloseable {

    private static final String JOBS = "/v1/jobs";

    private final HttpServer server;
    private final BarePath path;
    private final FloorStore store;
    private final DataSource dataSource;
    private volatile FloorRun current;

    FloorFront(BarePath path, FloorStore store, DataSource dataSource) {
        this.path = path;
        this.store = store;
        this.dataSource = dataSource;
        server = LoopbackHttp.server("the floor's HTTP server");
        server.createContext(JOBS, this::handle);
        server.start();
    }

    /** The base URI, such as {@code http://127.0.0.1:40123/}. */
    URI uri() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/");
    }

    /** Makes {@code run} the one whose jobs are submitted and awaited; also set it on the path ({@link BarePath#begin}). */
    void begin(FloorRun run) {
        current = run;
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            var run = current;
            var where = exchange.getRequestURI().getPath();
            if (run == null) {
                answer(exchange, 503, Map.of("title", "no run"));
            } else if (exchange.getRequestMethod().equals("POST") && where.equals(JOBS)) {
                submit(exchange, run);
            } else if (exchange.getRequestMethod().equals("GET") && where.startsWith(JOBS + "/")) {
                read(exchange, run, where.substring(JOBS.length() + 1));
            } else {
                answer(exchange, 404, Map.of("title", "not found"));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Stores the job (its number is its payload's {@code n}, as the benchmark's echo jobs carry it) and publishes it. */
    private void submit(HttpExchange exchange, FloorRun run) throws IOException {
        var body = Json.tree(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
        var payload = body.path("payload");
        var job = payload.path("n").asInt(-1);
        if (job < 0 || job >= run.jobs()) {
            answer(exchange, 400, Map.of("title", "payload.n must name a job of the run"));
            return;
        }
        var id = run.id(job);
        try (var connection = dataSource.getConnection()) {
            store.insert(connection, id, Json.write(payload));
        } catch (SQLException e) {
            run.fail(e);
            answer(exchange, 503, Map.of("title", "not stored"));
            return;
        }
        path.publish(run, job);
        exchange.getResponseHeaders().set("Location", JOBS + "/" + id);
        answer(exchange, 202, Map.of("id", id.toString(), "status", "QUEUED"));
    }

    /** Answers the job when its end is committed, or after the {@code wait} asked for (at most 30 s) still queued. */
    private void read(HttpExchange exchange, FloorRun run, String idText) throws IOException, InterruptedException {
        int job;
        try {
            job = run.job(UUID.fromString(idText));
        } catch (IllegalArgumentException e) {
            job = -1;
        }
        if (job < 0) {
            answer(exchange, 404, Map.of("title", "no such job"));
            return;
        }
        var ended = run.awaitEnd(job, Duration.ofSeconds(waitSeconds(exchange.getRequestURI().getQuery())));
        answer(exchange, 200, Map.of("id", idText, "status", ended ? "SUCCEEDED" : "QUEUED"));
    }

    /** {@code wait=S} of the query, from 0 to 30; 0 when absent or not a whole number. */
    static int waitSeconds(String query) {
        if (query != null) {
            for (var part : query.split("&")) {
                if (part.startsWith("wait=")) {
                    try {
                        return Math.clamp(Integer.parseInt(part.substring(5)), 0, 30);
                    } catch (NumberFormatException e) {
                        return 0;
                    }
                }
            }
        }
        return 0;
    }

    private static void answer(HttpExchange exchange, int status, Map<String, String> body) throws IOException {
        var bytes = Json.writeBytes(body);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        exchange.getResponseBody().write(bytes);
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
