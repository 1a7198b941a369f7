package dev.conveyor.local.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class TableTest {

    @Test
    void padsEveryColumnToItsWidestCellAsAMarkdownTable() {
        var table = new Table(List.of("workload", "jobs/s"));
        table.add(List.of("W1 noop, batches", "1,568 (636-2,424)"));
        table.add(List.of("W2", "731"));

        assertThat(table.toString()).isEqualTo("""
                | workload         | jobs/s            |
                | ---------------- | ----------------- |
                | W1 noop, batches | 1,568 (636-2,424) |
                | W2               | 731               |
                """);
    }

    @Test
    void keepsTheRuleAtLeastThreeDashesWide() {
        var table = new Table(List.of("n"));
        table.add(List.of("1"));

        assertThat(table.toString().lines().toList()).containsExactly("| n   |", "| --- |", "| 1   |");
    }

    @Test
    void refusesARowOfTheWrongWidth() {
        var table = new Table(List.of("a", "b"));

        assertThatThrownBy(() -> table.add(List.of("1"))).hasMessageContaining("a row of 1 cells in a table of 2");
    }
}
