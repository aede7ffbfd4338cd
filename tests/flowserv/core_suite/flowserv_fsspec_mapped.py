"""pytest plugin: flowserv-core's tests/volume with the flowserv.volume.* names
mapped onto flowserv_fsspec (and use_in_flowserv() active)."""
import flowserv.volume.base as base
import flowserv.volume.fs as fs
import flowserv.volume.gc as gc
import flowserv.volume.s3 as s3
import flowserv.volume.ssh as ssh

import flowserv_fsspec as ours
from flowserv_fsspec import use_in_flowserv


use_in_flowserv()
for module, names in (
    (base, {'IOHandle': ours.IOHandle, 'IOBuffer': ours.IOBuffer,
            'StorageVolume': ours.StorageVolume, 'copy_files': ours.copy_files}),
    (fs, {'FileSystemStorage': ours.LocalVolume, 'FStore': ours.FStore}),
    (s3, {'S3Volume': ours.S3Volume, 'S3File': ours.S3File, 'S3Bucket': ours.S3Bucket}),
    (gc, {'GCVolume': ours.GCVolume, 'GCBucket': ours.GCBucket}),
    (ssh, {'RemoteStorage': ours.RemoteStorage, 'Sftp': ours.Sftp}),
):
    for name, value in names.items():
        setattr(module, name, value)
