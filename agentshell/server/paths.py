"""Where the socket lives, and the checks that keep it private.

* The socket sits in a private directory: mode 0700, owned by the server's user, not a
  symlink (:func:`ensure_private_dir` creates it or refuses one that is not).
* The socket itself is created 0600 (:func:`bind_private_socket`).
* Default path: ``$XDG_RUNTIME_DIR/agentshell/<session>.sock``, falling back to
  ``/tmp/agentshell-<uid>/<session>.sock``.
* The operator token (what authenticates the human's own tools) is written beside the
  socket as ``<session>.sock.operator`` with mode 0600, so only the same user can read
  it; ``$AGENTSHELL_OPERATOR_TOKEN`` overrides it for the CLI.
"""

from __future__ import annotations

import contextlib
import os
import socket
import stat
from pathlib import Path

from agentshell.coordinator.wire import SocketSecurityError as SocketSecurityError
from agentshell.coordinator.wire import operator_token_path as operator_token_path
from agentshell.coordinator.wire import read_private_file as read_private_file
from agentshell.core.errors import AgentShellError


class AlreadyServingError(AgentShellError):
    """Another server is already listening on the socket path."""


def default_socket_dir() -> Path:
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime):
        return Path(runtime) / "agentshell"
    return Path(f"/tmp/agentshell-{os.getuid()}")


def default_socket_path(session: str) -> Path:
    return default_socket_dir() / f"{session}.sock"


def ensure_private_dir(path: Path) -> None:
    """Create ``path`` 0700, or check an existing one is a private directory of ours."""
    try:
        os.mkdir(path, 0o700)
    except FileExistsError:
        pass
    except OSError as exc:  # its parent missing, not a directory, read-only
        raise SocketSecurityError(
            f"cannot make the socket directory {path}: {exc.strerror or exc}"
        ) from exc
    st = os.lstat(path)
    if stat.S_ISLNK(st.st_mode):
        raise SocketSecurityError(f"{path} is a symlink; refusing to use it for the socket")
    if not stat.S_ISDIR(st.st_mode):
        raise SocketSecurityError(f"{path} is not a directory")
    if st.st_uid != os.getuid():
        raise SocketSecurityError(
            f"{path} is owned by uid {st.st_uid}, not by us ({os.getuid()}); refusing it"
        )
    if st.st_mode & 0o077:
        raise SocketSecurityError(
            f"{path} has mode {stat.S_IMODE(st.st_mode):o}; it must be 0700 "
            f"(fix with: chmod 700 {path})"
        )


def _someone_listening(path: Path) -> bool:
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        s.settimeout(1.0)
        s.connect(str(path))
    except OSError:
        return False
    else:
        return True
    finally:
        s.close()


def check_socket_path(path: Path) -> bool:
    """Whether a server could bind ``path`` now: raises what :func:`bind_private_socket`
    would (a parent that is not a private directory of ours, a live server there,
    something that is not a socket). Returns True when a stale socket is in the way
    (binding replaces it). Run it before starting anything that writes the session."""
    ensure_private_dir(path.parent)
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return False
    if not stat.S_ISSOCK(st.st_mode):
        raise SocketSecurityError(f"{path} exists and is not a socket; refusing to replace it")
    if _someone_listening(path):
        raise AlreadyServingError(f"a server is already listening on {path}")
    return True


def bind_private_socket(path: Path) -> socket.socket:
    """A listening-ready Unix socket bound at ``path`` with mode 0600.

    The parent directory must pass :func:`ensure_private_dir` (checked here). A stale
    socket left by a dead server is replaced; a live one raises AlreadyServingError;
    anything else at the path is refused.
    """
    if check_socket_path(path):
        os.unlink(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        old = os.umask(0o177)
        try:
            sock.bind(str(path))
        finally:
            os.umask(old)
        os.chmod(path, 0o600)
    except BaseException:
        sock.close()
        raise
    return sock


def peer_uid(sock: socket.socket) -> int:
    """The uid of the process at the other end of a connected Unix socket."""
    import struct

    creds = sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
    _pid, uid, _gid = struct.unpack("3i", creds)
    return int(uid)


def write_private_file(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` with mode 0600 (replacing it atomically)."""
    tmp = path.with_name(path.name + ".tmp")
    with contextlib.suppress(FileNotFoundError):
        os.unlink(tmp)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    try:
        os.write(fd, text.encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def socket_record_path(session_dir: Path) -> Path:
    """Where ``agentshell serve`` records the socket it listens on for this session."""
    return session_dir / "server.socket"


def find_socket(socket: Path | None, session_dir: Path | None, session: str) -> Path:
    """The socket to use: ``socket`` if given, ``$AGENTSHELL_SOCKET``, the one the
    session's server recorded, else the default path for ``session``."""
    if socket is not None:
        return socket
    env = os.environ.get("AGENTSHELL_SOCKET")
    if env:
        return Path(env)
    if session_dir is not None:
        rec = socket_record_path(session_dir)
        with contextlib.suppress(OSError):
            text = rec.read_text().strip()
            if text:
                return Path(text)
    return default_socket_path(session)


def is_serving(path: Path) -> bool:
    """True when a server is listening on ``path``."""
    return _someone_listening(path)
