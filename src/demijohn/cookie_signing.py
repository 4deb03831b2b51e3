"""Signing session cookies in itsdangerous's format, with keys derived once.

:class:`~demijohn.sessions.SecureCookieSessionInterface` writes and reads
its cookies through :func:`cached_signer` when its settings are the stock
ones (HMAC key derivation, SHA-1, the tagged JSON serializer). The cookies
are byte for byte those of ``itsdangerous.URLSafeTimedSerializer``; a
cookie this module does not accept is handed back to itsdangerous, which
decides what is wrong with it.
"""

from __future__ import annotations

import binascii
import collections.abc as cabc
import functools
import hashlib
import hmac
import time
import typing as t
import zlib

from itsdangerous.encoding import bytes_to_int, int_to_bytes

__all__ = [
    "CookieSigner",
    "as_bytes",
    "cached_signer",
    "compress",
    "load_payload",
    "peek_payload",
    "signing_keys",
]


def as_bytes(key: str | bytes) -> bytes:
    """Encode a secret key the way :mod:`itsdangerous` does."""
    return key.encode("utf-8") if isinstance(key, str) else key


def signing_keys(
    current: str | bytes, fallbacks: cabc.Iterable[str | bytes] | str | bytes | None
) -> list[bytes]:
    """List the keys to verify with: the fallbacks, then the current key.

    :mod:`itsdangerous` signs with the last key and accepts any of them.
    """
    # A lone string would otherwise be split into one-character keys that
    # anyone could sign with; treat it as the single key it names.
    if isinstance(fallbacks, (str, bytes)):
        fallbacks = [fallbacks]
    return [as_bytes(key) for key in (*(fallbacks or ()), current)]


#: Map the URL-safe base64 alphabet to the standard one and back.
_FROM_URLSAFE = bytes.maketrans(b"-_", b"+/")
_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")


def _b64encode(data: bytes) -> bytes:
    """Encode as ``itsdangerous.encoding.base64_encode`` does: URL-safe, unpadded.

    PERF: the same steps as its four layers of helpers, in one call.
    """
    return binascii.b2a_base64(data, newline=False).translate(_TO_URLSAFE).rstrip(b"=")


def _b64decode(data: bytes) -> bytes:
    """Decode URL-safe base64 as ``itsdangerous.encoding.base64_decode`` does.

    PERF: the same padding, translation and lenient decoding, without the
    layers of wrappers in between.

    :raise binascii.Error: When the data cannot be decoded.
    """
    padded = data + b"=" * (-len(data) % 4)
    return binascii.a2b_base64(padded.translate(_FROM_URLSAFE))


#: Inputs shorter than this compress to the same deflate stream with the
#: smallest window and memory level as with zlib's defaults (see
#: :func:`compress`).
_SMALL_INPUT = 127

#: The zlib header ``zlib.compress`` writes at its default level.
_DEFAULT_HEADER = b"\x78\x9c"


def _compress_small(data: bytes) -> bytes:
    """``zlib.compress(data)`` for an input shorter than :data:`_SMALL_INPUT`.

    The deflate stream depends on the window only through the longest
    match distance (250 bytes with a 512-byte window), and on the memory
    level through the hash table and the symbol buffer. A smaller table
    puts more candidates on each hash chain, but every candidate is
    checked byte by byte, and a chain of so short an input stays under the
    128 candidates the default level follows, so the same matches are
    found; the buffer is flushed after 127 symbols. An input this short
    meets none of those limits, so only the two header bytes, which name
    the window and level, differ.
    """
    deflater = zlib.compressobj(6, zlib.DEFLATED, 9, 1)
    stream = deflater.compress(data) + deflater.flush()
    return _DEFAULT_HEADER + stream[2:]


