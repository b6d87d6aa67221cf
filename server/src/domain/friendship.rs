//! Relationship rules: what `addFriend`, accepting and refusing applications, deleting friends,
//! the blacklist and `checkFriend` do between two users, and what a C2C message between them may
//! do, as pure decisions (seed004-B sections 2.3, 7.3 and 7.5). A store loads the [`Pair`] of
//! (caller, peer), asks one of these functions and applies the [`Decision`]: the pair after it,
//! and who hears which `V2TIMFriendshipListener` callback.

use oxim_proto::code as codes;
use oxim_proto::friendship::{AddFriendReq, SetFriendInfoReq, accept_type, friend_type, relation};
use oxim_proto::profile::allow_type;

/// The server's friendship settings (`[friendship]` in the TOML file): the two options V2TIM
/// keeps in its console, and the list limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct FriendshipSettings {
    /// The send options.
    #[serde(flatten)]
    pub send: SendOptions,
    /// Most friends a user may have (Tencent: 3000; 30010 / 30014).
    pub max_friends: u32,
    /// Most users a blacklist may hold (Tencent: 1000; 30013).
    pub max_blacklist: u32,
}

impl Default for FriendshipSettings {
    fn default() -> Self {
        FriendshipSettings { send: SendOptions::default(), max_friends: 3000, max_blacklist: 1000 }
    }
}

/// The server options V2TIM keeps in its console (both off by default, as there).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct SendOptions {
    /// "Check relationship when sending C2C messages": only friends (both ways) may send (20009).
    pub only_friends: bool,
    /// Tell a blocked sender (20007); otherwise the send looks successful and nothing arrives.
    pub tell_blocked: bool,
}

/// A relationship write by one user, as the store runs it (one writer job each).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FriendOp {
    /// `addFriend`.
    Add(AddFriendReq),
    /// `deleteFromFriendList`.
    Delete {
        /// The friends.
        user_ids: Vec<String>,
        /// [`friend_type`].
        delete_type: i32,
    },
    /// `setFriendInfo`.
    SetInfo(SetFriendInfoReq),
    /// `acceptFriendApplication`.
    Accept {
        /// The applicant.
        user_id: String,
        /// [`accept_type`].
        kind: i32,
    },
    /// `refuseFriendApplication`.
    Refuse {
        /// The applicant.
        user_id: String,
    },
    /// `deleteFriendApplication`.
    DeleteApplication {
        /// The other user.
        user_id: String,
        /// COME_IN or SEND_OUT.
        app_type: i32,
    },
    /// `setFriendApplicationRead`.
    ReadApplications,
    /// `addToBlackList`.
    Block(Vec<String>),
    /// `deleteFromBlackList`.
    Unblock(Vec<String>),
    /// `createFriendGroup`.
    CreateGroup {
        /// Its name.
        name: String,
        /// Friends to put in it.
        user_ids: Vec<String>,
    },
    /// `deleteFriendGroup`.
    DeleteGroups(Vec<String>),
    /// `renameFriendGroup`.
    RenameGroup {
        /// The group.
        old_name: String,
        /// The new name.
        new_name: String,
    },
    /// `addFriendsToFriendGroup`.
    AddToGroup {
        /// The group.
        name: String,
        /// The friends.
        user_ids: Vec<String>,
    },
    /// `deleteFriendsFromFriendGroup`.
    RemoveFromGroup {
        /// The group.
        name: String,
        /// The friends.
        user_ids: Vec<String>,
    },
}

/// What is stored between the caller (`me`) and one peer, seen from the caller.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pair {
    /// The peer has logged in at least once.
    pub peer_exists: bool,
    /// The peer's `allowType`.
    pub peer_allow_type: i32,
    /// The peer is in my friend list.
    pub mine_has_peer: bool,
    /// I am in the peer's friend list.
    pub peers_has_me: bool,
    /// I blocked the peer.
    pub i_block: bool,
    /// The peer blocked me.
    pub peer_blocks: bool,
    /// My application to the peer awaits the peer (its add type), if any.
    pub my_application: Option<i32>,
    /// The peer's application to me awaits me (its add type), if any.
    pub peers_application: Option<i32>,
    /// How many friends I have.
    pub my_friends: u32,
    /// How many friends the peer has.
    pub peer_friends: u32,
    /// How many users I block.
    pub my_blocked: u32,
}

