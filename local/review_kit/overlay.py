"""What a reviewer needs and a headless browser does not draw: a caption per step and a visible pointer.

Both are plain DOM nodes styled through the CSSOM (`element.style`), which the console's CSP
(`style-src 'self'`) allows, so the pages are recorded exactly as served. They are re-created on every
document (the flow crosses to TikTok's consent page and back), and marked `data-review-kit`; screenshots
hide them first (`__reviewKit.show(false)`).
"""

from __future__ import annotations

# Installed with BrowserContext.add_init_script: runs before the page's own scripts on every document.
OVERLAY_SCRIPT = r"""
(() => {
  if (window.__reviewKit) return;
  const state = { caption: "", step: "", x: null, y: null, hidden: false };
  const make = () => {
    if (!document.body || document.getElementById("__review-kit-caption")) return;
    const bar = document.createElement("div");
    bar.id = "__review-kit-caption";
    bar.dataset.reviewKit = "caption";
    Object.assign(bar.style, {
      position: "fixed", left: "0", right: "0", bottom: "0", zIndex: "2147483647", pointerEvents: "none",
      background: "rgba(17, 24, 39, .88)", color: "#fff", font: "600 20px/1.35 system-ui, sans-serif",
      padding: "12px 24px", display: "none", letterSpacing: ".01em",
    });
    const step = document.createElement("span");
    Object.assign(step.style, { color: "#fda4af", marginRight: "12px" });
    const text = document.createElement("span");
    bar.append(step, text);
    const dot = document.createElement("div");
    dot.id = "__review-kit-pointer";
    dot.dataset.reviewKit = "pointer";
    Object.assign(dot.style, {
      position: "fixed", width: "22px", height: "22px", marginLeft: "-11px", marginTop: "-11px",
      borderRadius: "50%", background: "rgba(225, 29, 72, .45)", border: "3px solid #e11d48",
      zIndex: "2147483647", pointerEvents: "none", display: "none",
      transition: "left .45s ease, top .45s ease, transform .15s ease",
    });
    document.body.append(bar, dot);
    window.__reviewKit.render();
  };
  window.__reviewKit = {
    caption(stepText, captionText) { state.step = stepText; state.caption = captionText; this.render(); },
    point(x, y) { state.x = x; state.y = y; this.render(); },
    press() {
      const dot = document.getElementById("__review-kit-pointer");
      if (!dot) return;
      dot.style.transform = "scale(.6)";
      setTimeout(() => { dot.style.transform = "scale(1)"; }, 180);
    },
    // Screenshots leave the overlay out. Not through an injected stylesheet: the console's CSP refuses one.
    show(visible) {
      state.hidden = !visible;
      this.render();
    },
    render() {
      const bar = document.getElementById("__review-kit-caption");
      const dot = document.getElementById("__review-kit-pointer");
      if (!bar || !dot) return;
      bar.firstChild.textContent = state.step;
      bar.lastChild.textContent = state.caption;
      bar.style.display = state.caption && !state.hidden ? "block" : "none";
      if (state.x !== null) {
        dot.style.left = `${state.x}px`; dot.style.top = `${state.y}px`;
      }
      dot.style.display = state.x !== null && !state.hidden ? "block" : "none";
    },
    state,
  };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", make);
  else make();
})();
"""
