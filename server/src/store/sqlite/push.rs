//! Devices registered for offline push ([`PushStore`]): one row per user and platform, with the
//! registration the device made since its last login and its app state.

use async_trait::async_trait;
use oxim_proto::ids::ConvId;
use oxim_proto::offline_push::PushConfig;
use rusqlite::{OptionalExtension, params};

use super::SqliteStore;
use crate::store::{BadgeCount, PushDevice, PushStore, Queued, StillCurrent, StoreResult};

/// Migration: devices registered for offline push.
pub(super) const MIGRATION: &str = "
    CREATE TABLE push_device (
        user_id     TEXT NOT NULL,
        platform    TEXT NOT NULL,
        business_id INTEGER,            -- NULL: no registration since the last login
        token       TEXT,
        is_tpns     INTEGER NOT NULL DEFAULT 0,
        badge       INTEGER,            -- the doBackground badge; NULL in the foreground
        pushes      INTEGER NOT NULL DEFAULT 0, -- pushes since the app state was last told
        PRIMARY KEY (user_id, platform)
    ) WITHOUT ROWID;";

/// Migration: which count of pushes a badge step belongs to. A new random value whenever the
/// count starts again (the app state told, the row made anew), so a push that fails for good
/// gives its step back only to the count it was taken from.
pub(super) const BADGE_EPOCH_MIGRATION: &str =
    "ALTER TABLE push_device ADD COLUMN badge_epoch INTEGER NOT NULL DEFAULT 0;";

#[async_trait]
impl PushStore for SqliteStore {
    fn set_push_config(&self, user: &str, platform: &str, config: PushConfig, current: StillCurrent) -> Queued<bool> {
        let (user, platform) = (user.to_owned(), platform.to_owned());
        self.write(move |tx, _| {
            if !current() {
                return Ok(false);
            }
            tx.prepare_cached(
                "INSERT INTO push_device (user_id, platform, business_id, token, is_tpns, badge_epoch)
                 VALUES (?1, ?2, ?3, ?4, ?5, random())
                 ON CONFLICT (user_id, platform) DO UPDATE SET
                     business_id = excluded.business_id, token = excluded.token, is_tpns = excluded.is_tpns",
            )?
            .execute(params![user, platform, config.business_id, config.token, config.is_tpns_token])?;
            Ok(true)
        })
    }

    fn set_push_background(
        &self,
        user: &str,
        platform: &str,
        badge: Option<u32>,
        current: StillCurrent,
    ) -> Queued<bool> {
        let (user, platform) = (user.to_owned(), platform.to_owned());
        self.write(move |tx, _| {
            if !current() {
                return Ok(false);
            }
            tx.prepare_cached(
                "INSERT INTO push_device (user_id, platform, badge, badge_epoch) VALUES (?1, ?2, ?3, random())
                 ON CONFLICT (user_id, platform) DO UPDATE SET
                     badge = excluded.badge, pushes = 0, badge_epoch = excluded.badge_epoch",
            )?
            .execute(params![user, platform, badge])?;
            Ok(true)
        })
    }

    fn remove_push_device(&self, user: &str, platform: &str, current: StillCurrent) -> Queued<bool> {
        let (user, platform) = (user.to_owned(), platform.to_owned());
        self.write(move |tx, _| {
            if !current() {
                return Ok(false);
            }
            tx.prepare_cached("DELETE FROM push_device WHERE user_id = ?1 AND platform = ?2")?
                .execute(params![user, platform])?;
            Ok(true)
        })
    }

