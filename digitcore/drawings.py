"""The drawings people corrected or confirmed, kept in a database to measure and train on.

One row per digit (:mod:`digitcore.schema`): the 28x28 image the models saw, the digit's crop
as drawn, its canvas strokes, the true and the read label, each member's vote, the model's
file name and SHA-256, the source and the time. A digit is named by its content, so saving the
same drawing twice keeps one row (a second save with other labels corrects the first). How a
row is built is :mod:`digitcore.drawing_rows`; moving drawings in and out as IDX or PNG files
is :mod:`digitcore.drawings_io`.

    store = open_store()  # DIGITCORE_DB, else an SQLite file in the app's data folder
    ids = store.save(reading, labels="407", source="canvas", model=info, crops=ink_map)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import sqlalchemy as sa
from numpy.typing import NDArray
from sqlalchemy import exc as sa_exc

from digitcore import schema, settings
from digitcore.drawing_rows import (
    SOURCES,
    DrawingSet,
    Record,
    check_labels,
    crops_of,
    image_rows,
    ink_map,
    label_digits,
    png_array,
    reading_rows,
    record,
)
from digitcore.errors import LabelError, StoreError
from digitcore.schema import drawings as table

__all__ = [
    "SOURCES", "DrawingSet", "DrawingStore", "Record", "check_labels", "crops_of", "image_rows",
    "ink_map", "label_digits", "open_store",
]  # fmt: skip

#: A digit's columns without the large ones (crop, strokes): what lists and data sets read.
_LIGHT = [c for c in table.c if c.name not in ("crop", "strokes")]


class DrawingStore:
    """The saved drawings in one database (see :func:`open_store`)."""

    def __init__(self, engine: sa.Engine):
        self.engine = engine

    @property
    def where(self) -> str:
        """The database for people (a file path, or a URL without its password)."""
        return schema.where(self.engine)

    def _run(self, work: Callable[[sa.Connection], Any], *, write: bool = False) -> Any:
        """``work(conn)`` in one transaction; a database failure is one StoreError line.

        A write that meets a unique-key conflict (another session saved the same digit between
        our read and our insert: possible on a server database) runs once more, and then finds it.
        """
        for attempt in (1, 2):
            try:
                conn = self.engine.connect()
                if write:
                    conn = conn.execution_options(**{schema.WRITE: True})
                with conn, conn.begin():
                    return work(conn)
            except sa_exc.IntegrityError as exc:
                if attempt == 2 or not write:
                    raise StoreError(f"{self.where}: {schema._first_line(exc)}") from None
            except sa_exc.SQLAlchemyError as exc:
                raise StoreError(f"{self.where}: {schema._first_line(exc)}") from None
        raise AssertionError("unreachable")

    def save(self, reading: Any, *, labels: str, source: str, model: Any, crops: Any,
             strokes: dict[str, Any] | None = None) -> list[int]:  # fmt: skip
        """Save every digit of a reading with its true label, in one transaction.

        Parameters
        ----------
        reading : digitcore.recognize.Reading
            What the model read (its digits, votes and the 28x28 images it saw).
        labels : str
            The true digits, one per digit read, e.g. ``"407"``.
        source : {"canvas", "upload", "cli", "import"}
        model : ModelInfo or dict or None
            The model that read it: a :class:`~digitcore.store.ModelInfo`, or a dict with
            ``name`` and ``sha256``.
        crops : ndarray of shape (H, W), or sequence of 2-D arrays
            The ink map the reading was made from (each digit is cut out by its box), or each
            digit's crop.
        strokes : dict, optional
            The canvas drawing as fabric.js JSON; each digit keeps the strokes in its columns.

        Returns
        -------
        list of int
            The row id of each digit, left to right; a digit saved before keeps its row (and
            takes the new label).

        Raises
        ------
        LabelError
            When the labels are not digits, or not one per digit read.
        """
        rows = reading_rows(
            reading, labels=labels, source=source, model=model, crops=crops, strokes=strokes
        )
        return self.save_rows(rows)

    def save_rows(self, rows: list[dict[str, Any]]) -> list[int]:
        """Insert prepared rows in one transaction; rows already there (same hash) are relabelled."""

        def work(conn: sa.Connection) -> list[int]:
            wanted = [r["content_hash"] for r in rows]
            known = dict(
                conn.execute(
                    sa.select(table.c.content_hash, table.c.id).where(
                        table.c.content_hash.in_(wanted)
                    )
                ).all()
            )
            ids = []
            for row in rows:
                if row["content_hash"] in known:
                    ident = known[row["content_hash"]]
                    conn.execute(
                        sa.update(table).where(table.c.id == ident).values(label=row["label"])
                    )
                else:
                    ident = conn.execute(sa.insert(table).values(**row)).inserted_primary_key[0]
                    known[row["content_hash"]] = ident
                ids.append(int(ident))
            return ids

        return self._run(work, write=True)

    def count(self) -> int:
        """How many digits are saved."""
        return self._run(
            lambda c: c.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
        )

    def counts_by_digit(self) -> dict[int, int]:
        """How many of each true digit 0-9 are saved (zeros included)."""
        query = sa.select(table.c.label, sa.func.count()).group_by(table.c.label)
        found = dict(self._run(lambda c: c.execute(query).all()))
        return {d: int(found.get(d, 0)) for d in range(10)}

    def _filtered(self, query: sa.Select, digit: int | None, wrong: bool | None) -> sa.Select:
        if digit is not None:
            query = query.where(table.c.label == int(digit))
        misread = sa.and_(table.c.read.is_not(None), table.c.read != table.c.label)
        if wrong is not None:
            query = query.where(misread if wrong else sa.not_(misread))
        return query

    def count_where(self, *, digit: int | None = None, wrong: bool | None = None) -> int:
        """How many saved digits pass the same filters as :meth:`list`."""
        query = self._filtered(sa.select(sa.func.count()).select_from(table), digit, wrong)
        return self._run(lambda c: c.execute(query).scalar_one())

    def list(self, *, digit: int | None = None, wrong: bool | None = None, limit: int = 50,
             offset: int = 0) -> list[Record]:  # fmt: skip
        """Saved digits, newest first.

        Parameters
        ----------
        digit : int, optional
            Only digits whose true label is this.
        wrong : bool, optional
            True: only digits the model misread when they were saved; False: only the others.
        limit, offset : int
            A page of the list.
        """
        query = self._filtered(sa.select(*_LIGHT), digit, wrong)
        query = query.order_by(table.c.id.desc()).limit(limit).offset(offset)
        return [record(row) for row in self._run(lambda c: c.execute(query).all())]

    def crop(self, ident: int) -> NDArray[np.uint8]:
        """The digit ``ident`` as it was drawn (its crop of the ink map)."""
        query = sa.select(table.c.crop).where(table.c.id == int(ident))
        data = self._run(lambda c: c.execute(query).scalar_one_or_none())
        if data is None:
            raise LabelError(f"no saved digit with id {ident}")
        return png_array(data)

    def delete(self, ids: Sequence[int]) -> int:
        """Delete the digits with these ids; return how many there were."""
        wanted = [int(i) for i in ids]
        if not wanted:
            return 0
        statement = sa.delete(table).where(table.c.id.in_(wanted))
        return self._run(lambda c: c.execute(statement).rowcount, write=True)

    def dataset(self) -> DrawingSet:
        """Every saved digit as a data set named ``"drawings"``, in the order saved (by id)."""
        query = sa.select(table.c.id, table.c.content_hash, table.c.drawing_hash, table.c.image,
                          table.c.label).order_by(table.c.id)  # fmt: skip
        rows = self._run(lambda c: c.execute(query).all())
        n = len(rows)
        pixels = b"".join(r.image for r in rows)
        return DrawingSet(
            np.frombuffer(pixels, np.uint8).reshape(n, 28, 28).copy(),
            np.array([r.label for r in rows], np.uint8),
            "drawings",
            f"saved drawings ({n:,} digits people confirmed or corrected)",
            ids=np.array([r.id for r in rows], np.int64),
            hashes=np.array([r.content_hash for r in rows], "U32"),
            drawing_hashes=np.array([r.drawing_hash for r in rows], "U32"),
        )


def open_store(url: str | None = None) -> DrawingStore:
    """Open (and create or migrate) the drawings database.

    Parameters
    ----------
    url : str, optional
        An SQLAlchemy URL; :func:`digitcore.settings.db_url` when None (``DIGITCORE_DB``, else an
        SQLite file in the app's data folder).

    Raises
    ------
    StoreError
        When the file is not a database, its schema is newer than this code, or it cannot be
        reached; one line, and nothing is changed.
    """
    engine = schema.create_engine(url or settings.db_url())
    try:
        schema.migrate(engine)
    except StoreError:
        engine.dispose()
        raise
    return DrawingStore(engine)
