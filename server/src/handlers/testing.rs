//! A test bench for handlers: real SQLite store in a temporary directory, a manual clock, and a
//! presence list the test sets.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use super::{Ctx, Effect, Effects, Presence, Push, PushBody, Services};
use crate::config::ServerConfig;
use crate::domain::clock::ManualClock;
use crate::store::sqlite::{Options, SqliteStore};

/// Users the test says are online.
#[derive(Default)]
pub struct Online(Mutex<HashSet<String>>, Mutex<Vec<Push>>);

impl Presence for Online {
    fn is_online(&self, user: &str) -> bool {
        self.0.lock().unwrap().contains(user)
    }

    fn push_now(&self, push: &Push) {
        self.1.lock().unwrap().push(push.clone());
    }
}

impl Online {
    /// What was pushed with [`Presence::push_now`], as [`pushes`] shows effects; taken.
    pub fn pushed_now(&self) -> Vec<(&'static str, String, Vec<String>, bool)> {
        let taken: Effects = self.1.lock().unwrap().drain(..).map(Effect::Push).collect();
        pushes(&taken)
    }
}

/// Services over a fresh store.
pub struct Bench {
    pub services: Arc<Services>,
    pub clock: Arc<ManualClock>,
    pub online: Arc<Online>,
    /// The store the services use (to hold its writer).
    pub store: Arc<SqliteStore>,
    _dir: tempfile::TempDir,
}

impl Bench {
    /// A bench with the default configuration.
    pub async fn new() -> Bench {
        Bench::with_config(|_| {}).await
    }

    /// A bench whose configuration `tune` changed.
    pub async fn with_config(tune: impl FnOnce(&mut ServerConfig)) -> Bench {
        let dir = tempfile::tempdir().unwrap();
        let mut config = ServerConfig::for_tests(dir.path());
        tune(&mut config);
        let clock = Arc::new(ManualClock::new(1_700_000_000_000));
        let store = SqliteStore::open_with(
            dir.path(),
            Options {
                member_limits: config.member_limits,
                clock: clock.clone(),
                durability: config.durability,
                ..Default::default()
            },
        )
        .unwrap();
        let store = Arc::new(store);
        let online = Arc::new(Online::default());
        let services = Arc::new(Services::new(config, store.clone(), clock.clone(), online.clone()));
        Bench { services, clock, online, store, _dir: dir }
    }

    /// A context for one request.
    pub fn ctx(&self) -> Ctx {
        Ctx::new(self.services.clone())
    }

    /// Registers `users` (as their first login would).
    pub async fn users(&self, users: &[&str]) {
        for u in users {
            self.services.register_user(u).await.unwrap();
        }
    }

    /// Marks `user` online.
    pub fn online(&self, user: &str) {
        self.online.0.lock().unwrap().insert(user.to_owned());
    }
}

/// The pushes among `effects`: (event, message id or "" for attributes, recipients, to_caller).
pub fn pushes(effects: &Effects) -> Vec<(&'static str, String, Vec<String>, bool)> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Push(Push { event, body, to, to_caller }) => {
                let id = match body {
                    PushBody::Msg(m) => m.msg_id.clone(),
                    PushBody::Attrs(_) => String::new(),
                };
                Some((*event, id, to.clone(), *to_caller))
            }
            _ => None,
        })
        .collect()
}

/// Users as owned strings.
pub fn users(list: &[&str]) -> Vec<String> {
    list.iter().map(|u| (*u).to_owned()).collect()
}
