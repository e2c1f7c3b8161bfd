"""Output files (issue 14): whatever is at an output path is respected (devices, FIFOs and
stdout are written through, a symlink's target is replaced, a directory never is); every
output of `w2v-ext train` is checked, by creating its temporary file, before the corpus is
counted; an output never replaces a corpus file or another output of the same run; and a
write removes the temporary files that killed writers left beside its target.

Runs as root too: the unwritable directories are /sys (sysfs lets nobody create files)
and one made immutable with chattr +i (or read-only with chmod when not root)."""
from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from trainer_testing import REPO, run_cli
from w2v_ext import atomic_file
from w2v_ext.trainer import Word2Vec
from w2v_ext.vectors import KeyedVectors

FAST = ["--model", "sg", "--dim", "8", "--min-count", "1", "--threads", "1", "--epochs", "1", "--seed", "2"]
SMALL = dict(model="sg", dim=8, min_count=1, threads=1, epochs=1, seed=2, progress=False)


@pytest.fixture(scope="module")
def corpus(zipf_corpus):
    return zipf_corpus(5, 30, 80)


@pytest.fixture(scope="module")
def model(corpus):
    return Word2Vec(corpus, **SMALL)


@pytest.fixture(scope="module")
def expected_bin(model, tmp_path_factory):
    """The bytes `model.save(NAME.bin)` writes to a regular file (the CLI with FAST writes the same)."""
    path = tmp_path_factory.mktemp("expected") / "v.bin"
    model.save(path)
    return path.read_bytes()


def temporaries(directory) -> list:
    return sorted(f for f in os.listdir(directory) if f.endswith(".tmp"))


def assert_refused_before_counting(r, *needles):
    """One error line naming the problem, printed before the vocabulary was counted."""
    assert r.returncode == 1, r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("w2v-ext train: error: "), r.stderr
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    assert "vocabulary:" not in r.stderr


# ---- targets that are not regular files ------------------------------------------------------

@pytest.fixture
def char_device(tmp_path):
    """A private null device node (like /dev/null) in tmp_path."""
    path = tmp_path / "null"
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except OSError as e:
        pytest.skip(f"cannot create a device node here: {e}")
    return path


@pytest.mark.parametrize("binary", [True, False, None])   # word2vec binary, text, native
def test_a_character_device_is_written_through(model, char_device, binary):
    model.save(char_device, binary=binary)
    assert stat.S_ISCHR(os.stat(char_device).st_mode)
    assert temporaries(char_device.parent) == []


def test_cli_writes_through_dev_null(corpus, tmp_path):
    """-o /dev/null and --save-model /dev/null: /dev/null stays the device (-o needs --format:
    the name has no extension to tell it)."""
    assert atomic_file.resolve_output("/dev/null") == ("/dev/null", True)   # else, as root, it would be replaced
    r = run_cli("train", corpus, "-o", "/dev/null", "--format", "bin", "--save-model", "/dev/null", *FAST)
    assert r.returncode == 0, r.stderr
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    assert not [f for f in os.listdir("/dev") if f.startswith(".null.")]


def test_a_fifo_is_written_through(corpus, tmp_path, expected_bin):
    fifo = tmp_path / "v.bin"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    try:
        r = run_cli("train", corpus, "-o", fifo, *FAST, "--quiet", timeout=60)
        assert r.returncode == 0, r.stderr
        data, _ = reader.communicate(timeout=10)   # blocks forever if the FIFO was replaced
    finally:
        reader.kill()
        reader.wait()
    assert data == expected_bin
    assert stat.S_ISFIFO(os.stat(fifo).st_mode) and temporaries(tmp_path) == []


