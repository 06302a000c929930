//! The one bucket: every key of the store is an object of the bucket named
//! by `s3_api.bucket`, and no other bucket exists.
//!
//! | operation | answer |
//! |---|---|
//! | `ListBuckets` | the one bucket |
//! | `HeadBucket`, `GetBucketLocation` | 200 (the configured region) for it; `NoSuchBucket` otherwise |
//! | `CreateBucket` | `BucketAlreadyOwnedByYou` for it (clients that create before copying go on); `AccessDenied` otherwise |
//! | any object or listing operation on another name | `NoSuchBucket` |
//!
//! Deleting the bucket, and every bucket configuration (policy, ACL,
//! versioning, lifecycle...), is not supported: `NotImplemented`.

use std::time::SystemTime;

use s3s::dto::{
    Bucket, CreateBucketInput, CreateBucketOutput, GetBucketLocationInput, GetBucketLocationOutput, HeadBucketInput,
    HeadBucketOutput, ListBucketsOutput, Owner, Timestamp,
};
use s3s::{S3Error, S3ErrorCode, S3Request, S3Response, S3Result};

/// The bucket the endpoint serves.
#[derive(Debug, Clone)]
pub struct OneBucket {
    pub name: String,
    pub region: String,
    /// Reported as the bucket's creation date: when the service started.
    pub since: SystemTime,
}

impl OneBucket {
    /// `Ok` when `bucket` is the served one, else `NoSuchBucket`.
    pub fn check(&self, bucket: &str) -> S3Result<()> {
        if bucket == self.name {
            return Ok(());
        }
        Err(S3Error::with_message(
            S3ErrorCode::NoSuchBucket,
            format!("The specified bucket does not exist: this endpoint serves the bucket {:?} only.", self.name),
        ))
    }

    pub fn list(&self) -> S3Response<ListBucketsOutput> {
        let bucket = Bucket {
            name: Some(self.name.clone()),
            creation_date: Some(Timestamp::from(self.since)),
            bucket_region: Some(self.region.clone()),
        };
        S3Response::new(ListBucketsOutput {
            buckets: Some(vec![bucket]),
            owner: Some(Owner { display_name: Some("tiered".into()), id: Some("tiered".into()) }),
            ..Default::default()
        })
    }

    pub fn head(&self, req: &S3Request<HeadBucketInput>) -> S3Result<S3Response<HeadBucketOutput>> {
        self.check(&req.input.bucket)?;
        Ok(S3Response::new(HeadBucketOutput { bucket_region: Some(self.region.clone()), ..Default::default() }))
    }

    pub fn location(&self, req: &S3Request<GetBucketLocationInput>) -> S3Result<S3Response<GetBucketLocationOutput>> {
        self.check(&req.input.bucket)?;
        // us-east-1 is reported as no constraint, as S3 does.
        let constraint = (self.region != "us-east-1").then(|| self.region.clone().into());
        Ok(S3Response::new(GetBucketLocationOutput { location_constraint: constraint }))
    }

    pub fn create(&self, req: &S3Request<CreateBucketInput>) -> S3Result<S3Response<CreateBucketOutput>> {
        if req.input.bucket == self.name {
            return Err(S3Error::with_message(
                S3ErrorCode::BucketAlreadyOwnedByYou,
                "Your previous request to create the named bucket succeeded and you already own it.",
            ));
        }
        Err(S3Error::with_message(
            S3ErrorCode::AccessDenied,
            format!("This endpoint serves the bucket {:?} only and cannot create buckets.", self.name),
        ))
    }
}
