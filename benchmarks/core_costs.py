"""Request and byte costs of basic volume operations on moto's S3 server.

Run: ``python benchmarks/core_costs.py [--files N] [--mib M] [--json FILE]``
(needs the ``test`` extra). Prints one table row per operation: requests
by method and payload bytes through the client, for this library and, when
flowserv-core is installed, for flowserv's own S3Volume on the same server.
"""

import argparse
import json
import os
import time
import uuid

from s3fs import S3FileSystem

from flowserv_fsspec import S3Volume
from flowserv_fsspec.moto_server import MotoS3Server


def measure(server, name, impl, func):
    server.counter.reset()
    start = time.perf_counter()
    detail = func()
    row = dict(server.counter.snapshot(), op=name, impl=impl,
               seconds=round(time.perf_counter() - start, 3), detail=detail)
    return row


def workloads(server, client, files, mib):
    bucket = server.create_buckets('bench-' + uuid.uuid4().hex[:8])[0]
    client.pipe_file(f'{bucket}/big.bin', b'\0' * (mib * 1024 * 1024))
    client.pipe({f'{bucket}/many/f{i:05d}.txt': b'x' * 64 for i in range(files)})
    siblings = {f'{bucket}/tree/{d}/f{i}.txt': b'y' for d in ['d0'] + [f'd0{j}' for j in range(10)]
                for i in range(20)}
    client.pipe(siblings)
    ours = S3Volume(bucket)
    impls = [('flowserv_fsspec', ours)]
    try:
        from flowserv.volume.s3 import S3Volume as FlowservS3Volume
        impls.append(('flowserv-core', FlowservS3Volume(bucket)))
    except ImportError:
        pass
    rows = []
    for impl, volume in impls:
        rows.append(measure(server, f'size() of a {mib} MiB object', impl,
                            lambda v=volume: v.load('big.bin').size()))
        rows.append(measure(server, f'walk {files} files + size()', impl,
                            lambda v=volume: len([h.size() for _, h in v.walk('many')])))
    for impl, volume in impls:
        # the objects removed are counted after the measurement, not within it
        client.pipe(siblings)
        row = measure(server, "delete('tree/d0'), siblings d00..d09", impl,
                      lambda v=volume: v.delete('tree/d0'))
        row['detail'] = f"{len(siblings) - len(client.find(f'{bucket}/tree'))} removed"
        rows.append(row)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--files', type=int, default=1000)
    parser.add_argument('--mib', type=int, default=16)
    parser.add_argument('--json', help='write the rows as JSON to this file')
    args = parser.parse_args()
    with MotoS3Server() as server:
        env = {'AWS_ACCESS_KEY_ID': 'testing', 'AWS_SECRET_ACCESS_KEY': 'testing',
               'AWS_DEFAULT_REGION': 'us-east-1', 'AWS_ENDPOINT_URL': server.endpoint_url}
        os.environ.update(env)
        client = S3FileSystem(skip_instance_cache=True, **server.storage_options())
        rows = workloads(server, client, args.files, args.mib)
    print(f"{'operation':<40} {'library':<16} {'requests':>8} {'methods':<24} "
          f"{'bytes down':>12} {'seconds':>8} {'result':>10}")
    for r in rows:
        methods = ','.join(f'{k}:{v}' for k, v in sorted(r['methods'].items()))
        print(f"{r['op']:<40} {r['impl']:<16} {r['requests']:>8} {methods:<24} "
              f"{r['bytes_out']:>12,} {r['seconds']:>8.3f} {r['detail']!s:>10}")
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(rows, f, indent=2)


if __name__ == '__main__':
    main()
