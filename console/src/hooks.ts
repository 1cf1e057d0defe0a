import { type AuditEvent, type StreamEventsParams, isOverflow } from '@mandate/sdk';
import { useCallback, useEffect, useEffectEvent, useState } from 'react';
import { useConsole } from './context';
import { describeError } from './errors';

export interface Loaded<T> {
  data: T | undefined;
  error: string | undefined;
  loading: boolean;
  reload: () => void;
}

/**
 * Runs `load` when its dependencies change (and on reload()); the last call wins. What was
 * shown stays on screen while the next answer is awaited.
 */
export function useLoad<T>(load: () => PromiseLike<T>, deps: readonly unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; error: string | undefined; loading: boolean }>({ data: undefined, error: undefined, loading: true });
  const [generation, setGeneration] = useState(0);
  const run = useEffectEvent(load);
  useEffect(() => {
    let current = true;
    // eslint-disable-next-line react-hooks/set-state-in-effect -- marks the request this effect starts as in flight
    setState((previous) => ({ ...previous, loading: true }));
    Promise.resolve(run()).then(
      (data) => {
        if (current) setState({ data, error: undefined, loading: false });
      },
      (error: unknown) => {
        if (current) setState((previous) => ({ data: previous.data, error: describeError(error), loading: false }));
      },
    );
    return () => {
      current = false;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps -- the caller names what load depends on
  }, [...deps, generation]);
  const reload = useCallback(() => {
    setGeneration((value) => value + 1);
  }, []);
  return { ...state, reload };
}

export type StreamStatus = 'off' | 'connecting' | 'live' | 'failed';

/**
 * Follows the organization's audit trail through the SDK's event stream consumer while
 * `enabled`: `onEvent` gets each audit event, `onConnect` runs on every (re)connect so a page
 * can reload what it shows and miss nothing from before. The SDK resumes by itself after a drop.
 */
export function useEventStream(
  filters: StreamEventsParams,
  handlers: { onEvent: (event: AuditEvent) => void; onConnect?: () => void },
  enabled = true,
): { status: StreamStatus; error: string | undefined } {
  const { client } = useConsole();
  const [state, setState] = useState<{ status: StreamStatus; error: string | undefined }>({ status: enabled ? 'connecting' : 'off', error: undefined });
  const onEvent = useEffectEvent(handlers.onEvent);
  const onConnect = useEffectEvent(() => handlers.onConnect?.());
  const filterKey = JSON.stringify(filters);
  useEffect(() => {
    // eslint-disable-next-line react-hooks/set-state-in-effect -- the stream this effect opens (or its absence) is what the status shows
    setState({ status: enabled ? 'connecting' : 'off', error: undefined });
    if (!enabled) return undefined;
    const stream = client.events.stream(JSON.parse(filterKey) as StreamEventsParams);
    const closed = new AbortController();
    let seen: unknown;
    // The consumer says nothing on connect; its current response changes with each connection.
    const watch = window.setInterval(() => {
      const response = stream.response;
      if (response !== undefined && response !== seen) {
        seen = response;
        setState({ status: 'live', error: undefined });
        onConnect();
      }
    }, 200);
    void (async () => {
      try {
        for await (const message of stream) {
          if (isOverflow(message)) continue; // the consumer has already resumed after the last event
          onEvent(message.data);
        }
      } catch (failure) {
        if (!closed.signal.aborted) setState({ status: 'failed', error: describeError(failure) });
      }
    })();
    return () => {
      closed.abort();
      window.clearInterval(watch);
      stream.close();
    };
  }, [client, filterKey, enabled]);
  return state;
}
