// Reading a video's duration in the browser, before anything is uploaded (TikTok: enforce
// max_video_post_duration_sec). MP4/MOV: read `moov/mvhd` by walking box headers with Blob.slice (only a few
// bytes are read, wherever moov sits, even in a multi-GB file). Anything else: the <video> element's metadata.

async function bytes(file, start, length) {
  return new DataView(await file.slice(start, start + length).arrayBuffer());
}

function fourcc(view, offset) {
  return String.fromCharCode(view.getUint8(offset), view.getUint8(offset + 1), view.getUint8(offset + 2), view.getUint8(offset + 3));
}

async function findBox(file, start, end, type) {
  let offset = start;
  for (let guard = 0; offset + 8 <= end && guard < 10000; guard += 1) {
    const head = await bytes(file, offset, 16);
    let size = head.getUint32(0);
    const name = fourcc(head, 4);
    let header = 8;
    if (size === 1 && head.byteLength >= 16) {
      size = Number(head.getBigUint64(8));
      header = 16;
    } else if (size === 0) {
      size = end - offset;
    }
    if (size < header) return null;
    if (name === type) return { start: offset + header, end: offset + size };
    offset += size;
  }
  return null;
}

/** Duration in seconds from an ISO-BMFF file's movie header, or null when it is not one. */
export async function mp4Duration(file) {
  try {
    const moov = await findBox(file, 0, file.size, "moov");
    if (!moov) return null;
    const mvhd = await findBox(file, moov.start, moov.end, "mvhd");
    if (!mvhd) return null;
    const view = await bytes(file, mvhd.start, 32);
    const version = view.getUint8(0);
    const timescale = version === 1 ? view.getUint32(20) : view.getUint32(12);
    const duration = version === 1 ? Number(view.getBigUint64(24)) : view.getUint32(16);
    return timescale ? duration / timescale : null;
  } catch {
    return null;
  }
}

/** Duration from the browser's own demuxer (WebM and anything mvhd cannot tell), or null. */
export function elementDuration(url) {
  return new Promise((resolve) => {
    const video = document.createElement("video");
    video.preload = "metadata";
    video.muted = true;
    const done = (value) => {
      video.removeAttribute("src");
      resolve(value);
    };
    video.addEventListener("loadedmetadata", () => done(Number.isFinite(video.duration) ? video.duration : null), { once: true });
    video.addEventListener("error", () => done(null), { once: true });
    setTimeout(() => done(null), 15000);
    video.src = url;
  });
}

export async function videoDuration(file, url) {
  const fromHeader = await mp4Duration(file);
  return fromHeader !== null ? fromHeader : elementDuration(url);
}
