package dev.conveyor.local;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The command-line options of {@code conveyor-local}.
 *
 * @param port the api's HTTP port (the first api's, when there are several: the others take the next ports)
 * @param apis how many api processes to start
 * @param workers how many worker processes to start
 * @param queues the queues every worker consumes
 * @param postgres an external PostgreSQL to use instead of the embedded one
 * @param kafka an external Kafka bootstrap address to use instead of the broker started here
 * @param home where data and logs go
 * @param workerArgs extra arguments for every worker, such as {@code --conveyor.worker.max-in-flight=500}
 * @param apiArgs extra arguments for every api, such as {@code --conveyor.api.retention.succeeded=1h}
 * @param apiJavaOptions JVM options for every api, after {@code local}'s own (so that a later {@code -Xmx} wins)
 * @param workerJavaOptions JVM options for every worker, after {@code local}'s own
 * @param postgresSettings server settings for the embedded PostgreSQL, in order, over {@code local}'s own
 * @param restartWorkers whether a worker that ends while {@code local} runs is started again
 * @param help whether only the help text was asked for
 */
public record LocalOptions(int port, int apis, int workers, List<String> queues, Optional<ExternalPostgres> postgres,
                           Optional<String> kafka, Path home, List<String> workerArgs, List<String> apiArgs,
                           List<String> apiJavaOptions,
                           List<String> workerJavaOptions, Map<String, String> postgresSettings,
                           boolean restartWorkers, boolean help) {

    static final int DEFAULT_PORT = 8080;
    static final int DEFAULT_APIS = 1;
    static final int DEFAULT_WORKERS = 2;
    static final String DEFAULT_QUEUE = "default";
    static final Path DEFAULT_HOME = Path.of(".conveyor");
    static final boolean DEFAULT_RESTART_WORKERS = true;
    private static final String QUEUE_NAME = "[a-z0-9][a-z0-9_-]{0,63}";
    /** A PostgreSQL parameter name, or an extension's (with one dot), as {@code postgres -c} takes it. */
    private static final String SETTING_NAME = "[a-z][a-z0-9_]{0,62}(\\.[a-z][a-z0-9_]{0,62})?";
    /** JVM options that would replace what {@code local} runs, rather than tune it. */
    private static final List<String> LAUNCH_OPTIONS = List.of("-cp", "-classpath", "--class-path", "-jar", "-m",
            "--module", "-p", "--module-path");
    /**
     * The properties {@code local} gives every api on its command line, and what to use instead: given again by
     * {@code --api-arg}, Spring would join the two values with a comma.
     */
    private static final Map<String, String> API_PROPERTIES = Map.of("server.port", "use --port",
            "spring.datasource.url", "use --postgres-url", "spring.datasource.username", "use --postgres-user",
            "spring.datasource.password", "use --postgres-password", "spring.kafka.bootstrap-servers", "use --kafka",
            "conveyor.api.queues", "use --queues");
    /** The same for every worker (the demo's {@code sql} settings are left to the user, who may mean them). */
    private static final Map<String, String> WORKER_PROPERTIES = Map.of("server.port",
            "local gives each worker a free port", "spring.kafka.bootstrap-servers", "use --kafka",
            "conveyor.worker.queues", "use --queues", "conveyor.worker.id", "local names each worker worker-N@host");

    static final String HELP = """
            Usage: java -jar conveyor-local.jar [options]

            Starts PostgreSQL (embedded), a Kafka broker, one Conveyor api and N workers on this machine,
            and stops them all on Ctrl-C.

              --port=N                  HTTP port of the api (default %d)
              --apis=N                  number of api processes, 1 to 8 (default %d); they listen on
                                        --port and the ports after it
              --workers=N               number of worker processes, 0 to 64 (default %d)
              --queues=a,b              queues the workers consume (default %s)
              --postgres-url=JDBC_URL   use this PostgreSQL instead of an embedded one
                                        (jdbc:postgresql://host:port/db)
              --postgres-user=USER      user for --postgres-url
              --postgres-password=PW    password for --postgres-url
              --kafka=HOST:PORT         use this Kafka instead of starting a broker
              --home=DIR                where data and logs go (default ./%s; data is wiped on start)
              --worker-arg=ARG          pass ARG to every worker (repeatable), e.g.
                                        --worker-arg=--conveyor.worker.http.allowed-addresses=127.0.0.1/32
              --api-arg=ARG             pass ARG to every api (repeatable), e.g.
                                        --api-arg=--conveyor.api.retention.succeeded=1h
              --worker-java-option=OPT  a JVM option for every worker (repeatable), after local's own, e.g.
                                        --worker-java-option=-Xmx1g (local gives each worker 512 MiB)
              --api-java-option=OPT     a JVM option for every api (repeatable), e.g. --api-java-option=-Xmx2g
              --postgres-setting=N=V    a server setting for the embedded PostgreSQL (repeatable), e.g.
                                        --postgres-setting=shared_preload_libraries=pg_stat_statements
              --restart-workers=B       start a worker that ends again, after 1 s doubling up to 30 s
                                        while it keeps ending soon after its start: true or false
                                        (default %s)
              --help                    print this text
            """.formatted(DEFAULT_PORT, DEFAULT_APIS, DEFAULT_WORKERS, DEFAULT_QUEUE, DEFAULT_HOME,
            DEFAULT_RESTART_WORKERS);

    /** An external PostgreSQL given with {@code --postgres-url}. */
    public record ExternalPostgres(String url, String user, String password) {
    }

    /** Thrown for command-line arguments that cannot be used; its message says what to change. */
    public static final class InvalidOptionException extends RuntimeException {
        InvalidOptionException(String message) {
            super(message);
        }
    }

    /** The HTTP port of api number {@code n} (from 1). */
    public int apiPort(int n) {
        return port + n - 1;
    }

    Path logs() {
        return home.resolve("logs");
    }

    Path data() {
        return home.resolve("data");
    }

    /** Reads the command line; throws {@link InvalidOptionException} saying what to change. */
    public static LocalOptions parse(String... args) {
        var port = DEFAULT_PORT;
        var apis = DEFAULT_APIS;
        var workers = DEFAULT_WORKERS;
        var queues = List.of(DEFAULT_QUEUE);
        String postgresUrl = null;
        String postgresUser = null;
        String postgresPassword = null;
        String kafka = null;
        var home = DEFAULT_HOME;
        var workerArgs = new ArrayList<String>();
        var apiArgs = new ArrayList<String>();
        var apiJavaOptions = new ArrayList<String>();
        var workerJavaOptions = new ArrayList<String>();
        var postgresSettings = new LinkedHashMap<String, String>();
        var restartWorkers = DEFAULT_RESTART_WORKERS;
        var help = false;
        for (var arg : args) {
            if (arg.equals("--help") || arg.equals("-h")) {
                help = true;
                continue;
            }
            if (!arg.startsWith("--") || !arg.contains("=")) {
                throw new InvalidOptionException("unexpected argument '" + arg + "': options look like --name=value; see --help");
            }
            var name = arg.substring(2, arg.indexOf('='));
            var value = arg.substring(arg.indexOf('=') + 1);
            switch (name) {
                case "port" -> port = integer(name, value, 1, 65535);
                case "apis" -> apis = integer(name, value, 1, 8);
                case "workers" -> workers = integer(name, value, 0, 64);
                case "queues" -> queues = queues(value);
                case "postgres-url" -> postgresUrl = postgresUrl(value);
                case "postgres-user" -> postgresUser = value;
                case "postgres-password" -> postgresPassword = value;
                case "kafka" -> kafka = kafka(value);
                case "home" -> home = Path.of(nonBlank(name, value));
                case "worker-arg" -> workerArgs.add(childArgument(name, value, WORKER_PROPERTIES));
                case "api-arg" -> apiArgs.add(childArgument(name, value, API_PROPERTIES));
                case "api-java-option" -> apiJavaOptions.add(javaOption(name, value));
                case "worker-java-option" -> workerJavaOptions.add(javaOption(name, value));
                case "postgres-setting" -> postgresSetting(value, postgresSettings);
                case "restart-workers" -> restartWorkers = bool(name, value);
                default -> throw new InvalidOptionException("unknown option --" + name + "; see --help");
            }
        }
        if (postgresUrl == null && (postgresUser != null || postgresPassword != null)) {
            throw new InvalidOptionException("--postgres-user and --postgres-password need --postgres-url");
        }
        if (postgresUrl != null && !postgresSettings.isEmpty()) {
            throw new InvalidOptionException("--postgres-setting is for the embedded PostgreSQL; set it on the server of "
                    + "--postgres-url instead");
        }
        var postgres = postgresUrl == null ? Optional.<ExternalPostgres>empty()
                : Optional.of(new ExternalPostgres(postgresUrl, postgresUser, postgresPassword));
        if (port + apis - 1 > 65535) {
            throw new InvalidOptionException("--apis=" + apis + " needs the ports from --port=" + port + " on; choose a lower --port");
        }
        return new LocalOptions(port, apis, workers, queues, postgres, Optional.ofNullable(kafka), home,
                List.copyOf(workerArgs), List.copyOf(apiArgs), List.copyOf(apiJavaOptions), List.copyOf(workerJavaOptions),
                Collections.unmodifiableMap(postgresSettings), restartWorkers, help);
    }

    private static int integer(String name, String value, int min, int max) {
        try {
            var number = Integer.parseInt(value.strip());
            if (number >= min && number <= max) {
                return number;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new InvalidOptionException("--" + name + " must be a whole number from " + min + " to " + max
                + ", not '" + value + "'");
    }

    private static boolean bool(String name, String value) {
        return switch (value.strip().toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new InvalidOptionException("--" + name + " must be true or false, not '" + value + "'");
        };
    }

    private static List<String> queues(String value) {
        var queues = Arrays.stream(value.split(",")).map(String::strip).filter(q -> !q.isEmpty()).distinct().toList();
        if (queues.isEmpty()) {
            throw new InvalidOptionException("--queues needs at least one queue name, e.g. --queues=default,emails");
        }
        for (var queue : queues) {
            if (!queue.matches(QUEUE_NAME)) {
                throw new InvalidOptionException("--queues: '" + queue + "' is not a queue name (" + QUEUE_NAME + ")");
            }
        }
        return queues;
    }

    private static String postgresUrl(String value) {
        if (!value.startsWith("jdbc:postgresql://")) {
            throw new InvalidOptionException("--postgres-url must look like jdbc:postgresql://host:5432/conveyor, not '"
                    + value + "'");
        }
        return value;
    }

    private static String kafka(String value) {
        for (var server : value.split(",")) {
            var colon = server.lastIndexOf(':');
            if (colon <= 0) {
                throw new InvalidOptionException("--kafka must be host:port[,host:port...], not '" + value + "'");
            }
            integer("kafka port", server.substring(colon + 1), 1, 65535);
        }
        return value;
    }

    /** {@code name=value}: a parameter the server checks at start (an unknown one stops it, saying so). */
    private static void postgresSetting(String setting, Map<String, String> settings) {
        var equals = setting.indexOf('=');
        var name = equals < 0 ? setting : setting.substring(0, equals).strip();
        if (equals < 0 || !name.matches(SETTING_NAME)) {
            throw new InvalidOptionException("--postgres-setting must look like name=value (a PostgreSQL parameter, e.g. "
                    + "work_mem=16MB), not '" + setting + "'");
        }
        var value = setting.substring(equals + 1);
        if (value.isBlank() || value.indexOf('\u0000') >= 0) {
            throw new InvalidOptionException("--postgres-setting " + name + " needs a value");
        }
        settings.put(name, value.strip());
    }

    /** One JVM option, as {@code java} takes it before the main class: {@code -Xmx1g}, {@code -Dname=value}. */
    private static String javaOption(String name, String value) {
        if (!value.startsWith("-") || value.length() < 2 || value.strip().length() != value.length()) {
            throw new InvalidOptionException("--" + name + " takes one JVM option such as -Xmx1g, not '" + value + "'");
        }
        var flag = value.contains("=") ? value.substring(0, value.indexOf('=')) : value;
        if (LAUNCH_OPTIONS.contains(flag)) {
            throw new InvalidOptionException("--" + name + "=" + value + " would change what local runs, not how: "
                    + "the class path and main class are local's own");
        }
        return value;
    }

    /**
     * An argument for every api or worker, unless it sets one of {@code ours} (written as Spring reads a command line's
     * names: any case, with or without dashes).
     */
    private static String childArgument(String name, String value, Map<String, String> ours) {
        nonBlank(name, value);
        var property = value.startsWith("--") ? value.substring(2).split("=", 2)[0] : "";
        var normal = property.toLowerCase(Locale.ROOT).replace("-", "");
        for (var own : ours.entrySet()) {
            if (own.getKey().replace("-", "").equals(normal)) {
                throw new InvalidOptionException("--" + name + "=" + value + " sets a property that local sets itself "
                        + "(Spring would join the two values); " + own.getValue());
            }
        }
        return value;
    }

    private static String nonBlank(String name, String value) {
        if (value.isBlank()) {
            throw new InvalidOptionException("--" + name + " must not be empty");
        }
        return value;
    }
}
