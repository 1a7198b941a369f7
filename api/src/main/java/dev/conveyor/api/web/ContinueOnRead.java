package dev.conveyor.api.web;

import org.springframework.boot.tomcat.ConfigurableTomcatWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.stereotype.Component;

/**
 * Tomcat answers {@code Expect: 100-continue} only when the api starts reading the body, not as soon as the headers
 * are in (its default): a request refused before that, e.g. by {@link BodyLimitFilter}, is never sent its body.
 */
@Component
class ContinueOnRead implements WebServerFactoryCustomizer<ConfigurableTomcatWebServerFactory> {

    @Override
    public void customize(ConfigurableTomcatWebServerFactory factory) {
        factory.addConnectorCustomizers(connector -> connector.setProperty("continueResponseTiming", "onRead"));
    }
}
