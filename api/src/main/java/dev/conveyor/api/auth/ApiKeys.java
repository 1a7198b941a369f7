package dev.conveyor.api.auth;

import dev.conveyor.api.web.ApiException;
import dev.conveyor.common.Threads;
import dev.conveyor.common.log.LogText;
import jakarta.servlet.http.HttpServletResponse;
import java.sql.Array;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.context.SmartLifecycle;
import org.springframework.http.HttpHeaders;
import org.springframework.jdbc.core.simple.JdbcClient;
import org.springframework.jdbc.support.SqlArrayValue;
import org.springframework.stereotype.Component;

/**
 * The API keys in force: those of the configuration and those made through {@code POST /v1/keys}, less the revoked
 * ones. Requests are checked against a snapshot in memory (one SHA-256 and one map lookup, no query); each api
 * instance reads the {@code api_keys} table again every {@code refresh-interval}, so a key made or revoked on one
 * instance holds on all within about that time (at once on the instance that made or revoked it). While the table
 * cannot be read, the last snapshot stays in force.
 */
@Component
public class ApiKeys implements SmartLifecycle {

    private static final Logger log = LoggerFactory.getLogger(ApiKeys.class);

    private static final String ALL = "SELECT id, name, tenant, scopes, hash, created_at, revoked_at FROM api_keys";
    private static final String INSERT = """
            INSERT INTO api_keys (id, name, tenant, scopes, hash, created_at)
            VALUES (:id, :name, :tenant, :scopes::text[], :hash, now())
            RETURNING id, name, tenant, scopes, hash, created_at, revoked_at
            """;
    private static final String REVOKE = """
            UPDATE api_keys SET revoked_at = coalesce(revoked_at, now()) WHERE id = :id
            RETURNING id, name, tenant, scopes, hash, created_at, revoked_at
            """;
    /** A configured key is revoked by a row of its id without a hash. */
    private static final String REVOKE_CONFIGURED = """
            INSERT INTO api_keys (id, name, tenant, scopes, hash, created_at, revoked_at)
            VALUES (:id, :id, :tenant, :scopes::text[], NULL, now(), now())
            ON CONFLICT (id) DO UPDATE SET revoked_at = coalesce(api_keys.revoked_at, now())
            RETURNING id, name, tenant, scopes, hash, created_at, revoked_at
            """;
    /** Keys made through the api and not revoked (a revoked configured key is a row without a hash). */
    private static final String ACTIVE_MADE = """
            SELECT count(*) FROM api_keys WHERE hash IS NOT NULL AND revoked_at IS NULL
            """;

    /**
     * A key as listed: never the key itself nor its hash.
     *
     * @param source {@code configuration} or {@code api}
     */
    public record Key(String id, String name, String tenant, Set<Scope> scopes, String source, Instant createdAt,
            Instant revokedAt) {

        boolean active() {
            return revokedAt == null;
        }
    }

    /** A key just made: {@code key} is shown this once and stored nowhere. */
    public record Created(Key key, String secret) {

        @Override
        public String toString() {
            return "Created[" + key + "]";
        }
    }

    private record Snapshot(Map<String, Caller> byHash, List<Key> keys, Set<String> activeIds) {
    }

    private final JdbcClient jdbc;
    private final AuthProperties properties;
    private volatile Snapshot snapshot = new Snapshot(Map.of(), List.of(), Set.of());
    private final Object refreshing = new Object();
    private volatile boolean running;
    private volatile boolean failing;
    private Thread refresher;

    ApiKeys(JdbcClient jdbc, AuthProperties properties) {
        this.jdbc = jdbc;
        this.properties = properties;
    }

    /** Whether requests need a key. */
    public boolean enabled() {
        return properties.enabled();
    }

    /** The caller a presented key stands for; empty for an unknown or revoked key. */
    public Optional<Caller> authenticate(String presented) {
        return Optional.ofNullable(snapshot.byHash().get(KeyHash.of(presented)));
    }

