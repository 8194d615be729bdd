"""The frame codec (it lives in :mod:`agentshell.coordinator.wire` so that both the
server and the client, sibling layers, can share it)."""

from agentshell.coordinator.wire import (
    HEADER,
    MAX_FRAME,
    BadFrame,
    FrameError,
    FrameTooLarge,
    check_length,
    decode_body,
    encode,
    read_frame,
    recv_frame_sync,
    send_frame_sync,
)

__all__ = [
    "HEADER",
    "MAX_FRAME",
    "BadFrame",
    "FrameError",
    "FrameTooLarge",
    "check_length",
    "decode_body",
    "encode",
    "read_frame",
    "recv_frame_sync",
    "send_frame_sync",
]
