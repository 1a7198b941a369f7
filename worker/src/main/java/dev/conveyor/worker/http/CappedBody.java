package dev.conveyor.worker.http;

import java.io.ByteArrayOutputStream;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Flow;

/**
 * Collects a response body up to a cap. Past the cap it stops reading (cancelling the exchange) and answers
 * {@link Body#tooLarge()}, so a huge or endless body costs no more than the cap in memory.
 */
final class CappedBody implements HttpResponse.BodySubscriber<CappedBody.Body> {

    /** What was read: all of the body, or the first bytes of one that is larger than the cap. */
    record Body(byte[] bytes, boolean tooLarge) {
    }

    private final int cap;
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final CompletableFuture<Body> result = new CompletableFuture<>();
    private Flow.Subscription subscription;

    CappedBody(int cap) {
        this.cap = cap;
    }

    static HttpResponse.BodyHandler<Body> handler(int cap) {
        return info -> {
            var length = info.headers().firstValueAsLong("content-length").orElse(-1);
            if (length > cap) {
                // Known to be too large before a byte is read: discard it without buffering.
                return HttpResponse.BodySubscribers.replacing(new Body(new byte[0], true));
            }
            return new CappedBody(cap);
        };
    }

    @Override
    public CompletionStage<Body> getBody() {
        return result;
    }

    @Override
    public void onSubscribe(Flow.Subscription subscription) {
        this.subscription = subscription;
        subscription.request(1);
    }

    @Override
    public void onNext(List<ByteBuffer> buffers) {
        if (result.isDone()) {
            return;
        }
        for (var buffer : buffers) {
            var room = cap - bytes.size();
            if (buffer.remaining() > room) {
                subscription.cancel();
                result.complete(new Body(bytes.toByteArray(), true));
                return;
            }
            var chunk = new byte[buffer.remaining()];
            buffer.get(chunk);
            bytes.writeBytes(chunk);
        }
        subscription.request(1);
    }

    @Override
    public void onError(Throwable error) {
        result.completeExceptionally(error);
    }

    @Override
    public void onComplete() {
        result.complete(new Body(bytes.toByteArray(), false));
    }
}
