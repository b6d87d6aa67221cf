// Hand-written: V2TIM's callback types.
package io.oxim.imsdk.v2;

/** The outcome of a call with a value (V2TIMValueCallback). */
public interface V2TIMValueCallback<T> {
    /** The call succeeded with its value. */
    void onSuccess(T t);

    /** The call failed with V2TIM's error code (BaseConstants.ERR_*) and a description. */
    void onError(int code, String desc);
}
