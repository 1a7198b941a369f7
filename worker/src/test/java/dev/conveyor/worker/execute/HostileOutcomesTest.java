package dev.conveyor.worker.execute;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.common.Json;
import dev.conveyor.common.handler.JobContext;
import dev.conveyor.common.handler.JobFailure;
import dev.conveyor.common.handler.JobHandler;
import dev.conveyor.common.message.JobFinished;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Duration;
import java.util.ArrayList;
import java.util.ConcurrentModificationException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import tools.jackson.core.JsonGenerator;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.SerializationContext;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;

/**
 * What a handler returns, throws or reports is untrusted: whatever it is, its own job gets a clear outcome that the
 * api can store, and nothing it sends can break the events' encoding.
 */
class HostileOutcomesTest {

    /** A handler of type {@code hostile} that does what {@code body} does. */
    interface Body {
        JsonNode run(JobContext context) throws Exception;
    }

    private static JobHandler hostile(Body body) {
        return new JobHandler() {
            @Override
            public String type() {
                return "hostile";
            }

            @Override
            public JsonNode handle(JobContext context) throws Exception {
                return body.run(context);
            }
        };
    }

    private static JobFinished outcome(Body body) throws Exception {
        var testing = new RunnerTesting(hostile(body));
        var job = RunnerTesting.dispatch("hostile", Json.object(), 30);
        testing.take(job);
        return await().atMost(Duration.ofSeconds(10)).until(() -> testing.events.finished(job.jobId()),
                finished -> finished != null);
    }

    private static void assertInvalid(JobFinished finished, String... mentions) {
        assertThat(finished.outcome()).isEqualTo(JobFinished.Outcome.FAILED);
        assertThat(finished.error().code()).isEqualTo("RESULT_INVALID");
        assertThat(finished.error().retryable()).isFalse();
        assertThat(finished.error().message()).contains(mentions);
        assertStorable(finished.error().message());
    }

