"""The S3 requests that bulk copies and listings repeat, sent without
botocore's per-request machinery.

A copy of many small objects spends its CPU in botocore: ~2.2-3 ms a request
on this machine (event hooks, parameter validation and serialization,
endpoint rules, the User-Agent rebuilt, the model-driven parser), where the
request itself (sign, send, read) costs ~0.5-0.75 ms, near what a compiled
client (obstore) costs. This module sends the five requests that listings
and bulk copies repeat itself: ``ListObjectsV2``, ``HeadObject``, ranged
``GetObject``, ``PutObject`` of a body in memory and ``CopyObject``, signed
with SigV4 (``hmac``/``hashlib``; an upload's body is hashed into the
signature and carries its CRC32, as botocore sends it) and read by
:mod:`flowserv_fsspec.backends.s3_answers`.

Everything else stays botocore's, so nothing is configured twice: the
credentials (their chain and refresh), the endpoint, region and signing of a
bucket (its endpoint rules, resolved once per bucket), the HTTP session (its
pool, timeouts, socket factory, proxies and lifecycle), the typed connection
errors, the retry conditions and backoff of ``standard`` mode, and every other
request (multipart uploads, deletes, whole-object GETs). Answers come back in
botocore's shape and errors as botocore's ``ClientError``, so s3fs's error
translation applies unchanged.

A request takes this path only when it is plain (:func:`plain`,
:meth:`LeanRequests.takes`): its parameters are among :data:`LEAN_PARAMS`,
the bucket is signed with SigV4 for ``s3`` and needs no extra headers (not
an access point, Outposts or S3 Express), credentials are set, retries are
in ``standard`` mode and the HTTP session is aiohttp's. Any other request is
botocore's, as before.
"""
from __future__ import annotations

import asyncio
import base64
import datetime
import hashlib
import hmac
import logging
import zlib
from typing import Any, Dict, FrozenSet, NamedTuple, Optional, Tuple
from urllib.parse import quote, urlsplit

from flowserv_fsspec.backends.s3_answers import read_answer


logger = logging.getLogger(__name__)

LEAN_PARAMS: Dict[str, FrozenSet[str]] = {
    'get_object': frozenset({'Bucket', 'Key', 'Range', 'IfMatch'}),
    'head_object': frozenset({'Bucket', 'Key', 'IfMatch'}),
    'list_objects_v2': frozenset({
        'Bucket', 'Prefix', 'Delimiter', 'ContinuationToken', 'StartAfter', 'MaxKeys'
    }),
    'put_object': frozenset({'Bucket', 'Key', 'Body', 'Metadata', 'IfNoneMatch'}),
    'copy_object': frozenset({'Bucket', 'Key', 'CopySource'}),
}
"""The requests sent on the lean path and the parameters each may have. A
``GetObject`` must have a ``Range`` (a whole-object GET is botocore's, which
validates the object's checksum), a ``PutObject`` a body of bytes and ASCII
metadata, a ``CopyObject`` a source of bucket and key."""

OPERATIONS = {
    'get_object': 'GetObject', 'head_object': 'HeadObject', 'list_objects_v2': 'ListObjectsV2',
    'put_object': 'PutObject', 'copy_object': 'CopyObject',
}
"""botocore's name of each operation (errors and retry conditions use it)."""

LIST_QUERY = {
    'Prefix': 'prefix', 'Delimiter': 'delimiter', 'ContinuationToken': 'continuation-token',
    'StartAfter': 'start-after', 'MaxKeys': 'max-keys',
}
"""Query parameter of each ``ListObjectsV2`` parameter."""

EMPTY_SHA256 = hashlib.sha256(b'').hexdigest()
"""Payload hash of a request without a body."""


def plain(method: str, args: Tuple[Any, ...], kwargs: Dict[str, Any]) -> bool:
    """Tell whether a call of s3fs's ``_call_s3`` can take the lean path by
    its parameters alone (see :data:`LEAN_PARAMS`).
    """
    allowed = LEAN_PARAMS.get(method)
    if allowed is None or any(args) or not kwargs.keys() <= allowed:
        return False
    if method == 'get_object':
        return 'Range' in kwargs
    if method == 'put_object':
        return isinstance(kwargs.get('Body'), bytes) and all(
            header_safe(name) and header_safe(value)
            for name, value in kwargs.get('Metadata', {}).items()
        )
    if method == 'copy_object':
        source = kwargs['CopySource']
        return isinstance(source, dict) and source.keys() == {'Bucket', 'Key'}
    return True


