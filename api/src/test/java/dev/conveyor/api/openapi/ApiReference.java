package dev.conveyor.api.openapi;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * What docs/api.md says, read from its two kinds of table: the endpoint table under "## Endpoints" (method, path,
 * statuses, parameters, headers) and one field table per schema under "## Schemas" ("### Name", then
 * {@code | `field` | ...} rows).
 */
record ApiReference(Map<String, Endpoint> endpoints, Map<String, Set<String>> schemas) {

    /** One row of the endpoint table. */
    record Endpoint(Set<String> statuses, Set<String> parameters, Set<String> headers) {
    }

    /** docs/api.md of this checkout; tests run in the module's directory. */
    static final Path FILE = Path.of("..", "docs", "api.md");

    private static final Pattern ENDPOINT = Pattern.compile(
            "^\\| `(GET|POST|PUT|PATCH|DELETE)` \\| `(/[^`]*)` \\|([^|]*)\\|([^|]*)\\|([^|]*)\\|\\s*$");
    private static final Pattern FIELD = Pattern.compile("^\\| `([A-Za-z0-9_]+)` \\|");
    private static final Pattern NAMES = Pattern.compile("`([^`]+)`");

    static ApiReference read() {
        try {
            return parse(Files.readString(FILE));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static ApiReference parse(String markdown) {
        var endpoints = new LinkedHashMap<String, Endpoint>();
        var schemas = new LinkedHashMap<String, Set<String>>();
        String section = "";
        String schema = null;
        for (var line : markdown.split("\n")) {
            if (line.startsWith("## ")) {
                section = line.substring(3).trim();
                schema = null;
            } else if (line.startsWith("### ") && section.equals("Schemas")) {
                schema = line.substring(4).trim();
                schemas.put(schema, new LinkedHashSet<>());
            } else if (section.equals("Endpoints")) {
                var row = ENDPOINT.matcher(line);
                if (row.matches()) {
                    endpoints.put(row.group(1) + " " + row.group(2), new Endpoint(
                            Arrays.stream(row.group(3).split(",")).map(String::trim).filter(s -> !s.isEmpty())
                                    .collect(Collectors.toCollection(LinkedHashSet::new)),
                            names(row.group(4)), names(row.group(5))));
                }
            } else if (schema != null) {
                var row = FIELD.matcher(line);
                if (row.find()) {
                    schemas.get(schema).add(row.group(1));
                }
            }
        }
        return new ApiReference(endpoints, schemas);
    }

    private static Set<String> names(String cell) {
        var names = new LinkedHashSet<String>();
        var matcher = NAMES.matcher(cell);
        while (matcher.find()) {
            names.add(matcher.group(1));
        }
        return names;
    }
}
