//! The conversation publisher: tells the conversation listener each change of the list once,
//! in the order the store made them, and the unread total when it moves. The store records
//! each change as not told until the publisher tells it (`store::conversations::refresh`), so
//! a change that a session ended before telling is told by the next session
//! ([`crate::store::conversations::pending_announcements`]).

use std::sync::Arc;

use crate::error::Result;
use crate::events::Dispatcher;
use crate::model::conversation::ConvChange;
use crate::model::event::Event;
use crate::model::message::ConvId;
use crate::store::Store;
use crate::store::conversations as rows;

/// Tells the conversation listener about changed conversations, once per batch of changes, in
/// the order the batches were made; and about the unread total when it moved.
#[derive(Default)]
pub struct Publisher {
    /// The last total told. Publishing runs on the store thread, one job at a time, so the
    /// events leave in the order the store changed.
    last_total: std::sync::Mutex<Option<u64>>,
}

impl Publisher {
    /// Emits `onNewConversation` / `onConversationChanged` for `changes` (each conversation
    /// once, with its current state) and `onTotalUnreadMessageCountChanged` if the total moved.
    pub async fn publish(
        self: &Arc<Self>,
        store: &Store,
        events: &Arc<Dispatcher>,
        me: &str,
        changes: Vec<(ConvId, ConvChange)>,
    ) {
        if changes.is_empty() && self.told_total() {
            return;
        }
        let (this, events, me) = (self.clone(), events.clone(), me.to_owned());
        let _ = store.call(move |db| this.publish_in(db, &events, &me, changes)).await;
    }

    /// Whether the total unread count has been told since the session started.
    pub fn told_total(&self) -> bool {
        self.last_total.lock().expect("publisher lock").is_some()
    }

    /// [`publish`](Self::publish) from inside a store job (the caller's changes were made on
    /// this connection), saving a second trip to the store thread.
    pub fn publish_in(
        &self,
        db: &rusqlite::Connection,
        events: &Dispatcher,
        me: &str,
        changes: Vec<(ConvId, ConvChange)>,
    ) -> Result<()> {
        // Told from here on (the events are queued in order behind everything emitted before).
        let convs: Vec<ConvId> = changes.iter().map(|(conv, _)| conv.clone()).collect();
        rows::mark_announced(db, &convs)?;
        self.publish_marked_in(db, events, me, changes)
    }

    /// [`publish_in`](Self::publish_in) for changes already marked told in the transaction
    /// that made them (a local change told in the same store job right after its commit: one
    /// commit fewer, and no moment in which the change is stored but not marked).
    pub fn publish_marked_in(
        &self,
        db: &rusqlite::Connection,
        events: &Dispatcher,
        me: &str,
        changes: Vec<(ConvId, ConvChange)>,
    ) -> Result<()> {
        let (new, changed) = by_kind(changes);
        let (new, changed, total) =
            (rows::by_ids(db, me, &new)?, rows::by_ids(db, me, &changed)?, rows::total_unread(db)?);
        if !new.is_empty() {
            events.emit(Event::NewConversations(new));
        }
        if !changed.is_empty() {
            events.emit(Event::ConversationsChanged(changed));
        }
        let mut last_total = self.last_total.lock().expect("publisher lock");
        if *last_total != Some(total) {
            *last_total = Some(total);
            events.emit(Event::TotalUnreadChanged(total));
        }
        Ok(())
    }
}

/// The conversations of `changes` that are new and those that changed, each once, in order (a
/// conversation new in this batch is told as new only).
fn by_kind(changes: Vec<(ConvId, ConvChange)>) -> (Vec<ConvId>, Vec<ConvId>) {
    let mut new: Vec<ConvId> = Vec::new();
    let mut changed: Vec<ConvId> = Vec::new();
    for (conv, change) in changes {
        match change {
            ConvChange::New if !new.contains(&conv) => {
                changed.retain(|c| *c != conv);
                new.push(conv);
            }
            ConvChange::Changed if !new.contains(&conv) && !changed.contains(&conv) => changed.push(conv),
            _ => {}
        }
    }
    (new, changed)
}