/// Who is told what (callbacks of `V2TIMFriendshipListener`), for the store to append as user
/// events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Told {
    /// `onFriendListAdded` to `me` (true) or to the peer (false), about the other.
    FriendAdded { to_me: bool },
    /// `onFriendListDeleted`.
    FriendDeleted { to_me: bool },
    /// `onFriendApplicationListAdded` (my application to the peer: COME_IN for the peer,
    /// SEND_OUT for me).
    ApplicationAdded { to_me: bool },
    /// `onFriendApplicationListDeleted`.
    ApplicationDeleted { to_me: bool },
    /// `onBlackListAdd` (to me).
    BlackAdded,
    /// `onBlackListDeleted` (to me).
    BlackDeleted,
}

/// What to change and tell.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Decision {
    /// The pair after the operation.
    pub after: Pair,
    /// The result code for this peer inside a successful call (0, or 30539 for a pending add).
    pub result_code: i32,
    /// Callbacks, in order.
    pub told: Vec<Told>,
}

/// A refused operation for one peer: its V2TIM result code.
pub type Refused = i32;

fn blocked(p: &Pair) -> Result<(), Refused> {
    if p.i_block {
        return Err(codes::SVR_FRIENDSHIP_IN_SELF_BLACKLIST);
    }
    if p.peer_blocks {
        return Err(codes::SVR_FRIENDSHIP_IN_PEER_BLACKLIST);
    }
    Ok(())
}

/// Puts the peer in my list and, with `both`, me in the peer's, within the limits.
fn becomes_friends(mut d: Decision, both: bool, max: u32) -> Result<Decision, Refused> {
    if !d.after.mine_has_peer && d.after.my_friends >= max {
        return Err(codes::SVR_FRIENDSHIP_COUNT_LIMIT);
    }
    if both && !d.after.peers_has_me && d.after.peer_friends >= max {
        return Err(codes::SVR_FRIENDSHIP_PEER_FRIEND_LIMIT);
    }
    if !d.after.mine_has_peer {
        d.after.mine_has_peer = true;
        d.after.my_friends += 1;
        d.told.push(Told::FriendAdded { to_me: true });
    }
    if both && !d.after.peers_has_me {
        d.after.peers_has_me = true;
        d.after.peer_friends += 1;
        d.told.push(Told::FriendAdded { to_me: false });
    }
    Ok(d)
}

/// `addFriend(me -> peer, add_type)`: blacklists first (neither side may request), then the
/// peer's allow type: ALLOW_ANY adds at once, NEED_CONFIRM records an application both sides
/// hear of (result 30539), DENY_ANY refuses (30516).
pub fn add(me_is_peer: bool, p: Pair, add_type: i32, limits: &FriendshipSettings) -> Result<Decision, Refused> {
    if me_is_peer || !(friend_type::SINGLE..=friend_type::BOTH).contains(&add_type) {
        return Err(codes::SVR_FRIENDSHIP_INVALID_PARAMETERS);
    }
    if !p.peer_exists {
        return Err(codes::SVR_FRIENDSHIP_ACCOUNT_NOT_FOUND);
    }
    blocked(&p)?;
    let done = p.mine_has_peer && (add_type == friend_type::SINGLE || p.peers_has_me);
    if done {
        return Err(codes::SVR_FRIENDSHIP_INVALID_PARAMETERS);
    }
    let d = Decision { after: p, ..Default::default() };
    match p.peer_allow_type {
        allow_type::ALLOW_ANY => becomes_friends(d, add_type == friend_type::BOTH, limits.max_friends),
        allow_type::DENY_ANY => Err(codes::SVR_FRIENDSHIP_ALLOW_TYPE_DENY_ANY),
        _ => {
            let mut d = d;
            d.after.my_application = Some(add_type);
            d.result_code = codes::SVR_FRIENDSHIP_ALLOW_TYPE_NEED_CONFIRM;
            d.told = vec![Told::ApplicationAdded { to_me: true }, Told::ApplicationAdded { to_me: false }];
            Ok(d)
        }
    }
}

