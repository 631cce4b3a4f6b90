"""Real media files for tests, generated in pure Python (no ffmpeg, no Pillow).

- ``make_mp4`` / ``make_mov``: ISO-BMFF with ftyp, moov(mvhd, trak(tkhd, mdia(mdhd, hdlr 'vide',
  minf(vmhd, dinf, stbl(stsd <codec entry + config box>, stts, stsc, stsz, stco))))), mdat. Every box is
  structurally valid and the sample tables agree with mdat, so a real parser reads the declared values; the
  frames themselves are zero bytes (not decodable pictures). For avc1/avc3 the avcC carries a real SPS/PPS
  for the coded size.
- ``make_webm``: EBML header, Segment(SeekHead, Info, Tracks, Cluster(SimpleBlock...)).
- ``make_jpeg``: a decodable grayscale baseline (or DC-only progressive) JPEG of any size.
- ``make_webp``: a decodable lossless (VP8L) WebP, optionally wrapped in VP8X; or a lossy VP8 frame header.

Big files never need memory: the ``*_file`` variants return a :class:`VirtualFile` whose zero-filled payload
is a count, not bytes. It is a RangeReader (size/read) and can be written to disk with ``write_to`` (sparse).
"""

from __future__ import annotations

import math
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path

Part = bytes | int  # an int is that many zero bytes, materialised only when read

MAX_IN_MEMORY = 256 * 1024 * 1024


# ----------------------------------------------------------------------------------------------- files


@dataclass
class VirtualFile:
    """A file made of byte parts and zero runs. Implements the probe's RangeReader and records every read."""

    parts: list[Part]
    reads: list[tuple[int, int]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._offsets: list[int] = []
        total = 0
        for part in self.parts:
            self._offsets.append(total)
            total += part if isinstance(part, int) else len(part)
        self._size = total

    @property
    def size(self) -> int:
        return self._size

    def read(self, offset: int, length: int) -> bytes:
        self.reads.append((offset, length))
        return self._slice(offset, length)

    def _slice(self, offset: int, length: int) -> bytes:
        end = min(self._size, offset + max(0, length))
        out = bytearray()
        for start, part in zip(self._offsets, self.parts, strict=True):
            part_len = part if isinstance(part, int) else len(part)
            lo, hi = max(offset, start), min(end, start + part_len)
            if lo >= hi:
                continue
            out += bytes(hi - lo) if isinstance(part, int) else part[lo - start : hi - start]
        return bytes(out)

    def to_bytes(self) -> bytes:
        if self._size > MAX_IN_MEMORY:
            raise ValueError(
                f"{self._size} bytes is too big to build in memory; use write_to() or read ranges"
            )
        return self._slice(0, self._size)

    def write_to(self, path: str | Path, *, sparse: bool = True) -> int:
        """Write the file (zero runs as holes when ``sparse``); returns its size."""
        with open(path, "wb") as f:
            for part in self.parts:
                if isinstance(part, int):
                    if sparse:
                        f.seek(part, 1)
                    else:
                        for left in range(part, 0, -(1 << 20)):
                            f.write(bytes(min(left, 1 << 20)))
                else:
                    f.write(part)
            f.truncate(self._size)
        return self._size


@dataclass
class CountingReader:
    """Wraps bytes as a RangeReader and records each (offset, length) read."""

    data: bytes
    reads: list[tuple[int, int]] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.data)

    def read(self, offset: int, length: int) -> bytes:
        self.reads.append((offset, length))
        return self.data[offset : offset + length]


@dataclass
class FileReader:
    """A RangeReader over a file on disk (for the streamed big-file variants)."""

    path: Path
    reads: list[tuple[int, int]] = field(default_factory=list)

    @property
    def size(self) -> int:
        return self.path.stat().st_size

    def read(self, offset: int, length: int) -> bytes:
        self.reads.append((offset, length))
        with open(self.path, "rb") as f:
            f.seek(offset)
            return f.read(length)


# ------------------------------------------------------------------------------------------------- MP4


def _box(box_type: bytes, *payload: bytes) -> bytes:
    body = b"".join(payload)
    return struct.pack(">I4s", 8 + len(body), box_type) + body


