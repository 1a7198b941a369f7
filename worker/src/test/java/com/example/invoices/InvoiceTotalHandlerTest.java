package com.example.invoices;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.conveyor.common.Json;
import dev.conveyor.common.handler.JobContext;
import dev.conveyor.common.handler.JobFailure;
import dev.conveyor.common.handler.JobHandler;
import java.time.Instant;
import java.util.UUID;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.springframework.context.annotation.AnnotationConfigApplicationContext;

/** The typed-handler example: record in, record out, and payloads that do not fit named by field. */
class InvoiceTotalHandlerTest {

    private final InvoiceTotalHandler handler = new InvoiceTotalHandler();

    private JobContext context(String payload) {
        return new JobContext(UUID.randomUUID(), "invoice-total", "default", 1, 3, Json.tree(payload),
                Instant.now().plusSeconds(30));
    }

    @Test
    void totalsTheLines() throws Exception {
        var result = handler.handle(context("""
                {"currency": "EUR", "lines": [{"sku": "a", "quantity": 2, "unitPrice": 1.25},
                                              {"sku": "b", "quantity": 1, "unitPrice": 10}]}"""));
        assertThat(Json.write(result)).isEqualTo("{\"currency\":\"EUR\",\"total\":12.50,\"items\":3}");
    }

    @Test
    void isFoundAsASpringBean() {
        try (var context = new AnnotationConfigApplicationContext(InvoiceTotalHandler.class)) {
            assertThat(context.getBeansOfType(JobHandler.class).values())
                    .extracting(JobHandler::type).containsExactly("invoice-total");
        }
    }

    @Nested
    class PayloadsThatDoNotFit {

        @ParameterizedTest
        @CsvSource(delimiter = '|', value = {
                "{\"currency\": \"EUR\", \"lines\": [{\"sku\": \"a\", \"quantity\": \"two\", \"unitPrice\": 1}]}"
                        + "| payload.lines[0].quantity:",
                "{\"currency\": \"EUR\", \"lines\": [{\"sku\": \"a\", \"quantity\": 2.5, \"unitPrice\": 1}]}"
                        + "| payload.lines[0].quantity: Cannot deserialize value of type `int` from number 2.5: not a "
                        + "whole number",
                "{\"currency\": \"EUR\", \"lines\": [{\"sku\": \"a\", \"quantity\": 1}]}| payload.lines[0].unitPrice:",
                "{\"currency\": \"EUR\", \"lines\": [], \"note\": \"x\"}| payload.note:",
                "{\"currency\": \"euro\", \"lines\": []}| currency must be an ISO 4217 code"})
        void failFinallyWithAHandlerErrorNamingTheField(String payload, String message) {
            var failure = catchThrowableOfType(JobFailure.class, () -> handler.handle(context(payload)));
            assertThat(failure.code()).isEqualTo("HANDLER_ERROR");
            assertThat(failure.retryable()).isFalse();
            assertThat(failure.getMessage()).contains(message.strip(), "(the payload must fit Invoice)");
        }
    }
}
