// Hand-written helpers of the generated Java records' conversions (package-private: the SDK's).
package io.oxim.imsdk.v2;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

final class FfiSupport {
    private FfiSupport() {
    }

    /** A conversion of one element (not java.util.function: Android before API 24 lacks it). */
    interface Fn<A, B> {
        B apply(A a);
    }

    static <A, B> List<B> map(List<A> list, Fn<A, B> fn) {
        if (list == null) {
            return new ArrayList<>();
        }
        List<B> out = new ArrayList<>(list.size());
        for (A a : list) {
            out.add(fn.apply(a));
        }
        return out;
    }

    static List<String> list(List<String> list) {
        return list == null ? Collections.<String>emptyList() : new ArrayList<>(list);
    }

    static Map<String, String> mapOf(Map<String, String> map) {
        return map == null ? Collections.<String, String>emptyMap() : new HashMap<>(map);
    }

    static String nz(String s) {
        return s == null ? "" : s;
    }

    static byte[] nz(byte[] b) {
        return b == null ? new byte[0] : b;
    }

    /** Sizes Tencent's Android API gives as int (files are at most 100 MB). */
    static int toInt(long v) {
        return (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, v));
    }

    // Fields that are bytes on Android and text on iOS (an offline push's ext, a custom element's
    // extension, group custom fields) travel as UTF-8 text, as Tencent's cross-platform push
    // delivers them to iOS.

    static byte[] utf8(String s) {
        return s == null ? new byte[0] : s.getBytes(StandardCharsets.UTF_8);
    }

    static String utf8String(byte[] b) {
        return b == null ? "" : new String(b, StandardCharsets.UTF_8);
    }

    static Map<String, byte[]> utf8Map(Map<String, String> map) {
        Map<String, byte[]> out = new HashMap<>();
        for (Map.Entry<String, String> e : map.entrySet()) {
            out.put(e.getKey(), utf8(e.getValue()));
        }
        return out;
    }

    static Map<String, String> utf8StringMap(Map<String, byte[]> map) {
        Map<String, String> out = new HashMap<>();
        if (map != null) {
            for (Map.Entry<String, byte[]> e : map.entrySet()) {
                out.put(e.getKey(), utf8String(e.getValue()));
            }
        }
        return out;
    }

    /** toString of a field (byte arrays by their length). */
    static String show(Object value) {
        return value instanceof byte[] ? "byte[" + ((byte[]) value).length + "]" : String.valueOf(value);
    }

    static String show(byte[] value) {
        return value == null ? "null" : "byte[" + value.length + "]";
    }

    static String showList(List<?> list) {
        return list == null ? "null" : Arrays.toString(list.toArray());
    }
}
