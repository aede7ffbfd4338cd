"""How the lean S3 requests (:mod:`flowserv_fsspec.backends.s3_requests`)
read their answers, in botocore's shape: object answers from their headers,
listings and copies from their XML (ElementTree), errors as botocore reads
them (a body's code and message, else the status), and timestamps without
dateutil (:func:`parse_timestamp`, which botocore's parsers use too).
"""

from __future__ import annotations

import contextlib
import datetime
import email.utils
import xml.etree.ElementTree as ElementTree
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import unquote_plus


XMLNS = '{http://s3.amazonaws.com/doc/2006-03-01/}'
"""Namespace of S3's XML answers."""


def parse_timestamp(value: Any) -> datetime.datetime:
    """Parse a timestamp of an S3 answer: the ISO 8601 form of listings and
    XML bodies (``2026-11-30T05:00:47.000Z``) with ``datetime.fromisoformat``,
    the HTTP dates of headers (``Mon, 30 Nov 2026 05:00:47 GMT``: every GET
    and HEAD) with ``email.utils``, any other (epoch seconds) with botocore's
    parser (dateutil: ~0.13 ms each).
    """
    parsed: Optional[datetime.datetime] = None
    if isinstance(value, str) and value.endswith('GMT'):
        with contextlib.suppress(TypeError, ValueError):
            parsed = email.utils.parsedate_to_datetime(value)
    elif isinstance(value, str) and 'T' in value:
        with contextlib.suppress(ValueError):
            parsed = datetime.datetime.fromisoformat(value.replace('Z', '+00:00'))
    if parsed is not None and parsed.tzinfo is not None:
        return parsed
    from botocore.utils import parse_timestamp as botocore_parse  # type: ignore[import-untyped]
    parsed_otherwise: datetime.datetime = botocore_parse(value)
    return parsed_otherwise


def error_of(status: int, body: bytes) -> Dict[str, Any]:
    """Read an error answer as botocore does: the code and message of its XML
    body, else (a HEAD has no body) the status as the code.
    """
    error = {'Code': str(status), 'Message': ''}
    with contextlib.suppress(ElementTree.ParseError):
        root = ElementTree.fromstring(body)
        for field in ('Code', 'Message', 'Condition'):
            found = root.find(field)
            if found is not None and found.text:
                error[field] = found.text
    return {'Error': error, 'ResponseMetadata': {'HTTPStatusCode': status}}


def object_answer(headers: Dict[str, str]) -> Dict[str, Any]:
    """Read the fields of a HEAD or GET answer that this library uses, named
    as botocore names them.
    """
    answer: Dict[str, Any] = {
        'ContentLength': int(headers.get('content-length', 0)),
        'ETag': headers.get('etag'),
        'Metadata': {
            name[11:]: value for name, value in headers.items() if name.startswith('x-amz-meta-')
        },
    }
    if 'last-modified' in headers:
        answer['LastModified'] = parse_timestamp(headers['last-modified'])
    for header, field in (('content-range', 'ContentRange'), ('x-amz-version-id', 'VersionId')):
        if header in headers:
            answer[field] = headers[header]
    return answer


def listing_answer(root: ElementTree.Element) -> Dict[str, Any]:
    """Read a ``ListObjectsV2`` page (keys URL-encoded, as asked) as botocore
    would: ``Contents`` (``Key``, ``Size``, ``LastModified``, ``ETag``),
    ``CommonPrefixes``, ``IsTruncated``, ``NextContinuationToken``.
    """
    contents: List[Dict[str, Any]] = []
    for item in root.iterfind(XMLNS + 'Contents'):
        listed: Dict[str, Any] = {'Key': unquote_plus(item.findtext(XMLNS + 'Key', ''))}
        size = item.findtext(XMLNS + 'Size')
        if size is not None:
            listed['Size'] = int(size)
        modified = item.findtext(XMLNS + 'LastModified')
        if modified:
            listed['LastModified'] = parse_timestamp(modified)
        listed['ETag'] = item.findtext(XMLNS + 'ETag')
        contents.append(listed)
    prefixes = [
        {'Prefix': unquote_plus(item.findtext(XMLNS + 'Prefix', ''))}
        for item in root.iterfind(XMLNS + 'CommonPrefixes')
    ]
    answer: Dict[str, Any] = {
        'IsTruncated': root.findtext(XMLNS + 'IsTruncated', 'false').lower() == 'true',
    }
    if contents:
        answer['Contents'] = contents
    if prefixes:
        answer['CommonPrefixes'] = prefixes
    token = root.findtext(XMLNS + 'NextContinuationToken')
    if token:
        answer['NextContinuationToken'] = token
    return answer


def copy_result(root: ElementTree.Element) -> Dict[str, Any]:
    """Read a ``CopyObjectResult`` (its elements with S3's namespace or none)."""
    result: Dict[str, Any] = {}
    for field in ('ETag', 'LastModified'):
        text = root.findtext(XMLNS + field) or root.findtext(field)
        if text:
            result[field] = parse_timestamp(text) if field == 'LastModified' else text
    return result


def parsed_page(body: bytes) -> ElementTree.Element:
    """Parse an answer's XML body; one that is not XML is botocore's
    ``ResponseParserError`` (which s3fs retries).
    """
    try:
        return ElementTree.fromstring(body)
    except ElementTree.ParseError as error:
        from botocore.parsers import ResponseParserError  # type: ignore[import-untyped]
        raise ResponseParserError(f'an answer that is not XML: {error}') from error


async def read_answer(
    method: str, response: Any
) -> Tuple[Optional[Dict[str, Any]], Optional[Dict[str, Any]]]:
    """Read an HTTP answer as botocore would: the answer, or the error (S3
    may answer a listing or a copy with 200 and an error, which botocore
    takes as a 500).
    """
    from aiobotocore.response import AioStreamingBody  # type: ignore[import-untyped]

    if response.status_code >= 300:
        return None, error_of(response.status_code, await response.content)
    if method in ('list_objects_v2', 'copy_object'):
        page = parsed_page(await response.content)
        if page.tag == 'Error':
            return None, error_of(500, await response.content)
        if method == 'copy_object':
            return {'CopyObjectResult': copy_result(page)}, None
        return listing_answer(page), None
    answer = object_answer(response.headers)
    if method == 'get_object':
        answer['Body'] = AioStreamingBody(response.raw, answer['ContentLength'])
    return answer, None
