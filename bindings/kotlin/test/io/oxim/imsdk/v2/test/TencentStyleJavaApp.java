package io.oxim.imsdk.v2.test;

import android.content.Context;
import io.oxim.imsdk.v2.*; // Tencent: import com.tencent.imsdk.v2.*;  -- the only change

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;

/**
 * An app's IM code written as Tencent's documentation writes it for Android (seed 004: "初始化与
 * 登录", "消息收发", "会话列表", "群组管理", "信令"), compiled against Oxim with only the import
 * above changed. What the app sees goes to {@link #events}, for TencentStyleJavaTest to check.
 */
public class TencentStyleJavaApp {
    /** What the app saw, in order. */
    public final BlockingQueue<String> events = new LinkedBlockingQueue<>();

    private V2TIMSimpleMsgListener simpleMsgListener;
    private V2TIMAdvancedMsgListener advancedMsgListener;
    private V2TIMSignalingListener signalingListener;
    private V2TIMConversationListener conversationListener;

    // ---- 初始化与登录 (init and login) ------------------------------------------------------------

    public void initSDK(Context context, int sdkAppID) {
        // 1. 从 IM 控制台获取应用 SDKAppID
        // 2. 初始化 config 对象
        V2TIMSDKConfig config = new V2TIMSDKConfig();
        // 3. 指定 log 输出级别
        config.setLogLevel(V2TIMSDKConfig.V2TIM_LOG_INFO);
        // 4. 初始化 SDK 并设置 V2TIMSDKListener 的监听对象
        V2TIMManager.getInstance().initSDK(context, sdkAppID, config, new V2TIMSDKListener() {
            // 5. 监听 V2TIMSDKListener 回调
            @Override
            public void onConnecting() {
                // 正在连接到服务器
                events.add("connecting");
            }

            @Override
            public void onConnectSuccess() {
                // 已经成功连接到服务器
                events.add("connected");
            }

            @Override
            public void onConnectFailed(int code, String error) {
                // 连接服务器失败
                events.add("connect failed " + code);
            }
        });
    }

    public void login(String userID, String userSig) {
        V2TIMManager.getInstance().login(userID, userSig, new V2TIMCallback() {
            @Override
            public void onSuccess() {
                events.add("login ok " + V2TIMManager.getInstance().getLoginUser() + " "
                        + (V2TIMManager.getInstance().getLoginStatus() == V2TIMManager.V2TIM_STATUS_LOGINED));
            }

            @Override
            public void onError(int code, String desc) {
                events.add("login failed " + code);
            }
        });
    }

    // ---- 消息收发：简单消息 (simple messages) ----------------------------------------------------------

    public void listenToSimpleMessages() {
        simpleMsgListener = new V2TIMSimpleMsgListener() {
            @Override
            public void onRecvC2CTextMessage(String msgID, V2TIMUserInfo sender, String text) {
                events.add("simple text from " + sender.getUserID() + ": " + text);
            }
        };
        V2TIMManager.getInstance().addSimpleMsgListener(simpleMsgListener);
    }

    public String sendSimpleText(String userID, String text) {
        return V2TIMManager.getInstance().sendC2CTextMessage(text, userID, new V2TIMValueCallback<V2TIMMessage>() {
            @Override
            public void onSuccess(V2TIMMessage v2TIMMessage) {
                events.add("simple sent " + v2TIMMessage.getMsgID());
            }

            @Override
            public void onError(int code, String desc) {
                events.add("simple send failed " + code);
            }
        });
    }

    // ---- 消息收发：高级消息 (advanced messages) --------------------------------------------------------

