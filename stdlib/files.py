"""FILE methods: what a script can ask of a file fetched with `invokeurl` or made with
`toFile`, and the settings that shape how it is sent again.

Zoho Deluge docs, "File Functions" (https://www.zoho.com/deluge/help/file-methods.html):
getFileContent, getFileName, getFileSize, getFileType, isFile, setCharset, setFileName,
setFileType, compress, extract, toFile, convertToPDF; and setParamName, used before
sending a file as a multipart part with `invokeurl [ files: ... ]`.
"""

from __future__ import annotations

__all__ = ["METHODS"]

import codecs
import mimetypes
from typing import Any

from sluicegate.errors import ScriptRuntimeError
from sluicegate.values import FILE, File, clean_text

from .args import want_text
from .builtin import Builtin, method


def _extension(name: str) -> str:
    base = name.rsplit("/", 1)[-1]
    return base.rsplit(".", 1)[1] if "." in base.strip(".") else ""


def get_file_content(f: File) -> str:
    """`getFileContent()`: the file's content as TEXT, decoded with the charset set by
    `setCharset`, else UTF-8; bytes that do not decode become U+FFFD (a binary file gives
    text, not an error). Zoho docs: File functions > getFileContent."""
    return clean_text(f.data.decode(f.charset or "utf-8", "replace"))


def get_file_name(f: File) -> str:
    """`getFileName()`: the file's name with its extension. Zoho docs: getFileName."""
    return f.name


def get_file_size(f: File) -> int:
    """`getFileSize()`: the size in bytes. Zoho docs: File functions > getFileSize."""
    return len(f.data)


def get_file_type(f: File) -> str:
    """`getFileType()`: the file's type as its extension in lower case (`"pdf"`), or ""
    when the name has none. Zoho docs: File functions > getFileType."""
    return _extension(f.name).lower()


def set_file_name(f: File, name: Any) -> File:
    """`setFileName(name)`: renames the file (in place; the file is returned for chaining).
    Zoho docs: File functions > setFileName."""
    text = want_text("setFileName", 1, name).strip()
    if not text:
        raise ScriptRuntimeError("setFileName: the file name cannot be empty")
    f.name = text
    return f


def set_file_type(f: File, kind: Any) -> File:
    """`setFileType(type)`: sets the extension of the name and the content type that
    goes with it (`"pdf"` -> `application/pdf`). Zoho docs: File functions > setFileType."""
    ext = want_text("setFileType", 1, kind).strip().lstrip(".")
    if not ext or "/" in ext:
        raise ScriptRuntimeError(f"setFileType: '{ext}' is not a file type such as \"pdf\"")
    old = _extension(f.name)
    stem = f.name[: -len(old) - 1] if old else f.name
    f.name = f"{stem}.{ext}"
    f.content_type = mimetypes.guess_type(f.name, strict=False)[0] or "application/octet-stream"
    return f


def set_charset(f: File, charset: Any) -> File:
    """`setCharset(charset)`: the charset the file's text is in, used by getFileContent
    and sent with the file. Zoho docs: File functions > setCharset ("UTF-16")."""
    name = want_text("setCharset", 1, charset).strip()
    try:
        codecs.lookup(name)
    except LookupError:
        raise ScriptRuntimeError(f"setCharset: '{name}' is not a known charset") from None
    f.charset = name
    return f


def set_param_name(f: File, name: Any) -> File:
    """`setParamName(name)`: the multipart field name the file is sent as by
    `invokeurl [ files: ... ]` (default `file`). Zoho docs: invokeUrl > files."""
    text = want_text("setParamName", 1, name).strip()
    if not text:
        raise ScriptRuntimeError("setParamName: the parameter name cannot be empty")
    f.param_name = text
    return f


def _unsupported(fname: str) -> Any:
    def refuse(f: File, *args: Any) -> Any:
        raise ScriptRuntimeError(f"{fname} is not supported by this runtime (it needs the "
                                 "vendor's document services)")
    refuse.__doc__ = f"`{fname}`: refused with a clear error; no local equivalent."
    return refuse


METHODS: list[Builtin] = [
    method("getFileContent", get_file_content, FILE),
    method("getFileName", get_file_name, FILE),
    method("getFileSize", get_file_size, FILE),
    method("getFileType", get_file_type, FILE),
    method("setFileName", set_file_name, FILE, 1),
    method("setFileType", set_file_type, FILE, 1),
    method(("setCharset", "setCharSet"), set_charset, FILE, 1),
    method("setParamName", set_param_name, FILE, 1),
    method("compress", _unsupported("compress"), FILE, 0, None),
    method("extract", _unsupported("extract"), FILE, 0, None),
    method("convertToPDF", _unsupported("convertToPDF"), FILE, 0, None),
]
