package dev.conveyor.api.submit;

import dev.conveyor.api.ApiProperties;
import org.springframework.boot.tomcat.ConfigurableTomcatWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.stereotype.Component;

/**
 * While Tomcat serves a request, one read of its body waits at most {@code conveyor.api.body-timeout} for the client
 * (Tomcat's upload timeout; between requests its connection timeout still applies). Without it a read waited up to
 * Tomcat's connection timeout, 60 s, so a client that stopped sending held its body's memory ({@link BodyMemory})
 * for that long, whatever the body's own time.
 */
@Component
class BodyTimeout implements WebServerFactoryCustomizer<ConfigurableTomcatWebServerFactory> {

    private final ApiProperties properties;

    BodyTimeout(ApiProperties properties) {
        this.properties = properties;
    }

    @Override
    public void customize(ConfigurableTomcatWebServerFactory factory) {
        var millis = Math.toIntExact(properties.bodyTimeout().toMillis());
        factory.addConnectorCustomizers(connector -> {
            connector.setProperty("disableUploadTimeout", "false");
            connector.setProperty("connectionUploadTimeout", Integer.toString(millis));
        });
    }
}