/// `acceptFriendApplication` by me of the peer's application: AGREE puts me in the peer's list
/// (the peer hears onFriendListAdded, I hear onFriendApplicationListDeleted); AGREE_AND_ADD
/// makes both friends (both hear onFriendListAdded).
pub fn accept(p: Pair, kind: i32, limits: &FriendshipSettings) -> Result<Decision, Refused> {
    if p.peers_application.is_none() {
        return Err(codes::SVR_FRIENDSHIP_PENDENCY_NOT_FOUND);
    }
    if kind != accept_type::AGREE && kind != accept_type::AGREE_AND_ADD {
        return Err(codes::SVR_FRIENDSHIP_INVALID_PARAMETERS);
    }
    if !p.peers_has_me && p.peer_friends >= limits.max_friends {
        return Err(codes::SVR_FRIENDSHIP_PEER_FRIEND_LIMIT);
    }
    if kind == accept_type::AGREE_AND_ADD && !p.mine_has_peer && p.my_friends >= limits.max_friends {
        return Err(codes::SVR_FRIENDSHIP_COUNT_LIMIT);
    }
    let mut d = Decision { after: p, ..Default::default() };
    d.after.peers_application = None;
    d.told.push(Told::ApplicationDeleted { to_me: true });
    if !d.after.peers_has_me {
        d.after.peers_has_me = true;
        d.after.peer_friends += 1;
        d.told.push(Told::FriendAdded { to_me: false });
    }
    if kind == accept_type::AGREE_AND_ADD && !d.after.mine_has_peer {
        d.after.mine_has_peer = true;
        d.after.my_friends += 1;
        d.told.push(Told::FriendAdded { to_me: true });
    }
    Ok(d)
}

/// `refuseFriendApplication` by me of the peer's application: both hear
/// onFriendApplicationListDeleted.
pub fn refuse(p: Pair) -> Result<Decision, Refused> {
    if p.peers_application.is_none() {
        return Err(codes::SVR_FRIENDSHIP_PENDENCY_NOT_FOUND);
    }
    let mut d = Decision { after: p, ..Default::default() };
    d.after.peers_application = None;
    d.told = vec![Told::ApplicationDeleted { to_me: true }, Told::ApplicationDeleted { to_me: false }];
    Ok(d)
}

/// `deleteFromFriendList(peer, delete_type)`: SINGLE removes the peer from my list; BOTH from
/// both lists; each side whose list changed hears onFriendListDeleted.
pub fn delete(p: Pair, delete_type: i32) -> Result<Decision, Refused> {
    if !(p.mine_has_peer || (delete_type == friend_type::BOTH && p.peers_has_me)) {
        return Err(codes::SVR_FRIENDSHIP_DEL_NONFRIEND);
    }
    let mut d = Decision { after: p, ..Default::default() };
    if d.after.mine_has_peer {
        d.after.mine_has_peer = false;
        d.told.push(Told::FriendDeleted { to_me: true });
    }
    if delete_type == friend_type::BOTH && d.after.peers_has_me {
        d.after.peers_has_me = false;
        d.told.push(Told::FriendDeleted { to_me: false });
    }
    Ok(d)
}

