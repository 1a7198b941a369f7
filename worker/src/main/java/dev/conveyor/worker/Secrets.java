package dev.conveyor.worker;

import java.util.Collection;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Keeps secrets (passwords, credentials in headers) out of messages, logs and {@code toString}. */
public final class Secrets {

    /** What a hidden value reads as. */
    public static final String MASK = "****";

    // Shorter values are not searched for in text: masking every "ab" would garble a message and hide nothing.
    private static final int SHORTEST = 4;
    private static final Pattern PASSWORD_PARAMETER = Pattern.compile("(?i)(password=)[^&;\\s]+");
    private static final Pattern USER_INFO_PASSWORD = Pattern.compile("(//[^/@\\s:]*:)[^/@\\s]+@");

    private Secrets() {
    }

    /** {@code text} with every occurrence of each of {@code secrets} (of four characters or more) masked. */
    public static String hide(String text, Collection<String> secrets) {
        if (text == null) {
            return null;
        }
        var hidden = text;
        for (var secret : secrets) {
            if (secret != null && secret.length() >= SHORTEST) {
                hidden = hidden.replace(secret, MASK);
            }
        }
        return hidden;
    }

    /** A URL (JDBC or other) with the password of its user-info and any {@code password=} parameter masked. */
    public static String url(String url) {
        if (url == null) {
            return null;
        }
        var masked = PASSWORD_PARAMETER.matcher(url).replaceAll("$1" + Matcher.quoteReplacement(MASK));
        return USER_INFO_PASSWORD.matcher(masked).replaceAll("$1" + Matcher.quoteReplacement(MASK) + "@");
    }
}
