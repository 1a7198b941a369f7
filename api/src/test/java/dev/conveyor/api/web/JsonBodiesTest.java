package dev.conveyor.api.web;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class JsonBodiesTest {

    @ParameterizedTest
    @ValueSource(strings = {"{\"type\":\"echo\"}", "{\"s\":\"caf\u00e9 \u20ac \ud83d\ude00 \uffff \u0080\"}", "\u00e9",
            "\ud83d\ude00"})
    void takesUtf8(String text) {
        JsonBodies.requireUtf8(text.getBytes(StandardCharsets.UTF_8));
    }

    /** Each char is one byte: overlong forms, surrogates, past U+10FFFF, a lone continuation byte, a cut sequence. */
    @ParameterizedTest
    @ValueSource(strings = {"\u00c1\u00a5", "\u00c0\u00af", "\u00c0\u0080", "\u00e0\u0080\u00af",
            "\u00f0\u0080\u0080\u00af", "\u00ed\u00a0\u0080", "\u00f4\u0090\u0080\u0080", "\u0080", "\u00e9x",
            "\u00e2\u0082", "\u00ff", "\u00f8\u0088\u0080\u0080\u0080"})
    void refusesWhatIsNotUtf8NamingTheBody(String bytes) {
        assertThatThrownBy(() -> JsonBodies.requireUtf8(("{\"s\":\"" + bytes).getBytes(StandardCharsets.ISO_8859_1)))
                .isInstanceOfSatisfying(ApiException.class, e -> {
                    assertThat(e.errors()).extracting(FieldError::field).containsExactly("body");
                    assertThat(e.getMessage()).contains("not valid UTF-8", "byte 6");
                });
    }
}
