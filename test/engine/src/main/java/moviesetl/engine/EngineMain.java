package moviesetl.engine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.opensearch.analysis.common.CommonAnalysisPlugin;
import org.opensearch.common.logging.LogConfigurator;
import org.opensearch.common.settings.Settings;
import org.opensearch.env.Environment;
import org.opensearch.node.InternalSettingsPreparer;
import org.opensearch.node.Node;
import org.opensearch.plugins.Plugin;
import org.opensearch.transport.Netty4Plugin;

/**
 * Starts one OpenSearch node in this JVM, with classpath plugins, and keeps it running until the
 * process gets SIGTERM/SIGINT (the node is then closed cleanly).
 *
 * <pre>java -cp 'target/movies-etl-engine.jar:target/lib/*' moviesetl.engine.EngineMain --port 9200 --home DIR [--flavor elasticsearch|opensearch] [--pid-file FILE] [-Ekey=value ...]</pre>
 *
 * Flavor {@code elasticsearch} (the default) serves HTTP through the bridge that answers the
 * Elasticsearch 8 client as Elasticsearch 8 does; {@code opensearch} is stock OpenSearch HTTP.
 *
 * The pid file is written once the node holds the lock on its data directory, so it always names
 * the JVM that owns {@code --home}; it is removed again on a clean shutdown.
 */
public final class EngineMain {
    static final String NAME = "movies-etl-engine";

    private static final List<Class<? extends Plugin>> PLUGINS = List.of(
        Netty4Plugin.class,          // transport + HTTP (netty4)
        CommonAnalysisPlugin.class   // stemmer, stop, ... token filters
    );
    /** Added in the elasticsearch flavor: the HTTP transport the Elasticsearch 8 client accepts. */
    private static final Class<? extends Plugin> BRIDGE = ElasticCompatPlugin.class;

    /** {@link Node}'s constructor that takes plugin classes is protected. */
    static final class EngineNode extends Node {
        EngineNode(Environment environment, Collection<Class<? extends Plugin>> plugins) {
            super(environment, plugins, true);
        }
    }

    public static void main(String[] args) {
        try {
            run(args);
        } catch (Throwable t) {
            // The node's thread pools are not daemon threads: exit explicitly so a failed start
            // (port in use, bad setting, locked data directory...) does not leave a zombie JVM.
            System.err.println("engine: start-up failed: " + t);
            t.printStackTrace();
            System.exit(1);
        }
    }

    private static void run(String[] args) throws Exception {
        int port = 9200;
        Path home = null;
        Path pidFile = null;
        String flavor = "elasticsearch";
        Settings.Builder extra = Settings.builder();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--port") && i + 1 < args.length) {
                port = Integer.parseInt(args[++i]);
            } else if (a.equals("--home") && i + 1 < args.length) {
                home = Path.of(args[++i]);
            } else if (a.equals("--flavor") && i + 1 < args.length) {
                flavor = args[++i];
                if (!flavor.equals("elasticsearch") && !flavor.equals("opensearch")) {
                    System.err.println("--flavor: elasticsearch or opensearch, got " + flavor);
                    System.exit(2);
                }
            } else if (a.equals("--pid-file") && i + 1 < args.length) {
                pidFile = Path.of(args[++i]).toAbsolutePath();
            } else if (a.startsWith("-E") && a.indexOf('=') > 2) {
                extra.put(a.substring(2, a.indexOf('=')), a.substring(a.indexOf('=') + 1));
            } else {
                System.err.println("usage: EngineMain --port N --home DIR [--flavor elasticsearch|opensearch] [--pid-file FILE] [-Ekey=value ...]");
                System.exit(2);
            }
        }
        if (home == null) {
            home = Path.of(".engine", Integer.toString(port));
        }
        home = home.toAbsolutePath().normalize();
        Files.createDirectories(home.resolve("config"));

        boolean bridged = flavor.equals("elasticsearch");
        Settings.Builder builder = Settings.builder()
            .put("path.home", home.toString())
            .put("path.data", home.resolve("data").toString())
            .put("path.logs", home.resolve("logs").toString())
            .put("cluster.name", NAME)
            .put("node.name", NAME)
            .put("discovery.type", "single-node")
            .put("network.host", "127.0.0.1")
            .put("http.port", port)
            .put("http.max_content_length", "100mb") // Elasticsearch's default
            .put("cluster.routing.allocation.disk.threshold_enabled", false);
        if (bridged) builder.put("http.type", ElasticCompatPlugin.HTTP_TYPE);
        Settings settings = builder.put(extra.build()).build();
        List<Class<? extends Plugin>> plugins = new ArrayList<>(PLUGINS);
        if (bridged) plugins.add(BRIDGE);

        // Logging comes from log4j2.properties on the classpath (stdout; the launcher redirects it).
        LogConfigurator.setNodeName(NAME);

        Environment environment = InternalSettingsPreparer.prepareEnvironment(settings, Map.of(), home.resolve("config"), () -> NAME);
        Node node = new EngineNode(environment, plugins); // takes the data directory lock
        String pid = Long.toString(ProcessHandle.current().pid());
        if (pidFile != null) {
            Files.writeString(pidFile, pid + "\n");
        }
        final Path writtenPidFile = pidFile;

        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                node.close();
                node.awaitClose(20, TimeUnit.SECONDS);
            } catch (Exception e) {
                e.printStackTrace();
            } finally {
                deletePidFile(writtenPidFile, pid);
                stopped.countDown();
            }
        }, "engine-shutdown"));

        node.start();
        stopped.await(); // keep a non-daemon thread alive until shutdown
    }

    private static void deletePidFile(Path pidFile, String pid) {
        try {
            if (pidFile != null && Files.exists(pidFile) && Files.readString(pidFile).trim().equals(pid)) {
                Files.delete(pidFile);
            }
        } catch (Exception e) {
            // best effort
        }
    }
}