def header_safe(value: Any) -> bool:
    """Tell whether a value can be sent as is in an HTTP header (printable ASCII)."""
    return isinstance(value, str) and value.isascii() and value.isprintable()


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
        now: datetime.datetime, body: bytes = b''
    ) -> None:
        """Add the SigV4 headers of a request to ``headers`` (every header
        given is signed, the host and the body's SHA-256 too).

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
        body: bytes, default=b''
            The request's body.
        """
        stamp = now.strftime('%Y%m%dT%H%M%SZ')
        payload = hashlib.sha256(body).hexdigest() if body else EMPTY_SHA256
        headers['x-amz-content-sha256'] = payload
        headers['x-amz-date'] = stamp
        if credentials.token:
            headers['x-amz-security-token'] = credentials.token
        signed = dict((name.lower(), value.strip()) for name, value in headers.items())
        signed['host'] = self.host
        names = ';'.join(sorted(signed))
        canonical = '\n'.join([
            method, path, query, ''.join(f'{name}:{signed[name]}\n' for name in sorted(signed)),
            names, payload,
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


class Request(NamedTuple):
    """One request's HTTP method, key path (below the bucket), canonical
    query, headers and body.
    """

    verb: str
    below: str
    query: str
    headers: Dict[str, str]
    body: bytes = b''


def request_of(method: str, params: Dict[str, Any]) -> Request:
    """Build a request from its parameters (as botocore takes them)."""
    headers: Dict[str, str] = {}
    for param, header in (('Range', 'Range'), ('IfMatch', 'If-Match'),
                          ('IfNoneMatch', 'If-None-Match')):
        if param in params:
            headers[header] = params[param]
    if method == 'list_objects_v2':
        query = {'list-type': '2', 'encoding-type': 'url'}
        query.update((LIST_QUERY[name], str(params[name])) for name in LIST_QUERY if name in params)
        return Request('GET', '', '&'.join(
            f"{quote(name, safe='-_.~')}={quote(value, safe='-_.~')}"
            for name, value in sorted(query.items())
        ), headers)
    below = '/' + quote(params['Key'], safe='/~')
    if method == 'put_object':
        body = params['Body']
        headers.update((f'x-amz-meta-{name}', value) for name, value in params.get(
            'Metadata', {}
        ).items())
        headers['x-amz-checksum-crc32'] = base64.b64encode(
            zlib.crc32(body).to_bytes(4, 'big')
        ).decode()
        return Request('PUT', below, '', headers, body)
    if method == 'copy_object':
        source = params['CopySource']
        headers['x-amz-copy-source'] = quote(f"{source['Bucket']}/{source['Key']}", safe='/~')
        return Request('PUT', below, '', headers)
    return Request('HEAD' if method == 'head_object' else 'GET', below, '', headers)


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
        request = request_of(method, params)
        path = (route.path + request.below) or '/'
        operation = OPERATIONS[method]
        model = self.client.meta.service_model.operation_model(operation)
        attempt = 0
        while True:
            attempt += 1
            response, failure = None, None
            try:
                response = await self._send(route, request, path, method == 'get_object')
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

    async def _send(self, route: Route, request: Request, path: str, stream: bool) -> Any:
        """Sign and send one attempt (``stream``: the answer's body is left to
        stream).
        """
        from botocore.awsrequest import AWSPreparedRequest  # type: ignore[import-untyped]

        sent = dict(request.headers)
        credentials = self.client._get_credentials()
        route.sign(
            request.verb, path, request.query, sent, await credentials.get_frozen_credentials(),
            datetime.datetime.now(datetime.timezone.utc), request.body
        )
        sent['User-Agent'] = 'flowserv-fsspec'  # not signed: proxies may change it
        return await self.client._endpoint.http_session.send(AWSPreparedRequest(
            request.verb, route.url(path, request.query), sent, request.body or None, stream
        ))
