package dev.conveyor.local.bench;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;

/**
 * Where the bare path and the PostgreSQL-alone workloads run: the PostgreSQL database and Kafka broker of the system
 * being measured, so that their figures and Conveyor's come from the same servers on the same day.
 *
 * @param jdbcUrl    the system's database; the floor keeps to a schema of its own ({@link FloorStore#SCHEMA})
 * @param user       null when the URL carries it
 * @param password   null when the URL carries it
 * @param bootstrap  the system's Kafka bootstrap servers
 */
record FloorTarget(String jdbcUrl, String user, String password, String bootstrap) {

    /** Connections as the api has them: its Hikari pool ({@code spring.datasource.hikari.maximum-pool-size: 20}). */
    static final int POOL_SIZE = 20;

    /** A pool of {@link #POOL_SIZE} connections, as the api's, failing fast (5 s) as the api's does. */
    HikariDataSource dataSource(String name) {
        var config = new HikariConfig();
        config.setPoolName(name);
        config.setJdbcUrl(jdbcUrl);
        if (user != null) {
            config.setUsername(user);
        }
        if (password != null) {
            config.setPassword(password);
        }
        config.setMaximumPoolSize(POOL_SIZE);
        config.setMinimumIdle(POOL_SIZE);
        config.setConnectionTimeout(5_000);
        return new HikariDataSource(config);
    }
}