def _full(box_type: bytes, version: int, flags: int, *payload: bytes) -> bytes:
    return _box(box_type, struct.pack(">I", (version << 24) | flags), *payload)


class _Bits:
    """MSB-first bit writer for H.264 parameter sets (with exp-Golomb codes)."""

    def __init__(self) -> None:
        self.bits: list[int] = []

    def u(self, value: int, n: int) -> None:
        self.bits.extend((value >> (n - 1 - i)) & 1 for i in range(n))

    def ue(self, value: int) -> None:
        code = value + 1
        self.u(0, code.bit_length() - 1)
        self.u(code, code.bit_length())

    def se(self, value: int) -> None:
        self.ue(2 * value - 1 if value > 0 else -2 * value)

    def rbsp(self) -> bytes:
        bits = [*self.bits, 1]  # rbsp_stop_one_bit, then zero alignment
        bits += [0] * (-len(bits) % 8)
        return bytes(int("".join(map(str, bits[i : i + 8])), 2) for i in range(0, len(bits), 8))


def _emulation_prevention(rbsp: bytes) -> bytes:
    out, zeros = bytearray(), 0
    for byte in rbsp:
        if zeros >= 2 and byte <= 3:
            out.append(3)
            zeros = 0
        out.append(byte)
        zeros = zeros + 1 if byte == 0 else 0
    return bytes(out)


def h264_sps(width: int, height: int) -> bytes:
    """A Baseline-profile SPS NAL unit whose coded size (cropped) is width x height (even dims exact)."""
    mbs_w, mbs_h = math.ceil(width / 16), math.ceil(height / 16)
    crop_right, crop_bottom = (mbs_w * 16 - width) // 2, (mbs_h * 16 - height) // 2
    b = _Bits()
    b.u(66, 8)  # profile_idc: Baseline
    b.u(0xC0, 8)  # constraint_set0/1
    b.u(31, 8)  # level_idc 3.1
    b.ue(0)  # seq_parameter_set_id
    b.ue(0)  # log2_max_frame_num_minus4
    b.ue(2)  # pic_order_cnt_type
    b.ue(1)  # max_num_ref_frames
    b.u(0, 1)  # gaps_in_frame_num_value_allowed_flag
    b.ue(mbs_w - 1)
    b.ue(mbs_h - 1)
    b.u(1, 1)  # frame_mbs_only_flag
    b.u(1, 1)  # direct_8x8_inference_flag
    cropping = bool(crop_right or crop_bottom)
    b.u(int(cropping), 1)
    if cropping:
        for value in (0, crop_right, 0, crop_bottom):
            b.ue(value)
    b.u(0, 1)  # vui_parameters_present_flag
    return b"\x67" + _emulation_prevention(b.rbsp())


def h264_pps() -> bytes:
    """A minimal PPS NAL unit matching :func:`h264_sps`."""
    b = _Bits()
    b.ue(0)  # pic_parameter_set_id
    b.ue(0)  # seq_parameter_set_id
    b.u(0, 1)  # entropy_coding_mode_flag (CAVLC)
    b.u(0, 1)  # bottom_field_pic_order_in_frame_present_flag
    b.ue(0)  # num_slice_groups_minus1
    b.ue(0)  # num_ref_idx_l0_default_active_minus1
    b.ue(0)  # num_ref_idx_l1_default_active_minus1
    b.u(0, 1)  # weighted_pred_flag
    b.u(0, 2)  # weighted_bipred_idc
    b.se(0)  # pic_init_qp_minus26
    b.se(0)  # pic_init_qs_minus26
    b.se(0)  # chroma_qp_index_offset
    b.u(1, 1)  # deblocking_filter_control_present_flag
    b.u(0, 1)  # constrained_intra_pred_flag
    b.u(0, 1)  # redundant_pic_cnt_present_flag
    return b"\x68" + _emulation_prevention(b.rbsp())


