package com.example.invoices;

import dev.conveyor.common.handler.JobContext;
import dev.conveyor.common.handler.TypedJobHandler;
import java.math.BigDecimal;
import java.util.List;
import org.springframework.stereotype.Component;

/**
 * An example of one's own handler: job type {@code invoice-total}, payload {@link Invoice}, result {@link Total}.
 * Declared as a Spring bean, the worker finds it like the built-in handlers.
 */
@Component
public class InvoiceTotalHandler extends TypedJobHandler<InvoiceTotalHandler.Invoice, InvoiceTotalHandler.Total> {

    /** The payload; a check in a compact constructor becomes a not-retryable HANDLER_ERROR naming the field. */
    public record Invoice(String currency, List<Line> lines) {

        public Invoice {
            if (currency == null || !currency.matches("[A-Z]{3}")) {
                throw new IllegalArgumentException("currency must be an ISO 4217 code such as EUR");
            }
            lines = List.copyOf(lines);
        }
    }

    public record Line(String sku, int quantity, BigDecimal unitPrice) {
    }

    /** The result, stored as the job's {@code result}. */
    public record Total(String currency, BigDecimal total, int items) {
    }

    public InvoiceTotalHandler() {
        super("invoice-total", Invoice.class);
    }

    @Override
    protected Total run(Invoice invoice, JobContext context) {
        var total = BigDecimal.ZERO;
        var items = 0;
        for (var line : invoice.lines()) {
            total = total.add(line.unitPrice().multiply(BigDecimal.valueOf(line.quantity())));
            items += line.quantity();
        }
        return new Total(invoice.currency(), total, items);
    }
}
