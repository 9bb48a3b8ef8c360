package io.bitnet4j.sampling;

import io.bitnet4j.BitnetException;
import java.security.SecureRandom;
import java.util.Map;

/**
 * Where the sampling seed comes from: {@code --seed} if given, else the environment variable {@code BITNET_SEED},
 * else {@link #DETERMINISTIC_SEED} when {@code BITNET_DETERMINISTIC=1}, else a random seed (llama.cpp's default).
 */
public final class Seeds {
    /** The seed used when BITNET_DETERMINISTIC=1 and no seed is given. */
    public static final long DETERMINISTIC_SEED = 42;

    private Seeds() {
    }

    /** The seed to use; {@code explicit} is the command-line value or null. */
    public static long resolve(Long explicit, Map<String, String> env) {
        if (explicit != null && explicit != -1) {
            return check(explicit, "--seed");
        }
        String fromEnv = env.get("BITNET_SEED");
        if (fromEnv != null && !fromEnv.isBlank()) {
            try {
                return check(Long.parseLong(fromEnv.trim()), "BITNET_SEED");
            } catch (NumberFormatException e) {
                throw BitnetException.usage("BITNET_SEED='" + fromEnv + "' is not a number");
            }
        }
        if (isDeterministic(env)) {
            return DETERMINISTIC_SEED;
        }
        return new SecureRandom().nextInt() & 0xFFFFFFFFL;
    }

    public static boolean isDeterministic(Map<String, String> env) {
        String v = env.get("BITNET_DETERMINISTIC");
        return v != null && (v.equals("1") || v.equalsIgnoreCase("true"));
    }

    private static long check(long seed, String source) {
        if (seed < 0 || seed > 0xFFFFFFFFL) {
            throw BitnetException.usage(source + " must be in [0, 4294967295], got " + seed);
        }
        return seed;
    }
}
