"""The SDK's HTTP inside the notebook's browser kernel (Pyodide, `sys.platform ==
'emscripten'`): synchronous `XMLHttpRequest` from the notebook's Web Worker, to the
page's own origin, so the page's session cookie goes along and no token is needed.

A synchronous request blocks the worker's one thread, which is what a cell expects of
`run.wait_for_completion()`; Interrupt reaches the cell between requests (Pyodide's
interrupt buffer), so long polls are kept short here (`LONG_POLL`)."""

import js

# Seconds a long poll may wait in the browser: the page restarts a kernel that has
# not stopped 3 s after Interrupt.
LONG_POLL = 1

def origin():
    """The server the page came from (`https://host:port`)."""
    return str(js.location.origin)


def send(method, url, body=None, content_type=None, timeout=60, headers=None):
    """One request; returns `(status, bytes)`. A request that gets no answer raises
    `ConnectionError`."""
    xhr = js.XMLHttpRequest.new()
    xhr.open(method, url, False)
    xhr.responseType = "arraybuffer"
    xhr.timeout = int(timeout * 1000)
    if content_type:
        xhr.setRequestHeader("Content-Type", content_type)
    for name, value in (headers or {}).items():
        xhr.setRequestHeader(name, value)
    payload = None
    if body is not None:
        payload = js.Uint8Array.new(len(body))
        payload.assign(body)
    try:
        xhr.send(payload)
    except Exception as e:  # a JsException: the network failed or timed out
        raise ConnectionError(str(e)) from None
    if xhr.status == 0:
        raise ConnectionError("no answer")
    response = xhr.response
    data = js.Uint8Array.new(response).to_bytes() if response is not None else b""
    return int(xhr.status), data
