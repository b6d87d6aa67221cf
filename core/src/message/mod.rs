//! `V2TIMMessageManager`: creating, sending, history, revoke, receipts, deletion, lookups.
//!
//! - [`send`]: the send path (store SENDING → upload → send, same msgID on every retry).
//! - [`queue`]: the send queues (one per conversation, persisted, drained in call order).
//! - [`media`]: file checks, uploads, downloads.
//! - [`history`]: history pages (local first, gaps from the server).
//! - [`ops`]: revoke, read reports, delete, clear, import, find, local data.

mod content;
pub mod history;
pub mod media;
pub mod ops;
mod queue;
pub mod send;

use std::sync::Arc;

use oxim_proto::media::FileKind;
use oxim_proto::message::{MAX_AT_USERS, MAX_MERGED_MESSAGES};

pub use history::{MAX_HISTORY_COUNT, Source};
pub(crate) use queue::set_rate_retry_limit;
pub use send::{Progress, SendOptions, attach, new_msg_id};

use crate::error::{Error, Result};
use crate::model::message::{ConvId, Elem, FileRef, HistoryGetType, HistoryOption, Message, WireMessage};
use crate::runtime;
use crate::session::{Session, SessionSource};

/// Most summary lines of a merged message.
pub const MAX_MERGER_ABSTRACTS: usize = 5;

/// How many created-but-unsent messages the SDK remembers.
const MAX_DRAFTS: usize = 512;

/// Messages created and not yet sent, with what only the SDK holds: an app gets a *copy* of a
/// message (a record) and hands a copy back to `sendMessage`, and a copy cannot carry
/// everything (merged messages' content, the source of a forward). Oldest forgotten first.
#[derive(Default)]
pub struct Drafts {
    entries: std::sync::Mutex<std::collections::VecDeque<Draft>>,
}

#[derive(Clone)]
struct Draft {
    msg: Message,
    /// For forwards: the message whose content this one carries.
    source: Option<String>,
}

impl Drafts {
    fn put(&self, msg: Message, source: Option<String>) {
        let mut entries = self.entries.lock().expect("drafts lock");
        entries.retain(|d| d.msg.msg_id != msg.msg_id);
        if entries.len() >= MAX_DRAFTS {
            entries.pop_front();
        }
        entries.push_back(Draft { msg, source });
    }

    fn get(&self, msg_id: &str) -> Option<Draft> {
        self.entries.lock().expect("drafts lock").iter().find(|d| d.msg.msg_id == msg_id).cloned()
    }

    fn take(&self, msg_id: &str) -> Option<Draft> {
        let mut entries = self.entries.lock().expect("drafts lock");
        let i = entries.iter().position(|d| d.msg.msg_id == msg_id)?;
        entries.remove(i)
    }
}

/// The message manager of one SDK instance (`V2TIMManager.getMessageManager()`).
#[derive(Clone)]
pub struct MessageManager {
    sessions: Arc<dyn SessionSource>,
    drafts: Arc<Drafts>,
}

impl MessageManager {
    /// The message manager of the instance whose sessions `sessions` finds; `drafts` are the
    /// instance's messages created and not sent yet.
    pub fn new(sessions: Arc<dyn SessionSource>, drafts: Arc<Drafts>) -> MessageManager {
        MessageManager { sessions, drafts }
    }

    fn session(&self) -> Result<Arc<Session>> {
        self.sessions.session()
    }

    /// The logged-in user's id, empty when nobody is logged in.
    fn login_user(&self) -> String {
        self.sessions.session().map(|s| s.user_id.clone()).unwrap_or_default()
    }

    fn draft(&self, elem: Elem) -> Message {
        let msg = Message::draft(&self.login_user(), elem, new_msg_id(), crate::clock::unix_ms());
        self.drafts.put(msg.clone(), None);
        msg
    }

