"""How the SDK reaches its Runboard server: where the server is, requests and answers,
uploads, and the server's errors as the SDK's exceptions. Standard library only, so the
package runs in any CPython and in the browser's kernel.

The server is found as the `runboard` CLI finds it: `RUNBOARD_URL` and `RUNBOARD_TOKEN`,
else the client config that the last `runboard serve` on this machine wrote
(`$RUNBOARD_CONFIG`, else `$XDG_CONFIG_HOME/runboard/client.json`, else
`~/.config/runboard/client.json`). Inside a run, `RUNBOARD_URL` and the run's own token
(`RUNBOARD_RUN_TOKEN`) are set.
"""

import json
import os
import socket
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid

from azureml.exceptions import (
    RunboardConnectionError,
    ServiceException,
    UserErrorException,
)

# Seconds a request may take; a long poll asks the server to answer well before.
TIMEOUT = 60

# In the notebook's browser kernel (Pyodide) requests go through `_browser`.
IN_BROWSER = sys.platform == "emscripten"

# Called before each request that is not a GET or HEAD, when set: the notebook kernel
# pushes the files a cell has written so far to the server's files area, before any
# request that may make the server read them.
before_write = None

# Seconds a long poll (`/events?wait=`) may wait for news.
LONG_POLL = 25
if IN_BROWSER:
    from azureml._browser import LONG_POLL  # noqa: F811


def config_path():
    """Where `runboard serve` writes the client config."""
    if os.environ.get("RUNBOARD_CONFIG"):
        return os.environ["RUNBOARD_CONFIG"]
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "runboard", "client.json")


class Endpoint:
    """A Runboard server: its URL, a token, and where the URL came from."""

    def __init__(self, url, token, source):
        self.url = url.rstrip("/")
        self.token = token
        self.source = source

    @classmethod
    def resolve(cls):
        """The server from the environment, else from the client config file."""
        url = os.environ.get("RUNBOARD_URL")
        token = os.environ.get("RUNBOARD_TOKEN") or os.environ.get("RUNBOARD_RUN_TOKEN")
        if url and token:
            return cls(url, token, "the RUNBOARD_URL environment variable")
        if IN_BROWSER and not url:
            from azureml import _browser

            return cls(_browser.origin(), "", "the notebook page")
        path = config_path()
        try:
            with open(path, encoding="utf-8") as f:
                saved = json.load(f)
        except (OSError, ValueError):
            saved = {}
        if url:
            return cls(url, token or saved.get("token", ""), "the RUNBOARD_URL environment variable")
        if saved.get("url"):
            return cls(
                saved["url"],
                token or saved.get("token", ""),
                "the client config {}, written by the last `runboard serve`".format(path),
            )
        raise UserErrorException(
            "No Runboard server is configured: set RUNBOARD_URL and RUNBOARD_TOKEN (`runboard "
            "token` prints the login URL, whose token= part is the token), or start "
            "`runboard serve` on this machine once (it writes {}).".format(path)
        )

    def unreachable(self, cause):
        """The error for a server that does not answer."""
        return RunboardConnectionError(
            "Could not reach the Runboard server at {} ({}). That URL came from {}. Start "
            "that server again, or point the SDK at another one with RUNBOARD_URL and "
            "RUNBOARD_TOKEN.".format(self.url, cause, self.source)
        )

    def send(self, method, path, body=None, content_type=None, query=None, timeout=TIMEOUT):
        """Sends a request; returns `(status, bytes)` whatever the status. A server that
        does not answer raises `RunboardConnectionError`, naming it and where its URL
        came from. In the notebook's browser kernel the request is the page's
        (`azureml._browser`: same origin, the session cookie)."""
        url = self.url + path
        if query:
            url += "?" + urllib.parse.urlencode(query)
        if method not in ("GET", "HEAD") and before_write is not None:
            before_write()
        headers = {"Authorization": "Bearer " + self.token} if self.token else {}
        if IN_BROWSER:
            from azureml import _browser

            try:
                return _browser.send(method, url, body, content_type, timeout, headers)
            except ConnectionError as e:
                raise self.unreachable(e) from None
        request = urllib.request.Request(url, data=body, method=method, headers=headers)
        if content_type:
            request.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                return answer.status, answer.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()
        except urllib.error.URLError as e:
            raise self.unreachable(e.reason) from None
        except (socket.timeout, TimeoutError):
            raise self.unreachable("no answer in {} s".format(timeout)) from None
        except ConnectionError as e:
            raise self.unreachable(e) from None

    def request(self, method, path, body=None, content_type=None, query=None, timeout=TIMEOUT):
        """Sends a request; returns the answer's bytes. Errors become the SDK's
        exceptions, naming what the server said."""
        status, data = self.send(method, path, body, content_type, query, timeout)
        if status >= 400:
            raise error_from(status, data)
        return data

    def json(self, method, path, value=None, query=None, timeout=TIMEOUT):
        """A JSON request and its JSON answer."""
        body = None if value is None else json.dumps(value).encode("utf-8")
        raw = self.request(
            method, path, body, "application/json" if body is not None else None, query, timeout
        )
        return json.loads(raw.decode("utf-8")) if raw else None

    def multipart(self, path, fields, files):
        """`POST path` as multipart/form-data: `fields` text, `files` (name, filename,
        bytes). Returns the JSON answer."""
        boundary = "runboard-" + uuid.uuid4().hex
        parts = []
        for name, value in fields:
            parts.append(
                '--{}\r\nContent-Disposition: form-data; name="{}"\r\n\r\n'.format(boundary, name).encode()
                + value.encode("utf-8")
                + b"\r\n"
            )
        for name, filename, data in files:
            parts.append(
                '--{}\r\nContent-Disposition: form-data; name="{}"; filename="{}"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n".format(boundary, name, filename).encode()
                + data
                + b"\r\n"
            )
        parts.append("--{}--\r\n".format(boundary).encode())
        raw = self.request(
            "POST", path, b"".join(parts), "multipart/form-data; boundary=" + boundary
        )
        return json.loads(raw.decode("utf-8"))


def segment(text):
    """One URL path segment."""
    return urllib.parse.quote(str(text), safe="")


def error_from(status, raw):
    """The SDK's exception for an error answer: every field error of a 400 named."""
    try:
        error = json.loads(raw.decode("utf-8"))["error"]
        message = error.get("message") or "HTTP {}".format(status)
        details = error.get("details") or []
    except (ValueError, KeyError, TypeError, AttributeError):
        message, details = "HTTP {}: {}".format(status, raw[:300].decode("utf-8", "replace")), []
    if details:
        lines = []
        for d in details:
            if isinstance(d, dict):
                lines.append("{}: {}".format(d.get("field", "?"), d.get("message", "")))
            else:
                lines.append(str(d))
        message = "{}\n  {}".format(message, "\n  ".join(lines))
    if 400 <= status < 500 and status not in (401, 403):
        return UserErrorException(message)
    return ServiceException(message)
