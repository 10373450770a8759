import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';
import { authorizedFetch, createApi, type Api, type ApiError, type AuthorizedFetch, type Credentials, type Schemas } from '../api/client';

export type Whoami = Schemas['WhoamiDto'];

interface Session {
  credentials: Credentials;
  whoami: Whoami;
}

interface SessionContext {
  session: Session | null;
  /** Why the last session ended, when the api ended it (a key deactivated or expired). */
  ended: string | null;
  api: Api | null;
  /** `fetch` with the session's credentials, for streams and downloads; a 401 ends the session as the typed client's do. */
  fetch: AuthorizedFetch | null;
  signIn(credentials: Credentials): Promise<void>;
  signOut(): void;
}

/** The credentials live in this tab's sessionStorage only: closing the tab signs out. */
const STORAGE_KEY = 'gridline.console.session';

function stored(): Session | null {
  try {
    const raw = sessionStorage.getItem(STORAGE_KEY);
    return raw ? (JSON.parse(raw) as Session) : null;
  } catch {
    return null;
  }
}

const Context = createContext<SessionContext | null>(null);

export function SessionProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<Session | null>(stored);
  const [ended, setEnded] = useState<string | null>(null);
  const { api, fetch } = useMemo(() => {
    if (!session) return { api: null, fetch: null };
    // A key deactivated, rotated or expired while signed in: back to the sign-in page, with the reason.
    const onUnauthorized = (error: ApiError) => {
      sessionStorage.removeItem(STORAGE_KEY);
      setEnded(`${error.message} (${error.code})`);
      setSession(null);
    };
    return { api: createApi(session.credentials, onUnauthorized), fetch: authorizedFetch(session.credentials, onUnauthorized) };
  }, [session]);

  const signIn = useCallback(async (credentials: Credentials) => {
    const candidate = createApi(credentials);
    const { data } = await candidate.GET('/api/v1/whoami');
    if (!data) throw new Error('the api did not say who this is');
    const next = { credentials, whoami: data };
    sessionStorage.setItem(STORAGE_KEY, JSON.stringify(next));
    setEnded(null);
    setSession(next);
  }, []);

  const signOut = useCallback(() => {
    sessionStorage.removeItem(STORAGE_KEY);
    setSession(null);
  }, []);

  const value = useMemo(() => ({ session, ended, api, fetch, signIn, signOut }), [session, ended, api, fetch, signIn, signOut]);
  return <Context.Provider value={value}>{children}</Context.Provider>;
}

export function useSession(): SessionContext {
  const c = useContext(Context);
  if (!c) throw new Error('useSession outside SessionProvider');
  return c;
}

/** The signed-in caller's api client and identity (pages render only when signed in). */
export function useApi(): { api: Api; fetch: AuthorizedFetch; whoami: Whoami; credentials: Credentials } {
  const { session, api, fetch } = useSession();
  if (!session || !api || !fetch) throw new Error('not signed in');
  return { api, fetch, whoami: session.whoami, credentials: session.credentials };
}

export function isSuperadmin(w: Whoami): boolean {
  return w.role === 'superadmin';
}

export function isTeamAdmin(w: Whoami): boolean {
  return w.role === 'superadmin' || w.role === 'team_admin';
}
