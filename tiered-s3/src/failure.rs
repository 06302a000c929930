//! [`FailureClient`]: wraps an [`ObjectClient`] and injects the failures a
//! real server produces (feature `mock`): an error answer for a chosen
//! operation (503 `SlowDown`, 403 `AccessDenied`, a timeout, ...), after a
//! number of successful calls and for a number of calls, a GET whose body
//! breaks off or ends short of its `Content-Length`, or a DeleteObjects that
//! leaves some of its keys with an error each, a request never answered,
//! or one carried out whose answer is lost.

use std::fmt;

use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use parking_lot::Mutex;

use crate::client::{
    BodyStream, ClientError, DeleteFailure, DeleteReply, GetReply, ListPage, ListRequest, ObjectClient, ObjectHead,
    PutHead, RangeReply,
};

/// An operation of the seam.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Op {
    HeadBucket,
    HeadObject,
    GetObject,
    PutObject,
    CreateMultipartUpload,
    UploadPart,
    CompleteMultipartUpload,
    AbortMultipartUpload,
    ReplaceMetadata,
    DeleteObject,
    ListPage,
    DeleteObjects,
}

/// What goes wrong.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Failure {
    /// The request fails with this error.
    Error(ClientError),
    /// GetObject: the body breaks off with a connection error after this
    /// many bytes.
    BodyBreaks(u64),
    /// GetObject: the body ends cleanly after this many bytes, short of the
    /// `Content-Length` the head announced.
    BodyEndsShort(u64),
    /// DeleteObjects: the request succeeds, but the first `count` keys of it
    /// are not deleted and are answered with this code, as S3 answers a
    /// key it could not delete (HTTP 200, an `<Error>` per key).
    KeysFail { count: usize, code: String, message: String },
    /// The request is never answered: its future stays pending until it is
    /// dropped (a server that stopped answering, with no timeout set).
    Hang,
    /// The request is carried out, and then fails with this error: an
    /// answer lost on the way, after which the SDK's retry meets what the
    /// first attempt did (a completion sent again finds `NoSuchUpload`).
    AnswerLost(ClientError),
}

impl Failure {
    /// 503 `SlowDown`: S3 asking the client to back off.
    pub fn slow_down() -> Failure {
        Failure::Error(ClientError::status(503, "SlowDown", "Please reduce your request rate."))
    }

    /// 403 `AccessDenied`.
    pub fn access_denied() -> Failure {
        Failure::Error(ClientError::status(403, "AccessDenied", "Access Denied"))
    }

    /// DeleteObjects: the first `count` keys fail with `code` (for example
    /// `ServiceUnavailable`, a busy server; `AccessDenied`, for good).
    pub fn keys_fail(count: usize, code: &str) -> Failure {
        Failure::KeysFail { count, code: code.to_string(), message: format!("injected {code}") }
    }

    /// No answer within the timeout.
    pub fn timeout() -> Failure {
        Failure::Error(ClientError::timeout("operation timed out"))
    }
}

#[derive(Debug)]
struct Rule {
    op: Op,
    /// Successful calls to let through first.
    skip: u64,
    /// Calls left to fail (`u64::MAX`: every one).
    times: u64,
    failure: Failure,
}

/// A client that fails on command.
pub struct FailureClient<C> {
    inner: C,
    rules: Mutex<Vec<Rule>>,
}

impl<C: fmt::Debug> fmt::Debug for FailureClient<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FailureClient").field("inner", &self.inner).field("rules", &*self.rules.lock()).finish()
    }
}

impl<C: ObjectClient> FailureClient<C> {
    pub fn new(inner: C) -> Self {
        FailureClient { inner, rules: Mutex::default() }
    }

    /// The wrapped client.
    pub fn inner(&self) -> &C {
        &self.inner
    }

    /// The next call of `op` fails.
    pub fn fail_once(&self, op: Op, failure: Failure) {
        self.fail(op, 0, 1, failure);
    }

    /// After `skip` calls of `op` succeed, the next `times` fail
    /// (`u64::MAX`: all of them, until [`heal`](Self::heal)).
    pub fn fail(&self, op: Op, skip: u64, times: u64, failure: Failure) {
        self.rules.lock().push(Rule { op, skip, times, failure });
    }

    /// Every rule is dropped: the client works again.
    pub fn heal(&self) {
        self.rules.lock().clear();
    }

    /// The failure this call of `op` meets, if any.
    fn take(&self, op: Op) -> Option<Failure> {
        let mut rules = self.rules.lock();
        let rule = rules.iter_mut().find(|r| r.op == op)?;
        if rule.skip > 0 {
            rule.skip -= 1;
            return None;
        }
        let failure = rule.failure.clone();
        if rule.times != u64::MAX {
            rule.times -= 1;
        }
        rules.retain(|r| r.times > 0);
        Some(failure)
    }

    /// `call` (the wrapped client's request for `op`) under the failure
    /// this call of `op` meets, if any.
    async fn run<T>(&self, op: Op, call: impl Future<Output = Result<T, ClientError>>) -> Result<T, ClientError> {
        answer(self.take(op), call).await
    }

    /// A GetObject, whole or ranged (`call`), under the failure drawn for
    /// it: a request failure as [`run`](Self::run) applies it, a body
    /// failure to the answer's `body`.
    async fn get<R>(
        &self,
        call: impl Future<Output = Result<R, ClientError>>,
        body: fn(&mut R) -> &mut BodyStream,
    ) -> Result<R, ClientError> {
        let failure = self.take(Op::GetObject);
        let mut reply = answer(failure.clone(), call).await?;
        let stream = body(&mut reply);
        *stream = with_body_failure(failure, std::mem::replace(stream, futures::stream::empty().boxed()));
        Ok(reply)
    }
}