/// `addToBlackList(peer)`: blocking ends the friendship both ways and drops pending
/// applications between the two (seed004-B 7.5).
pub fn block(p: Pair, limits: &FriendshipSettings) -> Result<Decision, Refused> {
    if !p.i_block && p.my_blocked >= limits.max_blacklist {
        return Err(codes::SVR_FRIENDSHIP_BLACKLIST_LIMIT);
    }
    let mut d = Decision { after: p, ..Default::default() };
    if !p.i_block {
        d.after.i_block = true;
        d.told.push(Told::BlackAdded);
    }
    if d.after.mine_has_peer {
        d.after.mine_has_peer = false;
        d.told.push(Told::FriendDeleted { to_me: true });
    }
    if d.after.peers_has_me {
        d.after.peers_has_me = false;
        d.told.push(Told::FriendDeleted { to_me: false });
    }
    let mine = d.after.my_application.take().is_some();
    let theirs = d.after.peers_application.take().is_some();
    if mine || theirs {
        d.told.push(Told::ApplicationDeleted { to_me: true });
        d.told.push(Told::ApplicationDeleted { to_me: false });
    }
    Ok(d)
}

/// `deleteFromBlackList(peer)`.
pub fn unblock(p: Pair) -> Decision {
    let mut d = Decision { after: p, ..Default::default() };
    if p.i_block {
        d.after.i_block = false;
        d.told.push(Told::BlackDeleted);
    }
    d
}

/// `checkFriend` with CHECK_TYPE_SINGLE (1: only my list) or BOTH (2: the four relations).
pub fn check(p: &Pair, check_type: i32) -> i32 {
    match (p.mine_has_peer, p.peers_has_me && check_type == friend_type::BOTH) {
        (true, true) => relation::BOTH_WAY,
        (true, false) => relation::IN_MY_FRIEND_LIST,
        (false, true) => relation::IN_OTHER_FRIEND_LIST,
        (false, false) => relation::NONE,
    }
}

/// What happens to a C2C message from me to the peer under the server's two options.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SendVerdict {
    /// Deliver it.
    Deliver,
    /// Answer as if sent, deliver nothing (the peer blocked me; the server does not tell).
    Drop,
    /// Refuse with this code.
    Refuse(i32),
}