@functools.cache
def _small_compression_matches() -> bool:
    """Whether :func:`_compress_small` gives ``zlib.compress``'s bytes with
    the zlib this process runs (another implementation, such as zlib-ng,
    may deflate differently)."""
    samples = [
        b"",
        b"x",
        b'{"visits":2}',
        b'{"_permanent":true,"user":"ada","csrf":"0123456789abcdef"}',
        b"a" * 126,
        bytes(range(126)),
        b"abcabcabd" * 14,
        b'{"cart":[1,1,1,2,2,2,3,3,3],"items":{"a":"aaaa","b":"bbbb"}}' * 2,
    ]
    return all(_compress_small(sample) == zlib.compress(sample) for sample in samples)


def compress(data: bytes) -> bytes:
    """Return ``zlib.compress(data)``.

    PERF: zlib's defaults allocate (and the kernel zeroes) about 270 KB of
    window and tables per call, which made compressing a small session,
    only to find it does not get shorter, cost more than the rest of
    writing it. A short input is deflated with the smallest window and
    memory level instead, which gives the same bytes (checked against
    ``zlib.compress`` once, on the first short input, rather than at
    import, which every application pays).
    """
    if len(data) < _SMALL_INPUT and _small_compression_matches():
        return _compress_small(data)
    return zlib.compress(data)


class _HmacSha1:
    """HMAC-SHA1 with one key, its padded key states hashed once.

    PERF: :func:`hmac.digest` looks the hash up in OpenSSL and pads the key
    on each call. HMAC is ``H(key ^ opad, H(key ^ ipad, message))`` (RFC
    2104), so the two keyed states are prepared here and copied per
    message. The result equals ``hmac.digest(key, message, "sha1")``.
    """

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes) -> None:
        # Keys longer than the 64-byte block are hashed first, as in HMAC.
        if len(key) > 64:
            key = hashlib.sha1(key).digest()
        key = key.ljust(64, b"\0")
        self._inner = hashlib.sha1(bytes(byte ^ 0x36 for byte in key))
        self._outer = hashlib.sha1(bytes(byte ^ 0x5C for byte in key))

    def digest(self, message: bytes) -> bytes:
        """Return the HMAC of ``message``."""
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()


class CookieSigner:
    """Sign and check session cookies with keys derived once.

    PERF: the :mod:`itsdangerous` serializer that
    :meth:`SecureCookieSessionInterface.get_signing_serializer` returns is
    rebuilt on every open and save (each build serializes ``{}`` twice to
    learn that the serializer returns text), and its signer derives the
    HMAC key from the secret key and salt again on every sign and verify.
    This class does the same steps as ``URLSafeTimedSerializer`` with
    ``key_derivation="hmac"`` and SHA-1, with the derived keys kept, so its
    cookies are byte for byte the ones itsdangerous writes.

    It only covers the success path: :meth:`unsign` returns ``None`` for
    anything unusual, and the caller then asks itsdangerous, so every
    rejected, expired or malformed cookie is judged by the reference code.
    Its decoding may be stricter than itsdangerous's, never looser.
    """

    __slots__ = ("_check_macs", "_sign_mac", "_stamp")

    def __init__(self, secret_keys: list[bytes], salt: bytes) -> None:
        # The "hmac" derivation: HMAC(secret key, salt) with the digest.
        derived = [hmac.digest(key, salt, "sha1") for key in secret_keys]
        #: The newest (last) key signs, as in itsdangerous.
        self._sign_mac = _HmacSha1(derived[-1])
        #: Keys to verify with, newest first, the order itsdangerous tries.
        self._check_macs = tuple(_HmacSha1(key) for key in reversed(derived))
        #: The last signing second and its encoding, reused within that
        #: second (replaced as one tuple, so threads see a matching pair).
        self._stamp: tuple[int, bytes] = (-1, b"")

    def sign(self, text: str) -> str:
        """Return the signed cookie value for the serialized session ``text``."""
        data = text.encode("utf-8")
        # Compressed only when that saves more than the marker byte costs,
        # as URLSafeSerializerMixin.dump_payload decides.
        compressed = compress(data)
        if len(compressed) < len(data) - 1:
            payload = b"." + _b64encode(compressed)
        else:
            payload = _b64encode(data)
        value = payload + b"." + self._timestamp()
        signature = _b64encode(self._sign_mac.digest(value))
        return (value + b"." + signature).decode("utf-8")

    def _timestamp(self) -> bytes:
        """Return the current time in seconds, encoded as itsdangerous does."""
        now = int(time.time())
        second, stamp = self._stamp
        if second != now:
            # PERF: encoded once per second rather than once per cookie.
            stamp = _b64encode(int_to_bytes(now))
            self._stamp = (now, stamp)
        return stamp

    def unsign(self, cookie: str, max_age: int) -> str | None:
        """Return the serialized session inside a valid, unexpired ``cookie``.

        Returns ``None`` when the signature, timestamp, age or payload is
        not right; the caller then lets itsdangerous decide what that means.
        """
        try:
            value, sep, signature = cookie.encode("utf-8").rpartition(b".")
            if not sep or not self._verify(value, _b64decode(signature)):
                return None
            payload, sep, stamp = value.rpartition(b".")
            if not sep:
                return None
            age = int(time.time()) - bytes_to_int(_b64decode(stamp))
            if age > max_age or age < 0:
                return None
            return load_payload(payload)
        except Exception:  # itsdangerous re-judges the cookie
            return None

    def _verify(self, value: bytes, signature: bytes) -> bool:
        """Tell whether ``signature`` is ``value``'s under any accepted key."""
        for mac in self._check_macs:
            if hmac.compare_digest(signature, mac.digest(value)):
                return True
        return False


