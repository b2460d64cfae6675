"""附件 rows: what every stored attachment (a receipt's delivery note, an agreement's signed
scan, a verification's photos) records about its file, declared once. The file itself, and the
rules for what may be kept, are ``reserve.files``.

A model mixes in ``AttachedFile`` and names its document: the owner column (a FK with
``ondelete="CASCADE"``) and ``storage_folder``, under which its files live as
``<storage_folder>/<owner id>/<attachment id>-<sha256 prefix>`` (nothing the uploader typed)."""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from reserve.db import UTCDateTime, utcnow

CONTENT_TYPES = ("application/pdf", "image/jpeg", "image/png")


class AttachedFile:
    """The columns and checks of an attachment row (mixin)."""

    storage_folder: ClassVar[str]
    owner_key: ClassVar[str]

    @declared_attr.directive
    def __table_args__(cls) -> tuple:
        return (
            sa.CheckConstraint("size_bytes > 0", name="size_positive"),
            sa.CheckConstraint(
                "content_type IN (" + ", ".join(f"'{t}'" for t in CONTENT_TYPES) + ")",
                name="content_type_known",
            ),
            sa.CheckConstraint("length(sha256) = 64", name="sha256_hex"),
        )

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(sa.String(200))
    content_type: Mapped[str] = mapped_column(sa.String(40))
    size_bytes: Mapped[int] = mapped_column(sa.BigInteger)
    sha256: Mapped[str] = mapped_column(sa.String(64))

    @declared_attr
    def uploaded_by_id(cls) -> Mapped[int | None]:
        return mapped_column(sa.ForeignKey("users.id"))

    uploaded_by_name: Mapped[str] = mapped_column(sa.String(40))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __str__(self) -> str:
        return self.filename

    @property
    def storage_dir(self) -> str:
        return f"{self.storage_folder}/{getattr(self, self.owner_key)}"

    @property
    def stored_name(self) -> str:
        """The file's name on disk: nothing the uploader typed."""
        return f"{self.id}-{self.sha256[:16]}"
