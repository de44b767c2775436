#!/usr/bin/env python3
"""Uploads one file with the official Frame.io Python SDK (PyPI `frameio`,
its `FrameioUploader`), the peer in `scripts/bench-upload.sh`. Times the same
work as `examples/bench_upload.rs`: create the placeholder (`local_upload`)
and PUT every part. Prints one JSON line."""
import argparse
import json
import os
import resource
import time

from frameio import Frameio
from frameio.files import FileCreateLocalUploadParamsData
from frameio.upload import FrameioUploader

parser = argparse.ArgumentParser()
parser.add_argument("--base-url", required=True)
parser.add_argument("--token", required=True)
parser.add_argument("--account", required=True)
parser.add_argument("--folder", required=True)
parser.add_argument("--parallel", type=int, default=5)
parser.add_argument("file")
args = parser.parse_args()

size = os.path.getsize(args.file)
client = Frameio(base_url=args.base_url, token=args.token)
started = time.perf_counter()
created = client.files.create_local_upload(
    account_id=args.account,
    folder_id=args.folder,
    data=FileCreateLocalUploadParamsData(name=os.path.basename(args.file), file_size=size),
)
with open(args.file, "rb") as f:
    FrameioUploader(created.data, f, max_workers=args.parallel).upload()
seconds = time.perf_counter() - started
print(json.dumps({
    "uploader": "frameio-python-sdk",
    "file_id": created.data.id,
    "bytes": size,
    "seconds": seconds,
    # Linux: kibibytes.
    "max_rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
}))
