package dev.conveyor.local;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Waits until something answers, failing early when a process it depends on dies. */
final class Readiness {

    private static final Duration PAUSE = Duration.ofMillis(250);
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    /** One attempt to see whether a thing is ready; any exception means "not yet". */
    @FunctionalInterface
    interface Check {
        boolean ready() throws Exception;
    }

    /** Thrown when a thing did not become ready; its message says why and where to look. */
    static final class NotReadyException extends RuntimeException {
        NotReadyException(String message) {
            super(message);
        }
    }

    private Readiness() {
    }

    /**
     * Runs {@code check} until it answers true, or throws when {@code timeout} passes or one of
     * {@code watched} exits first.
     */
    static void await(String what, Duration timeout, List<ChildProcess> watched, Check check) {
        var deadline = System.nanoTime() + timeout.toNanos();
        var anyExit = CompletableFuture.anyOf(watched.stream().map(ChildProcess::onExit).toArray(CompletableFuture[]::new));
        String lastProblem = "no answer yet";
        while (true) {
            for (var child : watched) {
                if (!child.isAlive()) {
                    throw new NotReadyException(child + " exited with code " + child.exitValue() + " before " + what
                            + " was ready. Last lines of " + child.logFile() + ":" + System.lineSeparator()
                            + child.tail(30));
                }
            }
            try {
                if (check.ready()) {
                    return;
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new NotReadyException("interrupted while waiting for " + what);
            } catch (Exception e) {
                lastProblem = e.toString();
            }
            if (System.nanoTime() > deadline) {
                throw new NotReadyException(what + " was not ready after " + timeout.toSeconds() + " s (" + lastProblem
                        + ")" + logHint(watched));
            }
            pause(anyExit, watched.isEmpty());
        }
    }

    /** A check that {@code GET uri} answers 200. */
    static Check httpOk(URI uri) {
        return () -> {
            var request = HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(3)).GET().build();
            return HTTP.send(request, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        };
    }

    private static void pause(CompletableFuture<?> anyExit, boolean nothingWatched) {
        try {
            if (nothingWatched) {
                TimeUnit.MILLISECONDS.sleep(PAUSE.toMillis());
            } else {
                anyExit.get(PAUSE.toMillis(), TimeUnit.MILLISECONDS);
            }
        } catch (TimeoutException | ExecutionException e) {
            // time to look again
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new NotReadyException("interrupted");
        }
    }

    private static String logHint(List<ChildProcess> watched) {
        if (watched.isEmpty()) {
            return "";
        }
        var logs = watched.stream().map(c -> c.logFile().toString()).distinct().toList();
        return "; see " + String.join(", ", logs);
    }
}
