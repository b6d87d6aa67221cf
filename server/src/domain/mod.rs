//! The server's rules, pure: no I/O, no tasks, no storage engine, no connection. Everything
//! above (the store, the request handlers, the gateway) builds on these; nothing here imports
//! from them.
//!
//! - [`refusal`]: a refused request (a V2TIM code and a description).
//! - [`clock`]: the time, behind a trait so tests can set it.
//! - [`keys`]: storage keys of message streams, and where a message goes ([`keys::Target`]).
//! - [`group_rules`]: the group-type table (who may do what in which type of group).
//! - [`groups`]: a group's stored state, the group operations and the pure `decide` that
//!   turns an operation and the state a store loaded into the changes to make.
//! - [`signaling`]: the invitation state machine.
//! - [`rooms`]: AVChatRoom online membership and message rate.
//! - [`rate`]: a per-key sliding-window rate limit, a lock-free token bucket, and the holds
//!   that keep a connection's messages in order when the bucket refuses one.
//! - [`profiles`]: what a profile change may set, and the profile after it.
//! - [`device_logins`]: which login holds each device (a user on a platform), so a superseded
//!   login's late offline push writes are refused.
//! - [`offline_push`]: which messages are pushed to which devices, with which text and badge.
//! - [`friendship`]: the relationship rules between two users (adding, applications, deleting,
//!   the blacklist, checking) and what a C2C message between them may do.

pub mod clock;
pub mod device_logins;
pub mod friendship;
pub mod group_rules;
pub mod groups;
pub mod keys;
pub mod offline_push;
pub mod profiles;
pub mod rate;
pub mod refusal;
pub mod rooms;
pub mod signaling;
