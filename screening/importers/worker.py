"""Reads an uploaded file in a process of its own: `python -m screening.importers.worker`.

Decoding, parsing, normalising and blocking keys are pure Python; in the process that stores
the records they would share one interpreter lock with the deduplication and the database
driver, and the two halves of a large import would mostly wait for each other. Here they run
on a core of their own while the importing process stores the chunk read before.

The importing process (screening.import_readers.ProcessEntryReader) writes the task as one
line of JSON to standard input; this process writes messages to standard output, each an
8-byte length and a pickle of a tuple:

    ("chunk", rows, keys, entries_read, fraction)   rows and keys as rows.read_chunks makes them
    ("done", skipped)                               the entries skipped, after the last chunk
    ("file-error", problem, filename, entry, line)  ImportFileError: nothing may be stored
    ("decode-error", encoding, start, end, reason)  UnicodeDecodeError: likewise
    ("crash", traceback text)                       anything else

No Django: it starts in a tenth of a second and touches no database.
"""

import gc
import json
import os
import pickle
import struct
import sys
import traceback

from .base import ImportFileError
from .rows import read_chunks

HEADER = struct.Struct(">Q")
GC_THRESHOLD = 50_000
# Reading runs ahead of storing; where both want the same core, the database (and the
# importing process, which waits for it) should have it.
NICENESS = 10


def send(out, message):
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(HEADER.pack(len(data)))
    out.write(data)
    out.flush()


def run(task, out):
    skipped = []
    try:
        with open(task["path"], "rb") as binary:
            for chunk in read_chunks(
                binary,
                fmt=task["fmt"],
                filename=task["filename"],
                mapping=task["mapping"],
                review_id=task["review_id"],
                batch_id=task["batch_id"],
                chunk_size=task["chunk_size"],
                copy_text=task["copy_text"],
                skipped=skipped,
                file_size=task["file_size"],
            ):
                send(out, ("chunk", chunk.rows, chunk.keys, chunk.entries_read, chunk.fraction))
    except ImportFileError as exc:
        send(out, ("file-error", exc.problem, exc.filename, exc.entry, exc.line))
    except UnicodeDecodeError as exc:
        send(out, ("decode-error", exc.encoding, exc.start, exc.end, exc.reason))
    except Exception:  # handed to the importing process, which logs it and rolls back
        send(out, ("crash", traceback.format_exc()))
    else:
        send(out, ("done", skipped))


def main():
    # Millions of short-lived objects and hardly any cycles (see importing._tuned_interpreter).
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, *gc.get_threshold()[1:])
    task = json.loads(sys.stdin.readline())
    os.nice(NICENESS)
    try:
        run(task, sys.stdout.buffer)
    except BrokenPipeError:  # the importing process stopped reading: it has given up
        sys.exit(1)


if __name__ == "__main__":
    main()
