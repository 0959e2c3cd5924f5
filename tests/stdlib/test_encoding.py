"""Encoding and crypto built-ins (stdlib/encoding.py): functions, methods, zoho.encryption.*."""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Iterator
from decimal import Decimal

import pytest

from sluicegate.dispatch import call_function, call_method
from sluicegate.errors import LimitExceeded, ScriptRuntimeError
from sluicegate.limits import Limits, RunContext, activate
from sluicegate.stdlib.encoding import ENCRYPTION_TASKS
from sluicegate.values import File

KEY = "Use me to generate hash"
DATA = "My#New#Password"


@pytest.fixture(autouse=True)
def default_run() -> Iterator[RunContext]:
    with activate(RunContext()) as ctx:
        yield ctx


def task(name: str, *args: object) -> object:
    """A `zoho.encryption.<name>(...)` call: the lead maps these rows under that prefix."""
    row = ENCRYPTION_TASKS[name.lower()]
    assert row.min_args <= len(args) <= (row.max_args or len(args))
    return row.fn(*args)


def fails(message: str, name: str, *args: object) -> None:
    with pytest.raises(ScriptRuntimeError) as info:
        call_function(name, *args)
    assert info.value.message == message


# --- vendor vectors ---------------------------------------------------------------------

def test_hmacsha256_vendor_vector_takes_the_key_first_and_defaults_to_base64() -> None:
    # SPEC §7 and Zoho Deluge docs, HMAC-SHA256: hmacsha256(key, data [, output]).
    assert task("hmacsha256", KEY, DATA) == "edYCyxkU4jL2dEjEDO8aUy8WZrpKRvQquNpgKUqe5vA="
    assert task("hmacsha256", KEY, DATA, "hex") == (
        "79d602cb1914e232f67448c40cef1a532f1666ba4a46f42ab8da60294a9ee6f0")
    # The other argument order gives a different signature.
    assert task("hmacsha256", DATA, KEY) != task("hmacsha256", KEY, DATA)


def test_hmacsha1_vendor_vector() -> None:
    # Zoho Deluge docs, HMAC-SHA1: the same key and data give VK9VMxdsbxZBLHKgSEZYMEUlURs=.
    assert call_function("hmacsha1", KEY, DATA) == "VK9VMxdsbxZBLHKgSEZYMEUlURs="
    assert call_function("hmacsha1", KEY, DATA, "hex") == (
        "54af5533176c6f16412c72a0484658304525511b")


def test_hmacsha512_matches_the_standard_construction() -> None:
    expected = hmac.new(b"k3y", b"data to sign", hashlib.sha512)
    assert task("hmacsha512", "k3y", "data to sign", "hex") == expected.hexdigest()
    assert task("hmacsha512", "k3y", "data to sign") == base64.b64encode(
        expected.digest()).decode()