    /// The SDK's own copy of a message the app hands back (a created one, else as given).
    fn known(&self, msg: Message) -> Message {
        match self.drafts.get(&msg.msg_id) {
            Some(d) if matches!(d.msg.elem, Elem::Merger { .. }) => Message { elem: d.msg.elem, ..msg },
            _ => msg,
        }
    }

    // ---- create ------------------------------------------------------------------------------

    /// `createTextMessage`.
    pub fn create_text_message(&self, text: String) -> Message {
        self.draft(Elem::Text { text })
    }

    /// `createTextAtMessage`: a text that @-mentions users (`AT_ALL` for everyone), for groups.
    pub fn create_text_at_message(&self, text: String, at_user_list: Vec<String>) -> Result<Message> {
        if at_user_list.len() > MAX_AT_USERS {
            return Err(Error::invalid(format!("at most {MAX_AT_USERS} users can be @-mentioned")));
        }
        let mut msg = self.draft(Elem::Text { text });
        msg.group_at_user_list = at_user_list;
        Ok(msg)
    }

    /// `createCustomMessage`.
    pub fn create_custom_message(&self, data: Vec<u8>, description: String, extension: String) -> Message {
        self.draft(Elem::Custom { data, description, extension })
    }

    /// `createImageMessage`: the original, large and thumbnail variants are made on upload.
    pub fn create_image_message(&self, image_path: String) -> Result<Message> {
        media::check_file(&image_path, FileKind::Image)?;
        Ok(self.draft(Elem::Image { path: image_path, images: Vec::new() }))
    }

    /// `createSoundMessage`: `duration` in seconds.
    pub fn create_sound_message(&self, sound_path: String, duration: i32) -> Result<Message> {
        media::check_file(&sound_path, FileKind::Sound)?;
        Ok(self.draft(Elem::Sound { path: sound_path, file: FileRef::default(), duration: duration.max(0) }))
    }

    /// `createVideoMessage`: `video_type` e.g. "mp4", `duration` in seconds, and a snapshot image.
    pub fn create_video_message(
        &self,
        video_file_path: String,
        video_type: String,
        duration: i32,
        snapshot_path: String,
    ) -> Result<Message> {
        media::check_file(&video_file_path, FileKind::Video)?;
        media::check_file(&snapshot_path, FileKind::Image)?;
        Ok(self.draft(Elem::Video {
            video_path: video_file_path,
            snapshot_path,
            video_type,
            duration: duration.max(0),
            video: FileRef::default(),
            snapshot: FileRef::default(),
            snapshot_width: 0,
            snapshot_height: 0,
        }))
    }

    /// `createFileMessage`: `file_name` is what receivers see.
    pub fn create_file_message(&self, file_path: String, file_name: String) -> Result<Message> {
        media::check_file(&file_path, FileKind::File)?;
        Ok(self.draft(Elem::File { path: file_path, file_name, file: FileRef::default() }))
    }

    /// `createLocationMessage`.
    pub fn create_location_message(&self, desc: String, longitude: f64, latitude: f64) -> Result<Message> {
        if !(-180.0..=180.0).contains(&longitude) || !(-90.0..=90.0).contains(&latitude) {
            return Err(Error::invalid("longitude must be within ±180 and latitude within ±90"));
        }
        Ok(self.draft(Elem::Location { desc, longitude, latitude }))
    }

    /// `createFaceMessage`.
    pub fn create_face_message(&self, index: i32, data: Vec<u8>) -> Message {
        self.draft(Elem::Face { index, data })
    }

