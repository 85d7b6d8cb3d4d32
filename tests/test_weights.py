"""The model zoo and the downloader, against a local HTTP server (there is no internet here)."""

from __future__ import annotations

import http.server
import shutil
import threading
from pathlib import Path

import pytest

from alphaction_demo.action import downloads
from alphaction_demo.action import zoo
from alphaction_demo.action import CONFIG_NAMES, load_config
from alphaction_demo.errors import DownloadError, UsageError
from alphaction_demo.app.commands import verify_checkpoint
from alphaction_demo.action.zoo import MODEL_ZOO, ZooEntry

PAYLOAD = bytes(range(256)) * 4096  # 1 MiB that shows any misplaced byte


class FileServer(http.server.ThreadingHTTPServer):
    """Serves `files` by name; honours Range unless told not to; can drop the connection midway."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.files = {}
        self.ranges_seen = []
        self.honour_range = True
        self.drop_after = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


class _Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def do_GET(self) -> None:
        server: FileServer = self.server  # type: ignore[assignment]
        body = server.files.get(self.path.lstrip("/"))
        if body is None:
            self.send_error(404)
            return
        start = 0
        wanted = self.headers.get("Range")
        server.ranges_seen.append(wanted)
        if wanted and server.honour_range:
            start = int(wanted.split("=")[1].split("-")[0])
            if start >= len(body):
                self.send_error(416)
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        chunk = body[start:]
        if server.drop_after is not None:
            chunk = chunk[: server.drop_after]
        self.wfile.write(chunk)


@pytest.fixture
def server():
    srv = FileServer()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def entry_for(*urls: str, name: str = "resnet50_4x16f_denseserial") -> ZooEntry:
    return ZooEntry(name, "resnet50_4x16f_denseserial", False, 80, tuple(urls), "test entry", None, approx_mb=1.0)


def test_zoo_entries_match_their_configurations():
    assert len({e.name for e in MODEL_ZOO}) == len(MODEL_ZOO) == 7
    assert zoo.resolve_model(zoo.DEFAULT_MODEL).common_cate
    for entry in MODEL_ZOO:
        assert entry.config in CONFIG_NAMES
        cfg = load_config(entry.config, common_cate=entry.common_cate)
        assert cfg.MODEL.ROI_ACTION_HEAD.NUM_CLASSES == entry.num_classes
        assert entry.filename.endswith(".pth") and entry.urls
        assert all(downloads.drive_file_id(url) for url in entry.urls), "official links are on Google Drive"


def test_names_resolve_case_insensitively_and_unknown_names_list_the_choices():
    assert zoo.resolve_model("ResNet50_4x16F_Baseline").name == "resnet50_4x16f_baseline"
    with pytest.raises(UsageError, match=r"unknown model 'r18'.*resnet101_8x8f_denseserial_common.*--list-models"):
        zoo.resolve_model("r18")


def test_model_table_shows_what_is_present(tmp_path):
    (tmp_path / "resnet50_4x16f_serial.pth").write_bytes(b"x")
    table = zoo.format_model_table(tmp_path)
    rows = {line.split()[0]: line for line in table.splitlines() if line.startswith("resnet")}
    assert set(rows) == {e.name for e in MODEL_ZOO}
    assert "present" in rows["resnet50_4x16f_serial"] and "missing" in rows["resnet50_4x16f_parallel"]
    assert "32.4" in rows["resnet101_8x8f_denseserial"] and "(default)" in rows[zoo.DEFAULT_MODEL]
    assert zoo.YOLO_DEFAULT in table and str(tmp_path) in table


def test_weights_dir_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv(zoo.WEIGHTS_DIR_ENV, str(tmp_path))
    assert zoo.weights_dir() == tmp_path
    monkeypatch.delenv(zoo.WEIGHTS_DIR_ENV)
    assert zoo.weights_dir() == Path(zoo.__file__).resolve().parents[2] / "weights"


def test_full_download(server, tmp_path):
    server.files["w.pth"] = PAYLOAD
    path = downloads.download_weights(entry_for(f"{server.url}/w.pth"), tmp_path / "new", progress=False)
    assert path == tmp_path / "new" / "resnet50_4x16f_denseserial.pth"
    assert path.read_bytes() == PAYLOAD
    assert not list(path.parent.glob("*.part"))


def test_a_partial_file_is_resumed_with_a_range_request(server, tmp_path):
    server.files["w.pth"] = PAYLOAD
    (tmp_path / "resnet50_4x16f_denseserial.pth.part").write_bytes(PAYLOAD[:300_000])
    path = downloads.download_weights(entry_for(f"{server.url}/w.pth"), tmp_path, progress=False)
    assert server.ranges_seen == ["bytes=300000-"]
    assert path.read_bytes() == PAYLOAD


def test_a_server_that_ignores_range_restarts_from_zero(server, tmp_path):
    server.files["w.pth"] = PAYLOAD
    server.honour_range = False
    (tmp_path / "resnet50_4x16f_denseserial.pth.part").write_bytes(b"garbage" * 1000)
    path = downloads.download_weights(entry_for(f"{server.url}/w.pth"), tmp_path, progress=False)
    assert path.read_bytes() == PAYLOAD


def test_a_dropped_connection_keeps_the_part_for_the_next_try(server, tmp_path):
    server.files["w.pth"] = PAYLOAD
    server.drop_after = 400_000
    entry = entry_for(f"{server.url}/w.pth")
    with pytest.raises(DownloadError, match="400000 of 1048576 bytes.*resume") as failure:
        downloads.download_weights(entry, tmp_path, progress=False)
    assert "\n" not in str(failure.value)
    part = tmp_path / "resnet50_4x16f_denseserial.pth.part"
    assert part.stat().st_size == 400_000 and not (tmp_path / entry.filename).exists()
    server.drop_after = None
    assert downloads.download_weights(entry, tmp_path, progress=False).read_bytes() == PAYLOAD
    assert server.ranges_seen[-1] == "bytes=400000-"


def test_the_next_link_is_tried_when_one_fails(server, tmp_path):
    server.files["w.pth"] = PAYLOAD
    entry = entry_for(f"{server.url}/moved.pth", f"{server.url}/w.pth")
    assert downloads.download_weights(entry, tmp_path, progress=False).read_bytes() == PAYLOAD


def test_a_file_url_works(tmp_path):
    source = tmp_path / "mirror" / "w.pth"
    source.parent.mkdir()
    source.write_bytes(PAYLOAD)
    path = downloads.download_weights(entry_for(source.as_uri()), tmp_path / "weights", progress=False)
    assert path.read_bytes() == PAYLOAD


def test_offline_gives_one_line_that_says_what_to_do(tmp_path):
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    entry = entry_for(f"http://127.0.0.1:{port}/w.pth")
    with pytest.raises(DownloadError) as failure:
        downloads.download_weights(entry, tmp_path, progress=False)
    message = str(failure.value)
    assert "\n" not in message and "could not download resnet50_4x16f_denseserial" in message
    assert "by hand" in message and str(tmp_path / entry.filename) in message


def test_google_drive_links_go_through_gdown(monkeypatch, tmp_path):
    import gdown

    calls = []

    def fake_download(id=None, output=None, resume=False, **kw):
        calls.append((id, resume))
        Path(output).write_bytes(PAYLOAD)
        return output

    monkeypatch.setattr(gdown, "download", fake_download)
    entry = zoo.resolve_model("resnet101_8x8f_baseline")
    path = downloads.download_weights(entry, tmp_path, progress=False)
    assert calls == [("1oVGRV82iIaxm7XJqAXw7AoDTxFtdqvfv", True)]
    assert path.name == "resnet101_8x8f_baseline.pth" and path.read_bytes() == PAYLOAD


def test_a_download_that_is_not_a_checkpoint_is_removed(server, tmp_path):
    server.files["w.pth"] = b"<html>quota exceeded</html>"
    entry = entry_for(f"{server.url}/w.pth")
    with pytest.raises(DownloadError, match="not a usable checkpoint.*removed"):
        downloads.download_weights(entry, tmp_path, progress=False,
                                   verify=lambda p: verify_checkpoint(p, entry.config, entry.common_cate))
    assert list(tmp_path.iterdir()) == []


def test_a_real_checkpoint_is_verified_through_the_loader(server, tmp_path, r50_checkpoint):
    server.files["w.pth"] = Path(r50_checkpoint).read_bytes()
    entry = entry_for(f"{server.url}/w.pth")
    verified = []

    def verify(path: Path) -> None:
        verify_checkpoint(path, entry.config, entry.common_cate)
        verified.append(path.name)

    path = downloads.download_weights(entry, tmp_path, progress=False, verify=verify)
    assert verified == ["resnet50_4x16f_denseserial.pth.part"]
    assert path.stat().st_size == Path(r50_checkpoint).stat().st_size


def test_a_present_file_is_not_downloaded_again(tmp_path):
    shutil.copyfile(__file__, tmp_path / "resnet50_4x16f_denseserial.pth")
    entry = entry_for("http://127.0.0.1:9/never")
    assert downloads.download_weights(entry, tmp_path, progress=False) == tmp_path / entry.filename
