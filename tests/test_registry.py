"""Selection of volumes by URL and by document; typed configuration errors."""

import zipfile

import fsspec

from flowserv_fsspec import (
    FsspecStore,
    FsspecVolume,
    LocalVolume,
    MemoryVolume,
    S3Volume,
    Volume,
    from_url,
    register,
)
from flowserv_fsspec.testing import files_of, put


def test_memory_url_gives_a_memory_volume_that_round_trips():
    volume = from_url('memory://registry-test/root', identifier='m1')
    assert type(volume) is MemoryVolume
    put(volume, 'x.txt', b'1')
    assert volume.to_dict() == FsspecStore('memory:///registry-test/root', 'm1')
    assert files_of(Volume(volume.to_dict())) == {'x.txt': b'1'}


def test_other_fsspec_protocols_use_the_generic_volume(tmp_path):
    assert isinstance(from_url(f'local://{tmp_path}'), LocalVolume)
    zip_path = tmp_path / 'a.zip'
    with zipfile.ZipFile(zip_path, 'w') as z:
        z.writestr('inner/data.txt', b'zipped')
    zipped = from_url('zip://', fo=str(zip_path))
    assert type(zipped) is FsspecVolume
    assert files_of(zipped) == {'inner/data.txt': b'zipped'}


def test_registered_class_is_selected_by_url_and_document():
    class Scratch(FsspecVolume):
        """A plugged-in backend: memory under another protocol and type."""

        @classmethod
        def from_url(cls, url, identifier=None, **options):
            return cls(fsspec.filesystem('memory'), '/scratch/' + url.split('://')[1], identifier)

        def to_dict(self):
            return {'type': 'scratch', 'id': self.identifier,
                    'args': [{'key': 'url', 'value': 'scratch://' + self.root[len('/scratch/'):]}]}

        @classmethod
        def from_dict(cls, doc):
            return cls.from_url(doc['args'][0]['value'], identifier=doc['id'])

    register(Scratch, protocols=['scratch'], doc_type='scratch')
    volume = from_url('scratch://area')
    assert type(volume) is Scratch
    put(volume, 'f.txt', b'1')
    again = Volume(volume.to_dict())
    assert type(again) is Scratch and files_of(again) == {'f.txt': b'1'}


def test_s3_url_selects_s3_volume(bucket):
    assert isinstance(from_url(f's3://{bucket}/p'), S3Volume)
