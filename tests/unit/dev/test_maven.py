"""Rendering the throwaway POM, recognising a complete cache, and reporting a failed resolve."""

from __future__ import annotations

import json
import stat
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from corps.dev import ResolveError
from corps.dev.maven import (
    MARKER,
    Artifact,
    is_complete,
    kafka_artifacts,
    registry_artifact,
    render_pom,
    resolve_jars,
    unpack_distribution,
)

NS = {"m": "http://maven.apache.org/POM/4.0.0"}


def _never() -> Path:
    raise AssertionError("mvn must not run when the cache is complete")


def test_kafka_pom_pins_one_slf4j_version() -> None:
    root = ET.fromstring(render_pom(kafka_artifacts("4.4.0", "2.0.17")))
    deps = {
        (d.findtext("m:groupId", namespaces=NS), d.findtext("m:artifactId", namespaces=NS)): d.findtext(
            "m:version", namespaces=NS
        )
        for d in root.iterfind("m:dependencies/m:dependency", NS)
    }
    assert deps == {
        ("org.apache.kafka", "kafka_2.13"): "4.4.0",
        ("org.slf4j", "slf4j-api"): "2.0.17",
        ("org.slf4j", "slf4j-simple"): "2.0.17",
    }
    assert root.findtext("m:packaging", namespaces=NS) == "pom"


def test_archive_coordinates_carry_type_and_classifier() -> None:
    art = registry_artifact("3.0.9")
    assert str(art) == "io.apicurio:apicurio-registry-app:3.0.9:tar.gz:all"
    xml = render_pom([art])
    assert "<type>tar.gz</type>" in xml
    assert "<classifier>all</classifier>" in xml
    assert str(Artifact("g", "a", "1")) == "g:a:1"


def test_pom_escapes_xml() -> None:
    ET.fromstring(render_pom([Artifact("g<", "a&", "1>")]))  # parses: nothing leaks as markup


def _complete_cache(target: Path, artifacts: list[Artifact]) -> None:
    (target / "lib").mkdir(parents=True)
    (target / "lib" / "x.jar").write_bytes(b"jar")
    marker = {"coordinates": [str(a) for a in artifacts], "files": ["lib/x.jar"]}
    (target / MARKER).write_text(json.dumps(marker))


def test_complete_cache_is_recognised_and_mvn_skipped(tmp_path: Path) -> None:
    artifacts = list(kafka_artifacts("4.4.0", "2.0.17"))
    _complete_cache(tmp_path, artifacts)
    assert is_complete(tmp_path, artifacts)
    assert resolve_jars(_never, artifacts, tmp_path) == tmp_path / "lib"


@pytest.mark.parametrize("damage", ["other-version", "missing-file", "no-marker", "garbage-marker"])
def test_incomplete_cache_is_not_trusted(tmp_path: Path, damage: str) -> None:
    artifacts = list(kafka_artifacts("4.4.0", "2.0.17"))
    _complete_cache(tmp_path, artifacts)
    if damage == "other-version":
        artifacts = list(kafka_artifacts("4.3.0", "2.0.17"))
    elif damage == "missing-file":
        (tmp_path / "lib" / "x.jar").unlink()
    elif damage == "no-marker":
        (tmp_path / MARKER).unlink()
    else:
        (tmp_path / MARKER).write_text("{not json")
    assert not is_complete(tmp_path, artifacts)


def _fake_mvn(tmp_path: Path, body: str) -> Path:
    script = tmp_path / "bin" / "mvn"
    script.parent.mkdir()
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


def test_failed_resolve_reports_the_tail_of_mvns_output(tmp_path: Path) -> None:
    mvn = _fake_mvn(tmp_path, 'i=1; while [ $i -le 100 ]; do echo "mvn line $i"; i=$((i+1)); done; exit 1')
    target = tmp_path / "cache"
    with pytest.raises(ResolveError) as failure:
        resolve_jars(lambda: mvn, kafka_artifacts("4.4.0", "2.0.17"), target)
    message = str(failure.value)
    assert "org.apache.kafka:kafka_2.13:4.4.0" in message
    assert "exit 1" in message
    assert "mvn line 100" in message
    assert "mvn line 61\n" in message
    assert "mvn line 60\n" not in message  # only the last 40 lines
    assert str(target / "mvn.log") in message
    assert not is_complete(target, kafka_artifacts("4.4.0", "2.0.17"))


def test_successful_copy_writes_the_marker(tmp_path: Path) -> None:
    # a stand-in for `mvn dependency:copy-dependencies -DoutputDirectory=DIR`: it copies one jar
    mvn = _fake_mvn(
        tmp_path,
        'for a in "$@"; do case "$a" in -DoutputDirectory=*) d="${a#-DoutputDirectory=}";; esac; done\n'
        'mkdir -p "$d" && echo jar > "$d/kafka_2.13-4.4.0.jar" && echo "Downloaded from central: '
        'https://repo/kafka_2.13-4.4.0.jar (5 MB at 1 MB/s)"',
    )
    seen: list[str] = []
    artifacts = kafka_artifacts("4.4.0", "2.0.17")
    lib = resolve_jars(lambda: mvn, artifacts, tmp_path / "cache", progress=seen.append)
    assert (lib / "kafka_2.13-4.4.0.jar").is_file()
    assert is_complete(tmp_path / "cache", artifacts)
    assert seen == ["downloaded kafka_2.13-4.4.0.jar"]
    assert resolve_jars(_never, artifacts, tmp_path / "cache") == lib  # second run: no Maven


def test_unpack_without_jars_is_an_error(tmp_path: Path) -> None:
    mvn = _fake_mvn(
        tmp_path,
        'for a in "$@"; do case "$a" in -DoutputDirectory=*) d="${a#-DoutputDirectory=}";; esac; done\n'
        'mkdir -p "$d" && echo readme > "$d/README"',
    )
    with pytest.raises(ResolveError, match="holds no jar"):
        unpack_distribution(lambda: mvn, registry_artifact("3.0.9"), tmp_path / "cache")
