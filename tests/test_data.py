"""MNIST reading, validation, naming, subsets and the data sources (folder, loopback download,
shipped test set, offline sample)."""

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

from digitcore import data, download, idx, settings
from digitcore.errors import DataError, ParamError
from digitcore.files import sha256_file


def test_test_split_has_the_published_shape_and_label_counts(mnist_test):
    assert mnist_test.images.shape == (10000, 28, 28)
    assert mnist_test.images.dtype == np.uint8
    counts = np.bincount(mnist_test.labels, minlength=10).tolist()
    assert counts == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_train_split_is_mnist_or_offline_the_whole_sample(mnist_train, offline):
    if offline:
        assert len(mnist_train) == 5000 and mnist_train.name == "mnist-train-sample"
        assert np.bincount(mnist_train.labels).tolist() == [500] * 10
    else:
        assert len(mnist_train) == 60000 and mnist_train.name == "mnist-train"
        # Every file of the split, and only those, with its published hash (an empty dict fails).
        assert mnist_train.checksums == {n: download.FILES[n] for n in data.SPLITS["train"]}
    assert mnist_train.source.endswith("(verified SHA-256)")


def test_test_split_is_the_published_mnist_test_set(mnist_test):
    assert mnist_test.name == "mnist-test"
    assert mnist_test.source == "MNIST test set (verified SHA-256)"
    assert mnist_test.checksums == {n: download.FILES[n] for n in data.SPLITS["test"]}


def test_uncompressed_idx_reads_the_same_as_gzipped(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (5, 28, 28), dtype=np.uint8)
    gz = idx.write_idx(tmp_path / "a.gz", images)
    raw = idx.write_idx(tmp_path / "a", images, compress=False)
    np.testing.assert_array_equal(idx.read_idx(gz), images)
    np.testing.assert_array_equal(idx.read_idx(raw), images)


def test_truncated_idx_is_refused_in_one_line_naming_the_file(tmp_path, mnist_dir):
    payload = gzip.decompress((mnist_dir / "t10k-labels-idx1-ubyte.gz").read_bytes())
    bad = tmp_path / "t10k-labels-idx1-ubyte"
    bad.write_bytes(payload[:-100])
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte: .*truncated") as info:
        idx.read_idx(bad)
    assert "\n" not in str(info.value)


def test_truncated_gzip_stream_is_refused(tmp_path, mnist_dir):
    bad = tmp_path / "t10k-images-idx3-ubyte.gz"
    bad.write_bytes((mnist_dir / "t10k-images-idx3-ubyte.gz").read_bytes()[:50000])
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.gz: corrupt or truncated gzip"):
        idx.read_idx(bad)


@pytest.mark.parametrize(
    ("magic", "shape", "message"),
    [
        (1234, (3,), "not an MNIST IDX file"),
        (idx.IMAGE_MAGIC, (3, 32, 32), "expected 28x28 images"),
    ],
)
def test_bad_header_is_refused(tmp_path, magic, shape, message):
    # Written by hand: idx.write_idx itself refuses to write such a header.
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in shape)
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(header + bytes(int(np.prod(shape)))))
    with pytest.raises(DataError, match=message):
        idx.read_idx(path)


def test_written_idx_files_round_trip_and_odd_shapes_are_refused(tmp_path):
    digits = np.random.default_rng(0).integers(0, 256, (5, 28, 28), dtype=np.uint8)
    np.testing.assert_array_equal(idx.read_idx(idx.write_idx(tmp_path / "d.gz", digits)), digits)
    with pytest.raises(DataError, match=r"expected digits \(n, 28, 28\) or labels \(n,\)"):
        idx.write_idx(tmp_path / "odd.gz", np.zeros((2, 3)))
    assert not (tmp_path / "odd.gz").exists()


def test_labels_outside_0_to_9_are_refused(tmp_path):
    path = idx.write_idx(tmp_path / "labels.gz", np.array([1, 2, 12]))
    with pytest.raises(DataError, match="labels must be digits 0-9, found 12"):
        idx.read_idx(path)


def test_image_and_label_counts_must_agree(tmp_path):
    idx.write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", np.zeros((4, 28, 28)))
    idx.write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(5))
    with pytest.raises(DataError, match="holds 4 images but .* holds 5 labels"):
        data.read_split(tmp_path, "test")


def test_swapped_files_are_refused(tmp_path):
    idx.write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", np.zeros(4))
    idx.write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", np.zeros(4))
    with pytest.raises(DataError, match="expected an images file"):
        data.read_split(tmp_path, "test")


