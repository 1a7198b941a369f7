package dev.conveyor.api.web;

import org.apache.catalina.core.StandardHost;
import org.apache.catalina.valves.ErrorReportValve;
import org.springframework.boot.tomcat.ConfigurableTomcatWebServerFactory;
import org.springframework.boot.web.server.WebServerFactoryCustomizer;
import org.springframework.core.Ordered;
import org.springframework.stereotype.Component;

/**
 * Puts {@link ProblemReportValve} in place of Tomcat's HTML error report. Runs after Spring Boot's own customizer,
 * which adds a plain {@link ErrorReportValve} to the host, and takes that one out.
 */
@Component
class ProblemPages implements WebServerFactoryCustomizer<ConfigurableTomcatWebServerFactory>, Ordered {

    @Override
    public void customize(ConfigurableTomcatWebServerFactory factory) {
        factory.addContextCustomizers(context -> {
            var host = context.getParent();
            var present = false;
            for (var valve : host.getPipeline().getValves()) {
                if (valve instanceof ErrorReportValve && !(valve instanceof ProblemReportValve)) {
                    host.getPipeline().removeValve(valve);
                }
                present |= valve instanceof ProblemReportValve;
            }
            if (host instanceof StandardHost standard) {
                // else the host adds a plain ErrorReportValve of its own when it starts
                standard.setErrorReportValveClass(ProblemReportValve.class.getName());
            }
            if (!present) {
                host.getPipeline().addValve(new ProblemReportValve());
            }
        });
    }

    @Override
    public int getOrder() {
        return Ordered.LOWEST_PRECEDENCE;
    }
}
