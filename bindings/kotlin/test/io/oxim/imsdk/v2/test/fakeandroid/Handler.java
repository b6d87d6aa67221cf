// Test support: a fake of Android's Handler (see Looper.java).
package android.os;

public class Handler {
    private final Looper looper;

    public Handler(Looper looper) {
        this.looper = looper;
    }

    public boolean post(Runnable r) {
        looper.enqueue(r);
        return true;
    }
}
