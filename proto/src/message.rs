//! Messages on the wire: the message envelope, its element (content), offline push settings,
//! and the events of a user's own stream.

use serde::{Deserialize, Serialize};

use crate::ids::ConvId;

/// Largest text/custom message body (text; custom data + description + extension), in bytes:
/// V2TIM's 12 KB content limit. Checked by the SDK (8001) and again by the server (80002).
pub const MAX_MSG_BODY_BYTES: usize = 12 * 1024;

/// Largest serialised element of any type (merged messages embed others), in bytes.
pub const MAX_ELEM_BYTES: usize = 512 * 1024;

/// Most users a text message may @ (including @all).
pub const MAX_AT_USERS: usize = 30;

/// The user id meaning "@all" in `at_users` (V2TIM's sentinel, with its triple "s").
pub const AT_ALL: &str = "__kImSDK_MesssageAtALL__";

/// Most messages a merged message may carry.
pub const MAX_MERGED_MESSAGES: usize = 300;

/// Image variant types, with V2TIM's (Android) numeric values.
pub mod image_type {
    /// The uploaded image.
    pub const ORIGIN: i32 = 0;
    /// Shorter side 198 px.
    pub const THUMB: i32 = 1;
    /// Shorter side 720 px.
    pub const LARGE: i32 = 2;
}

/// One stored variant of an image.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageInfo {
    /// [`image_type`] value.
    #[serde(rename = "type")]
    pub kind: i32,
    /// File id, usable as a cache key.
    pub uuid: String,
    /// Download URL (relative to the server: `/v1/files/<uuid>`).
    pub url: String,
    /// Bytes.
    pub size: u64,
    /// Pixels.
    pub width: u32,
    /// Pixels.
    pub height: u32,
}

/// A file stored on the server.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRef {
    /// File id.
    pub uuid: String,
    /// Download URL (relative: `/v1/files/<uuid>`).
    pub url: String,
    /// Bytes.
    pub size: u64,
}

/// Sender-local file paths are never sent: they are cleared before a message goes out.
fn is_empty(s: &str) -> bool {
    s.is_empty()
}

/// The content of a message: exactly one element (API 2.0 messages carry one elem).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Elem {
    /// Text.
    Text {
        /// The text.
        text: String,
    },
    /// Custom binary data (base64 on the wire) with optional description and extension.
    Custom {
        /// Opaque data.
        #[serde(with = "crate::payload::b64")]
        data: Vec<u8>,
        /// Description (push text for custom messages).
        #[serde(default, skip_serializing_if = "String::is_empty")]
        description: String,
        /// Extension.
        #[serde(default, skip_serializing_if = "String::is_empty")]
        extension: String,
    },
    /// An image with its variants (original, large, thumbnail).
    Image {
        /// Local path on the sending device (never sent).
        #[serde(default, skip_serializing_if = "is_empty")]
        path: String,
        /// The stored variants (empty until uploaded).
        #[serde(default)]
        images: Vec<ImageInfo>,
    },
    /// A voice clip.
    Sound {
        /// Local path on the sending device (never sent).
        #[serde(default, skip_serializing_if = "is_empty")]
        path: String,
        /// The stored file.
        #[serde(default)]
        file: FileRef,
        /// Seconds.
        duration: i32,
    },
    /// A video and its snapshot.
    Video {
        /// Local path of the video on the sending device (never sent).
        #[serde(default, skip_serializing_if = "is_empty")]
        video_path: String,
        /// Local path of the snapshot on the sending device (never sent).
        #[serde(default, skip_serializing_if = "is_empty")]
        snapshot_path: String,
        /// Container type, e.g. "mp4".
        video_type: String,
        /// Seconds.
        duration: i32,
        /// The stored video.
        #[serde(default)]
        video: FileRef,
        /// The stored snapshot.
        #[serde(default)]
        snapshot: FileRef,
        /// Snapshot pixels.
        #[serde(default)]
        snapshot_width: u32,
        /// Snapshot pixels.
        #[serde(default)]
        snapshot_height: u32,
    },
    /// A file.
    File {
        /// Local path on the sending device (never sent).
        #[serde(default, skip_serializing_if = "is_empty")]
        path: String,
        /// Display name.
        file_name: String,
        /// The stored file.
        #[serde(default)]
        file: FileRef,
    },
    /// A location.
    Location {
        /// Description.
        desc: String,
        /// Degrees.
        longitude: f64,
        /// Degrees.
        latitude: f64,
    },
    /// A sticker ("face"): an app-defined index and/or data.
    Face {
        /// App-defined index.
        index: i32,
        /// App-defined data.
        #[serde(with = "crate::payload::b64")]
        data: Vec<u8>,
    },
    /// Several messages merged into one (forwarded chat history).
    Merger {
        /// Title, e.g. "Chat history of Alice and Bob".
        title: String,
        /// Up to 5 summary lines.
        abstract_list: Vec<String>,
        /// What an SDK that cannot show merged messages displays.
        compatible_text: String,
        /// The merged messages.
        messages: Vec<WireMessage>,
        /// Merged messages nest deeper than V2TIM allows (100 layers).
        #[serde(default)]
        layers_over_limit: bool,
    },
    /// A group tip: something happened in the group (members, profile, roles).
    GroupTips {
        /// What happened.
        tips: crate::group::GroupTips,
    },
    /// Conversation notice: the message `msg_id` of this notice's sender was revoked. Not shown
    /// as a message and not counted; clients mark the target revoked.
    Revoke {
        /// The revoked message.
        msg_id: String,
    },
    /// An event in a user's own stream (see [`UserEvent`]); never in a conversation.
    Event {
        /// The event.
        event: UserEvent,
    },
}

