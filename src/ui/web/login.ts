/**
 * The login page's script: takes the one-time token from the address fragment (`clusterip ui`
 * prints /ui/login#token=...; a fragment never reaches a server or a Referer), exchanges it for the
 * session cookie, and opens the page. A token can also be pasted into the form.
 */
const form = document.getElementById('login') as HTMLFormElement;
const input = document.getElementById('token') as HTMLInputElement;
const message = document.getElementById('message')!;

async function signIn(token: string): Promise<void> {
  message.textContent = 'signing in…';
  const res = await fetch('/ui/api/session', {
    method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ token: token.trim() }),
  });
  if (res.ok) { location.replace('/ui/'); return; }
  const st = await res.json().catch(() => ({})) as { message?: string };
  message.textContent = st.message ?? `sign-in failed (HTTP ${res.status})`;
  input.focus();
}

form.addEventListener('submit', (e) => { e.preventDefault(); void signIn(input.value); });
const fromLink = /(?:^#|&)token=([A-Za-z0-9_-]+)/.exec(location.hash)?.[1];
if (fromLink) {
  history.replaceState(null, '', location.pathname); // the token leaves the address bar and history
  void signIn(fromLink);
}
