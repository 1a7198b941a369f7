package dev.conveyor.api;

import java.util.Map;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;
import org.springframework.scheduling.annotation.EnableScheduling;

/** The Conveyor api: the HTTP contract, the job store, dispatching and recording outcomes. */
@SpringBootApplication
@ConfigurationPropertiesScan
@EnableScheduling
public class ConveyorApiApplication {

    public static void main(String[] args) {
        application().run(args);
    }

    /**
     * The api's defaults live in {@code conveyor-api.yml} rather than {@code application.yml}, so that the api and
     * the worker can share one classpath (as under {@code local}); an {@code application.yml} of the operator's
     * still overrides them.
     */
    public static SpringApplication application() {
        var application = new SpringApplication(ConveyorApiApplication.class);
        application.setDefaultProperties(Map.of("spring.config.name", "conveyor-api,application"));
        return application;
    }
}