def stdout_of_train(corpus, output, *args) -> bytes:
    r = subprocess.run([sys.executable, "-m", "w2v_ext", "train", corpus, "-o", str(output), *args, *FAST, "--quiet"],
                       capture_output=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return r.stdout


def test_a_link_to_stdout_is_written_through(corpus, tmp_path, expected_bin):
    link = tmp_path / "out.bin"
    os.symlink("/proc/self/fd/1", link)
    assert stdout_of_train(corpus, link) == expected_bin
    assert os.readlink(link) == "/proc/self/fd/1" and temporaries(tmp_path) == []


def test_dev_stdout_is_written_through(corpus, model, tmp_path):
    """--format model: the native model (a zip, written as a stream), which loads back."""
    assert atomic_file.resolve_output("/dev/stdout") == ("/dev/stdout", True)   # else, as root, it would be replaced
    (tmp_path / "m.model").write_bytes(stdout_of_train(corpus, "/dev/stdout", "--format", "model"))
    assert np.array_equal(Word2Vec.load(tmp_path / "m.model", progress=False).input, model.input)
    assert os.path.islink("/dev/stdout")


def test_a_symlink_is_followed_and_its_target_replaced(model, tmp_path, expected_bin):
    store = tmp_path / "store"
    store.mkdir()
    (store / "v.bin").write_bytes(b"old vectors")
    os.symlink(store / "v.bin", tmp_path / "link.bin")
    os.symlink("store/new.bin", tmp_path / "dangling.bin")   # relative, to a file not there yet
    for link in ("link.bin", "dangling.bin"):
        model.save(tmp_path / link)
        assert os.path.islink(tmp_path / link)
    assert (store / "v.bin").read_bytes() == expected_bin and (store / "new.bin").read_bytes() == expected_bin
    assert temporaries(tmp_path) == [] and temporaries(store) == []


def test_a_directory_is_never_replaced(model, corpus, tmp_path):
    (tmp_path / "d.bin").mkdir()
    os.symlink(tmp_path / "d.bin", tmp_path / "link.bin")
    for target in ("d.bin", "link.bin"):
        with pytest.raises(IsADirectoryError, match="is a directory"):
            model.save(tmp_path / target)
    assert (tmp_path / "d.bin").is_dir() and os.path.islink(tmp_path / "link.bin")
    r = run_cli("train", corpus, "-o", tmp_path / "link.bin", *FAST)
    assert_refused_before_counting(r, "-o/--output", "is a directory")


# ---- every output checked before the corpus is counted ---------------------------------------

@pytest.fixture
def unwritable_directory(tmp_path):
    """A directory this process cannot create files in (as root too)."""
    path = tmp_path / "locked"
    path.mkdir()
    if os.geteuid() != 0:
        path.chmod(0o555)
        yield path
        path.chmod(0o755)
        return
    if not shutil.which("chattr") or subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode:
        pytest.skip("as root, a directory can only be made unwritable with chattr +i, which failed here")
    try:
        yield path
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


def sys_is_unwritable() -> bool:
    probe = "/sys/.w2v_ext_probe"
    try:
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except OSError:
        return os.path.isdir("/sys")
    os.unlink(probe)
    return False


ARGUMENTS = {"-o": ("-o/--output", "v.bin"), "--save-model": ("--save-model", "m.model"),
             "--curve": ("--curve", "c.png"), "--save-vocab": ("--save-vocab", "vocab.txt")}


def train_args(corpus, tmp_path, flag, path):
    """`train` with the output `flag` at `path` and the other outputs at good paths."""
    outputs = {"-o": tmp_path / "v.bin"}
    outputs[flag] = path
    return ["train", corpus, *[a for f, p in outputs.items() for a in (f, p)], *FAST]


@pytest.mark.parametrize("flag", list(ARGUMENTS))
@pytest.mark.parametrize("problem", ["name too long with the temporary suffix", "parent is a file",
                                     "sysfs", "unwritable directory"])
def test_cli_checks_every_output_before_counting(corpus, tmp_path, request, flag, problem):
    argument, name = ARGUMENTS[flag]
    if problem == "name too long with the temporary suffix":
        stem, ext = os.path.splitext(name)
        path, needle = tmp_path / (stem * (250 - len(ext)) + ext), "too long"   # 250 bytes: fits NAME_MAX alone
    elif problem == "parent is a file":
        (tmp_path / "afile").write_text("x")
        path, needle = tmp_path / "afile" / name, "not a directory"
    elif problem == "sysfs":
        if not sys_is_unwritable():
            pytest.skip("/sys is writable here")
        path, needle = os.path.join("/sys", name), "/sys"
    else:
        path, needle = request.getfixturevalue("unwritable_directory") / name, "locked"
    r = run_cli(*train_args(corpus, tmp_path, flag, path))
    assert_refused_before_counting(r, argument, needle)
    assert sorted(os.listdir(tmp_path)) in ([], ["afile"], ["locked"]), os.listdir(tmp_path)


def test_output_check_leaves_nothing_behind(tmp_path):
    target = tmp_path / "v.bin"
    assert atomic_file.check_output_path(target, "-o/--output") == str(target)
    assert os.listdir(tmp_path) == []


# ---- no output over a corpus file or another output -------------------------------------------

@pytest.fixture
def corpus_copy(corpus, tmp_path):
    path = tmp_path / "c.txt"
    path.write_bytes(open(corpus, "rb").read())
    return path


@pytest.mark.parametrize("flag", ["-o", "--save-model", "--curve", "--save-vocab"])
@pytest.mark.parametrize("how", ["same path", "other spelling", "symlink", "hard link", "second corpus path",
                                 "file in a corpus directory", "new file in a corpus directory"])
def test_cli_refuses_to_write_over_a_corpus_file(corpus, corpus_copy, tmp_path, flag, how):
    tmp = tmp_path
    sources, output = [corpus_copy], corpus_copy
    if how == "other spelling":
        output = tmp / "." / ".." / tmp.name / "c.txt"
    elif how == "symlink":
        os.symlink(corpus_copy, tmp / "link.txt")
        output = tmp / "link.txt"
    elif how == "hard link":
        os.link(corpus_copy, tmp / "hard.txt")
        output = tmp / "hard.txt"
    elif how == "second corpus path":
        sources = [corpus, corpus_copy]
    elif how.endswith("corpus directory"):
        sources = [tmp]
        output = corpus_copy if how.startswith("file") else tmp / "vectors.bin"
    before = corpus_copy.read_bytes()
    outputs = {"-o": tmp / "out" / "v.bin"}
    (tmp / "out").mkdir()
    outputs[flag] = output
    r = run_cli("train", *sources, *[a for f, p in outputs.items() for a in (f, p)], *FAST)
    assert_refused_before_counting(r, ARGUMENTS[flag][0], "corpus")
    assert corpus_copy.read_bytes() == before and os.listdir(tmp / "out") == []


@pytest.mark.parametrize("first, second, name", [("-o", "--save-model", "v.bin"), ("-o", "--save-model", "m.model"),
                                                 ("-o", "--curve", "c.png"), ("--save-model", "--curve", "c.png"),
                                                 ("-o", "--save-vocab", "v.bin")])
def test_cli_refuses_two_outputs_at_one_path(corpus, tmp_path, first, second, name):
    outputs = {"-o": tmp_path / "v.bin", first: tmp_path / name}
    outputs[second] = tmp_path / "." / name
    r = run_cli("train", corpus, *[a for f, p in outputs.items() for a in (f, p)], *FAST)
    assert_refused_before_counting(r, ARGUMENTS[first][0], ARGUMENTS[second][0], "same file")
    assert os.listdir(tmp_path) == []


def test_resume_may_save_over_the_model_it_resumed(corpus, tmp_path):
    model_path = tmp_path / "m.model"
    r = run_cli("train", corpus, "-o", tmp_path / "v.bin", "--save-model", model_path, *FAST)
    assert r.returncode == 0, r.stderr
    r = run_cli("train", corpus, "-o", model_path, "--resume", model_path, "--save-model", model_path, "--quiet")
    assert r.returncode != 0 and "same file" in r.stderr   # -o and --save-model still may not meet
    before = Word2Vec.load(model_path, progress=False).input
    r = run_cli("train", corpus, "-o", tmp_path / "v2.bin", "--resume", model_path, "--save-model", model_path)
    assert r.returncode == 0, r.stderr
    resumed = Word2Vec.load(model_path, progress=False)
    assert resumed.finished and not np.array_equal(resumed.input, before)


# ---- stale temporary files ----------------------------------------------------------------------

WRITER = textwrap.dedent("""
    import sys, time
    from w2v_ext.atomic_file import atomic_write
    with atomic_write(sys.argv[1]) as f:
        f.write(b"half of the new file")
        f.flush()
        print("writing", flush=True)
        time.sleep(120)
""")


def start_writer(target) -> subprocess.Popen:
    """A process stopped half-way through atomic_write(target)."""
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE, text=True,
                            cwd=REPO)
    assert proc.stdout.readline().strip() == "writing"
    return proc


