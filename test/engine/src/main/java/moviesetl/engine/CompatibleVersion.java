package moviesetl.engine;

import java.util.Locale;

/**
 * Elasticsearch 8's check of the REST API compatibility headers, as its
 * {@code RestCompatibleVersionHelper} and {@code ParsedMediaType} do it: a
 * request may ask for {@code compatible-with=8} (current) or {@code 7}; with
 * a body, Accept and Content-Type must both carry the same version or neither.
 * A header with several media types (a comma) counts as absent. Plain
 * {@code application/json} carries no version and is the current API.
 */
final class CompatibleVersion {
    static final int CURRENT = 8;
    static final int MINIMUM = 7;

    private CompatibleVersion() {}

    /** Null when Elasticsearch 8 accepts the headers, else the reason it refuses them (HTTP 400). */
    static String refusal(String accept, String contentType, boolean hasContent) {
        Integer a;
        Integer c;
        try {
            a = version(accept);
            c = version(contentType);
        } catch (NumberFormatException e) {
            return "invalid compatible-with version: " + e.getMessage();
        }
        int acceptVersion = a == null ? CURRENT : a;
        int contentTypeVersion = c == null ? CURRENT : c;
        if (acceptVersion > CURRENT || acceptVersion < MINIMUM) {
            return String.format(Locale.ROOT, "Accept version must be either version %d or %d, but found %d. Accept=%s",
                CURRENT, MINIMUM, acceptVersion, accept);
        }
        if (hasContent) {
            if (contentTypeVersion > CURRENT || contentTypeVersion < MINIMUM) {
                return String.format(Locale.ROOT, "Content-Type version must be either version %d or %d, but found %d. Content-Type=%s",
                    CURRENT, MINIMUM, contentTypeVersion, contentType);
            }
            if (contentTypeVersion != acceptVersion) {
                return "A compatible version is required on both Content-Type and Accept headers if either one has requested a "
                    + "compatible version and the compatible versions must match. Accept=" + shown(accept, a) + ", Content-Type="
                    + shown(contentType, c);
            }
            if ((c == null) != (a == null)) {
                return "A compatible version is required on both Content-Type and Accept headers if either one has requested a "
                    + "compatible version. Accept=" + shown(accept, a) + ", Content-Type=" + shown(contentType, c);
            }
        }
        return null;
    }

    /** The {@code compatible-with} parameter of a single media type; null when absent or the header is a list. */
    static Integer version(String header) {
        if (header == null || header.contains(",") || header.trim().equals("*/*")) {
            return null;
        }
        String[] elements = header.toLowerCase(Locale.ROOT).split("[\\s\\t]*;");
        for (int i = 1; i < elements.length; i++) {
            String[] parameter = elements[i].trim().split("=");
            if (parameter.length == 2 && parameter[0].trim().equals("compatible-with")) {
                return Integer.valueOf(Byte.parseByte(parameter[1].trim()));
            }
        }
        return null;
    }

    /** Elasticsearch prints a header it treated as absent as {@code null}. */
    private static String shown(String header, Integer version) {
        return header == null || (header.contains(",") || header.trim().equals("*/*")) ? "null" : header;
    }
}