impl Elem {
    /// Size of the content that counts against [`MAX_MSG_BODY_BYTES`] (text and custom only).
    pub fn body_len(&self) -> usize {
        match self {
            Elem::Text { text } => text.len(),
            Elem::Custom { data, description, extension } => data.len() + description.len() + extension.len(),
            _ => 0,
        }
    }

    /// Whether the element has no content at all (V2TIM rejects empty text).
    pub fn is_empty(&self) -> bool {
        match self {
            Elem::Text { text } => text.is_empty(),
            Elem::Merger { messages, .. } => messages.is_empty(),
            _ => false,
        }
    }

    /// Whether this is a notice or event rather than a message a user wrote: not shown as a
    /// message, never counted as unread.
    pub fn is_notice(&self) -> bool {
        matches!(self, Elem::Revoke { .. } | Elem::Event { .. })
    }

    /// Whether apps may send it (notices, events and group tips are made by the server).
    pub fn is_sendable(&self) -> bool {
        !self.is_notice() && !matches!(self, Elem::GroupTips { .. })
    }

    /// The same element with the sender's local file paths removed (what goes on the wire).
    pub fn without_local_paths(&self) -> Elem {
        let mut e = self.clone();
        match &mut e {
            Elem::Image { path, .. } | Elem::Sound { path, .. } | Elem::File { path, .. } => path.clear(),
            Elem::Video { video_path, snapshot_path, .. } => {
                video_path.clear();
                snapshot_path.clear();
            }
            // Merged messages carry whole messages, paths included, at any depth.
            Elem::Merger { messages, .. } => {
                for m in messages {
                    m.elem = m.elem.without_local_paths();
                }
            }
            _ => {}
        }
        e
    }

    /// Whether this element references server files (see [`Elem::file_uuids`]).
    pub fn has_files(&self) -> bool {
        match self {
            Elem::Image { .. } | Elem::Sound { .. } | Elem::File { .. } | Elem::Video { .. } => true,
            Elem::Merger { messages, .. } => messages.iter().any(|m| m.elem.has_files()),
            _ => false,
        }
    }

    /// The server files this element references (so the server can let its readers download
    /// them).
    pub fn file_uuids(&self) -> Vec<String> {
        match self {
            Elem::Image { images, .. } => images.iter().map(|i| i.uuid.clone()).collect(),
            Elem::Sound { file, .. } | Elem::File { file, .. } => vec![file.uuid.clone()],
            Elem::Video { video, snapshot, .. } => vec![video.uuid.clone(), snapshot.uuid.clone()],
            Elem::Merger { messages, .. } => messages.iter().flat_map(|m| m.elem.file_uuids()).collect(),
            _ => Vec::new(),
        }
        .into_iter()
        .filter(|u| !u.is_empty())
        .collect()
    }
}

/// V2TIM's offline push settings of a message.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OfflinePushInfo {
    /// Notification title.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub title: String,
    /// Notification body.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub desc: String,
    /// Pass-through data for click handling.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub ext: String,
    /// Do not push this message.
    #[serde(default)]
    pub disable_push: bool,
    /// iOS sound file name.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub ios_sound: String,
    /// iOS: do not increase the badge.
    #[serde(default)]
    pub ignore_ios_badge: bool,
    /// Android 8+ OPPO channel id.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub android_oppo_channel_id: String,
}

