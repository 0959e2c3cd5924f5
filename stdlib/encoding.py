"""Encoding and crypto built-ins: Base64/Base32, URL encoding, hashes, HMACs and AES.

Each is a bare function (`base64Encode(t)`, `hmacsha256(key, data)`), and the ones whose
first argument is the data are TEXT methods too (`t.urlEncode()`, `t.md5()`). The same
rows serve the vendor's task names: `ENCRYPTION_TASKS` maps the lower-case suffix of
`zoho.encryption.<name>` to its row (Zoho Deluge docs: Encryption tasks).

Text becomes bytes as UTF-8 unless a character set is given. Rules shared by all rows
(chosen where the vendor is silent):
- data that is null gives null (the vendor documents this for urlEncode: "Except TEXT, all
  other data types will return null"; the others follow, so nothing is signed or encoded
  by accident); a NUMBER, DECIMAL, BOOLEAN or DATETIME is used in its display form; a
  LIST, MAP, COLLECTION or FILE (except where a FILE is documented) is a type error;
- bytes that are not valid UTF-8 after decoding become U+FFFD, as Java's `new String`
  does, rather than failing;
- the "binary" output of a hash or HMAC is the digest written as `0`/`1` digits, eight per
  byte, most significant bit first (the vendor names the format but does not show it).
"""

from __future__ import annotations

__all__ = ["ENCRYPTION_TASKS", "FUNCTIONS", "METHODS"]

import base64
import binascii
import functools
import hashlib
import hmac
import secrets
from collections.abc import Callable
from typing import Any
from urllib.parse import quote, quote_plus, unquote_plus

from sluicegate.errors import ScriptRuntimeError
from sluicegate.limits import PYTHON_STEP, check_text, spend
from sluicegate.values import FILE, TEXT, Collection, File, display

from .args import want_text, wrong_type
from .builtin import Builtin, function, method

# Results are checked against the run's text limit only past this size (limits.check_text).
_TEXT_CHECK_FLOOR = 1 << 16


def _result(text: str) -> str:
    if len(text) > _TEXT_CHECK_FLOOR:
        check_text(len(text))
    return text


def _text_arg(fname: str, index: int, value: Any) -> str | None:
    """TEXT as is, a scalar as its display form, null as None; containers are an error."""
    if isinstance(value, str) or value is None:
        return value
    if isinstance(value, (list, dict, Collection, File)):
        raise wrong_type(fname, index, value, "TEXT")
    return display(value)


def _required_text(fname: str, index: int, value: Any) -> str:
    text = _text_arg(fname, index, value)
    if text is None:
        raise wrong_type(fname, index, value, "TEXT")
    return text


# ---------------------------------------------------------------------------------------
# Character sets (Zoho Deluge docs: Base 64 Encode / Decode: UTF-8 default, UTF-16LE, UTF-16BE)

_CHARSETS = {"UTF8": "utf-8", "UTF16LE": "utf-16-le", "UTF16BE": "utf-16-be"}


def _charset(fname: str, index: int, value: Any) -> str:
    if value is None:
        return "utf-8"
    name = want_text(fname, index, value)
    codec = _CHARSETS.get(name.upper().replace("-", "").replace("_", ""))
    if codec is None:
        raise ScriptRuntimeError(
            f"{fname}: unsupported character set '{name}' (use UTF-8, UTF-16LE or UTF-16BE)")
    return codec


def _data_bytes(fname: str, data: Any, charset: Any, first: int) -> bytes | None:
    if isinstance(data, File):
        return data.data
    text = _text_arg(fname, first, data)
    codec = _charset(fname, first + 1, charset)
    if text is None:
        return None
    return text.encode(codec, "replace" if codec == "utf-8" else "surrogatepass")


# ---------------------------------------------------------------------------------------
# Base64 and Base32


def _base64_encode(data: Any, charset: Any = None, *, first: int = 1) -> str | None:
    """Base64 (standard alphabet, padded, one line) of TEXT in a character set, or of a FILE.

    Zoho Deluge docs: Base 64 Encode (`zoho.encryption.base64Encode(data [, charset])`).
    """
    raw = _data_bytes("base64Encode", data, charset, first)
    if raw is None:
        return None
    return _result(base64.b64encode(raw).decode("ascii"))


