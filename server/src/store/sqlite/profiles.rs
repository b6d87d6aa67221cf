//! Users' profiles ([`ProfileStore`]): one JSON row per user who changed theirs; a user without
//! a row has the defaults. A change is decided by [`crate::domain::profiles`] over the stored
//! profile and told to every device of the user through their own stream (and to whoever has
//! the user as a friend), in one transaction.

use async_trait::async_trait;
use oxim_proto::message::UserEvent;
use oxim_proto::profile::{Profile, ProfileChange};
use rusqlite::{Connection, OptionalExtension, params};

use super::SqliteStore;
use super::writer::WriterState;
use crate::domain::profiles::change_profile;
use crate::store::{ProfileStore, Queued, StoreError, StoreResult, Written};

/// Migration: profiles.
pub(super) const MIGRATION: &str = "
    CREATE TABLE profile (
        user_id TEXT PRIMARY KEY,
        body    TEXT NOT NULL       -- the Profile as JSON
    ) WITHOUT ROWID;";

/// `user`'s profile as stored: `None` if the user does not exist; the defaults if they never
/// changed it.
pub(super) fn profile_of(c: &Connection, user: &str) -> StoreResult<Option<Profile>> {
    let row: Option<Option<String>> = c
        .prepare_cached("SELECT p.body FROM user u LEFT JOIN profile p ON p.user_id = u.user_id WHERE u.user_id = ?1")?
        .query_row([user], |r| r.get(0))
        .optional()?;
    match row {
        None => Ok(None),
        Some(None) => Ok(Some(Profile::new(user))),
        Some(Some(body)) => {
            serde_json::from_str(&body).map(Some).map_err(|e| StoreError::Corrupt(format!("profile of {user}: {e}")))
        }
    }
}

impl WriterState {
    /// Applies `change` to `user`'s profile as the domain decides, stores it and tells the
    /// user's devices; returns the profile after the change.
    pub(super) fn set_profile(
        &mut self,
        tx: &Connection,
        user: &str,
        change: &ProfileChange,
    ) -> StoreResult<(Profile, Written)> {
        let current = profile_of(tx, user)?.unwrap_or_else(|| Profile::new(user));
        let after = change_profile(current.clone(), change)?;
        let body = serde_json::to_string(&after).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        tx.prepare_cached("INSERT INTO profile (user_id, body) VALUES (?1, ?2) ON CONFLICT (user_id) DO UPDATE SET body = excluded.body")?
            .execute(params![user, body])?;
        let mut appended = vec![self.user_event(tx, user, UserEvent::SelfInfoUpdated { profile: after.clone() })?];
        // Whoever has the user as a friend hears of the new profile (onFriendInfoChanged), if
        // it is new.
        if after != current {
            appended.extend(self.friend_profile_changed(tx, user)?);
        }
        Ok((after, Written { appended, seq: 0 }))
    }
}

#[async_trait]
impl ProfileStore for SqliteStore {
    async fn profiles(&self, user_ids: Vec<String>) -> StoreResult<Vec<Profile>> {
        self.read(move |c| {
            let mut out = Vec::with_capacity(user_ids.len());
            for user in &user_ids {
                if let Some(p) = profile_of(c, user)? {
                    out.push(p);
                }
            }
            Ok(out)
        })
        .await
    }

    fn set_profile(&self, user: &str, change: ProfileChange) -> Queued<(Profile, Written)> {
        let user = user.to_owned();
        self.write(move |tx, state| state.set_profile(tx, &user, &change))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Store, UserStore};

    #[tokio::test]
    async fn a_change_is_stored_told_to_the_users_stream_and_survives_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        store.register_user("alice").await.unwrap();
        assert_eq!(store.profiles(vec!["alice".into(), "ghost".into()]).await.unwrap(), vec![Profile::new("alice")]);
        let change = ProfileChange { nick_name: Some("Alice".into()), level: Some(2), ..Default::default() };
        let (after, written) = store.set_profile("alice", change).await.unwrap();
        assert_eq!((after.nick_name.as_str(), after.level), ("Alice", 2));
        assert_eq!(written.appended.len(), 1);
        assert_eq!(written.appended[0].recipients, vec!["alice".to_string()]);
        let refused = store.set_profile("alice", ProfileChange { gender: Some(5), ..Default::default() }).await;
        assert!(matches!(refused, Err(StoreError::Refused { code: 40605, .. })), "{refused:?}");
        store.close().await;

        let store = SqliteStore::open(dir.path()).unwrap();
        assert_eq!(store.profiles(vec!["alice".into()]).await.unwrap(), vec![after]);
        store.close().await;
    }
}