/// Something that happened to a user's own state, told to all of the user's devices (and, for
/// read receipts, to the peer) through the user's stream, with the same exactly-once delivery
/// as messages.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum UserEvent {
    /// This user read `conv_id` up to `seq` (on some device).
    Read {
        /// The conversation, seen by this user.
        conv_id: ConvId,
        /// Read position.
        seq: u64,
    },
    /// The peer of the C2C conversation `conv_id` read this user's messages up to `seq`.
    PeerRead {
        /// The conversation, seen by this user (`c2c_<reader>`).
        conv_id: ConvId,
        /// Read position.
        seq: u64,
        /// When, Unix milliseconds.
        time_ms: i64,
    },
    /// This user deleted messages (on some device).
    Deleted {
        /// The conversation.
        conv_id: ConvId,
        /// The deleted messages.
        msg_ids: Vec<String>,
    },
    /// This user cleared the conversation's history up to `seq`.
    Cleared {
        /// The conversation.
        conv_id: ConvId,
        /// Everything up to here is gone for this user.
        seq: u64,
    },
    /// Someone applied to join a group this user manages (`onReceiveJoinApplication`).
    JoinApplication {
        /// The group.
        group_id: String,
        /// The applicant.
        applicant: String,
        /// The application message.
        reason: String,
    },
    /// This user's application was handled (`onApplicationProcessed`).
    ApplicationProcessed {
        /// The group.
        group_id: String,
        /// Who handled it.
        op_user: String,
        /// Accepted.
        agree: bool,
        /// The handler's message.
        reason: String,
    },
    /// A group this user was in was dismissed (`onGroupDismissed`).
    GroupDismissed {
        /// The group.
        group_id: String,
        /// Who dismissed it.
        op_user: String,
    },
    /// This user created a group (on some device: `onGroupCreated`).
    GroupCreated {
        /// The group.
        group_id: String,
    },
    /// This user quit a group (on some device: `onQuitFromGroup`).
    QuitGroup {
        /// The group.
        group_id: String,
    },
    /// This user deleted a conversation (`deleteConversation`): gone, with its messages up to
    /// `seq`, until a new message arrives.
    ConvDeleted {
        /// The conversation.
        conv_id: ConvId,
        /// Its messages up to here are gone.
        seq: u64,
    },
    /// This user pinned or unpinned a conversation.
    ConvPinned {
        /// The conversation.
        conv_id: ConvId,
        /// Pinned.
        pinned: bool,
    },
    /// This user's receive option of a conversation changed.
    ConvRecvOpt {
        /// The conversation.
        conv_id: ConvId,
        /// `V2TIMReceiveMessageOpt`.
        opt: i32,
    },
    /// This user changed their profile (on some device: `onSelfInfoUpdated`).
    SelfInfoUpdated {
        /// The profile after the change.
        profile: crate::profile::Profile,
    },
    /// Users entered this user's friend list (`onFriendListAdded`).
    FriendsAdded {
        /// The new entries.
        friends: Vec<crate::friendship::FriendEntry>,
    },
    /// Users left this user's friend list (`onFriendListDeleted`).
    FriendsDeleted {
        /// Who.
        user_ids: Vec<String>,
    },
    /// Entries of this user's friend list changed: remark, custom fields, groups, the friend's
    /// profile (`onFriendInfoChanged`).
    FriendsChanged {
        /// The entries after the change.
        friends: Vec<crate::friendship::FriendEntry>,
    },
    /// New friend applications to or from this user (`onFriendApplicationListAdded`).
    FriendAppsAdded {
        /// As this user sees them.
        apps: Vec<crate::friendship::FriendApplication>,
    },
    /// Friend applications with these users ended (`onFriendApplicationListDeleted`).
    FriendAppsDeleted {
        /// The other users of the applications.
        user_ids: Vec<String>,
    },
    /// This user marked the applications to them read (`onFriendApplicationListRead`).
    FriendAppsRead,
    /// Users entered this user's blacklist (`onBlackListAdd`).
    BlackAdded {
        /// The new entries.
        friends: Vec<crate::friendship::FriendEntry>,
    },
    /// Users left this user's blacklist (`onBlackListDeleted`).
    BlackDeleted {
        /// Who.
        user_ids: Vec<String>,
    },
}