def _codec_config(codec: str, width: int, height: int) -> bytes:
    if codec in ("avc1", "avc3"):
        sps, pps = h264_sps(width, height), h264_pps()
        return _box(
            b"avcC",
            bytes([1, sps[1], sps[2], sps[3], 0xFF, 0xE1]),
            struct.pack(">H", len(sps)),
            sps,
            b"\x01",
            struct.pack(">H", len(pps)),
            pps,
        )
    if codec in ("hvc1", "hev1"):
        return _box(
            b"hvcC",
            bytes([1, 0x01]),
            struct.pack(">I", 0x60000000),  # general_profile_compatibility_flags
            bytes(6),  # general_constraint_indicator_flags
            bytes([93]),  # general_level_idc 3.1
            struct.pack(">HBBBBHB", 0xF000, 0xFC, 0xFD, 0xF8, 0xF8, 0, 0x0F),
            b"\x00",  # numOfArrays
        )
    if codec in ("vp09", "vp08"):
        return _full(b"vpcC", 1, 0, bytes([0, 31, 0x80 | (1 << 1), 1, 1, 1]), struct.pack(">H", 0))
    if codec == "av01":
        return _box(b"av1C", bytes([0x81, 0x08, 0x0C, 0x00]))
    return b""


def _visual_entry(codec: str, width: int, height: int) -> bytes:
    return _box(
        codec.encode("latin-1"),
        bytes(6),
        struct.pack(">H", 1),  # data_reference_index
        bytes(16),  # pre_defined, reserved, pre_defined[3]
        struct.pack(">HHIIIH", width, height, 0x00480000, 0x00480000, 0, 1),
        bytes(32),  # compressorname
        struct.pack(">Hh", 0x0018, -1),
        _codec_config(codec, width, height),
    )


_MATRICES = {
    0: (0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000),
    90: (0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x40000000),
    180: (-0x10000, 0, 0, 0, -0x10000, 0, 0, 0, 0x40000000),
    270: (0, -0x10000, 0, 0x10000, 0, 0, 0, 0, 0x40000000),
}


def _times(version: int, timescale: int, duration: int) -> bytes:
    if version == 1:
        return struct.pack(">QQIQ", 0, 0, timescale, duration)
    return struct.pack(">IIII", 0, 0, timescale, duration)


def _tkhd(
    version: int, track_id: int, duration: int, width: int, height: int, rotation: int, audio: bool
) -> bytes:
    if version == 1:
        head = struct.pack(">QQIIQ", 0, 0, track_id, 0, duration)
    else:
        head = struct.pack(">IIIII", 0, 0, track_id, 0, duration)
    return _full(
        b"tkhd",
        version,
        0x000003,
        head,
        bytes(8),
        struct.pack(">hhhH", 0, 0, 0x0100 if audio else 0, 0),
        struct.pack(">9i", *_MATRICES[rotation]),
        struct.pack(">II", width << 16, height << 16),
    )


def _dinf() -> bytes:
    return _box(b"dinf", _full(b"dref", 0, 0, struct.pack(">I", 1), _full(b"url ", 0, 1)))


def _sample_tables(
    entry: bytes, stts: Sequence[tuple[int, int]], sample_size: int, count: int, offset: int
) -> bytes:
    stco = (
        _full(b"co64", 0, 0, struct.pack(">IQ", 1, offset))
        if offset > 0xFFFFFFFF
        else _full(b"stco", 0, 0, struct.pack(">II", 1, offset))
    )
    return _box(
        b"stbl",
        _full(b"stsd", 0, 0, struct.pack(">I", 1), entry),
        _full(b"stts", 0, 0, struct.pack(">I", len(stts)), *(struct.pack(">II", c, d) for c, d in stts)),
        _full(b"stsc", 0, 0, struct.pack(">IIII", 1, 1, count, 1) if count else struct.pack(">I", 0)),
        _full(b"stsz", 0, 0, struct.pack(">II", sample_size, count)),
        stco if count else _full(b"stco", 0, 0, struct.pack(">I", 0)),
    )


def frame_rate_fraction(fps: float | Fraction) -> Fraction:
    """The exact rate the generators encode for ``fps`` (29.97 -> 2997/100, 30000/1001 stays itself)."""
    return Fraction(fps).limit_denominator(1001)