    /// `createMergerMessage`: up to 300 sent messages forwarded as one, with a title, up to 5
    /// summary lines and the text older SDKs show.
    pub fn create_merger_message(
        &self,
        messages: Vec<Message>,
        title: String,
        abstract_list: Vec<String>,
        compatible_text: String,
    ) -> Result<Message> {
        if messages.is_empty() || messages.len() > MAX_MERGED_MESSAGES {
            return Err(Error::invalid(format!("merge 1 to {MAX_MERGED_MESSAGES} messages")));
        }
        if abstract_list.len() > MAX_MERGER_ABSTRACTS {
            return Err(Error::invalid(format!("at most {MAX_MERGER_ABSTRACTS} summary lines")));
        }
        if compatible_text.is_empty() {
            return Err(Error::invalid("compatibleText must not be empty"));
        }
        if messages.iter().any(|m| m.seq == 0 || m.elem.is_notice()) {
            return Err(Error::invalid("only sent messages can be merged"));
        }
        let messages: Vec<Message> = messages.into_iter().map(|m| self.known(m)).collect();
        let depth = messages.iter().map(|m| merger_depth(&m.elem)).max().unwrap_or(0);
        let inner: Vec<WireMessage> = messages.iter().map(|m| m.to_wire()).collect();
        Ok(self.draft(Elem::Merger {
            title,
            abstract_list,
            compatible_text,
            messages: inner,
            layers_over_limit: depth >= 100,
        }))
    }

    /// `createForwardMessage`: a new message with the content of `message` (files are not
    /// uploaded again).
    pub fn create_forward_message(&self, message: &Message) -> Result<Message> {
        if message.seq == 0 || message.elem.is_notice() {
            return Err(Error::invalid("only a sent message can be forwarded"));
        }
        let elem = self.known(message.clone()).elem.without_local_paths();
        let msg = Message::draft(&self.login_user(), elem, new_msg_id(), crate::clock::unix_ms());
        self.drafts.put(msg.clone(), Some(message.msg_id.clone()));
        Ok(msg)
    }

    // ---- send --------------------------------------------------------------------------------

    /// `sendMessage`. The message is queued before the first await (in the order of the
    /// calls); the rest runs on the SDK runtime.
    pub async fn send_message(&self, msg: Message, opts: SendOptions) -> Result<Message> {
        let session = self.session()?;
        let draft = self.drafts.take(&msg.msg_id);
        let complete = matches!(msg.elem, Elem::Merger { .. }).then(|| {
            let me = session.user_id.clone();
            Box::new(move |db: &rusqlite::Connection, elem| complete_merger(db, &me, draft, elem)) as send::Complete
        });
        let sending = send::send_message(&session, msg, opts, complete)?;
        runtime::run(sending).await
    }

    /// `downloadMergerMessage`: the messages inside a merged message.
    pub async fn download_merger_message(&self, msg: Message) -> Result<Vec<Message>> {
        let session = self.session()?;
        let msg = self.known(msg);
        runtime::run(async move {
            let elem = match msg.elem {
                Elem::Merger { ref messages, .. } if !messages.is_empty() => msg.elem.clone(),
                _ => stored_elem(&session, &msg.msg_id).await?.unwrap_or(msg.elem),
            };
            match elem {
                Elem::Merger { messages, .. } => Ok(messages
                    .iter()
                    .map(|w| Message::from_wire(w, &session.user_id, crate::model::message::MessageStatus::SendSucc))
                    .collect()),
                _ => Err(Error::invalid("not a merged message")),
            }
        })
        .await
    }

    // ---- history -----------------------------------------------------------------------------

    /// `getC2CHistoryMessageList`: `count` messages older than `last_msg` (or the newest), newest
    /// first; local first, gaps from the server.
    pub async fn get_c2c_history_message_list(
        &self,
        user_id: String,
        count: u32,
        last_msg: Option<Message>,
    ) -> Result<Vec<Message>> {
        let conv = ConvId::C2C(check_user(user_id)?);
        self.history(conv, count, last_msg, 0, true, Source::Auto).await
    }

    /// `getGroupHistoryMessageList`.
    pub async fn get_group_history_message_list(
        &self,
        group_id: String,
        count: u32,
        last_msg: Option<Message>,
    ) -> Result<Vec<Message>> {
        if group_id.is_empty() {
            return Err(Error::invalid("groupID is empty"));
        }
        self.history(ConvId::Group(group_id), count, last_msg, 0, true, Source::Auto).await
    }

