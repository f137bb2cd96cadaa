/**
 * One shared clock for everything that counts up on screen (a running job's
 * runtime, "x ago"): a single interval however many cells tick, and none when
 * nothing on the page needs it.
 */
import { useSyncExternalStore } from 'react';

const TICK_MS = 1000;
const listeners = new Set<() => void>();
let now = Date.now();
let timer: ReturnType<typeof setInterval> | undefined;

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  if (!timer) {
    now = Date.now();
    timer = setInterval(() => {
      now = Date.now();
      for (const l of listeners) l();
    }, TICK_MS);
  }
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0 && timer) {
      clearInterval(timer);
      timer = undefined;
    }
  };
}

const frozen = () => now;
const noSubscription = () => () => undefined;

/** Date.now(), re-rendering every second while `live`; a fixed value otherwise. */
export function useNow(live = true): number {
  return useSyncExternalStore(live ? subscribe : noSubscription, frozen);
}
