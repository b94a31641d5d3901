/** Login: the cluster token, pasted; the head answers with the session cookie (HttpOnly, SameSite=Strict). */
import { useState } from 'preact/hooks';
import { postJson } from '../api.js';

export function LoginPage({ onLoggedIn }: { onLoggedIn(): void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      await postJson('/api/login', { token: token.trim() });
      setToken('');
      onLoggedIn();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="login">
      <h1>rayts dashboard</h1>
      <form onSubmit={submit}>
        <label for="token">Cluster token</label>
        <input id="token" name="token" type="password" autocomplete="off" required value={token}
          onInput={(e) => setToken((e.target as HTMLInputElement).value)} aria-describedby="token-help" />
        <p id="token-help" class="muted">Print it on the head with <code>rayts get-auth-token</code>.</p>
        <button type="submit" disabled={busy}>{busy ? 'Logging in…' : 'Log in'}</button>
        {error && <p class="error" role="alert">Login failed: {error}</p>}
      </form>
    </main>
  );
}
