package dev.conveyor.local;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.Yaml;

/**
 * The {@code conveyor.*} property names a module declares, read from its source text: the
 * components of its {@code @ConfigurationProperties} records and the keys of its config files.
 */
final class ConveyorProperties {

    private static final Pattern PROPERTIES_RECORD = Pattern.compile(
            "@ConfigurationProperties\\(\\s*(?:(?:prefix|value)\\s*=\\s*)?\"([^\"]+)\"\\s*\\)[^{]*?record\\s+\\w+\\s*\\(([^{]*)\\)\\s*(?:implements[^{]*)?\\{",
            Pattern.DOTALL);
    private static final Pattern COMPONENT = Pattern.compile("(\\w+)\\s*(?:,|$)");
    private static final Pattern ANNOTATION = Pattern.compile("@\\w+(?:\\.\\w+)*(?:\\([^()]*\\))?");

    private ConveyorProperties() {
    }

    static Set<String> declaredIn(Path sourceRoot) throws IOException {
        var names = new HashSet<String>();
        var java = sourceRoot.resolve("java");
        if (Files.isDirectory(java)) {
            try (var files = Files.walk(java)) {
                for (var file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
                    names.addAll(fromRecords(Files.readString(file)));
                }
            }
        }
        var resources = sourceRoot.resolve("resources");
        if (Files.isDirectory(resources)) {
            try (var files = Files.list(resources)) {
                for (var file : files.toList()) {
                    names.addAll(fromConfigFile(file));
                }
            }
        }
        return names;
    }

    static Set<String> fromRecords(String source) {
        var names = new HashSet<String>();
        var matcher = PROPERTIES_RECORD.matcher(source);
        while (matcher.find()) {
            var components = ANNOTATION.matcher(matcher.group(2).replaceAll("/\\*.*?\\*/|//[^\\n]*", "")).replaceAll("");
            var depth = 0;
            var flat = new StringBuilder();
            for (var c : components.toCharArray()) {
                depth += c == '<' ? 1 : c == '>' ? -1 : 0;
                flat.append(depth > 0 && c == ',' ? ';' : c);
            }
            COMPONENT.matcher(flat.toString().strip()).results()
                    .forEach(m -> names.add(matcher.group(1) + "." + kebab(m.group(1))));
        }
        return names;
    }

    private static Set<String> fromConfigFile(Path file) throws IOException {
        var name = file.getFileName().toString();
        var names = new HashSet<String>();
        if (name.endsWith(".properties")) {
            for (var line : Files.readAllLines(file)) {
                if (!line.isBlank() && !line.startsWith("#") && line.contains("=")) {
                    names.add(line.substring(0, line.indexOf('=')).strip());
                }
            }
        } else if (name.endsWith(".yml") || name.endsWith(".yaml")) {
            for (Object document : new Yaml().loadAll(Files.readString(file))) {
                if (document instanceof Map<?, ?> map) {
                    flatten("", map, names);
                }
            }
        }
        return names;
    }

    private static void flatten(String prefix, Map<?, ?> map, Set<String> names) {
        map.forEach((key, value) -> {
            var name = prefix + key;
            names.add(name);
            if (value instanceof Map<?, ?> child) {
                flatten(name + ".", child, names);
            }
        });
    }

    private static String kebab(String camel) {
        return camel.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase();
    }
}
