package dev.conveyor.api;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;
import org.springframework.boot.test.context.SpringBootTest;

/**
 * An api on a random port against a real PostgreSQL (a database of its own per test class) and a real Kafka.
 * Test classes register the services with {@link ApiTests#services(DynamicPropertyRegistry)}.
 */
@Target(ElementType.TYPE)
@Retention(RetentionPolicy.RUNTIME)
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT,
        properties = {"spring.config.name=conveyor-api", "conveyor.api.dispatch.poll-interval=50ms",
                // every queue the api's tests submit to
                "conveyor.api.queues=default,other,nobody-listens,list-q,status-q,rescue-q,sub-a,sub-b,sub-c,"
                        + "sub-replay,sort-a,sort-b,sort_a,sort0,lost-rejected,lost-released,lost-held,lost-accepted,"
                        + "lost-halted,partitions-q"})
public @interface ApiTest {
}
