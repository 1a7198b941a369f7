package dev.conveyor.common;

import java.time.Instant;
import tools.jackson.core.JsonGenerator;
import tools.jackson.core.JsonParser;
import tools.jackson.core.JsonToken;
import tools.jackson.databind.DeserializationContext;
import tools.jackson.databind.DeserializationFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.cfg.DateTimeFeature;
import tools.jackson.databind.cfg.JsonNodeFeature;
import tools.jackson.databind.SerializationContext;
import tools.jackson.databind.deser.std.StdScalarDeserializer;
import tools.jackson.databind.ext.javatime.deser.InstantDeserializer;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.module.SimpleModule;
import tools.jackson.databind.node.JsonNodeFactory;
import tools.jackson.databind.node.ObjectNode;
import tools.jackson.databind.ser.std.StdScalarSerializer;
import tools.jackson.databind.util.RawValue;

/**
 * The one JSON codec for everything that travels on Kafka: ISO-8601 instants, tolerant of added fields. Instants are
 * written and read through {@link Instants}, which skips the formatter for the shape it writes; any other text or a
 * number of seconds is read by Jackson's own deserializer, as before.
 *
 * <p>Trees (payloads, results) keep their numbers exactly: a number with a fraction or an exponent is read as a
 * {@link java.math.BigDecimal} ({@code DecimalNode}), not a double, so that {@code 0.1000000000000000000001} reaches a
 * handler, and a handler's result the database, as it was written. Typed fields ({@code double}, {@code int}) read
 * as before.
 */
public final class Json {

    /** Shared, thread-safe mapper. */
    public static final JsonMapper MAPPER = JsonMapper.builder()
            .disable(DateTimeFeature.WRITE_DATES_AS_TIMESTAMPS)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(JsonNodeFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .addModule(instantText().addDeserializer(Instant.class, new InstantReader()))
            .build();

    private Json() {
    }

    public static String write(Object value) {
        return MAPPER.writeValueAsString(value);
    }

    public static byte[] writeBytes(Object value) {
        return MAPPER.writeValueAsBytes(value);
    }

    public static <T> T read(String json, Class<T> type) {
        return MAPPER.readValue(json, type);
    }

    public static JsonNode tree(String json) {
        return MAPPER.readTree(json);
    }

    /**
     * Instants written as {@link Instants#format} writes them: the same text as Jackson's own serializer (with
     * timestamps as text), without its formatter. For other mappers of the same processes, such as Spring MVC's.
     */
    public static SimpleModule instantText() {
        return new SimpleModule("conveyor-instant-text").addSerializer(Instant.class, new InstantWriter());
    }

    /**
     * JSON text that is already valid JSON (written by Jackson, or by PostgreSQL from {@code jsonb}), as a node that
     * is written out as it is: nothing is parsed, and numbers keep every digit.
     */
    public static JsonNode raw(String json) {
        return JsonNodeFactory.instance.rawValueNode(new RawValue(json));
    }

    public static ObjectNode object() {
        return JsonNodeFactory.instance.objectNode();
    }

    private static final class InstantWriter extends StdScalarSerializer<Instant> {

        InstantWriter() {
            super(Instant.class);
        }

        @Override
        public void serialize(Instant value, JsonGenerator generator, SerializationContext context) {
            generator.writeString(Instants.format(value));
        }
    }

    private static final class InstantReader extends StdScalarDeserializer<Instant> {

        InstantReader() {
            super(Instant.class);
        }

        @Override
        public Instant deserialize(JsonParser parser, DeserializationContext context) {
            if (parser.hasToken(JsonToken.VALUE_STRING)) {
                var instant = Instants.parseCanonical(parser.getString());
                if (instant != null) {
                    return instant;
                }
            }
            return InstantDeserializer.INSTANT.deserialize(parser, context);
        }
    }
}