    /**
     * Whether the key a caller was let in with is still active: a request that waits (a long-poll) is answered only
     * if its key was not revoked meanwhile. Everyone of an api without keys always is.
     */
    public boolean stillActive(Caller caller) {
        return caller.open() || snapshot.activeIds().contains(caller.keyId());
    }

    /**
     * Refuses (401) a request whose key was revoked after it was let in: called before acting on what the request
     * waited for, a long-poll's wait or a body that took its time to arrive (minutes, for a large one sent slowly).
     */
    public void requireStillActive(Caller caller, HttpServletResponse response) {
        if (!stillActive(caller)) {
            response.setHeader(HttpHeaders.WWW_AUTHENTICATE, "Bearer realm=\"conveyor\", error=\"invalid_token\"");
            throw ApiException.revoked();
        }
    }

    /** Every key, active or revoked, newest first. */
    public List<Key> list() {
        return snapshot.keys();
    }

    public Optional<Key> find(String id) {
        return snapshot.keys().stream().filter(key -> key.id().equals(id)).findFirst();
    }

    /** Makes a key; the answer holds the key itself, which is not kept. */
    public Created create(String name, String tenant, Set<Scope> scopes) {
        var secret = KeyHash.newKey();
        var key = jdbc.sql(INSERT)
                .param("id", KeyHash.newId())
                .param("name", name)
                .param("tenant", tenant)
                .param("scopes", scopeArray(scopes))
                .param("hash", KeyHash.of(secret))
                .query((rs, row) -> stored(rs))
                .single();
        refresh();
        // a name is printable, which line separators and bidi controls are: written as escapes here
        log.info("API key {} ('{}') made for tenant {} with scopes {}", key.id(), LogText.of(key.name(), 100),
                key.tenant(), key.scopes());
        return new Created(key, secret);
    }

    /** Revokes a key at once on this instance (and within a refresh interval on the others); empty when unknown. */
    public Optional<Key> revoke(String id) {
        var configured = properties.keys().stream().filter(key -> key.id().equals(id)).findFirst();
        Optional<Key> revoked;
        if (configured.isPresent()) {
            revoked = jdbc.sql(REVOKE_CONFIGURED)
                    .param("id", id)
                    .param("tenant", configured.get().tenant())
                    .param("scopes", new SqlArrayValue("text", configured.get().scopes().toArray()))
                    .query((rs, row) -> stored(rs))
                    .optional()
                    // as listed: a key of the configuration was not made through the api, so it has no createdAt
                    // (the row's created_at is when it was revoked)
                    .map(row -> new Key(id, id, row.tenant(), row.scopes(), "configuration", null,
                            row.revokedAt()));
        } else {
            revoked = jdbc.sql(REVOKE).param("id", id).query((rs, row) -> stored(rs)).optional();
        }
        revoked.ifPresent(key -> {
            refresh();
            log.info("API key {} revoked", id);
        });
        return revoked;
    }

    /**
     * Reads the table again and replaces the snapshot. One read at a time: the refresh loop's read, taken before a
     * revocation and done after the revocation's own, put back a snapshot in which the revoked key was in force.
     */
    void refresh() {
        synchronized (refreshing) {
            var rows = jdbc.sql(ALL).query((rs, row) -> new Row(stored(rs), rs.getString("hash"))).list();
            snapshot = build(rows);
        }
    }

    private record Row(Key key, String hash) {
    }

