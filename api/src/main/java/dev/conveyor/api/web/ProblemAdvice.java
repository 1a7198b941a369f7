package dev.conveyor.api.web;

import dev.conveyor.common.log.LogInterval;
import jakarta.servlet.http.HttpServletRequest;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.sql.SQLException;
import java.sql.SQLNonTransientConnectionException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.util.function.LongSupplier;
import org.apache.catalina.connector.ClientAbortException;
import org.apache.tomcat.util.http.InvalidParameterException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.dao.DataAccessResourceFailureException;
import org.springframework.dao.TransientDataAccessException;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.http.MediaType;
import org.springframework.http.ProblemDetail;
import org.springframework.http.ResponseEntity;
import org.springframework.jdbc.CannotGetJdbcConnectionException;
import org.springframework.transaction.CannotCreateTransactionException;
import org.springframework.transaction.TransactionSystemException;
import org.springframework.web.bind.annotation.ExceptionHandler;
import org.springframework.web.bind.annotation.RestControllerAdvice;
import org.springframework.web.context.request.ServletWebRequest;
import org.springframework.web.context.request.WebRequest;
import org.springframework.web.servlet.mvc.method.annotation.ResponseEntityExceptionHandler;
import org.springframework.web.servlet.resource.NoResourceFoundException;

/**
 * Turns refusals into RFC 9457 problem documents. Spring's own errors (415, 405, unknown paths) are problem
 * documents too, through the base class. Every problem is written as {@code application/problem+json} whatever the
 * request's {@code Accept} says (even one that cannot be parsed). A failure the api did not foresee is a 500 whose
 * detail says nothing about it (no exception name, message, SQL or stack frame); it is logged here instead.
 */
@RestControllerAdvice
public class ProblemAdvice extends ResponseEntityExceptionHandler {

    /** Base of the {@code type} URIs of Conveyor's problems. */
    public static final String PROBLEM_BASE = "https://conveyor.dev/problems/";

    private static final URI ABOUT_BLANK = URI.create("about:blank");
    private static final Logger log = LoggerFactory.getLogger(ProblemAdvice.class);
    /** At most one line per this long about requests the store failed: while it is away, every request fails. */
    static final Duration STORE_LOG_EVERY = Duration.ofSeconds(10);

    private final LogInterval storeFailures;

    public ProblemAdvice() {
        this(System::nanoTime);
    }

    ProblemAdvice(LongSupplier nanoTime) {
        this.storeFailures = new LogInterval(STORE_LOG_EVERY, nanoTime);
    }

    @ExceptionHandler(ApiException.class)
    ResponseEntity<ProblemDetail> refused(ApiException e) {
        var problem = ProblemDetail.forStatusAndDetail(e.status(), e.getMessage());
        problem.setType(URI.create(PROBLEM_BASE + e.problemType()));
        problem.setTitle(e.title());
        if (!e.errors().isEmpty()) {
            problem.setProperty("errors", e.errors());
        }
        if (e.status() == HttpStatus.SERVICE_UNAVAILABLE) {
            // nothing was stored, and trying again shortly is the remedy
            return ResponseEntity.status(e.status()).header(HttpHeaders.RETRY_AFTER, "1")
                    .contentType(MediaType.APPLICATION_PROBLEM_JSON).body(problem);
        }
        return answer(e.status(), problem);
    }

    /**
     * Spring's own problems (415, 405, ...) leave {@code type} out, meaning {@code about:blank}; the contract wants
     * every problem to carry it.
     */
    @Override
    protected ResponseEntity<Object> createResponseEntity(Object body, HttpHeaders headers, HttpStatusCode status,
            WebRequest request) {
        if (body instanceof ProblemDetail problem && problem.getType() == null) {
            problem.setType(ABOUT_BLANK);
        }
        var problemHeaders = new HttpHeaders();
        problemHeaders.addAll(headers);
        if (body instanceof ProblemDetail) {
            problemHeaders.setContentType(MediaType.APPLICATION_PROBLEM_JSON);
        }
        return super.createResponseEntity(body, problemHeaders, status, request);
    }

    /** A path no route has: a sentence of the api's own, naming the route's path a trailing slash hid. */
    @Override
    protected ResponseEntity<Object> handleNoResourceFoundException(NoResourceFoundException ex, HttpHeaders headers,
            HttpStatusCode status, WebRequest request) {
        if (request instanceof ServletWebRequest servlet) {
            ex.getBody().setDetail(UnknownPaths.detail(servlet.getRequest()));
        }
        return handleExceptionInternal(ex, ex.getBody(), headers, status, request);
    }

    /** Tomcat could not decode the query string (not UTF-8); it names the parameter only in its message. */
    @ExceptionHandler(InvalidParameterException.class)
    ResponseEntity<ProblemDetail> undecodableParameters(InvalidParameterException e) {
        return refused(ApiException.invalid("query", "is not valid UTF-8 once percent-decoded"));
    }

