"""Every export writer; importing this package registers all the formats."""

from . import advisory, archive, coding, included, prisma, refi_project, screening  # noqa: F401
