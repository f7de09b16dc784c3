"""Parsers for search-result exports. Each format module exposes
`parse(stream, *, filename) -> Iterator[ParsedEntry]` over a decoded text stream (XLSX takes a
binary file). `screening.importers.detect` chooses the module from the file's content."""