/// The send rule: a blocked sender cannot reach the blocker (silently, or 20007 when
/// `tell_blocked`); with `only_friends`, two users who are not friends both ways get 20009.
pub fn c2c_send(p: &Pair, options: SendOptions) -> SendVerdict {
    if p.peer_blocks {
        return if options.tell_blocked {
            SendVerdict::Refuse(codes::SVR_MSG_IN_PEER_BLACKLIST)
        } else {
            SendVerdict::Drop
        };
    }
    if options.only_friends && !(p.mine_has_peer && p.peers_has_me) {
        return SendVerdict::Refuse(codes::SVR_MSG_BOTH_NOT_FRIEND);
    }
    SendVerdict::Deliver
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: FriendshipSettings = FriendshipSettings {
        send: SendOptions { only_friends: false, tell_blocked: false },
        max_friends: 2,
        max_blacklist: 1,
    };

    #[test]
    fn list_limits() {
        let full = Pair { my_friends: 2, ..peer(allow_type::ALLOW_ANY) };
        assert_eq!(add(false, full, friend_type::SINGLE, &L).unwrap_err(), codes::SVR_FRIENDSHIP_COUNT_LIMIT);
        let peer_full = Pair { peer_friends: 2, my_friends: 1, ..peer(allow_type::ALLOW_ANY) };
        assert_eq!(add(false, peer_full, friend_type::SINGLE, &L).unwrap().after.my_friends, 2);
        assert_eq!(add(false, peer_full, friend_type::BOTH, &L).unwrap_err(), codes::SVR_FRIENDSHIP_PEER_FRIEND_LIMIT);
        let app = Pair { peers_application: Some(1), peer_friends: 2, ..peer(0) };
        assert_eq!(accept(app, accept_type::AGREE, &L).unwrap_err(), codes::SVR_FRIENDSHIP_PEER_FRIEND_LIMIT);
        let blocks_one = Pair { my_blocked: 1, ..peer(0) };
        assert_eq!(block(blocks_one, &L).unwrap_err(), codes::SVR_FRIENDSHIP_BLACKLIST_LIMIT);
    }

    fn peer(allow: i32) -> Pair {
        Pair { peer_exists: true, peer_allow_type: allow, ..Default::default() }
    }

    #[test]
    fn flow_1_without_confirmation() {
        let both = add(false, peer(allow_type::ALLOW_ANY), friend_type::BOTH, &L).unwrap();
        assert_eq!(both.result_code, 0);
        assert_eq!(both.told, vec![Told::FriendAdded { to_me: true }, Told::FriendAdded { to_me: false }]);
        let single = add(false, peer(allow_type::ALLOW_ANY), friend_type::SINGLE, &L).unwrap();
        assert_eq!(single.told, vec![Told::FriendAdded { to_me: true }]);
        assert_eq!(check(&single.after, friend_type::BOTH), relation::IN_MY_FRIEND_LIST);
        assert_eq!(
            add(false, single.after, friend_type::SINGLE, &L).unwrap_err(),
            codes::SVR_FRIENDSHIP_INVALID_PARAMETERS
        );
    }

    #[test]
    fn flow_2_with_confirmation() {
        let pending = add(false, peer(allow_type::NEED_CONFIRM), friend_type::BOTH, &L).unwrap();
        assert_eq!(pending.result_code, codes::SVR_FRIENDSHIP_ALLOW_TYPE_NEED_CONFIRM);
        assert_eq!(pending.told.len(), 2);
        // Seen from the peer, who accepts.
        let from_b = Pair { peer_exists: true, peers_application: pending.after.my_application, ..Default::default() };
        let agree = accept(from_b, accept_type::AGREE, &L).unwrap();
        assert_eq!(agree.told, vec![Told::ApplicationDeleted { to_me: true }, Told::FriendAdded { to_me: false }]);
        assert_eq!(check(&agree.after, friend_type::BOTH), relation::IN_OTHER_FRIEND_LIST);
        let both = accept(from_b, accept_type::AGREE_AND_ADD, &L).unwrap();
        assert_eq!(check(&both.after, friend_type::BOTH), relation::BOTH_WAY);
        let no = refuse(from_b).unwrap();
        assert_eq!(no.told, vec![Told::ApplicationDeleted { to_me: true }, Told::ApplicationDeleted { to_me: false }]);
        assert_eq!(accept(no.after, accept_type::AGREE, &L).unwrap_err(), codes::SVR_FRIENDSHIP_PENDENCY_NOT_FOUND);
        assert_eq!(
            add(false, peer(allow_type::DENY_ANY), 1, &L).unwrap_err(),
            codes::SVR_FRIENDSHIP_ALLOW_TYPE_DENY_ANY
        );
    }

    #[test]
    fn the_blacklist_ends_friendship_and_blocks_requests_and_messages() {
        let friends = Pair { mine_has_peer: true, peers_has_me: true, ..peer(allow_type::ALLOW_ANY) };
        let blocked = block(friends, &L).unwrap();
        assert_eq!(check(&blocked.after, friend_type::BOTH), relation::NONE);
        assert_eq!(add(false, blocked.after, 1, &L).unwrap_err(), codes::SVR_FRIENDSHIP_IN_SELF_BLACKLIST);
        let tell = SendOptions { only_friends: false, tell_blocked: true };
        let seen_from_peer = Pair { peer_blocks: true, ..peer(allow_type::ALLOW_ANY) };
        assert_eq!(add(false, seen_from_peer, 1, &L).unwrap_err(), codes::SVR_FRIENDSHIP_IN_PEER_BLACKLIST);
        assert_eq!(c2c_send(&seen_from_peer, SendOptions::default()), SendVerdict::Drop);
        assert_eq!(c2c_send(&seen_from_peer, tell), SendVerdict::Refuse(codes::SVR_MSG_IN_PEER_BLACKLIST));
        assert_eq!(c2c_send(&blocked.after, tell), SendVerdict::Deliver, "the blocker still reaches");
        assert_eq!(
            c2c_send(&blocked.after, SendOptions { only_friends: true, tell_blocked: true }),
            SendVerdict::Refuse(codes::SVR_MSG_BOTH_NOT_FRIEND)
        );
        assert_eq!(delete(peer(0), friend_type::SINGLE).unwrap_err(), codes::SVR_FRIENDSHIP_DEL_NONFRIEND);
    }
}