    fn count_push(&self, user: &str, platform: &str) -> Queued<Option<BadgeCount>> {
        let (user, platform) = (user.to_owned(), platform.to_owned());
        self.write(move |tx, _| {
            let counted: Option<(i64, i64)> = tx
                .prepare_cached(
                    "UPDATE push_device SET pushes = pushes + 1 WHERE user_id = ?1 AND platform = ?2
                     RETURNING COALESCE(badge, 0) + pushes, badge_epoch",
                )?
                .query_row(params![user, platform], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?;
            Ok(counted.map(|(badge, epoch)| BadgeCount { badge: u32::try_from(badge).unwrap_or(u32::MAX), epoch }))
        })
    }

    fn uncount_push(&self, user: &str, platform: &str, epoch: i64) -> Queued<()> {
        let (user, platform) = (user.to_owned(), platform.to_owned());
        self.write(move |tx, _| {
            tx.prepare_cached(
                "UPDATE push_device SET pushes = pushes - 1
                 WHERE user_id = ?1 AND platform = ?2 AND badge_epoch = ?3 AND pushes > 0",
            )?
            .execute(params![user, platform, epoch])?;
            Ok(())
        })
    }

    fn remove_push_token(&self, user: &str, platform: &str, token: &str) -> Queued<()> {
        let (user, platform, token) = (user.to_owned(), platform.to_owned(), token.to_owned());
        self.write(move |tx, _| {
            tx.prepare_cached("DELETE FROM push_device WHERE user_id = ?1 AND platform = ?2 AND token = ?3")?
                .execute(params![user, platform, token])?;
            Ok(())
        })
    }

    async fn push_devices(&self, users: Vec<String>) -> StoreResult<Vec<PushDevice>> {
        self.read(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT platform, business_id, token, is_tpns, badge FROM push_device WHERE user_id = ?1 ORDER BY platform",
            )?;
            let mut out = Vec::new();
            for user in &users {
                let rows = stmt.query_map([user], |r| {
                    let business_id: Option<i64> = r.get(1)?;
                    let token: Option<String> = r.get(2)?;
                    let config = match (business_id, token) {
                        (Some(business_id), Some(token)) => {
                            Some(PushConfig { business_id, token, is_tpns_token: r.get(3)? })
                        }
                        _ => None,
                    };
                    Ok(PushDevice { user: user.clone(), platform: r.get(0)?, config, background_badge: r.get(4)? })
                })?;
                for row in rows {
                    out.push(row?);
                }
            }
            Ok(out)
        })
        .await
    }

    async fn recv_opts_in(&self, users: Vec<String>, conv: ConvId) -> StoreResult<Vec<i32>> {
        let conv = conv.to_string();
        self.read(move |c| {
            let mut stmt = c.prepare_cached("SELECT recv_opt FROM user_conv WHERE user_id = ?1 AND conv_id = ?2")?;
            let mut out = Vec::with_capacity(users.len());
            for user in &users {
                out.push(stmt.query_row(params![user, conv], |r| r.get(0)).optional()?.unwrap_or(0));
            }
            Ok(out)
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    fn yes() -> StillCurrent {
        Box::new(|| true)
    }

    fn config(token: &str) -> PushConfig {
        PushConfig { business_id: 6768, token: token.into(), is_tpns_token: false }
    }

    #[tokio::test]
    async fn a_registration_keeps_its_app_state_survives_a_restart_and_ends_when_removed() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        store.set_push_config("alice", "android", config("t1"), yes()).await.unwrap();
        store.set_push_background("alice", "android", Some(3), yes()).await.unwrap();
        // A new token (the app registered again) keeps the app state.
        store.set_push_config("alice", "android", config("t2"), yes()).await.unwrap();
        // A device that said it is in the background before registering is known, unregistered.
        store.set_push_background("alice", "ios", Some(1), yes()).await.unwrap();
        store.close().await;

        let store = SqliteStore::open(dir.path()).unwrap();
        let devices = store.push_devices(vec!["alice".into(), "bob".into()]).await.unwrap();
        let android = PushDevice {
            user: "alice".into(),
            platform: "android".into(),
            config: Some(config("t2")),
            background_badge: Some(3),
        };
        let ios = PushDevice { user: "alice".into(), platform: "ios".into(), config: None, background_badge: Some(1) };
        assert_eq!(devices, vec![android.clone(), ios]);

        // The badge counts on from the doBackground badge; telling the app state again restarts it.
        let badge = |c: Option<BadgeCount>| c.map(|c| c.badge);
        assert_eq!(badge(store.count_push("alice", "android").await.unwrap()), Some(4));
        let fifth = store.count_push("alice", "android").await.unwrap().unwrap();
        assert_eq!(fifth.badge, 5);
        assert_eq!(store.count_push("bob", "android").await.unwrap(), None);
        // A push that failed for good gives its step back: the next one shows 5 again.
        store.uncount_push("alice", "android", fifth.epoch).await.unwrap();
        let again = store.count_push("alice", "android").await.unwrap().unwrap();
        assert_eq!(again.badge, 5);
        store.set_push_background("alice", "android", Some(1), yes()).await.unwrap();
        // A step taken before the app state was told again is not given back to the new count.
        store.uncount_push("alice", "android", again.epoch).await.unwrap();
        assert_eq!(badge(store.count_push("alice", "android").await.unwrap()), Some(2));
        // A rejected token is forgotten only while it is still the registered one.
        store.remove_push_token("alice", "android", "t1").await.unwrap();
        assert!(store.push_devices(vec!["alice".into()]).await.unwrap()[0].config.is_some());
        store.set_push_background("alice", "android", None, yes()).await.unwrap();
        store.remove_push_device("alice", "ios", yes()).await.unwrap();
        let devices = store.push_devices(vec!["alice".into()]).await.unwrap();
        assert_eq!(devices, vec![PushDevice { background_badge: None, ..android }]);
        store.close().await;
    }

    #[tokio::test]
    async fn the_receive_options_of_a_pushs_recipients_come_in_one_read_in_their_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        crate::store::sqlite::testing::send(&store, "m1", "alice", "bob").await;
        crate::store::sqlite::testing::send(&store, "m2", "alice", "carol").await;
        crate::store::ConversationStore::set_c2c_recv_opt(&store, "carol", vec!["alice".into()], 2).await.unwrap();
        let users = vec!["carol".to_string(), "bob".into(), "dave".into(), "carol".into()];
        let opts = store.recv_opts_in(users, ConvId::C2C("alice".into())).await.unwrap();
        assert_eq!(opts, [2, 0, 0, 2], "dave has no conversation with alice: receive");
        let other = store.recv_opts_in(vec!["carol".into()], ConvId::C2C("bob".into())).await.unwrap();
        assert_eq!(other, [0], "the option is per conversation");
        store.close().await;
    }

    #[tokio::test]
    async fn a_device_write_whose_login_is_no_longer_current_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path()).unwrap();
        store.set_push_config("alice", "android", config("new"), yes()).await.unwrap();
        let no = || -> StillCurrent { Box::new(|| false) };
        assert!(!store.set_push_config("alice", "android", config("old"), no()).await.unwrap());
        assert!(!store.set_push_background("alice", "android", Some(9), no()).await.unwrap());
        assert!(!store.remove_push_device("alice", "android", no()).await.unwrap());
        let device = PushDevice {
            user: "alice".into(),
            platform: "android".into(),
            config: Some(config("new")),
            background_badge: None,
        };
        assert_eq!(store.push_devices(vec!["alice".into()]).await.unwrap(), vec![device]);
        store.close().await;
    }
}
