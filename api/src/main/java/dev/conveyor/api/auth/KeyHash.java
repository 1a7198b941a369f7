package dev.conveyor.api.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * How keys are made and stored. A key is 256 random bits ({@code cvk_} and 43 base64url characters); what is
 * configured and stored is {@code sha256:} and the hex SHA-256 of the key. A fast hash is right here: the key is
 * random, so there is nothing to guess from the hash, and a slow one (bcrypt) would cost milliseconds of CPU on
 * every request.
 */
public final class KeyHash {

    public static final String PREFIX = "sha256:";
    static final Pattern FORMAT = Pattern.compile("sha256:[0-9a-f]{64}");
    private static final SecureRandom RANDOM = new SecureRandom();

    private KeyHash() {
    }

    /** {@code sha256:<hex>} of the key as sent. */
    public static String of(String key) {
        try {
            var digest = MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
            return PREFIX + HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /** A new key: {@code cvk_} and 32 random bytes in base64url. */
    static String newKey() {
        return "cvk_" + randomText(32);
    }

    /** A new key id: {@code key_} and 9 random bytes in base64url (12 characters). */
    static String newId() {
        return "key_" + randomText(9);
    }

    private static String randomText(int bytes) {
        var random = new byte[bytes];
        RANDOM.nextBytes(random);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(random);
    }
}
