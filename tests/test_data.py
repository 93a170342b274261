"""MNIST reading, validation and the data sources (folder, loopback download, offline sample)."""

from __future__ import annotations

import functools
import gzip
import http.server
import shutil
import socket
import threading
from pathlib import Path

import numpy as np
import pytest

from digitcore import data, download, settings
from digitcore.errors import DataError, ParamError
from digitcore.files import sha256_file


def write_idx(path: Path, array: np.ndarray, magic: int, compress: bool = True) -> Path:
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    payload = header + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(payload) if compress else payload)
    return path


def test_test_split_has_the_published_shape_and_label_counts(mnist_test):
    assert mnist_test.images.shape == (10000, 28, 28)
    assert mnist_test.images.dtype == np.uint8
    counts = np.bincount(mnist_test.labels, minlength=10).tolist()
    assert counts == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_train_split_checksums_match_the_published_ones(mnist_train):
    assert len(mnist_train) == 60000
    # Every file of the split, and only those, with its published hash (an empty dict fails).
    assert mnist_train.checksums == {name: download.FILES[name] for name in data.SPLITS["train"]}


def test_uncompressed_idx_reads_the_same_as_gzipped(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (5, 28, 28), dtype=np.uint8)
    gz = write_idx(tmp_path / "a.gz", images, data.IMAGE_MAGIC)
    raw = write_idx(tmp_path / "a", images, data.IMAGE_MAGIC, compress=False)
    np.testing.assert_array_equal(data.read_idx(gz), images)
    np.testing.assert_array_equal(data.read_idx(raw), images)


def test_truncated_idx_is_refused_in_one_line_naming_the_file(tmp_path, mnist_dir):
    payload = gzip.decompress((mnist_dir / "t10k-labels-idx1-ubyte.gz").read_bytes())
    bad = tmp_path / "t10k-labels-idx1-ubyte"
    bad.write_bytes(payload[:-100])
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte: .*truncated") as info:
        data.read_idx(bad)
    assert "\n" not in str(info.value)


def test_truncated_gzip_stream_is_refused(tmp_path, mnist_dir):
    bad = tmp_path / "t10k-images-idx3-ubyte.gz"
    bad.write_bytes((mnist_dir / "t10k-images-idx3-ubyte.gz").read_bytes()[:50000])
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.gz: corrupt or truncated gzip"):
        data.read_idx(bad)


@pytest.mark.parametrize(
    ("magic", "shape", "message"),
    [
        (1234, (3,), "not an MNIST IDX file"),
        (data.IMAGE_MAGIC, (3, 32, 32), "expected 28x28 images"),
    ],
)
def test_bad_header_is_refused(tmp_path, magic, shape, message):
    path = write_idx(tmp_path / "x.gz", np.zeros(shape), magic)
    with pytest.raises(DataError, match=message):
        data.read_idx(path)


def test_labels_outside_0_to_9_are_refused(tmp_path):
    path = write_idx(tmp_path / "labels.gz", np.array([1, 2, 12]), data.LABEL_MAGIC)
    with pytest.raises(DataError, match="labels must be digits 0-9, found 12"):
        data.read_idx(path)


def test_image_and_label_counts_must_agree(tmp_path):
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", np.zeros((4, 28, 28)), data.IMAGE_MAGIC)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(5), data.LABEL_MAGIC)
    with pytest.raises(DataError, match="holds 4 images but .* holds 5 labels"):
        data.read_split(tmp_path, "test")


def test_swapped_files_are_refused(tmp_path):
    write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", np.zeros(4), data.LABEL_MAGIC)
    write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(4), data.LABEL_MAGIC)
    with pytest.raises(DataError, match="expected an images file"):
        data.read_split(tmp_path, "test")


def test_limit_takes_the_first_images(mnist_test):
    head = mnist_test.head(7)
    assert len(head) == 7
    np.testing.assert_array_equal(head.labels, mnist_test.labels[:7])


