package dev.conveyor.common;

import java.time.Instant;
import java.time.LocalDate;
import java.time.Month;
import java.time.Year;

/**
 * Instants as ISO-8601 text in UTC ({@code 2026-12-05T02:46:48.123456Z}), read and written as {@link Instant#parse}
 * and {@link Instant#toString} do, without their {@link java.time.format.DateTimeFormatter}. Every dispatch and
 * every event on Kafka carries one or two, and the formatter's general machinery (a field map filled, then resolved)
 * was 8 % of the api's CPU and 6 % of the worker's under W1 (docs/performance.md, "Instants read and written without a
 * formatter"). Only the shape those two produce is read here: years 1970 to 9999, an upper-case {@code T} and
 * {@code Z}, no offset, a fraction of 1 to 9 digits when there is one. Any other text is left to the formatter
 * ({@link #parseCanonical} answers null), so what is accepted, and how it is refused, does not change.
 */
public final class Instants {

    private static final int[] SCALE = {0, 100_000_000, 10_000_000, 1_000_000, 100_000, 10_000, 1_000, 100, 10, 1};
    /** 10000-01-01T00:00:00Z: from there on years have five digits and a sign. */
    private static final long FIVE_DIGIT_YEARS = 253_402_300_800L;
    private static final int SECONDS_PER_DAY = 86_400;

    private Instants() {
    }

    /**
     * The instant in {@code text} when it has the shape {@link #format} writes ({@code uuuu-MM-ddTHH:mm:ss[.f…]Z},
     * year 1970 on), null for any other text, valid or not.
     */
    public static Instant parseCanonical(String text) {
        int length = text.length();
        if (length < 20 || length > 30 || text.charAt(4) != '-' || text.charAt(7) != '-' || text.charAt(10) != 'T'
                || text.charAt(13) != ':' || text.charAt(16) != ':' || text.charAt(length - 1) != 'Z') {
            return null;
        }
        int year = digits(text, 0, 4);
        int month = digits(text, 5, 2);
        int day = digits(text, 8, 2);
        int hour = digits(text, 11, 2);
        int minute = digits(text, 14, 2);
        int second = digits(text, 17, 2);
        if (year < 1970 || month < 1 || month > 12 || day < 1 || hour < 0 || hour > 23 || minute < 0 || minute > 59
                || second < 0 || second > 59 || day > Month.of(month).length(Year.isLeap(year))) {
            return null;
        }
        int nanos = 0;
        if (length > 20) {
            int fraction = length - 21;
            if (text.charAt(19) != '.' || fraction < 1) {
                return null;
            }
            int value = digits(text, 20, fraction);
            if (value < 0) {
                return null;
            }
            nanos = value * SCALE[fraction];
        }
        long epochDay = LocalDate.of(year, month, day).toEpochDay();
        return Instant.ofEpochSecond(epochDay * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second, nanos);
    }

    /** {@code instant} as {@link Instant#toString} writes it: the fraction in groups of three digits, if any. */
    public static String format(Instant instant) {
        long seconds = instant.getEpochSecond();
        if (seconds < 0 || seconds >= FIVE_DIGIT_YEARS) {
            return instant.toString();
        }
        var date = LocalDate.ofEpochDay(seconds / SECONDS_PER_DAY);
        int ofDay = (int) (seconds % SECONDS_PER_DAY);
        int nanos = instant.getNano();
        int fraction = nanos == 0 ? 0 : nanos % 1_000_000 == 0 ? 3 : nanos % 1_000 == 0 ? 6 : 9;
        var text = new char[fraction == 0 ? 20 : 21 + fraction];
        put(text, 0, date.getYear(), 4);
        text[4] = '-';
        put(text, 5, date.getMonthValue(), 2);
        text[7] = '-';
        put(text, 8, date.getDayOfMonth(), 2);
        text[10] = 'T';
        put(text, 11, ofDay / 3600, 2);
        text[13] = ':';
        put(text, 14, ofDay / 60 % 60, 2);
        text[16] = ':';
        put(text, 17, ofDay % 60, 2);
        if (fraction > 0) {
            text[19] = '.';
            put(text, 20, nanos / SCALE[fraction], fraction);
        }
        text[text.length - 1] = 'Z';
        return new String(text);
    }

    /** The decimal number in {@code count} characters from {@code from}, or -1 if one of them is not an ASCII digit. */
    private static int digits(String text, int from, int count) {
        int value = 0;
        for (int i = from; i < from + count; i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                return -1;
            }
            value = value * 10 + (c - '0');
        }
        return value;
    }

    /** {@code value} as {@code count} decimal digits, zero-padded, at {@code at}. */
    private static void put(char[] text, int at, int value, int count) {
        for (int i = at + count - 1; i >= at; i--) {
            text[i] = (char) ('0' + value % 10);
            value /= 10;
        }
    }
}
