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
//!
//! A login holds the device only once it succeeds ([`Begun::commit`]): one that fails after it
//! began (a refusal, or its connection gone before it ended) gives the device back to the login
//! it superseded, if that one's session still lives, and its own writes still queued are
//! refused. The old session was never kicked, so it stays the device's.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

type Key = (String, String);
type Map = Mutex<HashMap<Key, Weak<DeviceLogin>>>;

/// The current login of each device.
#[derive(Default)]
pub struct DeviceLogins {
    current: Arc<Map>,
    /// Logins begun since the start.
    begun: AtomicU64,
}

/// A login that began ([`DeviceLogins::begin`]): it holds the device once committed; dropped
/// before that (the login failed), it gives the device back to the login it superseded.
pub struct Begun {
    /// The new login.
    pub login: Arc<DeviceLogin>,
    /// Whether the login it superseded had a device write in flight: the device is then
    /// forgotten through the store's writer, after that write, rather than after a read.
    pub old_writing: bool,
    committed: bool,
}

/// One login of a user on a platform, held by its session (and the requests it made) while
/// they live.
pub struct DeviceLogin {
    key: Key,
    registry: Weak<Map>,
    /// Where the device goes back to if this login fails: the logins before it, newest first,
    /// up to the first one that had succeeded. Emptied when this login succeeds.
    previous: Mutex<Vec<Before>>,
    state: Mutex<State>,
}

/// A login before another, as that one remembers it.
#[derive(Clone)]
enum Before {
    /// A login still running when the other began: kept, to learn whether it failed.
    Running(Arc<DeviceLogin>),
    /// A login that had succeeded: held by its session while that lives (gone: the device goes
    /// back to nobody).
    Succeeded(Weak<DeviceLogin>),
}

#[derive(Debug, Default)]
struct State {
    superseded: bool,
    /// The login succeeded ([`Begun::commit`]).
    succeeded: bool,
    /// The login failed after it began: it never held the device.
    failed: bool,
    /// Device writes taken ([`DeviceLogin::write`]) and not finished.
    writing: u32,
}

/// A device write of a login in flight: counted until dropped (after its commit).
pub struct DeviceWrite(Arc<DeviceLogin>);

impl DeviceLogins {
    /// A new login of `user` on `platform`: the login before it there, if any, is superseded
    /// (until this one fails, see [`Begun`]).
    pub fn begin(&self, user: &str, platform: &str) -> Begun {
        self.begun.fetch_add(1, Ordering::Relaxed);
        let key = (user.to_owned(), platform.to_owned());
        let mut current = self.current.lock().expect("device logins");
        // The login before, kept until the lock is let go (its drop may take the lock).
        let old = current.get(&key).and_then(Weak::upgrade);
        let previous = match &old {
            None => Vec::new(),
            Some(old) if old.state.lock().expect("device login").succeeded => {
                vec![Before::Succeeded(Arc::downgrade(old))]
            }
            Some(old) => {
                let mut before = vec![Before::Running(old.clone())];
                before.extend(old.previous.lock().expect("device login").iter().cloned());
                before
            }
        };
        let login = Arc::new(DeviceLogin {
            key: key.clone(),
            registry: Arc::downgrade(&self.current),
            previous: Mutex::new(previous),
            state: Mutex::new(State::default()),
        });
        current.insert(key, Arc::downgrade(&login));
        let old_writing = old.as_ref().is_some_and(|old| {
            let mut state = old.state.lock().expect("device login");
            state.superseded = true;
            state.writing > 0
        });
        drop(current);
        // `old` is dropped here, outside the lock: its drop may take the lock.
        drop(old);
        Begun { login, old_writing, committed: false }
    }

