package dev.conveyor.worker;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
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
    private static final Pattern SELECTOR = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)\\s*\\{([^}]*)}");
    private static final Pattern MATCHER = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)\\s*(?:=~|!~|!=|=)");
    private static final Pattern GROUPING = Pattern.compile("\\b(?:by|on)\\s*\\(([^)]*)\\)");

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

    /**
     * The label names an expression relies on, by the metric they are about: those its selectors match on
     * ({@code name{queue=~"..."}}), and those it groups by ({@code sum by (queue) (...)}), which each metric of the
     * expression must carry. Grafana's variables are replaced first, as in {@link #metricNames}.
     */
    static Map<String, Set<String>> labels(String expression) {
        var text = expression.replace("$__rate_interval", "1m").replace("$__interval", "1m").replace("$queue", ".*")
                .replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"", "\"\"");
        var labels = new LinkedHashMap<String, Set<String>>();
        var selector = SELECTOR.matcher(text);
        while (selector.find()) {
            var names = labels.computeIfAbsent(selector.group(1), metric -> new LinkedHashSet<>());
            MATCHER.matcher(selector.group(2)).results().forEach(m -> names.add(m.group(1)));
        }
        var grouped = new LinkedHashSet<String>();
        GROUPING.matcher(text).results().forEach(m -> Arrays.stream(m.group(1).split(","))
                .map(String::strip).filter(label -> !label.isEmpty()).forEach(grouped::add));
        for (var metric : metricNames(expression)) {
            labels.computeIfAbsent(metric, name -> new LinkedHashSet<>()).addAll(grouped);
        }
        return labels;
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
