// The signed-in token lives in sessionStorage: it survives the OAuth round trip in this tab and dies with it.
const KEY = "tiktok-publisher.token";
const listeners = new Set();

export const session = {
  token() {
    try {
      return sessionStorage.getItem(KEY) || "";
    } catch {
      return "";
    }
  },
  signIn(token) {
    sessionStorage.setItem(KEY, token.trim());
  },
  signOut() {
    sessionStorage.removeItem(KEY);
  },
  /** Called by the API client on a 401: forget the token and tell the app. */
  expired(error) {
    if (!this.token()) return;
    this.signOut();
    for (const fn of listeners) fn(error);
  },
  onExpired(fn) {
    listeners.add(fn);
  },
};

// Only the local stack serves this path (never a deployed stack), so a 404 or a non-JSON answer means
// "no dev token here" and the button stays hidden.
const DEV_TOKEN_PATH = "/local/dev-token";

/** The local stack's demo-tenant token, or "" when this is not the local stack. */
export async function findDevToken() {
  try {
    const response = await fetch(DEV_TOKEN_PATH, { headers: { Accept: "application/json" }, cache: "no-store" });
    if (!response.ok) return "";
    const data = await response.json();
    return typeof data.token === "string" ? data.token : "";
  } catch {
    return "";
  }
}
