package dev.conveyor.worker.sql;

import java.util.ArrayList;
import java.util.List;

/**
 * A statement with {@code :name} placeholders turned into JDBC's {@code ?}, with the names in order. Text inside
 * quotes, dollar quotes and comments is left alone, and {@code ::} casts are not placeholders, so the operator's SQL
 * means what it says in PostgreSQL.
 */
record NamedSql(String jdbcSql, List<String> parameterNames) {

    static NamedSql parse(String sql) {
        var out = new StringBuilder(sql.length());
        var names = new ArrayList<String>();
        var i = 0;
        while (i < sql.length()) {
            var c = sql.charAt(i);
            var skipTo = skipped(sql, i);
            if (skipTo > i) {
                out.append(sql, i, skipTo);
                i = skipTo;
            } else if (c == ':' && i + 1 < sql.length() && sql.charAt(i + 1) == ':') {
                out.append("::");
                i += 2;
            } else if (c == ':' && i + 1 < sql.length() && isNameStart(sql.charAt(i + 1))) {
                var end = i + 2;
                while (end < sql.length() && isNamePart(sql.charAt(end))) {
                    end++;
                }
                names.add(sql.substring(i + 1, end));
                out.append('?');
                i = end;
            } else {
                out.append(c);
                i++;
            }
        }
        return new NamedSql(out.toString(), List.copyOf(names));
    }

    /** Where a quoted part or comment starting at {@code i} ends, or {@code i} when none starts there. */
    private static int skipped(String sql, int i) {
        var c = sql.charAt(i);
        if (c == '\'') {
            var escapes = i > 0 && (sql.charAt(i - 1) == 'E' || sql.charAt(i - 1) == 'e');
            var j = i + 1;
            while (j < sql.length() && sql.charAt(j) != '\'') {
                j += escapes && sql.charAt(j) == '\\' ? 2 : 1;
            }
            return Math.min(j + 1, sql.length());
        }
        if (c == '"') {
            return closing(sql, i + 1, "\"");
        }
        if (sql.startsWith("--", i)) {
            return closing(sql, i + 2, "\n");
        }
        if (sql.startsWith("/*", i)) {
            return closing(sql, i + 2, "*/");
        }
        if (c == '$') {
            var j = i + 1;
            while (j < sql.length() && isNamePart(sql.charAt(j)) && !Character.isDigit(sql.charAt(i + 1))) {
                j++;
            }
            if (j < sql.length() && sql.charAt(j) == '$') {
                var tag = sql.substring(i, j + 1);
                return closing(sql, j + 1, tag);
            }
        }
        return i;
    }

    private static int closing(String sql, int from, String end) {
        var at = sql.indexOf(end, from);
        return at < 0 ? sql.length() : at + end.length();
    }

    private static boolean isNameStart(char c) {
        return Character.isLetter(c) || c == '_';
    }

    private static boolean isNamePart(char c) {
        return Character.isLetterOrDigit(c) || c == '_';
    }
}
