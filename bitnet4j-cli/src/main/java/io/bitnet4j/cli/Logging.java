package io.bitnet4j.cli;

import java.util.logging.ConsoleHandler;
import java.util.logging.Formatter;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;

/**
 * One-line log messages on stderr ({@code bitnet: info: ...}), INFO by default. {@code BITNET_LOG=debug|info|warn|off}
 * changes the level.
 */
final class Logging {
    private static volatile boolean configured;

    private Logging() {
    }

    static synchronized void configure() {
        if (configured) {
            return;
        }
        configured = true;
        Logger root = Logger.getLogger("");
        for (var h : root.getHandlers()) {
            root.removeHandler(h);
        }
        ConsoleHandler handler = new ConsoleHandler();
        handler.setFormatter(new Formatter() {
            @Override
            public String format(LogRecord r) {
                String level = r.getLevel().intValue() >= Level.SEVERE.intValue() ? "error"
                        : r.getLevel().intValue() >= Level.WARNING.intValue() ? "warning"
                        : r.getLevel().intValue() >= Level.INFO.intValue() ? "info" : "debug";
                return "bitnet: " + level + ": " + formatMessage(r) + System.lineSeparator();
            }
        });
        Level level = switch (String.valueOf(System.getenv("BITNET_LOG")).toLowerCase(java.util.Locale.ROOT)) {
            case "debug" -> Level.FINE;
            case "warn", "warning" -> Level.WARNING;
            case "off", "none" -> Level.OFF;
            default -> Level.INFO;
        };
        handler.setLevel(level);
        root.setLevel(level);
        root.addHandler(handler);
    }

    /** Changes the level at run time (e.g. {@code --log-disable}, {@code --verbose}). */
    static void setLevel(Level level) {
        Logger root = Logger.getLogger("");
        root.setLevel(level);
        for (var h : root.getHandlers()) {
            h.setLevel(level);
        }
    }
}
