package dev.conveyor.api.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.ApiTests;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.Test;
import org.springframework.jdbc.core.simple.JdbcClient;

/** The snapshot of keys in force, against a real PostgreSQL, without an api around it. */
class ApiKeysTest {

    private final DataSource database = ApiTests.migratedDatabase();
    /** A thread whose reads of every key wait, their rows read, until {@link #release} opens. */
    private volatile Thread held;
    private final CountDownLatch read = new CountDownLatch(1);
    private final CountDownLatch release = new CountDownLatch(1);

    /**
     * The instance's own refresh ran every refresh-interval beside the one a revocation makes: when it had read the
     * table before the revocation and set its snapshot after the revocation's, the key was in force again until the
     * next refresh, where the revoking instance promises it is refused at once.
     */
    @Test
    void aKeyRevokedWhileAnEarlierReadOfTheKeysIsUnderWayStaysRevoked() throws Exception {
        var keys = new ApiKeys(JdbcClient.create(holding(database)),
                new AuthProperties(List.of(), Duration.ofSeconds(1), List.of()));
        keys.refresh();
        var made = keys.create("doomed", "acme", Set.of(Scope.JOBS_READ));
        assertThat(keys.authenticate(made.secret())).isPresent();

        var refresher = Thread.ofPlatform().unstarted(keys::refresh);
        held = refresher;
        refresher.start();
        assertThat(read.await(10, TimeUnit.SECONDS)).as("the earlier read has its rows").isTrue();
        var revoker = Thread.ofPlatform().start(() -> keys.revoke(made.key().id()));
        // revoked, or waiting for the earlier read to be done with the snapshot
        await().atMost(Duration.ofSeconds(10))
                .until(() -> !revoker.isAlive() || revoker.getState() == Thread.State.BLOCKED);
        release.countDown();
        refresher.join(10_000);
        revoker.join(10_000);

        assertThat(keys.authenticate(made.secret())).isEmpty();
        assertThat(keys.stillActive(new Caller(made.key().id(), "acme", Set.of(Scope.JOBS_READ)))).isFalse();
    }

    /**
     * Whether keys are needed is read from the configuration only: an api started without configured keys over a
     * table of keys made through the api ran open, every caller an admin of every tenant, so that removing the
     * bootstrap key from the configuration undid every tenant's isolation without a word. Such a start is refused.
     */
    @Test
    void anApiWithoutConfiguredKeysRefusesToStartOpenWhileKeysMadeThroughTheApiAreActive() {
        var jdbc = JdbcClient.create(database);
        var configured = new ApiKeys(jdbc, new AuthProperties(List.of(new AuthProperties.ConfiguredKey("boot", "ops",
                List.of("admin"), KeyHash.of("cvk_bootstrap"))), Duration.ofSeconds(1), List.of()));
        var made = configured.create("ci", "acme", Set.of(Scope.JOBS_READ));
        configured.revoke("boot");
        var open = new ApiKeys(jdbc, new AuthProperties(List.of(), Duration.ofSeconds(1), List.of()));

        assertThatThrownBy(open::start).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("1 key(s) made through POST /v1/keys are active")
                .hasMessageContaining("conveyor.api.auth.keys");
        assertThat(open.isRunning()).isFalse();

        // once they are revoked, running open is what the operator asks for
        configured.revoke(made.key().id());
        open.start();
        assertThat(open.isRunning()).isTrue();
        open.stop();
    }

    /** The database, where statements run by {@link #held} that read every key wait once they have their rows. */
    private DataSource holding(DataSource real) {
        return (DataSource) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {DataSource.class},
                (proxy, method, args) -> {
                    var result = invoke(real, method, args);
                    return result instanceof Connection connection ? holding(connection) : result;
                });
    }

    private Connection holding(Connection real) {
        return (Connection) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {Connection.class},
                (proxy, method, args) -> {
                    var result = invoke(real, method, args);
                    if (result instanceof PreparedStatement statement && method.getName().equals("prepareStatement")
                            && ((String) args[0]).startsWith("SELECT id, name, tenant, scopes, hash")) {
                        return holding(statement);
                    }
                    return result;
                });
    }

    private PreparedStatement holding(PreparedStatement real) {
        return (PreparedStatement) Proxy.newProxyInstance(getClass().getClassLoader(),
                new Class<?>[] {PreparedStatement.class}, (proxy, method, args) -> {
                    var result = invoke(real, method, args);
                    if (method.getName().equals("executeQuery") && Thread.currentThread() == held) {
                        read.countDown();
                        release.await();
                    }
                    return result;
                });
    }

    private static Object invoke(Object target, java.lang.reflect.Method method, Object[] args) throws Throwable {
        try {
            return method.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }
}
