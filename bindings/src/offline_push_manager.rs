//! `V2TIMOfflinePushManager` and `V2TIMOfflinePushConfig`: forwards to
//! `oxim_core::OfflinePushManager`.

use oxim_core as core;

use crate::V2TIMError;

type Result<T> = std::result::Result<T, V2TIMError>;

/// `V2TIMOfflinePushConfig` (iOS `V2TIMAPNSConfig`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct V2TIMOfflinePushConfig {
    /// The push certificate id (businessID).
    pub business_id: i64,
    /// The vendor's device token.
    pub token: String,
    /// Whether `token` is a TPNS token.
    pub is_tpns_token: bool,
}

impl From<V2TIMOfflinePushConfig> for core::OfflinePushConfig {
    fn from(c: V2TIMOfflinePushConfig) -> Self {
        core::OfflinePushConfig { business_id: c.business_id, token: c.token, is_tpns_token: c.is_tpns_token }
    }
}

/// `V2TIMOfflinePushManager`.
pub struct V2TIMOfflinePushManager {
    pub(crate) pm: core::OfflinePushManager,
}

impl V2TIMOfflinePushManager {
    /// `setOfflinePushConfig`.
    pub async fn set_offline_push_config(&self, config: V2TIMOfflinePushConfig) -> Result<()> {
        Ok(self.pm.set_offline_push_config(config.into()).await?)
    }

    /// `doBackground`: 6017 for a negative count.
    pub async fn do_background(&self, unread_count: i32) -> Result<()> {
        let unread_count = u32::try_from(unread_count)
            .map_err(|_| core::Error::invalid(format!("unreadCount must be 0 or more, not {unread_count}")))?;
        Ok(self.pm.do_background(unread_count).await?)
    }

    /// `doForeground`.
    pub async fn do_foreground(&self) -> Result<()> {
        Ok(self.pm.do_foreground().await?)
    }
}
