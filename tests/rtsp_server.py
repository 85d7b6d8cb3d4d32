"""A live RTSP camera on 127.0.0.1 for tests: GStreamer's RTSP server (Debian's python3-gi and
gir1.2-gst-rtsp-server-1.0), run by the system Python because PyGObject lives there, not in the
project's venv. Streams a moving test pattern as MJPEG over RTP, 25 fps, 640x360, at
rtsp://127.0.0.1:PORT/camera; prints "PORT <n>" once listening. With a frame count, each session
ends after that many frames, as a camera whose server stops sending.

    python3 tests/rtsp_server.py [FRAMES]
"""

import sys

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
from gi.repository import GLib, Gst, GstRtspServer  # noqa: E402


def main() -> None:
    frames = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    Gst.init(None)
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service("0")  # a free port, read back below
    factory = GstRtspServer.RTSPMediaFactory()
    limit = f" num-buffers={frames}" if frames else ""
    factory.set_launch(f"( videotestsrc is-live=true pattern=ball{limit} ! video/x-raw,format=I420,width=640,"
                       "height=360,framerate=25/1 ! jpegenc ! rtpjpegpay name=pay0 pt=26 )")
    server.get_mount_points().add_factory("/camera", factory)
    server.attach(None)
    print(f"PORT {server.get_bound_port()}", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":
    main()
