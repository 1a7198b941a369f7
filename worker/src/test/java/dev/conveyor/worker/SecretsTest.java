package dev.conveyor.worker;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** Secrets stay out of text: the helpers, and the settings records that hold the {@code sql} password. */
class SecretsTest {

    private static final String PASSWORD = "s3cret-Db-pass";

    private static SqlSettings sql(String url, String password) {
        return new SqlSettings(url, "reporter", password, 2, Duration.ofSeconds(1), 10,
                Map.of("q", new SqlSettings.Statement("SELECT 1", null)));
    }

    @Nested
    class Helpers {

        @Test
        void hidesEachSecretOfFourCharactersOrMore() {
            assertThat(Secrets.hide("token abcd and abcd again, ab stays", List.of("abcd", "ab")))
                    .isEqualTo("token **** and **** again, ab stays");
            assertThat(Secrets.hide(null, List.of("abcd"))).isNull();
        }

        @Test
        void masksPasswordsInUrls() {
            assertThat(Secrets.url("jdbc:postgresql://db:5432/app?user=me&password=" + PASSWORD + "&ssl=true"))
                    .isEqualTo("jdbc:postgresql://db:5432/app?user=me&password=****&ssl=true");
            assertThat(Secrets.url("jdbc:postgresql://me:" + PASSWORD + "@db/app"))
                    .isEqualTo("jdbc:postgresql://me:****@db/app");
            assertThat(Secrets.url("jdbc:postgresql://db/app")).isEqualTo("jdbc:postgresql://db/app");
        }
    }

    @Nested
    class SqlPassword {

        @Test
        void isMaskedInTheSettingsToString() {
            var settings = sql("jdbc:postgresql://db/app?password=" + PASSWORD, PASSWORD);
            assertThat(settings.toString()).doesNotContain(PASSWORD)
                    .contains("password=****", "url=jdbc:postgresql://db/app?password=****", "username=reporter",
                            "poolSize=2");
            assertThat(settings.password()).isEqualTo(PASSWORD);
        }

        @Test
        void isMaskedInTheWorkerPropertiesToString() {
            var properties = new WorkerProperties("w1", List.of("default"), 1, 10, 1024, Duration.ZERO, 10, null, 1,
                    (short) 1, Duration.ZERO, Duration.ofSeconds(1), Duration.ofMillis(100), Map.of(), 5, HttpSettings.defaults(),
                    sql("jdbc:postgresql://db/app", PASSWORD));
            assertThat(properties.toString()).doesNotContain(PASSWORD).contains("password=****");
        }

        @Test
        void staysNullOrEmptyWhenNoneIsSet() {
            assertThat(sql("jdbc:postgresql://db/app", null).toString()).contains("password=null");
            assertThat(SqlSettings.off().toString()).contains("url=null");
        }
    }
}
