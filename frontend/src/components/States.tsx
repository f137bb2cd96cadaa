import { useState, type ReactNode } from 'react';
import { ApiError } from '../lib/api';
import { getToken, setToken } from '../lib/auth';

export function Loading({ what }: { what: string }) {
  return (
    <div className="state state-loading" role="status" aria-live="polite">
      <span className="spinner" aria-hidden="true" /> Loading {what}…
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="state state-empty">
      <div className="state-title">{title}</div>
      {children && <div className="state-body">{children}</div>}
    </div>
  );
}

/** Shown on a 401: the server wants a token; keep it in this browser and retry. */
function TokenForm() {
  const [value, setValue] = useState('');
  return (
    <form
      className="token-form"
      onSubmit={(e) => {
        e.preventDefault();
        setToken(value.trim() || null);
        // Every query of the page failed the same way: start afresh with the token.
        window.location.reload();
      }}
    >
      <input type="password" placeholder="API token" aria-label="API token" value={value} onChange={(e) => setValue(e.target.value)} />
      <button type="submit" className="primary">
        Use token
      </button>
      {getToken() && (
        <button type="button" className="link" onClick={() => (setToken(null), window.location.reload())}>
          Forget the saved token
        </button>
      )}
    </form>
  );
}

export function ErrorBox({ error, retry }: { error: unknown; retry?: () => void }) {
  const message = error instanceof Error ? error.message : String(error);
  const status = error instanceof ApiError ? error.status : undefined;
  const title =
    status === 401 ? 'Sign-in needed' : status === 403 ? 'Not allowed' : status === 0 ? 'Server unreachable' : 'Something went wrong';
  return (
    <div className="state state-error" role="alert">
      <div className="state-title">{title}</div>
      <div className="state-body">
        {status === 403 ? `${message}: this needs an operator; you are signed in as a viewer.` : message}
      </div>
      {status === 401 ? (
        <TokenForm />
      ) : (
        retry && (
          <button type="button" onClick={retry}>
            Try again
          </button>
        )
      )}
    </div>
  );
}
