"""How the lean S3 requests (:mod:`flowserv_fsspec.backends.s3_requests`)
read their answers, in botocore's shape: object answers from their headers,
listings and copies from their XML, errors as botocore reads them (a body's
code and message, else the status), and timestamps without dateutil
(:func:`parse_timestamp`, which botocore's parsers use too).

A listing page of 1,000 keys costs ElementTree ~30 ms of CPU (a tree of
7,000 elements); :func:`plain_listing` reads the few fields a listing needs
with regular expressions in ~10 ms, and only from a page in S3's plain form:
any other page (comments, CDATA, character references, prefixed names,
attributes, another namespace, a field it does not expect) is read by
ElementTree, as is any page that is not whole.
"""

from __future__ import annotations

import contextlib
import datetime
import email.utils
import functools
import re
import xml.etree.ElementTree as ElementTree
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import unquote_plus
from xml.sax.saxutils import unescape


XMLNS = '{http://s3.amazonaws.com/doc/2006-03-01/}'
"""Namespace of S3's XML answers."""


@functools.lru_cache(maxsize=1024)  # the objects of a listing share few times
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
    return page_answer(
        contents, prefixes, root.findtext(XMLNS + 'IsTruncated'),
        root.findtext(XMLNS + 'NextContinuationToken'),
    )


def page_answer(
    contents: List[Dict[str, Any]], prefixes: List[Dict[str, str]], truncated: Optional[str],
    token: Optional[str]
) -> Dict[str, Any]:
    """Put the read fields of a listing page in botocore's shape."""
    answer: Dict[str, Any] = {'IsTruncated': (truncated or 'false').lower() == 'true'}
    if contents:
        answer['Contents'] = contents
    if prefixes:
        answer['CommonPrefixes'] = prefixes
    if token:
        answer['NextContinuationToken'] = token
    return answer


PLAIN_PAGE = re.compile(
    rb'\s*(?:<\?xml[^>]*\?>)?\s*<ListBucketResult xmlns="'
    + XMLNS[1:-1].encode() + rb'">(.*)</ListBucketResult>\s*',
    re.S,
)
"""A whole listing page in S3's namespace, its body in group 1."""

PLAIN_ODD = re.compile(rb'<(?!/?[A-Za-z]+>)|<!|<\?|&#')
"""What a page in the plain form lacks: tags with attributes or prefixes,
comments, CDATA, processing instructions and character references."""

PLAIN_TOKEN = re.compile(rb'<(/?Contents|/?CommonPrefixes)>|<([A-Za-z]+)>([^<]*)</\2>')
"""An object or prefix opening or closing, or a field (its name and text)."""

ENTITIES = {'&quot;': '"', '&apos;': "'"}
"""XML's named entities beside ``&amp;``, ``&lt;`` and ``&gt;``."""


def plain_listing(body: bytes) -> Optional[Dict[str, Any]]:
    """Read a ``ListObjectsV2`` page in S3's plain form as :func:`listing_answer`
    reads its tree, or None for a page in any other form (see the module).
    """
    page = PLAIN_PAGE.fullmatch(body)
    if page is None or PLAIN_ODD.search(page.group(1)) is not None:
        return None
    top: Dict[bytes, bytes] = {}
    items: List[Dict[bytes, bytes]] = []
    prefixes: List[Dict[bytes, bytes]] = []
    fields = top
    for wrapper, name, text in PLAIN_TOKEN.findall(page.group(1)):
        if not wrapper:
            fields[name] = text
        elif (fields is top) == wrapper.startswith(b'/'):  # opened twice, or not opened
            return None
        elif fields is not top:
            fields = top
        else:
            fields = {}
            (items if wrapper == b'Contents' else prefixes).append(fields)
    if fields is not top or any(b'Key' not in item for item in items):
        return None
    contents = [listed_object(item) for item in items]
    return page_answer(
        contents, [{'Prefix': unquote_plus(plain_text(p.get(b'Prefix', b'')))} for p in prefixes],
        plain_text(top.get(b'IsTruncated', b'false')),
        plain_text(top[b'NextContinuationToken']) if b'NextContinuationToken' in top else None,
    )


def listed_object(fields: Dict[bytes, bytes]) -> Dict[str, Any]:
    """Read the fields of a listed object in the plain form as botocore would."""
    listed: Dict[str, Any] = {'Key': unquote_plus(plain_text(fields[b'Key']))}
    if b'Size' in fields:
        listed['Size'] = int(fields[b'Size'])
    if fields.get(b'LastModified'):
        listed['LastModified'] = parse_timestamp(plain_text(fields[b'LastModified']))
    etag = fields.get(b'ETag')
    listed['ETag'] = None if etag is None else plain_text(etag)
    return listed


def plain_text(text: bytes) -> str:
    """Decode the text of a plain field (UTF-8, its named entities replaced)."""
    decoded = text.decode('utf-8')
    return unescape(decoded, ENTITIES) if '&' in decoded else decoded


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
    if method == 'list_objects_v2':
        plain = plain_listing(await response.content)
        if plain is not None:
            return plain, None
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