    /**
     * The job store cannot be reached: a 503, nothing was stored, the client may try again. Or it stopped answering
     * while it held the request (a statement or a commit got no answer within the socket timeout): then
     * what it did with the request is unknown, which a 503 must not be (the contract: "then nothing was stored"). That
     * is a 504, saying so, for the client to send the request again with the same idempotency key.
     */
    @ExceptionHandler({CannotGetJdbcConnectionException.class, DataAccessResourceFailureException.class,
            TransientDataAccessException.class, CannotCreateTransactionException.class,
            StoreUnavailableException.class})
    ResponseEntity<ProblemDetail> storeUnavailable(Exception e) {
        logStoreFailure(e);
        if (lostMidRequest(e)) {
            var problem = ProblemDetail.forStatusAndDetail(HttpStatus.GATEWAY_TIMEOUT,
                    "The job store stopped answering while it held the request, which may have been carried out (a "
                            + "job submitted may have been stored, and then runs). Send it again with the same "
                            + "Idempotency-Key to learn which.");
            problem.setType(URI.create(PROBLEM_BASE + "store-no-answer"));
            problem.setTitle("Job store did not answer");
            return ResponseEntity.status(HttpStatus.GATEWAY_TIMEOUT).header("Retry-After", "1")
                    .contentType(MediaType.APPLICATION_PROBLEM_JSON).body(problem);
        }
        var problem = ProblemDetail.forStatusAndDetail(HttpStatus.SERVICE_UNAVAILABLE,
                "The job store is unavailable; nothing was stored. Try again.");
        problem.setType(URI.create(PROBLEM_BASE + "store-unavailable"));
        problem.setTitle("Job store unavailable");
        return ResponseEntity.status(HttpStatus.SERVICE_UNAVAILABLE).header("Retry-After", "1")
                .contentType(MediaType.APPLICATION_PROBLEM_JSON).body(problem);
    }

    /**
     * One line per {@link #STORE_LOG_EVERY} at most, with how many requests failed since the line before: a store that
     * is away fails every request, and a line each was as many lines as requests (64 clients retrying after a
     * second's {@code Retry-After}: 64 a second).
     */
    private void logStoreFailure(Exception e) {
        var heldBack = storeFailures.pass();
        if (heldBack >= 0) {
            log.warn("Job store unavailable: {}{}", e.getMessage(), LogInterval.heldBack(heldBack));
        }
    }

    /** The client went away while its answer was written: there is nobody left to answer. */
    @ExceptionHandler(ClientAbortException.class)
    void clientGone(ClientAbortException e) {
        log.debug("Client gone: {}", e.getMessage());
    }

    /** Anything else is the api's fault (a bug, or a store failure it did not foresee): logged, never described. */
    @ExceptionHandler(Exception.class)
    ResponseEntity<ProblemDetail> failed(Exception e, HttpServletRequest request) {
        if (lostTheStore(e)) {
            return storeUnavailable(e);
        }
        log.error("{} {} failed", request.getMethod(), request.getRequestURI(), e);
        var problem = ProblemDetail.forStatusAndDetail(HttpStatus.INTERNAL_SERVER_ERROR,
                "The request failed inside the api; the failure has been logged. Try again later.");
        problem.setType(URI.create(PROBLEM_BASE + "internal-error"));
        problem.setTitle("Internal error");
        return answer(HttpStatus.INTERNAL_SERVER_ERROR, problem);
    }

    /**
     * A failure that Spring does not classify as the store's, but that lost the connection to it: a rollback or
     * commit on a connection PostgreSQL closed ({@code TransactionSystemException}), SQLSTATE class 08
     * (connection exception) or 57P (the server shut the session down).
     */
    private static boolean lostTheStore(Throwable failure) {
        for (var cause = failure; cause != null; cause = cause.getCause()) {
            // a commit or rollback that failed: the connection went away under the transaction (Hikari's closed
            // connection answers "Connection is closed" without an SQLSTATE)
            if (cause instanceof TransactionSystemException) {
                return true;
            }
            if (cause instanceof SQLTransientConnectionException || cause instanceof SQLNonTransientConnectionException
                    || cause instanceof SQLRecoverableException) {
                return true;
            }
            if (cause instanceof SQLException sql && sql.getSQLState() != null
                    && (sql.getSQLState().startsWith("08") || sql.getSQLState().startsWith("57P"))) {
                return true;
            }
        }
        return false;
    }

    /**
     * The store had the request and did not answer it: a statement or a commit got no answer within the socket
     * timeout ({@code socketTimeout}), as opposed to a connection that could not be had (nothing reached the store), a
     * refusal the store answered, or a connection found closed (a database that restarted or ended the session: the
     * statement did not run, bar the rare crash between a commit and its answer, which no client can tell apart).
     */
    static boolean lostMidRequest(Throwable failure) {
        for (var cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof CannotGetJdbcConnectionException || cause instanceof CannotCreateTransactionException
                    || cause instanceof SQLTransientConnectionException) {
                return false;
            }
        }
        for (var cause = failure; cause != null; cause = cause.getCause()) {
            if (cause instanceof SocketTimeoutException) {
                return true;
            }
        }
        return false;
    }

    private static ResponseEntity<ProblemDetail> answer(HttpStatusCode status, ProblemDetail problem) {
        return ResponseEntity.status(status).contentType(MediaType.APPLICATION_PROBLEM_JSON).body(problem);
    }
}
