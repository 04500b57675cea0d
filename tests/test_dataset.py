"""The profiling dataset format: JSONL of {id, input, reference}, every problem reported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flowcompile.profiling.dataset import DatasetError, Query, load_dataset, write_dataset
from flowcompile.sim import SimWorld, generate_dataset


def test_round_trip_keeps_extra_keys(tmp_path: Path) -> None:
    path = tmp_path / "d.jsonl"
    path.write_text(
        '{"id": "a", "input": "x", "reference": "1", "split": "dev", "tags": ["m"]}\n'
        "\n"
        '{"reference": "2", "input": "y", "id": "b"}\n'
    )
    queries = load_dataset(path)
    assert [q.id for q in queries] == ["a", "b"]
    assert queries[0] == Query("a", "x", "1")
    assert dict(queries[0].meta) == {"split": "dev", "tags": ["m"]}
    assert dict(queries[1].meta) == {}
    with pytest.raises(TypeError):
        queries[0].meta["split"] = "test"  # type: ignore[index]
    out = write_dataset(tmp_path / "sub" / "copy.jsonl", queries)
    again = load_dataset(out)
    assert again == queries and [dict(q.meta) for q in again] == [dict(q.meta) for q in queries]
    assert all(list(json.loads(line)) == sorted(json.loads(line)) for line in out.read_text().splitlines())


def test_every_problem_is_listed_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(
        "\n".join(
            [
                '{"id": "a", "input": "x", "reference": "1"}',  # 1 ok
                '{"id": "b", "input": "x"',  # 2 invalid JSON
                '{"id": "c", "input": "x"}',  # 3 missing reference
                '{"id": 4, "input": "x", "reference": "1"}',  # 4 non-string id
                '{"id": "a", "input": "y", "reference": "2"}',  # 5 duplicate
                '["not", "an", "object"]',  # 6
                '{"id": "", "input": "x", "reference": "1"}',  # 7 empty id
            ]
        )
    )
    with pytest.raises(DatasetError) as err:
        load_dataset(path)
    problems = err.value.problems
    assert [p.split(": ", 1)[0] for p in problems] == [f"{path}:{n}" for n in (2, 3, 4, 5, 6, 7)]
    assert "invalid JSON" in problems[0]
    assert "missing field 'reference'" in problems[1]
    assert "field 'id' must be a string, got int" in problems[2]
    assert "duplicate id 'a' (first on line 1)" in problems[3]
    assert "expected a JSON object" in problems[4]
    assert str(err.value) == "\n".join(problems)


def test_empty_and_missing_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n  \n")
    with pytest.raises(DatasetError, match=r"empty\.jsonl:1: empty dataset"):
        load_dataset(empty)
    with pytest.raises(DatasetError, match="cannot read"):
        load_dataset(tmp_path / "nope.jsonl")


def test_sim_generated_dataset_loads(tmp_path: Path) -> None:
    sim = SimWorld()
    rows = generate_dataset(sim, 25, seed=3)
    queries = load_dataset(write_dataset(tmp_path / "sim.jsonl", rows))
    assert [q.id for q in queries] == [r["id"] for r in rows]
    assert all(q.reference == sim.correct_value(q.id, "answer") for q in queries)


def test_write_refuses_what_load_would(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="repeated"):
        write_dataset(tmp_path / "d.jsonl", [Query("a", "x", "1"), Query("a", "y", "2")])
    with pytest.raises(ValueError, match="'reference' must be a string"):
        write_dataset(tmp_path / "d.jsonl", [{"id": "a", "input": "x"}])
    assert not (tmp_path / "d.jsonl").exists()
