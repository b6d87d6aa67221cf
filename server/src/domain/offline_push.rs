//! Offline push rules, pure: which messages are pushed, to which devices of a recipient, with
//! which text, title and badge (seed004-B section 8). Sending is the gateway's
//! (`gateway::offline_push`); what a device registered is the store's.

use oxim_proto::group::recv_opt;
use oxim_proto::message::{Elem, WireMessage};
use oxim_proto::offline_push::PushConfig;
use serde::Serialize;

/// A device of a user as offline push knows it: the user on one platform (one session per
/// user and platform), its registration and whether its app is in the background.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushDevice {
    /// The user.
    pub user: String,
    /// The platform the device logged in with.
    pub platform: String,
    /// Its registration (`setOfflinePushConfig`), if it made one since its last login.
    pub config: Option<PushConfig>,
    /// The badge it reported with `doBackground`, while in the background; `None` in the
    /// foreground (or never told).
    pub background_badge: Option<u32>,
}

/// Whether a device gets pushes: registered, and offline (no session on its platform: the app
/// was killed without logging out) or in the background. A device that logged out or was kicked
/// is no longer registered.
pub fn device_wants_push(device: &PushDevice, online_platforms: &[String]) -> bool {
    device.config.is_some() && (device.background_badge.is_some() || !online_platforms.contains(&device.platform))
}

/// Whether a recipient's receive option for the conversation lets offline pushes through
/// (NOT_RECEIVE and RECEIVE_NOT_NOTIFY do not).
pub fn receive_opt_allows(opt: i32) -> bool {
    opt == recv_opt::RECEIVE
}

/// What a message shows in a notification before the sender's name, or `None` when it is not
/// pushed at all: not stored (online-only, AVChatRoom), revoked, push disabled, system content
/// (group tips, events), or a custom message without a description. `desc` of the message's
/// push info replaces the content; a custom message falls back to its element's description.
pub fn content(msg: &WireMessage) -> Option<String> {
    if msg.seq == 0 || msg.online_only || msg.revoked {
        return None;
    }
    let info = msg.offline_push.as_ref();
    if info.is_some_and(|i| i.disable_push) {
        return None;
    }
    let desc = info.map(|i| i.desc.as_str()).filter(|d| !d.is_empty());
    let shown = match &msg.elem {
        Elem::GroupTips { .. } | Elem::Event { .. } | Elem::Revoke { .. } => return None,
        Elem::Custom { description, .. } => {
            return desc.or(Some(description.as_str()).filter(|d| !d.is_empty())).map(str::to_owned);
        }
        Elem::Text { text } => text.clone(),
        Elem::Image { .. } => "[图片]".into(),
        Elem::Sound { .. } => "[语音]".into(),
        Elem::Video { .. } => "[视频]".into(),
        Elem::File { .. } => "[文件]".into(),
        Elem::Location { .. } => "[位置]".into(),
        Elem::Face { .. } => "[表情]".into(),
        Elem::Merger { .. } => "[聊天记录]".into(),
    };
    Some(desc.map(str::to_owned).unwrap_or(shown))
}

/// The notification text: C2C `nick: content` (the content alone without a nickname); group
/// `name(group name): content`, the name being the sender's name card, else their nickname
/// (`(group name): content` without either).
pub fn body(content: &str, sender_name: &str, group_name: Option<&str>) -> String {
    match group_name {
        Some(group) => format!("{sender_name}({group}): {content}"),
        None if sender_name.is_empty() => content.to_owned(),
        None => format!("{sender_name}: {content}"),
    }
}

/// The sender's name in a group notification: the name card wins over the nickname.
pub fn group_sender_name<'a>(name_card: &'a str, nick_name: &'a str) -> &'a str {
    if name_card.is_empty() { nick_name } else { name_card }
}

/// One notification for one device: what every provider turns into its own request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Notification {
    /// The recipient.
    pub user: String,
    /// The recipient's device (platform).
    pub platform: String,
    /// The push certificate the device registered with.
    pub business_id: i64,
    /// The device's token.
    pub token: String,
    /// Whether the token is a TPNS token.
    pub is_tpns_token: bool,
    /// The title (`offlinePushInfo.title`; empty: the provider's default).
    pub title: String,
    /// The text.
    pub body: String,
    /// Pass-through data for the app (`offlinePushInfo.ext`).
    pub ext: String,
    /// iOS sound file (`offlinePushInfo.iOSSound`).
    pub ios_sound: String,
    /// The badge to show; `None` when the message asked not to touch it (`ignoreIOSBadge`).
    /// 0 until the push is counted in the device's badge, which happens only once it is handed
    /// to a provider (a push dropped on the way never raises the badge).
    pub badge: Option<u32>,
    /// OPPO's channel id (`offlinePushInfo.androidOPPOChannelID`).
    pub android_oppo_channel_id: String,
    /// Whether `ext` is JSON: OPPO drops a push whose ext is not, so providers for OPPO leave a
    /// non-JSON ext out.
    pub ext_is_json: bool,
    /// The message.
    pub msg_id: String,
    /// Its sender.
    pub sender: String,
    /// Its group (empty for C2C).
    pub group_id: String,
}

/// The notification of `msg` for `device` showing `body`, its badge not counted yet (see
/// [`Notification::badge`]).
pub fn notification(msg: &WireMessage, device: &PushDevice, body: String) -> Option<Notification> {
    let config = device.config.as_ref()?;
    let info = msg.offline_push.clone().unwrap_or_default();
    let ext_is_json = !info.ext.is_empty() && serde_json::from_str::<serde_json::Value>(&info.ext).is_ok();
    Some(Notification {
        user: device.user.clone(),
        platform: device.platform.clone(),
        business_id: config.business_id,
        token: config.token.clone(),
        is_tpns_token: config.is_tpns_token,
        title: info.title,
        body,
        ext: info.ext,
        ios_sound: info.ios_sound,
        badge: if info.ignore_ios_badge { None } else { Some(0) },
        android_oppo_channel_id: info.android_oppo_channel_id,
        ext_is_json,
        msg_id: msg.msg_id.clone(),
        sender: msg.sender.clone(),
        group_id: msg.group_id.clone(),
    })
}

