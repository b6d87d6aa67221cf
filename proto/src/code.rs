//! V2TIM's numeric error codes, as the SDK and the server both return them.
//!
//! The values are Tencent Cloud IM's (their names follow Tencent's `ERR_*` constants); the table
//! with meanings and sources is `docs/compat.md`. Codes Oxim had to choose itself are marked so.
//!
//! This is the one error table: each constant's doc comment starts with Tencent's name in
//! backticks (`` `ERR_...`: ``), and `scripts/gen-bindings.py` turns the table into the
//! bindings' named constants (Android `BaseConstants.ERR_*`, iOS `ERR_*`). A code V2TIM names
//! none has no backticked name and no constant.

/// `ERR_SUCC`: success.
pub const OK: i32 = 0;

// ---- SDK (local) errors -------------------------------------------------------------------

/// `ERR_SDK_NOT_INITIALIZED`: a call before `initSDK`.
pub const SDK_NOT_INITIALIZED: i32 = 6013;
/// `ERR_SDK_NOT_LOGGED_IN`: a call that needs a logged-in user.
pub const SDK_NOT_LOGGED_IN: i32 = 6014;
/// `ERR_IN_PROGESS` (Tencent's spelling): e.g. `login` while another login is running.
pub const SDK_OPERATION_IN_PROGRESS: i32 = 6015;
/// `ERR_INVALID_PARAMETERS`: invalid parameter.
pub const INVALID_PARAMETERS: i32 = 6017;
/// `ERR_IO_OPERATION_FAILED`: local file I/O failed.
pub const IO_OPERATION_FAILED: i32 = 6022;
/// `ERR_DATABASE_OPERATE_FAILED`: the local database failed.
pub const DB_OPERATION_FAILED: i32 = 6019;
/// `ERR_INVALID_JSON`: a frame or payload that does not parse.
pub const INVALID_JSON: i32 = 6027;
/// `ERR_LOGIN_KICKED_OFF_BY_OTHER`: the session was kicked by a login elsewhere.
pub const LOGIN_KICKED_OFF_BY_OTHER: i32 = 6208;
/// `ERR_SDK_MSG_BODY_SIZE_LIMIT`: message body over the size limit (checked by the SDK).
pub const SDK_MSG_BODY_SIZE_LIMIT: i32 = 8001;
/// `ERR_SDK_COMM_INTERRUPT`: the operation was interrupted by `unInitSDK` or `logout`.
pub const SDK_COMM_INTERRUPT: i32 = 7009;
/// `ERR_SDK_INTERNAL_ERROR`: the SDK failed internally (a bug; reported with details in the log).
pub const SDK_INTERNAL_ERROR: i32 = 7012;
/// `ERR_PARSE_RESPONSE_FAILED`: the server's answer could not be decoded.
pub const PARSE_RESPONSE_FAILED: i32 = 6001;
/// `ERR_INVALID_MSG_ELEM`: the message has no valid element.
pub const INVALID_MSG_ELEM: i32 = 6016;
/// `ERR_SDK_NET_ENCODE_FAILED` ("network data encryption failed"): Oxim's code for a TLS
/// connection that failed: the server's certificate is not trusted (`trustedCaPem`), names
/// another host, or the handshake failed.
pub const SDK_NET_TLS_FAILED: i32 = 9501;
/// `ERR_SDK_NET_DISCONNECT`: no connection to the server.
pub const SDK_NET_DISCONNECT: i32 = 9508;
/// `ERR_SDK_NET_CONN_TIMEOUT`: connecting to the server timed out.
pub const SDK_NET_CONN_TIMEOUT: i32 = 9510;
/// `ERR_SDK_NET_WAIT_ACK_TIMEOUT`: the request was sent but the server did not answer in time.
pub const SDK_NET_WAIT_ACK_TIMEOUT: i32 = 9520;

// ---- Files (media upload and download) ----------------------------------------------------

