"""tests/media.py itself: the generators everyone's tests rely on must be right, not just self-consistent."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.media import VirtualFile, h264_sps, make_jpeg, make_mp4, make_webm, make_webp, mp4_file


def _boxes(data: bytes, start: int, end: int) -> list[tuple[bytes, int, int]]:
    out, pos = [], start
    while pos < end:
        size, kind = struct.unpack_from(">I4s", data, pos)
        header = 8
        if size == 1:
            size, header = struct.unpack_from(">Q", data, pos + 8)[0], 16
        elif size == 0:
            size = end - pos
        assert size >= header, kind
        assert pos + size <= end, kind
        out.append((kind, pos + header, pos + size))
        pos += size
    assert pos == end
    return out


def test_every_mp4_box_nests_exactly() -> None:
    data = make_mp4(1.0, 640, 360, 30, audio=True)
    containers = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"dinf"}
    seen: list[bytes] = []

    def walk(start: int, end: int) -> None:
        for kind, body, box_end in _boxes(data, start, end):
            seen.append(kind)
            if kind in containers:
                walk(body, box_end)

    walk(0, len(data))
    for kind in (
        b"ftyp",
        b"moov",
        b"mvhd",
        b"tkhd",
        b"mdhd",
        b"hdlr",
        b"vmhd",
        b"smhd",
        b"stsd",
        b"stts",
        b"stsc",
        b"stsz",
        b"stco",
        b"mdat",
    ):
        assert kind in seen


def test_sample_tables_point_inside_mdat() -> None:
    for moov_at_end in (False, True):
        data = make_mp4(2.0, 640, 360, 25, moov_at_end=moov_at_end, payload_size=5000)
        mdat = data.index(b"mdat") - 4
        mdat_size = struct.unpack_from(">I", data, mdat)[0]
        stco = data.index(b"stco")
        offset = struct.unpack_from(">I", data, stco + 12)[0]
        stsz = data.index(b"stsz")
        sample_size, count = struct.unpack_from(">II", data, stsz + 8)
        assert (sample_size, count) == (100, 50)
        assert mdat + 8 == offset
        assert offset + sample_size * count <= mdat + mdat_size


class _BitReader:
    """An exp-Golomb reader written separately from the generator's writer."""

    def __init__(self, data: bytes) -> None:
        self.bits = "".join(f"{b:08b}" for b in data)
        self.pos = 0

    def u(self, n: int) -> int:
        value = int(self.bits[self.pos : self.pos + n] or "0", 2)
        self.pos += n
        return value

    def ue(self) -> int:
        zeros = 0
        while self.bits[self.pos] == "0":
            zeros += 1
            self.pos += 1
        return self.u(zeros + 1) - 1


@settings(max_examples=50, deadline=None)
@given(
    width=st.integers(8, 4096).map(lambda v: v // 2 * 2),
    height=st.integers(8, 4096).map(lambda v: v // 2 * 2),
)
def test_sps_decodes_to_the_coded_size(width: int, height: int) -> None:
    nal = h264_sps(width, height)
    rbsp = nal[1:].replace(b"\x00\x00\x03", b"\x00\x00")
    r = _BitReader(rbsp)

    assert (r.u(8), r.u(8), r.u(8)) == (66, 0xC0, 31)
    r.ue(), r.ue()
    assert r.ue() == 2  # pic_order_cnt_type 2: nothing more to read for it
    r.ue(), r.u(1)
    mbs_w, mbs_h = r.ue() + 1, r.ue() + 1
    assert (r.u(1), r.u(1)) == (1, 1)
    crop = [r.ue() for _ in range(4)] if r.u(1) else [0, 0, 0, 0]
    assert mbs_w * 16 - 2 * (crop[0] + crop[1]) == width
    assert mbs_h * 16 - 2 * (crop[2] + crop[3]) == height


def test_virtual_file_reads_across_parts_and_stops_at_the_end() -> None:
    file = VirtualFile([b"abc", 4, b"xyz"])

    assert file.size == 10
    assert file.read(1, 4) == b"bc\x00\x00"
    assert file.read(5, 100) == b"\x00\x00xyz"
    assert file.read(10, 5) == b""
    assert file.reads == [(1, 4), (5, 100), (10, 5)]
    assert file.to_bytes() == b"abc\x00\x00\x00\x00xyz"


def test_written_files_match_the_bytes_sparse_or_not(tmp_path: Path) -> None:
    file = mp4_file(1.0, 640, 360, 30, moov_at_end=True, payload_size=3_000_000)
    for sparse in (True, False):
        path = tmp_path / f"v{sparse}.mp4"
        assert file.write_to(path, sparse=sparse) == file.size
        assert path.read_bytes() == file.to_bytes()


def test_large_virtual_file_refuses_to_materialise() -> None:
    with pytest.raises(ValueError, match="too big"):
        mp4_file(1.0, payload_size=1_000_000_000).to_bytes()


def test_jpeg_and_webp_structure() -> None:
    jpeg = make_jpeg(17, 9)
    assert jpeg[:2] == b"\xff\xd8"
    assert jpeg[-2:] == b"\xff\xd9"
    assert b"\xff\xc0\x00\x0b\x08\x00\x09\x00\x11" in jpeg  # SOF0: 8-bit, height 9, width 17
    assert b"\xff" not in jpeg[jpeg.index(b"\xff\xda") + 10 : -2]  # entropy data needs no byte stuffing
    webp = make_webp(300, 200)
    assert webp[:4] == b"RIFF"
    assert struct.unpack_from("<I", webp, 4)[0] == len(webp) - 8
    assert webp[8:16] == b"WEBPVP8L"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: make_mp4(codec="avc"), "4-character"),
        (lambda: make_mp4(rotation=45), "rotation"),
        (lambda: make_mp4(moov_at_end=True, mdat_size_zero=True), "size-0"),
        (lambda: make_mp4(3.0, payload_size=10), "payload_size"),
        (lambda: make_webm(3.0, payload_size=10), "payload_size"),
        (lambda: make_jpeg(0, 10), "1..65535"),
        (lambda: make_webp(16385, 10), "1..16384"),
        (lambda: make_webp(kind="gif"), "kind"),
    ],
)
def test_generator_arguments_are_checked(call: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()  # type: ignore[operator]