    /** What PostgreSQL's text and jsonb refuse: NUL, and halves of surrogate pairs. */
    private static void assertStorable(String text) {
        assertThat(text).doesNotContain("\u0000");
        for (var i = 0; i < text.length(); i++) {
            var c = text.charAt(i);
            if (Character.isHighSurrogate(c)) {
                assertThat(i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))).isTrue();
                i++;
            } else {
                assertThat(Character.isLowSurrogate(c)).as("lone low surrogate at %d", i).isFalse();
            }
        }
    }

    @Nested
    class Results {

        /**
         * A result node that never answers as it is read (the handler's own JsonNode subclass, waiting on a lock): the
         * job is reported at its deadline, as a handler that never returns is, and the thread is a stuck handler's.
         */
        @Test
        void aResultThatNeverAnswersAsItIsReadEndsItsJobAtItsDeadline() throws Exception {
            var testing = new RunnerTesting(hostile(context -> new ObjectNode(JsonNodeFactory.instance) {
                @Override
                public java.util.Set<Map.Entry<String, JsonNode>> properties() {
                    while (true) {
                        try {
                            new java.util.concurrent.CountDownLatch(1).await();
                        } catch (InterruptedException e) {
                            // and on waiting
                        }
                    }
                }
            }));
            var job = RunnerTesting.dispatch("hostile", Json.object(), 2);
            testing.take(job);

            var finished = await().atMost(Duration.ofSeconds(15)).until(() -> testing.events.finished(job.jobId()),
                    f -> f != null);
            assertThat(finished.outcome()).isEqualTo(JobFinished.Outcome.FAILED);
            assertThat(finished.error().code()).isEqualTo("TIMEOUT");
            await().atMost(Duration.ofSeconds(5)).until(() -> testing.runner.inFlight() == 0);
            assertThat(testing.runner.occupied()).as("its thread runs on, as a stuck handler's").isEqualTo(1);
        }

        @Test
        void aResultWithNulInAStringFailsItsJobNotRetryably() throws Exception {
            var finished = outcome(context -> Json.object().put("status", 200).put("body", "GIF89a\u0000\u0001"));
            assertInvalid(finished, "result.body", "NUL");
        }

        @Test
        void aResultWithNulInAKeyFailsItsJob() throws Exception {
            var finished = outcome(context -> {
                var result = Json.object();
                result.putObject("outer").put("a\u0000b", 1);
                return result;
            });
            assertInvalid(finished, "result.outer", "key");
        }

        @Test
        void aResultWithALoneSurrogateDeepInAnArrayFailsItsJob() throws Exception {
            var finished = outcome(context -> {
                var result = Json.object();
                result.putArray("items").add("fine").addObject().put("name", "half \uD83D pair");
                return result;
            });
            assertInvalid(finished, "result.items[1].name", "surrogate");
        }

        @Test
        void aResultWithNaNOrInfinityFailsItsJob() throws Exception {
            assertInvalid(outcome(context -> Json.object().put("mean", Double.NaN)), "result.mean", "NaN");
            assertInvalid(outcome(context -> Json.object().put("max", Float.NEGATIVE_INFINITY)), "result.max");
        }

        @Test
        void aResultWithAnAbsurdNumberFailsItsJob() throws Exception {
            assertInvalid(outcome(context -> Json.object().put("big", new BigDecimal("1E+1000000000"))),
                    "result.big");
            assertInvalid(outcome(context -> Json.object().put("tiny", new BigDecimal("1E-1000000000"))),
                    "result.tiny");
            assertInvalid(outcome(context -> Json.object().put("long", new BigDecimal("7".repeat(2000)))),
                    "result.long");
            assertInvalid(outcome(context -> Json.object().put("int", new BigInteger("9".repeat(2000)))),
                    "result.int");
            // the api stores it exactly and answers it written out: 1e-1000 is 1,002 characters so, 1e-990 992
            assertInvalid(outcome(context -> Json.object().put("edge", new BigDecimal("1E-1000"))), "result.edge",
                    "1000 characters");
            assertInvalid(outcome(context -> Json.object().put("digits", new BigInteger("9".repeat(1001)))),
                    "result.digits");
            var edge = Json.object().put("small", new BigDecimal("1E-990")).put("large", new BigDecimal("-1E+998"))
                    .put("digits", new BigInteger("9".repeat(1000)));
            var stored = outcome(context -> edge);
            assertThat(stored.outcome()).as("%s", stored.error()).isEqualTo(JobFinished.Outcome.SUCCEEDED);
        }

        @Test
        void aResultNestedTooDeepFailsItsJob() throws Exception {
            var finished = outcome(context -> {
                var root = JsonNodeFactory.instance.arrayNode();
                var node = root;
                for (var i = 0; i < 100_000; i++) {
                    node = node.addArray();
                }
                return root;
            });
            assertInvalid(finished, "deeper");
        }

        @Test
        void aResultSharingItsNodesThatWouldBeEndlessWrittenOutFailsItsJobAsTooLarge() throws Exception {
            // a few kilobytes of heap, 2^64 values written out: a size check that walks it never ends
            var finished = outcome(context -> {
                JsonNode node = JsonNodeFactory.instance.numberNode(1);
                for (var i = 0; i < 64; i++) {
                    node = JsonNodeFactory.instance.arrayNode().add(node).add(node);
                }
                return node;
            });
            assertThat(finished.outcome()).isEqualTo(JobFinished.Outcome.FAILED);
            assertThat(finished.error().code()).isEqualTo("RESULT_TOO_LARGE");
            assertThat(finished.error().retryable()).isFalse();
        }

        @Test
        void aResultThatKafkaRefusesForItsSizeFailsItsJobAsTooLarge() throws Exception {
            var testing = new RunnerTesting(hostile(context -> Json.object().put("text", "x".repeat(5_000))));
            testing.events.refuseOver = 4_000;
            var job = RunnerTesting.dispatch("hostile", Json.object(), 30);
            testing.take(job);

            var finished = await().until(() -> testing.events.finished(job.jobId()), f -> f != null);
            assertThat(finished.outcome()).isEqualTo(JobFinished.Outcome.FAILED);
            assertThat(finished.error().code()).isEqualTo("RESULT_TOO_LARGE");
            assertThat(finished.error().retryable()).isFalse();
            assertThat(finished.error().message()).contains("max-result-bytes");
        }

        /**
         * The node is the handler's own object: one that throws as it is read (here as a node does that a thread the
         * handler left running still fills) threw on the thread reporting the attempt, and the job went unreported
         * until the api's rescuer, a timeout later.
         */
        @Test
        void aResultWhoseNodesThrowWhenReadFailsItsJob() throws Exception {
            var finished = outcome(context -> {
                var result = Json.object();
                result.set("rows", new ObjectNode(JsonNodeFactory.instance) {
                    @Override
                    public Set<Map.Entry<String, JsonNode>> properties() {
                        throw new ConcurrentModificationException();
                    }
                });
                return result;
            });
            assertInvalid(finished, "could not be read", "ConcurrentModificationException");
        }

        /**
         * Checked as it was returned, then filled further (by a thread the handler left running) until it throws: the
         * outcome carries the encoding made as it was checked, and the node is not read again.
         */
        @Test
        void aResultThatChangesOnceCheckedIsReportedAsItWasChecked() throws Exception {
            var written = new AtomicInteger();
            var finished = outcome(context -> new ObjectNode(JsonNodeFactory.instance) {
                {
                    put("n", 1);
                }

                @Override
                public void serialize(JsonGenerator generator, SerializationContext serialization) {
                    if (written.incrementAndGet() > 1) {
                        throw new ConcurrentModificationException();
                    }
                    super.serialize(generator, serialization);
                }
            });
            assertThat(finished.outcome()).isEqualTo(JobFinished.Outcome.SUCCEEDED);
            assertThat(finished.result()).isEqualTo(Json.object().put("n", 1));
            assertThat(written).hasValue(1);
        }

        /** Causes that lead back to each other: a walk along them that looks only for an end never ends. */
        @Test
        void aResultThatThrowsAnExceptionWhoseCausesLoopFailsItsJob() throws Exception {
            var finished = outcome(context -> new ObjectNode(JsonNodeFactory.instance) {
                @Override
                public void serialize(JsonGenerator generator, SerializationContext serialization) {
                    var first = new IllegalStateException("first");
                    var second = new IllegalStateException("second", first);
                    first.initCause(second);
                    throw first;
                }
            });
            assertInvalid(finished, "could not be read or encoded", "first");
        }

        @Test
        void aResultOfOrdinaryTextNumbersAndEmojiIsReportedUnchanged() throws Exception {
            var result = Json.object().put("text", "héllo 👋 \t\n\u0001").put("pi", 3.14159)
                    .put("big", new BigDecimal("123456789012345678901234567890.5")).put("none", (String) null);
            result.putArray("list").add(1).add(true);
            var finished = outcome(context -> result);
            assertThat(finished.outcome()).isEqualTo(JobFinished.Outcome.SUCCEEDED);
            assertThat(finished.result()).isEqualTo(Json.tree(Json.write(result)));
        }
    }

    @Nested
    class Errors {

        @Test
        void anErrorMessageHasNulAndLoneSurrogatesReplacedAndIsCut() throws Exception {
            var message = "bad \u0000 byte, half \uDC00 pair, " + "x".repeat(100_000);
            var finished = outcome(context -> {
                throw JobFailure.notRetryable(message);
            });
            assertThat(finished.error().code()).isEqualTo("HANDLER_ERROR");
            assertThat(finished.error().retryable()).isFalse();
            assertThat(finished.error().message()).startsWith("bad \uFFFD byte, half \uFFFD pair, xxx")
                    .hasSizeLessThanOrEqualTo(JobOutcomes.MAX_MESSAGE_CHARS);
            assertStorable(finished.error().message());
        }

        @Test
        void aCutMessageKeepsSurrogatePairsWhole() throws Exception {
            var message = "x".repeat(JobOutcomes.MAX_MESSAGE_CHARS - 2) + "👋👋👋";
            var finished = outcome(context -> {
                throw new IllegalStateException(message);
            });
            assertStorable(finished.error().message());
        }

        @Test
        void anErrorWithoutAUsableCodeIsAHandlerError() throws Exception {
            var finished = outcome(context -> {
                throw new JobFailure(null, "no code", false, null, null);
            });
            assertThat(finished.error().code()).isEqualTo("HANDLER_ERROR");
            var nul = outcome(context -> {
                throw new JobFailure("MY\u0000CODE", "nul in code", true, null, null);
            });
            assertThat(nul.error().code()).isEqualTo("HANDLER_ERROR");
            assertThat(nul.error().message()).contains("nul in code");
        }

        /**
         * WORKER_LOST is the worker's word for a job it gives back as it stops, which the api runs again at once and
         * does not count, up to 20 times, whatever the failure said of retrying; NO_HANDLER, a worker without the
         * job's type. A handler's failure with either code is its own failure.
         */
        @Test
        void aFailureWithACodeReservedForConveyorIsAHandlerError() throws Exception {
            for (var code : new String[] {"WORKER_LOST", "NO_HANDLER"}) {
                var finished = outcome(context -> {
                    throw new JobFailure(code, "pretending", false, null, null);
                });
                assertThat(finished.error().code()).isEqualTo("HANDLER_ERROR");
                assertThat(finished.error().retryable()).isFalse();
                assertThat(finished.error().message()).isEqualTo("(error code '" + code
                        + "' is reserved for Conveyor's own failures) pretending");
            }
        }

        @Test
        void anExceptionWhoseMessageCannotBeReadFailsItsJob() throws Exception {
            var finished = outcome(context -> {
                throw new IllegalStateException() {
                    @Override
                    public String getMessage() {
                        throw new UnsupportedOperationException("no message today");
                    }
                };
            });
            assertThat(finished.outcome()).isEqualTo(JobFinished.Outcome.FAILED);
            assertThat(finished.error().code()).isEqualTo("HANDLER_ERROR");
            assertThat(finished.error().retryable()).isTrue();
            assertThat(finished.error().message()).contains("could not be read", "UnsupportedOperationException");
        }

        /**
         * A message that never comes (it waits on a lock, or on a remote service, that never answers): the job is
         * reported at its deadline, as a handler that never returns is, and the thread is a stuck handler's.
         */
        @Test
        void anExceptionWhoseMessageNeverComesEndsItsJobAtItsDeadline() throws Exception {
            var testing = new RunnerTesting(hostile(context -> {
                throw new IllegalStateException() {
                    @Override
                    public String getMessage() {
                        while (true) {
                            try {
                                new java.util.concurrent.CountDownLatch(1).await();
                            } catch (InterruptedException e) {
                                // and on waiting: a message that never comes
                            }
                        }
                    }
                };
            }));
            var job = RunnerTesting.dispatch("hostile", Json.object(), 2);
            testing.take(job);

            var finished = await().atMost(Duration.ofSeconds(15)).until(() -> testing.events.finished(job.jobId()),
                    f -> f != null);
            assertThat(finished.outcome()).isEqualTo(JobFinished.Outcome.FAILED);
            assertThat(finished.error().code()).isEqualTo("TIMEOUT");
            await().atMost(Duration.ofSeconds(5)).until(() -> testing.runner.inFlight() == 0);
            assertThat(testing.runner.occupied()).as("its thread runs on, as a stuck handler's").isEqualTo(1);
        }

        /** A message made from objects that refer to each other: its toString() never ends, the stack overflows. */
        @Test
        void anExceptionWhoseMessageOverflowsTheStackFailsItsJob() throws Exception {
            var finished = outcome(context -> {
                var order = new ArrayList<Object>();
                var customer = new ArrayList<Object>(List.of(order));
                order.add(customer);
                throw new IllegalStateException() {
                    @Override
                    public String getMessage() {
                        return "cannot ship " + order;
                    }
                };
            });
            assertThat(finished.outcome()).isEqualTo(JobFinished.Outcome.FAILED);
            assertThat(finished.error().code()).isEqualTo("HANDLER_ERROR");
            assertThat(finished.error().retryable()).isTrue();
            assertThat(finished.error().message()).contains("could not be read", "StackOverflowError");
        }

        @Test
        void aFailureWhoseFieldsCannotBeReadFailsItsJob() throws Exception {
            var finished = outcome(context -> {
                throw new JobFailure("BUSY", "later", true, null, null) {
                    @Override
                    public java.time.Duration retryAfter() {
                        throw new IllegalStateException("no wait today");
                    }
                };
            });
            assertThat(finished.outcome()).isEqualTo(JobFinished.Outcome.FAILED);
            assertThat(finished.error().code()).isEqualTo("HANDLER_ERROR");
            assertThat(finished.error().message()).contains("could not be read", "IllegalStateException");
        }

        @Test
        void aHugeRetryAfterIsCappedAndANegativeOneIgnored() throws Exception {
            var huge = outcome(context -> {
                throw new JobFailure("BUSY", "later", true, Duration.ofSeconds(Long.MAX_VALUE), null);
            });
            assertThat(huge.error().code()).isEqualTo("BUSY");
            assertThat(huge.retryAfterMs()).isEqualTo(JobOutcomes.MAX_RETRY_AFTER.toMillis());
            var negative = outcome(context -> {
                throw new JobFailure("BUSY", "earlier", true, Duration.ofSeconds(-5), null);
            });
            assertThat(negative.retryAfterMs()).isNull();
        }
    }

    @Nested
    class Progress {

        @Test
        void aProgressMessageHasNulReplacedAndPairsKeptWhole() throws Exception {
            var testing = new RunnerTesting(hostile(context -> {
                context.progress(0, "a\u0000b \uD800");
                context.progress(1, "y".repeat(499) + "👋 and more");
                return Json.object();
            }));
            var job = RunnerTesting.dispatch("hostile", Json.object(), 30);
            testing.take(job);
            await().until(() -> testing.events.finished(job.jobId()) != null);
            var reports = testing.events.progress(job.jobId());
            assertThat(reports).hasSize(2);
            assertThat(reports.get(0).message()).isEqualTo("a\uFFFDb \uFFFD");
            reports.forEach(report -> assertStorable(report.message()));
        }

        /**
         * {@code done / total} in whole numbers is 0 until the end: a report of 0 (or 1) went out on every call,
         * a Kafka event and a write at the api for each of the job's items, where other fractions go out a few
         * times a second.
         */
        @Test
        void aHandlerReportingTheSameZeroOrOneInATightLoopSendsAFewReports() throws Exception {
            var took = new AtomicLong();
            var testing = new RunnerTesting(hostile(context -> {
                var began = System.nanoTime();
                var total = 50_000;
                for (var done = 0; done < total; done++) {
                    context.progress(done / total, done + " of " + total);
                }
                for (var i = 0; i < 1_000; i++) {
                    context.progress(i % 2, "flip " + i);
                }
                for (var i = 0; i < 1_000; i++) {
                    context.progress(1, "all " + total);
                }
                took.set(System.nanoTime() - began);
                return Json.object();
            }));
            var job = RunnerTesting.dispatch("hostile", Json.object(), 30);
            testing.take(job);
            await().atMost(Duration.ofMinutes(1)).until(() -> testing.events.finished(job.jobId()) != null);

            var reports = testing.events.progress(job.jobId());
            var gaps = Duration.ofNanos(took.get()).toMillis() / ProgressSender.MIN_GAP_MILLIS;
            assertThat(reports).hasSizeBetween(2, (int) (2 * (gaps + 1)));
            assertThat(reports.getFirst().message()).isEqualTo("0 of 50000");
            assertThat(reports).extracting(p -> p.message()).contains("flip 1");
        }

        /**
         * A reporter the handler left running (a scheduled task it forgot to cancel) kept sending a report every
         * 200 ms for as long as it ran, of an attempt that had ended: events the api reads and ignores, one stream per
         * job that leaked one.
         */
        @Test
        void progressReportedAfterTheAttemptEndedIsNotSent() throws Exception {
            var leaked = new AtomicReference<Thread>();
            var testing = new RunnerTesting(hostile(context -> {
                leaked.set(Thread.ofPlatform().daemon().start(() -> {
                    while (true) {
                        context.progress(0.5, "still here");
                        try {
                            Thread.sleep(20);
                        } catch (InterruptedException e) {
                            return;
                        }
                    }
                }));
                return Json.object();
            }));
            try {
                var job = RunnerTesting.dispatch("hostile", Json.object(), 30);
                testing.take(job);
                await().until(() -> testing.events.finished(job.jobId()) != null);
                var sentByTheEnd = testing.events.sent.size();

                await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(2))
                        .until(() -> testing.events.sent.size() == sentByTheEnd);
            } finally {
                leaked.get().interrupt();
            }
        }

        @Test
        void progressThatIsNotAFractionIsDropped() throws Exception {
            var testing = new RunnerTesting(hostile(context -> {
                context.progressReporter().report(Double.NaN, "nan");
                context.progressReporter().report(7, "seven");
                context.progressReporter().report(1, "done");
                return Json.object();
            }));
            var job = RunnerTesting.dispatch("hostile", Json.object(), 30);
            testing.take(job);
            await().until(() -> testing.events.finished(job.jobId()) != null);
            assertThat(testing.events.progress(job.jobId())).extracting(p -> p.message()).containsExactly("done");
        }
    }

}