    /// `getHistoryMessageList`.
    pub async fn get_history_message_list(&self, option: HistoryOption) -> Result<Vec<Message>> {
        let conv = match (option.user_id.is_empty(), option.group_id.is_empty()) {
            (false, true) => ConvId::C2C(check_user(option.user_id)?),
            (true, false) => ConvId::Group(option.group_id),
            _ => return Err(Error::invalid("give exactly one of userID and groupID")),
        };
        let (older, source) = match option.get_type {
            HistoryGetType::CloudOlder => (true, Source::Cloud),
            HistoryGetType::CloudNewer => (false, Source::Cloud),
            HistoryGetType::LocalOlder => (true, Source::Local),
            HistoryGetType::LocalNewer => (false, Source::Local),
        };
        self.history(conv, option.count, option.last_msg, option.last_msg_seq, older, source).await
    }

    async fn history(
        &self,
        conv: ConvId,
        count: u32,
        last_msg: Option<Message>,
        last_msg_seq: u64,
        older: bool,
        source: Source,
    ) -> Result<Vec<Message>> {
        let session = self.session()?;
        runtime::run(async move {
            let anchor = match (&last_msg, last_msg_seq) {
                (Some(m), _) => Some(history::anchor_of(&session, m).await?),
                (None, seq) if seq > 0 => Some(history::anchor_at_seq(&session, &conv, seq, older).await?),
                _ => None,
            };
            history::page(&session, conv, count, anchor, older, source).await
        })
        .await
    }

    // ---- operations --------------------------------------------------------------------------

    /// `revokeMessage`.
    pub async fn revoke_message(&self, msg: Message) -> Result<()> {
        let session = self.session()?;
        runtime::run(async move { ops::revoke(&session, &msg).await }).await
    }

    /// `markC2CMessageAsRead`.
    pub async fn mark_c2c_message_as_read(&self, user_id: String) -> Result<()> {
        let conv = ConvId::C2C(check_user(user_id)?);
        let session = self.session()?;
        runtime::run(async move { ops::mark_read(&session, conv).await }).await
    }

    /// `markGroupMessageAsRead`.
    pub async fn mark_group_message_as_read(&self, group_id: String) -> Result<()> {
        if group_id.is_empty() {
            return Err(Error::invalid("groupID is empty"));
        }
        let session = self.session()?;
        runtime::run(async move { ops::mark_read(&session, ConvId::Group(group_id)).await }).await
    }

    /// `deleteMessages`.
    pub async fn delete_messages(&self, messages: Vec<Message>) -> Result<()> {
        let session = self.session()?;
        runtime::run(async move { ops::delete_messages(&session, &messages).await }).await
    }

    /// `deleteMessageFromLocalStorage`.
    pub async fn delete_message_from_local_storage(&self, msg: Message) -> Result<()> {
        let session = self.session()?;
        runtime::run(async move { ops::delete_local(&session, &msg).await }).await
    }

    /// `clearC2CHistoryMessage`.
    pub async fn clear_c2c_history_message(&self, user_id: String) -> Result<()> {
        let conv = ConvId::C2C(check_user(user_id)?);
        let session = self.session()?;
        runtime::run(async move { ops::clear_history(&session, conv).await }).await
    }

    /// `clearGroupHistoryMessage`.
    pub async fn clear_group_history_message(&self, group_id: String) -> Result<()> {
        if group_id.is_empty() {
            return Err(Error::invalid("groupID is empty"));
        }
        let session = self.session()?;
        runtime::run(async move { ops::clear_history(&session, ConvId::Group(group_id)).await }).await
    }

    /// `insertC2CMessageToLocalStorage`.
    pub async fn insert_c2c_message_to_local_storage(
        &self,
        msg: Message,
        user_id: String,
        sender: String,
    ) -> Result<Message> {
        let conv = ConvId::C2C(check_user(user_id)?);
        let session = self.session()?;
        runtime::run(async move { ops::insert_local(&session, msg, conv, sender).await }).await
    }

