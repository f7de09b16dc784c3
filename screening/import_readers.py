"""The two ways an import reads its file while the caller stores what was read before.

Both are context managers that yield screening.importers.rows.Chunk objects and then hold
`entries_read` and `skipped`; a problem with the file comes out of the iteration as the
ImportFileError or UnicodeDecodeError the parser raised, and nothing read may be kept.

- ProcessEntryReader: the file is read by a process of its own (screening.importers.worker).
  Used for large files: the reading is pure Python, which in a thread would take turns with
  the caller's under one interpreter lock; in its own process it uses a core of its own.
- EntryReader: a thread of this process. Used for small files, where starting a process
  would cost more than it saves, and for files with no path on this machine.
"""

import json
import os
import pickle
import queue
import subprocess
import sys
import tempfile
import threading

from django.conf import settings

from .importers.base import ImportFileError
from .importers.rows import Chunk, read_chunks, unwrap
from .importers.worker import HEADER

# Chunks read ahead of the one being stored: enough to keep both sides busy, few enough to
# keep memory bounded (a chunk of 2,000 records holds 5 to 20 MB).
CHUNKS_AHEAD = 2
PUT_TIMEOUT = 0.1
_DONE = object()


class _Handoff:
    """A bounded queue between a producing thread and the caller, which the producer
    leaves as soon as the caller has stopped."""

    def __init__(self):
        self.items = queue.Queue(maxsize=CHUNKS_AHEAD)
        self.stopped = threading.Event()

    def put(self, item):
        """Queue `item`; False once the caller has stopped (it then reads no more)."""
        while not self.stopped.is_set():
            try:
                self.items.put(item, timeout=PUT_TIMEOUT)
                return True
            except queue.Full:
                pass
        return False

    def get(self):
        return self.items.get()


class EntryReader:
    """Reads the file in a thread of this process (see the module's docstring)."""

    def __init__(self, batch, binary, *, copy_text, chunk_size):
        self.batch, self.binary = batch, binary
        self.copy_text, self.chunk_size = copy_text, chunk_size
        self.entries_read = 0
        self.skipped = []
        self._handoff = _Handoff()
        self._thread = threading.Thread(
            target=self._run, name=f"import-reader-{batch.pk}", daemon=True
        )

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._handoff.stopped.set()
        self._thread.join()

    def __iter__(self):
        while True:
            item = self._handoff.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            self.entries_read = item.entries_read
            yield item

    def _run(self):
        batch = self.batch
        try:
            chunks = read_chunks(
                unwrap(self.binary),
                fmt=batch.file_format,
                filename=batch.file_name,
                mapping=batch.column_mapping,
                review_id=batch.review_id,
                batch_id=batch.pk,
                chunk_size=self.chunk_size,
                copy_text=self.copy_text,
                skipped=self.skipped,
                file_size=batch.file_size,
            )
            for chunk in chunks:
                if not self._handoff.put(chunk):
                    return
        except BaseException as exc:  # handed to the caller, who rolls back
            self._handoff.put(exc)
        else:
            self._handoff.put(_DONE)


class ProcessEntryReader:
    """Reads the file at `path` in a process of its own (see the module's docstring).

    A thread of this process moves the worker's messages from its pipe into a short queue,
    so the worker never waits for the caller while the queue has room; the caller unpickles
    them. On leaving, early or not, the worker is stopped and waited for.
    """

    def __init__(self, batch, path, *, copy_text, chunk_size):
        self.task = {
            "path": os.fspath(path),
            "fmt": batch.file_format,
            "filename": batch.file_name,
            "mapping": batch.column_mapping,
            "review_id": batch.review_id,
            "batch_id": batch.pk,
            "chunk_size": chunk_size,
            "copy_text": copy_text,
            "file_size": batch.file_size,
        }
        self.name = f"import-reader-{batch.pk}"
        self.entries_read = 0
        self.skipped = []
        self._handoff = _Handoff()
        self._process = self._errors = self._thread = None

    def __enter__(self):
        env = dict(os.environ)
        root = os.fspath(settings.BASE_DIR)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH", "")]))
        self._errors = tempfile.TemporaryFile()
        self._process = subprocess.Popen(  # noqa: S603 (our own module, no shell)
            [sys.executable, "-m", "screening.importers.worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._errors,
            cwd=root,
            env=env,
        )
        self._process.stdin.write(json.dumps(self.task).encode() + b"\n")
        self._process.stdin.close()
        self._thread = threading.Thread(target=self._pump, name=self.name, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._handoff.stopped.set()
        process = self._process
        if process.poll() is None:
            process.kill()
        process.wait()
        self._thread.join()
        process.stdout.close()
        self._errors.close()

    def _pump(self):
        out = self._process.stdout
        while True:
            header = out.read(HEADER.size)
            if len(header) < HEADER.size:
                self._handoff.put(_DONE)  # the pipe closed: the caller checks why
                return
            (size,) = HEADER.unpack(header)
            data = out.read(size)
            if len(data) < size or not self._handoff.put(data):
                self._handoff.put(_DONE)
                return

    def __iter__(self):
        while True:
            data = self._handoff.get()
            if data is _DONE:
                raise RuntimeError(self._stopped_early())
            kind, *details = pickle.loads(data)  # noqa: S301 (our own worker's output)
            if kind == "chunk":
                rows, keys, entries_read, fraction = details
                self.entries_read = entries_read
                yield Chunk(rows, keys, entries_read, fraction)
            elif kind == "done":
                (self.skipped,) = details
                return
            elif kind == "file-error":
                problem, filename, entry, line = details
                raise ImportFileError(problem, filename=filename, entry=entry, line=line)
            elif kind == "decode-error":
                encoding, start, end, reason = details
                raise UnicodeDecodeError(encoding, b"", start, end, reason)
            else:
                raise RuntimeError(f"The import's file reader failed:\n{details[0]}")

    def _stopped_early(self):
        code = self._process.wait()
        self._errors.seek(0)
        errors = self._errors.read()[-2000:].decode(errors="replace")
        return f"The import's file reader stopped early (exit code {code}).\n{errors}"