def test_head_takes_the_first_images_and_records_it(mnist_test):
    head = mnist_test.head(7)
    assert len(head) == 7
    np.testing.assert_array_equal(head.labels, mnist_test.labels[:7])
    assert head.describe()["subset"]["rule"] == "first" and head.describe()["subset"]["of"] == 10000


def sorted_by_digit(per_digit: int = 50) -> data.Dataset:
    """A set sorted by digit, like the offline sample: a head of it holds only 0s and 1s."""
    labels = np.repeat(np.arange(10, dtype=np.uint8), per_digit)
    images = np.zeros((len(labels), 28, 28), np.uint8)
    images[:, 0, 0] = np.arange(len(labels)) % 256  # each digit different, to follow them
    images[:, 0, 1] = np.arange(len(labels)) // 256
    return data.Dataset(images, labels, "sorted")


def test_a_subset_keeps_every_digits_share_and_is_shuffled():
    full = sorted_by_digit()
    part = full.subset(100, seed=3)
    assert np.bincount(part.labels, minlength=10).tolist() == [10] * 10
    assert not np.all(np.diff(part.labels.astype(int)) >= 0)  # not in the sorted order
    assert part.name == "sorted"


def test_a_subset_is_the_same_for_a_seed_and_recorded():
    full = sorted_by_digit()
    once, again, other = full.subset(60, seed=1), full.subset(60, seed=1), full.subset(60, seed=2)
    np.testing.assert_array_equal(once.images, again.images)
    assert not np.array_equal(once.images, other.images)
    rule = once.describe()["subset"]
    assert rule["seed"] == 1 and rule["n"] == 60 and rule["of"] == 500
    assert rule["rule"] == "stratified by digit, shuffled"
    assert rule["indices_sha256"] == again.describe()["subset"]["indices_sha256"]
    assert rule["indices_sha256"] != other.describe()["subset"]["indices_sha256"]


def test_shuffled_keeps_every_digit_in_a_recorded_seeded_order():
    full = sorted_by_digit()
    mixed = full.shuffled(seed=4)
    assert sorted(mixed.images[:, 0, :2].tolist()) == sorted(full.images[:, 0, :2].tolist())
    assert len(set(mixed.labels[:50].tolist())) == 10  # a first part holds every digit
    np.testing.assert_array_equal(mixed.images, full.shuffled(seed=4).images)
    assert mixed.describe()["subset"] | {"indices_sha256": ""} == {
        "rule": "shuffled", "seed": 4, "n": 500, "of": 500, "indices_sha256": "",
    }  # fmt: skip


def test_a_subset_of_the_whole_set_or_more_is_the_set():
    full = sorted_by_digit()
    assert full.subset(500) is full and full.subset(10**6) is full


def test_a_subset_smaller_than_the_number_of_digits_is_still_drawn():
    part = sorted_by_digit().subset(4, seed=0)
    assert len(part) == 4 and part.describe()["subset"]["rule"] == "shuffled"


def test_describe_says_exactly_which_digits_and_names_no_path(mnist_dir):
    test = data.read_split(mnist_dir, "test")
    described = test.describe()
    assert described == {
        "name": "mnist-test",
        "source": "MNIST test set (verified SHA-256)",
        "n": 10000,
        "checksums": {n: download.FILES[n] for n in data.SPLITS["test"]},
        "subset": None,
        "digits_sha256": "c3f9adf9c66efb572b1f9326c3a511b45910c7173b97be66ceceeeeaef6b802b",
    }
    assert str(mnist_dir) not in str(described) and "/" not in str(described)


def test_unknown_files_are_named_as_such_not_as_mnist(tmp_path, mnist_test):
    idx.write_idx(tmp_path / "t10k-images-idx3-ubyte.gz", mnist_test.images[:20])
    idx.write_idx(tmp_path / "t10k-labels-idx1-ubyte.gz", mnist_test.labels[:20])
    found = data.read_split(tmp_path, "test")
    assert found.name == "files-test" and "not the published MNIST" in found.source
    assert str(tmp_path) not in found.source


def test_uncompressed_mnist_is_recognised_by_its_digits(tmp_path, mnist_test):
    for name in data.SPLITS["test"]:
        raw = gzip.decompress((data.SHIPPED_TEST_DIR / name).read_bytes())
        (tmp_path / name.removesuffix(".gz")).write_bytes(raw)
    assert data.read_split(tmp_path, "test").name == "mnist-test"


@pytest.mark.parametrize("limit", [0, -5])
def test_a_limit_below_one_is_refused(mnist_test, limit):
    with pytest.raises(ParamError, match=f"limit must be a positive number of images; got {limit}"):
        mnist_test.head(limit)


