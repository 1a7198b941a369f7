package dev.conveyor.api.auth;

import java.net.InetAddress;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.boot.web.server.ConfigurableWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.core.Ordered;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

/**
 * Without API keys anyone who reaches the api may do anything, so it then listens on the loopback interface only,
 * unless {@code server.address} is set (as behind a proxy that authenticates, or in a container whose port is
 * published on the host's loopback only). It says so at start-up either way.
 */
@Component
class OpenBinding implements WebServerFactoryCustomizer<ConfigurableWebServerFactory>, Ordered {

    private static final Logger log = LoggerFactory.getLogger(OpenBinding.class);

    private final AuthProperties auth;
    private final Environment environment;

    OpenBinding(AuthProperties auth, Environment environment) {
        this.auth = auth;
        this.environment = environment;
    }

    @Override
    public void customize(ConfigurableWebServerFactory factory) {
        if (auth.enabled()) {
            return;
        }
        var address = environment.getProperty("server.address");
        if (address == null || address.isBlank()) {
            factory.setAddress(InetAddress.getLoopbackAddress());
            log.warn("No API keys are configured (conveyor.api.auth.keys): the api is open, with every right, to "
                    + "anyone who reaches it, so it listens on {} only, and answers only requests addressed to "
                    + "localhost or a loopback address. Configure keys to serve other hosts.",
                    InetAddress.getLoopbackAddress().getHostAddress());
        } else {
            log.warn("No API keys are configured (conveyor.api.auth.keys): the api is open, with every right, to "
                    + "anyone who reaches {} (server.address){}. Configure keys unless something in front of it "
                    + "authenticates.", address, auth.openHosts().isEmpty() ? ""
                            : " under a loopback name or one of conveyor.api.auth.open-hosts " + auth.openHosts());
        }
    }

    /** After Boot's own customizer, which applies {@code server.address}. */
    @Override
    public int getOrder() {
        return Ordered.LOWEST_PRECEDENCE;
    }
}
