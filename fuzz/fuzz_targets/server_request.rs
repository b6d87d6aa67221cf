//! What the server decodes from a client's WebSocket text frame: the envelope, then the body as
//! the request type of every operation, and the checks a message passes before anything is
//! stored (the gateway's dispatch and the handlers' first steps). Nothing may panic, hang or
//! allocate without bound, whatever the bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oxim_proto::InFrame;
use oxim_proto::check::check_message;
use oxim_proto::friendship::*;
use oxim_proto::group::*;
use oxim_proto::ids::ConvId;
use oxim_proto::offline_push::{BackgroundReq, PushConfig, check_config};
use oxim_proto::payload::*;
use oxim_proto::profile::{GetProfilesReq, ProfileChange, check_change};
use oxim_proto::signaling::{InviteReq, SignalGetReq, SignalReq};

/// Decodes the body as each type; runs `then` on the ones that decode.
macro_rules! decode_as {
    ($frame:expr, $($ty:ty),+ $(,)?) => {
        $( let _ = $frame.body::<$ty>(); )+
    };
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(frame) = InFrame::parse(text) else {
        // The gateway still looks for a request id to answer.
        let _ = serde_json::from_str::<serde_json::Value>(text);
        return;
    };
    let _ = ConvId::parse(&frame.op);
    decode_as!(
        frame,
        LoginReq,
        RevokeReq,
        ReadReq,
        DeleteReq,
        ClearReq,
        HistoryReq,
        SyncReq,
        PullReq,
        UnreadReq,
        ConvReq,
        PinReq,
        C2CRecvOptReq,
        C2CRecvOptGetReq,
        InviteReq,
        SignalReq,
        SignalGetReq,
        CreateGroupReq,
        GroupReq,
        JoinGroupReq,
        GroupsInfoReq,
        SetGroupInfoReq,
        MembersReq,
        GroupUsersReq,
        SetMemberReq,
        MuteReq,
        RoleReq,
        HandleApplicationReq,
        RecvOptReq,
        GetAttrsReq,
        WriteAttrsReq,
        GetProfilesReq,
        UsersReq,
        SetFriendInfoReq,
        DeleteFriendsReq,
        CheckFriendsReq,
        ApplicationReq,
        FriendGroupReq,
        FriendGroupsReq,
        RenameFriendGroupReq,
        BackgroundReq,
        serde_json::Value,
    );
    if let Ok(req) = frame.body::<SendMsgReq>() {
        let _ = check_message(&req.msg);
        let elem = req.msg.elem.without_local_paths();
        let _ = (elem.has_files(), elem.file_uuids());
    }
    if let Ok(req) = frame.body::<AddFriendReq>() {
        let _ = check_add(&req);
    }
    if let Ok(change) = frame.body::<ProfileChange>() {
        let _ = check_change(&change);
    }
    if let Ok(config) = frame.body::<PushConfig>() {
        let _ = check_config(&config);
    }
});
