package io.bitnet4j.gguf;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Where each field of a valid GGUF file lies, found by a minimal walk of its bytes that trusts them (tests only: it
 * locates fields to corrupt, independently of {@link GgufReader}).
 */
record GgufLayout(List<Entry> entries, List<Info> infos, long infosEnd, long dataStart, int fileSize) {

    /** One metadata entry: where it starts, its key's bytes, its type field, its value, and where it ends. */
    record Entry(String key, long start, long keyBytes, long type, long value, long end) {
    }

    /** One tensor info: where it starts, its name's bytes, n_dims, the first dimension, type id, offset, end. */
    record Info(String name, long start, long nameBytes, long nDims, long dims, long type, long offset, long end,
                long dataOffset) {
    }

    static GgufLayout of(byte[] file) {
        ByteBuffer b = ByteBuffer.wrap(file).order(ByteOrder.LITTLE_ENDIAN);
        long tensorCount = b.getLong(8);
        long kvCount = b.getLong(16);
        b.position(24);
        List<Entry> entries = new ArrayList<>();
        for (int i = 0; i < kvCount; i++) {
            int start = b.position();
            String key = string(b);
            int type = b.position();
            int valueType = b.getInt();
            int value = b.position();
            skipValue(b, valueType);
            entries.add(new Entry(key, start, start + 8, type, value, b.position()));
        }
        List<Info> infos = new ArrayList<>();
        for (int i = 0; i < tensorCount; i++) {
            int start = b.position();
            String name = string(b);
            int nDims = b.position();
            int n = b.getInt();
            int dims = b.position();
            b.position(dims + 8 * n);
            int type = b.position();
            b.getInt();
            int offset = b.position();
            long dataOffset = b.getLong();
            infos.add(new Info(name, start, start + 8, nDims, dims, type, offset, b.position(), dataOffset));
        }
        long infosEnd = b.position();
        long dataStart = tensorCount == 0 ? infosEnd : (infosEnd + 31) / 32 * 32;
        return new GgufLayout(List.copyOf(entries), List.copyOf(infos), infosEnd, dataStart, file.length);
    }

    Entry entry(String key) {
        return entries.stream().filter(e -> e.key().equals(key)).findFirst().orElseThrow();
    }

    Info info(String name) {
        return infos.stream().filter(t -> t.name().equals(name)).findFirst().orElseThrow();
    }

    private static String string(ByteBuffer b) {
        int n = (int) b.getLong();
        byte[] bytes = new byte[n];
        b.get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    private static void skipValue(ByteBuffer b, int type) {
        switch (type) {
            case 0, 1, 7 -> b.position(b.position() + 1);
            case 2, 3 -> b.position(b.position() + 2);
            case 4, 5, 6 -> b.position(b.position() + 4);
            case 10, 11, 12 -> b.position(b.position() + 8);
            case 8 -> {
                int length = (int) b.getLong();
                b.position(b.position() + length);
            }
            case 9 -> {
                int elementType = b.getInt();
                long count = b.getLong();
                for (long i = 0; i < count; i++) {
                    skipValue(b, elementType);
                }
            }
            default -> throw new IllegalArgumentException("value type " + type);
        }
    }
}
