from pathlib import Path

from autograder.submission import locate, stage


def write(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x = 1\n")


def test_top_level_file_is_graded_without_note(tmp_path):
    write(tmp_path, "two_layer_net.py", "notes.txt")
    found = locate(tmp_path)
    assert found.relative == Path("two_layer_net.py") and not found.note and not found.error


def test_nested_file_is_found_and_said(tmp_path):
    write(tmp_path, "hw2/two_layer_net.py", "__MACOSX/hw2/._two_layer_net.py")
    found = locate(tmp_path)
    assert found.relative == Path("hw2/two_layer_net.py") and "subfolder" in found.note


def test_only_python_file_is_graded_with_a_note(tmp_path):
    write(tmp_path, "my_hw.py", "README.md")
    found = locate(tmp_path)
    assert found.relative == Path("my_hw.py")
    assert "my_hw.py" in found.note and "two_layer_net.py" in found.note


def test_several_candidates_list_what_was_uploaded(tmp_path):
    write(tmp_path, "a.py", "b.py", "data.csv")
    found = locate(tmp_path)
    assert found.relative is None
    assert "a.py" in found.error and "b.py" in found.error and "data.csv" in found.error


def test_empty_upload(tmp_path):
    found = locate(tmp_path)
    assert found.relative is None and "Uploaded: nothing" in found.error


def test_stage_copies_helpers_beside_the_file(tmp_path):
    upload = tmp_path / "upload"
    write(upload, "two_layer_net.py", "helpers.py")
    module = stage(locate(upload), tmp_path / "scratch")
    assert module == tmp_path / "scratch" / "submission" / "two_layer_net.py"
    assert (module.parent / "helpers.py").exists()


def test_stage_of_a_single_file_copies_only_it(tmp_path):
    write(tmp_path, "folder/hw.py", "folder/other_big_thing.bin")
    module = stage(locate(tmp_path / "folder" / "hw.py"), tmp_path / "scratch")
    assert sorted(p.name for p in module.parent.iterdir()) == ["hw.py"]
