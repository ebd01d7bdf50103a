import os
import shutil
import socket
import stat
from pathlib import Path

import pytest

from autograder.grading.submission import locate, stage


def write(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x = 1\n")


def test_top_level_file_is_graded_without_note(tmp_path):
    write(tmp_path, "two_layer_net.py", "notes.txt")
    found = locate(tmp_path, "two_layer_net.py")
    assert found.relative == Path("two_layer_net.py") and not found.note and not found.error


def test_nested_file_is_found_and_said(tmp_path):
    write(tmp_path, "hw2/two_layer_net.py", "__MACOSX/hw2/._two_layer_net.py")
    found = locate(tmp_path, "two_layer_net.py")
    assert found.relative == Path("hw2/two_layer_net.py") and "subfolder" in found.note


def test_only_python_file_is_graded_with_a_note(tmp_path):
    write(tmp_path, "my_hw.py", "README.md")
    found = locate(tmp_path, "two_layer_net.py")
    assert found.relative == Path("my_hw.py")
    assert "my_hw.py" in found.note and "two_layer_net.py" in found.note


def test_several_candidates_list_what_was_uploaded(tmp_path):
    write(tmp_path, "a.py", "b.py", "data.csv")
    found = locate(tmp_path, "two_layer_net.py")
    assert found.relative is None
    assert "a.py" in found.error and "b.py" in found.error and "data.csv" in found.error


def test_empty_upload(tmp_path):
    found = locate(tmp_path, "two_layer_net.py")
    assert found.relative is None and "Uploaded: nothing" in found.error


def test_stage_copies_helpers_beside_the_file(tmp_path):
    upload = tmp_path / "upload"
    write(upload, "two_layer_net.py", "helpers.py")
    module = stage(locate(upload, "two_layer_net.py"), tmp_path / "scratch").module
    assert module == tmp_path / "scratch" / "submission" / "two_layer_net.py"
    assert (module.parent / "helpers.py").exists()


def test_stage_of_a_single_file_copies_only_it(tmp_path):
    write(tmp_path, "folder/hw.py", "folder/other_big_thing.bin")
    module = stage(locate(tmp_path / "folder" / "hw.py", "two_layer_net.py"), tmp_path / "scratch").module
    assert sorted(p.name for p in module.parent.iterdir()) == ["hw.py"]


NOTEBOOK = (Path(__file__).resolve().parents[2] / "examples" / "submissions" / "notebook_correct" / "homework2.ipynb")


@pytest.mark.parametrize("absolute", [True, False])
@pytest.mark.parametrize("existing", [True, False])
def test_a_notebook_upload_never_writes_through_a_link_named_like_the_module(tmp_path, absolute, existing):
    """two_layer_net.py as a link beside a notebook: the notebook is graded (the worker reads its cells:
    nothing is written beside it), and the link's target is neither overwritten nor created."""
    victim = tmp_path / "outside" / "victim.py"
    victim.parent.mkdir()
    if existing:
        victim.write_text("precious = True\n")
    upload = tmp_path / "upload"
    upload.mkdir()
    shutil.copy(NOTEBOOK, upload / "homework2.ipynb")
    link = victim if absolute else os.path.relpath(victim, upload)
    (upload / "two_layer_net.py").symlink_to(link)
    staged = stage(locate(upload, "two_layer_net.py"), tmp_path / "scratch")
    assert staged.module == tmp_path / "scratch" / "submission" / "homework2.ipynb"
    assert not (tmp_path / "scratch" / "submission" / "two_layer_net.py").exists()
    assert (victim.read_text() == "precious = True\n") if existing else not victim.exists()
    assert "two_layer_net.py (a link to" in " ".join(staged.notes)


def test_links_are_kept_only_where_they_stay_inside_the_upload(tmp_path):
    upload = tmp_path / "upload"
    write(upload, "two_layer_net.py", "lib/helpers.py", "lib/deep/data.txt")
    secret = tmp_path / "secret.txt"
    secret.write_text("s3cret")
    (upload / "helpers.py").symlink_to("lib/helpers.py")  # inside: kept
    (upload / "lib" / "up.py").symlink_to("../two_layer_net.py")  # inside, through "..": kept
    (upload / "abs.txt").symlink_to(secret)  # outside, absolute
    (upload / "rel.txt").symlink_to(os.path.relpath(secret, upload))  # outside, relative
    (upload / "lib" / "deep" / "root").symlink_to("../..")  # the upload's own root: kept
    (upload / "lib" / "deep" / "escape").symlink_to("root/..")  # through a kept link, out: not
    (upload / "dangling").symlink_to("nowhere")
    (upload / "loop").symlink_to("loop")
    staged = stage(locate(upload, "two_layer_net.py"), tmp_path / "scratch")
    copy = tmp_path / "scratch" / "submission"
    assert (copy / "helpers.py").read_text() == "x = 1\n" and (copy / "lib" / "up.py").is_symlink()
    assert (copy / "lib" / "deep" / "root").is_symlink()
    for gone in ("abs.txt", "rel.txt", "lib/deep/escape", "dangling", "loop"):
        assert not (copy / gone).is_symlink() and not (copy / gone).exists(), gone
        assert gone in staged.notes[0]
    assert "s3cret" not in "".join(p.read_text() for p in copy.rglob("*") if p.is_file())


def test_devices_fifos_and_sockets_are_left_out_and_setuid_bits_dropped(tmp_path):
    upload = tmp_path / "upload"
    write(upload, "two_layer_net.py", "tool")
    os.chmod(upload / "tool", 0o6755)
    os.mkfifo(upload / "pipe")  # opening it to copy would block: it must not be opened
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(upload / "sock"))
    try:
        staged = stage(locate(upload, "two_layer_net.py"), tmp_path / "scratch")
    finally:
        server.close()
    copy = tmp_path / "scratch" / "submission"
    assert sorted(p.name for p in copy.iterdir()) == ["tool", "two_layer_net.py"]
    assert stat.S_IMODE((copy / "tool").stat().st_mode) == 0o755
    assert "pipe (not a regular file)" in staged.notes[0] and "sock (not a regular file)" in staged.notes[0]
