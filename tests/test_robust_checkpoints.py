"""`--resume DIR` with damaged checkpoints and unusable folders: a checkpoint that cannot be read,
or holds something else than a result, is computed again and rewritten (a one-line note names it),
and the run's output is a fresh run's; a folder that cannot be used is one line naming --resume."""

from __future__ import annotations

import gzip
import json
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cli_support import invoke
from user_events import events

from sandbox.cli import main

DAY = "1709596800000"


def notes(err: str) -> list[str]:
    """stderr's lines but the unmatched-subscription warning and the resumed count."""
    return [line for line in err.splitlines() if ": warning: " not in line and ": resumed " not in line]


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An archive of two sources, three files; `fresh.txt` beside it: `run`'s output over it."""
    root = tmp_path_factory.mktemp("checkpoints")
    for number, (source, day) in enumerate((("srcA", DAY), ("srcA", "1709683200000"), ("srcB", DAY))):
        folder = root / "arch" / "segment-logs" / source / day
        folder.mkdir(parents=True)
        with gzip.open(folder / "part1.gz", "wt") as out:
            out.writelines(json.dumps(e) + "\n" for e in events(40, number))
    return root / "arch"


@pytest.fixture(scope="module")
def kept(archive: Path) -> tuple[Path, str]:
    """A checkpoint folder of `run ARCHIVE --resume`, and that run's output."""
    folder = archive.parent / "kept"
    done = subprocess.run(
        [sys.executable, "-m", "sandbox", "run", str(archive), "--resume", str(folder)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert sorted({p.name.split("-")[0] for p in folder.iterdir()}) == ["keys", "partition"]
    return folder, done.stdout


DAMAGE = {
    "text": b"garbage",
    "bytes": bytes(range(256)) * 3,
    "empty": b"",
    "dict": pickle.dumps({"x": 1}),
    "none": pickle.dumps(None),
    "list": pickle.dumps([1, 2]),
}


@pytest.mark.parametrize("kind", ["keys", "partition"])
@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_checkpoint_is_computed_again_with_a_note_naming_it(
    archive: Path,
    kept: tuple[Path, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    kind: str,
    damage: str,
) -> None:
    """Without the fix: ValueError, UnpicklingError, UnicodeDecodeError, TypeError or
    AttributeError from the load or from the result's first use, or an InputError asking to
    remove the file."""
    original, fresh = kept
    folder = tmp_path / "resume"
    shutil.copytree(original, folder)
    broken = sorted(folder.glob(f"{kind}-*"))[0]
    broken.write_bytes(DAMAGE[damage])
    code, out, err = invoke(main, ["run", str(archive), "--resume", str(folder)], capsys)
    assert code == 0, err
    assert out == fresh
    (note,) = notes(err)
    assert note.startswith(f"cio-sandbox run: {broken}: an unreadable checkpoint (")
    assert "did not hold" not in note
    assert not isinstance(pickle.loads(broken.read_bytes()), (dict, list, type(None)))


@pytest.mark.parametrize("damage", ["dict", "list", "keys"])
def test_a_damaged_diff_checkpoint_is_compared_again(
    archive: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: str
) -> None:
    """diff's partitions (DiffPart) are checked as run's are: something else in their checkpoint
    is compared again, with the note."""
    assert main(["init", str(tmp_path / "old.toml")]) == 0
    old = tmp_path / "old.toml"
    new = tmp_path / "new.toml"
    text = old.read_text(encoding="utf-8")
    track = 'partnerAction = "trackEvent"\nenabled = true\n'
    assert track in text
    new.write_text(text.replace(track, track.replace("true", "false"), 1), encoding="utf-8")
    argv = ["diff", str(old), str(new), str(archive), "--json", "--resume", str(tmp_path / "resume")]
    capsys.readouterr()
    code, fresh, _ = invoke(main, argv, capsys)
    assert code == 1
    broken = sorted((tmp_path / "resume").glob("partition-*"))[0]
    keys = sorted((tmp_path / "resume").glob("keys-*"))[0]
    broken.write_bytes(
        keys.read_bytes() if damage == "keys" else DAMAGE[damage]
    )  # keys: a result, not diff's
    code, out, err = invoke(main, argv, capsys)
    assert (code, out) == (1, fresh)
    (note,) = notes(err)
    assert note.startswith(f"cio-sandbox diff: {broken}: an unreadable checkpoint (")


def test_a_damaged_checkpoint_of_standard_input_is_replayed_again(tmp_path: Path) -> None:
    """The driver's pass (events from standard input, partitioned.resumable); without the fix a
    text in a partition's checkpoint is a traceback."""
    text = "".join(json.dumps(e) + "\n" for e in events(60, 7))
    command = [sys.executable, "-m", "sandbox", "run", "-", "--resume", str(tmp_path / "resume")]

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(command, input=text, capture_output=True, text=True, timeout=120)

    fresh = run()
    assert fresh.returncode == 0, fresh.stderr
    (broken, *_) = sorted((tmp_path / "resume").glob("partition-*"))
    broken.write_bytes(b"garbage")
    again = run()
    assert again.returncode == 0, again.stderr
    assert again.stdout == fresh.stdout
    (note,) = notes(again.stderr)
    assert note.startswith(f"cio-sandbox run: {broken}: an unreadable checkpoint (")


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_a_resume_folder_that_cannot_be_written_is_one_line(
    archive: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """/proc/self is a directory no file can be made in (as root too); without the fix a
    FileNotFoundError traceback from save_checkpoint."""
    code, out, err = invoke(main, ["run", str(archive), "--resume", "/proc/self"], capsys)
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        "cio-sandbox run: /proc/self: cannot write checkpoints in it (--resume): No such file or directory"
    ]


def test_a_checkpoint_that_cannot_be_written_is_one_line_and_keeps_the_others(
    archive: Path, kept: tuple[Path, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A checkpoint's name taken by a folder: noted unreadable, then its rewrite fails (without the
    fix an IsADirectoryError traceback); the checkpoints already there stay."""
    folder = tmp_path / "resume"
    shutil.copytree(kept[0], folder)
    taken = sorted(folder.glob("keys-*"))[0]
    taken.unlink()
    (taken / "inside").mkdir(parents=True)
    before = sorted(p.name for p in folder.iterdir())
    code, out, err = invoke(main, ["run", str(archive), "--resume", str(folder)], capsys)
    assert (code, out) == (2, "")
    *_, last = err.splitlines()
    assert last.startswith(f"cio-sandbox run: {folder}: cannot write checkpoints in it (--resume): ")
    assert sorted(p.name for p in folder.iterdir()) == before


@pytest.mark.parametrize(
    ("folder", "line"),
    [
        (
            "s3://bucket/ckpt",
            "s3://bucket/ckpt: --resume keeps its checkpoints in a local directory, not a URL",
        ),
        ("", "error: argument --resume: needs a path, got '' (see cio-sandbox run --help)"),
    ],
    ids=["url", "empty"],
)
def test_a_resume_folder_that_is_a_url_or_empty_is_refused(
    archive: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    folder: str,
    line: str,
) -> None:
    """Without the fix a URL made the local folder ./s3:/bucket/ckpt, and '' was `cannot create`
    without the flag."""
    monkeypatch.chdir(tmp_path)
    code, out, err = invoke(main, ["run", str(archive), "--resume", folder], capsys)
    assert (code, out, err.splitlines()) == (2, "", [f"cio-sandbox run: {line}"])
    assert list(tmp_path.iterdir()) == []


def test_batch_mode_with_resume_alone_names_resume(
    archive: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """No --workers given: the refusal named --workers and said to use --workers 1 (without the fix)."""
    code, out, err = invoke(main, ["run", str(archive), "--batch", "--resume", str(tmp_path / "r")], capsys)
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        "cio-sandbox run: --resume: replays single mode only: a batch request carries several people "
        "(drop --batch / batch = true, or drop --resume)"
    ]