def test_an_unknown_split_is_refused(mnist_dir):
    with pytest.raises(ParamError, match="split must be 'train' or 'test'; got 'validation'"):
        data.read_split(mnist_dir, "validation")


def test_offline_sample_is_all_5000_balanced_real_mnist_training_digits():
    sample = data.load_offline_sample()
    assert sample.images.shape == (5000, 28, 28)
    assert np.bincount(sample.labels, minlength=10).tolist() == [500] * 10
    assert sample.name == "mnist-train-sample" and "training set" in sample.source
    assert sample.images.max() == 255 and sample.images.mean() > 20  # ink on black, like MNIST


def test_shipped_test_files_are_the_published_ones():
    for name in data.SPLITS["test"]:
        assert sha256_file(data.SHIPPED_TEST_DIR / name) == download.FILES[name]
    shipped = data.load_shipped_test()
    assert len(shipped) == 10000 and shipped.name == "mnist-test"
    assert shipped.source == "MNIST test set shipped with digitcore (verified SHA-256)"


@pytest.mark.parametrize("damage", ["tamper", "delete"])
def test_a_tampered_or_missing_shipped_file_is_refused(tmp_path, monkeypatch, damage):
    for name in data.SPLITS["test"]:
        shutil.copy(data.SHIPPED_TEST_DIR / name, tmp_path / name)
    labels = tmp_path / "t10k-labels-idx1-ubyte.gz"
    if damage == "tamper":  # still a valid gzip IDX file, one label changed
        raw = bytearray(gzip.decompress(labels.read_bytes()))
        raw[8] = (raw[8] + 1) % 10
        labels.write_bytes(gzip.compress(bytes(raw)))
    else:
        labels.unlink()
    monkeypatch.setattr(data, "SHIPPED_TEST_DIR", tmp_path)
    with pytest.raises(DataError, match=r"t10k-labels-idx1-ubyte.gz\) is not the published"):
        data.load_shipped_test()


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
def mirror(tmp_path, serve):
    """The two published MNIST test files, served on loopback; yields (folder, base URL).

    The test files, because they are the two every setup has (shipped with digitcore); the
    offline tests have no published training files to serve.
    """
    root = tmp_path / "mirror"
    root.mkdir()
    for name in TEST_FILES:
        shutil.copy(data.SHIPPED_TEST_DIR / name, root / name)
    return root, serve(root)


TEST_FILES = data.SPLITS["test"]


def dead_url() -> str:
    """A loopback URL where nothing listens."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def test_download_verifies_and_writes_every_file_asked_for(mirror, tmp_path):
    _root, url = mirror
    seen = []
    folder = download.download_mnist(
        tmp_path / "cache", mirrors=[url], progress=lambda d, t, m: seen.append(m), names=TEST_FILES
    )
    for name in TEST_FILES:
        assert sha256_file(folder / name) == download.FILES[name]
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
        tmp_path / "cache", mirrors=[dead_url(), serve(bad_root), good_url], names=TEST_FILES
    )
    assert sha256_file(folder / corrupt.name) == download.FILES[corrupt.name]


def test_download_that_only_finds_corrupt_files_fails_and_keeps_nothing(mirror, tmp_path):
    root, url = mirror
    (root / "t10k-images-idx3-ubyte.gz").write_bytes(b"\x1f\x8bnot really gzip")
    cache = tmp_path / "cache"
    with pytest.raises(DataError, match="could not download t10k-images-idx3-ubyte.gz.*SHA-256"):
        download.download_mnist(cache, mirrors=[dead_url(), url], names=TEST_FILES)
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
    assert len(test) == 10000 and test.source == "MNIST test set (verified SHA-256)"
    cached = sorted(p.name for p in settings.cache_dir().iterdir())
    assert cached == sorted(data.SPLITS["test"])  # a split fetches only its own two files


def test_without_network_train_is_the_whole_sample_and_test_the_shipped_set(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITCORE_MNIST_URL", dead_url())
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("DIGITCORE_DATA", raising=False)
    train, test = data.load_mnist("train"), data.load_mnist("test")
    assert len(train) == 5000 and train.name == "mnist-train-sample"
    assert len(test) == 10000 and test.source.startswith("MNIST test set shipped with digitcore")
    # The offline test digits are none of the offline training digits.
    seen = {image.tobytes() for image in train.images}
    assert not any(image.tobytes() in seen for image in test.images)


def test_data_folder_from_the_environment_is_the_only_source(tmp_path, monkeypatch):
    monkeypatch.setenv("DIGITCORE_DATA", str(tmp_path / "nowhere"))
    with pytest.raises(DataError, match="nowhere: data folder not found"):
        data.load_mnist("test")
