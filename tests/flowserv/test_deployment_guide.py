"""The deployment guide (docs/deployment.md), run as written: flowserv's own
command line in subprocesses, its run store on moto's S3 server over HTTP
(and on the GCS emulator), each command printing what the page shows."""

import shutil
from pathlib import Path

from transcript import Transcript, base_environment, console_blocks

from flowserv_fsspec.testing.moto_server import MotoS3Server


GUIDE = Path(__file__).parent.parent.parent / 'docs' / 'deployment.md'
TEMPLATE = Path(__file__).parent.parent / 'workflow' / 'wordcount'
SETUP = 'Switch it on'
GCS = 'On Google Cloud Storage'


def transcript(tmp_path, **env):
    """A folder with the guide's template, and a shell environment of its
    own (home folder included: flowserv's default store is below it)."""
    cwd = tmp_path / 'deploy'
    shutil.copytree(TEMPLATE, cwd / 'wordcount')
    return Transcript(cwd, {**base_environment(tmp_path / 'home'), **env})


def run_sections(script, keep):
    blocks = [(heading, steps) for heading, steps in console_blocks(GUIDE) if keep(heading)]
    assert blocks
    for _, steps in blocks:
        for command, expected in steps:
            script.run(command, expected)


def test_the_guide_from_init_to_archives_on_s3(tmp_path):
    """Every command of the guide but the GCS section, in order: a deployment
    on local disk, its store moved to a bucket with sync, old runs served
    from the bucket, new runs on it, and the errors."""
    with MotoS3Server() as server:
        server.create_buckets('flowserv-runs')
        script = transcript(
            tmp_path, AWS_ENDPOINT_URL=server.endpoint_url, AWS_ACCESS_KEY_ID='testing',
            AWS_SECRET_ACCESS_KEY='testing', AWS_DEFAULT_REGION='us-east-1',
            AWS_EC2_METADATA_DISABLED='true',
        )
        run_sections(script, lambda heading: heading != GCS)
    # What the guide shows, checked beyond its printed lines: the local store
    # is gone and nothing of the runs stayed in the worker folder.
    assert not (tmp_path / 'home' / '.cache' / 'flowserv').exists()
    assert [p for p in (script.cwd / 'work').rglob('*') if p.is_file()] == []


def test_the_guides_fresh_deployment_on_gcs(tmp_path, gcs_server):
    from gcsfs.core import GCSFileSystem
    GCSFileSystem(skip_instance_cache=True, token='anon', project='test-project').mkdir(
        'flowserv-runs')
    script = transcript(tmp_path)
    run_sections(script, lambda heading: heading in (SETUP, GCS))