def mp4_file(
    duration_s: float = 3.0,
    width: int = 720,
    height: int = 1280,
    fps: float | Fraction = 30,
    codec: str = "avc1",
    *,
    moov_at_end: bool = False,
    payload_size: int | None = None,
    brand: str = "isom",
    rotation: int = 0,
    audio: bool = False,
    version: int = 0,
    largesize_mdat: bool = False,
    mdat_size_zero: bool = False,
    free_size: int = 0,
    fragmented: bool = False,
    moov_padding: int = 0,
) -> VirtualFile:
    """An MP4 (or MOV with brand "qt  ") as a VirtualFile; see :func:`make_mp4` for the parameters."""
    if len(codec.encode("latin-1")) != 4:
        raise ValueError("codec is a 4-character sample entry type, e.g. avc1")
    if rotation not in _MATRICES:
        raise ValueError("rotation must be 0, 90, 180 or 270")
    if mdat_size_zero and moov_at_end:
        raise ValueError("a size-0 mdat runs to the end of the file, so moov cannot follow it")
    rate = frame_rate_fraction(fps)
    frames = max(1, round(duration_s * rate))
    k = max(1, 90_000 // rate.numerator)  # a realistic media timescale (90 kHz for integer rates)
    media_timescale, delta = rate.numerator * k, rate.denominator * k
    movie_duration = round(duration_s * 1000)
    payload = frames * 32 if payload_size is None else payload_size
    if payload < frames:
        raise ValueError("payload_size must give every frame at least one byte")
    sample_size = payload // frames
    coded_w, coded_h = (height, width) if rotation in (90, 270) else (width, height)

    def moov(data_offset: int) -> bytes:
        tracks: list[bytes] = []
        if audio:
            audio_entry = _box(
                b"mp4a",
                bytes(6),
                struct.pack(">H", 1),
                bytes(8),
                struct.pack(">HHHHI", 2, 16, 0, 0, 48000 << 16),
            )
            tracks.append(
                _box(
                    b"trak",
                    _tkhd(version, 1, movie_duration, 0, 0, 0, True),
                    _box(
                        b"mdia",
                        _full(
                            b"mdhd",
                            version,
                            0,
                            _times(version, 48000, movie_duration * 48),
                            b"\x55\xc4\x00\x00",
                        ),
                        _full(b"hdlr", 0, 0, bytes(4), b"soun", bytes(12), b"SoundHandler\x00"),
                        _box(
                            b"minf",
                            _full(b"smhd", 0, 0, bytes(4)),
                            _dinf(),
                            _sample_tables(
                                audio_entry,
                                [(1, movie_duration * 48)],
                                min(payload, 0xFFFFFFFF),
                                1,
                                data_offset,
                            ),
                        ),
                    ),
                )
            )
        video_id = 2 if audio else 1
        stts = [] if fragmented else [(frames, delta)]
        count = 0 if fragmented else frames
        tracks.append(
            _box(
                b"trak",
                _tkhd(
                    version, video_id, 0 if fragmented else movie_duration, coded_w, coded_h, rotation, False
                ),
                _box(
                    b"mdia",
                    _full(
                        b"mdhd",
                        version,
                        0,
                        _times(version, media_timescale, 0 if fragmented else frames * delta),
                        b"\x55\xc4\x00\x00",  # language "und"
                    ),
                    _full(b"hdlr", 0, 0, bytes(4), b"vide", bytes(12), b"VideoHandler\x00"),
                    _box(
                        b"minf",
                        _full(b"vmhd", 0, 1, bytes(8)),
                        _dinf(),
                        _sample_tables(
                            _visual_entry(codec, coded_w, coded_h), stts, sample_size, count, data_offset
                        ),
                    ),
                ),
            )
        )
        mvhd = _full(
            b"mvhd",
            version,
            0,
            _times(version, 1000, 0 if fragmented else movie_duration),
            struct.pack(">IH", 0x00010000, 0x0100),
            bytes(10),
            struct.pack(">9i", *_MATRICES[0]),
            bytes(24),
            struct.pack(">I", video_id + 1),
        )
        mvex = b""
        if fragmented:
            mvex = _box(
                b"mvex",
                _full(b"mehd", 0, 0, struct.pack(">I", movie_duration)),
                _full(b"trex", 0, 0, struct.pack(">IIIII", video_id, 1, delta, sample_size, 0)),
            )
        padding = _box(b"free", bytes(moov_padding - 8)) if moov_padding >= 8 else b""
        return _box(b"moov", mvhd, *tracks, mvex, padding)

    ftyp = _box(
        b"ftyp",
        brand.encode("latin-1"),
        struct.pack(">I", 0x200),
        *(b.encode("latin-1") for b in dict.fromkeys([brand, "isom", "iso2", "avc1", "mp41"])),
    )
    free = _box(b"free", bytes(free_size - 8)) if free_size >= 8 else b""

    def fragment(data_offset_base: int) -> bytes:
        # moof(mfhd, traf(tfhd, tfdt, trun)); the trun's data_offset points just past moof+mdat header.
        def build(data_offset: int) -> bytes:
            trun = _full(b"trun", 0, 0x000001, struct.pack(">Ii", frames, data_offset))
            tfhd = _full(b"tfhd", 0, 0x020000, struct.pack(">I", 2 if audio else 1))
            return _box(
                b"moof",
                _full(b"mfhd", 0, 0, struct.pack(">I", 1)),
                _box(b"traf", tfhd, _full(b"tfdt", 1, 0, struct.pack(">Q", 0)), trun),
            )

        size = len(build(0))
        return build(size + data_offset_base)

    big = largesize_mdat or payload + 8 > 0xFFFFFFFF
    mdat_header = (
        struct.pack(">I4sQ", 1, b"mdat", 16 + payload)
        if big
        else struct.pack(">I4s", 0 if mdat_size_zero else 8 + payload, b"mdat")
    )
    moof = fragment(len(mdat_header)) if fragmented else b""
    if moov_at_end:
        data_offset = len(ftyp) + len(free) + len(moof) + len(mdat_header)
        parts: list[Part] = [ftyp + free + moof + mdat_header, payload, moov(data_offset)]
    else:
        moov_len = len(moov(0))
        data_offset = len(ftyp) + len(free) + moov_len + len(moof) + len(mdat_header)
        parts = [ftyp + free + moov(data_offset) + moof + mdat_header, payload]
    return VirtualFile(parts)


def make_mp4(
    duration_s: float = 3.0,
    width: int = 720,
    height: int = 1280,
    fps: float | Fraction = 30,
    codec: str = "avc1",
    moov_at_end: bool = False,
    payload_size: int | None = None,
    **options: object,
) -> bytes:
    """A small MP4 as bytes.

    ``width``/``height`` are display dims (with ``rotation`` 90/270 the coded dims are swapped and the tkhd
    matrix rotates them back, like a phone video); ``fps`` may be fractional (29.97, Fraction(30000, 1001));
    ``codec`` is the sample entry fourcc (avc1, avc3, hvc1, hev1, vp09, vp08, av01, or any 4 chars);
    ``payload_size`` is the mdat payload in bytes (default 32 per frame). Other options: see
    :func:`mp4_file` (brand "qt  " for MOV, rotation, audio, version=1 boxes, largesize_mdat, mdat_size_zero,
    free_size (a free box before moov/mdat), fragmented, moov_padding (a free box inside moov, to make it
    big)).
    """
    return mp4_file(
        duration_s,
        width,
        height,
        fps,
        codec,
        moov_at_end=moov_at_end,
        payload_size=payload_size,
        **options,  # type: ignore[arg-type]
    ).to_bytes()


def make_mov(duration_s: float = 3.0, width: int = 1080, height: int = 1920, **options: object) -> bytes:
    """A QuickTime .mov (ftyp brand "qt  "), otherwise like :func:`make_mp4`."""
    return make_mp4(duration_s, width, height, brand="qt  ", **options)  # type: ignore[arg-type]


def write_mp4(path: str | Path, *, sparse: bool = True, **options: object) -> int:
    """Stream an MP4 of any size (e.g. payload_size=3_900_000_000) to ``path``; returns its size."""
    return mp4_file(**options).write_to(path, sparse=sparse)  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------------ WebM


def _ebml_id(element_id: int) -> bytes:
    return element_id.to_bytes((element_id.bit_length() + 7) // 8, "big")


def ebml_size(value: int, length: int | None = None) -> bytes:
    """EBML variable-size integer (minimal length unless ``length`` is given)."""
    if length is None:
        length = next(n for n in range(1, 9) if value < (1 << (7 * n)) - 1)
    return (value | (1 << (7 * length))).to_bytes(length, "big")


UNKNOWN_SIZE = b"\x01\xff\xff\xff\xff\xff\xff\xff"


def _el(element_id: int, *payload: bytes) -> bytes:
    body = b"".join(payload)
    return _ebml_id(element_id) + ebml_size(len(body)) + body


def _uint_el(element_id: int, value: int, length: int | None = None) -> bytes:
    length = length or max(1, (value.bit_length() + 7) // 8)
    return _el(element_id, value.to_bytes(length, "big"))


_MKV_CODEC_IDS = {
    "vp8": "V_VP8",
    "vp9": "V_VP9",
    "av1": "V_AV1",
    "h264": "V_MPEG4/ISO/AVC",
    "h265": "V_MPEGH/ISO/HEVC",
}


def webm_file(
    duration_s: float = 3.0,
    width: int = 720,
    height: int = 1280,
    fps: float | None = 30,
    codec: str = "vp9",
    *,
    payload_size: int | None = None,
    doc_type: str = "webm",
    duration_float32: bool = False,
    segment_unknown_size: bool = False,
    metadata_at_end: bool = False,
    audio: bool = False,
    timecode_scale: int = 1_000_000,
) -> VirtualFile:
    """A WebM/Matroska file as a VirtualFile; see :func:`make_webm`."""
    codec_id = _MKV_CODEC_IDS.get(codec, codec)
    rate = fps or 30
    frames = max(1, round(duration_s * rate))
    payload = frames * 32 if payload_size is None else payload_size
    if payload < frames:
        raise ValueError("payload_size must give every frame at least one byte")
    frame_size = payload // frames

    header = _el(
        0x1A45DFA3,
        _uint_el(0x4286, 1),
        _uint_el(0x42F7, 1),
        _uint_el(0x42F2, 4),
        _uint_el(0x42F3, 8),
        _el(0x4282, doc_type.encode()),
        _uint_el(0x4287, 4),
        _uint_el(0x4285, 2),
    )
    duration_units = duration_s * 1e9 / timecode_scale
    info = _el(
        0x1549A966,
        _uint_el(0x2AD7B1, timecode_scale),
        _el(0x4D80, b"tiktok-publisher tests"),
        _el(0x5741, b"tests/media.py"),
        _el(
            0x4489,
            struct.pack(">f", duration_units) if duration_float32 else struct.pack(">d", duration_units),
        ),
    )
    entries = []
    if audio:
        entries.append(
            _el(
                0xAE,
                _uint_el(0xD7, 1),
                _uint_el(0x73C5, 1),
                _uint_el(0x83, 2),
                _el(0x86, b"A_OPUS"),
                _el(0xE1, _uint_el(0x9F, 2), _el(0xB5, struct.pack(">d", 48000.0))),
            )
        )
    video_number = 2 if audio else 1
    video_fields = [
        _uint_el(0xD7, video_number),
        _uint_el(0x73C5, video_number),
        _uint_el(0x83, 1),
        _el(0x86, codec_id.encode()),
    ]
    config = {"V_MPEG4/ISO/AVC": "avc1", "V_MPEGH/ISO/HEVC": "hvc1"}.get(codec_id)
    if config:
        # CodecPrivate: the avcC/hvcC record (without its box header), as Matroska requires for these codecs.
        video_fields.append(_el(0x63A2, _codec_config(config, width, height)[8:]))
    if fps:
        video_fields.append(_uint_el(0x23E383, round(1e9 / fps)))
    video_fields.append(_el(0xE0, _uint_el(0xB0, width), _uint_el(0xBA, height)))
    tracks = _el(0x1654AE6B, _el(0xAE, *video_fields), *entries)

    # Clusters of about one second; blocks carry zero-filled frames (as counts, never allocated).
    cluster_parts: list[Part] = []
    ms_per_frame = 1000 / rate
    ticks_per_frame = ms_per_frame * 1_000_000 / timecode_scale
    # About one second per cluster, fewer frames when a block's int16 relative timecode would overflow.
    per_cluster = max(1, min(round(rate), int(32767 // max(ticks_per_frame, 1e-9))))
    for first in range(0, frames, per_cluster):
        count = min(per_cluster, frames - first)
        timecode = round(first * ms_per_frame * 1_000_000 / timecode_scale)
        block_body = []
        for i in range(count):
            relative = round(i * ms_per_frame * 1_000_000 / timecode_scale)
            block_head = bytes([0x80 | video_number]) + struct.pack(">hB", relative, 0x80 if i == 0 else 0)
            block_body.append((block_head, frame_size))
        blocks_len = sum(1 + len(ebml_size(len(h) + n, 8)) + len(h) + n for h, n in block_body)
        timecode_el = _uint_el(0xE7, timecode)
        cluster_parts.append(_ebml_id(0x1F43B675) + ebml_size(len(timecode_el) + blocks_len, 8) + timecode_el)
        for h, n in block_body:
            cluster_parts += [b"\xa3" + ebml_size(len(h) + n, 8) + h, n]
    clusters_len = sum(p if isinstance(p, int) else len(p) for p in cluster_parts)

    def seekhead(info_pos: int, tracks_pos: int) -> bytes:
        return _el(
            0x114D9B74,
            _el(0x4DBB, _el(0x53AB, _ebml_id(0x1549A966)), _uint_el(0x53AC, info_pos, 8)),
            _el(0x4DBB, _el(0x53AB, _ebml_id(0x1654AE6B)), _uint_el(0x53AC, tracks_pos, 8)),
        )

    seek_len = len(seekhead(0, 0))
    if metadata_at_end:
        info_pos = seek_len + clusters_len
        body: list[Part] = [seekhead(info_pos, info_pos + len(info)), *cluster_parts, info + tracks]
    else:
        body = [seekhead(seek_len, seek_len + len(info)) + info + tracks, *cluster_parts]
    body_len = sum(p if isinstance(p, int) else len(p) for p in body)
    segment_head = _ebml_id(0x18538067) + (UNKNOWN_SIZE if segment_unknown_size else ebml_size(body_len, 8))
    return VirtualFile(_merge([header + segment_head, *body]))


def _merge(parts: Iterable[Part]) -> list[Part]:
    out: list[Part] = []
    for part in parts:
        if out and isinstance(part, bytes) and isinstance(out[-1], bytes):
            out[-1] = out[-1] + part
        elif not (isinstance(part, int) and part == 0):
            out.append(part)
    return out


def make_webm(
    duration_s: float = 3.0,
    width: int = 720,
    height: int = 1280,
    fps: float | None = 30,
    codec: str = "vp9",
    **options: object,
) -> bytes:
    """A small WebM as bytes. ``codec``: vp8 | vp9 | av1 | h264 | h265 or a raw CodecID; ``fps=None`` leaves
    DefaultDuration out. Options (see :func:`webm_file`): payload_size, doc_type ("matroska" for .mkv),
    duration_float32, segment_unknown_size, metadata_at_end (Info/Tracks after the clusters, found via the
    SeekHead), audio (an Opus track before the video), timecode_scale."""
    return webm_file(duration_s, width, height, fps, codec, **options).to_bytes()  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------------------ photos


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def make_jpeg(
    width: int = 1080, height: int = 1920, *, progressive: bool = False, exif_size: int = 0
) -> bytes:
    """A decodable grayscale JPEG (flat mid-grey): SOI, APP0 JFIF, [APP1 Exif padding], DQT, SOF0 (or SOF2),
    DHT, SOS, entropy-coded data, EOI. ``exif_size`` adds that many bytes of APP1 segments before the frame
    header (as a big camera Exif block would), to push SOF past the first read."""
    if not (1 <= width <= 65535 and 1 <= height <= 65535):
        raise ValueError("JPEG sides are 1..65535")
    out = bytearray(b"\xff\xd8")
    out += _segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    remaining = exif_size
    while remaining > 0:
        chunk = min(remaining, 65533 - 6)
        out += _segment(0xE1, b"Exif\x00\x00" + bytes(chunk))
        remaining -= chunk
    out += _segment(0xDB, b"\x00" + bytes([1] * 64))
    out += _segment(
        0xC2 if progressive else 0xC0, struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00"
    )
    # One DC table and one AC table, each a single 1-bit code "0": DC category 0 (diff 0) and AC EOB.
    table = bytes([1] + [0] * 15) + b"\x00"
    out += _segment(0xC4, b"\x00" + table + b"\x10" + table)
    spectral = b"\x00\x00\x00" if progressive else b"\x00\x3f\x00"  # DC-only first scan / full baseline
    out += _segment(0xDA, b"\x01\x01\x00" + spectral)
    blocks = math.ceil(width / 8) * math.ceil(height / 8)
    bits = blocks * (1 if progressive else 2)
    data = bytearray(bits // 8)
    if bits % 8:
        data.append((1 << (8 - bits % 8)) - 1)  # pad the last byte with 1-bits
    out += data + b"\xff\xd9"
    return bytes(out)


class _LsbBits:
    """LSB-first bit writer (the VP8L bitstream order)."""

    def __init__(self) -> None:
        self.value = 0
        self.count = 0

    def put(self, value: int, n: int) -> None:
        self.value |= (value & ((1 << n) - 1)) << self.count
        self.count += n

    def bytes(self) -> bytes:
        return self.value.to_bytes((self.count + 7) // 8, "little")


def _riff_chunk(fourcc: bytes, data: bytes) -> bytes:
    return fourcc + struct.pack("<I", len(data)) + data + (b"\x00" if len(data) % 2 else b"")


def _vp8l(width: int, height: int) -> bytes:
    bits = _LsbBits()
    bits.put(0x2F, 8)
    bits.put(width - 1, 14)
    bits.put(height - 1, 14)
    bits.put(0, 1)  # alpha_is_used
    bits.put(0, 3)  # version
    bits.put(0, 1)  # no transform
    bits.put(0, 1)  # no colour cache
    bits.put(0, 1)  # no meta prefix codes
    # Five "simple" prefix codes with one symbol each: green 0, red 0, blue 0, alpha 255, distance 0.
    # A one-symbol code takes zero bits per pixel, so the pixel data is empty: an opaque black image.
    for symbol in (0, 0, 0, 255, 0):
        bits.put(1, 1)  # simple code
        bits.put(0, 1)  # one symbol
        if symbol < 2:
            bits.put(0, 1)  # 1-bit symbol
            bits.put(symbol, 1)
        else:
            bits.put(1, 1)  # 8-bit symbol
            bits.put(symbol, 8)
    return bits.bytes()


def make_webp(width: int = 1080, height: int = 1080, *, kind: str = "lossless") -> bytes:
    """A WebP. ``kind``: "lossless" (decodable VP8L, black), "extended" (VP8X canvas + the same VP8L), or
    "lossy" (a VP8 key-frame header with the size; the compressed data is not decodable)."""
    if not (1 <= width <= 16384 and 1 <= height <= 16384):
        raise ValueError("WebP sides are 1..16384")
    if kind == "lossless":
        chunks = _riff_chunk(b"VP8L", _vp8l(width, height))
    elif kind == "extended":
        canvas = bytes(4) + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
        chunks = _riff_chunk(b"VP8X", canvas) + _riff_chunk(b"VP8L", _vp8l(width, height))
    elif kind == "lossy":
        first_partition = 10
        tag = (0 | (0 << 1) | (1 << 4) | (first_partition << 5)).to_bytes(3, "little")  # key frame, shown
        chunks = _riff_chunk(b"VP8 ", tag + b"\x9d\x01\x2a" + struct.pack("<HH", width, height) + bytes(20))
    else:
        raise ValueError("kind must be lossless, extended or lossy")
    return b"RIFF" + struct.pack("<I", 4 + len(chunks)) + b"WEBP" + chunks