def test_killed_writer_keeps_the_old_file_and_its_temporary_is_removed_later(tmp_path):
    target = tmp_path / "v.bin"
    target.write_bytes(b"old file")
    writer = start_writer(target)
    writer.send_signal(signal.SIGKILL)
    writer.wait()
    stale = temporaries(tmp_path)
    assert target.read_bytes() == b"old file" and len(stale) == 1
    with atomic_file.atomic_write(target) as f:
        f.write(b"new file")
    assert target.read_bytes() == b"new file" and temporaries(tmp_path) == []


def test_temporaries_of_live_writers_and_of_others_are_kept(tmp_path):
    target = tmp_path / "v.bin"
    writer = start_writer(target)
    try:
        live = temporaries(tmp_path)
        foreign = [".v.bin.0123456789ab.tmp", ".w.bin.tmp", ".v.bin.x.tmp", "v.bin.tmp"]
        for name in foreign:
            (tmp_path / name).write_bytes(b"not ours")
        with atomic_file.atomic_write(target) as f:
            f.write(b"new file")
        assert temporaries(tmp_path) == sorted(live + foreign) and len(live) == 1
    finally:
        writer.kill()
        writer.wait()


# ---- plots and the demo ---------------------------------------------------------------------------

def test_a_failed_plot_keeps_the_old_image(tmp_path, monkeypatch):
    pytest.importorskip("matplotlib")
    import io
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from w2v_ext import plot
    print_png = FigureCanvasAgg.print_png

    def failing_print_png(self, filename_or_obj, **kwargs):
        if isinstance(filename_or_obj, io.BytesIO):   # matplotlib's layout pass, not the file
            return print_png(self, filename_or_obj, metadata=kwargs.get("metadata"),
                             pil_kwargs=kwargs.get("pil_kwargs"))
        if hasattr(filename_or_obj, "write"):
            filename_or_obj.write(b"\x89PNG half an image")
        else:
            with open(filename_or_obj, "wb") as f:
                f.write(b"\x89PNG half an image")
        raise OSError("disk full")

    image = tmp_path / "words.png"
    image.write_bytes(b"old image")
    monkeypatch.setattr(FigureCanvasAgg, "print_png", failing_print_png)
    kv = KeyedVectors(["a", "b", "c"], np.eye(3))
    with pytest.raises(OSError, match="disk full"):
        plot.plot_words(kv, ["a", "b", "c"], image)
    assert image.read_bytes() == b"old image" and temporaries(tmp_path) == []


def test_demo_checks_its_outputs_before_training(tmp_path):
    (tmp_path / "vectors.bin").mkdir()
    r = run_cli("demo", "--output-dir", tmp_path, "--epochs", "1", "--dim", "8", "--quiet")
    assert r.returncode == 1 and "vocabulary" not in r.stdout, r.stdout
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("w2v-ext demo: error: ") and "is a directory" in lines[0]
