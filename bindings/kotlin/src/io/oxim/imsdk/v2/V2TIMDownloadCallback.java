// Hand-written: V2TIM's callback types.
package io.oxim.imsdk.v2;

/** The outcome of a download, with progress (V2TIMDownloadCallback). */
public interface V2TIMDownloadCallback extends V2TIMCallback {
    /** Bytes downloaded so far and in all. */
    void onProgress(V2TIMElem.V2ProgressInfo progressInfo);
}
