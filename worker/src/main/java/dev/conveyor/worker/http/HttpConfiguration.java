package dev.conveyor.worker.http;

import dev.conveyor.common.handler.JobHandler;
import dev.conveyor.worker.WorkerProperties;
import java.time.Clock;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;

/** Declares the {@code http} handler from {@code conveyor.worker.http}. */
@Configuration(proxyBeanMethods = false)
class HttpConfiguration {

    @Bean
    JobHandler httpHandler(WorkerProperties properties, Clock clock) {
        return new HttpJobHandler(properties.http(), clock);
    }
}
