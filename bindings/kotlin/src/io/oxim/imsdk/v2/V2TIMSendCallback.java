// Hand-written: V2TIM's callback types.
package io.oxim.imsdk.v2;

/** The outcome of sendMessage, with upload progress (V2TIMSendCallback). */
public interface V2TIMSendCallback<T> extends V2TIMValueCallback<T> {
    /** Upload progress of the message's file, 0-100. */
    void onProgress(int progress);
}
