//! Typed helpers: store and load serde values as JSON.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::TieredStore;
use super::write::{SetOptions, SetOutcome};
use crate::error::Error;

impl TieredStore {
    /// Store `value` as JSON (content type `application/json` unless set).
    pub async fn set_json<T: Serialize + ?Sized>(
        &self,
        key: &str,
        value: &T,
        mut options: SetOptions,
    ) -> Result<SetOutcome, Error> {
        let bytes = serde_json::to_vec(value).map_err(Error::Serialize)?;
        options.content_type.get_or_insert_with(|| "application/json".to_string());
        self.set(key, bytes, options).await
    }

    /// Load a JSON value; `None` when absent.
    pub async fn get_json<T: DeserializeOwned>(&self, key: &str) -> Result<Option<T>, Error> {
        let Some(bytes) = self.get(key).await? else { return Ok(None) };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| Error::Decode { key: key.to_string(), message: format!("not the expected JSON: {e}") })
    }
}
