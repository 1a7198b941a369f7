package dev.conveyor.worker;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.boot.context.properties.ConfigurationPropertiesScan;

/** A Conveyor worker: takes jobs from its queues' share groups and runs each on a virtual thread. */
@SpringBootApplication
@ConfigurationPropertiesScan
public class ConveyorWorkerApplication {

    public static void main(String[] args) {
        SpringApplication.run(ConveyorWorkerApplication.class, args);
    }
}