    /// `insertGroupMessageToLocalStorage`.
    pub async fn insert_group_message_to_local_storage(
        &self,
        msg: Message,
        group_id: String,
        sender: String,
    ) -> Result<Message> {
        if group_id.is_empty() {
            return Err(Error::invalid("groupID is empty"));
        }
        let session = self.session()?;
        runtime::run(async move { ops::insert_local(&session, msg, ConvId::Group(group_id), sender).await }).await
    }

    /// `findMessages`.
    pub async fn find_messages(&self, message_id_list: Vec<String>) -> Result<Vec<Message>> {
        let session = self.session()?;
        runtime::run(async move { ops::find(&session, message_id_list).await }).await
    }

    /// `setLocalCustomData` of a message (device-local).
    pub async fn set_local_custom_data(&self, msg_id: String, data: String) -> Result<()> {
        let session = self.session()?;
        runtime::run(async move { ops::set_local_custom(&session, msg_id, Some(data), None).await }).await
    }

    /// `setLocalCustomInt` of a message (device-local).
    pub async fn set_local_custom_int(&self, msg_id: String, value: i32) -> Result<()> {
        let session = self.session()?;
        runtime::run(async move { ops::set_local_custom(&session, msg_id, None, Some(value)).await }).await
    }

    /// Downloads a message file (`downloadImage`, `downloadSound`, ...) to `path`.
    pub async fn download(
        &self,
        url: String,
        path: String,
        progress: Arc<dyn Fn(u64, u64) + Send + Sync>,
    ) -> Result<()> {
        let session = self.session()?;
        runtime::run(async move { ops::download(&session, url, path, progress).await }).await
    }
}

/// The element of a stored message.
async fn stored_elem(session: &Arc<Session>, msg_id: &str) -> Result<Option<Elem>> {
    let (me, id) = (session.user_id.clone(), msg_id.to_owned());
    Ok(session.store.call(move |db| crate::store::find_message(db, &me, &id)).await?.map(|m| m.elem))
}

/// A merged element with all its content: from the SDK's own copy of the draft, from the
/// stored source of a forward, and nested merged messages from their stored copies.
fn complete_merger(db: &rusqlite::Connection, me: &str, draft: Option<Draft>, elem: Elem) -> Result<Elem> {
    let stored_elem =
        |id: &str| -> Result<Option<Elem>> { Ok(crate::store::find_message(db, me, id)?.map(|m| m.elem)) };
    let mut elem = match draft {
        Some(Draft { msg, .. }) if matches!(&msg.elem, Elem::Merger { messages, .. } if !messages.is_empty()) => {
            msg.elem
        }
        Some(Draft { source: Some(source), .. }) => stored_elem(&source)?.unwrap_or(elem),
        _ => elem,
    };
    if let Elem::Merger { messages, .. } = &mut elem {
        for inner in messages.iter_mut() {
            if matches!(&inner.elem, Elem::Merger { messages, .. } if messages.is_empty())
                && let Some(full) = stored_elem(&inner.msg_id)?
            {
                inner.elem = full;
            }
        }
    }
    if matches!(&elem, Elem::Merger { messages, .. } if messages.is_empty()) {
        return Err(Error::invalid("the merged message's content is not known to this SDK instance"));
    }
    Ok(elem)
}

fn check_user(user_id: String) -> Result<String> {
    if !oxim_proto::ids::is_valid_user_id(&user_id) {
        return Err(Error::invalid("userID must be 1-32 printable ASCII characters without spaces"));
    }
    Ok(user_id)
}

fn merger_depth(elem: &Elem) -> usize {
    match elem {
        Elem::Merger { messages, .. } => 1 + messages.iter().map(|m| merger_depth(&m.elem)).max().unwrap_or(0),
        _ => 0,
    }
}