def load_payload(payload: bytes) -> str:
    """Undo ``URLSafeSerializerMixin.dump_payload``: base64, maybe zlib.

    :raise Exception: Whatever base64, zlib or UTF-8 decoding raises.
    """
    if payload.startswith(b"."):
        return zlib.decompress(_b64decode(payload[1:])).decode("utf-8")
    return _b64decode(payload).decode("utf-8")


def peek_payload(cookie: str) -> bytes | None:
    """Return the serialized session in ``cookie`` without checking it.

    Only for deciding whether a cookie is worth checking: the text may be
    forged. Returns ``None`` for a compressed payload and for one that does
    not decode.
    """
    payload = cookie.partition(".")[0]
    if not payload:  # a compressed payload starts with the separator
        return None
    try:
        return _b64decode(payload.encode("ascii"))
    except (UnicodeError, ValueError):  # binascii.Error is a ValueError
        return None


#: Signers by (secret key, fallback keys, salt). Few apps use more than one
#: key set, so the cache is small; it is cleared when it fills up, which
#: also drops old keys after many rotations.
_signers: dict[tuple[t.Any, ...], CookieSigner] = {}
_MAX_SIGNERS = 8


def cached_signer(
    secret_key: str | bytes, fallbacks: t.Any, salt: str | bytes
) -> CookieSigner | None:
    """Return the signer for these keys, or ``None`` if they are unusual.

    Keys that are not text or bytes, and fallbacks that are not a list,
    tuple or single key, are left to itsdangerous.
    """
    if not fallbacks:
        fallbacks = ()
    elif isinstance(fallbacks, (str, bytes)):
        fallbacks = (fallbacks,)
    elif isinstance(fallbacks, (list, tuple)):
        fallbacks = tuple(fallbacks)
    else:
        return None
    cache_key = (secret_key, fallbacks, salt)
    try:
        return _signers[cache_key]
    except KeyError:
        pass
    except TypeError:  # an unhashable key: not one we can sign with anyway
        return None
    keys = signing_keys(secret_key, fallbacks)
    if not all(isinstance(key, bytes) for key in keys):
        return None
    if len(_signers) >= _MAX_SIGNERS:
        _signers.clear()
    signer = _signers[cache_key] = CookieSigner(keys, as_bytes(salt))
    return signer
