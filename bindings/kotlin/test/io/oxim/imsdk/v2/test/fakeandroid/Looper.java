// Test support: a fake of Android's main Looper, so the JVM tests run the SDK's Android path
// (Platform.mainThreadExecutor finds android.os.Looper and posts to its main thread). It lives
// with the tests, in Android's package; the SDK reaches it by reflection only.
package android.os;

import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;

/** The main thread: one thread running posted Runnables in order, as Android's does. */
public final class Looper {
    private static final Looper MAIN = new Looper("fake-android-main");

    private final LinkedBlockingQueue<Runnable> queue = new LinkedBlockingQueue<>();
    private final Thread thread;
    private final AtomicLong posted = new AtomicLong();

    private Looper(String name) {
        thread = new Thread(this::loop, name);
        thread.setDaemon(true);
        thread.start();
    }

    private void loop() {
        while (true) {
            Runnable r;
            try {
                r = queue.take();
            } catch (InterruptedException e) {
                return;
            }
            try {
                r.run();
            } catch (Throwable t) {
                // Android would crash the app; the tests see it on stderr and by what is missing.
                t.printStackTrace();
            }
        }
    }

    public static Looper getMainLooper() {
        return MAIN;
    }

    public static Looper myLooper() {
        return Thread.currentThread() == MAIN.thread ? MAIN : null;
    }

    public Thread getThread() {
        return thread;
    }

    void enqueue(Runnable r) {
        posted.incrementAndGet();
        queue.add(r);
    }

    /** Test hook: how many Runnables were posted to this looper so far. */
    public long postedCount() {
        return posted.get();
    }
}
