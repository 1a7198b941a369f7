package dev.conveyor.api;

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
        SpringApplication.run(ConveyorApiApplication.class, args);
    }
}
