package dev.conveyor.worker.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class SensitiveQueryTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            http://h/p                                   | http://h/p
            http://h/p?                                  | http://h/p?
            http://h/p?a=1&b=2                           | http://h/p?a=1&b=2
            http://h/p?token=t1&a=1                      | http://h/p?token=****&a=1
            http://h/p?a=1&API_KEY=k&Key=k2              | http://h/p?a=1&API_KEY=****&Key=****
            http://h/p?api%5Fkey=k&client_secret=s       | http://h/p?api%5Fkey=****&client_secret=****
            http://h/p?password=&pwd                     | http://h/p?password=****&pwd
            http://h/p?code=c#code=fragment              | http://h/p?code=****#code=fragment
            http://h/p?auth=%zz&x=%zz                    | http://h/p?auth=****&x=%zz
            http://h/p?author=a&keyboard=b               | http://h/p?author=a&keyboard=b
            """)
    void masksTheValuesOfCredentialParametersOnly(String url, String shown) {
        assertThat(SensitiveQuery.shown(url)).isEqualTo(shown);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            http://h/p?a=1                              | ''
            http://h/p?sig=abc%2Bdef&a=1                | abc%2Bdef,abc+def
            http://h/p?access_token=t1&Signature=s2      | t1,t1,s2,s2
            """)
    void secretsAreTheValuesAsSentAndDecoded(String url, String secrets) {
        assertThat(String.join(",", SensitiveQuery.secrets(URI.create(url)))).isEqualTo(secrets);
    }
}
