"""http(s):// volumes: fsspec's HTTP filesystem (read-only for most servers),
with the URL's credentials as basic auth and a bounded wait.
"""

from typing import Any, Dict, Optional

from flowserv_fsspec.backends import timeout_option


def http_options(
    options: Dict[str, Any], username: Optional[str], password: Optional[str]
) -> Dict[str, Any]:
    """Storage options of fsspec's HTTP filesystem: the credentials of the URL
    as basic auth, and the option ``timeout`` (connect and each read; aiohttp
    would wait 5 minutes for a silent server, fsspec's walk twice that).
    """
    import aiohttp  # fsspec[http]: imported when an http volume is built

    options = dict(options)
    timeout = timeout_option(options)
    client = dict(options.get('client_kwargs') or {})
    client.setdefault('timeout', aiohttp.ClientTimeout(sock_connect=timeout, sock_read=timeout))
    if username or password:
        client.setdefault('auth', aiohttp.BasicAuth(username or '', password or ''))
    options['client_kwargs'] = client
    return options
