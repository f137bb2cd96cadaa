import { useSyncExternalStore } from 'react';
import type { TimeZoneMode } from './format';
import { getTimeZone, subscribePrefs } from './prefs';

/** The zone times are shown in; a switch in the header re-renders every time on the page at once. */
export function useTimeZone(): TimeZoneMode {
  return useSyncExternalStore(subscribePrefs, getTimeZone);
}
