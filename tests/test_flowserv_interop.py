"""Interoperability with flowserv-core 0.9.4: its copy_files and volumes on
ours, ours on its volumes, and its documents through our factory."""

import io

from flowserv.volume.base import IOBuffer as FlowservIOBuffer
from flowserv.volume.base import copy_files as flowserv_copy_files
from flowserv.volume.fs import FileSystemStorage
from flowserv.volume.fs import FStore as FlowservFStore
from flowserv.volume.s3 import S3Bucket as FlowservS3Bucket

from flowserv_fsspec import LocalVolume, S3Volume, Volume, copy_files
from flowserv_fsspec.testing import files_of, put


RUN = {'a.txt': b'1', 'sub/b.txt': b'22', 'sub/deeper/c.txt': b'333'}


def test_flowserv_copy_files_moves_files_between_our_volumes(make_volume):
    source, target = make_volume('s3'), make_volume('local')
    for key, data in RUN.items():
        put(source, key, data)
    copied = flowserv_copy_files(src=None, source=source, dst='out', target=target)
    assert sorted(copied) == sorted(f'out/{key}' for key in RUN)
    assert files_of(target) == {f'out/{key}': data for key, data in RUN.items()}
    flowserv_copy_files(src='sub/b.txt', source=source, dst='single.txt', target=target)
    assert target.load('single.txt').size() == 2


def test_our_copy_files_with_flowserv_volumes(tmp_path, make_volume):
    theirs = FileSystemStorage(basedir=str(tmp_path / 'theirs'))
    for key, data in RUN.items():
        theirs.store(FlowservIOBuffer(io.BytesIO(data)), key)
    ours = make_volume('s3')
    assert sorted(copy_files(None, theirs, None, ours)) == sorted(RUN)
    back = FileSystemStorage(basedir=str(tmp_path / 'back'))
    copy_files('sub', ours, 'restored', back)
    assert sorted(key for key, _ in back.walk('')) == ['restored/b.txt', 'restored/deeper/c.txt']


def test_flowserv_documents_load_and_round_trip(tmp_path, bucket):
    for doc, cls in [(FlowservFStore(str(tmp_path), 'fs-1'), LocalVolume),
                     (FlowservS3Bucket(bucket, 'runs', 's3-1'), S3Volume),
                     (FlowservS3Bucket(bucket, None, 's3-2'), S3Volume)]:
        volume = Volume(doc)
        assert type(volume) is cls
        assert volume.to_dict() == doc


def test_document_without_id_gets_a_generated_one_like_flowserv(bucket):
    doc = Volume(FlowservS3Bucket(bucket, None, None)).to_dict()
    assert len(doc['id']) == 32
    assert doc == FlowservS3Bucket(bucket, None, doc['id'])
