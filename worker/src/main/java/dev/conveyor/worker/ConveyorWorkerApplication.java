package dev.conveyor.worker;

import java.util.Map;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/**
 * A Conveyor worker: takes jobs from its queues' share groups and runs each on a virtual thread. It keeps no
 * database of its own, so Boot's DataSource and Flyway set-up stay off even when they are on the classpath.
 */
@SpringBootApplication(excludeName = {
        "org.springframework.boot.jdbc.autoconfigure.DataSourceAutoConfiguration",
        "org.springframework.boot.jdbc.autoconfigure.DataSourceTransactionManagerAutoConfiguration",
        "org.springframework.boot.jdbc.autoconfigure.JdbcTemplateAutoConfiguration",
        "org.springframework.boot.jdbc.autoconfigure.JdbcClientAutoConfiguration",
        "org.springframework.boot.flyway.autoconfigure.FlywayAutoConfiguration"})
@ConfigurationPropertiesScan
public class ConveyorWorkerApplication {

    public static void main(String[] args) {
        application().run(args);
    }

    /** The worker's defaults live in {@code conveyor-worker.yml}; an operator's {@code application.yml} overrides. */
    public static SpringApplication application() {
        var application = new SpringApplication(ConveyorWorkerApplication.class);
        application.setDefaultProperties(Map.of("spring.config.name", "conveyor-worker,application"));
        return application;
    }
}
