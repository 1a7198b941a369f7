package dev.conveyor.worker;

import java.util.LinkedHashSet;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The metric names a PromQL expression selects. Not a full parser: it drops what cannot name a metric (strings, label
 * matchers, ranges, grouping label lists), then takes every identifier that is not a function call or a keyword. It
 * also refuses expressions whose brackets do not balance.
 */
final class PromQl {

    private static final Set<String> KEYWORDS = Set.of("by", "without", "on", "ignoring", "group_left",
            "group_right", "bool", "and", "or", "unless", "offset", "inf", "nan");
    private static final Pattern IDENTIFIER = Pattern.compile("(?<![\\w.:])([a-zA-Z_:][a-zA-Z0-9_:]*+)(?!\\s*\\()");

    private PromQl() {
    }

    /** The metric names in {@code expression}, with Grafana's variables replaced by plain values first. */
    static Set<String> metricNames(String expression) {
        var text = expression.replace("$__rate_interval", "1m").replace("$__interval", "1m")
                .replace("$queue", ".*");
        if (text.contains("$")) {
            throw new IllegalArgumentException("unknown variable in " + expression);
        }
        requireBalanced(text, '(', ')');
        requireBalanced(text, '{', '}');
        requireBalanced(text, '[', ']');
        text = text.replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"", "\"\"")
                .replaceAll("\\{[^}]*}", " ")
                .replaceAll("\\[[^]]*]", " ")
                .replaceAll("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " ");
        var names = new LinkedHashSet<String>();
        var matcher = IDENTIFIER.matcher(text);
        while (matcher.find()) {
            if (!KEYWORDS.contains(matcher.group(1))) {
                names.add(matcher.group(1));
            }
        }
        return names;
    }

    private static void requireBalanced(String text, char open, char close) {
        var depth = 0;
        for (var c : text.toCharArray()) {
            depth += c == open ? 1 : c == close ? -1 : 0;
            if (depth < 0) {
                throw new IllegalArgumentException("unbalanced " + close + " in " + text);
            }
        }
        if (depth != 0) {
            throw new IllegalArgumentException("unbalanced " + open + " in " + text);
        }
    }
}
