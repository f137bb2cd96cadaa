/**
 * With auth_mode = "tokens" the API wants `Authorization: Bearer <token>`; the UI
 * keeps the token the user pasted in this browser's localStorage. (Behind an
 * auth proxy nothing is needed: the proxy's cookie does it.)
 */
const KEY = 'batchiepatchie.token';

export function getToken(): string | null {
  try {
    return localStorage.getItem(KEY);
  } catch {
    return null;
  }
}

export function setToken(token: string | null): void {
  try {
    if (token) localStorage.setItem(KEY, token);
    else localStorage.removeItem(KEY);
  } catch {
    /* storage disabled: the token lasts until the page reloads at most */
  }
}

export function authHeaders(): Record<string, string> {
  const t = getToken();
  return t ? { Authorization: `Bearer ${t}` } : {};
}
