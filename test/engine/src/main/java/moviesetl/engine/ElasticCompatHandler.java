package moviesetl.engine;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;

/**
 * Makes OpenSearch acceptable to the official Elasticsearch 8.x clients.
 * <ul>
 *   <li>Requests: {@code application/vnd.elasticsearch+json; compatible-with=8} becomes
 *       {@code application/json} (likewise {@code +x-ndjson}, {@code +yaml}, {@code +smile},
 *       {@code +cbor}) in {@code Content-Type} and {@code Accept}.</li>
 *   <li>Responses: every one gets {@code X-Elastic-Product: Elasticsearch}, which the client
 *       requires on 2xx answers ("product check").</li>
 * </ul>
 * Nothing else (paths, bodies, status codes) is changed.
 */
@ChannelHandler.Sharable
final class ElasticCompatHandler extends ChannelDuplexHandler {
    static final String PRODUCT_HEADER = "X-Elastic-Product";
    static final String PRODUCT = "Elasticsearch";

    private static final Pattern VENDOR_MEDIA_TYPE = Pattern.compile(
        "application/vnd\\.elasticsearch\\+([a-z-]+)\\s*(?:;\\s*compatible-with\\s*=\\s*\\d+)?",
        Pattern.CASE_INSENSITIVE
    );

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (msg instanceof HttpRequest request) {
            HttpHeaders headers = request.headers();
            rewrite(headers, HttpHeaderNames.CONTENT_TYPE);
            rewrite(headers, HttpHeaderNames.ACCEPT);
        }
        super.channelRead(ctx, msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
        if (msg instanceof HttpResponse response) {
            response.headers().set(PRODUCT_HEADER, PRODUCT);
        }
        super.write(ctx, msg, promise);
    }

    private static void rewrite(HttpHeaders headers, CharSequence name) {
        String value = headers.get(name);
        if (value != null) {
            String rewritten = toPlainMediaType(value);
            if (!rewritten.equals(value)) {
                headers.set(name, rewritten);
            }
        }
    }

    /** {@code application/vnd.elasticsearch+json; compatible-with=8,text/plain} → {@code application/json,text/plain}. */
    static String toPlainMediaType(String value) {
        Matcher m = VENDOR_MEDIA_TYPE.matcher(value);
        return m.find() ? m.replaceAll("application/$1") : value;
    }
}