/// `ERR_FILE_TRANS_AUTH_FAILED`: file transfer refused: missing or invalid credentials, or the
/// user may not read the file.
pub const FILE_TRANS_AUTH_FAILED: i32 = 6006;
/// `ERR_FILE_TRANS_UPLOAD_FAILED`: the upload failed (network, or the server could not store it).
pub const FILE_TRANS_UPLOAD_FAILED: i32 = 6008;
/// `ERR_FILE_TRANS_DOWNLOAD_FAILED`: the download failed (network, or the server could not read it).
pub const FILE_TRANS_DOWNLOAD_FAILED: i32 = 6009;
/// `ERR_IMAGE_UPLOAD_FAILED_NOTIMAGE`: an image upload that is not a decodable image.
pub const IMAGE_UPLOAD_FAILED_NOTIMAGE: i32 = 6031;
/// `ERR_SDK_COMM_FILE_NOT_FOUND`: the local file does not exist, or the server has no such file.
pub const SDK_COMM_FILE_NOT_FOUND: i32 = 7004;
/// `ERR_SDK_COMM_FILE_TOO_LARGE`: over the kind's size limit (images, sound 28 MB; video, files 100 MB).
pub const SDK_COMM_FILE_TOO_LARGE: i32 = 7005;
/// `ERR_SDK_COMM_FILE_SIZE_EMPTY`: a 0-byte file.
pub const SDK_COMM_FILE_SIZE_EMPTY: i32 = 7006;
/// `ERR_SDK_COMM_FILE_OPEN_FAILED`: the local file cannot be opened or read.
pub const SDK_COMM_FILE_OPEN_FAILED: i32 = 7007;

// ---- Account / login (server) -------------------------------------------------------------

/// `ERR_SVR_ACCOUNT_USERSIG_EXPIRED`: UserSig expired.
pub const USERSIG_EXPIRED: i32 = 70001;
/// `ERR_SVR_ACCOUNT_USERSIG_EMPTY`: UserSig is empty.
pub const USERSIG_EMPTY: i32 = 70002;
/// `ERR_SVR_ACCOUNT_USERSIG_CHECK_FAILED`: UserSig cannot be decoded (not base64url / zlib / JSON).
pub const USERSIG_INVALID: i32 = 70003;
/// `ERR_SVR_ACCOUNT_USERSIG_MISMATCH_PUBLICKEY`: UserSig signature check failed: forged, or signed with another secret key.
pub const USERSIG_VERIFY_FAILED: i32 = 70009;
/// `ERR_SVR_ACCOUNT_USERSIG_MISMATCH_ID`: The identifier in the UserSig is not the user id of the login request.
pub const USERSIG_IDENTIFIER_MISMATCH: i32 = 70013;
/// `ERR_SVR_ACCOUNT_USERSIG_MISMATCH_SDKAPPID`: The SDKAppID in the UserSig is not the SDKAppID of the login request.
pub const USERSIG_SDKAPPID_MISMATCH: i32 = 70014;
/// `ERR_SVR_ACCOUNT_SDKAPPID_NOT_FOUND`: The login request's SDKAppID is not served by this server.
pub const SDKAPPID_NOT_FOUND: i32 = 70020;
/// `ERR_SVR_ACCOUNT_NOT_FOUND`: the account does not exist.
pub const ACCOUNT_NOT_FOUND: i32 = 70107;
/// `ERR_SVR_ACCOUNT_INTERNAL_ERROR`: the server failed internally; retry.
pub const SVR_ACCOUNT_INTERNAL_ERROR: i32 = 70500;

// ---- Messages (server) --------------------------------------------------------------------

/// `ERR_SVR_MSG_INVALID_ID`: the receiver (or sender) is not a known user.
pub const SVR_MSG_INVALID_ID: i32 = 20003;
/// `ERR_SVR_MSG_INTERNAL_ERROR1`: the server failed to store the message; retry.
pub const SVR_MSG_INTERNAL_ERROR: i32 = 20005;
/// `ERR_SVR_COMM_BODY_SIZE_LIMIT`: message body over 12 KB (server-side check).
pub const SVR_COMM_BODY_SIZE_LIMIT: i32 = 80002;

/// Whether a login failure means the UserSig can never work again (so reconnecting with it is
/// pointless and the app must get a new one).
pub fn is_usersig_failure(code: i32) -> bool {
    matches!(
        code,
        USERSIG_EXPIRED
            | USERSIG_EMPTY
            | USERSIG_INVALID
            | USERSIG_VERIFY_FAILED
            | USERSIG_IDENTIFIER_MISMATCH
            | USERSIG_SDKAPPID_MISMATCH
            | SDKAPPID_NOT_FOUND
    )
}

// ---- Message operations (server) -------------------------------------------------------------

