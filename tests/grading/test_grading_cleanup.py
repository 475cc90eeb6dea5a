"""remove_tree: deep, read-only and symlinked trees go, without recursion and without following links."""

import os

from barenet.grading.sandbox.cleanup import remove_tree


def deep_chain(root, depth):
    """``root/d/d/.../d/f`` ``depth`` folders deep, built relative to folder descriptors."""
    fd = os.open(root, os.O_RDONLY)
    for _ in range(depth):
        os.mkdir("d", dir_fd=fd)
        inner = os.open("d", os.O_RDONLY, dir_fd=fd)
        os.close(fd)
        fd = inner
    with open(os.open("f", os.O_WRONLY | os.O_CREAT, 0o600, dir_fd=fd), "w") as handle:
        handle.write("deep")
    os.close(fd)


def test_a_deep_chain_is_removed(tmp_path):
    root = tmp_path / "work"
    root.mkdir()
    deep_chain(root, 1500)  # paths far longer than the system allows
    remove_tree(root)
    assert not root.exists()


def test_read_only_folders_and_links_are_removed_without_following(tmp_path):
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep.txt").write_text("not the submission's")
    root = tmp_path / "work"
    (root / "locked" / "inner").mkdir(parents=True)
    (root / "locked" / "inner" / "x").write_text("1")
    os.chmod(root / "locked" / "inner", 0o500)
    os.chmod(root / "locked", 0o000)
    os.symlink(outside, root / "link-to-folder")
    os.symlink(outside / "keep.txt", root / "link-to-file")
    os.symlink("/nonexistent", root / "dangling")
    os.chmod(root, 0o500)
    remove_tree(root)
    assert not root.exists()
    assert (outside / "keep.txt").read_text() == "not the submission's"


def test_a_link_given_as_the_tree_is_unlinked_not_followed(tmp_path):
    target = tmp_path / "target"
    target.mkdir()
    (target / "keep.txt").write_text("x")
    link = tmp_path / "link"
    link.symlink_to(target)
    remove_tree(link)
    assert not link.exists() and (target / "keep.txt").exists()