#[cfg(test)]
mod tests {
    use oxim_proto::message::{FileRef, OfflinePushInfo, UserEvent};

    use super::*;

    fn msg(elem: Elem) -> WireMessage {
        let mut m = WireMessage::new("m1", elem);
        m.seq = 1;
        m.sender = "alice".into();
        m
    }

    fn text(t: &str) -> WireMessage {
        msg(Elem::Text { text: t.into() })
    }

    fn with_push(mut m: WireMessage, info: OfflinePushInfo) -> WireMessage {
        m.offline_push = Some(info);
        m
    }

    #[test]
    fn each_element_shows_its_text_and_desc_replaces_it() {
        assert_eq!(content(&text("hi")).as_deref(), Some("hi"));
        let image = msg(Elem::Image { path: String::new(), images: vec![] });
        assert_eq!(content(&image).as_deref(), Some("[图片]"));
        let sound = msg(Elem::Sound { path: String::new(), file: FileRef::default(), duration: 3 });
        assert_eq!(content(&sound).as_deref(), Some("[语音]"));
        let desc = OfflinePushInfo { desc: "You have a photo".into(), ..Default::default() };
        assert_eq!(content(&with_push(image, desc)).as_deref(), Some("You have a photo"));
    }

    #[test]
    fn custom_messages_need_a_description_and_system_content_is_never_pushed() {
        let custom = msg(Elem::Custom { data: vec![1], description: String::new(), extension: String::new() });
        assert_eq!(content(&custom), None);
        let desc = OfflinePushInfo { desc: "Incoming call".into(), ..Default::default() };
        assert_eq!(content(&with_push(custom.clone(), desc)).as_deref(), Some("Incoming call"));
        let described = msg(Elem::Custom { data: vec![1], description: "An order".into(), extension: String::new() });
        assert_eq!(content(&described).as_deref(), Some("An order"));
        let event = msg(Elem::Event { event: UserEvent::FriendAppsRead });
        assert_eq!(content(&event), None);
    }

    #[test]
    fn online_only_unstored_revoked_and_disabled_messages_are_not_pushed() {
        let mut m = text("hi");
        m.online_only = true;
        assert_eq!(content(&m), None);
        let mut m = text("hi");
        m.seq = 0;
        assert_eq!(content(&m), None, "an AVChatRoom message is never stored");
        let off = OfflinePushInfo { disable_push: true, ..Default::default() };
        assert_eq!(content(&with_push(text("hi"), off)), None);
    }

    #[test]
    fn c2c_and_group_texts_name_the_sender_with_the_name_card_first() {
        assert_eq!(body("hi", "Alice", None), "Alice: hi");
        assert_eq!(body("hi", "", None), "hi");
        assert_eq!(body("hi", group_sender_name("Boss", "Alice"), Some("Team")), "Boss(Team): hi");
        assert_eq!(body("hi", group_sender_name("", "Alice"), Some("Team")), "Alice(Team): hi");
    }

    #[test]
    fn only_registered_devices_that_are_offline_or_in_the_background_get_pushes() {
        let config = Some(PushConfig { business_id: 1, token: "t".into(), is_tpns_token: false });
        let device = |config: Option<PushConfig>, badge| PushDevice {
            user: "bob".into(),
            platform: "android".into(),
            config,
            background_badge: badge,
        };
        let online = vec!["android".to_string()];
        assert!(device_wants_push(&device(config.clone(), None), &[]), "offline");
        assert!(!device_wants_push(&device(config.clone(), None), &online), "online, foreground");
        assert!(device_wants_push(&device(config, Some(0)), &online), "online, background");
        assert!(!device_wants_push(&device(None, Some(0)), &[]), "not registered");
        assert!(receive_opt_allows(recv_opt::RECEIVE));
        assert!(!receive_opt_allows(recv_opt::RECEIVE_NOT_NOTIFY) && !receive_opt_allows(recv_opt::NOT_RECEIVE));
    }

    #[test]
    fn a_notification_carries_the_push_info_and_the_badge_unless_told_to_ignore_it() {
        let device = PushDevice {
            user: "bob".into(),
            platform: "android".into(),
            config: Some(PushConfig { business_id: 7, token: "t".into(), is_tpns_token: false }),
            background_badge: Some(3),
        };
        let info = OfflinePushInfo {
            title: "New".into(),
            ext: "{\"to\":\"chat\"}".into(),
            ios_sound: "ding.caf".into(),
            android_oppo_channel_id: "tuikit".into(),
            ..Default::default()
        };
        let n = notification(&with_push(text("hi"), info.clone()), &device, "Alice: hi".into()).unwrap();
        assert_eq!((n.title.as_str(), n.body.as_str(), n.badge), ("New", "Alice: hi", Some(0)));
        assert_eq!(
            (n.ios_sound.as_str(), n.android_oppo_channel_id.as_str(), n.ext_is_json),
            ("ding.caf", "tuikit", true)
        );
        let ignore = OfflinePushInfo { ignore_ios_badge: true, ext: "plain".into(), ..info };
        let n = notification(&with_push(text("hi"), ignore), &device, "x".into()).unwrap();
        assert_eq!((n.badge, n.ext_is_json), (None, false));
    }
}
