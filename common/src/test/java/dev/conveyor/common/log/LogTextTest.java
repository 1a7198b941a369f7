package dev.conveyor.common.log;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class LogTextTest {

    @Test
    void leavesPlainTextAsItIs() {
        var text = "Unrecognized property \"x\" at line 1, column 7: naïve, 日本, emoji \uD83D\uDE00";
        assertThat(LogText.of(text, 500)).isSameAs(text);
    }

    @Test
    void escapesWhatCouldStartALineOrRepaintATerminal() {
        assertThat(LogText.of("a\nb\r\nc\td", 100)).isEqualTo("a\\nb\\r\\nc\\td");
        assertThat(LogText.of("red \u001b[31m here\u0007\u0000\u007f\u0085", 100))
                .isEqualTo("red \\u001b[31m here\\u0007\\u0000\\u007f\\u0085");
        assertThat(LogText.of("line\u2028sep\u2029para", 100)).isEqualTo("line\\u2028sep\\u2029para");
        assertThat(LogText.of("invoice\u202etxt.exe \u2066x\u2069 \u200f", 100))
                .isEqualTo("invoice\\u202etxt.exe \\u2066x\\u2069 \\u200f");
        assertThat(LogText.of("lone \ud800 surrogate", 100)).isEqualTo("lone \\ud800 surrogate");
        assertThat(LogText.of("a backslash \\n stays one", 100)).isEqualTo("a backslash \\n stays one");
    }

    @Test
    void cutsLongTextSayingHowMuchWasLeftOut() {
        var megabyte = "x".repeat(1 << 20);
        var logged = LogText.of(megabyte, 200);
        assertThat(logged).startsWith("x".repeat(200)).endsWith("... (1048376 more characters)");
        assertThat(logged.length()).isLessThan(240);
        // the limit counts the text's own characters: an escaped one takes at most six in the log
        assertThat(LogText.of("\n".repeat(1000), 10)).isEqualTo("\\n".repeat(10) + "... (990 more characters)");
        // a pair is not cut in two
        assertThat(LogText.of("ab\uD83D\uDE00cd", 3)).isEqualTo("ab... (4 more characters)");
    }

    @Test
    void namesNullAndAnyObject() {
        assertThat(LogText.of(null, 10)).isEqualTo("null");
        assertThat(LogText.of(new IllegalStateException("bad\nthing"), 100))
                .isEqualTo("java.lang.IllegalStateException: bad\\nthing");
    }
}
