/**
 * Open/closed state of a small popover (a dropdown, a help panel) that closes
 * on a click outside its root element or on Escape.
 */
import { useEffect, useRef, useState, type RefObject } from 'react';

export function usePopover(): { open: boolean; setOpen: (open: boolean) => void; root: RefObject<HTMLDivElement | null> } {
  const [open, setOpen] = useState(false);
  const root = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const close = (e: MouseEvent) => {
      if (root.current && !root.current.contains(e.target as Node)) setOpen(false);
    };
    const escape = (e: KeyboardEvent) => e.key === 'Escape' && setOpen(false);
    document.addEventListener('mousedown', close);
    document.addEventListener('keydown', escape);
    return () => {
      document.removeEventListener('mousedown', close);
      document.removeEventListener('keydown', escape);
    };
  }, [open]);
  return { open, setOpen, root };
}
