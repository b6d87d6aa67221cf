// Test support: a fake of Android's Resources (see Context.java).
package android.content.res;

import java.util.ArrayList;
import java.util.List;

public class Resources {
    private final List<String> names = new ArrayList<>();
    private final List<String> values = new ArrayList<>();

    /** Test hook: defines the string resource `name`. */
    public void putString(String name, String value) {
        names.add(name);
        values.add(value);
    }

    public int getIdentifier(String name, String defType, String defPackage) {
        int i = names.indexOf(name);
        return "string".equals(defType) && i >= 0 ? 0x7f0e0000 + i : 0;
    }

    public String getString(int id) {
        return values.get(id - 0x7f0e0000);
    }
}