    private Snapshot build(List<Row> rows) {
        var byHash = new HashMap<String, Caller>();
        var keys = new ArrayList<Key>();
        var revokedConfigured = new HashMap<String, Instant>();
        for (var row : rows) {
            if (row.hash() == null) {
                revokedConfigured.put(row.key().id(), row.key().revokedAt());
                continue;
            }
            keys.add(row.key());
            if (row.key().active()) {
                byHash.put(row.hash(), caller(row.key()));
            }
        }
        for (var configured : properties.keys()) {
            var scopes = EnumSet.noneOf(Scope.class);
            configured.scopes().forEach(scope -> scopes.add(Scope.of(scope).orElseThrow()));
            var key = new Key(configured.id(), configured.id(), configured.tenant(), Set.copyOf(scopes),
                    "configuration", null, revokedConfigured.get(configured.id()));
            keys.add(key);
            if (key.active()) {
                // a key made through the api cannot share a hash with a configured one: both are SHA-256 of keys
                byHash.put(configured.hash(), caller(key));
            }
        }
        keys.sort(Comparator.comparing(Key::createdAt, Comparator.nullsLast(Comparator.reverseOrder())));
        var activeIds = keys.stream().filter(Key::active).map(Key::id).collect(Collectors.toUnmodifiableSet());
        return new Snapshot(Map.copyOf(byHash), List.copyOf(keys), activeIds);
    }

    private static Caller caller(Key key) {
        return new Caller(key.id(), key.tenant(), key.scopes());
    }

    private static Key stored(ResultSet rs) throws SQLException {
        return new Key(rs.getString("id"), rs.getString("name"), rs.getString("tenant"), scopes(rs.getArray("scopes")),
                "api", instant(rs, "created_at"), instant(rs, "revoked_at"));
    }

    private static Set<Scope> scopes(Array array) throws SQLException {
        var scopes = new HashSet<Scope>();
        for (var value : (String[]) array.getArray()) {
            Scope.of(value).ifPresent(scopes::add);
        }
        return Set.copyOf(scopes);
    }

    private static Instant instant(ResultSet rs, String column) throws SQLException {
        var timestamp = rs.getTimestamp(column);
        return timestamp == null ? null : timestamp.toInstant().truncatedTo(ChronoUnit.MILLIS);
    }

    private static SqlArrayValue scopeArray(Set<Scope> scopes) {
        return new SqlArrayValue("text", scopes.stream().sorted().map(Scope::value).toArray());
    }

    private void refreshLoop() {
        while (running) {
            try {
                Thread.sleep(properties.refreshInterval());
                refresh();
                if (failing) {
                    failing = false;
                    log.info("API keys read again");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                if (!failing) {
                    failing = true;
                    log.warn("Could not read the API keys; the last ones read stay in force: {}", e.getMessage());
                }
            }
        }
    }

    @Override
    public void start() {
        if (!properties.enabled()) {
            refuseOpenOverMadeKeys();
            running = true;
            return;
        }
        running = true;
        refresh();
        refresher = Thread.ofVirtual().name("api-keys").start(this::refreshLoop);
        var active = snapshot.keys().stream().filter(Key::active).count();
        log.info("API keys required: {} active ({} from configuration)", active, properties.keys().size());
    }

    /**
     * Whether keys are needed is decided by the configuration alone. Without a configured key, keys made through
     * {@code POST /v1/keys} would silently stop being needed: every caller an admin of every tenant, which an operator
     * who only removed a bootstrap key from the configuration did not ask for. Such a start is refused instead.
     */
    private void refuseOpenOverMadeKeys() {
        var active = jdbc.sql(ACTIVE_MADE).query(Long.class).single();
        if (active > 0) {
            throw new IllegalStateException("No API keys are configured (conveyor.api.auth.keys), so the api would "
                    + "run open, with every right, to anyone who reaches it; but " + active + " key(s) made through "
                    + "POST /v1/keys are active, and their holders' tenants would no longer be kept apart. Configure "
                    + "a key again (revoke it with DELETE /v1/keys/{id} if it should not work), or revoke the keys "
                    + "made through the api before running open");
        }
    }

    @Override
    public void stop() {
        running = false;
        if (refresher != null) {
            Threads.joinOrInterrupt(refresher, Duration.ofSeconds(2));
        }
    }

    @Override
    public boolean isRunning() {
        return running;
    }

    /** Reads the keys before the web server takes its first request. */
    @Override
    public int getPhase() {
        return SmartLifecycle.DEFAULT_PHASE - 16384;
    }

    static List<String> names(Set<Scope> scopes) {
        return Arrays.stream(Scope.values()).filter(scopes::contains).map(Scope::value).toList();
    }
}
