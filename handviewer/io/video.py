"""Random access to the frames of a video, an image folder or a single image.

`open_frames(path)` returns a `FrameSource`; `source.read(i)` gives frame i as an
(H, W, 3) uint8 RGB array. OpenCV is imported on first use, not with this module.

How videos are decoded (OpenCV's FFmpeg backend):
- Short clips, whose decoded frames fit in `preload_mb` (default 256 MB; e.g. 58 frames of
  540x720 take 68 MB), are decoded once, sequentially, when opened. Every later `read` is a
  copy-free lookup, and `frame_count` is the number of frames that really decode (the
  container's count can be wrong; a truncated file yields its decodable prefix).
- Longer videos are streamed: a read of the next frame (or one a few frames ahead) decodes
  forward; any other read seeks with CAP_PROP_POS_FRAMES, which FFmpeg resolves by decoding
  from the previous keyframe. If the decoder reports a different position after a seek (some
  containers seek inexactly), the source stops trusting seeks and decodes from the start of
  the file instead for every backward jump: slow but exact. The last `cache_size` decoded
  frames (at most 256 MB) are kept (LRU).
Frames are returned read-only (they may be shared with the cache): `frame.copy()` to draw on one.
A `FrameSource` is safe to call from several threads (reads are serialised by a lock).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from pathlib import Path

import numpy as np

from handviewer.io._files import natural_key
from handviewer.io.errors import FrameSourceError

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"})
VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mov", ".mkv", ".gif", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv"})
DEFAULT_FPS = 30.0  # for image folders, and videos that do not state a usable rate
_SKIP_AHEAD = 16  # decode forward instead of seeking when the wanted frame is this close ahead
_CACHE_BYTES = 256e6  # the LRU cache also stops at this size (32 frames of 4K video would be 800 MB)


def open_frames(path: str | Path, *, fps: float | None = None, cache_size: int = 32,
                preload_mb: float = 256.0) -> FrameSource:
    """Open a video file, a folder of images (png/jpg/..., natural order) or one image.

    fps        : frame rate to report; default: the video's own, else 30.0 (image folders).
    cache_size : decoded frames kept for streamed videos and image folders (at most 256 MB of them).
    preload_mb : videos whose decoded frames fit in this many MB are decoded once when opened.
    Raises FrameSourceError (path in the message) when the path is missing, empty or undecodable.
    """
    path = Path(path)
    if not path.exists():
        raise FrameSourceError(path, "no such file or folder")
    if path.is_dir():
        files = image_files(path)
        if not files:
            raise FrameSourceError(path, f"folder holds no images ({', '.join(sorted(IMAGE_SUFFIXES))})")
        from handviewer.io.interhand_folder import interhand_canvas

        # An InterHand2.6M folder mixes portrait and landscape crops, each with its own camera.
        return ImageSequence(path, files, fps=fps, cache_size=cache_size, canvas=interhand_canvas(path, files))
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return ImageSequence(path, [path], fps=fps, cache_size=1)
    if path.stat().st_size == 0:
        raise FrameSourceError(path, "file is empty")
    return VideoFile(path, fps=fps, cache_size=cache_size, preload_mb=preload_mb)


def image_files(folder: Path) -> list[Path]:
    """The images of a folder in frame order (natural order of their names; hidden files skipped)."""
    return sorted((p for p in Path(folder).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES
                   and not p.name.startswith(".") and p.is_file()), key=natural_key)


class FrameSource:
    """Frames of one clip, by index.

    path        : the file or folder opened.
    frame_count : number of frames (indices 0 .. frame_count - 1).
    fps         : frames per second.
    size        : (width, height) in pixels.
    """

    path: Path
    frame_count: int
    fps: float
    size: tuple[int, int]

    def __init__(self, path: Path, cache_size: int):
        self.path = path
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._cache_size = max(int(cache_size), 1)
        self._lock = threading.Lock()
        self._closed = False

    def read(self, index: int) -> np.ndarray:
        """Frame `index` as (H, W, 3) uint8 RGB, read-only. FrameSourceError when out of range or undecodable."""
        try:
            i = int(index)
        except (TypeError, ValueError):
            raise TypeError(f"frame index must be an integer, got {index!r}") from None
        if i != index:
            raise TypeError(f"frame index must be an integer, got {index!r}")
        with self._lock:
            if self._closed:
                raise FrameSourceError(self.path, "source is closed")
            if not 0 <= i < self.frame_count:
                raise FrameSourceError(self.path, f"frame {i} out of range: there are {self.frame_count} "
                                                  f"frames (0..{self.frame_count - 1})")
            frame = self._cache.get(i)
            if frame is not None:
                self._cache.move_to_end(i)
                return frame
            frame = self._decode(i)
            frame.flags.writeable = False
            self._remember(i, frame)
            return frame

    def _remember(self, i: int, frame: np.ndarray) -> None:
        self._cache[i] = frame
        limit = max(1, min(self._cache_size, int(_CACHE_BYTES // max(frame.nbytes, 1))))
        while len(self._cache) > limit:
            self._cache.popitem(last=False)

    def _decode(self, i: int) -> np.ndarray:
        raise NotImplementedError

    def close(self) -> None:
        """Release the decoder and the cache; later reads raise FrameSourceError."""
        with self._lock:
            self._closed = True
            self._cache.clear()
            self._release()

    def _release(self) -> None:
        pass

    @property
    def closed(self) -> bool:
        return self._closed

    def __len__(self) -> int:
        return self.frame_count

    def __iter__(self):
        for i in range(self.frame_count):
            yield self.read(i)

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        w, h = self.size
        return f"{type(self).__name__}({str(self.path)!r}, {self.frame_count} frames, {w}x{h}, {self.fps:g} fps)"


class ImageSequence(FrameSource):
    """Frames read from image files (one file per frame, decoded on demand).

    canvas : (width, height) px or None. None: every image must have the first one's size. Given
             (an InterHand2.6M folder, whose images have their own cameras): smaller images are padded
             with black at the right and bottom to it, so pixel coordinates and each image's camera
             stay valid; a larger image is an error."""

    def __init__(self, path: Path, files: list[Path], fps: float | None, cache_size: int,
                 canvas: tuple[int, int] | None = None):
        super().__init__(path, cache_size)
        self.files = tuple(files)
        self.frame_count = len(files)
        self.fps = float(fps) if fps else DEFAULT_FPS
        self.canvas = tuple(canvas) if canvas is not None else None
        first = self._decode(0)
        self.size = (first.shape[1], first.shape[0])
        first.flags.writeable = False
        self._remember(0, first)

    def check(self):
        """Generator: decode every image once, yielding (fraction, message); raises FrameSourceError
        naming the first file that is corrupt or of another size (for work that never shows frames,
        like `handviewer process`, which would otherwise pass them silently)."""
        for i in range(1, self.frame_count):
            self._decode(i)
            yield i / self.frame_count, f"checking image {i + 1}/{self.frame_count}"

    def _decode(self, i: int) -> np.ndarray:
        import cv2

        file = self.files[i]
        try:
            data = np.fromfile(file, dtype=np.uint8)  # not cv2.imread: it fails on non-ASCII paths on Windows
        except OSError as e:
            raise FrameSourceError(file, f"cannot read image: {e.strerror or e}") from e
        bgr = cv2.imdecode(data, cv2.IMREAD_COLOR) if data.size else None
        if bgr is None:
            raise FrameSourceError(file, "cannot decode image (corrupt or unsupported format)")
        if self.canvas is not None:
            bgr = _padded(bgr, self.canvas, file)
        elif i > 0 and (bgr.shape[1], bgr.shape[0]) != self.size:
            raise FrameSourceError(file, f"image is {bgr.shape[1]}x{bgr.shape[0]} but the sequence is "
                                         f"{self.size[0]}x{self.size[1]} (from {self.files[0].name})")
        return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


def _padded(image: np.ndarray, canvas: tuple[int, int], file: Path) -> np.ndarray:
    """image (h, w, 3) placed at the top left of a black (H, W, 3) canvas."""
    h, w = image.shape[:2]
    if w > canvas[0] or h > canvas[1]:
        raise FrameSourceError(file, f"image is {w}x{h}, larger than the folder's {canvas[0]}x{canvas[1]} "
                                     "(the sizes its InterHand2.6M data.json gives)")
    if (w, h) == tuple(canvas):
        return image
    out = np.zeros((canvas[1], canvas[0], 3), image.dtype)
    out[:h, :w] = image
    return out


class VideoFile(FrameSource):
    """Frames decoded from a video file with OpenCV (see the module docstring for the strategy)."""

    def __init__(self, path: Path, fps: float | None, cache_size: int, preload_mb: float):
        super().__init__(path, cache_size)
        self._cap = self._open()
        cv2 = self._cv2
        w, h = int(self._cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(self._cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
        native_fps = self._cap.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if fps else (native_fps if 0 < native_fps < 1000 else DEFAULT_FPS)
        self.size = (w, h)
        reported = int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT))
        self._frames: list[np.ndarray] | None = None
        self._next = 0  # index of the frame the decoder returns next
        self._seek_exact = True
        budget = preload_mb * 1e6
        if 0 < reported * w * h * 3 <= budget:
            self._frames = self._decode_all(max_frames=int(2 * budget // (w * h * 3)) + 1)
        if self._frames is not None:
            self.frame_count = len(self._frames)
            self._release()
        elif 0 < reported and not self._next:
            self.frame_count = reported
        else:  # unknown count, or a preload that found far more frames than reported: count them
            self._rewind()
            self.frame_count = self._count_frames()
        if self.frame_count > 0 and self._frames is None:
            try:
                self.read(0)  # a streamed video must decode at least its first frame
            except FrameSourceError:
                self.frame_count = 0
        if self.frame_count == 0:
            self._release()
            raise FrameSourceError(path, "video holds no decodable frames (corrupt or unsupported codec)")

    @property
    def _cv2(self):
        import cv2

        return cv2

    def _open(self):
        cap = self._cv2.VideoCapture(str(self.path))
        if not cap.isOpened():
            raise FrameSourceError(self.path, "cannot open as a video (corrupt file or unsupported format)")
        return cap

    def _read_next(self) -> np.ndarray | None:
        ok, bgr = self._cap.read()
        if not ok or bgr is None:
            return None
        self._next += 1
        return self._cv2.cvtColor(bgr, self._cv2.COLOR_BGR2RGB)

    def _decode_all(self, max_frames: int) -> list[np.ndarray] | None:
        """Every frame, or None when there are more than `max_frames` (the reported count was wrong)."""
        frames = []
        while (frame := self._read_next()) is not None:
            if len(frames) >= max_frames:
                return None
            frame.flags.writeable = False
            frames.append(frame)
        return frames

    def _count_frames(self) -> int:
        n = 0
        while self._cap.grab():
            n += 1
        self._rewind()
        return n

    def _rewind(self) -> None:
        self._cap.release()
        self._cap = self._open()
        self._next = 0

    def read(self, index: int) -> np.ndarray:
        if self._frames is not None and isinstance(index, (int, np.integer)) and 0 <= index < self.frame_count:
            return self._frames[index]  # preloaded clip: no lock, no cache bookkeeping
        return super().read(index)

    def _decode(self, i: int) -> np.ndarray:
        if self._frames is not None:
            return self._frames[i]
        if not self._next <= i <= self._next + _SKIP_AHEAD:
            if self._seek_exact:
                self._cap.set(self._cv2.CAP_PROP_POS_FRAMES, i)
                self._next = i
            else:
                self._rewind()
        while self._next < i and self._cap.grab():
            self._next += 1
        frame = self._read_next() if self._next == i else None
        if frame is not None and self._seek_exact:
            position = int(round(self._cap.get(self._cv2.CAP_PROP_POS_FRAMES)))
            if position != i + 1:  # the seek landed elsewhere: decode from the start from now on
                self._seek_exact = False
                self._rewind()
                return self._decode(i)
        if frame is None:
            self._rewind()
            raise FrameSourceError(self.path, f"cannot decode frame {i} (the file reports {self.frame_count} "
                                              "frames; it may be truncated)")
        return frame

    def _release(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None
        if self._closed:
            self._frames = None
