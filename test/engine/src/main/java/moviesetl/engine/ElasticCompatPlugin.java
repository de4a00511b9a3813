package moviesetl.engine;

import java.util.Map;
import java.util.function.Supplier;

import org.opensearch.common.network.NetworkService;
import org.opensearch.common.settings.ClusterSettings;
import org.opensearch.common.settings.Settings;
import org.opensearch.common.util.BigArrays;
import org.opensearch.common.util.PageCacheRecycler;
import org.opensearch.core.indices.breaker.CircuitBreakerService;
import org.opensearch.core.xcontent.NamedXContentRegistry;
import org.opensearch.http.HttpServerTransport;
import org.opensearch.plugins.NetworkPlugin;
import org.opensearch.plugins.Plugin;
import org.opensearch.telemetry.tracing.Tracer;
import org.opensearch.threadpool.ThreadPool;
import org.opensearch.transport.SharedGroupFactory;

/**
 * Registers the HTTP transport type {@value #HTTP_TYPE}: OpenSearch's own Netty 4 HTTP transport
 * plus {@link ElasticCompatHandler} in its pipeline. Select it with {@code http.type}.
 * Needs the stock {@code Netty4Plugin} loaded too (it registers the http.netty.* settings).
 */
public final class ElasticCompatPlugin extends Plugin implements NetworkPlugin {
    public static final String HTTP_TYPE = "elastic-compat-netty4";

    @Override
    public Map<String, Supplier<HttpServerTransport>> getHttpTransports(
        Settings settings,
        ThreadPool threadPool,
        BigArrays bigArrays,
        PageCacheRecycler pageCacheRecycler,
        CircuitBreakerService circuitBreakerService,
        NamedXContentRegistry xContentRegistry,
        NetworkService networkService,
        HttpServerTransport.Dispatcher dispatcher,
        ClusterSettings clusterSettings,
        Tracer tracer
    ) {
        return Map.of(
            HTTP_TYPE,
            () -> new ElasticCompatHttpServerTransport(
                settings,
                networkService,
                bigArrays,
                threadPool,
                xContentRegistry,
                dispatcher,
                clusterSettings,
                // Own event-loop group for HTTP (Netty4Plugin keeps its factory package-private).
                new SharedGroupFactory(settings),
                tracer
            )
        );
    }
}
