package dev.conveyor.api;

import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.SQLException;
import javax.sql.DataSource;
import org.springframework.boot.flyway.autoconfigure.FlywayConfigurationCustomizer;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.jdbc.health.DataSourceHealthIndicator;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Configuration;
import org.springframework.jdbc.datasource.DelegatingDataSource;

/**
 * Connections to the job store that cannot wait for ever. The api's pool reads with pgjdbc's {@code socketTimeout}
 * ({@code conveyor-api.yml}: 30 s): a statement that gets no answer for that long fails and its connection is
 * dropped, so a database that stopped answering without closing its connections (its host gone, a network
 * partition, a failover that leaves the old primary's connections silent) holds no thread of the api for longer,
 * and the api goes on with new connections as soon as a database answers them. Every statement of the api is a
 * short one. Its migrations are not, always (an index built over a large table), and they run before the api
 * serves anything: they read without a timeout.
 */
@Configuration(proxyBeanMethods = false)
class StoreConnections {

    /** {@code db} in {@code /actuator/health} and readiness, on a connection of its own ({@link StoreHealth}). */
    @Bean
    HealthIndicator dbHealthIndicator(DataSource dataSource) throws Exception {
        if (dataSource instanceof HikariDataSource pool) {
            return new StoreHealth(pool);
        }
        var checked = new DataSourceHealthIndicator(dataSource);
        checked.afterPropertiesSet();
        return checked;
    }

    @Bean
    FlywayConfigurationCustomizer migrationsWithoutReadTimeout() {
        return configuration -> configuration.dataSource(new WithoutReadTimeout(configuration.getDataSource()));
    }

    /** Hands out the pool's connections with no read timeout; the pool sets its own again as each is returned. */
    private static final class WithoutReadTimeout extends DelegatingDataSource {

        WithoutReadTimeout(DataSource pool) {
            super(pool);
        }

        @Override
        public Connection getConnection() throws SQLException {
            return withoutTimeout(super.getConnection());
        }

        @Override
        public Connection getConnection(String username, String password) throws SQLException {
            return withoutTimeout(super.getConnection(username, password));
        }

        private static Connection withoutTimeout(Connection connection) throws SQLException {
            try {
                connection.setNetworkTimeout(Runnable::run, 0);
                return connection;
            } catch (SQLException | RuntimeException e) {
                connection.close();
                throw e;
            }
        }
    }
}
