// Hand-written: the base of the message elements, as in Tencent's SDK.
package io.oxim.imsdk.v2;

import java.io.Serializable;

/** A message element (V2TIMElem). Oxim messages carry one element, so there is no next one. */
public class V2TIMElem implements Serializable {
    /** The next element of a legacy multi-element message: always null with Oxim. */
    public V2TIMElem getNextElem() {
        return null;
    }

    /** Download progress (V2TIMElem.V2ProgressInfo), in bytes. */
    public static class V2ProgressInfo implements Serializable {
        private final long currentSize;
        private final long totalSize;

        public V2ProgressInfo(long currentSize, long totalSize) {
            this.currentSize = currentSize;
            this.totalSize = totalSize;
        }

        public long getCurrentSize() {
            return currentSize;
        }

        public long getTotalSize() {
            return totalSize;
        }
    }
}