/// `ERR_SVR_MSG_REVOKE_TIME_LIMIT`: a C2C message older than the revoke window.
pub const SVR_MSG_REVOKE_TIME_LIMIT: i32 = 20016;
/// `ERR_SVR_GROUP_REVOKE_MSG_NOT_FOUND`: the message to revoke does not exist (Oxim uses it for
/// C2C messages too).
pub const SVR_REVOKE_MSG_NOT_FOUND: i32 = 10030;
/// `ERR_SVR_GROUP_REVOKE_MSG_TIME_LIMIT`: a group message older than the revoke window.
pub const SVR_GROUP_REVOKE_MSG_TIME_LIMIT: i32 = 10031;
/// `ERR_SVR_GROUP_REVOKE_MSG_DENY`: the message cannot be revoked by this user (not theirs;
/// Oxim uses it for C2C messages too).
pub const SVR_REVOKE_MSG_DENY: i32 = 10032;
/// `ERR_SVR_GROUP_NOT_FOUND`: the group does not exist or was dismissed.
pub const SVR_GROUP_NOT_FOUND: i32 = 10010;
/// `ERR_SDK_COMM_API_CALL_FREQUENCY_LIMIT`: an API called more often than V2TIM allows.
pub const SDK_COMM_API_CALL_FREQUENCY_LIMIT: i32 = 7008;
/// `ERR_INVALID_CONVERSATION`: the conversation id is malformed or unknown.
pub const INVALID_CONVERSATION: i32 = 6004;

// Groups (server side, 10xxx).

/// `ERR_SVR_GROUP_INVALID_PARAMETERS`: Invalid group parameters (a field too long, a bad value).
pub const SVR_GROUP_INVALID_PARAMETERS: i32 = 10004;
/// `ERR_SVR_GROUP_PERMISSION_DENY`: The user may not do this in this group (role or group type forbids it, or not a member).
pub const SVR_GROUP_PERMISSION_DENY: i32 = 10007;
/// `ERR_SVR_GROUP_SUPER_NOT_ALLOW_QUIT`: The owner may not quit this group (dismiss or transfer it first).
pub const SVR_GROUP_SUPER_NOT_ALLOW_QUIT: i32 = 10009;
/// `ERR_SVR_GROUP_ALLREADY_MEMBER`: The user is already a member.
pub const SVR_GROUP_ALLREADY_MEMBER: i32 = 10013;
/// `ERR_SVR_GROUP_FULL_MEMBER_COUNT`: The group is full.
pub const SVR_GROUP_FULL_MEMBER_COUNT: i32 = 10014;
/// `ERR_SVR_GROUP_INVALID_GROUPID`: The group id is not acceptable.
pub const SVR_GROUP_INVALID_GROUPID: i32 = 10015;
/// `ERR_SVR_GROUP_SHUTUP_DENY`: The sender is muted (or the whole group is).
pub const SVR_GROUP_SHUTUP_DENY: i32 = 10017;
/// `ERR_SVR_GROUP_ACCOUNT_NOT_FOUND`: A user named does not exist.
pub const SVR_GROUP_ACCOUNT_NOT_FOUND: i32 = 10019;
/// `ERR_SVR_GROUP_GROUPID_IN_USED`: The group id is taken.
pub const SVR_GROUP_GROUPID_IN_USED: i32 = 10021;
/// `ERR_SVR_GROUP_SEND_MSG_FREQ_LIMIT`: The group's message rate limit was hit (AVChatRoom: 40 messages/s).
pub const SVR_GROUP_SEND_MSG_FREQ_LIMIT: i32 = 10023;
/// `ERR_SVR_SSO_FREQ_LIMIT`: one user's requests of one kind over their rate (Oxim: messages
/// outside AVChatRooms, `[limits] user_msgs_per_sec`).
pub const SVR_SSO_FREQ_LIMIT: i32 = -10113;
/// `ERR_SVR_GROUP_REQ_ALLREADY_BEEN_PROCESSED`: The application was already handled.
pub const SVR_GROUP_REQ_ALLREADY_BEEN_PROCESSED: i32 = 10024;
/// `ERR_SVR_GROUP_MEMBER_COUNT_LIMIT`: More initial members than the group may have.
pub const SVR_GROUP_MEMBER_COUNT_LIMIT: i32 = 10038;
/// Group attributes written too often (server: 5 writes/s per group). V2TIM names no constant
/// for it.
pub const SVR_GROUP_ATTR_FREQUENCY_LIMIT: i32 = 10049;
/// `ERR_SVR_GROUP_ATTRIBUTE_WRITE_CONFLICT` (iOS: `ERR_SVR_GROUP_ATTRIBUTE_WRITE_CONFILCT`): A group-attribute write was based on a stale view; read the attributes and retry.
pub const SVR_GROUP_ATTRIBUTE_WRITE_CONFLICT: i32 = 10056;

