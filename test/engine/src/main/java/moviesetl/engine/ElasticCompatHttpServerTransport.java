package moviesetl.engine;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;

import org.opensearch.common.network.NetworkService;
import org.opensearch.common.settings.ClusterSettings;
import org.opensearch.common.settings.Settings;
import org.opensearch.common.util.BigArrays;
import org.opensearch.core.xcontent.NamedXContentRegistry;
import org.opensearch.http.netty4.Netty4HttpServerTransport;
import org.opensearch.telemetry.tracing.Tracer;
import org.opensearch.threadpool.ThreadPool;
import org.opensearch.transport.SharedGroupFactory;

/** The stock Netty 4 HTTP transport with {@link ElasticCompatHandler} added to each channel's pipeline. */
final class ElasticCompatHttpServerTransport extends Netty4HttpServerTransport {

    ElasticCompatHttpServerTransport(
        Settings settings,
        NetworkService networkService,
        BigArrays bigArrays,
        ThreadPool threadPool,
        NamedXContentRegistry xContentRegistry,
        Dispatcher dispatcher,
        ClusterSettings clusterSettings,
        SharedGroupFactory sharedGroupFactory,
        Tracer tracer
    ) {
        super(settings, networkService, bigArrays, threadPool, xContentRegistry, dispatcher, clusterSettings, sharedGroupFactory, tracer);
    }

    @Override
    public ChannelHandler configureServerChannelHandler() {
        return new HttpChannelHandler(this, handlingSettings) {
            @Override
            protected void initChannel(Channel ch) throws Exception {
                super.initChannel(ch);
                // Right after the HTTP encoder: inbound it sees each request's head (HttpRequest)
                // before aggregation and routing; outbound it sees every HttpResponse before encoding.
                ch.pipeline().addAfter("encoder", "elastic_compat", new ElasticCompatHandler());
            }
        };
    }
}