/// A message as it travels between SDK and server.
///
/// On `msg.send` the SDK fills the content and addressing; the server fills `sender`, `seq` and
/// `time_ms`. Pushes and pulls carry the complete message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireMessage {
    /// Client-made id, kept across retries; the server deduplicates on it.
    pub msg_id: String,
    /// Position in the conversation, assigned by the server from 1, never reused. 0 for
    /// online-only messages, which are never stored.
    #[serde(default)]
    pub seq: u64,
    /// Sender's user id.
    #[serde(default)]
    pub sender: String,
    /// C2C receiver's user id; empty for group messages.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub receiver: String,
    /// Group id; empty for C2C messages.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub group_id: String,
    /// Server time of acceptance, Unix milliseconds (non-decreasing along a conversation's seqs).
    #[serde(default)]
    pub time_ms: i64,
    /// Client random, as V2TIM's `random`.
    #[serde(default)]
    pub random: u32,
    /// `V2TIMMessagePriority` value.
    #[serde(default)]
    pub priority: i32,
    /// Online-only: not stored, not synced, not counted.
    #[serde(default, skip_serializing_if = "is_false")]
    pub online_only: bool,
    /// The content.
    pub elem: Elem,
    /// App data that roams with the message.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub cloud_custom_data: String,
    /// Users @-mentioned (group text messages; [`AT_ALL`] for everyone).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub at_users: Vec<String>,
    /// Offline push settings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offline_push: Option<OfflinePushInfo>,
    /// Revoked by its sender (set by the server; the content is kept).
    #[serde(default, skip_serializing_if = "is_false")]
    pub revoked: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl WireMessage {
    /// A message with `elem` and nothing else set.
    pub fn new(msg_id: impl Into<String>, elem: Elem) -> WireMessage {
        WireMessage {
            msg_id: msg_id.into(),
            seq: 0,
            sender: String::new(),
            receiver: String::new(),
            group_id: String::new(),
            time_ms: 0,
            random: 0,
            priority: 0,
            online_only: false,
            elem,
            cloud_custom_data: String::new(),
            at_users: Vec::new(),
            offline_push: None,
            revoked: false,
        }
    }

    /// The conversation this message belongs to, seen by `me`.
    pub fn conv_id_for(&self, me: &str) -> ConvId {
        if matches!(self.elem, Elem::Event { .. }) {
            ConvId::System
        } else if !self.group_id.is_empty() {
            ConvId::Group(self.group_id.clone())
        } else if self.sender == me {
            ConvId::C2C(self.receiver.clone())
        } else {
            ConvId::C2C(self.sender.clone())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_elem_is_base64_on_the_wire() {
        let elem = Elem::Custom { data: vec![0, 1, 255], description: String::new(), extension: "x".into() };
        let json = serde_json::to_string(&elem).unwrap();
        assert_eq!(json, r#"{"type":"custom","data":"AAH/","extension":"x"}"#);
        assert_eq!(serde_json::from_str::<Elem>(&json).unwrap(), elem);
        assert_eq!(elem.body_len(), 4);
    }

    #[test]
    fn conversation_of_a_message_depends_on_who_looks() {
        let mut msg = WireMessage::new("m", Elem::Text { text: "hi".into() });
        msg.sender = "alice".into();
        msg.receiver = "bob".into();
        assert_eq!(msg.conv_id_for("alice"), ConvId::C2C("bob".into()));
        assert_eq!(msg.conv_id_for("bob"), ConvId::C2C("alice".into()));
    }

    #[test]
    fn local_paths_never_leave_the_device() {
        let elem = Elem::Video {
            video_path: "/sdcard/v.mp4".into(),
            snapshot_path: "/sdcard/s.jpg".into(),
            video_type: "mp4".into(),
            duration: 3,
            video: FileRef { uuid: "u1".into(), url: "/v1/files/u1".into(), size: 10 },
            snapshot: FileRef::default(),
            snapshot_width: 0,
            snapshot_height: 0,
        };
        let json = serde_json::to_string(&elem.without_local_paths()).unwrap();
        assert!(!json.contains("sdcard"), "{json}");
        assert_eq!(elem.file_uuids(), ["u1"]);
        // Nor do they inside merged messages, however deeply nested.
        let merged = |inner: Elem| Elem::Merger {
            title: "t".into(),
            abstract_list: vec![],
            compatible_text: "c".into(),
            messages: vec![WireMessage::new("i", inner)],
            layers_over_limit: false,
        };
        let nested = merged(merged(elem.clone()));
        assert!(serde_json::to_string(&nested).unwrap().contains("sdcard"));
        let json = serde_json::to_string(&nested.without_local_paths()).unwrap();
        assert!(!json.contains("sdcard"), "{json}");
        assert_eq!(nested.without_local_paths().file_uuids(), ["u1"], "the files stay, only the paths go");
    }

    #[test]
    fn user_events_round_trip() {
        let e = Elem::Event { event: UserEvent::PeerRead { conv_id: ConvId::C2C("bob".into()), seq: 4, time_ms: 9 } };
        let json = serde_json::to_string(&e).unwrap();
        assert_eq!(json, r#"{"type":"event","event":{"kind":"peer_read","conv_id":"c2c_bob","seq":4,"time_ms":9}}"#);
        assert_eq!(serde_json::from_str::<Elem>(&json).unwrap(), e);
        assert!(e.is_notice());
    }
}
