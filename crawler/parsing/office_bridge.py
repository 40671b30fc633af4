"""The UNO end of the LibreOffice pool: one process beside each long-lived `soffice --accept`.

Run by the Python that has LibreOffice's UNO bindings (Debian's /usr/bin/python3 with python3-uno; the venv's
Python has none), never imported by xxgk: crawler/parsing/office_pool.py starts it as
`python3 -I office_bridge.py <pipe name>` in the process group of its soffice, and talks to it over its
stdin and stdout, one JSON line each way per conversion:

    {"in": "/pool/w0/report.doc", "out": "/pool/w0/report.docx", "filter": "MS Word 2007 XML"}
    {"ok": true}  |  {"error": "load" | "store" | "uno", "message": "..."}

It first prints {"ready": true} once LibreOffice answers on the pipe. Documents are loaded hidden, read-only,
with macros never run and links never updated, and are only ever stored through an export filter. When the
pool goes away (stdin at its end, or the parent gone while a conversion hangs) it kills its process group,
LibreOffice with it, so nothing outlives the pool.
"""

import json
import os
import signal
import sys
import threading
import time

import uno
from com.sun.star.beans import PropertyValue
from com.sun.star.connection import NoConnectException

CONNECT_SECONDS = 60.0
NEVER_EXECUTE = 0  # com.sun.star.document.MacroExecMode.NEVER_EXECUTE
NO_UPDATE = 0  # com.sun.star.document.UpdateDocMode.NO_UPDATE: linked content is not fetched


def _props(**values):
    return tuple(PropertyValue(Name=name, Value=value) for name, value in values.items())


def _desktop(pipe: str):
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    deadline = time.monotonic() + CONNECT_SECONDS
    while True:
        try:
            context = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
            break
        except NoConnectException:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    return context.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", context)


def _convert(desktop, request: dict) -> dict:
    load = _props(Hidden=True, ReadOnly=True, MacroExecutionMode=NEVER_EXECUTE, UpdateDocMode=NO_UPDATE)
    try:
        document = desktop.loadComponentFromURL(uno.systemPathToFileUrl(request["in"]), "_blank", 0, load)
    except Exception as e:  # IOException, IllegalArgumentException: LibreOffice could not load it
        return {"error": "load", "message": f"{type(e).__name__}: {e}"[:300]}
    if document is None:
        return {"error": "load", "message": "no document"}
    try:
        document.storeToURL(uno.systemPathToFileUrl(request["out"]), _props(FilterName=request["filter"], Overwrite=True))
    except Exception as e:
        return {"error": "store", "message": f"{type(e).__name__}: {e}"[:300]}
    finally:
        try:
            document.close(True)
        except Exception:
            pass  # a document that will not close is dropped with this process on the next error
    return {"ok": True}


def _end_group() -> None:
    os.killpg(0, signal.SIGKILL)  # LibreOffice and this process


def _watch_parent(parent: int) -> None:
    """A conversion may hang with the pool gone: stdin's end would never be read. The parent's death is."""
    while os.getppid() == parent:
        time.sleep(0.5)
    _end_group()


def main() -> None:
    threading.Thread(target=_watch_parent, args=(os.getppid(),), daemon=True).start()
    desktop = _desktop(sys.argv[1])
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        try:
            answer = _convert(desktop, json.loads(line))
        except Exception as e:  # the bridge to LibreOffice is gone (DisposedException, RuntimeException)
            answer = {"error": "uno", "message": f"{type(e).__name__}: {e}"[:300]}
        print(json.dumps(answer), flush=True)
    _end_group()


if __name__ == "__main__":
    main()
