package dev.conveyor.api.web;

import dev.conveyor.common.Json;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import tools.jackson.databind.JacksonModule;

/**
 * The api's answers write their instants as the Kafka codec does ({@link dev.conveyor.common.Instants}): the same
 * text, without the formatter's cost in every answer (a batch's answer holds a thousand jobs).
 */
@Configuration(proxyBeanMethods = false)
class InstantText {

    @Bean
    JacksonModule instantTextModule() {
        return Json.instantText();
    }
}