def _clean_base64(text: str) -> str:
    # Wrapped (MIME) and URL-safe Base64 and missing padding are accepted (chosen).
    text = "".join(text.split()).replace("-", "+").replace("_", "/")
    return text + "=" * (-len(text) % 4)


def _base64_decode(data: Any, charset: Any = None, *, first: int = 1) -> str | None:
    """The text whose Base64 form is `data`, read in a character set (UTF-8 default).

    Zoho Deluge docs: Base 64 Decode. Line breaks, the URL-safe alphabet and missing `=`
    padding are accepted (chosen); any other character is a runtime error.
    """
    text = _text_arg("base64Decode", first, data)
    codec = _charset("base64Decode", first + 1, charset)
    if text is None:
        return None
    try:
        raw = base64.b64decode(_clean_base64(text), validate=True)
    except (binascii.Error, ValueError):
        raise ScriptRuntimeError("base64Decode: the text is not valid Base64") from None
    return raw.decode(codec, "replace")


def _base32_encode(data: Any, charset: Any = None, *, first: int = 1) -> str | None:
    """Base32 (RFC 4648 alphabet, padded) of TEXT in a character set, or of a FILE.

    Zoho Deluge docs: Base 32 Encode (`base32Encode("john@zylker.com")` is
    `NJXWQ3SAPJ4WY23FOIXGG33N`).
    """
    raw = _data_bytes("base32Encode", data, charset, first)
    if raw is None:
        return None
    return _result(base64.b32encode(raw).decode("ascii"))


def _base32_decode(data: Any, charset: Any = None, *, first: int = 1) -> str | None:
    """The text whose Base32 form is `data`, read in a character set (UTF-8 default).

    Zoho Deluge docs: Base 32 Decode (`zoho.encryption.base32Decode(data)`). Any letter
    case, line breaks and missing `=` padding are accepted (chosen).
    """
    text = _text_arg("base32Decode", first, data)
    codec = _charset("base32Decode", first + 1, charset)
    if text is None:
        return None
    text = "".join(text.split())
    try:
        raw = base64.b32decode(text + "=" * (-len(text) % 8), casefold=True)
    except (binascii.Error, ValueError):
        raise ScriptRuntimeError("base32Decode: the text is not valid Base32") from None
    return raw.decode(codec, "replace")


# ---------------------------------------------------------------------------------------
# URL encoding (Java URLEncoder rules: letters, digits and `-_.*` stay; all else is %XX of
# the UTF-8 bytes, upper-case hex)


