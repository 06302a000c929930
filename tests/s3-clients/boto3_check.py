"""boto3 against the S3 endpoint of a running `tiered serve`.

Run by host/tests/it/s3_api_clients.rs with the endpoint in the environment:
TIERED_S3_API_URL, TIERED_S3_API_BUCKET, AWS_ACCESS_KEY_ID,
AWS_SECRET_ACCESS_KEY; WORK_DIR is a scratch directory. Exits non-zero, with
the failed check, when anything differs from what S3 would answer.

Covers: a multipart upload by boto3's transfer manager (asserted to have
been one), a parallel ranged download by the same manager, metadata and
content type, a key with spaces and unicode, paginated listing, a ranged
GET, conditional GETs, DeleteObjects, S3 error codes.
"""

import hashlib
import os
import sys

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import ClientError

MIB = 1024 * 1024


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(MIB), b""):
            digest.update(block)
    return digest.hexdigest()


def error_code(call):
    try:
        call()
    except ClientError as err:
        return err.response["Error"]["Code"], err.response["ResponseMetadata"]["HTTPStatusCode"]
    raise AssertionError("the call succeeded")


def main():
    url = os.environ["TIERED_S3_API_URL"]
    bucket = os.environ["TIERED_S3_API_BUCKET"]
    work = os.environ["WORK_DIR"]
    s3 = boto3.client(
        "s3",
        endpoint_url=url,
        region_name="us-east-1",
        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}),
    )
    calls = []
    s3.meta.events.register("after-call.s3.*", lambda model, **_: calls.append(model.name))

    # A 40 MiB file through the transfer manager: 8 MiB parts, uploaded in parallel.
    source = os.path.join(work, "boto3-source.bin")
    with open(source, "wb") as f:
        for i in range(40):
            f.write(hashlib.sha256(str(i).encode()).digest() * (MIB // 32))
    transfer = TransferConfig(multipart_threshold=8 * MIB, multipart_chunksize=8 * MIB, max_concurrency=4)
    key = "boto3/big file é.bin"
    s3.upload_file(
        source,
        bucket,
        key,
        Config=transfer,
        ExtraArgs={"Metadata": {"owner": "boto3"}, "ContentType": "application/x-boto3"},
    )
    assert "CreateMultipartUpload" in calls, calls
    assert calls.count("UploadPart") == 5, calls
    assert "CompleteMultipartUpload" in calls, calls

    head = s3.head_object(Bucket=bucket, Key=key)
    assert head["ContentLength"] == 40 * MIB, head
    assert head["Metadata"] == {"owner": "boto3"}, head["Metadata"]
    assert head["ContentType"] == "application/x-boto3", head

    target = os.path.join(work, "boto3-download.bin")
    calls.clear()
    s3.download_file(bucket, key, target, Config=transfer)
    assert calls.count("GetObject") > 1, f"a ranged, parallel download: {calls}"
    assert sha256_file(target) == sha256_file(source), "the downloaded bytes"

    part = s3.get_object(Bucket=bucket, Key=key, Range="bytes=100-199")
    assert part["ContentRange"] == f"bytes 100-199/{40 * MIB}", part["ContentRange"]
    with open(source, "rb") as f:
        f.seek(100)
        assert part["Body"].read() == f.read(100)

    etag = head["ETag"]
    assert error_code(lambda: s3.get_object(Bucket=bucket, Key=key, IfNoneMatch=etag)) == ("304", 304)
    assert error_code(lambda: s3.get_object(Bucket=bucket, Key=key, IfMatch='"nope"')) == ("PreconditionFailed", 412)
    assert error_code(lambda: s3.get_object(Bucket=bucket, Key=key, Range=f"bytes={50 * MIB}-")) == (
        "InvalidRange",
        416,
    )

    # Small objects, a paginated listing, DeleteObjects.
    for i in range(7):
        s3.put_object(Bucket=bucket, Key=f"boto3/small/{i}", Body=f"value {i}".encode())
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="boto3/small/", PaginationConfig={"PageSize": 3})
    listed = [o["Key"] for page in pages for o in page.get("Contents", [])]
    assert listed == [f"boto3/small/{i}" for i in range(7)], listed
    assert s3.get_object(Bucket=bucket, Key="boto3/small/3")["Body"].read() == b"value 3"
    deleted = s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": f"boto3/small/{i}"} for i in range(7)]}
    )
    assert len(deleted.get("Deleted", [])) == 7, deleted
    assert s3.list_objects_v2(Bucket=bucket, Prefix="boto3/small/")["KeyCount"] == 0

    assert error_code(lambda: s3.get_object(Bucket=bucket, Key="boto3/absent")) == ("NoSuchKey", 404)
    assert error_code(lambda: s3.head_bucket(Bucket="no-such-bucket"))[1] == 404
    assert error_code(lambda: s3.list_objects_v2(Bucket="no-such-bucket")) == ("NoSuchBucket", 404)
    print("boto3: all checks passed")


if __name__ == "__main__":
    try:
        main()
    except AssertionError as err:
        print(f"boto3 check failed: {err}", file=sys.stderr)
        raise
