"""Screening pages, one module per area: imports (and records, duplicates), screen (the
reviewer's queue), conflicts, fulltext, config (criteria and settings), stats (agreement,
PRISMA)."""
