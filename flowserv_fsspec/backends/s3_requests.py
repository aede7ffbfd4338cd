"""The S3 requests that listings and bulk reads make most, sent without
botocore's per-request machinery.

A copy of many small objects spends its CPU in botocore: ~2.2 ms a GET on
this machine (event hooks, parameter validation and serialization, endpoint
rules, the User-Agent rebuilt, the model-driven parser), where the request
itself (sign, send, read) costs ~0.5 ms, what a compiled client (obstore)
costs. This module sends the three requests that a listing and a bulk read
repeat, ``ListObjectsV2``, ``HeadObject`` and ranged ``GetObject``, itself:
SigV4 signing with ``hmac``/``hashlib``, the answer read from its headers
or, for listings, with ElementTree.

Everything else stays botocore's, so nothing is configured twice: the
credentials (their chain and refresh), the endpoint, region and signing of a
bucket (its endpoint rules, resolved once per bucket), the HTTP session (its
pool, timeouts, socket factory, proxies and lifecycle), the typed connection
errors, the retry conditions and backoff of ``standard`` mode, and every other
request. Answers come back in botocore's shape and errors as botocore's
``ClientError``, so s3fs's error translation applies unchanged.

A request takes this path only when it is plain (:meth:`LeanRequests.takes`):
its parameters are among :data:`LEAN_PARAMS`, the bucket is signed with SigV4
for ``s3`` and needs no extra headers (not an access point, Outposts or S3
Express), credentials are set, retries are in ``standard`` mode and the HTTP
session is aiohttp's. Any other request is botocore's, as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import email.utils
import hashlib
import hmac
import logging
import xml.etree.ElementTree as ElementTree
from typing import Any, Dict, FrozenSet, List, Optional, Tuple
from urllib.parse import quote, unquote_plus, urlsplit


logger = logging.getLogger(__name__)

LEAN_PARAMS: Dict[str, FrozenSet[str]] = {
    'get_object': frozenset({'Bucket', 'Key', 'Range', 'IfMatch'}),
    'head_object': frozenset({'Bucket', 'Key', 'IfMatch'}),
    'list_objects_v2': frozenset({
        'Bucket', 'Prefix', 'Delimiter', 'ContinuationToken', 'StartAfter', 'MaxKeys'
    }),
}
"""The requests sent on the lean path and the parameters each may have. A
``GetObject`` must have a ``Range``: a whole-object GET is botocore's, which
validates the object's checksum."""

OPERATIONS = {
    'get_object': 'GetObject', 'head_object': 'HeadObject', 'list_objects_v2': 'ListObjectsV2'
}
"""botocore's name of each operation (errors and retry conditions use it)."""

LIST_QUERY = {
    'Prefix': 'prefix', 'Delimiter': 'delimiter', 'ContinuationToken': 'continuation-token',
    'StartAfter': 'start-after', 'MaxKeys': 'max-keys',
}
"""Query parameter of each ``ListObjectsV2`` parameter."""

EMPTY_SHA256 = hashlib.sha256(b'').hexdigest()
"""Payload hash of a request without a body."""

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


