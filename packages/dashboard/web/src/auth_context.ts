/** What a page tells the app about the session: it ended (a 401), so show the login page. */
import { createContext } from 'preact';

export interface Auth {
  signedOut(): void;
}

export const AuthContext = createContext<Auth>({ signedOut: () => {} });
