// Test support: a fake of Android's Context with what the SDK reads from it by reflection (the
// files directory, string resources), so Tencent-style code that passes a Context runs on the JVM.
package android.content;

import android.content.res.Resources;
import java.io.File;

public abstract class Context {
    public abstract File getFilesDir();

    public abstract String getPackageName();

    public abstract Resources getResources();

    public final String getString(int resId) {
        return getResources().getString(resId);
    }
}
