"""Port picking: the preferred port when free, another one when it is taken."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from corps.dev.ports import is_port_free, pick_port, wait_for_port

HOST = "127.0.0.1"


@pytest.fixture
def listener() -> Iterator[int]:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        sock.listen()
        yield int(sock.getsockname()[1])


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def test_a_listening_port_is_taken(listener: int) -> None:
    assert not is_port_free(HOST, listener)
    assert wait_for_port(HOST, listener, 1.0)


def test_preferred_port_is_used_when_free() -> None:
    port = _free_port()
    assert is_port_free(HOST, port)
    assert pick_port(HOST, port) == port


def test_taken_preferred_port_means_another_port(listener: int) -> None:
    picked = pick_port(HOST, listener)
    assert picked != listener
    assert is_port_free(HOST, picked)


def test_avoided_ports_are_not_picked() -> None:
    port = _free_port()
    picked = pick_port(HOST, port, avoid={port})
    assert picked != port


def test_no_preference_gives_a_free_port() -> None:
    assert is_port_free(HOST, pick_port(HOST))


def test_nobody_listening_is_not_ready() -> None:
    assert not wait_for_port(HOST, _free_port(), 0.5)
