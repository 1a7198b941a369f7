package dev.conveyor.local.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** A plain-text table that is also a Markdown table: columns padded to line up, pipes between them. */
final class Table {

    private final List<String> header;
    private final List<List<String>> rows = new ArrayList<>();

    Table(List<String> header) {
        this.header = List.copyOf(header);
    }

    void add(List<String> row) {
        if (row.size() != header.size()) {
            throw new IllegalArgumentException("a row of " + row.size() + " cells in a table of " + header.size()
                    + " columns");
        }
        rows.add(List.copyOf(row));
    }

    @Override
    public String toString() {
        var widths = new int[header.size()];
        Arrays.fill(widths, 3);
        for (var row : allRows()) {
            for (var i = 0; i < row.size(); i++) {
                widths[i] = Math.max(widths[i], row.get(i).length());
            }
        }
        var out = new StringBuilder();
        line(out, header, widths);
        var rule = new ArrayList<String>();
        for (var width : widths) {
            rule.add("-".repeat(width));
        }
        line(out, rule, widths);
        rows.forEach(row -> line(out, row, widths));
        return out.toString();
    }

    private List<List<String>> allRows() {
        var all = new ArrayList<List<String>>();
        all.add(header);
        all.addAll(rows);
        return all;
    }

    private static void line(StringBuilder out, List<String> cells, int[] widths) {
        out.append('|');
        for (var i = 0; i < cells.size(); i++) {
            out.append(' ').append(cells.get(i)).append(" ".repeat(Math.max(0, widths[i] - cells.get(i).length())))
                    .append(" |");
        }
        out.append('\n');
    }
}