/// `call`'s answer under `failure`: an error instead, no answer ever, or the
/// request carried out and its answer lost; body and key failures are the
/// caller's to apply.
async fn answer<T>(
    failure: Option<Failure>,
    call: impl Future<Output = Result<T, ClientError>>,
) -> Result<T, ClientError> {
    match failure {
        Some(Failure::Error(err)) => Err(err),
        Some(Failure::Hang) => futures::future::pending().await,
        Some(Failure::AnswerLost(err)) => {
            call.await?;
            Err(err)
        }
        Some(Failure::BodyBreaks(_) | Failure::BodyEndsShort(_) | Failure::KeysFail { .. }) | None => call.await,
    }
}

/// `body` cut after `limit` bytes, then ended by `end` (an error, or nothing).
fn cut(body: crate::client::BodyStream, limit: u64, end: Option<ClientError>) -> crate::client::BodyStream {
    let state = (body, limit, end, false);
    futures::stream::unfold(state, |(mut body, left, end, done)| async move {
        if done {
            return None;
        }
        if left == 0 {
            return end.clone().map(|e| (Err(e), (body, 0, None, true)));
        }
        match body.next().await? {
            Ok(chunk) => {
                let take = (chunk.len() as u64).min(left);
                let piece: Bytes = chunk.slice(..take as usize);
                Some((Ok(piece), (body, left - take, end, false)))
            }
            Err(e) => Some((Err(e), (body, 0, None, true))),
        }
    })
    .boxed()
}

/// A GetObject's `body` with the body failure drawn for it, if any.
fn with_body_failure(failure: Option<Failure>, body: BodyStream) -> BodyStream {
    match failure {
        Some(Failure::BodyBreaks(at)) => cut(body, at, Some(ClientError::dispatch("connection reset by peer"))),
        Some(Failure::BodyEndsShort(at)) => cut(body, at, None),
        Some(Failure::Error(_) | Failure::KeysFail { .. } | Failure::Hang | Failure::AnswerLost(_)) | None => body,
    }
}

#[async_trait]
impl<C: ObjectClient> ObjectClient for FailureClient<C> {
    async fn head_bucket(&self) -> Result<(), ClientError> {
        self.run(Op::HeadBucket, self.inner.head_bucket()).await
    }

    async fn head_object(&self, key: &str) -> Result<ObjectHead, ClientError> {
        self.run(Op::HeadObject, self.inner.head_object(key)).await
    }

    async fn get_object(&self, key: &str, if_none_match: Option<&str>) -> Result<GetReply, ClientError> {
        self.get(self.inner.get_object(key, if_none_match), |reply: &mut GetReply| &mut reply.body).await
    }

    async fn get_object_range(&self, key: &str, range: &str) -> Result<RangeReply, ClientError> {
        self.get(self.inner.get_object_range(key, range), |reply: &mut RangeReply| &mut reply.body).await
    }

    async fn put_object(&self, key: &str, head: PutHead, body: Bytes) -> Result<Option<String>, ClientError> {
        self.run(Op::PutObject, self.inner.put_object(key, head, body)).await
    }

    async fn create_multipart_upload(&self, key: &str, head: PutHead) -> Result<String, ClientError> {
        self.run(Op::CreateMultipartUpload, self.inner.create_multipart_upload(key, head)).await
    }

    async fn upload_part(
        &self,
        key: &str,
        upload_id: &str,
        number: i32,
        body: Bytes,
    ) -> Result<Option<String>, ClientError> {
        self.run(Op::UploadPart, self.inner.upload_part(key, upload_id, number, body)).await
    }

    async fn complete_multipart_upload(
        &self,
        key: &str,
        upload_id: &str,
        parts: Vec<(i32, Option<String>)>,
    ) -> Result<Option<String>, ClientError> {
        self.run(Op::CompleteMultipartUpload, self.inner.complete_multipart_upload(key, upload_id, parts)).await
    }

    async fn abort_multipart_upload(&self, key: &str, upload_id: &str) -> Result<(), ClientError> {
        self.run(Op::AbortMultipartUpload, self.inner.abort_multipart_upload(key, upload_id)).await
    }

    async fn replace_metadata(
        &self,
        key: &str,
        head: PutHead,
        if_match: Option<&str>,
    ) -> Result<Option<String>, ClientError> {
        self.run(Op::ReplaceMetadata, self.inner.replace_metadata(key, head, if_match)).await
    }

    async fn delete_object(&self, key: &str) -> Result<(), ClientError> {
        self.run(Op::DeleteObject, self.inner.delete_object(key)).await
    }

    async fn list_page(&self, request: ListRequest<'_>) -> Result<ListPage, ClientError> {
        self.run(Op::ListPage, self.inner.list_page(request)).await
    }

    async fn delete_objects(&self, keys: &[String]) -> Result<DeleteReply, ClientError> {
        match self.take(Op::DeleteObjects) {
            Some(Failure::KeysFail { count, code, message }) => {
                let count = count.min(keys.len());
                let mut reply = self.inner.delete_objects(&keys[count..]).await?;
                let failed = keys[..count].iter().map(|key| DeleteFailure {
                    key: key.clone(),
                    code: code.clone(),
                    message: message.clone(),
                });
                reply.failed.splice(0..0, failed);
                Ok(reply)
            }
            failure => answer(failure, self.inner.delete_objects(keys)).await,
        }
    }
}
