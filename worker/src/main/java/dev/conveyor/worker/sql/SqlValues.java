package dev.conveyor.worker.sql;

import dev.conveyor.common.Json;
import java.sql.Array;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.util.Base64;
import tools.jackson.core.JacksonException;
import tools.jackson.core.exc.StreamConstraintsException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.node.JsonNodeFactory;

/** JSON to bound parameters and columns back to JSON, keeping JSON's types. */
final class SqlValues {

    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private SqlValues() {
    }

    /**
     * Binds a JSON value. Text goes untyped (the pool sets {@code stringtype=unspecified}) so that PostgreSQL reads
     * it as the column's type: a timestamp, a uuid or jsonb from a JSON string. It is always a value, never SQL.
     */
    static void bind(PreparedStatement statement, int index, JsonNode value) throws SQLException {
        if (value == null || value.isNull()) {
            statement.setNull(index, Types.NULL);
        } else if (value.isBoolean()) {
            statement.setBoolean(index, value.asBoolean());
        } else if (value.isIntegralNumber() && value.canConvertToLong()) {
            statement.setLong(index, value.asLong());
        } else if (value.isNumber()) {
            statement.setBigDecimal(index, value.decimalValue());
        } else if (value.isString()) {
            statement.setString(index, value.asString());
        } else {
            // objects and arrays travel as JSON text; write :param::jsonb in the statement to use them as JSON
            statement.setString(index, Json.write(value));
        }
    }

    /** Column {@code index} of the current row as JSON. */
    static JsonNode read(ResultSet rows, int index) throws SQLException {
        var meta = rows.getMetaData();
        var typeName = meta.getColumnTypeName(index).toLowerCase(java.util.Locale.ROOT);
        JsonNode value = switch (typeName) {
            case "json", "jsonb" -> {
                var text = rows.getString(index);
                yield text == null ? null : json(text);
            }
            // ISO-8601: an instant in UTC for timestamptz, local values as they are stored
            case "timestamptz" -> text(rows.getObject(index, OffsetDateTime.class), t -> t.toInstant().toString());
            case "timestamp" -> text(rows.getObject(index, LocalDateTime.class), LocalDateTime::toString);
            case "date" -> text(rows.getObject(index, LocalDate.class), LocalDate::toString);
            case "time" -> timeOfDay(rows.getString(index));
            // bit(1) is a boolean, as bool is; a longer bit string, which getBoolean refuses, is its digits ("0101")
            case "bit" -> {
                var bits = rows.getString(index);
                yield bits == null ? null : bits.length() == 1 ? NODES.booleanNode(bits.equals("1"))
                        : NODES.stringNode(bits);
            }
            default -> byJdbcType(rows, index, meta.getColumnType(index));
        };
        return rows.wasNull() || value == null ? NODES.nullNode() : value;
    }

    /**
     * A json or jsonb value past what the JSON reader takes (nesting, the length of a number or a text): the same row
     * would fail every attempt alike. Its message says what is wrong, in words of the value, not of the reader.
     */
    static final class UnreadableJson extends RuntimeException {

        private UnreadableJson(String message) {
            super(message, null, false, false);
        }
    }

    private static JsonNode json(String text) {
        try {
            return Json.tree(text);
        } catch (StreamConstraintsException e) {
            throw new UnreadableJson(pastLimits(String.valueOf(e.getMessage())));
        } catch (JacksonException e) {
            var where = e.getLocation() == null ? "" : " (line " + e.getLocation().getLineNr() + ", column "
                    + e.getLocation().getColumnNr() + ")";
            throw new UnreadableJson("is JSON the worker cannot read" + where);
        }
    }

    /** Which of the reader's limits a value is past, from the reader's message, which alone says. */
    private static String pastLimits(String message) {
        var limits = Json.MAPPER.tokenStreamFactory().streamReadConstraints();
        if (message.contains("nesting depth")) {
            return "is nested deeper than " + limits.getMaxNestingDepth() + " levels";
        }
        if (message.contains("Number value length")) {
            return "holds a number longer than " + limits.getMaxNumberLength() + " characters written out in full";
        }
        if (message.contains("String value length")) {
            return "holds a text longer than " + limits.getMaxStringLength() + " characters";
        }
        return "is past the JSON reader's limits: nested too deep, or a number, a text or a name too long";
    }

    private static JsonNode byJdbcType(ResultSet rows, int index, int type) throws SQLException {
        return switch (type) {
            case Types.BIT, Types.BOOLEAN -> NODES.booleanNode(rows.getBoolean(index));
            case Types.TINYINT, Types.SMALLINT, Types.INTEGER, Types.BIGINT -> NODES.numberNode(rows.getLong(index));
            case Types.NUMERIC, Types.DECIMAL -> {
                // numeric's NaN and ±Infinity, which getBigDecimal refuses, stay text as double precision's do
                var text = rows.getString(index);
                yield switch (text) {
                    case null -> null;
                    case "NaN", "Infinity", "-Infinity" -> NODES.stringNode(text);
                    default -> NODES.numberNode(rows.getBigDecimal(index));
                };
            }
            case Types.REAL, Types.FLOAT, Types.DOUBLE -> {
                var number = rows.getDouble(index);
                // JSON has no NaN or Infinity: those stay text
                yield Double.isFinite(number) ? NODES.numberNode(number) : NODES.stringNode(Double.toString(number));
            }
            case Types.BINARY, Types.VARBINARY, Types.LONGVARBINARY -> {
                var bytes = rows.getBytes(index);
                yield bytes == null ? null : NODES.stringNode(Base64.getEncoder().encodeToString(bytes));
            }
            case Types.ARRAY -> array(rows.getArray(index));
            default -> {
                var text = rows.getString(index);
                yield text == null ? null : NODES.stringNode(text);
            }
        };
    }

    /**
     * An array, its elements read as columns are, in any number of dimensions. Not getArray's Java array: its
     * BigDecimal[] refuses numeric's NaN, and its elements showed as Java's toString (an inner array or a bytea as an
     * object's identity, a timestamptz in the JVM's zone, jsonb as text).
     */
    private static JsonNode array(Array array) throws SQLException {
        if (array == null) {
            return null;
        }
        var result = NODES.arrayNode();
        try (var elements = array.getResultSet()) {
            while (elements.next()) {
                // column 1 is the index; 2 the element: a value, or an array of one dimension less
                result.add(read(elements, 2));
            }
        }
        return result;
    }

    /**
     * A time of day as ISO-8601 ({@code 13:45}, {@code 13:45:00.5}), the end of the day as PostgreSQL stores it,
     * {@code 24:00}. Read as a LocalTime it was 23:59:59.999999999 in text results, and from a statement's fifth run
     * on, when pgjdbc reads results in binary, a DateTimeException that failed every attempt of its job.
     */
    private static JsonNode timeOfDay(String text) {
        if (text == null) {
            return null;
        }
        return NODES.stringNode(text.startsWith("24:") ? "24:00" : LocalTime.parse(text).toString());
    }

    private static <T> JsonNode text(T value, java.util.function.Function<T, String> format) {
        return value == null ? null : NODES.stringNode(format.apply(value));
    }
}
