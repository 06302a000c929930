//! Listing and bulk deletion: ListObjectsV2 pages fetched lazily as the
//! stream is consumed, DeleteObjects in batches of at most 1000 keys.

use aws_sdk_s3::types::{Delete, ObjectIdentifier};
use futures::StreamExt;

use crate::{S3Tier, errors};
use tiered::error::{TierError, TierErrorKind};
use tiered::store::KeyStream;

/// Keys under `prefix` (store keys: the tier's own prefix removed), page by page.
pub fn keys(tier: S3Tier, prefix: String) -> KeyStream {
    let full = tier.object_key(&prefix);
    let strip = tier.config.prefix.len();
    let pages = tier.client.list_objects_v2().bucket(&tier.config.bucket).prefix(full).into_paginator().send();
    let stream = futures::stream::unfold(pages, |mut pages| async move {
        let page = pages.next().await?;
        Some((page, pages))
    })
    .flat_map(move |page| {
        let items: Vec<Result<String, TierError>> = match page {
            Ok(page) => page.contents().iter().filter_map(|o| o.key()).map(|k| Ok(k[strip..].to_string())).collect(),
            Err(err) => vec![Err(errors::convert("ListObjectsV2", &prefix, err))],
        };
        futures::stream::iter(items)
    });
    Box::pin(stream)
}

/// Delete every object under `prefix`; the count S3 confirmed.
pub async fn delete_prefix(tier: &S3Tier, prefix: &str) -> Result<u64, TierError> {
    let mut stream = keys(tier.clone(), prefix.to_string());
    let mut batch = Vec::with_capacity(1000);
    let mut deleted = 0;
    while let Some(key) = stream.next().await {
        batch.push(key?);
        if batch.len() == 1000 {
            deleted += delete_batch(tier, &std::mem::take(&mut batch)).await?;
        }
    }
    if !batch.is_empty() {
        deleted += delete_batch(tier, &batch).await?;
    }
    Ok(deleted)
}

async fn delete_batch(tier: &S3Tier, keys: &[String]) -> Result<u64, TierError> {
    let objects = keys
        .iter()
        .map(|k| ObjectIdentifier::builder().key(tier.object_key(k)).build())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TierError::new(TierErrorKind::Rejected, "s3", format!("DeleteObjects: {e}")))?;
    let delete = Delete::builder()
        .set_objects(Some(objects))
        .quiet(false)
        .build()
        .map_err(|e| TierError::new(TierErrorKind::Rejected, "s3", format!("DeleteObjects: {e}")))?;
    let response = tier
        .client
        .delete_objects()
        .bucket(&tier.config.bucket)
        .delete(delete)
        .send()
        .await
        .map_err(|e| errors::convert("DeleteObjects", &keys[0], e))?;
    if let Some(failed) = response.errors().first() {
        return Err(TierError::new(
            TierErrorKind::Unavailable,
            "s3",
            format!(
                "DeleteObjects: {} of {} keys failed, first {:?}: {}: {}",
                response.errors().len(),
                keys.len(),
                failed.key().unwrap_or_default(),
                failed.code().unwrap_or("Unknown"),
                failed.message().unwrap_or_default()
            ),
        ));
    }
    Ok(response.deleted().len() as u64)
}