def test_sha256_and_sha1_vendor_examples_are_hex() -> None:
    # Zoho Deluge docs, SHA256 / SHA1 encryption: the hashes of "hello".
    assert task("sha256", "hello") == (
        "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
    assert task("sha1", "hello") == "aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d"
    assert task("md5", "hello") == "5d41402abc4b2a76b9719d911017c592"
    assert task("sha512", "hello") == hashlib.sha512(b"hello").hexdigest()


def test_base64_decode_vendor_example() -> None:
    # Zoho Deluge docs, Base 64 Decode: am9obkB6eWxrZXIuY29t is john@zylker.com.
    assert task("base64Decode", "am9obkB6eWxrZXIuY29t") == "john@zylker.com"


def test_base32_encode_vendor_example() -> None:
    # Zoho Deluge docs, Base 32 Encode: john@zylker.com is NJXWQ3SAPJ4WY23FOIXGG33N.
    assert task("base32Encode", "john@zylker.com") == "NJXWQ3SAPJ4WY23FOIXGG33N"
    assert task("base32Decode", "NJXWQ3SAPJ4WY23FOIXGG33N") == "john@zylker.com"


def test_encodeurl_vendor_example() -> None:
    # Zoho Deluge docs, encodeUrl().
    assert call_function(
        "encodeUrl", "http://www.zoho.com/zohotest?name=John&country=Australia&age=101") == (
        "http%3A%2F%2Fwww.zoho.com%2Fzohotest%3Fname%3DJohn%26country%3DAustralia%26age%3D101")


def test_urlencode_vendor_example() -> None:
    # Zoho Deluge docs, urlEncode(): "https://www.zoho.com/creator" (the page shows http).
    assert task("urlEncode", "https://www.zoho.com/creator") == (
        "https%3A%2F%2Fwww.zoho.com%2Fcreator")


def test_aes_decode_reads_the_vendor_examples_without_iv() -> None:
    # Zoho Deluge docs, aesDecode and aesEncode: results made without an IV.
    assert task("aesDecode", "passkey",
                "yf/u6N0HjKWXFFHIEKzG23+CM+BoL4RBPNb4mc0G3hw5q6xPe9KSpUd62Z5sjjSE") == (
        "This is a secret")
    assert task("aesDecode", "passkey",
                "F0JOCSWN0Eb2Y//llSoROcsQxHihYnMwCuJSywFaaigEJzQdjnznq7+rSUXy6JlG") == (
        "Confidential details")


def test_aes_encode_with_an_iv_reproduces_the_vendor_output() -> None:
    # Zoho Deluge docs, aesEncode: with IV "0000000000000000" the page shows
    # "AR+ygx+et18UNeIltGh82NBgPQx6Y0hWbEcgN3NVbJA=", which is the encryption of
    # "This is a secret" (the page labels it with another text).
    sealed = "AR+ygx+et18UNeIltGh82NBgPQx6Y0hWbEcgN3NVbJA="
    assert task("aesEncode", "passkey", "This is a secret", "0000000000000000") == sealed
    assert task("aesDecode", "passkey", sealed, "0000000000000000") == "This is a secret"


# --- Base64 / Base32 --------------------------------------------------------------------

def test_base64_roundtrip_of_non_ascii_text_uses_utf8() -> None:
    assert call_function("base64Encode", "é") == "w6k="
    assert call_function("base64Decode", "w6k=") == "é"
    assert call_function("base64Decode", call_function("base64Encode", "日本 ✓")) == "日本 ✓"


def test_base64_of_empty_text_is_empty() -> None:
    assert call_function("base64Encode", "") == ""
    assert call_function("base64Decode", "") == ""


def test_base64_character_sets() -> None:
    assert call_function("base64Encode", "api_key", "UTF-16LE") == "YQBwAGkAXwBrAGUAeQA="
    assert call_function("base64Encode", "api_key", "utf-16be") == "AGEAcABpAF8AawBlAHk="
    assert call_function("base64Decode", "AGEAcABpAF8AawBlAHk=", "UTF-16BE") == "api_key"
    assert call_function("base64Decode", "YQBwAGkAXwBrAGUAeQA=", "UTF-16LE") == "api_key"
    assert call_function("base64Encode", "a", "UTF-8") == "YQ=="


def test_base64_decode_accepts_line_breaks_url_alphabet_and_missing_padding() -> None:
    assert call_function("base64Decode", "SGVsbG8s\r\nIFpvaG8h") == "Hello, Zoho!"
    assert call_function("base64Decode", "w6k") == "é"
    assert call_function("base64Decode", base64.urlsafe_b64encode(b"\xfb\xff").decode()) == (
        "\ufffd\ufffd")


def test_base64_decode_of_bytes_that_are_not_utf8_gives_replacement_characters() -> None:
    assert call_function("base64Decode", base64.b64encode(b"ok\xff").decode()) == "ok\ufffd"


def test_base64_encode_of_a_file_encodes_its_bytes() -> None:
    pdf = File("a.pdf", "application/pdf", b"%PDF\x00\xff")
    assert call_function("base64Encode", pdf) == base64.b64encode(b"%PDF\x00\xff").decode()
    assert call_method(pdf, "base64Encode") == base64.b64encode(b"%PDF\x00\xff").decode()


def test_base64_of_scalars_uses_their_display_form_and_null_gives_null() -> None:
    assert call_function("base64Encode", 12) == "MTI="
    assert call_function("base64Encode", Decimal("1.50")) == "MS41MA=="
    assert call_function("base64Encode", None) is None
    assert call_function("base64Decode", None) is None


def test_base64_methods_on_text() -> None:
    assert call_method("Hello", "base64Encode") == "SGVsbG8="
    assert call_method("SGVsbG8=", "base64Decode") == "Hello"
    assert call_method("api_key", "base64Encode", "UTF-16BE") == "AGEAcABpAF8AawBlAHk="


def test_invalid_base64_is_a_clear_error() -> None:
    fails("base64Decode: the text is not valid Base64", "base64Decode", "not base64!")
    fails("base64Decode: the text is not valid Base64", "base64Decode", "abcde")
    fails("base32Decode: the text is not valid Base32", "base32Decode", "0189")


def test_unknown_character_set_is_named() -> None:
    fails("base64Encode: unsupported character set 'latin1' (use UTF-8, UTF-16LE or UTF-16BE)",
          "base64Encode", "x", "latin1")


def test_base64_wrong_types_name_the_argument() -> None:
    fails("Argument 1 of base64Encode must be TEXT but found LIST", "base64Encode", [1])
    fails("Argument 1 of base64Decode must be TEXT but found MAP", "base64Decode", {"a": 1})
    fails("Argument 2 of base64Encode must be TEXT but found NUMBER", "base64Encode", "x", 8)
    with pytest.raises(ScriptRuntimeError) as info:
        call_method("x", "base64Encode", 8)
    assert info.value.message == "Argument 1 of base64Encode must be TEXT but found NUMBER"


def test_large_results_are_checked_against_the_text_limit() -> None:
    with activate(RunContext(limits=Limits(max_text=100_000))):
        with pytest.raises(LimitExceeded):
            call_function("base64Encode", "x" * 90_000)
        with pytest.raises(LimitExceeded):
            call_function("urlEncode", " " * 40_000)


# --- URL encoding -----------------------------------------------------------------------

def test_urlencode_writes_space_as_percent20_and_encodeurl_as_plus() -> None:
    assert call_function("urlEncode", "a b&c=d/e?f") == "a%20b%26c%3Dd%2Fe%3Ff"
    assert call_function("encodeUrl", "a b&c=d/e?f") == "a+b%26c%3Dd%2Fe%3Ff"


def test_url_encoding_follows_java_urlencoder_character_classes() -> None:
    assert call_function("urlEncode", "AZaz09-_.*~!'()+") == "AZaz09-_.*%7E%21%27%28%29%2B"
    assert call_function("encodeUrl", "~ *") == "%7E+*"


def test_url_encoding_of_non_ascii_is_utf8_percent_encoded() -> None:
    assert call_function("urlEncode", "é") == "%C3%A9"
    assert call_function("encodeUrl", "日") == "%E6%97%A5"
    assert call_function("urlEncode", "\ud800") == "%3F"


def test_urlencode_of_anything_but_text_is_null() -> None:
    # Zoho Deluge docs, urlEncode(): "Except TEXT, all other data types will return null."
    for value in (None, 12, Decimal("1.5"), True, [1], {"a": 1}):
        assert call_function("urlEncode", value) is None
        assert call_function("encodeUrl", value) is None
        assert call_function("urlDecode", value) is None


def test_urldecode_reads_percent_escapes_and_plus() -> None:
    assert call_function("urlDecode", "a%20b%26c%3Dd") == "a b&c=d"
    assert call_function("urlDecode", "a+b") == "a b"
    assert call_function("urlDecode", "%C3%A9") == "é"


def test_urldecode_keeps_malformed_escapes_and_replaces_invalid_utf8() -> None:
    assert call_function("urlDecode", "100%") == "100%"
    assert call_function("urlDecode", "%zz%4") == "%zz%4"
    assert call_function("urlDecode", "%FF") == "\ufffd"


def test_url_functions_as_methods_and_tasks() -> None:
    assert call_method("a b", "urlEncode") == "a%20b"
    assert call_method("a b", "encodeUrl") == "a+b"
    assert call_method("a%20b", "urlDecode") == "a b"
    assert task("urlDecode", "a%20b") == "a b"
    assert "encodeurl" not in ENCRYPTION_TASKS


def test_url_encoding_of_empty_text_is_empty() -> None:
    assert call_function("urlEncode", "") == ""
    assert call_function("urlDecode", "") == ""


# --- hashes and HMAC output forms -------------------------------------------------------

def test_output_types_base64_hex_and_binary() -> None:
    digest = hmac.new(b"k", b"d", hashlib.sha256).digest()
    assert call_function("hmacsha256", "k", "d", "HEX") == digest.hex()
    assert call_function("hmacsha256", "k", "d", "base64") == base64.b64encode(digest).decode()
    bits = call_function("hmacsha256", "k", "d", "binary")
    assert isinstance(bits, str) and len(bits) == 256 and set(bits) <= {"0", "1"}
    assert int(bits, 2).to_bytes(32, "big") == digest
    assert call_function("md5", "hello", "base64") == "XUFAKrxLKna5cZ2REBfFkg=="


def test_hashes_of_empty_and_non_ascii_text() -> None:
    assert call_function("sha256", "") == hashlib.sha256(b"").hexdigest()
    assert call_function("md5", "é") == hashlib.md5("é".encode()).hexdigest()
    assert call_function("hmacsha256", "", "") == base64.b64encode(
        hmac.new(b"", b"", hashlib.sha256).digest()).decode()
    assert call_function("hmacsha1", "ключ", "данные", "hex") == hmac.new(
        "ключ".encode(), "данные".encode(), hashlib.sha1).hexdigest()


def test_hashes_as_text_methods() -> None:
    assert call_method("hello", "md5") == "5d41402abc4b2a76b9719d911017c592"
    assert call_method("hello", "sha256", "base64") == base64.b64encode(
        hashlib.sha256(b"hello").digest()).decode()


def test_hash_of_null_data_is_null_and_numbers_hash_their_display_form() -> None:
    assert call_function("sha256", None) is None
    assert call_function("hmacsha256", "key", None) is None
    assert call_function("md5", 12345) == hashlib.md5(b"12345").hexdigest()
    assert call_function("hmacsha256", 99, Decimal("1.50"), "hex") == (
        hmac.new(b"99", b"1.50", hashlib.sha256).hexdigest())


def test_unknown_output_type_is_named() -> None:
    fails("hmacsha256: unknown output type 'hexa' (use base64, hex or binary)",
          "hmacsha256", "k", "d", "hexa")
    fails("sha256: unknown output type 'raw' (use base64, hex or binary)", "sha256", "d", "raw")


def test_hash_and_hmac_wrong_types_name_the_argument() -> None:
    fails("Argument 1 of hmacsha256 must be TEXT but found NULL", "hmacsha256", None, "d")
    fails("Argument 1 of hmacsha256 must be TEXT but found MAP", "hmacsha256", {"a": 1}, "d")
    fails("Argument 2 of hmacsha512 must be TEXT but found LIST", "hmacsha512", "k", [1])
    fails("Argument 3 of hmacsha1 must be TEXT but found NUMBER", "hmacsha1", "k", "d", 5)
    fails("Argument 2 of md5 must be TEXT but found BOOLEAN", "md5", "d", True)
    with pytest.raises(ScriptRuntimeError) as info:
        call_method("d", "sha1", 5)
    assert info.value.message == "Argument 1 of sha1 must be TEXT but found NUMBER"


def test_arity_is_checked_by_the_dispatcher() -> None:
    fails("Function 'hmacsha256' expects 2 to 3 arguments but got 1", "hmacsha256", "k")
    fails("Function 'urlEncode' expects 1 argument but got 2", "urlEncode", "a", "b")


# --- AES --------------------------------------------------------------------------------

def test_aes_without_iv_is_random_but_decodes_back() -> None:
    first = call_function("aesEncode", "passkey", "Confidential details")
    second = call_function("aesEncode", "passkey", "Confidential details")
    assert first != second
    assert len(base64.b64decode(first)) == 16 + 32  # the IV, then two blocks
    assert call_function("aesDecode", "passkey", first) == "Confidential details"
    assert call_function("aesDecode", "passkey", second) == "Confidential details"


def test_aes_roundtrip_of_empty_and_non_ascii_text_with_an_iv() -> None:
    for text in ("", "é ✓ 日本", "x" * 1000):
        sealed = call_function("aesEncode", "k", text, "abcdefghijklmnop")
        assert call_function("aesDecode", "k", sealed, "abcdefghijklmnop") == text


def test_aes_with_the_wrong_key_or_garbage_is_a_clear_error() -> None:
    sealed = call_function("aesEncode", "right", "secret text", "0000000000000000")
    message = "aesDecode: the text cannot be decrypted with this key and IV"
    with pytest.raises(ScriptRuntimeError) as info:
        for key in ("wrong", "other", "third"):  # a wrong key fails the padding check
            call_function("aesDecode", key, sealed, "0000000000000000")
    assert info.value.message == message
    fails(message, "aesDecode", "k", "not base64!")
    fails(message, "aesDecode", "k", "QUJD")  # three bytes: not whole blocks
    fails(message, "aesDecode", "k", "")


def test_aes_key_and_iv_lengths_are_checked() -> None:
    fails("aesEncode: the IV must be 16 characters long", "aesEncode", "k", "t", "short")
    fails("aesDecode: the IV must be 16 characters long", "aesDecode", "k", "t", "x" * 17)
    fails("aesEncode: the key must be at most 32 bytes long", "aesEncode", "k" * 33, "t")
    assert call_function("aesDecode", "k" * 32,
                         call_function("aesEncode", "k" * 32, "t")) == "t"


def test_aes_wrong_types_and_null_value() -> None:
    fails("Argument 1 of aesEncode must be TEXT but found NULL", "aesEncode", None, "t")
    fails("Argument 3 of aesDecode must be TEXT but found NUMBER", "aesDecode", "k", "t", 5)
    assert call_function("aesEncode", "k", None) is None
    assert call_function("aesDecode", "k", None) is None


def test_every_encryption_task_is_also_a_bare_function() -> None:
    from sluicegate.stdlib import FUNCTIONS
    assert set(ENCRYPTION_TASKS) == {
        "base64encode", "base64decode", "base32encode", "base32decode", "urlencode",
        "urldecode", "md5", "sha1", "sha256", "sha512", "hmacsha1", "hmacsha256",
        "hmacsha512", "aesencode", "aesdecode"}
    for name, row in ENCRYPTION_TASKS.items():
        assert FUNCTIONS[name] is row
        assert row.fn.__doc__ and "Zoho Deluge docs" in row.fn.__doc__
