//! What the SDK decodes from the server: the envelope of every frame, the body of every answer
//! and push, and a signaling payload carried in a message. A malicious or broken server (or a
//! man in the middle without TLS) must not make the SDK panic, hang or allocate without bound.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oxim_proto::InFrame;
use oxim_proto::friendship::*;
use oxim_proto::group::*;
use oxim_proto::payload::*;
use oxim_proto::profile::{Profile, ProfilesRes};
use oxim_proto::signaling::{SignalRes, SignalingInfo};

macro_rules! decode_as {
    ($frame:expr, $($ty:ty),+ $(,)?) => {
        $( let _ = $frame.body::<$ty>(); )+
    };
}

fuzz_target!(|data: &[u8]| {
    // A signaling payload inside a custom message's data.
    let _ = SignalingInfo::from_json(data);
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(frame) = InFrame::parse(text) else { return };
    decode_as!(
        frame,
        LoginRes,
        KickedPush,
        SendMsgRes,
        RevokeRes,
        ReadRes,
        ClearRes,
        HistoryRes,
        SyncRes,
        PullRes,
        UnreadRes,
        C2CRecvOptRes,
        SignalRes,
        CreateGroupRes,
        JoinGroupRes,
        GroupsInfoRes,
        JoinedGroupsRes,
        MembersRes,
        MembersInfoRes,
        MemberOpRes,
        oxim_proto::group::ApplicationsRes,
        OnlineCountRes,
        GroupAttrs,
        ProfilesRes,
        Profile,
        FriendsRes,
        FriendInfoRes,
        CheckRes,
        OpResultsRes,
        oxim_proto::friendship::ApplicationsRes,
        FriendGroupsRes,
        OpResult,
        SignalingInfo,
    );
    // Message pushes (`msg`, `signal`) and what the SDK reads of them.
    if let Ok(msg) = frame.body::<WireMessage>() {
        let _ = (msg.elem.has_files(), msg.elem.file_uuids());
        let _ = oxim_proto::check::check_content(&msg.elem);
        let _ = oxim_proto::ids::ConvId::parse(&msg.group_id);
    }
});