def plain(method: str, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> bool:
    """Tell whether a call of s3fs's ``_call_s3`` can take the lean path by
    its parameters alone (see :data:`LEAN_PARAMS`).
    """
    allowed = LEAN_PARAMS.get(method)
    return (
        allowed is not None and not any(args) and kwargs.keys() <= allowed
        and (method != 'get_object' or 'Range' in kwargs)
    )


def canonical_host(url: str) -> str:
    """Give the host that a request to ``url`` is signed for (no default port)."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition('@')[2].lower()
    if parts.port is not None and parts.port == {'http': 80, 'https': 443}.get(parts.scheme):
        host = host.rsplit(':', 1)[0]
    return host


class Route:
    """Where the requests for one bucket go and how they are signed: the
    bucket's URL from botocore's endpoint rules (path- or host-style), its
    signing region, and the signing key of the day (derived once a day).
    """

    __slots__ = ('origin', 'host', 'path', 'region', '_key')

    def __init__(self, url: str, region: str):
        """Initialize with the bucket's URL and signing region."""
        parts = urlsplit(url)
        self.origin = f'{parts.scheme}://{parts.netloc}'
        self.host = canonical_host(url)
        self.path = parts.path.rstrip('/')
        self.region = region
        self._key: Tuple[str, str, bytes] = ('', '', b'')

    def url(self, path: str, query: str) -> str:
        """Give the URL of a request from its path (below the host) and query."""
        return self.origin + path + (f'?{query}' if query else '')

    def signing_key(self, secret: str, day: str) -> bytes:
        """Derive the SigV4 key of a day (kept for the day and secret)."""
        if self._key[:2] != (secret, day):
            key = hmac.new(f'AWS4{secret}'.encode(), day.encode(), hashlib.sha256).digest()
            for part in (self.region, 's3', 'aws4_request'):
                key = hmac.new(key, part.encode(), hashlib.sha256).digest()
            self._key = (secret, day, key)
        return self._key[2]

    def sign(
        self, method: str, path: str, query: str, headers: Dict[str, str], credentials: Any,
        now: datetime.datetime
    ) -> None:
        """Add the SigV4 headers of a request without a body to ``headers``
        (every header given is signed, the host too).

        Parameters
        ----------
        method: string
            HTTP method.
        path: string
            The URL's path as sent (S3 signs it without a second encoding).
        query: string
            The canonical query string (sorted, encoded).
        headers: dict
            Headers to send; the signature's are added.
        credentials: botocore ReadOnlyCredentials
            Access key, secret key and token.
        now: datetime.datetime
            The time of the request (UTC).
        """
        stamp = now.strftime('%Y%m%dT%H%M%SZ')
        headers['x-amz-content-sha256'] = EMPTY_SHA256
        headers['x-amz-date'] = stamp
        if credentials.token:
            headers['x-amz-security-token'] = credentials.token
        signed = dict((name.lower(), value.strip()) for name, value in headers.items())
        signed['host'] = self.host
        names = ';'.join(sorted(signed))
        canonical = '\n'.join([
            method, path, query, ''.join(f'{name}:{signed[name]}\n' for name in sorted(signed)),
            names, EMPTY_SHA256,
        ])
        scope = f'{stamp[:8]}/{self.region}/s3/aws4_request'
        to_sign = '\n'.join([
            'AWS4-HMAC-SHA256', stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()
        ])
        key = self.signing_key(credentials.secret_key, stamp[:8])
        signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        headers['Authorization'] = (
            f'AWS4-HMAC-SHA256 Credential={credentials.access_key}/{scope}, '
            f'SignedHeaders={names}, Signature={signature}'
        )


def request_of(method: str, params: Dict[str, Any]) -> Tuple[str, str, str, Dict[str, str]]:
    """Build a request's HTTP method, key path (below the bucket), canonical
    query and headers from its parameters.
    """
    headers: Dict[str, str] = {}
    if 'Range' in params:
        headers['Range'] = params['Range']
    if 'IfMatch' in params:
        headers['If-Match'] = params['IfMatch']
    if method == 'list_objects_v2':
        query = {'list-type': '2', 'encoding-type': 'url'}
        query.update((LIST_QUERY[name], str(params[name])) for name in LIST_QUERY if name in params)
        return 'GET', '', '&'.join(
            f"{quote(name, safe='-_.~')}={quote(value, safe='-_.~')}"
            for name, value in sorted(query.items())
        ), headers
    return (
        'HEAD' if method == 'head_object' else 'GET',
        '/' + quote(params['Key'], safe='/~'), '', headers
    )


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


def parsed_page(body: bytes) -> ElementTree.Element:
    """Parse an answer's XML body; one that is not XML is botocore's
    ``ResponseParserError`` (which s3fs retries).
    """
    try:
        return ElementTree.fromstring(body)
    except ElementTree.ParseError as error:
        from botocore.parsers import ResponseParserError  # type: ignore[import-untyped]
        raise ResponseParserError(f'an answer that is not XML: {error}') from error


class LeanRequests:
    """The lean path of one botocore (aiobotocore) S3 client: which requests
    may take it (:meth:`takes`) and sending them (:meth:`call`).
    """

    def __init__(self, client: Any):
        """Initialize with the client whose configuration, credentials and
        HTTP session the requests use.
        """
        from aiobotocore.httpsession import AIOHTTPSession  # type: ignore[import-untyped]
        from botocore import UNSIGNED  # type: ignore[import-untyped]
        from botocore.retries import standard  # type: ignore[import-untyped]

        self.client = client
        config = client.meta.config
        retries = config.retries or {}
        attempts = retries.get('total_max_attempts') or retries.get('max_attempts', 2) + 1
        self.policy = standard.RetryPolicy(
            standard.StandardRetryConditions(max_attempts=attempts), standard.ExponentialBackoff()
        )
        self.usable = (
            retries.get('mode') == 'standard' and config.signature_version is not UNSIGNED
            and type(client._endpoint.http_session) is AIOHTTPSession
        )
        self.routes: Dict[str, Optional[Route]] = {}

    async def takes(self, bucket: str) -> bool:
        """Tell whether a plain request (see :func:`plain`) for ``bucket``
        takes the lean path: the client's configuration allows it and the
        bucket's endpoint is signed with SigV4 for ``s3`` and needs no extra
        headers (resolved once per bucket).
        """
        if not self.usable:
            return False
        if bucket not in self.routes:
            self.routes[bucket] = await self._route(bucket)
        return self.routes[bucket] is not None

    async def _route(self, bucket: str) -> Optional[Route]:
        """Resolve a bucket's URL and signing with botocore's endpoint rules."""
        model = self.client.meta.service_model.operation_model('ListObjectsV2')
        context: Dict[str, Any] = {
            'client_region': self.client.meta.region_name,
            'client_config': self.client.meta.config,
            'auth_type': model.resolved_auth_type,
        }
        url, headers, _ = await self.client._resolve_endpoint_ruleset(
            model, {'Bucket': bucket}, context
        )
        signing = context.get('signing', {})
        if headers or context.get('auth_type') not in ('v4', 's3v4') or signing.get(
            'signing_name', 's3'
        ) != 's3':
            return None
        return Route(url, signing.get('region') or self.client.meta.region_name)

    async def call(self, method: str, params: Dict[str, Any]) -> Dict[str, Any]:
        """Send a request that :meth:`takes`, retried as botocore's
        ``standard`` mode retries (a debug line each time).

        Parameters
        ----------
        method: string
            s3fs's name of the operation (a key of :data:`LEAN_PARAMS`).
        params: dict
            Its parameters, as botocore takes them.

        Returns
        -------
        dict
            The answer in botocore's shape (a GET's ``Body`` streams).

        Raises
        ------
        botocore.exceptions.ClientError
            For an error answer.
        botocore.exceptions.HTTPClientError
            When the connection failed or timed out.
        """
        from botocore.exceptions import ClientError, HTTPClientError  # type: ignore[import-untyped]
        from botocore.retries.standard import RetryContext  # type: ignore[import-untyped]

        route = self.routes[params['Bucket']]
        assert route is not None, 'call() of a request that takes() refused'
        verb, below, query, headers = request_of(method, params)
        path = (route.path + below) or '/'
        operation = OPERATIONS[method]
        model = self.client.meta.service_model.operation_model(operation)
        attempt = 0
        while True:
            attempt += 1
            response, failure = None, None
            try:
                response = await self._send(route, verb, path, query, headers, method)
                answer, error = await read_answer(method, response)
            except HTTPClientError as raised:
                answer, error, failure = None, None, raised
            if answer is not None:
                return answer
            context = RetryContext(attempt, model, error, response, failure)
            if not self.policy.should_retry(context):
                raise failure or ClientError(error, operation)
            delay = self.policy.compute_retry_delay(context)
            logger.debug(
                'retrying %s of %r (attempt %d) in %.2f s after %s', operation,
                params.get('Key', params.get('Prefix', '')), attempt + 1, delay,
                failure or (error or {}).get('Error', {}).get('Code')
            )
            await asyncio.sleep(delay)

    async def _send(
        self, route: Route, verb: str, path: str, query: str, headers: Dict[str, str],
        method: str
    ) -> Any:
        """Sign and send one attempt (a GET's body is left to stream)."""
        from botocore.awsrequest import AWSPreparedRequest  # type: ignore[import-untyped]

        sent = dict(headers)
        credentials = self.client._get_credentials()
        route.sign(
            verb, path, query, sent, await credentials.get_frozen_credentials(),
            datetime.datetime.now(datetime.timezone.utc)
        )
        sent['User-Agent'] = 'flowserv-fsspec'  # not signed: proxies may change it
        return await self.client._endpoint.http_session.send(AWSPreparedRequest(
            verb, route.url(path, query), sent, None, method == 'get_object'
        ))


async def read_answer(
    method: str, response: Any
) -> Tuple[Optional[Dict[str, Any]], Optional[Dict[str, Any]]]:
    """Read an HTTP answer as botocore would: the answer, or the error (S3
    may answer a listing with 200 and an error).
    """
    from aiobotocore.response import AioStreamingBody  # type: ignore[import-untyped]

    if response.status_code >= 300:
        return None, error_of(response.status_code, await response.content)
    if method == 'list_objects_v2':
        page = parsed_page(await response.content)
        if page.tag == 'Error':
            return None, error_of(500, await response.content)
        return listing_answer(page), None
    answer = object_answer(response.headers)
    if method == 'get_object':
        answer['Body'] = AioStreamingBody(response.raw, answer['ContentLength'])
    return answer, None
