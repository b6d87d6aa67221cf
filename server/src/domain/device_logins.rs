//! Which login holds each device (a user on a platform). A new login of the same user and
//! platform supersedes the one before it; the offline push state the superseded login still
//! tries to write (a late `push.config`, app state, logout) is refused, so a kicked device can
//! neither overwrite what the new login registered nor stay registered itself. In memory: a
//! restart ends every login.
//!
//! A device write is checked on the store's writer, just before it runs ([`DeviceLogin::is_current`]),
//! and the new login forgets the device after superseding the old one. A write of the old login
//! that passed its check before that, but whose commit the new login's read may not see yet, is
//! still counted as in flight ([`DeviceWrite`]): the new login then forgets the device through
//! the writer, after that write ([`Begun::old_writing`]).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

type Key = (String, String);
type Map = Mutex<HashMap<Key, Weak<DeviceLogin>>>;

/// The current login of each device.
#[derive(Default)]
pub struct DeviceLogins {
    current: Arc<Map>,
}

/// A login that began ([`DeviceLogins::begin`]).
pub struct Begun {
    /// The new login.
    pub login: Arc<DeviceLogin>,
    /// Whether the login it superseded had a device write in flight: the device is then
    /// forgotten through the store's writer, after that write, rather than after a read.
    pub old_writing: bool,
}

/// One login of a user on a platform, held by its session (and the requests it made) while
/// they live.
pub struct DeviceLogin {
    key: Key,
    registry: Weak<Map>,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    superseded: bool,
    /// Device writes taken ([`DeviceLogin::write`]) and not finished.
    writing: u32,
}

/// A device write of a login in flight: counted until dropped (after its commit).
pub struct DeviceWrite(Arc<DeviceLogin>);

impl DeviceLogins {
    /// A new login of `user` on `platform`: the login before it there, if any, is superseded.
    pub fn begin(&self, user: &str, platform: &str) -> Begun {
        let key = (user.to_owned(), platform.to_owned());
        let login = Arc::new(DeviceLogin {
            key: key.clone(),
            registry: Arc::downgrade(&self.current),
            state: Mutex::new(State::default()),
        });
        let old = {
            let mut current = self.current.lock().expect("device logins");
            let old = current.insert(key, Arc::downgrade(&login)).and_then(|w| w.upgrade());
            let old_writing = old.as_ref().is_some_and(|old| {
                let mut state = old.state.lock().expect("device login");
                state.superseded = true;
                state.writing > 0
            });
            // `old` is dropped below, outside the lock: its drop may take the lock.
            (old, old_writing)
        };
        let (old, old_writing) = old;
        drop(old);
        Begun { login, old_writing }
    }

    /// How many devices have a login held (for tests: entries go with their last holder).
    pub fn len(&self) -> usize {
        self.current.lock().expect("device logins").len()
    }

    /// Whether no device has a login held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl DeviceLogin {
    /// Whether no newer login of the user on this platform began.
    pub fn is_current(&self) -> bool {
        !self.state.lock().expect("device login").superseded
    }

    /// Takes a device write, counted in flight until the returned guard drops; `None` once the
    /// login is superseded.
    pub fn write(self: &Arc<Self>) -> Option<DeviceWrite> {
        let mut state = self.state.lock().expect("device login");
        if state.superseded {
            return None;
        }
        state.writing += 1;
        Some(DeviceWrite(self.clone()))
    }
}

impl Drop for DeviceWrite {
    fn drop(&mut self) {
        self.0.state.lock().expect("device login").writing -= 1;
    }
}

impl Drop for DeviceLogin {
    fn drop(&mut self) {
        // The entry goes with the login it names (a newer login replaced it otherwise).
        if let Some(registry) = self.registry.upgrade() {
            let mut current = registry.lock().expect("device logins");
            if current.get(&self.key).is_some_and(|w| std::ptr::eq(w.as_ptr(), self)) {
                current.remove(&self.key);
            }
        }
    }
}

impl PartialEq for DeviceLogin {
    /// The same login (not merely the same device).
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}

impl Eq for DeviceLogin {}

impl std::fmt::Debug for DeviceLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.state.lock().expect("device login");
        f.debug_struct("DeviceLogin").field("device", &self.key).field("state", &*state).finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_login_supersedes_the_one_before_on_the_same_platform_only() {
        let logins = DeviceLogins::default();
        let phone = logins.begin("alice", "android").login;
        let pad = logins.begin("alice", "ipad").login;
        let bobs = logins.begin("bob", "android").login;
        assert!(phone.is_current() && pad.is_current() && bobs.is_current());
        let begun = logins.begin("alice", "android");
        assert!(!begun.old_writing, "no write of the old login was in flight");
        assert!(!phone.is_current() && phone.write().is_none(), "superseded: its writes are refused");
        assert!(begun.login.is_current() && pad.is_current() && bobs.is_current());
        assert_eq!(logins.len(), 3);
    }

    #[test]
    fn a_write_in_flight_is_told_to_the_login_that_supersedes_it() {
        let logins = DeviceLogins::default();
        let old = logins.begin("alice", "android").login;
        let write = old.write().unwrap();
        let newer = logins.begin("alice", "android");
        assert!(newer.old_writing);
        drop(write);
        let newest = logins.begin("alice", "android");
        assert!(!newest.old_writing, "the newer login had no write in flight");
        assert!(!newer.login.is_current());
    }

    #[test]
    fn a_device_is_forgotten_with_its_last_login() {
        let logins = DeviceLogins::default();
        let first = logins.begin("alice", "android").login;
        let second = logins.begin("alice", "android").login;
        drop(first);
        assert_eq!(logins.len(), 1, "the superseded login's drop leaves the newer one");
        drop(second);
        assert!(logins.is_empty());
    }
}
