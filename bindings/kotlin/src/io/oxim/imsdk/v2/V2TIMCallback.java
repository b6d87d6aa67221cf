// Hand-written: V2TIM's callback types (Java, as Tencent's, so Kotlin code written against
// Tencent's SDK implements them with either nullability).
package io.oxim.imsdk.v2;

/** The outcome of a call without a value (V2TIMCallback). */
public interface V2TIMCallback {
    /** The call succeeded. */
    void onSuccess();

    /** The call failed with V2TIM's error code (BaseConstants.ERR_*) and a description. */
    void onError(int code, String desc);
}