@pytest.mark.parametrize("limit", [0, -5])
def test_a_limit_below_one_is_refused(mnist_test, limit):
    with pytest.raises(ParamError, match=f"limit must be a positive number of images; got {limit}"):
        mnist_test.head(limit)


def test_an_unknown_split_is_refused(mnist_dir):
    with pytest.raises(ParamError, match="split must be 'train' or 'test'; got 'validation'"):
        data.read_split(mnist_dir, "validation")


def test_offline_sample_is_balanced_real_mnist():
    train, test = data.load_offline_sample()
    assert train.images.shape == (4500, 28, 28) and test.images.shape == (500, 28, 28)
    assert np.bincount(test.labels, minlength=10).tolist() == [50] * 10
    assert "offline sample" in train.source
    assert train.images.max() == 255 and train.images.mean() > 20  # ink on black, like MNIST


@pytest.fixture
def serve():
    """Start HTTP servers on 127.0.0.1; ``serve(folder)`` returns the base URL of one."""
    servers = []

    def start(root: Path) -> str:
        handler = functools.partial(Quiet, directory=str(root))
        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def mirror(tmp_path, mnist_dir, serve):
    """A folder holding the four MNIST files, served on loopback; yields (folder, base URL)."""
    root = tmp_path / "mirror"
    root.mkdir()
    for name in download.FILES:
        shutil.copy(mnist_dir / name, root / name)
    return root, serve(root)


def dead_url() -> str:
    """A loopback URL where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def test_download_verifies_and_writes_every_file(mirror, tmp_path):
    _root, url = mirror
    seen = []
    folder = download.download_mnist(
        tmp_path / "cache", mirrors=[url], progress=lambda d, t, m: seen.append(m)
    )
    for name, sha in download.FILES.items():
        assert sha256_file(folder / name) == sha
    assert any("t10k-images" in message for message in seen)
    assert len(data.read_split(folder, "test")) == 10000
    assert not list(folder.glob(".*"))  # no temporary files left behind


def test_download_skips_a_dead_mirror_and_a_corrupt_copy(mirror, serve, tmp_path):
    good_root, good_url = mirror
    bad_root = tmp_path / "bad"
    shutil.copytree(good_root, bad_root)
    corrupt = bad_root / "t10k-labels-idx1-ubyte.gz"
    corrupt.write_bytes(corrupt.read_bytes()[:-1] + b"\x00")
    folder = download.download_mnist(
        tmp_path / "cache", mirrors=[dead_url(), serve(bad_root), good_url]
    )
    assert sha256_file(folder / corrupt.name) == download.FILES[corrupt.name]


def test_download_that_only_finds_corrupt_files_fails_and_keeps_nothing(mirror, tmp_path):
    root, url = mirror
    (root / "t10k-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8bnot really gzip")
    cache = tmp_path / "cache"
    with pytest.raises(DataError, match="could not download t10k-images-idx3-ubyte.gz.*SHA-256"):
        download.download_mnist(cache, mirrors=[dead_url(), url])
    assert not (cache / "t10k-images-idx3-ubyte.gz").exists()
    assert not list(cache.glob(".*"))  # nor a temporary file


def test_mirror_url_comes_from_the_environment_and_a_split_fetches_its_files(
    mirror, tmp_path, monkeypatch
):
    _root, url = mirror
    monkeypatch.setenv("DIGITCORE_MNIST_URL", url)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("DIGITCORE_DATA", raising=False)
    test = data.load_mnist("test")
    assert len(test) == 10000 and str(tmp_path / "xdg") in test.source
    cached = sorted(p.name for p in settings.cache_dir().iterdir())
    assert cached == sorted(data.SPLITS["test"])  # a split fetches only its own two files


def test_without_network_the_offline_sample_is_used(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITCORE_MNIST_URL", dead_url())
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("DIGITCORE_DATA", raising=False)
    train = data.load_mnist("train")
    assert len(train) == 4500 and "offline sample" in train.source


def test_data_folder_from_the_environment_is_the_only_source(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITCORE_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(DataError, match="nowhere: data folder not found"):
        data.load_mnist("test")