// Groups (SDK side, 85xx: checked before anything is sent).

/// `ERR_SDK_GROUP_INVALID_ID`: Invalid group id (1-48 printable ASCII bytes, not starting with `@TGS#`).
pub const SDK_GROUP_INVALID_ID: i32 = 8501;
/// `ERR_SDK_GROUP_INVALID_NAME`: Group name longer than 30 bytes.
pub const SDK_GROUP_INVALID_NAME: i32 = 8502;
/// `ERR_SDK_GROUP_INVALID_INTRODUCTION`: Introduction longer than 240 bytes.
pub const SDK_GROUP_INVALID_INTRODUCTION: i32 = 8503;
/// `ERR_SDK_GROUP_INVALID_NOTIFICATION`: Notification longer than 300 bytes.
pub const SDK_GROUP_INVALID_NOTIFICATION: i32 = 8504;
/// `ERR_SDK_GROUP_INVALID_FACE_URL`: Avatar URL longer than 100 bytes.
pub const SDK_GROUP_INVALID_FACE_URL: i32 = 8505;
/// `ERR_SDK_GROUP_INVALID_NAME_CARD`: Name card longer than 50 bytes.
pub const SDK_GROUP_INVALID_NAME_CARD: i32 = 8506;
/// `ERR_SDK_GROUP_MEMBER_COUNT_LIMIT`: More members than allowed in one call.
pub const SDK_GROUP_MEMBER_COUNT_LIMIT: i32 = 8507;
/// `ERR_SDK_GROUP_JOIN_PRIVATE_GROUP_DENY`: A Work group cannot be applied to.
pub const SDK_GROUP_JOIN_PRIVATE_GROUP_DENY: i32 = 8508;
/// `ERR_SDK_GROUP_INVITE_SUPER_DENY`: An owner cannot be invited.
pub const SDK_GROUP_INVITE_SUPER_DENY: i32 = 8509;
/// `ERR_SDK_GROUP_INVITE_NO_MEMBER`: Inviting nobody.
pub const SDK_GROUP_INVITE_NO_MEMBER: i32 = 8510;
/// `ERR_SDK_GROUP_ATTR_FREQUENCY_LIMIT`: Group attributes used too often (SDK: 10 writes or 20 reads per 5 s).
pub const SDK_GROUP_ATTR_FREQUENCY_LIMIT: i32 = 8511;
// ---- Signaling ---------------------------------------------------------------------------------

/// `ERR_SDK_SIGNALING_INVALID_INVITE_ID`: no such invitation, or it was already processed
/// (ended, cancelled, timed out, or already answered by this invitee).
pub const SIGNALING_INVALID_INVITE_ID: i32 = 8010;
/// `ERR_SDK_SIGNALING_NO_PERMISSION`: the user may not do this to the invitation (cancel someone
/// else's, answer one that does not invite them, invite in a group they are not in).
pub const SIGNALING_NO_PERMISSION: i32 = 8011;
/// `ERR_SDK_SIGNALING_ALREADY_EXISTS`: `addInvitedSignaling` of an invitation this device knows.
pub const SIGNALING_ALREADY_EXISTS: i32 = 8012;

// ---- Profiles ---------------------------------------------------------------------------

/// `ERR_SDK_FRIENDSHIP_INVALID_PROFILE_KEY`: a custom profile or friend field whose key is not 1-8
/// letters, whose value is over 500 bytes, or more than 20 of them (checked by the SDK).
pub const SDK_FRIENDSHIP_INVALID_PROFILE_KEY: i32 = 9001;
/// `ERR_SDK_FRIENDSHIP_INVALID_ADD_REMARK`: a friend remark over 96 bytes (checked by the SDK).
pub const SDK_FRIENDSHIP_INVALID_ADD_REMARK: i32 = 9002;
/// `ERR_SDK_FRIENDSHIP_INVALID_ADD_WORDING`: an add-friend wording over 120 bytes (checked by the
/// SDK).
pub const SDK_FRIENDSHIP_INVALID_ADD_WORDING: i32 = 9003;
/// `ERR_SDK_FRIENDSHIP_INVALID_ADD_SOURCE`: an add source without the `AddSource_Type_` prefix or
/// with more than 8 bytes after it (checked by the SDK).
pub const SDK_FRIENDSHIP_INVALID_ADD_SOURCE: i32 = 9004;
/// `ERR_SDK_FRIENDSHIP_FRIEND_GROUP_EMPTY`: a friend group name that is empty or over 30 bytes
/// (checked by the SDK).
pub const SDK_FRIENDSHIP_FRIEND_GROUP_EMPTY: i32 = 9005;
/// `ERR_SDK_FRIENDSHIP_EXCEED_THE_LIMIT`: more users in one call than the call allows (checked
/// by the SDK).
pub const SDK_FRIENDSHIP_EXCEED_THE_LIMIT: i32 = 9006;