# Bytes percent-encoding keeps as they are (a space becomes one character either way).
_URL_SAFE = bytes(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.* ")


def _check_url_size(data: str) -> None:
    """Measure a percent-encoding before it is built: up to nine characters for one."""
    if len(data) * 9 > _TEXT_CHECK_FLOOR:
        raw = data.encode("utf-8", "replace")
        check_text(len(raw) + 2 * len(raw.translate(None, _URL_SAFE)))


def _url_encode(data: Any) -> str | None:
    """Percent-encoding with a space as `%20` (Zoho Deluge docs: urlEncode).

    Any value that is not TEXT gives null, as documented. `~` is encoded and `*` is not,
    like Java's URLEncoder, which the sibling encodeUrl follows (chosen).
    """
    if not isinstance(data, str):
        return None
    _check_url_size(data)
    return _result(quote(data, safe="-_.*", errors="replace").replace("~", "%7E"))


def _encode_url(data: Any) -> str | None:
    """Percent-encoding with a space as `+` (Zoho Deluge docs: encodeUrl; its example
    `http://www.zoho.com/zohotest?name=John&...` gives `http%3A%2F%2Fwww.zoho.com%2F...`).

    Like urlEncode, a value that is not TEXT gives null (chosen).
    """
    if not isinstance(data, str):
        return None
    _check_url_size(data)
    return _result(quote_plus(data, safe="-_.*", errors="replace").replace("~", "%7E"))


def _url_decode(data: Any) -> str | None:
    """Undo URL encoding: `%XX` sequences as UTF-8 and `+` as a space (Zoho Deluge docs:
    urlDecode). A `%` not followed by two hex digits is kept as written, and invalid UTF-8
    becomes U+FFFD (chosen: lenient, where Java's URLDecoder would throw). A value that is
    not TEXT gives null, like urlEncode.
    """
    if not isinstance(data, str):
        return None
    return unquote_plus(data, errors="replace")


# ---------------------------------------------------------------------------------------
# Hashes and HMACs


def _bits(digest: bytes) -> str:
    if len(digest) > 4096:  # eight characters a byte, made in Python
        check_text(8 * len(digest))
        spend(PYTHON_STEP // 4 * len(digest))
    return "".join(f"{byte:08b}" for byte in digest)


_OUTPUTS: dict[str, Callable[[bytes], str]] = {
    "base64": lambda d: base64.b64encode(d).decode("ascii"),
    "hex": bytes.hex,
    "binary": _bits,
}


def _output(fname: str, index: int, value: Any, default: str) -> Callable[[bytes], str]:
    if value is None:
        return _OUTPUTS[default]
    name = want_text(fname, index, value)
    form = _OUTPUTS.get(name.strip().lower())
    if form is None:
        raise ScriptRuntimeError(
            f"{fname}: unknown output type '{name}' (use base64, hex or binary)")
    return form


def _digest(fname: str, algorithm: str, data: Any, output: Any, first: int) -> str | None:
    text = _text_arg(fname, first, data)
    form = _output(fname, first + 1, output, "hex")
    if text is None:
        return None
    return form(hashlib.new(algorithm, text.encode("utf-8", "replace")).digest())


def _md5(data: Any, output: Any = None, *, first: int = 1) -> str | None:
    """The MD5 digest of the UTF-8 text, lower-case hex by default.

    Zoho Deluge docs: MD5 encryption (`zoho.encryption.md5(data)`). An output type
    "base64" or "binary" may follow, as for sha256 (chosen).
    """
    return _digest("md5", "md5", data, output, first)


def _sha1(data: Any, output: Any = None, *, first: int = 1) -> str | None:
    """The SHA-1 digest of the UTF-8 text, lower-case hex by default.

    Zoho Deluge docs: SHA1 Encryption (`sha1("hello")` is
    `aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d`).
    """
    return _digest("sha1", "sha1", data, output, first)


def _sha256(data: Any, output: Any = None, *, first: int = 1) -> str | None:
    """The SHA-256 digest of the UTF-8 text, lower-case hex by default.

    Zoho Deluge docs: SHA256 encryption (`sha256(data [, "hex"|"binary"])`; `sha256("hello")`
    is `2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824`). "base64" is
    accepted too (chosen).
    """
    return _digest("sha256", "sha256", data, output, first)


def _sha512(data: Any, output: Any = None, *, first: int = 1) -> str | None:
    """The SHA-512 digest of the UTF-8 text, lower-case hex by default.

    Zoho Deluge docs: SHA512 encryption (`zoho.encryption.sha512(data)`).
    """
    return _digest("sha512", "sha512", data, output, first)


def _sign(fname: str, algorithm: str, key: Any, data: Any, output: Any) -> str | None:
    secret = _required_text(fname, 1, key)
    text = _text_arg(fname, 2, data)
    form = _output(fname, 3, output, "base64")
    if text is None:
        return None
    mac = hmac.new(secret.encode("utf-8", "replace"), text.encode("utf-8", "replace"),
                   algorithm)
    return form(mac.digest())


def _hmacsha1(key: Any, data: Any, output: Any = None) -> str | None:
    """HMAC-SHA1 of `data` keyed by `key`: the key comes first.

    Zoho Deluge docs: HMAC-SHA1 encryption, `hmacsha1(key, data [, output])` with output
    "base64" (default), "hex" or "binary". Vendor vector: key "Use me to generate hash",
    data "My#New#Password" gives `VK9VMxdsbxZBLHKgSEZYMEUlURs=`.
    """
    return _sign("hmacsha1", "sha1", key, data, output)


def _hmacsha256(key: Any, data: Any, output: Any = None) -> str | None:
    """HMAC-SHA256 of `data` keyed by `key`: the key comes first.

    Zoho Deluge docs: HMAC-SHA256 encryption, `hmacsha256(key, data [, output])` with
    output "base64" (default), "hex" or "binary". Vendor vector: key "Use me to generate
    hash", data "My#New#Password" gives `edYCyxkU4jL2dEjEDO8aUy8WZrpKRvQquNpgKUqe5vA=`.
    """
    return _sign("hmacsha256", "sha256", key, data, output)


def _hmacsha512(key: Any, data: Any, output: Any = None) -> str | None:
    """HMAC-SHA512 of `data` keyed by `key`: the key comes first.

    Zoho Deluge docs: HMAC-SHA512 encryption, `hmacsha512(key, data [, output])` with
    output "base64" (default), "hex" or "binary".
    """
    return _sign("hmacsha512", "sha512", key, data, output)


# ---------------------------------------------------------------------------------------
# AES (Zoho Deluge docs: aesEncode / aesDecode). Worked out from the documented vectors:
# AES-256-CBC with PKCS#7 padding; the key is its UTF-8 bytes padded with zero bytes to 32;
# with an IV (16 characters) the result is Base64 of the ciphertext; without one a random
# IV is drawn and written in front of the ciphertext. Checks against the docs: their
# no-IV results decode ("F0JOCSWN...JlG" to "Confidential details", "yf/u6N0H...jjSE" to
# "This is a secret"), and "AR+ygx+e...bJA=", shown for IV "0000000000000000", is exactly
# what this gives for "This is a secret" with that IV (the page pairs it with another text).

_AES_KEY_BYTES = 32
_AES_BLOCK = 16


def _aes_key(fname: str, key: Any) -> bytes:
    raw = _required_text(fname, 1, key).encode("utf-8")
    if len(raw) > _AES_KEY_BYTES:
        # Chosen: refuse rather than silently cut a longer key down to 32 bytes.
        raise ScriptRuntimeError(f"{fname}: the key must be at most 32 bytes long")
    return raw.ljust(_AES_KEY_BYTES, b"\0")


def _aes_iv(fname: str, iv: Any) -> bytes | None:
    if iv is None:
        return None
    raw = want_text(fname, 3, iv).encode("utf-8")
    if len(raw) != _AES_BLOCK:
        raise ScriptRuntimeError(f"{fname}: the IV must be 16 characters long")
    return raw


def _cipher(key: bytes, iv: bytes) -> Any:
    # Imported here: the cryptography package costs tens of milliseconds to load, and
    # only scripts that use AES should pay for it.
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    return Cipher(algorithms.AES(key), modes.CBC(iv))


def _aes_encode(key: Any, value: Any, iv: Any = None) -> str | None:
    """AES-256-CBC encryption of the UTF-8 text, as Base64 (see the section comment above).

    Zoho Deluge docs: aesEncode(key, value [, iv]). Without an IV each call gives a
    different result, as the vendor's does.
    """
    from cryptography.hazmat.primitives.padding import PKCS7
    secret = _aes_key("aesEncode", key)
    text = _text_arg("aesEncode", 2, value)
    fixed_iv = _aes_iv("aesEncode", iv)
    if text is None:
        return None
    chosen_iv = fixed_iv if fixed_iv is not None else secrets.token_bytes(_AES_BLOCK)
    padder = PKCS7(128).padder()
    plain = padder.update(text.encode("utf-8", "replace")) + padder.finalize()
    encryptor = _cipher(secret, chosen_iv).encryptor()
    sealed = encryptor.update(plain) + encryptor.finalize()
    if fixed_iv is None:
        sealed = chosen_iv + sealed
    return _result(base64.b64encode(sealed).decode("ascii"))


def _aes_decode(key: Any, encrypted: Any, iv: Any = None) -> str | None:
    """The text that aesEncode turned into `encrypted`, with the same key (and IV, if any).

    Zoho Deluge docs: aesDecode(key, encrypted [, iv]). A value that is not Base64 of whole
    AES blocks, or that does not decrypt with this key and IV, is a runtime error.
    """
    from cryptography.hazmat.primitives.padding import PKCS7
    secret = _aes_key("aesDecode", key)
    text = _text_arg("aesDecode", 2, encrypted)
    fixed_iv = _aes_iv("aesDecode", iv)
    if text is None:
        return None
    failure = ScriptRuntimeError(
        "aesDecode: the text cannot be decrypted with this key and IV")
    try:
        sealed = base64.b64decode(_clean_base64(text), validate=True)
    except (binascii.Error, ValueError):
        raise failure from None
    if fixed_iv is None:
        fixed_iv, sealed = sealed[:_AES_BLOCK], sealed[_AES_BLOCK:]
    if not sealed or len(sealed) % _AES_BLOCK or len(fixed_iv) != _AES_BLOCK:
        raise failure
    decryptor = _cipher(secret, fixed_iv).decryptor()
    plain = decryptor.update(sealed) + decryptor.finalize()
    unpadder = PKCS7(128).unpadder()
    try:
        plain = unpadder.update(plain) + unpadder.finalize()
    except ValueError:
        raise failure from None
    return plain.decode("utf-8", "replace")


# ---------------------------------------------------------------------------------------
# Tables


def _method_form(impl: Callable[..., Any]) -> Callable[..., Any]:
    """The data-first function as a method: the receiver is the data, so the arguments
    after it are numbered from 1 in messages, as for every method."""
    @functools.wraps(impl)
    def method_form(receiver: Any, *args: Any) -> Any:
        return impl(receiver, *args, first=0)
    return method_form


_BASE64_ENCODE = function("base64Encode", _base64_encode, 1, 2)
_BASE64_DECODE = function("base64Decode", _base64_decode, 1, 2)
_BASE32_ENCODE = function("base32Encode", _base32_encode, 1, 2)
_BASE32_DECODE = function("base32Decode", _base32_decode, 1, 2)
_URL_ENCODE = function("urlEncode", _url_encode, 1)
_ENCODE_URL = function("encodeUrl", _encode_url, 1)
_URL_DECODE = function("urlDecode", _url_decode, 1)
_MD5 = function("md5", _md5, 1, 2)
_SHA1 = function("sha1", _sha1, 1, 2)
_SHA256 = function("sha256", _sha256, 1, 2)
_SHA512 = function("sha512", _sha512, 1, 2)
_HMACSHA1 = function("hmacsha1", _hmacsha1, 2, 3)
_HMACSHA256 = function("hmacsha256", _hmacsha256, 2, 3)
_HMACSHA512 = function("hmacsha512", _hmacsha512, 2, 3)
_AES_ENCODE = function("aesEncode", _aes_encode, 2, 3)
_AES_DECODE = function("aesDecode", _aes_decode, 2, 3)

FUNCTIONS: list[Builtin] = [
    _BASE64_ENCODE, _BASE64_DECODE, _BASE32_ENCODE, _BASE32_DECODE,
    _URL_ENCODE, _ENCODE_URL, _URL_DECODE,
    _MD5, _SHA1, _SHA256, _SHA512,
    _HMACSHA1, _HMACSHA256, _HMACSHA512,
    _AES_ENCODE, _AES_DECODE,
]

# The data-first rows as methods: `text.base64Encode()`, `file.base64Encode()`, `t.md5("hex")`.
METHODS: list[Builtin] = [
    method("base64Encode", _method_form(_base64_encode), (TEXT, FILE), 0, 1),
    method("base64Decode", _method_form(_base64_decode), TEXT, 0, 1),
    method("base32Encode", _method_form(_base32_encode), (TEXT, FILE), 0, 1),
    method("base32Decode", _method_form(_base32_decode), TEXT, 0, 1),
    method("urlEncode", _url_encode, TEXT),
    method("encodeUrl", _encode_url, TEXT),
    method("urlDecode", _url_decode, TEXT),
    method("md5", _method_form(_md5), TEXT, 0, 1),
    method("sha1", _method_form(_sha1), TEXT, 0, 1),
    method("sha256", _method_form(_sha256), TEXT, 0, 1),
    method("sha512", _method_form(_sha512), TEXT, 0, 1),
]

# `zoho.encryption.<name>` by lower-case name (encodeUrl is a bare function only).
ENCRYPTION_TASKS: dict[str, Builtin] = {
    row.name.lower(): row for row in FUNCTIONS if row is not _ENCODE_URL
}