    /// Logins begun since the start (for tests that act while a login runs).
    pub fn begun(&self) -> u64 {
        self.begun.load(Ordering::Relaxed)
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

impl Begun {
    /// The login succeeded: it holds the device from now on.
    pub fn commit(mut self) -> Arc<DeviceLogin> {
        self.committed = true;
        self.login.state.lock().expect("device login").succeeded = true;
        // Dropped outside the lock (a login's drop may take the registry's).
        let before = std::mem::take(&mut *self.login.previous.lock().expect("device login"));
        drop(before);
        self.login.clone()
    }
}

impl Drop for Begun {
    /// A login dropped before [`Begun::commit`] failed: its writes still queued are refused,
    /// and the device goes back to the latest login before it that did not fail and whose
    /// session still lives (none: no login holds it), unless a newer login took it meanwhile.
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        let Some(registry) = self.login.registry.upgrade() else { return };
        let mut current = registry.lock().expect("device logins");
        {
            let mut state = self.login.state.lock().expect("device login");
            state.superseded = true;
            state.failed = true;
        }
        let key = &self.login.key;
        if !current.get(key).is_some_and(|w| std::ptr::eq(w.as_ptr(), Arc::as_ptr(&self.login))) {
            return;
        }
        // Every login looked at is kept until the lock is let go: its drop may take the lock.
        let mut kept = Vec::new();
        let mut restored = false;
        let before = self.login.previous.lock().expect("device login").clone();
        for link in &before {
            let login = match link {
                Before::Running(login) => login.clone(),
                Before::Succeeded(weak) => match weak.upgrade() {
                    Some(login) => login,
                    // Its session ended: nobody to give the device back to.
                    None => break,
                },
            };
            let mut state = login.state.lock().expect("device login");
            if !state.failed {
                // It succeeded (the one before every login that failed), or still runs.
                state.superseded = false;
                drop(state);
                current.insert(key.clone(), Arc::downgrade(&login));
                restored = true;
                kept.push(login);
                break;
            }
            drop(state);
            kept.push(login);
        }
        if !restored {
            current.remove(key);
        }
        drop(current);
        drop(kept);
        drop(before);
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
        let phone = logins.begin("alice", "android").commit();
        let pad = logins.begin("alice", "ipad").commit();
        let bobs = logins.begin("bob", "android").commit();
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
        let old = logins.begin("alice", "android").commit();
        let write = old.write().unwrap();
        let newer = logins.begin("alice", "android");
        assert!(newer.old_writing);
        let newer = newer.commit();
        drop(write);
        let newest = logins.begin("alice", "android");
        assert!(!newest.old_writing, "the newer login had no write in flight");
        assert!(!newer.is_current());
    }

    #[test]
    fn a_login_that_fails_gives_the_device_back_to_the_login_before_it() {
        let logins = DeviceLogins::default();
        let old = logins.begin("alice", "android").commit();
        let failed = logins.begin("alice", "android");
        assert!(!old.is_current(), "superseded while the new login runs");
        let failed_login = failed.login.clone();
        drop(failed);
        assert!(old.is_current() && old.write().is_some(), "the old login holds the device again");
        assert!(!failed_login.is_current() && failed_login.write().is_none(), "the failed login's writes are refused");
        // Two failed logins in a row, the later failing last: back to the one that succeeded.
        let second = logins.begin("alice", "android");
        let third = logins.begin("alice", "android");
        drop(second);
        assert!(!old.is_current(), "the third login still runs");
        drop(third);
        assert!(old.is_current());
        // A newer login that succeeds is not undone by an older one failing after it.
        let slow = logins.begin("alice", "android");
        let newer = logins.begin("alice", "android").commit();
        drop(slow);
        assert!(newer.is_current() && !old.is_current());
        // A login that succeeded after a failing one began (and kicked the session before) is
        // where the device goes back to, never that kicked session, even while it lingers.
        let kicked = newer;
        let failing = logins.begin("alice", "android");
        let winner = logins.begin("alice", "android");
        let last = logins.begin("alice", "android");
        let winner = winner.commit();
        drop(failing);
        drop(winner);
        drop(last);
        assert!(!kicked.is_current(), "the kicked login stays superseded");
        assert_eq!(logins.len(), 0, "the winner's session ended: nobody holds alice's device");
        let newer = logins.begin("alice", "android").commit();
        // The old session gone, a failed login leaves no login holding the device.
        drop(old);
        let lone = logins.begin("bob", "ipad").commit();
        let failed = logins.begin("bob", "ipad");
        drop(lone);
        drop(failed);
        assert_eq!(logins.len(), 1, "only alice's device has a login: {:?}", newer);
        assert_eq!(logins.begun(), 12);
    }

    #[test]
    fn a_device_is_forgotten_with_its_last_login() {
        let logins = DeviceLogins::default();
        let first = logins.begin("alice", "android").commit();
        let second = logins.begin("alice", "android").commit();
        drop(first);
        assert_eq!(logins.len(), 1, "the superseded login's drop leaves the newer one");
        drop(second);
        assert!(logins.is_empty());
    }
}
