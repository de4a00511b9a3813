package moviesetl.engine;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelDuplexHandler;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelPromise;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpContent;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.LastHttpContent;
import io.netty.util.ReferenceCountUtil;

import org.opensearch.common.xcontent.XContentFactory;
import org.opensearch.common.xcontent.XContentHelper;
import org.opensearch.core.common.bytes.BytesArray;
import org.opensearch.core.common.bytes.BytesReference;
import org.opensearch.core.xcontent.MediaTypeRegistry;
import org.opensearch.core.xcontent.XContentBuilder;

/**
 * Makes OpenSearch answer the official Elasticsearch 8.x clients as Elasticsearch 8 does.
 * <ul>
 *   <li>Requests whose {@code compatible-with} headers Elasticsearch 8 refuses (a version
 *       other than 7 or 8, or versions that disagree) get its 400 {@code media_type_header_exception}
 *       (see {@link CompatibleVersion}); they never reach OpenSearch.</li>
 *   <li>Accepted requests: {@code application/vnd.elasticsearch+json; compatible-with=8} becomes
 *       {@code application/json} (likewise {@code +x-ndjson}, {@code +yaml}, {@code +smile},
 *       {@code +cbor}) in {@code Content-Type} and {@code Accept}. Plain JSON passes as it is.</li>
 *   <li>{@code GET /} answers with Elasticsearch 8's shape: no {@code version.distribution},
 *       {@code version.number} 8.x, {@code build_flavor: default}; the OpenSearch version stays
 *       visible in {@code version.build_type}.</li>
 *   <li>Every response gets {@code X-Elastic-Product: Elasticsearch}, which the client requires
 *       on 2xx answers ("product check").</li>
 * </ul>
 * One instance per connection (it keeps the connection's request order).
 */
final class ElasticCompatHandler extends ChannelDuplexHandler {
    static final String PRODUCT_HEADER = "X-Elastic-Product";
    static final String PRODUCT = "Elasticsearch";
    /** What the bridged engine reports as its Elasticsearch version. */
    static final String ELASTICSEARCH_VERSION = "8.19.0";

    private static final Pattern VENDOR_MEDIA_TYPE = Pattern.compile(
        "application/vnd\\.elasticsearch\\+([a-z-]+)\\s*(?:;\\s*compatible-with\\s*=\\s*\\d+)?",
        Pattern.CASE_INSENSITIVE
    );

    /** One entry per request passed on, in order: true for {@code GET /}, whose answer is rewritten. */
    private final ArrayDeque<Boolean> pending = new ArrayDeque<>();
    /** The answer to a refused request, sent once its body has been read and dropped. */
    private FullHttpResponse refusal;

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
        if (refusal != null && msg instanceof HttpContent) {
            boolean last = msg instanceof LastHttpContent;
            ReferenceCountUtil.release(msg);
            if (last) sendRefusal(ctx);
            return;
        }
        if (msg instanceof HttpRequest request) {
            HttpHeaders headers = request.headers();
            boolean hasContent = HttpUtil.getContentLength(request, 0L) > 0 || HttpUtil.isTransferEncodingChunked(request);
            String refused = CompatibleVersion.refusal(headers.get(HttpHeaderNames.ACCEPT), headers.get(HttpHeaderNames.CONTENT_TYPE), hasContent);
            if (refused != null) {
                refusal = mediaTypeError(request, refused);
                boolean last = msg instanceof LastHttpContent;
                ReferenceCountUtil.release(msg);
                if (last) sendRefusal(ctx);
                return;
            }
            rewrite(headers, HttpHeaderNames.CONTENT_TYPE);
            rewrite(headers, HttpHeaderNames.ACCEPT);
            boolean root = request.method().equals(HttpMethod.GET) && (request.uri().equals("/") || request.uri().startsWith("/?"));
            if (root) headers.remove(HttpHeaderNames.ACCEPT_ENCODING); // keep that answer uncompressed, to rewrite it
            pending.add(root);
        }
        super.channelRead(ctx, msg);
    }

    @Override
    public void write(ChannelHandlerContext ctx, Object msg, ChannelPromise promise) throws Exception {
        if (msg instanceof HttpResponse response) {
            Boolean root = pending.poll();
            if (Boolean.TRUE.equals(root) && msg instanceof FullHttpResponse full && full.status().equals(HttpResponseStatus.OK)) {
                msg = asElasticsearch8(full);
                response = (HttpResponse) msg;
            }
            response.headers().set(PRODUCT_HEADER, PRODUCT);
        }
        super.write(ctx, msg, promise);
    }

    private void sendRefusal(ChannelHandlerContext ctx) {
        FullHttpResponse response = refusal;
        refusal = null;
        boolean keepAlive = HttpUtil.isKeepAlive(response);
        var future = ctx.writeAndFlush(response);
        if (!keepAlive) future.addListener(ChannelFutureListener.CLOSE);
    }

    /** Elasticsearch 8's answer to headers it refuses. */
    static FullHttpResponse mediaTypeError(HttpRequest request, String reason) {
        String header = "Invalid media-type value on headers [Accept, Content-Type]";
        String body = "{\"error\":{\"root_cause\":[{\"type\":\"media_type_header_exception\",\"reason\":\"" + header + "\"}],"
            + "\"type\":\"media_type_header_exception\",\"reason\":\"" + header + "\","
            + "\"caused_by\":{\"type\":\"status_exception\",\"reason\":\"" + jsonEscape(reason) + "\"}},\"status\":400}";
        ByteBuf content = Unpooled.copiedBuffer(body, StandardCharsets.UTF_8);
        FullHttpResponse response = new DefaultFullHttpResponse(request.protocolVersion(), HttpResponseStatus.BAD_REQUEST, content);
        response.headers().set(HttpHeaderNames.CONTENT_TYPE, "application/json");
        response.headers().set(HttpHeaderNames.CONTENT_LENGTH, content.readableBytes());
        response.headers().set(PRODUCT_HEADER, PRODUCT);
        HttpUtil.setKeepAlive(response, HttpUtil.isKeepAlive(request));
        return response;
    }

    /** The {@code GET /} body as Elasticsearch 8 shapes it. */
    @SuppressWarnings("unchecked")
    static FullHttpResponse asElasticsearch8(FullHttpResponse response) throws Exception {
        byte[] bytes = ByteBufUtil.getBytes(response.content());
        Map<String, Object> body = XContentHelper.convertToMap(new BytesArray(bytes), true, MediaTypeRegistry.JSON).v2();
        Map<String, Object> version = new LinkedHashMap<>((Map<String, Object>) body.getOrDefault("version", Map.of()));
        Object distribution = version.remove("distribution");
        Object number = version.put("number", ELASTICSEARCH_VERSION);
        version.put("build_flavor", "default");
        version.put("build_type", "bridged " + distribution + " " + number);
        body.put("version", version);
        body.put("tagline", "You Know, for Search");
        XContentBuilder builder = XContentFactory.jsonBuilder().prettyPrint().map(body);
        byte[] rewritten = BytesReference.toBytes(BytesReference.bytes(builder));
        FullHttpResponse copy = response.replace(Unpooled.wrappedBuffer(rewritten));
        copy.headers().set(HttpHeaderNames.CONTENT_LENGTH, rewritten.length);
        copy.headers().remove(HttpHeaderNames.CONTENT_ENCODING);
        response.release();
        return copy;
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

    private static String jsonEscape(String text) {
        return text.replace("\\", "\\\\").replace("\"", "\\\"");
    }
}
