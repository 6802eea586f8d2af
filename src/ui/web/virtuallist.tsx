/**
 * A virtualized list on TanStack Virtual (virtual-core): only the rows in view (plus a few) are in
 * the DOM, so 1k Services or thousands of flows cost what twenty rows cost. Rows have known
 * heights (`size`). Up/Down/Home/End move the focus between rows that hold a focusable control
 * (scrolling rows in as needed), so the list is usable from the keyboard.
 */
import { elementScroll, observeElementOffset, observeElementRect, Virtualizer } from '@tanstack/virtual-core';
import type { ComponentChildren } from 'preact';
import { useEffect, useLayoutEffect, useReducer, useRef } from 'preact/hooks';

export interface VirtualListProps<T> {
  items: readonly T[];
  size(item: T): number;
  keyOf(item: T, index: number): string;
  render(item: T, index: number): ComponentChildren;
  label: string;
  class?: string;
  /** Bumps when rows must re-render though `items` is the same array (live data changed). */
  version?: number;
}

export function VirtualList<T>(p: VirtualListProps<T>) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const [, rerender] = useReducer((x: number) => x + 1, 0);
  const props = useRef(p);
  props.current = p;
  const vRef = useRef<Virtualizer<HTMLDivElement, Element> | undefined>(undefined);
  const lastItems = useRef<readonly T[]>(p.items);
  const v = vRef.current ??= new Virtualizer<HTMLDivElement, Element>({
    count: p.items.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: (i) => props.current.size(props.current.items[i]!),
    getItemKey: (i) => props.current.keyOf(props.current.items[i]!, i),
    observeElementRect, observeElementOffset, scrollToFn: elementScroll,
    overscan: 6,
    onChange: () => rerender(0),
  });
  v.setOptions({ ...v.options, count: p.items.length });
  if (lastItems.current !== p.items) { lastItems.current = p.items; v.measure(); }
  useEffect(() => v._didMount(), []);
  useLayoutEffect(() => { v._willUpdate(); });

  const onKeyDown = (e: KeyboardEvent): void => {
    if (!['ArrowDown', 'ArrowUp', 'Home', 'End'].includes(e.key)) return;
    const from = Number((document.activeElement?.closest('[data-index]') as HTMLElement | null)?.dataset.index ?? -1);
    const n = props.current.items.length;
    if (n === 0) return;
    const to = e.key === 'Home' ? 0 : e.key === 'End' ? n - 1 : Math.max(0, Math.min(n - 1, from + (e.key === 'ArrowDown' ? 1 : -1)));
    e.preventDefault();
    const target = (): HTMLElement | null | undefined => scrollRef.current?.querySelector<HTMLElement>(`[data-index="${to}"] [data-focus]`);
    const now = target();
    if (now) { now.focus(); return; }
    // The row exists only after the scroll re-renders the window.
    v.scrollToIndex(to, { align: 'auto' });
    const focus = (tries: number): void => {
      const el = target();
      if (el) el.focus();
      else if (tries > 0) requestAnimationFrame(() => focus(tries - 1));
    };
    requestAnimationFrame(() => focus(5));
  };

  return (
    <div ref={scrollRef} class={`vlist ${p.class ?? ''}`} role="list" aria-label={p.label} onKeyDown={onKeyDown}>
      <div style={{ height: `${v.getTotalSize()}px`, position: 'relative' }}>
        {v.getVirtualItems().map((vi) => (
          <div key={vi.key as string} role="listitem" data-index={vi.index} class="vrow"
            style={{ transform: `translateY(${vi.start}px)`, height: `${vi.size}px` }}>
            {p.render(p.items[vi.index]!, vi.index)}
          </div>
        ))}
      </div>
    </div>
  );
}
