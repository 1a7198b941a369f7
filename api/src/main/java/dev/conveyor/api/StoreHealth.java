package dev.conveyor.api;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.jdbc.health.DataSourceHealthIndicator;

/**
 * {@code db} in {@code /actuator/health}, part of readiness: whether the database answers a connection of its own, one
 * the requests never hold. Boot's check borrowed a connection of the api's pool, waiting up to the pool's 5 s while
 * requests held them all (Kubernetes gives a probe 1 s), so a busy api left its Service, and a flood of probes (open to
 * anyone) took connections from the requests. Its one connection is made as the api's are (same database, user and
 * settings) and waits at most {@link #WAIT_MILLIS} for it; probes past the first wait their turn for it.
 */
final class StoreHealth implements HealthIndicator, DisposableBean {

    /** How long a probe waits for the check's connection, and the database for its answer. */
    static final long WAIT_MILLIS = 1_000;

    private final HikariDataSource connection;
    private final DataSourceHealthIndicator check;

    StoreHealth(HikariDataSource pool) throws Exception {
        var config = new HikariConfig();
        pool.copyStateTo(config);
        config.setPoolName(pool.getPoolName() + "-health");
        config.setMaximumPoolSize(1);
        config.setMinimumIdle(0);
        config.setConnectionTimeout(Math.max(250, WAIT_MILLIS));
        config.setValidationTimeout(Math.max(250, WAIT_MILLIS));
        // not counted with the api's pool, and no check at start: a database away at start is DOWN, not a failed start
        config.setMetricsTrackerFactory(null);
        config.setMetricRegistry(null);
        config.setHealthCheckRegistry(null);
        config.setInitializationFailTimeout(-1);
        connection = new HikariDataSource(config);
        check = new DataSourceHealthIndicator(connection);
        check.afterPropertiesSet();
    }

    @Override
    public Health health() {
        return check.health();
    }

    @Override
    public void destroy() {
        connection.close();
    }
}
