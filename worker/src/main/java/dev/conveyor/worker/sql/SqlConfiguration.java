package dev.conveyor.worker.sql;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.conveyor.common.handler.JobHandler;
import dev.conveyor.worker.SqlSettings;
import dev.conveyor.worker.WorkerProperties;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Condition;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.context.annotation.Conditional;
import org.springframework.context.annotation.Configuration;
import org.springframework.core.type.AnnotatedTypeMetadata;

/**
 * Declares the {@code sql} handler and its pool when {@code conveyor.worker.sql.url} is set. The pool is not a
 * {@code DataSource} bean, so nothing else in the worker (health checks, Boot's JDBC set-up) takes it for its own.
 */
@Configuration(proxyBeanMethods = false)
@Conditional(SqlConfiguration.UrlSet.class)
class SqlConfiguration {

    /**
     * Run on each new connection: the server checks every second, while a statement runs or waits on a lock, that
     * the worker is still connected, and ends the statement when it is not. A stopped job's statement is cancelled
     * (ServerCancel); this ends one whose cancel never came: the worker killed, or the cancel request lost. Left
     * unset, without a word, where the server cannot have it (before PostgreSQL 14, or on Windows).
     */
    static final String CHECK_CLIENT = """
            DO $$
            BEGIN
              SET client_connection_check_interval = '1s';
            EXCEPTION WHEN undefined_object OR invalid_parameter_value THEN
              NULL;
            END
            $$""";

    @Bean(destroyMethod = "close")
    SqlPool sqlPool(WorkerProperties properties) {
        return new SqlPool(pool(properties.sql(), SqlJobHandler.readLimit(properties.maxResultBytes())));
    }

    @Bean
    JobHandler sqlHandler(WorkerProperties properties, SqlPool pool) {
        return new SqlJobHandler(properties.sql(), pool.dataSource(),
                SqlJobHandler.readLimit(properties.maxResultBytes()));
    }

    /** The pool, wrapped so that it is not a DataSource bean. */
    record SqlPool(HikariDataSource dataSource) {

        void close() {
            dataSource.close();
        }
    }

    /**
     * The pool; its connections read at most {@code readLimit} bytes of column values per statement (pgjdbc's
     * {@code maxResultBuffer}, checked as each row's length arrives, before the row is read), so that no statement
     * can fill the worker's memory with what a job's parameters picked.
     */
    static HikariDataSource pool(SqlSettings settings, long readLimit) {
        var config = new HikariConfig();
        config.setPoolName("conveyor-sql");
        config.setJdbcUrl(settings.url());
        config.setUsername(settings.username());
        config.setPassword(settings.password());
        config.setMaximumPoolSize(settings.poolSize());
        config.setConnectionTimeout(settings.connectTimeout().toMillis());
        // Start even when the database is down: sql jobs fail (retryably) until it is back; other jobs run.
        config.setInitializationFailTimeout(-1);
        // Text parameters go untyped, so PostgreSQL reads a JSON string as the column's type (timestamptz, uuid...).
        config.addDataSourceProperty("stringtype", "unspecified");
        config.addDataSourceProperty("ApplicationName", "conveyor-worker");
        config.addDataSourceProperty("maxResultBuffer", Long.toString(readLimit));
        config.setConnectionInitSql(CHECK_CLIENT);
        return new HikariDataSource(config);
    }

    static final class UrlSet implements Condition {

        @Override
        public boolean matches(ConditionContext context, AnnotatedTypeMetadata metadata) {
            var url = context.getEnvironment().getProperty("conveyor.worker.sql.url");
            return url != null && !url.isBlank();
        }
    }
}