/// `ERR_SVR_PROFILE_INVALID_PARAMETERS`: a profile change that sets nothing, or a bad custom key.
pub const SVR_PROFILE_INVALID_PARAMETERS: i32 = 40001;
/// `ERR_SVR_PROFILE_SIZE_LIMIT`: a profile value over 500 bytes.
pub const SVR_PROFILE_SIZE_LIMIT: i32 = 40601;
/// `ERR_SVR_PROFILE_VALUE_ERROR`: a gender or allow type that V2TIM does not have.
pub const SVR_PROFILE_VALUE_ERROR: i32 = 40605;

// ---- The relationship chain ----------------------------------------------------------------

/// `ERR_SVR_FRIENDSHIP_INVALID_PARAMETERS`: a relationship request the server refuses (a value
/// over its limit, adding oneself or a friend who already is one, a friend group that exists or
/// does not, a user who is not a friend).
pub const SVR_FRIENDSHIP_INVALID_PARAMETERS: i32 = 30001;
/// `ERR_SVR_FRIENDSHIP_ACCOUNT_NOT_FOUND`: the other user does not exist (never logged in).
pub const SVR_FRIENDSHIP_ACCOUNT_NOT_FOUND: i32 = 30003;
/// `ERR_SVR_FRIENDSHIP_COUNT_LIMIT`: the user's friend list is full.
pub const SVR_FRIENDSHIP_COUNT_LIMIT: i32 = 30010;
/// `ERR_SVR_FRIENDSHIP_GROUP_COUNT_LIMIT`: the user has the most friend groups allowed (32).
pub const SVR_FRIENDSHIP_GROUP_COUNT_LIMIT: i32 = 30011;
/// `ERR_SVR_FRIENDSHIP_BLACKLIST_LIMIT`: the user's blacklist is full.
pub const SVR_FRIENDSHIP_BLACKLIST_LIMIT: i32 = 30013;
/// `ERR_SVR_FRIENDSHIP_PEER_FRIEND_LIMIT`: the other user's friend list is full.
pub const SVR_FRIENDSHIP_PEER_FRIEND_LIMIT: i32 = 30014;
/// `ERR_SVR_FRIENDSHIP_IN_SELF_BLACKLIST`: the other user is on my blacklist.
pub const SVR_FRIENDSHIP_IN_SELF_BLACKLIST: i32 = 30515;
/// `ERR_SVR_FRIENDSHIP_ALLOW_TYPE_DENY_ANY`: the other user accepts no friend requests.
pub const SVR_FRIENDSHIP_ALLOW_TYPE_DENY_ANY: i32 = 30516;
/// `ERR_SVR_FRIENDSHIP_IN_PEER_BLACKLIST`: I am on the other user's blacklist.
pub const SVR_FRIENDSHIP_IN_PEER_BLACKLIST: i32 = 30525;
/// `ERR_SVR_FRIENDSHIP_ALLOW_TYPE_NEED_CONFIRM`: the request waits for the other user's
/// approval; not a failure (it comes as the result code of a successful `addFriend`).
pub const SVR_FRIENDSHIP_ALLOW_TYPE_NEED_CONFIRM: i32 = 30539;
/// `ERR_SVR_FRIENDSHIP_PENDENCY_NOT_FOUND`: there is no such friend application.
pub const SVR_FRIENDSHIP_PENDENCY_NOT_FOUND: i32 = 30614;
/// `ERR_SVR_FRIENDSHIP_DEL_NONFRIEND`: the user named is not a friend.
pub const SVR_FRIENDSHIP_DEL_NONFRIEND: i32 = 31704;

/// `ERR_SVR_MSG_IN_PEER_BLACKLIST`: the receiver has the sender on their blacklist (only when
/// the server tells blocked senders; otherwise the send looks successful and nothing arrives).
pub const SVR_MSG_IN_PEER_BLACKLIST: i32 = 20007;
/// `ERR_SVR_MSG_BOTH_NOT_FRIEND`: the two users are not friends both ways (only when the server
/// lets only friends send C2C messages).
pub const SVR_MSG_BOTH_NOT_FRIEND: i32 = 20009;
