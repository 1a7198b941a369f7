package dev.conveyor.worker;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/** One scrape of {@code /actuator/prometheus}, read as samples: a name, its labels and a value. */
record Scrape(List<Sample> samples) {

    record Sample(String name, Map<String, String> labels, double value) {
    }

    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)})?\\s+(\\S+)");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    static Scrape of(String text) {
        var samples = new ArrayList<Sample>();
        for (var line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            var matcher = SAMPLE.matcher(line);
            if (!matcher.find()) {
                throw new IllegalArgumentException("not a sample: " + line);
            }
            var labels = new HashMap<String, String>();
            if (matcher.group(3) != null) {
                var label = LABEL.matcher(matcher.group(3));
                while (label.find()) {
                    labels.put(label.group(1), label.group(2));
                }
            }
            samples.add(new Sample(matcher.group(1), labels, Double.parseDouble(matcher.group(4))));
        }
        return new Scrape(samples);
    }

    /** The names of every sample, as PromQL names them (with {@code _total}, {@code _bucket} and the like). */
    Set<String> names() {
        var names = new LinkedHashSet<String>();
        samples.forEach(sample -> names.add(sample.name()));
        return names;
    }

    /** The label names that samples of that name carry. */
    Set<String> labels(String name) {
        var labels = new LinkedHashSet<String>();
        samples.stream().filter(sample -> sample.name().equals(name)).forEach(sample -> labels.addAll(
                sample.labels().keySet()));
        return labels;
    }

    /** The sum of the samples of that name whose labels include {@code labels}; null when there are none. */
    Double value(String name, String... labels) {
        Double sum = null;
        for (var sample : samples) {
            if (sample.name().equals(name) && matches(sample.labels(), labels)) {
                sum = (sum == null ? 0 : sum) + sample.value();
            }
        }
        return sum;
    }

    private static boolean matches(Map<String, String> have, String... wanted) {
        for (var i = 0; i < wanted.length; i += 2) {
            if (!wanted[i + 1].equals(have.get(wanted[i]))) {
                return false;
            }
        }
        return true;
    }
}
