"""Which IAM permissions an S3 request needs: the action S3 authorizes it as, on the bucket or the object.

From "Actions, resources, and condition keys for Amazon S3"
(https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html) and "Required
permissions for Amazon S3 API operations"
(https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html): most operations
are authorized as `s3:<Operation>`; the exceptions are in `ACTIONS`. Object operations are checked on
`arn:aws:s3:::bucket/key`, bucket operations on `arn:aws:s3:::bucket` (S3 ARNs carry no region or account).
A copy needs `s3:GetObject` on its source too. `DeleteObjects` is checked as `s3:DeleteObject` on
`bucket/*`, which only a principal allowed on every key passes: never looser than S3's per-key check.
"""

from __future__ import annotations

from urllib.parse import unquote

from localcore.services.permissions.place import Permission, Place
from localcore.services.requests import ServiceRequest

ACTIONS = {
    "ListObjects": "ListBucket",
    "ListObjectsV2": "ListBucket",
    "HeadBucket": "ListBucket",
    "ListObjectVersions": "ListBucketVersions",
    "ListBuckets": "ListAllMyBuckets",
    "ListDirectoryBuckets": "ListAllMyDirectoryBuckets",
    "HeadObject": "GetObject",
    "SelectObjectContent": "GetObject",
    "CopyObject": "PutObject",
    "UploadPartCopy": "PutObject",
    "CreateMultipartUpload": "PutObject",
    "UploadPart": "PutObject",
    "CompleteMultipartUpload": "PutObject",
    "ListMultipartUploads": "ListBucketMultipartUploads",
    "ListParts": "ListMultipartUploadParts",
    "DeleteObjects": "DeleteObject",
    "GetBucketCors": "GetBucketCORS",
    "PutBucketCors": "PutBucketCORS",
    "DeleteBucketCors": "PutBucketCORS",
    "GetBucketLifecycleConfiguration": "GetLifecycleConfiguration",
    "PutBucketLifecycleConfiguration": "PutLifecycleConfiguration",
    "DeleteBucketLifecycle": "PutLifecycleConfiguration",
    "GetBucketEncryption": "GetEncryptionConfiguration",
    "PutBucketEncryption": "PutEncryptionConfiguration",
    "DeleteBucketEncryption": "PutEncryptionConfiguration",
    "GetBucketNotificationConfiguration": "GetBucketNotification",
    "PutBucketNotificationConfiguration": "PutBucketNotification",
    "GetBucketReplication": "GetReplicationConfiguration",
    "PutBucketReplication": "PutReplicationConfiguration",
    "DeleteBucketReplication": "PutReplicationConfiguration",
    "GetObjectLockConfiguration": "GetBucketObjectLockConfiguration",
    "PutObjectLockConfiguration": "PutBucketObjectLockConfiguration",
    "GetPublicAccessBlock": "GetBucketPublicAccessBlock",
    "PutPublicAccessBlock": "PutBucketPublicAccessBlock",
    "DeletePublicAccessBlock": "PutBucketPublicAccessBlock",
    "DeleteBucketOwnershipControls": "PutBucketOwnershipControls",
    "DeleteBucketTagging": "PutBucketTagging",
}
_COPIES = frozenset({"CopyObject", "UploadPartCopy"})


def s3_needs(request: ServiceRequest, place: Place) -> list[Permission]:
    params = request.params
    action = "s3:" + ACTIONS.get(request.operation, request.operation)
    bucket, key = params.get("Bucket"), params.get("Key")
    if not bucket:
        return [(action, "*")]
    if request.operation == "DeleteObjects":
        return [(action, f"arn:aws:s3:::{bucket}/*")]
    resource = f"arn:aws:s3:::{bucket}" + (f"/{key}" if key else "")
    needs = [(action, resource)]
    source = params.get("x-amz-copy-source")
    if request.operation in _COPIES and isinstance(source, str):
        path = unquote(source.split("?versionId=")[0]).lstrip("/")
        needs.append(("s3:GetObject", f"arn:aws:s3:::{path}"))
    return needs
