"""A node's id among several smsc nodes on one database: ``[server] node`` when set, else an
id generated once and kept in ``[server] node_file``, so a node keeps its id across restarts
(its bind registrations and outbox leases from before a crash are then recognised as its own
and cleared at once, instead of waiting for the lease)."""

from __future__ import annotations

import os
import secrets
import socket
from pathlib import Path

from smsc.config.server import ServerSettings, valid_node_id
from smsc.config_error import ConfigError


def generated_node_id() -> str:
    """The host's name (cut to what an id allows) and a random suffix."""
    host = "".join(c for c in socket.gethostname() if c.isalnum() or c in "._-")[:40]
    return f"{host or 'node'}-{secrets.token_hex(4)}"


def node_id(settings: ServerSettings) -> str:
    """The configured id, else the one in ``node_file`` (written with a new id if the file
    does not exist yet)."""
    if settings.node:
        return settings.node
    path = Path(settings.node_file)
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        text = ""
    except OSError as e:
        raise ConfigError("server.node_file", f"cannot read {path}: {e.strerror}") from None
    if text:
        if not valid_node_id(text):
            raise ConfigError("server.node_file", f"{path} does not hold a node id "
                                                  "(1 to 64 letters, digits, '.', '_', '-')")
        return text
    text = generated_node_id()
    try:
        temporary = path.with_name(path.name + ".tmp")
        temporary.write_text(text + "\n", encoding="utf-8")
        os.replace(temporary, path)
    except OSError as e:
        raise ConfigError("server.node_file", f"cannot write {path}: {e.strerror}") from None
    return text


__all__ = ["generated_node_id", "node_id"]