    public void listenToAllMessages() {
        V2TIMManager.getInstance().removeSimpleMsgListener(simpleMsgListener);
        advancedMsgListener = new V2TIMAdvancedMsgListener() {
            @Override
            public void onRecvNewMessage(V2TIMMessage msg) {
                // 解析出 groupID 和 userID, 再按 elemType 取出对应的 elem
                int elemType = msg.getElemType();
                if (elemType == V2TIMMessage.V2TIM_ELEM_TYPE_TEXT) {
                    V2TIMTextElem v2TIMTextElem = msg.getTextElem();
                    events.add("new text from " + msg.getSender() + ": " + v2TIMTextElem.getText());
                } else if (elemType == V2TIMMessage.V2TIM_ELEM_TYPE_CUSTOM) {
                    events.add("new custom from " + msg.getSender() + ": " + new String(msg.getCustomElem().getData()));
                }
            }

            @Override
            public void onRecvMessageRevoked(String msgID) {
                events.add("revoked " + msgID);
            }
        };
        V2TIMManager.getMessageManager().addAdvancedMsgListener(advancedMsgListener);
    }

    public String sendText(String userID, String content) {
        // 创建一条文本消息, 自定义推送 Title、推送内容
        V2TIMMessage v2TIMMessage = V2TIMManager.getMessageManager().createTextMessage(content);
        V2TIMOfflinePushInfo v2TIMOfflinePushInfo = new V2TIMOfflinePushInfo();
        // 设置通知栏标题
        v2TIMOfflinePushInfo.setTitle("offline_title");
        // 设置通知栏内容
        v2TIMOfflinePushInfo.setDesc("offline_desc");
        v2TIMOfflinePushInfo.setExt("{\"action\":\"jump to denny\"}".getBytes());
        // 发送消息
        return V2TIMManager.getMessageManager().sendMessage(v2TIMMessage, userID, null, V2TIMMessage.V2TIM_PRIORITY_DEFAULT,
                false, v2TIMOfflinePushInfo, new V2TIMSendCallback<V2TIMMessage>() {
                    @Override
                    public void onError(int code, String desc) {
                        // 消息发送失败
                        events.add("send failed " + code + " " + desc);
                    }

                    @Override
                    public void onSuccess(V2TIMMessage v2TIMMessage) {
                        // 消息发送成功
                        events.add("sent " + v2TIMMessage.getMsgID() + " "
                                + (v2TIMMessage.getStatus() == V2TIMMessage.V2TIM_MSG_STATUS_SEND_SUCC));
                    }

                    @Override
                    public void onProgress(int progress) {
                    }
                });
    }

    public void history(String userID) {
        // 第一次拉取 lastMsg 传 null, 表示从最新的消息开始拉取 20 条消息
        V2TIMManager.getMessageManager().getC2CHistoryMessageList(userID, 20, null, new V2TIMValueCallback<List<V2TIMMessage>>() {
            @Override
            public void onError(int code, String desc) {
                events.add("history failed " + code);
            }

            @Override
            public void onSuccess(List<V2TIMMessage> v2TIMMessages) {
                events.add("history " + v2TIMMessages.size());
            }
        });
    }

    // ---- 会话列表 (conversation list) -------------------------------------------------------------

    public void loadConversations() {
        conversationListener = new V2TIMConversationListener() {
            @Override
            public void onConversationChanged(List<V2TIMConversation> conversationList) {
                for (V2TIMConversation conversation : conversationList) {
                    events.add("conversation changed " + conversation.getConversationID());
                }
            }
        };
        V2TIMManager.getConversationManager().setConversationListener(conversationListener);
        V2TIMManager.getConversationManager().getConversationList(0, 50, new V2TIMValueCallback<V2TIMConversationResult>() {
            @Override
            public void onError(int code, String desc) {
                events.add("conversations failed " + code);
            }

            @Override
            public void onSuccess(V2TIMConversationResult v2TIMConversationResult) {
                for (V2TIMConversation conversation : v2TIMConversationResult.getConversationList()) {
                    boolean c2c = conversation.getType() == V2TIMConversation.V2TIM_C2C;
                    events.add("conversation " + conversation.getConversationID() + " c2c " + c2c
                            + " unread " + conversation.getUnreadCount());
                }
                events.add("conversations finished " + v2TIMConversationResult.isFinished());
            }
        });
    }

