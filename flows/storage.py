"""Local and S3 paths behind one small interface, built on pyarrow filesystems.

A `Storage` is picklable (it keeps only settings), so Ray tasks and actors open files
themselves on whichever node they run: no file contents pass through the driver.
"""
from __future__ import annotations

import os
import posixpath
from dataclasses import dataclass, field
from functools import cached_property

import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq

from operators.s3 import s3_filesystem


SECRET_KEYS = ("access_key_id", "secret_access_key")  # storage.s3.*: never logged, reported or sent as job metadata
MASK = "***"


@dataclass(frozen=True)
class S3Settings:
    endpoint_url: str | None = None
    region: str | None = None
    access_key_id: str | None = field(default=None, repr=False)
    secret_access_key: str | None = field(default=None, repr=False)


def masked(config: dict) -> dict:
    """A plain config dict with the S3 credentials replaced by `***` (set) or left null."""
    s3 = config.get("storage", {}).get("s3")
    if isinstance(s3, dict):
        config = {**config, "storage": {**config["storage"], "s3": {
            k: (MASK if k in SECRET_KEYS and v else v) for k, v in s3.items()}}}
    return config


def is_s3(uri: str) -> bool:
    return uri.startswith("s3://")


def join(base: str, *parts: str) -> str:
    return posixpath.join(base.rstrip("/"), *parts) if is_s3(base) else os.path.join(base, *parts)


class Storage:
    def __init__(self, s3: S3Settings = S3Settings()):
        self.s3_settings = s3

    def __getstate__(self):
        return {"s3_settings": self.s3_settings}

    def __setstate__(self, state):
        self.s3_settings = state["s3_settings"]

    @cached_property
    def s3(self) -> pafs.S3FileSystem:
        s = self.s3_settings
        return s3_filesystem(s.region, s.access_key_id, s.secret_access_key, s.endpoint_url)

    def resolve(self, uri: str) -> tuple[pafs.FileSystem, str]:
        """(filesystem, path inside it) for a local path or an s3:// URI."""
        if is_s3(uri):
            return self.s3, uri.removeprefix("s3://").rstrip("/")
        return pafs.LocalFileSystem(), os.path.abspath(uri)

    def exists(self, uri: str) -> bool:
        fs, path = self.resolve(uri)
        return fs.get_file_info(path).type != pafs.FileType.NotFound

    def is_dir(self, uri: str) -> bool:
        fs, path = self.resolve(uri)
        return fs.get_file_info(path).type == pafs.FileType.Directory

    def list_files(self, uri: str) -> list[str]:
        """All files under a directory (recursively), sorted, as URIs of the same kind."""
        fs, path = self.resolve(uri)
        infos = fs.get_file_info(pafs.FileSelector(path, recursive=True, allow_not_found=True))
        paths = sorted(i.path for i in infos if i.type == pafs.FileType.File)
        return [f"s3://{p}" if is_s3(uri) else p for p in paths]

    def list_dirs(self, uri: str) -> list[str]:
        """The directories directly under a directory, as URIs of the same kind."""
        fs, path = self.resolve(uri)
        infos = fs.get_file_info(pafs.FileSelector(path, allow_not_found=True))
        return sorted((f"s3://{i.path}" if is_s3(uri) else i.path) for i in infos if i.type == pafs.FileType.Directory)

    def sizes(self, uris: list[str]) -> list[int | None]:
        """Each file's size in bytes; None for one that is not there or cannot be asked about
        (a reader then opens it whole, and reports what is wrong with it in its own row)."""
        out = []
        for uri in uris:
            try:
                fs, path = self.resolve(uri)
                info = fs.get_file_info(path)
                out.append(info.size if info.type == pafs.FileType.File else None)
            except Exception:
                out.append(None)
        return out

    def open_input(self, uri: str):
        fs, path = self.resolve(uri)
        return fs.open_input_file(path)

    def read_bytes(self, uri: str) -> bytes:
        with self.open_input(uri) as f:
            return f.read()

    def read_text(self, uri: str) -> str:
        return self.read_bytes(uri).decode("utf-8")

    def write_bytes(self, uri: str, data: bytes) -> None:
        """Writes a whole file so that readers see the old file or the new one, never a part.

        S3 objects appear whole on PUT; locally we write a temporary file and rename it.
        """
        fs, path = self.resolve(uri)
        if is_s3(uri):
            with fs.open_output_stream(path, compression=None) as f:  # never gzip a .gz name twice
                f.write(data)
            return
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = f"{path}.tmp-{os.getpid()}"
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)

    def write_table(self, uri: str, tables, empty_schema) -> int:
        """Streams Arrow tables into one Parquet file that readers see whole or not at all
        (as write_bytes); returns the number of rows. Memory holds one table at a time.

        The file takes the first table's schema (contract columns and operator signals);
        later tables are cast to it. With no table at all it is an empty file of
        `empty_schema`, so that it still marks its input as done."""
        fs, path = self.resolve(uri)
        target = path if is_s3(uri) else f"{path}.tmp-{os.getpid()}"
        if not is_s3(uri):
            os.makedirs(os.path.dirname(path), exist_ok=True)
        rows, writer = 0, None
        with fs.open_output_stream(target, compression=None) as stream:
            for table in tables:
                if writer is None:
                    writer = pq.ParquetWriter(stream, table.schema)
                elif table.schema != writer.schema:
                    table = pa.Table.from_arrays(
                        [table.column(f.name).cast(f.type) if f.name in table.column_names
                         else pa.nulls(table.num_rows, f.type) for f in writer.schema], schema=writer.schema)
                writer.write_table(table)
                rows += table.num_rows
            (writer or pq.ParquetWriter(stream, empty_schema)).close()
        if not is_s3(uri):
            os.replace(target, path)
        return rows

    def write_text(self, uri: str, text: str) -> None:
        self.write_bytes(uri, text.encode("utf-8"))

    def delete(self, uri: str) -> None:
        """Removes a file or a whole directory; nothing there is fine."""
        fs, path = self.resolve(uri)
        kind = fs.get_file_info(path).type
        if kind == pafs.FileType.File:
            fs.delete_file(path)
        elif kind == pafs.FileType.Directory:  # on S3: every key under the prefix
            fs.delete_dir(path)

    def makedirs(self, uri: str) -> None:
        fs, path = self.resolve(uri)
        fs.create_dir(path, recursive=True)
