package dev.conveyor.api.submit;

/**
 * What an idempotency key stands for, stored with the job it made and compared with a later request under the same
 * key. A request whose payload holds a number with a fraction or an exponent is hashed with its numbers exact (and
 * {@code 2.50} the same as {@code 2.5}), marked {@value #EXACT}; one without such numbers hashes as the api always
 * has. A job stored before payloads were kept exactly has a hash of the request with its numbers read as doubles,
 * {@code legacy}, which is what a request is compared with when the stored hash has no mark: keys used before an
 * upgrade are replayed after it.
 *
 * @param stored what is stored with a new job: the exact hash, marked, when the payload holds such numbers, else
 *               the same as {@code legacy}
 * @param legacy the hash of the request with its numbers read as doubles
 */
record RequestHash(String stored, String legacy) {

    /** Marks a hash of a request whose numbers were compared exactly; SHA-256 in hex never starts so. */
    static final String EXACT = "x:";

    /** Whether this request is the one that {@code earlier} (a stored hash) stands for. */
    boolean matches(String earlier) {
        return earlier != null && earlier.equals(earlier.startsWith(EXACT) ? stored : legacy);
    }
}
