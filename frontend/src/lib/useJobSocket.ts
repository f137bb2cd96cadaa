import { useEffect, useState } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { statusSocketUrl, type JobJson } from './api';

export type SocketState = 'connecting' | 'live' | 'reconnecting' | 'closed';

/**
 * Follows a job over /status_websocket: every message is the job's JSON, written
 * straight into the query cache so the page re-renders. Reconnects with backoff.
 */
export function useJobSocket(id: string, enabled: boolean): SocketState {
  const qc = useQueryClient();
  const [state, setState] = useState<SocketState>('connecting');

  useEffect(() => {
    if (!enabled) {
      setState('closed');
      return;
    }
    let ws: WebSocket | null = null;
    let retry: ReturnType<typeof setTimeout> | undefined;
    let attempt = 0;
    let stopped = false;

    const connect = () => {
      setState(attempt === 0 ? 'connecting' : 'reconnecting');
      ws = new WebSocket(statusSocketUrl(id));
      ws.onopen = () => {
        attempt = 0;
        setState('live');
      };
      ws.onmessage = (ev) => {
        try {
          const job = JSON.parse(String(ev.data)) as JobJson;
          if (job && job.id === id) qc.setQueryData<JobJson>(['job', id], (old) => ({ ...old, ...job }));
        } catch {
          /* a frame we do not understand: ignore it, the next one will do */
        }
      };
      ws.onclose = () => {
        if (stopped) return;
        attempt += 1;
        setState('reconnecting');
        retry = setTimeout(connect, Math.min(30_000, 1000 * 2 ** Math.min(attempt, 5)));
      };
    };
    connect();
    return () => {
      stopped = true;
      clearTimeout(retry);
      ws?.close();
      setState('closed');
    };
  }, [id, enabled, qc]);

  return state;
}
