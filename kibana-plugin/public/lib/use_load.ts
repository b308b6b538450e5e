// SPDX-License-Identifier: Apache-2.0
/**
 * One request per change of its inputs, cancelled when the inputs change again or the component goes
 * away: a slow answer for an old time range must never overwrite the answer for the new one.
 */
import { useCallback, useEffect, useState, type DependencyList } from 'react';
import { errorMessage, isAbortError } from '../services';

/** `data` survives a reload, so a table keeps its rows (greyed as loading) instead of flashing empty. */
export type LoadState<T> =
  | { status: 'loading'; data?: T; error?: undefined }
  | { status: 'ok'; data: T; error?: undefined }
  | { status: 'error'; data?: T; error: string };

export type Loaded<T> = LoadState<T> & { reload: () => void };

export function useLoad<T>(load: (signal: AbortSignal) => Promise<T>, deps: DependencyList): Loaded<T> {
  const [state, setState] = useState<LoadState<T>>({ status: 'loading' });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    const controller = new AbortController();
    setState((s) => (s.status === 'loading' ? s : { status: 'loading', data: s.data }));
    load(controller.signal).then(
      (data) => {
        if (!controller.signal.aborted) setState({ status: 'ok', data });
      },
      (e: unknown) => {
        if (controller.signal.aborted || isAbortError(e)) return;
        setState((s) => ({ status: 'error', data: s.data, error: errorMessage(e) }));
      },
    );
    return () => controller.abort();
    // `load` is a fresh closure on every render; the caller's deps say when it asks for something new.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, attempt]);

  const reload = useCallback(() => setAttempt((a) => a + 1), []);
  return { ...state, reload };
}
