import { useEffect, useState } from 'react';
import { KlingAudioProvider, TextToAudioStudio } from 'react-kling-audio';
import 'react-kling-audio/styles.css';
import './demo.css';

type Theme = 'light' | 'dark';
const THEME_KEY = 'rka-demo:theme';

// The demo's two users. The dev server's `authorize` reads this cookie: a real app has its own session.
const USERS = [
  { id: 'ada', name: 'Ada' },
  { id: 'grace', name: 'Grace' },
] as const;
type UserId = (typeof USERS)[number]['id'];
const USER_COOKIE = 'rka-demo-user';

/** Signs in as `id`, the demo way: the cookie the dev server's `authorize` reads. */
function setUserCookie(id: UserId) {
  document.cookie = `${USER_COOKIE}=${id}; path=/; SameSite=Lax; max-age=31536000`;
}

/**
 * Who the dev server will take this page for: no cookie is the first user (as `demoUser` in serve.mjs);
 * a cookie naming nobody the demo knows is nobody (`null`): every call would answer 401.
 */
function initialUser(): UserId | null {
  const match = /(?:^|;\s*)rka-demo-user=([^;]*)/.exec(document.cookie);
  if (!match) return USERS[0].id;
  return USERS.find((user) => user.id === decodeURIComponent(match[1]!))?.id ?? null;
}

/** What the dev server put behind `/api/kling` (serve.mjs writes it into the page): `mock` or `kling`. */
const upstream =
  document.querySelector<HTMLMetaElement>('meta[name="rka-demo-upstream"]')?.content === 'kling'
    ? 'kling'
    : 'mock';

function initialTheme(): Theme {
  const saved = localStorage.getItem(THEME_KEY);
  if (saved === 'light' || saved === 'dark') return saved;
  return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

export function App() {
  const [theme, setTheme] = useState(initialTheme);
  const [user, setUser] = useState(initialUser);
  const signIn = (id: UserId) => {
    setUserCookie(id);
    setUser(id);
  };
  useEffect(() => {
    // The library's tokens switch palettes on this attribute; the page's own colours follow the tokens.
    document.documentElement.dataset.rkaTheme = theme;
    localStorage.setItem(THEME_KEY, theme);
  }, [theme]);

  return (
    <>
      <header className="demo-header">
        <div className="demo-intro">
          <h1>react-kling-audio</h1>
          <p className="demo-upstream" data-upstream={upstream}>
            {upstream === 'mock' ? (
              <>
                Running against the <strong>in-process mock backend</strong> through the real proxy at{' '}
                <code>/api/kling</code>: no key needed, the audio is synthesised. A prompt with the word
                “forbidden” fails on purpose.
              </>
            ) : (
              <>
                Running against the <strong>real Kling API</strong> through the proxy at{' '}
                <code>/api/kling</code>: your key stays on the dev server, and every sound costs units.
              </>
            )}
          </p>
        </div>
        <div className="demo-controls">
          <fieldset className="demo-user" data-signed-in={user ? '' : undefined}>
            <legend>{user ? 'Signed in as' : 'Not signed in. Sign in as'}</legend>
            {USERS.map(({ id, name }) => (
              <label key={id}>
                <input
                  type="radio"
                  name="demo-user"
                  value={id}
                  checked={user === id}
                  onChange={() => signIn(id)}
                />
                {name}
              </label>
            ))}
          </fieldset>
          <button
            type="button"
            className="demo-theme"
            aria-pressed={theme === 'dark'}
            onClick={() => setTheme(theme === 'dark' ? 'light' : 'dark')}
          >
            <span className="demo-theme-switch" aria-hidden="true" />
            Dark theme
          </button>
        </div>
      </header>
      <main className="demo-main">
        {/* A new provider per user: its own cache and its own remembered tasks and draft, as after a sign-in. */}
        {user ? (
          <KlingAudioProvider key={user} baseUrl="/api/kling" storageNamespace={`rka-demo:${user}`}>
            <TextToAudioStudio />
          </KlingAudioProvider>
        ) : (
          <p className="demo-signed-out" role="status">
            The demo does not know this user, so the proxy refuses every request (401). Pick a user above.
          </p>
        )}
      </main>
    </>
  );
}
