"""Export formats used only by the tests: a slow one (to watch progress and to kill a
worker mid-export) and broken ones. A worker started with `-I tests.exports.test_formats`
knows them too."""

import time

from exports.registry import FORMATS, ExportError, register

if "test-slow" not in FORMATS:

    @register("test-slow", label="Test: slow export", extension="txt",
              content_type="text/plain", group="Archive")  # fmt: skip
    def write_slow(review, out, *, progress, options):
        chunks = int(options.get("chunks", 10))
        for n in range(chunks):
            out.write(f"chunk {n} of review {review.slug}\n".encode())
            progress((n + 1) / chunks, f"chunk {n + 1} of {chunks}")
            time.sleep(float(options.get("sleep", 0)))

    @register("test-refused", label="Test: refused export", extension="txt",
              content_type="text/plain", group="Archive")  # fmt: skip
    def write_refused(review, out, *, progress, options):
        out.write(b"half a file")
        raise ExportError("This export cannot be made: the test says no.")

    @register("test-crash", label="Test: crashing export", extension="txt",
              content_type="text/plain", group="Archive")  # fmt: skip
    def write_crash(review, out, *, progress, options):
        out.write(b"half a file")
        raise RuntimeError("boom")
