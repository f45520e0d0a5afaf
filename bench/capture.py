"""Benchmark: lane capture throughput and hand-off latency on real local sources.

Generates a 640x480 MJPG video (paced playback at its own fps) and serves the same
frames as an HTTP MJPEG camera on 127.0.0.1 read through OpenCV's FFmpeg backend. For
each source, one consumer waits on ``LaneCapture.wait_for_frame`` for a few seconds and
reports the measured fps, drops, and the hand-off latency (capture timestamp to the
consumer waking up).

    python bench/capture.py --seconds 5
"""

from __future__ import annotations

import argparse
import logging
import statistics
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from desktop.capture import LaneCapture

WIDTH, HEIGHT, FPS = 640, 480, 25.0


def frames(count: int) -> list[np.ndarray]:
    """Distinct noisy frames (noise makes the JPEG sizes realistic)."""
    rng = np.random.default_rng(7)
    return [rng.integers(0, 256, (HEIGHT, WIDTH, 3), np.uint8) for _ in range(count)]


def write_video(path: Path, images: list[np.ndarray]) -> None:
    """An MJPG .avi of ``images`` at FPS."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), FPS, (WIDTH, HEIGHT))
    for image in images:
        writer.write(image)
    writer.release()


def serve_mjpeg(jpegs: list[bytes], closing: threading.Event) -> ThreadingHTTPServer:
    """Start an MJPEG camera on 127.0.0.1 streaming ``jpegs`` in a loop at FPS."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=f")
            self.end_headers()
            index = 0
            try:
                while not closing.wait(1 / FPS):
                    data = jpegs[index % len(jpegs)]
                    head = f"--f\r\nContent-Type: image/jpeg\r\nContent-Length: {len(data)}"
                    self.wfile.write(head.encode() + b"\r\n\r\n" + data + b"\r\n")
                    index += 1
            except OSError:
                pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = False
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def measure(name: str, source: str, seconds: float) -> dict[str, float]:
    """Consume ``source`` for ``seconds``; return its figures."""
    latencies: list[float] = []
    with LaneCapture(name, source) as capture:
        first = capture.wait_for_frame(timeout=10)
        if first is None:
            raise SystemExit(f"{name}: no frame from {source}")
        last_no = first.frame_no
        end = time.monotonic() + seconds
        start_stats = capture.stats()
        while time.monotonic() < end:
            frame = capture.wait_for_frame(after_frame_no=last_no, timeout=1)
            if frame is None:
                continue
            latencies.append((time.monotonic() - frame.captured_at) * 1000)
            last_no = frame.frame_no
        stats = capture.stats()
    latencies.sort()
    result = {
        "fps": stats.fps,
        "frames": stats.frames - start_stats.frames,
        "dropped": stats.dropped - start_stats.dropped,
        "p50_ms": statistics.median(latencies),
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1],
    }
    print(
        f"{name:5}  fps {result['fps']:5.1f}  frames {result['frames']:4}  "
        f"dropped {result['dropped']:3}  hand-off p50 {result['p50_ms']:.2f} ms  "
        f"p99 {result['p99_ms']:.2f} ms"
    )
    return result


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    images = frames(50)
    closing = threading.Event()
    server = serve_mjpeg([cv2.imencode(".jpg", im)[1].tobytes() for im in images], closing)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            video = Path(tmp) / "bench.avi"
            write_video(video, images)
            print(f"{WIDTH}x{HEIGHT} at {FPS:g} fps, {args.seconds:g} s per source")
            file_result = measure("file", str(video), args.seconds)
            http_result = measure(
                "http", f"http://127.0.0.1:{server.server_port}/s.mjpg", args.seconds
            )
    finally:
        closing.set()
        server.shutdown()
        server.server_close()
    print(
        f"file_fps={file_result['fps']:.1f} file_handoff_p50_ms={file_result['p50_ms']:.2f} "
        f"http_fps={http_result['fps']:.1f} http_handoff_p50_ms={http_result['p50_ms']:.2f} "
        f"http_handoff_p99_ms={http_result['p99_ms']:.2f} "
        f"dropped={int(file_result['dropped'] + http_result['dropped'])}"
    )


if __name__ == "__main__":
    main()