    public void markRead(String userID) {
        V2TIMManager.getMessageManager().markC2CMessageAsRead(userID, new V2TIMCallback() {
            @Override
            public void onSuccess() {
                events.add("marked read");
            }

            @Override
            public void onError(int code, String desc) {
                events.add("mark failed " + code);
            }
        });
    }

    // ---- 群组管理 (groups) ----------------------------------------------------------------------

    public void createGroupWithAttributes(String groupID, String member) {
        V2TIMGroupInfo v2TIMGroupInfo = new V2TIMGroupInfo();
        v2TIMGroupInfo.setGroupID(groupID);
        v2TIMGroupInfo.setGroupName("testWork");
        v2TIMGroupInfo.setGroupType(V2TIMManager.GROUP_TYPE_WORK);
        v2TIMGroupInfo.setIntroduction("this is a test Work group");

        List<V2TIMCreateGroupMemberInfo> memberInfoList = new ArrayList<>();
        V2TIMCreateGroupMemberInfo memberA = new V2TIMCreateGroupMemberInfo();
        memberA.setUserID(member);
        memberInfoList.add(memberA);
        V2TIMManager.getGroupManager().createGroup(v2TIMGroupInfo, memberInfoList, new V2TIMValueCallback<String>() {
            @Override
            public void onError(int code, String desc) {
                // 创建失败
                events.add("create group failed " + code);
            }

            @Override
            public void onSuccess(String groupID) {
                // 创建成功
                events.add("group created " + groupID);
                HashMap<String, String> attributes = new HashMap<>();
                attributes.put("mic1", V2TIMManager.getInstance().getLoginUser());
                V2TIMManager.getGroupManager().setGroupAttributes(groupID, attributes, new V2TIMCallback() {
                    @Override
                    public void onSuccess() {
                        events.add("attributes set");
                    }

                    @Override
                    public void onError(int code, String desc) {
                        events.add("attributes failed " + code);
                    }
                });
            }
        });
    }

    // ---- 信令 (signaling) -----------------------------------------------------------------------

    public void listenToInvitations() {
        signalingListener = new V2TIMSignalingListener() {
            @Override
            public void onReceiveNewInvitation(String inviteID, String inviter, String groupID, List<String> inviteeList, String data) {
                events.add("invited by " + inviter);
                V2TIMManager.getSignalingManager().accept(inviteID, "{\"accept\":true}", new V2TIMCallback() {
                    @Override
                    public void onSuccess() {
                        events.add("accepted " + inviteID);
                    }

                    @Override
                    public void onError(int code, String desc) {
                        events.add("accept failed " + code);
                    }
                });
            }

            @Override
            public void onInviteeAccepted(String inviteID, String invitee, String data) {
                events.add("invitee accepted " + inviteID + " " + invitee);
            }
        };
        V2TIMManager.getSignalingManager().addSignalingListener(signalingListener);
    }

    public String invite(String userID) {
        return V2TIMManager.getSignalingManager().invite(userID, "{\"call\":\"video\"}", false, null, 30, new V2TIMCallback() {
            @Override
            public void onSuccess() {
                events.add("invite sent");
            }

            @Override
            public void onError(int code, String desc) {
                events.add("invite failed " + code);
            }
        });
    }

    // ---- 登出 (logout) ----------------------------------------------------------------------------

    public void logout() {
        V2TIMManager.getMessageManager().removeAdvancedMsgListener(advancedMsgListener);
        V2TIMManager.getSignalingManager().removeSignalingListener(signalingListener);
        V2TIMManager.getConversationManager().removeConversationListener(conversationListener);
        V2TIMManager.getInstance().logout(new V2TIMCallback() {
            @Override
            public void onSuccess() {
                events.add("logged out");
                V2TIMManager.getInstance().unInitSDK();
            }

            @Override
            public void onError(int code, String desc) {
                events.add("logout failed " + code);
            }
        });
    }
}
