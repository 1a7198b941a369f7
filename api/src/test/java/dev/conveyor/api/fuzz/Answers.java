package dev.conveyor.api.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

/** What every answer to a fuzzed request must be. */
final class Answers {

    /** Words that only an exception, a stack trace or SQL would put in a body. */
    static final List<String> LEAKS = List.of("Exception", "\tat ", "at java.", "at org.", "at dev.conveyor",
            "java.lang", "org.springframework", "org.postgresql", "SQLSTATE", "SELECT ", "INSERT INTO", "UPDATE jobs",
            "relation \"", "Caused by");

    private Answers() {
    }

    static void check(Case request, RawHttp.Answer answer) {
        switch (request.expect()) {
            case Case.Accepted accepted -> assertThat(answer.status()).as("a 2xx to a valid input: %s\nanswer: %s",
                    request, answer).isBetween(200, 299);
            case Case.Refused refused -> {
                if (refused.statuses().isEmpty()) {
                    assertThat(answer.status()).as("a 4xx to %s\nanswer: %s", request, answer).isBetween(400, 499);
                } else {
                    assertThat(refused.statuses()).as("status of %s\nanswer: %s", request, answer)
                            .contains(answer.status());
                }
                isProblem(request, answer);
                if (!refused.fields().isEmpty()) {
                    assertThat(answer.json().get("errors").valueStream().map(e -> e.get("field").asString()))
                            .as("errors[].field of %s\nanswer: %s", request, answer)
                            .anyMatch(field -> refused.fields().stream().anyMatch(named -> field.startsWith(named)
                                    || isCutShort(field, named)));
                }
            }
        }
    }

    /** The api names a long field by its first characters and "…". */
    private static boolean isCutShort(String field, String named) {
        return field.endsWith("\u2026") && named.startsWith(field.substring(0, field.length() - 1));
    }

    /**
     * A problem document: {@code application/problem+json} with {@code type}, {@code title}, {@code status} and
     * {@code detail}, and nothing an exception, a stack trace or SQL would say.
     */
    static void isProblem(Object request, RawHttp.Answer answer) {
        assertThat(answer.contentType()).as("media type of the answer to %s\nanswer: %s", request, answer)
                .startsWith("application/problem+json");
        var problem = answer.json();
        assertThat(problem.get("status").asInt()).as("status member: %s", answer).isEqualTo(answer.status());
        assertThat(problem.get("title").asString()).as("title member: %s", answer).isNotBlank();
        assertThat(problem.get("type").asString()).as("type member: %s", answer).isNotBlank();
        assertThat(problem.get("detail").asString()).as("detail member: %s", answer).isNotBlank();
        assertThat(answer.text()).as("the answer to %s", request).doesNotContain(LEAKS);
    }
}
