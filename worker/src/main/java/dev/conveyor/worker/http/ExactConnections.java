package dev.conveyor.worker.http;

import java.io.IOException;
import java.net.Socket;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.hc.client5.http.impl.io.DefaultManagedHttpClientConnection;
import org.apache.hc.client5.http.io.ManagedHttpClientConnection;
import org.apache.hc.core5.http.ClassicHttpResponse;
import org.apache.hc.core5.http.config.Http1Config;
import org.apache.hc.core5.http.impl.io.DefaultHttpResponseParserFactory;
import org.apache.hc.core5.http.io.HttpConnectionFactory;
import org.apache.hc.core5.http.io.HttpMessageParser;
import org.apache.hc.core5.http.io.HttpMessageParserFactory;
import org.apache.hc.core5.http.io.SessionInputBuffer;
import org.apache.hc.core5.util.TimeValue;

/**
 * Connections that are kept alive only while they hold nothing but what was asked for. A server that sends more than
 * its response's framing says (a {@code Content-Length} shorter than what follows, a body after a {@code HEAD}, a
 * 204 or a 304, a response nobody asked for) leaves bytes that Apache's pool would hand, as the head of the next
 * response, to the next job on that connection: one job's hostile or broken server answering another job's request.
 * HTTP/1.1 has no such thing as an unsolicited response (RFC 9112, section 9.3), so a connection holding any byte
 * when its exchange ends, or when it is taken from the pool, is closed instead of used again; the exchange it served
 * keeps what its framing said.
 *
 * <p>The check is a look at the connection's read buffer as the exchange ends, and again, with what the socket has
 * received and not yet read ({@code available()}, no wait), as the pool hands the connection out. Bytes a server sends later still, while a connection is in use again, are read as
 * the answer to the request then in flight: no client can tell those apart from the answer itself.
 */
final class ExactConnections implements HttpConnectionFactory<ManagedHttpClientConnection> {

    private static final AtomicLong COUNTER = new AtomicLong();

    private final Http1Config http1Config;
    private final long validateAfterNanos;

    /**
     * @param validateAfter how long a connection may lie idle in the pool before it is also checked for having been
     *                      closed by its server (a read that waits a millisecond); the pool must ask every time
     *                      (its own {@code validateAfterInactivity} zero) for the look above to be made at each reuse
     */
    ExactConnections(Http1Config http1Config, TimeValue validateAfter) {
        this.http1Config = http1Config;
        this.validateAfterNanos = validateAfter.toNanoseconds();
    }

    @Override
    public ManagedHttpClientConnection createConnection(Socket socket) throws IOException {
        var connection = new ExactConnection("http-outgoing-" + COUNTER.getAndIncrement(), http1Config,
                validateAfterNanos);
        if (socket != null) {
            connection.bind(socket);
        }
        return connection;
    }

    /**
     * Remembers the read buffer its parser is given: the connection's own, which its base class keeps to itself. The
     * parser is HttpCore's strict one: a status line that is not one fails the exchange at once, quoted in the job's
     * error. (Apache's client parses leniently by default, skipping such a line as garbage and waiting for a status
     * line that never comes: the job failed only at its {@code timeoutMs}, as if the server had not answered.)
     */
    private static final class BufferSeen implements HttpMessageParserFactory<ClassicHttpResponse> {

        volatile SessionInputBuffer buffer;

        @Override
        public HttpMessageParser<ClassicHttpResponse> create(Http1Config config) {
            var parser = DefaultHttpResponseParserFactory.INSTANCE.create(config);
            return (buffer, in) -> {
                this.buffer = buffer;
                return parser.parse(buffer, in);
            };
        }
    }

    static final class ExactConnection extends DefaultManagedHttpClientConnection {

        private final BufferSeen seen;
        private final long validateAfterNanos;
        private volatile long idleSince = System.nanoTime();

        ExactConnection(String id, Http1Config http1Config, long validateAfterNanos) {
            this(id, http1Config, new BufferSeen(), validateAfterNanos);
        }

        private ExactConnection(String id, Http1Config http1Config, BufferSeen seen, long validateAfterNanos) {
            super(id, null, null, http1Config, null, null, null, null, seen);
            this.seen = seen;
            this.validateAfterNanos = validateAfterNanos;
        }

        @Override
        public void passivate() {
            super.passivate();
            idleSince = System.nanoTime();
        }

        /**
         * Asked by the pool as an exchange ends (its body read to the end): kept alive only if nothing is left in its
         * buffer. The socket is looked at when it is taken again, once per exchange: a system call each time.
         */
        @Override
        public boolean isConsistent() {
            return super.isConsistent() && !buffered();
        }

        /**
         * Asked by the pool each time before it hands the connection out again: stale if it holds anything, or, once
         * idle for the validation interval, if its server has closed it (Apache's own check, a read of a millisecond).
         */
        @Override
        public boolean isStale() throws IOException {
            return holdsUnaskedBytes()
                    || System.nanoTime() - idleSince >= validateAfterNanos && super.isStale();
        }

        private boolean buffered() {
            var buffer = seen.buffer;
            return buffer != null && buffer.length() > 0;
        }

        /** Whether anything was received beyond the last response: buffered, or in the socket and not yet read. */
        private boolean holdsUnaskedBytes() {
            if (buffered()) {
                return true;
            }
            var socket = getSocketHolder();
            if (socket == null) {
                return false;
            }
            try {
                return socket.getInputStream().available() > 0;
            } catch (IOException unreadable) {
                return true;
            }
        }
    }
}
